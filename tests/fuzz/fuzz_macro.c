/* Fuzz target: one-pass macro expansion (core/macro), with and without SA..SD. */
#include "core/macro.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pv_macro_vars vars;
    if (vars.len == 0) {
        pv_identity id = {.mac = "00:0e:08:01:23:45", .model = "CP-8841-3PCC", .swver = "1.0"};
        pv_macro_vars_identity(&vars, &id, NULL);
        pv_macro_vars_set(&vars, "A", "ABCDEF");
        pv_macro_vars_set(&vars, "SA", "s3cret");
        pv_macro_vars_set(&vars, "B", "$A$$");
    }
    pv_macro_env env = pv_macro_vars_env(&vars);
    pv_slice in = pv_slice_make(data, size);
    static const unsigned flags[] = {0, PV_MACRO_SECRETS, PV_MACRO_ONLY_SECRETS};
    for (size_t i = 0; i < 3; i++) {
        pv_buf out = {0};
        pv_macro_expand(in, &env, flags[i], &out);
        /* without '$' in the input the output is the input */
        if (memchr(data, '$', size) == NULL && (out.len != size || memcmp(out.data, data, size)))
            __builtin_trap();
        pv_buf_free(&out);
    }
    return 0;
}
