/*
 * job_metrics.h — what the provisioning server did, for /metrics (issue 17):
 * the job, where net/metrics.h counts the transport.
 *
 *   provisor_profiles_served_total{model,state,transport}  bootstrap, SEC-PRV-1, SEC-PRV-2
 *   provisor_refusals_total{action,status}                 every refused request (audit action)
 *   provisor_binding_refusals_total{reason}                why a retail binding was refused
 *   provisor_render_duration_seconds                       histogram of profile renders
 *   provisor_render_errors_total                           renders that failed
 *   provisor_key_rotations_total                           device keys rotated on a fetch
 *   provisor_firmware_downloads_total{image}               images started
 *   provisor_firmware_queue_depth                          downloads waiting for admission
 *   provisor_firmware_queue_wait_seconds                   histogram of that wait
 *   provisor_firmware_queue_timeouts_total                 refused by admission: 503
 *   provisor_store_duration_seconds{op}                    histogram: probe (the loop's one
 *                                                          query a second), commit (a batch)
 *   provisor_certificate_expiry_timestamp_seconds{cert}    server, ca, client_ca (earliest)
 *
 * Label sets are bounded: actions, states, transports and reasons are the
 * code's own literals; models and images come from the store and the
 * firmware directory, and each family keeps at most PV_JOBM_MAX_SERIES
 * distinct label sets (the rest are counted under "other"). No MAC, no code
 * and no peer address is ever a label.
 *
 * Process-wide, thread-safe (each family has its lock: these are counted a
 * few times per request, beside a render that costs far more).
 */
#ifndef PV_SERVER_JOB_METRICS_H
#define PV_SERVER_JOB_METRICS_H

#include "core/buf.h"
#include "net/handler.h"

#include <stdint.h>

#define PV_JOBM_MAX_SERIES 200

void pv_jobm_profile_served(const char *model, const char *state, pv_proto transport);
void pv_jobm_refusal(const char *action, int status);
void pv_jobm_binding_refused(const char *reason);
/* A render that took `seconds`; failed: it returned an error other than "no such device". */
void pv_jobm_render(double seconds, bool failed);
void pv_jobm_key_rotated(void);
void pv_jobm_firmware_download(pv_slice image);
/* delta +1 when a download starts waiting, -1 when it leaves the queue after `waited`. */
void pv_jobm_firmware_queue(int delta, double waited, bool timed_out);
typedef enum { PV_JOBM_STORE_PROBE, PV_JOBM_STORE_COMMIT, PV_JOBM_STORE__COUNT } pv_jobm_store_op;
void pv_jobm_store(pv_jobm_store_op op, double seconds);
/* Reads the expiry of every certificate of the PEM file (the earliest) as `cert`; a file that
 * cannot be read removes the series. */
void pv_jobm_certificate(const char *cert, const char *pem_path);

/* Appends the Prometheus text of every family. */
void pv_jobm_render_text(pv_buf *out);
/* Seconds since an arbitrary start (monotonic), for durations. */
double pv_jobm_now(void);

#endif
