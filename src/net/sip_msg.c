/*
 * sip_msg.c — SIP messages through GNU oSIP (see sip_msg.h).
 *
 * oSIP parses and prints; this file only checks the fields RFC 3261 §8.1.1
 * requires, caches the few values callers read as strings, and copies the
 * header fields a response must echo (§8.2.6.2).
 */
#include "net/sip_msg.h"

#include "core/alloc.h"

#include <ctype.h>
#include <osipparser2/osip_parser.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct pv_sip_msg {
    osip_message_t *m;
    char *call_id; /* "number@host" as sent */
    char method[32];
    char request_user[128];
    char branch[128];
};

/* oSIP fails only when malloc does: out of memory aborts here, as everywhere (core/alloc.h). */
static osip_message_t *new_message(void)
{
    osip_message_t *m = NULL;
    if (osip_message_init(&m) != 0 || m == NULL) {
        fputs("provisor: out of memory (oSIP)\n", stderr);
        abort();
    }
    return m;
}

static pthread_once_t parser_once = PTHREAD_ONCE_INIT;

static void init_parser(void)
{
    parser_init(); /* oSIP's header tables: once per process */
}

static void copy_bounded(char *dst, size_t size, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= size)
        n = size - 1;
    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* A quoted-string's content (oSIP keeps the quotes), with \x escapes resolved. */
static bool unquote(char *dst, size_t size, const char *src)
{
    if (src == NULL) {
        dst[0] = '\0';
        return true;
    }
    size_t len = strlen(src), n = 0;
    if (len >= 2 && src[0] == '"' && src[len - 1] == '"') {
        src++;
        len -= 2;
    }
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '\\' && i + 1 < len)
            c = src[++i];
        if (n + 1 >= size)
            return false;
        dst[n++] = c;
    }
    dst[n] = '\0';
    return true;
}

int pv_sip_parse(const void *data, size_t len, pv_sip_msg **out, pv_error *err)
{
    if (len == 0)
        return pv_error_set(err, PV_ESYNTAX, "SIP: an empty message");
    if (len > PV_SIP_MAX_MESSAGE)
        return pv_error_set(err, PV_ETOOBIG, "SIP: a message of %zu bytes (at most %d)", len,
                            PV_SIP_MAX_MESSAGE);
    pthread_once(&parser_once, init_parser);
    osip_message_t *m = new_message();
    /* oSIP reads a NUL-terminated copy; a NUL inside is not SIP text */
    if (memchr(data, '\0', len) != NULL || osip_message_parse(m, data, len) != 0) {
        osip_message_free(m);
        return pv_error_set(err, PV_ESYNTAX, "SIP: the start line or a header does not parse");
    }
    const char *missing = NULL;
    if (m->call_id == NULL)
        missing = "Call-ID";
    else if (m->cseq == NULL || m->cseq->number == NULL || m->cseq->method == NULL)
        missing = "CSeq";
    else if (m->from == NULL)
        missing = "From";
    else if (m->to == NULL)
        missing = "To";
    else if (osip_list_size(&m->vias) == 0)
        missing = "Via";
    else if (MSG_IS_REQUEST(m) && (m->req_uri == NULL || m->sip_method == NULL))
        missing = "Request-URI";
    if (missing != NULL) {
        osip_message_free(m);
        return pv_error_set(err, PV_ESYNTAX, "SIP: no valid %s header (RFC 3261 8.1.1)", missing);
    }
    pv_sip_msg *s = pv_calloc(1, sizeof *s);
    s->m = m;
    char *cid = NULL;
    osip_call_id_to_str(m->call_id, &cid);
    s->call_id = pv_strdup(cid ? cid : "");
    osip_free(cid);
    copy_bounded(s->method, sizeof s->method, MSG_IS_REQUEST(m) ? m->sip_method : m->cseq->method);
    if (MSG_IS_REQUEST(m))
        copy_bounded(s->request_user, sizeof s->request_user, m->req_uri->username);
    osip_via_t *via = osip_list_get(&m->vias, 0);
    osip_generic_param_t *b = NULL;
    if (via != NULL && osip_via_param_get_byname(via, "branch", &b) == 0 && b != NULL)
        copy_bounded(s->branch, sizeof s->branch, b->gvalue);
    *out = s;
    return 0;
}

void pv_sip_msg_free(pv_sip_msg *s)
{
    if (s == NULL)
        return;
    osip_message_free(s->m);
    free(s->call_id);
    free(s);
}

bool pv_sip_is_request(const pv_sip_msg *s)
{
    return MSG_IS_REQUEST(s->m);
}

const char *pv_sip_method(const pv_sip_msg *s)
{
    return s->method;
}

int pv_sip_status(const pv_sip_msg *s)
{
    return MSG_IS_REQUEST(s->m) ? 0 : s->m->status_code;
}

const char *pv_sip_call_id(const pv_sip_msg *s)
{
    return s->call_id;
}

uint32_t pv_sip_cseq(const pv_sip_msg *s)
{
    return (uint32_t)strtoul(s->m->cseq->number, NULL, 10);
}

const char *pv_sip_request_user(const pv_sip_msg *s)
{
    return s->request_user;
}

char *pv_sip_request_uri(const pv_sip_msg *s)
{
    if (!MSG_IS_REQUEST(s->m))
        return NULL;
    char *text = NULL;
    if (osip_uri_to_str(s->m->req_uri, &text) != 0 || text == NULL)
        return NULL;
    char *copy = pv_strdup(text);
    osip_free(text);
    return copy;
}

const char *pv_sip_branch(const pv_sip_msg *s)
{
    return s->branch;
}

const char *pv_sip_header(const pv_sip_msg *s, const char *name)
{
    osip_header_t *h = NULL;
    if (osip_message_header_get_byname(s->m, name, 0, &h) < 0 || h == NULL)
        return NULL;
    return h->hvalue ? h->hvalue : "";
}

void pv_sip_event(const pv_sip_msg *s, char *buf, size_t size)
{
    const char *v = pv_sip_header(s, "Event");
    if (v == NULL)
        v = pv_sip_header(s, "o"); /* RFC 6665 §8.2.1 compact form */
    size_t n = 0;
    for (; v != NULL && *v == ' '; v++) {
    }
    for (; v != NULL && *v != '\0' && *v != ';' && *v != ' ' && n + 1 < size; v++)
        buf[n++] = (char)tolower((unsigned char)*v);
    buf[n] = '\0';
}

int pv_sip_challenge(const pv_sip_msg *s, bool proxy, pv_buf *out)
{
    osip_www_authenticate_t *w = NULL;
    osip_list_t *list = proxy ? &s->m->proxy_authenticates : &s->m->www_authenticates;
    w = osip_list_get(list, 0);
    char *text = NULL;
    if (w == NULL || osip_www_authenticate_to_str(w, &text) != 0 || text == NULL)
        return PV_ENOENT;
    pv_buf_append_str(out, text);
    osip_free(text);
    return 0;
}

int pv_sip_credentials_get(const pv_sip_msg *s, pv_sip_credentials *c, pv_error *err)
{
    memset(c, 0, sizeof *c);
    osip_authorization_t *a = osip_list_get(&s->m->authorizations, 0);
    if (a == NULL)
        return PV_ENOENT;
    if (a->auth_type == NULL || strcasecmp(a->auth_type, "Digest") != 0)
        return pv_error_set(err, PV_ESYNTAX, "SIP: Authorization is not Digest");
    static const struct {
        const char *name;
        size_t off, size;
    } f[] = {
#define F(field, osip_field) {#field, offsetof(pv_sip_credentials, field), sizeof c->field}
        F(username, username), F(realm, realm),   F(nonce, nonce),         F(uri, uri),
        F(response, response), F(cnonce, cnonce), F(qop, message_qop),     F(algorithm, algorithm),
        F(nc, nonce_count),
#undef F
    };
    const char *values[] = {a->username, a->realm,  a->nonce,       a->uri,        a->response,
                            a->cnonce,   a->message_qop, a->algorithm, a->nonce_count};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (!unquote((char *)c + f[i].off, f[i].size, values[i]))
            return pv_error_set(err, PV_ESYNTAX, "SIP: Authorization %s longer than %zu bytes",
                                f[i].name, f[i].size - 1);
    }
    return 0;
}

/* ---- building ---- */

static int to_text(osip_message_t *m, pv_buf *out, pv_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = osip_message_to_str(m, &text, &len);
    osip_message_free(m);
    if (rc != 0 || text == NULL)
        return pv_error_set(err, PV_EINVAL, "SIP: the message could not be printed (oSIP %d)", rc);
    pv_buf_append(out, text, len);
    osip_free(text);
    return 0;
}

/* "Name: value\r\n" lines into m's headers. */
static int add_extra(osip_message_t *m, const char *extra, pv_error *err)
{
    for (const char *line = extra; line != NULL && *line != '\0';) {
        const char *end = strstr(line, "\r\n");
        size_t n = end ? (size_t)(end - line) : strlen(line);
        const char *colon = memchr(line, ':', n);
        if (colon == NULL)
            return pv_error_set(err, PV_EINVAL, "SIP: extra header without ':'");
        char *name = pv_strndup(line, (size_t)(colon - line));
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        char *value = pv_strndup(v, (size_t)(line + n - v));
        int rc = osip_message_set_header(m, name, value);
        free(name);
        free(value);
        if (rc != 0)
            return pv_error_set(err, PV_EINVAL, "SIP: extra header refused by oSIP");
        line += n + (end ? 2 : 0);
    }
    return 0;
}

int pv_sip_response(const pv_sip_msg *req, int status, const char *reason, const char *to_tag,
                    const char *extra, pv_buf *out, pv_error *err)
{
    osip_message_t *m = new_message(), *q = req->m;
    osip_message_set_version(m, osip_strdup("SIP/2.0"));
    osip_message_set_status_code(m, status);
    osip_message_set_reason_phrase(m, osip_strdup(reason));
    bool ok = true;
    for (int i = 0; i < osip_list_size(&q->vias); i++) { /* RFC 3261 §8.2.6.2: all of them */
        osip_via_t *v = NULL;
        ok = ok && osip_via_clone(osip_list_get(&q->vias, i), &v) == 0 &&
             osip_list_add(&m->vias, v, -1) >= 0;
    }
    ok = ok && osip_from_clone(q->from, &m->from) == 0 && osip_to_clone(q->to, &m->to) == 0 &&
         osip_call_id_clone(q->call_id, &m->call_id) == 0 &&
         osip_cseq_clone(q->cseq, &m->cseq) == 0;
    osip_generic_param_t *tag = NULL;
    if (ok && to_tag != NULL && osip_to_get_tag(m->to, &tag) != 0)
        osip_to_set_tag(m->to, osip_strdup(to_tag));
    if (!ok) {
        osip_message_free(m);
        return pv_error_set(err, PV_EINVAL, "SIP: the request's headers could not be copied");
    }
    int rc = add_extra(m, extra, err);
    if (rc != 0) {
        osip_message_free(m);
        return rc;
    }
    osip_message_set_content_length(m, "0");
    return to_text(m, out, err);
}

int pv_sip_request_build(const pv_sip_request *r, pv_buf *out, pv_error *err)
{
    osip_message_t *m = new_message();
    osip_message_set_version(m, osip_strdup("SIP/2.0"));
    osip_message_set_method(m, osip_strdup(r->method));
    osip_uri_t *uri = NULL;
    if (osip_uri_init(&uri) != 0 || osip_uri_parse(uri, r->uri) != 0) {
        osip_uri_free(uri);
        osip_message_free(m);
        return pv_error_set(err, PV_EINVAL, "SIP: Request-URI '%s' does not parse", r->uri);
    }
    osip_message_set_uri(m, uri);
    pv_buf via = {0}, cseq = {0};
    /* RFC 3581: rport, so a proxy answers the port we sent from */
    pv_buf_appendf(&via, "SIP/2.0/%s %s:%u;branch=%s;rport", r->transport, r->via_host,
                   r->via_port, r->branch);
    pv_buf_appendf(&cseq, "%u %s", r->cseq, r->method);
    const char *what = NULL;
    if (osip_message_set_via(m, via.data) != 0)
        what = "Via";
    else if (osip_message_set_from(m, r->from) != 0)
        what = "From";
    else if (osip_message_set_to(m, r->to) != 0)
        what = "To";
    else if (osip_message_set_call_id(m, r->call_id) != 0)
        what = "Call-ID";
    else if (osip_message_set_cseq(m, cseq.data) != 0)
        what = "CSeq";
    else if (r->route && osip_message_set_route(m, r->route) != 0)
        what = "Route";
    else if (r->contact && osip_message_set_contact(m, r->contact) != 0)
        what = "Contact";
    else if (r->authorization && (r->proxy_authorization
                                      ? osip_message_set_proxy_authorization(m, r->authorization)
                                      : osip_message_set_authorization(m, r->authorization)) != 0)
        what = "Authorization";
    pv_buf_free(&via);
    pv_buf_free(&cseq);
    if (what != NULL) {
        osip_message_free(m);
        return pv_error_set(err, PV_EINVAL, "SIP: the %s header does not parse", what);
    }
    osip_message_set_max_forwards(m, "70");
    if (r->event)
        osip_message_set_header(m, "Event", r->event);
    if (r->event && strcmp(r->method, "NOTIFY") == 0) /* RFC 6665 §8.2.3 */
        osip_message_set_header(m, "Subscription-State", "terminated");
    if (r->expires)
        osip_message_set_header(m, "Expires", r->expires);
    if (r->user_agent)
        osip_message_set_user_agent(m, r->user_agent);
    if (r->body != NULL) {
        osip_message_set_content_type(m, r->content_type ? r->content_type : "text/plain");
        osip_message_set_body(m, r->body, strlen(r->body));
    } else {
        osip_message_set_content_length(m, "0");
    }
    return to_text(m, out, err);
}
