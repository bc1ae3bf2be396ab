/*
 * fetch.c — the fetcher interface (fetch.h): the engine chosen at
 * pv_fetcher_new, every later call through its table (fetch_int.h), the
 * bookkeeping every engine keeps alike (live list, counts, the steps of a
 * close) and the request pieces both engines build alike.
 */
#include "net/fetch.h"

#include "core/alloc.h"
#include "core/http_digest.h"
#include "net/fetch_int.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

void pv_fetcher_options_default(pv_fetcher_options *o)
{
    memset(o, 0, sizeof *o);
    o->connect_timeout_ms = 10000;
    o->timeout_ms = 60000;
    o->tftp_blksize = 1428; /* fits a 1500-byte MTU; RFC 2348 */
    o->max_body = PV_FETCH_MAX_BODY_DEFAULT;
}

int pv_fetcher_new(uv_loop_t *loop, const pv_fetcher_options *options, pv_fetcher **out,
                   pv_error *err)
{
    pv_fetcher_options o;
    if (options != NULL)
        o = *options;
    else
        pv_fetcher_options_default(&o);
    if (o.max_body == 0)
        o.max_body = PV_FETCH_MAX_BODY_DEFAULT;
    if (o.connect_timeout_ms == 0)
        o.connect_timeout_ms = 10000;
    if (o.timeout_ms == 0)
        o.timeout_ms = 60000;
    if (o.engine == PV_FETCH_ENGINE_NATIVE)
        return pv__fetcher_native_new(loop, &o, out, err);
    return pv__fetcher_curl_new(loop, &o, out, err);
}

int pv_fetch_start(pv_fetcher *f, const pv_fetch_request *req, pv_fetch_cb cb, void *data,
                   pv_fetch **out, pv_error *err)
{
    return f->ops->start(f, req, cb, data, out, err);
}

void pv_fetch_cancel(pv_fetch *fetch)
{
    fetch->owner->ops->cancel(fetch);
}

void pv_fetcher_stats_get(const pv_fetcher *f, pv_fetcher_stats *out)
{
    if (f->ops->stats != NULL)
        f->ops->stats(f, out);
    else
        *out = f->stats;
}

void pv_fetcher_close(pv_fetcher *f, void (*done)(void *data), void *data)
{
    f->ops->close(f, done, data);
}

/* ---- what every engine keeps alike (fetch_int.h) ---- */

void pv__fetcher_init(pv_fetcher *f, const pv__fetcher_ops *ops, uv_loop_t *loop,
                      const pv_fetcher_options *o)
{
    f->ops = ops;
    f->loop = loop;
    f->o = *o;
    uv_timer_init(loop, &f->timer);
    f->timer.data = f;
}

int pv__fetch_check(const pv_fetcher *f, const pv_fetch_request *req, pv_fetch_cb cb, pv_error *err)
{
    if (f->closing)
        return pv_error_set(err, PV_EINVAL, "the fetcher is closing");
    if (req == NULL || req->url == NULL || cb == NULL)
        return pv_error_set(err, PV_EINVAL, "a fetch needs a URL and a callback");
    return 0;
}

void pv__fetch_link(pv_fetcher *f, pv_fetch *t, pv_fetch_cb cb, void *data, pv_fetch **out)
{
    t->owner = f;
    t->cb = cb;
    t->data = data;
    t->prev = NULL;
    t->next = f->live;
    if (f->live != NULL)
        f->live->prev = t;
    f->live = t;
    f->alive++;
    f->stats.started++;
    f->stats.active++;
    if (out != NULL)
        *out = t;
}

void pv__fetch_unlink(pv_fetch *t)
{
    pv_fetcher *f = t->owner;
    if (t->prev != NULL)
        t->prev->next = t->next;
    else if (f->live == t)
        f->live = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
    f->stats.active--;
}

void pv__fetch_count(pv_fetcher *f, const pv_fetch_result *r, size_t bytes_out)
{
    f->stats.completed++;
    f->stats.failed += r->error < 0;
    f->stats.connections += r->new_connections;
    f->stats.bytes_in += r->body_len;
    f->stats.bytes_out += bytes_out;
}

bool pv__fetch_freed(pv_fetcher *f)
{
    f->alive--;
    return f->closing;
}

void pv__fetcher_close_begin(pv_fetcher *f, void (*done)(void *data), void *data)
{
    f->closing = true;
    f->done = done;
    f->done_data = data;
    while (f->live != NULL)
        f->ops->cancel(f->live);
}

static void on_timer_closed(uv_handle_t *h)
{
    pv_fetcher *f = h->data;
    void (*done)(void *) = f->done;
    void *data = f->done_data;
    if (f->ops->release != NULL)
        f->ops->release(f);
    free(f); /* the engine's fetcher: f is its first member */
    if (done != NULL)
        done(data);
}

void pv__fetcher_close_timer(pv_fetcher *f)
{
    if (f->timer_closing)
        return;
    f->timer_closing = true;
    f->timer.data = f;
    uv_close((uv_handle_t *)&f->timer, on_timer_closed);
}

static char *dup_or_null(const char *s)
{
    return s ? pv_strdup(s) : NULL;
}

int pv__fetch_files_init(pv__fetch_files *files, const pv_fetcher_options *o, bool parse,
                         pv_error *err)
{
    memset(files, 0, sizeof *files);
    files->ca_file = dup_or_null(o->ca_file);
    files->cert_file = dup_or_null(o->cert_file);
    files->key_file = dup_or_null(o->key_file);
    if (parse) {
        int rc = pv_tls_ca_store_load(files->ca_file, &files->ca_store, err);
        if (rc != 0) {
            pv__fetch_files_free(files);
            return rc;
        }
        files->creds = pv_tls_cred_cache_new(PV_FETCH_TLS_CACHE);
    }
    return 0;
}

void pv__fetch_files_free(pv__fetch_files *files)
{
    free(files->ca_file);
    free(files->cert_file);
    free(files->key_file);
    X509_STORE_free(files->ca_store);
    pv_tls_cred_cache_free(files->creds);
    memset(files, 0, sizeof *files);
}

void pv__fetch_request_target(const char *url, pv_buf *out)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    p += strcspn(p, "/?#");
    if (*p != '/')
        pv_buf_append_char(out, '/');
    pv_buf_append(out, p, strcspn(p, "#"));
}

bool pv__fetch_digest_value(const char *challenge, const char *uid, const char *pwd,
                            const char *method, const char *url, pv_buf *out)
{
    pv_digest_challenge c;
    if (challenge == NULL || uid == NULL ||
        pv_digest_parse(pv_slice_from(challenge), &c, NULL) != 0)
        return false;
    unsigned char rnd[16];
    char cnonce[33];
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        return false;
    pv_hex_encode(rnd, sizeof rnd, cnonce);
    pv_buf target = {0};
    pv__fetch_request_target(url, &target);
    /* a fresh nonce from this 401: nc 1 (RFC 7616 §3.4) */
    bool ok = pv_digest_authorization(&c, uid, pwd ? pwd : "", method, target.data, cnonce, 1, out,
                                      NULL) == 0;
    pv_buf_free(&target);
    return ok;
}
