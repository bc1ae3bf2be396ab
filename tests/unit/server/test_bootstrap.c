/* Unit tests for server/bootstrap: the factory default rule names of every
 * family (spec 1.3) and the models they imply, names that are not bootstrap
 * names, and the bootstrap profile (configured URL, storm defaults). */
#include "pv_test.h"

#include "core/param.h"
#include "core/xml_profile.h"
#include "server/binding.h"
#include "server/bootstrap.h"

static void names_and_models(void **state)
{
    (void)state;
    static const struct {
        const char *path, *model;
    } yes[] = {
        {"/8841-3PCC.xml", "CP-8841-3PCC"}, /* DESIGN: $PSN = model-3PCC */
        {"7821-3pcc.xml", "CP-7821-3PCC"},
        {"/spa2102.cfg", "SPA2102"},
        {"/spa504G.cfg", "SPA504G"},
        {"ata191.cfg", "ATA191"},
        {"/init.cfg", "PAP2T"},
    };
    char model[64];
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        assert_true(pv_bootstrap_path(pv_slice_from(yes[i].path), model, sizeof model));
        assert_string_equal(model, yes[i].model);
    }
    /* A 12-hex stem is a MAC ($MA.cfg), a deeper path is not a default name. */
    const char *no[] = {"/spa000e08abcdef.cfg", "/x/8841-3PCC.xml", "/-3PCC.xml", "/spa.cfg",
                        "/8841-3PCC.cfg",       "/spa2102.xml",     "/init.xml",  "",
                        "/spa21 02.cfg",        "/cfg.cfg"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(pv_bootstrap_path(pv_slice_from(no[i]), model, sizeof model));
    /* A model buffer too small keeps none rather than a truncated model. */
    char tiny[4];
    assert_true(pv_bootstrap_path(PV_SLICE_LIT("/8841-3PCC.xml"), tiny, sizeof tiny));
    assert_string_equal(tiny, "");
    assert_true(pv_bootstrap_path(PV_SLICE_LIT("/spa2102.cfg"), NULL, 0));
}

static void profile(void **state)
{
    (void)state;
    pv_prov_policy pol;
    pv_prov_policy_defaults(&pol);
    pol.https_port = 443;
    pv_buf out = {0};
    pv_error err;
    assert_int_equal(pv_bootstrap_profile(&pol, "prov.example", "CP-8841-3PCC", &out, &err), 0);
    pv_params p = {0};
    assert_int_equal(pv_xml_parse(pv_buf_slice(&out), &p, NULL, &err), 0);
    assert_string_equal(pv_params_value(&p, "Profile_Rule"), "https://prov.example/$MA.xml");
    assert_string_equal(pv_params_value(&p, "Resync_On_Reset"), "Yes");
    assert_string_equal(pv_params_value(&p, "Resync_Random_Delay"), "120");
    assert_string_equal(pv_params_value(&p, "Resync_Periodic"), "86400+3600");
    pv_params_free(&p);
    /* No HTTPS listener: HTTP; an IPv6 host in brackets (spec 1.2). */
    pol.https_port = 0;
    pol.http_port = 8080;
    pv_buf_reset(&out);
    assert_int_equal(pv_bootstrap_profile(&pol, "::1", NULL, &out, &err), 0);
    assert_int_equal(pv_xml_parse(pv_buf_slice(&out), &p, NULL, &err), 0);
    assert_string_equal(pv_params_value(&p, "Profile_Rule"), "http://[::1]:8080/$MA.xml");
    assert_string_equal(pv_params_value(&p, "Resync_Random_Delay"), "6"); /* unknown: 20 s units */
    pv_params_free(&p);
    /* A configured bootstrap URL wins. */
    pol.bootstrap_url = "https://boot.example/$PSN/$MA.xml";
    pv_buf_reset(&out);
    assert_int_equal(pv_bootstrap_profile(&pol, "ignored", "SPA2102", &out, &err), 0);
    assert_int_equal(pv_xml_parse(pv_buf_slice(&out), &p, NULL, &err), 0);
    assert_string_equal(pv_params_value(&p, "Profile_Rule"), "https://boot.example/$PSN/$MA.xml");
    pv_params_free(&p);
    pv_buf_free(&out);
}

static const char *rule_for(const pv_prov_policy *pol, const char *model, pv_params *p)
{
    pv_buf out = {0};
    pv_error err;
    pv_params_free(p);
    assert_int_equal(pv_bootstrap_profile(pol, "prov.example", model, &out, &err), 0);
    assert_int_equal(pv_xml_parse(pv_buf_slice(&out), p, NULL, &err), 0);
    pv_buf_free(&out);
    return pv_params_value(p, "Profile_Rule");
}

/* spec 4.4: SPA phones trust Cisco's server CA only, never ours. */
static void legacy_spa_bootstrap(void **state)
{
    (void)state;
    pv_prov_policy pol;
    pv_prov_policy_defaults(&pol);
    pol.https_port = 8443;
    pol.http_port = 8080;
    pv_params p = {0};
    /* by default nothing changes: HTTPS under our CA (a listener they trust is the operator's) */
    assert_string_equal(rule_for(&pol, "SPA504G", &p), "https://prov.example:8443/$MA.xml");
    /* the plain first key: SPA and PAP models over HTTP, the others still HTTPS */
    pol.legacy_plain_key = true;
    assert_string_equal(rule_for(&pol, "SPA504G", &p), "http://prov.example:8080/$MA.xml");
    assert_string_equal(rule_for(&pol, "SPA112", &p), "http://prov.example:8080/$MA.xml");
    assert_string_equal(rule_for(&pol, "PAP2T", &p), "http://prov.example:8080/$MA.xml");
    assert_string_equal(rule_for(&pol, "CP-8841-3PCC", &p), "https://prov.example:8443/$MA.xml");
    assert_string_equal(rule_for(&pol, "ATA191", &p), "https://prov.example:8443/$MA.xml");
    assert_string_equal(rule_for(&pol, NULL, &p), "https://prov.example:8443/$MA.xml");
    /* a listener with a certificate from the CA they trust, when the operator has one */
    pol.legacy_bootstrap_url = "https://legacy.example:8444/$MA.xml";
    assert_string_equal(rule_for(&pol, "SPA2102", &p), "https://legacy.example:8444/$MA.xml");
    assert_string_equal(rule_for(&pol, "CP-7841-3PCC", &p), "https://prov.example:8443/$MA.xml");
    assert_true(pv_binding_legacy_model("spa504g"));
    assert_false(pv_binding_legacy_model("CP-8841-3PCC"));
    assert_false(pv_binding_legacy_model("ATA192"));
    pv_params_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_and_models),
        cmocka_unit_test(profile),
        cmocka_unit_test(legacy_spa_bootstrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
