/*
 * host.c — this process's memory and CPU, phones' source addresses (see host.h).
 */
#include "fleet/host.h"

#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

void pv_fleet_source_address(uint32_t i, char *out, size_t size)
{
    /* 0 and .255.255.255 (the network and broadcast addresses of 127/8) are skipped */
    uint32_t n = i % PV_FLEET_SOURCE_ADDRESSES + 1;
    int w = snprintf(out, size, "127.%u.%u.%u", (unsigned)(n >> 16), (unsigned)(n >> 8 & 0xff),
                     (unsigned)(n & 0xff));
    if (w < 0 || (size_t)w >= size)
        out[0] = '\0'; /* size < 16 is the caller's bug: no address, the system's */
}

uint64_t pv_fleet_rss(void)
{
    FILE *fp = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    if (fp != NULL) {
        if (fscanf(fp, "%llu %llu", &size, &resident) != 2)
            resident = 0;
        fclose(fp);
    }
    return resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

uint64_t pv_fleet_rss_peak(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kb = 0;
    while (fp != NULL && fgets(line, sizeof line, fp) != NULL)
        if (sscanf(line, "VmHWM: %llu kB", &kb) == 1)
            break;
    if (fp != NULL)
        fclose(fp);
    return kb * 1024;
}

double pv_fleet_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}
