/* store_device_search.c — device search and counts for the console; see store_device_search.h. */
#include "store/store_device_search.h"

#include "store/store_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pv_store_mac_prefix(const char *in, char out[13], pv_error *err)
{
    size_t n = 0;
    for (const char *p = in; *p != '\0'; p++) {
        if (*p == ':' || *p == '-' || *p == '.')
            continue;
        if (!isxdigit((unsigned char)*p) || n == 12)
            return pv_error_set(err, PV_EINVAL,
                                "MAC prefix '%.40s': up to 12 hex digits (':' '-' '.' ignored)",
                                in);
        out[n++] = (char)tolower((unsigned char)*p);
    }
    out[n] = '\0';
    return 0;
}

static void read_device(pv_store *s, pv__stmt *st, void *row)
{
    pv__read_device(s, st, 0, row);
}

static void free_device(void *row)
{
    pv_store_device_free(row);
}

static const pv__list_spec device_list = {sizeof(pv_store_device), read_device, free_device, 0};

/*
 * One statement per combination of filters, so that each filter is a plain equality the
 * planner can take an index for (step 8: (state, mac), (model, mac), (firmware_version,
 * mac), and (account_id, mac)); a filter written `($3 = '' OR state = $3)` serves every
 * combination but reads the table in MAC order. An absent filter still names its parameter
 * (`$3 = ''`: a constant, evaluated once) so every variant binds the same seven values.
 * $1 is the lower bound (inclusive: the prefix, or the cursor with '!' appended, see
 * below), $2 the prefix's end, $6 the page's limit. Planned per call on PostgreSQL: with two
 * filters the best index depends on the values (an account of half the fleet and a state
 * none of its devices is in: the state's index; a small account: the account's), which a
 * prepared statement's generic plan cannot know (~1 s instead of ~0.1 s at a million
 * devices, docs/benchmarks.md); planning costs a fraction of a millisecond.
 */
#define SEARCH_SQL(st, mo, fw, ac)                                                                 \
    PV_SQL_PLAN_PER_CALL "SELECT " DEVICE_COLS " FROM devices WHERE mac >= $1 AND mac < $2"                             \
    " AND " st " AND " mo " AND " fw " AND " ac " ORDER BY mac LIMIT $6"
#define ST_Y "state = $3"
#define ST_N "$3 = ''"
#define MO_Y "model = $4"
#define MO_N "$4 = ''"
#define FW_Y "firmware_version = $5"
#define FW_N "$5 = ''"
#define AC_Y "account_id = $7"
#define AC_N "$7 = 0"
/* Indexed by (state? 1) | (model? 2) | (firmware? 4) | (account? 8). */
static const char *const sql_search[16] = {
    SEARCH_SQL(ST_N, MO_N, FW_N, AC_N), SEARCH_SQL(ST_Y, MO_N, FW_N, AC_N),
    SEARCH_SQL(ST_N, MO_Y, FW_N, AC_N), SEARCH_SQL(ST_Y, MO_Y, FW_N, AC_N),
    SEARCH_SQL(ST_N, MO_N, FW_Y, AC_N), SEARCH_SQL(ST_Y, MO_N, FW_Y, AC_N),
    SEARCH_SQL(ST_N, MO_Y, FW_Y, AC_N), SEARCH_SQL(ST_Y, MO_Y, FW_Y, AC_N),
    SEARCH_SQL(ST_N, MO_N, FW_N, AC_Y), SEARCH_SQL(ST_Y, MO_N, FW_N, AC_Y),
    SEARCH_SQL(ST_N, MO_Y, FW_N, AC_Y), SEARCH_SQL(ST_Y, MO_Y, FW_N, AC_Y),
    SEARCH_SQL(ST_N, MO_N, FW_Y, AC_Y), SEARCH_SQL(ST_Y, MO_N, FW_Y, AC_Y),
    SEARCH_SQL(ST_N, MO_Y, FW_Y, AC_Y), SEARCH_SQL(ST_Y, MO_Y, FW_Y, AC_Y),
};

int pv_store_device_find(pv_store *s, const pv_store_device_query *q, pv_store_page *page,
                         pv_store_device **rows, size_t *n, pv_error *err)
{
    /* Every MAC with the prefix is >= it and < it with 'g' appended (after every hex digit). */
    char end[14];
    strcpy(end, q->mac_prefix);
    strcat(end, "g");
    /* After the cursor: every MAC is 12 hex digits, all above '!', so mac > cursor is
     * mac >= cursor + "!" — one inclusive bound for both cases, half the statements. */
    char from[sizeof page->after + 1];
    if (page->after[0] != '\0' && strcmp(page->after, q->mac_prefix) >= 0)
        (void)snprintf(from, sizeof from, "%s!", page->after);
    else
        (void)snprintf(from, sizeof from, "%s", q->mac_prefix);
    int64_t limit = (int64_t)pv__page_limit(page) + 1;
    const char *state = q->state ? q->state : "", *model = q->model ? q->model : "",
               *fw = q->firmware ? q->firmware : "";
    unsigned which = (state[0] != '\0') | (model[0] != '\0') << 1 | (fw[0] != '\0') << 2 |
                     (q->account_id > 0) << 3;
    return pv__list(s, &device_list, sql_search[which],
                    PV_ARGS(PV_T(from), PV_T(end), PV_T(state), PV_T(model), PV_T(fw), PV_I(limit),
                            PV_I(q->account_id > 0 ? q->account_id : 0)),
                    page, (void **)rows, n, err);
}

/* The counts kept by schema step 8's triggers: the folded counts plus the changes appended
 * since, so that a read is right whether or not a fold ran. The dimension is chosen from
 * the enum, never from input. */
static const char *const dimensions[] = {
    [PV_DEVICE_BY_STATE] = "state",
    [PV_DEVICE_BY_MODEL] = "model",
    [PV_DEVICE_BY_FIRMWARE] = "firmware",
};
static const char sql_counts[] =
    "SELECT value, SUM(n) FROM (SELECT value, devices AS n FROM device_counts WHERE dimension = $1 "
    "UNION ALL SELECT value, delta FROM device_count_changes WHERE dimension = $1) c "
    "GROUP BY value HAVING SUM(n) <> 0 ORDER BY 2 DESC, 1 LIMIT $2";

/* Folding the changes into the counts: the rows a fold deletes are exactly the rows it adds
 * (PostgreSQL: one statement; SQLite: one writer at a time, inside the transaction), in key
 * order, so that two folds at once lock counters in the same order. */
static const char sql_fold_pg[] =
    "WITH moved AS (DELETE FROM device_count_changes RETURNING dimension, value, delta) "
    "INSERT INTO device_counts (dimension, value, devices) "
    "SELECT dimension, value, SUM(delta) FROM moved GROUP BY dimension, value "
    "ORDER BY dimension, value "
    "ON CONFLICT (dimension, value) DO UPDATE SET devices = device_counts.devices + "
    "excluded.devices";
static const char sql_fold_sqlite[] =
    "INSERT INTO device_counts (dimension, value, devices) "
    "SELECT dimension, value, SUM(delta) FROM device_count_changes WHERE true "
    "GROUP BY dimension, value "
    "ON CONFLICT (dimension, value) DO UPDATE SET devices = device_counts.devices + "
    "excluded.devices";
static const char sql_changes[] = "SELECT COUNT(*) FROM (SELECT 1 FROM device_count_changes "
                                  "LIMIT 1001) c";
static const char sql_fold_clear[] = "DELETE FROM device_count_changes";
static const char sql_fold_prune[] = "DELETE FROM device_counts WHERE devices = 0";

int pv_store_device_counts_fold(pv_store *s, pv_error *err)
{
    /* Nothing to fold (always so on SQLite): no transaction, no write lock taken. */
    int64_t pending = 0;
    int rc = pv__int(s, sql_changes, PV_NOARGS, &pending, err);
    if (rc != 0 || pending == 0)
        return rc;
    rc = pv_store_begin(s, err);
    if (rc != 0)
        return rc;
    if (s->be->dialect == PV_SQL_POSTGRES)
        rc = pv__exec(s, sql_fold_pg, PV_NOARGS, NULL, err);
    else if ((rc = pv__exec(s, sql_fold_sqlite, PV_NOARGS, NULL, err)) == 0)
        rc = pv__exec(s, sql_fold_clear, PV_NOARGS, NULL, err);
    if (rc == 0)
        rc = pv__exec(s, sql_fold_prune, PV_NOARGS, NULL, err);
    if (rc != 0) {
        pv_store_rollback(s);
        return rc;
    }
    return pv_store_commit(s, err);
}

int pv_store_device_counts(pv_store *s, pv_store_device_by by, size_t limit,
                           void (*fn)(void *data, const char *value, int64_t count), void *data,
                           pv_error *err)
{
    /* More than a thousand changes since the last fold: fold them first (a read then sums a
     * handful of rows). A fold that fails (a concurrent one won a lock) leaves the changes
     * to be summed by the read, which is right either way. */
    int64_t pending = 0;
    int rc = pv__int(s, sql_changes, PV_NOARGS, &pending, err);
    if (rc != 0)
        return rc;
    if (pending > 1000 && s->tx_depth == 0) {
        pv_error ignored;
        (void)pv_store_device_counts_fold(s, &ignored);
    }
    pv__stmt *st = NULL;
    rc = pv__query(s, sql_counts, PV_ARGS(PV_T(dimensions[by]), PV_I(limit)), &st, err);
    if (rc != 0)
        return rc;
    while ((rc = pv__next(s, st, err)) == 1) {
        char value[128];
        pv__col_copy(s, st, 0, value, sizeof value);
        fn(data, value, pv__col_int(s, st, 1));
    }
    return rc < 0 ? rc : 0;
}

int pv_store_scope_devices(pv_store *s, const char *scope, int64_t *count, pv_error *err)
{
    int rc = pv_store_scope_check(scope, err);
    if (rc != 0)
        return rc;
    const char *colon = strchr(scope, ':');
    if (colon == NULL)
        return pv__int(s, "SELECT COUNT(*) FROM devices", PV_NOARGS, count, err);
    const char *what = colon + 1;
    if (strncmp(scope, "model:", 6) == 0)
        return pv__int(s, "SELECT COUNT(*) FROM devices WHERE model = $1", PV_ARGS(PV_T(what)),
                       count, err);
    if (strncmp(scope, "account:", 8) == 0)
        return pv__int(s, "SELECT COUNT(*) FROM devices WHERE account_id = $1",
                       PV_ARGS(PV_I(strtoll(what, NULL, 10))), count, err);
    return pv__int(s, "SELECT COUNT(*) FROM devices WHERE mac = $1", PV_ARGS(PV_T(what)), count,
                   err);
}
