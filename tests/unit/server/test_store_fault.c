/* Unit tests for server/store_fault: which store outcomes are failures and
 * what a phone is answered for each (issue 19 item 1), and the health state
 * behind /healthz with its one log line per failure burst. */
#include "pv_test.h"

#include "core/log.h"
#include "server/store_fault.h"

#include <string.h>

static pv_buf lines;
static int nlines;

static void capture(pv_log_level level, const char *line, size_t len, void *data)
{
    (void)level;
    (void)data;
    pv_buf_append(&lines, line, len);
    pv_buf_append_char(&lines, '\n');
    nlines++;
}

static int setup(void **state)
{
    (void)state;
    pv_log_set_sink(capture, NULL);
    pv_log_set_level(PV_LOG_INFO);
    pv_store_health_reset();
    pv_buf_reset(&lines);
    nlines = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pv_log_set_sink(NULL, NULL);
    pv_buf_free(&lines);
    pv_store_health_reset();
    return 0;
}

/* A failure is 503 whatever the caller would have answered; an answer keeps
 * its own status: "no such device" stays 404, "taken" 409, a bad value 400. */
static void failures_are_503_answers_keep_their_status(void **state)
{
    (void)state;
    static const int failures[] = {PV_ESTORE, PV_EBUSY, PV_EIO};
    for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++) {
        assert_true(pv_store_fault(failures[i]));
        assert_int_equal(pv_store_fault_status(failures[i], 404), 503);
        assert_int_equal(pv_store_fault_status(failures[i], 400), 503);
    }
    static const struct {
        int rc, answer;
    } answers[] = {{PV_ENOENT, 404},  {PV_EEXIST, 409}, {PV_EINVAL, 400}, {PV_EDECRYPT, 400},
                   {PV_ETOOBIG, 413}, {PV_ELIMIT, 429}, {PV_EFORMAT, 400}};
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        assert_false(pv_store_fault(answers[i].rc));
        assert_int_equal(pv_store_fault_status(answers[i].rc, answers[i].answer),
                         answers[i].answer);
    }
    assert_false(pv_store_fault(0));
}

/* A burst of failures is one line, its end another; health follows. */
static void one_line_per_burst(void **state)
{
    (void)state;
    pv_error e;
    pv_error_set(&e, PV_ESTORE, "PostgreSQL connection lost: x; reconnect failed: y");
    assert_true(pv_store_health_up());
    for (int i = 0; i < 1000; i++)
        pv_store_health_failed("profile", &e);
    assert_false(pv_store_health_up());
    assert_int_equal(nlines, 1);
    assert_non_null(strstr(lines.data, "event=store.unavailable"));
    assert_non_null(strstr(lines.data, "during=profile"));
    assert_non_null(strstr(lines.data, "reconnect failed: y"));
    for (int i = 0; i < 10; i++)
        pv_store_health_ok();
    assert_true(pv_store_health_up());
    assert_int_equal(nlines, 2);
    assert_non_null(strstr(lines.data, "event=store.recovered failures=1000 "));
    pv_buf text = {0};
    pv_store_health_render(&text);
    assert_non_null(strstr(text.data, "\nprovisor_store_up 1\n"));
    assert_non_null(strstr(text.data, "\nprovisor_store_failures_total 1000\n"));
    /* A second burst: one more line. */
    pv_store_health_failed("report", &e);
    pv_store_health_failed("report", &e);
    assert_int_equal(nlines, 3);
    pv_buf_reset(&text);
    pv_store_health_render(&text);
    assert_non_null(strstr(text.data, "\nprovisor_store_up 0\n"));
    assert_non_null(strstr(text.data, "\nprovisor_store_failures_total 1002\n"));
    pv_buf_free(&text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(failures_are_503_answers_keep_their_status, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(one_line_per_burst, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
