/*
 * cmd_user.c — `provisor user ...` over the admin API (docs/api.md "Operator
 * logins"): the people who log in with a role — admin, operator or viewer
 * (server/roles.h) — sharing the portal's login table and argon2id passwords.
 * The password is read from standard input (--password-stdin), never from the
 * command line. Customer logins are `provisor customer`'s.
 */
#include "cli/cli.h"

#include "core/alloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

static int user_list(pv_cli_api *api, int argc, char **argv)
{
    static const pv_cli_column cols[] = {{"LOGIN", "login"},
                                         {"ROLE", "role"},
                                         {"LAST_LOGIN", "last_login_at"},
                                         {"FAILED", "failed_count"},
                                         {"LOCKED", "locked"}};
    return pv_cli_list_table(api, "/users", cols, sizeof cols / sizeof cols[0]);
}

/* --role admin|operator|viewer (required: the role is the point of an operator login). */
static int user_create(pv_cli_api *api, int argc, char **argv)
{
    const char *role = pv_cli_opt(api, "role");
    if (role == NULL || role[0] == '\0') {
        pv_cli_errorf("--role admin|operator|viewer is required");
        return PV_EXIT_USAGE;
    }
    json_t *body = json_pack("{s:s, s:s}", "login", argv[0], "role", role);
    int rc = pv_cli_password_stdin(api, body);
    if (rc != PV_EXIT_OK) {
        json_decref(body);
        return rc;
    }
    json_t *u = NULL;
    rc = pv_cli_call(api, "POST", "/users", body, &u);
    return pv_cli_show(api, rc, u);
}

static int user_show(pv_cli_api *api, int argc, char **argv)
{
    char *path = pv_cli_path("/users", argv[0], NULL);
    json_t *u = NULL;
    int rc = pv_cli_call(api, "GET", path, NULL, &u);
    free(path);
    return pv_cli_show(api, rc, u);
}

static int user_delete(pv_cli_api *api, int argc, char **argv)
{
    char *path = pv_cli_path("/users", argv[0], NULL);
    int rc = pv_cli_call(api, "DELETE", path, NULL, NULL);
    free(path);
    if (rc == PV_EXIT_OK && !pv_cli_json(api))
        printf("deleted %s\n", argv[0]);
    return rc;
}

static int user_reset_password(pv_cli_api *api, int argc, char **argv)
{
    json_t *body = json_object();
    int rc = pv_cli_password_stdin(api, body);
    if (rc != PV_EXIT_OK) {
        json_decref(body);
        return rc;
    }
    char *path = pv_cli_path("/users", argv[0], "/password");
    rc = pv_cli_call(api, "PUT", path, body, NULL);
    free(path);
    if (rc == PV_EXIT_OK && !pv_cli_json(api))
        printf("password of %s changed; its sessions ended, its lock cleared\n", argv[0]);
    return rc;
}

static const pv_cli_action user_actions[] = {
    {"list", "", 0, 0, "", "list operator logins with their roles", user_list},
    {"show", "LOGIN", 1, 1, "", "show one login: role, last login, failures, lock", user_show},
    {"create", "LOGIN", 1, 1, "role=,password-stdin",
     "create an operator login with --role admin, operator or viewer; the password is the "
     "first line of stdin",
     user_create},
    {"delete", "LOGIN", 1, 1, "", "delete a login (its sessions end)", user_delete},
    {"reset-password", "LOGIN", 1, 1, "password-stdin",
     "set a new password from stdin: ends the login's sessions and clears its lock",
     user_reset_password},
};

int pv_cmd_user(int argc, char **argv)
{
    return pv_cli_resource_main("user",
                                "Operator logins (admin API, docs/api.md \"Roles\"): a role and a "
                                "password, no account.",
                                user_actions, sizeof user_actions / sizeof user_actions[0], argc,
                                argv);
}
