/* Fuzz target: User-Agent, MAC and path parsing (core/device_id). */
#include "core/device_id.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pv_slice input = pv_slice_make(data, size);
    pv_user_agent ua;
    pv_error err;
    if (pv_user_agent_parse(input, &ua, &err) == 0) {
        /* Every field the parser fills is a terminated string within its array. */
        if (strlen(ua.model) >= sizeof ua.model || strlen(ua.version) >= sizeof ua.version ||
            (ua.has_mac && strlen(ua.mac.hex) != 12))
            __builtin_trap();
    }
    pv_mac mac;
    if (pv_mac_parse(input, &mac, &err) == 0 && strlen(mac.hex) != 12)
        __builtin_trap();
    if (pv_mac_from_path(input, &mac) && strlen(mac.hex) != 12)
        __builtin_trap();
    return 0;
}
