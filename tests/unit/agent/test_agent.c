/*
 * Unit tests for the phone engine (src/agent): resync rules, the spec 8.3
 * status table, timers on a virtual clock, whole-or-nothing profiles and the
 * status indicator. Upgrades, reports, access and state: test_agent_more.c.
 */
/* Covers src/agent/agent_store.c (parameters and access), the resync machines and vars.c (the
 * values rules and triggers expand: $PRVTMR, GPP registers). */
#include "world.h"

#include "core/device_id.h"
#include "core/gzip.h"

#define PROFILE(body) "<flat-profile>" body "</flat-profile>"
#define OK_PROFILE PROFILE("<Station_Name>provisioned</Station_Name>")

/* A multiplatform phone whose resync goes to url at boot without delay. */
static world *mpp_with_rule(const char *rule, uint64_t seed)
{
    world *w = world_new(PV_AGENT_MPP, "00:0e:08:aa:bb:cc", seed);
    char xml[512];
    snprintf(xml, sizeof xml,
             PROFILE("<Resync_Random_Delay>0</Resync_Random_Delay><Profile_Rule>%s</Profile_Rule>"),
             rule);
    config(w, xml);
    return w;
}

static void resync(world *w)
{
    pv_error err;
    int rc = pv_agent_resync(w->a, w->now, NULL, &err);
    if (rc != 0)
        fail_msg("resync: %s", err.msg);
    world_drain(w);
}

/* spec 1.3, 5.1, 10 and DESIGN: factory rule per family, DHCP server, 20 s vs 1 s units. */
static void boot_delay_units_and_factory_rules(void **state)
{
    struct {
        pv_agent_family fam;
        const char *url;
        uint64_t max;
    } cases[] = {
        {PV_AGENT_SPA, "tftp://10.0.0.1:69/spa504G.cfg", S(40)},  /* 2 units of 20 s */
        {PV_AGENT_MPP, "tftp://10.0.0.1:69/8841-3PCC.xml", S(2)}, /* 2 units of 1 s */
        {PV_AGENT_ATA, "https://10.0.0.1:443/ata191.cfg", S(40)}, /* Transport_Protocol https */
    };
    for (size_t c = 0; c < 3; c++) {
        uint64_t latest = 0;
        for (uint64_t seed = 1; seed <= 40; seed++) {
            world *w = world_new(cases[c].fam, "000e08aabbcc", seed);
            pv_agent_set_dhcp_option(w->a, 66, "10.0.0.1");
            serve_str(w, cases[c].url, OK_PROFILE);
            world_boot(w);
            world_run(w, S(100));
            assert_int_equal(w->nseen, 1);
            assert_string_equal(w->seen[0].url, cases[c].url);
            assert_true(w->seen[0].at <= cases[c].max);
            latest = w->seen[0].at > latest ? w->seen[0].at : latest;
            assert_string_equal(param(w, "Station_Name"), "provisioned");
            world_free(w);
        }
        assert_true(latest > cases[c].max / 2); /* jitter spreads over the window */
    }
}

/* spec 5.2: 1800,3600,7200 then 7200 forever; slow blink; recovery. */
static void outage_retry_schedule_and_recovery(void **state)
{
    world *w = mpp_with_rule("http://prov.example.com/p.xml", 7);
    config(w, PROFILE("<Resync_Error_Retry_Delay>1800,3600,7200</Resync_Error_Retry_Delay>"));
    world_boot(w);
    world_run(w, S(1800 + 3600 + 7200 * 3));
    uint64_t want[] = {0, 1800, 5400, 12600, 19800, 27000};
    assert_int_equal(w->nseen, 6);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(w->seen[i].at, S(want[i]));
    assert_int_equal(pv_agent_get_led(w->a), PV_AGENT_LED_SLOW_BLINK);
    const uint16_t *ms;
    assert_int_equal(pv_agent_led_pattern(PV_AGENT_LED_SLOW_BLINK, &ms), 2);
    assert_int_equal(ms[0], 1000);
    assert_int_equal(ms[1], 1000);
    assert_non_null(strstr(w->logs[1], "Resync failed: Connection error"));
    /* the server comes back: the next retry succeeds, then Resync_Periodic (3600) */
    serve_str(w, "http://prov.example.com:80/p.xml", OK_PROFILE);
    world_run(w, S(27000 + 7200 + 3600));
    assert_int_equal(w->nseen, 8);
    assert_int_equal(w->seen[6].at, S(34200));
    assert_int_equal(w->seen[7].at, S(34200 + 3600));
    assert_int_equal(pv_agent_get_led(w->a), PV_AGENT_LED_NORMAL);
    world_free(w);
}

/* The MPP default retry schedule starts at 60 s and doubles (spec 5.1). */
static void mpp_default_retry_schedule(void **state)
{
    world *w = mpp_with_rule("http://prov.example.com/p.xml", 1);
    world_boot(w);
    world_run(w, S(60 + 120 + 240 + 1));
    assert_int_equal(w->nseen, 4);
    assert_int_equal(w->seen[1].at, S(60));
    assert_int_equal(w->seen[2].at, S(180));
    assert_int_equal(w->seen[3].at, S(420));
    world_free(w);
}

/* spec 5.3 and DESIGN: wait while busy, at most Forced_Resync_Delay. */
static void idle_rule_and_forced_resync_delay(void **state)
{
    world *w = mpp_with_rule("http://prov.example.com/p.xml", 2);
    config(w, PROFILE("<Forced_Resync_Delay>600</Forced_Resync_Delay>"));
    serve_str(w, "http://prov.example.com:80/p.xml", OK_PROFILE);
    world_boot(w);
    world_run(w, S(3500));
    assert_int_equal(w->nseen, 1);
    pv_agent_set_call(w->a, w->now, true);
    world_run(w, S(3900)); /* periodic due at 3600: waits for the call */
    assert_int_equal(w->nseen, 1);
    pv_agent_set_call(w->a, w->now, false); /* hang up: goes at once */
    world_drain(w);
    assert_int_equal(w->nseen, 2);
    assert_int_equal(w->seen[1].at, S(3900));
    pv_agent_set_call(w->a, w->now, true); /* a long call: due 7500, forced at 8100 */
    world_run(w, S(8099));
    assert_int_equal(w->nseen, 2);
    world_run(w, S(8200));
    assert_int_equal(w->nseen, 3);
    assert_int_equal(w->seen[2].at, S(8100));
    world_free(w);
}

/* spec 5.4: SPA triggers fire a resync; MPP triggers gate the timed ones. */
static void triggers_fire_on_spa_and_gate_on_mpp(void **state)
{
    world *w = world_new(PV_AGENT_SPA, "000e08aabbcc", 3);
    config(w, PROFILE(
                  "<Resync_Random_Delay>0</Resync_Random_Delay><Resync_Periodic>0</Resync_Periodic>"
                  "<Profile_Rule>http://p.example/s.cfg</Profile_Rule>"
                  "<Resync_Trigger_1>$PRVTMR ge 600</Resync_Trigger_1>"));
    serve_str(w, "http://p.example:80/s.cfg", OK_PROFILE);
    world_boot(w);
    world_run(w, S(2000));
    assert_int_equal(w->nseen, 4); /* 0, then every ~600 s */
    for (size_t i = 1; i < 4; i++) {
        uint64_t gap = w->seen[i].at - w->seen[i - 1].at;
        assert_true(gap >= S(600) && gap <= S(630));
    }
    world_free(w);

    w = mpp_with_rule("http://p.example/m.xml", 4);
    config(w, PROFILE("<Resync_Periodic>300</Resync_Periodic>"
                      "<Resync_Trigger_1>$PRVTMR ge 900</Resync_Trigger_1>"));
    serve_str(w, "http://p.example:80/m.xml", OK_PROFILE);
    world_boot(w);
    world_run(w, S(2000)); /* boot, 300, 600 gated; 900 opens; 1200, 1500 gated; 1800 */
    assert_int_equal(w->nseen, 2);
    assert_int_equal(w->seen[0].at, S(900));
    assert_int_equal(w->seen[1].at, S(1800));
    pv_error err; /* a direct request ignores the gate */
    assert_int_equal(pv_agent_resync(w->a, w->now, NULL, &err), 0);
    world_drain(w);
    assert_int_equal(w->nseen, 3);
    world_free(w);
}

/* spec 8.3: 301/302 retried at Location (absolute or path), loops stop. */
static void redirects_are_followed(void **state)
{
    world *w = mpp_with_rule("http://a.example/p.xml", 5);
    answer *x = serve(w, "http://a.example:80/p.xml", 302, NULL, 0);
    snprintf(x->location, sizeof x->location, "https://b.example:8443/q.xml");
    x = serve(w, "https://b.example:8443/q.xml", 301, NULL, 0);
    snprintf(x->location, sizeof x->location, "/r.xml");
    serve_str(w, "https://b.example:8443/r.xml", OK_PROFILE);
    world_boot(w);
    assert_int_equal(w->nseen, 3);
    assert_string_equal(param(w, "Station_Name"), "provisioned");
    world_free(w);

    w = mpp_with_rule("http://a.example/loop.xml", 5);
    x = serve(w, "http://a.example:80/loop.xml", 302, NULL, 0);
    snprintf(x->location, sizeof x->location, "http://a.example/loop.xml");
    world_boot(w);
    assert_int_equal(w->nseen, 6); /* the first request and 5 redirects */
    assert_non_null(strstr(pv_agent_last_error(w->a), "too many redirects"));
    assert_int_equal(pv_agent_get_led(w->a), PV_AGENT_LED_SLOW_BLINK); /* class C */
    world_free(w);
}

/* spec 8.2, 8.3: 401/407 answered with --uid/--pwd, at most 2 retries. */
static void auth_retries_with_credentials(void **state)
{
    world *w = mpp_with_rule("[--uid alice --pwd s3cret] http://a.example/p.xml", 6);
    serve_str(w, "http://a.example:80/p.xml", OK_PROFILE)->need_auth = true;
    world_boot(w);
    assert_int_equal(w->nseen, 2);
    assert_false(w->seen[0].creds);
    assert_true(w->seen[1].creds);
    assert_string_equal(param(w, "Station_Name"), "provisioned");
    world_free(w);

    w = mpp_with_rule("[--uid alice --pwd wrong] http://a.example/p.xml", 6);
    serve(w, "http://a.example:80/p.xml", 401, NULL, 0);
    world_boot(w);
    assert_int_equal(w->nseen, 3); /* 1 + 2 retries, then class C */
    assert_int_equal(pv_agent_get_led(w->a), PV_AGENT_LED_SLOW_BLINK);
    world_free(w);

    w = mpp_with_rule("http://a.example/p.xml", 6); /* no credentials: no retry */
    serve(w, "http://a.example:80/p.xml", 407, NULL, 0);
    world_boot(w);
    assert_int_equal(w->nseen, 1);
    world_free(w);
}

/* spec 1.3: Resync_Fails_On_FNF both ways; spec 8.3: 404 is class B (fast blink). */
static void file_not_found_both_ways(void **state)
{
    for (int fails = 0; fails < 2; fails++) {
        world *w = mpp_with_rule("http://a.example/missing.xml", 8);
        config(w, fails ? PROFILE("<Profile_Rule_B>http://a.example/b.xml</Profile_Rule_B>")
                        : PROFILE("<Profile_Rule_B>http://a.example/b.xml</Profile_Rule_B>"
                                  "<Resync_Fails_On_FNF>No</Resync_Fails_On_FNF>"));
        serve(w, "http://a.example:80/missing.xml", 404, NULL, 0);
        serve_str(w, "http://a.example:80/b.xml", OK_PROFILE);
        world_boot(w);
        assert_int_equal(w->nseen, fails ? 1 : 2);
        assert_int_equal(pv_agent_get_led(w->a),
                         fails ? PV_AGENT_LED_FAST_BLINK : PV_AGENT_LED_NORMAL);
        if (fails) {
            const uint16_t *ms;
            assert_int_equal(pv_agent_led_pattern(pv_agent_get_led(w->a), &ms), 4);
            assert_int_equal(ms[0] + ms[1] + ms[2] + ms[3], 2000);
            assert_int_equal(ms[3], 1400);
            assert_string_equal(pv_agent_last_error(w->a), "File not found");
        }
        world_free(w);
    }
}

/* spec 1.3: _B.._D in order, later wins, a profile may chain the next rule,
 * the first failure stops the sequence; a blank Profile_Rule still runs _B. */
static void rules_in_order_and_stop_on_failure(void **state)
{
    world *w = mpp_with_rule("http://s.example/1.xml", 9);
    config(w, PROFILE("<Profile_Rule_C>http://s.example/3.xml</Profile_Rule_C>"
                      "<Profile_Rule_D>http://s.example/4.xml</Profile_Rule_D>"));
    serve_str(w, "http://s.example:80/1.xml",
              PROFILE("<Station_Name>one</Station_Name><Display_Name_1_>d1</Display_Name_1_>"
                      "<Profile_Rule_B>http://s.example/$MA.xml</Profile_Rule_B>"));
    serve_str(w, "http://s.example:80/000e08aabbcc.xml",
              PROFILE("<Station_Name>two</Station_Name>"));
    serve(w, "http://s.example:80/3.xml", 500, NULL, 0);
    serve_str(w, "http://s.example:80/4.xml", PROFILE("<Station_Name>four</Station_Name>"));
    world_boot(w);
    assert_int_equal(w->nseen, 3);
    assert_string_equal(w->seen[1].url, "http://s.example:80/000e08aabbcc.xml");
    assert_string_equal(w->seen[2].url, "http://s.example:80/3.xml");
    assert_string_equal(param(w, "Station_Name"), "two"); /* later profile wins */
    assert_string_equal(param(w, "Display_Name_1_"), "d1");
    assert_int_equal(pv_agent_get_led(w->a), PV_AGENT_LED_SLOW_BLINK);

    config(w, PROFILE("<Profile_Rule></Profile_Rule><Profile_Rule_C></Profile_Rule_C>"));
    pv_error err;
    assert_int_equal(pv_agent_resync(w->a, w->now, NULL, &err), 0);
    world_drain(w);
    assert_int_equal(w->nseen, 5); /* _B then _D */
    assert_string_equal(w->seen[4].url, "http://s.example:80/4.xml");
    assert_string_equal(param(w, "Station_Name"), "four");
    world_free(w);
}

/* Whole or nothing: a corrupt profile changes nothing and shows the fast blink. */
static void corrupt_profile_leaves_config(void **state)
{
    world *w = mpp_with_rule("http://s.example/p.xml", 10);
    serve_str(w, "http://s.example:80/p.xml", OK_PROFILE);
    world_boot(w);
    assert_string_equal(param(w, "Station_Name"), "provisioned");
    serve_str(w, "http://s.example:80/p.xml",
              "<flat-profile><Station_Name>bad</Station_Name><Display_Name_1_>x</Broken>");
    pv_error err;
    assert_int_equal(pv_agent_resync(w->a, w->now, NULL, &err), 0);
    world_drain(w);
    assert_string_equal(param(w, "Station_Name"), "provisioned");
    assert_string_equal(param(w, "Display_Name_1_"), "");
    assert_int_equal(pv_agent_get_led(w->a), PV_AGENT_LED_FAST_BLINK);
    assert_non_null(strstr(pv_agent_last_error(w->a), "corrupt file"));
    serve(w, "http://s.example:80/p.xml", 200, "", 0); /* empty: corrupt as well */
    assert_int_equal(pv_agent_resync(w->a, w->now, NULL, &err), 0);
    world_drain(w);
    assert_string_equal(pv_agent_last_error(w->a), "Zero file size");
    /* spec 2 ($ERR): the result of this resync — a success clears the last failure. */
    serve_str(w, "http://s.example:80/p.xml", OK_PROFILE);
    assert_int_equal(pv_agent_resync(w->a, w->now, NULL, &err), 0);
    world_drain(w);
    assert_string_equal(pv_agent_last_error(w->a), "");
    assert_int_equal(pv_agent_get_led(w->a), PV_AGENT_LED_NORMAL);
    world_free(w);
}

/* spec 1.5, 1.1 --post, 2.2 macros; spec 3.2 gzip detected by content. */
static void assignments_post_and_gzip(void **state)
{
    world *w =
        mpp_with_rule("( GPP_C = \"$MA\" ; d = \"x$PSN\" ; )! [--post f] http://s.example/r?q", 11);
    config(w, PROFILE("<GPP_F>Product = \"$PN\"; MAC_Addr = \"$MA\"; Ser_Num = \"$SN\";</GPP_F>"));
    const char *xml = OK_PROFILE;
    pv_buf gz = {0};
    assert_int_equal(pv_gzip_compress(pv_slice_from(xml), 0, &gz, NULL), 0);
    serve(w, "http://s.example:80/r?q", 200, gz.data, gz.len);
    pv_buf_free(&gz);
    world_boot(w);
    assert_int_equal(w->nseen, 1);
    assert_string_equal(w->seen[0].method, "POST");
    assert_string_equal(
        w->seen[0].body.data,
        "Product = \"CP-8841-3PCC\"; MAC_Addr = \"000e08aabbcc\"; Ser_Num = \"FCH08AABBCC\";");
    assert_string_equal(param(w, "GPP_C"), "000e08aabbcc");
    assert_string_equal(param(w, "GPP_D"), "x8841-3PCC");
    assert_string_equal(param(w, "Station_Name"), "provisioned");
    /* spec 7.3: the request log line, expanded */
    assert_string_equal(
        w->logs[0], "CP-8841-3PCC 00:0e:08:aa:bb:cc -- Requesting resync http://s.example:80/r?q");
    world_free(w);
}

/* spec 5.1: Resync_At wins over Resync_Periodic, with its random spread. */
static void resync_at_daily(void **state)
{
    world *w = mpp_with_rule("http://s.example/p.xml", 12);
    config(w, PROFILE("<Resync_At__HHmm_>0300</Resync_At__HHmm_>"
                      "<Resync_At_Random_Delay>60</Resync_At_Random_Delay>"));
    serve_str(w, "http://s.example:80/p.xml", OK_PROFILE);
    pv_agent_set_time_of_day(w->a, 0, 23 * 3600 * 1000); /* 23:00 at time 0 */
    world_boot(w);
    world_run(w, S(2 * 86400));
    assert_int_equal(w->nseen, 3); /* boot, then ~03:00 on two days */
    uint64_t at = w->seen[1].at;   /* 4 h later, plus up to 10 min (MPP: < 600 is 600) */
    assert_true(at >= S(4 * 3600) && at <= S(4 * 3600 + 600));
    world_free(w);
}

/* Provision_Enable gates every resync, the one-shot included (spec 5.1). */
static void provision_enable_gates(void **state)
{
    world *w = mpp_with_rule("http://s.example/p.xml", 13);
    config(w, PROFILE("<Provision_Enable>No</Provision_Enable>"));
    world_boot(w);
    world_run(w, S(86400));
    assert_int_equal(w->nseen, 0);
    pv_error err;
    assert_int_equal(pv_agent_resync(w->a, w->now, "http://s.example/x.xml", &err), PV_EACCES);
    world_free(w);
}

/* DESIGN: an unknown --option fails the rule with a clear error, class C. */
static void bad_rule_is_a_clear_failure(void **state)
{
    world *w = mpp_with_rule("[--frobnicate] http://s.example/p.xml", 14);
    world_boot(w);
    assert_int_equal(w->nseen, 0);
    assert_non_null(strstr(pv_agent_last_error(w->a), "Profile_Rule"));
    assert_int_equal(pv_agent_get_led(w->a), PV_AGENT_LED_SLOW_BLINK);
    world_free(w);
}

/* spec 10 and DESIGN: DHCP options in DHCP_Option_To_Use order; 160 is a URL. */
static void dhcp_options_in_order(void **state)
{
    world *w = world_new(PV_AGENT_MPP, "000e08aabbcc", 15);
    config(w, PROFILE("<Resync_Random_Delay>0</Resync_Random_Delay>"));
    pv_agent_set_dhcp_option(w->a, 160, "http://boot.example:8080/mpp/start.xml");
    pv_agent_set_dhcp_option(w->a, 150, "10.0.0.7, 10.0.0.8");
    assert_int_equal(pv_agent_set_dhcp_option(w->a, 43, "x"), PV_ENOTSUP);
    world_boot(w);
    assert_string_equal(w->seen[0].url, "http://boot.example:8080/mpp/start.xml");
    set(w, "DHCP_Option_To_Use", "150,160");
    resync(w);
    assert_string_equal(w->seen[1].url, "tftp://10.0.0.7:69/8841-3PCC.xml");
    pv_agent_set_dhcp_option(w->a, 150, NULL);
    set(w, "Profile_Rule", "/cfg/$MA.xml"); /* 160 host only gives the server for other rules */
    resync(w);
    assert_string_equal(w->seen[2].url, "http://boot.example:8080/cfg/000e08aabbcc.xml");
    world_free(w);
}

/* spec 9: Restricted_Access_Domains holds targets and redirects in the list. */
static void restricted_access_domains(void **state)
{
    world *w = mpp_with_rule("http://evil.example/p.xml", 16);
    config(w, PROFILE("<Restricted_Access_Domains>prov.example.com, "
                      "tel.example</Restricted_Access_Domains>"));
    world_boot(w);
    assert_int_equal(w->nseen, 0);
    assert_non_null(strstr(pv_agent_last_error(w->a), "Restricted_Access_Domains"));
    set(w, "Profile_Rule", "http://a.tel.example/p.xml");
    answer *x = serve(w, "http://a.tel.example:80/p.xml", 302, NULL, 0);
    snprintf(x->location, sizeof x->location, "http://nottel.example/p.xml");
    resync(w);
    assert_int_equal(w->nseen, 1);
    assert_non_null(strstr(pv_agent_last_error(w->a), "bad redirect"));
    world_free(w);
}

/* spec 8.1: the User-Agent of each family parses back as that phone's. */
static void user_agents(void **state)
{
    pv_agent_family fams[] = {PV_AGENT_SPA, PV_AGENT_MPP, PV_AGENT_ATA};
    const char *want[] = {"Cisco/SPA504G-7.6.2 (000E08AABBCC)(FCH08AABBCC)",
                          "Cisco-CP-8841-3PCC/11.3.1 (000e08aabbcc)",
                          "Cisco/ATA191-MPP-11-1-0MPP-19 (FCH08AABBCC)"};
    for (size_t i = 0; i < 3; i++) {
        world *w = world_new(fams[i], "000e08aabbcc", 17);
        char ua[160];
        pv_agent_user_agent(w->a, ua, sizeof ua);
        assert_string_equal(ua, want[i]);
        pv_user_agent parsed;
        assert_int_equal(pv_user_agent_parse(pv_slice_from(ua), &parsed, NULL), 0);
        assert_int_equal((int)parsed.family, (int)fams[i]); /* same order as pv_family */
        if (fams[i] == PV_AGENT_MPP) {
            set(w, "HTTP_User_Agent_Name", "Acme $PN ($MA)");
            pv_agent_user_agent(w->a, ua, sizeof ua);
            assert_string_equal(ua, "Acme CP-8841-3PCC (000e08aabbcc)");
        }
        world_free(w);
    }
}

/* spec 1.1 --alias: a foreign XML mapped through GPP_x. */
static void alias_maps_foreign_xml(void **state)
{
    world *w = mpp_with_rule("[--alias a] http://s.example/foreign.xml", 18);
    config(w, PROFILE("<GPP_A>/device/name = /flat-profile/Station_Name ;</GPP_A>"));
    serve_str(w, "http://s.example:80/foreign.xml", "<device><name>Lobby</name></device>");
    world_boot(w);
    assert_string_equal(param(w, "Station_Name"), "Lobby");
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(boot_delay_units_and_factory_rules),
        cmocka_unit_test(outage_retry_schedule_and_recovery),
        cmocka_unit_test(mpp_default_retry_schedule),
        cmocka_unit_test(idle_rule_and_forced_resync_delay),
        cmocka_unit_test(triggers_fire_on_spa_and_gate_on_mpp),
        cmocka_unit_test(redirects_are_followed),
        cmocka_unit_test(auth_retries_with_credentials),
        cmocka_unit_test(file_not_found_both_ways),
        cmocka_unit_test(rules_in_order_and_stop_on_failure),
        cmocka_unit_test(corrupt_profile_leaves_config),
        cmocka_unit_test(assignments_post_and_gzip),
        cmocka_unit_test(resync_at_daily),
        cmocka_unit_test(provision_enable_gates),
        cmocka_unit_test(bad_rule_is_a_clear_failure),
        cmocka_unit_test(dhcp_options_in_order),
        cmocka_unit_test(restricted_access_domains),
        cmocka_unit_test(user_agents),
        cmocka_unit_test(alias_maps_foreign_xml),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
