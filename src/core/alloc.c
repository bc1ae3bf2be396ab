/* alloc.c — aborting allocators; see alloc.h for why. */
#include "core/alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t size)
{
    fprintf(stderr, "provisor: out of memory allocating %zu bytes\n", size);
    abort();
}

void *pv_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        out_of_memory(size);
    return p;
}

void *pv_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p == NULL)
        out_of_memory(count * size);
    return p;
}

void *pv_realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (p == NULL)
        out_of_memory(size);
    return p;
}

void *pv_reallocarray(void *ptr, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        out_of_memory(SIZE_MAX);
    return pv_realloc(ptr, count * size);
}

char *pv_strdup(const char *s)
{
    return pv_memdup0(s, strlen(s));
}

char *pv_strndup(const char *s, size_t len)
{
    return pv_memdup0(s, strnlen(s, len));
}

char *pv_memdup0(const void *ptr, size_t len)
{
    char *p = pv_malloc(len + 1);
    if (len > 0)
        memcpy(p, ptr, len);
    p[len] = '\0';
    return p;
}
