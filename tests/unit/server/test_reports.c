/* Unit tests for server/reports on a real SQLite store (spec 7.1): upload
 * paths, AES-256-CBC with md5 and sha256, RFC 8188, gzip, the previous key
 * during a rotation, garbage and wrong keys refused and nothing stored; who
 * may report (the device's key or its own certificate, docs/security.md),
 * the size cap, the per-device rate and the outcome counters; and the diff
 * against what the device is rendered. */
#include "server/prov_test.h"

#include "core/gzip.h"
#include "core/rfc8188.h"
#include "core/salted.h"
#include "server/reports.h"

#define MAC "000e08abcdef"
#define REPORT                                                                                     \
    "<flat-profile><Proxy_1_>old.example.net</Proxy_1_><User_ID_1_>1001</User_ID_1_>"              \
    "<Extra_>x</Extra_><GPP_SA>leak</GPP_SA></flat-profile>\n"

static void paths(void **state)
{
    (void)state;
    pv_prov_policy pol;
    pv_prov_policy_defaults(&pol);
    pv_mac mac;
    const char *kind = NULL;
    assert_true(pv_reports_path(&pol, PV_SLICE_LIT("/report/000e08abcdef.xml"), &mac, &kind));
    assert_string_equal(mac.hex, MAC);
    assert_string_equal(kind, "full");
    /* TFTP names come without '/'; a kind suffix. */
    assert_true(pv_reports_path(&pol, PV_SLICE_LIT("report/000E08ABCDEF-status.xml"), &mac, &kind));
    assert_string_equal(mac.hex, MAC);
    assert_string_equal(kind, "status");
    assert_true(pv_reports_path(&pol, PV_SLICE_LIT("/report/000e08abcdef-delta.xml"), &mac, &kind));
    assert_string_equal(kind, "delta");
    const char *no[] = {"/report/",
                        "/report/x/000e08abcdef.xml",
                        "/reports/000e08abcdef.xml",
                        "/report/nomac.xml",
                        "/000e08abcdef.xml",
                        "/reportx000e08abcdef.xml",
                        "/report/000e08abcdef000e08abcdef.xml"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(pv_reports_path(&pol, pv_slice_from(no[i]), &mac, &kind));
    pol.report_prefix = "st";
    assert_true(pv_reports_path(&pol, PV_SLICE_LIT("/st/000e08abcdef.xml"), &mac, &kind));
    assert_false(pv_reports_path(&pol, PV_SLICE_LIT("/report/000e08abcdef.xml"), &mac, &kind));
}

static pv_store_secret bound(pv_store *s)
{
    seed_device(s, MAC, "SPA504G", seed_account(s, "C-1"));
    pv_store_secret sec;
    assert_ok(pv_keys_issue(s, MAC, 1000, &sec, e));
    return sec;
}

static void salted(const pv_store_secret *sec, pv_md md, pv_slice plain, pv_buf *out)
{
    char pass[65];
    pv_keys_passphrase(sec, pass);
    const uint8_t salt[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_ok(pv_salted_encrypt(plain, pv_slice_from(pass), md, salt, out, e));
}

/* One upload with the defaults, optionally with a verified certificate. */
static int upload(pv_store *s, const char *kind, pv_slice body, const char *ce,
                  const pv_peer_identity *cert, int64_t now, int64_t *id, pv_error *err)
{
    pv_ident who;
    assert_ok(pv_identify(cert, PV_SLICE_LIT(""), PV_SLICE_LIT(""), &who, e));
    pv_report_upload up = {
        .mac = MAC, .kind = kind, .body = body, .content_encoding = ce, .who = &who};
    return pv_reports_accept(s, &up, now, id, NULL, err);
}

static void stored_as(pv_store *s, int64_t id, const char *kind, const char *body)
{
    pv_store_report r = {0};
    assert_ok(pv_store_report_get(s, id, &r, e));
    assert_string_equal(r.kind, kind);
    assert_int_equal(r.body_len, strlen(body));
    assert_memory_equal(r.body, body, r.body_len);
    pv_store_report_free(&r);
    pv_store_device d = {0};
    assert_ok(pv_store_device_get(s, MAC, &d, e));
    assert_int_equal(d.last_report_id, id);
    pv_store_device_free(&d);
}

static void aes_md5_sha256_rfc8188_gzip(void **state)
{
    store_fixture *f = *state;
    pv_store_secret sec = bound(f->s);
    pv_buf body = {0};
    int64_t id = 0;
    salted(&sec, PV_MD_MD5, PV_SLICE_LIT(REPORT), &body);
    assert_ok(upload(f->s, "full", pv_buf_slice(&body), NULL, NULL, 2000, &id, e));
    stored_as(f->s, id, "full", REPORT);
    /* MPP uploads use sha256 (DESIGN 7): md5 is tried first, then sha256. */
    pv_buf_reset(&body);
    salted(&sec, PV_MD_SHA256, PV_SLICE_LIT(REPORT), &body);
    assert_ok(upload(f->s, "status", pv_buf_slice(&body), NULL, NULL, 2001, &id, e));
    stored_as(f->s, id, "status", REPORT);
    /* RFC 8188 with the key's text as IKM (spec 4.3). */
    char pass[65];
    pv_keys_passphrase(&sec, pass);
    uint8_t salt[16] = {9};
    pv_buf_reset(&body);
    assert_ok(pv_rfc8188_encrypt(PV_SLICE_LIT(REPORT), pv_slice_from(pass), 4096, PV_SLICE_LIT(""),
                                 salt, &body, e));
    assert_ok(upload(f->s, "full", pv_buf_slice(&body), "aes128gcm", NULL, 2002, &id, e));
    stored_as(f->s, id, "full", REPORT);
    /* gzip then AES (spec 3.2), and a plain gzip upload. */
    pv_buf gz = {0};
    assert_ok(pv_gzip_compress(PV_SLICE_LIT(REPORT), 6, &gz, e));
    pv_buf_reset(&body);
    salted(&sec, PV_MD_MD5, pv_buf_slice(&gz), &body);
    assert_ok(upload(f->s, "delta", pv_buf_slice(&body), NULL, NULL, 2003, &id, e));
    stored_as(f->s, id, "delta", REPORT);
    pv_peer_identity cert = phone_cert(MAC, "SPA504G"); /* a plain gzip needs the certificate */
    assert_ok(upload(f->s, "full", pv_buf_slice(&gz), NULL, &cert, 2004, &id, e));
    stored_as(f->s, id, "full", REPORT);
    pv_buf_free(&gz);
    pv_buf_free(&body);
}

static void previous_key_during_rotation(void **state)
{
    store_fixture *f = *state;
    pv_store_secret a = bound(f->s);
    pv_keys_fetch kf;
    assert_ok(pv_keys_fetch_dir(f->s, MAC, pv_slice_from(a.dir), 1001, 0, &kf, e));
    pv_store_secret b;
    assert_ok(pv_keys_rotate(f->s, MAC, 1002, &b, e));
    pv_buf body = {0};
    int64_t id = 0;
    salted(&a, PV_MD_MD5, PV_SLICE_LIT(REPORT), &body); /* the phone has not switched yet */
    assert_ok(upload(f->s, "full", pv_buf_slice(&body), NULL, NULL, 2000, &id, e));
    pv_buf_reset(&body);
    salted(&b, PV_MD_MD5, PV_SLICE_LIT(REPORT), &body);
    assert_ok(upload(f->s, "full", pv_buf_slice(&body), NULL, NULL, 2001, &id, e));
    /* After the phone confirmed B, A opens nothing. */
    assert_ok(pv_keys_fetch_dir(f->s, MAC, pv_slice_from(b.dir), 1003, 0, &kf, e));
    pv_buf_reset(&body);
    salted(&a, PV_MD_MD5, PV_SLICE_LIT(REPORT), &body);
    pv_error err;
    assert_int_equal(upload(f->s, "full", pv_buf_slice(&body), NULL, NULL, 2002, &id, &err),
                     PV_EDECRYPT);
    pv_buf_free(&body);
}

static int64_t report_count(pv_store *s)
{
    pv_store_page page = {.limit = 100};
    pv_store_report *rows = NULL;
    size_t n = 0;
    assert_ok(pv_store_report_list(s, MAC, &page, &rows, &n, e));
    pv_store_reports_free(rows, n);
    return (int64_t)n;
}

static void garbage_is_refused(void **state)
{
    store_fixture *f = *state;
    pv_store_secret sec = bound(f->s);
    pv_error err;
    int64_t id = 0;
    pv_peer_identity cert = phone_cert(MAC, "SPA504G");
    /* Not XML at all. */
    assert_int_equal(upload(f->s, "full", PV_SLICE_LIT("garbage"), NULL, &cert, 2000, &id, &err),
                     PV_EFORMAT);
    assert_non_null(strstr(err.msg, MAC));
    /* Looks encrypted but is not. */
    assert_int_equal(
        upload(f->s, "full", PV_SLICE_LIT("Salted__12345678garbage!"), NULL, NULL, 2000, &id, &err),
        PV_EDECRYPT);
    assert_int_equal(upload(f->s, "full", PV_SLICE_LIT("0123456789abcdefghijklmn"), "aes128gcm",
                            NULL, 2000, &id, &err),
                     PV_EDECRYPT);
    /* Another key. */
    pv_store_secret other = sec;
    other.key[0] ^= 1;
    pv_buf body = {0};
    salted(&other, PV_MD_MD5, PV_SLICE_LIT(REPORT), &body);
    assert_int_equal(upload(f->s, "full", pv_buf_slice(&body), NULL, NULL, 2000, &id, &err),
                     PV_EDECRYPT);
    assert_null(strstr(err.msg, "leak"));
    /* Decrypts, but the plaintext is not a flat profile. */
    pv_buf_reset(&body);
    salted(&sec, PV_MD_MD5, PV_SLICE_LIT("<flat-profile><A>x</B>"), &body);
    assert_int_equal(upload(f->s, "full", pv_buf_slice(&body), NULL, NULL, 2000, &id, &err),
                     PV_EFORMAT);
    /* A gzip bomb is bounded. */
    pv_buf big = {0}, gz = {0};
    pv_buf_append_str(&big, "<flat-profile><A>");
    for (size_t i = 0; i < PV_REPORT_MAX_DEFAULT / 64 + 1; i++)
        pv_buf_append_str(&big, "0123456789012345678901234567890123456789012345678901234567890123");
    pv_buf_append_str(&big, "</A></flat-profile>");
    assert_ok(pv_gzip_compress(pv_buf_slice(&big), 9, &gz, e));
    assert_true(gz.len < PV_REPORT_MAX_DEFAULT);
    assert_int_equal(upload(f->s, "full", pv_buf_slice(&gz), NULL, &cert, 2000, &id, &err),
                     PV_ETOOBIG);
    /* ... also inside the encryption. */
    pv_buf_reset(&body);
    salted(&sec, PV_MD_MD5, pv_buf_slice(&gz), &body);
    assert_int_equal(upload(f->s, "full", pv_buf_slice(&body), NULL, NULL, 2000, &id, &err),
                     PV_ETOOBIG);
    /* Too big to read. */
    assert_int_equal(upload(f->s, "full", pv_buf_slice(&big), NULL, NULL, 2000, &id, &err),
                     PV_ETOOBIG);
    /* Unknown device. */
    pv_report_upload unknown = {
        .mac = "000e08000000", .kind = "full", .body = PV_SLICE_LIT(REPORT)};
    assert_int_equal(pv_reports_accept(f->s, &unknown, 2000, &id, NULL, &err), PV_ENOENT);
    assert_int_equal(report_count(f->s), 0); /* nothing stored */
    pv_buf_free(&big);
    pv_buf_free(&gz);
    pv_buf_free(&body);
}

/* The issue this closes: a plain report is anyone's word; only the device's
 * key or its own certificate makes it the device's (docs/security.md). */
static void plain_needs_the_device_certificate(void **state)
{
    store_fixture *f = *state;
    bound(f->s);
    pv_error err;
    int64_t id = 0;
    pv_report_outcome o;
    pv_ident none;
    assert_ok(pv_identify(NULL, PV_SLICE_LIT(""), PV_SLICE_LIT(""), &none, e));
    pv_report_upload up = {.mac = MAC, .kind = "full", .body = PV_SLICE_LIT(REPORT), .who = &none};
    assert_int_equal(pv_reports_accept(f->s, &up, 2000, &id, &o, &err), PV_EACCES);
    assert_int_equal(o, PV_REPORT_UNAUTHENTICATED);
    assert_int_equal(pv_reports_status(PV_EACCES), 403);
    assert_non_null(strstr(err.msg, "not encrypted with the device's key"));
    up.who = NULL; /* TFTP: no identity at all */
    assert_int_equal(pv_reports_accept(f->s, &up, 2000, &id, &o, &err), PV_EACCES);
    pv_buf gz = {0};
    assert_ok(pv_gzip_compress(PV_SLICE_LIT(REPORT), 6, &gz, e));
    assert_int_equal(upload(f->s, "full", pv_buf_slice(&gz), NULL, NULL, 2000, &id, &err),
                     PV_EACCES);
    /* Another phone's certificate: refused even with a plain body. */
    pv_peer_identity other = phone_cert("000e08000001", "SPA504G");
    assert_int_equal(upload(f->s, "full", PV_SLICE_LIT(REPORT), NULL, &other, 2000, &id, &err),
                     PV_EACCES);
    assert_non_null(strstr(err.msg, "000e08000001"));
    assert_int_equal(report_count(f->s), 0);
    /* The device's own certificate. */
    pv_peer_identity cert = phone_cert(MAC, "SPA504G");
    assert_ok(upload(f->s, "full", PV_SLICE_LIT(REPORT), NULL, &cert, 2000, &id, e));
    stored_as(f->s, id, "full", REPORT);
    /* A stored fingerprint binds the device to one certificate. */
    pv_store_device d = {0};
    assert_ok(pv_store_device_get(f->s, MAC, &d, e));
    d.cert_fingerprint = pv_strdup("00");
    assert_ok(pv_store_device_update(f->s, &d, 2001, e));
    pv_store_device_free(&d);
    assert_int_equal(upload(f->s, "full", PV_SLICE_LIT(REPORT), NULL, &cert, 2002, &id, &err),
                     PV_EACCES);
    assert_int_equal(report_count(f->s), 1);
    pv_buf_free(&gz);
}

static void size_cap_and_rate(void **state)
{
    store_fixture *f = *state;
    pv_store_secret sec = bound(f->s);
    pv_buf body = {0};
    salted(&sec, PV_MD_MD5, PV_SLICE_LIT(REPORT), &body);
    pv_error err;
    int64_t id = 0;
    pv_report_outcome o;
    pv_report_upload up = {.mac = MAC, .kind = "full", .body = pv_buf_slice(&body)};
    up.max_bytes = body.len - 1;
    assert_int_equal(pv_reports_accept(f->s, &up, 7200, &id, &o, &err), PV_ETOOBIG);
    assert_int_equal(o, PV_REPORT_TOO_LARGE);
    assert_int_equal(pv_reports_status(PV_ETOOBIG), 413);
    up.max_bytes = 0;
    up.per_hour = 3;
    for (int i = 0; i < 3; i++)
        assert_ok(pv_reports_accept(f->s, &up, 7200 + i, &id, &o, e));
    /* Forged uploads never spend the device's allowance... */
    pv_report_upload forged = {
        .mac = MAC, .kind = "full", .body = PV_SLICE_LIT(REPORT), .per_hour = 3};
    assert_int_equal(pv_reports_accept(f->s, &forged, 7203, &id, &o, &err), PV_EACCES);
    /* ... the device's own fourth report this hour is refused and not stored. */
    assert_int_equal(pv_reports_accept(f->s, &up, 7204, &id, &o, &err), PV_ELIMIT);
    assert_int_equal(o, PV_REPORT_RATE_LIMITED);
    assert_int_equal(pv_reports_status(PV_ELIMIT), 429);
    assert_non_null(strstr(err.msg, "more than 3 reports this hour"));
    assert_int_equal(report_count(f->s), 3);
    assert_ok(pv_reports_accept(f->s, &up, 7200 + 3600, &id, &o, e)); /* the next hour */
    assert_int_equal(report_count(f->s), 4);
    /* Every outcome is counted for /metrics. */
    pv_buf m = {0};
    pv_reports_metrics(&m);
    assert_non_null(strstr(m.data, "# TYPE provisor_reports_total counter\n"));
    assert_non_null(strstr(m.data, "provisor_reports_total{outcome=\"rate_limited\"} "));
    assert_non_null(strstr(m.data, "provisor_reports_total{outcome=\"too_large\"} "));
    assert_null(strstr(m.data, "provisor_reports_total{outcome=\"rate_limited\"} 0\n"));
    pv_buf_free(&m);
    pv_buf_free(&body);
}

static void diff_against_rendering(void **state)
{
    store_fixture *f = *state;
    bound(f->s);
    assert_ok(pv_store_param_put(f->s, "global", "Proxy_1_", "sip.example.net", NULL, 1000, e));
    assert_ok(
        pv_store_param_put(f->s, "account:1", "User_ID_1_", "{{line1.user_id}}", "ro", 1000, e));
    assert_ok(pv_store_param_put(f->s, "global", "Dial_Plan_1_", "(x.)", NULL, 1000, e));
    pv_prov_policy pol;
    pv_prov_policy_defaults(&pol);
    pv_buf out = {0};
    size_t n = 99;
    pv_error err;
    assert_int_equal(pv_report_diff(f->s, &pol, MAC, false, &out, &n, &err), PV_ENOENT);
    int64_t id;
    pv_peer_identity cert = phone_cert(MAC, "SPA504G");
    assert_ok(upload(f->s, "full", PV_SLICE_LIT(REPORT), NULL, &cert, 2000, &id, e));
    assert_ok(pv_report_diff(f->s, &pol, MAC, false, &out, &n, e));
    assert_non_null(strstr(
        out.data, "~ Proxy_1_: rendered \"sip.example.net\", reported \"old.example.net\"\n"));
    assert_non_null(strstr(out.data, "- Dial_Plan_1_: rendered \"(x.)\", not reported\n"));
    assert_null(strstr(out.data, "User_ID_1_")); /* the same on both sides */
    assert_null(strstr(out.data, "GPP_S"));      /* secrets never compared (spec 3.4) */
    assert_null(strstr(out.data, "+ Extra_"));   /* only with all */
    size_t without_all = n;
    pv_buf_reset(&out);
    assert_ok(pv_report_diff(f->s, &pol, MAC, true, &out, &n, e));
    assert_non_null(strstr(out.data, "+ Extra_: reported \"x\", not rendered\n"));
    assert_int_equal(n, without_all + 1);
    /* Each line is one difference. */
    size_t lines = 0;
    for (const char *p = out.data; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    assert_int_equal(lines, n);
    pv_buf_free(&out);
}

/* Issue 13: a password is never shown nor a difference for not being reported; a
 * delta is compared on what it names, a status report not at all. */
static void kinds_and_secrets(void **state)
{
    store_fixture *f = *state;
    bound(f->s);
    assert_ok(pv_store_param_put(f->s, "global", "Proxy_1_", "sip.example.net", NULL, 1000, e));
    assert_ok(pv_store_param_put(f->s, "global", "Password_1_", "s3cret-pw", NULL, 1000, e));
    assert_ok(pv_store_param_put(f->s, "global", "Dial_Plan_1_", "(x.)", NULL, 1000, e));
    pv_prov_policy pol;
    pv_prov_policy_defaults(&pol);
    pv_peer_identity cert = phone_cert(MAC, "SPA504G");
    int64_t id;
    pv_buf out = {0};
    size_t n = 0;
    /* full: the password not reported is no difference, and its value is nowhere */
    assert_ok(upload(f->s, "full", PV_SLICE_LIT(REPORT), NULL, &cert, 2000, &id, e));
    assert_ok(pv_report_diff(f->s, &pol, MAC, false, &out, &n, e));
    assert_non_null(strstr(out.data, "- Dial_Plan_1_"));
    assert_null(strstr(out.data, "Password_1_"));
    assert_null(strstr(out.data, "s3cret-pw"));
    /* a phone that does report it, differently: named, values masked */
    pv_buf_reset(&out);
    assert_ok(upload(f->s, "full",
                     PV_SLICE_LIT("<flat-profile><Password_1_>other-pw</Password_1_>"
                                  "</flat-profile>"),
                     NULL, &cert, 2001, &id, e));
    assert_ok(pv_report_diff(f->s, &pol, MAC, false, &out, &n, e));
    assert_non_null(strstr(out.data, "~ Password_1_: rendered and reported differ (values masked)"));
    assert_null(strstr(out.data, "other-pw"));
    assert_null(strstr(out.data, "s3cret-pw"));
    /* delta: only what it names */
    pv_buf_reset(&out);
    assert_ok(upload(f->s, "delta", PV_SLICE_LIT(REPORT), NULL, &cert, 2002, &id, e));
    assert_ok(pv_report_diff(f->s, &pol, MAC, false, &out, &n, e));
    assert_non_null(strstr(out.data, "~ Proxy_1_"));
    assert_null(strstr(out.data, "Dial_Plan_1_"));
    assert_int_equal(n, 1);
    assert_string_equal(pv_report_kind_compares("delta"), "the parameters the delta report names");
    /* status: nothing to compare */
    pv_buf_reset(&out);
    assert_ok(upload(f->s, "status", PV_SLICE_LIT("<flat-profile><Registration_State_1_>Registered"
                                                  "</Registration_State_1_></flat-profile>"),
                     NULL, &cert, 2003, &id, e));
    assert_ok(pv_report_diff(f->s, &pol, MAC, true, &out, &n, e));
    assert_int_equal(n, 0);
    assert_null(out.data != NULL && out.data[0] ? out.data : NULL);
    /* the body people see: secrets masked, the rest as reported */
    pv_buf_reset(&out);
    assert_ok(pv_report_masked(PV_SLICE_LIT("<flat-profile><Password_1_>pw</Password_1_>"
                                            "<GPP_SA>key</GPP_SA><Proxy_1_>p</Proxy_1_>"
                                            "</flat-profile>"),
                               &out, e));
    assert_non_null(strstr(out.data, "<Password_1_>" PV_REPORT_MASK "</Password_1_>"));
    assert_non_null(strstr(out.data, "<GPP_SA>" PV_REPORT_MASK "</GPP_SA>"));
    assert_non_null(strstr(out.data, "<Proxy_1_>p</Proxy_1_>"));
    assert_null(strstr(out.data, ">pw<"));
    pv_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paths),
        PROV_TEST(aes_md5_sha256_rfc8188_gzip),
        PROV_TEST(previous_key_during_rotation),
        PROV_TEST(garbage_is_refused),
        PROV_TEST(plain_needs_the_device_certificate),
        PROV_TEST(size_cap_and_rate),
        PROV_TEST(diff_against_rendering),
        PROV_TEST(kinds_and_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
