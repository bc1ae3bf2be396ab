/*
 * sd_notify.h — telling the service manager how `provisor serve` is doing:
 * the readiness protocol of sd_notify(3), spoken by hand (four short
 * datagrams do not justify linking libsystemd).
 *
 * When systemd starts a Type=notify service it puts a datagram socket's path
 * in $NOTIFY_SOCKET ("/run/systemd/notify", or "@name" for the abstract
 * namespace); the service sends newline-separated VAR=VALUE assignments to
 * it: READY=1 once it serves, RELOADING=1 and READY=1 around a reload,
 * STOPPING=1 when it starts to drain, WATCHDOG=1 at least every
 * $WATCHDOG_USEC microseconds while it is healthy. Without $NOTIFY_SOCKET
 * (started by hand, by a test, by another manager) every call does nothing.
 *
 * The daemon (daemon.h) decides when; this module only carries the message.
 * Stateless and thread-safe: each call opens, sends and closes its socket.
 */
#ifndef PV_SERVER_SD_NOTIFY_H
#define PV_SERVER_SD_NOTIFY_H

#include <stdint.h>

/* Sends state ("READY=1\nSTATUS=..."): 1 when sent, 0 when there is no
 * $NOTIFY_SOCKET, -1 when it cannot be reached (the caller carries on). */
int pv_sd_notify(const char *state);

/* The watchdog period asked by $WATCHDOG_USEC, in microseconds, when
 * $WATCHDOG_PID is unset or names this process; 0 when there is none. */
uint64_t pv_sd_watchdog_usec(void);

#endif
