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

int pv_store_seen_age(const char *in, int64_t *seconds, pv_error *err)
{
    static const struct {
        char unit;
        int64_t seconds;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
    int64_t n = 0;
    const char *p = in;
    for (; *p >= '0' && *p <= '9' && n <= PV_STORE_AGE_MAX; p++)
        n = n * 10 + (*p - '0');
    int64_t scale = p == in ? 0 : (*p == '\0' ? 1 : 0);
    for (size_t i = 0; p != in && *p != '\0' && p[1] == '\0' && i < sizeof units / sizeof *units;
         i++)
        if (*p == units[i].unit)
            scale = units[i].seconds;
    if (scale == 0 || n == 0 || n > PV_STORE_AGE_MAX / scale)
        return pv_error_set(err, PV_EINVAL,
                            "age '%.40s': a whole number with a unit s, m, h, d or w (\"36h\", "
                            "\"7d\"), from 1 s to 3650 days",
                            in);
    *seconds = n * scale;
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
 *
 * Last seen adds four values: $8 <= COALESCE(last_seen, -1) < $9 (-1: never seen, so that
 * "never" is a range too), and $10 <= seen_day <= $11, the days of that range (step 9).
 */
#define SEARCH_SQL(from, st, mo, fw, ac, ls)                                                       \
    PV_SQL_PLAN_PER_CALL "SELECT " DEVICE_COLS " FROM devices" from                              \
                         " WHERE mac >= $1 AND mac < $2"                                          \
                         " AND " st " AND " mo " AND " fw " AND " ac ls " ORDER BY mac LIMIT $6"
#define ST_Y "state = $3"
#define ST_N "$3 = ''"
#define MO_Y "model = $4"
#define MO_N "$4 = ''"
#define FW_Y "firmware_version = $5"
#define FW_N "$5 = ''"
#define AC_Y "account_id = $7"
#define AC_N "$7 = 0"
#define SEEN_EXACT " AND COALESCE(last_seen, -1) >= $8 AND COALESCE(last_seen, -1) < $9"
#define SEEN_DAYS " AND seen_day >= $10 AND seen_day <= $11"
/* PostgreSQL: the days for the planner to weigh with its statistics of seen_day. SQLite: the
 * exact check alone (the days named would let it take the seen_day index for a range of most
 * of the devices and sort them); sql_search_seen_led below reads the index when that is
 * right. */
#define SEEN_PG SEEN_DAYS SEEN_EXACT
#define SEEN_SQLITE " AND $10 <= $11" SEEN_EXACT
/* Indexed by (state? 1) | (model? 2) | (firmware? 4) | (account? 8). */
#define SEARCH_16(from, ls)                                                                        \
    {                                                                                              \
        SEARCH_SQL(from, ST_N, MO_N, FW_N, AC_N, ls), SEARCH_SQL(from, ST_Y, MO_N, FW_N, AC_N, ls), \
            SEARCH_SQL(from, ST_N, MO_Y, FW_N, AC_N, ls),                                          \
            SEARCH_SQL(from, ST_Y, MO_Y, FW_N, AC_N, ls),                                          \
            SEARCH_SQL(from, ST_N, MO_N, FW_Y, AC_N, ls),                                          \
            SEARCH_SQL(from, ST_Y, MO_N, FW_Y, AC_N, ls),                                          \
            SEARCH_SQL(from, ST_N, MO_Y, FW_Y, AC_N, ls),                                          \
            SEARCH_SQL(from, ST_Y, MO_Y, FW_Y, AC_N, ls),                                          \
            SEARCH_SQL(from, ST_N, MO_N, FW_N, AC_Y, ls),                                          \
            SEARCH_SQL(from, ST_Y, MO_N, FW_N, AC_Y, ls),                                          \
            SEARCH_SQL(from, ST_N, MO_Y, FW_N, AC_Y, ls),                                          \
            SEARCH_SQL(from, ST_Y, MO_Y, FW_N, AC_Y, ls),                                          \
            SEARCH_SQL(from, ST_N, MO_N, FW_Y, AC_Y, ls),                                          \
            SEARCH_SQL(from, ST_Y, MO_N, FW_Y, AC_Y, ls),                                          \
            SEARCH_SQL(from, ST_N, MO_Y, FW_Y, AC_Y, ls),                                          \
            SEARCH_SQL(from, ST_Y, MO_Y, FW_Y, AC_Y, ls),                                          \
    }
static const char *const sql_search[16] = SEARCH_16("", "");
static const char *const sql_search_seen_pg[16] = SEARCH_16("", SEEN_PG);
static const char *const sql_search_seen_sqlite[16] = SEARCH_16("", SEEN_SQLITE);
/* SQLite, a range of at most PV_STORE_SEEN_LED devices: read from the seen_day index, the
 * other filters checked on each row (a bounded number of them), sorted by MAC. */
static const char sql_search_seen_led[] =
    SEARCH_SQL(" INDEXED BY devices_seen", "($3 = '' OR state = $3)", "($4 = '' OR model = $4)",
               "($5 = '' OR firmware_version = $5)", "($7 = 0 OR account_id = $7)", SEEN_DAYS
               SEEN_EXACT);
/* How many devices the range's days hold, up to a bound: the seen_day index alone. */
static const char sql_seen_days_count[] =
    "SELECT COUNT(*) FROM (SELECT 1 FROM devices WHERE seen_day >= $1 AND seen_day <= $2 "
    "LIMIT $3) c";

int64_t pv_store_seen_led = PV_STORE_SEEN_LED;

#define DAY 86400 /* seen_day = last_seen / DAY, UTC days (step 9) */

/* The last-seen range of q as COALESCE(last_seen, -1) in [lo, hi) and days [dlo, dhi]. */
static void seen_range(const pv_store_device_query *q, int64_t r[4])
{
    int64_t lo = 0, hi = INT64_MAX;
    if (q->never_seen) {
        lo = -1;
        hi = 0;
    } else {
        if (q->seen_since > 0)
            lo = q->seen_since;
        if (q->seen_before > 0)
            hi = q->seen_before;
    }
    r[0] = lo;
    r[1] = hi;
    r[2] = lo < 0 ? -1 : lo / DAY;
    r[3] = hi <= 0 ? -1 : (hi - 1) / DAY; /* the day of the last second in the range */
}

/* The devices, from the kept counts (a few rows). */
static const char sql_devices_total[] =
    "SELECT COALESCE(SUM(devices), 0) FROM device_counts WHERE dimension = 'state'";

/* A row read through the seen_day index (at random in the table, then sorted) costs about as
 * much as this many read in MAC order (bench/search.sh at 1 000 000 devices: 5 000 devices in
 * range read from the index in 30 ms, a page of them found in MAC order after ~10 000 rows in
 * 1 ms). */
#define SEEN_RANDOM_COST 60

/*
 * Which statement answers a last-seen search (see store_device_search.h). SQLite: the range's
 * k devices from the index cost ~k * SEEN_RANDOM_COST; a page found in MAC order costs ~51 *
 * N / k rows. Without another filter the index is taken when the first is less (k below
 * ~sqrt(51 N / 60): 920 at a million devices). With an account, state, model or firmware the
 * rows in MAC order are those of that filter's index, as many as it holds, none of them
 * perhaps in range (an account of half the fleet without a dead phone: 500 000 rows, 280 ms):
 * the index is taken up to pv_store_seen_led devices, which bounds a search at ~60 ms.
 */
static int seen_sql(pv_store *s, const pv_store_device_query *q, unsigned which,
                    const int64_t r[4], const char **sql, pv_error *err)
{
    if (s->be->dialect == PV_SQL_POSTGRES) {
        *sql = sql_search_seen_pg[which];
        return 0;
    }
    int64_t k = 0, total = 0;
    int rc = pv__int(s, sql_seen_days_count,
                     PV_ARGS(PV_I(r[2]), PV_I(r[3]), PV_I(pv_store_seen_led + 1)), &k, err);
    if (rc == 0 && which == 0 && k <= pv_store_seen_led)
        rc = pv__int(s, sql_devices_total, PV_NOARGS, &total, err);
    if (rc != 0)
        return rc;
    bool led = k <= pv_store_seen_led;
    if (which == 0 && q->mac_prefix[0] == '\0')
        led = led && k * k * SEEN_RANDOM_COST <= 51 * total;
    *sql = led ? sql_search_seen_led : sql_search_seen_sqlite[which];
    return 0;
}

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
    int64_t account = q->account_id > 0 ? q->account_id : 0;
    if (!q->never_seen && q->seen_since <= 0 && q->seen_before <= 0)
        return pv__list(s, &device_list, sql_search[which],
                        PV_ARGS(PV_T(from), PV_T(end), PV_T(state), PV_T(model), PV_T(fw),
                                PV_I(limit), PV_I(account)),
                        page, (void **)rows, n, err);
    int64_t r[4];
    seen_range(q, r);
    const char *sql = NULL;
    int rc = seen_sql(s, q, which, r, &sql, err);
    if (rc != 0)
        return rc;
    return pv__list(s, &device_list, sql,
                    PV_ARGS(PV_T(from), PV_T(end), PV_T(state), PV_T(model), PV_T(fw), PV_I(limit),
                            PV_I(account), PV_I(r[0]), PV_I(r[1]), PV_I(r[2]), PV_I(r[3])),
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

/* ---- devices grouped for a write's check ---- */

#define GROUP_COLS                                                                                 \
    "COALESCE(account_id, 0), MIN(mac), COUNT(*), CASE WHEN serial IS NULL THEN 0 ELSE 1 END, "   \
    "CASE WHEN model IS NULL THEN 0 ELSE 1 END"
#define GROUP_BY " GROUP BY COALESCE(account_id, 0), CASE WHEN serial IS NULL THEN 0 ELSE 1 END, " \
                 "CASE WHEN model IS NULL THEN 0 ELSE 1 END"
static const char sql_groups_global[] = "SELECT " GROUP_COLS " FROM devices" GROUP_BY;
static const char sql_groups_model[] =
    "SELECT " GROUP_COLS " FROM devices WHERE model = $1" GROUP_BY;
static const char sql_groups_account[] =
    "SELECT " GROUP_COLS " FROM devices WHERE account_id = $1" GROUP_BY;
static const char sql_groups_device[] = "SELECT " GROUP_COLS " FROM devices WHERE mac = $1" GROUP_BY;
/* An account's devices: those without a device layer by model and serial, then each one with
 * a device layer (a set named device:<mac>, looked up by its unique scope). */
#define HAS_LAYER "EXISTS (SELECT 1 FROM param_sets p WHERE p.scope = 'device:' || devices.mac)"
static const char sql_account_groups[] =
    "SELECT model, MIN(mac), COUNT(*), CASE WHEN serial IS NULL THEN 0 ELSE 1 END, 0 "
    "FROM devices WHERE account_id = $1 AND NOT " HAS_LAYER
    " GROUP BY model, CASE WHEN serial IS NULL THEN 0 ELSE 1 END "
    "UNION ALL SELECT model, mac, 1, CASE WHEN serial IS NULL THEN 0 ELSE 1 END, 1 "
    "FROM devices WHERE account_id = $1 AND " HAS_LAYER " ORDER BY 5, 2";

static int read_groups(pv_store *s, const char *sql, const pv__val *args, size_t nargs,
                       bool by_model, int64_t account_id, pv_store_device_group **out, size_t *n,
                       pv_error *err)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    pv__stmt *st = NULL;
    int rc = pv__query(s, sql, args, nargs, &st, err);
    if (rc != 0)
        return rc;
    while ((rc = pv__next(s, st, err)) == 1) {
        pv_store_device_group *g = pv__rows_push((void **)out, n, &cap, sizeof *g);
        memset(g, 0, sizeof *g);
        pv__col_copy(s, st, 1, g->first_mac, sizeof g->first_mac);
        g->devices = pv__col_int(s, st, 2);
        g->has_serial = pv__col_int(s, st, 3) != 0;
        if (by_model) {
            g->account_id = account_id;
            g->model = pv__col_dup(s, st, 0);
            g->has_model = g->model != NULL;
            g->layered = pv__col_int(s, st, 4) != 0;
        } else {
            g->account_id = pv__col_int(s, st, 0);
            g->has_model = pv__col_int(s, st, 4) != 0;
        }
    }
    if (rc < 0) {
        pv_store_device_groups_free(*out, *n);
        *out = NULL;
        *n = 0;
        return rc;
    }
    return 0;
}

int pv_store_scope_groups(pv_store *s, const char *scope, pv_store_device_group **out, size_t *n,
                          pv_error *err)
{
    *out = NULL;
    *n = 0;
    int rc = pv_store_scope_check(scope, err);
    if (rc != 0)
        return rc;
    const char *colon = strchr(scope, ':');
    if (colon == NULL)
        return read_groups(s, sql_groups_global, PV_NOARGS, false, 0, out, n, err);
    const char *what = colon + 1;
    if (strncmp(scope, "model:", 6) == 0)
        return read_groups(s, sql_groups_model, PV_ARGS(PV_T(what)), false, 0, out, n, err);
    if (strncmp(scope, "account:", 8) == 0)
        return read_groups(s, sql_groups_account, PV_ARGS(PV_I(strtoll(what, NULL, 10))), false,
                           0, out, n, err);
    return read_groups(s, sql_groups_device, PV_ARGS(PV_T(what)), false, 0, out, n, err);
}

int pv_store_account_groups(pv_store *s, int64_t account_id, pv_store_device_group **out,
                            size_t *n, pv_error *err)
{
    return read_groups(s, sql_account_groups, PV_ARGS(PV_I(account_id)), true, account_id, out, n,
                       err);
}

void pv_store_device_groups_free(pv_store_device_group *g, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(g[i].model);
    free(g);
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
