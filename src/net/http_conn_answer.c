/*
 * http_conn_answer.c — how an HTTP connection answers (the connection itself:
 * http_conn.c): the head formatted from the handler's response (its extra
 * header lines checked, a short text body given to an error without one),
 * then the body — from memory with the head, or a file: sendfile(2) from the
 * page cache on plain TCP, read and encrypted one chunk at a time over TLS
 * (bounded memory), either paced by the socket's writability and bounded per
 * wakeup so that one large file cannot starve the loop. See http_conn.h.
 */
#include "net/http_conn.h"

#include "core/alloc.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

static void on_writable(uv_poll_t *poll, int status, int events)
{
    pv__http_conn *conn = poll->data;
    if (status < 0) {
        pv__http_conn_close(conn);
        return;
    }
    pv__http_conn_pump(conn);
}

static int start_poll(pv__http_conn *conn)
{
    if (!conn->poll_inited) {
        uv_os_fd_t fd;
        if (uv_fileno((uv_handle_t *)&conn->tcp, &fd) != 0)
            return -1;
        /* A duplicate descriptor gets its own epoll registration, so the poll handle never
         * competes with the TCP handle's watcher for the same fd. */
        conn->poll_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (conn->poll_fd < 0)
            return -1;
        if (uv_poll_init(conn->tcp.loop, &conn->poll, conn->poll_fd) != 0) {
            close(conn->poll_fd);
            return -1;
        }
        conn->poll.data = conn;
        conn->poll_inited = true;
        conn->handles_open++;
    }
    if (!conn->poll_active && uv_poll_start(&conn->poll, UV_WRITABLE, on_writable) != 0)
        return -1;
    conn->poll_active = true;
    return 0;
}

/* Plain HTTP: sendfile(2) straight from the page cache, driven by writability. */
static void pump_sendfile(pv__http_conn *conn)
{
    uv_os_fd_t sock;
    if (uv_fileno((uv_handle_t *)&conn->tcp, &sock) != 0) {
        pv__http_conn_close(conn);
        return;
    }
    size_t budget = PV_HTTP_SENDFILE_SLICE;
    while (conn->file_left > 0) {
        off_t off = (off_t)conn->file_pos;
        size_t want = conn->file_left < budget ? (size_t)conn->file_left : budget;
        ssize_t n = sendfile(sock, conn->ex.resp.fd, &off, want);
        if (n > 0) {
            conn->file_pos += (uint64_t)n;
            conn->file_left -= (uint64_t)n;
            conn->ex.bytes_out += (uint64_t)n;
            budget -= (size_t)n;
            pv__http_conn_progress(conn); /* progress: reset the stall timer */
            if (budget == 0)
                break; /* let other connections run; the poll fires again at once */
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        pv__http_conn_close(conn); /* the file shrank, or the peer is gone */
        return;
    }
    if (conn->file_left > 0) {
        if (start_poll(conn) != 0)
            pv__http_conn_close(conn);
        return;
    }
    if (conn->poll_active) {
        uv_poll_stop(&conn->poll);
        conn->poll_active = false;
    }
    pv__http_conn_answered(conn);
}

/* TLS: read one chunk, encrypt, write; the next chunk waits until this one has left
 * (bounded memory). Chunks the socket takes at once continue here, up to a slice. */
static void pump_tls_file(pv__http_conn *conn)
{
    size_t budget = PV_HTTP_SENDFILE_SLICE;
    assert(conn->server != NULL); /* the file buffer is the server's */
    while (conn->file_left > 0) {
        size_t want =
            conn->file_left < PV_HTTP_FILE_CHUNK ? (size_t)conn->file_left : PV_HTTP_FILE_CHUNK;
        ssize_t n;
        do
            n = pread(conn->ex.resp.fd, conn->server->file_buf, want, (off_t)conn->file_pos);
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
            pv__http_conn_close(conn);
            return;
        }
        conn->file_pos += (uint64_t)n;
        conn->file_left -= (uint64_t)n;
        conn->ex.bytes_out += (uint64_t)n;
        pv_buf chunk = {.data = conn->server->file_buf, .len = (size_t)n, .cap = (size_t)n};
        pv__http_conn_progress(conn);
        budget = budget > (size_t)n ? budget - (size_t)n : 0;
        /* chunk borrows file_buf: over TLS conn_send only encrypts it, never keeps it */
        pv__send_result r = pv__http_conn_send(conn, &chunk, budget > 0);
        if (r != PV__SENT_ALL)
            return; /* on_written goes on, or the connection is closing */
    }
    pv__http_conn_answered(conn);
}

void pv__http_conn_pump(pv__http_conn *conn)
{
    if (conn->closing || conn->state != PV__CONN_SENDING || conn->writes_pending > 0)
        return;
    if (conn->file_left > 0) {
        if (conn->tls != NULL)
            pump_tls_file(conn);
        else
            pump_sendfile(conn);
        return;
    }
    pv__http_conn_answered(conn);
}

/* Gives an error answer without a body from the handler a short text body for people. */
static void default_body(pv_response *resp, pv_arena *arena)
{
    if (resp->body_kind != PV_BODY_NONE || resp->status < 400)
        return;
    char text[96];
    int n = snprintf(text, sizeof text, "%d %s\n", resp->status, pv_http_reason(resp->status));
    if (n < 0 || (size_t)n >= sizeof text)
        return;
    resp->body_kind = PV_BODY_MEMORY;
    resp->body = pv_arena_memdup0(arena, text, (size_t)n);
    resp->body_len = (size_t)n;
    resp->content_type = "text/plain; charset=utf-8";
}

/* Extra header lines as handler.h says: each "Name: value\r\n", no bare CR or LF, no
 * empty line (which would end the head and start a body of the handler's making). */
static const char *header_lines(const char *s)
{
    for (const char *p = s; p != NULL && *p != '\0';) {
        const char *eol = strstr(p, "\r\n");
        const char *colon = eol ? memchr(p, ':', (size_t)(eol - p)) : NULL;
        if (eol == NULL || colon == NULL || colon == p || memchr(p, '\n', (size_t)(eol - p)) ||
            memchr(p, '\r', (size_t)(eol - p)))
            return NULL;
        p = eol + 2;
    }
    return s;
}

static const char *header_value(const char *s)
{
    if (s == NULL || strpbrk(s, "\r\n") != NULL)
        return NULL; /* a header value with a line break would split the response */
    return s;
}

/* Starts sending the exchange's answer (the handler's or ours). */
void pv__http_conn_begin_response(pv__http_conn *conn, bool allow_header)
{
    /* A connection has its server until its handles have closed (pv__http_server_detach);
     * an orphan's answer is logged by the exchange and never reaches here. */
    assert(conn->server != NULL);
    pv_response *resp = &conn->ex.resp;
    const pv_request *req = &conn->ex.req;
    if (conn->server->closing)
        conn->keep_alive = false; /* draining: this is the connection's last answer */
    if (conn->tls == NULL && conn->beyond_source) {
        /* a plain-HTTP connection beyond its address's limit named a device (issue 15): kept
         * if the server found it, else this answer is its last (http_conn.h) */
        if (resp->status >= 200 && resp->status < 400)
            conn->beyond_source = false;
        else
            conn->keep_alive = false;
    }
    resp->location = header_value(resp->location);
    resp->www_authenticate = header_value(resp->www_authenticate);
    resp->headers = header_lines(resp->headers);
    default_body(resp, &conn->ex.arena);
    uint64_t total = resp->body_kind == PV_BODY_MEMORY ? resp->body_len
                     : resp->body_kind == PV_BODY_FILE ? (uint64_t)resp->file_size
                                                       : 0;
    pv_method method = req->method_name.len ? req->method : PV_METHOD_GET;
    pv_http_plan_response(method, req->headers, req->header_count, resp, total, &conn->plan);
    pv_http_head_info info = {.plan = &conn->plan,
                              .resp = resp,
                              .now = time(NULL),
                              .keep_alive = conn->keep_alive,
                              .http10 = conn->parser.req.http_minor == 0,
                              .allow_header = allow_header};
    pv_buf *head = &conn->server->head_out; /* reused: conn_send empties it */
    pv_buf_reset(head);
    pv_http_format_head(head, &info);
    conn->state = PV__CONN_SENDING;
    conn->file_left = 0;
    if (conn->plan.send_body && conn->plan.length > 0) {
        if (resp->body_kind == PV_BODY_MEMORY) {
            pv_buf_append(head, resp->body + conn->plan.offset, conn->plan.length);
            conn->ex.bytes_out = conn->plan.length;
        } else if (resp->body_kind == PV_BODY_FILE) {
            conn->file_pos = conn->plan.offset;
            conn->file_left = conn->plan.length;
        }
    }
    pv__http_conn_progress(conn); /* a client that stops reading is cut */
    if (pv__http_conn_send(conn, head, true) == PV__SENT_ALL)
        pv__http_conn_pump(conn); /* the head (and a memory body) left at once: go on now */
}

/* exchange.h: the handler answered and the peer is still there. */
void pv__http_conn_send_answer(pv_exchange *ex)
{
    pv__http_conn_begin_response(ex->owner, false);
}
