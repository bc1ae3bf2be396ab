/*
 * cmd_params.c — `provisor params ...` over the admin API: layered parameter
 * sets (DESIGN 4) by scope: global, model:NAME, account:NAME, device:MAC.
 */
#include "cli/cli.h"

#include "core/alloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int params_list(pv_cli_api *api, int argc, char **argv)
{
    static const pv_cli_column cols[] = {
        {"SCOPE", "scope"}, {"VERSION", "version"}, {"UPDATED", "updated_at"}};
    return pv_cli_list_table(api, "/params", cols, 3);
}

/* The entries of a set as a table NAME VALUE UA, or the set as JSON. */
static int print_set(pv_cli_api *api, json_t *set)
{
    if (pv_cli_json(api)) {
        pv_cli_print_object(api, set);
        return PV_EXIT_OK;
    }
    json_t *items = json_array();
    const char *name;
    json_t *e;
    json_object_foreach(json_object_get(set, "entries"), name, e)
    {
        json_t *row = json_deep_copy(e);
        json_object_set_new(row, "name", json_string(name));
        json_array_append_new(items, row);
    }
    static const pv_cli_column cols[] = {{"NAME", "name"}, {"UA", "ua"}, {"VALUE", "value"}};
    printf("scope %s, version %lld\n", json_string_value(json_object_get(set, "scope")),
           (long long)json_integer_value(json_object_get(set, "version")));
    pv_cli_print_table(api, items, cols, 3);
    json_decref(items);
    return PV_EXIT_OK;
}

static int send(pv_cli_api *api, const char *method, const char *scope, json_t *body)
{
    char *path = pv_cli_path("/params", scope, NULL);
    json_t *set = NULL;
    int rc = pv_cli_call(api, method, path, body, &set);
    free(path);
    if (rc == PV_EXIT_OK && set)
        rc = print_set(api, set);
    else if (rc == PV_EXIT_OK && !pv_cli_json(api))
        printf("deleted %s\n", scope);
    json_decref(set);
    return rc;
}

static int params_show(pv_cli_api *api, int argc, char **argv)
{
    return send(api, "GET", argv[0], NULL);
}

/* --dry-run: what the change would do, changing nothing (PATCH ?dry_run=1). Exit 1 when a
 * device would fail to render, as the change itself would be refused. */
static int dry_run(pv_cli_api *api, const char *scope, json_t *body)
{
    char *path = pv_cli_path("/params", scope, NULL);
    pv_buf q = {0};
    pv_buf_appendf(&q, "%s?dry_run=1", path);
    free(path);
    json_t *r = NULL;
    int rc = pv_cli_call(api, "PATCH", q.data, body, &r);
    pv_buf_free(&q);
    json_int_t fail = json_integer_value(json_object_get(r, "would_fail"));
    if (rc == PV_EXIT_OK && !pv_cli_json(api)) {
        printf("dry run: %lld devices change, %lld would fail to render",
               (long long)json_integer_value(json_object_get(r, "devices")), (long long)fail);
        const char *first = json_string_value(json_object_get(r, "first_failure"));
        printf(first ? " (first: %s)\n" : "\n", first);
    } else if (rc == PV_EXIT_OK) {
        pv_cli_print_object(api, r);
    }
    json_decref(r);
    return rc == PV_EXIT_OK && fail > 0 ? PV_EXIT_FAILURE : rc;
}

/* set SCOPE NAME=VALUE... [--ua na|ro|rw] */
static int params_set(pv_cli_api *api, int argc, char **argv)
{
    json_t *entries = json_object();
    const char *ua = pv_cli_opt(api, "ua");
    for (int i = 1; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (eq == NULL || eq == argv[i]) {
            pv_cli_errorf("'%s': want NAME=VALUE", argv[i]);
            json_decref(entries);
            return PV_EXIT_USAGE;
        }
        char *name = pv_strndup(argv[i], (size_t)(eq - argv[i]));
        json_t *e = json_pack("{s:s}", "value", eq + 1);
        if (ua)
            json_object_set_new(e, "ua", ua[0] ? json_string(ua) : json_null());
        json_object_set_new(entries, name, e);
        free(name);
    }
    if (pv_cli_opt(api, "dry-run") != NULL)
        return dry_run(api, argv[0], json_pack("{s:o}", "entries", entries));
    pv_cli_renders *before = NULL;
    if (pv_cli_opt(api, "notify") != NULL) { /* the renders before the change */
        int rc = pv_cli_renders_take(api, argv[0], &before);
        if (rc != PV_EXIT_OK) {
            json_decref(entries);
            return rc;
        }
    }
    int rc = send(api, "PATCH", argv[0], json_pack("{s:o}", "entries", entries));
    if (before != NULL && rc == PV_EXIT_OK)
        rc = pv_cli_notify_changed(api, before); /* spec 5.5: exactly the changed ones */
    else
        pv_cli_renders_free(before);
    return rc;
}

static int params_unset(pv_cli_api *api, int argc, char **argv)
{
    json_t *entries = json_object();
    for (int i = 1; i < argc; i++)
        json_object_set_new(entries, argv[i], json_null());
    return send(api, "PATCH", argv[0], json_pack("{s:o}", "entries", entries));
}

/* replace SCOPE FILE.json: {"entries": {...}} or the entries object itself */
static int params_replace(pv_cli_api *api, int argc, char **argv)
{
    json_error_t jerr;
    json_t *doc =
        strcmp(argv[1], "-") == 0 ? json_loadf(stdin, 0, &jerr) : json_load_file(argv[1], 0, &jerr);
    if (doc == NULL) {
        pv_cli_errorf("%s: line %d, column %d: %s", argv[1], jerr.line, jerr.column, jerr.text);
        return PV_EXIT_FAILURE;
    }
    if (json_object_get(doc, "entries") == NULL)
        doc = json_pack("{s:o}", "entries", doc);
    return send(api, "PUT", argv[0], doc);
}

static int params_delete(pv_cli_api *api, int argc, char **argv)
{
    return send(api, "DELETE", argv[0], NULL);
}

static const pv_cli_action params_actions[] = {
    {"list", "", 0, 0, "", "list parameter sets", params_list},
    {"show", "SCOPE", 1, 1, "",
     "show a set's entries (scope: global, model:M, account:A, device:MAC)", params_show},
    {"set", "SCOPE NAME=VALUE...", 2, 1000, "ua=,notify,wait,timeout=,dry-run",
     "set entries (--ua na|ro|rw; --notify: SIP NOTIFY the devices whose profile changed; "
     "--dry-run: how many devices change and would fail to render, changing nothing)",
     params_set},
    {"unset", "SCOPE NAME...", 2, 1000, "", "remove entries", params_unset},
    {"replace", "SCOPE FILE.json", 2, 2, "", "replace every entry of a set from JSON",
     params_replace},
    {"delete", "SCOPE", 1, 1, "", "delete a set", params_delete},
};

int pv_cmd_params(int argc, char **argv)
{
    return pv_cli_resource_main("params",
                                "Layered parameter sets: global, model, account, device; "
                                "entries are NAME -> value, ua.",
                                params_actions, sizeof params_actions / sizeof params_actions[0],
                                argc, argv);
}
