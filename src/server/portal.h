/*
 * portal.h — the customer portal (issue 10 item 3; the origin chapter's
 * "online portal"): the web pages where a customer logs in, sees the
 * account, its lines and phones, edits what the operator lets them edit,
 * obtains a binding code with the steps for the phone and watches the phone
 * bind, and unbinds a lost phone. Served by `provisor serve` on its own
 * listener (`--portal`, `[portal]`, HTTPS with the server certificate;
 * docs/portal.md), in English and Japanese (i18n.h), from files compiled in
 * (web_assets.h).
 *
 * Every page and call is scoped to the account of the session's login: a
 * phone, code or setting of another account answers 404, as one that does not
 * exist. Logins, sessions and CSRF are server/websession.h.
 *
 * Threads: the portal runs on the first loop only (like the admin API) and
 * owns one store handle, opened on first use on that loop; only the argon2id
 * check of a login leaves it, for a libuv worker thread (pv_portal_set_loop).
 * pv_portal_free after the loop stopped.
 */
#ifndef PV_SERVER_PORTAL_H
#define PV_SERVER_PORTAL_H

#include "net/handler.h"
#include "server/i18n.h"
#include "server/prov_policy.h"
#include "server/websession.h"

typedef struct pv_portal_options {
    const char *data_dir;
    const char *db_url;           /* NULL: <data_dir>/provisor.db */
    const pv_prov_policy *policy; /* renders and binding URLs; NULL: the defaults */
    pv_websession_policy session; /* lockout, rate limit, session lengths */
    pv_lang language;             /* when the browser asks for none we have */
    /* The operator console (console.h) instead of the portal: the same sessions, CSRF, i18n
     * and assets for operator logins, on the admin listener; its changes reach api. */
    bool console;
    struct pv_api *api;
} pv_portal_options;

typedef struct pv_portal pv_portal;

/* PV_EFORMAT when the built-in message catalogs do not parse. */
int pv_portal_new(const pv_portal_options *o, pv_portal **out, pv_error *err);
pv_handler *pv_portal_handler(pv_portal *p);
/* The loop the portal runs on: the password checks of logins then run on libuv's worker
 * threads (at most PV_PORTAL_VERIFYING at once, 503 beyond), so a login's argon2id work never
 * holds up the loop; without one they run inline. */
#define PV_PORTAL_VERIFYING 8
struct uv_loop_s;
void pv_portal_set_loop(pv_portal *p, struct uv_loop_s *loop);
/* The notifier "resync my phone" and settings changes use (notifier.h; the portal's loop);
 * NULL: the portal offers no resync. */
struct pv_notifier;
void pv_portal_set_notifier(pv_portal *p, struct pv_notifier *n);
void pv_portal_free(pv_portal *p);

#endif
