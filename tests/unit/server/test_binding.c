/* Unit tests for server/binding on a real SQLite store (DESIGN 5): single use,
 * expiry, attempt limits per MAC and failure budgets per MAC, source and code
 * prefix (429) that a launch day never meets, no counter for strangers, the
 * lost answer given again, the release a bound device needs, the exact match
 * of codes, the SEC-PRV-1 profile, and codes never whole in a log line. */
#include "server/prov_test.h"

#include "core/param.h"
#include "core/xml_profile.h"
#include "server/binding.h"

#define MAC_A "000e08aaaaaa"
#define MAC_B "000e08bbbbbb"

static pv_ident ident_of(const pv_peer_identity *cert)
{
    pv_ident id;
    pv_error err;
    assert_int_equal(pv_identify(cert, PV_SLICE_LIT("/init/x"), PV_SLICE_LIT(""), &id, &err), 0);
    return id;
}

static pv_binding_result redeem(pv_store *s, const char *mac, const char *code, const char *src,
                                int64_t now)
{
    pv_peer_identity cert = phone_cert(mac, "SPA504G");
    pv_ident id = ident_of(&cert);
    pv_binding_result res;
    assert_ok(pv_binding_redeem(s, &id, pv_slice_from(code), src, now, &res, e));
    return res;
}

static bool device_exists(pv_store *s, const char *mac)
{
    pv_store_device d = {0};
    bool found = pv_store_device_get(s, mac, &d, NULL) == 0;
    pv_store_device_free(&d);
    return found;
}

static void binds_once(void **state)
{
    store_fixture *f = *state;
    int64_t acct = seed_account(f->s, "C-1");
    assert_ok(pv_store_code_create(f->s, acct, "AB12CD34ef", 5000, 0, 1000, NULL, e));
    log_capture_start();
    pv_binding_result res = redeem(f->s, MAC_A, "AB12CD34ef", "10.0.0.1", 2000);
    log_capture_stop();
    assert_int_equal(res.status, 200);
    assert_int_equal(res.account_id, acct);
    assert_string_equal(res.hint, "AB");
    pv_store_device d = {0};
    assert_ok(pv_store_device_get(f->s, MAC_A, &d, e));
    assert_int_equal(d.state, PV_STATE_SEC_PRV_1);
    assert_int_equal(d.account_id, acct);
    assert_string_equal(d.model, "SPA504G");
    assert_string_equal(d.serial, "SN" MAC_A);
    pv_peer_identity cert = phone_cert(MAC_A, "SPA504G");
    assert_string_equal(d.cert_fingerprint, cert.fingerprint);
    pv_store_device_free(&d);
    /* The secret handed out is the store's current one, unconfirmed. */
    pv_keys_fetch kf;
    assert_ok(pv_keys_peek(f->s, MAC_A, &kf, e));
    assert_int_equal(kf.serve.id, res.secret.id);
    assert_memory_equal(kf.serve.key, res.secret.key, 32);
    assert_int_equal(kf.serve.confirmed_at, 0);
    /* Single use: another phone, the same code. */
    res = redeem(f->s, MAC_B, "AB12CD34ef", "10.0.0.2", 2001);
    assert_int_equal(res.status, 403);
    assert_non_null(strstr(res.reason, "already used"));
    assert_false(device_exists(f->s, MAC_B));
    assert_null(strstr(captured_log.data ? captured_log.data : "", "AB12CD34ef"));
}

static void expired_unknown_and_near_codes_bind_nothing(void **state)
{
    store_fixture *f = *state;
    int64_t acct = seed_account(f->s, "C-1");
    assert_ok(pv_store_code_create(f->s, acct, "EX99EX99zz", 1500, 0, 1000, NULL, e));
    assert_ok(pv_store_code_create(f->s, acct, "GOOD1234xy", 9000, 0, 1000, NULL, e));
    pv_binding_result res = redeem(f->s, MAC_A, "EX99EX99zz", "10.0.0.1", 2000);
    assert_int_equal(res.status, 403);
    assert_non_null(strstr(res.reason, "expired"));
    /* Only the exact code: a prefix, a longer string, another case, one
     * character off (the store compares SHA-256 digests, never the text). */
    const char *near[] = {"GOOD1234x", "GOOD1234xyz", "good1234xy",     "GOOD1234xz", "G",
                          "",          "GOOD 1234xy", "GOOD1234xy/../x"};
    for (size_t i = 0; i < sizeof near / sizeof near[0]; i++) {
        res = redeem(f->s, MAC_A, near[i], "10.0.0.1", 2000);
        assert_int_equal(res.status, 403);
    }
    assert_false(device_exists(f->s, MAC_A));
    res = redeem(f->s, MAC_A, "GOOD1234xy", "10.0.0.1", 2000);
    assert_int_equal(res.status, 200);
}

static void needs_a_verified_certificate_with_a_mac(void **state)
{
    store_fixture *f = *state;
    int64_t acct = seed_account(f->s, "C-1");
    assert_ok(pv_store_code_create(f->s, acct, "AB12CD34ef", 5000, 0, 1000, NULL, e));
    pv_ident none = ident_of(NULL);
    pv_binding_result res;
    assert_ok(
        pv_binding_redeem(f->s, &none, PV_SLICE_LIT("AB12CD34ef"), "10.0.0.1", 2000, &res, e));
    assert_int_equal(res.status, 403);
    pv_peer_identity nomac;
    memset(&nomac, 0, sizeof nomac);
    pv_peer_identity_add(&nomac, "CN", "some phone");
    pv_ident id = ident_of(&nomac);
    assert_ok(pv_binding_redeem(f->s, &id, PV_SLICE_LIT("AB12CD34ef"), "10.0.0.1", 2000, &res, e));
    assert_int_equal(res.status, 403);
    /* The code was not spent by those attempts. */
    res = redeem(f->s, MAC_A, "AB12CD34ef", "10.0.0.1", 2000);
    assert_int_equal(res.status, 200);
}

/* A second certificate naming mac (another fingerprint, any manufacturer CA). */
static pv_ident other_cert_of(const char *mac)
{
    pv_peer_identity cert = phone_cert(mac, "SPA504G");
    cert.fingerprint[0] = cert.fingerprint[0] == 'f' ? '0' : 'f';
    return ident_of(&cert);
}

static pv_binding_result redeem_as(pv_store *s, const pv_ident *id, const char *code, int64_t now)
{
    pv_binding_result res;
    assert_ok(pv_binding_redeem(s, id, pv_slice_from(code), "10.0.0.1", now, &res, e));
    return res;
}

static void rate_limits(void **state)
{
    store_fixture *f = *state;
    int64_t acct = seed_account(f->s, "C-1");
    char code[32], mac[13], src[32];
    /* Per source address: PV_BINDING_FAILS_PER_SOURCE wrong codes per window, then 429. */
    for (int i = 0; i < PV_BINDING_FAILS_PER_SOURCE; i++) {
        snprintf(code, sizeof code, "%02dSguess%d", i % 100, i); /* many prefixes */
        snprintf(mac, sizeof mac, "00000001%04x", i);
        assert_int_equal(redeem(f->s, mac, code, "10.0.0.9", 3600).status, 403);
    }
    assert_ok(pv_store_code_create(f->s, acct, "SRC-good-1", 90000, 0, 1000, NULL, e));
    pv_binding_result res = redeem(f->s, MAC_A, "SRC-good-1", "10.0.0.9", 3601);
    assert_int_equal(res.status, 429);
    assert_false(device_exists(f->s, MAC_A)); /* even the right code waits */
    /* The next window opens again. */
    assert_int_equal(redeem(f->s, MAC_A, "SRC-good-1", "10.0.0.9", 7200).status, 200);

    /* Per phone: PV_BINDING_PER_MAC attempts in a window from many addresses, then 429. */
    for (int i = 0; i < PV_BINDING_PER_MAC; i++) {
        snprintf(code, sizeof code, "M%dguess", i);
        snprintf(src, sizeof src, "10.1.0.%d", i);
        assert_int_equal(redeem(f->s, MAC_B, code, src, 7800).status, 403);
    }
    assert_int_equal(redeem(f->s, MAC_B, "Mxguess", "10.1.1.1", 7801).status, 429);
    /* ... and PV_BINDING_FAILS_PER_MAC wrong codes over days, then 429 for the week. */
    for (int i = PV_BINDING_PER_MAC; i < PV_BINDING_FAILS_PER_MAC; i++) {
        snprintf(code, sizeof code, "M%dguess", i);
        assert_int_equal(redeem(f->s, MAC_B, code, "10.1.2.1", 8400 + 600 * i).status, 403);
    }
    assert_int_equal(redeem(f->s, MAC_B, "Myguess", "10.1.2.2", 86400).status, 429);

    /* Per code prefix: wrong codes of one prefix from many addresses and
     * phones lock it; another prefix is not affected. */
    for (int i = 0; i < PV_BINDING_FAILS_PER_HINT; i++) {
        snprintf(code, sizeof code, "ZZ%04d", i);
        snprintf(src, sizeof src, "10.2.%d.%d", i / 200, i % 200);
        snprintf(mac, sizeof mac, "00000002%04x", i);
        assert_int_equal(redeem(f->s, mac, code, src, 10800).status, 403);
    }
    assert_ok(pv_store_code_create(f->s, acct, "ZZ-right-1", 90000, 0, 1000, NULL, e));
    assert_int_equal(redeem(f->s, "000e08cccccc", "ZZ-right-1", "10.3.0.1", 10801).status, 429);
    assert_ok(pv_store_code_create(f->s, acct, "YY-right-1", 90000, 0, 1000, NULL, e));
    assert_int_equal(redeem(f->s, "000e08cccccc", "YY-right-1", "10.3.0.1", 10802).status, 200);
}

/* issue 19.5: a launch day behind one address (a carrier NAT) — thousands of
 * phones binding within the hour, 2 % of them mistyping once — meets no limit. */
static void a_launch_day_meets_no_limit(void **state)
{
    store_fixture *f = *state;
    int64_t acct = seed_account(f->s, "C-1");
    enum { PHONES = 3000 };
    char code[16], mac[13], typo[16];
    assert_ok(pv_store_begin(f->s, e));
    for (int i = 0; i < PHONES; i++) {
        snprintf(code, sizeof code, "%012lld", 100000007LL * (i + 1) % 1000000000LL);
        assert_ok(pv_store_code_create(f->s, acct, code, 90000, 0, 1000, NULL, e));
    }
    assert_ok(pv_store_commit(f->s, e));
    int bound = 0;
    for (int i = 0; i < PHONES; i++) {
        snprintf(mac, sizeof mac, "00000003%04x", i);
        snprintf(code, sizeof code, "%012lld", 100000007LL * (i + 1) % 1000000000LL);
        snprintf(typo, sizeof typo, "%02d%010d", i % 97, i);
        if (i % 50 == 0) /* a typo first */
            assert_int_equal(redeem(f->s, mac, typo, "198.51.100.1", 3600 + i).status, 403);
        bound += redeem(f->s, mac, code, "198.51.100.1", 3600 + i).status == 200;
    }
    assert_int_equal(bound, PHONES);
}

/* issue 11.7: requests without a verified certificate charge no counter. */
static void strangers_spend_no_budget(void **state)
{
    store_fixture *f = *state;
    int64_t acct = seed_account(f->s, "C-1");
    pv_ident none = ident_of(NULL);
    pv_binding_result res;
    for (int i = 0; i < 10 * PV_BINDING_FAILS_PER_SOURCE; i++) {
        assert_ok(pv_binding_redeem(f->s, &none, PV_SLICE_LIT("602885080253"), "10.0.0.1", 2000,
                                    &res, e));
        assert_int_equal(res.status, 403);
    }
    assert_ok(pv_store_code_create(f->s, acct, "602885080253", 5000, 0, 1000, NULL, e));
    assert_int_equal(redeem(f->s, MAC_A, "602885080253", "10.0.0.1", 2001).status, 200);
}

/* issue 19.3: the same certificate bringing the same code again gets the same
 * answer; another certificate, or a later code, gets nothing. */
static void a_lost_answer_is_given_again(void **state)
{
    store_fixture *f = *state;
    int64_t acct = seed_account(f->s, "C-1");
    assert_ok(pv_store_code_create(f->s, acct, "602885080253", 5000, 0, 1000, NULL, e));
    pv_binding_result first = redeem(f->s, MAC_A, "602885080253", "10.0.0.1", 2000);
    assert_int_equal(first.status, 200);
    pv_binding_result again = redeem(f->s, MAC_A, "602885080253", "10.0.0.1", 2030);
    assert_int_equal(again.status, 200);
    assert_true(again.again);
    assert_int_equal(again.secret.id, first.secret.id);
    assert_memory_equal(again.secret.key, first.secret.key, 32);
    assert_string_equal(again.secret.dir, first.secret.dir);
    pv_ident other = other_cert_of(MAC_A);
    assert_int_equal(redeem_as(f->s, &other, "602885080253", 2040).status, 403);
    assert_int_equal(redeem(f->s, MAC_B, "602885080253", "10.0.0.2", 2050).status, 403);
    /* after the code's life and the retry window: used */
    assert_int_equal(redeem(f->s, MAC_A, "602885080253", "10.0.0.1", 2000 + 2 * 3600).status,
                     403);
}

/* issue 11.1: a bound, pinned device is re-bound by nobody, not even with its
 * own certificate, until it is released; another certificate naming it gets
 * nothing at all. */
static void a_bound_device_needs_a_release(void **state)
{
    store_fixture *f = *state;
    int64_t acct = seed_account(f->s, "C-1");
    int64_t acct2 = seed_account(f->s, "C-2");
    assert_ok(pv_store_code_create(f->s, acct, "111111111111", 90000, 0, 1000, NULL, e));
    assert_ok(pv_store_code_create(f->s, acct2, "222222222222", 90000, 0, 1000, NULL, e));
    assert_int_equal(redeem(f->s, MAC_A, "111111111111", "10.0.0.1", 2000).status, 200);
    pv_ident other = other_cert_of(MAC_A);
    pv_binding_result res = redeem_as(f->s, &other, "222222222222", 2100);
    assert_int_equal(res.status, 403);
    assert_non_null(strstr(res.reason, "pinned"));
    res = redeem(f->s, MAC_A, "222222222222", "10.0.0.1", 2200);
    assert_int_equal(res.status, 403);
    assert_non_null(strstr(res.reason, "released"));
    pv_store_device d = {0};
    assert_ok(pv_store_device_get(f->s, MAC_A, &d, e));
    assert_int_equal(d.account_id, acct);
    pv_store_device_free(&d);
    /* The refused attempt did not spend the code: after the release it binds. */
    assert_ok(pv_store_device_release(f->s, MAC_A, 2300, e));
    assert_int_equal(redeem_as(f->s, &other, "222222222222", 2400).status, 200);
    assert_ok(pv_store_device_get(f->s, MAC_A, &d, e));
    assert_int_equal(d.account_id, acct2);
    assert_string_equal(d.cert_fingerprint, other.fingerprint);
    pv_store_device_free(&d);
}

static void a_code_locks_after_its_attempts(void **state)
{
    store_fixture *f = *state;
    int64_t acct = seed_account(f->s, "C-1");
    assert_ok(pv_store_code_create(f->s, acct, "LK-code-01", 9000, 2, 1000, NULL, e));
    assert_int_equal(redeem(f->s, MAC_A, "LK-code-01", "10.0.0.1", 2000).status, 200);
    assert_int_equal(redeem(f->s, MAC_B, "LK-code-01", "10.0.0.2", 2001).status, 403);
    pv_binding_result res = redeem(f->s, MAC_B, "LK-code-01", "10.0.0.3", 2002);
    assert_int_equal(res.status, 429); /* beyond max_attempts: locked */
    assert_false(device_exists(f->s, MAC_B));
}

static void rebinding_an_imported_device_keeps_its_data(void **state)
{
    store_fixture *f = *state;
    int64_t acct = seed_account(f->s, "C-1");
    pv_store_device d = {.serial = "IMPORTED-SN", .model = "SPA504G"};
    memcpy(d.mac, MAC_A, sizeof d.mac);
    assert_ok(pv_store_device_create(f->s, &d, 1000, e));
    assert_ok(pv_store_code_create(f->s, acct, "AB12CD34ef", 5000, 0, 1000, NULL, e));
    assert_int_equal(redeem(f->s, MAC_A, "AB12CD34ef", "10.0.0.1", 2000).status, 200);
    pv_store_device got = {0};
    assert_ok(pv_store_device_get(f->s, MAC_A, &got, e));
    assert_string_equal(got.serial, "IMPORTED-SN"); /* an import's serial wins */
    assert_int_equal(got.account_id, acct);
    assert_int_equal(got.state, PV_STATE_SEC_PRV_1);
    pv_store_device_free(&got);
}

static void sec_prv_1_profile(void **state)
{
    (void)state;
    pv_prov_policy pol;
    pv_prov_policy_defaults(&pol);
    pol.http_port = 8080;
    pv_store_secret sec = {.id = 1, .dir = "abcdefgh23456789"};
    for (int i = 0; i < 32; i++)
        sec.key[i] = (unsigned char)i;
    pv_buf out = {0};
    assert_ok(pv_binding_profile(&pol, "prov.example", "SPA504G", &sec, &out, e));
    pv_params p = {0};
    assert_ok(pv_xml_parse(pv_buf_slice(&out), &p, NULL, e));
    char pass[65];
    pv_keys_passphrase(&sec, pass);
    assert_string_equal(pv_params_value(&p, "GPP_SA"), pass);
    assert_string_equal(pv_params_value(&p, "GPP_B"), "abcdefgh23456789");
    assert_string_equal(pv_params_value(&p, "Profile_Rule"),
                        "[--key $SA] http://prov.example:8080/$B/$MA.cfg");
    assert_string_equal(pv_params_value(&p, "Profile_Rule_B"),
                        pv_params_value(&p, "Profile_Rule")); /* spec 1.3: same resync */
    assert_string_equal(pv_params_value(&p, "Profile_Rule_C"), pv_params_value(&p, "Profile_Rule"));
    assert_non_null(strstr(out.data, "<GPP_SA ua=\"na\">"));  /* the user never sees it */
    pv_params_free(&p);
    pv_buf_reset(&out);
    /* RFC 8188: the IKM, and no --key in the rule (spec 4.3). */
    pol.encryption = PV_PROV_ENC_RFC8188;
    pol.permanent_scheme = "https";
    pol.https_port = 443;
    assert_ok(pv_binding_profile(&pol, "prov.example", "CP-8841-3PCC", &sec, &out, e));
    assert_ok(pv_xml_parse(pv_buf_slice(&out), &p, NULL, e));
    assert_string_equal(pv_params_value(&p, "IKM_HTTP_Encrypt_Content"), pass);
    assert_null(pv_params_value(&p, "GPP_SA"));
    assert_string_equal(pv_params_value(&p, "Profile_Rule"), "https://prov.example/$B/$MA.cfg");
    assert_string_equal(pv_params_value(&p, "Resync_Random_Delay"), "120"); /* MPP: seconds */
    pv_params_free(&p);
    /* a mixed fleet: SPA and ATA phones know only AES-256-CBC (spec 4.1, 4.3) */
    const char *const legacy[] = {"SPA504G", "ATA191-MPP"};
    for (size_t i = 0; i < 2; i++) {
        pv_buf_reset(&out);
        assert_ok(pv_binding_profile(&pol, "prov.example", legacy[i], &sec, &out, e));
        pv_params q = {0};
        assert_ok(pv_xml_parse(pv_buf_slice(&out), &q, NULL, e));
        assert_string_equal(pv_params_value(&q, "GPP_SA"), pass);
        assert_null(pv_params_value(&q, "IKM_HTTP_Encrypt_Content"));
        assert_string_equal(pv_params_value(&q, "Profile_Rule"),
                            "[--key $SA] https://prov.example/$B/$MA.cfg");
        /* SPA/ATA guides: 20 s units, so 120 s is 6 */
        assert_string_equal(pv_params_value(&q, "Resync_Random_Delay"), "6");
        pv_params_free(&q);
    }
    pv_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PROV_TEST(binds_once),
        PROV_TEST(expired_unknown_and_near_codes_bind_nothing),
        PROV_TEST(needs_a_verified_certificate_with_a_mac),
        PROV_TEST(rate_limits),
        PROV_TEST(a_launch_day_meets_no_limit),
        PROV_TEST(strangers_spend_no_budget),
        PROV_TEST(a_lost_answer_is_given_again),
        PROV_TEST(a_bound_device_needs_a_release),
        PROV_TEST(a_code_locks_after_its_attempts),
        PROV_TEST(rebinding_an_imported_device_keeps_its_data),
        cmocka_unit_test(sec_prv_1_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
