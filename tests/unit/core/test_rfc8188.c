/* Unit tests for core/rfc8188: aes128gcm content coding (spec 4.3, RFC 8188). */
#include "pv_test.h"

#include "core/alloc.h"
#include "core/rfc8188.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

/* RFC 8188 §3.1: one record, rs 4096, empty keyid. */
#define EX1_IKM "yqdlZ-tYemfogSmv7Ws5PQ"
#define EX1_BODY "I1BsxtFttlv3u_Oo94xnmwAAEAAA-NAVub2qFgBEuQKRapoZu-IxkIva3MEB1PD-ly8Thjg"
/* RFC 8188 §3.2: keyid "a1", rs 25, two records (the first padded by one byte). */
#define EX2_IKM "BO3ZVPxUlnLORbVGMpbT1Q"
#define EX2_BODY                                                                                   \
    "uNCkWiNYzKTnBN9ji3-qWAAAABkCYTHOG8chz_gnvgOqdGYovxyjuqRyJFjEDyoF1Fvkj6hQPdPHI51OEUKEpgz3SsLW" \
    "IqS_uA"

/* base64url without padding, as the RFC prints its examples. */
static pv_buf b64url(const char *s)
{
    pv_buf out = {0};
    uint32_t acc = 0;
    int bits = 0;
    for (; *s; s++) {
        const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        const char *at = strchr(alphabet, *s);
        assert_non_null(at);
        acc = acc << 6 | (uint32_t)(at - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            pv_buf_append_char(&out, (char)(acc >> bits));
        }
    }
    return out;
}

static void example_3_1_decrypts_and_encrypts_exactly(void **state)
{
    pv_buf ikm = b64url(EX1_IKM), body = b64url(EX1_BODY), out = {0}, enc = {0};
    pv_error err;
    assert_int_equal(body.len, 53);
    assert_int_equal(pv_rfc8188_decrypt(pv_buf_slice(&body), pv_buf_slice(&ikm), 100, &out, &err),
                     0);
    assert_slice_equal(pv_buf_slice(&out), "I am the walrus");
    pv_rfc8188_header h;
    assert_int_equal(pv_rfc8188_parse_header(pv_buf_slice(&body), &h, &err), 0);
    assert_int_equal(h.rs, 4096);
    assert_int_equal(h.keyid_len, 0);
    assert_int_equal(h.len, 21);
    /* With the example's salt, our encoder gives the example's bytes. */
    assert_int_equal(pv_rfc8188_encrypt(PV_SLICE_LIT("I am the walrus"), pv_buf_slice(&ikm), 4096,
                                        PV_SLICE_LIT(""), (const uint8_t *)body.data, &enc, &err),
                     0);
    assert_int_equal(enc.len, body.len);
    assert_memory_equal(enc.data, body.data, body.len);
    pv_buf_free(&ikm);
    pv_buf_free(&body);
    pv_buf_free(&out);
    pv_buf_free(&enc);
}

static void example_3_2_decrypts_whole_and_byte_by_byte(void **state)
{
    pv_buf ikm = b64url(EX2_IKM), body = b64url(EX2_BODY), out = {0};
    pv_error err;
    assert_int_equal(body.len, 73);
    pv_rfc8188_header h;
    assert_int_equal(pv_rfc8188_parse_header(pv_buf_slice(&body), &h, &err), 0);
    assert_int_equal(h.rs, 25);
    assert_int_equal(h.keyid_len, 2);
    assert_memory_equal(h.keyid, "a1", 2);
    assert_int_equal(pv_rfc8188_decrypt(pv_buf_slice(&body), pv_buf_slice(&ikm), 100, &out, &err),
                     0);
    assert_slice_equal(pv_buf_slice(&out), "I am the walrus");
    pv_buf_reset(&out);
    pv_rfc8188 *ctx = NULL;
    assert_int_equal(pv_rfc8188_decrypt_init(&ctx, pv_buf_slice(&ikm), 25, 100, &err), 0);
    for (size_t i = 0; i < body.len; i++)
        assert_int_equal(pv_rfc8188_update(ctx, body.data + i, 1, &out, &err), 0);
    assert_int_equal(pv_rfc8188_final(ctx, &out, &err), 0);
    pv_rfc8188_free(ctx);
    assert_slice_equal(pv_buf_slice(&out), "I am the walrus");
    pv_buf_free(&ikm);
    pv_buf_free(&body);
    pv_buf_free(&out);
}

static void round_trips_with_several_record_sizes(void **state)
{
    uint32_t sizes_rs[] = {18, 19, 25, 100, 4096, 65536};
    size_t sizes[] = {0, 1, 2, 7, 8, 16, 17, 100, 5000, 70000};
    size_t pieces[] = {1, 13, 4096, 1 << 20};
    pv_slice ikm = PV_SLICE_LIT("a37d2fb9055c1d04883a0745eb0917a4");
    uint8_t *plain = pv_malloc(70000);
    for (size_t i = 0; i < 70000; i++)
        plain[i] = (uint8_t)(i * 13 + 5);
    for (size_t r = 0; r < sizeof sizes_rs / sizeof sizes_rs[0]; r++) {
        uint32_t rs = sizes_rs[r];
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            size_t n = sizes[s];
            if (rs == 18 && n > 5000)
                continue; /* one byte per record: slow and no more informative */
            pv_buf cipher = {0}, back = {0};
            pv_error err;
            assert_int_equal(pv_rfc8188_encrypt(pv_slice_make(plain, n), ikm, rs, PV_SLICE_LIT(""),
                                                NULL, &cipher, &err),
                             0);
            /* Records hold rs - 17 data bytes; a last record always exists. */
            size_t per = rs - 17, records = n == 0 ? 1 : (n + per - 1) / per;
            assert_int_equal(cipher.len, 21 + n + records * 17);
            size_t piece = pieces[(r + s) % (sizeof pieces / sizeof pieces[0])];
            pv_rfc8188 *ctx = NULL;
            assert_int_equal(pv_rfc8188_decrypt_init(&ctx, ikm, rs, n, &err), 0);
            for (size_t off = 0; off < cipher.len; off += piece) {
                size_t k = cipher.len - off < piece ? cipher.len - off : piece;
                assert_int_equal(pv_rfc8188_update(ctx, cipher.data + off, k, &back, &err), 0);
            }
            assert_int_equal(pv_rfc8188_final(ctx, &back, &err), 0);
            pv_rfc8188_free(ctx);
            assert_int_equal(back.len, n);
            if (n > 0)
                assert_memory_equal(back.data, plain, n);
            pv_buf_free(&cipher);
            pv_buf_free(&back);
        }
    }
    free(plain);
}

static void keyid_and_streamed_encryption(void **state)
{
    pv_slice ikm = PV_SLICE_LIT("ikm");
    pv_rfc8188 *enc = NULL;
    pv_buf cipher = {0}, one = {0}, back = {0};
    pv_error err;
    uint8_t salt[16] = {9};
    assert_int_equal(pv_rfc8188_encrypt_init(&enc, ikm, 30, PV_SLICE_LIT("key-7"), salt, &err), 0);
    const char *text = "The quick brown fox jumps over the lazy dog";
    for (const char *p = text; *p; p++)
        assert_int_equal(pv_rfc8188_update(enc, p, 1, &cipher, &err), 0);
    assert_int_equal(pv_rfc8188_final(enc, &cipher, &err), 0);
    pv_rfc8188_free(enc);
    assert_int_equal(
        pv_rfc8188_encrypt(pv_slice_from(text), ikm, 30, PV_SLICE_LIT("key-7"), salt, &one, &err),
        0);
    assert_int_equal(cipher.len, one.len);
    assert_memory_equal(cipher.data, one.data, one.len);
    pv_rfc8188_header h;
    assert_int_equal(pv_rfc8188_parse_header(pv_buf_slice(&cipher), &h, &err), 0);
    assert_int_equal(h.keyid_len, 5);
    assert_memory_equal(h.keyid, "key-7", 5);
    assert_int_equal(pv_rfc8188_decrypt(pv_buf_slice(&cipher), ikm, 100, &back, &err), 0);
    assert_slice_equal(pv_buf_slice(&back), text);
    pv_buf_free(&cipher);
    pv_buf_free(&one);
    pv_buf_free(&back);
}

/*
 * An independent sealer (OpenSSL directly, not the module) to build bodies the
 * encoder never makes: any delimiter, padding, record order.
 */
static void derive(const uint8_t *salt, pv_slice ikm, const char *info, uint8_t *out, size_t n)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *k = EVP_KDF_CTX_new(kdf);
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm.ptr, ikm.len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, 16),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info) + 1),
        OSSL_PARAM_construct_end(),
    };
    assert_int_equal(EVP_KDF_derive(k, out, n, p), 1);
    EVP_KDF_CTX_free(k);
    EVP_KDF_free(kdf);
}

/* Appends header(rs) and one record per NUL-free string in recs (raw record plaintexts). */
static pv_buf forge(pv_slice ikm, uint32_t rs, const pv_slice *recs, size_t count)
{
    uint8_t salt[16] = {1, 2, 3}, cek[16], nonce[12];
    derive(salt, ikm, "Content-Encoding: aes128gcm", cek, 16);
    derive(salt, ikm, "Content-Encoding: nonce", nonce, 12);
    pv_buf out = {0};
    pv_buf_append(&out, salt, 16);
    uint8_t rsb[5] = {(uint8_t)(rs >> 24), (uint8_t)(rs >> 16), (uint8_t)(rs >> 8), (uint8_t)rs, 0};
    pv_buf_append(&out, rsb, 5);
    for (size_t i = 0; i < count; i++) {
        uint8_t iv[12], ct[256], tag[16];
        memcpy(iv, nonce, 12);
        iv[11] ^= (uint8_t)i;
        EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
        int n = 0, m = 0;
        assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, cek, iv), 1);
        assert_int_equal(
            EVP_EncryptUpdate(c, ct, &n, (const uint8_t *)recs[i].ptr, (int)recs[i].len), 1);
        assert_int_equal(EVP_EncryptFinal_ex(c, ct + n, &m), 1);
        assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag), 1);
        EVP_CIPHER_CTX_free(c);
        pv_buf_append(&out, ct, (size_t)(n + m));
        pv_buf_append(&out, tag, 16);
    }
    return out;
}

static int decode(pv_buf *body, pv_slice ikm, pv_buf *out, pv_error *err)
{
    pv_buf_reset(out);
    int rc = pv_rfc8188_decrypt(pv_buf_slice(body), ikm, 1000, out, err);
    pv_buf_free(body);
    return rc;
}

static void strict_validation_of_records(void **state)
{
    pv_slice ikm = PV_SLICE_LIT("k");
    pv_buf out = {0}, body;
    pv_error err;
    /* Padding after the delimiter is removed. */
    pv_slice padded[] = {PV_SLICE_LIT("abc\002\0\0\0")};
    body = forge(ikm, 100, padded, 1);
    assert_int_equal(decode(&body, ikm, &out, &err), 0);
    assert_slice_equal(pv_buf_slice(&out), "abc");
    /* Delimiter other than 1 or 2. */
    pv_slice bad_delim[] = {PV_SLICE_LIT("abc\003")};
    body = forge(ikm, 100, bad_delim, 1);
    assert_int_equal(decode(&body, ikm, &out, &err), PV_EFORMAT);
    assert_non_null(strstr(err.msg, "delimiter 0x03"));
    /* All zeros: no delimiter at all. */
    pv_slice zeros[] = {PV_SLICE_LIT("\0\0\0")};
    body = forge(ikm, 100, zeros, 1);
    assert_int_equal(decode(&body, ikm, &out, &err), PV_EFORMAT);
    assert_non_null(strstr(err.msg, "no padding delimiter"));
    /* A record after the last: rs 20 means 4 plaintext bytes per full record. */
    pv_slice after_last[] = {PV_SLICE_LIT("abc\002"), PV_SLICE_LIT("d\002")};
    body = forge(ikm, 20, after_last, 2);
    assert_int_equal(decode(&body, ikm, &out, &err), PV_EFORMAT);
    assert_non_null(strstr(err.msg, "follows the last record"));
    /* Ends after a full record with delimiter 1: truncated. */
    pv_slice no_last[] = {PV_SLICE_LIT("abc\001")};
    body = forge(ikm, 20, no_last, 1);
    assert_int_equal(decode(&body, ikm, &out, &err), PV_ETRUNC);
    assert_non_null(strstr(err.msg, "without the last record"));
    /* A short record that claims more follow: truncated. */
    pv_slice short_one[] = {PV_SLICE_LIT("ab\001")};
    body = forge(ikm, 20, short_one, 1);
    assert_int_equal(decode(&body, ikm, &out, &err), PV_ETRUNC);
    /* Two proper records. */
    pv_slice two[] = {PV_SLICE_LIT("abc\001"), PV_SLICE_LIT("d\002")};
    body = forge(ikm, 20, two, 2);
    assert_int_equal(decode(&body, ikm, &out, &err), 0);
    assert_slice_equal(pv_buf_slice(&out), "abcd");
    pv_buf_free(&out);
}

static void bad_headers_and_truncated_bodies(void **state)
{
    pv_buf ikm = b64url(EX2_IKM), body = b64url(EX2_BODY), out = {0};
    pv_error err;
    pv_slice k = pv_buf_slice(&ikm);
    /* Header cut short, keyid cut short. */
    size_t cuts[] = {0, 10, 20, 22};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        assert_int_equal(pv_rfc8188_decrypt(pv_slice_make(body.data, cuts[i]), k, 100, &out, &err),
                         PV_ETRUNC);
        assert_non_null(strstr(err.msg, "truncated"));
    }
    /* Only the first record: its delimiter says more follow. */
    assert_int_equal(pv_rfc8188_decrypt(pv_slice_make(body.data, 23 + 25), k, 100, &out, &err),
                     PV_ETRUNC);
    /* A record shorter than tag + delimiter. */
    assert_int_equal(pv_rfc8188_decrypt(pv_slice_make(body.data, 23 + 25 + 10), k, 100, &out, &err),
                     PV_ETRUNC);
    /* A partial last record fails authentication. */
    assert_int_equal(pv_rfc8188_decrypt(pv_slice_make(body.data, body.len - 1), k, 100, &out, &err),
                     PV_EDECRYPT);
    /* rs below 18. */
    body.data[19] = 17;
    assert_int_equal(pv_rfc8188_decrypt(pv_buf_slice(&body), k, 100, &out, &err), PV_EFORMAT);
    assert_non_null(strstr(err.msg, "minimum of 18"));
    /* rs above the reader's limit. */
    body.data[17] = 1; /* rs 65809 */
    pv_rfc8188 *ctx = NULL;
    assert_int_equal(pv_rfc8188_decrypt_init(&ctx, k, 4096, 100, &err), 0);
    assert_int_equal(pv_rfc8188_update(ctx, body.data, body.len, &out, &err), PV_ELIMIT);
    pv_rfc8188_free(ctx);
    assert_int_equal(out.len, 0);
    pv_buf_free(&ikm);
    pv_buf_free(&body);
    pv_buf_free(&out);
}

static void wrong_ikm_limits_and_arguments(void **state)
{
    pv_buf body = b64url(EX1_BODY), ikm = b64url(EX1_IKM), out = {0};
    pv_error err;
    assert_int_equal(
        pv_rfc8188_decrypt(pv_buf_slice(&body), PV_SLICE_LIT("not the ikm"), 100, &out, &err),
        PV_EDECRYPT);
    assert_non_null(strstr(err.msg, "wrong IKM"));
    assert_int_equal(ERR_peek_error(), 0); /* no stale OpenSSL error for the next TLS call */
    assert_int_equal(pv_rfc8188_decrypt(pv_buf_slice(&body), pv_buf_slice(&ikm), 14, &out, &err),
                     PV_ETOOBIG);
    assert_int_equal(out.len, 0);
    assert_int_equal(pv_rfc8188_decrypt(pv_buf_slice(&body), PV_SLICE_LIT(""), 100, &out, &err),
                     PV_EINVAL);
    assert_int_equal(pv_rfc8188_encrypt(PV_SLICE_LIT("x"), PV_SLICE_LIT("k"), 17, PV_SLICE_LIT(""),
                                        NULL, &out, &err),
                     PV_EINVAL);
    char long_id[300];
    memset(long_id, 'a', sizeof long_id);
    assert_int_equal(pv_rfc8188_encrypt(PV_SLICE_LIT("x"), PV_SLICE_LIT("k"), 4096,
                                        pv_slice_make(long_id, 256), NULL, &out, &err),
                     PV_EINVAL);
    assert_int_equal(out.len, 0);
    pv_buf_free(&body);
    pv_buf_free(&ikm);
    pv_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(example_3_1_decrypts_and_encrypts_exactly),
        cmocka_unit_test(example_3_2_decrypts_whole_and_byte_by_byte),
        cmocka_unit_test(round_trips_with_several_record_sizes),
        cmocka_unit_test(keyid_and_streamed_encryption),
        cmocka_unit_test(strict_validation_of_records),
        cmocka_unit_test(bad_headers_and_truncated_bodies),
        cmocka_unit_test(wrong_ikm_limits_and_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
