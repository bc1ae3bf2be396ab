/*
 * api_import.c — bulk distribution in the admin API (issue 4): the device
 * import endpoint, its checkpoints, and the fleet status counts.
 *
 * POST /devices:import takes one batch of rows (the CLI sends 1 000 at a
 * time) and applies it in ONE transaction together with the job's checkpoint
 * (meta "import:<job>" = the next line to send) and one audit entry: after a
 * crash either the whole batch and its checkpoint are there or neither is,
 * so a resumed import neither loses nor repeats a row. Rows are upserts by
 * MAC, so even a re-run from the start changes nothing it already did.
 * A bad row (MAC, unknown account, a model no one knows: server/models.h) is
 * reported with its line and skipped; it does not fail the batch. The job's
 * errors are kept with its checkpoint (meta "import-errors:<job>"), so a re-run
 * that resumes past them still reports them (issue 13: it said "errors 0").
 */
#include "core/alloc.h"
#include "server/api_int.h"
#include "server/import_apply.h"
#include "server/prov_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_MAX_ROWS 5000

typedef struct import_counts {
    json_int_t created, updated, unchanged;
    json_t *errors;
} import_counts;

/* One row: 0 (counted or reported) or a store failure that aborts the batch. */
static int import_row(pv__api_ctx *ctx, pv_import_apply *apply, const json_t *row, size_t index,
                      import_counts *c, pv_error *err)
{
    static const pv__api_field fields[] = {
        {"line", PV_API_INT, false},           {"mac", PV_API_STRING, true},
        {"model", PV_API_STRING_NULL, false},  {"account", PV_API_STRING_NULL, false},
        {"serial", PV_API_STRING_NULL, false},
    };
    char prefix[48], msg[300];
    snprintf(prefix, sizeof prefix, "devices[%zu]", index);
    /* a malformed row is the client's bug, not bad data: the whole request is refused */
    if (!pv__api_check(ctx, row, prefix, fields, 5))
        return PV_EINVAL;
    pv_import_outcome out;
    const char *field = NULL;
    int rc = pv_import_apply_row(apply, pv__api_str(row, "mac"), pv__api_str(row, "model"),
                                 pv__api_str(row, "account"), pv__api_str(row, "serial"), &out,
                                 &field, msg, sizeof msg, err);
    if (rc != 0)
        return rc;
    json_int_t *count[] = {&c->created, &c->updated, &c->unchanged};
    if (out != PV_IMPORT_REFUSED)
        *count[out] += 1;
    else
        json_array_append_new(c->errors,
                              json_pack("{s:I, s:s, s:s}", "line",
                                        json_integer_value(json_object_get(row, "line")),
                                        "field", field, "message", msg));
    return 0;
}

/* The errors a job keeps between runs (at most this many; the count goes on). */
#define IMPORT_ERRORS_KEPT 1000

/*
 * The job's kept errors with this batch's: those from the batch's first line on
 * are replaced (a batch sent again, a --restart from line 2), the earlier ones
 * stay. In the batch's transaction, like the checkpoint.
 */
static int keep_errors(pv__api_ctx *ctx, const char *job, const json_t *rows, json_t *errors,
                       pv_error *err)
{
    json_int_t first = -1;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        json_int_t line = json_integer_value(json_object_get(row, "line"));
        if (first < 0 || line < first)
            first = line;
    }
    if (first < 0)
        return 0;
    char key[96];
    snprintf(key, sizeof key, "import-errors:%s", job);
    pv_buf old = {0};
    int rc = pv_store_meta_get(ctx->store, key, &old, err);
    if (rc != 0 && rc != PV_ENOENT) {
        pv_buf_free(&old);
        return rc;
    }
    json_t *kept = rc == 0 ? json_loadb(old.data ? old.data : "", old.len, 0, NULL) : NULL;
    pv_buf_free(&old);
    json_t *merged = json_array();
    json_t *e;
    json_array_foreach(kept, i, e)
    {
        if (json_integer_value(json_object_get(e, "line")) < first)
            json_array_append(merged, e);
    }
    json_decref(kept);
    json_array_foreach(errors, i, e)
    {
        if (json_array_size(merged) < IMPORT_ERRORS_KEPT)
            json_array_append(merged, e);
    }
    char *text = json_dumps(merged, JSON_COMPACT);
    json_decref(merged);
    rc = pv_store_meta_set(ctx->store, key, text, strlen(text), err);
    free(text);
    return rc;
}

static bool check_job(pv__api_ctx *ctx, const char *job, const char *field)
{
    size_t len = strlen(job);
    bool ok = len > 0 && len <= 64;
    for (size_t i = 0; ok && i < len; i++)
        ok = (job[i] >= 'a' && job[i] <= 'z') || (job[i] >= '0' && job[i] <= '9') ||
             job[i] == '-' || job[i] == '_' || job[i] == '.';
    if (!ok)
        pv__api_fail(ctx, 422, "invalid", field,
                     "a job name has 1 to 64 characters from a-z, 0-9, '-', '_', '.'");
    return ok;
}

void pv__api_devices_import(pv__api_ctx *ctx)
{
    static const pv__api_field fields[] = {
        {"job", PV_API_STRING, true},
        {"next_line", PV_API_INT, false},
        {"devices", PV_API_ARRAY, true},
    };
    if (!pv__api_body(ctx, fields, 3))
        return;
    const char *job = pv__api_str(ctx->body, "job");
    json_t *rows = json_object_get(ctx->body, "devices");
    if (!check_job(ctx, job, "job"))
        return;
    if (json_array_size(rows) > IMPORT_MAX_ROWS) {
        pv__api_fail(ctx, 413, "too_large", "devices", "at most %d devices per request, got %zu",
                     IMPORT_MAX_ROWS, json_array_size(rows));
        return;
    }
    import_counts c = {.errors = json_array()};
    pv_import_apply apply = {.store = ctx->store,
                             .known_models = ctx->policy ? ctx->policy->known_models : NULL,
                             .now = ctx->now};
    pv_error err = {""};
    int rc = pv_store_begin(ctx->store, &err);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (rc != 0)
            break;
        rc = import_row(ctx, &apply, row, i, &c, &err);
    }
    pv_import_apply_free(&apply);
    char key[96], next[32];
    snprintf(key, sizeof key, "import:%s", job);
    json_t *nl = json_object_get(ctx->body, "next_line");
    int n = snprintf(next, sizeof next, "%lld", (long long)json_integer_value(nl));
    if (rc == 0 && nl != NULL)
        rc = pv_store_meta_set(ctx->store, key, next, (size_t)n, &err);
    if (rc == 0)
        rc = keep_errors(ctx, job, rows, c.errors, &err);
    if (rc != 0) {
        pv_store_rollback(ctx->store);
        json_decref(c.errors);
        if (ctx->status == 0)
            pv__api_fail_store(ctx, rc, &err, NULL);
        return;
    }
    json_t *counts =
        json_pack("{s:I, s:I, s:I, s:I}", "created", c.created, "updated", c.updated, "unchanged",
                  c.unchanged, "errors", (json_int_t)json_array_size(c.errors));
    json_object_set_new(counts, "next_line", json_deep_copy(nl ? nl : json_null()));
    if (!pv__api_commit(ctx, "device.import", key, json_deep_copy(counts))) {
        json_decref(c.errors);
        json_decref(counts);
        return;
    }
    json_object_set_new(counts, "errors", c.errors);
    json_object_set_new(counts, "job", json_string(job));
    pv__api_reply(ctx, 200, counts);
}

void pv__api_import_get(pv__api_ctx *ctx)
{
    if (!check_job(ctx, ctx->params[0], "job"))
        return;
    char key[96];
    snprintf(key, sizeof key, "import:%s", ctx->params[0]);
    pv_buf value = {0}, errors = {0};
    pv_error err = {""};
    int rc = pv_store_meta_get(ctx->store, key, &value, &err);
    snprintf(key, sizeof key, "import-errors:%s", ctx->params[0]);
    json_t *kept = NULL;
    if (rc == 0 && pv_store_meta_get(ctx->store, key, &errors, NULL) == 0)
        kept = json_loadb(errors.data ? errors.data : "", errors.len, 0, NULL);
    pv_buf_free(&errors);
    if (rc == 0)
        pv__api_reply(ctx, 200,
                      json_pack("{s:s, s:I, s:o}", "job", ctx->params[0], "next_line",
                                (json_int_t)strtoll(value.data ? value.data : "0", NULL, 10),
                                "errors", kept ? kept : json_array()));
    else if (rc == PV_ENOENT)
        pv__api_fail(ctx, 404, "not_found", NULL, "no import job '%s' has committed a batch",
                     ctx->params[0]);
    else
        pv__api_fail_store(ctx, rc, &err, NULL);
    pv_buf_free(&value);
}

/* ---- fleet status ---- */

static void bump(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    json_object_set_new(obj, key, json_integer(json_integer_value(v) + 1));
}

static const char *seen_bucket(int64_t last_seen, int64_t now)
{
    if (last_seen == 0)
        return "never";
    int64_t age = now - last_seen;
    if (age < 3600)
        return "1h";
    if (age < 86400)
        return "24h";
    return age < 7 * 86400 ? "7d" : "older";
}

/* Counts by state, model, firmware version and last-seen age, over every
 * device in pages (bounded memory whatever the fleet's size). */
void pv__api_status(pv__api_ctx *ctx)
{
    json_t *by_state = json_object(), *by_model = json_object(), *by_fw = json_object();
    json_t *seen =
        json_pack("{s:i, s:i, s:i, s:i, s:i}", "1h", 0, "24h", 0, "7d", 0, "older", 0, "never", 0);
    for (int st = PV_STATE_MFG_RESET; st <= PV_STATE_SEC_PRV_2; st++)
        json_object_set_new(by_state, pv_store_state_name((pv_store_state)st), json_integer(0));
    json_int_t total = 0, assigned = 0;
    pv_store_page page = {.limit = PV_STORE_PAGE_MAX};
    pv_error err = {""};
    int rc = 0;
    do {
        pv_store_device *rows = NULL;
        size_t n = 0;
        rc = pv_store_device_list(ctx->store, 0, &page, &rows, &n, &err);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            const pv_store_device *d = &rows[i];
            total++;
            assigned += d->account_id != 0;
            bump(by_state, pv_store_state_name(d->state));
            bump(by_model, d->model ? d->model : "(unknown)");
            bump(by_fw, d->firmware_version ? d->firmware_version : "(unknown)");
            bump(seen, seen_bucket(d->last_seen, ctx->now));
        }
        pv_store_devices_free(rows, n);
    } while (rc == 0 && page.after[0]);
    json_t *o = json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:I}", "devices", total, "assigned",
                          assigned, "by_state", by_state, "by_model", by_model, "by_firmware",
                          by_fw, "last_seen", seen, "at", (json_int_t)ctx->now);
    if (rc != 0) {
        json_decref(o);
        pv__api_fail_store(ctx, rc, &err, NULL);
        return;
    }
    pv__api_reply(ctx, 200, o);
}
