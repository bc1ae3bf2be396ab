/* buf.c — slices and growable buffers; see buf.h. */
#include "core/buf.h"

#include "core/alloc.h"

#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

pv_slice pv_slice_from(const char *cstr)
{
    return (pv_slice){cstr, cstr ? strlen(cstr) : 0};
}

pv_slice pv_slice_make(const void *ptr, size_t len)
{
    return (pv_slice){ptr, len};
}

bool pv_slice_eq(pv_slice a, pv_slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool pv_slice_eq_cstr(pv_slice a, const char *b)
{
    return pv_slice_eq(a, pv_slice_from(b));
}

bool pv_slice_case_eq_cstr(pv_slice a, const char *b)
{
    size_t n = strlen(b);
    return a.len == n && (n == 0 || strncasecmp(a.ptr, b, n) == 0);
}

bool pv_slice_starts_with(pv_slice s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.len >= n && memcmp(s.ptr, prefix, n) == 0;
}

bool pv_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

void pv_hex_encode(const void *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = in;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int pv_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

pv_slice pv_slice_trim(pv_slice s)
{
    while (s.len > 0 && pv_is_space(s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len > 0 && pv_is_space(s.ptr[s.len - 1]))
        s.len--;
    return s;
}

char *pv_slice_dup(pv_slice s)
{
    return pv_memdup0(s.ptr, s.len);
}

void pv_buf_init(pv_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void pv_buf_free(pv_buf *b)
{
    free(b->data);
    pv_buf_init(b);
}

void pv_buf_reset(pv_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

void pv_buf_reserve(pv_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap * 2 > cap ? cap * 2 : need;
    bool fresh = b->data == NULL;
    b->data = pv_realloc(b->data, cap);
    b->cap = cap;
    if (fresh)
        b->data[0] = '\0';
}

void pv_buf_append(pv_buf *b, const void *data, size_t len)
{
    pv_buf_reserve(b, len);
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void pv_buf_append_char(pv_buf *b, char c)
{
    pv_buf_append(b, &c, 1);
}

void pv_buf_append_str(pv_buf *b, const char *s)
{
    pv_buf_append(b, s, strlen(s));
}

void pv_buf_append_slice(pv_buf *b, pv_slice s)
{
    pv_buf_append(b, s.ptr, s.len);
}

void pv_buf_appendf(pv_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        pv_buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
        b->len += (size_t)n;
    }
    va_end(again);
}

size_t pv_vformat_cut(char *dst, size_t size, const char *fmt, va_list ap)
{
    assert(size > 0);
    int n = vsnprintf(dst, size, fmt, ap);
    if (n < 0) {
        dst[0] = '\0';
        return 0;
    }
    return (size_t)n < size ? (size_t)n : size - 1; /* vsnprintf NUL-terminated the cut */
}

char *pv_buf_take(pv_buf *b, size_t *len)
{
    if (b->data == NULL)
        pv_buf_reserve(b, 0);
    char *data = b->data;
    if (len != NULL)
        *len = b->len;
    pv_buf_init(b);
    return data;
}

pv_slice pv_buf_slice(const pv_buf *b)
{
    return (pv_slice){b->data ? b->data : "", b->len};
}
