/*
 * The exchange's lifetime rule (net/exchange.h, handler.h) over real loopback connections:
 * what a handler hands back lives in the exchange's arena until the line is logged, so an
 * answer whose write completes long after handle() returned — a slow client, TLS — logs the
 * handler's message and loggable path; and an exchange whose peer left before the handler
 * answered is logged and freed when the answer comes (the SAN build checks "freed cleanly").
 */
/* Covers src/net/exchange.c and its use by http_conn.c; src/core/arena.c. */
#include "http_test_env.h"

#include "net/exchange.h"

#define BIG_BODY (8u << 20) /* more than loopback socket buffers hold: the write waits */
#define SECRET "S3CR3Tcode"

static pv_http_server *g_plain, *g_tls;
static pv_tls_slot *g_slot;
static pv_request *g_held; /* the request the /hold handler keeps (loop thread only) */
static atomic_uint g_held_count;

/* Answers /refuse/<code> with a 403 whose message and log path were built in buffers that
 * are scribbled over before handle() returns: only the arena's copies may reach the log. */
static void refuse(pv_request *req)
{
    char stack_msg[64];
    snprintf(stack_msg, sizeof stack_msg, "refused code %.2s...", req->path.ptr + 8);
    char stack_path[64];
    snprintf(stack_path, sizeof stack_path, "/refuse/%.2s...", req->path.ptr + 8);
    pv_response r = {.status = 403, .body_kind = PV_BODY_MEMORY, .fd = -1};
    char *body = pv_request_alloc(req, BIG_BODY);
    memset(body, 'r', BIG_BODY);
    r.body = body;
    r.body_len = BIG_BODY;
    r.message = pv_request_strdup(req, stack_msg);
    r.identity_log = pv_request_printf(req, "%s", "handler-said");
    pv_request_set_log_path(req, stack_path);
    pv_request_respond(req, &r);
    memset(stack_msg, 'X', sizeof stack_msg);
    memset(stack_path, 'X', sizeof stack_path);
}

static atomic_uint g_gone_count;

/* /wait keeps the request as an admission queue would, until the peer leaves. */
static void waiter_gone(pv_request *req, void *data)
{
    atomic_fetch_add(&g_gone_count, 1);
    pv_request_respond_status(req, 503, "the peer left while waiting");
}

static void exchange_handle(pv_handler *self, pv_request *req)
{
    if (pv_slice_eq_cstr(req->path, "/wait")) {
        req->on_peer_gone = waiter_gone;
        atomic_fetch_add(&g_held_count, 1);
        return;
    }
    if (pv_slice_starts_with(req->path, "/refuse/") && req->path.len > 10) {
        refuse(req);
    } else if (pv_slice_eq_cstr(req->path, "/hold")) {
        g_held = req; /* answered later by answer_held(), on the loop thread */
        atomic_fetch_add(&g_held_count, 1);
    } else {
        pv_request_respond_status(req, 404, "not here");
    }
}

static void answer_held(http_env *env, void *arg)
{
    pv_request *req = g_held;
    g_held = NULL;
    char reason[48];
    snprintf(reason, sizeof reason, "late answer %d", 7);
    pv_request_respond_status(req, 503, reason); /* copied into the arena */
    memset(reason, 'X', sizeof reason);
}

static int setup(void **state)
{
    env_start();
    make_pki(g_env->dir);
    g_env->handler.handle = exchange_handle;
    g_plain = env_add_server(NULL, NULL);
    g_slot = env_server_tls();
    g_tls = env_add_server(g_slot, NULL);
    return 0;
}

static int teardown(void **state)
{
    env_stop();
    pv_tls_slot_free(g_slot);
    return 0;
}

/* Plain HTTP: the client reads 8 MiB only after the handler returned. */
static void a_slow_client_logs_the_handlers_message_and_path(void **state)
{
    int fd = raw_connect(port_of(g_plain));
    static const char req[] = "GET /refuse/" SECRET " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    raw_send(fd, req, sizeof req - 1);
    pv_buf got = {0};
    raw_read_all(fd, &got, 30000);
    close(fd);
    assert_true(got.len > BIG_BODY);
    assert_non_null(strstr(got.data, "403"));
    pv_buf_free(&got);
    assert_true(wait_log_has("proto=http ", "path=/refuse/S3... status=403 bytes=8388608"));
    assert_true(log_has("identity=handler-said", "reason=\"refused code S3...\""));
    assert_false(log_has(SECRET, NULL));
}

/* TLS: the answer is encrypted and queued; the line is written when the queue drains. */
static void a_tls_client_logs_the_handlers_message_and_path(void **state)
{
    pv_buf out = {0};
    assert_int_equal(sh(&out, "curl -sk -o /dev/null -w '%%{http_code}' https://127.0.0.1:%d/refuse/"
                              "T0pSecret",
                        port_of(g_tls)),
                     0);
    assert_string_equal(out.data, "403");
    pv_buf_free(&out);
    assert_true(wait_log_has("proto=https ", "path=/refuse/T0... status=403 bytes=8388608"));
    assert_true(log_has("proto=https ", "reason=\"refused code T0...\""));
    assert_false(log_has("T0pSecret", NULL));
}

/* The peer leaves while the handler holds the request: the connection's handles close, the
 * exchange waits; the late answer is logged as aborted and frees the connection. */
static void an_orphan_answered_later_is_logged_and_freed(void **state)
{
    unsigned before = atomic_load(&g_held_count);
    int fd = raw_connect(port_of(g_plain));
    static const char req[] = "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n";
    raw_send(fd, req, sizeof req - 1);
    for (int i = 0; i < 3000 && atomic_load(&g_held_count) == before; i++)
        usleep(10000);
    assert_true(atomic_load(&g_held_count) > before);
    close(fd);
    assert_int_equal(wait_no_connections(), 0); /* detached: only the exchange keeps it */
    assert_false(log_has("path=/hold", NULL));   /* one line, when the answer comes */
    run_on_loop(answer_held, NULL);
    assert_true(wait_log_has("path=/hold status=503", "aborted=true"));
    assert_true(log_has("path=/hold status=503", "reason=\"late answer 7\""));
}

/* The peer leaves while its request waits (issue 15: an admission queue): the handler hears
 * it at once (on_peer_gone), answers, and the exchange and connection are freed without any
 * late answer; a request answered before the peer leaves never calls it. */
static void a_waiting_request_hears_its_peer_leave(void **state)
{
    unsigned before = atomic_load(&g_held_count);
    int fd = raw_connect(port_of(g_plain));
    static const char req[] = "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n";
    raw_send(fd, req, sizeof req - 1);
    for (int i = 0; i < 3000 && atomic_load(&g_held_count) == before; i++)
        usleep(10000);
    assert_true(atomic_load(&g_held_count) > before);
    assert_int_equal(atomic_load(&g_gone_count), 0);
    close(fd);
    assert_true(wait_log_has("path=/wait status=503", "aborted=true"));
    assert_true(log_has("path=/wait status=503", "reason=\"the peer left while waiting\""));
    assert_int_equal(atomic_load(&g_gone_count), 1);
    assert_int_equal(wait_no_connections(), 0);
    /* over TLS too, with curl giving up after 1 s */
    pv_buf out = {0};
    sh(&out, "curl -sk -m 1 https://127.0.0.1:%d/wait", port_of(g_tls));
    pv_buf_free(&out);
    for (int i = 0; i < 3000 && atomic_load(&g_gone_count) < 2; i++)
        usleep(10000);
    assert_int_equal(atomic_load(&g_gone_count), 2);
    assert_int_equal(wait_no_connections(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_slow_client_logs_the_handlers_message_and_path),
        cmocka_unit_test(a_tls_client_logs_the_handlers_message_and_path),
        cmocka_unit_test(an_orphan_answered_later_is_logged_and_freed),
        cmocka_unit_test(a_waiting_request_hears_its_peer_leave),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
