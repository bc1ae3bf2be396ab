/* Fuzz target: condition parsing and evaluation (core/condition), bare and wrapped. */
#include "core/condition.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pv_slice in = pv_slice_make(data, size);
    bool r;
    pv_error err;
    pv_condition_test(in, PV_SLICE_LIT("sip88xx.11-3-1MPP-678"), &r, &err);
    pv_condition_test(in, PV_SLICE_LIT("2.0.6(b)"), &r, &err);
    pv_condition c;
    size_t used = 0;
    if (pv_condition_parse(in, PV_COND_WRAPPED, 1, &c, &used, &err) == 0) {
        if (used > size)
            __builtin_trap();
        pv_condition_eval(&c, PV_SLICE_LIT(""), &r, &err);
        pv_condition_free(&c);
    }
    return 0;
}
