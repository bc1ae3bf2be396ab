/*
 * sip_tcp.c — SIP over TCP, the sending side (see sip_tcp.h).
 */
#include "net/sip_tcp.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "net/sockaddr.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IDLE_CHECK_MS 10000

typedef struct conn {
    struct pv_sip_tcp *t;
    uv_tcp_t tcp;
    uv_connect_t connect;
    struct sockaddr_storage to;
    bool connected, closing, counted; /* counted: in t->open while t closes */
    pv_buf out; /* written once connected */
    pv_buf in;  /* read, not yet framed */
    uint64_t last;
} conn;

typedef struct wreq {
    uv_write_t req;
    size_t len;
    char data[];
} wreq;

struct pv_sip_tcp {
    uv_loop_t *loop;
    pv_sip_tcp_receive_cb cb;
    void *data;
    conn *c[PV_SIP_TCP_CONNECTIONS];
    uv_timer_t idle;
    uint64_t dropped;
    unsigned open; /* while closing: handles whose close is pending */
    bool closing;
    void (*done)(void *data);
    void *done_data;
    char rbuf[65536];
};

/* ---- framing (§18.3) ---- */

/* The value of a Content-Length (or compact "l") header line, -1 when it is not one. */
static long content_length(const char *line, size_t n)
{
    size_t name;
    if (n > 15 && strncasecmp(line, "Content-Length", 14) == 0)
        name = 14;
    else if (n > 1 && (line[0] == 'l' || line[0] == 'L') && (line[1] == ':' || line[1] == ' ' ||
                                                           line[1] == '\t'))
        name = 1;
    else
        return -1;
    size_t i = name;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i >= n || line[i] != ':')
        return -1;
    i++;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    long v = 0;
    size_t digits = 0;
    for (; i < n && isdigit((unsigned char)line[i]) && digits < 7; i++, digits++)
        v = v * 10 + (line[i] - '0');
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return digits > 0 && i == n ? v : -2; /* -2: a Content-Length that is no number */
}

int pv_sip_frame(const char *data, size_t n, size_t *len)
{
    size_t limit = n < PV_SIP_MAX_MESSAGE ? n : PV_SIP_MAX_MESSAGE;
    size_t end = 0;
    for (size_t i = 0; i + 3 < limit; i++) {
        if (data[i] == '\r' && data[i + 1] == '\n' && data[i + 2] == '\r' && data[i + 3] == '\n') {
            end = i + 4;
            break;
        }
    }
    if (end == 0)
        return n >= PV_SIP_MAX_MESSAGE ? -1 : 0;
    long body = 0;
    for (size_t s = 0; s < end - 4;) { /* each header line */
        size_t e = s;
        while (e < end - 2 && !(data[e] == '\r' && data[e + 1] == '\n'))
            e++;
        long v = content_length(data + s, e - s);
        if (v == -2)
            return -1;
        if (v >= 0)
            body = v;
        s = e + 2;
    }
    if (end + (size_t)body > PV_SIP_MAX_MESSAGE)
        return -1;
    if (n < end + (size_t)body)
        return 0;
    *len = end + (size_t)body;
    return 1;
}

/* ---- connections ---- */

static void maybe_done(pv_sip_tcp *t);

static void conn_closed(uv_handle_t *h)
{
    conn *c = h->data;
    pv_sip_tcp *t = c->t;
    pv_buf_free(&c->out);
    pv_buf_free(&c->in);
    bool counted = c->counted;
    free(c);
    if (counted) {
        t->open--;
        maybe_done(t);
    }
}

static void conn_close(conn *c, const char *why)
{
    pv_sip_tcp *t = c->t;
    if (c->closing)
        return;
    c->closing = true;
    for (size_t i = 0; i < PV_SIP_TCP_CONNECTIONS; i++)
        if (t->c[i] == c)
            t->c[i] = NULL;
    if (why != NULL) {
        char to[80];
        pv_sockaddr_text((struct sockaddr *)&c->to, to, sizeof to);
        pv_logf(PV_LOG_INFO, "sip.tcp.closed", "peer=%s why=\"%s\"", to, why);
    }
    if (c->out.len > 0)
        t->dropped++; /* what was queued never left */
    c->counted = t->closing;
    if (c->counted)
        t->open++;
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void on_written(uv_write_t *req, int status)
{
    conn *c = req->data;
    free(req);
    if (status < 0 && status != UV_ECANCELED)
        conn_close(c, uv_strerror(status));
}

static void write_now(conn *c, const void *msg, size_t len)
{
    wreq *w = pv_malloc(sizeof *w + len);
    memcpy(w->data, msg, len);
    w->len = len;
    w->req.data = c;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written);
    if (rc != 0) {
        free(w);
        c->t->dropped++;
        conn_close(c, uv_strerror(rc));
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn *c = h->data;
    (void)suggested;
    *buf = uv_buf_init(c->t->rbuf, sizeof c->t->rbuf);
}

/* Hands every whole message of c->in to the owner; false when the stream cannot be framed. */
static bool deliver(conn *c)
{
    pv_sip_tcp *t = c->t;
    size_t at = 0;
    for (;;) {
        while (at + 1 < c->in.len && c->in.data[at] == '\r' && c->in.data[at + 1] == '\n')
            at += 2; /* keep-alive empty lines (RFC 5626 §3.5.1) */
        size_t len = 0;
        int rc = pv_sip_frame(c->in.data + at, c->in.len - at, &len);
        if (rc < 0) {
            t->dropped++;
            return false;
        }
        if (rc == 0)
            break;
        pv_sip_msg *m = NULL;
        pv_error err;
        if (pv_sip_parse(c->in.data + at, len, &m, &err) == 0) {
            t->cb(m, (struct sockaddr *)&c->to, t->data);
            pv_sip_msg_free(m);
        } else {
            t->dropped++;
        }
        at += len;
        if (c->closing)
            return true; /* the owner closed us meanwhile */
    }
    if (at > 0) {
        memmove(c->in.data, c->in.data + at, c->in.len - at);
        c->in.len -= at;
    }
    return true;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    conn *c = s->data;
    if (n < 0) {
        conn_close(c, n == UV_EOF ? "closed by the peer" : uv_strerror((int)n));
        return;
    }
    c->last = uv_now(c->t->loop);
    pv_buf_append(&c->in, buf->base, (size_t)n);
    if (!deliver(c))
        conn_close(c, "a message that does not frame (RFC 3261 §18.3)");
}

static void on_connect(uv_connect_t *req, int status)
{
    conn *c = req->data;
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c, uv_strerror(status));
        return;
    }
    c->connected = true;
    c->last = uv_now(c->t->loop);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (c->out.len > 0) {
        write_now(c, c->out.data, c->out.len);
        pv_buf_reset(&c->out);
    }
}

static bool same_address(const struct sockaddr_storage *a, const struct sockaddr *b)
{
    if (a->ss_family != b->sa_family)
        return false;
    if (b->sa_family == AF_INET)
        return memcmp(a, b, sizeof(struct sockaddr_in)) == 0;
    const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a,
                              *y = (const struct sockaddr_in6 *)b;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
}

/* A free slot, closing the least recently used idle connection when none is. */
static int free_slot(pv_sip_tcp *t)
{
    int lru = -1;
    for (int i = 0; i < PV_SIP_TCP_CONNECTIONS; i++) {
        if (t->c[i] == NULL)
            return i;
        if (t->c[i]->connected && t->c[i]->out.len == 0 &&
            (lru < 0 || t->c[i]->last < t->c[lru]->last))
            lru = i;
    }
    if (lru < 0)
        return -1;
    conn_close(t->c[lru], NULL);
    return lru;
}

int pv_sip_tcp_send(pv_sip_tcp *t, const struct sockaddr *to, const void *msg, size_t len)
{
    for (int i = 0; i < PV_SIP_TCP_CONNECTIONS; i++) {
        conn *c = t->c[i];
        if (c != NULL && same_address(&c->to, to)) {
            if (c->connected)
                write_now(c, msg, len);
            else
                pv_buf_append(&c->out, msg, len);
            return 0;
        }
    }
    int slot = free_slot(t);
    if (slot < 0)
        return PV_ELIMIT;
    conn *c = pv_calloc(1, sizeof *c);
    c->t = t;
    memcpy(&c->to, to, to->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                 : sizeof(struct sockaddr_in));
    uv_tcp_init(t->loop, &c->tcp);
    c->tcp.data = c;
    c->connect.data = c;
    pv_buf_append(&c->out, msg, len);
    t->c[slot] = c;
    int rc = uv_tcp_connect(&c->connect, &c->tcp, to, on_connect);
    if (rc != 0) {
        conn_close(c, uv_strerror(rc));
        return PV_ECONN;
    }
    return 0;
}

static void on_idle(uv_timer_t *tm)
{
    pv_sip_tcp *t = tm->data;
    uint64_t now = uv_now(t->loop);
    for (int i = 0; i < PV_SIP_TCP_CONNECTIONS; i++)
        if (t->c[i] != NULL && t->c[i]->connected && now - t->c[i]->last > PV_SIP_TCP_IDLE_MS)
            conn_close(t->c[i], "idle");
}

int pv_sip_tcp_new(uv_loop_t *loop, pv_sip_tcp_receive_cb cb, void *data, pv_sip_tcp **out)
{
    pv_sip_tcp *t = pv_calloc(1, sizeof *t);
    t->loop = loop;
    t->cb = cb;
    t->data = data;
    uv_timer_init(loop, &t->idle);
    t->idle.data = t;
    uv_timer_start(&t->idle, on_idle, IDLE_CHECK_MS, IDLE_CHECK_MS);
    *out = t;
    return 0;
}

uint64_t pv_sip_tcp_dropped(const pv_sip_tcp *t)
{
    return t->dropped;
}

static void maybe_done(pv_sip_tcp *t)
{
    if (t->open > 0)
        return;
    void (*done)(void *) = t->done;
    void *dd = t->done_data;
    free(t);
    if (done != NULL)
        done(dd);
}

static void idle_closed(uv_handle_t *h)
{
    pv_sip_tcp *t = h->data;
    t->open--;
    maybe_done(t);
}

void pv_sip_tcp_close(pv_sip_tcp *t, void (*done)(void *data), void *data)
{
    t->closing = true;
    t->done = done;
    t->done_data = data;
    t->open = 1; /* the idle timer; each connection adds itself */
    for (int i = 0; i < PV_SIP_TCP_CONNECTIONS; i++)
        if (t->c[i] != NULL)
            conn_close(t->c[i], NULL);
    uv_close((uv_handle_t *)&t->idle, idle_closed);
}
