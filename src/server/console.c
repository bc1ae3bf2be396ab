/*
 * console.c — the operator console's pages (console.h): devices, a device,
 * parameter sets with the dry run of an edit, the dashboard, and the admin
 * API reached with the session. Login, logout, cookies, CSRF and headers are
 * portal.c's (the console is its console mode).
 */
#include "server/console.h"

#include "core/alloc.h"
#include "core/form.h"
#include "core/log.h"
#include "core/param.h"
#include "server/api.h"
#include "server/param_check.h"
#include "server/portal_int.h"
#include "server/render.h"
#include "net/metrics.h"
#include "server/job_metrics.h"
#include "server/notifier.h"
#include "store/store_device_search.h"
#include "store/store_rollouts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEVICES_PER_PAGE 50
#define LAYER_NAMES {"global", "model", "account", "device"}

static bool can_change(const pv__portal_req *r)
{
    return pv_role_at_least(pv__portal_role(r), PV_ROLE_OPERATOR);
}

/* Percent-encodes s for a query value or a path segment. */
static void url_escape(pv_buf *out, const char *s)
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

static void format_time(char *out, size_t size, int64_t t)
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
static void open_page(pv_buf *out, pv__portal_req *r, const char *title_key)
{
    pv__portal_open(out, r, title_key);
    pv_buf_appendf(out, "<nav class=\"console\" aria-label=\"");
    pv__portal_text(out, r, "console_nav");
    pv_buf_append_str(out, "\">\n<ul>\n");
    static const char *const links[][2] = {{"/dashboard", "dashboard_title"},
                                           {"/devices", "devices_title"},
                                           {"/accounts", "accounts_title"},
                                           {"/params", "params_title"},
                                           {"/codes", "codes_title"},
                                           {"/firmware", "firmware_title"},
                                           {"/audit", "audit_title"}};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        pv_buf_appendf(out, "<li><a href=\"%s\">", links[i][0]);
        pv__portal_text(out, r, links[i][1]);
        pv_buf_append_str(out, "</a></li>\n");
    }
    pv_buf_appendf(out, "</ul>\n<p class=\"role\" id=\"role\" data-csrf=\"%s\">", r->ses.csrf);
    pv__portal_text(out, r, "role");
    pv_buf_appendf(out, ": %s</p>\n</nav>\n", pv_role_name(pv__portal_role(r)));
}

static void store_failed(pv__portal_req *r, const pv_error *err)
{
    pv_logf(PV_LOG_ERROR, "console.store_failed", "error=\"%s\"", err->msg);
    pv__portal_error(r, 503, "unavailable", pv__portal_t(r, "unavailable_text"));
}

/* ---- devices ---- */

static void text_field(pv_buf *out, pv__portal_req *r, const char *name, const char *label_key,
                       const char *value)
{
    pv_buf_appendf(out, "<div class=\"field\"><label for=\"q-%s\">", name);
    pv__portal_text(out, r, label_key);
    pv_buf_appendf(out, "</label>\n<input id=\"q-%s\" name=\"%s\" value=\"", name, name);
    pv_html_escape(out, value);
    pv_buf_append_str(out, "\" maxlength=\"64\"></div>\n");
}

static void devices_page(pv__portal_req *r)
{
    char mac[40] = "", account[80] = "", state[16] = "", model[64] = "", fw[64] = "",
         after[16] = "";
    pv_slice q = r->req->query;
    (void)pv_form_get(q, "mac", mac, sizeof mac);
    (void)pv_form_get(q, "account", account, sizeof account);
    (void)pv_form_get(q, "state", state, sizeof state);
    (void)pv_form_get(q, "model", model, sizeof model);
    (void)pv_form_get(q, "firmware", fw, sizeof fw);
    (void)pv_form_get(q, "after", after, sizeof after);
    pv_buf page = {0};
    open_page(&page, r, "devices_title");
    pv_buf_append_str(&page, "<form class=\"search\" method=\"get\" action=\"/devices\" "
                             "role=\"search\">\n");
    text_field(&page, r, "mac", "mac_prefix", mac);
    text_field(&page, r, "account", "account", account);
    pv_buf_append_str(&page, "<div class=\"field\"><label for=\"q-state\">");
    pv__portal_text(&page, r, "state");
    pv_buf_append_str(&page, "</label>\n<select id=\"q-state\" name=\"state\">\n<option value=\"\">");
    pv__portal_text(&page, r, "any");
    pv_buf_append_str(&page, "</option>\n");
    for (int st = PV_STATE_MFG_RESET; st <= PV_STATE_SEC_PRV_2; st++) {
        const char *name = pv_store_state_name((pv_store_state)st);
        pv_buf_appendf(&page, "<option%s>%s</option>\n",
                       strcmp(state, name) == 0 ? " selected" : "", name);
    }
    pv_buf_append_str(&page, "</select></div>\n");
    text_field(&page, r, "model", "model", model);
    text_field(&page, r, "firmware", "firmware", fw);
    pv_buf_append_str(&page, "<button type=\"submit\">");
    pv__portal_text(&page, r, "search");
    pv_buf_append_str(&page, "</button>\n</form>\n");

    pv_store_device_query dq = {.state = state, .model = model, .firmware = fw};
    pv_error err = {""};
    const char *problem = NULL;
    if (pv_store_mac_prefix(mac, dq.mac_prefix, &err) != 0)
        problem = err.msg;
    if (problem == NULL && account[0] != '\0') {
        pv_store_account a = {0};
        if (pv_store_account_get_by_name(r->portal->store, account, &a, &err) == 0)
            dq.account_id = a.id;
        else
            problem = pv__portal_t(r, "no_such_account");
        pv_store_account_free(&a);
    }
    pv_store_state st_value;
    if (problem == NULL && state[0] != '\0' && pv_store_state_parse(state, &st_value) != 0)
        problem = pv__portal_t(r, "bad_state");
    if (problem != NULL) {
        pv_buf_append_str(&page, "<p class=\"error\" role=\"alert\">");
        pv_html_escape(&page, problem);
        pv_buf_append_str(&page, "</p>\n");
        pv__portal_page(r, &page, 422);
        return;
    }
    pv_store_page pg = {.limit = DEVICES_PER_PAGE};
    snprintf(pg.after, sizeof pg.after, "%s", after);
    pv_store_device *rows = NULL;
    size_t n = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (pv_store_device_find(r->portal->store, &dq, &pg, &rows, &n, &err) != 0) {
        pv_buf_free(&page);
        store_failed(r, &err);
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
    char text[200];
    pv_buf_append_str(&page, "<p class=\"found\" id=\"found\">");
    pv_html_escape(&page, pv__portal_tn(r, "devices_shown", (long long)n, text, sizeof text));
    pv_buf_appendf(&page, " <span class=\"took\">(%ld ms)</span></p>\n", ms);
    pv_buf_append_str(&page, "<table class=\"devices\">\n<thead><tr>");
    static const char *const heads[] = {"mac", "model", "account", "state", "firmware",
                                        "last_seen"};
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        pv_buf_append_str(&page, "<th scope=\"col\">");
        pv__portal_text(&page, r, heads[i]);
        pv_buf_append_str(&page, "</th>");
    }
    pv_buf_append_str(&page, "</tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < n; i++) {
        const pv_store_device *d = &rows[i];
        char seen[40];
        format_time(seen, sizeof seen, d->last_seen);
        pv_buf_appendf(&page, "<tr><td><a href=\"/devices/%s\">%s</a></td><td>", d->mac, d->mac);
        pv_html_escape(&page, d->model ? d->model : "-");
        pv_buf_appendf(&page, "</td><td>%lld</td><td>%s</td><td>", (long long)d->account_id,
                       pv_store_state_name(d->state));
        pv_html_escape(&page, d->firmware_version ? d->firmware_version : "-");
        pv_buf_appendf(&page, "</td><td>%s</td></tr>\n", seen);
    }
    pv_buf_append_str(&page, "</tbody>\n</table>\n");
    if (pg.after[0] != '\0') { /* keyset: the next page starts after this page's last MAC */
        pv_buf_append_str(&page, "<p><a rel=\"next\" id=\"next-page\" href=\"/devices?mac=");
        url_escape(&page, mac);
        pv_buf_append_str(&page, "&amp;account=");
        url_escape(&page, account);
        pv_buf_append_str(&page, "&amp;state=");
        url_escape(&page, state);
        pv_buf_append_str(&page, "&amp;model=");
        url_escape(&page, model);
        pv_buf_append_str(&page, "&amp;firmware=");
        url_escape(&page, fw);
        pv_buf_appendf(&page, "&amp;after=%s\">", rows[n - 1].mac);
        pv__portal_text(&page, r, "next_page");
        pv_buf_append_str(&page, "</a></p>\n");
    }
    pv_store_devices_free(rows, n);
    pv__portal_page(r, &page, 200);
}

/* ---- one device ---- */

static void masked(pv_buf *out, const char *name, const char *value, bool reveal)
{
    if (pv_store_param_is_secret(name) && !reveal)
        pv_buf_append_str(out, "<span class=\"masked\">••••••</span>");
    else
        pv_html_escape(out, value);
}

/* Every parameter the device's layers set: its value in each layer, the layer that wins
 * (the last that sets it: global → model → account → device, DESIGN 4) and the value the
 * render gives it once placeholders are filled. */
static void layers_table(pv_buf *out, pv__portal_req *r, const pv_store_render_input *in,
                         const pv_params *rendered, bool reveal)
{
    static const char *const layer[] = LAYER_NAMES;
    pv_buf_append_str(out, "<table class=\"layers\" id=\"layers\">\n<thead><tr><th scope=\"col\">");
    pv__portal_text(out, r, "parameter");
    pv_buf_append_str(out, "</th>");
    for (int l = 0; l < PV_LAYERS; l++) {
        pv_buf_append_str(out, "<th scope=\"col\">");
        pv__portal_text(out, r, layer[l]);
        pv_buf_append_str(out, "</th>");
    }
    pv_buf_append_str(out, "<th scope=\"col\">");
    pv__portal_text(out, r, "rendered");
    pv_buf_append_str(out, "</th></tr></thead>\n<tbody>\n");
    /* The union of names, in name order: each set is sorted, so a merge walk. */
    size_t at[PV_LAYERS] = {0};
    for (;;) {
        const char *next = NULL;
        for (int l = 0; l < PV_LAYERS; l++)
            if (at[l] < in->sets[l].n &&
                (next == NULL || strcmp(in->sets[l].entries[at[l]].name, next) < 0))
                next = in->sets[l].entries[at[l]].name;
        if (next == NULL)
            break;
        const char *name = next;
        int winner = -1;
        const char *vals[PV_LAYERS] = {0};
        for (int l = 0; l < PV_LAYERS; l++)
            if (at[l] < in->sets[l].n && strcmp(in->sets[l].entries[at[l]].name, name) == 0) {
                vals[l] = in->sets[l].entries[at[l]].value;
                winner = l;
            }
        pv_buf_append_str(out, "<tr><th scope=\"row\">");
        pv_html_escape(out, name);
        pv_buf_append_str(out, "</th>");
        for (int l = 0; l < PV_LAYERS; l++) {
            pv_buf_appendf(out, "<td%s>", l == winner ? " class=\"wins\"" : "");
            if (vals[l] != NULL)
                masked(out, name, vals[l], reveal);
            if (l == winner) {
                pv_buf_append_str(out, " <span class=\"badge\">");
                pv__portal_text(out, r, "wins");
                pv_buf_append_str(out, "</span>");
            }
            pv_buf_append_str(out, "</td>");
        }
        pv_buf_append_str(out, "<td>");
        const char *v = rendered ? pv_params_value(rendered, name) : NULL;
        if (v != NULL)
            masked(out, name, v, reveal);
        pv_buf_append_str(out, "</td></tr>\n");
        for (int l = 0; l < PV_LAYERS; l++)
            if (vals[l] != NULL)
                at[l]++;
    }
    pv_buf_append_str(out, "</tbody>\n</table>\n");
}

/* A button console.js turns into an admin API call with the session (console.h). */
static void action_button(pv_buf *out, pv__portal_req *r, const char *method, const char *path,
                          const char *body, const char *label_key)
{
    pv_buf_appendf(out, "<li><button type=\"button\" class=\"api\" data-method=\"%s\" "
                        "data-path=\"%s\" data-body=\"",
                   method, path);
    pv_html_escape(out, body);
    pv_buf_append_str(out, "\">");
    pv__portal_text(out, r, label_key);
    pv_buf_append_str(out, "</button></li>\n");
}

static void device_page(pv__portal_req *r, const char *mac, bool reveal)
{
    pv_store *s = r->portal->store;
    pv_store_render_input in = {0};
    pv_error err = {""};
    int rc = pv_store_render_load(s, mac, false, &in, &err);
    if (rc == PV_ENOENT || rc == PV_EINVAL) {
        pv__portal_error(r, 404, "not_found", err.msg);
        return;
    }
    if (rc != 0) {
        store_failed(r, &err);
        return;
    }
    const pv_store_device *d = &in.device;
    pv_buf page = {0};
    open_page(&page, r, "device_title");
    char seen[40], text[200];
    format_time(seen, sizeof seen, d->last_seen);
    pv_buf_appendf(&page, "<dl class=\"device\">\n<dt>MAC</dt><dd id=\"device-mac\">%s</dd>\n<dt>",
                   d->mac);
    pv__portal_text(&page, r, "model");
    pv_buf_append_str(&page, "</dt><dd>");
    pv_html_escape(&page, d->model ? d->model : "-");
    pv_buf_append_str(&page, "</dd>\n<dt>");
    pv__portal_text(&page, r, "account");
    pv_buf_append_str(&page, "</dt><dd>");
    pv_html_escape(&page, in.account ? in.account->name : "-");
    pv_buf_append_str(&page, "</dd>\n<dt>");
    pv__portal_text(&page, r, "state");
    pv_buf_appendf(&page, "</dt><dd>%s</dd>\n<dt>", pv_store_state_name(d->state));
    pv__portal_text(&page, r, "firmware");
    pv_buf_append_str(&page, "</dt><dd>");
    pv_html_escape(&page, d->firmware_version ? d->firmware_version : "-");
    pv_buf_append_str(&page, "</dd>\n<dt>");
    pv__portal_text(&page, r, "last_seen");
    pv_buf_appendf(&page, "</dt><dd>%s</dd>\n</dl>\n", seen);

    if (can_change(r)) {
        char path[80];
        snprintf(path, sizeof path, "/api/v1/devices/%s/actions", d->mac);
        pv_buf_append_str(&page, "<h2>");
        pv__portal_text(&page, r, "actions");
        pv_buf_append_str(&page, "</h2>\n<ul class=\"actions\">\n");
        action_button(&page, r, "POST", path, "{\"action\":\"resync\"}", "action_resync");
        action_button(&page, r, "POST", path, "{\"action\":\"reboot\"}", "action_reboot");
        snprintf(path, sizeof path, "/api/v1/devices/%s/rotate-key", d->mac);
        action_button(&page, r, "POST", path, "{}", "action_rotate_key");
        snprintf(path, sizeof path, "/api/v1/devices/%s/release", d->mac);
        action_button(&page, r, "POST", path, "{}", "action_release");
        pv_buf_append_str(&page, "</ul>\n<p class=\"outcome\" id=\"outcome\" role=\"status\" "
                                 "aria-live=\"polite\"></p>\n");
    }

    pv_buf_append_str(&page, "<h2>");
    pv__portal_text(&page, r, "layered_parameters");
    pv_buf_append_str(&page, "</h2>\n");
    pv_params rendered;
    pv_params_init(&rendered);
    pv_render_options ro = {.policy = r->portal->policy};
    rc = pv_render_params(s, d, &ro, &rendered, &err);
    if (rc != 0) {
        pv_buf_append_str(&page, "<p class=\"error\" role=\"alert\">");
        pv_html_escape(&page, err.msg);
        pv_buf_append_str(&page, "</p>\n");
    }
    layers_table(&page, r, &in, rc == 0 ? &rendered : NULL, reveal);
    pv_params_free(&rendered);
    if (!reveal && can_change(r)) {
        pv_buf_appendf(&page, "<form method=\"post\" action=\"/devices/%s/reveal\">\n", d->mac);
        pv__portal_csrf_field(&page, r);
        pv_buf_append_str(&page, "<button type=\"submit\" id=\"reveal\">");
        pv__portal_text(&page, r, "reveal_secrets");
        pv_buf_append_str(&page, "</button>\n</form>\n");
    }

    pv_buf_append_str(&page, "<h2>");
    pv__portal_text(&page, r, "reports");
    pv_buf_append_str(&page, "</h2>\n<ul class=\"reports\">\n");
    pv_store_page pg = {.limit = 20};
    pv_store_report *reports = NULL;
    size_t nr = 0;
    if (pv_store_report_list(s, d->mac, &pg, &reports, &nr, &err) == 0) {
        for (size_t i = 0; i < nr; i++) {
            format_time(text, sizeof text, reports[i].received_at);
            pv_buf_appendf(&page, "<li>#%lld %s ", (long long)reports[i].id, text);
            pv_html_escape(&page, reports[i].kind);
            pv_buf_appendf(&page, " (%zu B)</li>\n", reports[i].body_len);
        }
        pv_store_reports_free(reports, nr);
    }
    pv_buf_append_str(&page, "</ul>\n<h2>");
    pv__portal_text(&page, r, "audit_trail");
    pv_buf_append_str(&page, "</h2>\n<ul class=\"audit\" id=\"audit\">\n");
    pv_store_page ap = {.limit = 50};
    pv_store_audit *audits = NULL;
    size_t na = 0;
    if (pv_store_audit_list(s, d->mac, &ap, &audits, &na, &err) == 0) {
        for (size_t i = 0; i < na; i++) {
            format_time(text, sizeof text, audits[i].at);
            pv_buf_appendf(&page, "<li>%s ", text);
            pv_html_escape(&page, audits[i].actor);
            pv_buf_append_char(&page, ' ');
            pv_html_escape(&page, audits[i].action);
            pv_buf_append_str(&page, "</li>\n");
        }
        pv_store_audits_free(audits, na);
    }
    pv_buf_append_str(&page, "</ul>\n");
    pv_store_render_input_free(&in);
    pv__portal_page(r, &page, 200);
}

/* ---- parameter sets ---- */

/* The store's form of a scope as people type it (the API's and CLI's rule): an account by
 * name becomes account:<id>, a device's MAC in any spelling device:<12 hex>. */
static int resolve_scope(pv__portal_req *r, const char *in, char *out, size_t size, pv_error *err)
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

static void params_list_page(pv__portal_req *r)
{
    pv_buf page = {0};
    open_page(&page, r, "params_title");
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
        store_failed(r, &err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        pv_buf_append_str(&page, "<li><a href=\"/params/set?scope=");
        url_escape(&page, sets[i].scope);
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
static void params_set_page(pv__portal_req *r, const char *scope, const char *name,
                            const char *value, const char *verdict, int status)
{
    pv_buf page = {0};
    open_page(&page, r, "params_title");
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
            masked(&page, set.entries[i].name, set.entries[i].value, false);
            pv_buf_append_str(&page, "</td></tr>\n");
        }
        pv_store_param_set_free(&set);
    }
    pv_buf_append_str(&page, "</tbody>\n</table>\n<h2>");
    pv__portal_text(&page, r, "edit");
    pv_buf_append_str(&page, "</h2>\n<form class=\"edit\" method=\"post\" action=\"/params/dry-run\" "
                             "id=\"param-edit\">\n");
    pv__portal_csrf_field(&page, r);
    pv_buf_append_str(&page, "<input type=\"hidden\" name=\"scope\" value=\"");
    pv_html_escape(&page, scope);
    pv_buf_append_str(&page, "\">\n<label for=\"p-name\">");
    pv__portal_text(&page, r, "parameter");
    pv_buf_append_str(&page, "</label>\n<input id=\"p-name\" name=\"name\" required maxlength=\"128\" "
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
    if (can_change(r)) {
        pv_buf_append_str(&page, "<button type=\"button\" id=\"save\" data-path=\"/api/v1/params/");
        url_escape(&page, scope);
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
static void params_dry_run(pv__portal_req *r)
{
    char given[96] = "", scope[96] = "", name[130] = "", value[4100] = "";
    (void)pv_form_get(r->req->body, "scope", given, sizeof given);
    (void)pv_form_get(r->req->body, "name", name, sizeof name);
    (void)pv_form_get(r->req->body, "value", value, sizeof value);
    pv_error err = {""};
    int64_t reached = 0;
    int rc = resolve_scope(r, given, scope, sizeof scope, &err);
    if (rc == 0)
        rc = pv_store_scope_devices(r->portal->store, scope, &reached, &err);
    if (rc == PV_EINVAL) {
        params_set_page(r, given, name, value, err.msg, 422);
        return;
    }
    if (rc != 0) {
        store_failed(r, &err);
        return;
    }
    char text[600];
    rc = pv_param_check(r->portal->store, scope, name, value, &err);
    if (rc == PV_EINVAL || rc == PV_ESYNTAX) {
        char head[200];
        snprintf(text, sizeof text, "%s %s",
                 pv__portal_tn(r, "dry_run_refused", (long long)reached, head, sizeof head),
                 err.msg);
        params_set_page(r, scope, name, value, text, 422);
        return;
    }
    if (rc != 0) {
        store_failed(r, &err);
        return;
    }
    params_set_page(r, scope, name, value,
                    pv__portal_tn(r, "dry_run_ok", (long long)reached, text, sizeof text), 200);
}

/* ---- dashboard ---- */

typedef struct bars {
    pv_buf *out;
    char labels[12][64];
    int64_t counts[12];
    size_t n;
} bars;

static void add_bar(void *data, const char *value, int64_t count)
{
    bars *b = data;
    if (b->n == 12)
        return;
    snprintf(b->labels[b->n], sizeof b->labels[0], "%s", value[0] ? value : "-");
    b->counts[b->n++] = count;
}

/* A horizontal bar chart in inline SVG (no script, no library), with its figures as text for
 * screen readers (role="img" and a title naming every bar). */
static void draw_bars(pv__portal_req *r, pv_buf *out, const char *title_key, const bars *b)
{
    int64_t max = 1;
    for (size_t i = 0; i < b->n; i++)
        if (b->counts[i] > max)
            max = b->counts[i];
    pv_buf_append_str(out, "<figure class=\"chart\">\n<figcaption>");
    pv__portal_text(out, r, title_key);
    pv_buf_appendf(out, "</figcaption>\n<svg role=\"img\" width=\"480\" height=\"%zu\" "
                        "viewBox=\"0 0 480 %zu\"><title>",
                   b->n * 24 + 4, b->n * 24 + 4);
    for (size_t i = 0; i < b->n; i++) {
        pv_html_escape(out, b->labels[i]);
        pv_buf_appendf(out, ": %lld%s", (long long)b->counts[i], i + 1 < b->n ? ", " : "");
    }
    pv_buf_append_str(out, "</title>\n");
    for (size_t i = 0; i < b->n; i++) {
        long w = (long)(b->counts[i] * 260 / max);
        pv_buf_appendf(out, "<text x=\"0\" y=\"%zu\" class=\"label\">", i * 24 + 17);
        pv_html_escape(out, b->labels[i]);
        pv_buf_appendf(out, "</text><rect x=\"150\" y=\"%zu\" width=\"%ld\" height=\"18\" "
                            "class=\"bar\"></rect><text x=\"%ld\" y=\"%zu\">%lld</text>\n",
                       i * 24 + 4, w > 0 ? w : 1, 156 + w, i * 24 + 17,
                       (long long)b->counts[i]);
    }
    pv_buf_append_str(out, "</svg>\n</figure>\n");
}

/* The sum over every label set of a metric family in Prometheus text (this server's own
 * /metrics, rendered in memory): "name{...} value" and "name value" lines. */
static int64_t metric_sum(const char *text, const char *name, const char *label)
{
    size_t len = strlen(name);
    double sum = 0;
    for (const char *line = text; line != NULL && *line; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        if (strncmp(line, name, len) != 0 || (line[len] != '{' && line[len] != ' '))
            continue;
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (label != NULL) {
            char one[512];
            snprintf(one, sizeof one, "%.*s", (int)(n < sizeof one ? n : sizeof one - 1), line);
            if (strstr(one, label) == NULL)
                continue;
        }
        const char *space = memchr(line, ' ', n);
        if (space != NULL)
            sum += strtod(space + 1, NULL);
    }
    return (int64_t)sum;
}

/* Since the server started, from its own counters: what phones got, what was refused, the
 * device actions sent and how they ended. */
static void traffic_chart(pv__portal_req *r, pv_buf *page)
{
    pv_buf text = {0};
    pv_metrics_render(&text);
    pv_jobm_render_text(&text);
    pv_notifier_metrics(&text);
    pv_buf_append_char(&text, '\0');
    static const struct {
        const char *label, *name, *filter;
    } rows[] = {
        {"m_profiles_served", "provisor_profiles_served_total", NULL},
        {"m_refusals", "provisor_refusals_total", NULL},
        {"m_refused_connections", "provisor_refused_total", NULL},
        {"m_binding_refusals", "provisor_binding_refusals_total", NULL},
        {"m_notify_ok", "provisor_sip_notify_total", "outcome=\"ok\""},
        {"m_notify_all", "provisor_sip_notify_total", NULL},
        {"m_key_rotations", "provisor_key_rotations_total", NULL},
    };
    bars b = {.out = page};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        add_bar(&b, pv__portal_t(r, rows[i].label), metric_sum(text.data, rows[i].name, rows[i].filter));
    pv_buf_free(&text);
    draw_bars(r, page, "since_start", &b);
}

/* What is happening now: the newest device action jobs and the rollouts. */
static void now_tables(pv__portal_req *r, pv_buf *page)
{
    pv_store_page pg = {.limit = 10};
    pv_store_notify_job *jobs = NULL;
    size_t n = 0;
    pv_error err = {""};
    pv_buf_append_str(page, "<h2>");
    pv__portal_text(page, r, "recent_jobs");
    pv_buf_append_str(page, "</h2>\n<ul class=\"jobs\">\n");
    if (pv_store_notify_job_list(r->portal->store, &pg, &jobs, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            char at[40];
            format_time(at, sizeof at, jobs[i].created_at);
            pv_buf_appendf(page, "<li>#%lld %s ", (long long)jobs[i].id, at);
            pv_html_escape(page, jobs[i].action);
            pv_buf_append_char(page, ' ');
            pv_html_escape(page, jobs[i].subject);
            pv_buf_appendf(page, " (%lld) ", (long long)jobs[i].total);
            pv_html_escape(page, jobs[i].actor);
            pv_buf_append_str(page, jobs[i].finished_at ? "" : " …");
            pv_buf_append_str(page, "</li>\n");
        }
        free(jobs);
    }
    pv_buf_append_str(page, "</ul>\n<h2>");
    pv__portal_text(page, r, "rollouts");
    pv_buf_append_str(page, "</h2>\n<ul class=\"rollouts\">\n");
    pv_store_page rp = {.limit = 20};
    pv_store_rollout *rolls = NULL;
    n = 0;
    if (pv_store_rollout_list(r->portal->store, &rp, &rolls, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            pv_buf_append_str(page, "<li>");
            pv_html_escape(page, rolls[i].name);
            pv_buf_append_str(page, ": ");
            pv_html_escape(page, rolls[i].model);
            pv_buf_append_str(page, " → ");
            pv_html_escape(page, rolls[i].to_version);
            pv_buf_appendf(page, ", %s, stage %lld</li>\n", rolls[i].state,
                           (long long)rolls[i].stage);
        }
        pv_store_rollouts_free(rolls, n);
    }
    pv_buf_append_str(page, "</ul>\n");
}

static void dashboard_page(pv__portal_req *r)
{
    pv_buf page = {0};
    open_page(&page, r, "dashboard_title");
    static const struct {
        pv_store_device_by by;
        const char *key;
    } charts[] = {{PV_DEVICE_BY_STATE, "devices_by_state"},
                  {PV_DEVICE_BY_MODEL, "devices_by_model"},
                  {PV_DEVICE_BY_FIRMWARE, "devices_by_firmware"}};
    pv_buf_append_str(&page, "<div class=\"charts\">\n");
    for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++) {
        bars b = {.out = &page};
        pv_error err = {""};
        if (pv_store_device_counts(r->portal->store, charts[i].by, 12, add_bar, &b, &err) != 0) {
            pv_buf_free(&page);
            store_failed(r, &err);
            return;
        }
        draw_bars(r, &page, charts[i].key, &b);
    }
    traffic_chart(r, &page);
    pv_buf_append_str(&page, "</div>\n");
    now_tables(r, &page);
    pv__portal_page(r, &page, 200);
}

/* ---- the audit log ---- */

static void audit_page(pv__portal_req *r)
{
    char subject[96] = "", after[24] = "";
    (void)pv_form_get(r->req->query, "subject", subject, sizeof subject);
    (void)pv_form_get(r->req->query, "after", after, sizeof after);
    pv_buf page = {0};
    open_page(&page, r, "audit_title");
    pv_buf_append_str(&page, "<form method=\"get\" action=\"/audit\" role=\"search\">\n");
    text_field(&page, r, "subject", "subject", subject);
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
        store_failed(r, &err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char at[40];
        format_time(at, sizeof at, rows[i].at);
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
        url_escape(&page, subject);
        pv_buf_appendf(&page, "&amp;after=%s\">", pg.after);
        pv__portal_text(&page, r, "next_page");
        pv_buf_append_str(&page, "</a></p>\n");
    }
    pv_store_audits_free(rows, n);
    pv__portal_page(r, &page, 200);
}

/* ---- firmware ---- */

/* One table row of cells, each escaped. */
static void table_row(pv_buf *out, const char *const *cells, size_t n)
{
    pv_buf_append_str(out, "<tr>");
    for (size_t i = 0; i < n; i++) {
        pv_buf_append_str(out, "<td>");
        pv_html_escape(out, cells[i] ? cells[i] : "-");
        pv_buf_append_str(out, "</td>");
    }
    pv_buf_append_str(out, "</tr>\n");
}

static void table_head(pv_buf *out, pv__portal_req *r, const char *const *keys, size_t n)
{
    pv_buf_append_str(out, "<table>\n<thead><tr>");
    for (size_t i = 0; i < n; i++) {
        pv_buf_append_str(out, "<th scope=\"col\">");
        pv__portal_text(out, r, keys[i]);
        pv_buf_append_str(out, "</th>");
    }
    pv_buf_append_str(out, "</tr></thead>\n<tbody>\n");
}

/* The registered images, the upgrade plans and the rollouts, read-only (changes: the CLI and
 * the API, docs/rollouts.md). */
static void firmware_page(pv__portal_req *r)
{
    pv_store *s = r->portal->store;
    pv_buf page = {0};
    open_page(&page, r, "firmware_title");
    pv_error err = {""};
    pv_store_page pg = {.limit = 200};
    pv_store_firmware *fw = NULL;
    size_t n = 0;
    static const char *const fw_heads[] = {"model", "firmware", "file", "kind", "created"};
    pv_buf_append_str(&page, "<h2>");
    pv__portal_text(&page, r, "images");
    pv_buf_append_str(&page, "</h2>\n");
    table_head(&page, r, fw_heads, 5);
    if (pv_store_firmware_list(s, NULL, &pg, &fw, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            char at[40];
            format_time(at, sizeof at, fw[i].created_at);
            const char *cells[] = {fw[i].model, fw[i].version, fw[i].file_name, fw[i].kind, at};
            table_row(&page, cells, 5);
        }
        pv_store_firmwares_free(fw, n);
    }
    pv_buf_append_str(&page, "</tbody>\n</table>\n<h2>");
    pv__portal_text(&page, r, "plans");
    pv_buf_append_str(&page, "</h2>\n");
    static const char *const plan_heads[] = {"model", "target", "plan_steps"};
    table_head(&page, r, plan_heads, 3);
    pv_store_page pp = {.limit = 200};
    pv_store_plan *plans = NULL;
    if (pv_store_plan_list(s, &pp, &plans, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            const char *cells[] = {plans[i].model, plans[i].target_version, plans[i].stages};
            table_row(&page, cells, 3);
        }
        pv_store_plans_free(plans, n);
    }
    pv_buf_append_str(&page, "</tbody>\n</table>\n<h2>");
    pv__portal_text(&page, r, "rollouts");
    pv_buf_append_str(&page, "</h2>\n");
    static const char *const roll_heads[] = {"name", "model", "target", "state", "stage"};
    table_head(&page, r, roll_heads, 5);
    pv_store_page rp = {.limit = 200};
    pv_store_rollout *rolls = NULL;
    if (pv_store_rollout_list(s, &rp, &rolls, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            char stage[24];
            snprintf(stage, sizeof stage, "%lld", (long long)rolls[i].stage);
            const char *cells[] = {rolls[i].name, rolls[i].model, rolls[i].to_version,
                                   rolls[i].state, stage};
            table_row(&page, cells, 5);
        }
        pv_store_rollouts_free(rolls, n);
    }
    pv_buf_append_str(&page, "</tbody>\n</table>\n");
    pv__portal_page(r, &page, 200);
}

/* ---- accounts ---- */

/* The accounts (name order, keyset pages) with where each one's devices, codes and parameter
 * set are. Settings stay out: they hold the lines' SIP passwords. */
static void accounts_page(pv__portal_req *r)
{
    char after[80] = "";
    (void)pv_form_get(r->req->query, "after", after, sizeof after);
    pv_buf page = {0};
    open_page(&page, r, "accounts_title");
    static const char *const heads[] = {"account", "customer_name", "links"};
    table_head(&page, r, heads, 3);
    pv_store_page pg = {.limit = 100};
    snprintf(pg.after, sizeof pg.after, "%s", after);
    pv_store_account *rows = NULL;
    size_t n = 0;
    pv_error err = {""};
    if (pv_store_account_list(r->portal->store, &pg, &rows, &n, &err) != 0) {
        pv_buf_free(&page);
        store_failed(r, &err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        pv_buf_append_str(&page, "<tr><td>");
        pv_html_escape(&page, rows[i].name);
        pv_buf_append_str(&page, "</td><td>");
        pv_html_escape(&page, rows[i].customer ? rows[i].customer : "-");
        static const char *const links[][2] = {{"/devices?account=", "devices_title"},
                                               {"/codes?account=", "codes_title"},
                                               {"/params/set?scope=account:", "params_title"}};
        pv_buf_append_str(&page, "</td><td>");
        for (size_t k = 0; k < 3; k++) {
            pv_buf_appendf(&page, "%s<a href=\"%s", k ? " · " : "", links[k][0]);
            url_escape(&page, rows[i].name);
            pv_buf_append_str(&page, "\">");
            pv__portal_text(&page, r, links[k][1]);
            pv_buf_append_str(&page, "</a>");
        }
        pv_buf_append_str(&page, "</td></tr>\n");
    }
    pv_buf_append_str(&page, "</tbody>\n</table>\n");
    if (pg.after[0] != '\0') {
        pv_buf_append_str(&page, "<p><a rel=\"next\" href=\"/accounts?after=");
        url_escape(&page, pg.after);
        pv_buf_append_str(&page, "\">");
        pv__portal_text(&page, r, "next_page");
        pv_buf_append_str(&page, "</a></p>\n");
    }
    pv_store_accounts_free(rows, n);
    pv__portal_page(r, &page, 200);
}

/* ---- binding codes ---- */

/* An account's codes (hint, expiry, use; never the code: only its HMAC is kept), a button to
 * create one — the answer is shown once, on a card to print for the customer — and one to
 * revoke each unused code. */
static void codes_page(pv__portal_req *r)
{
    char account[80] = "";
    (void)pv_form_get(r->req->query, "account", account, sizeof account);
    pv_buf page = {0};
    open_page(&page, r, "codes_title");
    pv_buf_append_str(&page, "<form class=\"search\" method=\"get\" action=\"/codes\">\n");
    text_field(&page, r, "account", "account", account);
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
    if (can_change(r)) {
        pv_buf_append_str(&page, "<ul class=\"actions\">\n");
        pv_buf t = {0};
        pv_buf_append_str(&t, "/api/v1/accounts/");
        url_escape(&t, a.name);
        pv_buf_append_str(&t, "/codes");
        pv_buf_append_char(&t, '\0');
        action_button(&page, r, "POST", t.data, "{}", "code_create");
        pv_buf_free(&t);
        pv_buf_append_str(&page, "</ul>\n<p class=\"outcome\" id=\"outcome\" role=\"status\" "
                                 "aria-live=\"polite\"></p>\n<section class=\"card\" id=\"card\" "
                                 "hidden aria-labelledby=\"card-title\">\n<h2 id=\"card-title\">");
        pv__portal_text(&page, r, "card_title");
        pv_buf_append_str(&page, "</h2>\n<p>");
        pv__portal_text(&page, r, "card_text");
        pv_buf_append_str(&page, "</p>\n<p class=\"code\" id=\"card-code\"></p>\n<p>");
        pv__portal_text(&page, r, "card_expires");
        pv_buf_append_str(&page, " <span id=\"card-expires\"></span></p>\n"
                                 "<button type=\"button\" id=\"print\">");
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
    pv_buf_append_str(&page, can_change(r) ? "<th scope=\"col\">" : "");
    if (can_change(r)) {
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
            format_time(created, sizeof created, codes[i].created_at);
            format_time(expires, sizeof expires, codes[i].expires_at);
            pv_buf_appendf(&page, "<tr><td>%lld</td><td>", (long long)codes[i].id);
            pv_html_escape(&page, codes[i].hint);
            pv_buf_appendf(&page, "…</td><td>%s</td><td>%s</td><td>%s</td>", created, expires,
                           codes[i].used_by[0] ? codes[i].used_by : "-");
            if (can_change(r)) {
                pv_buf_append_str(&page, "<td>");
                if (codes[i].used_at == 0) {
                    char path[48];
                    snprintf(path, sizeof path, "/api/v1/codes/%lld", (long long)codes[i].id);
                    pv_buf_append_str(&page, "<ul class=\"actions\">");
                    action_button(&page, r, "DELETE", path, "", "code_revoke");
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

bool pv__console_page(pv_slice path)
{
    static const char *const prefixes[] = {"/devices", "/params", "/dashboard", "/audit",
                                           "/codes",   "/firmware", "/accounts", "/api/v1"};
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
        devices_page(r);
    else if (get && device_path(r, "", mac))
        device_page(r, mac, false);
    else if (post && device_path(r, "/reveal", mac)) {
        if (!can_change(r)) {
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
        device_page(r, m, true);
    } else if (get && is(r, "/params"))
        params_list_page(r);
    else if (get && is(r, "/params/set")) {
        char given[96] = "global", scope[96];
        (void)pv_form_get(r->req->query, "scope", given, sizeof given);
        pv_error err = {""};
        int rc = resolve_scope(r, given, scope, sizeof scope, &err);
        if (rc == PV_EINVAL)
            pv__portal_error(r, 422, "params_title", err.msg);
        else if (rc != 0)
            store_failed(r, &err);
        else
            params_set_page(r, scope, "", "", NULL, 200);
    } else if (post && is(r, "/params/dry-run"))
        params_dry_run(r);
    else if (get && is(r, "/dashboard"))
        dashboard_page(r);
    else if (get && is(r, "/audit"))
        audit_page(r);
    else if (get && is(r, "/codes"))
        codes_page(r);
    else if (get && is(r, "/firmware"))
        firmware_page(r);
    else if (get && is(r, "/accounts"))
        accounts_page(r);
    else
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
            pv__portal_json(r, 403, "{\"error\":{\"code\":\"csrf\",\"message\":"
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
