/*
 * api_actions.c — device actions over SIP NOTIFY (spec 5.5): make phones
 * resync, reboot or report now (server/notifier.h does the sending).
 *
 *   POST /devices/{mac}/actions  {"action": "resync"|"reboot"|"restart"|"report-request"}
 *   POST /actions                {"action": ..., "macs": [...] | "account": NAME |
 *                                 "model": M | "all": true, "rate": N}
 *   GET  /jobs                   jobs, newest first (paginated)
 *   GET  /jobs/{id}              progress: counts by outcome
 *   GET  /jobs/{id}/devices      each device's outcome (paginated)
 *   GET  /devices/{mac}/actions  one device's outcomes, newest job first
 *
 * Each device's target is what the server renders for it: the line's address
 * of record sip:User_ID_1_@Proxy_1_ and its credentials, with which the
 * notifier answers the phone's challenge, and the address it last provisioned
 * from with SIP_Port_1_ for a direct NOTIFY; the account's settings.sip_delivery
 * (proxy, direct) chooses the path. A device without a SIP line is skipped,
 * and listed so. Both POSTs answer 202 with the job and add one audit entry.
 * Jobs and outcomes are kept in the store (pv_store_notify_*): the notifier
 * hands finished targets to record() in batches, and they survive restarts.
 */
#include "server/api_int.h"

#include "core/alloc.h"
#include "core/param.h"
#include "server/notifier.h"
#include "server/push.h"

#include "core/log.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The push context of this request: its store, policy, notifier and actor. */
static pv_push push_of(pv__api_ctx *ctx)
{
    return (pv_push){.store = ctx->store,
                     .policy = ctx->policy,
                     .notifier = ctx->notifier,
                     .actor = ctx->actor,
                     .now = ctx->now};
}

static void add_device(pv__api_ctx *ctx, const pv_store_device *dev, pv_push_selection *sel)
{
    pv_push p = push_of(ctx);
    (void)pv_push_add_device(&p, dev, sel);
}

static bool check_action(pv__api_ctx *ctx, const char **action)
{
    *action = pv__api_str(ctx->body, "action");
    /* check-sync is the server's own, after a binding (push.h); operators ask for resync */
    if (pv_notify_event_of(*action) != NULL && strcmp(*action, "check-sync") != 0)
        return true;
    pv__api_fail(ctx, 422, "invalid", "action",
                 "action must be resync, reboot, restart or report-request");
    return false;
}

static json_t *job_json(pv__api_ctx *ctx, const pv_store_notify_job *j);

/* Stores the job, starts it, audits it and answers 202 with it; frees sel. */
static void start(pv__api_ctx *ctx, const char *action, const char *subject, pv_push_selection *sel,
                  unsigned rate)
{
    pv_push p = push_of(ctx);
    pv_notify_job_options o = {.rate = rate};
    pv_store_notify_job j;
    pv_error err = {""};
    int rc = pv_push_start(&p, action, subject, sel, &o, &j, &err);
    if (rc == PV_ENOTSUP || rc == PV_EBUSY)
        pv__api_fail(ctx, 503, rc == PV_EBUSY ? "busy" : "unavailable", NULL, "%s", err.msg);
    else if (rc != 0)
        pv__api_fail_store(ctx, rc, &err, NULL);
    if (rc != 0) {
        pv_push_selection_free(sel);
        return;
    }
    json_t *job = job_json(ctx, &j);
    json_object_set(job, "skipped", sel->skipped);
    pv_push_selection_free(sel);
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
    pv_push_selection sel;
    pv_push_selection_init(&sel);
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
        {"action", PV_API_STRING, true},   {"macs", PV_API_ARRAY, false},
        {"account", PV_API_STRING, false}, {"model", PV_API_STRING, false},
        {"all", PV_API_BOOL, false},       {"rate", PV_API_INT, false}};
    const char *action;
    if (!pv__api_body(ctx, fields, sizeof fields / sizeof fields[0]) || !check_action(ctx, &action))
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
    pv_push_selection sel;
    pv_push_selection_init(&sel);
    pv_error err = {""};
    char one[13] = ""; /* the subject of a job for one MAC: that MAC, as the device's own jobs */
    if (macs != NULL) {
        size_t i;
        json_t *v;
        json_array_foreach(macs, i, v)
        {
            char mac[13];
            pv_store_device dev = {0};
            if (!pv__api_mac(ctx, json_string_value(v) ? json_string_value(v) : "", "macs", mac)) {
                json_decref(sel.skipped);
                free(sel.t);
                return;
            }
            if (json_array_size(macs) == 1)
                memcpy(one, mac, sizeof one);
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
    start(ctx, action,
          account        ? account
          : all || model ? (model ? model : "all")
                         : (one[0] ? one : "macs"),
          &sel, (unsigned)rate);
}

/* ---- ?notify=1 on an account change: the devices whose profile changed ---- */

pv_push_renders *pv__api_renders_take(pv__api_ctx *ctx, int64_t account_id)
{
    pv_push p = push_of(ctx);
    return pv_push_renders_take(&p, account_id);
}

json_t *pv__api_notify_changed(pv__api_ctx *ctx, pv_push_renders *before, const char *subject)
{
    pv_push p = push_of(ctx);
    pv_push_selection sel;
    pv_push_selection_init(&sel);
    pv_push_changed(&p, before, &sel);
    if (sel.n == 0 && json_array_size(sel.skipped) == 0) {
        pv_push_selection_free(&sel);
        return json_null(); /* nothing changed: no job */
    }
    /* start() answers; its answer becomes the "notify" member of the caller's */
    json_t *answer = ctx->answer;
    int status = ctx->status;
    ctx->answer = NULL;
    ctx->status = 0;
    start(ctx, "resync", subject, &sel, 0);
    json_t *job = ctx->answer;
    ctx->answer = answer;
    ctx->status = status;
    return job ? job : json_null();
}

/* ---- the record (store) ---- */

void pv__api_notify_record(pv_store *store, uint64_t job, const pv_notify_result *r, size_t n)
{
    pv_store_notify_outcome *rows = pv_calloc(n ? n : 1, sizeof *rows);
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < n; i++) {
        memcpy(rows[i].mac, r[i].mac, sizeof rows[i].mac);
        snprintf(rows[i].outcome, sizeof rows[i].outcome, "%s",
                 pv_notify_outcome_name(r[i].outcome));
        rows[i].status = r[i].status;
        rows[i].attempts = r[i].attempts;
        rows[i].challenged = r[i].challenged;
        snprintf(rows[i].via, sizeof rows[i].via, "%s", r[i].via);
        rows[i].finished_at = now;
    }
    pv_error err = {""};
    if (pv_store_notify_outcomes_set(store, (int64_t)job, rows, n, now, &err) != 0)
        pv_logf(PV_LOG_ERROR, "sip.notify.record_failed", "job=%llu devices=%zu error=\"%s\"",
                (unsigned long long)job, n, err.msg);
    free(rows);
}

static void add_count(void *data, const char *outcome, int64_t count)
{
    json_t *by = data;
    if (strcmp(outcome, "pending") != 0)
        json_object_set_new(by, outcome, json_integer((json_int_t)count));
}

/* The job with its counts by outcome (every outcome named, 0 when none). */
static json_t *job_json(pv__api_ctx *ctx, const pv_store_notify_job *j)
{
    json_t *by = json_object();
    for (int o = 1; o < PV_NOTIFY_OUTCOMES; o++)
        json_object_set_new(by, pv_notify_outcome_name((pv_notify_outcome)o), json_integer(0));
    json_object_set_new(by, "interrupted", json_integer(0));
    pv_error err = {""};
    (void)pv_store_notify_job_counts(ctx->store, j->id, add_count, by, &err);
    json_int_t done = 0;
    const char *k;
    json_t *v;
    json_object_foreach(by, k, v) done += json_integer_value(v);
    const char *event = pv_notify_event_of(j->action);
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:b, s:I, s:o, s:I, s:o}", "id",
                     (json_int_t)j->id, "action", j->action, "event", event ? event : "", "subject",
                     j->subject, "actor", j->actor, "total", (json_int_t)j->total, "done", done,
                     "finished", j->finished_at != 0, "rate", (json_int_t)j->rate, "outcomes", by,
                     "created_at", (json_int_t)j->created_at, "finished_at",
                     j->finished_at ? json_integer((json_int_t)j->finished_at) : json_null());
}

static bool job_id(pv__api_ctx *ctx, int64_t *id)
{
    char *end = NULL;
    unsigned long long v = strtoull(ctx->params[0], &end, 10);
    if (end == ctx->params[0] || *end != '\0' || v == 0 || v > INT64_MAX) {
        pv__api_fail(ctx, 404, "not_found", NULL, "no job %s", ctx->params[0]);
        return false;
    }
    if (ctx->notifier != NULL)
        pv_notifier_flush(ctx->notifier); /* what finished so far is in the store */
    *id = (int64_t)v;
    return true;
}

void pv__api_job_get(pv__api_ctx *ctx)
{
    int64_t id;
    if (!job_id(ctx, &id))
        return;
    pv_store_notify_job j;
    pv_error err = {""};
    int rc = pv_store_notify_job_get(ctx->store, id, &j, &err);
    if (rc != 0) {
        pv__api_fail_store(ctx, rc, &err, NULL);
        return;
    }
    pv__api_reply(ctx, 200, job_json(ctx, &j));
}

static int list_jobs(pv__api_ctx *ctx, pv_store_page *page, json_t *items, pv_error *err)
{
    if (ctx->notifier != NULL)
        pv_notifier_flush(ctx->notifier);
    pv_store_notify_job *rows = NULL;
    size_t n = 0;
    int rc = pv_store_notify_job_list(ctx->store, page, &rows, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        json_array_append_new(items, job_json(ctx, &rows[i]));
    free(rows);
    return rc;
}

void pv__api_jobs_list(pv__api_ctx *ctx)
{
    pv__api_list(ctx, list_jobs);
}

static json_t *outcome_json(const pv_store_notify_outcome *o, bool with_job)
{
    json_t *v =
        json_pack("{s:s, s:s, s:I, s:I, s:b, s:s, s:o}", "mac", o->mac, "outcome", o->outcome,
                  "status", (json_int_t)o->status, "attempts", (json_int_t)o->attempts,
                  "challenged", o->challenged, "via", o->via, "finished_at",
                  o->finished_at ? json_integer((json_int_t)o->finished_at) : json_null());
    if (with_job)
        json_object_set_new(v, "job", json_integer((json_int_t)o->job_id));
    return v;
}

static int list_outcomes(pv__api_ctx *ctx, int64_t job, const char *mac, pv_store_page *page,
                         json_t *items, pv_error *err)
{
    pv_store_notify_outcome *rows = NULL;
    size_t n = 0;
    int rc = pv_store_notify_outcome_list(ctx->store, job, mac, page, &rows, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        json_array_append_new(items, outcome_json(&rows[i], job == 0));
    free(rows);
    return rc;
}

static int list_job_outcomes(pv__api_ctx *ctx, pv_store_page *page, json_t *items, pv_error *err)
{
    int64_t job = 0;
    if (!job_id(ctx, &job))
        return PV_ENOENT;
    pv_store_notify_job j;
    int rc = pv_store_notify_job_get(ctx->store, job, &j, err);
    return rc != 0 ? rc : list_outcomes(ctx, job, NULL, page, items, err);
}

void pv__api_job_devices(pv__api_ctx *ctx)
{
    pv__api_list(ctx, list_job_outcomes);
}

static int list_device_outcomes(pv__api_ctx *ctx, pv_store_page *page, json_t *items, pv_error *err)
{
    char mac[13];
    if (!pv__api_mac(ctx, ctx->params[0], "mac", mac))
        return PV_EINVAL;
    if (ctx->notifier != NULL)
        pv_notifier_flush(ctx->notifier);
    return list_outcomes(ctx, 0, mac, page, items, err);
}

void pv__api_device_actions_list(pv__api_ctx *ctx)
{
    pv__api_list(ctx, list_device_outcomes);
}
