/* Unit tests for fleet/host (each phone's own loopback source address, this process's cost)
 * and the phone/fetch_request translation the fleet uses (the 401 challenge of spec 8.2). */
#include "pv_test.h"

#include "phone/fetch_request.h"
#include "fleet/guard.h"
#include "fleet/host.h"

#include <stdlib.h>
#include <string.h>

static void source_addresses(void **state)
{
    char a[16];
    pv_fleet_source_address(0, a, sizeof a);
    assert_string_equal(a, "127.0.0.1");
    pv_fleet_source_address(254, a, sizeof a);
    assert_string_equal(a, "127.0.0.255");
    pv_fleet_source_address(255, a, sizeof a);
    assert_string_equal(a, "127.0.1.0");
    pv_fleet_source_address(99999, a, sizeof a); /* 100 000 phones: 100 000 addresses */
    assert_string_equal(a, "127.1.134.160");
    pv_fleet_source_address(PV_FLEET_SOURCE_ADDRESSES - 1, a, sizeof a);
    assert_string_equal(a, "127.255.255.254"); /* never the broadcast address of 127/8 */
    pv_fleet_source_address(PV_FLEET_SOURCE_ADDRESSES, a, sizeof a);
    assert_string_equal(a, "127.0.0.1"); /* beyond: shared, in order again */
    assert_true(pv_fleet_guard_is_loopback("127.255.255.254"));
    char small[8] = "x";
    pv_fleet_source_address(5, small, sizeof small); /* too small: none, no overflow */
    assert_string_equal(small, "");
}

static void distinct(void **state)
{
    char a[16], b[16];
    for (uint32_t i = 0; i < 70000; i += 7) {
        pv_fleet_source_address(i, a, sizeof a);
        pv_fleet_source_address(i + 1, b, sizeof b);
        assert_true(strcmp(a, b) != 0);
    }
}

static void process_cost(void **state)
{
    assert_true(pv_fleet_rss() > 0);
    assert_true(pv_fleet_rss_peak() >= pv_fleet_rss() / 2);
    assert_true(pv_fleet_cpu_seconds() >= 0);
}

/* spec 8.2: a 401's challenge goes with the retry to the same URL, not to another one */
static void challenge_answered_on_the_retry(void **state)
{
    pv_agent_action act = {.kind = PV_AGENT_ACT_FETCH,
                           .url = "https://127.0.0.1:1/p.cfg",
                           .method = "GET",
                           .user_agent = "Cisco/SPA504G-7.6.2"};
    pv_agent_challenge c = {0};
    pv_fetch_request rq;
    pv_agent_fetch_request(&act, &c, 123, &rq);
    assert_string_equal(rq.url, act.url);
    assert_string_equal(rq.user_agent, act.user_agent);
    assert_int_equal(rq.max_body, 123);
    assert_null(rq.challenge);
    const char *www = "Digest realm=\"r\", nonce=\"abc\", qop=\"auth\"";
    pv_fetch_result r401 = {.status = 401, .www_authenticate = www};
    assert_true(pv_agent_challenge_note(&c, act.url, &r401));
    pv_agent_fetch_request(&act, &c, 0, &rq);
    assert_null(rq.challenge); /* no credentials offered: nothing to answer with */
    act.uid = "u";
    act.pwd = "p";
    pv_agent_fetch_request(&act, &c, 0, &rq);
    assert_string_equal(rq.auth_scheme, "Digest");
    assert_string_equal(rq.challenge, www);
    assert_string_equal(rq.uid, "u");
    act.url = "https://127.0.0.1:1/other.cfg";
    pv_agent_fetch_request(&act, &c, 0, &rq);
    assert_null(rq.challenge);
    pv_fetch_result ok = {.status = 200, .body = "x", .body_len = 1};
    assert_false(pv_agent_challenge_note(&c, act.url, &ok)); /* the challenge stays */
    pv_agent_response resp;
    pv_agent_response_from_fetch(&ok, &resp);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body_len, 1);
    pv_agent_challenge_clear(&c);
    assert_null(c.value);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(source_addresses),
        cmocka_unit_test(distinct),
        cmocka_unit_test(process_cost),
        cmocka_unit_test(challenge_answered_on_the_retry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
