/*
 * phone.c — the host loop of one emulated phone (see phone.h).
 *
 * Control flow: every event (timer, finished transfer, web request, keypad)
 * ends in drain(), which takes the engine's actions until none is left,
 * performs them, and re-arms the timer from pv_agent_next_wakeup(). Answers
 * that must go back into the engine (a transfer that could not even start, a
 * reboot) are applied after the batch, never from inside
 * pv_agent_next_action's loop, so the engine is never re-entered.
 */
#include "phone/phone.h"

#include "phone/dhcp_hook.h"
#include "phone/fetch_request.h"
#include "phone/phone_sip.h"
#include "phone/phone_syslog.h"
#include "phone/webui.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "net/fetch.h"
#include "net/http_server.h"
#include "net/resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROFILE_MAX ((size_t)4 << 20)   /* a profile: 4 MiB is far beyond any real one */
#define FIRMWARE_MAX ((size_t)64 << 20) /* a firmware image */
#define MAX_REARM_MS 3600000            /* re-check the clock at least hourly */

typedef struct pv__xfer {
    struct pv__xfer *prev, *next;
    pv_phone *p;
    uint32_t id;
    pv_fetch *h;
    char *url;
} pv__xfer;

struct pv_phone {
    uv_loop_t *loop;
    pv_agent_defaults *defs;
    pv_agent *agent;
    pv_fetcher *fetcher;
    pv_resolver *resolver;
    unsigned generation; /* bumped at reboot and close: older lookups are stale */
    uv_timer_t timer;
    pv_phone_syslog *syslog;
    pv_http_server *web;
    pv_webui *webui;
    pv_phone_sip *sip;
    char *state_dir, *web_address;
    char *dhcp_text; /* the lease last applied */
    bool lease_ip;   /* ... and it holds an address or options (bound, renew) */
    pv__xfer *xfers;
    /* clock */
    bool virtual_clock;
    double factor;
    uint64_t base_wall, base_mono, advanced;
    /* deferred into the engine after a batch */
    struct {
        uint32_t id;
        int error;
        bool lookup; /* a RESOLVE that could not start */
    } failed[8];
    size_t nfailed;
    bool reboot;
    bool draining;
    char last_result[160];
    pv_agent_challenge challenge; /* the last 401's (spec 8.2: the retry answers it) */
    unsigned pending_closes;
    void (*done)(void *data);
    void *done_data;
    bool off; /* pv_phone_shutdown: waiting for the shutdown report */
    void (*off_done)(void *data);
    void *off_data;
};

/* ---- clock ---- */

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t pv_phone_now(const pv_phone *p)
{
    uint64_t mono = uv_hrtime() / 1000000 - p->base_mono;
    return p->base_wall + (uint64_t)((double)mono * p->factor) + p->advanced;
}

bool pv_phone_clock_is_virtual(const pv_phone *p)
{
    return p->virtual_clock;
}

static void set_time_of_day(pv_phone *p)
{
    uint64_t now = pv_phone_now(p);
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    uint32_t ms = (uint32_t)((tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec) * 1000 + now % 1000);
    pv_agent_set_time_of_day(p->agent, now, ms); /* Resync_At__HHmm_ is local time */
}

/* ---- syslog (spec 7.3) ---- */

static void do_log(pv_phone *p, int level, const char *text)
{
    const char *server = NULL;
    if (pv_agent_get(p->agent, PV_AGENT_ADMIN, "Syslog_Server", &server) != 0)
        server = NULL;
    pv_phone_syslog_send(p->syslog, server, level, pv_phone_now(p), pv_agent_mac(p->agent), text);
}

/* ---- persistence ---- */

static void do_persist(pv_phone *p)
{
    char *data;
    size_t len;
    pv_agent_save(p->agent, &data, &len);
    pv_error err;
    if (pv_phone_write_file(p->state_dir, "state", data, len, &err) != 0)
        pv_logf(PV_LOG_ERROR, "phone.persist", "error=\"%s\"", err.msg);
    free(data);
}

/* ---- transfers ---- */

static void drain(pv_phone *p);
static void power_off(pv_phone *p);

static void xfer_unlink(pv__xfer *x)
{
    pv_phone *p = x->p;
    if (x->prev != NULL)
        x->prev->next = x->next;
    else
        p->xfers = x->next;
    if (x->next != NULL)
        x->next->prev = x->prev;
}

static void on_fetched(pv_fetch *h, const pv_fetch_result *r, void *data)
{
    pv__xfer *x = data;
    pv_phone *p = x->p;
    xfer_unlink(x);
    pv_agent_response resp;
    pv_agent_response_from_fetch(r, &resp);
    pv_logf(r->error < 0 ? PV_LOG_WARN : PV_LOG_INFO, "phone.fetch",
            "id=%u status=%d error=%s bytes=%zu connect_ms=%.1f tls_ms=%.1f total_ms=%.1f%s%s",
            (unsigned)x->id, r->status, r->error ? pv_err_name(r->error) : "-", r->body_len,
            r->connect_ms, r->tls_ms, r->total_ms, r->error ? " detail=" : "",
            r->error ? r->error_text : "");
    pv_agent_challenge_note(&p->challenge, x->url, r); /* spec 8.2: answer it next */
    uint32_t id = x->id;
    free(x->url);
    free(x);
    pv_agent_fetch_done(p->agent, pv_phone_now(p), id, &resp);
    drain(p);
}

static void start_fetch(pv_phone *p, const pv_agent_action *act)
{
    pv_fetch_request req;
    pv_agent_fetch_request(act, &p->challenge,
                           act->purpose == PV_AGENT_FOR_FIRMWARE ? FIRMWARE_MAX : PROFILE_MAX,
                           &req);
    pv__xfer *x = pv_calloc(1, sizeof *x);
    x->p = p;
    x->id = act->id;
    x->url = pv_strdup(act->url);
    pv_logf(PV_LOG_INFO, "phone.request", "id=%u method=%s address=%s url=%s",
            (unsigned)act->id, act->method ? act->method : "GET",
            act->address ? act->address : "-", act->url);
    pv_error err;
    int rc = pv_fetch_start(p->fetcher, &req, on_fetched, x, &x->h, &err);
    if (rc != 0) {
        free(x->url);
        free(x);
        if (p->nfailed < sizeof p->failed / sizeof p->failed[0]) {
            p->failed[p->nfailed].id = act->id;
            p->failed[p->nfailed].error = rc;
            p->nfailed++;
        }
        return;
    }
    x->next = p->xfers;
    if (p->xfers != NULL)
        p->xfers->prev = x;
    p->xfers = x;
}

/* ---- name lookups (the engine's RESOLVE actions, net/resolve.h) ---- */

typedef struct pv__lookup {
    pv_phone *p;
    uint32_t id;
    unsigned generation;
} pv__lookup;

static void on_resolved(const pv_resolved *r, void *data)
{
    pv__lookup *l = data;
    pv_phone *p = l->p;
    uint32_t id = l->id;
    bool stale = l->generation != p->generation;
    free(l);
    if (stale)
        return; /* the phone rebooted or closes: no engine is waiting */
    pv_agent_srv srv[PV_RESOLVE_MAX_ANSWERS];
    for (size_t i = 0; i < r->nsrv; i++)
        srv[i] = (pv_agent_srv){.target = r->srv[i].target,
                                .port = r->srv[i].port,
                                .priority = r->srv[i].priority,
                                .weight = r->srv[i].weight};
    pv_logf(r->error ? PV_LOG_WARN : PV_LOG_INFO, "phone.resolve",
            "id=%u error=%s addresses=%zu srv=%zu%s%s", (unsigned)id,
            r->error ? pv_err_name(r->error) : "-", r->naddresses, r->nsrv,
            r->error ? " detail=" : "", r->error ? r->error_text : "");
    pv_agent_resolution res = {.error = r->error,
                               .addresses = r->addresses,
                               .naddresses = r->naddresses,
                               .srv = srv,
                               .nsrv = r->nsrv};
    pv_agent_resolve_done(p->agent, pv_phone_now(p), id, &res);
    drain(p);
}

static void start_lookup(pv_phone *p, const pv_agent_action *act)
{
    pv__lookup *l = pv_calloc(1, sizeof *l);
    *l = (pv__lookup){.p = p, .id = act->id, .generation = p->generation};
    pv_logf(PV_LOG_INFO, "phone.lookup", "id=%u type=%s name=%s", (unsigned)act->id,
            act->lookup == PV_AGENT_LOOKUP_SRV ? "SRV" : "A/AAAA", act->host);
    pv_error err;
    int rc = act->lookup == PV_AGENT_LOOKUP_SRV
                 ? pv_resolve_srv(p->resolver, act->host, on_resolved, l, &err)
                 : pv_resolve_address(p->resolver, act->host, on_resolved, l, &err);
    if (rc != 0) {
        free(l);
        if (p->nfailed < sizeof p->failed / sizeof p->failed[0]) {
            p->failed[p->nfailed].id = act->id;
            p->failed[p->nfailed].error = rc;
            p->failed[p->nfailed].lookup = true;
            p->nfailed++;
        }
    }
}

static void cancel_transfers(pv_phone *p)
{
    p->generation++; /* and the lookups in flight */
    while (p->xfers != NULL) {
        pv__xfer *x = p->xfers;
        xfer_unlink(x);
        pv_fetch_cancel(x->h);
        free(x->url);
        free(x);
    }
}

/* ---- the host loop ---- */

static void on_timer(uv_timer_t *t)
{
    pv_phone *p = t->data;
    pv_agent_tick(p->agent, pv_phone_now(p));
    drain(p);
}

static void rearm(pv_phone *p)
{
    uint64_t wake = pv_agent_next_wakeup(p->agent);
    if (wake == PV_AGENT_NEVER) {
        uv_timer_start(&p->timer, on_timer, MAX_REARM_MS, 0); /* time of day may matter */
        return;
    }
    uint64_t now = pv_phone_now(p);
    uint64_t ms = wake > now ? wake - now : 0;
    double real = (double)ms / p->factor;
    uint64_t delay = (uint64_t)real + (real > (double)(uint64_t)real); /* round up */
    uv_timer_start(&p->timer, on_timer, delay > MAX_REARM_MS ? MAX_REARM_MS : delay, 0);
}

static void remember_result(pv_phone *p)
{
    const char *e = pv_agent_last_error(p->agent);
    snprintf(p->last_result, sizeof p->last_result, "%s", *e ? e : "ok");
}

static void drain(pv_phone *p)
{
    if (p->draining)
        return; /* the outer drain picks up what this call would have */
    p->draining = true;
    for (int round = 0; round < 64; round++) {
        pv_agent_action act;
        bool any = false;
        while (pv_agent_next_action(p->agent, &act)) {
            any = true;
            switch (act.kind) {
            case PV_AGENT_ACT_FETCH:
            case PV_AGENT_ACT_UPLOAD:
                start_fetch(p, &act);
                break;
            case PV_AGENT_ACT_RESOLVE:
                start_lookup(p, &act);
                break;
            case PV_AGENT_ACT_LOG:
                do_log(p, act.level, act.text);
                break;
            case PV_AGENT_ACT_PERSIST:
                do_persist(p);
                break;
            case PV_AGENT_ACT_REBOOT:
                p->reboot = true;
                break;
            }
        }
        uint64_t now = pv_phone_now(p);
        size_t nf = p->nfailed;
        p->nfailed = 0;
        for (size_t i = 0; i < nf; i++) {
            pv_agent_response r = {.error = p->failed[i].error};
            pv_agent_resolution res = {.error = p->failed[i].error};
            if (p->failed[i].lookup)
                pv_agent_resolve_done(p->agent, now, p->failed[i].id, &res);
            else
                pv_agent_fetch_done(p->agent, now, p->failed[i].id, &r);
            any = true;
        }
        if (p->reboot) {
            p->reboot = false;
            cancel_transfers(p); /* a rebooting phone drops its connections */
            pv_logf(PV_LOG_INFO, "phone.reboot", "mac=%s", pv_agent_mac(p->agent));
            pv_agent_boot(p->agent, now);
            set_time_of_day(p);
            any = true;
        }
        if (!any)
            break;
    }
    remember_result(p);
    p->draining = false;
    if (p->off) { /* switching off: the report upload is all that runs */
        if (pv_agent_shutdown_done(p->agent))
            power_off(p);
        return;
    }
    rearm(p);
}

void pv_phone_kick(pv_phone *p)
{
    drain(p);
}

int pv_phone_advance(pv_phone *p, uint64_t ms)
{
    if (!p->virtual_clock)
        return PV_ENOTSUP;
    p->advanced += ms;
    pv_agent_tick(p->agent, pv_phone_now(p));
    drain(p);
    return 0;
}

/* ---- identity and set-up ---- */

static int load_identity(pv_phone *p, const pv_phone_options *o, char *model, size_t msize,
                         char *mac, size_t macsize, pv_error *err)
{
    char *text = NULL;
    size_t len;
    int rc = pv_phone_read_file(p->state_dir, "identity", 4096, &text, &len, err);
    if (rc != 0 && rc != PV_ENOENT)
        return rc;
    char saved_model[64] = "", saved_mac[64] = "";
    if (rc == 0) {
        for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
            if (strncmp(line, "model=", 6) == 0)
                snprintf(saved_model, sizeof saved_model, "%s", line + 6);
            else if (strncmp(line, "mac=", 4) == 0)
                snprintf(saved_mac, sizeof saved_mac, "%s", line + 4);
        }
        free(text);
    }
    const char *want_mac = o->mac ? o->mac : saved_mac;
    if (*want_mac == '\0')
        return pv_error_set(err, PV_EINVAL,
                            "%s holds no phone yet: give its MAC address with --mac", p->state_dir);
    if (*saved_mac && o->mac && strcasecmp(saved_mac, o->mac) != 0)
        return pv_error_set(err, PV_ECONFLICT,
                            "%s belongs to the phone %s, not %s: use another --state-dir",
                            p->state_dir, saved_mac, o->mac);
    const char *want_model = o->model ? o->model : *saved_model ? saved_model : "CP-8841-3PCC";
    snprintf(model, msize, "%s", want_model);
    snprintf(mac, macsize, "%s", want_mac);
    if (*saved_mac == '\0' || strcmp(saved_model, want_model) != 0) {
        char buf[256];
        int n = snprintf(buf, sizeof buf, "model=%s\nmac=%s\n", model, mac);
        if (n < 0 || (size_t)n >= sizeof buf)
            return pv_error_set(err, PV_ETOOBIG, "model or MAC too long");
        return pv_phone_write_file(p->state_dir, "identity", buf, (size_t)n, err);
    }
    return 0;
}

static int load_state(pv_phone *p, pv_error *err)
{
    char *data = NULL;
    size_t len;
    int rc = pv_phone_read_file(p->state_dir, "state", (size_t)16 << 20, &data, &len, err);
    if (rc == PV_ENOENT)
        return 0; /* a phone out of the box */
    if (rc != 0)
        return rc;
    pv_error lerr;
    rc = pv_agent_load(p->agent, data, len, &lerr);
    free(data);
    if (rc != 0)
        return pv_error_set(err, rc, "%s/state: %s", p->state_dir, lerr.msg);
    return 0;
}

static uint64_t seed_from(const char *mac)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a: one phone, one behaviour */
    for (const char *c = mac; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    return h;
}

static int apply_dhcp_text(pv_phone *p, const char *text, pv_error *err)
{
    pv_dhcp_lease lease;
    int rc = pv_dhcp_lease_parse(text, &lease, err);
    if (rc != 0)
        return rc;
    pv_dhcp_lease_apply(&lease, p->agent);
    p->lease_ip = lease.ip[0] != '\0'; /* deconfig leaves none: the network is down */
    for (size_t i = 0; i < PV_DHCP_OPTIONS; i++)
        p->lease_ip |= lease.value[i][0] != '\0';
    return 0;
}

int pv_phone_reload_dhcp(pv_phone *p, pv_error *err)
{
    char *text;
    size_t len;
    int rc = pv_phone_read_file(p->state_dir, "dhcp", 65536, &text, &len, err);
    if (rc != 0)
        return rc;
    bool changed = p->dhcp_text == NULL || strcmp(p->dhcp_text, text) != 0;
    rc = apply_dhcp_text(p, text, err);
    if (rc != 0) {
        free(text);
        return rc;
    }
    free(p->dhcp_text);
    p->dhcp_text = text;
    if (changed && p->lease_ip) /* the network came up: spec 5.1 "resync at network connect" */
        pv_agent_network_up(p->agent, pv_phone_now(p));
    drain(p);
    return 0;
}

/* The SIP user agent's view of this phone (phone_sip.h). */
static pv_agent *sip_agent(void *data)
{
    return pv_phone_agent(data);
}

static uint64_t sip_now(void *data)
{
    return pv_phone_now(data);
}

static void sip_kick(void *data)
{
    pv_phone_kick(data);
}

static int start_web(pv_phone *p, const char *address, pv_error *err)
{
    p->webui = pv_webui_new(p);
    pv_http_server_options ho = {.address = address, .handler = pv_webui_handler(p->webui)};
    int rc = pv_http_server_new(p->loop, &ho, &p->web, err);
    if (rc != 0)
        return rc;
    p->web_address = pv_strdup(pv_http_server_address(p->web));
    return pv_phone_write_file(p->state_dir, "web", p->web_address, strlen(p->web_address), err);
}

static int setup(pv_phone *p, const pv_phone_options *o, pv_error *err)
{
    if (mkdir(p->state_dir, 0700) != 0 && errno != EEXIST)
        return pv_error_set(err, PV_EIO, "%s: %s", p->state_dir, strerror(errno));
    char model[64], mac[64];
    int rc = load_identity(p, o, model, sizeof model, mac, sizeof mac, err);
    if (rc != 0)
        return rc;
    pv_agent_family fam;
    if (pv_agent_family_parse(model, &fam) != 0)
        return pv_error_set(err, PV_EINVAL,
                            "unknown model %s: expected spa, mpp, ata or a model such as "
                            "SPA504G, CP-8841-3PCC, ATA191-MPP",
                            model);
    p->defs = pv_agent_defaults_new(fam);
    bool family_only = strcasecmp(model, pv_agent_family_name(fam)) == 0;
    pv_agent_identity id = {
        .mac = mac,
        .model = family_only ? NULL : model,
        .client_cert = o->cert_file != NULL,
        .any_key_digest = o->any_key_digest};
    rc = pv_agent_new(&p->agent, p->defs, &id, o->seed ? o->seed : seed_from(mac), err);
    if (rc != 0)
        return rc;
    if ((rc = load_state(p, err)) != 0)
        return rc;
    pv_agent_set_ip(p->agent, o->ip ? o->ip : "127.0.0.1", NULL);
    char *lease;
    size_t len;
    if (pv_phone_read_file(p->state_dir, "dhcp", 65536, &lease, &len, NULL) == 0) {
        if (apply_dhcp_text(p, lease, err) != 0)
            pv_logf(PV_LOG_WARN, "phone.dhcp", "error=\"%s\"", err->msg);
        p->dhcp_text = lease;
    }
    for (size_t i = 0; i < o->dhcp_count; i++) {
        if (pv_agent_set_dhcp_option(p->agent, o->dhcp[i].code, o->dhcp[i].value) != 0)
            return pv_error_set(err, PV_EINVAL,
                                "--dhcp-option %u: only 66, 150, 159 and 160 are used (spec 10)",
                                o->dhcp[i].code);
    }
    pv_fetcher_options fo;
    pv_fetcher_options_default(&fo);
    fo.ca_file = o->ca_file;
    fo.cert_file = o->cert_file;
    fo.key_file = o->key_file;
    fo.no_verify_host = o->no_verify_host;
    if ((rc = pv_fetcher_new(p->loop, &fo, &p->fetcher, err)) != 0)
        return rc;
    /* the phone looks names up itself, as a real one does before it connects: $SERVIP is an
     * address, a name's addresses are tried in turn, --srv follows SRV records (spec 1.1,
     * 1.2, 2.2) */
    pv_resolver_options ro = {.servers = o->dns_servers};
    if ((rc = pv_resolver_new(p->loop, &ro, &p->resolver, err)) != 0)
        return rc;
    pv_agent_set_host_resolves(p->agent, true);
    if (o->web_address != NULL && (rc = start_web(p, o->web_address, err)) != 0)
        return rc;
    if (o->sip_address != NULL) { /* spec 5.5: registration and NOTIFY */
        pv_phone_sip_host host = {.agent = sip_agent, .now = sip_now, .kick = sip_kick, .data = p};
        if ((rc = pv_phone_sip_new(&host, p->loop, o->sip_address, &p->sip, err)) != 0)
            return rc;
        const char *bound = pv_phone_sip_address(p->sip);
        if ((rc = pv_phone_write_file(p->state_dir, "sip", bound, strlen(bound), err)) != 0)
            return rc;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    return pv_phone_write_file(p->state_dir, "pid", pid, (size_t)n, err);
}

static void free_parts(pv_phone *p)
{
    pv_agent_free(p->agent);
    pv_agent_defaults_free(p->defs);
    if (p->webui != NULL)
        pv_webui_free(p->webui);
    free(p->state_dir);
    free(p->web_address);
    free(p->dhcp_text);
    pv_agent_challenge_clear(&p->challenge);
    free(p);
}

static void part_closed(void *data)
{
    pv_phone *p = data;
    if (--p->pending_closes > 0)
        return;
    void (*done)(void *) = p->done;
    void *dd = p->done_data;
    free_parts(p);
    if (done != NULL)
        done(dd);
}

static void handle_closed(uv_handle_t *h)
{
    part_closed(h->data);
}

int pv_phone_new(uv_loop_t *loop, const pv_phone_options *o, pv_phone **out, pv_error *err)
{
    if (o == NULL || o->state_dir == NULL)
        return pv_error_set(err, PV_EINVAL, "a phone needs a state directory (--state-dir)");
    pv_phone *p = pv_calloc(1, sizeof *p);
    p->loop = loop;
    p->state_dir = pv_strdup(o->state_dir);
    p->virtual_clock = o->virtual_clock;
    p->factor = o->virtual_clock && o->clock_factor > 0 ? o->clock_factor : 1.0;
    p->base_wall = wall_ms();
    p->base_mono = uv_hrtime() / 1000000;
    snprintf(p->last_result, sizeof p->last_result, "none yet");
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    p->syslog = pv_phone_syslog_new(loop);
    int rc = setup(p, o, err);
    if (rc != 0) {
        pv_phone_close(p, NULL, NULL);
        return rc;
    }
    *out = p;
    return 0;
}

void pv_phone_start(pv_phone *p)
{
    uint64_t now = pv_phone_now(p);
    pv_logf(PV_LOG_INFO, "phone.boot", "mac=%s model=%s state=%s swver=%s web=%s clock=%s",
            pv_agent_mac(p->agent), pv_agent_model(p->agent),
            pv_agent_prov_state_name(pv_agent_get_prov_state(p->agent)), pv_agent_swver(p->agent),
            p->web_address ? p->web_address : "-", p->virtual_clock ? "virtual" : "real");
    pv_agent_boot(p->agent, now);
    set_time_of_day(p);
    drain(p);
}

void pv_phone_close(pv_phone *p, void (*done)(void *data), void *data)
{
    p->done = done;
    p->done_data = data;
    cancel_transfers(p);
    p->pending_closes = 1; /* the timer */
    if (p->state_dir != NULL) {
        char path[4096];
        const char *names[] = {"web", "pid", "sip"};
        bool ran[] = {p->web != NULL, p->agent != NULL, p->sip != NULL};
        for (size_t i = 0; i < 3; i++) {
            int n = snprintf(path, sizeof path, "%s/%s", p->state_dir, names[i]);
            if (n > 0 && (size_t)n < sizeof path && ran[i])
                unlink(path);
        }
    }
    if (p->fetcher != NULL) {
        p->pending_closes++;
        pv_fetcher_close(p->fetcher, part_closed, p);
    }
    if (p->resolver != NULL) {
        p->pending_closes++;
        pv_resolver_close(p->resolver, part_closed, p); /* lookups answered: stale (above) */
    }
    if (p->web != NULL) {
        p->pending_closes++;
        pv_http_server_close(p->web, 0, part_closed, p);
    }
    if (p->sip != NULL) {
        p->pending_closes++;
        pv_phone_sip_close(p->sip, part_closed, p);
    }
    if (p->syslog != NULL) {
        p->pending_closes++;
        pv_phone_syslog_close(p->syslog, part_closed, p);
    }
    uv_close((uv_handle_t *)&p->timer, handle_closed);
}

static void power_off(pv_phone *p)
{
    p->off = false;
    pv_logf(PV_LOG_INFO, "phone.off", "mac=%s", pv_agent_mac(p->agent));
    pv_phone_close(p, p->off_done, p->off_data);
}

static void on_off_deadline(uv_timer_t *t)
{
    pv_phone *p = t->data;
    if (p->off) /* a phone losing power does not wait for a slow server */
        power_off(p);
}

void pv_phone_shutdown(pv_phone *p, unsigned timeout_ms, void (*done)(void *data), void *data)
{
    if (p->off)
        return;
    p->off = true;
    p->off_done = done;
    p->off_data = data;
    cancel_transfers(p); /* what ran is dropped; only the report goes out (spec 7.1) */
    pv_agent_shutdown(p->agent, pv_phone_now(p));
    uv_timer_start(&p->timer, on_off_deadline, timeout_ms, 0);
    drain(p); /* persists, starts the upload, or powers off at once */
}

pv_agent *pv_phone_agent(pv_phone *p)
{
    return p->agent;
}

const char *pv_phone_sip_bound(const pv_phone *p)
{
    return p->sip != NULL ? pv_phone_sip_address(p->sip) : NULL;
}

const char *pv_phone_web_address(const pv_phone *p)
{
    return p->web_address;
}

const char *pv_phone_last_result(const pv_phone *p)
{
    return p->last_result;
}
