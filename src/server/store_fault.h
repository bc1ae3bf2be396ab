/*
 * store_fault.h — what a failing store means to the phones and to the
 * operator (issue 19 item 1).
 *
 * A store call answers in one of two ways: with an answer (the row, or "no
 * such device": PV_ENOENT, "taken": PV_EEXIST, ...), or by failing (the
 * database is down, the connection was lost, a lock was held too long:
 * PV_ESTORE, PV_EBUSY, PV_EIO). A failure is never turned into an answer: a
 * phone told 404 believes it has no profile (spec 8.3 class B,
 * Resync_Fails_On_FNF), so the provisioning handler answers a failure with
 * 503 and Retry-After (spec 8.3 class C: the phone retries after
 * Resync_Error_Retry_Delay; over TFTP an error 0 "store unavailable" that it
 * retries likewise).
 *
 * This module also keeps the process-wide health of the store, which every
 * loop thread updates (relaxed atomics, nothing to initialise): the first
 * failure after a success logs one `store.unavailable` line, and the first
 * success after failures one `store.recovered` line with how many requests
 * failed and for how long, so an outage is two lines however busy the server
 * is (a failure burst that lasts longer repeats its line once a minute).
 * /healthz and /readyz answer 503 while the store is down, and /metrics
 * shows `provisor_store_up` and `provisor_store_failures_total`.
 */
#ifndef PV_SERVER_STORE_FAULT_H
#define PV_SERVER_STORE_FAULT_H

#include "core/buf.h"
#include "core/error.h"

#include <stdbool.h>
#include <stdint.h>

/* Seconds a client is told to wait (Retry-After) when the store failed. */
#define PV_STORE_RETRY_AFTER_S 5

/* Whether rc is the store failing rather than answering. */
bool pv_store_fault(int rc);

/* The HTTP status for a store call that returned rc != 0: 503 when the
 * store failed, else `answer` (the status that the answer rc means to the
 * caller, e.g. 404 for PV_ENOENT). */
int pv_store_fault_status(int rc, int answer);

/* A store call failed (pv_store_fault(rc)): counted, logged once per burst.
 * what names the operation ("profile", "report", "probe"); err its message. */
void pv_store_health_failed(const char *what, const pv_error *err);
/* A store call succeeded: ends a burst (one `store.recovered` line). */
void pv_store_health_ok(void);
/* False from a failure until the next success. */
bool pv_store_health_up(void);
/* Prometheus text of provisor_store_up and provisor_store_failures_total. */
void pv_store_health_render(pv_buf *out);
/* Back to "up" with no failures (tests). */
void pv_store_health_reset(void);

#endif
