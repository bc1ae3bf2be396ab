/*
 * sniff.h — what a downloaded profile is, and turning it back into plain text.
 *
 * Phones decide the format of a file by its first bytes, never by its name or
 * Content-Type (spec 3.2): 1f 8b is gzip, "Salted__" is the OpenSSL AES-256-CBC
 * format, otherwise XML or the legacy text form. pv_sniff() classifies bytes
 * that way. pv_profile_decode() is the whole receive pipeline the agent and
 * `provisor profile check` share:
 *
 *   1. `Content-Encoding: aes128gcm` and no --key → RFC 8188 with the IKM
 *      (spec 4.3; a --key in the rule takes precedence over the IKM);
 *   2. otherwise, with a --key: the file must be "Salted__"; decrypt with the
 *      preferred digest, then the other (DESIGN decision 7);
 *   3. gzip → inflate, under the output limit (spec 3.2: compression is applied
 *      before encryption, so it is undone after);
 *   4. report what was found in a pv_decode_info.
 *
 * An encrypted file without a key, and a plain file where the rule promised a
 * key, are errors: quietly accepting a plain profile where an encrypted one
 * was expected would let anyone on the path replace it. Whether the plaintext
 * is a valid profile is for the profile parsers to say.
 */
#ifndef PV_CORE_SNIFF_H
#define PV_CORE_SNIFF_H

#include "core/buf.h"
#include "core/error.h"
#include "core/salted.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    PV_FORMAT_EMPTY,  /* no bytes, or only white space */
    PV_FORMAT_GZIP,   /* 1f 8b */
    PV_FORMAT_SALTED, /* "Salted__" */
    PV_FORMAT_XML,    /* first non-space character '<' (after an optional UTF-8 BOM) */
    PV_FORMAT_TEXT,   /* printable text: the legacy source form, or anything else */
    PV_FORMAT_BINARY, /* none of the above */
} pv_format;

/* Classifies data by its first bytes (spec 3.2). */
pv_format pv_sniff(pv_slice data);
/* "empty", "gzip", "salted", "xml", "text", "binary". */
const char *pv_format_name(pv_format format);

typedef enum {
    PV_ENCRYPTION_NONE,
    PV_ENCRYPTION_SALTED,  /* OpenSSL enc, AES-256-CBC (spec 4.1) */
    PV_ENCRYPTION_RFC8188, /* aes128gcm (spec 4.3) */
} pv_encryption;

/* "none", "aes-256-cbc", "aes128gcm". */
const char *pv_encryption_name(pv_encryption enc);

typedef struct pv_decode_opts {
    size_t max_output; /* cap on the plaintext, and on what gzip inflates to */
    pv_md md;          /* the digest tried first for "Salted__" files */
    bool md_only;      /* do not fall back to the other digest */
    bool keep_gzip;    /* decrypt only: leave gzip data compressed */
} pv_decode_opts;

/* Defaults: 16 MiB, md5 first, fall back to sha256, inflate. */
void pv_decode_opts_init(pv_decode_opts *opts);

typedef struct pv_decode_info {
    pv_encryption encryption;
    pv_md md;        /* the digest that decrypted, when encryption is SALTED */
    uint32_t rs;     /* the record size, when encryption is RFC8188 */
    bool gzipped;    /* the data was gzip (and, unless keep_gzip, was inflated) */
    pv_format inner; /* pv_sniff() of the result */
} pv_decode_info;

/*
 * True when a Content-Encoding header value names aes128gcm (a comma-separated
 * list, case-insensitive, white space ignored). NULL is false.
 */
bool pv_content_encoding_is_aes128gcm(const char *content_encoding);

/*
 * Runs the pipeline above on data. key is the rule's --key (NULL when none);
 * ikm the IKM_HTTP_Encrypt_Content bytes (NULL when unset); content_encoding
 * the response's header value (NULL when absent); opts NULL means defaults.
 * Appends the plaintext to plain and fills info (either may be read only on
 * success; plain keeps only what it held before on failure).
 */
int pv_profile_decode(pv_slice data, const pv_slice *key, const pv_slice *ikm,
                      const char *content_encoding, const pv_decode_opts *opts, pv_buf *plain,
                      pv_decode_info *info, pv_error *err);

typedef struct pv_encode_opts {
    pv_md md;    /* digest for AES-256-CBC (md5 by default, DESIGN decision 7) */
    bool gzip;   /* compress before encrypting (spec 3.2) */
    uint32_t rs; /* aes128gcm record size; 0 means 4096 */
} pv_encode_opts;

/*
 * The sending side, for profiles (server) and reports (agent, spec 7.1):
 * optional gzip, then with a key AES-256-CBC in the OpenSSL format, else with
 * an IKM aes128gcm (and *content_encoding is set to "aes128gcm", the header
 * value the body needs), else nothing. The key wins over the IKM (spec 4.3,
 * 7.1). *content_encoding is NULL when no header is needed. opts NULL means
 * md5, no gzip, rs 4096. Appends to out.
 */
int pv_profile_encode(pv_slice plain, const pv_slice *key, const pv_slice *ikm,
                      const pv_encode_opts *opts, pv_buf *out, const char **content_encoding,
                      pv_error *err);

#endif
