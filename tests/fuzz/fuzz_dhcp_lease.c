/* Fuzz target: the phone's DHCP lease, as a lease file (pv_dhcp_lease_parse) and as the
 * udhcpc environment it is built from (pv_dhcp_lease_from_env); a parsed lease must
 * survive pv_dhcp_lease_format and parse back to the same values. */
#include "phone/dhcp_hook.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_round_trip(const pv_dhcp_lease *lease)
{
    pv_buf text = {0};
    pv_dhcp_lease_format(lease, &text);
    pv_dhcp_lease again;
    pv_error err;
    if (pv_dhcp_lease_parse(text.data ? text.data : "", &again, &err) != 0 ||
        strcmp(again.ip, lease->ip) != 0)
        __builtin_trap();
    for (int i = 0; i < PV_DHCP_OPTIONS; i++)
        if (strcmp(again.value[i], lease->value[i]) != 0)
            __builtin_trap();
    pv_buf_free(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    pv_dhcp_lease lease;
    pv_error err;
    if (pv_dhcp_lease_parse(text, &lease, &err) == 0)
        check_round_trip(&lease);

    /* The same bytes as an environment: one "name=value" string per line. */
    char *env[64];
    size_t count = 0;
    for (char *line = text; line && count < 63;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        env[count++] = line;
        line = nl ? nl + 1 : NULL;
    }
    env[count] = NULL;
    if (pv_dhcp_lease_from_env(env, &lease, &err) == 0)
        check_round_trip(&lease);
    free(text);
    return 0;
}
