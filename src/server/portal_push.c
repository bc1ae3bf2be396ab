/*
 * portal_push.c — "resync my phone" in the customer portal, and the NOTIFY
 * that a settings change sends to exactly the phones whose profile changed
 * (spec 5.5; docs/portal.md "Resync"). The NOTIFY goes the way the admin
 * API's device actions send it (server/push.h: the account's sip_delivery,
 * a job whose outcomes are stored, audited with the customer's login as the
 * actor). A phone is asked at most once per RESYNC_WINDOW seconds from here
 * (a customer's job for it in the last minute refuses the next), so a customer
 * cannot keep their phone resyncing; the operator's actions are not limited.
 * A settings save is never refused for it, and its change must still reach the
 * phone: a phone asked within the window gets one NOTIFY delayed by the window,
 * and while that one waits, later saves add nothing (the phone fetches the
 * newest profile when it comes) — so saving in a loop costs a phone at most
 * about one NOTIFY a minute.
 * Everything goes through the session's account: another account's phone
 * answers 404 (pv__portal_own_device).
 */
#include "server/portal_int.h"

#include "core/form.h"
#include "core/log.h"
#include "server/notifier.h"
#include "server/push.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESYNC_WINDOW 60 /* seconds: one customer resync per phone in each */

static pv_push push_of(const pv__portal_req *r, char *actor, size_t size)
{
    snprintf(actor, size, "login:%s", r->ses.login.name);
    return (pv_push){.store = r->portal->store,
                     .policy = r->portal->policy,
                     .notifier = r->portal->notifier,
                     .actor = actor,
                     .now = r->now};
}

/* The phone's newest NOTIFY outcome (job 0 when it never had one). */
static void last_outcome(const pv__portal_req *r, const char *mac, pv_store_notify_outcome *o)
{
    memset(o, 0, sizeof *o);
    if (r->portal->notifier != NULL)
        pv_notifier_flush(r->portal->notifier); /* what finished so far is in the store */
    pv_store_page page = {.limit = 1};
    pv_store_notify_outcome *rows = NULL;
    size_t n = 0;
    pv_error err = {""};
    if (pv_store_notify_outcome_list(r->portal->store, 0, mac, &page, &rows, &n, &err) == 0 &&
        n > 0)
        *o = rows[0];
    free(rows);
}

/* "push_ok", "push_not-registered", ... ("push_none" before any). */
static const char *outcome_key(const pv_store_notify_outcome *o, char *key, size_t size)
{
    snprintf(key, size, "push_%s", o->job_id != 0 ? o->outcome : "none");
    return key;
}

void pv__portal_push_cell(pv_buf *out, const pv__portal_req *r, const char *mac)
{
    pv_store_notify_outcome o;
    char key[40];
    last_outcome(r, mac, &o);
    pv_buf_appendf(out, "<span class=\"push push-%s\">", o.job_id ? o.outcome : "none");
    pv__portal_text(out, r, outcome_key(&o, key, sizeof key));
    pv_buf_append_str(out, "</span>");
}

void pv__portal_push_section(pv_buf *out, const pv__portal_req *r, const char *mac)
{
    pv_buf_append_str(out, "<h2 id=\"resync-h\">");
    pv__portal_text(out, r, "resync_title");
    pv_buf_append_str(out, "</h2>\n<p>");
    if (r->portal->notifier == NULL) {
        pv__portal_text(out, r, "resync_unavailable");
        pv_buf_append_str(out, "</p>\n");
        return;
    }
    pv__portal_text(out, r, "resync_text");
    pv_buf_append_str(out, "</p>\n");
    pv_store_notify_outcome o;
    char key[40];
    last_outcome(r, mac, &o);
    /* the script polls while the answer is pending; without it, the Refresh link */
    pv_buf_appendf(out,
                   "<p id=\"push-status\" class=\"push push-%s\" data-mac=\"%s\" data-state=\"%s\" "
                   "role=\"status\" aria-live=\"polite\">",
                   o.job_id ? o.outcome : "none", mac, o.job_id ? o.outcome : "none");
    pv__portal_text(out, r, outcome_key(&o, key, sizeof key));
    if (o.finished_at != 0) {
        pv_buf_append_str(out, " — ");
        pv__portal_when(out, r, o.finished_at);
    }
    pv_buf_append_str(out, "</p>\n");
    pv_buf_appendf(out, "<form method=\"post\" action=\"/phones/%s/resync\">\n", mac);
    pv__portal_csrf_field(out, r);
    pv_buf_append_str(out, "<button type=\"submit\" id=\"resync\">");
    pv__portal_text(out, r, "resync_button");
    pv_buf_appendf(out, "</button>\n</form>\n<p><a href=\"/phones/%s\" id=\"push-refresh\">", mac);
    pv__portal_text(out, r, "refresh");
    pv_buf_append_str(out, "</a></p>\n");
}

void pv__portal_resync_all_form(pv_buf *out, const pv__portal_req *r)
{
    if (r->portal->notifier == NULL)
        return;
    pv__portal_button_form(out, r, "/resync", "resync_text", "resync-all", "resync_all_button");
}

/* " {n} phones ..." (key) when the query's param is a count above 0. */
static void push_count(pv_buf *out, const pv__portal_req *r, const char *param, const char *key)
{
    char count[12] = "", text[256];
    long long n = 0;
    if (pv_form_get(r->req->query, param, count, sizeof count))
        n = strtoll(count, NULL, 10);
    if (n <= 0)
        return;
    pv_buf_append_char(out, ' ');
    pv_html_escape(out, pv__portal_tn(r, key, n, text, sizeof text));
}

void pv__portal_account_notice(pv_buf *out, const pv__portal_req *r)
{
    char saved[4] = "";
    if (pv_form_get(r->req->query, "saved", saved, sizeof saved)) {
        pv_buf_append_str(out, "<p class=\"notice\" role=\"status\" id=\"saved\">");
        pv__portal_text(out, r, strcmp(saved, "1") == 0 ? "settings_saved" : "phone_unbound");
        push_count(out, r, "notified", "phones_notified"); /* asked to resync */
        push_count(out, r, "later", "phones_notified_later"); /* asked within the minute */
        pv_buf_append_str(out, "</p>\n");
    } else if (pv_form_get(r->req->query, "resync", saved, sizeof saved)) {
        pv_buf_append_str(out, "<p class=\"notice\" role=\"status\" id=\"resync-sent\">");
        pv__portal_text(out, r, "resync_sent");
        push_count(out, r, "resync", "resync_skipped"); /* asked too recently */
        pv_buf_append_str(out, "</p>\n");
    }
}

void pv__portal_push_json(pv__portal_req *r, const char *mac)
{
    pv_store_device d = {0};
    if (!pv__portal_own_device(r, mac, &d))
        return;
    pv_store_notify_outcome o;
    char key[40];
    last_outcome(r, d.mac, &o);
    /* the label the page shows on load: the outcome, and when it came */
    char label[256], when[32];
    snprintf(label, sizeof label, "%s%s%s", pv__portal_t(r, outcome_key(&o, key, sizeof key)),
             o.finished_at != 0 ? " — " : "",
             o.finished_at != 0 ? pv__portal_when_text(o.finished_at, when, sizeof when) : "");
    json_t *j = json_pack("{s:s, s:s}", "state", o.job_id ? o.outcome : "none", "label", label);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    pv__portal_json(r, 200, s);
    free(s);
    pv_store_device_free(&d);
}

/* How a customer may ask this phone now, from its newest jobs (an operator's may be among
 * them; the jobs are the record: a sliding minute, not a clock one). */
typedef enum {
    ASK_NOW,     /* no customer's job for it in the last RESYNC_WINDOW seconds */
    ASK_LATER,   /* one within it: a resync waits for the window's end */
    ASK_WAITING, /* that later one is already waiting: nothing to add */
} customer_ask;

static customer_ask customer_window(pv__portal_req *r, const char *mac)
{
    pv_store_page page = {.limit = 8};
    pv_store_notify_outcome *rows = NULL;
    size_t n = 0, recent = 0;
    pv_error err = {""};
    bool newest_pending = false;
    if (pv_store_notify_outcome_list(r->portal->store, 0, mac, &page, &rows, &n, &err) != 0)
        pv_logf(PV_LOG_ERROR, "portal.resync_limit_failed", "error=\"%s\"", err.msg);
    for (size_t i = 0; i < n; i++) { /* newest first */
        pv_store_notify_job j;
        if (pv_store_notify_job_get(r->portal->store, rows[i].job_id, &j, &err) != 0 ||
            strncmp(j.actor, "login:", 6) != 0 || j.created_at <= r->now - RESYNC_WINDOW)
            continue;
        if (recent++ == 0)
            newest_pending = strcmp(rows[i].outcome, "pending") == 0;
    }
    free(rows);
    /* Within a window only the first job is sent at once; a second is the delayed one, so a
     * pending newest among two is waiting still (a pending first may already have made the
     * phone fetch, before this save: it does not count). */
    if (recent == 0)
        return ASK_NOW;
    return recent >= 2 && newest_pending ? ASK_WAITING : ASK_LATER;
}

/* Adds one phone of the account to sel when its limit allows; *limited counts those it did not. */
static void select_phone(pv__portal_req *r, const pv_push *p, const pv_store_device *d,
                         pv_push_selection *sel, size_t *limited)
{
    if (customer_window(r, d->mac) != ASK_NOW) {
        (*limited)++;
        return;
    }
    pv_push_add_device(p, d, sel);
}

void pv__portal_resync(pv__portal_req *r, const char *mac)
{
    if (r->portal->notifier == NULL) {
        pv__portal_error(r, 503, "unavailable", pv__portal_t(r, "resync_unavailable"));
        return;
    }
    char actor[96];
    pv_push p = push_of(r, actor, sizeof actor);
    pv_push_selection sel;
    pv_push_selection_init(&sel);
    size_t limited = 0;
    char subject[80];
    if (mac != NULL) {
        pv_store_device d = {0};
        if (!pv__portal_own_device(r, mac, &d)) {
            pv_push_selection_free(&sel);
            return;
        }
        snprintf(subject, sizeof subject, "%s", d.mac);
        select_phone(r, &p, &d, &sel, &limited);
        pv_store_device_free(&d);
    } else {
        pv_store_account a = {0};
        pv_error err = {""};
        snprintf(subject, sizeof subject, "account:%lld", (long long)r->ses.login.account_id);
        if (pv_store_account_get(r->portal->store, r->ses.login.account_id, &a, &err) == 0)
            snprintf(subject, sizeof subject, "%s", a.name);
        pv_store_account_free(&a);
        pv_store_page page = {.limit = PV_STORE_PAGE_MAX};
        do {
            pv_store_device *rows = NULL;
            size_t n = 0;
            if (pv_store_device_list(r->portal->store, r->ses.login.account_id, &page, &rows, &n,
                                     &err) != 0)
                break;
            for (size_t i = 0; i < n; i++)
                select_phone(r, &p, &rows[i], &sel, &limited);
            pv_store_devices_free(rows, n);
        } while (page.after[0] != '\0');
    }
    if (sel.n == 0) {
        bool too_soon = limited > 0; /* the others have no line */
        pv_logf(PV_LOG_INFO, "portal.resync_refused", "login=%s subject=%s reason=%s",
                r->ses.login.name, subject, too_soon ? "rate" : "no-line");
        const char *why = mac != NULL ? (too_soon ? "resync_too_soon" : "resync_no_line")
                                      : (too_soon ? "resync_too_soon_all" : "resync_no_line_all");
        pv__portal_error(r, too_soon ? 429 : 422, too_soon ? "resync_too_soon_title" : "resync_title",
                         pv__portal_t(r, why));
        pv_push_selection_free(&sel);
        return;
    }
    pv_store_notify_job job;
    pv_error err = {""};
    int rc = pv_push_start(&p, "resync", subject, &sel, NULL, &job, &err);
    pv_push_selection_free(&sel);
    if (rc != 0) {
        pv_logf(PV_LOG_ERROR, "portal.resync_failed", "login=%s error=\"%s\"", r->ses.login.name,
                err.msg);
        pv__portal_error(r, 503, "unavailable", pv__portal_t(r, "unavailable_text"));
        return;
    }
    char next[64];
    if (mac != NULL)
        snprintf(next, sizeof next, "/phones/%s", subject);
    else
        snprintf(next, sizeof next, "/account?resync=%zu", limited);
    pv__portal_redirect(r, next);
}

pv_push_renders *pv__portal_renders_take(pv__portal_req *r)
{
    if (r->portal->notifier == NULL)
        return NULL;
    char actor[96];
    pv_push p = push_of(r, actor, sizeof actor);
    return pv_push_renders_take(&p, r->ses.login.account_id);
}

/* Starts a resync job for sel's targets (delay_ms 0: the notifier's defaults); 0 when it
 * could not (logged: the save stands, the phones pick it up at their next resync). */
static size_t notify_job(pv__portal_req *r, const pv_push *p, const pv_push_selection *sel,
                         const char *account, unsigned delay_ms)
{
    if (sel->n == 0)
        return 0;
    pv_notify_job_options o = {.delay_ms = delay_ms};
    pv_store_notify_job job;
    pv_error err = {""};
    if (pv_push_start(p, "resync", account, sel, delay_ms ? &o : NULL, &job, &err) != 0) {
        pv_logf(PV_LOG_ERROR, "portal.notify_failed", "login=%s error=\"%s\"", r->ses.login.name,
                err.msg);
        return 0;
    }
    return sel->n;
}

size_t pv__portal_notify_changed(pv__portal_req *r, pv_push_renders *before, const char *account,
                                 size_t *later)
{
    *later = 0;
    if (before == NULL)
        return 0;
    char actor[96];
    pv_push p = push_of(r, actor, sizeof actor);
    pv_push_selection changed, now, delayed;
    pv_push_selection_init(&changed);
    pv_push_selection_init(&now);
    pv_push_selection_init(&delayed);
    pv_push_changed(&p, before, &changed); /* spec 5.5: exactly the phones whose profile changed */
    for (size_t i = 0; i < changed.n; i++) {
        customer_ask ask = customer_window(r, changed.t[i].mac);
        if (ask == ASK_WAITING) {
            (*later)++;
            continue;
        }
        pv_push_selection *to = ask == ASK_NOW ? &now : &delayed;
        pv_push_selection_add(to, &changed.t[i]);
    }
    size_t n = notify_job(r, &p, &now, account, 0);
    *later += notify_job(r, &p, &delayed, account, RESYNC_WINDOW * 1000u);
    pv_push_selection_free(&changed);
    pv_push_selection_free(&now);
    pv_push_selection_free(&delayed);
    return n;
}
