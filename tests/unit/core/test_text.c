/* Unit tests for core/text: UTF-8 without control characters, per flag, and the messages that
 * name the field and the byte. */
#include "pv_test.h"

#include "core/text.h"

#define CASE(lit, flags, at)                                                                       \
    {                                                                                              \
        PV_SLICE_LIT(lit), flags, at                                                               \
    }

static void what_each_flag_refuses(void **state)
{
    (void)state;
    static const char ok[] = "Caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x93\x9e x";
    const struct {
        pv_slice s;
        unsigned flags;
        size_t at; /* first refused byte; s.len when none */
    } cases[] = {
        /* Plain text, accents, CJK, emoji: fine everywhere. */
        CASE(ok, PV_TEXT_XML, sizeof ok - 1),
        CASE(ok, PV_TEXT_NAME, sizeof ok - 1),
        CASE("", PV_TEXT_NAME, 0),
        /* C0 (U+0001, NUL), always. */
        CASE("ab\x01", PV_TEXT_XML, 2),
        CASE("a\0b", PV_TEXT_VALUE, 1),
        /* TAB, LF, CR: in values, not in names. */
        CASE("a\tb\r\n", PV_TEXT_VALUE, 5),
        CASE("a\tb", PV_TEXT_NAME, 1),
        /* DEL and C1 (U+0085 = c2 85): XML carries them, values do not; NBSP is text. */
        CASE("a\x7f", PV_TEXT_XML, 2),
        CASE("a\x7f", PV_TEXT_VALUE, 1),
        CASE("a\xc2\x85", PV_TEXT_XML, 3),
        CASE("a\xc2\x85", PV_TEXT_VALUE, 1),
        CASE("a\xc2\xa0", PV_TEXT_VALUE, 3),
        /* Malformed UTF-8: stray continuation, overlong (2 and 3 bytes), surrogate, beyond
         * U+10FFFF, cut short; and the noncharacter U+FFFE. */
        CASE("a\x80", PV_TEXT_XML, 1),
        CASE("a\xc0\xaf", PV_TEXT_XML, 1),
        CASE("a\xe0\x80\xaf", PV_TEXT_XML, 1),
        CASE("a\xed\xa0\x80", PV_TEXT_XML, 1),
        CASE("a\xf4\x90\x80\x80", PV_TEXT_XML, 1),
        CASE("a\xe6\x9d", PV_TEXT_XML, 1),
        CASE("a\xef\xbf\xbe", PV_TEXT_XML, 1),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("case %zu\n", i);
        assert_int_equal(pv_text_bad_at(cases[i].s, cases[i].flags), cases[i].at);
    }
}

static void messages_name_field_and_byte(void **state)
{
    (void)state;
    pv_error err = {""};
    assert_int_equal(pv_text_check(PV_SLICE_LIT("ab\x01"), PV_TEXT_VALUE, "parameter X", &err),
                     PV_EINVAL);
    assert_string_equal(err.msg, "parameter X: byte 3 is a control character (U+0001); expected "
                                 "UTF-8 text without control characters");
    assert_int_equal(pv_text_check(PV_SLICE_LIT("a\nb"), PV_TEXT_NAME, "model", &err), PV_EINVAL);
    assert_string_equal(err.msg, "model: byte 2 is a control character (U+000A); expected one "
                                 "line of text without control characters");
    assert_int_equal(pv_text_check(PV_SLICE_LIT("\xff"), PV_TEXT_VALUE, "v", &err), PV_EINVAL);
    assert_string_equal(err.msg, "v: byte 1 is not UTF-8 text (0xff); expected UTF-8 text "
                                 "without control characters");
    assert_int_equal(pv_text_check(PV_SLICE_LIT("fine"), PV_TEXT_NAME, "v", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(what_each_flag_refuses),
        cmocka_unit_test(messages_name_field_and_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
