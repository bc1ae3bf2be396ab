/*
 * scenario.h — what happens to a fleet, and when: the timelines of the
 * scenarios of issue 6 on scenario time (ms from the start).
 *
 *   power-restore  power comes back: every phone boots at 0 and resyncs after
 *                  its Resync_Random_Delay (spec 5.1); goal: one successful
 *                  resync each. The boot storm of the benchmarks.
 *   steady         periodic steady state: Resync_Periodic = --period; goal:
 *                  first success; runs the whole duration.
 *   daily          the Resync_At__HHmm_ wave: the time of day reaches HHmm
 *                  60 s after the start, spread by Resync_At_Random_Delay;
 *                  goal: a success in the wave.
 *   firmware       a firmware wave: Upgrade_Rule names a new load; goal: every
 *                  phone runs it (download, slot switch, reboot, resync).
 *   outage         steady state, then the server is unreachable for a while,
 *                  then back; goal: a success after the recovery, on the
 *                  phones' Resync_Error_Retry_Delay schedule.
 *   retail         factory-fresh phones are bound by their customers
 *                  (`/admin/resync?URL/init/CODE`, DESIGN 5) over a wave;
 *                  then the server's NOTIFY makes them resync; goal: SEC-PRV-2.
 *   in-house       factory phones whose DHCP names the server fetch /$PSN.xml,
 *                  then /$MA.xml with their certificate: a known device gets
 *                  SEC-PRV-1 without a code (spec 12.2), and the provider's
 *                  NOTIFY makes it resync; goal: SEC-PRV-2.
 *   reports        in-house, then each phone uploads its report (Report_Rule
 *                  [--key $SA] <server>/report/$MA.xml, spec 7.1) when told
 *                  to (NOTIFY Event: report); goal: a report accepted (200).
 *   push           in-house, then the phones wait, registered on real SIP
 *                  (--sip), for the server's NOTIFY (`provisor device resync`);
 *                  goal: --pushes resyncs, each caused by a NOTIFY the phone
 *                  accepted (spec 5.5). Real clock only.
 *   rollout-good   in-house, then the phones resync on the server's schedule
 *                  while a server rollout (docs/rollouts.md) admits them to the
 *                  new load stage by stage; goal: every phone runs it.
 *   rollout-bad    the same with a bad image: on --bad-share (30 %) of the
 *                  phones it fails verification (--fault verify: the phone
 *                  keeps its load and reports Last_Upgrade_Result when asked)
 *                  or the phone never comes back (--fault brick); the server
 *                  must halt within its canary; runs until --duration.
 *
 * A scenario is bounded: a default duration and a maximum that --duration
 * cannot exceed; it stops earlier when its goal is reached by every phone
 * (unless it is a steady-state measurement). Provisioned phones get the
 * short jittered retry schedule the server provisions (DESIGN 8).
 *
 * Ownership: the scenario table is static; a pv_fleet_plan is a value.
 */
#ifndef PV_FLEET_SCENARIO_H
#define PV_FLEET_SCENARIO_H

#include "core/buf.h"
#include "core/error.h"
#include "fleet/content.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    PV_SCN_POWER_RESTORE,
    PV_SCN_STEADY,
    PV_SCN_DAILY,
    PV_SCN_FIRMWARE,
    PV_SCN_OUTAGE,
    PV_SCN_RETAIL,
    PV_SCN_IN_HOUSE,
    PV_SCN_REPORTS,
    PV_SCN_PUSH,
    PV_SCN_ROLLOUT_GOOD,
    PV_SCN_ROLLOUT_BAD,
} pv_fleet_scenario_kind;

/* What goes wrong with the rollout-bad image on the phones it hurts. */
typedef enum {
    PV_FAULT_NONE,
    PV_FAULT_VERIFY, /* the image fails verification: $UPGERR, the old load stays */
    PV_FAULT_BRICK,  /* the phone installs it and never comes back */
} pv_fleet_fault;

typedef enum {
    PV_GOAL_RESYNC,  /* a successful resync finished at or after goal_after */
    PV_GOAL_SWVER,   /* running the firmware wave's new load */
    PV_GOAL_SECPRV2, /* provisioning state SEC-PRV-2 */
    PV_GOAL_REPORT,  /* SEC-PRV-2, then a report answered 200 */
    PV_GOAL_PUSH,    /* plan.pushes resyncs, each after an accepted SIP NOTIFY */
    PV_GOAL_SWVER_RESYNC, /* a resync while running the new load: the server saw it back */
} pv_fleet_goal;

typedef struct pv_fleet_scenario {
    pv_fleet_scenario_kind kind;
    const char *name;
    const char *summary;
    uint64_t default_s; /* duration when --duration is not given */
    uint64_t max_s;     /* --duration above this is refused */
} pv_fleet_scenario;

const pv_fleet_scenario *pv_fleet_scenario_find(const char *name);
/* The table, for --help. */
const pv_fleet_scenario *pv_fleet_scenarios(size_t *count);

typedef struct pv_fleet_plan_options {
    uint64_t duration_s; /* 0 = the scenario's default */
    uint64_t period_s;   /* steady/outage Resync_Periodic; 0 = 60 */
    int random_delay;    /* Resync_Random_Delay units; -1 = the factory value */
    uint64_t wave_s;     /* retail: binding wave length; 0 = 60 */
    uint64_t outage_s;   /* outage length; 0 = 2 periods */
    uint32_t pushes;     /* push: NOTIFY-caused resyncs per phone; 0 = 1 */
    pv_fleet_fault fault; /* rollout-bad: PV_FAULT_NONE = verify */
    unsigned bad_share;   /* rollout-bad: % of phones the image hurts; 0 = 30 */
} pv_fleet_plan_options;

#define PV_FLEET_MAX_PLAN_PHASES 4

/* A scenario's timeline, resolved from its options (ms of scenario time). */
typedef struct pv_fleet_plan {
    const pv_fleet_scenario *scenario;
    uint64_t duration_ms;
    pv_fleet_goal goal;
    uint64_t goal_after_ms;
    bool stop_at_goal;                       /* end when every phone reached the goal */
    bool factory_fresh;                      /* phones start in MFG-RESET (retail) */
    bool await_sec_prv_1;                    /* resync at once when SEC-PRV-1 is reached */
    bool report_after_upgrade; /* the provider asks for a report after a failed upgrade */
    pv_fleet_fault fault;      /* what the image does to the phones it hurts */
    unsigned bad_share;        /* % of phones it hurts (by a hash of seed and index) */
    uint64_t outage_begin_ms, outage_end_ms; /* equal: no outage */
    uint64_t wave_begin_ms, wave_ms;         /* retail: binding times spread over this */
    uint32_t time_of_day_ms;                 /* at scenario time 0 */
    uint64_t period_s;
    int random_delay;
    uint32_t pushes; /* push: the goal's count */
    struct {
        const char *name;
        uint64_t start_ms;
    } phase[PV_FLEET_MAX_PLAN_PHASES];
    size_t nphases;
} pv_fleet_plan;

int pv_fleet_plan_make(const pv_fleet_scenario *sc, const pv_fleet_plan_options *o,
                       pv_fleet_plan *out, pv_error *err);

/*
 * The local configuration a phone holds before the scenario starts (what an
 * earlier provisioning left), as a flat profile for pv_agent_apply_config;
 * empty for a factory-fresh phone. base_url is its server ("https://host:port").
 */
void pv_fleet_plan_config(const pv_fleet_plan *p, const pv_fleet_ident *id, const char *base_url,
                          pv_buf *xml);

/* rollout-bad: whether the image hurts phone index. */
bool pv_fleet_plan_hurts(const pv_fleet_plan *p, uint64_t seed, uint32_t index);

/* Retail: when the customer binds phone `index` (spread evenly over the wave by a hash). */
uint64_t pv_fleet_plan_kick_ms(const pv_fleet_plan *p, uint64_t seed, uint32_t index);

#endif
