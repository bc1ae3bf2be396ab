/*
 * HTTPS with client certificates, against curl and openssl s_client on
 * loopback, with a test PKI made by the openssl command: identity fields
 * reach the handler, optional/required/unknown-CA behaviour, per-listener
 * ciphers, resumption, context swap (SIGHUP), files byte-identical, and
 * clients that vanish mid-handshake or mid-transfer, and the per-address limit that
 * connections with a verified certificate do not count against (issue 15).
 * Covers src/net/tls.c.
 */
#include "http_test_env.h"

#include <openssl/ssl.h>
#include <poll.h>
#include <unistd.h>

static pv_tls_slot *g_slot_opt, *g_slot_req, *g_slot_legacy, *g_slot_swap;
static pv_http_server *g_opt, *g_req, *g_legacy, *g_swap;
static pv_http_server *g_strict; /* g_slot_opt, one connection per address without identity */
static int g_fds_before;

static void pki_path(char *out, size_t size, const char *name)
{
    int n = snprintf(out, size, "%s/pki/%s", g_env->dir, name);
    assert_true(n > 0 && (size_t)n < size);
}

static pv_tls_context *make_context(pv_client_cert_mode mode, const char *ciphers, int level,
                                    bool tickets)
{
    char cert[256], key[256], ca[256];
    pki_path(cert, sizeof cert, "server.crt");
    pki_path(key, sizeof key, "server.key");
    pki_path(ca, sizeof ca, "mfg-ca.crt");
    pv_tls_config c = {.cert_file = cert,
                       .key_file = key,
                       .client_ca_file = ca,
                       .client_cert = mode,
                       .ciphers = ciphers,
                       .security_level = level,
                       .session_tickets = tickets};
    pv_tls_context *ctx = NULL;
    pv_error err;
    int rc = pv_tls_context_new(&c, &ctx, &err);
    if (rc != 0)
        fail_msg("context: %s", err.msg);
    return ctx;
}

static int setup(void **state)
{
    env_start();
    make_pki(g_env->dir);
    char path[256];
    static const size_t sizes[] = {0, 511, 512, 513, 50 * 1024 * 1024};
    for (size_t i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/root/f%zu", g_env->dir, sizes[i]);
        write_file(path, sizes[i]);
    }
    pv_http_limits limits;
    pv_http_limits_default(&limits);
    limits.handshake_timeout_ms = 800;
    g_slot_opt = pv_tls_slot_new(
        make_context(PV_CLIENT_CERT_OPTIONAL,
                     "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256", -1, true));
    g_slot_req = pv_tls_slot_new(make_context(PV_CLIENT_CERT_REQUIRED, NULL, -1, false));
    /* A "legacy" listener for old phones: TLS 1.2 CBC-SHA ciphers, low security level. */
    g_slot_legacy = pv_tls_slot_new(
        make_context(PV_CLIENT_CERT_OPTIONAL, "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0", 0, true));
    g_slot_swap = pv_tls_slot_new(make_context(PV_CLIENT_CERT_OPTIONAL, NULL, -1, true));
    g_opt = env_add_server(g_slot_opt, &limits);
    g_req = env_add_server(g_slot_req, &limits);
    g_legacy = env_add_server(g_slot_legacy, &limits);
    g_swap = env_add_server(g_slot_swap, &limits);
    limits.max_per_source = 1;
    g_strict = env_add_server(g_slot_opt, &limits);
    g_fds_before = count_fds();
    return 0;
}

static int teardown(void **state)
{
    env_stop();
    pv_tls_slot_free(g_slot_opt);
    pv_tls_slot_free(g_slot_req);
    pv_tls_slot_free(g_slot_legacy);
    pv_tls_slot_free(g_slot_swap);
    return 0;
}

/* curl against a server: "-" for no client certificate, else "phone" or "rogue". */
static int curl(pv_buf *out, pv_http_server *s, const char *cert, const char *args)
{
    char cert_args[600] = "";
    if (strcmp(cert, "-") != 0)
        snprintf(cert_args, sizeof cert_args, "--cert '%s/pki/%s.crt' --key '%s/pki/%s.key'",
                 g_env->dir, cert, g_env->dir, cert);
    return sh(out, "curl -sS --cacert '%s/pki/server-ca.crt' %s %s 2>&1", g_env->dir, cert_args,
              args ? args : "");
}

static void url(char *out, size_t size, pv_http_server *s, const char *path)
{
    snprintf(out, size, "https://localhost:%d%s", port_of(s), path);
}

static void phone_certificate_identity_reaches_the_handler(void **state)
{
    char u[128];
    url(u, sizeof u, g_opt, "/identity");
    pv_buf out = {0}, fp = {0};
    assert_int_equal(curl(&out, g_opt, "phone", u), 0);
    /* spec 4.4: OU=product, L=serial, S=MAC */
    assert_non_null(strstr(out.data, "cn=SEP000E08ABCDEF\n"));
    assert_non_null(strstr(out.data, "ou=CP-8841-3PCC\n"));
    assert_non_null(strstr(out.data, "l=88012BA01234\n"));
    assert_non_null(strstr(out.data, "st=000e08abcdef\n"));
    assert_non_null(strstr(out.data, "san=DNS:phone.example,URI:urn:dev:mac:000e08abcdef\n"));
    assert_non_null(strstr(out.data, "issuer=CN=Test Manufacturing CA,O=Test Phone Maker\n"));
    sh(&fp,
       "openssl x509 -in '%s/pki/phone.crt' -noout -fingerprint -sha256 | cut -d= -f2 | "
       "tr -d ':\\n' | tr A-F a-f",
       g_env->dir);
    char want[80];
    snprintf(want, sizeof want, "fp=%s\n", fp.data);
    assert_non_null(strstr(out.data, want));
    assert_true(
        log_has("proto=https", "identity=000e08abcdef method=GET path=/identity status=200"));
    pv_buf_free(&out);
    pv_buf_free(&fp);
}

static void optional_and_required_certificates(void **state)
{
    char u[128];
    pv_buf out = {0};
    url(u, sizeof u, g_opt, "/identity");
    assert_int_equal(curl(&out, g_opt, "-", u), 0);
    assert_string_equal(out.data, "none\n"); /* optional: absent is allowed */
    pv_buf_reset(&out);
    url(u, sizeof u, g_req, "/identity");
    assert_int_not_equal(curl(&out, g_req, "-", u), 0); /* required: refused */
    pv_buf_reset(&out);
    assert_int_equal(curl(&out, g_req, "phone", u), 0);
    assert_non_null(strstr(out.data, "st=000e08abcdef"));
    pv_buf_free(&out);
}

static void certificate_from_an_unknown_ca_is_refused(void **state)
{
    char u[128];
    pv_buf out = {0};
    pv_http_server *servers[] = {g_opt, g_req};
    for (int i = 0; i < 2; i++) {
        url(u, sizeof u, servers[i], "/identity");
        pv_buf_reset(&out);
        /* Never treated as "no certificate": the handshake fails even when optional. */
        assert_int_not_equal(curl(&out, servers[i], "rogue", u), 0);
        assert_null(strstr(out.data ? out.data : "", "none"));
    }
    assert_true(log_has("event=tls.handshake_failed", "unable to get local issuer certificate"));
    pv_buf_free(&out);
}

static void files_arrive_byte_identical_over_tls(void **state)
{
    static const char *const names[] = {"f0", "f511", "f512", "f513", "f52428800"};
    for (size_t i = 0; i < 5; i++) {
        char u[128], args[512];
        url(u, sizeof u, g_opt, "/files/");
        snprintf(args, sizeof args, "-f -o '%s/got' %s%s && cmp '%s/got' '%s/root/%s'", g_env->dir,
                 u, names[i], g_env->dir, g_env->dir, names[i]);
        assert_int_equal(curl(NULL, g_opt, "phone", args), 0);
    }
    char u[128], args[300];
    url(u, sizeof u, g_opt, "/files/f513");
    snprintf(args, sizeof args, "-r 500- -o /dev/null -w '%%{http_code} %%{size_download}' %s", u);
    pv_buf out = {0};
    curl(&out, g_opt, "-", args);
    assert_string_equal(out.data, "206 13");
    pv_buf_free(&out);
}

static void listeners_have_their_own_ciphers(void **state)
{
    pv_buf out = {0};
    /* The CBC-SHA cipher of old phones: accepted by the legacy listener only. */
    int legacy = sh(&out,
                    "openssl s_client -connect 127.0.0.1:%d -tls1_2 -cipher "
                    "'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0' </dev/null 2>&1",
                    port_of(g_legacy));
    assert_int_equal(legacy, 0);
    assert_non_null(strstr(out.data, "Cipher is ECDHE-ECDSA-AES128-SHA"));
    pv_buf_reset(&out);
    int modern = sh(&out,
                    "openssl s_client -connect 127.0.0.1:%d -tls1_2 -cipher "
                    "'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0' </dev/null 2>&1",
                    port_of(g_opt));
    assert_int_not_equal(modern, 0);
    pv_buf_free(&out);
}

static void sessions_resume_with_their_identity(void **state)
{
    pv_metrics_reset();
    static const char *const versions[] = {"-tls1_3", "-tls1_2"};
    pv_http_server *servers[] = {g_opt, g_req}; /* tickets; session cache without tickets */
    for (int i = 0; i < 2; i++) {
        for (int v = 0; v < 2; v++) {
            pv_buf out = {0};
            int rc = sh(&out,
                        "cd '%s/pki'; req='GET /identity HTTP/1.1\\r\\nHost: x\\r\\nConnection: "
                        "close\\r\\n\\r\\n'; sc='openssl s_client -connect 127.0.0.1:%d %s "
                        "-CAfile server-ca.crt -cert phone.crt -key phone.key -ign_eof'; "
                        "printf \"$req\" | $sc -sess_out sess.pem >/dev/null 2>&1; "
                        "printf \"$req\" | $sc -sess_in sess.pem 2>&1",
                        g_env->dir, port_of(servers[i]), versions[v]);
            assert_int_equal(rc, 0);
            if (strstr(out.data, "Reused, TLSv1.") == NULL)
                fail_msg("server %d %s not resumed: %s", i, versions[v], out.data);
            assert_non_null(strstr(out.data, "st=000e08abcdef"));
            pv_buf_free(&out);
        }
    }
    pv_buf m = {0};
    pv_metrics_render(&m);
    assert_non_null(strstr(m.data, "provisor_tls_handshakes_total{kind=\"resumed\"} 4"));
    assert_non_null(strstr(m.data, "provisor_tls_handshakes_total{kind=\"full\"} 4"));
    pv_buf_free(&m);
}

/* Appends what the pipe gives to buf until it holds want (true), or until EOF or 60 s pass. */
static bool read_until(FILE *pipe, char *buf, size_t size, size_t *len, const char *want)
{
    int fd = fileno(pipe);
    for (int waited = 0; strstr(buf, want) == NULL && waited < 600 && *len + 1 < size;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) == 0) {
            waited++;
            continue;
        }
        ssize_t n = read(fd, buf + *len, size - 1 - *len);
        if (n <= 0)
            break;
        *len += (size_t)n;
        buf[*len] = '\0';
    }
    return strstr(buf, want) != NULL;
}

/* A keep-alive connection held open (s_client, with the certificate cert, or none for "-"):
 * its first request is GET /identity, its second (Connection: close) is sent only once the
 * file flag exists (bounded at 30 s). Read its answers with read_until; pclose it. */
static FILE *held_connection(pv_http_server *s, const char *cert, const char *flag)
{
    char cmd[1200], cert_args[600] = "";
    if (strcmp(cert, "-") != 0)
        snprintf(cert_args, sizeof cert_args, "-cert '%s/pki/%s.crt' -key '%s/pki/%s.key'",
                 g_env->dir, cert, g_env->dir, cert);
    snprintf(cmd, sizeof cmd,
             "(printf 'GET /identity HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'; i=0; "
             "while [ ! -e '%s' ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done; "
             "printf 'GET /identity HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n') | "
             "openssl s_client -quiet -connect 127.0.0.1:%d %s 2>/dev/null",
             flag, port_of(s), cert_args);
    FILE *held = popen(cmd, "r");
    assert_non_null(held);
    return held;
}

static void swapped_context_applies_to_new_connections(void **state)
{
    char u[128];
    url(u, sizeof u, g_swap, "/identity");
    pv_buf out = {0};
    /* An open keep-alive connection, its second request once the test has swapped the
     * context ($dir/swapped exists). */
    char flag[300];
    snprintf(flag, sizeof flag, "%s/swapped", g_env->dir);
    FILE *held = held_connection(g_swap, "phone", flag);
    char buf[8192] = "";
    size_t len = 0;
    /* The first answer came back: the connection lives on the old context. */
    assert_true(read_until(held, buf, sizeof buf, &len, "st=000e08abcdef"));
    /* SIGHUP: a new context that asks for no client certificate. */
    pv_tls_slot_swap(g_slot_swap, make_context(PV_CLIENT_CERT_NONE, NULL, -1, true));
    assert_int_equal(curl(&out, g_swap, "phone", u), 0);
    assert_string_equal(out.data, "none\n");
    FILE *f = fopen(flag, "w");
    assert_non_null(f);
    fclose(f);
    char *first = strstr(buf, "st=000e08abcdef");
    size_t second_from = (size_t)(first - buf) + 1;
    read_until(held, buf, sizeof buf, &len, "\x01never");
    pclose(held);
    /* Both answers of the old connection still carry the identity of its old context. */
    assert_non_null(strstr(buf + second_from, "st=000e08abcdef"));
    pv_buf_free(&out);
}

/* Issue 15: a connection whose handshake verified a client certificate leaves its address's
 * count — two phones behind one address hold theirs open on a listener that allows the
 * address one connection, and a client without a certificate is still served; while that
 * one is held, the next without a certificate is closed after its handshake. */
static void identified_connections_do_not_count_against_their_address(void **state)
{
    char flag[300], u[128];
    snprintf(flag, sizeof flag, "%s/strict-done", g_env->dir);
    url(u, sizeof u, g_strict, "/identity");
    FILE *held[3];
    char buf[3][8192] = {""};
    size_t len[3] = {0};
    held[0] = held_connection(g_strict, "phone", flag);
    assert_true(read_until(held[0], buf[0], sizeof buf[0], &len[0], "st=000e08abcdef"));
    held[1] = held_connection(g_strict, "phone", flag);
    assert_true(read_until(held[1], buf[1], sizeof buf[1], &len[1], "st=000e08abcdef"));
    held[2] = held_connection(g_strict, "-", flag); /* the address's one, no certificate */
    bool third = read_until(held[2], buf[2], sizeof buf[2], &len[2], "none\n");
    pv_buf out = {0};
    int beyond = curl(&out, g_strict, "-", u); /* its second: beyond the limit */
    FILE *f = fopen(flag, "w");
    assert_non_null(f);
    fclose(f);
    for (int i = 0; i < 3; i++) {
        read_until(held[i], buf[i], sizeof buf[i], &len[i], "\x01never");
        pclose(held[i]);
    }
    assert_true(third);
    assert_int_not_equal(beyond, 0);
    assert_true(wait_log_has("event=http.refused",
                             "beyond the per-source limit without a client certificate"));
    pv_buf_free(&out);
}

static void bad_tls_clients_do_not_disturb_the_server(void **state)
{
    /* Mid-handshake: half a ClientHello, then gone. */
    int fd = raw_connect(port_of(g_opt));
    static const char hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x11\x22";
    raw_send(fd, hello, sizeof hello - 1);
    close(fd);
    /* Plain HTTP on the TLS port: a failed handshake. */
    pv_buf out = {0};
    raw_exchange(port_of(g_opt), "GET / HTTP/1.1\r\n\r\n", 18, &out);
    pv_buf_reset(&out);
    /* Silent client: cut at the handshake timeout (800 ms). */
    double start = now_seconds();
    fd = raw_connect(port_of(g_opt));
    raw_read_all(fd, &out, 3000);
    close(fd);
    assert_true(now_seconds() - start < 2.0);
    /* Mid-transfer: read 100 KB of 50 MB and disappear. */
    char u[128], args[300];
    url(u, sizeof u, g_opt, "/files/f52428800");
    snprintf(args, sizeof args, "%s | head -c 100000 | wc -c", u);
    pv_buf_reset(&out);
    curl(&out, g_opt, "-", args);
    assert_non_null(strstr(out.data, "100000"));
    assert_int_equal(wait_no_connections(), 0);
    assert_true(log_has("path=/files/f52428800 status=200", "aborted=true"));
    assert_true(log_has("event=tls.handshake_failed", "timed out"));
    /* And the next client is served. */
    url(u, sizeof u, g_opt, "/identity");
    pv_buf_reset(&out);
    assert_int_equal(curl(&out, g_opt, "phone", u), 0);
    assert_non_null(strstr(out.data, "ou=CP-8841-3PCC"));
    pv_buf_free(&out);
}

static void configuration_errors_say_what_is_wrong(void **state)
{
    char cert[256], key[256];
    pki_path(cert, sizeof cert, "server.crt");
    pki_path(key, sizeof key, "server.key");
    pv_tls_context *ctx = NULL;
    pv_error err;
    pv_tls_config c = {.cert_file = "/nonexistent.pem", .key_file = key, .security_level = -1};
    assert_int_equal(pv_tls_context_new(&c, &ctx, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "/nonexistent.pem"));
    c.cert_file = cert;
    c.client_cert = PV_CLIENT_CERT_REQUIRED;
    assert_int_equal(pv_tls_context_new(&c, &ctx, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "CA bundle"));
    c.client_cert = PV_CLIENT_CERT_NONE;
    c.ciphers = "NO-SUCH-CIPHER";
    assert_int_equal(pv_tls_context_new(&c, &ctx, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "cipher list"));
    c.ciphers = NULL;
    c.key_file = cert; /* a certificate is not a key */
    assert_int_equal(pv_tls_context_new(&c, &ctx, &err), PV_EINVAL);
    assert_null(ctx);
}

static void no_descriptor_leaks(void **state)
{
    assert_int_equal(wait_no_connections(), 0);
    assert_int_equal(count_fds(), g_fds_before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(phone_certificate_identity_reaches_the_handler),
        cmocka_unit_test(optional_and_required_certificates),
        cmocka_unit_test(certificate_from_an_unknown_ca_is_refused),
        cmocka_unit_test(files_arrive_byte_identical_over_tls),
        cmocka_unit_test(listeners_have_their_own_ciphers),
        cmocka_unit_test(sessions_resume_with_their_identity),
        cmocka_unit_test(swapped_context_applies_to_new_connections),
        cmocka_unit_test(identified_connections_do_not_count_against_their_address),
        cmocka_unit_test(bad_tls_clients_do_not_disturb_the_server),
        cmocka_unit_test(configuration_errors_say_what_is_wrong),
        cmocka_unit_test(no_descriptor_leaks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
