/*
 * http_digest.c — Digest challenges and answers (see http_digest.h).
 *
 * The challenge grammar (RFC 9110 §11.2, §11.6.1) is read leniently where
 * servers differ (a token68 after another scheme, stray spaces) and strictly
 * where a mistake would change what we send (an unterminated quoted string,
 * a field too long for our bounded copy).
 */
#include "core/http_digest.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 §5.6.2 tchar */
static bool tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool ows(char c)
{
    return c == ' ' || c == '\t';
}

typedef struct parser {
    const char *s;
    size_t len, i;
    pv_error *err;
} parser;

/* A parameter value: a quoted-string (RFC 9110 §5.6.4, backslash escapes) or a token. */
static int read_value(parser *p, char *out, size_t size, const char *name)
{
    size_t n = 0;
    if (p->i < p->len && p->s[p->i] == '"') {
        size_t start = p->i++;
        for (;;) {
            if (p->i >= p->len)
                return pv_error_set(p->err, PV_ESYNTAX,
                                    "column %zu: the quoted value of %s is not closed", start + 1,
                                    name);
            char c = p->s[p->i++];
            if (c == '"')
                break;
            if (c == '\\' && p->i < p->len)
                c = p->s[p->i++];
            if ((unsigned char)c < 0x20 && c != '\t') /* RFC 9110 §5.6.4: no CTLs */
                return pv_error_set(p->err, PV_ESYNTAX, "column %zu: a control character in %s",
                                    p->i, name);
            if (n + 1 >= size)
                return pv_error_set(p->err, PV_ETOOBIG, "column %zu: %s longer than %zu bytes",
                                    start + 1, name, size - 1);
            out[n++] = c;
        }
    } else { /* a token, or what is left of a token68 ("abc==") */
        while (p->i < p->len && p->s[p->i] != ',' && !ows(p->s[p->i])) {
            if ((unsigned char)p->s[p->i] < 0x20)
                return pv_error_set(p->err, PV_ESYNTAX, "column %zu: a control character in %s",
                                    p->i + 1, name);
            if (n + 1 >= size)
                return pv_error_set(p->err, PV_ETOOBIG, "column %zu: %s longer than %zu bytes",
                                    p->i + 1, name, size - 1);
            out[n++] = p->s[p->i++];
        }
    }
    out[n] = '\0';
    return 0;
}

/* "auth" among a qop list such as "auth,auth-int" (RFC 7616 §3.3). */
static bool offers_auth(const char *list)
{
    for (const char *q = list; *q != '\0';) {
        while (*q == ',' || ows(*q))
            q++;
        size_t n = strcspn(q, ", \t");
        if (n == 4 && strncasecmp(q, "auth", 4) == 0)
            return true;
        q += n;
    }
    return false;
}

typedef struct candidate {
    pv_digest_challenge c;
    bool is_digest, has_nonce, has_realm, alg_ok, qop_given;
    const char *why; /* why it cannot be answered, or NULL */
} candidate;

static int digest_param(parser *p, candidate *k, pv_slice name)
{
    pv_digest_challenge *c = &k->c;
    char value[PV_DIGEST_FIELD_MAX];
    char *dst = value;
    if (pv_slice_case_eq_cstr(name, "realm"))
        dst = c->realm;
    else if (pv_slice_case_eq_cstr(name, "nonce"))
        dst = c->nonce;
    else if (pv_slice_case_eq_cstr(name, "opaque"))
        dst = c->opaque;
    char what[32];
    snprintf(what, sizeof what, "%.*s", (int)(name.len < 20 ? name.len : 20), name.ptr);
    int rc = read_value(p, dst, PV_DIGEST_FIELD_MAX, what);
    if (rc != 0)
        return rc;
    if (dst == c->realm)
        k->has_realm = true;
    else if (dst == c->nonce)
        k->has_nonce = c->nonce[0] != '\0';
    else if (dst == c->opaque)
        c->has_opaque = true;
    else if (pv_slice_case_eq_cstr(name, "algorithm")) {
        static const struct {
            const char *name;
            pv_digest_alg alg;
            bool sess;
        } algs[] = {{"MD5", PV_DIGEST_MD5, false},
                    {"MD5-sess", PV_DIGEST_MD5, true},
                    {"SHA-256", PV_DIGEST_SHA256, false},
                    {"SHA-256-sess", PV_DIGEST_SHA256, true}};
        k->alg_ok = false;
        for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
            if (strcasecmp(value, algs[i].name) == 0) {
                c->alg = algs[i].alg;
                c->sess = algs[i].sess;
                k->alg_ok = true;
            }
        }
        if (!k->alg_ok)
            k->why = "its algorithm is not MD5 or SHA-256";
    } else if (pv_slice_case_eq_cstr(name, "qop")) {
        k->qop_given = true;
        c->qop_auth = offers_auth(value);
    } else if (pv_slice_case_eq_cstr(name, "userhash")) {
        c->userhash = strcasecmp(value, "true") == 0;
    } /* stale, domain, charset: nothing to do for one request */
    return 0;
}

/* Can k be answered? Sets k->why when not. */
static bool answerable(candidate *k)
{
    if (!k->is_digest)
        return false;
    if (k->why == NULL && !k->has_nonce)
        k->why = "it has no nonce";
    if (k->why == NULL && !k->has_realm)
        k->why = "it has no realm";
    if (k->why == NULL && k->qop_given && !k->c.qop_auth)
        k->why = "it offers no qop=auth";
    return k->why == NULL;
}

int pv_digest_parse(pv_slice header, pv_digest_challenge *out, pv_error *err)
{
    parser p = {.s = header.ptr, .len = header.len, .err = err};
    candidate k = {0};
    const char *why = NULL;
    bool any_scheme = false;
    for (;;) {
        while (p.i < p.len && (p.s[p.i] == ',' || ows(p.s[p.i])))
            p.i++;
        if (p.i >= p.len)
            break;
        size_t start = p.i;
        while (p.i < p.len && tchar(p.s[p.i]))
            p.i++;
        if (p.i == start)
            return pv_error_set(err, PV_ESYNTAX,
                                "column %zu: '%c' where a scheme or parameter "
                                "name was expected",
                                start + 1, p.s[start]);
        pv_slice tok = pv_slice_make(p.s + start, p.i - start);
        size_t j = p.i;
        while (j < p.len && ows(p.s[j]))
            j++;
        if (j < p.len && p.s[j] == '=') { /* auth-param (RFC 9110 §11.2) */
            if (!any_scheme)
                return pv_error_set(err, PV_ESYNTAX, "column %zu: a parameter before any scheme",
                                    start + 1);
            p.i = j + 1;
            while (p.i < p.len && ows(p.s[p.i]))
                p.i++;
            int rc;
            if (k.is_digest) {
                rc = digest_param(&p, &k, tok);
            } else {
                char skip[PV_DIGEST_FIELD_MAX * 4]; /* another scheme's value: read past it */
                rc = read_value(&p, skip, sizeof skip, "a parameter");
            }
            if (rc != 0)
                return rc;
            continue;
        }
        if (answerable(&k)) /* a new challenge starts: the previous one is complete */
            break;
        if (k.why != NULL)
            why = k.why;
        memset(&k, 0, sizeof k);
        k.alg_ok = true; /* no algorithm parameter: MD5 (RFC 7616 §3.3) */
        k.is_digest = pv_slice_case_eq_cstr(tok, "Digest");
        any_scheme = true;
    }
    if (answerable(&k)) {
        *out = k.c;
        return 0;
    }
    if (k.why != NULL)
        why = k.why;
    if (why != NULL)
        return pv_error_set(err, PV_ENOTSUP, "a Digest challenge we cannot answer: %s", why);
    return pv_error_set(err, PV_ENOENT, "no Digest challenge");
}

/* ---- the answer ---- */

/* Hex of H(text) for the challenge's algorithm. */
static void hash_hex(pv_digest_alg alg, const pv_buf *text, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(text->data ? text->data : "", text->len, md, &n,
               alg == PV_DIGEST_SHA256 ? EVP_sha256() : EVP_md5(), NULL);
    pv_hex_encode(md, n < 32 ? n : 32, out);
}

/* Hex of H(parts joined with ':'), the shape of every RFC 7616 §3.4 input. */
static void hash_join(pv_digest_alg alg, char out[65], const char *const *parts, size_t n)
{
    pv_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            pv_buf_append_char(&b, ':');
        pv_buf_append_str(&b, parts[i]);
    }
    hash_hex(alg, &b, out);
    pv_buf_free(&b);
}

#define HASH(alg, out, ...)                                                                        \
    hash_join(alg, out, (const char *const[]){__VA_ARGS__},                                        \
              sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* A quoted-string with '"' and '\' escaped (RFC 9110 §5.6.4). */
static void append_quoted(pv_buf *out, const char *s)
{
    pv_buf_append_char(out, '"');
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            pv_buf_append_char(out, '\\');
        pv_buf_append_char(out, *s);
    }
    pv_buf_append_char(out, '"');
}

static bool sendable(const char *s, bool allow_quote)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || (!allow_quote && c == '"'))
            return false;
    }
    return true;
}

void pv_digest_response(const pv_digest_challenge *c, const char *user, const char *pwd,
                        const char *method, const char *uri, const char *cnonce, unsigned nc,
                        char out[65])
{
    char ha1[65], ha2[65], ncs[9];
    snprintf(ncs, sizeof ncs, "%08x", nc); /* fits: 8 hex digits */
    /* RFC 7616 §3.4.2: A1 = user:realm:password; -sess: H(A1):nonce:cnonce */
    HASH(c->alg, ha1, user, c->realm, pwd ? pwd : "");
    if (c->sess) {
        char base[65];
        memcpy(base, ha1, sizeof base);
        HASH(c->alg, ha1, base, c->nonce, cnonce);
    }
    HASH(c->alg, ha2, method, uri); /* §3.4.3, qop=auth */
    if (c->qop_auth)                /* §3.4.1 */
        HASH(c->alg, out, ha1, c->nonce, ncs, cnonce, "auth", ha2);
    else /* RFC 2069: no qop */
        HASH(c->alg, out, ha1, c->nonce, ha2);
}

int pv_digest_authorization(const pv_digest_challenge *c, const char *user, const char *pwd,
                            const char *method, const char *uri, const char *cnonce, unsigned nc,
                            pv_buf *out, pv_error *err)
{
    if (!sendable(user, true) || !sendable(uri, false) || !sendable(cnonce, false) ||
        !sendable(method, false) || *cnonce == '\0' || *uri == '\0')
        return pv_error_set(err, PV_EINVAL,
                            "Digest: the username, method, uri or cnonce holds a character that "
                            "cannot be sent in a header");
    char resp[65], ncs[9];
    snprintf(ncs, sizeof ncs, "%08x", nc); /* fits: 8 hex digits */
    pv_digest_response(c, user, pwd, method, uri, cnonce, nc, resp);
    pv_buf_append_str(out, "Digest username=");
    if (c->userhash) { /* §3.4.4: H(user:realm) */
        char uh[65];
        HASH(c->alg, uh, user, c->realm);
        append_quoted(out, uh);
    } else {
        append_quoted(out, user);
    }
    pv_buf_append_str(out, ", realm=");
    append_quoted(out, c->realm);
    pv_buf_appendf(out, ", uri=\"%s\", algorithm=%s%s, nonce=", uri,
                   c->alg == PV_DIGEST_SHA256 ? "SHA-256" : "MD5", c->sess ? "-sess" : "");
    append_quoted(out, c->nonce);
    if (c->qop_auth)
        pv_buf_appendf(out, ", nc=%s, cnonce=\"%s\", qop=auth", ncs, cnonce);
    pv_buf_appendf(out, ", response=\"%s\"", resp);
    if (c->has_opaque) {
        pv_buf_append_str(out, ", opaque=");
        append_quoted(out, c->opaque);
    }
    if (c->userhash)
        pv_buf_append_str(out, ", userhash=true");
    return 0;
}
