/* Unit tests for fleet/guard: a fleet's load goes to loopback (or a test namespace) only. */
#include "pv_test.h"

#include "fleet/fleet.h"
#include "fleet/guard.h"

static void literal_addresses(void **state)
{
    assert_true(pv_fleet_guard_is_loopback("127.0.0.1"));
    assert_true(pv_fleet_guard_is_loopback("127.255.3.4"));
    assert_true(pv_fleet_guard_is_loopback("::1"));
    assert_true(pv_fleet_guard_is_loopback("[::1]"));
    assert_true(pv_fleet_guard_is_loopback("::ffff:127.0.0.2"));
    assert_false(pv_fleet_guard_is_loopback("128.0.0.1"));
    assert_false(pv_fleet_guard_is_loopback("10.0.0.1"));
    assert_false(pv_fleet_guard_is_loopback("0.0.0.0"));
    assert_false(pv_fleet_guard_is_loopback("::"));
    assert_false(pv_fleet_guard_is_loopback("::ffff:10.0.0.1"));
    assert_false(pv_fleet_guard_is_loopback("2001:db8::1"));
    assert_false(pv_fleet_guard_is_loopback("localhost")); /* a name, not an address */
    assert_false(pv_fleet_guard_is_loopback(""));
    assert_false(pv_fleet_guard_is_loopback("[]"));
}

static void urls(void **state)
{
    pv_error err;
    assert_int_equal(pv_fleet_guard_url("https://127.0.0.1:8443", &err), 0);
    assert_int_equal(pv_fleet_guard_url("http://[::1]:8080", &err), 0);
    assert_int_equal(pv_fleet_guard_url("tftp://127.9.9.9:6969", &err), 0);
    assert_int_equal(pv_fleet_guard_url("http://localhost:8080", &err), 0); /* /etc/hosts */
    assert_int_equal(pv_fleet_guard_url("127.0.0.1:8080", &err), PV_ESYNTAX);
    assert_non_null(strstr(err.msg, "scheme://"));
    assert_int_equal(pv_fleet_guard_url("http://[::1:8080", &err), PV_ESYNTAX);
    assert_int_equal(pv_fleet_guard_url("http://:8080", &err), PV_ESYNTAX);
    if (pv_fleet_guard_private_netns()) {
        print_message("in a private network namespace: remote addresses are allowed here\n");
        return;
    }
    assert_int_equal(pv_fleet_guard_url("https://192.0.2.1:443", &err), PV_EACCES);
    assert_non_null(strstr(err.msg, "not loopback"));
    assert_int_equal(pv_fleet_guard_url("http://[2001:db8::1]:80", &err), PV_EACCES);
    assert_int_equal(pv_fleet_guard_url("http://10.1.2.3", &err), PV_EACCES);
    assert_int_equal(pv_fleet_guard_url("http://no-such-host.invalid:80", &err), PV_EACCES);
}

static void a_fleet_refuses_a_remote_server(void **state)
{
    if (pv_fleet_guard_private_netns())
        skip();
    pv_fleet_config c;
    pv_fleet_config_default(&c);
    c.scenario = pv_fleet_scenario_find("power-restore");
    c.phones = 10;
    c.virtual_clock = true; /* even on the virtual clock: a config may be reused for real */
    c.servers[0] = "https://127.0.0.1:8443";
    c.servers[1] = "https://198.51.100.7:8443";
    c.nservers = 2;
    pv_fleet *f = NULL;
    pv_error err;
    assert_int_equal(pv_fleet_new(&f, &c, &err), PV_EACCES);
    assert_null(f);
    assert_non_null(strstr(err.msg, "198.51.100.7"));
    c.servers[1] = "https://127.0.0.1:8443/path";
    assert_int_equal(pv_fleet_new(&f, &c, &err), PV_ESYNTAX);
    c.servers[1] = "ftp://127.0.0.1:21";
    assert_int_equal(pv_fleet_new(&f, &c, &err), PV_ESYNTAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(literal_addresses),
        cmocka_unit_test(urls),
        cmocka_unit_test(a_fleet_refuses_a_remote_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
