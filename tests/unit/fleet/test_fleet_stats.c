/* Unit tests for fleet/stats: log-linear histogram percentiles, phases, causes, goals. */
#include "pv_test.h"

#include "fleet/stats.h"

#include <math.h>
#include <stdio.h>

static void buckets_cover_values_in_order(void **state)
{
    for (uint64_t v = 0; v < 5000000; v = v < 100 ? v + 1 : v + v / 7) {
        size_t b = pv_hist_bucket_of(v);
        assert_true(pv_hist_bucket_low(b) <= v);
        assert_true(b + 1 == PV_HIST_BUCKETS || v < pv_hist_bucket_low(b + 1));
        /* relative width of a bucket: at most 1/32 */
        if (v >= 32)
            assert_true(pv_hist_bucket_low(b + 1) - pv_hist_bucket_low(b) <= v / 32 + 1);
    }
    assert_int_equal(pv_hist_bucket_of(0), 0);
    assert_int_equal(pv_hist_bucket_of(31), 31);
    assert_int_equal(pv_hist_bucket_of(32), 32);
    assert_int_equal(pv_hist_bucket_of(UINT64_MAX), PV_HIST_BUCKETS - 1);
}

static void percentiles_are_within_three_percent(void **state)
{
    pv_hist h;
    pv_hist_init(&h);
    for (uint64_t v = 1; v <= 100000; v++) /* uniform 1 µs .. 100 ms */
        pv_hist_add(&h, v);
    const double p[] = {50, 90, 99, 99.9};
    for (size_t i = 0; i < 4; i++) {
        double want = p[i] * 1000.0, got = (double)pv_hist_percentile(&h, p[i]);
        assert_true(fabs(got - want) / want <= 1.0 / 32);
    }
    assert_int_equal(pv_hist_percentile(&h, 100), 100000);
    assert_int_equal(h.min, 1);
    assert_int_equal(h.count, 100000);
    /* small values are exact */
    pv_hist_init(&h);
    for (int i = 0; i < 10; i++)
        pv_hist_add(&h, 7);
    pv_hist_add(&h, 20);
    assert_int_equal(pv_hist_percentile(&h, 50), 7);
    assert_int_equal(pv_hist_percentile(&h, 99), 20);
    /* one huge outlier: p50 stays put, max is exact */
    pv_hist_init(&h);
    for (int i = 0; i < 999; i++)
        pv_hist_add(&h, 1000);
    pv_hist_add(&h, 60000000);
    uint64_t p50 = pv_hist_percentile(&h, 50);
    assert_true(p50 >= 1000 && p50 <= 1032);
    assert_int_equal(pv_hist_percentile(&h, 100), 60000000);
    pv_hist_init(&h);
    assert_int_equal(pv_hist_percentile(&h, 50), 0); /* empty */
}

static void phases_causes_and_goals(void **state)
{
    pv_fleet_stats s;
    pv_fleet_stats_init(&s, 10, 600000);
    pv_fleet_stats_phase(&s, "before", 0);
    pv_fleet_stats_phase(&s, "outage", 120000);
    pv_fleet_stats_phase(&s, "recovery", 240000);
    assert_string_equal(pv_fleet_stats_phase_at(&s, 119999)->name, "before");
    assert_string_equal(pv_fleet_stats_phase_at(&s, 120000)->name, "outage");
    assert_string_equal(pv_fleet_stats_phase_at(&s, 999999)->name, "recovery");
    /* a request counts in the phase in which it started */
    pv_fleet_stats_request(&s, 119000);
    pv_fleet_stats_done(&s, 119000, 121000, 2000000, NULL);
    pv_fleet_stats_request(&s, 130000);
    pv_fleet_stats_done(&s, 130000, 130000, 100, "connect");
    pv_fleet_stats_request(&s, 131000);
    pv_fleet_stats_done(&s, 131000, 131000, 100, "connect");
    assert_int_equal(s.phase[0].ok, 1);
    assert_int_equal(s.phase[1].failed, 2);
    assert_int_equal(s.requests, 3);
    assert_int_equal(s.in_flight, 0);
    assert_int_equal(s.in_flight_max, 1);
    assert_int_equal(s.ncauses, 1);
    assert_string_equal(s.cause[0].name, "connect");
    assert_int_equal(s.cause[0].count, 2);
    /* more causes than rows: the rest is "other", never a crash */
    char name[32];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "http %d", 400 + i);
        pv_fleet_stats_cause(&s, name);
    }
    assert_int_equal(s.ncauses, PV_FLEET_MAX_CAUSES);
    assert_string_equal(s.cause[PV_FLEET_MAX_CAUSES - 1].name, "other");
    /* time to goal: of the whole fleet, not of those that made it */
    uint64_t ms;
    for (uint32_t i = 0; i < 9; i++)
        pv_fleet_stats_goal(&s, i, 1000 * (i + 1));
    pv_fleet_stats_goal(&s, 0, 99999); /* the first time counts */
    assert_int_equal(s.reached, 9);
    assert_true(pv_fleet_stats_time_to(&s, 50, &ms));
    assert_int_equal(ms, 5000);
    assert_true(pv_fleet_stats_time_to(&s, 90, &ms));
    assert_int_equal(ms, 9000);
    assert_false(pv_fleet_stats_time_to(&s, 100, &ms));
    pv_fleet_stats_goal(&s, 9, 42000);
    assert_true(pv_fleet_stats_time_to(&s, 100, &ms));
    assert_int_equal(ms, 42000);
    /* the series: slots of a second */
    assert_int_equal(s.slot_ms, 1000);
    assert_int_equal(s.slot[119].arrivals, 1);
    assert_int_equal(s.slot[121].completions, 1);
    assert_int_equal(s.slot[130].failures, 1);
    pv_fleet_stats_free(&s);
}

static void long_runs_get_wider_slots(void **state)
{
    pv_fleet_stats s;
    pv_fleet_stats_init(&s, 1, 86400000); /* a day */
    assert_true(s.nslots <= 1202);
    assert_true(s.slot_ms * (s.nslots - 2) >= 86400000);
    pv_fleet_stats_request(&s, 86400000 * 2); /* beyond: the last slot, no overflow */
    assert_int_equal(s.slot[s.nslots - 1].arrivals, 1);
    pv_fleet_stats_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buckets_cover_values_in_order),
        cmocka_unit_test(percentiles_are_within_three_percent),
        cmocka_unit_test(phases_causes_and_goals),
        cmocka_unit_test(long_runs_get_wider_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
