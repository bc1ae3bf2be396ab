/* xml_profile.c — `<flat-profile>` reading (expat) and writing; see xml_profile.h. */
#include "core/xml_profile.h"

#include "core/alloc.h"
#include "core/router_config.h"
#include "core/text.h"

#include <expat.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- aliases (spec 1.1 --alias) ---- */

typedef struct alias {
    char *segs;   /* left-hand side: element names, each NUL-terminated */
    size_t n_seg; /* how many */
    char *name;   /* parameter name */
} alias;

struct pv_xml_aliases {
    size_t n;
    alias a[PV_XML_MAX_ALIASES];
};

void pv_xml_aliases_free(pv_xml_aliases *aliases)
{
    if (aliases == NULL)
        return;
    for (size_t i = 0; i < aliases->n; i++) {
        free(aliases->a[i].segs);
        free(aliases->a[i].name);
    }
    free(aliases);
}

/* Splits "/a/b/c" into NUL-separated segments; 0 segments is an error. */
static size_t split_path(pv_slice lhs, pv_buf *segs)
{
    size_t n = 0;
    for (size_t i = 0; i < lhs.len;) {
        while (i < lhs.len && lhs.ptr[i] == '/')
            i++;
        size_t start = i;
        while (i < lhs.len && lhs.ptr[i] != '/')
            i++;
        if (i > start) {
            pv_slice seg = pv_slice_trim(pv_slice_make(lhs.ptr + start, i - start));
            pv_buf_append_slice(segs, seg);
            pv_buf_append_char(segs, '\0');
            n++;
        }
    }
    return n;
}

static int parse_alias(pv_slice item, size_t nr, alias *out, pv_error *err)
{
    const char *eq = memchr(item.ptr, '=', item.len);
    if (eq == NULL)
        return pv_error_set(err, PV_ESYNTAX, "alias %zu: expected '=' in '%.*s'", nr,
                            (int)(item.len > 80 ? 80 : item.len), item.ptr);
    pv_slice lhs = pv_slice_trim(pv_slice_make(item.ptr, (size_t)(eq - item.ptr)));
    pv_slice rhs = pv_slice_trim(pv_slice_make(eq + 1, item.len - (size_t)(eq - item.ptr) - 1));
    static const char prefix[] = "/flat-profile/";
    if (!pv_slice_starts_with(rhs, prefix))
        return pv_error_set(err, PV_ESYNTAX, "alias %zu: expected '/flat-profile/Name' after '='",
                            nr);
    pv_slice name = pv_slice_make(rhs.ptr + sizeof prefix - 1, rhs.len - (sizeof prefix - 1));
    if (!pv_param_name_valid(name))
        return pv_error_set(err, PV_ESYNTAX, "alias %zu: '%.*s' is not a parameter name", nr,
                            (int)(name.len > 80 ? 80 : name.len), name.ptr);
    pv_buf segs = {0};
    size_t n = split_path(lhs, &segs);
    if (n == 0) {
        pv_buf_free(&segs);
        return pv_error_set(err, PV_ESYNTAX, "alias %zu: expected an element path before '='", nr);
    }
    out->segs = pv_buf_take(&segs, NULL);
    out->n_seg = n;
    out->name = pv_slice_dup(name);
    return 0;
}

int pv_xml_aliases_parse(pv_slice text, pv_xml_aliases **out, pv_error *err)
{
    pv_xml_aliases *a = pv_calloc(1, sizeof *a);
    size_t nr = 0;
    for (size_t i = 0; i <= text.len;) {
        const char *semi = memchr(text.ptr + i, ';', text.len - i);
        size_t end = semi ? (size_t)(semi - text.ptr) : text.len;
        pv_slice item = pv_slice_trim(pv_slice_make(text.ptr + i, end - i));
        i = end + 1;
        if (item.len == 0)
            continue;
        nr++;
        if (a->n == PV_XML_MAX_ALIASES) {
            pv_xml_aliases_free(a);
            return pv_error_set(err, PV_ELIMIT, "more than %d aliases (spec 1.1)",
                                PV_XML_MAX_ALIASES);
        }
        int rc = parse_alias(item, nr, &a->a[a->n], err);
        if (rc != 0) {
            pv_xml_aliases_free(a);
            return rc;
        }
        a->n++;
    }
    *out = a;
    return 0;
}

/* ---- parsing ---- */

static int parse_document(pv_slice input, pv_params *out, const pv_xml_opts *opts, pv_error *err);

typedef struct xml_ctx {
    XML_Parser xp;
    pv_params *out;
    pv_profile_limits lim;
    const pv_xml_aliases *aliases;
    pv_slice input;
    pv_error *err;
    pv_profile_pos *where;
    int rc;
    unsigned depth;    /* of the current element, root = 1 */
    unsigned fp_depth; /* of the <flat-profile> we are in, 0 = none */
    bool seen_fp;
    pv_buf path;        /* element names on the path, NUL-separated (aliases only) */
    size_t *path_off;   /* where each depth's name starts in path */
    unsigned cap_depth; /* of the parameter element whose text we collect, 0 = none */
    unsigned rc_depth;  /* of the <router-configuration> we are in, 0 = none */
    bool cap_ignored;   /* the element at cap_depth is not a parameter: skip it whole */
    pv_buf name;
    pv_buf text;
    pv_param cur;
    size_t ignored; /* elements skipped as no parameter (reported through opts) */
} xml_ctx;

static void fail(xml_ctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(xml_ctx *c, int code, const char *fmt, ...)
{
    if (c->rc != 0)
        return;
    unsigned long line = XML_GetCurrentLineNumber(c->xp);
    unsigned long col = XML_GetCurrentColumnNumber(c->xp) + 1;
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    pv_vformat_cut(what, sizeof what, fmt, ap);
    va_end(ap);
    c->rc = pv_error_set(c->err, code, "line %lu, column %lu: %s", line, col, what);
    if (c->where != NULL) {
        c->where->line = line;
        c->where->column = col;
    }
    XML_StopParser(c->xp, XML_FALSE);
}

static bool alias_matches(const xml_ctx *c, const alias *a)
{
    if (a->n_seg > c->depth)
        return false;
    const char *seg = a->segs;
    for (size_t i = 0; i < a->n_seg; i++) {
        unsigned d = c->depth - (unsigned)a->n_seg + (unsigned)i + 1;
        if (strcmp(seg, c->path.data + c->path_off[d]) != 0)
            return false;
        seg += strlen(seg) + 1;
    }
    return true;
}

/* A self-closing tag ends in "/>": look at the raw bytes of the start tag. */
static bool tag_is_self_closing(const xml_ctx *c)
{
    XML_Index idx = XML_GetCurrentByteIndex(c->xp);
    int count = XML_GetCurrentByteCount(c->xp);
    if (idx < 0 || count < 2 || (size_t)idx + (size_t)count > c->input.len)
        return false;
    return c->input.ptr[idx + count - 2] == '/';
}

static void begin_param(xml_ctx *c, const char *name, const char **atts)
{
    pv_slice n = pv_slice_from(name);
    c->cap_depth = c->depth;
    c->cap_ignored = !pv_param_name_valid(n);
    if (c->cap_ignored) {
        /* spec 3.1: "unknown elements ... are ignored" — a namespaced <xs:x> or
         * any name no parameter can have is skipped with what it holds, the
         * rest of the file still applies */
        c->ignored++;
        return;
    }
    pv_param cur = {.has_value = !tag_is_self_closing(c)};
    for (size_t i = 0; atts[i] != NULL; i += 2) {
        if (strcmp(atts[i], "ua") == 0) {
            if (pv_ua_parse(pv_slice_from(atts[i + 1]), &cur.ua) != 0) {
                /* spec 3.1: ua is one of na, ro, rw */
                fail(c, PV_ESYNTAX, "<%.60s ua=\"%.20s\">: expected ua=\"na\", \"ro\" or \"rw\"",
                     name, atts[i + 1]);
                return;
            }
        } else if (strcmp(atts[i], "preserve-value") == 0) {
            /* MPP 11.3 (spec 3.1); other attributes such as group= are informational */
            cur.preserve = strcasecmp(atts[i + 1], "y") == 0 || strcasecmp(atts[i + 1], "yes") == 0;
        }
    }
    c->cur = cur;
    pv_buf_reset(&c->name);
    pv_buf_append_slice(&c->name, n);
    pv_buf_reset(&c->text);
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **atts)
{
    xml_ctx *c = data;
    if (++c->depth > c->lim.max_depth) {
        fail(c, PV_ELIMIT, "elements nested deeper than %u", c->lim.max_depth);
        return;
    }
    if (c->aliases != NULL) {
        c->path_off[c->depth] = c->path.len;
        pv_buf_append(&c->path, name, strlen(name) + 1);
    }
    if (c->rc_depth != 0) {
        /* C-ATAPAR "Router Configuration Parameters": inside
         * <router-configuration> parameters sit under section headings
         * (<Time_Setup><Time_Zone>…); an element that holds elements is a
         * heading, so the one being read gives way to its first child */
        if (c->cap_depth != 0 && (c->cap_ignored || c->depth != c->cap_depth + 1))
            return;
        begin_param(c, name, atts);
        return;
    }
    if (c->cap_depth != 0)
        return; /* an element inside a parameter: ignored */
    if (c->fp_depth != 0) {
        if (c->depth != c->fp_depth + 1)
            return;
        if (strcmp(name, "router-configuration") == 0) { /* SPA100, ATA19x: a section */
            c->rc_depth = c->depth;
            return;
        }
        begin_param(c, name, atts);
        return;
    }
    if (strcmp(name, "flat-profile") == 0) { /* spec 3.1: may be nested anywhere */
        c->fp_depth = c->depth;
        c->seen_fp = true;
        return;
    }
    for (size_t i = 0; c->aliases != NULL && i < c->aliases->n; i++) {
        if (alias_matches(c, &c->aliases->a[i])) {
            begin_param(c, c->aliases->a[i].name, atts);
            return;
        }
    }
}

static void XMLCALL on_text(void *data, const XML_Char *s, int len)
{
    xml_ctx *c = data;
    if (c->cap_depth == 0 || c->cap_depth != c->depth || c->rc != 0)
        return;
    if ((size_t)len > c->lim.max_value - c->text.len || c->text.len > c->lim.max_value) {
        fail(c, PV_ELIMIT, "value of <%s> longer than %zu bytes", c->name.data, c->lim.max_value);
        return;
    }
    pv_buf_append(&c->text, s, (size_t)len);
}

static void commit_param(xml_ctx *c)
{
    /* spec 3.1: "embedded newlines become spaces" (expat already made CRLF one LF) */
    for (size_t i = 0; i < c->text.len; i++)
        if (c->text.data[i] == '\n' || c->text.data[i] == '\r')
            c->text.data[i] = ' ';
    pv_slice v = pv_slice_trim(pv_buf_slice(&c->text));
    c->cur.name = pv_buf_slice(&c->name);
    c->cur.value = c->cur.has_value ? v : (pv_slice){"", 0};
    if (!pv_params_get(c->out, c->cur.name, NULL) && pv_params_count(c->out) >= c->lim.max_params) {
        fail(c, PV_ELIMIT, "more than %zu parameters", c->lim.max_params);
        return;
    }
    int rc = pv_params_apply(c->out, &c->cur, c->err);
    if (rc != 0)
        fail(c, rc, "%s", c->err ? c->err->msg : "invalid parameter");
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
    xml_ctx *c = data;
    if (c->cap_depth == c->depth) {
        if (!c->cap_ignored)
            commit_param(c);
        c->cap_depth = 0;
        c->cap_ignored = false;
    }
    if (c->rc_depth == c->depth)
        c->rc_depth = 0;
    if (c->fp_depth == c->depth)
        c->fp_depth = 0;
    if (c->aliases != NULL)
        c->path.len = c->path_off[c->depth];
    c->depth--;
}

static void XMLCALL on_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    /* No DTD, so no entity declarations: nothing to expand (billion laughs). */
    fail(data, PV_ENOTSUP, "a <!DOCTYPE> is not allowed in a profile");
}

static void finish_expat_error(xml_ctx *c)
{
    enum XML_Error code = XML_GetErrorCode(c->xp);
    unsigned long line = XML_GetCurrentLineNumber(c->xp);
    unsigned long col = XML_GetCurrentColumnNumber(c->xp) + 1;
    c->rc = pv_error_set(c->err, PV_ESYNTAX, "line %lu, column %lu: %s", line, col,
                         XML_ErrorString(code));
    if (c->where != NULL) {
        c->where->line = line;
        c->where->column = col;
    }
}

/*
 * Comments with "--" inside (`<!------ Provisioning params ------>`, shipped
 * in the Wazo SPA template to every phone) are not XML, yet phones read such
 * files. Returns a copy in which the dashes inside those comments are spaces
 * (same length, so line and column numbers hold), or NULL when none needs it.
 */
static char *mend_comments(pv_slice in)
{
    char *copy = NULL;
    const char *end = in.ptr + in.len;
    for (const char *p = in.ptr; p != NULL && p < end;) {
        const char *open = memmem(p, (size_t)(end - p), "<!--", 4);
        if (open == NULL)
            break;
        const char *body = open + 4;
        const char *close = memmem(body, (size_t)(end - body), "-->", 3);
        if (close == NULL)
            break;
        if (memmem(body, (size_t)(close - body), "--", 2) != NULL ||
            (close > body && close[-1] == '-')) {
            if (copy == NULL)
                copy = pv_memdup0(in.ptr, in.len);
            for (const char *q = body; q < close; q++)
                if (*q == '-')
                    copy[q - in.ptr] = ' ';
        }
        p = close + 3;
    }
    return copy;
}

int pv_xml_parse(pv_slice input, pv_params *out, const pv_xml_opts *opts, pv_error *err)
{
    const pv_profile_limits lim = pv_profile_limits_resolve(opts ? opts->limits : NULL);
    char *mended = input.len <= lim.max_input ? mend_comments(input) : NULL;
    if (mended != NULL)
        input = pv_slice_make(mended, input.len);
    int rc = parse_document(input, out, opts, err);
    free(mended);
    return rc;
}

static int parse_document(pv_slice input, pv_params *out, const pv_xml_opts *opts, pv_error *err)
{
    static const pv_xml_opts none = {0};
    if (opts == NULL)
        opts = &none;
    xml_ctx c = {
        .out = out, .aliases = opts->aliases, .input = input, .err = err, .where = opts->where};
    c.lim = pv_profile_limits_resolve(opts->limits);
    if (c.where != NULL)
        memset(c.where, 0, sizeof *c.where);
    if (input.len > c.lim.max_input || input.len > INT_MAX)
        return pv_error_set(err, PV_ETOOBIG, "profile larger than %zu bytes", c.lim.max_input);
    /* spec 3.1: "UTF-8 file encoding is required" — also keeps byte offsets ours */
    c.xp = XML_ParserCreate("UTF-8");
    XML_SetUserData(c.xp, &c);
    XML_SetElementHandler(c.xp, on_start, on_end);
    XML_SetCharacterDataHandler(c.xp, on_text);
    XML_SetStartDoctypeDeclHandler(c.xp, on_doctype);
    if (c.aliases != NULL)
        c.path_off = pv_calloc((size_t)c.lim.max_depth + 2, sizeof *c.path_off);
    if (XML_Parse(c.xp, input.ptr ? input.ptr : "", (int)input.len, XML_TRUE) == XML_STATUS_ERROR &&
        c.rc == 0)
        finish_expat_error(&c);
    if (opts->ignored != NULL)
        *opts->ignored = c.ignored;
    if (c.rc == 0 && !c.seen_fp && c.aliases == NULL)
        c.rc = pv_error_set(err, PV_EFORMAT,
                            "no <flat-profile> element: a phone would ignore this file (spec 3.1)");
    XML_ParserFree(c.xp);
    free(c.path_off);
    pv_buf_free(&c.path);
    pv_buf_free(&c.name);
    pv_buf_free(&c.text);
    return c.rc;
}

/* ---- writing ---- */

static void append_escaped(pv_buf *out, pv_slice v)
{
    size_t run = 0; /* copy unescaped runs whole */
    for (size_t i = 0; i < v.len; i++) {
        const char *rep = NULL;
        switch (v.ptr[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\t':
            rep = "&#9;";
            break;
        case '\n':
            rep = "&#10;";
            break;
        case '\r':
            rep = "&#13;";
            break;
        default:
            continue;
        }
        pv_buf_append(out, v.ptr + run, i - run);
        pv_buf_append_str(out, rep);
        run = i + 1;
    }
    pv_buf_append(out, v.ptr + run, v.len - run);
}

/* One parameter element on its own line, indent spaces in. */
static int append_param(pv_buf *out, const pv_param *e, size_t indent, pv_error *err)
{
    size_t bad = pv_text_bad_at(e->value, PV_TEXT_XML);
    if (e->has_value && bad < e->value.len)
        return pv_error_set(err, PV_EINVAL,
                            "%.*s: byte %zu of the value (0x%02x) cannot be written in XML "
                            "(expected UTF-8 text without control characters)",
                            PV_SLICE_ARG(e->name), bad + 1, (unsigned char)e->value.ptr[bad]);
    pv_buf_appendf(out, "%*s<" PV_SLICE_FMT, (int)indent, "", PV_SLICE_ARG(e->name));
    if (e->ua != PV_UA_UNSET)
        pv_buf_appendf(out, " ua=\"%s\"", pv_ua_name(e->ua));
    if (e->preserve)
        pv_buf_append_str(out, " preserve-value=\"y\"");
    if (!e->has_value) {
        pv_buf_append_str(out, "/>\n");
        return 0;
    }
    pv_buf_append_char(out, '>');
    append_escaped(out, e->value);
    pv_buf_appendf(out, "</" PV_SLICE_FMT ">\n", PV_SLICE_ARG(e->name));
    return 0;
}

/* The headings of section ("A/B"), opened (or closed, in reverse) at depth 2 and on. */
static void section_tags(pv_buf *out, const char *section, bool open)
{
    const char *parts[4];
    size_t lens[4], n = 0;
    for (const char *p = section; *p != '\0' && n < 4;) {
        size_t len = strcspn(p, "/");
        parts[n] = p;
        lens[n++] = len;
        p += len + (p[len] == '/');
    }
    for (size_t k = 0; k < n; k++) {
        size_t i = open ? k : n - 1 - k;
        pv_buf_appendf(out, "%*s<%s%.*s>\n", (int)(4 + 2 * i), "", open ? "" : "/", (int)lens[i],
                       parts[i]);
    }
}

static size_t section_depth(const char *section)
{
    size_t n = *section != '\0';
    for (const char *p = section; *p; p++)
        n += *p == '/';
    return n;
}

static int serialize(const pv_params *p, bool router, pv_buf *out, pv_error *err)
{
    pv_buf_append_str(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<flat-profile>\n");
    size_t it = 0, nrouter = 0;
    pv_param e;
    while (pv_params_next(p, &it, &e)) {
        if (router && pv_router_config_section(e.name) != NULL) {
            nrouter++;
            continue; /* written below, inside <router-configuration> */
        }
        int rc = append_param(out, &e, 2, err);
        if (rc != 0)
            return rc;
    }
    if (nrouter > 0) {
        /* C-ATAPAR: one <router-configuration>, each section's parameters under its headings;
         * sections in the order their first parameter comes */
        pv_buf_append_str(out, "  <router-configuration>\n");
        const char **done = pv_calloc(nrouter, sizeof *done);
        size_t ndone = 0;
        size_t outer = 0;
        while (pv_params_next(p, &outer, &e)) {
            const char *sec = pv_router_config_section(e.name);
            bool seen = sec == NULL;
            for (size_t i = 0; i < ndone && !seen; i++)
                seen = strcmp(done[i], sec) == 0;
            if (seen)
                continue;
            done[ndone++] = sec;
            section_tags(out, sec, true);
            size_t inner = 0;
            pv_param x;
            while (pv_params_next(p, &inner, &x)) {
                const char *xs = pv_router_config_section(x.name);
                if (xs == NULL || strcmp(xs, sec) != 0)
                    continue;
                int rc = append_param(out, &x, 4 + 2 * section_depth(sec), err);
                if (rc != 0) {
                    free(done);
                    return rc;
                }
            }
            section_tags(out, sec, false);
        }
        free(done);
        pv_buf_append_str(out, "  </router-configuration>\n");
    }
    pv_buf_append_str(out, "</flat-profile>\n");
    return 0;
}

int pv_xml_serialize(const pv_params *p, pv_buf *out, pv_error *err)
{
    return serialize(p, false, out, err);
}

int pv_xml_serialize_for_model(const pv_params *p, const char *model, pv_buf *out, pv_error *err)
{
    return serialize(p, pv_router_config_model(model), out, err);
}
