/*
 * rates.h — the server's own traffic per minute over the last hour, for the console's
 * dashboard (issue 13 item 1: "resyncs, failures and refusals per minute ... from the
 * server's own metrics"): a ring of 60 one-minute samples kept in the server, so a
 * dashboard opened now shows the hour before it (a browser would only see from when it
 * was opened).
 *
 * What counts (sums of the counters /metrics exposes):
 *   resyncs   provisor_profiles_served_total — a profile a phone fetched and got;
 *   failures  provisor_render_errors_total, provisor_store_failures_total and failed TLS
 *             handshakes — a phone that asked and got nothing it could use;
 *   refusals  provisor_refusals_total, provisor_refused_total, provisor_binding_refusals_total
 *             and provisor_admission_refused_total — a phone turned away by a rule or a limit.
 *
 * pv_rates_sample() is called every few seconds by one timer (server/daemon.c, the admin
 * loop); it reads the counters and closes a minute when the clock has passed it. The ring is
 * process-wide, behind a mutex: the sampler and the console's page may run on different
 * threads. Nothing to initialise or free.
 */
#ifndef PV_SERVER_RATES_H
#define PV_SERVER_RATES_H

#include <stddef.h>
#include <stdint.h>

#define PV_RATES_MINUTES 60
/* How often the daemon samples (a minute's figure is off by at most this much). */
#define PV_RATES_SAMPLE_MS 5000

typedef struct pv_rates_minute {
    int64_t start; /* seconds since the epoch, a multiple of 60 */
    int64_t resyncs, failures, refusals;
    int complete; /* 0 for the minute now running (its figures so far) */
    int sampled;  /* 0: the server was not sampling then (not running yet): no figure */
} pv_rates_minute;

/* The totals since the server started, read from the counters now. */
typedef struct pv_rates_totals {
    int64_t resyncs, failures, refusals;
} pv_rates_totals;
void pv_rates_totals_now(pv_rates_totals *out);

/* Reads the counters at now (seconds) and closes the minutes it has passed. */
void pv_rates_sample(int64_t now);

/* The last PV_RATES_MINUTES minutes up to now's, oldest first, into out (a minute with no
 * sample — the server was not running, or had just started — counts 0); returns how many
 * (PV_RATES_MINUTES, or 0 before the first sample). */
size_t pv_rates_read(int64_t now, pv_rates_minute out[PV_RATES_MINUTES]);

/* The sum over every label set of a metric family in Prometheus text: "name{...} value" and
 * "name value" lines; with label (e.g. `kind="failed"`) only the lines holding it. */
int64_t pv_rates_metric_sum(const char *text, const char *name, const char *label);

/* Forgets every sample (tests). */
void pv_rates_reset(void);

#endif
