/* arena.c — a chunked bump allocator with adopted blocks; see arena.h. */
#include "core/arena.h"

#include "core/alloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK 2048 /* most exchanges allocate a few short strings */
#define ARENA_ALIGN (sizeof(max_align_t))

struct pv__arena_chunk {
    pv__arena_chunk *next;
    size_t size, used;
    _Alignas(max_align_t) unsigned char data[];
};

struct pv__arena_adopted {
    pv__arena_adopted *next;
    void *ptr;
    size_t len;
};

void *pv_arena_alloc(pv_arena *a, size_t size)
{
    size_t need = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    if (need < size) /* overflow */
        need = SIZE_MAX;
    if (need == 0)
        need = ARENA_ALIGN;
    pv__arena_chunk *c = a->chunks;
    if (c == NULL || c->size - c->used < need) {
        size_t cap = need > ARENA_CHUNK ? need : ARENA_CHUNK;
        if (cap > SIZE_MAX - sizeof *c)
            cap = SIZE_MAX - sizeof *c; /* pv_malloc aborts on what cannot be had */
        c = pv_malloc(sizeof *c + cap);
        c->size = cap;
        c->used = 0;
        /* A big allocation gets a chunk of its own behind the current one, so the
         * current one's free space is not lost. */
        if (a->chunks != NULL && cap > ARENA_CHUNK) {
            c->next = a->chunks->next;
            a->chunks->next = c;
        } else {
            c->next = a->chunks;
            a->chunks = c;
        }
    }
    void *p = c->data + c->used;
    c->used += need;
    return p;
}

char *pv_arena_memdup0(pv_arena *a, const void *ptr, size_t len)
{
    char *p = pv_arena_alloc(a, len + 1);
    if (len > 0)
        memcpy(p, ptr, len);
    p[len] = '\0';
    return p;
}

char *pv_arena_strdup(pv_arena *a, const char *s)
{
    return pv_arena_memdup0(a, s, strlen(s));
}

char *pv_arena_printf(pv_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return pv_arena_strdup(a, "");
    char *p = pv_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    (void)vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void *pv_arena_adopt(pv_arena *a, void *ptr, size_t len)
{
    if (ptr == NULL)
        return NULL;
    pv__arena_adopted *n = pv_arena_alloc(a, sizeof *n);
    n->ptr = ptr;
    n->len = len;
    n->next = a->adopted;
    a->adopted = n;
    return ptr;
}

bool pv_arena_owns(const pv_arena *a, const void *p)
{
    uintptr_t u = (uintptr_t)p;
    for (const pv__arena_chunk *c = a->chunks; c; c = c->next) {
        uintptr_t start = (uintptr_t)c->data;
        if (u >= start && u < start + (c->used ? c->used : 1))
            return true;
    }
    for (const pv__arena_adopted *n = a->adopted; n; n = n->next) {
        uintptr_t start = (uintptr_t)n->ptr;
        if (u >= start && u <= start + n->len) /* one past the end: an empty tail */
            return true;
    }
    return false;
}

void pv_arena_reset(pv_arena *a)
{
    for (pv__arena_adopted *n = a->adopted; n; n = n->next)
        free(n->ptr); /* the nodes themselves live in the chunks */
    a->adopted = NULL;
    for (pv__arena_chunk *c = a->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    a->chunks = NULL;
}

/* The linker's bounds of the executable's image (GNU ld and lld define both). */
extern const char __executable_start[];
extern const char _end[];

bool pv_static_storage(const void *p)
{
    uintptr_t u = (uintptr_t)p;
    return u >= (uintptr_t)__executable_start && u < (uintptr_t)_end;
}
