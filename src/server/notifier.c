/*
 * notifier.c — NOTIFY jobs (see notifier.h).
 *
 * A job is an array of targets; a pacing timer starts them at the job's rate,
 * each as a client transaction (RFC 3261 §17.1.2: UDP retransmission at T1
 * doubling up to T2) with its own timer, matched to answers by Call-ID.
 */
#include "server/notifier.h"

#include "core/alloc.h"
#include "net/sip_auth.h"
#include "core/log.h"
#include "net/sip_msg.h"
#include "net/sip_tcp.h"
#include "net/sip_transport.h"

#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T1_MS 500
#define T2_MS 4000
#define BACKOFF_MS 2000
#define PACE_MS 20
#define RECORD_MS 200 /* finished targets reach the recorder this often (one write per batch) */

typedef struct job job;

typedef struct txn {
    job *j;
    size_t index;
    uv_timer_t timer;
    bool timer_open;
    pv_notify_outcome outcome;
    int status;
    unsigned attempts;
    bool challenged, answered_challenge, direct;
    char call_id[40], branch[40], from_tag[20];
    uint32_t cseq;
    uint64_t started;
    unsigned interval;
    pv_buf request;
    struct sockaddr_storage to;
    struct txn *next_active, *prev_active;
} txn;

struct job {
    struct pv_notifier *n;
    uint64_t id;
    char action[24];
    const char *event;
    pv_notify_target *t;
    txn *x;
    size_t count, next, done;
    size_t open_timers; /* while closing */
    unsigned rate, retries;
    bool await_registration;
    uint64_t start_at; /* uv_now from which its NOTIFYs go */
    double tokens;
    size_t by[PV_NOTIFY_OUTCOMES];
};

struct pv_notifier {
    uv_loop_t *loop;
    pv_sip_transport *sip;
    pv_sip_tcp *tcp; /* [sip] transport = tcp: requests go over it, answers come back on it */
    bool has_proxy;
    struct sockaddr_storage proxy;
    unsigned timeout_ms, retries, rate;
    uv_timer_t pace;
    job *jobs[PV_NOTIFIER_JOBS];
    uint64_t next_id;
    txn *active; /* transactions waiting for an answer */
    pv_notify_recorder recorder;
    void *recorder_data;
    pv_notify_result *finished; /* waiting for the recorder, in finishing order */
    uint64_t *finished_job;
    size_t nfinished, cap_finished;
    uv_timer_t record;
    uint64_t totals[PV_NOTIFY_OUTCOMES];
    unsigned closing;
    void (*done)(void *data);
    void *done_data;
};

/* Every notifier of the process, for /metrics (read from another thread than the admin loop's
 * only by a scrape; relaxed atomics are enough for counters). */
static atomic_ullong metric_totals[PV_NOTIFY_OUTCOMES];

static const char *outcome_names[PV_NOTIFY_OUTCOMES] = {
    "pending", "ok", "not-registered", "auth-failed", "refused", "timeout", "error"};

const char *pv_notify_outcome_name(pv_notify_outcome o)
{
    return (unsigned)o < PV_NOTIFY_OUTCOMES ? outcome_names[o] : "?";
}

const char *pv_notify_event_of(const char *action)
{
    static const char *map[][2] = {{"resync", "resync"}, /* spec 5.5 */
                                   {"check-sync", "check-sync"},
                                   {"reboot", "reboot_now"},
                                   {"restart", "restart_now"},
                                   {"report-request", "report"}};
    for (size_t i = 0; action != NULL && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(action, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

static void random_hex(char *out, size_t bytes)
{
    uint8_t r[16];
    if (bytes > sizeof r || RAND_bytes(r, (int)bytes) != 1)
        abort(); /* no randomness: nothing safe to do */
    pv_hex_encode(r, bytes, out);
}

static pv_notifier *owner(const txn *x)
{
    return x->j->n;
}

/* ---- one transaction ---- */

static void unlink_active(pv_notifier *n, txn *x)
{
    if (x->prev_active)
        x->prev_active->next_active = x->next_active;
    else if (n->active == x)
        n->active = x->next_active;
    if (x->next_active)
        x->next_active->prev_active = x->prev_active;
    x->next_active = x->prev_active = NULL;
}

static void on_record(uv_timer_t *tm);

static void finish(pv_notifier *n, txn *x, pv_notify_outcome o, int status)
{
    unlink_active(n, x);
    uv_timer_stop(&x->timer);
    x->outcome = o;
    x->status = status;
    x->j->by[o]++;
    x->j->done++;
    n->totals[o]++;
    atomic_fetch_add_explicit(&metric_totals[o], 1, memory_order_relaxed);
    pv_buf_free(&x->request);
    const pv_notify_target *t = &x->j->t[x->index];
    if (n->recorder != NULL) {
        if (n->nfinished == n->cap_finished) {
            n->cap_finished = n->cap_finished ? n->cap_finished * 2 : 256;
            n->finished = pv_reallocarray(n->finished, n->cap_finished, sizeof *n->finished);
            n->finished_job = pv_reallocarray(n->finished_job, n->cap_finished, sizeof(uint64_t));
        }
        pv_notify_result *r = &n->finished[n->nfinished];
        n->finished_job[n->nfinished++] = x->j->id;
        memcpy(r->mac, t->mac, sizeof r->mac);
        r->outcome = o;
        r->status = status;
        r->attempts = x->attempts;
        r->challenged = x->challenged;
        r->via = x->attempts == 0 && o == PV_NOTIFY_ERROR ? "" : x->direct ? "direct" : "proxy";
        if (!uv_is_active((uv_handle_t *)&n->record))
            uv_timer_start(&n->record, on_record, RECORD_MS, 0);
    }
    pv_logf(o == PV_NOTIFY_OK ? PV_LOG_INFO : PV_LOG_WARN, "sip.notify.done",
            "job=%llu mac=%s event=%s outcome=%s status=%d attempts=%u challenged=%s",
            (unsigned long long)x->j->id, t->mac, x->j->event, pv_notify_outcome_name(o), status,
            x->attempts, x->challenged ? "yes" : "no");
}

static void on_txn_timer(uv_timer_t *tm);

/* Sends x's request over the notifier's transport. */
static void transmit(pv_notifier *n, txn *x)
{
    if (n->tcp != NULL)
        pv_sip_tcp_send(n->tcp, (struct sockaddr *)&x->to, x->request.data, x->request.len);
    else
        pv_sip_transport_send(n->sip, (struct sockaddr *)&x->to, x->request.data,
                              x->request.len);
}

static void send_request(pv_notifier *n, txn *x, const char *authorization, bool proxy_auth)
{
    const pv_notify_target *t = &x->j->t[x->index];
    char uri[400], from[200], to[400], branch_hex[17];
    random_hex(branch_hex, 8);
    snprintf(x->branch, sizeof x->branch, "z9hG4bK%s", branch_hex);
    snprintf(uri, sizeof uri, "sip:%s@%s", t->user, t->domain);
    const char *host = pv_sip_transport_host(n->sip);
    bool v6 = strchr(host, ':') != NULL;
    snprintf(from, sizeof from, "<sip:provisor@%s%s%s>;tag=%s", v6 ? "[" : "", host, v6 ? "]" : "",
             x->from_tag);
    snprintf(to, sizeof to, "<%s>", uri);
    pv_sip_request r = {.method = "NOTIFY",
                        .uri = uri,
                        .from = from,
                        .to = to,
                        .call_id = x->call_id,
                        .cseq = ++x->cseq,
                        .transport = n->tcp != NULL ? "TCP" : "UDP",
                        .via_host = host,
                        .via_port = pv_sip_transport_port(n->sip),
                        .branch = x->branch,
                        .event = x->j->event,
                        .authorization = authorization,
                        .proxy_authorization = proxy_auth,
                        .user_agent = "provisor/" PV_VERSION};
    pv_error err;
    pv_buf_reset(&x->request);
    if (pv_sip_request_build(&r, &x->request, &err) != 0) {
        pv_logf(PV_LOG_WARN, "sip.notify", "mac=%s error=\"%s\"", t->mac, err.msg);
        finish(n, x, PV_NOTIFY_ERROR, 0);
        return;
    }
    /* RFC 3261 §17.1.1.2: over TCP nothing is retransmitted, timer B alone bounds the wait */
    x->interval = n->tcp != NULL ? n->timeout_ms : T1_MS;
    transmit(n, x);
    uv_timer_start(&x->timer, on_txn_timer, x->interval, 0);
}

static void attempt(pv_notifier *n, txn *x)
{
    x->attempts++;
    x->cseq = 0;
    x->answered_challenge = false;
    random_hex(x->call_id, 16);
    random_hex(x->from_tag, 8);
    x->started = uv_now(n->loop);
    if (x->next_active == NULL && x->prev_active == NULL && n->active != x) {
        x->next_active = n->active;
        if (n->active)
            n->active->prev_active = x;
        n->active = x;
    }
    send_request(n, x, NULL, false);
}

/* The next attempt after 2 s, doubling per attempt (the request is freed: a backoff). */
static void backoff(txn *x)
{
    pv_buf_free(&x->request);
    uv_timer_start(&x->timer, on_txn_timer, (uint64_t)BACKOFF_MS << (x->attempts - 1), 0);
}

static void on_txn_timer(uv_timer_t *tm)
{
    txn *x = tm->data;
    pv_notifier *n = owner(x);
    if (x->request.len == 0) { /* a backoff ran out: the next attempt */
        attempt(n, x);
        return;
    }
    uint64_t elapsed = uv_now(n->loop) - x->started;
    if (elapsed >= n->timeout_ms) {
        if (x->attempts > x->j->retries) {
            finish(n, x, PV_NOTIFY_TIMEOUT, 0);
            return;
        }
        backoff(x);
        return;
    }
    transmit(n, x);
    x->interval = x->interval * 2 > T2_MS ? T2_MS : x->interval * 2;
    uint64_t left = n->timeout_ms - elapsed;
    uv_timer_start(&x->timer, on_txn_timer, x->interval < left ? x->interval : left, 0);
}

static void on_answer(pv_notifier *n, txn *x, const pv_sip_msg *m)
{
    int status = pv_sip_status(m);
    if (status < 200)
        return; /* provisional */
    if ((status == 401 || status == 407) && !x->answered_challenge) {
        const pv_notify_target *t = &x->j->t[x->index];
        pv_buf auth = {0};
        pv_error err;
        char cnonce[17], uri[400];
        random_hex(cnonce, 8);
        snprintf(uri, sizeof uri, "sip:%s@%s", t->user, t->domain);
        /* RFC 3261 §22.4: the Digest of RFC 2617 with the SIP method */
        int rc = pv_sip_authorization(m, t->user, t->password, "NOTIFY", uri, cnonce, &auth, &err);
        x->challenged = true;
        if (rc != 0) {
            pv_buf_free(&auth);
            finish(n, x, PV_NOTIFY_AUTH_FAILED, status);
            return;
        }
        x->answered_challenge = true;
        uv_timer_stop(&x->timer);
        send_request(n, x, auth.data, status == 407);
        pv_buf_free(&auth);
        return;
    }
    pv_notify_outcome o = PV_NOTIFY_REFUSED;
    if (status < 300)
        o = PV_NOTIFY_OK;
    else if (status == 401 || status == 407)
        o = PV_NOTIFY_AUTH_FAILED;
    else if (status == 404 || status == 480 || status == 481)
        o = PV_NOTIFY_NOT_REGISTERED; /* the proxy has no contact for the AOR */
    if (o == PV_NOTIFY_NOT_REGISTERED && x->j->await_registration &&
        x->attempts <= x->j->retries) {
        uv_timer_stop(&x->timer);
        x->status = status;
        backoff(x); /* the phone registers once it applied its profile: ask again */
        return;
    }
    finish(n, x, o, status);
}

static void on_message(pv_sip_transport *t, const pv_sip_msg *m, const struct sockaddr *peer,
                       void *data)
{
    pv_notifier *n = data;
    if (pv_sip_is_request(m) || strcmp(pv_sip_method(m), "NOTIFY") != 0)
        return; /* we only send */
    for (txn *x = n->active; x != NULL; x = x->next_active) {
        if (x->request.len > 0 && pv_sip_cseq(m) == x->cseq &&
            strcmp(pv_sip_call_id(m), x->call_id) == 0) {
            on_answer(n, x, m);
            return;
        }
    }
}

static void on_tcp_message(const pv_sip_msg *m, const struct sockaddr *peer, void *data)
{
    on_message(NULL, m, peer, data);
}

/* ---- jobs ---- */

/* Where target t's NOTIFY goes: the proxy, or its own address (t->via; *direct says which). */
static bool destination(pv_notifier *n, const pv_notify_target *t, struct sockaddr_storage *to,
                        bool *direct)
{
    bool proxy = t->via == PV_NOTIFY_VIA_PROXY || (t->via == PV_NOTIFY_VIA_DEFAULT && n->has_proxy);
    *direct = !proxy;
    if (proxy) {
        *to = n->proxy;
        return n->has_proxy;
    }
    return t->direct[0] != '\0' && pv_sip_parse_address(t->direct, 5060, to, NULL) == 0;
}

/* Starts what the jobs' rates allow (a token bucket per job, refilled every PACE_MS). */
static void on_pace(uv_timer_t *tm)
{
    pv_notifier *n = tm->data;
    bool waiting = false;
    for (size_t i = 0; i < PV_NOTIFIER_JOBS; i++) {
        job *j = n->jobs[i];
        if (j == NULL || j->next >= j->count)
            continue;
        if (uv_now(n->loop) < j->start_at) {
            waiting = true;
            continue;
        }
        j->tokens += (double)j->rate * PACE_MS / 1000.0;
        while (j->tokens >= 1.0 && j->next < j->count) {
            j->tokens -= 1.0;
            txn *x = &j->x[j->next++];
            if (!destination(n, &j->t[x->index], &x->to, &x->direct)) {
                finish(n, x, PV_NOTIFY_ERROR, 0); /* no proxy, or no known address */
                continue;
            }
            attempt(n, x);
        }
        waiting |= j->next < j->count;
    }
    if (!waiting)
        uv_timer_stop(&n->pace);
}

static void job_free(job *j)
{
    for (size_t i = 0; i < j->count; i++)
        pv_buf_free(&j->x[i].request);
    free(j->t);
    free(j->x);
    free(j);
}

static void maybe_closed(pv_notifier *n);

/* A job is freed once the timers of all its transactions have closed. */
static void txn_closed(uv_handle_t *h)
{
    txn *x = h->data;
    job *j = x->j;
    pv_notifier *n = j->n;
    if (--j->open_timers > 0)
        return;
    job_free(j);
    if (n->closing > 0) {
        n->closing--;
        maybe_closed(n);
    }
}

static void job_close(job *j)
{
    j->open_timers = j->count;
    for (size_t i = 0; i < j->count; i++)
        uv_close((uv_handle_t *)&j->x[i].timer, txn_closed);
    if (j->count == 0)
        job_free(j);
}

static bool job_finished(const job *j)
{
    return j->done == j->count;
}

uint64_t pv_notifier_submit(pv_notifier *n, uint64_t id, const char *action,
                            const pv_notify_target *targets, size_t count, unsigned rate)
{
    pv_notify_job_options o = {.rate = rate};
    return pv_notifier_submit_with(n, id, action, targets, count, &o);
}

uint64_t pv_notifier_submit_with(pv_notifier *n, uint64_t id, const char *action,
                                 const pv_notify_target *targets, size_t count,
                                 const pv_notify_job_options *o)
{
    size_t slot = PV_NOTIFIER_JOBS;
    for (size_t i = 0; i < PV_NOTIFIER_JOBS && slot == PV_NOTIFIER_JOBS; i++)
        if (n->jobs[i] == NULL)
            slot = i;
    uint64_t oldest = UINT64_MAX;
    for (size_t i = 0; i < PV_NOTIFIER_JOBS && slot == PV_NOTIFIER_JOBS; i++)
        if (job_finished(n->jobs[i]) && n->jobs[i]->id < oldest)
            oldest = n->jobs[i]->id;
    for (size_t i = 0; i < PV_NOTIFIER_JOBS && slot == PV_NOTIFIER_JOBS; i++)
        if (n->jobs[i]->id == oldest)
            slot = i;
    if (slot == PV_NOTIFIER_JOBS)
        return 0; /* every job still running */
    if (n->jobs[slot] != NULL) { /* the oldest finished job is forgotten */
        job_close(n->jobs[slot]);
        n->jobs[slot] = NULL;
    }
    job *j = pv_calloc(1, sizeof *j);
    j->n = n;
    j->id = id ? id : ++n->next_id;
    snprintf(j->action, sizeof j->action, "%s", action);
    j->event = pv_notify_event_of(action);
    j->rate = o->rate ? o->rate : n->rate;
    j->retries = o->retries ? o->retries : n->retries;
    j->await_registration = o->await_registration;
    j->start_at = uv_now(n->loop) + o->delay_ms;
    j->count = count;
    j->t = pv_calloc(count ? count : 1, sizeof *j->t);
    memcpy(j->t, targets, count * sizeof *j->t);
    j->x = pv_calloc(count ? count : 1, sizeof *j->x);
    for (size_t i = 0; i < count; i++) {
        txn *x = &j->x[i];
        x->j = j;
        x->index = i;
        uv_timer_init(n->loop, &x->timer);
        x->timer.data = x;
    }
    j->tokens = 1.0; /* the first one goes at once */
    n->jobs[slot] = j;
    if (!uv_is_active((uv_handle_t *)&n->pace))
        uv_timer_start(&n->pace, on_pace, 0, PACE_MS);
    return j->id;
}

void pv_notifier_set_recorder(pv_notifier *n, pv_notify_recorder fn, void *data)
{
    n->recorder = fn;
    n->recorder_data = data;
}

void pv_notifier_flush(pv_notifier *n)
{
    uv_timer_stop(&n->record);
    size_t i = 0;
    while (i < n->nfinished) { /* runs of one job, as they finished */
        size_t k = i;
        while (k < n->nfinished && n->finished_job[k] == n->finished_job[i])
            k++;
        if (n->recorder != NULL)
            n->recorder(n->recorder_data, n->finished_job[i], &n->finished[i], k - i);
        i = k;
    }
    n->nfinished = 0;
}

static void on_record(uv_timer_t *tm)
{
    pv_notifier_flush(tm->data);
}

bool pv_notifier_has_room(const pv_notifier *n)
{
    for (size_t i = 0; i < PV_NOTIFIER_JOBS; i++)
        if (n->jobs[i] == NULL || job_finished(n->jobs[i]))
            return true;
    return false;
}

unsigned pv_notifier_rate(const pv_notifier *n)
{
    return n->rate;
}

bool pv_notifier_running(const pv_notifier *n, uint64_t id)
{
    for (size_t i = 0; i < PV_NOTIFIER_JOBS; i++)
        if (n->jobs[i] != NULL && n->jobs[i]->id == id)
            return !job_finished(n->jobs[i]);
    return false;
}

void pv_notifier_totals(const pv_notifier *n, uint64_t out[PV_NOTIFY_OUTCOMES])
{
    memcpy(out, n->totals, sizeof n->totals);
}

const char *pv_notifier_address(const pv_notifier *n)
{
    return pv_sip_transport_address(n->sip);
}

int pv_notifier_new(uv_loop_t *loop, const pv_notifier_options *o, pv_notifier **out,
                    pv_error *err)
{
    pv_notifier *n = pv_calloc(1, sizeof *n);
    n->loop = loop;
    n->timeout_ms = o->timeout_ms ? o->timeout_ms : 8000;
    n->retries = o->retries;
    n->rate = o->rate ? o->rate : 100;
    int rc = 0;
    if (o->outbound_proxy != NULL && *o->outbound_proxy != '\0') {
        rc = pv_sip_parse_address(o->outbound_proxy, 5060, &n->proxy, err);
        n->has_proxy = rc == 0;
    }
    if (rc == 0)
        rc = pv_sip_transport_new(loop, o->listen ? o->listen : "127.0.0.1:0", 5060, on_message,
                                  n, &n->sip, err);
    if (rc != 0) {
        free(n);
        return rc;
    }
    /* a job at 500/s gets ~1000 answers a second (401, then 200), in bursts when a phone's
     * host stalls: room for seconds of them, or they are lost and look like timeouts */
    pv_sip_transport_set_receive_buffer(n->sip, 4 << 20);
    if (o->tcp)
        pv_sip_tcp_new(loop, on_tcp_message, n, &n->tcp);
    uv_timer_init(loop, &n->pace);
    n->pace.data = n;
    uv_timer_init(loop, &n->record);
    n->record.data = n;
    pv_logf(PV_LOG_INFO, "listener.ready", "proto=sip addr=%s transport=%s outbound_proxy=%s",
            pv_sip_transport_address(n->sip), o->tcp ? "tcp" : "udp",
            n->has_proxy ? o->outbound_proxy : "-");
    *out = n;
    return 0;
}

static void maybe_closed(pv_notifier *n)
{
    if (n->closing > 0)
        return;
    void (*done)(void *) = n->done;
    void *dd = n->done_data;
    free(n->finished);
    free(n->finished_job);
    free(n);
    if (done != NULL)
        done(dd);
}

static void part_closed(void *data)
{
    pv_notifier *n = data;
    n->closing--;
    maybe_closed(n);
}

static void pace_closed(uv_handle_t *h)
{
    part_closed(h->data);
}

void pv_notifier_close(pv_notifier *n, void (*done)(void *data), void *data)
{
    pv_notifier_flush(n); /* what finished is recorded; what is pending stays so */
    n->done = done;
    n->done_data = data;
    n->closing = n->tcp != NULL ? 4 : 3; /* the sockets and two timers, then each job */
    for (size_t i = 0; i < PV_NOTIFIER_JOBS; i++) {
        if (n->jobs[i] != NULL && n->jobs[i]->count > 0)
            n->closing++;
        if (n->jobs[i] != NULL)
            job_close(n->jobs[i]);
        n->jobs[i] = NULL;
    }
    uv_close((uv_handle_t *)&n->pace, pace_closed);
    uv_close((uv_handle_t *)&n->record, pace_closed);
    pv_sip_transport_close(n->sip, part_closed, n);
    if (n->tcp != NULL)
        pv_sip_tcp_close(n->tcp, part_closed, n);
}

void pv_notifier_metrics(pv_buf *out)
{
    pv_buf_append_str(out, "# HELP provisor_sip_notify_total NOTIFY transactions finished, by "
                           "outcome (spec 5.5 device actions)\n"
                           "# TYPE provisor_sip_notify_total counter\n");
    for (size_t o = 1; o < PV_NOTIFY_OUTCOMES; o++)
        pv_buf_appendf(out, "provisor_sip_notify_total{outcome=\"%s\"} %llu\n", outcome_names[o],
                       (unsigned long long)atomic_load_explicit(&metric_totals[o],
                                                                memory_order_relaxed));
}
