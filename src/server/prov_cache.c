/* prov_cache.c — the provisioning loop's cache of finished profiles; see prov_cache.h. */
#include "server/prov_cache.h"

#include "core/alloc.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MODEL_GENS 256   /* generation counters for "model:<m>" changes, by hash */
#define ACCOUNT_GENS 4096 /* ... and for "account:<id>" */
#define LOG_BATCH 1000   /* change rows read at once; more pending: forget everything */

typedef struct node {
    pv_prov_cached e;
    struct node *hnext;            /* hash chain */
    struct node *newer, *older;    /* recency list */
    uint32_t g, mg, ag;            /* the generations it was filled under */
    uint16_t mi, ai;               /* its model's and account's counters */
    size_t bytes;                  /* of its answers' bodies */
} node;

struct pv_prov_cache {
    node **buckets;
    size_t nbuckets; /* a power of two */
    size_t n, max_entries, bytes, max_bytes;
    node *newest, *oldest;
    uint32_t global_gen, model_gen[MODEL_GENS], account_gen[ACCOUNT_GENS];
    unsigned check_ms;
    bool synced;         /* last_seq is known */
    int64_t last_seq;    /* the last change row applied */
    uint64_t epoch;      /* pv_store_write_epoch() when the log was last read */
    uint64_t checked_ms; /* when */
};

static atomic_ullong n_hits, n_misses, n_evictions, n_invalidated, n_reads, n_flushes;
static atomic_llong n_bytes, n_entries; /* over every loop */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t fnv(const char *p, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static uint16_t model_index(const char *model)
{
    return model ? (uint16_t)(fnv(model, strlen(model)) % MODEL_GENS) : 0;
}

static uint16_t account_index(int64_t id)
{
    return (uint16_t)((uint64_t)id * 11400714819323198485ull >> 52) % ACCOUNT_GENS;
}

pv_prov_cache *pv_prov_cache_new(size_t entries, size_t max_bytes, unsigned check_ms)
{
    pv_prov_cache *c = pv_calloc(1, sizeof *c);
    c->max_entries = entries ? entries : 1;
    c->max_bytes = max_bytes ? max_bytes : PV_RENDER_CACHE_BYTES;
    c->check_ms = check_ms ? check_ms : PV_PROV_CACHE_CHECK_MS;
    c->nbuckets = 16;
    while (c->nbuckets < 2 * c->max_entries)
        c->nbuckets <<= 1;
    c->buckets = pv_calloc(c->nbuckets, sizeof *c->buckets);
    return c;
}

static node **slot_of(pv_prov_cache *c, const char *mac)
{
    node **at = &c->buckets[fnv(mac, strlen(mac)) & (c->nbuckets - 1)];
    while (*at != NULL && strcmp((*at)->e.dev.mac, mac) != 0)
        at = &(*at)->hnext;
    return at;
}

static void answers_drop(pv_prov_cache *c, node *x)
{
    for (size_t i = 0; i < PV_PROV_CACHE_ANSWERS; i++) {
        free(x->e.answers[i].body);
        memset(&x->e.answers[i], 0, sizeof x->e.answers[i]);
    }
    c->bytes -= x->bytes;
    atomic_fetch_sub_explicit(&n_bytes, (long long)x->bytes, memory_order_relaxed);
    x->bytes = 0;
}

static void unlink_lru(pv_prov_cache *c, node *x)
{
    if (x->newer)
        x->newer->older = x->older;
    else
        c->newest = x->older;
    if (x->older)
        x->older->newer = x->newer;
    else
        c->oldest = x->newer;
    x->newer = x->older = NULL;
}

static void push_newest(pv_prov_cache *c, node *x)
{
    x->older = c->newest;
    x->newer = NULL;
    if (c->newest)
        c->newest->newer = x;
    c->newest = x;
    if (c->oldest == NULL)
        c->oldest = x;
}

static void drop(pv_prov_cache *c, node *x)
{
    node **at = slot_of(c, x->e.dev.mac);
    if (*at == x)
        *at = x->hnext;
    unlink_lru(c, x);
    answers_drop(c, x);
    pv_store_device_free(&x->e.dev);
    OPENSSL_cleanse(x, sizeof *x); /* the secrets */
    free(x);
    c->n--;
    atomic_fetch_sub_explicit(&n_entries, 1, memory_order_relaxed);
}

static void drop_all(pv_prov_cache *c)
{
    while (c->oldest != NULL)
        drop(c, c->oldest);
}

void pv_prov_cache_free(pv_prov_cache *c)
{
    if (c == NULL)
        return;
    drop_all(c);
    free(c->buckets);
    free(c);
}

/* ---- the change log --------------------------------------------------- */

static void on_change(void *ctx, int64_t seq, const char *scope)
{
    pv_prov_cache *c = ctx;
    (void)seq;
    if (strncmp(scope, "device:", 7) == 0) {
        node *x = *slot_of(c, scope + 7);
        if (x != NULL) {
            drop(c, x);
            atomic_fetch_add_explicit(&n_invalidated, 1, memory_order_relaxed);
        }
    } else if (strncmp(scope, "account:", 8) == 0) {
        c->account_gen[account_index(strtoll(scope + 8, NULL, 10))]++;
    } else if (strncmp(scope, "model:", 6) == 0) {
        c->model_gen[model_index(scope + 6)]++;
    } else { /* "global", and any scope this version does not know */
        c->global_gen++;
    }
}

void pv_prov_cache_sync(pv_prov_cache *c, pv_store *s)
{
    uint64_t epoch = pv_store_write_epoch(), now = mono_ms();
    if (c->synced && epoch == c->epoch && now - c->checked_ms < c->check_ms)
        return;
    /* The epoch is read before the log: a commit counted in it is in what we read. */
    pv_error e = {""};
    int64_t last = 0;
    bool gap = false;
    int rc;
    atomic_fetch_add_explicit(&n_reads, 1, memory_order_relaxed);
    if (c->synced) {
        rc = pv_store_render_changes(s, c->last_seq, LOG_BATCH, on_change, c, &last, &gap, &e);
        if (rc == 0 && !gap && last - c->last_seq < LOG_BATCH) {
            c->last_seq = last;
            c->epoch = epoch;
            c->checked_ms = now;
            return;
        }
    }
    /* The first read, a gap (rows pruned while we slept), a backlog larger than a batch (a
     * bulk import) or a failure: start again from the newest change, with nothing kept. */
    drop_all(c);
    atomic_fetch_add_explicit(&n_flushes, 1, memory_order_relaxed);
    rc = pv_store_render_stamp(s, &last, &e);
    c->synced = rc == 0;
    c->last_seq = last;
    c->epoch = epoch;
    c->checked_ms = now;
}

/* ---- entries ------------------------------------------------------------ */

static bool valid(const pv_prov_cache *c, const node *x)
{
    return x->g == c->global_gen && x->mg == c->model_gen[x->mi] &&
           x->ag == c->account_gen[x->ai];
}

const pv_prov_cached *pv_prov_cache_get(pv_prov_cache *c, const char *mac)
{
    if (!c->synced)
        return NULL;
    node *x = *slot_of(c, mac);
    if (x == NULL)
        return NULL;
    if (!valid(c, x)) {
        drop(c, x);
        atomic_fetch_add_explicit(&n_invalidated, 1, memory_order_relaxed);
        return NULL;
    }
    unlink_lru(c, x);
    push_newest(c, x);
    return &x->e;
}

const pv_prov_answer *pv_prov_cache_answer(const pv_prov_cached *e, int64_t serve_id,
                                           int64_t deliver_id, const char *host)
{
    for (size_t i = 0; i < PV_PROV_CACHE_ANSWERS; i++) {
        const pv_prov_answer *a = &e->answers[i];
        if (a->body != NULL && a->serve_id == serve_id && a->deliver_id == deliver_id &&
            strcmp(a->host, host) == 0)
            return a;
    }
    return NULL;
}

static char *dup_or_null(const char *s)
{
    return s ? pv_strdup(s) : NULL;
}

void pv_prov_cache_device(const pv_prov_cached *e, pv_store_device *out)
{
    const pv_store_device *d = &e->dev;
    *out = *d;
    out->serial = dup_or_null(d->serial);
    out->model = dup_or_null(d->model);
    out->cert_fingerprint = dup_or_null(d->cert_fingerprint);
    out->firmware_version = out->served_version = out->served_hash = out->last_address = NULL;
}

void pv_prov_cache_hit(void)
{
    atomic_fetch_add_explicit(&n_hits, 1, memory_order_relaxed);
}

void pv_prov_cache_miss(void)
{
    atomic_fetch_add_explicit(&n_misses, 1, memory_order_relaxed);
}

void pv_prov_cache_forget(pv_prov_cache *c, const char *mac)
{
    node *x = *slot_of(c, mac);
    if (x != NULL)
        drop(c, x);
}

void pv_prov_cache_recorded(pv_prov_cache *c, const char *mac, const pv_prov_recorded *r)
{
    node *x = *slot_of(c, mac);
    if (x != NULL)
        x->e.rec = *r;
}

/* Whether x still describes what in read: else its answers are of another content. */
static bool same_source(const node *x, const pv_store_render_input *in)
{
    const pv_store_device *a = &x->e.dev, *b = &in->device;
    return a->version == b->version && a->account_id == b->account_id &&
           a->state == b->state && x->e.cur.id == in->current.id &&
           x->e.has_prev == in->has_previous && (!x->e.has_prev || x->e.prev.id == in->previous.id);
}

static void evict(pv_prov_cache *c, const node *keep)
{
    while ((c->n > c->max_entries || c->bytes > c->max_bytes) && c->oldest != NULL &&
           c->oldest != keep) {
        drop(c, c->oldest);
        atomic_fetch_add_explicit(&n_evictions, 1, memory_order_relaxed);
    }
}

void pv_prov_cache_put(pv_prov_cache *c, const pv_store_render_input *in, int64_t serve_id,
                       int64_t deliver_id, const char *host, const pv_render_output *out)
{
    size_t len = out->body.len;
    if (!c->synced || !in->has_secret || len > c->max_bytes / 8 ||
        strlen(host) >= sizeof c->newest->e.answers[0].host)
        return; /* one huge profile would push out many: rendered each time instead */
    node **at = slot_of(c, in->device.mac), *x = *at;
    if (x != NULL && !(valid(c, x) && same_source(x, in))) {
        drop(c, x);
        x = NULL;
    }
    if (x == NULL) {
        x = pv_calloc(1, sizeof *x);
        at = slot_of(c, in->device.mac);
        *at = x;
        c->n++;
        atomic_fetch_add_explicit(&n_entries, 1, memory_order_relaxed);
    } else {
        unlink_lru(c, x);
        pv_store_device_free(&x->e.dev);
    }
    push_newest(c, x);
    /* The device row and secrets as read now (a confirmation is not in the log). */
    pv_prov_cached tmp = {.dev = in->device};
    pv_prov_cache_device(&tmp, &x->e.dev);
    x->e.cur = in->current;
    x->e.has_prev = in->has_previous;
    if (x->e.has_prev)
        x->e.prev = in->previous;
    x->g = c->global_gen;
    x->mi = model_index(in->device.model);
    x->ai = account_index(in->device.account_id);
    x->mg = c->model_gen[x->mi];
    x->ag = c->account_gen[x->ai];
    /* The answer: its own slot when these secrets and host have one, else the older. */
    pv_prov_answer *a = NULL;
    for (size_t i = 0; i < PV_PROV_CACHE_ANSWERS && a == NULL; i++)
        if (x->e.answers[i].body == NULL ||
            (x->e.answers[i].serve_id == serve_id && x->e.answers[i].deliver_id == deliver_id &&
             strcmp(x->e.answers[i].host, host) == 0))
            a = &x->e.answers[i];
    if (a == NULL) { /* both taken: the first goes, the second moves up */
        pv_prov_answer *first = &x->e.answers[0];
        x->bytes -= first->len;
        c->bytes -= first->len;
        atomic_fetch_sub_explicit(&n_bytes, (long long)first->len, memory_order_relaxed);
        free(first->body);
        memmove(first, first + 1, (PV_PROV_CACHE_ANSWERS - 1) * sizeof *first);
        a = &x->e.answers[PV_PROV_CACHE_ANSWERS - 1];
        memset(a, 0, sizeof *a);
    } else if (a->body != NULL) {
        x->bytes -= a->len;
        c->bytes -= a->len;
        atomic_fetch_sub_explicit(&n_bytes, (long long)a->len, memory_order_relaxed);
        free(a->body);
    }
    *a = (pv_prov_answer){.serve_id = serve_id,
                          .deliver_id = deliver_id,
                          .len = len,
                          .content_type = out->content_type,
                          .content_encoding = out->content_encoding};
    strcpy(a->host, host); /* length checked above */
    a->body = pv_memdup0(out->body.data ? out->body.data : "", len);
    memcpy(a->etag, out->etag, sizeof a->etag);
    memcpy(a->hash, out->hash, sizeof a->hash);
    x->bytes += len;
    c->bytes += len;
    atomic_fetch_add_explicit(&n_bytes, (long long)len, memory_order_relaxed);
    evict(c, x);
}

size_t pv_prov_cache_bytes(const pv_prov_cache *c)
{
    return c ? c->bytes : 0;
}

size_t pv_prov_cache_entries(const pv_prov_cache *c)
{
    return c ? c->n : 0;
}

void pv_prov_cache_render(pv_buf *out)
{
    struct {
        const char *name, *type, *help;
        long long v;
    } m[] = {
        {"provisor_profile_cache_hits_total", "counter",
         "Profile fetches answered from a loop's cache: no store read.",
         (long long)atomic_load(&n_hits)},
        {"provisor_profile_cache_misses_total", "counter",
         "Profile fetches that read the store (first fetch, a change, a key decision that "
         "writes).",
         (long long)atomic_load(&n_misses)},
        {"provisor_profile_cache_evictions_total", "counter",
         "Entries dropped for room (entries or bytes bound).", (long long)atomic_load(&n_evictions)},
        {"provisor_profile_cache_invalidations_total", "counter",
         "Entries dropped because the store's change log said they went stale.",
         (long long)atomic_load(&n_invalidated)},
        {"provisor_profile_cache_log_reads_total", "counter",
         "Reads of the store's change log (at most one per loop per check interval, and after "
         "this process's own writes).",
         (long long)atomic_load(&n_reads)},
        {"provisor_profile_cache_flushes_total", "counter",
         "Whole caches emptied (start, a bulk change, a store failure).",
         (long long)atomic_load(&n_flushes)},
        {"provisor_profile_cache_bytes", "gauge", "Profile bodies held by the caches of every loop.",
         (long long)atomic_load(&n_bytes)},
        {"provisor_profile_cache_entries", "gauge", "Devices held by the caches of every loop.",
         (long long)atomic_load(&n_entries)},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        pv_buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n%s %lld\n", m[i].name, m[i].help,
                       m[i].name, m[i].type, m[i].name, m[i].v);
}
