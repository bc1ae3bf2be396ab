/* Unit tests for core/macro: every spec 2 and 12.1 example, plus edge cases. */
#include "pv_test.h"

#include "core/alloc.h"
#include "core/macro.h"

static pv_macro_vars vars;

static int setup(void **state)
{
    vars = (pv_macro_vars){0};
    pv_identity id = {.mac = "00:0e:08:01:23:45",
                      .model = "SPA2102",
                      .serial = "88012BA01234",
                      .swver = "2.0.6(b)",
                      .hwver = "1.88.1"};
    assert_int_equal(pv_macro_vars_identity(&vars, &id, NULL), 0);
    pv_macro_vars_set(&vars, "GPP_A", "ABCDEF");
    pv_macro_vars_set(&vars, "SA", "s3cret");
    pv_macro_vars_set(&vars, "REGTMR1", "301");
    return 0;
}

static int teardown(void **state)
{
    pv_macro_vars_free(&vars);
    return 0;
}

/* Expands in with flags and checks the result. */
static void check(const char *in, unsigned flags, const char *want)
{
    pv_buf out = {0};
    pv_macro_env env = pv_macro_vars_env(&vars);
    pv_macro_expand(pv_slice_from(in), &env, flags, &out);
    assert_string_equal(out.data ? out.data : "", want);
    pv_buf_free(&out);
}

static void substrings(void **state)
{
    /* spec 2.1: GPP_A=ABCDEF → $(A:2)=CDEF, $(A:2:3)=CDE */
    check("$(A:2)", 0, "CDEF");
    check("$(A:2:3)", 0, "CDE");
    check("$(A)", 0, "ABCDEF");
    check("$(A:0:0)", 0, "");
    check("$(A:99)", 0, "");
    check("$(A:4:99)", 0, "EF");
    check("$(A:99999999999999999999999)x", 0, "x");
    /* malformed forms stay as written */
    check("$(A:)", 0, "$(A:)");
    check("$(A", 0, "$(A");
    check("$(A:2:x)", 0, "$(A:2:x)");
    check("$(NOPE)", 0, "$(NOPE)");
}

static void dollar_dollar_is_not_recursive(void **state)
{
    /* spec 2.1: `$$` → `$`; `$$MAU` → `$MAU` */
    check("$$MAU", 0, "$MAU");
    check("$$", 0, "$");
    check("a$", 0, "a$");
    check("$$$MA", 0, "$000e08012345");
    /* a value holding a macro is copied, not expanded again */
    pv_macro_vars_set(&vars, "B", "$MA");
    check("x$B", 0, "x$MA");
}

static void unknown_names_stay(void **state)
{
    /* spec 2.1: `$STRANGE$MAU.cfg` → `$STRANGE000E08012345.cfg` */
    check("$STRANGE$MAU.cfg", 0, "$STRANGE000E08012345.cfg");
    check("$ma", 0, "$ma");
    check("$", 0, "$");
    check("$.", 0, "$.");
}

static void longest_match(void **state)
{
    /* spec 2.1 (inferred): longest match over the known names */
    check("$MAC", 0, "00:0e:08:01:23:45");
    check("$MA", 0, "000e08012345");
    check("$MAU", 0, "000E08012345");
    check("$MACX", 0, "00:0e:08:01:23:45X");
    check("$MAx.cfg", 0, "000e08012345x.cfg");
    check("/spa$PSN.cfg", 0, "/spa2102.cfg");
    check("$PN $SN $SWVER $HWVER", 0, "SPA2102 88012BA01234 2.0.6(b) 1.88.1");
    check("$REGTMR1", 0, "301");
    /* standard names without a value are empty */
    check("[$EXTIP]", 0, "[]");
    check("[$UID1]", 0, "[]");
    check("[$UID0]", 0, "[$UID0]");
}

static void gpp_registers(void **state)
{
    /* spec 12.1: GPP_A=ABC, GPP_B=123 → $A$B = ABC123 */
    pv_macro_vars_set(&vars, "GPP_A", "ABC");
    pv_macro_vars_set(&vars, "GPP_B", "123");
    check("$A$B", 0, "ABC123");
    /* spec 12.1: GPP_B=Dj6Lmp23Q */
    pv_macro_vars_set(&vars, "GPP_B", "Dj6Lmp23Q");
    check("tftp://prov.telco.com/cisco/$B/$MA.cfg", 0,
          "tftp://prov.telco.com/cisco/Dj6Lmp23Q/000e08012345.cfg");
    assert_string_equal(pv_macro_vars_get(&vars, "B"), "Dj6Lmp23Q");
    assert_string_equal(pv_macro_vars_get(&vars, "GPP_B"), "Dj6Lmp23Q");
    /* unset register: empty */
    check("<$P>", 0, "<>");
}

static void secrets_only_when_asked(void **state)
{
    /* spec 2.2: SA..SD only inside --key/--uid/--pwd arguments */
    check("$SA", 0, "$SA");
    check("$(SA)", 0, "$(SA)");
    check("$SA", PV_MACRO_SECRETS, "s3cret");
    check("$(SA:1:3)", PV_MACRO_SECRETS, "3cr");
    check("$SB", PV_MACRO_SECRETS, "");
    /* the second pass over an option argument: secrets only */
    check("$SA-$MA-$$", PV_MACRO_ONLY_SECRETS, "s3cret-$MA-$$");
    check("$SN", 0, "88012BA01234");
}

static void standard_table(void **state)
{
    const char *yes[] = {
        "A",      "P",      "SA",     "SD",     "MA",       "MAU",       "MAC",     "PN",
        "PSN",    "SN",     "CCERT",  "IP",     "EXTIP",    "SWVER",     "HWVER",   "PRVST",
        "UPGST",  "UPGERR", "PRVTMR", "UPGTMR", "REGTMR1",  "REGTMR2",   "UPGCOND", "SCHEME",
        "METH",   "SERV",   "SERVIP", "PORT",   "PATH",     "ERR",       "UID1",    "UID12",
        "ISCUST", "EMS",    "MUID",   "MPWD",   "ORIGTYPE", "AUTHSTATUS"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_true(pv_macro_is_standard(pv_slice_from(yes[i])));
    const char *no[] = {"Q", "SE", "S", "UID", "UIDx", "ma", "", "STRANGE"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(pv_macro_is_standard(pv_slice_from(no[i])));
}

static void psn_of_models(void **state)
{
    /* spec 1.3, 2.2 and DESIGN "$PSN on multiplatform phones" */
    const char *cases[][2] = {{"SPA2102", "2102"},
                              {"SPA504G", "504G"},
                              {"ATA191-MPP", "191"},
                              {"ATA192-MPP", "192"},
                              {"CP-8841-3PCC", "8841-3PCC"},
                              {"CP-7832-3PCC", "7832-3PCC"},
                              {"PAP2T", "PAP2T"},
                              {"SPA", "SPA"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char psn[32];
        assert_int_equal(pv_macro_psn(cases[i][0], psn, sizeof psn), 0);
        assert_string_equal(psn, cases[i][1]);
    }
    char small[4];
    assert_int_equal(pv_macro_psn("CP-8841-3PCC", small, sizeof small), PV_ETRUNC);
}

static void identity_macs(void **state)
{
    pv_macro_vars v = {0};
    pv_identity id = {.mac = "000E08AABBCC"};
    assert_int_equal(pv_macro_vars_identity(&v, &id, NULL), 0);
    assert_string_equal(pv_macro_vars_get(&v, "MA"), "000e08aabbcc");
    assert_string_equal(pv_macro_vars_get(&v, "MAU"), "000E08AABBCC");
    assert_string_equal(pv_macro_vars_get(&v, "MAC"), "00:0e:08:aa:bb:cc");
    id.mac = "00-0e-08-aa-bb-cd";
    assert_int_equal(pv_macro_vars_identity(&v, &id, NULL), 0);
    assert_string_equal(pv_macro_vars_get(&v, "MA"), "000e08aabbcd");
    pv_error err;
    const char *bad[] = {"000e08aabb", "000e08aabbccdd", "00:0e:08:aa:bb:cg", ":000e08aabbcc", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        id.mac = bad[i];
        assert_int_equal(pv_macro_vars_identity(&v, &id, &err), PV_EINVAL);
        assert_non_null(strstr(err.msg, "MAC"));
    }
    pv_macro_vars_free(&v);
}

static bool counting_lookup(void *ctx, const char *name, pv_buf *out)
{
    /* a caller-supplied name outside the table: the agent's live values */
    (*(int *)ctx)++;
    if (strcmp(name, "CUSTOM") == 0) {
        pv_buf_append_str(out, "live");
        return true;
    }
    return false;
}

static void callback_names(void **state)
{
    int calls = 0;
    pv_macro_env env = {counting_lookup, &calls};
    pv_buf out = {0};
    pv_macro_expand(pv_slice_from("$CUSTOMER/$CUSTOM/$MA"), &env, 0, &out);
    assert_string_equal(out.data, "liveER/live/");
    assert_true(calls > 0);
    pv_buf_free(&out);
    /* no env at all: standard names empty, others literal */
    pv_macro_expand(pv_slice_from("$MA-$XYZ"), NULL, 0, &out);
    assert_string_equal(out.data, "-$XYZ");
    pv_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(substrings, setup, teardown),
        cmocka_unit_test_setup_teardown(dollar_dollar_is_not_recursive, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_names_stay, setup, teardown),
        cmocka_unit_test_setup_teardown(longest_match, setup, teardown),
        cmocka_unit_test_setup_teardown(gpp_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(secrets_only_when_asked, setup, teardown),
        cmocka_unit_test(standard_table),
        cmocka_unit_test(psn_of_models),
        cmocka_unit_test(identity_macs),
        cmocka_unit_test(callback_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
