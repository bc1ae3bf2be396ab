/*
 * api_users.c — operator logins in the admin API (issue 13, "scoped access"):
 * people who log in with a role — admin, operator or viewer (roles.h) — and no
 * account. They share the portal's login table and argon2id hashing
 * (store logins, password.h) with the customer logins of api_customers.c,
 * which these routes never show nor change. Managing them is an admin's, like
 * tokens. Passwords arrive in the body and are never stored, answered, logged
 * or audited.
 */
#include "server/api_int.h"

#include "core/alloc.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

static json_t *user_json(const pv__api_ctx *ctx, const pv_store_login *l)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:b}", "login", l->name, "role", l->role,
                     "created_at", (json_int_t)l->created_at, "last_login_at",
                     (json_int_t)l->last_login_at, "failed_count", (json_int_t)l->failed_count,
                     "locked_until", (json_int_t)l->locked_until, "locked",
                     l->locked_until > ctx->now);
}

void pv__api_users_list(pv__api_ctx *ctx)
{
    pv_store_page page;
    if (!pv__api_page(ctx, &page))
        return;
    pv_store_login *rows = NULL;
    size_t n = 0;
    pv_error err = {""};
    int rc = pv_store_login_list(ctx->store, 0, &page, &rows, &n, &err);
    if (rc != 0) {
        pv__api_fail_store(ctx, rc, &err, "after");
    } else {
        json_t *items = json_array();
        for (size_t i = 0; i < n; i++)
            if (strcmp(rows[i].role, "customer") != 0) /* the portal's: /customers */
                json_array_append_new(items, user_json(ctx, &rows[i]));
        pv__api_reply_page(ctx, items, &page);
    }
    pv_store_logins_free(rows, n);
}

/* POST /users {"login", "role", "password"} */
void pv__api_user_create(pv__api_ctx *ctx)
{
    static const pv__api_field fields[] = {{"login", PV_API_STRING, true},
                                           {"role", PV_API_STRING, true},
                                           {"password", PV_API_STRING, true}};
    if (!pv__api_body(ctx, fields, 3))
        return;
    const char *role_name = pv__api_str(ctx->body, "role");
    pv_role role;
    if (!pv_role_parse(role_name, &role) || role == PV_ROLE_CUSTOMER) {
        pv__api_fail(ctx, 422, "invalid", "role",
                     "role '%.40s': want admin, operator or viewer (a customer's login is "
                     "made with `provisor customer create`, POST /accounts/{name}/customers)",
                     role_name);
        return;
    }
    pv_store_login l = {.name = (char *)pv__api_str(ctx->body, "login")};
    snprintf(l.role, sizeof l.role, "%s", pv_role_name(role));
    if (pv__api_login_create(ctx, &l, "user.create", json_pack("{s:s}", "role", l.role)))
        pv__api_reply(ctx, 201, user_json(ctx, &l));
}

/* ---- what customer and operator logins share (api_customers.c uses these too) ---- */

bool pv__api_login_get(pv__api_ctx *ctx, bool customer, pv_store_login *l)
{
    pv_error err = {""};
    int rc = pv_store_login_get(ctx->store, ctx->params[0], l, &err);
    if (rc == 0 && (strcmp(l->role, "customer") == 0) != customer) {
        pv_store_login_free(l);
        rc = pv_error_set(&err, PV_ENOENT, "login '%.64s': %s", ctx->params[0],
                          customer ? "not a customer login" : "a customer's, not an operator's");
    }
    if (rc != 0)
        pv__api_fail_store(ctx, rc, &err, NULL);
    return rc == 0;
}

bool pv__api_login_create(pv__api_ctx *ctx, pv_store_login *l, const char *action, json_t *detail)
{
    pv_error err = {""};
    char *hash = NULL;
    if (pv_store_login_name_check(l->name, &err) != 0) {
        pv__api_fail(ctx, 422, "invalid", "login", "%s", err.msg);
    } else if (pv__api_password_hash(ctx, &hash)) {
        l->password_hash = hash;
        int rc = pv_store_begin(ctx->store, &err);
        if (rc == 0)
            rc = pv_store_login_create(ctx->store, l, ctx->now, &l->id, &err);
        OPENSSL_cleanse(hash, strlen(hash));
        free(hash);
        l->password_hash = NULL;
        l->created_at = ctx->now;
        char subject[96];
        snprintf(subject, sizeof subject, "login:%.80s", l->name);
        return pv__api_finish(ctx, rc, &err, "login", action, subject, detail);
    }
    json_decref(detail);
    return false;
}

static void audit_and_204(pv__api_ctx *ctx, int rc, const pv_error *err, const char *action)
{
    char subject[96];
    snprintf(subject, sizeof subject, "login:%.80s", ctx->params[0]);
    if (pv__api_finish(ctx, rc, err, NULL, action, subject, NULL))
        pv__api_reply(ctx, 204, NULL);
}

void pv__api_login_delete(pv__api_ctx *ctx, bool customer, const char *action)
{
    pv_store_login l = {0};
    if (!pv__api_login_get(ctx, customer, &l))
        return;
    pv_error err = {""};
    int rc = pv_store_begin(ctx->store, &err);
    if (rc == 0)
        rc = pv_store_login_delete(ctx->store, l.name, &err);
    pv_store_login_free(&l);
    audit_and_204(ctx, rc, &err, action);
}

void pv__api_login_password(pv__api_ctx *ctx, bool customer, const char *action)
{
    static const pv__api_field fields[] = {{"password", PV_API_STRING, true}};
    pv_store_login l = {0};
    if (!pv__api_body(ctx, fields, 1) || !pv__api_login_get(ctx, customer, &l))
        return;
    pv_store_login_free(&l);
    char *hash = NULL;
    if (!pv__api_password_hash(ctx, &hash))
        return;
    pv_error err = {""};
    int rc = pv_store_begin(ctx->store, &err);
    if (rc == 0)
        rc = pv_store_login_set_password(ctx->store, ctx->params[0], hash, ctx->now, &err);
    OPENSSL_cleanse(hash, strlen(hash));
    free(hash);
    audit_and_204(ctx, rc, &err, action);
}

/* ---- operator logins ---- */

void pv__api_user_get(pv__api_ctx *ctx)
{
    pv_store_login l = {0};
    if (!pv__api_login_get(ctx, false, &l))
        return;
    pv__api_reply(ctx, 200, user_json(ctx, &l));
    pv_store_login_free(&l);
}

/* DELETE /users/{login}: the login and its sessions. */
void pv__api_user_delete(pv__api_ctx *ctx)
{
    pv__api_login_delete(ctx, false, "user.delete");
}

/* PUT /users/{login}/password {"password"}: unlocks the login and ends its sessions. */
void pv__api_user_password(pv__api_ctx *ctx)
{
    pv__api_login_password(ctx, false, "user.password");
}
