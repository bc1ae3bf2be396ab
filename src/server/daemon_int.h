/*
 * daemon_int.h — the daemon's state, shared by its two files: daemon.c (loop
 * threads, listeners, setup, the drain) and daemon_control.c (the control
 * thread: signals, reload, the systemd watchdog). Private to them.
 *
 * Threads: each worker's fields are its loop thread's; pv_daemon's control
 * fields are the control thread's; what both touch is atomic or under lock.
 */
#ifndef PV_SERVER_DAEMON_INT_H
#define PV_SERVER_DAEMON_INT_H

#include "server/daemon.h"

#include "net/fileserver.h"
#include "net/http_server.h"
#include "net/tftp_server.h"
#include "net/tls.h"
#include "server/admin.h"
#include "server/notifier.h"
#include "server/portal.h"
#include "server/provision.h"

#include <stdatomic.h>
#include <uv.h>

/* One loop thread and what it serves. */
typedef struct worker {
    pv_daemon *d;
    unsigned index;
    uv_loop_t loop;
    uv_thread_t thread;
    uv_async_t wake; /* the control thread's doorbell: drain, new limits */
    pv_tftp_server *tftp;
    pv_http_server *http, *https, *admin, *portal;
    pv_provision_loop *prov; /* this loop's provisioning handler, or NULL */
    pv_notifier *notifier;   /* the admin loop's (device actions, spec 5.5), or NULL */
    uv_timer_t rollouts;     /* the admin loop's rollout evaluation (server/rollout.h) */
    bool rollouts_on;
    uv_timer_t rates; /* the admin loop's per-minute samples for the dashboard (rates.h) */
    bool rates_on;
    uv_timer_t imports; /* the admin loop's CSV import jobs, a slice at a time (import_job.h) */
    bool imports_on;
    uv_async_t bound;       /* the admin loop's: devices that completed a binding */
    uv_timer_t bound_batch; /* gathers them for BOUND_BATCH_MS into one job */
    bool bound_on;
    unsigned limits_gen;   /* generation of the limits applied */
    atomic_uint alive_gen; /* the last watchdog ping this loop answered */
    unsigned closing;      /* servers whose close has not finished yet */
    bool draining;
} worker;

struct pv_daemon {
    pv_config *cfg; /* current; replaced on reload (control thread only) */
    const pv_config_args *args;
    pv_fileserver files;
    pv_provision *prov; /* NULL when [provisioning] enabled = no */
    pv_admin admin;
    pv_portal *portal;       /* the customer portal (portal.h), on the first loop; or NULL */
    pv_portal *console;      /* the operator console (console.h), on the admin loop; or NULL */
    pv_tls_slot *portal_tls; /* the server certificate, asking browsers for none */
    pv_tls_slot *tls;        /* NULL when HTTPS is off */
    worker *workers;
    unsigned nworkers;
    /* One listening socket per address, shared by every loop (each listens on a dup): the
     * loop that waits takes the next connection or request, as nginx's workers do; 0: none. */
    int tftp_fd, http_fd, https_fd;

    /* Control loop. */
    uv_loop_t control;
    uv_signal_t sigterm, sigint, sighup;
    uv_timer_t watchdog; /* sd_notify WATCHDOG=1 while every loop answers; data NULL: off */
    atomic_uint ping_gen;

    /* Shared with the loop threads. */
    uv_mutex_t lock; /* guards the limits below */
    pv_tftp_limits tftp_limits;
    pv_http_limits http_limits;
    /* Devices that completed a binding on any loop, for the admin loop's NOTIFY (push.h);
     * also guarded by lock. */
    char (*bound)[13];
    size_t nbound, cap_bound;
    bool bound_open; /* workers[0].bound may be sent to */
    atomic_uint limits_gen;
    atomic_uint drain_timeout_ms;
    atomic_bool stopping;
};

/* daemon.c */
/* The server's TLS settings from the configuration (start and reload alike). */
void pv__daemon_tls_config(const pv_config *cfg, pv_tls_config *tc);
/* provisor_certificate_expiry_timestamp_seconds, read again (start and every reload). */
void pv__daemon_export_certificates(const pv_config *cfg);

/* daemon_control.c */
/* SIGHUP: reload; SIGTERM, SIGINT: drain, then stop. */
void pv__daemon_on_signal(uv_signal_t *handle, int signum);
/* WATCHDOG=1 while every loop answers, when systemd asks for it (WatchdogSec=). */
void pv__daemon_start_watchdog(pv_daemon *d);

#endif
