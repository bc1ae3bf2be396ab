/*
 * portal_codes.c — the customer portal's binding codes: a new code for the account, its page
 * with the exact URL and keypad steps (shared with the console's printed card), and the bind's
 * progress ("bound", then "configured") the page polls. A code of another account is answered
 * as one that does not exist (404).
 */
#include "server/portal_int.h"

#include "core/form.h"
#include "core/log.h"
#include "core/text.h"
#include "server/binding.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define CODE_LIFETIME (7 * 86400)

/* The code id of this account, or 0 (answers nothing). */
static bool own_code(pv__portal_req *r, int64_t id, pv_store_code *out)
{
    pv_store_page page = {.limit = PV_STORE_PAGE_MAX};
    pv_error err = {""};
    bool found = false;
    do {
        pv_store_code *rows = NULL;
        size_t n = 0;
        if (pv_store_code_list(r->portal->store, r->ses.login.account_id, &page, &rows, &n, &err) !=
            0)
            break;
        for (size_t i = 0; i < n && !found; i++)
            if (rows[i].id == id) {
                *out = rows[i];
                found = true;
            }
        free(rows);
    } while (!found && page.after[0] != '\0');
    return found;
}

/* waiting, bound (the code was used by a phone) or configured (that phone reached SEC-PRV-2). */
static const char *bind_state(pv__portal_req *r, const pv_store_code *c, pv_store_device *d)
{
    pv_error err = {""};
    if (c->used_at == 0 || c->used_by[0] == '\0')
        return c->expires_at <= r->now ? "expired" : "waiting";
    if (pv_store_device_get(r->portal->store, c->used_by, d, &err) != 0 ||
        d->account_id != r->ses.login.account_id)
        return "bound";
    return d->state == PV_STATE_SEC_PRV_2 ? "configured" : "bound";
}

static void bind_status_html(pv_buf *out, pv__portal_req *r, const pv_store_code *c)
{
    pv_store_device d = {0};
    const char *state = bind_state(r, c, &d);
    char key[32];
    snprintf(key, sizeof key, "bind_%s", state);
    pv_buf_appendf(out,
                   "<p id=\"bind-status\" class=\"bind bind-%s\" data-code=\"%lld\" "
                   "role=\"status\" aria-live=\"polite\">",
                   state, (long long)c->id);
    pv__portal_text(out, r, key);
    if (d.mac[0] != '\0') {
        pv_buf_append_str(out, " (");
        pv_buf_append_str(out, d.mac);
        pv_buf_append_str(out, ")");
    }
    pv_buf_append_str(out, "</p>\n");
    pv_store_device_free(&d);
}

/* The host phones reach us at: [provisioning] public_host, else the host the browser used. */
static void server_base(pv__portal_req *r, char *out, size_t size)
{
    const pv_prov_policy *pol = r->portal->policy;
    char host[256] = "localhost";
    if (pol->public_host != NULL && pol->public_host[0] != '\0') {
        snprintf(host, sizeof host, "%s", pol->public_host);
    } else {
        pv_slice h = pv_request_header(r->req, "Host");
        size_t n = h.len < sizeof host - 1 ? h.len : sizeof host - 1;
        memcpy(host, h.ptr, n);
        host[n] = '\0';
        char *colon = host[0] == '[' ? strstr(host, "]:") : strrchr(host, ':');
        if (colon != NULL)
            colon[host[0] == '[' ? 1 : 0] = '\0';
        if (host[0] == '\0' || strpbrk(host, "/?#@ \"<>") != NULL)
            snprintf(host, sizeof host, "localhost");
    }
    if (pol->https_port != 0 && pol->https_port != 443)
        snprintf(out, size, "https://%s:%u", host, pol->https_port);
    else
        snprintf(out, size, "https://%s", host);
}

/* Appends the URL a phone is pointed at to bind with code; NULL code: an empty
 * <span class="code-slot"> that the console's script fills once the code is made. */
static void bind_url(pv_buf *out, pv__portal_req *r, const char *base, const char *code)
{
    pv_html_escape(out, base);
    pv_buf_append_char(out, '/');
    pv_html_escape(out,
                   r->portal->policy->binding_prefix ? r->portal->policy->binding_prefix : "init");
    pv_buf_append_char(out, '/');
    if (code != NULL)
        pv_html_escape(out, code);
    else
        pv_buf_append_str(out, "<span class=\"code-slot\"></span>");
}

void pv__portal_code_steps(pv_buf *out, pv__portal_req *r, const char *code, const char *last_key)
{
    char base[320];
    server_base(r, base, sizeof base);
    /* the origin chapter: the resync URL typed into the phone's web page, or the keypad's
     * Profile Rule */
    pv_buf_append_str(out, "<h2>");
    pv__portal_text(out, r, "steps");
    pv_buf_append_str(out, "</h2>\n<ol class=\"steps\">\n<li>");
    pv__portal_text(out, r, "step_network");
    pv_buf_append_str(out, "</li>\n<li>");
    pv__portal_text(out, r, "step_address");
    pv_buf_append_str(out, "</li>\n<li>");
    pv__portal_text(out, r, "step_url");
    pv_buf_append_str(out, "<br><code id=\"resync-url\">http://");
    pv__portal_text(out, r, "phone_address");
    pv_buf_append_str(out, "/admin/resync?");
    bind_url(out, r, base, code);
    pv_buf_append_str(out, "</code></li>\n<li>");
    pv__portal_text(out, r, "step_keypad");
    pv_buf_append_str(out, "<br><code id=\"profile-rule\">");
    bind_url(out, r, base, code);
    pv_buf_append_str(out, "</code></li>\n");
    if (last_key != NULL) {
        pv_buf_append_str(out, "<li>");
        pv__portal_text(out, r, last_key);
        pv_buf_append_str(out, "</li>\n");
    }
    pv_buf_append_str(out, "</ol>\n");
}

static void code_page(pv__portal_req *r, const pv_store_code *c, const char *code)
{
    pv_buf page = {0};
    pv__portal_open(&page, r, "code_title");
    if (code != NULL) {
        pv_buf_append_str(&page, "<p>");
        pv__portal_text(&page, r, "code_is");
        pv_buf_appendf(&page, "</p>\n<p class=\"code\" id=\"code\">%s</p>\n<p class=\"hint\">",
                       code);
        pv__portal_text(&page, r, "code_once");
        pv_buf_append_str(&page, "</p>\n");
    }
    pv__portal_code_steps(&page, r, code != NULL ? code : "CODE", "step_watch");
    bind_status_html(&page, r, c);
    pv_buf_appendf(&page, "<p><a href=\"/codes/%lld\" id=\"refresh\">", (long long)c->id);
    pv__portal_text(&page, r, "refresh");
    pv_buf_append_str(&page, "</a> · <a href=\"/account\">");
    pv__portal_text(&page, r, "back_to_account");
    pv_buf_append_str(&page, "</a></p>\n");
    pv__portal_page(r, &page, code != NULL ? 201 : 200);
}

static void create_code(pv__portal_req *r)
{
    char code[13];
    pv_error err = {""};
    int64_t id = 0;
    int rc = pv_binding_new_code(code) ? 0 : pv_error_set(&err, PV_ECRYPTO, "no randomness");
    if (rc == 0)
        rc = pv_store_code_create(r->portal->store, r->ses.login.account_id, code,
                                  r->now + CODE_LIFETIME, 5, r->now, &id, &err);
    if (rc != 0) {
        pv_logf(PV_LOG_ERROR, "portal.code_failed", "error=\"%s\"", err.msg);
        pv__portal_error(r, 503, "unavailable", pv__portal_t(r, "unavailable_text"));
        return;
    }
    char subject[32];
    snprintf(subject, sizeof subject, "code:%lld", (long long)id);
    char hint[24];
    snprintf(hint, sizeof hint, "hint %.2s", code); /* never the code (DESIGN 5) */
    pv__portal_audit(r, "code.create", subject, hint);
    pv_store_code c = {
        .id = id, .account_id = r->ses.login.account_id, .expires_at = r->now + CODE_LIFETIME};
    code_page(r, &c, code);
}

static bool parse_id(const char *s, int64_t *id)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    *id = v;
    return s[0] != '\0' && *end == '\0' && v > 0;
}

/* GET /status.json?code=ID: the bind's progress for the page's script. */
static void code_status(pv__portal_req *r)
{
    char text[24] = "";
    int64_t id = 0;
    pv_store_code c = {0};
    if (!pv_form_get(r->req->query, "code", text, sizeof text) || !parse_id(text, &id) ||
        !own_code(r, id, &c)) {
        pv__portal_json(r, 404, "{\"error\":\"no such code\"}");
        return;
    }
    pv_store_device d = {0};
    const char *state = bind_state(r, &c, &d);
    char key[32];
    snprintf(key, sizeof key, "bind_%s", state);
    json_t *j = json_pack("{s:s, s:s, s:o}", "state", state, "label", pv__portal_t(r, key), "mac",
                          d.mac[0] ? json_string(d.mac) : json_null());
    pv_store_device_free(&d);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    pv__portal_json(r, 200, s);
    free(s);
}

/* The binding-code routes: POST /codes, GET /status.json, GET /codes/{id}. */
bool pv__portal_codes_route(pv__portal_req *r, const char *path)
{
    bool get = r->req->method == PV_METHOD_GET || r->req->method == PV_METHOD_HEAD;
    bool post = r->req->method == PV_METHOD_POST;
    char tail[16];
    long long id = 0;
    if (post && strcmp(path, "/codes") == 0)
        create_code(r);
    else if (get && strcmp(path, "/status.json") == 0)
        code_status(r);
    else if (get && sscanf(path, "/codes/%lld%1s", &id, tail) == 1) {
        pv_store_code c = {0};
        if (id > 0 && own_code(r, id, &c))
            code_page(r, &c, NULL);
        else
            pv__portal_error(r, 404, "not_found", pv__portal_t(r, "not_found_text"));
    } else
        return false;
    return true;
}
