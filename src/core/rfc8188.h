/*
 * rfc8188.h — the "aes128gcm" HTTP content coding of RFC 8188 (spec 4.3).
 *
 * MPP phones (≥ 11.2(3)) decrypt a profile served with `Content-Encoding:
 * aes128gcm` using the parameter IKM_HTTP_Encrypt_Content, and encrypt their
 * reports the same way when the Report_Rule has no --key. The body is
 *
 *     salt (16) | rs (4, big-endian) | idlen (1) | keyid (idlen) | records...
 *
 * Each record is AES-128-GCM over (data ‖ delimiter ‖ zero padding) plus a
 * 16-byte tag, rs bytes long except the last, which may be shorter. The
 * delimiter is 0x01 in every record but the last, 0x02 in the last (RFC 8188
 * §2). CEK and nonce come from HKDF-SHA-256 (§2.2, §2.3); record i uses the
 * nonce XOR i. DESIGN decision 7: IKM = the parameter's bytes as given, empty
 * keyid, rs 4096.
 *
 * Streaming contexts handle one record at a time: a context holds at most one
 * record (rs bytes, and a reader refuses an rs above its max_rs), and only
 * authenticated plaintext is ever appended to the caller's pv_buf. Errors are
 * specific: PV_EFORMAT for a bad header or delimiter, PV_ETRUNC for a body that
 * stops early, PV_EDECRYPT for a record that fails authentication (wrong IKM
 * or tampering), PV_ETOOBIG past max_out, PV_ELIMIT for an rs above max_rs.
 */
#ifndef PV_CORE_RFC8188_H
#define PV_CORE_RFC8188_H

#include "core/buf.h"
#include "core/error.h"

#include <stddef.h>
#include <stdint.h>

#define PV_RFC8188_SALT_LEN 16
#define PV_RFC8188_HEADER_MIN 21 /* salt + rs + idlen, empty keyid */
#define PV_RFC8188_TAG_LEN 16
#define PV_RFC8188_MIN_RS 18       /* RFC 8188 §2: tag + delimiter + one byte */
#define PV_RFC8188_DEFAULT_RS 4096 /* DESIGN decision 7 */

typedef struct pv_rfc8188_header {
    uint8_t salt[PV_RFC8188_SALT_LEN];
    uint32_t rs;
    uint8_t keyid[255];
    size_t keyid_len;
    size_t len; /* bytes the header takes: 21 + keyid_len */
} pv_rfc8188_header;

/*
 * Parses and validates the header at the start of body: PV_ETRUNC when body
 * is shorter than the header, PV_EFORMAT when rs < 18.
 */
int pv_rfc8188_parse_header(pv_slice body, pv_rfc8188_header *h, pv_error *err);

typedef struct pv_rfc8188 pv_rfc8188;

/*
 * Starts an encryption with record size rs (≥ 18) and keyid (≤ 255 bytes,
 * usually empty). salt is 16 bytes, or NULL for fresh random bytes; a given
 * salt exists for reproducible tests only.
 */
int pv_rfc8188_encrypt_init(pv_rfc8188 **ctx, pv_slice ikm, uint32_t rs, pv_slice keyid,
                            const uint8_t *salt, pv_error *err);
/*
 * Starts a decryption. max_rs bounds the memory of one record (a header with a
 * larger rs is refused, PV_ELIMIT); max_out bounds the plaintext in total.
 * Pass SIZE_MAX for no limit.
 */
int pv_rfc8188_decrypt_init(pv_rfc8188 **ctx, pv_slice ikm, size_t max_rs, size_t max_out,
                            pv_error *err);
/* Feeds len bytes; appends whatever whole records yield. */
int pv_rfc8188_update(pv_rfc8188 *ctx, const void *in, size_t len, pv_buf *out, pv_error *err);
/* Ends the stream: seals the last record (encrypt) or checks there was one (decrypt). */
int pv_rfc8188_final(pv_rfc8188 *ctx, pv_buf *out, pv_error *err);
/* Releases ctx (NULL is fine) and wipes the keys. */
void pv_rfc8188_free(pv_rfc8188 *ctx);

/* One shot: appends the whole encoded body for plain to out. */
int pv_rfc8188_encrypt(pv_slice plain, pv_slice ikm, uint32_t rs, pv_slice keyid,
                       const uint8_t *salt, pv_buf *out, pv_error *err);
/* One shot: decodes a whole body; on failure out keeps only what it held before. */
int pv_rfc8188_decrypt(pv_slice body, pv_slice ikm, size_t max_out, pv_buf *out, pv_error *err);

#endif
