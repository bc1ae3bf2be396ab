/*
 * api.h — the JSON admin API (issue 4, "Admin API and CLI"): REST under
 * /api/v1/ on the admin listener, for the CLI, the web console and the
 * provider's own tools. docs/api.md explains it to people; docs/openapi.yaml
 * is its contract (a test checks that every route below is in it).
 *
 * Every request carries `Authorization: Bearer <token>`: the first-run admin
 * token of the data directory (server/datadir.h, actor "token:admin") or a
 * named token created through POST /api/v1/tokens (stored hashed). Bodies are
 * JSON objects validated strictly (unknown fields refused, types checked);
 * an error names the field and the reason:
 *   {"error":{"code":"invalid","field":"mac","message":"..."}}
 * Lists are paginated with ?limit=&after= and answer {"items":[...],"next":C}
 * (next is null on the last page). Every change writes an audit entry naming
 * the token, in the same transaction as the change.
 *
 * Ownership and threads: a pv_api belongs to the admin loop's thread. It opens
 * its own store handle (<data>/provisor.db, migrated) on first use, so the
 * daemon does not have to share one with the provisioning loops; pv_api_free
 * closes it once the loop has stopped.
 */
#ifndef PV_SERVER_API_H
#define PV_SERVER_API_H

#include "core/error.h"
#include "net/handler.h"

#include <stdbool.h>
#include <stddef.h>

#define PV_API_PREFIX "/api/v1/"

typedef struct pv_api pv_api;

/* data_dir is copied. db_url NULL = "<data_dir>/provisor.db". */
pv_api *pv_api_new(const char *data_dir, const char *db_url);
void pv_api_free(pv_api *api);
/* The provisioning policy renders and report diffs use ([provisioning] keys); NULL: the
 * defaults of prov_policy.h. Borrowed: it must outlive the API. */
struct pv_prov_policy;
void pv_api_set_policy(pv_api *api, const struct pv_prov_policy *policy);
/* The notifier device actions use (server/notifier.h; same loop); NULL: actions answer 503. */
struct pv_notifier;
void pv_api_set_notifier(pv_api *api, struct pv_notifier *notifier);

/* The server's check-sync NOTIFY to devices that completed their binding (server/push.h),
 * with the API's store, policy and notifier, audited as "server"; on the admin loop's thread.
 * Nothing without a notifier. PV_EBUSY when the notifier runs PV_NOTIFIER_JOBS jobs (nothing
 * was sent: ask again later), else 0 (failures are logged). */
int pv_api_after_binding(pv_api *api, const char (*macs)[13], size_t n);

/* True when path belongs to the API (starts with /api/v1/ or is /api/v1). */
bool pv_api_owns(pv_slice path);

/* Answers req (any method) exactly once, before returning. */
void pv_api_handle(pv_api *api, pv_request *req);
/* The same for a caller the operator console authenticated (a session of an operator login,
 * server/console.c): actor ("login:NAME") and role replace the Bearer token; the route's
 * role check and the audit trail are the same. */
void pv_api_handle_as(pv_api *api, pv_request *req, const char *actor, int role);
/* The same caller's call made by the console itself (a plain HTML form, console_plans.c):
 * method ("POST", "PUT", "DELETE") on path ("/api/v1/...") with body (JSON or NULL), answered
 * to the caller, not to req (which lends its peer and headers): returns the status and sets
 * *answer to the JSON text of the answer (malloc'd; NULL when it has none). */
int pv_api_call_as(pv_api *api, pv_request *req, const char *method, const char *path,
                   const char *body, const char *actor, int role, char **answer);
/* The same with a body of bytes (an uploaded file, NULs and all) and path's query after '?'. */
int pv_api_call_body_as(pv_api *api, pv_request *req, const char *method, const char *path,
                        pv_slice body, const char *actor, int role, char **answer);
/* One evaluation of the firmware rollouts (server/rollout.h) with the API's
 * store, on the admin loop's thread: the daemon's timer calls it. */
void pv_api_tick_rollouts(pv_api *api);
/* One slice of the server's running CSV import (server/import_job.h) with the API's store,
 * on the admin loop's thread: 1 when rows are left (call again once the loop has done its
 * other work), 0 when no import runs, < 0 after a store failure (logged; try again later). */
int pv_api_import_step(pv_api *api);
/* kick(arg) runs when an upload created an import job, on the admin loop's thread: the
 * daemon starts its runner at once instead of at its next poll for new jobs. */
void pv_api_set_import_kick(pv_api *api, void (*kick)(void *), void *arg);
/* Folds the store's device count changes into the kept counts (store_device_search.h), at most
 * once a minute; the admin loop's timer calls it. */
void pv_api_fold_counts(pv_api *api, int64_t now);

#endif
