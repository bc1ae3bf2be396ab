/*
 * api.c — the admin API's front door: authentication, routing, body parsing
 * and the answer; see api.h. The route table below is the API's list of
 * endpoints: docs/openapi.yaml must name each one (integration.api_openapi
 * reads this table and checks the document).
 */
#include "server/api.h"

#include "core/alloc.h"
#include "core/log.h"
#include "server/api_int.h"
#include "server/roles.h"
#include "server/rollout.h"
#include "store/store_device_search.h"
#include "server/tokens.h"
#include "server/notifier.h"
#include "server/push.h"
#include "server/import_job.h"
#include "server/prov_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pv_api {
    char *data_dir;
    char *db_url;
    pv_store *store;                     /* opened on first use, on the admin loop */
    const struct pv_prov_policy *policy; /* the server's, or NULL for the defaults */
    struct pv_notifier *notifier;        /* device actions (spec 5.5), or NULL */
    pv_import_runner imports;            /* the import job held by the runner (import_job.h) */
    void (*import_kick)(void *);         /* starts the runner now (pv_api_set_import_kick) */
    void *import_kick_arg;
};

/* Who may call a route (roles.h): the least role on the admin ladder, and whether
 * a customer token may, on its own account (the route's {name}). Every route that
 * changes something needs at least operator (integration.api_roles checks). */
typedef struct route {
    const char *method;
    const char *path; /* relative to /api/v1; {x} matches one segment */
    pv__api_fn fn;
    bool raw_body; /* the body is bytes, not JSON (firmware upload) */
    pv_role role;
    bool customer;
} route;

#define VIEWER PV_ROLE_VIEWER
#define OPERATOR PV_ROLE_OPERATOR
#define ADMIN PV_ROLE_ADMIN

/* clang-format off */
static const route routes[] = {
    {"GET",    "/tokens", pv__api_tokens_list, false, ADMIN, false},
    {"POST",   "/tokens", pv__api_token_create, false, ADMIN, false},
    {"DELETE", "/tokens/{name}", pv__api_token_delete, false, ADMIN, false},
    {"GET",    "/users", pv__api_users_list, false, ADMIN, false},
    {"POST",   "/users", pv__api_user_create, false, ADMIN, false},
    {"GET",    "/users/{login}", pv__api_user_get, false, ADMIN, false},
    {"DELETE", "/users/{login}", pv__api_user_delete, false, ADMIN, false},
    {"PUT",    "/users/{login}/password", pv__api_user_password, false, ADMIN, false},
    {"GET",    "/accounts", pv__api_accounts_list, false, VIEWER, false},
    {"POST",   "/accounts", pv__api_account_create, false, OPERATOR, false},
    {"GET",    "/accounts/{name}", pv__api_account_get, false, VIEWER, true},
    {"PUT",    "/accounts/{name}", pv__api_account_put, false, OPERATOR, false},
    {"PATCH",  "/accounts/{name}", pv__api_account_patch, false, OPERATOR, false},
    {"DELETE", "/accounts/{name}", pv__api_account_delete, false, OPERATOR, false},
    {"GET",    "/accounts/{name}/codes", pv__api_codes_list, false, VIEWER, true},
    {"POST",   "/accounts/{name}/codes", pv__api_code_create, false, OPERATOR, true},
    {"DELETE", "/codes/{id}", pv__api_code_delete, false, OPERATOR, false},
    {"GET",    "/accounts/{name}/customers", pv__api_customers_list, false, VIEWER, false},
    {"POST",   "/accounts/{name}/customers", pv__api_customer_create, false, OPERATOR, false},
    {"GET",    "/customers", pv__api_customers_list, false, VIEWER, false},
    {"GET",    "/customers/{login}", pv__api_customer_get, false, VIEWER, false},
    {"DELETE", "/customers/{login}", pv__api_customer_delete, false, OPERATOR, false},
    {"PUT",    "/customers/{login}/password", pv__api_customer_password, false, OPERATOR, false},
    {"GET",    "/devices", pv__api_devices_list, false, VIEWER, false},
    {"POST",   "/devices", pv__api_device_create, false, OPERATOR, false},
    {"POST",   "/devices:import", pv__api_devices_import, false, OPERATOR, false},
    {"GET",    "/imports/{job}", pv__api_import_get, false, VIEWER, false},
    {"POST",   "/import-jobs", pv__api_import_job_create, true, OPERATOR, false},
    {"GET",    "/import-jobs", pv__api_import_jobs_list, false, VIEWER, false},
    {"GET",    "/import-jobs/{id}", pv__api_import_job_get, false, VIEWER, false},
    {"GET",    "/import-jobs/{id}/errors", pv__api_import_job_errors, false, VIEWER, false},
    {"GET",    "/devices/{mac}", pv__api_device_get, false, VIEWER, false},
    {"PUT",    "/devices/{mac}", pv__api_device_put, false, OPERATOR, false},
    {"PATCH",  "/devices/{mac}", pv__api_device_patch, false, OPERATOR, false},
    {"DELETE", "/devices/{mac}", pv__api_device_delete, false, OPERATOR, false},
    {"POST",   "/devices/{mac}/assign", pv__api_device_assign, false, OPERATOR, false},
    {"POST",   "/devices/{mac}/release", pv__api_device_release, false, OPERATOR, false},
    {"POST",   "/devices/{mac}/rotate-key", pv__api_device_rotate_key, false, OPERATOR, false},
    {"PUT",    "/devices/{mac}/state", pv__api_device_state, false, OPERATOR, false},
    {"GET",    "/devices/{mac}/render", pv__api_device_render, false, OPERATOR, false},
    {"GET",    "/devices/{mac}/report", pv__api_device_report, false, VIEWER, false},
    {"POST",   "/devices/{mac}/actions", pv__api_device_action, false, OPERATOR, false},
    {"POST",   "/actions", pv__api_actions_bulk, false, OPERATOR, false},
    {"GET",    "/jobs", pv__api_jobs_list, false, VIEWER, false},
    {"GET",    "/jobs/{id}", pv__api_job_get, false, VIEWER, false},
    {"GET",    "/jobs/{id}/devices", pv__api_job_devices, false, VIEWER, false},
    {"GET",    "/devices/{mac}/actions", pv__api_device_actions_list, false, VIEWER, false},
    {"GET",    "/status", pv__api_status, false, VIEWER, false},
    {"GET",    "/params", pv__api_params_list, false, VIEWER, false},
    {"GET",    "/params/{scope}", pv__api_params_get, false, VIEWER, false},
    {"PUT",    "/params/{scope}", pv__api_params_put, false, OPERATOR, false},
    {"PATCH",  "/params/{scope}", pv__api_params_patch, false, OPERATOR, false},
    {"DELETE", "/params/{scope}", pv__api_params_delete, false, OPERATOR, false},
    {"GET",    "/firmware", pv__api_firmware_list, false, VIEWER, false},
    {"POST",   "/firmware", pv__api_firmware_create, false, OPERATOR, false},
    {"GET",    "/firmware/{id}", pv__api_firmware_get, false, VIEWER, false},
    {"DELETE", "/firmware/{id}", pv__api_firmware_delete, false, OPERATOR, false},
    {"PUT",    "/firmware/files/{file}", pv__api_firmware_upload, true, OPERATOR, false},
    {"GET",    "/plans", pv__api_plans_list, false, VIEWER, false},
    {"GET",    "/plans/{model}", pv__api_plan_get, false, VIEWER, false},
    {"PUT",    "/plans/{model}", pv__api_plan_put, false, OPERATOR, false},
    {"DELETE", "/plans/{model}", pv__api_plan_delete, false, OPERATOR, false},
    {"GET",    "/reports", pv__api_reports_list, false, VIEWER, false},
    {"GET",    "/reports/{id}", pv__api_report_get, false, VIEWER, false},
    {"GET",    "/audit", pv__api_audit_list, false, VIEWER, false},
    {"GET",    "/rollouts", pv__api_rollouts_list, false, VIEWER, false},
    {"POST",   "/rollouts", pv__api_rollout_create, false, OPERATOR, false},
    {"GET",    "/rollouts/{name}", pv__api_rollout_get, false, VIEWER, false},
    {"GET",    "/rollouts/{name}/devices", pv__api_rollout_devices, false, VIEWER, false},
    {"POST",   "/rollouts/{name}/resume", pv__api_rollout_resume, false, OPERATOR, false},
    {"POST",   "/rollouts/{name}/abort", pv__api_rollout_abort, false, OPERATOR, false},
    {"POST",   "/rollouts/{name}/rollback", pv__api_rollout_rollback, false, OPERATOR, false},
};
/* clang-format on */
#undef VIEWER
#undef OPERATOR
#undef ADMIN

void pv_api_set_policy(pv_api *api, const struct pv_prov_policy *policy)
{
    api->policy = policy;
}

static int open_store(pv_api *api, pv__api_ctx *ctx);

/* The notifier's finished targets go to the store the API uses (opened here when no request
 * opened it yet). */
static void record(void *data, uint64_t job, const pv_notify_result *r, size_t n)
{
    pv_api *api = data;
    if (open_store(api, NULL) == 0)
        pv__api_notify_record(api->store, job, r, n);
}

void pv_api_set_notifier(pv_api *api, struct pv_notifier *notifier)
{
    if (api == NULL)
        return;
    api->notifier = notifier;
    if (notifier == NULL || open_store(api, NULL) != 0)
        return;
    pv_notifier_set_recorder(notifier, record, api);
    /* outcomes a stopped process left pending will never come (docs/api.md) */
    int64_t count = 0;
    pv_error err = {""};
    if (pv_store_notify_interrupted(api->store, (int64_t)time(NULL), &count, &err) != 0)
        pv_logf(PV_LOG_ERROR, "sip.notify.record_failed", "error=\"%s\"", err.msg);
    else if (count > 0)
        pv_logf(PV_LOG_WARN, "sip.notify.interrupted", "devices=%lld", (long long)count);
}

int pv_api_after_binding(pv_api *api, const char (*macs)[13], size_t n)
{
    if (api == NULL || api->notifier == NULL || open_store(api, NULL) != 0)
        return 0;
    pv_push p = {.store = api->store,
                 .policy = api->policy,
                 .notifier = api->notifier,
                 .actor = "server",
                 .now = (int64_t)time(NULL)};
    int64_t job = 0;
    pv_error err = {""};
    int rc = pv_push_after_binding(&p, macs, n, &job, &err);
    if (rc == PV_EBUSY)
        return rc;
    if (rc != 0)
        pv_logf(PV_LOG_ERROR, "sip.notify.after_binding_failed", "devices=%zu error=\"%s\"", n,
                err.msg);
    else if (job != 0)
        pv_logf(PV_LOG_INFO, "sip.notify.after_binding", "devices=%zu job=%lld first=%s", n,
                (long long)job, macs[0]);
    return 0;
}

pv_api *pv_api_new(const char *data_dir, const char *db_url)
{
    pv_api *api = pv_calloc(1, sizeof *api);
    api->data_dir = pv_strdup(data_dir);
    if (db_url != NULL) {
        api->db_url = pv_strdup(db_url);
    } else {
        pv_buf b = {0};
        pv_buf_appendf(&b, "%s/provisor.db", data_dir);
        api->db_url = pv_buf_take(&b, NULL);
    }
    return api;
}

void pv_api_free(pv_api *api)
{
    if (api == NULL)
        return;
    pv_import_runner_free(&api->imports);
    if (api->store != NULL)
        pv_store_close(api->store);
    free(api->data_dir);
    free(api->db_url);
    free(api);
}

bool pv_api_owns(pv_slice path)
{
    return pv_slice_eq_cstr(path, "/api/v1") || pv_slice_starts_with(path, PV_API_PREFIX);
}

/* ---- the answer ---- */

static void send_answer(pv__api_ctx *ctx)
{
    pv_response resp = {.fd = -1};
    if (ctx->raw != NULL) {
        resp.status = ctx->status;
        resp.body_kind = PV_BODY_MEMORY;
        resp.body = pv_request_keep(ctx->req, ctx->raw, ctx->raw_len);
        resp.body_len = ctx->raw_len;
        resp.content_type = ctx->raw_type;
        if (ctx->raw_disposition[0])
            resp.headers = pv_request_printf(ctx->req, "Content-Disposition: %s\r\n",
                                             ctx->raw_disposition);
        ctx->raw = NULL;
    } else if (ctx->answer != NULL) {
        char *text = json_dumps(ctx->answer, JSON_COMPACT | JSON_ENSURE_ASCII);
        pv_buf b = {0};
        pv_buf_append_str(&b, text ? text : "{}");
        pv_buf_append_char(&b, '\n');
        free(text);
        resp.status = ctx->status;
        resp.body_kind = PV_BODY_MEMORY;
        resp.body = pv_request_keep_buf(ctx->req, &b, &resp.body_len);
        resp.content_type = "application/json";
    } else {
        resp.status = ctx->status;
    }
    resp.identity_log = "admin-api";
    pv_request_respond(ctx->req, &resp);
}

/* ---- authentication ---- */

static bool authenticate(pv_api *api, pv__api_ctx *ctx)
{
    pv_slice h = pv_slice_trim(pv_request_header(ctx->req, "Authorization"));
    if (h.len == 0) {
        pv__api_fail(ctx, 401, "unauthorized", NULL,
                     "no Authorization header; send 'Authorization: Bearer <token>'");
        return false;
    }
    if (h.len < 7 || !pv_slice_case_eq_cstr(pv_slice_make(h.ptr, 7), "Bearer ")) {
        pv__api_fail(ctx, 401, "unauthorized", NULL,
                     "the Authorization header must be 'Bearer <token>'");
        return false;
    }
    char *token = pv_slice_dup(pv_slice_trim(pv_slice_make(h.ptr + 7, h.len - 7)));
    pv_token_holder who;
    pv_error err = {""};
    int rc = pv_token_authenticate(ctx->store, api->data_dir, token, ctx->now, &who, &err);
    free(token);
    if (rc == 0) {
        memcpy(ctx->actor, who.actor, sizeof ctx->actor);
        ctx->role = who.role;
        ctx->account_id = who.account_id;
    } else if (rc == PV_EACCES) {
        pv__api_fail(ctx, 403, "forbidden", NULL, "this token has been revoked");
    } else if (rc == PV_ENOENT || rc == PV_ETOOBIG) {
        pv__api_fail(ctx, 401, "unauthorized", NULL, "%s",
                     rc == PV_ENOENT ? "unknown token" : "token name too long");
    } else {
        pv__api_fail_store(ctx, rc, &err, NULL);
    }
    return rc == 0;
}

/* The route's role check (roles.h), before the handler runs: 403 with code "role"
 * names what the route needs and what the token holds. A customer reaches only the
 * routes open to customers, on its own account. */
static bool authorize(pv__api_ctx *ctx, const route *r)
{
    if (ctx->role == PV_ROLE_CUSTOMER && r->customer) {
        int64_t id = 0;
        pv_error err = {""};
        pv_store_account a = {0};
        if (pv_store_account_get_by_name(ctx->store, ctx->params[0], &a, &err) == 0)
            id = a.id;
        pv_store_account_free(&a);
        if (id != 0 && id == ctx->account_id)
            return true;
        pv__api_fail(ctx, 403, "role", NULL, "a customer token reaches only its own account");
        return false;
    }
    if (pv_role_at_least(ctx->role, r->role))
        return true;
    pv__api_fail(ctx, 403, "role", NULL, "%s %s needs the role %s%s; this token is %s",
                 r->method, r->path, pv_role_name(r->role), r->customer ? " (or customer)" : "",
                 pv_role_name(ctx->role));
    return false;
}

/* ---- routing ---- */

/* Splits "/a/b/c" into at most max segments (borrowed); false when more. */
static bool split(pv_slice path, pv_slice *segs, size_t max, size_t *n)
{
    *n = 0;
    size_t i = 0;
    while (i < path.len) {
        if (path.ptr[i] == '/') {
            i++;
            continue;
        }
        size_t start = i;
        while (i < path.len && path.ptr[i] != '/')
            i++;
        if (*n == max)
            return false;
        segs[(*n)++] = pv_slice_make(path.ptr + start, i - start);
    }
    return true;
}

/* Does route r's path match segs? Fills ctx->params on success. */
static bool match(const route *r, const pv_slice *segs, size_t n, pv__api_ctx *ctx)
{
    pv_slice pat[6];
    size_t pn = 0;
    if (!split(pv_slice_from(r->path), pat, 6, &pn) || pn != n)
        return false;
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        if (pat[i].len > 0 && pat[i].ptr[0] == '{')
            continue;
        if (!pv_slice_eq(pat[i], segs[i]))
            return false;
    }
    for (size_t i = 0; i < n && np < 3; i++)
        if (pat[i].len > 0 && pat[i].ptr[0] == '{')
            ctx->params[np++] = pv_slice_dup(segs[i]);
    return true;
}

static bool parse_body(pv__api_ctx *ctx)
{
    pv_slice b = ctx->req->body;
    if (pv_slice_trim(b).len == 0)
        return true; /* handlers that need one say so */
    json_error_t jerr;
    ctx->body = json_loadb(b.ptr, b.len, JSON_REJECT_DUPLICATES, &jerr);
    if (ctx->body == NULL) {
        pv__api_fail(ctx, 400, "invalid_json", NULL, "body: line %d, column %d: %s", jerr.line,
                     jerr.column, jerr.text);
        return false;
    }
    /* Nothing the API stores may hold a control character (core/text.h): say
     * where, before any handler sees the body. */
    char where[160];
    pv_error err = {""};
    if (pv_store_json_text_check(ctx->body, "", where, sizeof where, &err) != 0) {
        pv__api_fail(ctx, 422, "invalid", where[0] ? where : NULL, "%s", err.msg);
        return false;
    }
    return true;
}

static int open_store(pv_api *api, pv__api_ctx *ctx)
{
    if (api->store != NULL)
        return 0;
    pv_error err = {""};
    pv_store *s = NULL;
    int rc = pv_store_open(api->db_url, &s, &err);
    if (rc == 0)
        rc = pv_store_migrate(s, NULL, &err);
    if (rc != 0) {
        if (s != NULL)
            pv_store_close(s);
        pv_logf(PV_LOG_ERROR, "api.store_failed", "error=\"%s\"", err.msg);
        if (ctx != NULL)
            pv__api_fail(ctx, 503, "unavailable", NULL, "the store cannot be opened: %s", err.msg);
        return rc;
    }
    api->store = s;
    return 0;
}

void pv_api_tick_rollouts(pv_api *api)
{
    pv_error err = {""};
    if (open_store(api, NULL) == 0 && pv_rollout_tick(api->store, time(NULL), &err) != 0)
        pv_logf(PV_LOG_ERROR, "rollout.tick_failed", "error=\"%s\"", err.msg);
}

void pv_api_set_import_kick(pv_api *api, void (*kick)(void *), void *arg)
{
    api->import_kick = kick;
    api->import_kick_arg = arg;
}

int pv_api_import_step(pv_api *api)
{
    if (open_store(api, NULL) != 0)
        return PV_ESTORE;
    pv_error err = {""};
    int rc = pv_import_runner_step(&api->imports, api->store,
                                   api->policy ? api->policy->known_models : NULL, &err);
    if (rc < 0)
        pv_logf(PV_LOG_ERROR, "import.slice_failed", "error=\"%s\"", err.msg);
    return rc;
}

void pv_api_fold_counts(pv_api *api, int64_t now)
{
    /* PostgreSQL's device count changes pile up between dashboard views (a million-device
     * import appends three million rows): folded once a minute whoever looks (schema step 8). */
    static int64_t last;
    if (now - last < 60)
        return;
    last = now;
    pv_error err = {""};
    if (open_store(api, NULL) == 0 && pv_store_device_counts_fold(api->store, &err) != 0)
        pv_logf(PV_LOG_WARN, "store.counts_fold_failed", "error=\"%s\"", err.msg);
}

static void dispatch(pv_api *api, pv__api_ctx *ctx, bool authenticated)
{
    pv_request *req = ctx->req;
    if (open_store(api, ctx) != 0)
        return;
    ctx->store = api->store;
    if (!authenticated && !authenticate(api, ctx))
        return;
    /* With the master key loaded before any handler, secrets (parameters, account settings)
     * are sealed as they are written and opened as they are read, by every route. */
    pv_error key_err = {""};
    if (pv__api_load_secrets(ctx, false, &key_err) != 0) {
        pv__api_fail(ctx, 503, "unavailable", NULL, "%s", key_err.msg);
        return;
    }
    pv_slice rel = pv_slice_make(req->path.ptr + 7, req->path.len - 7); /* after /api/v1 */
    pv_slice segs[6];
    size_t n = 0;
    bool known_path = false;
    if (split(rel, segs, 6, &n)) {
        for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
            const route *r = &routes[i];
            if (!match(r, segs, n, ctx))
                continue;
            known_path = true;
            bool same = pv_slice_eq_cstr(req->method_name, r->method) ||
                        (req->method == PV_METHOD_HEAD && strcmp(r->method, "GET") == 0);
            if (!same) {
                for (size_t k = 0; k < 3; k++) {
                    free(ctx->params[k]);
                    ctx->params[k] = NULL;
                }
                continue;
            }
            req->metrics_route = r->path; /* "/devices/{mac}": the table's, a bounded label */
            if (!authorize(ctx, r) || (!r->raw_body && !parse_body(ctx)))
                return;
            r->fn(ctx);
            /* an upload that landed here runs here at once, not at the runner's next poll */
            if (r->fn == pv__api_import_job_create && ctx->status == 202 && api->import_kick)
                api->import_kick(api->import_kick_arg);
            return;
        }
    }
    if (known_path)
        pv__api_fail(ctx, 405, "method_not_allowed", NULL, "%.*s is not allowed on %.*s",
                     PV_SLICE_ARG(req->method_name), PV_SLICE_ARG(req->path));
    else
        pv__api_fail(ctx, 404, "not_found", NULL, "no such endpoint: %.*s; see docs/api.md",
                     PV_SLICE_ARG(req->path));
}

/* Where pv_api_call_as wants the answer instead of the request's transport. */
typedef struct capture {
    int status;
    char *answer;
} capture;

static void handle(pv_api *api, pv_request *req, const char *actor, int role, capture *cap)
{
    pv__api_ctx ctx = {.req = req,
                       .data_dir = api->data_dir,
                       .policy = api->policy,
                       .notifier = api->notifier,
                       .now = (int64_t)time(NULL)};
    if (actor != NULL) {
        snprintf(ctx.actor, sizeof ctx.actor, "%s", actor);
        ctx.role = (pv_role)role;
    }
    dispatch(api, &ctx, actor != NULL);
    if (ctx.status == 0)
        pv__api_fail(&ctx, 500, "internal", NULL, "the handler gave no answer");
    if (cap != NULL) {
        cap->status = ctx.status;
        cap->answer = ctx.answer ? json_dumps(ctx.answer, JSON_COMPACT) : NULL;
    } else {
        send_answer(&ctx);
    }
    json_decref(ctx.answer);
    json_decref(ctx.body);
    free(ctx.raw);
    for (size_t k = 0; k < 3; k++)
        free(ctx.params[k]);
}

void pv_api_handle(pv_api *api, pv_request *req)
{
    handle(api, req, NULL, 0, NULL);
}

void pv_api_handle_as(pv_api *api, pv_request *req, const char *actor, int role)
{
    handle(api, req, actor, role, NULL);
}

/* A copy of req with the call's method, path (a query after '?') and body: the route table,
 * the role check, the body's validation and the audit are the ones every caller meets. */
int pv_api_call_body_as(pv_api *api, pv_request *req, const char *method, const char *path,
                        pv_slice body, const char *actor, int role, char **answer)
{
    pv_request sub = *req;
    sub.method = strcmp(method, "POST") == 0  ? PV_METHOD_POST
                 : strcmp(method, "PUT") == 0 ? PV_METHOD_PUT
                                              : PV_METHOD_OTHER;
    sub.method_name = pv_slice_from(method);
    const char *q = strchr(path, '?');
    sub.path = pv_slice_make(path, q ? (size_t)(q - path) : strlen(path));
    sub.query = q ? pv_slice_from(q + 1) : pv_slice_make("", 0);
    sub.body = body;
    sub.head_only = false;
    capture cap = {0};
    handle(api, &sub, actor, role, &cap);
    req->metrics_route = sub.metrics_route;
    *answer = cap.answer;
    return cap.status;
}

int pv_api_call_as(pv_api *api, pv_request *req, const char *method, const char *path,
                   const char *body, const char *actor, int role, char **answer)
{
    return pv_api_call_body_as(api, req, method, path, pv_slice_from(body ? body : ""), actor,
                               role, answer);
}
