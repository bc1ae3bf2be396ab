/*
 * cmd_device_action.c — `provisor device resync|reboot|report-request`: SIP
 * NOTIFY to phones through the admin API's device actions (docs/api.md,
 * server/notifier.h, spec 5.5).
 *
 * The devices are MACs, or --account, --model, --all; --rate N (or N/s) paces
 * a bulk job. The server answers with the job at once; --wait follows it
 * (GET /jobs/{id}) until every device has an outcome, prints them, and exits
 * 0 only when every device said 200.
 *
 * --notify of params set (pv_cli_renders_take, pv_cli_notify_changed) compares each
 * reached device's plain render before and after the change and notifies exactly the
 * devices whose profile changed; account update --notify asks the server to do the same
 * (?notify=1) and follows the job it answers with (pv_cli_follow_job).
 *
 * `provisor job list|show ID`: the jobs the store keeps (GET /jobs, /jobs/{id}/devices).
 */
#include "cli/cli.h"

#include "core/alloc.h"
#include "net/http_client.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void print_job(const pv_cli_api *api, json_t *job)
{
    if (pv_cli_json(api)) {
        pv_cli_print_object(api, job);
        return;
    }
    printf("job %lld %s: %lld/%lld done", (long long)json_integer_value(json_object_get(job, "id")),
           json_string_value(json_object_get(job, "action")),
           (long long)json_integer_value(json_object_get(job, "done")),
           (long long)json_integer_value(json_object_get(job, "total")));
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(job, "outcomes"), k, v) {
        if (json_integer_value(v) > 0)
            printf(", %s %lld", k, (long long)json_integer_value(v));
    }
    printf("\n");
    static const pv_cli_column cols[] = {{"MAC", "mac"},           {"OUTCOME", "outcome"},
                                         {"STATUS", "status"},     {"ATTEMPTS", "attempts"},
                                         {"CHALLENGED", "challenged"}};
    json_t *devices = json_object_get(job, "devices");
    json_t *skipped = json_object_get(job, "skipped");
    /* Every device skipped: no empty outcome table above the reasons. */
    if (json_array_size(devices) > 0 || json_array_size(skipped) == 0)
        pv_cli_print_table(api, devices, cols, 5);
    if (json_array_size(skipped) > 0) {
        static const pv_cli_column sk[] = {{"SKIPPED", "mac"}, {"REASON", "reason"}};
        pv_cli_print_table(api, skipped, sk, 2);
    }
}

static int wait_job(pv_cli_api *api, json_t **job, double timeout_s)
{
    char path[64];
    snprintf(path, sizeof path, "/jobs/%lld",
             (long long)json_integer_value(json_object_get(*job, "id")));
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (!json_is_true(json_object_get(*job, "finished"))) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((double)(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 > timeout_s) {
            pv_cli_errorf("the job has not finished after %.0f s", timeout_s);
            return PV_EXIT_FAILURE;
        }
        struct timespec pause = {0, 200 * 1000 * 1000};
        nanosleep(&pause, NULL);
        json_t *next = NULL;
        int rc = pv_cli_call(api, "GET", path, NULL, &next);
        if (rc != PV_EXIT_OK)
            return rc;
        json_t *skipped = json_object_get(*job, "skipped"); /* only the first answer has it */
        if (skipped != NULL)
            json_object_set(next, "skipped", skipped);
        json_decref(*job);
        *job = next;
    }
    return PV_EXIT_OK;
}

/* Every device's outcome (GET /jobs/{id}/devices, all pages) as job's "devices". */
static int add_devices(pv_cli_api *api, json_t *job)
{
    char path[80];
    snprintf(path, sizeof path, "/jobs/%lld/devices",
             (long long)json_integer_value(json_object_get(job, "id")));
    json_t *items = NULL;
    int rc = pv_cli_list_all(api, path, &items);
    if (rc == PV_EXIT_OK)
        json_object_set_new(job, "devices", items);
    return rc;
}

/* With --wait, follows job (taken) until it finished; prints it with its devices. strict: with
 * --wait, exit 1 unless every device answered 2xx and none was skipped. */
int pv_cli_follow_job(pv_cli_api *api, json_t *job, bool strict)
{
    int rc = PV_EXIT_OK;
    bool wait = pv_cli_opt(api, "wait") != NULL;
    if (wait) {
        const char *t = pv_cli_opt(api, "timeout");
        rc = wait_job(api, &job, t ? atof(t) : 120.0);
    }
    if (rc == PV_EXIT_OK)
        rc = add_devices(api, job);
    print_job(api, job);
    if (rc == PV_EXIT_OK && wait && strict) {
        json_t *o = json_object_get(job, "outcomes");
        json_int_t ok = json_integer_value(json_object_get(o, "ok"));
        if (ok != json_integer_value(json_object_get(job, "total")) ||
            json_array_size(json_object_get(job, "skipped")) > 0)
            rc = PV_EXIT_FAILURE;
    }
    json_decref(job);
    return rc;
}

/* POST /actions with body (taken), then follows the job. */
static int post_job(pv_cli_api *api, json_t *body, bool strict)
{
    json_t *job = NULL;
    int rc = pv_cli_call(api, "POST", "/actions", body, &job);
    return rc != PV_EXIT_OK ? rc : pv_cli_follow_job(api, job, strict);
}

static int run(pv_cli_api *api, const char *action, int argc, char **argv)
{
    const char *account = pv_cli_opt(api, "account"), *model = pv_cli_opt(api, "model");
    bool all = pv_cli_opt(api, "all") != NULL;
    if ((argc > 0) + (account != NULL) + all + (model != NULL && argc == 0 && !account && !all) !=
        1) {
        pv_cli_errorf("name MACs, or one of --account, --model, --all");
        return PV_EXIT_USAGE;
    }
    json_t *body = json_pack("{s:s}", "action", action);
    if (argc > 0) {
        json_t *macs = json_array();
        for (int i = 0; i < argc; i++)
            json_array_append_new(macs, json_string(argv[i]));
        json_object_set_new(body, "macs", macs);
    } else if (account != NULL) {
        json_object_set_new(body, "account", json_string(account));
    } else if (all) {
        json_object_set_new(body, "all", json_true());
    }
    if (model != NULL && argc == 0)
        json_object_set_new(body, "model", json_string(model));
    const char *rate = pv_cli_opt(api, "rate");
    if (rate != NULL) {
        char *end = NULL;
        long r = strtol(rate, &end, 10);
        if (end == rate || (strcmp(end, "") != 0 && strcmp(end, "/s") != 0) || r < 1) {
            json_decref(body);
            pv_cli_errorf("--rate takes N or N/s (NOTIFYs per second)");
            return PV_EXIT_USAGE;
        }
        json_object_set_new(body, "rate", json_integer(r));
    }
    return post_job(api, body, true);
}

int pv_cli_device_resync(pv_cli_api *api, int argc, char **argv)
{
    return run(api, "resync", argc, argv);
}

int pv_cli_device_reboot(pv_cli_api *api, int argc, char **argv)
{
    return run(api, "reboot", argc, argv);
}

int pv_cli_device_report_request(pv_cli_api *api, int argc, char **argv)
{
    return run(api, "report-request", argc, argv);
}

/* ---- --notify: the devices whose rendered profile changed ---- */

struct pv_cli_renders {
    size_t n;
    char (*mac)[13];
    char (*hash)[65];
};

/* SHA-256 of mac's plain render; "" when it cannot be rendered (no account...). */
static void render_hash(pv_cli_api *api, const char *mac, char out[65])
{
    char path[64];
    snprintf(path, sizeof path, "/devices/%s/render?plain=1", mac);
    pv_buf body = {0};
    out[0] = '\0';
    if (pv_cli_fetch_raw(api, path, &body) == PV_EXIT_OK) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        EVP_Digest(body.data ? body.data : "", body.len, md, &len, EVP_sha256(), NULL);
        pv_hex_encode(md, 32, out);
    }
    pv_buf_free(&body);
}

int pv_cli_renders_take(pv_cli_api *api, const char *scope, pv_cli_renders **out)
{
    json_t *items = NULL;
    int rc;
    const char *colon = strchr(scope, ':');
    if (strncmp(scope, "device:", 7) == 0) {
        items = json_array();
        json_array_append_new(items, json_pack("{s:s}", "mac", scope + 7));
        rc = PV_EXIT_OK;
    } else if (strncmp(scope, "account:", 8) == 0) {
        pv_buf b = {0};
        pv_buf_append_str(&b, "/devices?account=");
        pv_http_client_escape(&b, scope + 8);
        rc = pv_cli_list_all(api, b.data, &items);
        pv_buf_free(&b);
    } else {
        rc = pv_cli_list_all(api, "/devices", &items);
    }
    if (rc != PV_EXIT_OK)
        return rc;
    pv_cli_renders *r = pv_calloc(1, sizeof *r);
    size_t cap = json_array_size(items) ? json_array_size(items) : 1;
    r->mac = pv_calloc(cap, sizeof *r->mac);
    r->hash = pv_calloc(cap, sizeof *r->hash);
    size_t i;
    json_t *d;
    json_array_foreach(items, i, d) {
        const char *mac = json_string_value(json_object_get(d, "mac"));
        const char *model = json_string_value(json_object_get(d, "model"));
        if (mac == NULL || (strncmp(scope, "model:", 6) == 0 &&
                            (model == NULL || colon == NULL || strcmp(model, colon + 1) != 0)))
            continue;
        snprintf(r->mac[r->n], sizeof r->mac[0], "%s", mac);
        render_hash(api, mac, r->hash[r->n]);
        r->n++;
    }
    json_decref(items);
    *out = r;
    return PV_EXIT_OK;
}

void pv_cli_renders_free(pv_cli_renders *r)
{
    if (r == NULL)
        return;
    free(r->mac);
    free(r->hash);
    free(r);
}

int pv_cli_notify_changed(pv_cli_api *api, pv_cli_renders *before)
{
    json_t *macs = json_array();
    for (size_t i = 0; i < before->n; i++) {
        char now[65];
        render_hash(api, before->mac[i], now);
        if (strcmp(now, before->hash[i]) != 0 && now[0] != '\0')
            json_array_append_new(macs, json_string(before->mac[i]));
    }
    pv_cli_renders_free(before);
    if (json_array_size(macs) == 0) {
        json_decref(macs);
        if (!pv_cli_json(api))
            printf("notify: no device's profile changed\n");
        return PV_EXIT_OK;
    }
    return post_job(api, json_pack("{s:s, s:o}", "action", "resync", "macs", macs), false);
}

/* ---- provisor job ---- */

static int job_list(pv_cli_api *api, int argc, char **argv)
{
    static const pv_cli_column cols[] = {{"ID", "id"},         {"ACTION", "action"},
                                         {"SUBJECT", "subject"}, {"TOTAL", "total"},
                                         {"DONE", "done"},     {"FINISHED", "finished"},
                                         {"ACTOR", "actor"}};
    return pv_cli_list_table(api, "/jobs", cols, sizeof cols / sizeof cols[0]);
}

static int job_show(pv_cli_api *api, int argc, char **argv)
{
    char *path = pv_cli_path("/jobs", argv[0], NULL);
    json_t *job = NULL;
    int rc = pv_cli_call(api, "GET", path, NULL, &job);
    free(path);
    return rc != PV_EXIT_OK ? rc : pv_cli_follow_job(api, job, false); /* shown, not judged */
}

static const pv_cli_action job_actions[] = {
    {"list", "", 0, 0, "", "device action jobs, newest first (kept in the store)", job_list},
    {"show", "ID", 1, 1, "wait,timeout=",
     "a job's counts by outcome and each device's outcome (--wait: until it finished)",
     job_show},
};

int pv_cmd_job(int argc, char **argv)
{
    return pv_cli_resource_main("job",
                                "Device action jobs: SIP NOTIFY resync, reboot, report "
                                "(spec 5.5) and each device's outcome.",
                                job_actions, sizeof job_actions / sizeof job_actions[0], argc,
                                argv);
}
