/*
 * console_upload.c — the files of the console's plain upload forms (issue 13: a firmware image,
 * a CSV import, without JavaScript): the body is multipart/form-data (core/multipart.h),
 * already bounded by the admin listener's [admin] max_body_bytes; the file part is copied out
 * for the admin API call the form stands for, which the console makes as the session's login
 * (pv_api_call_body_as: the API's role check, validation and audit decide). The CSRF field of
 * such a form is read by portal.c before anything else (pv_multipart_field).
 */
#include "server/console_int.h"

#include "core/multipart.h"
#include "server/api.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* A form has the CSRF field and its file; a few more parts are tolerated, not dozens. */
static const pv_multipart_limits form_limits = {.max_parts = 8, .max_header_bytes = 1024};

typedef struct pick {
    const char *field;
    pv__console_upload *up;
    bool in; /* reading the wanted part */
} pick;

static int on_begin(void *data, const pv_multipart_part *p, pv_error *err)
{
    (void)err;
    pick *k = data;
    k->in = !k->up->found && p->has_filename && strcmp(p->name, k->field) == 0;
    if (k->in) {
        k->up->found = true;
        snprintf(k->up->filename, sizeof k->up->filename, "%s", p->filename);
    }
    return 0;
}

static int on_data(void *data, const pv_multipart_part *p, const char *b, size_t n, pv_error *err)
{
    (void)p;
    (void)err;
    pick *k = data;
    if (k->in)
        pv_buf_append(&k->up->data, b, n);
    return 0;
}

static int on_end(void *data, const pv_multipart_part *p, pv_error *err)
{
    (void)p;
    (void)err;
    ((pick *)data)->in = false;
    return 0;
}

int pv__console_form_file(pv__portal_req *r, const char *field, pv__console_upload *up,
                          pv_error *err)
{
    memset(up, 0, sizeof *up);
    static const pv_multipart_callbacks cb = {on_begin, on_data, on_end};
    pick k = {.field = field, .up = up};
    int rc = pv_multipart_parse(pv_request_header(r->req, "Content-Type"), r->req->body,
                                &form_limits, &cb, &k, err);
    if (rc == 0 && (!up->found || up->filename[0] == '\0'))
        rc = pv_error_set(err, PV_EINVAL, "the form holds no file: choose one first");
    if (rc != 0)
        pv_buf_free(&up->data);
    return rc;
}

void pv__console_upload_free(pv__console_upload *up)
{
    pv_buf_free(&up->data);
}

int pv__console_call(pv__portal_req *r, const char *method, const char *path, pv_slice body,
                     char *message, size_t size, char **answer)
{
    *answer = NULL;
    if (r->portal->api == NULL) {
        snprintf(message, size, "no API");
        return 404;
    }
    char actor[96];
    snprintf(actor, sizeof actor, "login:%s", r->ses.login.name);
    int status = pv_api_call_body_as(r->portal->api, r->req, method, path, body, actor,
                                     (int)pv__portal_role(r), answer);
    json_t *a = *answer ? json_loads(*answer, 0, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(json_object_get(a, "error"), "message"));
    snprintf(message, size, "%s", msg ? msg : "");
    json_decref(a);
    return status;
}
