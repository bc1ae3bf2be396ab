/*
 * console_account.c — one account's page in the console: what it is, its name and customer
 * (editable), its settings (console_settings.c), its customer logins (create, new password,
 * delete) and deleting it. Every change is a form or button that console.js sends to the
 * admin API with the session (PATCH/PUT/DELETE /accounts/{name}, /accounts/{name}/customers,
 * /customers/{login}...): the API's handlers and role table decide, e.g. an operator never
 * deletes an account with devices, an admin only with force (roles.h).
 */
#include "server/console_int.h"

#include "store/store_device_search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A form console.js sends as JSON to the API: its [data-key] inputs are the body. */
static void api_form_open(pv_buf *out, const char *id, const char *method, const char *path,
                          const char *then)
{
    pv_buf_append_str(out, "<form class=\"api-form edit\"");
    if (id[0] != '\0')
        pv_buf_appendf(out, " id=\"%s\"", id);
    pv_buf_appendf(out, " data-method=\"%s\" data-path=\"", method);
    pv_html_escape(out, path);
    pv_buf_append_str(out, "\" data-then=\"");
    pv_html_escape(out, then);
    pv_buf_append_str(out, "\">\n");
}

static void api_form_close(pv_buf *out, pv__portal_req *r, const char *button_key)
{
    pv_buf_append_str(out, "<button type=\"submit\">");
    pv__portal_text(out, r, button_key);
    pv_buf_append_str(out, "</button>\n<p class=\"verdict\" role=\"status\" "
                           "aria-live=\"polite\"></p>\n</form>\n");
}

static void keyed_input(pv_buf *out, pv__portal_req *r, const char *id, const char *key,
                        const char *label_key, const char *value, const char *extra)
{
    pv_buf_appendf(out, "<div class=\"field\"><label for=\"%s\">", id);
    pv__portal_text(out, r, label_key);
    pv_buf_appendf(out, "</label>\n<input id=\"%s\" data-key=\"%s\" %s value=\"", id, key, extra);
    pv_html_escape(out, value != NULL ? value : "");
    pv_buf_append_str(out, "\"></div>\n");
}

/* "/api/v1/<a>/<escaped b><c>" into a NUL-terminated buffer. */
static void api_path(pv_buf *out, const char *a, const char *b, const char *c)
{
    pv_buf_appendf(out, "/api/v1/%s/", a);
    pv__console_url_escape(out, b);
    pv_buf_append_str(out, c);
    pv_buf_append_char(out, '\0');
}

/* The account's customer logins, and (operator, admin) forms to add one, give one a new
 * password or delete one. */
static void customers_section(pv_buf *page, pv__portal_req *r, const pv_store_account *a)
{
    bool change = pv__console_can_change(r);
    pv_buf_append_str(page, "<section aria-labelledby=\"customers-h\">\n<h2 id=\"customers-h\">");
    pv__portal_text(page, r, "customers");
    pv_buf_append_str(page, "</h2>\n<table class=\"customers\" id=\"customers\">\n<thead><tr>");
    static const char *const heads[] = {"login_name", "last_login", "locked", "actions"};
    for (size_t i = 0; i < (change ? 4u : 3u); i++) {
        pv_buf_append_str(page, "<th scope=\"col\">");
        pv__portal_text(page, r, heads[i]);
        pv_buf_append_str(page, "</th>");
    }
    pv_buf_append_str(page, "</tr></thead>\n<tbody>\n");
    pv_store_page pg = {.limit = 200};
    pv_store_login *rows = NULL;
    size_t n = 0;
    pv_error err = {""};
    if (pv_store_login_list(r->portal->store, a->id, &pg, &rows, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            if (strcmp(rows[i].role, "customer") != 0)
                continue;
            char seen[40];
            pv__console_format_time(seen, sizeof seen, rows[i].last_login_at);
            pv_buf_append_str(page, "<tr><th scope=\"row\">");
            pv_html_escape(page, rows[i].name);
            pv_buf_appendf(page, "</th><td>%s</td><td>", seen);
            pv__portal_text(page, r, rows[i].locked_until > r->now ? "yes" : "no");
            pv_buf_append_str(page, "</td>");
            if (change) {
                pv_buf path = {0};
                api_path(&path, "customers", rows[i].name, "/password");
                pv_buf_append_str(page, "<td>");
                api_form_open(page, "", "PUT", path.data, "reload");
                pv_buf_append_str(page, "<input type=\"password\" data-key=\"password\" "
                                        "autocomplete=\"new-password\" required aria-label=\"");
                pv__portal_text(page, r, "new_password");
                pv_buf_append_char(page, ' ');
                pv_html_escape(page, rows[i].name);
                pv_buf_append_str(page, "\">\n");
                api_form_close(page, r, "reset_password");
                pv_buf_free(&path);
                api_path(&path, "customers", rows[i].name, "");
                pv_buf_append_str(page, "<ul class=\"actions\">");
                pv_buf_appendf(page, "<li><button type=\"button\" class=\"api\" "
                                     "data-method=\"DELETE\" data-then=\"reload\" data-path=\"");
                pv_html_escape(page, path.data);
                pv_buf_append_str(page, "\" aria-label=\"");
                pv__portal_text(page, r, "delete");
                pv_buf_append_char(page, ' ');
                pv_html_escape(page, rows[i].name);
                pv_buf_append_str(page, "\">");
                pv__portal_text(page, r, "delete");
                pv_buf_append_str(page, "</button></li></ul></td>");
                pv_buf_free(&path);
            }
            pv_buf_append_str(page, "</tr>\n");
        }
        pv_store_logins_free(rows, n);
    }
    pv_buf_append_str(page, "</tbody>\n</table>\n");
    if (change) {
        pv_buf path = {0};
        api_path(&path, "accounts", a->name, "/customers");
        pv_buf_append_str(page, "<h3>");
        pv__portal_text(page, r, "create_customer");
        pv_buf_append_str(page, "</h3>\n");
        api_form_open(page, "customer-create", "POST", path.data, "reload");
        keyed_input(page, r, "c-login", "login", "login_name", "", "required maxlength=\"64\"");
        keyed_input(page, r, "c-password", "password", "password", "",
                    "type=\"password\" required autocomplete=\"new-password\"");
        api_form_close(page, r, "create_customer");
        pv_buf_free(&path);
    }
    pv_buf_append_str(page, "</section>\n");
}

/* Delete: an operator may delete an account without devices (the API refuses one with
 * devices, 403); an admin also one with devices, saying so (force leaves them unassigned). */
static void delete_section(pv_buf *page, pv__portal_req *r, const pv_store_account *a)
{
    pv_buf path = {0};
    api_path(&path, "accounts", a->name, "");
    pv_buf_append_str(page, "<section aria-labelledby=\"delete-h\">\n<h2 id=\"delete-h\">");
    pv__portal_text(page, r, "delete_account");
    pv_buf_append_str(page, "</h2>\n<form class=\"edit\" id=\"account-delete\" data-path=\"");
    pv_html_escape(page, path.data);
    pv_buf_append_str(page, "\">\n");
    if (pv_role_at_least(pv__portal_role(r), PV_ROLE_ADMIN)) {
        pv_buf_append_str(page, "<div class=\"check\"><input type=\"checkbox\" id=\"force\">"
                                "<label for=\"force\">");
        pv__portal_text(page, r, "force_delete");
        pv_buf_append_str(page, "</label></div>\n");
    }
    pv_buf_append_str(page, "<button type=\"submit\" class=\"danger\">");
    pv__portal_text(page, r, "delete_account");
    pv_buf_append_str(page, "</button>\n<p class=\"verdict\" role=\"status\" aria-live=\"polite\">"
                            "</p>\n</form>\n</section>\n");
    pv_buf_free(&path);
}

void pv__console_account_page(pv__portal_req *r, const char *name)
{
    pv_store_account a = {0};
    pv_error err = {""};
    int rc = pv_store_account_get_by_name(r->portal->store, name, &a, &err);
    if (rc != 0) {
        if (rc == PV_ENOENT)
            pv__portal_error(r, 404, "not_found", pv__portal_t(r, "no_such_account"));
        else
            pv__console_store_failed(r, &err);
        pv_store_account_free(&a);
        return;
    }
    char scope[40], when[40];
    snprintf(scope, sizeof scope, "account:%lld", (long long)a.id);
    int64_t devices = 0;
    (void)pv_store_scope_devices(r->portal->store, scope, &devices, &err);
    pv_buf page = {0};
    pv__console_open_page(&page, r, "account");
    pv_buf_append_str(&page, "<dl class=\"device\">\n<dt>");
    pv__portal_text(&page, r, "name");
    pv_buf_append_str(&page, "</dt><dd id=\"account-name\">");
    pv_html_escape(&page, a.name);
    pv_buf_append_str(&page, "</dd>\n<dt>");
    pv__portal_text(&page, r, "customer_name");
    pv_buf_append_str(&page, "</dt><dd>");
    pv_html_escape(&page, a.customer != NULL ? a.customer : "-");
    pv_buf_append_str(&page, "</dd>\n<dt>");
    pv__portal_text(&page, r, "devices_title");
    pv_buf_appendf(&page, "</dt><dd><a href=\"/devices?account=");
    pv__console_url_escape(&page, a.name);
    pv_buf_appendf(&page, "\">%lld</a></dd>\n<dt>", (long long)devices);
    pv__portal_text(&page, r, "updated");
    pv__console_format_time(when, sizeof when, a.updated_at);
    pv_buf_appendf(&page, "</dt><dd>%s (v%lld)</dd>\n</dl>\n<p><a href=\"/codes?account=", when,
                   (long long)a.version);
    pv__console_url_escape(&page, a.name);
    pv_buf_append_str(&page, "\">");
    pv__portal_text(&page, r, "codes_title");
    pv_buf_append_str(&page, "</a> · <a href=\"/params/set?scope=account:");
    pv__console_url_escape(&page, a.name);
    pv_buf_append_str(&page, "\">");
    pv__portal_text(&page, r, "params_title");
    pv_buf_append_str(&page, "</a></p>\n");
    if (pv__console_can_change(r)) {
        pv_buf path = {0};
        api_path(&path, "accounts", a.name, "");
        pv_buf_append_str(&page, "<h2>");
        pv__portal_text(&page, r, "name_and_customer");
        pv_buf_append_str(&page, "</h2>\n");
        api_form_open(&page, "account-edit", "PATCH", path.data, "/accounts/{name}");
        keyed_input(&page, r, "a-name", "name", "name", a.name, "required maxlength=\"64\"");
        keyed_input(&page, r, "a-customer", "customer", "customer_name", a.customer,
                    "data-null maxlength=\"128\"");
        api_form_close(&page, r, "save");
        pv_buf_free(&path);
    }
    pv__console_settings_form(&page, r, &a);
    customers_section(&page, r, &a);
    if (pv__console_can_change(r))
        delete_section(&page, r, &a);
    pv_store_account_free(&a);
    pv__portal_page(r, &page, 200);
}

/* The list's form to add an account (operator, admin): POST /accounts, then its page. */
void pv__console_account_create_form(pv_buf *page, pv__portal_req *r)
{
    pv_buf_append_str(page, "<h2>");
    pv__portal_text(page, r, "create_account");
    pv_buf_append_str(page, "</h2>\n");
    api_form_open(page, "account-create", "POST", "/api/v1/accounts", "/accounts/{name}");
    keyed_input(page, r, "n-name", "name", "name", "", "required maxlength=\"64\"");
    keyed_input(page, r, "n-customer", "customer", "customer_name", "",
                "data-null maxlength=\"128\"");
    api_form_close(page, r, "create_account");
}
