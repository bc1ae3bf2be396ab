/*
 * fetch_native_conn.c — one connection of a native transfer (fetch_native.c):
 * TCP to the address chosen (bound to local_address when given, no Nagle as
 * libcurl sets), the TLS handshake over memory BIOs (net/tls.h's client side,
 * the fetcher's one SSL_CTX, the phone's credentials), then the request as the
 * libcurl engine sends it, and every byte of the answer into the transfer's
 * reply parser (http_reply.h). Writes are one in flight and one pending
 * buffer; a connection is its own allocation, so that a transfer may open the
 * next while this one closes (an authentication round, spec 8.2).
 */
#include "net/fetch_native_int.h"

#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

static void on_conn_closed(uv_handle_t *h)
{
    nconn *c = h->data;
    nfetch *t = c->t;
    pv_tls_conn_free(c->tls);
    pv_buf_free(&c->wpend);
    pv_buf_free(&c->wfly);
    free(c);
    if (t != NULL)
        pv__nfetch_pending_done(t);
}

void pv__nfetch_conn_close(nconn *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_written(uv_write_t *w, int status);

static void flush(nconn *c)
{
    if (c->writing || c->wpend.len == 0)
        return;
    pv_buf tmp = c->wfly;
    c->wfly = c->wpend;
    c->wpend = tmp;
    pv_buf_reset(&c->wpend);
    uv_buf_t b = uv_buf_init(c->wfly.data, (unsigned)c->wfly.len);
    c->wreq.data = c;
    int rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_written);
    if (rc != 0) {
        if (c->t != NULL && !c->t->ended)
            pv__nfetch_fail(c->t, PV_ECONN, "send", uv_strerror(rc));
        return;
    }
    c->writing = true;
}

static void on_written(uv_write_t *w, int status)
{
    nconn *c = w->data;
    c->writing = false;
    pv_buf_reset(&c->wfly);
    if (c->t == NULL || c->t->ended || c->t->conn != c)
        return;
    if (status < 0) {
        pv__nfetch_fail(c->t, PV_ECONN, "send", uv_strerror(status));
        return;
    }
    flush(c);
}

/* The request as libcurl's engine sends it (fetch_curl.c), and the body. */
static void build_request(nfetch *t, pv_buf *out)
{
    pv_buf_appendf(out, "%s %s HTTP/1.1\r\nHost: %s\r\n", t->method, t->target.data,
                   t->host_header.data);
    if (t->auth.len > 0)
        pv_buf_appendf(out, "Authorization: %s\r\n", t->auth.data);
    if (t->user_agent != NULL)
        pv_buf_appendf(out, "User-Agent: %s\r\n", t->user_agent);
    pv_buf_append_str(out, "Accept: */*\r\n");
    bool post = strcmp(t->method, "POST") == 0, put = strcmp(t->method, "PUT") == 0;
    if (post || put) {
        const char *type = t->content_type;
        if (type == NULL && post)
            type = "application/x-www-form-urlencoded"; /* libcurl's for a POST body */
        if (type != NULL)
            pv_buf_appendf(out, "Content-Type: %s\r\n", type);
        if (t->content_encoding != NULL)
            pv_buf_appendf(out, "Content-Encoding: %s\r\n", t->content_encoding);
        pv_buf_appendf(out, "Content-Length: %zu\r\n", t->upload_len);
    }
    pv_buf_append_str(out, "\r\n");
    pv_buf_append(out, t->upload ? t->upload : "", t->upload_len);
}

static int send_request(nfetch *t, nconn *c, pv_error *err)
{
    pv_buf req = {0};
    build_request(t, &req);
    int rc = 0;
    if (c->tls != NULL) {
        rc = pv_tls_conn_write(c->tls, req.data, req.len, err);
        if (rc == 0)
            pv_tls_conn_take_output(c->tls, &c->wpend);
    } else {
        pv_buf_append(&c->wpend, req.data, req.len);
    }
    pv_buf_free(&req);
    c->request_sent = true;
    flush(c);
    return rc;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char slab[65536]; /* one loop thread per fetcher: read, then consumed at once */
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(slab, sizeof slab);
}

/* Ciphertext arrived: drive the handshake, send the request once it is done, read. */
static void tls_input(nfetch *t, nconn *c, const char *data, size_t len)
{
    pv_error err;
    if (pv_tls_conn_feed(c->tls, data, len, &err) != 0) {
        pv__nfetch_fail(t, PV_ECONN, NULL, err.msg);
        return;
    }
    if (!c->handshake_done) {
        int hs = pv_tls_conn_handshake(c->tls, &err);
        pv_tls_conn_take_output(c->tls, &c->wpend);
        if (hs < 0) {
            flush(c); /* the alert, as a phone would send it */
            pv__nfetch_fail(t, PV_ECONN, NULL, err.msg);
            return;
        }
        if (hs != PV_TLS_DONE) {
            flush(c);
            return;
        }
        c->handshake_done = true;
        t->tls_ns = uv_hrtime();
        pv__nfetch_connected(t);
        if (send_request(t, c, &err) != 0) {
            pv__nfetch_fail(t, PV_ECONN, NULL, err.msg);
            return;
        }
    }
    pv_buf plain = {0};
    int n = pv_tls_conn_read(c->tls, &plain, &err);
    pv_tls_conn_take_output(c->tls, &c->wpend);
    flush(c);
    int rc = n > 0 ? pv_http_reply_feed(&t->reply, plain.data, plain.len) : PV_HTTP_REPLY_MORE;
    pv_buf_free(&plain);
    if (rc == PV_HTTP_REPLY_MORE && n == PV_ECONN)
        rc = pv_http_reply_eof(&t->reply); /* close_notify: the end of a body read to it */
    else if (rc == PV_HTTP_REPLY_MORE && n < 0) {
        pv__nfetch_fail(t, PV_ECONN, NULL, err.msg);
        return;
    }
    pv__nfetch_reply_progress(t, rc);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    nconn *c = s->data;
    nfetch *t = c->t;
    if (t == NULL || t->ended || t->conn != c || nread == 0)
        return;
    if (nread == UV_EOF) {
        uv_read_stop(s);
        pv__nfetch_reply_progress(t, pv_http_reply_eof(&t->reply));
        return;
    }
    if (nread < 0) {
        pv__nfetch_fail(t, PV_ECONN, "receive", uv_strerror((int)nread));
        return;
    }
    if (c->tls != NULL)
        tls_input(t, c, buf->base, (size_t)nread);
    else
        pv__nfetch_reply_progress(t, pv_http_reply_feed(&t->reply, buf->base, (size_t)nread));
}

static void on_connected(uv_connect_t *req, int status)
{
    nconn *c = req->data;
    nfetch *t = c->t;
    if (t == NULL || t->ended || t->conn != c)
        return;
    if (status < 0) {
        pv__nfetch_fail(t, PV_ECONN, "connect", uv_strerror(status));
        return;
    }
    if (t->connect_ns == 0)
        t->connect_ns = uv_hrtime();
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc != 0) {
        pv__nfetch_fail(t, PV_ECONN, "receive", uv_strerror(rc));
        return;
    }
    pv_error err;
    if (!t->tls) {
        pv__nfetch_connected(t);
        send_request(t, c, &err);
        return;
    }
    c->tls = pv_tls_conn_new_client(t->f->tls, t->host, !t->f->base.o.no_verify_host, t->cred);
    if (pv_tls_conn_handshake(c->tls, &err) < 0) { /* the ClientHello */
        pv__nfetch_fail(t, PV_ECONN, NULL, err.msg);
        return;
    }
    pv_tls_conn_take_output(c->tls, &c->wpend);
    flush(c);
}

static int bind_local(nconn *c, const char *address)
{
    struct sockaddr_storage ss;
    int rc = uv_ip4_addr(address, 0, (struct sockaddr_in *)&ss);
    if (rc != 0)
        rc = uv_ip6_addr(address, 0, (struct sockaddr_in6 *)&ss);
    if (rc != 0)
        return rc;
    return uv_tcp_bind(&c->tcp, (const struct sockaddr *)&ss, 0);
}

int pv__nfetch_connect(nfetch *t)
{
    nconn *c = pv_calloc(1, sizeof *c);
    c->t = t;
    c->tcp.data = c;
    uv_tcp_init(t->f->base.loop, &c->tcp);
    t->pending++;
    t->conn = c;
    t->conns++;
    uv_tcp_nodelay(&c->tcp, 1); /* as libcurl sets: the request goes out at once */
    int rc = 0;
    if (t->local_address != NULL)
        rc = bind_local(c, t->local_address);
    c->creq.data = c;
    if (rc == 0)
        rc = uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&t->addr, on_connected);
    return rc;
}
