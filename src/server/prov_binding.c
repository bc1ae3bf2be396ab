/*
 * prov_binding.c — a retail phone binding itself with a code (DESIGN 5): the path's code
 * redacted before anything logs it, the identity from the certificate only, the code redeemed
 * and the SEC-PRV-1 profile answered in one transaction with its audit row. See
 * provision_int.h.
 */
#include "server/provision_int.h"

#include "core/log.h"
#include "server/binding.h"
#include "server/job_metrics.h"

#include <stdio.h>
#include <time.h>

static void on_bind(pv_provision_loop *l, pv_request *req, const pv_ident *id, pv_slice code)
{
    pv_log_line line;
    pv_log_begin(&line, PV_LOG_INFO, "binding.attempt");
    pv_log_redacted(&line, "code", code);
    pv_log_str(&line, "mac", id->cert_has_mac ? id->cert_mac.hex : "-");
    pv_log_end(&line);
    if (req->proto != PV_PROTO_HTTPS) {
        pv__prov_refuse(l, req, id, 403, "binding.refused",
                        "binding needs HTTPS with a client certificate");
        return;
    }
    char peer[64];
    pv__prov_addr_text(req->peer, peer, sizeof peer);
    pv_binding_result res;
    pv_error e = {""};
    /* Binding and row in one transaction (prov_audit.h); a refusal commits its counters. */
    int rc = pv_store_begin(l->s, &e);
    if (rc == 0)
        rc = pv_binding_redeem(l->s, id, code, peer, time(NULL), &res, &e);
    char detail[200];
    if (rc == 0 && res.status != 200) {
        (void)snprintf(detail, sizeof detail, "%s (code %.2s…)", res.reason, res.hint);
        pv_jobm_binding_refused(res.reason); /* binding.c's literals: a bounded label */
        if ((rc = pv_store_commit(l->s, &e)) == 0) {
            pv__prov_refuse(l, req, id, res.status, "binding.refused", detail);
            return;
        }
    }
    char host[128];
    pv__prov_host_for(l->p, req, host, sizeof host);
    pv_buf body = {0};
    if (rc == 0)
        rc = pv_binding_profile(&l->p->cfg.policy, host, id->model, &res.secret, &body, &e);
    if (rc == 0) {
        (void)snprintf(detail, sizeof detail, "account=%lld code=%.2s… state=SEC-PRV-1%s",
                       (long long)res.account_id, res.hint, res.again ? " again=yes" : "");
        pv_prov_row row;
        pv_prov_audit_row(&row, id->cert_mac.hex, res.again ? "device.bound.again" : "device.bound",
                          NULL, detail);
        rc = pv_prov_audit_write(l->s, &row, &e);
    }
    if (rc == 0)
        rc = pv_store_commit(l->s, &e);
    else
        pv_store_rollback(l->s); /* a no-op when begin or commit failed */
    if (rc != 0) {
        pv_buf_free(&body);
        pv__prov_refuse_rc(l, req, id, rc, 500, "binding.failed", &e);
        return;
    }
    pv_jobm_profile_served(id->model, "SEC-PRV-1", req->proto);
    pv__prov_respond_body(req, 200, &body, "application/xml", id->cert_mac.hex);
}

/*
 * Everything under /<binding_prefix>/ (issue 10): routed before any MAC is
 * read from a path — a 12-digit code reads as one — and its path redacted
 * before any transport, audit or message can carry it. Identity comes from
 * the certificate (and the User-Agent it must agree with), never the path.
 */
void pv__prov_on_binding_path(pv_provision_loop *l, pv_request *req, pv_slice code, bool is_code)
{
    /* Every transport logs this instead of the path (DESIGN 5, 10). */
    char redacted[96];
    (void)snprintf(redacted, sizeof redacted, "/%s/%.2s...", l->p->cfg.policy.binding_prefix,
                   code.len >= 2 ? code.ptr : "??");
    pv_request_set_log_path(req, redacted);
    pv_ident id;
    pv_error e;
    if (pv_identify(req->identity, PV_SLICE_LIT(""), req->user_agent, &id, &e) != 0) {
        id.source = PV_ID_CERT;
        id.mac = id.cert_mac;
        pv__prov_refuse(l, req, &id, 403, "identity.refused", e.msg);
        return;
    }
    if (is_code)
        on_bind(l, req, &id, code);
    else
        pv_request_respond_status(req, 404, "not a binding path");
}
