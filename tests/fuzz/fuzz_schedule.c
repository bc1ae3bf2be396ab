/* Fuzz target: schedules (core/schedule); a parsed schedule formats and reparses the same. */
#include "core/schedule.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pv_schedule s, again;
    pv_error err;
    if (pv_schedule_parse(pv_slice_make(data, size), &s, &err) != 0)
        return 0;
    for (uint64_t i = 0; i < s.nsteps + 2u; i++) {
        uint64_t lo = pv_schedule_delay(&s, i, 0), hi = pv_schedule_delay(&s, i, UINT32_MAX);
        if (lo > hi)
            __builtin_trap();
    }
    pv_buf b = {0};
    pv_schedule_format(&s, &b);
    if (pv_schedule_parse(pv_buf_slice(&b), &again, &err) != 0 || again.nsteps != s.nsteps ||
        memcmp(again.steps, s.steps, s.nsteps * sizeof s.steps[0]) != 0)
        __builtin_trap();
    pv_buf_free(&b);
    return 0;
}
