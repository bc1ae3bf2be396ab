/*
 * sip_transport.c — SIP over UDP on libuv (see sip_transport.h).
 */
#include "net/sip_transport.h"

#include "core/alloc.h"
#include "core/log.h"
#include "net/sockaddr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pv_sip_transport {
    uv_udp_t udp;
    pv_sip_receive_cb cb;
    void *data;
    char host[64];
    uint16_t port;
    char address[80];
    uint64_t dropped;
    char buf[PV_SIP_MAX_MESSAGE + 1]; /* one more byte: a larger datagram shows as truncated */
    void (*done)(void *data);
    void *done_data;
};

int pv_sip_parse_address(const char *text, uint16_t default_port, struct sockaddr_storage *out,
                         pv_error *err)
{
    char host[64];
    const char *h = text, *port_text = NULL;
    size_t hlen;
    if (text[0] == '[') { /* [v6]:port or [v6] */
        const char *close = strchr(text, ']');
        if (close == NULL)
            return pv_error_set(err, PV_EINVAL, "address '%s': ']' missing", text);
        h = text + 1;
        hlen = (size_t)(close - h);
        if (close[1] == ':')
            port_text = close + 2;
        else if (close[1] != '\0')
            return pv_error_set(err, PV_EINVAL, "address '%s': ':' expected after ']'", text);
    } else {
        const char *colon = strchr(text, ':');
        bool v6 = colon != NULL && strchr(colon + 1, ':') != NULL; /* a bare IPv6 literal */
        hlen = colon && !v6 ? (size_t)(colon - text) : strlen(text);
        port_text = colon && !v6 ? colon + 1 : NULL;
    }
    if (hlen == 0 || hlen >= sizeof host)
        return pv_error_set(err, PV_EINVAL, "address '%s': the host is empty or too long", text);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    long port = default_port;
    if (port_text != NULL) {
        char *end = NULL;
        port = strtol(port_text, &end, 10);
        if (end == port_text || *end != '\0' || port < 0 || port > 65535)
            return pv_error_set(err, PV_EINVAL, "address '%s': port must be 0..65535", text);
    }
    if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)out) == 0 ||
        uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)out) == 0)
        return 0;
    return pv_error_set(err, PV_EINVAL, "address '%s': '%s' is not an IPv4 or IPv6 address", text,
                        host);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    pv_sip_transport *t = h->data;
    *buf = uv_buf_init(t->buf, sizeof t->buf);
}

static void on_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *buf, const struct sockaddr *peer,
                    unsigned flags)
{
    pv_sip_transport *t = u->data;
    if (n <= 0 || peer == NULL)
        return; /* nothing more, or an error the next datagram will not have */
    char from[80];
    pv_sockaddr_text(peer, from, sizeof from);
    if ((flags & UV_UDP_PARTIAL) || (size_t)n > PV_SIP_MAX_MESSAGE) {
        t->dropped++;
        pv_logf(PV_LOG_WARN, "sip.drop", "peer=%s error=\"a datagram over %d bytes\"", from,
                PV_SIP_MAX_MESSAGE);
        return;
    }
    pv_sip_msg *m = NULL;
    pv_error err;
    if (pv_sip_parse(buf->base, (size_t)n, &m, &err) != 0) {
        t->dropped++;
        pv_logf(PV_LOG_WARN, "sip.drop", "peer=%s error=\"%s\"", from, err.msg);
        return;
    }
    t->cb(t, m, peer, t->data);
    pv_sip_msg_free(m);
}

int pv_sip_transport_new(uv_loop_t *loop, const char *address, uint16_t default_port,
                         pv_sip_receive_cb cb, void *data, pv_sip_transport **out, pv_error *err)
{
    struct sockaddr_storage ss;
    int rc = pv_sip_parse_address(address, default_port, &ss, err);
    if (rc != 0)
        return rc;
    pv_sip_transport *t = pv_calloc(1, sizeof *t);
    t->cb = cb;
    t->data = data;
    uv_udp_init(loop, &t->udp);
    t->udp.data = t;
    int uvrc = uv_udp_bind(&t->udp, (const struct sockaddr *)&ss, 0);
    if (uvrc == 0)
        uvrc = uv_udp_recv_start(&t->udp, on_alloc, on_recv);
    if (uvrc != 0) {
        uv_close((uv_handle_t *)&t->udp, (uv_close_cb)free);
        return pv_error_set(err, PV_EIO, "SIP: cannot listen on UDP %s: %s", address,
                            uv_strerror(uvrc));
    }
    struct sockaddr_storage bound;
    int len = sizeof bound;
    uv_udp_getsockname(&t->udp, (struct sockaddr *)&bound, &len);
    pv_sockaddr_text((const struct sockaddr *)&bound, t->address, sizeof t->address);
    pv_sockaddr_host((const struct sockaddr *)&bound, t->host, sizeof t->host);
    t->port = ntohs(bound.ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((const struct sockaddr_in *)&bound)->sin_port);
    *out = t;
    return 0;
}

int pv_sip_transport_send(pv_sip_transport *t, const struct sockaddr *to, const void *msg,
                          size_t len)
{
    uv_buf_t b = uv_buf_init((char *)msg, (unsigned)len);
    int rc = uv_udp_try_send(&t->udp, &b, 1, to);
    return rc == (int)len ? 0 : PV_ECONN; /* EAGAIN too: the owner's retransmission covers it */
}

const char *pv_sip_transport_host(const pv_sip_transport *t)
{
    return t->host;
}

uint16_t pv_sip_transport_port(const pv_sip_transport *t)
{
    return t->port;
}

const char *pv_sip_transport_address(const pv_sip_transport *t)
{
    return t->address;
}

int pv_sip_transport_set_receive_buffer(pv_sip_transport *t, int bytes)
{
    int value = bytes;
    uv_recv_buffer_size((uv_handle_t *)&t->udp, &value); /* set */
    value = 0;
    uv_recv_buffer_size((uv_handle_t *)&t->udp, &value); /* read back what the kernel gave */
    return value;
}

uint64_t pv_sip_transport_dropped(const pv_sip_transport *t)
{
    return t->dropped;
}

static void on_closed(uv_handle_t *h)
{
    pv_sip_transport *t = h->data;
    void (*done)(void *) = t->done;
    void *dd = t->done_data;
    free(t);
    if (done != NULL)
        done(dd);
}

void pv_sip_transport_close(pv_sip_transport *t, void (*done)(void *data), void *data)
{
    t->done = done;
    t->done_data = data;
    uv_close((uv_handle_t *)&t->udp, on_closed);
}
