/*
 * prov_cache.h — a provisioning loop's cache of finished profiles, so that an
 * unchanged phone costs no store read (issue 18; docs/provisioning.md "The
 * profile cache").
 *
 * One entry per device that fetched its encrypted profile: the device row the
 * identity decision reads, its live secrets (the key decision, keys.h:
 * pv_keys_decide) and the answers rendered for it — body, ETag, hash — one per
 * (serving secret, delivered secret, host). A repeat fetch is answered from the
 * entry: identity, keys and rendering without touching the store; only the
 * loop's batched last-seen and audit row remain (prov_audit.h), one commit per
 * loop pass whatever the number of answers.
 *
 * What makes an entry stale is read from the store's change log (schema step
 * 7, store.h "what cached profiles must forget"), which triggers fill on every
 * change that can alter a device's profile: a scope "device:<mac>" drops that
 * device's entry, "account:<id>" and "model:<m>" every entry of that account
 * or model (by generation counters in small fixed tables: a collision forgets
 * more than needed, never less), "global" everything. The log is read before an
 * answer when
 *   - this process committed a write since the last read (the admin API, the
 *     console, a binding, a rotation: pv_store_write_epoch) — so a node's own
 *     changes are served at the very next fetch; or
 *   - check_ms passed since the last read — the bound on how long a change made
 *     by another process (the CLI on the same SQLite file, another node on the
 *     same PostgreSQL) may go unseen by this loop.
 * One statement per loop per check_ms at most; never one per request.
 *
 * Anything unexpected is a miss, never an error: a directory that is not one of
 * the cached secrets', a key decision that must write (confirm, rotate), a
 * device in SEC-PRV-1. A miss reads everything in one statement
 * (pv_store_render_load) and fills the entry again.
 *
 * Bounded: at most `entries` devices and `max_bytes` of bodies per loop, least
 * recently used first out. Secrets are wiped when an entry goes. Owned by one
 * loop thread (not thread-safe); the counters behind /metrics are process-wide.
 */
#ifndef PV_SERVER_PROV_CACHE_H
#define PV_SERVER_PROV_CACHE_H

#include "core/buf.h"
#include "server/prov_audit.h"
#include "server/render.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PV_PROV_CACHE_CHECK_MS 100 /* default staleness bound for other processes' changes */
#define PV_PROV_CACHE_ANSWERS 2    /* answers per device: the current and the previous key */

typedef struct pv_prov_cache pv_prov_cache;

/* A finished answer, as render.h's output. */
typedef struct pv_prov_answer {
    int64_t serve_id, deliver_id;
    char host[128];
    char *body;
    size_t len;
    char etag[72], hash[65];
    const char *content_type, *content_encoding;
} pv_prov_answer;

typedef struct pv_prov_cached {
    pv_store_device dev; /* mac, serial, model, account, certificate, state, version */
    pv_prov_recorded rec; /* what this loop's batch last committed for it (prov_audit.h) */
    pv_store_secret cur, prev;
    bool has_prev;
    pv_prov_answer answers[PV_PROV_CACHE_ANSWERS];
} pv_prov_cached;

/* entries 0: 1; max_bytes 0: PV_RENDER_CACHE_BYTES; check_ms 0: PV_PROV_CACHE_CHECK_MS. */
pv_prov_cache *pv_prov_cache_new(size_t entries, size_t max_bytes, unsigned check_ms);
void pv_prov_cache_free(pv_prov_cache *c);

/* Brings c up to date with the change log when due (see above); reads s then.
 * A failure empties c: answers read the store until the log can be read. */
void pv_prov_cache_sync(pv_prov_cache *c, pv_store *s);

/* The entry of mac, still valid, or NULL (a miss is counted by the caller's
 * pv_prov_cache_miss). The pointer lives until the next call on c. */
const pv_prov_cached *pv_prov_cache_get(pv_prov_cache *c, const char *mac);
/* The answer of e for these secrets and host, or NULL. */
const pv_prov_answer *pv_prov_cache_answer(const pv_prov_cached *e, int64_t serve_id,
                                           int64_t deliver_id, const char *host);
/* A copy of e's device row that the caller frees (pv_store_device_free). */
void pv_prov_cache_device(const pv_prov_cached *e, pv_store_device *out);

/* Counters for /metrics: a fetch answered from c, or one that read the store. */
void pv_prov_cache_hit(void);
void pv_prov_cache_miss(void);

/*
 * Keeps what a fetch read (in: device and live secrets, as pv_store_render_load
 * with secrets) and the answer it rendered for host (out, with in's serve and
 * deliver ids). Call only after pv_prov_cache_sync on this request: the entry
 * is then as fresh as the log the loop has read.
 */
void pv_prov_cache_put(pv_prov_cache *c, const pv_store_render_input *in, int64_t serve_id,
                       int64_t deliver_id, const char *host, const pv_render_output *out);
/* Notes what the loop's batch committed for mac (kept while its entry lives). */
void pv_prov_cache_recorded(pv_prov_cache *c, const char *mac, const pv_prov_recorded *r);
/* Forgets mac's entry (this loop is about to change the device). */
void pv_prov_cache_forget(pv_prov_cache *c, const char *mac);

/* Bodies held by c now, in bytes, and entries. */
size_t pv_prov_cache_bytes(const pv_prov_cache *c);
size_t pv_prov_cache_entries(const pv_prov_cache *c);

/* Prometheus text of the process-wide counters (hits, misses, evictions,
 * invalidations, log reads, bytes, entries). */
void pv_prov_cache_render(pv_buf *out);

#endif
