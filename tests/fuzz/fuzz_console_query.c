/* Fuzz target: what the console's device search takes from a query string
 * (server/console_devices.c): the form fields and the MAC prefix normalised into a key range
 * (store/store_device_search.h), which must stay at most 12 lower-case hex digits, and the
 * last-seen age, which must stay within 1 s and PV_STORE_AGE_MAX. */
#include "core/form.h"
#include "store/store_device_search.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pv_slice query = pv_slice_make((const char *)data, size);
    char age[40];
    int64_t seconds = 0;
    pv_error aerr = {""};
    if (pv_form_get(query, "age", age, sizeof age) && pv_store_seen_age(age, &seconds, &aerr) == 0 &&
        (seconds < 1 || seconds > PV_STORE_AGE_MAX))
        __builtin_trap();
    char mac[40];
    if (!pv_form_get(query, "mac", mac, sizeof mac))
        return 0;
    char prefix[13];
    pv_error err = {""};
    if (pv_store_mac_prefix(mac, prefix, &err) != 0)
        return 0;
    size_t n = strlen(prefix);
    if (n > 12 || strspn(prefix, "0123456789abcdef") != n)
        __builtin_trap();
    return 0;
}
