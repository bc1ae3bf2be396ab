/*
 * cmd_account.c — `provisor account|code|token ...` over the admin API
 * (docs/api.md): accounts with their settings, binding codes, admin tokens.
 */
#include "cli/cli.h"

#include "core/alloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --settings '{"lines":[...]}' or --settings @file.json */
static int settings_opt(pv_cli_api *api, json_t *body)
{
    const char *s = pv_cli_opt(api, "settings");
    if (s == NULL)
        return PV_EXIT_OK;
    pv_buf text = {0};
    pv_error err = {""};
    if (s[0] == '@' && pv_cli_read_file(s + 1, 16 << 20, &text, &err) != 0) {
        pv_cli_errorf("--settings: %s", err.msg);
        return PV_EXIT_FAILURE;
    }
    json_error_t jerr;
    json_t *v = json_loads(s[0] == '@' ? (text.data ? text.data : "") : s, 0, &jerr);
    pv_buf_free(&text);
    if (v == NULL) {
        pv_cli_errorf("--settings: line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        return PV_EXIT_USAGE;
    }
    json_object_set_new(body, "settings", v);
    return PV_EXIT_OK;
}

static const pv_cli_column account_cols[] = {
    {"NAME", "name"}, {"CUSTOMER", "customer"}, {"VERSION", "version"}, {"UPDATED", "updated_at"}};

static int account_list(pv_cli_api *api, int argc, char **argv)
{
    return pv_cli_list_table(api, "/accounts", account_cols, 4);
}

static int account_show(pv_cli_api *api, int argc, char **argv)
{
    char *path = pv_cli_path("/accounts", argv[0], NULL);
    json_t *a = NULL;
    int rc = pv_cli_call(api, "GET", path, NULL, &a);
    free(path);
    return pv_cli_show(api, rc, a);
}

static int account_write(pv_cli_api *api, const char *method, const char *name)
{
    json_t *body = json_object();
    const char *customer = pv_cli_opt(api, "customer");
    const char *rename = pv_cli_opt(api, "rename");
    if (strcmp(method, "POST") == 0)
        json_object_set_new(body, "name", json_string(name));
    else if (rename)
        json_object_set_new(body, "name", json_string(rename));
    if (customer)
        json_object_set_new(body, "customer", json_string(customer));
    int rc = settings_opt(api, body);
    if (rc != PV_EXIT_OK) {
        json_decref(body);
        return rc;
    }
    /* --notify: the server resyncs the devices whose profile the change alters (spec 5.5) */
    bool notify = pv_cli_opt(api, "notify") != NULL;
    char *path = strcmp(method, "POST") == 0
                     ? pv_strdup("/accounts")
                     : pv_cli_path("/accounts", name, notify ? "?notify=1" : NULL);
    json_t *a = NULL;
    rc = pv_cli_call(api, method, path, body, &a);
    free(path);
    json_t *job = rc == PV_EXIT_OK ? json_incref(json_object_get(a, "notify")) : NULL;
    if (job != NULL)
        json_object_del(a, "notify");
    rc = pv_cli_show(api, rc, a);
    if (rc == PV_EXIT_OK && json_is_object(job) && json_object_get(job, "error") == NULL)
        return pv_cli_follow_job(api, job, false);
    if (notify && rc == PV_EXIT_OK && !pv_cli_json(api))
        printf("notify: %s\n", json_is_object(job) ? "the job could not start"
                                                    : "no device's profile changed");
    json_decref(job);
    return rc;
}

static int account_create(pv_cli_api *api, int argc, char **argv)
{
    return account_write(api, "POST", argv[0]);
}

/* update merges the settings given (PATCH): untouched keys stay. */
static int account_update(pv_cli_api *api, int argc, char **argv)
{
    return account_write(api, "PATCH", argv[0]);
}

static int delete_at(pv_cli_api *api, const char *prefix, const char *key)
{
    char *path = pv_cli_path(prefix, key, NULL);
    int rc = pv_cli_call(api, "DELETE", path, NULL, NULL);
    free(path);
    if (rc == PV_EXIT_OK && !pv_cli_json(api))
        printf("deleted %s\n", key);
    return rc;
}

/* --force: also when devices are assigned (they become unassigned); admin only. */
static int account_delete(pv_cli_api *api, int argc, char **argv)
{
    if (pv_cli_opt(api, "force") == NULL)
        return delete_at(api, "/accounts", argv[0]);
    char *path = pv_cli_path("/accounts", argv[0], NULL);
    pv_buf forced = {0};
    pv_buf_appendf(&forced, "%s?force=1", path);
    free(path);
    int rc = pv_cli_call(api, "DELETE", forced.data, NULL, NULL);
    pv_buf_free(&forced);
    if (rc == PV_EXIT_OK && !pv_cli_json(api))
        printf("deleted %s (its devices are unassigned; the audit log keeps what was deleted)\n",
               argv[0]);
    return rc;
}

static const pv_cli_action account_actions[] = {
    {"list", "", 0, 0, "", "list accounts", account_list},
    {"show", "NAME", 1, 1, "", "show one account with its settings", account_show},
    {"create", "NAME", 1, 1, "customer=,settings=",
     "create an account (settings: JSON or @FILE: lines, hunt_group, speed_dials, "
     "user_features)",
     account_create},
    {"update", "NAME", 1, 1, "customer=,settings=,rename=,notify,wait,timeout=",
     "change an account; settings keys given replace those keys (--notify: SIP NOTIFY the "
     "devices whose profile changed)",
     account_update},
    {"delete", "NAME", 1, 1, "force",
     "delete an account; refused while devices are assigned unless --force (admin), which "
     "leaves them unassigned",
     account_delete},
};

int pv_cmd_account(int argc, char **argv)
{
    return pv_cli_resource_main("account",
                                "Accounts: a provider's customers and their service "
                                "settings.",
                                account_actions, sizeof account_actions / sizeof account_actions[0],
                                argc, argv);
}

/* ---- binding codes ---- */

static int code_list(pv_cli_api *api, int argc, char **argv)
{
    static const pv_cli_column cols[] = {{"ID", "id"},           {"HINT", "hint"},
                                         {"STATE", "state"},     {"EXPIRES", "expires_at"},
                                         {"USED_BY", "used_by"}, {"ATTEMPTS", "attempts"}};
    char *path = pv_cli_path("/accounts", argv[0], "/codes");
    int rc = pv_cli_list_table(api, path, cols, 6);
    free(path);
    return rc;
}

static int int_opt(pv_cli_api *api, json_t *body, const char *opt, const char *key)
{
    const char *v = pv_cli_opt(api, opt);
    if (v == NULL)
        return PV_EXIT_OK;
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    bool duration = strcmp(opt, "expires") == 0;
    long long mult = 1;
    /* A duration names its unit: `--expires 7` (7 seconds to the API) was meant as 7 days. */
    if (duration && v[0] != '\0' && end && *end == '\0') {
        pv_cli_errorf("--expires '%s': give the unit: s, m, h or d (e.g. %sd)", v, v);
        return PV_EXIT_USAGE;
    }
    if (end && *end && duration && end[1] == '\0') {
        const char *units = "smhd";
        const long long f[] = {1, 60, 3600, 86400};
        const char *u = strchr(units, *end);
        if (u) {
            mult = f[u - units];
            end++;
        }
    }
    if (v[0] == '\0' || *end != '\0') {
        pv_cli_errorf("--%s '%s': want a number%s", opt, v,
                      duration ? " with s, m, h or d (e.g. 7d)" : "");
        return PV_EXIT_USAGE;
    }
    json_object_set_new(body, key, json_integer(n * mult));
    return PV_EXIT_OK;
}

static int code_create(pv_cli_api *api, int argc, char **argv)
{
    json_t *body = json_object();
    int rc = int_opt(api, body, "expires", "expires_in");
    if (rc == PV_EXIT_OK)
        rc = int_opt(api, body, "max-attempts", "max_attempts");
    if (rc != PV_EXIT_OK) {
        json_decref(body);
        return rc;
    }
    char *path = pv_cli_path("/accounts", argv[0], "/codes");
    json_t *c = NULL;
    rc = pv_cli_call(api, "POST", path, body, &c);
    free(path);
    if (rc == PV_EXIT_OK && !pv_cli_json(api))
        fprintf(stderr, "The code is shown this once; only its hash is kept.\n");
    return pv_cli_show(api, rc, c);
}

static int code_revoke(pv_cli_api *api, int argc, char **argv)
{
    return delete_at(api, "/codes", argv[0]);
}

static const pv_cli_action code_actions[] = {
    {"list", "ACCOUNT", 1, 1, "", "list an account's codes (hints only, never the codes)",
     code_list},
    {"create", "ACCOUNT", 1, 1, "expires=,max-attempts=",
     "create a single-use binding code (default: expires in 7d, 5 attempts)", code_create},
    {"revoke", "ID", 1, 1, "", "revoke a code", code_revoke},
};

int pv_cmd_code(int argc, char **argv)
{
    return pv_cli_resource_main("code",
                                "Binding codes: retail phones bind to an account with "
                                "https://HOST/init/CODE (DESIGN 5).",
                                code_actions, sizeof code_actions / sizeof code_actions[0], argc,
                                argv);
}

/* ---- admin tokens ---- */

static int token_list(pv_cli_api *api, int argc, char **argv)
{
    static const pv_cli_column cols[] = {
        {"NAME", "name"},
        {"ROLE", "role"},
        {"ACCOUNT", "account"},
        {"CREATED", "created_at"},
        {"LAST USED", "last_used_at"},
        {"REVOKED", "revoked_at"},
    };
    return pv_cli_list_table(api, "/tokens", cols, sizeof cols / sizeof cols[0]);
}

/* --role admin|operator|viewer|customer (default admin), --account for a customer. */
static int token_create(pv_cli_api *api, int argc, char **argv)
{
    json_t *body = json_pack("{s:s}", "name", argv[0]);
    const char *role = pv_cli_opt(api, "role"), *account = pv_cli_opt(api, "account");
    if (role != NULL)
        json_object_set_new(body, "role", json_string(role));
    if (account != NULL)
        json_object_set_new(body, "account", json_string(account));
    json_t *t = NULL;
    int rc = pv_cli_call(api, "POST", "/tokens", body, &t);
    if (rc == PV_EXIT_OK && !pv_cli_json(api))
        fprintf(stderr, "The token is shown this once; only its hash is kept.\n");
    return pv_cli_show(api, rc, t);
}

static int token_revoke(pv_cli_api *api, int argc, char **argv)
{
    return delete_at(api, "/tokens", argv[0]);
}

static const pv_cli_action token_actions[] = {
    {"list", "", 0, 0, "", "list admin tokens", token_list},
    {"create", "NAME", 1, 1, "role=,account=",
     "create a named bearer token (printed once) with a role: admin (default), operator, "
     "viewer, or customer with --account",
     token_create},
    {"revoke", "NAME", 1, 1, "", "revoke a token", token_revoke},
};

int pv_cmd_token(int argc, char **argv)
{
    return pv_cli_resource_main("token", "Bearer tokens of the admin API (stored hashed).",
                                token_actions, sizeof token_actions / sizeof token_actions[0], argc,
                                argv);
}
