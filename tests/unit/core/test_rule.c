/* Unit tests for core/rule: the spec 1, 6, 7.1 and 12 examples, and errors with columns. */
#include "pv_test.h"

#include "core/alloc.h"
#include "core/rule.h"

static pv_macro_vars vars;

static int setup(void **state)
{
    vars = (pv_macro_vars){0};
    pv_identity id = {.mac = "000e08012345", .model = "SPA2102", .swver = "2.0.6(b)"};
    assert_int_equal(pv_macro_vars_identity(&vars, &id, NULL), 0);
    return 0;
}

static int teardown(void **state)
{
    pv_macro_vars_free(&vars);
    return 0;
}

static void set(const char *name, const char *value)
{
    pv_macro_vars_set(&vars, name, value);
}

/* Evaluates rule, which must succeed; the caller frees r. */
static void eval_ok(pv_rule_kind kind, const char *rule, pv_rule_result *r)
{
    pv_error err = {{0}};
    pv_macro_env env = pv_macro_vars_env(&vars);
    if (pv_rule_eval(kind, pv_slice_from(rule), &env, r, &err) != 0)
        fail_msg("'%s': %s", rule, err.msg);
}

/* Evaluates a profile rule expected to select alternative `chosen` and fetch url. */
static void expect_url(const char *rule, size_t chosen, const char *url)
{
    pv_rule_result r;
    eval_ok(PV_RULE_PROFILE, rule, &r);
    assert_int_equal(r.outcome, PV_RULE_SELECTED);
    assert_int_equal(r.chosen, chosen);
    assert_int_equal(r.ntargets, 1);
    pv_buf b = {0};
    pv_url_format(&r.targets[0].url, &b);
    assert_string_equal(b.data, url);
    pv_buf_free(&b);
    pv_rule_result_free(&r);
}

/* Evaluates rule expecting failure code with a message containing msg. */
static void expect_error(pv_rule_kind kind, const char *rule, int code, const char *msg)
{
    pv_rule_result r;
    pv_error err = {{0}};
    pv_macro_env env = pv_macro_vars_env(&vars);
    int rc = pv_rule_eval(kind, pv_slice_from(rule), &env, &r, &err);
    if (rc != code)
        fail_msg("'%s': got %d (%s), want %d", rule, rc, err.msg, code);
    if (strstr(err.msg, msg) == NULL)
        fail_msg("'%s': message '%s' lacks '%s'", rule, err.msg, msg);
    assert_non_null(r.expanded);
    pv_rule_result_free(&r);
}

static void factory_defaults(void **state)
{
    /* spec 1.3: SPA /spa$PSN.cfg (SPA2102 → /spa2102.cfg) from the DHCP server */
    expect_url("/spa$PSN.cfg", 1, "tftp:///spa2102.cfg");
    pv_rule_result r;
    eval_ok(PV_RULE_PROFILE, "/spa$PSN.cfg", &r);
    assert_true(r.targets[0].url.dhcp_host);
    assert_int_equal(r.targets[0].url.port, 69);
    assert_string_equal(r.expanded, "/spa2102.cfg");
    pv_rule_result_free(&r);
    /* MPP /$PSN.xml, ATA /ata$PSN.cfg */
    set("PSN", "8841-3PCC");
    expect_url("/$PSN.xml", 1, "tftp:///8841-3PCC.xml");
    set("PSN", "191");
    expect_url("/ata$PSN.cfg", 1, "tftp:///ata191.cfg");
}

static void url_examples(void **state)
{
    /* spec 1.2 valid examples, macro-expanded */
    set("D", "dd");
    set("E", "ee");
    expect_url("/$MA.cfg", 1, "tftp:///000e08012345.cfg");
    expect_url("192.168.1.130/profiles/init.cfg", 1, "tftp://192.168.1.130/profiles/init.cfg");
    expect_url("tftp://prov.call.com/cpe/cisco$MA.cfg", 1,
               "tftp://prov.call.com/cpe/cisco000e08012345.cfg");
    expect_url("http://neptune.speak.net:8080/prov/$D/$E.cfg", 1,
               "http://neptune.speak.net:8080/prov/dd/ee.cfg");
    expect_url("https://secure.me.com/profile?Linksys", 1, "https://secure.me.com/profile?Linksys");
    /* spec 12.1: GPP_B=Dj6Lmp23Q */
    set("B", "Dj6Lmp23Q");
    expect_url("tftp://prov.telco.com/cisco/$B/$MA.cfg", 1,
               "tftp://prov.telco.com/cisco/Dj6Lmp23Q/000e08012345.cfg");
}

static void options_examples(void **state)
{
    pv_rule_result r;
    /* spec 1.1 (LK-PG p.40) */
    eval_ok(PV_RULE_PROFILE, "[--post j --alias k] http://ps/x", &r);
    assert_int_equal(r.targets[0].opts.post, 'j');
    assert_int_equal(r.targets[0].opts.alias, 'k');
    assert_null(r.targets[0].opts.key);
    pv_rule_result_free(&r);
    eval_ok(PV_RULE_PROFILE, "[--key \"SymmetricSecret\" --alias a] /x.cfg", &r);
    assert_string_equal(r.targets[0].opts.key, "SymmetricSecret");
    assert_int_equal(r.targets[0].opts.alias, 'a');
    pv_rule_result_free(&r);
    set("SB", "sb-secret");
    eval_ok(PV_RULE_PROFILE, "[--key \"$SB\" --post g] http://h/x", &r);
    assert_string_equal(r.targets[0].opts.key, "sb-secret");
    assert_int_equal(r.targets[0].opts.post, 'g');
    /* the expanded rule never shows the secret (spec 2.2) */
    assert_string_equal(r.expanded, "[--key \"$SB\" --post g] http://h/x");
    pv_rule_result_free(&r);
    eval_ok(PV_RULE_PROFILE, "[--alias a --key abracadabra321 --post c] https://h/x", &r);
    assert_string_equal(r.targets[0].opts.key, "abracadabra321");
    assert_int_equal(r.targets[0].opts.alias, 'a');
    assert_int_equal(r.targets[0].opts.post, 'c');
    pv_rule_result_free(&r);
    /* MPP: [--uid $SA --pwd $SB]; FUS: no space before the URL */
    set("SA", "user1");
    eval_ok(PV_RULE_PROFILE, "[--uid $SA --pwd $SB]https://h/$MA.xml", &r);
    assert_string_equal(r.targets[0].opts.uid, "user1");
    assert_string_equal(r.targets[0].opts.pwd, "sb-secret");
    assert_string_equal(r.targets[0].url.path, "/000e08012345.xml");
    pv_rule_result_free(&r);
    /* spec 1.1: --post f with the GPP_F template and a query */
    eval_ok(PV_RULE_PROFILE, "[--post f ] http://ps.one.com/cpe/resyncs?", &r);
    assert_int_equal(r.targets[0].opts.post, 'f');
    assert_string_equal(r.targets[0].url.query, "");
    pv_rule_result_free(&r);
    /* --srv (MPP) */
    eval_ok(PV_RULE_PROFILE, "[--srv] https://example.com/$PSN.xml", &r);
    assert_true(r.targets[0].opts.srv);
    assert_string_equal(r.targets[0].url.path, "/2102.xml");
    pv_rule_result_free(&r);
    /* spec 12.2 SEC-PRV-1 rules */
    set("A", "8e4ca259");
    set("B", "Gp3sqLn");
    eval_ok(PV_RULE_PROFILE, "[--key $A] tftp.callme.com/profile/$B/spa112.cfg", &r);
    assert_string_equal(r.targets[0].opts.key, "8e4ca259");
    assert_string_equal(r.targets[0].url.host, "tftp.callme.com");
    assert_string_equal(r.targets[0].url.path, "/profile/Gp3sqLn/spa112.cfg");
    pv_rule_result_free(&r);
    set("SA", "k3y");
    eval_ok(PV_RULE_PROFILE, "[--key $SA] http://host/$B/$MA.cfg", &r);
    assert_string_equal(r.targets[0].opts.key, "k3y");
    assert_string_equal(r.targets[0].url.path, "/Gp3sqLn/000e08012345.cfg");
    pv_rule_result_free(&r);
    /* secrets stay literal outside option arguments */
    eval_ok(PV_RULE_PROFILE, "http://h/$SA.cfg", &r);
    assert_string_equal(r.targets[0].url.path, "/$SA.cfg");
    pv_rule_result_free(&r);
    /* an empty quoted argument is given and empty */
    eval_ok(PV_RULE_PROFILE, "[--key \"\"] /x", &r);
    assert_string_equal(r.targets[0].opts.key, "");
    pv_rule_result_free(&r);
}

static void gds_reserved(void **state)
{
    pv_rule_result r;
    eval_ok(PV_RULE_PROFILE, "gds://", &r);
    assert_true(r.targets[0].url.gds);
    pv_rule_result_free(&r);
}

static void alternatives_and_assignments(void **state)
{
    /* spec 1.5: the combined example */
    const char *rule = "(\"$A\" ne \"Provisioned\")? (Line_Enable_1_ = \"No\";)! "
                       "https://p.tel.com/init-prov | https://p.tel.com/configs";
    pv_rule_result r;
    eval_ok(PV_RULE_PROFILE, rule, &r);
    assert_int_equal(r.chosen, 1);
    assert_int_equal(r.nalternatives, 2);
    assert_int_equal(r.nassign, 1);
    assert_string_equal(r.assign[0].name, "Line_Enable_1_");
    assert_string_equal(r.assign[0].value, "No");
    assert_string_equal(r.targets[0].url.path, "/init-prov");
    pv_rule_result_free(&r);
    set("A", "Provisioned");
    eval_ok(PV_RULE_PROFILE, rule, &r);
    assert_int_equal(r.chosen, 2);
    assert_int_equal(r.nassign, 0);
    assert_string_equal(r.targets[0].url.path, "/configs");
    pv_rule_result_free(&r);
    /* spec 1.5: a..p are GPP_A..GPP_P; values are expanded */
    set("B", "77");
    eval_ok(PV_RULE_PROFILE, "( User_ID_1_ = \"uid$B\" ; c = \"\" ; d = \"$MA\" ; )!", &r);
    assert_int_equal(r.outcome, PV_RULE_SELECTED);
    assert_int_equal(r.ntargets, 0);
    assert_int_equal(r.nassign, 3);
    assert_string_equal(r.assign[0].name, "User_ID_1_");
    assert_string_equal(r.assign[0].value, "uid77");
    assert_string_equal(r.assign[1].name, "GPP_C");
    assert_string_equal(r.assign[1].value, "");
    assert_string_equal(r.assign[2].name, "GPP_D");
    assert_string_equal(r.assign[2].value, "000e08012345");
    pv_rule_result_free(&r);
    /* condition and assignment without a URL; the last ';' may be left out */
    eval_ok(PV_RULE_PROFILE, "(1 eq 1)? (a=\"x\")!", &r);
    assert_string_equal(r.assign[0].name, "GPP_A");
    pv_rule_result_free(&r);
}

static void conditions_in_rules(void **state)
{
    /* spec 1.4 community note: multistage upgrade on MPP */
    const char *up = "($SWVER ge sip78xx.11-0-0MPP-7)? http://s/sip78xx.11-2-1MES-3.loads | "
                     "http://s/sip78xx.11-0-0MPP-7.loads";
    set("SWVER", "sip78xx.11-0-1MPP");
    pv_rule_result r;
    eval_ok(PV_RULE_UPGRADE, up, &r);
    assert_int_equal(r.chosen, 1);
    assert_string_equal(r.targets[0].url.path, "/sip78xx.11-2-1MES-3.loads");
    pv_rule_result_free(&r);
    set("SWVER", "sip78xx.10-3-1MPP-2");
    eval_ok(PV_RULE_UPGRADE, up, &r);
    assert_int_equal(r.chosen, 2);
    pv_rule_result_free(&r);
    /* spec 6: multi-stage pattern */
    const char *stages = "($SWVER lt sip88xx.11-0-1MPP-376)? http://s/sip88xx.11-0-1MPP-376.loads"
                         " | http://s/sip88xx.12-0-1MPP-1.loads";
    set("SWVER", "sip88xx.10-4-1MPP-100");
    eval_ok(PV_RULE_UPGRADE, stages, &r);
    assert_int_equal(r.chosen, 1);
    pv_rule_result_free(&r);
    set("SWVER", "sip88xx.11-0-1MPP-376");
    eval_ok(PV_RULE_UPGRADE, stages, &r);
    assert_int_equal(r.chosen, 2);
    assert_string_equal(r.targets[0].url.path, "/sip88xx.12-0-1MPP-1.loads");
    pv_rule_result_free(&r);
    /* spec 6: branch on a GPP */
    const char *beta = "(\"$F\" ne \"beta-customer\")? "
                       "http://p.tel.com/firmware/sip88xx.11-3-1MPP-678.loads | "
                       "http://p.tel.com/firmware/sip88xx.11-3-2MPP0001-609.loads";
    eval_ok(PV_RULE_UPGRADE, beta, &r);
    assert_int_equal(r.chosen, 1);
    pv_rule_result_free(&r);
    set("F", "beta-customer");
    eval_ok(PV_RULE_UPGRADE, beta, &r);
    assert_int_equal(r.chosen, 2);
    pv_rule_result_free(&r);
    /* SIP-ADM legacy: `(! 1.0.2)?`, `(<1.0)?` with the implied $SWVER */
    set("SWVER", "1.0.3");
    eval_ok(PV_RULE_UPGRADE, "(! 1.0.2)? http://s/spa.bin", &r);
    assert_int_equal(r.chosen, 1);
    pv_rule_result_free(&r);
    eval_ok(PV_RULE_UPGRADE, "(<1.0)? http://s/spa.bin", &r);
    assert_int_equal(r.outcome, PV_RULE_NO_MATCH);
    assert_int_equal(r.chosen, 0);
    pv_rule_result_free(&r);
    /* spec 1.4 example with timers, version in parentheses */
    set("REGTMR1", "400");
    set("PRVTMR", "1300");
    set("EXTIP", "66.43.16.52");
    set("SWVER", "2.0.6(b)");
    eval_ok(PV_RULE_PROFILE,
            "($REGTMR1 gt 300 and $PRVTMR gt 1200 and \"$EXTIP\" ne \"\")? /a | "
            "($SWVER ge 2.0.6(b))? /b",
            &r);
    assert_int_equal(r.chosen, 1);
    pv_rule_result_free(&r);
    set("EXTIP", "");
    eval_ok(PV_RULE_PROFILE,
            "($REGTMR1 gt 300 and $PRVTMR gt 1200 and \"$EXTIP\" ne \"\")? /a | "
            "($SWVER ge 2.0.6(b))? /b",
            &r);
    assert_int_equal(r.chosen, 2);
    assert_string_equal(r.targets[0].url.path, "/b");
    pv_rule_result_free(&r);
}

static void empty_commented_none(void **state)
{
    pv_rule_result r;
    eval_ok(PV_RULE_PROFILE, "", &r);
    assert_int_equal(r.outcome, PV_RULE_EMPTY);
    assert_false(r.commented);
    pv_rule_result_free(&r);
    /* spec 1.6: '#' disables the rest, even a broken rule */
    eval_ok(PV_RULE_PROFILE, "  # [--bogus] ((( /x", &r);
    assert_int_equal(r.outcome, PV_RULE_EMPTY);
    assert_true(r.commented);
    pv_rule_result_free(&r);
    eval_ok(PV_RULE_PROFILE, "(1 eq 2)? /a | (2 eq 3)? /b", &r);
    assert_int_equal(r.outcome, PV_RULE_NO_MATCH);
    assert_int_equal(r.nalternatives, 2);
    pv_rule_result_free(&r);
}

static void report_rules(void **state)
{
    /* spec 7.1: two rules separated by a space (MPP) */
    pv_rule_result r;
    eval_ok(PV_RULE_REPORT,
            "[--delta]http://s/config-mpp-delta.xml [--status]http://s/config-mpp-status.xml", &r);
    assert_int_equal(r.outcome, PV_RULE_SELECTED);
    assert_int_equal(r.ntargets, 2);
    assert_true(r.targets[0].opts.delta);
    assert_false(r.targets[0].opts.status);
    assert_string_equal(r.targets[0].url.path, "/config-mpp-delta.xml");
    assert_true(r.targets[1].opts.status);
    assert_string_equal(r.targets[1].url.path, "/config-mpp-status.xml");
    pv_rule_result_free(&r);
    /* ...and by `; ` (SPA100) */
    eval_ok(PV_RULE_REPORT, "[--delta]http://s/config-525.xml; [--status]http://s/status-525.xml;",
            &r);
    assert_int_equal(r.ntargets, 2);
    assert_string_equal(r.targets[0].url.path, "/config-525.xml");
    assert_true(r.targets[1].opts.status);
    pv_rule_result_free(&r);
    /* C-RPT: [--delta --key test123] with credentials */
    set("SC", "pw");
    eval_ok(PV_RULE_REPORT, "[--delta --key test123 --uid admin --pwd $SC] https://s/r.xml", &r);
    assert_int_equal(r.ntargets, 1);
    assert_string_equal(r.targets[0].opts.key, "test123");
    assert_string_equal(r.targets[0].opts.pwd, "pw");
    pv_rule_result_free(&r);
    /* no options: the full configuration over TFTP PUT */
    eval_ok(PV_RULE_REPORT, "tftp://s/$MA.xml", &r);
    assert_false(r.targets[0].has_options);
    assert_string_equal(r.targets[0].url.path, "/000e08012345.xml");
    pv_rule_result_free(&r);
}

static void syntax_errors_with_columns(void **state)
{
    const pv_rule_kind P = PV_RULE_PROFILE, U = PV_RULE_UPGRADE, R = PV_RULE_REPORT;
    struct {
        pv_rule_kind kind;
        const char *rule, *msg;
    } cases[] = {
        {P, "(1 eq 1 http://a/b", "column 9: expected 'and' or ')?' after condition, found 'h'"},
        {P, "(1 eq 1", "column 8: expected ')?' after condition, found the end"},
        {P, "/a | /b", "column 1: alternative 1 has no condition"},
        {P, "(1 eq 1)? /a | /b | /c", "column 16: alternative 2 has no condition"},
        {P, "[--gzip] /x", "column 2: unknown option '--gzip'"},
        {P, "[--key] /x", "column 7: expected an argument, found ']'"},
        {P, "[--key a --key b] /x", "column 10: option --key given twice"},
        {P, "[--post q] http://h/x", "column 9: expected a GPP letter a..p after --post"},
        {P, "[--post f] tftp://h/x", "column 12: --post needs an http:// or https:// URL"},
        {P, "[--srv] /x", "column 9: --srv needs an http:// or https:// URL"},
        {P, "[--delta] /x", "column 2: option --delta is not allowed"},
        {P, "[--key a /x", "column 10: expected an option such as --key, or ']', found '/'"},
        {P, "[--key a]", "column 10: expected a URL after the options, found the end"},
        {P, "[--key a] | /x", "column 11: expected a URL after the options, found '|'"},
        {P, "[key a] /x", "column 2: expected an option such as --key, or ']'"},
        {P, "(a = \"1\";)! (b = \"2\";)! /x",
         "column 13: expected [options] or a URL (one assignment per alternative)"},
        {P, "(a = 1;)! /x", "column 6: expected a double-quoted value, found '1'"},
        {P, "(a \"1\";)! /x", "column 4: expected '=' after the parameter name"},
        {P, "(a = \"1\" b = \"2\")! /x", "column 10: expected ';' after the value"},
        {P, "()! /x", "column 2: expected an assignment"},
        {P, "(a = \"1\";) /x", "column 11: expected '!' after ')'"},
        {P, "(1 eq 1)? (1 eq 1)? /x", "column 11: expected an assignment ( Name = \"value\" ; )!"},
        {P, "/a /b", "column 4: expected '|' or the end of the rule, found '/'"},
        {P, "(1 eq 1)? /a |", "column 15: expected a condition ( ... )?, an assignment"},
        {P, "ftp://h/x", "column 1: unknown scheme 'ftp'"},
        {P, "http://h:99999/x", "column 10: expected a port number"},
        {P, "http://h", "column 9: expected an absolute file path"},
        {U, "[--key k] http://s/x.loads", "column 1: an Upgrade_Rule takes no [options]"},
        {R, "[--post a] http://s/r", "column 2: option --post is not allowed in a Report_Rule"},
        {R, "/a /b /c", "column 7: a Report_Rule holds at most two rules"},
        {R, "[--delta];", "column 10: expected a URL, found ';'"},
        {R, "(1 eq 1)? /a", "column 1: expected '[' or a URL"},
        {R, "[--bogus] /a", "unknown option '--bogus'; a Report_Rule takes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_error(cases[i].kind, cases[i].rule, PV_ESYNTAX, cases[i].msg);
    /* evaluation errors: condition types and version formats */
    set("SWVER", "2.0.6(b)");
    expect_error(P, "($SWVER lt sip88xx.11-0-1MPP-376)? /a | /b", PV_EFORMAT,
                 "column 11: cannot compare version");
    expect_error(P, "(\"$MA\" gt \"a\")? /a | /b", PV_EINVAL, "column 17: strings compare only");
    /* columns are those of the expanded rule */
    set("A", "xyz");
    expect_error(P, "($A eq 1 /x", PV_ESYNTAX,
                 "column 11: expected 'and' or ')?' after condition, found '/'");
    expect_error(P, "$A$A[--nope] /x", PV_ESYNTAX,
                 "column 7: expected an absolute file path starting with '/', found '['");
}

static void limits(void **state)
{
    pv_buf b = {0};
    for (int i = 0; i < PV_RULE_MAX_ALTERNATIVES + 1; i++)
        pv_buf_appendf(&b, "(1 eq 2)? /%d | ", i);
    pv_buf_append_str(&b, "/last");
    expect_error(PV_RULE_PROFILE, b.data, PV_ETOOBIG, "more than 256 alternatives");
    pv_buf_free(&b);
    /* a value that blows the rule up past the limit */
    char *big = pv_malloc(40000);
    memset(big, 'x', 39999);
    big[39999] = '\0';
    set("A", big);
    free(big);
    expect_error(PV_RULE_PROFILE, "/$A$A", PV_ETOOBIG, "after macro expansion");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(factory_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(url_examples, setup, teardown),
        cmocka_unit_test_setup_teardown(options_examples, setup, teardown),
        cmocka_unit_test_setup_teardown(gds_reserved, setup, teardown),
        cmocka_unit_test_setup_teardown(alternatives_and_assignments, setup, teardown),
        cmocka_unit_test_setup_teardown(conditions_in_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_commented_none, setup, teardown),
        cmocka_unit_test_setup_teardown(report_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(syntax_errors_with_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(limits, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
