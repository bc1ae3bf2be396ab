/*
 * store_test.h — what the store's unit tests share: a scratch directory per
 * test (real files, removed afterwards) and a migrated store in it.
 *
 * Both backends run the same tests. By default the store is an SQLite file in
 * the scratch directory. When PV_TEST_PG names a PostgreSQL server (a libpq
 * URL or keyword string, e.g. `host=/tmp/pg port=5432 dbname=postgres`), each
 * test gets a fresh schema of its own on it instead (CREATE SCHEMA, dropped
 * afterwards; the store connects with search_path set to it), which
 * integration.store_postgres does against a real server it starts.
 */
#ifndef PV_STORE_TEST_H
#define PV_STORE_TEST_H

#include "pv_test.h"

#include "core/alloc.h"
#include "store/store.h"

#include <ftw.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <unistd.h>

typedef struct store_fixture {
    char dir[256];
    char db[1024]; /* SQLite path or PostgreSQL connection string */
    pv_store *s;
    char schemas[4][40]; /* PostgreSQL schemas this test made (dropped at teardown) */
    int nschemas;
} store_fixture;

/* The PostgreSQL server the tests run on, or NULL for SQLite. */
static inline const char *store_test_pg(void)
{
    const char *pg = getenv("PV_TEST_PG");
    return pg != NULL && pg[0] != '\0' ? pg : NULL;
}

/* Runs sql on the database url names (SQLite path or PostgreSQL string):
 * what an independent client does, beside the store. */
static inline void store_test_sql(const char *url, const char *sql)
{
    if (store_test_pg() == NULL) {
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(url, &db), SQLITE_OK);
        char *msg = NULL;
        if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
            fail_msg("%s: %s", sql, msg);
        sqlite3_close(db);
        return;
    }
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("PV_TEST_PG: %s", PQerrorMessage(c));
    PGresult *r = PQexec(c, "SET client_min_messages = warning"); /* no DROP ... CASCADE notes */
    PQclear(r);
    r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

/* A new, empty database for the test, named after name: a file in its
 * directory, or a fresh schema on the PostgreSQL server. */
static inline void store_test_fresh(store_fixture *f, const char *name, char *out, size_t size)
{
    const char *pg = store_test_pg();
    if (pg == NULL) {
        snprintf(out, size, "%s/%s.db", f->dir, name);
        return;
    }
    static unsigned counter;
    assert_true(f->nschemas < 4);
    char *schema = f->schemas[f->nschemas++];
    snprintf(schema, sizeof f->schemas[0], "pvt_%d_%u_%.12s", (int)getpid(), counter++, name);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
    store_test_sql(pg, sql);
    /* libpq: options in a URL's query ('=' escaped) or as a keyword. */
    if (strstr(pg, "://") != NULL)
        snprintf(out, size, "%s%coptions=-csearch_path%%3D%s", pg,
                 strchr(pg, '?') != NULL ? '&' : '?', schema);
    else
        snprintf(out, size, "%s options=-csearch_path=%s", pg, schema);
}

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
    store_test_fresh(f, "provisor", f->db, sizeof f->db);
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
    for (int i = 0; i < f->nschemas; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", f->schemas[i]);
        store_test_sql(store_test_pg(), sql);
    }
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
