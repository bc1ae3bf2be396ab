/*
 * The per-source counts (net/source_count.h) against a plain array doing the same arithmetic:
 * thousands of adds and removes over addresses that share hash runs, so that growing and the
 * backward-shift removal are both exercised; keys of both families and of text.
 */
/* Covers src/net/source_count.c. */
#include "pv_test.h"

#include "net/source_count.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#define KEYS 600

static void key_n(unsigned n, pv_source_key *k)
{
    if (n % 3 == 0) {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6};
        a.sin6_addr.s6_addr[0] = 0x20;
        a.sin6_addr.s6_addr[14] = (uint8_t)(n >> 8);
        a.sin6_addr.s6_addr[15] = (uint8_t)n;
        pv_source_key_addr((struct sockaddr *)&a, k);
    } else if (n % 3 == 1) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)n)};
        a.sin_addr.s_addr = htonl(0x7f000000u + n);
        pv_source_key_addr((struct sockaddr *)&a, k);
    } else {
        char text[32];
        int len = snprintf(text, sizeof text, "192.0.2.%u", n);
        pv_source_key_text(text, (size_t)len, k);
    }
}

static void counts_match_a_plain_array(void **state)
{
    pv_source_counts t = {0};
    static unsigned want[KEYS];
    memset(want, 0, sizeof want);
    uint32_t x = 12345;
    for (int step = 0; step < 40000; step++) {
        x = x * 1103515245u + 12345u;
        unsigned n = (x >> 8) % KEYS;
        int delta = (x >> 4) % 3 == 0 ? -1 : +1;
        pv_source_key k;
        key_n(n, &k);
        pv_source_counts_add(&t, &k, delta);
        want[n] = delta < 0 ? (want[n] ? want[n] - 1 : 0) : want[n] + 1;
        if (step % 97 == 0) {
            for (unsigned i = 0; i < KEYS; i++) {
                key_n(i, &k);
                assert_int_equal(pv_source_counts_get(&t, &k), want[i]);
            }
        }
    }
    size_t nonzero = 0;
    for (unsigned i = 0; i < KEYS; i++)
        nonzero += want[i] != 0;
    assert_int_equal(t.used, nonzero); /* a count at zero leaves no entry behind */
    pv_source_counts_clear(&t);
    pv_source_key k;
    key_n(1, &k);
    assert_int_equal(pv_source_counts_get(&t, &k), 0);
}

static void the_port_is_not_part_of_a_source(void **state)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(1000)};
    struct sockaddr_in b = a;
    b.sin_port = htons(2000);
    inet_pton(AF_INET, "198.51.100.7", &a.sin_addr);
    b.sin_addr = a.sin_addr;
    pv_source_key ka, kb;
    pv_source_key_addr((struct sockaddr *)&a, &ka);
    pv_source_key_addr((struct sockaddr *)&b, &kb);
    pv_source_counts t = {0};
    pv_source_counts_add(&t, &ka, +1);
    pv_source_counts_add(&t, &kb, +1);
    assert_int_equal(pv_source_counts_get(&t, &ka), 2);
    pv_source_counts_add(&t, &ka, -5); /* never below zero */
    assert_int_equal(pv_source_counts_get(&t, &kb), 0);
    assert_int_equal(t.used, 0);
    pv_source_counts_clear(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counts_match_a_plain_array),
        cmocka_unit_test(the_port_is_not_part_of_a_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
