/* reports.c — report uploads: decrypt, check, store, diff; see reports.h. */
#include "server/reports.h"

#include "core/alloc.h"
#include "core/gzip.h"
#include "core/param.h"
#include "core/sniff.h"
#include "core/xml_profile.h"
#include "server/keys.h"
#include "server/render.h"

#include <openssl/crypto.h>
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
static int try_secret(const pv_store_secret *sec, pv_slice body, const char *ce, pv_buf *plain,
                      pv_error *err)
{
    char pass[65];
    pv_keys_passphrase(sec, pass);
    pv_slice k = pv_slice_from(pass);
    pv_decode_opts o;
    pv_decode_opts_init(&o);
    o.max_output = PV_REPORT_MAX;
    o.md = PV_MD_MD5;
    pv_decode_info info;
    bool gcm = pv_content_encoding_is_aes128gcm(ce);
    int rc = pv_profile_decode(body, gcm ? NULL : &k, gcm ? &k : NULL, ce, &o, plain, &info, err);
    OPENSSL_cleanse(pass, sizeof pass);
    return rc;
}

int pv_reports_accept(pv_store *s, const char *mac, const char *kind, pv_slice body,
                      const char *content_encoding, int64_t now, int64_t *id, pv_error *err)
{
    if (body.len > PV_REPORT_MAX)
        return pv_error_set(err, PV_ETOOBIG, "report from %s: %zu bytes, more than %zu", mac,
                            body.len, PV_REPORT_MAX);
    pv_store_device d = {0};
    int rc = pv_store_device_get(s, mac, &d, err);
    pv_store_device_free(&d);
    if (rc != 0)
        return rc;
    pv_buf plain = {0};
    pv_format f = pv_sniff(body);
    bool encrypted = f == PV_FORMAT_SALTED || pv_content_encoding_is_aes128gcm(content_encoding);
    if (encrypted) {
        pv_store_secret cur, prev;
        bool has_prev = false;
        rc = pv_store_secret_get(s, mac, &cur, &prev, &has_prev, err);
        if (rc == 0) {
            pv_error e1;
            rc = try_secret(&cur, body, content_encoding, &plain, &e1);
            if (rc != 0 && has_prev)
                rc = try_secret(&prev, body, content_encoding, &plain, NULL);
            if (rc != 0)
                rc = pv_error_set(err, PV_EDECRYPT, "report from %s: %s", mac, e1.msg);
        }
        OPENSSL_cleanse(&cur, sizeof cur);
        OPENSSL_cleanse(&prev, sizeof prev);
    } else if (f == PV_FORMAT_GZIP) {
        rc = pv_gzip_decompress(body, PV_REPORT_MAX, &plain, err);
    } else {
        pv_buf_append(&plain, body.ptr, body.len);
    }
    pv_params p = {0};
    if (rc == 0) {
        pv_error e;
        rc = pv_xml_parse(pv_buf_slice(&plain), &p, NULL, &e);
        if (rc != 0)
            rc =
                pv_error_set(err, PV_EFORMAT, "report from %s: not a flat profile: %s", mac, e.msg);
    }
    pv_params_free(&p);
    if (rc == 0)
        rc = pv_store_report_add(s, mac, kind, plain.data, plain.len, now, id, err);
    pv_buf_free(&plain);
    return rc;
}

static bool secret_param(pv_slice name)
{
    /* spec 3.4: GPP_SA..SD and the IKM are never in a report. */
    return pv_slice_starts_with(name, "GPP_S") ||
           pv_slice_eq_cstr(name, "IKM_HTTP_Encrypt_Content");
}

int pv_report_diff(pv_store *s, const pv_prov_policy *pol, const char *mac, bool all, pv_buf *out,
                   size_t *count, pv_error *err)
{
    pv_store_device d = {0};
    pv_store_report r = {0};
    pv_params rendered = {0}, reported = {0};
    pv_keys_fetch kf;
    size_t n = 0;
    int rc = pv_store_device_get(s, mac, &d, err);
    if (rc == 0 && d.last_report_id == 0)
        rc = pv_error_set(err, PV_ENOENT, "device %s has sent no report", d.mac);
    if (rc == 0)
        rc = pv_store_report_get(s, d.last_report_id, &r, err);
    if (rc == 0) {
        bool has_key = pv_keys_peek(s, d.mac, &kf, NULL) == 0;
        pv_render_options o = {.policy = pol, .deliver = has_key ? &kf.deliver : NULL};
        rc = pv_render_params(s, &d, &o, &rendered, err);
    }
    if (rc == 0)
        rc = pv_xml_parse(pv_slice_make(r.body, r.body_len), &reported, NULL, err);
    pv_param a, b;
    size_t it = 0;
    while (rc == 0 && pv_params_next(&rendered, &it, &a)) {
        if (!a.has_value || secret_param(a.name))
            continue;
        if (!pv_params_get(&reported, a.name, &b) || !b.has_value) {
            pv_buf_appendf(out, "- %.*s: rendered \"%.*s\", not reported\n", PV_SLICE_ARG(a.name),
                           PV_SLICE_ARG(a.value));
            n++;
        } else if (!pv_slice_eq(a.value, b.value)) {
            pv_buf_appendf(out, "~ %.*s: rendered \"%.*s\", reported \"%.*s\"\n",
                           PV_SLICE_ARG(a.name), PV_SLICE_ARG(a.value), PV_SLICE_ARG(b.value));
            n++;
        }
    }
    it = 0;
    while (rc == 0 && all && pv_params_next(&reported, &it, &b)) {
        if (b.has_value && !pv_params_get(&rendered, b.name, &a)) {
            pv_buf_appendf(out, "+ %.*s: reported \"%.*s\", not rendered\n", PV_SLICE_ARG(b.name),
                           PV_SLICE_ARG(b.value));
            n++;
        }
    }
    if (count != NULL)
        *count = n;
    pv_params_free(&rendered);
    pv_params_free(&reported);
    pv_store_report_free(&r);
    pv_store_device_free(&d);
    return rc;
}
