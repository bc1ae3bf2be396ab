/* store_accounts.c — accounts, binding codes, rate-limit counters and admin tokens; see store.h. */
#include "store/store.h"

#include "core/alloc.h"
#include "core/text.h"
#include "store/store_int.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- accounts -------------------------------------------------------------- */

void pv__read_account(pv_store *s, pv__stmt *st, int base, void *row)
{
    pv_store_account *a = row;
    a->id = pv__col_int(s, st, base + 0);
    a->name = pv__col_dup(s, st, base + 1);
    a->customer = pv__col_dup(s, st, base + 2);
    a->settings = pv__col_dup(s, st, base + 3);
    a->version = pv__col_int(s, st, base + 4);
    a->created_at = pv__col_int(s, st, base + 5);
    a->updated_at = pv__col_int(s, st, base + 6);
}

static void read_account(pv_store *s, pv__stmt *st, void *row)
{
    pv__read_account(s, st, 0, row);
}

void pv_store_account_free(pv_store_account *a)
{
    free(a->name);
    free(a->customer);
    free(a->settings);
    memset(a, 0, sizeof *a);
}

static void free_account(void *row)
{
    pv_store_account_free(row);
}

void pv_store_accounts_free(pv_store_account *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pv_store_account_free(&rows[i]);
    free(rows);
}

static int account_check(const pv_store_account *a, pv_error *err)
{
    if (a->name == NULL || a->name[0] == '\0')
        return pv_error_set(err, PV_EINVAL, "account: name is required");
    if (pv_text_check(pv_slice_from(a->name), PV_TEXT_NAME, "account: name", err) != 0 ||
        (a->customer != NULL &&
         pv_text_check(pv_slice_from(a->customer), PV_TEXT_NAME, "account: customer", err) != 0))
        return PV_EINVAL;
    if (a->settings != NULL)
        return pv__json_check(a->settings, '{', "account settings", err);
    return 0;
}

static int account_failed(const pv_store_account *a, int rc, pv_error *err)
{
    if (rc == PV_EEXIST)
        return pv_error_set(err, rc, "account '%.60s': the name is taken", a->name);
    return pv__wrap(err, rc, "account '%.60s'", a->name);
}

static const char sql_account_create[] =
    "INSERT INTO accounts (name, customer, settings, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, $4) RETURNING id";

static int note_plain_settings(pv_store *s, const pv_store_account *a, pv_error *err);

/* The settings text as stored: secrets sealed (store_param_secrets.c). */
static const char *settings_to_store(const pv_store_account *a, char **sealed)
{
    return *sealed ? *sealed : a->settings ? a->settings : "{}";
}

static void sealed_free(char *sealed)
{
    if (sealed != NULL)
        OPENSSL_cleanse(sealed, strlen(sealed));
    free(sealed);
}

int pv_store_account_create(pv_store *s, const pv_store_account *a, int64_t now, int64_t *id,
                            pv_error *err)
{
    char *sealed = NULL;
    int rc = account_check(a, err);
    int64_t new_id = 0;
    if (rc == 0)
        rc = pv__settings_seal(s, a->settings, &sealed, err);
    if (rc == 0)
        rc = pv__int(s, sql_account_create,
                     PV_ARGS(PV_T(a->name), PV_T(a->customer ? a->customer : ""),
                             PV_T(settings_to_store(a, &sealed)), PV_I(now)),
                     &new_id, err);
    sealed_free(sealed);
    if (rc == 0)
        rc = note_plain_settings(s, a, err);
    if (rc != 0)
        return account_failed(a, rc, err);
    if (id != NULL)
        *id = new_id;
    return 0;
}

static int account_one(pv_store *s, const char *sql, pv__val key, const char *what,
                       pv_store_account *out, pv_error *err)
{
    int rc = pv__get(s, sql, &key, 1, read_account, out, sizeof *out, err);
    if (rc == PV_ENOENT)
        return pv_error_set(err, PV_ENOENT, "account %s: no such account", what);
    if (rc == 0 && (rc = pv__settings_open(s, &out->settings, err)) != 0)
        pv_store_account_free(out);
    return rc;
}

static const char sql_account_get[] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE id = $1";
static const char sql_account_by_name[] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE name = $1";

int pv_store_account_get(pv_store *s, int64_t id, pv_store_account *out, pv_error *err)
{
    char what[24];
    (void)snprintf(what, sizeof what, "%lld", (long long)id);
    return account_one(s, sql_account_get, PV_I(id), what, out, err);
}

int pv_store_account_get_by_name(pv_store *s, const char *name, pv_store_account *out,
                                 pv_error *err)
{
    char what[80];
    (void)snprintf(what, sizeof what, "'%.60s'", name); /* truncation: message only */
    return account_one(s, sql_account_by_name, PV_T(name), what, out, err);
}

/* Optimistic concurrency: the WHERE on version makes a lost update visible. */
static const char sql_account_update[] =
    "UPDATE accounts SET name = $2, customer = $3, settings = $4, version = version + 1, "
    "updated_at = $5 WHERE id = $1 AND ($6 = 0 OR version = $6) RETURNING version";

int pv_store_account_update(pv_store *s, const pv_store_account *a, int64_t now,
                            int64_t *new_version, pv_error *err)
{
    char *sealed = NULL;
    int rc = account_check(a, err);
    int64_t v = 0;
    if (rc == 0)
        rc = pv__settings_seal(s, a->settings, &sealed, err);
    if (rc == 0)
        rc = pv__int(s, sql_account_update,
                     PV_ARGS(PV_I(a->id), PV_T(a->name), PV_T(a->customer ? a->customer : ""),
                             PV_T(settings_to_store(a, &sealed)), PV_I(now), PV_I(a->version)),
                     &v, err);
    sealed_free(sealed);
    if (rc == 0)
        rc = note_plain_settings(s, a, err);
    if (rc == PV_ENOENT) { /* no row: missing, or changed meanwhile */
        pv_store_account cur = {0};
        rc = pv_store_account_get(s, a->id, &cur, err);
        if (rc == 0)
            rc = pv_error_set(err, PV_ECONFLICT,
                              "account %lld: changed meanwhile (version %lld, you read %lld); "
                              "read it again",
                              (long long)a->id, (long long)cur.version, (long long)a->version);
        pv_store_account_free(&cur);
        return rc;
    }
    if (rc != 0)
        return account_failed(a, rc, err);
    if (new_version != NULL)
        *new_version = v;
    return 0;
}

static const char sql_account_delete[] = "DELETE FROM accounts WHERE id = $1";
static const char sql_account_params_delete[] = "DELETE FROM param_sets WHERE scope = $1";

int pv_store_account_delete(pv_store *s, int64_t id, pv_error *err)
{
    char scope[32];
    (void)snprintf(scope, sizeof scope, "account:%lld", (long long)id);
    int64_t changed = 0;
    int rc = pv_store_begin(s, err);
    if (rc != 0)
        return rc;
    rc = pv__exec(s, sql_account_delete, PV_ARGS(PV_I(id)), &changed, err);
    if (rc == 0 && changed == 0)
        rc = pv_error_set(err, PV_ENOENT, "account %lld: no such account", (long long)id);
    if (rc == 0) /* the layer is named by scope, not referenced by key: delete it here */
        rc = pv__exec(s, sql_account_params_delete, PV_ARGS(PV_T(scope)), NULL, err);
    if (rc != 0) {
        pv_store_rollback(s);
        return rc;
    }
    return pv_store_commit(s, err);
}

static const pv__list_spec account_list = {sizeof(pv_store_account), read_account, free_account, 0};
static const char sql_account_list[] =
    "SELECT " ACCOUNT_COLS " FROM accounts WHERE id > $1 ORDER BY id LIMIT $2";

int pv_store_account_list(pv_store *s, pv_store_page *page, pv_store_account **rows, size_t *n,
                          pv_error *err)
{
    int64_t after = 0;
    int rc = pv__page_after_int(page, &after, err);
    if (rc != 0)
        return rc;
    rc = pv__list(s, &account_list, sql_account_list,
                  PV_ARGS(PV_I(after), PV_I((int64_t)pv__page_limit(page) + 1)), page,
                  (void **)rows, n, err);
    for (size_t i = 0; rc == 0 && i < *n; i++)
        rc = pv__settings_open(s, &(*rows)[i].settings, err);
    if (rc != 0 && *rows != NULL) {
        pv_store_accounts_free(*rows, *n);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}

/* Settings written while no master key was loaded, or before their secrets were sealed:
 * sealed now, each row only if it is still the text read (a concurrent update wins).
 * The scan runs at every key load (each store handle of a server), so it is skipped while
 * the meta flag says every account's settings were sealed: a write with secrets while no
 * key is loaded clears it (note_plain_settings), the next load scans and sets it again.
 * The scan itself copies out only rows whose text may name a secret key. */
static const char settings_sealed_flag[] = "account_settings_sealed";
static const char sql_settings_plain[] =
    "SELECT id, settings FROM accounts "
    "WHERE lower(settings) LIKE '%passw%' OR lower(settings) LIKE '%secret%'";
static const char sql_settings_reseal[] =
    "UPDATE accounts SET settings = $2 WHERE id = $1 AND settings = $3";

static int note_plain_settings(pv_store *s, const pv_store_account *a, pv_error *err)
{
    if (pv_store_secrets_loaded(s) || a->settings == NULL || !pv__settings_may_hold(a->settings))
        return 0;
    return pv_store_meta_set(s, settings_sealed_flag, "0", 1, err);
}

static bool settings_all_sealed(pv_store *s)
{
    pv_buf flag = {0};
    bool sealed = pv_store_meta_get(s, settings_sealed_flag, &flag, NULL) == 0 &&
                  flag.len == 1 && flag.data[0] == '1';
    pv_buf_free(&flag);
    return sealed;
}

int pv__accounts_seal_plain(pv_store *s, pv_error *err)
{
    if (settings_all_sealed(s))
        return 0;
    pv__stmt *st = NULL;
    typedef struct { int64_t id; char *settings; } row;
    row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc = pv__query(s, sql_settings_plain, PV_NOARGS, &st, err);
    while (rc == 0 && (rc = pv__next(s, st, err)) == 1) {
        rc = 0;
        row *r = pv__rows_push((void **)&rows, &n, &cap, sizeof *r);
        r->id = pv__col_int(s, st, 0);
        r->settings = pv__col_dup(s, st, 1);
    }
    bool began = false;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char *sealed = NULL;
        rc = pv__settings_seal(s, rows[i].settings, &sealed, err);
        if (rc == 0 && sealed != NULL && !began)
            began = (rc = pv_store_begin(s, err)) == 0;
        if (rc == 0 && sealed != NULL)
            rc = pv__exec(s, sql_settings_reseal,
                          PV_ARGS(PV_I(rows[i].id), PV_T(sealed), PV_T(rows[i].settings)), NULL,
                          err);
        sealed_free(sealed);
    }
    if (rc == 0 && !began)
        began = (rc = pv_store_begin(s, err)) == 0;
    if (rc == 0)
        rc = pv_store_meta_set(s, settings_sealed_flag, "1", 1, err);
    if (began && rc == 0)
        rc = pv_store_commit(s, err);
    else if (began)
        pv_store_rollback(s);
    for (size_t i = 0; i < n; i++)
        sealed_free(rows[i].settings);
    free(rows);
    return rc;
}

/* ---- binding codes (DESIGN 5) ------------------------------------------------ */

/* Codes are kept as HMAC-SHA256 under a key derived from the master key
 * (secrets.h): 10^12 twelve-digit codes are no search space for whoever has a
 * copy of the database but not the master key file. */
static const char code_label[] = "provisor binding code v1";

static int code_hash(pv_store *s, const char *code, char out[65], pv_error *err)
{
    if (s->secrets == NULL)
        return pv_error_set(err, PV_EACCES, "binding codes: no master key loaded");
    return pv_secrets_mac_hex(s->secrets, code_label, code, strlen(code), out, err);
}

static const char sql_code_create[] =
    "INSERT INTO binding_codes (account_id, code_hash, hint, created_at, expires_at, "
    "max_attempts, keyed) VALUES ($1, $2, $3, $4, $5, $6, 1) RETURNING id";

int pv_store_code_create(pv_store *s, int64_t account_id, const char *code, int64_t expires_at,
                         int64_t max_attempts, int64_t now, int64_t *id, pv_error *err)
{
    if (code == NULL || strlen(code) < 4)
        return pv_error_set(err, PV_EINVAL, "binding code: at least 4 characters are required");
    if (expires_at <= now)
        return pv_error_set(err, PV_EINVAL, "binding code: expiry must be in the future");
    char hash[65], hint[3] = {code[0], code[1], '\0'};
    int rc = code_hash(s, code, hash, err); /* the code itself is never stored (DESIGN 5) */
    if (rc != 0)
        return rc;
    int64_t new_id = 0;
    rc = pv__int(s, sql_code_create,
                 PV_ARGS(PV_I(account_id), PV_T(hash), PV_T(hint), PV_I(now), PV_I(expires_at),
                         PV_I(max_attempts > 0 ? max_attempts : 5)),
                 &new_id, err);
    if (rc == PV_ENOENT)
        return pv_error_set(err, rc, "binding code: account %lld does not exist",
                            (long long)account_id);
    if (rc == PV_EEXIST)
        return pv_error_set(err, rc, "binding code %s…: this code exists already", hint);
    if (rc != 0)
        return rc;
    if (id != NULL)
        *id = new_id;
    return 0;
}

/*
 * The lookup is by keyed hash of the candidate through a unique index: the
 * time it takes does not depend on how many leading characters of a real
 * code the candidate shares, which is what constant-time compare is for.
 * Rows written before schema step 2 hold a bare SHA-256 (keyed = 0) and are
 * found by that until they expire. The attempt counter is bumped in the same
 * statement, so two concurrent redemptions cannot both see an unused code
 * (the write lock serialises them and the second finds used_at set).
 */
static const char sql_code_attempt[] =
    "UPDATE binding_codes SET attempts = attempts + 1 "
    "WHERE code_hash = $1 OR (keyed = 0 AND code_hash = $2) "
    "RETURNING id, account_id, expires_at, used_at, attempts, max_attempts, used_by, "
    "used_fingerprint";
static const char sql_code_use[] = "UPDATE binding_codes SET used_at = $2, used_by = $3, "
                                   "used_fingerprint = $4 WHERE id = $1 AND used_at IS NULL";

/* issue 19.3: the phone that used the code, asking again with the same
 * certificate while the code lives (at least PV_STORE_CODE_RETRY s after its
 * use), lost the answer: it may have it again. */
static bool same_redeemer(int64_t used, int64_t expires, const char *used_by, const char *used_fp,
                          const char *mac, const char *fingerprint, int64_t now)
{
    int64_t until = expires > used + PV_STORE_CODE_RETRY ? expires : used + PV_STORE_CODE_RETRY;
    return fingerprint != NULL && fingerprint[0] != '\0' && strcmp(used_by, mac) == 0 &&
           strcasecmp(used_fp, fingerprint) == 0 && now < until;
}

static int redeem(pv_store *s, const char *const hash[2], const char *hint, const char *mac,
                  const char *fingerprint, int64_t now, int64_t *account_id, bool *again,
                  pv_error *err)
{
    pv__stmt *st = NULL;
    int rc = pv__query(s, sql_code_attempt, PV_ARGS(PV_T(hash[0]), PV_T(hash[1])), &st, err);
    if (rc == 0)
        rc = pv__next(s, st, err);
    if (rc == 0)
        return pv_error_set(err, PV_ENOENT, "binding code %s…: no such code", hint);
    if (rc < 0)
        return rc;
    int64_t id = pv__col_int(s, st, 0), acct = pv__col_int(s, st, 1);
    int64_t expires = pv__col_int(s, st, 2), used = pv__col_int(s, st, 3);
    int64_t attempts = pv__col_int(s, st, 4), max = pv__col_int(s, st, 5);
    char used_by[13], used_fp[72];
    pv__col_copy(s, st, 6, used_by, sizeof used_by);
    pv__col_copy(s, st, 7, used_fp, sizeof used_fp);
    pv__done(s, st);
    if (used != 0 && same_redeemer(used, expires, used_by, used_fp, mac, fingerprint, now)) {
        *account_id = acct;
        *again = true;
        return 0;
    }
    if (attempts > max)
        return pv_error_set(err, PV_ELIMIT, "binding code %s…: locked after %lld attempts", hint,
                            (long long)max);
    if (used != 0)
        return pv_error_set(err, PV_ECONFLICT, "binding code %s…: already used", hint);
    if (now >= expires)
        return pv_error_set(err, PV_ETIMEDOUT, "binding code %s…: expired", hint);
    int64_t changed = 0;
    rc = pv__exec(s, sql_code_use,
                  PV_ARGS(PV_I(id), PV_I(now), PV_T(mac), PV_T(fingerprint ? fingerprint : "")),
                  &changed, err);
    if (rc == 0 && changed != 1)
        rc = pv_error_set(err, PV_ECONFLICT, "binding code %s…: already used", hint);
    if (rc == 0)
        *account_id = acct;
    return rc;
}

int pv_store_code_redeem(pv_store *s, const char *code, const char *mac, const char *fingerprint,
                         int64_t now, int64_t *account_id, bool *again, pv_error *err)
{
    char m[13], keyed[65], bare[65], hint[3] = "";
    *again = false;
    int rc = pv_store_mac_normalize(mac, m, err);
    if (rc != 0)
        return rc;
    if (code == NULL || code[0] == '\0')
        return pv_error_set(err, PV_EINVAL, "binding code: empty");
    (void)snprintf(hint, sizeof hint, "%s", code);
    if ((rc = code_hash(s, code, keyed, err)) != 0)
        return rc;
    pv__sha256_hex(code, bare); /* rows from before schema step 2 */
    const char *const hash[2] = {keyed, bare};
    if ((rc = pv_store_begin(s, err)) != 0)
        return rc;
    rc = redeem(s, hash, hint, m, fingerprint, now, account_id, again, err);
    OPENSSL_cleanse(keyed, sizeof keyed);
    OPENSSL_cleanse(bare, sizeof bare);
    /* A refused attempt is committed too: the counter is what locks a code. */
    int crc = rc == PV_ESTORE || rc == PV_EBUSY ? (pv_store_rollback(s), 0)
                                                : pv_store_commit(s, rc == 0 ? err : NULL);
    return rc != 0 ? rc : crc;
}

#define CODE_COLS                                                                                  \
    "id, account_id, hint, created_at, expires_at, used_at, used_by, attempts, "                   \
    "max_attempts"

static void read_code(pv_store *s, pv__stmt *st, void *row)
{
    pv_store_code *c = row;
    c->id = pv__col_int(s, st, 0);
    c->account_id = pv__col_int(s, st, 1);
    pv__col_copy(s, st, 2, c->hint, sizeof c->hint);
    c->created_at = pv__col_int(s, st, 3);
    c->expires_at = pv__col_int(s, st, 4);
    c->used_at = pv__col_int(s, st, 5);
    pv__col_copy(s, st, 6, c->used_by, sizeof c->used_by);
    c->attempts = pv__col_int(s, st, 7);
    c->max_attempts = pv__col_int(s, st, 8);
}

static void free_nothing(void *row)
{
}

static const pv__list_spec code_list = {sizeof(pv_store_code), read_code, free_nothing, 0};
static const char sql_code_list[] = "SELECT " CODE_COLS " FROM binding_codes "
                                    "WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3";

int pv_store_code_list(pv_store *s, int64_t account_id, pv_store_page *page, pv_store_code **rows,
                       size_t *n, pv_error *err)
{
    int64_t after = 0;
    int rc = pv__page_after_int(page, &after, err);
    if (rc != 0)
        return rc;
    return pv__list(s, &code_list, sql_code_list,
                    PV_ARGS(PV_I(account_id), PV_I(after), PV_I((int64_t)pv__page_limit(page) + 1)),
                    page, (void **)rows, n, err);
}

static const char sql_code_delete[] = "DELETE FROM binding_codes WHERE id = $1";

int pv_store_code_delete(pv_store *s, int64_t id, pv_error *err)
{
    int64_t changed = 0;
    int rc = pv__exec(s, sql_code_delete, PV_ARGS(PV_I(id)), &changed, err);
    if (rc == 0 && changed == 0)
        rc = pv_error_set(err, PV_ENOENT, "binding code %lld: no such code", (long long)id);
    return rc;
}

/* ---- rate limits --------------------------------------------------------------- */

/* One statement: a new window resets the count, the same window adds one. */
static const char sql_rate_hit[] =
    "INSERT INTO rate_limits (name, window_start, hits) VALUES ($1, $2, 1) "
    "ON CONFLICT (name) DO UPDATE SET "
    "hits = CASE WHEN rate_limits.window_start = excluded.window_start "
    "THEN rate_limits.hits + 1 ELSE 1 END, window_start = excluded.window_start "
    "RETURNING hits";

int pv_store_rate_hit(pv_store *s, const char *key, int64_t now, int64_t window, int64_t limit,
                      int64_t *count, pv_error *err)
{
    if (key == NULL || window <= 0)
        return pv_error_set(err, PV_EINVAL, "rate limit: a key and a positive window are needed");
    int64_t hits = 0;
    int rc = pv__int(s, sql_rate_hit, PV_ARGS(PV_T(key), PV_I(now - now % window)), &hits, err);
    if (rc != 0)
        return rc;
    if (count != NULL)
        *count = hits;
    if (hits > limit)
        return pv_error_set(err, PV_ELIMIT, "rate limit: %lld attempts in %lld s (limit %lld)",
                            (long long)hits, (long long)window, (long long)limit);
    return 0;
}

static const char sql_rate_count[] =
    "SELECT CASE WHEN window_start = $2 THEN hits ELSE 0 END FROM rate_limits WHERE name = $1";

int pv_store_rate_count(pv_store *s, const char *key, int64_t now, int64_t window, int64_t *count,
                        pv_error *err)
{
    if (key == NULL || window <= 0)
        return pv_error_set(err, PV_EINVAL, "rate limit: a key and a positive window are needed");
    *count = 0;
    int rc = pv__int(s, sql_rate_count, PV_ARGS(PV_T(key), PV_I(now - now % window)), count, err);
    return rc == PV_ENOENT ? 0 : rc;
}

/* Counters whose window ended before `before` count nothing any more: a
 * bounded DELETE of them (issue 11 item 3: a flood of sources leaves a row
 * per source). */
static const char sql_rate_prune[] =
    "DELETE FROM rate_limits WHERE name IN "
    "(SELECT name FROM rate_limits WHERE window_start < $1 LIMIT $2)";

int pv_store_rate_prune(pv_store *s, int64_t before, int64_t chunk, int64_t *deleted, pv_error *err)
{
    *deleted = 0;
    return pv__exec(s, sql_rate_prune, PV_ARGS(PV_I(before), PV_I(chunk)), deleted, err);
}

/* ---- admin tokens -------------------------------------------------------------- */

#define TOKEN_COLS "id, name, created_at, last_used_at, revoked_at, role, account_id"

static void read_token(pv_store *s, pv__stmt *st, void *row)
{
    pv_store_token *t = row;
    t->id = pv__col_int(s, st, 0);
    t->name = pv__col_dup(s, st, 1);
    t->created_at = pv__col_int(s, st, 2);
    t->last_used_at = pv__col_int(s, st, 3);
    t->revoked_at = pv__col_int(s, st, 4);
    t->role = pv__col_dup(s, st, 5);
    t->account_id = pv__col_int(s, st, 6);
}

void pv_store_token_free(pv_store_token *t)
{
    free(t->name);
    free(t->role);
    memset(t, 0, sizeof *t);
}

static void free_token(void *row)
{
    pv_store_token_free(row);
}

void pv_store_tokens_free(pv_store_token *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pv_store_token_free(&rows[i]);
    free(rows);
}

static const char sql_token_create[] =
    "INSERT INTO admin_tokens (name, token_hash, created_at, role, account_id) "
    "VALUES ($1, $2, $3, $4, NULLIF($5, 0)) RETURNING id";

int pv_store_token_create(pv_store *s, const char *name, const char *token, const char *role,
                          int64_t account_id, int64_t now, int64_t *id, pv_error *err)
{
    if (name == NULL || name[0] == '\0')
        return pv_error_set(err, PV_EINVAL, "admin token: a name is required");
    if (token == NULL || strlen(token) < 16)
        return pv_error_set(err, PV_EINVAL, "admin token '%.40s': at least 16 characters", name);
    if (role == NULL || (strcmp(role, "customer") == 0) != (account_id != 0))
        return pv_error_set(err, PV_EINVAL,
                            "admin token '%.40s': a customer token names one account, the "
                            "other roles none",
                            name);
    char hash[65];
    pv__sha256_hex(token, hash);
    int64_t new_id = 0;
    int rc = pv__int(s, sql_token_create,
                     PV_ARGS(PV_T(name), PV_T(hash), PV_I(now), PV_T(role), PV_I(account_id)),
                     &new_id, err);
    if (rc == PV_EEXIST)
        return pv_error_set(err, rc, "admin token '%.40s': the name or the token is taken", name);
    if (rc == 0 && id != NULL)
        *id = new_id;
    return rc;
}

static const char sql_token_use[] = "UPDATE admin_tokens SET last_used_at = $2 "
                                    "WHERE token_hash = $1 RETURNING " TOKEN_COLS;

int pv_store_token_check(pv_store *s, const char *token, int64_t now, pv_store_token *out,
                         pv_error *err)
{
    char hash[65];
    pv__sha256_hex(token != NULL ? token : "", hash);
    pv__stmt *st = NULL;
    int rc = pv__query(s, sql_token_use, PV_ARGS(PV_T(hash), PV_I(now)), &st, err);
    if (rc == 0)
        rc = pv__next(s, st, err);
    if (rc == 0)
        return pv_error_set(err, PV_ENOENT, "admin token: unknown");
    if (rc < 0)
        return rc;
    pv_store_token t = {0};
    read_token(s, st, &t);
    pv__done(s, st);
    OPENSSL_cleanse(hash, sizeof hash);
    if (t.revoked_at != 0) {
        rc = pv_error_set(err, PV_EACCES, "admin token '%.40s': revoked", t.name);
        pv_store_token_free(&t);
        return rc;
    }
    if (out != NULL)
        *out = t;
    else
        pv_store_token_free(&t);
    return 0;
}

static const char sql_token_revoke[] =
    "UPDATE admin_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL";

int pv_store_token_revoke(pv_store *s, const char *name, int64_t now, pv_error *err)
{
    int64_t changed = 0;
    int rc = pv__exec(s, sql_token_revoke, PV_ARGS(PV_T(name), PV_I(now)), &changed, err);
    if (rc == 0 && changed == 0)
        rc = pv_error_set(err, PV_ENOENT, "admin token '%.40s': no such active token", name);
    return rc;
}

static const pv__list_spec token_list = {sizeof(pv_store_token), read_token, free_token, 0};
static const char sql_token_list[] =
    "SELECT " TOKEN_COLS " FROM admin_tokens WHERE id > $1 ORDER BY id LIMIT $2";

int pv_store_token_list(pv_store *s, pv_store_page *page, pv_store_token **rows, size_t *n,
                        pv_error *err)
{
    int64_t after = 0;
    int rc = pv__page_after_int(page, &after, err);
    if (rc != 0)
        return rc;
    return pv__list(s, &token_list, sql_token_list,
                    PV_ARGS(PV_I(after), PV_I((int64_t)pv__page_limit(page) + 1)), page,
                    (void **)rows, n, err);
}
