/*
 * store.c — opening a store, transactions, the statement helpers of
 * store_int.h, validation shared by the entity files, and maintenance
 * (check, backup, meta values). See store.h.
 */
#include "store/store.h"

#include "core/alloc.h"
#include "core/log.h"
#include "core/text.h"
#include "store/postgres.h"
#include "store/sqlite.h"
#include "store/store_int.h"

#include <assert.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- open and close --------------------------------------------------- */

/* Creates schema_version when missing. On PostgreSQL two nodes starting at
 * once would race on CREATE TABLE IF NOT EXISTS (the loser fails on the
 * catalog's unique index), so it runs in a transaction, which takes the
 * store's advisory lock there (postgres.h). SQLite needs no lock for it. */
static int bootstrap(pv_store *s, pv_error *err)
{
    if (s->be->dialect != PV_SQL_POSTGRES)
        return s->be->exec(s->db, pv_migrations_bootstrap, err);
    int rc = pv_store_begin(s, err);
    if (rc != 0)
        return rc;
    rc = s->be->exec(s->db, pv_migrations_bootstrap, err);
    if (rc != 0) {
        pv_store_rollback(s);
        return rc;
    }
    return pv_store_commit(s, err);
}

int pv_store_open(const char *url, pv_store **out, pv_error *err)
{
    *out = NULL;
    if (url == NULL || url[0] == '\0')
        return pv_error_set(err, PV_EINVAL,
                            "no database given (a path, sqlite:PATH or "
                            "postgres://...)");
    const char *path = url;
    bool postgres = pv__pg_url(url);
    if (strncmp(url, "sqlite:", 7) == 0)
        path = url + 7;
    else if (!postgres && strstr(url, "://") != NULL)
        return pv_error_set(err, PV_EINVAL,
                            "%.60s: unknown database scheme; want a path, sqlite:PATH, "
                            "postgres://... or a libpq keyword string",
                            url);
    if (path[0] == '\0')
        return pv_error_set(err, PV_EINVAL, "%s: empty database path", url);

    pv_store *s = pv_calloc(1, sizeof *s);
    s->reports_keep = PV_STORE_REPORTS_PER_DEVICE;
    int rc = postgres ? pv__pg_open(url, s, err) : pv__sqlite_open(path, s, err);
    if (rc != 0) {
        free(s);
        return rc;
    }
    if (postgres)
        path = "the PostgreSQL database"; /* the URL may hold a password */
    /* The version table exists from the first open, so every later question
     * about the schema is a plain query on any backend. */
    int64_t have = 0;
    rc = bootstrap(s, err);
    if (rc == 0)
        rc = pv_store_schema_version(s, &have, err);
    if (rc == 0 && have > pv_store_schema_known())
        rc = pv_error_set(err, PV_ECONFLICT,
                          "%s: database schema version %lld is newer than this program knows "
                          "(%lld); use a newer provisor or restore a backup",
                          path, (long long)have, (long long)pv_store_schema_known());
    if (rc != 0) {
        pv_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void pv_store_close(pv_store *s)
{
    if (s == NULL)
        return;
    pv_error e = {""};
    if (s->tx_depth > 0 && /* a transaction left open is abandoned, not committed */
        s->be->exec(s->db, "ROLLBACK", &e) != 0)
        pv_logf(PV_LOG_ERROR, "store.rollback_failed", "backend=%s depth=%d error=\"%s\"",
                s->be->name, s->tx_depth, e.msg);
    s->be->close(s->db);
    pv_secrets_free(s->secrets);
    free(s);
}

void pv_store_set_reports_per_device(pv_store *s, unsigned n)
{
    s->reports_keep = n != 0 ? n : PV_STORE_REPORTS_PER_DEVICE;
}

const char *pv_store_backend(const pv_store *s)
{
    return s->be->name;
}

bool pv_store_url_is_postgres(const char *url)
{
    return url != NULL && pv__pg_url(url);
}

void pv_store_url_redact(const char *url, char *out, size_t size)
{
    pv_buf b = {0};
    const char *p = url;
    if (pv__pg_url(url)) {
        /* libpq URL: scheme://user:password@host... (RFC 3986 userinfo). */
        const char *rest = strstr(url, "://");
        const char *at = rest != NULL ? strchr(rest + 3, '@') : NULL;
        const char *colon = rest != NULL ? strchr(rest + 3, ':') : NULL;
        if (at != NULL && colon != NULL && colon < at) {
            pv_buf_append(&b, url, (size_t)(colon + 1 - url));
            pv_buf_append_str(&b, "***");
            p = at;
        }
        /* Keyword string or URL query: password=VALUE ('quoted' or up to a
         * space or '&'). */
        const char *pw;
        while ((pw = strstr(p, "password=")) != NULL) {
            pv_buf_append(&b, p, (size_t)(pw + 9 - p));
            pv_buf_append_str(&b, "***");
            p = pw + 9;
            if (*p == '\'') {
                const char *q = strchr(p + 1, '\'');
                p = q != NULL ? q + 1 : p + strlen(p);
            } else {
                p += strcspn(p, " &");
            }
        }
    }
    pv_buf_append_str(&b, p);
    (void)snprintf(out, size, "%s", b.data); /* truncation: for people only */
    pv_buf_free(&b);
}

/* ---- transactions ------------------------------------------------------ */

/* The owner-thread contract (store.h): a handle is used by one thread at a time and moves
 * between threads only between transactions, so every call inside a transaction comes from
 * the thread that began it. */
static void assert_owner(const pv_store *s)
{
    assert(s != NULL);
    assert(s->tx_depth >= 0);
    assert(s->tx_depth == 0 || pthread_equal(s->tx_thread, pthread_self()));
}

int pv_store_begin(pv_store *s, pv_error *err)
{
    assert_owner(s);
    if (s->tx_depth == 0)
        s->tx_thread = pthread_self();
    char sql[96];
    if (s->tx_depth == 0)
        (void)snprintf(sql, sizeof sql, "%s", s->be->begin_sql);
    else
        (void)snprintf(sql, sizeof sql, "SAVEPOINT pv%d", s->tx_depth);
    int rc = s->be->exec(s->db, sql, err);
    if (rc == 0)
        s->tx_depth++;
    return rc;
}

int pv_store_commit(pv_store *s, pv_error *err)
{
    assert_owner(s);
    if (s->tx_depth == 0)
        return pv_error_set(err, PV_EINVAL, "commit without a transaction");
    char sql[32];
    if (s->tx_depth == 1)
        (void)snprintf(sql, sizeof sql, "COMMIT");
    else
        (void)snprintf(sql, sizeof sql, "RELEASE pv%d", s->tx_depth - 1);
    int rc = s->be->exec(s->db, sql, err);
    if (rc != 0) {
        pv_store_rollback(s);
        return rc;
    }
    s->tx_depth--;
    if (s->tx_depth == 0)
        pv__wrote_committed(s);
    return 0;
}

void pv_store_rollback(pv_store *s)
{
    assert_owner(s);
    if (s->tx_depth == 0)
        return;
    char sql[64];
    if (s->tx_depth == 1)
        (void)snprintf(sql, sizeof sql, "ROLLBACK");
    else
        (void)snprintf(sql, sizeof sql, "ROLLBACK TO pv%d; RELEASE pv%d", s->tx_depth - 1,
                       s->tx_depth - 1);
    /* The caller is already failing with its own error; a rollback that fails too (the
     * connection is gone, or SQLite already rolled back after a full disk) must still be
     * seen: the next statement finds a transaction in a state nobody chose. */
    pv_error e = {""};
    if (s->be->exec(s->db, sql, &e) != 0)
        pv_logf(PV_LOG_ERROR, "store.rollback_failed", "backend=%s depth=%d error=\"%s\"",
                s->be->name, s->tx_depth, e.msg);
    s->tx_depth--;
    if (s->tx_depth == 0)
        s->wrote = false; /* nothing of it was committed */
}

/* ---- statements --------------------------------------------------------- */

uint64_t pv_store_statements(const pv_store *s)
{
    return s->be->statements(s->db);
}

int pv__query(pv_store *s, const char *sql, const pv__val *args, size_t nargs, pv__stmt **out,
              pv_error *err)
{
    assert_owner(s);
    assert(sql != NULL && out != NULL && (nargs == 0 || args != NULL));
    pv__stmt *st = NULL;
    /* Every write of the entity files is spelled INSERT, UPDATE, DELETE or REPLACE
     * (pv_store_write_epoch); a read never starts with one of these letters. */
    if (sql[0] == 'I' || sql[0] == 'U' || sql[0] == 'D' || sql[0] == 'R')
        s->wrote = true;
    int rc = s->be->prepare(s->db, sql, &st, err);
    for (size_t i = 0; rc == 0 && i < nargs; i++) {
        int idx = (int)i + 1;
        switch (args[i].type) {
        case 'i':
            rc = s->be->bind_int(st, idx, args[i].i);
            break;
        case 't':
            rc = s->be->bind_text(st, idx, args[i].p);
            break;
        case 'b':
            rc = s->be->bind_blob(st, idx, args[i].p, args[i].n);
            break;
        default:
            rc = s->be->bind_text(st, idx, NULL);
            break;
        }
        if (rc != 0)
            rc = pv_error_set(err, rc, "cannot bind parameter %d", idx);
    }
    if (rc != 0 && st != NULL)
        s->be->reset(st);
    *out = rc == 0 ? st : NULL;
    return rc;
}

int pv__next(pv_store *s, pv__stmt *st, pv_error *err)
{
    assert_owner(s);
    assert(st != NULL);
    int rc = s->be->step(st, err);
    if (rc != 1) {
        s->be->reset(st); /* releases SQLite's read snapshot at once */
        if (s->tx_depth == 0) { /* a statement outside a transaction commits by itself */
            if (rc == 0)
                pv__wrote_committed(s);
            s->wrote = false;
        }
    }
    return rc;
}

void pv__done(pv_store *s, pv__stmt *st)
{
    if (st != NULL)
        s->be->reset(st);
    if (s->tx_depth == 0 && s->wrote) { /* e.g. an INSERT ... RETURNING read for its id */
        pv__wrote_committed(s);
        s->wrote = false;
    }
}

int pv__exec(pv_store *s, const char *sql, const pv__val *args, size_t nargs, int64_t *changes,
             pv_error *err)
{
    pv__stmt *st = NULL;
    int rc = pv__query(s, sql, args, nargs, &st, err);
    while (rc == 0 && (rc = pv__next(s, st, err)) == 1)
        rc = 0; /* RETURNING rows are not wanted here */
    if (rc == 0 && changes != NULL)
        *changes = s->be->changes(s->db);
    return rc;
}

int pv__int(pv_store *s, const char *sql, const pv__val *args, size_t nargs, int64_t *out,
            pv_error *err)
{
    pv__stmt *st = NULL;
    int rc = pv__query(s, sql, args, nargs, &st, err);
    if (rc == 0)
        rc = pv__next(s, st, err);
    if (rc == 1) {
        *out = s->be->col_int(st, 0);
        pv__done(s, st);
        return 0;
    }
    return rc == 0 ? pv_error_set(err, PV_ENOENT, "no such row") : rc;
}

int pv__get(pv_store *s, const char *sql, const pv__val *args, size_t nargs,
            void (*read)(pv_store *s, pv__stmt *st, void *row), void *row, size_t size,
            pv_error *err)
{
    pv__stmt *st = NULL;
    int rc = pv__query(s, sql, args, nargs, &st, err);
    if (rc == 0)
        rc = pv__next(s, st, err);
    if (rc <= 0)
        return rc == 0 ? PV_ENOENT : rc;
    memset(row, 0, size);
    read(s, st, row);
    pv__done(s, st);
    return 0;
}

int64_t pv__col_int(pv_store *s, pv__stmt *st, int col)
{
    return s->be->col_int(st, col);
}

char *pv__col_dup(pv_store *s, pv__stmt *st, int col)
{
    const char *v = s->be->col_text(st, col);
    return v != NULL ? pv_strdup(v) : NULL;
}

void pv__col_copy(pv_store *s, pv__stmt *st, int col, char *dst, size_t size)
{
    const char *v = s->be->col_text(st, col);
    (void)snprintf(dst, size, "%s", v != NULL ? v : ""); /* truncation: bounded by the schema */
}

const void *pv__col_blob(pv_store *s, pv__stmt *st, int col, size_t *len)
{
    return s->be->col_blob(st, col, len);
}

int pv__wrap(pv_error *err, int rc, const char *fmt, ...)
{
    if (err == NULL)
        return rc;
    char ctx[128], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(ctx, sizeof ctx, fmt, ap); /* truncation acceptable: message for people */
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    return pv_error_set(err, rc, "%s: %s", ctx, old);
}

/* ---- pages and rows ------------------------------------------------------ */

size_t pv__page_limit(const pv_store_page *page)
{
    if (page->limit == 0)
        return 100;
    return page->limit > PV_STORE_PAGE_MAX ? PV_STORE_PAGE_MAX : page->limit;
}

int pv__page_after_int(const pv_store_page *page, int64_t *out, pv_error *err)
{
    *out = 0;
    if (page->after[0] == '\0')
        return 0;
    char *end = NULL;
    long long v = strtoll(page->after, &end, 10);
    if (end == page->after || *end != '\0' || v < 0)
        return pv_error_set(err, PV_EINVAL, "page cursor '%.20s' is not a row id", page->after);
    *out = v;
    return 0;
}

void *pv__rows_push(void **rows, size_t *n, size_t *cap, size_t size)
{
    if (*n == *cap) {
        *cap = *cap == 0 ? 16 : *cap * 2;
        *rows = pv_reallocarray(*rows, *cap, size);
    }
    char *row = (char *)*rows + *n * size;
    memset(row, 0, size);
    (*n)++;
    return row;
}

int pv__list(pv_store *s, const pv__list_spec *spec, const char *sql, const pv__val *args,
             size_t nargs, pv_store_page *page, void **rows, size_t *n, pv_error *err)
{
    size_t limit = pv__page_limit(page), cap = 0;
    *rows = NULL;
    *n = 0;
    pv__stmt *st = NULL;
    int rc = pv__query(s, sql, args, nargs, &st, err);
    bool more = false;
    char last[sizeof page->after] = "";
    while (rc == 0 && (rc = pv__next(s, st, err)) == 1) {
        rc = 0;
        if (*n == limit) {
            more = true;
            pv__done(s, st);
            break;
        }
        spec->read(s, st, pv__rows_push(rows, n, &cap, spec->row_size));
        pv__col_copy(s, st, spec->key_col, last, sizeof last);
    }
    if (rc < 0) {
        for (size_t i = 0; i < *n; i++)
            spec->free_row((char *)*rows + i * spec->row_size);
        free(*rows);
        *rows = NULL;
        *n = 0;
        return rc;
    }
    /* Cursor keys (ids, MACs, scopes, models) fit page->after: scopes and
     * models are checked against its size where they are written. */
    (void)snprintf(page->after, sizeof page->after, "%s", more ? last : "");
    return 0;
}

/* ---- validation ---------------------------------------------------------- */

void pv__sha256_hex(const char *s, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    (void)EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL);
    pv_hex_encode(md, 32, out);
}

/* Walks v; path holds where we are ("lines[0].user"), and is left there on a refusal. */
static int json_text(const json_t *v, pv_buf *path, const char *what, pv_error *err)
{
    size_t mark = path->len;
    int rc = 0;
    if (json_is_string(v)) {
        char field[256];
        (void)snprintf(field, sizeof field, "%s%s%s", what, what[0] ? ": " : "",
                       path->len ? path->data : "the value");
        rc = pv_text_check(pv_slice_make(json_string_value(v), json_string_length(v)),
                           PV_TEXT_VALUE, field, err);
    } else if (json_is_object(v)) {
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)v, key, item)
        {
            char field[256];
            (void)snprintf(field, sizeof field, "%s%sa key in %s", what, what[0] ? ": " : "",
                           path->len ? path->data : "the object");
            if ((rc = pv_text_check(pv_slice_from(key), PV_TEXT_NAME, field, err)) != 0)
                break;
            pv_buf_appendf(path, "%s%s", mark ? "." : "", key);
            if ((rc = json_text(item, path, what, err)) != 0)
                return rc;
            path->len = mark;
            path->data[mark] = '\0';
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; rc == 0 && i < json_array_size(v); i++) {
            pv_buf_appendf(path, "[%zu]", i);
            if ((rc = json_text(json_array_get(v, i), path, what, err)) != 0)
                return rc;
            path->len = mark;
            path->data[mark] = '\0';
        }
    }
    return rc;
}

int pv_store_json_text_check(const json_t *v, const char *what, char *where, size_t size,
                             pv_error *err)
{
    pv_buf path = {0};
    int rc = json_text(v, &path, what, err);
    if (where != NULL && size > 0)
        (void)snprintf(where, size, "%s", rc != 0 && path.data ? path.data : "");
    pv_buf_free(&path);
    return rc;
}

int pv__json_check(const char *json, char want, const char *what, pv_error *err)
{
    json_error_t je;
    json_t *v = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    if (v == NULL)
        return pv_error_set(err, PV_EINVAL, "%s: invalid JSON at line %d column %d: %s", what,
                            je.line, je.column, je.text);
    bool ok = want == '{' ? json_is_object(v) : json_is_array(v);
    int rc = ok ? pv_store_json_text_check(v, what, NULL, 0, err) : 0;
    json_decref(v);
    if (!ok)
        return pv_error_set(err, PV_EINVAL, "%s: must be a JSON %s", what,
                            want == '{' ? "object" : "array");
    return rc;
}

static const char *const state_names[] = {"MFG-RESET", "SP-CUST", "SEC-PRV-1", "SEC-PRV-2"};

const char *pv_store_state_name(pv_store_state st)
{
    return (unsigned)st < 4 ? state_names[st] : "?";
}

int pv_store_state_parse(const char *name, pv_store_state *out)
{
    for (int i = 0; i < 4; i++) {
        if (name != NULL && strcmp(name, state_names[i]) == 0) {
            *out = (pv_store_state)i;
            return 0;
        }
    }
    return PV_EINVAL;
}

int pv_store_mac_normalize(const char *in, char out[13], pv_error *err)
{
    size_t n = 0;
    for (const char *p = in; p != NULL && *p != '\0'; p++) {
        char c = *p;
        if ((c == ':' || c == '-') && n > 0 && n % 2 == 0 && p[1] != '\0')
            continue;
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (n == 12 || !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return pv_error_set(err, PV_EINVAL,
                                "MAC '%.40s': column %zu: want 12 hex digits, optionally "
                                "separated by ':' or '-'",
                                in, (size_t)(p - in) + 1);
        out[n++] = c;
    }
    out[n] = '\0';
    if (n != 12)
        return pv_error_set(err, PV_EINVAL, "MAC '%.40s': want 12 hex digits, got %zu",
                            in ? in : "", n);
    return 0;
}

int pv_store_scope_check(const char *scope, pv_error *err)
{
    if (scope == NULL)
        return pv_error_set(err, PV_EINVAL, "no parameter scope given");
    size_t len = strlen(scope);
    if (strcmp(scope, "global") == 0)
        return 0;
    if (len >= sizeof(((pv_store_page *)0)->after))
        return pv_error_set(err, PV_EINVAL, "scope '%.40s...': longer than %zu characters", scope,
                            sizeof(((pv_store_page *)0)->after) - 1);
    if (strncmp(scope, "model:", 6) == 0 && scope[6] != '\0')
        return pv_text_check(pv_slice_from(scope + 6), PV_TEXT_NAME, "scope model:<name>", err);
    if (strncmp(scope, "account:", 8) == 0 && scope[8] != '\0' &&
        strspn(scope + 8, "0123456789") == len - 8)
        return 0;
    if (strncmp(scope, "device:", 7) == 0) {
        char mac[13];
        if (pv_store_mac_normalize(scope + 7, mac, NULL) == 0 && strcmp(mac, scope + 7) == 0)
            return 0;
    }
    return pv_error_set(err, PV_EINVAL,
                        "scope '%.60s': want global, model:<name>, account:<id> or "
                        "device:<12 lower-case hex digits>",
                        scope);
}

/* ---- meta values ---------------------------------------------------------- */

static const char sql_meta_set[] = "INSERT INTO meta (name, value) VALUES ($1, $2) "
                                   "ON CONFLICT (name) DO UPDATE SET value = excluded.value";
static const char sql_meta_get[] = "SELECT value FROM meta WHERE name = $1";

int pv_store_meta_set(pv_store *s, const char *name, const void *value, size_t len, pv_error *err)
{
    int rc = pv__exec(s, sql_meta_set, PV_ARGS(PV_T(name), PV_B(value, len)), NULL, err);
    return rc != 0 ? pv__wrap(err, rc, "meta %s", name) : 0;
}

int pv_store_meta_get(pv_store *s, const char *name, pv_buf *out, pv_error *err)
{
    pv__stmt *st = NULL;
    int rc = pv__query(s, sql_meta_get, PV_ARGS(PV_T(name)), &st, err);
    if (rc == 0)
        rc = pv__next(s, st, err);
    if (rc == 0)
        return pv_error_set(err, PV_ENOENT, "meta %s: not set", name);
    if (rc < 0)
        return rc;
    size_t len = 0;
    const void *p = pv__col_blob(s, st, 0, &len);
    pv_buf_reset(out);
    pv_buf_append(out, p, len);
    pv__done(s, st);
    return 0;
}

/* ---- maintenance ---------------------------------------------------------- */

int pv_store_check(pv_store *s, pv_buf *report, pv_store_count *counts, size_t max, size_t *n,
                   pv_error *err)
{
    *n = 0;
    int64_t have = 0;
    int rc = pv_store_schema_version(s, &have, err);
    if (rc != 0)
        return rc;
    if (have < pv_store_schema_known())
        return pv_error_set(err, PV_ESTORE,
                            "schema version %lld, this program needs %lld: run "
                            "'provisor db migrate'",
                            (long long)have, (long long)pv_store_schema_known());
    rc = s->be->check(s->db, report, err);
    for (size_t i = 0; rc == 0 && pv_store_tables[i].name != NULL && *n < max; i++) {
        int64_t rows = 0;
        rc = pv__int(s, pv_store_tables[i].count_sql, PV_NOARGS, &rows, err);
        if (rc == 0)
            counts[(*n)++] = (pv_store_count){pv_store_tables[i].name, rows};
    }
    return rc;
}

int pv_store_backup(pv_store *s, const char *path, pv_error *err)
{
    return s->be->backup(s->db, path, err);
}
