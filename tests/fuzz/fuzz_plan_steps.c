/* Fuzz target: the allowed steps of an upgrade plan as the console's plan form takes them
 * (server/console_plans.c): "from:to, from:to" into the API's array, which must hold only
 * arrays of one (no colon: the API refuses it by name) or two strings; and a plan of pairs
 * written back as text must read back as the same plan. */
#include "core/form.h"
#include "server/console_int.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[512];
    if (!pv_form_get(pv_slice_make((const char *)data, size), "stages", text, sizeof text))
        return 0;
    json_t *a = pv__console_plan_steps_json(text);
    if (!json_is_array(a))
        __builtin_trap();
    bool pairs = true;
    size_t i;
    json_t *s;
    json_array_foreach(a, i, s)
    {
        size_t n = json_array_size(s);
        if (!json_is_array(s) || n < 1 || n > 2 || !json_is_string(json_array_get(s, 0)) ||
            (n == 2 && !json_is_string(json_array_get(s, 1))))
            __builtin_trap();
        pairs = pairs && n == 2;
    }
    if (pairs) {
        char *j = json_dumps(a, JSON_COMPACT);
        pv_buf back = {0};
        pv__console_plan_steps_text(&back, j);
        json_t *again = pv__console_plan_steps_json(back.len ? back.data : "");
        if (!json_equal(a, again))
            __builtin_trap();
        json_decref(again);
        pv_buf_free(&back);
        free(j);
    }
    json_decref(a);
    return 0;
}
