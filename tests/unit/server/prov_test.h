/*
 * prov_test.h — what the provisioning policy's unit tests share: a store
 * fixture with the master key loaded, a few seeding helpers, a client
 * certificate identity as the TLS layer would report it, and a log sink that
 * keeps every line so a test can check what reached the log.
 */
#ifndef PV_PROV_TEST_H
#define PV_PROV_TEST_H

#include "store/store_test.h"

#include "core/log.h"
#include "net/handler.h"
#include "server/identity.h"
#include "server/keys.h"

/* The store fixture plus its master key (device secrets need one). */
static inline int prov_setup(void **state)
{
    fixture_setup(state);
    store_fixture *f = *state;
    char keyfile[320];
    snprintf(keyfile, sizeof keyfile, "%s/master.key", f->dir);
    pv_error err = {{0}};
    if (pv_store_secrets_load(f->s, keyfile, true, &err) != 0)
        fail_msg("%s", err.msg);
    return 0;
}

#define PROV_TEST(fn) cmocka_unit_test_setup_teardown(fn, prov_setup, fixture_teardown)

/* An account "C-1" with settings, and returns its id. */
static inline int64_t seed_account(pv_store *s, const char *name)
{
    pv_store_account a = {.name = (char *)name,
                          .customer = "Travel Agency",
                          .settings = "{\"line1\":{\"user_id\":\"1001\"}}"};
    int64_t id = 0;
    assert_ok(pv_store_account_create(s, &a, 1000, &id, e));
    return id;
}

/* A device of model assigned to account (0: none). */
static inline void seed_device(pv_store *s, const char *mac, const char *model, int64_t account)
{
    pv_store_device d = {.model = (char *)model, .account_id = account};
    memcpy(d.mac, mac, sizeof d.mac);
    assert_ok(pv_store_device_create(s, &d, 1000, e));
}

/* A verified phone certificate, spec 4.4 subject "OU=model, L=serial, S=mac". */
static inline pv_peer_identity phone_cert(const char *mac, const char *model)
{
    pv_peer_identity c;
    memset(&c, 0, sizeof c);
    char cn[32], serial[32];
    snprintf(cn, sizeof cn, "SEP%s", mac);
    snprintf(serial, sizeof serial, "SN%s", mac);
    pv_peer_identity_add(&c, "CN", cn);
    pv_peer_identity_add(&c, "OU", model);
    pv_peer_identity_add(&c, "L", serial);
    pv_peer_identity_add(&c, "ST", mac);
    /* A fingerprint per MAC, as the TLS layer would compute one per certificate. */
    for (size_t i = 0; i < 64; i++)
        c.fingerprint[i] = "0123456789abcdef"[(mac[i % 12] + i) & 15];
    return c;
}

/* ---- log capture ------------------------------------------------------- */

static pv_buf captured_log;

static inline void capture_sink(pv_log_level level, const char *line, size_t len, void *data)
{
    (void)level;
    (void)data;
    pv_buf_append(&captured_log, line, len);
    pv_buf_append(&captured_log, "\n", 1);
}

static inline void log_capture_start(void)
{
    pv_buf_reset(&captured_log);
    pv_log_set_level(PV_LOG_DEBUG);
    pv_log_set_sink(capture_sink, NULL);
}

/* Stops capturing; the text stays in captured_log until the next start. */
static inline void log_capture_stop(void)
{
    pv_log_set_sink(NULL, NULL);
    pv_log_set_level(PV_LOG_INFO);
}

#endif
