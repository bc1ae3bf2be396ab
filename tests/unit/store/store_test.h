/*
 * store_test.h — what the store's unit tests share: a scratch directory per
 * test (real files, removed afterwards) and a migrated store in it.
 */
#ifndef PV_STORE_TEST_H
#define PV_STORE_TEST_H

#include "pv_test.h"

#include "core/alloc.h"
#include "store/store.h"

#include <ftw.h>
#include <stdio.h>
#include <unistd.h>

typedef struct store_fixture {
    char dir[256];
    char db[300];
    pv_store *s;
} store_fixture;

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* cmocka setup: a fresh directory with a migrated provisor.db. */
static int fixture_setup(void **state)
{
    store_fixture *f = pv_calloc(1, sizeof *f);
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/pv-store-XXXXXX", tmp != NULL ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof f->db, "%s/provisor.db", f->dir);
    pv_error err = {{0}};
    int rc = pv_store_open(f->db, &f->s, &err);
    if (rc == 0)
        rc = pv_store_migrate(f->s, NULL, &err);
    if (rc != 0)
        fail_msg("%s", err.msg);
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    store_fixture *f = *state;
    pv_store_close(f->s);
    nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Fails the test with the store's message when rc is not 0. */
#define assert_ok(expr)                                                                            \
    do {                                                                                           \
        pv_error ok__err = {{0}};                                                                  \
        pv_error *e = &ok__err;                                                                    \
        int ok__rc = (expr);                                                                       \
        if (ok__rc != 0)                                                                           \
            fail_msg("%s -> %s: %s", #expr, pv_err_name(ok__rc), e->msg);                          \
    } while (0)

#define STORE_TEST(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

#endif
