/* rfc8188.c — aes128gcm content coding, one record at a time; see rfc8188.h. */
#include "core/rfc8188.h"

#include "core/alloc.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#define CEK_LEN 16
#define NONCE_LEN 12
#define EVP_PIECE ((size_t)1 << 30) /* EVP lengths are int */

struct pv_rfc8188 {
    EVP_CIPHER_CTX *evp;
    bool encrypt;
    bool header_done; /* decrypt: parsed; encrypt: emitted */
    bool last_seen;   /* decrypt: a record with delimiter 0x02 went by */
    int failed;       /* sticky: the stream takes no more input */
    uint8_t *ikm;     /* decrypt: kept until the salt arrives */
    size_t ikm_len;
    uint8_t cek[CEK_LEN];
    uint8_t nonce[NONCE_LEN];
    uint64_t seq;
    uint32_t rs;
    size_t max_rs, max_out, out_total;
    uint8_t header[PV_RFC8188_HEADER_MIN + 255];
    size_t header_len;
    pv_buf rec;     /* decrypt: ciphertext of one record; encrypt: its plaintext */
    pv_buf scratch; /* decrypt: plaintext held back until the tag verifies */
};

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int pv_rfc8188_parse_header(pv_slice body, pv_rfc8188_header *h, pv_error *err)
{
    const uint8_t *p = (const uint8_t *)body.ptr;
    if (body.len < PV_RFC8188_HEADER_MIN)
        return pv_error_set(err, PV_ETRUNC,
                            "truncated aes128gcm header: %zu bytes, expected at least 21 "
                            "(salt 16, record size 4, key id length 1)",
                            body.len);
    memcpy(h->salt, p, PV_RFC8188_SALT_LEN);
    h->rs = get_be32(p + 16);
    h->keyid_len = p[20];
    h->len = PV_RFC8188_HEADER_MIN + h->keyid_len;
    if (h->rs < PV_RFC8188_MIN_RS) /* RFC 8188 §2 */
        return pv_error_set(err, PV_EFORMAT,
                            "aes128gcm record size %u is below the minimum of 18 (RFC 8188 §2)",
                            h->rs);
    if (body.len < h->len)
        return pv_error_set(err, PV_ETRUNC,
                            "truncated aes128gcm header: key id of %zu bytes, only %zu present",
                            h->keyid_len, body.len - PV_RFC8188_HEADER_MIN);
    memcpy(h->keyid, p + PV_RFC8188_HEADER_MIN, h->keyid_len);
    return 0;
}

/* RFC 8188 §2.2, §2.3: HKDF-SHA-256(salt, IKM) with the two info strings. */
static int hkdf(const uint8_t *salt, const uint8_t *ikm, size_t ikm_len, const char *info,
                size_t info_len, uint8_t *out, size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
    EVP_KDF_CTX *kctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, PV_RFC8188_SALT_LEN),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len),
        OSSL_PARAM_construct_end(),
    };
    int ok = kctx != NULL && EVP_KDF_derive(kctx, out, out_len, params) == 1;
    if (!ok)
        ERR_clear_error();
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return ok ? 0 : PV_ECRYPTO;
}

static int derive_keys(pv_rfc8188 *ctx, const uint8_t *salt, const uint8_t *ikm, size_t ikm_len,
                       pv_error *err)
{
    static const char cek_info[] = "Content-Encoding: aes128gcm"; /* RFC 8188 §2.2, + NUL */
    static const char nonce_info[] = "Content-Encoding: nonce";   /* RFC 8188 §2.3, + NUL */
    if (hkdf(salt, ikm, ikm_len, cek_info, sizeof cek_info, ctx->cek, CEK_LEN) != 0 ||
        hkdf(salt, ikm, ikm_len, nonce_info, sizeof nonce_info, ctx->nonce, NONCE_LEN) != 0)
        return pv_error_set(err, PV_ECRYPTO, "HKDF-SHA-256 key derivation failed");
    return 0;
}

static pv_rfc8188 *ctx_new(bool encrypt)
{
    pv_rfc8188 *ctx = pv_calloc(1, sizeof *ctx);
    ctx->encrypt = encrypt;
    ctx->evp = EVP_CIPHER_CTX_new();
    if (ctx->evp == NULL)
        abort(); /* out of memory: decided in core/alloc.h */
    ctx->max_rs = SIZE_MAX;
    ctx->max_out = SIZE_MAX;
    return ctx;
}

void pv_rfc8188_free(pv_rfc8188 *ctx)
{
    if (ctx == NULL)
        return;
    EVP_CIPHER_CTX_free(ctx->evp);
    if (ctx->ikm != NULL) {
        OPENSSL_cleanse(ctx->ikm, ctx->ikm_len);
        free(ctx->ikm);
    }
    OPENSSL_cleanse(ctx->cek, sizeof ctx->cek);
    if (ctx->scratch.data != NULL)
        OPENSSL_cleanse(ctx->scratch.data, ctx->scratch.cap);
    if (ctx->encrypt && ctx->rec.data != NULL)
        OPENSSL_cleanse(ctx->rec.data, ctx->rec.cap);
    pv_buf_free(&ctx->rec);
    pv_buf_free(&ctx->scratch);
    free(ctx);
}

int pv_rfc8188_encrypt_init(pv_rfc8188 **out, pv_slice ikm, uint32_t rs, pv_slice keyid,
                            const uint8_t *salt, pv_error *err)
{
    if (ikm.len == 0)
        return pv_error_set(err, PV_EINVAL, "aes128gcm needs a non-empty IKM");
    if (rs < PV_RFC8188_MIN_RS)
        return pv_error_set(err, PV_EINVAL, "record size %u is below the minimum of 18", rs);
    if (keyid.len > 255)
        return pv_error_set(err, PV_EINVAL, "key id of %zu bytes is longer than 255", keyid.len);
    pv_rfc8188 *ctx = ctx_new(true);
    uint8_t *h = ctx->header;
    if (salt != NULL)
        memcpy(h, salt, PV_RFC8188_SALT_LEN);
    else if (RAND_bytes(h, PV_RFC8188_SALT_LEN) != 1) {
        pv_rfc8188_free(ctx);
        return pv_error_set(err, PV_ECRYPTO, "no random bytes for the salt");
    }
    put_be32(h + 16, rs);
    h[20] = (uint8_t)keyid.len;
    if (keyid.len > 0)
        memcpy(h + PV_RFC8188_HEADER_MIN, keyid.ptr, keyid.len);
    ctx->header_len = PV_RFC8188_HEADER_MIN + keyid.len;
    ctx->rs = rs;
    int rc = derive_keys(ctx, h, (const uint8_t *)ikm.ptr, ikm.len, err);
    if (rc != 0) {
        pv_rfc8188_free(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

int pv_rfc8188_decrypt_init(pv_rfc8188 **out, pv_slice ikm, size_t max_rs, size_t max_out,
                            pv_error *err)
{
    if (ikm.len == 0)
        return pv_error_set(err, PV_EINVAL, "aes128gcm needs a non-empty IKM");
    pv_rfc8188 *ctx = ctx_new(false);
    ctx->ikm = pv_malloc(ikm.len);
    memcpy(ctx->ikm, ikm.ptr, ikm.len);
    ctx->ikm_len = ikm.len;
    ctx->max_rs = max_rs;
    ctx->max_out = max_out;
    *out = ctx;
    return 0;
}

/* RFC 8188 §2.3: the record's nonce is NONCE XOR SEQ, SEQ a 96-bit big-endian counter. */
static void record_nonce(const pv_rfc8188 *ctx, uint8_t nonce[NONCE_LEN])
{
    memcpy(nonce, ctx->nonce, NONCE_LEN);
    for (int i = 0; i < 8; i++)
        nonce[NONCE_LEN - 1 - i] ^= (uint8_t)(ctx->seq >> (8 * i));
}

/* EVP update over any length, in int-sized pieces. */
static bool gcm_update(EVP_CIPHER_CTX *evp, bool enc, uint8_t *dst, const uint8_t *src, size_t len)
{
    while (len > 0) {
        int piece = (int)(len < EVP_PIECE ? len : EVP_PIECE), n = 0;
        if (!(enc ? EVP_EncryptUpdate(evp, dst, &n, src, piece)
                  : EVP_DecryptUpdate(evp, dst, &n, src, piece)))
            return false;
        dst += n;
        src += piece;
        len -= (size_t)piece;
    }
    return true;
}

/* Encrypts one record: data ‖ delimiter, then the tag, appended to out. */
static int seal_record(pv_rfc8188 *ctx, bool last, pv_buf *out, pv_error *err)
{
    uint8_t nonce[NONCE_LEN], tag[PV_RFC8188_TAG_LEN];
    uint8_t delim = last ? 2 : 1; /* RFC 8188 §2 */
    record_nonce(ctx, nonce);
    pv_buf_reserve(out, ctx->rec.len + 1 + PV_RFC8188_TAG_LEN);
    uint8_t *dst = (uint8_t *)out->data + out->len;
    int n = 0, m = 0;
    bool ok = EVP_EncryptInit_ex(ctx->evp, EVP_aes_128_gcm(), NULL, ctx->cek, nonce) &&
              gcm_update(ctx->evp, true, dst, (const uint8_t *)ctx->rec.data, ctx->rec.len) &&
              EVP_EncryptUpdate(ctx->evp, dst + ctx->rec.len, &n, &delim, 1) &&
              EVP_EncryptFinal_ex(ctx->evp, dst + ctx->rec.len + n, &m) &&
              EVP_CIPHER_CTX_ctrl(ctx->evp, EVP_CTRL_GCM_GET_TAG, PV_RFC8188_TAG_LEN, tag);
    if (!ok)
        return pv_error_set(err, PV_ECRYPTO, "AES-128-GCM encryption failed");
    out->len += ctx->rec.len + (size_t)n + (size_t)m;
    pv_buf_append(out, tag, sizeof tag);
    ctx->seq++;
    pv_buf_reset(&ctx->rec);
    return 0;
}

/* Decrypts and checks one record held in ctx->rec; appends its data to out. */
static int open_record(pv_rfc8188 *ctx, pv_buf *out, pv_error *err)
{
    const uint8_t *rec = (const uint8_t *)ctx->rec.data;
    size_t len = ctx->rec.len;
    unsigned long long index = (unsigned long long)ctx->seq;
    if (ctx->last_seen) /* RFC 8188 §2: nothing may follow the last record */
        return pv_error_set(err, PV_EFORMAT,
                            "aes128gcm record %llu follows the last record (delimiter 0x02)",
                            index);
    if (len < PV_RFC8188_TAG_LEN + 1)
        return pv_error_set(err, PV_ETRUNC,
                            "truncated aes128gcm record %llu: %zu bytes, shorter than the "
                            "16-byte tag and a delimiter",
                            index, len);
    uint8_t nonce[NONCE_LEN];
    record_nonce(ctx, nonce);
    size_t clen = len - PV_RFC8188_TAG_LEN;
    pv_buf_reset(&ctx->scratch);
    pv_buf_reserve(&ctx->scratch, clen + 16);
    uint8_t *plain = (uint8_t *)ctx->scratch.data;
    int n = 0;
    bool ok = EVP_DecryptInit_ex(ctx->evp, EVP_aes_128_gcm(), NULL, ctx->cek, nonce) &&
              gcm_update(ctx->evp, false, plain, rec, clen) &&
              EVP_CIPHER_CTX_ctrl(ctx->evp, EVP_CTRL_GCM_SET_TAG, PV_RFC8188_TAG_LEN,
                                  (void *)(rec + clen)) &&
              EVP_DecryptFinal_ex(ctx->evp, plain + clen, &n) == 1;
    if (!ok)
        return pv_error_set(err, PV_EDECRYPT,
                            "aes128gcm record %llu fails authentication: wrong IKM, or the "
                            "data was altered",
                            index);
    /* RFC 8188 §2: data ‖ delimiter ‖ zero padding; the delimiter is the last non-zero. */
    size_t end = clen;
    while (end > 0 && plain[end - 1] == 0)
        end--;
    if (end == 0)
        return pv_error_set(err, PV_EFORMAT, "aes128gcm record %llu has no padding delimiter",
                            index);
    uint8_t delim = plain[end - 1];
    if (delim != 1 && delim != 2)
        return pv_error_set(err, PV_EFORMAT,
                            "aes128gcm record %llu ends with delimiter 0x%02x, expected 0x01 "
                            "(more records follow) or 0x02 (last record)",
                            index, delim);
    if (delim == 1 && len < ctx->rs)
        return pv_error_set(err, PV_ETRUNC,
                            "truncated aes128gcm body: record %llu is short (%zu of %u bytes) "
                            "but its delimiter 0x01 says more records follow",
                            index, len, ctx->rs);
    if (end - 1 > ctx->max_out - ctx->out_total)
        return pv_error_set(err, PV_ETOOBIG, "decrypted data exceeds the %zu-byte limit",
                            ctx->max_out);
    ctx->last_seen = delim == 2;
    ctx->out_total += end - 1;
    pv_buf_append(out, plain, end - 1);
    ctx->seq++;
    pv_buf_reset(&ctx->rec);
    return 0;
}

/* Collects the header; once whole, validates it and derives the keys. */
static int take_header(pv_rfc8188 *ctx, const uint8_t **in, size_t *len, pv_error *err)
{
    size_t want = PV_RFC8188_HEADER_MIN;
    if (ctx->header_len >= PV_RFC8188_HEADER_MIN)
        want += ctx->header[20];
    while (*len > 0 && ctx->header_len < want) {
        size_t n = want - ctx->header_len < *len ? want - ctx->header_len : *len;
        memcpy(ctx->header + ctx->header_len, *in, n);
        ctx->header_len += n;
        *in += n;
        *len -= n;
        if (ctx->header_len == PV_RFC8188_HEADER_MIN)
            want += ctx->header[20];
    }
    if (ctx->header_len < want)
        return 0;
    pv_rfc8188_header h;
    int rc = pv_rfc8188_parse_header(pv_slice_make(ctx->header, ctx->header_len), &h, err);
    if (rc != 0)
        return rc;
    if (h.rs > ctx->max_rs)
        return pv_error_set(err, PV_ELIMIT,
                            "aes128gcm record size %u exceeds this reader's limit of %zu", h.rs,
                            ctx->max_rs);
    ctx->rs = h.rs;
    rc = derive_keys(ctx, h.salt, ctx->ikm, ctx->ikm_len, err);
    ctx->header_done = rc == 0;
    return rc;
}

static int decrypt_update(pv_rfc8188 *ctx, const uint8_t *p, size_t len, pv_buf *out, pv_error *err)
{
    if (!ctx->header_done) {
        int rc = take_header(ctx, &p, &len, err);
        if (rc != 0)
            return rc;
    }
    while (len > 0) {
        size_t n = ctx->rs - ctx->rec.len < len ? ctx->rs - ctx->rec.len : len;
        pv_buf_append(&ctx->rec, p, n);
        p += n;
        len -= n;
        /* A full record is opened at once: its delimiter says whether more may follow. */
        if (ctx->rec.len == ctx->rs) {
            int rc = open_record(ctx, out, err);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

static int encrypt_update(pv_rfc8188 *ctx, const uint8_t *p, size_t len, pv_buf *out, pv_error *err)
{
    size_t chunk = (size_t)ctx->rs - PV_RFC8188_TAG_LEN - 1; /* data bytes per record */
    if (!ctx->header_done) {
        pv_buf_append(out, ctx->header, ctx->header_len);
        ctx->header_done = true;
    }
    while (len > 0) {
        /* A full record is sealed only when more data shows it is not the last. */
        if (ctx->rec.len == chunk) {
            int rc = seal_record(ctx, false, out, err);
            if (rc != 0)
                return rc;
        }
        size_t n = chunk - ctx->rec.len < len ? chunk - ctx->rec.len : len;
        pv_buf_append(&ctx->rec, p, n);
        p += n;
        len -= n;
    }
    return 0;
}

int pv_rfc8188_update(pv_rfc8188 *ctx, const void *in, size_t len, pv_buf *out, pv_error *err)
{
    if (ctx->failed)
        return pv_error_set(err, ctx->failed, "aes128gcm stream already finished or failed");
    int rc = ctx->encrypt ? encrypt_update(ctx, in, len, out, err)
                          : decrypt_update(ctx, in, len, out, err);
    if (rc != 0) {
        ctx->failed = rc;
        ERR_clear_error(); /* leave no stale entry for the next TLS call on this thread */
    }
    return rc;
}

static int decrypt_final(pv_rfc8188 *ctx, pv_buf *out, pv_error *err)
{
    if (!ctx->header_done)
        return pv_error_set(err, PV_ETRUNC,
                            "truncated aes128gcm body: %zu bytes, shorter than its header",
                            ctx->header_len);
    if (ctx->rec.len > 0) {
        int rc = open_record(ctx, out, err);
        if (rc != 0)
            return rc;
    }
    if (!ctx->last_seen)
        return pv_error_set(err, PV_ETRUNC,
                            "truncated aes128gcm body: it ends after %llu records without the "
                            "last record (delimiter 0x02)",
                            (unsigned long long)ctx->seq);
    return 0;
}

int pv_rfc8188_final(pv_rfc8188 *ctx, pv_buf *out, pv_error *err)
{
    if (ctx->failed)
        return pv_error_set(err, ctx->failed, "aes128gcm stream already finished or failed");
    int rc;
    if (ctx->encrypt) {
        rc = encrypt_update(ctx, NULL, 0, out, err);
        if (rc == 0)
            rc = seal_record(ctx, true, out, err);
    } else {
        rc = decrypt_final(ctx, out, err);
    }
    ctx->failed = rc != 0 ? rc : PV_EINVAL;
    if (rc != 0)
        ERR_clear_error();
    return rc;
}

/* Runs a whole input through a fresh context; undoes partial output on failure. */
static int one_shot(pv_rfc8188 *ctx, pv_slice in, pv_buf *out, pv_error *err)
{
    size_t start = out->len;
    int rc = pv_rfc8188_update(ctx, in.ptr, in.len, out, err);
    if (rc == 0)
        rc = pv_rfc8188_final(ctx, out, err);
    pv_rfc8188_free(ctx);
    if (rc != 0 && out->data != NULL) {
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}

int pv_rfc8188_encrypt(pv_slice plain, pv_slice ikm, uint32_t rs, pv_slice keyid,
                       const uint8_t *salt, pv_buf *out, pv_error *err)
{
    pv_rfc8188 *ctx = NULL;
    int rc = pv_rfc8188_encrypt_init(&ctx, ikm, rs, keyid, salt, err);
    return rc != 0 ? rc : one_shot(ctx, plain, out, err);
}

int pv_rfc8188_decrypt(pv_slice body, pv_slice ikm, size_t max_out, pv_buf *out, pv_error *err)
{
    pv_rfc8188 *ctx = NULL;
    int rc = pv_rfc8188_decrypt_init(&ctx, ikm, SIZE_MAX, max_out, err);
    return rc != 0 ? rc : one_shot(ctx, body, out, err);
}
