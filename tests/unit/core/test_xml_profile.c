/* Unit tests for core/xml_profile: every example of spec 3.1, limits, aliases, round trip. */
#include "pv_test.h"

#include "core/alloc.h"
#include "core/xml_profile.h"

#include <stdio.h>

/* Parses text into a fresh set, asserting success. */
static pv_params parse_ok(const char *xml)
{
    pv_params p = {0};
    pv_error err = {{0}};
    int rc = pv_xml_parse(pv_slice_from(xml), &p, NULL, &err);
    if (rc != 0)
        fail_msg("parse failed: %s", err.msg);
    return p;
}

/* Parses, expects code, returns the message. */
static void parse_fails(const char *xml, const pv_xml_opts *opts, int code, const char *msg_part)
{
    pv_params p = {0};
    pv_error err = {{0}};
    assert_int_equal(pv_xml_parse(pv_slice_from(xml), &p, opts, &err), code);
    if (strstr(err.msg, msg_part) == NULL)
        fail_msg("error '%s' lacks '%s'", err.msg, msg_part);
    pv_params_free(&p);
}

static pv_param get(const pv_params *p, const char *name)
{
    pv_param e;
    if (!pv_params_get(p, pv_slice_from(name), &e))
        fail_msg("no parameter %s", name);
    return e;
}

/* serialize → parse gives the same set */
static void assert_round_trip(const pv_params *p)
{
    pv_buf out = {0};
    pv_error err = {{0}};
    assert_int_equal(pv_xml_serialize(p, &out, &err), 0);
    pv_params back = {0};
    if (pv_xml_parse(pv_buf_slice(&out), &back, NULL, &err) != 0)
        fail_msg("reparse of\n%s\nfailed: %s", out.data, err.msg);
    assert_true(pv_params_equal(p, &back));
    pv_params_free(&back);
    pv_buf_free(&out);
}

/* spec 3.1 sample (C-FMT) */
static void spec_sample(void **state)
{
    pv_params p = parse_ok(
        "<flat-profile>\n"
        "  <Resync_On_Reset> Yes </Resync_On_Reset>\n"
        "  <Resync_Periodic> 7200 </Resync_Periodic>\n"
        "  <Profile_Rule> tftp://prov.telco.com:6900/cisco/config/CP_xxxx_MPP.cfg</Profile_Rule>\n"
        "</flat-profile>\n");
    assert_int_equal(pv_params_count(&p), 3);
    assert_string_equal(pv_params_value(&p, "Resync_On_Reset"), "Yes");
    assert_string_equal(pv_params_value(&p, "Resync_Periodic"), "7200");
    assert_string_equal(pv_params_value(&p, "Profile_Rule"),
                        "tftp://prov.telco.com:6900/cisco/config/CP_xxxx_MPP.cfg");
    assert_int_equal(get(&p, "Resync_Periodic").ua, PV_UA_UNSET);
    assert_round_trip(&p);
    pv_params_free(&p);
}

static void names_from_spec(void **state)
{
    pv_params p = parse_ok("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<flat-profile>"
                           "<Dial_Plan_1_>(*xx|[3469]11|0|00|[2-9]xxxxxx)</Dial_Plan_1_>"
                           "<Resync_At__HHmm_>0230</Resync_At__HHmm_>"
                           "<Default_Ring__1__>1</Default_Ring__1__>"
                           "<Phone-UI-User-Mode>Yes</Phone-UI-User-Mode>"
                           "<Auth_Resync-Reboot_1_>No</Auth_Resync-Reboot_1_>"
                           "<G722.2_Codec_Name>G722.2</G722.2_Codec_Name>"
                           "</flat-profile>");
    assert_string_equal(pv_params_value(&p, "Dial_Plan_1_"), "(*xx|[3469]11|0|00|[2-9]xxxxxx)");
    assert_string_equal(pv_params_value(&p, "Resync_At__HHmm_"), "0230");
    assert_string_equal(pv_params_value(&p, "Default_Ring__1__"), "1");
    assert_string_equal(pv_params_value(&p, "Phone-UI-User-Mode"), "Yes");
    assert_string_equal(pv_params_value(&p, "Auth_Resync-Reboot_1_"), "No");
    assert_string_equal(pv_params_value(&p, "G722.2_Codec_Name"), "G722.2");
    assert_null(pv_params_value(&p, "dial_plan_1_")); /* case-sensitive */
    assert_round_trip(&p);
    pv_params_free(&p);
}

/* <GPP_A></GPP_A> empties, <GPP_B/> leaves the value and applies attributes. */
static void empty_versus_self_closing(void **state)
{
    pv_params p = {0};
    pv_params_set_str(&p, "GPP_A", "old a", PV_UA_NA);
    pv_params_set_str(&p, "GPP_B", "old b", PV_UA_NA);
    const char *xml = "<flat-profile><GPP_A></GPP_A><GPP_B ua=\"rw\"/><GPP_C /><GPP_D>  </GPP_D>"
                      "</flat-profile>";
    assert_int_equal(pv_xml_parse(pv_slice_from(xml), &p, NULL, NULL), 0);
    assert_string_equal(pv_params_value(&p, "GPP_A"), "");
    assert_string_equal(pv_params_value(&p, "GPP_B"), "old b");
    assert_int_equal(get(&p, "GPP_B").ua, PV_UA_RW);
    assert_false(get(&p, "GPP_C").has_value);
    assert_string_equal(pv_params_value(&p, "GPP_D"), "");
    assert_round_trip(&p);
    pv_params_free(&p);
}

static void entities_comments_whitespace(void **state)
{
    pv_params p = parse_ok("<flat-profile>\n"
                           "<!-- a comment <GPP_X>no</GPP_X> -->\n"
                           "<Dial_Plan_2_>&#40;xx&#x2e;&#41;</Dial_Plan_2_>\n"
                           "<GPP_E>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;</GPP_E>\n"
                           "<GPP_F>\n   first line\n   second line\r\n  </GPP_F>\n"
                           "<GPP_G><![CDATA[<raw> & stuff]]></GPP_G>\n"
                           "<GPP_H>x<!-- mid -->y</GPP_H>\n"
                           "<?ignored processing instruction?>\n"
                           "<GPP_I>caf&#xe9;</GPP_I>\n"
                           "</flat-profile>");
    assert_string_equal(pv_params_value(&p, "Dial_Plan_2_"), "(xx.)");
    assert_string_equal(pv_params_value(&p, "GPP_E"), "a & b <c> \"d\" 'e'");
    assert_string_equal(pv_params_value(&p, "GPP_F"), "first line    second line");
    assert_string_equal(pv_params_value(&p, "GPP_G"), "<raw> & stuff");
    assert_string_equal(pv_params_value(&p, "GPP_H"), "xy");
    assert_string_equal(pv_params_value(&p, "GPP_I"), "caf\xc3\xa9");
    assert_false(pv_params_get(&p, pv_slice_from("GPP_X"), NULL));
    assert_round_trip(&p);
    pv_params_free(&p);
}

/* The <flat-profile> may be nested anywhere; only its children are parameters. */
static void nested_flat_profile(void **state)
{
    pv_params p = parse_ok("<device><info><Ignored>1</Ignored></info>"
                           "<top-level><flat-profile>"
                           "<Line_Enable_1_ ua=\"na\">Yes<Sub>dropped</Sub> </Line_Enable_1_>"
                           "</flat-profile></top-level>"
                           "<Outside>2</Outside>"
                           "<flat-profile><Second>b</Second></flat-profile></device>");
    assert_int_equal(pv_params_count(&p), 2);
    assert_string_equal(pv_params_value(&p, "Line_Enable_1_"), "Yes");
    assert_int_equal(get(&p, "Line_Enable_1_").ua, PV_UA_NA);
    assert_string_equal(pv_params_value(&p, "Second"), "b");
    pv_params_free(&p);
}

static void ua_last_wins_and_attributes(void **state)
{
    pv_params p = parse_ok(
        "<flat-profile>"
        "<Station_Name ua=\"ro\" group=\"Phone/General\">one</Station_Name>"
        "<Station_Name>two</Station_Name>"
        "<Station_Name ua=\"rw\" preserve-value=\"y\">Travel Agent 1</Station_Name>"
        "<Resync_Periodic ua=\"na\">1</Resync_Periodic><Resync_Periodic ua='rw'>2</Resync_Periodic>"
        "</flat-profile>");
    pv_param e = get(&p, "Station_Name");
    assert_slice_equal(e.value, "Travel Agent 1");
    assert_int_equal(e.ua, PV_UA_RW);
    assert_true(e.preserve);
    e = get(&p, "Resync_Periodic");
    assert_slice_equal(e.value, "2");
    assert_int_equal(e.ua, PV_UA_RW);
    assert_int_equal(pv_params_count(&p), 2);
    assert_round_trip(&p);
    pv_params_free(&p);
}

static void errors_name_line_and_column(void **state)
{
    pv_profile_pos where;
    pv_xml_opts opts = {.where = &where};
    parse_fails("<flat-profile>\n  <A>1</A>\n  <B>2</C>\n</flat-profile>", &opts, PV_ESYNTAX,
                "line 3, column 9: mismatched tag");
    assert_int_equal(where.line, 3);
    assert_int_equal(where.column, 9);
    parse_fails("<flat-profile>\n<A ua=\"yes\">1</A></flat-profile>", &opts, PV_ESYNTAX,
                "line 2, column 1: <A ua=\"yes\">: expected ua=\"na\", \"ro\" or \"rw\"");
    parse_fails("<flat-profile><A>1</A>", NULL, PV_ESYNTAX, "no element found");
    parse_fails("", NULL, PV_ESYNTAX, "line 1, column 1: no element found");
    parse_fails("<profile><A>1</A></profile>", NULL, PV_EFORMAT, "no <flat-profile>");
    parse_fails("<flat-profile>\xff</flat-profile>", NULL, PV_ESYNTAX, "not well-formed");
    parse_fails("<flat-profile>&#1;</flat-profile>", NULL, PV_ESYNTAX, "invalid character");
    parse_fails("<flat-profile>&nbsp;</flat-profile>", NULL, PV_ESYNTAX, "undefined entity");
}

/* Billion laughs and external entities never get a chance: no DOCTYPE at all. */
/* spec 3.1: unrecognised elements are ignored, the rest of the file applies */
static void unknown_elements_ignored(void **state)
{
    pv_params p = {0};
    pv_error err = {{0}};
    size_t ignored = 99;
    pv_xml_opts opts = {.ignored = &ignored};
    const char *xml = "<flat-profile xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\n"
                      "  <xs:annotation><xs:documentation>x</xs:documentation></xs:annotation>\n"
                      "  <Station_Name>Lobby</Station_Name>\n"
                      "  <ext:Extra xmlns:ext=\"urn:x\">no</ext:Extra>\n"
                      "  <Line_Enable_1_>Yes</Line_Enable_1_>\n"
                      "</flat-profile>\n";
    assert_int_equal(pv_xml_parse(pv_slice_from(xml), &p, &opts, &err), 0);
    assert_int_equal(ignored, 2);
    assert_int_equal(pv_params_count(&p), 2);
    assert_true(pv_slice_eq_cstr(get(&p, "Station_Name").value, "Lobby"));
    assert_true(pv_slice_eq_cstr(get(&p, "Line_Enable_1_").value, "Yes"));
    pv_params_free(&p);
}

/* C-ATAPAR "Router Configuration Parameters": sections of parameters, not one */
static void router_configuration_sections(void **state)
{
    pv_params p = parse_ok("<flat-profile>\n"
                           " <Line_Enable_1_>Yes</Line_Enable_1_>\n"
                           " <router-configuration>\n"
                           "  <Web_Login_Admin_Name>admin</Web_Login_Admin_Name>\n"
                           "  <Time_Setup>\n"
                           "   <Time_Zone>+01 2 2</Time_Zone>\n"
                           "   <Time_Server>10.0.20.1</Time_Server>\n"
                           "  </Time_Setup>\n"
                           "  <DHCP_Server_Pool><Rule><DHCP_Server>0</DHCP_Server></Rule>"
                           "</DHCP_Server_Pool>\n"
                           "  <WAN_PPPoE_User_Name />\n"
                           " </router-configuration>\n"
                           " <Line_Enable_2_>No</Line_Enable_2_>\n"
                           "</flat-profile>\n");
    assert_false(pv_params_get(&p, pv_slice_from("router-configuration"), NULL));
    assert_false(pv_params_get(&p, pv_slice_from("Time_Setup"), NULL));
    assert_false(pv_params_get(&p, pv_slice_from("Rule"), NULL));
    assert_true(pv_slice_eq_cstr(get(&p, "Time_Zone").value, "+01 2 2"));
    assert_true(pv_slice_eq_cstr(get(&p, "Time_Server").value, "10.0.20.1"));
    assert_true(pv_slice_eq_cstr(get(&p, "Web_Login_Admin_Name").value, "admin"));
    assert_true(pv_slice_eq_cstr(get(&p, "DHCP_Server").value, "0"));
    assert_false(get(&p, "WAN_PPPoE_User_Name").has_value);
    assert_true(pv_slice_eq_cstr(get(&p, "Line_Enable_2_").value, "No"));
    assert_int_equal(pv_params_count(&p), 7);
    pv_params_free(&p);
}

static void doctype_refused(void **state)
{
    parse_fails("<?xml version=\"1.0\"?>\n"
                "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]>\n"
                "<flat-profile><A>&lol2;</A></flat-profile>",
                NULL, PV_ENOTSUP, "line 2, column 16: a <!DOCTYPE> is not allowed");
    parse_fails("<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><flat-profile/>", NULL, PV_ENOTSUP,
                "DOCTYPE");
}

static void limits_hold(void **state)
{
    pv_profile_limits lim = {.max_input = 64, .max_params = 2, .max_value = 8, .max_depth = 3};
    pv_xml_opts opts = {.limits = &lim};
    parse_fails("<flat-profile><A>1</A><B>2</B><C>3</C></flat-profile>", &opts, PV_ELIMIT,
                "more than 2 parameters");
    parse_fails("<flat-profile><A>123456789</A></flat-profile>", &opts, PV_ELIMIT,
                "value of <A> longer than 8 bytes");
    parse_fails("<a><b><c><d/></c></b></a>", &opts, PV_ELIMIT, "nested deeper than 3");
    char big[100];
    memset(big, ' ', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    parse_fails(big, &opts, PV_ETOOBIG, "larger than 64 bytes");
    /* repeats of one name do not count twice */
    pv_params p = {0};
    assert_int_equal(
        pv_xml_parse(pv_slice_from("<flat-profile><A>1</A><A>2</A><B/></flat-profile>"), &p, &opts,
                     NULL),
        0);
    pv_params_free(&p);
    /* default depth: 32 */
    pv_buf deep = {0};
    for (int i = 0; i < 40; i++)
        pv_buf_append_str(&deep, "<x>");
    pv_params q = {0};
    assert_int_equal(pv_xml_parse(pv_buf_slice(&deep), &q, NULL, NULL), PV_ELIMIT);
    pv_params_free(&q);
    pv_buf_free(&deep);
}

static void aliases_map_foreign_xml(void **state)
{
    pv_xml_aliases *a = NULL;
    pv_error err = {{0}};
    /* spec 1.1: lines "/path/in/foreign/xml = /flat-profile/Param_Name ;" */
    assert_int_equal(
        pv_xml_aliases_parse(pv_slice_from("/device/sip/proxy = /flat-profile/Proxy_1_ ;\n"
                                           " user = /flat-profile/User_ID_1_;\n"
                                           " ; \n"),
                             &a, &err),
        0);
    pv_xml_opts opts = {.aliases = a};
    pv_params p = {0};
    const char *xml = "<root><device><sip><proxy ua=\"ro\"> sip.example.com </proxy></sip>"
                      "<account><user>4085551234</user></account></device>"
                      "<other><sip><proxy>not matched</proxy></sip></other>"
                      "<flat-profile><GPP_A>kept</GPP_A></flat-profile></root>";
    assert_int_equal(pv_xml_parse(pv_slice_from(xml), &p, &opts, &err), 0);
    assert_string_equal(pv_params_value(&p, "Proxy_1_"), "sip.example.com");
    assert_int_equal(get(&p, "Proxy_1_").ua, PV_UA_RO);
    assert_string_equal(pv_params_value(&p, "User_ID_1_"), "4085551234");
    assert_string_equal(pv_params_value(&p, "GPP_A"), "kept");
    assert_int_equal(pv_params_count(&p), 3);
    pv_params_free(&p);
    /* a foreign document without flat-profile is fine with aliases */
    assert_int_equal(pv_xml_parse(pv_slice_from("<x><user>u</user></x>"), &p, &opts, &err), 0);
    assert_string_equal(pv_params_value(&p, "User_ID_1_"), "u");
    pv_params_free(&p);
    pv_xml_aliases_free(a);

    assert_int_equal(pv_xml_aliases_parse(pv_slice_from("/a/b /flat-profile/X"), &a, &err),
                     PV_ESYNTAX);
    assert_non_null(strstr(err.msg, "alias 1: expected '='"));
    assert_int_equal(pv_xml_aliases_parse(pv_slice_from("a = b;"), &a, &err), PV_ESYNTAX);
    assert_non_null(strstr(err.msg, "/flat-profile/Name"));
    assert_int_equal(pv_xml_aliases_parse(pv_slice_from(" = /flat-profile/X"), &a, &err),
                     PV_ESYNTAX);
    pv_buf many = {0};
    for (int i = 0; i < 31; i++)
        pv_buf_appendf(&many, "/e%d = /flat-profile/P%d;", i, i);
    assert_int_equal(pv_xml_aliases_parse(pv_buf_slice(&many), &a, &err), PV_ELIMIT);
    assert_non_null(strstr(err.msg, "30"));
    pv_buf_free(&many);
}

static void serializer_is_canonical_and_escaped(void **state)
{
    pv_params p = {0};
    pv_params_set_str(&p, "Resync_Periodic", "7200", PV_UA_UNSET);
    pv_params_set_str(&p, "GPP_A", "a<b & \"c\" > d\tx", PV_UA_RW);
    pv_params_set_str(&p, "GPP_B", NULL, PV_UA_RO);
    pv_params_set_str(&p, "GPP_C", "", PV_UA_UNSET);
    pv_buf out = {0};
    assert_int_equal(pv_xml_serialize(&p, &out, NULL), 0);
    assert_string_equal(out.data,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<flat-profile>\n"
                        "  <Resync_Periodic>7200</Resync_Periodic>\n"
                        "  <GPP_A ua=\"rw\">a&lt;b &amp; &quot;c&quot; &gt; d&#9;x</GPP_A>\n"
                        "  <GPP_B ua=\"ro\"/>\n"
                        "  <GPP_C></GPP_C>\n"
                        "</flat-profile>\n");
    assert_round_trip(&p);
    pv_buf_free(&out);
    /* what XML cannot carry is refused, with the parameter named */
    pv_error err = {{0}};
    pv_params_set_str(&p, "Bad", "a\x01", PV_UA_UNSET);
    assert_int_equal(pv_xml_serialize(&p, &out, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "Bad: byte 2"));
    pv_params_set_str(&p, "Bad", "latin1 \xe9t\xe9", PV_UA_UNSET);
    pv_buf_reset(&out);
    assert_int_equal(pv_xml_serialize(&p, &out, &err), PV_EINVAL);
    pv_params_set_str(&p, "Bad", "\xed\xa0\x80", PV_UA_UNSET); /* a UTF-16 surrogate */
    pv_buf_reset(&out);
    assert_int_equal(pv_xml_serialize(&p, &out, &err), PV_EINVAL);
    pv_params_set_str(&p, "Bad", "ok \xf0\x9f\x93\x9e", PV_UA_UNSET);
    pv_buf_reset(&out);
    assert_int_equal(pv_xml_serialize(&p, &out, &err), 0);
    pv_buf_free(&out);
    pv_params_free(&p);
}

/* The committed test profiles parse (the same files the CLI test uses). */
static void data_files_parse(void **state)
{
    const char *src = getenv("PV_SRC");
    if (src == NULL)
        skip();
    char path[1024];
    int n = snprintf(path, sizeof path, "%s/tests/data/profiles/spa_sample.xml", src);
    assert_true(n > 0 && (size_t)n < sizeof path);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    pv_buf b = {0};
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        pv_buf_append(&b, chunk, got);
    fclose(f);
    pv_params p = {0};
    pv_error err = {{0}};
    if (pv_xml_parse(pv_buf_slice(&b), &p, NULL, &err) != 0)
        fail_msg("%s: %s", path, err.msg);
    assert_true(pv_params_count(&p) >= 10);
    assert_round_trip(&p);
    pv_params_free(&p);
    pv_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_sample),
        cmocka_unit_test(names_from_spec),
        cmocka_unit_test(empty_versus_self_closing),
        cmocka_unit_test(entities_comments_whitespace),
        cmocka_unit_test(nested_flat_profile),
        cmocka_unit_test(ua_last_wins_and_attributes),
        cmocka_unit_test(errors_name_line_and_column),
        cmocka_unit_test(unknown_elements_ignored),
        cmocka_unit_test(router_configuration_sections),
        cmocka_unit_test(doctype_refused),
        cmocka_unit_test(limits_hold),
        cmocka_unit_test(aliases_map_foreign_xml),
        cmocka_unit_test(serializer_is_canonical_and_escaped),
        cmocka_unit_test(data_files_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
