/* Unit tests for core/url: spec 1.2 defaults and its valid examples. */
#include "pv_test.h"

#include "core/alloc.h"
#include "core/url.h"

typedef struct {
    const char *text;
    const char *scheme, *host;
    unsigned port;
    const char *path, *query;
    bool dhcp;
} url_case;

static void spec_examples(void **state)
{
    /* spec 1.2: the valid examples of C-FMT "URL Syntax" (after expansion) */
    const url_case cases[] = {
        {"/000e08012345.cfg", "tftp", "", 69, "/000e08012345.cfg", NULL, true},
        {"/cisco/cfg.xml", "tftp", "", 69, "/cisco/cfg.xml", NULL, true},
        {"192.168.1.130/profiles/init.cfg", "tftp", "192.168.1.130", 69, "/profiles/init.cfg", NULL,
         false},
        {"tftp://prov.call.com/cpe/cisco000e08012345.cfg", "tftp", "prov.call.com", 69,
         "/cpe/cisco000e08012345.cfg", NULL, false},
        {"http://neptune.speak.net:8080/prov/D/E.cfg", "http", "neptune.speak.net", 8080,
         "/prov/D/E.cfg", NULL, false},
        {"https://secure.me.com/profile?Linksys", "https", "secure.me.com", 443, "/profile",
         "Linksys", false},
        /* spec 1.1: `[--post f ] http://ps.one.com/cpe/resyncs?` */
        {"http://ps.one.com/cpe/resyncs?", "http", "ps.one.com", 80, "/cpe/resyncs", "", false},
        {"tftp.callme.com/profile/000e08012345/spa112.cfg", "tftp", "tftp.callme.com", 69,
         "/profile/000e08012345/spa112.cfg", NULL, false},
        {"HTTPS://[::1]:8443/p.xml", "https", "::1", 8443, "/p.xml", NULL, false},
        {"http://[2001:db8::1]/x", "http", "2001:db8::1", 80, "/x", NULL, false},
        {"tftp:///spa.cfg", "tftp", "", 69, "/spa.cfg", NULL, true},
        {"http://h/a?b?c", "http", "h", 80, "/a", "b?c", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const url_case *c = &cases[i];
        pv_url u;
        pv_error err = {{0}};
        if (pv_url_parse(pv_slice_from(c->text), 0, &u, &err) != 0)
            fail_msg("'%s': %s", c->text, err.msg);
        assert_string_equal(pv_scheme_name(u.scheme), c->scheme);
        assert_string_equal(u.host, c->host);
        assert_int_equal(u.port, c->port);
        assert_string_equal(u.path, c->path);
        if (c->query == NULL)
            assert_null(u.query);
        else
            assert_string_equal(u.query, c->query);
        assert_int_equal(u.dhcp_host, c->dhcp);
        pv_url_free(&u);
    }
}

static void format_round_trip(void **state)
{
    const char *cases[][2] = {
        {"/a.cfg", "tftp:///a.cfg"},
        {"h/a", "tftp://h/a"},
        {"http://[::1]:8080/x?y", "http://[::1]:8080/x?y"},
        {"gds://", "gds://"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pv_url u;
        assert_int_equal(pv_url_parse(pv_slice_from(cases[i][0]), 0, &u, NULL), 0);
        pv_buf b = {0};
        pv_url_format(&u, &b);
        assert_string_equal(b.data, cases[i][1]);
        pv_buf_free(&b);
        pv_url_free(&u);
    }
}

static void gds_is_reserved(void **state)
{
    /* spec 1.1: `gds://` as the whole rule (activation-code onboarding) */
    pv_url u;
    assert_int_equal(pv_url_parse(PV_SLICE_LIT("gds://"), 0, &u, NULL), 0);
    assert_true(u.gds);
    pv_url_free(&u);
    pv_error err;
    assert_int_equal(pv_url_parse(PV_SLICE_LIT("gds://x"), 0, &u, &err), PV_ESYNTAX);
    assert_non_null(strstr(err.msg, "column 7"));
}

static void errors(void **state)
{
    struct {
        const char *text, *msg;
    } cases[] = {
        {"ftp://h/a", "column 11: unknown scheme 'ftp', expected tftp, http or https"},
        {"http://h", "column 19: expected an absolute file path starting with '/', found the end"},
        {"h:0/a", "column 13: expected a port number 1-65535"},
        {"h:65536/a", "column 13: expected a port number"},
        {"h:123456/a", "column 13"},
        {"h:/a", "column 13: expected a port number"},
        {"http://[::1/a", "column 22: expected an IPv6 address and ']'"},
        {"http://h/a b", "column 21: control character or space"},
        {"cfg.xml", "found the end"},
        {"http://h@x/a", "column 19: expected an absolute file path starting with '/', found '@'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pv_url u;
        pv_error err = {{0}};
        assert_int_equal(pv_url_parse(pv_slice_from(cases[i].text), 10, &u, &err), PV_ESYNTAX);
        if (strstr(err.msg, cases[i].msg) == NULL)
            fail_msg("'%s': message '%s' lacks '%s'", cases[i].text, err.msg, cases[i].msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_examples),
        cmocka_unit_test(format_round_trip),
        cmocka_unit_test(gds_is_reserved),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
