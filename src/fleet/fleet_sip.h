/*
 * fleet_sip.h — the fleet's phones on real SIP: each phone's SIP user agent
 * (phone/phone_sip.h, the one `provisor phone --sip` runs) on its own
 * loopback address, so that the server's NOTIFY reaches it over UDP through a
 * proxy or directly (spec 5.5).
 *
 * What it is for: `provisor fleet run --sip PORT`. Phone i binds
 * 127.A.B.C:PORT, the same source address it provisions from (host.h), so a
 * server that sends NOTIFY straight to the address a phone last provisioned
 * from at its SIP_Port_1_ finds it, and a proxy the phone registered with
 * finds its contact there. The phones register, challenge and act exactly as
 * the single emulated phone does; the fleet is told what they did through
 * hooks (an agent to run, a NOTIFY accepted).
 *
 * Bounded: one UDP socket per phone (the fleet raises its descriptor limit
 * to what that needs, up to the hard limit, and says so when it cannot);
 * the line settings are re-read when the fleet says a profile was applied
 * (pv_fleet_sip_check) and otherwise every PV_FLEET_SIP_CHECK_MS, not every
 * second per phone.
 *
 * Ownership: the fleet owns it, on its loop; closed before the agents are
 * freed.
 */
#ifndef PV_FLEET_FLEET_SIP_H
#define PV_FLEET_FLEET_SIP_H

#include "core/error.h"
#include "provisor/agent.h"

#include <stdint.h>
#include <uv.h>

#define PV_FLEET_SIP_CHECK_MS 30000

typedef struct pv_fleet_sip pv_fleet_sip;

typedef struct pv_fleet_sip_hooks {
    pv_agent *(*agent)(void *data, uint32_t phone);
    uint64_t (*now)(void *data);                   /* the agents' clock (ms) */
    void (*kick)(void *data, uint32_t phone);      /* phone's agent has something new to do */
    void (*notified)(void *data, uint32_t phone);  /* phone accepted a NOTIFY */
    void *data;
} pv_fleet_sip_hooks;

/* Binds every phone's SIP socket at its source address and port. */
int pv_fleet_sip_new(uv_loop_t *loop, uint32_t phones, uint16_t port,
                     const pv_fleet_sip_hooks *hooks, pv_fleet_sip **out, pv_error *err);
/* Phone's line settings changed (a profile was applied): registers now when they did. */
void pv_fleet_sip_check(pv_fleet_sip *fs, uint32_t phone);
/* Phones whose line 1 is registered. */
uint32_t pv_fleet_sip_registered(const pv_fleet_sip *fs);
void pv_fleet_sip_close(pv_fleet_sip *fs, void (*done)(void *data), void *data);

#endif
