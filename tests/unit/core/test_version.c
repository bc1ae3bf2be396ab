/* Unit tests for core/version: the spec 1.4 literals and their ordering. */
#include "pv_test.h"

#include "core/version.h"

static int cmp(const char *a, const char *b)
{
    pv_version va, vb;
    pv_error err;
    assert_int_equal(pv_version_parse(pv_slice_from(a), &va, &err), 0);
    assert_int_equal(pv_version_parse(pv_slice_from(b), &vb, &err), 0);
    int c = 99;
    assert_int_equal(pv_version_compare(&va, &vb, &c, &err), 0);
    int back = 99;
    assert_int_equal(pv_version_compare(&vb, &va, &back, &err), 0);
    assert_int_equal(c, -back); /* antisymmetric */
    return c;
}

static void spa_literals(void **state)
{
    /* spec 1.4: SPA `major.minor.build(suffix)` */
    pv_version v;
    assert_int_equal(pv_version_parse(pv_slice_from("2.0.6(b)"), &v, NULL), 0);
    assert_int_equal(v.format, PV_VERSION_SPA);
    assert_int_equal(v.ncomp, 3);
    assert_true(v.has_build);
    assert_int_equal(pv_version_parse(pv_slice_from("2.0.3(0412s)"), &v, NULL), 0);
    assert_int_equal(pv_version_parse(pv_slice_from("7.4.4"), &v, NULL), 0);
    assert_false(v.has_build);
    /* legacy forms from SIP-ADM: `1.0.33`, `1.0.2`, `1.0` */
    assert_int_equal(pv_version_parse(pv_slice_from("1.0.33"), &v, NULL), 0);
    assert_int_equal(pv_version_parse(pv_slice_from("1.0"), &v, NULL), 0);
    assert_int_equal(v.ncomp, 2);
    assert_int_equal(pv_version_parse(pv_slice_from("7"), &v, NULL), 0);
}

static void mpp_literals(void **state)
{
    /* spec 1.4: MPP load names and the ATA form */
    pv_version v;
    assert_int_equal(pv_version_parse(pv_slice_from("sip88xx.11-3-1MPP-678"), &v, NULL), 0);
    assert_int_equal(v.format, PV_VERSION_MPP);
    assert_int_equal(v.model.len, 7);
    assert_true(v.has_build);
    assert_int_equal(pv_version_parse(pv_slice_from("sip88xx.11-3-2MPP0001-609"), &v, NULL), 0);
    assert_int_equal(pv_version_parse(pv_slice_from("sip78xx.11-0-1MPP"), &v, NULL), 0);
    assert_false(v.has_build);
    assert_int_equal(pv_version_parse(pv_slice_from("11-1-0MPP-19"), &v, NULL), 0);
    assert_int_equal(v.model.len, 0);
    assert_int_equal(pv_version_parse(pv_slice_from("sip8845_65.12-0-1MPP-1"), &v, NULL), 0);
    assert_int_equal(pv_version_parse(pv_slice_from("sip78xx.11-2-1MES-3"), &v, NULL), 0);
}

static void ordering(void **state)
{
    /* spec 1.4: major, minor, micro, then build */
    assert_true(cmp("2.0.6", "2.0.5") > 0);
    assert_true(cmp("2.0.10", "2.0.9") > 0); /* numerically, not as text */
    assert_true(cmp("2.0.6(b)", "2.0.6(a)") > 0);
    assert_true(cmp("2.0.6(b)", "2.0.6") > 0);
    assert_true(cmp("1.0", "1.0.33") < 0);
    assert_int_equal(cmp("1.0", "1.0.0"), 0);
    assert_int_equal(cmp("2.0.06", "2.0.6"), 0);
    /* digits first, then letters: 2.0.3(0412s) vs (0412t) vs (0413a) */
    assert_true(cmp("2.0.3(0412s)", "2.0.3(0412t)") < 0);
    assert_true(cmp("2.0.3(0412z)", "2.0.3(0413a)") < 0);
    assert_true(cmp("7.4.4", "2.0.6(b)") > 0);
    /* MPP */
    assert_true(cmp("sip88xx.11-3-2MPP0001-609", "sip88xx.11-3-1MPP-678") > 0);
    assert_true(cmp("sip88xx.11-0-1MPP-376", "sip88xx.12-0-1MPP-1") < 0);
    assert_true(cmp("sip88xx.11-3-1MPP-678", "sip88xx.11-3-1MPP-679") < 0);
    assert_true(cmp("sip88xx.11-3-2MPP-700", "sip88xx.11-3-2MPP0001-609") < 0);
    assert_true(cmp("sip78xx.11-0-1MPP", "sip78xx.11-0-0MPP-7") > 0);
    assert_true(cmp("sip78xx.11-2-1MES-3", "sip78xx.11-0-0MPP-7") > 0);
    /* the model part is ignored (spec 1.4, $SWVER unquoted) */
    assert_int_equal(cmp("sip88xx.11-3-1MPP-678", "11-3-1MPP-678"), 0);
    assert_int_equal(cmp("sip78xx.11-3-1MPP-678", "sip88xx.11-3-1mpp-678"), 0);
    assert_true(cmp("11-1-0MPP-19", "11-1-0MPP-2") > 0);
    /* components of any length never overflow */
    assert_true(cmp("99999999999999999999999.0", "99999999999999999999998.9") > 0);
}

static void mismatched_formats_fail(void **state)
{
    /* spec 1.4: "mismatching format = parse error" */
    pv_version a, b;
    pv_error err;
    assert_int_equal(pv_version_parse(pv_slice_from("2.0.6(b)"), &a, NULL), 0);
    assert_int_equal(pv_version_parse(pv_slice_from("sip88xx.11-3-1MPP-678"), &b, NULL), 0);
    int c;
    assert_int_equal(pv_version_compare(&a, &b, &c, &err), PV_EFORMAT);
    assert_non_null(strstr(err.msg, "2.0.6(b)"));
    assert_non_null(strstr(err.msg, "SPA"));
}

static void bad_literals(void **state)
{
    struct {
        const char *text, *msg;
    } cases[] = {
        {"", "expected a version"},
        {"2.0.6(b", "column 8: expected ')' after the build"},
        {"2.0.6()", "column 7: expected a build"},
        {"2.0.6.1", "column 6: expected '(' or the end"},
        {"2..6", "column 3: expected a number"},
        {"2.0 6", "column 4: expected '.', '(' or the end"},
        {"sip88xx", "is not a version"},
        {"sip88xx.", "column 9: expected a number"},
        {"11-3-1MPP-678-9", "column 14: expected the end"},
        {"11", NULL},
        {"11-", "column 4: expected a number"},
        {"Installed", "is not a version"},
        {"1234567890123456789012345678901234567890123456789012345678901234", "longer than"},
        {"sip 8.1-2", "model name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pv_version v;
        pv_error err = {{0}};
        int rc = pv_version_parse(pv_slice_from(cases[i].text), &v, &err);
        if (cases[i].msg == NULL) {
            assert_int_equal(rc, 0);
            continue;
        }
        assert_int_equal(rc, PV_ESYNTAX);
        if (strstr(err.msg, cases[i].msg) == NULL)
            fail_msg("'%s': message '%s' lacks '%s'", cases[i].text, err.msg, cases[i].msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spa_literals), cmocka_unit_test(mpp_literals),
        cmocka_unit_test(ordering),     cmocka_unit_test(mismatched_formats_fail),
        cmocka_unit_test(bad_literals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
