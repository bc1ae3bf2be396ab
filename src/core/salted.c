/* salted.c — OpenSSL `enc` format, AES-256-CBC with EVP_BytesToKey; see salted.h. */
#include "core/salted.h"

#include "core/alloc.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

struct pv_salted {
    EVP_CIPHER_CTX *evp;
    bool encrypt;
    bool keyed;          /* the cipher has its key and IV */
    bool header_emitted; /* encrypt: the 16-byte header went out */
    int failed;          /* sticky error: the stream is unusable after one */
    pv_md md;
    uint8_t *pass; /* decrypt: kept until the salt arrives */
    size_t pass_len;
    uint8_t header[PV_SALTED_HEADER_LEN];
    size_t header_len;
    uint64_t body_len; /* decrypt: ciphertext bytes after the header */
};

const char *pv_md_name(pv_md md)
{
    return md == PV_MD_SHA256 ? "sha256" : "md5";
}

int pv_md_parse(const char *name, pv_md *out, pv_error *err)
{
    if (strcasecmp(name, "md5") == 0) {
        *out = PV_MD_MD5;
        return 0;
    }
    if (strcasecmp(name, "sha256") == 0 || strcasecmp(name, "sha-256") == 0) {
        *out = PV_MD_SHA256;
        return 0;
    }
    return pv_error_set(err, PV_EINVAL, "unknown digest '%s': expected md5 or sha256", name);
}

pv_md pv_md_other(pv_md md)
{
    return md == PV_MD_MD5 ? PV_MD_SHA256 : PV_MD_MD5;
}

bool pv_salted_detect(pv_slice data)
{
    return pv_slice_starts_with(data, PV_SALTED_MAGIC);
}

/* spec 4.1: key ‖ IV = EVP_BytesToKey(AES-256-CBC, md, salt, pass, count = 1). */
static int derive_and_key(pv_salted *ctx, const uint8_t *salt, const uint8_t *pass, size_t pass_len,
                          pv_error *err)
{
    uint8_t key[32], iv[16];
    const EVP_MD *md = ctx->md == PV_MD_SHA256 ? EVP_sha256() : EVP_md5();
    if (pass_len > INT_MAX)
        return pv_error_set(err, PV_EINVAL, "passphrase too long");
    int n = EVP_BytesToKey(EVP_aes_256_cbc(), md, salt, pass, (int)pass_len, 1, key, iv);
    int ok = n == (int)sizeof key &&
             (ctx->encrypt ? EVP_EncryptInit_ex(ctx->evp, EVP_aes_256_cbc(), NULL, key, iv)
                           : EVP_DecryptInit_ex(ctx->evp, EVP_aes_256_cbc(), NULL, key, iv));
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(iv, sizeof iv);
    if (!ok) {
        ERR_clear_error();
        return pv_error_set(err, PV_ECRYPTO, "AES-256-CBC key setup failed");
    }
    ctx->keyed = true;
    return 0;
}

static pv_salted *ctx_new(bool encrypt, pv_md md)
{
    pv_salted *ctx = pv_calloc(1, sizeof *ctx);
    ctx->encrypt = encrypt;
    ctx->md = md;
    ctx->evp = EVP_CIPHER_CTX_new();
    if (ctx->evp == NULL)
        abort(); /* out of memory: decided in core/alloc.h */
    return ctx;
}

int pv_salted_encrypt_init(pv_salted **out, pv_slice pass, pv_md md, const uint8_t *salt,
                           pv_error *err)
{
    pv_salted *ctx = ctx_new(true, md);
    memcpy(ctx->header, PV_SALTED_MAGIC, PV_SALTED_SALT_LEN);
    uint8_t *s = ctx->header + PV_SALTED_SALT_LEN;
    if (salt != NULL)
        memcpy(s, salt, PV_SALTED_SALT_LEN);
    else if (RAND_bytes(s, PV_SALTED_SALT_LEN) != 1) {
        pv_salted_free(ctx);
        return pv_error_set(err, PV_ECRYPTO, "no random bytes for the salt");
    }
    ctx->header_len = PV_SALTED_HEADER_LEN;
    int rc = derive_and_key(ctx, s, (const uint8_t *)pass.ptr, pass.len, err);
    if (rc != 0) {
        pv_salted_free(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

int pv_salted_decrypt_init(pv_salted **out, pv_slice pass, pv_md md, pv_error *err)
{
    pv_salted *ctx = ctx_new(false, md);
    ctx->pass = pv_malloc(pass.len + 1);
    if (pass.len > 0)
        memcpy(ctx->pass, pass.ptr, pass.len);
    ctx->pass_len = pass.len;
    *out = ctx;
    return 0;
}

void pv_salted_free(pv_salted *ctx)
{
    if (ctx == NULL)
        return;
    EVP_CIPHER_CTX_free(ctx->evp);
    if (ctx->pass != NULL) {
        OPENSSL_cleanse(ctx->pass, ctx->pass_len);
        free(ctx->pass);
    }
    free(ctx);
}

/* Runs the cipher over len bytes, in pieces EVP's int lengths can take. */
static int run_cipher(pv_salted *ctx, const uint8_t *in, size_t len, pv_buf *out, pv_error *err)
{
    while (len > 0) {
        int piece = len > (1u << 30) ? 1 << 30 : (int)len;
        pv_buf_reserve(out, (size_t)piece + PV_SALTED_BLOCK);
        int n = 0;
        uint8_t *dst = (uint8_t *)out->data + out->len;
        int ok = ctx->encrypt ? EVP_EncryptUpdate(ctx->evp, dst, &n, in, piece)
                              : EVP_DecryptUpdate(ctx->evp, dst, &n, in, piece);
        if (!ok)
            return pv_error_set(err, PV_ECRYPTO, "AES-256-CBC update failed");
        out->len += (size_t)n;
        out->data[out->len] = '\0';
        in += piece;
        len -= (size_t)piece;
    }
    return 0;
}

static void emit_header(pv_salted *ctx, pv_buf *out)
{
    if (!ctx->header_emitted) {
        pv_buf_append(out, ctx->header, PV_SALTED_HEADER_LEN);
        ctx->header_emitted = true;
    }
}

/* Collects the 16-byte header; once whole, checks the magic and keys the cipher. */
static int take_header(pv_salted *ctx, const uint8_t **in, size_t *len, pv_error *err)
{
    size_t want = PV_SALTED_HEADER_LEN - ctx->header_len;
    size_t n = *len < want ? *len : want;
    memcpy(ctx->header + ctx->header_len, *in, n);
    ctx->header_len += n;
    *in += n;
    *len -= n;
    if (ctx->header_len < PV_SALTED_HEADER_LEN)
        return 0;
    if (memcmp(ctx->header, PV_SALTED_MAGIC, PV_SALTED_SALT_LEN) != 0) /* spec 4.1 */
        return pv_error_set(err, PV_EFORMAT,
                            "not an OpenSSL encrypted file: it does not start with \"Salted__\"");
    int rc = derive_and_key(ctx, ctx->header + PV_SALTED_SALT_LEN, ctx->pass, ctx->pass_len, err);
    OPENSSL_cleanse(ctx->pass, ctx->pass_len);
    return rc;
}

int pv_salted_update(pv_salted *ctx, const void *in, size_t len, pv_buf *out, pv_error *err)
{
    if (ctx->failed)
        return pv_error_set(err, ctx->failed, "cipher stream already finished or failed");
    const uint8_t *p = in;
    int rc = 0;
    if (ctx->encrypt) {
        emit_header(ctx, out);
    } else if (!ctx->keyed) {
        rc = take_header(ctx, &p, &len, err);
    }
    if (rc == 0 && len > 0) {
        ctx->body_len += len;
        rc = run_cipher(ctx, p, len, out, err);
    }
    if (rc != 0) {
        ctx->failed = rc;
        ERR_clear_error(); /* leave no stale entry for the next TLS call on this thread */
    }
    return rc;
}

static int final_checks(const pv_salted *ctx, pv_error *err)
{
    if (ctx->header_len < PV_SALTED_HEADER_LEN)
        return pv_error_set(err, PV_ETRUNC,
                            "truncated: %zu bytes, an encrypted file has a 16-byte header "
                            "(\"Salted__\" and the salt) and at least one 16-byte block",
                            ctx->header_len);
    if (ctx->body_len == 0 || ctx->body_len % PV_SALTED_BLOCK != 0)
        return pv_error_set(err, PV_ETRUNC,
                            "truncated: %llu bytes of ciphertext after the header, expected a "
                            "non-zero multiple of 16",
                            (unsigned long long)ctx->body_len);
    return 0;
}

int pv_salted_final(pv_salted *ctx, pv_buf *out, pv_error *err)
{
    if (ctx->failed)
        return pv_error_set(err, ctx->failed, "cipher stream already finished or failed");
    int rc = 0;
    if (ctx->encrypt)
        emit_header(ctx, out);
    else
        rc = final_checks(ctx, err);
    if (rc == 0) {
        pv_buf_reserve(out, PV_SALTED_BLOCK);
        int n = 0;
        uint8_t *dst = (uint8_t *)out->data + out->len;
        if (ctx->encrypt ? !EVP_EncryptFinal_ex(ctx->evp, dst, &n)
                         : !EVP_DecryptFinal_ex(ctx->evp, dst, &n)) {
            /* PKCS#7 padding did not check out: the usual sign of a wrong key. */
            rc = ctx->encrypt ? pv_error_set(err, PV_ECRYPTO, "AES-256-CBC final block failed")
                              : pv_error_set(err, PV_EDECRYPT,
                                             "bad padding after decryption with digest %s: "
                                             "wrong key or digest, or corrupt data",
                                             pv_md_name(ctx->md));
        } else {
            out->len += (size_t)n;
            out->data[out->len] = '\0';
        }
    }
    ctx->failed = rc != 0 ? rc : PV_EINVAL; /* a finished stream takes no more input */
    if (rc != 0)
        ERR_clear_error();
    return rc;
}

/*
 * Runs a whole input through a fresh context, refusing more than max_out bytes
 * of output; undoes partial output on failure.
 */
static int one_shot(pv_salted *ctx, pv_slice in, size_t max_out, pv_buf *out, pv_error *err)
{
    size_t start = out->len;
    int rc = pv_salted_update(ctx, in.ptr, in.len, out, err);
    if (rc == 0)
        rc = pv_salted_final(ctx, out, err);
    pv_salted_free(ctx);
    if (rc == 0 && out->len - start > max_out)
        rc = pv_error_set(err, PV_ETOOBIG, "decrypted data exceeds the %zu-byte limit", max_out);
    if (rc != 0 && out->data != NULL) {
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}

int pv_salted_encrypt(pv_slice plain, pv_slice pass, pv_md md, const uint8_t *salt, pv_buf *out,
                      pv_error *err)
{
    pv_salted *ctx = NULL;
    int rc = pv_salted_encrypt_init(&ctx, pass, md, salt, err);
    return rc != 0 ? rc : one_shot(ctx, plain, SIZE_MAX, out, err);
}

int pv_salted_decrypt(pv_slice cipher, pv_slice pass, pv_md md, size_t max_out, pv_buf *out,
                      pv_error *err)
{
    /* The plaintext is at least the ciphertext less the header and one block. */
    if (cipher.len >= PV_SALTED_HEADER_LEN + PV_SALTED_BLOCK &&
        cipher.len - PV_SALTED_HEADER_LEN - PV_SALTED_BLOCK > max_out)
        return pv_error_set(err, PV_ETOOBIG,
                            "encrypted file of %zu bytes exceeds the %zu-byte limit", cipher.len,
                            max_out);
    pv_salted *ctx = NULL;
    int rc = pv_salted_decrypt_init(&ctx, pass, md, err);
    return rc != 0 ? rc : one_shot(ctx, cipher, max_out, out, err);
}

int pv_salted_decrypt_any(pv_slice cipher, pv_slice pass, pv_md first, size_t max_out, pv_buf *out,
                          pv_md *used, pv_error *err)
{
    int rc = pv_salted_decrypt(cipher, pass, first, max_out, out, err);
    if (rc == PV_EDECRYPT) { /* DESIGN 7: the configured digest, then the other */
        pv_md second = pv_md_other(first);
        rc = pv_salted_decrypt(cipher, pass, second, max_out, out, err);
        if (rc == 0)
            first = second;
        else if (rc == PV_EDECRYPT)
            pv_error_set(err, rc,
                         "bad padding after decryption with both md5 and sha256 digests: "
                         "wrong key, or corrupt data");
    }
    if (rc == 0 && used != NULL)
        *used = first;
    return rc;
}
