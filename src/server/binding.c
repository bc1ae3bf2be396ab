/* binding.c — code redemption, device binding, the SEC-PRV-1 profile; see binding.h. */
#include "server/binding.h"

#include "core/alloc.h"
#include "core/param.h"
#include "core/xml_profile.h"
#include "server/keys.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <stdio.h>
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

static int refuse(pv_binding_result *res, int status, const char *reason)
{
    res->status = status;
    res->reason = reason;
    return 0;
}

/* Creates or updates the device for the code's account (DESIGN 5). */
static int bind_device(pv_store *s, const pv_ident *id, int64_t account_id, int64_t now,
                       pv_error *err)
{
    pv_store_device d = {0};
    const char *mac = id->cert_mac.hex;
    int rc = pv_store_device_get(s, mac, &d, err);
    if (rc == PV_ENOENT) {
        pv_store_device nd = {.account_id = account_id, .state = PV_STATE_SEC_PRV_1};
        memcpy(nd.mac, mac, sizeof nd.mac);
        nd.serial = id->serial[0] ? (char *)id->serial : NULL;
        nd.model = id->model[0] ? (char *)id->model : NULL;
        nd.cert_fingerprint = id->fingerprint[0] ? (char *)id->fingerprint : NULL;
        return pv_store_device_create(s, &nd, now, err);
    }
    if (rc != 0)
        return rc;
    /* Keep what an import said; fill what it did not. */
    if (d.serial == NULL && id->serial[0])
        d.serial = pv_strdup(id->serial);
    if (d.model == NULL && id->model[0])
        d.model = pv_strdup(id->model);
    if (id->fingerprint[0]) {
        free(d.cert_fingerprint);
        d.cert_fingerprint = pv_strdup(id->fingerprint);
    }
    d.account_id = account_id;
    d.state = PV_STATE_SEC_PRV_1; /* spec 12.2 step 3 */
    rc = pv_store_device_update(s, &d, now, err);
    pv_store_device_free(&d);
    return rc;
}

int pv_binding_redeem(pv_store *s, const pv_ident *id, pv_slice code, const char *source,
                      int64_t now, pv_binding_result *res, pv_error *err)
{
    memset(res, 0, sizeof *res);
    res->status = 403;
    if (code.len >= 2) {
        /* Hints are for people and the audit; only letters and digits get there. */
        for (size_t i = 0; i < 2; i++)
            res->hint[i] = isalnum((unsigned char)code.ptr[i]) ? code.ptr[i] : '?';
    }
    bool over = false;
    int rc = limited(s, "src", source, now, PV_BINDING_PER_SOURCE, &over, err);
    if (rc != 0)
        return rc;
    if (over)
        return refuse(res, 429, "too many binding attempts from this address: wait and retry");
    if (!id->cert_verified || !id->cert_has_mac)
        return refuse(res, 403, "binding needs HTTPS with a verified phone certificate");
    if ((rc = limited(s, "mac", id->cert_mac.hex, now, PV_BINDING_PER_MAC, &over, err)) != 0)
        return rc;
    if (over)
        return refuse(res, 429, "too many binding attempts by this phone: wait and retry");
    if (!code_syntax_ok(code))
        return refuse(res, 403, "not a binding code");
    if ((rc = limited(s, "hint", res->hint, now, PV_BINDING_PER_HINT, &over, err)) != 0)
        return rc;
    if (over)
        return refuse(res, 429, "codes starting like this are locked for a while");

    char *text = pv_slice_dup(code);
    pv_error e;
    if ((rc = pv_store_begin(s, err)) != 0) {
        free(text);
        return rc;
    }
    rc = pv_store_code_redeem(s, text, id->cert_mac.hex, now, &res->account_id, &e);
    OPENSSL_cleanse(text, code.len);
    free(text);
    if (rc == PV_ENOENT || rc == PV_ECONFLICT || rc == PV_ETIMEDOUT || rc == PV_ELIMIT) {
        /* Keep the attempt count: commit what the redemption recorded. */
        int crc = pv_store_commit(s, err);
        if (crc != 0)
            return crc;
        return refuse(res, rc == PV_ELIMIT ? 429 : 403,
                      rc == PV_ENOENT      ? "unknown binding code"
                      : rc == PV_ECONFLICT ? "binding code already used"
                      : rc == PV_ETIMEDOUT ? "binding code expired"
                                           : "binding code locked: too many attempts");
    }
    if (rc == 0)
        rc = bind_device(s, id, res->account_id, now, err);
    else
        pv_error_set(err, rc, "%s", e.msg);
    if (rc == 0)
        rc = pv_keys_issue(s, id->cert_mac.hex, now, &res->secret, err);
    if (rc != 0) {
        pv_store_rollback(s);
        return rc;
    }
    if ((rc = pv_store_commit(s, err)) != 0)
        return rc;
    res->status = 200;
    res->reason = "bound";
    return 0;
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
    pv_params_set_str(&p, "Profile_Rule_B", rule.data, PV_UA_UNSET);
    pv_prov_storm_defaults(pol, model, &p);
    int rc = pv_xml_serialize(&p, out, err);
    OPENSSL_cleanse(pass, sizeof pass);
    pv_params_free(&p);
    pv_buf_free(&rule);
    return rc;
}
