/*
 * alloc.h — the one place where out-of-memory is decided (DESIGN, Style).
 *
 * Provisor does not try to recover from a failed allocation: a provisioning
 * server or phone that cannot allocate a few kilobytes is better restarted by
 * its supervisor than left half-working. These wrappers abort with a message;
 * callers never check for NULL. Memory from them is released with free().
 */
#ifndef PV_CORE_ALLOC_H
#define PV_CORE_ALLOC_H

#include <stddef.h>

void *pv_malloc(size_t size);
void *pv_calloc(size_t count, size_t size);
void *pv_realloc(void *ptr, size_t size);
/* realloc for arrays: aborts on count * size overflow as well. */
void *pv_reallocarray(void *ptr, size_t count, size_t size);
char *pv_strdup(const char *s);
char *pv_strndup(const char *s, size_t len);
/* Copies len bytes and appends a NUL: a C string from a {ptr,len} slice. */
char *pv_memdup0(const void *ptr, size_t len);

#endif
