/*
 * console_audit.c — the console's audit log page: filtered by subject, actor, action (one, or a
 * family such as "device.") and a first day, as GET /audit filters (audit_query.h), in keyset
 * pages that may hold fewer rows than asked when matches are rare (a bounded walk per page).
 */
#include "server/console_int.h"

#include "server/audit_query.h"

#include <stdio.h>
#include <time.h>

#define AUDIT_PER_PAGE 100

/* "YYYY-MM-DD" (an <input type=date>) as the unix second it starts, UTC; false otherwise. */
static bool parse_day(const char *text, int64_t *out)
{
    struct tm tm = {0};
    int y, m, d;
    char tail;
    if (sscanf(text, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 1970 || m < 1 || m > 12 ||
        d < 1 || d > 31)
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    *out = (int64_t)timegm(&tm);
    return true;
}

static void add_row(void *data, const pv_store_audit *a)
{
    pv_buf *page = data;
    char at[40];
    pv__console_format_time(at, sizeof at, a->at);
    pv_buf_appendf(page, "<tr><td>%s</td><td>", at);
    pv_html_escape(page, a->actor);
    pv_buf_append_str(page, "</td><td>");
    pv_html_escape(page, a->action);
    pv_buf_append_str(page, "</td><td>");
    pv_html_escape(page, a->subject ? a->subject : "-");
    pv_buf_append_str(page, "</td></tr>\n");
}

void pv__console_audit_page(pv__portal_req *r)
{
    char subject[96] = "", actor[96] = "", action[64] = "", since[16] = "", after[24] = "";
    (void)pv_form_get(r->req->query, "subject", subject, sizeof subject);
    (void)pv_form_get(r->req->query, "actor", actor, sizeof actor);
    (void)pv_form_get(r->req->query, "action", action, sizeof action);
    (void)pv_form_get(r->req->query, "since", since, sizeof since);
    (void)pv_form_get(r->req->query, "after", after, sizeof after);
    pv_audit_query q = {.subject = subject[0] ? subject : NULL,
                        .actor = actor[0] ? actor : NULL,
                        .action = action[0] ? action : NULL,
                        .until = INT64_MAX};
    bool bad_day = since[0] != '\0' && !parse_day(since, &q.since);
    pv_buf page = {0};
    pv__console_open_page(&page, r, "audit_title");
    pv_buf_append_str(&page, "<form method=\"get\" action=\"/audit\" role=\"search\">\n");
    pv__console_text_field(&page, r, "subject", "subject", subject);
    pv__console_text_field(&page, r, "actor", "actor", actor);
    pv__console_text_field(&page, r, "action", "action", action);
    pv_buf_append_str(&page, "<label for=\"since\">");
    pv__portal_text(&page, r, "audit_since");
    pv_buf_append_str(&page, "</label>\n<input id=\"since\" name=\"since\" type=\"date\" value=\"");
    pv_html_escape(&page, since);
    pv_buf_append_str(&page, "\">\n<button type=\"submit\">");
    pv__portal_text(&page, r, "search");
    pv_buf_append_str(&page, "</button>\n</form>\n");
    if (bad_day) {
        pv_buf_append_str(&page, "<p class=\"error\" role=\"alert\">");
        pv__portal_text(&page, r, "audit_bad_day");
        pv_buf_append_str(&page, "</p>\n");
        pv__portal_page(r, &page, 422);
        return;
    }
    pv_buf_append_str(&page, "<table class=\"audit\">\n<thead><tr>");
    static const char *const heads[] = {"time", "actor", "action", "subject"};
    for (size_t i = 0; i < 4; i++) {
        pv_buf_append_str(&page, "<th scope=\"col\">");
        pv__portal_text(&page, r, heads[i]);
        pv_buf_append_str(&page, "</th>");
    }
    pv_buf_append_str(&page, "</tr></thead>\n<tbody>\n");
    pv_store_page pg = {0};
    snprintf(pg.after, sizeof pg.after, "%s", after);
    pv_error err = {""};
    if (pv_audit_query_run(r->portal->store, &q, &pg, AUDIT_PER_PAGE, add_row, &page, &err) != 0) {
        pv_buf_free(&page);
        pv__console_store_failed(r, &err);
        return;
    }
    pv_buf_append_str(&page, "</tbody>\n</table>\n");
    if (pg.after[0] != '\0') { /* rare matches: the next page goes on walking the log */
        pv_buf_append_str(&page, "<p><a rel=\"next\" id=\"next-page\" href=\"/audit?subject=");
        pv__console_url_escape(&page, subject);
        pv_buf_append_str(&page, "&amp;actor=");
        pv__console_url_escape(&page, actor);
        pv_buf_append_str(&page, "&amp;action=");
        pv__console_url_escape(&page, action);
        pv_buf_append_str(&page, "&amp;since=");
        pv__console_url_escape(&page, since);
        pv_buf_appendf(&page, "&amp;after=%s\">", pg.after);
        pv__portal_text(&page, r, "next_page");
        pv_buf_append_str(&page, "</a></p>\n");
    }
    pv__portal_page(r, &page, 200);
}
