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
 * Account settings get the same treatment for strings under secret-looking keys (below).
 *
 * Without a master key loaded the store keeps the value as given; pv_store_secrets_load seals
 * every such plain value it finds (the migration of rows written before sealing existed).
 */
#include "store/store.h"

#include "core/alloc.h"
#include "store/store_int.h"

#include <jansson.h>
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

/* The sealed text of value under aad: "sealed:" + hex of the master-key seal. */
static int seal_hex(pv_store *s, const char *aad, const char *value, char **sealed,
                    pv_error *err)
{
    pv_buf box = {0};
    int rc = pv_secrets_seal(s->secrets, aad, value, strlen(value), &box, err);
    if (rc == 0) {
        size_t prefix = strlen(SEALED_PREFIX);
        *sealed = pv_malloc(prefix + box.len * 2 + 1);
        memcpy(*sealed, SEALED_PREFIX, prefix);
        pv_hex_encode(box.data, box.len, *sealed + prefix);
    }
    pv_buf_free(&box);
    return rc;
}

static bool is_sealed(const char *value)
{
    return strncmp(value, SEALED_PREFIX, strlen(SEALED_PREFIX)) == 0;
}

/* The plaintext (pv_malloc'd) of a "sealed:" text under aad; what names the value in
 * messages. */
static int open_hex(pv_store *s, const char *aad, const char *what, const char *value,
                    char **plain_out, pv_error *err)
{
    if (s->secrets == NULL)
        return pv_error_set(err, PV_EACCES,
                            "%s is sealed under the master key, which is not loaded", what);
    const char *hex = value + strlen(SEALED_PREFIX);
    size_t n = strlen(hex) / 2;
    unsigned char *box = pv_malloc(n + 1);
    int rc = strlen(hex) % 2 == 0 ? 0 : PV_EFORMAT;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int hi = pv_hex_value(hex[2 * i]), lo = pv_hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            rc = PV_EFORMAT;
        box[i] = (unsigned char)(hi << 4 | lo);
    }
    pv_buf plain = {0};
    if (rc != 0)
        rc = pv_error_set(err, rc, "%s: damaged sealed value", what);
    else
        rc = pv_secrets_open(s->secrets, aad, box, n, &plain, err);
    if (rc == 0)
        *plain_out = pv_buf_take(&plain, NULL);
    pv_buf_free(&plain);
    free(box);
    return rc;
}

int pv__param_seal(pv_store *s, const char *scope, const char *name, const char *value,
                   char **sealed, pv_error *err)
{
    *sealed = NULL;
    if (s->secrets == NULL || !pv_store_param_is_secret(name) || is_sealed(value))
        return 0;
    pv_buf aad = {0};
    aad_of(scope, name, &aad);
    int rc = seal_hex(s, aad.data, value, sealed, err);
    pv_buf_free(&aad);
    return rc;
}

int pv__param_open(pv_store *s, const char *scope, const char *name, char **value, pv_error *err)
{
    if (*value == NULL || !pv_store_param_is_secret(name) || !is_sealed(*value))
        return 0;
    pv_buf aad = {0}, what = {0};
    aad_of(scope, name, &aad);
    pv_buf_appendf(&what, "%s: parameter %.60s", scope, name);
    char *plain = NULL;
    int rc = open_hex(s, aad.data, what.data, *value, &plain, err);
    if (rc == 0) {
        OPENSSL_cleanse(*value, strlen(*value));
        free(*value);
        *value = plain;
    }
    pv_buf_free(&aad);
    pv_buf_free(&what);
    return rc;
}

/* ---- account settings ---------------------------------------------------------
 * A string under a secret-looking key anywhere in an account's settings JSON
 * ({"lines":[{"user":"2001","password":"s3cret"}]}) is sealed the same way, with the
 * associated data "settings:<key>": a sealed value moved to another key fails to open.
 * Settings are sealed as a whole text: only when some key looks secret (a strcasestr
 * first, so a render's account read pays nothing when none does). */

bool pv__settings_may_hold(const char *json)
{
    return strcasestr(json, "password") != NULL || strcasestr(json, "passwd") != NULL ||
           strcasestr(json, "secret") != NULL;
}

/* Seals (sealing) or opens every string under a secret key of v; *changed when any was. */
static int settings_walk(pv_store *s, json_t *v, bool sealing, bool *changed, pv_error *err)
{
    int rc = 0;
    if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            if ((rc = settings_walk(s, item, sealing, changed, err)) != 0)
                return rc;
        }
        return 0;
    }
    const char *key;
    json_t *item;
    json_object_foreach(v, key, item) {
        if (!json_is_string(item) || !pv_store_param_is_secret(key)) {
            if ((json_is_object(item) || json_is_array(item)) &&
                (rc = settings_walk(s, item, sealing, changed, err)) != 0)
                return rc;
            continue;
        }
        const char *text = json_string_value(item);
        if (is_sealed(text) == sealing) /* already as wanted */
            continue;
        char aad[160], *out = NULL;
        (void)snprintf(aad, sizeof aad, "settings:%.120s", key);
        if (sealing) {
            rc = seal_hex(s, aad, text, &out, err);
        } else {
            char what[160];
            (void)snprintf(what, sizeof what, "account settings: %.120s", key);
            rc = open_hex(s, aad, what, text, &out, err);
        }
        if (rc != 0)
            return rc;
        json_string_set(item, out);
        OPENSSL_cleanse(out, strlen(out));
        free(out);
        *changed = true;
    }
    return 0;
}

static int settings_convert(pv_store *s, const char *settings, bool sealing, char **out,
                            pv_error *err)
{
    *out = NULL;
    if (settings == NULL || !pv__settings_may_hold(settings) || (sealing && s->secrets == NULL) ||
        (!sealing && strstr(settings, SEALED_PREFIX) == NULL))
        return 0;
    json_t *root = json_loads(settings, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(root)) { /* account_check refuses it before a write */
        json_decref(root);
        return 0;
    }
    bool changed = false;
    int rc = settings_walk(s, root, sealing, &changed, err);
    if (rc == 0 && changed)
        *out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root); /* jansson frees the replaced strings; their copies were cleansed */
    return rc;
}

int pv__settings_seal(pv_store *s, const char *settings, char **sealed, pv_error *err)
{
    return settings_convert(s, settings, true, sealed, err);
}

int pv__settings_open(pv_store *s, char **settings, pv_error *err)
{
    char *plain = NULL;
    int rc = settings_convert(s, *settings, false, &plain, err);
    if (rc == 0 && plain != NULL) {
        free(*settings);
        *settings = plain;
    }
    return rc;
}

typedef struct plain_row {
    int64_t set_id;
    char *scope, *name, *value;
} plain_row;

/* Every store open with a master key runs this: the names are matched in SQL
 * (pv_store_param_is_secret's words, lower() because PostgreSQL's LIKE is
 * case-sensitive) so that a store of a million devices is one scan, not a
 * million rows copied out to be looked at (issue 18: 7 s and 70 MB per open). */
static const char sql_plain[] =
    "SELECT e.set_id, p.scope, e.name, e.value FROM param_entries e "
    "JOIN param_sets p ON p.id = e.set_id WHERE e.value NOT LIKE 'sealed:%' AND "
    "(lower(e.name) LIKE '%password%' OR lower(e.name) LIKE '%passwd%' OR "
    "lower(e.name) LIKE '%secret%')";
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
