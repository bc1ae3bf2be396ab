/*
 * secrets.h — encryption at rest of device keys and secret directory names
 * (DESIGN 6: "Keys at rest are encrypted with a master key file").
 *
 * The master key is 32 random bytes kept in a file of its own (64 hex digits
 * and a newline), apart from the database, so that a copied database or
 * backup alone does not reveal a single device key. The file is created with
 * mode 0600 on first use and refused when group or others may read it.
 *
 * Each value is sealed with AES-256-GCM under a fresh random 96-bit nonce:
 *   0x01 | nonce (12) | ciphertext | tag (16)
 * The associated data names the value's place ("device-key:<mac>"), so a
 * sealed value copied to another row or column fails to open. A wrong master
 * key fails the tag check: PV_EDECRYPT, never garbage.
 *
 * The caller owns the pv_secrets handle (pv_secrets_free wipes the key).
 */
#ifndef PV_STORE_SECRETS_H
#define PV_STORE_SECRETS_H

#include "core/buf.h"
#include "core/error.h"

#include <stdbool.h>
#include <stddef.h>

#define PV_SECRETS_OVERHEAD (1 + 12 + 16)

typedef struct pv_secrets pv_secrets;

/* Reads the master key file; when it is missing and create is true, makes a
 * new random key there (0600). */
int pv_secrets_load(const char *path, bool create, pv_secrets **out, pv_error *err);
void pv_secrets_free(pv_secrets *k);

/* Appends the sealed form of plain to out. */
int pv_secrets_seal(const pv_secrets *k, const char *aad, const void *plain, size_t len,
                    pv_buf *out, pv_error *err);
/* Appends the plaintext of a sealed value to out; PV_EDECRYPT on a wrong key,
 * wrong aad or damaged value, PV_EFORMAT when it is not a sealed value. */
int pv_secrets_open(const pv_secrets *k, const char *aad, const void *sealed, size_t len,
                    pv_buf *out, pv_error *err);

/*
 * A keyed digest of a short secret (a binding code, DESIGN 5): lower-case hex
 * of HMAC-SHA256 under a key derived from the master key for label. A copied
 * database alone cannot be searched for the secret however small its space
 * (a bare SHA-256 of a 12-digit code falls to 10^12 hashes).
 */
int pv_secrets_mac_hex(const pv_secrets *k, const char *label, const void *data, size_t len,
                       char out[65], pv_error *err);

/* Cryptographically random bytes (OpenSSL RAND_bytes). */
int pv_secrets_random(void *buf, size_t n, pv_error *err);

#endif
