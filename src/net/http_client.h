/*
 * http_client.h — a small blocking HTTP(S) client for the command line's
 * calls to the admin API (provisor account|device|... , issue 4), over
 * libcurl (DESIGN "Dependencies": libcurl where it serves better).
 *
 * One pv_http_client keeps its connection alive between requests, so a bulk
 * import's hundred batches cost one TCP handshake. It is for one thread; the
 * caller owns it and frees it with pv_http_client_free().
 */
#ifndef PV_NET_HTTP_CLIENT_H
#define PV_NET_HTTP_CLIENT_H

#include "core/buf.h"
#include "core/error.h"

typedef struct pv_http_client pv_http_client;

/* base_url: "http://127.0.0.1:8081" (no trailing path needed); bearer may be NULL.
 * timeout_ms 0 = 60 s per request. Both strings are copied. */
int pv_http_client_new(const char *base_url, const char *bearer, unsigned timeout_ms,
                       pv_http_client **out, pv_error *err);
void pv_http_client_free(pv_http_client *c);

/*
 * Sends method path (appended to the base URL; already percent-encoded) with
 * an optional body (content_type NULL = application/json) and fills *status
 * and resp (replaced). Fails only when no HTTP answer came (PV_ECONN, with
 * the reason in err); an HTTP error status is a success here.
 */
int pv_http_client_request(pv_http_client *c, const char *method, const char *path,
                           const void *body, size_t len, const char *content_type, int *status,
                           pv_buf *resp, pv_error *err);

/* Percent-encodes one path segment or query value (RFC 3986 §2.3 unreserved kept). */
void pv_http_client_escape(pv_buf *out, const char *s);

#endif
