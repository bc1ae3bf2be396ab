/*
 * binding_legacy.c — the first key of an SPA phone that cannot verify our CA
 * (part of binding.h; spec 4.4, 12.2; docs/security.md "SPA phones and our
 * CA").
 */
#include "server/binding.h"

#include "server/keys.h"

#include <strings.h>

bool pv_binding_legacy_model(const char *model)
{
    /* spec 4.4: the SPA and PAP firmware trusts Cisco's (Sipura's) server CA only; MPP phones
     * and the ATA 19x take a custom CA and common public CAs */
    return model != NULL && !pv_prov_model_is_mpp(model) &&
           (strncasecmp(model, "SPA", 3) == 0 || strncasecmp(model, "PAP", 3) == 0);
}

bool pv_binding_plain_key_route(const pv_prov_policy *pol, pv_proto proto, const pv_ident *id,
                                const pv_store_device *d)
{
    return pol->legacy_plain_key && proto != PV_PROTO_HTTPS && id->path_has_mac &&
           pv_binding_legacy_model(d->model);
}

int pv_binding_known_plain(pv_store *s, const pv_store_device *d, int64_t now,
                           pv_store_secret *sec, pv_error *err)
{
    if (d->account_id == 0)
        return pv_error_set(err, PV_ENOENT, "device %s is not assigned to an account", d->mac);
    if (d->require_cert || (d->cert_fingerprint != NULL && d->cert_fingerprint[0] != '\0'))
        return pv_error_set(err, PV_EACCES,
                            "device %s has a certificate requirement or a pinned certificate: "
                            "its key goes over HTTPS only",
                            d->mac);
    if (d->state != PV_STATE_MFG_RESET && d->state != PV_STATE_SP_CUST)
        return pv_error_set(err, PV_EACCES,
                            "device %s already received its key: a plain first key is given once "
                            "(provisor device update %s --state MFG-RESET gives another)",
                            d->mac, d->mac);
    pv_store_secret prev;
    bool has_prev = false;
    int rc = pv_store_secret_get(s, d->mac, sec, &prev, &has_prev, err);
    if (rc == PV_ENOENT)
        rc = pv_keys_issue(s, d->mac, now, sec, err);
    if (rc == 0)
        rc = pv_store_device_set_state(s, d->mac, d->state, PV_STATE_SEC_PRV_1, now, err);
    return rc;
}
