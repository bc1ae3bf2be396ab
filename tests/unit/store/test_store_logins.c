/* Logins and sessions in the store (issue 10 item 3), on SQLite and, under
 * integration.store_postgres, on PostgreSQL: ownership by one account,
 * role rules, the lockout counter, sessions kept hashed, expiry, cascade.
 * Covers src/store/store_logins.c. */
#include "store_test.h"

#include <string.h>

#define HASH                                                                                       \
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA"
#define TOKEN_A "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define TOKEN_B "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

static int64_t make_account(pv_store *s, const char *name)
{
    pv_store_account a = {.name = (char *)name};
    int64_t id = 0;
    assert_ok(pv_store_account_create(s, &a, 1, &id, e));
    return id;
}

static void logins_belong_to_one_account(void **state)
{
    store_fixture *f = *state;
    pv_store *s = f->s;
    int64_t acme = make_account(s, "acme"), other = make_account(s, "other");
    pv_error err = {""};

    pv_store_login l = {.name = "alice@acme.example",
                        .account_id = acme,
                        .role = "customer",
                        .password_hash = HASH};
    int64_t id = 0;
    assert_ok(pv_store_login_create(s, &l, 10, &id, e));
    assert_true(id > 0);
    /* names are unique over every account */
    l.account_id = other;
    assert_int_equal(pv_store_login_create(s, &l, 10, NULL, &err), PV_EEXIST);
    assert_non_null(strstr(err.msg, "taken"));
    /* a customer needs an account, an operator must have none */
    pv_store_login bad = {.name = "bob", .role = "customer", .password_hash = HASH};
    assert_int_equal(pv_store_login_create(s, &bad, 10, NULL, &err), PV_EINVAL);
    bad = (pv_store_login){
        .name = "op", .account_id = acme, .role = "operator", .password_hash = HASH};
    assert_int_equal(pv_store_login_create(s, &bad, 10, NULL, &err), PV_EINVAL);
    bad.account_id = 0;
    assert_ok(pv_store_login_create(s, &bad, 10, NULL, e));
    bad = (pv_store_login){.name = "root", .role = "root", .password_hash = HASH};
    assert_int_equal(pv_store_login_create(s, &bad, 10, NULL, &err), PV_EINVAL);
    /* no plain passwords, no odd names */
    bad = (pv_store_login){.name = "carol", .account_id = acme, .password_hash = "hunter22"};
    assert_int_equal(pv_store_login_create(s, &bad, 10, NULL, &err), PV_EINVAL);
    bad = (pv_store_login){.name = "car ol", .account_id = acme, .password_hash = HASH};
    assert_int_equal(pv_store_login_create(s, &bad, 10, NULL, &err), PV_EINVAL);
    bad.name = "carol";
    assert_ok(pv_store_login_create(s, &bad, 11, NULL, e));

    pv_store_login got = {0};
    assert_ok(pv_store_login_get(s, "alice@acme.example", &got, e));
    assert_int_equal(got.account_id, acme);
    assert_string_equal(got.role, "customer");
    assert_string_equal(got.password_hash, HASH);
    assert_int_equal(got.last_login_at, 0);
    pv_store_login_free(&got);

    /* one account's list, then everyone's */
    pv_store_page page = {0};
    pv_store_login *rows = NULL;
    size_t n = 0;
    assert_ok(pv_store_login_list(s, acme, &page, &rows, &n, e));
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].name, "alice@acme.example");
    assert_string_equal(rows[1].name, "carol");
    pv_store_logins_free(rows, n);
    assert_ok(pv_store_login_list(s, 0, &page, &rows, &n, e));
    assert_int_equal(n, 3);
    assert_string_equal(rows[1].role, "operator");
    pv_store_logins_free(rows, n);

    /* the account goes, its logins (and their sessions) with it */
    assert_ok(pv_store_session_create(s, TOKEN_A, id, 20, 1000, e));
    assert_ok(pv_store_account_delete(s, acme, e));
    assert_int_equal(pv_store_login_get(s, "alice@acme.example", &got, &err), PV_ENOENT);
    assert_int_equal(pv_store_session_get(s, TOKEN_A, 21, 0, NULL, &err), PV_ENOENT);
    assert_ok(pv_store_login_get(s, "op", &got, e));
    pv_store_login_free(&got);
}

static void failures_lock_and_success_clears(void **state)
{
    store_fixture *f = *state;
    pv_store *s = f->s;
    int64_t acme = make_account(s, "acme");
    pv_store_login l = {.name = "alice", .account_id = acme, .password_hash = HASH};
    int64_t id = 0;
    assert_ok(pv_store_login_create(s, &l, 10, &id, e));
    pv_store_login after = {0};
    for (int i = 1; i <= 2; i++) {
        assert_ok(pv_store_login_failed(s, id, 100, 3, 900, &after, e));
        assert_int_equal(after.failed_count, i);
        assert_int_equal(after.locked_until, 0);
        pv_store_login_free(&after);
    }
    assert_ok(pv_store_login_failed(s, id, 100, 3, 900, &after, e));
    assert_int_equal(after.locked_until, 1000);
    pv_store_login_free(&after);
    /* once the lock has ended, a further failure locks again at once */
    assert_ok(pv_store_login_failed(s, id, 2000, 3, 900, &after, e));
    assert_int_equal(after.locked_until, 2900);
    pv_store_login_free(&after);
    assert_ok(pv_store_login_succeeded(s, id, 3000, e));
    assert_ok(pv_store_login_get(s, "alice", &after, e));
    assert_int_equal(after.failed_count, 0);
    assert_int_equal(after.locked_until, 0);
    assert_int_equal(after.last_login_at, 3000);
    pv_store_login_free(&after);

    /* a new password unlocks and ends the sessions */
    assert_ok(pv_store_login_failed(s, id, 3100, 1, 900, NULL, e));
    assert_ok(pv_store_session_create(s, TOKEN_A, id, 3100, 9000, e));
    assert_ok(pv_store_login_set_password(s, "alice", HASH "x", 3200, e));
    assert_ok(pv_store_login_get(s, "alice", &after, e));
    assert_int_equal(after.locked_until, 0);
    assert_string_equal(after.password_hash, HASH "x");
    pv_store_login_free(&after);
    pv_error err = {""};
    assert_int_equal(pv_store_session_get(s, TOKEN_A, 3201, 0, NULL, &err), PV_ENOENT);
    assert_int_equal(pv_store_login_set_password(s, "nobody", HASH, 1, &err), PV_ENOENT);
}

static void sessions_expire_idle_and_end(void **state)
{
    store_fixture *f = *state;
    pv_store *s = f->s;
    int64_t acme = make_account(s, "acme");
    pv_store_login l = {.name = "alice", .account_id = acme, .password_hash = HASH};
    int64_t id = 0;
    assert_ok(pv_store_login_create(s, &l, 10, &id, e));
    pv_error err = {""};
    assert_int_equal(pv_store_session_create(s, "short", id, 100, 200, &err), PV_EINVAL);
    assert_ok(pv_store_session_create(s, TOKEN_A, id, 100, 1000, e));
    assert_ok(pv_store_session_create(s, TOKEN_B, id, 100, 5000, e));

    pv_store_session ses = {0};
    assert_ok(pv_store_session_get(s, TOKEN_A, 150, 60, &ses, e));
    assert_int_equal(ses.login_id, id);
    assert_int_equal(ses.expires_at, 1000);
    /* the token itself is not the key: deleting by it from outside removes nothing */
    store_test_sql(f->db, "DELETE FROM sessions WHERE token_hash = '" TOKEN_A "'");
    assert_ok(pv_store_session_get(s, TOKEN_A, 150, 60, NULL, e));
    /* idle too long: gone */
    assert_int_equal(pv_store_session_get(s, TOKEN_A, 160, 60, NULL, &err), PV_ENOENT);
    assert_int_equal(pv_store_session_get(s, TOKEN_A, 161, 0, NULL, &err), PV_ENOENT);
    /* touched, the other lives on, until its absolute end */
    assert_ok(pv_store_session_touch(s, TOKEN_B, 4000, e));
    assert_ok(pv_store_session_get(s, TOKEN_B, 4050, 60, NULL, e));
    assert_int_equal(pv_store_session_get(s, TOKEN_B, 5000, 0, NULL, &err), PV_ENOENT);
    /* logout */
    assert_ok(pv_store_session_create(s, TOKEN_A, id, 6000, 9000, e));
    assert_ok(pv_store_session_delete(s, TOKEN_A, e));
    assert_ok(pv_store_session_delete(s, TOKEN_A, e));
    assert_int_equal(pv_store_session_get(s, TOKEN_A, 6001, 0, NULL, &err), PV_ENOENT);
    /* pruning bounded by chunk */
    assert_ok(pv_store_session_create(s, TOKEN_A, id, 6000, 6500, e));
    assert_ok(pv_store_session_create(s, TOKEN_B, id, 6000, 6600, e));
    int64_t deleted = 0;
    assert_ok(pv_store_session_prune(s, 7000, 0, 1, &deleted, e));
    assert_int_equal(deleted, 1);
    assert_ok(pv_store_session_prune(s, 7000, 0, 10, &deleted, e));
    assert_int_equal(deleted, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(logins_belong_to_one_account),
        STORE_TEST(failures_lock_and_success_clears),
        STORE_TEST(sessions_expire_idle_and_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
