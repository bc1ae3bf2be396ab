/*
 * prov_admit.c — expensive provisioning work waits for the node's admission controller
 * (net/admission.h, DESIGN 8): renders and firmware downloads queue to a deadline instead of
 * being refused at once; past it, 503 with a Retry-After spread over the phone's own retry
 * window. A phone that leaves while waiting frees its place at once. See provision_int.h.
 */
#include "server/provision_int.h"

#include "server/job_metrics.h"
#include "server/prov_firmware.h"

#include <stdint.h>
#include <stdlib.h>

/* The phone's own retry window: the first step of the Resync_Error_Retry_Delay we
 * provision ("30+30" = 30 to 60 s) is when a refused phone would come back anyway. */
void pv__prov_admission_init(pv_admission *a, const pv_prov_policy *pol)
{
    pv_admission_config c = {.queue_max = pol->admission_queue,
                             .deadline_ms = pol->queue_deadline_ms,
                             .retry_min_s = 30,
                             .retry_max_s = 60};
    const char *d = pol->resync_error_retry_delay;
    if (d != NULL && *d >= '0' && *d <= '9') {
        char *end = NULL;
        unsigned long base = strtoul(d, &end, 10), jitter = 0;
        if (*end == '+')
            jitter = strtoul(end + 1, NULL, 10);
        if (base > 0 && base <= 86400 && jitter <= 86400) {
            c.retry_min_s = (unsigned)base;
            c.retry_max_s = (unsigned)(base + jitter);
        }
    }
    c.rate[PV_ADMIT_RENDER] = pol->render_rate;
    c.rate[PV_ADMIT_TLS] = pol->handshake_rate;
    c.rate[PV_ADMIT_FIRMWARE] =
        pol->firmware_wave_ms
            ? (unsigned)((uint64_t)pol->firmware_wave * 1000 / pol->firmware_wave_ms)
            : pol->firmware_wave;
    pv_admission_init(a, &c);
}

typedef struct admit_ctx {
    pv_admit_wait wait; /* its place in the queue */
    pv_provision_loop *l;
    pv_request *req;
    pv_admit_class c;
    uint64_t queued_ns; /* when it began to wait, 0: admitted at once */
} admit_ctx;

static void on_admit(void *data, bool admitted, unsigned retry_after_s)
{
    admit_ctx *a = data;
    a->req->on_peer_gone = NULL;                        /* no longer waiting */
    if (a->c == PV_ADMIT_FIRMWARE && a->queued_ns != 0) /* ops: the firmware queue's metrics */
        pv_jobm_firmware_queue(-1, (double)(uv_hrtime() - a->queued_ns) / 1e9, !admitted);
    if (!admitted) {
        /* DESIGN 8: not a 503 storm — a refusal that tells each phone a different time */
        pv_response r = {
            .status = 503, .retry_after = retry_after_s, .message = "busy: retry later"};
        pv_request_respond(a->req, &r);
    } else if (a->c == PV_ADMIT_FIRMWARE) {
        pv_prov_serve_firmware(&a->l->p->firmware, a->req);
    } else {
        pv__prov_route(a->l, a->req);
    }
}

/* The phone went away while its request waited (net/handler.h): its place is freed now, not
 * at its turn or deadline, and the request is answered (discarded, logged as aborted). */
static void on_waiter_gone(pv_request *req, void *data)
{
    admit_ctx *a = data;
    pv_admit_cancel(a->l->admit, &a->wait);
    if (a->c == PV_ADMIT_FIRMWARE)
        pv_jobm_firmware_queue(-1, (double)(uv_hrtime() - a->queued_ns) / 1e9, false);
    pv_request_respond_status(req, 503, "the peer left while waiting for admission");
}

void pv__prov_admit(pv_provision_loop *l, pv_request *req, pv_admit_class c)
{
    admit_ctx *a = pv_request_alloc(req, sizeof *a); /* lives as long as the exchange */
    *a = (admit_ctx){.l = l, .req = req, .c = c};
    uint64_t queued_ns = uv_hrtime(); /* a callback run at once saw no wait */
    if (pv_admit(l->admit, c, &a->wait, on_admit, a)) {
        a->queued_ns = queued_ns;
        req->on_peer_gone = on_waiter_gone;
        req->on_peer_gone_data = a;
        if (c == PV_ADMIT_FIRMWARE)
            pv_jobm_firmware_queue(+1, 0, false);
    }
}
