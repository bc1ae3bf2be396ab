/*
 * search_store.c — the console's device search and dashboard counts on a large store
 * (issue 13 item 1: "fast on 1 000 000 devices"), driven by bench/search.sh.
 *
 *   search_store seed DB N
 *       N devices (MAC 02xxxxxxxxxx) in the store DB names (an SQLite path or a PostgreSQL
 *       URL) through the store API, in transactions of 5 000, shaped like a provider's fleet:
 *       1 000 accounts, one of them (C-big) holding every second device; four common models
 *       and a rare one (1 device in 10 007); 97 % of the devices in SEC-PRV-2, 2 % SP-CUST,
 *       1 % MFG-RESET (never provisioned, no firmware), none in SEC-PRV-1; 70 % on the current
 *       firmware, the rest on the previous one, 1 in 9 973 on a beta; last seen within the last
 *       day, 1 in 50 two to six days ago, 1 in 200 eight to ninety days ago (dead phones), the
 *       MFG-RESET ones never. Prints one JSON line.
 *
 *   search_store measure DB LABEL
 *       Runs each search the console makes (a page of 50, pv_store_device_find) and the
 *       dashboard's three counts (pv_store_device_counts) 7 times and prints the median of
 *       each in milliseconds, one JSON line labelled LABEL (bench/search.sh runs it with the
 *       indexes of schema step 8 and again after dropping them: the same run's reference), the
 *       last-seen searches (LABEL "before": with the seen_day index of step 9 dropped, so
 *       through the MAC order and last_seen checked per row).
 *
 *   search_store touch DB LABEL
 *       The cost of a fetch's last-seen update: 100 000 devices seen again a second later (the
 *       same day), in transactions of 5 000, the median of three rounds; bench/search.sh runs it with step 9's trigger
 *       (whose condition is then false) and without it.
 *
 *   search_store check DB
 *       The write checks of issue 13 on the whole store: a global parameter with a placeholder
 *       checked against every device (pv_param_reach_of: one GROUP BY, a value expanded per
 *       group) and a change of C-big's customer checked against its devices
 *       (pv_param_settings_reach); the reference is what the settings check did before, a
 *       plain render of each device twice (timed on 2 000 of C-big's devices, per device);
 *       then the settings check again with 10 000 of those devices given a layer of their own
 *       (checked one by one; taken away after). Median of 3; one JSON line.
 *
 * Bounded: N ≤ 10 000 000; 7 runs per query.
 */
#include "server/param_check.h"
#include "server/prov_policy.h"
#include "server/render.h"
#include "store/store.h"
#include "store/store_device_search.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 7

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what, const pv_error *err)
{
    fprintf(stderr, "search_store: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if ((expr) != 0)                                                                           \
            die(#expr, &err);                                                                      \
    } while (0)

static pv_store *open_store(const char *url)
{
    pv_error err;
    pv_store *s = NULL;
    CHECK(pv_store_open(url, &s, &err));
    CHECK(pv_store_migrate(s, NULL, &err));
    return s;
}

static const char *const models[] = {"CP-8841-3PCC", "CP-7841-3PCC", "SPA504G", "CP-6841-3PCC"};
#define RARE_MODEL "CP-8851-3PCC"
#define FW_NEW "sip88xx.12-0-1MPP0001-187"
#define FW_OLD "sip88xx.11-3-7MPP0001-609"
#define FW_BETA "sip88xx.12-1-0MPP0001-beta"

/* When device i last fetched: most within the last day (a daily resync), 1 in 50 between two
 * and six days ago (stale), 1 in 200 between eight and ninety days ago (dead phones). */
static int64_t seen_at(uint64_t i, int64_t now)
{
    uint64_t h = i * 2654435761u % 1000003; /* spread, not in MAC order */
    if (i % 200 == 7)
        return now - 8 * 86400 - (int64_t)(h % (82 * 86400));
    if (i % 50 == 11)
        return now - 2 * 86400 - (int64_t)(h % (4 * 86400));
    return now - (int64_t)(h % 86400);
}

static int seed(const char *url, uint64_t n)
{
    pv_error err;
    pv_store *s = open_store(url);
    int64_t now = (int64_t)time(NULL), ids[1000];
    double t0 = now_ms();
    CHECK(pv_store_begin(s, &err));
    for (int a = 0; a < 1000; a++) {
        char name[32], customer[48];
        (void)snprintf(name, sizeof name, a == 0 ? "C-big" : "C-%04d", a);
        (void)snprintf(customer, sizeof customer, "Customer %d", a);
        pv_store_account acct = {.name = name, .customer = customer};
        CHECK(pv_store_account_create(s, &acct, now, &ids[a], &err));
    }
    CHECK(pv_store_commit(s, &err));
    for (uint64_t i = 0; i < n; i++) {
        if (i % 5000 == 0)
            CHECK(pv_store_begin(s, &err));
        pv_store_device d = {.model = (char *)(i % 10007 == 3 ? RARE_MODEL : models[(i / 2) % 4]),
                             .account_id = i % 2 == 0 ? ids[0] : ids[1 + (i / 2) % 999],
                             .state = i % 100 < 97   ? PV_STATE_SEC_PRV_2
                                      : i % 100 < 99 ? PV_STATE_SP_CUST
                                                     : PV_STATE_MFG_RESET};
        (void)snprintf(d.mac, sizeof d.mac, "02%010" PRIx64, i);
        CHECK(pv_store_device_create(s, &d, now, &err));
        if (d.state != PV_STATE_MFG_RESET)
            CHECK(pv_store_device_seen(s, d.mac, seen_at(i, now),
                                       i % 9973 == 5 ? FW_BETA
                                       : i % 10 < 7  ? FW_NEW
                                                     : FW_OLD,
                                       NULL, NULL, NULL, &err));
        if (i % 5000 == 4999 || i + 1 == n)
            CHECK(pv_store_commit(s, &err));
        if (i % 100000 == 99999)
            fprintf(stderr, "search_store: %" PRIu64 " devices, %.1f s\n", i + 1,
                    (now_ms() - t0) / 1e3);
    }
    /* CPU time too: on a shared machine the wall clock also counts the neighbours' turns */
    printf("{\"bench\":\"search_store_seed\",\"store\":\"%s\",\"devices\":%" PRIu64
           ",\"seconds\":%.1f,\"cpu_seconds\":%.1f}\n",
           pv_store_backend(s), n, (now_ms() - t0) / 1e3, (double)clock() / CLOCKS_PER_SEC);
    pv_store_close(s);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct search {
    const char *name;
    const char *prefix, *account, *state, *model, *firmware;
    int page; /* 1 = the first page; 2 = the page after it (the cursor) */
    /* last seen: not seen for (> 0) or seen within (< 0) this many seconds; never (1) */
    int64_t seen_age;
    bool never;
} search;

static const search searches[] = {
    {"mac_prefix", "02000001", NULL, NULL, NULL, NULL, 1, 0, false},
    {"common_model", "", NULL, NULL, "SPA504G", NULL, 1, 0, false},
    {"common_model_page2", "", NULL, NULL, "SPA504G", NULL, 2, 0, false},
    {"rare_model", "", NULL, NULL, RARE_MODEL, NULL, 1, 0, false},
    {"absent_model", "", NULL, NULL, "CP-9999-3PCC", NULL, 1, 0, false},
    {"rare_state", "", NULL, "MFG-RESET", NULL, NULL, 1, 0, false},
    {"rare_state_page2", "", NULL, "MFG-RESET", NULL, NULL, 2, 0, false},
    {"big_account_absent_state", "", "C-big", "SEC-PRV-1", NULL, NULL, 1, 0, false},
    {"big_account_rare_state", "", "C-big", "MFG-RESET", NULL, NULL, 1, 0, false},
    {"small_account", "", "C-0500", NULL, NULL, NULL, 1, 0, false},
    {"rare_firmware", "", NULL, NULL, NULL, FW_BETA, 1, 0, false},
    {"absent_firmware", "", NULL, NULL, NULL, "sip88xx.10-0-0MPP", 1, 0, false},
    {"state_and_model", "", NULL, "SP-CUST", "CP-6841-3PCC", NULL, 1, 0, false},
    /* last seen (schema step 9) */
    {"not_seen_7d", "", NULL, NULL, NULL, NULL, 1, 7 * 86400, false},
    {"not_seen_7d_page2", "", NULL, NULL, NULL, NULL, 2, 7 * 86400, false},
    {"not_seen_1d", "", NULL, NULL, NULL, NULL, 1, 86400, false},
    {"seen_within_1h", "", NULL, NULL, NULL, NULL, 1, -3600, false},
    {"seen_within_1d", "", NULL, NULL, NULL, NULL, 1, -86400, false},
    {"never_seen", "", NULL, NULL, NULL, NULL, 1, 0, true},
    {"big_account_not_seen_7d", "", "C-big", NULL, NULL, NULL, 1, 7 * 86400, false},
    {"small_account_not_seen_7d", "", "C-0500", NULL, NULL, NULL, 1, 7 * 86400, false},
    {"rare_model_not_seen_1d", "", NULL, NULL, RARE_MODEL, NULL, 1, 86400, false},
};

static double run_search(pv_store *s, const search *q, int64_t account_id)
{
    pv_error err;
    int64_t now = (int64_t)time(NULL);
    pv_store_device_query dq = {.account_id = account_id,
                                .state = q->state,
                                .model = q->model,
                                .firmware = q->firmware,
                                .seen_before = q->seen_age > 0 ? now - q->seen_age : 0,
                                .seen_since = q->seen_age < 0 ? now + q->seen_age : 0,
                                .never_seen = q->never};
    CHECK(pv_store_mac_prefix(q->prefix, dq.mac_prefix, &err));
    pv_store_page page = {.limit = 50};
    double t = 0;
    for (int p = 1; p <= q->page; p++) {
        pv_store_device *rows = NULL;
        size_t n = 0;
        double a = now_ms();
        CHECK(pv_store_device_find(s, &dq, &page, &rows, &n, &err));
        t = now_ms() - a;
        pv_store_devices_free(rows, n);
    }
    return t;
}

static void count_none(void *data, const char *value, int64_t count)
{
    (void)value;
    *(int64_t *)data += count;
}

/* A fetch's last-seen update, 100 000 times (the first devices, seen again a second later,
 * the same day for all but those seen in the day's last second), in transactions of 5 000
 * as the provisioning loops batch them: milliseconds. */
static double touch_once(pv_store *s)
{
    pv_error err;
    pv_store_page page = {.limit = 1000};
    double t = 0;
    for (int done = 0; done < 100000 && (done == 0 || page.after[0] != '\0');) {
        pv_store_device *rows = NULL;
        size_t n = 0;
        CHECK(pv_store_device_list(s, 0, &page, &rows, &n, &err));
        double a = now_ms();
        if (done % 5000 == 0)
            CHECK(pv_store_begin(s, &err));
        for (size_t i = 0; i < n; i++)
            if (rows[i].last_seen != 0)
                CHECK(pv_store_device_seen(s, rows[i].mac, rows[i].last_seen + 1, NULL, NULL,
                                           NULL, NULL, &err));
        done += (int)n;
        if (done % 5000 == 0 || page.after[0] == '\0')
            CHECK(pv_store_commit(s, &err));
        t += now_ms() - a;
        pv_store_devices_free(rows, n);
    }
    return t;
}

/* The median of three rounds (the first one also warms the cache). */
static double touch(pv_store *s)
{
    double t[3];
    for (int r = 0; r < 3; r++)
        t[r] = touch_once(s);
    qsort(t, 3, sizeof t[0], cmp_double);
    return t[1];
}

static int measure(const char *url, const char *label)
{
    pv_error err;
    pv_store *s = open_store(url);
    if (strcmp(label, "before") == 0)
        pv_store_seen_led = 0; /* no seen_day index: never read it */
    printf("{\"bench\":\"search_store\",\"store\":\"%s\",\"label\":\"%s\"", pv_store_backend(s),
           label);
    for (size_t i = 0; i < sizeof searches / sizeof searches[0]; i++) {
        int64_t account_id = 0;
        if (searches[i].account != NULL) {
            pv_store_account a = {0};
            CHECK(pv_store_account_get_by_name(s, searches[i].account, &a, &err));
            account_id = a.id;
            pv_store_account_free(&a);
        }
        double t[RUNS];
        for (int r = 0; r < RUNS; r++)
            t[r] = run_search(s, &searches[i], account_id);
        qsort(t, RUNS, sizeof t[0], cmp_double);
        printf(",\"%s_ms\":%.2f", searches[i].name, t[RUNS / 2]);
        fflush(stdout);
    }
    double t[RUNS];
    int64_t devices = 0;
    for (int r = 0; r < RUNS; r++) {
        double a = now_ms();
        devices = 0;
        CHECK(pv_store_device_counts(s, PV_DEVICE_BY_STATE, 12, count_none, &devices, &err));
        CHECK(pv_store_device_counts(s, PV_DEVICE_BY_MODEL, 12, count_none, &devices, &err));
        CHECK(pv_store_device_counts(s, PV_DEVICE_BY_FIRMWARE, 12, count_none, &devices, &err));
        t[r] = now_ms() - a;
    }
    qsort(t, RUNS, sizeof t[0], cmp_double);
    printf(",\"dashboard_counts_ms\":%.2f,\"devices_counted\":%" PRId64 "}\n", t[RUNS / 2],
           devices / 3);
    pv_store_close(s);
    return 0;
}

static double median3(double t[3])
{
    qsort(t, 3, sizeof t[0], cmp_double);
    return t[1];
}

#define LAYERED 10000

static int check_writes(const char *url)
{
    pv_error err;
    pv_store *s = open_store(url);
    pv_store_account before = {0}, after = {0};
    CHECK(pv_store_account_get_by_name(s, "C-big", &before, &err));
    CHECK(pv_store_account_get_by_name(s, "C-big", &after, &err));
    free(after.customer);
    after.customer = strdup("Customer renamed");
    CHECK(pv_store_param_put(s, "global", "Station_Name", "{{account.customer}}-{{mac}}", NULL,
                             (int64_t)time(NULL), &err));
    double tg[3], ts[3];
    pv_param_reach r = {0};
    pv_param_settings sr = {0};
    for (int i = 0; i < 3; i++) {
        double a = now_ms();
        CHECK(pv_param_reach_of(s, "global", "Station_Name", "{{account.customer}}-{{mac}}", &r,
                                &err));
        tg[i] = now_ms() - a;
        a = now_ms();
        CHECK(pv_param_settings_reach(s, &before, &after, &sr, &err));
        ts[i] = now_ms() - a;
    }
    /* the reference: a plain render per device, as the settings check did (twice per device) */
    pv_prov_policy pol;
    pv_prov_policy_defaults(&pol);
    pv_render_options o = {.policy = &pol, .plain = true};
    pv_store_page page = {.limit = 1000};
    pv_store_device *rows = NULL;
    size_t n = 0, rendered = 0;
    double a = now_ms();
    for (int p = 0; p < 2; p++) {
        CHECK(pv_store_device_list(s, before.id, &page, &rows, &n, &err));
        for (size_t i = 0; i < n; i++) {
            pv_render_output out = {0};
            CHECK(pv_render_device(s, rows[i].mac, &o, &out, &err));
            pv_render_output_free(&out);
            rendered++;
        }
        pv_store_devices_free(rows, n);
    }
    double per_render = (now_ms() - a) / (double)rendered;
    /* devices with a layer of their own are checked one by one: 10 000 of C-big's get one
     * (a value with a placeholder and a secret, as a per-device SIP line has), taken away after */
    page = (pv_store_page){.limit = 1000};
    char (*layered)[13] = calloc(LAYERED, sizeof *layered);
    size_t nl = 0;
    while (nl < LAYERED) {
        CHECK(pv_store_device_list(s, before.id, &page, &rows, &n, &err));
        CHECK(pv_store_begin(s, &err));
        for (size_t i = 0; i < n && nl < LAYERED; i++, nl++) {
            char scope[24];
            snprintf(scope, sizeof scope, "device:%s", rows[i].mac);
            memcpy(layered[nl], rows[i].mac, 13);
            CHECK(pv_store_param_put(s, scope, "Display_Name_1_", "{{account.customer}} {{mac}}",
                                     NULL, (int64_t)time(NULL), &err));
            CHECK(pv_store_param_put(s, scope, "Password_1_", "line-secret", NULL,
                                     (int64_t)time(NULL), &err));
        }
        CHECK(pv_store_commit(s, &err));
        pv_store_devices_free(rows, n);
    }
    double tl[3];
    for (int i = 0; i < 3; i++) {
        double b = now_ms();
        CHECK(pv_param_settings_reach(s, &before, &after, &sr, &err));
        tl[i] = now_ms() - b;
    }
    double layered_ms = median3(tl);
    CHECK(pv_store_begin(s, &err));
    for (size_t i = 0; i < nl; i++) {
        char scope[24];
        snprintf(scope, sizeof scope, "device:%s", layered[i]);
        CHECK(pv_store_param_delete(s, scope, "Display_Name_1_", (int64_t)time(NULL), &err));
        CHECK(pv_store_param_delete(s, scope, "Password_1_", (int64_t)time(NULL), &err));
    }
    CHECK(pv_store_commit(s, &err));
    free(layered);
    printf("{\"bench\":\"search_store_check\",\"store\":\"%s\",\"global_devices\":%zu,"
           "\"global_failed\":%zu,\"global_check_ms\":%.0f,\"account_devices\":%zu,"
           "\"account_changed\":%zu,\"settings_check_ms\":%.0f,\"render_ms_per_device\":%.3f,"
           "\"settings_check_by_renders_ms\":%.0f,\"layered_devices\":%d,"
           "\"settings_check_layered_ms\":%.0f}\n",
           pv_store_backend(s), r.devices, r.failed, median3(tg), sr.devices, sr.changed,
           median3(ts), per_render, per_render * 2 * (double)sr.devices, LAYERED, layered_ms);
    CHECK(pv_store_param_delete(s, "global", "Station_Name", (int64_t)time(NULL), &err));
    pv_store_account_free(&before);
    pv_store_account_free(&after);
    pv_store_close(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "check") == 0)
        return check_writes(argv[2]);
    if (argc == 4 && strcmp(argv[1], "seed") == 0) {
        uint64_t n = strtoull(argv[3], NULL, 10);
        if (n == 0 || n > 10000000)
            die("want 0 < N <= 10000000", NULL);
        return seed(argv[2], n);
    }
    if (argc == 4 && strcmp(argv[1], "measure") == 0)
        return measure(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "touch") == 0) {
        pv_store *s = open_store(argv[2]);
        double ms = touch(s);
        printf("{\"bench\":\"search_store_touch\",\"store\":\"%s\",\"label\":\"%s\","
               "\"touch_100000_ms\":%.0f,\"cpu_seconds\":%.2f}\n",
               pv_store_backend(s), argv[3], ms, (double)clock() / CLOCKS_PER_SEC);
        pv_store_close(s);
        return 0;
    }
    fprintf(stderr, "usage: search_store seed DB N\n"
                    "       search_store measure DB LABEL\n"
                    "       search_store touch DB LABEL\n"
                    "       search_store check DB\n");
    return 2;
}
