/*
 * store_params.c — layered parameter sets (DESIGN 4), firmware images,
 * upgrade plans and the audit log; see store.h.
 */
#include "store/store.h"

#include "core/alloc.h"
#include "core/text.h"
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parameter sets --------------------------------------------------------- */

static int entry_check(const char *scope, const char *name, const char *value, const char *ua,
                       pv_error *err)
{
    if (name == NULL || name[0] == '\0')
        return pv_error_set(err, PV_EINVAL, "%s: parameter name is empty", scope);
    char field[160];
    (void)snprintf(field, sizeof field, "%s: parameter name", scope);
    if (pv_text_check(pv_slice_from(name), PV_TEXT_NAME, field, err) != 0)
        return PV_EINVAL; /* the name is not echoed: it holds a control character */
    if (value == NULL)
        return pv_error_set(err, PV_EINVAL, "%s: parameter %.60s has no value", scope, name);
    (void)snprintf(field, sizeof field, "%s: parameter %.60s", scope, name);
    if (pv_text_check(pv_slice_from(value), PV_TEXT_VALUE, field, err) != 0)
        return PV_EINVAL; /* a render of the profile would fail on it */
    if (ua != NULL && ua[0] != '\0' && strcmp(ua, "na") != 0 && strcmp(ua, "ro") != 0 &&
        strcmp(ua, "rw") != 0) /* spec 3.1 */
        return pv_error_set(err, PV_EINVAL, "%s: parameter %.60s: ua '%.10s' is not na, ro or rw",
                            scope, name, ua);
    return 0;
}

static const char *ua_or_null(const char *ua)
{
    return ua != NULL && ua[0] != '\0' ? ua : NULL;
}

/* Creates the set or bumps its version, in one statement; returns its id. */
static const char sql_set_touch[] =
    "INSERT INTO param_sets (scope, version, updated_at) VALUES ($1, 1, $2) "
    "ON CONFLICT (scope) DO UPDATE SET version = param_sets.version + 1, "
    "updated_at = excluded.updated_at RETURNING id";
static const char sql_entry_put[] =
    "INSERT INTO param_entries (set_id, name, value, ua) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (set_id, name) DO UPDATE SET value = excluded.value, ua = excluded.ua";
static const char sql_entry_delete[] = "DELETE FROM param_entries WHERE set_id = $1 AND name = $2";
static const char sql_entries_clear[] = "DELETE FROM param_entries WHERE set_id = $1";

/* Runs body inside a transaction on the touched set (version bumped once). */
typedef int (*set_body)(pv_store *s, int64_t set_id, const void *arg, pv_error *err);

static int in_set(pv_store *s, const char *scope, int64_t now, set_body body, const void *arg,
                  pv_error *err)
{
    int rc = pv_store_scope_check(scope, err);
    if (rc != 0 || (rc = pv_store_begin(s, err)) != 0)
        return rc;
    int64_t id = 0;
    rc = pv__int(s, sql_set_touch, PV_ARGS(PV_T(scope), PV_I(now)), &id, err);
    if (rc == 0)
        rc = body(s, id, arg, err);
    if (rc != 0) {
        pv_store_rollback(s);
        return rc;
    }
    return pv_store_commit(s, err);
}

typedef struct put_arg {
    const char *scope;
    const pv_store_param *p;
} put_arg;

static int put_one(pv_store *s, int64_t set_id, const void *arg, pv_error *err)
{
    const put_arg *a = arg;
    char *sealed = NULL; /* secret parameters are stored sealed (store_param_secrets.c) */
    int rc = pv__param_seal(s, a->scope, a->p->name, a->p->value, &sealed, err);
    if (rc == 0)
        rc = pv__exec(s, sql_entry_put,
                      PV_ARGS(PV_I(set_id), PV_T(a->p->name),
                              PV_T(sealed != NULL ? sealed : a->p->value),
                              PV_T(ua_or_null(a->p->ua))),
                      NULL, err);
    free(sealed);
    return rc;
}

int pv_store_param_put(pv_store *s, const char *scope, const char *name, const char *value,
                       const char *ua, int64_t now, pv_error *err)
{
    int rc = entry_check(scope, name, value, ua, err);
    if (rc != 0)
        return rc;
    pv_store_param p = {(char *)name, (char *)value, ""};
    (void)snprintf(p.ua, sizeof p.ua, "%s", ua != NULL ? ua : "");
    put_arg a = {scope, &p};
    return in_set(s, scope, now, put_one, &a, err);
}

static int delete_one(pv_store *s, int64_t set_id, const void *arg, pv_error *err)
{
    int64_t changed = 0;
    int rc = pv__exec(s, sql_entry_delete, PV_ARGS(PV_I(set_id), PV_T(arg)), &changed, err);
    if (rc == 0 && changed == 0)
        rc = pv_error_set(err, PV_ENOENT, "parameter %.60s: not in this set", (const char *)arg);
    return rc;
}

int pv_store_param_delete(pv_store *s, const char *scope, const char *name, int64_t now,
                          pv_error *err)
{
    int rc = in_set(s, scope, now, delete_one, name, err);
    return rc == PV_ENOENT ? pv__wrap(err, rc, "%s", scope) : rc;
}

typedef struct replace_arg {
    const char *scope;
    const pv_store_param *entries;
    size_t n;
} replace_arg;

static int replace_all(pv_store *s, int64_t set_id, const void *arg, pv_error *err)
{
    const replace_arg *r = arg;
    int rc = pv__exec(s, sql_entries_clear, PV_ARGS(PV_I(set_id)), NULL, err);
    for (size_t i = 0; rc == 0 && i < r->n; i++) {
        put_arg a = {r->scope, &r->entries[i]};
        rc = put_one(s, set_id, &a, err);
    }
    return rc;
}

int pv_store_params_replace(pv_store *s, const char *scope, const pv_store_param *entries, size_t n,
                            int64_t now, pv_error *err)
{
    for (size_t i = 0; i < n; i++) {
        int rc = entry_check(scope, entries[i].name, entries[i].value, entries[i].ua, err);
        if (rc != 0)
            return rc;
    }
    replace_arg r = {scope, entries, n};
    return in_set(s, scope, now, replace_all, &r, err);
}

void pv__read_param_set(pv_store *s, pv__stmt *st, int base, void *row)
{
    pv_store_param_set *p = row;
    p->id = pv__col_int(s, st, base + 0);
    p->scope = pv__col_dup(s, st, base + 1);
    p->version = pv__col_int(s, st, base + 2);
    p->updated_at = pv__col_int(s, st, base + 3);
}

static void read_set(pv_store *s, pv__stmt *st, void *row)
{
    pv__read_param_set(s, st, 0, row);
}

void pv_store_param_set_free(pv_store_param_set *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->entries[i].name);
        free(p->entries[i].value);
    }
    free(p->entries);
    free(p->scope);
    memset(p, 0, sizeof *p);
}

static void free_set(void *row)
{
    pv_store_param_set_free(row);
}

void pv_store_param_sets_free(pv_store_param_set *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pv_store_param_set_free(&rows[i]);
    free(rows);
}

int pv__read_param_entry(pv_store *s, pv__stmt *st, int base, const char *scope, pv_store_param *p,
                         pv_error *err)
{
    p->name = pv__col_dup(s, st, base + 0);
    p->value = pv__col_dup(s, st, base + 1);
    pv__col_copy(s, st, base + 2, p->ua, sizeof p->ua);
    return pv__param_open(s, scope, p->name, &p->value, err);
}

static const char sql_set_get[] = "SELECT " SET_COLS " FROM param_sets WHERE scope = $1";
static const char sql_entries[] =
    "SELECT " ENTRY_COLS " FROM param_entries WHERE set_id = $1 ORDER BY name";

int pv_store_params_get(pv_store *s, const char *scope, pv_store_param_set *out, pv_error *err)
{
    memset(out, 0, sizeof *out);
    pv__stmt *st = NULL;
    int rc = pv_store_scope_check(scope, err);
    if (rc == 0)
        rc = pv__get(s, sql_set_get, PV_ARGS(PV_T(scope)), read_set, out, sizeof *out, err);
    if (rc == PV_ENOENT)
        return pv_error_set(err, PV_ENOENT, "%s: no parameter set", scope);
    if (rc != 0)
        return rc;
    size_t cap = 0;
    rc = pv__query(s, sql_entries, PV_ARGS(PV_I(out->id)), &st, err);
    while (rc == 0 && (rc = pv__next(s, st, err)) == 1) {
        pv_store_param *p = pv__rows_push((void **)&out->entries, &out->n, &cap, sizeof *p);
        rc = pv__read_param_entry(s, st, 0, scope, p, err);
    }
    if (rc < 0)
        pv__done(s, st); /* a value that did not open leaves rows unread */
    if (rc < 0)
        pv_store_param_set_free(out);
    return rc;
}

static const char sql_set_version[] = "SELECT version FROM param_sets WHERE scope = $1";

int pv_store_params_version(pv_store *s, const char *scope, int64_t *version, pv_error *err)
{
    *version = 0;
    int rc = pv_store_scope_check(scope, err);
    if (rc == 0)
        rc = pv__int(s, sql_set_version, PV_ARGS(PV_T(scope)), version, err);
    return rc == PV_ENOENT ? 0 : rc;
}

static const char sql_set_delete[] = "DELETE FROM param_sets WHERE scope = $1";

int pv_store_params_delete(pv_store *s, const char *scope, pv_error *err)
{
    int64_t changed = 0;
    int rc = pv_store_scope_check(scope, err);
    if (rc == 0)
        rc = pv__exec(s, sql_set_delete, PV_ARGS(PV_T(scope)), &changed, err);
    if (rc == 0 && changed == 0)
        rc = pv_error_set(err, PV_ENOENT, "%s: no parameter set", scope);
    return rc;
}

static const pv__list_spec set_list = {sizeof(pv_store_param_set), read_set, free_set, 1};
static const char sql_set_list[] =
    "SELECT " SET_COLS " FROM param_sets WHERE scope > $1 ORDER BY scope LIMIT $2";

int pv_store_params_list(pv_store *s, pv_store_page *page, pv_store_param_set **rows, size_t *n,
                         pv_error *err)
{
    return pv__list(s, &set_list, sql_set_list,
                    PV_ARGS(PV_T(page->after), PV_I((int64_t)pv__page_limit(page) + 1)), page,
                    (void **)rows, n, err);
}

/* ---- firmware images --------------------------------------------------------- */

void pv__read_firmware(pv_store *s, pv__stmt *st, int base, void *row)
{
    pv_store_firmware *f = row;
    f->id = pv__col_int(s, st, base + 0);
    f->model = pv__col_dup(s, st, base + 1);
    f->version = pv__col_dup(s, st, base + 2);
    f->file_name = pv__col_dup(s, st, base + 3);
    f->sha256 = pv__col_dup(s, st, base + 4);
    f->size = pv__col_int(s, st, base + 5);
    f->kind = pv__col_dup(s, st, base + 6);
    f->files = pv__col_dup(s, st, base + 7);
    f->created_at = pv__col_int(s, st, base + 8);
}

static void read_fw(pv_store *s, pv__stmt *st, void *row)
{
    pv__read_firmware(s, st, 0, row);
}

void pv_store_firmware_free(pv_store_firmware *f)
{
    free(f->model);
    free(f->version);
    free(f->file_name);
    free(f->sha256);
    free(f->kind);
    free(f->files);
    memset(f, 0, sizeof *f);
}

static void free_fw(void *row)
{
    pv_store_firmware_free(row);
}

void pv_store_firmwares_free(pv_store_firmware *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pv_store_firmware_free(&rows[i]);
    free(rows);
}

static int fw_check(const pv_store_firmware *f, pv_error *err)
{
    if (f->model == NULL || f->model[0] == '\0' || f->version == NULL || f->version[0] == '\0' ||
        f->file_name == NULL || f->file_name[0] == '\0')
        return pv_error_set(err, PV_EINVAL, "firmware: model, version and file name are required");
    if (f->sha256 == NULL || strlen(f->sha256) != 64 || strspn(f->sha256, "0123456789abcdef") != 64)
        return pv_error_set(err, PV_EINVAL,
                            "firmware %.40s: sha256 must be 64 lower-case hex "
                            "digits",
                            f->file_name);
    if (f->kind == NULL || (strcmp(f->kind, "loads") != 0 && strcmp(f->kind, "bin") != 0))
        return pv_error_set(err, PV_EINVAL, "firmware %.40s: kind must be loads or bin (spec 6)",
                            f->file_name);
    if (f->size < 0)
        return pv_error_set(err, PV_EINVAL, "firmware %.40s: negative size", f->file_name);
    return f->files != NULL ? pv__json_check(f->files, '[', "firmware files", err) : 0;
}

static const char sql_fw_add[] =
    "INSERT INTO firmware_images (model, version, file_name, sha256, size, kind, files, "
    "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";

int pv_store_firmware_add(pv_store *s, const pv_store_firmware *f, int64_t now, int64_t *id,
                          pv_error *err)
{
    int rc = fw_check(f, err);
    int64_t new_id = 0;
    if (rc == 0)
        rc = pv__int(s, sql_fw_add,
                     PV_ARGS(PV_T(f->model), PV_T(f->version), PV_T(f->file_name), PV_T(f->sha256),
                             PV_I(f->size), PV_T(f->kind), PV_T(f->files ? f->files : "[]"),
                             PV_I(now)),
                     &new_id, err);
    if (rc == PV_EEXIST)
        return pv_error_set(err, rc, "firmware %.40s %.40s: already registered", f->model,
                            f->version);
    if (rc == 0 && id != NULL)
        *id = new_id;
    return rc;
}

static int fw_one(pv_store *s, const char *sql, const pv__val *args, size_t nargs,
                  pv_store_firmware *out, pv_error *err)
{
    int rc = pv__get(s, sql, args, nargs, read_fw, out, sizeof *out, err);
    return rc == PV_ENOENT ? pv_error_set(err, PV_ENOENT, "firmware: no such image") : rc;
}

static const char sql_fw_get[] = "SELECT " FW_COLS " FROM firmware_images WHERE id = $1";
static const char sql_fw_find[] =
    "SELECT " FW_COLS " FROM firmware_images WHERE model = $1 AND version = $2";

int pv_store_firmware_get(pv_store *s, int64_t id, pv_store_firmware *out, pv_error *err)
{
    return fw_one(s, sql_fw_get, PV_ARGS(PV_I(id)), out, err);
}

int pv_store_firmware_find(pv_store *s, const char *model, const char *version,
                           pv_store_firmware *out, pv_error *err)
{
    return fw_one(s, sql_fw_find, PV_ARGS(PV_T(model), PV_T(version)), out, err);
}

static const char sql_fw_delete[] = "DELETE FROM firmware_images WHERE id = $1";

int pv_store_firmware_delete(pv_store *s, int64_t id, pv_error *err)
{
    int64_t changed = 0;
    int rc = pv__exec(s, sql_fw_delete, PV_ARGS(PV_I(id)), &changed, err);
    if (rc == 0 && changed == 0)
        rc = pv_error_set(err, PV_ENOENT, "firmware %lld: no such image", (long long)id);
    return rc;
}

static const pv__list_spec fw_list = {sizeof(pv_store_firmware), read_fw, free_fw, 0};
static const char sql_fw_list[] =
    "SELECT " FW_COLS " FROM firmware_images WHERE id > $1 ORDER BY id LIMIT $2";
static const char sql_fw_list_model[] = "SELECT " FW_COLS " FROM firmware_images "
                                        "WHERE model = $1 AND id > $2 ORDER BY id LIMIT $3";

int pv_store_firmware_list(pv_store *s, const char *model, pv_store_page *page,
                           pv_store_firmware **rows, size_t *n, pv_error *err)
{
    int64_t after = 0, limit = (int64_t)pv__page_limit(page) + 1;
    int rc = pv__page_after_int(page, &after, err);
    if (rc != 0)
        return rc;
    if (model == NULL)
        return pv__list(s, &fw_list, sql_fw_list, PV_ARGS(PV_I(after), PV_I(limit)), page,
                        (void **)rows, n, err);
    return pv__list(s, &fw_list, sql_fw_list_model, PV_ARGS(PV_T(model), PV_I(after), PV_I(limit)),
                    page, (void **)rows, n, err);
}

/* ---- upgrade plans ------------------------------------------------------------- */

void pv__read_plan(pv_store *s, pv__stmt *st, int base, void *row)
{
    pv_store_plan *p = row;
    p->model = pv__col_dup(s, st, base + 0);
    p->target_version = pv__col_dup(s, st, base + 1);
    p->stages = pv__col_dup(s, st, base + 2);
    p->version = pv__col_int(s, st, base + 3);
    p->updated_at = pv__col_int(s, st, base + 4);
}

static void read_plan(pv_store *s, pv__stmt *st, void *row)
{
    pv__read_plan(s, st, 0, row);
}

void pv_store_plan_free(pv_store_plan *p)
{
    free(p->model);
    free(p->target_version);
    free(p->stages);
    memset(p, 0, sizeof *p);
}

static void free_plan(void *row)
{
    pv_store_plan_free(row);
}

void pv_store_plans_free(pv_store_plan *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pv_store_plan_free(&rows[i]);
    free(rows);
}

static const char sql_plan_put[] =
    "INSERT INTO upgrade_plans (model, target_version, stages, updated_at) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT (model) DO UPDATE SET "
    "target_version = excluded.target_version, stages = excluded.stages, "
    "version = upgrade_plans.version + 1, updated_at = excluded.updated_at";

int pv_store_plan_put(pv_store *s, const pv_store_plan *p, int64_t now, pv_error *err)
{
    /* The model is the list cursor: it must fit pv_store_page.after. */
    if (p->model == NULL || p->model[0] == '\0' || strlen(p->model) >= 80)
        return pv_error_set(err, PV_EINVAL, "upgrade plan: model must be 1 to 79 characters");
    if (p->target_version == NULL || p->target_version[0] == '\0')
        return pv_error_set(err, PV_EINVAL, "upgrade plan %s: target version is required",
                            p->model);
    int rc = p->stages != NULL ? pv__json_check(p->stages, '[', "upgrade plan stages", err) : 0;
    if (rc == 0)
        rc = pv__exec(s, sql_plan_put,
                      PV_ARGS(PV_T(p->model), PV_T(p->target_version),
                              PV_T(p->stages ? p->stages : "[]"), PV_I(now)),
                      NULL, err);
    return rc;
}

static const char sql_plan_get[] = "SELECT " PLAN_COLS " FROM upgrade_plans WHERE model = $1";

int pv_store_plan_get(pv_store *s, const char *model, pv_store_plan *out, pv_error *err)
{
    int rc = pv__get(s, sql_plan_get, PV_ARGS(PV_T(model)), read_plan, out, sizeof *out, err);
    if (rc == PV_ENOENT)
        return pv_error_set(err, PV_ENOENT, "upgrade plan %.60s: none for this model", model);
    return rc;
}

static const char sql_plan_delete[] = "DELETE FROM upgrade_plans WHERE model = $1";

int pv_store_plan_delete(pv_store *s, const char *model, pv_error *err)
{
    int64_t changed = 0;
    int rc = pv__exec(s, sql_plan_delete, PV_ARGS(PV_T(model)), &changed, err);
    if (rc == 0 && changed == 0)
        rc = pv_error_set(err, PV_ENOENT, "upgrade plan %.60s: none for this model", model);
    return rc;
}

static const pv__list_spec plan_list = {sizeof(pv_store_plan), read_plan, free_plan, 0};
static const char sql_plan_list[] =
    "SELECT " PLAN_COLS " FROM upgrade_plans WHERE model > $1 ORDER BY model LIMIT $2";

int pv_store_plan_list(pv_store *s, pv_store_page *page, pv_store_plan **rows, size_t *n,
                       pv_error *err)
{
    return pv__list(s, &plan_list, sql_plan_list,
                    PV_ARGS(PV_T(page->after), PV_I((int64_t)pv__page_limit(page) + 1)), page,
                    (void **)rows, n, err);
}

/* ---- audit log ------------------------------------------------------------------ */

#define AUDIT_COLS "id, logged_at, actor, action, subject, content_hash, detail"

static void read_audit(pv_store *s, pv__stmt *st, void *row)
{
    pv_store_audit *a = row;
    a->id = pv__col_int(s, st, 0);
    a->at = pv__col_int(s, st, 1);
    a->actor = pv__col_dup(s, st, 2);
    a->action = pv__col_dup(s, st, 3);
    a->subject = pv__col_dup(s, st, 4);
    a->content_hash = pv__col_dup(s, st, 5);
    a->detail = pv__col_dup(s, st, 6);
}

void pv_store_audit_free(pv_store_audit *a)
{
    free(a->actor);
    free(a->action);
    free(a->subject);
    free(a->content_hash);
    free(a->detail);
    memset(a, 0, sizeof *a);
}

static void free_audit(void *row)
{
    pv_store_audit_free(row);
}

void pv_store_audits_free(pv_store_audit *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pv_store_audit_free(&rows[i]);
    free(rows);
}

static const char sql_audit_add[] =
    "INSERT INTO audit_log (logged_at, actor, action, subject, content_hash, detail) "
    "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";

int pv_store_audit_add(pv_store *s, const pv_store_audit *a, int64_t *id, pv_error *err)
{
    if (a->actor == NULL || a->actor[0] == '\0' || a->action == NULL || a->action[0] == '\0')
        return pv_error_set(err, PV_EINVAL, "audit entry: actor and action are required");
    int64_t new_id = 0;
    int rc =
        pv__int(s, sql_audit_add,
                PV_ARGS(PV_I(a->at), PV_T(a->actor), PV_T(a->action),
                        PV_T(a->subject ? a->subject : ""), PV_T(a->content_hash), PV_T(a->detail)),
                &new_id, err);
    if (rc == 0 && id != NULL)
        *id = new_id;
    return rc;
}

/* Retention (issue 11 item 3): one bounded DELETE each, oldest rows first,
 * so that a call holds the write lock for a few milliseconds at most. The
 * size bound keeps the newest max_rows: the id of the row just past them is
 * the cut.
 * The age bound looks at the $2 oldest rows by id only, never the whole table:
 * rows are appended in time order, so when the oldest are younger than the
 * cutoff, none is older, and a table with nothing to prune (the usual case,
 * asked every second) costs a walk of $2 primary-key entries instead of a scan
 * of every row's logged_at (there is no index on it). A row a few seconds out
 * of order (clocks of two nodes) waits for the rows before it to go. */
static const char sql_audit_prune_age[] =
    "DELETE FROM audit_log WHERE id IN "
    "(SELECT id FROM (SELECT id, logged_at FROM audit_log ORDER BY id LIMIT $2) AS oldest "
    "WHERE logged_at < $1)";
/* The newest $1 ids stay: rows are numbered in commit order, so at most $1 rows are kept (fewer
 * where a rolled-back transaction left a number unused). OFFSET $1 from the newest row walked
 * up to 10 million index entries every second (issue 18). */
static const char sql_audit_cut[] = "SELECT MAX(id) - $1 FROM audit_log";
static const char sql_audit_prune_id[] =
    "DELETE FROM audit_log WHERE id IN "
    "(SELECT id FROM audit_log WHERE id <= $1 ORDER BY id LIMIT $2)";

int pv_store_audit_prune(pv_store *s, int64_t before, int64_t max_rows, int64_t chunk,
                         int64_t *deleted, pv_error *err)
{
    int64_t n = 0, cut = 0;
    *deleted = 0;
    if (chunk <= 0)
        return pv_error_set(err, PV_EINVAL, "audit prune: chunk must be positive");
    int rc = 0;
    if (before > 0) {
        rc = pv__exec(s, sql_audit_prune_age, PV_ARGS(PV_I(before), PV_I(chunk)), &n, err);
        *deleted += rc == 0 ? n : 0;
    }
    if (rc == 0 && max_rows > 0 && *deleted < chunk) {
        rc = pv__int(s, sql_audit_cut, PV_ARGS(PV_I(max_rows)), &cut, err);
        if (rc == PV_ENOENT || (rc == 0 && cut <= 0)) /* fewer rows than the bound */
            return 0;
        if (rc == 0)
            rc = pv__exec(s, sql_audit_prune_id, PV_ARGS(PV_I(cut), PV_I(chunk - *deleted)), &n,
                          err);
        *deleted += rc == 0 ? n : 0;
    }
    return rc;
}

static const pv__list_spec audit_list = {sizeof(pv_store_audit), read_audit, free_audit, 0};
static const char sql_audit_list[] =
    "SELECT " AUDIT_COLS " FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2";
static const char sql_audit_subject[] = "SELECT " AUDIT_COLS " FROM audit_log "
                                        "WHERE subject = $1 AND id > $2 ORDER BY id LIMIT $3";

int pv_store_audit_list(pv_store *s, const char *subject, pv_store_page *page,
                        pv_store_audit **rows, size_t *n, pv_error *err)
{
    int64_t after = 0, limit = (int64_t)pv__page_limit(page) + 1;
    int rc = pv__page_after_int(page, &after, err);
    if (rc != 0)
        return rc;
    if (subject == NULL)
        return pv__list(s, &audit_list, sql_audit_list, PV_ARGS(PV_I(after), PV_I(limit)), page,
                        (void **)rows, n, err);
    return pv__list(s, &audit_list, sql_audit_subject,
                    PV_ARGS(PV_T(subject), PV_I(after), PV_I(limit)), page, (void **)rows, n, err);
}
