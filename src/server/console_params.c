/*
 * console_params.c — the console's parameter sets: the list, one scope's set
 * and the dry run of an edit (param_check.h, the check the API's write makes).
 */
#include "server/console_int.h"

#include "server/param_check.h"
#include "store/store_device_search.h"

#include <stdio.h>
#include <string.h>

/* The store's form of a scope as people type it (the API's and CLI's rule): an account by
 * name becomes account:<id>, a device's MAC in any spelling device:<12 hex>. */
int pv__console_resolve_scope(pv__portal_req *r, const char *in, char *out, size_t size,
                              pv_error *err)
{
    if (strncmp(in, "account:", 8) == 0 && in[8] != '\0' &&
        strspn(in + 8, "0123456789") != strlen(in + 8)) {
        pv_store_account a = {0};
        int rc = pv_store_account_get_by_name(r->portal->store, in + 8, &a, err);
        if (rc == 0)
            snprintf(out, size, "account:%lld", (long long)a.id);
        pv_store_account_free(&a);
        return rc == PV_ENOENT ? pv_error_set(err, PV_EINVAL, "no account named '%.64s'", in + 8)
                               : rc;
    }
    if (strncmp(in, "device:", 7) == 0) {
        char mac[13];
        int rc = pv_store_mac_normalize(in + 7, mac, err);
        if (rc == 0)
            snprintf(out, size, "device:%s", mac);
        return rc;
    }
    snprintf(out, size, "%s", in);
    return pv_store_scope_check(out, err);
}

void pv__console_params_list_page(pv__portal_req *r)
{
    pv_buf page = {0};
    pv__console_open_page(&page, r, "params_title");
    pv_buf_append_str(&page, "<form method=\"get\" action=\"/params/set\">\n<label for=\"scope\">");
    pv__portal_text(&page, r, "scope");
    pv_buf_append_str(&page, "</label>\n<input id=\"scope\" name=\"scope\" value=\"global\" "
                             "maxlength=\"80\">\n<button type=\"submit\">");
    pv__portal_text(&page, r, "open");
    pv_buf_append_str(&page, "</button>\n</form>\n<ul class=\"scopes\">\n");
    pv_store_page pg = {.limit = 200};
    pv_store_param_set *sets = NULL;
    size_t n = 0;
    pv_error err = {""};
    if (pv_store_params_list(r->portal->store, &pg, &sets, &n, &err) != 0) {
        pv_buf_free(&page);
        pv__console_store_failed(r, &err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        pv_buf_append_str(&page, "<li><a href=\"/params/set?scope=");
        pv__console_url_escape(&page, sets[i].scope);
        pv_buf_append_str(&page, "\">");
        pv_html_escape(&page, sets[i].scope);
        pv_buf_append_str(&page, "</a></li>\n");
    }
    pv_store_param_sets_free(sets, n);
    pv_buf_append_str(&page, "</ul>\n");
    pv__portal_page(r, &page, 200);
}

/* One scope's set, and the edit form: "Dry run" posts here (a read: every role may), "Save"
 * is console.js's PATCH of the admin API, which refuses what would not render (422). */
void pv__console_params_set_page(pv__portal_req *r, const char *scope, const char *name,
                                 const char *value, const char *verdict, int status)
{
    pv_buf page = {0};
    pv__console_open_page(&page, r, "params_title");
    pv_buf_append_str(&page, "<h2 id=\"scope-name\">");
    pv_html_escape(&page, scope);
    pv_buf_append_str(&page, "</h2>\n<table class=\"params\">\n<thead><tr><th scope=\"col\">");
    pv__portal_text(&page, r, "parameter");
    pv_buf_append_str(&page, "</th><th scope=\"col\">");
    pv__portal_text(&page, r, "value");
    pv_buf_append_str(&page, "</th></tr></thead>\n<tbody>\n");
    pv_store_param_set set = {0};
    pv_error err = {""};
    if (pv_store_params_get(r->portal->store, scope, &set, &err) == 0) {
        for (size_t i = 0; i < set.n; i++) {
            pv_buf_append_str(&page, "<tr><th scope=\"row\">");
            pv_html_escape(&page, set.entries[i].name);
            pv_buf_append_str(&page, "</th><td>");
            pv__console_masked(&page, set.entries[i].name, set.entries[i].value, false);
            pv_buf_append_str(&page, "</td></tr>\n");
        }
        pv_store_param_set_free(&set);
    }
    pv_buf_append_str(&page, "</tbody>\n</table>\n<h2>");
    pv__portal_text(&page, r, "edit");
    pv_buf_append_str(&page,
                      "</h2>\n<form class=\"edit\" method=\"post\" action=\"/params/dry-run\" "
                      "id=\"param-edit\">\n");
    pv__portal_csrf_field(&page, r);
    pv_buf_append_str(&page, "<input type=\"hidden\" name=\"scope\" value=\"");
    pv_html_escape(&page, scope);
    pv_buf_append_str(&page, "\">\n<label for=\"p-name\">");
    pv__portal_text(&page, r, "parameter");
    pv_buf_append_str(&page,
                      "</label>\n<input id=\"p-name\" name=\"name\" required maxlength=\"128\" "
                      "value=\"");
    pv_html_escape(&page, name);
    pv_buf_append_str(&page, "\">\n<label for=\"p-value\">");
    pv__portal_text(&page, r, "value");
    pv_buf_append_str(&page, "</label>\n<input id=\"p-value\" name=\"value\" maxlength=\"4096\" "
                             "value=\"");
    pv_html_escape(&page, value);
    pv_buf_append_str(&page, "\">\n<button type=\"submit\" id=\"dry-run\">");
    pv__portal_text(&page, r, "dry_run");
    pv_buf_append_str(&page, "</button>\n");
    if (pv__console_can_change(r)) {
        pv_buf_append_str(&page, "<button type=\"button\" id=\"save\" data-path=\"/api/v1/params/");
        pv__console_url_escape(&page, scope);
        pv_buf_append_str(&page, "\">");
        pv__portal_text(&page, r, "save");
        pv_buf_append_str(&page, "</button>\n");
    }
    pv_buf_append_str(&page, "</form>\n<p id=\"verdict\" role=\"status\" aria-live=\"polite\"");
    pv_buf_appendf(&page, " class=\"%s\">", status >= 400 ? "error" : "ok");
    if (verdict != NULL)
        pv_html_escape(&page, verdict);
    pv_buf_append_str(&page, "</p>\n");
    pv__portal_page(r, &page, status);
}

/* The dry run of name=value in scope: how many devices the change reaches, and whether any
 * of them would fail to render (param_check.h, the check the API's write makes). */
void pv__console_params_dry_run(pv__portal_req *r)
{
    char given[96] = "", scope[96] = "", name[130] = "", value[4100] = "";
    (void)pv_form_get(r->req->body, "scope", given, sizeof given);
    (void)pv_form_get(r->req->body, "name", name, sizeof name);
    (void)pv_form_get(r->req->body, "value", value, sizeof value);
    pv_error err = {""};
    int64_t reached = 0;
    int rc = pv__console_resolve_scope(r, given, scope, sizeof scope, &err);
    if (rc == 0)
        rc = pv_store_scope_devices(r->portal->store, scope, &reached, &err);
    if (rc == PV_EINVAL) {
        pv__console_params_set_page(r, given, name, value, err.msg, 422);
        return;
    }
    if (rc != 0) {
        pv__console_store_failed(r, &err);
        return;
    }
    char text[600];
    rc = pv_param_check(r->portal->store, scope, name, value, &err);
    if (rc == PV_EINVAL || rc == PV_ESYNTAX) {
        char head[200];
        snprintf(text, sizeof text, "%s %s",
                 pv__portal_tn(r, "dry_run_refused", (long long)reached, head, sizeof head),
                 err.msg);
        pv__console_params_set_page(r, scope, name, value, text, 422);
        return;
    }
    if (rc != 0) {
        pv__console_store_failed(r, &err);
        return;
    }
    pv__console_params_set_page(
        r, scope, name, value,
        pv__portal_tn(r, "dry_run_ok", (long long)reached, text, sizeof text), 200);
}
