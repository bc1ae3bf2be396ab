/* secrets.c — master key file and AES-256-GCM sealing; see secrets.h. */
#include "store/secrets.h"

#include "core/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16
#define FORMAT_V1 0x01

struct pv_secrets {
    unsigned char key[KEY_LEN];
    char *path;
};

int pv_secrets_random(void *buf, size_t n, pv_error *err)
{
    if (n > 0 && RAND_bytes(buf, (int)n) != 1)
        return pv_error_set(err, PV_ECRYPTO, "no random bytes from OpenSSL");
    return 0;
}

/* Parses the file's text: 64 hex digits, white space around them allowed. */
static int parse_key(const char *path, const char *text, size_t len, unsigned char *key,
                     pv_error *err)
{
    pv_slice t = pv_slice_trim(pv_slice_make(text, len));
    if (t.len != 2 * KEY_LEN)
        return pv_error_set(err, PV_EFORMAT,
                            "%s: master key file must hold 64 hex digits, it holds %zu characters",
                            path, t.len);
    for (size_t i = 0; i < KEY_LEN; i++) {
        int hi = pv_hex_value(t.ptr[2 * i]), lo = pv_hex_value(t.ptr[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return pv_error_set(err, PV_EFORMAT,
                                "%s: column %zu: master key file must hold hex digits only", path,
                                2 * i + 1 + (size_t)(hi >= 0));
        key[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static int create_key(const char *path, unsigned char *key, pv_error *err)
{
    int rc = pv_secrets_random(key, KEY_LEN, err);
    if (rc != 0)
        return rc;
    char text[2 * KEY_LEN + 2];
    pv_hex_encode(key, KEY_LEN, text);
    text[2 * KEY_LEN] = '\n';
    /* O_EXCL: two processes starting at once must not each write a key. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? PV_EEXIST
                               : pv_error_set(err, PV_EIO, "%s: cannot create master key: %s", path,
                                              strerror(errno));
    ssize_t w = write(fd, text, sizeof text - 1);
    int ok = w == (ssize_t)(sizeof text - 1) && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    OPENSSL_cleanse(text, sizeof text);
    if (!ok) {
        unlink(path);
        return pv_error_set(err, PV_EIO, "%s: cannot write master key: %s", path, strerror(saved));
    }
    return 0;
}

static int read_key(const char *path, unsigned char *key, pv_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pv_error_set(err, errno == ENOENT ? PV_ENOENT : PV_EIO,
                            "%s: cannot read master key: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || (sb.st_mode & 077) != 0) {
        close(fd);
        return pv_error_set(err, PV_EACCES,
                            "%s: master key file is readable by others; chmod 600 it", path);
    }
    char text[256];
    ssize_t n = read(fd, text, sizeof text);
    close(fd);
    if (n < 0)
        return pv_error_set(err, PV_EIO, "%s: %s", path, strerror(errno));
    int rc = parse_key(path, text, (size_t)n, key, err);
    OPENSSL_cleanse(text, sizeof text);
    return rc;
}

int pv_secrets_load(const char *path, bool create, pv_secrets **out, pv_error *err)
{
    pv_secrets *k = pv_calloc(1, sizeof *k);
    int rc = read_key(path, k->key, err);
    if (rc == PV_ENOENT && create) {
        rc = create_key(path, k->key, err);
        if (rc == PV_EEXIST) /* someone else created it meanwhile: use theirs */
            rc = read_key(path, k->key, err);
    }
    if (rc != 0) {
        OPENSSL_cleanse(k->key, sizeof k->key);
        free(k);
        return rc;
    }
    k->path = pv_strdup(path);
    *out = k;
    return 0;
}

void pv_secrets_free(pv_secrets *k)
{
    if (k == NULL)
        return;
    OPENSSL_cleanse(k->key, sizeof k->key);
    free(k->path);
    free(k);
}

/* One AES-256-GCM pass; enc = 1 seals, 0 opens (tag checked). */
static int gcm(const pv_secrets *k, int enc, const unsigned char *nonce, const char *aad,
               const unsigned char *in, size_t len, unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0,
        ok = ctx != NULL && len <= (size_t)INT32_MAX &&
             EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
             EVP_CipherInit_ex(ctx, NULL, NULL, k->key, nonce, enc) == 1 &&
             EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
             EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1;
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1;
    if (ok)
        ok = EVP_CipherFinal_ex(ctx, out + n, &n) == 1;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

int pv_secrets_seal(const pv_secrets *k, const char *aad, const void *plain, size_t len,
                    pv_buf *out, pv_error *err)
{
    pv_buf_reserve(out, len + PV_SECRETS_OVERHEAD);
    unsigned char *p = (unsigned char *)out->data + out->len;
    p[0] = FORMAT_V1;
    int rc = pv_secrets_random(p + 1, NONCE_LEN, err);
    if (rc != 0)
        return rc;
    if (gcm(k, 1, p + 1, aad, plain, len, p + 1 + NONCE_LEN, p + 1 + NONCE_LEN + len) != 0)
        return pv_error_set(err, PV_ECRYPTO, "AES-256-GCM encryption failed");
    out->len += len + PV_SECRETS_OVERHEAD;
    out->data[out->len] = '\0';
    return 0;
}

int pv_secrets_open(const pv_secrets *k, const char *aad, const void *sealed, size_t len,
                    pv_buf *out, pv_error *err)
{
    const unsigned char *p = sealed;
    if (len < PV_SECRETS_OVERHEAD || p[0] != FORMAT_V1)
        return pv_error_set(err, PV_EFORMAT, "%s: not a sealed value (%zu bytes)", aad, len);
    size_t n = len - PV_SECRETS_OVERHEAD;
    pv_buf_reserve(out, n);
    unsigned char tag[TAG_LEN];
    memcpy(tag, p + 1 + NONCE_LEN + n, TAG_LEN);
    if (gcm(k, 0, p + 1, aad, p + 1 + NONCE_LEN, n, (unsigned char *)out->data + out->len, tag) !=
        0) {
        OPENSSL_cleanse(out->data + out->len, n);
        return pv_error_set(err, PV_EDECRYPT,
                            "%s: cannot decrypt with master key %s (wrong key file, or the "
                            "value was damaged or moved)",
                            aad, k->path);
    }
    out->len += n;
    out->data[out->len] = '\0';
    return 0;
}

int pv_secrets_mac_hex(const pv_secrets *k, const char *label, const void *data, size_t len,
                       char out[65], pv_error *err)
{
    /* The label's own key, HMAC(master, label), so that this digest never
     * equals any other use of the master key. */
    unsigned char sub[32], mac[32];
    unsigned int sub_len = 0, mac_len = 0;
    bool ok = HMAC(EVP_sha256(), k->key, KEY_LEN, (const unsigned char *)label, strlen(label), sub,
                   &sub_len) != NULL &&
              HMAC(EVP_sha256(), sub, sub_len, data, len, mac, &mac_len) != NULL &&
              mac_len == sizeof mac;
    OPENSSL_cleanse(sub, sizeof sub);
    if (!ok)
        return pv_error_set(err, PV_ECRYPTO, "HMAC-SHA256 failed");
    pv_hex_encode(mac, sizeof mac, out);
    return 0;
}
