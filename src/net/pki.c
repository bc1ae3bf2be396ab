/* pki.c — keys and certificates with OpenSSL 3; see pki.h. */
#include "net/pki.h"

#include "core/alloc.h"
#include "core/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_DAYS 825 /* the CA/Browser Forum's old ceiling; phones accept it */

/* The last OpenSSL error as text, or fallback when its queue is empty. */
static int ssl_error(pv_error *err, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    char text[160] = "no detail";
    if (e != 0)
        ERR_error_string_n(e, text, sizeof text);
    ERR_clear_error();
    return pv_error_set(err, PV_ECRYPTO, "%s: %s", what, text);
}

int pv_pki_key_new(pv_pki_key_type type, unsigned rsa_bits, EVP_PKEY **out, pv_error *err)
{
    EVP_PKEY *key = NULL;
    if (type == PV_PKI_KEY_EC_P256) {
        key = EVP_EC_gen("P-256");
    } else {
        if (rsa_bits < 2048 || rsa_bits > 8192)
            return pv_error_set(err, PV_ERANGE, "RSA key size %u: expected 2048 to 8192 bits",
                                rsa_bits);
        key = EVP_RSA_gen(rsa_bits);
    }
    if (key == NULL)
        return ssl_error(err, "key generation");
    *out = key;
    return 0;
}

static int add_subject_entry(X509_NAME *name, const char *field, const char *value)
{
    if (value == NULL || value[0] == '\0')
        return 1;
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, (const unsigned char *)value, -1,
                                      -1, 0);
}

static int set_subject(X509 *cert, const pv_pki_subject *s, pv_error *err)
{
    X509_NAME *name = X509_get_subject_name(cert);
    /* Most general first, as in every real certificate: C, ST, L, O, OU, CN. */
    if (!add_subject_entry(name, "C", s->country) || !add_subject_entry(name, "ST", s->state) ||
        !add_subject_entry(name, "L", s->locality) ||
        !add_subject_entry(name, "O", s->organization) ||
        !add_subject_entry(name, "OU", s->org_unit) ||
        !add_subject_entry(name, "CN", s->common_name))
        return ssl_error(err, "certificate subject");
    if (X509_NAME_entry_count(name) == 0)
        return pv_error_set(err, PV_EINVAL, "certificate subject: every field is empty");
    return 0;
}

static int add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value, pv_error *err)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (ext == NULL) {
        char what[96];
        snprintf(what, sizeof what, "extension %s = %.50s", OBJ_nid2sn(nid), value);
        return ssl_error(err, what);
    }
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : ssl_error(err, "adding an extension");
}

static int set_random_serial(X509 *cert, pv_error *err)
{
    /* RFC 5280 §4.1.2.2: positive, at most 20 octets; 159 random bits. */
    BIGNUM *bn = BN_new();
    int rc = 0;
    if (bn == NULL || !BN_rand(bn, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) == NULL)
        rc = ssl_error(err, "certificate serial");
    BN_free(bn);
    return rc;
}

static int add_extensions(X509 *cert, X509 *issuer, const pv_pki_cert_options *o, pv_error *err)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    int rc = 0;
    switch (o->usage) {
    case PV_PKI_USAGE_CA:
        rc = add_ext(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE", err);
        if (rc == 0)
            rc = add_ext(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign", err);
        break;
    case PV_PKI_USAGE_SERVER:
    case PV_PKI_USAGE_CLIENT:
        rc = add_ext(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE", err);
        if (rc == 0)
            rc = add_ext(cert, &ctx, NID_key_usage, "critical,digitalSignature,keyEncipherment",
                         err);
        if (rc == 0)
            rc = add_ext(cert, &ctx, NID_ext_key_usage,
                         o->usage == PV_PKI_USAGE_SERVER ? "serverAuth" : "clientAuth", err);
        break;
    }
    if (rc == 0)
        rc = add_ext(cert, &ctx, NID_subject_key_identifier, "hash", err);
    if (rc == 0)
        rc = add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always", err);
    if (rc == 0 && o->san != NULL && o->san[0] != '\0')
        rc = add_ext(cert, &ctx, NID_subject_alt_name, o->san, err);
    return rc;
}

int pv_pki_issue(const pv_pki_cert_options *o, EVP_PKEY *subject_key, X509 *issuer_cert,
                 EVP_PKEY *issuer_key, X509 **out, pv_error *err)
{
    X509 *cert = X509_new();
    if (cert == NULL)
        return ssl_error(err, "X509_new");
    long days = o->days != 0 ? (long)o->days : DEFAULT_DAYS;
    int rc = 0;
    if (!X509_set_version(cert, X509_VERSION_3) || !X509_set_pubkey(cert, subject_key) ||
        X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(cert), (int)days, 0, NULL) == NULL)
        rc = ssl_error(err, "certificate fields");
    if (rc == 0)
        rc = set_random_serial(cert, err);
    if (rc == 0)
        rc = set_subject(cert, &o->subject, err);
    X509 *issuer = issuer_cert != NULL ? issuer_cert : cert;
    if (rc == 0 && !X509_set_issuer_name(cert, X509_get_subject_name(issuer)))
        rc = ssl_error(err, "certificate issuer");
    if (rc == 0)
        rc = add_extensions(cert, issuer, o, err);
    if (rc == 0 && X509_sign(cert, issuer_key, EVP_sha256()) <= 0)
        rc = ssl_error(err, "signing the certificate");
    if (rc != 0) {
        X509_free(cert);
        return rc;
    }
    *out = cert;
    return 0;
}

/* Opens "<path>.tmpXXXXXX" with the given mode for an atomic write. */
static FILE *open_temp(const char *path, mode_t mode, char *tmp, size_t size, pv_error *err)
{
    int n = snprintf(tmp, size, "%s.tmpXXXXXX", path);
    if (n < 0 || (size_t)n >= size) {
        pv_error_set(err, PV_EINVAL, "%s: path too long", path);
        return NULL;
    }
    int fd = mkstemp(tmp); /* mkstemp creates 0600: right for keys from the start */
    if (fd < 0) {
        pv_error_set(err, PV_EIO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fchmod(fd, mode) != 0) {
        pv_error_set(err, PV_EIO, "%s: %s", path, strerror(errno));
        close(fd);
        unlink(tmp);
        return NULL;
    }
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        pv_error_set(err, PV_EIO, "%s: %s", path, strerror(errno));
        close(fd);
        unlink(tmp);
    }
    return f;
}

static int finish_temp(FILE *f, bool ok, const char *tmp, const char *path, pv_error *err)
{
    if (ok && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        ok = false;
    if (fclose(f) != 0)
        ok = false;
    if (ok && rename(tmp, path) == 0)
        return 0;
    int saved = errno;
    unlink(tmp);
    return pv_error_set(err, PV_EIO, "%s: cannot write: %s", path, strerror(saved));
}

int pv_pki_write_key(const char *path, EVP_PKEY *key, pv_error *err)
{
    char tmp[4096];
    FILE *f = open_temp(path, 0600, tmp, sizeof tmp, err);
    if (f == NULL)
        return PV_EIO;
    bool ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
    ERR_clear_error();
    return finish_temp(f, ok, tmp, path, err);
}

int pv_pki_write_certs(const char *path, X509 *const *certs, size_t count, pv_error *err)
{
    char tmp[4096];
    FILE *f = open_temp(path, 0644, tmp, sizeof tmp, err);
    if (f == NULL)
        return PV_EIO;
    bool ok = true;
    for (size_t i = 0; ok && i < count; i++)
        ok = PEM_write_X509(f, certs[i]) == 1;
    ERR_clear_error();
    return finish_temp(f, ok, tmp, path, err);
}

static FILE *open_read(const char *path, int *rc, pv_error *err)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        *rc = pv_error_set(err, errno == ENOENT ? PV_ENOENT : PV_EIO, "%s: %s", path,
                           strerror(errno));
    return f;
}

int pv_pki_read_key(const char *path, EVP_PKEY **out, pv_error *err)
{
    int rc = 0;
    FILE *f = open_read(path, &rc, err);
    if (f == NULL)
        return rc;
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (key == NULL) {
        ERR_clear_error();
        return pv_error_set(err, PV_EFORMAT, "%s: no PEM private key (unencrypted) in it", path);
    }
    *out = key;
    return 0;
}

int pv_pki_read_cert(const char *path, X509 **out, pv_error *err)
{
    int rc = 0;
    FILE *f = open_read(path, &rc, err);
    if (f == NULL)
        return rc;
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (cert == NULL) {
        ERR_clear_error();
        return pv_error_set(err, PV_EFORMAT, "%s: no PEM certificate in it", path);
    }
    *out = cert;
    return 0;
}

void pv_pki_fingerprint(X509 *cert, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    out[0] = '\0';
    if (!X509_digest(cert, EVP_sha256(), md, &len) || len != 32)
        return;
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < len; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

int pv_pki_verify(X509 *leaf, X509 *ca, pv_error *err)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int rc = 0;
    if (store == NULL || ctx == NULL || !X509_STORE_add_cert(store, ca) ||
        !X509_STORE_CTX_init(ctx, store, leaf, NULL)) {
        rc = ssl_error(err, "verification setup");
    } else if (X509_verify_cert(ctx) != 1) {
        int code = X509_STORE_CTX_get_error(ctx);
        rc = pv_error_set(err, PV_ECRYPTO, "certificate does not verify: %s",
                          X509_verify_cert_error_string(code));
    }
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}
