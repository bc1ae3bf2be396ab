/* store_logins.c — logins of people and their sessions; see store.h ("logins and sessions"). */
#include "store/store.h"

#include "core/alloc.h"
#include "store/store_int.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* The roles of server/roles.h, which the store only keeps (a CHECK constraint too). */
static bool role_known(const char *role)
{
    static const char *const names[] = {"customer", "viewer", "operator", "admin"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(role, names[i]) == 0)
            return true;
    return false;
}

int pv_store_login_name_check(const char *name, pv_error *err)
{
    size_t n = name != NULL ? strlen(name) : 0;
    if (n == 0 || n > 64)
        return pv_error_set(err, PV_EINVAL, "login name: 1 to 64 characters, got %zu", n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr("._@+-", c) != NULL;
        if (!ok)
            return pv_error_set(err, PV_EINVAL,
                                "login name: byte %zu is not a letter, a digit or one of . _ @ + -",
                                i + 1);
    }
    return 0;
}

/* ---- logins ------------------------------------------------------------------- */

#define LOGIN_COLS                                                                                 \
    "id, name, account_id, role, password_hash, failed_count, locked_until, last_login_at, "       \
    "created_at, updated_at"

static void read_login(pv_store *s, pv__stmt *st, void *row)
{
    pv_store_login *l = row;
    l->id = pv__col_int(s, st, 0);
    l->name = pv__col_dup(s, st, 1);
    l->account_id = pv__col_int(s, st, 2);
    pv__col_copy(s, st, 3, l->role, sizeof l->role);
    l->password_hash = pv__col_dup(s, st, 4);
    l->failed_count = pv__col_int(s, st, 5);
    l->locked_until = pv__col_int(s, st, 6);
    l->last_login_at = pv__col_int(s, st, 7);
    l->created_at = pv__col_int(s, st, 8);
    l->updated_at = pv__col_int(s, st, 9);
}

void pv_store_login_free(pv_store_login *l)
{
    if (l == NULL)
        return;
    free(l->name);
    if (l->password_hash != NULL)
        OPENSSL_cleanse(l->password_hash, strlen(l->password_hash));
    free(l->password_hash);
    memset(l, 0, sizeof *l);
}

static void free_login(void *row)
{
    pv_store_login_free(row);
}

void pv_store_logins_free(pv_store_login *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pv_store_login_free(&rows[i]);
    free(rows);
}

static const char sql_login_create[] =
    "INSERT INTO logins (name, account_id, role, password_hash, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $5) RETURNING id";

int pv_store_login_create(pv_store *s, const pv_store_login *l, int64_t now, int64_t *id,
                          pv_error *err)
{
    int rc = pv_store_login_name_check(l->name, err);
    if (rc != 0)
        return rc;
    const char *role = l->role[0] != '\0' ? l->role : "customer";
    if (!role_known(role))
        return pv_error_set(err, PV_EINVAL,
                            "login '%s': role '%.12s' is none of customer, viewer, operator, admin",
                            l->name, role);
    if ((strcmp(role, "customer") == 0) != (l->account_id > 0))
        return pv_error_set(err, PV_EINVAL,
                            "login '%s': a customer login belongs to one account, an operator "
                            "login to none",
                            l->name);
    if (l->password_hash == NULL || strncmp(l->password_hash, "$argon2id$", 10) != 0)
        return pv_error_set(err, PV_EINVAL, "login '%s': the password hash is not argon2id",
                            l->name);
    int64_t new_id = 0;
    rc = pv__int(
        s, sql_login_create,
        PV_ARGS(PV_T(l->name), PV_IZ(l->account_id), PV_T(role), PV_T(l->password_hash), PV_I(now)),
        &new_id, err);
    if (rc == PV_EEXIST)
        return pv_error_set(err, rc, "login '%s': the name is taken", l->name);
    if (rc == 0 && id != NULL)
        *id = new_id;
    return rc;
}

static const char sql_login_get[] = "SELECT " LOGIN_COLS " FROM logins WHERE name = $1";
static const char sql_login_get_id[] = "SELECT " LOGIN_COLS " FROM logins WHERE id = $1";

int pv_store_login_get(pv_store *s, const char *name, pv_store_login *out, pv_error *err)
{
    int rc = pv__get(s, sql_login_get, PV_ARGS(PV_T(name)), read_login, out, sizeof *out, err);
    if (rc == PV_ENOENT)
        return pv_error_set(err, rc, "login '%.64s': no such login", name);
    return rc;
}

int pv_store_login_get_id(pv_store *s, int64_t id, pv_store_login *out, pv_error *err)
{
    int rc = pv__get(s, sql_login_get_id, PV_ARGS(PV_I(id)), read_login, out, sizeof *out, err);
    if (rc == PV_ENOENT)
        return pv_error_set(err, rc, "login %lld: no such login", (long long)id);
    return rc;
}

static const char sql_login_password[] =
    "UPDATE logins SET password_hash = $2, failed_count = 0, locked_until = NULL, "
    "updated_at = $3 WHERE name = $1 RETURNING id";
static const char sql_sessions_of_login[] = "DELETE FROM sessions WHERE login_id = $1";

int pv_store_login_set_password(pv_store *s, const char *name, const char *password_hash,
                                int64_t now, pv_error *err)
{
    if (password_hash == NULL || strncmp(password_hash, "$argon2id$", 10) != 0)
        return pv_error_set(err, PV_EINVAL, "login '%.64s': the password hash is not argon2id",
                            name);
    int rc = pv_store_begin(s, err);
    if (rc != 0)
        return rc;
    int64_t id = 0;
    rc = pv__int(s, sql_login_password, PV_ARGS(PV_T(name), PV_T(password_hash), PV_I(now)), &id,
                 err);
    if (rc == PV_ENOENT)
        rc = pv_error_set(err, rc, "login '%.64s': no such login", name);
    if (rc == 0)
        rc = pv__exec(s, sql_sessions_of_login, PV_ARGS(PV_I(id)), NULL, err);
    if (rc != 0) {
        pv_store_rollback(s);
        return rc;
    }
    return pv_store_commit(s, err);
}

/* One statement, so two nodes counting failures of the same login at once both count. */
static const char sql_login_failed[] =
    "UPDATE logins SET failed_count = failed_count + 1, "
    "locked_until = CASE WHEN failed_count + 1 >= $2 THEN $3 ELSE locked_until END "
    "WHERE id = $1 RETURNING " LOGIN_COLS;

int pv_store_login_failed(pv_store *s, int64_t id, int64_t now, int64_t max_failures,
                          int64_t lock_seconds, pv_store_login *out, pv_error *err)
{
    pv_store_login row;
    int rc = pv__get(
        s, sql_login_failed,
        PV_ARGS(PV_I(id), PV_I(max_failures > 0 ? max_failures : 1), PV_I(now + lock_seconds)),
        read_login, &row, sizeof row, err);
    if (rc == PV_ENOENT)
        return pv_error_set(err, rc, "login %lld: no such login", (long long)id);
    if (rc != 0)
        return rc;
    if (out != NULL)
        *out = row;
    else
        pv_store_login_free(&row);
    return 0;
}

static const char sql_login_ok[] = "UPDATE logins SET failed_count = 0, locked_until = NULL, "
                                   "last_login_at = $2 WHERE id = $1";

int pv_store_login_succeeded(pv_store *s, int64_t id, int64_t now, pv_error *err)
{
    int64_t changed = 0;
    int rc = pv__exec(s, sql_login_ok, PV_ARGS(PV_I(id), PV_I(now)), &changed, err);
    if (rc == 0 && changed == 0)
        rc = pv_error_set(err, PV_ENOENT, "login %lld: no such login", (long long)id);
    return rc;
}

static const char sql_login_delete[] = "DELETE FROM logins WHERE name = $1";

int pv_store_login_delete(pv_store *s, const char *name, pv_error *err)
{
    int64_t changed = 0;
    int rc = pv__exec(s, sql_login_delete, PV_ARGS(PV_T(name)), &changed, err);
    if (rc == 0 && changed == 0)
        rc = pv_error_set(err, PV_ENOENT, "login '%.64s': no such login", name);
    return rc;
}

static const pv__list_spec login_list = {sizeof(pv_store_login), read_login, free_login, 0};
static const char sql_login_list[] = "SELECT " LOGIN_COLS " FROM logins WHERE id > $1 "
                                     "AND ($2 = 0 OR account_id = $2) ORDER BY id LIMIT $3";

int pv_store_login_list(pv_store *s, int64_t account_id, pv_store_page *page, pv_store_login **rows,
                        size_t *n, pv_error *err)
{
    int64_t after = 0;
    int rc = pv__page_after_int(page, &after, err);
    if (rc != 0)
        return rc;
    return pv__list(s, &login_list, sql_login_list,
                    PV_ARGS(PV_I(after), PV_I(account_id), PV_I((int64_t)pv__page_limit(page) + 1)),
                    page, (void **)rows, n, err);
}

/* ---- sessions ----------------------------------------------------------------- */

static const char sql_session_create[] =
    "INSERT INTO sessions (token_hash, login_id, created_at, last_seen_at, expires_at) "
    "VALUES ($1, $2, $3, $3, $4)";

int pv_store_session_create(pv_store *s, const char *token, int64_t login_id, int64_t now,
                            int64_t expires_at, pv_error *err)
{
    if (token == NULL || strlen(token) < 32)
        return pv_error_set(err, PV_EINVAL, "session: the token is too short to be secret");
    char hash[65];
    pv__sha256_hex(token, hash);
    int rc = pv__exec(s, sql_session_create,
                      PV_ARGS(PV_T(hash), PV_I(login_id), PV_I(now), PV_I(expires_at)), NULL, err);
    OPENSSL_cleanse(hash, sizeof hash);
    return rc;
}

static void read_session(pv_store *s, pv__stmt *st, void *row)
{
    pv_store_session *ses = row;
    ses->login_id = pv__col_int(s, st, 0);
    ses->created_at = pv__col_int(s, st, 1);
    ses->last_seen_at = pv__col_int(s, st, 2);
    ses->expires_at = pv__col_int(s, st, 3);
}

static const char sql_session_get[] =
    "SELECT login_id, created_at, last_seen_at, expires_at FROM sessions WHERE token_hash = $1";
static const char sql_session_delete[] = "DELETE FROM sessions WHERE token_hash = $1";

int pv_store_session_get(pv_store *s, const char *token, int64_t now, int64_t idle_seconds,
                         pv_store_session *out, pv_error *err)
{
    char hash[65];
    pv__sha256_hex(token != NULL ? token : "", hash);
    pv_store_session ses;
    int rc = pv__get(s, sql_session_get, PV_ARGS(PV_T(hash)), read_session, &ses, sizeof ses, err);
    if (rc == 0 &&
        (now >= ses.expires_at || (idle_seconds > 0 && now - ses.last_seen_at >= idle_seconds))) {
        rc = pv__exec(s, sql_session_delete, PV_ARGS(PV_T(hash)), NULL, err);
        if (rc == 0)
            rc = PV_ENOENT;
    }
    OPENSSL_cleanse(hash, sizeof hash);
    if (rc == PV_ENOENT)
        return pv_error_set(err, rc, "session: unknown or expired");
    if (rc == 0 && out != NULL)
        *out = ses;
    return rc;
}

static const char sql_session_touch[] =
    "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1";

int pv_store_session_touch(pv_store *s, const char *token, int64_t now, pv_error *err)
{
    char hash[65];
    pv__sha256_hex(token != NULL ? token : "", hash);
    int rc = pv__exec(s, sql_session_touch, PV_ARGS(PV_T(hash), PV_I(now)), NULL, err);
    OPENSSL_cleanse(hash, sizeof hash);
    return rc;
}

int pv_store_session_delete(pv_store *s, const char *token, pv_error *err)
{
    char hash[65];
    pv__sha256_hex(token != NULL ? token : "", hash);
    int rc = pv__exec(s, sql_session_delete, PV_ARGS(PV_T(hash)), NULL, err);
    OPENSSL_cleanse(hash, sizeof hash);
    return rc;
}

static const char sql_session_prune[] =
    "DELETE FROM sessions WHERE token_hash IN (SELECT token_hash FROM sessions "
    "WHERE expires_at < $1 OR last_seen_at < $2 LIMIT $3)";

int pv_store_session_prune(pv_store *s, int64_t before, int64_t idle_before, int64_t chunk,
                           int64_t *deleted, pv_error *err)
{
    *deleted = 0;
    return pv__exec(s, sql_session_prune, PV_ARGS(PV_I(before), PV_I(idle_before), PV_I(chunk)),
                    deleted, err);
}
