/* Fuzz target: provisor.conf parsing (server/config): any bytes give 0 or an
 * error with a message, never a crash, and an accepted file renders to INI
 * that loads back to the same rendering. */
#include "core/alloc.h"
#include "server/config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memchr(data, '\0', size) != NULL)
        return 0; /* pv_config_load_file refuses NUL bytes before parsing */
    char *text = pv_memdup0(data, size);
    pv_config cfg;
    pv_error err;
    pv_config_init(&cfg);
    if (pv_config_load_string(&cfg, "fuzz.conf", text, &err) == 0) {
        pv_buf first = {0}, second = {0};
        pv_config_render(&cfg, &first);
        pv_config again;
        pv_config_init(&again);
        if (pv_config_load_string(&again, "rendered", first.data, &err) != 0)
            __builtin_trap();
        pv_config_render(&again, &second);
        if (strcmp(first.data, second.data) != 0)
            __builtin_trap();
        pv_config_free(&again);
        pv_buf_free(&first);
        pv_buf_free(&second);
    } else if (err.msg[0] == '\0') {
        __builtin_trap();
    }
    pv_config_free(&cfg);
    free(text);
    return 0;
}
