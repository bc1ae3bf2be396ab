/*
 * test_api_csv.c — the pure parts behind the admin API's bulk distribution:
 * the import CSV reader (server/import.h) and the DHCP snippets
 * (server/dhcp.h). The HTTP side is tested by tests/integration/api_*.sh.
 */
#include "pv_test.h"

#include "core/buf.h"
#include "server/dhcp.h"
#include "server/import.h"

static void read_all(const char *csv, pv_import_row *rows, size_t max, size_t *n)
{
    pv_import_reader r;
    pv_error err = {""};
    assert_int_equal(pv_import_open(&r, pv_slice_from(csv), &err), 0);
    *n = 0;
    while (*n < max && pv_import_next(&r, &rows[*n]) == 1)
        (*n)++;
}

static void free_rows(pv_import_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pv_import_row_free(&rows[i]);
}

static void header_any_order_and_case(void **state)
{
    pv_import_row rows[4];
    size_t n = 0;
    read_all("\xEF\xBB\xBFSerial,Account,MAC,Model\r\nSN1,acme,00:0e:08:ab:cd:ef,SPA504G\r\n", rows,
             4, &n);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].line, 2);
    assert_string_equal(rows[0].field[PV_IMPORT_MAC], "00:0e:08:ab:cd:ef");
    assert_string_equal(rows[0].field[PV_IMPORT_MODEL], "SPA504G");
    assert_string_equal(rows[0].field[PV_IMPORT_ACCOUNT], "acme");
    assert_string_equal(rows[0].field[PV_IMPORT_SERIAL], "SN1");
    assert_string_equal(rows[0].error, "");
    free_rows(rows, n);
}

static void quotes_blank_lines_comments(void **state)
{
    pv_import_row rows[8];
    size_t n = 0;
    read_all("MAC,model,account\n"
             "\n# a comment\n"
             "000e08000001,\"SPA, 504G\",\"The \"\"Big\"\" One\"\n"
             "000e08000002,\"two\nlines\",\n"
             "000e08000003,x\n"
             "000e08000004,\"open,acme\n",
             rows, 8, &n);
    assert_int_equal(n, 4);
    assert_int_equal(rows[0].line, 4);
    assert_string_equal(rows[0].field[PV_IMPORT_MODEL], "SPA, 504G");
    assert_string_equal(rows[0].field[PV_IMPORT_ACCOUNT], "The \"Big\" One");
    assert_int_equal(rows[1].line, 5);
    /* a line break inside quotes is read, but no column may hold one */
    assert_non_null(strstr(rows[1].error, "column model: byte 4 is a control character (U+000A)"));
    assert_int_equal(rows[2].line, 7);
    assert_string_equal(rows[2].error, "2 fields, but the header names 3");
    assert_int_equal(rows[3].line, 8);
    assert_string_equal(rows[3].error, "a quoted field is not closed before the end");
    free_rows(rows, n);
}

/* A NUL in a field used to cut it short silently; control characters are
 * refused with the column named, and the rows around them still read. */
static void nul_and_control_characters(void **state)
{
    static const char csv[] = "MAC,model,serial\n"
                              "000e08000001,CP-8841\0-3PCC,SN1\n"
                              "000e08000002,\"SPA\x01\",SN2\n"
                              "000e08000003,SPA504G,SN\x7f\n"
                              "000e08000004,SPA504G,\xff\xfe\n"
                              "000e08000005,Caf\xc3\xa9 phone,SN5\n";
    pv_import_reader r;
    assert_int_equal(pv_import_open(&r, pv_slice_make(csv, sizeof csv - 1), NULL), 0);
    pv_import_row rows[6];
    size_t n = 0;
    while (n < 6 && pv_import_next(&r, &rows[n]) == 1)
        n++;
    assert_int_equal(n, 5);
    assert_string_equal(rows[0].error,
                        "column model: byte 8 is a control character (U+0000); expected one line "
                        "of text without control characters");
    assert_null(rows[0].field[PV_IMPORT_MODEL]); /* never "CP-8841" */
    assert_non_null(strstr(rows[1].error, "column model: byte 4 is a control character (U+0001)"));
    assert_non_null(strstr(rows[2].error, "column serial: byte 3 is a control character (U+007F)"));
    assert_non_null(strstr(rows[3].error, "column serial: byte 1 is not UTF-8 text (0xff)"));
    assert_string_equal(rows[4].error, "");
    assert_string_equal(rows[4].field[PV_IMPORT_MODEL], "Caf\xc3\xa9 phone");
    assert_int_equal(rows[4].line, 6);
    free_rows(rows, n);
}

static void bad_headers(void **state)
{
    pv_import_reader r;
    pv_error err = {""};
    assert_int_equal(pv_import_open(&r, pv_slice_from(""), &err), PV_EFORMAT);
    assert_non_null(strstr(err.msg, "header row"));
    assert_int_equal(pv_import_open(&r, pv_slice_from("MAC,acount\n"), &err), PV_EFORMAT);
    assert_string_equal(err.msg,
                        "line 1: header column 2 'acount': want MAC, model, account or serial");
    assert_int_equal(pv_import_open(&r, pv_slice_from("model,account\n"), &err), PV_EFORMAT);
    assert_non_null(strstr(err.msg, "no MAC column"));
    assert_int_equal(pv_import_open(&r, pv_slice_from("mac,MAC\n"), &err), PV_EFORMAT);
    assert_non_null(strstr(err.msg, "appears twice"));
}

static void long_field_bounded(void **state)
{
    pv_buf csv = {0};
    pv_buf_append_str(&csv, "MAC\n");
    for (int i = 0; i < 100000; i++)
        pv_buf_append_char(&csv, 'a');
    pv_buf_append_str(&csv, "\n000e08000001\n");
    pv_import_reader r;
    assert_int_equal(pv_import_open(&r, pv_buf_slice(&csv), NULL), 0);
    assert_int_equal(pv_import_count(&r), 2);
    pv_import_row row;
    assert_int_equal(pv_import_next(&r, &row), 1);
    assert_non_null(strstr(row.error, "longer than 256 bytes"));
    pv_import_row_free(&row);
    assert_int_equal(pv_import_next(&r, &row), 1);
    assert_string_equal(row.field[PV_IMPORT_MAC], "000e08000001");
    assert_int_equal(row.line, 3);
    pv_import_row_free(&row);
    assert_int_equal(pv_import_next(&r, &row), 0);
    pv_buf_free(&csv);
}

static void dhcp_dnsmasq(void **state)
{
    pv_dhcp_options o = {.tftp_servers = {"192.0.2.10", "192.0.2.11"},
                         .n_tftp = 2,
                         .url = "http://prov.example.net/$PSN.xml"};
    pv_buf out = {0};
    assert_int_equal(pv_dhcp_snippet(PV_DHCP_DNSMASQ, &o, &out, NULL), 0);
    assert_non_null(strstr(out.data, "\ndhcp-option=tag:provisor-phone,66,\"192.0.2.10\"\n"));
    assert_non_null(strstr(out.data, "\ndhcp-option=tag:provisor-phone,150,192.0.2.10,192.0.2.11\n"));
    assert_non_null(strstr(out.data, "\ndhcp-option=tag:provisor-phone,160,\"http://prov.example.net/$PSN.xml\"\n"));
    /* spec 8.2, 10: only the phones' vendor classes; no 159 for a host name */
    assert_non_null(strstr(out.data, "\ndhcp-vendorclass=set:provisor-phone,CP-\n"));
    assert_non_null(strstr(out.data, "\ndhcp-vendorclass=set:provisor-phone,CISCO ATA\n"));
    assert_null(strstr(out.data, ",159,"));
    assert_null(strstr(out.data, "\ndhcp-option=66"));
    pv_buf_reset(&out);
    pv_dhcp_options ip = {.url = "https://192.0.2.7:8443/$MA.xml"};
    assert_int_equal(pv_dhcp_snippet(PV_DHCP_DNSMASQ, &ip, &out, NULL), 0);
    assert_non_null(strstr(out.data, "\ndhcp-option=tag:provisor-phone,159,\"192.0.2.7\"\n"));
    pv_buf_free(&out);
}

static void dhcp_kea_and_errors(void **state)
{
    pv_dhcp_options o = {.url = "tftp://192.0.2.1/spa$PSN.cfg"};
    pv_buf out = {0};
    pv_error err = {""};
    assert_int_equal(pv_dhcp_snippet(PV_DHCP_KEA, &o, &out, &err), 0);
    assert_non_null(strstr(out.data, "\"code\": 160, \"data\": \"tftp://192.0.2.1/spa$PSN.cfg\""));
    assert_null(strstr(out.data, "\"code\": 150")); /* only what was asked */
    pv_buf_free(&out);
    pv_dhcp_options bad = {.tftp_servers = {"2001:db8::1"}, .n_tftp = 1};
    assert_int_equal(pv_dhcp_snippet(PV_DHCP_KEA, &bad, &out, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "option 150 holds IPv4 addresses"));
    pv_dhcp_options quote = {.url = "http://x/\"y"};
    assert_int_equal(pv_dhcp_snippet(PV_DHCP_DNSMASQ, &quote, &out, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "character 10"));
    pv_dhcp_options none = {0};
    assert_int_equal(pv_dhcp_snippet(PV_DHCP_DNSMASQ, &none, &out, &err), PV_EINVAL);
    assert_int_equal(out.len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_any_order_and_case),  cmocka_unit_test(quotes_blank_lines_comments),
        cmocka_unit_test(nul_and_control_characters), cmocka_unit_test(bad_headers),
        cmocka_unit_test(long_field_bounded),         cmocka_unit_test(dhcp_dnsmasq),
        cmocka_unit_test(dhcp_kea_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
