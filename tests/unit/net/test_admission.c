/*
 * Unit tests for net/admission on a real libuv loop and the real clock: requests beyond the
 * rate wait in the queue and are admitted later, the rest are refused at the deadline with a
 * Retry-After inside the retry window, a full queue refuses at once, close refuses the waiting.
 * Every wait is bounded (deadlines of at most a second; the loop stops when all answered).
 */
#include "pv_test.h"

#include "net/admission.h"

#include <string.h>

#define N 40

typedef struct outcome {
    int admitted, refused;
    unsigned retry_min, retry_max;
    int answered;
    int total;
    uv_loop_t *loop;
} outcome;

static void on_answer(void *data, bool admitted, unsigned retry_after_s)
{
    outcome *o = data;
    if (admitted) {
        o->admitted++;
    } else {
        o->refused++;
        if (retry_after_s < o->retry_min)
            o->retry_min = retry_after_s;
        if (retry_after_s > o->retry_max)
            o->retry_max = retry_after_s;
    }
    if (++o->answered == o->total)
        uv_stop(o->loop);
}

static void guard_fired(uv_timer_t *t)
{
    uv_stop(t->loop); /* a hang fails the checks below instead of blocking the suite */
}

static void run(uv_loop_t *loop)
{
    uv_timer_t guard;
    uv_timer_init(loop, &guard);
    /* referenced, unlike the queue's timer (which never keeps a draining loop alive) */
    uv_timer_start(&guard, guard_fired, 20000, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

/* 40 requests against 10 per second and a 600 ms deadline: the bucket's 10 at once, a few
 * more while they wait, the rest refused with a Retry-After in 30..60 s. */
static void queue_then_refuse_at_deadline(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    pv_admission a;
    pv_admission_config cfg = {.deadline_ms = 600, .retry_min_s = 30, .retry_max_s = 60};
    cfg.rate[PV_ADMIT_RENDER] = 10;
    pv_admission_init(&a, &cfg);
    pv_admission_metrics_reset();
    pv_admit_queue *q = pv_admit_queue_new(&a, &loop);
    outcome o = {.retry_min = 1000, .total = N, .loop = &loop};
    pv_admit_wait w[N];
    for (int i = 0; i < N; i++)
        pv_admit(q, PV_ADMIT_RENDER, &w[i], on_answer, &o);
    assert_int_equal(o.admitted, 10); /* one second of burst, at once */
    run(&loop);
    assert_int_equal(o.answered, N);
    assert_true(o.admitted > 10); /* some waited and got in */
    assert_true(o.admitted <= 10 + 10); /* at 10 per second, within the deadline */
    assert_true(o.refused > 0);
    assert_true(o.retry_min >= 30 && o.retry_max <= 60);
    assert_true(o.retry_max > o.retry_min); /* spread, not one instant for all */
    pv_buf m = {0};
    pv_admission_metrics(&m);
    assert_non_null(strstr(m.data, "provisor_admission_waiting{class=\"render\"} 0\n"));
    assert_non_null(strstr(m.data, "provisor_admission_queued_total{class=\"render\"} 30\n"));
    char want[96];
    snprintf(want, sizeof want,
             "provisor_admission_refused_total{class=\"render\",reason=\"deadline\"} %d\n",
             o.refused);
    assert_non_null(strstr(m.data, want));
    pv_buf_free(&m);
    pv_admit_queue_close(q);
    uv_run(&loop, UV_RUN_DEFAULT);
    pv_admit_queue_free(q);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* A full queue refuses at once; close refuses what waits; other classes are not held up. */
static void full_queue_and_close(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    pv_admission a;
    pv_admission_config cfg = {.queue_max = 5, .deadline_ms = 5000, .retry_min_s = 7,
                               .retry_max_s = 7};
    cfg.rate[PV_ADMIT_FIRMWARE] = 1;
    pv_admission_init(&a, &cfg);
    pv_admit_queue *q = pv_admit_queue_new(&a, &loop);
    outcome o = {.retry_min = 1000, .total = 1000, .loop = &loop};
    pv_admit_wait w[11];
    for (int i = 0; i < 10; i++)
        pv_admit(q, PV_ADMIT_FIRMWARE, &w[i], on_answer, &o);
    assert_int_equal(o.admitted, 1); /* the one token */
    assert_int_equal(o.refused, 4);  /* 5 wait, 4 beyond the queue */
    assert_int_equal(o.retry_min, 7);
    pv_admit(q, PV_ADMIT_RENDER, &w[10], on_answer, &o); /* no rate for renders: at once */
    assert_int_equal(o.admitted, 2);
    pv_admit_queue_close(q);
    assert_int_equal(o.refused, 9); /* the 5 waiting */
    uv_run(&loop, UV_RUN_DEFAULT);
    pv_admit_queue_free(q);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* A wait cancelled by its owner (the peer left) frees its place at once, never runs its
 * callback, and is counted; the one behind it moves up and is admitted in its turn. */
static void cancelled_wait_frees_its_place(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    pv_admission a;
    pv_admission_config cfg = {.queue_max = 2, .deadline_ms = 5000, .retry_min_s = 1,
                               .retry_max_s = 1};
    cfg.rate[PV_ADMIT_TLS] = 2;
    pv_admission_init(&a, &cfg);
    pv_admission_metrics_reset();
    pv_admit_queue *q = pv_admit_queue_new(&a, &loop);
    outcome o = {.retry_min = 1000, .total = 3, .loop = &loop}; /* 2 at once, the last later */
    pv_admit_wait w[5];
    outcome gone = {.total = 1000, .loop = &loop};
    pv_admit(q, PV_ADMIT_TLS, &w[0], on_answer, &o);
    pv_admit(q, PV_ADMIT_TLS, &w[1], on_answer, &o);
    assert_true(pv_admit(q, PV_ADMIT_TLS, &w[2], on_answer, &gone)); /* will leave */
    assert_true(pv_admit(q, PV_ADMIT_TLS, &w[3], on_answer, &o));
    assert_int_equal(pv_admit_waiting(q, PV_ADMIT_TLS), 2);
    assert_false(pv_admit(q, PV_ADMIT_TLS, &w[4], on_answer, &gone)); /* full: refused */
    assert_int_equal(gone.refused, 1);
    pv_admit_cancel(q, &w[2]);
    assert_int_equal(pv_admit_waiting(q, PV_ADMIT_TLS), 1);
    pv_admit_cancel(q, &w[2]); /* twice is nothing */
    assert_true(pv_admit(q, PV_ADMIT_TLS, &w[4], on_answer, &o)); /* its place is free */
    o.total = 4;
    run(&loop);
    assert_int_equal(o.admitted, 4);
    assert_int_equal(gone.admitted, 0); /* the one that left never got in */
    assert_int_equal(gone.answered, 1); /* only the queue-full refusal */
    pv_buf m = {0};
    pv_admission_metrics(&m);
    assert_non_null(strstr(m.data, "provisor_admission_abandoned_total{class=\"tls\"} 1\n"));
    assert_non_null(strstr(m.data, "provisor_admission_waiting{class=\"tls\"} 0\n"));
    assert_non_null(
        strstr(m.data, "provisor_admission_wait_seconds_count{class=\"tls\"} 4\n"));
    assert_non_null(strstr(
        m.data, "provisor_admission_wait_seconds_bucket{class=\"tls\",le=\"0.001\"} 2\n"));
    pv_buf_free(&m);
    pv_admit_queue_close(q);
    uv_run(&loop, UV_RUN_DEFAULT);
    pv_admit_queue_free(q);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(queue_then_refuse_at_deadline),
        cmocka_unit_test(full_queue_and_close),
        cmocka_unit_test(cancelled_wait_frees_its_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
