/* Unit tests for core/text_profile: spec 3.3 examples, imports, errors, round trip. */
#include "pv_test.h"

#include "core/alloc.h"
#include "core/text_profile.h"
#include "core/xml_profile.h"

static pv_param get(const pv_params *p, const char *name)
{
    pv_param e;
    if (!pv_params_get(p, pv_slice_from(name), &e))
        fail_msg("no parameter %s", name);
    return e;
}

static pv_params parse_ok(const char *text, const pv_text_opts *opts)
{
    pv_params p = {0};
    pv_error err = {{0}};
    if (pv_text_parse(pv_slice_from(text), &p, opts, &err) != 0)
        fail_msg("parse failed: %s", err.msg);
    return p;
}

static void parse_fails(const char *text, const pv_text_opts *opts, int code, const char *part)
{
    pv_params p = {0};
    pv_error err = {{0}};
    assert_int_equal(pv_text_parse(pv_slice_from(text), &p, opts, &err), code);
    if (strstr(err.msg, part) == NULL)
        fail_msg("error '%s' lacks '%s'", err.msg, part);
    pv_params_free(&p);
}

static void assert_round_trip(const pv_params *p)
{
    pv_buf out = {0};
    assert_int_equal(pv_text_serialize(p, &out, NULL), 0);
    pv_params back = {0};
    pv_error err = {{0}};
    if (pv_text_parse(pv_buf_slice(&out), &back, NULL, &err) != 0)
        fail_msg("reparse of\n%s\nfailed: %s", out.data, err.msg);
    assert_true(pv_params_equal(p, &back));
    pv_params_free(&back);
    pv_buf_free(&out);
}

/* spec 3.3: `Parameter_Name [ '!' | '?' ] [ "quoted value" ] ';'` */
static void spec_syntax(void **state)
{
    pv_params p = parse_ok("# Sipura source\n"
                           "\n"
                           "Proxy[1] \"sip.service.com\";\n"
                           "Line_Enable[1] ! \"Yes\" ;   # trailing comment\n"
                           "Resync_Periodic?\"7200\";\n"
                           "GPP_B !;\n"
                           "GPP_C;\n"
                           "GPP_D \"\";\n"
                           "Resync_Periodic ? \"3600\" ;\n", /* last occurrence wins */
                           NULL);
    assert_int_equal(pv_params_count(&p), 6);
    pv_param e = get(&p, "Proxy_1_");
    assert_slice_equal(e.value, "sip.service.com");
    assert_int_equal(e.ua, PV_UA_NA); /* nothing = user not-accessible */
    e = get(&p, "Line_Enable_1_");
    assert_slice_equal(e.value, "Yes");
    assert_int_equal(e.ua, PV_UA_RW);
    e = get(&p, "Resync_Periodic");
    assert_slice_equal(e.value, "3600");
    assert_int_equal(e.ua, PV_UA_RO);
    e = get(&p, "GPP_B");
    assert_false(e.has_value); /* missing value ⇒ unchanged */
    assert_int_equal(e.ua, PV_UA_RW);
    assert_false(get(&p, "GPP_C").has_value);
    e = get(&p, "GPP_D");
    assert_true(e.has_value);
    assert_slice_equal(e.value, "");
    assert_round_trip(&p);
    pv_params_free(&p);
}

static void quoting_and_overlays(void **state)
{
    pv_params p = parse_ok("A \"say \\\"hi\\\" \\\\ c:\\dir\\n\";\n"
                           "B \"two\nlines # not a comment ; \";\n"
                           "C\n!\n\"split\"\n;",
                           NULL);
    assert_string_equal(pv_params_value(&p, "A"), "say \"hi\" \\ c:\\dir\\n");
    assert_string_equal(pv_params_value(&p, "B"), "two\nlines # not a comment ; ");
    assert_string_equal(pv_params_value(&p, "C"), "split");
    assert_round_trip(&p);
    pv_buf q = {0};
    pv_text_quote(&q, pv_slice_from("a\"b\\c"));
    assert_string_equal(q.data, "\"a\\\"b\\\\c\"");
    pv_buf_free(&q);
    pv_params_free(&p);

    /* as an overlay, a bare name keeps the phone's access */
    pv_params base = {0};
    pv_params_set_str(&base, "A", "1", PV_UA_RW);
    pv_text_opts opts = {.bare_keeps_access = true};
    assert_int_equal(pv_text_parse(pv_slice_from("A \"2\";"), &base, &opts, NULL), 0);
    assert_int_equal(get(&base, "A").ua, PV_UA_RW);
    assert_string_equal(pv_params_value(&base, "A"), "2");
    pv_params_free(&base);
}

static void serializer_writes_brackets_and_markers(void **state)
{
    pv_params p = {0};
    pv_params_set_str(&p, "Proxy_1_", "sip.service.com", PV_UA_NA);
    pv_params_set_str(&p, "Line_Enable_1_", "Yes", PV_UA_RW);
    pv_params_set_str(&p, "Default_Ring__1__", "1", PV_UA_RO);
    pv_params_set_str(&p, "GPP_B", NULL, PV_UA_RW);
    pv_params_set_str(&p, "Q", "a\"b", PV_UA_UNSET);
    pv_buf out = {0};
    assert_int_equal(pv_text_serialize(&p, &out, NULL), 0);
    assert_string_equal(out.data, "Proxy[1] \"sip.service.com\";\n"
                                  "Line_Enable[1] ! \"Yes\";\n"
                                  "Default_Ring__1__ ? \"1\";\n"
                                  "GPP_B !;\n"
                                  "Q \"a\\\"b\";\n");
    pv_buf_free(&out);
    pv_param nul = {PV_SLICE_LIT("N"), {"a\0b", 3}, true, false, PV_UA_NA};
    pv_params_set(&p, &nul, NULL);
    pv_error err;
    assert_int_equal(pv_text_serialize(&p, &out, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "N: the value holds a NUL"));
    pv_buf_free(&out);
    pv_params_free(&p);
}

static void errors_name_line_and_column(void **state)
{
    pv_profile_pos where;
    pv_text_opts opts = {.where = &where};
    parse_fails("A \"1\";\nB \"2\"\nC \"3\";\n", &opts, PV_ESYNTAX,
                "line 3, column 1: expected ';'");
    assert_int_equal(where.line, 3);
    assert_int_equal(where.column, 1);
    assert_string_equal(where.file, "");
    parse_fails("A \"1\";\n  B\n", NULL, PV_ESYNTAX,
                "line 3, column 1: expected '!', '?', a quoted value or ';'");
    parse_fails("A \"1\";\nB \"open\n\n", NULL, PV_ESYNTAX,
                "line 2, column 3: unterminated quoted value");
    parse_fails("\"x\";", NULL, PV_ESYNTAX, "line 1, column 1: expected a parameter name");
    parse_fails("1abc \"x\";", NULL, PV_ESYNTAX, "'1abc' is not a parameter name");
    parse_fails("A ! ? \"x\";", NULL, PV_ESYNTAX, "line 1, column 5: expected");
    parse_fails("A \"x\0\";", NULL, PV_ESYNTAX, "expected"); /* C string stops at the NUL */
    pv_params p = {0};
    pv_error err;
    assert_int_equal(pv_text_parse(pv_slice_make("A \"x\0\";", 7), &p, NULL, &err), PV_ESYNTAX);
    assert_non_null(strstr(err.msg, "line 1, column 5: NUL byte"));
    pv_params_free(&p);
    parse_fails("import other.txt\n", NULL, PV_ENOTSUP, "imports are not available");
}

/* An in-memory "file system" for imports. */
typedef struct files {
    const char *names[6];
    const char *texts[6];
    int calls;
} files;

static int read_import(void *ctx, const char *name, pv_buf *content, pv_error *err)
{
    files *f = ctx;
    f->calls++;
    for (int i = 0; i < 6 && f->names[i] != NULL; i++) {
        if (strcmp(f->names[i], name) == 0) {
            pv_buf_append_str(content, f->texts[i]);
            return 0;
        }
    }
    return pv_error_set(err, PV_ENOENT, "no such file");
}

static void imports_splice_and_are_bounded(void **state)
{
    files f = {{"common.txt", "lines.txt", "a.txt", "b.txt", "bad.txt", "diamond.txt"},
               {"Resync_Periodic \"3600\";\nimport lines.txt\n", "Line_Enable[1] ! \"Yes\";",
                "A \"1\";\nimport b.txt\n", "B \"2\";\nimport a.txt\n", "X \"1\";\n\nY \"2\" Z;\n",
                "import diamond.txt\n"},
               0};
    pv_text_opts opts = {.import = read_import, .import_ctx = &f};
    pv_params p = parse_ok("Resync_Periodic \"7200\";\n"
                           "import common.txt\n"
                           "  import   lines.txt  ;\n"
                           "Profile_Rule \"/x\";\n"
                           "import;\n", /* a parameter called import */
                           &opts);
    assert_string_equal(pv_params_value(&p, "Resync_Periodic"), "3600");
    assert_string_equal(pv_params_value(&p, "Line_Enable_1_"), "Yes");
    assert_string_equal(pv_params_value(&p, "Profile_Rule"), "/x");
    assert_true(pv_params_get(&p, pv_slice_from("import"), NULL));
    /* ...which must not be written back as an import directive (found by fuzz_text) */
    pv_params_set_str(&p, "import", " \\ bye", PV_UA_RW);
    assert_round_trip(&p);
    assert_int_equal(f.calls, 3);
    pv_params_free(&p);

    pv_profile_pos where;
    opts.where = &where;
    parse_fails("import a.txt\n", &opts, PV_ESYNTAX,
                "b.txt: line 2, column 1: import a.txt: cycle");
    assert_string_equal(where.file, "b.txt");
    assert_int_equal(where.line, 2);
    parse_fails("\nimport bad.txt\n", &opts, PV_ESYNTAX, "bad.txt: line 3, column 7: expected ';'");
    assert_string_equal(where.file, "bad.txt");
    parse_fails("import missing.txt\n", &opts, PV_ENOENT,
                "line 1, column 1: import missing.txt: no such file");
    parse_fails("import diamond.txt\n", &opts, PV_ESYNTAX, "cycle");
    /* an import back to the input itself, when the input has a name */
    opts.name = "a.txt";
    parse_fails("import b.txt\n", &opts, PV_ESYNTAX,
                "b.txt: line 2, column 1: import a.txt: cycle");
    opts.name = NULL;
    pv_profile_limits lim = {.max_depth = 1};
    opts.limits = &lim;
    parse_fails("import common.txt\n", &opts, PV_ELIMIT,
                "common.txt: line 2, column 1: imports nested deeper than 1");
    lim = (pv_profile_limits){.max_input = 40};
    parse_fails("import common.txt\n", &opts, PV_ETOOBIG, "sources larger than 40 bytes");
}

static void limits_hold(void **state)
{
    /* "import" mid-line is a parameter name, and a long line of them stays linear */
    pv_buf line = {0};
    for (int i = 0; i < 200000; i++)
        pv_buf_append_str(&line, "import ;");
    pv_params big = {0};
    assert_int_equal(pv_text_parse(pv_buf_slice(&line), &big, NULL, NULL), PV_ESYNTAX);
    pv_buf_reset(&line);
    pv_buf_append_str(&line, "A;");
    for (int i = 0; i < 200000; i++)
        pv_buf_append_str(&line, "import ;");
    assert_int_equal(pv_text_parse(pv_buf_slice(&line), &big, NULL, NULL), 0);
    assert_int_equal(pv_params_count(&big), 2);
    pv_params_free(&big);
    pv_buf_free(&line);

    pv_profile_limits lim = {.max_params = 2, .max_value = 4};
    pv_text_opts opts = {.limits = &lim};
    parse_fails("A;B;A;C;", &opts, PV_ELIMIT, "line 1, column 7: more than 2 parameters");
    parse_fails("A \"12345\";", &opts, PV_ELIMIT, "value longer than 4 bytes");
    pv_params p = parse_ok("A \"1234\";", &opts);
    pv_params_free(&p);
}

/* Text and XML describe the same sets (except what text cannot say). */
static void text_to_xml_and_back(void **state)
{
    pv_params p =
        parse_ok("Proxy[1] \"sip.service.com\";\nGPP_B !;\nDial_Plan[1] ? \"(xx.)\";\n", NULL);
    pv_buf xml = {0};
    assert_int_equal(pv_xml_serialize(&p, &xml, NULL), 0);
    assert_non_null(strstr(xml.data, "<Proxy_1_ ua=\"na\">sip.service.com</Proxy_1_>"));
    assert_non_null(strstr(xml.data, "<GPP_B ua=\"rw\"/>"));
    pv_params back = {0};
    assert_int_equal(pv_xml_parse(pv_buf_slice(&xml), &back, NULL, NULL), 0);
    assert_true(pv_params_equal(&p, &back));
    pv_buf_free(&xml);
    pv_params_free(&back);
    pv_params_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_syntax),
        cmocka_unit_test(quoting_and_overlays),
        cmocka_unit_test(serializer_writes_brackets_and_markers),
        cmocka_unit_test(errors_name_line_and_column),
        cmocka_unit_test(imports_splice_and_are_bounded),
        cmocka_unit_test(limits_hold),
        cmocka_unit_test(text_to_xml_and_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
