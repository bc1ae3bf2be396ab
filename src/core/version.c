/* version.c — SPA and MPP version literals; see version.h. */
#include "core/version.h"

#include <ctype.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static pv_slice run_slice(const pv_version *v, pv_version_run r)
{
    return pv_slice_make(v->text + r.off, r.len);
}

int pv_version_cmp_digits(pv_slice a, pv_slice b)
{
    /* Any length: strip leading zeros, then the longer number is larger. */
    while (a.len > 0 && a.ptr[0] == '0') {
        a.ptr++;
        a.len--;
    }
    while (b.len > 0 && b.ptr[0] == '0') {
        b.ptr++;
        b.len--;
    }
    if (a.len != b.len)
        return a.len < b.len ? -1 : 1;
    int c = a.len ? memcmp(a.ptr, b.ptr, a.len) : 0;
    return (c > 0) - (c < 0);
}

/* Scans digits* letters* digits* from *pos; fills comp; returns false if empty. */
static bool scan_comp(const pv_version *v, size_t len, size_t *pos, pv_version_comp *comp)
{
    size_t p = *pos;
    comp->num.off = (uint8_t)p;
    while (p < len && is_digit(v->text[p]))
        p++;
    comp->num.len = (uint8_t)(p - comp->num.off);
    comp->alpha.off = (uint8_t)p;
    while (p < len && is_alpha(v->text[p]))
        p++;
    comp->alpha.len = (uint8_t)(p - comp->alpha.off);
    comp->sub.off = (uint8_t)p;
    if (comp->alpha.len > 0) {
        while (p < len && is_digit(v->text[p]))
            p++;
    }
    comp->sub.len = (uint8_t)(p - comp->sub.off);
    bool nonempty = p > *pos;
    *pos = p;
    return nonempty;
}

static int expected(pv_error *err, const pv_version *v, size_t pos, size_t len, const char *what)
{
    if (pos >= len)
        return pv_error_set(err, PV_ESYNTAX, "version '%s': column %zu: expected %s, found the end",
                            v->text, pos + 1, what);
    return pv_error_set(err, PV_ESYNTAX, "version '%s': column %zu: expected %s, found '%c'",
                        v->text, pos + 1, what, v->text[pos]);
}

/* spec 1.4: SPA `major.minor.build(suffix)`, e.g. 2.0.6(b), 2.0.3(0412s); legacy 1.0. */
static int parse_spa(pv_version *v, size_t len, pv_error *err)
{
    size_t pos = 0;
    for (;;) {
        pv_version_comp *c = &v->comp[v->ncomp];
        if (!scan_comp(v, len, &pos, c) || c->num.len == 0)
            return expected(err, v, pos, len, "a number");
        v->ncomp++;
        if (pos < len && v->text[pos] == '.' && v->ncomp < 3) {
            pos++;
            continue;
        }
        break;
    }
    if (pos < len && v->text[pos] == '(') {
        pos++;
        if (!scan_comp(v, len, &pos, &v->comp[3]))
            return expected(err, v, pos, len, "a build such as '(b)' or '(0412s)'");
        if (pos >= len || v->text[pos] != ')')
            return expected(err, v, pos, len, "')' after the build");
        pos++;
        v->has_build = true;
    }
    if (pos < len)
        return expected(err, v, pos, len, v->ncomp < 3 ? "'.', '(' or the end" : "'(' or the end");
    return 0;
}

/* spec 1.4: MPP `sipNNxx.11-3-1MPP-678`, `sipNNxx.11-3-2MPP0001-609`; ATA `11-1-0MPP-19`. */
static int parse_mpp(pv_version *v, size_t len, size_t pos, pv_error *err)
{
    for (;;) {
        pv_version_comp *c = &v->comp[v->ncomp];
        bool is_build = v->ncomp == 3;
        if (!scan_comp(v, len, &pos, c) || (!is_build && c->num.len == 0))
            return expected(err, v, pos, len, "a number");
        if (is_build) {
            v->has_build = true;
            break;
        }
        v->ncomp++;
        if (pos < len && v->text[pos] == '-') {
            pos++;
            continue;
        }
        break;
    }
    if (pos < len)
        return expected(err, v, pos, len, v->has_build ? "the end" : "'-' or the end");
    if (v->ncomp < 2)
        return expected(err, v, pos, len, "'-' and a minor number");
    return 0;
}

int pv_version_parse(pv_slice s, pv_version *out, pv_error *err)
{
    memset(out, 0, sizeof *out);
    if (s.len == 0)
        return pv_error_set(err, PV_ESYNTAX, "expected a version, found nothing");
    if (s.len > PV_VERSION_MAX)
        return pv_error_set(err, PV_ESYNTAX, "version '%.20s...' is longer than %d characters",
                            s.ptr, PV_VERSION_MAX);
    memcpy(out->text, s.ptr, s.len);
    out->text[s.len] = '\0';
    if (memchr(s.ptr, '\0', s.len) != NULL)
        return pv_error_set(err, PV_ESYNTAX, "version contains a NUL byte");
    size_t len = s.len;
    if (is_alpha(out->text[0])) {
        /* An MPP load name: the model part before the first '.' is ignored
         * when comparing (spec 1.4, "model and load-name parts ignored"). */
        const char *dot = memchr(out->text, '.', len);
        if (dot == NULL)
            return pv_error_set(err, PV_ESYNTAX,
                                "'%s' is not a version: expected digits, or a load name such "
                                "as 'sip88xx.11-3-1MPP-678'",
                                out->text);
        size_t pos = (size_t)(dot - out->text);
        for (size_t i = 0; i < pos; i++) {
            if (!is_alpha(out->text[i]) && !is_digit(out->text[i]) && out->text[i] != '_')
                return expected(err, out, i, len, "a letter, digit or '_' in the model name");
        }
        out->model = (pv_version_run){0, (uint8_t)pos};
        out->format = PV_VERSION_MPP;
        return parse_mpp(out, len, pos + 1, err);
    }
    if (memchr(out->text, '-', len) != NULL) {
        out->format = PV_VERSION_MPP;
        return parse_mpp(out, len, 0, err);
    }
    out->format = PV_VERSION_SPA;
    return parse_spa(out, len, err);
}

static int cmp_alpha(pv_slice a, pv_slice b)
{
    /* spec 1.4: letters compare alphabetically; case does not make a load newer. */
    size_t n = a.len < b.len ? a.len : b.len;
    for (size_t i = 0; i < n; i++) {
        int ca = tolower((unsigned char)a.ptr[i]), cb = tolower((unsigned char)b.ptr[i]);
        if (ca != cb)
            return ca < cb ? -1 : 1;
    }
    return (a.len > b.len) - (a.len < b.len);
}

int pv_version_compare(const pv_version *a, const pv_version *b, int *cmp, pv_error *err)
{
    if (a->format != b->format)
        return pv_error_set(err, PV_EFORMAT,
                            "cannot compare version '%s' with '%s': one is an SPA version "
                            "(2.0.6(b)) and the other a multiplatform one (11-3-1MPP-678)",
                            a->text, b->text);
    /* spec 1.4: major, minor, micro in order, then build; digits, then letters. */
    for (int i = 0; i < PV_VERSION_COMPS; i++) {
        const pv_version_comp *x = &a->comp[i], *y = &b->comp[i];
        int c = pv_version_cmp_digits(run_slice(a, x->num), run_slice(b, y->num));
        if (c == 0)
            c = cmp_alpha(run_slice(a, x->alpha), run_slice(b, y->alpha));
        if (c == 0)
            c = pv_version_cmp_digits(run_slice(a, x->sub), run_slice(b, y->sub));
        if (c != 0) {
            *cmp = c;
            return 0;
        }
    }
    *cmp = 0;
    return 0;
}
