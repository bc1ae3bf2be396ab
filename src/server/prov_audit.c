/* prov_audit.c — held answers, batched and sampled audit rows; see prov_audit.h. */
#include "server/job_metrics.h"
#include "server/prov_audit.h"

#include "core/alloc.h"
#include "core/log.h"
#include "server/store_fault.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SAMPLED_ACTIONS 8 /* distinct sampled actions tracked per loop */
#define RETRY_MS 1000     /* rows alone are retried at most this often while failing */

typedef struct held {
    pv_request *req;
    pv_response resp;
    pv_prov_row row;
    bool has_seen;
    char mac[13];
    pv_prov_recorded seen;
} held;

typedef struct sampled {
    char action[32];
    int64_t window_start;          /* unix seconds */
    unsigned recorded;             /* rows written (or pending) in this window */
    unsigned long long suppressed; /* counted only: the summary row says how many */
} sampled;

struct pv_prov_audit {
    pv_store *s;
    held *held;
    size_t nheld;
    pv_prov_row *rows; /* sampled rows waiting for the next flush */
    size_t nrows;
    sampled slot[SAMPLED_ACTIONS];
    uint64_t retry_at_ms; /* rows-only flushes wait until then after a failure */
    pv_prov_audit_committed_fn *committed;
    void *committed_data;
};

static atomic_ullong sampled_total, suppressed_total, held_total, held_refused_total, repeat_total;

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void copy_str(char *dst, size_t size, const char *src)
{
    int n = snprintf(dst, size, "%s", src ? src : "");
    if (n < 0 || (size_t)n >= size)
        dst[size - 1] = '\0';
}

pv_prov_audit *pv_prov_audit_new(pv_store *s)
{
    pv_prov_audit *a = pv_calloc(1, sizeof *a);
    a->s = s;
    a->held = pv_calloc(PV_AUDIT_BATCH_MAX, sizeof *a->held);
    a->rows = pv_calloc(PV_AUDIT_BATCH_MAX, sizeof *a->rows);
    return a;
}

void pv_prov_audit_on_commit(pv_prov_audit *a, pv_prov_audit_committed_fn *fn, void *data)
{
    a->committed = fn;
    a->committed_data = data;
}

void pv_prov_audit_repeat(void)
{
    atomic_fetch_add_explicit(&repeat_total, 1, memory_order_relaxed);
}

void pv_prov_audit_free(pv_prov_audit *a)
{
    if (a == NULL)
        return;
    (void)pv_prov_audit_flush(a);
    free(a->held);
    free(a->rows);
    free(a);
}

void pv_prov_audit_row(pv_prov_row *row, const char *mac, const char *action, const char *hash,
                       const char *detail)
{
    row->at = time(NULL);
    (void)snprintf(row->actor, sizeof row->actor, "device:%s", mac && mac[0] ? mac : "?");
    copy_str(row->action, sizeof row->action, action);
    copy_str(row->subject, sizeof row->subject, mac);
    copy_str(row->hash, sizeof row->hash, hash);
    copy_str(row->detail, sizeof row->detail, detail);
}

int pv_prov_audit_write(pv_store *s, const pv_prov_row *row, pv_error *err)
{
    pv_store_audit r = {.at = row->at,
                        .actor = (char *)row->actor,
                        .action = (char *)row->action,
                        .subject = (char *)row->subject,
                        .content_hash = row->hash[0] ? (char *)row->hash : NULL,
                        .detail = (char *)row->detail};
    return pv_store_audit_add(s, &r, NULL, err);
}

void pv_prov_recorded_set(pv_prov_recorded *r, const pv_prov_seen *seen)
{
    r->at = seen->at;
    copy_str(r->hash, sizeof r->hash, seen->hash);
    copy_str(r->etag, sizeof r->etag, seen->etag);
    copy_str(r->swver, sizeof r->swver, seen->swver);
    copy_str(r->address, sizeof r->address, seen->address);
    r->proto = seen->proto;
}

bool pv_prov_recorded_repeat(const pv_prov_recorded *r, const pv_prov_recorded *now,
                             unsigned interval_s)
{
    return interval_s > 0 && r->at > 0 && now->at >= r->at && now->at - r->at < interval_s &&
           r->proto == now->proto &&
           strcmp(r->hash, now->hash) == 0 && strcmp(r->etag, now->etag) == 0 &&
           strcmp(r->swver, now->swver) == 0 && strcmp(r->address, now->address) == 0;
}

void pv_prov_audit_hold(pv_prov_audit *a, pv_request *req, pv_response *resp,
                        const pv_prov_row *row, const pv_prov_seen *seen)
{
    if (a->nheld == PV_AUDIT_BATCH_MAX)
        (void)pv_prov_audit_flush(a);
    held *h = &a->held[a->nheld++];
    memset(h, 0, sizeof *h);
    h->req = req;
    h->row = *row;
    if (seen != NULL) { /* before resp is taken: seen's strings may point into it (etag) */
        h->has_seen = true;
        copy_str(h->mac, sizeof h->mac, seen->mac);
        pv_prov_recorded_set(&h->seen, seen);
    }
    h->resp = *resp;
    *resp = (pv_response){.fd = -1}; /* taken */
    atomic_fetch_add_explicit(&held_total, 1, memory_order_relaxed);
}

static sampled *slot_for(pv_prov_audit *a, const char *action, int64_t now)
{
    sampled *free_slot = NULL;
    for (size_t i = 0; i < SAMPLED_ACTIONS; i++) {
        sampled *s = &a->slot[i];
        if (s->action[0] != '\0' && strcmp(s->action, action) == 0)
            return s;
        if (s->action[0] == '\0' && free_slot == NULL)
            free_slot = s;
    }
    if (free_slot != NULL) {
        copy_str(free_slot->action, sizeof free_slot->action, action);
        free_slot->window_start = now;
    }
    return free_slot; /* NULL: more distinct actions than slots (then counted only) */
}

void pv_prov_audit_sample(pv_prov_audit *a, const pv_prov_row *row)
{
    sampled *s = slot_for(a, row->action, row->at);
    /* A window whose summary is written starts over; one whose summary is
     * still pending (the store was down) goes on counting. */
    if (s != NULL && row->at - s->window_start >= PV_AUDIT_WINDOW_S && s->suppressed == 0) {
        s->window_start = row->at;
        s->recorded = 0;
    }
    if (s != NULL && s->recorded < PV_AUDIT_SAMPLES && a->nrows < PV_AUDIT_BATCH_MAX) {
        a->rows[a->nrows++] = *row;
        s->recorded++;
        atomic_fetch_add_explicit(&sampled_total, 1, memory_order_relaxed);
        return;
    }
    if (s != NULL)
        s->suppressed++;
    atomic_fetch_add_explicit(&suppressed_total, 1, memory_order_relaxed);
}

/* A summary is due when its window ended with requests that have no row. */
static bool summary_due(const sampled *s, int64_t now)
{
    return s->action[0] != '\0' && s->suppressed > 0 && now - s->window_start >= PV_AUDIT_WINDOW_S;
}

static int write_summary(pv_store *st, const sampled *s, int64_t now, pv_error *err)
{
    char detail[200];
    (void)snprintf(detail, sizeof detail,
                   "action=%s recorded=%u not_recorded=%llu from=%lld to=%lld", s->action,
                   s->recorded, s->suppressed, (long long)s->window_start, (long long)now);
    pv_store_audit r = {.at = now,
                        .actor = "server",
                        .action = "audit.sampled",
                        .subject = (char *)s->action,
                        .detail = detail};
    return pv_store_audit_add(st, &r, NULL, err);
}

static void send_held(held *h, bool committed)
{
    if (committed) {
        pv_request_respond(h->req, &h->resp);
        return;
    }
    pv_response r = {.status = 503,
                     .fd = -1,
                     .message = "store unavailable: retry later",
                     .retry_after = PV_STORE_RETRY_AFTER_S,
                     .identity_log = h->resp.identity_log};
    pv_request_respond(h->req, &r);
    atomic_fetch_add_explicit(&held_refused_total, 1, memory_order_relaxed);
}

bool pv_prov_audit_pending(const pv_prov_audit *a)
{
    return a->nheld > 0 || a->nrows > 0;
}

int pv_prov_audit_flush(pv_prov_audit *a)
{
    int64_t now = time(NULL);
    bool due = false;
    for (size_t i = 0; i < SAMPLED_ACTIONS; i++)
        due |= summary_due(&a->slot[i], now);
    if (a->nheld == 0 && a->nrows == 0 && !due)
        return 0;
    if (a->nheld == 0 && mono_ms() < a->retry_at_ms)
        return 0; /* rows alone wait while the store fails: no storm of attempts */
    pv_error e = {""};
    /* Last-seen and audit rows change no profile: no cache need read the log for them. */
    pv_store_quiet_writes(a->s, true);
    int rc = pv_store_begin(a->s, &e);
    for (size_t i = 0; rc == 0 && i < a->nheld; i++) {
        held *h = &a->held[i];
        if (h->has_seen) {
            const pv_prov_recorded *r = &h->seen;
            rc = pv_store_device_seen(a->s, h->mac, r->at, r->swver[0] ? r->swver : NULL,
                                      r->etag, r->hash, r->address[0] ? r->address : NULL, &e);
            if (rc == PV_ENOENT) /* deleted meanwhile: nothing to record */
                rc = 0;
        }
        if (rc == 0)
            rc = pv_prov_audit_write(a->s, &h->row, &e);
    }
    for (size_t i = 0; rc == 0 && i < a->nrows; i++)
        rc = pv_prov_audit_write(a->s, &a->rows[i], &e);
    for (size_t i = 0; rc == 0 && i < SAMPLED_ACTIONS; i++)
        if (summary_due(&a->slot[i], now))
            rc = write_summary(a->s, &a->slot[i], now, &e);
    if (rc == 0) {
        double start = pv_jobm_now();
        rc = pv_store_commit(a->s, &e);
        pv_jobm_store(PV_JOBM_STORE_COMMIT, pv_jobm_now() - start);
    } else {
        pv_store_rollback(a->s);
    }
    pv_store_quiet_writes(a->s, false);
    size_t nheld = a->nheld;
    a->nheld = 0;
    if (rc == 0) {
        pv_store_health_ok();
        a->nrows = 0;
        a->retry_at_ms = 0;
        for (size_t i = 0; i < SAMPLED_ACTIONS; i++)
            if (summary_due(&a->slot[i], now)) {
                a->slot[i].window_start = now;
                a->slot[i].recorded = 0;
                a->slot[i].suppressed = 0;
            }
    } else {
        if (pv_store_fault(rc))
            pv_store_health_failed("audit", &e);
        else
            pv_logf(PV_LOG_ERROR, "audit.failed", "records=%zu error=\"%s\"", nheld + a->nrows,
                    e.msg);
        a->retry_at_ms = mono_ms() + RETRY_MS;
    }
    for (size_t i = 0; i < nheld; i++) {
        held *h = &a->held[i];
        if (rc == 0 && h->has_seen && a->committed != NULL)
            a->committed(a->committed_data, h->mac, &h->seen);
        if (rc != 0) { /* the 503 is a refusal like any other: sampled */
            pv_prov_row r;
            pv_prov_audit_row(&r, h->row.subject, "profile.unavailable", NULL, "store unavailable");
            pv_prov_audit_sample(a, &r);
        }
        send_held(h, rc == 0);
    }
    return rc;
}

#define PRUNE_CHUNK 500
#define PRUNE_BUDGET_MS 20 /* of one tick */
#define PRUNE_EVERY_MS 1000
#define RATE_KEEP_S (2 * 3600) /* longer than any rate-limit window (binding.h: 600 s) */
#define RENDER_CHANGES_KEEP_S 3600

static atomic_ullong next_prune_ms; /* claimed by one loop at a time */
static atomic_ullong pruned_total;

static void prune(pv_prov_audit *a, const pv_audit_retention *r)
{
    unsigned long long t = mono_ms(), next = atomic_load(&next_prune_ms);
    if (t < next || !atomic_compare_exchange_strong(&next_prune_ms, &next, t + PRUNE_EVERY_MS))
        return;
    int64_t now = time(NULL);
    int64_t before = r->days > 0 ? now - (int64_t)r->days * 86400 : 0;
    pv_error e = {""};
    int64_t n = PRUNE_CHUNK;
    int rc = 0;
    pv_store_quiet_writes(a->s, true); /* pruning changes no profile */
    while (rc == 0 && n == PRUNE_CHUNK && mono_ms() - t < PRUNE_BUDGET_MS &&
           (before > 0 || r->max_rows > 0)) {
        rc = pv_store_audit_prune(a->s, before, (int64_t)r->max_rows, PRUNE_CHUNK, &n, &e);
        if (rc == 0)
            atomic_fetch_add_explicit(&pruned_total, (unsigned long long)n, memory_order_relaxed);
    }
    if (rc == 0)
        rc = pv_store_rate_prune(a->s, now - RATE_KEEP_S, PRUNE_CHUNK, &n, &e);
    if (rc == 0) /* web sessions past their absolute end (websession.h) */
        rc = pv_store_session_prune(a->s, now, 0, PRUNE_CHUNK, &n, &e);
    if (rc == 0) /* the render change log: a node that missed an hour forgets all (prov_cache.h) */
        rc = pv_store_render_changes_prune(a->s, now - RENDER_CHANGES_KEEP_S, PRUNE_CHUNK, &n, &e);
    if (rc != 0 && pv_store_fault(rc))
        pv_store_health_failed("retention", &e);
    else if (rc != 0)
        pv_logf(PV_LOG_ERROR, "audit.prune_failed", "error=\"%s\"", e.msg);
    pv_store_quiet_writes(a->s, false);
}

void pv_prov_audit_tick(pv_prov_audit *a, const pv_audit_retention *r)
{
    /* One indexed read a second: /healthz follows the store without traffic. */
    int64_t v = 0;
    pv_error e = {""};
    double start = pv_jobm_now();
    int rc = pv_store_schema_version(a->s, &v, &e);
    pv_jobm_store(PV_JOBM_STORE_PROBE, pv_jobm_now() - start);
    if (rc == 0)
        pv_store_health_ok();
    else if (pv_store_fault(rc))
        pv_store_health_failed("probe", &e);
    if (pv_store_health_up())
        a->retry_at_ms = 0; /* the store is back: pending rows go now */
    (void)pv_prov_audit_flush(a);
    if (pv_store_health_up())
        prune(a, r);
}

void pv_prov_audit_render(pv_buf *out)
{
    pv_buf_appendf(
        out,
        "# HELP provisor_audit_held_total Answers sent after their audit row committed.\n"
        "# TYPE provisor_audit_held_total counter\n"
        "provisor_audit_held_total %llu\n"
        "# HELP provisor_audit_held_refused_total Held answers turned into 503 because their "
        "audit row could not be committed.\n"
        "# TYPE provisor_audit_held_refused_total counter\n"
        "provisor_audit_held_refused_total %llu\n"
        "# HELP provisor_audit_sampled_total Refusals and bootstrap answers given an audit row.\n"
        "# TYPE provisor_audit_sampled_total counter\n"
        "provisor_audit_sampled_total %llu\n"
        "# HELP provisor_audit_not_recorded_total Refusals and bootstrap answers only counted "
        "(beyond the sample; summed in audit.sampled rows).\n"
        "# TYPE provisor_audit_not_recorded_total counter\n"
        "provisor_audit_not_recorded_total %llu\n"
        "# HELP provisor_audit_pruned_total Audit rows deleted by retention.\n"
        "# TYPE provisor_audit_pruned_total counter\n"
        "provisor_audit_pruned_total %llu\n"
        "# HELP provisor_audit_repeats_total Encrypted profiles sent again within "
        "seen_interval_s of the device's identical recorded answer: no row, no last-seen write.\n"
        "# TYPE provisor_audit_repeats_total counter\n"
        "provisor_audit_repeats_total %llu\n",
        (unsigned long long)atomic_load(&held_total),
        (unsigned long long)atomic_load(&held_refused_total),
        (unsigned long long)atomic_load(&sampled_total),
        (unsigned long long)atomic_load(&suppressed_total),
        (unsigned long long)atomic_load(&pruned_total),
        (unsigned long long)atomic_load(&repeat_total));
}
