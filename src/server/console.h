/*
 * console.h — the operator console (issue 13 item 1): web pages on the admin
 * listener at `/` for the people who run the fleet, beside the CLI and the
 * JSON API (docs/console.md).
 *
 * The console is the customer portal's machinery (portal.h) in another mode:
 * the same login page, session cookie rules, lockout and rate limit
 * (websession.h), CSRF, security headers, English/Japanese catalogs (i18n.h)
 * and compiled-in assets (web_assets.h) — for operator logins (`provisor user
 * create LOGIN --role admin|operator|viewer`) instead of customers. It is
 * created with pv_portal_new(&(pv_portal_options){.console = true, .api = ...})
 * and attached to the admin listener (admin.h: pv_admin.console).
 *
 *   reading   the pages read the store through the console's own handle:
 *             device search with keyset pagination (store_device_search.h),
 *             a device with its layered parameters, reports and audit trail,
 *             parameter sets with a dry run of an edit, the dashboard.
 *   changing  every change is an admin API call made by the page's script
 *             with the session (cookie + the CSRF token in X-CSRF-Token):
 *             pv_api_handle_as runs the API's route with the login's role,
 *             so a viewer's POST is refused 403 by the API's own role table,
 *             and the audit names login:<name>. The one change the console
 *             makes itself is the audit entry of revealing secrets.
 *
 * Roles: a viewer sees every page without a form or button that changes
 * anything; the server refuses the change anyway (403).
 */
#ifndef PV_SERVER_CONSOLE_H
#define PV_SERVER_CONSOLE_H

#include "server/portal.h"

/* The console's session cookie: not the portal's, so that both sessions live in one browser
 * (cookies ignore ports); the admin listener routes API calls that carry it to the console. */
#define PV_CONSOLE_COOKIE "__Host-pv_console"

#endif
