/*
 * phone_sip.h — the emulated phone's SIP user agent: its lines register, and
 * it answers the provider's NOTIFY (spec 5.5).
 *
 * What it is for: a provider makes a phone resync, reboot or report with a
 * SIP NOTIFY, usually through the proxy the phone registered with (the phone
 * sits behind NAT). So each enabled line (Line_Enable_n_, User_ID_n_ and
 * Proxy_n_ set; lines 1 and 2) REGISTERs to Outbound_Proxy_n_ or Proxy_n_
 * as User_ID_n_, answers a Digest challenge with Password_n_ once per
 * attempt, refreshes before Register_Expires_n_ runs out and retries 30 s
 * after a failure. A NOTIFY is challenged with 401 when
 * Auth_Resync-Reboot_n_ is Yes (net/sip_auth: a nonce acts once and goes
 * stale after PV_SIP_NONCE_TTL_MS); only then does its Event reach the engine
 * (pv_agent_sip_notify). A retransmitted request gets the answer already
 * sent (RFC 3261 §17.2), never a second action.
 *
 * The line settings are re-read every second (the host may choose), so a
 * resync that changes them re-registers (and a reboot, which forgets
 * registrations, too). SIP runs on real time even when the phone's
 * provisioning clock is virtual.
 *
 * The host is what runs the engine: `provisor phone` (phone/phone.c) for one
 * phone, the fleet (fleet/fleet_sip.c) for each of its phones; it gives the
 * agent, its clock, and is told when the agent has something new to do.
 *
 * Ownership: owned by its host, which creates it (`provisor phone --sip
 * ADDR`, `provisor fleet run --sip PORT`) and closes it before its agent.
 */
#ifndef PV_PHONE_PHONE_SIP_H
#define PV_PHONE_PHONE_SIP_H

#include "core/error.h"
#include "provisor/agent.h"

#include <stdint.h>
#include <uv.h>

typedef struct pv_phone_sip pv_phone_sip;

typedef struct pv_phone_sip_host {
    pv_agent *(*agent)(void *data);
    uint64_t (*now)(void *data); /* the agent's clock (ms) */
    void (*kick)(void *data);    /* the agent changed: take its actions, show its state */
    /* a NOTIFY was accepted and reached the engine (NULL: not told) */
    void (*notified)(void *data, pv_agent_sip_event ev);
    void *data;
    unsigned check_ms; /* the line settings are re-read this often; 0: every second */
} pv_phone_sip_host;

/* address: "127.0.0.1:5060", or a host alone (then SIP_Port_1_). host is copied. */
int pv_phone_sip_new(const pv_phone_sip_host *host, uv_loop_t *loop, const char *address,
                     pv_phone_sip **out, pv_error *err);
/* Re-reads the line settings now (after a resync changed them). */
void pv_phone_sip_check(pv_phone_sip *s);
/* The bound "host:port". */
const char *pv_phone_sip_address(const pv_phone_sip *s);
void pv_phone_sip_close(pv_phone_sip *s, void (*done)(void *data), void *data);

#endif
