/*
 * test_webui.c — the phone web server's URL handling (spec 9, C-FMT): the
 * xuser/xpassword forms, one-shot arguments, and the spec 1.2 rule that a
 * resync/upgrade URL without a server uses the host that asked; the LED
 * patterns the terminal shows; the syslog line format (spec 7.3).
 */
#include "pv_test.h"

#include "phone/phone.h"
#include "phone/tui.h"
#include "phone/webui.h"

static void target(const char *path, const char *query, const char *action, const char *arg,
                   const char *user, const char *pw)
{
    pv_webui_target t;
    pv__webui_target(pv_slice_from(path), pv_slice_from(query), &t);
    assert_string_equal(t.action, action);
    assert_string_equal(t.arg.data, arg);
    assert_int_equal(t.has_arg, *arg != '\0');
    assert_string_equal(t.xuser, user);
    assert_string_equal(t.xpassword, pw);
    assert_int_equal(t.has_xuser, *user != '\0');
    pv_buf_free(&t.arg);
}

static void targets(void **state)
{
    /* C-FMT: curl -d @my_config.xml "http://<phone>/admin/config.xml&xuser=admin&xpassword=admin"
     */
    target("/admin/config.xml&xuser=admin&xpassword=admin", "", "/admin/config.xml", "", "admin",
           "admin");
    target("/admin/resync", "https://prov.example/init/1234abcd", "/admin/resync",
           "https://prov.example/init/1234abcd", "", "");
    target("/admin/resync", "http://s.example/p?x=1&y=2&xuser=admin&xpassword=s3cret",
           "/admin/resync", "http://s.example/p?x=1&y=2", "admin", "s3cret");
    target("/admin/reboot", "xuser=admin&xpassword=pw", "/admin/reboot", "", "admin", "pw");
    target("/admin/status.xml", "", "/admin/status.xml", "", "", "");
    target("/admin/call", "start", "/admin/call", "start", "", "");
    (void)state;
}

static void default_server(const char *rule, const char *host, const char *want)
{
    pv_buf b = {0};
    pv__webui_default_server(rule, host, &b);
    pv_buf_append_char(&b, '\0');
    assert_string_equal(b.data, want);
    pv_buf_free(&b);
}

/* spec 1.2: "If no server-name is specified, the host that requests the URL is used" */
static void requester_is_server(void **state)
{
    default_server("/spa$MA.cfg", "192.168.1.20", "192.168.1.20/spa$MA.cfg");
    default_server("http:///cfg.xml", "192.168.1.20", "http://192.168.1.20/cfg.xml");
    default_server("http://:8080/cfg.xml", "10.0.0.1", "http://10.0.0.1:8080/cfg.xml");
    default_server("[--key k] tftp:///a.cfg", "::1", "[--key k] tftp://[::1]/a.cfg");
    default_server("https://prov.example/x", "10.0.0.1", "https://prov.example/x");
    (void)state;
}

/* The origin chapter's patterns: slow 1.0 on/1.0 off; fast 0.2 on, 0.2 off, 0.2 on, 1.4 off. */
static void led_patterns(void **state)
{
    assert_true(pv__tui_led_on(PV_AGENT_LED_NORMAL, 12345));
    assert_true(pv__tui_led_on(PV_AGENT_LED_SLOW_BLINK, 999));
    assert_false(pv__tui_led_on(PV_AGENT_LED_SLOW_BLINK, 1000));
    assert_false(pv__tui_led_on(PV_AGENT_LED_SLOW_BLINK, 1999));
    assert_true(pv__tui_led_on(PV_AGENT_LED_SLOW_BLINK, 2000));
    const uint64_t on[] = {0, 199, 400, 599, 2000};
    const uint64_t off[] = {200, 399, 600, 1999, 2200};
    for (size_t i = 0; i < 5; i++) {
        assert_true(pv__tui_led_on(PV_AGENT_LED_FAST_BLINK, on[i]));
        assert_false(pv__tui_led_on(PV_AGENT_LED_FAST_BLINK, off[i]));
    }
    (void)state;
}

static void syslog_line(void **state)
{
    setenv("TZ", "UTC", 1);
    char buf[256];
    /* 2024-03-05 07:08:09 UTC */
    int n = pv_phone_syslog_format(buf, sizeof buf, 6, 1709622489000ull, "000e08aabbcc",
                                   "CP-8841-3PCC 00:0e:08:aa:bb:cc -- Requesting resync x");
    assert_true(n > 0);
    assert_string_equal(buf, "<14>Mar  5 07:08:09 000e08aabbcc provisor-phone: CP-8841-3PCC "
                             "00:0e:08:aa:bb:cc -- Requesting resync x");
    assert_int_equal(pv_phone_syslog_format(buf, 16, 3, 0, "h", "a long message"), PV_ETOOBIG);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(targets),
        cmocka_unit_test(requester_is_server),
        cmocka_unit_test(led_patterns),
        cmocka_unit_test(syslog_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
