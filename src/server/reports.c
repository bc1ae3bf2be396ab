/* reports.c — report uploads: decrypt, check, store, diff; see reports.h. */
#include "server/reports.h"

#include "core/alloc.h"
#include "core/gzip.h"
#include "core/param.h"
#include "core/sniff.h"
#include "core/xml_profile.h"
#include "server/keys.h"
#include "server/render.h"
#include "server/rollout.h"

#include <openssl/crypto.h>
#include <stdatomic.h>
#include <string.h>

bool pv_reports_path(const pv_prov_policy *pol, pv_slice path, pv_mac *mac, const char **kind)
{
    const char *prefix = pol->report_prefix ? pol->report_prefix : "report";
    size_t plen = strlen(prefix);
    if (path.len > 0 && path.ptr[0] == '/')
        path = pv_slice_make(path.ptr + 1, path.len - 1);
    if (plen == 0 || path.len <= plen + 1 || memcmp(path.ptr, prefix, plen) != 0 ||
        path.ptr[plen] != '/')
        return false;
    pv_slice name = pv_slice_make(path.ptr + plen + 1, path.len - plen - 1);
    if (memchr(name.ptr, '/', name.len) != NULL)
        return false;
    /* `$MA-status.xml`: strip the kind so the stem holds just the MAC. */
    *kind = "full";
    char stem[96];
    if (name.len >= sizeof stem)
        return false;
    memcpy(stem, name.ptr, name.len);
    stem[name.len] = '\0';
    char *dash = strrchr(stem, '-');
    if (dash != NULL && (strncmp(dash, "-status", 7) == 0 || strncmp(dash, "-delta", 6) == 0)) {
        *kind = dash[1] == 's' ? "status" : "delta";
        char *ext = strchr(dash, '.');
        memmove(dash, ext ? ext : "", ext ? strlen(ext) + 1 : 1);
    }
    char full[100];
    full[0] = '/';
    memcpy(full + 1, stem, strlen(stem) + 1);
    return pv_mac_from_path(pv_slice_from(full), mac);
}

/* Tries one secret on the body (spec 4.1: md5 first, then sha256; spec 4.3). */
static int try_secret(const pv_store_secret *sec, pv_slice body, const char *ce, size_t max,
                      pv_buf *plain, pv_error *err)
{
    char pass[65];
    pv_keys_passphrase(sec, pass);
    pv_slice k = pv_slice_from(pass);
    pv_decode_opts o;
    pv_decode_opts_init(&o);
    o.max_output = max;
    o.md = PV_MD_MD5;
    pv_decode_info info;
    bool gcm = pv_content_encoding_is_aes128gcm(ce);
    int rc = pv_profile_decode(body, gcm ? NULL : &k, gcm ? &k : NULL, ce, &o, plain, &info, err);
    OPENSSL_cleanse(pass, sizeof pass);
    return rc;
}

/* Opens an encrypted upload with the device's current key, then its previous one. */
static int decrypt(pv_store *s, const pv_report_upload *up, size_t max, pv_buf *plain,
                   pv_error *err)
{
    pv_store_secret cur, prev;
    bool has_prev = false;
    pv_error e1 = {""};
    int rc = pv_store_secret_get(s, up->mac, &cur, &prev, &has_prev, &e1);
    if (rc == PV_ENOENT) /* never bound: no key can have encrypted it */
        rc = pv_error_set(err, PV_EDECRYPT, "report from %s: the device has no key yet", up->mac);
    else if (rc != 0)
        rc = pv_error_set(err, rc, "report from %s: %s", up->mac, e1.msg);
    else {
        rc = try_secret(&cur, up->body, up->content_encoding, max, plain, &e1);
        if (rc != 0 && rc != PV_ETOOBIG && has_prev) {
            pv_buf_reset(plain);
            rc = try_secret(&prev, up->body, up->content_encoding, max, plain, NULL);
        }
        if (rc == PV_ETOOBIG)
            rc = pv_error_set(err, rc, "report from %s: more than %zu bytes once decrypted",
                              up->mac, max);
        else if (rc != 0)
            rc = pv_error_set(err, PV_EDECRYPT, "report from %s: %s", up->mac, e1.msg);
    }
    OPENSSL_cleanse(&cur, sizeof cur);
    OPENSSL_cleanse(&prev, sizeof prev);
    return rc;
}

/* A verified certificate of this very device came with the upload (DESIGN
 * 3): PV_EACCES when one of another device came, or the stored fingerprint
 * says another certificate; *proves false when none came. */
static int certificate(const pv_report_upload *up, const pv_store_device *d, bool *proves,
                       pv_error *err)
{
    const pv_ident *who = up->who;
    *proves = false;
    if (who == NULL || !who->cert_verified || !who->cert_has_mac)
        return 0;
    if (strcmp(who->cert_mac.hex, up->mac) != 0)
        return pv_error_set(err, PV_EACCES, "report for %s sent with the certificate of %s",
                            up->mac, who->cert_mac.hex);
    int rc = pv_identity_check_device(who, up->mac, d->require_cert, d->cert_fingerprint, err);
    *proves = rc == 0;
    return rc;
}

static int rate(pv_store *s, const pv_report_upload *up, int64_t now, pv_error *err)
{
    unsigned per_hour = up->per_hour ? up->per_hour : PV_REPORT_PER_HOUR_DEFAULT;
    char key[32];
    (void)snprintf(key, sizeof key, "report:%s", up->mac);
    pv_error e = {""};
    int rc = pv_store_rate_hit(s, key, now, 3600, per_hour, NULL, &e);
    if (rc == PV_ELIMIT)
        return pv_error_set(err, rc, "report from %s: more than %u reports this hour", up->mac,
                            per_hour);
    return rc == 0 ? 0 : pv_error_set(err, rc, "report from %s: %s", up->mac, e.msg);
}

static _Atomic uint64_t outcomes[PV_REPORT__COUNT];

static const char *const outcome_names[PV_REPORT__COUNT] = {
    "stored",        "unknown_device", "too_large", "unauthenticated",
    "undecryptable", "rate_limited",   "malformed", "failed"};

const char *pv_report_outcome_name(pv_report_outcome o)
{
    return (unsigned)o < PV_REPORT__COUNT ? outcome_names[o] : "?";
}

static pv_report_outcome outcome_of(int rc)
{
    switch (rc) {
    case 0:
        return PV_REPORT_STORED;
    case PV_ENOENT:
        return PV_REPORT_UNKNOWN_DEVICE;
    case PV_ETOOBIG:
        return PV_REPORT_TOO_LARGE;
    case PV_EACCES:
        return PV_REPORT_UNAUTHENTICATED;
    case PV_EDECRYPT:
        return PV_REPORT_UNDECRYPTABLE;
    case PV_ELIMIT:
        return PV_REPORT_RATE_LIMITED;
    case PV_EFORMAT:
        return PV_REPORT_MALFORMED;
    default:
        return PV_REPORT_FAILED;
    }
}

int pv_reports_status(int rc)
{
    static const int status[PV_REPORT__COUNT] = {200, 404, 413, 403, 403, 429, 400, 500};
    return status[outcome_of(rc)];
}

void pv_reports_metrics(pv_buf *out)
{
    pv_buf_append_str(out, "# HELP provisor_reports_total Report uploads by outcome (only "
                           "\"stored\" reached the store).\n"
                           "# TYPE provisor_reports_total counter\n");
    for (int o = 0; o < PV_REPORT__COUNT; o++)
        pv_buf_appendf(
            out, "provisor_reports_total{outcome=\"%s\"} %llu\n", outcome_names[o],
            (unsigned long long)atomic_load_explicit(&outcomes[o], memory_order_relaxed));
}

static int accept_upload(pv_store *s, const pv_report_upload *up, int64_t now, int64_t *id,
                         pv_error *err)
{
    size_t max = up->max_bytes ? up->max_bytes : PV_REPORT_MAX_DEFAULT;
    if (up->body.len > max)
        return pv_error_set(err, PV_ETOOBIG, "report from %s: %zu bytes, more than %zu", up->mac,
                            up->body.len, max);
    pv_store_device d = {0};
    bool by_cert = false;
    int rc = pv_store_device_get(s, up->mac, &d, err);
    if (rc == 0)
        rc = certificate(up, &d, &by_cert, err);
    pv_store_device_free(&d);
    if (rc != 0)
        return rc;
    pv_buf plain = {0};
    pv_format f = pv_sniff(up->body);
    if (f == PV_FORMAT_SALTED || pv_content_encoding_is_aes128gcm(up->content_encoding))
        rc = decrypt(s, up, max, &plain, err);
    else if (!by_cert) /* the issue this closes: plain reports from anyone */
        rc = pv_error_set(err, PV_EACCES,
                          "report from %s: not encrypted with the device's key, and not sent "
                          "over HTTPS with the device's certificate",
                          up->mac);
    else if (f == PV_FORMAT_GZIP)
        rc = pv_gzip_decompress(up->body, max, &plain, err);
    else
        pv_buf_append(&plain, up->body.ptr, up->body.len);
    if (rc == 0)
        rc = rate(s, up, now, err);
    pv_params p = {0};
    if (rc == 0) {
        pv_error e;
        rc = pv_xml_parse(pv_buf_slice(&plain), &p, NULL, &e);
        if (rc != 0)
            rc = pv_error_set(err, PV_EFORMAT, "report from %s: not a flat profile: %s", up->mac,
                              e.msg);
    }
    if (rc == 0)
        rc = pv_store_report_add(s, up->mac, up->kind, plain.data, plain.len, now, id, err);
    if (rc == 0) /* a rollout reads $UPGERR and the call state (rollout.h) */
        rc = pv_rollout_note_report(s, up->mac, &p, now, err);
    pv_params_free(&p);
    pv_buf_free(&plain);
    return rc;
}

int pv_reports_accept(pv_store *s, const pv_report_upload *up, int64_t now, int64_t *id,
                      pv_report_outcome *outcome, pv_error *err)
{
    int rc = accept_upload(s, up, now, id, err);
    pv_report_outcome o = outcome_of(rc);
    atomic_fetch_add_explicit(&outcomes[o], 1, memory_order_relaxed);
    if (outcome != NULL)
        *outcome = o;
    return rc;
}

/* What a report never shows and a diff never lists as a value: spec 3.4's secret
 * registers and the IKM (never in a report), and every parameter the store seals
 * as a secret (passwords: whether a phone masks them in reports is unknown, spec
 * 7.1, and the simulated phone leaves them out). */
static bool secret_register(pv_slice name)
{
    return pv_slice_starts_with(name, "GPP_S") ||
           pv_slice_eq_cstr(name, "IKM_HTTP_Encrypt_Content");
}

static bool secret_param(pv_slice name)
{
    char buf[160];
    if (secret_register(name))
        return true;
    if (name.len >= sizeof buf)
        return false;
    memcpy(buf, name.ptr, name.len);
    buf[name.len] = '\0';
    return pv_store_param_is_secret(buf);
}

int pv_report_masked(pv_slice body, pv_buf *out, pv_error *err)
{
    pv_params p = {0}, masked = {0};
    int rc = pv_xml_parse(body, &p, NULL, err);
    pv_param e;
    size_t it = 0;
    while (rc == 0 && pv_params_next(&p, &it, &e)) {
        if (e.has_value && secret_param(e.name))
            e.value = pv_slice_from(PV_REPORT_MASK);
        rc = pv_params_set(&masked, &e, err);
    }
    if (rc == 0)
        rc = pv_xml_serialize(&masked, out, err);
    pv_params_free(&p);
    pv_params_free(&masked);
    return rc;
}

const char *pv_report_kind_compares(const char *kind)
{
    if (kind != NULL && strcmp(kind, "status") == 0)
        return "nothing: a status report holds the phone's state, not its configuration";
    if (kind != NULL && strcmp(kind, "delta") == 0)
        return "the parameters the delta report names";
    return "every rendered parameter";
}

/* One rendered parameter against the report: a difference when they differ. */
static bool differs(const pv_param *a, const pv_params *reported, bool delta,
                    pv_report_difference *d)
{
    pv_param b;
    if (secret_register(a->name))
        return false; /* never reported (spec 3.4): whatever stands there is not the phone's */
    bool have = pv_params_get(reported, a->name, &b) && b.has_value;
    if (!have && (delta || secret_param(a->name)))
        return false; /* a delta names only what changed; secrets are never reported */
    *d = (pv_report_difference){.change = have ? '~' : '-',
                                .name = a->name,
                                .rendered = a->value,
                                .reported = have ? b.value : pv_slice_from(""),
                                .masked = secret_param(a->name)};
    return !have || !pv_slice_eq(a->value, b.value);
}

int pv_report_compare(pv_store *s, const pv_prov_policy *pol, const char *mac, int64_t report_id,
                      bool all, pv_report_compare_fn fn, void *data, char kind[8],
                      pv_error *err)
{
    pv_store_device d = {0};
    pv_store_report r = {0};
    pv_params rendered = {0}, reported = {0};
    pv_keys_fetch kf;
    int rc = pv_store_device_get(s, mac, &d, err);
    if (rc == 0 && report_id == 0 && d.last_report_id == 0)
        rc = pv_error_set(err, PV_ENOENT, "device %s has sent no report", d.mac);
    if (rc == 0)
        rc = pv_store_report_get(s, report_id ? report_id : d.last_report_id, &r, err);
    if (rc == 0 && strcmp(r.mac, d.mac) != 0) /* another device's report: none of this one's */
        rc = pv_error_set(err, PV_ENOENT, "device %s has no report %lld", d.mac,
                          (long long)report_id);
    if (kind != NULL)
        snprintf(kind, 8, "%s", rc == 0 && r.kind != NULL ? r.kind : "");
    bool status = rc == 0 && r.kind != NULL && strcmp(r.kind, "status") == 0;
    bool delta = rc == 0 && r.kind != NULL && strcmp(r.kind, "delta") == 0;
    if (rc == 0 && !status) {
        bool has_key = pv_keys_peek(s, d.mac, &kf, NULL) == 0;
        pv_render_options o = {.policy = pol, .deliver = has_key ? &kf.deliver : NULL};
        rc = pv_render_params(s, &d, &o, &rendered, err);
    }
    if (rc == 0 && !status)
        rc = pv_xml_parse(pv_slice_make(r.body, r.body_len), &reported, NULL, err);
    pv_param a, b;
    pv_report_difference diff;
    size_t it = 0;
    while (rc == 0 && !status && pv_params_next(&rendered, &it, &a))
        if (a.has_value && differs(&a, &reported, delta, &diff))
            fn(data, &diff);
    it = 0;
    while (rc == 0 && !status && all && pv_params_next(&reported, &it, &b))
        if (b.has_value && !pv_params_get(&rendered, b.name, &a)) {
            diff = (pv_report_difference){.change = '+',
                                          .name = b.name,
                                          .rendered = pv_slice_from(""),
                                          .reported = b.value,
                                          .masked = secret_param(b.name)};
            fn(data, &diff);
        }
    pv_params_free(&rendered);
    pv_params_free(&reported);
    pv_store_report_free(&r);
    pv_store_device_free(&d);
    return rc;
}

typedef struct diff_text {
    pv_buf *out;
    size_t n;
} diff_text;

/* The lines `provisor device report` prints (pv_report_diff). */
static void diff_line(void *data, const pv_report_difference *d)
{
    diff_text *t = data;
    t->n++;
    if (d->change == '+' && d->masked)
        pv_buf_appendf(t->out, "+ %.*s: reported (value masked), not rendered\n",
                       PV_SLICE_ARG(d->name));
    else if (d->change == '+')
        pv_buf_appendf(t->out, "+ %.*s: reported \"%.*s\", not rendered\n", PV_SLICE_ARG(d->name),
                       PV_SLICE_ARG(d->reported));
    else if (d->change == '-')
        pv_buf_appendf(t->out, "- %.*s: rendered \"%.*s\", not reported\n", PV_SLICE_ARG(d->name),
                       PV_SLICE_ARG(d->rendered));
    else if (d->masked)
        pv_buf_appendf(t->out, "~ %.*s: rendered and reported differ (values masked)\n",
                       PV_SLICE_ARG(d->name));
    else
        pv_buf_appendf(t->out, "~ %.*s: rendered \"%.*s\", reported \"%.*s\"\n",
                       PV_SLICE_ARG(d->name), PV_SLICE_ARG(d->rendered),
                       PV_SLICE_ARG(d->reported));
}

int pv_report_diff(pv_store *s, const pv_prov_policy *pol, const char *mac, bool all, pv_buf *out,
                   size_t *count, pv_error *err)
{
    diff_text t = {.out = out};
    int rc = pv_report_compare(s, pol, mac, 0, all, diff_line, &t, NULL, err);
    if (count != NULL)
        *count = t.n;
    return rc;
}
