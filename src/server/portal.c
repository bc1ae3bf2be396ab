/*
 * portal.c — the customer portal's handler: routing, the session cookie,
 * CSRF, security headers, the language, the login and logout, the static
 * files; the account's pages are portal_pages.c. See portal.h.
 */
#include "server/portal_int.h"

#include "core/alloc.h"
#include "core/form.h"
#include "core/multipart.h"
#include "core/log.h"
#include "net/sockaddr.h"
#include "server/api.h"
#include "server/console.h"
#include "server/web_assets.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

/* Session cookies (portal->cookie) are __Host-: the browser keeps it only when Secure, Path=/ and
 * without Domain (RFC 6265bis §4.1.3.2), so no sibling host can plant or overwrite a session. */
#define LANG_COOKIE "pv_lang"

/* Every answer: no script, style or frame from elsewhere, no inline script (the CSP is the
 * second line behind escaping), no sniffing, no referrer leaking a path, HTTPS only. */
static const char security_headers[] =
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: same-origin\r\n" /* no-referrer would make forms send Origin: null */
    "Cross-Origin-Opener-Policy: same-origin\r\n"
    "Cross-Origin-Resource-Policy: same-origin\r\n"
    "Strict-Transport-Security: max-age=31536000\r\n";

const char *pv__portal_t(const pv__portal_req *r, const char *key)
{
    return pv_i18n(r->lang, key);
}

const char *pv__portal_tn(const pv__portal_req *r, const char *key, long long n, char *out,
                          size_t size)
{
    const char *t = pv_i18n(r->lang, key);
    char one[96];
    if (n == 1 && (size_t)snprintf(one, sizeof one, "%s_one", key) < sizeof one) {
        const char *singular = pv_i18n(r->lang, one); /* the key itself when there is none */
        if (singular != one)
            t = singular;
    }
    const char *at = strstr(t, "{n}");
    if (at == NULL)
        snprintf(out, size, "%s", t);
    else
        snprintf(out, size, "%.*s%lld%s", (int)(at - t), t, n, at + 3);
    return out;
}

void pv__portal_text(pv_buf *out, const pv__portal_req *r, const char *key)
{
    pv_html_escape(out, pv_i18n(r->lang, key));
}

static void respond(pv__portal_req *r, int status, const char *type, const char *cache,
                    pv_buf *body)
{
    pv_response resp = {.status = status};
    size_t len = 0;
    const char *bytes = pv_request_keep_buf(r->req, body, &len);
    if (len > 0) {
        resp.body_kind = PV_BODY_MEMORY;
        resp.body = bytes;
        resp.body_len = len;
        resp.content_type = type;
    }
    resp.headers = pv_request_printf(r->req, "%sCache-Control: %s\r\n%s", security_headers, cache,
                                     r->set_cookie.data ? r->set_cookie.data : "");
    resp.identity_log =
        r->logged_in ? pv_request_printf(r->req, "login:%s", r->ses.login.name) : NULL;
    pv_request_respond(r->req, &resp);
}

void pv__portal_open(pv_buf *out, const pv__portal_req *r, const char *title_key)
{
    pv_buf_appendf(out,
                   "<!doctype html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<title>",
                   pv_lang_code(r->lang));
    pv__portal_text(out, r, title_key);
    pv_buf_append_str(out, " — ");
    pv__portal_text(out, r, r->portal->console ? "console_brand" : "brand");
    pv_buf_append_str(out, r->portal->console
                               ? "</title>\n<link rel=\"stylesheet\" href=\"/static/portal.css\">\n"
                                 "<link rel=\"stylesheet\" href=\"/static/console.css\">\n"
                                 "<script src=\"/static/console.js\" defer></script>\n"
                               : "</title>\n<link rel=\"stylesheet\" href=\"/static/portal.css\">\n"
                                 "<script src=\"/static/portal.js\" defer></script>\n");
    pv_buf_append_str(out, "</head>\n<body>\n<a class=\"skip\" href=\"#main\">");
    pv__portal_text(out, r, "skip_to_content");
    pv_buf_append_str(out, "</a>\n<header>\n<p class=\"brand\">");
    pv__portal_text(out, r, r->portal->console ? "console_brand" : "brand");
    pv_buf_append_str(out, "</p>\n<nav aria-label=\"");
    pv__portal_text(out, r, "language");
    /* The switch names each language in itself, as people look for it. */
    char here[160] = "/";
    size_t n = r->req->path.len < sizeof here - 1 ? r->req->path.len : sizeof here - 1;
    memcpy(here, r->req->path.ptr, n);
    here[n] = '\0';
    if (r->req->method != PV_METHOD_GET || strstr(here, "//") != NULL || here[0] != '/')
        snprintf(here, sizeof here, "%s", r->portal->home);
    pv_buf_append_str(out, "\">\n<ul class=\"langs\">\n");
    for (int i = 0; i < PV_LANG__COUNT; i++) {
        const char *code = pv_lang_code((pv_lang)i);
        pv_buf_appendf(out, "<li><a href=\"/lang?to=%s&amp;next=", code);
        pv_html_escape(out, here);
        pv_buf_appendf(out, "\" lang=\"%s\" hreflang=\"%s\"%s>%s</a></li>\n", code, code,
                       (pv_lang)i == r->lang ? " aria-current=\"true\"" : "",
                       i == PV_LANG_JA ? "日本語" : "English");
    }
    pv_buf_append_str(out, "</ul>\n</nav>\n");
    if (r->logged_in) {
        pv_buf_append_str(out, "<form class=\"logout\" method=\"post\" action=\"/logout\">\n"
                               "<span class=\"who\">");
        pv_html_escape(out, r->ses.login.name);
        pv_buf_append_str(out, "</span>\n");
        pv__portal_csrf_field(out, r);
        pv_buf_append_str(out, "<button type=\"submit\">");
        pv__portal_text(out, r, "logout");
        pv_buf_append_str(out, "</button>\n</form>\n");
    }
    pv_buf_append_str(out, "</header>\n<main id=\"main\">\n<h1>");
    pv__portal_text(out, r, title_key);
    pv_buf_append_str(out, "</h1>\n");
}

void pv__portal_page(pv__portal_req *r, pv_buf *page, int status)
{
    pv_buf_append_str(page, "</main>\n</body>\n</html>\n");
    respond(r, status, "text/html; charset=utf-8", "no-store", page);
}

void pv__portal_csrf_field(pv_buf *out, const pv__portal_req *r)
{
    pv_buf_appendf(out, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n", r->ses.csrf);
}

void pv__portal_button_form(pv_buf *out, const pv__portal_req *r, const char *action,
                            const char *text_key, const char *id, const char *button_key)
{
    pv_buf_appendf(out, "<form method=\"post\" action=\"%s\">\n", action);
    pv__portal_csrf_field(out, r);
    pv_buf_append_str(out, "<p>");
    pv__portal_text(out, r, text_key);
    pv_buf_appendf(out, "</p>\n<button type=\"submit\" id=\"%s\">", id);
    pv__portal_text(out, r, button_key);
    pv_buf_append_str(out, "</button>\n</form>\n");
}

void pv__portal_redirect(pv__portal_req *r, const char *path)
{
    pv_response resp = {.status = 303, .location = pv_request_strdup(r->req, path)};
    resp.headers = pv_request_printf(r->req, "%sCache-Control: no-store\r\n%s", security_headers,
                                     r->set_cookie.data ? r->set_cookie.data : "");
    pv_request_respond(r->req, &resp);
}

void pv__portal_error(pv__portal_req *r, int status, const char *title_key, const char *message)
{
    pv_buf page = {0};
    pv__portal_open(&page, r, title_key);
    pv_buf_append_str(&page, "<p class=\"error\" role=\"alert\">");
    pv_html_escape(&page, message);
    pv_buf_appendf(&page, "</p>\n<p><a href=\"%s\">", r->portal->home);
    pv__portal_text(&page, r, "back_to_account");
    pv_buf_append_str(&page, "</a></p>\n");
    pv__portal_page(r, &page, status);
}

void pv__portal_json(pv__portal_req *r, int status, const char *json)
{
    pv_buf body = {0};
    pv_buf_append_str(&body, json);
    respond(r, status, "application/json", "no-store", &body);
}

void pv__portal_audit(pv__portal_req *r, const char *action, const char *subject,
                      const char *detail)
{
    char actor[96];
    snprintf(actor, sizeof actor, "login:%s", r->logged_in ? r->ses.login.name : "-");
    pv_store_audit a = {.at = r->now,
                        .actor = actor,
                        .action = (char *)action,
                        .subject = (char *)subject,
                        .detail = (char *)detail};
    pv_error err = {""};
    if (pv_store_audit_add(r->portal->store, &a, NULL, &err) != 0)
        pv_logf(PV_LOG_ERROR, "portal.audit_failed", "action=%s error=\"%s\"", action, err.msg);
}

/* ---- cookies ---- */

static void set_cookie(pv__portal_req *r, const char *name, const char *value, int64_t max_age,
                       bool http_only)
{
    pv_buf_appendf(&r->set_cookie,
                   "Set-Cookie: %s=%s; Path=/; Max-Age=%lld; Secure;%s SameSite=Strict\r\n", name,
                   value, (long long)max_age, http_only ? " HttpOnly;" : "");
}

static bool cookie(const pv__portal_req *r, const char *name, char *out, size_t size)
{
    return pv_cookie_get(pv_request_header(r->req, "Cookie"), name, out, size);
}

/* ---- static files, language ---- */

static void serve_static(pv__portal_req *r, const char *name)
{
    char path[80];
    snprintf(path, sizeof path, "static/%s", name);
    const pv_web_asset *a = strstr(name, "..") == NULL ? pv_web_asset_find(path) : NULL;
    if (a == NULL) {
        pv__portal_error(r, 404, "not_found", pv__portal_t(r, "not_found_text"));
        return;
    }
    const char *type = strstr(name, ".css")  ? "text/css; charset=utf-8"
                       : strstr(name, ".js") ? "text/javascript; charset=utf-8"
                                             : "application/octet-stream";
    pv_response resp = {.status = 200,
                        .body_kind = PV_BODY_MEMORY,
                        .body = (const char *)a->data, /* static storage */
                        .body_len = a->len,
                        .content_type = type};
    resp.headers = pv_request_printf(r->req, "%sCache-Control: no-cache\r\n", security_headers);
    pv_request_respond(r->req, &resp);
}

/* A path of ours to go back to: one leading '/', never '//' (another host). */
static bool local_path(const char *p)
{
    return p[0] == '/' && p[1] != '/' && p[1] != '\\' && strpbrk(p, "\r\n") == NULL;
}

static void switch_language(pv__portal_req *r)
{
    char to[8] = "", next[160] = "";
    pv_lang lang;
    if (pv_form_get(r->req->query, "to", to, sizeof to) && pv_lang_parse(to, &lang)) {
        r->lang = lang;
        set_cookie(r, LANG_COOKIE, to, 365 * 86400, false);
    }
    bool ok = pv_form_get(r->req->query, "next", next, sizeof next) && local_path(next);
    pv__portal_redirect(r, ok ? next : r->portal->home);
}

/* ---- login, logout ---- */

static void login_page(pv__portal_req *r, int status, const char *message_key, int64_t retry_after)
{
    pv_buf page = {0};
    pv__portal_open(&page, r, "login_title");
    if (message_key != NULL) {
        pv_buf_append_str(&page, "<p class=\"error\" role=\"alert\" id=\"login-error\">");
        pv__portal_text(&page, r, message_key);
        if (retry_after > 0) {
            char text[256];
            pv_buf_append_char(&page, ' ');
            pv_html_escape(&page, pv__portal_tn(r, "retry_in_minutes", (retry_after + 59) / 60,
                                                text, sizeof text));
        }
        pv_buf_append_str(&page, "</p>\n");
    }
    pv_buf_append_str(&page, "<form class=\"login\" method=\"post\" action=\"/login\">\n"
                             "<label for=\"login\">");
    pv__portal_text(&page, r, "login_name");
    pv_buf_append_str(&page,
                      "</label>\n<input id=\"login\" name=\"login\" autocomplete=\"username\" "
                      "required maxlength=\"64\" autofocus>\n<label for=\"password\">");
    pv__portal_text(&page, r, "password");
    pv_buf_append_str(&page, "</label>\n<input id=\"password\" name=\"password\" type=\"password\" "
                             "autocomplete=\"current-password\" required maxlength=\"1024\">\n"
                             "<button type=\"submit\">");
    pv__portal_text(&page, r, "login_button");
    pv_buf_append_str(&page, "</button>\n</form>\n");
    pv__portal_page(r, &page, status);
}

/* A form posted from a page of another site carries its Origin: refused (the login form has
 * no session yet, so no CSRF token; SameSite=Strict covers the forms after it). The console's
 * admin listener is plain HTTP on loopback (admin.h). */
static bool same_origin(const pv__portal_req *r)
{
    pv_slice origin = pv_request_header(r->req, "Origin");
    if (origin.len == 0)
        return true;
    pv_slice host = pv_request_header(r->req, "Host");
    size_t scheme =
        r->portal->console && origin.len > 7 && memcmp(origin.ptr, "http://", 7) == 0 ? 7 : 8;
    return origin.len == host.len + scheme &&
           memcmp(origin.ptr, scheme == 7 ? "http://" : "https://", scheme) == 0 &&
           memcmp(origin.ptr + scheme, host.ptr, host.len) == 0;
}

pv_role pv__portal_role(const pv__portal_req *r)
{
    pv_role role = PV_ROLE_CUSTOMER; /* an unknown name reaches nothing of the console's */
    if (!pv_role_parse(r->ses.login.role, &role))
        role = PV_ROLE_CUSTOMER;
    return role;
}

static bool operators_only(pv_role role)
{
    return pv_role_at_least(role, PV_ROLE_VIEWER);
}

static bool customers_only(pv_role role)
{
    return role == PV_ROLE_CUSTOMER;
}

/* What a login ends with, once the password was checked (now or on a worker thread). */
static void login_answer(pv__portal_req *r, int rc, pv_login_outcome outcome, int64_t retry,
                         pv_websession *ses, const char *name, const char *source,
                         const pv_error *err)
{
    if (rc != 0) {
        pv_logf(PV_LOG_ERROR, "portal.login_failed", "error=\"%s\"", err->msg);
        pv__portal_error(r, 503, "unavailable", pv__portal_t(r, "unavailable_text"));
        return;
    }
    pv_logf(PV_LOG_INFO, "portal.login", "outcome=%s source=%s",
            outcome == PV_LOGIN_OK          ? "ok"
            : outcome == PV_LOGIN_LOCKED    ? "locked"
            : outcome == PV_LOGIN_THROTTLED ? "throttled"
                                            : "wrong",
            source);
    if (outcome == PV_LOGIN_OK) {
        set_cookie(r, r->portal->cookie, ses->token, r->portal->session.lifetime_seconds, true);
        r->ses = *ses; /* the request's now: freed with it */
        memset(ses, 0, sizeof *ses);
        r->logged_in = true;
        pv__portal_audit(r, "login.ok", pv_request_printf(r->req, "login:%s", name), NULL);
        pv__portal_redirect(r, r->portal->home);
        return;
    }
    if (outcome == PV_LOGIN_LOCKED)
        login_page(r, 429, "login_locked", retry);
    else if (outcome == PV_LOGIN_THROTTLED)
        login_page(r, 429, "login_throttled", retry);
    else
        login_page(r, 401, "login_wrong", 0);
}

typedef struct pending_login {
    uv_work_t work;
    pv_portal *portal;
    pv_request *req; /* valid until answered (handler.h) */
    pv_lang lang;
    char name[80], source[64];
    pv_login_attempt attempt;
} pending_login;

static void verify_on_worker(uv_work_t *work)
{
    pending_login *pl = work->data;
    pv_websession_login_verify(&pl->attempt); /* no store, no loop: only the hash */
}

static void verified(uv_work_t *work, int status)
{
    pending_login *pl = work->data;
    pv_portal *p = pl->portal;
    p->verifying--;
    pv__portal_req r = {.portal = p, .req = pl->req, .lang = pl->lang, .now = (int64_t)time(NULL)};
    pv_login_outcome outcome = PV_LOGIN_WRONG;
    int64_t retry = 0;
    pv_websession ses = {0};
    pv_error err = {""};
    int rc = status == 0 ? pv_websession_login_finish(p->store, &p->session, &pl->attempt, r.now,
                                                      &outcome, &retry, &ses, &err)
                         : pv_error_set(&err, PV_EIO, "the password check was cancelled");
    login_answer(&r, rc, outcome, retry, &ses, pl->name, pl->source, &err);
    pv_websession_free(&ses);
    pv_websession_free(&r.ses);
    pv_buf_free(&r.set_cookie);
    pv_login_attempt_free(&pl->attempt);
    free(pl);
}

static void do_login(pv__portal_req *r)
{
    pv_portal *p = r->portal;
    char name[80] = "", password[1100] = "";
    (void)pv_form_get(r->req->body, "login", name, sizeof name);
    (void)pv_form_get(r->req->body, "password", password, sizeof password);
    char source[64] = "-";
    pv_sockaddr_host(r->req->peer, source, sizeof source);
    pv_login_outcome outcome = PV_LOGIN_WRONG;
    int64_t retry = 0;
    bool verify = false;
    pv_login_attempt attempt;
    pv_websession ses = {0};
    pv_error err = {""};
    int rc =
        pv_websession_login_begin(p->store, &p->session, source, name, password, strlen(password),
                                  p->console ? operators_only : customers_only, r->now, &outcome,
                                  &retry, &verify, &attempt, &err);
    OPENSSL_cleanse(password, sizeof password);
    if (rc == 0 && verify && p->loop != NULL) {
        if (p->verifying >= PV_PORTAL_VERIFYING) {
            /* each check holds 19 MiB and a core for 25 ms: a burst waits its turn outside */
            pv_login_attempt_free(&attempt);
            pv__portal_error(r, 503, "unavailable", pv__portal_t(r, "unavailable_text"));
            return;
        }
        pending_login *pl = pv_calloc(1, sizeof *pl);
        *pl = (pending_login){.portal = p, .req = r->req, .lang = r->lang, .attempt = attempt};
        snprintf(pl->name, sizeof pl->name, "%s", name);
        snprintf(pl->source, sizeof pl->source, "%s", source);
        pl->work.data = pl;
        if (uv_queue_work(p->loop, &pl->work, verify_on_worker, verified) == 0) {
            p->verifying++;
            return; /* answered by verified(), on this loop */
        }
        attempt = pl->attempt;
        free(pl);
    }
    if (rc == 0 && verify) {
        pv_websession_login_verify(&attempt);
        rc = pv_websession_login_finish(p->store, &p->session, &attempt, r->now, &outcome, &retry,
                                        &ses, &err);
    }
    pv_login_attempt_free(&attempt);
    login_answer(r, rc, outcome, retry, &ses, name, source, &err);
    pv_websession_free(&ses);
}

static void do_logout(pv__portal_req *r)
{
    pv_error err = {""};
    (void)pv_websession_logout(r->portal->store, r->ses.token, &err);
    set_cookie(r, r->portal->cookie, "", 0, true);
    pv__portal_audit(r, "logout", pv_request_printf(r->req, "login:%s", r->ses.login.name), NULL);
    r->logged_in = false;
    pv__portal_redirect(r, "/login");
}

/* ---- the handler ---- */

static int open_store(pv_portal *p, pv_error *err)
{
    if (p->store != NULL)
        return 0;
    pv_store *s = NULL;
    int rc = pv_store_open(p->db_url, &s, err);
    if (rc == 0)
        rc = pv_store_migrate(s, NULL, err);
    if (rc == 0) {
        /* binding codes are kept keyed under the master key (store.h) */
        char key[4096];
        snprintf(key, sizeof key, "%s/master.key", p->data_dir);
        rc = pv_store_secrets_load(s, key, false, err);
    }
    if (rc != 0 && s != NULL)
        pv_store_close(s);
    if (rc == 0)
        p->store = s;
    return rc;
}

static bool is(const pv__portal_req *r, const char *path)
{
    return r->req->path.len == strlen(path) &&
           memcmp(r->req->path.ptr, path, r->req->path.len) == 0;
}

static void route(pv__portal_req *r)
{
    pv_request *req = r->req;
    bool get = req->method == PV_METHOD_GET || req->method == PV_METHOD_HEAD;
    bool post = req->method == PV_METHOD_POST;
    if (get && req->path.len > 8 && memcmp(req->path.ptr, "/static/", 8) == 0) {
        char name[64];
        size_t n = req->path.len - 8 < sizeof name - 1 ? req->path.len - 8 : sizeof name - 1;
        memcpy(name, req->path.ptr + 8, n);
        name[n] = '\0';
        serve_static(r, name);
        return;
    }
    if (get && is(r, "/lang")) {
        switch_language(r);
        return;
    }
    if (get && (is(r, "/") || is(r, "/login"))) {
        if (r->logged_in)
            pv__portal_redirect(r, r->portal->home);
        else if (is(r, "/"))
            pv__portal_redirect(r, "/login");
        else
            login_page(r, 200, NULL, 0);
        return;
    }
    if (post && is(r, "/login")) {
        if (!same_origin(r))
            pv__portal_error(r, 403, "forbidden", pv__portal_t(r, "csrf_refused"));
        else
            do_login(r);
        return;
    }
    if (!r->logged_in) {
        if (r->portal->console && !pv__console_page(req->path)) /* the admin listener's 404 */
            pv__portal_error(r, 404, "not_found", pv__portal_t(r, "not_found_text"));
        else if (get && !is(r, "/status.json"))
            pv__portal_redirect(r, "/login");
        else
            pv__portal_error(r, 401, "login_title", pv__portal_t(r, "session_ended"));
        return;
    }
    if (r->portal->console && pv_api_owns(req->path)) {
        pv__console_api(r); /* CSRF in a header: its bodies are JSON */
        return;
    }
    if (post) {
        /* every change carries the session's CSRF token (websession.h), checked before
         * anything is read from the form */
        char csrf[64] = "";
        pv_slice h = pv_request_header(req, "X-CSRF-Token"); /* a script's upload: not a form */
        pv_slice type = pv_request_header(req, "Content-Type");
        if (h.len > 0 && h.len < sizeof csrf)
            memcpy(csrf, h.ptr, h.len);
        else if (r->portal->console && pv_slice_starts_with(pv_slice_trim(type), "multipart/"))
            (void)pv_multipart_field(type, req->body, "csrf", csrf, sizeof csrf); /* an upload */
        else
            (void)pv_form_get(req->body, "csrf", csrf, sizeof csrf);
        if (!same_origin(r) || !pv_websession_csrf_ok(&r->ses, csrf)) {
            pv_logf(PV_LOG_WARN, "portal.csrf_refused", "login=%s", r->ses.login.name);
            pv__portal_error(r, 403, "forbidden", pv__portal_t(r, "csrf_refused"));
            return;
        }
        if (is(r, "/logout")) {
            do_logout(r);
            return;
        }
    }
    if (!(r->portal->console ? pv__console_route(r) : pv__portal_account_route(r)))
        pv__portal_error(r, 404, "not_found", pv__portal_t(r, "not_found_text"));
}

static void portal_handle(pv_handler *self, pv_request *req)
{
    pv_portal *p = self->data;
    pv__portal_req r = {.portal = p, .req = req, .now = (int64_t)time(NULL)};
    char choice[8] = "";
    (void)pv_cookie_get(pv_request_header(req, "Cookie"), LANG_COOKIE, choice, sizeof choice);
    r.lang = pv_i18n_pick(choice, pv_request_header(req, "Accept-Language"), p->language);
    pv_error err = {""};
    if (open_store(p, &err) != 0) {
        pv_logf(PV_LOG_ERROR, "portal.store_failed", "error=\"%s\"", err.msg);
        pv__portal_error(&r, 503, "unavailable", pv__portal_t(&r, "unavailable_text"));
        return;
    }
    char token[PV_WEBSESSION_TOKEN_LEN + 8];
    if (cookie(&r, p->cookie, token, sizeof token)) {
        int rc = pv_websession_open(p->store, &p->session, token, r.now, &r.ses, &err);
        r.logged_in = rc == 0 && (p->console ? operators_only(pv__portal_role(&r))
                                             : r.ses.login.account_id > 0);
        if (rc != 0 && rc != PV_ENOENT)
            pv_logf(PV_LOG_ERROR, "portal.session_failed", "error=\"%s\"", err.msg);
    }
    route(&r);
    pv_websession_free(&r.ses);
    pv_buf_free(&r.set_cookie);
}

int pv_portal_new(const pv_portal_options *o, pv_portal **out, pv_error *err)
{
    int rc = pv_i18n_load(err);
    if (rc != 0)
        return rc;
    pv_portal *p = pv_calloc(1, sizeof *p);
    p->handler = (pv_handler){.handle = portal_handle, .data = p};
    p->data_dir = pv_strdup(o->data_dir);
    if (o->db_url != NULL) {
        p->db_url = pv_strdup(o->db_url);
    } else {
        pv_buf b = {0};
        pv_buf_appendf(&b, "%s/provisor.db", o->data_dir);
        p->db_url = pv_buf_take(&b, NULL);
    }
    pv_prov_policy_defaults(&p->defaults);
    p->policy = o->policy != NULL ? o->policy : &p->defaults;
    p->session = o->session;
    p->language = o->language;
    p->console = o->console;
    p->api = o->api;
    p->home = o->console ? "/devices" : "/account";
    p->cookie = o->console ? PV_CONSOLE_COOKIE : "__Host-pv_session";
    *out = p;
    return 0;
}

void pv_portal_set_loop(pv_portal *p, struct uv_loop_s *loop)
{
    p->loop = loop;
}

void pv_portal_set_notifier(pv_portal *p, struct pv_notifier *n)
{
    p->notifier = n;
}

pv_handler *pv_portal_handler(pv_portal *p)
{
    return &p->handler;
}

void pv_portal_free(pv_portal *p)
{
    if (p == NULL)
        return;
    if (p->store != NULL)
        pv_store_close(p->store);
    free(p->data_dir);
    free(p->db_url);
    free(p);
}
