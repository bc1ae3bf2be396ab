/*
 * console_audit.c — the console's audit log page, filtered by subject, in
 * keyset pages.
 */
#include "server/console_int.h"

#include <stdio.h>

void pv__console_audit_page(pv__portal_req *r)
{
    char subject[96] = "", after[24] = "";
    (void)pv_form_get(r->req->query, "subject", subject, sizeof subject);
    (void)pv_form_get(r->req->query, "after", after, sizeof after);
    pv_buf page = {0};
    pv__console_open_page(&page, r, "audit_title");
    pv_buf_append_str(&page, "<form method=\"get\" action=\"/audit\" role=\"search\">\n");
    pv__console_text_field(&page, r, "subject", "subject", subject);
    pv_buf_append_str(&page, "<button type=\"submit\">");
    pv__portal_text(&page, r, "search");
    pv_buf_append_str(&page, "</button>\n</form>\n<table class=\"audit\">\n<thead><tr>");
    static const char *const heads[] = {"time", "actor", "action", "subject"};
    for (size_t i = 0; i < 4; i++) {
        pv_buf_append_str(&page, "<th scope=\"col\">");
        pv__portal_text(&page, r, heads[i]);
        pv_buf_append_str(&page, "</th>");
    }
    pv_buf_append_str(&page, "</tr></thead>\n<tbody>\n");
    pv_store_page pg = {.limit = 100};
    snprintf(pg.after, sizeof pg.after, "%s", after);
    pv_store_audit *rows = NULL;
    size_t n = 0;
    pv_error err = {""};
    if (pv_store_audit_list(r->portal->store, subject[0] ? subject : NULL, &pg, &rows, &n, &err) !=
        0) {
        pv_buf_free(&page);
        pv__console_store_failed(r, &err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char at[40];
        pv__console_format_time(at, sizeof at, rows[i].at);
        pv_buf_appendf(&page, "<tr><td>%s</td><td>", at);
        pv_html_escape(&page, rows[i].actor);
        pv_buf_append_str(&page, "</td><td>");
        pv_html_escape(&page, rows[i].action);
        pv_buf_append_str(&page, "</td><td>");
        pv_html_escape(&page, rows[i].subject ? rows[i].subject : "-");
        pv_buf_append_str(&page, "</td></tr>\n");
    }
    pv_buf_append_str(&page, "</tbody>\n</table>\n");
    if (pg.after[0] != '\0') {
        pv_buf_append_str(&page, "<p><a rel=\"next\" href=\"/audit?subject=");
        pv__console_url_escape(&page, subject);
        pv_buf_appendf(&page, "&amp;after=%s\">", pg.after);
        pv__portal_text(&page, r, "next_page");
        pv_buf_append_str(&page, "</a></p>\n");
    }
    pv_store_audits_free(rows, n);
    pv__portal_page(r, &page, 200);
}
