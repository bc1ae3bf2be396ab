/*
 * admin.h — the admin listener's handler: what an operator's tools ask the
 * running server (issue 3, "Logs and metrics"; DESIGN decision 10).
 *
 *   GET /metrics   Prometheus text (net/metrics.h), and the upload directory's
 *                  usage when the fileserver has a quota (net/upload_quota.h)
 *   GET /healthz   "ok" while the server serves, 503 "draining" during a drain
 *   GET /readyz    and 503 "store unavailable" while the store fails
 *                  (store_fault.h); /readyz is the same answer
 *   /api/v1/...    the JSON admin API (server/api.h), once pv_admin_attach_api ran
 *   /, anything else  the operator console (server/console.h) when one is attached; an
 *                  API call without an Authorization header goes to it too (the
 *                  console's pages call the API with their session)
 *
 * Anything else is 404; methods other than GET/HEAD are 405 outside the API.
 * The admin listener is plain HTTP on loopback by default and runs on the
 * first loop thread only, which is why the API (and its store handle) can
 * live here without locks. The metrics part holds no state but a flag and is
 * safe on any thread.
 */
#ifndef PV_SERVER_ADMIN_H
#define PV_SERVER_ADMIN_H

#include "net/fileserver.h"
#include "net/handler.h"
#include "server/api.h"

#include <stdatomic.h>

typedef struct pv_admin {
    pv_handler handler; /* handler.data points back here */
    atomic_bool draining;
    pv_api *api;          /* NULL: no API (404) */
    pv_fileserver *files; /* its upload quota's usage joins /metrics; NULL: none */
    pv_handler *console;  /* the operator console (console.h); NULL: none (404) */
} pv_admin;

void pv_admin_init(pv_admin *admin);
/* Serves the admin API from the data directory's store (opened on first use). */
void pv_admin_attach_api(pv_admin *admin, const char *data_dir);
/* Releases the API; the admin loop must have stopped. */
void pv_admin_free(pv_admin *admin);

#endif
