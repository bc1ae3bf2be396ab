/* Unit tests for server/render and server/keys on a real store (SQLite; PostgreSQL in
 * integration.store_postgres): layering, placeholders, unknown placeholder errors,
 * encryption and cache, key rotation, one statement per render. */
#include "store/store_test.h"

#include "core/salted.h"
#include "core/xml_profile.h"
#include "server/keys.h"
#include "server/render.h"
#include "provisor/agent.h"

static void seed(pv_store *s, int64_t *account)
{
    pv_store_account a = {.name = "C-1",
                          .customer = "Agency",
                          .settings = "{\"line1\":{\"user_id\":\"1001\",\"ext\":42},"
                                      "\"dnd\":true,\"speed\":[{\"n\":\"555\"}]}"};
    assert_ok(pv_store_account_create(s, &a, 1000, account, e));
    pv_store_device d = {.mac = "000e08abcdef", .model = "SPA504G", .account_id = *account};
    assert_ok(pv_store_device_create(s, &d, 1000, e));
    assert_ok(pv_store_param_put(s, "global", "Proxy_1_", "global.example", NULL, 1000, e));
    assert_ok(pv_store_param_put(s, "global", "Station_Name", "st-{{mac_upper}}", "rw", 1000, e));
    assert_ok(pv_store_param_put(s, "model:SPA504G", "Dial_Plan_1_", "(x.)", NULL, 1000, e));
    assert_ok(pv_store_param_put(s, "account:1", "Proxy_1_", "acct.example", NULL, 1000, e));
    assert_ok(
        pv_store_param_put(s, "account:1", "User_ID_1_", "{{ line1.user_id }}", "ro", 1000, e));
    assert_ok(pv_store_param_put(s, "account:1", "Ext", "{{line1.ext}}/{{dnd}}/{{speed.0.n}}", NULL,
                                 1000, e));
    assert_ok(
        pv_store_param_put(s, "device:000e08abcdef", "Dial_Plan_1_", "(1xxx)", NULL, 1000, e));
}

static void layers_and_placeholders(void **state)
{
    store_fixture *f = *state;
    int64_t acct;
    seed(f->s, &acct);
    pv_prov_policy pol;
    pv_prov_policy_defaults(&pol);
    pv_render_options o = {.policy = &pol, .plain = true};
    pv_render_output out = {0};
    assert_ok(pv_render_device(f->s, "000e08abcdef", &o, &out, e));
    pv_params p = {0};
    assert_ok(pv_xml_parse(pv_buf_slice(&out.body), &p, NULL, e));
    assert_string_equal(pv_params_value(&p, "Proxy_1_"), "acct.example"); /* account > global */
    assert_string_equal(pv_params_value(&p, "Dial_Plan_1_"), "(1xxx)");   /* device > model */
    assert_string_equal(pv_params_value(&p, "Station_Name"), "st-000E08ABCDEF");
    assert_string_equal(pv_params_value(&p, "User_ID_1_"), "1001");
    assert_string_equal(pv_params_value(&p, "Ext"), "42/Yes/555");
    assert_string_equal(pv_params_value(&p, "Resync_Random_Delay"), "6"); /* DESIGN 8, SPA units */
    assert_null(pv_params_value(&p, "GPP_SA"));                           /* not bound: no key */
    pv_params_free(&p);
    pv_render_output_free(&out);
}

static void unknown_placeholder_is_an_error(void **state)
{
    store_fixture *f = *state;
    int64_t acct;
    seed(f->s, &acct);
    assert_ok(
        pv_store_param_put(f->s, "account:1", "Password_1_", "{{line1.password}}", NULL, 1001, e));
    pv_prov_policy pol;
    pv_prov_policy_defaults(&pol);
    pv_render_options o = {.policy = &pol, .plain = true};
    pv_render_output out = {0};
    pv_error err;
    assert_int_equal(pv_render_device(f->s, "000e08abcdef", &o, &out, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "Password_1_"));
    assert_non_null(strstr(err.msg, "line1.password"));
    pv_render_output_free(&out);
    pv_store_device d = {.mac = "000e08abcdef"};
    pv_buf b = {0};
    assert_int_equal(pv_render_expand("X", PV_SLICE_LIT("a{{mac"), &d, NULL, &b, &err), PV_ESYNTAX);
    assert_int_equal(pv_render_expand("X", PV_SLICE_LIT("{{account.name}}"), &d, NULL, &b, &err),
                     PV_EINVAL);
    assert_int_equal(pv_render_expand("X", PV_SLICE_LIT("{{serial}}"), &d, NULL, &b, &err),
                     PV_EINVAL); /* known but absent: never blank */
    pv_buf_free(&b);
}

/* seed() with a master key loaded and the device's first secret issued. */
static void seed_keyed(store_fixture *f, pv_store_secret *sec)
{
    char keyfile[320];
    snprintf(keyfile, sizeof keyfile, "%s/master.key", f->dir);
    assert_ok(pv_store_secrets_load(f->s, keyfile, true, e));
    int64_t acct;
    seed(f->s, &acct);
    assert_ok(pv_keys_issue(f->s, "000e08abcdef", 2000, sec, e));
    pv_store_account a = {0};
    assert_ok(pv_store_account_get(f->s, acct, &a, e));
    free(a.settings);
    a.settings = pv_strdup("{\"line1\":{\"user_id\":\"1001\",\"ext\":42,\"password\":\"pw-1001\"},"
                           "\"dnd\":true,\"speed\":[{\"n\":\"555\"}]}");
    assert_ok(
        pv_store_account_update(f->s, &a, 2000, NULL, e)); /* sealed: a master key is loaded */
    pv_store_account_free(&a);
    assert_ok(
        pv_store_param_put(f->s, "account:1", "Password_1_", "{{line1.password}}", "na", 2000, e));
}

static void encrypted_cached_and_rotated(void **state)
{
    store_fixture *f = *state;
    pv_store_secret first;
    seed_keyed(f, &first);
    pv_prov_policy pol;
    pv_prov_policy_defaults(&pol);
    pol.http_port = 8080;
    pv_render_cache *cache = pv_render_cache_new(16, 0);
    pv_keys_fetch kf;
    /* First fetch from the directory confirms it. */
    assert_ok(
        pv_keys_fetch_dir(f->s, "000e08abcdef", pv_slice_from(first.dir), 2001, 86400, &kf, e));
    assert_true(kf.confirmed_now);
    pv_render_options o = {
        .policy = &pol, .host = "prov", .serve = &kf.serve, .deliver = &kf.deliver, .cache = cache};
    pv_render_output a = {0}, b = {0};
    assert_ok(pv_render_device(f->s, "000e08abcdef", &o, &a, e));
    assert_ok(pv_render_device(f->s, "000e08abcdef", &o, &b, e));
    assert_false(a.cached);
    assert_true(b.cached);
    assert_string_equal(a.etag, b.etag);
    char pass[65];
    pv_keys_passphrase(&first, pass);
    pv_buf plain = {0};
    assert_ok(pv_salted_decrypt(pv_buf_slice(&a.body), pv_slice_from(pass), PV_MD_MD5, 1 << 20,
                                &plain, e)); /* SPA: md5 (DESIGN 7) */
    assert_non_null(strstr(plain.data, "<Profile_Rule>[--key $SA] http://prov:8080/$B/$MA.cfg"));
    /* the _B of the bootstrap/binding chain is cleared: one fetch per resync */
    assert_non_null(strstr(plain.data, "<Profile_Rule_B></Profile_Rule_B>"));
    /* encryption = aes128gcm is for multiplatform phones: this SPA still gets
     * AES-256-CBC with --key, which it can read (spec 4.1, 4.3) */
    pv_prov_policy gcm = pol;
    gcm.encryption = PV_PROV_ENC_RFC8188;
    pv_render_options og = o;
    og.policy = &gcm;
    og.cache = NULL;
    pv_render_output g = {0};
    assert_ok(pv_render_device(f->s, "000e08abcdef", &og, &g, e));
    assert_null(g.content_encoding);
    pv_buf gplain = {0};
    assert_ok(pv_salted_decrypt(pv_buf_slice(&g.body), pv_slice_from(pass), PV_MD_MD5, 1 << 20,
                                &gplain, e));
    assert_non_null(strstr(gplain.data, "<Profile_Rule>[--key $SA] http://prov:8080/$B/$MA.cfg"));
    assert_null(strstr(gplain.data, "IKM_HTTP_Encrypt_Content"));
    pv_buf_free(&gplain);
    pv_render_output_free(&g);
    /* A parameter change is a new content version. */
    assert_ok(pv_store_param_put(f->s, "global", "Proxy_1_", "g2", NULL, 2002, e));
    pv_render_output c = {0};
    assert_ok(pv_render_device(f->s, "000e08abcdef", &o, &c, e));
    assert_false(c.cached);
    assert_string_not_equal(c.etag, a.etag);
    /* Rotation: due after the period; old key serves, new one inside; old dir
     * answers until the new one is fetched. */
    assert_ok(pv_keys_fetch_dir(f->s, "000e08abcdef", pv_slice_from(first.dir), 2000 + 86400, 86400,
                                &kf, e));
    assert_true(kf.rotated);
    assert_int_equal(kf.serve.id, first.id);
    assert_int_not_equal(kf.deliver.id, first.id);
    pv_store_secret next = kf.deliver;
    assert_ok(pv_keys_fetch_dir(f->s, "000e08abcdef", pv_slice_from(first.dir), 2000 + 86401, 86400,
                                &kf, e));
    assert_int_equal(kf.serve.id, first.id);
    assert_int_equal(kf.deliver.id, next.id);
    assert_ok(pv_keys_fetch_dir(f->s, "000e08abcdef", pv_slice_from(next.dir), 2000 + 86402, 86400,
                                &kf, e));
    assert_true(kf.confirmed_now);
    pv_error err;
    assert_int_equal(pv_keys_fetch_dir(f->s, "000e08abcdef", pv_slice_from(first.dir), 2000 + 86403,
                                       86400, &kf, &err),
                     PV_ENOENT);
    assert_null(strstr(err.msg, first.dir)); /* never echo a directory */
    pv_buf_free(&plain);
    pv_render_output_free(&a);
    pv_render_output_free(&b);
    pv_render_output_free(&c);
    pv_render_cache_free(cache);
}

/* A render is one statement (issue 18: one round trip on PostgreSQL, where
 * integration.store_postgres runs this test too), the `device render` form
 * that reads the current secret as well, and the layers it read are the ones
 * that render. */
static void one_statement_per_render(void **state)
{
    store_fixture *f = *state;
    pv_store_secret sec;
    seed_keyed(f, &sec);
    pv_prov_policy pol;
    pv_prov_policy_defaults(&pol);
    pv_render_options o = {.policy = &pol, .host = "prov"}; /* serve NULL: the current secret */
    pv_render_output warm = {0}, out = {0};
    assert_ok(pv_render_device(f->s, "000e08abcdef", &o, &warm, e)); /* prepares the statement */
    uint64_t before = pv_store_statements(f->s);
    assert_ok(pv_render_device(f->s, "000e08abcdef", &o, &out, e));
    assert_int_equal(pv_store_statements(f->s) - before, 1);
    assert_string_equal(out.etag, warm.etag);
    char pass[65];
    pv_keys_passphrase(&sec, pass);
    pv_buf plain = {0};
    assert_ok(pv_salted_decrypt(pv_buf_slice(&out.body), pv_slice_from(pass), PV_MD_MD5, 1 << 20,
                                &plain, e));
    assert_non_null(strstr(plain.data, "<Proxy_1_>acct.example</Proxy_1_>"));
    assert_non_null(strstr(plain.data, "<Dial_Plan_1_>(1xxx)</Dial_Plan_1_>"));
    assert_non_null(strstr(plain.data, sec.dir)); /* GPP_B: the current secret delivered */
    /* an account setting sealed at rest (a password) renders in plain */
    assert_non_null(strstr(plain.data, ">pw-1001</Password_1_>"));
    pv_buf_free(&plain);
    pv_render_output_free(&warm);
    pv_render_output_free(&out);
}

/* The cache holds no more bytes than its budget (a clock sweep empties other slots), and a
 * body over an eighth of the budget is rendered each time rather than kept. */
static void cache_is_bounded_in_bytes(void **state)
{
    store_fixture *f = *state;
    int64_t acct;
    seed(f->s, &acct);
    char macs[16][13];
    for (int i = 0; i < 16; i++) {
        snprintf(macs[i], sizeof macs[i], "000e08cc00%02x", i);
        pv_store_device d = {.model = "SPA504G", .account_id = acct};
        memcpy(d.mac, macs[i], sizeof d.mac);
        assert_ok(pv_store_device_create(f->s, &d, 1000, e));
    }
    pv_prov_policy pol;
    pv_prov_policy_defaults(&pol);
    pv_render_options o = {.policy = &pol, .plain = true};
    pv_render_output one = {0};
    assert_ok(pv_render_device(f->s, macs[0], &o, &one, e));
    size_t size = one.body.len; /* every device renders to the same length here */
    pv_render_output_free(&one);

    o.cache = pv_render_cache_new(64, 10 * size);
    for (int i = 0; i < 16; i++) {
        pv_render_output out = {0};
        assert_ok(pv_render_device(f->s, macs[i], &o, &out, e));
        assert_int_equal(out.body.len, size);
        assert_true(pv_render_cache_bytes(o.cache) <= 10 * size);
        pv_render_output_free(&out);
    }
    assert_true(pv_render_cache_bytes(o.cache) >= 8 * size); /* full, not emptied */
    pv_render_output again = {0};
    assert_ok(pv_render_device(f->s, macs[15], &o, &again, e)); /* the newest stays */
    assert_true(again.cached);
    pv_render_output_free(&again);
    pv_render_cache_free(o.cache);

    o.cache = pv_render_cache_new(64, 4 * size); /* size > budget / 8 */
    pv_render_output a = {0}, b = {0};
    assert_ok(pv_render_device(f->s, macs[0], &o, &a, e));
    assert_ok(pv_render_device(f->s, macs[0], &o, &b, e));
    assert_false(b.cached);
    assert_int_equal(pv_render_cache_bytes(o.cache), 0);
    pv_render_output_free(&a);
    pv_render_output_free(&b);
    pv_render_cache_free(o.cache);
}

/* C-ATAPAR, spec 3.1: an ATA 19x gets its router parameters inside <router-configuration>,
 * rendered from the account's parameters, and an emulated ATA reads them back. */
static void ata_router_configuration(void **state)
{
    store_fixture *f = *state;
    pv_store_account a = {.name = "lobby", .settings = "{\"tz\":\"GMT+01:00\"}"};
    int64_t acct;
    assert_ok(pv_store_account_create(f->s, &a, 1000, &acct, e));
    pv_store_device d = {.mac = "000e08a19100", .model = "ATA191", .account_id = acct};
    assert_ok(pv_store_device_create(f->s, &d, 1000, e));
    char scope[32];
    snprintf(scope, sizeof scope, "account:%lld", (long long)acct);
    assert_ok(pv_store_param_put(f->s, scope, "Time_Zone", "{{tz}}", NULL, 1000, e));
    assert_ok(pv_store_param_put(f->s, scope, "WAN_Connection_Type", "dhcp", NULL, 1000, e));
    assert_ok(pv_store_param_put(f->s, scope, "Local_IP", "192.168.15.1", NULL, 1000, e));
    assert_ok(pv_store_param_put(f->s, scope, "Proxy_1_", "sip.example.net", NULL, 1000, e));
    pv_prov_policy pol;
    pv_prov_policy_defaults(&pol);
    pv_render_options o = {.policy = &pol, .plain = true};
    pv_render_output out = {0};
    assert_ok(pv_render_device(f->s, "000e08a19100", &o, &out, e));
    const char *xml = out.body.data;
    assert_non_null(strstr(xml, "  <router-configuration>\n"));
    assert_non_null(strstr(xml, "    <Time_Setup>\n      <Time_Zone>GMT+01:00</Time_Zone>\n"));
    assert_non_null(strstr(xml, "    <WAN_Interface>\n      <WAN_Connection_Type>dhcp<"));
    assert_non_null(strstr(xml, "    <DHCP_Server_Pool>\n      <Rule>\n        <Local_IP>"));
    assert_non_null(strstr(xml, "\n  <Proxy_1_>sip.example.net</Proxy_1_>\n")); /* voice: flat */
    /* the phone side: an emulated ATA applies it as a profile */
    pv_agent_defaults *defs = pv_agent_defaults_new(PV_AGENT_ATA);
    pv_agent_identity id = {.mac = "000e08a19100", .model = "ATA191"};
    pv_agent *ag;
    assert_ok(pv_agent_new(&ag, defs, &id, 1, e));
    assert_ok(pv_agent_apply_config(ag, 0, PV_AGENT_ADMIN, out.body.data, out.body.len, e));
    const char *v;
    assert_ok(pv_agent_get(ag, PV_AGENT_ADMIN, "Time_Zone", &v));
    assert_string_equal(v, "GMT+01:00");
    assert_ok(pv_agent_get(ag, PV_AGENT_ADMIN, "WAN_Connection_Type", &v));
    assert_string_equal(v, "dhcp");
    assert_ok(pv_agent_get(ag, PV_AGENT_ADMIN, "Local_IP", &v));
    assert_string_equal(v, "192.168.15.1");
    assert_int_not_equal(pv_agent_get(ag, PV_AGENT_ADMIN, "Time_Setup", &v), 0);
    pv_agent_free(ag);
    pv_agent_defaults_free(defs);
    pv_render_output_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(layers_and_placeholders),      STORE_TEST(unknown_placeholder_is_an_error),
        STORE_TEST(encrypted_cached_and_rotated), STORE_TEST(one_statement_per_render),
        STORE_TEST(cache_is_bounded_in_bytes),    STORE_TEST(ata_router_configuration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
