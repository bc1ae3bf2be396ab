/* test_sockaddr.c — socket addresses as text (net/sockaddr). */
#include "pv_test.h"

#include "net/sockaddr.h"

#include <arpa/inet.h>

static struct sockaddr_in v4(const char *ip, unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static struct sockaddr_in6 v6(const char *ip, unsigned port)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    inet_pton(AF_INET6, ip, &a.sin6_addr);
    return a;
}

static void address_and_port(void **state)
{
    char out[PV_SOCKADDR_TEXT_MAX];
    struct sockaddr_in a = v4("192.0.2.7", 69);
    assert_string_equal(pv_sockaddr_text((struct sockaddr *)&a, out, sizeof out), "192.0.2.7:69");
    struct sockaddr_in6 b = v6("2001:db8::7", 8443);
    assert_string_equal(pv_sockaddr_text((struct sockaddr *)&b, out, sizeof out),
                        "[2001:db8::7]:8443");
    /* The longest IPv6 text with the longest port fits. */
    struct sockaddr_in6 c = v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
    assert_string_equal(pv_sockaddr_text((struct sockaddr *)&c, out, sizeof out),
                        "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
    struct sockaddr_in6 d = v6("::ffff:192.0.2.7", 69); /* IPv4-mapped, as a dual-stack socket sees it */
    assert_string_equal(pv_sockaddr_text((struct sockaddr *)&d, out, sizeof out),
                        "[::ffff:192.0.2.7]:69");
}

static void unknown_is_a_dash(void **state)
{
    char out[PV_SOCKADDR_TEXT_MAX];
    assert_string_equal(pv_sockaddr_text(NULL, out, sizeof out), "-");
    struct sockaddr unix_like = {.sa_family = AF_UNIX};
    assert_string_equal(pv_sockaddr_text(&unix_like, out, sizeof out), "-");
    /* Too small a buffer: a dash, never a cut address that names another host. */
    char small[8];
    struct sockaddr_in a = v4("192.0.2.7", 69);
    assert_string_equal(pv_sockaddr_text((struct sockaddr *)&a, small, sizeof small), "-");
}

static void host_alone(void **state)
{
    char out[PV_SOCKADDR_TEXT_MAX] = "default";
    assert_false(pv_sockaddr_host(NULL, out, sizeof out));
    assert_string_equal(out, "default"); /* the caller's default stays */
    struct sockaddr_in a = v4("127.0.0.1", 6969);
    assert_true(pv_sockaddr_host((struct sockaddr *)&a, out, sizeof out));
    assert_string_equal(out, "127.0.0.1");
    struct sockaddr_in6 b = v6("::1", 69);
    assert_true(pv_sockaddr_host((struct sockaddr *)&b, out, sizeof out));
    assert_string_equal(out, "::1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(address_and_port),
        cmocka_unit_test(unknown_is_a_dash),
        cmocka_unit_test(host_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
