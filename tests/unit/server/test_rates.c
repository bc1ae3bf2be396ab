/* Unit tests for server/rates: the dashboard's per-minute ring. A minute's figure is what the
 * server's own counters (job_metrics, net/metrics) gained while it was open; the minute running
 * shows its figures so far; minutes before the first sample have no figure (not 0); an hour
 * later a minute is gone; the metric text is summed over label sets and filtered by a label. */
#include "pv_test.h"

#include "net/metrics.h"
#include "server/job_metrics.h"
#include "server/rates.h"

#include <string.h>

static void sums_over_label_sets(void **state)
{
    const char *text = "# HELP x\nprovisor_a_total{k=\"1\"} 3\nprovisor_a_total{k=\"2\"} 4\n"
                       "provisor_ab_total 100\nprovisor_b 7\nprovisor_t{kind=\"failed\"} 2\n"
                       "provisor_t{kind=\"full\"} 9\n";
    assert_int_equal(pv_rates_metric_sum(text, "provisor_a_total", NULL), 7);
    assert_int_equal(pv_rates_metric_sum(text, "provisor_b", NULL), 7);
    assert_int_equal(pv_rates_metric_sum(text, "provisor_t", "kind=\"failed\""), 2);
    assert_int_equal(pv_rates_metric_sum(text, "provisor_none", NULL), 0);
}

static void minutes_count_what_the_counters_gained(void **state)
{
    pv_rates_reset();
    pv_rates_minute m[PV_RATES_MINUTES];
    const int64_t t0 = 1800000000; /* a minute's start */
    assert_int_equal(pv_rates_read(t0, m), 0); /* nothing sampled yet */
    pv_jobm_profile_served("CP-8841-3PCC", "SEC-PRV-2", PV_PROTO_HTTPS); /* before: not counted */
    pv_rates_sample(t0 + 5);
    for (int i = 0; i < 3; i++)
        pv_jobm_profile_served("CP-8841-3PCC", "SEC-PRV-2", PV_PROTO_HTTPS);
    pv_jobm_refusal("binding", 403);
    assert_int_equal(pv_rates_read(t0 + 30, m), PV_RATES_MINUTES);
    assert_int_equal(m[59].start, t0);
    assert_int_equal(m[59].resyncs, 3); /* the minute running, so far */
    assert_int_equal(m[59].refusals, 1);
    assert_false(m[59].complete);
    assert_false(m[58].sampled); /* before the server sampled: no figure */

    pv_rates_sample(t0 + 62); /* closes t0's minute */
    pv_jobm_render(0.001, true); /* a failed render, in the next minute */
    pv_rates_sample(t0 + 185); /* closes t0+60's; t0+120's had no sample */
    pv_jobm_profile_served("SPA504G", "SEC-PRV-2", PV_PROTO_HTTP);
    assert_int_equal(pv_rates_read(t0 + 190, m), PV_RATES_MINUTES);
    assert_int_equal(m[59].start, t0 + 180);
    assert_int_equal(m[59].resyncs, 1);
    assert_true(m[56].complete && m[56].sampled);
    assert_int_equal(m[56].start, t0);
    assert_int_equal(m[56].resyncs, 3);
    assert_int_equal(m[56].refusals, 1);
    assert_int_equal(m[57].failures, 1);
    assert_int_equal(m[57].resyncs, 0);
    assert_int_equal(m[58].resyncs, 0); /* a minute no sample closed */
    assert_true(m[58].sampled);

    /* An hour on, t0's minute has left the ring. */
    pv_rates_sample(t0 + 3600 + 10);
    assert_int_equal(pv_rates_read(t0 + 3600 + 20, m), PV_RATES_MINUTES);
    assert_int_equal(m[0].start, t0 + 60);
    for (size_t i = 0; i < PV_RATES_MINUTES; i++)
        assert_true(m[i].start != t0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sums_over_label_sets),
        cmocka_unit_test(minutes_count_what_the_counters_gained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
