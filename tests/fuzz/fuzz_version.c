/* Fuzz target: version literals (core/version); checks that compare is antisymmetric. */
#include "core/version.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* two literals separated by a space */
    const uint8_t *sp = memchr(data, ' ', size);
    size_t la = sp ? (size_t)(sp - data) : size;
    pv_version a, b;
    pv_error err;
    int ra = pv_version_parse(pv_slice_make(data, la), &a, &err);
    if (sp == NULL)
        return 0;
    int rb = pv_version_parse(pv_slice_make(sp + 1, size - la - 1), &b, &err);
    if (ra != 0 || rb != 0)
        return 0;
    int ab = 0, ba = 0, aa = 1;
    int r1 = pv_version_compare(&a, &b, &ab, &err);
    int r2 = pv_version_compare(&b, &a, &ba, &err);
    if (r1 != r2 || (r1 == 0 && ab != -ba))
        __builtin_trap();
    if (pv_version_compare(&a, &a, &aa, &err) != 0 || aa != 0)
        __builtin_trap();
    return 0;
}
