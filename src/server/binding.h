/*
 * binding.h — retail binding by code (DESIGN decision 5, spec 12.2 step 2).
 *
 * The customer types `http://PHONE/admin/resync?https://HOST/<prefix>/<code>`;
 * the phone asks for it over HTTPS with its manufacturer certificate. The
 * handler routes `/<prefix>/...` before anything reads a MAC from a path (a
 * 12-digit code reads as one) and redacts the path before anything logs it.
 * pv_binding_redeem():
 *
 *   - wants a verified certificate that names a MAC before anything else: a
 *     request without one is refused and charges no counter (issue 11.7);
 *   - rate limits (store fixed windows): attempts per certificate MAC, and
 *     failure budgets per certificate MAC, per source address and per code
 *     hint (the code's first two characters) that only a code binding
 *     nothing spends, so a launch day's bindings never reach them (issue
 *     19.5; the arithmetic is in docs/security.md);
 *   - refuses a certificate that is not the one pinned to its device
 *     (DESIGN 3), and a device already bound and pinned: the operator
 *     releases it first (`provisor device release`, issue 11.1);
 *   - redeems the code (single use, expiry, per-code attempt cap; the store
 *     keeps only HMAC-SHA256(code) under the master key);
 *   - binds the device — creates it or assigns it to the code's account,
 *     records serial, model and pins the certificate fingerprint — issues
 *     its key and secret directory (keys.h) and moves it to SEC-PRV-1, all in
 *     one transaction with the redemption, so a failure binds nothing and
 *     spends no code;
 *   - answers the same phone (same certificate) bringing the same code again
 *     with the same key and directory (issue 19.3: its answer was lost).
 *
 * The answer (pv_binding_profile) is the SEC-PRV-1 profile: key in GPP_SA
 * (or IKM_HTTP_Encrypt_Content under RFC 8188), directory in GPP_B,
 * `Profile_Rule [--key $SA] http://HOST/$B/$MA.cfg`, and the same rule in
 * Profile_Rule_B and _C: rules run in order within one resync (spec 1.3), a
 * one-shot `/admin/resync?URL` included, so the phone fetches its full
 * profile — SEC-PRV-2 — in the very resync that bound it (the origin
 * chapter's "single step"); the full profile empties _B and _C again.
 *
 * Codes never reach a log whole: only the two-character hint.
 */
#ifndef PV_SERVER_BINDING_H
#define PV_SERVER_BINDING_H

#include "core/buf.h"
#include "core/error.h"
#include "server/identity.h"
#include "server/prov_policy.h"
#include "store/store.h"

#include <stdint.h>

/* Attempts by one verified certificate MAC per PV_BINDING_WINDOW seconds. */
#define PV_BINDING_WINDOW 600
#define PV_BINDING_PER_MAC 10
/* Failure budgets (codes that bound nothing): docs/security.md has the
 * arithmetic behind them. */
#define PV_BINDING_FAIL_MAC_WINDOW (7 * 86400)
#define PV_BINDING_FAILS_PER_MAC 20
#define PV_BINDING_FAIL_WINDOW 3600
#define PV_BINDING_FAILS_PER_SOURCE 200
#define PV_BINDING_FAILS_PER_HINT 60

typedef struct pv_binding_result {
    int status;             /* HTTP status to answer: 200, 403, 429 */
    const char *reason;     /* short reason for logs and the audit */
    int64_t account_id;     /* on success */
    pv_store_secret secret; /* on success: the issued key and directory */
    char hint[3];           /* first two characters of the code, for the audit */
    bool again;             /* the same phone's retry of its own binding (issue 19.3) */
} pv_binding_result;

/*
 * Tries to bind the device that id names with code, asked from source (an
 * address string, for the rate limit). Returns 0 with res->status 200 on
 * success; 0 with 403/429 and a reason when the code binds nothing; a
 * negative code only when the store failed (err says how).
 */
int pv_binding_redeem(pv_store *s, const pv_ident *id, pv_slice code, const char *source,
                      int64_t now, pv_binding_result *res, pv_error *err);

/* A device assigned to an account, pinned to a certificate and past SP-CUST:
 * a new binding needs the operator's release first (issue 11.1). */
bool pv_binding_is_bound(const pv_store_device *d);

/* The SEC-PRV-1 profile (XML) delivering sec to a phone of model. */
int pv_binding_profile(const pv_prov_policy *pol, const char *host, const char *model,
                       const pv_store_secret *sec, pv_buf *out, pv_error *err);

/* In-house pre-provisioning: a known device already assigned to an account
 * asks `/$MA.xml` with its own certificate — it gets SEC-PRV-1 without a
 * code (its current secret, or a first one), and the certificate is pinned
 * when none was. PV_ENOENT when it is unknown or unassigned, PV_EACCES when
 * another certificate is pinned to it. */
int pv_binding_known(pv_store *s, const pv_ident *id, int64_t now, pv_store_secret *sec,
                     pv_error *err);

/*
 * Legacy SPA phones (binding_legacy.c; spec 4.4, 12.2; docs/security.md
 * "SPA phones and our CA"). Their firmware trusts only Cisco's (Sipura's)
 * server CA, so the in-house HTTPS step above cannot reach them unless the
 * operator runs a listener with a certificate from that CA
 * (`legacy_bootstrap_url`). Without one, `legacy_plain_key` lets such a
 * phone, pre-imported and assigned, fetch its first key and directory at
 * `/$MA.xml` over plain HTTP or TFTP: once, while the store says it has
 * none (MFG-RESET or SP-CUST), never for a device with a pinned certificate
 * or `require_cert`, and never again until the operator sets its state back
 * (`provisor device update MAC --state MFG-RESET`).
 */
/* SPA phones and ATAs on SPA firmware (SPA…, PAP…): not multiplatform, not ATA19x. */
bool pv_binding_legacy_model(const char *model);
/* True when this plain request for /$MA.xml is the legacy first-key route. */
bool pv_binding_plain_key_route(const pv_prov_policy *pol, pv_proto proto, const pv_ident *id,
                                const pv_store_device *d);
/* pv_binding_known's plain counterpart for d (the device the path names): its SEC-PRV-1
 * secret, issued now; PV_ENOENT unassigned, PV_EACCES when the rules above refuse. */
int pv_binding_known_plain(pv_store *s, const pv_store_device *d, int64_t now,
                           pv_store_secret *sec, pv_error *err);

/* A new binding code: 12 decimal digits from RAND_bytes without modulo bias, typed on a phone
 * keypad (spec 5.5), about 40 bits, guessing bounded by max_attempts and the binder's rate
 * limits. False when there is no randomness. (The admin API's and the portal's codes.) */
bool pv_binding_new_code(char out[13]);

#endif
