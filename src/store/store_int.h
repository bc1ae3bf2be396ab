/*
 * store_int.h — the map of src/store, private to it: the handle, the backend
 * interface every database implements, and the statement helpers the entity
 * files (store_*.c) are written with.
 *
 * The entity code is written once. Its SQL keeps to the common subset of
 * SQLite 3.40 and PostgreSQL 15 and numbers its parameters $1, $2...
 * (PostgreSQL's syntax; the SQLite backend rewrites them to ?1, ?2...,
 * outside string literals). A backend prepares
 * each SQL text once per connection and caches it, keyed by the address of
 * the static string, so a hot query costs a bind and a step. A text that
 * begins with PV_SQL_PLAN_PER_CALL is planned anew at each call on
 * PostgreSQL, with its values (a search whose best index depends on them:
 * a prepared statement's generic plan must guess how rare a value is).
 *
 * Values are bound through pv__val arrays built with PV_I/PV_T/PV_B — never
 * formatted into SQL text (no injection by construction).
 */
#ifndef PV_STORE_STORE_INT_H
#define PV_STORE_STORE_INT_H

#include "store/migrations.h"
#include "store/secrets.h"
#include "store/store.h"

#include <pthread.h>

typedef struct pv__stmt pv__stmt; /* a backend's prepared statement */

/* The marker (an SQL comment, so SQLite reads past it) of a statement planned per call. */
#define PV_SQL_PLAN_PER_CALL "/* plan per call */ "

typedef struct pv__store_backend {
    const char *name;
    pv_sql_dialect dialect; /* how migrations spell {id} and {blob} */
    void (*close)(void *db);
    /* Runs a script of statements without parameters (migrations, BEGIN). */
    int (*exec)(void *db, const char *sql, pv_error *err);
    /* A cached, reset statement for sql (a static string). */
    int (*prepare)(void *db, const char *sql, pv__stmt **out, pv_error *err);
    int (*bind_int)(pv__stmt *st, int idx, int64_t v);
    int (*bind_text)(pv__stmt *st, int idx, const char *v); /* NULL binds NULL */
    int (*bind_blob)(pv__stmt *st, int idx, const void *p, size_t n);
    /* 1 = a row is ready, 0 = done, < 0 = PV_E* (err filled). */
    int (*step)(pv__stmt *st, pv_error *err);
    void (*reset)(pv__stmt *st);
    int64_t (*col_int)(pv__stmt *st, int col);
    const char *(*col_text)(pv__stmt *st, int col); /* NULL for NULL */
    const void *(*col_blob)(pv__stmt *st, int col, size_t *len);
    /* Rows changed by the last finished write statement. */
    int64_t (*changes)(void *db);
    /* Statements sent to the database so far (pv_store_statements). */
    uint64_t (*statements)(void *db);
    const char *begin_sql; /* "BEGIN IMMEDIATE" for SQLite: take the write lock up front */
    int (*check)(void *db, pv_buf *report, pv_error *err);
    int (*backup)(void *db, const char *path, pv_error *err);
} pv__store_backend;

struct pv_store {
    const pv__store_backend *be;
    void *db;
    int tx_depth;          /* 0 = autocommit; > 1 = savepoints inside a transaction */
    pthread_t tx_thread;   /* the thread that began the transaction (tx_depth > 0) */
    pv_secrets *secrets;   /* NULL until pv_store_secrets_load() */
    unsigned reports_keep; /* reports kept per device (pv_store_set_reports_per_device) */
    bool wrote;            /* a write statement ran since the last commit (pv_store_write_epoch) */
    bool quiet;            /* its commits do not count (pv_store_quiet_writes) */
};

/* A write committed on s: counts towards pv_store_write_epoch unless s is quiet. */
void pv__wrote_committed(pv_store *s);

/* Bound values. */
typedef struct pv__val {
    char type; /* 'i' integer, 't' text, 'b' blob, 'n' NULL */
    int64_t i;
    const void *p;
    size_t n;
} pv__val;

#define PV_I(x) ((pv__val){'i', (int64_t)(x), NULL, 0})
#define PV_T(x) ((pv__val){'t', 0, (x), 0})
#define PV_B(ptr, len) ((pv__val){'b', 0, (ptr), (len)})
/* An integer that is NULL when zero (optional foreign keys, unset times). */
#define PV_IZ(x) ((x) != 0 ? PV_I(x) : (pv__val){'n', 0, NULL, 0})
#define PV_ARGS(...)                                                                               \
    (const pv__val[]){__VA_ARGS__}, sizeof((pv__val[]){__VA_ARGS__}) / sizeof(pv__val)
#define PV_NOARGS NULL, 0

/* Prepares (from cache), binds and returns the statement ready for pv__next. */
int pv__query(pv_store *s, const char *sql, const pv__val *args, size_t nargs, pv__stmt **out,
              pv_error *err);
/* 1 = row, 0 = done (statement reset), < 0 error (statement reset). */
int pv__next(pv_store *s, pv__stmt *st, pv_error *err);
/* Resets a statement whose rows were not all read; NULL is fine. */
void pv__done(pv_store *s, pv__stmt *st);
/* Runs a statement to completion; *changes (may be NULL) = rows changed. */
int pv__exec(pv_store *s, const char *sql, const pv__val *args, size_t nargs, int64_t *changes,
             pv_error *err);
/* Runs a statement expected to return at most one row and reads its first
 * column as an integer: PV_ENOENT when there is no row. */
int pv__int(pv_store *s, const char *sql, const pv__val *args, size_t nargs, int64_t *out,
            pv_error *err);

/* Reads the one row sql returns into row (zeroed first, size bytes) with
 * read: 0, PV_ENOENT when there is no row (err not filled: the caller names
 * what is missing), or another PV_E* code. */
int pv__get(pv_store *s, const char *sql, const pv__val *args, size_t nargs,
            void (*read)(pv_store *s, pv__stmt *st, void *row), void *row, size_t size,
            pv_error *err);

int64_t pv__col_int(pv_store *s, pv__stmt *st, int col);
/* A pv_malloc'd copy of a text column, or NULL for NULL. */
char *pv__col_dup(pv_store *s, pv__stmt *st, int col);
/* Copies a text column into a fixed buffer (truncating, "" for NULL). */
void pv__col_copy(pv_store *s, pv__stmt *st, int col, char *dst, size_t size);
const void *pv__col_blob(pv_store *s, pv__stmt *st, int col, size_t *len);

/* Page limit (default/clamped) and the SQL bound for it: limit + 1 rows are
 * fetched so that the list knows whether another page follows. */
size_t pv__page_limit(const pv_store_page *page);
/* The page's cursor as an integer (0 when empty); PV_EINVAL when not a number. */
int pv__page_after_int(const pv_store_page *page, int64_t *out, pv_error *err);

/* Collects list rows: grows *rows by one zeroed element and returns it. */
void *pv__rows_push(void **rows, size_t *n, size_t *cap, size_t size);

/*
 * One page of a list. sql must end with `LIMIT $k` and args must end with
 * PV_I(pv__page_limit(page) + 1): the extra row tells whether a next page
 * exists. Each row is read by spec->read; column spec->key_col is the cursor.
 * On failure the rows read so far are freed with spec->free_row.
 */
typedef struct pv__list_spec {
    size_t row_size;
    void (*read)(pv_store *s, pv__stmt *st, void *row);
    void (*free_row)(void *row);
    int key_col;
} pv__list_spec;
int pv__list(pv_store *s, const pv__list_spec *spec, const char *sql, const pv__val *args,
             size_t nargs, pv_store_page *page, void **rows, size_t *n, pv_error *err);

/*
 * The columns of each entity in the order its reader takes them, and the
 * readers, which take them from column base on (0 for the entity's own
 * queries; further right in the one statement of a render, store_render.c).
 */
/* Each list is also spelled COLS_AS(T), T(column) around each column: the
 * render's one statement spells them as text on PostgreSQL so that every kind
 * of row can share the same columns (store_render.c). */
#define PV_COL(c) #c
#define DEVICE_COLS_AS(T)                                                                          \
    T(mac) ", " T(serial) ", " T(model) ", " T(account_id) ", " T(cert_fingerprint) ", "           \
    T(require_cert) ", " T(state) ", " T(last_seen) ", " T(firmware_version) ", "                  \
    T(last_report_id) ", " T(served_version) ", " T(served_hash) ", " T(version) ", "              \
    T(created_at) ", " T(updated_at) ", " T(last_address)
#define ACCOUNT_COLS_AS(T)                                                                         \
    T(id) ", " T(name) ", " T(customer) ", " T(settings) ", " T(version) ", " T(created_at) ", "   \
    T(updated_at)
#define SET_COLS_AS(T) T(id) ", " T(scope) ", " T(version) ", " T(updated_at)
#define ENTRY_COLS_AS(T) T(name) ", " T(value) ", " T(ua)
#define PLAN_COLS_AS(T)                                                                            \
    T(model) ", " T(target_version) ", " T(stages) ", " T(version) ", " T(updated_at)
#define FW_COLS_AS(T)                                                                              \
    T(id) ", " T(model) ", " T(version) ", " T(file_name) ", " T(sha256) ", " T(size) ", "         \
    T(kind) ", " T(files) ", " T(created_at)
/* B around the two blob columns. */
#define SECRET_COLS_AS(T, B)                                                                       \
    T(id) ", " B(key_sealed) ", " B(dir_sealed) ", " T(created_at) ", " T(confirmed_at)
#define ROLLOUT_VIEW_COLS_AS(T)                                                                    \
    T(r.id) ", " T(r.state) ", " T(m.state) ", " T(m.served_at) ", " T(r.from_version) ", "        \
    T(r.to_version) ", " T(r.steps)
#define DEVICE_COLS DEVICE_COLS_AS(PV_COL)
#define ACCOUNT_COLS ACCOUNT_COLS_AS(PV_COL)
#define SET_COLS SET_COLS_AS(PV_COL)
#define ENTRY_COLS ENTRY_COLS_AS(PV_COL)
#define PLAN_COLS PLAN_COLS_AS(PV_COL)
#define FW_COLS FW_COLS_AS(PV_COL)
#define SECRET_COLS SECRET_COLS_AS(PV_COL, PV_COL)
/* A device's view of a rollout (store_rollouts.h): FROM names its MAC parameter. */
#define ROLLOUT_VIEW_COLS ROLLOUT_VIEW_COLS_AS(PV_COL)
#define ROLLOUT_VIEW_FROM(mac)                                                                     \
    "FROM rollouts r LEFT JOIN rollout_members m ON m.rollout_id = r.id AND m.mac = " mac
void pv__read_device(pv_store *s, pv__stmt *st, int base, void *row);       /* pv_store_device */
void pv__read_account(pv_store *s, pv__stmt *st, int base, void *row);      /* pv_store_account */
void pv__read_param_set(pv_store *s, pv__stmt *st, int base, void *row);    /* without entries */
void pv__read_plan(pv_store *s, pv__stmt *st, int base, void *row);         /* pv_store_plan */
void pv__read_firmware(pv_store *s, pv__stmt *st, int base, void *row);     /* pv_store_firmware */
void pv__read_rollout_view(pv_store *s, pv__stmt *st, int base, void *row); /* rollout view */
/* An entry of scope's set, a sealed secret value opened (pv__param_open). */
int pv__read_param_entry(pv_store *s, pv__stmt *st, int base, const char *scope, pv_store_param *p,
                         pv_error *err);
/* A device secret of mac, its key and directory unsealed under the master key. */
int pv__secret_unseal(pv_store *s, pv__stmt *st, int base, const char *mac, pv_store_secret *out,
                      pv_error *err);

/* PV_ENOENT with the message every device lookup gives: "device M: no such device". */
int pv__no_device(const char *mac, pv_error *err);

/* Hex SHA-256 of a string, for codes and tokens (65 bytes with the NUL). */
void pv__sha256_hex(const char *s, char out[65]);

/* A JSON text that must be an object (what = column, for the message). */
int pv__json_check(const char *json, char want /* '{' or '[' */, const char *what, pv_error *err);

/* Puts "context: " before the message already in err; returns rc. */
int pv__wrap(pv_error *err, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Secret parameters (store_param_secrets.c). *sealed: the value to store instead, or NULL
 * to store value as given (not secret, or no master key loaded). */
int pv__param_seal(pv_store *s, const char *scope, const char *name, const char *value,
                   char **sealed, pv_error *err);
/* Replaces a sealed *value (pv_malloc'd) by its plaintext; a plain one is left alone. */
int pv__param_open(pv_store *s, const char *scope, const char *name, char **value, pv_error *err);
/* Seals every secret parameter still stored plain (after the master key is loaded). */
int pv__params_seal_plain(pv_store *s, pv_error *err);
/* Account settings: *sealed is the text to store instead (strings under secret-looking keys
 * sealed), or NULL to store settings as given. */
int pv__settings_seal(pv_store *s, const char *settings, char **sealed, pv_error *err);
/* Replaces *settings (pv_malloc'd) by its text with every sealed string opened. */
int pv__settings_open(pv_store *s, char **settings, pv_error *err);
/* Whether a settings text may hold a secret-looking key (a cheap text search). */
bool pv__settings_may_hold(const char *json);
/* Seals the secrets of every account's settings still stored plain (store_accounts.c). */
int pv__accounts_seal_plain(pv_store *s, pv_error *err);

#endif
