/*
 * prov_report.c — a phone's report upload (spec 7.1: Report_Rule's PUT or POST, or a TFTP
 * write): bounded, decoded and stored with its report.received row in one transaction before
 * the answer. See provision_int.h.
 */
#include "server/provision_int.h"

#include "server/reports.h"
#include "server/store_fault.h"

#include <string.h>
#include <time.h>

void pv__prov_on_report(pv_provision_loop *l, pv_request *req, const pv_mac *mac, const char *kind)
{
    /* ... admitted by handle()'s identity decision. */
    char ce[64] = "";
    pv_slice h = pv_request_header(req, "Content-Encoding");
    if (h.len > 0 && h.len < sizeof ce)
        memcpy(ce, h.ptr, h.len);
    pv_error e = {""};
    int64_t id = 0;
    pv_ident cert; /* only the certificate counts here: the path names the device */
    (void)pv_identify(req->identity, PV_SLICE_LIT(""), PV_SLICE_LIT(""), &cert, NULL);
    pv_report_upload up = {.mac = mac->hex,
                           .kind = kind,
                           .body = req->body,
                           .content_encoding = ce[0] ? ce : NULL,
                           .who = &cert,
                           .max_bytes = l->p->cfg.report_max_bytes,
                           .per_hour = l->p->cfg.reports_per_hour};
    /* The report and its report.received row: one transaction, before the
     * answer (prov_audit.h); a refused upload commits what it counted. */
    int rc = pv_store_begin(l->s, &e);
    if (rc == 0) {
        rc = pv_reports_accept(l->s, &up, time(NULL), &id, NULL, &e);
        bool refused = rc != 0 && !pv_store_fault(rc);
        if (rc == 0) {
            char detail[64];
            (void)snprintf(detail, sizeof detail, "kind=%s id=%lld", kind, (long long)id);
            pv_prov_row row;
            pv_prov_audit_row(&row, mac->hex, "report.received", NULL, detail);
            rc = pv_prov_audit_write(l->s, &row, &e);
        }
        if (rc == 0 || refused) {
            pv_error commit_err;
            int crc = pv_store_commit(l->s, &commit_err);
            if (crc != 0) {
                rc = crc;
                e = commit_err;
            }
        } else {
            pv_store_rollback(l->s);
        }
    }
    pv_ident who = {.source = PV_ID_PATH, .mac = *mac};
    if (rc != 0) {
        pv__prov_refuse_rc(l, req, &who, rc, pv_reports_status(rc), "report.refused", &e);
        return;
    }
    pv_response r = {.status = 200,
                     .fd = -1,
                     .message = "report stored",
                     .identity_log = pv_request_strdup(req, mac->hex)};
    pv_request_respond(req, &r);
}
