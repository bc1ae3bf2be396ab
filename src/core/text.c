/* text.c — UTF-8 without control characters; see text.h. */
#include "core/text.h"

#include <stdbool.h>
#include <stdint.h>

static int32_t decode(const unsigned char *s, size_t len, size_t i, size_t *n)
{
    unsigned char b = s[i];
    size_t k;
    uint32_t cp;
    if (b < 0x80) {
        *n = 1;
        return b;
    }
    if (b >= 0xC2 && b <= 0xDF) {
        k = 1;
        cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        k = 2;
        cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        k = 3;
        cp = b & 0x07;
    } else {
        return -1;
    }
    if (len - i <= k)
        return -1;
    for (size_t j = 1; j <= k; j++) {
        if ((s[i + j] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (s[i + j] & 0x3F);
    }
    if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *n = k + 1;
    return (int32_t)cp;
}

int32_t pv_utf8_decode(pv_slice s, size_t i, size_t *n)
{
    return decode((const unsigned char *)s.ptr, s.len, i, n);
}

static bool refused(int32_t cp, unsigned flags)
{
    if (cp < 0 || cp == 0xFFFE || cp == 0xFFFF)
        return true;
    if (cp == '\t' || cp == '\n' || cp == '\r')
        return (flags & PV_TEXT_ONE_LINE) != 0;
    if (cp < 0x20)
        return true; /* XML 1.0 §2.2 Char */
    return (flags & PV_TEXT_CONTROLS) != 0 && cp >= 0x7F && cp <= 0x9F;
}

size_t pv_text_bad_at(pv_slice s, unsigned flags)
{
    const unsigned char *p = (const unsigned char *)s.ptr;
    for (size_t i = 0, n = 0; i < s.len; i += n) {
        if (refused(decode(p, s.len, i, &n), flags))
            return i;
    }
    return s.len;
}

int pv_text_check(pv_slice s, unsigned flags, const char *field, pv_error *err)
{
    size_t at = pv_text_bad_at(s, flags);
    if (at == s.len)
        return 0;
    size_t n = 1;
    int32_t cp = decode((const unsigned char *)s.ptr, s.len, at, &n);
    if (cp < 0 || cp == 0xFFFE || cp == 0xFFFF)
        return pv_error_set(err, PV_EINVAL,
                            "%s: byte %zu is not UTF-8 text (0x%02x); expected UTF-8 text "
                            "without control characters",
                            field, at + 1, (unsigned char)s.ptr[at]);
    return pv_error_set(err, PV_EINVAL,
                        "%s: byte %zu is a control character (U+%04X); expected %stext "
                        "without control characters",
                        field, at + 1, (unsigned)cp,
                        flags & PV_TEXT_ONE_LINE ? "one line of " : "UTF-8 ");
}
