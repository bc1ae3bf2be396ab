/*
 * prov_waves.h — firmware downloads in waves (DESIGN 8): at most
 * firmware_wave downloads start per firmware_wave_ms across the process; a
 * download beyond the wave waits on its loop's timer for the next one, up to
 * queue_deadline_ms, and only then gets 503 (the phone retries after
 * Upgrade_Error_Retry_Delay).
 *
 * Owns: a pv_waves is the process-wide count (atomics, shared by every
 * loop; the policy and the image directory are borrowed). A pv_wave_queue is
 * one loop's waiting downloads and its timer, used on that loop's thread only.
 */
#ifndef PV_SERVER_PROV_WAVES_H
#define PV_SERVER_PROV_WAVES_H

#include "net/fileserver.h"
#include "net/handler.h"
#include "server/prov_policy.h"

#include <stdatomic.h>
#include <uv.h>

typedef struct pv_waves {
    const pv_prov_policy *policy;
    pv_fileserver *images; /* <data>/firmware */
    atomic_llong start_ms;
    atomic_uint count;
} pv_waves;

void pv_waves_init(pv_waves *w, const pv_prov_policy *policy, pv_fileserver *images);

typedef struct pv_wave_queue pv_wave_queue;

pv_wave_queue *pv_wave_queue_new(pv_waves *w, uv_loop_t *loop);
/* A GET of /firmware/<file>: served now, or queued for the next wave. */
void pv_wave_queue_request(pv_wave_queue *q, pv_request *req);
/* Answers the waiting downloads 503 and closes the timer; the loop must run
 * once more before pv_wave_queue_free. */
void pv_wave_queue_close(pv_wave_queue *q);
void pv_wave_queue_free(pv_wave_queue *q);

#endif
