/* Unit tests for net/pki: a CA, a server and a phone certificate, verified with OpenSSL. */
#include "pv_test.h"

#include "core/alloc.h"
#include "net/pki.h"

#include <openssl/x509v3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct fixture {
    EVP_PKEY *ca_key;
    X509 *ca;
} fixture;

static int setup(void **state)
{
    fixture *f = pv_calloc(1, sizeof *f);
    pv_error err;
    pv_pki_cert_options o = {
        .subject = {.common_name = "Test Manufacturer CA", .organization = "Test"},
        .usage = PV_PKI_USAGE_CA,
        .days = 30,
    };
    assert_int_equal(pv_pki_key_new(PV_PKI_KEY_EC_P256, 0, &f->ca_key, &err), 0);
    assert_int_equal(pv_pki_issue(&o, f->ca_key, NULL, f->ca_key, &f->ca, &err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    X509_free(f->ca);
    EVP_PKEY_free(f->ca_key);
    free(f);
    return 0;
}

static void subject_field(X509 *cert, int nid, char *out, size_t size)
{
    out[0] = '\0';
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), nid, out, (int)size);
}

static void ca_is_self_signed_and_a_ca(void **state)
{
    fixture *f = *state;
    pv_error err;
    assert_int_equal(pv_pki_verify(f->ca, f->ca, &err), 0);
    assert_int_equal(X509_check_ca(f->ca), 1);
    assert_int_equal(X509_NAME_cmp(X509_get_subject_name(f->ca), X509_get_issuer_name(f->ca)), 0);
}

/* spec 4.4: "OU=CP-8841-3PCC, L=88012BA01234, S=000e08abcdef" */
static void phone_certificate_carries_ou_l_st_and_verifies(void **state)
{
    fixture *f = *state;
    pv_error err;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    pv_pki_cert_options o = {
        .subject = {.common_name = "SEP000E08ABCDEF",
                    .org_unit = "CP-8841-3PCC",
                    .locality = "88012BA01234",
                    .state = "000e08abcdef"},
        .usage = PV_PKI_USAGE_CLIENT,
    };
    assert_int_equal(pv_pki_key_new(PV_PKI_KEY_EC_P256, 0, &key, &err), 0);
    assert_int_equal(pv_pki_issue(&o, key, f->ca, f->ca_key, &cert, &err), 0);
    assert_int_equal(pv_pki_verify(cert, f->ca, &err), 0);
    char text[128];
    subject_field(cert, NID_organizationalUnitName, text, sizeof text);
    assert_string_equal(text, "CP-8841-3PCC");
    subject_field(cert, NID_localityName, text, sizeof text);
    assert_string_equal(text, "88012BA01234");
    subject_field(cert, NID_stateOrProvinceName, text, sizeof text);
    assert_string_equal(text, "000e08abcdef");
    subject_field(cert, NID_commonName, text, sizeof text);
    assert_string_equal(text, "SEP000E08ABCDEF");
    assert_true(X509_get_extended_key_usage(cert) & XKU_SSL_CLIENT);
    assert_false(X509_get_extended_key_usage(cert) & XKU_SSL_SERVER);
    assert_int_equal(X509_check_ca(cert), 0);
    X509_free(cert);
    EVP_PKEY_free(key);
}

static void server_certificate_has_sans(void **state)
{
    fixture *f = *state;
    pv_error err;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    pv_pki_cert_options o = {
        .subject = {.common_name = "localhost"},
        .usage = PV_PKI_USAGE_SERVER,
        .san = "DNS:localhost,DNS:prov.example.com,IP:127.0.0.1,IP:::1",
    };
    assert_int_equal(pv_pki_key_new(PV_PKI_KEY_RSA, 2048, &key, &err), 0);
    assert_int_equal(pv_pki_issue(&o, key, f->ca, f->ca_key, &cert, &err), 0);
    assert_int_equal(pv_pki_verify(cert, f->ca, &err), 0);
    assert_int_equal(X509_check_host(cert, "prov.example.com", 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(cert, "other.example.com", 0, 0, NULL), 0);
    assert_int_equal(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(cert, "::1", 0), 1);
    assert_true(X509_get_extended_key_usage(cert) & XKU_SSL_SERVER);
    X509_free(cert);
    EVP_PKEY_free(key);
}

static void certificate_from_another_ca_does_not_verify(void **state)
{
    fixture *f = *state;
    pv_error err;
    EVP_PKEY *other_key = NULL, *key = NULL;
    X509 *other = NULL, *cert = NULL;
    pv_pki_cert_options ca = {.subject = {.common_name = "Other CA"}, .usage = PV_PKI_USAGE_CA};
    pv_pki_cert_options leaf = {.subject = {.common_name = "x"}, .usage = PV_PKI_USAGE_CLIENT};
    assert_int_equal(pv_pki_key_new(PV_PKI_KEY_EC_P256, 0, &other_key, &err), 0);
    assert_int_equal(pv_pki_issue(&ca, other_key, NULL, other_key, &other, &err), 0);
    assert_int_equal(pv_pki_key_new(PV_PKI_KEY_EC_P256, 0, &key, &err), 0);
    assert_int_equal(pv_pki_issue(&leaf, key, other, other_key, &cert, &err), 0);
    assert_int_equal(pv_pki_verify(cert, f->ca, &err), PV_ECRYPTO);
    assert_non_null(strstr(err.msg, "unable to get local issuer certificate"));
    X509_free(cert);
    X509_free(other);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other_key);
}

static void files_round_trip_with_private_key_mode(void **state)
{
    fixture *f = *state;
    pv_error err;
    char dir[] = "/tmp/pv-pki-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char key_path[64], cert_path[64];
    snprintf(key_path, sizeof key_path, "%s/ca.key", dir);
    snprintf(cert_path, sizeof cert_path, "%s/ca.pem", dir);
    assert_int_equal(pv_pki_write_key(key_path, f->ca_key, &err), 0);
    X509 *chain[] = {f->ca, f->ca};
    assert_int_equal(pv_pki_write_certs(cert_path, chain, 2, &err), 0);
    struct stat st;
    assert_int_equal(stat(key_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(cert_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);

    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    assert_int_equal(pv_pki_read_key(key_path, &key, &err), 0);
    assert_int_equal(pv_pki_read_cert(cert_path, &cert, &err), 0);
    assert_int_equal(EVP_PKEY_eq(key, f->ca_key), 1);
    char a[65], b[65];
    pv_pki_fingerprint(cert, a);
    pv_pki_fingerprint(f->ca, b);
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), 64);
    X509_free(cert);
    EVP_PKEY_free(key);

    /* A key file that is not PEM, and a missing file, say so. */
    assert_int_equal(pv_pki_read_key(cert_path, &key, &err), PV_EFORMAT);
    assert_non_null(strstr(err.msg, "no PEM private key"));
    unlink(key_path);
    assert_int_equal(pv_pki_read_key(key_path, &key, &err), PV_ENOENT);
    unlink(cert_path);
    rmdir(dir);
}

static void bad_inputs_are_refused_with_a_message(void **state)
{
    fixture *f = *state;
    pv_error err;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    assert_int_equal(pv_pki_key_new(PV_PKI_KEY_RSA, 512, &key, &err), PV_ERANGE);
    assert_non_null(strstr(err.msg, "2048"));
    pv_pki_cert_options empty = {.usage = PV_PKI_USAGE_CLIENT};
    assert_int_equal(pv_pki_issue(&empty, f->ca_key, f->ca, f->ca_key, &cert, &err), PV_EINVAL);
    pv_pki_cert_options bad_san = {
        .subject = {.common_name = "x"}, .usage = PV_PKI_USAGE_SERVER, .san = "NOPE:x"};
    assert_int_equal(pv_pki_issue(&bad_san, f->ca_key, f->ca, f->ca_key, &cert, &err), PV_ECRYPTO);
    assert_non_null(strstr(err.msg, "subjectAltName"));
    assert_null(cert);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ca_is_self_signed_and_a_ca),
        cmocka_unit_test(phone_certificate_carries_ou_l_st_and_verifies),
        cmocka_unit_test(server_certificate_has_sans),
        cmocka_unit_test(certificate_from_another_ca_does_not_verify),
        cmocka_unit_test(files_round_trip_with_private_key_mode),
        cmocka_unit_test(bad_inputs_are_refused_with_a_message),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
