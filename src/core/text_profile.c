/* text_profile.c — legacy plain-text profile source (spec 3.3); see text_profile.h. */
#include "core/text_profile.h"

#include "core/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_IMPORT_DEPTH 8

typedef struct text_ctx {
    pv_params *out;
    const pv_text_opts *opts;
    pv_profile_limits lim;
    pv_error *err;
    size_t total;       /* bytes of every source read so far */
    const char **stack; /* names of the sources being read; [0] = the input's */
    unsigned depth;     /* index of the current source in stack */
    pv_buf name, value; /* scratch */
} text_ctx;

/* Where we are in one source. */
typedef struct cursor {
    pv_slice src;
    size_t i;
    unsigned long line;
    size_t line_start;
    unsigned long busy_line; /* line on which the last statement ended, 0 = none */
} cursor;

static int fail_at(text_ctx *c, const cursor *k, size_t at, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail_at(text_ctx *c, const cursor *k, size_t at, int code, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    if (vsnprintf(what, sizeof what, fmt, ap) < 0)
        what[0] = '\0'; /* a truncated message only loses its tail */
    va_end(ap);
    unsigned long col = (unsigned long)(at - k->line_start) + 1;
    const char *file = c->depth > 0 ? c->stack[c->depth] : "";
    if (c->opts->where != NULL) {
        c->opts->where->line = k->line;
        c->opts->where->column = col;
        int n = snprintf(c->opts->where->file, sizeof c->opts->where->file, "%s", file);
        if (n < 0 || (size_t)n >= sizeof c->opts->where->file) {
            /* a cut name still points the reader there; the message has it whole */
        }
    }
    return pv_error_set(c->err, code, "%s%sline %lu, column %lu: %s", file, *file ? ": " : "",
                        k->line, col, what);
}

static bool is_name_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '.' || ch == '[' || ch == ']';
}

static char peek(const cursor *k)
{
    return k->i < k->src.len ? k->src.ptr[k->i] : '\0';
}

static bool at_end(const cursor *k)
{
    return k->i >= k->src.len;
}

static void advance(cursor *k)
{
    if (k->src.ptr[k->i] == '\n') {
        k->line++;
        k->line_start = k->i + 1;
    }
    k->i++;
}

/* Skips white space and `#` comments (spec 3.3). */
static void skip_blank(cursor *k)
{
    while (!at_end(k)) {
        char ch = peek(k);
        if (ch == '#') {
            while (!at_end(k) && peek(k) != '\n')
                k->i++;
        } else if (pv_is_space(ch)) {
            advance(k);
        } else {
            return;
        }
    }
}

/* True when no statement ended on this line: only blanks precede us. Kept as
 * a line number rather than a scan back, so a long line stays linear. */
static bool starts_line(const cursor *k)
{
    return k->busy_line != k->line;
}

static int parse_source(text_ctx *c, pv_slice src);

static int do_import(text_ctx *c, cursor *k)
{
    size_t at = k->i;
    k->i += 6; /* "import" */
    while (!at_end(k) && (peek(k) == ' ' || peek(k) == '\t'))
        k->i++;
    size_t start = k->i;
    while (!at_end(k) && peek(k) != '\n' && peek(k) != ';' && peek(k) != '#')
        k->i++;
    pv_slice name = pv_slice_trim(pv_slice_make(k->src.ptr + start, k->i - start));
    if (peek(k) == ';')
        k->i++;
    if (name.len == 0)
        return fail_at(c, k, start, PV_ESYNTAX, "expected a file name after 'import'");
    if (c->opts->import == NULL)
        return fail_at(c, k, at, PV_ENOTSUP, "import %.*s: imports are not available here",
                       (int)(name.len > 100 ? 100 : name.len), name.ptr);
    if (c->depth + 1 > c->lim.max_depth)
        return fail_at(c, k, at, PV_ELIMIT, "imports nested deeper than %u", c->lim.max_depth);
    char *fname = pv_slice_dup(name);
    for (unsigned d = 0; d <= c->depth; d++) {
        if (strcmp(c->stack[d], fname) == 0) {
            int rc = fail_at(c, k, at, PV_ESYNTAX, "import %.100s: cycle, it is already being read",
                             fname);
            free(fname);
            return rc;
        }
    }
    pv_buf content = {0};
    pv_error sub = {.msg = "failed"};
    int rc = c->opts->import(c->opts->import_ctx, fname, &content, &sub);
    if (rc != 0) {
        rc = fail_at(c, k, at, rc, "import %.100s: %s", fname, sub.msg);
    } else if (content.len > c->lim.max_input - c->total) {
        rc = fail_at(c, k, at, PV_ETOOBIG, "import %.100s: sources larger than %zu bytes together",
                     fname, c->lim.max_input);
    } else {
        c->total += content.len;
        c->stack[++c->depth] = fname;
        rc = parse_source(c, pv_buf_slice(&content));
        c->depth--;
    }
    pv_buf_free(&content);
    free(fname);
    return rc;
}

/* Reads `"..."` at k (on the quote) into c->value. */
static int read_quoted(text_ctx *c, cursor *k)
{
    size_t open = k->i;
    cursor at_open = *k;
    k->i++;
    pv_buf_reset(&c->value);
    for (;;) {
        if (at_end(k))
            return fail_at(c, &at_open, open, PV_ESYNTAX,
                           "unterminated quoted value (expected a closing '\"')");
        char ch = peek(k);
        if (ch == '"') {
            k->i++;
            return 0;
        }
        /* our decision (text_profile.h): only \" and \\ are escapes */
        if (ch == '\\' && k->i + 1 < k->src.len &&
            (k->src.ptr[k->i + 1] == '"' || k->src.ptr[k->i + 1] == '\\')) {
            k->i++;
            ch = peek(k);
        }
        if (c->value.len >= c->lim.max_value)
            return fail_at(c, &at_open, open, PV_ELIMIT, "value longer than %zu bytes",
                           c->lim.max_value);
        pv_buf_append_char(&c->value, ch);
        advance(k);
    }
}

/* One `Name [!|?] ["value"] ;` (spec 3.3). */
static int parse_statement(text_ctx *c, cursor *k)
{
    size_t start = k->i;
    while (!at_end(k) && is_name_char(peek(k)))
        k->i++;
    if (k->i == start)
        return fail_at(c, k, start, PV_ESYNTAX, "expected a parameter name");
    pv_slice written = pv_slice_make(k->src.ptr + start, k->i - start);
    pv_buf_reset(&c->name);
    pv_param_name_from_text(written, &c->name); /* Proxy[1] → Proxy_1_ */
    pv_param e = {.name = pv_buf_slice(&c->name)};
    if (!pv_param_name_valid(e.name))
        return fail_at(c, k, start, PV_ESYNTAX,
                       "'%.*s' is not a parameter name (expected a letter or '_' first)",
                       (int)(written.len > 80 ? 80 : written.len), written.ptr);
    skip_blank(k);
    e.ua = c->opts->bare_keeps_access ? PV_UA_UNSET : PV_UA_NA;
    if (peek(k) == '!' || peek(k) == '?') {
        e.ua = peek(k) == '!' ? PV_UA_RW : PV_UA_RO;
        k->i++;
        skip_blank(k);
    }
    if (peek(k) == '"') {
        int rc = read_quoted(c, k);
        if (rc != 0)
            return rc;
        e.has_value = true;
        e.value = pv_buf_slice(&c->value);
        skip_blank(k);
    }
    if (peek(k) != ';')
        return fail_at(c, k, k->i, PV_ESYNTAX,
                       e.has_value ? "expected ';'" : "expected '!', '?', a quoted value or ';'");
    k->i++;
    if (!pv_params_get(c->out, e.name, NULL) && pv_params_count(c->out) >= c->lim.max_params)
        return fail_at(c, k, start, PV_ELIMIT, "more than %zu parameters", c->lim.max_params);
    return pv_params_apply(c->out, &e, c->err); /* last occurrence wins */
}

static bool is_import(const cursor *k)
{
    static const char kw[] = "import";
    size_t n = sizeof kw - 1;
    return k->src.len - k->i > n && memcmp(k->src.ptr + k->i, kw, n) == 0 &&
           (k->src.ptr[k->i + n] == ' ' || k->src.ptr[k->i + n] == '\t') && starts_line(k);
}

static int parse_source(text_ctx *c, pv_slice src)
{
    cursor k = {.src = src, .line = 1};
    const char *nul = src.len ? memchr(src.ptr, '\0', src.len) : NULL;
    if (nul != NULL) {
        /* position the error on the NUL itself */
        while (k.i < (size_t)(nul - src.ptr))
            advance(&k);
        return fail_at(c, &k, k.i, PV_ESYNTAX, "NUL byte (is this a binary file?)");
    }
    if (src.len >= 3 && memcmp(src.ptr, "\xEF\xBB\xBF", 3) == 0)
        k.i = k.line_start = 3; /* UTF-8 byte order mark */
    for (;;) {
        skip_blank(&k);
        if (at_end(&k))
            return 0;
        int rc = is_import(&k) ? do_import(c, &k) : parse_statement(c, &k);
        if (rc != 0)
            return rc;
        k.busy_line = k.line;
    }
}

int pv_text_parse(pv_slice input, pv_params *out, const pv_text_opts *opts, pv_error *err)
{
    static const pv_text_opts none = {0};
    if (opts == NULL)
        opts = &none;
    text_ctx c = {.out = out, .opts = opts, .err = err};
    c.lim = pv_profile_limits_resolve(opts->limits);
    if (opts->limits == NULL || opts->limits->max_depth == 0)
        c.lim.max_depth = DEFAULT_IMPORT_DEPTH;
    if (opts->where != NULL)
        memset(opts->where, 0, sizeof *opts->where);
    if (input.len > c.lim.max_input)
        return pv_error_set(err, PV_ETOOBIG, "profile larger than %zu bytes", c.lim.max_input);
    c.total = input.len;
    c.stack = pv_calloc((size_t)c.lim.max_depth + 1, sizeof *c.stack);
    c.stack[0] = opts->name ? opts->name : "";
    int rc = parse_source(&c, input);
    free(c.stack);
    pv_buf_free(&c.name);
    pv_buf_free(&c.value);
    return rc;
}

void pv_text_quote(pv_buf *out, pv_slice v)
{
    pv_buf_append_char(out, '"');
    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] == '"' || v.ptr[i] == '\\')
            pv_buf_append_char(out, '\\');
        pv_buf_append_char(out, v.ptr[i]);
    }
    pv_buf_append_char(out, '"');
}

int pv_text_serialize(const pv_params *p, pv_buf *out, pv_error *err)
{
    size_t it = 0;
    pv_param e;
    while (pv_params_next(p, &it, &e)) {
        if (e.has_value && memchr(e.value.ptr, '\0', e.value.len) != NULL)
            return pv_error_set(
                err, PV_EINVAL,
                "%.*s: the value holds a NUL byte, which the text form cannot carry",
                PV_SLICE_ARG(e.name));
        pv_param_name_to_text(e.name, out); /* Proxy_1_ → Proxy[1] */
        /* "import " at line start is the directive: a parameter of that name
         * is written with nothing between the name and the rest */
        const char *sp = pv_slice_eq_cstr(e.name, "import") ? "" : " ";
        if (e.ua == PV_UA_RW || e.ua == PV_UA_RO)
            pv_buf_appendf(out, "%s%c", sp, e.ua == PV_UA_RW ? '!' : '?');
        if (e.has_value) {
            pv_buf_append_str(out, sp);
            pv_text_quote(out, e.value);
        }
        pv_buf_append_str(out, ";\n");
    }
    return 0;
}
