/*
 * resolve.c — c-ares on a libuv loop (see resolve.h).
 *
 * c-ares reports the sockets it wants watched through its socket-state
 * callback: each gets a uv_poll, and one uv_timer follows ares_timeout().
 * Answers are copied out of c-ares' structures at once and handed to the
 * caller from a zero-delay timer, because c-ares may answer inside the call
 * that asked (a name in /etc/hosts) and our callers must never be re-entered.
 */
#include "net/resolve.h"

#include "core/alloc.h"
#include "net/sockaddr.h"

#include <arpa/inet.h>
#include <ares.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef struct lookup {
    struct lookup *next; /* answered, waiting for delivery */
    pv_resolver *r;
    pv_resolve_cb cb;
    void *data;
    int error;
    char error_text[96];
    char *addrs[PV_RESOLVE_MAX_ANSWERS];
    size_t naddrs;
    pv_resolved_srv srv[PV_RESOLVE_MAX_ANSWERS];
    size_t nsrv;
} lookup;

typedef struct sock_poll {
    uv_poll_t poll;
    struct sock_poll *next;
    ares_socket_t fd;
    pv_resolver *r;
} sock_poll;

struct pv_resolver {
    uv_loop_t *loop;
    ares_channel ch;
    bool ch_live;
    uv_timer_t timer;   /* ares_timeout() */
    uv_timer_t deliver; /* hands answers over outside c-ares' calls */
    lookup *done, *done_tail;
    sock_poll *polls;
    unsigned open_handles;
    void (*closed)(void *data);
    void *closed_data;
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_rc;

static void lib_init(void)
{
    lib_rc = ares_library_init(ARES_LIB_INIT_ALL); /* not thread-safe: once per process */
}

static void maybe_free(pv_resolver *r)
{
    if (r->open_handles > 0 || r->ch_live)
        return;
    void (*closed)(void *) = r->closed;
    void *data = r->closed_data;
    free(r);
    if (closed != NULL)
        closed(data);
}

static void on_handle_closed(uv_handle_t *h)
{
    pv_resolver *r = h->data;
    if (h->type == UV_POLL)
        free(h); /* the sock_poll: poll is its first member */
    r->open_handles--;
    maybe_free(r);
}

static void on_timeout(uv_timer_t *t);

static void rearm(pv_resolver *r)
{
    struct timeval tv, *tvp = ares_timeout(r->ch, NULL, &tv);
    if (tvp == NULL) {
        uv_timer_stop(&r->timer);
        return;
    }
    uint64_t ms = (uint64_t)tvp->tv_sec * 1000 + (uint64_t)tvp->tv_usec / 1000 + 1;
    uv_timer_start(&r->timer, on_timeout, ms, 0);
}

static void on_timeout(uv_timer_t *t)
{
    pv_resolver *r = t->data;
    ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    rearm(r);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    sock_poll *p = (sock_poll *)h;
    pv_resolver *r = p->r;
    bool rd = status < 0 || (events & UV_READABLE); /* an error: let c-ares read it */
    bool wr = status < 0 || (events & UV_WRITABLE);
    ares_process_fd(r->ch, rd ? p->fd : ARES_SOCKET_BAD, wr ? p->fd : ARES_SOCKET_BAD);
    rearm(r);
}

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    pv_resolver *r = data;
    sock_poll **pp = &r->polls;
    while (*pp != NULL && (*pp)->fd != fd)
        pp = &(*pp)->next;
    sock_poll *p = *pp;
    if (!readable && !writable) {
        if (p != NULL) {
            *pp = p->next;
            uv_poll_stop(&p->poll);
            uv_close((uv_handle_t *)&p->poll, on_handle_closed);
        }
        return;
    }
    if (p == NULL) {
        p = pv_calloc(1, sizeof *p);
        if (uv_poll_init_socket(r->loop, &p->poll, fd) != 0) {
            free(p);
            return; /* the lookup times out instead */
        }
        p->fd = fd;
        p->r = r;
        p->poll.data = r;
        p->next = r->polls;
        r->polls = p;
        r->open_handles++;
    }
    uv_poll_start(&p->poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0), on_poll);
}

static void lookup_free(lookup *l)
{
    for (size_t i = 0; i < l->naddrs; i++)
        free(l->addrs[i]);
    for (size_t i = 0; i < l->nsrv; i++)
        free((char *)l->srv[i].target);
    free(l);
}

static void deliver_all(pv_resolver *r)
{
    while (r->done != NULL) {
        lookup *l = r->done;
        r->done = l->next;
        if (r->done == NULL)
            r->done_tail = NULL;
        pv_resolved res = {.error = l->error,
                           .error_text = l->error_text,
                           .addresses = (const char *const *)l->addrs,
                           .naddresses = l->naddrs,
                           .srv = l->srv,
                           .nsrv = l->nsrv};
        l->cb(&res, l->data);
        lookup_free(l);
    }
}

static void on_deliver(uv_timer_t *t)
{
    deliver_all(t->data);
}

static void answered(lookup *l, int status)
{
    pv_resolver *r = l->r;
    l->error = status == ARES_SUCCESS                                ? 0
               : status == ARES_ENOTFOUND || status == ARES_ENODATA ? PV_ENOENT
               : status == ARES_ETIMEOUT                             ? PV_ETIMEDOUT
               : status == ARES_EDESTRUCTION || status == ARES_ECANCELLED ? PV_EIO
                                                                          : PV_EPROTO;
    if (l->error == 0 && l->naddrs == 0 && l->nsrv == 0)
        l->error = PV_ENOENT;
    snprintf(l->error_text, sizeof l->error_text, "%s",
             l->error == 0 ? "" : status == ARES_SUCCESS ? "no records" : ares_strerror(status));
    if (r->done_tail != NULL)
        r->done_tail->next = l;
    else
        r->done = l;
    r->done_tail = l;
    if (r->ch_live)
        uv_timer_start(&r->deliver, on_deliver, 0, 0);
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    lookup *l = arg;
    (void)timeouts;
    for (struct ares_addrinfo_node *n = res ? res->nodes : NULL;
         n != NULL && l->naddrs < PV_RESOLVE_MAX_ANSWERS; n = n->ai_next) {
        char text[PV_SOCKADDR_TEXT_MAX];
        if (pv_sockaddr_host(n->ai_addr, text, sizeof text))
            l->addrs[l->naddrs++] = pv_strdup(text);
    }
    if (res != NULL)
        ares_freeaddrinfo(res);
    answered(l, status);
}

static void on_srv(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    lookup *l = arg;
    (void)timeouts;
    struct ares_srv_reply *reply = NULL;
    if (status == ARES_SUCCESS)
        status = ares_parse_srv_reply(abuf, alen, &reply);
    for (struct ares_srv_reply *s = reply; s != NULL && l->nsrv < PV_RESOLVE_MAX_ANSWERS;
         s = s->next) {
        l->srv[l->nsrv++] = (pv_resolved_srv){.target = pv_strdup(s->host),
                                              .port = s->port,
                                              .priority = s->priority,
                                              .weight = s->weight};
    }
    if (reply != NULL)
        ares_free_data(reply);
    answered(l, status);
}

int pv_resolver_new(uv_loop_t *loop, const pv_resolver_options *o, pv_resolver **out,
                    pv_error *err)
{
    pthread_once(&lib_once, lib_init);
    if (lib_rc != ARES_SUCCESS)
        return pv_error_set(err, PV_EIO, "c-ares: %s", ares_strerror(lib_rc));
    pv_resolver *r = pv_calloc(1, sizeof *r);
    r->loop = loop;
    struct ares_options ao = {0};
    ao.sock_state_cb = on_sock_state;
    ao.sock_state_cb_data = r;
    ao.timeout = (int)(o != NULL && o->timeout_ms ? o->timeout_ms : 2000);
    ao.tries = 2;
    ao.lookups = (char *)"fb"; /* /etc/hosts, then DNS: `localhost` without a server */
    int rc = ares_init_options(&r->ch, &ao,
                               ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
                                   ARES_OPT_LOOKUPS);
    if (rc != ARES_SUCCESS) {
        free(r);
        return pv_error_set(err, PV_EIO, "c-ares: %s", ares_strerror(rc));
    }
    if (o != NULL && o->servers != NULL &&
        (rc = ares_set_servers_ports_csv(r->ch, o->servers)) != ARES_SUCCESS) {
        ares_destroy(r->ch);
        free(r);
        return pv_error_set(err, PV_EINVAL, "DNS servers '%s': %s", o->servers,
                            ares_strerror(rc));
    }
    r->ch_live = true;
    uv_timer_init(loop, &r->timer);
    uv_timer_init(loop, &r->deliver);
    r->timer.data = r->deliver.data = r;
    r->open_handles = 2;
    *out = r;
    return 0;
}

static lookup *lookup_new(pv_resolver *r, pv_resolve_cb cb, void *data)
{
    lookup *l = pv_calloc(1, sizeof *l);
    l->r = r;
    l->cb = cb;
    l->data = data;
    return l;
}

int pv_resolve_address(pv_resolver *r, const char *name, pv_resolve_cb cb, void *data,
                       pv_error *err)
{
    if (!r->ch_live)
        return pv_error_set(err, PV_EIO, "resolver closed");
    struct ares_addrinfo_hints hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    ares_getaddrinfo(r->ch, name, NULL, &hints, on_addrinfo, lookup_new(r, cb, data));
    rearm(r);
    return 0;
}

int pv_resolve_srv(pv_resolver *r, const char *name, pv_resolve_cb cb, void *data, pv_error *err)
{
    if (!r->ch_live)
        return pv_error_set(err, PV_EIO, "resolver closed");
    ares_query(r->ch, name, 1 /* C_IN */, 33 /* T_SRV, RFC 2782 */, on_srv,
               lookup_new(r, cb, data));
    rearm(r);
    return 0;
}

void pv_resolver_close(pv_resolver *r, void (*done)(void *data), void *data)
{
    r->closed = done;
    r->closed_data = data;
    r->ch_live = false;
    ares_destroy(r->ch); /* answers what is pending with ARES_EDESTRUCTION */
    deliver_all(r);
    while (r->polls != NULL) {
        sock_poll *p = r->polls;
        r->polls = p->next;
        uv_poll_stop(&p->poll);
        uv_close((uv_handle_t *)&p->poll, on_handle_closed);
    }
    uv_close((uv_handle_t *)&r->timer, on_handle_closed);
    uv_close((uv_handle_t *)&r->deliver, on_handle_closed);
}
