/*
 * pv_test.h — what every unit test includes: cmocka and a few helpers.
 *
 * A unit test file is tests/unit/<layer>/test_<module>.c; CMake finds it,
 * builds one executable and registers `unit.<module>` with CTest.
 */
#ifndef PV_TEST_H
#define PV_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/buf.h"

#include <stdio.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A wall clock the test moves by hand: a module with an injectable clock (e.g.
 * pv_fileserver.wall_clock) is given pv_test_clock, and the test calls
 * pv_test_clock_advance() where it would otherwise sleep until time has passed.
 * Atomic: the module may read it on a loop thread. */
static inline _Atomic time_t *pv__test_clock_skew(void)
{
    static _Atomic time_t skew;
    return &skew;
}
static inline time_t pv_test_clock(void)
{
    return time(NULL) + atomic_load(pv__test_clock_skew());
}
static inline void pv_test_clock_advance(time_t seconds)
{
    atomic_fetch_add(pv__test_clock_skew(), seconds);
}

/* Asserts a {ptr,len} slice equals a C string, printing both on failure. */
#define assert_slice_equal(slice, cstr)                                        \
    do {                                                                       \
        pv_slice pv__s = (slice);                                              \
        char *pv__got = pv_memdup0(pv__s.ptr, pv__s.len);                      \
        assert_string_equal(pv__got, (cstr));                                  \
        free(pv__got);                                                         \
    } while (0)

/* The whole file at path (the test fails when it cannot be read); free() it. */
static inline char *pv_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    pv_buf b = {0};
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        pv_buf_append(&b, chunk, got);
    fclose(f);
    return pv_buf_take(&b, len);
}

#endif
