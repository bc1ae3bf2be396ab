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

#include <stdlib.h>
#include <string.h>

/* Asserts a {ptr,len} slice equals a C string, printing both on failure. */
#define assert_slice_equal(slice, cstr)                                        \
    do {                                                                       \
        pv_slice pv__s = (slice);                                              \
        char *pv__got = pv_memdup0(pv__s.ptr, pv__s.len);                      \
        assert_string_equal(pv__got, (cstr));                                  \
        free(pv__got);                                                         \
    } while (0)

#endif
