/*
 * console_codes.c — the console's binding codes page: an account's codes,
 * creating one (shown once, on a card to print for the customer) and revoking.
 */
#include "server/console_int.h"

#include <stdio.h>
#include <stdlib.h>

/* An account's codes (hint, expiry, use; never the code: only its HMAC is kept), a button to
 * create one — the answer is shown once, on a card to print for the customer — and one to
 * revoke each unused code. */
void pv__console_codes_page(pv__portal_req *r)
{
    char account[80] = "";
    (void)pv_form_get(r->req->query, "account", account, sizeof account);
    pv_buf page = {0};
    pv__console_open_page(&page, r, "codes_title");
    pv_buf_append_str(&page, "<form class=\"search\" method=\"get\" action=\"/codes\">\n");
    pv__console_text_field(&page, r, "account", "account", account);
    pv_buf_append_str(&page, "<button type=\"submit\">");
    pv__portal_text(&page, r, "open");
    pv_buf_append_str(&page, "</button>\n</form>\n");
    if (account[0] == '\0') {
        pv__portal_page(r, &page, 200);
        return;
    }
    pv_store_account a = {0};
    pv_error err = {""};
    int rc = pv_store_account_get_by_name(r->portal->store, account, &a, &err);
    if (rc != 0) {
        pv_buf_append_str(&page, "<p class=\"error\" role=\"alert\">");
        pv__portal_text(&page, r, "no_such_account");
        pv_buf_append_str(&page, "</p>\n");
        pv__portal_page(r, &page, rc == PV_ENOENT ? 404 : 503);
        return;
    }
    if (pv__console_can_change(r)) {
        pv_buf_append_str(&page, "<ul class=\"actions\">\n");
        pv_buf t = {0};
        pv_buf_append_str(&t, "/api/v1/accounts/");
        pv__console_url_escape(&t, a.name);
        pv_buf_append_str(&t, "/codes");
        pv_buf_append_char(&t, '\0');
        pv__console_action_button(&page, r, "POST", t.data, "{}", "code_create");
        pv_buf_free(&t);
        pv_buf_append_str(&page, "</ul>\n<p class=\"outcome\" id=\"outcome\" role=\"status\" "
                                 "aria-live=\"polite\"></p>\n<section class=\"card\" id=\"card\" "
                                 "hidden aria-labelledby=\"card-title\">\n<h2 id=\"card-title\">");
        pv__portal_text(&page, r, "card_title");
        pv_buf_append_str(&page, "</h2>\n<p>");
        pv__portal_text(&page, r, "card_text");
        pv_buf_append_str(&page, "</p>\n<p class=\"code\" id=\"card-code\"></p>\n<p>");
        pv__portal_text(&page, r, "card_expires");
        pv_buf_append_str(&page, " <span id=\"card-expires\"></span></p>\n");
        pv__portal_code_steps(&page, r, NULL, NULL); /* the portal's steps, one text */
        pv_buf_append_str(&page, "<button type=\"button\" id=\"print\">");
        pv__portal_text(&page, r, "print");
        pv_buf_append_str(&page, "</button>\n</section>\n");
    }
    pv_buf_append_str(&page, "<table class=\"codes\">\n<thead><tr>");
    static const char *const heads[] = {"code_id", "code_hint", "created", "expires", "used_by"};
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        pv_buf_append_str(&page, "<th scope=\"col\">");
        pv__portal_text(&page, r, heads[i]);
        pv_buf_append_str(&page, "</th>");
    }
    pv_buf_append_str(&page, pv__console_can_change(r) ? "<th scope=\"col\">" : "");
    if (pv__console_can_change(r)) {
        pv__portal_text(&page, r, "actions");
        pv_buf_append_str(&page, "</th>");
    }
    pv_buf_append_str(&page, "</tr></thead>\n<tbody>\n");
    pv_store_page pg = {.limit = 100};
    pv_store_code *codes = NULL;
    size_t n = 0;
    if (pv_store_code_list(r->portal->store, a.id, &pg, &codes, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            char created[40], expires[40];
            pv__console_format_time(created, sizeof created, codes[i].created_at);
            pv__console_format_time(expires, sizeof expires, codes[i].expires_at);
            pv_buf_appendf(&page, "<tr><td>%lld</td><td>", (long long)codes[i].id);
            pv_html_escape(&page, codes[i].hint);
            pv_buf_appendf(&page, "…</td><td>%s</td><td>%s</td><td>%s</td>", created, expires,
                           codes[i].used_by[0] ? codes[i].used_by : "-");
            if (pv__console_can_change(r)) {
                pv_buf_append_str(&page, "<td>");
                if (codes[i].used_at == 0) {
                    char path[48];
                    snprintf(path, sizeof path, "/api/v1/codes/%lld", (long long)codes[i].id);
                    pv_buf_append_str(&page, "<ul class=\"actions\">");
                    pv__console_action_button(&page, r, "DELETE", path, "", "code_revoke");
                    pv_buf_append_str(&page, "</ul>");
                }
                pv_buf_append_str(&page, "</td>");
            }
            pv_buf_append_str(&page, "</tr>\n");
        }
        free(codes);
    }
    pv_buf_append_str(&page, "</tbody>\n</table>\n");
    pv_store_account_free(&a);
    pv__portal_page(r, &page, 200);
}
