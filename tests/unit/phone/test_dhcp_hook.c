/*
 * test_dhcp_hook.c — busybox udhcpc environments (named options, optNNN hex),
 * the lease file, bad input with messages, and the options reaching the
 * engine in DHCP_Option_To_Use order (spec 10).
 */
#include "pv_test.h"

#include "phone/dhcp_hook.h"
#include "core/error.h"

static void env_named_and_hex(void **state)
{
    /* opt150: 10.0.0.5 and 10.0.0.6; opt159: "prov.example"; opt160: a URL */
    char *env[] = {"interface=eth0",
                   "ip=192.168.1.50",
                   "router=192.168.1.1",
                   "siaddr=192.168.1.2",
                   "tftp=tftp.example ",
                   "opt150=0a0000050A000006",
                   "opt159=70726f762e6578616d706c65",
                   "opt160=68747470733a2f2f702e6578616d706c652f24504e2e786d6c",
                   "opt43=0102",
                   NULL};
    pv_dhcp_lease l;
    pv_error err;
    assert_int_equal(pv_dhcp_lease_from_env(env, &l, &err), 0);
    assert_string_equal(l.ip, "192.168.1.50");
    assert_string_equal(l.value[0], "tftp.example");
    assert_string_equal(l.value[1], "10.0.0.5,10.0.0.6");
    assert_string_equal(l.value[2], "prov.example");
    assert_string_equal(l.value[3], "https://p.example/$PN.xml");
    pv_buf b = {0};
    pv_dhcp_lease_format(&l, &b);
    pv_buf_append_char(&b, '\0');
    assert_string_equal(b.data, "ip=192.168.1.50\n66=tftp.example\n150=10.0.0.5,10.0.0.6\n"
                                "159=prov.example\n160=https://p.example/$PN.xml\n");
    pv_dhcp_lease back;
    assert_int_equal(pv_dhcp_lease_parse(b.data, &back, &err), 0);
    assert_memory_equal(&back, &l, sizeof l);
    pv_buf_free(&b);
    (void)state;
}

static void env_fallbacks(void **state)
{
    /* no option 66: the BOOTP next server; opt66 in hex on builds without the name;
     * opt159 as a 4-byte address */
    char *a[] = {"siaddr=10.1.1.1", "opt159=0a010102", NULL};
    pv_dhcp_lease l;
    assert_int_equal(pv_dhcp_lease_from_env(a, &l, NULL), 0);
    assert_string_equal(l.value[0], "10.1.1.1");
    assert_string_equal(l.value[2], "10.1.1.2");
    char *b[] = {"siaddr=0.0.0.0", "opt66=7466747031", NULL};
    assert_int_equal(pv_dhcp_lease_from_env(b, &l, NULL), 0);
    assert_string_equal(l.value[0], "tftp1");
    (void)state;
}

static void env_bad_input(void **state)
{
    pv_dhcp_lease l;
    pv_error err;
    char *odd[] = {"opt160=abc", NULL};
    assert_int_equal(pv_dhcp_lease_from_env(odd, &l, &err), PV_ESYNTAX);
    assert_non_null(strstr(err.msg, "opt160"));
    char *nonhex[] = {"opt160=zz", NULL};
    assert_int_equal(pv_dhcp_lease_from_env(nonhex, &l, &err), PV_ESYNTAX);
    assert_non_null(strstr(err.msg, "not hex"));
    char *short150[] = {"opt150=0a0000", NULL};
    assert_int_equal(pv_dhcp_lease_from_env(short150, &l, &err), PV_ESYNTAX);
    assert_non_null(strstr(err.msg, "IPv4"));
    char *binary[] = {"opt160=0001", NULL};
    assert_int_equal(pv_dhcp_lease_from_env(binary, &l, &err), PV_ESYNTAX);
    char big[700] = "opt160=";
    memset(big + 7, 'a', 600);
    big[607] = '\0';
    char *toolong[] = {big, NULL};
    assert_int_equal(pv_dhcp_lease_from_env(toolong, &l, &err), PV_ESYNTAX);
    assert_int_equal(pv_dhcp_lease_parse("ip=1.2.3.4\n42=x\n", &l, &err), PV_ESYNTAX);
    assert_non_null(strstr(err.msg, "line 2"));
    assert_int_equal(pv_dhcp_lease_parse("garbage\n", &l, &err), PV_ESYNTAX);
    assert_int_equal(pv_dhcp_lease_parse("", &l, &err), 0); /* deconfig: no lease */
    (void)state;
}

/* The engine takes the options; DHCP_Option_To_Use decides which one a host-less rule uses. */
static void options_reach_engine(void **state)
{
    pv_agent_defaults *d = pv_agent_defaults_new(PV_AGENT_MPP);
    pv_agent *a;
    pv_agent_identity id = {.mac = "000e08aabbcc"};
    assert_int_equal(pv_agent_new(&a, d, &id, 1, NULL), 0);
    pv_dhcp_lease l;
    assert_int_equal(
        pv_dhcp_lease_parse("ip=10.0.0.9\n66=tftp.example\n160=http://p.example\n", &l, NULL), 0);
    pv_dhcp_lease_apply(&l, a);
    pv_agent_boot(a, 0);
    assert_int_equal(pv_agent_resync(a, 0, "/$MA.cfg", NULL), 0);
    pv_agent_action act;
    bool fetched = false;
    while (pv_agent_next_action(a, &act)) {
        if (act.kind == PV_AGENT_ACT_FETCH) { /* MPP default order 66,160,...: 66 first */
            assert_string_equal(act.url, "tftp://tftp.example:69/000e08aabbcc.cfg");
            fetched = true;
        }
    }
    assert_true(fetched);
    pv_agent_free(a);
    pv_agent_defaults_free(d);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(env_named_and_hex),
        cmocka_unit_test(env_fallbacks),
        cmocka_unit_test(env_bad_input),
        cmocka_unit_test(options_reach_engine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
