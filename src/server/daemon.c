/* daemon.c — loop threads and listeners: setup, the loops' timers, the drain; see daemon.h.
 * The control thread (signals, reload, watchdog) is daemon_control.c. */
#include "server/daemon_int.h"

#include "core/alloc.h"
#include "core/log.h"
#include "net/fileserver.h"
#include "net/http_server.h"
#include "net/metrics.h"
#include "net/tftp_server.h"
#include "net/tls.h"
#include "server/admin.h"
#include "server/portal.h"
#include "server/api.h"
#include "server/datadir.h"
#include "server/job_metrics.h"
#include "server/provision.h"
#include "server/rates.h"
#include "server/sd_notify.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

/* ---- on the loop threads ---- */

static void server_closed(void *data)
{
    worker *w = data;
    if (--w->closing == 0)
        uv_close((uv_handle_t *)&w->wake, NULL); /* the loop has nothing left: uv_run returns */
}

static void timer_closed(uv_handle_t *h)
{
    server_closed(h->data);
}

static void on_rollouts(uv_timer_t *t)
{
    worker *w = t->data;
    pv_api_tick_rollouts(w->d->admin.api);
}

static void on_rates(uv_timer_t *t)
{
    worker *w = t->data;
    int64_t now = (int64_t)time(NULL);
    pv_rates_sample(now);
    if (w->d->admin.api != NULL)
        pv_api_fold_counts(w->d->admin.api, now);
}

/* A CSV import job's slices: the next one once the loop has polled its sockets, a look for a
 * new job every second when none runs, and a pause after a store failure. The next slice is
 * 1 ms away, not 0: libuv (1.44) runs a timer re-armed with 0 ms from its own callback again
 * in the same pass over the timers, before any socket is polled, so a 0 ms chain would run the
 * whole import without answering anyone (bench/import_job.sh saw a /healthz wait 18 s). */
#define IMPORT_NEXT_MS 1
#define IMPORT_IDLE_MS 1000
#define IMPORT_RETRY_MS 5000

static void on_imports(uv_timer_t *t)
{
    worker *w = t->data;
    int rc = pv_api_import_step(w->d->admin.api);
    uv_timer_start(t, on_imports,
                   rc > 0 ? IMPORT_NEXT_MS : rc == 0 ? IMPORT_IDLE_MS : IMPORT_RETRY_MS, 0);
}

/* A job uploaded to this node: its first slice once the loop has answered the upload. */
static void kick_imports(void *data)
{
    worker *w = data;
    if (w->imports_on)
        uv_timer_start(&w->imports, on_imports, IMPORT_NEXT_MS, 0);
}

/* ---- the NOTIFY after a binding: provisioning loops → the admin loop ---- */

#define BOUND_QUEUE_MAX 100000 /* a burst beyond this many waiting devices gets no NOTIFY */
#define BOUND_BATCH_MS 1000

/* Queues mac (d->lock held); false when the queue is full. */
static bool queue_bound(pv_daemon *d, const char *mac)
{
    if (d->nbound >= BOUND_QUEUE_MAX)
        return false;
    if (d->nbound == d->cap_bound) {
        d->cap_bound = d->cap_bound ? d->cap_bound * 2 : 64;
        d->bound = pv_reallocarray(d->bound, d->cap_bound, sizeof *d->bound);
    }
    snprintf(d->bound[d->nbound++], sizeof d->bound[0], "%s", mac);
    return true;
}

/* On a provisioning loop's thread (provision.h). */
static void on_configured(void *data, const char *mac)
{
    pv_daemon *d = data;
    uv_mutex_lock(&d->lock);
    if (d->bound_open && queue_bound(d, mac))
        uv_async_send(&d->workers[0].bound); /* under the lock: never after its close */
    uv_mutex_unlock(&d->lock);
}

/* On the admin loop: every device queued so far, in one job; while the notifier has no room
 * for a job they wait for the next batch. */
static void on_bound_batch(uv_timer_t *t)
{
    worker *w = t->data;
    pv_daemon *d = w->d;
    uv_mutex_lock(&d->lock);
    char(*macs)[13] = d->bound;
    size_t n = d->nbound;
    d->bound = NULL;
    d->nbound = d->cap_bound = 0;
    uv_mutex_unlock(&d->lock);
    if (n > 0 && pv_api_after_binding(d->admin.api, (const char(*)[13])macs, n) == PV_EBUSY) {
        uv_mutex_lock(&d->lock);
        for (size_t i = 0; i < n && queue_bound(d, macs[i]); i++)
            ;
        uv_mutex_unlock(&d->lock);
        uv_timer_start(&w->bound_batch, on_bound_batch, BOUND_BATCH_MS, 0);
    }
    free(macs);
}

/* A binding gathered: the batch goes out BOUND_BATCH_MS after its first device (a launch day's
 * bindings make one job a second, not one each: PV_NOTIFIER_JOBS run at once). */
static void on_bound(uv_async_t *a)
{
    worker *w = a->data;
    if (!uv_is_active((uv_handle_t *)&w->bound_batch))
        uv_timer_start(&w->bound_batch, on_bound_batch, BOUND_BATCH_MS, 0);
}

static void start_drain(worker *w)
{
    w->draining = true;
    unsigned timeout = atomic_load(&w->d->drain_timeout_ms);
    w->closing = 1; /* held until every close below is started */
    if (w->tftp != NULL) {
        w->closing++;
        pv_tftp_server_close(w->tftp, timeout, server_closed, w);
    }
    pv_http_server *https[] = {w->http, w->https, w->admin, w->portal};
    for (size_t i = 0; i < 4; i++) {
        if (https[i] != NULL) {
            w->closing++;
            pv_http_server_close(https[i], timeout, server_closed, w);
        }
    }
    if (w->notifier != NULL) {
        w->closing++;
        pv_api_set_notifier(w->d->admin.api, NULL);
        if (w->d->portal != NULL)
            pv_portal_set_notifier(w->d->portal, NULL);
        pv_notifier_close(w->notifier, server_closed, w);
    }
    if (w->rollouts_on) {
        w->closing++;
        uv_close((uv_handle_t *)&w->rollouts, timer_closed);
        w->rollouts_on = false;
    }
    if (w->rates_on) {
        w->closing++;
        uv_close((uv_handle_t *)&w->rates, timer_closed);
        w->rates_on = false;
    }
    if (w->imports_on) { /* a running job stays running in the store: the next start resumes it */
        w->closing++;
        uv_close((uv_handle_t *)&w->imports, timer_closed);
        w->imports_on = false;
    }
    if (w->bound_on) {
        uv_mutex_lock(&w->d->lock);
        w->d->bound_open = false;
        uv_mutex_unlock(&w->d->lock);
        w->closing += 2;
        uv_close((uv_handle_t *)&w->bound, timer_closed);
        uv_close((uv_handle_t *)&w->bound_batch, timer_closed);
        w->bound_on = false;
    }
    w->tftp = NULL;
    w->http = w->https = w->admin = w->portal = NULL;
    w->notifier = NULL;
    server_closed(w);
}

static void apply_limits(worker *w)
{
    pv_tftp_limits tftp;
    pv_http_limits http;
    uv_mutex_lock(&w->d->lock);
    tftp = w->d->tftp_limits;
    http = w->d->http_limits;
    w->limits_gen = atomic_load(&w->d->limits_gen);
    uv_mutex_unlock(&w->d->lock);
    if (w->tftp != NULL)
        pv_tftp_server_set_limits(w->tftp, &tftp);
    if (w->http != NULL)
        pv_http_server_set_limits(w->http, &http);
    if (w->https != NULL)
        pv_http_server_set_limits(w->https, &http);
}

static void on_wake(uv_async_t *handle)
{
    worker *w = handle->data;
    /* Any wake answers the watchdog's ping: this loop turns. */
    atomic_store(&w->alive_gen, atomic_load(&w->d->ping_gen));
    if (w->draining)
        return;
    if (atomic_load(&w->d->stopping))
        start_drain(w);
    else if (w->limits_gen != atomic_load(&w->d->limits_gen))
        apply_limits(w);
}

static void worker_main(void *arg)
{
    worker *w = arg;
    pv_metrics_set_loop(w->index + 1);
    uv_run(&w->loop, UV_RUN_DEFAULT);
}

/* provisor_certificate_expiry_timestamp_seconds: read at start and on every reload, so an
 * alert sees a renewed certificate as soon as the server does. */
void pv__daemon_export_certificates(const pv_config *cfg)
{
    char ca[4096];
    snprintf(ca, sizeof ca, "%s/%s", cfg->data_dir, PV_DATADIR_CA_CERT);
    pv_jobm_certificate("server", cfg->https_listen != NULL ? cfg->tls_cert : NULL);
    pv_jobm_certificate("ca", ca);
    pv_jobm_certificate("client_ca",
                        cfg->client_cert != PV_CLIENT_CERT_NONE ? cfg->client_ca : NULL);
}

/* ---- setup ---- */

void pv__daemon_tls_config(const pv_config *cfg, pv_tls_config *tc)
{
    *tc = (pv_tls_config){
        .cert_file = cfg->tls_cert,
        .key_file = cfg->tls_key,
        .client_ca_file = cfg->client_cert != PV_CLIENT_CERT_NONE ? cfg->client_ca : NULL,
        .client_cert = cfg->client_cert,
        .min_version = cfg->tls_min_version,
        .ciphers = cfg->ciphers,
        .ciphersuites = cfg->ciphersuites,
        .security_level = cfg->security_level,
        .session_tickets = cfg->session_tickets,
        .session_cache =
            cfg->session_cache > 0 ? (int)cfg->session_cache : PV_TLS_SESSION_CACHE_OFF,
    };
}

static int add_http(worker *w, const char *address, int listen_fd, pv_handler *h, pv_tls_slot *tls,
                    pv_http_server **out, pv_error *err)
{
    /* the admin listener keeps the built-in limits but its own body bound ([admin]) */
    pv_http_limits admin_limits;
    pv_http_limits_default(&admin_limits);
    admin_limits.max_body_bytes = w->d->cfg->admin_max_body_bytes;
    pv_http_server_options o = {
        .address = address,
        .listen_fd = listen_fd,
        .handler = h,
        .tls = tls,
        .limits = h == &w->d->admin.handler ? &admin_limits : &w->d->cfg->http,
        .reuse_port = true,
        .allow_other_methods = h == &w->d->admin.handler, /* DELETE, PATCH of the admin API */
        /* the phones' listener only: the portal and the admin API are not storm traffic */
        .admit = tls != NULL && tls == w->d->tls && w->prov != NULL ? pv_provision_loop_admit(w->prov) : NULL,
    };
    return pv_http_server_new(&w->loop, &o, out, err);
}

static int worker_bind(worker *w, pv_error *err)
{
    pv_daemon *d = w->d;
    const pv_config *cfg = d->cfg;
    int rc = 0;
    pv_handler *h = w->prov != NULL ? pv_provision_loop_handler(w->prov) : &d->files.handler;
    if (cfg->tftp_listen != NULL) {
        pv_tftp_server_options o = {.address = cfg->tftp_listen,
                                    .handler = h,
                                    .limits = &cfg->tftp,
                                    .listen_fd = d->tftp_fd};
        rc = pv_tftp_server_new(&w->loop, &o, &w->tftp, err);
    }
    if (rc == 0 && cfg->http_listen != NULL)
        rc = add_http(w, cfg->http_listen, d->http_fd, h, NULL, &w->http, err);
    if (rc == 0 && cfg->https_listen != NULL)
        rc = add_http(w, cfg->https_listen, d->https_fd, h, d->tls, &w->https, err);
    if (rc == 0 && w->index == 0 && d->console != NULL)
        pv_portal_set_loop(d->console, &w->loop); /* the console's logins hash off the loop too */
    if (rc == 0 && w->index == 0 && cfg->admin_listen != NULL)
        rc = add_http(w, cfg->admin_listen, 0, &d->admin.handler, NULL, &w->admin, err);
    if (rc == 0 && w->index == 0 && cfg->admin_listen != NULL) {
        /* the dashboard's last hour is sampled whether or not anyone looks (rates.h) */
        uv_timer_init(&w->loop, &w->rates);
        w->rates.data = w;
        uv_timer_start(&w->rates, on_rates, 0, PV_RATES_SAMPLE_MS);
        w->rates_on = true;
    }
    if (rc == 0 && w->index == 0 && cfg->admin_listen != NULL && d->admin.api != NULL) {
        uv_timer_init(&w->loop, &w->imports);
        w->imports.data = w;
        uv_timer_start(&w->imports, on_imports, 0, 0);
        w->imports_on = true;
        pv_api_set_import_kick(d->admin.api, kick_imports, w);
    }
    if (rc == 0 && w->index == 0 && d->portal != NULL) {
        pv_portal_set_loop(d->portal, &w->loop); /* its logins' hashes go to libuv's workers */
        rc = add_http(w, cfg->portal_listen, 0, pv_portal_handler(d->portal), d->portal_tls,
                      &w->portal, err);
    }
    if (rc == 0 && w->index == 0 && d->admin.api != NULL && w->prov != NULL) {
        /* rollouts are evaluated where the API's store lives: no second handle */
        uv_timer_init(&w->loop, &w->rollouts);
        w->rollouts.data = w;
        uv_timer_start(&w->rollouts, on_rollouts, cfg->rollout_interval_ms,
                       cfg->rollout_interval_ms);
        w->rollouts_on = true;
    }
    if (rc == 0 && w->index == 0 && cfg->sip_listen != NULL && *cfg->sip_listen != '\0' &&
        d->admin.api != NULL) {
        /* the API runs on this loop: device actions need no lock to reach the notifier */
        pv_notifier_options no = {.listen = cfg->sip_listen,
                                  .outbound_proxy = cfg->sip_outbound_proxy,
                                  .tcp = cfg->sip_tcp,
                                  .timeout_ms = cfg->sip_timeout_ms,
                                  .retries = cfg->sip_retries,
                                  .rate = cfg->sip_rate};
        rc = pv_notifier_new(&w->loop, &no, &w->notifier, err);
        if (rc == 0)
            pv_api_set_notifier(d->admin.api, w->notifier);
        if (rc == 0 && d->portal != NULL) /* the portal runs on this loop too */
            pv_portal_set_notifier(d->portal, w->notifier);
        if (rc == 0)
            pv_logf(PV_LOG_INFO, "sip.notify_after_binding", "enabled=%s",
                    cfg->sip_notify_after_binding && d->prov != NULL ? "yes" : "no");
        if (rc == 0 && cfg->sip_notify_after_binding && d->prov != NULL) {
            /* the loops are set up before any runs: nothing binds before this */
            uv_async_init(&w->loop, &w->bound, on_bound);
            uv_timer_init(&w->loop, &w->bound_batch);
            w->bound.data = w->bound_batch.data = w;
            w->bound_on = d->bound_open = true;
            pv_provision_on_configured(d->prov, on_configured, d);
        }
    }
    return rc;
}

/* The [portal] session policy and language, which the console shares. */
static void web_options(const pv_daemon *d, const pv_config *cfg, pv_portal_options *o)
{
    *o = (pv_portal_options){.data_dir = cfg->data_dir,
                             .db_url = cfg->db,
                             .policy = d->prov != NULL ? pv_provision_policy(d->prov) : NULL};
    pv_websession_policy_default(&o->session);
    o->session.idle_seconds = cfg->portal_session_idle;
    o->session.lifetime_seconds = cfg->portal_session_lifetime;
    o->session.max_failures = cfg->portal_lockout_failures;
    o->session.lock_seconds = cfg->portal_lockout_seconds;
    o->session.attempts_per_minute = cfg->portal_logins_per_minute;
    if (!pv_lang_parse(cfg->portal_language, &o->language))
        o->language = PV_LANG_EN;
}

/* The customer portal (portal.h): its own TLS context with the server certificate that asks
 * browsers for no client certificate, and its handler with the [portal] policy. */
static int portal_setup(pv_daemon *d, const pv_config *cfg, pv_error *err)
{
    pv_tls_config tc;
    pv__daemon_tls_config(cfg, &tc);
    tc.client_ca_file = NULL;
    tc.client_cert = PV_CLIENT_CERT_NONE;
    pv_tls_context *ctx = NULL;
    int rc = pv_tls_context_new(&tc, &ctx, err);
    if (rc != 0)
        return pv_error_set(err, rc, "[portal] listen: %s", err->msg);
    d->portal_tls = pv_tls_slot_new(ctx);
    pv_portal_options o;
    web_options(d, cfg, &o);
    return pv_portal_new(&o, &d->portal, err);
}

/* The operator console (console.h) on the admin listener: the portal's machinery with operator
 * logins, whose changes reach the admin API with the login's role. */
static int console_setup(pv_daemon *d, const pv_config *cfg, pv_error *err)
{
    if (d->admin.api == NULL)
        return 0;
    pv_portal_options o;
    web_options(d, cfg, &o);
    o.console = true;
    o.api = d->admin.api;
    int rc = pv_portal_new(&o, &d->console, err);
    if (rc == 0)
        d->admin.console = pv_portal_handler(d->console);
    return rc;
}

static bool privileged_port(const char *address)
{
    const char *colon = address ? strrchr(address, ':') : NULL;
    return colon != NULL && atoi(colon + 1) < 1024;
}

/*
 * Started as root to bind 69/80/443: become [server] user once they are
 * bound (DESIGN decision 2). Only then: a root that binds nothing privileged
 * keeps its identity, so its data directory stays readable for reloads.
 */
static int drop_privileges(const pv_config *cfg, pv_error *err)
{
    if (geteuid() != 0 || cfg->user == NULL)
        return 0;
    if (!privileged_port(cfg->tftp_listen) && !privileged_port(cfg->http_listen) &&
        !privileged_port(cfg->https_listen) && !privileged_port(cfg->admin_listen) &&
        !privileged_port(cfg->portal_listen))
        return 0;
    struct passwd *pw = getpwnam(cfg->user);
    if (pw == NULL)
        return pv_error_set(err, PV_EINVAL, "[server] user = %s: no such user", cfg->user);
    if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
        return pv_error_set(err, PV_EACCES, "cannot become user %s: %s", cfg->user,
                            strerror(errno));
    pv_logf(PV_LOG_INFO, "privileges.dropped", "user=%s uid=%u", cfg->user, (unsigned)pw->pw_uid);
    return 0;
}

static void log_ready(const char *proto, const char *addr)
{
    if (addr != NULL)
        pv_logf(PV_LOG_INFO, "listener.ready", "proto=%s addr=%s", proto, addr);
}

/* Frees what pv_daemon_start acquired; loops must not be running. */
static void daemon_free(pv_daemon *d)
{
    for (unsigned i = 0; i < d->nworkers; i++) {
        worker *w = &d->workers[i];
        if (w->loop.data == NULL)
            continue; /* never initialised */
        if (!w->draining)
            start_drain(w); /* setup failed: close what was bound */
        pv_provision_loop_close(w->prov);
        uv_run(&w->loop, UV_RUN_DEFAULT);
        uv_loop_close(&w->loop);
        pv_provision_loop_free(w->prov);
    }
    free(d->workers);
    free(d->bound);
    if (d->tls != NULL)
        pv_tls_slot_free(d->tls);
    if (d->portal_tls != NULL)
        pv_tls_slot_free(d->portal_tls);
    pv_portal_free(d->portal);
    pv_portal_free(d->console);
    pv_provision_free(d->prov);
    pv_fileserver_free(&d->files);
    pv_admin_free(&d->admin);
    uv_mutex_destroy(&d->lock);
    pv_config_free(d->cfg);
    free(d->cfg);
    free(d);
}

int pv_daemon_start(pv_config *cfg, const pv_config_args *args, pv_daemon **out, pv_error *err)
{
    /* A peer that closes mid-answer must cost an EPIPE, not the process. */
    signal(SIGPIPE, SIG_IGN);
    pv_daemon *d = pv_calloc(1, sizeof *d);
    d->cfg = pv_malloc(sizeof *cfg);
    *d->cfg = *cfg;
    d->args = args;
    d->files.root_fd = d->files.upload_fd = -1;
    uv_mutex_init(&d->lock);
    d->tftp_limits = cfg->tftp;
    d->http_limits = cfg->http;
    atomic_init(&d->drain_timeout_ms, cfg->drain_timeout_ms);
    pv_admin_init(&d->admin);
    pv_admin_attach_api(&d->admin, cfg->data_dir); /* its own store handle, on the admin loop */
    if (cfg->db != NULL) { /* [server] db names the store instead of <data>/provisor.db */
        pv_api_free(d->admin.api);
        d->admin.api = pv_api_new(cfg->data_dir, cfg->db);
    }
    d->nworkers = cfg->workers ? cfg->workers : uv_available_parallelism();
    if (d->nworkers > PV_CONFIG_MAX_WORKERS)
        d->nworkers = PV_CONFIG_MAX_WORKERS;
    d->workers = pv_calloc(d->nworkers, sizeof *d->workers);

    int rc = pv_fileserver_init(&d->files, cfg->root, cfg->upload_dir, err);
    pv_fileserver_set_upload_limits(&d->files, cfg->uploads);
    d->admin.files = &d->files;
    if (rc == 0 && cfg->provisioning)
        rc = pv_provision_from_config(cfg, &d->files, &d->prov, err);
    if (rc == 0 && d->prov != NULL && d->admin.api != NULL)
        pv_api_set_policy(d->admin.api, pv_provision_policy(d->prov));
    if (rc == 0 && cfg->https_listen != NULL) {
        pv_tls_config tc;
        pv_tls_context *ctx = NULL;
        pv__daemon_tls_config(cfg, &tc);
        rc = pv_tls_context_new(&tc, &ctx, err);
        if (rc == 0)
            d->tls = pv_tls_slot_new(ctx);
    }
    if (rc == 0 && cfg->portal_listen != NULL)
        rc = portal_setup(d, cfg, err);
    if (rc == 0)
        rc = console_setup(d, cfg, err);
    int *fds[] = {&d->tftp_fd, &d->http_fd, &d->https_fd};
    if (rc == 0 && cfg->tftp_listen != NULL)
        rc = d->tftp_fd = pv_tftp_server_listen(cfg->tftp_listen, false, err);
    if (rc >= 0 && cfg->http_listen != NULL)
        rc = d->http_fd = pv_http_server_listen(cfg->http_listen, false, err);
    if (rc >= 0 && cfg->https_listen != NULL)
        rc = d->https_fd = pv_http_server_listen(cfg->https_listen, false, err);
    rc = rc < 0 ? rc : 0;
    for (unsigned i = 0; rc == 0 && i < d->nworkers; i++) {
        worker *w = &d->workers[i];
        w->d = d;
        w->index = i;
        if (uv_loop_init(&w->loop) != 0) {
            rc = pv_error_set(err, PV_EIO, "cannot create an event loop");
            break;
        }
        w->loop.data = w;
        uv_async_init(&w->loop, &w->wake, on_wake);
        w->wake.data = w;
        if (d->prov != NULL)
            rc = pv_provision_loop_new(d->prov, &w->loop, &w->prov, err);
        if (rc == 0)
            rc = worker_bind(w, err);
    }
    for (size_t i = 0; i < 3; i++) /* the loops hold their dups */
        if (*fds[i] > 0)
            close(*fds[i]);
    if (rc == 0)
        rc = drop_privileges(cfg, err);
    if (rc != 0) {
        daemon_free(d);
        return rc;
    }
    /* Signals are caught from here on, before anyone can know we are ready:
     * a SIGHUP sent right after listener.ready must not kill us. */
    uv_loop_init(&d->control);
    uv_signal_t *sigs[] = {&d->sigterm, &d->sigint, &d->sighup};
    int nums[] = {SIGTERM, SIGINT, SIGHUP};
    for (size_t i = 0; i < 3; i++) {
        uv_signal_init(&d->control, sigs[i]);
        sigs[i]->data = d;
        uv_signal_start(sigs[i], pv__daemon_on_signal, nums[i]);
    }
    /* One line per listener, not per loop: they share the address. */
    worker *first = &d->workers[0];
    log_ready("tftp", first->tftp ? pv_tftp_server_address(first->tftp) : NULL);
    log_ready("http", first->http ? pv_http_server_address(first->http) : NULL);
    log_ready("https", first->https ? pv_http_server_address(first->https) : NULL);
    log_ready("admin", first->admin ? pv_http_server_address(first->admin) : NULL);
    log_ready("portal", first->portal ? pv_http_server_address(first->portal) : NULL);
    for (unsigned i = 0; i < d->nworkers; i++)
        uv_thread_create(&d->workers[i].thread, worker_main, &d->workers[i]);
    pv_logf(PV_LOG_INFO, "server.started", "workers=%u pid=%ld", d->nworkers, (long)getpid());
    pv__daemon_start_watchdog(d);
    pv__daemon_export_certificates(d->cfg);
    pv_sd_notify("READY=1\nSTATUS=serving");
    *out = d;
    return 0;
}

const char *pv_daemon_address(const pv_daemon *d, pv_proto proto)
{
    const worker *w = &d->workers[0];
    switch (proto) {
    case PV_PROTO_TFTP:
        return w->tftp ? pv_tftp_server_address(w->tftp) : NULL;
    case PV_PROTO_HTTP:
        return w->http ? pv_http_server_address(w->http) : NULL;
    case PV_PROTO_HTTPS:
        return w->https ? pv_http_server_address(w->https) : NULL;
    default:
        return NULL;
    }
}

const char *pv_daemon_admin_address(const pv_daemon *d)
{
    return d->workers[0].admin ? pv_http_server_address(d->workers[0].admin) : NULL;
}

const char *pv_daemon_portal_address(const pv_daemon *d)
{
    return d->workers[0].portal ? pv_http_server_address(d->workers[0].portal) : NULL;
}

unsigned pv_daemon_workers(const pv_daemon *d)
{
    return d->nworkers;
}

int pv_daemon_wait(pv_daemon *d)
{
    uv_run(&d->control, UV_RUN_DEFAULT);
    uv_loop_close(&d->control);
    for (unsigned i = 0; i < d->nworkers; i++)
        uv_thread_join(&d->workers[i].thread);
    pv_logf(PV_LOG_INFO, "server.stopped", "");
    daemon_free(d);
    return 0;
}
