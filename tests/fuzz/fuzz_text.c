/*
 * fuzz_text — the legacy text profile parser (core/text_profile) on any
 * bytes. `import NAME` is served the input itself, so imports nest, cycle and
 * multiply; the depth, cycle and total-size bounds must hold. Whatever parses
 * must survive serialize → parse unchanged (spec 3.3 both ways).
 */
#include "core/param.h"
#include "core/text_profile.h"

#include <stdint.h>
#include <stdlib.h>

typedef struct input {
    const uint8_t *data;
    size_t size;
} input;

static int import_self(void *ctx, const char *name, pv_buf *content, pv_error *err)
{
    const input *in = ctx;
    if (name[0] == 'x')
        return pv_error_set(err, PV_ENOENT, "no such file");
    pv_buf_append(content, in->data, in->size);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const pv_profile_limits lim = {
        .max_input = 1 << 18, .max_params = 500, .max_value = 4096, .max_depth = 4};
    input in = {data, size};
    pv_text_opts opts = {.limits = &lim, .import = import_self, .import_ctx = &in};
    pv_params p = {0};
    if (pv_text_parse(pv_slice_make(data, size), &p, &opts, NULL) == 0) {
        pv_buf out = {0};
        if (pv_text_serialize(&p, &out, NULL) != 0)
            abort(); /* the parser refuses NUL bytes, so every value can be written */
        pv_params again = {0};
        if (pv_text_parse(pv_buf_slice(&out), &again, NULL, NULL) != 0 ||
            !pv_params_equal(&p, &again))
            abort();
        pv_params_free(&again);
        pv_buf_free(&out);
    }
    pv_params_free(&p);
    return 0;
}
