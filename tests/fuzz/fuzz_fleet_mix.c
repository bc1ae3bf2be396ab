/* Fuzz target: the fleet's family mix ("spa:1,mpp:2,ata:1", pv_fleet_mix_parse). An accepted
 * mix has a total that is the sum of its weights and is not zero: the fleet divides by it. */
#include "fleet/content.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    pv_fleet_mix mix;
    pv_error err;
    if (pv_fleet_mix_parse(text, &mix, &err) == 0) {
        unsigned long long sum = 0;
        for (size_t i = 0; i < sizeof mix.weight / sizeof mix.weight[0]; i++)
            sum += mix.weight[i];
        if (mix.total == 0 || sum != mix.total)
            __builtin_trap();
    }
    free(text);
    return 0;
}
