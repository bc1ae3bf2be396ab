/*
 * portal_int.h — what the portal's files share: portal.c (routing, sessions,
 * cookies, headers, login, static files) and portal_pages.c (the account's
 * pages and changes). A page is built into a pv_buf and sent by
 * pv__portal_page(); every text from the store passes pv_html_escape.
 */
#ifndef PV_SERVER_PORTAL_INT_H
#define PV_SERVER_PORTAL_INT_H

#include "core/buf.h"
#include "server/portal.h"
#include "store/store.h"

#include <stdint.h>

struct pv_portal {
    pv_handler handler;
    char *data_dir, *db_url;
    const pv_prov_policy *policy; /* the server's, or &defaults */
    pv_prov_policy defaults;
    pv_websession_policy session;
    pv_lang language;
    pv_store *store;        /* opened on first use, on the portal's loop */
    struct uv_loop_s *loop; /* NULL: logins verify inline */
    unsigned verifying;     /* logins whose password check is on a worker thread */
    bool console;           /* the operator console (console.c): operator logins, its routes */
    struct pv_api *api;
    struct pv_notifier *notifier; /* "resync my phone" (portal_push.c); NULL: [sip] is off */
    const char *home;             /* where a login lands: "/account", the console's "/devices" */
    const char *cookie; /* the session cookie's name: a portal and a console session in one
                         * browser (cookies ignore ports) must not replace each other */
};

/* One request being answered. */
typedef struct pv__portal_req {
    pv_portal *portal;
    pv_request *req;
    pv_lang lang;
    int64_t now;
    pv_websession ses; /* valid when logged_in */
    bool logged_in;
    pv_buf set_cookie; /* extra Set-Cookie lines */
} pv__portal_req;

/* The role of the session's login (customer when unknown). */
pv_role pv__portal_role(const pv__portal_req *r);
/* The text of key in the request's language (not escaped). */
const char *pv__portal_t(const pv__portal_req *r, const char *key);
/* The text of key with "{n}" replaced by n, into out; for n == 1 the catalog's key_one when it
 * has one ("1 device shown"). Never a printf format: a catalog is data, and a stray % in a
 * translation must not read the stack. */
const char *pv__portal_tn(const pv__portal_req *r, const char *key, long long n, char *out,
                          size_t size);
/* Appends the text of key, escaped. */
void pv__portal_text(pv_buf *out, const pv__portal_req *r, const char *key);
/* Opens a page: doctype, head, header with the language switch and logout, <main>, <h1>. */
void pv__portal_open(pv_buf *out, const pv__portal_req *r, const char *title_key);
/* Closes <main> and the page, and sends it with status. */
void pv__portal_page(pv__portal_req *r, pv_buf *page, int status);
/* A hidden CSRF field for a form of the session. */
void pv__portal_csrf_field(pv_buf *out, const pv__portal_req *r);
/* A form of one button posting to action (with the CSRF field): a paragraph of text_key,
 * then the button id labelled button_key. */
void pv__portal_button_form(pv_buf *out, const pv__portal_req *r, const char *action,
                            const char *text_key, const char *id, const char *button_key);
/* 303 to path (a page after a form: reloading it does not post again). */
void pv__portal_redirect(pv__portal_req *r, const char *path);
/* An error page: title_key, and message (already translated or from the store). */
void pv__portal_error(pv__portal_req *r, int status, const char *title_key, const char *message);
/* JSON (application/json) with the portal's headers. */
void pv__portal_json(pv__portal_req *r, int status, const char *json);
/* Adds an audit entry by login:<name> (failures are logged, not fatal). */
void pv__portal_audit(pv__portal_req *r, const char *action, const char *subject,
                      const char *detail);

/* portal_pages.c: how to point a phone at the binding URL with code (the resync URL for the
 * phone's web page, the keypad's Profile Rule; then the text of last_key, if any) — the
 * portal's code page and the console's printed card. NULL code: empty
 * <span class="code-slot"> elements for a script to fill. */
void pv__portal_code_steps(pv_buf *out, pv__portal_req *r, const char *code, const char *last_key);
/* portal_codes.c: the binding-code routes (POST /codes, GET /status.json, GET /codes/{id}); false
 * when the path is none of them. */
bool pv__portal_codes_route(pv__portal_req *r, const char *path);
/* portal_pages.c: the logged-in routes; false when the path is none of them. */
bool pv__portal_account_route(pv__portal_req *r);
/* The device mac_text if it is the session's account's (into *d, to free); false after
 * answering 404, as for a phone that does not exist. */
bool pv__portal_own_device(pv__portal_req *r, const char *mac_text, pv_store_device *d);
/* A time in UTC (<time>), or "never" for 0. */
void pv__portal_when(pv_buf *out, const pv__portal_req *r, int64_t t);
/* The same time as plain text ("2026-12-08 00:53 UTC") into text; returns text. */
const char *pv__portal_when_text(int64_t t, char *text, size_t size);

/* portal_push.c: "resync my phone" and the NOTIFY after a settings change (docs/portal.md). */
/* POST /phones/{mac}/resync (mac) and POST /resync (mac NULL: every phone of the account). */
void pv__portal_resync(pv__portal_req *r, const char *mac);
/* The phone's last NOTIFY and what became of it, with the button (phone page). */
void pv__portal_push_section(pv_buf *out, const pv__portal_req *r, const char *mac);
/* A phones-table cell: the last NOTIFY's outcome in words. */
void pv__portal_push_cell(pv_buf *out, const pv__portal_req *r, const char *mac);
/* The "resync my phones" form under the phones table (nothing when [sip] is off). */
void pv__portal_resync_all_form(pv_buf *out, const pv__portal_req *r);
/* The account page's notice after a change: settings saved (with the phones asked to resync),
 * a phone unbound, "resync my phones" sent (with those left out); nothing otherwise. */
void pv__portal_account_notice(pv_buf *out, const pv__portal_req *r);
/* GET /phones/{mac}/push.json: the last NOTIFY's outcome for the page's script. */
void pv__portal_push_json(pv__portal_req *r, const char *mac);
/* Before a settings change: the renders of the account's phones (NULL when [sip] is off). */
struct pv_push_renders *pv__portal_renders_take(pv__portal_req *r);
/* After it committed: a resync job for exactly the phones whose render changed; how many
 * were asked now (0 when none changed or [sip] is off), and in *later how many will be within
 * a minute (asked less than one ago: portal_push.c). Takes before. */
size_t pv__portal_notify_changed(pv__portal_req *r, struct pv_push_renders *before,
                                 const char *account, size_t *later);
/* console.c (its pages: console_int.h): the console's logged-in routes (false: none of them), and
 * the admin API reached with the session's login and role (docs/console.md). */
bool pv__console_route(pv__portal_req *r);
void pv__console_api(pv__portal_req *r);
/* True for a path the console serves (its pages and the API): others answer 404 to anyone. */
bool pv__console_page(pv_slice path);

#endif
