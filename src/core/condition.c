/* condition.c — `and`-lists of comparisons; see condition.h. */
#include "core/condition.h"

#include "core/alloc.h"
#include "core/version.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *sym, *word;
} op_names[] = {
    [PV_COND_EQ] = {"=", "eq"},  [PV_COND_NE] = {"!=", "ne"}, [PV_COND_LT] = {"<", "lt"},
    [PV_COND_LE] = {"<=", "le"}, [PV_COND_GT] = {">", "gt"},  [PV_COND_GE] = {">=", "ge"},
};

const char *pv_cond_op_name(pv_cond_op op)
{
    return op <= PV_COND_GE ? op_names[op].word : "?";
}

typedef struct parser {
    const char *s;
    size_t len, pos, col_base;
    pv_cond_mode mode;
    pv_error *err;
} parser;

static void skip_ws(parser *p)
{
    while (p->pos < p->len && pv_is_space(p->s[p->pos]))
        p->pos++;
}

static size_t col(const parser *p, size_t pos)
{
    return p->col_base + pos + 1;
}

static int fail(parser *p, size_t pos, const char *what)
{
    if (pos >= p->len)
        return pv_error_set(p->err, PV_ESYNTAX, "column %zu: expected %s, found the end",
                            col(p, pos), what);
    return pv_error_set(p->err, PV_ESYNTAX, "column %zu: expected %s, found '%c'", col(p, pos),
                        what, p->s[pos]);
}

static size_t word_len(const parser *p, size_t pos)
{
    size_t n = 0;
    while (pos + n < p->len && isalpha((unsigned char)p->s[pos + n]))
        n++;
    /* a word ends where a name character does not follow: "andy" is no "and" */
    if (pos + n < p->len && (isalnum((unsigned char)p->s[pos + n]) || p->s[pos + n] == '_'))
        return 0;
    return n;
}

/* Recognizes an operator at pos; returns its length (0 = none). spec 1.4 */
static size_t match_op(const parser *p, size_t pos, pv_cond_op *op)
{
    const char *s = p->s + pos;
    size_t left = p->len - pos;
    if (left == 0)
        return 0;
    if (left >= 2 && s[1] == '=' && (s[0] == '!' || s[0] == '<' || s[0] == '>')) {
        *op = s[0] == '!' ? PV_COND_NE : s[0] == '<' ? PV_COND_LE : PV_COND_GE;
        return 2;
    }
    switch (s[0]) {
    case '=':
        *op = PV_COND_EQ;
        return 1;
    case '!': /* legacy (< 2.0.6): `!` alone means `!=` */
        *op = PV_COND_NE;
        return 1;
    case '<':
        *op = PV_COND_LT;
        return 1;
    case '>':
        *op = PV_COND_GT;
        return 1;
    default:
        break;
    }
    size_t n = word_len(p, pos);
    if (n != 2)
        return 0;
    for (int i = PV_COND_EQ; i <= PV_COND_GE; i++) {
        if (strncasecmp(s, op_names[i].word, 2) == 0) {
            *op = (pv_cond_op)i;
            return 2;
        }
    }
    return 0;
}

static bool ends_operand(char c)
{
    return pv_is_space(c) || c == '=' || c == '!' || c == '<' || c == '>' || c == '"';
}

static int parse_operand(parser *p, pv_cond_operand *o)
{
    size_t start = p->pos;
    o->col = col(p, start);
    o->implied = false;
    if (start < p->len && p->s[start] == '"') {
        const char *close = memchr(p->s + start + 1, '"', p->len - start - 1);
        if (close == NULL)
            return pv_error_set(p->err, PV_ESYNTAX, "column %zu: string not closed, expected '\"'",
                                o->col);
        o->quoted = true;
        o->text = pv_slice_make(p->s + start + 1, (size_t)(close - p->s) - start - 1);
        p->pos = (size_t)(close - p->s) + 1;
        return 0;
    }
    /* Unquoted: a version may hold balanced parentheses, 2.0.6(b); a ')' that
     * closes nothing ends the operand (it closes the rule's `( ... )?`). */
    size_t depth = 0, q = start;
    while (q < p->len && !ends_operand(p->s[q])) {
        if (p->s[q] == '(')
            depth++;
        else if (p->s[q] == ')' && depth-- == 0)
            break;
        q++;
    }
    if (q == start)
        return fail(p, start, "a number, a version or a quoted string");
    o->quoted = false;
    o->text = pv_slice_make(p->s + start, q - start);
    p->pos = q;
    return 0;
}

static int parse_term(parser *p, pv_cond_term *t)
{
    skip_ws(p);
    pv_cond_op op;
    size_t n = match_op(p, p->pos, &op);
    bool implied = false;
    if (n > 0) {
        /* Legacy: no left operand means $SWVER (`! 1.0.33`, `<1.0`). A word
         * operator counts only when no operator follows it (`eq eq 3`). */
        size_t save = p->pos;
        p->pos += n;
        skip_ws(p);
        pv_cond_op next;
        implied = !isalpha((unsigned char)p->s[save]) || match_op(p, p->pos, &next) == 0;
        p->pos = save;
    }
    if (implied) {
        t->left = (pv_cond_operand){.implied = true, .col = col(p, p->pos)};
    } else {
        int rc = parse_operand(p, &t->left);
        if (rc != 0)
            return rc;
        skip_ws(p);
    }
    t->op_col = col(p, p->pos);
    n = match_op(p, p->pos, &t->op);
    if (n == 0)
        return fail(p, p->pos, "an operator (eq ne lt le gt ge = != < <= > >=)");
    p->pos += n;
    skip_ws(p);
    return parse_operand(p, &t->right);
}

int pv_condition_parse(pv_slice text, pv_cond_mode mode, size_t col_base, pv_condition *out,
                       size_t *used, pv_error *err)
{
    parser p = {text.ptr, text.len, 0, col_base, mode, err};
    *out = (pv_condition){0};
    size_t cap = 0;
    int rc = 0;
    for (;;) {
        if (out->nterms == PV_CONDITION_MAX_TERMS) {
            rc = pv_error_set(err, PV_ETOOBIG, "column %zu: more than %d comparisons",
                              col(&p, p.pos), PV_CONDITION_MAX_TERMS);
            break;
        }
        if (out->nterms == cap) {
            cap = cap ? cap * 2 : 4;
            out->terms = pv_reallocarray(out->terms, cap, sizeof out->terms[0]);
        }
        rc = parse_term(&p, &out->terms[out->nterms]);
        if (rc != 0)
            break;
        out->nterms++;
        skip_ws(&p);
        size_t w = word_len(&p, p.pos);
        if (w == 3 && strncasecmp(p.s + p.pos, "and", 3) == 0) {
            p.pos += 3;
            continue;
        }
        if (mode == PV_COND_WRAPPED) {
            /* spec 1.1: conditions in rules are written `( expr )?` */
            /* SB-PG, LK-PG: white space may be used for readability, and
             * shipped rules write `($SWVER lt 7.5.2b) ? url` */
            size_t q = p.pos + 1;
            while (q < p.len && pv_is_space(p.s[q]))
                q++;
            if (p.pos < p.len && p.s[p.pos] == ')' && q < p.len && p.s[q] == '?') {
                if (used != NULL)
                    *used = q + 1;
                return 0;
            }
            rc = fail(&p, p.pos,
                      p.pos >= p.len ? "')?' after condition" : "'and' or ')?' after condition");
            break;
        }
        if (p.pos == p.len) {
            if (used != NULL)
                *used = p.pos;
            return 0;
        }
        rc = fail(&p, p.pos, "'and' or the end of the condition");
        break;
    }
    pv_condition_free(out);
    return rc;
}

void pv_condition_free(pv_condition *c)
{
    free(c->terms);
    *c = (pv_condition){0};
}

static bool is_integer(pv_slice s)
{
    size_t i = (s.len > 0 && s.ptr[0] == '-') ? 1 : 0;
    if (i == s.len)
        return false;
    for (; i < s.len; i++) {
        if (!isdigit((unsigned char)s.ptr[i]))
            return false;
    }
    return true;
}

/* Integers of any length, with sign: never overflows. */
static int cmp_integers(pv_slice a, pv_slice b)
{
    bool na = a.ptr[0] == '-', nb = b.ptr[0] == '-';
    pv_slice da = pv_slice_make(a.ptr + na, a.len - na), db = pv_slice_make(b.ptr + nb, b.len - nb);
    int c = pv_version_cmp_digits(da, db);
    bool zero_a = pv_version_cmp_digits(da, PV_SLICE_LIT("0")) == 0;
    bool zero_b = pv_version_cmp_digits(db, PV_SLICE_LIT("0")) == 0;
    na = na && !zero_a; /* -0 is 0 */
    nb = nb && !zero_b;
    if (na != nb)
        return na ? -1 : 1;
    return na ? -c : c;
}

static int parse_version_operand(const pv_cond_operand *o, pv_slice text, pv_version *v,
                                 pv_error *err)
{
    pv_error why;
    if (pv_version_parse(text, v, &why) == 0)
        return 0;
    if (o->implied)
        return pv_error_set(err, PV_EINVAL,
                            "column %zu: the software version '%.*s' (implied left operand) "
                            "is not a version: %s",
                            o->col, (int)(text.len > 64 ? 64 : text.len), text.ptr, why.msg);
    return pv_error_set(err, PV_EINVAL,
                        "column %zu: '%.*s' is not a number or a version (quote strings): %s",
                        o->col, (int)(text.len > 64 ? 64 : text.len), text.ptr, why.msg);
}

static bool holds(pv_cond_op op, int c)
{
    switch (op) {
    case PV_COND_EQ:
        return c == 0;
    case PV_COND_NE:
        return c != 0;
    case PV_COND_LT:
        return c < 0;
    case PV_COND_LE:
        return c <= 0;
    case PV_COND_GT:
        return c > 0;
    case PV_COND_GE:
        return c >= 0;
    }
    return false;
}

static int eval_term(const pv_cond_term *t, pv_slice swver, bool *result, pv_error *err)
{
    pv_slice l = t->left.implied ? swver : t->left.text, r = t->right.text;
    if (t->left.implied && swver.len == 0)
        return pv_error_set(err, PV_EINVAL,
                            "column %zu: no left operand, which means the software version, "
                            "but none is known",
                            t->left.col);
    if (t->left.quoted != t->right.quoted) {
        const pv_cond_operand *s = t->left.quoted ? &t->left : &t->right;
        return pv_error_set(err, PV_EINVAL,
                            "column %zu: cannot compare the string \"%.*s\" with an unquoted "
                            "operand; quote both (strings) or neither (numbers, versions)",
                            s->col, (int)(s->text.len > 64 ? 64 : s->text.len), s->text.ptr);
    }
    int c;
    if (t->left.quoted) {
        if (t->op != PV_COND_EQ && t->op != PV_COND_NE) /* spec 1.4: strings eq/ne only */
            return pv_error_set(err, PV_EINVAL,
                                "column %zu: strings compare only with eq or ne, not %s", t->op_col,
                                pv_cond_op_name(t->op));
        c = pv_slice_eq(l, r) ? 0 : 1;
    } else if (is_integer(l) && is_integer(r)) {
        c = cmp_integers(l, r);
    } else {
        pv_version vl, vr;
        int rc = parse_version_operand(&t->left, l, &vl, err);
        if (rc == 0)
            rc = parse_version_operand(&t->right, r, &vr, err);
        if (rc == 0) {
            pv_error why;
            rc = pv_version_compare(&vl, &vr, &c, &why);
            if (rc != 0)
                return pv_error_set(err, rc, "column %zu: %s", t->op_col, why.msg);
        }
        if (rc != 0)
            return rc;
    }
    *result = holds(t->op, c);
    return 0;
}

int pv_condition_eval(const pv_condition *c, pv_slice swver, bool *result, pv_error *err)
{
    /* spec 1.4: all comparisons must hold. Every term is checked even after a
     * false one, so a type error is reported whatever the values are today. */
    bool all = true;
    for (size_t i = 0; i < c->nterms; i++) {
        bool one = false;
        int rc = eval_term(&c->terms[i], swver, &one, err);
        if (rc != 0)
            return rc;
        all = all && one;
    }
    *result = all;
    return 0;
}

int pv_condition_test(pv_slice text, pv_slice swver, bool *result, pv_error *err)
{
    pv_condition c;
    int rc = pv_condition_parse(text, PV_COND_BARE, 0, &c, NULL, err);
    if (rc != 0)
        return rc;
    rc = pv_condition_eval(&c, swver, result, err);
    pv_condition_free(&c);
    return rc;
}

int pv_condition_trigger(pv_slice text, const pv_macro_env *env, bool *set, bool *result,
                         pv_error *err)
{
    *set = false;
    *result = false;
    pv_buf expanded = {0}, swver = {0};
    pv_macro_expand(text, env, 0, &expanded); /* spec 2.1: triggers are expanded */
    pv_slice body = pv_slice_trim(pv_buf_slice(&expanded));
    int rc = 0;
    if (body.len > 0 && body.ptr[0] != '#') { /* spec 1.6 */
        *set = true;
        if (env != NULL && env->lookup != NULL)
            env->lookup(env->ctx, "SWVER", &swver);
        /* columns count from the start of the expanded value */
        pv_condition c;
        size_t lead = (size_t)(body.ptr - expanded.data);
        rc = pv_condition_parse(body, PV_COND_BARE, lead, &c, NULL, err);
        if (rc == 0) {
            rc = pv_condition_eval(&c, pv_buf_slice(&swver), result, err);
            pv_condition_free(&c);
        }
    }
    pv_buf_free(&expanded);
    pv_buf_free(&swver);
    return rc;
}
