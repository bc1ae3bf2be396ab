/* Scenario timelines on the virtual clock: whole fleets against the virtual server. */
/* Covers src/fleet/scenario.c and vserver.c (the modelled server of --virtual). */
#include "pv_test.h"

#include "fleet/content.h"
#include "fleet/fleet.h"

static pv_fleet *run(const char *scenario, uint32_t phones, const char *mix, uint64_t duration_s,
                     void (*tweak)(pv_fleet_config *))
{
    pv_fleet_config c;
    pv_fleet_config_default(&c);
    c.scenario = pv_fleet_scenario_find(scenario);
    assert_non_null(c.scenario);
    c.phones = phones;
    c.virtual_clock = true;
    c.servers[0] = "https://127.0.0.1:8443";
    c.nservers = 1;
    c.plan.duration_s = duration_s;
    pv_error err;
    if (mix != NULL)
        assert_int_equal(pv_fleet_mix_parse(mix, &c.mix, &err), 0);
    if (tweak)
        tweak(&c);
    pv_fleet *f = NULL;
    int rc = pv_fleet_new(&f, &c, &err);
    if (rc != 0)
        fail_msg("pv_fleet_new: %s", err.msg);
    assert_int_equal(pv_fleet_run(f, &err), 0);
    return f;
}

/* Requests started in [from_ms, to_ms) according to the time series. */
static uint64_t arrivals(const pv_fleet_stats *s, uint64_t from_ms, uint64_t to_ms)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->nslots; i++)
        if (i * s->slot_ms >= from_ms && i * s->slot_ms < to_ms)
            n += s->slot[i].arrivals;
    return n;
}

static void power_restore_spreads_by_resync_random_delay(void **state)
{
    /* MPP: Resync_Random_Delay 2 in 1 s units (DESIGN): every first request within 2 s */
    pv_fleet *f = run("power-restore", 500, "mpp", 0, NULL);
    const pv_fleet_stats *s = pv_fleet_get_stats(f);
    assert_int_equal(s->reached, 500);
    assert_string_equal(pv_fleet_get_summary(f)->stopped_by, "goal");
    assert_int_equal(s->failed, 0);
    assert_int_equal(arrivals(s, 0, 3000), 500);
    uint32_t st[4];
    pv_fleet_prov_states(f, st);
    assert_int_equal(st[PV_AGENT_SEC_PRV_2], 500); /* decrypted with the per-device key */
    pv_fleet_free(f);
    /* SPA: 2 units of 20 s — spread over 40 s, and not beyond */
    f = run("power-restore", 500, "spa", 0, NULL);
    s = pv_fleet_get_stats(f);
    assert_int_equal(s->reached, 500);
    assert_true(arrivals(s, 3000, 40000) > 300);
    assert_int_equal(arrivals(s, 41000, UINT64_MAX), 0);
    uint64_t ms;
    assert_true(pv_fleet_stats_time_to(s, 100, &ms));
    assert_true(ms > 30000 && ms <= 41000);
    pv_fleet_free(f);
}

static void steady_state_resyncs_every_period(void **state)
{
    /* 300 s at Resync_Periodic 60: the boot resync at 0..2 s, then 4 periodic ones */
    pv_fleet *f = run("steady", 200, "mpp", 300, NULL);
    const pv_fleet_stats *s = pv_fleet_get_stats(f);
    assert_string_equal(pv_fleet_get_summary(f)->stopped_by, "duration");
    assert_int_equal(s->requests, 5 * 200);
    assert_int_equal(s->phase[0].requests, 200);     /* boot */
    assert_int_equal(s->phase[1].requests, 4 * 200); /* periodic */
    assert_int_equal(arrivals(s, 3000, 60000), 0);
    assert_int_equal(arrivals(s, 60000, 63000), 200);
    pv_fleet_free(f);
}

static void tweak_narrow(pv_fleet_config *c)
{
    c->max_in_flight = 5;     /* most phones wait for a slot */
    c->plan.random_delay = 0; /* all ask at once */
}

static void waiting_for_a_slot_loses_no_resync(void **state)
{
    /* a phone queued for a slot with nothing to send must still resync later */
    pv_fleet *f = run("steady", 400, "mpp", 300, tweak_narrow);
    const pv_fleet_stats *s = pv_fleet_get_stats(f);
    assert_int_equal(s->requests, 5 * 400);
    assert_int_equal(s->ok, 5 * 400);
    assert_true(s->in_flight_max <= 5);
    /* the wait counts in the latency: 400 requests asked at once through 5 slots, ~1 ms each */
    assert_true(s->phase[0].latency.max > 50 * 1000);
    pv_fleet_free(f);
}

static void daily_wave_is_resync_at_plus_its_spread(void **state)
{
    /* Resync_At 0300 falls 60 s into the run; Resync_At_Random_Delay 600 s */
    pv_fleet *f = run("daily", 300, "mpp,ata", 0, NULL);
    const pv_fleet_stats *s = pv_fleet_get_stats(f);
    assert_int_equal(s->reached, 300);
    assert_int_equal(s->phase[1].requests, 300); /* one each in the wave */
    assert_int_equal(arrivals(s, 41000, 60000), 0);
    assert_int_equal(arrivals(s, 60000, 661000), 300);
    for (uint32_t i = 0; i < 300; i++)
        assert_true(s->goal_ms[i] >= 60000 && s->goal_ms[i] <= 661000);
    uint64_t p50;
    assert_true(pv_fleet_stats_time_to(s, 50, &p50));
    assert_true(p50 > 200000 && p50 < 520000); /* spread, not a spike */
    pv_fleet_free(f);
}

static void tweak_outage(pv_fleet_config *c)
{
    c->plan.period_s = 30;
    c->plan.outage_s = 90;
}

static void outage_fails_then_recovers_on_the_retry_schedule(void **state)
{
    /* period 30 s: outage from 60 s to 150 s */
    pv_fleet *f = run("outage", 300, "mpp", 900, tweak_outage);
    const pv_fleet_stats *s = pv_fleet_get_stats(f);
    assert_string_equal(s->phase[1].name, "outage");
    assert_int_equal(s->phase[1].ok, 0);
    assert_true(s->phase[1].failed >= 300);
    assert_int_equal(s->phase[0].failed, 0);
    assert_int_equal(s->ncauses, 1);
    assert_string_equal(s->cause[0].name, "connect");
    assert_int_equal(s->reached, 300);
    for (uint32_t i = 0; i < 300; i++) /* recovered after the outage, within the schedule */
        assert_true(s->goal_ms[i] >= 150000 && s->goal_ms[i] <= 150000 + 240000 + 2000);
    pv_fleet_free(f);
}

static void firmware_wave_upgrades_every_family(void **state)
{
    pv_fleet *f = run("firmware", 90, "spa,mpp,ata", 0, NULL);
    const pv_fleet_stats *s = pv_fleet_get_stats(f);
    assert_int_equal(s->reached, 90);
    assert_int_equal(s->failed, 0);
    /* per phone: profile, image, profile after the reboot (at least) */
    assert_true(s->requests >= 3 * 90);
    assert_int_equal(s->ncauses, 0);
    pv_fleet_free(f);
}

static void retail_binding_reaches_sec_prv_2(void **state)
{
    pv_fleet *f = run("retail", 120, "spa,mpp", 0, NULL);
    const pv_fleet_stats *s = pv_fleet_get_stats(f);
    assert_int_equal(s->reached, 120);
    uint32_t st[4];
    pv_fleet_prov_states(f, st);
    assert_int_equal(st[PV_AGENT_SEC_PRV_2], 120);
    assert_int_equal(s->requests, 2 * 120); /* the binding, then the encrypted profile */
    for (uint32_t i = 0; i < 120; i++)      /* within the 60 s wave (from 1 s) */
        assert_true(s->goal_ms[i] >= 1000 && s->goal_ms[i] <= 62000);
    pv_fleet_free(f);
}

static void runs_repeat_exactly_and_stop_at_their_bound(void **state)
{
    pv_fleet *a = run("power-restore", 300, "spa,mpp", 0, NULL);
    pv_fleet *b = run("power-restore", 300, "spa,mpp", 0, NULL);
    const pv_fleet_stats *sa = pv_fleet_get_stats(a), *sb = pv_fleet_get_stats(b);
    assert_int_equal(sa->requests, sb->requests);
    assert_memory_equal(sa->goal_ms, sb->goal_ms, 300 * sizeof *sa->goal_ms);
    pv_fleet_free(a);
    pv_fleet_free(b);
    /* a 10 s limit stops a 40 s storm at 10 s with part of the fleet done */
    a = run("power-restore", 300, "spa", 10, NULL);
    sa = pv_fleet_get_stats(a);
    assert_string_equal(pv_fleet_get_summary(a)->stopped_by, "duration");
    assert_int_equal(pv_fleet_get_summary(a)->scenario_ms, 10000);
    assert_true(sa->reached > 0 && sa->reached < 300);
    assert_false(pv_fleet_get_summary(a)->goal_all);
    pv_fleet_free(a);
    /* a duration beyond the scenario's maximum is refused */
    pv_fleet_plan p;
    pv_fleet_plan_options o = {.duration_s = 86401, .random_delay = -1};
    pv_error err;
    assert_int_equal(pv_fleet_plan_make(pv_fleet_scenario_find("steady"), &o, &p, &err), PV_ERANGE);
    assert_non_null(strstr(err.msg, "at most 86400"));
    o.duration_s = 100;
    o.period_s = 60; /* outage 120..240 s does not fit in 100 s */
    assert_int_equal(pv_fleet_plan_make(pv_fleet_scenario_find("outage"), &o, &p, &err), PV_ERANGE);
    assert_null(pv_fleet_scenario_find("no-such"));
}

static void identities_round_trip(void **state)
{
    pv_fleet_mix mix;
    pv_error err;
    assert_int_equal(pv_fleet_mix_parse("spa:1,mpp:2,ata:1", &mix, &err), 0);
    assert_int_equal(mix.total, 4);
    assert_int_equal(pv_fleet_mix_parse("spa:x", &mix, &err), PV_ESYNTAX);
    assert_int_equal(pv_fleet_mix_parse("dect", &mix, &err), PV_ESYNTAX);
    assert_non_null(strstr(err.msg, "unknown family 'dect'"));
    assert_int_equal(pv_fleet_mix_parse("spa:0", &mix, &err), PV_EINVAL);
    assert_int_equal(pv_fleet_mix_parse("spa:1,mpp:2,ata:1", &mix, &err), 0);
    int families[4] = {0};
    for (uint32_t i = 0; i < 4000; i += 1) {
        pv_fleet_ident id;
        pv_fleet_ident_make(7, i, &mix, &id);
        families[id.family]++;
        uint32_t back;
        assert_true(pv_fleet_ident_from_mac(id.mac, &back));
        assert_int_equal(back, i);
        assert_true(pv_fleet_ident_from_code(7, id.code, &back));
        assert_int_equal(back, i);
        assert_false(pv_fleet_ident_from_code(8, id.code, &back)); /* another fleet's seed */
        assert_int_equal(strlen(id.key), 32);
    }
    assert_int_equal(families[PV_AGENT_SPA], 1000);
    assert_int_equal(families[PV_AGENT_MPP], 2000);
    assert_int_equal(families[PV_AGENT_ATA], 1000);
    uint32_t back;
    assert_false(pv_fleet_ident_from_mac("001122334455", &back));
    assert_false(pv_fleet_ident_from_code(7, "zzzzzzzzzzzz", &back));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(power_restore_spreads_by_resync_random_delay),
        cmocka_unit_test(steady_state_resyncs_every_period),
        cmocka_unit_test(waiting_for_a_slot_loses_no_resync),
        cmocka_unit_test(daily_wave_is_resync_at_plus_its_spread),
        cmocka_unit_test(outage_fails_then_recovers_on_the_retry_schedule),
        cmocka_unit_test(firmware_wave_upgrades_every_family),
        cmocka_unit_test(retail_binding_reaches_sec_prv_2),
        cmocka_unit_test(runs_repeat_exactly_and_stop_at_their_bound),
        cmocka_unit_test(identities_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
