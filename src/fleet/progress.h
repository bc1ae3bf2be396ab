/*
 * progress.h — the live line a fleet run shows: provisioned, failed, in
 * flight, requests per second. Redrawn every second on a terminal; a log or a
 * pipe gets it as a whole line every 5 s (the CLI decides), never minutes of
 * silence.
 *
 * Pure formatting; the caller prints. Ownership: the caller's buffer.
 */
#ifndef PV_FLEET_PROGRESS_H
#define PV_FLEET_PROGRESS_H

#include "fleet/stats.h"

#include <stddef.h>
#include <stdint.h>

typedef struct pv_fleet_progress {
    uint64_t last_ms;       /* scenario time of the previous line */
    uint64_t last_requests; /* requests at the previous line */
} pv_fleet_progress;

/*
 * One line (no newline) for time now_ms: e.g.
 * "  42s  provisioned 41230/100000  41.2%  failed 0  in flight 1000  waiting 52311  2310 req/s"
 * Updates p for the next rate.
 */
void pv_fleet_progress_line(pv_fleet_progress *p, const pv_fleet_stats *s, uint64_t now_ms,
                            uint32_t waiting, char *out, size_t size);

#endif
