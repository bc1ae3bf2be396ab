/*
 * resync.c — one resync: Profile_Rule, _B, _C, _D in order (spec 1.3).
 *
 * Each rule is evaluated with the phone's current values (a profile fetched
 * by Profile_Rule may rewrite Profile_Rule_B before it runs, which is how
 * bootstrap files chain). A selected alternative's assignments are executed
 * first (spec 1.5), then its URL is fetched; the answer is decoded (gzip,
 * AES-256-CBC, RFC 8188 — core/sniff.h), parsed whole and only then applied,
 * so a corrupt profile changes nothing. The first failure ends the resync
 * and schedules Resync_Error_Retry_Delay; success schedules Resync_Periodic
 * or Resync_At. A one-shot rule (`/admin/resync?URL`) takes Profile_Rule's
 * place in that one resync: it is not stored and leaves the schedule as it
 * was, but _B, _C and _D still run after it as in every resync (spec 1.3) —
 * which is how a retail binding answer that sets Profile_Rule_B to the
 * permanent URL configures the phone "in a single step" (origin chapter,
 * retail distribution; spec 12.2 step 2).
 */
#include "agent/agent_int.h"

#include "core/alloc.h"
#include "core/sniff.h"

#include <stdlib.h>
#include <string.h>

static const char *const rule_names[4] = {"Profile_Rule", "Profile_Rule_B", "Profile_Rule_C",
                                          "Profile_Rule_D"};

typedef enum { CLASS_B = 1, CLASS_C } failure_class; /* spec 8.3 */

static void finish(pv_agent *a, uint64_t now, bool ok, failure_class cls)
{
    pv__op *op = a->op;
    if (ok) {
        free(a->err); /* spec 2, $ERR: a success leaves no failure of an earlier resync shown */
        a->err = NULL;
        pv__log(a, now, 6, a->defs->log_success);
        a->led = PV_AGENT_LED_NORMAL;
        if (op->oneshot != NULL && a->prov_state == PV_AGENT_MFG_RESET) {
            a->prov_state = PV_AGENT_SP_CUST; /* spec 12.2: /admin/resync?URL customizes */
            pv__persist(a);
        }
    } else {
        pv__log(a, now, 3, a->defs->log_failure);
        /* spec 8.3 and the origin chapter: B = missing or corrupt, C = unreachable */
        a->led = cls == CLASS_B ? PV_AGENT_LED_FAST_BLINK : PV_AGENT_LED_SLOW_BLINK;
    }
    bool oneshot = op->oneshot != NULL;
    pv__op_free(a);
    if (!oneshot) {
        if (ok) {
            a->resync_failures = 0;
            pv__schedule_after_success(a, now); /* spec 1.3 */
        } else {
            a->resync_failures++;
            pv__schedule_after_failure(a, now);
        }
    }
    a->upgrade_check = now; /* the profile may have changed Upgrade_Rule */
}

static void fail(pv_agent *a, uint64_t now, failure_class cls)
{
    finish(a, now, false, cls);
}

/* Is Profile_Rule still the factory one (then DHCP 160 may name the file)? */
static bool factory_rule(const pv_agent *a, int rule)
{
    return rule == 0 && a->op->oneshot == NULL &&
           !pv_params_get(&a->own, pv_slice_from("Profile_Rule"), &(pv_param){0});
}

/* Starts the fetch of a selected alternative; false when it failed at once. */
static bool start_fetch(pv_agent *a, uint64_t now, const pv_rule_target *t, int rule)
{
    pv__op *op = a->op;
    pv__fetch_free(&op->f);
    op->f.purpose = PV_AGENT_FOR_PROFILE;
    pv_error err;
    if (pv__fetch_prepare(a, &op->f, &t->url, factory_rule(a, rule), &err) != 0) {
        pv__set_err(a, "%s", err.msg);
        return false;
    }
    pv__fetch_take_opts(&op->f, &t->opts);
    if (op->f.srv && !a->host_resolves) { /* spec 1.1: only DNS can say where --srv goes */
        pv__set_err(a, "--srv needs a host that resolves names (DNS SRV)");
        return false;
    }
    op->f.method = "GET";
    if (t->opts.post != 0 && op->f.scheme != PV_SCHEME_TFTP) {
        /* spec 1.1 --post x: POST, body = GPP_X after macro expansion */
        char gpp[] = "GPP_A";
        gpp[4] = (char)(t->opts.post - 'a' + 'A');
        const char *tmpl = pv__agent_get(a, gpp);
        pv__expand(a, now, tmpl ? tmpl : "", &op->f.body);
        op->f.method = "POST";
    }
    op->f.request_log = a->defs->log_request; /* once $SERVIP is known (resolve.c) */
    pv__fetch_send(a, now, &op->f);
    return true;
}

/* Runs rules from op->rule until one needs a fetch, one fails, or all are done. */
static void step(pv_agent *a, uint64_t now)
{
    pv__op *op = a->op;
    for (;;) {
        int rule = op->rule;
        if (rule >= 4) {
            finish(a, now, true, 0);
            return;
        }
        op->rule++;
        /* spec 1.3, 5.5: the one-shot URL stands in for Profile_Rule only */
        bool oneshot = op->oneshot != NULL && rule == 0;
        const char *text = oneshot ? op->oneshot : pv__agent_get(a, rule_names[rule]);
        pv__vars_ctx ctx;
        pv_macro_env env = pv__macro_env(a, now, &ctx);
        pv_rule_result res;
        pv_error err;
        int rc = pv_rule_eval(PV_RULE_PROFILE, pv_slice_from(text ? text : ""), &env, &res, &err);
        if (rc != 0) {
            pv__set_err(a, "%s: %s", oneshot ? "rule" : rule_names[rule], err.msg);
            pv_rule_result_free(&res);
            fail(a, now, CLASS_C);
            return;
        }
        if (res.outcome != PV_RULE_SELECTED) { /* spec 1.3: skipped, on to the next */
            pv_rule_result_free(&res);
            continue;
        }
        bool changed = false;
        for (size_t i = 0; i < res.nassign; i++) /* spec 1.5: before the fetch */
            changed |= pv__set_value(a, res.assign[i].name, res.assign[i].value);
        if (changed) {
            pv__update_prov_state(a);
            pv__persist(a);
        }
        bool fetching = false, failed = false;
        if (res.ntargets > 0 && res.targets[0].has_url) {
            fetching = start_fetch(a, now, &res.targets[0], rule);
            failed = !fetching;
        }
        pv_rule_result_free(&res);
        if (failed) {
            fail(a, now, CLASS_C);
            return;
        }
        if (fetching)
            return;
    }
}

/*
 * A one-shot rule that cannot run is refused at once, before anything starts
 * (the web server answers 400/403): it must parse, and its URL must resolve
 * to a server inside Restricted_Access_Domains. Only what needs the network
 * is left to the asynchronous path.
 */
static int check_oneshot(pv_agent *a, uint64_t now, const char *rule, pv_error *err)
{
    pv__vars_ctx ctx;
    pv_macro_env env = pv__macro_env(a, now, &ctx);
    pv_rule_result res;
    pv_error e;
    int rc = pv_rule_eval(PV_RULE_PROFILE, pv_slice_from(rule), &env, &res, &e);
    if (rc != 0) {
        pv_rule_result_free(&res);
        return pv_error_set(err, PV_ESYNTAX, "rule: %s", e.msg);
    }
    if (res.outcome == PV_RULE_SELECTED && res.ntargets > 0 && res.targets[0].has_url) {
        pv__fetch f = {0};
        rc = pv__fetch_prepare(a, &f, &res.targets[0].url, false, err);
        pv__fetch_free(&f);
    }
    pv_rule_result_free(&res);
    return rc;
}

int pv__resync_start(pv_agent *a, uint64_t now, int prvst, const char *oneshot, pv_error *err)
{
    if (a->op != NULL)
        return pv_error_set(err, PV_EBUSY, "a %s is in progress",
                            a->op->kind == PV__OP_RESYNC    ? "resync"
                            : a->op->kind == PV__OP_UPGRADE ? "upgrade"
                                                            : "report");
    if (!pv__get_bool(a, "Provision_Enable")) /* spec 5.1: gates every resync */
        return pv_error_set(err, PV_EACCES, "Provision_Enable is No");
    if (oneshot != NULL) {
        int rc = check_oneshot(a, now, oneshot, err);
        if (rc != 0)
            return rc;
    }
    pv__op *op = pv_calloc(1, sizeof *op);
    op->kind = PV__OP_RESYNC;
    op->prvst = prvst;
    op->oneshot = oneshot ? pv_strdup(oneshot) : NULL;
    a->op = op;
    a->prvst = prvst;
    a->last_resync = now;
    if (oneshot == NULL)
        a->resync_due = PV_AGENT_NEVER;
    step(a, now);
    return 0;
}

/* Decodes, parses and applies a profile; false (with $ERR) when it is unusable. */
static bool apply_body(pv_agent *a, const pv_agent_response *r)
{
    pv__fetch *f = &a->op->f;
    pv_slice body = pv_slice_make(r->body, r->body_len);
    if (body.len == 0) {
        pv__set_err(a, "Zero file size");
        return false;
    }
    pv_slice key = pv_slice_from(f->key ? f->key : "");
    const char *ikm_text = pv__agent_get(a, "IKM_HTTP_Encrypt_Content");
    pv_slice ikm = pv_slice_from(ikm_text ? ikm_text : "");
    pv_decode_opts opts;
    pv_decode_opts_init(&opts);
    opts.md = pv__key_md(a); /* spec 4.1: the digest of this firmware generation, */
    opts.md_only = !a->any_key_digest; /* strictly unless the host allows either */
    opts.max_output = (size_t)4 << 20;
    pv_buf plain = {0};
    pv_decode_info info;
    pv_error err;
    pv_params set = {0};
    bool ok = false;
    if (pv_profile_decode(body, f->key ? &key : NULL, ikm.len ? &ikm : NULL, r->content_encoding,
                          &opts, &plain, &info, &err) != 0) {
        pv__set_err(a, "corrupt file: %s", err.msg);
    } else if (pv__parse_profile(pv_buf_slice(&plain), f->alias, a, &set, &err) != 0) {
        pv__set_err(a, "corrupt file: %s", err.msg);
    } else {
        /* spec 12.2: the first encrypted fetch with the delivered key is SEC-PRV-2;
         * decided before this profile's own content (a key it brings is not yet used) */
        if (info.encryption != PV_ENCRYPTION_NONE && a->prov_state == PV_AGENT_SEC_PRV_1) {
            a->prov_state = PV_AGENT_SEC_PRV_2;
            pv__persist(a);
        }
        if (pv__apply_params(a, &set) > 0) { /* whole: parsed completely first */
            pv__update_prov_state(a);
            pv__persist(a);
        }
        ok = true;
    }
    pv_params_free(&set);
    pv_buf_free(&plain);
    return ok;
}

void pv__resync_answer(pv_agent *a, uint64_t now, const pv_agent_response *r)
{
    switch (pv__fetch_answer(a, now, &a->op->f, r)) {
    case PV__FETCH_AGAIN:
        return;
    case PV__FETCH_FAIL:
        fail(a, now, CLASS_C);
        return;
    case PV__FETCH_FNF:
        if (pv__get_bool(a, "Resync_Fails_On_FNF")) { /* spec 1.3 */
            fail(a, now, CLASS_B);
            return;
        }
        break; /* No: a missing file counts as success */
    case PV__FETCH_OK:
        if (!apply_body(a, r)) {
            fail(a, now, CLASS_B);
            return;
        }
        pv__arm_triggers(a, now);
        break;
    }
    step(a, now);
}
