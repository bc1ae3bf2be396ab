/* multipart.c — a bounded, streaming multipart/form-data reader; see multipart.h. */
#include "core/multipart.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum {
    ST_PREAMBLE, /* before the first delimiter: ignored */
    ST_AFTER,    /* a delimiter read: "--" closes, padding and CRLF open a part */
    ST_AFTER_DASH,
    ST_AFTER_CR,
    ST_HEADERS, /* a part's header block, up to the empty line */
    ST_BODY,    /* a part's content, up to the next delimiter */
    ST_END,     /* after the closing delimiter: the epilogue, ignored */
};

#define PAD_MAX 64 /* transport padding after a delimiter (RFC 2046 §5.1.1: LWSP) */

/* RFC 2046 §5.1.1 bchars: DIGIT / ALPHA / "'()+_,-./:=?" and space (not last). */
static bool bchar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           strchr("'()+_,-./:=? ", c) != NULL;
}

static int fail(pv_multipart *m, pv_error *err, int code, const char *msg)
{
    m->failed = code;
    if (m->parts > 0)
        return pv_error_set(err, code, "multipart/form-data: part %zu: %s", m->parts, msg);
    return pv_error_set(err, code, "multipart/form-data: %s", msg);
}

/* ---- Content-Type and Content-Disposition parameters (RFC 2045 §5.1, RFC 7578 §4.2) ---- */

static size_t skip_ws(pv_slice s, size_t i)
{
    while (i < s.len && (s.ptr[i] == ' ' || s.ptr[i] == '\t'))
        i++;
    return i;
}

/* The parameter called name after the first ';' of s, quoted-string or token, into out: 1
 * found, 0 absent, -1 malformed or longer than size - 1 (names are compared case-blind). */
static int param(pv_slice s, const char *name, char *out, size_t size)
{
    size_t i = 0;
    while (i < s.len && s.ptr[i] != ';')
        i++;
    while (i < s.len) {
        i = skip_ws(s, i + 1); /* past ';' */
        size_t k = i;
        while (i < s.len && s.ptr[i] != '=' && s.ptr[i] != ';' && s.ptr[i] != ' ')
            i++;
        pv_slice key = pv_slice_make(s.ptr + k, i - k);
        i = skip_ws(s, i);
        if (i >= s.len || s.ptr[i] != '=')
            return -1;
        i = skip_ws(s, i + 1);
        size_t n = 0;
        bool want = pv_slice_case_eq_cstr(key, name);
        if (i < s.len && s.ptr[i] == '"') {
            for (i++; i < s.len && s.ptr[i] != '"'; i++) {
                if (s.ptr[i] == '\\' && i + 1 < s.len) /* quoted-pair */
                    i++;
                if (want && n + 1 >= size)
                    return -1;
                if (want)
                    out[n++] = s.ptr[i];
            }
            if (i >= s.len)
                return -1; /* no closing quote */
            i++;
        } else {
            for (; i < s.len && s.ptr[i] != ';' && s.ptr[i] != ' ' && s.ptr[i] != '\t'; i++) {
                if (want && n + 1 >= size)
                    return -1;
                if (want)
                    out[n++] = s.ptr[i];
            }
        }
        if (want) {
            out[n] = '\0';
            return 1;
        }
        i = skip_ws(s, i);
        if (i < s.len && s.ptr[i] != ';')
            return -1;
    }
    return 0;
}

int pv_multipart_boundary(pv_slice content_type, char out[PV_MULTIPART_BOUNDARY_MAX + 1],
                          pv_error *err)
{
    pv_slice t = pv_slice_trim(content_type);
    size_t n = 0;
    while (n < t.len && t.ptr[n] != ';' && t.ptr[n] != ' ')
        n++;
    if (!pv_slice_case_eq_cstr(pv_slice_make(t.ptr, n), "multipart/form-data"))
        return pv_error_set(err, PV_EFORMAT, "multipart/form-data expected, got '%.*s'",
                            (int)(n < 60 ? n : 60), t.ptr);
    int rc = param(t, "boundary", out, PV_MULTIPART_BOUNDARY_MAX + 1);
    size_t len = rc == 1 ? strlen(out) : 0;
    bool ok = rc == 1 && len > 0 && out[len - 1] != ' ';
    for (size_t i = 0; ok && i < len; i++)
        ok = bchar(out[i]);
    if (!ok)
        return pv_error_set(err, PV_ESYNTAX,
                            "multipart/form-data needs a boundary of 1 to %d characters "
                            "(RFC 2046 5.1.1)",
                            PV_MULTIPART_BOUNDARY_MAX);
    return 0;
}

/* ---- the reader ---- */

void pv_multipart_init(pv_multipart *m, const char *boundary, const pv_multipart_limits *limits,
                       const pv_multipart_callbacks *cb, void *data)
{
    static const pv_multipart_callbacks none = {0};
    memset(m, 0, sizeof *m);
    size_t b = strlen(boundary);
    if (b > PV_MULTIPART_BOUNDARY_MAX)
        b = PV_MULTIPART_BOUNDARY_MAX; /* pv_multipart_boundary refuses it before */
    memcpy(m->delim, "\r\n--", 4);
    memcpy(m->delim + 4, boundary, b);
    m->delim_len = 4 + b;
    /* the first delimiter may open the body: as if a CRLF came before it (RFC 2046 §5.1.1) */
    m->match = 2;
    m->state = ST_PREAMBLE;
    m->limits.max_parts = limits && limits->max_parts ? limits->max_parts : 16;
    m->limits.max_header_bytes =
        limits && limits->max_header_bytes ? limits->max_header_bytes : 1024;
    if (m->limits.max_header_bytes > PV_MULTIPART_HEADER_CAP)
        m->limits.max_header_bytes = PV_MULTIPART_HEADER_CAP;
    m->cb = cb ? cb : &none;
    m->data = data;
}

/* One header line of a part (without its CRLF). */
static int header_line(pv_multipart *m, pv_slice line, pv_error *err)
{
    const char *colon = memchr(line.ptr, ':', line.len);
    if (colon == NULL)
        return fail(m, err, PV_ESYNTAX, "a header line without ':'");
    pv_slice name = pv_slice_trim(pv_slice_make(line.ptr, (size_t)(colon - line.ptr)));
    pv_slice value = pv_slice_trim(pv_slice_make(colon + 1, (size_t)(line.ptr + line.len - colon - 1)));
    pv_multipart_part *p = &m->part;
    if (pv_slice_case_eq_cstr(name, "Content-Disposition")) {
        if (value.len < 9 || strncasecmp(value.ptr, "form-data", 9) != 0 ||
            (value.len > 9 && value.ptr[9] != ';' && value.ptr[9] != ' '))
            return fail(m, err, PV_ESYNTAX, "Content-Disposition is not form-data");
        int rc = param(value, "name", p->name, sizeof p->name);
        if (rc != 1)
            return fail(m, err, rc < 0 ? PV_ELIMIT : PV_ESYNTAX,
                        rc < 0 ? "a field name is malformed or longer than 100 bytes"
                               : "Content-Disposition names no field");
        rc = param(value, "filename", p->filename, sizeof p->filename);
        if (rc < 0)
            return fail(m, err, PV_ELIMIT, "a file name is malformed or longer than 255 bytes");
        p->has_filename = rc == 1;
    } else if (pv_slice_case_eq_cstr(name, "Content-Type")) {
        if (value.len > PV_MULTIPART_TYPE_MAX)
            return fail(m, err, PV_ELIMIT, "Content-Type is longer than 100 bytes");
        memcpy(p->content_type, value.ptr, value.len);
        p->content_type[value.len] = '\0';
    } /* other headers (Content-Transfer-Encoding is deprecated: RFC 7578 §4.7) are ignored */
    return 0;
}

/* The header block is complete (m->header, ending in the empty line). */
static int headers_done(pv_multipart *m, pv_error *err)
{
    const char *p = m->header, *end = m->header + m->header_len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)(eol - p);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        if (n > 0) {
            int rc = header_line(m, pv_slice_make(p, n), err);
            if (rc != 0)
                return rc;
        }
        p = eol + 1;
    }
    if (m->part.name[0] == '\0')
        return fail(m, err, PV_ESYNTAX, "no Content-Disposition with a field name");
    return m->cb->part_begin ? m->cb->part_begin(m->data, &m->part, err) : 0;
}

static int open_part(pv_multipart *m, pv_error *err)
{
    if (m->parts == m->limits.max_parts)
    {
        char msg[64];
        snprintf(msg, sizeof msg, "more than %zu parts", m->limits.max_parts);
        return fail(m, err, PV_ELIMIT, msg);
    }
    m->parts++;
    memset(&m->part, 0, sizeof m->part);
    m->part.index = m->parts;
    m->header_len = 0;
    m->state = ST_HEADERS;
    return 0;
}

static int data(pv_multipart *m, const char *p, size_t n, pv_error *err)
{
    if (n == 0 || m->state != ST_BODY || m->cb->part_data == NULL)
        return 0;
    return m->cb->part_data(m->data, &m->part, p, n, err);
}

/* A whole delimiter was matched. */
static int delimiter(pv_multipart *m, pv_error *err)
{
    int rc = 0;
    if (m->state == ST_BODY && m->cb->part_end)
        rc = m->cb->part_end(m->data, &m->part, err);
    m->state = ST_AFTER;
    m->pad = 0;
    m->match = 0;
    return rc;
}

/* Preamble or body: bytes up to the next delimiter; returns the bytes used. */
static size_t scan(pv_multipart *m, const char *p, size_t n, int *rc, pv_error *err)
{
    size_t i = 0, run = 0; /* p[run..i) is content not yet handed over */
    while (i < n) {
        if (m->match == 0) {
            const char *cr = memchr(p + i, '\r', n - i);
            if (cr == NULL) {
                i = n;
                break;
            }
            i = (size_t)(cr - p);
        }
        if (p[i] == m->delim[m->match]) {
            if (m->match == 0 && (*rc = data(m, p + run, i - run, err)) != 0)
                return i;
            m->match++;
            i++;
            run = i;
            if (m->match == m->delim_len) {
                *rc = delimiter(m, err);
                return i;
            }
            continue;
        }
        /* a false start: what it matched was content (delim's own bytes); the current byte
         * may start a new one (only '\r' can: bchars hold no CR) */
        if ((*rc = data(m, m->delim, m->match, err)) != 0)
            return i;
        m->match = 0;
        run = i;
        if (p[i] != '\r')
            i++;
    }
    if (m->match == 0)
        *rc = data(m, p + run, i - run, err);
    return i;
}

int pv_multipart_feed(pv_multipart *m, const char *p, size_t n, pv_error *err)
{
    if (m->failed)
        return pv_error_set(err, m->failed, "multipart/form-data: the reader stopped already");
    size_t i = 0;
    int rc = 0;
    while (rc == 0 && i < n) {
        char c = p[i];
        switch (m->state) {
        case ST_PREAMBLE:
        case ST_BODY:
            i += scan(m, p + i, n - i, &rc, err);
            break;
        case ST_AFTER:
            i++;
            if (c == '-')
                m->state = ST_AFTER_DASH;
            else if (c == '\r')
                m->state = ST_AFTER_CR;
            else if ((c == ' ' || c == '\t') && ++m->pad <= PAD_MAX)
                ;
            else
                rc = fail(m, err, PV_ESYNTAX,
                          "a delimiter is followed by something other than CRLF or '--'");
            break;
        case ST_AFTER_DASH:
            i++;
            if (c == '-')
                m->state = ST_END;
            else
                rc = fail(m, err, PV_ESYNTAX, "a delimiter is followed by a single '-'");
            break;
        case ST_AFTER_CR:
            i++;
            if (c == '\n')
                rc = open_part(m, err);
            else
                rc = fail(m, err, PV_ESYNTAX, "a delimiter's line ends in CR without LF");
            break;
        case ST_HEADERS: {
            if (m->header_len == m->limits.max_header_bytes) {
                char msg[64];
                snprintf(msg, sizeof msg, "its headers are longer than %zu bytes",
                         m->limits.max_header_bytes);
                return fail(m, err, PV_ELIMIT, msg);
            }
            m->header[m->header_len++] = c;
            i++;
            size_t h = m->header_len;
            bool empty = (h == 2 && memcmp(m->header, "\r\n", 2) == 0) ||
                         (h >= 4 && memcmp(m->header + h - 4, "\r\n\r\n", 4) == 0);
            if (empty) {
                m->state = ST_BODY;
                m->match = 0;
                rc = headers_done(m, err);
            }
            break;
        }
        case ST_END:
            return 0; /* the epilogue */
        }
    }
    if (rc != 0 && !m->failed)
        m->failed = rc;
    return rc;
}

int pv_multipart_finish(pv_multipart *m, pv_error *err)
{
    if (m->failed)
        return m->failed;
    if (m->state != ST_END)
        return fail(m, err, PV_ETRUNC, "the body ends before the closing delimiter");
    return 0;
}

int pv_multipart_parse(pv_slice content_type, pv_slice body, const pv_multipart_limits *limits,
                       const pv_multipart_callbacks *cb, void *data, pv_error *err)
{
    char boundary[PV_MULTIPART_BOUNDARY_MAX + 1];
    int rc = pv_multipart_boundary(content_type, boundary, err);
    if (rc != 0)
        return rc;
    pv_multipart m;
    pv_multipart_init(&m, boundary, limits, cb, data);
    rc = pv_multipart_feed(&m, body.ptr, body.len, err);
    return rc != 0 ? rc : pv_multipart_finish(&m, err);
}

/* ---- one plain field ---- */

typedef struct field_find {
    const char *name;
    char *out;
    size_t size, len;
    int state; /* 0 looking, 1 in the field, 2 found, -1 too long */
} field_find;

static int find_begin(void *data, const pv_multipart_part *part, pv_error *err)
{
    (void)err;
    field_find *f = data;
    if (f->state == 0 && !part->has_filename && strcmp(part->name, f->name) == 0)
        f->state = 1;
    return 0;
}

static int find_data(void *data, const pv_multipart_part *part, const char *bytes, size_t len,
                     pv_error *err)
{
    (void)part;
    (void)err;
    field_find *f = data;
    if (f->state != 1)
        return 0;
    if (len >= f->size - f->len) {
        f->state = -1;
        return 0;
    }
    memcpy(f->out + f->len, bytes, len);
    f->len += len;
    return 0;
}

static int find_end(void *data, const pv_multipart_part *part, pv_error *err)
{
    (void)part;
    field_find *f = data;
    if (f->state == 1) {
        f->out[f->len] = '\0';
        f->state = 2;
        return pv_error_set(err, PV_EEXIST, "found"); /* stop reading: it is all we want */
    }
    return 0;
}

bool pv_multipart_field(pv_slice content_type, pv_slice body, const char *name, char *out,
                        size_t size)
{
    if (size == 0)
        return false;
    static const pv_multipart_callbacks cb = {find_begin, find_data, find_end};
    field_find f = {.name = name, .out = out, .size = size};
    pv_error err = {""};
    (void)pv_multipart_parse(content_type, body, NULL, &cb, &f, &err);
    if (f.state != 2)
        out[0] = '\0';
    return f.state == 2;
}
