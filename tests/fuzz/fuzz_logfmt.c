/*
 * Fuzz target: core/log's writers on arbitrary bytes — a logfmt value, a JSON
 * string, and pv_logf()'s logfmt text read back as JSON fields (pv_log_fields).
 * Every line must stay one line: no raw line break may reach the sink.
 */
#include "core/log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void sink(pv_log_level level, const char *line, size_t len, void *data)
{
    if (memchr(line, '\n', len) != NULL || memchr(line, '\r', len) != NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    pv_log_set_sink(sink, NULL);
    pv_slice in = {(const char *)data, size};
    for (int format = PV_LOG_LOGFMT; format <= PV_LOG_JSON; format++) {
        pv_log_set_format((pv_log_format)format);
        pv_log_line line;
        pv_log_begin(&line, PV_LOG_ERROR, "fuzz");
        pv_log_slice(&line, "v", in);
        pv_log_fields(&line, in);
        pv_log_end(&line);
    }
    return 0;
}
