/*
 * arena.h — a region allocator: many small allocations freed at once.
 *
 * One arena belongs to one piece of work with a clear end (an exchange of the
 * transports: net/exchange.h, as h2o's per-request pool). Everything allocated
 * from it, and every pv_malloc block handed to it with pv_arena_adopt(), is
 * freed by pv_arena_reset() or pv_arena_free(); nothing is freed one by one.
 * Allocation aborts on out-of-memory like core/alloc.h. An arena is not
 * thread-safe: it is used by the thread that owns its work.
 *
 * pv_arena_owns() and pv_static_storage() exist for contracts: a pointer that
 * outlives the call that produced it must lie in the arena that will free it,
 * or in static storage (a string literal, a global).
 */
#ifndef PV_CORE_ARENA_H
#define PV_CORE_ARENA_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pv__arena_chunk pv__arena_chunk;
typedef struct pv__arena_adopted pv__arena_adopted;

typedef struct pv_arena {
    pv__arena_chunk *chunks;    /* newest first; the newest has the free space */
    pv__arena_adopted *adopted; /* blocks taken over, freed with the arena */
} pv_arena;

#define PV_ARENA_INIT {NULL, NULL}

/* Aligned for any type; never NULL (size 0 gives a valid, unique pointer). */
void *pv_arena_alloc(pv_arena *a, size_t size);
char *pv_arena_memdup0(pv_arena *a, const void *ptr, size_t len);
char *pv_arena_strdup(pv_arena *a, const char *s);
char *pv_arena_printf(pv_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes a block from pv_malloc (len bytes of it are in use): freed with the arena.
 * Returns ptr. For bodies built in a pv_buf, without copying them. */
void *pv_arena_adopt(pv_arena *a, void *ptr, size_t len);
/* Does p point into memory the arena will free (allocated or adopted)? */
bool pv_arena_owns(const pv_arena *a, const void *p);
/* Frees everything; the arena is empty and usable again. */
void pv_arena_reset(pv_arena *a);
#define pv_arena_free pv_arena_reset

/* Does p point into this program's static storage (literals, globals)? */
bool pv_static_storage(const void *p);

#endif
