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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(line_starts_with_timestamp_level_and_event),
        cmocka_unit_test(numbers_match_printf),
        cmocka_unit_test(values_are_quoted_and_escaped),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
