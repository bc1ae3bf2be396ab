/* form.c — urlencoded fields, cookies, HTML escaping; see form.h. */
#include "core/form.h"

#include <string.h>

/* Decodes [p, end) into out; false on a malformed escape, a NUL or overflow. */
static bool decode(const char *p, const char *end, char *out, size_t size)
{
    size_t n = 0;
    while (p < end) {
        int c = (unsigned char)*p++;
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = end - p >= 2 ? pv_hex_value(p[0]) : -1, lo = end - p >= 2 ? pv_hex_value(p[1]) : -1;
            if (hi < 0 || lo < 0)
                return false;
            c = hi * 16 + lo;
            p += 2;
        }
        if (c == 0 || n + 1 >= size)
            return false;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return true;
}

bool pv_form_get(pv_slice body, const char *name, char *out, size_t size)
{
    if (size == 0)
        return false;
    size_t name_len = strlen(name);
    const char *p = body.ptr, *end = body.ptr + body.len;
    while (p != NULL && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *field_end = amp != NULL ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(field_end - p));
        const char *key_end = eq != NULL ? eq : field_end;
        /* names are ours and plain, so a raw comparison is enough */
        if ((size_t)(key_end - p) == name_len && memcmp(p, name, name_len) == 0)
            return decode(eq != NULL ? eq + 1 : field_end, field_end, out, size);
        p = amp != NULL ? amp + 1 : NULL;
    }
    return false;
}

bool pv_cookie_get(pv_slice header, const char *name, char *out, size_t size)
{
    size_t name_len = strlen(name);
    const char *p = header.ptr, *end = header.ptr + header.len;
    while (p != NULL && p < end) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *pair_end = semi != NULL ? semi : end;
        const char *eq = memchr(p, '=', (size_t)(pair_end - p));
        if (eq != NULL && (size_t)(eq - p) == name_len && memcmp(p, name, name_len) == 0) {
            const char *v = eq + 1, *v_end = pair_end;
            while (v_end > v && (v_end[-1] == ' ' || v_end[-1] == '\t'))
                v_end--;
            if ((size_t)(v_end - v) + 1 > size)
                return false;
            memcpy(out, v, (size_t)(v_end - v));
            out[v_end - v] = '\0';
            return true;
        }
        p = semi != NULL ? semi + 1 : NULL;
    }
    return false;
}

void pv_html_escape(pv_buf *out, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        switch (*s) {
        case '&':
            pv_buf_append_str(out, "&amp;");
            break;
        case '<':
            pv_buf_append_str(out, "&lt;");
            break;
        case '>':
            pv_buf_append_str(out, "&gt;");
            break;
        case '"':
            pv_buf_append_str(out, "&quot;");
            break;
        case '\'':
            pv_buf_append_str(out, "&#39;");
            break;
        default:
            pv_buf_append_char(out, *s);
        }
    }
}
