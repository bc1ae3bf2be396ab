/*
 * schedule.h — delay schedules of Resync_Periodic, Resync_Error_Retry_Delay
 * and Upgrade_Error_Retry_Delay (spec 5.1, 5.2).
 *
 * A schedule is an integer, or a comma list of consecutive delays in seconds
 * whose last element repeats forever, each optionally `base+rand` meaning
 * base plus a uniform random number of seconds in [0, rand]:
 * `1800,3600+600,7200`. Empty or `0` disables the timer (spec 5.1: no
 * periodic resync, never retry; for upgrades a failure then counts as
 * success); what "disabled" means is the caller's business.
 *
 * The core has no clock and no random source: pv_schedule_delay() takes a
 * 32-bit random value from the caller, so a schedule evaluates the same way
 * in a test, a fuzzer and a fleet of simulated phones. A pv_schedule is a
 * plain value with a fixed capacity (bounded memory on any input).
 */
#ifndef PV_CORE_SCHEDULE_H
#define PV_CORE_SCHEDULE_H

#include "core/buf.h"
#include "core/error.h"

#include <stdbool.h>
#include <stdint.h>

/* Most elements in one schedule; the longest default has 12. */
#define PV_SCHEDULE_MAX 64

typedef struct pv_schedule_step {
    uint32_t base; /* seconds */
    uint32_t rand; /* plus uniform [0, rand] seconds */
} pv_schedule_step;

typedef struct pv_schedule {
    uint32_t nsteps; /* 0: empty text */
    pv_schedule_step steps[PV_SCHEDULE_MAX];
} pv_schedule;

/*
 * Parses text (white space around elements is allowed). Fails with
 * PV_ESYNTAX naming the column and what was expected, PV_ERANGE for a number
 * above 4294967295, PV_ETOOBIG beyond PV_SCHEDULE_MAX elements.
 */
int pv_schedule_parse(pv_slice text, pv_schedule *out, pv_error *err);

/* True when the schedule is empty or exactly `0` (spec 5.1). */
bool pv_schedule_disabled(const pv_schedule *s);

/*
 * The delay before attempt number attempt (0 = the first delay), in seconds:
 * element min(attempt, nsteps - 1) (spec 5.2: the last one repeats), plus
 * rand scaled to [0, step.rand] from the caller's uniform 32-bit random.
 * 0 for an empty schedule.
 */
uint64_t pv_schedule_delay(const pv_schedule *s, uint64_t attempt, uint32_t random);

/* Writes the canonical text form (`1800,3600+600`) into out (appended). */
void pv_schedule_format(const pv_schedule *s, pv_buf *out);

#endif
