/* exchange.c — one request's lifetime, arena, orphan state and log line; see exchange.h. */
#include "net/exchange.h"

#include "core/alloc.h"
#include "net/metrics.h"

#include <assert.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

static pv_exchange *exchange_of(pv_request *req)
{
    return (pv_exchange *)((char *)req - offsetof(pv_exchange, req));
}

void pv_exchange_init(pv_exchange *ex, const pv_exchange_ops *ops, void *owner, pv_proto proto,
                      const char *event, const struct sockaddr *peer,
                      const struct sockaddr *local)
{
    assert(ops != NULL && ops->send != NULL && ops->owner_free != NULL);
    *ex = (pv_exchange){.ops = ops, .owner = owner, .event = event, .state = PV_EXCHANGE_IDLE};
    ex->req = (pv_request){.proto = proto, .peer = peer, .local = local};
    ex->resp = (pv_response){.fd = -1};
    pv_sockaddr_text(peer, ex->peer_text, sizeof ex->peer_text);
}

void pv_exchange_open(pv_exchange *ex, uint64_t start_ns)
{
    assert(ex->state == PV_EXCHANGE_IDLE);
    pv_request keep = ex->req;
    ex->req = (pv_request){.proto = keep.proto, .peer = keep.peer, .local = keep.local};
    ex->resp = (pv_response){.fd = -1};
    ex->state = PV_EXCHANGE_OPEN;
    ex->peer_gone = ex->owner_closed = false;
    ex->end_reason = ex->log_path = NULL;
    ex->start_ns = start_ns ? start_ns : uv_hrtime();
    ex->bytes_out = ex->bytes_in = 0;
}

void pv_exchange_dispatch(pv_exchange *ex, pv_handler *handler)
{
    assert(ex->state == PV_EXCHANGE_OPEN);
    assert(handler != NULL && handler->handle != NULL);
    ex->state = PV_EXCHANGE_HANDLING;
    handler->handle(handler, &ex->req);
}

/* handler.h's rule, asserted in debug builds (as SQLite asserts its contracts): what the
 * transport reads after handle() returned is static or in the exchange's arena. */
#ifndef NDEBUG
static bool kept(const pv_exchange *ex, const void *p)
{
    return p == NULL || pv_static_storage(p) || pv_arena_owns(&ex->arena, p);
}
#endif

static void check_ownership(const pv_exchange *ex, const pv_response *r)
{
    (void)ex;
    (void)r;
    assert(r->body_kind != PV_BODY_MEMORY || r->body_len == 0 || kept(ex, r->body));
    assert(kept(ex, r->message) && "pv_response.message: static or pv_request_strdup");
    assert(kept(ex, r->identity_log) && "pv_response.identity_log: static or the arena");
    assert(kept(ex, r->location) && kept(ex, r->www_authenticate) && kept(ex, r->headers));
    assert(kept(ex, r->content_type) && kept(ex, r->content_encoding));
}

static void take_answer(pv_exchange *ex, const pv_response *resp)
{
    check_ownership(ex, resp);
    ex->resp = *resp;
    if (ex->resp.body_kind != PV_BODY_FILE)
        ex->resp.fd = -1;
    if (ex->resp.body_kind != PV_BODY_MEMORY) {
        ex->resp.body = NULL;
        ex->resp.body_len = 0;
    }
    ex->state = PV_EXCHANGE_ANSWERED;
}

void pv_exchange_answer(pv_exchange *ex, const pv_response *resp)
{
    assert(ex->state == PV_EXCHANGE_OPEN);
    take_answer(ex, resp);
}

/* The path as it may be logged: the handler's redacted one, else up to a '&' or ';' (phones
 * put credentials there, spec 9: /admin/config.xml&xuser=admin&xpassword=...). */
pv_slice pv_exchange_log_path(const pv_exchange *ex)
{
    if (ex->log_path != NULL)
        return pv_slice_from(ex->log_path);
    pv_slice path = ex->req.path;
    for (size_t i = 0; i < path.len; i++) {
        if (path.ptr[i] == '&' || path.ptr[i] == ';')
            return pv_slice_make(path.ptr, i);
    }
    return path;
}

/* One logfmt line per request, every transport (issue 3 "Logs and metrics"); never a query. */
static void log_and_count(const pv_exchange *ex, int status, const char *reason, bool aborted)
{
    const char *who = "-";
    if (ex->resp.identity_log != NULL && ex->resp.identity_log[0] != '\0')
        who = ex->resp.identity_log;
    else if (ex->verified != NULL && ex->verified[0] != '\0')
        who = ex->verified;
    double secs = (double)(uv_hrtime() - ex->start_ns) / 1e9;
    pv_slice path = pv_exchange_log_path(ex);
    pv_log_line line;
    pv_log_begin(&line, PV_LOG_INFO, ex->event);
    pv_log_str(&line, "proto", pv_proto_name(ex->req.proto));
    pv_log_str(&line, "peer", ex->peer_text);
    pv_log_str(&line, "identity", who);
    pv_log_slice(&line, "method",
                 ex->req.method_name.len ? ex->req.method_name : PV_SLICE_LIT("-"));
    pv_log_slice(&line, "path", path.len ? path : PV_SLICE_LIT("-"));
    pv_log_int(&line, "status", status);
    pv_log_int(&line, "bytes", (int64_t)(ex->bytes_out ? ex->bytes_out : ex->bytes_in));
    if (ex->ops->log_fields != NULL)
        ex->ops->log_fields(ex, &line);
    pv_log_ms(&line, "duration", secs * 1000.0);
    if (aborted)
        pv_log_str(&line, "aborted", "true");
    if (reason != NULL && (status >= 400 || aborted))
        pv_log_str(&line, "reason", reason);
    pv_log_end(&line);
    if (ex->req.metrics_route != NULL) /* the admin listener: not phone traffic */
        pv_metrics_admin_request(ex->req.metrics_route, ex->req.method_name, status, secs);
    else
        pv_metrics_request(ex->req.proto, status, ex->bytes_out, ex->bytes_in, secs);
}

/* The peer left while the handler has the request: it may stop waiting (handler.h). */
static void peer_left(pv_exchange *ex)
{
    ex->peer_gone = true;
    void (*fn)(pv_request *, void *) = ex->req.on_peer_gone;
    ex->req.on_peer_gone = NULL;
    if (fn != NULL)
        fn(&ex->req, ex->req.on_peer_gone_data); /* may answer: the exchange is then released */
}

static void release(pv_exchange *ex)
{
    if (ex->resp.body_kind == PV_BODY_FILE && ex->resp.fd >= 0)
        close(ex->resp.fd);
    ex->resp = (pv_response){.fd = -1};
    pv_arena_reset(&ex->arena);
    ex->end_reason = ex->log_path = NULL;
    ex->req.on_peer_gone = NULL;
    ex->state = PV_EXCHANGE_IDLE;
}

void pv_exchange_end(pv_exchange *ex, int status, const char *reason, bool aborted)
{
    switch (ex->state) {
    case PV_EXCHANGE_IDLE:
        return;
    case PV_EXCHANGE_HANDLING:
        if (!ex->peer_gone) {
            ex->end_reason = reason == NULL || pv_static_storage(reason)
                                 ? reason
                                 : pv_arena_strdup(&ex->arena, reason);
            peer_left(ex);
        }
        return;
    case PV_EXCHANGE_OPEN:
    case PV_EXCHANGE_ANSWERED:
        log_and_count(ex, status, reason, aborted);
        release(ex);
        return;
    }
}

bool pv_exchange_owner_closed(pv_exchange *ex)
{
    if (ex->state == PV_EXCHANGE_HANDLING && !ex->peer_gone)
        peer_left(ex);
    if (ex->state == PV_EXCHANGE_HANDLING) { /* still with the handler: its answer frees */
        ex->owner_closed = true;
        return false;
    }
    release(ex);
    return true;
}

int pv_exchange_take_fd(pv_exchange *ex)
{
    int fd = ex->resp.fd;
    ex->resp.fd = -1;
    return fd;
}

/* ---- the handler's side (handler.h) ------------------------------------------------------ */

void pv_request_respond(pv_request *req, const pv_response *resp)
{
    pv_exchange *ex = exchange_of(req);
    assert(ex->state == PV_EXCHANGE_HANDLING && "pv_request_respond: once, after handle()");
    take_answer(ex, resp);
    if (!ex->peer_gone) {
        ex->ops->send(ex);
        return;
    }
    /* An orphan (exchange.h): the answer is logged, never sent. */
    const char *reason = ex->end_reason ? ex->end_reason : ex->resp.message;
    log_and_count(ex, ex->resp.status, reason, true);
    bool free_owner = ex->owner_closed;
    release(ex);
    if (free_owner)
        ex->ops->owner_free(ex);
}

void pv_request_respond_status(pv_request *req, int status, const char *message)
{
    pv_response resp = {.status = status, .body_kind = PV_BODY_NONE, .fd = -1};
    if (message != NULL)
        resp.message = pv_static_storage(message) ? message : pv_request_strdup(req, message);
    pv_request_respond(req, &resp);
}

void *pv_request_alloc(pv_request *req, size_t size)
{
    return pv_arena_alloc(&exchange_of(req)->arena, size);
}

char *pv_request_strdup(pv_request *req, const char *s)
{
    return pv_arena_strdup(&exchange_of(req)->arena, s);
}

char *pv_request_memdup(pv_request *req, const void *ptr, size_t len)
{
    return pv_arena_memdup0(&exchange_of(req)->arena, ptr, len);
}

char *pv_request_printf(pv_request *req, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = pv_request_alloc(req, n > 0 ? (size_t)n + 1 : 1);
    p[0] = '\0';
    if (n > 0) {
        va_start(ap, fmt);
        (void)vsnprintf(p, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return p;
}

void pv_request_set_log_path(pv_request *req, const char *path)
{
    exchange_of(req)->log_path = pv_request_strdup(req, path);
}

void *pv_request_keep(pv_request *req, void *block, size_t len)
{
    return pv_arena_adopt(&exchange_of(req)->arena, block, len);
}

const char *pv_request_keep_buf(pv_request *req, pv_buf *buf, size_t *len)
{
    size_t n = 0;
    char *data = pv_buf_take(buf, &n);
    if (len != NULL)
        *len = n;
    if (data == NULL)
        return pv_arena_strdup(&exchange_of(req)->arena, "");
    return pv_arena_adopt(&exchange_of(req)->arena, data, n);
}

void pv_response_set_body(pv_request *req, pv_response *resp, int status, const void *data,
                          size_t len, const char *content_type)
{
    resp->status = status;
    resp->body_kind = PV_BODY_MEMORY;
    resp->body = pv_arena_memdup0(&exchange_of(req)->arena, data, len);
    resp->body_len = len;
    resp->fd = -1;
    resp->content_type = content_type;
}
