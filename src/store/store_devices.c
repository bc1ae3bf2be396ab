/* store_devices.c — devices and their reports; see store.h. */
#include "store/store.h"

#include "core/alloc.h"
#include "core/text.h"
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pv__read_device(pv_store *s, pv__stmt *st, int base, void *row)
{
    pv_store_device *d = row;
    pv__col_copy(s, st, base + 0, d->mac, sizeof d->mac);
    d->serial = pv__col_dup(s, st, base + 1);
    d->model = pv__col_dup(s, st, base + 2);
    d->account_id = pv__col_int(s, st, base + 3);
    d->cert_fingerprint = pv__col_dup(s, st, base + 4);
    d->require_cert = pv__col_int(s, st, base + 5) != 0;
    char state[16];
    pv__col_copy(s, st, base + 6, state, sizeof state);
    (void)pv_store_state_parse(state, &d->state); /* the schema's CHECK admits only the four */
    d->last_seen = pv__col_int(s, st, base + 7);
    d->firmware_version = pv__col_dup(s, st, base + 8);
    d->last_report_id = pv__col_int(s, st, base + 9);
    d->served_version = pv__col_dup(s, st, base + 10);
    d->served_hash = pv__col_dup(s, st, base + 11);
    d->version = pv__col_int(s, st, base + 12);
    d->created_at = pv__col_int(s, st, base + 13);
    d->updated_at = pv__col_int(s, st, base + 14);
    d->last_address = pv__col_dup(s, st, base + 15);
}

static void read_device(pv_store *s, pv__stmt *st, void *row)
{
    pv__read_device(s, st, 0, row);
}

void pv_store_device_free(pv_store_device *d)
{
    free(d->serial);
    free(d->model);
    free(d->cert_fingerprint);
    free(d->firmware_version);
    free(d->served_version);
    free(d->served_hash);
    free(d->last_address);
    memset(d, 0, sizeof *d);
}

static void free_device(void *row)
{
    pv_store_device_free(row);
}

void pv_store_devices_free(pv_store_device *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pv_store_device_free(&rows[i]);
    free(rows);
}

/* Error for a statement that changed no row: the device does not exist. */
int pv__no_device(const char *mac, pv_error *err)
{
    return pv_error_set(err, PV_ENOENT, "device %s: no such device", mac);
}

/* A foreign-key failure on account_id means the account does not exist. */
static int device_failed(const pv_store_device *d, int rc, pv_error *err)
{
    if (rc == PV_ENOENT)
        return pv_error_set(err, rc, "device %s: account %lld does not exist", d->mac,
                            (long long)d->account_id);
    if (rc == PV_EEXIST)
        return pv_error_set(err, rc, "device %s: a device with this MAC exists", d->mac);
    return pv__wrap(err, rc, "device %s", d->mac);
}

static const char sql_upsert[] =
    "INSERT INTO devices (mac, serial, model, account_id, cert_fingerprint, require_cert, "
    "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) "
    "ON CONFLICT (mac) DO UPDATE SET "
    "serial = COALESCE(excluded.serial, devices.serial), "
    "model = COALESCE(excluded.model, devices.model), "
    "account_id = COALESCE(excluded.account_id, devices.account_id), "
    "cert_fingerprint = COALESCE(excluded.cert_fingerprint, devices.cert_fingerprint), "
    "require_cert = CASE WHEN excluded.require_cert = 1 THEN 1 ELSE devices.require_cert END, "
    "version = devices.version + 1, updated_at = excluded.updated_at "
    /* An unchanged row is not written at all: a re-run import costs reads only
     * and does not invalidate rendering caches. */
    "WHERE COALESCE(excluded.serial, devices.serial) IS DISTINCT FROM devices.serial "
    "OR COALESCE(excluded.model, devices.model) IS DISTINCT FROM devices.model "
    "OR COALESCE(excluded.account_id, devices.account_id) IS DISTINCT FROM devices.account_id "
    "OR COALESCE(excluded.cert_fingerprint, devices.cert_fingerprint) "
    "   IS DISTINCT FROM devices.cert_fingerprint "
    "OR (excluded.require_cert = 1 AND devices.require_cert = 0) "
    "RETURNING version";

int pv_store_device_upsert(pv_store *s, const pv_store_device *d, int64_t now, bool *created,
                           pv_error *err)
{
    char mac[13];
    int rc = pv_store_mac_normalize(d->mac, mac, err);
    if (rc != 0)
        return rc;
    pv__stmt *st = NULL;
    rc = pv__query(s, sql_upsert,
                   PV_ARGS(PV_T(mac), PV_T(d->serial), PV_T(d->model), PV_IZ(d->account_id),
                           PV_T(d->cert_fingerprint), PV_I(d->require_cert), PV_I(now)),
                   &st, err);
    if (rc == 0)
        rc = pv__next(s, st, err);
    bool is_new = false;
    if (rc == 1) { /* a returned row: inserted (version 1) or updated */
        is_new = pv__col_int(s, st, 0) == 1;
        pv__done(s, st);
        rc = 0;
    }
    if (created != NULL)
        *created = is_new;
    return rc != 0 ? device_failed(d, rc, err) : 0;
}

static const char sql_create[] =
    "INSERT INTO devices (mac, serial, model, account_id, cert_fingerprint, require_cert, state, "
    "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)";

/* What is written as text: one line each, no control characters. */
static int device_text(const pv_store_device *d, const char *mac, pv_error *err)
{
    const char *names[] = {"serial", "model"};
    const char *values[] = {d->serial, d->model};
    for (size_t i = 0; i < 2; i++) {
        char field[48];
        (void)snprintf(field, sizeof field, "device %s: %s", mac, names[i]);
        if (values[i] != NULL &&
            pv_text_check(pv_slice_from(values[i]), PV_TEXT_NAME, field, err) != 0)
            return PV_EINVAL;
    }
    return 0;
}

int pv_store_device_create(pv_store *s, const pv_store_device *d, int64_t now, pv_error *err)
{
    char mac[13];
    int rc = pv_store_mac_normalize(d->mac, mac, err);
    if (rc == 0)
        rc = device_text(d, mac, err);
    if (rc != 0)
        return rc;
    rc = pv__exec(s, sql_create,
                  PV_ARGS(PV_T(mac), PV_T(d->serial), PV_T(d->model), PV_IZ(d->account_id),
                          PV_T(d->cert_fingerprint), PV_I(d->require_cert),
                          PV_T(pv_store_state_name(d->state)), PV_I(now)),
                  NULL, err);
    return rc != 0 ? device_failed(d, rc, err) : 0;
}

static const char sql_get[] = "SELECT " DEVICE_COLS " FROM devices WHERE mac = $1";

int pv_store_device_get(pv_store *s, const char *mac, pv_store_device *out, pv_error *err)
{
    char m[13];
    int rc = pv_store_mac_normalize(mac, m, err);
    if (rc != 0)
        return rc;
    rc = pv__get(s, sql_get, PV_ARGS(PV_T(m)), read_device, out, sizeof *out, err);
    return rc == PV_ENOENT ? pv__no_device(m, err) : rc;
}

static const char sql_update[] =
    "UPDATE devices SET serial = $2, model = $3, account_id = $4, cert_fingerprint = $5, "
    "require_cert = $6, state = $7, version = version + 1, updated_at = $8 WHERE mac = $1";

int pv_store_device_update(pv_store *s, const pv_store_device *d, int64_t now, pv_error *err)
{
    char mac[13];
    int64_t changed = 0;
    int rc = pv_store_mac_normalize(d->mac, mac, err);
    if (rc == 0)
        rc = device_text(d, mac, err);
    if (rc != 0)
        return rc;
    rc = pv__exec(s, sql_update,
                  PV_ARGS(PV_T(mac), PV_T(d->serial), PV_T(d->model), PV_IZ(d->account_id),
                          PV_T(d->cert_fingerprint), PV_I(d->require_cert),
                          PV_T(pv_store_state_name(d->state)), PV_I(now)),
                  &changed, err);
    if (rc != 0)
        return device_failed(d, rc, err);
    return changed == 0 ? pv__no_device(mac, err) : 0;
}

static const char sql_set_state[] = "UPDATE devices SET state = $3, version = version + 1, "
                                    "updated_at = $4 WHERE mac = $1 AND state = $2";

int pv_store_device_set_state(pv_store *s, const char *mac, pv_store_state from, pv_store_state to,
                              int64_t now, pv_error *err)
{
    char m[13];
    int64_t changed = 0;
    int rc = pv_store_mac_normalize(mac, m, err);
    if (rc != 0)
        return rc;
    rc = pv__exec(
        s, sql_set_state,
        PV_ARGS(PV_T(m), PV_T(pv_store_state_name(from)), PV_T(pv_store_state_name(to)), PV_I(now)),
        &changed, err);
    if (rc != 0 || changed == 1)
        return rc;
    pv_store_device d = {0};
    rc = pv_store_device_get(s, m, &d, err);
    if (rc != 0)
        return rc;
    rc = pv_error_set(err, PV_ECONFLICT, "device %s: state is %s, not %s (wanted %s)", m,
                      pv_store_state_name(d.state), pv_store_state_name(from),
                      pv_store_state_name(to));
    pv_store_device_free(&d);
    return rc;
}

static const char sql_assign[] = "UPDATE devices SET account_id = $2, version = version + 1, "
                                 "updated_at = $3 WHERE mac = $1";

int pv_store_device_assign(pv_store *s, const char *mac, int64_t account_id, int64_t now,
                           pv_error *err)
{
    pv_store_device d = {.account_id = account_id};
    int64_t changed = 0;
    int rc = pv_store_mac_normalize(mac, d.mac, err);
    if (rc != 0)
        return rc;
    rc = pv__exec(s, sql_assign, PV_ARGS(PV_T(d.mac), PV_IZ(account_id), PV_I(now)), &changed, err);
    if (rc != 0)
        return device_failed(&d, rc, err);
    return changed == 0 ? pv__no_device(d.mac, err) : 0;
}

static const char sql_seen[] =
    "UPDATE devices SET last_seen = $2, firmware_version = COALESCE($3, firmware_version), "
    "served_version = COALESCE($4, served_version), served_hash = COALESCE($5, served_hash), "
    "last_address = COALESCE($6, last_address) WHERE mac = $1";

int pv_store_device_seen(pv_store *s, const char *mac, int64_t now, const char *firmware_version,
                         const char *served_version, const char *served_hash,
                         const char *address, pv_error *err)
{
    char m[13];
    int64_t changed = 0;
    int rc = pv_store_mac_normalize(mac, m, err);
    if (rc != 0)
        return rc;
    rc = pv__exec(s, sql_seen,
                  PV_ARGS(PV_T(m), PV_I(now), PV_T(firmware_version), PV_T(served_version),
                          PV_T(served_hash), PV_T(address)),
                  &changed, err);
    if (rc != 0)
        return pv__wrap(err, rc, "device %s", m);
    return changed == 0 ? pv__no_device(m, err) : 0;
}

static const char sql_release[] =
    "UPDATE devices SET account_id = NULL, cert_fingerprint = NULL, state = 'SP-CUST', "
    "version = version + 1, updated_at = $2 WHERE mac = $1";
static const char sql_release_secrets[] =
    "UPDATE device_secrets SET retired_at = $2 WHERE mac = $1 AND retired_at IS NULL";

int pv_store_device_release(pv_store *s, const char *mac, int64_t now, pv_error *err)
{
    char m[13];
    int64_t changed = 0;
    int rc = pv_store_mac_normalize(mac, m, err);
    if (rc != 0)
        return rc;
    if ((rc = pv_store_begin(s, err)) != 0)
        return rc;
    rc = pv__exec(s, sql_release, PV_ARGS(PV_T(m), PV_I(now)), &changed, err);
    if (rc == 0 && changed == 0)
        rc = pv__no_device(m, err);
    if (rc == 0)
        rc = pv__exec(s, sql_release_secrets, PV_ARGS(PV_T(m), PV_I(now)), NULL, err);
    if (rc != 0) {
        pv_store_rollback(s);
        return rc == PV_ENOENT ? rc : pv__wrap(err, rc, "device %s", m);
    }
    return pv_store_commit(s, err);
}

static const char sql_delete[] = "DELETE FROM devices WHERE mac = $1";

int pv_store_device_delete(pv_store *s, const char *mac, pv_error *err)
{
    char m[13];
    int64_t changed = 0;
    int rc = pv_store_mac_normalize(mac, m, err);
    if (rc != 0)
        return rc;
    rc = pv__exec(s, sql_delete, PV_ARGS(PV_T(m)), &changed, err);
    if (rc != 0)
        return pv__wrap(err, rc, "device %s", m);
    return changed == 0 ? pv__no_device(m, err) : 0;
}

static const pv__list_spec device_list = {sizeof(pv_store_device), read_device, free_device, 0};
static const char sql_list_all[] =
    "SELECT " DEVICE_COLS " FROM devices WHERE mac > $1 ORDER BY mac LIMIT $2";
static const char sql_list_account[] = "SELECT " DEVICE_COLS " FROM devices "
                                       "WHERE account_id = $1 AND mac > $2 ORDER BY mac LIMIT $3";

int pv_store_device_list(pv_store *s, int64_t account_id, pv_store_page *page,
                         pv_store_device **rows, size_t *n, pv_error *err)
{
    int64_t limit = (int64_t)pv__page_limit(page) + 1;
    if (account_id > 0)
        return pv__list(s, &device_list, sql_list_account,
                        PV_ARGS(PV_I(account_id), PV_T(page->after), PV_I(limit)), page,
                        (void **)rows, n, err);
    return pv__list(s, &device_list, sql_list_all, PV_ARGS(PV_T(page->after), PV_I(limit)), page,
                    (void **)rows, n, err);
}

/* ---- reports (spec 7) ----------------------------------------------------- */

static const char sql_report_add[] =
    "INSERT INTO reports (mac, received_at, kind, body) VALUES ($1, $2, $3, $4) RETURNING id";
static const char sql_report_last[] = "UPDATE devices SET last_report_id = $2 WHERE mac = $1";
/* Retention: all but the device's $2 newest reports go, and never the one
 * devices.last_report_id names (it is the newest here, the guard keeps it so
 * should that ever change). One statement in the portable subset (SQLite
 * 3.40, PostgreSQL 15); reports_mac (mac, id) serves both halves. */
static const char sql_report_trim[] =
    "DELETE FROM reports WHERE mac = $1 "
    "AND id NOT IN (SELECT id FROM reports WHERE mac = $1 ORDER BY id DESC LIMIT $2) "
    "AND id <> COALESCE((SELECT last_report_id FROM devices WHERE mac = $1), 0)";

int pv_store_report_add(pv_store *s, const char *mac, const char *kind, const void *body,
                        size_t len, int64_t now, int64_t *id, pv_error *err)
{
    char m[13];
    int rc = pv_store_mac_normalize(mac, m, err);
    if (rc != 0)
        return rc;
    if (kind == NULL ||
        (strcmp(kind, "full") != 0 && strcmp(kind, "delta") != 0 && strcmp(kind, "status") != 0))
        return pv_error_set(err, PV_EINVAL,
                            "report for %s: kind '%.20s' is not full, delta or "
                            "status (spec 7.1)",
                            m, kind ? kind : "");
    int64_t rid = 0;
    if ((rc = pv_store_begin(s, err)) != 0)
        return rc;
    rc = pv__int(s, sql_report_add, PV_ARGS(PV_T(m), PV_I(now), PV_T(kind), PV_B(body, len)), &rid,
                 err);
    if (rc == 0)
        rc = pv__exec(s, sql_report_last, PV_ARGS(PV_T(m), PV_I(rid)), NULL, err);
    if (rc == 0) /* same transaction: a flood of reports cannot grow the table */
        rc = pv__exec(s, sql_report_trim, PV_ARGS(PV_T(m), PV_I(s->reports_keep)), NULL, err);
    if (rc != 0) {
        pv_store_rollback(s);
        return rc == PV_ENOENT ? pv__no_device(m, err) : pv__wrap(err, rc, "report for %s", m);
    }
    if (id != NULL)
        *id = rid;
    return pv_store_commit(s, err);
}

#define REPORT_COLS "id, mac, received_at, kind, body"

static void read_report(pv_store *s, pv__stmt *st, void *row)
{
    pv_store_report *r = row;
    r->id = pv__col_int(s, st, 0);
    pv__col_copy(s, st, 1, r->mac, sizeof r->mac);
    r->received_at = pv__col_int(s, st, 2);
    r->kind = pv__col_dup(s, st, 3);
    const void *p = pv__col_blob(s, st, 4, &r->body_len);
    r->body = pv_memdup0(p != NULL ? p : "", r->body_len);
}

void pv_store_report_free(pv_store_report *r)
{
    free(r->kind);
    free(r->body);
    memset(r, 0, sizeof *r);
}

static void free_report(void *row)
{
    pv_store_report_free(row);
}

void pv_store_reports_free(pv_store_report *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pv_store_report_free(&rows[i]);
    free(rows);
}

static const char sql_report_get[] = "SELECT " REPORT_COLS " FROM reports WHERE id = $1";

int pv_store_report_get(pv_store *s, int64_t id, pv_store_report *out, pv_error *err)
{
    int rc = pv__get(s, sql_report_get, PV_ARGS(PV_I(id)), read_report, out, sizeof *out, err);
    if (rc == PV_ENOENT)
        return pv_error_set(err, PV_ENOENT, "report %lld: no such report", (long long)id);
    return rc;
}

static const pv__list_spec report_list = {sizeof(pv_store_report), read_report, free_report, 0};
static const char sql_reports_all[] =
    "SELECT " REPORT_COLS " FROM reports WHERE id > $1 ORDER BY id LIMIT $2";
static const char sql_reports_mac[] =
    "SELECT " REPORT_COLS " FROM reports WHERE mac = $1 AND id > $2 ORDER BY id LIMIT $3";

int pv_store_report_list(pv_store *s, const char *mac, pv_store_page *page, pv_store_report **rows,
                         size_t *n, pv_error *err)
{
    int64_t after = 0, limit = (int64_t)pv__page_limit(page) + 1;
    int rc = pv__page_after_int(page, &after, err);
    if (rc != 0)
        return rc;
    if (mac == NULL)
        return pv__list(s, &report_list, sql_reports_all, PV_ARGS(PV_I(after), PV_I(limit)), page,
                        (void **)rows, n, err);
    char m[13];
    if ((rc = pv_store_mac_normalize(mac, m, err)) != 0)
        return rc;
    return pv__list(s, &report_list, sql_reports_mac, PV_ARGS(PV_T(m), PV_I(after), PV_I(limit)),
                    page, (void **)rows, n, err);
}
