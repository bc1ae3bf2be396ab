/*
 * fleet_int.h — what the fleet engine (fleet.c) and the scenarios' wiring
 * (scenario.c: what a binding, a report or a NOTIFY-caused resync does to a
 * phone, and when it reached its goal) share: the phone and fleet records.
 * Not a public header: fleet.h is the fleet's contract.
 *
 * Ownership: everything here belongs to the pv_fleet, on its loop.
 */
#ifndef PV_FLEET_FLEET_INT_H
#define PV_FLEET_FLEET_INT_H

#include "fleet/fleet.h"
#include "fleet/fleet_sip.h"
#include "fleet/progress.h"
#include "fleet/sched.h"
#include "net/fetch.h"
#include "phone/fetch_request.h"

#include <uv.h>

/*
 * PH_QUEUED: in the FIFO of phones waiting for an in-flight slot. PH_WAITING: req_ms/req_ns hold
 * the time the phone began to wait, so that the wait counts in its request's latency. A phone
 * is queued before the fleet knows whether its agent has a request at all (the agent has no
 * peek); when its turn comes and it has none, both flags drop.
 */
enum {
    PH_IN_FLIGHT = 1,
    PH_WAITING = 2,
    PH_BINDING = 4, /* retail: a binding under way; in-house: until SEC-PRV-1 */
    PH_QUEUED = 8,
    PH_REPORTING = 16, /* reports: the report was asked for */
    PH_REPORTED = 32,  /* reports: a report was answered 200 */
    PH_DEAD = 64,      /* rollout-bad --fault brick: installed the image, never came back */
    PH_NOTIFIED = 128, /* push: a NOTIFY was accepted; the resync it causes counts */
};

#define NEVER UINT64_MAX
#define DAY_MS (24ull * 3600 * 1000)
#define BIND_TRIES 3 /* a customer tries a code three times, a minute apart */
#define BIND_RETRY_MS 60000ull
#define REPORT_RETRY_MS 2000ull /* reports: a failed upload is asked for again */

/* 64 bytes per phone besides its agent and schedule entry. */
typedef struct pv__phone {
    pv_agent *agent;
    pv_agent_challenge *chal; /* the last 401's challenge (spec 8.2), NULL until one came */
    uint64_t kick_ms;         /* scenario action (retail binding), NEVER if none */
    uint64_t answer_ms;       /* a virtual answer arrives, NEVER if none */
    uint64_t req_ns;          /* real clock at the request (or when it began to wait) */
    uint32_t req_ms;          /* scenario time of the request */
    uint32_t req_id;
    uint32_t vdelay_us;
    uint32_t vindex; /* what the virtual answer carries (vserver.h) */
    int16_t verror;
    uint16_t vstatus;
    uint8_t vkind, purpose, flags, bind_tries, pushes;
} pv__phone;

typedef struct fetch_ctx {
    struct pv_fleet *f;
    uint32_t phone;
} fetch_ctx;

struct pv_fleet {
    pv_fleet_config cfg;
    pv_fleet_plan plan;
    pv_fleet_stats stats;
    pv_fleet_summary sum;
    pv_agent_defaults *defs[4];
    pv__phone *phone;
    pv_fleet_sched sched;
    uint32_t *wait; /* FIFO ring of phones waiting for an in-flight slot */
    uint32_t wait_head, wait_len;
    uint32_t in_flight;
    uint64_t now_ms;
    bool outage, outage_done, done;
    pv_vserver vs;
    /* real clock */
    uv_loop_t loop;
    uv_timer_t wake, tick;
    uv_signal_t sigint;
    pv_fetcher *fetcher;
    pv_fleet_sip *sip; /* --sip: the phones' SIP user agents, or NULL */
    fetch_ctx *ctx; /* per phone, the fetcher's callback data: a cancelled transfer leaks nothing */
    uint64_t t0_ns;
    pv_fleet_progress progress;
};

/* fleet.c: takes phone i's agent's actions (starts its requests); phone i's server URL. */
void pv__fleet_drain(pv_fleet *f, uint32_t i);
const char *pv__fleet_server(const pv_fleet *f, uint32_t i);

/* scenario.c: the scenario's action for phone i is due (a retail binding, a report asked);
 * phone i's operation ended with answer r; whether phone i now reached the goal. */
void pv__fleet_kick(pv_fleet *f, uint32_t i);
void pv__fleet_op_ended(pv_fleet *f, uint32_t i, const pv_agent_response *r);
void pv__fleet_check_goal(pv_fleet *f, uint32_t i);

#endif
