/*
 * stats.h — what a fleet run measured: latency histograms per phase,
 * failures by cause, when each phone reached the scenario's goal, and a time
 * series for the plot.
 *
 * Latencies go into HDR-style log-linear histograms: exact below 32 µs, then
 * 32 linear sub-buckets per power of two, so every percentile is within
 * 1/32 (3 %) of the true value whatever the range, in a fixed 4.7 KB per
 * histogram — 100 000 requests or 10 million cost the same. A request's
 * latency counts in the phase in which it started.
 *
 * Time here is scenario time in milliseconds (the virtual clock, or real
 * time since the start); latencies are in microseconds of the transport's
 * clock. Ownership: the caller owns pv_fleet_stats and frees it with
 * pv_fleet_stats_free(); it holds 4 bytes per phone plus the series.
 */
#ifndef PV_FLEET_STATS_H
#define PV_FLEET_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* exact values 0..31, then 32 sub-buckets for each power of two 2^5 .. 2^40 µs */
#define PV_HIST_SUB 32
#define PV_HIST_BUCKETS (PV_HIST_SUB + 36 * PV_HIST_SUB)

typedef struct pv_hist {
    uint64_t count, sum, min, max;
    uint32_t bucket[PV_HIST_BUCKETS];
} pv_hist;

void pv_hist_init(pv_hist *h);
void pv_hist_add(pv_hist *h, uint64_t value);
/* The value at percentile p (0 < p <= 100), within 3 %; 0 when empty. */
uint64_t pv_hist_percentile(const pv_hist *h, double p);
/* The bucket of a value, and the smallest value of a bucket (tests and merging). */
size_t pv_hist_bucket_of(uint64_t value);
uint64_t pv_hist_bucket_low(size_t bucket);

#define PV_FLEET_MAX_PHASES 8
#define PV_FLEET_MAX_CAUSES 24

typedef struct pv_fleet_phase {
    char name[24];
    uint64_t start_ms; /* scenario time the phase begins */
    uint64_t requests, ok, failed;
    pv_hist latency; /* µs, requests that got an answer or failed */
} pv_fleet_phase;

typedef struct pv_fleet_cause {
    char name[32]; /* "connect", "timeout", "tls", "http 503", "corrupt", ... */
    uint64_t count;
} pv_fleet_cause;

/* One slot of the time series (slot_ms wide). */
typedef struct pv_fleet_slot {
    uint32_t arrivals;    /* requests asked for by phones (including those that wait) */
    uint32_t completions; /* requests answered successfully */
    uint32_t failures;    /* requests failed */
    uint32_t goals;       /* phones that reached the goal */
    uint64_t latency_sum; /* µs, of the requests finished in the slot */
    uint32_t latency_max; /* µs (saturating) */
} pv_fleet_slot;

typedef struct pv_fleet_stats {
    uint32_t phones;
    pv_fleet_phase phase[PV_FLEET_MAX_PHASES];
    size_t nphases;
    pv_fleet_cause cause[PV_FLEET_MAX_CAUSES];
    size_t ncauses;
    uint32_t *goal_ms; /* per phone: scenario ms it reached the goal, UINT32_MAX = not */
    uint32_t reached;
    uint64_t requests, ok, failed;
    uint32_t in_flight, in_flight_max;
    pv_fleet_slot *slot;
    size_t nslots;
    uint64_t slot_ms;
    uint64_t end_ms; /* scenario time the run stopped */
} pv_fleet_stats;

/* duration_ms bounds the series (slots of at least 1 s, at most ~1200 slots). */
void pv_fleet_stats_init(pv_fleet_stats *s, uint32_t phones, uint64_t duration_ms);
void pv_fleet_stats_free(pv_fleet_stats *s);
/* Declares a phase starting at start_ms (phases in time order; at most PV_FLEET_MAX_PHASES). */
void pv_fleet_stats_phase(pv_fleet_stats *s, const char *name, uint64_t start_ms);
/* The phase in force at t. */
pv_fleet_phase *pv_fleet_stats_phase_at(pv_fleet_stats *s, uint64_t t);

void pv_fleet_stats_request(pv_fleet_stats *s, uint64_t t);
/* A request started at start_ms finished at t after latency_us; cause NULL = success. */
void pv_fleet_stats_done(pv_fleet_stats *s, uint64_t start_ms, uint64_t t, uint64_t latency_us,
                         const char *cause);
/* A failure that is not a request's (e.g. a profile that did not decrypt): counted by cause. */
void pv_fleet_stats_cause(pv_fleet_stats *s, const char *cause);
/* Phone reached the goal at t (the first time only counts). */
void pv_fleet_stats_goal(pv_fleet_stats *s, uint32_t phone, uint64_t t);

/*
 * Time at which pct % of the whole fleet had reached the goal; false when
 * fewer phones than that ever did.
 */
bool pv_fleet_stats_time_to(const pv_fleet_stats *s, double pct, uint64_t *ms);

#endif
