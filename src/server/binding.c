/* binding.c — code redemption, device binding, the SEC-PRV-1 profile; see binding.h. */
#include "server/binding.h"

#include "core/alloc.h"
#include "core/param.h"
#include "core/xml_profile.h"
#include "net/metrics.h"
#include "server/keys.h"

#include <openssl/rand.h>
#include <ctype.h>
#include <openssl/crypto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool code_syntax_ok(pv_slice code)
{
    if (code.len < 4 || code.len > 64)
        return false;
    for (size_t i = 0; i < code.len; i++) {
        char c = code.ptr[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static int limited(pv_store *s, const char *kind, const char *what, int64_t now, int64_t limit,
                   bool *over, pv_error *err)
{
    char key[160];
    int n = snprintf(key, sizeof key, "bind-%s:%s", kind, what);
    if (n < 0 || (size_t)n >= sizeof key)
        return pv_error_set(err, PV_EINVAL, "rate-limit key too long");
    int rc = pv_store_rate_hit(s, key, now, PV_BINDING_WINDOW, limit, NULL, err);
    *over = rc == PV_ELIMIT;
    return rc == PV_ELIMIT ? 0 : rc;
}

/* The failure budgets (issue 19.5): only a code that bound nothing is charged,
 * so a launch day's successful bindings never reach a limit. */
typedef struct budget {
    const char *kind, *reason;
    int64_t window, limit;
} budget;

static const budget budgets[] = {
    {"fail-mac", "too many wrong codes from this phone: wait and retry", PV_BINDING_FAIL_MAC_WINDOW,
     PV_BINDING_FAILS_PER_MAC},
    {"fail-src", "too many wrong codes from this address: wait and retry", PV_BINDING_FAIL_WINDOW,
     PV_BINDING_FAILS_PER_SOURCE},
    {"fail-hint", "codes starting like this are locked for a while", PV_BINDING_FAIL_WINDOW,
     PV_BINDING_FAILS_PER_HINT},
};

static const char *budget_subject(size_t i, const pv_ident *id, const char *source,
                                  const char *hint)
{
    return i == 0 ? id->cert_mac.hex : i == 1 ? source : hint;
}

static int budget_key(size_t i, const char *subject, char *key, size_t size, pv_error *err)
{
    int n = snprintf(key, size, "bind-%s:%s", budgets[i].kind, subject);
    if (n < 0 || (size_t)n >= size)
        return pv_error_set(err, PV_EINVAL, "rate-limit key too long");
    return 0;
}

/* The first exhausted budget's reason, or NULL. */
static int budget_spent(pv_store *s, const pv_ident *id, const char *source, const char *hint,
                        int64_t now, const char **reason, pv_error *err)
{
    *reason = NULL;
    for (size_t i = 0; i < sizeof budgets / sizeof budgets[0]; i++) {
        char key[160];
        int64_t count = 0;
        int rc = budget_key(i, budget_subject(i, id, source, hint), key, sizeof key, err);
        if (rc == 0)
            rc = pv_store_rate_count(s, key, now, budgets[i].window, &count, err);
        if (rc != 0)
            return rc;
        if (count >= budgets[i].limit) {
            *reason = budgets[i].reason;
            return 0;
        }
    }
    return 0;
}

static int charge_failure(pv_store *s, const pv_ident *id, const char *source, const char *hint,
                          int64_t now, pv_error *err)
{
    for (size_t i = 0; i < sizeof budgets / sizeof budgets[0]; i++) {
        char key[160];
        int rc = budget_key(i, budget_subject(i, id, source, hint), key, sizeof key, err);
        if (rc == 0)
            rc = pv_store_rate_hit(s, key, now, budgets[i].window, INT64_MAX, NULL, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int refuse(pv_binding_result *res, int status, const char *reason)
{
    res->status = status;
    res->reason = reason;
    return 0;
}

/* A refusal that spent a failure budget. */
static int refuse_failed(pv_store *s, const pv_ident *id, const char *source,
                         pv_binding_result *res, int64_t now, int status, const char *reason,
                         pv_error *err)
{
    int rc = charge_failure(s, id, source, res->hint, now, err);
    return rc != 0 ? rc : refuse(res, status, reason);
}

/* Creates or updates the device for the code's account (DESIGN 5). */
static int bind_device(pv_store *s, const pv_ident *id, pv_store_device *d, bool exists,
                       int64_t account_id, int64_t now, pv_error *err)
{
    const char *mac = id->cert_mac.hex;
    if (!exists) {
        pv_store_device nd = {.account_id = account_id, .state = PV_STATE_SEC_PRV_1};
        memcpy(nd.mac, mac, sizeof nd.mac);
        nd.serial = id->serial[0] ? (char *)id->serial : NULL;
        nd.model = id->model[0] ? (char *)id->model : NULL;
        nd.cert_fingerprint = id->fingerprint[0] ? (char *)id->fingerprint : NULL;
        return pv_store_device_create(s, &nd, now, err);
    }
    /* Keep what an import said; fill what it did not. */
    if (d->serial == NULL && id->serial[0])
        d->serial = pv_strdup(id->serial);
    if (d->model == NULL && id->model[0])
        d->model = pv_strdup(id->model);
    if (id->fingerprint[0]) { /* pinned from now on (DESIGN 3) */
        free(d->cert_fingerprint);
        d->cert_fingerprint = pv_strdup(id->fingerprint);
    }
    d->account_id = account_id;
    d->state = PV_STATE_SEC_PRV_1; /* spec 12.2 step 3 */
    return pv_store_device_update(s, d, now, err);
}

bool pv_binding_is_bound(const pv_store_device *d)
{
    return d->account_id != 0 && d->cert_fingerprint != NULL && d->cert_fingerprint[0] != '\0' &&
           (d->state == PV_STATE_SEC_PRV_1 || d->state == PV_STATE_SEC_PRV_2);
}

/* The redemption, in the caller's transaction: *commit says whether what it
 * wrote (a used code, a counted attempt) is to be kept. */
static int redeem_locked(pv_store *s, const pv_ident *id, const char *text, pv_store_device *d,
                         bool exists, int64_t now, pv_binding_result *res, bool *failed,
                         pv_error *err)
{
    const char *mac = id->cert_mac.hex;
    bool again = false;
    pv_error e = {""};
    int rc = pv_store_code_redeem(s, text, mac, id->fingerprint, now, &res->account_id, &again, &e);
    if (rc == PV_ENOENT || rc == PV_ECONFLICT || rc == PV_ETIMEDOUT || rc == PV_ELIMIT) {
        *failed = true;
        return refuse(res, rc == PV_ELIMIT ? 429 : 403,
                      rc == PV_ENOENT      ? "unknown binding code"
                      : rc == PV_ECONFLICT ? "binding code already used"
                      : rc == PV_ETIMEDOUT ? "binding code expired"
                                           : "binding code locked: too many attempts");
    }
    if (rc != 0)
        return pv_error_set(err, rc, "%s", e.msg);
    if (again) {
        /* issue 19.3: the answer was lost; the same phone gets it again while
         * the binding it made stands (not released, not re-pinned meanwhile). */
        if (!exists || !pv_binding_is_bound(d) || d->account_id != res->account_id) {
            *failed = true;
            return refuse(res, 403, "binding code already used");
        }
        pv_store_secret prev;
        bool has_prev = false;
        rc = pv_store_secret_get(s, mac, &res->secret, &prev, &has_prev, err);
        if (rc == 0) {
            res->again = true;
            res->status = 200;
            res->reason = "bound (answer repeated)";
        }
        return rc;
    }
    if (exists && pv_binding_is_bound(d)) /* issue 11.1: release first */
        return refuse(res, 403, "device is bound to an account: it must be released first");
    rc = bind_device(s, id, d, exists, res->account_id, now, err);
    if (rc == 0)
        rc = pv_keys_issue(s, mac, now, &res->secret, err);
    if (rc == 0) {
        res->status = 200;
        res->reason = "bound";
    }
    return rc;
}

static int redeem(pv_store *s, const pv_ident *id, pv_slice code, const char *source, int64_t now,
                  pv_binding_result *res, pv_error *err);

int pv_binding_redeem(pv_store *s, const pv_ident *id, pv_slice code, const char *source,
                      int64_t now, pv_binding_result *res, pv_error *err)
{
    int rc = redeem(s, id, code, source, now, res, err);
    if (rc == 0) /* issue 11.7: strangers are counted here, not in any binding budget */
        pv_metrics_binding_outcome(!id->cert_verified || !id->cert_has_mac ? PV_METRICS_BIND_NO_CERT
                                   : res->status == 200 ? (res->again ? PV_METRICS_BIND_AGAIN
                                                                      : PV_METRICS_BIND_BOUND)
                                   : res->status == 429 ? PV_METRICS_BIND_LIMITED
                                                        : PV_METRICS_BIND_REFUSED);
    return rc;
}

static int redeem(pv_store *s, const pv_ident *id, pv_slice code, const char *source, int64_t now,
                  pv_binding_result *res, pv_error *err)
{
    memset(res, 0, sizeof *res);
    res->status = 403;
    if (code.len >= 2) {
        /* Hints are for people and the audit; only letters and digits get there. */
        for (size_t i = 0; i < 2; i++)
            res->hint[i] = isalnum((unsigned char)code.ptr[i]) ? code.ptr[i] : '?';
    }
    /* issue 11.7: nothing without a verified certificate reaches a counter, so
     * strangers cannot spend anyone's budget. */
    if (!id->cert_verified || !id->cert_has_mac)
        return refuse(res, 403, "binding needs HTTPS with a verified phone certificate");
    bool over = false;
    int rc = limited(s, "mac", id->cert_mac.hex, now, PV_BINDING_PER_MAC, &over, err);
    if (rc != 0)
        return rc;
    if (over)
        return refuse(res, 429, "too many binding attempts by this phone: wait and retry");
    const char *spent = NULL;
    if ((rc = budget_spent(s, id, source, res->hint, now, &spent, err)) != 0)
        return rc;
    if (spent != NULL)
        return refuse(res, 429, spent);
    if (!code_syntax_ok(code))
        return refuse_failed(s, id, source, res, now, 403, "not a binding code", err);

    /* DESIGN 3, issue 11.1: a device pinned to another certificate is not
     * this phone, whatever code it brings. */
    pv_store_device d = {0};
    rc = pv_store_device_get(s, id->cert_mac.hex, &d, err);
    bool exists = rc == 0;
    if (rc != 0 && rc != PV_ENOENT)
        return rc;
    if (exists && pv_identity_check_device(id, d.mac, false, d.cert_fingerprint, NULL) != 0) {
        pv_store_device_free(&d);
        return refuse(res, 403, "certificate is not the one pinned to this device");
    }
    char *text = pv_slice_dup(code);
    bool failed = false;
    if ((rc = pv_store_begin(s, err)) == 0) {
        rc = redeem_locked(s, id, text, &d, exists, now, res, &failed, err);
        /* A failed attempt stays counted on the code; a refusal before the
         * redemption (release first) spends nothing. */
        if (rc == 0 && (res->status == 200 || failed))
            rc = pv_store_commit(s, err);
        else
            pv_store_rollback(s);
    }
    OPENSSL_cleanse(text, code.len);
    free(text);
    pv_store_device_free(&d);
    if (rc == 0 && failed)
        rc = charge_failure(s, id, source, res->hint, now, err);
    return rc;
}

int pv_binding_known(pv_store *s, const pv_ident *id, int64_t now, pv_store_secret *sec,
                     pv_error *err)
{
    if (!id->cert_verified || !id->cert_has_mac)
        return pv_error_set(err, PV_EACCES, "a verified phone certificate is needed");
    pv_store_device d = {0};
    int rc = pv_store_device_get(s, id->cert_mac.hex, &d, err);
    if (rc == 0 && d.account_id == 0)
        rc = pv_error_set(err, PV_ENOENT, "device %s is not assigned to an account", d.mac);
    /* DESIGN 3, issue 11.1: only the pinned certificate; the first one is pinned. */
    if (rc == 0)
        rc = pv_identity_check_device(id, d.mac, false, d.cert_fingerprint, err);
    if (rc == 0 && (d.cert_fingerprint == NULL || d.cert_fingerprint[0] == '\0') &&
        id->fingerprint[0] != '\0') {
        free(d.cert_fingerprint);
        d.cert_fingerprint = pv_strdup(id->fingerprint);
        rc = pv_store_device_update(s, &d, now, err);
    }
    pv_store_secret prev;
    bool has_prev = false;
    if (rc == 0) {
        rc = pv_store_secret_get(s, d.mac, sec, &prev, &has_prev, err);
        if (rc == PV_ENOENT)
            rc = pv_keys_issue(s, d.mac, now, sec, err);
    }
    if (rc == 0 && (d.state == PV_STATE_MFG_RESET || d.state == PV_STATE_SP_CUST))
        rc = pv_store_device_set_state(s, d.mac, d.state, PV_STATE_SEC_PRV_1, now, err);
    pv_store_device_free(&d);
    return rc;
}

int pv_binding_profile(const pv_prov_policy *pol, const char *host, const char *model,
                       const pv_store_secret *sec, pv_buf *out, pv_error *err)
{
    pv_params p = {0};
    pv_buf rule = {0};
    char pass[65];
    pv_keys_passphrase(sec, pass);
    /* spec 12.2 step 3 and recipe (b). */
    if (pv_prov_model_encryption(pol, model) == PV_PROV_ENC_RFC8188)
        pv_params_set_str(&p, "IKM_HTTP_Encrypt_Content", pass, PV_UA_NA);
    else
        pv_params_set_str(&p, "GPP_SA", pass, PV_UA_NA);
    pv_params_set_str(&p, "GPP_B", sec->dir, PV_UA_NA);
    pv_prov_permanent_rule(pol, model, host, &rule);
    pv_params_set_str(&p, "Profile_Rule", rule.data, PV_UA_UNSET);
    /* spec 1.3: _B runs right after the rule (the one-shot binding URL) that
     * fetched this, _C right after a _B that did (the in-house bootstrap). */
    pv_params_set_str(&p, "Profile_Rule_B", rule.data, PV_UA_UNSET);
    pv_params_set_str(&p, "Profile_Rule_C", rule.data, PV_UA_UNSET);
    pv_prov_storm_defaults(pol, model, &p);
    int rc = pv_xml_serialize(&p, out, err);
    OPENSSL_cleanse(pass, sizeof pass);
    pv_params_free(&p);
    pv_buf_free(&rule);
    return rc;
}

bool pv_binding_new_code(char out[13])
{
    unsigned char r[64];
    size_t n = 0;
    while (n < 12) {
        if (RAND_bytes(r, sizeof r) != 1)
            return false;
        for (size_t i = 0; i < sizeof r && n < 12; i++)
            if (r[i] < 250) /* rejection sampling: no modulo bias */
                out[n++] = (char)('0' + r[i] % 10);
    }
    out[12] = '\0';
    return true;
}
