/*
 * console.c — the operator console's shared chrome and routing (console.h):
 * the page frame and navigation, the helpers every page uses (console_int.h),
 * the routes to each page's module, and the admin API reached with the
 * session. Login, logout, cookies, CSRF and headers are portal.c's (the
 * console is its console mode). Each page lives in its own console_*.c.
 */
#include "server/console_int.h"

#include "core/log.h"
#include "server/api.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

bool pv__console_can_change(const pv__portal_req *r)
{
    return pv_role_at_least(pv__portal_role(r), PV_ROLE_OPERATOR);
}

/* Percent-encodes s for a query value or a path segment. */
void pv__console_url_escape(pv_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-_.~", *p) != NULL) {
            pv_buf_append_char(out, (char)*p);
        } else {
            pv_buf_append_char(out, '%');
            pv_buf_append_char(out, hex[*p >> 4]);
            pv_buf_append_char(out, hex[*p & 15]);
        }
    }
}

void pv__console_format_time(char *out, size_t size, int64_t t)
{
    if (t <= 0) {
        snprintf(out, size, "-");
        return;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, size, "%Y-%m-%d %H:%M:%SZ", &tm);
}

/* The page's head, the console's navigation, and the <h1>. The CSRF token rides on <body>'s
 * sibling <meta> for console.js (calls carry it in X-CSRF-Token). */
void pv__console_open_page(pv_buf *out, pv__portal_req *r, const char *title_key)
{
    pv__portal_open(out, r, title_key);
    pv_buf_appendf(out, "<nav class=\"console\" aria-label=\"");
    pv__portal_text(out, r, "console_nav");
    pv_buf_append_str(out, "\">\n<ul>\n");
    static const char *const links[][2] = {
        {"/dashboard", "dashboard_title"}, {"/devices", "devices_title"},
        {"/accounts", "accounts_title"},   {"/params", "params_title"},
        {"/codes", "codes_title"},         {"/import", "import_title"},
        {"/firmware", "firmware_title"},   {"/audit", "audit_title"}};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        pv_buf_appendf(out, "<li><a href=\"%s\">", links[i][0]);
        pv__portal_text(out, r, links[i][1]);
        pv_buf_append_str(out, "</a></li>\n");
    }
    pv_buf_appendf(out, "</ul>\n<p class=\"role\" id=\"role\" data-csrf=\"%s\">", r->ses.csrf);
    pv__portal_text(out, r, "role");
    pv_buf_appendf(out, ": %s</p>\n</nav>\n", pv_role_name(pv__portal_role(r)));
}

void pv__console_store_failed(pv__portal_req *r, const pv_error *err)
{
    pv_logf(PV_LOG_ERROR, "console.store_failed", "error=\"%s\"", err->msg);
    pv__portal_error(r, 503, "unavailable", pv__portal_t(r, "unavailable_text"));
}

void pv__console_text_field(pv_buf *out, pv__portal_req *r, const char *name, const char *label_key,
                            const char *value)
{
    pv_buf_appendf(out, "<div class=\"field\"><label for=\"q-%s\">", name);
    pv__portal_text(out, r, label_key);
    pv_buf_appendf(out, "</label>\n<input id=\"q-%s\" name=\"%s\" value=\"", name, name);
    pv_html_escape(out, value);
    pv_buf_append_str(out, "\" maxlength=\"64\"></div>\n");
}

void pv__console_masked(pv_buf *out, const char *name, const char *value, bool reveal)
{
    if (pv_store_param_is_secret(name) && !reveal)
        pv_buf_append_str(out, "<span class=\"masked\">••••••</span>");
    else
        pv_html_escape(out, value);
}

/* A button console.js turns into an admin API call with the session (console.h). */
void pv__console_action_button(pv_buf *out, pv__portal_req *r, const char *method, const char *path,
                               const char *body, const char *label_key)
{
    pv_buf_appendf(out,
                   "<li><button type=\"button\" class=\"api\" data-method=\"%s\" "
                   "data-path=\"%s\" data-body=\"",
                   method, path);
    pv_html_escape(out, body);
    pv_buf_append_str(out, "\">");
    pv__portal_text(out, r, label_key);
    pv_buf_append_str(out, "</button></li>\n");
}

/* One table row of cells, each escaped. */
void pv__console_table_row(pv_buf *out, const char *const *cells, size_t n)
{
    pv_buf_append_str(out, "<tr>");
    for (size_t i = 0; i < n; i++) {
        pv_buf_append_str(out, "<td>");
        pv_html_escape(out, cells[i] ? cells[i] : "-");
        pv_buf_append_str(out, "</td>");
    }
    pv_buf_append_str(out, "</tr>\n");
}

void pv__console_table_head(pv_buf *out, pv__portal_req *r, const char *const *keys, size_t n)
{
    pv_buf_append_str(out, "<table>\n<thead><tr>");
    for (size_t i = 0; i < n; i++) {
        pv_buf_append_str(out, "<th scope=\"col\">");
        pv__portal_text(out, r, keys[i]);
        pv_buf_append_str(out, "</th>");
    }
    pv_buf_append_str(out, "</tr></thead>\n<tbody>\n");
}

/* ---- routing ---- */

static bool is(const pv__portal_req *r, const char *path)
{
    return pv_slice_eq_cstr(r->req->path, path);
}

/* "/devices/<mac>[/tail]": the MAC into mac; false for another path. */
static bool device_path(const pv__portal_req *r, const char *tail, char mac[13])
{
    pv_slice p = r->req->path;
    if (!pv_slice_starts_with(p, "/devices/") || p.len < 9 + 12)
        return false;
    size_t rest = p.len - 9 - 12;
    if (rest != strlen(tail) || memcmp(p.ptr + 9 + 12, tail, rest) != 0)
        return false;
    memcpy(mac, p.ptr + 9, 12);
    mac[12] = '\0';
    return true;
}

/* "/import/<id>": the id, or 0 for another path. */
static int64_t import_id(const pv__portal_req *r)
{
    pv_slice p = r->req->path;
    int64_t id = 0;
    for (size_t i = 8; i < p.len; i++) {
        if (p.ptr[i] < '0' || p.ptr[i] > '9' || id > INT64_MAX / 10 - 1)
            return 0;
        id = id * 10 + (p.ptr[i] - '0');
    }
    return id;
}

bool pv__console_page(pv_slice path)
{
    static const char *const prefixes[] = {"/devices",  "/params", "/dashboard",
                                           "/audit",    "/codes",  "/firmware",
                                           "/accounts", "/import", "/api/v1"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (pv_slice_starts_with(path, prefixes[i]))
            return true;
    return false;
}

bool pv__console_route(pv__portal_req *r)
{
    bool get = r->req->method == PV_METHOD_GET || r->req->method == PV_METHOD_HEAD;
    bool post = r->req->method == PV_METHOD_POST; /* CSRF checked by portal.c's route */
    char mac[13];
    if (get && is(r, "/devices"))
        pv__console_devices_page(r);
    else if (get && device_path(r, "", mac))
        pv__console_device_page(r, mac, false);
    else if (post && device_path(r, "/reveal", mac)) {
        if (!pv__console_can_change(r)) {
            pv__portal_error(r, 403, "forbidden", pv__portal_t(r, "role_refused"));
            return true;
        }
        char m[13];
        pv_error err = {""};
        if (pv_store_mac_normalize(mac, m, &err) != 0) { /* nothing audited for no device */
            pv__portal_error(r, 404, "not_found", err.msg);
            return true;
        }
        pv__portal_audit(r, "device.secrets_revealed", m, NULL);
        pv__console_device_page(r, m, true);
    } else if (get && is(r, "/params"))
        pv__console_params_list_page(r);
    else if (get && is(r, "/params/set")) {
        char given[96] = "global", scope[96];
        (void)pv_form_get(r->req->query, "scope", given, sizeof given);
        pv_error err = {""};
        int rc = pv__console_resolve_scope(r, given, scope, sizeof scope, &err);
        if (rc == PV_EINVAL)
            pv__portal_error(r, 422, "params_title", err.msg);
        else if (rc != 0)
            pv__console_store_failed(r, &err);
        else
            pv__console_params_set_page(r, scope, "", "", NULL, 200);
    } else if (post && is(r, "/params/dry-run"))
        pv__console_params_dry_run(r);
    else if (get && is(r, "/dashboard"))
        pv__console_dashboard_page(r);
    else if (get && is(r, "/audit"))
        pv__console_audit_page(r);
    else if (get && is(r, "/codes"))
        pv__console_codes_page(r);
    else if (get && is(r, "/firmware"))
        pv__console_firmware_page(r, NULL);
    else if (post && is(r, "/firmware/upload"))
        pv__console_firmware_upload(r);
    else if (post && pv__console_plans_post(r)) {
        /* answered: a redirect, or the page with the API's refusal */
    }
    else if (get && is(r, "/import"))
        pv__console_import_page(r);
    else if (post && is(r, "/import"))
        pv__console_import_post(r);
    else if (get && pv_slice_starts_with(r->req->path, "/import/") && import_id(r) > 0)
        pv__console_import_job_page(r, import_id(r));
    else if (get && is(r, "/accounts"))
        pv__console_accounts_page(r);
    else if (get && pv_slice_starts_with(r->req->path, "/accounts/") && r->req->path.len > 10 &&
             r->req->path.len < 10 + 80 &&
             memchr(r->req->path.ptr + 10, '/', r->req->path.len - 10) == NULL) {
        char name[80]; /* names are letters, digits and -_.@ (api_accounts.c): no escapes */
        memcpy(name, r->req->path.ptr + 10, r->req->path.len - 10);
        name[r->req->path.len - 10] = '\0';
        pv__console_account_page(r, name);
    } else
        return false;
    return true;
}

/* The admin API with the session: changes carry the CSRF token in X-CSRF-Token (their bodies
 * are JSON, which a form on another site cannot send with our cookie anyway, SameSite=Strict). */
void pv__console_api(pv__portal_req *r)
{
    bool read = r->req->method == PV_METHOD_GET || r->req->method == PV_METHOD_HEAD;
    if (!read) {
        char csrf[PV_WEBSESSION_TOKEN_LEN + 8] = "";
        pv_slice h = pv_request_header(r->req, "X-CSRF-Token");
        if (h.len < sizeof csrf) {
            memcpy(csrf, h.ptr, h.len);
            csrf[h.len] = '\0';
        }
        if (!pv_websession_csrf_ok(&r->ses, csrf)) {
            pv_logf(PV_LOG_WARN, "console.csrf_refused", "login=%s", r->ses.login.name);
            pv__portal_json(r, 403,
                            "{\"error\":{\"code\":\"csrf\",\"message\":"
                            "\"the request lacks the session's CSRF token\"}}");
            return;
        }
    }
    if (r->portal->api == NULL) {
        pv__portal_json(r, 404, "{\"error\":{\"code\":\"not_found\",\"message\":\"no API\"}}");
        return;
    }
    char actor[96];
    snprintf(actor, sizeof actor, "login:%s", r->ses.login.name);
    pv_api_handle_as(r->portal->api, r->req, actor, (int)pv__portal_role(r));
}
