/*
 * Unit tests for phone/phone_syslog: datagrams to a Syslog_Server given as an
 * address or as a host name (looked up with uv_getaddrinfo while the loop
 * runs on), in order, with the queue bounded while a lookup is pending, and a
 * close with a lookup in flight. A real UDP socket on 127.0.0.1 receives.
 */
#include "pv_test.h"

#include "phone/phone_syslog.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct rx {
    uv_udp_t sock;
    char lines[64][256];
    size_t n;
    size_t want;
    uv_timer_t guard;
} rx;

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char space[2048];
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(space, sizeof space);
}

static void on_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
                    unsigned flags)
{
    rx *r = h->data;
    (void)flags;
    if (n <= 0 || from == NULL || r->n >= 64)
        return;
    snprintf(r->lines[r->n++], 256, "%.*s", (int)n, buf->base);
}

static void on_guard(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* Runs the loop until r has `want` lines or 5 s passed. */
static void run_until(uv_loop_t *loop, rx *r, size_t want)
{
    uv_timer_start(&r->guard, on_guard, 5000, 0);
    for (int i = 0; i < 500 && r->n < want; i++)
        uv_run(loop, UV_RUN_ONCE);
    uv_timer_stop(&r->guard);
}

static void on_done(void *data)
{
    *(bool *)data = true;
}

static void to_address_and_to_name(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    rx r = {0};
    uv_udp_init(&loop, &r.sock);
    r.sock.data = &r;
    uv_timer_init(&loop, &r.guard);
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    assert_int_equal(uv_udp_bind(&r.sock, (struct sockaddr *)&sa, 0), 0);
    struct sockaddr_storage bound;
    int len = sizeof bound;
    uv_udp_getsockname(&r.sock, (struct sockaddr *)&bound, &len);
    unsigned port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    uv_udp_recv_start(&r.sock, on_alloc, on_recv);

    pv_phone_syslog *s = pv_phone_syslog_new(&loop);
    char by_addr[64], by_name[64];
    snprintf(by_addr, sizeof by_addr, "127.0.0.1:%u", port);
    snprintf(by_name, sizeof by_name, "localhost:%u", port);
    /* an address: sent at once */
    pv_phone_syslog_send(s, by_addr, 6, 0, "000e08aabbcc", "first");
    run_until(&loop, &r, 1);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.lines[0], "<14>"));
    assert_non_null(strstr(r.lines[0], "000e08aabbcc provisor-phone: first"));
    /* a name: nothing is sent before the lookup ends (the loop was not blocked) */
    pv_phone_syslog_send(s, by_name, 3, 0, "m", "second");
    pv_phone_syslog_send(s, by_name, 6, 0, "m", "third");
    assert_int_equal(r.n, 1);
    run_until(&loop, &r, 3);
    assert_int_equal(r.n, 3);
    assert_non_null(strstr(r.lines[1], "<11>")); /* in order, with their severities */
    assert_non_null(strstr(r.lines[1], "second"));
    assert_non_null(strstr(r.lines[2], "third"));
    /* bounded: another name, 40 lines while its lookup runs — 32 wait, the rest go to stderr */
    char other[80];
    snprintf(other, sizeof other, "LOCALHOST:%u", port); /* another name, the same host */
    for (int i = 0; i < 40; i++)
        pv_phone_syslog_send(s, other, 6, 0, "m", "burst");
    run_until(&loop, &r, 3 + PV_PHONE_SYSLOG_PENDING);
    for (int i = 0; i < 20; i++) /* nothing more comes */
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(r.n, 3 + PV_PHONE_SYSLOG_PENDING);
    /* a name that does not resolve: lines go to stderr, nothing crashes; close mid-lookup */
    pv_phone_syslog_send(s, "no-such-host.invalid:514", 6, 0, "m", "lost");
    pv_phone_syslog_send(s, "[::1", 6, 0, "m", "unusable");
    bool done = false;
    pv_phone_syslog_close(s, on_done, &done);
    for (int i = 0; i < 500 && !done; i++)
        uv_run(&loop, UV_RUN_ONCE);
    assert_true(done);
    uv_close((uv_handle_t *)&r.sock, NULL);
    uv_close((uv_handle_t *)&r.guard, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(to_address_and_to_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
