/* url.c — rule URLs with tftp/69/80/443 defaults; see url.h. */
#include "core/url.h"

#include "core/alloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    uint16_t port;
} schemes[] = {
    [PV_SCHEME_TFTP] = {"tftp", 69}, /* spec 1.2 */
    [PV_SCHEME_HTTP] = {"http", 80},
    [PV_SCHEME_HTTPS] = {"https", 443},
};

const char *pv_scheme_name(pv_scheme s)
{
    return s <= PV_SCHEME_HTTPS ? schemes[s].name : "?";
}

uint16_t pv_scheme_default_port(pv_scheme s)
{
    return s <= PV_SCHEME_HTTPS ? schemes[s].port : 0;
}

static int expected(pv_slice t, size_t pos, size_t col_base, const char *what, pv_error *err)
{
    if (pos >= t.len)
        return pv_error_set(err, PV_ESYNTAX, "column %zu: expected %s, found the end",
                            col_base + pos + 1, what);
    return pv_error_set(err, PV_ESYNTAX, "column %zu: expected %s, found '%c'", col_base + pos + 1,
                        what, t.ptr[pos]);
}

static bool host_char(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

static int parse_scheme(pv_slice t, size_t col_base, pv_url *u, size_t *pos, pv_error *err)
{
    const char *sep = NULL;
    for (size_t i = 0; i + 2 < t.len && t.ptr[i] != '/'; i++) {
        if (t.ptr[i] == ':' && t.ptr[i + 1] == '/' && t.ptr[i + 2] == '/') {
            sep = t.ptr + i;
            break;
        }
    }
    if (sep == NULL)
        return 0; /* spec 1.2: scheme omitted → tftp */
    size_t n = (size_t)(sep - t.ptr);
    if (n == 3 && strncasecmp(t.ptr, "gds", 3) == 0) {
        if (t.len != 6) /* spec 1.1: `gds://` is a whole, reserved value */
            return expected(t, 6, col_base, "nothing after the reserved 'gds://'", err);
        u->gds = true;
        *pos = 6;
        return 0;
    }
    for (int s = PV_SCHEME_TFTP; s <= PV_SCHEME_HTTPS; s++) {
        if (n == strlen(schemes[s].name) && strncasecmp(t.ptr, schemes[s].name, n) == 0) {
            u->scheme = (pv_scheme)s;
            u->scheme_given = true;
            *pos = n + 3;
            return 0;
        }
    }
    return pv_error_set(err, PV_ESYNTAX,
                        "column %zu: unknown scheme '%.*s', expected tftp, http or https",
                        col_base + 1, (int)(n > 32 ? 32 : n), t.ptr);
}

static int parse_host(pv_slice t, size_t col_base, pv_url *u, size_t *pos, pv_error *err)
{
    size_t p = *pos, start = p;
    if (p < t.len && t.ptr[p] == '[') { /* RFC 3986 §3.2.2: IP-literal */
        p++;
        while (p < t.len &&
               (isxdigit((unsigned char)t.ptr[p]) || t.ptr[p] == ':' || t.ptr[p] == '.'))
            p++;
        if (p == start + 1 || p >= t.len || t.ptr[p] != ']')
            return expected(t, p, col_base, "an IPv6 address and ']'", err);
        u->host = pv_strndup(t.ptr + start + 1, p - start - 1);
        u->ipv6 = true;
        p++;
    } else {
        while (p < t.len && host_char(t.ptr[p]))
            p++;
        u->host = pv_strndup(t.ptr + start, p - start);
    }
    if (p == start) {
        u->dhcp_host = true; /* spec 1.2: server omitted → DHCP's server */
    } else if (p < t.len && t.ptr[p] == ':') {
        p++;
        size_t ps = p;
        unsigned long port = 0;
        while (p < t.len && isdigit((unsigned char)t.ptr[p]) && p - ps < 6)
            port = port * 10 + (unsigned long)(t.ptr[p++] - '0');
        if (p == ps || port == 0 || port > 65535 || (p < t.len && isdigit((unsigned char)t.ptr[p])))
            return expected(t, ps, col_base, "a port number 1-65535", err);
        u->port = (uint16_t)port;
        u->port_given = true;
    }
    *pos = p;
    return 0;
}

int pv_url_parse(pv_slice t, size_t col_base, pv_url *u, pv_error *err)
{
    memset(u, 0, sizeof *u);
    size_t pos = 0;
    int rc = parse_scheme(t, col_base, u, &pos, err);
    if (rc != 0 || u->gds)
        return rc;
    if (pos < t.len && t.ptr[pos] == '/' && !u->scheme_given) {
        u->host = pv_strdup(""); /* `/path`: no server */
        u->dhcp_host = true;
    } else {
        rc = parse_host(t, col_base, u, &pos, err);
        if (rc != 0)
            goto fail;
    }
    if (!u->port_given)
        u->port = pv_scheme_default_port(u->scheme); /* spec 1.2: 69, 80, 443 */
    if (pos >= t.len || t.ptr[pos] != '/') {
        rc = expected(t, pos, col_base, "an absolute file path starting with '/'", err);
        goto fail;
    }
    size_t start = pos;
    for (; pos < t.len; pos++) {
        unsigned char c = (unsigned char)t.ptr[pos];
        if (c <= ' ' || c == 0x7f) {
            rc = pv_error_set(err, PV_ESYNTAX,
                              "column %zu: control character or space in the URL path",
                              col_base + pos + 1);
            goto fail;
        }
    }
    const char *q = memchr(t.ptr + start, '?', t.len - start);
    size_t plen = q ? (size_t)(q - t.ptr) - start : t.len - start;
    u->path = pv_strndup(t.ptr + start, plen);
    if (q != NULL)
        u->query = pv_strndup(q + 1, t.len - start - plen - 1);
    return 0;
fail:
    pv_url_free(u);
    return rc;
}

void pv_url_free(pv_url *u)
{
    free(u->host);
    free(u->path);
    free(u->query);
    memset(u, 0, sizeof *u);
}

void pv_url_format(const pv_url *u, pv_buf *out)
{
    if (u->gds) {
        pv_buf_append_str(out, "gds://");
        return;
    }
    pv_buf_appendf(out, "%s://%s%s%s", pv_scheme_name(u->scheme), u->ipv6 ? "[" : "",
                   u->host ? u->host : "", u->ipv6 ? "]" : "");
    if (u->port_given)
        pv_buf_appendf(out, ":%u", (unsigned)u->port);
    pv_buf_append_str(out, u->path ? u->path : "");
    if (u->query != NULL)
        pv_buf_appendf(out, "?%s", u->query);
}
