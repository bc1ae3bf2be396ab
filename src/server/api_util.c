/*
 * api_util.c — answers, strict validation, query strings, pagination and the
 * audit trail shared by the admin API's resource files; see api_int.h.
 */
#include "core/alloc.h"
#include "server/api_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void pv__api_reply(pv__api_ctx *ctx, int status, json_t *body)
{
    json_decref(ctx->answer);
    ctx->status = status;
    ctx->answer = body;
}

void pv__api_fail(pv__api_ctx *ctx, int status, const char *code, const char *field,
                  const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    pv_vformat_cut(msg, sizeof msg, fmt, ap); /* a cut message is still a message */
    va_end(ap);
    json_t *e = json_pack("{s:s, s:o, s:s}", "code", code, "field",
                          field ? json_string(field) : json_null(), "message", msg);
    pv__api_reply(ctx, status, json_pack("{s:o}", "error", e));
}

void pv__api_fail_store(pv__api_ctx *ctx, int rc, const pv_error *err, const char *field)
{
    const char *msg = err && err->msg[0] ? err->msg : pv_strerror(rc);
    switch (rc) {
    case PV_ENOENT:
        pv__api_fail(ctx, 404, "not_found", field, "%s", msg);
        break;
    case PV_EEXIST:
        pv__api_fail(ctx, 409, "exists", field, "%s", msg);
        break;
    case PV_ECONFLICT:
        pv__api_fail(ctx, 409, "conflict", field, "%s", msg);
        break;
    case PV_EINVAL:
    case PV_ERANGE:
        pv__api_fail(ctx, 422, "invalid", field, "%s", msg);
        break;
    default:
        pv__api_fail(ctx, 500, "store", NULL, "%s", msg);
        break;
    }
}

/* ---- validation ---- */

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static bool type_ok(pv__api_type t, const json_t *v, const char **want)
{
    switch (t) {
    case PV_API_STRING:
        *want = "a string";
        return json_is_string(v);
    case PV_API_STRING_NULL:
        *want = "a string or null";
        return json_is_string(v) || json_is_null(v);
    case PV_API_INT:
        *want = "an integer";
        return json_is_integer(v);
    case PV_API_BOOL:
        *want = "a boolean";
        return json_is_boolean(v);
    case PV_API_OBJECT:
        *want = "an object";
        return json_is_object(v);
    case PV_API_ARRAY:
        *want = "an array";
        return json_is_array(v);
    default:
        *want = "a value";
        return true;
    }
}

static void field_path(char *out, size_t size, const char *prefix, const char *name)
{
    int n =
        prefix[0] ? snprintf(out, size, "%s.%s", prefix, name) : snprintf(out, size, "%s", name);
    if (n < 0 || (size_t)n >= size)
        snprintf(out, size, "%s", name); /* a shorter path beats a cut one */
}

bool pv__api_check(pv__api_ctx *ctx, const json_t *obj, const char *prefix,
                   const pv__api_field *fields, size_t n)
{
    char path[160];
    if (!json_is_object(obj)) {
        pv__api_fail(ctx, 400, "invalid", prefix[0] ? prefix : NULL,
                     "%s must be a JSON object, got %s", prefix[0] ? prefix : "the body",
                     obj ? type_name(obj) : "nothing");
        return false;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        size_t i = 0;
        while (i < n && strcmp(fields[i].name, key) != 0)
            i++;
        field_path(path, sizeof path, prefix, key);
        if (i == n) {
            pv_buf allowed = {0};
            for (size_t k = 0; k < n; k++)
                pv_buf_appendf(&allowed, "%s%s", k ? ", " : "", fields[k].name);
            pv__api_fail(ctx, 400, "unknown_field", path, "unknown field '%s'; allowed: %s", path,
                         allowed.data ? allowed.data : "none");
            pv_buf_free(&allowed);
            return false;
        }
        const char *want;
        if (!type_ok(fields[i].type, v, &want)) {
            pv__api_fail(ctx, 400, "invalid", path, "%s must be %s, got %s", path, want,
                         type_name(v));
            return false;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (fields[i].required && json_object_get(obj, fields[i].name) == NULL) {
            field_path(path, sizeof path, prefix, fields[i].name);
            pv__api_fail(ctx, 400, "required", path, "%s is required", path);
            return false;
        }
    }
    return true;
}

bool pv__api_body(pv__api_ctx *ctx, const pv__api_field *fields, size_t n)
{
    if (ctx->body == NULL) {
        pv__api_fail(ctx, 400, "invalid", NULL, "this request needs a JSON object body");
        return false;
    }
    return pv__api_check(ctx, ctx->body, "", fields, n);
}

const char *pv__api_str(const json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name));
}

bool pv__api_mac_check(const char *in, char out[13], char *msg, size_t size)
{
    size_t digits = 0;
    for (const char *p = in; *p; p++) {
        if (*p == ':' || *p == '-' || *p == '.')
            continue;
        if (!isxdigit((unsigned char)*p)) {
            snprintf(msg, size, "MAC address '%.40s': '%c' at column %zu is not a hex digit", in,
                     *p, (size_t)(p - in) + 1);
            return false;
        }
        digits++;
    }
    if (digits != 12) {
        snprintf(msg, size, "MAC address needs 12 hex digits, found %zu", digits);
        return false;
    }
    pv_error err = {""};
    if (pv_store_mac_normalize(in, out, &err) != 0) {
        snprintf(msg, size, "%s", err.msg);
        return false;
    }
    return true;
}

bool pv__api_mac(pv__api_ctx *ctx, const char *in, const char *field, char out[13])
{
    char msg[300];
    if (pv__api_mac_check(in, out, msg, sizeof msg))
        return true;
    pv__api_fail(ctx, 422, "invalid", field, "%s", msg);
    return false;
}

/* ---- query strings ---- */

/* application/x-www-form-urlencoded decoding of one component. */
static char *decode(pv_slice s)
{
    pv_buf b = {0};
    pv_buf_reserve(&b, s.len);
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < s.len && pv_hex_value(s.ptr[i + 1]) >= 0 &&
                   pv_hex_value(s.ptr[i + 2]) >= 0) {
            c = (char)(pv_hex_value(s.ptr[i + 1]) * 16 + pv_hex_value(s.ptr[i + 2]));
            i += 2;
        }
        pv_buf_append_char(&b, c);
    }
    return pv_buf_take(&b, NULL);
}

char *pv__api_query(const pv__api_ctx *ctx, const char *name)
{
    pv_slice q = ctx->req->query;
    size_t i = 0, nlen = strlen(name);
    while (i < q.len) {
        size_t start = i;
        while (i < q.len && q.ptr[i] != '&')
            i++;
        pv_slice pair = pv_slice_make(q.ptr + start, i - start);
        i++;
        const char *eq = memchr(pair.ptr, '=', pair.len);
        size_t klen = eq ? (size_t)(eq - pair.ptr) : pair.len;
        if (klen == nlen && memcmp(pair.ptr, name, nlen) == 0)
            return eq ? decode(pv_slice_make(eq + 1, pair.len - klen - 1)) : pv_strdup("");
    }
    return NULL;
}

bool pv__api_flag(const pv__api_ctx *ctx, const char *name)
{
    char *v = pv__api_query(ctx, name);
    bool yes = v != NULL && strcmp(v, "0") != 0 && strcmp(v, "false") != 0;
    free(v);
    return yes;
}

bool pv__api_page(pv__api_ctx *ctx, pv_store_page *page)
{
    memset(page, 0, sizeof *page);
    char *limit = pv__api_query(ctx, "limit");
    char *after = pv__api_query(ctx, "after");
    bool ok = true;
    if (limit != NULL) {
        char *end = NULL;
        long v = strtol(limit, &end, 10);
        if (limit[0] == '\0' || *end != '\0' || v < 1 || v > PV_STORE_PAGE_MAX) {
            pv__api_fail(ctx, 400, "invalid", "limit", "limit must be an integer from 1 to %d",
                         PV_STORE_PAGE_MAX);
            ok = false;
        } else {
            page->limit = (size_t)v;
        }
    }
    if (ok && after != NULL) {
        if (strlen(after) >= sizeof page->after) {
            pv__api_fail(ctx, 400, "invalid", "after", "after: not a cursor from 'next'");
            ok = false;
        } else {
            snprintf(page->after, sizeof page->after, "%s", after);
        }
    }
    free(limit);
    free(after);
    return ok;
}

void pv__api_reply_page(pv__api_ctx *ctx, json_t *items, const pv_store_page *page)
{
    json_t *o = json_pack("{s:o}", "items", items);
    json_object_set_new(o, "next", page->after[0] ? json_string(page->after) : json_null());
    pv__api_reply(ctx, 200, o);
}

void pv__api_list(pv__api_ctx *ctx, pv__api_lister fn)
{
    pv_store_page page;
    if (!pv__api_page(ctx, &page))
        return;
    json_t *items = json_array();
    pv_error err = {""};
    int rc = fn(ctx, &page, items, &err);
    if (rc != 0) {
        json_decref(items);
        if (ctx->status == 0)
            pv__api_fail_store(ctx, rc, &err, "after");
        return;
    }
    pv__api_reply_page(ctx, items, &page);
}

/* ---- audit ---- */

/* The audit log keeps what changed, never a password: a string under a secret-looking key
 * (the rule of secret parameters, store.h) anywhere in a detail becomes "(secret)", as
 * api_params.c records secret parameters. An account's settings in account.create carry its
 * lines' SIP passwords. */
static void mask_secrets(json_t *v)
{
    size_t i;
    const char *key;
    json_t *item;
    if (json_is_array(v)) {
        json_array_foreach(v, i, item) mask_secrets(item);
        return;
    }
    json_object_foreach(v, key, item)
    {
        if (json_is_string(item) && pv_store_param_is_secret(key))
            json_string_set(item, "(secret)");
        else
            mask_secrets(item);
    }
}

int pv__api_audit(pv__api_ctx *ctx, const char *action, const char *subject, json_t *detail,
                  pv_error *err)
{
    mask_secrets(detail);
    char *text = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(detail);
    pv_store_audit a = {
        .at = ctx->now,
        .actor = ctx->actor,
        .action = (char *)action,
        .subject = (char *)subject,
        .detail = text,
    };
    int rc = pv_store_audit_add(ctx->store, &a, NULL, err);
    free(text);
    return rc;
}

bool pv__api_commit(pv__api_ctx *ctx, const char *action, const char *subject, json_t *detail)
{
    pv_error err = {""};
    int rc = pv__api_audit(ctx, action, subject, detail, &err);
    if (rc == 0)
        rc = pv_store_commit(ctx->store, &err);
    if (rc != 0) {
        pv_store_rollback(ctx->store);
        pv__api_fail_store(ctx, rc, &err, NULL);
        return false;
    }
    return true;
}

bool pv__api_finish(pv__api_ctx *ctx, int rc, const pv_error *err, const char *field,
                    const char *action, const char *subject, json_t *detail)
{
    if (rc == 0)
        return pv__api_commit(ctx, action, subject, detail);
    json_decref(detail);
    pv_store_rollback(ctx->store);
    pv__api_fail_store(ctx, rc, err, field);
    return false;
}

/* ---- shared lookups ---- */

json_t *pv__api_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

bool pv__api_account_id(pv__api_ctx *ctx, const char *name, const char *field, int64_t *id)
{
    pv_store_account a = {0};
    pv_error err = {""};
    int rc = pv_store_account_get_by_name(ctx->store, name, &a, &err);
    *id = a.id;
    pv_store_account_free(&a);
    if (rc == PV_ENOENT)
        pv__api_fail(ctx, 422, "invalid", field, "no account named '%.80s'", name);
    else if (rc != 0)
        pv__api_fail_store(ctx, rc, &err, field);
    return rc == 0;
}

char *pv__api_account_name(pv__api_ctx *ctx, int64_t id)
{
    if (id <= 0)
        return NULL;
    pv_store_account a = {0};
    char *name = NULL;
    if (pv_store_account_get(ctx->store, id, &a, NULL) == 0) {
        name = a.name;
        a.name = NULL;
    }
    pv_store_account_free(&a);
    return name;
}

int pv__api_load_secrets(pv__api_ctx *ctx, bool required, pv_error *err)
{
    if (pv_store_secrets_loaded(ctx->store))
        return 0; /* once per store: loading seals what was stored plain, a scan */
    char key[4096];
    int n = snprintf(key, sizeof key, "%s/master.key", ctx->data_dir);
    if (n < 0 || (size_t)n >= sizeof key)
        return pv_error_set(err, PV_EINVAL, "data directory path too long");
    if (!required && access(key, F_OK) != 0)
        return 0; /* no provisioning yet: nothing is sealed, nothing can be */
    return pv_store_secrets_load(ctx->store, key, false, err);
}
