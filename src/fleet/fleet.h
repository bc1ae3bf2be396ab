/*
 * fleet.h — many emulated phones on one event loop: the load generator of
 * our benchmarks and a what-if tool for providers (issue 6).
 *
 * Every phone is a pv_agent (provisor/agent.h) over its family's shared,
 * read-only pv_agent_defaults; it holds only its own differences (~1-3 KB).
 * The fleet keeps one schedule entry per phone (sched.h) instead of a timer,
 * performs the phones' FETCH actions with the libcurl-on-libuv fetcher
 * (net/fetch.h) — or, with a virtual clock, with the virtual server model
 * (vserver.h), which runs a day of a 100 000-phone fleet in seconds — and
 * records what happened (stats.h) against the scenario's timeline
 * (scenario.h).
 *
 * Bounded by construction: the run stops at the plan's duration (itself
 * capped per scenario) or when every phone reached the goal; requests in
 * flight are capped (--max-in-flight: a phone whose request would exceed it
 * waits, and that wait counts in its latency); every server URL passes the
 * loopback guard (guard.h) before anything is sent.
 *
 * Ownership: the caller owns the pv_fleet (pv_fleet_free). Strings in the
 * config are borrowed for the fleet's life.
 */
#ifndef PV_FLEET_FLEET_H
#define PV_FLEET_FLEET_H

#include "core/error.h"
#include "fleet/content.h"
#include "fleet/host.h"
#include "fleet/scenario.h"
#include "fleet/stats.h"
#include "fleet/vserver.h"

#include <stdbool.h>
#include <stdint.h>

#define PV_FLEET_MAX_SERVERS 8

typedef struct pv_fleet_config {
    const pv_fleet_scenario *scenario;
    pv_fleet_plan_options plan;
    uint32_t phones;
    uint64_t seed;
    pv_fleet_mix mix;
    /* base URLs (scheme://host:port); phone i uses servers[i % nservers] */
    const char *servers[PV_FLEET_MAX_SERVERS];
    size_t nservers;
    bool virtual_clock;
    pv_vserver_model vmodel;
    uint32_t max_in_flight; /* 0 = 1000 */
    const char *ca_file;    /* server CA bundle for HTTPS; NULL: no server verification */
    const char *certs_dir;  /* <mac>.pem (certificate and key) per phone, or NULL */
    uint32_t cert_pool;     /* phones share the certificates of phones 0..pool-1; 0 = own */
    size_t firmware_size;   /* bytes of firmware images (firmware wave); 0 = 64 KiB */
    unsigned timeout_ms;    /* whole request; 0 = 60 s */
    /* retail: phone i enters codes[i] (a provisioning server's codes); NULL: the fleet's own */
    char **codes;
    uint32_t ncodes;
    bool progress; /* a live line on stderr (the CLI passes isatty(2)) */
    bool progress_lines; /* with progress: stderr is no terminal, a whole line every 5 s */
    /* phone i connects from its own 127.A.B.C (host.h), as real phones each have an address
     * of their own; false: every phone from the system's choice (127.0.0.1) */
    bool source_addresses;
    /* the phones fetch with libcurl's engine (net/fetch.h) instead of the native one: to
     * compare the two, as bench/storm.sh does */
    bool curl_fetcher;
    /* phone i's SIP user agent on its source address at this port (fleet_sip.h); 0: no SIP */
    uint16_t sip_port;
} pv_fleet_config;

void pv_fleet_config_default(pv_fleet_config *c);

/* What a run cost, besides its stats. */
typedef struct pv_fleet_summary {
    double wall_s;          /* real seconds the run took */
    double cpu_s;           /* this process's user+system CPU seconds */
    double setup_s;         /* creating and configuring the phones */
    uint64_t scenario_ms;   /* scenario time at the end */
    uint64_t agent_bytes;   /* sum of pv_agent_memory over the phones, after the run */
    uint64_t rss_before;    /* resident bytes before the phones were made */
    uint64_t rss_phones;    /* resident bytes once they are made and configured */
    uint64_t rss_end;       /* at the end of the run */
    uint64_t rss_peak;      /* VmHWM */
    uint64_t connections;   /* real mode: new connections */
    uint32_t sip_registered; /* --sip: phones whose line 1 was registered at the end */
    uint32_t sip_notified;   /* --sip: phones that resynced on a NOTIFY they accepted */
    bool goal_all;          /* every phone reached the goal */
    bool interrupted;       /* SIGINT */
    const char *stopped_by; /* "goal", "duration", "signal" */
} pv_fleet_summary;

typedef struct pv_fleet pv_fleet;

/* Checks the config (guard, certificates), builds and configures the phones. */
int pv_fleet_new(pv_fleet **out, const pv_fleet_config *cfg, pv_error *err);
/* Runs the scenario to its end (virtual clock: as fast as it computes). */
int pv_fleet_run(pv_fleet *f, pv_error *err);
const pv_fleet_stats *pv_fleet_get_stats(const pv_fleet *f);
const pv_fleet_plan *pv_fleet_get_plan(const pv_fleet *f);
const pv_fleet_config *pv_fleet_get_config(const pv_fleet *f);
const pv_fleet_summary *pv_fleet_get_summary(const pv_fleet *f);
/* How many phones are in each provisioning state (indexed by pv_agent_prov_state). */
void pv_fleet_prov_states(const pv_fleet *f, uint32_t counts[4]);
void pv_fleet_free(pv_fleet *f);

#endif
