/* What the portal reads from a browser and shows back (core/form.h, server/i18n.h): form
 * fields and their escapes, cookies, Accept-Language by q-value, the language cookie first,
 * HTML escaping, and the two message catalogs compiled in from web/i18n with the same keys. */
#include "pv_test.h"

#include "core/form.h"
#include "server/i18n.h"
#include "server/web_assets.h"

#include <string.h>

static void form_fields_decode(void **state)
{
    char out[32];
    pv_slice body = pv_slice_from("login=alice%40example.com&password=a+b%20c&empty=&flag&x=%zz");
    assert_true(pv_form_get(body, "login", out, sizeof out));
    assert_string_equal(out, "alice@example.com");
    assert_true(pv_form_get(body, "password", out, sizeof out));
    assert_string_equal(out, "a b c");
    assert_true(pv_form_get(body, "empty", out, sizeof out));
    assert_string_equal(out, "");
    assert_true(pv_form_get(body, "flag", out, sizeof out));
    assert_false(pv_form_get(body, "x", out, sizeof out));     /* a malformed escape */
    assert_false(pv_form_get(body, "logi", out, sizeof out));  /* names match whole */
    assert_false(pv_form_get(body, "login", out, 5));          /* does not fit */
    assert_false(pv_form_get(pv_slice_from("a=%00"), "a", out, sizeof out)); /* no NUL */
    /* the first of two */
    assert_true(pv_form_get(pv_slice_from("a=1&a=2"), "a", out, sizeof out));
    assert_string_equal(out, "1");
}

static void cookies_and_escaping(void **state)
{
    char out[64];
    pv_slice h = pv_slice_from("pv_lang=ja; __Host-pv_session=abc ;other=x");
    assert_true(pv_cookie_get(h, "__Host-pv_session", out, sizeof out));
    assert_string_equal(out, "abc");
    assert_true(pv_cookie_get(h, "pv_lang", out, sizeof out));
    assert_string_equal(out, "ja");
    assert_false(pv_cookie_get(h, "pv_session", out, sizeof out));
    assert_false(pv_cookie_get(h, "other", out, 1));
    pv_buf b = {0};
    pv_html_escape(&b, "<a href=\"x\">O'Neil & co</a>");
    assert_string_equal(b.data, "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;");
    pv_buf_free(&b);
}

static void languages_are_picked(void **state)
{
    assert_int_equal(pv_i18n_pick(NULL, pv_slice_from("ja-JP,en;q=0.5"), PV_LANG_EN), PV_LANG_JA);
    assert_int_equal(pv_i18n_pick(NULL, pv_slice_from("fr, ja;q=0.3, en;q=0.7"), PV_LANG_JA),
                     PV_LANG_EN);
    assert_int_equal(pv_i18n_pick(NULL, pv_slice_from("de-DE"), PV_LANG_JA), PV_LANG_JA);
    assert_int_equal(pv_i18n_pick(NULL, pv_slice_from("javanese"), PV_LANG_EN), PV_LANG_EN);
    assert_int_equal(pv_i18n_pick("ja", pv_slice_from("en"), PV_LANG_EN), PV_LANG_JA);
    assert_int_equal(pv_i18n_pick("xx", pv_slice_from(""), PV_LANG_EN), PV_LANG_EN);
}

static void catalogs_have_the_same_keys(void **state)
{
    pv_error err = {""};
    assert_int_equal(pv_i18n_load(&err), 0);
    pv_buf missing = {0};
    pv_i18n_missing(PV_LANG_EN, &missing);
    pv_i18n_missing(PV_LANG_JA, &missing);
    if (missing.len > 0)
        fail_msg("keys in one catalog only:\n%s", missing.data);
    pv_buf_free(&missing);
    assert_string_equal(pv_i18n(PV_LANG_JA, "logout"), "ログアウト");
    assert_string_equal(pv_i18n(PV_LANG_EN, "logout"), "Log out");
    assert_string_equal(pv_i18n(PV_LANG_JA, "no.such.key"), "no.such.key");
    /* the static files are built in */
    assert_non_null(pv_web_asset_find("static/portal.css"));
    assert_non_null(pv_web_asset_find("static/portal.js"));
    assert_null(pv_web_asset_find("static/none.css"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(form_fields_decode),
        cmocka_unit_test(cookies_and_escaping),
        cmocka_unit_test(languages_are_picked),
        cmocka_unit_test(catalogs_have_the_same_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
