/*
 * fleet.c — the fleet engine: phones, their schedule, requests, goals, and
 * the two clocks (see fleet.h).
 *
 * One loop drives everything. advance(now) toggles the scenario's outage,
 * then pops every phone due at or before now from the schedule and does
 * what it is due for: deliver a (virtual) answer, run the customer's
 * scenario action, or tick the agent; then takes the agent's actions
 * (drain). Each phone is rescheduled at the earliest of its agent's next
 * wake-up, its scenario action and its pending virtual answer.
 *
 * On the virtual clock, time jumps to the next due entry; requests are
 * answered by the vserver model after its computed delay. On the real clock,
 * one uv_timer is armed for the next due entry and requests go through the
 * fetcher; its callbacks deliver the answers. What a scenario makes of an
 * answer (bindings, reports, goals) is scenario.c's (fleet_int.h).
 */
#include "fleet/fleet.h"

#include "fleet/fleet_int.h"

#include "phone/fetch_request.h"
#include "core/alloc.h"
#include "fleet/fleet_sip.h"
#include "fleet/guard.h"
#include "fleet/progress.h"
#include "fleet/sched.h"
#include "net/fetch.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

/* ---- small helpers ---- */

void pv_fleet_config_default(pv_fleet_config *c)
{
    memset(c, 0, sizeof *c);
    c->phones = 100;
    c->seed = 1;
    c->mix.weight[PV_AGENT_MPP] = 1;
    c->mix.total = 1;
    c->plan.random_delay = -1;
    c->max_in_flight = 1000;
    c->firmware_size = 64 * 1024;
    c->timeout_ms = 60000;
    c->source_addresses = true;
    pv_vserver_model_default(&c->vmodel);
}

static const char *server_of(const pv_fleet *f, uint32_t i)
{
    return f->cfg.servers[i % f->cfg.nservers];
}

/* The scheme of a base URL ("https" of "https://host:port"). */
static bool scheme_is(const char *url, const char *scheme)
{
    size_t n = strlen(scheme);
    return strncmp(url, scheme, n) == 0 && strncmp(url + n, "://", 3) == 0;
}

/* ---- schedule ---- */

static void reschedule(pv_fleet *f, uint32_t i)
{
    pv__phone *p = &f->phone[i];
    if (p->flags & PH_DEAD) {
        pv_fleet_sched_set(&f->sched, i, NEVER);
        return;
    }
    uint64_t t = pv_agent_next_wakeup(p->agent);
    if (p->kick_ms < t)
        t = p->kick_ms;
    if (p->answer_ms < t)
        t = p->answer_ms;
    /* whatever is due now was just done: never spin on one instant */
    if (t != NEVER && t <= f->now_ms)
        t = f->now_ms + 1;
    pv_fleet_sched_set(&f->sched, i, t);
}

/* ---- requests ---- */

static void drain(pv_fleet *f, uint32_t i);
static void deliver(pv_fleet *f, uint32_t i, const pv_agent_response *r, uint64_t latency_us);

static uint64_t real_ns(void)
{
    return uv_hrtime();
}

static void arm(pv_fleet *f);

static void on_fetch(pv_fetch *fetch, const pv_fetch_result *res, void *data)
{
    const fetch_ctx *c = data;
    pv_fleet *f = c->f;
    uint32_t i = c->phone;
    f->now_ms = (real_ns() - f->t0_ns) / 1000000;
    pv_agent_response r;
    pv_agent_response_from_fetch(res, &r);
    pv_buf corrupt = {0};
    if (f->phone[i].purpose == PV_AGENT_FOR_FIRMWARE && r.error == 0 && r.status == 200 &&
        r.body_len > 0 && f->plan.fault == PV_FAULT_VERIFY &&
        pv_fleet_plan_hurts(&f->plan, f->cfg.seed, i)) {
        /* rollout-bad: the image this phone gets fails its verification */
        pv_buf_append(&corrupt, r.body, r.body_len);
        corrupt.data[corrupt.len - 1] ^= 0x5a;
        r.body = corrupt.data;
    }
    if (res->status == 401 && res->www_authenticate != NULL) { /* spec 8.2: answered next */
        if (f->phone[i].chal == NULL)
            f->phone[i].chal = pv_calloc(1, sizeof *f->phone[i].chal);
        pv_agent_challenge_note(f->phone[i].chal, res->url, res);
    }
    deliver(f, i, &r, (real_ns() - f->phone[i].req_ns) / 1000);
    pv_buf_free(&corrupt);
    arm(f);
}

/* Answers the request later through the schedule (virtual clock, outage, local failure). */
static void answer_later(pv_fleet *f, uint32_t i, int error, int status, uint64_t delay_us)
{
    pv__phone *p = &f->phone[i];
    p->verror = (int16_t)(error < -32000 ? -32000 : error);
    p->vstatus = (uint16_t)status;
    p->answer_ms = f->now_ms + (delay_us + 999) / 1000;
    delay_us += (f->now_ms - p->req_ms) * 1000; /* the latency includes the fleet's queue */
    p->vdelay_us = delay_us > UINT32_MAX ? UINT32_MAX : (uint32_t)delay_us;
}

static void cert_path(const pv_fleet *f, uint32_t i, char *out, size_t size)
{
    uint32_t who = f->cfg.cert_pool ? i % f->cfg.cert_pool : i;
    pv_fleet_ident id;
    pv_fleet_ident_make(f->cfg.seed, who, &f->cfg.mix, &id);
    int n = snprintf(out, size, "%s/%s.pem", f->cfg.certs_dir, id.mac);
    if (n < 0 || (size_t)n >= size)
        out[0] = '\0'; /* too long a directory: no certificate, the server will say so */
}

static void start_request(pv_fleet *f, uint32_t i, const pv_agent_action *act)
{
    pv__phone *p = &f->phone[i];
    if (!(p->flags & PH_WAITING)) {
        p->req_ms = (uint32_t)f->now_ms;
        p->req_ns = real_ns();
    }
    p->flags = (uint8_t)((p->flags & ~PH_WAITING) | PH_IN_FLIGHT);
    p->req_id = act->id;
    p->purpose = (uint8_t)act->purpose;
    f->in_flight++;
    pv_fleet_stats_request(&f->stats, p->req_ms);
    if (f->outage) { /* the run's outage: refused at the fleet's edge, at once */
        answer_later(f, i, PV_ECONN, 0, 100);
        return;
    }
    if (f->cfg.virtual_clock) {
        pv_vserver_answer a;
        pv_vserver_request(&f->vs, f->now_ms * 1000, act->scheme, act->path, &a);
        answer_later(f, i, a.error, a.status, a.delay_us);
        f->phone[i].vkind = a.kind;
        f->phone[i].vindex = a.index;
        return;
    }
    char cert[4096] = "", source[16] = "";
    if (act->client_cert && f->cfg.certs_dir != NULL)
        cert_path(f, i, cert, sizeof cert);
    if (f->cfg.source_addresses)
        pv_fleet_source_address(i, source, sizeof source);
    pv_fetch_request rq;
    pv_agent_fetch_request(act, p->chal, 0, &rq);
    rq.client_cert = act->client_cert && cert[0] != '\0';
    rq.cert_file = cert[0] ? cert : NULL;
    rq.local_address = source[0] ? source : NULL;
    pv_error err;
    if (pv_fetch_start(f->fetcher, &rq, on_fetch, &f->ctx[i], NULL, &err) != 0)
        answer_later(f, i, PV_EINVAL, 0, 0);
}

static void wait_push(pv_fleet *f, uint32_t i)
{
    pv__phone *p = &f->phone[i];
    if (!(p->flags & PH_WAITING)) {
        p->flags |= PH_WAITING;
        p->req_ms = (uint32_t)f->now_ms; /* the wait counts in the latency (no coordinated
                                            omission) */
        p->req_ns = real_ns();
    }
    if (p->flags & PH_QUEUED)
        return;
    p->flags |= PH_QUEUED;
    f->wait[(f->wait_head + f->wait_len) % f->cfg.phones] = i;
    f->wait_len++;
}

static void wait_release(pv_fleet *f)
{
    while (f->wait_len > 0 && f->in_flight < f->cfg.max_in_flight) {
        uint32_t j = f->wait[f->wait_head];
        f->wait_head = (f->wait_head + 1) % f->cfg.phones;
        f->wait_len--;
        f->phone[j].flags &= (uint8_t)~PH_QUEUED;
        drain(f, j);
        reschedule(f, j);
    }
}

static const char *cause_of(const pv_agent_response *r, char *buf, size_t size)
{
    if (r->error < 0) {
        switch (r->error) {
        case PV_ECONN:
            return "connect";
        case PV_ETIMEDOUT:
            return "timeout";
        case PV_EPROTO:
            return "protocol or tls";
        default: {
            const char *name = pv_err_name(r->error);
            size_t n = 0;
            for (; name[n] != '\0' && n + 1 < size; n++)
                buf[n] = (char)tolower((unsigned char)name[n]);
            buf[n] = '\0';
            return buf;
        }
        }
    }
    if (r->status >= 400) {
        snprintf(buf, size, "http %d", r->status); /* at most 8 bytes */
        return buf;
    }
    return NULL;
}

static void deliver(pv_fleet *f, uint32_t i, const pv_agent_response *r, uint64_t latency_us)
{
    pv__phone *p = &f->phone[i];
    if (!(p->flags & PH_IN_FLIGHT))
        return;
    p->flags &= (uint8_t)~PH_IN_FLIGHT;
    f->in_flight--;
    char buf[40];
    pv_fleet_stats_done(&f->stats, p->req_ms, f->now_ms, latency_us, cause_of(r, buf, sizeof buf));
    pv_agent_fetch_done(p->agent, f->now_ms, p->req_id, r);
    drain(f, i);
    if (!(p->flags & PH_IN_FLIGHT))
        pv__fleet_op_ended(f, i, r);
    if (f->plan.report_after_upgrade && p->purpose == PV_AGENT_FOR_FIRMWARE &&
        p->kick_ms == NEVER)
        p->kick_ms = f->now_ms + REPORT_RETRY_MS; /* the provider asks how the upgrade went */
    reschedule(f, i);
    wait_release(f);
}

/* Delivers the pending virtual answer of phone i; its body is made now (vserver.h). */
static void deliver_virtual(pv_fleet *f, uint32_t i)
{
    pv__phone *p = &f->phone[i];
    p->answer_ms = NEVER;
    pv_agent_response r = {.error = p->verror, .status = p->vstatus};
    pv_buf body = {0};
    if (r.error == 0 && r.status == 200 &&
        pv_vserver_body(&f->vs, p->vkind, p->vindex, server_of(f, i), &body) != 0)
        r.status = 500;
    r.body = body.data;
    r.body_len = body.len;
    deliver(f, i, &r, p->vdelay_us);
    pv_buf_free(&body);
}

static void take_action(pv_fleet *f, uint32_t i, const pv_agent_action *act)
{
    pv__phone *p = &f->phone[i];
    switch (act->kind) {
    case PV_AGENT_ACT_FETCH:
    case PV_AGENT_ACT_UPLOAD:
        if (p->flags & PH_IN_FLIGHT) { /* one operation at a time: cannot happen */
            pv_agent_response busy = {.error = PV_EBUSY};
            pv_agent_fetch_done(p->agent, f->now_ms, act->id, &busy);
            return;
        }
        start_request(f, i, act);
        return;
    case PV_AGENT_ACT_REBOOT:
        if (f->plan.fault == PV_FAULT_BRICK && pv_fleet_plan_hurts(&f->plan, f->cfg.seed, i)) {
            p->flags |= PH_DEAD; /* rollout-bad: the new load never boots */
            return;
        }
        pv_agent_boot(p->agent, f->now_ms);
        pv_agent_set_time_of_day(p->agent, f->now_ms,
                                 (uint32_t)((f->plan.time_of_day_ms + f->now_ms) % DAY_MS));
        pv__fleet_check_goal(f, i); /* a new load runs after the reboot */
        return;
    default: /* LOG and PERSIST: a simulated phone keeps no disk and no syslog */
        return;
    }
}

static void drain(pv_fleet *f, uint32_t i)
{
    pv__phone *p = &f->phone[i];
    pv_agent_action act;
    for (;;) {
        if (p->flags & PH_DEAD)
            return;
        if (!(p->flags & PH_IN_FLIGHT) && f->in_flight >= f->cfg.max_in_flight) {
            wait_push(f, i); /* the action stays in the agent's queue until a slot frees */
            return;
        }
        if (!pv_agent_next_action(p->agent, &act)) {
            p->flags &= (uint8_t)~PH_WAITING; /* nothing was waiting after all */
            return;
        }
        take_action(f, i, &act);
    }
}

void pv__fleet_drain(pv_fleet *f, uint32_t i)
{
    drain(f, i);
}

const char *pv__fleet_server(const pv_fleet *f, uint32_t i)
{
    return server_of(f, i);
}

/* ---- the clock-independent core ---- */

static void process(pv_fleet *f, uint32_t i)
{
    pv__phone *p = &f->phone[i];
    if (p->flags & PH_DEAD) {
        reschedule(f, i);
        return;
    }
    if (p->answer_ms <= f->now_ms)
        deliver_virtual(f, i);
    if (p->kick_ms <= f->now_ms)
        pv__fleet_kick(f, i);
    if (pv_agent_next_wakeup(p->agent) <= f->now_ms)
        pv_agent_tick(p->agent, f->now_ms);
    if (!(p->flags & PH_QUEUED))
        drain(f, i);
    reschedule(f, i);
}

static void set_outage(pv_fleet *f, bool down)
{
    f->outage = down;
    f->vs.down = false; /* the fleet's edge refuses; the model never sees those requests */
}

static void check_done(pv_fleet *f)
{
    if (f->done)
        return;
    if (f->plan.stop_at_goal && f->stats.reached == f->cfg.phones) {
        f->done = true;
        f->sum.stopped_by = "goal";
    } else if (f->now_ms >= f->plan.duration_ms) {
        f->done = true;
        f->sum.stopped_by = "duration";
    }
}

static void advance(pv_fleet *f)
{
    uint64_t now = f->now_ms;
    if (!f->outage && !f->outage_done && f->plan.outage_end_ms > f->plan.outage_begin_ms &&
        now >= f->plan.outage_begin_ms)
        set_outage(f, true);
    if (f->outage && now >= f->plan.outage_end_ms) {
        set_outage(f, false);
        f->outage_done = true;
    }
    uint32_t i;
    uint64_t when;
    while (pv_fleet_sched_pop_due(&f->sched, now, &i, &when))
        process(f, i);
    check_done(f);
}

static uint64_t next_time(const pv_fleet *f)
{
    uint64_t t = pv_fleet_sched_next(&f->sched);
    uint64_t toggle = !f->outage && !f->outage_done ? f->plan.outage_begin_ms
                      : f->outage                   ? f->plan.outage_end_ms
                                                    : NEVER;
    if (f->plan.outage_end_ms > f->plan.outage_begin_ms && toggle < t)
        t = toggle;
    if (f->plan.duration_ms < t)
        t = f->plan.duration_ms;
    return t < f->now_ms ? f->now_ms : t;
}

static void boot_all(pv_fleet *f)
{
    for (uint32_t i = 0; i < f->cfg.phones; i++) {
        pv__phone *p = &f->phone[i];
        pv_agent_boot(p->agent, 0);
        pv_agent_set_time_of_day(p->agent, 0, f->plan.time_of_day_ms);
        p->kick_ms = pv_fleet_plan_kick_ms(&f->plan, f->cfg.seed, i);
        if (f->plan.await_sec_prv_1)
            p->flags |= PH_BINDING;
        drain(f, i);
        reschedule(f, i);
    }
}

static void run_virtual(pv_fleet *f)
{
    boot_all(f);
    while (!f->done) {
        f->now_ms = next_time(f);
        advance(f);
    }
}

/* ---- the real clock ---- */

static void stop_real(pv_fleet *f)
{
    uv_timer_stop(&f->wake);
    uv_timer_stop(&f->tick);
    uv_signal_stop(&f->sigint);
    if (f->cfg.progress && !f->cfg.progress_lines)
        fputc('\n', stderr);
    pv_fetcher_stats fs;
    pv_fetcher_stats_get(f->fetcher, &fs);
    f->sum.connections = fs.connections;
    pv_fetcher_close(f->fetcher, NULL, NULL);
    f->fetcher = NULL;
    if (f->sip != NULL) {
        f->sum.sip_registered = pv_fleet_sip_registered(f->sip);
        for (uint32_t i = 0; i < f->cfg.phones; i++)
            f->sum.sip_notified += f->phone[i].pushes > 0;
        pv_fleet_sip_close(f->sip, NULL, NULL);
        f->sip = NULL;
    }
    uv_close((uv_handle_t *)&f->wake, NULL);
    uv_close((uv_handle_t *)&f->tick, NULL);
    uv_close((uv_handle_t *)&f->sigint, NULL);
}

static void on_wake(uv_timer_t *t)
{
    pv_fleet *f = t->data;
    f->now_ms = (real_ns() - f->t0_ns) / 1000000;
    advance(f);
    arm(f);
}

static void arm(pv_fleet *f)
{
    if (f->fetcher == NULL)
        return;    /* stopping */
    check_done(f); /* an answer may have brought the last phone to the goal */
    if (f->done) {
        stop_real(f);
        return;
    }
    uint64_t now = (real_ns() - f->t0_ns) / 1000000;
    uint64_t t = next_time(f);
    uv_timer_start(&f->wake, on_wake, t > now ? t - now : 0, 0);
}

static void on_tick(uv_timer_t *t)
{
    pv_fleet *f = t->data;
    char line[200];
    pv_fleet_progress_line(&f->progress, &f->stats, (real_ns() - f->t0_ns) / 1000000, f->wait_len,
                           line, sizeof line);
    if (f->cfg.progress_lines) /* a log or a pipe: lines, no redrawing */
        fprintf(stderr, "%s\n", line);
    else
        fprintf(stderr, "\r%s\033[K", line);
}

static void on_sigint(uv_signal_t *s, int signum)
{
    pv_fleet *f = s->data;
    f->done = true;
    f->sum.stopped_by = "signal";
    f->sum.interrupted = true;
    arm(f);
}

/* ---- SIP (fleet_sip.h): the phones' user agents tell the fleet what they did ---- */

static pv_agent *sip_agent(void *data, uint32_t i)
{
    return ((pv_fleet *)data)->phone[i].agent;
}

static uint64_t sip_now(void *data)
{
    pv_fleet *f = data;
    return (real_ns() - f->t0_ns) / 1000000;
}

static void sip_kick(void *data, uint32_t i)
{
    pv_fleet *f = data;
    if (f->fetcher == NULL)
        return; /* stopping */
    f->now_ms = sip_now(f);
    if (!(f->phone[i].flags & PH_QUEUED))
        drain(f, i);
    reschedule(f, i); /* a NOTIFY made a resync due now: the schedule runs it */
    arm(f);
}

static void sip_notified(void *data, uint32_t i)
{
    pv_fleet *f = data;
    f->phone[i].flags |= PH_NOTIFIED;
}

static int run_real(pv_fleet *f, pv_error *err)
{
    int rc = uv_loop_init(&f->loop);
    if (rc != 0)
        return pv_error_set(err, PV_EIO, "event loop: %s", uv_strerror(rc));
    pv_fetcher_options o;
    pv_fetcher_options_default(&o);
    o.ca_file = f->cfg.ca_file;
    o.tls_cache = true; /* ~1 ms CPU per connection less: files parsed once (fetch.h) */
    /* the native engine: one SSL_CTX, no libcurl per connection (docs/fleet.md) */
    o.engine = f->cfg.curl_fetcher ? PV_FETCH_ENGINE_CURL : PV_FETCH_ENGINE_NATIVE;
    o.timeout_ms = f->cfg.timeout_ms;
    o.max_body = f->cfg.firmware_size + 4096 > ((size_t)1 << 20) ? f->cfg.firmware_size + 4096
                                                                 : (size_t)1 << 20;
    rc = pv_fetcher_new(&f->loop, &o, &f->fetcher, err);
    if (rc != 0) {
        uv_loop_close(&f->loop);
        return rc;
    }
    if (f->cfg.sip_port != 0) {
        pv_fleet_sip_hooks hooks = {.agent = sip_agent,
                                    .now = sip_now,
                                    .kick = sip_kick,
                                    .notified = sip_notified,
                                    .data = f};
        rc = pv_fleet_sip_new(&f->loop, f->cfg.phones, f->cfg.sip_port, &hooks, &f->sip, err);
        if (rc != 0) {
            pv_fetcher_close(f->fetcher, NULL, NULL);
            f->fetcher = NULL;
            uv_run(&f->loop, UV_RUN_DEFAULT); /* the sockets made finish closing */
            uv_loop_close(&f->loop);
            return rc;
        }
    }
    f->ctx = pv_reallocarray(NULL, f->cfg.phones, sizeof *f->ctx);
    for (uint32_t i = 0; i < f->cfg.phones; i++)
        f->ctx[i] = (fetch_ctx){f, i};
    uv_timer_init(&f->loop, &f->wake);
    uv_timer_init(&f->loop, &f->tick);
    uv_signal_init(&f->loop, &f->sigint);
    f->wake.data = f->tick.data = f->sigint.data = f;
    uv_signal_start(&f->sigint, on_sigint, SIGINT);
    if (f->cfg.progress)
        uv_timer_start(&f->tick, on_tick, f->cfg.progress_lines ? 5000 : 1000,
                       f->cfg.progress_lines ? 5000 : 1000);
    f->t0_ns = real_ns();
    boot_all(f);
    arm(f);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    /* requests still in flight at the end are neither answered nor failed: not counted */
    f->stats.in_flight = 0;
    rc = uv_loop_close(&f->loop);
    if (rc != 0)
        return pv_error_set(err, PV_EIO, "event loop did not close: %s", uv_strerror(rc));
    return 0;
}

/* ---- setup ---- */

static int check_config(const pv_fleet_config *c, pv_error *err)
{
    if (c->scenario == NULL)
        return pv_error_set(err, PV_EINVAL, "no scenario");
    if (c->phones == 0 || c->phones > PV_FLEET_MAX_PHONES)
        return pv_error_set(err, PV_ERANGE, "--phones %u: 1..%u", c->phones, PV_FLEET_MAX_PHONES);
    if (c->nservers == 0)
        return pv_error_set(err, PV_EINVAL, "no --server URL");
    for (size_t s = 0; s < c->nservers; s++) {
        const char *u = c->servers[s];
        if (!scheme_is(u, "http") && !scheme_is(u, "https") && !scheme_is(u, "tftp"))
            return pv_error_set(err, PV_ESYNTAX,
                                "server '%s': expected http://, https:// or tftp://HOST:PORT", u);
        if (strchr(strstr(u, "://") + 3, '/') != NULL)
            return pv_error_set(err, PV_ESYNTAX,
                                "server '%s': give scheme://host:port only, without a path", u);
        /* issue 6: loopback or a test namespace only, virtual or not (a config may be reused) */
        int rc = pv_fleet_guard_url(u, err);
        if (rc != 0)
            return rc;
    }
    if (c->sip_port != 0 && (c->virtual_clock || !c->source_addresses))
        return pv_error_set(err, PV_EINVAL,
                            "--sip: phones on real SIP need the real clock and their own source "
                            "addresses (no --virtual, --source-addresses on)");
    if (c->scenario->kind == PV_SCN_PUSH && c->sip_port == 0)
        return pv_error_set(err, PV_EINVAL,
                            "scenario push: the phones need SIP: give --sip PORT (the server's "
                            "SIP_Port_1_)");
    if (c->certs_dir != NULL && access(c->certs_dir, R_OK | X_OK) != 0)
        return pv_error_set(err, PV_ENOENT, "--certs %s: not a readable directory", c->certs_dir);
    return 0;
}

int pv_fleet_new(pv_fleet **out, const pv_fleet_config *cfg, pv_error *err)
{
    *out = NULL;
    int rc = check_config(cfg, err);
    if (rc != 0)
        return rc;
    pv_fleet *f = pv_calloc(1, sizeof *f);
    f->cfg = *cfg;
    if (f->cfg.max_in_flight == 0)
        f->cfg.max_in_flight = 1000;
    if (f->cfg.firmware_size == 0)
        f->cfg.firmware_size = 64 * 1024;
    if (f->cfg.timeout_ms == 0)
        f->cfg.timeout_ms = 60000;
    rc = pv_fleet_plan_make(cfg->scenario, &cfg->plan, &f->plan, err);
    if (rc != 0) {
        free(f);
        return rc;
    }
    double t0 = uv_hrtime() / 1e9;
    f->sum.rss_before = pv_fleet_rss();
    pv_fleet_stats_init(&f->stats, cfg->phones, f->plan.duration_ms);
    for (size_t k = 0; k < f->plan.nphases; k++)
        pv_fleet_stats_phase(&f->stats, f->plan.phase[k].name, f->plan.phase[k].start_ms);
    pv_vserver_init(&f->vs, &cfg->vmodel, cfg->seed, &cfg->mix, f->cfg.firmware_size);
    pv_fleet_sched_init(&f->sched, cfg->phones);
    f->wait = pv_reallocarray(NULL, cfg->phones, sizeof *f->wait);
    f->phone = pv_reallocarray(NULL, cfg->phones, sizeof *f->phone);
    pv_buf xml = {0};
    for (uint32_t i = 0; i < cfg->phones && rc == 0; i++) {
        pv_fleet_ident id;
        pv_fleet_ident_make(cfg->seed, i, &cfg->mix, &id);
        if (f->defs[id.family] == NULL)
            f->defs[id.family] = pv_agent_defaults_new(id.family);
        pv__phone *p = &f->phone[i];
        memset(p, 0, sizeof *p);
        p->kick_ms = p->answer_ms = NEVER;
        pv_agent_identity ident = {
            .mac = id.mac, .serial = id.serial, .client_cert = cfg->certs_dir != NULL};
        rc = pv_agent_new(&p->agent, f->defs[id.family], &ident, cfg->seed ^ (i * 0x9e3779b9ull),
                          err);
        if (rc != 0) {
            f->cfg.phones = i; /* free what was made */
            break;
        }
        pv_buf_reset(&xml);
        pv_fleet_plan_config(&f->plan, &id, server_of(f, i), &xml);
        if (xml.len > 0)
            rc = pv_agent_apply_config(p->agent, 0, PV_AGENT_ADMIN, xml.data, xml.len, err);
        pv_agent_action act;
        while (pv_agent_next_action(p->agent, &act))
            ; /* PERSIST of the starting configuration: nothing to write */
        if (rc != 0)
            f->cfg.phones = i + 1;
    }
    pv_buf_free(&xml);
    if (rc != 0) {
        pv_fleet_free(f);
        return rc;
    }
    f->sum.rss_phones = pv_fleet_rss();
    f->sum.setup_s = uv_hrtime() / 1e9 - t0;
    *out = f;
    return 0;
}

int pv_fleet_run(pv_fleet *f, pv_error *err)
{
    double w0 = uv_hrtime() / 1e9, c0 = pv_fleet_cpu_seconds();
    int rc = 0;
    if (f->cfg.virtual_clock)
        run_virtual(f);
    else
        rc = run_real(f, err);
    f->sum.wall_s = uv_hrtime() / 1e9 - w0;
    f->sum.cpu_s = pv_fleet_cpu_seconds() - c0;
    f->sum.scenario_ms = f->now_ms;
    f->stats.end_ms = f->now_ms;
    f->sum.goal_all = f->stats.reached == f->cfg.phones;
    f->sum.rss_end = pv_fleet_rss();
    f->sum.rss_peak = pv_fleet_rss_peak();
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < f->cfg.phones; i++)
        bytes += pv_agent_memory(f->phone[i].agent);
    f->sum.agent_bytes = bytes;
    return rc;
}

const pv_fleet_stats *pv_fleet_get_stats(const pv_fleet *f)
{
    return &f->stats;
}

const pv_fleet_plan *pv_fleet_get_plan(const pv_fleet *f)
{
    return &f->plan;
}

const pv_fleet_config *pv_fleet_get_config(const pv_fleet *f)
{
    return &f->cfg;
}

const pv_fleet_summary *pv_fleet_get_summary(const pv_fleet *f)
{
    return &f->sum;
}

void pv_fleet_prov_states(const pv_fleet *f, uint32_t counts[4])
{
    memset(counts, 0, 4 * sizeof counts[0]);
    for (uint32_t i = 0; i < f->cfg.phones; i++) {
        pv_agent_prov_state s = pv_agent_get_prov_state(f->phone[i].agent);
        if ((unsigned)s < 4)
            counts[s]++;
    }
}

void pv_fleet_free(pv_fleet *f)
{
    if (f == NULL)
        return;
    for (uint32_t i = 0; i < f->cfg.phones; i++) {
        pv_agent_free(f->phone[i].agent);
        if (f->phone[i].chal != NULL)
            pv_agent_challenge_clear(f->phone[i].chal);
        free(f->phone[i].chal);
    }
    for (int k = 0; k < 4; k++)
        pv_agent_defaults_free(f->defs[k]);
    free(f->phone);
    free(f->wait);
    free(f->ctx);
    pv_fleet_sched_free(&f->sched);
    pv_fleet_stats_free(&f->stats);
    free(f);
}
