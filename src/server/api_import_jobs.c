/*
 * api_import_jobs.c — CSV device imports run by the server (issue 13; server/import_job.h):
 *
 *   POST /import-jobs?file=NAME   the CSV itself as the body (text/csv, bounded by the admin
 *                                 listener's [admin] max_body_bytes): 202 with the job, 409
 *                                 while another job runs, 422 for a file that is no import
 *   GET  /import-jobs             the jobs, newest first (without their files)
 *   GET  /import-jobs/{id}        one job: state, progress, counts, its first errors
 *   GET  /import-jobs/{id}/errors its error report, text/csv "line,mac,reason" in line order
 *
 * The job is applied by the admin loop (api.c's runner), not by the request: the answer comes
 * at once and the import goes on whoever waits for it. The upload's audit entry
 * "device.import_job.started" names the caller; the runner's "device.import_job.finished" the
 * same person.
 */
#include "core/alloc.h"
#include "core/buf.h"
#include "core/text.h"
#include "server/api.h"
#include "server/api_int.h"
#include "server/import_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Errors shown with a job (GET /import-jobs/{id}); the rest are in the report. */
#define FIRST_ERRORS 10

static json_t *job_json(const pv_store_import_job *j)
{
    json_t *v = json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:I, s:o}",
        "id", (json_int_t)j->id, "name", j->name ? j->name : "", "file_name",
        j->file_name ? j->file_name : "", "actor", j->actor ? j->actor : "", "state", j->state,
        "size", (json_int_t)j->size, "rows", (json_int_t)j->total, "done",
        (json_int_t)j->done_rows, "next_line", (json_int_t)j->next_line, "created",
        (json_int_t)j->created, "updated", (json_int_t)j->updated, "unchanged",
        (json_int_t)j->unchanged, "errors", (json_int_t)j->errors, "reason",
        j->reason ? j->reason : "", "created_at", (json_int_t)j->created_at, "updated_at",
        (json_int_t)j->updated_at, "finished_at",
        j->finished_at ? json_integer((json_int_t)j->finished_at) : json_null());
    char url[64];
    snprintf(url, sizeof url, PV_API_PREFIX "import-jobs/%lld/errors", (long long)j->id);
    json_object_set_new(v, "errors_url", json_string(url));
    return v;
}

/* The file's name as given (?file=), for people: one line of text, at most 200 bytes. */
static char *file_name(pv__api_ctx *ctx)
{
    char *name = pv__api_query(ctx, "file");
    if (name == NULL)
        return pv_strdup("");
    pv_error err = {""};
    if (strlen(name) > 200 || pv_text_check(pv_slice_from(name), 0, "file", &err) != 0) {
        pv__api_fail(ctx, 422, "invalid", "file",
                     "a file name is one line of text of at most 200 bytes");
        free(name);
        return NULL;
    }
    return name;
}

void pv__api_import_job_create(pv__api_ctx *ctx)
{
    char *name = file_name(ctx);
    if (name == NULL)
        return;
    pv_store_import_job j;
    int64_t running = 0;
    pv_error err = {""};
    int rc = pv_store_begin(ctx->store, &err);
    if (rc == 0)
        rc = pv_import_job_create(ctx->store, ctx->actor, name, ctx->req->body, ctx->now, &j,
                                  &running, &err);
    free(name);
    if (rc == PV_EBUSY || rc == PV_EFORMAT || rc == PV_ESYNTAX) {
        pv_store_rollback(ctx->store);
        if (rc == PV_EBUSY)
            pv__api_fail(ctx, 409, "busy", NULL, "%s", err.msg);
        else
            pv__api_fail(ctx, 422, "invalid", "file", "%s", err.msg);
        return;
    }
    char subject[48];
    snprintf(subject, sizeof subject, "import:%lld", rc == 0 ? (long long)j.id : 0LL);
    json_t *detail = rc == 0 ? json_pack("{s:s, s:s, s:I, s:I}", "file", j.name, "file_name",
                                         j.file_name, "rows", (json_int_t)j.total, "size",
                                         (json_int_t)j.size)
                             : NULL;
    if (pv__api_finish(ctx, rc, &err, NULL, "device.import_job.started", subject, detail))
        pv__api_reply(ctx, 202, job_json(&j));
    if (rc == 0)
        pv_store_import_job_free(&j);
}

static int list_jobs(pv__api_ctx *ctx, pv_store_page *page, json_t *items, pv_error *err)
{
    pv_store_import_job *rows = NULL;
    size_t n = 0;
    int rc = pv_store_import_job_list(ctx->store, page, &rows, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        json_array_append_new(items, job_json(&rows[i]));
    pv_store_import_jobs_free(rows, n);
    return rc;
}

void pv__api_import_jobs_list(pv__api_ctx *ctx)
{
    pv__api_list(ctx, list_jobs);
}

static bool get_job(pv__api_ctx *ctx, pv_store_import_job *j)
{
    char *end = NULL;
    unsigned long long v = strtoull(ctx->params[0], &end, 10);
    if (end == ctx->params[0] || *end != '\0' || v == 0 || v > INT64_MAX) {
        pv__api_fail(ctx, 404, "not_found", NULL, "no import job %s", ctx->params[0]);
        return false;
    }
    pv_error err = {""};
    int rc = pv_store_import_job_get(ctx->store, (int64_t)v, false, j, &err);
    if (rc != 0)
        pv__api_fail_store(ctx, rc, &err, NULL);
    return rc == 0;
}

static json_t *error_json(const pv_store_import_error *e)
{
    json_t *mac = json_string(e->mac); /* NULL: not UTF-8 (the row's error says so) */
    return json_pack("{s:I, s:o, s:s, s:s}", "line", (json_int_t)e->line, "mac",
                     mac ? mac : json_string(""), "field", e->field, "message", e->reason);
}

void pv__api_import_job_get(pv__api_ctx *ctx)
{
    pv_store_import_job j;
    if (!get_job(ctx, &j))
        return;
    pv_store_import_error *rows = NULL;
    size_t n = 0;
    pv_error err = {""};
    json_t *v = job_json(&j), *first = json_array();
    if (pv_store_import_error_list(ctx->store, j.id, 0, FIRST_ERRORS, &rows, &n, &err) == 0)
        for (size_t i = 0; i < n; i++)
            json_array_append_new(first, error_json(&rows[i]));
    free(rows);
    json_object_set_new(v, "first_errors", first);
    pv_store_import_job_free(&j);
    pv__api_reply(ctx, 200, v);
}

/* RFC 4180: a field with a comma, a quote or a line break goes in quotes, its quotes doubled. */
static void csv_field(pv_buf *b, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        pv_buf_append_str(b, s);
        return;
    }
    pv_buf_append_char(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            pv_buf_append_char(b, '"');
        pv_buf_append_char(b, *s);
    }
    pv_buf_append_char(b, '"');
}

/* The whole report: at most PV_IMPORT_ERRORS_KEPT rows, read in pages of 1 000 lines. */
void pv__api_import_job_errors(pv__api_ctx *ctx)
{
    pv_store_import_job j;
    if (!get_job(ctx, &j))
        return;
    pv_buf out = {0};
    pv_buf_append_str(&out, "line,mac,reason\r\n");
    int64_t after = 0;
    pv_error err = {""};
    int rc = 0;
    for (;;) {
        pv_store_import_error *rows = NULL;
        size_t n = 0;
        rc = pv_store_import_error_list(ctx->store, j.id, after, 1000, &rows, &n, &err);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            char reason[360];
            snprintf(reason, sizeof reason, "%s: %s", rows[i].field, rows[i].reason);
            pv_buf_appendf(&out, "%lld,", (long long)rows[i].line);
            csv_field(&out, rows[i].mac);
            pv_buf_append_char(&out, ',');
            csv_field(&out, reason);
            pv_buf_append_str(&out, "\r\n");
            after = rows[i].line;
        }
        free(rows);
        if (rc != 0 || n < 1000)
            break;
    }
    if (rc != 0) {
        pv_buf_free(&out);
        pv_store_import_job_free(&j);
        pv__api_fail_store(ctx, rc, &err, NULL);
        return;
    }
    ctx->status = 200;
    ctx->raw = pv_buf_take(&out, &ctx->raw_len);
    ctx->raw_type = "text/csv; charset=utf-8";
    snprintf(ctx->raw_disposition, sizeof ctx->raw_disposition,
             "attachment; filename=\"import-%lld-errors.csv\"", (long long)j.id);
    pv_store_import_job_free(&j);
}
