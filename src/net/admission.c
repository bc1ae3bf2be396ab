/* admission.c — node-wide admission with bounded queues and deadlines; see admission.h. */
#include "net/admission.h"

#include "core/alloc.h"

#include <stdlib.h>
#include <time.h>

static const char *const class_names[PV_ADMIT__COUNT] = {"render", "firmware", "tls"};

/* Upper bounds (ms) of the wait histogram's buckets: from "at once" to past any deadline a
 * phone would still wait for (its own HTTP timeout is about a minute). */
static const unsigned wait_le_ms[] = {1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 20000, 60000};
#define WAIT_BUCKETS (sizeof wait_le_ms / sizeof wait_le_ms[0])

static _Atomic long long m_waiting[PV_ADMIT__COUNT];
static _Atomic unsigned long long m_admitted[PV_ADMIT__COUNT], m_queued[PV_ADMIT__COUNT],
    m_refused_deadline[PV_ADMIT__COUNT], m_refused_full[PV_ADMIT__COUNT],
    m_abandoned[PV_ADMIT__COUNT], m_wait_ms_sum[PV_ADMIT__COUNT],
    m_wait_ms_max[PV_ADMIT__COUNT], m_wait_bucket[PV_ADMIT__COUNT][WAIT_BUCKETS];

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void pv_admission_init(pv_admission *a, const pv_admission_config *cfg)
{
    a->cfg = *cfg;
    if (a->cfg.queue_max == 0)
        a->cfg.queue_max = 1000;
    if (a->cfg.retry_max_s < a->cfg.retry_min_s)
        a->cfg.retry_max_s = a->cfg.retry_min_s;
    long long t = (long long)now_ms();
    for (int c = 0; c < PV_ADMIT__COUNT; c++) {
        /* a full bucket at the start: one second's worth may start at once */
        atomic_init(&a->tokens_milli[c], (long long)a->cfg.rate[c] * 1000);
        atomic_init(&a->refill_ms[c], t);
    }
}

unsigned pv_admission_retry_after(const pv_admission *a, uint64_t seed)
{
    unsigned span = a->cfg.retry_max_s - a->cfg.retry_min_s + 1;
    seed ^= seed >> 33; /* a mix, so that consecutive counters do not come back in step */
    seed *= 0xff51afd7ed558ccdull;
    seed ^= seed >> 33;
    return a->cfg.retry_min_s + (unsigned)(seed % span);
}

/* One token of class c, if the bucket has one (refilled by the time since the last refill). */
static bool take(pv_admission *a, pv_admit_class c)
{
    long long rate = a->cfg.rate[c];
    if (rate == 0)
        return true;
    long long t = (long long)now_ms(), last = atomic_load(&a->refill_ms[c]);
    if (t > last && atomic_compare_exchange_strong(&a->refill_ms[c], &last, t)) {
        long long add = (t - last) * rate; /* rate per second = rate milli-tokens per ms */
        long long have = atomic_fetch_add(&a->tokens_milli[c], add) + add;
        if (have > rate * 1000) /* at most one second of burst */
            atomic_fetch_sub(&a->tokens_milli[c], have - rate * 1000);
    }
    long long cur = atomic_load(&a->tokens_milli[c]);
    while (cur >= 1000)
        if (atomic_compare_exchange_weak(&a->tokens_milli[c], &cur, cur - 1000))
            return true;
    return false;
}

struct pv_admit_queue {
    pv_admission *a;
    uv_timer_t timer;
    bool open;
    pv_admit_wait *head[PV_ADMIT__COUNT], *tail[PV_ADMIT__COUNT]; /* FIFO, doubly linked */
    unsigned len[PV_ADMIT__COUNT];
    uint64_t refusals; /* seeds the Retry-After spread */
};

pv_admit_queue *pv_admit_queue_new(pv_admission *a, uv_loop_t *loop)
{
    pv_admit_queue *q = pv_calloc(1, sizeof *q);
    q->a = a;
    uv_timer_init(loop, &q->timer);
    uv_unref((uv_handle_t *)&q->timer); /* never keeps a draining loop alive */
    q->timer.data = q;
    q->open = true;
    return q;
}

static void admitted(pv_admit_class c, uint64_t waited_ms)
{
    atomic_fetch_add(&m_admitted[c], 1);
    atomic_fetch_add(&m_wait_ms_sum[c], waited_ms);
    unsigned long long max = atomic_load(&m_wait_ms_max[c]);
    while (waited_ms > max && !atomic_compare_exchange_weak(&m_wait_ms_max[c], &max, waited_ms))
        ;
    for (size_t b = 0; b < WAIT_BUCKETS; b++) /* cumulative, as Prometheus reads buckets */
        if (waited_ms <= wait_le_ms[b])
            atomic_fetch_add(&m_wait_bucket[c][b], 1);
}

static void refuse(pv_admit_queue *q, pv_admit_fn fn, void *data)
{
    fn(data, false, pv_admission_retry_after(q->a, ++q->refusals));
}

static void unlink_wait(pv_admit_queue *q, pv_admit_wait *w)
{
    int c = w->c;
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        q->head[c] = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    else
        q->tail[c] = w->prev;
    w->prev = w->next = NULL;
    w->queued = false;
    q->len[c]--;
    atomic_fetch_sub(&m_waiting[c], 1);
}

static void tick(uv_timer_t *t)
{
    pv_admit_queue *q = t->data;
    uint64_t now = now_ms();
    bool waiting = false;
    for (int c = 0; c < PV_ADMIT__COUNT; c++) {
        while (q->head[c] != NULL) {
            pv_admit_wait *w = q->head[c];
            bool ok = take(q->a, (pv_admit_class)c);
            if (!ok && now < w->since_ms + q->a->cfg.deadline_ms)
                break; /* FIFO: the ones behind it have later deadlines */
            unlink_wait(q, w);
            /* the callback may free w's owner: nothing of w is read after it */
            if (ok) {
                admitted((pv_admit_class)c, now - w->since_ms);
                w->fn(w->data, true, 0);
            } else {
                atomic_fetch_add(&m_refused_deadline[c], 1);
                refuse(q, w->fn, w->data);
            }
        }
        waiting |= q->head[c] != NULL;
    }
    if (!waiting)
        uv_timer_stop(&q->timer);
}

bool pv_admit(pv_admit_queue *q, pv_admit_class c, pv_admit_wait *w, pv_admit_fn fn, void *data)
{
    w->queued = false;
    if (q->head[c] == NULL && take(q->a, c)) {
        admitted(c, 0);
        fn(data, true, 0);
        return false;
    }
    if (!q->open || q->len[c] >= q->a->cfg.queue_max) {
        atomic_fetch_add(&m_refused_full[c], 1);
        refuse(q, fn, data);
        return false;
    }
    *w = (pv_admit_wait){
        .prev = q->tail[c], .fn = fn, .data = data, .since_ms = now_ms(), .c = c, .queued = true};
    if (q->tail[c] != NULL)
        q->tail[c]->next = w;
    else
        q->head[c] = w;
    q->tail[c] = w;
    q->len[c]++;
    atomic_fetch_add(&m_waiting[c], 1);
    atomic_fetch_add(&m_queued[c], 1);
    if (!uv_is_active((uv_handle_t *)&q->timer)) {
        /* a token per 1/rate s: look a few times per token, at least every 250 ms */
        unsigned rate = q->a->cfg.rate[c] ? q->a->cfg.rate[c] : 1000;
        unsigned period = 1000 / rate / 2 + 1;
        uv_timer_start(&q->timer, tick, period, period < 250 ? period : 250);
    }
    return true;
}

void pv_admit_cancel(pv_admit_queue *q, pv_admit_wait *w)
{
    if (q == NULL || w == NULL || !w->queued)
        return;
    unlink_wait(q, w);
    atomic_fetch_add(&m_abandoned[w->c], 1);
}

unsigned pv_admit_waiting(const pv_admit_queue *q, pv_admit_class c)
{
    return q->len[c];
}

void pv_admit_queue_close(pv_admit_queue *q)
{
    if (q == NULL || !q->open)
        return;
    for (int c = 0; c < PV_ADMIT__COUNT; c++) {
        while (q->head[c] != NULL) {
            pv_admit_wait *w = q->head[c];
            unlink_wait(q, w);
            refuse(q, w->fn, w->data);
        }
    }
    uv_close((uv_handle_t *)&q->timer, NULL);
    q->open = false;
}

void pv_admit_queue_free(pv_admit_queue *q)
{
    free(q);
}

void pv_admission_metrics(pv_buf *out)
{
    pv_buf_append_str(out, "# HELP provisor_admission_waiting Requests waiting for admission "
                           "(renders, firmware downloads, TLS handshakes).\n"
                           "# TYPE provisor_admission_waiting gauge\n");
    for (int c = 0; c < PV_ADMIT__COUNT; c++)
        pv_buf_appendf(out, "provisor_admission_waiting{class=\"%s\"} %lld\n", class_names[c],
                       atomic_load(&m_waiting[c]));
    static const struct {
        const char *name, *help;
        _Atomic unsigned long long *v;
    } counters[] = {
        {"provisor_admission_admitted_total", "Requests admitted (at once or after a wait).",
         m_admitted},
        {"provisor_admission_queued_total", "Requests that had to wait for admission.", m_queued},
        {"provisor_admission_wait_ms_sum", "Milliseconds admitted requests waited, summed.",
         m_wait_ms_sum},
        {"provisor_admission_wait_ms_max", "The longest wait of an admitted request, ms.",
         m_wait_ms_max},
    };
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        pv_buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", counters[i].name, counters[i].help,
                       counters[i].name, i == 3 ? "gauge" : "counter");
        for (int c = 0; c < PV_ADMIT__COUNT; c++)
            pv_buf_appendf(out, "%s{class=\"%s\"} %llu\n", counters[i].name, class_names[c],
                           atomic_load(&counters[i].v[c]));
    }
    pv_buf_append_str(out, "# HELP provisor_admission_refused_total Requests refused (503 with "
                           "Retry-After; a TLS alert for a handshake): the deadline passed, or "
                           "the queue was full.\n"
                           "# TYPE provisor_admission_refused_total counter\n");
    for (int c = 0; c < PV_ADMIT__COUNT; c++)
        pv_buf_appendf(out,
                       "provisor_admission_refused_total{class=\"%s\",reason=\"deadline\"} %llu\n"
                       "provisor_admission_refused_total{class=\"%s\",reason=\"queue_full\"} "
                       "%llu\n",
                       class_names[c], atomic_load(&m_refused_deadline[c]), class_names[c],
                       atomic_load(&m_refused_full[c]));
    pv_buf_append_str(out, "# HELP provisor_admission_abandoned_total Waits ended by their peer "
                           "(connection closed or reset while queued): removed, never admitted.\n"
                           "# TYPE provisor_admission_abandoned_total counter\n");
    for (int c = 0; c < PV_ADMIT__COUNT; c++)
        pv_buf_appendf(out, "provisor_admission_abandoned_total{class=\"%s\"} %llu\n",
                       class_names[c], atomic_load(&m_abandoned[c]));
    pv_buf_append_str(out, "# HELP provisor_admission_wait_seconds How long admitted requests "
                           "waited.\n# TYPE provisor_admission_wait_seconds histogram\n");
    for (int c = 0; c < PV_ADMIT__COUNT; c++) {
        for (size_t b = 0; b < WAIT_BUCKETS; b++)
            pv_buf_appendf(out, "provisor_admission_wait_seconds_bucket{class=\"%s\",le=\"%g\"} "
                                "%llu\n",
                           class_names[c], wait_le_ms[b] / 1000.0,
                           atomic_load(&m_wait_bucket[c][b]));
        unsigned long long n = atomic_load(&m_admitted[c]);
        pv_buf_appendf(out,
                       "provisor_admission_wait_seconds_bucket{class=\"%s\",le=\"+Inf\"} %llu\n"
                       "provisor_admission_wait_seconds_sum{class=\"%s\"} %.3f\n"
                       "provisor_admission_wait_seconds_count{class=\"%s\"} %llu\n",
                       class_names[c], n, class_names[c],
                       atomic_load(&m_wait_ms_sum[c]) / 1000.0, class_names[c], n);
    }
}

void pv_admission_metrics_reset(void)
{
    for (int c = 0; c < PV_ADMIT__COUNT; c++) {
        atomic_store(&m_waiting[c], 0);
        atomic_store(&m_admitted[c], 0);
        atomic_store(&m_queued[c], 0);
        atomic_store(&m_refused_deadline[c], 0);
        atomic_store(&m_refused_full[c], 0);
        atomic_store(&m_wait_ms_sum[c], 0);
        atomic_store(&m_wait_ms_max[c], 0);
        atomic_store(&m_abandoned[c], 0);
        for (size_t b = 0; b < WAIT_BUCKETS; b++)
            atomic_store(&m_wait_bucket[c][b], 0);
    }
}
