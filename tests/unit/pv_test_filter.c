/*
 * pv_test_filter.c — linked into every unit test executable (CMakeLists.txt): runs one test case,
 * or some, by name, without editing the test.
 *
 *   PV_TEST=small_files_are_cached_and_revalidated build/test_fileserver
 *   PV_TEST='*cache*' ctest --test-dir build -R unit.fileserver --output-on-failure
 *   PV_TEST_SKIP='*postgres*' build/test_store
 *
 * PV_TEST keeps the cases whose names match, PV_TEST_SKIP drops those that match (cmocka's
 * wildcards: * and ?). cmocka 1.1 has the filter functions but reads no variable for them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

__attribute__((constructor)) static void pv_test_filter(void)
{
    const char *only = getenv("PV_TEST");
    const char *skip = getenv("PV_TEST_SKIP");
    if (only != NULL && only[0] != '\0')
        cmocka_set_test_filter(only);
    if (skip != NULL && skip[0] != '\0')
        cmocka_set_skip_filter(skip);
}
