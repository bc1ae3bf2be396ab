/*
 * TLS handshakes wait for admission (net/admission.h, issue 15) on a real HTTPS listener, with
 * curl and raw sockets on loopback: handshakes beyond the rate wait and complete; a client that
 * leaves while queued is taken out of the queue (its place freed, counted, never admitted);
 * past the deadline the connection is refused with a TLS alert and a clean close. Every wait
 * is bounded; the rate is 1 handshake a second, so each check has seconds of margin.
 */
#include "http_test_env.h"

#include "net/admission.h"

#include <netinet/in.h>
#include <sys/socket.h>

static pv_tls_slot *g_slot;
static pv_admission g_patient, g_hasty;     /* 20 s deadline; 300 ms deadline */
static pv_admit_queue *g_patient_q, *g_hasty_q;
static pv_http_server *g_patient_srv, *g_hasty_srv;

static const char refusal_alert[] = {0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x50};

static void queues_task(http_env *env, void *arg)
{
    pv_admission_config c = {.queue_max = 100, .deadline_ms = 20000, .retry_min_s = 30,
                             .retry_max_s = 60};
    c.rate[PV_ADMIT_TLS] = 1;
    pv_admission_init(&g_patient, &c);
    c.deadline_ms = 300;
    pv_admission_init(&g_hasty, &c);
    g_patient_q = pv_admit_queue_new(&g_patient, &env->loop);
    g_hasty_q = pv_admit_queue_new(&g_hasty, &env->loop);
}

static pv_http_server *add_admitted_server(pv_admit_queue *q, const pv_http_limits *limits)
{
    add_server_args a = {.options = {.address = "127.0.0.1:0",
                                     .handler = &g_env->handler,
                                     .tls = g_slot,
                                     .limits = limits,
                                     .admit = q}};
    run_on_loop(add_server_task, &a);
    assert_int_equal(a.rc, 0);
    return a.server;
}

static int setup(void **state)
{
    env_start();
    make_pki(g_env->dir);
    g_slot = env_server_tls();
    run_on_loop(queues_task, NULL);
    pv_http_limits limits;
    pv_http_limits_default(&limits);
    limits.handshake_timeout_ms = 1000; /* raw sockets that never say hello leave quickly */
    g_patient_srv = add_admitted_server(g_patient_q, &limits);
    g_hasty_srv = add_admitted_server(g_hasty_q, &limits);
    return 0;
}

static void close_queues_task(http_env *env, void *arg)
{
    pv_admit_queue_close(g_patient_q);
    pv_admit_queue_close(g_hasty_q);
}

static int teardown(void **state)
{
    run_on_loop(close_queues_task, NULL);
    env_stop();
    pv_admit_queue_free(g_patient_q);
    pv_admit_queue_free(g_hasty_q);
    pv_tls_slot_free(g_slot);
    return 0;
}

/* The value of one admission metric line (name with its labels). */
static long long metric(const char *series)
{
    pv_buf m = {0};
    pv_admission_metrics(&m);
    char want[160];
    snprintf(want, sizeof want, "\n%s ", series);
    const char *at = strstr(m.data, want);
    long long v = at != NULL ? strtoll(at + strlen(want), NULL, 10) : -1;
    pv_buf_free(&m);
    return v;
}

/* Waits (up to 30 s) until the metric reaches at least want. */
static long long wait_metric(const char *series, long long want)
{
    long long v = metric(series);
    for (int i = 0; i < 3000 && v < want; i++) {
        usleep(10000);
        v = metric(series);
    }
    return v;
}

/* 6 curls at once against 1 handshake a second: one starts at once, the others wait their
 * turn (in order, 1 s apart) and every one completes its request. */
static void handshakes_beyond_the_rate_wait_and_complete(void **state)
{
    pv_admission_metrics_reset();
    double start = now_seconds();
    pv_buf out = {0};
    int rc = sh(&out,
                "for i in 1 2 3 4 5 6; do curl -sS -o /dev/null -w '%%{http_code}\\n' "
                "--cacert '%s/pki/server-ca.crt' https://localhost:%d/info 2>&1 & done; wait",
                g_env->dir, port_of(g_patient_srv));
    double took = now_seconds() - start;
    assert_int_equal(rc, 0);
    int ok = 0;
    for (const char *p = out.data; p != NULL && (p = strstr(p, "200\n")) != NULL; p += 4)
        ok++;
    if (ok != 6)
        fail_msg("curl said: %s", out.data ? out.data : "");
    /* 6 handshakes at 1 a second with at most 1 in the bucket: 5 s at least */
    assert_true(took >= 4.5);
    assert_int_equal(metric("provisor_admission_admitted_total{class=\"tls\"}"), 6);
    assert_true(metric("provisor_admission_queued_total{class=\"tls\"}") >= 1);
    assert_int_equal(metric("provisor_admission_waiting{class=\"tls\"}"), 0);
    assert_int_equal(metric("provisor_admission_refused_total{class=\"tls\",reason=\"deadline\"}"),
                     0);
    /* the waits show in the histogram: some beyond a quarter second */
    long long quick = metric("provisor_admission_wait_seconds_bucket{class=\"tls\",le=\"0.25\"}");
    assert_true(quick < 6);
    assert_int_equal(metric("provisor_admission_wait_seconds_count{class=\"tls\"}"), 6);
    pv_buf_free(&out);
    assert_int_equal(wait_no_connections(), 0);
}

/* Closes with a reset (SO_LINGER 0), as a phone that lost power would seem. */
static void reset_close(int fd)
{
    struct linger l = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
}

/* Six raw connections that say nothing: the first takes the token, five queue. The last one
 * (four seconds from its turn) resets: it leaves the queue at once, is counted as abandoned,
 * and is never admitted — the other five are, each in its turn. */
static void peer_leaving_while_queued_is_removed(void **state)
{
    assert_int_equal(wait_no_connections(), 0);
    sleep(1); /* the bucket full again after the test before */
    pv_admission_metrics_reset();
    int fds[6];
    for (int i = 0; i < 6; i++)
        fds[i] = raw_connect(port_of(g_patient_srv));
    assert_true(wait_metric("provisor_admission_queued_total{class=\"tls\"}", 5) >= 5);
    long long waiting = metric("provisor_admission_waiting{class=\"tls\"}");
    assert_true(waiting >= 2); /* five queued; a slow machine may have admitted some since */
    reset_close(fds[5]);
    assert_int_equal(wait_metric("provisor_admission_abandoned_total{class=\"tls\"}", 1), 1);
    assert_true(metric("provisor_admission_waiting{class=\"tls\"}") <= waiting - 1);
    /* the others are admitted in turn, then time out in their silent handshakes */
    assert_int_equal(wait_metric("provisor_admission_admitted_total{class=\"tls\"}", 5), 5);
    for (int i = 0; i < 5; i++)
        close(fds[i]);
    assert_int_equal(wait_no_connections(), 0);
    assert_int_equal(metric("provisor_admission_admitted_total{class=\"tls\"}"), 5);
    assert_int_equal(metric("provisor_admission_abandoned_total{class=\"tls\"}"), 1);
    assert_int_equal(metric("provisor_admission_waiting{class=\"tls\"}"), 0);
}

/* Reads until the peer closes; true when it closed with a FIN (recv 0), not a reset. */
static bool read_until_closed(int fd, pv_buf *out)
{
    char buf[4096];
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 10000) <= 0)
            return false;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0)
            return true;
        if (n < 0)
            return false;
        pv_buf_append(out, buf, (size_t)n);
    }
}

/* 300 ms deadline, 1 handshake a second: of four connections at once, one is admitted, at
 * most one more by the refill within the deadline, and the others get exactly the refusal
 * alert followed by a clean close; curl reports the alert and the server keeps nothing. */
static void past_the_deadline_refused_cleanly(void **state)
{
    assert_int_equal(wait_no_connections(), 0);
    sleep(1);
    pv_admission_metrics_reset();
    int fds[4];
    for (int i = 0; i < 4; i++)
        fds[i] = raw_connect(port_of(g_hasty_srv));
    int alerted = 0;
    for (int i = 0; i < 4; i++) {
        pv_buf got = {0};
        bool fin = read_until_closed(fds[i], &got);
        if (got.len == sizeof refusal_alert &&
            memcmp(got.data, refusal_alert, sizeof refusal_alert) == 0) {
            assert_true(fin); /* the alert, then a FIN: never a reset */
            alerted++;
        }
        pv_buf_free(&got);
        close(fds[i]);
    }
    assert_true(alerted >= 2);
    assert_int_equal(metric("provisor_admission_refused_total{class=\"tls\",reason=\"deadline\"}"),
                     alerted);
    assert_true(log_has("event=tls.admission_refused", "retry_after_s="));
    /* a real client: curl says why */
    sleep(1);
    pv_buf out = {0};
    sh(&out,
       "for i in 1 2 3 4; do curl -sS -o /dev/null --cacert '%s/pki/server-ca.crt' "
       "https://localhost:%d/info 2>&1 & done; wait",
       g_env->dir, port_of(g_hasty_srv));
    if (out.data == NULL || strstr(out.data, "alert internal error") == NULL)
        fail_msg("curl said: %s", out.data ? out.data : "");
    assert_null(strstr(out.data, "reset"));
    pv_buf_free(&out);
    assert_int_equal(wait_no_connections(), 0);
    assert_int_equal(metric("provisor_admission_waiting{class=\"tls\"}"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshakes_beyond_the_rate_wait_and_complete),
        cmocka_unit_test(peer_leaving_while_queued_is_removed),
        cmocka_unit_test(past_the_deadline_refused_cleanly),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
