/* Unit tests for the store's entities on a real SQLite file: accounts,
 * devices, codes, rate limits, parameter sets, firmware, plans, reports,
 * tokens, audit log, everything one render reads; pagination and constraints. */
/* Covers src/store/store_accounts.c, store_devices.c, store_params.c, store_secrets.c,
 * store_render.c and store_notify.c (device action jobs). */
#include "store_test.h"

#include "store/store_int.h" /* pv__sha256_hex: a row as schema step 1 wrote it */

static pv_store *S(void **state)
{
    return ((store_fixture *)*state)->s;
}

static int64_t make_account(pv_store *s, const char *name)
{
    pv_store_account a = {.name = (char *)name, .customer = "Customer", .settings = "{}"};
    int64_t id = 0;
    assert_ok(pv_store_account_create(s, &a, 100, &id, e));
    return id;
}

static void accounts_crud_and_versions(void **state)
{
    pv_store *s = S(state);
    pv_store_account a = {.name = "acme-1001",
                          .customer = "ACME Ltd",
                          .settings = "{\"lines\":[{\"user\":\"1001\"}],\"hunt_group\":\"sales\"}"};
    int64_t id = 0;
    assert_ok(pv_store_account_create(s, &a, 100, &id, e));
    assert_true(id > 0);

    pv_store_account got = {0};
    assert_ok(pv_store_account_get(s, id, &got, e));
    assert_string_equal(got.name, "acme-1001");
    assert_string_equal(got.customer, "ACME Ltd");
    assert_string_equal(got.settings, a.settings);
    assert_int_equal(got.version, 1);
    assert_int_equal(got.created_at, 100);

    /* Update with the version read: bumps it. A stale version conflicts. */
    free(got.customer);
    got.customer = pv_strdup("ACME Limited");
    int64_t v = 0;
    assert_ok(pv_store_account_update(s, &got, 200, &v, e));
    assert_int_equal(v, 2);
    pv_error err;
    assert_int_equal(pv_store_account_update(s, &got, 300, NULL, &err), PV_ECONFLICT);
    assert_non_null(strstr(err.msg, "changed meanwhile"));
    pv_store_account_free(&got);

    assert_ok(pv_store_account_get_by_name(s, "acme-1001", &got, e));
    assert_string_equal(got.customer, "ACME Limited");
    assert_int_equal(got.updated_at, 200);
    pv_store_account_free(&got);

    /* Constraints with clear messages. */
    assert_int_equal(pv_store_account_create(s, &a, 100, NULL, &err), PV_EEXIST);
    assert_non_null(strstr(err.msg, "acme-1001"));
    pv_store_account bad = {.name = "x", .settings = "[1,2]"};
    assert_int_equal(pv_store_account_create(s, &bad, 100, NULL, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "JSON object"));
    bad.settings = "{\"a\":";
    assert_int_equal(pv_store_account_create(s, &bad, 100, NULL, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "line 1"));
    assert_int_equal(pv_store_account_get(s, 9999, &got, &err), PV_ENOENT);
    assert_non_null(strstr(err.msg, "9999"));

    /* Delete: its devices stay, unassigned; its parameter layer goes. */
    char scope[32];
    snprintf(scope, sizeof scope, "account:%lld", (long long)id);
    assert_ok(pv_store_param_put(s, scope, "Display_Name_1_", "ACME", NULL, 1, e));
    pv_store_device d = {.mac = "001122334455", .account_id = id};
    assert_ok(pv_store_device_create(s, &d, 1, e));
    assert_ok(pv_store_account_delete(s, id, e));
    pv_store_device dev = {0};
    assert_ok(pv_store_device_get(s, "00:11:22:33:44:55", &dev, e));
    assert_int_equal(dev.account_id, 0);
    pv_store_device_free(&dev);
    int64_t pv = 99;
    assert_ok(pv_store_params_version(s, scope, &pv, e));
    assert_int_equal(pv, 0);
    assert_int_equal(pv_store_account_delete(s, id, NULL), PV_ENOENT);
}

static void devices_crud_states_and_duplicates(void **state)
{
    pv_store *s = S(state);
    int64_t acct = make_account(s, "a1");
    pv_store_device d = {.mac = "000E08AABBCC", .model = "CP-8841-3PCC", .serial = "SN1"};
    assert_ok(pv_store_device_create(s, &d, 10, e));
    pv_error err;
    /* The same MAC in another spelling is the same device (spec 2.2 $MA form). */
    strcpy(d.mac, "000e08aabbcc");
    assert_int_equal(pv_store_device_create(s, &d, 10, &err), PV_EEXIST);
    assert_non_null(strstr(err.msg, "000e08aabbcc"));
    strcpy(d.mac, "000e08aabbc");
    assert_int_equal(pv_store_device_create(s, &d, 10, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "12 hex digits"));
    strcpy(d.mac, "000e08aabbcg");
    assert_int_equal(pv_store_device_create(s, &d, 10, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "column 12"));

    pv_store_device got = {0};
    assert_ok(pv_store_device_get(s, "000E08AABBCC", &got, e));
    assert_string_equal(got.mac, "000e08aabbcc");
    assert_string_equal(got.model, "CP-8841-3PCC");
    assert_int_equal(got.state, PV_STATE_MFG_RESET);
    assert_int_equal(got.version, 1);
    assert_null(got.firmware_version);

    /* Full update, then the state machine's compare-and-set. */
    got.require_cert = true;
    got.account_id = acct;
    got.state = PV_STATE_SP_CUST;
    got.cert_fingerprint = pv_strdup("ab12");
    assert_ok(pv_store_device_update(s, &got, 20, e));
    pv_store_device_free(&got);
    assert_ok(
        pv_store_device_set_state(s, "000e08aabbcc", PV_STATE_SP_CUST, PV_STATE_SEC_PRV_1, 30, e));
    assert_int_equal(pv_store_device_set_state(s, "000e08aabbcc", PV_STATE_SP_CUST,
                                               PV_STATE_SEC_PRV_1, 30, &err),
                     PV_ECONFLICT);
    assert_non_null(strstr(err.msg, "state is SEC-PRV-1, not SP-CUST"));

    /* A fetch is recorded without bumping the content version. */
    assert_ok(pv_store_device_seen(s, "000e08aabbcc", 40, "sip88xx.12-0-1MPP-1", "v7", "ff00",
                                     "192.0.2.7", e));
    assert_ok(pv_store_device_seen(s, "000e08aabbcc", 50, NULL, NULL, NULL, NULL, e));
    assert_ok(pv_store_device_get(s, "000e08aabbcc", &got, e));
    assert_int_equal(got.state, PV_STATE_SEC_PRV_1);
    assert_true(got.require_cert);
    assert_int_equal(got.account_id, acct);
    assert_string_equal(got.cert_fingerprint, "ab12");
    assert_int_equal(got.last_seen, 50);
    assert_string_equal(got.firmware_version, "sip88xx.12-0-1MPP-1");
    assert_string_equal(got.served_version, "v7");
    assert_string_equal(got.served_hash, "ff00");
    assert_string_equal(got.last_address, "192.0.2.7"); /* kept by a fetch that names none */
    assert_int_equal(got.version, 3);
    pv_store_device_free(&got);

    /* Unknown account: a foreign key, explained. */
    d = (pv_store_device){.mac = "aabbccddeeff", .account_id = 4242};
    assert_int_equal(pv_store_device_create(s, &d, 10, &err), PV_ENOENT);
    assert_non_null(strstr(err.msg, "account 4242 does not exist"));
    assert_int_equal(pv_store_device_assign(s, "aabbccddeeff", acct, 1, &err), PV_ENOENT);
    assert_int_equal(pv_store_device_seen(s, "aabbccddeeff", 1, NULL, NULL, NULL, NULL, &err), PV_ENOENT);
    assert_ok(pv_store_device_delete(s, "000e08aabbcc", e));
    assert_int_equal(pv_store_device_get(s, "000e08aabbcc", &got, &err), PV_ENOENT);
    assert_non_null(strstr(err.msg, "no such device"));
}

static void device_upsert_is_idempotent(void **state)
{
    pv_store *s = S(state);
    int64_t acct = make_account(s, "imp");
    pv_store_device d = {.mac = "0a0b0c0d0e0f", .model = "SPA112", .account_id = acct};
    bool created = false;
    assert_ok(pv_store_device_upsert(s, &d, 1, &created, e));
    assert_true(created);
    assert_ok(pv_store_device_upsert(s, &d, 2, &created, e));
    assert_false(created);
    /* NULL keeps: a second import without serial does not erase it. */
    d.serial = "S-77";
    assert_ok(pv_store_device_upsert(s, &d, 3, &created, e));
    d.serial = NULL;
    d.model = NULL;
    d.account_id = 0;
    assert_ok(pv_store_device_upsert(s, &d, 4, &created, e));
    pv_store_device got = {0};
    assert_ok(pv_store_device_get(s, d.mac, &got, e));
    assert_string_equal(got.serial, "S-77");
    assert_string_equal(got.model, "SPA112");
    assert_int_equal(got.account_id, acct);
    assert_int_equal(got.version, 2); /* only the serial change bumped it */
    assert_int_equal(got.updated_at, 3);
    pv_store_device_free(&got);
}

static void device_pages_cover_everything_once(void **state)
{
    pv_store *s = S(state);
    int64_t a1 = make_account(s, "p1"), a2 = make_account(s, "p2");
    assert_ok(pv_store_begin(s, e));
    for (int i = 0; i < 250; i++) {
        pv_store_device d = {.account_id = i % 2 ? a1 : a2};
        snprintf(d.mac, sizeof d.mac, "00ff%08x", 250 - i);
        assert_ok(pv_store_device_upsert(s, &d, 1, NULL, e));
    }
    assert_ok(pv_store_commit(s, e));
    pv_store_page page = {.limit = 40};
    size_t total = 0, pages = 0;
    char prev[13] = "";
    do {
        pv_store_device *rows = NULL;
        size_t n = 0;
        assert_ok(pv_store_device_list(s, 0, &page, &rows, &n, e));
        for (size_t i = 0; i < n; i++) {
            assert_true(strcmp(prev, rows[i].mac) < 0); /* MAC order, no repeats */
            strcpy(prev, rows[i].mac);
        }
        total += n;
        pages++;
        pv_store_devices_free(rows, n);
    } while (page.after[0] != '\0');
    assert_int_equal(total, 250);
    assert_int_equal(pages, 7);
    /* Per account, and an exact multiple: the last page says so. */
    page = (pv_store_page){.limit = 125};
    pv_store_device *rows = NULL;
    size_t n = 0;
    assert_ok(pv_store_device_list(s, a1, &page, &rows, &n, e));
    assert_int_equal(n, 125);
    assert_string_equal(page.after, "");
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rows[i].account_id, a1);
    pv_store_devices_free(rows, n);
}

static void binding_codes_single_use_expiry_and_lock(void **state)
{
    store_fixture *f = *state;
    pv_store *s = S(state);
    char keyfile[320];
    snprintf(keyfile, sizeof keyfile, "%s/master.key", f->dir);
    int64_t acct = make_account(s, "retail-7");
    int64_t id = 0, got = 0;
    bool again = false;
    pv_error err;
    /* Codes are kept under the master key: none loaded, none made. */
    assert_int_equal(pv_store_code_create(s, acct, "1234abcd", 1000, 3, 100, &id, &err), PV_EACCES);
    assert_ok(pv_store_secrets_load(s, keyfile, true, e));
    assert_ok(pv_store_code_create(s, acct, "1234abcd", 1000, 5, 100, &id, e));
    /* Spec 12.2's example code binds once. */
    assert_ok(pv_store_code_redeem(s, "1234abcd", "000e08012345", "f1", 200, &got, &again, e));
    assert_int_equal(got, acct);
    assert_false(again);
    assert_int_equal(
        pv_store_code_redeem(s, "1234abcd", "000e08999999", "f2", 201, &got, &again, &err),
        PV_ECONFLICT);
    assert_non_null(strstr(err.msg, "already used"));
    assert_null(strstr(err.msg, "1234abcd")); /* never the whole code (DESIGN 5) */
    /* The phone that used it, same certificate, asking again: its answer was lost. */
    assert_ok(pv_store_code_redeem(s, "1234abcd", "000e08012345", "F1", 202, &got, &again, e));
    assert_true(again);
    assert_int_equal(
        pv_store_code_redeem(s, "1234abcd", "000e08012345", "f3", 203, &got, &again, &err),
        PV_ECONFLICT);
    assert_int_equal(
        pv_store_code_redeem(s, "nope-nope", "000e08999999", "f2", 201, &got, &again, &err),
        PV_ENOENT);

    assert_ok(pv_store_code_create(s, acct, "expire-me", 300, 0, 100, NULL, e));
    assert_int_equal(
        pv_store_code_redeem(s, "expire-me", "000e08012345", "f1", 300, &got, &again, &err),
        PV_ETIMEDOUT);
    assert_non_null(strstr(err.msg, "expired"));

    /* Too many attempts lock it, even once it would otherwise be valid. */
    assert_ok(pv_store_code_create(s, acct, "lock-me!", 5000, 2, 100, NULL, e));
    assert_int_equal(pv_store_code_redeem(s, "lock-me!", "zz", "f1", 200, &got, &again, &err),
                     PV_EINVAL);
    assert_ok(pv_store_code_create(s, acct, "guess-me", 5000, 1, 100, NULL, e));
    pv_store_code_redeem(s, "guess-me", "000e08012345", "f1", 6000, &got, &again,
                         NULL); /* expired: counted */
    assert_int_equal(
        pv_store_code_redeem(s, "guess-me", "000e08012345", "f1", 200, &got, &again, &err),
        PV_ELIMIT);
    assert_non_null(strstr(err.msg, "locked"));

    pv_store_page page = {0};
    pv_store_code *rows = NULL;
    size_t n = 0;
    assert_ok(pv_store_code_list(s, acct, &page, &rows, &n, e));
    assert_int_equal(n, 4);
    assert_int_equal(rows[0].used_at, 200);
    assert_string_equal(rows[0].used_by, "000e08012345");
    assert_string_equal(rows[0].hint, "12");
    assert_int_equal(rows[0].attempts, 4);
    assert_int_equal(rows[3].attempts, 2);
    free(rows);
    assert_int_equal(pv_store_code_create(s, acct, "1234abcd", 9000, 0, 100, NULL, &err),
                     PV_EEXIST);
    assert_int_equal(pv_store_code_create(s, 777, "other-code", 9000, 0, 100, NULL, &err),
                     PV_ENOENT);
    assert_int_equal(pv_store_code_create(s, acct, "late", 50, 0, 100, NULL, &err), PV_EINVAL);
    assert_ok(pv_store_code_delete(s, id, e));
    assert_int_equal(pv_store_code_delete(s, id, NULL), PV_ENOENT);
    /* Ids are never handed out twice, not even the last one's after its revocation
     * (issue 13: `code:4` in the audit log named two codes). */
    int64_t last = 0, next = 0;
    assert_ok(pv_store_code_create(s, acct, "last-code", 9000, 3, 100, &last, e));
    assert_ok(pv_store_code_delete(s, last, e));
    assert_ok(pv_store_code_create(s, acct, "next-code", 9000, 3, 100, &next, e));
    assert_true(next > last);

    /* A row from before schema step 2 (a bare SHA-256, keyed = 0) still
     * binds until it expires; a keyed row is never found by the bare hash. */
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO binding_codes (account_id, code_hash, hint, created_at, expires_at, "
             "max_attempts) VALUES (%lld, '%s', 'ol', 100, 5000, 5)",
             (long long)acct, "6f2f0b8bdbdbbd2c0b2c6d7b3e3a3c1be6d5d0e7de7e5a0c7b1d6f9e3a5f6b7c");
    char bare[65];
    pv__sha256_hex("old-code-1", bare);
    memcpy(strstr(sql, "6f2f"), bare, 64);
    store_test_sql(f->db, sql);
    assert_ok(pv_store_code_redeem(s, "old-code-1", "000e08012345", "f1", 200, &got, &again, e));
    assert_int_equal(got, acct);
}

static void rate_limit_windows(void **state)
{
    pv_store *s = S(state);
    int64_t count = 0;
    for (int i = 0; i < 3; i++)
        assert_ok(pv_store_rate_hit(s, "src:192.0.2.1", 1000 + i, 60, 3, &count, e));
    assert_int_equal(count, 3);
    assert_int_equal(pv_store_rate_hit(s, "src:192.0.2.1", 1010, 60, 3, &count, NULL), PV_ELIMIT);
    assert_int_equal(count, 4);
    assert_ok(pv_store_rate_hit(s, "src:192.0.2.2", 1010, 60, 3, &count, e)); /* per key */
    assert_int_equal(count, 1);
    assert_ok(pv_store_rate_hit(s, "src:192.0.2.1", 1020, 60, 3, &count, e)); /* new window */
    assert_int_equal(count, 1);
}

static void parameter_layers_and_versions(void **state)
{
    pv_store *s = S(state);
    assert_ok(pv_store_param_put(s, "global", "Resync_Periodic", "7200", NULL, 1, e));
    assert_ok(pv_store_param_put(s, "global", "Station_Name", "{{account.customer}}", "rw", 2, e));
    assert_ok(pv_store_param_put(s, "global", "Resync_Periodic", "3600", "na", 3, e));
    pv_store_param_set set = {0};
    assert_ok(pv_store_params_get(s, "global", &set, e));
    assert_int_equal(set.version, 3);
    assert_int_equal(set.n, 2);
    assert_string_equal(set.entries[0].name, "Resync_Periodic");
    assert_string_equal(set.entries[0].value, "3600");
    assert_string_equal(set.entries[0].ua, "na");
    assert_string_equal(set.entries[1].ua, "rw");
    pv_store_param_set_free(&set);

    pv_store_param repl[] = {{"Line_Enable_1_", "Yes", ""}, {"GPP_A", "", "ro"}};
    assert_ok(pv_store_params_replace(s, "device:000e08aabbcc", repl, 2, 5, e));
    int64_t v = 0;
    assert_ok(pv_store_params_version(s, "device:000e08aabbcc", &v, e));
    assert_int_equal(v, 1);
    assert_ok(pv_store_params_replace(s, "device:000e08aabbcc", repl, 1, 6, e));
    assert_ok(pv_store_params_get(s, "device:000e08aabbcc", &set, e));
    assert_int_equal(set.version, 2);
    assert_int_equal(set.n, 1);
    assert_string_equal(set.entries[0].ua, "");
    pv_store_param_set_free(&set);

    pv_error err;
    assert_int_equal(pv_store_param_put(s, "model", "a", "b", NULL, 1, &err), PV_EINVAL);
    assert_int_equal(pv_store_param_put(s, "device:000E08AABBCC", "a", "b", NULL, 1, &err),
                     PV_EINVAL);
    assert_int_equal(pv_store_param_put(s, "account:x1", "a", "b", NULL, 1, &err), PV_EINVAL);
    assert_int_equal(pv_store_param_put(s, "global", "a", "b", "yes", 1, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "na, ro or rw"));
    assert_int_equal(pv_store_param_delete(s, "global", "Nope", 9, &err), PV_ENOENT);
    assert_ok(pv_store_params_version(s, "global", &v, e));
    assert_int_equal(v, 3); /* the failed delete rolled back its version bump */
    assert_ok(pv_store_param_delete(s, "global", "Station_Name", 9, e));
    assert_ok(pv_store_param_put(s, "model:CP-8841-3PCC", "Upgrade_Enable", "Yes", NULL, 1, e));
    assert_ok(pv_store_param_put(s, "account:12", "Speed_Dial_2_", "100", "rw", 1, e));

    pv_store_page page = {.limit = 2};
    pv_store_param_set *rows = NULL;
    size_t n = 0;
    assert_ok(pv_store_params_list(s, &page, &rows, &n, e));
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].scope, "account:12");
    assert_string_equal(rows[1].scope, "device:000e08aabbcc");
    assert_string_equal(page.after, "device:000e08aabbcc");
    pv_store_param_sets_free(rows, n);
    assert_ok(pv_store_params_list(s, &page, &rows, &n, e));
    assert_int_equal(n, 2);
    assert_string_equal(page.after, "");
    pv_store_param_sets_free(rows, n);
    assert_ok(pv_store_params_delete(s, "model:CP-8841-3PCC", e));
    assert_int_equal(pv_store_params_get(s, "model:CP-8841-3PCC", &set, &err), PV_ENOENT);
}

static void firmware_and_plans(void **state)
{
    pv_store *s = S(state);
    pv_store_firmware f = {
        .model = "CP-8841-3PCC",
        .version = "sip88xx.12-0-1MPP-1",
        .file_name = "sip88xx.12-0-1MPP-1.loads",
        .sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        .size = 1234,
        .kind = "loads",
        .files = "[\"kern88xx.12-0-1MPP-1.sbn\",\"rootfs88xx.12-0-1MPP-1.sbn\"]",
    };
    int64_t id = 0;
    assert_ok(pv_store_firmware_add(s, &f, 1, &id, e));
    pv_error err;
    assert_int_equal(pv_store_firmware_add(s, &f, 1, NULL, &err), PV_EEXIST);
    assert_non_null(strstr(err.msg, "already registered"));
    pv_store_firmware bad = f;
    bad.kind = "zip";
    assert_int_equal(pv_store_firmware_add(s, &bad, 1, NULL, &err), PV_EINVAL);
    bad = f;
    bad.sha256 = "E3B0";
    assert_int_equal(pv_store_firmware_add(s, &bad, 1, NULL, &err), PV_EINVAL);
    pv_store_firmware spa = {.model = "SPA112",
                             .version = "1.4.1",
                             .file_name = "spa112.bin",
                             .sha256 = f.sha256,
                             .kind = "bin"};
    assert_ok(pv_store_firmware_add(s, &spa, 2, NULL, e));

    pv_store_firmware got = {0};
    assert_ok(pv_store_firmware_find(s, "CP-8841-3PCC", "sip88xx.12-0-1MPP-1", &got, e));
    assert_int_equal(got.id, id);
    assert_string_equal(got.files, f.files);
    assert_int_equal(got.size, 1234);
    pv_store_firmware_free(&got);
    assert_ok(pv_store_firmware_get(s, id, &got, e));
    assert_string_equal(got.kind, "loads");
    pv_store_firmware_free(&got);
    pv_store_page page = {0};
    pv_store_firmware *rows = NULL;
    size_t n = 0;
    assert_ok(pv_store_firmware_list(s, "SPA112", &page, &rows, &n, e));
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].files, "[]");
    pv_store_firmwares_free(rows, n);
    assert_ok(pv_store_firmware_delete(s, id, e));
    assert_int_equal(pv_store_firmware_get(s, id, &got, NULL), PV_ENOENT);

    pv_store_plan p = {.model = "CP-8841-3PCC",
                       .target_version = "sip88xx.12-0-1MPP-1",
                       .stages = "[[\"sip88xx.10-4-1MPP\",\"sip88xx.11-0-1MPP-376\"],"
                                 "[\"sip88xx.11-0-1MPP-376\",\"sip88xx.12-0-1MPP-1\"]]"};
    assert_ok(pv_store_plan_put(s, &p, 1, e));
    assert_ok(pv_store_plan_put(s, &p, 2, e));
    pv_store_plan gp = {0};
    assert_ok(pv_store_plan_get(s, "CP-8841-3PCC", &gp, e));
    assert_int_equal(gp.version, 2);
    assert_string_equal(gp.stages, p.stages);
    pv_store_plan_free(&gp);
    p.stages = "{}";
    assert_int_equal(pv_store_plan_put(s, &p, 3, &err), PV_EINVAL);
    pv_store_plan *plans = NULL;
    assert_ok(pv_store_plan_list(s, &page, &plans, &n, e));
    assert_int_equal(n, 1);
    pv_store_plans_free(plans, n);
    assert_ok(pv_store_plan_delete(s, "CP-8841-3PCC", e));
    assert_int_equal(pv_store_plan_get(s, "CP-8841-3PCC", &gp, NULL), PV_ENOENT);
}

/* Everything a render reads comes from one statement (issue 18): on PostgreSQL one round trip
 * once the statement is prepared on the connection, which its first run does. */
static void render_input_in_one_statement(void **state)
{
    store_fixture *f = *state;
    pv_store *s = f->s;
    char keyfile[320];
    snprintf(keyfile, sizeof keyfile, "%s/master.key", f->dir);
    assert_ok(pv_store_secrets_load(s, keyfile, true, e));
    int64_t acct = make_account(s, "r1");
    char scope[32];
    snprintf(scope, sizeof scope, "account:%lld", (long long)acct);
    pv_store_device d = {.mac = "000e08aabbcc", .model = "CP-8841-3PCC", .account_id = acct};
    assert_ok(pv_store_device_create(s, &d, 10, e));
    assert_ok(pv_store_param_put(s, "global", "Proxy_1_", "g", NULL, 1, e));
    assert_ok(pv_store_param_put(s, "global", "Dial_Plan_1_", "(x.)", "ro", 2, e));
    assert_ok(pv_store_param_put(s, "model:CP-8841-3PCC", "Codec", "G711u", NULL, 3, e));
    assert_ok(pv_store_param_put(s, scope, "Password_1_", "s3cret", "na", 4, e)); /* sealed */
    assert_ok(pv_store_param_put(s, "device:000e08aabbcc", "Station_Name", "desk", NULL, 5, e));
    assert_ok(pv_store_param_put(s, "model:SPA504G", "Other", "x", NULL, 6, e)); /* not its model */
    pv_store_firmware fw = {.model = "CP-8841-3PCC",
                            .version = "sip88xx.12-0-1MPP-1",
                            .file_name = "sip88xx.12-0-1MPP-1.loads",
                            .sha256 =
                                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                            .kind = "loads"};
    assert_ok(pv_store_firmware_add(s, &fw, 7, NULL, e));
    pv_store_plan plan = {.model = "CP-8841-3PCC", .target_version = "sip88xx.12-0-1MPP-1"};
    assert_ok(pv_store_plan_put(s, &plan, 8, e));
    pv_store_secret first, second;
    assert_ok(pv_store_secret_rotate(s, "000e08aabbcc", NULL, NULL, 9, &first, e));
    assert_ok(pv_store_secret_confirm(s, "000e08aabbcc", first.id, 10, e));
    assert_ok(pv_store_secret_rotate(s, "000e08aabbcc", NULL, NULL, 11, &second, e));

    pv_store_render_input in;
    assert_ok(pv_store_render_load(s, "00:0E:08:AA:BB:CC", true, &in, e)); /* warms the cache */
    pv_store_render_input_free(&in);
    uint64_t before = pv_store_statements(s);
    assert_ok(pv_store_render_load(s, "000e08aabbcc", true, &in, e));
    assert_int_equal(pv_store_statements(s) - before, 1);

    assert_string_equal(in.device.mac, "000e08aabbcc");
    assert_string_equal(in.device.model, "CP-8841-3PCC");
    assert_non_null(in.account);
    assert_string_equal(in.account->name, "r1");
    const pv_store_param_set *g = &in.sets[PV_LAYER_GLOBAL];
    assert_string_equal(g->scope, "global");
    assert_int_equal(g->version, 2);
    assert_int_equal(g->n, 2); /* in name order, as pv_store_params_get */
    assert_string_equal(g->entries[0].name, "Dial_Plan_1_");
    assert_string_equal(g->entries[0].ua, "ro");
    assert_string_equal(g->entries[1].value, "g");
    assert_string_equal(in.sets[PV_LAYER_MODEL].entries[0].value, "G711u");
    assert_int_equal(in.sets[PV_LAYER_MODEL].n, 1);
    assert_string_equal(in.sets[PV_LAYER_ACCOUNT].scope, scope);
    assert_string_equal(in.sets[PV_LAYER_ACCOUNT].entries[0].value, "s3cret"); /* opened */
    assert_string_equal(in.sets[PV_LAYER_DEVICE].entries[0].value, "desk");
    assert_non_null(in.plan);
    assert_string_equal(in.plan->target_version, "sip88xx.12-0-1MPP-1");
    assert_int_equal(in.nfirmware, 1);
    assert_string_equal(in.firmware[0].file_name, "sip88xx.12-0-1MPP-1.loads");
    /* The new secret, unconfirmed, and the confirmed one before it (pv_store_secret_get). */
    assert_true(in.has_secret);
    assert_true(in.has_previous);
    assert_int_equal(in.current.id, second.id);
    assert_memory_equal(in.current.key, second.key, sizeof second.key);
    assert_string_equal(in.current.dir, second.dir);
    assert_int_equal(in.previous.id, first.id);
    assert_string_equal(in.previous.dir, first.dir);
    pv_store_render_input_free(&in);

    /* Without secrets asked for, and a device with no account, model or sets of its own. */
    pv_store_device bare = {.mac = "000e08000001"};
    assert_ok(pv_store_device_create(s, &bare, 12, e));
    assert_ok(pv_store_render_load(s, "000e08000001", false, &in, e));
    assert_null(in.account);
    assert_null(in.plan);
    assert_false(in.has_secret);
    assert_int_equal(in.sets[PV_LAYER_GLOBAL].n, 2);
    assert_int_equal(in.sets[PV_LAYER_MODEL].id, 0);
    assert_int_equal(in.sets[PV_LAYER_ACCOUNT].version, 0);
    assert_int_equal(in.sets[PV_LAYER_DEVICE].n, 0);
    pv_store_render_input_free(&in);
    pv_error err;
    assert_int_equal(pv_store_render_load(s, "000e08999999", true, &in, &err), PV_ENOENT);
    assert_non_null(strstr(err.msg, "000e08999999"));
    pv_store_render_input_free(&in);
}

static void reports_keep_bytes_and_mark_last(void **state)
{
    pv_store *s = S(state);
    pv_store_device d = {.mac = "000e08aabbcc"};
    assert_ok(pv_store_device_create(s, &d, 1, e));
    const char body[] = "<flat-profile><GPP_A>x</GPP_A></flat-profile>\0tail";
    int64_t id1 = 0, id2 = 0;
    assert_ok(pv_store_report_add(s, "000e08aabbcc", "full", body, sizeof body, 10, &id1, e));
    assert_ok(pv_store_report_add(s, "000e08aabbcc", "status", "<s/>", 4, 20, &id2, e));
    pv_error err;
    assert_int_equal(pv_store_report_add(s, "000e08aabbcc", "weird", "", 0, 20, NULL, &err),
                     PV_EINVAL);
    assert_int_equal(pv_store_report_add(s, "ffffffffffff", "full", "x", 1, 20, NULL, &err),
                     PV_ENOENT);
    pv_store_device got = {0};
    assert_ok(pv_store_device_get(s, "000e08aabbcc", &got, e));
    assert_int_equal(got.last_report_id, id2);
    pv_store_device_free(&got);
    pv_store_report r = {0};
    assert_ok(pv_store_report_get(s, id1, &r, e));
    assert_int_equal(r.body_len, sizeof body); /* a NUL inside survives (bytea/BLOB) */
    assert_memory_equal(r.body, body, sizeof body);
    assert_string_equal(r.kind, "full");
    pv_store_report_free(&r);
    pv_store_page page = {.limit = 1};
    pv_store_report *rows = NULL;
    size_t n = 0;
    assert_ok(pv_store_report_list(s, "000e08aabbcc", &page, &rows, &n, e));
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, id1);
    pv_store_reports_free(rows, n);
    assert_ok(pv_store_report_list(s, NULL, &page, &rows, &n, e));
    assert_int_equal(rows[0].id, id2);
    assert_string_equal(page.after, "");
    pv_store_reports_free(rows, n);
    strcpy(page.after, "12abc");
    assert_int_equal(pv_store_report_list(s, NULL, &page, &rows, &n, &err), PV_EINVAL);
}

/* The ids of a device's reports, oldest first (all of them: one page). */
static size_t report_ids(pv_store *s, const char *mac, int64_t *ids, size_t max)
{
    pv_store_page page = {.limit = 100};
    pv_store_report *rows = NULL;
    size_t n = 0;
    assert_ok(pv_store_report_list(s, mac, &page, &rows, &n, e));
    assert_string_equal(page.after, "");
    assert_true(n <= max);
    for (size_t i = 0; i < n; i++)
        ids[i] = rows[i].id;
    pv_store_reports_free(rows, n);
    return n;
}

static void reports_are_kept_per_device(void **state)
{
    pv_store *s = S(state);
    pv_store_device a = {.mac = "000e08aaaaaa"}, b = {.mac = "000e08bbbbbb"};
    assert_ok(pv_store_device_create(s, &a, 1, e));
    assert_ok(pv_store_device_create(s, &b, 1, e));
    int64_t a_ids[25], b_ids[3], got[100];
    for (int i = 0; i < 25; i++) {
        char body[32];
        snprintf(body, sizeof body, "<r>%d</r>", i);
        assert_ok(
            pv_store_report_add(s, a.mac, "status", body, strlen(body), 100 + i, &a_ids[i], e));
        if (i < 3) /* another device's reports are not its neighbour's quota */
            assert_ok(pv_store_report_add(s, b.mac, "full", "<b/>", 4, 100 + i, &b_ids[i], e));
    }
    /* The 20 newest remain (PV_STORE_REPORTS_PER_DEVICE), in order. */
    assert_int_equal(report_ids(s, a.mac, got, 100), PV_STORE_REPORTS_PER_DEVICE);
    assert_memory_equal(got, a_ids + 5, 20 * sizeof got[0]);
    assert_int_equal(report_ids(s, b.mac, got, 100), 3);
    assert_memory_equal(got, b_ids, sizeof b_ids);
    /* last_report_id names a report that exists: the newest. */
    pv_store_device d = {0};
    assert_ok(pv_store_device_get(s, a.mac, &d, e));
    assert_int_equal(d.last_report_id, a_ids[24]);
    pv_store_device_free(&d);
    pv_store_report r = {0};
    assert_ok(pv_store_report_get(s, a_ids[24], &r, e));
    assert_memory_equal(r.body, "<r>24</r>", 9);
    pv_store_report_free(&r);
    pv_error err;
    assert_int_equal(pv_store_report_get(s, a_ids[4], &r, &err), PV_ENOENT);

    /* A provider's setting: the next report trims to it; 0 = the default. */
    pv_store_set_reports_per_device(s, 2);
    int64_t last = 0;
    assert_ok(pv_store_report_add(s, a.mac, "status", "<x/>", 4, 200, &last, e));
    assert_int_equal(report_ids(s, a.mac, got, 100), 2);
    assert_int_equal(got[0], a_ids[24]);
    assert_int_equal(got[1], last);
    pv_store_set_reports_per_device(s, 0);
    for (int i = 0; i < 21; i++)
        assert_ok(pv_store_report_add(s, a.mac, "status", "<x/>", 4, 300 + i, &last, e));
    assert_int_equal(report_ids(s, a.mac, got, 100), PV_STORE_REPORTS_PER_DEVICE);
    assert_int_equal(got[19], last);
}

static void tokens_and_audit(void **state)
{
    pv_store *s = S(state);
    const char *token = "pvt_0123456789abcdef0123456789";
    assert_ok(pv_store_token_create(s, "ops", token, "admin", 0, 1, NULL, e));
    pv_error err;
    assert_int_equal(pv_store_token_create(s, "ops", "another-token-0123456", "admin", 0, 1, NULL, &err),
                     PV_EEXIST);
    assert_int_equal(pv_store_token_create(s, "short", "abc", "admin", 0, 1, NULL, &err), PV_EINVAL);
    pv_store_token t = {0};
    assert_ok(pv_store_token_check(s, token, 50, &t, e));
    assert_string_equal(t.name, "ops");
    assert_int_equal(t.last_used_at, 50);
    assert_string_equal(t.role, "admin");
    pv_store_token_free(&t);
    /* a customer token names its one account; the other roles none */
    assert_int_equal(pv_store_token_create(s, "cust", "customer-token-0123456", "customer", 0, 1,
                                           NULL, &err),
                     PV_EINVAL);
    assert_int_equal(pv_store_token_create(s, "view", "viewer-token-0123456", "root", 0, 1, NULL,
                                           &err),
                     PV_EINVAL);
    assert_int_equal(pv_store_token_check(s, "pvt_wrong", 50, &t, &err), PV_ENOENT);
    assert_ok(pv_store_token_revoke(s, "ops", 60, e));
    assert_int_equal(pv_store_token_check(s, token, 70, &t, &err), PV_EACCES);
    assert_non_null(strstr(err.msg, "revoked"));
    pv_store_page page = {0};
    pv_store_token *toks = NULL;
    size_t n = 0;
    assert_ok(pv_store_token_list(s, &page, &toks, &n, e));
    assert_int_equal(n, 1);
    assert_int_equal(toks[0].revoked_at, 60);
    pv_store_tokens_free(toks, n);

    pv_store_audit a = {.at = 5,
                        .actor = "token:ops",
                        .action = "device.update",
                        .subject = "000e08aabbcc",
                        .detail = "{\"state\":\"SP-CUST\"}"};
    assert_ok(pv_store_audit_add(s, &a, NULL, e));
    a.actor = "device:000e08aabbcc";
    a.action = "profile.served";
    a.content_hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    assert_ok(pv_store_audit_add(s, &a, NULL, e));
    a.subject = "other";
    assert_ok(pv_store_audit_add(s, &a, NULL, e));
    a.actor = NULL;
    assert_int_equal(pv_store_audit_add(s, &a, NULL, &err), PV_EINVAL);
    pv_store_audit *rows = NULL;
    assert_ok(pv_store_audit_list(s, "000e08aabbcc", &page, &rows, &n, e));
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].action, "device.update");
    assert_null(rows[0].content_hash);
    assert_string_equal(rows[1].content_hash, a.content_hash);
    pv_store_audits_free(rows, n);
}

/* Values are bound, never formatted into SQL: hostile text is just text. */
/* Retention (issue 11 item 3): by age, by size, in bounded chunks, oldest first;
 * expired rate-limit windows go too. */
static void audit_and_rate_limits_are_pruned(void **state)
{
    store_fixture *f = *state;
    pv_store *s = f->s;
    pv_store_audit a = {.actor = "device:000e08aabbcc", .action = "profile.refused"};
    for (int i = 0; i < 30; i++) {
        a.at = 1000 + i; /* ten old (1000..1009), twenty newer */
        if (i == 10)
            a.at = 5000;
        else if (i > 10)
            a.at = 5000 + i;
        assert_ok(pv_store_audit_add(s, &a, NULL, e));
    }
    int64_t n = 0;
    /* Older than 2000, four at a time: 4, 4, 2, then nothing. */
    assert_ok(pv_store_audit_prune(s, 2000, 0, 4, &n, e));
    assert_int_equal(n, 4);
    assert_ok(pv_store_audit_prune(s, 2000, 0, 4, &n, e));
    assert_ok(pv_store_audit_prune(s, 2000, 0, 4, &n, e));
    assert_int_equal(n, 2);
    assert_ok(pv_store_audit_prune(s, 2000, 0, 4, &n, e));
    assert_int_equal(n, 0);
    /* At most 15 rows: the 5 oldest of the remaining 20 go. */
    assert_ok(pv_store_audit_prune(s, 0, 15, 100, &n, e));
    assert_int_equal(n, 5);
    assert_ok(pv_store_audit_prune(s, 0, 15, 100, &n, e));
    assert_int_equal(n, 0);
    pv_store_page page = {.limit = 100};
    pv_store_audit *rows = NULL;
    size_t count = 0;
    assert_ok(pv_store_audit_list(s, NULL, &page, &rows, &count, e));
    assert_int_equal(count, 15);
    assert_int_equal(rows[0].at, 5015); /* the newest were kept */
    pv_store_audits_free(rows, count);
    /* Rate limits: a window that started before the bound goes. */
    assert_ok(pv_store_rate_hit(s, "bind-src:192.0.2.1", 1000, 600, 20, NULL, e));
    assert_ok(pv_store_rate_hit(s, "bind-src:192.0.2.2", 9000, 600, 20, NULL, e));
    assert_ok(pv_store_rate_prune(s, 8000, 100, &n, e));
    assert_int_equal(n, 1);
    assert_ok(pv_store_rate_prune(s, 8000, 100, &n, e));
    assert_int_equal(n, 0);
}

static void hostile_values_are_data(void **state)
{
    pv_store *s = S(state);
    const char *evil = "x'); DROP TABLE devices; --";
    pv_store_account a = {.name = (char *)evil, .customer = "O'Brien \"$1\" ?2"};
    int64_t id = 0;
    assert_ok(pv_store_account_create(s, &a, 1, &id, e));
    pv_store_account got = {0};
    assert_ok(pv_store_account_get_by_name(s, evil, &got, e));
    assert_string_equal(got.customer, a.customer);
    pv_store_account_free(&got);
    assert_ok(pv_store_param_put(s, "model:'; DELETE FROM param_sets; --", "N", evil, NULL, 1, e));
    pv_store_device d = {.mac = "001122334455", .serial = (char *)evil};
    assert_ok(pv_store_device_create(s, &d, 1, e));
    pv_store_page page = {0};
    pv_store_device *rows = NULL;
    size_t n = 0;
    strcpy(page.after, "z' OR 1=1 --");
    assert_ok(pv_store_device_list(s, 0, &page, &rows, &n, e));
    assert_int_equal(n, 0); /* the cursor is compared, not executed */
    pv_store_devices_free(rows, n);
    pv_store_param_set set = {0};
    assert_ok(pv_store_params_get(s, "model:'; DELETE FROM param_sets; --", &set, e));
    assert_string_equal(set.entries[0].value, evil);
    pv_store_param_set_free(&set);
}

/* Control characters would make every render of a profile fail (XML cannot carry U+0001): the
 * store refuses them on every write, naming the field, whatever path the write came by. */
static void control_characters_are_refused(void **state)
{
    pv_store *s = S(state);
    pv_error err = {""};
    assert_int_equal(pv_store_param_put(s, "global", "Station_Name", "desk\x01", NULL, 1, &err),
                     PV_EINVAL);
    assert_string_equal(err.msg, "global: parameter Station_Name: byte 5 is a control character "
                                 "(U+0001); expected UTF-8 text without control characters");
    assert_int_equal(pv_store_param_put(s, "global", "Bad\nName", "x", NULL, 1, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "global: parameter name: byte 4"));
    pv_store_param entries[] = {{"A", "ok", ""}, {"B", "\xc2\x85", ""}};
    assert_int_equal(pv_store_params_replace(s, "global", entries, 2, 1, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "parameter B: byte 1 is a control character (U+0085)"));
    assert_int_equal(pv_store_param_put(s, "model:SPA\x7f", "A", "x", NULL, 1, &err), PV_EINVAL);
    /* Values may hold TAB and line breaks (XML carries them). */
    assert_ok(pv_store_param_put(s, "global", "Text", "a\tb\r\nc", NULL, 1, e));
    pv_store_param_set set = {0};
    assert_ok(pv_store_params_get(s, "global", &set, e));
    assert_int_equal(set.n, 1); /* nothing refused was written */
    pv_store_param_set_free(&set);

    pv_store_account a = {.name = "acme", .customer = "Acme\x1b[31m"};
    int64_t id = 0;
    assert_int_equal(pv_store_account_create(s, &a, 1, &id, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "account: customer: byte 5 is a control character (U+001B)"));
    a.customer = NULL;
    a.settings = "{\"lines\":[{\"user\":\"1001\"},{\"user\":\"10\\u000102\"}]}";
    assert_int_equal(pv_store_account_create(s, &a, 1, &id, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "account settings: lines[1].user: byte 3 is a control "
                                    "character (U+0001)"));
    a.settings = "{\"a\\u0007\":1}";
    assert_int_equal(pv_store_account_create(s, &a, 1, &id, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "account settings: a key in the object: byte 2"));

    pv_store_device d = {.mac = "001122334455", .model = "CP-8841\n3PCC"};
    assert_int_equal(pv_store_device_create(s, &d, 1, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "device 001122334455: model: byte 8 is a control character"));
    d.model = "CP-8841-3PCC";
    d.serial = "SN\x01";
    assert_int_equal(pv_store_device_create(s, &d, 1, &err), PV_EINVAL);
    d.serial = NULL;
    assert_ok(pv_store_device_create(s, &d, 1, e));
    d.serial = "FCH\x02";
    assert_int_equal(pv_store_device_update(s, &d, 2, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "device 001122334455: serial"));
}

/* Device action jobs (spec 5.5): created with a pending outcome per device, finished when
 * the last outcome is recorded, listed newest first and paged; a reopened store still has
 * them, and what a stopped process left pending becomes "interrupted". */
static void notify_jobs_outcomes_and_pages(void **state)
{
    store_fixture *f = *state;
    pv_store *s = f->s;
    pv_error err;
    char macs[5][13] = {"000e08000005", "000e08000001", "000e08000003", "000e08000002",
                        "000e08000004"};
    pv_store_notify_job j1 = {.action = "resync", .subject = "all", .actor = "token:ops",
                              .total = 5, .rate = 100, .created_at = 10};
    assert_ok(pv_store_notify_job_create(s, &j1, (const char(*)[13])macs, 5, e));
    pv_store_notify_job j2 = {.action = "reboot", .subject = "000e08000001", .total = 1,
                              .rate = 1, .created_at = 11};
    assert_ok(pv_store_notify_job_create(s, &j2, (const char(*)[13])macs[1], 1, e));
    assert_true(j2.id > j1.id);

    pv_store_notify_outcome done[2] = {
        {.mac = "000e08000001", .outcome = "ok", .status = 200, .attempts = 1,
         .challenged = true, .via = "direct"},
        {.mac = "000e08000002", .outcome = "timeout", .attempts = 3, .via = "proxy"}};
    assert_ok(pv_store_notify_outcomes_set(s, j1.id, done, 2, 20, e));
    pv_store_notify_job got;
    assert_ok(pv_store_notify_job_get(s, j1.id, &got, e));
    assert_int_equal(got.finished_at, 0); /* three still pending */
    assert_string_equal(got.actor, "token:ops");

    /* the outcomes of a job in MAC order, two per page */
    pv_store_page page = {.limit = 2};
    pv_store_notify_outcome *rows = NULL;
    size_t n = 0;
    assert_ok(pv_store_notify_outcome_list(s, j1.id, NULL, &page, &rows, &n, e));
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].mac, "000e08000001");
    assert_string_equal(rows[0].outcome, "ok");
    assert_true(rows[0].challenged);
    assert_string_equal(rows[0].via, "direct");
    assert_int_equal(rows[0].finished_at, 20);
    assert_string_equal(rows[1].outcome, "timeout");
    free(rows);
    size_t seen = 2;
    while (page.after[0] != '\0') {
        assert_ok(pv_store_notify_outcome_list(s, j1.id, NULL, &page, &rows, &n, e));
        for (size_t i = 0; i < n; i++)
            assert_string_equal(rows[i].outcome, "pending");
        seen += n;
        free(rows);
    }
    assert_int_equal(seen, 5);

    /* a restart: reopened, the pending ones were interrupted; both jobs are finished */
    pv_store_close(s);
    assert_ok(pv_store_open(f->db, &f->s, e));
    s = f->s;
    int64_t count = 0;
    assert_ok(pv_store_notify_interrupted(s, 30, &count, e));
    assert_int_equal(count, 4); /* three of j1, one of j2 */
    assert_ok(pv_store_notify_job_get(s, j1.id, &got, e));
    assert_int_equal(got.finished_at, 30);

    /* jobs newest first, one per page */
    page = (pv_store_page){.limit = 1};
    pv_store_notify_job *jobs = NULL;
    assert_ok(pv_store_notify_job_list(s, &page, &jobs, &n, e));
    assert_int_equal(n, 1);
    assert_int_equal(jobs[0].id, j2.id);
    free(jobs);
    assert_ok(pv_store_notify_job_list(s, &page, &jobs, &n, e));
    assert_int_equal(jobs[0].id, j1.id);
    free(jobs);
    assert_string_equal(page.after, "");

    /* one device's outcomes, newest job first */
    page = (pv_store_page){.limit = 10};
    assert_ok(pv_store_notify_outcome_list(s, 0, "00:0e:08:00:00:01", &page, &rows, &n, e));
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].job_id, j2.id);
    assert_string_equal(rows[0].outcome, "interrupted");
    assert_int_equal(rows[1].job_id, j1.id);
    assert_string_equal(rows[1].outcome, "ok");
    free(rows);
    assert_int_equal(pv_store_notify_job_get(s, j2.id + 100, &got, &err), PV_ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(accounts_crud_and_versions),
        STORE_TEST(devices_crud_states_and_duplicates),
        STORE_TEST(device_upsert_is_idempotent),
        STORE_TEST(device_pages_cover_everything_once),
        STORE_TEST(binding_codes_single_use_expiry_and_lock),
        STORE_TEST(rate_limit_windows),
        STORE_TEST(parameter_layers_and_versions),
        STORE_TEST(firmware_and_plans),
        STORE_TEST(render_input_in_one_statement),
        STORE_TEST(reports_keep_bytes_and_mark_last),
        STORE_TEST(reports_are_kept_per_device),
        STORE_TEST(tokens_and_audit),
        STORE_TEST(audit_and_rate_limits_are_pruned),
        STORE_TEST(hostile_values_are_data),
        STORE_TEST(control_characters_are_refused),
        STORE_TEST(notify_jobs_outcomes_and_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
