/*
 * vserver.h — the virtual provisioning server of `provisor fleet --virtual`
 * and of the fleet's unit tests.
 *
 * On the virtual clock there are no sockets: a request is answered by this
 * model, which serves the same bytes as a static tree written by `provisor
 * fleet profiles` (content.h) and charges each request a service time on one
 * of `workers` service slots (FIFO), plus a network round trip. Its queue is
 * what makes a storm take time on the virtual clock: with 2 workers at ~1 ms
 * per HTTPS request, 100 000 phones booting within 2 s take ~50 s, as a
 * two-core server would. The numbers are a model, not a measurement: the
 * benchmark measures the real server (bench/storm.sh).
 *
 * Time is in microseconds of the virtual clock. Ownership: a value type.
 */
#ifndef PV_FLEET_VSERVER_H
#define PV_FLEET_VSERVER_H

#include "core/buf.h"
#include "fleet/content.h"

#include <stdbool.h>
#include <stdint.h>

#define PV_VSERVER_MAX_WORKERS 64

typedef struct pv_vserver_model {
    unsigned workers;    /* parallel service slots; default 2 (the machine's cores) */
    uint32_t service_us; /* per request; default 150 */
    uint32_t tls_us;     /* added per HTTPS request (a full handshake); default 900 */
    uint32_t per_kib_us; /* per KiB of answer; default 4 */
    uint32_t rtt_us;     /* network round trip; default 200 */
} pv_vserver_model;

void pv_vserver_model_default(pv_vserver_model *m);

typedef struct pv_vserver {
    pv_vserver_model m;
    uint64_t seed;
    pv_fleet_mix mix;
    size_t firmware_size;
    bool down; /* outage: connections refused */
    uint64_t free_at[PV_VSERVER_MAX_WORKERS];
    uint64_t served;
} pv_vserver;

void pv_vserver_init(pv_vserver *v, const pv_vserver_model *m, uint64_t seed,
                     const pv_fleet_mix *mix, size_t firmware_size);

/* What the server will answer to `path` (with query) over `scheme`, and after how long. */
typedef struct pv_vserver_answer {
    int error;  /* 0 or PV_ECONN (down) */
    int status; /* 200, 404 */
    uint64_t delay_us;
    uint8_t kind;   /* what a 200 carries, for pv_vserver_body */
    uint32_t index; /* the phone (profile, binding) or family (firmware) it is for */
} pv_vserver_answer;

void pv_vserver_request(pv_vserver *v, uint64_t now_us, const char *scheme, const char *path,
                        pv_vserver_answer *out);
/*
 * The body of a 200 answer (kind and index from it), made when it is
 * delivered, so that a queue of 100 000 requests holds no bodies. base_url
 * is the requesting phone's server, for binding profiles.
 */
int pv_vserver_body(const pv_vserver *v, uint8_t kind, uint32_t index, const char *base_url,
                    pv_buf *out);

#endif
