/*
 * portal_pages.c — the customer portal's account pages and changes: the
 * account with its lines and phones, the settings the operator lets the
 * customer edit, a phone's page and its unbinding (binding codes and the
 * bind's progress are portal_codes.c's). Everything is read through the session's account: a phone
 * or code of another account is answered as one that does not exist (404).
 */
#include "server/portal_int.h"

#include "core/alloc.h"
#include "core/form.h"
#include "core/log.h"
#include "core/text.h"
#include "server/push.h"
#include "server/render.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DIALS 9    /* rows of the speed-dial form: the keypad's 2..9 and one more */
#define MAX_PHONES 200 /* phones listed on the account page */

static int64_t account_id(const pv__portal_req *r)
{
    return r->ses.login.account_id;
}

void pv__portal_when(pv_buf *out, const pv__portal_req *r, int64_t t)
{
    if (t == 0) {
        pv__portal_text(out, r, "never");
        return;
    }
    char text[32];
    pv_buf_appendf(out, "<time datetime=\"%lld\">%s</time>", (long long)t,
                   pv__portal_when_text(t, text, sizeof text));
}

const char *pv__portal_when_text(int64_t t, char *text, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(text, size, "%Y-%m-%d %H:%M UTC", &tm);
    return text;
}

/* "state_MFG-RESET" ...: the four states of spec 12.2, explained in the page's language. */
static void state_text(pv_buf *out, const pv__portal_req *r, pv_store_state st)
{
    char key[32];
    snprintf(key, sizeof key, "state_%s", pv_store_state_name(st));
    pv_buf_appendf(out, "<span class=\"state state-%d\">%s</span> — ", (int)st,
                   pv_store_state_name(st));
    pv__portal_text(out, r, key);
}

/* The features the operator lets this account's customer change (settings.user_features). */
static bool editable(const json_t *settings, const char *feature)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(settings, "user_features"), i, f)
    {
        if (json_is_string(f) && strcmp(json_string_value(f), feature) == 0)
            return true;
    }
    return false;
}

static json_t *load_settings(const pv_store_account *a)
{
    json_t *s = json_loads(a->settings != NULL ? a->settings : "{}", 0, NULL);
    return s != NULL ? s : json_object();
}

/* The session's account; false after answering. */
static bool get_account(pv__portal_req *r, pv_store_account *a)
{
    pv_error err = {""};
    if (pv_store_account_get(r->portal->store, account_id(r), a, &err) == 0)
        return true;
    pv__portal_error(r, 404, "not_found", pv__portal_t(r, "not_found_text"));
    return false;
}

bool pv__portal_own_device(pv__portal_req *r, const char *mac_text, pv_store_device *d)
{
    char mac[13];
    pv_error err = {""};
    if (pv_store_mac_normalize(mac_text, mac, &err) == 0 &&
        pv_store_device_get(r->portal->store, mac, d, &err) == 0) {
        if (d->account_id == account_id(r))
            return true;
        pv_store_device_free(d);
        /* someone else's phone looks like no phone: nothing tells that it exists */
        pv_logf(PV_LOG_WARN, "portal.scope_refused", "login=%s mac=%s", r->ses.login.name, mac);
    }
    pv__portal_error(r, 404, "not_found", pv__portal_t(r, "not_found_text"));
    return false;
}

/* ---- the account page ---- */

static void lines_section(pv_buf *out, const pv__portal_req *r, const json_t *settings)
{
    pv_buf_append_str(out, "<section aria-labelledby=\"lines-h\">\n<h2 id=\"lines-h\">");
    pv__portal_text(out, r, "lines");
    pv_buf_append_str(out, "</h2>\n");
    json_t *lines = json_object_get(settings, "lines");
    if (json_array_size(lines) == 0) {
        pv_buf_append_str(out, "<p>");
        pv__portal_text(out, r, "no_lines");
        pv_buf_append_str(out, "</p>\n</section>\n");
        return;
    }
    pv_buf_append_str(out, "<table>\n<thead><tr><th scope=\"col\">");
    pv__portal_text(out, r, "line");
    pv_buf_append_str(out, "</th><th scope=\"col\">");
    pv__portal_text(out, r, "number");
    pv_buf_append_str(out, "</th><th scope=\"col\">");
    pv__portal_text(out, r, "display_name");
    pv_buf_append_str(out, "</th></tr></thead>\n<tbody>\n");
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l)
    {
        pv_buf_appendf(out, "<tr><td>%lld</td><td>",
                       (long long)json_integer_value(json_object_get(l, "line")));
        pv_html_escape(out, json_string_value(json_object_get(l, "user")));
        pv_buf_append_str(out, "</td><td>");
        pv_html_escape(out, json_string_value(json_object_get(l, "display_name")));
        pv_buf_append_str(out, "</td></tr>\n");
    }
    pv_buf_append_str(out, "</tbody>\n</table>\n</section>\n");
}

static void phone_row(pv_buf *out, const pv__portal_req *r, const pv_store_device *d)
{
    pv_buf_appendf(out,
                   "<tr data-mac=\"%s\"><th scope=\"row\"><a href=\"/phones/%s\">%s</a></th>"
                   "<td>",
                   d->mac, d->mac, d->mac);
    pv_html_escape(out, d->model != NULL ? d->model : "-");
    pv_buf_append_str(out, "</td><td class=\"phone-state\">");
    state_text(out, r, d->state);
    pv_buf_append_str(out, "</td><td>");
    pv__portal_when(out, r, d->last_seen);
    pv_buf_append_str(out, "</td><td>");
    pv_html_escape(out, d->firmware_version != NULL ? d->firmware_version : "-");
    pv_buf_append_str(out, "</td><td>");
    pv_store_report rep = {0};
    pv_error err = {""};
    if (d->last_report_id != 0 &&
        pv_store_report_get(r->portal->store, d->last_report_id, &rep, &err) == 0)
        pv__portal_when(out, r, rep.received_at);
    else
        pv__portal_text(out, r, "never");
    pv_store_report_free(&rep);
    if (r->portal->notifier != NULL) { /* the last "resync my phone" and what became of it */
        pv_buf_append_str(out, "</td><td>");
        pv__portal_push_cell(out, r, d->mac);
    }
    pv_buf_append_str(out, "</td></tr>\n");
}

static void phones_section(pv_buf *out, const pv__portal_req *r)
{
    pv_buf_append_str(out, "<section aria-labelledby=\"phones-h\">\n<h2 id=\"phones-h\">");
    pv__portal_text(out, r, "phones");
    pv_buf_append_str(out, "</h2>\n");
    pv_store_page page = {.limit = MAX_PHONES};
    pv_store_device *rows = NULL;
    size_t n = 0;
    pv_error err = {""};
    if (pv_store_device_list(r->portal->store, account_id(r), &page, &rows, &n, &err) != 0)
        n = 0;
    if (n == 0) {
        pv_buf_append_str(out, "<p>");
        pv__portal_text(out, r, "no_phones");
        pv_buf_append_str(out, "</p>\n");
    } else {
        static const char *const cols[] = {"phone",    "model",       "state",      "last_seen",
                                           "firmware", "last_report", "push_column"};
        pv_buf_append_str(out, "<table id=\"phones\">\n<thead><tr>");
        size_t ncols = sizeof cols / sizeof cols[0] - (r->portal->notifier == NULL);
        for (size_t i = 0; i < ncols; i++) {
            pv_buf_append_str(out, "<th scope=\"col\">");
            pv__portal_text(out, r, cols[i]);
            pv_buf_append_str(out, "</th>");
        }
        pv_buf_append_str(out, "</tr></thead>\n<tbody>\n");
        for (size_t i = 0; i < n; i++)
            phone_row(out, r, &rows[i]);
        pv_buf_append_str(out, "</tbody>\n</table>\n");
        pv__portal_resync_all_form(out, r);
    }
    pv_store_devices_free(rows, n);
    pv__portal_button_form(out, r, "/codes", "add_phone_text", "get-code", "get_code");
    pv_buf_append_str(out, "</section>\n");
}

static void input(pv_buf *out, const char *id, const char *label, const char *value,
                  const char *extra)
{
    pv_buf_appendf(out, "<label for=\"%s\">", id);
    pv_html_escape(out, label);
    pv_buf_appendf(out, "</label>\n<input id=\"%s\" name=\"%s\" value=\"", id, id);
    pv_html_escape(out, value != NULL ? value : "");
    pv_buf_appendf(out, "\" %s>\n", extra);
}

static void settings_section(pv_buf *out, const pv__portal_req *r, const json_t *settings,
                             int64_t version)
{
    bool names = editable(settings, "display_name"), dials = editable(settings, "speed_dials");
    json_t *hunt = json_object_get(settings, "hunt_group");
    bool hunting = hunt != NULL && editable(settings, "hunt_group");
    if (!names && !dials && !hunting)
        return;
    pv_buf_append_str(out, "<section aria-labelledby=\"settings-h\">\n<h2 id=\"settings-h\">");
    pv__portal_text(out, r, "settings");
    pv_buf_append_str(out, "</h2>\n<form method=\"post\" action=\"/settings\" id=\"settings\">\n");
    pv__portal_csrf_field(out, r);
    pv_buf_appendf(out, "<input type=\"hidden\" name=\"version\" value=\"%lld\">\n",
                   (long long)version);
    json_t *lines = json_object_get(settings, "lines");
    size_t i;
    json_t *l;
    if (names) {
        pv_buf_append_str(out, "<fieldset>\n<legend>");
        pv__portal_text(out, r, "display_names");
        pv_buf_append_str(out, "</legend>\n");
        json_array_foreach(lines, i, l)
        {
            char id[32], label[96];
            long long line = (long long)json_integer_value(json_object_get(l, "line"));
            snprintf(id, sizeof id, "display_name_%lld", line);
            pv__portal_tn(r, "display_name_of_line", line, label, sizeof label);
            input(out, id, label, json_string_value(json_object_get(l, "display_name")),
                  "maxlength=\"40\"");
        }
        pv_buf_append_str(out, "</fieldset>\n");
    }
    if (dials) {
        pv_buf_append_str(out, "<fieldset>\n<legend>");
        pv__portal_text(out, r, "speed_dials");
        pv_buf_append_str(out, "</legend>\n<p class=\"hint\">");
        pv__portal_text(out, r, "speed_dials_hint");
        pv_buf_append_str(out, "</p>\n");
        json_t *sd = json_object_get(settings, "speed_dials");
        for (int k = 2; k <= MAX_DIALS; k++) {
            const char *name = NULL, *number = NULL;
            json_array_foreach(sd, i, l)
            {
                if (json_integer_value(json_object_get(l, "key")) == k) {
                    name = json_string_value(json_object_get(l, "name"));
                    number = json_string_value(json_object_get(l, "number"));
                }
            }
            char id[32], label[96];
            pv_buf_append_str(out, "<div class=\"dial\">\n");
            snprintf(id, sizeof id, "sd_name_%d", k);
            pv__portal_tn(r, "speed_dial_name", k, label, sizeof label);
            input(out, id, label, name, "maxlength=\"40\"");
            snprintf(id, sizeof id, "sd_number_%d", k);
            pv__portal_tn(r, "speed_dial_number", k, label, sizeof label);
            input(out, id, label, number,
                  "maxlength=\"32\" inputmode=\"tel\" pattern=\"[0-9*#+]*\"");
            pv_buf_append_str(out, "</div>\n");
        }
        pv_buf_append_str(out, "</fieldset>\n");
    }
    if (hunting) {
        pv_buf_append_str(out, "<fieldset>\n<legend>");
        pv__portal_text(out, r, "hunt_group");
        pv_buf_append_str(out, " ");
        pv_html_escape(out, json_string_value(json_object_get(hunt, "number")));
        pv_buf_append_str(out, "</legend>\n");
        json_array_foreach(lines, i, l)
        {
            const char *user = json_string_value(json_object_get(l, "user"));
            bool member = false;
            size_t j;
            json_t *m;
            json_array_foreach(json_object_get(hunt, "members"), j, m)
            {
                member |=
                    user != NULL && json_is_string(m) && strcmp(json_string_value(m), user) == 0;
            }
            long long line = (long long)json_integer_value(json_object_get(l, "line"));
            pv_buf_appendf(out,
                           "<div class=\"check\"><input type=\"checkbox\" id=\"hunt_%lld\" "
                           "name=\"hunt_%lld\" value=\"on\"%s>\n<label for=\"hunt_%lld\">",
                           line, line, member ? " checked" : "", line);
            pv_html_escape(out, user);
            pv_buf_append_str(out, "</label></div>\n");
        }
        pv_buf_append_str(out, "</fieldset>\n");
    }
    pv_buf_append_str(out, "<button type=\"submit\" id=\"save-settings\">");
    pv__portal_text(out, r, "save");
    pv_buf_append_str(out, "</button>\n</form>\n</section>\n");
}

static void account_page(pv__portal_req *r)
{
    pv_store_account a = {0};
    if (!get_account(r, &a))
        return;
    json_t *settings = load_settings(&a);
    pv_buf page = {0};
    pv__portal_open(&page, r, "account_title");
    pv__portal_account_notice(&page, r); /* after a change: what it did */
    pv_buf_append_str(&page, "<dl class=\"account\">\n<dt>");
    pv__portal_text(&page, r, "account");
    pv_buf_append_str(&page, "</dt><dd id=\"account-name\">");
    pv_html_escape(&page, a.name);
    pv_buf_append_str(&page, "</dd>\n<dt>");
    pv__portal_text(&page, r, "customer");
    pv_buf_append_str(&page, "</dt><dd>");
    pv_html_escape(&page, a.customer != NULL && a.customer[0] ? a.customer : "-");
    pv_buf_append_str(&page, "</dd>\n</dl>\n");
    lines_section(&page, r, settings);
    phones_section(&page, r);
    settings_section(&page, r, settings, a.version);
    json_decref(settings);
    pv_store_account_free(&a);
    pv__portal_page(r, &page, 200);
}

/* ---- settings: validated, then every profile of the account rendered before commit ---- */

static bool dial_number_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 32 && strspn(s, "0123456789*#+") == n;
}

/* Applies the form to settings; NULL, or the reason (a catalog key or a store message in
 * msg) the change is refused. */
static bool apply_form(pv__portal_req *r, json_t *settings, char *msg, size_t size)
{
    pv_slice body = r->req->body;
    json_t *lines = json_object_get(settings, "lines");
    size_t i;
    json_t *l;
    pv_error err = {""};
    if (editable(settings, "display_name")) {
        json_array_foreach(lines, i, l)
        {
            char id[32], value[256];
            snprintf(id, sizeof id, "display_name_%lld",
                     (long long)json_integer_value(json_object_get(l, "line")));
            if (!pv_form_get(body, id, value, sizeof value))
                continue;
            if (value[0] == '\0') {
                json_object_del(l, "display_name");
                continue;
            }
            if (pv_text_check(pv_slice_from(value), PV_TEXT_NAME, id, &err) != 0 ||
                strlen(value) > 120) {
                snprintf(msg, size, "%s", pv__portal_t(r, "bad_display_name"));
                return false;
            }
            json_object_set_new(l, "display_name", json_string(value));
        }
    }
    if (editable(settings, "speed_dials")) {
        json_t *old = json_object_get(settings, "speed_dials");
        json_t *dials = json_array();
        /* keys the form does not show (1, 10..99) stay as they are */
        json_array_foreach(old, i, l)
        {
            json_int_t k = json_integer_value(json_object_get(l, "key"));
            if (k < 2 || k > MAX_DIALS)
                json_array_append(dials, l);
        }
        for (int k = 2; k <= MAX_DIALS; k++) {
            char id[32], name[256] = "", number[64] = "";
            snprintf(id, sizeof id, "sd_number_%d", k);
            bool has = pv_form_get(body, id, number, sizeof number);
            snprintf(id, sizeof id, "sd_name_%d", k);
            (void)pv_form_get(body, id, name, sizeof name);
            if (!has || number[0] == '\0')
                continue; /* an empty number removes the key */
            if (!dial_number_ok(number) ||
                pv_text_check(pv_slice_from(name), PV_TEXT_NAME, id, &err) != 0 ||
                strlen(name) > 120) {
                pv__portal_tn(r, "bad_speed_dial", k, msg, size);
                json_decref(dials);
                return false;
            }
            json_t *d = json_pack("{s:i, s:s}", "key", k, "number", number);
            if (name[0] != '\0')
                json_object_set_new(d, "name", json_string(name));
            json_array_append_new(dials, d);
        }
        json_object_set_new(settings, "speed_dials", dials);
    }
    json_t *hunt = json_object_get(settings, "hunt_group");
    if (hunt != NULL && editable(settings, "hunt_group")) {
        /* the customer moves their own lines in or out; other members stay */
        json_t *members = json_array();
        json_t *m;
        json_array_foreach(json_object_get(hunt, "members"), i, m)
        {
            bool own = false;
            size_t j;
            json_array_foreach(lines, j, l)
            {
                own |= json_is_string(m) && json_equal(m, json_object_get(l, "user"));
            }
            if (!own)
                json_array_append(members, m);
        }
        json_array_foreach(lines, i, l)
        {
            char id[32], on[8];
            snprintf(id, sizeof id, "hunt_%lld",
                     (long long)json_integer_value(json_object_get(l, "line")));
            if (pv_form_get(body, id, on, sizeof on) && json_object_get(l, "user") != NULL)
                json_array_append(members, json_object_get(l, "user"));
        }
        json_object_set_new(hunt, "members", members);
    }
    return true;
}

/* Renders every phone of the account with the settings written in the open transaction:
 * 0, or the first failure in err (naming the phone). */
static int render_all(pv__portal_req *r, pv_error *err)
{
    pv_store_page page = {.limit = PV_STORE_PAGE_MAX};
    int rc = 0;
    do {
        pv_store_device *rows = NULL;
        size_t n = 0;
        rc = pv_store_device_list(r->portal->store, account_id(r), &page, &rows, &n, err);
        pv_render_options o = {.policy = r->portal->policy, .plain = true};
        for (size_t i = 0; rc == 0 && i < n; i++) {
            pv_render_output out = {0};
            rc = pv_render_device(r->portal->store, rows[i].mac, &o, &out, err);
            pv_render_output_free(&out);
            if (rc != 0)
                rc = pv_error_set(err, rc, "%s (%s): %s", pv__portal_t(r, "phone"), rows[i].mac,
                                  err->msg);
        }
        pv_store_devices_free(rows, n);
    } while (rc == 0 && page.after[0] != '\0');
    return rc;
}

static void save_settings(pv__portal_req *r)
{
    pv_store_account a = {0};
    if (!get_account(r, &a))
        return;
    json_t *settings = load_settings(&a);
    char msg[512] = "", version[24] = "";
    bool ok = apply_form(r, settings, msg, sizeof msg);
    pv_error err = {""};
    int rc = 0;
    pv_push_renders *before = ok ? pv__portal_renders_take(r) : NULL; /* spec 5.5 */
    size_t notified = 0, later = 0;
    if (ok) {
        char *text = json_dumps(settings, JSON_COMPACT | JSON_SORT_KEYS);
        free(a.settings);
        a.settings = text;
        /* the version the page was made from: a change meanwhile is not overwritten */
        a.version = pv_form_get(r->req->body, "version", version, sizeof version)
                        ? strtoll(version, NULL, 10)
                        : 0;
        rc = pv_store_begin(r->portal->store, &err);
        if (rc == 0)
            rc = pv_store_account_update(r->portal->store, &a, r->now, NULL, &err);
        if (rc == 0)
            rc = render_all(r, &err);
        if (rc != 0) {
            pv_store_rollback(r->portal->store);
            snprintf(msg, sizeof msg, "%s %s",
                     pv__portal_t(r, rc == PV_ECONFLICT ? "changed_meanwhile" : "would_not_render"),
                     rc == PV_ECONFLICT ? "" : err.msg);
        } else {
            pv__portal_audit(r, "account.settings", a.name, "portal");
            rc = pv_store_commit(r->portal->store, &err);
        }
        ok = rc == 0;
        if (ok)
            notified = pv__portal_notify_changed(r, before, a.name, &later);
        else
            pv_push_renders_free(before);
    }
    json_decref(settings);
    pv_store_account_free(&a);
    char next[80];
    snprintf(next, sizeof next, "/account?saved=1&notified=%zu&later=%zu", notified, later);
    if (ok)
        pv__portal_redirect(r, r->portal->notifier != NULL ? next : "/account?saved=1");
    else
        pv__portal_error(r, 422, "settings_refused", msg[0] ? msg : err.msg);
}

/* ---- a phone ---- */

static void phone_page(pv__portal_req *r, const char *mac)
{
    pv_store_device d = {0};
    if (!pv__portal_own_device(r, mac, &d))
        return;
    pv_buf page = {0};
    pv__portal_open(&page, r, "phone_title");
    pv_buf_appendf(&page, "<dl class=\"phone\" id=\"phone\" data-mac=\"%s\">\n<dt>", d.mac);
    pv__portal_text(&page, r, "phone");
    pv_buf_appendf(&page, "</dt><dd>%s</dd>\n<dt>", d.mac);
    pv__portal_text(&page, r, "model");
    pv_buf_append_str(&page, "</dt><dd>");
    pv_html_escape(&page, d.model ? d.model : "-");
    pv_buf_append_str(&page, "</dd>\n<dt>");
    pv__portal_text(&page, r, "state");
    pv_buf_append_str(&page, "</dt><dd>");
    state_text(&page, r, d.state);
    pv_buf_append_str(&page, "</dd>\n<dt>");
    pv__portal_text(&page, r, "last_seen");
    pv_buf_append_str(&page, "</dt><dd>");
    pv__portal_when(&page, r, d.last_seen);
    pv_buf_append_str(&page, "</dd>\n<dt>");
    pv__portal_text(&page, r, "firmware");
    pv_buf_append_str(&page, "</dt><dd>");
    pv_html_escape(&page, d.firmware_version ? d.firmware_version : "-");
    pv_buf_append_str(&page, "</dd>\n</dl>\n");
    pv__portal_push_section(&page, r, d.mac);
    pv_buf_append_str(&page, "<h2>");
    pv__portal_text(&page, r, "unbind_title");
    pv_buf_append_str(&page, "</h2>\n<p>");
    pv__portal_text(&page, r, "unbind_text");
    pv_buf_appendf(&page, "</p>\n<form method=\"post\" action=\"/phones/%s/unbind\">\n", d.mac);
    pv__portal_csrf_field(&page, r);
    pv_buf_append_str(&page, "<button type=\"submit\" class=\"danger\" id=\"unbind\">");
    pv__portal_text(&page, r, "unbind_button");
    pv_buf_append_str(&page, "</button>\n</form>\n<p><a href=\"/account\">");
    pv__portal_text(&page, r, "back_to_account");
    pv_buf_append_str(&page, "</a></p>\n");
    pv_store_device_free(&d);
    pv__portal_page(r, &page, 200);
}

/* A lost or replaced phone: released (store.h: no account, no pinned certificate, every key
 * and directory retired), so it gets nothing more; a new code binds its replacement. */
static void unbind(pv__portal_req *r, const char *mac)
{
    pv_store_device d = {0};
    if (!pv__portal_own_device(r, mac, &d))
        return;
    pv_error err = {""};
    int rc = pv_store_device_release(r->portal->store, d.mac, r->now, &err);
    if (rc == 0)
        pv__portal_audit(r, "device.release", d.mac, "portal");
    pv_store_device_free(&d);
    if (rc != 0)
        pv__portal_error(r, 503, "unavailable", err.msg);
    else
        pv__portal_redirect(r, "/account?saved=2");
}

/* ---- routing ---- */

bool pv__portal_account_route(pv__portal_req *r)
{
    pv_request *req = r->req;
    bool get = req->method == PV_METHOD_GET || req->method == PV_METHOD_HEAD;
    bool post = req->method == PV_METHOD_POST;
    char path[128];
    if (req->path.len >= sizeof path)
        return false;
    memcpy(path, req->path.ptr, req->path.len);
    path[req->path.len] = '\0';
    char mac[32], tail[16];
    if (get && strcmp(path, "/account") == 0)
        account_page(r);
    else if (post && strcmp(path, "/settings") == 0)
        save_settings(r);
    else if (pv__portal_codes_route(r, path))
        ;
    else if (get && sscanf(path, "/phones/%17[0-9a-fA-F:-]%1s", mac, tail) == 1)
        phone_page(r, mac);
    else if (post && sscanf(path, "/phones/%17[0-9a-fA-F:-]/unbin%1[d]", mac, tail) == 2 &&
             strlen(path) == 8 + strlen(mac) + 7)
        unbind(r, mac);
    else if (post && sscanf(path, "/phones/%17[0-9a-fA-F:-]/resyn%1[c]", mac, tail) == 2 &&
             strlen(path) == 8 + strlen(mac) + 7)
        pv__portal_resync(r, mac);
    else if (get && sscanf(path, "/phones/%17[0-9a-fA-F:-]/push.jso%1[n]", mac, tail) == 2 &&
             strlen(path) == 8 + strlen(mac) + 10)
        pv__portal_push_json(r, mac);
    else if (post && strcmp(path, "/resync") == 0)
        pv__portal_resync(r, NULL);
    else
        return false;
    return true;
}
