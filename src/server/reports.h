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
 * pv_report_diff() compares that last report with what the device is
 * rendered now: what `provisor device report MAC` shows.
 */
#ifndef PV_SERVER_REPORTS_H
#define PV_SERVER_REPORTS_H

#include "core/buf.h"
#include "core/device_id.h"
#include "core/error.h"
#include "server/prov_policy.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

/* Largest upload decoded (a full report of every parameter is ~100 KiB). */
#define PV_REPORT_MAX ((size_t)4 << 20)

/*
 * True when path is `/<report_prefix>/<name>` whose name holds a MAC;
 * *kind is "delta" or "status" when the name says so (`$MA-status.xml`),
 * else "full".
 */
bool pv_reports_path(const pv_prov_policy *pol, pv_slice path, pv_mac *mac, const char **kind);

/*
 * Decrypts, checks and stores an upload from device mac. content_encoding is
 * the request's header (NULL when absent). PV_ENOENT for an unknown device,
 * PV_EDECRYPT when none of its keys opens the body, PV_EFORMAT when the
 * plaintext is not a flat profile. *id (may be NULL) receives the report id.
 */
int pv_reports_accept(pv_store *s, const char *mac, const char *kind, pv_slice body,
                      const char *content_encoding, int64_t now, int64_t *id, pv_error *err);

/*
 * Appends to out one line per difference between the device's last report
 * and its rendering under pol: `~ Name: rendered "x", reported "y"`,
 * `- Name: rendered "x", not reported`, `+ Name: reported "y", not
 * rendered` (only with all). Secret registers, which phones never report
 * (spec 3.4), are skipped. *count (may be NULL) receives the number of
 * differences. PV_ENOENT when the device has no report.
 */
int pv_report_diff(pv_store *s, const pv_prov_policy *pol, const char *mac, bool all, pv_buf *out,
                   size_t *count, pv_error *err);

#endif
