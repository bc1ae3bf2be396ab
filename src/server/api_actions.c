/*
 * api_actions.c — device actions over SIP NOTIFY (spec 5.5): make phones
 * resync, reboot or report now (server/notifier.h does the sending).
 *
 *   POST /devices/{mac}/actions  {"action": "resync"|"reboot"|"restart"|"report-request"}
 *   POST /actions                {"action": ..., "macs": [...] | "account": NAME |
 *                                 "model": M | "all": true, "rate": N}
 *   GET  /jobs/{id}              progress and each device's outcome
 *
 * Each device's target is what the server renders for it: the line's address
 * of record sip:User_ID_1_@Proxy_1_ and its credentials, with which the
 * notifier answers the phone's challenge. A device without a SIP line is
 * skipped, and listed so. Both POSTs answer 202 with the job and add one audit
 * entry.
 */
#include "server/api_int.h"

#include "core/alloc.h"
#include "core/param.h"
#include "server/notifier.h"
#include "server/render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct selection {
    pv_notify_target *t;
    size_t n, cap;
    json_t *skipped; /* [{"mac":..,"reason":..}] */
} selection;

/* Adds dev's line 1 as a target, or to the skipped list with the reason. */
static void add_device(pv__api_ctx *ctx, const pv_store_device *dev, selection *sel)
{
    pv_prov_policy pol;
    if (ctx->policy != NULL)
        pol = *ctx->policy;
    else
        pv_prov_policy_defaults(&pol);
    pv_render_options opts = {.policy = &pol, .plain = true};
    pv_params p;
    pv_params_init(&p);
    pv_error err = {""};
    const char *why = NULL;
    if (pv_render_params(ctx->store, dev, &opts, &p, &err) != 0)
        why = err.msg;
    const char *user = why ? NULL : pv_params_value(&p, "User_ID_1_");
    const char *proxy = why ? NULL : pv_params_value(&p, "Proxy_1_");
    if (why == NULL && (user == NULL || *user == '\0' || proxy == NULL || *proxy == '\0'))
        why = "no SIP line: User_ID_1_ or Proxy_1_ is empty in its profile";
    if (why != NULL) {
        json_array_append_new(sel->skipped,
                              json_pack("{s:s, s:s}", "mac", dev->mac, "reason", why));
        pv_params_free(&p);
        return;
    }
    if (sel->n == sel->cap) {
        sel->cap = sel->cap ? sel->cap * 2 : 16;
        sel->t = pv_reallocarray(sel->t, sel->cap, sizeof *sel->t);
    }
    pv_notify_target *t = &sel->t[sel->n++];
    memset(t, 0, sizeof *t);
    memcpy(t->mac, dev->mac, sizeof t->mac);
    const char *pwd = pv_params_value(&p, "Password_1_");
    snprintf(t->user, sizeof t->user, "%s", user);
    snprintf(t->password, sizeof t->password, "%s", pwd ? pwd : "");
    snprintf(t->domain, sizeof t->domain, "%s", proxy);
    pv_params_free(&p);
}

static bool check_action(pv__api_ctx *ctx, const char **action)
{
    *action = pv__api_str(ctx->body, "action");
    if (pv_notify_event_of(*action) != NULL)
        return true;
    pv__api_fail(ctx, 422, "invalid", "action",
                 "action must be resync, reboot, restart or report-request");
    return false;
}

/* Starts the job, audits it and answers 202 with it. */
static void start(pv__api_ctx *ctx, const char *action, const char *subject, selection *sel,
                  unsigned rate)
{
    if (ctx->notifier == NULL) {
        pv__api_fail(ctx, 503, "unavailable", NULL, "device actions need [sip] listen");
        json_decref(sel->skipped);
        free(sel->t);
        return;
    }
    uint64_t id = pv_notifier_submit(ctx->notifier, action, sel->t, sel->n, rate);
    free(sel->t);
    if (id == 0) {
        json_decref(sel->skipped);
        pv__api_fail(ctx, 503, "busy", NULL, "%d jobs are still running", PV_NOTIFIER_JOBS);
        return;
    }
    char what[48];
    snprintf(what, sizeof what, "device.%s", action);
    pv_error err = {""};
    pv__api_audit(ctx, what, subject,
                  json_pack("{s:I, s:I, s:I}", "job", (json_int_t)id, "devices", (json_int_t)sel->n,
                            "skipped", (json_int_t)json_array_size(sel->skipped)),
                  &err);
    json_t *job = pv_notifier_job_json(ctx->notifier, id);
    json_object_set_new(job, "skipped", sel->skipped);
    pv__api_reply(ctx, 202, job);
}

void pv__api_device_action(pv__api_ctx *ctx)
{
    static const pv__api_field fields[] = {{"action", PV_API_STRING, true}};
    char mac[13];
    const char *action;
    if (!pv__api_mac(ctx, ctx->params[0], "mac", mac) || !pv__api_body(ctx, fields, 1) ||
        !check_action(ctx, &action))
        return;
    pv_store_device dev = {0};
    pv_error err = {""};
    int rc = pv_store_device_get(ctx->store, mac, &dev, &err);
    if (rc != 0) {
        pv__api_fail_store(ctx, rc, &err, NULL);
        return;
    }
    selection sel = {.skipped = json_array()};
    add_device(ctx, &dev, &sel);
    pv_store_device_free(&dev);
    if (sel.n == 0) {
        json_t *why = json_object_get(json_array_get(sel.skipped, 0), "reason");
        pv__api_fail(ctx, 422, "no_sip_line", NULL, "%s: %s", mac, json_string_value(why));
        json_decref(sel.skipped);
        return;
    }
    start(ctx, action, mac, &sel, 0);
}

void pv__api_actions_bulk(pv__api_ctx *ctx)
{
    static const pv__api_field fields[] = {
        {"action", PV_API_STRING, true}, {"macs", PV_API_ARRAY, false},
        {"account", PV_API_STRING, false}, {"model", PV_API_STRING, false},
        {"all", PV_API_BOOL, false},       {"rate", PV_API_INT, false}};
    const char *action;
    if (!pv__api_body(ctx, fields, sizeof fields / sizeof fields[0]) ||
        !check_action(ctx, &action))
        return;
    json_t *macs = json_object_get(ctx->body, "macs");
    const char *account = pv__api_str(ctx->body, "account");
    const char *model = pv__api_str(ctx->body, "model");
    bool all = json_is_true(json_object_get(ctx->body, "all"));
    json_int_t rate = json_integer_value(json_object_get(ctx->body, "rate"));
    if ((macs != NULL) + (account != NULL) + all != 1 && !(model != NULL && macs == NULL)) {
        pv__api_fail(ctx, 422, "invalid", NULL,
                     "name the devices with exactly one of macs, account or all (model filters)");
        return;
    }
    if (rate < 0 || rate > 100000) {
        pv__api_fail(ctx, 422, "invalid", "rate", "rate must be 1..100000 per second");
        return;
    }
    selection sel = {.skipped = json_array()};
    pv_error err = {""};
    if (macs != NULL) {
        size_t i;
        json_t *v;
        json_array_foreach(macs, i, v) {
            char mac[13];
            pv_store_device dev = {0};
            if (!pv__api_mac(ctx, json_string_value(v) ? json_string_value(v) : "", "macs", mac)) {
                json_decref(sel.skipped);
                free(sel.t);
                return;
            }
            if (pv_store_device_get(ctx->store, mac, &dev, &err) == 0)
                add_device(ctx, &dev, &sel);
            else
                json_array_append_new(sel.skipped,
                                      json_pack("{s:s, s:s}", "mac", mac, "reason", err.msg));
            pv_store_device_free(&dev);
        }
    } else {
        int64_t account_id = 0;
        if (account != NULL && !pv__api_account_id(ctx, account, "account", &account_id)) {
            json_decref(sel.skipped);
            return;
        }
        pv_store_page page = {.limit = PV_STORE_PAGE_MAX};
        do {
            pv_store_device *rows = NULL;
            size_t n = 0;
            int rc = pv_store_device_list(ctx->store, account_id, &page, &rows, &n, &err);
            if (rc != 0) {
                json_decref(sel.skipped);
                free(sel.t);
                pv__api_fail_store(ctx, rc, &err, NULL);
                return;
            }
            for (size_t i = 0; i < n; i++)
                if (model == NULL || (rows[i].model && strcmp(rows[i].model, model) == 0))
                    add_device(ctx, &rows[i], &sel);
            pv_store_devices_free(rows, n);
        } while (page.after[0] != '\0');
    }
    start(ctx, action, account ? account : all || model ? (model ? model : "all") : "macs", &sel,
          (unsigned)rate);
}

void pv__api_job_get(pv__api_ctx *ctx)
{
    char *end = NULL;
    unsigned long long id = strtoull(ctx->params[0], &end, 10);
    json_t *job = NULL;
    if (ctx->notifier != NULL && end != ctx->params[0] && *end == '\0')
        job = pv_notifier_job_json(ctx->notifier, id);
    if (job == NULL) {
        pv__api_fail(ctx, 404, "not_found", NULL, "no job %s (jobs live in the serving process)",
                     ctx->params[0]);
        return;
    }
    pv__api_reply(ctx, 200, job);
}
