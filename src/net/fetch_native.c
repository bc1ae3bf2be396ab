/*
 * fetch_native.c — the native engine of net/fetch.h: HTTP/1.1 on uv_tcp,
 * HTTPS with OpenSSL memory BIOs (net/tls.h's client side), responses parsed
 * by llhttp (net/http_reply.h); TFTP transfers are handed to fetch_tftp.c.
 *
 * Why it exists: libcurl builds a fresh SSL_CTX per connection when it may not
 * reuse one, and the fleet simulator pays ~2 ms of CPU per HTTPS resync for it
 * (docs/benchmarks.md). Here the fetcher holds one client SSL_CTX, the CA store
 * and each phone's credentials are parsed once (net/tls_cred.h), and a
 * transfer costs one SSL object, the handshake and the bytes.
 *
 * What goes on the wire is what the libcurl engine sends for the same request
 * (a phone's request, docs/fleet.md): one new connection and a full handshake
 * per transfer, "Host", "User-Agent", "Accept" (any type), the Authorization the
 * caller's challenge calls for, the body's type, encoding and length, and no
 * keep-alive across transfers. Redirects are never followed (spec 8.3).
 *
 * A transfer: resolve (numeric addresses at once; names by uv_getaddrinfo,
 * kept 60 s as libcurl's DNS cache does) → connect (bound to local_address
 * when given) → TLS handshake → write the request → read the answer to its end
 * → callback → close. One uv_timer bounds the connect and handshake by
 * connect_timeout_ms and the whole transfer by timeout_ms. A connection is its
 * own allocation, so that an authentication round (the first 401's challenge
 * answered, spec 8.2) can open the next while the last closes.
 *
 * Ownership: the transfer is freed when its timer and every connection it
 * opened have closed (t->pending); the fetcher when every transfer is freed.
 *
 * Files: this one has transfers (start, resolve, deadlines, the answer's
 * outcome, the fetcher's life); fetch_native_conn.c one connection (TCP, TLS,
 * the request, the answer's bytes); fetch_native_int.h what both see.
 */
#include "net/fetch.h"

#include "core/alloc.h"
#include "net/fetch_native_int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DNS_TTL_NS (60ull * 1000000000ull) /* libcurl's default DNS cache timeout */

static void transfer_end(nfetch *t);
static void maybe_free(nfetcher *f);

/* ---- the end of a transfer ------------------------------------------------------------- */

static void transfer_free(nfetch *t)
{
    nfetcher *f = t->f;
    pv_http_reply_free(&t->reply);
    pv_buf_free(&t->host_header);
    pv_buf_free(&t->target);
    pv_buf_free(&t->auth);
    pv_tls_cred_unref(t->cred);
    free(t->url);
    free(t->host);
    free(t->local_address);
    free(t->connect_address);
    free(t->method);
    free(t->uid);
    free(t->pwd);
    free(t->user_agent);
    free(t->content_type);
    free(t->content_encoding);
    free(t->upload);
    free(t);
    if (pv__fetch_freed(&f->base))
        maybe_free(f);
}

void pv__nfetch_pending_done(nfetch *t)
{
    if (--t->pending == 0 && t->ended)
        transfer_free(t);
}

static void on_timer_closed(uv_handle_t *h)
{
    pv__nfetch_pending_done(h->data);
}

/* No callback any more: close what is open; freed when it has closed. */
static void transfer_end(nfetch *t)
{
    t->ended = true;
    if (t->conn != NULL) {
        pv__nfetch_conn_close(t->conn);
        t->conn = NULL;
    }
    if (t->gai.data != NULL)
        uv_cancel((uv_req_t *)&t->gai); /* its callback still comes: pending until then */
    uv_close((uv_handle_t *)&t->timer, on_timer_closed);
}

static double since_ms(const nfetch *t, uint64_t ns)
{
    return ns == 0 ? 0.0 : (double)(ns - t->t0_ns) / 1e6;
}

static const char *kept(const pv_buf *b)
{
    return b->len > 0 ? b->data : NULL;
}

static void finish(nfetch *t, int error, const char *text)
{
    nfetcher *f = t->f;
    if (t->ended) /* already reported (a failed write deep in a read callback) */
        return;
    pv__fetch_unlink(&t->base);
    uv_timer_stop(&t->timer);
    pv_fetch_result r = {.error = error, .url = t->url, .new_connections = t->conns};
    if (error == 0) {
        r.status = t->reply.status;
        r.location = kept(&t->reply.location);
        r.content_encoding = kept(&t->reply.content_encoding);
        r.www_authenticate = kept(&t->reply.www_authenticate);
        r.body = t->reply.body.data ? t->reply.body.data : "";
        r.body_len = t->reply.body.len;
    } else {
        r.body = "";
    }
    r.error_text = text != NULL ? text : "";
    r.connect_ms = since_ms(t, t->connect_ns);
    r.tls_ms = since_ms(t, t->tls_ns);
    r.total_ms = since_ms(t, uv_hrtime());
    pv__fetch_count(&f->base, &r, t->upload_len);
    t->base.cb(&t->base, &r, t->base.data);
    transfer_end(t);
}

/* what: "connect", "receive", ... or NULL; detail: the reason. */
void pv__nfetch_fail(nfetch *t, int error, const char *what, const char *detail)
{
    snprintf(t->text, sizeof t->text, "%s%s%s", what ? what : "", what ? ": " : "", detail);
    finish(t, error, t->text);
}

/* ---- deadlines and the answer (the connections: fetch_native_conn.c) ----------------------- */

static void on_deadline(uv_timer_t *h);

/* The connect and handshake are bounded by connect_timeout_ms, and by the whole transfer's. */
static uint64_t connect_bound(const nfetcher *f)
{
    return f->base.o.connect_timeout_ms < f->base.o.timeout_ms ? f->base.o.connect_timeout_ms
                                                               : f->base.o.timeout_ms;
}

/* Connected (and the handshake done): from now the whole transfer's bound applies. */
void pv__nfetch_connected(nfetch *t)
{
    uint64_t spent = (uv_hrtime() - t->t0_ns) / 1000000;
    uint64_t total = t->f->base.o.timeout_ms;
    t->connected = true;
    uv_timer_start(&t->timer, on_deadline, total > spent ? total - spent : 0, 0);
}

/* RFC 7617: "Basic " base64(uid ":" pwd). */
static void basic_value(nfetch *t)
{
    pv_buf plain = {0};
    pv_buf_appendf(&plain, "%s:%s", t->uid, t->pwd ? t->pwd : "");
    pv_buf_reset(&t->auth);
    pv_buf_reserve(&t->auth, 8 + 4 * (plain.len / 3 + 1) + 1);
    pv_buf_append_str(&t->auth, "Basic ");
    int n = EVP_EncodeBlock((unsigned char *)t->auth.data + t->auth.len,
                            (const unsigned char *)plain.data, (int)plain.len);
    t->auth.len += (size_t)n;
    t->auth.data[t->auth.len] = '\0';
    pv_buf_free(&plain);
}

/* A 401 to a request that answered no challenge: answer it on a new connection, once (as
 * libcurl's negotiation does; the engine's own retries are counted by the engine, spec 8.2). */
static bool negotiate(nfetch *t)
{
    const char *chal = kept(&t->reply.www_authenticate);
    if (!t->may_negotiate || t->reply.status != 401 || chal == NULL)
        return false;
    t->may_negotiate = false;
    pv_buf_reset(&t->auth);
    if (strncasecmp(chal, "Basic", 5) == 0)
        basic_value(t);
    else if (!pv__fetch_digest_value(chal, t->uid, t->pwd, t->method, t->url, &t->auth))
        return false;
    pv__nfetch_conn_close(t->conn);
    t->conn = NULL;
    pv_http_reply_free(&t->reply);
    pv_http_reply_init(&t->reply, MAX_HEAD, t->max_body);
    t->connected = false;
    uv_timer_start(&t->timer, on_deadline, connect_bound(t->f), 0);
    int rc = pv__nfetch_connect(t);
    if (rc != 0)
        pv__nfetch_fail(t, PV_ECONN, "connect", uv_strerror(rc));
    return true;
}

/* What the parser said: DONE finishes (or answers a first 401), an error fails. */
void pv__nfetch_reply_progress(nfetch *t, int rc)
{
    if (rc == PV_HTTP_REPLY_MORE)
        return;
    if (rc == PV_HTTP_REPLY_DONE) {
        if (!negotiate(t))
            finish(t, 0, NULL);
        return;
    }
    /* no byte of an answer: a connection error, as libcurl's "got nothing" (spec 8.3 class C) */
    finish(t, rc == PV_EPROTO && t->reply.fed == 0 ? PV_ECONN : rc, t->reply.error_text);
}

/* pv__nfetch_connect from pv_fetch_start: an error is reported from the loop, never from
 * inside pv_fetch_start. */
static void start_first_connection(nfetch *t)
{
    int rc = pv__nfetch_connect(t);
    if (rc != 0) {
        snprintf(t->text, sizeof t->text, "connect: %s", uv_strerror(rc));
        t->fail_error = PV_ECONN;
    }
}

/* ---- resolving ------------------------------------------------------------------------- */

static void set_port(struct sockaddr_storage *ss, int port)
{
    if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
}

static bool numeric(const char *host, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    return uv_ip4_addr(host, 0, (struct sockaddr_in *)ss) == 0 ||
           uv_ip6_addr(host, 0, (struct sockaddr_in6 *)ss) == 0;
}

static dns_entry *dns_slot(nfetcher *f, const char *host)
{
    uint32_t h = 2166136261u;
    for (const char *p = host; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &f->dns[h % DNS_SLOTS];
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    nfetch *t = req->data;
    req->data = NULL;
    t->gai.data = NULL;
    if (t->ended) {
        uv_freeaddrinfo(res);
        pv__nfetch_pending_done(t);
        return;
    }
    t->pending--;
    if (status < 0 || res == NULL) {
        uv_freeaddrinfo(res);
        pv__nfetch_fail(t, PV_ECONN, "could not resolve host", t->host);
        return;
    }
    memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
    uv_freeaddrinfo(res);
    dns_entry *d = dns_slot(t->f, t->host);
    snprintf(d->host, sizeof d->host, "%s", t->host);
    d->addr = t->addr;
    d->expires_ns = uv_hrtime() + DNS_TTL_NS;
    set_port(&t->addr, t->port);
    int rc = pv__nfetch_connect(t);
    if (rc != 0)
        pv__nfetch_fail(t, PV_ECONN, "connect", uv_strerror(rc));
}

/* ---- starting a transfer --------------------------------------------------------------- */

static void on_deadline(uv_timer_t *h)
{
    nfetch *t = h->data;
    if (t->fail_error != 0) { /* an error found while starting */
        finish(t, t->fail_error, t->text);
        return;
    }
    finish(t, PV_ETIMEDOUT,
           t->connected ? "the transfer timed out" : "connection or TLS handshake timed out");
}

/* scheme://host[:port][/path][?query]; false when it is not a URL we fetch. */
static bool parse_url(nfetch *t, const char *url)
{
    const char *p;
    if (strncasecmp(url, "http://", 7) == 0) {
        p = url + 7;
        t->port = 80;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        p = url + 8;
        t->port = 443;
        t->tls = true;
    } else {
        return false;
    }
    size_t alen = strcspn(p, "/?#");
    const char *end = p + alen, *host = p, *colon = NULL;
    if (memchr(p, '@', alen) != NULL || alen == 0 || alen > 255)
        return false; /* no user info in a provisioning URL */
    size_t hlen;
    if (*p == '[') {
        const char *close = memchr(p, ']', alen);
        if (close == NULL)
            return false;
        host = p + 1;
        hlen = (size_t)(close - host);
        colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
        if (colon == NULL && close + 1 != end)
            return false;
    } else {
        colon = memchr(p, ':', alen);
        hlen = colon ? (size_t)(colon - p) : alen;
    }
    if (hlen == 0)
        return false;
    bool default_port = true;
    if (colon != NULL) {
        char *e;
        long port = strtol(colon + 1, &e, 10);
        if (e != end || port <= 0 || port > 65535)
            return false;
        default_port = port == t->port;
        t->port = (int)port;
    }
    t->host = pv_strndup(host, hlen);
    /* libcurl names the port in Host only when it is not the scheme's */
    pv_buf_append(&t->host_header, p, default_port && colon ? (size_t)(colon - p) : alen);
    pv__fetch_request_target(url, &t->target);
    return true;
}

static char *dup_or_null(const char *s)
{
    return s ? pv_strdup(s) : NULL;
}

static int native_start(pv_fetcher *base, const pv_fetch_request *req, pv_fetch_cb cb, void *data,
                        pv_fetch **out, pv_error *err)
{
    nfetcher *f = (nfetcher *)base;
    int rc = pv__fetch_check(base, req, cb, err);
    if (rc != 0)
        return rc;
    const char *method = req->method ? req->method : "GET";
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0 && strcmp(method, "PUT") != 0)
        return pv_error_set(err, PV_EINVAL, "method %s: expected GET, POST or PUT", method);
    if (strncasecmp(req->url, "tftp://", 7) == 0)
        return pv_fetch_start(f->tftp, req, cb, data, out, err);
    nfetch *t = pv_calloc(1, sizeof *t);
    t->f = f;
    t->t0_ns = uv_hrtime();
    t->url = pv_strdup(req->url);
    t->method = pv_strdup(method);
    t->max_body = req->max_body ? req->max_body : f->base.o.max_body;
    t->user_agent = dup_or_null(req->user_agent);
    t->uid = dup_or_null(req->uid);
    t->pwd = dup_or_null(req->pwd);
    t->local_address = dup_or_null(req->local_address);
    t->connect_address = dup_or_null(req->connect_address);
    if (strcmp(method, "GET") != 0) {
        t->content_type = dup_or_null(req->content_type);
        t->content_encoding = dup_or_null(req->content_encoding);
        t->upload_len = req->body_len;
        t->upload = pv_memdup0(req->body ? req->body : "", req->body_len);
    }
    pv_http_reply_init(&t->reply, MAX_HEAD, t->max_body);
    uv_timer_init(f->base.loop, &t->timer);
    t->timer.data = t;
    t->pending = 1;
    pv__fetch_link(base, &t->base, cb, data, out);
    uv_timer_start(&t->timer, on_deadline, connect_bound(f), 0);
    if (!parse_url(t, req->url)) {
        snprintf(t->text, sizeof t->text, "unsupported or malformed URL");
        t->fail_error = PV_EINVAL;
        uv_timer_start(&t->timer, on_deadline, 0, 0);
        return 0;
    }
    /* spec 8.2: Basic at once after a Basic challenge; a Digest challenge answered now */
    if (t->uid != NULL) {
        bool basic = req->auth_scheme != NULL && strcasecmp(req->auth_scheme, "Basic") == 0;
        if (basic)
            basic_value(t);
        else if (!pv__fetch_digest_value(req->challenge, t->uid, t->pwd, t->method, t->url,
                                         &t->auth))
            t->may_negotiate = true;
    }
    if (t->tls && req->client_cert) {
        const char *cert = req->cert_file ? req->cert_file : f->files.cert_file;
        const char *key = req->cert_file ? req->key_file : f->files.key_file;
        if (cert != NULL)
            t->cred = pv_tls_cred_get(f->files.creds, cert, key); /* NULL: none presented */
    }
    const char *where = t->connect_address ? t->connect_address : t->host;
    dns_entry *d;
    if (numeric(where, &t->addr)) {
        set_port(&t->addr, t->port);
        start_first_connection(t);
    } else if ((d = dns_slot(f, where))->expires_ns > uv_hrtime() && strcmp(d->host, where) == 0) {
        t->addr = d->addr;
        set_port(&t->addr, t->port);
        start_first_connection(t);
    } else {
        t->gai.data = t;
        t->pending++;
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
        rc = uv_getaddrinfo(f->base.loop, &t->gai, on_resolved, where, NULL, &hints);
        if (rc != 0) {
            t->gai.data = NULL;
            t->pending--;
            snprintf(t->text, sizeof t->text, "could not resolve host %s", where);
            t->fail_error = PV_ECONN;
        }
    }
    if (t->fail_error != 0)
        uv_timer_start(&t->timer, on_deadline, 0, 0);
    return 0;
}

static void native_cancel(pv_fetch *base)
{
    nfetch *t = (nfetch *)base;
    pv__fetch_unlink(&t->base);
    transfer_end(t);
}

static void native_stats(const pv_fetcher *base, pv_fetcher_stats *out)
{
    const nfetcher *f = (const nfetcher *)base;
    pv_fetcher_stats tftp;
    pv_fetcher_stats_get(f->tftp, &tftp);
    *out = f->base.stats;
    out->started += tftp.started;
    out->completed += tftp.completed;
    out->failed += tftp.failed;
    out->connections += tftp.connections;
    out->bytes_in += tftp.bytes_in;
    out->bytes_out += tftp.bytes_out;
    out->active += tftp.active;
}

/* ---- life cycle ------------------------------------------------------------------------ */

static void native_release(pv_fetcher *base)
{
    nfetcher *f = (nfetcher *)base;
    pv_tls_context_unref(f->tls);
    pv__fetch_files_free(&f->files);
}

static void maybe_free(nfetcher *f)
{
    if (f->base.alive == 0 && f->tftp_closed)
        pv__fetcher_close_timer(&f->base);
}

static void on_tftp_closed(void *data)
{
    nfetcher *f = data;
    f->tftp_closed = true;
    maybe_free(f);
}

static void native_close(pv_fetcher *base, void (*done)(void *data), void *data)
{
    nfetcher *f = (nfetcher *)base;
    pv__fetcher_close_begin(base, done, data);
    pv_fetcher_close(f->tftp, on_tftp_closed, f);
}

static const pv__fetcher_ops native_ops = {native_start, native_cancel, native_stats, native_close,
                                           native_release};

int pv__fetcher_native_new(uv_loop_t *loop, const pv_fetcher_options *o, pv_fetcher **out,
                           pv_error *err)
{
    nfetcher *f = pv_calloc(1, sizeof *f);
    int rc = pv__fetch_files_init(&f->files, o, true, err);
    if (rc == 0)
        rc = pv_tls_client_context_new(f->files.ca_store, &f->tls, err);
    if (rc == 0)
        rc = pv__fetcher_tftp_new(loop, o, &f->tftp, err);
    if (rc != 0) {
        pv_tls_context_unref(f->tls);
        pv__fetch_files_free(&f->files);
        free(f);
        return rc;
    }
    pv__fetcher_init(&f->base, &native_ops, loop, o);
    *out = &f->base;
    return 0;
}
