/* Unit tests for core/multipart: bodies shaped as browsers send them (Chromium's
 * ----WebKitFormBoundary, Firefox's long dashes), fed whole and in pieces of every size. */
#include "pv_test.h"

#include "core/buf.h"
#include "core/multipart.h"

#include <stdio.h>
#include <string.h>

/* What the callbacks saw: "name|filename|type=content;" per part. */
typedef struct seen {
    pv_buf out;
    size_t begins, ends;
    size_t refuse_after; /* part_data refuses once this many bytes came (0: never) */
    size_t bytes;
} seen;

static int on_begin(void *data, const pv_multipart_part *p, pv_error *err)
{
    (void)err;
    seen *s = data;
    s->begins++;
    pv_buf_appendf(&s->out, "%s|%s%s|%s=", p->name, p->has_filename ? "F:" : "", p->filename,
                   p->content_type);
    return 0;
}

static int on_data(void *data, const pv_multipart_part *p, const char *b, size_t n, pv_error *err)
{
    (void)p;
    seen *s = data;
    s->bytes += n;
    if (s->refuse_after && s->bytes > s->refuse_after)
        return pv_error_set(err, PV_ETOOBIG, "the file is larger than %zu bytes", s->refuse_after);
    pv_buf_append(&s->out, b, n);
    return 0;
}

static int on_end(void *data, const pv_multipart_part *p, pv_error *err)
{
    (void)p;
    (void)err;
    seen *s = data;
    s->ends++;
    pv_buf_append_char(&s->out, ';');
    return 0;
}

static const pv_multipart_callbacks cb = {on_begin, on_data, on_end};

#define CHROME_TYPE "multipart/form-data; boundary=----WebKitFormBoundaryq3ZkVj9mAxYT0bF2"
#define B "------WebKitFormBoundaryq3ZkVj9mAxYT0bF2"

/* A firmware form: the CSRF field, then a file whose bytes hold CR, LF, NUL, "--" and a
 * near-miss of the boundary (a boundary with its last character changed). */
static const char chrome[] =
    B "\r\n"
      "Content-Disposition: form-data; name=\"csrf\"\r\n\r\n"
      "Zm9vYmFyYmF6cXV4\r\n" B "\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"cp-8841-3pcc-12-0-1.loads\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\n"
      "LOADS\r\n\0\r--\r\n--x\r\n------WebKitFormBoundaryq3ZkVj9mAxYT0bF3 end\r\r\n" B "--\r\n";
static const char chrome_seen[] =
    "csrf||=Zm9vYmFyYmF6cXV4;file|F:cp-8841-3pcc-12-0-1.loads|application/octet-stream="
    "LOADS\r\n\0\r--\r\n--x\r\n------WebKitFormBoundaryq3ZkVj9mAxYT0bF3 end\r;";

static void whole_body_as_chromium_sends_it(void **state)
{
    seen s = {0};
    pv_error err = {""};
    assert_int_equal(pv_multipart_parse(pv_slice_from(CHROME_TYPE),
                                        pv_slice_make(chrome, sizeof chrome - 1), NULL, &cb, &s,
                                        &err),
                     0);
    assert_int_equal(s.begins, 2);
    assert_int_equal(s.ends, 2);
    assert_int_equal(s.out.len, sizeof chrome_seen - 1);
    assert_memory_equal(s.out.data, chrome_seen, sizeof chrome_seen - 1);
    pv_buf_free(&s.out);
}

/* Streaming: every split of the body, and one byte at a time, reads the same parts. */
static void pieces_of_every_size_read_the_same(void **state)
{
    const size_t len = sizeof chrome - 1;
    for (size_t piece = 1; piece <= len; piece++) {
        seen s = {0};
        pv_error err = {""};
        pv_multipart m;
        pv_multipart_init(&m, "----WebKitFormBoundaryq3ZkVj9mAxYT0bF2", NULL, &cb, &s);
        for (size_t at = 0; at < len; at += piece) {
            size_t n = len - at < piece ? len - at : piece;
            assert_int_equal(pv_multipart_feed(&m, chrome + at, n, &err), 0);
        }
        assert_int_equal(pv_multipart_finish(&m, &err), 0);
        assert_int_equal(s.out.len, sizeof chrome_seen - 1);
        assert_memory_equal(s.out.data, chrome_seen, sizeof chrome_seen - 1);
        pv_buf_free(&s.out);
    }
}

static void boundaries_are_read_and_checked(void **state)
{
    char b[PV_MULTIPART_BOUNDARY_MAX + 1];
    pv_error err = {""};
    assert_int_equal(pv_multipart_boundary(pv_slice_from(CHROME_TYPE), b, &err), 0);
    assert_string_equal(b, "----WebKitFormBoundaryq3ZkVj9mAxYT0bF2");
    assert_int_equal(pv_multipart_boundary(
                         pv_slice_from("Multipart/Form-Data ; charset=utf-8; Boundary=\"a b:c\""),
                         b, &err),
                     0);
    assert_string_equal(b, "a b:c");
    assert_int_equal(pv_multipart_boundary(pv_slice_from("application/x-www-form-urlencoded"), b,
                                           &err),
                     PV_EFORMAT);
    assert_int_equal(pv_multipart_boundary(pv_slice_from("multipart/form-data"), b, &err),
                     PV_ESYNTAX);
    assert_non_null(strstr(err.msg, "1 to 70"));
    char long_type[160];
    snprintf(long_type, sizeof long_type, "multipart/form-data; boundary=%071d", 0);
    assert_int_equal(pv_multipart_boundary(pv_slice_from(long_type), b, &err), PV_ESYNTAX);
    snprintf(long_type, sizeof long_type, "multipart/form-data; boundary=%070d", 0);
    assert_int_equal(pv_multipart_boundary(pv_slice_from(long_type), b, &err), 0);
    assert_int_equal(pv_multipart_boundary(pv_slice_from("multipart/form-data; boundary=a\"b"), b,
                                           &err),
                     PV_ESYNTAX); /* '"' is no bchar */
    assert_int_equal(pv_multipart_boundary(pv_slice_from("multipart/form-data; boundary=\"ab "),
                                           b, &err),
                     PV_ESYNTAX); /* no closing quote */
}

static int parse(const char *body, const pv_multipart_limits *limits, seen *s, pv_error *err)
{
    return pv_multipart_parse(pv_slice_from("multipart/form-data; boundary=XyZ"),
                              pv_slice_from(body), limits, &cb, s, err);
}

static void preamble_epilogue_padding_and_empty_parts(void **state)
{
    seen s = {0};
    pv_error err = {""};
    assert_int_equal(parse("This is the preamble.\r\n--XyZ \t\r\n"
                           "content-disposition: form-data; name=a\r\n\r\n"
                           "\r\n--XyZ\r\n"
                           "Content-Disposition: form-data; name=\"b\"; filename=\"\"\r\n\r\n"
                           "\r\n--XyZ--\r\nthe epilogue, ignored --XyZ junk",
                           NULL, &s, &err),
                     0);
    /* an empty field, and a file input with no file chosen (an empty filename) */
    assert_string_equal(s.out.data, "a||=;b|F:|=;");
    pv_buf_free(&s.out);
}

static void bounds_are_errors_that_name_the_part(void **state)
{
    seen s = {0};
    pv_error err = {""};
    pv_multipart_limits two = {.max_parts = 2};
    const char *three = "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
                        "--XyZ\r\nContent-Disposition: form-data; name=b\r\n\r\n2\r\n"
                        "--XyZ\r\nContent-Disposition: form-data; name=c\r\n\r\n3\r\n--XyZ--";
    assert_int_equal(parse(three, &two, &s, &err), PV_ELIMIT);
    assert_string_equal(err.msg, "multipart/form-data: part 2: more than 2 parts");
    assert_int_equal(s.begins, 2);
    pv_buf_free(&s.out);

    s = (seen){0};
    pv_multipart_limits small = {.max_header_bytes = 64};
    assert_int_equal(parse("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n"
                           "X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\nv\r\n--XyZ--",
                           &small, &s, &err),
                     PV_ELIMIT);
    assert_string_equal(err.msg,
                        "multipart/form-data: part 1: its headers are longer than 64 bytes");
    pv_buf_free(&s.out);

    char body[600];
    snprintf(body, sizeof body,
             "--XyZ\r\nContent-Disposition: form-data; name=f; filename=\"%0256d\"\r\n\r\n"
             "x\r\n--XyZ--",
             0);
    s = (seen){0};
    pv_multipart_limits wide = {.max_header_bytes = 4096};
    assert_int_equal(parse(body, &wide, &s, &err), PV_ELIMIT);
    assert_non_null(strstr(err.msg, "longer than 255 bytes"));
    pv_buf_free(&s.out);
}

static void malformed_and_truncated_bodies(void **state)
{
    static const struct {
        const char *body;
        int rc;
        const char *msg;
    } cases[] = {
        {"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nhalf a fi", PV_ETRUNC,
         "multipart/form-data: part 1: the body ends before the closing delimiter"},
        {"no delimiter at all", PV_ETRUNC,
         "multipart/form-data: the body ends before the closing delimiter"},
        {"--XyZjunk\r\n", PV_ESYNTAX,
         "multipart/form-data: a delimiter is followed by something other than CRLF or '--'"},
        {"--XyZ-\r\n", PV_ESYNTAX, "multipart/form-data: a delimiter is followed by a single '-'"},
        {"--XyZ\r\nno colon here\r\n\r\nv\r\n--XyZ--", PV_ESYNTAX,
         "multipart/form-data: part 1: a header line without ':'"},
        {"--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--", PV_ESYNTAX,
         "multipart/form-data: part 1: no Content-Disposition with a field name"},
        {"--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n--XyZ--", PV_ESYNTAX,
         "multipart/form-data: part 1: Content-Disposition is not form-data"},
        {"--XyZ\r\nContent-Disposition: form-data; filename=a\r\n\r\nv\r\n--XyZ--", PV_ESYNTAX,
         "multipart/form-data: part 1: Content-Disposition names no field"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        seen s = {0};
        pv_error err = {""};
        assert_int_equal(parse(cases[i].body, NULL, &s, &err), cases[i].rc);
        assert_string_equal(err.msg, cases[i].msg);
        pv_buf_free(&s.out);
    }
}

/* A callback's refusal (a file over the caller's bound) stops the reader with its error. */
static void a_callback_refusal_stops_the_reader(void **state)
{
    seen s = {.refuse_after = 4};
    pv_error err = {""};
    pv_multipart m;
    pv_multipart_init(&m, "XyZ", NULL, &cb, &s);
    const char *body = "--XyZ\r\nContent-Disposition: form-data; name=f; filename=x.bin\r\n\r\n"
                       "0123456789\r\n--XyZ--";
    assert_int_equal(pv_multipart_feed(&m, body, strlen(body), &err), PV_ETOOBIG);
    assert_string_equal(err.msg, "the file is larger than 4 bytes");
    assert_int_equal(pv_multipart_feed(&m, "x", 1, &err), PV_ETOOBIG);
    assert_int_equal(pv_multipart_finish(&m, &err), PV_ETOOBIG);
    assert_int_equal(s.ends, 0);
    pv_buf_free(&s.out);
}

static void one_plain_field_is_found(void **state)
{
    char out[32];
    pv_slice body = pv_slice_make(chrome, sizeof chrome - 1);
    assert_true(pv_multipart_field(pv_slice_from(CHROME_TYPE), body, "csrf", out, sizeof out));
    assert_string_equal(out, "Zm9vYmFyYmF6cXV4");
    assert_false(pv_multipart_field(pv_slice_from(CHROME_TYPE), body, "file", out, sizeof out));
    assert_string_equal(out, "");
    assert_false(pv_multipart_field(pv_slice_from(CHROME_TYPE), body, "csrf", out, 8));
    assert_false(pv_multipart_field(pv_slice_from("text/plain"), body, "csrf", out, sizeof out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_body_as_chromium_sends_it),
        cmocka_unit_test(pieces_of_every_size_read_the_same),
        cmocka_unit_test(boundaries_are_read_and_checked),
        cmocka_unit_test(preamble_epilogue_padding_and_empty_parts),
        cmocka_unit_test(bounds_are_errors_that_name_the_part),
        cmocka_unit_test(malformed_and_truncated_bodies),
        cmocka_unit_test(a_callback_refusal_stops_the_reader),
        cmocka_unit_test(one_plain_field_is_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
