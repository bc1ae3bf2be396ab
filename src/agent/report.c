/*
 * report.c — status reports (spec 7.1) and status.xml (spec 3.4).
 *
 * Report_Rule names one or two targets. Each gets an XML flat profile: all
 * parameters (no option), only those changed since the last --delta report
 * (--delta), or the status values of status.xml (--status); secrets are never
 * included and passwords are written as `<Name/>` as in cfg.xml (whether
 * real phones mask them in reports is not documented; we do not leak them).
 * --key encrypts the upload like `openssl enc -aes-256-cbc -k` with the
 * family's digest; without --key and with IKM_HTTP_Encrypt_Content set, the
 * body is RFC 8188 aes128gcm. TFTP targets are written (WRQ); HTTP ones use
 * HTTP_Report_Method. Reports are sent on request, after a local change
 * (Upload_Delay_On_Local_Change) or periodically (periodic_upload_to_server),
 * once each: a failed upload is logged, not retried (spec 7.1).
 */
#include "agent/agent_int.h"

#include "core/alloc.h"
#include "core/rfc8188.h"
#include "core/salted.h"
#include "core/xml_profile.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static long clamp(long v, long lo, long hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void status_params(const pv_agent *a, uint64_t now, pv_params *p)
{
    char buf[32];
    pv_params_set_str(p, "Product_Name", a->model, PV_UA_RO);
    pv_params_set_str(p, "Serial_Number", a->serial, PV_UA_RO);
    pv_params_set_str(p, "MAC_Address", a->mac, PV_UA_RO);
    pv_params_set_str(p, "Software_Version", pv_agent_swver(a), PV_UA_RO);
    pv_params_set_str(p, "Inactive_Software_Version", a->slot[!a->active].version, PV_UA_RO);
    pv_params_set_str(p, "Hardware_Version", a->hwver, PV_UA_RO);
    pv_params_set_str(p, "Client_Certificate", a->client_cert ? "Installed" : "Not Installed",
                      PV_UA_RO);
    pv_params_set_str(p, "Current_IP", a->ip ? a->ip : "", PV_UA_RO);
    pv_params_set_str(p, "Provisioning_State", pv_agent_prov_state_name(a->prov_state), PV_UA_RO);
    pv_params_set_str(p, "Status_Indicator", pv_agent_led_name(a->led), PV_UA_RO);
    pv_params_set_str(p, "Last_Resync_Result", a->err ? a->err : "", PV_UA_RO);
    pv_params_set_str(p, "Last_Upgrade_Result", a->upgerr ? a->upgerr : "", PV_UA_RO);
    pv_params_set_str(p, "Call_State", a->call_active ? "Busy" : "Idle", PV_UA_RO);
    /* the line's SIP registration (phone/phone_sip), as a phone's Info page shows it */
    pv_params_set_str(p, "Registration_State_1_", a->regd[0] ? "Registered" : "Not Registered",
                      PV_UA_RO);
    snprintf(buf, sizeof buf, "%" PRIu64, now > a->boot_time ? (now - a->boot_time) / 1000 : 0);
    pv_params_set_str(p, "Uptime", buf, PV_UA_RO);
    if (a->resync_due != PV_AGENT_NEVER && a->resync_due >= now)
        snprintf(buf, sizeof buf, "%" PRIu64, (a->resync_due - now) / 1000);
    else
        buf[0] = '\0';
    pv_params_set_str(p, "Next_Resync_In", buf, PV_UA_RO);
}

static void status_xml(const pv_agent *a, uint64_t now, pv_buf *out)
{
    pv_params p = {0};
    status_params(a, now, &p);
    pv_xml_serialize(&p, out, NULL); /* our own values are plain ASCII */
    pv_params_free(&p);
}

void pv_agent_status_xml(const pv_agent *a, uint64_t now, char **data, size_t *len)
{
    pv_buf b = {0};
    status_xml(a, now, &b);
    *data = pv_buf_take(&b, len);
}

/* Builds and encrypts the body of target t into f; false (with $ERR) on failure. */
static bool build_body(pv_agent *a, uint64_t now, const pv_rule_target *t, pv__fetch *f)
{
    pv_buf plain = {0};
    pv_error err;
    if (t->opts.status)
        status_xml(a, now, &plain);
    else if (pv__export(a, PV_AGENT_ADMIN, t->opts.delta, &plain, &err) != 0) {
        pv__set_err(a, "report: %s", err.msg);
        pv_buf_free(&plain);
        return false;
    }
    const char *ikm = pv__agent_get(a, "IKM_HTTP_Encrypt_Content");
    int rc = 0;
    if (t->opts.key != NULL) { /* spec 4.2: --key encrypts the upload */
        rc = pv_salted_encrypt(pv_buf_slice(&plain), pv_slice_from(t->opts.key), a->defs->md, NULL,
                               &f->body, &err);
    } else if (ikm != NULL && *ikm != '\0') { /* spec 4.3: IKM and no --key */
        rc = pv_rfc8188_encrypt(pv_buf_slice(&plain), pv_slice_from(ikm), PV_RFC8188_DEFAULT_RS,
                                (pv_slice){"", 0}, NULL, &f->body, &err);
        f->encoding = "aes128gcm";
    } else {
        pv_buf_append(&f->body, plain.data ? plain.data : "", plain.len);
    }
    pv_buf_free(&plain);
    if (rc != 0)
        pv__set_err(a, "report: %s", err.msg);
    return rc == 0;
}

static void finish(pv_agent *a, uint64_t now)
{
    if (a->op->report_delta_ok) { /* spec 7.1: the next --delta starts from here */
        if (a->baseline == NULL)
            a->baseline = pv_calloc(1, sizeof *a->baseline);
        pv_params_copy(a->baseline, &a->own);
        pv_params_compact(a->baseline);
        pv__persist(a);
    }
    pv__op_free(a);
    pv__report_arm(a, now, false);
    if (a->after_report == PV__AFTER_REBOOT) /* the restart waited for this report */
        pv__queue(a, PV_AGENT_ACT_REBOOT);
    a->after_report = PV__AFTER_NONE; /* PV__AFTER_OFF: pv_agent_shutdown_done() says so */
}

/* Uploads the next target; finishes when none is left. */
static void send_next(pv_agent *a, uint64_t now)
{
    pv__op *op = a->op;
    while (op->report_next < op->report.ntargets) {
        const pv_rule_target *t = &op->report.targets[op->report_next++];
        if (!t->has_url)
            continue;
        pv__fetch_free(&op->f);
        op->f.purpose = PV_AGENT_FOR_REPORT;
        pv_error err;
        if (pv__fetch_prepare(a, &op->f, &t->url, false, &err) != 0) {
            pv__set_err(a, "report: %s", err.msg);
            continue;
        }
        if (!build_body(a, now, t, &op->f))
            continue;
        pv__fetch_take_opts(&op->f, &t->opts);
        const char *m = pv__agent_get(a, "HTTP_Report_Method");
        op->f.method = op->f.scheme == PV_SCHEME_TFTP           ? "PUT" /* TFTP write */
                       : m != NULL && strcasecmp(m, "PUT") == 0 ? "PUT"
                                                                : "POST";
        pv__fetch_send(a, now, &op->f);
        return;
    }
    finish(a, now);
}

int pv__report_start(pv_agent *a, uint64_t now, pv_error *err)
{
    if (a->op != NULL)
        return pv_error_set(err, PV_EBUSY, "another operation is in progress");
    pv__vars_ctx ctx;
    pv_macro_env env = pv__macro_env(a, now, &ctx);
    pv__op *op = pv_calloc(1, sizeof *op);
    op->kind = PV__OP_REPORT;
    const char *rule = pv__agent_get(a, "Report_Rule");
    int rc = pv_rule_eval(PV_RULE_REPORT, pv_slice_from(rule ? rule : ""), &env, &op->report, err);
    if (rc == 0 && op->report.ntargets == 0)
        rc = pv_error_set(err, PV_ENOENT, "Report_Rule is empty");
    if (rc != 0) {
        pv_rule_result_free(&op->report);
        free(op);
        return rc;
    }
    a->op = op;
    a->report_due = PV_AGENT_NEVER;
    send_next(a, now);
    return 0;
}

void pv__report_answer(pv_agent *a, uint64_t now, const pv_agent_response *r)
{
    pv__op *op = a->op;
    pv__fetch_result res = pv__fetch_answer(a, now, &op->f, r);
    if (res == PV__FETCH_AGAIN)
        return;
    const pv_rule_target *t = &op->report.targets[op->report_next - 1];
    if (res == PV__FETCH_OK && t->opts.delta)
        op->report_delta_ok = true;
    pv_buf line = {0};
    pv_buf_appendf(&line, "%s %s -- Report %s %s://%s:%u%s%s%s", a->model, a->mac,
                   res == PV__FETCH_OK ? "sent to" : "failed for", pv_scheme_name(op->f.scheme),
                   op->f.host, (unsigned)op->f.port, op->f.path, res == PV__FETCH_OK ? "" : ": ",
                   res == PV__FETCH_OK ? "" : (a->err ? a->err : ""));
    pv__action *q = pv__queue(a, PV_AGENT_ACT_LOG);
    q->act.level = res == PV__FETCH_OK ? 6 : 3;
    q->text = pv_buf_take(&line, NULL);
    send_next(a, now);
}

void pv__report_arm(pv_agent *a, uint64_t now, bool local_change)
{
    const char *rule = pv__agent_get(a, "Report_Rule");
    const char *mode = pv__agent_get(a, "Report_to_Server");
    if (rule == NULL || *rule == '\0' || mode == NULL)
        return;
    uint64_t due = PV_AGENT_NEVER;
    if (local_change && strcasecmp(mode, "On Local Change") == 0) {
        long d = clamp(pv__get_long(a, "Upload_Delay_On_Local_Change", 60), 10, 900);
        due = now + (uint64_t)d * 1000;
    } else if (!local_change && strcasecmp(mode, "Periodically") == 0) {
        long d = clamp(pv__get_long(a, "periodic_upload_to_server", 3600), 600, 2592000);
        due = now + (uint64_t)d * 1000;
    }
    if (due < a->report_due) /* several local changes: one report after the first delay */
        a->report_due = due;
}

/*
 * spec 7.1: "On Request" means a SIP NOTIFY or a restart, and multiplatform
 * firmware (MPP phones, ATA191-MPP) also uploads during shutdown/restart
 * (C-RN1123). A local-change report still waiting for its delay is sent then
 * rather than lost. SPA phones report only when asked.
 */
bool pv__report_at_restart(pv_agent *a, uint64_t now, int then)
{
    const char *rule = pv__agent_get(a, "Report_Rule");
    const char *mode = pv__agent_get(a, "Report_to_Server");
    if (a->defs->family == PV_AGENT_SPA || rule == NULL || *rule == '\0' || mode == NULL)
        return false;
    bool pending_local =
        strcasecmp(mode, "On Local Change") == 0 && a->report_due != PV_AGENT_NEVER;
    if (strcasecmp(mode, "On Request") != 0 && !pending_local)
        return false;
    a->after_report = then; /* before the start: a report may end inside it */
    if (pv__report_start(a, now, NULL) != 0) {
        a->after_report = PV__AFTER_NONE;
        return false;
    }
    return true;
}
