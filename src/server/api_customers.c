/*
 * api_customers.c — the admin API's customer logins (issue 10 item 3): the
 * people who log in to the customer portal, each belonging to one account.
 * Passwords arrive in the body, are hashed with argon2id (password.h) and
 * never stored, answered, logged or audited.
 */
#include "server/api_int.h"

#include "core/alloc.h"
#include "server/password.h"

#include <stdio.h>
#include <string.h>

static json_t *customer_json(pv__api_ctx *ctx, const pv_store_login *l, const char *account)
{
    char *owned = account == NULL ? pv__api_account_name(ctx, l->account_id) : NULL;
    json_t *j = json_pack("{s:s, s:o, s:s, s:I, s:I, s:I, s:I, s:b}", "login", l->name, "account",
                          pv__api_str_or_null(account != NULL ? account : owned), "role", l->role,
                          "created_at", (json_int_t)l->created_at, "last_login_at",
                          (json_int_t)l->last_login_at, "failed_count", (json_int_t)l->failed_count,
                          "locked_until", (json_int_t)l->locked_until, "locked",
                          l->locked_until > ctx->now);
    free(owned);
    return j;
}

bool pv__api_password_hash(pv__api_ctx *ctx, char **hash)
{
    const char *pw = pv__api_str(ctx->body, "password");
    pv_error err = {""};
    int rc = pv_password_hash(pw, strlen(pw), hash, &err);
    if (rc != 0) {
        pv__api_fail(ctx, 422, "invalid", "password", "%s", err.msg);
        return false;
    }
    return true;
}

/* GET /customers?account=NAME or /accounts/{name}/customers: every customer login, or one
 * account's. */
void pv__api_customers_list(pv__api_ctx *ctx)
{
    pv_store_page page;
    int64_t account_id = 0;
    char *account =
        ctx->params[0] != NULL ? pv_strdup(ctx->params[0]) : pv__api_query(ctx, "account");
    bool ok = pv__api_page(ctx, &page) &&
              (account == NULL || pv__api_account_id(ctx, account, "account", &account_id));
    pv_store_login *rows = NULL;
    size_t n = 0;
    pv_error err = {""};
    int rc = ok ? pv_store_login_list(ctx->store, account_id, &page, &rows, &n, &err) : 0;
    if (ok && rc != 0)
        pv__api_fail_store(ctx, rc, &err, "after");
    if (ok && rc == 0) {
        json_t *items = json_array();
        for (size_t i = 0; i < n; i++)
            if (strcmp(rows[i].role, "customer") == 0) /* operator logins are not customers */
                json_array_append_new(items, customer_json(ctx, &rows[i], account));
        pv__api_reply_page(ctx, items, &page);
    }
    pv_store_logins_free(rows, n);
    free(account);
}

/* POST /accounts/{name}/customers {"login", "password"} */
void pv__api_customer_create(pv__api_ctx *ctx)
{
    static const pv__api_field fields[] = {{"login", PV_API_STRING, true},
                                           {"password", PV_API_STRING, true}};
    int64_t account_id = 0;
    if (!pv__api_body(ctx, fields, 2) ||
        !pv__api_account_id(ctx, ctx->params[0], NULL, &account_id))
        return;
    pv_store_login l = {.name = (char *)pv__api_str(ctx->body, "login"),
                        .account_id = account_id,
                        .role = "customer"};
    if (pv__api_login_create(ctx, &l, "customer.create",
                             json_pack("{s:s}", "account", ctx->params[0])))
        pv__api_reply(ctx, 201, customer_json(ctx, &l, ctx->params[0]));
}

void pv__api_customer_get(pv__api_ctx *ctx)
{
    pv_store_login l = {0};
    if (!pv__api_login_get(ctx, true, &l))
        return;
    pv__api_reply(ctx, 200, customer_json(ctx, &l, NULL));
    pv_store_login_free(&l);
}

/* DELETE /customers/{login}: the login and its sessions. */
void pv__api_customer_delete(pv__api_ctx *ctx)
{
    pv__api_login_delete(ctx, true, "customer.delete");
}

/* PUT /customers/{login}/password {"password"}: a new password; unlocks the login and
 * ends its sessions. */
void pv__api_customer_password(pv__api_ctx *ctx)
{
    pv__api_login_password(ctx, true, "customer.password");
}
