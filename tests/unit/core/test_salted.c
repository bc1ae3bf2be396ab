/* Unit tests for core/salted: the OpenSSL enc format (spec 4.1). */
#include "pv_test.h"

#include "core/alloc.h"
#include "core/salted.h"

#include <openssl/err.h>

static const uint8_t SALT[8] = {0, 1, 2, 3, 4, 5, 6, 7};
#define PASS PV_SLICE_LIT("SecretPhrase1234")

/*
 * Made with the openssl command (3.0), independently of this code:
 *   openssl enc -aes-256-cbc -k SecretPhrase1234 -md MD -S 0001020304050607
 * with "Salted__" and the salt put in front (openssl 3 omits them with -S).
 */
static const uint8_t WALRUS_MD5[] = {
    'S',  'a',  'l',  't',  'e',  'd',  '_',  '_',  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x2a, 0xfa, 0xa2, 0x5b, 0xbe, 0x0b, 0xf6, 0x33, 0x22, 0xf5, 0x0f, 0x85, 0xa9, 0xb1, 0x41, 0xdb};
static const uint8_t WALRUS_SHA256[] = {
    'S',  'a',  'l',  't',  'e',  'd',  '_',  '_',  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x7e, 0xee, 0x6e, 0x1e, 0x00, 0x27, 0x3d, 0x0f, 0x1f, 0xa1, 0x00, 0xe7, 0x71, 0xe3, 0xb7, 0x24};
static const uint8_t EMPTY_MD5[] = {
    'S',  'a',  'l',  't',  'e',  'd',  '_',  '_',  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0xab, 0x06, 0xf9, 0xd1, 0x0e, 0x90, 0xf1, 0x6a, 0x11, 0x37, 0xe0, 0x1f, 0x44, 0x9c, 0x76, 0xd1};
static const uint8_t EMPTY_SHA256[] = {
    'S',  'a',  'l',  't',  'e',  'd',  '_',  '_',  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0xce, 0x88, 0xa0, 0xad, 0xff, 0x11, 0xe0, 0xa4, 0xcf, 0xd9, 0xe8, 0x26, 0x1f, 0x05, 0x99, 0xd1};

#define SL(arr) pv_slice_make((arr), sizeof(arr))

static void encrypt_matches_openssl(void **state)
{
    struct {
        const char *plain;
        pv_md md;
        const uint8_t *want;
        size_t want_len;
    } cases[] = {
        {"I am the walrus", PV_MD_MD5, WALRUS_MD5, sizeof WALRUS_MD5},
        {"I am the walrus", PV_MD_SHA256, WALRUS_SHA256, sizeof WALRUS_SHA256},
        {"", PV_MD_MD5, EMPTY_MD5, sizeof EMPTY_MD5},
        {"", PV_MD_SHA256, EMPTY_SHA256, sizeof EMPTY_SHA256},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pv_buf out = {0};
        pv_error err;
        assert_int_equal(
            pv_salted_encrypt(pv_slice_from(cases[i].plain), PASS, cases[i].md, SALT, &out, &err),
            0);
        assert_int_equal(out.len, cases[i].want_len);
        assert_memory_equal(out.data, cases[i].want, cases[i].want_len);
        pv_buf_free(&out);
    }
}

static void decrypt_openssl_files_with_either_digest(void **state)
{
    pv_buf out = {0};
    pv_error err;
    pv_md used = PV_MD_MD5;
    assert_int_equal(pv_salted_decrypt(SL(WALRUS_MD5), PASS, PV_MD_MD5, 100, &out, &err), 0);
    assert_slice_equal(pv_buf_slice(&out), "I am the walrus");
    pv_buf_reset(&out);
    /* DESIGN 7: md5 first fails the padding check, then sha256 decrypts. */
    assert_int_equal(
        pv_salted_decrypt_any(SL(WALRUS_SHA256), PASS, PV_MD_MD5, 100, &out, &used, &err), 0);
    assert_int_equal(used, PV_MD_SHA256);
    assert_slice_equal(pv_buf_slice(&out), "I am the walrus");
    pv_buf_reset(&out);
    assert_int_equal(
        pv_salted_decrypt_any(SL(WALRUS_MD5), PASS, PV_MD_SHA256, 100, &out, &used, &err), 0);
    assert_int_equal(used, PV_MD_MD5);
    pv_buf_reset(&out);
    assert_int_equal(
        pv_salted_decrypt_any(SL(EMPTY_SHA256), PASS, PV_MD_MD5, 100, &out, &used, &err), 0);
    assert_int_equal(out.len, 0);
    assert_int_equal(used, PV_MD_SHA256);
    pv_buf_free(&out);
}

static void wrong_key_or_digest_is_edecrypt(void **state)
{
    pv_buf out = {0};
    pv_error err;
    pv_buf_append_str(&out, "keep");
    /* This key and salt fail the padding check with both digests (checked with openssl). */
    assert_int_equal(pv_salted_decrypt_any(SL(WALRUS_MD5), PV_SLICE_LIT("wrongkey"), PV_MD_MD5, 100,
                                           &out, NULL, &err),
                     PV_EDECRYPT);
    assert_non_null(strstr(err.msg, "wrong key"));
    assert_string_equal(out.data, "keep"); /* nothing appended on failure */
    assert_int_equal(pv_salted_decrypt(SL(WALRUS_SHA256), PASS, PV_MD_MD5, 100, &out, &err),
                     PV_EDECRYPT);
    assert_non_null(strstr(err.msg, "md5"));
    assert_int_equal(ERR_peek_error(), 0); /* no stale OpenSSL error for the next TLS call */
    pv_buf_free(&out);
}

static void bad_header_and_truncation_are_explained(void **state)
{
    pv_buf out = {0};
    pv_error err;
    /* Shorter than the header, header only, and a partial block. */
    size_t cuts[] = {0, 5, 15, 16, 20, 31};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        int rc = pv_salted_decrypt_any(pv_slice_make(WALRUS_MD5, cuts[i]), PASS, PV_MD_MD5, 100,
                                       &out, NULL, &err);
        assert_int_equal(rc, PV_ETRUNC);
        assert_non_null(strstr(err.msg, "truncated"));
        assert_int_equal(out.len, 0);
    }
    uint8_t bad[sizeof WALRUS_MD5];
    memcpy(bad, WALRUS_MD5, sizeof bad);
    bad[0] = 's';
    assert_int_equal(pv_salted_decrypt(SL(bad), PASS, PV_MD_MD5, 100, &out, &err), PV_EFORMAT);
    assert_non_null(strstr(err.msg, "Salted__"));
    assert_int_equal(pv_salted_decrypt(PV_SLICE_LIT("<flat-profile>... a plain file ..."), PASS,
                                       PV_MD_MD5, 100, &out, &err),
                     PV_EFORMAT);
    pv_buf_free(&out);
}

static void output_cap_is_enforced(void **state)
{
    pv_buf out = {0};
    pv_error err;
    assert_int_equal(pv_salted_decrypt(SL(WALRUS_MD5), PASS, PV_MD_MD5, 15, &out, &err), 0);
    pv_buf_reset(&out);
    assert_int_equal(pv_salted_decrypt(SL(WALRUS_MD5), PASS, PV_MD_MD5, 14, &out, &err),
                     PV_ETOOBIG);
    assert_int_equal(out.len, 0);
    /* Refused from the size alone, before any work: 1 MiB of ciphertext, 1 KiB cap. */
    uint8_t *big = pv_calloc(1, 1 << 20);
    memcpy(big, WALRUS_MD5, 16);
    assert_int_equal(
        pv_salted_decrypt(pv_slice_make(big, 1 << 20), PASS, PV_MD_MD5, 1024, &out, &err),
        PV_ETOOBIG);
    free(big);
    pv_buf_free(&out);
}

/* Fills n bytes with a pattern that is not all one value. */
static uint8_t *pattern(size_t n)
{
    uint8_t *p = pv_malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + i / 251);
    return p;
}

static void round_trips_all_sizes_streamed_in_pieces(void **state)
{
    size_t sizes[] = {0, 1, 15, 16, 17, 31, 32, 33, 1000, 65537};
    size_t pieces[] = {1, 3, 16, 17, 4096, 1 << 20};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint8_t *plain = pattern(sizes[s]);
        for (int m = 0; m < 2; m++) {
            pv_md md = m ? PV_MD_SHA256 : PV_MD_MD5;
            pv_buf one = {0}, cipher = {0}, back = {0};
            pv_error err;
            assert_int_equal(
                pv_salted_encrypt(pv_slice_make(plain, sizes[s]), PASS, md, SALT, &one, &err), 0);
            /* PKCS#7 always adds 1..16 bytes: a whole number of blocks. */
            assert_int_equal(one.len, 16 + (sizes[s] / 16 + 1) * 16);
            for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
                pv_salted *enc = NULL, *dec = NULL;
                assert_int_equal(pv_salted_encrypt_init(&enc, PASS, md, SALT, &err), 0);
                for (size_t off = 0; off < sizes[s]; off += pieces[k]) {
                    size_t n = sizes[s] - off < pieces[k] ? sizes[s] - off : pieces[k];
                    size_t before = cipher.len;
                    assert_int_equal(pv_salted_update(enc, plain + off, n, &cipher, &err), 0);
                    assert_true(cipher.len - before <= n + 32); /* bounded per update */
                }
                assert_int_equal(pv_salted_final(enc, &cipher, &err), 0);
                pv_salted_free(enc);
                assert_int_equal(cipher.len, one.len);
                assert_memory_equal(cipher.data, one.data, one.len);
                assert_int_equal(pv_salted_decrypt_init(&dec, PASS, md, &err), 0);
                for (size_t off = 0; off < cipher.len; off += pieces[k]) {
                    size_t n = cipher.len - off < pieces[k] ? cipher.len - off : pieces[k];
                    assert_int_equal(pv_salted_update(dec, cipher.data + off, n, &back, &err), 0);
                }
                assert_int_equal(pv_salted_final(dec, &back, &err), 0);
                pv_salted_free(dec);
                assert_int_equal(back.len, sizes[s]);
                if (sizes[s] > 0)
                    assert_memory_equal(back.data, plain, sizes[s]);
                pv_buf_reset(&cipher);
                pv_buf_reset(&back);
            }
            pv_buf_free(&one);
            pv_buf_free(&cipher);
            pv_buf_free(&back);
        }
        free(plain);
    }
}

static void random_salt_differs_each_time(void **state)
{
    pv_buf a = {0}, b = {0}, back = {0};
    pv_error err;
    assert_int_equal(pv_salted_encrypt(PV_SLICE_LIT("x"), PASS, PV_MD_MD5, NULL, &a, &err), 0);
    assert_int_equal(pv_salted_encrypt(PV_SLICE_LIT("x"), PASS, PV_MD_MD5, NULL, &b, &err), 0);
    assert_true(pv_salted_detect(pv_buf_slice(&a)));
    assert_memory_not_equal(a.data + 8, b.data + 8, 8);
    assert_int_equal(pv_salted_decrypt(pv_buf_slice(&a), PASS, PV_MD_MD5, 10, &back, &err), 0);
    assert_slice_equal(pv_buf_slice(&back), "x");
    pv_buf_free(&a);
    pv_buf_free(&b);
    pv_buf_free(&back);
}

static void finished_stream_refuses_more(void **state)
{
    pv_salted *ctx = NULL;
    pv_buf out = {0};
    pv_error err;
    assert_int_equal(pv_salted_encrypt_init(&ctx, PASS, PV_MD_MD5, SALT, &err), 0);
    assert_int_equal(pv_salted_final(ctx, &out, &err), 0);
    assert_int_equal(out.len, 32);
    assert_int_not_equal(pv_salted_update(ctx, "x", 1, &out, &err), 0);
    assert_int_not_equal(pv_salted_final(ctx, &out, &err), 0);
    pv_salted_free(ctx);
    pv_salted_free(NULL);
    pv_buf_free(&out);
}

static void digest_names(void **state)
{
    pv_md md = PV_MD_MD5;
    pv_error err;
    assert_int_equal(pv_md_parse("SHA256", &md, &err), 0);
    assert_int_equal(md, PV_MD_SHA256);
    assert_string_equal(pv_md_name(md), "sha256");
    assert_int_equal(pv_md_parse("md5", &md, &err), 0);
    assert_string_equal(pv_md_name(md), "md5");
    assert_int_equal(pv_md_other(PV_MD_MD5), PV_MD_SHA256);
    assert_int_equal(pv_md_parse("sha1", &md, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "expected md5 or sha256"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encrypt_matches_openssl),
        cmocka_unit_test(decrypt_openssl_files_with_either_digest),
        cmocka_unit_test(wrong_key_or_digest_is_edecrypt),
        cmocka_unit_test(bad_header_and_truncation_are_explained),
        cmocka_unit_test(output_cap_is_enforced),
        cmocka_unit_test(round_trips_all_sizes_streamed_in_pieces),
        cmocka_unit_test(random_salt_differs_each_time),
        cmocka_unit_test(finished_stream_refuses_more),
        cmocka_unit_test(digest_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
