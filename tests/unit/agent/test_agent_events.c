/*
 * Unit tests for the phone engine, part three: what the world does to a phone
 * outside its timers — one-shot requests refused at once (bad rule, domain
 * outside Restricted_Access_Domains), the network coming up (spec 5.1), the
 * IVR factory reset and Protect_IVR_FactoryReset (spec 12.2), the report
 * uploaded at restart and shutdown (spec 7.1), and MPP `.loads` manifests whose
 * files are fetched from the same directory (spec 6).
 */
#include "world.h"

#define PROFILE(body) "<flat-profile>" body "</flat-profile>"

static size_t uploads(const world *w)
{
    size_t n = 0;
    for (size_t i = 0; i < w->nseen; i++)
        n += w->seen[i].kind == PV_AGENT_ACT_UPLOAD;
    return n;
}

/* spec 9 and the web server: a rule that cannot run is refused at once, nothing starts. */
static void oneshot_errors_are_immediate(void **state)
{
    world *w = world_new(PV_AGENT_MPP, "000e08aabb10", 51);
    config(w, PROFILE("<Resync_On_Reset>No</Resync_On_Reset>"
                      "<Restricted_Access_Domains>prov.example.com</Restricted_Access_Domains>"));
    world_boot(w);
    pv_error err = {{0}};
    assert_int_equal(
        pv_agent_resync(w->a, w->now, "[--frobnicate] http://prov.example.com/p", &err),
        PV_ESYNTAX);
    assert_non_null(strstr(err.msg, "frobnicate"));
    assert_int_equal(pv_agent_resync(w->a, w->now, "(\"$MA\" eq ? http://prov.example.com/p", &err),
                     PV_ESYNTAX);
    assert_int_equal(pv_agent_resync(w->a, w->now, "http://evil.example/p.xml", &err), PV_EACCES);
    assert_non_null(strstr(err.msg, "Restricted_Access_Domains"));
    assert_int_equal(pv_agent_upgrade(w->a, w->now, "http://evil.example/fw.loads", &err),
                     PV_EACCES);
    world_drain(w);
    assert_int_equal(w->nseen, 0); /* nothing went out */
    assert_int_equal(pv_agent_get_led(w->a), PV_AGENT_LED_NORMAL);
    assert_string_equal(pv_agent_last_error(w->a), ""); /* nor was a failed resync recorded */
    /* a subdomain is inside; a network error is still reported later, not at once */
    assert_int_equal(pv_agent_resync(w->a, w->now, "http://a.prov.example.com/p.xml", &err), 0);
    world_drain(w);
    assert_int_equal(w->nseen, 1);
    assert_int_equal(pv_agent_get_led(w->a), PV_AGENT_LED_SLOW_BLINK);
    assert_non_null(strstr(pv_agent_last_error(w->a), "Connection error"));
    world_free(w);
}

/* spec 5.1: the network coming up runs the power-up resync, with its random delay. */
static void network_up_is_a_connect_resync(void **state)
{
    world *w = world_new(PV_AGENT_MPP, "000e08aabb11", 52);
    config(w, PROFILE("<Resync_Random_Delay>30</Resync_Random_Delay><Resync_Periodic>0</"
                      "Resync_Periodic><Profile_Rule>http://p.example/$MA.xml</Profile_Rule>"));
    serve_str(w, "http://p.example:80/000e08aabb11.xml", PROFILE("<GPP_A>x</GPP_A>"));
    world_boot(w);
    world_run(w, S(31));
    assert_int_equal(w->nseen, 1); /* the boot resync, within Resync_Random_Delay (MPP: 1 s) */
    world_run(w, S(1000));
    assert_int_equal(w->nseen, 1); /* no periodic resync */
    uint64_t up = w->now;
    pv_agent_network_up(w->a, up);
    world_run(w, up + S(31));
    assert_int_equal(w->nseen, 2);
    assert_true(w->seen[1].at >= up && w->seen[1].at <= up + S(30));
    /* Resync_On_Reset No: a connect does not resync */
    config(w, PROFILE("<Resync_On_Reset>No</Resync_On_Reset>"));
    pv_agent_network_up(w->a, w->now);
    world_run(w, w->now + S(100));
    assert_int_equal(w->nseen, 2);
    /* MPP (spec 5.4): a set trigger that does not hold gates it like a boot resync, while a
     * direct resync ignores the gate */
    config(w,
           PROFILE("<Resync_On_Reset>Yes</Resync_On_Reset><Resync_Random_Delay>0</"
                   "Resync_Random_Delay><Resync_Trigger_1>\"$A\" eq \"never\"</Resync_Trigger_1>"));
    pv_agent_network_up(w->a, w->now);
    world_run(w, w->now + S(100));
    assert_int_equal(w->nseen, 2);
    pv_error err;
    assert_int_equal(pv_agent_resync(w->a, w->now, NULL, &err), 0);
    world_drain(w);
    assert_int_equal(w->nseen, 3);
    world_free(w);
}

/* spec 12.2: the IVR factory reset, unless Protect_IVR_FactoryReset; the admin's reset stays. */
static void ivr_factory_reset_can_be_protected(void **state)
{
    world *w = world_new(PV_AGENT_ATA, "000e08aabb12", 53);
    assert_string_equal(param(w, "Protect_IVR_FactoryReset"), "No");
    config(w, PROFILE("<Display_Name_1_>x</Display_Name_1_><Protect_IVR_FactoryReset>Yes</"
                      "Protect_IVR_FactoryReset>"));
    world_boot(w);
    pv_error err;
    int reboots = w->reboots;
    assert_int_equal(pv_agent_ivr_factory_reset(w->a, w->now, &err), PV_EACCES);
    assert_non_null(strstr(err.msg, "Protect_IVR_FactoryReset"));
    world_drain(w);
    assert_int_equal(w->reboots, reboots);
    assert_string_equal(param(w, "Display_Name_1_"), "x");
    pv_agent_factory_reset(w->a, w->now); /* the admin (CLI, web) may still reset */
    world_drain(w);
    assert_int_equal(w->reboots, reboots + 1);
    assert_string_equal(param(w, "Display_Name_1_"), "");
    assert_int_equal(pv_agent_ivr_factory_reset(w->a, w->now, &err), 0); /* default: allowed */
    world_drain(w);
    assert_int_equal(w->reboots, reboots + 2);
    world_free(w);
    /* MPP phones have no such parameter: the keypad code is not refused */
    w = world_new(PV_AGENT_MPP, "000e08aabb13", 54);
    assert_null(param(w, "Protect_IVR_FactoryReset"));
    assert_int_equal(pv_agent_ivr_factory_reset(w->a, w->now, &err), 0);
    world_free(w);
}

#define REPORT_URL "http://r.example:80/000e08aabb14-status.xml"

static world *reporting_phone(pv_agent_family fam, const char *mode, uint64_t seed)
{
    world *w = world_new(fam, "000e08aabb14", seed);
    char xml[512];
    snprintf(xml, sizeof xml,
             PROFILE("<Resync_On_Reset>No</Resync_On_Reset><Report_Rule>[--status]"
                     "http://r.example/$MA-status.xml</Report_Rule>"
                     "<Report_to_Server>%s</Report_to_Server>"),
             mode);
    config(w, xml);
    serve(w, REPORT_URL, 200, NULL, 0);
    world_boot(w);
    return w;
}

/* spec 7.1: multiplatform phones upload during restart and shutdown (On Request). */
static void report_at_restart_and_shutdown(void **state)
{
    world *w = reporting_phone(PV_AGENT_MPP, "On Request", 55);
    assert_int_equal(uploads(w), 0);
    pv_agent_reboot(w->a, w->now);
    pv_agent_action act;
    assert_true(pv_agent_next_action(w->a, &act));
    assert_int_equal(act.kind, PV_AGENT_ACT_PERSIST);
    assert_true(pv_agent_next_action(w->a, &act));
    assert_int_equal(act.kind, PV_AGENT_ACT_UPLOAD); /* the report first, the reboot after */
    assert_string_equal(act.url, REPORT_URL);
    assert_false(pv_agent_next_action(w->a, &act));
    pv_error err;
    assert_int_equal(pv_agent_resync(w->a, w->now, NULL, &err), PV_EBUSY); /* restarting */
    pv_agent_response r = {.status = 200};
    assert_int_equal(pv_agent_fetch_done(w->a, w->now, act.id, &r), 0);
    int reboots = w->reboots;
    world_drain(w);
    assert_int_equal(w->reboots, reboots + 1);
    /* shutdown: the upload goes out, and the host waits for its answer */
    pv_agent_shutdown(w->a, w->now);
    assert_false(pv_agent_shutdown_done(w->a));
    world_drain(w);
    assert_true(pv_agent_shutdown_done(w->a));
    assert_int_equal(uploads(w), 1); /* world_drain answered the shutdown upload itself */
    assert_int_equal(pv_agent_next_wakeup(w->a), PV_AGENT_NEVER);
    world_free(w);

    /* a server that does not answer does not keep the phone from restarting */
    w = reporting_phone(PV_AGENT_ATA, "On Request", 56);
    unserve(w, REPORT_URL);
    reboots = w->reboots;
    pv_agent_reboot(w->a, w->now);
    world_drain(w);
    assert_int_equal(uploads(w), 1);
    assert_int_equal(w->reboots, reboots + 1);
    world_free(w);
}

static void report_at_restart_only_when_asked(void **state)
{
    /* Periodically: no report at restart */
    world *w = reporting_phone(PV_AGENT_MPP, "Periodically", 57);
    pv_agent_reboot(w->a, w->now);
    world_drain(w);
    assert_int_equal(uploads(w), 0);
    assert_int_equal(w->reboots, 1);
    world_free(w);
    /* SPA: reports only on request */
    w = reporting_phone(PV_AGENT_SPA, "On Request", 58);
    pv_agent_shutdown(w->a, w->now);
    assert_true(pv_agent_shutdown_done(w->a));
    world_drain(w);
    assert_int_equal(uploads(w), 0);
    world_free(w);
    /* On Local Change: a change still waiting for Upload_Delay_On_Local_Change is sent then */
    w = reporting_phone(PV_AGENT_MPP, "On Local Change", 59);
    pv_agent_reboot(w->a, w->now); /* nothing pending: no report */
    world_drain(w);
    assert_int_equal(uploads(w), 0);
    set(w, "Station_Name", "changed");
    pv_agent_shutdown(w->a, w->now);
    world_drain(w);
    assert_int_equal(uploads(w), 1);
    assert_true(pv_agent_shutdown_done(w->a));
    world_free(w);
}

/* status.xml holds text (Last_Upgrade_Result: $UPGERR). */
static bool status_has(const world *w, const char *text)
{
    char *xml;
    size_t len;
    pv_agent_status_xml(w->a, w->now, &xml, &len);
    bool has = strstr(xml, text) != NULL;
    free(xml);
    return has;
}

#define FW "sip88xx.11-3-2MPP-100"
#define FW_DIR "http://fw.example:80/firmware/"

/* spec 6: the phone fetches the .loads manifest, then the files it lists, side by side. */
static void loads_manifest_lists_its_files(void **state)
{
    world *w = world_new(PV_AGENT_MPP, "000e08aabb15", 60);
    config(w, PROFILE("<Resync_On_Reset>No</Resync_On_Reset><Upgrade_Error_Retry_Delay>600</"
                      "Upgrade_Error_Retry_Delay><Upgrade_Rule>($SWVER lt " FW
                      ")? http://fw.example/firmware/" FW ".loads</Upgrade_Rule>"));
    serve_str(w, FW_DIR FW ".loads",
              "# " FW "\r\n" FW ".k4\r\n\r\nrootfs88xx.11-3-2MPP-100.sbn\r\n");
    serve_str(w, FW_DIR FW ".k4", "kernel bytes");
    /* the second file is missing at first: the upgrade fails, nothing is switched */
    world_boot(w);
    assert_int_equal(w->nseen, 3);
    assert_string_equal(w->seen[1].url, FW_DIR FW ".k4");
    assert_string_equal(w->seen[2].url, FW_DIR "rootfs88xx.11-3-2MPP-100.sbn");
    assert_string_equal(pv_agent_swver(w->a), "sip88xx.11-3-1MPP-678");
    assert_int_equal(w->reboots, 0);
    /* a listed file that names another load is corrupt */
    serve_str(w, FW_DIR "rootfs88xx.11-3-2MPP-100.sbn", "PVFW version=sip88xx.11-9-9MPP-1\nx");
    world_run(w, w->now + S(601));
    assert_int_equal(w->nseen, 6);
    assert_true(status_has(w, "does not belong")); /* Last_Upgrade_Result */
    assert_int_equal(w->reboots, 0);
    /* all there: every file fetched once more, the slot switched, the phone on the new load */
    serve_str(w, FW_DIR "rootfs88xx.11-3-2MPP-100.sbn", "root file system");
    world_run(w, w->now + S(601));
    assert_int_equal(w->reboots, 1);
    assert_string_equal(pv_agent_swver(w->a), FW);
    assert_int_equal(count_url(w, FW_DIR FW ".loads"), 3);
    assert_int_equal(count_url(w, FW_DIR "rootfs88xx.11-3-2MPP-100.sbn"), 3);
    world_run(w, w->now + S(86400)); /* on the new load the rule selects nothing */
    assert_int_equal(count_url(w, FW_DIR FW ".loads"), 3);
    /* a manifest of another model's load is refused before any file is fetched */
    size_t before = w->nseen;
    serve_str(w, "http://fw.example:80/firmware/sip78xx.11-3-3MPP-1.loads", "a.k4\n");
    pv_error err;
    assert_int_equal(pv_agent_upgrade(w->a, w->now,
                                      "http://fw.example/firmware/sip78xx.11-3-3MPP-1.loads", &err),
                     0);
    world_drain(w);
    assert_int_equal(w->nseen, before + 1);
    assert_true(status_has(w, "not a load for CP-8841-3PCC"));
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(oneshot_errors_are_immediate),
        cmocka_unit_test(network_up_is_a_connect_resync),
        cmocka_unit_test(ivr_factory_reset_can_be_protected),
        cmocka_unit_test(report_at_restart_and_shutdown),
        cmocka_unit_test(report_at_restart_only_when_asked),
        cmocka_unit_test(loads_manifest_lists_its_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
