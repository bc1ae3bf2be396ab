/*
 * resolve.h — DNS lookups on a libuv loop, with c-ares: a name's addresses,
 * and a domain's SRV records.
 *
 * What it is for: the phone's host (phone/phone.c) answers the engine's
 * RESOLVE actions (provisor/agent.h) with it, so the engine chooses the
 * address it connects to ($SERVIP, spec 2.2), fails over address by address
 * (spec 1.2) and follows `--srv` (spec 1.1) without a thread and without
 * blocking the loop. c-ares tells us which sockets to watch (uv_poll) and when
 * to wake it (one uv_timer), like libcurl does for net/fetch.
 *
 * Where the answers come from: the system's configuration (/etc/resolv.conf,
 * /etc/hosts) unless the options name DNS servers ("127.0.0.1:5353", a test's
 * dnsmasq; a phone gets its servers from DHCP or Primary_DNS). Every lookup
 * is bounded: `timeout_ms` per try, 2 tries per server, at most
 * PV_RESOLVE_MAX_ANSWERS records kept.
 *
 * Ownership (libuv style): the caller owns the pv_resolver until
 * pv_resolver_close()'s callback. Each lookup's callback runs exactly once on
 * the loop thread, never from inside the call that started it; a lookup still
 * running when the resolver closes is answered PV_EIO ("resolver closed"). The result's
 * strings live during the callback.
 */
#ifndef PV_NET_RESOLVE_H
#define PV_NET_RESOLVE_H

#include "core/error.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define PV_RESOLVE_MAX_ANSWERS 16

typedef struct pv_resolver pv_resolver;

typedef struct pv_resolver_options {
    const char *servers; /* "ADDR[:PORT],..." (IPv6 as [ADDR]:PORT); NULL: the system's */
    unsigned timeout_ms; /* per try; default 2000 */
} pv_resolver_options;

typedef struct pv_resolved_srv {
    const char *target;
    uint16_t port, priority, weight;
} pv_resolved_srv;

typedef struct pv_resolved {
    int error;                     /* 0, PV_ENOENT (no such name or record), PV_ETIMEDOUT,
                                      PV_EIO (the resolver closed), PV_EPROTO (another failure) */
    const char *error_text;        /* c-ares' words, "" when fine */
    const char *const *addresses;  /* numeric; address lookups */
    size_t naddresses;
    const pv_resolved_srv *srv;    /* SRV lookups, as received */
    size_t nsrv;
} pv_resolved;

typedef void (*pv_resolve_cb)(const pv_resolved *result, void *data);

int pv_resolver_new(uv_loop_t *loop, const pv_resolver_options *options, pv_resolver **out,
                    pv_error *err);
/* The A and AAAA records of name (or /etc/hosts). */
int pv_resolve_address(pv_resolver *r, const char *name, pv_resolve_cb cb, void *data,
                       pv_error *err);
/* The SRV records of name ("_ciscoprov-https._tls.example.com"). */
int pv_resolve_srv(pv_resolver *r, const char *name, pv_resolve_cb cb, void *data,
                   pv_error *err);
/* Answers pending lookups PV_EIO, closes the handles; done (may be NULL) runs when
 * the resolver's memory is freed. */
void pv_resolver_close(pv_resolver *r, void (*done)(void *data), void *data);

#endif
