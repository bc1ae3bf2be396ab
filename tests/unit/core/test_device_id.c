/* Unit tests for core/device_id: MACs, User-Agents of spec 8.1, MACs in paths. */
#include "pv_test.h"

#include "core/alloc.h"
#include "core/device_id.h"

static void macs_in_every_spelling(void **state)
{
    const char *forms[] = {"000e08abcdef", "000E08ABCDEF", "00:0e:08:ab:cd:ef",
                           "00-0E-08-AB-CD-EF", "000e.08ab.cdef", " 000e08abcdef\n"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        pv_mac mac;
        assert_int_equal(pv_mac_parse(pv_slice_from(forms[i]), &mac, NULL), 0);
        assert_string_equal(mac.hex, "000e08abcdef");
    }
    pv_mac mac;
    pv_mac_parse(pv_slice_from("000E08AABBCC"), &mac, NULL);
    char upper[13], colons[18];
    pv_mac_format_upper(&mac, upper);
    pv_mac_format_colons(&mac, colons);
    /* spec 2.2: $MA, $MAU, $MAC */
    assert_string_equal(mac.hex, "000e08aabbcc");
    assert_string_equal(upper, "000E08AABBCC");
    assert_string_equal(colons, "00:0e:08:aa:bb:cc");
}

static void bad_macs_say_why(void **state)
{
    const char *bad[] = {"", "000e08abcde", "000e08abcdef0", "00:0e:08:ab:cd:eg", ":000e08abcdef",
                         "00:0e-08:ab:cd:ef", "00::0e08abcdef", "000e08abcdef:"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pv_mac mac;
        pv_error err = {{0}};
        assert_int_equal(pv_mac_parse(pv_slice_from(bad[i]), &mac, &err), PV_EINVAL);
        assert_true(strstr(err.msg, "MAC address") != NULL);
    }
}

static void user_agents_of_spec_8_1(void **state)
{
    pv_user_agent ua;
    /* MPP: Cisco-<PN>/<version> (<12 hex>) */
    assert_int_equal(pv_user_agent_parse(pv_slice_from("Cisco-CP-8841-3PCC/11.0 (00562b043615)"),
                                         &ua, NULL),
                     0);
    assert_int_equal(ua.family, PV_FAMILY_MPP);
    assert_string_equal(ua.model, "CP-8841-3PCC");
    assert_string_equal(ua.version, "11.0");
    assert_true(ua.has_mac);
    assert_string_equal(ua.mac.hex, "00562b043615");

    assert_int_equal(pv_user_agent_parse(pv_slice_from("Cisco-CP-7832-3PCC/11.0.1 (00562b043615)"),
                                         &ua, NULL),
                     0);
    assert_string_equal(ua.model, "CP-7832-3PCC");
    assert_string_equal(ua.version, "11.0.1");

    /* ATA191/192 MPP: Cisco/<model>-MPP-<version> (<serial>) */
    assert_int_equal(
        pv_user_agent_parse(pv_slice_from("Cisco/ATA191-MPP-11-1-0-MSR4 (FCH2443D9R4)"), &ua, NULL),
        0);
    assert_int_equal(ua.family, PV_FAMILY_ATA);
    assert_string_equal(ua.model, "ATA191");
    assert_string_equal(ua.version, "11-1-0-MSR4");
    assert_false(ua.has_mac);
    assert_string_equal(ua.serial, "FCH2443D9R4");

    /* Cisco SPA: Cisco/<model>-<version> (<MAC upper>)(<serial>), MAC part optional */
    assert_int_equal(pv_user_agent_parse(
                         pv_slice_from("Cisco/SPA508G-7.4.4 (0002FDFF2103)(CBT141400UK)"), &ua, NULL),
                     0);
    assert_int_equal(ua.family, PV_FAMILY_SPA);
    assert_string_equal(ua.vendor, "Cisco");
    assert_string_equal(ua.model, "SPA508G");
    assert_string_equal(ua.version, "7.4.4");
    assert_true(ua.has_mac);
    assert_string_equal(ua.mac.hex, "0002fdff2103");
    assert_string_equal(ua.serial, "CBT141400UK");

    assert_int_equal(pv_user_agent_parse(pv_slice_from("Cisco/SPA525G-7.4.7 (CBT141900G7)"), &ua,
                                         NULL),
                     0);
    assert_string_equal(ua.model, "SPA525G");
    assert_false(ua.has_mac);
    assert_string_equal(ua.serial, "CBT141900G7");

    /* Linksys SPA: Linksys/<model>-<version> (<serial>) */
    assert_int_equal(
        pv_user_agent_parse(pv_slice_from("Linksys/SPA-942-6.1.5(a) (88019FA42805)"), &ua, NULL), 0);
    assert_string_equal(ua.vendor, "Linksys");
    assert_string_equal(ua.model, "SPA-942");
    assert_string_equal(ua.version, "6.1.5(a)");
    assert_string_equal(ua.serial, "88019FA42805");
}

static void other_agents_are_not_phones(void **state)
{
    const char *others[] = {"curl/7.88.1", "Mozilla/5.0 (X11; Linux x86_64)", "", "Cisco",
                            "Cisco/", "Cisco-CP-8841-3PCC/11.0 (00562b043615", "Cisco/SPA508G"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        pv_user_agent ua;
        pv_error err = {{0}};
        assert_int_equal(pv_user_agent_parse(pv_slice_from(others[i]), &ua, &err), PV_EFORMAT);
        assert_true(err.msg[0] != '\0');
    }
}

static void macs_named_by_paths(void **state)
{
    pv_mac mac;
    assert_true(pv_mac_from_path(pv_slice_from("/000e08abcdef.xml"), &mac));
    assert_string_equal(mac.hex, "000e08abcdef");
    assert_true(pv_mac_from_path(pv_slice_from("/spa000E08ABCDEF.cfg"), &mac));
    assert_string_equal(mac.hex, "000e08abcdef");
    /* spec 12.1: tftp://prov.telco.com/cisco/$B/$MA.cfg */
    assert_true(pv_mac_from_path(pv_slice_from("/cisco/Dj6Lmp23Q/000e08012345.cfg"), &mac));
    assert_string_equal(mac.hex, "000e08012345");
    assert_true(pv_mac_from_path(pv_slice_from("cisco000e08012345.cfg"), &mac));
    assert_false(pv_mac_from_path(pv_slice_from("/spa504G.cfg"), &mac));
    assert_false(pv_mac_from_path(pv_slice_from("/8841-3PCC.xml"), &mac));
    assert_false(pv_mac_from_path(pv_slice_from("/000e08abcdef00.xml"), &mac));
    assert_false(pv_mac_from_path(pv_slice_from("/000e08abcdef/"), &mac));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(macs_in_every_spelling),
        cmocka_unit_test(bad_macs_say_why),
        cmocka_unit_test(user_agents_of_spec_8_1),
        cmocka_unit_test(other_agents_are_not_phones),
        cmocka_unit_test(macs_named_by_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
