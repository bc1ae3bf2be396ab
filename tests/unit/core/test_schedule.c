/* Unit tests for core/schedule: spec 5.1 and 5.2 examples. */
#include "pv_test.h"

#include "core/alloc.h"
#include "core/schedule.h"

static pv_schedule parse_ok(const char *text)
{
    pv_schedule s;
    pv_error err = {{0}};
    if (pv_schedule_parse(pv_slice_from(text), &s, &err) != 0)
        fail_msg("'%s': %s", text, err.msg);
    return s;
}

static void spec_examples(void **state)
{
    /* spec 5.2: Resync_Error_Retry_Delay=1800,3600,7200,14400 — the last repeats */
    pv_schedule s = parse_ok("1800,3600,7200,14400");
    assert_int_equal(s.nsteps, 4);
    assert_int_equal(pv_schedule_delay(&s, 0, 0), 1800);
    assert_int_equal(pv_schedule_delay(&s, 1, 0), 3600);
    assert_int_equal(pv_schedule_delay(&s, 2, 0), 7200);
    assert_int_equal(pv_schedule_delay(&s, 3, 0), 14400);
    assert_int_equal(pv_schedule_delay(&s, 4, 0), 14400);
    assert_int_equal(pv_schedule_delay(&s, 1000000, UINT32_MAX), 14400);
    /* spec 5.2: Resync_Periodic=3600+600 — base + uniform [0, 600] */
    s = parse_ok("3600+600");
    assert_int_equal(pv_schedule_delay(&s, 0, 0), 3600);
    assert_int_equal(pv_schedule_delay(&s, 0, UINT32_MAX), 4200);
    assert_int_equal(pv_schedule_delay(&s, 0, 1u << 31), 3900);
    assert_int_equal(pv_schedule_delay(&s, 7, 1u << 31), 3900);
    /* spec 5.2: Upgrade_Error_Retry_Delay = 1800,3600,7200,14400+3600 */
    s = parse_ok("1800,3600,7200,14400+3600");
    assert_int_equal(pv_schedule_delay(&s, 3, 0), 14400);
    assert_int_equal(pv_schedule_delay(&s, 9, UINT32_MAX), 18000);
    /* the brief's mixed example */
    s = parse_ok("1800,3600+600,7200");
    assert_int_equal(pv_schedule_delay(&s, 1, UINT32_MAX), 4200);
    assert_int_equal(pv_schedule_delay(&s, 2, UINT32_MAX), 7200);
    /* spec 5.2 (MPP table): 600,1200,300 as successive intervals */
    s = parse_ok("600,1200,300");
    assert_int_equal(pv_schedule_delay(&s, 0, 0), 600);
    assert_int_equal(pv_schedule_delay(&s, 1, 0), 1200);
    assert_int_equal(pv_schedule_delay(&s, 2, 0), 300);
    assert_int_equal(pv_schedule_delay(&s, 3, 0), 300);
    /* spec 5.1: the newer MPP default retry schedule */
    s = parse_ok("60,120,240,480,960,1920,3840,7680,15360,30720,61440,86400");
    assert_int_equal(s.nsteps, 12);
    assert_int_equal(pv_schedule_delay(&s, 11, 0), 86400);
    assert_int_equal(pv_schedule_delay(&s, 50, 0), 86400);
}

static void random_is_uniform_and_bounded(void **state)
{
    pv_schedule s = parse_ok("0+9");
    unsigned seen[10] = {0};
    for (uint64_t r = 0; r < (1ull << 32); r += 65537) {
        uint64_t d = pv_schedule_delay(&s, 0, (uint32_t)r);
        assert_true(d <= 9);
        seen[d]++;
    }
    for (int i = 0; i < 10; i++)
        assert_true(seen[i] > 6000 && seen[i] < 7200); /* ~6553 each */
    s = parse_ok("4294967295+4294967295");
    assert_int_equal(pv_schedule_delay(&s, 0, UINT32_MAX), 2 * 4294967295ull);
}

static void integer_empty_and_zero(void **state)
{
    /* spec 5.1: an integer; empty or 0 disables */
    pv_schedule s = parse_ok("3600");
    assert_int_equal(s.nsteps, 1);
    assert_false(pv_schedule_disabled(&s));
    assert_int_equal(pv_schedule_delay(&s, 5, 123), 3600);
    s = parse_ok("");
    assert_true(pv_schedule_disabled(&s));
    assert_int_equal(pv_schedule_delay(&s, 0, 0), 0);
    s = parse_ok("  ");
    assert_true(pv_schedule_disabled(&s));
    s = parse_ok("0");
    assert_true(pv_schedule_disabled(&s));
    s = parse_ok("0,60");
    assert_false(pv_schedule_disabled(&s));
    s = parse_ok(" 1800 , 3600 + 600 ");
    assert_int_equal(pv_schedule_delay(&s, 1, UINT32_MAX), 4200);
    pv_buf b = {0};
    pv_schedule_format(&s, &b);
    assert_string_equal(b.data, "1800,3600+600");
    pv_buf_free(&b);
}

static void errors(void **state)
{
    struct {
        const char *text;
        int code;
        const char *msg;
    } cases[] = {
        {"1800,", PV_ESYNTAX, "schedule: column 6: expected a number of seconds, found the end"},
        {"abc", PV_ESYNTAX, "column 1: expected a number of seconds, found 'a'"},
        {"1800;3600", PV_ESYNTAX, "column 5: expected ',', '+' or the end, found ';'"},
        {"1800+", PV_ESYNTAX, "column 6: expected a number"},
        {"-5", PV_ESYNTAX, "column 1"},
        {"3600+600+5", PV_ESYNTAX, "column 9"},
        {"4294967296", PV_ERANGE, "larger than 4294967295"},
        {"1 2", PV_ESYNTAX, "column 3"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pv_schedule s;
        pv_error err = {{0}};
        assert_int_equal(pv_schedule_parse(pv_slice_from(cases[i].text), &s, &err), cases[i].code);
        if (strstr(err.msg, cases[i].msg) == NULL)
            fail_msg("'%s': message '%s' lacks '%s'", cases[i].text, err.msg, cases[i].msg);
    }
    pv_buf b = {0};
    for (int i = 0; i <= PV_SCHEDULE_MAX; i++)
        pv_buf_appendf(&b, "%s%d", i ? "," : "", i);
    pv_schedule s;
    assert_int_equal(pv_schedule_parse(pv_buf_slice(&b), &s, NULL), PV_ETOOBIG);
    pv_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_examples),
        cmocka_unit_test(random_is_uniform_and_bounded),
        cmocka_unit_test(integer_empty_and_zero),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
