/* tls_cred.c — credentials and CA bundles parsed once; see tls_cred.h. */
/* EC keys are decoded with OpenSSL's EC_KEY functions, deprecated in 3.0 but without the
 * OSSL_DECODER chain that PEM_read_bio_PrivateKey builds per call (below). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "net/tls_cred.h"

#include "core/alloc.h"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct pv_tls_cred_cache {
    size_t slots;
    pv_tls_cred *slot[];
};

void pv_tls_cred_unref(pv_tls_cred *c)
{
    if (c == NULL || --c->refs > 0)
        return;
    X509_free(c->cert);
    EVP_PKEY_free(c->key);
    sk_X509_pop_free(c->chain, X509_free);
    free(c->cert_file);
    free(c->key_file);
    free(c);
}

/*
 * A PKCS#8 EC key on a named curve (what `provisor fleet certs` and openssl write), decoded as
 * an EC_KEY: ~20 µs against ~420 µs for PEM_read_bio_PrivateKey, whose OSSL_DECODER chain is
 * rebuilt per call in OpenSSL 3.0 (measured on this machine). NULL: not such a key — the
 * caller falls back to the general decoder.
 */
static EVP_PKEY *ec_key_fast(BIO *b)
{
    PKCS8_PRIV_KEY_INFO *p8 = PEM_read_bio_PKCS8_PRIV_KEY_INFO(b, NULL, NULL, NULL);
    EVP_PKEY *pkey = NULL;
    const ASN1_OBJECT *obj = NULL;
    const unsigned char *der = NULL;
    int len = 0, ptype = 0;
    const X509_ALGOR *alg = NULL;
    const void *pval = NULL;
    if (p8 == NULL || PKCS8_pkey_get0(&obj, &der, &len, &alg, p8) != 1 ||
        OBJ_obj2nid(obj) != NID_X9_62_id_ecPublicKey)
        goto out;
    X509_ALGOR_get0(NULL, &ptype, &pval, alg);
    if (ptype != V_ASN1_OBJECT) /* explicit curve parameters: the general decoder */
        goto out;
    EC_KEY *ec = EC_KEY_new_by_curve_name(OBJ_obj2nid(pval));
    if (ec == NULL || d2i_ECPrivateKey(&ec, &der, len) == NULL) {
        EC_KEY_free(ec);
        goto out;
    }
    pkey = EVP_PKEY_new();
    if (pkey == NULL || EVP_PKEY_assign_EC_KEY(pkey, ec) != 1) {
        EVP_PKEY_free(pkey);
        EC_KEY_free(ec);
        pkey = NULL;
    }
out:
    PKCS8_PRIV_KEY_INFO_free(p8);
    return pkey;
}

/* The certificate, any chain after it, and the key (in key_file, or in cert_file) — the files
 * libcurl's CURLOPT_SSLCERT/SSLKEY would read; NULL when they cannot be used. */
static pv_tls_cred *cred_load(const char *cert_file, const char *key_file)
{
    pv_tls_cred *c = pv_calloc(1, sizeof *c);
    c->refs = 1;
    c->cert_file = pv_strdup(cert_file);
    c->key_file = key_file ? pv_strdup(key_file) : NULL;
    BIO *b = BIO_new_file(cert_file, "r");
    if (b != NULL) {
        c->cert = PEM_read_bio_X509(b, NULL, NULL, NULL); /* skips the key block before it */
        X509 *x;
        while (c->cert != NULL && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
            if (c->chain == NULL)
                c->chain = sk_X509_new_null();
            sk_X509_push(c->chain, x);
        }
        BIO_free(b);
    }
    b = BIO_new_file(key_file ? key_file : cert_file, "r");
    if (b != NULL) {
        c->key = ec_key_fast(b);
        if (c->key == NULL && BIO_reset(b) == 0)
            c->key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
        BIO_free(b);
    }
    ERR_clear_error(); /* the end of the file reads as an error */
    if (c->cert == NULL || c->key == NULL || X509_check_private_key(c->cert, c->key) != 1) {
        ERR_clear_error();
        pv_tls_cred_unref(c);
        return NULL;
    }
    return c;
}

static size_t cred_slot(const pv_tls_cred_cache *cache, const char *cert_file,
                        const char *key_file)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *p = cert_file; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    for (const char *p = key_file ? key_file : ""; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return (size_t)(h % cache->slots);
}

static bool same(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

pv_tls_cred_cache *pv_tls_cred_cache_new(size_t slots)
{
    pv_tls_cred_cache *c = pv_calloc(1, sizeof *c + slots * sizeof c->slot[0]);
    c->slots = slots > 0 ? slots : 1;
    return c;
}

void pv_tls_cred_cache_free(pv_tls_cred_cache *cache)
{
    if (cache == NULL)
        return;
    for (size_t i = 0; i < cache->slots; i++)
        pv_tls_cred_unref(cache->slot[i]);
    free(cache);
}

pv_tls_cred *pv_tls_cred_get(pv_tls_cred_cache *cache, const char *cert_file,
                             const char *key_file)
{
    size_t i = cred_slot(cache, cert_file, key_file);
    pv_tls_cred *c = cache->slot[i];
    if (c == NULL || strcmp(c->cert_file, cert_file) != 0 || !same(c->key_file, key_file)) {
        pv_tls_cred *n = cred_load(cert_file, key_file);
        if (n == NULL)
            return NULL;
        pv_tls_cred_unref(c); /* memory stays bounded by the slots */
        cache->slot[i] = c = n;
    }
    c->refs++;
    return c;
}

int pv_tls_ca_store_load(const char *ca_file, X509_STORE **out, pv_error *err)
{
    X509_STORE *s = X509_STORE_new();
    if (s == NULL)
        return pv_error_set(err, PV_ECRYPTO, "cannot create a certificate store");
    int ok = ca_file != NULL ? X509_STORE_load_file(s, ca_file) : X509_STORE_set_default_paths(s);
    ERR_clear_error();
    /* as libcurl sets on the store it loads: a trusted intermediate may end the chain */
    X509_STORE_set_flags(s, X509_V_FLAG_PARTIAL_CHAIN);
    if (ok != 1) {
        X509_STORE_free(s);
        return pv_error_set(err, PV_EIO, "CA bundle %s: not readable PEM certificates",
                            ca_file ? ca_file : "(the system's)");
    }
    *out = s;
    return 0;
}
