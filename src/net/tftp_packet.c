/* tftp_packet.c — TFTP packet parser and builders; see tftp_packet.h. */
#include "net/tftp_packet.h"

#include <string.h>

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

const char *pv_tftp_opcode_name(int opcode)
{
    static const char *const names[] = {"0", "RRQ", "WRQ", "DATA", "ACK", "ERROR", "OACK"};
    if (opcode >= PV_TFTP_RRQ && opcode <= PV_TFTP_OACK)
        return names[opcode];
    return "unknown";
}

/* Takes one NUL-terminated string starting at *pos; what names it for errors. */
static int take_string(const uint8_t *p, size_t len, size_t *pos, pv_slice *out, const char *what,
                       pv_error *err)
{
    const uint8_t *start = p + *pos;
    const uint8_t *nul = memchr(start, 0, len - *pos);
    if (nul == NULL)
        return pv_error_set(err, PV_ESYNTAX,
                            "malformed request: %s at byte %zu is not NUL-terminated", what, *pos);
    *out = pv_slice_make(start, (size_t)(nul - start));
    *pos += out->len + 1;
    return 0;
}

/* RFC 2347 §2: opt1 NUL value1 NUL ... after the mode (or after the OACK opcode). */
static int parse_options(const uint8_t *p, size_t len, size_t pos, pv_tftp_packet *pkt,
                         pv_error *err)
{
    pkt->option_count = 0;
    while (pos < len) {
        pv_tftp_option opt;
        int rc = take_string(p, len, &pos, &opt.name, "option name", err);
        if (rc < 0)
            return rc;
        if (opt.name.len == 0) {
            /* Some clients pad requests with NULs: trailing zero bytes are harmless. */
            while (pos < len && p[pos] == 0)
                pos++;
            if (pos == len)
                return 0;
            return pv_error_set(err, PV_ESYNTAX, "malformed request: empty option name at byte %zu",
                                pos);
        }
        if (pos >= len)
            return pv_error_set(err, PV_ESYNTAX, "malformed request: option '%.*s' has no value",
                                PV_SLICE_ARG(opt.name));
        rc = take_string(p, len, &pos, &opt.value, "option value", err);
        if (rc < 0)
            return rc;
        if (pkt->option_count == PV_TFTP_MAX_OPTIONS)
            return pv_error_set(err, PV_ETOOBIG, "too many options (at most %d)",
                                PV_TFTP_MAX_OPTIONS);
        pkt->options[pkt->option_count++] = opt;
    }
    return 0;
}

static int parse_request(const uint8_t *p, size_t len, pv_tftp_packet *pkt, pv_error *err)
{
    if (len > PV_TFTP_MAX_REQUEST) /* RFC 2347 §2 */
        return pv_error_set(err, PV_ETOOBIG, "malformed request: %zu bytes, at most %d", len,
                            PV_TFTP_MAX_REQUEST);
    size_t pos = 2;
    int rc = take_string(p, len, &pos, &pkt->filename, "file name", err);
    if (rc < 0)
        return rc;
    if (pkt->filename.len == 0)
        return pv_error_set(err, PV_ESYNTAX, "malformed request: empty file name");
    rc = take_string(p, len, &pos, &pkt->mode_name, "mode", err);
    if (rc < 0)
        return rc;
    if (pv_slice_case_eq_cstr(pkt->mode_name, "octet"))
        pkt->mode = PV_TFTP_MODE_OCTET;
    else if (pv_slice_case_eq_cstr(pkt->mode_name, "netascii"))
        pkt->mode = PV_TFTP_MODE_NETASCII;
    else /* RFC 1350 "mail" is obsolete (RFC 1350 §1 says it should not be used). */
        return pv_error_set(
            err, PV_ENOTSUP, "malformed request: mode '%.*s' is not supported (octet or netascii)",
            (int)(pkt->mode_name.len > 32 ? 32 : pkt->mode_name.len), pkt->mode_name.ptr);
    return parse_options(p, len, pos, pkt, err);
}

int pv_tftp_parse(const void *data, size_t len, pv_tftp_packet *pkt, pv_error *err)
{
    const uint8_t *p = data;
    memset(pkt, 0, sizeof *pkt);
    if (len < 2)
        return pv_error_set(err, PV_ETRUNC, "malformed request: %zu bytes, no opcode", len);
    uint16_t op = get16(p);
    pkt->opcode = (pv_tftp_opcode)op;
    switch (op) {
    case PV_TFTP_RRQ:
    case PV_TFTP_WRQ:
        return parse_request(p, len, pkt, err);
    case PV_TFTP_DATA:
        if (len < 4)
            return pv_error_set(err, PV_ETRUNC, "DATA packet of %zu bytes, at least 4", len);
        if (len > PV_TFTP_MAX_PACKET)
            return pv_error_set(err, PV_ETOOBIG, "DATA packet of %zu bytes, at most %d", len,
                                PV_TFTP_MAX_PACKET);
        pkt->block = get16(p + 2);
        pkt->data = pv_slice_make(p + 4, len - 4);
        return 0;
    case PV_TFTP_ACK:
        /* Some clients pad ACKs; RFC 1350 defines only the first 4 bytes. */
        if (len < 4)
            return pv_error_set(err, PV_ETRUNC, "ACK packet of %zu bytes, 4 expected", len);
        pkt->block = get16(p + 2);
        return 0;
    case PV_TFTP_ERROR: {
        if (len < 4)
            return pv_error_set(err, PV_ETRUNC, "ERROR packet of %zu bytes, at least 4", len);
        pkt->error_code = get16(p + 2);
        /* Tolerate a missing final NUL: the message is informational only. */
        const uint8_t *msg = p + 4;
        const uint8_t *nul = memchr(msg, 0, len - 4);
        pkt->error_message = pv_slice_make(msg, nul ? (size_t)(nul - msg) : len - 4);
        return 0;
    }
    case PV_TFTP_OACK:
        if (len > PV_TFTP_MAX_REQUEST)
            return pv_error_set(err, PV_ETOOBIG, "OACK of %zu bytes, at most %d", len,
                                PV_TFTP_MAX_REQUEST);
        return parse_options(p, len, 2, pkt, err);
    default:
        return pv_error_set(err, PV_ENOTSUP, "unknown opcode %u", op);
    }
}

const pv_tftp_option *pv_tftp_find_option(const pv_tftp_packet *pkt, const char *name)
{
    for (size_t i = 0; i < pkt->option_count; i++) {
        if (pv_slice_case_eq_cstr(pkt->options[i].name, name))
            return &pkt->options[i];
    }
    return NULL;
}

int pv_tftp_option_uint(pv_slice value, uint64_t min, uint64_t max, uint64_t *out)
{
    if (value.len == 0 || value.len > 19)
        return PV_ESYNTAX;
    uint64_t v = 0;
    for (size_t i = 0; i < value.len; i++) {
        if (value.ptr[i] < '0' || value.ptr[i] > '9')
            return PV_ESYNTAX;
        v = v * 10 + (uint64_t)(value.ptr[i] - '0');
    }
    if (v < min || v > max)
        return PV_ERANGE;
    *out = v;
    return 0;
}

int pv_tftp_parse_requested(const pv_tftp_packet *pkt, pv_tftp_requested *out, pv_error *err)
{
    static const struct {
        const char *name;
        uint64_t min, max;
        const char *rule;
    } known[] = {
        {"blksize", PV_TFTP_BLKSIZE_MIN, PV_TFTP_BLKSIZE_MAX, "RFC 2348: 8..65464"},
        {"timeout", 1, 255, "RFC 2349: 1..255 seconds"},
        {"windowsize", 1, 65535, "RFC 7440: 1..65535"},
        {"tsize", 0, UINT64_MAX / 2, "RFC 2349: a size in bytes"},
    };
    memset(out, 0, sizeof *out);
    uint64_t *slots[] = {&out->blksize, &out->timeout, &out->windowsize, &out->tsize};
    for (size_t i = 0; i < 4; i++) {
        const pv_tftp_option *o = pv_tftp_find_option(pkt, known[i].name);
        if (o == NULL)
            continue;
        if (pv_tftp_option_uint(o->value, known[i].min, known[i].max, slots[i]) < 0)
            return pv_error_set(err, PV_ERANGE, "option %s=%.*s refused (%s)", known[i].name,
                                (int)(o->value.len > 20 ? 20 : o->value.len), o->value.ptr,
                                known[i].rule);
        if (i == 3)
            out->has_tsize = true;
    }
    return 0;
}

uint16_t pv_tftp_error_for_status(int status, const char **text)
{
    static const struct {
        int status;
        uint16_t code;
        const char *text;
    } map[] = {
        {404, PV_TFTP_ENOTFOUND, "File not found"},
        {403, PV_TFTP_EACCESS, "Access violation"},
        {413, PV_TFTP_EDISKFULL, "Disk full or allocation exceeded"},
        {507, PV_TFTP_EDISKFULL, "Disk full or allocation exceeded"},
        {400, PV_TFTP_EBADOP, "Illegal TFTP operation"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (map[i].status == status) {
            if (text)
                *text = map[i].text;
            return map[i].code;
        }
    }
    if (text)
        *text = "request refused";
    return PV_TFTP_ENOTDEFINED;
}

static void put16(pv_buf *out, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    pv_buf_append(out, b, 2);
}

static void put_string(pv_buf *out, pv_slice s)
{
    pv_buf_append_slice(out, s);
    pv_buf_append_char(out, '\0');
}

static void put_options(pv_buf *out, const pv_tftp_option *options, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        put_string(out, options[i].name);
        put_string(out, options[i].value);
    }
}

void pv_tftp_build_request(pv_buf *out, pv_tftp_opcode op, pv_slice filename, pv_slice mode,
                           const pv_tftp_option *options, size_t count)
{
    put16(out, (uint16_t)op);
    put_string(out, filename);
    put_string(out, mode);
    put_options(out, options, count);
}

void pv_tftp_build_oack(pv_buf *out, const pv_tftp_option *options, size_t count)
{
    put16(out, PV_TFTP_OACK);
    put_options(out, options, count);
}

void pv_tftp_build_ack(pv_buf *out, uint16_t block)
{
    put16(out, PV_TFTP_ACK);
    put16(out, block);
}

void pv_tftp_build_data(pv_buf *out, uint16_t block, const void *data, size_t len)
{
    put16(out, PV_TFTP_DATA);
    put16(out, block);
    pv_buf_append(out, data, len);
}

void pv_tftp_build_error(pv_buf *out, uint16_t code, const char *message)
{
    put16(out, PV_TFTP_ERROR);
    put16(out, code);
    put_string(out, pv_slice_from(message ? message : ""));
}

void pv_tftp_put_header(uint8_t *p, pv_tftp_opcode op, uint16_t block)
{
    p[0] = 0;
    p[1] = (uint8_t)op;
    p[2] = (uint8_t)(block >> 8);
    p[3] = (uint8_t)block;
}

size_t pv_tftp_netascii_encode(const uint8_t *in, size_t in_len, size_t *in_used, uint8_t *out,
                               size_t out_cap, int *pending)
{
    size_t i = 0, o = 0;
    while (o < out_cap) {
        if (*pending >= 0) {
            out[o++] = (uint8_t)*pending;
            *pending = -1;
            continue;
        }
        if (i == in_len)
            break;
        uint8_t c = in[i++];
        if (c == '\n') { /* RFC 764: end of line is CR LF */
            out[o++] = '\r';
            *pending = '\n';
        } else if (c == '\r') { /* RFC 764: a bare CR is CR NUL */
            out[o++] = '\r';
            *pending = '\0';
        } else {
            out[o++] = c;
        }
    }
    *in_used = i;
    return o;
}

size_t pv_tftp_netascii_decode(const uint8_t *in, size_t in_len, uint8_t *out, bool *cr)
{
    size_t o = 0;
    for (size_t i = 0; i < in_len; i++) {
        uint8_t c = in[i];
        if (*cr) {
            *cr = false;
            if (c == '\n') {
                out[o++] = '\n';
                continue;
            }
            out[o++] = '\r';
            if (c == '\0')
                continue;
            /* A CR followed by anything else is not netascii; keep both bytes. */
        }
        if (c == '\r')
            *cr = true;
        else
            out[o++] = c;
    }
    return o;
}
