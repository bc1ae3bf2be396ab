/*
 * host.h — what the fleet's process and phones look like from the host:
 * resident memory and CPU of this process (the cost of simulation, issue 6),
 * and each simulated phone's own source address.
 *
 * Why source addresses: a server limits work per source address (bindings,
 * connections, TFTP requests per second), as it should for real phones, each
 * of which has its own. A fleet whose phones all come from 127.0.0.1 looks
 * like one phone. On Linux all of 127.0.0.0/8 is loopback with no setup, so
 * phone i connects from its own 127.A.B.C (and gets its own ephemeral port
 * range for it).
 */
#ifndef PV_FLEET_HOST_H
#define PV_FLEET_HOST_H

#include <stddef.h>
#include <stdint.h>

/* Distinct loopback source addresses: 127.0.0.1 .. 127.255.255.254. */
#define PV_FLEET_SOURCE_ADDRESSES 16777214u

/* Phone i's source address, "127.A.B.C": 127.0.0.1 for phone 0, then in order; phones beyond
 * PV_FLEET_SOURCE_ADDRESSES share (i modulo it). size ≥ 16. */
void pv_fleet_source_address(uint32_t i, char *out, size_t size);

/* Resident and peak resident bytes of this process (/proc/self/statm, status VmHWM). */
uint64_t pv_fleet_rss(void);
uint64_t pv_fleet_rss_peak(void);
/* This process's user + system CPU seconds. */
double pv_fleet_cpu_seconds(void);

#endif
