/*
 * api_int.h — what the resource files of the admin API (api_*.c) share:
 * the per-request context, strict body validation, JSON answers and errors,
 * pagination and the audit trail. api.c owns routing and authentication;
 * each api_<family>.c owns the handlers of one resource family.
 *
 * A handler reads ctx (path parameters, query, parsed body, store, actor)
 * and ends by calling exactly one of pv__api_reply() / pv__api_fail(); the
 * router sends what they recorded.
 */
#ifndef PV_SERVER_API_INT_H
#define PV_SERVER_API_INT_H

#include "core/buf.h"
#include "core/error.h"
#include "net/handler.h"
#include "server/roles.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct pv__api_ctx {
    pv_request *req;
    pv_store *store;
    const char *data_dir;
    const struct pv_prov_policy *policy; /* the server's policy, or NULL: defaults */
    struct pv_notifier *notifier;        /* device actions (server/notifier.h), or NULL */
    char actor[96];                      /* "token:<name>", for the audit log */
    pv_role role;                        /* the token's (roles.h); the router checked the route's */
    int64_t account_id;                  /* a customer token's account, else 0 */
    int64_t now;                         /* one clock reading per request */
    char *params[3];                     /* the {…} segments of the route, decoded */
    json_t *body;                        /* the parsed body (POST/PUT/PATCH), or NULL */
    int status;                          /* what the handler decided */
    json_t *answer;                      /* owned; sent as the body */
    char *raw;                           /* a non-JSON answer (render), owned */
    size_t raw_len;
    const char *raw_type;
    char raw_disposition[96]; /* Content-Disposition of a raw answer to download, or "" */
} pv__api_ctx;

typedef void (*pv__api_fn)(pv__api_ctx *ctx);

/* ---- answers ---- */

/* Takes ownership of body (NULL = no body, e.g. 204). */
void pv__api_reply(pv__api_ctx *ctx, int status, json_t *body);
/* {"error":{"code":code,"field":field,"message":...}}; field may be NULL. */
void pv__api_fail(pv__api_ctx *ctx, int status, const char *code, const char *field,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Maps a store error to 404/409/422/500 with the store's message. */
void pv__api_fail_store(pv__api_ctx *ctx, int rc, const pv_error *err, const char *field);

/* ---- strict validation ---- */

typedef enum {
    PV_API_STRING,
    PV_API_STRING_NULL, /* a string or null (clears) */
    PV_API_INT,
    PV_API_BOOL,
    PV_API_OBJECT,
    PV_API_ARRAY,
    PV_API_ANY,
} pv__api_type;

typedef struct pv__api_field {
    const char *name;
    pv__api_type type;
    bool required;
} pv__api_field;

/*
 * Checks that obj is an object, that every key is one of fields (the
 * message lists the allowed ones), that every present key has the type and
 * that every required one is present. prefix names obj in messages
 * ("settings.lines[2]"), "" for the top level. False after answering 400.
 */
bool pv__api_check(pv__api_ctx *ctx, const json_t *obj, const char *prefix,
                   const pv__api_field *fields, size_t n);
/* The body, which must be a JSON object checked against fields. */
bool pv__api_body(pv__api_ctx *ctx, const pv__api_field *fields, size_t n);

/* Body string field or NULL when absent or null. */
const char *pv__api_str(const json_t *obj, const char *name);

/* Normalises a MAC with a message like "MAC address needs 12 hex digits, found 11". */
bool pv__api_mac(pv__api_ctx *ctx, const char *in, const char *field, char out[13]);
/* The same check with the message in msg instead of an answer (bulk import rows). */
bool pv__api_mac_check(const char *in, char out[13], char *msg, size_t size);

/* ---- query and pagination ---- */

/* A query parameter, percent-decoded, in a pv_malloc'd string; NULL when absent. */
char *pv__api_query(const pv__api_ctx *ctx, const char *name);
/* A yes/no query parameter (?dry_run=1, ?force=1): present and not "0" or "false". */
bool pv__api_flag(const pv__api_ctx *ctx, const char *name);
/* Reads ?limit= and ?after= into page; false after answering 400. */
bool pv__api_page(pv__api_ctx *ctx, pv_store_page *page);
/* {"items": items, "next": page->after or null}, 200. */
void pv__api_reply_page(pv__api_ctx *ctx, json_t *items, const pv_store_page *page);

/* One page of a store list: fetches it into items (JSON), frees the rows. */
typedef int (*pv__api_lister)(pv__api_ctx *ctx, pv_store_page *page, json_t *items, pv_error *err);
/* The whole list handler: ?limit/?after, the lister, the page or the error. */
void pv__api_list(pv__api_ctx *ctx, pv__api_lister fn);

/* ---- audit ---- */

/* Adds an audit entry by ctx->actor; detail (may be NULL) is taken. */
int pv__api_audit(pv__api_ctx *ctx, const char *action, const char *subject, json_t *detail,
                  pv_error *err);
/*
 * The common shape of a change: begin; fn already applied by the caller;
 * then pv__api_commit adds the audit entry and commits, or rolls back and
 * answers the error. Returns true when committed.
 */
bool pv__api_commit(pv__api_ctx *ctx, const char *action, const char *subject, json_t *detail);
/*
 * The end of a change begun with pv_store_begin, whatever rc its steps left:
 * non-zero rolls back and answers the store's error (field names the body
 * field it concerns, or NULL); zero is pv__api_commit. detail is taken either
 * way. True when committed: the caller then answers.
 */
bool pv__api_finish(pv__api_ctx *ctx, int rc, const pv_error *err, const char *field,
                    const char *action, const char *subject, json_t *detail);

/* ---- helpers shared by resource files ---- */

/* The body's "password", checked and hashed with argon2id (password.h) into *hash
 * (pv_malloc'd); false after answering 422. Customer and operator logins. */
bool pv__api_password_hash(pv__api_ctx *ctx, char **hash);
/* Creates l (name, role, account_id as given) with the body's password hashed, in a
 * transaction audited as action (subject "login:<name>", detail taken); false after
 * answering (422 for the name or the password, the store's error). True: l->id and
 * l->created_at are set, the caller answers 201. */
bool pv__api_login_create(pv__api_ctx *ctx, pv_store_login *l, const char *action, json_t *detail);
/* The login named by params[0] — a customer's when customer, else an operator's — into
 * *l; false after answering 404 (also for a login of the other kind). api_users.c. */
bool pv__api_login_get(pv__api_ctx *ctx, bool customer, pv_store_login *l);
/* DELETE of that login (its sessions end), audited as action; 204. */
void pv__api_login_delete(pv__api_ctx *ctx, bool customer, const char *action);
/* PUT {"password"} for that login: a new argon2id hash, its sessions end, its lock
 * clears; audited as action (never the password); 204. */
void pv__api_login_password(pv__api_ctx *ctx, bool customer, const char *action);

json_t *pv__api_str_or_null(const char *s);
/* Resolves an account name to its id (answers 422 naming field on failure). */
bool pv__api_account_id(pv__api_ctx *ctx, const char *name, const char *field, int64_t *id);
/* Account name of an id, or NULL (pv_malloc'd). */
char *pv__api_account_name(pv__api_ctx *ctx, int64_t id);

/* A report as JSON; with_body adds body and body_encoding (utf-8 or base64). */
json_t *pv__api_report_json(const pv_store_report *r, bool with_body);

/* ---- handlers (one group per file) ---- */

/* api_actions.c */
void pv__api_device_action(pv__api_ctx *ctx);
void pv__api_actions_bulk(pv__api_ctx *ctx);
void pv__api_job_get(pv__api_ctx *ctx);
void pv__api_jobs_list(pv__api_ctx *ctx);
void pv__api_job_devices(pv__api_ctx *ctx);
void pv__api_device_actions_list(pv__api_ctx *ctx);
/* ?notify=1 (spec 5.5): the plain renders of every device of an account before a change, then after it a resync job for exactly the devices whose render changed: the job's
 * JSON (its error when it could not start), or JSON null when none changed. Takes before. */
struct pv_push_renders; /* server/push.h: free with pv_push_renders_free */
struct pv_push_renders *pv__api_renders_take(pv__api_ctx *ctx, int64_t account_id);
json_t *pv__api_notify_changed(pv__api_ctx *ctx, struct pv_push_renders *before,
                               const char *subject);
/* Stores finished NOTIFY outcomes of job (the notifier's recorder, via api.c). */
struct pv_notify_result;
void pv__api_notify_record(pv_store *store, uint64_t job, const struct pv_notify_result *r,
                           size_t n);

/* api_import_jobs.c */
void pv__api_import_job_create(pv__api_ctx *ctx);
void pv__api_import_jobs_list(pv__api_ctx *ctx);
void pv__api_import_job_get(pv__api_ctx *ctx);
void pv__api_import_job_errors(pv__api_ctx *ctx);

/* api_accounts.c */
void pv__api_accounts_list(pv__api_ctx *ctx);
void pv__api_account_create(pv__api_ctx *ctx);
void pv__api_account_get(pv__api_ctx *ctx);
void pv__api_account_put(pv__api_ctx *ctx);
void pv__api_account_patch(pv__api_ctx *ctx);
void pv__api_account_delete(pv__api_ctx *ctx);
void pv__api_codes_list(pv__api_ctx *ctx);
void pv__api_code_create(pv__api_ctx *ctx);
void pv__api_code_delete(pv__api_ctx *ctx);
void pv__api_tokens_list(pv__api_ctx *ctx);
void pv__api_token_create(pv__api_ctx *ctx);
void pv__api_token_delete(pv__api_ctx *ctx);

/* api_customers.c */
void pv__api_customers_list(pv__api_ctx *ctx);
void pv__api_customer_create(pv__api_ctx *ctx);
void pv__api_customer_get(pv__api_ctx *ctx);
void pv__api_customer_delete(pv__api_ctx *ctx);
void pv__api_customer_password(pv__api_ctx *ctx);

/* api_users.c */
void pv__api_users_list(pv__api_ctx *ctx);
void pv__api_user_create(pv__api_ctx *ctx);
void pv__api_user_get(pv__api_ctx *ctx);
void pv__api_user_delete(pv__api_ctx *ctx);
void pv__api_user_password(pv__api_ctx *ctx);

/* api_devices.c */
void pv__api_devices_list(pv__api_ctx *ctx);
void pv__api_device_create(pv__api_ctx *ctx);
void pv__api_device_get(pv__api_ctx *ctx);
void pv__api_device_put(pv__api_ctx *ctx);
void pv__api_device_patch(pv__api_ctx *ctx);
void pv__api_device_delete(pv__api_ctx *ctx);
void pv__api_device_assign(pv__api_ctx *ctx);
void pv__api_device_release(pv__api_ctx *ctx);
void pv__api_device_rotate_key(pv__api_ctx *ctx);
void pv__api_device_state(pv__api_ctx *ctx);
void pv__api_device_render(pv__api_ctx *ctx);
void pv__api_device_report(pv__api_ctx *ctx);
void pv__api_devices_import(pv__api_ctx *ctx);
void pv__api_import_get(pv__api_ctx *ctx);
void pv__api_status(pv__api_ctx *ctx);

/* api_params.c */
void pv__api_params_list(pv__api_ctx *ctx);
void pv__api_params_get(pv__api_ctx *ctx);
void pv__api_params_put(pv__api_ctx *ctx);
void pv__api_params_patch(pv__api_ctx *ctx);
void pv__api_params_delete(pv__api_ctx *ctx);

/* api_firmware.c */
void pv__api_firmware_list(pv__api_ctx *ctx);
void pv__api_firmware_create(pv__api_ctx *ctx);
void pv__api_firmware_get(pv__api_ctx *ctx);
void pv__api_firmware_delete(pv__api_ctx *ctx);
void pv__api_firmware_upload(pv__api_ctx *ctx);
void pv__api_plans_list(pv__api_ctx *ctx);
void pv__api_plan_get(pv__api_ctx *ctx);
void pv__api_plan_put(pv__api_ctx *ctx);
void pv__api_plan_delete(pv__api_ctx *ctx);
void pv__api_reports_list(pv__api_ctx *ctx);
void pv__api_report_get(pv__api_ctx *ctx);
void pv__api_audit_list(pv__api_ctx *ctx);

/* api_rollouts.c */
void pv__api_rollouts_list(pv__api_ctx *ctx);
void pv__api_rollout_create(pv__api_ctx *ctx);
void pv__api_rollout_get(pv__api_ctx *ctx);
void pv__api_rollout_devices(pv__api_ctx *ctx);
void pv__api_rollout_resume(pv__api_ctx *ctx);
void pv__api_rollout_abort(pv__api_ctx *ctx);
void pv__api_rollout_rollback(pv__api_ctx *ctx);

/* Loads <data>/master.key into the API's store: encrypted renders need the device keys,
 * secret parameters are sealed and opened with it (issue 11 "secrets at rest"). Not required:
 * a missing file is no error (a server without provisioning has none). */
int pv__api_load_secrets(pv__api_ctx *ctx, bool required, pv_error *err);

#endif
