/*
 * cmd_firmware.c — `provisor firmware|plan|report|audit ...` over the admin
 * API (docs/api.md): firmware images, upgrade plans per model, phone reports
 * and the audit log.
 */
#include "cli/cli.h"

#include "core/alloc.h"
#include "net/http_client.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int show(pv_cli_api *api, const char *method, const char *path, json_t *body)
{
    json_t *o = NULL;
    int rc = pv_cli_call(api, method, path, body, &o);
    if (rc == PV_EXIT_OK && o)
        pv_cli_print_object(api, o);
    else if (rc == PV_EXIT_OK && !pv_cli_json(api))
        printf("done\n");
    json_decref(o);
    return rc;
}

static int show_at(pv_cli_api *api, const char *method, const char *prefix, const char *key,
                   json_t *body)
{
    char *path = pv_cli_path(prefix, key, NULL);
    int rc = show(api, method, path, body);
    free(path);
    return rc;
}

static int list(pv_cli_api *api, const char *path, const pv_cli_column *cols, size_t n)
{
    return pv_cli_list_table(api, path, cols, n);
}

/* path?key=value&... from the options that are set */
static char *with_query(pv_cli_api *api, const char *path, const char *const (*map)[2], size_t n)
{
    pv_buf b = {0};
    pv_buf_append_str(&b, path);
    char sep = '?';
    for (size_t i = 0; i < n; i++) {
        const char *v = pv_cli_opt(api, map[i][0]);
        if (v == NULL)
            continue;
        pv_buf_appendf(&b, "%c%s=", sep, map[i][1]);
        pv_http_client_escape(&b, v);
        sep = '&';
    }
    return pv_buf_take(&b, NULL);
}

/* ---- firmware ---- */

static int firmware_list(pv_cli_api *api, int argc, char **argv)
{
    static const pv_cli_column cols[] = {{"ID", "id"},           {"MODEL", "model"},
                                         {"VERSION", "version"}, {"KIND", "kind"},
                                         {"SIZE", "size"},       {"FILE", "file_name"}};
    static const char *const map[][2] = {{"model", "model"}};
    char *path = with_query(api, "/firmware", map, 1);
    int rc = list(api, path, cols, 6);
    free(path);
    return rc;
}

static int firmware_show(pv_cli_api *api, int argc, char **argv)
{
    return show_at(api, "GET", "/firmware", argv[0], NULL);
}

static int firmware_add(pv_cli_api *api, int argc, char **argv)
{
    const char *model = pv_cli_opt(api, "model"), *version = pv_cli_opt(api, "version");
    if (model == NULL || version == NULL) {
        pv_cli_errorf("--model and --version are required");
        return PV_EXIT_USAGE;
    }
    json_t *b =
        json_pack("{s:s, s:s, s:s}", "model", model, "version", version, "file_name", argv[0]);
    static const char *const opts[] = {"kind", "sha256"};
    for (size_t i = 0; i < 2; i++)
        if (pv_cli_opt(api, opts[i]))
            json_object_set_new(b, opts[i], json_string(pv_cli_opt(api, opts[i])));
    if (pv_cli_opt(api, "size"))
        json_object_set_new(b, "size", json_integer(strtoll(pv_cli_opt(api, "size"), NULL, 10)));
    json_t *files = json_array();
    for (size_t i = 0; pv_cli_opt_at(api, "file", i); i++)
        json_array_append_new(files, json_string(pv_cli_opt_at(api, "file", i)));
    json_object_set_new(b, "files", files);
    return show(api, "POST", "/firmware", b);
}

/* upload FILE: PUT the bytes to <data>/firmware/<basename> */
static int firmware_upload(pv_cli_api *api, int argc, char **argv)
{
    pv_buf data = {0};
    pv_error err = {""};
    if (pv_cli_read_file(argv[0], PV_CLI_MAX_FILE, &data, &err) != 0) {
        pv_cli_errorf("%s", err.msg);
        return PV_EXIT_FAILURE;
    }
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    char *path = pv_cli_path("/firmware/files", base, NULL);
    int rc = pv_cli_upload(api, path, data.data, data.len);
    free(path);
    pv_buf_free(&data);
    return rc;
}

static int firmware_delete(pv_cli_api *api, int argc, char **argv)
{
    return show_at(api, "DELETE", "/firmware", argv[0], NULL);
}

static const pv_cli_action firmware_actions[] = {
    {"list", "", 0, 0, "model=", "list registered images", firmware_list},
    {"show", "ID", 1, 1, "", "show one image", firmware_show},
    {"add", "FILE_NAME", 1, 1, "model=,version=,kind=,sha256=,size=,file=",
     "register an image in DATA/firmware (hash and size read from the file when present; "
     "--file per file a .loads lists)",
     firmware_add},
    {"upload", "PATH", 1, 1, "", "copy an image file into DATA/firmware/ on the server",
     firmware_upload},
    {"delete", "ID", 1, 1, "", "forget an image", firmware_delete},
};

int pv_cmd_firmware(int argc, char **argv)
{
    return pv_cli_resource_main("firmware", "Firmware images served to phones (spec 6).",
                                firmware_actions,
                                sizeof firmware_actions / sizeof firmware_actions[0], argc, argv);
}

/* ---- upgrade plans ---- */

static int plan_list(pv_cli_api *api, int argc, char **argv)
{
    static const pv_cli_column cols[] = {
        {"MODEL", "model"}, {"TARGET", "target_version"}, {"STAGES", "stages"}};
    return list(api, "/plans", cols, 3);
}

static int plan_show(pv_cli_api *api, int argc, char **argv)
{
    return show_at(api, "GET", "/plans", argv[0], NULL);
}

/* set MODEL --target V [--stage FROM:TO]... */
static int plan_set(pv_cli_api *api, int argc, char **argv)
{
    const char *target = pv_cli_opt(api, "target");
    if (target == NULL) {
        pv_cli_errorf("--target VERSION is required");
        return PV_EXIT_USAGE;
    }
    json_t *stages = json_array();
    for (size_t i = 0; pv_cli_opt_at(api, "stage", i); i++) {
        const char *s = pv_cli_opt_at(api, "stage", i), *colon = strchr(s, ':');
        if (colon == NULL || colon == s || colon[1] == '\0') {
            pv_cli_errorf("--stage '%s': want FROM:TO", s);
            json_decref(stages);
            return PV_EXIT_USAGE;
        }
        json_array_append_new(stages, json_pack("[s#, s]", s, (int)(colon - s), colon + 1));
    }
    return show_at(api, "PUT", "/plans", argv[0],
                   json_pack("{s:s, s:o}", "target_version", target, "stages", stages));
}

static int plan_delete(pv_cli_api *api, int argc, char **argv)
{
    return show_at(api, "DELETE", "/plans", argv[0], NULL);
}

static const pv_cli_action plan_actions[] = {
    {"list", "", 0, 0, "", "list upgrade plans", plan_list},
    {"show", "MODEL", 1, 1, "", "show a model's plan", plan_show},
    {"set", "MODEL", 1, 1, "target=,stage=",
     "set the target version and allowed direct steps (--stage FROM:TO, repeatable)", plan_set},
    {"delete", "MODEL", 1, 1, "", "delete a model's plan", plan_delete},
};

int pv_cmd_plan(int argc, char **argv)
{
    return pv_cli_resource_main("plan", "Firmware upgrade plans per model (multi-stage).",
                                plan_actions, sizeof plan_actions / sizeof plan_actions[0], argc,
                                argv);
}

/* ---- reports ---- */

static int report_list(pv_cli_api *api, int argc, char **argv)
{
    static const pv_cli_column cols[] = {{"ID", "id"},
                                         {"MAC", "mac"},
                                         {"KIND", "kind"},
                                         {"SIZE", "size"},
                                         {"RECEIVED", "received_at"}};
    static const char *const map[][2] = {{"mac", "mac"}};
    char *path = with_query(api, "/reports", map, 1);
    int rc = list(api, path, cols, 5);
    free(path);
    return rc;
}

static int report_show(pv_cli_api *api, int argc, char **argv)
{
    return show_at(api, "GET", "/reports", argv[0], NULL);
}

static const pv_cli_action report_actions[] = {
    {"list", "", 0, 0, "mac=", "list reports (of one device with --mac)", report_list},
    {"show", "ID", 1, 1, "", "show a report with its body", report_show},
};

int pv_cmd_report(int argc, char **argv)
{
    return pv_cli_resource_main("report", "Reports phones uploaded (spec 7).", report_actions,
                                sizeof report_actions / sizeof report_actions[0], argc, argv);
}

/* ---- audit log ---- */

static int audit_list(pv_cli_api *api, int argc, char **argv)
{
    static const pv_cli_column cols[] = {{"AT", "at"},
                                         {"ACTOR", "actor"},
                                         {"ACTION", "action"},
                                         {"SUBJECT", "subject"},
                                         {"DETAIL", "detail"}};
    static const char *const map[][2] = {{"device", "device"},
                                         {"actor", "actor"},
                                         {"action", "action"},
                                         {"since", "since"},
                                         {"until", "until"}};
    char *path = with_query(api, "/audit", map, 5);
    int rc = list(api, path, cols, 5);
    free(path);
    return rc;
}

static const pv_cli_action audit_actions[] = {
    {"list", "", 0, 0, "device=,actor=,action=,since=,until=",
     "list audit entries (action: exact, or a family ending in '.'; since/until: unix seconds)",
     audit_list},
};

int pv_cmd_audit(int argc, char **argv)
{
    return pv_cli_resource_main(
        "audit", "The audit log: what was served to whom, every admin change.", audit_actions,
        sizeof audit_actions / sizeof audit_actions[0], argc, argv);
}
