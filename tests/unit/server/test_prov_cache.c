/* Unit tests for server/prov_cache on a real store (SQLite; PostgreSQL in
 * integration.store_postgres): an entry answers until the store's change log names its
 * device, account, model or "global"; another account's change keeps it; the entry and byte
 * bounds evict the least recently used; the counters say so. The flows as users make them:
 * integration.profile_cache_sqlite and _postgres.
 * Covers src/server/prov_cache.c and src/store/store_changes.c (the change log it reads). */
#include "store/store_test.h"

#include "server/keys.h"
#include "server/prov_cache.h"
#include "server/render.h"

#include <string.h>

#define NDEV 10
static const char *const macs[NDEV] = {"000e08000001", "000e08000002", "000e08000003",
                                       "000e08000004", "000e08000005", "000e08000006",
                                       "000e08000007", "000e08000008", "000e08000009",
                                       "000e0800000a"};

/* Two accounts, ten devices of one model with keys; the first two in account 1. */
static void seed(store_fixture *f)
{
    char keyfile[320];
    snprintf(keyfile, sizeof keyfile, "%s/master.key", f->dir);
    assert_ok(pv_store_secrets_load(f->s, keyfile, true, e));
    int64_t a1, a2;
    pv_store_account a = {.name = "C-1", .settings = "{}"};
    assert_ok(pv_store_account_create(f->s, &a, 1000, &a1, e));
    a.name = "C-2";
    assert_ok(pv_store_account_create(f->s, &a, 1000, &a2, e));
    for (size_t i = 0; i < NDEV; i++) {
        pv_store_device d = {.model = "SPA504G", .account_id = i < 2 ? a1 : a2};
        memcpy(d.mac, macs[i], sizeof d.mac);
        assert_ok(pv_store_device_create(f->s, &d, 1000, e));
        pv_store_secret sec;
        assert_ok(pv_keys_issue(f->s, macs[i], 1000, &sec, e));
    }
    assert_ok(pv_store_param_put(f->s, "global", "Proxy_1_", "p.example", NULL, 1000, e));
}

/* What a fetch from the current directory does on a miss: load, render, keep. */
static void fill(store_fixture *f, pv_prov_cache *c, const char *mac)
{
    pv_prov_cache_sync(c, f->s);
    pv_prov_policy pol;
    pv_prov_policy_defaults(&pol);
    pv_store_render_input in;
    assert_ok(pv_store_render_load(f->s, mac, true, &in, e));
    assert_true(in.has_secret);
    pv_render_options o = {.policy = &pol, .host = "prov", .serve = &in.current,
                           .deliver = &in.current};
    pv_render_output out = {0};
    assert_ok(pv_render_loaded(f->s, &in, &o, &out, e));
    pv_prov_cache_put(c, &in, in.current.id, in.current.id, "prov", &out);
    pv_render_output_free(&out);
    pv_store_render_input_free(&in);
}

static const pv_prov_cached *get(store_fixture *f, pv_prov_cache *c, const char *mac)
{
    pv_prov_cache_sync(c, f->s);
    return pv_prov_cache_get(c, mac);
}

static void answers_until_the_log_names_it(void **state)
{
    store_fixture *f = *state;
    seed(f);
    pv_prov_cache *c = pv_prov_cache_new(16, 0, 60000); /* only this process's writes count */
    for (size_t i = 0; i < 3; i++)
        fill(f, c, macs[i]);
    const pv_prov_cached *x = get(f, c, macs[0]);
    assert_non_null(x);
    assert_string_equal(x->dev.mac, macs[0]);
    assert_non_null(pv_prov_cache_answer(x, x->cur.id, x->cur.id, "prov"));
    assert_null(pv_prov_cache_answer(x, x->cur.id, x->cur.id, "other-host"));
    assert_int_equal(pv_prov_cache_entries(c), 3);

    /* Last-seen is not a change; a quiet handle's writes do not even make the loop look. */
    assert_ok(pv_store_device_seen(f->s, macs[0], 1001, "7.5", "e", "h", "127.0.0.1", e));
    assert_non_null(get(f, c, macs[0]));

    /* Account 1's layer: its two devices go, account 2's stays. */
    assert_ok(pv_store_param_put(f->s, "account:1", "X", "1", NULL, 1002, e));
    assert_null(get(f, c, macs[0]));
    assert_null(get(f, c, macs[1]));
    assert_non_null(get(f, c, macs[2]));

    /* One device's layer: that one only. */
    fill(f, c, macs[0]);
    fill(f, c, macs[1]);
    char scope[32];
    snprintf(scope, sizeof scope, "device:%s", macs[1]);
    assert_ok(pv_store_param_put(f->s, scope, "X", "2", NULL, 1003, e));
    assert_non_null(get(f, c, macs[0]));
    assert_null(get(f, c, macs[1]));

    /* A rotation (a second secret, the first retired later): that device. */
    fill(f, c, macs[1]);
    pv_store_secret next;
    assert_ok(pv_keys_rotate(f->s, macs[2], 1004, &next, e));
    assert_null(get(f, c, macs[2]));
    assert_non_null(get(f, c, macs[1]));

    /* The model's plan, then the global layer: everything. */
    fill(f, c, macs[2]);
    assert_ok(pv_store_param_put(f->s, "model:SPA504G", "X", "3", NULL, 1005, e));
    for (size_t i = 0; i < 3; i++)
        assert_null(get(f, c, macs[i]));
    for (size_t i = 0; i < 3; i++)
        fill(f, c, macs[i]);
    assert_ok(pv_store_param_put(f->s, "global", "X", "4", NULL, 1006, e));
    for (size_t i = 0; i < 3; i++)
        assert_null(get(f, c, macs[i]));

    /* A release: gone. */
    fill(f, c, macs[0]);
    assert_ok(pv_store_device_release(f->s, macs[0], 1007, e));
    assert_null(get(f, c, macs[0]));
    pv_prov_cache_free(c);
}

/* Another process's change (here: another handle, quiet like a loop's batch, standing for a
 * second node) is seen once check_ms passed, not before. */
static void another_node_within_check_ms(void **state)
{
    store_fixture *f = *state;
    seed(f);
    pv_prov_cache *c = pv_prov_cache_new(16, 0, 60000);
    fill(f, c, macs[0]);
    pv_store_quiet_writes(f->s, true);
    assert_ok(pv_store_param_put(f->s, "global", "X", "5", NULL, 1008, e));
    pv_store_quiet_writes(f->s, false);
    assert_non_null(get(f, c, macs[0])); /* within the 60 s bound: still the cached answer */
    pv_prov_cache_free(c);
    c = pv_prov_cache_new(16, 0, 1);
    fill(f, c, macs[0]);
    pv_store_quiet_writes(f->s, true);
    assert_ok(pv_store_param_put(f->s, "global", "X", "6", NULL, 1009, e));
    pv_store_quiet_writes(f->s, false);
    struct timespec ms = {0, 20 * 1000000}; /* past the 1 ms bound (coarse clock: 4 ms ticks) */
    nanosleep(&ms, NULL);
    assert_null(get(f, c, macs[0]));
    pv_prov_cache_free(c);
}

static void bounded_least_recently_used_first(void **state)
{
    store_fixture *f = *state;
    seed(f);
    pv_buf m = {0};
    pv_prov_cache_render(&m);
    assert_non_null(strstr(m.data, "provisor_profile_cache_evictions_total"));
    pv_buf_free(&m);
    pv_prov_cache *c = pv_prov_cache_new(2, 0, 60000);
    fill(f, c, macs[0]);
    fill(f, c, macs[1]);
    assert_non_null(get(f, c, macs[0])); /* 0 is now the most recently used */
    fill(f, c, macs[2]);
    assert_int_equal(pv_prov_cache_entries(c), 2);
    assert_null(get(f, c, macs[1]));
    assert_non_null(get(f, c, macs[0]));
    assert_non_null(get(f, c, macs[2]));
    size_t one = pv_prov_cache_bytes(c) / 2;
    pv_prov_cache_free(c);
    /* Bytes: room for eight bodies (each at most an eighth of the budget), ten filled. */
    size_t budget = 8 * one + one / 2;
    c = pv_prov_cache_new(16, budget, 60000);
    for (size_t i = 0; i < NDEV; i++)
        fill(f, c, macs[i]);
    assert_true(pv_prov_cache_bytes(c) <= budget);
    assert_int_equal(pv_prov_cache_entries(c), 8);
    assert_null(get(f, c, macs[0])); /* the oldest went */
    assert_non_null(get(f, c, macs[NDEV - 1]));
    pv_prov_cache_free(c);
    /* A body over an eighth of the budget is not kept at all. */
    c = pv_prov_cache_new(16, 4 * one, 60000);
    fill(f, c, macs[0]);
    assert_int_equal(pv_prov_cache_entries(c), 0);
    assert_int_equal(pv_prov_cache_bytes(c), 0);
    pv_prov_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(answers_until_the_log_names_it),
        STORE_TEST(another_node_within_check_ms),
        STORE_TEST(bounded_least_recently_used_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
