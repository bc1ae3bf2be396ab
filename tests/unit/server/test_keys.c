/* Unit tests for server/keys on a real SQLite store (DESIGN 6): issue, fetch,
 * confirm, scheduled and forced rotation without stranding a phone, and the
 * constant-time directory compare that never takes a prefix or a longer name. */
#include "server/prov_test.h"

#define MAC "000e08abcdef"

static int64_t history(pv_store *s)
{
    int64_t n = 0;
    assert_ok(pv_store_secret_history(s, MAC, &n, e));
    return n;
}

static void issue_then_first_fetch_confirms(void **state)
{
    store_fixture *f = *state;
    seed_device(f->s, MAC, "CP-8841-3PCC", 0);
    pv_keys_fetch kf;
    pv_error err;
    assert_int_equal(pv_keys_peek(f->s, MAC, &kf, &err), PV_ENOENT); /* nothing issued yet */
    assert_int_equal(pv_keys_fetch_dir(f->s, MAC, PV_SLICE_LIT("x"), 1, 0, &kf, &err), PV_ENOENT);
    pv_store_secret sec;
    assert_ok(pv_keys_issue(f->s, MAC, 2000, &sec, e));
    assert_int_equal(sec.confirmed_at, 0);
    assert_int_equal(strlen(sec.dir), 16);
    char pass[65];
    pv_keys_passphrase(&sec, pass);
    assert_int_equal(strlen(pass), 64);
    assert_int_equal(strspn(pass, "0123456789abcdef"), 64); /* spec 4.2: `openssl enc -k` text */
    /* peek: what `device render` shows, without confirming anything. */
    assert_ok(pv_keys_peek(f->s, MAC, &kf, e));
    assert_int_equal(kf.serve.id, sec.id);
    assert_memory_equal(kf.deliver.key, sec.key, 32);
    assert_false(kf.confirmed_now);
    assert_ok(pv_keys_fetch_dir(f->s, MAC, pv_slice_from(sec.dir), 2001, 86400, &kf, e));
    assert_true(kf.from_current);
    assert_true(kf.confirmed_now);
    assert_false(kf.rotated);
    assert_int_equal(kf.serve.confirmed_at, 2001);
    /* Confirmation happens once. */
    assert_ok(pv_keys_fetch_dir(f->s, MAC, pv_slice_from(sec.dir), 2002, 86400, &kf, e));
    assert_false(kf.confirmed_now);
    assert_int_equal(kf.serve.confirmed_at, 2001);
    assert_int_equal(history(f->s), 1);
}

static void rotation_never_strands(void **state)
{
    store_fixture *f = *state;
    seed_device(f->s, MAC, "SPA504G", 0);
    const int64_t period = 1000;
    pv_store_secret a;
    pv_keys_fetch kf;
    assert_ok(pv_keys_issue(f->s, MAC, 0, &a, e));
    assert_ok(pv_keys_fetch_dir(f->s, MAC, pv_slice_from(a.dir), 10, period, &kf, e));
    /* Not due yet. */
    assert_ok(pv_keys_fetch_dir(f->s, MAC, pv_slice_from(a.dir), 999, period, &kf, e));
    assert_false(kf.rotated);
    /* Due: this answer is still encrypted with A and carries B inside. */
    assert_ok(pv_keys_fetch_dir(f->s, MAC, pv_slice_from(a.dir), 1000, period, &kf, e));
    assert_true(kf.rotated);
    assert_int_equal(kf.serve.id, a.id);
    assert_memory_equal(kf.serve.key, a.key, 32);
    pv_store_secret b = kf.deliver;
    assert_int_not_equal(b.id, a.id);
    assert_string_not_equal(b.dir, a.dir);
    assert_memory_not_equal(b.key, a.key, 32);
    /* The phone missed that answer and keeps asking from A's directory for a
     * long time: every answer opens with A and hands it B again; no new
     * secret piles up. */
    for (int64_t t = 1001; t < 1000 + 5 * period; t += period) {
        assert_ok(pv_keys_fetch_dir(f->s, MAC, pv_slice_from(a.dir), t, period, &kf, e));
        assert_false(kf.from_current);
        assert_false(kf.rotated);
        assert_int_equal(kf.serve.id, a.id);
        assert_int_equal(kf.deliver.id, b.id);
    }
    assert_int_equal(history(f->s), 2);
    /* It fetches from B's directory: B confirmed, A retired. */
    assert_ok(pv_keys_fetch_dir(f->s, MAC, pv_slice_from(b.dir), 7000, period, &kf, e));
    assert_true(kf.confirmed_now);
    assert_int_equal(kf.serve.id, b.id);
    pv_error err;
    assert_int_equal(pv_keys_fetch_dir(f->s, MAC, pv_slice_from(a.dir), 7001, period, &kf, &err),
                     PV_ENOENT);
    assert_null(strstr(err.msg, a.dir)); /* a directory is a secret: never echoed */
    /* period 0 never rotates. */
    assert_ok(pv_keys_fetch_dir(f->s, MAC, pv_slice_from(b.dir), 1000000, 0, &kf, e));
    assert_false(kf.rotated);
    assert_int_equal(history(f->s), 2);
}

/* An operator's forced rotation while one is pending must not retire the key
 * the phone still holds (DESIGN 6): the pending secret is kept, not stacked. */
static void forced_rotation_keeps_the_held_key(void **state)
{
    store_fixture *f = *state;
    seed_device(f->s, MAC, "SPA504G", 0);
    pv_store_secret a, b, c;
    pv_keys_fetch kf;
    assert_ok(pv_keys_issue(f->s, MAC, 0, &a, e));
    assert_ok(pv_keys_fetch_dir(f->s, MAC, pv_slice_from(a.dir), 1, 0, &kf, e)); /* holds A */
    assert_ok(pv_keys_rotate(f->s, MAC, 2, &b, e));
    assert_ok(pv_keys_rotate(f->s, MAC, 3, &c, e)); /* again, before the phone came */
    /* The phone, holding only A, still gets an answer it can open. */
    assert_ok(pv_keys_fetch_dir(f->s, MAC, pv_slice_from(a.dir), 4, 0, &kf, e));
    assert_int_equal(kf.serve.id, a.id);
    assert_int_equal(kf.deliver.id, c.id);
    assert_ok(pv_keys_fetch_dir(f->s, MAC, pv_slice_from(c.dir), 5, 0, &kf, e));
    assert_true(kf.confirmed_now);
    /* Once confirmed, a forced rotation starts a new one at once. */
    pv_store_secret d;
    assert_ok(pv_keys_rotate(f->s, MAC, 6, &d, e));
    assert_int_not_equal(d.id, c.id);
    assert_int_equal(d.confirmed_at, 0);
}

static void directory_compare_is_exact(void **state)
{
    store_fixture *f = *state;
    seed_device(f->s, MAC, "SPA504G", 0);
    pv_store_secret a;
    assert_ok(pv_keys_issue(f->s, MAC, 0, &a, e));
    pv_keys_fetch kf;
    char longer[80], wrong[80], huge[200];
    snprintf(longer, sizeof longer, "%sx", a.dir);
    snprintf(wrong, sizeof wrong, "%s", a.dir);
    wrong[15] = wrong[15] == 'a' ? 'b' : 'a';
    memset(huge, 'a', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    pv_slice bad[] = {pv_slice_make(a.dir, 15), pv_slice_make(a.dir, 0), pv_slice_from(longer),
                      pv_slice_from(wrong), pv_slice_from(huge)};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pv_keys_fetch_dir(f->s, MAC, bad[i], 1, 0, &kf, NULL), PV_ENOENT);
    /* Nothing was confirmed by the misses. */
    assert_ok(pv_keys_peek(f->s, MAC, &kf, e));
    assert_int_equal(kf.serve.confirmed_at, 0);
    /* A directory the operator chose, at its longest (63 characters). */
    char dir63[64];
    memset(dir63, 'Z', 63);
    dir63[63] = '\0';
    pv_store_secret b;
    assert_ok(pv_store_secret_rotate(f->s, MAC, NULL, dir63, 2, &b, e));
    assert_ok(pv_keys_fetch_dir(f->s, MAC, pv_slice_from(dir63), 3, 0, &kf, e));
    assert_true(kf.confirmed_now);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PROV_TEST(issue_then_first_fetch_confirms),
        PROV_TEST(rotation_never_strands),
        PROV_TEST(forced_rotation_keeps_the_held_key),
        PROV_TEST(directory_compare_is_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
