/*
 * console_plans.c — the firmware page's images and upgrade plans (issue 13, "firmware plans
 * and rollouts"; docs/console.md): the registered images and the plan of each model, and for
 * operators plain HTML forms to register an image (its file already in <data>/firmware/, or
 * uploaded first by console.js), delete one, and set, edit or delete a model's plan.
 *
 * A form posts here (CSRF checked by portal.c) and is turned into the admin API's own call
 * with the session's login and role (pv_api_call_as): the API's validation, role check (403
 * for a viewer) and audit decide. Success redirects (303) to the page with what was done;
 * a refusal shows the page again with the API's status and message, and the form as typed.
 */
#include "server/console_int.h"

#include "core/alloc.h"
#include "server/api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The steps as text (console_int.h). */
void pv__console_plan_steps_text(pv_buf *out, const char *json)
{
    json_t *a = json_loads(json ? json : "[]", 0, NULL);
    size_t i;
    json_t *s;
    json_array_foreach(a, i, s)
    {
        if (i > 0)
            pv_buf_append_str(out, ", ");
        const char *from = json_string_value(json_array_get(s, 0));
        const char *to = json_string_value(json_array_get(s, 1));
        pv_buf_appendf(out, "%s:%s", from ? from : "?", to ? to : "?");
    }
    json_decref(a);
}

/* The text back into the API's array; a step without its colon goes as a one-element array,
 * so the API's own check names it (400, "stages[i] must be a pair"). */
json_t *pv__console_plan_steps_json(const char *text)
{
    json_t *a = json_array();
    char *copy = pv_strdup(text), *save = NULL;
    for (char *tok = strtok_r(copy, ", \t\r\n", &save); tok; tok = strtok_r(NULL, ", \t\r\n", &save)) {
        char *colon = strchr(tok, ':');
        if (colon == NULL) {
            json_array_append_new(a, json_pack("[s]", tok));
            continue;
        }
        *colon = '\0';
        json_array_append_new(a, json_pack("[s,s]", tok, colon + 1));
    }
    free(copy);
    return a;
}

static void hidden(pv_buf *page, const char *name, const char *value)
{
    pv_buf_appendf(page, "<input type=\"hidden\" name=\"%s\" value=\"", name);
    pv_html_escape(page, value);
    pv_buf_append_str(page, "\">");
}

/* A one-button form posting to action with name=value (a row's delete). */
static void row_button(pv_buf *page, pv__portal_req *r, const char *action, const char *name,
                       const char *value, const char *label_key, const char *what)
{
    pv_buf_appendf(page, "<form method=\"post\" action=\"%s\" class=\"inline\">", action);
    pv__portal_csrf_field(page, r);
    hidden(page, name, value);
    pv_buf_append_str(page, "<button type=\"submit\" class=\"danger\" aria-label=\"");
    pv__portal_text(page, r, label_key);
    pv_buf_append_str(page, " ");
    pv_html_escape(page, what);
    pv_buf_append_str(page, "\">");
    pv__portal_text(page, r, label_key);
    pv_buf_append_str(page, "</button></form>");
}

static void input(pv_buf *page, pv__portal_req *r, const char *form, const char *name,
                  const char *label_key, const char *value, const char *placeholder)
{
    pv_buf_appendf(page, "<div class=\"field\"><label for=\"%s-%s\">", form, name);
    pv__portal_text(page, r, label_key);
    pv_buf_appendf(page, "</label>\n<input id=\"%s-%s\" name=\"%s\" maxlength=\"%d\" value=\"",
                   form, name, name, strcmp(name, "stages") == 0 ? 500 : 120);
    pv_html_escape(page, value);
    pv_buf_appendf(page, "\" placeholder=\"%s\"></div>\n", placeholder);
}

/* The API's refusal of a form, said where the form is. */
static void verdict(pv_buf *page, const pv__console_fw_form *f, const char *which)
{
    if (f == NULL || f->status == 0 || strcmp(f->which, which) != 0)
        return;
    pv_buf_appendf(page, "<p class=\"error\" role=\"alert\" id=\"%s-verdict\">%d — ", which,
                   f->status);
    pv_html_escape(page, f->message);
    pv_buf_append_str(page, "</p>\n");
}

/* One of the page's plain forms: its heading (title_key, also the button), three inputs
 * (name, label key, value, placeholder each) named as the API's body, a hint, the verdict. */
typedef struct form_input {
    const char *name, *label_key, *value, *placeholder;
} form_input;

static void post_form(pv_buf *page, pv__portal_req *r, const pv__console_fw_form *f,
                      const char *which, const char *action, const char *title_key,
                      const form_input in[3], const char *hint_key)
{
    pv_buf_appendf(page, "<h3 id=\"%s-h\">", which);
    pv__portal_text(page, r, title_key);
    pv_buf_appendf(page,
                   "</h3>\n<form method=\"post\" action=\"%s\" class=\"edit\" id=\"%s-form\" "
                   "aria-labelledby=\"%s-h\">\n",
                   action, which, which);
    pv__portal_csrf_field(page, r);
    for (int i = 0; i < 3; i++)
        input(page, r, which, in[i].name, in[i].label_key, in[i].value, in[i].placeholder);
    pv_buf_appendf(page, "<button type=\"submit\" id=\"%s-send\">", which);
    pv__portal_text(page, r, title_key);
    pv_buf_append_str(page, "</button>\n</form>\n<p class=\"hint\">");
    pv__portal_text(page, r, hint_key);
    pv_buf_append_str(page, "</p>\n");
    verdict(page, f, which);
}

static void images(pv__portal_req *r, pv_buf *page, const pv__console_fw_form *f, bool change)
{
    pv_error err = {""};
    pv_store_page pg = {.limit = 200};
    pv_store_firmware *fw = NULL;
    size_t n = 0;
    pv_buf_append_str(page, "<h2 id=\"images\">");
    pv__portal_text(page, r, "images");
    pv_buf_append_str(page, "</h2>\n");
    static const char *const heads[] = {"model", "firmware", "file", "kind", "created", "actions"};
    pv__console_table_head(page, r, heads, change ? 6 : 5);
    if (pv_store_firmware_list(r->portal->store, NULL, &pg, &fw, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            char at[40], id[24];
            pv__console_format_time(at, sizeof at, fw[i].created_at);
            const char *cells[] = {fw[i].model, fw[i].version, fw[i].file_name, fw[i].kind, at};
            pv__console_table_row(page, cells, 5);
            if (!change)
                continue;
            page->len -= strlen("</tr>\n"); /* the row's last cell: its delete */
            snprintf(id, sizeof id, "%lld", (long long)fw[i].id);
            pv_buf_append_str(page, "<td>");
            row_button(page, r, "/firmware/images/delete", "id", id, "delete", fw[i].version);
            pv_buf_append_str(page, "</td></tr>\n");
        }
        pv_store_firmwares_free(fw, n);
    }
    pv_buf_append_str(page, "</tbody>\n</table>\n");
    if (!change)
        return;
    /* Upload: a plain form (multipart/form-data, console_upload.c) that the console turns into
     * the API's PUT /api/v1/firmware/files/{file}, bounded by the admin listener's [admin]
     * max_body_bytes as every API body; then register. No script needed. */
    pv_buf_append_str(page, "<h3 id=\"upload-h\">");
    pv__portal_text(page, r, "fw_upload");
    pv_buf_append_str(page, "</h3>\n<form id=\"fw-upload\" class=\"edit\" method=\"post\" "
                            "action=\"/firmware/upload\" enctype=\"multipart/form-data\" "
                            "aria-labelledby=\"upload-h\">\n");
    pv__portal_csrf_field(page, r);
    pv_buf_append_str(page, "<div class=\"field\"><label for=\"fw-file\">");
    pv__portal_text(page, r, "file");
    pv_buf_append_str(page, "</label>\n<input type=\"file\" id=\"fw-file\" name=\"file\" required>"
                            "</div>\n<button type=\"submit\" id=\"fw-upload-send\">");
    pv__portal_text(page, r, "fw_upload");
    pv_buf_append_str(page, "</button>\n</form>\n");
    verdict(page, f, "upload");
    /* after an upload, its name is in the register form (?file=, as the redirect wrote it) */
    char uploaded[256] = "";
    if (f == NULL)
        (void)pv_form_get(r->req->query, "file", uploaded, sizeof uploaded);
    bool mine = f && strcmp(f->which, "image") == 0;
    const form_input in[3] = {
        {"model", "model", mine ? f->a : "", ""},
        {"version", "firmware", mine ? f->b : "", ""},
        {"file_name", "file", mine ? f->c : uploaded, "sip88xx.11-3-2MPP.loads"}};
    post_form(page, r, f, "image", "/firmware/images", "fw_register", in, "fw_register_hint");
}

static void plans(pv__portal_req *r, pv_buf *page, const pv__console_fw_form *f, bool change)
{
    pv_error err = {""};
    pv_buf_append_str(page, "<h2 id=\"plans\">");
    pv__portal_text(page, r, "plans");
    pv_buf_append_str(page, "</h2>\n");
    static const char *const heads[] = {"model", "target", "plan_steps", "actions"};
    pv__console_table_head(page, r, heads, change ? 4 : 3);
    pv_store_page pp = {.limit = 200};
    pv_store_plan *rows = NULL;
    size_t n = 0;
    pv_buf steps = {0}, link = {0};
    if (pv_store_plan_list(r->portal->store, &pp, &rows, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            pv_buf_reset(&steps);
            pv__console_plan_steps_text(&steps, rows[i].stages);
            const char *cells[] = {rows[i].model, rows[i].target_version,
                                   steps.len ? steps.data : "-"};
            pv__console_table_row(page, cells, 3);
            if (!change)
                continue;
            page->len -= strlen("</tr>\n");
            pv_buf_reset(&link);
            pv__console_url_escape(&link, rows[i].model);
            pv_buf_appendf(page, "<td><a href=\"/firmware?plan=%s#plan-form\">", link.data);
            pv__portal_text(page, r, "edit");
            pv_buf_append_str(page, "</a> ");
            row_button(page, r, "/firmware/plans/delete", "model", rows[i].model, "delete",
                       rows[i].model);
            pv_buf_append_str(page, "</td></tr>\n");
        }
    }
    pv_buf_append_str(page, "</tbody>\n</table>\n");
    if (change) {
        /* The form holds what was refused, else the plan ?plan=MODEL asks to edit. */
        bool mine = f && strcmp(f->which, "plan") == 0;
        char want[96] = "";
        const char *model = mine ? f->a : "", *target = mine ? f->b : "", *st = mine ? f->c : "";
        pv_buf_reset(&steps);
        if (!mine && pv_form_get(r->req->query, "plan", want, sizeof want)) {
            for (size_t i = 0; i < n; i++)
                if (strcmp(rows[i].model, want) == 0) {
                    model = rows[i].model, target = rows[i].target_version;
                    pv__console_plan_steps_text(&steps, rows[i].stages);
                    st = steps.len ? steps.data : "";
                }
        }
        const form_input in[3] = {{"model", "model", model, ""},
                                  {"target_version", "target", target, ""},
                                  {"stages", "plan_steps", st, "11-3-1MPP:11-3-2MPP"}};
        post_form(page, r, f, "plan", "/firmware/plans", "plan_set", in, "plan_steps_hint");
    }
    pv_store_plans_free(rows, n);
    pv_buf_free(&steps);
    pv_buf_free(&link);
}

void pv__console_images_and_plans(pv__portal_req *r, pv_buf *page, const pv__console_fw_form *f)
{
    bool change = pv__console_can_change(r);
    char done[32] = "";
    static const char *const dones[] = {"image_uploaded", "image_registered", "image_deleted",
                                        "plan_saved", "plan_deleted"};
    if (f == NULL && pv_form_get(r->req->query, "done", done, sizeof done)) {
        for (size_t i = 0; i < sizeof dones / sizeof dones[0]; i++)
            if (strcmp(done, dones[i]) == 0) { /* only a catalog key is said */
                pv_buf_append_str(page, "<p class=\"ok\" role=\"status\" id=\"fw-done\">");
                pv__portal_text(page, r, dones[i]);
                pv_buf_append_str(page, "</p>\n");
            }
    }
    images(r, page, f, change);
    plans(r, page, f, change);
}

/* ---- the forms' posts ---- */

/* The call as the session; on success 303 to the page saying done, else the page again with
 * the API's answer in f. */
static void call(pv__portal_req *r, pv__console_fw_form *f, const char *method, const char *path,
                 json_t *body, const char *done, const char *anchor)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    char actor[96], *answer = NULL;
    snprintf(actor, sizeof actor, "login:%s", r->ses.login.name);
    int status = r->portal->api == NULL ? 404
                                        : pv_api_call_as(r->portal->api, r->req, method, path, text,
                                                         actor, (int)pv__portal_role(r), &answer);
    free(text);
    if (status >= 200 && status < 300) {
        free(answer);
        char to[80];
        snprintf(to, sizeof to, "/firmware?done=%s#%s", done, anchor);
        pv__portal_redirect(r, to);
        return;
    }
    json_t *a = answer ? json_loads(answer, 0, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(json_object_get(a, "error"), "message"));
    snprintf(f->message, sizeof f->message, "%s", msg ? msg : "no API");
    f->status = status;
    json_decref(a);
    free(answer);
    pv__console_firmware_page(r, f);
}

/* POST /firmware/upload: the form's file into <data>/firmware/ by the API's own PUT. */
void pv__console_firmware_upload(pv__portal_req *r)
{
    pv__console_fw_form f = {.which = "upload"};
    pv__console_upload up;
    pv_error err = {""};
    int rc = pv__console_form_file(r, "file", &up, &err);
    if (rc != 0) {
        f.status = rc == PV_EINVAL ? 422 : 400;
        snprintf(f.message, sizeof f.message, "%s", err.msg);
        pv__console_upload_free(&up);
        pv__console_firmware_page(r, &f);
        return;
    }
    pv_buf path = {0}, to = {0};
    pv_buf_append_str(&path, "/api/v1/firmware/files/");
    pv__console_url_escape(&path, up.filename);
    char *answer = NULL;
    f.status = pv__console_call(r, "PUT", path.data, pv_buf_slice(&up.data), f.message,
                                sizeof f.message, &answer);
    free(answer);
    if (f.status >= 200 && f.status < 300) {
        pv_buf_append_str(&to, "/firmware?done=image_uploaded&file=");
        pv__console_url_escape(&to, up.filename);
        pv_buf_append_str(&to, "#images");
        pv__portal_redirect(r, to.data);
    } else {
        pv__console_firmware_page(r, &f);
    }
    pv_buf_free(&path);
    pv_buf_free(&to);
    pv__console_upload_free(&up);
}

static void field(pv__portal_req *r, const char *name, char *out, size_t size)
{
    if (!pv_form_get(r->req->body, name, out, size))
        out[0] = '\0';
}

bool pv__console_plans_post(pv__portal_req *r)
{
    pv_slice p = r->req->path;
    pv__console_fw_form f = {.status = 0};
    pv_buf path = {0};
    if (pv_slice_eq_cstr(p, "/firmware/images")) {
        snprintf(f.which, sizeof f.which, "image");
        field(r, "model", f.a, sizeof f.a);
        field(r, "version", f.b, sizeof f.b);
        field(r, "file_name", f.c, sizeof f.c);
        call(r, &f, "POST", "/api/v1/firmware",
             json_pack("{s:s, s:s, s:s}", "model", f.a, "version", f.b, "file_name", f.c),
             "image_registered", "images");
    } else if (pv_slice_eq_cstr(p, "/firmware/images/delete")) {
        snprintf(f.which, sizeof f.which, "image");
        field(r, "id", f.a, sizeof f.a);
        pv_buf_append_str(&path, "/api/v1/firmware/");
        pv_buf_append_str(&path, f.a);
        f.a[0] = '\0';
        call(r, &f, "DELETE", path.data, NULL, "image_deleted", "images");
    } else if (pv_slice_eq_cstr(p, "/firmware/plans") ||
               pv_slice_eq_cstr(p, "/firmware/plans/delete")) {
        snprintf(f.which, sizeof f.which, "plan");
        field(r, "model", f.a, sizeof f.a);
        pv_buf_append_str(&path, "/api/v1/plans/");
        pv_buf_append_str(&path, f.a);
        if (p.len > strlen("/firmware/plans")) {
            call(r, &f, "DELETE", path.data, NULL, "plan_deleted", "plans");
        } else {
            field(r, "target_version", f.b, sizeof f.b);
            field(r, "stages", f.c, sizeof f.c);
            call(r, &f, "PUT", path.data,
                 json_pack("{s:s, s:o}", "target_version", f.b, "stages", pv__console_plan_steps_json(f.c)),
                 "plan_saved", "plans");
        }
    } else {
        return false;
    }
    pv_buf_free(&path);
    return true;
}
