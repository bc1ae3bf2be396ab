/* import_apply.c — one CSV import row into the store; see import_apply.h. */
#include "server/import_apply.h"

#include "core/alloc.h"
#include "server/api_int.h"
#include "server/models.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int account_id(pv_import_apply *a, const char *name, int64_t *id)
{
    for (size_t i = 0; i < PV_IMPORT_APPLY_ACCOUNTS; i++) {
        if (a->name[i] && strcmp(a->name[i], name) == 0) {
            *id = a->id[i];
            return 0;
        }
    }
    pv_store_account acc = {0};
    int rc = pv_store_account_get_by_name(a->store, name, &acc, NULL);
    *id = rc == 0 ? acc.id : 0;
    pv_store_account_free(&acc);
    if (rc != 0 && rc != PV_ENOENT)
        return rc;
    size_t slot = a->next++ % PV_IMPORT_APPLY_ACCOUNTS;
    free(a->name[slot]);
    a->name[slot] = pv_strdup(name);
    a->id[slot] = *id;
    return 0;
}

void pv_import_apply_free(pv_import_apply *a)
{
    for (size_t i = 0; i < PV_IMPORT_APPLY_ACCOUNTS; i++) {
        free(a->name[i]);
        a->name[i] = NULL;
    }
}

static bool same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

int pv_import_apply_row(pv_import_apply *a, const char *mac, const char *model,
                        const char *account, const char *serial, pv_import_outcome *out,
                        const char **field, char *msg, size_t size, pv_error *err)
{
    *out = PV_IMPORT_REFUSED;
    pv_store_device d = {0};
    if (!pv__api_mac_check(mac ? mac : "", d.mac, msg, size)) {
        *field = "mac";
        return 0;
    }
    d.model = (char *)model;
    d.serial = (char *)serial;
    if (d.model != NULL && d.model[0] != '\0' && !pv_model_known(d.model, a->known_models)) {
        *field = "model";
        snprintf(msg, size,
                 "unknown model '%.60s' (a typo? models Provisor does not know are added to "
                 "[provisioning] known_models)",
                 d.model);
        return 0;
    }
    if (account && account[0]) {
        int rc = account_id(a, account, &d.account_id);
        if (rc != 0)
            return pv_error_set(err, rc, "account lookup failed");
        if (d.account_id == 0) {
            *field = "account";
            snprintf(msg, size, "no account named '%.80s'", account);
            return 0;
        }
    }
    pv_store_device old = {0};
    int rc = pv_store_device_get(a->store, d.mac, &old, err);
    if (rc == 0 && (d.model == NULL || same_str(d.model, old.model)) &&
        (d.serial == NULL || same_str(d.serial, old.serial)) &&
        (d.account_id == 0 || d.account_id == old.account_id)) {
        *out = PV_IMPORT_UNCHANGED; /* no write: a re-run costs reads only */
    } else if (rc == 0 || rc == PV_ENOENT) {
        bool created = false;
        rc = pv_store_device_upsert(a->store, &d, a->now, &created, err);
        if (rc == 0) {
            *out = created ? PV_IMPORT_CREATED : PV_IMPORT_UPDATED;
        } else if (rc == PV_EINVAL) {
            *field = "mac";
            snprintf(msg, size, "%s", err->msg);
            rc = 0;
        }
    }
    pv_store_device_free(&old);
    return rc;
}
