/* Unit tests for the console's device search and the dashboard's kept counts, on both stores
 * (PV_TEST_PG, integration.store_postgres): every combination of filters pages through exactly
 * the devices a plain reading of the whole table finds, in MAC order; the counts follow every
 * way a device changes (create, import, state, model, firmware, release, delete) with and
 * without a fold; last-seen ranges (schema step 9) find exactly their devices both ways the
 * search may read them; and schema steps 8 and 9 on a database that already holds devices
 * count and date them. */
/* Covers src/store/store_device_search.c and schema step 8 in src/store/migrations.c. */
#include "store_test.h"

#include "store/migrations.h"
#include "store/store_device_search.h"

#include <string.h>

static pv_store *S(void **state)
{
    return ((store_fixture *)*state)->s;
}

static const char *const models[] = {"CP-8841-3PCC", "SPA504G", "CP-6841-3PCC"};
static const char *const firmwares[] = {"sip88xx.12-0-1MPP", "sip88xx.11-3-7MPP"};

/* 211 devices over two accounts, three models, three states (one of them rare), two firmware
 * versions and none (never seen). */
static void seed(pv_store *s, int64_t acct[2])
{
    pv_store_account a = {.name = "acme", .customer = "ACME", .settings = "{}"};
    assert_ok(pv_store_account_create(s, &a, 100, &acct[0], e));
    a.name = "globex";
    assert_ok(pv_store_account_create(s, &a, 100, &acct[1], e));
    assert_ok(pv_store_begin(s, e));
    for (int i = 0; i < 211; i++) {
        pv_store_device d = {.model = (char *)models[i % 3],
                             .account_id = i % 5 == 0 ? acct[1] : acct[0],
                             .state = i % 13 == 0  ? PV_STATE_MFG_RESET
                                      : i % 4 == 0 ? PV_STATE_SP_CUST
                                                   : PV_STATE_SEC_PRV_2};
        snprintf(d.mac, sizeof d.mac, "0004f2%06x", i * 7919);
        assert_ok(pv_store_device_create(s, &d, 100, e));
        if (d.state != PV_STATE_MFG_RESET)
            assert_ok(
                pv_store_device_seen(s, d.mac, 101, firmwares[i % 7 == 0], NULL, NULL, NULL, e));
    }
    assert_ok(pv_store_commit(s, e));
}

/* Every device, read the plain way (pages of the MAC-ordered list). */
static size_t all_devices(pv_store *s, pv_store_device **out)
{
    size_t total = 0, cap = 0;
    *out = NULL;
    pv_store_page page = {.limit = 100};
    do {
        pv_store_device *rows = NULL;
        size_t n = 0;
        assert_ok(pv_store_device_list(s, 0, &page, &rows, &n, e));
        if (total + n > cap) {
            cap = (total + n) * 2;
            *out = pv_reallocarray(*out, cap, sizeof **out);
        }
        memcpy(*out + total, rows, n * sizeof *rows);
        total += n;
        free(rows); /* the strings moved to *out */
    } while (page.after[0] != '\0');
    return total;
}

static bool matches(const pv_store_device *d, const pv_store_device_query *q)
{
    return strncmp(d->mac, q->mac_prefix, strlen(q->mac_prefix)) == 0 &&
           (q->account_id == 0 || d->account_id == q->account_id) &&
           (q->state == NULL || strcmp(pv_store_state_name(d->state), q->state) == 0) &&
           (q->model == NULL || (d->model != NULL && strcmp(d->model, q->model) == 0)) &&
           (q->firmware == NULL ||
            (d->firmware_version != NULL && strcmp(d->firmware_version, q->firmware) == 0)) &&
           (q->never_seen ? d->last_seen == 0
                          : (q->seen_since <= 0 || (d->last_seen != 0 &&
                                                    d->last_seen >= q->seen_since)) &&
                                (q->seen_before <= 0 ||
                                 (d->last_seen != 0 && d->last_seen < q->seen_before)));
}

/* Pages through q's devices 4 at a time: exactly those of all[] that match, in MAC order. */
static void pages_match(pv_store *s, const pv_store_device_query *q, const pv_store_device *all,
                        size_t total, const char *what)
{
    size_t want = 0, got = 0, pages = 0;
    for (size_t i = 0; i < total; i++)
        want += matches(&all[i], q);
    pv_store_page page = {.limit = 4};
    char last[13] = "";
    do {
        pv_store_device *rows = NULL;
        size_t n = 0;
        assert_ok(pv_store_device_find(s, q, &page, &rows, &n, e));
        for (size_t i = 0; i < n; i++) {
            assert_true(matches(&rows[i], q));
            assert_true(strcmp(rows[i].mac, last) > 0); /* MAC order, none twice */
            strcpy(last, rows[i].mac);
        }
        got += n;
        pages++;
        pv_store_devices_free(rows, n);
    } while (page.after[0] != '\0' && pages < 100);
    if (got != want)
        fail_msg("%s: %zu devices found, %zu match", what, got, want);
}

static void every_filter_combination_pages_through_its_devices(void **state)
{
    pv_store *s = S(state);
    int64_t acct[2];
    seed(s, acct);
    pv_store_device *all = NULL;
    size_t total = all_devices(s, &all);
    assert_int_equal(total, 211);
    const char *prefixes[] = {"", "0004f20"};
    for (unsigned which = 0; which < 16 * 2; which++) {
        pv_store_device_query q = {
            .state = which & 1 ? "SP-CUST" : NULL,
            .model = which & 2 ? "SPA504G" : NULL,
            .firmware = which & 4 ? firmwares[1] : NULL,
            .account_id = which & 8 ? acct[1] : 0,
        };
        strcpy(q.mac_prefix, prefixes[which >> 4]);
        char what[32];
        snprintf(what, sizeof what, "filters %u", which);
        pages_match(s, &q, all, total, what);
    }
    /* A rare value and one no device has: the index answers, the result is right. */
    pv_store_device_query none = {.model = "CP-9999-3PCC"};
    pv_store_page page = {.limit = 10};
    pv_store_device *rows = NULL;
    size_t n = 99;
    assert_ok(pv_store_device_find(s, &none, &page, &rows, &n, e));
    assert_int_equal(n, 0);
    assert_string_equal(page.after, "");
    pv_store_devices_free(rows, n);
    pv_store_devices_free(all, total);
}

/*
 * Last seen (schema step 9): devices seen over ten days, every six hours back, some of them
 * again later the same day (the day unchanged: the trigger writes nothing) and some on a
 * later day (the day moves); the MFG-RESET ones never. Every range — since, before, both,
 * never, a range inside one day, a bound on a day's first second — alone and with the other
 * filters, through the seen_day index (few devices in range) and through the MAC order
 * (pv_store_seen_led 0: always "many"), pages through exactly its devices.
 */
static void last_seen_ranges_page_through_their_devices(void **state)
{
    pv_store *s = S(state);
    int64_t acct[2];
    seed(s, acct);
    const int64_t day = 86400, t = 20000 * day; /* a day's first second */
    pv_store_device *all = NULL;
    size_t total = all_devices(s, &all);
    assert_ok(pv_store_begin(s, e));
    for (size_t i = 0; i < total; i++) {
        if (all[i].state == PV_STATE_MFG_RESET)
            continue;
        int64_t at = t - (int64_t)(i % 40) * day / 4 - 1;
        assert_ok(pv_store_device_seen(s, all[i].mac, at, NULL, NULL, NULL, NULL, e));
        if (i % 3 == 0) /* later the same day */
            assert_ok(pv_store_device_seen(s, all[i].mac, at - at % day + day - 1, NULL, NULL,
                                           NULL, NULL, e));
        if (i % 17 == 0) /* a later day */
            assert_ok(pv_store_device_seen(s, all[i].mac, at + 2 * day, NULL, NULL, NULL, NULL,
                                           e));
    }
    assert_ok(pv_store_commit(s, e));
    pv_store_devices_free(all, total);
    total = all_devices(s, &all);
    const struct {
        int64_t since, before;
        bool never;
    } ranges[] = {
        {t - 3 * day, 0, false}, {0, t - 3 * day, false}, {0, t - 3 * day + 1, false},
        {t - 7 * day + 3600, t - 2 * day - 7, false}, {t - day / 2, t - day / 4, false},
        {0, 0, true}, {t + 10 * day, 0, false}, {0, 1, false},
    };
    for (int led = 0; led < 2; led++) {
        pv_store_seen_led = led ? PV_STORE_SEEN_LED : 0;
        for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++)
            for (unsigned which = 0; which < 16; which += 3) {
                pv_store_device_query q = {
                    .state = which & 1 ? "SP-CUST" : NULL,
                    .model = which & 2 ? "SPA504G" : NULL,
                    .firmware = which & 4 ? firmwares[1] : NULL,
                    .account_id = which & 8 ? acct[1] : 0,
                    .seen_since = ranges[r].since,
                    .seen_before = ranges[r].before,
                    .never_seen = ranges[r].never,
                };
                if (which & 2) /* and a MAC prefix */
                    strcpy(q.mac_prefix, "0004f20");
                char what[48];
                snprintf(what, sizeof what, "range %zu, filters %u, led %d", r, which, led);
                pages_match(s, &q, all, total, what);
            }
    }
    pv_store_seen_led = PV_STORE_SEEN_LED;
    /* the range is not empty for nothing: dead phones exist in this fleet */
    size_t dead = 0;
    for (size_t i = 0; i < total; i++)
        dead += all[i].last_seen != 0 && all[i].last_seen < t - 3 * day;
    assert_true(dead > 20 && dead + 20 < total);
    pv_store_devices_free(all, total);
}

/* The groups a write's check reads (pv_store_scope_groups, pv_store_account_groups): every
 * device of the scope in exactly one group, each group's devices alike in account, serial and
 * model presence, its first MAC the lowest; a device with its own layer apart. */
static void scope_groups_cover_every_device(void **state)
{
    pv_store *s = S(state);
    int64_t acct[2];
    seed(s, acct);
    pv_store_device d = {.mac = "0004f2ffff01", .account_id = acct[0]}; /* no serial, no model */
    assert_ok(pv_store_device_create(s, &d, 100, e));
    pv_store_device *all = NULL;
    size_t total = all_devices(s, &all);
    const char *scopes[] = {"global", "model:SPA504G", NULL, "device:0004f2ffff01"};
    char account_scope[32];
    snprintf(account_scope, sizeof account_scope, "account:%lld", (long long)acct[1]);
    scopes[2] = account_scope;
    for (size_t k = 0; k < 4; k++) {
        pv_store_device_group *g = NULL;
        size_t n = 0, sum = 0;
        assert_ok(pv_store_scope_groups(s, scopes[k], &g, &n, e));
        size_t want = 0;
        for (size_t i = 0; i < total; i++) {
            const pv_store_device *x = &all[i];
            bool in = k == 0 || (k == 1 && x->model && strcmp(x->model, "SPA504G") == 0) ||
                      (k == 2 && x->account_id == acct[1]) ||
                      (k == 3 && strcmp(x->mac, "0004f2ffff01") == 0);
            if (!in)
                continue;
            want++;
            size_t hit = 0;
            for (size_t j = 0; j < n; j++)
                if (g[j].account_id == x->account_id && g[j].has_serial == (x->serial != NULL) &&
                    g[j].has_model == (x->model != NULL)) {
                    hit++;
                    assert_true(strcmp(g[j].first_mac, x->mac) <= 0);
                }
            assert_int_equal(hit, 1);
        }
        for (size_t j = 0; j < n; j++)
            sum += (size_t)g[j].devices;
        assert_int_equal(sum, want);
        pv_store_device_groups_free(g, n);
    }
    /* an account's devices for a settings check: by model and serial, the layered apart */
    assert_ok(pv_store_param_put(s, "device:0004f2ffff01", "Display_Name_1_", "x", NULL, 100, e));
    pv_store_device_group *g = NULL;
    size_t n = 0, sum = 0, layered = 0;
    assert_ok(pv_store_account_groups(s, acct[0], &g, &n, e));
    for (size_t j = 0; j < n; j++) {
        sum += (size_t)g[j].devices;
        if (g[j].layered) {
            layered++;
            assert_string_equal(g[j].first_mac, "0004f2ffff01");
            assert_int_equal(g[j].devices, 1);
            assert_null(g[j].model);
        }
    }
    size_t want = 0;
    for (size_t i = 0; i < total; i++)
        want += all[i].account_id == acct[0];
    assert_int_equal(sum, want);
    assert_int_equal(layered, 1);
    assert_int_equal(n, 3 + 1); /* three models, all with no serial, and the layered one */
    pv_store_device_groups_free(g, n);
    pv_store_devices_free(all, total);
}

typedef struct tally {
    char values[16][64];
    int64_t counts[16];
    size_t n;
} tally;

static void add(void *data, const char *value, int64_t count)
{
    tally *t = data;
    assert_true(t->n < 16);
    snprintf(t->values[t->n], sizeof t->values[0], "%s", value);
    t->counts[t->n++] = count;
}

static int64_t count_of(const tally *t, const char *value)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->values[i], value) == 0)
            return t->counts[i];
    return 0;
}

/* The kept counts of each dimension equal a count of every device, read the plain way; each
 * chart most devices first. */
static void counts_agree(pv_store *s)
{
    pv_store_device *all = NULL;
    size_t total = all_devices(s, &all);
    for (int by = PV_DEVICE_BY_STATE; by <= PV_DEVICE_BY_FIRMWARE; by++) {
        tally t = {0};
        assert_ok(pv_store_device_counts(s, by, 16, add, &t, e));
        int64_t sum = 0;
        for (size_t i = 0; i < t.n; i++) {
            assert_true(t.counts[i] > 0);
            assert_true(i == 0 || t.counts[i] <= t.counts[i - 1]);
            sum += t.counts[i];
            int64_t want = 0;
            for (size_t j = 0; j < total; j++) {
                const char *v = by == PV_DEVICE_BY_STATE   ? pv_store_state_name(all[j].state)
                                : by == PV_DEVICE_BY_MODEL ? all[j].model
                                                           : all[j].firmware_version;
                want += strcmp(v != NULL ? v : "", t.values[i]) == 0;
            }
            if (t.counts[i] != want)
                fail_msg("dimension %d, '%s': %lld counted, %lld devices", by, t.values[i],
                         (long long)t.counts[i], (long long)want);
        }
        assert_int_equal(sum, (int64_t)total);
    }
    pv_store_devices_free(all, total);
}

static void counts_follow_every_change(void **state)
{
    pv_store *s = S(state);
    int64_t acct[2];
    seed(s, acct);
    counts_agree(s);
    tally t = {0};
    assert_ok(pv_store_device_counts(s, PV_DEVICE_BY_STATE, 16, add, &t, e));
    assert_int_equal(count_of(&t, "SEC-PRV-1"), 0); /* no device there: no bar */

    pv_store_device d = {0};
    assert_ok(pv_store_device_get(s, "0004f2000000", &d, e));
    free(d.model);
    d.model = pv_strdup("CP-7841-3PCC");
    assert_ok(pv_store_device_update(s, &d, 200, e)); /* model */
    pv_store_device_free(&d);
    assert_ok(
        pv_store_device_set_state(s, "0004f2000000", PV_STATE_MFG_RESET, PV_STATE_SP_CUST, 200, e));
    assert_ok(pv_store_device_seen(s, "0004f2000000", 201, "sip88xx.12-1-0MPP-beta", NULL, NULL,
                                   NULL, e)); /* first firmware */
    assert_ok(pv_store_device_seen(s, "0004f2001eef", 201, "sip88xx.12-1-0MPP-beta", NULL, NULL,
                                   NULL, e)); /* an upgrade */
    assert_ok(pv_store_device_seen(s, "0004f2001eef", 202, NULL, NULL, NULL, NULL, e)); /* same */
    assert_ok(pv_store_device_release(s, "0004f2003dde", 203, e));
    assert_ok(pv_store_device_delete(s, "0004f2005ccd", e));
    pv_store_device imported = {.mac = "0004f2ffffff", .model = "SPA504G"};
    assert_ok(pv_store_device_upsert(s, &imported, 204, NULL, e));
    imported.model = "CP-8841-3PCC";
    assert_ok(pv_store_device_upsert(s, &imported, 205, NULL, e)); /* re-import, other model */
    counts_agree(s);
    memset(&t, 0, sizeof t);
    assert_ok(pv_store_device_counts(s, PV_DEVICE_BY_MODEL, 16, add, &t, e));
    assert_int_equal(count_of(&t, "CP-7841-3PCC"), 1);
    memset(&t, 0, sizeof t);
    assert_ok(pv_store_device_counts(s, PV_DEVICE_BY_FIRMWARE, 16, add, &t, e));
    assert_int_equal(count_of(&t, "sip88xx.12-1-0MPP-beta"), 2);

    /* Folded, then changed again: the same answers. */
    assert_ok(pv_store_device_counts_fold(s, e));
    counts_agree(s);
    assert_ok(pv_store_device_delete(s, "0004f2000000", e));
    counts_agree(s);
    memset(&t, 0, sizeof t);
    assert_ok(pv_store_device_counts(s, PV_DEVICE_BY_MODEL, 16, add, &t, e));
    assert_int_equal(count_of(&t, "CP-7841-3PCC"), 0); /* its last device gone: no bar */
}

/* Schema step 8 on a database that already holds devices (made with every step, then step 8
 * taken back as an older provisor would have left it): the counts start from them. */
static void step8_counts_the_devices_already_there(void **state)
{
    store_fixture *f = *state;
    pv_store *s = S(state);
    int64_t acct[2];
    seed(s, acct);
    assert_int_equal(pv_store_schema_known(), 11);
    bool pg = store_test_pg() != NULL;
    pv_store_close(s);
    f->s = NULL;
    /* steps 11 and 10 first (the import jobs, which know nothing of devices), then 9, then 8 */
    store_test_sql(f->db, "DROP TABLE import_errors; DROP TABLE import_files; DROP TABLE import_jobs; "
                          "DELETE FROM schema_version WHERE version >= 10");
    store_test_sql(f->db, pg ? "DROP TRIGGER devices_seen_day ON devices; "
                               "DROP FUNCTION devices_seen_day(); DROP INDEX devices_seen; "
                               "ALTER TABLE devices DROP COLUMN seen_day; "
                               "DELETE FROM schema_version WHERE version = 9"
                             : "DROP TRIGGER devices_seen_day; DROP TRIGGER devices_seen_day_insert; "
                               "DROP INDEX devices_seen; ALTER TABLE devices DROP COLUMN seen_day; "
                               "DELETE FROM schema_version WHERE version = 9");
    store_test_sql(f->db, pg ? "DROP TRIGGER devices_counted ON devices; "
                               "DROP TRIGGER devices_counted_update ON devices; "
                               "DROP FUNCTION devices_counted(); "
                               "DROP TABLE device_counts; DROP TABLE device_count_changes; "
                               "DROP INDEX devices_state; DROP INDEX devices_model; "
                               "DROP INDEX devices_firmware; "
                               "DELETE FROM schema_version WHERE version = 8"
                             : "DROP TRIGGER devices_counted_insert; "
                               "DROP TRIGGER devices_counted_delete; "
                               "DROP TRIGGER devices_counted_update; "
                               "DROP TABLE device_counts; DROP TABLE device_count_changes; "
                               "DROP INDEX devices_state; DROP INDEX devices_model; "
                               "DROP INDEX devices_firmware; "
                               "DELETE FROM schema_version WHERE version = 8");
    assert_ok(pv_store_open(f->db, &f->s, e));
    int applied = 0;
    assert_ok(pv_store_migrate(f->s, &applied, e));
    assert_int_equal(applied, 4);
    counts_agree(f->s);
    /* and step 9 took the days of the devices already seen: "seen since 101" finds them */
    pv_store_device_query q = {.seen_since = 101};
    pv_store_page page = {.limit = 300};
    pv_store_device *rows = NULL;
    size_t n = 0;
    assert_ok(pv_store_device_find(f->s, &q, &page, &rows, &n, e));
    assert_int_equal(n, 194); /* 211 less the 17 MFG-RESET never seen */
    pv_store_devices_free(rows, n);
    assert_ok(pv_store_device_delete(f->s, "0004f2001eef", e)); /* and follow on */
    counts_agree(f->s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(every_filter_combination_pages_through_its_devices),
        STORE_TEST(last_seen_ranges_page_through_their_devices),
        STORE_TEST(scope_groups_cover_every_device),
        STORE_TEST(counts_follow_every_change),
        STORE_TEST(step8_counts_the_devices_already_there),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
