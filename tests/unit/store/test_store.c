/* Unit tests for the store as a whole: opening, migrations, transactions,
 * batched bulk import (throughput, and kill -9 in the middle of it), check,
 * backup, meta values. Real SQLite files in a scratch directory, or a real
 * PostgreSQL server when PV_TEST_PG names one (store_test.h).
 * Covers src/store/sqlite_wal.c (the checkpoint off the serving loops, and its bound). */
#include "store_test.h"

#include "core/log.h"
#include "store/migrations.h"

#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void open_refuses_what_it_cannot_serve(void **state)
{
    store_fixture *f = *state;
    pv_store *s = NULL;
    pv_error err;
    /* No server there: a clear error in bounded time, and no handle. */
    assert_int_equal(
        pv_store_open("postgres://prov:secret@127.0.0.1:1/provisor?connect_timeout=2", &s, &err),
        PV_ESTORE);
    assert_non_null(strstr(err.msg, "cannot connect to PostgreSQL"));
    assert_null(strstr(err.msg, "secret")); /* the password is not repeated */
    assert_null(s);
    assert_int_equal(pv_store_open("host=127.0.0.1 port=1 connect_timeout=2", &s, &err), PV_ESTORE);
    assert_int_equal(pv_store_open("postgresql://127.0.0.1:1/x?bogus_option=1", &s, &err),
                     PV_ESTORE);
    assert_non_null(strstr(err.msg, "bogus_option"));
    assert_int_equal(pv_store_open("mysql://x", &s, &err), PV_EINVAL);
    assert_int_equal(pv_store_open("sqlite:", &s, &err), PV_EINVAL);
    assert_int_equal(pv_store_open("", &s, &err), PV_EINVAL);
    /* A file that is not a database: a clear error, no crash. */
    char junk[300];
    snprintf(junk, sizeof junk, "%s/junk.db", f->dir);
    FILE *fp = fopen(junk, "w");
    for (int i = 0; i < 200; i++)
        fputs("this is not an SQLite database at all. ", fp);
    fclose(fp);
    assert_int_equal(pv_store_open(junk, &s, &err), PV_ESTORE);
    assert_non_null(strstr(err.msg, "not a database"));
    /* sqlite:PATH names the same file as PATH. */
    char url[1100];
    snprintf(url, sizeof url, "%s%s", store_test_pg() ? "" : "sqlite:", f->db);
    assert_ok(pv_store_open(url, &s, e));
    assert_string_equal(pv_store_backend(s), store_test_pg() ? "postgres" : "sqlite");
    int64_t v = 0;
    assert_ok(pv_store_schema_version(s, &v, e));
    assert_int_equal(v, pv_store_schema_known());
    pv_store_close(s);
}

static void urls_name_the_backend_and_hide_passwords(void **state)
{
    assert_true(pv_store_url_is_postgres("postgres://h/db"));
    assert_true(pv_store_url_is_postgres("postgresql://h/db"));
    assert_true(pv_store_url_is_postgres("host=/run/postgresql dbname=provisor"));
    assert_true(pv_store_url_is_postgres(" dbname = provisor"));
    assert_false(pv_store_url_is_postgres("/var/lib/provisor/provisor.db"));
    assert_false(pv_store_url_is_postgres("sqlite:/x/y=z.db"));
    assert_false(pv_store_url_is_postgres("./a=b/provisor.db"));
    assert_false(pv_store_url_is_postgres("provisor.db"));
    char out[128];
    pv_store_url_redact("postgres://prov:s3cret@db.example:5432/provisor", out, sizeof out);
    assert_string_equal(out, "postgres://prov:***@db.example:5432/provisor");
    pv_store_url_redact("postgresql://prov@db/p?password=x&sslmode=require", out, sizeof out);
    assert_string_equal(out, "postgresql://prov@db/p?password=***&sslmode=require");
    pv_store_url_redact("host=db password='a b' dbname=p", out, sizeof out);
    assert_string_equal(out, "host=db password=*** dbname=p");
    pv_store_url_redact("/data/provisor.db", out, sizeof out);
    assert_string_equal(out, "/data/provisor.db");
    pv_store_url_redact("postgres://u:pw@h/d", out, 8); /* truncated, never past out */
    assert_string_equal(out, "postgre");
}

static void migrations_fresh_rerun_and_newer_schema(void **state)
{
    store_fixture *f = *state;
    char path[1024];
    store_test_fresh(f, "fresh", path, sizeof path);
    pv_store *s = NULL;
    assert_ok(pv_store_open(path, &s, e));
    int64_t v = -1;
    assert_ok(pv_store_schema_version(s, &v, e));
    assert_int_equal(v, 0);
    int applied = -1;
    assert_ok(pv_store_migrate(s, &applied, e));
    assert_int_equal(applied, (int)pv_migrations_count());
    assert_ok(pv_store_migrate(s, &applied, e)); /* re-run: nothing to do */
    assert_int_equal(applied, 0);
    assert_ok(pv_store_schema_version(s, &v, e));
    assert_int_equal(v, pv_store_schema_known());
    pv_store_close(s);

    /* A newer program migrated this database: this one must not touch it. */
    store_test_sql(path, "INSERT INTO schema_version VALUES (999, 0, 'from the future')");
    pv_error err;
    assert_int_equal(pv_store_open(path, &s, &err), PV_ECONFLICT);
    assert_non_null(strstr(err.msg, "schema version 999 is newer"));
}

static void migration_sql_is_portable(void **state)
{
    /* The two spellings differ only where migrations.h says they do. */
    pv_buf lite = {0}, pg = {0};
    pv_migration_expand(pv_migration_at(0), PV_SQL_SQLITE, &lite);
    pv_migration_expand(pv_migration_at(0), PV_SQL_POSTGRES, &pg);
    assert_null(strstr(lite.data, "{id}"));
    assert_null(strstr(lite.data, "{blob}"));
    assert_null(strstr(lite.data, "AUTOINCREMENT"));
    assert_non_null(strstr(lite.data, "id INTEGER PRIMARY KEY"));
    assert_non_null(strstr(pg.data, "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"));
    assert_non_null(strstr(pg.data, "BYTEA"));
    assert_null(strstr(pg.data, "BLOB"));
    assert_null(pv_migration_at(pv_migrations_count()));
    pv_buf_free(&lite);
    pv_buf_free(&pg);
}

static void transactions_nest_as_savepoints(void **state)
{
    pv_store *s = ((store_fixture *)*state)->s;
    assert_ok(pv_store_begin(s, e));
    assert_ok(pv_store_meta_set(s, "a", "1", 1, e));
    assert_ok(pv_store_begin(s, e));
    assert_ok(pv_store_meta_set(s, "b", "2", 1, e));
    pv_store_rollback(s); /* only the inner level */
    /* A store function that fails inside the caller's transaction undoes
     * only its own part (report_add on an unknown device). */
    assert_int_equal(pv_store_report_add(s, "ffffffffffff", "full", "x", 1, 1, NULL, NULL),
                     PV_ENOENT);
    assert_ok(pv_store_commit(s, e));
    pv_buf v = {0};
    assert_ok(pv_store_meta_get(s, "a", &v, e));
    assert_string_equal(v.data, "1");
    assert_int_equal(pv_store_meta_get(s, "b", &v, NULL), PV_ENOENT);
    pv_buf_free(&v);
    assert_int_equal(pv_store_commit(s, NULL), PV_EINVAL);
}

/* ---- lost PostgreSQL connections ---------------------------------------------- */

/* Ends every store connection to the test database from a second one, as a
 * server restart or an idle-session kill does (pg_terminate_backend waits up
 * to 5 s until they are gone). */
static void keep_log(pv_log_level level, const char *line, size_t len, void *data)
{
    pv_buf_append((pv_buf *)data, line, len);
    pv_buf_append_char((pv_buf *)data, '\n');
}

static void kill_store_connections(void)
{
    store_test_sql(store_test_pg(),
                   "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                   "WHERE application_name = 'provisor' AND datname = current_database() "
                   "AND pid <> pg_backend_pid()");
}

/* Lets connections to the test database in or not, from the postgres
 * database (PV_TEST_PG expanded, then its dbname overridden). */
static void allow_connections(bool yes)
{
    PGconn *c = PQconnectdb(store_test_pg());
    char sql[160];
    snprintf(sql, sizeof sql, "ALTER DATABASE \"%s\" ALLOW_CONNECTIONS %s", PQdb(c),
             yes ? "true" : "false");
    PQfinish(c);
    const char *const keys[] = {"dbname", "dbname", NULL};
    const char *const vals[] = {store_test_pg(), "postgres", NULL};
    c = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("PV_TEST_PG, database postgres: %s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

/* Two statements the handle has prepared before. */
static void store_works(pv_store *s)
{
    int64_t version = 0;
    pv_buf v = {0};
    assert_ok(pv_store_meta_get(s, "a", &v, e));
    assert_string_equal(v.data, "1");
    pv_buf_free(&v);
    assert_ok(pv_store_schema_version(s, &version, e));
    assert_int_equal(version, pv_store_schema_known());
}

/* postgres.h: a lost connection is reset and the statement runs once more,
 * outside a transaction; inside one the caller hears PV_ESTORE, and the
 * handle reconnects after the rollback; a failed reconnect is a clear
 * PV_ESTORE, is not retried at every call (a pause in proportion to its
 * cost), and the handle works again as soon as the server accepts
 * connections, not a second later (issue 19 item 2). */
static void lost_connection_reconnects(void **state)
{
    if (store_test_pg() == NULL)
        skip(); /* SQLite has no connection to lose */
    store_fixture *f = *state;
    pv_store *s = f->s;
    pv_error err;
    assert_ok(pv_store_meta_set(s, "a", "1", 1, e));
    store_works(s);

    /* Outside a transaction: the caller sees nothing, prepared statements
     * included (they are prepared again on the new connection). */
    kill_store_connections();
    store_works(s);
    kill_store_connections();
    pv_store_device d = {.mac = "000e08aabbcc", .model = "SPA112"};
    assert_ok(pv_store_device_create(s, &d, 1, e));
    kill_store_connections();
    assert_ok(pv_store_begin(s, e)); /* BEGIN itself may reconnect */
    assert_ok(pv_store_meta_set(s, "b", "2", 1, e));
    assert_ok(pv_store_commit(s, e));

    /* Inside a transaction: the error surfaces, nothing is replayed. */
    assert_ok(pv_store_begin(s, e));
    assert_ok(pv_store_meta_set(s, "c", "3", 1, e));
    kill_store_connections();
    assert_int_equal(pv_store_meta_set(s, "d", "4", 1, &err), PV_ESTORE);
    assert_int_equal(pv_store_meta_set(s, "d", "4", 1, &err), PV_ESTORE); /* still lost */
    /* The rollback cannot reach the server either: said in the log, not dropped. */
    pv_buf logged = {0};
    pv_log_set_sink(keep_log, &logged);
    pv_store_rollback(s);
    pv_log_set_sink(NULL, NULL);
    assert_non_null(logged.data);
    assert_non_null(strstr(logged.data, "event=store.rollback_failed backend=postgres depth=1"));
    pv_buf_free(&logged);
    pv_buf v = {0};
    assert_ok(pv_store_meta_get(s, "b", &v, e)); /* reconnected after the rollback */
    assert_string_equal(v.data, "2");
    assert_int_equal(pv_store_meta_get(s, "c", &v, NULL), PV_ENOENT);
    assert_int_equal(pv_store_meta_get(s, "d", &v, NULL), PV_ENOENT);

    /* The database refuses connections: a clear error, no storm, and the
     * handle comes back once connections are allowed again. */
    kill_store_connections();
    allow_connections(false);
    pv_error first, later;
    int rc_first = pv_store_meta_get(s, "b", &v, &first), rc_later = 0;
    double t0 = now_s();
    for (int i = 0; i < 100; i++) /* within the pause: no attempt, no wait */
        rc_later = pv_store_meta_get(s, "b", &v, &later);
    double spent = now_s() - t0;
    allow_connections(true); /* before any assertion: later tests need the database */
    assert_int_equal(rc_first, PV_ESTORE);
    assert_non_null(strstr(first.msg, "PostgreSQL connection lost: "));
    assert_non_null(strstr(first.msg, "; reconnect failed: "));
    assert_non_null(strstr(first.msg, "not currently accepting connections"));
    assert_int_equal(rc_later, PV_ESTORE);
    assert_string_equal(later.msg, first.msg);
    assert_true(spent < 0.5);
    allow_connections(true);
    /* The old pause was a second: a handle failing for that long after the
     * server came back answered with the outage's error (a 404 or 503 to a
     * phone). Now attempts are 10 ms apart across the process. */
    double back = now_s();
    int rc_back;
    while ((rc_back = pv_store_meta_get(s, "b", &v, NULL)) != 0 && now_s() - back < 5)
        usleep(1000);
    assert_ok(rc_back);
    assert_true(now_s() - back < 0.5);
    assert_ok(pv_store_meta_get(s, "b", &v, e));
    assert_string_equal(v.data, "2");
    pv_buf_free(&v);
}

/* ---- bulk import ------------------------------------------------------------- */

#define IMPORT_BATCH 1000

static void import_device(int i, pv_store_device *d, int64_t account)
{
    static char model[32], serial[32];
    memset(d, 0, sizeof *d);
    snprintf(d->mac, sizeof d->mac, "0000%08x", (unsigned)i);
    snprintf(model, sizeof model, "CP-88%02d-3PCC", 41 + i % 4);
    snprintf(serial, sizeof serial, "SN%07d", i);
    d->model = model;
    d->serial = serial;
    d->account_id = account;
}

/*
 * The import loop later work will drive: batches of IMPORT_BATCH upserts,
 * each committed with a checkpoint (the next line to import) in the same
 * transaction, so a restart resumes after the last whole batch. With
 * stop_at > 0 it stops half-way into that batch and tells fd, then waits to
 * be killed.
 */
static int run_import(pv_store *s, int from, int total, int64_t account, int stop_at, int fd,
                      int *created, pv_error *err)
{
    for (int i = from; i < total;) {
        int rc = pv_store_begin(s, err);
        for (int end = i + IMPORT_BATCH; rc == 0 && i < end && i < total; i++) {
            pv_store_device d;
            import_device(i, &d, account);
            bool is_new = false;
            rc = pv_store_device_upsert(s, &d, 1000, &is_new, err);
            *created += is_new;
            if (stop_at > 0 && i == stop_at) {
                (void)!write(fd, "M", 1); /* mid-batch, uncommitted */
                for (;;)
                    pause();
            }
        }
        char next[16];
        snprintf(next, sizeof next, "%d", i);
        if (rc == 0)
            rc = pv_store_meta_set(s, "import:test", next, strlen(next), err);
        if (rc == 0)
            rc = pv_store_commit(s, err);
        if (rc != 0) {
            pv_store_rollback(s);
            return rc;
        }
    }
    return 0;
}

static int64_t count_devices(pv_store *s)
{
    int64_t n = 0;
    pv_store_count counts[32];
    size_t k = 0;
    pv_buf report = {0};
    assert_ok(pv_store_check(s, &report, counts, 32, &k, e));
    pv_buf_free(&report);
    for (size_t i = 0; i < k; i++)
        if (strcmp(counts[i].table, "devices") == 0)
            n = counts[i].rows;
    return n;
}

static void bulk_import_100k_devices_in_batches(void **state)
{
    pv_store *s = ((store_fixture *)*state)->s;
    pv_store_account a = {.name = "bulk"};
    int64_t acct = 0;
    assert_ok(pv_store_account_create(s, &a, 1, &acct, e));
    /* PostgreSQL pays a round trip per statement: a fifth of the rows keeps
     * the suite fast while still spanning many batches. */
    const int total = store_test_pg() ? 20000 : 100000;
    int created = 0;
    double t0 = now_s();
    assert_ok(run_import(s, 0, total, acct, 0, -1, &created, e));
    double t1 = now_s();
    assert_int_equal(created, total);
    /* Idempotent: the same file again creates and changes nothing. */
    created = 0;
    assert_ok(run_import(s, 0, total, acct, 0, -1, &created, e));
    double t2 = now_s();
    assert_int_equal(created, 0);
    assert_int_equal(count_devices(s), total);
    pv_store_device d = {0};
    char mac[13];
    snprintf(mac, sizeof mac, "0000%08x", (unsigned)total);
    assert_int_equal(pv_store_device_get(s, mac, &d, NULL), PV_ENOENT);
    snprintf(mac, sizeof mac, "0000%08x", (unsigned)total - 1);
    assert_ok(pv_store_device_get(s, mac, &d, e)); /* the last device */
    char serial[16];
    snprintf(serial, sizeof serial, "SN%07d", total - 1);
    assert_string_equal(d.serial, serial);
    assert_int_equal(d.version, 1);
    pv_store_device_free(&d);
    print_message("import (%s): %d devices in batches of %d: %.2f s (%.0f/s); re-run %.2f s\n",
                  pv_store_backend(s), total, IMPORT_BATCH, t1 - t0, total / (t1 - t0), t2 - t1);
}

/* Kill -9 in the middle of a batched import: the database is consistent,
 * holds exactly the committed batches, and a re-run completes it with each
 * device once (issue 4 acceptance, at unit scale). */
static void import_survives_kill_9(void **state)
{
    store_fixture *f = *state;
    const int total = store_test_pg() ? 10000 : 20000, stop_at = 7 * IMPORT_BATCH + 500;
    pv_store_account a = {.name = "crash"};
    int64_t acct = 0;
    assert_ok(pv_store_account_create(f->s, &a, 1, &acct, e));
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(600); /* bounded even if the parent died */
        close(fds[0]);
        pv_store *s = NULL;
        int created = 0;
        if (pv_store_open(f->db, &s, NULL) != 0)
            _exit(3);
        run_import(s, 0, total, acct, stop_at, fds[1], &created, NULL);
        _exit(4); /* not reached: killed while paused mid-batch */
    }
    close(fds[1]);
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    char c = 0;
    /* A generous deadline: 7 500 rows take a second on a quiet machine, minutes on a busy one. */
    assert_int_equal(poll(&p, 1, 300000), 1);
    assert_int_equal(read(fds[0], &c, 1), 1);
    assert_int_equal(c, 'M');
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(fds[0]);

    /* A fresh handle recovers the WAL (SQLite) or finds the killed
     * connection's transaction rolled back (PostgreSQL): whole batches only,
     * and a checkpoint. */
    pv_store_close(f->s);
    assert_ok(pv_store_open(f->db, &f->s, e));
    assert_int_equal(count_devices(f->s), 7 * IMPORT_BATCH);
    pv_buf cp = {0};
    assert_ok(pv_store_meta_get(f->s, "import:test", &cp, e));
    assert_string_equal(cp.data, "7000");
    /* Resume from the checkpoint, then once more from the start. */
    int created = 0;
    assert_ok(run_import(f->s, atoi(cp.data), total, acct, 0, -1, &created, e));
    assert_int_equal(created, total - 7 * IMPORT_BATCH);
    created = 0;
    assert_ok(run_import(f->s, 0, total, acct, 0, -1, &created, e));
    assert_int_equal(created, 0);
    assert_int_equal(count_devices(f->s), total);
    pv_buf_free(&cp);
}

static void backup_is_a_consistent_copy(void **state)
{
    store_fixture *f = *state;
    pv_store_device d = {.mac = "000e08aabbcc", .model = "SPA112"};
    assert_ok(pv_store_device_create(f->s, &d, 1, e));
    pv_error err;
    if (store_test_pg() != NULL) { /* refused, pointing at the tool that does it */
        assert_int_equal(pv_store_backup(f->s, "/tmp/x.dump", &err), PV_ENOTSUP);
        assert_non_null(strstr(err.msg, "pg_dump"));
        return;
    }
    char out[320];
    snprintf(out, sizeof out, "%s/backup.db", f->dir);
    assert_ok(pv_store_backup(f->s, out, e));
    pv_store *b = NULL;
    assert_ok(pv_store_open(out, &b, e));
    pv_store_device got = {0};
    assert_ok(pv_store_device_get(b, "000e08aabbcc", &got, e));
    assert_string_equal(got.model, "SPA112");
    pv_store_device_free(&got);
    pv_store_close(b);
    assert_int_equal(pv_store_backup(f->s, "/nonexistent-dir/x.db", &err), PV_EIO);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

/* The WAL is copied back into the database while the store's handle stays open
 * (sqlite_wal.h: by the process's checkpointer thread, not by the commit), and
 * under a steady stream of commits it stays bounded: the committing thread
 * takes over past 4 000 pages. */
static void wal_is_checkpointed_while_open(void **state)
{
    store_fixture *f = *state;
    if (store_test_pg() != NULL)
        return; /* SQLite's WAL */
    char wal[1100];
    snprintf(wal, sizeof wal, "%s-wal", f->db);
    const off_t frame = 4096 + 24; /* a page and its frame header */
    struct stat st;
    assert_int_equal(stat(f->db, &st), 0);
    struct timespec before = st.st_mtim;
    /* Past the soft threshold (1 000 pages), then the database file is written. */
    int made = 0;
    for (; made < 20000 && file_size(wal) < 1100 * frame; made++) {
        pv_store_device d = {.model = "SPA112"};
        snprintf(d.mac, sizeof d.mac, "000e08%06x", made);
        assert_ok(pv_store_device_create(f->s, &d, 1, e));
    }
    bool written = false;
    for (time_t deadline = time(NULL) + 60; !written && time(NULL) < deadline;) {
        assert_int_equal(stat(f->db, &st), 0);
        written = st.st_mtim.tv_sec != before.tv_sec || st.st_mtim.tv_nsec != before.tv_nsec;
        if (!written)
            poll(NULL, 0, 10);
    }
    assert_true(written);
    /* 4 000 commits of ~10 pages each would be a WAL of ~160 MB unchecked. The
     * bound is 4 000 pages plus the last commit (one writer here: a commit past
     * the bound waits for a background checkpoint still running). */
    for (int i = 0; i < 4000; i++, made++) {
        pv_store_device d = {.model = "SPA112"};
        snprintf(d.mac, sizeof d.mac, "000e08%06x", made);
        assert_ok(pv_store_device_create(f->s, &d, 1, e));
    }
    assert_true(file_size(wal) < (4000 + 200) * frame);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(open_refuses_what_it_cannot_serve),
        STORE_TEST(migrations_fresh_rerun_and_newer_schema),
        cmocka_unit_test(migration_sql_is_portable),
        cmocka_unit_test(urls_name_the_backend_and_hide_passwords),
        STORE_TEST(transactions_nest_as_savepoints),
        STORE_TEST(lost_connection_reconnects),
        STORE_TEST(bulk_import_100k_devices_in_batches),
        STORE_TEST(import_survives_kill_9),
        STORE_TEST(backup_is_a_consistent_copy),
        STORE_TEST(wal_is_checkpointed_while_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
