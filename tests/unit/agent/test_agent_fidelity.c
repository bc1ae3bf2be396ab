/*
 * Unit tests for the phone engine against real-world shapes (issue "Fidelity"):
 * the SPA50x two-step upgrade rule with a space before '?', the Sipura guide's
 * serverless upgrade and its loop guard, upgrades and calls, $UPGCOND,
 * $VERSION in HTTP_User_Agent_Name, macros in DHCP option 160, and plain-text
 * source profiles (spec 3.3).
 */
#include "world.h"

#define PROFILE(body) "<flat-profile>" body "</flat-profile>"

static void serve_image(world *w, const char *url, const char *version)
{
    char img[256];
    int n = snprintf(img, sizeof img, "PVFW version=%s\n%s-payload", version, version);
    serve(w, url, 200, img, (size_t)n);
}

/* A phone of fam running swver whose Upgrade_Rule is rule. */
static world *upgrading(pv_agent_family fam, const char *model, const char *swver,
                        const char *rule, uint64_t seed)
{
    world *w = world_new(fam, "000e08012345", seed);
    pv_agent_free(w->a);
    w->id.model = model;
    w->id.swver = swver;
    assert_int_equal(pv_agent_new(&w->a, w->defs, &w->id, seed, NULL), 0);
    char xml[1024];
    snprintf(xml, sizeof xml,
             PROFILE("<Resync_Random_Delay>0</Resync_Random_Delay>"
                     "<Profile_Rule>http://p.example/p.xml</Profile_Rule>"
                     "<Upgrade_Rule>%s</Upgrade_Rule>"),
             rule);
    config(w, xml);
    serve_str(w, "http://p.example:80/p.xml", PROFILE("<Station_Name>x</Station_Name>"));
    return w;
}

/* Issue item 1: shipped to every SPA50x for a decade (Wazo's SPA template). */
static void spa504g_two_step_upgrade_with_space(void **state)
{
    world *w = upgrading(PV_AGENT_SPA, "SPA504G", "7.4.9a",
                         "($SWVER lt 7.5.2b) ? http://fw.example/spa50x-30x-7-5-2b.bin | "
                         "http://fw.example/spa50x-30x-7-5-5.bin",
                         41);
    serve_image(w, "http://fw.example:80/spa50x-30x-7-5-2b.bin", "7.5.2b");
    serve_image(w, "http://fw.example:80/spa50x-30x-7-5-5.bin", "7.5.5");
    world_boot(w);
    world_run(w, S(86400));
    assert_int_equal(count_url(w, "http://fw.example:80/spa50x-30x-7-5-2b.bin"), 1);
    assert_int_equal(count_url(w, "http://fw.example:80/spa50x-30x-7-5-5.bin"), 1);
    assert_int_equal(w->reboots, 2);
    assert_string_equal(pv_agent_swver(w->a), "7.5.5");
    world_free(w);
}

/* Issue item 3, spec 1.2: the Sipura guide's `(! 1.0.2)? /spa2000/1-00-02/spa.bin`. */
static void sipura_serverless_upgrade(void **state)
{
    world *w = upgrading(PV_AGENT_SPA, "SPA2102", "1.0.1", "(! 1.0.2)? /spa2000/1-00-02/spa.bin",
                         42);
    pv_agent_set_dhcp_option(w->a, 66, "tftp.example");
    serve_image(w, "tftp://tftp.example:69/spa2000/1-00-02/spa.bin", "1.0.2");
    world_boot(w);
    world_run(w, S(86400));
    assert_int_equal(count_url(w, "tftp://tftp.example:69/spa2000/1-00-02/spa.bin"), 1);
    assert_int_equal(w->reboots, 1);
    assert_string_equal(pv_agent_swver(w->a), "1.0.2");
    world_free(w);
}

/* spec 6, Sipura loop guard: a load that would satisfy the condition again is refused. */
static void sipura_loop_guard(void **state)
{
    world *w = upgrading(PV_AGENT_SPA, "SPA2102", "1.0.1", "(! 1.0.2)? /spa2000/1-00-02/spa.bin",
                         43);
    config(w, PROFILE("<Upgrade_Error_Retry_Delay>0</Upgrade_Error_Retry_Delay>"));
    pv_agent_set_dhcp_option(w->a, 66, "tftp.example");
    serve_image(w, "tftp://tftp.example:69/spa2000/1-00-02/spa.bin", "1.0.3"); /* wrong file */
    world_boot(w);
    world_run(w, S(86400));
    assert_int_equal(w->reboots, 0);
    assert_string_equal(pv_agent_swver(w->a), "1.0.1");
    char *st;
    size_t len;
    pv_agent_status_xml(w->a, w->now, &st, &len);
    assert_non_null(strstr(st, "upgrade loop"));
    free(st);
    world_free(w);
}

#define FW_B "sip88xx.11-3-2MPP-100"

/* spec 6: an upgrade never starts in a call, even after Forced_Resync_Delay. */
static void no_upgrade_in_a_call(void **state)
{
    world *w = upgrading(PV_AGENT_MPP, NULL, NULL, "", 44);
    serve_image(w, "http://fw.example:80/" FW_B ".loads", FW_B);
    world_boot(w);
    world_run(w, S(60));
    size_t before = count_url(w, "http://p.example:80/p.xml");
    pv_agent_set_call(w->a, w->now, true);
    config(w, PROFILE("<Forced_Resync_Delay>60</Forced_Resync_Delay>"
                      "<Resync_Periodic>600</Resync_Periodic>"
                      "<Upgrade_Rule>http://fw.example/" FW_B ".loads</Upgrade_Rule>"));
    world_run(w, S(86400));
    /* the resyncs were forced into the call after Forced_Resync_Delay... */
    assert_true(count_url(w, "http://p.example:80/p.xml") > before);
    /* ...the upgrade was not */
    assert_int_equal(count_url(w, "http://fw.example:80/" FW_B ".loads"), 0);
    assert_int_equal(w->reboots, 0);
    pv_agent_set_call(w->a, w->now, false); /* hang up: the upgrade goes */
    world_run(w, w->now + S(60));
    assert_int_equal(count_url(w, "http://fw.example:80/" FW_B ".loads"), 1);
    assert_int_equal(w->reboots, 1);
    assert_string_equal(pv_agent_swver(w->a), FW_B);
    world_free(w);
}

/* A one-shot /admin/upgrade in a call downloads, but reboots only at the hang-up. */
static void oneshot_upgrade_waits_for_hangup(void **state)
{
    world *w = upgrading(PV_AGENT_MPP, NULL, NULL, "", 45);
    serve_image(w, "http://fw.example:80/" FW_B ".loads", FW_B);
    world_boot(w);
    world_run(w, S(120));
    pv_agent_set_call(w->a, w->now, true);
    pv_error err;
    assert_int_equal(pv_agent_upgrade(w->a, w->now, "http://fw.example/" FW_B ".loads", &err), 0);
    world_run(w, w->now + S(600));
    assert_int_equal(count_url(w, "http://fw.example:80/" FW_B ".loads"), 1);
    assert_int_equal(w->reboots, 0); /* not in the middle of the call */
    pv_agent_set_call(w->a, w->now, false);
    world_drain(w);
    assert_int_equal(w->reboots, 1);
    assert_string_equal(pv_agent_swver(w->a), FW_B);
    world_free(w);
}

/* spec 2.2: $UPGCOND "always expands to true" from 2.0.6. */
static void upgcond_is_true(void **state)
{
    world *w = world_new(PV_AGENT_SPA, "000e08012345", 46);
    serve_str(w, "http://p.example:80/true.xml", PROFILE("<Station_Name>t</Station_Name>"));
    world_boot(w);
    pv_error err;
    assert_int_equal(pv_agent_resync(w->a, w->now, "http://p.example/$UPGCOND.xml", &err), 0);
    world_drain(w);
    assert_int_equal(count_url(w, "http://p.example:80/true.xml"), 1);
    assert_string_equal(param(w, "Station_Name"), "t");
    world_free(w);
}

/* FusionPBX's HTTP_User_Agent_Name `$VERSION ($MA)` rebuilds the default User-Agent. */
static void version_in_user_agent(void **state)
{
    world *w = world_new(PV_AGENT_MPP, "000e08012345", 47);
    char def[128], custom[128];
    pv_agent_user_agent(w->a, def, sizeof def);
    config(w, PROFILE("<HTTP_User_Agent_Name>$VERSION ($MA)</HTTP_User_Agent_Name>"));
    pv_agent_user_agent(w->a, custom, sizeof custom);
    assert_string_equal(custom, "Cisco-CP-8841-3PCC/11.3.1 (000e08012345)");
    assert_string_equal(custom, def);
    world_free(w);
}

/* spec 10: option 160 is a URL like the rules' — `…/$PSN.xml` is expanded. */
static void dhcp_option_160_expanded(void **state)
{
    world *w = world_new(PV_AGENT_MPP, "000e08012345", 48);
    pv_agent_set_dhcp_option(w->a, 160, "http://dhcp.example/prov/$PSN.xml");
    serve_str(w, "http://dhcp.example:80/prov/8841-3PCC.xml",
              PROFILE("<Station_Name>dhcp</Station_Name>"));
    world_boot(w);
    world_run(w, S(600));
    assert_true(count_url(w, "http://dhcp.example:80/prov/8841-3PCC.xml") >= 1);
    assert_string_equal(param(w, "Station_Name"), "dhcp");
    world_free(w);
}

/* spec 3.3: a phone takes XML or the compiled binary, never the plain-text source. */
static void text_source_refused(void **state)
{
    world *w = world_new(PV_AGENT_SPA, "000e08012345", 49);
    serve_str(w, "http://p.example:80/spa.txt", "Station_Name \"text\";\n");
    world_boot(w);
    pv_error err;
    assert_int_equal(pv_agent_resync(w->a, w->now, "http://p.example/spa.txt", &err), 0);
    world_drain(w);
    assert_int_equal(count_url(w, "http://p.example:80/spa.txt"), 1);
    assert_string_not_equal(param(w, "Station_Name") ? param(w, "Station_Name") : "", "text");
    assert_non_null(strstr(pv_agent_last_error(w->a), "spec 3.3"));
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spa504g_two_step_upgrade_with_space),
        cmocka_unit_test(sipura_serverless_upgrade),
        cmocka_unit_test(sipura_loop_guard),
        cmocka_unit_test(no_upgrade_in_a_call),
        cmocka_unit_test(oneshot_upgrade_waits_for_hangup),
        cmocka_unit_test(upgcond_is_true),
        cmocka_unit_test(version_in_user_agent),
        cmocka_unit_test(dhcp_option_160_expanded),
        cmocka_unit_test(text_source_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
