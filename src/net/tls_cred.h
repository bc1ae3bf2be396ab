/*
 * tls_cred.h — client credentials (a phone's certificate, chain and key) and
 * a CA bundle, parsed once and handed to TLS connections from memory.
 *
 * What it is for: both fetchers (net/fetch.h) present a client certificate
 * per phone and verify the server against a CA bundle. Reading the PEM files
 * per connection costs about 1 ms of CPU with OpenSSL 3 (decoding, key
 * checks, libcrypto's locks); a fleet of 100 000 phones makes that cost per
 * resync. A pv_tls_cred_cache parses each (cert, key) pair once and keeps it
 * in a bounded, direct-mapped table; pv_tls_ca_store_load parses the bundle
 * once. Files that change after their first use are not read again — for a
 * fleet, not for a phone whose certificate may be replaced.
 *
 * Ownership: a pv_tls_cred is reference counted; the cache holds one
 * reference per slot, each user one more (pv_tls_cred_get gives a new one,
 * pv_tls_cred_unref drops it). A colliding entry replaces the old one, which
 * lives on while a connection still holds it. One cache per loop thread:
 * nothing here locks.
 */
#ifndef PV_NET_TLS_CRED_H
#define PV_NET_TLS_CRED_H

#include "core/error.h"

#include <openssl/types.h>
#include <openssl/x509.h>
#include <stddef.h>

typedef struct pv_tls_cred {
    unsigned refs;
    char *cert_file, *key_file; /* key_file NULL: the key is in cert_file */
    X509 *cert;
    EVP_PKEY *key;
    STACK_OF(X509) * chain; /* certificates after the first in cert_file, or NULL */
} pv_tls_cred;

typedef struct pv_tls_cred_cache pv_tls_cred_cache;

pv_tls_cred_cache *pv_tls_cred_cache_new(size_t slots);
void pv_tls_cred_cache_free(pv_tls_cred_cache *cache);
/* A new reference to the parsed credentials of these files (key_file NULL: in cert_file), or
 * NULL when they are unreadable or the key does not match the certificate. */
pv_tls_cred *pv_tls_cred_get(pv_tls_cred_cache *cache, const char *cert_file,
                             const char *key_file);
void pv_tls_cred_unref(pv_tls_cred *cred);

/* The CA bundle (PEM) as a store, or the system's with ca_file NULL; as libcurl loads it:
 * X509_V_FLAG_PARTIAL_CHAIN (a trusted intermediate may end the chain). */
int pv_tls_ca_store_load(const char *ca_file, X509_STORE **out, pv_error *err);

#endif
