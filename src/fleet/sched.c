/*
 * sched.c — indexed binary min-heap (see sched.h).
 */
#include "fleet/sched.h"

#include "core/alloc.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define NOPOS UINT32_MAX

void pv_fleet_sched_init(pv_fleet_sched *s, uint32_t capacity)
{
    memset(s, 0, sizeof *s);
    s->capacity = capacity;
    size_t n = capacity ? capacity : 1;
    s->heap = pv_reallocarray(NULL, n, sizeof *s->heap);
    s->pos = pv_reallocarray(NULL, n, sizeof *s->pos);
    s->when = pv_reallocarray(NULL, n, sizeof *s->when);
    memset(s->pos, 0xff, n * sizeof *s->pos); /* every phone NOPOS */
}

void pv_fleet_sched_free(pv_fleet_sched *s)
{
    free(s->heap);
    free(s->pos);
    free(s->when);
    memset(s, 0, sizeof *s);
}

/* Strict order (when, phone): equal times leave in phone order, so runs repeat. */
static bool before(const pv_fleet_sched *s, uint32_t a, uint32_t b)
{
    return s->when[a] < s->when[b] || (s->when[a] == s->when[b] && a < b);
}

static void place(pv_fleet_sched *s, uint32_t i, uint32_t phone)
{
    s->heap[i] = phone;
    s->pos[phone] = i;
}

static void sift_up(pv_fleet_sched *s, uint32_t i)
{
    uint32_t phone = s->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!before(s, phone, s->heap[parent]))
            break;
        place(s, i, s->heap[parent]);
        i = parent;
    }
    place(s, i, phone);
}

static void sift_down(pv_fleet_sched *s, uint32_t i)
{
    uint32_t phone = s->heap[i];
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= s->count)
            break;
        if (child + 1 < s->count && before(s, s->heap[child + 1], s->heap[child]))
            child++;
        if (!before(s, s->heap[child], phone))
            break;
        place(s, i, s->heap[child]);
        i = child;
    }
    place(s, i, phone);
}

static void remove_at(pv_fleet_sched *s, uint32_t i)
{
    uint32_t phone = s->heap[i];
    s->pos[phone] = NOPOS;
    s->count--;
    if (i == s->count)
        return;
    uint32_t moved = s->heap[s->count]; /* the last entry fills the hole, then finds its place */
    place(s, i, moved);
    sift_down(s, i);
    sift_up(s, s->pos[moved]);
}

void pv_fleet_sched_set(pv_fleet_sched *s, uint32_t phone, uint64_t when)
{
    assert(phone < s->capacity);
    uint32_t i = s->pos[phone];
    if (when == PV_SCHED_NEVER) {
        if (i != NOPOS)
            remove_at(s, i);
        return;
    }
    if (i == NOPOS) {
        s->when[phone] = when;
        i = s->count++;
        place(s, i, phone);
        sift_up(s, i);
        return;
    }
    uint64_t old = s->when[phone];
    s->when[phone] = when;
    if (when < old)
        sift_up(s, i);
    else if (when > old)
        sift_down(s, i);
}

uint64_t pv_fleet_sched_next(const pv_fleet_sched *s)
{
    return s->count ? s->when[s->heap[0]] : PV_SCHED_NEVER;
}

bool pv_fleet_sched_pop_due(pv_fleet_sched *s, uint64_t now, uint32_t *phone, uint64_t *when)
{
    if (s->count == 0 || s->when[s->heap[0]] > now)
        return false;
    *phone = s->heap[0];
    *when = s->when[*phone];
    remove_at(s, 0);
    return true;
}

uint64_t pv_fleet_sched_get(const pv_fleet_sched *s, uint32_t phone)
{
    if (phone >= s->capacity || s->pos[phone] == NOPOS)
        return PV_SCHED_NEVER;
    return s->when[phone];
}

bool pv_fleet_sched_valid(const pv_fleet_sched *s)
{
    for (uint32_t i = 0; i < s->count; i++) {
        if (s->pos[s->heap[i]] != i)
            return false;
        if (i > 0 && before(s, s->heap[i], s->heap[(i - 1) / 2]))
            return false;
    }
    return true;
}
