/* Unit tests for server/firmware: the generated Upgrade_Rule walks a phone through every stage. */
#include "pv_test.h"

#include <stdio.h>

#include "core/macro.h"
#include "core/rule.h"
#include "server/firmware.h"

#define A "sip88xx.11-0-1MPP-376"
#define B "sip88xx.11-3-1MPP-678"
#define C "sip88xx.12-0-1MPP-12"

static const pv_store_firmware images[] = {
    {.model = "CP-8841-3PCC", .version = A, .file_name = A ".loads"},
    {.model = "CP-8841-3PCC", .version = B, .file_name = B ".loads"},
    {.model = "CP-8841-3PCC", .version = C, .file_name = C ".loads"},
};

/* Evaluates rule with $SWVER = swver; returns the chosen URL's path or "". */
static void eval(const char *rule, const char *swver, char *path, size_t size)
{
    pv_macro_vars v = {0};
    pv_macro_vars_set(&v, "SWVER", swver);
    pv_macro_env env = pv_macro_vars_env(&v);
    pv_rule_result r = {0};
    pv_error err;
    int rc = pv_rule_eval(PV_RULE_UPGRADE, pv_slice_from(rule), &env, &r, &err);
    if (rc != 0)
        fail_msg("%s: %s", rule, err.msg);
    path[0] = '\0';
    if (r.outcome == PV_RULE_SELECTED && r.ntargets == 1)
        snprintf(path, size, "%s", r.targets[0].url.path);
    pv_rule_result_free(&r);
    pv_macro_vars_free(&v);
}

static void two_stages_walk_to_target(void **state)
{
    pv_store_plan plan = {.model = "CP-8841-3PCC",
                          .target_version = C,
                          .stages = "[[\"" B "\", \"" C "\"], [\"" A "\", \"" B "\"]]"};
    pv_buf rule = {0};
    pv_error err;
    if (pv_firmware_upgrade_rule(&plan, images, 3, "http://prov.example.net:8080", &rule, &err))
        fail_msg("%s", err.msg);
    char path[256];
    eval(rule.data, A, path, sizeof path); /* two versions behind: first stage */
    assert_string_equal(path, "/firmware/" B ".loads");
    eval(rule.data, B, path, sizeof path); /* after the reboot: second stage */
    assert_string_equal(path, "/firmware/" C ".loads");
    eval(rule.data, C, path, sizeof path); /* arrived: nothing */
    assert_string_equal(path, "");
    pv_buf_free(&rule);
}

static void direct_plan_and_errors(void **state)
{
    pv_store_plan plan = {.model = "CP-8841-3PCC", .target_version = C, .stages = "[]"};
    pv_buf rule = {0};
    pv_error err;
    assert_int_equal(pv_firmware_upgrade_rule(&plan, images, 3, "http://h", &rule, &err), 0);
    assert_string_equal(rule.data, "($SWVER lt " C ")? http://h/firmware/" C ".loads");
    pv_buf_reset(&rule);
    plan.stages = "[[\"" B "\", \"" A "\"]]";
    assert_int_equal(pv_firmware_upgrade_rule(&plan, images, 3, "http://h", &rule, &err),
                     PV_EINVAL);
    assert_non_null(strstr(err.msg, "goes down"));
    plan.stages = "[[\"" A "\", \"" B "\"]]"; /* does not reach C */
    assert_int_equal(pv_firmware_upgrade_rule(&plan, images, 3, "http://h", &rule, &err),
                     PV_EINVAL);
    plan.stages = "[[\"" A "\", \"" C "\"]]";
    assert_int_equal(pv_firmware_upgrade_rule(&plan, images, 1, "http://h", &rule, &err),
                     PV_ENOENT);
    plan.stages = "{";
    assert_int_equal(pv_firmware_upgrade_rule(&plan, images, 3, "http://h", &rule, &err),
                     PV_EINVAL);
    assert_int_equal(rule.len, 0);
    pv_buf_free(&rule);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_stages_walk_to_target),
        cmocka_unit_test(direct_plan_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
