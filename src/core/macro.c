/* macro.c — one-pass `$NAME` expansion; see macro.h. */
#include "core/macro.h"

#include "core/alloc.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* spec 2.2: every provisioning macro name except A..P, SA..SD and UIDn. */
static const char *const standard_names[] = {
    "MA",      "MAU",     "MAC",     "PN",     "PSN",   "SN",     "CCERT",    "IP",
    "EXTIP",   "SWVER",   "HWVER",   "PRVST",  "UPGST", "UPGERR", "PRVTMR",   "UPGTMR",
    "REGTMR1", "REGTMR2", "UPGCOND", "SCHEME", "METH",  "SERV",   "SERVIP",   "PORT",
    "PATH",    "ERR",     "ISCUST",  "EMS",    "MUID",  "MPWD",   "ORIGTYPE", "AUTHSTATUS",
};

bool pv_macro_is_secret(pv_slice name)
{
    /* spec 12.1: GPP_SA..GPP_SD */
    return name.len == 2 && name.ptr[0] == 'S' && name.ptr[1] >= 'A' && name.ptr[1] <= 'D';
}

bool pv_macro_is_standard(pv_slice name)
{
    if (name.len == 1 && name.ptr[0] >= 'A' && name.ptr[0] <= 'P') /* GPP_A..GPP_P */
        return true;
    if (pv_macro_is_secret(name))
        return true;
    if (name.len > 3 && memcmp(name.ptr, "UID", 3) == 0) { /* UIDn: line n user id */
        for (size_t i = 3; i < name.len; i++) {
            if (!isdigit((unsigned char)name.ptr[i]))
                return false;
        }
        return name.ptr[3] != '0';
    }
    for (size_t i = 0; i < sizeof standard_names / sizeof standard_names[0]; i++) {
        if (pv_slice_eq_cstr(name, standard_names[i]))
            return true;
    }
    return false;
}

static bool is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

typedef enum { NAME_NONE, NAME_FOUND, NAME_LITERAL } name_match;

/*
 * Decides whether name is a variable under flags and, if so, appends its value
 * to out. NAME_LITERAL: a secret register outside an option argument, to be
 * copied as written.
 */
static name_match resolve(pv_slice name, const pv_macro_env *env, unsigned flags, pv_buf *out)
{
    char cname[PV_MACRO_NAME_MAX + 1];
    if (name.len == 0 || name.len > PV_MACRO_NAME_MAX)
        return NAME_NONE;
    memcpy(cname, name.ptr, name.len);
    cname[name.len] = '\0';
    bool secret = pv_macro_is_secret(name);
    if (secret && !(flags & (PV_MACRO_SECRETS | PV_MACRO_ONLY_SECRETS)))
        return NAME_LITERAL; /* spec 2.2: SA..SD only inside --key/--uid/--pwd */
    if (!secret && (flags & PV_MACRO_ONLY_SECRETS))
        return NAME_NONE;
    bool found = env != NULL && env->lookup != NULL && env->lookup(env->ctx, cname, out);
    if (found || pv_macro_is_standard(name))
        return NAME_FOUND; /* a standard name without a value is empty */
    return NAME_NONE;
}

static size_t parse_index(const char *p, const char *end, size_t *value)
{
    size_t n = 0, v = 0;
    while (p + n < end && isdigit((unsigned char)p[n])) {
        if (v < SIZE_MAX / 100) /* saturate: an offset past any value is just "empty" */
            v = v * 10 + (size_t)(p[n] - '0');
        n++;
    }
    *value = v;
    return n;
}

/*
 * `$(NAME)`, `$(NAME:p)`, `$(NAME:p:q)` starting at p (which points at '(').
 * Returns the bytes consumed after the '$', or 0 to copy the '$' literally.
 */
static size_t expand_paren(const char *p, const char *end, const pv_macro_env *env, unsigned flags,
                           pv_buf *out)
{
    const char *q = p + 1;
    const char *name = q;
    while (q < end && is_name_char(*q))
        q++;
    pv_slice nm = pv_slice_make(name, (size_t)(q - name));
    size_t from = 0, count = SIZE_MAX;
    if (q < end && *q == ':') { /* spec 2.1: substring offset */
        size_t n = parse_index(q + 1, end, &from);
        if (n == 0)
            return 0;
        q += 1 + n;
        if (q < end && *q == ':') { /* and length */
            n = parse_index(q + 1, end, &count);
            if (n == 0)
                return 0;
            q += 1 + n;
        }
    }
    if (q >= end || *q != ')')
        return 0;
    size_t start = out->len;
    if (resolve(nm, env, flags, out) != NAME_FOUND) {
        out->len = start;
        if (out->data != NULL)
            out->data[start] = '\0';
        return 0;
    }
    size_t vlen = out->len - start;
    if (from > vlen)
        from = vlen;
    if (count > vlen - from)
        count = vlen - from;
    memmove(out->data + start, out->data + start + from, count);
    out->len = start + count;
    out->data[out->len] = '\0';
    return (size_t)(q + 1 - p);
}

/* `$NAME` with p just after the '$': longest known prefix (spec 2.1, inferred). */
static size_t expand_name(const char *p, const char *end, const pv_macro_env *env, unsigned flags,
                          pv_buf *out)
{
    size_t run = 0;
    while (p + run < end && run < PV_MACRO_NAME_MAX && is_name_char(p[run]))
        run++;
    for (size_t len = run; len > 0; len--) {
        name_match m = resolve(pv_slice_make(p, len), env, flags, out);
        if (m == NAME_FOUND)
            return len;
        if (m == NAME_LITERAL) {
            pv_buf_append_char(out, '$');
            pv_buf_append(out, p, len);
            return len;
        }
    }
    return 0;
}

void pv_macro_expand(pv_slice in, const pv_macro_env *env, unsigned flags, pv_buf *out)
{
    const char *p = in.ptr, *end = in.ptr + in.len;
    pv_buf_reserve(out, in.len);
    while (p < end) {
        const char *dollar = memchr(p, '$', (size_t)(end - p));
        if (dollar == NULL) {
            pv_buf_append(out, p, (size_t)(end - p));
            break;
        }
        pv_buf_append(out, p, (size_t)(dollar - p));
        p = dollar + 1;
        if (p < end && *p == '$' && !(flags & PV_MACRO_ONLY_SECRETS)) {
            pv_buf_append_char(out, '$'); /* spec 2.1: `$$` → `$`, not re-read */
            p++;
            continue;
        }
        size_t used = 0;
        if (p < end && *p == '(')
            used = expand_paren(p, end, env, flags, out);
        else
            used = expand_name(p, end, env, flags, out);
        if (used == 0)
            pv_buf_append_char(out, '$'); /* spec 2.1: unknown names stay as written */
        p += used;
    }
}

/* ---- a simple variable table ---- */

static const char *canonical_name(const char *name)
{
    /* GPP_A → A, GPP_SA → SA: the macro names of the registers (spec 12.1). */
    if (strncmp(name, "GPP_", 4) == 0 && pv_macro_is_standard(pv_slice_from(name + 4)))
        return name + 4;
    return name;
}

void pv_macro_vars_set(pv_macro_vars *v, const char *name, const char *value)
{
    name = canonical_name(name);
    for (size_t i = 0; i < v->len; i++) {
        if (strcmp(v->items[i].name, name) == 0) {
            free(v->items[i].value);
            v->items[i].value = pv_strdup(value);
            return;
        }
    }
    if (v->len == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->items = pv_reallocarray(v->items, v->cap, sizeof v->items[0]);
    }
    v->items[v->len].name = pv_strdup(name);
    v->items[v->len].value = pv_strdup(value);
    v->len++;
}

const char *pv_macro_vars_get(const pv_macro_vars *v, const char *name)
{
    name = canonical_name(name);
    for (size_t i = 0; i < v->len; i++) {
        if (strcmp(v->items[i].name, name) == 0)
            return v->items[i].value;
    }
    return NULL;
}

void pv_macro_vars_free(pv_macro_vars *v)
{
    for (size_t i = 0; i < v->len; i++) {
        free(v->items[i].name);
        free(v->items[i].value);
    }
    free(v->items);
    *v = (pv_macro_vars){0};
}

bool pv_macro_vars_lookup(void *ctx, const char *name, pv_buf *out)
{
    const char *value = pv_macro_vars_get(ctx, name);
    if (value == NULL)
        return false;
    pv_buf_append_str(out, value);
    return true;
}

pv_macro_env pv_macro_vars_env(pv_macro_vars *v)
{
    return (pv_macro_env){pv_macro_vars_lookup, v};
}

int pv_macro_psn(const char *model, char *out, size_t size)
{
    size_t len = strlen(model);
    const char *start = model;
    if (strncasecmp(model, "SPA", 3) == 0 && len > 3) { /* spec 1.3: SPA2102 → 2102 */
        start += 3;
    } else if (strncasecmp(model, "CP-", 3) == 0 && len > 3) { /* DESIGN: 8841-3PCC */
        start += 3;
    } else if (strncasecmp(model, "ATA", 3) == 0 && len > 3) { /* spec 2.2: ATA191-MPP → 191 */
        start += 3;
        if (len - 3 > 4 && strcasecmp(model + len - 4, "-MPP") == 0)
            len -= 4;
    }
    size_t n = len - (size_t)(start - model);
    int w = snprintf(out, size, "%.*s", (int)n, start);
    return (w < 0 || (size_t)w >= size) ? PV_ETRUNC : 0;
}

int pv_macro_vars_identity(pv_macro_vars *v, const pv_identity *id, pv_error *err)
{
    if (id->mac != NULL) {
        char hex[13];
        size_t n = 0;
        for (const char *p = id->mac; *p != '\0'; p++) {
            if ((*p == ':' || *p == '-' || *p == '.') && n > 0 && n % 2 == 0)
                continue;
            if (pv_hex_value(*p) < 0 || n == 12)
                return pv_error_set(err, PV_EINVAL,
                                    "MAC '%s': expected 12 hex digits such as 000e08aabbcc "
                                    "or 00:0e:08:aa:bb:cc",
                                    id->mac);
            hex[n++] = (char)tolower((unsigned char)*p);
        }
        if (n != 12)
            return pv_error_set(err, PV_EINVAL, "MAC '%s': expected 12 hex digits, found %zu",
                                id->mac, n);
        hex[12] = '\0';
        char upper[13], colon[18];
        for (size_t i = 0; i < 13; i++)
            upper[i] = (char)toupper((unsigned char)hex[i]);
        for (size_t i = 0; i < 6; i++) {
            colon[i * 3] = hex[i * 2];
            colon[i * 3 + 1] = hex[i * 2 + 1];
            colon[i * 3 + 2] = i < 5 ? ':' : '\0';
        }
        pv_macro_vars_set(v, "MA", hex); /* spec 2.2 */
        pv_macro_vars_set(v, "MAU", upper);
        pv_macro_vars_set(v, "MAC", colon);
    }
    if (id->model != NULL) {
        char psn[64];
        if (pv_macro_psn(id->model, psn, sizeof psn) != 0)
            return pv_error_set(err, PV_EINVAL, "model '%.40s...' is too long", id->model);
        pv_macro_vars_set(v, "PN", id->model);
        pv_macro_vars_set(v, "PSN", psn);
    }
    if (id->serial != NULL)
        pv_macro_vars_set(v, "SN", id->serial);
    if (id->swver != NULL)
        pv_macro_vars_set(v, "SWVER", id->swver);
    if (id->hwver != NULL)
        pv_macro_vars_set(v, "HWVER", id->hwver);
    return 0;
}
