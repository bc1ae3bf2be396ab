/*
 * cmd_device.c — `provisor device ...` over the admin API (docs/api.md):
 * devices by MAC, assignment, state, what a phone would receive (render),
 * its last report, fleet status, and the bulk CSV import (issue 4, "Bulk
 * distribution").
 *
 * Import: the CSV (server/import.h) goes to POST /devices:import in batches
 * of --batch rows (default 1 000), each one transaction on the server with
 * the job's checkpoint. The job is named after the file's SHA-256 unless
 * --job says otherwise; a second run of the same file asks the server where
 * the last committed batch ended and resumes there (--restart sends every
 * row again, which changes nothing already imported: rows are upserts).
 */
#include "cli/cli.h"

#include "core/alloc.h"
#include "net/http_client.h"
#include "server/import.h"
#include "store/store.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int device_list(pv_cli_api *api, int argc, char **argv)
{
    static const pv_cli_column cols[] = {{"MAC", "mac"},
                                         {"MODEL", "model"},
                                         {"ACCOUNT", "account"},
                                         {"STATE", "state"},
                                         {"FIRMWARE", "firmware_version"},
                                         {"LAST_SEEN", "last_seen"}};
    /* each option is the API's filter of the same name (docs/api.md, GET /devices) */
    static const char *const filters[][2] = {
        {"account", "account"},         {"mac-prefix", "mac_prefix"},
        {"state", "state"},             {"model", "model"},
        {"firmware", "firmware"},       {"seen-within", "seen_within"},
        {"not-seen-for", "not_seen_for"}};
    pv_buf b = {0};
    pv_buf_append_str(&b, "/devices");
    char sep = '?';
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
        const char *v = pv_cli_opt(api, filters[i][0]);
        if (v == NULL)
            continue;
        pv_buf_appendf(&b, "%c%s=", sep, filters[i][1]);
        pv_http_client_escape(&b, v);
        sep = '&';
    }
    if (pv_cli_opt(api, "never-seen"))
        pv_buf_appendf(&b, "%cnever_seen=1", sep);
    char *path = pv_buf_take(&b, NULL);
    int rc = pv_cli_list_table(api, path, cols, 6);
    free(path);
    return rc;
}

static int device_get(pv_cli_api *api, const char *mac, const char *suffix)
{
    char *path = pv_cli_path("/devices", mac, suffix);
    json_t *d = NULL;
    int rc = pv_cli_call(api, "GET", path, NULL, &d);
    free(path);
    return pv_cli_show(api, rc, d);
}

static int device_show(pv_cli_api *api, int argc, char **argv)
{
    return device_get(api, argv[0], NULL);
}

/* --model, --serial, --account, --fingerprint, --state, --require-cert / --no-require-cert */
static json_t *device_body(pv_cli_api *api)
{
    json_t *b = json_object();
    static const char *const map[][2] = {{"model", "model"},
                                         {"serial", "serial"},
                                         {"account", "account"},
                                         {"fingerprint", "cert_fingerprint"},
                                         {"state", "state"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        const char *v = pv_cli_opt(api, map[i][0]);
        if (v) /* an empty value clears the field */
            json_object_set_new(b, map[i][1], v[0] ? json_string(v) : json_null());
    }
    if (pv_cli_opt(api, "require-cert"))
        json_object_set_new(b, "require_cert", json_true());
    if (pv_cli_opt(api, "no-require-cert"))
        json_object_set_new(b, "require_cert", json_false());
    return b;
}

static int device_create(pv_cli_api *api, int argc, char **argv)
{
    json_t *b = device_body(api);
    json_object_set_new(b, "mac", json_string(argv[0]));
    json_t *d = NULL;
    int rc = pv_cli_call(api, "POST", "/devices", b, &d);
    return pv_cli_show(api, rc, d);
}

static int device_send(pv_cli_api *api, const char *method, const char *mac, const char *suffix,
                       json_t *body)
{
    char *path = pv_cli_path("/devices", mac, suffix);
    json_t *d = NULL;
    int rc = pv_cli_call(api, method, path, body, &d);
    free(path);
    return pv_cli_show(api, rc, d);
}

static int device_update(pv_cli_api *api, int argc, char **argv)
{
    return device_send(api, "PATCH", argv[0], NULL, device_body(api));
}

static int device_delete(pv_cli_api *api, int argc, char **argv)
{
    char *path = pv_cli_path("/devices", argv[0], NULL);
    int rc = pv_cli_call(api, "DELETE", path, NULL, NULL);
    free(path);
    if (rc == PV_EXIT_OK && !pv_cli_json(api))
        printf("deleted %s\n", argv[0]);
    return rc;
}

static int device_assign(pv_cli_api *api, int argc, char **argv)
{
    return device_send(api, "POST", argv[0], "/assign", json_pack("{s:s}", "account", argv[1]));
}

static int device_release(pv_cli_api *api, int argc, char **argv)
{
    return device_send(api, "POST", argv[0], "/release", NULL);
}

static int device_rotate_key(pv_cli_api *api, int argc, char **argv)
{
    return device_send(api, "POST", argv[0], "/rotate-key", NULL);
}

static int device_state(pv_cli_api *api, int argc, char **argv)
{
    json_t *b = json_pack("{s:s}", "state", argv[1]);
    if (pv_cli_opt(api, "from"))
        json_object_set_new(b, "from", json_string(pv_cli_opt(api, "from")));
    return device_send(api, "PUT", argv[0], "/state", b);
}

static int device_render(pv_cli_api *api, int argc, char **argv)
{
    char *path =
        pv_cli_path("/devices", argv[0], pv_cli_opt(api, "plain") ? "/render?plain=1" : "/render");
    int rc = pv_cli_get_raw(api, path);
    free(path);
    return rc;
}

static int device_report(pv_cli_api *api, int argc, char **argv)
{
    return device_get(api, argv[0], "/report");
}

static int device_status(pv_cli_api *api, int argc, char **argv)
{
    json_t *s = NULL;
    int rc = pv_cli_call(api, "GET", "/status", NULL, &s);
    if (rc != PV_EXIT_OK || pv_cli_json(api))
        return pv_cli_show(api, rc, s);
    printf("devices %lld, assigned %lld\n",
           (long long)json_integer_value(json_object_get(s, "devices")),
           (long long)json_integer_value(json_object_get(s, "assigned")));
    static const char *const groups[][2] = {{"by_state", "STATE"},
                                            {"by_model", "MODEL"},
                                            {"by_firmware", "FIRMWARE"},
                                            {"last_seen", "LAST_SEEN"}};
    for (size_t g = 0; g < 4; g++) {
        json_t *items = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(s, groups[g][0]), k, v)
        {
            json_array_append_new(items, json_pack("{s:s, s:O}", "key", k, "count", v));
        }
        pv_cli_column cols[] = {{groups[g][1], "key"}, {"DEVICES", "count"}};
        printf("\n");
        pv_cli_print_table(api, items, cols, 2);
        json_decref(items);
    }
    json_decref(s);
    return PV_EXIT_OK;
}

/* ---- import ---- */

typedef struct import_run {
    json_int_t created, updated, unchanged, skipped, errors;
    json_t *error_list;
    size_t done, total;
    bool bar;
    time_t last_draw;
} import_run;

static void progress(import_run *run, bool final)
{
    if (!run->bar)
        return;
    time_t now = time(NULL);
    if (!final && now == run->last_draw)
        return;
    run->last_draw = now;
    size_t total = run->total ? run->total : 1;
    int filled = (int)(40 * (run->done > total ? total : run->done) / total);
    fprintf(stderr, "\rimporting [%.*s%*s] %zu/%zu rows", filled,
            "########################################", 40 - filled, "", run->done, run->total);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

static void add_error(import_run *run, size_t line, const char *field, const char *msg)
{
    run->errors++;
    json_array_append_new(run->error_list, json_pack("{s:I, s:s, s:s}", "line", (json_int_t)line,
                                                     "field", field, "message", msg));
}

static int send_batch(pv_cli_api *api, const char *job, json_t *rows, size_t next_line,
                      import_run *run)
{
    json_t *answer = NULL;
    size_t n = json_array_size(rows);
    int rc = pv_cli_call(api, "POST", "/devices:import",
                         json_pack("{s:s, s:I, s:O}", "job", job, "next_line",
                                   (json_int_t)next_line, "devices", rows),
                         &answer);
    if (rc == PV_EXIT_OK) {
        run->created += json_integer_value(json_object_get(answer, "created"));
        run->updated += json_integer_value(json_object_get(answer, "updated"));
        run->unchanged += json_integer_value(json_object_get(answer, "unchanged"));
        json_t *errs = json_object_get(answer, "errors");
        run->errors += (json_int_t)json_array_size(errs);
        json_array_extend(run->error_list, errs);
        run->done += n;
        progress(run, false);
    }
    json_decref(answer);
    json_array_clear(rows);
    return rc;
}

/* Where the job's last committed batch ended (1 = from the start), and the errors the
 * server kept for the rows before it: a resumed run reports them again. */
static int resume_line(pv_cli_api *api, const char *job, size_t *line, import_run *run)
{
    *line = 1;
    if (pv_cli_opt(api, "restart"))
        return PV_EXIT_OK;
    char *path = pv_cli_path("/imports", job, NULL);
    json_t *answer = NULL;
    int status = 0;
    int rc = pv_cli_call_status(api, "GET", path, NULL, &answer, &status);
    free(path);
    if (rc == PV_EXIT_OK) {
        *line = (size_t)json_integer_value(json_object_get(answer, "next_line"));
        json_t *kept = json_object_get(answer, "errors");
        run->errors += (json_int_t)json_array_size(kept);
        json_array_extend(run->error_list, kept);
    }
    json_decref(answer);
    return rc == PV_EXIT_OK || status == 404 ? PV_EXIT_OK : rc;
}

/* A row the file itself gets wrong (import.h), added to the run's errors. */
static bool row_fault(pv_import_seen *seen, const pv_import_row *row, import_run *run)
{
    const char *field = NULL;
    char msg[200];
    if (!pv_import_fault(seen, row, &field, msg, sizeof msg))
        return false;
    add_error(run, row->line, field, msg);
    return true;
}

static int by_line(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "line"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "line"));
    return (x > y) - (x < y);
}

/* The errors in line order (batches and resumes gather them out of order). */
static void sort_errors(json_t *list)
{
    size_t n = json_array_size(list);
    json_t **v = pv_calloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(list, i));
    qsort(v, n, sizeof *v, by_line);
    json_array_clear(list);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, v[i]);
    free(v);
}

static void import_summary(pv_cli_api *api, import_run *run, const char *job)
{
    sort_errors(run->error_list);
    if (pv_cli_json(api)) {
        json_t *o =
            json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:O}", "job", job, "created", run->created,
                      "updated", run->updated, "unchanged", run->unchanged, "skipped", run->skipped,
                      "errors_count", run->errors, "errors", run->error_list);
        pv_cli_print_object(api, o);
        json_decref(o);
        return;
    }
    printf("import %s: created %lld, updated %lld, unchanged %lld, skipped %lld (already "
           "imported), errors %lld\n",
           job, (long long)run->created, (long long)run->updated, (long long)run->unchanged,
           (long long)run->skipped, (long long)run->errors);
    size_t i;
    json_t *e;
    json_array_foreach(run->error_list, i, e)
    {
        printf("  line %lld: %s: %s\n", (long long)json_integer_value(json_object_get(e, "line")),
               json_string_value(json_object_get(e, "field")),
               json_string_value(json_object_get(e, "message")));
    }
}

static int device_import(pv_cli_api *api, int argc, char **argv)
{
    pv_buf file = {0};
    pv_error err = {""};
    pv_import_reader r;
    if (pv_cli_read_file(argv[0], PV_CLI_MAX_FILE, &file, &err) != 0) {
        pv_cli_errorf("%s", err.msg); /* it names the file */
        pv_buf_free(&file);
        return PV_EXIT_FAILURE;
    }
    if (pv_import_open(&r, pv_buf_slice(&file), &err) != 0) {
        pv_cli_errorf("%s: %s", argv[0], err.msg);
        pv_buf_free(&file);
        return PV_EXIT_FAILURE;
    }
    long batch = pv_cli_opt(api, "batch") ? strtol(pv_cli_opt(api, "batch"), NULL, 10) : 1000;
    if (batch < 1 || batch > 5000) {
        pv_cli_errorf("--batch: want 1 to 5000 rows");
        pv_buf_free(&file);
        return PV_EXIT_USAGE;
    }
    char job[40];
    if (pv_cli_opt(api, "job"))
        snprintf(job, sizeof job, "%.39s", pv_cli_opt(api, "job"));
    else
        pv_import_job_name(pv_buf_slice(&file), job);
    import_run run = {.error_list = json_array(), .bar = isatty(STDERR_FILENO) == 1};
    run.total = pv_import_count(&r);
    size_t from = 1;
    int rc = resume_line(api, job, &from, &run);
    json_t *rows = json_array();
    pv_import_seen seen;
    pv_import_seen_init(&seen, run.total);
    pv_import_row row;
    while (rc == PV_EXIT_OK && pv_import_next(&r, &row) == 1) {
        if (row_fault(&seen, &row, &run)) {
            run.done++;
        } else if (row.line < from) {
            run.skipped++;
            run.done++;
        } else {
            json_t *o = json_pack("{s:I, s:s}", "line", (json_int_t)row.line, "mac",
                                  row.field[PV_IMPORT_MAC]);
            static const char *const keys[] = {NULL, "model", "account", "serial"};
            for (int c = PV_IMPORT_MODEL; c < PV_IMPORT__COLS; c++)
                if (row.field[c])
                    json_object_set_new(o, keys[c], json_string(row.field[c]));
            json_array_append_new(rows, o);
        }
        pv_import_row_free(&row);
        if (rc == PV_EXIT_OK && json_array_size(rows) >= (size_t)batch)
            rc = send_batch(api, job, rows, r.line, &run);
    }
    if (rc == PV_EXIT_OK && json_array_size(rows) > 0)
        rc = send_batch(api, job, rows, r.line + 1, &run);
    progress(&run, true);
    pv_import_seen_free(&seen);
    json_decref(rows);
    pv_buf_free(&file);
    if (rc != PV_EXIT_OK)
        pv_cli_errorf("job %s stopped; committed batches stay: run the same command again to "
                      "resume",
                      job);
    else
        import_summary(api, &run, job);
    json_decref(run.error_list);
    return rc != PV_EXIT_OK ? rc : run.errors ? PV_EXIT_FAILURE : PV_EXIT_OK;
}

static const pv_cli_action device_actions[] = {
    {"list", "", 0, 0,
     "account=,mac-prefix=,state=,model=,firmware=,seen-within=,not-seen-for=,never-seen",
     "list devices (filters: --account, --mac-prefix, --state, --model, --firmware; last seen: "
     "--seen-within AGE, --not-seen-for AGE such as 7d, --never-seen)",
     device_list},
    {"show", "MAC", 1, 1, "", "show one device", device_show},
    {"create", "MAC", 1, 1, "model=,serial=,account=,fingerprint=,state=,require-cert",
     "add a device", device_create},
    {"update", "MAC", 1, 1,
     "model=,serial=,account=,fingerprint=,state=,require-cert,no-require-cert",
     "change fields of a device (an empty value clears one)", device_update},
    {"delete", "MAC", 1, 1, "", "delete a device", device_delete},
    {"assign", "MAC ACCOUNT", 2, 2, "", "assign a device to an account", device_assign},
    {"release", "MAC", 1, 1, "",
     "release a bound device (account, pinned certificate, keys) so a code binds it again",
     device_release},
    {"rotate-key", "MAC", 1, 1, "",
     "give a bound device a new key and directory at its next resync (the old ones work "
     "until it fetches from the new directory)",
     device_rotate_key},
    {"state", "MAC STATE", 2, 2, "from=",
     "set the provisioning state (MFG-RESET, SP-CUST, SEC-PRV-1, SEC-PRV-2)", device_state},
    {"render", "MAC", 1, 1, "plain", "print what the phone would receive (--plain: unencrypted)",
     device_render},
    {"report", "MAC", 1, 1, "", "the last report and how it differs from the rendered profile",
     device_report},
    {"status", "", 0, 0, "", "fleet counts by state, model, firmware and last seen", device_status},
    {"resync", "[MAC...]", 0, 100000, "account=,model=,all,rate=,wait,timeout=",
     "SIP NOTIFY: the phones resync now (--wait: until each answered; --rate N/s)",
     pv_cli_device_resync},
    {"reboot", "[MAC...]", 0, 100000,
     "account=,model=,all,rate=,wait,timeout=", "SIP NOTIFY reboot_now", pv_cli_device_reboot},
    {"report-request", "[MAC...]", 0, 100000, "account=,model=,all,rate=,wait,timeout=",
     "SIP NOTIFY report: the phones upload their Report_Rule", pv_cli_device_report_request},
    {"import", "FILE.csv", 1, 1, "batch=,job=,restart",
     "bulk upsert by MAC from CSV (MAC,model,account[,serial]); resumable", device_import},
};

int pv_cmd_device(int argc, char **argv)
{
    return pv_cli_resource_main("device", "Devices (phones and ATAs) by MAC address.",
                                device_actions, sizeof device_actions / sizeof device_actions[0],
                                argc, argv);
}
