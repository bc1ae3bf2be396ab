/*
 * progress.c — the live progress line (see progress.h).
 */
#include "fleet/progress.h"

#include <stdio.h>

void pv_fleet_progress_line(pv_fleet_progress *p, const pv_fleet_stats *s, uint64_t now_ms,
                            uint32_t waiting, char *out, size_t size)
{
    double dt = (double)(now_ms - p->last_ms) / 1000.0;
    double rate = dt > 0 ? (double)(s->requests - p->last_requests) / dt : 0.0;
    p->last_ms = now_ms;
    p->last_requests = s->requests;
    double pct = s->phones ? 100.0 * s->reached / s->phones : 0.0;
    int n = snprintf(out, size,
                     "%6llus  provisioned %u/%u  %5.1f%%  failed %llu  in flight %u  waiting %u  "
                     "%.0f req/s",
                     (unsigned long long)(now_ms / 1000), s->reached, s->phones, pct,
                     (unsigned long long)s->failed, s->in_flight, waiting, rate);
    if (n < 0 && size > 0) /* truncation (n >= size) is fine for a terminal line */
        out[0] = '\0';
}
