/*
 * webui.h — the phone's own web server (spec 9), as a pv_handler for
 * net/http_server.
 *
 * It answers what a browser, a provisioning technician or a test asks of a
 * phone: the direct action URLs `/admin/resync?URL`, `/admin/upgrade?URL`,
 * `/admin/reboot`, `/admin/cfg.xml` (passwords hidden), `/admin/status.xml`,
 * POST `/admin/config.xml`; the user's view `/cfg.xml` (parameters filtered
 * by their `ua` attribute, spec 3.1); and the emulator's own controls:
 * `/admin/call?start|end` (a simulated call, spec 5.3), `/admin/factory-reset`
 * (`?ivr`: as the keypad code, refused when Protect_IVR_FactoryReset is Yes),
 * `/admin/report`, `/admin/dhcp` (re-read the lease) and `/admin/clock?advance=S`
 * (virtual clock).
 *
 * Logins: HTTP Basic (`admin` or `user`) or `&xuser=admin&xpassword=...` in
 * the URL (C-FMT). Without credentials a visitor is admin while no admin
 * password is set, else user while no user password is set (spec 9: "prompt
 * if password set"). Enable_Web_Server, Enable_Web_Admin_Access and
 * Enable_Direct_Action_Url are enforced here; Provision_Enable and
 * Restricted_Access_Domains by the engine (refused with 403). A resync or
 * upgrade URL without a server uses the host that asked (spec 1.2).
 *
 * Ownership: the phone owns its webui; requests are answered synchronously
 * on the phone's loop.
 */
#ifndef PV_PHONE_WEBUI_H
#define PV_PHONE_WEBUI_H

#include "phone/phone.h"
#include "core/buf.h"
#include "net/handler.h"

typedef struct pv_webui pv_webui;

pv_webui *pv_webui_new(pv_phone *phone);
void pv_webui_free(pv_webui *w);
pv_handler *pv_webui_handler(pv_webui *w);

/* ---- exposed for the unit test ---- */

typedef struct pv_webui_target {
    char action[64]; /* "/admin/resync" */
    pv_buf arg;      /* after '?', without xuser/xpassword ("" when none) */
    char xuser[64];  /* "" when not given */
    char xpassword[128];
    bool has_arg, has_xuser;
} pv_webui_target;

/* Splits a request's path and query (`/admin/config.xml&xuser=admin&xpassword=p`,
 * `/admin/resync?http://s/p&xuser=admin&xpassword=p`). Free t->arg. */
void pv__webui_target(pv_slice path, pv_slice query, pv_webui_target *t);
/* spec 1.2: a rule whose URL names no server gets host (the requester). */
void pv__webui_default_server(const char *rule, const char *host, pv_buf *out);

#endif
