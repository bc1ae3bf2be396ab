/*
 * store_secrets.c — per-device keys and secret directories with their
 * rotation history (DESIGN 6), sealed under the master key (secrets.h).
 *
 * A device has at most two live secrets: the current one and, until the
 * phone has fetched with the current one, the previous one — so a rotation
 * served inside an encrypted profile never strands a phone that missed it.
 * Older rows are kept with retired_at set: the history says when each key
 * was made, first used and dropped.
 */
#include "store/store.h"

#include "store/store_int.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

static const char check_name[] = "master_key_check";
static const char check_text[] = "provisor master key check v1";

int pv_store_secrets_load(pv_store *s, const char *key_path, bool create, pv_error *err)
{
    pv_secrets *k = NULL;
    int rc = pv_secrets_load(key_path, create, &k, err);
    if (rc != 0)
        return rc;
    /* A check value sealed under the key tells, at load time, whether this
     * key is the one the database's secrets were sealed with. */
    pv_buf check = {0}, plain = {0};
    rc = pv_store_meta_get(s, check_name, &check, NULL);
    if (rc == PV_ENOENT) {
        rc = pv_secrets_seal(k, check_name, check_text, strlen(check_text), &plain, err);
        if (rc == 0)
            rc = pv_store_meta_set(s, check_name, plain.data, plain.len, err);
    } else if (rc == 0) {
        rc = pv_secrets_open(k, check_name, check.data, check.len, &plain, NULL);
        if (rc != 0)
            rc = pv_error_set(err, PV_EDECRYPT,
                              "master key file %s does not match this database: its device keys "
                              "were sealed under another master key (restore that file)",
                              key_path);
    } else {
        rc = pv_store_meta_get(s, check_name, &check, err); /* again, for the message */
    }
    pv_buf_free(&check);
    pv_buf_free(&plain);
    if (rc != 0) {
        pv_secrets_free(k);
        return rc;
    }
    pv_secrets_free(s->secrets);
    s->secrets = k;
    /* Secret parameters written while no key was loaded, or before sealing existed: sealed
     * now (issue 11 "secrets at rest"; store_param_secrets.c). */
    rc = pv__params_seal_plain(s, err);
    return rc != 0 ? rc : pv__accounts_seal_plain(s, err);
}

bool pv_store_secrets_loaded(const pv_store *s)
{
    return s->secrets != NULL;
}

static int need_key(pv_store *s, pv_error *err)
{
    if (s->secrets == NULL)
        return pv_error_set(err, PV_EACCES,
                            "device secrets: no master key loaded (pv_store_secrets_load)");
    return 0;
}

/* Directory names go into URLs ($B in the Profile_Rule, spec 12.2). */
static int dir_check(const char *dir, pv_error *err)
{
    size_t len = strlen(dir);
    size_t ok = strspn(dir, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
    if (len == 0 || len >= sizeof(((pv_store_secret *)0)->dir) || ok != len)
        return pv_error_set(err, PV_EINVAL,
                            "secret directory: column %zu: want 1 to 63 letters, digits, '_' or "
                            "'-'",
                            ok + 1);
    return 0;
}

/* 16 characters of base32: 80 random bits, no modulo bias. */
static int random_dir(char *out, pv_error *err)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    unsigned char r[16];
    int rc = pv_secrets_random(r, sizeof r, err);
    for (size_t i = 0; rc == 0 && i < sizeof r; i++)
        out[i] = alphabet[r[i] & 31];
    out[16] = '\0';
    return rc;
}

static const char sql_retire_old[] =
    "UPDATE device_secrets SET retired_at = $2 WHERE mac = $1 AND retired_at IS NULL "
    "AND id < (SELECT MAX(id) FROM device_secrets WHERE mac = $1)";
static const char sql_insert[] = "INSERT INTO device_secrets (mac, key_sealed, dir_sealed, "
                                 "created_at) VALUES ($1, $2, $3, $4) RETURNING id";

static int rotate(pv_store *s, const char *mac, pv_store_secret *sec, pv_error *err)
{
    char aad_key[32], aad_dir[32];
    (void)snprintf(aad_key, sizeof aad_key, "device-key:%s", mac);
    (void)snprintf(aad_dir, sizeof aad_dir, "device-dir:%s", mac);
    pv_buf key = {0}, dir = {0};
    int rc = pv_secrets_seal(s->secrets, aad_key, sec->key, sizeof sec->key, &key, err);
    if (rc == 0)
        rc = pv_secrets_seal(s->secrets, aad_dir, sec->dir, strlen(sec->dir), &dir, err);
    /* The current secret becomes the previous one; anything older retires. */
    if (rc == 0)
        rc = pv__exec(s, sql_retire_old, PV_ARGS(PV_T(mac), PV_I(sec->created_at)), NULL, err);
    if (rc == 0)
        rc = pv__int(s, sql_insert,
                     PV_ARGS(PV_T(mac), PV_B(key.data, key.len), PV_B(dir.data, dir.len),
                             PV_I(sec->created_at)),
                     &sec->id, err);
    if (rc == PV_ENOENT)
        rc = pv_error_set(err, rc, "device %s: no such device", mac);
    pv_buf_free(&key);
    pv_buf_free(&dir);
    return rc;
}

int pv_store_secret_rotate(pv_store *s, const char *mac, const unsigned char *key, const char *dir,
                           int64_t now, pv_store_secret *out, pv_error *err)
{
    char m[13];
    int rc = need_key(s, err);
    if (rc == 0)
        rc = pv_store_mac_normalize(mac, m, err);
    pv_store_secret sec = {.created_at = now};
    if (rc == 0 && key != NULL)
        memcpy(sec.key, key, sizeof sec.key);
    else if (rc == 0)
        rc = pv_secrets_random(sec.key, sizeof sec.key, err);
    if (rc == 0 && dir != NULL && (rc = dir_check(dir, err)) == 0)
        (void)snprintf(sec.dir, sizeof sec.dir, "%s", dir);
    else if (rc == 0 && dir == NULL)
        rc = random_dir(sec.dir, err);
    if (rc == 0 && (rc = pv_store_begin(s, err)) == 0) {
        rc = rotate(s, m, &sec, err);
        if (rc != 0)
            pv_store_rollback(s);
        else
            rc = pv_store_commit(s, err);
    }
    if (rc == 0 && out != NULL)
        *out = sec;
    OPENSSL_cleanse(&sec, sizeof sec);
    return rc;
}

static const char sql_live[] = "SELECT " SECRET_COLS " FROM device_secrets "
                               "WHERE mac = $1 AND retired_at IS NULL ORDER BY id DESC LIMIT 2";

int pv__secret_unseal(pv_store *s, pv__stmt *st, int base, const char *mac, pv_store_secret *out,
                      pv_error *err)
{
    char aad[32];
    pv_buf plain = {0};
    size_t len = 0;
    const void *p = pv__col_blob(s, st, base + 1, &len);
    (void)snprintf(aad, sizeof aad, "device-key:%s", mac);
    int rc = pv_secrets_open(s->secrets, aad, p, len, &plain, err);
    if (rc == 0 && plain.len != sizeof out->key)
        rc = pv_error_set(err, PV_EFORMAT, "%s: key of %zu bytes, want 32", aad, plain.len);
    if (rc == 0)
        memcpy(out->key, plain.data, sizeof out->key);
    if (plain.data != NULL)
        OPENSSL_cleanse(plain.data, plain.len);
    pv_buf_reset(&plain);
    if (rc == 0) {
        p = pv__col_blob(s, st, base + 2, &len);
        (void)snprintf(aad, sizeof aad, "device-dir:%s", mac);
        rc = pv_secrets_open(s->secrets, aad, p, len, &plain, err);
    }
    if (rc == 0)
        (void)snprintf(out->dir, sizeof out->dir, "%s", plain.data); /* checked at rotation */
    pv_buf_free(&plain);
    out->id = pv__col_int(s, st, base + 0);
    out->created_at = pv__col_int(s, st, base + 3);
    out->confirmed_at = pv__col_int(s, st, base + 4);
    return rc;
}

static int unseal(pv_store *s, pv__stmt *st, const char *mac, pv_store_secret *out, pv_error *err)
{
    return pv__secret_unseal(s, st, 0, mac, out, err);
}

int pv_store_secret_get(pv_store *s, const char *mac, pv_store_secret *current,
                        pv_store_secret *previous, bool *has_previous, pv_error *err)
{
    char m[13];
    int rc = need_key(s, err);
    if (rc == 0)
        rc = pv_store_mac_normalize(mac, m, err);
    pv__stmt *st = NULL;
    if (rc == 0)
        rc = pv__query(s, sql_live, PV_ARGS(PV_T(m)), &st, err);
    if (rc == 0)
        rc = pv__next(s, st, err);
    if (rc == 0)
        return pv_error_set(err, PV_ENOENT, "device %s: no key and directory yet", m);
    if (rc < 0)
        return rc;
    memset(current, 0, sizeof *current);
    rc = unseal(s, st, m, current, err);
    bool prev = false;
    if (rc == 0 && (rc = pv__next(s, st, err)) == 1) {
        prev = current->confirmed_at == 0;
        rc = 0;
        if (prev && previous != NULL) {
            memset(previous, 0, sizeof *previous);
            rc = unseal(s, st, m, previous, err);
        }
    }
    pv__done(s, st);
    if (has_previous != NULL)
        *has_previous = prev && rc == 0;
    if (rc != 0)
        OPENSSL_cleanse(current, sizeof *current);
    return rc;
}

static const char sql_confirm[] =
    "UPDATE device_secrets SET confirmed_at = COALESCE(confirmed_at, $3) "
    "WHERE mac = $1 AND id = $2 AND retired_at IS NULL";
static const char sql_retire_before[] =
    "UPDATE device_secrets SET retired_at = $3 WHERE mac = $1 AND id < $2 AND retired_at IS NULL";

int pv_store_secret_confirm(pv_store *s, const char *mac, int64_t id, int64_t now, pv_error *err)
{
    char m[13];
    int64_t changed = 0;
    int rc = pv_store_mac_normalize(mac, m, err);
    if (rc != 0 || (rc = pv_store_begin(s, err)) != 0)
        return rc;
    rc = pv__exec(s, sql_confirm, PV_ARGS(PV_T(m), PV_I(id), PV_I(now)), &changed, err);
    if (rc == 0 && changed == 0)
        rc = pv_error_set(err, PV_ENOENT, "device %s: no live secret %lld", m, (long long)id);
    if (rc == 0)
        rc = pv__exec(s, sql_retire_before, PV_ARGS(PV_T(m), PV_I(id), PV_I(now)), NULL, err);
    if (rc != 0) {
        pv_store_rollback(s);
        return rc;
    }
    return pv_store_commit(s, err);
}

static const char sql_history[] = "SELECT COUNT(*) FROM device_secrets WHERE mac = $1";

int pv_store_secret_history(pv_store *s, const char *mac, int64_t *count, pv_error *err)
{
    char m[13];
    int rc = pv_store_mac_normalize(mac, m, err);
    return rc != 0 ? rc : pv__int(s, sql_history, PV_ARGS(PV_T(m)), count, err);
}
