/*
 * fetch_curl.c — the libcurl engine of net/fetch.h: libcurl's multi
 * interface on a libuv loop (the emulated phone's; fetch_native.c is the fleet's).
 *
 * The glue follows libcurl's "multi_socket" contract: curl calls sock_cb to
 * say which events to watch on which socket (we keep one uv_poll_t per
 * socket, attached with curl_multi_assign) and timer_cb to ask for a wake-up
 * (one uv_timer_t); we call curl_multi_socket_action() when either fires,
 * then collect finished transfers with curl_multi_info_read(). Callbacks to
 * the user run only from there, outside any libcurl callback, so a user may
 * start or cancel transfers from inside one.
 */
#include "net/fetch.h"
#include "net/fetch_int.h"
#include "net/tls_cred.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/http_digest.h"

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct cfetcher cfetcher;
typedef struct cfetch cfetch;

#define EASY_POOL_MAX 64 /* idle easy handles kept for reuse (a fleet starts many) */

struct cfetch {
    pv_fetch base; /* first: the interface's view and the live list (fetch_int.h) */
    cfetcher *f;
    CURL *easy;
    struct curl_slist *headers;
    struct curl_slist *connect_to; /* the address the engine chose, or NULL */
    pv_buf body;                   /* the response body */
    char *upload;                  /* the request body (copied) */
    size_t upload_len, upload_off;
    size_t max_body;
    bool too_big;
    bool tftp;
    pv_tls_cred *cred; /* tls_cache: the client credentials this transfer presents */
    char errbuf[CURL_ERROR_SIZE];
};

typedef struct pv__sock {
    uv_poll_t poll;
    curl_socket_t fd;
    cfetcher *f;
    struct pv__sock *prev, *next; /* the fetcher's watched sockets */
} pv__sock;

struct cfetcher {
    pv_fetcher base; /* first: options, live list, counts, libcurl's timer (fetch_int.h) */
    CURLM *multi;
    pv__fetch_files files; /* options' files; parsed with tls_cache */
    pv__sock *socks;
    CURL *pool[EASY_POOL_MAX];
    size_t pooled;
    unsigned pending_closes; /* uv handles whose close callback has not run */
    bool in_check;           /* inside check_done: a close must wait for it to return */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT); /* not thread-safe: once per process */
}

/* CURLOPT_SSL_CTX_FUNCTION: libcurl made this connection's SSL_CTX (without CA file or client
 * certificate): give it the parsed CA store and credentials by reference. */
static CURLcode ssl_ctx_cb(CURL *easy, void *ssl_ctx, void *userp)
{
    cfetch *t = userp;
    SSL_CTX *ctx = ssl_ctx;
    (void)easy;
    if (t->f->files.ca_store != NULL && X509_STORE_up_ref(t->f->files.ca_store) == 1)
        SSL_CTX_set_cert_store(ctx, t->f->files.ca_store); /* frees the empty store it had */
    if (t->cred != NULL) {                                 /* spec 4.4 */
        if (SSL_CTX_use_certificate(ctx, t->cred->cert) != 1 ||
            SSL_CTX_use_PrivateKey(ctx, t->cred->key) != 1 ||
            (t->cred->chain != NULL && SSL_CTX_set1_chain(ctx, t->cred->chain) != 1))
            return CURLE_SSL_CERTPROBLEM;
    }
    return CURLE_OK;
}

/* ---- the end of a transfer ---- */

static void release(cfetch *t)
{
    cfetcher *f = t->f;
    pv__fetch_unlink(&t->base);
    curl_multi_remove_handle(f->multi, t->easy);
    if (f->pooled < EASY_POOL_MAX && !f->base.closing) {
        curl_easy_reset(t->easy);
        f->pool[f->pooled++] = t->easy;
    } else {
        curl_easy_cleanup(t->easy);
    }
    curl_slist_free_all(t->headers);
    curl_slist_free_all(t->connect_to);
    pv_buf_free(&t->body);
    free(t->upload);
    pv_tls_cred_unref(t->cred);
    free(t);
    (void)pv__fetch_freed(&f->base); /* a close frees the fetcher after curl_multi_cleanup */
}

static const char *header_value(CURL *easy, const char *name)
{
    struct curl_header *h = NULL;
    if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
        return NULL;
    return h->value;
}

/* libcurl's outcome as the engine's error classes (provisor/agent.h). */
static void map_result(cfetch *t, CURLcode rc, pv_fetch_result *r)
{
    long code = 0;
    switch (rc) {
    case CURLE_OK:
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
        r->status = t->tftp ? 200 : (int)code;
        return;
    case CURLE_TFTP_NOTFOUND: /* agent.h: TFTP "file not found" is 404 */
        r->status = 404;
        return;
    case CURLE_TFTP_PERM:
    case CURLE_TFTP_ILLEGAL:
    case CURLE_TFTP_UNKNOWNID:
    case CURLE_TFTP_NOSUCHUSER:
    case CURLE_REMOTE_FILE_EXISTS:
    case CURLE_REMOTE_DISK_FULL: /* any other TFTP error packet: 500 */
        r->status = 500;
        return;
    case CURLE_OPERATION_TIMEDOUT:
        r->error = PV_ETIMEDOUT;
        return;
    case CURLE_FILESIZE_EXCEEDED:
        r->error = PV_ETOOBIG;
        return;
    case CURLE_WRITE_ERROR:
        r->error = t->too_big ? PV_ETOOBIG : PV_EIO;
        return;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        r->error = PV_EINVAL;
        return;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER:
        r->error = PV_ECONN; /* the engine's "Connection error" (spec 8.3 class C) */
        return;
    default:
        r->error = PV_EPROTO;
        return;
    }
}

static double info_ms(CURL *easy, CURLINFO what)
{
    curl_off_t us = 0;
    curl_easy_getinfo(easy, what, &us);
    return (double)us / 1000.0;
}

static void finish(cfetch *t, CURLcode rc)
{
    cfetcher *f = t->f;
    pv_fetch_result r = {0};
    map_result(t, rc, &r);
    if (rc == CURLE_TFTP_NOTFOUND || r.error < 0 || r.status == 500)
        pv_buf_reset(&t->body); /* a failed TFTP transfer may have left part of a file */
    r.error_text = rc == CURLE_OK ? "" : t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);
    if (t->too_big)
        r.error_text = "response body over the limit";
    if (!t->tftp && rc == CURLE_OK) {
        r.location = header_value(t->easy, "Location");
        r.content_encoding = header_value(t->easy, "Content-Encoding");
        r.www_authenticate = header_value(t->easy, "WWW-Authenticate");
    }
    char *url = NULL;
    curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &url);
    r.url = url ? url : "";
    r.body = t->body.data ? t->body.data : "";
    r.body_len = t->body.len;
    r.connect_ms = info_ms(t->easy, CURLINFO_CONNECT_TIME_T);
    r.tls_ms = info_ms(t->easy, CURLINFO_APPCONNECT_TIME_T);
    r.total_ms = info_ms(t->easy, CURLINFO_TOTAL_TIME_T);
    long conns = 0;
    curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &conns);
    r.new_connections = (unsigned)(conns > 0 ? conns : 0);
    pv__fetch_count(&f->base, &r, t->upload_len);
    t->base.cb(&t->base, &r, t->base.data);
    if (!f->base.closing) /* a close from the callback has released every transfer */
        release(t);
}

static void maybe_free(cfetcher *f);

static void check_done(cfetcher *f)
{
    CURLMsg *msg;
    int left;
    f->in_check = true;
    while (!f->base.closing && (msg = curl_multi_info_read(f->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        cfetch *t = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        finish(t, msg->data.result);
    }
    f->in_check = false;
    if (f->base.closing)
        maybe_free(f);
}

/* ---- libuv ↔ libcurl ---- */

static void on_poll(uv_poll_t *h, int status, int events)
{
    pv__sock *s = h->data;
    cfetcher *f = s->f;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(f->multi, s->fd, flags, &running);
    check_done(f);
}

static void on_timer(uv_timer_t *h)
{
    cfetcher *f = h->data;
    int running;
    curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(f);
}

static void on_handle_closed(uv_handle_t *h)
{
    cfetcher *f = h->data == NULL ? NULL : ((pv__sock *)h->data)->f;
    free(h->data);
    if (f != NULL) {
        f->pending_closes--;
        if (f->base.closing)
            maybe_free(f);
    }
}

static void sock_close(pv__sock *s)
{
    cfetcher *f = s->f;
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        f->socks = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    uv_poll_stop(&s->poll);
    s->f->pending_closes++;
    uv_close((uv_handle_t *)&s->poll, on_handle_closed);
}

static int sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    cfetcher *f = userp;
    pv__sock *s = socketp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s != NULL) {
            if (!f->base.closing) /* not while curl_multi_cleanup() tears its hash down */
                curl_multi_assign(f->multi, fd, NULL);
            sock_close(s);
        }
        return 0;
    }
    if (s == NULL) {
        s = pv_calloc(1, sizeof *s);
        s->fd = fd;
        s->f = f;
        s->poll.data = s;
        if (uv_poll_init_socket(f->base.loop, &s->poll, fd) != 0) {
            free(s);
            return -1; /* libcurl fails the transfer */
        }
        s->next = f->socks;
        if (f->socks != NULL)
            f->socks->prev = s;
        f->socks = s;
        curl_multi_assign(f->multi, fd, s);
    }
    int events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    cfetcher *f = userp;
    (void)multi;
    if (timeout_ms < 0)
        uv_timer_stop(&f->base.timer);
    else /* 0 too: libcurl must not be re-entered from its own callback */
        uv_timer_start(&f->base.timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- one transfer ---- */

static size_t on_write(char *ptr, size_t size, size_t n, void *userp)
{
    cfetch *t = userp;
    size_t len = size * n;
    if (len > t->max_body - t->body.len) { /* bounded memory on any answer */
        t->too_big = true;
        return 0;
    }
    pv_buf_append(&t->body, ptr, len);
    return len;
}

static size_t on_read(char *ptr, size_t size, size_t n, void *userp)
{
    cfetch *t = userp;
    size_t len = size * n, left = t->upload_len - t->upload_off;
    if (len > left)
        len = left;
    memcpy(ptr, t->upload + t->upload_off, len);
    t->upload_off += len;
    return len;
}

static void add_header(cfetch *t, const char *name, const char *value)
{
    if (value == NULL || *value == '\0')
        return;
    char line[512];
    int n = snprintf(line, sizeof line, "%s: %s", name, value);
    if (n < 0 || (size_t)n >= sizeof line)
        return; /* such a header is not one we send */
    t->headers = curl_slist_append(t->headers, line);
}

/* spec 8.2: a Digest challenge passed on is answered in this very request. */
static bool digest_header(cfetch *t, const pv_fetch_request *req, const char *method)
{
    pv_buf line = {0};
    pv_buf_append_str(&line, "Authorization: ");
    bool ok = pv__fetch_digest_value(req->challenge, req->uid, req->pwd, method, req->url, &line);
    if (ok)
        t->headers = curl_slist_append(t->headers, line.data);
    pv_buf_free(&line);
    return ok;
}

static int configure(cfetch *t, const pv_fetch_request *req, pv_error *err)
{
    cfetcher *f = t->f;
    CURL *e = t->easy;
    const char *method = req->method ? req->method : "GET";
    bool put = strcmp(method, "PUT") == 0, post = strcmp(method, "POST") == 0;
    if (!put && !post && strcmp(method, "GET") != 0)
        return pv_error_set(err, PV_EINVAL, "method %s: expected GET, POST or PUT", method);
    t->tftp = strncasecmp(req->url, "tftp://", 7) == 0;
    if (t->tftp && post)
        return pv_error_set(err, PV_EINVAL, "TFTP has no POST: use PUT for a write request");
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https,tftp");
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* spec 8.3: the engine follows */
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max_body);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)f->base.o.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)f->base.o.timeout_ms);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    if (!f->base.o.reuse_connections) { /* a phone connects afresh: costs stay visible */
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    }
    if (req->user_agent != NULL)
        curl_easy_setopt(e, CURLOPT_USERAGENT, req->user_agent);
    if (t->tftp && f->base.o.tftp_blksize > 0)
        curl_easy_setopt(e, CURLOPT_TFTP_BLKSIZE, (long)f->base.o.tftp_blksize); /* RFC 2348 */
    if (req->uid != NULL && !(!t->tftp && digest_header(t, req, method))) {
        /* spec 8.2: answer Basic at once after a Basic challenge; else let libcurl ask */
        curl_easy_setopt(e, CURLOPT_USERNAME, req->uid);
        curl_easy_setopt(e, CURLOPT_PASSWORD, req->pwd ? req->pwd : "");
        bool basic = req->auth_scheme != NULL && strcasecmp(req->auth_scheme, "Basic") == 0;
        curl_easy_setopt(e, CURLOPT_HTTPAUTH,
                         basic ? (long)CURLAUTH_BASIC : (long)(CURLAUTH_BASIC | CURLAUTH_DIGEST));
    }
    if (req->local_address != NULL) { /* "host!": an address, no interface lookup first */
        char dev[80];
        int n = snprintf(dev, sizeof dev, "host!%s", req->local_address);
        if (n < 0 || (size_t)n >= sizeof dev)
            return pv_error_set(err, PV_EINVAL, "local address '%.40s...': too long",
                                req->local_address);
        curl_easy_setopt(e, CURLOPT_INTERFACE, dev);
    }
    if (req->connect_address != NULL) { /* "::ADDR:": any host and port of the URL, there */
        char to[96];
        bool v6 = strchr(req->connect_address, ':') != NULL;
        int n = snprintf(to, sizeof to, "::%s%s%s:", v6 ? "[" : "", req->connect_address,
                         v6 ? "]" : "");
        if (n < 0 || (size_t)n >= sizeof to)
            return pv_error_set(err, PV_EINVAL, "connect address '%.40s...': too long",
                                req->connect_address);
        t->connect_to = curl_slist_append(NULL, to);
        curl_easy_setopt(e, CURLOPT_CONNECT_TO, t->connect_to);
    }
    if (f->base.o.no_verify_host)
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    const char *cert = req->cert_file ? req->cert_file : f->files.cert_file;
    const char *key = req->cert_file ? req->key_file : f->files.key_file;
    bool tls = strncasecmp(req->url, "https://", 8) == 0;
    if (f->files.ca_store != NULL && tls) {
        if (req->client_cert && cert != NULL)
            t->cred = pv_tls_cred_get(f->files.creds, cert, key);
        curl_easy_setopt(e, CURLOPT_CAINFO, NULL); /* ssl_ctx_cb sets the parsed store */
        curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
        curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, t);
    } else if (f->files.ca_file != NULL) {
        curl_easy_setopt(e, CURLOPT_CAINFO, f->files.ca_file);
    }
    if (req->client_cert && cert != NULL && t->cred == NULL) { /* spec 4.4 */
        curl_easy_setopt(e, CURLOPT_SSLCERT, cert);
        if (key != NULL)
            curl_easy_setopt(e, CURLOPT_SSLKEY, key);
    }
    if (put || post) {
        t->upload_len = req->body_len;
        t->upload = pv_memdup0(req->body ? req->body : "", req->body_len);
        if (post) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->upload);
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->upload_len);
        } else { /* HTTP PUT or TFTP WRQ */
            curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(e, CURLOPT_READDATA, t);
            curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)t->upload_len);
        }
        if (!t->tftp) {
            add_header(t, "Content-Type", req->content_type);
            add_header(t, "Content-Encoding", req->content_encoding);
            t->headers = curl_slist_append(t->headers, "Expect:"); /* no 100-continue wait */
        }
    }
    if (t->headers != NULL)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    return 0;
}

static int curl_start(pv_fetcher *base, const pv_fetch_request *req, pv_fetch_cb cb, void *data,
                      pv_fetch **out, pv_error *err)
{
    cfetcher *f = (cfetcher *)base;
    int rc = pv__fetch_check(base, req, cb, err);
    if (rc != 0)
        return rc;
    cfetch *t = pv_calloc(1, sizeof *t);
    t->f = f;
    t->max_body = req->max_body ? req->max_body : f->base.o.max_body;
    t->easy = f->pooled > 0 ? f->pool[--f->pooled] : curl_easy_init();
    rc = configure(t, req, err);
    if (rc == 0 && curl_multi_add_handle(f->multi, t->easy) != CURLM_OK)
        rc = pv_error_set(err, PV_EIO, "libcurl refused the transfer");
    if (rc != 0) {
        curl_easy_cleanup(t->easy);
        curl_slist_free_all(t->headers);
        curl_slist_free_all(t->connect_to);
        free(t->upload);
        pv_tls_cred_unref(t->cred);
        free(t);
        return rc;
    }
    /* curl_multi_add_handle armed the timer: nothing runs before return */
    pv__fetch_link(base, &t->base, cb, data, out);
    return 0;
}

static void curl_cancel(pv_fetch *t)
{
    release((cfetch *)t);
}

/* ---- life cycle ---- */

static void curl_close(pv_fetcher *base, void (*done)(void *data), void *data);

static void curl_release(pv_fetcher *base)
{
    pv__fetch_files_free(&((cfetcher *)base)->files);
}

static const pv__fetcher_ops curl_ops = {curl_start, curl_cancel, NULL, curl_close, curl_release};

int pv__fetcher_curl_new(uv_loop_t *loop, const pv_fetcher_options *options, pv_fetcher **out,
                         pv_error *err)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return pv_error_set(err, PV_EIO, "libcurl: %s", curl_easy_strerror(global_rc));
    cfetcher *f = pv_calloc(1, sizeof *f);
    int rc = pv__fetch_files_init(&f->files, options, options->tls_cache, err);
    if (rc != 0) {
        free(f);
        return rc;
    }
    pv__fetcher_init(&f->base, &curl_ops, loop, options);
    f->multi = curl_multi_init();
    curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
    curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
    *out = &f->base;
    return 0;
}

/* The last step of a close: once no poll handle is closing, close the timer. */
static void maybe_free(cfetcher *f)
{
    if (f->in_check || f->pending_closes > 0 || f->multi == NULL)
        return;
    f->multi = NULL;
    pv__fetcher_close_timer(&f->base);
}

static void curl_close(pv_fetcher *base, void (*done)(void *data), void *data)
{
    cfetcher *f = (cfetcher *)base;
    pv__fetcher_close_begin(base, done, data); /* release()s every transfer */
    for (size_t i = 0; i < f->pooled; i++)
        curl_easy_cleanup(f->pool[i]);
    f->pooled = 0;
    uv_timer_stop(&f->base.timer);
    CURLM *multi = f->multi;
    curl_multi_cleanup(multi); /* may call sock_cb(REMOVE) for cached connections */
    while (f->socks != NULL)   /* sockets libcurl did not report as removed */
        sock_close(f->socks);
    maybe_free(f);
}
