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
#include "server/render.h"

#include "core/log.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct selection {
    pv_notify_target *t;
    size_t n, cap;
    json_t *skipped; /* [{"mac":..,"reason":..}] */
} selection;

/* The account's settings.sip_delivery: how its phones are reached. */
static pv_notify_via account_via(pv__api_ctx *ctx, int64_t account_id)
{
    pv_store_account a = {0};
    pv_error err = {""};
    pv_notify_via via = PV_NOTIFY_VIA_DEFAULT;
    if (account_id > 0 && pv_store_account_get(ctx->store, account_id, &a, &err) == 0) {
        json_t *settings = json_loads(a.settings ? a.settings : "{}", 0, NULL);
        const char *d = json_string_value(json_object_get(settings, "sip_delivery"));
        if (d != NULL && strcmp(d, "direct") == 0)
            via = PV_NOTIFY_VIA_DIRECT;
        else if (d != NULL && strcmp(d, "proxy") == 0)
            via = PV_NOTIFY_VIA_PROXY;
        json_decref(settings);
    }
    pv_store_account_free(&a);
    return via;
}

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
    /* spec 5.5 without a proxy: the phone listens on SIP_Port_1_ at the address it came from */
    const char *port = pv_params_value(&p, "SIP_Port_1_");
    if (dev->last_address != NULL && *dev->last_address != '\0') {
        bool v6 = strchr(dev->last_address, ':') != NULL;
        snprintf(t->direct, sizeof t->direct, "%s%s%s:%s", v6 ? "[" : "", dev->last_address,
                 v6 ? "]" : "", port && *port ? port : "5060");
    }
    t->via = account_via(ctx, dev->account_id);
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

static json_t *job_json(pv__api_ctx *ctx, const pv_store_notify_job *j);

/* Stores the job, starts it, audits it and answers 202 with it. */
static void start(pv__api_ctx *ctx, const char *action, const char *subject, selection *sel,
                  unsigned rate)
{
    if (ctx->notifier == NULL) {
        pv__api_fail(ctx, 503, "unavailable", NULL, "device actions need [sip] listen");
        json_decref(sel->skipped);
        free(sel->t);
        return;
    }
    if (!pv_notifier_has_room(ctx->notifier)) {
        json_decref(sel->skipped);
        free(sel->t);
        pv__api_fail(ctx, 503, "busy", NULL, "%d jobs are still running", PV_NOTIFIER_JOBS);
        return;
    }
    pv_store_notify_job j = {.total = (int64_t)sel->n,
                             .rate = rate ? rate : pv_notifier_rate(ctx->notifier),
                             .created_at = ctx->now};
    snprintf(j.action, sizeof j.action, "%s", action);
    snprintf(j.subject, sizeof j.subject, "%s", subject);
    snprintf(j.actor, sizeof j.actor, "%s", ctx->actor);
    char(*macs)[13] = pv_calloc(sel->n ? sel->n : 1, sizeof *macs);
    for (size_t i = 0; i < sel->n; i++)
        memcpy(macs[i], sel->t[i].mac, sizeof macs[i]);
    pv_error err = {""};
    int rc = pv_store_notify_job_create(ctx->store, &j, (const char(*)[13])macs, sel->n, &err);
    free(macs);
    if (rc != 0) {
        json_decref(sel->skipped);
        free(sel->t);
        pv__api_fail_store(ctx, rc, &err, NULL);
        return;
    }
    uint64_t id = sel->n == 0 ? (uint64_t)j.id
                              : pv_notifier_submit(ctx->notifier, (uint64_t)j.id, action, sel->t,
                                                   sel->n, rate);
    free(sel->t);
    char what[48];
    snprintf(what, sizeof what, "device.%s", action);
    pv__api_audit(ctx, what, subject,
                  json_pack("{s:I, s:I, s:I}", "job", (json_int_t)id, "devices", (json_int_t)sel->n,
                            "skipped", (json_int_t)json_array_size(sel->skipped)),
                  &err);
    json_t *job = job_json(ctx, &j);
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
    selection sel = {.skipped = json_array()};
    pv_error err = {""};
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
                         : "macs",
          &sel, (unsigned)rate);
}

/* ---- ?notify=1 on an account change: the devices whose profile changed ---- */

struct pv__api_renders {
    size_t n;
    bool partial; /* stopped at the limit */
    char (*mac)[13];
    char (*hash)[65];
};

/* SHA-256 of mac's plain render, as the server would render it; "" when it cannot be (why
 * in err, when given). */
static void render_hash(pv__api_ctx *ctx, const char *mac, char out[65], pv_error *why)
{
    pv_prov_policy pol;
    if (ctx->policy != NULL)
        pol = *ctx->policy;
    else
        pv_prov_policy_defaults(&pol);
    pv_render_options o = {.policy = &pol, .plain = true};
    pv_render_output r = {0};
    pv_error err = {""};
    out[0] = '\0';
    if (why == NULL)
        why = &err;
    if (pv_render_device(ctx->store, mac, &o, &r, why) == 0)
        memcpy(out, r.hash, 65);
    pv_render_output_free(&r);
}

pv__api_renders *pv__api_renders_take(pv__api_ctx *ctx, int64_t account_id, size_t limit)
{
    pv__api_renders *r = pv_calloc(1, sizeof *r);
    size_t cap = 0;
    pv_store_page page = {.limit = PV_STORE_PAGE_MAX};
    pv_error err = {""};
    do {
        pv_store_device *rows = NULL;
        size_t n = 0;
        if (pv_store_device_list(ctx->store, account_id, &page, &rows, &n, &err) != 0)
            break;
        for (size_t i = 0; i < n && !r->partial; i++) {
            if (limit != 0 && r->n == limit) {
                r->partial = true;
                break;
            }
            if (r->n == cap) {
                cap = cap ? cap * 2 : 64;
                r->mac = pv_reallocarray(r->mac, cap, sizeof *r->mac);
                r->hash = pv_reallocarray(r->hash, cap, sizeof *r->hash);
            }
            memcpy(r->mac[r->n], rows[i].mac, sizeof r->mac[0]);
            render_hash(ctx, rows[i].mac, r->hash[r->n], NULL);
            r->n++;
        }
        pv_store_devices_free(rows, n);
    } while (page.after[0] != '\0' && !r->partial);
    return r;
}

void pv__api_renders_free(pv__api_renders *r)
{
    if (r == NULL)
        return;
    free(r->mac);
    free(r->hash);
    free(r);
}

void pv__api_renders_compare(pv__api_ctx *ctx, const pv__api_renders *before, pv__api_reach *out)
{
    memset(out, 0, sizeof *out);
    out->partial = before->partial;
    for (size_t i = 0; i < before->n; i++) {
        char now[65];
        pv_error why = {""};
        render_hash(ctx, before->mac[i], now, &why);
        out->devices++;
        if (now[0] == '\0' && before->hash[i][0] != '\0' && out->failed++ == 0)
            snprintf(out->first, sizeof out->first, "%s, %s", before->mac[i], why.msg);
        else if (now[0] != '\0' && strcmp(now, before->hash[i]) != 0)
            out->changed++;
    }
}

json_t *pv__api_notify_changed(pv__api_ctx *ctx, pv__api_renders *before, const char *subject)
{
    selection sel = {.skipped = json_array()};
    pv_error err = {""};
    for (size_t i = 0; i < before->n; i++) {
        char now[65];
        render_hash(ctx, before->mac[i], now, NULL);
        pv_store_device dev = {0};
        if (now[0] != '\0' && strcmp(now, before->hash[i]) != 0 &&
            pv_store_device_get(ctx->store, before->mac[i], &dev, &err) == 0)
            add_device(ctx, &dev, &sel); /* spec 5.5: exactly those whose profile changed */
        pv_store_device_free(&dev);
    }
    pv__api_renders_free(before);
    if (sel.n == 0 && json_array_size(sel.skipped) == 0) {
        json_decref(sel.skipped);
        free(sel.t);
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
