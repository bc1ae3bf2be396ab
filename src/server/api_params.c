/*
 * api_params.c — layered parameter sets in the admin API (DESIGN 4):
 * /params/{scope} with scope "global", "model:<name>", "account:<id or
 * name>" or "device:<mac>"; entries are name → {value, ua} (spec 3.1).
 */
#include "core/alloc.h"
#include "server/api_int.h"
#include "server/param_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARAM_VALUE_MAX 65536

/* The store's scope for the path's: an account may be named instead of
 * numbered ("account:acme" → "account:7"), a MAC written with separators. */
static char *resolve_scope(pv__api_ctx *ctx, const char *scope)
{
    pv_buf out = {0};
    if (strncmp(scope, "account:", 8) == 0 && scope[8] != '\0' &&
        strspn(scope + 8, "0123456789") != strlen(scope + 8)) {
        int64_t id = 0;
        if (!pv__api_account_id(ctx, scope + 8, "scope", &id))
            return NULL;
        pv_buf_appendf(&out, "account:%lld", (long long)id);
        return pv_buf_take(&out, NULL);
    }
    if (strncmp(scope, "device:", 7) == 0) {
        char mac[13];
        if (!pv__api_mac(ctx, scope + 7, "scope", mac))
            return NULL;
        pv_buf_appendf(&out, "device:%s", mac);
        return pv_buf_take(&out, NULL);
    }
    pv_error err = {""};
    if (pv_store_scope_check(scope, &err) != 0) {
        pv__api_fail(ctx, 422, "invalid", "scope", "%s", err.msg);
        return NULL;
    }
    return pv_strdup(scope);
}

static json_t *set_json(const pv_store_param_set *p, bool with_entries)
{
    json_t *o = json_pack("{s:s, s:I, s:I}", "scope", p->scope, "version", (json_int_t)p->version,
                          "updated_at", (json_int_t)p->updated_at);
    if (with_entries) {
        json_t *e = json_object();
        for (size_t i = 0; i < p->n; i++)
            json_object_set_new(
                e, p->entries[i].name,
                json_pack("{s:s, s:o}", "value", p->entries[i].value, "ua",
                          pv__api_str_or_null(p->entries[i].ua[0] ? p->entries[i].ua : NULL)));
        json_object_set_new(o, "entries", e);
    }
    return o;
}

static int list_sets(pv__api_ctx *ctx, pv_store_page *page, json_t *items, pv_error *err)
{
    pv_store_param_set *rows = NULL;
    size_t n = 0;
    int rc = pv_store_params_list(ctx->store, page, &rows, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        json_array_append_new(items, set_json(&rows[i], false));
    pv_store_param_sets_free(rows, n);
    return rc;
}

void pv__api_params_list(pv__api_ctx *ctx)
{
    pv__api_list(ctx, list_sets);
}

static void answer_set(pv__api_ctx *ctx, const char *scope)
{
    pv_store_param_set p = {0};
    pv_error err = {""};
    int rc = pv__api_load_secrets(ctx, false, &err); /* opens secret parameters */
    if (rc == 0)
        rc = pv_store_params_get(ctx->store, scope, &p, &err);
    if (rc == 0)
        pv__api_reply(ctx, 200, set_json(&p, true));
    else
        pv__api_fail_store(ctx, rc, &err, NULL);
    pv_store_param_set_free(&p);
}

void pv__api_params_get(pv__api_ctx *ctx)
{
    char *scope = resolve_scope(ctx, ctx->params[0]);
    if (scope != NULL)
        answer_set(ctx, scope);
    free(scope);
}

/* Checks one entry {value, ua}; allow_null for PATCH (null deletes). */
static bool check_entry(pv__api_ctx *ctx, const char *name, const json_t *v, bool allow_null)
{
    static const pv__api_field fields[] = {{"value", PV_API_STRING, true},
                                           {"ua", PV_API_STRING_NULL, false}};
    char path[200];
    snprintf(path, sizeof path, "entries.%.150s", name);
    size_t len = strlen(name);
    if (len == 0 || len > 128 ||
        strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789_-.[]") != len) {
        pv__api_fail(ctx, 422, "invalid", path,
                     "parameter name '%.150s': 1 to 128 letters, digits, '_', '-', '.', '[', ']'",
                     name);
        return false;
    }
    if (allow_null && json_is_null(v))
        return true;
    if (!pv__api_check(ctx, v, path, fields, 2))
        return false;
    const char *ua = pv__api_str(v, "ua");
    if (ua && strcmp(ua, "na") && strcmp(ua, "ro") && strcmp(ua, "rw") && ua[0]) {
        pv__api_fail(ctx, 422, "invalid", path, "%s.ua '%.10s': want na, ro, rw or null (spec 3.1)",
                     path, ua);
        return false;
    }
    if (json_string_length(json_object_get(v, "value")) > PARAM_VALUE_MAX) {
        pv__api_fail(ctx, 422, "invalid", path, "%s.value is longer than %d bytes", path,
                     PARAM_VALUE_MAX);
        return false;
    }
    return true;
}

/*
 * ?dry_run=1 (the console's "N devices change, M would fail to render"): what the
 * body's entries would do to the devices the scope reaches, without changing
 * anything: {"dry_run": true, "scope", "devices", "would_fail", "first_failure",
 * "entries": {name: {"would_fail", "first_failure"}}}. would_fail is the most any one
 * entry fails for; the real write is refused (422) when it is not 0.
 */
static void answer_dry_run(pv__api_ctx *ctx, const char *scope)
{
    json_t *per = json_object();
    size_t devices = 0, worst = 0;
    const char *first = NULL;
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(ctx->body, "entries"), name, v)
    {
        const char *value = pv__api_str(v, "value");
        pv_param_reach r;
        pv_error err = {""};
        int rc = pv_param_reach_of(ctx->store, scope, name, value ? value : "", &r, &err);
        if (rc != 0) {
            json_decref(per);
            pv__api_fail_store(ctx, rc, &err, NULL);
            return;
        }
        devices = r.devices;
        worst = r.failed > worst ? r.failed : worst;
        json_object_set_new(per, name,
                            json_pack("{s:I, s:o}", "would_fail", (json_int_t)r.failed,
                                      "first_failure",
                                      pv__api_str_or_null(r.failed ? r.first : NULL)));
        if (first == NULL && r.failed)
            first = json_string_value(json_object_get(json_object_get(per, name), "first_failure"));
    }
    pv__api_reply(ctx, 200,
                  json_pack("{s:b, s:s, s:I, s:I, s:o, s:o}", "dry_run", 1, "scope", scope,
                            "devices", (json_int_t)devices, "would_fail", (json_int_t)worst,
                            "first_failure", pv__api_str_or_null(first), "entries", per));
}

/* The body's entries, each well formed and — issue 13 — each value one the renderer
 * can fill for the devices scope reaches (param_check.h): refused now with the
 * reason (422), not at every phone's next resync. */
static bool check_entries(pv__api_ctx *ctx, const char *scope, bool allow_null)
{
    static const pv__api_field fields[] = {{"entries", PV_API_OBJECT, true}};
    if (!pv__api_body(ctx, fields, 1))
        return false;
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(ctx->body, "entries"), name, v)
    {
        if (!check_entry(ctx, name, v, allow_null))
            return false;
    }
    if (pv__api_flag(ctx, "dry_run")) {
        answer_dry_run(ctx, scope);
        return false;
    }
    json_object_foreach(json_object_get(ctx->body, "entries"), name, v)
    {
        const char *value = pv__api_str(v, "value");
        pv_error err = {""};
        int rc = value != NULL ? pv_param_check(ctx->store, scope, name, value, &err) : 0;
        if (rc != 0) {
            char field[200];
            snprintf(field, sizeof field, "entries.%.150s", name);
            if (rc == PV_EINVAL || rc == PV_ESYNTAX)
                pv__api_fail(ctx, 422, "unrenderable", field, "%s", err.msg);
            else
                pv__api_fail_store(ctx, rc, &err, field);
            return false;
        }
    }
    return true;
}

/* The request as the audit log keeps it: secret values are sealed in the set and must not
 * stand in plain beside it (issue 11 "secrets at rest"). */
static json_t *audit_body(const json_t *body)
{
    json_t *copy = json_deep_copy(body);
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(copy, "entries"), name, v)
    {
        if (pv_store_param_is_secret(name) && json_is_object(v) &&
            json_object_get(v, "value") != NULL)
            json_object_set_new(v, "value", json_string("(secret)"));
    }
    return copy;
}

static void finish_change(pv__api_ctx *ctx, int rc, pv_error *err, const char *action,
                          const char *scope, bool answer)
{
    if (rc != 0) {
        pv_store_rollback(ctx->store);
        pv__api_fail_store(ctx, rc, err, NULL);
    } else if (pv__api_commit(ctx, action, scope, audit_body(ctx->body))) {
        if (answer)
            answer_set(ctx, scope);
        else
            pv__api_reply(ctx, 204, NULL);
    }
}

void pv__api_params_put(pv__api_ctx *ctx)
{
    char *scope = resolve_scope(ctx, ctx->params[0]);
    if (scope == NULL || !check_entries(ctx, scope, false)) {
        free(scope);
        return;
    }
    json_t *entries = json_object_get(ctx->body, "entries");
    size_t n = json_object_size(entries), i = 0;
    pv_store_param *p = pv_calloc(n ? n : 1, sizeof *p);
    const char *name;
    json_t *v;
    json_object_foreach(entries, name, v)
    {
        p[i].name = (char *)name;
        p[i].value = (char *)pv__api_str(v, "value");
        snprintf(p[i].ua, sizeof p[i].ua, "%s", pv__api_str(v, "ua") ? pv__api_str(v, "ua") : "");
        i++;
    }
    pv_error err = {""};
    int rc = pv__api_load_secrets(ctx, false, &err); /* seals secret parameters */
    if (rc == 0)
        rc = pv_store_begin(ctx->store, &err);
    if (rc == 0)
        rc = pv_store_params_replace(ctx->store, scope, p, n, ctx->now, &err);
    free(p);
    finish_change(ctx, rc, &err, "params.replace", scope, true);
    free(scope);
}

void pv__api_params_patch(pv__api_ctx *ctx)
{
    char *scope = resolve_scope(ctx, ctx->params[0]);
    if (scope == NULL || !check_entries(ctx, scope, true)) {
        free(scope);
        return;
    }
    pv_error err = {""};
    int rc = pv__api_load_secrets(ctx, false, &err); /* seals secret parameters */
    if (rc == 0)
        rc = pv_store_begin(ctx->store, &err);
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(ctx->body, "entries"), name, v)
    {
        if (rc != 0)
            break;
        if (json_is_null(v)) {
            rc = pv_store_param_delete(ctx->store, scope, name, ctx->now, &err);
            if (rc == PV_ENOENT) /* deleting what is not there: the goal is reached */
                rc = 0;
        } else {
            rc = pv_store_param_put(ctx->store, scope, name, pv__api_str(v, "value"),
                                    pv__api_str(v, "ua"), ctx->now, &err);
        }
    }
    finish_change(ctx, rc, &err, "params.patch", scope, true);
    free(scope);
}

void pv__api_params_delete(pv__api_ctx *ctx)
{
    char *scope = resolve_scope(ctx, ctx->params[0]);
    if (scope == NULL)
        return;
    pv_error err = {""};
    int rc = pv_store_begin(ctx->store, &err);
    if (rc == 0)
        rc = pv_store_params_delete(ctx->store, scope, &err);
    finish_change(ctx, rc, &err, "params.delete", scope, false);
    free(scope);
}
