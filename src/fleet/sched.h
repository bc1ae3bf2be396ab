/*
 * sched.h — the fleet's wake-up schedule: an indexed binary min-heap of
 * (time, phone) pairs.
 *
 * A fleet of 100 000 phones cannot afford one libuv timer per phone (each is
 * a heap node inside libuv plus a handle of ~150 bytes). Instead every phone
 * has at most one entry here, keyed by the earliest time it needs attention
 * (its agent's next wake-up or, on the virtual clock, the arrival of its
 * answer); the fleet arms one timer for the top of this heap. Entries are
 * found by phone index in O(1) through a position array, so rescheduling a
 * phone is O(log n) without a search.
 *
 * Ownership: the caller owns the pv_fleet_sched; it holds 16 bytes per phone
 * of capacity (time and position arrays) plus 4 bytes per scheduled entry.
 * Ties are broken by phone index so that a run is deterministic.
 */
#ifndef PV_FLEET_SCHED_H
#define PV_FLEET_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PV_SCHED_NEVER UINT64_MAX

typedef struct pv_fleet_sched {
    uint32_t *heap; /* phone indices, heap-ordered by (when, index) */
    uint32_t *pos;  /* pos[phone]: index in heap, or UINT32_MAX when not scheduled */
    uint64_t *when; /* when[phone]: the key while scheduled */
    uint32_t count; /* entries in the heap */
    uint32_t capacity;
} pv_fleet_sched;

/* An empty schedule for phones 0 .. capacity-1. */
void pv_fleet_sched_init(pv_fleet_sched *s, uint32_t capacity);
void pv_fleet_sched_free(pv_fleet_sched *s);

/* Schedules phone at when (PV_SCHED_NEVER removes it); replaces an earlier entry. */
void pv_fleet_sched_set(pv_fleet_sched *s, uint32_t phone, uint64_t when);
/* The earliest time, or PV_SCHED_NEVER when empty. */
uint64_t pv_fleet_sched_next(const pv_fleet_sched *s);
/* Removes and returns the earliest phone due at or before now; false when none is. */
bool pv_fleet_sched_pop_due(pv_fleet_sched *s, uint64_t now, uint32_t *phone, uint64_t *when);
/* When phone is scheduled, or PV_SCHED_NEVER. */
uint64_t pv_fleet_sched_get(const pv_fleet_sched *s, uint32_t phone);
/* Checks the heap property and the position array (tests). */
bool pv_fleet_sched_valid(const pv_fleet_sched *s);

#endif
