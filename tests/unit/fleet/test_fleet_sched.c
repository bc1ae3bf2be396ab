/* Unit tests for fleet/sched: the indexed min-heap of phone wake-ups. */
#include "pv_test.h"

#include "fleet/sched.h"

#define N 2000

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* The model: the earliest (when, phone) among scheduled phones, by brute force. */
static bool model_min(const uint64_t *when, uint32_t *phone)
{
    bool any = false;
    for (uint32_t i = 0; i < N; i++) {
        if (when[i] == PV_SCHED_NEVER)
            continue;
        if (!any || when[i] < when[*phone]) {
            *phone = i;
            any = true;
        }
    }
    return any;
}

static void matches_a_brute_force_model(void **state)
{
    pv_fleet_sched s;
    pv_fleet_sched_init(&s, N);
    uint64_t *when = malloc(N * sizeof *when);
    for (uint32_t i = 0; i < N; i++)
        when[i] = PV_SCHED_NEVER;
    uint64_t seed = 88172645463325252ull;
    for (int step = 0; step < 50000; step++) {
        uint32_t phone = (uint32_t)(rnd(&seed) % N);
        uint64_t r = rnd(&seed) % 10;
        /* sets, moves earlier or later, and removals, with many equal times */
        uint64_t t = r == 0 ? PV_SCHED_NEVER : rnd(&seed) % 500;
        pv_fleet_sched_set(&s, phone, t);
        when[phone] = t;
        if (step % 97 == 0)
            assert_true(pv_fleet_sched_valid(&s));
        uint32_t want;
        if (model_min(when, &want))
            assert_int_equal(pv_fleet_sched_next(&s), when[want]);
        else
            assert_int_equal(pv_fleet_sched_next(&s), PV_SCHED_NEVER);
        assert_int_equal(pv_fleet_sched_get(&s, phone), t);
    }
    /* draining pops in (when, phone) order, exactly the scheduled ones */
    uint64_t last_t = 0;
    uint32_t last_p = 0, popped = 0, phone;
    uint64_t t;
    bool first = true;
    while (pv_fleet_sched_pop_due(&s, UINT64_MAX - 1, &phone, &t)) {
        assert_int_equal(t, when[phone]);
        assert_true(first || t > last_t || (t == last_t && phone > last_p));
        first = false;
        last_t = t;
        last_p = phone;
        when[phone] = PV_SCHED_NEVER;
        popped++;
    }
    uint32_t left;
    assert_false(model_min(when, &left));
    assert_true(popped > 0);
    assert_int_equal(s.count, 0);
    free(when);
    pv_fleet_sched_free(&s);
}

static void pops_only_what_is_due(void **state)
{
    pv_fleet_sched s;
    pv_fleet_sched_init(&s, 8);
    pv_fleet_sched_set(&s, 3, 100);
    pv_fleet_sched_set(&s, 1, 100);
    pv_fleet_sched_set(&s, 5, 50);
    pv_fleet_sched_set(&s, 7, 200);
    uint32_t p;
    uint64_t t;
    assert_false(pv_fleet_sched_pop_due(&s, 49, &p, &t));
    assert_true(pv_fleet_sched_pop_due(&s, 100, &p, &t));
    assert_int_equal(p, 5);
    assert_int_equal(t, 50);
    /* equal times leave in phone order, so a run repeats exactly */
    assert_true(pv_fleet_sched_pop_due(&s, 100, &p, &t));
    assert_int_equal(p, 1);
    assert_true(pv_fleet_sched_pop_due(&s, 100, &p, &t));
    assert_int_equal(p, 3);
    assert_false(pv_fleet_sched_pop_due(&s, 100, &p, &t));
    /* rescheduling replaces; NEVER removes */
    pv_fleet_sched_set(&s, 7, 10);
    assert_int_equal(pv_fleet_sched_next(&s), 10);
    pv_fleet_sched_set(&s, 7, PV_SCHED_NEVER);
    assert_int_equal(pv_fleet_sched_next(&s), PV_SCHED_NEVER);
    assert_int_equal(pv_fleet_sched_get(&s, 7), PV_SCHED_NEVER);
    pv_fleet_sched_set(&s, 7, PV_SCHED_NEVER); /* removing twice is harmless */
    assert_true(pv_fleet_sched_valid(&s));
    pv_fleet_sched_free(&s);
}

static void a_large_schedule_stays_small(void **state)
{
    /* 100 000 phones: 16 bytes each, no allocation per entry */
    pv_fleet_sched s;
    pv_fleet_sched_init(&s, 100000);
    for (uint32_t i = 0; i < 100000; i++)
        pv_fleet_sched_set(&s, i, (i * 7919u) % 100003u);
    assert_true(pv_fleet_sched_valid(&s));
    assert_int_equal(pv_fleet_sched_next(&s), 0);
    uint64_t prev = 0, t;
    uint32_t p, n = 0;
    while (pv_fleet_sched_pop_due(&s, 50000, &p, &t)) {
        assert_true(t >= prev);
        prev = t;
        n++;
    }
    assert_true(n > 49000 && n < 51000);
    pv_fleet_sched_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches_a_brute_force_model),
        cmocka_unit_test(pops_only_what_is_due),
        cmocka_unit_test(a_large_schedule_stays_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
