/*
 * binding.h — retail binding by code (DESIGN decision 5, spec 12.2 step 2).
 *
 * The customer types `https://HOST/<prefix>/<code>` into the phone
 * (`/admin/resync?...`); the phone asks for it over HTTPS with its
 * manufacturer certificate. pv_binding_redeem():
 *
 *   - rate limits first (store fixed windows): per source address, per
 *     certificate MAC and per code hint (the code's first two characters, so
 *     a guesser walking the code space hits one counter per prefix);
 *   - wants a verified certificate that names a MAC;
 *   - redeems the code (single use, expiry, per-code attempt cap; the store
 *     keeps only SHA-256(code), so comparison never runs over the secret);
 *   - binds the device — creates it or assigns it to the code's account,
 *     records serial, model and certificate fingerprint — issues its key and
 *     secret directory (keys.h) and moves it to SEC-PRV-1, all in one
 *     transaction with the redemption, so a failure binds nothing and spends
 *     no code.
 *
 * The answer (pv_binding_profile) is the SEC-PRV-1 profile: key in GPP_SA
 * (or IKM_HTTP_Encrypt_Content under RFC 8188), directory in GPP_B,
 * `Profile_Rule [--key $SA] http://HOST/$B/$MA.cfg`, and the same rule in
 * Profile_Rule_B so that the phone fetches its full profile in the same
 * resync (spec 1.3: _B runs right after Profile_Rule).
 *
 * Codes never reach a log whole (pv_log_redacted): only the caller's audit
 * record of the hint.
 */
#ifndef PV_SERVER_BINDING_H
#define PV_SERVER_BINDING_H

#include "core/buf.h"
#include "core/error.h"
#include "server/identity.h"
#include "server/prov_policy.h"
#include "store/store.h"

#include <stdint.h>

/* Rate-limit windows (seconds) and hits allowed in one. */
#define PV_BINDING_WINDOW 600
#define PV_BINDING_PER_SOURCE 20
#define PV_BINDING_PER_MAC 10
#define PV_BINDING_PER_HINT 50

typedef struct pv_binding_result {
    int status;             /* HTTP status to answer: 200, 403, 429 */
    const char *reason;     /* short reason for logs and the audit */
    int64_t account_id;     /* on success */
    pv_store_secret secret; /* on success: the issued key and directory */
    char hint[3];           /* first two characters of the code, for the audit */
} pv_binding_result;

/*
 * Tries to bind the device that id names with code, asked from source (an
 * address string, for the rate limit). Returns 0 with res->status 200 on
 * success; 0 with 403/429 and a reason when the code binds nothing; a
 * negative code only when the store failed (err says how).
 */
int pv_binding_redeem(pv_store *s, const pv_ident *id, pv_slice code, const char *source,
                      int64_t now, pv_binding_result *res, pv_error *err);

/* The SEC-PRV-1 profile (XML) delivering sec to a phone of model. */
int pv_binding_profile(const pv_prov_policy *pol, const char *host, const char *model,
                       const pv_store_secret *sec, pv_buf *out, pv_error *err);

/* In-house pre-provisioning: a known device already assigned to an account
 * asks `/$MA.xml` with its own certificate — it gets SEC-PRV-1 without a
 * code (its current secret, or a first one). PV_ENOENT when it is unknown or
 * unassigned. */
int pv_binding_known(pv_store *s, const pv_ident *id, int64_t now, pv_store_secret *sec,
                     pv_error *err);

#endif
