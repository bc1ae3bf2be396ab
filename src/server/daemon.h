/*
 * daemon.h — `provisor serve` as a running process: loop threads,
 * listeners, signals (issue 3).
 *
 * The daemon runs N loop threads (N = [server] workers, default one per
 * core). Each thread has its own uv loop with one TFTP server, one HTTP and
 * one HTTPS server, each polling a dup() of the one listening socket of its
 * address, so a connection or request goes to whichever loop is waiting
 * ("Both cores used"). The admin listener (/metrics, /healthz) runs on
 * the first loop only. Every listener answers through one shared handler:
 * the static file tree (net/fileserver.h) until the provisioning server
 * replaces it.
 *
 * The thread that calls pv_daemon_wait() runs a small control loop that owns
 * the signals:
 *   SIGTERM, SIGINT  drain: every server stops accepting and lets in-flight
 *                    requests finish within [server] drain_timeout_ms; then
 *                    pv_daemon_wait() returns 0. A second signal kills.
 *   SIGHUP           reload: the configuration is built again (same file,
 *                    same flags); certificates are read again into a new TLS
 *                    context swapped into the listener's slot (new
 *                    connections get it, open ones keep theirs); new limits
 *                    reach each loop through its uv_async. An invalid
 *                    configuration or certificate is logged and the running
 *                    one kept. Listener addresses, root and workers need a
 *                    restart (logged).
 * Listeners are bound before the threads start, and, when started as root,
 * privileges are dropped to [server] user right after binding.
 *
 * Under systemd (Type=notify, sd_notify.h) the daemon says READY=1 once every
 * loop serves, RELOADING=1 then READY=1 around a SIGHUP reload, STOPPING=1
 * when a drain starts, and WATCHDOG=1 every half $WATCHDOG_USEC while every
 * loop thread answers a ping through its doorbell.
 */
#ifndef PV_SERVER_DAEMON_H
#define PV_SERVER_DAEMON_H

#include "core/error.h"
#include "net/handler.h"
#include "server/config.h"

typedef struct pv_daemon pv_daemon;

/*
 * Binds every listener on every loop, logs event=listener.ready for each,
 * drops privileges and starts the loop threads. Takes cfg (freed by the
 * daemon); args must outlive the daemon (reloads use them).
 */
int pv_daemon_start(pv_config *cfg, const pv_config_args *args, pv_daemon **out, pv_error *err);
/* The bound address of a listener ("127.0.0.1:8080"), or NULL when off. */
const char *pv_daemon_address(const pv_daemon *d, pv_proto proto);
const char *pv_daemon_admin_address(const pv_daemon *d);
const char *pv_daemon_portal_address(const pv_daemon *d);
unsigned pv_daemon_workers(const pv_daemon *d);
/* Runs the control loop until a drain finishes; frees the daemon; returns 0. */
int pv_daemon_wait(pv_daemon *d);

#endif
