/* Unit tests for core/param: parameter sets, names (spec 3.1) and access (spec 3.1, 9). */
#include "pv_test.h"

#include "core/alloc.h"
#include "core/param.h"

#include <stdio.h>

static pv_param get(const pv_params *p, const char *name)
{
    pv_param e;
    assert_true(pv_params_get(p, pv_slice_from(name), &e));
    return e;
}

static void set_get_replace_keep_order(void **state)
{
    pv_params p = {0};
    assert_int_equal(pv_params_set_str(&p, "Resync_On_Reset", "Yes", PV_UA_UNSET), 0);
    assert_int_equal(pv_params_set_str(&p, "Resync_Periodic", "7200", PV_UA_RW), 0);
    assert_int_equal(pv_params_set_str(&p, "GPP_B", NULL, PV_UA_RO), 0);
    assert_int_equal(pv_params_count(&p), 3);
    assert_string_equal(pv_params_value(&p, "Resync_Periodic"), "7200");
    assert_null(pv_params_value(&p, "GPP_B")); /* present, but "unchanged" */
    assert_null(pv_params_value(&p, "Nope"));
    pv_param e = get(&p, "GPP_B");
    assert_false(e.has_value);
    assert_int_equal(e.ua, PV_UA_RO);
    /* replacing keeps the position; set replaces access too */
    assert_int_equal(pv_params_set_str(&p, "Resync_On_Reset", "a much longer value", PV_UA_UNSET),
                     0);
    assert_int_equal(pv_params_set_str(&p, "Resync_Periodic", "1", PV_UA_UNSET), 0);
    assert_int_equal(get(&p, "Resync_Periodic").ua, PV_UA_UNSET);
    const char *order[] = {"Resync_On_Reset", "Resync_Periodic", "GPP_B"};
    size_t it = 0, n = 0;
    while (pv_params_next(&p, &it, &e))
        assert_slice_equal(e.name, order[n++]);
    assert_int_equal(n, 3);
    assert_string_equal(pv_params_value(&p, "Resync_On_Reset"), "a much longer value");
    assert_string_equal(pv_params_value(&p, "Resync_Periodic"), "1");
    /* empty value is a value */
    assert_int_equal(pv_params_set_str(&p, "GPP_B", "", PV_UA_UNSET), 0);
    assert_string_equal(pv_params_value(&p, "GPP_B"), "");
    assert_true(pv_params_remove(&p, pv_slice_from("Resync_Periodic")));
    assert_false(pv_params_remove(&p, pv_slice_from("Resync_Periodic")));
    assert_int_equal(pv_params_count(&p), 2);
    pv_params_free(&p);
    assert_int_equal(pv_params_count(&p), 0);
}

static void invalid_names_are_refused(void **state)
{
    pv_params p = {0};
    const char *bad[] = {"", "1abc", "Dial Plan[1]", "a/b", "<x>", "a:b", "é"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pv_error err;
        pv_param e = {.name = pv_slice_from(bad[i]), .value = PV_SLICE_LIT("x"), .has_value = true};
        assert_int_equal(pv_params_set(&p, &e, &err), PV_EINVAL);
        assert_non_null(strstr(err.msg, "invalid parameter name"));
    }
    char longname[PV_PARAM_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(pv_params_set_str(&p, longname, "x", PV_UA_NA), PV_EINVAL);
    longname[PV_PARAM_NAME_MAX] = '\0';
    assert_int_equal(pv_params_set_str(&p, longname, "x", PV_UA_NA), 0);
    assert_int_equal(pv_params_count(&p), 1);
    pv_params_free(&p);
}

/* Many entries use the hash index; removals shift it back and repack. */
static void large_sets_index_and_remove(void **state)
{
    pv_params p = {0};
    char name[32], value[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "P_%d_", i);
        snprintf(value, sizeof value, "v%d", i);
        assert_int_equal(pv_params_set_str(&p, name, value, PV_UA_RW), 0);
    }
    for (int i = 0; i < 5000; i += 2) {
        snprintf(name, sizeof name, "P_%d_", i);
        assert_true(pv_params_remove(&p, pv_slice_from(name)));
    }
    assert_int_equal(pv_params_count(&p), 2500);
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "P_%d_", i);
        snprintf(value, sizeof value, "v%d", i);
        const char *got = pv_params_value(&p, name);
        if (i % 2 == 0)
            assert_null(got);
        else
            assert_string_equal(got, value);
    }
    /* re-adding goes to the end of the order */
    assert_int_equal(pv_params_set_str(&p, "P_0_", "again", PV_UA_NA), 0);
    size_t it = 0;
    pv_param e, last = {0};
    while (pv_params_next(&p, &it, &e))
        last = e;
    assert_slice_equal(last.name, "P_0_");
    size_t before = pv_params_memory(&p);
    pv_params_compact(&p);
    assert_true(pv_params_memory(&p) < before);
    assert_string_equal(pv_params_value(&p, "P_4999_"), "v4999");
    assert_string_equal(pv_params_value(&p, "P_0_"), "again");
    /* repeated rewrites do not grow the pool without bound */
    for (int i = 0; i < 20000; i++) {
        snprintf(value, sizeof value, "value number %d", i);
        assert_int_equal(pv_params_set_str(&p, "P_1_", value, PV_UA_NA), 0);
    }
    assert_true(pv_params_memory(&p) < 4 * before);
    assert_string_equal(pv_params_value(&p, "P_1_"), "value number 19999");
    pv_params_free(&p);
}

static void small_set_memory_is_small(void **state)
{
    /* a typical device-level set: a handful of differences, no hash index */
    pv_params p = {0};
    pv_params_set_str(&p, "User_ID_1_", "4085551234", PV_UA_NA);
    pv_params_set_str(&p, "Password_1_", "secret", PV_UA_NA);
    pv_params_set_str(&p, "Display_Name_1_", "Alice", PV_UA_RW);
    pv_params_compact(&p);
    assert_true(sizeof p <= 56);
    assert_true(pv_params_memory(&p) <= 3 * 16 + 64);
    assert_string_equal(pv_params_value(&p, "Display_Name_1_"), "Alice");
    pv_params_free(&p);
}

/* Values may come from the set itself (copying one parameter to another). */
static void set_from_own_storage(void **state)
{
    pv_params p = {0};
    pv_params_set_str(&p, "A", "the value of a", PV_UA_NA);
    for (int i = 0; i < 50; i++) {
        char name[16];
        snprintf(name, sizeof name, "B%d", i);
        pv_param a = get(&p, "A");
        a.name = pv_slice_from(name);
        assert_int_equal(pv_params_set(&p, &a, NULL), 0);
    }
    pv_param b = get(&p, "B49");
    b.name = get(&p, "B48").name; /* name from the pool, too */
    assert_int_equal(pv_params_set(&p, &b, NULL), 0);
    assert_string_equal(pv_params_value(&p, "B49"), "the value of a");
    pv_params_free(&p);
}

/* spec 3.1 "across profiles the later profile wins"; <X/> keeps the value. */
static void merge_later_wins_only_for_what_it_states(void **state)
{
    pv_params base = {0}, over = {0};
    pv_params_set_str(&base, "Station_Name", "Front desk", PV_UA_RW);
    pv_params_set_str(&base, "Resync_Periodic", "3600", PV_UA_NA);
    pv_params_set_str(&base, "GPP_A", "x", PV_UA_UNSET);
    pv_params_set_str(&over, "Station_Name", NULL, PV_UA_RO);         /* access only */
    pv_params_set_str(&over, "Resync_Periodic", "7200", PV_UA_UNSET); /* value only */
    pv_params_set_str(&over, "New_One", "n", PV_UA_UNSET);
    pv_param pres = {PV_SLICE_LIT("GPP_A"), {0}, false, true, PV_UA_UNSET};
    pv_params_set(&over, &pres, NULL);
    assert_int_equal(pv_params_merge(&base, &over, NULL), 0);
    pv_param e = get(&base, "Station_Name");
    assert_slice_equal(e.value, "Front desk");
    assert_int_equal(e.ua, PV_UA_RO);
    e = get(&base, "Resync_Periodic");
    assert_slice_equal(e.value, "7200");
    assert_int_equal(e.ua, PV_UA_NA);
    e = get(&base, "GPP_A");
    assert_true(e.preserve);
    assert_slice_equal(e.value, "x");
    assert_string_equal(pv_params_value(&base, "New_One"), "n");
    assert_int_equal(pv_params_count(&base), 4);

    pv_params copy = {0};
    pv_params_copy(&copy, &base);
    assert_true(pv_params_equal(&copy, &base));
    pv_params_set_str(&copy, "GPP_A", "x", PV_UA_UNSET); /* loses preserve */
    assert_false(pv_params_equal(&copy, &base));
    pv_params_free(&copy);
    pv_params_free(&base);
    pv_params_free(&over);
}

static void equal_ignores_order_not_content(void **state)
{
    pv_params a = {0}, b = {0};
    pv_params_set_str(&a, "X", "1", PV_UA_NA);
    pv_params_set_str(&a, "Y", NULL, PV_UA_UNSET);
    pv_params_set_str(&b, "Y", NULL, PV_UA_UNSET);
    pv_params_set_str(&b, "X", "1", PV_UA_NA);
    assert_true(pv_params_equal(&a, &b));
    pv_params_set_str(&b, "Y", "", PV_UA_UNSET); /* empty value ≠ no value */
    assert_false(pv_params_equal(&a, &b));
    pv_params_set_str(&b, "Y", NULL, PV_UA_NA);
    assert_false(pv_params_equal(&a, &b));
    pv_params_free(&a);
    pv_params_free(&b);
}

static void check_name(void (*fn)(pv_slice, pv_buf *), const char *in, const char *want)
{
    pv_buf b = {0};
    fn(pv_slice_from(in), &b);
    assert_string_equal(b.data ? b.data : "", want);
    pv_buf_free(&b);
}

/* Every naming example of spec 3.1 and 3.3. */
static void names_follow_spec(void **state)
{
    check_name(pv_param_name_from_web, "Dial Plan[1]", "Dial_Plan_1_");
    check_name(pv_param_name_from_web, "Resync At (HHmm)", "Resync_At__HHmm_");
    check_name(pv_param_name_from_web, "Default Ring (1)", "Default_Ring__1_");
    check_name(pv_param_name_from_web, "Default Ring (1)[1]", "Default_Ring__1__1_");
    check_name(pv_param_name_from_web, "Phone-UI-User-Mode", "Phone-UI-User-Mode");
    check_name(pv_param_name_from_web, "G722.2 Codec Name", "G722.2_Codec_Name");
    check_name(pv_param_name_from_web, "Auth Resync-Reboot[1]", "Auth_Resync-Reboot_1_");
    check_name(pv_param_name_from_web, "Time/Date", "Time_Date");
    check_name(pv_param_name_to_web, "Dial_Plan_1_", "Dial Plan[1]");
    check_name(pv_param_name_to_web, "Resync_Periodic", "Resync Periodic");
    check_name(pv_param_name_to_text, "Proxy_1_", "Proxy[1]");
    check_name(pv_param_name_to_text, "Line_Enable_12_", "Line_Enable[12]");
    check_name(pv_param_name_to_text, "Default_Ring__1__", "Default_Ring__1__");
    check_name(pv_param_name_to_text, "Resync_At__HHmm_", "Resync_At__HHmm_");
    check_name(pv_param_name_to_text, "_1_", "_1_");
    check_name(pv_param_name_from_text, "Proxy[1]", "Proxy_1_");
    check_name(pv_param_name_from_text, "Line_Enable[1]", "Line_Enable_1_");
    const char *valid[] = {"Dial_Plan_1_",       "Resync_At__HHmm_",  "Default_Ring__1__",
                           "Phone-UI-User-Mode", "G722.2_Codec_Name", "_x",
                           "flat-profile"};
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
        assert_true(pv_param_name_valid(pv_slice_from(valid[i])));
    assert_false(pv_param_name_valid(pv_slice_from("-x")));
    assert_false(pv_param_name_valid(pv_slice_from(".x")));
    /* text form and back is the identity on element names */
    const char *names[] = {"Proxy_1_", "A__1_", "Default_Ring__1__", "X_007_", "Y_1_2_"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        pv_buf t = {0}, back = {0};
        pv_param_name_to_text(pv_slice_from(names[i]), &t);
        pv_param_name_from_text(pv_buf_slice(&t), &back);
        assert_string_equal(back.data, names[i]);
        pv_buf_free(&t);
        pv_buf_free(&back);
    }
}

static void access_names(void **state)
{
    pv_ua ua;
    assert_int_equal(pv_ua_parse(pv_slice_from("rw"), &ua), 0);
    assert_int_equal(ua, PV_UA_RW);
    assert_int_equal(pv_ua_parse(pv_slice_from("ro"), &ua), 0);
    assert_int_equal(ua, PV_UA_RO);
    assert_int_equal(pv_ua_parse(pv_slice_from("na"), &ua), 0);
    assert_int_equal(ua, PV_UA_NA);
    assert_int_equal(pv_ua_parse(pv_slice_from("RW"), &ua), PV_EINVAL);
    assert_int_equal(pv_ua_parse(pv_slice_from("y"), &ua), PV_EINVAL);
    assert_int_equal(pv_ua_parse(pv_slice_from(""), &ua), PV_EINVAL);
    assert_string_equal(pv_ua_name(PV_UA_RO), "ro");
    assert_string_equal(pv_ua_name(PV_UA_UNSET), "");
}

static void limits_have_defaults(void **state)
{
    pv_profile_limits l = pv_profile_limits_resolve(NULL);
    assert_true(l.max_input > 0 && l.max_params > 0 && l.max_value > 0 && l.max_depth > 0);
    pv_profile_limits mine = {.max_params = 7};
    l = pv_profile_limits_resolve(&mine);
    assert_int_equal(l.max_params, 7);
    assert_true(l.max_input > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_get_replace_keep_order),
        cmocka_unit_test(invalid_names_are_refused),
        cmocka_unit_test(large_sets_index_and_remove),
        cmocka_unit_test(small_set_memory_is_small),
        cmocka_unit_test(set_from_own_storage),
        cmocka_unit_test(merge_later_wins_only_for_what_it_states),
        cmocka_unit_test(equal_ignores_order_not_content),
        cmocka_unit_test(names_follow_spec),
        cmocka_unit_test(access_names),
        cmocka_unit_test(limits_have_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
