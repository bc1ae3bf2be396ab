/*
 * console_accounts.c — the console's accounts page: the list, each name leading to the
 * account's page (console_account.c), and the form to create one.
 */
#include "server/console_int.h"

#include <stdio.h>

/* The accounts (name order, keyset pages) with where each one's devices, codes and parameter
 * set are. Settings are on each account's page (passwords never shown). */
void pv__console_accounts_page(pv__portal_req *r)
{
    char after[80] = "";
    (void)pv_form_get(r->req->query, "after", after, sizeof after);
    pv_buf page = {0};
    pv__console_open_page(&page, r, "accounts_title");
    if (pv__console_can_change(r))
        pv__console_account_create_form(&page, r);
    static const char *const heads[] = {"account", "customer_name", "links"};
    pv__console_table_head(&page, r, heads, 3);
    pv_store_page pg = {.limit = 100};
    snprintf(pg.after, sizeof pg.after, "%s", after);
    pv_store_account *rows = NULL;
    size_t n = 0;
    pv_error err = {""};
    if (pv_store_account_list(r->portal->store, &pg, &rows, &n, &err) != 0) {
        pv_buf_free(&page);
        pv__console_store_failed(r, &err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        pv_buf_append_str(&page, "<tr><td><a href=\"/accounts/");
        pv__console_url_escape(&page, rows[i].name);
        pv_buf_append_str(&page, "\">");
        pv_html_escape(&page, rows[i].name);
        pv_buf_append_str(&page, "</a></td><td>");
        pv_html_escape(&page, rows[i].customer ? rows[i].customer : "-");
        static const char *const links[][2] = {{"/devices?account=", "devices_title"},
                                               {"/codes?account=", "codes_title"},
                                               {"/params/set?scope=account:", "params_title"}};
        pv_buf_append_str(&page, "</td><td>");
        for (size_t k = 0; k < 3; k++) {
            pv_buf_appendf(&page, "%s<a href=\"%s", k ? " · " : "", links[k][0]);
            pv__console_url_escape(&page, rows[i].name);
            pv_buf_append_str(&page, "\">");
            pv__portal_text(&page, r, links[k][1]);
            pv_buf_append_str(&page, "</a>");
        }
        pv_buf_append_str(&page, "</td></tr>\n");
    }
    pv_buf_append_str(&page, "</tbody>\n</table>\n");
    if (pg.after[0] != '\0') {
        pv_buf_append_str(&page, "<p><a rel=\"next\" href=\"/accounts?after=");
        pv__console_url_escape(&page, pg.after);
        pv_buf_append_str(&page, "\">");
        pv__portal_text(&page, r, "next_page");
        pv_buf_append_str(&page, "</a></p>\n");
    }
    pv_store_accounts_free(rows, n);
    pv__portal_page(r, &page, 200);
}
