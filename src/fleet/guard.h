/*
 * guard.h — where a fleet may send its load: loopback only, or anywhere
 * inside a network namespace the test created (issue 6, "Bounded").
 *
 * A load generator pointed at the wrong URL is a denial of service. Before a
 * run, every --server URL is resolved and each of its addresses must be
 * 127.0.0.0/8 or ::1 — unless the process runs in a network namespace other
 * than the one of PID 1 (`unshare -n`, `ip netns exec`): such a namespace
 * reaches only what the test wired into it, so its addresses are allowed.
 * Anything else is refused with a message that says why.
 */
#ifndef PV_FLEET_GUARD_H
#define PV_FLEET_GUARD_H

#include "core/error.h"

#include <stdbool.h>

/* 0 when url (scheme://host[:port][/...]) may be a fleet's target; PV_EACCES otherwise. */
int pv_fleet_guard_url(const char *url, pv_error *err);
/* One literal address (IPv4, IPv6, bracketed or not): is it loopback? */
bool pv_fleet_guard_is_loopback(const char *address);
/* Are we in a network namespace other than PID 1's? */
bool pv_fleet_guard_private_netns(void);

#endif
