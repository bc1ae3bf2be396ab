/*
 * daemon_control.c — the daemon's control thread (daemon.h): SIGHUP reloads
 * the configuration (re-read and checked, the TLS certificate swapped for new
 * connections, limits handed to the loops through their doorbells; listener
 * addresses, root and workers need a restart and say so), SIGTERM and SIGINT
 * start the drain, and the systemd watchdog is petted only while every loop
 * thread answers. The loops and listeners themselves are daemon.c's.
 */
#include "server/daemon_int.h"

#include "core/alloc.h"
#include "core/log.h"
#include "server/sd_notify.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void wake_all(pv_daemon *d)
{
    for (unsigned i = 0; i < d->nworkers; i++)
        uv_async_send(&d->workers[i].wake);
}

static bool same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void warn_restart_needed(const pv_config *old, const pv_config *next)
{
    struct {
        const char *name, *a, *b;
    } fixed[] = {
        {"[tftp] listen", old->tftp_listen, next->tftp_listen},
        {"[http] listen", old->http_listen, next->http_listen},
        {"[https] listen", old->https_listen, next->https_listen},
        {"[admin] listen", old->admin_listen, next->admin_listen},
        {"[portal] listen", old->portal_listen, next->portal_listen},
        {"[server] root", old->root, next->root},
        {"[server] upload_dir", old->upload_dir, next->upload_dir},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (!same(fixed[i].a, fixed[i].b))
            pv_logf(PV_LOG_WARN, "config.restart_needed", "key=\"%s\"", fixed[i].name);
    if (old->workers != next->workers)
        pv_logf(PV_LOG_WARN, "config.restart_needed", "key=\"[server] workers\"");
}

/* RELOADING=1 carries the monotonic time it began (sd_notify(3), for Type=notify-reload). */
static void notify_reloading(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char msg[64];
    snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
    pv_sd_notify(msg);
}

static void reload(pv_daemon *d)
{
    notify_reloading();
    pv_config *next = pv_malloc(sizeof *next);
    pv_error err = {""};
    int rc = pv_config_load(next, d->args, &err);
    pv_tls_context *ctx = NULL;
    if (rc == 0 && d->tls != NULL) {
        pv_tls_config tc;
        pv__daemon_tls_config(next, &tc);
        rc = pv_tls_context_new(&tc, &ctx, &err);
        if (rc != 0)
            pv_config_free(next);
    }
    if (rc != 0) {
        pv_log_line line;
        pv_log_begin(&line, PV_LOG_ERROR, "config.reload_failed");
        pv_log_str(&line, "error", err.msg);
        pv_log_str(&line, "kept", "running configuration");
        pv_log_end(&line);
        free(next);
        pv_sd_notify("READY=1\nSTATUS=serving; the last reload failed (see the log)");
        return;
    }
    warn_restart_needed(d->cfg, next);
    if (ctx != NULL)
        pv_tls_slot_swap(d->tls, ctx); /* new connections only; open ones keep theirs */
    if (d->portal_tls != NULL) {       /* a renewed server certificate reaches the portal too */
        pv_tls_config tc;
        pv_tls_context *pctx = NULL;
        pv__daemon_tls_config(next, &tc);
        tc.client_ca_file = NULL;
        tc.client_cert = PV_CLIENT_CERT_NONE;
        if (pv_tls_context_new(&tc, &pctx, &err) == 0)
            pv_tls_slot_swap(d->portal_tls, pctx);
    }
    uv_mutex_lock(&d->lock);
    d->tftp_limits = next->tftp;
    d->http_limits = next->http;
    atomic_fetch_add(&d->limits_gen, 1);
    uv_mutex_unlock(&d->lock);
    atomic_store(&d->drain_timeout_ms, next->drain_timeout_ms);
    pv_fileserver_set_upload_limits(&d->files, next->uploads);
    pv_log_set_level(next->log_level);
    pv_log_set_format(next->log_format);
    /* Listener addresses, root and workers keep their running values. */
    pv_config *old = d->cfg;
    next->workers = old->workers;
    d->cfg = next;
    wake_all(d);
    pv_config_free(old);
    free(old);
    pv__daemon_export_certificates(d->cfg);
    pv_logf(PV_LOG_INFO, "config.reloaded", "tls=%s", ctx != NULL ? "renewed" : "off");
    pv_sd_notify("READY=1\nSTATUS=serving");
}

/*
 * WATCHDOG=1 only while every loop thread answers: each tick pings the loops through their
 * doorbell and pets the watchdog only if all answered the previous ping, so a loop stuck in
 * a call makes systemd restart the service (WatchdogSec=) instead of a silent half-outage.
 */
static void on_watchdog(uv_timer_t *t)
{
    pv_daemon *d = t->data;
    unsigned ping = atomic_load(&d->ping_gen);
    bool all = true;
    for (unsigned i = 0; i < d->nworkers; i++)
        all = all && atomic_load(&d->workers[i].alive_gen) == ping;
    if (all)
        pv_sd_notify("WATCHDOG=1");
    else
        pv_logf(PV_LOG_WARN, "watchdog.missed", "ping=%u", ping);
    atomic_store(&d->ping_gen, ping + 1);
    wake_all(d);
}

void pv__daemon_start_watchdog(pv_daemon *d)
{
    uint64_t usec = pv_sd_watchdog_usec();
    if (usec == 0)
        return;
    /* Half the period, as sd_watchdog_enabled(3) advises: one late tick is not a restart. */
    uint64_t ms = usec / 2000 > 0 ? usec / 2000 : 1;
    uv_timer_init(&d->control, &d->watchdog);
    d->watchdog.data = d;
    uv_timer_start(&d->watchdog, on_watchdog, 0, ms);
}

void pv__daemon_on_signal(uv_signal_t *handle, int signum)
{
    pv_daemon *d = handle->data;
    if (signum == SIGHUP) {
        reload(d);
        return;
    }
    pv_logf(PV_LOG_INFO, "server.draining", "signal=%s timeout_ms=%u",
            signum == SIGTERM ? "TERM" : "INT", d->cfg->drain_timeout_ms);
    pv_sd_notify("STOPPING=1");
    if (d->watchdog.data != NULL)
        uv_close((uv_handle_t *)&d->watchdog, NULL); /* the control loop may end */
    atomic_store(&d->admin.draining, true);
    atomic_store(&d->stopping, true);
    wake_all(d);
    /* Without watchers the default action returns: a second signal kills. */
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->sigint, NULL);
    uv_close((uv_handle_t *)&d->sighup, NULL);
}
