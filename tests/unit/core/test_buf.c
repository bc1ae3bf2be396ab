/* Unit tests for core/buf and core/error.
 * Covers src/core/buf.c, error.c and alloc.c (the allocators a buffer grows by). */
#include "pv_test.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"

static void buf_grows_and_stays_terminated(void **state)
{
    pv_buf b = {0};
    for (int i = 0; i < 1000; i++)
        pv_buf_appendf(&b, "%d,", i);
    assert_int_equal(b.len, strlen(b.data));
    assert_true(strncmp(b.data, "0,1,2,", 6) == 0);
    assert_string_equal(b.data + b.len - 4, "999,");
    pv_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    pv_buf_append(&b, "a\0b", 3);
    assert_int_equal(b.len, 3);
    assert_int_equal(b.data[1], '\0');
    size_t len = 0;
    char *taken = pv_buf_take(&b, &len);
    assert_int_equal(len, 3);
    assert_null(b.data);
    free(taken);
    pv_buf_free(&b);
}

static void take_of_empty_buffer_is_empty_string(void **state)
{
    pv_buf b = {0};
    size_t len = 99;
    char *s = pv_buf_take(&b, &len);
    assert_int_equal(len, 0);
    assert_string_equal(s, "");
    free(s);
}

static void slices_compare_and_trim(void **state)
{
    pv_slice s = pv_slice_trim(pv_slice_from(" \t Yes \r\n"));
    assert_slice_equal(s, "Yes");
    assert_true(pv_slice_eq_cstr(s, "Yes"));
    assert_false(pv_slice_eq_cstr(s, "yes"));
    assert_true(pv_slice_case_eq_cstr(s, "yes"));
    assert_true(pv_slice_starts_with(pv_slice_from("Salted__x"), "Salted__"));
    assert_false(pv_slice_starts_with(pv_slice_from("Salt"), "Salted__"));
    assert_int_equal(pv_slice_trim(pv_slice_from("   ")).len, 0);
}

static void errors_have_text_and_names(void **state)
{
    assert_string_equal(pv_strerror(PV_ESYNTAX), "syntax error");
    assert_string_equal(pv_err_name(PV_EDECRYPT), "EDECRYPT");
    assert_string_equal(pv_strerror(12345), "unknown error");
    pv_error err;
    assert_int_equal(pv_error_set(&err, PV_ERANGE, "column %d: too big", 7), PV_ERANGE);
    assert_string_equal(err.msg, "column 7: too big");
    assert_int_equal(pv_error_set(NULL, PV_EIO, "ignored"), PV_EIO);
}

static void hex_digits_have_values(void **state)
{
    assert_int_equal(pv_hex_value('0'), 0);
    assert_int_equal(pv_hex_value('9'), 9);
    assert_int_equal(pv_hex_value('a'), 10);
    assert_int_equal(pv_hex_value('F'), 15);
    assert_int_equal(pv_hex_value('g'), -1);
    assert_int_equal(pv_hex_value('\0'), -1);
    char out[9];
    pv_hex_encode("\x00\x9f\xA0\xff", 4, out);
    assert_string_equal(out, "009fa0ff");
    pv_hex_encode("", 0, out);
    assert_string_equal(out, "");
}

__attribute__((format(printf, 3, 4))) static size_t cut(char *dst, size_t size, const char *fmt,
                                                        ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = pv_vformat_cut(dst, size, fmt, ap);
    va_end(ap);
    return n;
}

static void formatting_into_a_fixed_buffer_cuts(void **state)
{
    char d[4];
    assert_int_equal(cut(d, sizeof d, "%s", "abcdef"), 3);
    assert_string_equal(d, "abc");
    assert_int_equal(cut(d, sizeof d, "%s", "ab"), 2);
    assert_string_equal(d, "ab");
    assert_int_equal(cut(d, sizeof d, "%d", 42), 2);
    assert_string_equal(d, "42");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_grows_and_stays_terminated),
        cmocka_unit_test(take_of_empty_buffer_is_empty_string),
        cmocka_unit_test(slices_compare_and_trim),
        cmocka_unit_test(errors_have_text_and_names),
        cmocka_unit_test(hex_digits_have_values),
        cmocka_unit_test(formatting_into_a_fixed_buffer_cuts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
