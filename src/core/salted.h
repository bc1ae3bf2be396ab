/*
 * salted.h — the OpenSSL `enc` file format, the cipher phones decrypt (spec 4.1).
 *
 * A file made by `openssl enc -aes-256-cbc -k PASS [-md md5|sha256]` is
 *
 *     "Salted__" (8 bytes) | salt (8 bytes) | AES-256-CBC ciphertext, PKCS#7 padded
 *
 * with key (32) ‖ IV (16) = EVP_BytesToKey(AES-256-CBC, md, salt, PASS, count 1).
 * The digest is md5 (SPA/ATA, OpenSSL < 1.1) or sha256 (newer MPP): DESIGN
 * decision 7 makes it a per-model setting and has readers try the configured
 * digest, then the other (pv_salted_decrypt_any).
 *
 * Two ways in: a streaming context (init, update..., final, free) whose output
 * per update is at most the input length plus one block, so memory stays
 * bounded on any input size; and one-shot helpers for data already in memory,
 * with a cap on the plaintext they will produce. Output is appended to a
 * caller-owned pv_buf; the context owns only its cipher state and is released
 * with pv_salted_free(). A wrong passphrase or digest shows up as a padding
 * failure: PV_EDECRYPT. Input that stops short of a whole block is PV_ETRUNC.
 * Note that a wrong key passes the padding check by chance about once in 256
 * tries; callers that can, check that the plaintext looks like what they
 * expect.
 */
#ifndef PV_CORE_SALTED_H
#define PV_CORE_SALTED_H

#include "core/buf.h"
#include "core/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The digest EVP_BytesToKey uses; md5 is the default (DESIGN decision 7). */
typedef enum { PV_MD_MD5 = 0, PV_MD_SHA256 = 1 } pv_md;

#define PV_SALTED_MAGIC "Salted__"
#define PV_SALTED_SALT_LEN 8
#define PV_SALTED_HEADER_LEN 16 /* magic + salt */
#define PV_SALTED_BLOCK 16      /* AES block size */

/* "md5" or "sha256". */
const char *pv_md_name(pv_md md);
/* Parses "md5" or "sha256" (case-insensitive); PV_EINVAL otherwise. */
int pv_md_parse(const char *name, pv_md *out, pv_error *err);
/* The digest that is not md. */
pv_md pv_md_other(pv_md md);

/* True when data starts with the 8-byte magic "Salted__". */
bool pv_salted_detect(pv_slice data);

typedef struct pv_salted pv_salted;

/*
 * Starts an encryption. salt is 8 bytes, or NULL for fresh random bytes
 * (RAND_bytes); a given salt exists for reproducible tests only. The first
 * update (or final) emits the 16-byte header.
 */
int pv_salted_encrypt_init(pv_salted **ctx, pv_slice pass, pv_md md, const uint8_t *salt,
                           pv_error *err);
/* Starts a decryption; the salt comes from the input's header. */
int pv_salted_decrypt_init(pv_salted **ctx, pv_slice pass, pv_md md, pv_error *err);
/* Feeds len bytes; appends at most len + 32 bytes to out. */
int pv_salted_update(pv_salted *ctx, const void *in, size_t len, pv_buf *out, pv_error *err);
/* Ends the stream: adds (encrypt) or checks and strips (decrypt) the padding. */
int pv_salted_final(pv_salted *ctx, pv_buf *out, pv_error *err);
/* Releases ctx (NULL is fine) and wipes the key material. */
void pv_salted_free(pv_salted *ctx);

/* One shot: appends the whole encrypted file for plain to out. */
int pv_salted_encrypt(pv_slice plain, pv_slice pass, pv_md md, const uint8_t *salt, pv_buf *out,
                      pv_error *err);
/*
 * One shot: decrypts a whole file with digest md, refusing (PV_ETOOBIG) to
 * produce more than max_out bytes. out is left empty on failure.
 */
int pv_salted_decrypt(pv_slice cipher, pv_slice pass, pv_md md, size_t max_out, pv_buf *out,
                      pv_error *err);
/*
 * Tries digest first, then the other one (DESIGN decision 7); on success sets
 * *used to the digest that decrypted. Errors other than a failed padding check
 * (bad header, truncation, size) are reported at once, without a second try.
 */
int pv_salted_decrypt_any(pv_slice cipher, pv_slice pass, pv_md first, size_t max_out, pv_buf *out,
                          pv_md *used, pv_error *err);

#endif
