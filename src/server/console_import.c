/*
 * console_import.c — the CSV device import in the console (issue 13 item 1: "CSV import with
 * upload, progress and a downloadable error report").
 *
 * The import is the command line's (cmd_device.c), with the page's script in the CLI's place:
 *   1. POST /import/parse: the uploaded file (the body, text/csv, bounded by the admin
 *      listener's [limits] max_body_bytes) read by import.c — its rows as the API takes them,
 *      what the file itself gets wrong (a malformed row, a MAC given twice: pv_import_fault)
 *      and the job's name (pv_import_job_name: the same file resumes the same job);
 *   2. console.js asks GET /api/v1/imports/{job} where a run of that job stopped, then sends
 *      the rows in batches to POST /api/v1/devices:import (api_import.c: upserts with the
 *      job's checkpoint, unknown models and accounts refused per row), showing the progress;
 *   3. the errors, in line order, become a CSV (line, MAC, reason) to download.
 * Nothing here writes the store: parsing is a read of the body, the batches are the API's.
 */
#include "server/console_int.h"

#include "server/import.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pv__console_import_page(pv__portal_req *r)
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
        pv__portal_page(r, &page, 200);
        return;
    }
    pv_buf_append_str(&page, "<form class=\"edit\" id=\"import-form\" data-t-progress=\"");
    pv__portal_text(&page, r, "import_progress");
    pv_buf_append_str(&page, "\" data-t-done=\"");
    pv__portal_text(&page, r, "import_done");
    pv_buf_append_str(&page, "\">\n<div class=\"field\"><label for=\"import-file\">");
    pv__portal_text(&page, r, "import_file");
    pv_buf_append_str(&page, "</label>\n<input type=\"file\" id=\"import-file\" required "
                             "accept=\".csv,text/csv\"></div>\n<button type=\"submit\">");
    pv__portal_text(&page, r, "import_start");
    pv_buf_append_str(&page, "</button>\n</form>\n<progress id=\"import-progress\" max=\"1\" "
                             "value=\"0\" aria-labelledby=\"import-status\" hidden></progress>\n"
                             "<p id=\"import-status\" role=\"status\" aria-live=\"polite\"></p>\n"
                             "<p><a id=\"import-errors\" hidden>");
    pv__portal_text(&page, r, "import_errors");
    pv_buf_append_str(&page, "</a></p>\n");
    pv__portal_page(r, &page, 200);
}

/* The file's rows as POST /devices:import takes them (fields given only when the file has
 * them), the file's own faults with their MACs, the job's name and the line after the last. */
void pv__console_import_parse(pv__portal_req *r)
{
    if (!pv__console_can_change(r)) {
        pv__portal_json(r, 403,
                        "{\"error\":{\"code\":\"role\",\"message\":"
                        "\"an import needs the role operator\"}}");
        return;
    }
    pv_import_reader rd;
    pv_error err = {""};
    if (pv_import_open(&rd, r->req->body, &err) != 0) {
        json_t *e = json_pack("{s:{s:s, s:s}}", "error", "code", "invalid", "message", err.msg);
        char *text = json_dumps(e, JSON_COMPACT);
        pv__portal_json(r, 422, text);
        free(text);
        json_decref(e);
        return;
    }
    char job[32];
    pv_import_job_name(r->req->body, job);
    json_t *rows = json_array(), *faults = json_array();
    pv_import_seen seen;
    pv_import_seen_init(&seen, pv_import_count(&rd));
    pv_import_row row;
    static const char *const keys[PV_IMPORT__COLS] = {"mac", "model", "account", "serial"};
    while (pv_import_next(&rd, &row) == 1) {
        const char *field = NULL;
        char msg[200];
        const char *mac = row.field[PV_IMPORT_MAC] ? row.field[PV_IMPORT_MAC] : "";
        if (pv_import_fault(&seen, &row, &field, msg, sizeof msg)) {
            json_t *m = json_string(mac); /* NULL: not UTF-8 (the row's error says so) */
            json_array_append_new(
                faults, json_pack("{s:I, s:o, s:s, s:s}", "line", (json_int_t)row.line, "mac",
                                  m ? m : json_string(""), "field", field, "message", msg));
        } else {
            json_t *o = json_pack("{s:I}", "line", (json_int_t)row.line);
            for (int c = 0; c < PV_IMPORT__COLS; c++)
                if (row.field[c] != NULL)
                    json_object_set_new(o, keys[c], json_string(row.field[c]));
            json_array_append_new(rows, o);
        }
        pv_import_row_free(&row);
    }
    pv_import_seen_free(&seen);
    json_t *answer = json_pack("{s:s, s:I, s:o, s:o}", "job", job, "end_line",
                               (json_int_t)rd.line + 1, "rows", rows, "faults", faults);
    char *text = json_dumps(answer, JSON_COMPACT);
    pv__portal_json(r, 200, text);
    free(text);
    json_decref(answer);
}
