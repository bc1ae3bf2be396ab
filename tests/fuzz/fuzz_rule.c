/*
 * Fuzz target: Profile_Rule / Upgrade_Rule / Report_Rule parsing and
 * evaluation (core/rule) with a fixed set of macro values. The first byte
 * picks the rule kind; the rest is the rule.
 */
#include "core/macro.h"
#include "core/rule.h"

#include <stdint.h>
#include <string.h>

static const char *const values[][2] = {
    {"MA", "000e08012345"}, {"PSN", "2102"},  {"SWVER", "2.0.6(b)"}, {"A", "ABCDEF"},
    {"B", "$MA|(x"},        {"SA", "secret"}, {"REGTMR1", "301"},    {"F", "beta-customer"},
    {"EXTIP", ""},          {"G", "\"quote"},
};

static bool lookup(void *ctx, const char *name, pv_buf *out)
{
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        if (strcmp(name, values[i][0]) == 0) {
            pv_buf_append_str(out, values[i][1]);
            return true;
        }
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    pv_rule_kind kind = (pv_rule_kind)(data[0] % 3);
    pv_macro_env env = {lookup, NULL};
    pv_rule_result r;
    pv_error err;
    pv_rule_eval(kind, pv_slice_make(data + 1, size - 1), &env, &r, &err);
    if (r.outcome == PV_RULE_SELECTED && r.chosen == 0)
        __builtin_trap(); /* contract: a selected rule names its alternative */
    pv_rule_result_free(&r);
    return 0;
}
