/* sniff.c — format by first bytes, and the decrypt/inflate pipeline; see sniff.h. */
#include "core/sniff.h"

#include "core/gzip.h"
#include "core/rfc8188.h"

#include <string.h>
#include <strings.h>

#define TEXT_PROBE 1024 /* bytes looked at to tell text from binary */

pv_format pv_sniff(pv_slice data)
{
    const uint8_t *p = (const uint8_t *)data.ptr;
    size_t len = data.len;
    if (pv_gzip_detect(data)) /* spec 3.2 */
        return PV_FORMAT_GZIP;
    if (pv_salted_detect(data)) /* spec 3.2, 4.1 */
        return PV_FORMAT_SALTED;
    if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) { /* UTF-8 BOM */
        p += 3;
        len -= 3;
    }
    size_t i = 0;
    while (i < len && pv_is_space(p[i]))
        i++;
    if (i == len)
        return PV_FORMAT_EMPTY;
    if (p[i] == '<')
        return PV_FORMAT_XML;
    /* Text: no NUL and no control bytes but white space; bytes ≥ 0x80 may be UTF-8. */
    size_t end = len < TEXT_PROBE ? len : TEXT_PROBE;
    for (; i < end; i++) {
        if ((p[i] < 0x20 && !pv_is_space(p[i])) || p[i] == 0x7f)
            return PV_FORMAT_BINARY;
    }
    return PV_FORMAT_TEXT;
}

const char *pv_format_name(pv_format format)
{
    switch (format) {
    case PV_FORMAT_EMPTY:
        return "empty";
    case PV_FORMAT_GZIP:
        return "gzip";
    case PV_FORMAT_SALTED:
        return "salted";
    case PV_FORMAT_XML:
        return "xml";
    case PV_FORMAT_TEXT:
        return "text";
    case PV_FORMAT_BINARY:
        break;
    }
    return "binary";
}

const char *pv_encryption_name(pv_encryption enc)
{
    switch (enc) {
    case PV_ENCRYPTION_SALTED:
        return "aes-256-cbc";
    case PV_ENCRYPTION_RFC8188:
        return "aes128gcm";
    case PV_ENCRYPTION_NONE:
        break;
    }
    return "none";
}

void pv_decode_opts_init(pv_decode_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->max_output = (size_t)16 << 20;
    opts->md = PV_MD_MD5; /* DESIGN decision 7 */
}

bool pv_content_encoding_is_aes128gcm(const char *ce)
{
    if (ce == NULL)
        return false;
    /* RFC 9110 §8.4: a comma-separated list of codings, case-insensitive. */
    while (*ce != '\0') {
        while (*ce == ',' || pv_is_space((uint8_t)*ce))
            ce++;
        size_t n = strcspn(ce, ", \t\r\n");
        if (n == 9 && strncasecmp(ce, "aes128gcm", 9) == 0)
            return true;
        ce += n;
    }
    return false;
}

/*
 * DESIGN 7: the preferred digest, then the other. A wrong digest passes the
 * PKCS#7 check by chance about once in 256 files and then yields noise; when
 * the first result sniffs as binary, the other digest gets a chance too and
 * wins if its result is recognisable (gzip, XML, text). out is empty on entry.
 */
static int salted_either(pv_slice data, pv_slice key, const pv_decode_opts *o, pv_buf *out,
                         pv_md *used, pv_error *err)
{
    int rc = pv_salted_decrypt_any(data, key, o->md, o->max_output, out, used, err);
    if (rc != 0 || *used != o->md || pv_sniff(pv_buf_slice(out)) != PV_FORMAT_BINARY)
        return rc;
    pv_buf alt = {0};
    pv_md other = pv_md_other(o->md);
    if (pv_salted_decrypt(data, key, other, o->max_output, &alt, NULL) == 0 &&
        pv_sniff(pv_buf_slice(&alt)) != PV_FORMAT_BINARY) {
        pv_buf tmp = *out;
        *out = alt;
        alt = tmp;
        *used = other;
    }
    pv_buf_free(&alt);
    return 0;
}

/* Steps 1 and 2 of the pipeline: leaves the decrypted bytes in out. */
static int decrypt_step(pv_slice data, const pv_slice *key, const pv_slice *ikm, bool gcm,
                        const pv_decode_opts *o, pv_buf *out, pv_decode_info *info, pv_error *err)
{
    if (gcm && key == NULL) { /* spec 4.3: aes128gcm unless a --key takes precedence */
        if (ikm == NULL || ikm->len == 0)
            return pv_error_set(err, PV_EINVAL,
                                "the body is Content-Encoding: aes128gcm but no IKM is set "
                                "(IKM_HTTP_Encrypt_Content) and the rule has no --key");
        pv_rfc8188_header h;
        int rc = pv_rfc8188_parse_header(data, &h, err);
        if (rc != 0)
            return rc;
        info->encryption = PV_ENCRYPTION_RFC8188;
        info->rs = h.rs;
        return pv_rfc8188_decrypt(data, *ikm, o->max_output, out, err);
    }
    if (key != NULL) { /* spec 4.2: --key means the file is AES-256-CBC encrypted */
        /* A file cut inside the magic is a truncated encrypted file, not a plain one. */
        bool cut_magic =
            data.len < 8 && (data.len == 0 || memcmp(data.ptr, PV_SALTED_MAGIC, data.len) == 0);
        if (!pv_salted_detect(data) && !cut_magic)
            return pv_error_set(err, PV_EFORMAT,
                                "the rule has --key but the file is not encrypted: it starts "
                                "as %s, not \"Salted__\"",
                                pv_format_name(pv_sniff(data)));
        info->encryption = PV_ENCRYPTION_SALTED;
        info->md = o->md;
        if (o->md_only)
            return pv_salted_decrypt(data, *key, o->md, o->max_output, out, err);
        return salted_either(data, *key, o, out, &info->md, err);
    }
    if (pv_salted_detect(data))
        return pv_error_set(err, PV_EINVAL,
                            "the file is encrypted (\"Salted__\", AES-256-CBC) but no key was "
                            "given (--key)");
    if (data.len > o->max_output)
        return pv_error_set(err, PV_ETOOBIG, "%zu bytes exceed the %zu-byte limit", data.len,
                            o->max_output);
    pv_buf_append(out, data.ptr, data.len);
    return 0;
}

int pv_profile_decode(pv_slice data, const pv_slice *key, const pv_slice *ikm,
                      const char *content_encoding, const pv_decode_opts *opts, pv_buf *plain,
                      pv_decode_info *info, pv_error *err)
{
    pv_decode_opts defaults;
    if (opts == NULL) {
        pv_decode_opts_init(&defaults);
        opts = &defaults;
    }
    pv_decode_info scratch_info;
    if (info == NULL)
        info = &scratch_info;
    memset(info, 0, sizeof *info);
    pv_buf clear = {0}, inflated = {0};
    bool gcm = pv_content_encoding_is_aes128gcm(content_encoding);
    int rc = decrypt_step(data, key, ikm, gcm, opts, &clear, info, err);
    pv_buf *result = &clear;
    if (rc == 0 && pv_gzip_detect(pv_buf_slice(&clear))) { /* spec 3.2 */
        info->gzipped = true;
        if (!opts->keep_gzip) {
            rc = pv_gzip_decompress(pv_buf_slice(&clear), opts->max_output, &inflated, err);
            result = &inflated;
        }
    }
    if (rc == 0) {
        info->inner = pv_sniff(pv_buf_slice(result));
        pv_buf_append(plain, result->data, result->len);
    }
    pv_buf_free(&clear);
    pv_buf_free(&inflated);
    return rc;
}

int pv_profile_encode(pv_slice plain, const pv_slice *key, const pv_slice *ikm,
                      const pv_encode_opts *opts, pv_buf *out, const char **content_encoding,
                      pv_error *err)
{
    static const pv_encode_opts defaults = {.md = PV_MD_MD5};
    if (opts == NULL)
        opts = &defaults;
    if (content_encoding != NULL)
        *content_encoding = NULL;
    pv_buf zipped = {0};
    int rc = 0;
    if (opts->gzip) { /* spec 3.2: compression is applied before encryption */
        rc = pv_gzip_compress(plain, 9, &zipped, err);
        plain = pv_buf_slice(&zipped);
    }
    if (rc == 0 && key != NULL) { /* spec 4.2, 7.1: --key means AES-256-CBC */
        rc = pv_salted_encrypt(plain, *key, opts->md, NULL, out, err);
    } else if (rc == 0 && ikm != NULL) { /* spec 4.3, 7.1: no --key, an IKM: aes128gcm */
        uint32_t rs = opts->rs != 0 ? opts->rs : PV_RFC8188_DEFAULT_RS;
        rc = pv_rfc8188_encrypt(plain, *ikm, rs, pv_slice_make("", 0), NULL, out, err);
        if (rc == 0 && content_encoding != NULL)
            *content_encoding = "aes128gcm";
    } else if (rc == 0) {
        pv_buf_append(out, plain.ptr, plain.len);
    }
    pv_buf_free(&zipped);
    return rc;
}
