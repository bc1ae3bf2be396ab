/*
 * console_int.h — what the console's files share (console.h is the public
 * side). console.c owns the chrome every page wears (the navigation, the
 * helpers below) and the routing; each page lives in its own module:
 *
 *   console_devices.c    the device search and a device's page
 *   console_reports.c    a device's reports and their diff against its rendering
 *   console_params.c     parameter sets, one scope's set, the dry run of an edit
 *   console_dashboard.c  the dashboard's charts, per-minute rates (rates.h) and "now"
 *   console_accounts.c   the accounts
 *   console_account.c    one account: name, customer, customers, delete
 *   console_settings.c   an account's settings as a form (JSON for the rest)
 *   console_codes.c      an account's binding codes and the printable card
 *   console_firmware.c   rollouts with their stages' health and decisions
 *   console_plans.c      the firmware page's images and upgrade plans, and their forms
 *   console_audit.c      the audit log
 *   console_import.c     the CSV device import: upload, the server's job, its error report
 *   console_upload.c     the files of plain upload forms (multipart/form-data)
 *
 * A page is built into a pv_buf and sent by pv__portal_page() (portal_int.h);
 * every text from the store passes pv_html_escape. A page adds its route in
 * pv__console_route (console.c) and its path prefix in pv__console_page.
 * Changes are never made here: a button carries an admin API call that
 * console.js sends with the session (pv__console_api → pv_api_handle_as).
 */
#ifndef PV_SERVER_CONSOLE_INT_H
#define PV_SERVER_CONSOLE_INT_H

#include "core/buf.h"
#include "core/form.h"
#include "server/portal_int.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- shared chrome (console.c) ---- */

/* True when the session's role may change things (operator and admin): the page shows its
 * buttons and forms only then; the API refuses the change anyway (403). */
bool pv__console_can_change(const pv__portal_req *r);
/* Percent-encodes s for a query value or a path segment. */
void pv__console_url_escape(pv_buf *out, const char *s);
/* t (seconds since the epoch) as "YYYY-MM-DD HH:MM:SSZ", "-" for none. */
void pv__console_format_time(char *out, size_t size, int64_t t);
/* The page's head, the console's navigation (with the session's CSRF token for console.js)
 * and the <h1> of title_key. */
void pv__console_open_page(pv_buf *out, pv__portal_req *r, const char *title_key);
/* Logs err and answers 503. */
void pv__console_store_failed(pv__portal_req *r, const pv_error *err);
/* A labelled text input named name (id "q-<name>") holding value. */
void pv__console_text_field(pv_buf *out, pv__portal_req *r, const char *name, const char *label_key,
                            const char *value);
/* value, escaped, or a mask when name holds a secret and reveal is false. */
void pv__console_masked(pv_buf *out, const char *name, const char *value, bool reveal);
/* An <li><button> console.js turns into the admin API call method path with body. */
void pv__console_action_button(pv_buf *out, pv__portal_req *r, const char *method, const char *path,
                               const char *body, const char *label_key);
/* A <table> with a head of the texts of keys; one row of n escaped cells ("-" for NULL). */
void pv__console_table_head(pv_buf *out, pv__portal_req *r, const char *const *keys, size_t n);
void pv__console_table_row(pv_buf *out, const char *const *cells, size_t n);

/* ---- the pages (one module each) ---- */

void pv__console_devices_page(pv__portal_req *r);
void pv__console_device_page(pv__portal_req *r, const char *mac, bool reveal);
/* A device's reports and the diff of one of them (?report=ID, else the newest) against its
 * rendering (console_reports.c). */
void pv__console_device_reports(pv__portal_req *r, pv_buf *page, const char *mac);
/* The store's form of a scope as people type it (account by name, a MAC in any spelling). */
int pv__console_resolve_scope(pv__portal_req *r, const char *in, char *out, size_t size,
                              pv_error *err);
void pv__console_params_list_page(pv__portal_req *r);
void pv__console_params_set_page(pv__portal_req *r, const char *scope, const char *name,
                                 const char *value, const char *verdict, int status);
void pv__console_params_dry_run(pv__portal_req *r);
void pv__console_dashboard_page(pv__portal_req *r);
void pv__console_audit_page(pv__portal_req *r);
/* A refused form of the firmware page (console_plans.c): which ("image", "plan"), the API's
 * status and message, and the fields as typed (a, b, c: model, version or target, file or
 * steps), shown again. */
typedef struct pv__console_fw_form {
    char which[8];
    int status;
    char message[512];
    char a[128], b[128], c[512];
} pv__console_fw_form;
/* The firmware page; f: a refused form to show with its verdict (status f->status), or NULL. */
void pv__console_firmware_page(pv__portal_req *r, const pv__console_fw_form *f);
/* The page's images and plans, with operators' forms (console_plans.c). */
void pv__console_images_and_plans(pv__portal_req *r, pv_buf *page, const pv__console_fw_form *f);
/* A plan's steps as the API holds them ([["from","to"], ...], JSON text) written as people type
 * them, "from:to, from:to" (the CLI's --stage FROM:TO), appended to out; and that text back
 * into the array (a new reference; a step without its colon becomes a one-element array, for
 * the API to refuse by name). Fuzzed: tests/fuzz/fuzz_plan_steps.c. */
struct json_t;
void pv__console_plan_steps_text(pv_buf *out, const char *json);
struct json_t *pv__console_plan_steps_json(const char *text);
/* POST /firmware/images, /firmware/images/delete, /firmware/plans, /firmware/plans/delete:
 * the forms, as the admin API's calls; false for another path. */
bool pv__console_plans_post(pv__portal_req *r);
/* POST /firmware/upload: a firmware image from the plain form (console_plans.c). */
void pv__console_firmware_upload(pv__portal_req *r);

/* ---- console_upload.c: the files of plain upload forms (multipart/form-data) ---- */
typedef struct pv__console_upload {
    pv_buf data;        /* the file's bytes */
    char filename[256]; /* as the browser named it */
    bool found;
} pv__console_upload;
/* The file of the form's part called field into up: 0, or an error saying what is wrong with
 * the form (free up with pv__console_upload_free either way). */
int pv__console_form_file(pv__portal_req *r, const char *field, pv__console_upload *up,
                          pv_error *err);
void pv__console_upload_free(pv__console_upload *up);
/* The admin API's call (path may carry a query) with body as the session's login and role:
 * the status; a refusal's message into message; *answer the JSON text (free it; may be NULL). */
int pv__console_call(pv__portal_req *r, const char *method, const char *path, pv_slice body,
                     char *message, size_t size, char **answer);
void pv__console_accounts_page(pv__portal_req *r);
void pv__console_account_page(pv__portal_req *r, const char *name);
/* The accounts page's form to create one (shown to operators and admins). */
void pv__console_account_create_form(pv_buf *page, pv__portal_req *r);
/* An account's settings as a form, read-only (disabled) for a viewer. */
void pv__console_settings_form(pv_buf *out, pv__portal_req *r, const pv_store_account *a);
void pv__console_codes_page(pv__portal_req *r);
void pv__console_import_page(pv__portal_req *r);
/* POST /import: the form's file as a server-run import job (then its page); GET /import/{id}:
 * the job's progress, counts and errors. */
void pv__console_import_post(pv__portal_req *r);
void pv__console_import_job_page(pv__portal_req *r, int64_t id);

#endif
