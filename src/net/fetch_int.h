/*
 * fetch_int.h — what the two engines behind net/fetch.h share: the interface
 * each implements (a table of operations at the head of its fetcher and
 * transfer), and the pieces of a request both build the same way.
 *
 * Engines: fetch_curl.c (libcurl's multi interface; the emulated phone) and
 * fetch_native.c (HTTP/1.1, HTTPS over memory BIOs on the loop, TFTP by
 * fetch_tftp.c; the fleet). pv_fetcher_new() picks one by pv_fetcher_options.engine.
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
    void (*stats)(const pv_fetcher *f, pv_fetcher_stats *out);
    void (*close)(pv_fetcher *f, void (*done)(void *data), void *data);
} pv__fetcher_ops;

/* The first member of an engine's fetcher and of its transfer. */
struct pv_fetcher {
    const pv__fetcher_ops *ops;
};
struct pv_fetch {
    pv_fetcher *owner;
};

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
