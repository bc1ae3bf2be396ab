/*
 * api_accounts.c — accounts (with their service settings), binding codes and
 * admin tokens in the admin API; see api.h and docs/api.md.
 *
 * The store keeps an account's settings as an opaque JSON object; their
 * meaning (issue 4: SIP lines, hunt group, speed dials, the features a user
 * may change) is checked here, field by field, so a typo in a provisioning
 * script is refused with its path ("settings.lines[1].user") instead of
 * silently rendering nothing.
 */
#include "core/alloc.h"
#include "server/api_int.h"
#include "server/param_check.h"
#include "server/push.h"
#include "server/binding.h"
#include "server/tokens.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- settings ---- */

static bool check_array_of(pv__api_ctx *ctx, const json_t *arr, const char *name,
                           const pv__api_field *fields, size_t n, const char *key_field,
                           json_int_t lo, json_int_t hi)
{
    char path[96];
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item)
    {
        snprintf(path, sizeof path, "settings.%s[%zu]", name, i);
        if (!pv__api_check(ctx, item, path, fields, n))
            return false;
        json_int_t k = json_integer_value(json_object_get(item, key_field));
        if (k < lo || k > hi) {
            pv__api_fail(ctx, 422, "invalid", path, "%s.%s must be from %lld to %lld", path,
                         key_field, (long long)lo, (long long)hi);
            return false;
        }
        for (size_t j = 0; j < i; j++) {
            if (json_integer_value(json_object_get(json_array_get(arr, j), key_field)) == k) {
                pv__api_fail(ctx, 422, "invalid", path, "%s.%s %lld appears twice", path, key_field,
                             (long long)k);
                return false;
            }
        }
    }
    return true;
}

static bool check_settings(pv__api_ctx *ctx, const json_t *s)
{
    static const pv__api_field top[] = {
        {"lines", PV_API_ARRAY, false},         {"hunt_group", PV_API_OBJECT, false},
        {"speed_dials", PV_API_ARRAY, false},   {"user_features", PV_API_ARRAY, false},
        {"sip_delivery", PV_API_STRING, false},
    };
    static const pv__api_field line[] = {
        {"line", PV_API_INT, true},
        {"user", PV_API_STRING, true},
        {"password", PV_API_STRING, false},
        {"auth_id", PV_API_STRING, false},
        {"display_name", PV_API_STRING, false},
        {"proxy", PV_API_STRING, false},
    };
    static const pv__api_field dial[] = {
        {"key", PV_API_INT, true},
        {"name", PV_API_STRING, false},
        {"number", PV_API_STRING, true},
    };
    static const pv__api_field hunt[] = {
        {"number", PV_API_STRING, true},
        {"members", PV_API_ARRAY, false},
        {"policy", PV_API_STRING, false},
    };
    if (!pv__api_check(ctx, s, "settings", top, sizeof top / sizeof top[0]))
        return false;
    /* how device actions reach the account's phones (spec 5.5, server/notifier.h) */
    const char *delivery = pv__api_str(s, "sip_delivery");
    if (delivery && strcmp(delivery, "proxy") != 0 && strcmp(delivery, "direct") != 0) {
        pv__api_fail(ctx, 422, "invalid", "settings.sip_delivery",
                     "sip_delivery '%.40s': want proxy or direct", delivery);
        return false;
    }
    json_t *v = json_object_get(s, "lines");
    /* multiplatform phones have up to 16 lines (Line_Enable_1_..16_) */
    if (v && !check_array_of(ctx, v, "lines", line, 6, "line", 1, 16))
        return false;
    /* speed dials 2..9 on the keypad; the larger range covers the directory's */
    v = json_object_get(s, "speed_dials");
    if (v && !check_array_of(ctx, v, "speed_dials", dial, 3, "key", 1, 99))
        return false;
    v = json_object_get(s, "hunt_group");
    if (v) {
        if (!pv__api_check(ctx, v, "settings.hunt_group", hunt, 3))
            return false;
        const char *policy = pv__api_str(v, "policy");
        if (policy && strcmp(policy, "ring-all") && strcmp(policy, "sequential") &&
            strcmp(policy, "round-robin")) {
            pv__api_fail(ctx, 422, "invalid", "settings.hunt_group.policy",
                         "policy '%.40s': want ring-all, sequential or round-robin", policy);
            return false;
        }
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(v, "members"), i, m)
        {
            if (!json_is_string(m)) {
                pv__api_fail(ctx, 400, "invalid", "settings.hunt_group.members",
                             "settings.hunt_group.members[%zu] must be a string", i);
                return false;
            }
        }
    }
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(s, "user_features"), i, f)
    {
        if (!json_is_string(f) || json_string_length(f) == 0) {
            pv__api_fail(ctx, 400, "invalid", "settings.user_features",
                         "settings.user_features[%zu] must be a non-empty string (a feature "
                         "or parameter name)",
                         i);
            return false;
        }
    }
    return true;
}

static bool check_name(pv__api_ctx *ctx, const char *name, const char *field, size_t max)
{
    size_t len = strlen(name);
    if (len == 0 || len > max) {
        pv__api_fail(ctx, 422, "invalid", field, "%s must have 1 to %zu characters", field, max);
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '@')) {
            pv__api_fail(ctx, 422, "invalid", field,
                         "%s: '%c' at column %zu; use letters, digits, '-', '_', '.', '@'", field,
                         c, i + 1);
            return false;
        }
    }
    return true;
}

/* ---- accounts ---- */

static json_t *account_json(const pv_store_account *a)
{
    json_t *settings = json_loads(a->settings ? a->settings : "{}", 0, NULL);
    return json_pack("{s:I, s:s, s:o, s:o, s:I, s:I, s:I}", "id", (json_int_t)a->id, "name",
                     a->name, "customer", pv__api_str_or_null(a->customer), "settings",
                     settings ? settings : json_object(), "version", (json_int_t)a->version,
                     "created_at", (json_int_t)a->created_at, "updated_at",
                     (json_int_t)a->updated_at);
}

static int list_accounts(pv__api_ctx *ctx, pv_store_page *page, json_t *items, pv_error *err)
{
    pv_store_account *rows = NULL;
    size_t n = 0;
    int rc = pv_store_account_list(ctx->store, page, &rows, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        json_array_append_new(items, account_json(&rows[i]));
    pv_store_accounts_free(rows, n);
    return rc;
}

void pv__api_accounts_list(pv__api_ctx *ctx)
{
    pv__api_list(ctx, list_accounts);
}

static const pv__api_field account_fields[] = {
    {"name", PV_API_STRING, false},
    {"customer", PV_API_STRING_NULL, false},
    {"settings", PV_API_OBJECT, false},
    {"version", PV_API_INT, false},
};

static bool check_account_body(pv__api_ctx *ctx)
{
    if (!pv__api_body(ctx, account_fields, 4))
        return false;
    const char *name = pv__api_str(ctx->body, "name");
    if (name && !check_name(ctx, name, "name", 64))
        return false;
    json_t *s = json_object_get(ctx->body, "settings");
    return s == NULL || check_settings(ctx, s);
}

static char *dump(const json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

static void answer_account(pv__api_ctx *ctx, int status, const char *name)
{
    pv_store_account a = {0};
    pv_error err = {""};
    int rc = pv_store_account_get_by_name(ctx->store, name, &a, &err);
    if (rc == 0)
        pv__api_reply(ctx, status, account_json(&a));
    else
        pv__api_fail_store(ctx, rc, &err, NULL);
    pv_store_account_free(&a);
}

void pv__api_account_create(pv__api_ctx *ctx)
{
    if (!check_account_body(ctx))
        return;
    const char *name = pv__api_str(ctx->body, "name");
    if (name == NULL) {
        pv__api_fail(ctx, 400, "required", "name", "name is required");
        return;
    }
    char *settings = dump(json_object_get(ctx->body, "settings"));
    pv_store_account a = {.name = (char *)name,
                          .customer = (char *)pv__api_str(ctx->body, "customer"),
                          .settings = settings};
    pv_error err = {""};
    int rc = pv_store_begin(ctx->store, &err);
    if (rc == 0)
        rc = pv_store_account_create(ctx->store, &a, ctx->now, NULL, &err);
    free(settings);
    if (rc != 0) {
        pv_store_rollback(ctx->store);
        pv__api_fail_store(ctx, rc, &err, rc == PV_EEXIST ? "name" : NULL);
        return;
    }
    if (pv__api_commit(ctx, "account.create", name, json_deep_copy(ctx->body)))
        answer_account(ctx, 201, name);
}

void pv__api_account_get(pv__api_ctx *ctx)
{
    answer_account(ctx, 200, ctx->params[0]);
}

/* ?notify=1: whether to resync the devices whose profile the change alters (spec 5.5). */
static bool notify_asked(pv__api_ctx *ctx)
{
    char *v = pv__api_query(ctx, "notify");
    bool yes = v != NULL && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
    free(v);
    return yes;
}

/*
 * Issue 13: settings (and the customer, {{account.customer}}) are validated at write time
 * as parameters are: inside the write's transaction the values of every device's layers are
 * expanded with the account before and after (param_check.h: one device per group of devices
 * with the same layers, every device with a device layer on its own — complete on any
 * account, where rendering each device twice took 0.5 ms a device), and the change is refused
 * (422 "unrenderable") when a device that rendered before would not ("N devices change, M
 * would fail to render (first: MAC, reason)"). ?dry_run=1 answers that count without changing
 * anything: {"dry_run": true, "devices", "changed", "would_fail", "first_failure"}.
 */
static bool reach_refused(pv__api_ctx *ctx, const pv_param_settings *re)
{
    if (pv__api_flag(ctx, "dry_run")) {
        pv__api_reply(ctx, 200,
                      json_pack("{s:b, s:I, s:I, s:I, s:o}", "dry_run", 1, "devices",
                                (json_int_t)re->devices, "changed", (json_int_t)re->changed,
                                "would_fail", (json_int_t)re->failed, "first_failure",
                                pv__api_str_or_null(re->failed ? re->first : NULL)));
        return true;
    }
    if (re->failed == 0)
        return false;
    pv__api_fail(ctx, 422, "unrenderable", "settings",
                 "%zu devices change, %zu would fail to render (first: %s)", re->changed,
                 re->failed, re->first);
    return true;
}

/* PUT replaces customer and settings; PATCH merges settings key by key. ?notify=1 adds
 * "notify": the resync job of the devices whose rendered profile changed (null: none). */
static void account_update(pv__api_ctx *ctx, bool patch)
{
    if (!check_account_body(ctx))
        return;
    pv_store_account a = {0};
    pv_error err = {""};
    pv_push_renders *before = NULL;
    bool check = pv__api_flag(ctx, "dry_run") || json_object_get(ctx->body, "settings") ||
                 json_object_get(ctx->body, "customer");
    bool notify = notify_asked(ctx);
    if (notify && pv_store_account_get_by_name(ctx->store, ctx->params[0], &a, &err) == 0) {
        /* an unknown account: the 404 below; notify resyncs every changed device */
        before = pv__api_renders_take(ctx, a.id);
        pv_store_account_free(&a);
    }
    int rc = pv_store_begin(ctx->store, &err);
    if (rc == 0)
        rc = pv_store_account_get_by_name(ctx->store, ctx->params[0], &a, &err);
    if (rc != 0) {
        pv_store_rollback(ctx->store);
        pv_store_account_free(&a);
        pv_push_renders_free(before);
        pv__api_fail_store(ctx, rc, &err, NULL);
        return;
    }
    json_t *body = ctx->body;
    json_t *settings = json_object_get(body, "settings");
    json_t *merged = NULL;
    if (patch && settings) {
        merged = json_loads(a.settings ? a.settings : "{}", 0, NULL);
        if (merged == NULL)
            merged = json_object();
        json_object_update(merged, settings);
        settings = merged;
    }
    pv_store_account u = {
        .id = a.id,
        .name = pv__api_str(body, "name") ? (char *)pv__api_str(body, "name") : a.name,
        .customer = json_object_get(body, "customer") || !patch
                        ? (char *)pv__api_str(body, "customer")
                        : a.customer,
        .settings = settings ? dump(settings) : (patch ? pv_strdup(a.settings) : NULL),
        .version = json_integer_value(json_object_get(body, "version")),
    };
    rc = pv_store_account_update(ctx->store, &u, ctx->now, NULL, &err);
    char *new_name = pv_strdup(u.name);
    free(u.settings);
    json_decref(merged);
    pv_param_settings re = {0};
    if (rc == 0 && check) { /* in the transaction: the account as the renderer reads it now */
        pv_store_account now = {0};
        rc = pv__api_load_secrets(ctx, false, &err);
        if (rc == 0)
            rc = pv_store_account_get(ctx->store, a.id, &now, &err);
        if (rc == 0)
            rc = pv_param_settings_reach(ctx->store, &a, &now, &re, &err);
        pv_store_account_free(&now);
    }
    pv_store_account_free(&a);
    if (rc != 0) {
        pv_store_rollback(ctx->store);
        pv__api_fail_store(ctx, rc, &err, rc == PV_EEXIST ? "name" : NULL);
    } else if (check && reach_refused(ctx, &re)) {
        pv_store_rollback(ctx->store);
    } else if (pv__api_commit(ctx, patch ? "account.patch" : "account.update", ctx->params[0],
                              json_deep_copy(body))) {
        answer_account(ctx, 200, new_name);
        if (notify && before != NULL && ctx->status == 200) {
            json_object_set_new(ctx->answer, "notify",
                                pv__api_notify_changed(ctx, before, new_name));
            before = NULL;
        }
    }
    pv_push_renders_free(before);
    free(new_name);
}

void pv__api_account_put(pv__api_ctx *ctx)
{
    account_update(ctx, false);
}

void pv__api_account_patch(pv__api_ctx *ctx)
{
    account_update(ctx, true);
}

/* The MACs of the account's devices, in MAC order, into macs. */
static int account_devices(pv__api_ctx *ctx, int64_t id, json_t *macs, pv_error *err)
{
    pv_store_page page = {.limit = PV_STORE_PAGE_MAX};
    do {
        pv_store_device *rows = NULL;
        size_t n = 0;
        int rc = pv_store_device_list(ctx->store, id, &page, &rows, &n, err);
        for (size_t i = 0; rc == 0 && i < n; i++)
            json_array_append_new(macs, json_string(rows[i].mac));
        pv_store_devices_free(rows, n);
        if (rc != 0)
            return rc;
    } while (page.after[0] != '\0');
    return 0;
}

/* The account's parameter layer as `params set` takes it back; secret values stay
 * sealed out of the audit log (issue 11), so they read "(secret)". */
static json_t *account_params(pv__api_ctx *ctx, int64_t id)
{
    char scope[32];
    snprintf(scope, sizeof scope, "account:%lld", (long long)id);
    pv_store_param_set set = {0};
    pv_error err = {""};
    json_t *entries = json_object();
    if (pv__api_load_secrets(ctx, false, &err) == 0 &&
        pv_store_params_get(ctx->store, scope, &set, &err) == 0)
        for (size_t i = 0; i < set.n; i++)
            json_object_set_new(
                entries, set.entries[i].name,
                json_pack("{s:s, s:o}", "value",
                          pv_store_param_is_secret(set.entries[i].name) ? "(secret)"
                                                                        : set.entries[i].value,
                          "ua",
                          pv__api_str_or_null(set.entries[i].ua[0] ? set.entries[i].ua : NULL)));
    pv_store_param_set_free(&set);
    return entries;
}

/*
 * Issue 13: an account with devices is deleted only by an admin saying so
 * (?force=1, `provisor account delete NAME --force`); an operator never deletes
 * one (roles.h). The audit entry keeps what went — the account, its parameter
 * layer, the MACs that were assigned to it, the ids of its codes — so that
 * docs/api.md's "Restoring a deleted account" can put it back.
 */
void pv__api_account_delete(pv__api_ctx *ctx)
{
    bool force = pv__api_flag(ctx, "force");
    pv_error err = {""};
    if (pv_store_begin(ctx->store, &err) != 0) {
        pv__api_fail_store(ctx, PV_ESTORE, &err, NULL);
        return;
    }
    pv_store_account a = {0};
    json_t *macs = json_array();
    int rc = pv_store_account_get_by_name(ctx->store, ctx->params[0], &a, &err);
    if (rc == 0)
        rc = account_devices(ctx, a.id, macs, &err);
    size_t devices = json_array_size(macs);
    json_t *detail = NULL;
    if (rc != 0) {
        pv__api_fail_store(ctx, rc, &err, NULL);
    } else if (devices > 0 && !pv_role_at_least(ctx->role, PV_ROLE_ADMIN)) {
        pv__api_fail(ctx, 403, "forbidden", NULL,
                     "account %s has %zu devices: only an admin deletes an account with devices",
                     a.name, devices);
    } else if (devices > 0 && !force) {
        pv__api_fail(ctx, 409, "has_devices", NULL,
                     "account %s has %zu devices assigned (first: %s): release or reassign "
                     "them, or delete with force (?force=1, `--force`) to leave them unassigned",
                     a.name, devices, json_string_value(json_array_get(macs, 0)));
    } else {
        json_t *codes = json_array();
        pv_store_page page = {.limit = PV_STORE_PAGE_MAX};
        pv_store_code *rows = NULL;
        size_t n = 0;
        if (pv_store_code_list(ctx->store, a.id, &page, &rows, &n, &err) == 0)
            for (size_t i = 0; i < n; i++)
                json_array_append_new(codes, json_integer(rows[i].id));
        free(rows);
        detail = json_pack("{s:o, s:o, s:O, s:o}", "account", account_json(&a), "params",
                           account_params(ctx, a.id), "devices", macs, "codes", codes);
        rc = pv_store_account_delete(ctx->store, a.id, &err);
        if (rc != 0)
            pv__api_fail_store(ctx, rc, &err, NULL);
    }
    json_decref(macs);
    pv_store_account_free(&a);
    if (detail == NULL || rc != 0) {
        json_decref(detail);
        pv_store_rollback(ctx->store);
    } else if (pv__api_commit(ctx, "account.delete", ctx->params[0], detail)) {
        pv__api_reply(ctx, 204, NULL);
    }
}

/* ---- binding codes (DESIGN 5) ---- */

static const char *code_state(const pv_store_code *c, int64_t now)
{
    if (c->used_at)
        return "used";
    if (c->attempts >= c->max_attempts)
        return "locked";
    return c->expires_at <= now ? "expired" : "unused";
}

void pv__api_codes_list(pv__api_ctx *ctx)
{
    pv_store_page page;
    int64_t account_id = 0;
    if (!pv__api_page(ctx, &page) || !pv__api_account_id(ctx, ctx->params[0], NULL, &account_id))
        return;
    pv_store_code *rows = NULL;
    size_t n = 0;
    pv_error err = {""};
    int rc = pv_store_code_list(ctx->store, account_id, &page, &rows, &n, &err);
    if (rc != 0) {
        pv__api_fail_store(ctx, rc, &err, "after");
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        const pv_store_code *c = &rows[i];
        /* the code itself is never listed: only its hint (DESIGN 5) */
        json_array_append_new(
            items,
            json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:I, s:I}", "id", (json_int_t)c->id,
                      "account", ctx->params[0], "hint", c->hint, "state", code_state(c, ctx->now),
                      "created_at", (json_int_t)c->created_at, "expires_at",
                      (json_int_t)c->expires_at, "used_at", (json_int_t)c->used_at, "used_by",
                      pv__api_str_or_null(c->used_by[0] ? c->used_by : NULL), "attempts",
                      (json_int_t)c->attempts, "max_attempts", (json_int_t)c->max_attempts));
    }
    free(rows);
    pv__api_reply_page(ctx, items, &page);
}

void pv__api_code_create(pv__api_ctx *ctx)
{
    static const pv__api_field fields[] = {
        {"expires_in", PV_API_INT, false},
        {"max_attempts", PV_API_INT, false},
    };
    if (ctx->body == NULL)
        ctx->body = json_object();
    int64_t account_id = 0;
    if (!pv__api_body(ctx, fields, 2) ||
        !pv__api_account_id(ctx, ctx->params[0], NULL, &account_id))
        return;
    json_t *e = json_object_get(ctx->body, "expires_in");
    json_t *m = json_object_get(ctx->body, "max_attempts");
    json_int_t expires_in = e ? json_integer_value(e) : 7 * 86400;
    json_int_t max_attempts = m ? json_integer_value(m) : 5;
    if (expires_in < 60 || expires_in > 365 * 86400) {
        pv__api_fail(ctx, 422, "invalid", "expires_in",
                     "expires_in is in seconds, from 60 to 31536000 (a year)");
        return;
    }
    if (max_attempts < 1 || max_attempts > 100) {
        pv__api_fail(ctx, 422, "invalid", "max_attempts", "max_attempts must be from 1 to 100");
        return;
    }
    char code[13];
    if (!pv_binding_new_code(code)) {
        pv__api_fail(ctx, 500, "internal", NULL, "no randomness for a binding code");
        return;
    }
    int64_t id = 0;
    pv_error err = {""};
    int rc = pv__api_load_secrets(ctx, true, &err); /* codes are kept keyed under it */
    if (rc == 0)
        rc = pv_store_begin(ctx->store, &err);
    if (rc == 0)
        rc = pv_store_code_create(ctx->store, account_id, code, ctx->now + expires_in, max_attempts,
                                  ctx->now, &id, &err);
    if (rc != 0) {
        pv_store_rollback(ctx->store);
        pv__api_fail_store(ctx, rc, &err, NULL);
        return;
    }
    char subject[32];
    snprintf(subject, sizeof subject, "code:%lld", (long long)id);
    /* the audit names the code's id and hint, never the code */
    if (pv__api_commit(ctx, "code.create", subject,
                       json_pack("{s:s, s:s#}", "account", ctx->params[0], "hint", code, 2)))
        pv__api_reply(ctx, 201,
                      json_pack("{s:I, s:s, s:s, s:s#, s:I, s:I}", "id", (json_int_t)id, "code",
                                code, "account", ctx->params[0], "hint", code, 2, "expires_at",
                                (json_int_t)(ctx->now + expires_in), "max_attempts",
                                (json_int_t)max_attempts));
}

static bool parse_id(pv__api_ctx *ctx, const char *text, int64_t *id)
{
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (text[0] == '\0' || *end != '\0' || v <= 0) {
        pv__api_fail(ctx, 404, "not_found", NULL, "'%.40s' is not an id", text);
        return false;
    }
    *id = v;
    return true;
}

void pv__api_code_delete(pv__api_ctx *ctx)
{
    int64_t id = 0;
    if (!parse_id(ctx, ctx->params[0], &id))
        return;
    pv_error err = {""};
    int rc = pv_store_begin(ctx->store, &err);
    if (rc == 0)
        rc = pv_store_code_delete(ctx->store, id, &err);
    if (rc != 0) {
        pv_store_rollback(ctx->store);
        pv__api_fail_store(ctx, rc, &err, NULL);
        return;
    }
    char subject[32];
    snprintf(subject, sizeof subject, "code:%lld", (long long)id);
    if (pv__api_commit(ctx, "code.revoke", subject, NULL))
        pv__api_reply(ctx, 204, NULL);
}

/* ---- admin tokens ---- */

static int list_tokens(pv__api_ctx *ctx, pv_store_page *page, json_t *items, pv_error *err)
{
    pv_store_token *rows = NULL;
    size_t n = 0;
    int rc = pv_store_token_list(ctx->store, page, &rows, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char *account = rows[i].account_id ? pv__api_account_name(ctx, rows[i].account_id) : NULL;
        json_array_append_new(items, json_pack("{s:I, s:s, s:s, s:o, s:I, s:I, s:I}", "id",
                                               (json_int_t)rows[i].id, "name", rows[i].name, "role",
                                               rows[i].role ? rows[i].role : "admin", "account",
                                               pv__api_str_or_null(account), "created_at",
                                               (json_int_t)rows[i].created_at, "last_used_at",
                                               (json_int_t)rows[i].last_used_at, "revoked_at",
                                               (json_int_t)rows[i].revoked_at));
        free(account);
    }
    pv_store_tokens_free(rows, n);
    return rc;
}

void pv__api_tokens_list(pv__api_ctx *ctx)
{
    pv__api_list(ctx, list_tokens);
}

/* POST /tokens {"name", "role"?, "account"?}: role defaults to admin (what every token
 * was before roles); a customer token names its account, the others none. */
void pv__api_token_create(pv__api_ctx *ctx)
{
    static const pv__api_field fields[] = {{"name", PV_API_STRING, true},
                                           {"role", PV_API_STRING, false},
                                           {"account", PV_API_STRING, false}};
    if (!pv__api_body(ctx, fields, 3))
        return;
    const char *name = pv__api_str(ctx->body, "name");
    const char *role_name = pv__api_str(ctx->body, "role");
    const char *account = pv__api_str(ctx->body, "account");
    if (!check_name(ctx, name, "name", 64))
        return;
    if (strcmp(name, "admin") == 0) {
        pv__api_fail(ctx, 409, "exists", "name", "'admin' is the data directory's token");
        return;
    }
    pv_role role = PV_ROLE_ADMIN;
    if (role_name != NULL && !pv_role_parse(role_name, &role)) {
        pv__api_fail(ctx, 422, "invalid", "role",
                     "role '%.40s': want admin, operator, viewer or customer", role_name);
        return;
    }
    if ((role == PV_ROLE_CUSTOMER) != (account != NULL)) {
        pv__api_fail(ctx, 422, "invalid", "account",
                     role == PV_ROLE_CUSTOMER ? "a customer token needs its account"
                                              : "only a customer token names an account");
        return;
    }
    int64_t account_id = 0;
    if (account != NULL && !pv__api_account_id(ctx, account, "account", &account_id))
        return;
    char token[PV_TOKEN_SIZE];
    int64_t id = 0;
    pv_error err = {""};
    int rc = pv_store_begin(ctx->store, &err);
    if (rc == 0)
        rc = pv_token_mint(ctx->store, name, role, account_id, ctx->now, token, &id, &err);
    if (rc != 0) {
        pv_store_rollback(ctx->store);
        pv__api_fail_store(ctx, rc, &err, rc == PV_EEXIST ? "name" : NULL);
        return;
    }
    char subject[96];
    snprintf(subject, sizeof subject, "token:%s", name);
    if (pv__api_commit(ctx, "token.create", subject,
                       json_pack("{s:s, s:o}", "role", pv_role_name(role), "account",
                                 pv__api_str_or_null(account))))
        pv__api_reply(ctx, 201,
                      json_pack("{s:I, s:s, s:s, s:o, s:s}", "id", (json_int_t)id, "name", name,
                                "role", pv_role_name(role), "account", pv__api_str_or_null(account),
                                "token", token));
    OPENSSL_cleanse(token, sizeof token);
}

void pv__api_token_delete(pv__api_ctx *ctx)
{
    pv_error err = {""};
    int rc = pv_store_begin(ctx->store, &err);
    if (rc == 0)
        rc = pv_store_token_revoke(ctx->store, ctx->params[0], ctx->now, &err);
    if (rc != 0) {
        pv_store_rollback(ctx->store);
        pv__api_fail_store(ctx, rc, &err, NULL);
        return;
    }
    char subject[96];
    snprintf(subject, sizeof subject, "token:%.80s", ctx->params[0]);
    if (pv__api_commit(ctx, "token.revoke", subject, NULL))
        pv__api_reply(ctx, 204, NULL);
}
