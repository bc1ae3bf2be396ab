/*
 * resolve.c — from a server name to the address the phone connects to, when
 * the host resolves names for the engine (pv_agent_set_host_resolves).
 *
 * The phone looks the name up before it connects, so the address is the
 * engine's to choose and to show: $SERVIP is "the target IP after DNS" (spec
 * 2.2) and the request log names it (spec 7.3). A name with several
 * addresses is tried address by address until one answers (spec 1.2). With
 * `--srv` the domain's SRV records (`_ciscoprov-https._tls.NAME`,
 * `_ciscoprov-http._tcp.NAME`, spec 1.1) name the servers: they are tried in
 * RFC 2782 order — lowest priority first, and within one priority a weighted
 * random draw — each target by its own addresses, before the fetch fails.
 * Only a failure to connect moves on; a server that answers, even 5xx, is the
 * answer. The engine keeps at most PV_AGENT_MAX_ADDRESSES addresses and
 * PV_AGENT_MAX_SRV targets of whatever the network says.
 */
#include "agent/agent_int.h"

#include "core/alloc.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

void pv_agent_set_host_resolves(pv_agent *a, bool yes)
{
    a->host_resolves = yes;
}

static bool numeric(const char *host)
{
    unsigned char bytes[16];
    return inet_pton(AF_INET, host, bytes) == 1 || inet_pton(AF_INET6, host, bytes) == 1;
}

void pv__fetch_forget_addresses(pv__fetch *f)
{
    for (size_t i = 0; i < f->naddrs; i++)
        free(f->addrs[i]);
    f->naddrs = f->cur_addr = 0;
    f->resolved = false;
}

const char *pv__fetch_address(const pv__fetch *f)
{
    return f->resolved ? f->addrs[f->cur_addr] : NULL;
}

static void ask(pv_agent *a, pv__fetch *f, pv_agent_lookup lookup, const char *name)
{
    pv__action *q = pv__queue(a, PV_AGENT_ACT_RESOLVE);
    q->host = pv_strdup(name);
    q->act.lookup = lookup;
    q->act.port = f->port;
    f->id = q->act.id;
    f->lookup_pending = true;
}

bool pv__fetch_route(pv_agent *a, pv__fetch *f)
{
    if (!a->host_resolves)
        return true;
    if (f->srv && !f->srv_done) {
        /* spec 1.1 --srv: the service names of the guide, https over "_tls", http over "_tcp" */
        pv_buf name = {0};
        pv_buf_appendf(&name, "%s.%s",
                       f->scheme == PV_SCHEME_HTTPS ? "_ciscoprov-https._tls" : "_ciscoprov-http._tcp",
                       f->host);
        char *text = pv_buf_take(&name, NULL);
        ask(a, f, PV_AGENT_LOOKUP_SRV, text);
        free(text);
        return false;
    }
    if (!f->resolved) {
        if (!numeric(f->host)) {
            ask(a, f, PV_AGENT_LOOKUP_ADDRESS, f->host);
            return false;
        }
        f->addrs[0] = pv_strdup(f->host);
        f->naddrs = 1;
        f->cur_addr = 0;
        f->resolved = true;
    }
    return true;
}

static void use_target(pv__fetch *f, size_t i)
{
    free(f->host);
    f->host = pv_strdup(f->targets[i].target);
    f->port = f->targets[i].port;
    pv__fetch_forget_addresses(f);
    f->next_target = (uint8_t)(i + 1);
}

bool pv__fetch_failover(pv_agent *a, uint64_t now, pv__fetch *f)
{
    if (!a->host_resolves)
        return false;
    if (f->resolved && f->cur_addr + 1 < f->naddrs) {
        f->cur_addr++;
    } else if (f->srv_done && f->next_target < f->ntargets) {
        use_target(f, f->next_target);
    } else {
        return false;
    }
    f->lookup_failed = false;
    f->redirects = f->auth_retries = 0;
    f->with_credentials = false;
    pv__fetch_send(a, now, f);
    return true;
}

/* RFC 2782: by priority, lowest first; within a priority, repeatedly draw a
 * record with probability weight/sum (weight-0 records first in the running
 * sum, so they are chosen when the draw is 0 or every weight is 0). */
static void order_srv(pv_agent *a, pv__fetch *f, const pv_agent_srv *recs, size_t n)
{
    const pv_agent_srv *left[PV_AGENT_MAX_SRV];
    size_t nleft = 0;
    for (size_t i = 0; i < n && nleft < PV_AGENT_MAX_SRV; i++) {
        if (recs[i].target != NULL && recs[i].target[0] != '\0' && strcmp(recs[i].target, ".") != 0)
            left[nleft++] = &recs[i]; /* "." : the service is decidedly not offered */
    }
    while (nleft > 0) {
        uint16_t prio = left[0]->priority;
        for (size_t i = 1; i < nleft; i++)
            if (left[i]->priority < prio)
                prio = left[i]->priority;
        /* the group: zero weights first, then the others, in the order received */
        const pv_agent_srv *grp[PV_AGENT_MAX_SRV];
        size_t ng = 0;
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < nleft; i++)
                if (left[i]->priority == prio && (left[i]->weight == 0) == (pass == 0))
                    grp[ng++] = left[i];
        while (ng > 0) {
            uint64_t sum = 0;
            for (size_t i = 0; i < ng; i++)
                sum += grp[i]->weight;
            uint64_t draw = (uint64_t)pv__rand32(a) * (sum + 1) >> 32; /* 0..sum */
            size_t pick = 0;
            uint64_t run = 0;
            for (size_t i = 0; i < ng; i++) {
                run += grp[i]->weight;
                if (run >= draw) {
                    pick = i;
                    break;
                }
            }
            f->targets[f->ntargets].target = pv_strdup(grp[pick]->target);
            f->targets[f->ntargets].port = grp[pick]->port;
            f->ntargets++;
            memmove(&grp[pick], &grp[pick + 1], (ng - pick - 1) * sizeof grp[0]);
            ng--;
        }
        size_t k = 0; /* the group is placed: drop it from what is left */
        for (size_t i = 0; i < nleft; i++)
            if (left[i]->priority != prio)
                left[k++] = left[i];
        nleft = k;
    }
}

bool pv__fetch_resolved(pv_agent *a, uint64_t now, pv__fetch *f, const pv_agent_resolution *r)
{
    f->lookup_pending = false;
    f->id = 0;
    if (f->srv && !f->srv_done) {
        f->srv_done = true;
        if (r->error == 0)
            order_srv(a, f, r->srv, r->nsrv);
        if (f->ntargets == 0) {
            f->lookup_failed = true; /* $ERR names the domain whose records are missing */
            return false;
        }
        use_target(f, 0);
        pv__fetch_send(a, now, f);
        return true;
    }
    for (size_t i = 0; r->error == 0 && i < r->naddresses && f->naddrs < PV_AGENT_MAX_ADDRESSES;
         i++) {
        if (r->addresses[i] != NULL && numeric(r->addresses[i]))
            f->addrs[f->naddrs++] = pv_strdup(r->addresses[i]);
    }
    if (f->naddrs == 0) {
        if (pv__fetch_failover(a, now, f)) /* the next SRV target, if any */
            return true;
        f->lookup_failed = true;
        return false;
    }
    f->resolved = true;
    f->cur_addr = 0;
    pv__fetch_send(a, now, f);
    return true;
}
