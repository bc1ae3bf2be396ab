/* metrics.c — lock-free counters and their Prometheus text; see metrics.h. */
#include "net/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define STATUS_MIN 100
#define STATUS_MAX 599
#define STATUS_SLOTS (STATUS_MAX - STATUS_MIN + 2) /* the last slot: out of range */

/* Upper bounds in seconds; the +Inf bucket is the request count. */
static const double duration_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                         0.1,   0.25,   0.5,   1,    2.5,   5, 10, 30};
#define BUCKETS (sizeof duration_bounds / sizeof duration_bounds[0])

static struct {
    _Atomic uint64_t requests[PV_PROTO__COUNT][STATUS_SLOTS];
    _Atomic uint64_t bytes_sent[PV_PROTO__COUNT];
    _Atomic uint64_t bytes_received[PV_PROTO__COUNT];
    _Atomic uint64_t duration_buckets[PV_PROTO__COUNT][BUCKETS];
    _Atomic uint64_t duration_count[PV_PROTO__COUNT];
    _Atomic uint64_t duration_micros[PV_PROTO__COUNT];
    _Atomic uint64_t handshakes[PV_TLS_HANDSHAKE__COUNT];
    _Atomic int64_t open[PV_PROTO__COUNT];
    _Atomic uint64_t refused[PV_PROTO__COUNT];
    _Atomic uint64_t tftp_retransmits;
    _Atomic uint64_t tftp_timeouts;
    _Atomic uint64_t bindings[PV_METRICS_BIND__COUNT];
    _Atomic uint64_t loop_requests[PV_METRICS_MAX_LOOPS + 1]; /* [0]: threads without a loop */
    _Atomic unsigned loops;                                   /* highest loop number seen */
} m;

static _Thread_local unsigned current_loop;

#define ADD(counter, n) atomic_fetch_add_explicit(&(counter), (n), memory_order_relaxed)
#define GET(counter) atomic_load_explicit(&(counter), memory_order_relaxed)

void pv_metrics_request(pv_proto proto, int status, uint64_t bytes_sent, uint64_t bytes_received,
                        double seconds)
{
    if ((unsigned)proto >= PV_PROTO__COUNT)
        return;
    int slot = (status >= STATUS_MIN && status <= STATUS_MAX) ? status - STATUS_MIN
                                                              : STATUS_SLOTS - 1;
    ADD(m.requests[proto][slot], 1);
    ADD(m.bytes_sent[proto], bytes_sent);
    ADD(m.bytes_received[proto], bytes_received);
    for (size_t i = 0; i < BUCKETS; i++) {
        if (seconds <= duration_bounds[i])
            ADD(m.duration_buckets[proto][i], 1);
    }
    ADD(m.duration_count[proto], 1);
    ADD(m.loop_requests[current_loop], 1);
    ADD(m.duration_micros[proto], (uint64_t)(seconds > 0 ? seconds * 1e6 : 0));
}

/* Admin requests by (method, route, status): a small table under a lock, since the admin
 * listener serves from one loop and is never the hot path. */
static const char *const admin_methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
#define ADMIN_METHODS (sizeof admin_methods / sizeof admin_methods[0])
static struct {
    pthread_mutex_t lock;
    size_t n;
    struct {
        const char *route;
        unsigned method; /* index in admin_methods, ADMIN_METHODS: other */
        int status;
        uint64_t count;
        double seconds;
    } s[PV_METRICS_ADMIN_SERIES + 1]; /* the last: route="other" */
} admin = {.lock = PTHREAD_MUTEX_INITIALIZER};

void pv_metrics_admin_request(const char *route, pv_slice method, int status, double seconds)
{
    unsigned mi = 0;
    while (mi < ADMIN_METHODS && !pv_slice_eq_cstr(method, admin_methods[mi]))
        mi++;
    if (status < STATUS_MIN || status > STATUS_MAX)
        status = 0;
    pthread_mutex_lock(&admin.lock);
    size_t i = 0;
    while (i < admin.n && !(admin.s[i].route == route && admin.s[i].method == mi &&
                            admin.s[i].status == status))
        i++;
    if (i == admin.n) {
        if (admin.n < PV_METRICS_ADMIN_SERIES)
            admin.n++;
        else
            i = PV_METRICS_ADMIN_SERIES, route = "other", mi = ADMIN_METHODS, status = 0;
        admin.s[i].route = route;
        admin.s[i].method = mi;
        admin.s[i].status = status;
    }
    admin.s[i].count++;
    admin.s[i].seconds += seconds > 0 ? seconds : 0;
    pthread_mutex_unlock(&admin.lock);
}

static void render_admin(pv_buf *out)
{
    pv_buf_append_str(out, "# HELP provisor_admin_requests_total Requests to the admin listener "
                           "(API, metrics, health), apart from phone traffic.\n"
                           "# TYPE provisor_admin_requests_total counter\n");
    pthread_mutex_lock(&admin.lock);
    pv_buf seconds = {0};
    for (size_t i = 0; i <= PV_METRICS_ADMIN_SERIES; i++) {
        if (admin.s[i].count == 0)
            continue;
        char status[8] = "other";
        if (admin.s[i].status != 0)
            snprintf(status, sizeof status, "%d", admin.s[i].status);
        const char *method = admin.s[i].method < ADMIN_METHODS ? admin_methods[admin.s[i].method]
                                                                : "other";
        pv_buf_appendf(out, "provisor_admin_requests_total{method=\"%s\",route=\"%s\",status=\"%s\"} %lu\n",
                       method, admin.s[i].route, status, (unsigned long)admin.s[i].count);
        pv_buf_appendf(&seconds,
                       "provisor_admin_request_seconds_total{method=\"%s\",route=\"%s\",status=\"%s\"} %.6f\n",
                       method, admin.s[i].route, status, admin.s[i].seconds);
    }
    pthread_mutex_unlock(&admin.lock);
    pv_buf_append_str(out, "# HELP provisor_admin_request_seconds_total Time spent answering the "
                           "admin listener's requests.\n"
                           "# TYPE provisor_admin_request_seconds_total counter\n");
    if (seconds.len > 0)
        pv_buf_append_slice(out, pv_buf_slice(&seconds));
    pv_buf_free(&seconds);
}

void pv_metrics_tls_handshake(pv_tls_handshake_kind kind)
{
    if ((unsigned)kind < PV_TLS_HANDSHAKE__COUNT)
        ADD(m.handshakes[kind], 1);
}

void pv_metrics_open(pv_proto proto, int delta)
{
    if ((unsigned)proto < PV_PROTO__COUNT)
        ADD(m.open[proto], delta);
}

void pv_metrics_tftp_retransmit(void)
{
    ADD(m.tftp_retransmits, 1);
}

void pv_metrics_tftp_timeout(void)
{
    ADD(m.tftp_timeouts, 1);
}

void pv_metrics_binding_outcome(pv_metrics_binding outcome)
{
    if ((unsigned)outcome < PV_METRICS_BIND__COUNT)
        ADD(m.bindings[outcome], 1);
}

void pv_metrics_refused(pv_proto proto)
{
    if ((unsigned)proto < PV_PROTO__COUNT)
        ADD(m.refused[proto], 1);
}

void pv_metrics_set_loop(unsigned loop)
{
    if (loop > PV_METRICS_MAX_LOOPS)
        loop = 0;
    current_loop = loop;
    unsigned seen = atomic_load(&m.loops);
    while (loop > seen && !atomic_compare_exchange_weak(&m.loops, &seen, loop))
        ;
}

void pv_metrics_reset(void)
{
    memset(&m, 0, sizeof m);
    pthread_mutex_lock(&admin.lock);
    admin.n = 0;
    memset(admin.s, 0, sizeof admin.s);
    pthread_mutex_unlock(&admin.lock);
}

void pv_metrics_render(pv_buf *out)
{
    static const char *const handshake_names[] = {"full", "resumed", "failed"};

    pv_buf_append_str(out, "# HELP provisor_requests_total Requests (HTTP) and transfers (TFTP) "
                           "by protocol and status.\n# TYPE provisor_requests_total counter\n");
    for (int p = 0; p < PV_PROTO__COUNT; p++) {
        for (int s = 0; s < STATUS_SLOTS; s++) {
            uint64_t n = GET(m.requests[p][s]);
            if (n == 0)
                continue;
            if (s == STATUS_SLOTS - 1)
                pv_buf_appendf(out, "provisor_requests_total{proto=\"%s\",status=\"other\"} %lu\n",
                               pv_proto_name((pv_proto)p), (unsigned long)n);
            else
                pv_buf_appendf(out, "provisor_requests_total{proto=\"%s\",status=\"%d\"} %lu\n",
                               pv_proto_name((pv_proto)p), s + STATUS_MIN, (unsigned long)n);
        }
    }
    pv_buf_append_str(out, "# HELP provisor_bytes_sent_total Body bytes sent.\n"
                           "# TYPE provisor_bytes_sent_total counter\n");
    for (int p = 0; p < PV_PROTO__COUNT; p++)
        pv_buf_appendf(out, "provisor_bytes_sent_total{proto=\"%s\"} %lu\n",
                       pv_proto_name((pv_proto)p), (unsigned long)GET(m.bytes_sent[p]));
    pv_buf_append_str(out, "# HELP provisor_bytes_received_total Body bytes received.\n"
                           "# TYPE provisor_bytes_received_total counter\n");
    for (int p = 0; p < PV_PROTO__COUNT; p++)
        pv_buf_appendf(out, "provisor_bytes_received_total{proto=\"%s\"} %lu\n",
                       pv_proto_name((pv_proto)p), (unsigned long)GET(m.bytes_received[p]));
    pv_buf_append_str(out, "# HELP provisor_request_duration_seconds Time from request to last "
                           "byte.\n# TYPE provisor_request_duration_seconds histogram\n");
    for (int p = 0; p < PV_PROTO__COUNT; p++) {
        const char *name = pv_proto_name((pv_proto)p);
        for (size_t i = 0; i < BUCKETS; i++)
            pv_buf_appendf(out,
                           "provisor_request_duration_seconds_bucket{proto=\"%s\",le=\"%g\"} %lu\n",
                           name, duration_bounds[i], (unsigned long)GET(m.duration_buckets[p][i]));
        uint64_t count = GET(m.duration_count[p]);
        pv_buf_appendf(out,
                       "provisor_request_duration_seconds_bucket{proto=\"%s\",le=\"+Inf\"} %lu\n"
                       "provisor_request_duration_seconds_sum{proto=\"%s\"} %.6f\n"
                       "provisor_request_duration_seconds_count{proto=\"%s\"} %lu\n",
                       name, (unsigned long)count, name,
                       (double)GET(m.duration_micros[p]) / 1e6, name, (unsigned long)count);
    }
    pv_buf_append_str(out, "# HELP provisor_tls_handshakes_total TLS handshakes by outcome.\n"
                           "# TYPE provisor_tls_handshakes_total counter\n");
    for (int k = 0; k < PV_TLS_HANDSHAKE__COUNT; k++)
        pv_buf_appendf(out, "provisor_tls_handshakes_total{kind=\"%s\"} %lu\n", handshake_names[k],
                       (unsigned long)GET(m.handshakes[k]));
    pv_buf_append_str(out, "# HELP provisor_open Open connections (HTTP) and transfers (TFTP).\n"
                           "# TYPE provisor_open gauge\n");
    for (int p = 0; p < PV_PROTO__COUNT; p++)
        pv_buf_appendf(out, "provisor_open{proto=\"%s\"} %ld\n", pv_proto_name((pv_proto)p),
                       (long)GET(m.open[p]));
    pv_buf_append_str(out, "# HELP provisor_refused_total Requests refused by a limit.\n"
                           "# TYPE provisor_refused_total counter\n");
    for (int p = 0; p < PV_PROTO__COUNT; p++)
        pv_buf_appendf(out, "provisor_refused_total{proto=\"%s\"} %lu\n",
                       pv_proto_name((pv_proto)p), (unsigned long)GET(m.refused[p]));
    pv_buf_appendf(out,
                   "# HELP provisor_tftp_retransmits_total TFTP packets sent again.\n"
                   "# TYPE provisor_tftp_retransmits_total counter\n"
                   "provisor_tftp_retransmits_total %lu\n"
                   "# HELP provisor_tftp_timeouts_total TFTP transfers abandoned after retries.\n"
                   "# TYPE provisor_tftp_timeouts_total counter\n"
                   "provisor_tftp_timeouts_total %lu\n",
                   (unsigned long)GET(m.tftp_retransmits), (unsigned long)GET(m.tftp_timeouts));
    static const char *const binding_names[PV_METRICS_BIND__COUNT] = {
        "bound", "again", "no_certificate", "limited", "refused"};
    pv_buf_append_str(out, "# HELP provisor_bindings_total Retail binding attempts by outcome.\n"
                           "# TYPE provisor_bindings_total counter\n");
    for (int k = 0; k < PV_METRICS_BIND__COUNT; k++)
        pv_buf_appendf(out, "provisor_bindings_total{outcome=\"%s\"} %lu\n", binding_names[k],
                       (unsigned long)GET(m.bindings[k]));
    render_admin(out);
    unsigned loops = GET(m.loops);
    if (loops == 0)
        return;
    pv_buf_append_str(out, "# HELP provisor_loop_requests_total Requests and transfers finished "
                           "by each loop thread.\n# TYPE provisor_loop_requests_total counter\n");
    for (unsigned i = 1; i <= loops; i++)
        pv_buf_appendf(out, "provisor_loop_requests_total{loop=\"%u\"} %lu\n", i,
                       (unsigned long)GET(m.loop_requests[i]));
}
