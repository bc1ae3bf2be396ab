/* Unit tests for core/log: the logfmt line, its numbers and its timestamp. */
#include "pv_test.h"

#include "core/alloc.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>

static pv_buf captured;

static void capture(pv_log_level level, const char *line, size_t len, void *data)
{
    pv_buf_reset(&captured);
    pv_buf_append(&captured, line, len);
}

static int setup(void **state)
{
    pv_log_set_sink(capture, NULL);
    pv_log_set_level(PV_LOG_INFO);
    return 0;
}

static int teardown(void **state)
{
    pv_log_set_sink(NULL, NULL);
    pv_buf_free(&captured);
    return 0;
}

/* "ts=2026-11-25T14:54:34.123Z level=info event=x": the shape, digit by digit. */
static void line_starts_with_timestamp_level_and_event(void **state)
{
    pv_logf(PV_LOG_WARN, "test.event", NULL);
    const char *l = captured.data;
    assert_non_null(l);
    assert_int_equal(strncmp(l, "ts=", 3), 0);
    const char *shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (size_t i = 0; shape[i]; i++) {
        char c = l[3 + i];
        if (shape[i] == 'd')
            assert_true(c >= '0' && c <= '9');
        else
            assert_int_equal(c, shape[i]);
    }
    assert_string_equal(l + 3 + strlen(shape), " level=warn event=test.event");
    /* Twice within a second: the remembered seconds part is the same text. */
    char first[40];
    snprintf(first, sizeof first, "%.22s", l);
    pv_logf(PV_LOG_ERROR, "again", "k=v");
    assert_true(strncmp(captured.data, first, 13) == 0); /* same day at least */
    assert_non_null(strstr(captured.data, " level=error event=again k=v"));
}

/* Logs one number (an integer, or milliseconds when is_ms) and returns its " key=..." text. */
static const char *logged_number(bool is_ms, int64_t i, double ms)
{
    pv_log_line line;
    pv_log_begin(&line, PV_LOG_INFO, "n");
    if (is_ms)
        pv_log_ms(&line, "v", ms);
    else
        pv_log_int(&line, "v", i);
    pv_log_end(&line);
    return strstr(captured.data, " v=");
}

static void numbers_match_printf(void **state)
{
    static const int64_t ints[] = {0, 7, -1, 1234567890123, INT64_MAX, INT64_MIN};
    char want[64];
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        snprintf(want, sizeof want, " v=%lld", (long long)ints[i]);
        assert_string_equal(logged_number(false, ints[i], 0), want);
    }
    static const double ms[] = {0, 0.0004, 0.0005, 1.5, 12.3456, 999.9999, 86400000.25, -3.5};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        snprintf(want, sizeof want, " v=%.3f", ms[i]);
        assert_string_equal(logged_number(true, 0, ms[i]), want);
    }
}

static void values_are_quoted_and_escaped(void **state)
{
    pv_log_line line;
    pv_log_begin(&line, PV_LOG_INFO, "q");
    pv_log_str(&line, "plain", "abc");
    pv_log_str(&line, "spaced", "a b");
    pv_log_str(&line, "forged", "x\nts=0 level=error");
    pv_log_str(&line, "empty", "");
    pv_log_end(&line);
    /* A line break from the network cannot start a forged line. */
    assert_non_null(strstr(captured.data, " plain=abc spaced=\"a b\" forged=\"x\\nts=0 "
                                          "level=error\" empty=\"\""));
    /* Below the level: nothing reaches the sink. */
    pv_buf_reset(&captured);
    pv_logf(PV_LOG_DEBUG, "hidden", "k=v");
    assert_int_equal(captured.len, 0);
}

/* "…" is written as "…", not \xe2\x80\xa6; what could drive a terminal or forge a line is
 * still escaped, and so are bytes that are not UTF-8. */
static void utf8_is_written_as_utf8(void **state)
{
    pv_log_line line;
    pv_log_begin(&line, PV_LOG_INFO, "u");
    pv_log_str(&line, "name", "Caf\xc3\xa9\xe2\x80\xa6");
    pv_log_str(&line, "c1", "a\xc2\x9b" "31m");           /* CSI as a C1 control */
    pv_log_str(&line, "esc", "\x1b[31m");                 /* CSI as ESC [ */
    pv_log_str(&line, "bad", "x\xff\xe2\x80y");           /* not UTF-8, then a cut sequence */
    pv_log_str(&line, "bidi", "abc\xe2\x80\xae" "def");   /* RIGHT-TO-LEFT OVERRIDE */
    pv_log_str(&line, "sep", "a\xe2\x80\xa8" "b");        /* LINE SEPARATOR */
    pv_log_end(&line);
    assert_non_null(strstr(captured.data, " name=Caf\xc3\xa9\xe2\x80\xa6 "));
    assert_non_null(strstr(captured.data, " c1=\"a\\u009b31m\""));
    assert_non_null(strstr(captured.data, " esc=\"\\x1b[31m\""));
    assert_non_null(strstr(captured.data, " bad=\"x\\xff\\xe2\\x80y\""));
    assert_non_null(strstr(captured.data, " bidi=\"abc\\u202edef\""));
    assert_non_null(strstr(captured.data, " sep=\"a\\u2028b\""));
}

/* --log-format json: one object per line, the same fields, numbers as numbers. */
static void json_lines_carry_the_same_fields(void **state)
{
    pv_log_set_format(PV_LOG_JSON);
    pv_log_line line;
    pv_log_begin(&line, PV_LOG_WARN, "http.request");
    pv_log_str(&line, "path", "/a \"b\"\\\n\xe2\x80\xa6\xff\x01");
    pv_log_int(&line, "status", -404);
    pv_log_ms(&line, "ms", 1.25);
    pv_log_redacted(&line, "code", pv_slice_from("ABCDEFGH"));
    pv_log_end(&line);
    const char *l = captured.data;
    assert_int_equal(strncmp(l, "{\"ts\":\"", 7), 0);
    assert_non_null(strstr(l, "Z\",\"level\":\"warn\",\"event\":\"http.request\",\"path\":\"/a "
                              "\\\"b\\\"\\\\\\n\xe2\x80\xa6\\ufffd\\u0001\",\"status\":-404,"
                              "\"ms\":1.250,\"code\":\"AB...(8)\"}"));
    assert_int_equal(l[captured.len - 1], '}');

    /* pv_logf's logfmt text is read back as fields. */
    pv_logf(PV_LOG_INFO, "listener.ready", "proto=%s addr=%s n=%d x=\"a b\\\"c\\x41\" 007 lone",
            "http", "127.0.0.1:80", 12);
    assert_non_null(strstr(captured.data, "\"event\":\"listener.ready\",\"proto\":\"http\","
                                          "\"addr\":\"127.0.0.1:80\",\"n\":12,\"x\":\"a "
                                          "b\\\"cA\",\"msg\":\"007 lone\"}"));
    /* Not numbers in JSON's grammar stay strings. */
    pv_logf(PV_LOG_INFO, "e", "a=01 b=1. c=-0.5 d=1e3 e= f=\"unterminated");
    assert_non_null(strstr(captured.data, "\"a\":\"01\",\"b\":\"1.\",\"c\":-0.5,\"d\":\"1e3\","
                                          "\"e\":\"\",\"f\":\"unterminated\"}"));
    pv_log_set_format(PV_LOG_LOGFMT);
    assert_int_equal(pv_log_format_parse("json"), PV_LOG_JSON);
    assert_int_equal(pv_log_format_parse("logfmt"), PV_LOG_LOGFMT);
    assert_int_equal(pv_log_format_parse("xml"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(line_starts_with_timestamp_level_and_event),
        cmocka_unit_test(numbers_match_printf),
        cmocka_unit_test(values_are_quoted_and_escaped),
        cmocka_unit_test(utf8_is_written_as_utf8),
        cmocka_unit_test(json_lines_carry_the_same_fields),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
