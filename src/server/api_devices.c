/*
 * api_devices.c — devices in the admin API: CRUD by MAC, assignment to an
 * account, provisioning state, the rendered profile and the last report; see
 * api.h and docs/api.md. Bulk import and fleet status are in api_import.c.
 */
#include "core/alloc.h"
#include "server/api_int.h"
#include "server/keys.h"
#include "server/prov_policy.h"
#include "server/render.h"
#include "server/reports.h"
#include "store/store_device_search.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *device_json(pv__api_ctx *ctx, const pv_store_device *d)
{
    char *account = pv__api_account_name(ctx, d->account_id);
    json_t *o = json_pack(
        "{s:s, s:o, s:o, s:o, s:o, s:b, s:s, s:I, s:o, s:I, s:o, s:I, s:I, s:I}", "mac", d->mac,
        "serial", pv__api_str_or_null(d->serial), "model", pv__api_str_or_null(d->model), "account",
        pv__api_str_or_null(account), "cert_fingerprint", pv__api_str_or_null(d->cert_fingerprint),
        "require_cert", d->require_cert, "state", pv_store_state_name(d->state), "last_seen",
        (json_int_t)d->last_seen, "firmware_version", pv__api_str_or_null(d->firmware_version),
        "last_report_id", (json_int_t)d->last_report_id, "served_version",
        pv__api_str_or_null(d->served_version), "version", (json_int_t)d->version, "created_at",
        (json_int_t)d->created_at, "updated_at", (json_int_t)d->updated_at);
    /* where a direct NOTIFY goes (spec 5.5): the address it last provisioned from */
    json_object_set_new(o, "last_address", pv__api_str_or_null(d->last_address));
    free(account);
    return o;
}

/* ?seen_within=AGE, ?not_seen_for=AGE (store_device_search.h's ages), ?never_seen=1 into q:
 * false after answering 422. never_seen goes with neither of the others. */
static bool seen_filters(pv__api_ctx *ctx, pv_store_device_query *q, bool *any)
{
    static const char *const names[] = {"seen_within", "not_seen_for"};
    int64_t *bounds[] = {&q->seen_since, &q->seen_before};
    bool ok = true, bounded = false;
    for (int i = 0; i < 2 && ok; i++) {
        char *v = pv__api_query(ctx, names[i]);
        int64_t age = 0;
        pv_error err = {""};
        if (v != NULL && pv_store_seen_age(v, &age, &err) != 0) {
            pv__api_fail(ctx, 422, "invalid", names[i], "%s", err.msg);
            ok = false;
        } else if (v != NULL) {
            *bounds[i] = ctx->now - age; /* ctx->now > PV_STORE_AGE_MAX: a bound > 0 */
            bounded = true;
        }
        free(v);
    }
    q->never_seen = pv__api_flag(ctx, "never_seen");
    if (ok && q->never_seen && bounded) {
        pv__api_fail(ctx, 422, "invalid", "never_seen",
                     "never_seen=1 finds the devices that never fetched: not with seen_within or "
                     "not_seen_for");
        ok = false;
    }
    *any |= bounded || q->never_seen;
    return ok;
}

/* GET /devices: all, or those the filters name — ?account=, ?mac_prefix=, ?state=, ?model=,
 * ?firmware=, and last seen (seen_filters) — in keyset pages in MAC order either way; the
 * console's search (store_device_search.h). */
void pv__api_devices_list(pv__api_ctx *ctx)
{
    pv_store_page page;
    if (!pv__api_page(ctx, &page))
        return;
    int64_t account_id = 0;
    char *account = pv__api_query(ctx, "account"), *prefix_q = pv__api_query(ctx, "mac_prefix");
    char *state = pv__api_query(ctx, "state"), *model = pv__api_query(ctx, "model"),
         *fw = pv__api_query(ctx, "firmware");
    pv_store_device_query q = {.state = state, .model = model, .firmware = fw};
    pv_error err = {""};
    pv_store_state st;
    bool search = prefix_q != NULL || state != NULL || model != NULL || fw != NULL;
    bool ok = account == NULL || pv__api_account_id(ctx, account, "account", &account_id);
    if (ok && prefix_q != NULL && pv_store_mac_prefix(prefix_q, q.mac_prefix, &err) != 0) {
        pv__api_fail(ctx, 422, "invalid", "mac_prefix", "%s", err.msg);
        ok = false;
    }
    if (ok && state != NULL && pv_store_state_parse(state, &st) != 0) {
        pv__api_fail(ctx, 422, "invalid", "state",
                     "state '%.40s': one of MFG-RESET, SP-CUST, SEC-PRV-1, SEC-PRV-2", state);
        ok = false;
    }
    ok = ok && seen_filters(ctx, &q, &search);
    q.account_id = account_id;
    pv_store_device *rows = NULL;
    size_t n = 0;
    int rc = !ok ? 0
             : search ? pv_store_device_find(ctx->store, &q, &page, &rows, &n, &err)
                      : pv_store_device_list(ctx->store, account_id, &page, &rows, &n, &err);
    free(account);
    free(prefix_q);
    free(state);
    free(model);
    free(fw);
    if (!ok)
        return;
    if (rc != 0) {
        pv__api_fail_store(ctx, rc, &err, "after");
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, device_json(ctx, &rows[i]));
    pv_store_devices_free(rows, n);
    pv__api_reply_page(ctx, items, &page);
}

static void answer_device(pv__api_ctx *ctx, int status, const char *mac)
{
    pv_store_device d = {0};
    pv_error err = {""};
    int rc = pv_store_device_get(ctx->store, mac, &d, &err);
    if (rc == 0)
        pv__api_reply(ctx, status, device_json(ctx, &d));
    else
        pv__api_fail_store(ctx, rc, &err, NULL);
    pv_store_device_free(&d);
}

static const pv__api_field device_fields[] = {
    {"mac", PV_API_STRING, false},
    {"serial", PV_API_STRING_NULL, false},
    {"model", PV_API_STRING_NULL, false},
    {"account", PV_API_STRING_NULL, false},
    {"cert_fingerprint", PV_API_STRING_NULL, false},
    {"require_cert", PV_API_BOOL, false},
    {"state", PV_API_STRING, false},
};

/* A SHA-256 fingerprint: 64 hex digits (colons allowed, as openssl prints them). */
static bool check_fingerprint(pv__api_ctx *ctx, const char *fp, char out[65])
{
    size_t n = 0;
    for (const char *p = fp; *p; p++) {
        if (*p == ':')
            continue;
        char c = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) || n == 64) {
            pv__api_fail(ctx, 422, "invalid", "cert_fingerprint",
                         "cert_fingerprint must be the SHA-256 of the certificate: 64 hex digits");
            return false;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    if (n != 64 && n != 0) {
        pv__api_fail(ctx, 422, "invalid", "cert_fingerprint",
                     "cert_fingerprint needs 64 hex digits, found %zu", n);
        return false;
    }
    return true;
}

/*
 * Overlays the body on d: present fields replace (null clears); with
 * replace_all, absent fields clear too (PUT). Strings point into the body or
 * into fp; the caller frees nothing of d's new pointers.
 */
static bool apply_body(pv__api_ctx *ctx, pv_store_device *d, bool replace_all, char fp[65])
{
    json_t *b = ctx->body;
    struct {
        const char *name;
        char **slot;
    } strs[] = {{"serial", &d->serial}, {"model", &d->model}};
    for (size_t i = 0; i < 2; i++)
        if (replace_all || json_object_get(b, strs[i].name))
            *strs[i].slot = (char *)pv__api_str(b, strs[i].name);
    json_t *acc = json_object_get(b, "account");
    if (acc && json_is_string(acc)) {
        if (!pv__api_account_id(ctx, json_string_value(acc), "account", &d->account_id))
            return false;
    } else if (acc || replace_all) {
        d->account_id = 0;
    }
    const char *f = pv__api_str(b, "cert_fingerprint");
    if (f && !check_fingerprint(ctx, f, fp))
        return false;
    if (replace_all || json_object_get(b, "cert_fingerprint"))
        d->cert_fingerprint = f && fp[0] ? fp : NULL;
    json_t *rc = json_object_get(b, "require_cert");
    if (rc || replace_all)
        d->require_cert = json_is_true(rc);
    const char *st = pv__api_str(b, "state");
    if (st && pv_store_state_parse(st, &d->state) != 0) {
        pv__api_fail(ctx, 422, "invalid", "state",
                     "state '%.40s': want MFG-RESET, SP-CUST, SEC-PRV-1 or SEC-PRV-2", st);
        return false;
    }
    if (!st && replace_all)
        d->state = PV_STATE_MFG_RESET;
    return true;
}

void pv__api_device_create(pv__api_ctx *ctx)
{
    if (!pv__api_body(ctx, device_fields, 7))
        return;
    const char *mac_in = pv__api_str(ctx->body, "mac");
    pv_store_device d = {0};
    char fp[65] = "";
    if (mac_in == NULL) {
        pv__api_fail(ctx, 400, "required", "mac", "mac is required");
        return;
    }
    if (!pv__api_mac(ctx, mac_in, "mac", d.mac) || !apply_body(ctx, &d, true, fp))
        return;
    pv_error err = {""};
    int rc = pv_store_begin(ctx->store, &err);
    if (rc == 0)
        rc = pv_store_device_create(ctx->store, &d, ctx->now, &err);
    if (pv__api_finish(ctx, rc, &err, rc == PV_EEXIST ? "mac" : NULL, "device.create", d.mac,
                       json_deep_copy(ctx->body)))
        answer_device(ctx, 201, d.mac);
}

/* A malformed MAC in the path is the caller's mistake, not a device that is not
 * there: 422 saying what is wrong with it (issue 13: the CLI showed "HTTP 404"). */
static bool path_mac(pv__api_ctx *ctx, char mac[13])
{
    char msg[300];
    if (pv__api_mac_check(ctx->params[0], mac, msg, sizeof msg))
        return true;
    pv__api_fail(ctx, 422, "invalid", "mac", "%s", msg);
    return false;
}

void pv__api_device_get(pv__api_ctx *ctx)
{
    char mac[13];
    if (path_mac(ctx, mac))
        answer_device(ctx, 200, mac);
}

static void device_update(pv__api_ctx *ctx, bool patch)
{
    char mac[13];
    if (!path_mac(ctx, mac) || !pv__api_body(ctx, device_fields, 7))
        return;
    const char *body_mac = pv__api_str(ctx->body, "mac");
    char other[13];
    if (body_mac && (!pv__api_mac(ctx, body_mac, "mac", other) || strcmp(other, mac) != 0)) {
        if (ctx->status == 0)
            pv__api_fail(ctx, 422, "invalid", "mac", "mac cannot change; delete and create");
        return;
    }
    pv_store_device d = {0};
    pv_error err = {""};
    int rc = pv_store_begin(ctx->store, &err);
    if (rc == 0)
        rc = pv_store_device_get(ctx->store, mac, &d, &err);
    if (rc != 0) {
        pv_store_rollback(ctx->store);
        pv_store_device_free(&d);
        pv__api_fail_store(ctx, rc, &err, NULL);
        return;
    }
    pv_store_device u = d; /* the stored row, overlaid with the body */
    char fp[65] = "";
    if (!apply_body(ctx, &u, !patch, fp)) {
        pv_store_rollback(ctx->store);
        pv_store_device_free(&d);
        return;
    }
    rc = pv_store_device_update(ctx->store, &u, ctx->now, &err);
    pv_store_device_free(&d);
    if (rc != 0) {
        pv_store_rollback(ctx->store);
        pv__api_fail_store(ctx, rc, &err, NULL);
    } else if (pv__api_commit(ctx, patch ? "device.patch" : "device.update", mac,
                              json_deep_copy(ctx->body))) {
        answer_device(ctx, 200, mac);
    }
}

void pv__api_device_put(pv__api_ctx *ctx)
{
    device_update(ctx, false);
}

void pv__api_device_patch(pv__api_ctx *ctx)
{
    device_update(ctx, true);
}

/* A change of one device by one store call, run between begin and commit. */
typedef int (*device_op)(pv_store *s, const char *mac, int64_t account_id, int64_t now,
                         pv_error *err);

/* The shape delete, assign and release share: begin, the op, then roll back and
 * answer the store's error, or audit, commit and answer the device (204: nothing). */
static void device_change(pv__api_ctx *ctx, const char *mac, device_op op, int64_t account_id,
                          const char *action, json_t *detail, int status)
{
    pv_error err = {""};
    int rc = pv_store_begin(ctx->store, &err);
    if (rc == 0)
        rc = op(ctx->store, mac, account_id, ctx->now, &err);
    if (!pv__api_finish(ctx, rc, &err, NULL, action, mac, detail))
        return;
    if (status == 204)
        pv__api_reply(ctx, 204, NULL);
    else
        answer_device(ctx, status, mac);
}

static int op_delete(pv_store *s, const char *mac, int64_t account_id, int64_t now, pv_error *err)
{
    return pv_store_device_delete(s, mac, err);
}

static int op_assign(pv_store *s, const char *mac, int64_t account_id, int64_t now, pv_error *err)
{
    return pv_store_device_assign(s, mac, account_id, now, err);
}

static int op_release(pv_store *s, const char *mac, int64_t account_id, int64_t now, pv_error *err)
{
    return pv_store_device_release(s, mac, now, err);
}

void pv__api_device_delete(pv__api_ctx *ctx)
{
    char mac[13];
    if (path_mac(ctx, mac))
        device_change(ctx, mac, op_delete, 0, "device.delete", NULL, 204);
}

void pv__api_device_assign(pv__api_ctx *ctx)
{
    static const pv__api_field fields[] = {{"account", PV_API_STRING, true}};
    char mac[13];
    int64_t account_id = 0;
    if (path_mac(ctx, mac) && pv__api_body(ctx, fields, 1) &&
        pv__api_account_id(ctx, pv__api_str(ctx->body, "account"), "account", &account_id))
        device_change(ctx, mac, op_assign, account_id, "device.assign", json_deep_copy(ctx->body),
                      200);
}

/* issue 11.1: a bound, pinned device is re-bound only after this (DESIGN 5):
 * no account, no pinned certificate, SP-CUST, its secrets retired. */
void pv__api_device_release(pv__api_ctx *ctx)
{
    char mac[13];
    if (path_mac(ctx, mac))
        device_change(ctx, mac, op_release, 0, "device.release", NULL, 200);
}

/* The operator's rotation (a key shown where it should not have been, a
 * phone repaired): the same step the rotation period takes (keys.h, DESIGN 6),
 * now. The phone still decrypts its next answer with the key it holds and
 * finds the new GPP_SA/GPP_B inside; the old directory answers until it has
 * fetched from the new one. A rotation already pending is the answer: a
 * second one would strand the phone. A device with no key (never bound) has
 * nothing to rotate. Neither key nor directory is ever in the answer. */
void pv__api_device_rotate_key(pv__api_ctx *ctx)
{
    char mac[13];
    if (!path_mac(ctx, mac))
        return;
    pv_error err = {""};
    pv_store_secret cur = {0}, prev = {0}, next = {0}; /* next.created_at is read on failure too */
    bool has_prev = false;
    int rc = pv_store_begin(ctx->store, &err);
    if (rc == 0 &&
        (rc = pv_store_secret_get(ctx->store, mac, &cur, &prev, &has_prev, &err)) == PV_ENOENT)
        pv_error_set(&err, PV_ENOENT, "device %s has no key to rotate (it was never bound)", mac);
    if (rc == 0)
        rc = pv_keys_rotate(ctx->store, mac, ctx->now, &next, &err);
    bool pending = has_prev;
    int64_t created_at = next.created_at;
    OPENSSL_cleanse(&cur, sizeof cur);
    OPENSSL_cleanse(&prev, sizeof prev);
    OPENSSL_cleanse(&next, sizeof next);
    if (pv__api_finish(ctx, rc, &err, NULL, "device.rotate_key", mac,
                       json_pack("{s:b}", "already_pending", pending))) {
        pv__api_reply(ctx, 200,
                      json_pack("{s:s,s:b,s:I}", "mac", mac, "already_pending", pending,
                                "key_created_at", (json_int_t)created_at));
    }
}

/* Compare-and-set of the provisioning state (spec 12.2); "from" defaults to
 * the state read in the same transaction. */
void pv__api_device_state(pv__api_ctx *ctx)
{
    static const pv__api_field fields[] = {{"state", PV_API_STRING, true},
                                           {"from", PV_API_STRING, false}};
    char mac[13];
    if (!path_mac(ctx, mac) || !pv__api_body(ctx, fields, 2))
        return;
    pv_store_state to, from;
    const char *names[2] = {pv__api_str(ctx->body, "state"), pv__api_str(ctx->body, "from")};
    pv_store_state *slots[2] = {&to, &from};
    static const char *const keys[2] = {"state", "from"};
    for (size_t i = 0; i < 2; i++) {
        if (names[i] && pv_store_state_parse(names[i], slots[i]) != 0) {
            pv__api_fail(ctx, 422, "invalid", keys[i],
                         "%s '%.40s': want MFG-RESET, SP-CUST, SEC-PRV-1 or SEC-PRV-2", keys[i],
                         names[i]);
            return;
        }
    }
    pv_store_device d = {0};
    pv_error err = {""};
    int rc = pv_store_begin(ctx->store, &err);
    if (rc == 0 && names[1] == NULL) {
        rc = pv_store_device_get(ctx->store, mac, &d, &err);
        from = d.state;
    }
    pv_store_device_free(&d);
    if (rc == 0)
        rc = pv_store_device_set_state(ctx->store, mac, from, to, ctx->now, &err);
    if (pv__api_finish(ctx, rc, &err, rc == PV_ECONFLICT ? "from" : NULL, "device.state", mac,
                       json_pack("{s:s, s:s}", "from", pv_store_state_name(from), "to",
                                 pv_store_state_name(to))))
        answer_device(ctx, 200, mac);
}

/* The policy render and diff use: the running server's ([provisioning] keys,
 * handed over by the daemon with pv_api_set_policy), else the defaults. */
static void api_policy(pv__api_ctx *ctx, pv_prov_policy *pol)
{
    if (ctx->policy != NULL)
        *pol = *ctx->policy;
    else
        pv_prov_policy_defaults(pol);
}

/* What the phone would receive (pv_render_device): ?plain=1 the serialized
 * profile before gzip and encryption, else the bytes as served. */
void pv__api_device_render(pv__api_ctx *ctx)
{
    char mac[13];
    if (!path_mac(ctx, mac))
        return;
    char *plain_q = pv__api_query(ctx, "plain");
    bool plain = plain_q != NULL && strcmp(plain_q, "0") != 0;
    free(plain_q);
    pv_prov_policy pol;
    api_policy(ctx, &pol);
    pv_render_options opts = {.policy = &pol, .plain = plain};
    pv_render_output out = {0};
    pv_error err = {""};
    int rc = plain ? 0 : pv__api_load_secrets(ctx, true, &err); /* the device keys */
    if (rc == 0)
        rc = pv_render_device(ctx->store, mac, &opts, &out, &err);
    if (rc != 0) {
        pv__api_fail_store(ctx, rc, &err, NULL);
    } else {
        ctx->status = 200;
        ctx->raw_len = out.body.len;
        ctx->raw = pv_buf_take(&out.body, NULL);
        ctx->raw_type = plain || out.content_type == NULL ? "text/plain; charset=utf-8"
                                                          : "application/octet-stream";
    }
    pv_render_output_free(&out);
}

/* The body people see: secret values masked (reports.h, issue 13). Every stored
 * report parsed as a flat profile when it came in; one that no longer does is not
 * shown rather than shown unmasked. */
static json_t *report_body_json(const pv_store_report *r)
{
    pv_buf masked = {0};
    pv_error err = {""};
    json_t *o;
    if (pv_report_masked(pv_slice_make(r->body ? r->body : "", r->body_len), &masked, &err) == 0)
        o = json_pack("{s:s%, s:s}", "body", masked.data ? masked.data : "", masked.len,
                      "body_encoding", "utf-8");
    else
        o = json_pack("{s:n, s:s}", "body", "body_error", err.msg);
    pv_buf_free(&masked);
    return o;
}

json_t *pv__api_report_json(const pv_store_report *r, bool with_body)
{
    json_t *o = json_pack("{s:I, s:s, s:I, s:o, s:I}", "id", (json_int_t)r->id, "mac", r->mac,
                          "received_at", (json_int_t)r->received_at, "kind",
                          pv__api_str_or_null(r->kind), "size", (json_int_t)r->body_len);
    if (with_body)
        json_object_update_new(o, report_body_json(r));
    return o;
}

/* The last report (spec 7) and how it differs from what is rendered now
 * (pv_report_diff: one line per difference). */
void pv__api_device_report(pv__api_ctx *ctx)
{
    char mac[13];
    if (!path_mac(ctx, mac))
        return;
    pv_store_device d = {0};
    pv_store_report r = {0};
    pv_error err = {""};
    int rc = pv_store_device_get(ctx->store, mac, &d, &err);
    if (rc == 0 && d.last_report_id == 0)
        pv__api_fail(ctx, 404, "not_found", NULL,
                     "device %s has sent no report yet (ask for one:"
                     " provisor device report-request MAC)",
                     mac);
    else if (rc == 0 && (rc = pv_store_report_get(ctx->store, d.last_report_id, &r, &err)) == 0) {
        json_t *o = pv__api_report_json(&r, true);
        pv_prov_policy pol;
        api_policy(ctx, &pol);
        pv_buf diff = {0};
        size_t count = 0;
        pv_error derr = {""};
        if (pv_report_diff(ctx->store, &pol, mac, false, &diff, &count, &derr) == 0)
            json_object_set_new(o, "diff",
                                json_pack("{s:s, s:I, s:s}", "text", diff.data ? diff.data : "",
                                          "count", (json_int_t)count, "compares",
                                          pv_report_kind_compares(r.kind)));
        else /* the report is still worth showing when the render fails */
            json_object_set_new(o, "diff", json_pack("{s:s}", "error", derr.msg));
        pv_buf_free(&diff);
        pv__api_reply(ctx, 200, o);
    }
    if (rc != 0)
        pv__api_fail_store(ctx, rc, &err, NULL);
    pv_store_device_free(&d);
    pv_store_report_free(&r);
}
