/*
 * seed_store.c — fills a provisioning store for the issue 4 benchmark
 * (bench/provision.sh), and measures rendering in-process.
 *
 *   seed_store seed DATA N CERTS OUT
 *       N devices (MAC 02xxxxxxxxxx, i = 0..N-1) in DATA/provisor.db through the
 *       store API, in transactions of 1 000: one account per 4 devices with
 *       settings JSON and an account parameter layer full of placeholders, a
 *       global and two model layers, a device layer on every 100th device, a
 *       confirmed key and secret directory per device (state SEC-PRV-2). The
 *       first CERTS devices also get a phone certificate from the data
 *       directory's demo manufacturer CA (OUT/phones/<i>.pem: certificate then
 *       key) and their fingerprint in the store. Writes OUT/targets.txt
 *       ("<i> /<dir>/<mac>.cfg <key>" for those CERTS devices), OUT/paths.txt
 *       (every device's "/<dir>/<mac>.cfg") and prints one JSON line with the
 *       seeding time.
 *
 *   (PV_BENCH_DB, when set, names the store instead of DATA/provisor.db.)
 *
 *   seed_store render DATA N SECONDS [THREADS]
 *       Renders and encrypts random devices among the first N for SECONDS on
 *       THREADS threads (default 1), each with its own store handle — its own
 *       connection on PostgreSQL, as each loop of `provisor serve --workers N`
 *       — without a cache (every render from the store, the device's
 *       current secret serving), and prints renders per second, the p50/p99/max
 *       latency of one render, statements per render (each one a round trip on
 *       PostgreSQL), this process's CPU time per render (all threads) and its peak RSS, and
 *       what can stretch one render on a shared machine: renders over 1 ms,
 *       blocks read from disk, major page faults, involuntary context switches;
 *       and the latency without the time the thread waited for a CPU while
 *       other processes ran (own_*: from /proc/thread-self/schedstat).
 *
 * Bounded: N ≤ 10 000 000, SECONDS ≤ 600, THREADS ≤ 16, MAX_RENDERS per thread.
 */
#include "core/alloc.h"
#include "net/handler.h" /* before provision.h: net/fileserver.h does not include it */
#include "net/pki.h"
#include "server/keys.h"
#include "server/provision.h"
#include "server/render.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this process (a shared machine: the wall clock also counts others' turns). */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Nanoseconds this thread has spent runnable but waiting for a CPU (the second
 * field of /proc/thread-self/schedstat), or 0 when fd < 0: on a shared machine
 * a render's wall time also holds other processes' turns, which is not the
 * store's latency. */
static double run_delay_s(int fd)
{
    char buf[96];
    ssize_t n = fd >= 0 ? pread(fd, buf, sizeof buf - 1, 0) : -1;
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    unsigned long long on_cpu = 0, waiting = 0;
    return sscanf(buf, "%llu %llu", &on_cpu, &waiting) == 2 ? (double)waiting / 1e9 : 0;
}

static void die(const char *what, const pv_error *err)
{
    fprintf(stderr, "seed_store: %s: %s\n", what, err ? err->msg : strerror(errno));
    exit(1);
}

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if ((expr) != 0)                                                                           \
            die(#expr, &err);                                                                      \
    } while (0)

static void mac_of(uint64_t i, char out[13])
{
    (void)snprintf(out, 13, "02%010" PRIx64, i);
}

static const char *model_of(uint64_t i)
{
    return i % 2 ? "CP-8841-3PCC" : "SPA504G";
}

/* DATA/provisor.db, or the store PV_BENCH_DB names (a PostgreSQL URL: bench/provision.sh). */
static pv_store *open_store(const char *data)
{
    char db[1024], key[1024];
    pv_error err;
    if (snprintf(db, sizeof db, "%s/provisor.db", data) >= (int)sizeof db ||
        snprintf(key, sizeof key, "%s/master.key", data) >= (int)sizeof key)
        die("data directory path too long", NULL);
    const char *url = getenv("PV_BENCH_DB");
    pv_store *s = NULL;
    CHECK(pv_provision_open_store(url != NULL && *url != '\0' ? url : db, key, &s, &err));
    return s;
}

/* Global and model layers: what a provider sets once. */
static void seed_layers(pv_store *s, int64_t now)
{
    pv_error err;
    pv_store_param g[30];
    char names[30][32], values[30][64];
    for (int i = 0; i < 30; i++) {
        (void)snprintf(names[i], sizeof names[i], "Global_Setting_%02d_", i);
        (void)snprintf(values[i], sizeof values[i], "value-%d-of-the-provider-defaults", i);
        g[i] = (pv_store_param){.name = names[i], .value = values[i], .ua = "ro"};
    }
    g[0] = (pv_store_param){.name = "Station_Name", .value = "phone-{{mac}}", .ua = "rw"};
    g[1] = (pv_store_param){.name = "Proxy_1_", .value = "default.example.net"};
    CHECK(pv_store_params_replace(s, "global", g, 30, now, &err));
    pv_store_param m[] = {
        {.name = "Dial_Plan_1_",
         .value = "(*xx|[3469]11|0|00|[2-9]xxxxxx|1xxx[2-9]xxxxxxS0|xxxxxxxxxxxx.)"},
        {.name = "Codec_1_", .value = "G711u"},
        {.name = "Time_Zone", .value = "GMT+01:00"}};
    CHECK(pv_store_params_replace(s, "model:SPA504G", m, 3, now, &err));
    CHECK(pv_store_params_replace(s, "model:CP-8841-3PCC", m, 3, now, &err));
}

static int64_t seed_account(pv_store *s, uint64_t a, int64_t now)
{
    pv_error err;
    char name[32], customer[64], settings[256], scope[48];
    (void)snprintf(name, sizeof name, "C-%" PRIu64, a);
    (void)snprintf(customer, sizeof customer, "Customer %" PRIu64, a);
    (void)snprintf(settings, sizeof settings,
                   "{\"line1\":{\"user_id\":\"%" PRIu64 "\",\"password\":\"pw%" PRIu64
                   "\",\"proxy\":\"sip%" PRIu64 ".example.net\"},\"speed\":[{\"n\":\"555%" PRIu64
                   "\"}],\"dnd\":false}",
                   100000 + a, a * 7919, a % 10, a);
    pv_store_account acct = {.name = name, .customer = customer, .settings = settings};
    int64_t id = 0;
    CHECK(pv_store_account_create(s, &acct, now, &id, &err));
    pv_store_param p[] = {
        {.name = "User_ID_1_", .value = "{{line1.user_id}}", .ua = "ro"},
        {.name = "Password_1_", .value = "{{line1.password}}", .ua = "na"},
        {.name = "Proxy_1_", .value = "{{line1.proxy}}"},
        {.name = "Display_Name_1_", .value = "{{account.customer}}"},
        {.name = "Speed_Dial_2_", .value = "{{speed.0.n}}"},
        {.name = "DND_Setting", .value = "{{dnd}}", .ua = "rw"},
    };
    (void)snprintf(scope, sizeof scope, "account:%" PRId64, id);
    CHECK(pv_store_params_replace(s, scope, p, sizeof p / sizeof p[0], now, &err));
    return id;
}

typedef struct ca {
    X509 *cert;
    EVP_PKEY *key;
} ca;

/* A phone certificate (spec 4.4 subject) written as OUT/phones/<i>.pem. */
static void issue_phone(const ca *c, const char *out, uint64_t i, const char *mac, char fp[65])
{
    pv_error err;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    char serial[32], cn[32], path[1100];
    (void)snprintf(serial, sizeof serial, "SN%s", mac);
    (void)snprintf(cn, sizeof cn, "SEP%s", mac);
    pv_pki_cert_options o = {
        .subject = {.common_name = cn, .org_unit = model_of(i), .locality = serial, .state = mac},
        .usage = PV_PKI_USAGE_CLIENT,
        .days = 2};
    CHECK(pv_pki_key_new(PV_PKI_KEY_EC_P256, 0, &key, &err));
    CHECK(pv_pki_issue(&o, key, c->cert, c->key, &cert, &err));
    pv_pki_fingerprint(cert, fp);
    if (snprintf(path, sizeof path, "%s/phones/%" PRIu64 ".pem", out, i) >= (int)sizeof path)
        die("output path too long", NULL);
    FILE *f = fopen(path, "w");
    if (f == NULL || !PEM_write_X509(f, cert) ||
        !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL))
        die(path, NULL);
    fclose(f);
    X509_free(cert);
    EVP_PKEY_free(key);
}

static int seed(const char *data, uint64_t n, uint64_t certs, const char *out)
{
    pv_error err;
    pv_store *s = open_store(data);
    ca c = {0};
    char path[1100];
    (void)snprintf(path, sizeof path, "%s/manufacturer/demo-ca.pem", data);
    CHECK(pv_pki_read_cert(path, &c.cert, &err));
    (void)snprintf(path, sizeof path, "%s/manufacturer/demo-ca.key", data);
    CHECK(pv_pki_read_key(path, &c.key, &err));
    (void)snprintf(path, sizeof path, "%s/phones", out);
    if (mkdir(out, 0755) != 0 && errno != EEXIST)
        die(out, NULL);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        die(path, NULL);
    (void)snprintf(path, sizeof path, "%s/targets.txt", out);
    FILE *targets = fopen(path, "w");
    if (targets == NULL)
        die(path, NULL);
    (void)snprintf(path, sizeof path, "%s/paths.txt", out);
    FILE *paths = fopen(path, "w");
    if (paths == NULL)
        die(path, NULL);
    int64_t now = (int64_t)time(NULL);
    double t0 = now_s(), tcert = 0;
    seed_layers(s, now);
    int64_t account = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (i % 1000 == 0)
            CHECK(pv_store_begin(s, &err));
        char mac[13], fp[65] = "";
        mac_of(i, mac);
        if (i % 4 == 0)
            account = seed_account(s, i / 4, now);
        if (i < certs) {
            double tc = now_s();
            issue_phone(&c, out, i, mac, fp);
            tcert += now_s() - tc;
        }
        pv_store_device d = {.model = (char *)model_of(i),
                             .account_id = account,
                             .serial = NULL,
                             .cert_fingerprint = fp[0] ? fp : NULL,
                             .state = PV_STATE_SEC_PRV_2};
        memcpy(d.mac, mac, sizeof d.mac);
        CHECK(pv_store_device_create(s, &d, now, &err));
        if (i % 100 == 0) {
            char scope[32];
            (void)snprintf(scope, sizeof scope, "device:%s", mac);
            CHECK(pv_store_param_put(s, scope, "Station_Display_Name", "Reception {{mac_upper}}",
                                     NULL, now, &err));
        }
        pv_store_secret sec;
        CHECK(pv_keys_issue(s, mac, now, &sec, &err));
        CHECK(pv_store_secret_confirm(s, mac, sec.id, now, &err));
        fprintf(paths, "/%s/%s.cfg\n", sec.dir, mac);
        if (i < certs) {
            char pass[65];
            pv_keys_passphrase(&sec, pass);
            fprintf(targets, "%" PRIu64 " /%s/%s.cfg %s\n", i, sec.dir, mac, pass);
        }
        if (i % 1000 == 999 || i + 1 == n)
            CHECK(pv_store_commit(s, &err));
        if (i % 100000 == 99999)
            fprintf(stderr, "seed_store: %" PRIu64 " devices, %.1f s\n", i + 1, now_s() - t0);
    }
    double total = now_s() - t0;
    fclose(targets);
    fclose(paths);
    printf("{\"bench\":\"seed_store\",\"devices\":%" PRIu64 ",\"accounts\":%" PRIu64
           ",\"certs\":%" PRIu64 ",\"seconds\":%.1f,\"cert_seconds\":%.1f,"
           "\"devices_per_s\":%.0f}\n",
           n, (n + 3) / 4, certs, total, tcert, (double)n / (total - tcert));
    X509_free(c.cert);
    EVP_PKEY_free(c.key);
    pv_store_close(s);
    return 0;
}

#define MAX_RENDERS 4000000
#define MAX_THREADS 16

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One render thread: its own store handle (a connection on PostgreSQL), as each
 * loop of `provisor serve --workers N` has; random devices from its own seed. */
typedef struct renderer {
    pthread_t thread;
    const char *data;
    uint64_t n, seed;
    double end;
    pv_store *s;
    size_t count, cap;
    double *lat, *own;
    uint64_t bytes, statements;
} renderer;

static void *render_thread(void *arg)
{
    renderer *r = arg;
    pv_error err;
    pv_prov_policy pol;
    pv_prov_policy_defaults(&pol);
    pol.http_port = 8080;
    /* Latencies grow with the run (the peak RSS is the store's, not a preallocated array's). */
    r->cap = 65536;
    r->lat = pv_malloc(r->cap * sizeof *r->lat);
    r->own = pv_malloc(r->cap * sizeof *r->own);
    int sched = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    uint64_t x = r->seed, statements = pv_store_statements(r->s);
    while (r->count < MAX_RENDERS && now_s() < r->end) {
        if (r->count == r->cap) {
            r->cap *= 2;
            r->lat = pv_reallocarray(r->lat, r->cap, sizeof *r->lat);
            r->own = pv_reallocarray(r->own, r->cap, sizeof *r->own);
        }
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
        char mac[13];
        mac_of(x % r->n, mac);
        double a = now_s(), waited = run_delay_s(sched);
        /* serve NULL: the device's current secret serves and is delivered, read by the
         * render's one statement (pv_store_render_load) — one round trip on PostgreSQL. */
        pv_render_options o = {.policy = &pol, .host = "127.0.0.1"};
        pv_render_output out = {0};
        CHECK(pv_render_device(r->s, mac, &o, &out, &err));
        r->bytes += out.body.len;
        pv_render_output_free(&out);
        r->lat[r->count] = now_s() - a;
        r->own[r->count] = r->lat[r->count] - (run_delay_s(sched) - waited);
        r->count++;
    }
    r->statements = pv_store_statements(r->s) - statements;
    if (sched >= 0)
        close(sched);
    return NULL;
}

static int render(const char *data, uint64_t n, double seconds, int threads)
{
    renderer rs[MAX_THREADS] = {0};
    for (int i = 0; i < threads; i++) { /* every connection open before the clock starts */
        rs[i].s = open_store(data);
        rs[i].n = n;
        rs[i].seed = 88172645463325252ull + (uint64_t)i * 0x9e3779b97f4a7c15ull;
    }
    double t0 = now_s(), cpu0 = cpu_s();
    struct rusage ru0; /* what may stretch a render: a wait for the disk, a turn for another */
    (void)getrusage(RUSAGE_SELF, &ru0);
    for (int i = 0; i < threads; i++) {
        rs[i].end = t0 + seconds;
        if (pthread_create(&rs[i].thread, NULL, render_thread, &rs[i]) != 0)
            die("pthread_create", NULL);
    }
    size_t count = 0;
    uint64_t bytes = 0, statements = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(rs[i].thread, NULL);
        count += rs[i].count, bytes += rs[i].bytes, statements += rs[i].statements;
    }
    double total = now_s() - t0, cpu = cpu_s() - cpu0;
    struct rusage ru; /* peak RSS of this process: the store's caches and mappings */
    (void)getrusage(RUSAGE_SELF, &ru);
    double *lat = pv_malloc((count + 1) * sizeof *lat), *own = pv_malloc((count + 1) * sizeof *own);
    size_t k = 0;
    for (int i = 0; i < threads; i++) {
        memcpy(lat + k, rs[i].lat, rs[i].count * sizeof *lat);
        memcpy(own + k, rs[i].own, rs[i].count * sizeof *own);
        k += rs[i].count;
        free(rs[i].lat);
        free(rs[i].own);
    }
    qsort(lat, count, sizeof *lat, cmp_double);
    qsort(own, count, sizeof *own, cmp_double);
    size_t slow = 0;
    while (slow < count && lat[count - 1 - slow] > 1e-3)
        slow++;
    printf("{\"bench\":\"render_encrypt_in_process\",\"db\":\"%s\",\"devices\":%" PRIu64
           ",\"threads\":%d,\"renders\":%zu,\"seconds\":%.1f,\"renders_per_s\":%.0f,"
           "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"statements_per_render\":%.2f,"
           "\"cpu_ms_per_render\":%.4f,\"mean_bytes\":%.0f,\"max_rss_kb\":%ld,"
           "\"over_1ms\":%zu,\"disk_reads\":%ld,\"major_faults\":%ld,\"preempted\":%ld,"
           "\"own_p50_ms\":%.3f,\"own_p99_ms\":%.3f,\"own_max_ms\":%.3f}\n",
           pv_store_backend(rs[0].s), n, threads, count, total, (double)count / total,
           count ? lat[count / 2] * 1e3 : 0, count ? lat[count * 99 / 100] * 1e3 : 0,
           count ? lat[count - 1] * 1e3 : 0, count ? (double)statements / (double)count : 0,
           count ? cpu * 1e3 / (double)count : 0, count ? (double)bytes / (double)count : 0,
           ru.ru_maxrss, slow, ru.ru_inblock - ru0.ru_inblock, ru.ru_majflt - ru0.ru_majflt,
           ru.ru_nivcsw - ru0.ru_nivcsw, count ? own[count / 2] * 1e3 : 0,
           count ? own[count * 99 / 100] * 1e3 : 0, count ? own[count - 1] * 1e3 : 0);
    free(own);
    free(lat);
    for (int i = 0; i < threads; i++)
        pv_store_close(rs[i].s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "seed") == 0) {
        uint64_t n = strtoull(argv[3], NULL, 10), certs = strtoull(argv[4], NULL, 10);
        if (n == 0 || n > 10000000 || certs > n)
            die("want 0 < N <= 10000000 and CERTS <= N", NULL);
        return seed(argv[2], n, certs, argv[5]);
    }
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "render") == 0) {
        uint64_t n = strtoull(argv[3], NULL, 10);
        double sec = strtod(argv[4], NULL);
        int threads = argc == 6 ? atoi(argv[5]) : 1;
        if (n == 0 || sec <= 0 || sec > 600 || threads < 1 || threads > MAX_THREADS)
            die("want N > 0, 0 < SECONDS <= 600 and 1 <= THREADS <= 16", NULL);
        return render(argv[2], n, sec, threads);
    }
    fprintf(stderr, "usage: seed_store seed DATA N CERTS OUT\n"
                    "       seed_store render DATA N SECONDS [THREADS]\n");
    return 2;
}
