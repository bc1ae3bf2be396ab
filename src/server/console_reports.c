/*
 * console_reports.c — a device's reports on its console page (issue 13 item 1: "its reports
 * with a diff that understands report kinds and masked values"): the reports the store keeps,
 * newest first, each a link to its diff, and the diff of the one chosen (the newest by default)
 * against what the device is rendered now, as a table — changed, rendered but missing from the
 * report, reported but not rendered.
 *
 * The comparison is pv_report_compare (server/reports.h), the one `provisor device report`
 * prints: a full report is compared with every rendered parameter, a delta only on the
 * parameters it names, a status report not at all (the phone's state, not its configuration);
 * secrets are never a difference for not being reported and their values are never on the
 * page, not even after "Reveal secrets" (a report is the phone's word, kept as sent).
 */
#include "server/console_int.h"

#include "core/form.h"
#include "server/reports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct diff_rows {
    pv_buf *out, *extras; /* changed and missing; reported but not rendered (often many) */
    pv__portal_req *r;
    size_t changed, missing, extra;
} diff_rows;

static void value_cell(pv_buf *out, pv_slice v, bool present, bool masked)
{
    pv_buf_append_str(out, "<td>");
    if (!present)
        pv_buf_append_str(out, "—");
    else if (masked)
        pv_buf_append_str(out, "<span class=\"masked\">" PV_REPORT_MASK "</span>");
    else {
        pv_buf tmp = {0};
        pv_buf_append_slice(&tmp, v);
        pv_buf_append_char(&tmp, '\0');
        pv_html_escape(out, tmp.data);
        pv_buf_free(&tmp);
    }
    pv_buf_append_str(out, "</td>");
}

static void diff_row(void *data, const pv_report_difference *d)
{
    diff_rows *t = data;
    const char *cls = d->change == '~' ? "changed" : d->change == '-' ? "missing" : "extra";
    t->changed += d->change == '~';
    t->missing += d->change == '-';
    t->extra += d->change == '+';
    pv_buf *out = d->change == '+' ? t->extras : t->out;
    pv_buf_appendf(out, "<tr class=\"%s\"><th scope=\"row\">", cls);
    pv_buf tmp = {0};
    pv_buf_append_slice(&tmp, d->name);
    pv_buf_append_char(&tmp, '\0');
    pv_html_escape(out, tmp.data);
    pv_buf_free(&tmp);
    pv_buf_append_str(out, "</th><td>");
    pv__portal_text(out, t->r,
                    d->change == '~'   ? "diff_changed"
                    : d->change == '-' ? "diff_missing"
                                       : "diff_extra");
    pv_buf_append_str(out, "</td>");
    value_cell(out, d->rendered, d->change != '+', d->masked);
    value_cell(out, d->reported, d->change != '-', d->masked);
    pv_buf_append_str(out, "</tr>\n");
}

/* The diff of report id (0: the newest) against the rendering. */
static void diff_section(pv__portal_req *r, pv_buf *page, const char *mac, int64_t id)
{
    pv_buf rows = {0}, extras = {0};
    diff_rows t = {.out = &rows, .extras = &extras, .r = r};
    char kind[8] = "";
    pv_error err = {""};
    int rc = pv_report_compare(r->portal->store, r->portal->policy, mac, id, true, diff_row, &t,
                               kind, &err);
    pv_buf_append_str(page, "<section id=\"report-diff\" aria-labelledby=\"report-diff-h\">\n"
                            "<h3 id=\"report-diff-h\">");
    pv__portal_text(page, r, "report_diff");
    if (id > 0)
        pv_buf_appendf(page, " #%lld", (long long)id);
    pv_buf_append_str(page, "</h3>\n");
    if (rc != 0) {
        pv_buf_append_str(page, "<p>");
        pv_html_escape(page, err.msg);
        pv_buf_append_str(page, "</p>\n</section>\n");
        pv_buf_free(&rows);
        pv_buf_free(&extras);
        return;
    }
    pv_buf_appendf(page, "<p class=\"compares\">%s: <strong class=\"kind\">%s</strong> — ",
                   pv__portal_t(r, "kind"), kind);
    pv__portal_text(page, r,
                    strcmp(kind, "status") == 0  ? "compares_status"
                    : strcmp(kind, "delta") == 0 ? "compares_delta"
                                                 : "compares_full");
    pv_buf_appendf(page, "</p>\n<p class=\"summary\" id=\"diff-summary\">%zu ", t.changed);
    pv__portal_text(page, r, "diff_changed");
    pv_buf_appendf(page, ", %zu ", t.missing);
    pv__portal_text(page, r, "diff_missing");
    pv_buf_appendf(page, ", %zu ", t.extra);
    pv__portal_text(page, r, "diff_extra");
    pv_buf_append_str(page, "</p>\n");
    static const char *const heads[] = {"parameter", "difference", "rendered", "reported"};
    if (rows.len > 0) {
        pv__console_table_head(page, r, heads, 4);
        pv_buf_append(page, rows.data, rows.len);
        pv_buf_append_str(page, "</tbody>\n</table>\n");
    }
    if (extras.len > 0) { /* a full report names every parameter the phone has: folded */
        pv_buf_appendf(page, "<details class=\"extras\"><summary>%zu ", t.extra);
        pv__portal_text(page, r, "diff_extra");
        pv_buf_append_str(page, "</summary>\n");
        pv__console_table_head(page, r, heads, 4);
        pv_buf_append(page, extras.data, extras.len);
        pv_buf_append_str(page, "</tbody>\n</table>\n</details>\n");
    }
    pv_buf_append_str(page, "</section>\n");
    pv_buf_free(&rows);
    pv_buf_free(&extras);
}

void pv__console_device_reports(pv__portal_req *r, pv_buf *page, const char *mac)
{
    char want[24] = "";
    (void)pv_form_get(r->req->query, "report", want, sizeof want);
    int64_t id = strtoll(want, NULL, 10);
    pv_buf_append_str(page, "<h2>");
    pv__portal_text(page, r, "reports");
    pv_buf_append_str(page, "</h2>\n<ul class=\"reports\">\n");
    pv_store_page pg = {.limit = 20};
    pv_store_report *reports = NULL;
    size_t n = 0;
    pv_error err = {""};
    if (pv_store_report_list(r->portal->store, mac, &pg, &reports, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            char at[40];
            pv__console_format_time(at, sizeof at, reports[i].received_at);
            bool shown = reports[i].id == id || (id <= 0 && i == 0);
            pv_buf_appendf(page, "<li><a href=\"/devices/%s?report=%lld#report-diff\"%s>#%lld %s ",
                           mac, (long long)reports[i].id, shown ? " aria-current=\"true\"" : "",
                           (long long)reports[i].id, at);
            pv_html_escape(page, reports[i].kind);
            pv_buf_appendf(page, " (%zu B)</a></li>\n", reports[i].body_len);
        }
        pv_store_reports_free(reports, n);
    }
    pv_buf_append_str(page, "</ul>\n");
    if (n > 0)
        diff_section(r, page, mac, id > 0 ? id : 0);
}
