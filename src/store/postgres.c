/* postgres.c — the PostgreSQL backend of the store; see postgres.h and store_int.h. */
#include "store/postgres.h"

#include "core/alloc.h"
#include "store/store_int.h"

#include <ctype.h>
#include <stdatomic.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Statement cache: open addressing on the address of the SQL text, as in
 * sqlite.c: the store has well under a hundred distinct statements. */
#define CACHE_SLOTS 256
#define MAX_PARAMS 32 /* the widest statement binds 9 */
#define BYTEA_OID 17
#define BOOL_OID 16
/* Reconnect attempts are spaced across the process, not per handle: after a
 * failed attempt by any handle, none tries again for RECONNECT_SPACING_NS
 * (at most 100 attempts a second per process, however many loops and
 * requests: no connection storm), so the first request after the server is
 * back waits at most that long for its attempt — it succeeds, where a pause
 * of a second per handle answered it with the outage's error (issue 19 item
 * 2). An attempt that took long (a connect_timeout: the host is unreachable)
 * spaces the next ones RECONNECT_COST_FACTOR times its cost, at most
 * RECONNECT_PAUSE_MAX_NS, so loops do not take turns blocking on it. A
 * success clears the spacing: the other handles reconnect at once. */
#define RECONNECT_SPACING_NS 10000000LL /* 10 ms */
#define RECONNECT_SLOW_NS 1000000000LL  /* an attempt longer than this timed out */
#define RECONNECT_COST_FACTOR 4
#define RECONNECT_PAUSE_MAX_NS 1000000000LL

static _Atomic int64_t next_attempt_ns; /* process-wide: no attempt before (monotonic) */

typedef struct pv__pg pv__pg;

typedef struct pv__blob {
    unsigned char *p; /* PQfreemem'd */
    size_t n;
} pv__blob;

struct pv__stmt {
    pv__pg *pg;
    const char *sql;
    unsigned gen;  /* the connection generation it was prepared on; 0 = not yet */
    char name[16]; /* "pvN": the server-side prepared statement */
    bool per_call; /* PV_SQL_PLAN_PER_CALL: sent with its values each time, never prepared */
    int nparams;
    const char *values[MAX_PARAMS];
    int lengths[MAX_PARAMS], formats[MAX_PARAMS];
    char ints[MAX_PARAMS][24]; /* integers bound as decimal text */
    PGresult *res;             /* NULL until the first step */
    int row, nrows;
    pv__blob *blobs; /* decoded bytea of the current row, per column */
    int nblobs;
};

typedef struct cache_slot {
    const char *sql;
    pv__stmt *st;
} cache_slot;

struct pv__pg {
    PGconn *conn;
    const int *tx_depth; /* the pv_store's: reconnect only outside a transaction */
    unsigned gen;        /* bumped by each reconnect: server-side statements are gone */
    bool broken;         /* the last reconnect failed: reset before the next use */
    bool just_lost;      /* the first attempt after a loss does not wait its turn */
    char lost[120];      /* why the connection was lost, for the reconnect message */
    char refused[120];   /* why the last reconnect failed */
    char where[160];     /* "postgres db D on H" for messages (never the password) */
    int64_t changes;
    uint64_t round_trips; /* pv_store_statements: each PQprepare, PQexecPrepared, PQexec */
    unsigned next_name;
    cache_slot cache[CACHE_SLOTS];
};

/* ---- errors ------------------------------------------------------------ */

/* SQLSTATE → PV_E* (PostgreSQL manual, appendix A "Error Codes"). */
static int map_sqlstate(const char *state)
{
    if (state == NULL)
        return PV_ESTORE;            /* no server answer: the connection is gone */
    if (strcmp(state, "23505") == 0) /* unique_violation */
        return PV_EEXIST;
    if (strcmp(state, "23503") == 0) /* foreign_key_violation: a referenced row is missing */
        return PV_ENOENT;
    if (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0)
        return PV_EINVAL; /* CHECK, NOT NULL, bad value: outside the schema's domain */
    /* serialization_failure, deadlock_detected, lock_not_available (lock_timeout):
     * the same class as SQLite's BUSY — the caller may try again. */
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0)
        return PV_EBUSY;
    return PV_ESTORE; /* 08 connection, 57 shutdown, 42 SQL, 53 resources, ... */
}

/* Fills err from res (may be NULL: then the connection's message). */
static int fail(pv__pg *pg, PGresult *res, pv_error *err)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    if (msg == NULL)
        msg = PQerrorMessage(pg->conn);
    int code = map_sqlstate(state);
    if (PQstatus(pg->conn) == CONNECTION_BAD)
        code = PV_ESTORE;
    /* libpq's own messages end with a newline; the message stays one line. */
    int len = (int)strcspn(msg, "\n");
    return pv_error_set(err, code, "%.*s%s%s (postgres SQLSTATE %s, %s)", len, msg,
                        detail != NULL ? ": " : "", detail != NULL ? detail : "",
                        state != NULL ? state : "none", pg->where);
}

/* ---- statements ---------------------------------------------------------- */

static void clear_row(pv__stmt *st)
{
    for (int i = 0; i < st->nblobs; i++)
        PQfreemem(st->blobs[i].p);
    free(st->blobs);
    st->blobs = NULL;
    st->nblobs = 0;
}

static void pg_reset(pv__stmt *st)
{
    clear_row(st);
    PQclear(st->res);
    st->res = NULL;
    st->row = -1;
    st->nrows = 0;
}

static void unbind(pv__stmt *st)
{
    for (int i = 0; i < MAX_PARAMS; i++) {
        st->values[i] = NULL; /* unbound parameters are NULL, as in SQLite */
        st->lengths[i] = 0;
        st->formats[i] = 0;
    }
}

/* The highest $n outside string literals: PQexecPrepared wants the count. */
static int count_params(const char *sql)
{
    int max = 0;
    bool quoted = false;
    for (const char *p = sql; *p != '\0'; p++) {
        if (*p == '\'')
            quoted = !quoted;
        else if (!quoted && *p == '$' && isdigit((unsigned char)p[1])) {
            int n = atoi(p + 1);
            max = n > max ? n : max;
        }
    }
    return max;
}

static int pg_prepare(void *db, const char *sql, pv__stmt **out, pv_error *err)
{
    pv__pg *pg = db;
    size_t h = ((uintptr_t)sql >> 3) % CACHE_SLOTS;
    while (pg->cache[h].sql != NULL && pg->cache[h].sql != sql)
        h = (h + 1) % CACHE_SLOTS;
    if (pg->cache[h].sql == NULL) {
        int n = count_params(sql);
        if (n > MAX_PARAMS)
            return pv_error_set(err, PV_EINVAL, "statement binds %d parameters, at most %d", n,
                                MAX_PARAMS);
        pv__stmt *st = pv_calloc(1, sizeof *st);
        st->pg = pg;
        st->sql = sql;
        st->nparams = n;
        st->per_call = strncmp(sql, PV_SQL_PLAN_PER_CALL, strlen(PV_SQL_PLAN_PER_CALL)) == 0;
        st->row = -1;
        (void)snprintf(st->name, sizeof st->name, "pv%u", pg->next_name++);
        pg->cache[h].sql = sql;
        pg->cache[h].st = st;
    }
    /* The server-side PQprepare happens at the first step on each
     * connection (run_prepared): after a reconnect the cache entries stay,
     * their server statements are prepared again. */
    pv__stmt *st = pg->cache[h].st;
    pg_reset(st);
    unbind(st);
    *out = st;
    return 0;
}

static int slot(pv__stmt *st, int idx)
{
    return idx >= 1 && idx <= st->nparams ? idx - 1 : -1;
}

static int pg_bind_int(pv__stmt *st, int idx, int64_t v)
{
    int i = slot(st, idx);
    if (i < 0)
        return PV_ERANGE;
    (void)snprintf(st->ints[i], sizeof st->ints[i], "%lld", (long long)v); /* fits: 20 digits */
    st->values[i] = st->ints[i];
    st->formats[i] = 0;
    return 0;
}

static int pg_bind_text(pv__stmt *st, int idx, const char *v)
{
    int i = slot(st, idx);
    if (i < 0)
        return PV_ERANGE;
    st->values[i] = v; /* the caller's text lives until the statement ran */
    st->formats[i] = 0;
    return 0;
}

static int pg_bind_blob(pv__stmt *st, int idx, const void *p, size_t n)
{
    int i = slot(st, idx);
    if (i < 0 || n > 0x7fffffff)
        return PV_ERANGE;
    st->values[i] = n > 0 ? p : ""; /* non-NULL: an empty blob is not NULL */
    st->lengths[i] = (int)n;
    st->formats[i] = 1; /* binary: bytea's binary form is the bytes themselves */
    return 0;
}

/* ---- running, and reconnecting a lost connection ------------------------- */

static int64_t now_ns(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* libpq's message in short, for the reconnect message: its first line,
 * without the "connection to server on socket ... failed: " and "FATAL:  "
 * prefixes (the where part of the message names the server). */
static void gist(const char *msg, char *out, size_t size)
{
    size_t len = strcspn(msg, "\n");
    for (const char *p; (p = strstr(msg, "failed: ")) != NULL && (size_t)(p - msg) < len;) {
        len -= (size_t)(p + 8 - msg);
        msg = p + 8;
    }
    if (strncmp(msg, "FATAL:  ", 8) == 0 && len >= 8) {
        msg += 8;
        len -= 8;
    }
    (void)snprintf(out, size, "%.*s", (int)len, msg); /* truncation: for people */
}

/* The settings every session of the store runs with (postgres.h). */
static const char sql_session[] = "SET lock_timeout = '5s'; SET client_encoding = 'UTF8'";

/* A new connection with the same parameters (PQreset: bounded by
 * connect_timeout), its session settings applied; the statements prepared
 * on the old one are forgotten (gen). err gets "PostgreSQL connection lost:
 * WHY; reconnect failed: WHY" on failure; a failed attempt is not repeated
 * for a pause in proportion to its cost (RECONNECT_COST_FACTOR), so a dead
 * server does not get a connection storm from every request of every loop. */
static bool attempt_turn(pv__pg *pg, int64_t now)
{
    if (pg->just_lost) {
        pg->just_lost = false;
        return true;
    }
    int64_t next = atomic_load(&next_attempt_ns);
    return now >= next &&
           atomic_compare_exchange_strong(&next_attempt_ns, &next, now + RECONNECT_SPACING_NS);
}

static int reconnect(pv__pg *pg, pv_error *err)
{
    int64_t start = now_ns();
    if (attempt_turn(pg, start)) {
        PQreset(pg->conn);
        pg->gen++;
        PGresult *res = NULL;
        if (PQstatus(pg->conn) == CONNECTION_OK) {
            res = PQexec(pg->conn, sql_session);
            if (PQresultStatus(res) == PGRES_COMMAND_OK) {
                PQclear(res);
                pg->broken = false;
                atomic_store(&next_attempt_ns, 0); /* the others may reconnect at once */
                return 0;
            }
        }
        gist(res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(pg->conn), pg->refused,
             sizeof pg->refused);
        PQclear(res);
        /* A session without its settings is not used: the next call resets it. */
        pg->broken = true;
        /* The spacing counts from the end of the attempt: a slow machine
         * does not turn it into back-to-back attempts. */
        int64_t end = now_ns(), cost = end - start, pause = RECONNECT_SPACING_NS;
        if (cost > RECONNECT_SLOW_NS)
            pause = cost * RECONNECT_COST_FACTOR < RECONNECT_PAUSE_MAX_NS
                        ? cost * RECONNECT_COST_FACTOR
                        : RECONNECT_PAUSE_MAX_NS;
        atomic_store(&next_attempt_ns, end + pause);
    }
    return pv_error_set(err, PV_ESTORE, "PostgreSQL connection lost: %s; reconnect failed: %s (%s)",
                        pg->lost, pg->refused, pg->where);
}

/* Whether the connection must be replaced before use, and may be: never
 * inside a transaction, whose work went with the connection — the caller
 * must hear of it and roll back; the next statement after that reconnects. */
static bool must_reconnect(const pv__pg *pg)
{
    return (pg->broken || PQstatus(pg->conn) == CONNECTION_BAD) && *pg->tx_depth == 0;
}

typedef PGresult *(*pg_call)(pv__pg *pg, void *arg);

/*
 * Runs call (one round trip) and returns its result in *out (0), or PV_E*
 * with err filled. A connection found lost before the call, or lost by the
 * call, is reset outside a transaction and the call runs once more: a
 * PostgreSQL restart or an idle kill costs the caller nothing. A write whose
 * answer was lost in the cut may have been applied; run again it then fails
 * on a unique key (PV_EEXIST) or, for an INSERT without one (reports),
 * leaves a second row. docs/store.md "Lost connections".
 */
static int run(pv__pg *pg, pg_call call, void *arg, PGresult **out, pv_error *err)
{
    *out = NULL;
    bool fresh = false; /* on a fresh connection a failure is the statement's own */
    if (must_reconnect(pg)) {
        int rc = reconnect(pg, err);
        if (rc != 0)
            return rc;
        fresh = true;
    }
    for (;;) {
        PGresult *res = call(pg, arg);
        ExecStatusType status = PQresultStatus(res);
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
            *out = res;
            return 0;
        }
        pv_error why;
        int rc = fail(pg, res, &why);
        if (PQstatus(pg->conn) == CONNECTION_BAD) {
            gist(res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(pg->conn), pg->lost,
                 sizeof pg->lost);
            pg->just_lost = true; /* the first attempt after a loss is immediate */
        }
        PQclear(res);
        if (fresh || !must_reconnect(pg)) {
            if (err != NULL)
                *err = why;
            return rc;
        }
        if ((rc = reconnect(pg, err)) != 0)
            return rc;
        fresh = true;
    }
}

static PGresult *call_prepared(pv__pg *pg, void *arg)
{
    pv__stmt *st = arg;
    if (st->per_call) { /* the unnamed statement: planned with these values, one round trip */
        pg->round_trips++;
        return PQexecParams(pg->conn, st->sql, st->nparams, NULL, st->values, st->lengths,
                            st->formats, 0);
    }
    if (st->gen != pg->gen) {
        /* Types are left to the server to infer from where each $n stands. */
        pg->round_trips++;
        PGresult *res = PQprepare(pg->conn, st->name, st->sql, st->nparams, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            return res;
        PQclear(res);
        st->gen = pg->gen;
    }
    pg->round_trips++;
    return PQexecPrepared(pg->conn, st->name, st->nparams, st->values, st->lengths, st->formats, 0);
}

static PGresult *call_script(pv__pg *pg, void *arg)
{
    pg->round_trips++;
    return PQexec(pg->conn, arg);
}

static int pg_step(pv__stmt *st, pv_error *err)
{
    pv__pg *pg = st->pg;
    if (st->res == NULL) {
        int rc = run(pg, call_prepared, st, &st->res, err);
        if (rc != 0) {
            pg_reset(st);
            return rc;
        }
        const char *n = PQcmdTuples(st->res); /* "" for statements without a count */
        pg->changes = n[0] != '\0' ? strtoll(n, NULL, 10) : 0;
        st->nrows = PQntuples(st->res);
        st->row = -1;
    }
    clear_row(st);
    if (st->row + 1 >= st->nrows)
        return 0;
    st->row++;
    return 1;
}

static bool null_at(pv__stmt *st, int col)
{
    return st->res == NULL || st->row < 0 || st->row >= st->nrows || col < 0 ||
           col >= PQnfields(st->res) || PQgetisnull(st->res, st->row, col);
}

static int64_t pg_col_int(pv__stmt *st, int col)
{
    if (null_at(st, col))
        return 0; /* as sqlite3_column_int64 on NULL */
    const char *v = PQgetvalue(st->res, st->row, col);
    if (PQftype(st->res, col) == BOOL_OID)
        return v[0] == 't';
    return strtoll(v, NULL, 10);
}

static const char *pg_col_text(pv__stmt *st, int col)
{
    return null_at(st, col) ? NULL : PQgetvalue(st->res, st->row, col);
}

static const void *pg_col_blob(pv__stmt *st, int col, size_t *len)
{
    *len = 0;
    if (null_at(st, col))
        return NULL;
    const char *v = PQgetvalue(st->res, st->row, col);
    if (PQftype(st->res, col) != BYTEA_OID) {
        *len = (size_t)PQgetlength(st->res, st->row, col);
        return v;
    }
    /* Text results spell bytea in hex (\x...): decoded once per row and
     * column, kept until the next step or reset like SQLite's pointer. */
    if (st->blobs == NULL) {
        st->nblobs = PQnfields(st->res);
        st->blobs = pv_calloc((size_t)st->nblobs, sizeof *st->blobs);
    }
    pv__blob *b = &st->blobs[col];
    if (b->p == NULL) {
        b->p = PQunescapeBytea((const unsigned char *)v, &b->n);
        if (b->p == NULL) /* libpq fails here only when out of memory */
            abort();
    }
    *len = b->n;
    return b->p;
}

static int64_t pg_changes(void *db)
{
    return ((pv__pg *)db)->changes;
}

static uint64_t pg_statements(void *db)
{
    return ((pv__pg *)db)->round_trips;
}

/* ---- connection ------------------------------------------------------------ */

static void pg_close(void *db)
{
    pv__pg *pg = db;
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        if (pg->cache[i].st != NULL) {
            pg_reset(pg->cache[i].st);
            free(pg->cache[i].st);
        }
    }
    PQfinish(pg->conn);
    free(pg);
}

static int pg_exec(void *db, const char *sql, pv_error *err)
{
    pv__pg *pg = db;
    /* A script of several statements runs as one simple query: PQexec
     * returns the last result, or the first failure. */
    PGresult *res = NULL;
    int rc = run(pg, call_script, (void *)sql, &res, err);
    /* COMMIT of a transaction that failed earlier answers "ROLLBACK": the
     * writes are gone, which a caller must hear about. */
    if (rc == 0 && strcmp(sql, "COMMIT") == 0 && strcmp(PQcmdStatus(res), "ROLLBACK") == 0)
        rc = pv_error_set(err, PV_ESTORE,
                          "commit rolled back: a statement of the transaction failed (%s)",
                          pg->where);
    PQclear(res);
    return rc;
}

/* Problems PostgreSQL itself can have although it enforces the schema:
 * constraints added NOT VALID and never validated, invalid indexes (a
 * failed CREATE INDEX CONCURRENTLY). One line each in report. */
static const char sql_check[] =
    "SELECT 'constraint not validated: ' || conrelid::regclass::text || ' ' || conname "
    "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
    "WHERE NOT c.convalidated AND n.nspname = current_schema() "
    "UNION ALL "
    "SELECT 'index not valid: ' || i.indexrelid::regclass::text FROM pg_index i "
    "JOIN pg_class r ON r.oid = i.indrelid JOIN pg_namespace n ON n.oid = r.relnamespace "
    "WHERE NOT i.indisvalid AND n.nspname = current_schema() LIMIT 50";

static int pg_check(void *db, pv_buf *report, pv_error *err)
{
    pv__pg *pg = db;
    PGresult *res = NULL;
    int rc = run(pg, call_script, (void *)sql_check, &res, err);
    if (rc != 0)
        return rc;
    int problems = PQntuples(res);
    for (int i = 0; i < problems; i++)
        pv_buf_appendf(report, "%s\n", PQgetvalue(res, i, 0));
    PQclear(res);
    if (problems > 0)
        return pv_error_set(err, PV_ESTORE, "%s: %d integrity problem(s)", pg->where, problems);
    return 0;
}

static int pg_backup(void *db, const char *path, pv_error *err)
{
    pv__pg *pg = db;
    return pv_error_set(err, PV_ENOTSUP,
                        "%s: provisor backs up SQLite only; back up PostgreSQL with its own "
                        "tool: pg_dump -Fc -f %s '<the same connection string>'",
                        pg->where, path);
}

static const pv__store_backend postgres_backend = {
    .name = "postgres",
    .dialect = PV_SQL_POSTGRES,
    .close = pg_close,
    .exec = pg_exec,
    .prepare = pg_prepare,
    .bind_int = pg_bind_int,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .step = pg_step,
    .reset = pg_reset,
    .col_int = pg_col_int,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
    .changes = pg_changes,
    .statements = pg_statements,
    /* postgres.h: one explicit transaction at a time per database, as SQLite's
     * BEGIN IMMEDIATE; released by COMMIT or ROLLBACK. */
    .begin_sql = "BEGIN; SELECT pg_advisory_xact_lock(8102661233958940530)",
    .check = pg_check,
    .backup = pg_backup,
};

_Static_assert(PV_PG_LOCK == 8102661233958940530LL, "begin_sql spells PV_PG_LOCK");

bool pv__pg_url(const char *url)
{
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
        return true;
    /* libpq keyword string: "host=... dbname=..." (a path never starts
     * with a bare word followed by '=' before any '/'). */
    const char *p = url;
    while (*p == ' ')
        p++;
    const char *word = p;
    while (isalpha((unsigned char)*p) || *p == '_')
        p++;
    if (p == word)
        return false;
    while (*p == ' ')
        p++;
    return *p == '=';
}

static void no_notices(void *arg, const char *message)
{
    /* "relation already exists, skipping" and such: not for the terminal. */
}

int pv__pg_open(const char *url, pv_store *s, pv_error *err)
{
    /* Defaults first: libpq lets a later value of the same key win, and the
     * connection string (expanded from dbname) comes last. Over TCP, keepalives
     * and tcp_user_timeout bound how long a loop thread can wait on a server
     * that vanished from the network (about 30 s instead of the kernel's two
     * hours); libpq ignores them on a unix socket. */
    const char *const keys[] = {"connect_timeout",
                                "application_name",
                                "keepalives",
                                "keepalives_idle",
                                "keepalives_interval",
                                "keepalives_count",
                                "tcp_user_timeout",
                                "dbname",
                                NULL};
    const char *const vals[] = {"10", "provisor", "1", "15", "5", "3", "30000", url, NULL};
    pv__pg *pg = pv_calloc(1, sizeof *pg);
    pg->conn = PQconnectdbParams(keys, vals, 1);
    if (pg->conn == NULL) /* libpq returns NULL only when out of memory */
        abort();
    if (PQstatus(pg->conn) != CONNECTION_OK) {
        const char *msg = PQerrorMessage(pg->conn);
        int rc = pv_error_set(err, PV_ESTORE, "cannot connect to PostgreSQL: %.*s",
                              (int)strcspn(msg, "\n"), msg);
        pg_close(pg);
        return rc;
    }
    const char *host = PQhost(pg->conn);
    (void)snprintf(pg->where, sizeof pg->where, "postgres db %.60s on %.80s", PQdb(pg->conn),
                   host != NULL && host[0] != '\0' ? host : "the default socket");
    PQsetNoticeProcessor(pg->conn, no_notices, NULL);
    pg->tx_depth = &s->tx_depth;
    pg->gen = 1;
    int rc = pg_exec(pg, sql_session, err);
    if (rc == 0 && PQserverVersion(pg->conn) < 150000)
        rc = pv_error_set(err, PV_ENOTSUP, "%s: PostgreSQL %d is too old; want 15 or newer",
                          pg->where, PQserverVersion(pg->conn) / 10000);
    if (rc != 0) {
        pg_close(pg);
        return rc;
    }
    s->be = &postgres_backend;
    s->db = pg;
    return 0;
}
