/* admin.c — /metrics, /healthz and the route to the admin API; see admin.h. */
#include "server/notifier.h"
#include "server/admin.h"
#include "server/console.h"

#include "net/admission.h"
#include "net/metrics.h"
#include "core/form.h"
#include "server/job_metrics.h"
#include "server/prov_audit.h"
#include "server/prov_cache.h"
#include "server/reports.h"
#include "server/rollout.h"
#include "server/store_fault.h"

#include <string.h>

/* text: a literal (handler.h: static storage needs no copy). */
static void set_text(pv_response *resp, int status, const char *text)
{
    resp->status = status;
    resp->body_kind = PV_BODY_MEMORY;
    resp->body = text;
    resp->body_len = strlen(text);
    resp->content_type = "text/plain";
}

/* Gauges an operator alerts on before uploads are refused with 507. */
static void append_upload_usage(pv_admin *admin, pv_buf *text)
{
    if (admin->files == NULL || !admin->files->has_quota)
        return;
    uint64_t bytes;
    unsigned files;
    pv_upload_quota_usage(&admin->files->quota, &bytes, &files);
    pv_buf_appendf(text,
                   "# HELP provisor_upload_dir_bytes Bytes of stored uploads "
                   "([server] upload_max_bytes bounds them).\n"
                   "# TYPE provisor_upload_dir_bytes gauge\n"
                   "provisor_upload_dir_bytes %llu\n"
                   "# HELP provisor_upload_dir_files Stored uploads "
                   "([server] upload_max_files bounds them).\n"
                   "# TYPE provisor_upload_dir_files gauge\n"
                   "provisor_upload_dir_files %u\n",
                   (unsigned long long)bytes, files);
}

static void admin_handle(pv_handler *self, pv_request *req)
{
    pv_admin *admin = self->data;
    /* Counted apart from phone traffic (net/metrics.h), by route: a name of this file's, or
     * the API's route table (pv_api_handle names the route it matched). */
    req->metrics_route = pv_slice_eq_cstr(req->path, "/metrics")   ? "/metrics"
                         : pv_slice_eq_cstr(req->path, "/healthz") ? "/healthz"
                         : pv_slice_eq_cstr(req->path, "/readyz")  ? "/readyz"
                         : pv_api_owns(req->path)                  ? "/api/v1"
                                                                   : "other";
    bool own = pv_slice_eq_cstr(req->path, "/metrics") || pv_slice_eq_cstr(req->path, "/healthz") ||
               pv_slice_eq_cstr(req->path, "/readyz");
    /* An API call goes to the console only when it carries the console's session and no
     * token: everything else gets the API's own answers (401 without a token). */
    char session[PV_WEBSESSION_TOKEN_LEN + 8];
    bool console_call = pv_request_header(req, "Authorization").len == 0 &&
                        pv_cookie_get(pv_request_header(req, "Cookie"), PV_CONSOLE_COOKIE,
                                      session, sizeof session);
    if (admin->console != NULL && !own && (!pv_api_owns(req->path) || console_call)) {
        if (!pv_api_owns(req->path))
            req->metrics_route = "/console";
        admin->console->handle(admin->console, req);
        return;
    }
    if (admin->api != NULL && pv_api_owns(req->path)) {
        pv_api_handle(admin->api, req);
        return;
    }
    if (req->method != PV_METHOD_GET && req->method != PV_METHOD_HEAD) {
        pv_request_respond_status(req, 405, "the admin listener answers GET only");
        return;
    }
    pv_response resp = {.fd = -1};
    if (pv_slice_eq_cstr(req->path, "/metrics")) {
        pv_buf text = {0};
        pv_metrics_render(&text);
        append_upload_usage(admin, &text);
        pv_reports_metrics(&text);
        pv_admission_metrics(&text);
        pv_rollout_metrics(&text);
        pv_notifier_metrics(&text);
        pv_store_health_render(&text);
        pv_prov_audit_render(&text);
        pv_prov_cache_render(&text);
        pv_jobm_render_text(&text);
        /* Prometheus text exposition format, version 0.0.4 */
        resp.status = 200;
        resp.body_kind = PV_BODY_MEMORY;
        resp.body = pv_request_keep_buf(req, &text, &resp.body_len);
        resp.content_type = "text/plain; version=0.0.4";
    } else if (pv_slice_eq_cstr(req->path, "/healthz") || pv_slice_eq_cstr(req->path, "/readyz")) {
        /* A server whose store fails answers every phone 503: not healthy,
         * not ready (issue 19 item 1; store_fault.h). */
        if (atomic_load(&admin->draining))
            set_text(&resp, 503, "draining\n");
        else if (!pv_store_health_up())
            set_text(&resp, 503, "store unavailable\n");
        else
            set_text(&resp, 200, "ok\n");
        if (resp.status == 503)
            resp.retry_after = PV_STORE_RETRY_AFTER_S;
    } else {
        set_text(&resp, 404, "not found; try /metrics, /healthz or /readyz\n");
    }
    resp.identity_log = "admin";
    pv_request_respond(req, &resp);
}

void pv_admin_init(pv_admin *admin)
{
    admin->handler.handle = admin_handle;
    admin->handler.data = admin;
    atomic_init(&admin->draining, false);
    admin->api = NULL;
    admin->files = NULL;
    admin->console = NULL;
}

void pv_admin_attach_api(pv_admin *admin, const char *data_dir)
{
    pv_api_free(admin->api);
    admin->api = pv_api_new(data_dir, NULL);
}

void pv_admin_free(pv_admin *admin)
{
    pv_api_free(admin->api);
    admin->api = NULL;
}
