/* prov_waves.c — firmware downloads in waves (DESIGN 8); see prov_waves.h. */
#include "server/prov_waves.h"

#include "core/alloc.h"
#include "server/firmware.h"
#include "server/job_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct waiting {
    pv_request *req;
    uint64_t since_ms, deadline_ms;
    struct waiting *next;
} waiting;

struct pv_wave_queue {
    pv_waves *w;
    uv_timer_t timer;
    bool open;
    waiting *head, *tail;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void pv_waves_init(pv_waves *w, const pv_prov_policy *policy, pv_fileserver *images)
{
    w->policy = policy;
    w->images = images;
    atomic_init(&w->start_ms, 0);
    atomic_init(&w->count, 0);
}

static bool wave_admit(pv_waves *w)
{
    const pv_prov_policy *pol = w->policy;
    if (pol->firmware_wave == 0)
        return true;
    long long t = (long long)now_ms();
    long long start = atomic_load(&w->start_ms);
    if (t - start >= (long long)pol->firmware_wave_ms &&
        atomic_compare_exchange_strong(&w->start_ms, &start, t))
        atomic_store(&w->count, 0); /* a new wave */
    return atomic_fetch_add(&w->count, 1) < pol->firmware_wave;
}

static void serve_firmware(pv_waves *w, pv_request *req)
{
    pv_slice rel = pv_slice_make(req->path.ptr, req->path.len);
    while (rel.len > 0 && rel.ptr[0] == '/')
        rel = pv_slice_make(rel.ptr + 1, rel.len - 1);
    rel = pv_slice_make(rel.ptr + strlen(PV_FIRMWARE_PREFIX) - 1,
                        rel.len - (strlen(PV_FIRMWARE_PREFIX) - 1));
    int fd = -1;
    pv_error e;
    int rc = pv_fileserver_open(w->images, rel, &fd, &e);
    if (rc != 0) {
        pv_request_respond_status(req, rc == PV_ENOENT ? 404 : 403, e.msg);
        return;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        pv_request_respond_status(req, 500, "cannot stat the image");
        return;
    }
    pv_jobm_firmware_download(rel); /* an image that exists: bounded by the directory */
    pv_response r = {.status = 200, .body_kind = PV_BODY_FILE, .fd = fd, .file_size = st.st_size};
    r.last_modified = st.st_mtime;
    r.content_type = pv_fileserver_content_type(rel);
    (void)snprintf(r.etag, sizeof r.etag, "\"%llx-%llx-%llx\"", (unsigned long long)st.st_ino,
                   (unsigned long long)st.st_size, (unsigned long long)st.st_mtime);
    pv_request_respond(req, &r);
}

static void wave_tick(uv_timer_t *t)
{
    pv_wave_queue *q = t->data;
    uint64_t now = now_ms();
    while (q->head != NULL) {
        waiting *w = q->head;
        bool admit = wave_admit(q->w);
        if (!admit && now < w->deadline_ms)
            break; /* wait for the next wave */
        q->head = w->next;
        if (q->head == NULL)
            q->tail = NULL;
        pv_jobm_firmware_queue(-1, (double)(now - w->since_ms) / 1000.0, !admit);
        if (admit)
            serve_firmware(q->w, w->req);
        else
            pv_request_respond_status(w->req, 503, "firmware downloads busy: retry later");
        free(w);
    }
    if (q->head == NULL)
        uv_timer_stop(&q->timer);
}

pv_wave_queue *pv_wave_queue_new(pv_waves *w, uv_loop_t *loop)
{
    pv_wave_queue *q = pv_calloc(1, sizeof *q);
    q->w = w;
    uv_timer_init(loop, &q->timer);
    uv_unref((uv_handle_t *)&q->timer); /* never keeps a draining loop alive */
    q->timer.data = q;
    q->open = true;
    return q;
}

void pv_wave_queue_request(pv_wave_queue *q, pv_request *req)
{
    if (q->head == NULL && wave_admit(q->w)) {
        serve_firmware(q->w, req);
        return;
    }
    waiting *w = pv_calloc(1, sizeof *w);
    w->req = req;
    w->since_ms = now_ms();
    w->deadline_ms = w->since_ms + q->w->policy->queue_deadline_ms;
    pv_jobm_firmware_queue(+1, 0, false);
    if (q->tail != NULL)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    unsigned period = q->w->policy->firmware_wave_ms / 4 + 1;
    if (!uv_is_active((uv_handle_t *)&q->timer))
        uv_timer_start(&q->timer, wave_tick, period, period);
}

void pv_wave_queue_close(pv_wave_queue *q)
{
    if (q == NULL || !q->open)
        return;
    while (q->head != NULL) {
        waiting *w = q->head;
        q->head = w->next;
        pv_jobm_firmware_queue(-1, (double)(now_ms() - w->since_ms) / 1000.0, false);
        pv_request_respond_status(w->req, 503, "server stopping");
        free(w);
    }
    q->tail = NULL;
    uv_close((uv_handle_t *)&q->timer, NULL);
    q->open = false;
}

void pv_wave_queue_free(pv_wave_queue *q)
{
    free(q);
}
