/*
 * reports.h — status reports uploaded by phones (spec 7.1).
 *
 * A phone with `Report_Rule [--key $SA] http://HOST/report/$MA.xml` POSTs
 * (or PUTs, MPP HTTP_Report_Method; TFTP: a write request) its parameters as
 * XML, encrypted like a profile: AES-256-CBC in the OpenSSL format with its
 * key (md5 tried first, then sha256 — spec 4.1 recommendation), or RFC 8188
 * when the upload says `Content-Encoding: aes128gcm` (spec 4.3), optionally
 * gzipped. The current key is tried first, then the previous one while a
 * rotation is unconfirmed. The plaintext must parse as a flat profile; it is
 * stored as the device's last report (store reports).
 *
 * Who may report (docs/security.md): a report is the device's word about
 * itself, so it is accepted only when it proves to come from the device:
 * encrypted with the device's key, or sent over HTTPS with a verified client
 * certificate naming the device (and, when the store holds a fingerprint for
 * it, that very certificate); only then may the body be plain XML or gzip.
 * Anything else is refused before it touches the store. Every upload is also
 * bounded in size (max_bytes, before and after decryption and gunzip) and in
 * rate: a device's authenticated reports beyond per_hour in a fixed hour are
 * refused (the counter is the store's, so it holds across loop threads and
 * nodes; forged uploads never spend a device's allowance). Every outcome is
 * counted (pv_reports_metrics, provisor_reports_total{outcome}).
 *
 * pv_report_diff() compares that last report with what the device is
 * rendered now: what `provisor device report MAC` shows.
 */
#ifndef PV_SERVER_REPORTS_H
#define PV_SERVER_REPORTS_H

#include "core/buf.h"
#include "core/device_id.h"
#include "core/error.h"
#include "server/identity.h"
#include "server/prov_policy.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

/* Defaults of [provisioning] report_max_bytes and reports_per_hour. A full
 * report of every parameter a phone knows is tens of KiB (docs/security.md
 * gives the measured size); spec 7.1 phones report at most every 10 s on a
 * local change, usually once at boot and every periodic_upload_to_server. */
#define PV_REPORT_MAX_DEFAULT ((size_t)256 << 10)
#define PV_REPORT_PER_HOUR_DEFAULT 60u

typedef enum {
    PV_REPORT_STORED,
    PV_REPORT_UNKNOWN_DEVICE,  /* 404 */
    PV_REPORT_TOO_LARGE,       /* 413 */
    PV_REPORT_UNAUTHENTICATED, /* 403: plain, and no certificate of the device */
    PV_REPORT_UNDECRYPTABLE,   /* 403: encrypted, but no key of the device opens it */
    PV_REPORT_RATE_LIMITED,    /* 429 */
    PV_REPORT_MALFORMED,       /* 400: not a flat profile */
    PV_REPORT_FAILED,          /* the store failed */
    PV_REPORT__COUNT
} pv_report_outcome;

/* "stored", "unknown_device", "too_large", ... (the metric's label). */
const char *pv_report_outcome_name(pv_report_outcome o);

typedef struct pv_report_upload {
    const char *mac;              /* from the path (pv_reports_path) */
    const char *kind;             /* "full", "status" or "delta" */
    pv_slice body;                /* as received */
    const char *content_encoding; /* the request's header, NULL when absent */
    const pv_ident *who;          /* the request's identity (certificate), or NULL */
    size_t max_bytes;             /* 0 = PV_REPORT_MAX_DEFAULT */
    unsigned per_hour;            /* 0 = PV_REPORT_PER_HOUR_DEFAULT */
} pv_report_upload;

/*
 * True when path is `/<report_prefix>/<name>` whose name holds a MAC;
 * *kind is "delta" or "status" when the name says so (`$MA-status.xml`),
 * else "full".
 */
bool pv_reports_path(const pv_prov_policy *pol, pv_slice path, pv_mac *mac, const char **kind);

/*
 * Authenticates, decrypts, checks and stores an upload, and counts its
 * outcome (*outcome, may be NULL). PV_ENOENT for an unknown device,
 * PV_ETOOBIG beyond max_bytes, PV_EACCES for a plain upload without the
 * device's certificate (or with another device's), PV_EDECRYPT when none of
 * its keys opens the body, PV_ELIMIT beyond per_hour, PV_EFORMAT when the
 * plaintext is not a flat profile; nothing is stored then. *id (may be
 * NULL) receives the report id.
 */
int pv_reports_accept(pv_store *s, const pv_report_upload *up, int64_t now, int64_t *id,
                      pv_report_outcome *outcome, pv_error *err);

/* The HTTP status that answers an upload refused with rc (200 for 0). */
int pv_reports_status(int rc);

/* Appends provisor_reports_total{outcome} (Prometheus text) for /metrics. */
void pv_reports_metrics(pv_buf *out);

/*
 * Appends to out one line per difference between the device's last report
 * and its rendering under pol: `~ Name: rendered "x", reported "y"`,
 * `- Name: rendered "x", not reported`, `+ Name: reported "y", not
 * rendered` (only with all). The report's kind decides what is compared
 * (issue 13; spec 7.1): a full report against every rendered parameter, a
 * delta only on the parameters it names, a status report not at all (its
 * values are the phone's state). Secrets — the secret registers and every
 * parameter the store seals (passwords) — are never a difference for not being
 * reported, and their values are never written: `~ Password_1_: rendered and
 * reported differ (values masked)`. *count (may be NULL) receives the number
 * of differences. PV_ENOENT when the device has no report.
 */
/* What a diff of a report of kind compares, in words (for people). */
const char *pv_report_kind_compares(const char *kind);

/* What the report shows people: body (a flat profile) with the value of every
 * secret parameter replaced by PV_REPORT_MASK, serialized again. */
#define PV_REPORT_MASK "********"
int pv_report_masked(pv_slice body, pv_buf *out, pv_error *err);

int pv_report_diff(pv_store *s, const pv_prov_policy *pol, const char *mac, bool all, pv_buf *out,
                   size_t *count, pv_error *err);

/* One difference of pv_report_compare: '~' rendered and reported differ, '-' rendered and not
 * reported, '+' reported and not rendered. The slices point into the compare's own data and
 * live until fn returns. masked: a secret, whose values must not be shown. */
typedef struct pv_report_difference {
    char change;
    pv_slice name, rendered, reported; /* "" where absent */
    bool masked;
} pv_report_difference;
typedef void (*pv_report_compare_fn)(void *data, const pv_report_difference *d);

/* The comparison pv_report_diff writes out, as structured differences for a page (the console's
 * report diff view): report report_id of the device (0: its last one; PV_ENOENT when the device
 * has none or the report is another device's), with the same rules of kinds and secrets. *kind
 * (may be NULL) receives the report's kind ("full", "delta", "status"). */
int pv_report_compare(pv_store *s, const pv_prov_policy *pol, const char *mac, int64_t report_id,
                      bool all, pv_report_compare_fn fn, void *data, char kind[8], pv_error *err);

#endif
