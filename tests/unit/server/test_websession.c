/* Web logins over a real SQLite store (server/websession.h, password.h):
 * argon2id hashes that verify, the same answer for an unknown name and a
 * wrong password, the lockout and the per-address rate limit, sessions that
 * open by their cookie, CSRF tokens bound to one session, logout. */
#include "store/store_test.h"

#include "server/password.h"
#include "server/websession.h"

#include <string.h>

static void passwords_hash_with_argon2id(void **state)
{
    char *hash = NULL;
    pv_error err = {""};
    assert_int_equal(pv_password_hash("short", 5, &hash, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "at least 8"));
    assert_int_equal(pv_password_hash("tab\there!", 9, &hash, &err), PV_EINVAL);
    /* eight characters of Japanese are eight, not 24 bytes' worth */
    const char *jp = "\xe3\x81\x82\xe3\x81\x84\xe3\x81\x86\xe3\x81\x88\xe3\x81\x8a\xe3\x81\x8b"
                     "\xe3\x81\x8d\xe3\x81\x8f";
    assert_int_equal(pv_password_check(jp, strlen(jp) - 3, &err), PV_EINVAL);
    assert_int_equal(pv_password_check(jp, strlen(jp), &err), 0);

    assert_int_equal(pv_password_hash("correct horse", 13, &hash, &err), 0);
    assert_true(strncmp(hash, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
    assert_false(pv_password_needs_rehash(hash));
    assert_true(pv_password_needs_rehash("$argon2id$v=19$m=4096,t=1,p=1$x$y"));
    assert_int_equal(pv_password_verify(hash, "correct horse", 13, &err), 0);
    assert_int_equal(pv_password_verify(hash, "correct horsE", 13, &err), PV_EACCES);
    assert_int_equal(pv_password_verify("plain", "plain", 5, &err), PV_EINVAL);
    char *again = NULL;
    assert_int_equal(pv_password_hash("correct horse", 13, &again, &err), 0);
    assert_string_not_equal(hash, again); /* a fresh salt each time */
    free(hash);
    free(again);
}

static bool customers_only(pv_role r)
{
    return r == PV_ROLE_CUSTOMER;
}

/* A customer login "alice" with password "correct horse" on a fresh account. */
static void make_alice(pv_store *s)
{
    pv_store_account a = {.name = "acme"};
    int64_t acme = 0;
    assert_ok(pv_store_account_create(s, &a, 1, &acme, e));
    char *hash = NULL;
    assert_ok(pv_password_hash("correct horse", 13, &hash, e));
    pv_store_login l = {.name = "alice", .account_id = acme, .password_hash = hash};
    assert_ok(pv_store_login_create(s, &l, 1, NULL, e));
    free(hash);
}

static void login_session_csrf_logout(void **state)
{
    store_fixture *f = *state;
    pv_store *s = f->s;
    make_alice(s);
    pv_websession_policy p;
    pv_websession_policy_default(&p);
    pv_login_outcome out;
    int64_t retry = 0;
    pv_websession w = {0};
    assert_ok(pv_websession_login(s, &p, "192.0.2.1", "alice", "correct horse", 13, customers_only,
                                  1000, &out, &retry, &w, e));
    assert_int_equal(out, PV_LOGIN_OK);
    assert_int_equal(strlen(w.token), PV_WEBSESSION_TOKEN_LEN);
    assert_null(w.login.password_hash);
    assert_string_equal(w.login.name, "alice");
    assert_int_equal(w.expires_at, 1000 + p.lifetime_seconds);

    pv_websession opened = {0};
    assert_ok(pv_websession_open(s, &p, w.token, 1100, &opened, e));
    assert_string_equal(opened.csrf, w.csrf);
    assert_true(pv_websession_csrf_ok(&opened, w.csrf));
    assert_false(pv_websession_csrf_ok(&opened, NULL));
    assert_false(pv_websession_csrf_ok(&opened, w.token));
    /* another session of the same person has another CSRF token */
    pv_websession other = {0};
    assert_ok(pv_websession_login(s, &p, "192.0.2.1", "alice", "correct horse", 13, customers_only,
                                  1000, &out, &retry, &other, e));
    assert_string_not_equal(other.csrf, w.csrf);
    assert_false(pv_websession_csrf_ok(&opened, other.csrf));
    pv_websession_free(&opened);

    /* idle beyond the limit: gone; the other, used, stays */
    pv_error err = {""};
    assert_ok(pv_websession_open(s, &p, other.token, 999 + p.idle_seconds, &opened, e));
    pv_websession_free(&opened);
    assert_int_equal(pv_websession_open(s, &p, w.token, 1100 + p.idle_seconds, &opened, &err),
                     PV_ENOENT);
    assert_ok(pv_websession_logout(s, other.token, e));
    assert_int_equal(pv_websession_open(s, &p, other.token, 1000 + p.idle_seconds, &opened, &err),
                     PV_ENOENT);
    assert_int_equal(pv_websession_open(s, &p, "forged", 1000, &opened, &err), PV_ENOENT);
    pv_websession_free(&w);
    pv_websession_free(&other);
}

static void wrong_passwords_lock_and_sources_are_throttled(void **state)
{
    store_fixture *f = *state;
    pv_store *s = f->s;
    make_alice(s);
    pv_websession_policy p;
    pv_websession_policy_default(&p);
    p.max_failures = 3;
    p.lock_seconds = 600;
    pv_login_outcome out;
    int64_t retry = 0;
    pv_websession w = {0};
    /* unknown name and wrong password: the same outcome */
    assert_ok(pv_websession_login(s, &p, "a", "mallory", "correct horse", 13, customers_only, 1000,
                                  &out, &retry, &w, e));
    assert_int_equal(out, PV_LOGIN_WRONG);
    for (int i = 0; i < 2; i++) {
        assert_ok(pv_websession_login(s, &p, "a", "alice", "wrong horse!", 12, customers_only, 1000,
                                      &out, &retry, &w, e));
        assert_int_equal(out, PV_LOGIN_WRONG);
    }
    assert_ok(pv_websession_login(s, &p, "a", "alice", "wrong horse!", 12, customers_only, 1000,
                                  &out, &retry, &w, e));
    assert_int_equal(out, PV_LOGIN_LOCKED);
    assert_int_equal(retry, 600);
    /* locked: even the right password is refused until the lock ends */
    assert_ok(pv_websession_login(s, &p, "b", "alice", "correct horse", 13, customers_only, 1300,
                                  &out, &retry, &w, e));
    assert_int_equal(out, PV_LOGIN_LOCKED);
    assert_int_equal(retry, 300);
    assert_ok(pv_websession_login(s, &p, "b", "alice", "correct horse", 13, customers_only, 1600,
                                  &out, &retry, &w, e));
    assert_int_equal(out, PV_LOGIN_OK);
    pv_websession_free(&w);
    /* an operator login cannot log in where only customers may, with the right password */
    char *hash = NULL;
    assert_ok(pv_password_hash("operator pass", 13, &hash, e));
    pv_store_login op = {.name = "op", .role = "operator", .password_hash = hash};
    assert_ok(pv_store_login_create(s, &op, 1, NULL, e));
    free(hash);
    assert_ok(pv_websession_login(s, &p, "b", "op", "operator pass", 13, customers_only, 1601, &out,
                                  &retry, &w, e));
    assert_int_equal(out, PV_LOGIN_WRONG);
    assert_ok(pv_websession_login(s, &p, "b", "op", "operator pass", 13, NULL, 1601, &out, &retry,
                                  &w, e));
    assert_int_equal(out, PV_LOGIN_OK);
    assert_string_equal(w.login.role, "operator");
    pv_websession_free(&w);

    /* one address: attempts_per_minute, then throttled until the minute ends */
    p.attempts_per_minute = 3;
    for (int i = 0; i < 3; i++) {
        assert_ok(pv_websession_login(s, &p, "c", "nobody", "xxxxxxxx", 8, customers_only, 1805,
                                      &out, &retry, &w, e));
        assert_int_equal(out, PV_LOGIN_WRONG);
    }
    assert_ok(pv_websession_login(s, &p, "c", "alice", "correct horse", 13, customers_only, 1806,
                                  &out, &retry, &w, e));
    assert_int_equal(out, PV_LOGIN_THROTTLED);
    assert_int_equal(retry, 54);
    assert_ok(pv_websession_login(s, &p, "c", "alice", "correct horse", 13, customers_only, 1860,
                                  &out, &retry, &w, e));
    assert_int_equal(out, PV_LOGIN_OK);
    pv_websession_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(passwords_hash_with_argon2id),
        STORE_TEST(login_session_csrf_logout),
        STORE_TEST(wrong_passwords_lock_and_sources_are_throttled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
