/*
 * fleet_sip.c — one SIP user agent per fleet phone (see fleet_sip.h).
 */
#include "fleet/fleet_sip.h"

#include "core/alloc.h"
#include "fleet/host.h"
#include "phone/phone_sip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

typedef struct ua {
    struct pv_fleet_sip *fs;
    uint32_t phone;
    pv_phone_sip *sip;
} ua;

struct pv_fleet_sip {
    pv_fleet_sip_hooks hooks;
    ua *ua;
    uint32_t n, open;
    void (*done)(void *data);
    void *done_data;
};

static pv_agent *ua_agent(void *data)
{
    ua *u = data;
    return u->fs->hooks.agent(u->fs->hooks.data, u->phone);
}

static uint64_t ua_now(void *data)
{
    ua *u = data;
    return u->fs->hooks.now(u->fs->hooks.data);
}

static void ua_kick(void *data)
{
    ua *u = data;
    u->fs->hooks.kick(u->fs->hooks.data, u->phone);
}

static void ua_notified(void *data, pv_agent_sip_event ev)
{
    ua *u = data;
    (void)ev;
    u->fs->hooks.notified(u->fs->hooks.data, u->phone);
}

/* One socket per phone, besides the fetcher's connections: the soft limit is raised toward
 * the hard one when it is too low for that. */
static int raise_fd_limit(uint32_t phones, pv_error *err)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        return 0;
    rlim_t want = (rlim_t)phones + 4096; /* the fetcher's connections and the rest */
    if (r.rlim_cur >= want)
        return 0;
    if (r.rlim_max != RLIM_INFINITY && r.rlim_max < want)
        return pv_error_set(err, PV_ELIMIT,
                            "--sip: %u phones need %llu open files, the hard limit is %llu "
                            "(ulimit -Hn)",
                            phones, (unsigned long long)want, (unsigned long long)r.rlim_max);
    r.rlim_cur = want;
    return setrlimit(RLIMIT_NOFILE, &r) == 0
               ? 0
               : pv_error_set(err, PV_ELIMIT, "--sip: cannot raise the open-file limit");
}

static void ua_closed(void *data);

int pv_fleet_sip_new(uv_loop_t *loop, uint32_t phones, uint16_t port,
                     const pv_fleet_sip_hooks *hooks, pv_fleet_sip **out, pv_error *err)
{
    int rc = raise_fd_limit(phones, err);
    if (rc != 0)
        return rc;
    pv_fleet_sip *fs = pv_calloc(1, sizeof *fs);
    fs->hooks = *hooks;
    fs->ua = pv_calloc(phones, sizeof *fs->ua);
    for (uint32_t i = 0; i < phones && rc == 0; i++) {
        ua *u = &fs->ua[i];
        u->fs = fs;
        u->phone = i;
        char host[16], address[32];
        pv_fleet_source_address(i, host, sizeof host); /* where it provisions from (host.h) */
        snprintf(address, sizeof address, "%s:%u", host, port);
        pv_phone_sip_host h = {.agent = ua_agent,
                               .now = ua_now,
                               .kick = ua_kick,
                               .notified = ua_notified,
                               .data = u,
                               .check_ms = PV_FLEET_SIP_CHECK_MS};
        rc = pv_phone_sip_new(&h, loop, address, &u->sip, err);
        if (rc == 0)
            fs->n++;
    }
    if (rc != 0) { /* those made are closed; the loop finishes their close */
        pv_fleet_sip_close(fs, NULL, NULL);
        return rc;
    }
    *out = fs;
    return 0;
}

void pv_fleet_sip_check(pv_fleet_sip *fs, uint32_t phone)
{
    if (phone < fs->n)
        pv_phone_sip_check(fs->ua[phone].sip);
}

uint32_t pv_fleet_sip_registered(const pv_fleet_sip *fs)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < fs->n; i++)
        n += pv_agent_registered(ua_agent(&fs->ua[i]), 1);
    return n;
}

static void ua_closed(void *data)
{
    pv_fleet_sip *fs = data;
    if (--fs->open > 0)
        return;
    void (*done)(void *) = fs->done;
    void *dd = fs->done_data;
    free(fs->ua);
    free(fs);
    if (done != NULL)
        done(dd);
}

void pv_fleet_sip_close(pv_fleet_sip *fs, void (*done)(void *data), void *data)
{
    fs->done = done;
    fs->done_data = data;
    fs->open = fs->n + 1; /* +1: none is freed before every close was started */
    for (uint32_t i = 0; i < fs->n; i++)
        pv_phone_sip_close(fs->ua[i].sip, ua_closed, fs);
    ua_closed(fs);
}
