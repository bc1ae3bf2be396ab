/*
 * pki.h — a small certificate authority on the OpenSSL 3 API: keys, a
 * self-signed CA, server and client certificates, PEM files.
 *
 * `provisor serve` uses it on first run to create its own CA and server
 * certificate and a demo phone-manufacturer CA (DESIGN decision 2); the fleet
 * simulator uses the manufacturer CA to issue phone certificates whose
 * subject carries what a real phone's does (spec 4.4: OU = product, L =
 * serial, ST = MAC), which the server then reads back as the phone's
 * identity (DESIGN decision 3).
 *
 * Ownership: functions that produce an EVP_PKEY or X509 give the caller one
 * reference (free with EVP_PKEY_free / X509_free); inputs are borrowed.
 * Private keys are written 0600, certificates 0644, both through a temporary
 * file and rename(2), so a reader never sees half a file.
 */
#ifndef PV_NET_PKI_H
#define PV_NET_PKI_H

#include "core/error.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

typedef enum {
    PV_PKI_KEY_EC_P256, /* prime256v1: small and fast, what we issue by default */
    PV_PKI_KEY_RSA,     /* for old phones that speak RSA only */
} pv_pki_key_type;

/* rsa_bits: 2048..8192 for PV_PKI_KEY_RSA, ignored for EC. */
int pv_pki_key_new(pv_pki_key_type type, unsigned rsa_bits, EVP_PKEY **out, pv_error *err);

typedef enum {
    PV_PKI_USAGE_CA,     /* basicConstraints CA:TRUE, keyCertSign, cRLSign */
    PV_PKI_USAGE_SERVER, /* extendedKeyUsage serverAuth */
    PV_PKI_USAGE_CLIENT, /* extendedKeyUsage clientAuth (phones) */
} pv_pki_usage;

/* Subject fields, as X.509 names them; NULL or "" leaves a field out. What a caller puts in them
 * is its own business (a simulated phone: src/fleet/certs.c, spec 4.4). */
typedef struct pv_pki_subject {
    const char *common_name;  /* CN */
    const char *org_unit;     /* OU */
    const char *organization; /* O */
    const char *locality;     /* L */
    const char *state;        /* ST */
    const char *country;      /* C: two letters */
} pv_pki_subject;

typedef struct pv_pki_cert_options {
    pv_pki_subject subject;
    pv_pki_usage usage;
    /* subjectAltName in OpenSSL syntax, e.g. "DNS:localhost,IP:127.0.0.1", or NULL. */
    const char *san;
    unsigned days; /* validity from now (starting an hour ago, for clock skew); 0 = 825 */
} pv_pki_cert_options;

/*
 * Issues a certificate for subject_key signed by issuer_key with
 * issuer_cert's subject as its issuer; issuer_cert == NULL makes it
 * self-signed (issuer_key must then be subject_key). SHA-256 signature,
 * random 159-bit serial, subject and authority key identifiers.
 */
int pv_pki_issue(const pv_pki_cert_options *options, EVP_PKEY *subject_key, X509 *issuer_cert,
                 EVP_PKEY *issuer_key, X509 **out, pv_error *err);

/* PEM files. write_certs writes a chain (leaf first) or a bundle. */
int pv_pki_write_key(const char *path, EVP_PKEY *key, pv_error *err);
int pv_pki_write_certs(const char *path, X509 *const *certs, size_t count, pv_error *err);
int pv_pki_read_key(const char *path, EVP_PKEY **out, pv_error *err);
/* The first certificate of a PEM file. */
int pv_pki_read_cert(const char *path, X509 **out, pv_error *err);

/* SHA-256 of the DER certificate as lower-case hex (what pv_peer_identity holds). */
void pv_pki_fingerprint(X509 *cert, char out[65]);

/* Verifies leaf against one trusted CA with X509_verify_cert; err says why not. */
int pv_pki_verify(X509 *leaf, X509 *ca, pv_error *err);

#endif
