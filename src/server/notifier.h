/*
 * notifier.h — the server makes phones resync, reboot and report: SIP NOTIFY
 * (spec 5.5) sent through the provider's SIP proxy or straight to a phone.
 *
 * What it is for: after a change, an operator (`provisor device resync`,
 * POST /api/v1/devices/{mac}/actions) wants phones to fetch their profile now
 * rather than at their next Resync_Periodic. A job is a list of targets —
 * each the line's address of record (sip:User_ID_1_@Proxy_1_) and the
 * line's credentials, which the server renders itself — and one event. Each
 * target gets a NOTIFY to its AOR, sent to [sip] outbound_proxy (the proxy
 * routes it to the contact the phone registered, behind its NAT) or, with no
 * proxy, to the address given with the target. The phone's 401 is answered
 * once with the line's credentials (RFC 3261 §22.2; core/http_digest).
 *
 * Per target, `via` chooses the path: the proxy, or straight to the phone at
 * the address it last provisioned from (a LAN without a proxy).
 *
 * Outcome of a target: ok (2xx), not-registered (404, 480, 481: the proxy
 * knows no contact), auth-failed (a 401 after our answer), refused (403 and
 * other final answers), timeout (no final answer within timeout_ms, after
 * `retries` more attempts with doubling backoff from 2 s), error (unsendable).
 * A job starts at most `rate` NOTIFYs per second, so the resyncs they cause
 * stay within the server's admission limits.
 *
 * Threads: a notifier lives on one loop (the admin loop, where the API runs)
 * and is used from that thread only. Ownership: the caller owns it until
 * close's callback. It keeps only what running jobs need (the oldest
 * finished ones are forgotten beyond PV_NOTIFIER_JOBS): outcomes go to the
 * recorder, which keeps them (the admin API stores them).
 */
#ifndef PV_SERVER_NOTIFIER_H
#define PV_SERVER_NOTIFIER_H

#include "core/buf.h"
#include "core/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define PV_NOTIFIER_JOBS 64

typedef struct pv_notifier pv_notifier;

typedef struct pv_notifier_options {
    const char *listen;         /* our UDP address: "127.0.0.1:0" (any port) */
    bool tcp;                   /* NOTIFY over TCP (net/sip_tcp.h) instead of UDP */
    const char *outbound_proxy; /* "host:port" (an IP literal) or NULL: to each target */
    unsigned timeout_ms;        /* one attempt; 0: 8000 */
    unsigned retries;           /* attempts after a timeout */
    unsigned rate;              /* NOTIFYs started per second by a job; 0: 100 */
} pv_notifier_options;

/* How a target is reached (an account's choice, docs/api.md "Device actions"). */
typedef enum {
    PV_NOTIFY_VIA_DEFAULT = 0, /* the proxy when one is configured, else direct */
    PV_NOTIFY_VIA_PROXY,       /* [sip] outbound_proxy; error when none is configured */
    PV_NOTIFY_VIA_DIRECT,      /* straight to `direct`, the address it last provisioned from */
} pv_notify_via;

typedef struct pv_notify_target {
    char mac[13];
    char user[128], password[128]; /* User_ID_1_, Password_1_ */
    char domain[256];              /* Proxy_1_: the AOR is sip:user@domain */
    char direct[80];               /* host:port of the phone (its last address, SIP_Port_1_) */
    pv_notify_via via;
} pv_notify_target;

typedef enum {
    PV_NOTIFY_PENDING = 0,
    PV_NOTIFY_OK,
    PV_NOTIFY_NOT_REGISTERED,
    PV_NOTIFY_AUTH_FAILED,
    PV_NOTIFY_REFUSED,
    PV_NOTIFY_TIMEOUT,
    PV_NOTIFY_ERROR,
} pv_notify_outcome;
#define PV_NOTIFY_OUTCOMES 7

/* "pending", "ok", "not-registered", "auth-failed", "refused", "timeout", "error". */
const char *pv_notify_outcome_name(pv_notify_outcome o);
/* "resync" → Event "resync", "check-sync" → "check-sync", "reboot" → "reboot_now",
 * "restart" → "restart_now", "report-request" → "report"; NULL for another action. */
const char *pv_notify_event_of(const char *action);

int pv_notifier_new(uv_loop_t *loop, const pv_notifier_options *o, pv_notifier **out,
                    pv_error *err);
/* Starts a job (targets copied) under id (the store's; 0: the notifier numbers it); rate 0:
 * the notifier's. Returns the job id (≥ 1), 0 when PV_NOTIFIER_JOBS jobs are running. */
uint64_t pv_notifier_submit(pv_notifier *n, uint64_t id, const char *action,
                            const pv_notify_target *targets, size_t count, unsigned rate);

/* How a job waits for phones that are not reachable yet (the NOTIFY after a binding: the phone
 * registers its line only once it applied the profile that names it). */
typedef struct pv_notify_job_options {
    unsigned rate;           /* 0: the notifier's */
    unsigned delay_ms;       /* the first NOTIFY of the job after this long */
    bool await_registration; /* not-registered is retried as a timeout is, with backoff */
    unsigned retries;        /* attempts after a timeout (or not-registered); 0: the notifier's */
} pv_notify_job_options;
uint64_t pv_notifier_submit_with(pv_notifier *n, uint64_t id, const char *action,
                                 const pv_notify_target *targets, size_t count,
                                 const pv_notify_job_options *o);

/* One finished target, as handed to the recorder. */
typedef struct pv_notify_result {
    char mac[13];
    pv_notify_outcome outcome;
    int status;
    unsigned attempts;
    bool challenged;
    const char *via; /* "proxy", "direct" or "" */
} pv_notify_result;
/* Receives finished targets in batches (at most every 200 ms, and at pv_notifier_flush and
 * close), grouped by job, so that they are stored without a write per answer. */
typedef void (*pv_notify_recorder)(void *data, uint64_t job, const pv_notify_result *r,
                                   size_t n);
void pv_notifier_set_recorder(pv_notifier *n, pv_notify_recorder fn, void *data);
/* Hands what finished so far to the recorder now. */
void pv_notifier_flush(pv_notifier *n);
/* Whether a job can be submitted now (fewer than PV_NOTIFIER_JOBS running). */
bool pv_notifier_has_room(const pv_notifier *n);
/* The default NOTIFYs per second of a job. */
unsigned pv_notifier_rate(const pv_notifier *n);
/* Whether job id is still running in this notifier. */
bool pv_notifier_running(const pv_notifier *n, uint64_t id);
/* Totals since start: NOTIFY transactions finished per outcome (for /metrics). */
void pv_notifier_totals(const pv_notifier *n, uint64_t out[PV_NOTIFY_OUTCOMES]);
const char *pv_notifier_address(const pv_notifier *n);
/* provisor_sip_notify_total{outcome=...} of every notifier of the process (Prometheus text). */
void pv_notifier_metrics(pv_buf *out);
void pv_notifier_close(pv_notifier *n, void (*done)(void *data), void *data);

#endif
