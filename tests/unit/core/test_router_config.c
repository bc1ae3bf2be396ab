/*
 * Unit tests for core/router_config and pv_xml_serialize_for_model: the
 * server writes the router half of an SPA100/ATA19x profile inside
 * <router-configuration>, under the headings the real-world profiles use
 * (tests/data/realworld/profiles, C-ATAPAR, SPA100-PG), and a phone reads it
 * back to the same parameters. The corpus is walked with expat here, heading
 * by heading, independently of the parser under test.
 */
#include "pv_test.h"

#include "core/router_config.h"
#include "core/xml_profile.h"

#include <expat.h>

#define MAX_LEAVES 64

/* What a walk of a profile saw: each element inside <router-configuration> that holds
 * text only, and the headings between it and <router-configuration> ("A/B"). */
typedef struct walk {
    char stack[8][64];
    unsigned depth, rc_depth;
    bool had_child[8];
    char leaf[MAX_LEAVES][64], path[MAX_LEAVES][128];
    size_t n;
} walk;

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **atts)
{
    walk *w = data;
    (void)atts;
    if (w->depth > 0)
        w->had_child[w->depth - 1] = true;
    if (w->depth < 8) {
        snprintf(w->stack[w->depth], 64, "%s", name);
        w->had_child[w->depth] = false;
    }
    w->depth++;
    if (strcmp(name, "router-configuration") == 0)
        w->rc_depth = w->depth;
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
    walk *w = data;
    w->depth--;
    if (w->rc_depth != 0 && w->depth >= w->rc_depth && !w->had_child[w->depth] &&
        w->n < MAX_LEAVES) {
        snprintf(w->leaf[w->n], 64, "%s", name);
        w->path[w->n][0] = '\0';
        for (unsigned d = w->rc_depth; d < w->depth; d++) {
            size_t l = strlen(w->path[w->n]);
            snprintf(w->path[w->n] + l, 128 - l, "%s%s", l ? "/" : "", w->stack[d]);
        }
        w->n++;
    }
    if (w->depth + 1 == w->rc_depth)
        w->rc_depth = 0;
}

static void walk_xml(const char *xml, size_t len, walk *w)
{
    memset(w, 0, sizeof *w);
    XML_Parser p = XML_ParserCreate("UTF-8");
    XML_SetUserData(p, w);
    XML_SetElementHandler(p, on_start, on_end);
    assert_int_equal(XML_Parse(p, xml, (int)len, 1), XML_STATUS_OK);
    XML_ParserFree(p);
}

static const char *corpus[] = {"ata191_router_all.xml", "ata_dhcp_pool.xml",
                               "ata_snmp_tr069.xml",    "ata_wan_static.xml",
                               "fus_spa112.xml",        "nix_spa112.xml",
                               "spa122_router.xml"};

/* Every heading the real-world profiles put a parameter under is the table's. */
static void table_matches_the_corpus(void **state)
{
    const char *src = getenv("PV_SRC");
    if (src == NULL)
        skip();
    size_t leaves = 0;
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/tests/data/realworld/profiles/%s", src, corpus[i]);
        size_t len;
        char *xml = pv_test_read_file(path, &len);
        walk w;
        walk_xml(xml, len, &w);
        assert_true(w.n > 0);
        for (size_t k = 0; k < w.n; k++) {
            const char *sec = pv_router_config_section(pv_slice_from(w.leaf[k]));
            if (sec == NULL)
                fail_msg("%s: <%s> (under '%s') is not in the router table", corpus[i],
                         w.leaf[k], w.path[k]);
            if (strcmp(sec, w.path[k]) != 0)
                fail_msg("%s: <%s> is under '%s', the table says '%s'", corpus[i], w.leaf[k],
                         w.path[k], sec);
            leaves++;
        }
        free(xml);
    }
    print_message("%zu router parameters of the corpus placed as the table says\n", leaves);
}

/* The server's output for an ATA has the corpus sample's shape, and parses back whole. */
static void serialized_like_the_sample(void **state)
{
    const char *src = getenv("PV_SRC");
    if (src == NULL)
        skip();
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/realworld/profiles/ata191_router_all.xml", src);
    size_t len;
    char *xml = pv_test_read_file(path, &len);
    pv_params set = {0};
    pv_error err;
    assert_int_equal(pv_xml_parse(pv_slice_make(xml, len), &set, NULL, &err), 0);
    const char *models[] = {"ATA191", "ATA192-MPP", "SPA112", "spa122"};
    for (size_t m = 0; m < 4; m++) {
        pv_buf out = {0};
        assert_int_equal(pv_xml_serialize_for_model(&set, models[m], &out, &err), 0);
        walk want, got;
        walk_xml(xml, len, &want);
        walk_xml(out.data, out.len, &got);
        assert_int_equal(got.n, want.n);
        for (size_t k = 0; k < want.n; k++) {
            bool found = false;
            for (size_t j = 0; j < got.n && !found; j++)
                found = strcmp(got.leaf[j], want.leaf[k]) == 0 &&
                        strcmp(got.path[j], want.path[k]) == 0;
            if (!found)
                fail_msg("%s: <%s> not under '%s' in:\n%s", models[m], want.leaf[k],
                         want.path[k], out.data);
        }
        pv_params back = {0};
        assert_int_equal(pv_xml_parse(pv_buf_slice(&out), &back, NULL, &err), 0);
        assert_int_equal(pv_params_count(&back), pv_params_count(&set));
        size_t it = 0;
        pv_param p;
        while (pv_params_next(&set, &it, &p)) {
            pv_param q;
            assert_true(pv_params_get(&back, p.name, &q));
            assert_true(pv_slice_eq(p.value, q.value));
        }
        pv_params_free(&back);
        pv_buf_free(&out);
    }
    /* every other model gets the flat form */
    pv_buf flat = {0};
    assert_int_equal(pv_xml_serialize_for_model(&set, "CP-8841-3PCC", &flat, &err), 0);
    assert_null(strstr(flat.data, "router-configuration"));
    assert_non_null(strstr(flat.data, "  <Time_Zone>GMT+01:00</Time_Zone>\n"));
    pv_buf_free(&flat);
    pv_params_free(&set);
    free(xml);
}

static void models(void **state)
{
    assert_true(pv_router_config_model("SPA112"));
    assert_true(pv_router_config_model("SPA122"));
    assert_true(pv_router_config_model("ATA191"));
    assert_true(pv_router_config_model("ATA192-MPP"));
    assert_false(pv_router_config_model("SPA2102"));
    assert_false(pv_router_config_model("SPA504G"));
    assert_false(pv_router_config_model("SPA1"));
    assert_false(pv_router_config_model("CP-8841-3PCC"));
    assert_false(pv_router_config_model(NULL));
    assert_null(pv_router_config_section(pv_slice_from("Proxy_1_")));
    assert_string_equal(pv_router_config_section(pv_slice_from("WAN_Static_IP_NET")),
                        "WAN_Interface");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_matches_the_corpus),
        cmocka_unit_test(serialized_like_the_sample),
        cmocka_unit_test(models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
