/*
 * Unit tests for net/sip_transport (SIP over UDP on a libuv loop, RFC 3261 §18) on real
 * loopback sockets: the address forms it binds, a NOTIFY and its answer between two
 * transports with the peer's address, and datagrams it drops (not SIP, too large) without
 * calling its owner. Covers src/net/sip_transport.c.
 */
#include "pv_test.h"

#include "net/sip_msg.h"
#include "net/sip_transport.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQUEST                                                                                    \
    "NOTIFY sip:1001@127.0.0.1 SIP/2.0\r\n"                                                        \
    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKt1\r\n"                                         \
    "From: <sip:prov@127.0.0.1>;tag=f1\r\n"                                                        \
    "To: <sip:1001@127.0.0.1>\r\n"                                                                 \
    "Call-ID: t1@host\r\n"                                                                         \
    "CSeq: 1 NOTIFY\r\n"                                                                           \
    "Event: check-sync\r\n"                                                                        \
    "Content-Length: 0\r\n\r\n"

typedef struct side {
    pv_sip_transport *t;
    int received;
    char method[16], call_id[32];
    int status;
    uint16_t peer_port;
    bool answer; /* answer each request with 200 */
} side;

static void on_message(pv_sip_transport *t, const pv_sip_msg *m, const struct sockaddr *peer,
                       void *data)
{
    side *s = data;
    s->received++;
    snprintf(s->method, sizeof s->method, "%s", pv_sip_method(m));
    snprintf(s->call_id, sizeof s->call_id, "%s", pv_sip_call_id(m));
    s->status = pv_sip_status(m);
    s->peer_port = ntohs(((const struct sockaddr_in *)peer)->sin_port);
    if (s->answer && pv_sip_is_request(m)) {
        pv_buf out = {0};
        pv_error err;
        assert_int_equal(pv_sip_response(m, 200, "OK", "tt", NULL, &out, &err), 0);
        assert_int_equal(pv_sip_transport_send(t, peer, out.data, out.len), 0);
        pv_buf_free(&out);
    }
}

/* Runs the loop until cond holds (a bounded number of turns, each at most 10 ms). */
static bool run_until(uv_loop_t *loop, bool (*cond)(void *), void *arg)
{
    for (int i = 0; i < 500 && !cond(arg); i++) {
        uv_run(loop, UV_RUN_NOWAIT);
        usleep(10000);
    }
    return cond(arg);
}

static bool got_one(void *arg)
{
    return ((side *)arg)->received >= 1;
}

static void closed(void *data)
{
    (*(int *)data)++;
}

static void addresses_are_ip_literals(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    pv_error err;
    assert_int_equal(pv_sip_parse_address("127.0.0.1:5062", 5060, &ss, &err), 0);
    assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 5062);
    assert_int_equal(pv_sip_parse_address("127.0.0.1", 5061, &ss, &err), 0);
    assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 5061); /* the default */
    assert_int_equal(pv_sip_parse_address("[::1]:5063", 5060, &ss, &err), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_not_equal(pv_sip_parse_address("sip.example.net:5060", 5060, &ss, &err), 0);
    assert_int_not_equal(pv_sip_parse_address("127.0.0.1:99999", 5060, &ss, &err), 0);
}

static void a_request_and_its_answer(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    side a = {0}, b = {.answer = true};
    pv_error err;
    assert_int_equal(pv_sip_transport_new(&loop, "127.0.0.1:0", 5060, on_message, &a, &a.t, &err), 0);
    assert_int_equal(pv_sip_transport_new(&loop, "127.0.0.1:0", 5060, on_message, &b, &b.t, &err), 0);
    assert_string_equal(pv_sip_transport_host(b.t), "127.0.0.1");
    assert_true(pv_sip_transport_port(b.t) > 0);
    char want[32];
    snprintf(want, sizeof want, "127.0.0.1:%u", pv_sip_transport_port(b.t));
    assert_string_equal(pv_sip_transport_address(b.t), want);
    int small = pv_sip_transport_set_receive_buffer(a.t, 4096);
    assert_true(pv_sip_transport_set_receive_buffer(a.t, 1 << 20) > small); /* the kernel grew it */

    struct sockaddr_storage to;
    assert_int_equal(pv_sip_parse_address(want, 5060, &to, &err), 0);
    assert_int_equal(pv_sip_transport_send(a.t, (struct sockaddr *)&to, REQUEST, strlen(REQUEST)),
                     0);
    assert_true(run_until(&loop, got_one, &b));
    assert_string_equal(b.method, "NOTIFY");
    assert_string_equal(b.call_id, "t1@host");
    assert_int_equal(b.peer_port, pv_sip_transport_port(a.t)); /* answered where it came from */
    assert_true(run_until(&loop, got_one, &a));
    assert_int_equal(a.status, 200);
    assert_string_equal(a.method, "NOTIFY"); /* a response's method is its CSeq's */
    assert_int_equal(pv_sip_transport_dropped(a.t) + pv_sip_transport_dropped(b.t), 0);

    int n = 0;
    pv_sip_transport_close(a.t, closed, &n);
    pv_sip_transport_close(b.t, closed, &n);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(n, 2);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static bool dropped_two(void *arg)
{
    return pv_sip_transport_dropped(arg) >= 2;
}

static void what_is_not_sip_is_dropped(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    side b = {0};
    pv_error err;
    assert_int_equal(pv_sip_transport_new(&loop, "127.0.0.1:0", 5060, on_message, &b, &b.t, &err), 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(pv_sip_transport_port(b.t))};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    const char junk[] = "hello, not SIP\r\n\r\n";
    assert_true(sendto(fd, junk, sizeof junk - 1, 0, (struct sockaddr *)&to, sizeof to) > 0);
    static char big[PV_SIP_MAX_MESSAGE + 100]; /* a valid start, then too long */
    memset(big, 'x', sizeof big);
    memcpy(big, REQUEST, strlen(REQUEST));
    assert_true(sendto(fd, big, sizeof big, 0, (struct sockaddr *)&to, sizeof to) > 0);
    close(fd);
    assert_true(run_until(&loop, dropped_two, b.t));
    assert_int_equal(b.received, 0); /* the owner never saw them */
    int n = 0;
    pv_sip_transport_close(b.t, closed, &n);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(n, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(addresses_are_ip_literals),
        cmocka_unit_test(a_request_and_its_answer),
        cmocka_unit_test(what_is_not_sip_is_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
