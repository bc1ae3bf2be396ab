/*
 * admission.h — one admission controller per node for the expensive work
 * (issue 15, DESIGN 8 "queue within a deadline, never a 503 storm").
 *
 * Each class of work (renders, firmware downloads, TLS handshakes) may start
 * at most `rate` times per second across the process (a token bucket holding
 * at most one second of tokens, shared by every loop thread through atomics).
 * A request beyond it is not closed: it waits in its loop's FIFO queue (at
 * most queue_max per loop) until a token frees or its deadline passes. Only
 * then is it refused — HTTP 503 with a Retry-After spread over the phone's
 * own retry window, so that refused phones come back spread out instead of
 * together; TFTP answers the 503 as an error packet, which the phone retries
 * on its schedule. A full queue refuses at once, the same way.
 *
 * A request whose peer goes away while it waits (a connection closed or reset
 * before its TLS handshake was admitted) is taken out of the queue by its
 * owner (pv_admit_cancel): its place is free at once and it never gets a
 * late admission.
 *
 * Metrics (pv_admission_metrics): waiting requests per class (gauge),
 * admissions, refusals by kind (deadline, queue full), waits abandoned by
 * their peer, and the wait of admitted requests (histogram, sum, max).
 *
 * Ownership and threads: a pv_admission is the process-wide state (atomics;
 * the caller owns it and its config). A pv_admit_queue belongs to one loop
 * and is used on that loop's thread only; the callbacks run there. A
 * pv_admit_wait is the caller's (in its connection or request): the queue
 * links it while it waits, so queuing allocates nothing and a cancel finds
 * it without a search.
 */
#ifndef PV_NET_ADMISSION_H
#define PV_NET_ADMISSION_H

#include "core/buf.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef enum {
    PV_ADMIT_RENDER,   /* a profile: store reads, render, encryption */
    PV_ADMIT_FIRMWARE, /* an image download */
    PV_ADMIT_TLS,      /* a TLS handshake */
    PV_ADMIT__COUNT
} pv_admit_class;

typedef struct pv_admission_config {
    unsigned rate[PV_ADMIT__COUNT]; /* starts per second across the node; 0 = unlimited */
    unsigned queue_max;             /* waiting requests per loop and class; 0 = 1000 */
    unsigned deadline_ms;           /* how long one may wait before it is refused */
    unsigned retry_min_s, retry_max_s; /* the Retry-After spread (the phone's retry window) */
} pv_admission_config;

typedef struct pv_admission {
    pv_admission_config cfg;
    atomic_llong tokens_milli[PV_ADMIT__COUNT]; /* tokens × 1000 */
    atomic_llong refill_ms[PV_ADMIT__COUNT];    /* when the bucket was last refilled */
} pv_admission;

void pv_admission_init(pv_admission *a, const pv_admission_config *cfg);

/* A Retry-After in [retry_min_s, retry_max_s], spread by seed (e.g. a request counter). */
unsigned pv_admission_retry_after(const pv_admission *a, uint64_t seed);

typedef struct pv_admit_queue pv_admit_queue;

pv_admit_queue *pv_admit_queue_new(pv_admission *a, uv_loop_t *loop);

typedef void (*pv_admit_fn)(void *data, bool admitted, unsigned retry_after_s);

/* One request's place in a queue; the caller's storage, untouched by it while queued. */
typedef struct pv_admit_wait {
    struct pv_admit_wait *prev, *next;
    pv_admit_fn fn;
    void *data;
    uint64_t since_ms;
    pv_admit_class c;
    bool queued; /* linked in a queue now */
} pv_admit_wait;

/*
 * Runs fn(data, true, 0) now when the class has a token; else queues w
 * (and returns true): later fn(data, true, 0) when a token frees, or
 * fn(data, false, retry_after) past the deadline; a full queue refuses at
 * once (false: not queued). w must stay valid until fn ran or the wait was
 * cancelled.
 */
bool pv_admit(pv_admit_queue *q, pv_admit_class c, pv_admit_wait *w, pv_admit_fn fn, void *data);

/* The peer went away while w waited: takes it out of the queue (its place is free at once;
 * fn never runs) and counts it as abandoned. Nothing when w is not queued. */
void pv_admit_cancel(pv_admit_queue *q, pv_admit_wait *w);

/* Requests of class c waiting in this loop's queue now. */
unsigned pv_admit_waiting(const pv_admit_queue *q, pv_admit_class c);

/* Refuses everything waiting and closes the timer; the loop must run once
 * more before pv_admit_queue_free. */
void pv_admit_queue_close(pv_admit_queue *q);
void pv_admit_queue_free(pv_admit_queue *q);

/* Prometheus text of the admission metrics. */
void pv_admission_metrics(pv_buf *out);
/* Zeroes the process-wide counters (tests). */
void pv_admission_metrics_reset(void);

#endif
