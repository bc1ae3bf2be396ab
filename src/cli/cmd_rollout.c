/*
 * cmd_rollout.c — `provisor rollout create|list|show|devices|resume|abort|rollback`
 * over the admin API (docs/rollouts.md, docs/api.md): staged firmware
 * rollouts that halt themselves.
 */
#include "cli/cli.h"

#include "core/alloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rollout_list(pv_cli_api *api, int argc, char **argv)
{
    (void)argc, (void)argv;
    static const pv_cli_column cols[] = {{"NAME", "name"},         {"MODEL", "model"},
                                         {"FROM", "from_version"}, {"TO", "to_version"},
                                         {"STATE", "state"},       {"STAGE", "stage"}};
    return pv_cli_list_table(api, "/rollouts", cols, sizeof cols / sizeof cols[0]);
}

static long long num(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* The rollout as an operator reads it: state, why, and each stage's health. */
static void print_rollout(const pv_cli_api *api, const json_t *o)
{
    if (pv_cli_json(api)) {
        pv_cli_print_object(api, o);
        return;
    }
    printf("rollout %s: %s %s -> %s, %s", str(o, "name"), str(o, "model"), str(o, "from_version"),
           str(o, "to_version"), str(o, "state"));
    if (str(o, "reason")[0] != '\0')
        printf(" (%s)", str(o, "reason"));
    printf("\nbudget: %lld in flight, %lld per minute; soak %lld s; halts above %.1f %% failed or "
           "%.1f %% missing\n",
           num(o, "max_in_flight"), num(o, "per_minute"), num(o, "soak_s"),
           json_number_value(json_object_get(o, "max_failed_percent")),
           json_number_value(json_object_get(o, "max_missing_percent")));
    printf("%-3s %-12s %6s %8s %8s %8s %7s %7s %7s  %s\n", "#", "STAGE", "UPTO", "PENDING",
           "ADMITTED", "UPGRADED", "FAILED", "MISSING", "INCALL", "OUTCOME");
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(o, "stages"), i, g)
    {
        const json_t *d = json_object_get(g, "devices");
        printf("%-3lld %-12s %6lld %8lld %8lld %8lld %7lld %7lld %7lld  %s\n", num(g, "index"),
               str(g, "label"), num(g, "upto"), num(d, "pending"), num(d, "admitted"),
               num(d, "upgraded"), num(d, "failed"), num(d, "missing"), num(d, "in_call"),
               str(g, "outcome"));
    }
    const json_t *d = json_object_get(o, "devices");
    printf("devices: %lld in the target set, %lld upgraded, %lld failed, %lld missing, %lld in a "
           "call, %lld not yet admitted\n",
           num(d, "members"), num(d, "upgraded"), num(d, "failed"), num(d, "missing"),
           num(d, "in_call"), num(d, "pending"));
}

static int call_and_print(pv_cli_api *api, const char *method, const char *path, json_t *body)
{
    json_t *o = NULL;
    int rc = pv_cli_call(api, method, path, body, &o);
    if (rc == PV_EXIT_OK && o != NULL)
        print_rollout(api, o);
    json_decref(o);
    return rc;
}

static int rollout_show(pv_cli_api *api, int argc, char **argv)
{
    (void)argc;
    char *path = pv_cli_path("/rollouts", argv[0], NULL);
    int rc = call_and_print(api, "GET", path, NULL);
    free(path);
    return rc;
}

static int rollout_devices(pv_cli_api *api, int argc, char **argv)
{
    (void)argc;
    static const pv_cli_column cols[] = {{"MAC", "mac"},     {"POS", "position"},
                                         {"STAGE", "stage"}, {"STATE", "state"},
                                         {"VERSION", "firmware_version"},
                                         {"DETAIL", "detail"}};
    char *path = pv_cli_path("/rollouts", argv[0], "/devices");
    int rc = pv_cli_list_table(api, path, cols, sizeof cols / sizeof cols[0]);
    free(path);
    return rc;
}

/* An option that is an integer; false (usage printed) when it is not one. */
static bool int_opt(pv_cli_api *api, json_t *body, const char *opt, const char *field)
{
    const char *v = pv_cli_opt(api, opt);
    if (v == NULL)
        return true;
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    if (end == v || *end != '\0') {
        pv_cli_errorf("--%s '%s': want an integer", opt, v);
        return false;
    }
    json_object_set_new(body, field, json_integer(n));
    return true;
}

static bool pct_opt(pv_cli_api *api, json_t *body, const char *opt, const char *field)
{
    const char *v = pv_cli_opt(api, opt);
    if (v == NULL)
        return true;
    char *end = NULL;
    double d = strtod(v, &end);
    if (end == v || (*end != '\0' && strcmp(end, "%") != 0)) {
        pv_cli_errorf("--%s '%s': want a percentage", opt, v);
        return false;
    }
    json_object_set_new(body, field, json_real(d));
    return true;
}

/* --cohorts 1,10,50,100 */
static bool cohorts_opt(pv_cli_api *api, json_t *body)
{
    const char *v = pv_cli_opt(api, "cohorts");
    if (v == NULL)
        return true;
    json_t *a = json_array();
    for (const char *p = v; *p != '\0';) {
        char *end = NULL;
        long n = strtol(p, &end, 10);
        if (end == p || (*end != ',' && *end != '\0' && *end != '%')) {
            pv_cli_errorf("--cohorts '%s': want shares in %% like 1,10,50,100", v);
            json_decref(a);
            return false;
        }
        json_array_append_new(a, json_integer(n));
        p = end;
        if (*p == '%')
            p++;
        if (*p == ',')
            p++;
    }
    json_object_set_new(body, "cohorts", a);
    return true;
}

static int rollout_create(pv_cli_api *api, int argc, char **argv)
{
    (void)argc;
    const char *model = pv_cli_opt(api, "model");
    if (model == NULL) {
        pv_cli_errorf("--model MODEL is required"); /* the context names the command */
        return PV_EXIT_USAGE;
    }
    json_t *body = json_pack("{s:s, s:s}", "name", argv[0], "model", model);
    if (pv_cli_opt(api, "account") != NULL)
        json_object_set_new(body, "account", json_string(pv_cli_opt(api, "account")));
    if (pv_cli_opt(api, "from") != NULL)
        json_object_set_new(body, "from_version", json_string(pv_cli_opt(api, "from")));
    if (pv_cli_opt_at(api, "device", 0) != NULL) {
        json_t *d = json_array();
        for (size_t i = 0; pv_cli_opt_at(api, "device", i); i++)
            json_array_append_new(d, json_string(pv_cli_opt_at(api, "device", i)));
        json_object_set_new(body, "devices", d);
    }
    if (!int_opt(api, body, "percent", "percent") || !int_opt(api, body, "canary", "canary") ||
        !int_opt(api, body, "in-flight", "max_in_flight") ||
        !int_opt(api, body, "per-minute", "per_minute") || !int_opt(api, body, "soak", "soak_s") ||
        !pct_opt(api, body, "max-failed", "max_failed_percent") ||
        !pct_opt(api, body, "max-missing", "max_missing_percent") || !cohorts_opt(api, body)) {
        json_decref(body);
        return PV_EXIT_USAGE;
    }
    return call_and_print(api, "POST", "/rollouts", body);
}

static int act(pv_cli_api *api, const char *name, const char *verb)
{
    char suffix[16];
    snprintf(suffix, sizeof suffix, "/%s", verb);
    char *path = pv_cli_path("/rollouts", name, suffix);
    int rc = call_and_print(api, "POST", path, NULL);
    free(path);
    return rc;
}

static int rollout_resume(pv_cli_api *api, int argc, char **argv)
{
    (void)argc;
    return act(api, argv[0], "resume");
}

static int rollout_abort(pv_cli_api *api, int argc, char **argv)
{
    (void)argc;
    return act(api, argv[0], "abort");
}

static int rollout_rollback(pv_cli_api *api, int argc, char **argv)
{
    (void)argc;
    return act(api, argv[0], "rollback");
}

static const pv_cli_action actions[] = {
    {"create", "NAME", 1, 1,
     "model=,account=,device=,percent=,from=,canary=,cohorts=,in-flight=,per-minute=,soak=,"
     "max-failed=,max-missing=",
     "start a rollout of --model's plan: --account A, --device MAC (repeatable), --percent P; "
     "--canary N --cohorts 1,10,50,100; --in-flight N --per-minute N --soak S; --max-failed PCT "
     "--max-missing PCT; --from V (what rollback serves)",
     rollout_create},
    {"list", "", 0, 0, "", "list rollouts", rollout_list},
    {"show", "NAME", 1, 1, "", "a rollout's state and each stage's health", rollout_show},
    {"devices", "NAME", 1, 1, "", "the members in admission order and their outcome",
     rollout_devices},
    {"resume", "NAME", 1, 1, "", "accept a halted stage and go on with the next", rollout_resume},
    {"abort", "NAME", 1, 1, "", "stop: no device gets the upgrade rule any more", rollout_abort},
    {"rollback", "NAME", 1, 1, "", "serve the previous version's rule to every admitted device",
     rollout_rollback},
};

int pv_cmd_rollout(int argc, char **argv)
{
    return pv_cli_resource_main("rollout", "Staged firmware rollouts that halt themselves.",
                                actions, sizeof actions / sizeof actions[0], argc, argv);
}
