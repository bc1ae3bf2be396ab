/* Unit tests for net/tftp_negotiate (RFC 2347/2348/2349/7440 answers, the OACK bytes) and
 * net/tftp_rto (RFC 6298 estimator and backoff). */
#include "pv_test.h"

#include "net/tftp_negotiate.h"
#include "net/tftp_rto.h"

#include <string.h>

static pv_tftp_limits limits(void)
{
    pv_tftp_limits lim;
    pv_tftp_limits_default(&lim);
    return lim;
}

static void no_options_no_oack(void **state)
{
    pv_tftp_limits lim = limits();
    pv_tftp_requested opt = {0};
    pv__tftp_offer offer = {.size_known = true, .size = 4096, .mtu_blksize = 1468};
    pv__tftp_agreed a;
    pv_buf oack = {0};
    pv_buf_append(&oack, "stale", 5);
    assert_false(pv__tftp_negotiate(&opt, &lim, &offer, &a, &oack));
    assert_int_equal(oack.len, 0); /* RFC 1350 start: nothing to send first */
    assert_int_equal(a.blksize, 512);
    assert_int_equal(a.windowsize, 1);
    assert_int_equal(a.timeout_ms, 0);
    pv_buf_free(&oack);
}

/* The acceptance case of issue 3: atftp with blksize 1428, tsize, timeout and windowsize 8. */
static void answers_every_option_in_request_order(void **state)
{
    pv_tftp_limits lim = limits();
    pv_tftp_requested opt = {
        .blksize = 1428, .timeout = 2, .windowsize = 8, .tsize = 0, .has_tsize = true};
    pv__tftp_offer offer = {.size_known = true, .size = 50000000, .mtu_blksize = 65464};
    pv__tftp_agreed a;
    pv_buf oack = {0};
    assert_true(pv__tftp_negotiate(&opt, &lim, &offer, &a, &oack));
    assert_int_equal(a.blksize, 1428);
    assert_int_equal(a.windowsize, 8);
    assert_int_equal(a.timeout_ms, 2000);
    static const char want[] =
        "\0\6blksize\0001428\0tsize\00050000000\0timeout\0002\0windowsize\0008\0";
    assert_int_equal(oack.len, sizeof want - 1);
    assert_memory_equal(oack.data, want, sizeof want - 1);
    pv_buf_free(&oack);
}

static void caps_blksize_by_mtu_and_limit(void **state)
{
    pv_tftp_limits lim = limits();
    pv_tftp_requested opt = {.blksize = 65464};
    pv__tftp_offer offer = {.size_known = true, .size = 1, .mtu_blksize = 1468};
    pv__tftp_agreed a;
    pv_buf oack = {0};
    assert_true(pv__tftp_negotiate(&opt, &lim, &offer, &a, &oack));
    assert_int_equal(a.blksize, 1468); /* RFC 2348: the path MTU, not the 65464 asked */
    lim.max_blksize = 1024;
    assert_true(pv__tftp_negotiate(&opt, &lim, &offer, &a, &oack));
    assert_int_equal(a.blksize, 1024);
    static const char want[] = "\0\6blksize\0001024\0";
    assert_int_equal(oack.len, sizeof want - 1);
    assert_memory_equal(oack.data, want, sizeof want - 1);
    lim.max_blksize = 4; /* a limit below RFC 2348's minimum still answers 8 */
    assert_true(pv__tftp_negotiate(&opt, &lim, &offer, &a, &oack));
    assert_int_equal(a.blksize, PV_TFTP_BLKSIZE_MIN);
    pv_buf_free(&oack);
}

static void caps_window_by_limit_and_peer_buffer(void **state)
{
    pv_tftp_limits lim = limits();
    pv_tftp_requested opt = {.blksize = 65464, .windowsize = 64};
    pv__tftp_offer offer = {.size_known = true, .size = 1, .mtu_blksize = 65464};
    pv__tftp_agreed a;
    pv_buf oack = {0};
    assert_true(pv__tftp_negotiate(&opt, &lim, &offer, &a, &oack));
    assert_int_equal(a.windowsize, PV__TFTP_WINDOW_BYTES / 65464); /* 2 blocks fit */
    opt = (pv_tftp_requested){.windowsize = 100};
    assert_true(pv__tftp_negotiate(&opt, &lim, &offer, &a, &oack));
    assert_int_equal(a.windowsize, 64); /* the configured cap */
    lim.max_windowsize = 0;
    assert_true(pv__tftp_negotiate(&opt, &lim, &offer, &a, &oack));
    assert_int_equal(a.windowsize, 1);
    pv_buf_free(&oack);
}

static void tsize_rules(void **state)
{
    pv_tftp_limits lim = limits();
    pv_tftp_requested opt = {.has_tsize = true, .tsize = 0};
    pv__tftp_agreed a;
    pv_buf oack = {0};
    /* An empty file's size goes unsaid (curl rejects "tsize 0"). */
    pv__tftp_offer empty = {.size_known = true, .size = 0};
    assert_false(pv__tftp_negotiate(&opt, &lim, &empty, &a, &oack));
    /* netascii: the size after conversion is unknown. */
    pv__tftp_offer ascii = {.size_known = false, .size = 700};
    assert_false(pv__tftp_negotiate(&opt, &lim, &ascii, &a, &oack));
    /* A write echoes the size the client announced (RFC 2349). */
    opt.tsize = 1234;
    pv__tftp_offer write = {.write = true};
    assert_true(pv__tftp_negotiate(&opt, &lim, &write, &a, &oack));
    static const char want[] = "\0\6tsize\0001234\0";
    assert_int_equal(oack.len, sizeof want - 1);
    assert_memory_equal(oack.data, want, sizeof want - 1);
    pv_buf_free(&oack);
}

static void rto_follows_rfc6298(void **state)
{
    pv__tftp_rto r;
    pv__tftp_rto_init(&r, 0);
    assert_int_equal(r.ms, 1000); /* RFC 6298 §2.1 */
    pv__tftp_rto_init(&r, 1000);
    pv__tftp_rto_sample(&r, 200, 1000); /* §2.2: SRTT 200, RTTVAR 100 -> 600 */
    assert_int_equal(r.ms, 600);
    pv__tftp_rto_sample(&r, 200, 1000); /* §2.3: RTTVAR 75 -> 200 + 300 */
    assert_int_equal(r.ms, 500);
    for (int i = 0; i < 50; i++)
        pv__tftp_rto_sample(&r, 0.1, 1000); /* loopback: held at the floor */
    assert_int_equal(r.ms, PV__TFTP_RTO_MIN_MS);
    pv__tftp_rto_sample(&r, 0.1, 50); /* a configured 50 ms lowers the floor to 11 */
    assert_int_equal(r.ms, 11);
    pv__tftp_rto_sample(&r, 1e9, 1000);
    assert_int_equal(r.ms, PV__TFTP_RTO_MAX_MS);
    r.ms = 3000;
    pv__tftp_rto_backoff(&r); /* §5.5 */
    assert_int_equal(r.ms, 6000);
    pv__tftp_rto_backoff(&r);
    assert_int_equal(r.ms, PV__TFTP_RTO_MAX_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_options_no_oack),
        cmocka_unit_test(answers_every_option_in_request_order),
        cmocka_unit_test(caps_blksize_by_mtu_and_limit),
        cmocka_unit_test(caps_window_by_limit_and_peer_buffer),
        cmocka_unit_test(tsize_rules),
        cmocka_unit_test(rto_follows_rfc6298),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
