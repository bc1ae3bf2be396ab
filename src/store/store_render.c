/*
 * store_render.c — everything one render reads, in one statement; see
 * pv_store_render_load in store.h.
 *
 * A render used to read its rows one query at a time: the device, the
 * account, four layer versions, four sets and their entries, the upgrade
 * plan, the secrets — about fifteen statements, each a round trip to
 * PostgreSQL (~100 µs over a unix socket), so a render on PostgreSQL cost ten
 * times one on SQLite (issue 18). Here they are one compound SELECT in the
 * SQL both backends run (spelled with casts on PostgreSQL): one branch per
 * kind of row, UNION ALL, the kinds sharing columns (AT_*) so that the entity
 * readers of store_int.h read a row from its kind's first column. The device is looked up
 * once (CTE d) and the layer scopes are spelled from it in SQL, as
 * server/render.c spells them.
 */
#include "store/store.h"

#include "core/alloc.h"
#include "store/store_int.h"
#include "store/store_rollouts.h"

#include <openssl/crypto.h>
#include <string.h>

/* Row kinds, column 0; column 1 is the layer of a set or entry. The rows come
 * in no particular order (an ORDER BY cost PostgreSQL a fifth of the
 * statement): an entry row carries its set too, and the entries, images and
 * secrets are put in order here. */
enum {
    ROW_DEVICE,
    ROW_ACCOUNT,
    ROW_SET,
    ROW_ENTRY,
    ROW_PLAN,
    ROW_FIRMWARE,
    ROW_SECRET,
    ROW_ROLLOUT
};

/*
 * Where each kind's columns start. The kinds share columns 2-17 (the device's
 * 16 are the widest; an entry row has its set's 4 then its own 3), and a
 * secret takes 17-21, its two blobs in the only two BYTEA columns (18, 19):
 * 22 columns in all. They had a block each (62 columns, NULL outside the
 * row's own block), and PostgreSQL's executor spent more on setting up and
 * sending those columns than on its eleven index reads: sharing them cut its
 * CPU per render by a quarter (docs/benchmarks.md, issue 18).
 */
enum {
    AT_DEVICE = 2,
    AT_ACCOUNT = 2,
    AT_SET = 2,
    AT_ENTRY = AT_SET + 4,
    AT_PLAN = 2,
    AT_FIRMWARE = 2,
    AT_ROLLOUT = 2,
    AT_SECRET = 17,
};

#define NULL3 "NULL, NULL, NULL, "
#define NULL7 NULL3 NULL3 "NULL, "
#define NULL9 NULL7 "NULL, NULL, "
#define NULL11 NULL9 "NULL, NULL, "
#define NULL12 NULL11 "NULL, "
#define NULL15 NULL12 NULL3
/* Columns 18-21 of a row that is not a secret: NULL. The device's row comes
 * first and types them: PostgreSQL resolves a UNION's column types from the
 * left, and two untyped NULLs would make a column text. */
#define NO_SECRET "NULL, NULL, NULL, NULL "
#define TYPED_NO_SECRET "CAST(NULL AS BYTEA), CAST(NULL AS BYTEA), NULL, NULL "

/* The statement, T(column) around every shared column: as is on SQLite,
 * whose columns have no declared type; as text on PostgreSQL, where the
 * columns of a UNION must have one type each (col_int reads a number from
 * text as from an integer). */
#define RENDER_SQL(T)                                                                              \
    "WITH d AS (SELECT " DEVICE_COLS " FROM devices WHERE mac = $1), "                             \
    "sc (layer, scope) AS (SELECT 0, 'global' FROM d "                                             \
    "UNION ALL SELECT 1, 'model:' || model FROM d WHERE model IS NOT NULL "                        \
    "UNION ALL SELECT 2, 'account:' || account_id FROM d WHERE account_id IS NOT NULL "            \
    "UNION ALL SELECT 3, 'device:' || mac FROM d), "                                               \
    "ps AS (SELECT sc.layer, p.id, p.scope, p.version, p.updated_at "                              \
    "FROM sc JOIN param_sets p ON p.scope = sc.scope) "                                            \
    "SELECT 0, 0, " DEVICE_COLS_AS(T) ", " TYPED_NO_SECRET "FROM d "                               \
    "UNION ALL SELECT 1, 0, " ACCOUNT_COLS_AS(T) ", " NULL9 NO_SECRET                              \
    "FROM accounts WHERE id = (SELECT account_id FROM d) "                                         \
    "UNION ALL SELECT 2, layer, " SET_COLS_AS(T) ", " NULL12 NO_SECRET "FROM ps "                  \
    "UNION ALL SELECT 3, ps.layer, " T(ps.id) ", " T(ps.scope) ", " T(ps.version) ", "             \
    T(ps.updated_at) ", " ENTRY_COLS_AS(T) ", " NULL9 NO_SECRET                                    \
    "FROM ps JOIN param_entries e ON e.set_id = ps.id "                                            \
    "UNION ALL SELECT 4, 0, " PLAN_COLS_AS(T) ", " NULL11 NO_SECRET                                \
    "FROM upgrade_plans WHERE model = (SELECT model FROM d) "                                      \
    "UNION ALL SELECT 5, 0, " FW_COLS_AS(T) ", " NULL7 NO_SECRET                                   \
    "FROM firmware_images WHERE model = (SELECT model FROM d) AND "                                \
    "(EXISTS (SELECT 1 FROM upgrade_plans WHERE model = (SELECT model FROM d)) OR "                \
    "EXISTS (SELECT 1 FROM rollouts WHERE model = (SELECT model FROM d))) "                        \
    "UNION ALL SELECT 6, 0, " NULL15 "live.* "                                                     \
    "FROM (SELECT " SECRET_COLS_AS(T, PV_COL) " FROM device_secrets WHERE mac = $1 "               \
    "AND retired_at IS NULL ORDER BY id DESC LIMIT 2) live "                                       \
    "UNION ALL SELECT 7, 0, ro.*, " NULL9 NO_SECRET "FROM (SELECT " ROLLOUT_VIEW_COLS_AS(T)        \
    " " ROLLOUT_VIEW_FROM("$1") " WHERE r.model = (SELECT model FROM d) "                          \
                                "ORDER BY r.id DESC LIMIT 1) ro"

#define AS_TEXT(c) "CAST(" #c " AS TEXT)"
static const char sql_render_sqlite[] = RENDER_SQL(PV_COL);
static const char sql_render_postgres[] = RENDER_SQL(AS_TEXT);

void pv_store_render_input_free(pv_store_render_input *in)
{
    pv_store_device_free(&in->device);
    if (in->account != NULL)
        pv_store_account_free(in->account);
    free(in->account);
    for (size_t i = 0; i < PV_LAYERS; i++)
        pv_store_param_set_free(&in->sets[i]);
    if (in->plan != NULL)
        pv_store_plan_free(in->plan);
    free(in->plan);
    if (in->rollout != NULL)
        pv_store_rollout_view_free(in->rollout);
    free(in->rollout);
    pv_store_firmwares_free(in->firmware, in->nfirmware);
    OPENSSL_cleanse(&in->current, sizeof in->current);
    OPENSSL_cleanse(&in->previous, sizeof in->previous);
    memset(in, 0, sizeof *in);
}

typedef struct loading {
    pv_store_render_input *in;
    const char *mac;
    bool with_secrets;
    bool found;
    size_t entries_cap[PV_LAYERS], firmware_cap;
    pv_store_secret secrets[2]; /* the live ones (at most two: LIMIT 2), unsealed */
    int nsecrets;
} loading;

static int read_secret(pv_store *s, pv__stmt *st, loading *l, pv_error *err)
{
    if (!l->with_secrets || s->secrets == NULL || l->nsecrets >= 2)
        return 0;
    return pv__secret_unseal(s, st, AT_SECRET, l->mac, &l->secrets[l->nsecrets++], err);
}

/* The newest live secret is the current one; the one before it is still
 * valid while the current one is unconfirmed (pv_store_secret_get). */
static void pick_secrets(loading *l)
{
    pv_store_render_input *in = l->in;
    int newest = l->nsecrets == 2 && l->secrets[1].id > l->secrets[0].id;
    in->has_secret = l->nsecrets > 0;
    if (in->has_secret)
        in->current = l->secrets[newest];
    in->has_previous = l->nsecrets == 2 && in->current.confirmed_at == 0;
    if (in->has_previous)
        in->previous = l->secrets[!newest];
    OPENSSL_cleanse(l->secrets, sizeof l->secrets);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const pv_store_param *)a)->name, ((const pv_store_param *)b)->name);
}

static int by_id(const void *a, const void *b)
{
    int64_t x = ((const pv_store_firmware *)a)->id, y = ((const pv_store_firmware *)b)->id;
    return x < y ? -1 : x > y;
}

/* Entries in name order as pv_store_params_get (byte order: SQLite's, and
 * PostgreSQL's under the C collation docs/store.md asks for), images in id
 * order as pv_store_firmware_list. */
static void put_in_order(pv_store_render_input *in)
{
    for (size_t i = 0; i < PV_LAYERS; i++)
        if (in->sets[i].n > 1)
            qsort(in->sets[i].entries, in->sets[i].n, sizeof *in->sets[i].entries, by_name);
    if (in->nfirmware > 1)
        qsort(in->firmware, in->nfirmware, sizeof *in->firmware, by_id);
}

static int read_row(pv_store *s, pv__stmt *st, loading *l, pv_error *err)
{
    pv_store_render_input *in = l->in;
    int64_t kind = pv__col_int(s, st, 0), at = pv__col_int(s, st, 1);
    size_t layer = at >= 0 && at < PV_LAYERS ? (size_t)at : 0;
    switch (kind) {
    case ROW_DEVICE:
        pv__read_device(s, st, AT_DEVICE, &in->device);
        l->found = true;
        return 0;
    case ROW_ACCOUNT:
        in->account = pv_calloc(1, sizeof *in->account);
        pv__read_account(s, st, AT_ACCOUNT, in->account);
        /* secret settings are sealed at rest, as pv_store_account_get opens them */
        return pv__settings_open(s, &in->account->settings, err);
    case ROW_SET:
        if (in->sets[layer].scope == NULL)
            pv__read_param_set(s, st, AT_SET, &in->sets[layer]);
        return 0;
    case ROW_ENTRY: {
        pv_store_param_set *set = &in->sets[layer];
        if (set->scope == NULL) /* its set's own row may come later */
            pv__read_param_set(s, st, AT_SET, set);
        pv_store_param *p =
            pv__rows_push((void **)&set->entries, &set->n, &l->entries_cap[layer], sizeof *p);
        return pv__read_param_entry(s, st, AT_ENTRY, set->scope, p, err);
    }
    case ROW_PLAN:
        in->plan = pv_calloc(1, sizeof *in->plan);
        pv__read_plan(s, st, AT_PLAN, in->plan);
        return 0;
    case ROW_FIRMWARE:
        pv__read_firmware(s, st, AT_FIRMWARE,
                          pv__rows_push((void **)&in->firmware, &in->nfirmware, &l->firmware_cap,
                                        sizeof *in->firmware));
        return 0;
    case ROW_SECRET:
        return read_secret(s, st, l, err);
    case ROW_ROLLOUT:
        in->rollout = pv_calloc(1, sizeof *in->rollout);
        pv__read_rollout_view(s, st, AT_ROLLOUT, in->rollout);
        return 0;
    default:
        return pv_error_set(err, PV_ESTORE, "render of %s: row of unknown kind %lld", l->mac,
                            (long long)kind);
    }
}

int pv_store_render_load(pv_store *s, const char *mac, bool with_secrets,
                         pv_store_render_input *out, pv_error *err)
{
    memset(out, 0, sizeof *out);
    char m[13];
    int rc = pv_store_mac_normalize(mac, m, err);
    loading l = {.in = out, .mac = m, .with_secrets = with_secrets};
    pv__stmt *st = NULL;
    if (rc == 0)
        rc = pv__query(s, s->be->dialect == PV_SQL_POSTGRES ? sql_render_postgres : sql_render_sqlite,
                      PV_ARGS(PV_T(m)), &st, err);
    while (rc == 0 && (rc = pv__next(s, st, err)) == 1)
        rc = read_row(s, st, &l, err);
    pick_secrets(&l);
    if (rc < 0) {
        pv__done(s, st); /* a row that failed to read leaves the others unread */
        pv_store_render_input_free(out);
        return rc;
    }
    if (!l.found)
        return pv__no_device(m, err);
    put_in_order(out);
    return 0;
}
