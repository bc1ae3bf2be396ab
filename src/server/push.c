/* push.c — the devices a NOTIFY goes to, and its job; see push.h. */
#include "server/push.h"

#include "core/alloc.h"
#include "core/log.h"
#include "core/param.h"
#include "server/render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pv_render_options render_options(const pv_push *p, pv_prov_policy *pol)
{
    if (p->policy != NULL)
        *pol = *p->policy;
    else
        pv_prov_policy_defaults(pol);
    return (pv_render_options){.policy = pol, .plain = true};
}

void pv_push_selection_init(pv_push_selection *sel)
{
    *sel = (pv_push_selection){.skipped = json_array()};
}

void pv_push_selection_free(pv_push_selection *sel)
{
    free(sel->t);
    json_decref(sel->skipped);
    *sel = (pv_push_selection){0};
}

pv_notify_target *pv_push_selection_add(pv_push_selection *sel, const pv_notify_target *t)
{
    if (sel->n == sel->cap) {
        sel->cap = sel->cap ? sel->cap * 2 : 16;
        sel->t = pv_reallocarray(sel->t, sel->cap, sizeof *sel->t);
    }
    pv_notify_target *added = &sel->t[sel->n++];
    if (t != NULL)
        *added = *t;
    else
        memset(added, 0, sizeof *added);
    return added;
}

/* The account's settings.sip_delivery: how its phones are reached. */
static pv_notify_via account_via(const pv_push *p, int64_t account_id)
{
    pv_store_account a = {0};
    pv_error err = {""};
    pv_notify_via via = PV_NOTIFY_VIA_DEFAULT;
    if (account_id > 0 && pv_store_account_get(p->store, account_id, &a, &err) == 0) {
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

bool pv_push_add_device(const pv_push *p, const pv_store_device *dev, pv_push_selection *sel)
{
    pv_prov_policy pol;
    pv_render_options opts = render_options(p, &pol);
    pv_params prm;
    pv_params_init(&prm);
    pv_error err = {""};
    const char *why = NULL;
    if (pv_render_params(p->store, dev, &opts, &prm, &err) != 0)
        why = err.msg;
    const char *user = why ? NULL : pv_params_value(&prm, "User_ID_1_");
    const char *proxy = why ? NULL : pv_params_value(&prm, "Proxy_1_");
    if (why == NULL && (user == NULL || *user == '\0' || proxy == NULL || *proxy == '\0'))
        why = "no SIP line: User_ID_1_ or Proxy_1_ is empty in its profile";
    if (why != NULL) {
        json_array_append_new(sel->skipped,
                              json_pack("{s:s, s:s}", "mac", dev->mac, "reason", why));
        pv_params_free(&prm);
        return false;
    }
    pv_notify_target *t = pv_push_selection_add(sel, NULL);
    memcpy(t->mac, dev->mac, sizeof t->mac);
    const char *pwd = pv_params_value(&prm, "Password_1_");
    snprintf(t->user, sizeof t->user, "%s", user);
    snprintf(t->password, sizeof t->password, "%s", pwd ? pwd : "");
    snprintf(t->domain, sizeof t->domain, "%s", proxy);
    /* spec 5.5 without a proxy: the phone listens on SIP_Port_1_ at the address it came from */
    const char *port = pv_params_value(&prm, "SIP_Port_1_");
    if (dev->last_address != NULL && *dev->last_address != '\0') {
        bool v6 = strchr(dev->last_address, ':') != NULL;
        snprintf(t->direct, sizeof t->direct, "%s%s%s:%s", v6 ? "[" : "", dev->last_address,
                 v6 ? "]" : "", port && *port ? port : "5060");
    }
    t->via = account_via(p, dev->account_id);
    pv_params_free(&prm);
    return true;
}

int pv_push_start(const pv_push *p, const char *action, const char *subject,
                  const pv_push_selection *sel, const pv_notify_job_options *o,
                  pv_store_notify_job *job, pv_error *err)
{
    if (p->notifier == NULL)
        return pv_error_set(err, PV_ENOTSUP, "device actions need [sip] listen");
    if (!pv_notifier_has_room(p->notifier))
        return pv_error_set(err, PV_EBUSY, "%d jobs are still running", PV_NOTIFIER_JOBS);
    pv_notify_job_options defaults = {0};
    if (o == NULL)
        o = &defaults;
    *job = (pv_store_notify_job){.total = (int64_t)sel->n,
                                 .rate = o->rate ? o->rate : pv_notifier_rate(p->notifier),
                                 .created_at = p->now};
    snprintf(job->action, sizeof job->action, "%s", action);
    snprintf(job->subject, sizeof job->subject, "%s", subject);
    snprintf(job->actor, sizeof job->actor, "%s", p->actor);
    char(*macs)[13] = pv_calloc(sel->n ? sel->n : 1, sizeof *macs);
    for (size_t i = 0; i < sel->n; i++)
        memcpy(macs[i], sel->t[i].mac, sizeof macs[i]);
    int rc = pv_store_notify_job_create(p->store, job, (const char(*)[13])macs, sel->n, err);
    free(macs);
    if (rc != 0)
        return rc;
    if (sel->n > 0)
        (void)pv_notifier_submit_with(p->notifier, (uint64_t)job->id, action, sel->t, sel->n, o);
    char what[48];
    snprintf(what, sizeof what, "device.%s", action);
    json_t *detail =
        json_pack("{s:I, s:I, s:I}", "job", (json_int_t)job->id, "devices", (json_int_t)sel->n,
                  "skipped", (json_int_t)json_array_size(sel->skipped));
    char *text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(detail);
    pv_store_audit a = {.at = p->now,
                        .actor = (char *)p->actor,
                        .action = what,
                        .subject = (char *)subject,
                        .detail = text};
    pv_error aerr = {""};
    if (pv_store_audit_add(p->store, &a, NULL, &aerr) != 0) /* the job runs: say so in the log */
        pv_logf(PV_LOG_ERROR, "sip.notify.audit_failed", "job=%lld error=\"%s\"",
                (long long)job->id, aerr.msg);
    free(text);
    return 0;
}

/* ---- renders before and after a change ---- */

struct pv_push_renders {
    size_t n;
    char (*mac)[13];
    char (*hash)[65];
};

/* SHA-256 of mac's plain render, as the server would render it; "" when it cannot be. */
static void render_hash(const pv_push *p, const char *mac, char out[65])
{
    pv_prov_policy pol;
    pv_render_options o = render_options(p, &pol);
    pv_render_output r = {0};
    pv_error err = {""};
    out[0] = '\0';
    if (pv_render_device(p->store, mac, &o, &r, &err) == 0)
        memcpy(out, r.hash, 65);
    pv_render_output_free(&r);
}

pv_push_renders *pv_push_renders_take(const pv_push *p, int64_t account_id)
{
    pv_push_renders *r = pv_calloc(1, sizeof *r);
    size_t cap = 0;
    pv_store_page page = {.limit = PV_STORE_PAGE_MAX};
    pv_error err = {""};
    do {
        pv_store_device *rows = NULL;
        size_t n = 0;
        if (pv_store_device_list(p->store, account_id, &page, &rows, &n, &err) != 0)
            break;
        for (size_t i = 0; i < n; i++) {
            if (r->n == cap) {
                cap = cap ? cap * 2 : 64;
                r->mac = pv_reallocarray(r->mac, cap, sizeof *r->mac);
                r->hash = pv_reallocarray(r->hash, cap, sizeof *r->hash);
            }
            memcpy(r->mac[r->n], rows[i].mac, sizeof r->mac[0]);
            render_hash(p, rows[i].mac, r->hash[r->n]);
            r->n++;
        }
        pv_store_devices_free(rows, n);
    } while (page.after[0] != '\0');
    return r;
}

void pv_push_renders_free(pv_push_renders *r)
{
    if (r == NULL)
        return;
    free(r->mac);
    free(r->hash);
    free(r);
}

void pv_push_changed(const pv_push *p, pv_push_renders *before, pv_push_selection *sel)
{
    pv_error err = {""};
    for (size_t i = 0; i < before->n; i++) {
        char now[65];
        render_hash(p, before->mac[i], now);
        pv_store_device dev = {0};
        if (now[0] != '\0' && strcmp(now, before->hash[i]) != 0 &&
            pv_store_device_get(p->store, before->mac[i], &dev, &err) == 0)
            pv_push_add_device(p, &dev, sel); /* spec 5.5: exactly those whose profile changed */
        pv_store_device_free(&dev);
    }
    pv_push_renders_free(before);
}

/* ---- after a binding ---- */

int pv_push_after_binding(const pv_push *p, const char (*macs)[13], size_t n, int64_t *job_id,
                          pv_error *err)
{
    pv_push_selection sel;
    pv_push_selection_init(&sel);
    *job_id = 0;
    for (size_t i = 0; i < n; i++) {
        pv_store_device dev = {0};
        pv_error e = {""};
        if (pv_store_device_get(p->store, macs[i], &dev, &e) == 0)
            pv_push_add_device(p, &dev, &sel);
        pv_store_device_free(&dev);
    }
    int rc = 0;
    if (sel.n > 0) {
        /* the phone registers its line once it applied the profile it just fetched: the
         * first NOTIFY waits a little, and the proxy's "not registered" is asked again */
        pv_notify_job_options o = {.delay_ms = PV_PUSH_BOUND_DELAY_MS,
                                   .await_registration = true,
                                   .retries = PV_PUSH_BOUND_RETRIES};
        pv_store_notify_job job;
        rc = pv_push_start(p, "check-sync", sel.n == 1 ? sel.t[0].mac : "bound", &sel, &o, &job,
                           err);
        if (rc == 0)
            *job_id = job.id;
    }
    pv_push_selection_free(&sel);
    return rc;
}
