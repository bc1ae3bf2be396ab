/*
 * prov_audit.h — the provisioning handler's records: what it writes about
 * each answer, when, and what the audit log therefore guarantees (issue 19
 * item 4, issue 11 item 3; docs/provisioning.md "What the audit guarantees").
 *
 * Three kinds of answers, three rules:
 *
 *   - A device-specific answer that changes nothing but last-seen (the
 *     encrypted profile of an ordinary fetch) is *held*: its records
 *     (last-seen, profile.served) join the loop's batch, and the answer is
 *     sent only after the batch's transaction committed — one commit per
 *     loop pass for every answer of that pass. A repeat of the device's last
 *     recorded answer (same body hash, ETag, firmware and address) within
 *     seen_interval_s of its record is sent at once and writes nothing: the
 *     row of that version exists, and last-seen lags by at most the interval. A commit survives kill -9
 *     (store.md), so no phone ever received a profile the audit does not
 *     show; if the commit fails, every held answer becomes 503 (never a 200
 *     without its row).
 *   - An answer that changes state (binding, SEC-PRV-1, a confirm or a
 *     rotation, a stored report) writes its audit row in the transaction of
 *     that change, before answering (the caller does; pv_prov_audit_row
 *     builds the row).
 *   - Refusals and the bootstrap profile (the same secret-free document for
 *     every phone of a model, asked by any MAC) are *sampled*: the first
 *     PV_AUDIT_SAMPLES of each action per minute per loop get a row each;
 *     the rest are counted, and one `audit.sampled` row per action and
 *     minute says how many there were. Their answer never waits for the
 *     store, so a flood of unauthenticated requests neither grows the table
 *     at its own rate nor delays a phone, and a refusal takes the same path
 *     whether or not the MAC is known. Their rows wait in memory (bounded)
 *     while the store is down, and are written when it is back.
 *
 * Owns: the loop's pending records and held answers. Used by one loop
 * thread (provision.c); the counters behind /metrics are process-wide.
 */
#ifndef PV_SERVER_PROV_AUDIT_H
#define PV_SERVER_PROV_AUDIT_H

#include "core/buf.h"
#include "net/handler.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

#define PV_AUDIT_BATCH_MAX 512 /* held answers or rows before a flush is forced */
#define PV_AUDIT_SAMPLES 20    /* rows per sampled action per minute per loop */
#define PV_AUDIT_WINDOW_S 60

typedef struct pv_prov_audit pv_prov_audit;

pv_prov_audit *pv_prov_audit_new(pv_store *s);
/* Flushes first (held answers are sent or refused). */
void pv_prov_audit_free(pv_prov_audit *a);

/* A row for the audit log: actor "device:<mac>" ("device:?" without one). */
typedef struct pv_prov_row {
    char actor[32], action[32], subject[16], hash[65], detail[400];
    int64_t at;
} pv_prov_row;
void pv_prov_audit_row(pv_prov_row *row, const char *mac, const char *action, const char *hash,
                       const char *detail);
/* Inserts row (inside the caller's transaction). */
int pv_prov_audit_write(pv_store *s, const pv_prov_row *row, pv_error *err);

/* What a held answer records besides its row: the device's last-seen (and the
 * address it came from, where a direct NOTIFY goes: spec 5.5). */
typedef struct pv_prov_seen {
    const char *mac;
    int64_t at;
    const char *swver, *etag, *hash, *address;
    pv_proto proto; /* the row's proto= */
} pv_prov_seen;

/*
 * Holds resp (a PV_BODY_MEMORY or PV_BODY_NONE answer whose pointers are in
 * req's exchange arena or static, handler.h; resp is taken) for req until its
 * records — row, and seen when not NULL — are committed by the next flush;
 * then sends it, or a 503 when the commit failed.
 */
void pv_prov_audit_hold(pv_prov_audit *a, pv_request *req, pv_response *resp,
                        const pv_prov_row *row, const pv_prov_seen *seen);

/* What a committed held answer recorded for its device: a repeat of it within
 * [provisioning] seen_interval_s writes nothing (docs/provisioning.md "Last seen"). */
typedef struct pv_prov_recorded {
    int64_t at; /* the last_seen written; 0 = nothing */
    char hash[65], etag[72], swver[64], address[48];
    pv_proto proto;
} pv_prov_recorded;
/* r from seen (strings truncated to r's fields, NULL as ""). */
void pv_prov_recorded_set(pv_prov_recorded *r, const pv_prov_seen *seen);
/* Whether an answer described by now repeats the record r within interval_s seconds of it:
 * the same version, firmware, address and protocol, so only last_seen would move (interval_s
 * 0: never). */
bool pv_prov_recorded_repeat(const pv_prov_recorded *r, const pv_prov_recorded *now,
                             unsigned interval_s);

/* After each committed flush, fn is called with every held answer's device and record: the
 * loop keeps it in its cache entry (prov_cache.h) so that a repeat writes nothing. */
typedef void pv_prov_audit_committed_fn(void *data, const char *mac, const pv_prov_recorded *r);
void pv_prov_audit_on_commit(pv_prov_audit *a, pv_prov_audit_committed_fn *fn, void *data);

/* Counts an answer sent without a record: the same answer as the device's last recorded one,
 * within [provisioning] seen_interval_s of it (docs/provisioning.md "Last seen"). */
void pv_prov_audit_repeat(void);

/* A sampled record (a refusal, the bootstrap profile): never waits. */
void pv_prov_audit_sample(pv_prov_audit *a, const pv_prov_row *row);

/*
 * Writes every pending record in one transaction and sends the held answers
 * (or 503 + Retry-After if the commit failed). Sampled rows that could not be
 * written stay pending (bounded) for the next flush. The loop calls it at the
 * end of each pass and on its timer; returns 0 or the store's error code.
 */
int pv_prov_audit_flush(pv_prov_audit *a);
/* Whether a flush has work (held answers, or rows and the store is up). */
bool pv_prov_audit_pending(const pv_prov_audit *a);

/* Retention ([store] audit_retention_days, audit_max_rows; 0 = no bound). */
typedef struct pv_audit_retention {
    unsigned days;
    unsigned long long max_rows;
} pv_audit_retention;

/*
 * The loop's one-second work: one cheap query, so that the store's health
 * (and /healthz) follows the store even without traffic; the pending
 * rows; and, on one loop of the process at a time, retention — bounded
 * DELETEs of the oldest audit rows and of expired rate-limit counters, a few
 * milliseconds per second at most, so pruning never stalls a loop.
 */
void pv_prov_audit_tick(pv_prov_audit *a, const pv_audit_retention *r);

/* Prometheus text of the process-wide audit counters. */
void pv_prov_audit_render(pv_buf *out);

#endif
