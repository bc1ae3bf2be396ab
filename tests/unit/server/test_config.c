/* Unit tests for server/config: provisor.conf, flags, defaults, errors with line numbers. */
/* Covers src/server/config.c, config_doc.c (help and rendering) and prov_setup.c (the
 * provisioning policy from the configuration). */
#include "pv_test.h"

#include "core/alloc.h"
#include "server/config.h"
#include "server/provision.h"

#include <openssl/ssl.h>
#include <stdio.h>
#include <unistd.h>

static char *write_temp(const char *text)
{
    char *path = pv_strdup("/tmp/pv-conf-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

/* Loads text as a config file plus flags ("flag", "value", ..., NULL). */
static int load(pv_config *cfg, const char *text, pv_error *err, ...)
{
    pv_config_args args = {0};
    char *path = NULL;
    if (text != NULL) {
        path = write_temp(text);
        args.config_file = pv_strdup(path);
    }
    va_list ap;
    va_start(ap, err);
    const char *flag;
    int rc = 0;
    while (rc == 0 && (flag = va_arg(ap, const char *)) != NULL)
        rc = pv_config_args_add(&args, flag, va_arg(ap, const char *), err);
    va_end(ap);
    if (rc == 0)
        rc = pv_config_load(cfg, &args, err);
    pv_config_args_free(&args);
    if (path != NULL) {
        unlink(path);
        free(path);
    }
    return rc;
}

static void defaults_follow_design_decision_2(void **state)
{
    unsetenv("PROVISOR_DATA");
    pv_config cfg;
    pv_error err;
    assert_int_equal(load(&cfg, NULL, &err, NULL), 0);
    assert_string_equal(cfg.data_dir, "./provisor-data");
    assert_string_equal(cfg.tftp_listen, "127.0.0.1:6969");
    assert_string_equal(cfg.http_listen, "127.0.0.1:8080");
    assert_string_equal(cfg.https_listen, "127.0.0.1:8443");
    assert_string_equal(cfg.admin_listen, "127.0.0.1:8081");
    assert_string_equal(cfg.root, "./provisor-data/profiles");
    assert_string_equal(cfg.upload_dir, "./provisor-data/uploads");
    assert_string_equal(cfg.tls_cert, "./provisor-data/tls/server.pem");
    assert_string_equal(cfg.tls_key, "./provisor-data/tls/server.key");
    assert_string_equal(cfg.client_ca, "./provisor-data/manufacturer/bundle.pem");
    assert_int_equal(cfg.client_cert, PV_CLIENT_CERT_OPTIONAL);
    assert_int_equal(cfg.workers, 0);
    assert_int_equal(cfg.drain_timeout_ms, 10000);
    assert_int_equal(cfg.tls_min_version, TLS1_2_VERSION);
    assert_true(cfg.session_tickets);
    pv_config_free(&cfg);

    setenv("PROVISOR_DATA", "/srv/prov", 1);
    assert_int_equal(load(&cfg, NULL, &err, NULL), 0);
    assert_string_equal(cfg.root, "/srv/prov/profiles");
    pv_config_free(&cfg);
    unsetenv("PROVISOR_DATA");
}

static void file_then_flags_override(void **state)
{
    pv_config cfg;
    pv_error err;
    const char *text = "; provisor.conf\n"
                       "[server]\n"
                       "data_dir = /var/lib/provisor\n"
                       "workers = 2\n"
                       "log_level = debug\n"
                       "[tftp]\n"
                       "listen = 0.0.0.0:69\n"
                       "max_transfers = 500\n"
                       "max_half_open = 64\n"
                       "max_upload_bytes = 64K\n"
                       "[http]\n"
                       "listen = off\n"
                       "[https]\n"
                       "listen = [::1]:8443\n"
                       "client_cert = required\n"
                       "min_version = 1.3\n"
                       "security_level = 0\n"
                       "session_tickets = no\n"
                       "ciphers = ECDHE-ECDSA-AES128-GCM-SHA256\n"
                       "[limits]\n"
                       "max_body_bytes = 2M\n"
                       "idle_timeout_ms = 5000\n";
    assert_int_equal(load(&cfg, text, &err, "tftp", "127.0.0.1:1069", "workers", "1",
                          "limits-max-body-bytes", "1024", "root", "/srv/tree", NULL),
                     0);
    assert_string_equal(cfg.data_dir, "/var/lib/provisor");
    assert_int_equal(cfg.workers, 1);                       /* flag wins */
    assert_string_equal(cfg.tftp_listen, "127.0.0.1:1069"); /* flag wins */
    assert_int_equal(cfg.tftp.max_transfers, 500);
    assert_int_equal(cfg.tftp.max_half_open, 64);
    assert_int_equal(cfg.tftp.half_open_retries, 2); /* the default */
    assert_int_equal(cfg.tftp.max_upload_bytes, 64 * 1024);
    assert_null(cfg.http_listen);
    assert_string_equal(cfg.https_listen, "[::1]:8443");
    assert_int_equal(cfg.client_cert, PV_CLIENT_CERT_REQUIRED);
    assert_int_equal(cfg.tls_min_version, TLS1_3_VERSION);
    assert_int_equal(cfg.security_level, 0);
    assert_false(cfg.session_tickets);
    assert_string_equal(cfg.ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256");
    assert_int_equal(cfg.http.max_body_bytes, 1024); /* flag wins */
    assert_int_equal(cfg.http.idle_timeout_ms, 5000);
    assert_int_equal(cfg.log_level, PV_LOG_DEBUG);
    assert_string_equal(cfg.root, "/srv/tree");
    assert_string_equal(cfg.upload_dir, "/var/lib/provisor/uploads");
    assert_string_equal(cfg.tls_cert, "/var/lib/provisor/tls/server.pem");
    pv_config_free(&cfg);
}

/* Each bad file: the message names file, line, key and what is allowed. */
static void file_errors_name_line_key_and_allowed_values(void **state)
{
    static const struct {
        const char *text;
        int code;
        const char *line_prefix; /* after the file name */
        const char *detail;
    } cases[] = {
        {"[server]\nworkers = 99\n", PV_EINVAL, ":2: ",
         "[server] workers (--workers): '99' is not allowed; expected a whole number from 0 to 64"},
        {"[server]\n\n[http]\nlisten = 127.0.0.1\n", PV_EINVAL,
         ":4: ", "[http] listen (--http): '127.0.0.1' is not allowed; expected HOST:PORT"},
        {"[http]\nlisten = localhost:80\n", PV_EINVAL, ":2: ", "expected HOST:PORT"},
        {"[https]\nclient_cert = maybe\n", PV_EINVAL,
         ":2: ", "expected none, optional or required"},
        {"[https]\nmin_version = 1.1\n", PV_EINVAL, ":2: ", "expected 1.2 or 1.3"},
        {"[tftp]\nmax_blksize = 4\n", PV_EINVAL, ":2: ", "from 8 to 65464"},
        {"[limits]\nmax_body_bytes = 12X\n", PV_EINVAL, ":2: ", "K, M or G suffix"},
        {"[http]\nlisten = 127.0.0.1:8080\nport = 80\n", PV_EINVAL,
         ":3: ", "[http] port: unknown key"},
        /* on the header's line, every section listed (issue 13) */
        {"[tftpd]\nlisten = 127.0.0.1:69\n", PV_EINVAL, ":1: ", "unknown section [tftpd]"},
        {"[server]\n\n[htp]\n# a comment\nlisten = 127.0.0.1:80\n", PV_EINVAL,
         ":3: ", "[limits] [provisioning] [sip] [store]"},
        {"listen = 127.0.0.1:69\n", PV_EINVAL, ":1: ", "unknown section []"},
        {"[tftp]\nmax_retries = 3\nmax_retries = 4\n", PV_EINVAL,
         ":3: ", "set again (first on line 2)"},
        {"[server]\nworkers = 1\nthis line is garbage\n", PV_ESYNTAX,
         ":3: ", "not a [section] header"},
        {"[server]\nroot =; /srv\n", PV_EINVAL, ":2: ", "neither starts with ; or #"},
        {"[server\n", PV_ESYNTAX, ":1: ", "not a [section] header"},
        {"[https]\ncert = /etc/cert.pem\n", PV_EINVAL, "", "must be set together"},
        {"[tftp]\nlisten=off\n[http]\nlisten=off\n[https]\nlisten=off\n", PV_EINVAL, "",
         "every listener is off"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = write_temp(cases[i].text);
        pv_config_args args = {.config_file = pv_strdup(path)};
        pv_config cfg;
        pv_error err = {""};
        int rc = pv_config_load(&cfg, &args, &err);
        if (rc != cases[i].code || strstr(err.msg, cases[i].detail) == NULL)
            fail_msg("case %zu: rc %d, message '%s'", i, rc, err.msg);
        char want[128];
        snprintf(want, sizeof want, "%s%s", path, cases[i].line_prefix);
        if (strncmp(err.msg, want, strlen(want)) != 0 && cases[i].line_prefix[0] != '\0')
            fail_msg("case %zu: message '%s' does not start with '%s'", i, err.msg, want);
        pv_config_args_free(&args);
        unlink(path);
        free(path);
    }
}

static void long_lines_and_missing_files_are_errors(void **state)
{
    pv_config cfg;
    pv_error err;
    char text[600];
    int n = snprintf(text, sizeof text, "[server]\nroot = /");
    memset(text + n, 'a', 400);
    strcpy(text + n + 400, "\n");
    assert_int_equal(load(&cfg, text, &err, NULL), PV_ETOOBIG);
    assert_non_null(strstr(err.msg, ":2: line longer than"));

    pv_config_args args = {.config_file = pv_strdup("/nonexistent/provisor.conf")};
    assert_int_equal(pv_config_load(&cfg, &args, &err), PV_ENOENT);
    assert_non_null(strstr(err.msg, "/nonexistent/provisor.conf: No such file"));
    pv_config_args_free(&args);
}

static void flag_errors_name_the_flag(void **state)
{
    pv_config cfg;
    pv_error err;
    pv_config_args args = {0};
    assert_int_equal(pv_config_args_add(&args, "no-such-flag", "1", &err), PV_EINVAL);
    assert_string_equal(err.msg, "--no-such-flag: unknown option");
    pv_config_args_free(&args);

    assert_int_equal(load(&cfg, NULL, &err, "client-cert", "sometimes", NULL), PV_EINVAL);
    assert_non_null(strstr(err.msg, "--client-cert: [https] client_cert"));
    assert_non_null(strstr(err.msg, "none, optional or required"));
    assert_int_equal(load(&cfg, NULL, &err, "tls-cert", "/a.pem", NULL), PV_EINVAL);
    assert_non_null(strstr(err.msg, "--tls-key"));
}

static void every_key_has_a_flag_and_round_trips(void **state)
{
    size_t count = 0;
    const pv_config_key *keys = pv_config_keys(&count);
    assert_true(count > 30);
    pv_buf help = {0};
    pv_config_help(&help);
    for (size_t i = 0; i < count; i++) {
        assert_ptr_equal(pv_config_find_flag(pv_config_flag(&keys[i])), &keys[i]);
        assert_ptr_equal(pv_config_find(keys[i].section, keys[i].key), &keys[i]);
    }
    assert_non_null(strstr(help.data, "--tftp ADDR:PORT"));
    assert_non_null(strstr(help.data, "--tftp-max-transfers N"));
    assert_non_null(strstr(help.data, "--limits-max-header-bytes SIZE"));
    assert_non_null(strstr(help.data, "--client-cert MODE"));
    pv_buf_free(&help);

    /* A configuration rendered as INI loads back to the same rendering. */
    pv_config cfg, again;
    pv_error err;
    assert_int_equal(load(&cfg, "[https]\nsecurity_level = 1\n[http]\nlisten = off\n", &err,
                          "workers", "3", NULL),
                     0);
    pv_buf first = {0}, second = {0};
    pv_config_render(&cfg, &first);
    assert_non_null(strstr(first.data, "[http]\nlisten = off\n"));
    assert_non_null(strstr(first.data, "security_level = 1\n"));
    pv_config_init(&again);
    assert_int_equal(pv_config_load_string(&again, "rendered", first.data, &err), 0);
    pv_config_render(&again, &second);
    assert_string_equal(first.data, second.data);
    pv_buf_free(&first);
    pv_buf_free(&second);
    pv_config_free(&cfg);
    pv_config_free(&again);
}

/* permanent_scheme = auto (the default) is the first of http, https, tftp this node serves, so
 * an HTTPS-only node never sends phones leaving SEC-PRV-1 to a listener that is off; a scheme
 * set by hand is kept (a front end may serve it) and a wrong one is refused. */
static void permanent_scheme_follows_the_listeners(void **state)
{
    (void)state;
    unsetenv("PROVISOR_DATA");
    static const struct {
        const char *flag1, *value1, *flag2, *value2, *want;
    } cases[] = {
        {NULL, NULL, NULL, NULL, "http"},
        {"http", "off", NULL, NULL, "https"},
        {"http", "off", "https", "off", "tftp"},
        {"http", "off", "provisioning-permanent-scheme", "http", "http"},
        {"provisioning-permanent-scheme", "tftp", NULL, NULL, "tftp"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pv_config cfg;
        pv_error err = {""};
        int rc = load(&cfg, NULL, &err, cases[i].flag1, cases[i].value1, cases[i].flag2,
                      cases[i].value2, NULL);
        if (rc != 0)
            fail_msg("case %zu: %s", i, err.msg);
        pv_prov_policy pol;
        assert_int_equal(pv_provision_policy_from_config(&cfg, &pol, &err), 0);
        assert_string_equal(pol.permanent_scheme, cases[i].want);
        pv_config_free(&cfg);
    }
    pv_config cfg;
    pv_error err = {""};
    assert_int_equal(load(&cfg, NULL, &err, "provisioning-permanent-scheme", "ftp", NULL), 0);
    pv_prov_policy pol;
    assert_int_equal(pv_provision_policy_from_config(&cfg, &pol, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "want auto, http, https or tftp"));
    pv_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_follow_design_decision_2),
        cmocka_unit_test(file_then_flags_override),
        cmocka_unit_test(file_errors_name_line_key_and_allowed_values),
        cmocka_unit_test(long_lines_and_missing_files_are_errors),
        cmocka_unit_test(flag_errors_name_the_flag),
        cmocka_unit_test(every_key_has_a_flag_and_round_trips),
        cmocka_unit_test(permanent_scheme_follows_the_listeners),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
