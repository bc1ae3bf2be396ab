/* Fuzz target: the HTTP Range and date headers a client sends (net/http_response,
 * RFC 9110 §14.1.2, §5.6.7): any bytes give a result, and a partial range
 * lies inside the representation; a parsed date formats and parses back to
 * itself. */
#include "net/http_response.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pv_slice s = pv_slice_make((const char *)data, size);
    static const uint64_t sizes[] = {0, 1, 100, 1u << 20, UINT64_MAX};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint64_t first = 0, last = 0;
        if (pv_http_parse_range(s, sizes[i], &first, &last) == PV_RANGE_PARTIAL &&
            (first > last || last >= sizes[i]))
            __builtin_trap();
    }
    time_t t;
    if (pv_http_parse_date(s, &t)) {
        char text[32];
        pv_http_format_date(t, text);
        time_t again;
        if (!pv_http_parse_date(pv_slice_from(text), &again) || again != t)
            __builtin_trap();
    }
    return 0;
}
