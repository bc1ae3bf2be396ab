/*
 * import_apply.h — one CSV import row into the store (issue 4 "Bulk distribution", issue 13):
 * what the API's batch route (POST /devices:import, the command line's) and the server's own
 * import jobs (import_job.h, the console's) both do with a row, so a file imports the same
 * whichever way it goes.
 *
 * A row is an upsert by MAC: a row that changes nothing writes nothing (a re-run costs reads
 * only). A row the server refuses — a malformed MAC, a model no one knows (models.h and
 * [provisioning] known_models), an account that does not exist — is an outcome with the field
 * and the reason, not a failure: the batch goes on. Only a store failure is an error.
 *
 * The applier caches the last account names it resolved (a file names a few accounts many
 * times); it belongs to one batch on one thread and is freed with pv_import_apply_free.
 */
#ifndef PV_SERVER_IMPORT_APPLY_H
#define PV_SERVER_IMPORT_APPLY_H

#include "core/error.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define PV_IMPORT_APPLY_ACCOUNTS 16

typedef struct pv_import_apply {
    pv_store *store;
    const char *known_models; /* [provisioning] known_models, or NULL */
    int64_t now;
    char *name[PV_IMPORT_APPLY_ACCOUNTS];
    int64_t id[PV_IMPORT_APPLY_ACCOUNTS]; /* 0 = no such account */
    size_t next;
} pv_import_apply;

typedef enum {
    PV_IMPORT_CREATED,
    PV_IMPORT_UPDATED,
    PV_IMPORT_UNCHANGED,
    PV_IMPORT_REFUSED, /* *field and msg say why */
} pv_import_outcome;

/* One row (model, account, serial: NULL or "" when the file leaves them out): 0 with the
 * outcome, or the store's error (the caller rolls its batch back). */
int pv_import_apply_row(pv_import_apply *a, const char *mac, const char *model,
                        const char *account, const char *serial, pv_import_outcome *out,
                        const char **field, char *msg, size_t size, pv_error *err);
void pv_import_apply_free(pv_import_apply *a);

#endif
