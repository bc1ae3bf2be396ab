/*
 * Unit tests for the engine's own name resolution (agent/resolve.c): $SERVIP
 * is the address after DNS (spec 2.2), a name's addresses are tried in turn
 * (spec 1.2), and `--srv` follows SRV records in RFC 2782 order with failover
 * across targets (spec 1.1). The world answers the engine's RESOLVE actions
 * from a table and refuses connections to the addresses marked down.
 */
#include "world.h"

#define PROFILE(body) "<flat-profile>" body "</flat-profile>"

static const char *find_log(const world *w, const char *needle)
{
    for (size_t i = 0; i < w->nlogs; i++)
        if (strstr(w->logs[i], needle) != NULL)
            return w->logs[i];
    return NULL;
}

static world *mpp(uint64_t seed)
{
    world *w = world_new(PV_AGENT_MPP, "000e08012345", seed);
    world_boot(w);
    return w;
}

/* spec 2.2 SERVIP "target IP after DNS"; spec 1.2 "tried address by address" */
static void servip_is_the_address_that_answered(void **state)
{
    world *w = mpp(1);
    world_dns(w, "prov.example", "192.0.2.7,192.0.2.8");
    world_down(w, "192.0.2.7");
    serve_str(w, "http://prov.example:80/a.xml", PROFILE("<Station_Name>srv1</Station_Name>"));
    pv_error err;
    assert_int_equal(pv_agent_resync(w->a, w->now, "http://prov.example/a.xml", &err), 0);
    world_drain(w);
    assert_int_equal(w->nseen, 2);
    assert_string_equal(w->seen[0].address, "192.0.2.7");
    assert_string_equal(w->seen[1].address, "192.0.2.8");
    assert_string_equal(w->seen[1].url, "http://prov.example:80/a.xml"); /* the name stays */
    assert_string_equal(param(w, "Station_Name"), "srv1");
    assert_non_null(find_log(w, "Requesting resync http://192.0.2.7:80/a.xml"));
    assert_non_null(find_log(w, "Successful resync http://192.0.2.8:80/a.xml"));
    world_free(w);
}

/* A numeric server needs no lookup; $SERVIP is that address. */
static void numeric_server_needs_no_lookup(void **state)
{
    world *w = mpp(2);
    world_dns(w, "unused.example", "192.0.2.1");
    serve_str(w, "http://127.0.0.9:80/a.xml", PROFILE(""));
    pv_error err;
    assert_int_equal(pv_agent_resync(w->a, w->now, "http://127.0.0.9/a.xml", &err), 0);
    world_drain(w);
    assert_int_equal(w->lookups, 0);
    assert_string_equal(w->seen[0].address, "127.0.0.9");
    assert_non_null(find_log(w, "Successful resync http://127.0.0.9:80/a.xml"));
    world_free(w);
}

/* spec 1.1 --srv, RFC 2782: the lowest priority first, the next target when it is down. */
static void srv_fails_over_by_priority(void **state)
{
    world *w = mpp(3);
    world_srv(w, "_ciscoprov-http._tcp.example.net", "backup.example.net", 8081, 20, 0);
    world_srv(w, "_ciscoprov-http._tcp.example.net", "main.example.net", 8080, 10, 0);
    world_dns(w, "main.example.net", "192.0.2.1");
    world_dns(w, "backup.example.net", "192.0.2.2");
    world_down(w, "192.0.2.1");
    serve_str(w, "http://backup.example.net:8081/8841-3PCC.xml",
              PROFILE("<Station_Name>from-backup</Station_Name>"));
    pv_error err;
    assert_int_equal(
        pv_agent_resync(w->a, w->now, "[--srv] http://example.net/$PSN.xml", &err), 0);
    world_drain(w);
    assert_int_equal(w->nseen, 2);
    assert_string_equal(w->seen[0].url, "http://main.example.net:8080/8841-3PCC.xml");
    assert_string_equal(w->seen[0].address, "192.0.2.1");
    assert_string_equal(w->seen[1].url, "http://backup.example.net:8081/8841-3PCC.xml");
    assert_string_equal(param(w, "Station_Name"), "from-backup");
    assert_non_null(find_log(w, "Successful resync http://192.0.2.2:8081/8841-3PCC.xml"));
    world_free(w);
}

/* spec 1.1: https looks up _ciscoprov-https._tls; a domain without records fails (class C). */
static void srv_names_and_missing_records(void **state)
{
    world *w = mpp(4);
    world_srv(w, "_ciscoprov-https._tls.example.org", "p.example.org", 8443, 0, 0);
    world_dns(w, "p.example.org", "192.0.2.3");
    serve_str(w, "https://p.example.org:8443/a.xml", PROFILE("<Station_Name>tls</Station_Name>"));
    pv_error err;
    assert_int_equal(pv_agent_resync(w->a, w->now, "[--srv] https://example.org/a.xml", &err),
                     0);
    world_drain(w);
    assert_string_equal(param(w, "Station_Name"), "tls");
    size_t before = w->nseen;
    assert_int_equal(pv_agent_resync(w->a, w->now, "[--srv] http://example.org/a.xml", &err), 0);
    world_drain(w);
    assert_int_equal(w->nseen, before); /* no _ciscoprov-http._tcp records: nothing fetched */
    assert_non_null(strstr(pv_agent_last_error(w->a), "DNS lookup failed: example.org"));
    world_free(w);
}

/* RFC 2782: "." means the service is not offered; it is never a server. */
static void srv_dot_target_dropped(void **state)
{
    world *w = mpp(5);
    world_srv(w, "_ciscoprov-http._tcp.example.com", ".", 80, 0, 0);
    pv_error err;
    assert_int_equal(pv_agent_resync(w->a, w->now, "[--srv] http://example.com/a.xml", &err), 0);
    world_drain(w);
    assert_int_equal(w->nseen, 0);
    assert_int_equal(w->lookups, 1);
    assert_non_null(strstr(pv_agent_last_error(w->a), "DNS lookup failed"));
    world_free(w);
}

/* RFC 2782 weights: within one priority a target is drawn first with probability
 * weight/sum. 400 phones (seeds) choose between weights 90 and 10. */
static void srv_weights_spread_first_choice(void **state)
{
    size_t heavy = 0, light = 0;
    for (uint64_t seed = 100; seed < 500; seed++) {
        world *w = mpp(seed);
        world_srv(w, "_ciscoprov-http._tcp.example.net", "light.example.net", 80, 5, 10);
        world_srv(w, "_ciscoprov-http._tcp.example.net", "heavy.example.net", 80, 5, 90);
        world_dns(w, "light.example.net", "192.0.2.10");
        world_dns(w, "heavy.example.net", "192.0.2.90");
        serve_str(w, "http://light.example.net:80/a.xml", PROFILE(""));
        serve_str(w, "http://heavy.example.net:80/a.xml", PROFILE(""));
        pv_error err;
        assert_int_equal(
            pv_agent_resync(w->a, w->now, "[--srv] http://example.net/a.xml", &err), 0);
        world_drain(w);
        assert_int_equal(w->nseen, 1);
        heavy += strcmp(w->seen[0].address, "192.0.2.90") == 0;
        light += strcmp(w->seen[0].address, "192.0.2.10") == 0;
        world_free(w);
    }
    assert_int_equal(heavy + light, 400);
    /* expected 360 / 40; binomial sd = 6: these bounds are 5 sd away */
    assert_in_range(heavy, 330, 390);
    assert_in_range(light, 10, 70);
}

/* A host that does not resolve (the fleet) cannot follow --srv: refused, not guessed. */
static void srv_without_resolver_fails(void **state)
{
    world *w = mpp(6);
    serve_str(w, "http://example.net:80/a.xml", PROFILE(""));
    pv_error err;
    assert_int_equal(pv_agent_resync(w->a, w->now, "[--srv] http://example.net/a.xml", &err), 0);
    world_drain(w);
    assert_int_equal(w->nseen, 0);
    assert_non_null(strstr(pv_agent_last_error(w->a), "--srv needs a host that resolves"));
    /* without --srv the host gets the name, and $SERVIP shows it */
    assert_int_equal(pv_agent_resync(w->a, w->now, "http://example.net/a.xml", &err), 0);
    world_drain(w);
    assert_int_equal(w->nseen, 1);
    assert_string_equal(w->seen[0].address, "");
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(servip_is_the_address_that_answered),
        cmocka_unit_test(numeric_server_needs_no_lookup),
        cmocka_unit_test(srv_fails_over_by_priority),
        cmocka_unit_test(srv_names_and_missing_records),
        cmocka_unit_test(srv_dot_target_dropped),
        cmocka_unit_test(srv_weights_spread_first_choice),
        cmocka_unit_test(srv_without_resolver_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
