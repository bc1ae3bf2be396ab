/* Unit tests for net/tftp_packet: parsing, building, netascii. */
#include "pv_test.h"

#include "core/alloc.h"
#include "net/tftp_packet.h"

#include <stdio.h>

#define PKT(lit) (lit), sizeof(lit) - 1

static void parses_rrq_with_options(void **state)
{
    static const char raw[] = "\0\1/pxe/spa942.cfg\0OcTeT\0blksize\0001428\0tsize\0000\0"
                              "timeout\0002\0windowsize\0008\0";
    pv_tftp_packet pkt;
    pv_error err;
    assert_int_equal(pv_tftp_parse(PKT(raw), &pkt, &err), 0);
    assert_int_equal(pkt.opcode, PV_TFTP_RRQ);
    assert_slice_equal(pkt.filename, "/pxe/spa942.cfg");
    assert_int_equal(pkt.mode, PV_TFTP_MODE_OCTET);
    assert_int_equal(pkt.option_count, 4);
    const pv_tftp_option *o = pv_tftp_find_option(&pkt, "BLKSIZE");
    assert_non_null(o);
    assert_slice_equal(o->value, "1428");
    uint64_t v = 0;
    assert_int_equal(pv_tftp_option_uint(o->value, 8, 65464, &v), 0);
    assert_int_equal(v, 1428);
    assert_null(pv_tftp_find_option(&pkt, "multicast"));
    assert_int_equal(pv_tftp_option_uint(pv_slice_from("7"), 8, 65464, &v), PV_ERANGE);
    assert_int_equal(pv_tftp_option_uint(pv_slice_from("12a"), 8, 65464, &v), PV_ESYNTAX);
    assert_int_equal(pv_tftp_option_uint(pv_slice_from(""), 0, 9, &v), PV_ESYNTAX);
}

static void parses_wrq_netascii_without_options(void **state)
{
    pv_tftp_packet pkt;
    assert_int_equal(pv_tftp_parse(PKT("\0\2report.xml\0netascii\0"), &pkt, NULL), 0);
    assert_int_equal(pkt.opcode, PV_TFTP_WRQ);
    assert_int_equal(pkt.mode, PV_TFTP_MODE_NETASCII);
    assert_int_equal(pkt.option_count, 0);
    /* Trailing NUL padding is tolerated. */
    assert_int_equal(pv_tftp_parse(PKT("\0\1f\0octet\0\0\0\0"), &pkt, NULL), 0);
    assert_int_equal(pkt.option_count, 0);
}

static void refuses_malformed_requests(void **state)
{
    pv_tftp_packet pkt;
    pv_error err;
    assert_int_equal(pv_tftp_parse(PKT("\0"), &pkt, &err), PV_ETRUNC);
    assert_int_equal(pv_tftp_parse(PKT("\0\1file"), &pkt, &err), PV_ESYNTAX);
    assert_non_null(strstr(err.msg, "file name"));
    assert_int_equal(pv_tftp_parse(PKT("\0\1file\0octet"), &pkt, &err), PV_ESYNTAX);
    assert_non_null(strstr(err.msg, "mode"));
    assert_int_equal(pv_tftp_parse(PKT("\0\1\0octet\0"), &pkt, &err), PV_ESYNTAX);
    assert_non_null(strstr(err.msg, "empty file name"));
    assert_int_equal(pv_tftp_parse(PKT("\0\1f\0mail\0"), &pkt, &err), PV_ENOTSUP);
    assert_non_null(strstr(err.msg, "mail"));
    assert_int_equal(pv_tftp_parse(PKT("\0\1f\0octet\0blksize\0"), &pkt, &err), PV_ESYNTAX);
    assert_non_null(strstr(err.msg, "blksize"));
    assert_int_equal(pv_tftp_parse(PKT("\0\1f\0octet\0\0x\0"), &pkt, &err), PV_ESYNTAX);
    assert_int_equal(pv_tftp_parse(PKT("\0\11xyz"), &pkt, &err), PV_ENOTSUP);
    assert_string_equal(err.msg, "unknown opcode 9");
    assert_int_equal(pv_tftp_parse(PKT("\0\4\0"), &pkt, &err), PV_ETRUNC);
    assert_int_equal(pv_tftp_parse(PKT("\0\3\0"), &pkt, &err), PV_ETRUNC);
}

static void bounds_option_floods_and_size(void **state)
{
    pv_buf b = {0};
    pv_tftp_option opts[PV_TFTP_MAX_OPTIONS + 1];
    char names[PV_TFTP_MAX_OPTIONS + 1][8];
    for (int i = 0; i <= PV_TFTP_MAX_OPTIONS; i++) {
        snprintf(names[i], sizeof names[i], "o%d", i);
        opts[i] = (pv_tftp_option){pv_slice_from(names[i]), pv_slice_from("1")};
    }
    pv_tftp_packet pkt;
    pv_error err;
    pv_tftp_build_request(&b, PV_TFTP_RRQ, pv_slice_from("f"), pv_slice_from("octet"), opts,
                          PV_TFTP_MAX_OPTIONS);
    assert_int_equal(pv_tftp_parse(b.data, b.len, &pkt, &err), 0);
    assert_int_equal(pkt.option_count, PV_TFTP_MAX_OPTIONS);
    pv_buf_reset(&b);
    pv_tftp_build_request(&b, PV_TFTP_RRQ, pv_slice_from("f"), pv_slice_from("octet"), opts,
                          PV_TFTP_MAX_OPTIONS + 1);
    assert_int_equal(pv_tftp_parse(b.data, b.len, &pkt, &err), PV_ETOOBIG);
    assert_non_null(strstr(err.msg, "too many options"));
    /* RFC 2347: a request is at most 512 bytes. */
    pv_buf_reset(&b);
    char longname[600];
    memset(longname, 'a', sizeof longname);
    pv_tftp_build_request(&b, PV_TFTP_RRQ, pv_slice_make(longname, sizeof longname),
                          pv_slice_from("octet"), NULL, 0);
    assert_int_equal(pv_tftp_parse(b.data, b.len, &pkt, &err), PV_ETOOBIG);
    pv_buf_free(&b);
}

static void reads_known_options_and_maps_statuses(void **state)
{
    static const char raw[] = "\0\1f\0octet\0TSIZE\0000\0blksize\0001428\0x\0y\0";
    pv_tftp_packet pkt;
    pv_tftp_requested r;
    pv_error err;
    assert_int_equal(pv_tftp_parse(PKT(raw), &pkt, NULL), 0);
    assert_int_equal(pv_tftp_parse_requested(&pkt, &r, &err), 0);
    assert_int_equal(r.blksize, 1428);
    assert_true(r.has_tsize);
    assert_int_equal(r.tsize, 0);
    assert_int_equal(r.timeout, 0);
    static const char bad[] = "\0\1f\0octet\0windowsize\0000\0";
    assert_int_equal(pv_tftp_parse(PKT(bad), &pkt, NULL), 0);
    assert_int_equal(pv_tftp_parse_requested(&pkt, &r, &err), PV_ERANGE);
    assert_string_equal(err.msg, "option windowsize=0 refused (RFC 7440: 1..65535)");
    const char *text = NULL;
    assert_int_equal(pv_tftp_error_for_status(404, &text), PV_TFTP_ENOTFOUND);
    assert_string_equal(text, "File not found");
    assert_int_equal(pv_tftp_error_for_status(403, NULL), PV_TFTP_EACCESS);
    assert_int_equal(pv_tftp_error_for_status(413, NULL), PV_TFTP_EDISKFULL);
    assert_int_equal(pv_tftp_error_for_status(400, NULL), PV_TFTP_EBADOP);
    assert_int_equal(pv_tftp_error_for_status(500, NULL), PV_TFTP_ENOTDEFINED);
}

static void builds_and_parses_every_kind(void **state)
{
    pv_buf b = {0};
    pv_tftp_packet pkt;
    pv_tftp_build_ack(&b, 65535);
    assert_memory_equal(b.data, "\0\4\377\377", 4);
    assert_int_equal(pv_tftp_parse(b.data, b.len, &pkt, NULL), 0);
    assert_int_equal(pkt.block, 65535);

    pv_buf_reset(&b);
    pv_tftp_build_data(&b, 7, "hello", 5);
    assert_int_equal(pv_tftp_parse(b.data, b.len, &pkt, NULL), 0);
    assert_int_equal(pkt.opcode, PV_TFTP_DATA);
    assert_int_equal(pkt.block, 7);
    assert_slice_equal(pkt.data, "hello");

    pv_buf_reset(&b);
    pv_tftp_build_error(&b, PV_TFTP_ENOTFOUND, "File not found");
    assert_int_equal(b.len, 4 + 15);
    assert_int_equal(pv_tftp_parse(b.data, b.len, &pkt, NULL), 0);
    assert_int_equal(pkt.error_code, 1);
    assert_slice_equal(pkt.error_message, "File not found");

    pv_buf_reset(&b);
    pv_tftp_option o[] = {{PV_SLICE_LIT("blksize"), PV_SLICE_LIT("1428")},
                          {PV_SLICE_LIT("tsize"), PV_SLICE_LIT("50000000")}};
    pv_tftp_build_oack(&b, o, 2);
    assert_memory_equal(b.data, "\0\6blksize\0001428\0tsize\00050000000\0", b.len);
    assert_int_equal(pv_tftp_parse(b.data, b.len, &pkt, NULL), 0);
    assert_int_equal(pkt.opcode, PV_TFTP_OACK);
    assert_int_equal(pkt.option_count, 2);
    assert_slice_equal(pv_tftp_find_option(&pkt, "tsize")->value, "50000000");

    uint8_t hdr[4];
    pv_tftp_put_header(hdr, PV_TFTP_DATA, 0x1234);
    assert_memory_equal(hdr, "\0\3\x12\x34", 4);
    assert_string_equal(pv_tftp_opcode_name(PV_TFTP_OACK), "OACK");
    assert_string_equal(pv_tftp_opcode_name(99), "unknown");
    pv_buf_free(&b);
}

static void netascii_round_trips_across_blocks(void **state)
{
    static const char text[] = "line1\nline2\r\nbare\rcr\n\n";
    /* Expected: LF → CR LF, CR → CR NUL. */
    static const char wire[] = "line1\r\nline2\r\0\r\nbare\r\0cr\r\n\r\n";
    uint8_t out[64];
    /* Encode in 3-byte blocks so that pairs split across blocks. */
    size_t in_pos = 0, o = 0;
    int pending = -1;
    for (;;) {
        size_t used = 0;
        size_t n = pv_tftp_netascii_encode((const uint8_t *)text + in_pos, sizeof text - 1 - in_pos,
                                           &used, out + o, 3, &pending);
        in_pos += used;
        o += n;
        if (n < 3)
            break;
    }
    assert_int_equal(o, sizeof wire - 1);
    assert_memory_equal(out, wire, o);

    uint8_t back[64];
    size_t b = 0;
    bool cr = false;
    for (size_t i = 0; i < o; i += 3) {
        size_t chunk = o - i < 3 ? o - i : 3;
        b += pv_tftp_netascii_decode(out + i, chunk, back + b, &cr);
    }
    assert_false(cr);
    assert_int_equal(b, sizeof text - 1);
    assert_memory_equal(back, text, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_rrq_with_options),
        cmocka_unit_test(parses_wrq_netascii_without_options),
        cmocka_unit_test(refuses_malformed_requests),
        cmocka_unit_test(bounds_option_floods_and_size),
        cmocka_unit_test(reads_known_options_and_maps_statuses),
        cmocka_unit_test(builds_and_parses_every_kind),
        cmocka_unit_test(netascii_round_trips_across_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
