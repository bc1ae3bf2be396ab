/* Unit tests for core/sniff: format by content (spec 3.2) and the decode pipeline (spec 4). */
#include "pv_test.h"

#include "core/alloc.h"
#include "core/gzip.h"
#include "core/rfc8188.h"
#include "core/salted.h"
#include "core/sniff.h"

#define PROFILE "<flat-profile>\n  <Resync_Periodic> 7200 </Resync_Periodic>\n</flat-profile>\n"

static void sniffs_by_first_bytes(void **state)
{
    struct {
        pv_slice data;
        pv_format want;
    } cases[] = {
        {PV_SLICE_LIT(""), PV_FORMAT_EMPTY},
        {PV_SLICE_LIT(" \r\n\t"), PV_FORMAT_EMPTY},
        {PV_SLICE_LIT("\x1f\x8b\x08\x00"), PV_FORMAT_GZIP},
        {PV_SLICE_LIT("Salted__12345678"), PV_FORMAT_SALTED},
        {PV_SLICE_LIT("Salted_"), PV_FORMAT_TEXT},
        {PV_SLICE_LIT(PROFILE), PV_FORMAT_XML},
        {PV_SLICE_LIT("<?xml version=\"1.0\"?><device/>"), PV_FORMAT_XML},
        {PV_SLICE_LIT("\xef\xbb\xbf  <flat-profile/>"), PV_FORMAT_XML},
        {PV_SLICE_LIT("\n\n  <flat-profile/>"), PV_FORMAT_XML},
        {PV_SLICE_LIT("# SPA legacy source\nProxy[1] ! \"sip.example.com\" ;\n"), PV_FORMAT_TEXT},
        {PV_SLICE_LIT("Station_Name \"Caf\xc3\xa9\";"), PV_FORMAT_TEXT},
        {PV_SLICE_LIT("ab\0cd"), PV_FORMAT_BINARY},
        {PV_SLICE_LIT("\x01\x02\x03"), PV_FORMAT_BINARY},
        {PV_SLICE_LIT("\x1f"), PV_FORMAT_BINARY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pv_format got = pv_sniff(cases[i].data);
        if (got != cases[i].want)
            fail_msg("case %zu: got %s, want %s", i, pv_format_name(got),
                     pv_format_name(cases[i].want));
    }
    assert_string_equal(pv_format_name(PV_FORMAT_SALTED), "salted");
    assert_string_equal(pv_encryption_name(PV_ENCRYPTION_RFC8188), "aes128gcm");
}

static void content_encoding_lists(void **state)
{
    assert_true(pv_content_encoding_is_aes128gcm("aes128gcm"));
    assert_true(pv_content_encoding_is_aes128gcm(" AES128GCM "));
    assert_true(pv_content_encoding_is_aes128gcm("gzip, aes128gcm"));
    assert_false(pv_content_encoding_is_aes128gcm("aes128gcmx"));
    assert_false(pv_content_encoding_is_aes128gcm("gzip"));
    assert_false(pv_content_encoding_is_aes128gcm(""));
    assert_false(pv_content_encoding_is_aes128gcm(NULL));
}

/* gzip, then encrypt: how a server prepares a profile (spec 3.2, 4.1). */
static pv_buf prepare(const char *plain, bool gzip, pv_md md, const char *key)
{
    pv_buf z = {0}, out = {0};
    pv_error err;
    pv_slice data = pv_slice_from(plain);
    if (gzip) {
        assert_int_equal(pv_gzip_compress(data, 9, &z, &err), 0);
        data = pv_buf_slice(&z);
    }
    static const uint8_t salt[8] = {0x5a, 0x17, 0, 0x42, 9, 8, 7, 6}; /* reproducible */
    assert_int_equal(pv_salted_encrypt(data, pv_slice_from(key), md, salt, &out, &err), 0);
    pv_buf_free(&z);
    return out;
}

static void gzip_then_encrypt_decodes_with_either_digest(void **state)
{
    pv_slice key = PV_SLICE_LIT("SecretPhrase1234");
    for (int m = 0; m < 2; m++) {
        pv_md md = m ? PV_MD_SHA256 : PV_MD_MD5;
        for (int gz = 0; gz < 2; gz++) {
            pv_buf file = prepare(PROFILE, gz, md, "SecretPhrase1234"), plain = {0};
            pv_decode_info info;
            pv_error err;
            assert_int_equal(
                pv_profile_decode(pv_buf_slice(&file), &key, NULL, NULL, NULL, &plain, &info, &err),
                0);
            assert_slice_equal(pv_buf_slice(&plain), PROFILE);
            assert_int_equal(info.encryption, PV_ENCRYPTION_SALTED);
            assert_int_equal(info.md, md);
            assert_int_equal(info.gzipped, gz);
            assert_int_equal(info.inner, PV_FORMAT_XML);
            pv_buf_free(&file);
            pv_buf_free(&plain);
        }
    }
}

static void digest_preference_and_md_only(void **state)
{
    pv_slice key = PV_SLICE_LIT("k");
    pv_buf file = prepare(PROFILE, false, PV_MD_SHA256, "k"), plain = {0};
    pv_decode_opts opts;
    pv_decode_info info;
    pv_error err;
    pv_decode_opts_init(&opts);
    opts.md = PV_MD_SHA256;
    assert_int_equal(
        pv_profile_decode(pv_buf_slice(&file), &key, NULL, NULL, &opts, &plain, &info, &err), 0);
    assert_int_equal(info.md, PV_MD_SHA256);
    pv_buf_reset(&plain);
    opts.md = PV_MD_MD5;
    opts.md_only = true;
    /* md5 only: the padding check fails (or, 1 in 256, gives garbage that is not XML). */
    int rc = pv_profile_decode(pv_buf_slice(&file), &key, NULL, NULL, &opts, &plain, &info, &err);
    assert_true(rc == PV_EDECRYPT || info.inner != PV_FORMAT_XML);
    pv_buf_free(&file);
    pv_buf_free(&plain);
}

/*
 * Finds a salt for which md5 passes the padding check on a file encrypted with
 * sha256 (about 1 salt in 256): the pipeline must still find the profile.
 */
static void lucky_padding_with_the_wrong_digest_is_not_trusted(void **state)
{
    pv_slice key = PV_SLICE_LIT("k");
    pv_buf file = {0}, junk = {0}, plain = {0};
    pv_error err;
    uint8_t salt[8] = {0};
    int tries = 0;
    for (;; tries++) {
        assert_true(tries < 100000);
        memcpy(salt, &tries, sizeof tries);
        pv_buf_reset(&file);
        pv_buf_reset(&junk);
        assert_int_equal(
            pv_salted_encrypt(PV_SLICE_LIT(PROFILE), key, PV_MD_SHA256, salt, &file, &err), 0);
        if (pv_salted_decrypt(pv_buf_slice(&file), key, PV_MD_MD5, 1000, &junk, &err) == 0)
            break;
    }
    pv_decode_info info;
    assert_int_equal(
        pv_profile_decode(pv_buf_slice(&file), &key, NULL, NULL, NULL, &plain, &info, &err), 0);
    assert_slice_equal(pv_buf_slice(&plain), PROFILE);
    assert_int_equal(info.md, PV_MD_SHA256);
    pv_buf_free(&file);
    pv_buf_free(&junk);
    pv_buf_free(&plain);
}

static void keep_gzip_and_plain_files(void **state)
{
    pv_slice key = PV_SLICE_LIT("k");
    pv_buf file = prepare(PROFILE, true, PV_MD_MD5, "k"), plain = {0};
    pv_decode_opts opts;
    pv_decode_info info;
    pv_error err;
    pv_decode_opts_init(&opts);
    opts.keep_gzip = true;
    assert_int_equal(
        pv_profile_decode(pv_buf_slice(&file), &key, NULL, NULL, &opts, &plain, &info, &err), 0);
    assert_true(info.gzipped);
    assert_int_equal(info.inner, PV_FORMAT_GZIP);
    pv_buf_reset(&plain);
    /* Unencrypted gzip, and plain XML, need no key. */
    pv_buf z = {0};
    assert_int_equal(pv_gzip_compress(PV_SLICE_LIT(PROFILE), 6, &z, &err), 0);
    assert_int_equal(
        pv_profile_decode(pv_buf_slice(&z), NULL, NULL, NULL, NULL, &plain, &info, &err), 0);
    assert_slice_equal(pv_buf_slice(&plain), PROFILE);
    assert_int_equal(info.encryption, PV_ENCRYPTION_NONE);
    assert_true(info.gzipped);
    pv_buf_reset(&plain);
    assert_int_equal(
        pv_profile_decode(PV_SLICE_LIT(PROFILE), NULL, NULL, NULL, NULL, &plain, &info, &err), 0);
    assert_slice_equal(pv_buf_slice(&plain), PROFILE);
    assert_false(info.gzipped);
    pv_buf_free(&z);
    pv_buf_free(&file);
    pv_buf_free(&plain);
}

static void aes128gcm_unless_a_key_takes_precedence(void **state)
{
    pv_slice ikm = PV_SLICE_LIT("ikm-bytes"), key = PV_SLICE_LIT("k");
    pv_buf z = {0}, body = {0}, plain = {0};
    pv_decode_info info;
    pv_error err;
    assert_int_equal(pv_gzip_compress(PV_SLICE_LIT(PROFILE), 9, &z, &err), 0);
    assert_int_equal(
        pv_rfc8188_encrypt(pv_buf_slice(&z), ikm, 4096, PV_SLICE_LIT(""), NULL, &body, &err), 0);
    assert_int_equal(
        pv_profile_decode(pv_buf_slice(&body), NULL, &ikm, "aes128gcm", NULL, &plain, &info, &err),
        0);
    assert_slice_equal(pv_buf_slice(&plain), PROFILE);
    assert_int_equal(info.encryption, PV_ENCRYPTION_RFC8188);
    assert_int_equal(info.rs, 4096);
    assert_true(info.gzipped);
    /* spec 4.3: a --key in the rule takes precedence; this body is not "Salted__". */
    assert_int_equal(
        pv_profile_decode(pv_buf_slice(&body), &key, &ikm, "aes128gcm", NULL, &plain, &info, &err),
        PV_EFORMAT);
    assert_non_null(strstr(err.msg, "--key"));
    /* No header: the IKM alone does not make the body aes128gcm. */
    pv_buf_reset(&plain);
    assert_int_equal(
        pv_profile_decode(pv_buf_slice(&body), NULL, &ikm, NULL, NULL, &plain, &info, &err), 0);
    assert_int_equal(info.encryption, PV_ENCRYPTION_NONE);
    assert_int_equal(info.inner, PV_FORMAT_BINARY);
    /* aes128gcm without an IKM, and with a wrong one. */
    assert_int_equal(
        pv_profile_decode(pv_buf_slice(&body), NULL, NULL, "aes128gcm", NULL, &plain, &info, &err),
        PV_EINVAL);
    assert_non_null(strstr(err.msg, "IKM"));
    pv_slice wrong = PV_SLICE_LIT("other");
    assert_int_equal(pv_profile_decode(pv_buf_slice(&body), NULL, &wrong, "aes128gcm", NULL, &plain,
                                       &info, &err),
                     PV_EDECRYPT);
    pv_buf_free(&z);
    pv_buf_free(&body);
    pv_buf_free(&plain);
}

static void missing_or_unexpected_encryption_is_an_error(void **state)
{
    pv_slice key = PV_SLICE_LIT("k");
    pv_buf file = prepare(PROFILE, false, PV_MD_MD5, "k"), plain = {0};
    pv_error err;
    pv_buf_append_str(&plain, "kept");
    assert_int_equal(
        pv_profile_decode(pv_buf_slice(&file), NULL, NULL, NULL, NULL, &plain, NULL, &err),
        PV_EINVAL);
    assert_non_null(strstr(err.msg, "no key"));
    /* A plain profile where the rule promised --key: refused, never accepted quietly. */
    assert_int_equal(
        pv_profile_decode(PV_SLICE_LIT(PROFILE), &key, NULL, NULL, NULL, &plain, NULL, &err),
        PV_EFORMAT);
    assert_non_null(strstr(err.msg, "starts as xml"));
    assert_string_equal(plain.data, "kept");
    pv_buf_free(&file);
    pv_buf_free(&plain);
}

static void limits_apply_to_every_stage(void **state)
{
    pv_slice key = PV_SLICE_LIT("k");
    pv_decode_opts opts;
    pv_decode_opts_init(&opts);
    assert_int_equal(opts.max_output, 16 << 20);
    opts.max_output = 10;
    pv_buf gz = prepare(PROFILE, true, PV_MD_MD5, "k"), plain = {0};
    pv_error err;
    assert_int_equal(
        pv_profile_decode(pv_buf_slice(&gz), &key, NULL, NULL, &opts, &plain, NULL, &err),
        PV_ETOOBIG);
    assert_int_equal(
        pv_profile_decode(PV_SLICE_LIT(PROFILE), NULL, NULL, NULL, &opts, &plain, NULL, &err),
        PV_ETOOBIG);
    assert_int_equal(plain.len, 0);
    pv_buf_free(&gz);
    pv_buf_free(&plain);
}

/* The sending side (spec 7.1): key → AES-256-CBC, else IKM → aes128gcm, else plain. */
static void encode_then_decode_round_trips(void **state)
{
    pv_slice key = PV_SLICE_LIT("k"), ikm = PV_SLICE_LIT("ikm");
    struct {
        const pv_slice *key, *ikm;
        bool gzip;
        pv_encryption want;
    } cases[] = {
        {&key, NULL, false, PV_ENCRYPTION_SALTED},  {&key, &ikm, true, PV_ENCRYPTION_SALTED},
        {NULL, &ikm, false, PV_ENCRYPTION_RFC8188}, {NULL, &ikm, true, PV_ENCRYPTION_RFC8188},
        {NULL, NULL, true, PV_ENCRYPTION_NONE},     {NULL, NULL, false, PV_ENCRYPTION_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pv_encode_opts opts = {.md = PV_MD_SHA256, .gzip = cases[i].gzip, .rs = 50};
        pv_buf body = {0}, plain = {0};
        const char *ce = "unset";
        pv_decode_info info;
        pv_error err;
        assert_int_equal(pv_profile_encode(PV_SLICE_LIT(PROFILE), cases[i].key, cases[i].ikm, &opts,
                                           &body, &ce, &err),
                         0);
        if (cases[i].want == PV_ENCRYPTION_RFC8188)
            assert_string_equal(ce, "aes128gcm");
        else
            assert_null(ce);
        assert_int_equal(pv_profile_decode(pv_buf_slice(&body), cases[i].key, cases[i].ikm, ce,
                                           NULL, &plain, &info, &err),
                         0);
        assert_slice_equal(pv_buf_slice(&plain), PROFILE);
        assert_int_equal(info.encryption, cases[i].want);
        assert_int_equal(info.gzipped, cases[i].gzip);
        if (cases[i].want == PV_ENCRYPTION_SALTED)
            assert_int_equal(info.md, PV_MD_SHA256);
        if (cases[i].want == PV_ENCRYPTION_RFC8188)
            assert_int_equal(info.rs, 50);
        pv_buf_free(&body);
        pv_buf_free(&plain);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sniffs_by_first_bytes),
        cmocka_unit_test(content_encoding_lists),
        cmocka_unit_test(gzip_then_encrypt_decodes_with_either_digest),
        cmocka_unit_test(digest_preference_and_md_only),
        cmocka_unit_test(lucky_padding_with_the_wrong_digest_is_not_trusted),
        cmocka_unit_test(keep_gzip_and_plain_files),
        cmocka_unit_test(aes128gcm_unless_a_key_takes_precedence),
        cmocka_unit_test(missing_or_unexpected_encryption_is_an_error),
        cmocka_unit_test(limits_apply_to_every_stage),
        cmocka_unit_test(encode_then_decode_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
