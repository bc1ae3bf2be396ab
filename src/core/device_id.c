/* device_id.c — MACs, User-Agents and MACs in paths; see device_id.h. */
#include "core/device_id.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool is_hex(char c)
{
    return isxdigit((unsigned char)c) != 0;
}

int pv_mac_parse(pv_slice text, pv_mac *out, pv_error *err)
{
    text = pv_slice_trim(text);
    size_t digits = 0;
    char separator = 0;
    for (size_t i = 0; i < text.len; i++) {
        char c = text.ptr[i];
        if (is_hex(c)) {
            if (digits == 12)
                return pv_error_set(err, PV_EINVAL, "MAC address has more than 12 hex digits");
            out->hex[digits++] = (char)tolower((unsigned char)c);
            continue;
        }
        if (c != ':' && c != '-' && c != '.')
            return pv_error_set(err, PV_EINVAL, "MAC address: unexpected '%c' at column %zu",
                                isprint((unsigned char)c) ? c : '?', i + 1);
        /* One kind of separator, never doubled or at either end. */
        if ((separator != 0 && c != separator) || i == 0 || i + 1 == text.len ||
            !is_hex(text.ptr[i - 1]))
            return pv_error_set(err, PV_EINVAL, "MAC address: misplaced '%c' at column %zu", c,
                                i + 1);
        separator = c;
    }
    if (digits != 12)
        return pv_error_set(err, PV_EINVAL, "MAC address needs 12 hex digits, found %zu", digits);
    out->hex[12] = '\0';
    return 0;
}

void pv_mac_format_upper(const pv_mac *mac, char buf[13])
{
    for (int i = 0; i < 12; i++)
        buf[i] = (char)toupper((unsigned char)mac->hex[i]);
    buf[12] = '\0';
}

void pv_mac_format_colons(const pv_mac *mac, char buf[18])
{
    for (int i = 0, j = 0; i < 12; i += 2) {
        if (i > 0)
            buf[j++] = ':';
        buf[j++] = mac->hex[i];
        buf[j++] = mac->hex[i + 1];
    }
    buf[17] = '\0';
}

/* Copies s into a fixed field, refusing what does not fit. */
static bool copy_field(char *dst, size_t cap, pv_slice s)
{
    if (s.len >= cap)
        return false;
    memcpy(dst, s.ptr, s.len);
    dst[s.len] = '\0';
    return true;
}

/* The parenthesised groups after the product/version token: "(a)(b)" or "(a) (b)". */
static size_t paren_groups(pv_slice rest, pv_slice groups[], size_t max)
{
    size_t n = 0, i = 0;
    while (i < rest.len && n < max) {
        while (i < rest.len && rest.ptr[i] == ' ')
            i++;
        if (i >= rest.len || rest.ptr[i] != '(')
            return (size_t)-1;
        size_t start = ++i;
        while (i < rest.len && rest.ptr[i] != ')' && rest.ptr[i] != '(')
            i++;
        if (i >= rest.len || rest.ptr[i] != ')')
            return (size_t)-1;
        groups[n++] = pv_slice_make(rest.ptr + start, i - start);
        i++;
    }
    while (i < rest.len && rest.ptr[i] == ' ')
        i++;
    return i == rest.len ? n : (size_t)-1;
}

static bool all_hex12(pv_slice s)
{
    if (s.len != 12)
        return false;
    for (size_t i = 0; i < 12; i++) {
        if (!is_hex(s.ptr[i]))
            return false;
    }
    return true;
}

static bool is_serial(pv_slice s)
{
    if (s.len == 0 || s.len > 31)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        if (!isalnum((unsigned char)s.ptr[i]))
            return false;
    }
    return true;
}

/* Splits "SPA508G-7.4.4" or "SPA-942-6.1.5(a)" at the last '-' before a digit-led version. */
static bool split_model_version(pv_slice token, pv_slice *model, pv_slice *version)
{
    for (size_t i = token.len; i-- > 1;) {
        if (token.ptr[i] == '-' && i + 1 < token.len && isdigit((unsigned char)token.ptr[i + 1])) {
            /* "SPA-942-6.1.5": the version is the part with a dot. */
            pv_slice v = pv_slice_make(token.ptr + i + 1, token.len - i - 1);
            if (memchr(v.ptr, '.', v.len) == NULL)
                continue;
            *model = pv_slice_make(token.ptr, i);
            *version = v;
            return true;
        }
    }
    return false;
}

static int parse_groups(pv_user_agent *ua, pv_slice rest, pv_error *err)
{
    pv_slice groups[3];
    size_t n = paren_groups(rest, groups, 3);
    if (n == (size_t)-1 || n > 2)
        return pv_error_set(err, PV_EFORMAT, "User-Agent: malformed parenthesised part");
    for (size_t i = 0; i < n; i++) {
        /* MPP puts the MAC there; SPA puts an optional MAC first, then the serial. */
        if (all_hex12(groups[i]) && !ua->has_mac && (ua->family != PV_FAMILY_ATA) &&
            !(ua->family == PV_FAMILY_SPA && n == 1 && ua->vendor[0] == 'L')) {
            pv_mac_parse(groups[i], &ua->mac, NULL);
            ua->has_mac = true;
        } else if (is_serial(groups[i]) && ua->serial[0] == '\0') {
            copy_field(ua->serial, sizeof ua->serial, groups[i]);
        } else {
            return pv_error_set(err, PV_EFORMAT, "User-Agent: unexpected '(" PV_SLICE_FMT ")'",
                                PV_SLICE_ARG(groups[i]));
        }
    }
    return 0;
}

int pv_user_agent_parse(pv_slice header, pv_user_agent *ua, pv_error *err)
{
    memset(ua, 0, sizeof *ua);
    header = pv_slice_trim(header);
    const char *space = memchr(header.ptr, ' ', header.len);
    pv_slice product = pv_slice_make(header.ptr, space ? (size_t)(space - header.ptr) : header.len);
    pv_slice rest = pv_slice_make(product.ptr + product.len, header.len - product.len);
    const char *slash = memchr(product.ptr, '/', product.len);
    if (slash == NULL)
        return pv_error_set(err, PV_EFORMAT, "User-Agent: not a phone (no product/version)");
    pv_slice vendor_part = pv_slice_make(product.ptr, (size_t)(slash - product.ptr));
    pv_slice after = pv_slice_make(slash + 1, product.len - vendor_part.len - 1);
    pv_slice model, version;

    if (pv_slice_starts_with(vendor_part, "Cisco-") && vendor_part.len > 6) {
        /* MPP: Cisco-CP-8841-3PCC/11.0 (00562b043615) */
        ua->family = PV_FAMILY_MPP;
        model = pv_slice_make(vendor_part.ptr + 6, vendor_part.len - 6);
        version = after;
        strcpy(ua->vendor, "Cisco");
    } else if (pv_slice_eq_cstr(vendor_part, "Cisco") || pv_slice_eq_cstr(vendor_part, "Linksys")) {
        copy_field(ua->vendor, sizeof ua->vendor, vendor_part);
        const char *mpp = NULL;
        for (size_t i = 0; i + 5 <= after.len; i++) {
            if (memcmp(after.ptr + i, "-MPP-", 5) == 0) {
                mpp = after.ptr + i;
                break;
            }
        }
        if (mpp != NULL) {
            /* ATA MPP: Cisco/ATA191-MPP-11-1-0-MSR4 (FCH2443D9R4) */
            ua->family = PV_FAMILY_ATA;
            model = pv_slice_make(after.ptr, (size_t)(mpp - after.ptr));
            version = pv_slice_make(mpp + 5, after.len - (size_t)(mpp - after.ptr) - 5);
        } else {
            ua->family = PV_FAMILY_SPA;
            if (!split_model_version(after, &model, &version))
                return pv_error_set(err, PV_EFORMAT, "User-Agent: no model-version in '%.*s'",
                                    (int)(after.len > 40 ? 40 : after.len), after.ptr);
        }
    } else {
        return pv_error_set(err, PV_EFORMAT, "User-Agent: not a known phone vendor");
    }
    if (model.len == 0 || version.len == 0 || !copy_field(ua->model, sizeof ua->model, model) ||
        !copy_field(ua->version, sizeof ua->version, version))
        return pv_error_set(err, PV_EFORMAT, "User-Agent: model or version missing or too long");
    return parse_groups(ua, rest, err);
}

bool pv_mac_from_path(pv_slice path, pv_mac *out)
{
    const char *base = path.ptr;
    for (size_t i = 0; i < path.len; i++) {
        if (path.ptr[i] == '/')
            base = path.ptr + i + 1;
    }
    size_t len = path.len - (size_t)(base - path.ptr);
    const char *dot = memchr(base, '.', len);
    size_t stem = dot ? (size_t)(dot - base) : len;
    /* Skip a short alphabetic prefix such as "spa" or "cisco". */
    size_t prefix = 0;
    while (prefix < stem && isalpha((unsigned char)base[prefix]) && prefix < 8)
        prefix++;
    for (size_t start = 0; start <= prefix; start++) {
        if (stem - start == 12 && all_hex12(pv_slice_make(base + start, 12)))
            return pv_mac_parse(pv_slice_make(base + start, 12), out, NULL) == 0;
    }
    return false;
}
