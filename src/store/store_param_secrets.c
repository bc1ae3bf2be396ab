/*
 * store_param_secrets.c — secret parameters sealed at rest (issue 11, "secrets at rest").
 *
 * A parameter is secret when its name holds "password", "passwd" or "secret" in any case:
 * Password_1_ (a line's SIP password, spec 3.1), Admin_Passwd, User_Password,
 * Proxy_Password, ... Its value is stored as "sealed:" + hex of the master-key seal
 * (secrets.h, AES-256-GCM), with the associated data "param:<scope>:<name>", so that a
 * sealed value moved to another set or name fails to open. Reads open it again, so the
 * renderer, the admin API and the CLI see the value as it was set.
 *
 * Without a master key loaded the store keeps the value as given; pv_store_secrets_load seals
 * every such plain value it finds (the migration of rows written before sealing existed).
 */
#include "store/store.h"

#include "core/alloc.h"
#include "store/store_int.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEALED_PREFIX "sealed:"

bool pv_store_param_is_secret(const char *name)
{
    return strcasestr(name, "password") != NULL || strcasestr(name, "passwd") != NULL ||
           strcasestr(name, "secret") != NULL;
}

static void aad_of(const char *scope, const char *name, pv_buf *aad)
{
    pv_buf_appendf(aad, "param:%s:%s", scope, name);
}

int pv__param_seal(pv_store *s, const char *scope, const char *name, const char *value,
                   char **sealed, pv_error *err)
{
    *sealed = NULL;
    if (s->secrets == NULL || !pv_store_param_is_secret(name) ||
        strncmp(value, SEALED_PREFIX, strlen(SEALED_PREFIX)) == 0)
        return 0;
    pv_buf aad = {0}, box = {0};
    aad_of(scope, name, &aad);
    int rc = pv_secrets_seal(s->secrets, aad.data, value, strlen(value), &box, err);
    if (rc == 0) {
        size_t prefix = strlen(SEALED_PREFIX);
        *sealed = pv_malloc(prefix + box.len * 2 + 1);
        memcpy(*sealed, SEALED_PREFIX, prefix);
        pv_hex_encode(box.data, box.len, *sealed + prefix);
    }
    pv_buf_free(&aad);
    pv_buf_free(&box);
    return rc;
}

int pv__param_open(pv_store *s, const char *scope, const char *name, char **value, pv_error *err)
{
    size_t prefix = strlen(SEALED_PREFIX);
    if (*value == NULL || !pv_store_param_is_secret(name) ||
        strncmp(*value, SEALED_PREFIX, prefix) != 0)
        return 0;
    if (s->secrets == NULL)
        return pv_error_set(err, PV_EACCES,
                            "%s: parameter %.60s is sealed under the master key, which is not "
                            "loaded",
                            scope, name);
    const char *hex = *value + prefix;
    size_t n = strlen(hex) / 2;
    unsigned char *box = pv_malloc(n + 1);
    int rc = strlen(hex) % 2 == 0 ? 0 : PV_EFORMAT;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int hi = pv_hex_value(hex[2 * i]), lo = pv_hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            rc = PV_EFORMAT;
        box[i] = (unsigned char)(hi << 4 | lo);
    }
    pv_buf aad = {0}, plain = {0};
    aad_of(scope, name, &aad);
    if (rc != 0)
        rc = pv_error_set(err, rc, "%s: parameter %.60s: damaged sealed value", scope, name);
    else
        rc = pv_secrets_open(s->secrets, aad.data, box, n, &plain, err);
    if (rc == 0) {
        OPENSSL_cleanse(*value, strlen(*value));
        free(*value);
        *value = pv_buf_take(&plain, NULL);
    }
    pv_buf_free(&aad);
    pv_buf_free(&plain);
    free(box);
    return rc;
}

typedef struct plain_row {
    int64_t set_id;
    char *scope, *name, *value;
} plain_row;

static const char sql_plain[] =
    "SELECT e.set_id, p.scope, e.name, e.value FROM param_entries e "
    "JOIN param_sets p ON p.id = e.set_id WHERE e.value NOT LIKE 'sealed:%'";
static const char sql_reseal[] =
    "UPDATE param_entries SET value = $3 WHERE set_id = $1 AND name = $2 AND value = $4";

int pv__params_seal_plain(pv_store *s, pv_error *err)
{
    pv__stmt *st = NULL;
    plain_row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc = pv__query(s, sql_plain, PV_NOARGS, &st, err);
    while (rc == 0 && (rc = pv__next(s, st, err)) == 1) {
        rc = 0;
        char *name = pv__col_dup(s, st, 2);
        if (name == NULL || !pv_store_param_is_secret(name)) {
            free(name);
            continue;
        }
        plain_row *r = pv__rows_push((void **)&rows, &n, &cap, sizeof *r);
        r->set_id = pv__col_int(s, st, 0);
        r->scope = pv__col_dup(s, st, 1);
        r->name = name;
        r->value = pv__col_dup(s, st, 3);
    }
    if (rc == 0 && n > 0 && (rc = pv_store_begin(s, err)) == 0) {
        for (size_t i = 0; rc == 0 && i < n; i++) {
            char *sealed = NULL;
            rc = pv__param_seal(s, rows[i].scope, rows[i].name, rows[i].value, &sealed, err);
            if (rc == 0 && sealed != NULL)
                rc = pv__exec(s, sql_reseal,
                              PV_ARGS(PV_I(rows[i].set_id), PV_T(rows[i].name), PV_T(sealed),
                                      PV_T(rows[i].value)),
                              NULL, err);
            free(sealed);
        }
        if (rc == 0)
            rc = pv_store_commit(s, err);
        else
            pv_store_rollback(s);
    }
    for (size_t i = 0; i < n; i++) {
        free(rows[i].scope);
        free(rows[i].name);
        if (rows[i].value != NULL)
            OPENSSL_cleanse(rows[i].value, strlen(rows[i].value));
        free(rows[i].value);
    }
    free(rows);
    return rc;
}
