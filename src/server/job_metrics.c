/* job_metrics.c — the provisioning job's counters and their Prometheus text; see
 * job_metrics.h. */
#include "server/job_metrics.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- counters with labels: a bounded table per family ---- */

#define LABELS_MAX 192

typedef struct family {
    const char *name, *help;
    const char *overflow; /* the label set the series beyond PV_JOBM_MAX_SERIES count under */
    pthread_mutex_t lock;
    size_t n;
    char labels[PV_JOBM_MAX_SERIES + 1][LABELS_MAX]; /* the last slot: overflow */
    uint64_t value[PV_JOBM_MAX_SERIES + 1];
} family;

#define FAMILY(n, h, o) {.name = n, .help = h, .overflow = o, .lock = PTHREAD_MUTEX_INITIALIZER}

static family served = FAMILY("provisor_profiles_served_total",
                              "Profiles served, by model, provisioning state and transport.",
                              "model=\"other\",state=\"other\",transport=\"other\"");
static family refusals = FAMILY("provisor_refusals_total",
                                "Requests refused, by audit action and HTTP status.",
                                "action=\"other\",status=\"other\"");
static family binding_refusals =
    FAMILY("provisor_binding_refusals_total", "Retail bindings refused, by reason.",
           "reason=\"other\"");
static family firmware = FAMILY("provisor_firmware_downloads_total",
                                "Firmware downloads started, by image file.", "image=\"other\"");

/* `key="value"` (Prometheus text format: \\, \" and \n escaped), value cut at 64 bytes,
 * never inside a UTF-8 sequence (a label value must be UTF-8). */
static void label(pv_buf *b, const char *key, pv_slice value)
{
    pv_buf_appendf(b, "%s%s=\"", b->len ? "," : "", key);
    size_t len = value.len;
    if (len > 64) {
        len = 64;
        while (len > 0 && ((unsigned char)value.ptr[len] & 0xC0) == 0x80)
            len--; /* value.ptr[len] continues a sequence: cut before its lead byte */
    }
    for (size_t i = 0; i < len; i++) {
        char c = value.ptr[i];
        if (c == '\\' || c == '"')
            pv_buf_append_char(b, '\\');
        if (c == '\n')
            pv_buf_append_str(b, "\\n");
        else
            pv_buf_append_char(b, c);
    }
    pv_buf_append_char(b, '"');
}

static void family_add(family *f, const pv_buf *labels)
{
    const char *text = labels->len < LABELS_MAX ? labels->data : f->overflow;
    pthread_mutex_lock(&f->lock);
    size_t i = 0;
    while (i < f->n && strcmp(f->labels[i], text) != 0)
        i++;
    if (i == f->n) {
        if (f->n < PV_JOBM_MAX_SERIES)
            f->n++;
        else
            i = PV_JOBM_MAX_SERIES, text = f->overflow; /* bounded: the rest are "other" */
        snprintf(f->labels[i], LABELS_MAX, "%s", text);
    }
    f->value[i]++;
    pthread_mutex_unlock(&f->lock);
}

static void family_render(family *f, pv_buf *out)
{
    pv_buf_appendf(out, "# HELP %s %s\n# TYPE %s counter\n", f->name, f->help, f->name);
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i <= PV_JOBM_MAX_SERIES; i++)
        if ((i < f->n || i == PV_JOBM_MAX_SERIES) && f->value[i] > 0)
            pv_buf_appendf(out, "%s{%s} %llu\n", f->name, f->labels[i],
                           (unsigned long long)f->value[i]);
    pthread_mutex_unlock(&f->lock);
}

void pv_jobm_profile_served(const char *model, const char *state, pv_proto transport)
{
    pv_buf b = {0};
    label(&b, "model", pv_slice_from(model != NULL && model[0] ? model : "unknown"));
    label(&b, "state", pv_slice_from(state));
    label(&b, "transport", pv_slice_from(pv_proto_name(transport)));
    family_add(&served, &b);
    pv_buf_free(&b);
}

void pv_jobm_refusal(const char *action, int status)
{
    pv_buf b = {0};
    char code[16];
    snprintf(code, sizeof code, "%d", status);
    label(&b, "action", pv_slice_from(action));
    label(&b, "status", pv_slice_from(code));
    family_add(&refusals, &b);
    pv_buf_free(&b);
}

void pv_jobm_binding_refused(const char *reason)
{
    pv_buf b = {0};
    label(&b, "reason", pv_slice_from(reason));
    family_add(&binding_refusals, &b);
    pv_buf_free(&b);
}

void pv_jobm_firmware_download(pv_slice image)
{
    pv_buf b = {0};
    label(&b, "image", image);
    family_add(&firmware, &b);
    pv_buf_free(&b);
}

/* ---- histograms, counters, gauges ---- */

static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                0.25,   0.5,   1,      2.5,   5,    10,   30,    60};
#define BUCKETS (sizeof bounds / sizeof bounds[0])

typedef struct histogram {
    _Atomic uint64_t bucket[BUCKETS], count, micros;
} histogram;

static void observe(histogram *h, double seconds)
{
    for (size_t i = 0; i < BUCKETS; i++)
        if (seconds <= bounds[i])
            atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->micros, (uint64_t)(seconds > 0 ? seconds * 1e6 : 0),
                              memory_order_relaxed);
}

static void histogram_render(histogram *h, const char *name, const char *labels, pv_buf *out)
{
    const char *sep = labels[0] ? "," : "";
    for (size_t i = 0; i < BUCKETS; i++)
        pv_buf_appendf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, bounds[i],
                       (unsigned long long)atomic_load(&h->bucket[i]));
    unsigned long long count = atomic_load(&h->count);
    pv_buf_appendf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n%s_sum%s%s%s %.6f\n%s_count%s%s%s %llu\n",
                   name, labels, sep, count, name, labels[0] ? "{" : "", labels,
                   labels[0] ? "}" : "", (double)atomic_load(&h->micros) / 1e6, name,
                   labels[0] ? "{" : "", labels, labels[0] ? "}" : "", count);
}

static histogram render_time, queue_wait, store_time[PV_JOBM_STORE__COUNT];
static _Atomic uint64_t render_errors, key_rotations, queue_timeouts;
static _Atomic int64_t queue_depth;

void pv_jobm_render(double seconds, bool failed)
{
    observe(&render_time, seconds);
    if (failed)
        atomic_fetch_add(&render_errors, 1);
}

void pv_jobm_key_rotated(void)
{
    atomic_fetch_add(&key_rotations, 1);
}

void pv_jobm_firmware_queue(int delta, double waited, bool timed_out)
{
    atomic_fetch_add(&queue_depth, delta);
    if (delta < 0)
        observe(&queue_wait, waited);
    if (timed_out)
        atomic_fetch_add(&queue_timeouts, 1);
}

void pv_jobm_store(pv_jobm_store_op op, double seconds)
{
    if ((unsigned)op < PV_JOBM_STORE__COUNT)
        observe(&store_time[op], seconds);
}

double pv_jobm_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- certificate expiry ---- */

#define CERTS_MAX 8

static struct {
    pthread_mutex_t lock;
    char name[CERTS_MAX][24];
    long long not_after[CERTS_MAX]; /* 0: unknown (no series) */
} certs = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The earliest notAfter of the certificates in path, as Unix seconds; 0 when none is read. */
static long long earliest_expiry(const char *path)
{
    FILE *f = path != NULL ? fopen(path, "r") : NULL;
    if (f == NULL)
        return 0;
    long long earliest = 0;
    X509 *x;
    for (int i = 0; i < 1000 && (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL; i++) {
        struct tm tm;
        if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1) {
            long long t = (long long)timegm(&tm);
            if (earliest == 0 || t < earliest)
                earliest = t;
        }
        X509_free(x);
    }
    fclose(f);
    return earliest;
}

void pv_jobm_certificate(const char *cert, const char *pem_path)
{
    long long t = earliest_expiry(pem_path);
    pthread_mutex_lock(&certs.lock);
    size_t i = 0;
    while (i < CERTS_MAX && certs.name[i][0] != '\0' && strcmp(certs.name[i], cert) != 0)
        i++;
    if (i < CERTS_MAX) {
        snprintf(certs.name[i], sizeof certs.name[i], "%s", cert);
        certs.not_after[i] = t;
    }
    pthread_mutex_unlock(&certs.lock);
}

/* ---- the text ---- */

void pv_jobm_render_text(pv_buf *out)
{
    family_render(&served, out);
    family_render(&refusals, out);
    family_render(&binding_refusals, out);
    pv_buf_append_str(out, "# HELP provisor_render_duration_seconds Time to render a device's "
                           "profile.\n# TYPE provisor_render_duration_seconds histogram\n");
    histogram_render(&render_time, "provisor_render_duration_seconds", "", out);
    pv_buf_appendf(out,
                   "# HELP provisor_render_errors_total Profile renders that failed.\n"
                   "# TYPE provisor_render_errors_total counter\nprovisor_render_errors_total %llu\n"
                   "# HELP provisor_key_rotations_total Device keys rotated when a phone fetched "
                   "its profile.\n# TYPE provisor_key_rotations_total counter\n"
                   "provisor_key_rotations_total %llu\n",
                   (unsigned long long)atomic_load(&render_errors),
                   (unsigned long long)atomic_load(&key_rotations));
    family_render(&firmware, out);
    pv_buf_appendf(out,
                   "# HELP provisor_firmware_queue_depth Firmware downloads waiting for "
                   "admission.\n# TYPE provisor_firmware_queue_depth gauge\n"
                   "provisor_firmware_queue_depth %lld\n"
                   "# HELP provisor_firmware_queue_timeouts_total Downloads refused by admission "
                   "after a wait (answered 503).\n"
                   "# TYPE provisor_firmware_queue_timeouts_total counter\n"
                   "provisor_firmware_queue_timeouts_total %llu\n"
                   "# HELP provisor_firmware_queue_wait_seconds Time a download waited for "
                   "admission.\n# TYPE provisor_firmware_queue_wait_seconds histogram\n",
                   (long long)atomic_load(&queue_depth),
                   (unsigned long long)atomic_load(&queue_timeouts));
    histogram_render(&queue_wait, "provisor_firmware_queue_wait_seconds", "", out);
    static const char *const ops[PV_JOBM_STORE__COUNT] = {"op=\"probe\"", "op=\"commit\""};
    pv_buf_append_str(out, "# HELP provisor_store_duration_seconds Store calls: the loops' "
                           "health probe and their batch commits.\n"
                           "# TYPE provisor_store_duration_seconds histogram\n");
    for (int op = 0; op < PV_JOBM_STORE__COUNT; op++)
        histogram_render(&store_time[op], "provisor_store_duration_seconds", ops[op], out);
    pv_buf_append_str(out, "# HELP provisor_certificate_expiry_timestamp_seconds When a "
                           "certificate expires (Unix time; a bundle: its earliest).\n"
                           "# TYPE provisor_certificate_expiry_timestamp_seconds gauge\n");
    pthread_mutex_lock(&certs.lock);
    for (size_t i = 0; i < CERTS_MAX && certs.name[i][0] != '\0'; i++)
        if (certs.not_after[i] != 0)
            pv_buf_appendf(out, "provisor_certificate_expiry_timestamp_seconds{cert=\"%s\"} %lld\n",
                           certs.name[i], certs.not_after[i]);
    pthread_mutex_unlock(&certs.lock);
}
