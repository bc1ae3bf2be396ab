/*
 * Unit tests for the phone engine, part two: the secure retail flow
 * (spec 12.2) with profiles encrypted by the core ciphers, upgrades (spec 6),
 * reports (spec 7.1), user access (spec 9), persistent state and the memory
 * an idle phone costs.
 */
#include "world.h"

#include "core/rfc8188.h"
#include "core/salted.h"

#include <malloc.h>

#define PROFILE(body) "<flat-profile>" body "</flat-profile>"
#define KEY1 "8e4ca2590d3f4b6a9c1e7f2b5d8a0c3e6f9b2d5a8c1e4f7a0b3d6e9f2a5c8b1d"
#define KEY2 "Another-256-bit-key-after-rotation-0123456789abcdef0123456789abc"

static void serve_encrypted(world *w, const char *url, const char *xml, const char *key, pv_md md)
{
    pv_buf enc = {0};
    pv_error err;
    assert_int_equal(
        pv_salted_encrypt(pv_slice_from(xml), pv_slice_from(key), md, NULL, &enc, &err), 0);
    serve(w, url, 200, enc.data, enc.len);
    pv_buf_free(&enc);
}

static void resync_now(world *w, const char *rule)
{
    pv_error err;
    int rc = pv_agent_resync(w->a, w->now, rule, &err);
    if (rc != 0)
        fail_msg("resync: %s", err.msg);
    world_drain(w);
}

/* spec 12.2: MFG-RESET → SP-CUST → SEC-PRV-1 → SEC-PRV-2, then a key rotation. */
static void retail_flow_to_sec_prv_2(void **state)
{
    world *w = world_new(PV_AGENT_SPA, "000e08012345", 21);
    assert_int_equal(pv_agent_get_prov_state(w->a), PV_AGENT_MFG_RESET);
    serve_str(w, "https://prov.example.com:443/cisco-init/1234abcd",
              PROFILE("<Profile_Rule>https://prov.example.com/bind/$MA.xml</Profile_Rule>"));
    serve_str(
        w, "https://prov.example.com:443/bind/000e08012345.xml",
        PROFILE("<GPP_SA>" KEY1 "</GPP_SA><GPP_B>Dj6Lmp23Q</GPP_B>"
                "<Profile_Rule>[--key $SA] http://prov.example.com/$B/$MA.cfg</Profile_Rule>"));
    serve_encrypted(w, "http://prov.example.com:80/Dj6Lmp23Q/000e08012345.cfg",
                    PROFILE("<Display_Name_1_>Alice</Display_Name_1_><User_ID_1_>2001</User_ID_1_>"
                            "<GPP_SA>" KEY2 "</GPP_SA><GPP_B>Zq9Rot8</GPP_B>"),
                    KEY1, PV_MD_MD5);
    serve_encrypted(w, "http://prov.example.com:80/Zq9Rot8/000e08012345.cfg",
                    PROFILE("<Display_Name_1_>Alice R.</Display_Name_1_>"), KEY2, PV_MD_MD5);
    world_boot(w); /* no DHCP server: the factory rule fails, slow blink */
    world_run(w, S(60));
    assert_int_equal(pv_agent_get_led(w->a), PV_AGENT_LED_SLOW_BLINK);

    resync_now(w, "https://prov.example.com/cisco-init/1234abcd"); /* /admin/resync?URL */
    assert_int_equal(pv_agent_get_prov_state(w->a), PV_AGENT_SP_CUST);
    assert_true(w->seen[w->nseen - 1].url[4] == 's'); /* https, with the client cert */
    resync_now(w, NULL);
    assert_int_equal(pv_agent_get_prov_state(w->a), PV_AGENT_SEC_PRV_1);
    resync_now(w, NULL);
    assert_int_equal(pv_agent_get_prov_state(w->a), PV_AGENT_SEC_PRV_2);
    assert_string_equal(param(w, "Display_Name_1_"), "Alice");
    assert_string_equal(param(w, "User_ID_1_"), "2001");
    assert_int_equal(pv_agent_get_led(w->a), PV_AGENT_LED_NORMAL);
    resync_now(w, NULL); /* rotated key and directory */
    assert_string_equal(w->seen[w->nseen - 1].url,
                        "http://prov.example.com:80/Zq9Rot8/000e08012345.cfg");
    assert_string_equal(param(w, "Display_Name_1_"), "Alice R.");
    /* the key never leaves the phone */
    char *cfg;
    size_t len;
    assert_int_equal(pv_agent_export_config(w->a, PV_AGENT_ADMIN, &cfg, &len, NULL), 0);
    assert_null(strstr(cfg, "GPP_SA"));
    assert_null(strstr(cfg, KEY2));
    assert_non_null(strstr(cfg, "<GPP_B ua=\"na\">Zq9Rot8</GPP_B>"));
    free(cfg);
    /* a profile encrypted with the wrong key is corrupt: fast blink, nothing applied */
    serve_encrypted(w, "http://prov.example.com:80/Zq9Rot8/000e08012345.cfg",
                    PROFILE("<Display_Name_1_>Mallory</Display_Name_1_>"), "not-the-key",
                    PV_MD_MD5);
    resync_now(w, NULL);
    assert_string_equal(param(w, "Display_Name_1_"), "Alice R.");
    assert_int_equal(pv_agent_get_led(w->a), PV_AGENT_LED_FAST_BLINK);
    /* so is a plain profile where the rule promised a key */
    serve_str(w, "http://prov.example.com:80/Zq9Rot8/000e08012345.cfg",
              PROFILE("<Display_Name_1_>Mallory</Display_Name_1_>"));
    resync_now(w, NULL);
    assert_string_equal(param(w, "Display_Name_1_"), "Alice R.");
    world_free(w);
}

/* The origin chapter's "single step" (spec 1.3, 5.5): the one-shot URL stands in
 * for Profile_Rule, and the Profile_Rule_B its answer sets runs in the same
 * resync — one /admin/resync?URL takes a factory phone to SEC-PRV-2. */
static void oneshot_then_rule_b_in_one_resync(void **state)
{
    world *w = world_new(PV_AGENT_MPP, "000e08012345", 23);
    const char *rule = "[--key $SA] http://prov.example.com/$B/$MA.cfg";
    char bind[512];
    snprintf(bind, sizeof bind,
             PROFILE("<GPP_SA>" KEY1 "</GPP_SA><GPP_B>Dj6Lmp23Q</GPP_B><Profile_Rule>%s"
                     "</Profile_Rule><Profile_Rule_B>%s</Profile_Rule_B>"),
             rule, rule);
    serve_str(w, "https://prov.example.com:443/init/602885080253", bind);
    serve_encrypted(w, "http://prov.example.com:80/Dj6Lmp23Q/000e08012345.cfg",
                    PROFILE("<Display_Name_1_>Alice</Display_Name_1_>"
                            "<Profile_Rule_B></Profile_Rule_B>"),
                    KEY1, PV_MD_SHA256);
    world_boot(w);
    world_run(w, S(60));
    size_t before = w->nseen;
    resync_now(w, "https://prov.example.com/init/602885080253");
    assert_int_equal(pv_agent_get_prov_state(w->a), PV_AGENT_SEC_PRV_2);
    assert_string_equal(param(w, "Display_Name_1_"), "Alice");
    assert_int_equal(w->nseen - before, 2); /* the binding, then the permanent URL */
    assert_string_equal(param(w, "Profile_Rule_B"), "");
    assert_string_equal(param(w, "Profile_Rule"), rule); /* the one-shot was not stored */
    world_free(w);
}

/* spec 4.3: RFC 8188 with IKM_HTTP_Encrypt_Content and Content-Encoding: aes128gcm;
 * DESIGN 7: an MPP phone tries sha256 first, then md5. */
static void rfc8188_and_digest_fallback(void **state)
{
    world *w = world_new(PV_AGENT_MPP, "000e08012345", 22);
    config(w, PROFILE("<IKM_HTTP_Encrypt_Content>ikm-secret</IKM_HTTP_Encrypt_Content>"));
    pv_buf enc = {0};
    const char *xml = PROFILE("<Station_Name>gcm</Station_Name>");
    assert_int_equal(pv_rfc8188_encrypt(pv_slice_from(xml), pv_slice_from("ikm-secret"), 4096,
                                        (pv_slice){"", 0}, NULL, &enc, NULL),
                     0);
    serve(w, "http://p.example:80/a.xml", 200, enc.data, enc.len)->encoding = "aes128gcm";
    pv_buf_free(&enc);
    world_boot(w);
    resync_now(w, "http://p.example/a.xml");
    assert_string_equal(param(w, "Station_Name"), "gcm");
    assert_int_equal(pv_agent_get(w->a, PV_AGENT_ADMIN, "IKM_HTTP_Encrypt_Content", &xml),
                     PV_ENOENT);
    /* spec 4.1: an 11.3 load derives keys with sha256 only: a file made with
     * md5 is corrupt to it, the commonest operator mistake shows */
    serve_encrypted(w, "http://p.example:80/b.xml", PROFILE("<Station_Name>md5</Station_Name>"),
                    "k", PV_MD_MD5);
    resync_now(w, "[--key k] http://p.example/b.xml");
    assert_string_equal(param(w, "Station_Name"), "gcm");
    assert_non_null(strstr(pv_agent_last_error(w->a), "corrupt file"));
    /* unless the host allows either digest (provisor phone --any-key-digest) */
    w->id.any_key_digest = true;
    world_reboot(w);
    world_drain(w);
    resync_now(w, "[--key k] http://p.example/b.xml");
    assert_string_equal(param(w, "Station_Name"), "md5");
    world_free(w);
}

/* spec 4.1: the digest follows the firmware generation: md5 on SPA and ATA
 * and on multiplatform loads before 11.3, sha256 from 11.3(1) */
static void key_digest_per_generation(void **state)
{
    static const struct {
        pv_agent_family fam;
        const char *swver;
        pv_md md;
    } cases[] = {
        {PV_AGENT_SPA, NULL, PV_MD_MD5},
        {PV_AGENT_ATA, NULL, PV_MD_MD5},
        {PV_AGENT_MPP, "sip88xx.11-2-3MPP-398", PV_MD_MD5},
        {PV_AGENT_MPP, "sip88xx.11-3-1MPP-678", PV_MD_SHA256},
        {PV_AGENT_MPP, "sip88xx.12-0-1MPP-5", PV_MD_SHA256},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        world *w = world_new(cases[i].fam, "000e08012345", 23);
        if (cases[i].swver != NULL) { /* a phone made with that load */
            pv_agent_free(w->a);
            w->id.swver = cases[i].swver;
            assert_int_equal(pv_agent_new(&w->a, w->defs, &w->id, 23, NULL), 0);
        }
        world_boot(w);
        const char *xml = PROFILE("<Station_Name>right</Station_Name>");
        serve_encrypted(w, "http://p.example:80/r.xml", xml, "k", cases[i].md);
        serve_encrypted(w, "http://p.example:80/w.xml", PROFILE("<Station_Name>wrong</Station_Name>"),
                        "k", pv_md_other(cases[i].md));
        resync_now(w, "[--key k] http://p.example/w.xml");
        const char *got = param(w, "Station_Name");
        if (got != NULL && strcmp(got, "wrong") == 0)
            fail_msg("case %zu: a %s key was accepted", i, pv_md_name(pv_md_other(cases[i].md)));
        resync_now(w, "[--key k] http://p.example/r.xml");
        assert_string_equal(param(w, "Station_Name"), "right");
        world_free(w);
    }
}

#define FW_B "sip88xx.11-3-2MPP-100"
#define FW_C "sip88xx.12-0-1MPP-5"

static void serve_image(world *w, const char *url, const char *version)
{
    char img[256];
    int n = snprintf(img, sizeof img, "PVFW version=%s\n%s-payload", version, version);
    serve(w, url, 200, img, (size_t)n);
}

static world *mpp_upgrading(const char *upgrade_rule, uint64_t seed)
{
    world *w = world_new(PV_AGENT_MPP, "000e08012345", seed);
    char xml[1024];
    snprintf(xml, sizeof xml,
             PROFILE("<Resync_Random_Delay>0</Resync_Random_Delay>"
                     "<Profile_Rule>http://p.example/p.xml</Profile_Rule>"
                     "<Upgrade_Rule>%s</Upgrade_Rule>"),
             upgrade_rule);
    config(w, xml);
    serve_str(w, "http://p.example:80/p.xml", PROFILE("<Station_Name>x</Station_Name>"));
    return w;
}

/* spec 6: A → B → C with reboots; each URL once; $SWVER follows; slots switch. */
static void two_stage_upgrade(void **state)
{
    world *w = mpp_upgrading("($SWVER lt " FW_B ")? http://fw.example/" FW_B ".loads"
                             " | http://fw.example/" FW_C ".loads",
                             31);
    serve_image(w, "http://fw.example:80/" FW_B ".loads", FW_B);
    serve_image(w, "http://fw.example:80/" FW_C ".loads", FW_C);
    world_boot(w);
    world_run(w, S(86400));
    assert_int_equal(w->reboots, 2);
    assert_string_equal(pv_agent_swver(w->a), FW_C);
    assert_int_equal(count_url(w, "http://fw.example:80/" FW_B ".loads"), 1);
    assert_int_equal(count_url(w, "http://fw.example:80/" FW_C ".loads"), 1);
    assert_true(count_url(w, "http://p.example:80/p.xml") >= 3 + 23); /* after each + hourly */
    char *st;
    size_t len;
    pv_agent_status_xml(w->a, w->now, &st, &len);
    assert_non_null(strstr(st, "<Inactive_Software_Version ua=\"ro\">" FW_B "<"));
    free(st);
    bool logged = false;
    for (size_t i = 0; i < w->nlogs; i++)
        logged |= strstr(w->logs[i],
                         "Successful upgrade http://fw.example:80/" FW_C ".loads -- " FW_C) != NULL;
    assert_true(logged);
    world_free(w);
}

/* spec 6: one attempt per effective URL; a changed URL is tried; retries on schedule. */
static void one_attempt_per_url(void **state)
{
    world *w = mpp_upgrading("http://fw.example/" FW_B ".loads", 32);
    config(w, PROFILE("<Upgrade_Error_Retry_Delay>0</Upgrade_Error_Retry_Delay>"));
    serve(w, "http://fw.example:80/" FW_B ".loads", 500, NULL, 0);
    world_boot(w);
    world_run(w, S(86400));
    assert_int_equal(count_url(w, "http://fw.example:80/" FW_B ".loads"), 1);
    assert_int_equal(w->reboots, 0);
    config(w, PROFILE("<Upgrade_Rule>http://fw2.example/" FW_B ".loads</Upgrade_Rule>"));
    world_run(w, S(2 * 86400));
    assert_int_equal(count_url(w, "http://fw2.example:80/" FW_B ".loads"), 1);
    world_free(w);

    w = mpp_upgrading("http://fw.example/" FW_B ".loads", 33); /* retries: 1800 then 3600 */
    config(w, PROFILE("<Upgrade_Error_Retry_Delay>1800,3600</Upgrade_Error_Retry_Delay>"
                      "<Resync_Periodic>0</Resync_Periodic>"));
    world_boot(w);
    world_run(w, S(1800 + 3600 * 2));
    assert_int_equal(count_url(w, "http://fw.example:80/" FW_B ".loads"), 4);
    size_t failures = 0;
    for (size_t i = 0; i < w->nlogs; i++)
        failures += strstr(w->logs[i], "-- Upgrade failed: Connection error") != NULL;
    assert_int_equal(failures, 4);
    world_free(w);
}

/* The last log line holding text (upgrades log "Upgrade failed: $ERR"; the resync that
 * follows an upgrade attempt, spec 6, then has its own $ERR). */
static bool logged(const world *w, const char *text)
{
    for (size_t i = w->nlogs; i-- > 0;)
        if (strstr(w->logs[i], text) != NULL)
            return true;
    return false;
}

/* spec 6: Downgrade_Rev_Limit, verification, Upgrade_Enable, the one-shot URL. */
static void upgrade_guards(void **state)
{
    world *w = mpp_upgrading("http://fw.example/sip88xx.11-2-0MPP-1.loads", 34);
    config(w, PROFILE("<Downgrade_Rev_Limit>sip88xx.11-3-0MPP-1</Downgrade_Rev_Limit>"));
    serve_image(w, "http://fw.example:80/sip88xx.11-2-0MPP-1.loads", "sip88xx.11-2-0MPP-1");
    world_boot(w);
    assert_int_equal(w->reboots, 0);
    assert_string_equal(pv_agent_swver(w->a), "sip88xx.11-3-1MPP-678");
    pv_error err;
    char bad[] = "PVFW version=" FW_B " sha256=00\npayload";
    serve(w, "http://fw.example:80/bad.loads", 200, bad, strlen(bad));
    assert_int_equal(pv_agent_upgrade(w->a, w->now, "http://fw.example/bad.loads", &err), 0);
    world_drain(w);
    assert_true(logged(w, "Upgrade failed: ") && logged(w, "sha256 mismatch"));
    serve_image(w, "http://fw.example:80/spa.bin", "7.6.2"); /* another family's load */
    assert_int_equal(pv_agent_upgrade(w->a, w->now, "http://fw.example/spa.bin", &err), 0);
    world_drain(w);
    assert_true(logged(w, "not a load for this device family"));
    assert_int_equal(pv_agent_upgrade(w->a, w->now, "/no-server.loads", &err), PV_EINVAL);
    serve_image(w, "http://fw.example:80/" FW_B ".loads", FW_B);
    assert_int_equal(pv_agent_upgrade(w->a, w->now, "http://fw.example/" FW_B ".loads", &err), 0);
    world_drain(w);
    assert_int_equal(w->reboots, 1);
    assert_string_equal(pv_agent_swver(w->a), FW_B);
    set(w, "Upgrade_Enable", "No");
    assert_int_equal(pv_agent_upgrade(w->a, w->now, "http://fw.example/" FW_C ".loads", &err),
                     PV_EACCES);
    world_free(w);
}

static const char *upload(const world *w, size_t from_end)
{
    size_t seen = 0;
    for (size_t i = w->nseen; i-- > 0;) {
        if (w->seen[i].kind == PV_AGENT_ACT_UPLOAD && seen++ == from_end)
            return w->seen[i].body.data;
    }
    return NULL;
}

/* spec 7.1: --delta holds only what changed since the last report; --status; secrets out. */
static void report_delta_and_status(void **state)
{
    world *w = world_new(PV_AGENT_MPP, "000e08012345", 41);
    config(w,
           PROFILE("<Report_Rule>[--delta]http://r.example/d.xml [--status]http://r.example/s.xml"
                   "</Report_Rule><GPP_SA>topsecret</GPP_SA><Station_Name>one</Station_Name>"));
    serve(w, "http://r.example:80/d.xml", 200, NULL, 0);
    serve(w, "http://r.example:80/s.xml", 200, NULL, 0);
    world_boot(w);
    pv_error err;
    assert_int_equal(pv_agent_report(w->a, w->now, &err), 0);
    world_drain(w);
    const char *first = upload(w, 1), *status = upload(w, 0);
    assert_non_null(strstr(first, "<Station_Name ua=\"rw\">one</Station_Name>"));
    assert_non_null(strstr(first, "<Report_Rule"));
    assert_null(strstr(first, "topsecret"));
    assert_null(strstr(first, "GPP_SA"));
    assert_non_null(strstr(status, "<Provisioning_State ua=\"ro\">SEC-PRV-1</Provisioning_State>"));
    set(w, "Station_Name", "two");
    set(w, "User_Password", "hunter2");
    assert_int_equal(pv_agent_report(w->a, w->now, &err), 0);
    world_drain(w);
    const char *delta = upload(w, 1);
    assert_non_null(strstr(delta, "<Station_Name ua=\"rw\">two</Station_Name>"));
    assert_non_null(strstr(delta, "<User_Password ua=\"na\"/>")); /* changed, value hidden */
    assert_null(strstr(delta, "hunter2"));
    assert_null(strstr(delta, "Report_Rule"));
    assert_int_equal(w->seen[w->nseen - 1].method[1], 'O'); /* POST by default */
    world_free(w);
}

/* spec 7.1: --key encrypts (TFTP write); IKM without --key gives RFC 8188; timing modes. */
static void report_encryption_and_timing(void **state)
{
    world *w = world_new(PV_AGENT_SPA, "000e08012345", 42);
    config(w, PROFILE("<Report_Rule>[--key s3cr3t] tftp://r.example/rep.xml</Report_Rule>"
                      "<Report_to_Server>On Local Change</Report_to_Server>"
                      "<Upload_Delay_On_Local_Change>60</Upload_Delay_On_Local_Change>"));
    serve(w, "tftp://r.example:69/rep.xml", 200, NULL, 0);
    world_boot(w);
    world_run(w, S(100));
    set(w, "Station_Name", "changed");
    world_run(w, S(1000));
    assert_int_equal(count_url(w, "tftp://r.example:69/rep.xml"), 1);
    const seen *s = &w->seen[w->nseen - 1];
    assert_int_equal(s->at, S(160));
    assert_string_equal(s->method, "PUT");
    pv_buf plain = {0};
    pv_md used;
    assert_int_equal(pv_salted_decrypt_any(pv_buf_slice(&s->body), pv_slice_from("s3cr3t"),
                                           PV_MD_MD5, 1 << 20, &plain, &used, NULL),
                     0);
    assert_non_null(strstr(plain.data, "<Station_Name ua=\"rw\">changed</Station_Name>"));
    pv_buf_free(&plain);
    world_free(w);

    w = world_new(PV_AGENT_MPP, "000e08012345", 43);
    config(w, PROFILE("<Report_Rule>http://r.example/rep.xml</Report_Rule>"
                      "<IKM_HTTP_Encrypt_Content>ikm</IKM_HTTP_Encrypt_Content>"
                      "<HTTP_Report_Method>PUT</HTTP_Report_Method>"
                      "<Report_to_Server>Periodically</Report_to_Server>"
                      "<periodic_upload_to_server>100</periodic_upload_to_server>"));
    serve(w, "http://r.example:80/rep.xml", 200, NULL, 0);
    world_boot(w);
    world_run(w, S(1900));
    assert_int_equal(count_url(w, "http://r.example:80/rep.xml"), 3); /* < 600 is 600 */
    s = &w->seen[w->nseen - 1];
    assert_string_equal(s->method, "PUT");
    assert_int_equal(
        pv_rfc8188_decrypt(pv_buf_slice(&s->body), pv_slice_from("ikm"), 1 << 20, &plain, NULL), 0);
    assert_non_null(strstr(plain.data, "<flat-profile>"));
    assert_null(strstr(plain.data, "IKM_HTTP"));
    pv_buf_free(&plain);
    world_free(w);
}

/* spec 9: user access — na hidden, ro read-only, rw writable; admin sees all; secrets never. */
static void access_filtering(void **state)
{
    world *w = world_new(PV_AGENT_MPP, "000e08012345", 51);
    config(w, PROFILE("<User_ID_1_ ua=\"ro\">2001</User_ID_1_><GPP_SB>k</GPP_SB>"
                      "<Admin_Password>adm1n</Admin_Password><Resync_Periodic "
                      "ua=\"rw\">60</Resync_Periodic>"));
    const char *v;
    pv_error err;
    assert_int_equal(pv_agent_get(w->a, PV_AGENT_USER, "Provision_Enable", &v), PV_ENOENT);
    assert_int_equal(pv_agent_get(w->a, PV_AGENT_ADMIN, "Provision_Enable", &v), 0);
    assert_int_equal(pv_agent_get(w->a, PV_AGENT_USER, "User_ID_1_", &v), 0);
    assert_string_equal(v, "2001");
    assert_int_equal(pv_agent_set(w->a, 0, PV_AGENT_USER, "User_ID_1_", "x", &err), PV_EACCES);
    assert_int_equal(pv_agent_set(w->a, 0, PV_AGENT_USER, "Provision_Enable", "No", &err),
                     PV_ENOENT);
    assert_int_equal(pv_agent_set(w->a, 0, PV_AGENT_USER, "Station_Name", "desk", &err), 0);
    assert_int_equal(pv_agent_set(w->a, 0, PV_AGENT_USER, "Resync_Periodic", "120", &err), 0);
    assert_int_equal(pv_agent_set(w->a, 0, PV_AGENT_ADMIN, "GPP_SB", "x", &err), PV_EACCES);
    assert_int_equal(pv_agent_get(w->a, PV_AGENT_ADMIN, "GPP_SB", &v), PV_ENOENT);
    assert_int_equal(pv_agent_set(w->a, 0, PV_AGENT_ADMIN, "No_Such_Thing", "x", &err), PV_ENOENT);
    assert_int_equal(pv_agent_apply_config(w->a, 0, PV_AGENT_USER, "<flat-profile/>", 15, &err),
                     PV_EACCES);
    assert_true(pv_agent_check_password(w->a, PV_AGENT_ADMIN, "adm1n"));
    assert_false(pv_agent_check_password(w->a, PV_AGENT_ADMIN, "admin"));
    assert_true(pv_agent_check_password(w->a, PV_AGENT_USER, "")); /* no password: open */
    char *user, *admin;
    size_t len;
    assert_int_equal(pv_agent_export_config(w->a, PV_AGENT_USER, &user, &len, &err), 0);
    assert_int_equal(pv_agent_export_config(w->a, PV_AGENT_ADMIN, &admin, &len, &err), 0);
    assert_null(strstr(user, "Provision_Enable"));
    assert_non_null(strstr(user, "<Station_Name ua=\"rw\">desk</Station_Name>"));
    assert_non_null(strstr(user, "<Resync_Periodic ua=\"rw\">120</Resync_Periodic>"));
    assert_non_null(strstr(admin, "<Provision_Enable ua=\"na\">Yes</Provision_Enable>"));
    assert_non_null(strstr(admin, "<Admin_Password ua=\"na\"/>"));
    assert_null(strstr(admin, "adm1n"));
    assert_null(strstr(admin, "GPP_SB"));
    /* cfg.xml posted back changes nothing: hidden passwords read as "unchanged" */
    assert_int_equal(pv_agent_apply_config(w->a, 0, PV_AGENT_ADMIN, admin, strlen(admin), &err), 0);
    assert_true(pv_agent_check_password(w->a, PV_AGENT_ADMIN, "adm1n"));
    free(user);
    free(admin);
    world_free(w);
}

/* The persistent state round-trips; damage and another phone's state are refused. */
static void state_round_trip(void **state)
{
    world *w = mpp_upgrading("http://fw.example/" FW_B ".loads", 61);
    serve_image(w, "http://fw.example:80/" FW_B ".loads", FW_B);
    config(w, PROFILE("<GPP_SA>k&quot;&lt;&amp;&gt;</GPP_SA>"));
    set(w, "Display_Name_1_", "a\nb=\x01c"); /* any byte survives the state file */
    world_boot(w);
    assert_int_equal(w->reboots, 1); /* and the reboot itself went through save/load */
    char *s1, *s2;
    size_t l1, l2;
    pv_agent_save(w->a, &s1, &l1);
    pv_agent *b;
    pv_error err;
    assert_int_equal(pv_agent_new(&b, w->defs, &w->id, 1, &err), 0);
    assert_int_equal(pv_agent_load(b, s1, l1, &err), 0);
    pv_agent_save(b, &s2, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(s1, s2, l1);
    assert_string_equal(pv_agent_swver(b), FW_B);
    const char *v;
    assert_int_equal(pv_agent_get(b, PV_AGENT_ADMIN, "Display_Name_1_", &v), 0);
    assert_string_equal(v, "a\nb=\x01c");
    assert_int_equal(pv_agent_get_prov_state(b), pv_agent_get_prov_state(w->a));
    s2[l2 / 2] ^= 0x20;
    assert_int_equal(pv_agent_load(b, s2, l2, &err), PV_EFORMAT);
    assert_int_equal(pv_agent_load(b, s1, l1 - 13, &err), PV_ETRUNC);  /* no checksum line */
    assert_int_equal(pv_agent_load(b, s1, l1 - 15, &err), PV_EFORMAT); /* cut in a record */
    assert_int_equal(pv_agent_load(b, "junk", 4, &err), PV_EFORMAT);
    pv_agent_free(b);
    pv_agent_identity other = w->id;
    other.mac = "000e08999999";
    assert_int_equal(pv_agent_new(&b, w->defs, &other, 1, &err), 0);
    assert_int_equal(pv_agent_load(b, s1, l1, &err), PV_ECONFLICT);
    pv_agent_free(b);
    free(s1);
    free(s2);
    /* factory reset: back to MFG-RESET with defaults, firmware kept */
    pv_agent_factory_reset(w->a, w->now);
    world_drain(w);
    assert_int_equal(pv_agent_get_prov_state(w->a), PV_AGENT_MFG_RESET);
    assert_string_equal(param(w, "Profile_Rule"), "/$PSN.xml");
    assert_string_equal(pv_agent_swver(w->a), FW_B);
    world_free(w);
}

/* Memory an idle phone costs, measured by the allocator (a fleet targets ≤ 16 KB). */
static void memory_per_idle_phone(void **state)
{
    enum { N = 2000 };
    pv_agent_defaults *defs = pv_agent_defaults_new(PV_AGENT_MPP);
    static pv_agent *agents[N];
    const char *profile = PROFILE(
        "<Profile_Rule>[--key $SA] http://prov.example.com/$B/$MA.cfg</Profile_Rule>"
        "<GPP_SA>" KEY1 "</GPP_SA><GPP_B>Dj6Lmp23Q</GPP_B><Resync_Periodic>86400</Resync_Periodic>"
        "<Station_Name>Reception</Station_Name><Display_Name_1_>Alice Example</Display_Name_1_>"
        "<User_ID_1_>2001</User_ID_1_><Password_1_>line-secret-1</Password_1_>"
        "<Proxy_1_>sip.example.com</Proxy_1_><Admin_Password>adm1n-pw</Admin_Password>"
        "<Syslog_Server>10.0.0.5</Syslog_Server><Dial_Plan_1_>(*xx|[3469]11|0|00|[2-9]xxxxxx"
        "|1xxx[2-9]xxxxxxS0|xxxxxxxxxxxx.)</Dial_Plan_1_><Speed_Dial_2_>2002</Speed_Dial_2_>"
        "<Upgrade_Rule>http://fw.example/" FW_B ".loads</Upgrade_Rule>");
    for (int provisioned = 0; provisioned < 2; provisioned++) {
        struct mallinfo2 before = mallinfo2();
        size_t reported = 0;
        for (int i = 0; i < N; i++) {
            char mac[13];
            snprintf(mac, sizeof mac, "000e08%06x", i);
            pv_agent_identity id = {.mac = mac};
            assert_int_equal(pv_agent_new(&agents[i], defs, &id, (uint64_t)i, NULL), 0);
            if (provisioned)
                assert_int_equal(pv_agent_apply_config(agents[i], 0, PV_AGENT_ADMIN, profile,
                                                       strlen(profile), NULL),
                                 0);
            pv_agent_set_dhcp_option(agents[i], 66, "10.0.0.1");
            pv_agent_boot(agents[i], 0);
            pv_agent_action act;
            while (pv_agent_next_action(agents[i], &act)) {
                if (act.kind == PV_AGENT_ACT_FETCH) {
                    pv_agent_response r = {.status = 404};
                    pv_agent_fetch_done(agents[i], 0, act.id, &r);
                }
            }
            reported += pv_agent_memory(agents[i]);
        }
        struct mallinfo2 after = mallinfo2();
        size_t per = (after.uordblks - before.uordblks) / N;
        printf("memory per idle %s phone: %zu bytes (allocator), %zu bytes (pv_agent_memory)\n",
               provisioned ? "provisioned" : "factory", per, reported / N);
        assert_true(per <= 16 * 1024);
        for (int i = 0; i < N; i++)
            pv_agent_free(agents[i]);
    }
    printf("family defaults (shared): %zu parameters\n", pv_agent_defaults_count(defs));
    pv_agent_defaults_free(defs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(retail_flow_to_sec_prv_2),
        cmocka_unit_test(oneshot_then_rule_b_in_one_resync),
        cmocka_unit_test(rfc8188_and_digest_fallback),
        cmocka_unit_test(key_digest_per_generation),
        cmocka_unit_test(two_stage_upgrade),
        cmocka_unit_test(one_attempt_per_url),
        cmocka_unit_test(upgrade_guards),
        cmocka_unit_test(report_delta_and_status),
        cmocka_unit_test(report_encryption_and_timing),
        cmocka_unit_test(access_filtering),
        cmocka_unit_test(state_round_trip),
        cmocka_unit_test(memory_per_idle_phone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
