/* store_device_search.c — device search and counts for the console; see store_device_search.h. */
#include "store/store_device_search.h"

#include "store/store_int.h"

#include <ctype.h>
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

/* $1 lower bound ($1 strict: the cursor; or inclusive: the prefix), $2 the prefix's end; the
 * optional filters compare with '' so that one statement serves every combination. */
#define FILTERS                                                                                    \
    " AND mac < $2 AND ($3 = '' OR state = $3) AND ($4 = '' OR model = $4) "                     \
    "AND ($5 = '' OR firmware_version = $5) "
static const char sql_after[] =
    "SELECT " DEVICE_COLS " FROM devices WHERE mac > $1" FILTERS "ORDER BY mac LIMIT $6";
static const char sql_from[] =
    "SELECT " DEVICE_COLS " FROM devices WHERE mac >= $1" FILTERS "ORDER BY mac LIMIT $6";
/* With an account the (account_id, mac) index gives the order and the range. */
static const char sql_account_after[] = "SELECT " DEVICE_COLS " FROM devices WHERE account_id = $7 "
                                        "AND mac > $1" FILTERS "ORDER BY mac LIMIT $6";
static const char sql_account_from[] = "SELECT " DEVICE_COLS " FROM devices WHERE account_id = $7 "
                                       "AND mac >= $1" FILTERS "ORDER BY mac LIMIT $6";

int pv_store_device_find(pv_store *s, const pv_store_device_query *q, pv_store_page *page,
                           pv_store_device **rows, size_t *n, pv_error *err)
{
    /* Every MAC with the prefix is >= it and < it with 'g' appended (after every hex digit). */
    char end[14];
    strcpy(end, q->mac_prefix);
    strcat(end, "g");
    bool strict = page->after[0] != '\0' && strcmp(page->after, q->mac_prefix) >= 0;
    const char *from = strict ? page->after : q->mac_prefix;
    const char *sql = q->account_id > 0 ? (strict ? sql_account_after : sql_account_from)
                                        : (strict ? sql_after : sql_from);
    int64_t limit = (int64_t)pv__page_limit(page) + 1;
    const char *state = q->state ? q->state : "", *model = q->model ? q->model : "",
               *fw = q->firmware ? q->firmware : "";
    if (q->account_id > 0)
        return pv__list(s, &device_list, sql,
                        PV_ARGS(PV_T(from), PV_T(end), PV_T(state), PV_T(model), PV_T(fw),
                                PV_I(limit), PV_I(q->account_id)),
                        page, (void **)rows, n, err);
    return pv__list(s, &device_list, sql,
                    PV_ARGS(PV_T(from), PV_T(end), PV_T(state), PV_T(model), PV_T(fw),
                            PV_I(limit)),
                    page, (void **)rows, n, err);
}

/* The column is chosen from the enum, never from input. */
static const char *const sql_counts[] = {
    [PV_DEVICE_BY_STATE] = "SELECT state, COUNT(*) FROM devices GROUP BY state "
                           "ORDER BY COUNT(*) DESC, state LIMIT $1",
    [PV_DEVICE_BY_MODEL] = "SELECT COALESCE(model, ''), COUNT(*) FROM devices GROUP BY model "
                           "ORDER BY COUNT(*) DESC, 1 LIMIT $1",
    [PV_DEVICE_BY_FIRMWARE] = "SELECT COALESCE(firmware_version, ''), COUNT(*) FROM devices "
                              "GROUP BY firmware_version ORDER BY COUNT(*) DESC, 1 LIMIT $1",
};

int pv_store_device_counts(pv_store *s, pv_store_device_by by, size_t limit,
                           void (*fn)(void *data, const char *value, int64_t count), void *data,
                           pv_error *err)
{
    pv__stmt *st = NULL;
    int rc = pv__query(s, sql_counts[by], PV_ARGS(PV_I(limit)), &st, err);
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
