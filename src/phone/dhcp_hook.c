/*
 * dhcp_hook.c — udhcpc's environment and the lease file (see dhcp_hook.h).
 */
#include "phone/dhcp_hook.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned codes[PV_DHCP_OPTIONS] = {66, 150, 159, 160};

static int slot_of(unsigned code)
{
    for (int i = 0; i < PV_DHCP_OPTIONS; i++) {
        if (codes[i] == code)
            return i;
    }
    return -1;
}

/* busybox exports an unnamed option as hex (udhcpc: bin2hex); DHCP caps it at 255 bytes. */
static int unhex(const char *hex, unsigned char *out, size_t *len, unsigned code, pv_error *err)
{
    size_t n = strlen(hex);
    if (n % 2 != 0 || n / 2 > 255)
        return pv_error_set(err, PV_ESYNTAX,
                            "opt%u: %zu hex digits, expected an even number "
                            "of at most 510",
                            code, n);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = pv_hex_value(hex[2 * i]), lo = pv_hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return pv_error_set(err, PV_ESYNTAX, "opt%u: '%c' at position %zu is not hex", code,
                                hi < 0 ? hex[2 * i] : hex[2 * i + 1], 2 * i + (hi >= 0) + 1);
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    *len = n / 2;
    return 0;
}

static bool printable(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e)
            return false;
    }
    return n > 0;
}

/* Option 150 (and 159 given as an address) carries IPv4 addresses, 4 bytes each. */
static void addresses(const unsigned char *b, size_t n, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i + 4 <= n && used < size; i += 4) {
        int w = snprintf(out + used, size - used, "%s%u.%u.%u.%u", i ? "," : "", b[i], b[i + 1],
                         b[i + 2], b[i + 3]);
        if (w < 0 || (size_t)w >= size - used) {
            out[used] = '\0'; /* cannot happen with 255 bytes in 256; keep whole entries */
            return;
        }
        used += (size_t)w;
    }
}

static int decode_opt(unsigned code, const char *hex, char *out, size_t size, pv_error *err)
{
    unsigned char b[256];
    size_t n;
    int rc = unhex(hex, b, &n, code, err);
    if (rc != 0)
        return rc;
    if (n == 0) {
        out[0] = '\0';
        return 0;
    }
    if (code == 150 || (code == 159 && n % 4 == 0 && !printable(b, n))) {
        if (n % 4 != 0)
            return pv_error_set(err, PV_ESYNTAX,
                                "opt%u: %zu bytes, expected IPv4 addresses (4 bytes each)", code,
                                n);
        addresses(b, n, out, size);
        return 0;
    }
    if (!printable(b, n)) /* 66, 159, 160: a name, an address or a URL in text */
        return pv_error_set(err, PV_ESYNTAX, "opt%u: not printable text", code);
    memcpy(out, b, n);
    out[n] = '\0';
    return 0;
}

static int copy_text(const char *name, const char *v, char *out, size_t size, pv_error *err)
{
    while (isspace((unsigned char)*v))
        v++;
    size_t n = strlen(v);
    while (n > 0 && isspace((unsigned char)v[n - 1]))
        n--;
    if (n >= size)
        return pv_error_set(err, PV_ETOOBIG, "%s: %zu bytes, at most %zu", name, n, size - 1);
    if (!printable((const unsigned char *)v, n) && n > 0)
        return pv_error_set(err, PV_ESYNTAX, "%s: not printable text", name);
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

int pv_dhcp_lease_from_env(char *const *envp, pv_dhcp_lease *out, pv_error *err)
{
    memset(out, 0, sizeof *out);
    char siaddr[64] = "";
    for (char *const *e = envp; *e != NULL; e++) {
        const char *eq = strchr(*e, '=');
        if (eq == NULL)
            continue;
        size_t nl = (size_t)(eq - *e);
        const char *v = eq + 1;
        int rc = 0;
        if (nl == 2 && strncmp(*e, "ip", 2) == 0) {
            rc = copy_text("ip", v, out->ip, sizeof out->ip, err);
        } else if (nl == 4 && strncmp(*e, "tftp", 4) == 0) { /* option 66 by name */
            rc = copy_text("tftp", v, out->value[0], sizeof out->value[0], err);
        } else if (nl == 6 && strncmp(*e, "siaddr", 6) == 0) {
            rc = copy_text("siaddr", v, siaddr, sizeof siaddr, err);
        } else if (nl > 3 && nl <= 6 && strncmp(*e, "opt", 3) == 0) {
            char num[4] = "";
            memcpy(num, *e + 3, nl - 3);
            char *end;
            unsigned long code = strtoul(num, &end, 10);
            int slot = *end == '\0' && end != num ? slot_of((unsigned)code) : -1;
            if (slot >= 0)
                rc = decode_opt((unsigned)code, v, out->value[slot], sizeof out->value[slot], err);
        }
        if (rc != 0)
            return rc;
    }
    /* No option 66: the BOOTP next-server field names the TFTP server (inferred; what
     * udhcpc calls siaddr, 0.0.0.0 when the server set none). */
    if (out->value[0][0] == '\0' && siaddr[0] != '\0' && strcmp(siaddr, "0.0.0.0") != 0)
        memcpy(out->value[0], siaddr, strlen(siaddr) + 1);
    return 0;
}

void pv_dhcp_lease_format(const pv_dhcp_lease *l, pv_buf *out)
{
    if (l->ip[0])
        pv_buf_appendf(out, "ip=%s\n", l->ip);
    for (size_t i = 0; i < PV_DHCP_OPTIONS; i++) {
        if (l->value[i][0])
            pv_buf_appendf(out, "%u=%s\n", codes[i], l->value[i]);
    }
}

int pv_dhcp_lease_parse(const char *text, pv_dhcp_lease *out, pv_error *err)
{
    memset(out, 0, sizeof *out);
    unsigned line = 1;
    for (const char *p = text; *p != '\0'; line++) {
        size_t n = strcspn(p, "\n");
        const char *eq = memchr(p, '=', n);
        if (n > 0 && eq == NULL)
            return pv_error_set(err, PV_ESYNTAX, "lease line %u: expected name=value", line);
        if (n > 0) {
            char name[8] = "";
            size_t kl = (size_t)(eq - p), vl = n - kl - 1;
            if (kl >= sizeof name)
                return pv_error_set(err, PV_ESYNTAX, "lease line %u: unknown name", line);
            memcpy(name, p, kl);
            char *dst = NULL;
            size_t size = 0;
            if (strcmp(name, "ip") == 0) {
                dst = out->ip;
                size = sizeof out->ip;
            } else {
                int slot = slot_of((unsigned)strtoul(name, NULL, 10));
                if (slot < 0)
                    return pv_error_set(err, PV_ESYNTAX,
                                        "lease line %u: '%s', expected ip, 66, 150, 159 or 160",
                                        line, name);
                dst = out->value[slot];
                size = sizeof out->value[slot];
            }
            if (vl >= size)
                return pv_error_set(err, PV_ETOOBIG, "lease line %u: value over %zu bytes", line,
                                    size - 1);
            memcpy(dst, eq + 1, vl);
            dst[vl] = '\0';
        }
        p += n + (p[n] == '\n');
    }
    return 0;
}

void pv_dhcp_lease_apply(const pv_dhcp_lease *l, pv_agent *a)
{
    if (l->ip[0])
        pv_agent_set_ip(a, l->ip, NULL);
    for (size_t i = 0; i < PV_DHCP_OPTIONS; i++)
        pv_agent_set_dhcp_option(a, codes[i], l->value[i]); /* "" clears */
}
