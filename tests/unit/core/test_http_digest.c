/* Unit tests for core/http_digest: the RFC 7616 §3.9.1 worked example (MD5 and SHA-256),
 * -sess, userhash, several challenges in one header, and bad headers. */
#include "pv_test.h"

#include "core/http_digest.h"

#include <stdio.h>

/* RFC 7616 §3.9.1 */
#define REALM "http-auth@example.org"
#define NONCE "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define OPAQUE "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
#define CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define CHALLENGE(alg)                                                                             \
    "Digest realm=\"" REALM "\", qop=\"auth, auth-int\", algorithm=" alg ", nonce=\"" NONCE        \
    "\", opaque=\"" OPAQUE "\""

static void answer(const char *header, char *out, size_t size)
{
    pv_digest_challenge c;
    pv_error err;
    int rc = pv_digest_parse(pv_slice_from(header), &c, &err);
    if (rc != 0)
        fail_msg("parse: %s", err.msg);
    pv_buf b = {0};
    assert_int_equal(pv_digest_authorization(&c, "Mufasa", "Circle of Life", "GET",
                                             "/dir/index.html", CNONCE, 1, &b, &err),
                     0);
    snprintf(out, size, "%s", b.data);
    pv_buf_free(&b);
}

static void rfc7616_worked_example(void **state)
{
    char got[1024];
    /* §3.9.1: the two challenges of the example, SHA-256 first, in one header */
    answer(CHALLENGE("SHA-256") ", " CHALLENGE("MD5"), got, sizeof got);
    assert_string_equal(got, "Digest username=\"Mufasa\", realm=\"" REALM
                             "\", uri=\"/dir/index.html\", algorithm=SHA-256, nonce=\"" NONCE
                             "\", nc=00000001, cnonce=\"" CNONCE "\", qop=auth, response=\""
                             "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
                             "\", opaque=\"" OPAQUE "\"");
    answer(CHALLENGE("MD5"), got, sizeof got);
    assert_non_null(strstr(got, "algorithm=MD5,"));
    assert_non_null(strstr(got, "response=\"8ca523f5e9506fed4657c9700eebdbec\""));
    /* no algorithm parameter: MD5 (§3.3) */
    answer("Digest realm=\"" REALM "\", qop=auth, nonce=\"" NONCE "\", opaque=\"" OPAQUE "\"", got,
           sizeof got);
    assert_non_null(strstr(got, "response=\"8ca523f5e9506fed4657c9700eebdbec\""));
}

static void sess_userhash_and_no_qop(void **state)
{
    char got[1024];
    /* -sess: HA1 = H(H(user:realm:pw):nonce:cnonce) — a different response from plain MD5 */
    answer("Digest realm=\"" REALM "\", qop=auth, algorithm=MD5-sess, nonce=\"" NONCE "\"", got,
           sizeof got);
    assert_non_null(strstr(got, "algorithm=MD5-sess,"));
    assert_null(strstr(got, "8ca523f5e9506fed4657c9700eebdbec"));
    assert_null(strstr(got, "opaque"));
    /* RFC 2069 style: no qop, no nc/cnonce */
    answer("Digest realm=\"r\", nonce=\"n\"", got, sizeof got);
    assert_null(strstr(got, "cnonce"));
    assert_null(strstr(got, "qop"));
    /* userhash (§3.4.4): the username is H(user:realm); a Basic challenge before is skipped */
    answer("Basic realm=\"x\", Digest realm=\"" REALM "\", qop=auth, algorithm=SHA-256, "
           "nonce=\"" NONCE "\", userhash=true",
           got, sizeof got);
    assert_non_null(strstr(got, "userhash=true"));
    assert_null(strstr(got, "Mufasa"));
    /* escapes in quoted strings are undone, and redone on the way out */
    answer("Digest realm=\"a \\\"quoted\\\" realm\", nonce=abc", got, sizeof got);
    assert_non_null(strstr(got, "realm=\"a \\\"quoted\\\" realm\""));
    assert_non_null(strstr(got, "nonce=\"abc\""));
}

static void bad_and_unanswerable_headers(void **state)
{
    pv_digest_challenge c;
    pv_error err;
    assert_int_equal(pv_digest_parse(pv_slice_from("Basic realm=\"phones\""), &c, &err), PV_ENOENT);
    assert_int_equal(pv_digest_parse(pv_slice_from(""), &c, &err), PV_ENOENT);
    assert_int_equal(pv_digest_parse(pv_slice_from("Digest realm=\"r\", nonce=\"n"), &c, &err),
                     PV_ESYNTAX);
    assert_non_null(strstr(err.msg, "column 25"));
    assert_int_equal(pv_digest_parse(pv_slice_from("realm=\"r\""), &c, &err), PV_ESYNTAX);
    assert_int_equal(pv_digest_parse(pv_slice_from("Digest @"), &c, &err), PV_ESYNTAX);
    assert_int_equal(
        pv_digest_parse(pv_slice_from("Digest realm=r, nonce=n, algorithm=SHA-512-256"), &c, &err),
        PV_ENOTSUP);
    assert_non_null(strstr(err.msg, "algorithm"));
    assert_int_equal(
        pv_digest_parse(pv_slice_from("Digest realm=r, nonce=n, qop=auth-int"), &c, &err),
        PV_ENOTSUP);
    assert_int_equal(pv_digest_parse(pv_slice_from("Digest realm=r"), &c, &err), PV_ENOTSUP);
    assert_non_null(strstr(err.msg, "nonce"));
    /* an unanswerable Digest, then one we can answer */
    assert_int_equal(pv_digest_parse(pv_slice_from("Digest realm=r, nonce=n, algorithm=SHA-512-256,"
                                                   " Digest realm=r, nonce=m, algorithm=SHA-256"),
                                     &c, &err),
                     0);
    assert_string_equal(c.nonce, "m");
    assert_int_equal(c.alg, PV_DIGEST_SHA256);
    /* bounded: a nonce over the limit is refused, not cut */
    char big[600] = "Digest realm=r, nonce=";
    memset(big + strlen(big), 'n', 400);
    assert_int_equal(pv_digest_parse(pv_slice_from(big), &c, &err), PV_ETOOBIG);
    /* a header break in the username is never sent */
    assert_int_equal(pv_digest_parse(pv_slice_from("Digest realm=r, nonce=n"), &c, &err), 0);
    pv_buf b = {0};
    assert_int_equal(pv_digest_authorization(&c, "a\r\nX: y", "p", "GET", "/", "cn", 1, &b, &err),
                     PV_EINVAL);
    assert_int_equal(pv_digest_authorization(&c, "u", "p", "GET", "/\"", "cn", 1, &b, &err),
                     PV_EINVAL);
    pv_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc7616_worked_example),
        cmocka_unit_test(sess_userhash_and_no_qop),
        cmocka_unit_test(bad_and_unanswerable_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
