/*
 * fetch_int.h — what the two engines behind net/fetch.h share: the interface
 * each implements (a table of operations at the head of its fetcher and
 * transfer), and the pieces of a request both build the same way.
 *
 * Engines: fetch_curl.c (libcurl's multi interface; the emulated phone) and
 * fetch_native.c (HTTP/1.1, HTTPS over memory BIOs on the loop, TFTP by
 * fetch_tftp.c; the fleet). pv_fetcher_new() picks one by pv_fetcher_options.engine.
 * Each engine's fetcher and transfer begin with struct pv_fetcher and struct pv_fetch, which
 * hold what every engine keeps alike (options, live list, counts, the steps of a close).
 */
#ifndef PV_NET_FETCH_INT_H
#define PV_NET_FETCH_INT_H

#include "core/buf.h"
#include "net/fetch.h"
#include "net/tls_cred.h"

typedef struct pv__fetcher_ops {
    int (*start)(pv_fetcher *f, const pv_fetch_request *req, pv_fetch_cb cb, void *data,
                 pv_fetch **out, pv_error *err);
    void (*cancel)(pv_fetch *fetch);
    void (*stats)(const pv_fetcher *f, pv_fetcher_stats *out); /* NULL: f->stats */
    void (*close)(pv_fetcher *f, void (*done)(void *data), void *data);
    void (*release)(pv_fetcher *f); /* what the engine owns, freed just before f; or NULL */
} pv__fetcher_ops;

/*
 * The first member of an engine's fetcher: its table and the bookkeeping every engine keeps
 * alike (the helpers below). A close ends every live transfer by ops->cancel; the engine calls
 * pv__fetcher_close_timer() once it holds nothing else open, and the fetcher is freed (and
 * pv_fetcher_close's callback run) from that timer's close callback.
 */
struct pv_fetcher {
    const pv__fetcher_ops *ops;
    uv_loop_t *loop;
    pv_fetcher_options o;
    pv_fetch *live; /* transfers started and not yet ended */
    unsigned alive; /* transfers not yet freed (an ended one may still be closing handles) */
    pv_fetcher_stats stats;
    uv_timer_t timer; /* the engine's to use (libcurl's timer); closed last */
    bool closing;     /* pv_fetcher_close called: no new transfer */
    bool timer_closing;
    void (*done)(void *data); /* pv_fetcher_close's callback, run once f is freed */
    void *done_data;
};

/* The first member of an engine's transfer. */
struct pv_fetch {
    pv_fetcher *owner;
    pv_fetch *prev, *next; /* the owner's live list */
    pv_fetch_cb cb;
    void *data;
};

void pv__fetcher_init(pv_fetcher *f, const pv__fetcher_ops *ops, uv_loop_t *loop,
                      const pv_fetcher_options *o);
/* 0 when f may start req (not closing, a URL and a callback); else the error. */
int pv__fetch_check(const pv_fetcher *f, const pv_fetch_request *req, pv_fetch_cb cb,
                    pv_error *err);
/* t (zeroed) joins f's live list and counts; *out (when out is not NULL) is t. */
void pv__fetch_link(pv_fetcher *f, pv_fetch *t, pv_fetch_cb cb, void *data, pv_fetch **out);
/* t leaves the live list (once; a second call is a no-op for the list). */
void pv__fetch_unlink(pv_fetch *t);
/* The statistics of a transfer that ended with r, bytes_out of request body sent. */
void pv__fetch_count(pv_fetcher *f, const pv_fetch_result *r, size_t bytes_out);
/* A transfer was freed: true when f is closing (the engine may now be able to free f). */
bool pv__fetch_freed(pv_fetcher *f);
/* pv_fetcher_close's common first step: no new transfer, every live one cancelled. */
void pv__fetcher_close_begin(pv_fetcher *f, void (*done)(void *data), void *data);
/* The last step of a close (once only): closes f->timer, whose callback frees f. */
void pv__fetcher_close_timer(pv_fetcher *f);

/* The files of pv_fetcher_options, copied, and parsed once when asked (tls_cache). */
typedef struct pv__fetch_files {
    char *ca_file, *cert_file, *key_file;
    X509_STORE *ca_store;     /* parsed: the CA bundle (the system's without ca_file) */
    pv_tls_cred_cache *creds; /* parsed: PV_FETCH_TLS_CACHE slots of client credentials */
} pv__fetch_files;

int pv__fetch_files_init(pv__fetch_files *files, const pv_fetcher_options *o, bool parse,
                         pv_error *err);
void pv__fetch_files_free(pv__fetch_files *files);

/* The engines' constructors (options already defaulted and checked). */
int pv__fetcher_curl_new(uv_loop_t *loop, const pv_fetcher_options *o, pv_fetcher **out,
                         pv_error *err);
int pv__fetcher_native_new(uv_loop_t *loop, const pv_fetcher_options *o, pv_fetcher **out,
                           pv_error *err);
/* TFTP alone (fetch_tftp.c): the native engine's tftp:// transfers. */
int pv__fetcher_tftp_new(uv_loop_t *loop, const pv_fetcher_options *o, pv_fetcher **out,
                         pv_error *err);

/* The request target of url (path and query, "/" if none), appended to out. */
void pv__fetch_request_target(const char *url, pv_buf *out);

/*
 * spec 8.2: the phone's one retry after a Digest challenge carries the answer to that
 * challenge (RFC 7616). Appends the Authorization value ("Digest ...") answering challenge
 * for method and url; false when challenge holds no Digest challenge we can answer.
 */
bool pv__fetch_digest_value(const char *challenge, const char *uid, const char *pwd,
                            const char *method, const char *url, pv_buf *out);

#endif
