/* rule.c — parse and evaluate provisioning rules; see rule.h. */
#include "core/rule.h"

#include "core/alloc.h"
#include "core/condition.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- parsed form, borrowing the expanded text ---- */

typedef struct raw_options {
    bool present;
    pv_slice key, uid, pwd; /* ptr NULL when absent */
    char post, alias;
    bool srv, delta, status;
    size_t col;
} raw_options;

typedef struct raw_assign {
    pv_slice name, value;
} raw_assign;

typedef struct alternative {
    size_t col; /* 1-based */
    bool has_cond;
    pv_condition cond;
    raw_assign *assign;
    size_t nassign;
    raw_options opts;
    bool has_url;
    pv_url url;
} alternative;

typedef struct parser {
    const char *s;
    size_t len, pos;
    pv_rule_kind kind;
    unsigned flags; /* PV_RULE_* flags of rule.h */
    pv_error *err;
} parser;

static void skip_ws(parser *p)
{
    while (p->pos < p->len && pv_is_space(p->s[p->pos]))
        p->pos++;
}

static int expected(parser *p, size_t pos, const char *what)
{
    if (pos >= p->len)
        return pv_error_set(p->err, PV_ESYNTAX, "column %zu: expected %s, found the end", pos + 1,
                            what);
    return pv_error_set(p->err, PV_ESYNTAX, "column %zu: expected %s, found '%c'", pos + 1, what,
                        p->s[pos]);
}

static void alternative_free(alternative *a)
{
    pv_condition_free(&a->cond);
    free(a->assign);
    pv_url_free(&a->url);
}

/*
 * From the '(' at pos, the index of the ')' that closes it, or len when none:
 * quotes hide parentheses. Used only to tell `( cond )?` from `( assign )!`.
 */
static size_t matching_paren(const parser *p, size_t pos)
{
    size_t depth = 0;
    bool quoted = false;
    for (size_t i = pos; i < p->len; i++) {
        char c = p->s[i];
        if (c == '"')
            quoted = !quoted;
        else if (!quoted && c == '(')
            depth++;
        else if (!quoted && c == ')' && --depth == 0)
            return i;
    }
    return p->len;
}

/* The first byte after pos that is not white space, or len. */
static size_t next_non_space(const parser *p, size_t pos)
{
    while (pos < p->len && pv_is_space(p->s[pos]))
        pos++;
    return pos;
}

static bool is_assignment_group(const parser *p)
{
    size_t close = matching_paren(p, p->pos);
    /* white space may stand between ')' and '?' or '!' (SB-PG: "for readability") */
    size_t mark = close < p->len ? next_non_space(p, close + 1) : p->len;
    if (mark < p->len && (p->s[mark] == '!' || p->s[mark] == '?'))
        return p->s[mark] == '!';
    /* Not closed by ')!' or ')?': guess from the content, for a better message.
     * An unquoted ';' only occurs in assignments. */
    bool quoted = false;
    for (size_t i = p->pos; i < close; i++) {
        if (p->s[i] == '"')
            quoted = !quoted;
        else if (!quoted && p->s[i] == ';')
            return true;
    }
    return false;
}

/* ---- ( Name = "value" ; ... )! — spec 1.5 ---- */

static int parse_assignment(parser *p, alternative *a)
{
    size_t cap = 0;
    p->pos++; /* '(' */
    for (;;) {
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ')') {
            size_t bang = next_non_space(p, p->pos + 1);
            if (bang < p->len && p->s[bang] == '!') {
                size_t close = p->pos;
                p->pos = bang + 1;
                return a->nassign ? 0 : expected(p, close, "an assignment Name = \"value\" ;");
            }
            return expected(p, p->pos + 1, "'!' after ')' to end the assignment");
        }
        if (a->nassign == PV_RULE_MAX_ASSIGNMENTS)
            return pv_error_set(p->err, PV_ETOOBIG, "column %zu: more than %d assignments",
                                p->pos + 1, PV_RULE_MAX_ASSIGNMENTS);
        size_t start = p->pos;
        while (p->pos < p->len && (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_'))
            p->pos++;
        if (p->pos == start)
            return expected(p, p->pos, "a parameter name or ')!'");
        pv_slice name = pv_slice_make(p->s + start, p->pos - start);
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != '=')
            return expected(p, p->pos, "'=' after the parameter name");
        p->pos++;
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != '"')
            return expected(p, p->pos, "a double-quoted value");
        const char *close = memchr(p->s + p->pos + 1, '"', p->len - p->pos - 1);
        if (close == NULL)
            return pv_error_set(p->err, PV_ESYNTAX, "column %zu: value not closed, expected '\"'",
                                p->pos + 1);
        pv_slice value = pv_slice_make(p->s + p->pos + 1, (size_t)(close - p->s) - p->pos - 1);
        p->pos = (size_t)(close - p->s) + 1;
        skip_ws(p);
        /* the grammar ends each one with ';'; the last may go without */
        if (p->pos < p->len && p->s[p->pos] == ';')
            p->pos++;
        else if (p->pos >= p->len || p->s[p->pos] != ')')
            return expected(p, p->pos, "';' after the value");
        if (a->nassign == cap) {
            cap = cap ? cap * 2 : 4;
            a->assign = pv_reallocarray(a->assign, cap, sizeof a->assign[0]);
        }
        a->assign[a->nassign++] = (raw_assign){name, value};
    }
}

/* ---- [--key K --post x ...] — spec 1.1, 7.1 ---- */

enum { ARG_NONE, ARG_STRING, ARG_LETTER };
typedef enum {
    OPT_KEY,
    OPT_UID,
    OPT_PWD,
    OPT_POST,
    OPT_ALIAS,
    OPT_SRV,
    OPT_DELTA,
    OPT_STATUS
} opt_id;
enum { K_PROFILE = 1 << PV_RULE_PROFILE, K_REPORT = 1 << PV_RULE_REPORT };

static const struct {
    const char *name;
    int arg;
    unsigned kinds;
} option_table[] = {
    [OPT_KEY] = {"key", ARG_STRING, K_PROFILE | K_REPORT},
    [OPT_UID] = {"uid", ARG_STRING, K_PROFILE | K_REPORT},
    [OPT_PWD] = {"pwd", ARG_STRING, K_PROFILE | K_REPORT},
    [OPT_POST] = {"post", ARG_LETTER, K_PROFILE},
    [OPT_ALIAS] = {"alias", ARG_LETTER, K_PROFILE},
    [OPT_SRV] = {"srv", ARG_NONE, K_PROFILE},
    [OPT_DELTA] = {"delta", ARG_NONE, K_REPORT},
    [OPT_STATUS] = {"status", ARG_NONE, K_REPORT},
};

/* Does a known `--option` (then white space, ']' or the end) start at pos? */
static bool option_at(const parser *p, size_t pos)
{
    if (pos + 2 > p->len || p->s[pos] != '-' || p->s[pos + 1] != '-')
        return false;
    size_t end = pos + 2;
    while (end < p->len && isalnum((unsigned char)p->s[end]))
        end++;
    if (end < p->len && !pv_is_space(p->s[end]) && p->s[end] != ']')
        return false;
    pv_slice name = pv_slice_make(p->s + pos + 2, end - pos - 2);
    for (size_t i = 0; i < sizeof option_table / sizeof option_table[0]; i++)
        if (pv_slice_eq_cstr(name, option_table[i].name))
            return true;
    return false;
}

static int parse_option_arg(parser *p, const char *name, int kind, pv_slice *out)
{
    skip_ws(p);
    size_t start = p->pos;
    /* An argument made of macros without values is empty after the one pass
     * (spec 1.7): Cisco's Extension Mobility rule `[--uid $MUID$PDOM --pwd
     * $MPWD]` reads `--pwd ]` when nobody is signed in, and real phones
     * still parse it (inferred: every resync would fail otherwise). So for
     * the credentials ']', the end or the next option means an empty
     * argument; a --key without one stays an error. */
    bool credential = strcmp(name, "uid") == 0 || strcmp(name, "pwd") == 0;
    if (credential && (start >= p->len || p->s[start] == ']' || option_at(p, start))) {
        *out = pv_slice_make(p->s + start, 0);
        return 0;
    }
    if (p->pos < p->len && p->s[p->pos] == '"') { /* spec 1.1: quotes optional */
        const char *close = memchr(p->s + start + 1, '"', p->len - start - 1);
        if (close == NULL)
            return pv_error_set(p->err, PV_ESYNTAX,
                                "column %zu: argument of --%s not closed, expected '\"'", start + 1,
                                name);
        *out = pv_slice_make(p->s + start + 1, (size_t)(close - p->s) - start - 1);
        p->pos = (size_t)(close - p->s) + 1;
    } else {
        while (p->pos < p->len && !pv_is_space(p->s[p->pos]) && p->s[p->pos] != ']')
            p->pos++;
        *out = pv_slice_make(p->s + start, p->pos - start);
    }
    if (kind == ARG_LETTER) {
        char c = out->len == 1 ? (char)tolower((unsigned char)out->ptr[0]) : 0;
        if (c < 'a' || c > 'p') /* spec 1.1: a..p names GPP_A..GPP_P */
            return pv_error_set(p->err, PV_ESYNTAX,
                                "column %zu: expected a GPP letter a..p after --%s", start + 1,
                                name);
    } else if (out->len == 0 && (start >= p->len || p->s[start] != '"')) {
        return expected(p, start, "an argument");
    }
    return 0;
}

static int store_option(parser *p, raw_options *o, size_t i, size_t col, pv_slice arg)
{
    bool dup = false;
    char letter = arg.len ? (char)tolower((unsigned char)arg.ptr[0]) : 0;
    switch ((opt_id)i) {
    case OPT_KEY:
        dup = o->key.ptr != NULL;
        o->key = arg;
        break;
    case OPT_UID:
        dup = o->uid.ptr != NULL;
        o->uid = arg;
        break;
    case OPT_PWD:
        dup = o->pwd.ptr != NULL;
        o->pwd = arg;
        break;
    case OPT_POST:
        dup = o->post != 0;
        o->post = letter;
        break;
    case OPT_ALIAS:
        dup = o->alias != 0;
        o->alias = letter;
        break;
    case OPT_SRV:
        dup = o->srv;
        o->srv = true;
        break;
    case OPT_DELTA:
        dup = o->delta;
        o->delta = true;
        break;
    case OPT_STATUS:
        dup = o->status;
        o->status = true;
        break;
    }
    if (dup)
        return pv_error_set(p->err, PV_ESYNTAX, "column %zu: option --%s given twice", col,
                            option_table[i].name);
    return 0;
}

static int parse_options(parser *p, raw_options *o)
{
    if (p->kind == PV_RULE_UPGRADE) /* spec 6: like Profile_Rule but no [options] */
        return pv_error_set(p->err, PV_ESYNTAX,
                            "column %zu: an Upgrade_Rule takes no [options]; expected a URL",
                            p->pos + 1);
    o->present = true;
    o->col = p->pos + 1;
    p->pos++; /* '[' */
    for (;;) {
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ']') {
            p->pos++;
            return 0;
        }
        size_t start = p->pos;
        if (p->pos + 1 >= p->len || p->s[p->pos] != '-' || p->s[p->pos + 1] != '-')
            return expected(p, p->pos,
                            p->pos >= p->len ? "']' to close the options"
                                             : "an option such as --key, or ']'");
        p->pos += 2;
        while (p->pos < p->len && isalnum((unsigned char)p->s[p->pos]))
            p->pos++;
        pv_slice name = pv_slice_make(p->s + start + 2, p->pos - start - 2);
        size_t i = 0, n = sizeof option_table / sizeof option_table[0];
        while (i < n && !pv_slice_eq_cstr(name, option_table[i].name))
            i++;
        int len = (int)(name.len > 32 ? 32 : name.len);
        if (i == n) /* spec 1.1 and DESIGN: an unknown option fails the rule */
            return pv_error_set(p->err, PV_ESYNTAX, "column %zu: unknown option '--%.*s'; %s",
                                start + 1, len, name.ptr,
                                p->kind == PV_RULE_REPORT
                                    ? "a Report_Rule takes --delta --status --key --uid --pwd"
                                    : "expected --key --uid --pwd --post --alias or --srv");
        if (!(option_table[i].kinds & (1u << p->kind)))
            return pv_error_set(p->err, PV_ESYNTAX, "column %zu: option --%s is not allowed in %s",
                                start + 1, option_table[i].name,
                                p->kind == PV_RULE_REPORT ? "a Report_Rule"
                                                          : "a Profile_Rule (Report_Rule only)");
        pv_slice arg = {0};
        if (option_table[i].arg != ARG_NONE) {
            int rc = parse_option_arg(p, option_table[i].name, option_table[i].arg, &arg);
            if (rc != 0)
                return rc;
        }
        int rc = store_option(p, o, i, start + 1, arg);
        if (rc != 0)
            return rc;
    }
}

/* ---- URL ---- */

static int parse_url(parser *p, alternative *a)
{
    size_t start = p->pos;
    /* A URL ends at white space, at the '|' of the next alternative, and in a
     * Report_Rule at the ';' between its two rules (spec 7.1). */
    while (p->pos < p->len && !pv_is_space(p->s[p->pos]) && p->s[p->pos] != '|' &&
           !(p->kind == PV_RULE_REPORT && p->s[p->pos] == ';'))
        p->pos++;
    int rc = pv_url_parse(pv_slice_make(p->s + start, p->pos - start), start, &a->url, p->err);
    if (rc != 0)
        return rc;
    a->has_url = true;
    const pv_url *u = &a->url;
    /* spec 1.2: multiplatform phones need a server in an Upgrade_Rule; the
     * Sipura guide's own example `(! 1.0.2)? /spa2000/1-00-02/spa.bin` fetches
     * from the DHCP-given TFTP server (SIP-ADM p.32) */
    if (p->kind == PV_RULE_UPGRADE && (u->gds || (u->dhcp_host &&
                                                  (p->flags & PV_RULE_UPGRADE_NEEDS_SERVER))))
        return pv_error_set(p->err, PV_ESYNTAX,
                            "column %zu: a multiplatform Upgrade_Rule URL must name a server, "
                            "e.g. http://server/firmware.loads",
                            start + 1);
    if (a->opts.srv && u->scheme == PV_SCHEME_TFTP) /* spec 1.1: --srv is HTTP/HTTPS only */
        return pv_error_set(p->err, PV_ESYNTAX,
                            "column %zu: --srv needs an http:// or https:// URL, not tftp",
                            start + 1);
    if (a->opts.post && u->scheme == PV_SCHEME_TFTP) /* spec 1.1: --post is HTTP/HTTPS only */
        return pv_error_set(p->err, PV_ESYNTAX,
                            "column %zu: --post needs an http:// or https:// URL, not tftp",
                            start + 1);
    return 0;
}

/* ---- one alternative of a Profile_Rule / Upgrade_Rule ---- */

static int parse_alternative(parser *p, alternative *a)
{
    skip_ws(p);
    a->col = p->pos + 1;
    if (p->pos < p->len && p->s[p->pos] == '(' && !is_assignment_group(p)) {
        size_t used = 0;
        int rc = pv_condition_parse(pv_slice_make(p->s + p->pos + 1, p->len - p->pos - 1),
                                    PV_COND_WRAPPED, p->pos + 1, &a->cond, &used, p->err);
        if (rc != 0)
            return rc;
        a->has_cond = true;
        p->pos += 1 + used;
        skip_ws(p);
    }
    if (p->pos < p->len && p->s[p->pos] == '(') {
        if (!is_assignment_group(p))
            return expected(p, p->pos, "an assignment ( Name = \"value\" ; )! after the condition");
        int rc = parse_assignment(p, a);
        if (rc != 0)
            return rc;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == '(')
            return expected(p, p->pos, "[options] or a URL (one assignment per alternative)");
    }
    if (p->pos < p->len && p->s[p->pos] == '[') {
        int rc = parse_options(p, &a->opts);
        if (rc != 0)
            return rc;
        skip_ws(p); /* spec 1.1: white space between ']' and the URL is optional */
        if (p->pos >= p->len || p->s[p->pos] == '|')
            return expected(p, p->pos, "a URL after the options");
    }
    if (p->pos < p->len && p->s[p->pos] != '|') {
        int rc = parse_url(p, a);
        if (rc != 0)
            return rc;
        skip_ws(p);
    }
    if (!a->has_cond && a->nassign == 0 && !a->has_url)
        return expected(p, p->pos, "a condition ( ... )?, an assignment ( ... )! or a URL");
    return 0;
}

static int parse_alternatives(parser *p, alternative **alts, size_t *nalts)
{
    size_t cap = 0;
    for (;;) {
        if (*nalts == PV_RULE_MAX_ALTERNATIVES)
            return pv_error_set(p->err, PV_ETOOBIG, "column %zu: more than %d alternatives",
                                p->pos + 1, PV_RULE_MAX_ALTERNATIVES);
        if (*nalts == cap) {
            cap = cap ? cap * 2 : 4;
            *alts = pv_reallocarray(*alts, cap, sizeof **alts);
        }
        alternative *a = &(*alts)[*nalts];
        memset(a, 0, sizeof *a);
        (*nalts)++;
        int rc = parse_alternative(p, a);
        if (rc != 0)
            return rc;
        if (p->pos == p->len)
            break;
        if (p->s[p->pos] != '|')
            return expected(p, p->pos, "'|' or the end of the rule");
        p->pos++;
    }
    for (size_t i = 0; i + 1 < *nalts; i++) { /* spec 1.1 */
        if (!(*alts)[i].has_cond)
            return pv_error_set(p->err, PV_ESYNTAX,
                                "column %zu: alternative %zu has no condition; every alternative "
                                "but the last needs one, ( ... )?",
                                (*alts)[i].col, i + 1);
    }
    return 0;
}

/* spec 7.1: up to two `[options] url`, separated by white space or ';'. */
static int parse_report(parser *p, alternative **alts, size_t *nalts)
{
    *alts = pv_calloc(PV_RULE_MAX_TARGETS, sizeof **alts);
    for (;;) {
        while (p->pos < p->len && (pv_is_space(p->s[p->pos]) || p->s[p->pos] == ';'))
            p->pos++;
        if (p->pos == p->len)
            return 0;
        if (*nalts == PV_RULE_MAX_TARGETS)
            return pv_error_set(p->err, PV_ESYNTAX,
                                "column %zu: a Report_Rule holds at most two rules", p->pos + 1);
        alternative *a = &(*alts)[(*nalts)++];
        a->col = p->pos + 1;
        if (p->s[p->pos] == '[') {
            int rc = parse_options(p, &a->opts);
            if (rc != 0)
                return rc;
            skip_ws(p);
        }
        if (p->pos >= p->len || p->s[p->pos] == ';')
            return expected(p, p->pos, "a URL");
        if (p->s[p->pos] == '(')
            return expected(p, p->pos, "'[' or a URL (a Report_Rule has no conditions)");
        int rc = parse_url(p, a);
        if (rc != 0)
            return rc;
    }
}

/* ---- evaluation ---- */

static char *expand_secret_arg(pv_slice arg, const pv_macro_env *env)
{
    if (arg.ptr == NULL)
        return NULL;
    /* spec 1.7: SA..SD are substituted only inside option arguments */
    pv_buf b = {0};
    pv_macro_expand(arg, env, PV_MACRO_ONLY_SECRETS, &b);
    return pv_buf_take(&b, NULL);
}

static void take_target(alternative *a, const pv_macro_env *env, pv_rule_target *t)
{
    t->has_options = a->opts.present;
    t->opts.key = expand_secret_arg(a->opts.key, env);
    t->opts.uid = expand_secret_arg(a->opts.uid, env);
    t->opts.pwd = expand_secret_arg(a->opts.pwd, env);
    t->opts.post = a->opts.post;
    t->opts.alias = a->opts.alias;
    t->opts.srv = a->opts.srv;
    t->opts.delta = a->opts.delta;
    t->opts.status = a->opts.status;
    t->has_url = a->has_url;
    t->url = a->url;
    memset(&a->url, 0, sizeof a->url); /* moved */
}

static void take_assignments(const alternative *a, pv_rule_result *out)
{
    out->assign = pv_calloc(a->nassign ? a->nassign : 1, sizeof out->assign[0]);
    for (size_t i = 0; i < a->nassign; i++) {
        pv_slice n = a->assign[i].name;
        if (n.len == 1 && n.ptr[0] >= 'a' && n.ptr[0] <= 'p') { /* spec 1.5: a..p = GPP_A..P */
            char gpp[] = "GPP_A";
            gpp[4] = (char)toupper((unsigned char)n.ptr[0]);
            out->assign[i].name = pv_strdup(gpp);
        } else {
            out->assign[i].name = pv_slice_dup(n);
        }
        out->assign[i].value = pv_slice_dup(a->assign[i].value);
    }
    out->nassign = a->nassign;
}

static int choose(alternative *alts, size_t nalts, const pv_macro_env *env, pv_rule_result *out,
                  pv_error *err)
{
    pv_buf swver = {0};
    if (env != NULL && env->lookup != NULL)
        env->lookup(env->ctx, "SWVER", &swver);
    int rc = 0;
    for (size_t i = 0; i < nalts; i++) {
        bool holds = true;
        if (alts[i].has_cond) {
            rc = pv_condition_eval(&alts[i].cond, pv_buf_slice(&swver), &holds, err);
            if (rc != 0)
                break;
        }
        if (!holds)
            continue;
        /* spec 1.1: the first alternative whose condition holds is used */
        out->outcome = PV_RULE_SELECTED;
        out->chosen = i + 1;
        out->chosen_conditional = alts[i].has_cond;
        take_assignments(&alts[i], out);
        if (alts[i].has_url || alts[i].opts.present)
            take_target(&alts[i], env, &out->targets[out->ntargets++]);
        break;
    }
    pv_buf_free(&swver);
    return rc;
}

int pv_rule_eval(pv_rule_kind kind, pv_slice rule, const pv_macro_env *env, pv_rule_result *out,
                 pv_error *err)
{
    return pv_rule_eval_flags(kind, 0, rule, env, out, err);
}

int pv_rule_eval_flags(pv_rule_kind kind, unsigned flags, pv_slice rule, const pv_macro_env *env,
                       pv_rule_result *out, pv_error *err)
{
    memset(out, 0, sizeof *out);
    out->kind = kind;
    out->outcome = PV_RULE_EMPTY;
    if (rule.len > PV_RULE_MAX)
        return pv_error_set(err, PV_ETOOBIG, "rule longer than %zu bytes", PV_RULE_MAX);
    pv_buf b = {0};
    pv_macro_expand(rule, env, 0, &b); /* spec 1.7: once, over the whole rule */
    size_t len = b.len;
    out->expanded = pv_buf_take(&b, NULL);
    if (len > PV_RULE_MAX)
        return pv_error_set(err, PV_ETOOBIG, "rule longer than %zu bytes after macro expansion",
                            PV_RULE_MAX);
    if (memchr(out->expanded, '\0', len) != NULL)
        return pv_error_set(err, PV_ESYNTAX, "column %zu: NUL byte in the rule",
                            strlen(out->expanded) + 1);
    parser p = {out->expanded, len, 0, kind, flags, err};
    skip_ws(&p);
    if (p.pos == p.len)
        return 0; /* spec 1.1: an empty rule is skipped */
    if (p.s[p.pos] == '#') {
        out->commented = true; /* spec 1.6 */
        return 0;
    }
    alternative *alts = NULL;
    size_t nalts = 0;
    int rc;
    if (kind == PV_RULE_REPORT) {
        rc = parse_report(&p, &alts, &nalts);
        if (rc == 0 && nalts > 0) {
            out->outcome = PV_RULE_SELECTED;
            out->chosen = 1;
            for (size_t i = 0; i < nalts; i++)
                take_target(&alts[i], env, &out->targets[out->ntargets++]);
        }
    } else {
        rc = parse_alternatives(&p, &alts, &nalts);
        if (rc == 0) {
            out->outcome = PV_RULE_NO_MATCH;
            rc = choose(alts, nalts, env, out, err);
        }
    }
    out->nalternatives = nalts;
    for (size_t i = 0; i < nalts; i++)
        alternative_free(&alts[i]);
    free(alts);
    return rc;
}

void pv_rule_result_free(pv_rule_result *r)
{
    free(r->expanded);
    for (size_t i = 0; i < r->nassign; i++) {
        free(r->assign[i].name);
        free(r->assign[i].value);
    }
    free(r->assign);
    for (size_t i = 0; i < r->ntargets; i++) {
        free(r->targets[i].opts.key);
        free(r->targets[i].opts.uid);
        free(r->targets[i].opts.pwd);
        pv_url_free(&r->targets[i].url);
    }
    memset(r, 0, sizeof *r);
}

const char *pv_rule_kind_name(pv_rule_kind k)
{
    switch (k) {
    case PV_RULE_PROFILE:
        return "profile";
    case PV_RULE_UPGRADE:
        return "upgrade";
    case PV_RULE_REPORT:
        return "report";
    }
    return "?";
}

const char *pv_rule_outcome_name(pv_rule_outcome o)
{
    switch (o) {
    case PV_RULE_SELECTED:
        return "selected";
    case PV_RULE_NO_MATCH:
        return "no-match";
    case PV_RULE_EMPTY:
        return "empty";
    }
    return "?";
}
