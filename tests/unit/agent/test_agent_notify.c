/*
 * Unit tests for the engine's side of SIP NOTIFY (spec 5.5): a resync that ignores the MPP
 * trigger gate (spec 5.4), Resync_From_SIP, the idle rule for resync and reboot (spec 5.3),
 * the report, and Auth_Resync-Reboot_n_.
 */
#include "world.h"

#define PROFILE(body) "<flat-profile>" body "</flat-profile>"
#define URL "http://prov.example.com:80/p.xml"

static world *gated_mpp(uint64_t seed)
{
    world *w = world_new(PV_AGENT_MPP, "000e08aabb60", seed);
    config(w, PROFILE("<Resync_Random_Delay>0</Resync_Random_Delay><Resync_On_Reset>No</"
                      "Resync_On_Reset><Resync_Periodic>60</Resync_Periodic>"
                      "<Resync_Trigger_1>$PRVTMR gt 99999999</Resync_Trigger_1>"
                      "<Profile_Rule>http://prov.example.com/p.xml</Profile_Rule>"
                      "<Report_Rule>http://prov.example.com/r.xml</Report_Rule>"));
    serve_str(w, URL, PROFILE("<GPP_A>x</GPP_A>"));
    serve_str(w, "http://prov.example.com:80/r.xml", "");
    world_boot(w);
    return w;
}

static void events_parse(void **state)
{
    pv_agent_sip_event ev;
    assert_int_equal(pv_agent_sip_event_parse("resync", &ev), 0);
    assert_int_equal(ev, PV_AGENT_SIP_RESYNC);
    assert_int_equal(pv_agent_sip_event_parse("check-sync", &ev), 0);
    assert_int_equal(ev, PV_AGENT_SIP_RESYNC);
    assert_int_equal(pv_agent_sip_event_parse("reboot_now", &ev), 0);
    assert_int_equal(ev, PV_AGENT_SIP_REBOOT);
    assert_int_equal(pv_agent_sip_event_parse("restart_now", &ev), 0);
    assert_int_equal(pv_agent_sip_event_parse("report", &ev), 0);
    assert_int_equal(ev, PV_AGENT_SIP_REPORT);
    assert_int_equal(pv_agent_sip_event_parse("presence", &ev), PV_ENOENT);
    assert_int_equal(pv_agent_sip_event_parse(NULL, &ev), PV_ENOENT);
}

/* spec 5.4: the gate stops the periodic resync; a NOTIFY goes through it. */
static void notify_resync_ignores_the_trigger_gate(void **state)
{
    world *w = gated_mpp(61);
    world_run(w, S(600));
    assert_int_equal(count_url(w, URL), 0); /* ten periodic resyncs dropped by the gate */
    pv_error err;
    assert_int_equal(pv_agent_sip_notify(w->a, w->now, PV_AGENT_SIP_RESYNC, &err), 0);
    world_drain(w);
    assert_int_equal(count_url(w, URL), 1);
    assert_string_equal(param(w, "GPP_A"), "x");
    world_run(w, S(1200));
    assert_int_equal(count_url(w, URL), 1); /* the gate is closed again for timed ones */
    world_free(w);
}

static void resync_from_sip_no_refuses(void **state)
{
    world *w = gated_mpp(62);
    set(w, "Resync_From_SIP", "No");
    pv_error err;
    assert_int_equal(pv_agent_sip_notify(w->a, w->now, PV_AGENT_SIP_RESYNC, &err), PV_EACCES);
    assert_non_null(strstr(err.msg, "Resync_From_SIP"));
    world_run(w, S(120));
    assert_int_equal(count_url(w, URL), 0);
    world_free(w);
}

/* spec 5.3: during a call a NOTIFY resync or reboot waits for the hang-up. */
static void notify_waits_for_idle(void **state)
{
    world *w = gated_mpp(63);
    pv_agent_set_call(w->a, w->now, true);
    pv_error err;
    assert_int_equal(pv_agent_sip_notify(w->a, w->now, PV_AGENT_SIP_RESYNC, &err), 0);
    assert_int_equal(pv_agent_sip_notify(w->a, w->now, PV_AGENT_SIP_REBOOT, &err), 0);
    world_run(w, S(300));
    assert_int_equal(count_url(w, URL), 0);
    assert_int_equal(w->reboots, 0);
    pv_agent_set_call(w->a, w->now, false);
    world_drain(w);
    assert_int_equal(count_url(w, URL), 1);
    assert_int_equal(w->reboots, 1); /* after the resync it queued first */
    world_free(w);
}

static void notify_report_uploads(void **state)
{
    world *w = gated_mpp(64);
    pv_error err;
    assert_int_equal(pv_agent_sip_notify(w->a, w->now, PV_AGENT_SIP_REPORT, &err), 0);
    world_drain(w);
    assert_int_equal(count_url(w, "http://prov.example.com:80/r.xml"), 1);
    world_free(w);
}

static void auth_resync_reboot_per_line(void **state)
{
    world *w = gated_mpp(65);
    assert_true(pv_agent_sip_auth_required(w->a, 1)); /* default Yes */
    set(w, "Auth_Resync-Reboot_1_", "No");
    assert_false(pv_agent_sip_auth_required(w->a, 1));
    assert_true(pv_agent_sip_auth_required(w->a, 7)); /* no such line: challenge */
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(events_parse),
        cmocka_unit_test(notify_resync_ignores_the_trigger_gate),
        cmocka_unit_test(resync_from_sip_no_refuses),
        cmocka_unit_test(notify_waits_for_idle),
        cmocka_unit_test(notify_report_uploads),
        cmocka_unit_test(auth_resync_reboot_per_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
