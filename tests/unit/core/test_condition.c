/* Unit tests for core/condition: spec 1.4 and 5.4 examples, legacy forms, errors. */
#include "pv_test.h"

#include "core/alloc.h"
#include "core/condition.h"

/* Evaluates a bare condition (already expanded) with the given software version. */
static bool eval_with(const char *text, const char *swver)
{
    bool r = false;
    pv_error err = {{0}};
    int rc = pv_condition_test(pv_slice_from(text), pv_slice_from(swver), &r, &err);
    if (rc != 0)
        fail_msg("'%s': %s", text, err.msg);
    return r;
}

static bool eval(const char *text)
{
    return eval_with(text, "2.0.6(b)");
}

static void spec_examples(void **state)
{
    /* spec 1.4 (SB-PG p.47): `$REGTMR1 gt 300 and $PRVTMR gt 1200 and "$EXTIP" ne ""` */
    assert_true(eval("301 gt 300 and 1201 gt 1200 and \"66.43.16.52\" ne \"\""));
    assert_false(eval("300 gt 300 and 1201 gt 1200 and \"66.43.16.52\" ne \"\""));
    assert_false(eval("301 gt 300 and 1201 gt 1200 and \"\" ne \"\""));
    /* `$SWVER ge 2.0.6 and "$CCERT" eq "Installed"` */
    assert_true(eval("2.0.6(b) ge 2.0.6 and \"Installed\" eq \"Installed\""));
    assert_false(eval("2.0.6(b) ge 2.0.6 and \"Not Installed\" eq \"Installed\""));
    assert_false(eval("2.0.5 ge 2.0.6 and \"Installed\" eq \"Installed\""));
    /* community note: `$SWVER ge sip78xx.11-0-0MPP-7` */
    assert_true(eval("sip78xx.11-0-1MPP ge sip78xx.11-0-0MPP-7"));
    assert_false(eval("sip78xx.10-3-1MPP-2 ge sip78xx.11-0-0MPP-7"));
    /* spec 5.4 triggers: `$REGTMR1 gt 300 and $PRVTMR ge 600`, `$UPGTMR gt 300 and ...` */
    assert_true(eval("301 gt 300 and 600 ge 600"));
    assert_false(eval("301 gt 300 and 599 ge 600"));
    /* spec 6: `"$F" ne "beta-customer"` */
    assert_true(eval("\"\" ne \"beta-customer\""));
    assert_false(eval("\"beta-customer\" ne \"beta-customer\""));
}

static void every_operator(void **state)
{
    const char *yes[] = {"1 = 1",    "1 eq 1",           "1 != 2",   "1 ne 2",  "1 < 2",
                         "1 lt 2",   "2 <= 2",           "2 le 2",   "3 > 2",   "3 gt 2",
                         "2 >= 2",   "2 ge 2",           "1 ! 2",    "1<2",     "3>=2",
                         "1 EQ 1",   "-1 lt 0",          "-2 lt -1", "-0 eq 0", "10 gt 9",
                         "007 eq 7", "1 lt 2 AND 2 lt 3"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_true(eval(yes[i]));
    const char *no[] = {"1 = 2",  "1 ne 1", "2 < 1",   "3 le 2",           "1 > 2",
                        "1 ge 2", "1 ! 1",  "0 lt -1", "1 lt 2 and 3 lt 2"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(eval(no[i]));
}

static void legacy_implied_swver(void **state)
{
    /* spec 1.4 (SIP-ADM p.32): `(! 1.0.33)?`, `(<1.0)?`: the left operand is $SWVER */
    assert_true(eval_with("! 1.0.33", "1.0.32"));
    assert_false(eval_with("! 1.0.33", "1.0.33"));
    assert_true(eval_with("<1.0", "0.9.9"));
    assert_false(eval_with("<1.0", "1.0.2"));
    assert_true(eval_with("ge 2.0.6", "2.0.6(b)"));
    assert_true(eval_with("! 1.0.2", "1.0.3"));
    /* a word operator used as an operand */
    assert_true(eval_with("\"eq\" eq \"eq\"", ""));
    pv_error err;
    bool r;
    assert_int_equal(pv_condition_test(PV_SLICE_LIT("<1.0"), PV_SLICE_LIT(""), &r, &err),
                     PV_EINVAL);
    assert_non_null(strstr(err.msg, "software version"));
}

static void quoted_vs_unquoted(void **state)
{
    /* spec 1.4: quoted "$SWVER" is a string compared to the full load name */
    assert_true(eval("\"sip88xx.11-3-1MPP-678\" ne \"11-3-1MPP-678\""));
    /* unquoted $SWVER is a version: model part ignored */
    assert_true(eval("sip88xx.11-3-1MPP-678 eq 11-3-1MPP-678"));
    assert_true(eval("\"a b\" eq \"a b\""));
    pv_error err;
    bool r;
    assert_int_equal(pv_condition_test(PV_SLICE_LIT("\"a\" lt \"b\""), PV_SLICE_LIT(""), &r, &err),
                     PV_EINVAL);
    assert_string_equal(err.msg, "column 5: strings compare only with eq or ne, not lt");
    assert_int_equal(pv_condition_test(PV_SLICE_LIT("\"5\" eq 5"), PV_SLICE_LIT(""), &r, &err),
                     PV_EINVAL);
    assert_non_null(strstr(err.msg, "column 1: cannot compare the string \"5\""));
    assert_int_equal(
        pv_condition_test(PV_SLICE_LIT("Installed eq 1.0"), PV_SLICE_LIT(""), &r, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "column 1: 'Installed' is not a number or a version"));
    /* spec 1.4: SPA against MPP version is an error */
    assert_int_equal(
        pv_condition_test(PV_SLICE_LIT("2.0.6 lt 11-3-1MPP-678"), PV_SLICE_LIT(""), &r, &err),
        PV_EFORMAT);
    assert_non_null(strstr(err.msg, "column 7: cannot compare version"));
    /* type errors surface even after a false term */
    assert_int_equal(
        pv_condition_test(PV_SLICE_LIT("1 eq 2 and \"x\" gt \"y\""), PV_SLICE_LIT(""), &r, &err),
        PV_EINVAL);
}

static void syntax_errors_name_the_column(void **state)
{
    struct {
        const char *text, *msg;
    } cases[] = {
        {"", "column 1: expected a number, a version or a quoted string, found the end"},
        {"1 gt", "column 5: expected a number, a version or a quoted string, found the end"},
        {"1 2", "column 3: expected an operator (eq ne lt le gt ge = != < <= > >=), found '2'"},
        {"1 gt 2 or 3 gt 2", "column 8: expected 'and' or the end of the condition, found 'o'"},
        {"\"abc eq 1", "column 1: string not closed"},
        {"1 gt 2 and", "column 11: expected a number"},
        {"1 gt 2 andy", "column 8: expected 'and' or the end"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pv_error err = {{0}};
        bool r;
        int rc = pv_condition_test(pv_slice_from(cases[i].text), PV_SLICE_LIT("1.0"), &r, &err);
        assert_int_equal(rc, PV_ESYNTAX);
        if (strstr(err.msg, cases[i].msg) == NULL)
            fail_msg("'%s': message '%s' lacks '%s'", cases[i].text, err.msg, cases[i].msg);
    }
}

static void wrapped_in_a_rule(void **state)
{
    /* a rule hands over the text after '(' and gets back how much was used */
    const char *rule = "($SWVER ge 2.0.6(b))? http://x/y";
    pv_condition c;
    size_t used = 0;
    pv_slice after = pv_slice_from(rule + 1);
    assert_int_equal(pv_condition_parse(after, PV_COND_WRAPPED, 1, &c, &used, NULL), 0);
    assert_int_equal(used, strlen("$SWVER ge 2.0.6(b))?"));
    assert_int_equal(c.nterms, 1);
    assert_slice_equal(c.terms[0].right.text, "2.0.6(b)");
    assert_int_equal(c.terms[0].right.col, 12);
    pv_condition_free(&c);
    pv_error err;
    assert_int_equal(
        pv_condition_parse(PV_SLICE_LIT("1 eq 1 http://x"), PV_COND_WRAPPED, 1, &c, &used, &err),
        PV_ESYNTAX);
    assert_string_equal(err.msg, "column 9: expected 'and' or ')?' after condition, found 'h'");
    assert_int_equal(
        pv_condition_parse(PV_SLICE_LIT("1 eq 1"), PV_COND_WRAPPED, 1, &c, &used, &err),
        PV_ESYNTAX);
    assert_string_equal(err.msg, "column 8: expected ')?' after condition, found the end");
    assert_int_equal(
        pv_condition_parse(PV_SLICE_LIT("1 eq 1)!"), PV_COND_WRAPPED, 1, &c, &used, &err),
        PV_ESYNTAX);
}

static void bounded_terms(void **state)
{
    pv_buf b = {0};
    for (int i = 0; i < PV_CONDITION_MAX_TERMS + 1; i++)
        pv_buf_appendf(&b, "%s1 eq 1", i ? " and " : "");
    bool r;
    pv_error err;
    assert_int_equal(pv_condition_test(pv_buf_slice(&b), PV_SLICE_LIT(""), &r, &err), PV_ETOOBIG);
    pv_buf_free(&b);
}

static void resync_triggers(void **state)
{
    /* spec 5.4: `$REGTMR1 gt 300 and $PRVTMR ge 600`, `$UPGTMR gt 300 and $PRVTMR ge 600` */
    pv_macro_vars v = {0};
    pv_macro_vars_set(&v, "REGTMR1", "301");
    pv_macro_vars_set(&v, "PRVTMR", "600");
    pv_macro_vars_set(&v, "UPGTMR", "30");
    pv_macro_vars_set(&v, "SWVER", "1.0.3");
    pv_macro_env env = pv_macro_vars_env(&v);
    bool set, r;
    pv_error err;
    assert_int_equal(pv_condition_trigger(PV_SLICE_LIT("$REGTMR1 gt 300 and $PRVTMR ge 600"), &env,
                                          &set, &r, &err),
                     0);
    assert_true(set);
    assert_true(r);
    assert_int_equal(pv_condition_trigger(PV_SLICE_LIT("$UPGTMR gt 300 and $PRVTMR ge 600"), &env,
                                          &set, &r, &err),
                     0);
    assert_true(set);
    assert_false(r);
    /* legacy implied $SWVER comes from the same lookup */
    assert_int_equal(pv_condition_trigger(PV_SLICE_LIT("! 1.0.2"), &env, &set, &r, &err), 0);
    assert_true(r);
    /* blank and commented-out triggers are not set (spec 1.6) */
    assert_int_equal(pv_condition_trigger(PV_SLICE_LIT("  "), &env, &set, &r, &err), 0);
    assert_false(set);
    assert_int_equal(pv_condition_trigger(PV_SLICE_LIT("# $REGTMR1 gt 1"), &env, &set, &r, &err),
                     0);
    assert_false(set);
    /* spec 5.1: no `( )?` wrapper in triggers */
    assert_int_equal(pv_condition_trigger(PV_SLICE_LIT("($REGTMR1 gt 300)?"), &env, &set, &r, &err),
                     PV_ESYNTAX);
    assert_int_equal(pv_condition_trigger(PV_SLICE_LIT("  1 gt"), &env, &set, &r, &err),
                     PV_ESYNTAX);
    assert_non_null(strstr(err.msg, "column 7"));
    pv_macro_vars_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_examples),
        cmocka_unit_test(every_operator),
        cmocka_unit_test(legacy_implied_swver),
        cmocka_unit_test(quoted_vs_unquoted),
        cmocka_unit_test(syntax_errors_name_the_column),
        cmocka_unit_test(wrapped_in_a_rule),
        cmocka_unit_test(bounded_terms),
        cmocka_unit_test(resync_triggers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
