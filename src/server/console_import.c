/*
 * console_import.c — the CSV device import in the console (issue 13 item 1: "CSV import with
 * upload, progress and a downloadable error report"), run by the server, not the browser:
 *   - GET /import: the sample, a plain upload form (multipart/form-data: no script needed)
 *     and the import jobs, newest first;
 *   - POST /import: the form's file becomes the admin API's POST /api/v1/import-jobs, called
 *     as the session's login (console_upload.c), and the browser is sent to the job's page;
 *     a refusal (409 while another import runs, 422, 413) shows the form again with it;
 *   - GET /import/{id}: the job — state, progress, counts, the first errors in line order and
 *     the whole report to download (GET /api/v1/import-jobs/{id}/errors, a CSV). console.js
 *     polls the job while it runs; without the script, "Refresh" shows where it stands.
 * The job is the server's (server/import_job.h): closing the page changes nothing.
 */
#include "server/console_int.h"

#include "store/store_imports.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOBS_LISTED 10
#define ERRORS_SHOWN 20

/* template with {done}, {total}, {created}, {updated}, {unchanged}, {errors} filled. */
static void fill(pv_buf *out, const char *template, const pv_store_import_job *j)
{
    const struct {
        const char *key;
        int64_t v;
    } vals[] = {{"{done}", j->done_rows},   {"{total}", j->total},
                {"{created}", j->created},  {"{updated}", j->updated},
                {"{unchanged}", j->unchanged}, {"{errors}", j->errors}};
    for (const char *p = template; *p;) {
        size_t i = 0;
        for (; i < sizeof vals / sizeof vals[0]; i++)
            if (strncmp(p, vals[i].key, strlen(vals[i].key)) == 0)
                break;
        if (i < sizeof vals / sizeof vals[0]) {
            pv_buf_appendf(out, "%lld", (long long)vals[i].v);
            p += strlen(vals[i].key);
        } else {
            char c[2] = {*p++, '\0'};
            pv_html_escape(out, c);
        }
    }
}

/* The jobs, newest first: each a link to its page. */
static void jobs_table(pv_buf *page, pv__portal_req *r)
{
    pv_store_page pg = {.limit = JOBS_LISTED};
    pv_store_import_job *jobs = NULL;
    size_t n = 0;
    pv_error err = {""};
    if (pv_store_import_job_list(r->portal->store, &pg, &jobs, &n, &err) != 0 || n == 0) {
        pv_store_import_jobs_free(jobs, n);
        return;
    }
    pv_buf_append_str(page, "<h2 id=\"jobs-h\">");
    pv__portal_text(page, r, "import_jobs");
    pv_buf_append_str(page, "</h2>\n");
    static const char *const heads[] = {"import_job", "file", "state", "import_rows", "errors_n",
                                        "actor", "started"};
    pv__console_table_head(page, r, heads, 7);
    for (size_t i = 0; i < n; i++) {
        char at[40];
        pv__console_format_time(at, sizeof at, jobs[i].created_at);
        pv_buf_appendf(page, "<tr><td><a href=\"/import/%lld\">#%lld</a></td><td>",
                       (long long)jobs[i].id, (long long)jobs[i].id);
        pv_html_escape(page, jobs[i].file_name[0] ? jobs[i].file_name : jobs[i].name);
        pv_buf_appendf(page, "</td><td class=\"state-%s\">", jobs[i].state);
        pv__portal_text(page, r, strcmp(jobs[i].state, "running") == 0 ? "import_state_running"
                                 : strcmp(jobs[i].state, "done") == 0  ? "import_state_done"
                                                                       : "import_state_failed");
        pv_buf_appendf(page, "</td><td>%lld / %lld</td><td>%lld</td><td>",
                       (long long)jobs[i].done_rows, (long long)jobs[i].total,
                       (long long)jobs[i].errors);
        pv_html_escape(page, jobs[i].actor);
        pv_buf_appendf(page, "</td><td>%s</td></tr>\n", at);
    }
    pv_buf_append_str(page, "</tbody>\n</table>\n");
    pv_store_import_jobs_free(jobs, n);
}

/* The page; status/message: a refused upload to say under the form (status 0: none). */
static void import_page(pv__portal_req *r, int status, const char *message)
{
    pv_buf page = {0};
    pv__console_open_page(&page, r, "import_title");
    pv_buf_append_str(&page, "<p>");
    pv__portal_text(&page, r, "import_text");
    pv_buf_append_str(&page, "</p>\n<pre class=\"sample\">MAC,model,account,serial\n"
                             "00:0e:08:ab:cd:01,CP-8841-3PCC,acme,FCH2101A0B1\n"
                             "00:0e:08:ab:cd:02,SPA504G,acme,</pre>\n");
    if (!pv__console_can_change(r)) {
        pv_buf_append_str(&page, "<p>");
        pv__portal_text(&page, r, "role_refused");
        pv_buf_append_str(&page, "</p>\n");
    } else {
        pv_buf_append_str(&page, "<form class=\"edit\" id=\"import-form\" method=\"post\" "
                                 "action=\"/import\" enctype=\"multipart/form-data\">\n");
        pv__portal_csrf_field(&page, r);
        pv_buf_append_str(&page, "<div class=\"field\"><label for=\"import-file\">");
        pv__portal_text(&page, r, "import_file");
        pv_buf_append_str(&page, "</label>\n<input type=\"file\" id=\"import-file\" name=\"file\" "
                                 "required accept=\".csv,text/csv\"></div>\n<button "
                                 "type=\"submit\">");
        pv__portal_text(&page, r, "import_start");
        pv_buf_append_str(&page, "</button>\n</form>\n");
        if (status != 0) {
            pv_buf_appendf(&page, "<p class=\"error\" role=\"alert\" id=\"import-verdict\">%d — ",
                           status);
            pv_html_escape(&page, message);
            pv_buf_append_str(&page, "</p>\n");
        }
    }
    jobs_table(&page, r);
    pv__portal_page(r, &page, status >= 400 ? status : 200);
}

void pv__console_import_page(pv__portal_req *r)
{
    import_page(r, 0, "");
}

void pv__console_import_post(pv__portal_req *r)
{
    pv__console_upload up;
    pv_error err = {""};
    int rc = pv__console_form_file(r, "file", &up, &err);
    if (rc != 0) {
        pv__console_upload_free(&up);
        import_page(r, rc == PV_EINVAL ? 422 : 400, err.msg);
        return;
    }
    pv_buf path = {0};
    pv_buf_append_str(&path, "/api/v1/import-jobs?file=");
    pv__console_url_escape(&path, up.filename);
    char message[512], *answer = NULL;
    int status = pv__console_call(r, "POST", path.data, pv_buf_slice(&up.data), message,
                                  sizeof message, &answer);
    json_t *a = answer ? json_loads(answer, 0, NULL) : NULL;
    json_int_t id = json_integer_value(json_object_get(a, "id"));
    if (status == 202 && id > 0) {
        char to[48];
        snprintf(to, sizeof to, "/import/%lld", (long long)id);
        pv__portal_redirect(r, to);
    } else {
        import_page(r, status, message);
    }
    json_decref(a);
    free(answer);
    pv_buf_free(&path);
    pv__console_upload_free(&up);
}

static void errors_table(pv_buf *page, pv__portal_req *r, const pv_store_import_job *j)
{
    pv_store_import_error *rows = NULL;
    size_t n = 0;
    pv_error err = {""};
    if (pv_store_import_error_list(r->portal->store, j->id, 0, ERRORS_SHOWN, &rows, &n, &err) !=
            0 ||
        n == 0) {
        free(rows);
        return;
    }
    pv_buf_append_str(page, "<h2 id=\"errors-h\">");
    pv__portal_text(page, r, "import_first_errors");
    pv_buf_appendf(page, "</h2>\n<p><a id=\"import-errors\" href=\"/api/v1/import-jobs/%lld/errors\" "
                         "download=\"import-%lld-errors.csv\">",
                   (long long)j->id, (long long)j->id);
    pv__portal_text(page, r, "import_errors");
    pv_buf_append_str(page, "</a></p>\n");
    static const char *const heads[] = {"line", "mac", "reason"};
    pv__console_table_head(page, r, heads, 3);
    for (size_t i = 0; i < n; i++) {
        char line[24], reason[360];
        snprintf(line, sizeof line, "%lld", (long long)rows[i].line);
        snprintf(reason, sizeof reason, "%s: %s", rows[i].field, rows[i].reason);
        const char *cells[] = {line, rows[i].mac, reason};
        pv__console_table_row(page, cells, 3);
    }
    pv_buf_append_str(page, "</tbody>\n</table>\n");
    free(rows);
}

void pv__console_import_job_page(pv__portal_req *r, int64_t id)
{
    pv_store_import_job j;
    pv_error err = {""};
    int rc = pv_store_import_job_get(r->portal->store, id, false, &j, &err);
    if (rc == PV_ENOENT) {
        pv__portal_error(r, 404, "not_found", err.msg);
        return;
    }
    if (rc != 0) {
        pv__console_store_failed(r, &err);
        return;
    }
    bool running = strcmp(j.state, "running") == 0;
    pv_buf page = {0};
    pv__console_open_page(&page, r, "import_title");
    pv_buf_appendf(&page, "<section id=\"import-job\" data-job=\"%lld\" data-state=\"%s\" "
                          "data-t-progress=\"",
                   (long long)j.id, j.state);
    pv__portal_text(&page, r, "import_progress");
    pv_buf_append_str(&page, "\" data-t-counts=\"");
    pv__portal_text(&page, r, "import_counts");
    pv_buf_append_str(&page, "\" aria-labelledby=\"job-h\">\n<h2 id=\"job-h\">");
    pv__portal_text(&page, r, "import_job");
    pv_buf_appendf(&page, " #%lld — ", (long long)j.id);
    pv_html_escape(&page, j.file_name[0] ? j.file_name : j.name);
    char started[40], finished[40];
    pv__console_format_time(started, sizeof started, j.created_at);
    pv__console_format_time(finished, sizeof finished, j.finished_at);
    pv_buf_append_str(&page, "</h2>\n<dl class=\"facts\">\n<dt>");
    pv__portal_text(&page, r, "state");
    pv_buf_appendf(&page, "</dt><dd id=\"import-state\" class=\"state-%s\">", j.state);
    pv__portal_text(&page, r, running ? "import_state_running"
                              : strcmp(j.state, "done") == 0 ? "import_state_done"
                                                             : "import_state_failed");
    if (j.reason[0]) {
        pv_buf_append_str(&page, ": ");
        pv_html_escape(&page, j.reason);
    }
    pv_buf_append_str(&page, "</dd>\n<dt>");
    pv__portal_text(&page, r, "actor");
    pv_buf_append_str(&page, "</dt><dd>");
    pv_html_escape(&page, j.actor);
    pv_buf_append_str(&page, "</dd>\n<dt>");
    pv__portal_text(&page, r, "started");
    pv_buf_appendf(&page, "</dt><dd>%s</dd>\n<dt>", started);
    pv__portal_text(&page, r, "finished");
    pv_buf_appendf(&page, "</dt><dd>%s</dd>\n</dl>\n", finished);
    int64_t max = j.total > j.done_rows ? j.total : j.done_rows;
    pv_buf_appendf(&page, "<progress id=\"import-progress\" max=\"%lld\" value=\"%lld\" "
                          "aria-labelledby=\"import-status\"></progress>\n"
                          "<p id=\"import-status\" role=\"status\" aria-live=\"polite\">",
                   (long long)(max > 0 ? max : 1),
                   (long long)(running ? j.done_rows : (max > 0 ? max : 1)));
    fill(&page, pv__portal_t(r, "import_progress"), &j);
    pv_buf_append_str(&page, " — ");
    fill(&page, pv__portal_t(r, "import_counts"), &j);
    pv_buf_append_str(&page, "</p>\n");
    if (running) {
        pv_buf_append_str(&page, "<p class=\"hint\">");
        pv__portal_text(&page, r, "import_running_hint");
        pv_buf_appendf(&page, " <a id=\"import-refresh\" href=\"/import/%lld\">", (long long)j.id);
        pv__portal_text(&page, r, "refresh");
        pv_buf_append_str(&page, "</a></p>\n");
    }
    pv_buf_append_str(&page, "</section>\n");
    errors_table(&page, r, &j);
    pv_buf_append_str(&page, "<p><a href=\"/import\">");
    pv__portal_text(&page, r, "import_back");
    pv_buf_append_str(&page, "</a></p>\n");
    pv_store_import_job_free(&j);
    pv__portal_page(r, &page, 200);
}
