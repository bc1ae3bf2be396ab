/* Unit tests for server/identity: certificate, path and User-Agent witnesses (DESIGN 3). */
#include "pv_test.h"

#include <stdio.h>

#include "server/identity.h"

static pv_peer_identity cert_of(const char *st, const char *cn)
{
    pv_peer_identity c = {0};
    pv_peer_identity_add(&c, "CN", cn);
    pv_peer_identity_add(&c, "OU", "CP-8841-3PCC");
    pv_peer_identity_add(&c, "L", "88012BA01234");
    pv_peer_identity_add(&c, "ST", st);
    snprintf(c.fingerprint, sizeof c.fingerprint, "ab");
    return c;
}

static void certificate_wins_and_fills_serial_model(void **state)
{
    pv_peer_identity c = cert_of("000e08abcdef", "");
    pv_ident id;
    assert_int_equal(pv_identify(&c, PV_SLICE_LIT("/Dj6/000e08abcdef.cfg"),
                                 PV_SLICE_LIT("Cisco-CP-8841-3PCC/11.0 (000e08abcdef)"), &id, NULL),
                     0);
    assert_int_equal(id.source, PV_ID_CERT);
    assert_string_equal(id.mac.hex, "000e08abcdef");
    assert_string_equal(id.serial, "88012BA01234");
    assert_string_equal(id.model, "CP-8841-3PCC");
    assert_string_equal(id.swver, "11.0");
}

static void mismatch_is_refused(void **state)
{
    pv_peer_identity c = cert_of("000e08abcdef", "");
    pv_ident id;
    pv_error err;
    assert_int_equal(
        pv_identify(&c, PV_SLICE_LIT("/x/000e08000001.cfg"), PV_SLICE_LIT(""), &id, &err),
        PV_EACCES);
    assert_non_null(strstr(err.msg, "000e08000001"));
    assert_int_equal(pv_identify(&c, PV_SLICE_LIT("/spa2102.cfg"),
                                 PV_SLICE_LIT("Cisco/SPA508G-7.4.4 (0002FDFF2103)(CBT141400UK)"),
                                 &id, &err),
                     PV_EACCES);
}

static void cn_san_path_and_ua(void **state)
{
    pv_peer_identity c = cert_of("", "SEP000E08ABCDEF");
    pv_ident id;
    assert_int_equal(pv_identify(&c, PV_SLICE_LIT("/init/CODE"), PV_SLICE_LIT(""), &id, NULL), 0);
    assert_int_equal(id.source, PV_ID_CERT);
    assert_string_equal(id.mac.hex, "000e08abcdef");
    c = cert_of("", "phone");
    snprintf(c.san, sizeof c.san, "DNS:phone.example, DNS:000e08abcd01.phones.example");
    assert_int_equal(pv_identify(&c, PV_SLICE_LIT("/x"), PV_SLICE_LIT(""), &id, NULL), 0);
    assert_string_equal(id.mac.hex, "000e08abcd01");
    /* No certificate: the path, then the User-Agent (spec 8.1). */
    assert_int_equal(pv_identify(NULL, PV_SLICE_LIT("/spa000E08ABCDEF.cfg"),
                                 PV_SLICE_LIT("Cisco-CP-8841-3PCC/11.0 (00562b043615)"), &id, NULL),
                     0);
    assert_int_equal(id.source, PV_ID_PATH);
    assert_string_equal(id.mac.hex, "000e08abcdef");
    assert_int_equal(pv_identify(NULL, PV_SLICE_LIT("/8841-3PCC.xml"),
                                 PV_SLICE_LIT("Cisco-CP-8841-3PCC/11.0 (00562b043615)"), &id, NULL),
                     0);
    assert_int_equal(id.source, PV_ID_UA);
    assert_string_equal(id.mac.hex, "00562b043615");
    assert_int_equal(pv_identify(NULL, PV_SLICE_LIT("/x.xml"), PV_SLICE_LIT("curl/8.0"), &id, NULL),
                     0);
    assert_int_equal(id.source, PV_ID_NONE);
}

static void require_cert_and_fingerprint(void **state)
{
    pv_peer_identity c = cert_of("000e08abcdef", "");
    pv_ident with, without;
    assert_int_equal(pv_identify(&c, PV_SLICE_LIT("/a"), PV_SLICE_LIT(""), &with, NULL), 0);
    assert_int_equal(
        pv_identify(NULL, PV_SLICE_LIT("/d/000e08abcdef.cfg"), PV_SLICE_LIT(""), &without, NULL),
        0);
    assert_int_equal(pv_identity_check_device(&without, "000e08abcdef", false, NULL, NULL), 0);
    assert_int_equal(pv_identity_check_device(&without, "000e08abcdef", true, NULL, NULL),
                     PV_EACCES);
    assert_int_equal(pv_identity_check_device(&with, "000e08abcdef", true, "ab", NULL), 0);
    assert_int_equal(pv_identity_check_device(&with, "000e08abcdef", true, "cd", NULL), PV_EACCES);
    assert_int_equal(pv_identity_check_device(&with, "000e08abcdef", false, "cd", NULL), PV_EACCES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(certificate_wins_and_fills_serial_model),
        cmocka_unit_test(mismatch_is_refused),
        cmocka_unit_test(cn_san_path_and_ua),
        cmocka_unit_test(require_cert_and_fingerprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
