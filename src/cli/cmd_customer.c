/*
 * cmd_customer.c — `provisor customer ...` over the admin API (docs/api.md
 * "Customer logins"): the logins of the customer portal, each belonging to
 * one account. A password is read from standard input (--password-stdin),
 * never from the command line, where `ps` and the shell history would show it.
 */
#include "cli/cli.h"

#include "core/alloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int customer_list(pv_cli_api *api, int argc, char **argv)
{
    static const pv_cli_column cols[] = {{"LOGIN", "login"},
                                         {"ACCOUNT", "account"},
                                         {"LAST_LOGIN", "last_login_at"},
                                         {"FAILED", "failed_count"},
                                         {"LOCKED", "locked"}};
    char *path =
        argc > 0 ? pv_cli_path("/accounts", argv[0], "/customers") : pv_strdup("/customers");
    int rc = pv_cli_list_table(api, path, cols, sizeof cols / sizeof cols[0]);
    free(path);
    return rc;
}

static int customer_create(pv_cli_api *api, int argc, char **argv)
{
    json_t *body = json_pack("{s:s}", "login", argv[1]);
    int rc = pv_cli_password_stdin(api, body);
    if (rc != PV_EXIT_OK) {
        json_decref(body);
        return rc;
    }
    char *path = pv_cli_path("/accounts", argv[0], "/customers");
    json_t *c = NULL;
    rc = pv_cli_call(api, "POST", path, body, &c);
    free(path);
    return pv_cli_show(api, rc, c);
}

static int customer_show(pv_cli_api *api, int argc, char **argv)
{
    char *path = pv_cli_path("/customers", argv[0], NULL);
    json_t *c = NULL;
    int rc = pv_cli_call(api, "GET", path, NULL, &c);
    free(path);
    return pv_cli_show(api, rc, c);
}

static int customer_delete(pv_cli_api *api, int argc, char **argv)
{
    char *path = pv_cli_path("/customers", argv[0], NULL);
    int rc = pv_cli_call(api, "DELETE", path, NULL, NULL);
    free(path);
    if (rc == PV_EXIT_OK && !pv_cli_json(api))
        printf("deleted %s\n", argv[0]);
    return rc;
}

static int customer_reset_password(pv_cli_api *api, int argc, char **argv)
{
    json_t *body = json_object();
    int rc = pv_cli_password_stdin(api, body);
    if (rc != PV_EXIT_OK) {
        json_decref(body);
        return rc;
    }
    char *path = pv_cli_path("/customers", argv[0], "/password");
    rc = pv_cli_call(api, "PUT", path, body, NULL);
    free(path);
    if (rc == PV_EXIT_OK && !pv_cli_json(api))
        printf("password of %s changed; its sessions ended, its lock cleared\n", argv[0]);
    return rc;
}

static const pv_cli_action customer_actions[] = {
    {"list", "[ACCOUNT]", 0, 1, "", "list customer logins (of one account)", customer_list},
    {"show", "LOGIN", 1, 1, "", "show one login: account, last login, failures, lock",
     customer_show},
    {"create", "ACCOUNT LOGIN", 2, 2, "password-stdin",
     "create a portal login for an account; the password is the first line of stdin",
     customer_create},
    {"delete", "LOGIN", 1, 1, "", "delete a login (its sessions end)", customer_delete},
    {"reset-password", "LOGIN", 1, 1, "password-stdin",
     "set a new password from stdin: ends the login's sessions and clears its lock",
     customer_reset_password},
};

int pv_cmd_customer(int argc, char **argv)
{
    return pv_cli_resource_main("customer",
                                "Customer logins of the portal (--portal, docs/portal.md): each "
                                "belongs to one account and sees only it.",
                                customer_actions,
                                sizeof customer_actions / sizeof customer_actions[0], argc, argv);
}
