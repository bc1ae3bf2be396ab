/* Unit tests for the socket-free HTTP layers: request parsing and answer planning.
 * Covers src/net/http_request.c, http_headers.c (the header collector) and http_response.c. */
#include "pv_test.h"

#include "core/alloc.h"
#include "net/http_request.h"
#include "net/http_response.h"

static pv_http_parse_result feed_all(pv_http_parser *p, const char *text, size_t *used)
{
    return pv_http_parser_feed(p, text, strlen(text), used);
}

static void pipelined_requests_come_out_one_at_a_time(void **state)
{
    static const char two[] = "GET /a%20b?q=1 HTTP/1.1\r\nHost: h\r\nUser-Agent: UA\r\n\r\n"
                              "POST /r HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz";
    pv_http_parser p;
    pv_http_parser_init(&p, 1024, 1024);
    size_t used = 0;
    assert_int_equal(feed_all(&p, two, &used), PV_HTTP_PARSE_REQUEST);
    const pv_http_request *r = pv_http_parser_request(&p);
    assert_int_equal(r->method, PV_METHOD_GET);
    assert_slice_equal(r->path, "/a b");
    assert_slice_equal(r->query, "q=1");
    assert_int_equal(r->header_count, 2);
    assert_slice_equal(r->headers[1].value, "UA");
    assert_true(r->keep_alive);
    size_t first = used;
    assert_true(first < strlen(two));
    pv_http_parser_next(&p);
    assert_int_equal(feed_all(&p, two + first, &used), PV_HTTP_PARSE_REQUEST);
    r = pv_http_parser_request(&p);
    assert_int_equal(r->method, PV_METHOD_POST);
    assert_slice_equal(r->body, "xyz");
    assert_int_equal(first + used, strlen(two));
    pv_http_parser_free(&p);
}

static void byte_by_byte_chunked_body(void **state)
{
    static const char req[] = "PUT /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    pv_http_parser p;
    pv_http_parser_init(&p, 1024, 1024);
    pv_http_parse_result r = PV_HTTP_PARSE_MORE;
    size_t i = 0, used;
    for (; i < sizeof req - 1 && r == PV_HTTP_PARSE_MORE; i++)
        r = pv_http_parser_feed(&p, req + i, 1, &used);
    assert_int_equal(r, PV_HTTP_PARSE_REQUEST);
    assert_int_equal(i, sizeof req - 1);
    assert_slice_equal(pv_http_parser_request(&p)->body, "abcde");
    pv_http_parser_free(&p);
}

static void limits_give_413_and_431(void **state)
{
    pv_http_parser p;
    size_t used;
    pv_http_parser_init(&p, 1024, 4);
    assert_int_equal(feed_all(&p, "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", &used),
                     PV_HTTP_PARSE_ERROR);
    assert_int_equal(p.error_status, 413);
    pv_http_parser_free(&p);
    pv_http_parser_init(&p, 1024, 4);
    assert_int_equal(feed_all(&p,
                              "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "9\r\n123456789\r\n",
                              &used),
                     PV_HTTP_PARSE_ERROR);
    assert_int_equal(p.error_status, 413);
    pv_http_parser_free(&p);
    pv_http_parser_init(&p, 64, 4);
    assert_int_equal(feed_all(&p,
                              "GET / HTTP/1.1\r\nX-Long: 0123456789012345678901234567890123456"
                              "789012345678901234567890123456789\r\n\r\n",
                              &used),
                     PV_HTTP_PARSE_ERROR);
    assert_int_equal(p.error_status, 431);
    pv_http_parser_free(&p);
    /* White space that llhttp skips silently counts too, over many reads. */
    pv_http_parser_init(&p, 64, 4);
    pv_http_parse_result r = feed_all(&p, "GET / HTTP/1.1\r\nX: ", &used);
    for (int i = 0; i < 100 && r == PV_HTTP_PARSE_MORE; i++)
        r = feed_all(&p, "          ", &used);
    assert_int_equal(r, PV_HTTP_PARSE_ERROR);
    assert_int_equal(p.error_status, 431);
    pv_http_parser_free(&p);
}

static void paths_are_decoded_and_guarded(void **state)
{
    static const struct {
        const char *raw;
        int status;
        const char *decoded;
    } cases[] = {
        {"/cfg/SEP%41.xml", 0, "/cfg/SEPA.xml"},
        {"/a%2Fb", 0, "/a/b"},
        {"/a/..", 403, NULL},
        {"/%2e%2E/etc", 403, NULL},
        {"/a/%2e%2e%2fb", 403, NULL},
        {"/x%00y", 400, NULL},
        {"/x%4", 400, NULL},
        {"nope", 400, NULL},
        {"/..x/a..", 0, "/..x/a.."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pv_buf out = {0};
        int st = pv_http_decode_path(pv_slice_from(cases[i].raw), &out);
        assert_int_equal(st, cases[i].status);
        if (cases[i].decoded != NULL)
            assert_string_equal(out.data, cases[i].decoded);
        pv_buf_free(&out);
    }
}

static void ranges_follow_rfc_9110(void **state)
{
    uint64_t a = 0, b = 0;
    assert_int_equal(pv_http_parse_range(pv_slice_from("bytes=0-99"), 513, &a, &b),
                     PV_RANGE_PARTIAL);
    assert_true(a == 0 && b == 99);
    assert_int_equal(pv_http_parse_range(pv_slice_from("bytes=500-"), 513, &a, &b),
                     PV_RANGE_PARTIAL);
    assert_true(a == 500 && b == 512);
    assert_int_equal(pv_http_parse_range(pv_slice_from("bytes=-600"), 513, &a, &b),
                     PV_RANGE_PARTIAL);
    assert_true(a == 0 && b == 512);
    assert_int_equal(pv_http_parse_range(pv_slice_from("bytes=0-9999"), 513, &a, &b),
                     PV_RANGE_PARTIAL);
    assert_true(b == 512);
    assert_int_equal(pv_http_parse_range(pv_slice_from("bytes=513-"), 513, &a, &b),
                     PV_RANGE_UNSATISFIABLE);
    assert_int_equal(pv_http_parse_range(pv_slice_from("bytes=-5"), 0, &a, &b),
                     PV_RANGE_UNSATISFIABLE);
    assert_int_equal(pv_http_parse_range(pv_slice_from("bytes=0-1,3-4"), 513, &a, &b),
                     PV_RANGE_NONE);
    assert_int_equal(pv_http_parse_range(pv_slice_from("bytes=9-3"), 513, &a, &b), PV_RANGE_NONE);
    assert_int_equal(pv_http_parse_range(pv_slice_from("items=0-1"), 513, &a, &b), PV_RANGE_NONE);
    assert_int_equal(pv_http_parse_range(pv_slice_from("bytes=99999999999999999999-"), 513, &a, &b),
                     PV_RANGE_NONE);
}

static void dates_and_entity_tags(void **state)
{
    char d[32];
    pv_http_format_date(784111777, d);
    assert_string_equal(d, "Sun, 06 Nov 1994 08:49:37 GMT"); /* RFC 9110 §5.6.7 example */
    time_t t = 0;
    assert_true(pv_http_parse_date(pv_slice_from("Sun, 06 Nov 1994 08:49:37 GMT"), &t));
    assert_int_equal(t, 784111777);
    assert_true(pv_http_parse_date(pv_slice_from("Sunday, 06-Nov-94 08:49:37 GMT"), &t));
    assert_int_equal(t, 784111777);
    assert_true(pv_http_parse_date(pv_slice_from("Sun Nov  6 08:49:37 1994"), &t));
    assert_int_equal(t, 784111777);
    assert_false(pv_http_parse_date(pv_slice_from("yesterday"), &t));
    assert_true(pv_http_etag_list_matches(pv_slice_from("\"a\", W/\"xyzzy\""), "\"xyzzy\""));
    assert_true(pv_http_etag_list_matches(pv_slice_from("*"), "\"q\""));
    assert_false(pv_http_etag_list_matches(pv_slice_from("\"xyzzy2\""), "\"xyzzy\""));
    assert_false(pv_http_etag_list_matches(pv_slice_from("\"a\""), ""));
}

static void plans_and_heads(void **state)
{
    pv_header h[] = {{PV_SLICE_LIT("If-None-Match"), PV_SLICE_LIT("\"t\"")},
                     {PV_SLICE_LIT("Range"), PV_SLICE_LIT("bytes=1-2")}};
    pv_response resp = {.status = 200,
                        .body_kind = PV_BODY_FILE,
                        .fd = -1,
                        .file_size = 10,
                        .last_modified = 784111777,
                        .content_type = "text/xml"};
    memcpy(resp.etag, "\"t\"", 4);
    pv_http_plan plan;
    pv_http_plan_response(PV_METHOD_GET, h, 2, &resp, 10, &plan);
    assert_int_equal(plan.status, 304);
    assert_false(plan.send_body);
    pv_http_plan_response(PV_METHOD_GET, h + 1, 1, &resp, 10, &plan);
    assert_int_equal(plan.status, 206);
    assert_true(plan.offset == 1 && plan.length == 2);
    pv_buf out = {0};
    pv_http_head_info info = {
        .plan = &plan, .resp = &resp, .now = 784111777, .keep_alive = true, .http10 = true};
    pv_http_format_head(&out, &info);
    assert_string_equal(out.data, "HTTP/1.1 206 Partial Content\r\n"
                                  "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: provisor\r\n"
                                  "Content-Length: 2\r\nContent-Type: text/xml\r\nETag: \"t\"\r\n"
                                  "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                                  "Accept-Ranges: bytes\r\nContent-Range: bytes 1-2/10\r\n"
                                  "Connection: keep-alive\r\n\r\n");
    pv_buf_free(&out);
    pv_http_plan_response(PV_METHOD_HEAD, h + 1, 1, &resp, 10, &plan);
    assert_int_equal(plan.status, 200); /* Range applies to GET only */
    assert_false(plan.send_body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pipelined_requests_come_out_one_at_a_time),
        cmocka_unit_test(byte_by_byte_chunked_body),
        cmocka_unit_test(limits_give_413_and_431),
        cmocka_unit_test(paths_are_decoded_and_guarded),
        cmocka_unit_test(ranges_follow_rfc_9110),
        cmocka_unit_test(dates_and_entity_tags),
        cmocka_unit_test(plans_and_heads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
