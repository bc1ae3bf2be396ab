/* sqlite.c — the SQLite backend of the store; see sqlite.h and store_int.h. */
#include "store/sqlite.h"

#include "core/alloc.h"
#include "store/sqlite_wal.h"
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Statement cache: open addressing on the address of the SQL text. The store
 * has well under a hundred distinct statements, so 256 slots never fill. */
#define CACHE_SLOTS 256

typedef struct cache_slot {
    const char *sql;
    sqlite3_stmt *st;
} cache_slot;

typedef struct pv__sqlite {
    sqlite3 *db;
    char *path;
    bool counted;        /* in live_handles */
    uint64_t statements; /* pv_store_statements: scripts run and statements started */
    cache_slot cache[CACHE_SLOTS];
} pv__sqlite;

/* Maps an SQLite result code to a PV_E* code and a message naming the file. */
static int fail(pv__sqlite *q, int rc, pv_error *err)
{
    const char *msg = q->db != NULL ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc);
    int code = PV_ESTORE;
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
        switch (rc) {
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY:
            code = PV_EEXIST;
            break;
        case SQLITE_CONSTRAINT_FOREIGNKEY:
            code = PV_ENOENT; /* a referenced row (account, device) is missing */
            break;
        default:
            code = PV_EINVAL; /* CHECK, NOT NULL: a value outside the schema's domain */
            break;
        }
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        code = PV_EBUSY;
        break;
    default:
        break;
    }
    return pv_error_set(err, code, "%s (sqlite %s)", msg, q->path);
}

/*
 * Warming the page cache (issue 18). A render reads a few pages of a large
 * file at random; from a cold page cache (a restart, a freshly copied file)
 * each is a disk read, and a 1 000 000-device store (~500 MB) answered with
 * a p99 of its own of 1.8–3 ms instead of 0.5–0.7 until its pages were in. So
 * the first handle a process opens reads the whole file once, sequentially
 * (1 MB reads: what the disk does best), when it is at most WARM_MAX_BYTES
 * and a quarter of the memory: a larger file is left to the kernel's own
 * caching. POSIX_FADV_WILLNEED would not do: Linux reads only the first few
 * megabytes ahead for it. From the page cache the pass costs ~0.1 s per
 * 500 MB. Only while the process holds no SQLite handle: the descriptor
 * opened for it is closed, and closing any descriptor of a file drops the
 * POSIX locks the process's other connections hold on it.
 */
#define WARM_MEMORY_FRACTION 4
#define WARM_MAX_BYTES (1ull << 30)
#define WARM_CHUNK (1u << 20)
static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned live_handles; /* open SQLite handles of this process (handles_lock) */

static void warm_page_cache(const char *path)
{
    if (path[0] == ':' || strncmp(path, "file:", 5) == 0)
        return; /* ":memory:" and URIs are not plain paths */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return; /* a new file: nothing to warm */
    struct stat st;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t memory = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    if (fstat(fd, &st) == 0 && st.st_size > 0 && (uint64_t)st.st_size <= WARM_MAX_BYTES &&
        (uint64_t)st.st_size <= memory / WARM_MEMORY_FRACTION) {
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL); /* larger read-ahead */
        char *buf = pv_malloc(WARM_CHUNK);
        for (off_t at = 0; at < st.st_size;) {
            ssize_t n = pread(fd, buf, WARM_CHUNK, at);
            if (n <= 0)
                break; /* advice only: a failed read changes nothing */
            at += n;
        }
        free(buf);
    }
    close(fd);
}

static void sq_close(void *db)
{
    pv__sqlite *q = db;
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        sqlite3_finalize(q->cache[i].st);
    sqlite3_close(q->db);
    if (q->counted) {
        pthread_mutex_lock(&handles_lock);
        bool last = --live_handles == 0;
        pthread_mutex_unlock(&handles_lock);
        if (last)
            pv__sqlite_wal_stop(); /* its connection closes too: nothing holds the file */
    }
    free(q->path);
    free(q);
}

static int sq_exec(void *db, const char *sql, pv_error *err)
{
    pv__sqlite *q = db;
    q->statements++;
    int rc = sqlite3_exec(q->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : fail(q, rc, err);
}

/* Our SQL numbers parameters PostgreSQL's way, $1..$n, in any order. SQLite
 * would read $1 as a *named* parameter numbered by first appearance, so the
 * text is rewritten to ?1..?n, whose numbers SQLite takes literally. */
static char *to_sqlite_params(const char *sql)
{
    char *out = pv_strdup(sql);
    bool quoted = false;
    for (char *p = out; *p != '\0'; p++) {
        if (*p == '\'')
            quoted = !quoted;
        else if (!quoted && *p == '$' && p[1] >= '0' && p[1] <= '9')
            *p = '?';
    }
    return out;
}

static int sq_prepare(void *db, const char *sql, pv__stmt **out, pv_error *err)
{
    pv__sqlite *q = db;
    size_t h = ((uintptr_t)sql >> 3) % CACHE_SLOTS;
    while (q->cache[h].sql != NULL && q->cache[h].sql != sql)
        h = (h + 1) % CACHE_SLOTS;
    if (q->cache[h].sql == NULL) {
        sqlite3_stmt *st = NULL;
        char *text = to_sqlite_params(sql);
        int rc = sqlite3_prepare_v3(q->db, text, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
        free(text);
        if (rc != SQLITE_OK)
            return fail(q, rc, err);
        q->cache[h].sql = sql;
        q->cache[h].st = st;
    }
    sqlite3_stmt *st = q->cache[h].st;
    q->statements++; /* each run of a statement starts here */
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    *out = (pv__stmt *)st;
    return 0;
}

static int bound(int rc)
{
    return rc == SQLITE_OK ? 0 : PV_ESTORE;
}

static int sq_bind_int(pv__stmt *st, int idx, int64_t v)
{
    return bound(sqlite3_bind_int64((sqlite3_stmt *)st, idx, v));
}

static int sq_bind_text(pv__stmt *st, int idx, const char *v)
{
    if (v == NULL)
        return bound(sqlite3_bind_null((sqlite3_stmt *)st, idx));
    return bound(sqlite3_bind_text((sqlite3_stmt *)st, idx, v, -1, SQLITE_STATIC));
}

static int sq_bind_blob(pv__stmt *st, int idx, const void *p, size_t n)
{
    return bound(sqlite3_bind_blob64((sqlite3_stmt *)st, idx, n > 0 ? p : "", n, SQLITE_STATIC));
}

static int sq_step(pv__stmt *st, pv_error *err)
{
    sqlite3_stmt *s = (sqlite3_stmt *)st;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    /* sqlite3_reset returns the extended code (e.g. SQLITE_CONSTRAINT_UNIQUE). */
    sqlite3 *db = sqlite3_db_handle(s);
    int ext = sqlite3_extended_errcode(db);
    pv__sqlite tmp = {.db = db, .path = (char *)sqlite3_db_filename(db, "main")};
    return fail(&tmp, ext != SQLITE_OK ? ext : rc, err);
}

static void sq_reset(pv__stmt *st)
{
    sqlite3_reset((sqlite3_stmt *)st);
}

static int64_t sq_col_int(pv__stmt *st, int col)
{
    return sqlite3_column_int64((sqlite3_stmt *)st, col);
}

static const char *sq_col_text(pv__stmt *st, int col)
{
    return (const char *)sqlite3_column_text((sqlite3_stmt *)st, col);
}

static const void *sq_col_blob(pv__stmt *st, int col, size_t *len)
{
    const void *p = sqlite3_column_blob((sqlite3_stmt *)st, col);
    *len = (size_t)sqlite3_column_bytes((sqlite3_stmt *)st, col);
    return p;
}

static int64_t sq_changes(void *db)
{
    return sqlite3_changes64(((pv__sqlite *)db)->db);
}

static uint64_t sq_statements(void *db)
{
    return ((pv__sqlite *)db)->statements;
}

/* Appends every row of a PRAGMA whose only healthy answer is `ok_row`
 * (NULL: no row at all) to report; returns the number of problem rows. */
static int pragma_rows(pv__sqlite *q, const char *sql, const char *ok_row, pv_buf *report,
                       pv_error *err, int *problems)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(q, rc, err);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int cols = sqlite3_column_count(st);
        const char *first = (const char *)sqlite3_column_text(st, 0);
        if (ok_row != NULL && cols == 1 && first != NULL && strcmp(first, ok_row) == 0)
            continue;
        (*problems)++;
        if (*problems > 50)
            continue; /* bounded report on a badly damaged file */
        pv_buf_appendf(report, "%s:", sql);
        for (int c = 0; c < cols; c++) {
            const char *v = (const char *)sqlite3_column_text(st, c);
            pv_buf_appendf(report, " %s", v != NULL ? v : "NULL");
        }
        pv_buf_append_char(report, '\n');
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail(q, rc, err);
}

static int sq_check(void *db, pv_buf *report, pv_error *err)
{
    pv__sqlite *q = db;
    int problems = 0;
    int rc = pragma_rows(q, "PRAGMA integrity_check", "ok", report, err, &problems);
    if (rc == 0)
        rc = pragma_rows(q, "PRAGMA foreign_key_check", NULL, report, err, &problems);
    if (rc != 0)
        return rc;
    if (problems > 0)
        return pv_error_set(err, PV_ESTORE, "%s: %d integrity problem(s)", q->path, problems);
    return 0;
}

/* sqlite3 online backup into a temporary file beside path, then rename(2):
 * the copy is consistent (taken under a read transaction) and path either
 * keeps its old content or holds the whole new backup. */
static int sq_backup(void *db, const char *path, pv_error *err)
{
    pv__sqlite *q = db;
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return pv_error_set(err, PV_EINVAL, "%s: path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return pv_error_set(err, PV_EIO, "%s: %s", path, strerror(errno));
    close(fd);
    sqlite3 *dst = NULL;
    int rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL);
    sqlite3_backup *b = rc == SQLITE_OK ? sqlite3_backup_init(dst, "main", q->db, "main") : NULL;
    if (b != NULL) {
        rc = sqlite3_backup_step(b, -1);
        rc = sqlite3_backup_finish(b) == SQLITE_OK && rc == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    } else {
        rc = SQLITE_ERROR;
    }
    if (rc != SQLITE_OK) {
        pv_error_set(err, PV_ESTORE, "backup to %s: %s", path,
                     dst != NULL ? sqlite3_errmsg(dst) : "cannot open");
        sqlite3_close(dst);
        unlink(tmp);
        return PV_ESTORE;
    }
    sqlite3_close(dst); /* checkpoints and removes the copy's own WAL file */
    fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    (void)chmod(tmp, 0600); /* the backup holds hashed tokens and encrypted keys */
    if (rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        return pv_error_set(err, PV_EIO, "%s: %s", path, strerror(saved));
    }
    return 0;
}

static const pv__store_backend sqlite_backend = {
    .name = "sqlite",
    .dialect = PV_SQL_SQLITE,
    .close = sq_close,
    .exec = sq_exec,
    .prepare = sq_prepare,
    .bind_int = sq_bind_int,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .step = sq_step,
    .reset = sq_reset,
    .col_int = sq_col_int,
    .col_text = sq_col_text,
    .col_blob = sq_col_blob,
    .changes = sq_changes,
    .statements = sq_statements,
    .begin_sql = "BEGIN IMMEDIATE",
    .check = sq_check,
    .backup = sq_backup,
};

/*
 * The database holds hashed tokens, sealed keys and account settings: owner only (issue 11,
 * "secrets at rest"). Right after SQLite creates or opens the file, it and an existing -wal
 * or -shm are narrowed to 0600 (SQLite gives the -wal and -shm it creates later the mode of
 * the database file). By path, never by opening the file: closing any descriptor of it would
 * drop the POSIX locks other connections of this process hold on it. A file another user owns
 * is left alone (its owner chose).
 */
static int private_files(const char *path, pv_error *err)
{
    if (path[0] == ':' || strncmp(path, "file:", 5) == 0)
        return 0; /* ":memory:" and URIs are not plain paths */
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char name[4200];
        struct stat st;
        int n = snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
        if (n < 0 || (size_t)n >= sizeof name || stat(name, &st) != 0 || (st.st_mode & 077) == 0 ||
            st.st_uid != geteuid())
            continue;
        if (chmod(name, st.st_mode & 0700) != 0)
            return pv_error_set(err, PV_ESTORE, "%s: mode %03o, cannot make it 0600: %s", name,
                                (unsigned)(st.st_mode & 0777), strerror(errno));
    }
    return 0;
}

int pv__sqlite_open(const char *path, pv_store *s, pv_error *err)
{
    pv__sqlite *q = pv_calloc(1, sizeof *q);
    q->path = pv_strdup(path);
    pthread_mutex_lock(&handles_lock);
    if (live_handles == 0)
        warm_page_cache(path);
    int rc = sqlite3_open_v2(
        path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    q->counted = rc == SQLITE_OK;
    live_handles += q->counted;
    pthread_mutex_unlock(&handles_lock);
    if (rc != SQLITE_OK) {
        rc = pv_error_set(err, PV_ESTORE, "%s: cannot open database: %s", path,
                          q->db != NULL ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
        sq_close(q);
        return rc;
    }
    if (private_files(path, err) != 0) {
        sq_close(q);
        return PV_ESTORE;
    }
    sqlite3_extended_result_codes(q->db, 1);
    sqlite3_busy_timeout(q->db, 5000);
    /* See sqlite.h for why each pragma. The first statement also reads the
     * header, so a file that is not a database fails here, clearly. */
    rc = sq_exec(q,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                 "PRAGMA foreign_keys=ON;",
                 err);
    if (rc != 0) {
        sq_close(q);
        return rc;
    }
    pv__sqlite_wal_attach(q->db, q->path);
    s->be = &sqlite_backend;
    s->db = q;
    return 0;
}
