/*
 * phone_syslog.c — syslog datagrams without blocking the loop (see phone_syslog.h).
 */
#include "phone/phone_syslog.h"

#include "core/alloc.h"
#include "core/error.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct pending {
    struct pending *next;
    char *server, *host, *text;
    int level;
    uint64_t now_ms;
} pending;

struct pv_phone_syslog {
    uv_loop_t *loop;
    uv_udp_t udp;
    bool udp_open;
    /* the last lookup: Syslog_Server as given, and what it gave */
    char *name;
    struct sockaddr_storage addr;
    bool addr_ok;
    uint64_t resolved_at;  /* uv_now() */
    uv_getaddrinfo_t *req; /* a lookup in flight */
    char *req_name;
    pending *head, *tail;
    size_t npending;
    bool closing;
    int open_handles;
    void (*done)(void *data);
    void *done_data;
};

int pv_phone_syslog_format(char *buf, size_t size, int level, uint64_t now_ms, const char *host,
                           const char *text)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t secs = (time_t)(now_ms / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    int pri = 1 * 8 + (level < 0 ? 0 : level > 7 ? 7 : level); /* facility user, RFC 3164 §4.1.1 */
    /* RFC 3164 §4.1.2: "Mmm dd hh:mm:ss", the day padded with a space */
    int n = snprintf(buf, size, "<%d>%s %2d %02d:%02d:%02d %s provisor-phone: %s", pri,
                     mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, host, text);
    if (n < 0 || (size_t)n >= size)
        return PV_ETOOBIG;
    return n;
}

/* Syslog_Server: host[:port] or [v6]:port, UDP 514 by default (spec 7.3). */
static int split_server(const char *server, char *host, size_t hsize, char port[8])
{
    unsigned p = 514;
    const char *colon = strrchr(server, ':');
    size_t hl = strlen(server);
    if (server[0] == '[') { /* [v6]:port */
        const char *close = strchr(server, ']');
        if (close == NULL)
            return PV_ESYNTAX;
        hl = (size_t)(close - server - 1);
        server++;
        colon = close[1] == ':' ? close + 1 : NULL;
    } else if (colon != NULL && strchr(server, ':') == colon) {
        hl = (size_t)(colon - server);
    } else {
        colon = NULL; /* a bare IPv6 address */
    }
    if (colon != NULL) {
        char *end;
        unsigned long v = strtoul(colon + 1, &end, 10);
        p = *end == '\0' && v > 0 && v <= 65535 ? (unsigned)v : 0;
    }
    if (hl == 0 || hl >= hsize || p == 0)
        return PV_ESYNTAX;
    memcpy(host, server, hl);
    host[hl] = '\0';
    snprintf(port, 8, "%u", p); /* fits: at most 5 digits */
    return 0;
}

static void to_stderr(int level, const char *text, const char *why)
{
    pv_log_line l;
    pv_log_begin(&l, level <= 3 ? PV_LOG_ERROR : PV_LOG_INFO, "phone.syslog");
    pv_log_int(&l, "severity", level);
    pv_log_str(&l, "msg", text);
    if (why != NULL)
        pv_log_str(&l, "syslog_server", why);
    pv_log_end(&l);
}

static void emit(pv_phone_syslog *s, int level, uint64_t now_ms, const char *host, const char *text)
{
    char line[1024];
    int n = pv_phone_syslog_format(line, sizeof line, level, now_ms, host, text);
    if (n <= 0)
        return;
    if (!s->udp_open) {
        uv_udp_init(s->loop, &s->udp);
        s->udp.data = s;
        s->udp_open = true;
    }
    uv_buf_t b = uv_buf_init(line, (unsigned)n);
    uv_udp_try_send(&s->udp, &b, 1, (const struct sockaddr *)&s->addr);
}

static void remember(pv_phone_syslog *s, char *name, const struct sockaddr *sa, size_t len)
{
    free(s->name);
    s->name = name;
    s->addr_ok = sa != NULL && len <= sizeof s->addr;
    if (s->addr_ok)
        memcpy(&s->addr, sa, len);
    s->resolved_at = uv_now(s->loop);
}

/* An address in the text itself needs no lookup. */
static bool numeric(pv_phone_syslog *s, const char *server, const char *host, const char *port)
{
    struct sockaddr_storage ss = {0};
    int p = atoi(port);
    if (uv_ip4_addr(host, p, (struct sockaddr_in *)&ss) == 0) {
        remember(s, pv_strdup(server), (struct sockaddr *)&ss, sizeof(struct sockaddr_in));
        return true;
    }
    if (uv_ip6_addr(host, p, (struct sockaddr_in6 *)&ss) == 0) {
        remember(s, pv_strdup(server), (struct sockaddr *)&ss, sizeof(struct sockaddr_in6));
        return true;
    }
    return false;
}

static void maybe_done(pv_phone_syslog *s)
{
    if (!s->closing || s->open_handles > 0 || s->req != NULL)
        return;
    void (*done)(void *) = s->done;
    void *data = s->done_data;
    free(s->name);
    free(s->req_name);
    free(s);
    if (done != NULL)
        done(data);
}

static void free_pending(pending *p)
{
    free(p->server);
    free(p->host);
    free(p->text);
    free(p);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    pv_phone_syslog *s = req->data;
    free(req);
    s->req = NULL;
    const struct addrinfo *pick = NULL;
    for (const struct addrinfo *ai = status == 0 ? res : NULL; ai != NULL; ai = ai->ai_next) {
        if (pick == NULL || (ai->ai_family == AF_INET && pick->ai_family != AF_INET))
            pick = ai; /* IPv4 first: what a phone's syslog collector listens on */
    }
    char *name = s->req_name;
    s->req_name = NULL;
    remember(s, name, pick ? pick->ai_addr : NULL, pick ? pick->ai_addrlen : 0);
    if (res != NULL)
        uv_freeaddrinfo(res);
    pending *list = s->head;
    s->head = s->tail = NULL;
    s->npending = 0;
    for (pending *p = list, *next; p != NULL; p = next) { /* in order; another name waits again */
        next = p->next;
        if (s->closing)
            to_stderr(p->level, p->text, "closing");
        else
            pv_phone_syslog_send(s, p->server, p->level, p->now_ms, p->host, p->text);
        free_pending(p);
    }
    maybe_done(s);
}

static void wait_for_lookup(pv_phone_syslog *s, const char *server, const char *host,
                            const char *port, int level, uint64_t now_ms, const char *from,
                            const char *text)
{
    if (s->npending >= PV_PHONE_SYSLOG_PENDING) { /* bounded while DNS is slow */
        to_stderr(level, text, "lookup pending");
        return;
    }
    pending *p = pv_calloc(1, sizeof *p);
    p->server = pv_strdup(server);
    p->host = pv_strdup(from);
    p->text = pv_strdup(text);
    p->level = level;
    p->now_ms = now_ms;
    if (s->tail != NULL)
        s->tail->next = p;
    else
        s->head = p;
    s->tail = p;
    s->npending++;
    if (s->req != NULL)
        return; /* the lookup in flight flushes the queue, and starts the next one */
    s->req = pv_calloc(1, sizeof *s->req);
    s->req->data = s;
    s->req_name = pv_strdup(server);
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV};
    if (uv_getaddrinfo(s->loop, s->req, on_resolved, host, port, &hints) != 0) {
        free(s->req);
        s->req = NULL;
        free(s->req_name);
        s->req_name = NULL;
        remember(s, pv_strdup(server), NULL, 0); /* failed: stderr until the TTL runs out */
        pending *list = s->head;
        s->head = s->tail = NULL;
        s->npending = 0;
        for (pending *q = list, *next; q != NULL; q = next) {
            next = q->next;
            to_stderr(q->level, q->text, "lookup failed");
            free_pending(q);
        }
    }
}

void pv_phone_syslog_send(pv_phone_syslog *s, const char *server, int level, uint64_t now_ms,
                          const char *from, const char *text)
{
    char host[256], port[8];
    if (s->closing || server == NULL || *server == '\0' ||
        split_server(server, host, sizeof host, port) != 0) {
        to_stderr(level, text, server != NULL && *server != '\0' ? "unusable" : NULL);
        return;
    }
    bool fresh = s->name != NULL && strcmp(s->name, server) == 0 &&
                 uv_now(s->loop) - s->resolved_at < PV_PHONE_SYSLOG_TTL_MS;
    if (!fresh)
        fresh = numeric(s, server, host, port);
    if (!fresh || s->head != NULL) { /* a name to look up, or lines before us waiting */
        wait_for_lookup(s, server, host, port, level, now_ms, from, text);
        return;
    }
    if (s->addr_ok)
        emit(s, level, now_ms, from, text);
    else /* the lookup failed a moment ago: not again for every line */
        to_stderr(level, text, "name not resolved");
}

pv_phone_syslog *pv_phone_syslog_new(uv_loop_t *loop)
{
    pv_phone_syslog *s = pv_calloc(1, sizeof *s);
    s->loop = loop;
    return s;
}

static void on_udp_closed(uv_handle_t *h)
{
    pv_phone_syslog *s = h->data;
    s->open_handles--;
    maybe_done(s);
}

void pv_phone_syslog_close(pv_phone_syslog *s, void (*done)(void *data), void *data)
{
    s->closing = true;
    s->done = done;
    s->done_data = data;
    if (s->req != NULL)
        uv_cancel((uv_req_t *)s->req); /* on_resolved still runs, with UV_EAI_CANCELED */
    if (s->udp_open) {
        s->open_handles++;
        uv_close((uv_handle_t *)&s->udp, on_udp_closed);
    }
    maybe_done(s);
}
