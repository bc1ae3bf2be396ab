/* http_conn.c — one HTTP/HTTPS connection: read, parse, hand over, answer; see http_conn.h. */
#include "net/http_conn.h"

#include "core/alloc.h"
#include "core/log.h"
#include "net/metrics.h"
#include "net/sockaddr.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

typedef struct conn_write {
    uv_write_t req;
    pv__http_conn *conn;
    pv_buf data;
} conn_write;

static void conn_process(pv__http_conn *conn);

/* ---- lifetime ---------------------------------------------------------------------------- */

static void conn_free(pv__http_conn *conn)
{
    pv_http_parser_free(&conn->parser);
    pv_buf_free(&conn->in);
    pv_tls_conn_free(conn->tls);
    free(conn);
}

/* exchange.h: an orphan's answer came after the handles closed. */
static void conn_owner_free(pv_exchange *ex)
{
    conn_free(ex->owner);
}

static void on_handle_closed(uv_handle_t *handle)
{
    pv__http_conn *conn = handle->data;
    if (handle == (uv_handle_t *)&conn->poll)
        close(conn->poll_fd);
    if (--conn->handles_open > 0)
        return;
    if (conn->server != NULL)
        pv__http_server_detach(conn->server, conn);
    if (pv_exchange_owner_closed(&conn->ex))
        conn_free(conn);
    /* else an orphan: the handler's answer frees it (exchange.h) */
}

/* Who the TLS layer verified (the subject's CN), for the log line when the handler names
 * nobody; what a phone's certificate means is the handler's to say (identity_log). */
static const char *conn_verified(const pv__http_conn *conn)
{
    const pv_peer_identity *id = conn->tls ? pv_tls_conn_identity(conn->tls) : NULL;
    return id != NULL ? pv_peer_identity_attr(id, "CN") : NULL;
}

void pv__http_conn_close(pv__http_conn *conn)
{
    if (conn->closing)
        return;
    conn->closing = true;
    if (conn->admit_waiting && conn->server != NULL) {
        /* the peer left before its handshake was admitted: its place is free at once */
        pv_admit_cancel(conn->server->admit, &conn->admit_wait);
        conn->admit_waiting = false;
    }
    /* Mid-answer: logged as aborted; with the handler: an orphan until it answers. */
    pv_exchange_end(&conn->ex, conn->plan.status, NULL, true);
    uv_close((uv_handle_t *)&conn->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&conn->timer, on_handle_closed);
    if (conn->poll_inited)
        uv_close((uv_handle_t *)&conn->poll, on_handle_closed);
}

bool pv__http_conn_idle(const pv__http_conn *conn)
{
    return conn->state == PV__CONN_HANDSHAKE || conn->state == PV__CONN_LINGER ||
           (conn->state == PV__CONN_READING && !conn->parser.started);
}

/* ---- timers ------------------------------------------------------------------------------ */

static void on_timeout(uv_timer_t *timer);

static void arm_timer(pv__http_conn *conn, unsigned ms)
{
    uv_timer_start(&conn->timer, on_timeout, ms ? ms : 1, 0);
}

/* ---- the handshake's time ----------------------------------------------------------------
 *
 * handshake_timeout_ms is the peer's time, not the server's: a loop with a thousand
 * handshakes to do reads a peer's flight late, and a timer that ran from accept dropped
 * handshakes whose peers had done their part long before (the boot storm of
 * docs/benchmarks.md, issue 18). So the timer starts at admission, starts again when the
 * server has answered a flight of the peer, and when it expires while the peer's bytes wait
 * unread in the socket — the server is behind, not the peer — the handshake gets another
 * period, never beyond handshake_max_ms after admission (nginx's ssl_handshake_timeout is
 * 60 s). */

/* Arms the next period; false when the handshake's time is up. */
static bool handshake_rearm(pv__http_conn *conn)
{
    uint64_t period = conn->limits.handshake_timeout_ms, most = period;
    if (conn->limits.handshake_max_ms > most)
        most = conn->limits.handshake_max_ms;
    uint64_t used = uv_now(conn->tcp.loop) - conn->handshake_start_ms;
    if (used >= most)
        return false;
    arm_timer(conn, (unsigned)(most - used < period ? most - used : period));
    return true;
}

/* Whether the peer sent bytes that this server has not read yet. */
static bool peer_bytes_unread(pv__http_conn *conn)
{
    uv_os_fd_t fd;
    int n = 0;
    return uv_fileno((uv_handle_t *)&conn->tcp, &fd) == 0 && ioctl(fd, FIONREAD, &n) == 0 &&
           n > 0;
}

/* ---- writing ----------------------------------------------------------------------------- */

static void on_written(uv_write_t *wr, int status)
{
    conn_write *w = (conn_write *)wr;
    pv__http_conn *conn = w->conn;
    pv_buf_free(&w->data);
    free(w);
    conn->writes_pending--;
    if (conn->closing)
        return;
    if (status < 0) {
        pv__http_conn_close(conn);
        return;
    }
    if (conn->writes_pending == 0)
        pv__http_conn_pump(conn);
}

/* Queues the rest of out (from off) behind what is pending; takes out's bytes. */
static pv__send_result queue_write(pv__http_conn *conn, pv_buf *out, size_t off)
{
    conn_write *w = pv_calloc(1, sizeof *w);
    w->conn = conn;
    pv_buf_append(&w->data, out->data + off, out->len - off);
    pv_buf_reset(out);
    uv_buf_t b = uv_buf_init(w->data.data, (unsigned)w->data.len);
    if (uv_write(&w->req, (uv_stream_t *)&conn->tcp, &b, 1, on_written) != 0) {
        pv_buf_free(&w->data);
        free(w);
        pv__http_conn_close(conn);
        return PV__SENT_FAILED;
    }
    conn->writes_pending++;
    return PV__SENT_PENDING;
}

/*
 * Sends plaintext to the peer (encrypted first over TLS) and empties data.
 * When nothing is pending the bytes go straight to the socket (uv_try_write):
 * a small answer costs one write(2), no allocation and no callback; only what
 * the socket does not take at once is queued. try_first false queues all,
 * so that a long body yields to other connections between its chunks.
 */
pv__send_result pv__http_conn_send(pv__http_conn *conn, pv_buf *data, bool try_first)
{
    pv_buf *out = data;
    if (conn->tls != NULL) {
        if (data->len > 0 && pv_tls_conn_write(conn->tls, data->data, data->len, NULL) != 0) {
            pv_buf_reset(data);
            pv__http_conn_close(conn);
            return PV__SENT_FAILED;
        }
        pv_buf_reset(data);
        assert(conn->server != NULL); /* only a live connection sends */
        out = &conn->server->tls_out;
        pv_tls_conn_take_output(conn->tls, out);
    }
    if (out->len == 0)
        return conn->writes_pending == 0 ? PV__SENT_ALL : PV__SENT_PENDING;
    size_t off = 0;
    if (try_first && conn->writes_pending == 0) {
        uv_buf_t b = uv_buf_init(out->data, (unsigned)out->len);
        int n = uv_try_write((uv_stream_t *)&conn->tcp, &b, 1);
        if (n < 0 && n != UV_EAGAIN) {
            pv_buf_reset(out);
            pv__http_conn_close(conn);
            return PV__SENT_FAILED;
        }
        off = n > 0 ? (size_t)n : 0;
        if (off == out->len) {
            pv_buf_reset(out);
            return PV__SENT_ALL;
        }
    }
    return queue_write(conn, out, off);
}

/* Sends what TLS produced on its own (handshake records, alerts, tickets). */
static void flush_tls(pv__http_conn *conn)
{
    pv_buf none = {0};
    pv__http_conn_send(conn, &none, true);
}

/* ---- graceful close ---------------------------------------------------------------------- */

static void on_shutdown(uv_shutdown_t *req, int status)
{
    pv__http_conn *conn = req->data;
    if (status < 0)
        pv__http_conn_close(conn);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);
static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf);

/* Shuts the write side, then reads and drops what the client still sends until EOF (or 2 s),
 * so that our last bytes are not lost to a reset. */
static void linger_after_last_write(pv__http_conn *conn)
{
    if (conn->closing)
        return;
    conn->state = PV__CONN_LINGER;
    conn->shutdown.data = conn;
    if (uv_shutdown(&conn->shutdown, (uv_stream_t *)&conn->tcp, on_shutdown) != 0) {
        pv__http_conn_close(conn);
        return;
    }
    if (!conn->reading && uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read) == 0)
        conn->reading = true;
    arm_timer(conn, 2000);
}

/* After a "Connection: close" answer: close_notify, then linger. */
static void conn_linger(pv__http_conn *conn)
{
    if (conn->tls != NULL) {
        pv_tls_conn_shutdown(conn->tls);
        flush_tls(conn);
    }
    linger_after_last_write(conn);
}

/* ---- answering (the answer itself: http_conn_answer.c) ---------------------------------- */

void pv__http_conn_progress(pv__http_conn *conn)
{
    arm_timer(conn, conn->limits.idle_timeout_ms);
}

void pv__http_conn_answered(pv__http_conn *conn)
{
    pv_exchange_end(&conn->ex, conn->plan.status, conn->ex.resp.message, false);
    conn->requests_served++;
    pv_http_parser_next(&conn->parser);
    conn->request_start_ns = 0;
    conn->bytes_received = 0;
    conn->sent_continue = false;
    conn->request_timer_armed = false;
    bool closing_server = conn->server == NULL || conn->server->closing;
    if (!conn->keep_alive || closing_server) {
        conn_linger(conn);
        return;
    }
    conn->state = PV__CONN_READING;
    if (!conn->reading && uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read) == 0)
        conn->reading = true;
    if (!conn->processing)
        conn_process(conn); /* a pipelined request may already be waiting */
    /* else the conn_process() below us on the stack goes on with the next request */
}

/* An exchange for what the parser has started (a request, or an error in one). */
static void open_exchange(pv__http_conn *conn)
{
    pv_exchange_open(&conn->ex, conn->request_start_ns);
    conn->ex.bytes_in = conn->bytes_received;
    conn->ex.verified = conn_verified(conn);
}

/* An answer from the transport itself (400, 405, 408, 413, 431, ...), then close. */
static void answer_error(pv__http_conn *conn, int status, const char *reason, bool may_keep)
{
    conn->keep_alive = may_keep && conn->keep_alive;
    if (!may_keep && conn->reading) {
        uv_read_stop((uv_stream_t *)&conn->tcp);
        conn->reading = false;
    }
    if (conn->ex.state == PV_EXCHANGE_IDLE)
        open_exchange(conn);
    pv_response resp = {.status = status, .fd = -1, .message = reason};
    pv_exchange_answer(&conn->ex, &resp);
    pv__http_conn_begin_response(conn, status == 405);
}

/* ---- reading and dispatch ---------------------------------------------------------------- */

static void dispatch(pv__http_conn *conn)
{
    const pv_http_request *r = pv_http_parser_request(&conn->parser);
    pv_http_server *server = conn->server;
    assert(server != NULL); /* a detached connection reads nothing more */
    open_exchange(conn);
    pv_request *req = &conn->ex.req;
    req->method = r->method;
    req->method_name = r->method_name;
    req->path = r->path;
    req->query = r->query;
    req->headers = r->headers;
    req->header_count = r->header_count;
    req->body = r->body;
    req->identity = conn->tls ? pv_tls_conn_identity(conn->tls) : NULL;
    req->head_only = r->method == PV_METHOD_HEAD;
    req->user_agent = pv_request_header(req, "User-Agent");
    unsigned max_requests = conn->limits.max_requests_per_connection;
    conn->keep_alive = r->keep_alive && !r->upgrade && !server->closing &&
                       (max_requests == 0 || conn->requests_served + 1 < max_requests);
    /* One request at a time: what follows waits in conn->in (bounded, see on_read). Reading
     * goes on so that a peer who leaves is noticed and its answer discarded. */
    conn->state = PV__CONN_HANDLING;
    uv_timer_stop(&conn->timer);
    if (r->method == PV_METHOD_OTHER && !server->allow_other_methods) {
        answer_error(conn, 405, "method not allowed", true);
        return;
    }
    pv_exchange_dispatch(&conn->ex, server->handler);
}

/* Parses what is buffered; hands a complete request over or answers an error. */
static void conn_process(pv__http_conn *conn)
{
    conn->processing = true;
    while (!conn->closing && conn->state == PV__CONN_READING && conn->in_off < conn->in.len) {
        size_t used = 0;
        pv_http_parse_result r = pv_http_parser_feed(&conn->parser, conn->in.data + conn->in_off,
                                                     conn->in.len - conn->in_off, &used);
        conn->in_off += used;
        conn->bytes_received += used;
        if (conn->parser.started && !conn->request_timer_armed) {
            /* Slow clients: the whole request must arrive within the request timeout. */
            conn->request_timer_armed = true;
            conn->request_start_ns = uv_hrtime();
            arm_timer(conn, conn->limits.request_timeout_ms);
        }
        if (conn->parser.expect_continue && !conn->sent_continue) {
            conn->sent_continue = true; /* RFC 9110 §10.1.1 */
            pv_buf cont = {0};
            pv_buf_append_str(&cont, "HTTP/1.1 100 Continue\r\n\r\n");
            pv__http_conn_send(conn, &cont, true);
            pv_buf_free(&cont);
        }
        if (r == PV_HTTP_PARSE_REQUEST) {
            dispatch(conn); /* answered at once: the loop goes on with a pipelined request */
            continue;
        }
        if (r == PV_HTTP_PARSE_ERROR) {
            answer_error(conn, conn->parser.error_status, conn->parser.error_reason, false);
            break;
        }
    }
    conn->processing = false;
    bool idle = !conn->closing && conn->state == PV__CONN_READING && !conn->parser.started;
    if (conn->in_off == conn->in.len) {
        /* An idle keep-alive connection holds no buffers (docs/benchmarks.md, "Server memory"). */
        idle ? pv_buf_free(&conn->in) : pv_buf_reset(&conn->in);
        conn->in_off = 0;
        if (idle && conn->tls != NULL)
            pv_tls_conn_release_idle(conn->tls);
    }
    if (idle)
        arm_timer(conn, conn->limits.idle_timeout_ms); /* keep-alive idle */
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    pv__http_conn *conn = handle->data;
    assert(conn->server != NULL); /* the read buffer is the server's, one per loop */
    *buf = uv_buf_init(conn->server->read_buf, PV_HTTP_READ_CHUNK);
}

static void append_input(pv__http_conn *conn, const char *data, size_t len)
{
    if (conn->in_off > 0 && conn->in_off == conn->in.len) {
        pv_buf_reset(&conn->in);
        conn->in_off = 0;
    }
    pv_buf_append(&conn->in, data, len);
}

/* False when the connection was closed instead (beyond its source's limit, no identity). */
static bool handshake_done(pv__http_conn *conn)
{
    if (conn->beyond_source && pv_tls_conn_identity(conn->tls) == NULL) {
        /* beyond its address's limit and nobody in particular: the limit holds (issue 15) */
        pv_metrics_refused(PV_PROTO_HTTPS);
        pv_log_line line;
        pv_log_begin(&line, PV_LOG_WARN, "http.refused");
        pv_log_str(&line, "peer", conn->ex.peer_text);
        pv_log_str(&line, "reason", "beyond the per-source limit without a client certificate");
        pv_log_end(&line);
        pv__http_conn_close(conn);
        return false;
    }
    if (conn->server != NULL && pv_tls_conn_identity(conn->tls) != NULL)
        pv__http_server_identified(conn->server, conn); /* its identity answers for it */
    bool resumed = pv_tls_conn_resumed(conn->tls);
    pv_metrics_tls_handshake(resumed ? PV_TLS_HANDSHAKE_RESUMED : PV_TLS_HANDSHAKE_FULL);
    conn->state = PV__CONN_READING;
    arm_timer(conn, conn->limits.idle_timeout_ms);
    return true;
}

static void handshake_failed(pv__http_conn *conn, const pv_error *err)
{
    pv_metrics_tls_handshake(PV_TLS_HANDSHAKE_FAILED);
    pv_log_line line;
    pv_log_begin(&line, PV_LOG_WARN, "tls.handshake_failed");
    pv_log_str(&line, "peer", conn->ex.peer_text);
    pv_log_str(&line, "reason", err->msg);
    pv_log_end(&line);
    flush_tls(conn); /* the alert tells the client why */
    if (!conn->closing) {
        uv_read_stop((uv_stream_t *)&conn->tcp);
        conn->reading = false;
        conn->state = PV__CONN_LINGER;
        conn->shutdown.data = conn;
        if (uv_shutdown(&conn->shutdown, (uv_stream_t *)&conn->tcp, on_shutdown) != 0)
            pv__http_conn_close(conn);
        else
            arm_timer(conn, 1000);
    }
}

/* TLS: ciphertext in, handshake or plaintext out. Returns false when the connection ended. */
static bool tls_input(pv__http_conn *conn, const char *data, size_t len)
{
    pv_error err = {{0}};
    if (pv_tls_conn_feed(conn->tls, data, len, &err) != 0) {
        pv__http_conn_close(conn);
        return false;
    }
    if (conn->state == PV__CONN_HANDSHAKE) {
        int hs = pv_tls_conn_handshake(conn->tls, &err);
        if (hs < 0) {
            handshake_failed(conn, &err);
            return false;
        }
        if (hs != PV_TLS_DONE && pv_tls_conn_output_pending(conn->tls) > 0)
            (void)handshake_rearm(conn); /* a flight answered: the peer's turn again */
        flush_tls(conn);
        if (hs != PV_TLS_DONE)
            return false;
        if (!handshake_done(conn))
            return false;
    }
    pv_buf plain = {0};
    int n = pv_tls_conn_read(conn->tls, &plain, &err);
    flush_tls(conn); /* reads may answer (tickets, key updates, close_notify) */
    if (n > 0 && conn->state != PV__CONN_LINGER)
        append_input(conn, plain.data, plain.len);
    pv_buf_free(&plain);
    if (n < 0) {
        pv__http_conn_close(conn);
        return false;
    }
    return true;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    pv__http_conn *conn = stream->data;
    if (conn->closing)
        return;
    if (nread < 0) { /* EOF or reset: nothing more will come, and nobody reads our answer */
        if (conn->state == PV__CONN_HANDSHAKE && !conn->admit_waiting)
            pv_metrics_tls_handshake(PV_TLS_HANDSHAKE_FAILED);
        pv__http_conn_close(conn); /* a waiting one leaves the admission queue */
        return;
    }
    if (nread == 0)
        return;
    if (conn->admit_waiting) {
        /* kept for the handshake once admitted; a ClientHello fits in one record, so beyond
         * that TCP holds the rest (and a close is then seen when reading resumes) */
        append_input(conn, buf->base, (size_t)nread);
        if (conn->in.len - conn->in_off >= PV_HTTP_ADMIT_HOLD) {
            uv_read_stop(stream);
            conn->reading = false;
        }
        return;
    }
    if (conn->tls != NULL) {
        if (!tls_input(conn, buf->base, (size_t)nread))
            return;
    } else if (conn->state != PV__CONN_LINGER) {
        append_input(conn, buf->base, (size_t)nread);
    }
    if (conn->state == PV__CONN_LINGER) {
        pv_buf_reset(&conn->in);
        conn->in_off = 0;
        return;
    }
    if (conn->state != PV__CONN_READING &&
        conn->in.len - conn->in_off > conn->limits.max_header_bytes + PV_HTTP_READ_CHUNK) {
        /* Pipelined requests pile up while we answer: let TCP push back. */
        uv_read_stop(stream);
        conn->reading = false;
    }
    conn_process(conn);
}

static void on_timeout(uv_timer_t *timer)
{
    pv__http_conn *conn = timer->data;
    if (conn->closing)
        return;
    switch (conn->state) {
    case PV__CONN_HANDSHAKE: {
        if (peer_bytes_unread(conn) && handshake_rearm(conn))
            return; /* the peer did its part; this loop has not read it yet */
        pv_error err;
        pv_error_set(&err, PV_ETIMEDOUT, "TLS handshake timed out");
        handshake_failed(conn, &err);
        return;
    }
    case PV__CONN_READING:
        if (conn->parser.started && conn->writes_pending == 0) {
            pv_metrics_refused(conn->ex.req.proto);
            answer_error(conn, 408, "request timed out", false); /* RFC 9110 §15.5.9 */
            /* The answer gets one more timeout to leave, then the connection goes. */
            return;
        }
        break;
    default:
        break;
    }
    pv__http_conn_close(conn);
}

/* ---- handshake admission (issue 15) ------------------------------------------------------ */

/* Past the admission deadline, or the queue full: a fatal internal_error alert in the clear,
 * what a server that cannot go on sends before any handshake message of its own (RFC 8446
 * §6.2, §5.1: records before the handshake are unprotected), then the write side shut and the
 * input drained until the client closes: the client reports a refusal, not a reset, and
 * retries on its own schedule. No handshake work was done for it. */
static void refuse_handshake(pv__http_conn *conn, unsigned retry_after_s)
{
    static const char alert[] = {0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x50};
    pv_log_line line;
    pv_log_begin(&line, PV_LOG_WARN, "tls.admission_refused");
    pv_log_str(&line, "peer", conn->ex.peer_text);
    pv_log_int(&line, "retry_after_s", retry_after_s);
    pv_log_end(&line);
    pv_buf_reset(&conn->in); /* its ClientHello is never read */
    conn->in_off = 0;
    pv_buf out = {0};
    pv_buf_append(&out, alert, sizeof alert);
    pv__send_result r = queue_write(conn, &out, 0);
    pv_buf_free(&out);
    if (r != PV__SENT_FAILED)
        linger_after_last_write(conn);
}

static void on_handshake_admitted(void *data, bool admitted, unsigned retry_after_s)
{
    pv__http_conn *conn = data;
    conn->admit_waiting = false;
    if (conn->closing)
        return;
    if (!admitted) {
        refuse_handshake(conn, retry_after_s);
        return;
    }
    /* the handshake's own time starts now (not at accept: the wait for admission is the
     * queue's, bounded by its deadline), the same for a connection beyond its source's limit:
     * a phone behind a busy office NAT is no faster than one alone (a shorter time closed
     * phones of a loaded office), and how many such handshakes an address may have at once is
     * bounded (PV_HTTP_IDENTIFIED_PER_SOURCE) */
    conn->handshake_start_ms = uv_now(conn->tcp.loop);
    (void)handshake_rearm(conn);
    if (!conn->reading && uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read) == 0)
        conn->reading = true;
    if (conn->in.len > conn->in_off) { /* what came while it waited */
        pv_buf held = conn->in;
        size_t off = conn->in_off;
        conn->in = (pv_buf){0};
        conn->in_off = 0;
        bool go_on = tls_input(conn, held.data + off, held.len - off);
        pv_buf_free(&held);
        if (go_on)
            conn_process(conn);
    }
}

/* ---- start ------------------------------------------------------------------------------- */

void pv__http_conn_start(pv_http_server *server, pv__http_conn *conn)
{
    assert(server != NULL && conn != NULL);
    static const pv_exchange_ops ops = {.send = pv__http_conn_send_answer, .owner_free = conn_owner_free};
    conn->server = server;
    conn->limits = server->limits;
    conn->poll_fd = -1;
    int len = sizeof conn->peer;
    uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&conn->peer, &len);
    len = sizeof conn->local;
    uv_tcp_getsockname(&conn->tcp, (struct sockaddr *)&conn->local, &len);
    pv_exchange_init(&conn->ex, &ops, conn, server->tls != NULL ? PV_PROTO_HTTPS : PV_PROTO_HTTP,
                     "http.request", (const struct sockaddr *)&conn->peer,
                     (const struct sockaddr *)&conn->local);
    uv_timer_init(server->loop, &conn->timer);
    conn->timer.data = conn;
    conn->handles_open = 2; /* tcp and timer */
    pv_http_parser_init(&conn->parser, conn->limits.max_header_bytes, conn->limits.max_body_bytes);
    uv_tcp_nodelay(&conn->tcp, 1);
    if (server->tls != NULL) {
        pv_tls_context *ctx = pv_tls_slot_get(server->tls);
        conn->tls = pv_tls_conn_new(ctx); /* keeps its own reference across a SIGHUP swap */
        pv_tls_context_unref(ctx);
        conn->state = PV__CONN_HANDSHAKE;
    } else {
        conn->state = PV__CONN_READING;
        arm_timer(conn, conn->limits.idle_timeout_ms);
    }
    if (uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read) != 0) {
        pv__http_conn_close(conn);
        return;
    }
    conn->reading = true;
    if (conn->tls == NULL)
        return;
    if (server->admit == NULL) {
        on_handshake_admitted(conn, true, 0);
        return;
    }
    /* The handshake is the expensive part: it waits for its turn (reading meanwhile, so that
     * a client that leaves is seen and taken out of the queue), DESIGN 8. The callback may run
     * at once, admitted or refused. */
    conn->admit_waiting = true;
    pv_admit(server->admit, PV_ADMIT_TLS, &conn->admit_wait, on_handshake_admitted, conn);
}
