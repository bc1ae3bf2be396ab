/* Unit tests for server/datadir: first run creates, second run reuses, repairs are safe. */
#include "pv_test.h"

#include "core/alloc.h"
#include "net/pki.h"
#include "server/datadir.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static const char *path(const char *rel)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s/%s", dir, rel);
    return buf;
}

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/pv-datadir-XXXXXX");
    assert_non_null(mkdtemp(dir));
    strcat(dir, "/data"); /* not there yet: the first run creates it */
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%.*s'", (int)(strlen(dir) - 5), dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void verify_server_cert(void)
{
    pv_error err;
    X509 *ca = NULL, *leaf = NULL;
    assert_int_equal(pv_pki_read_cert(path(PV_DATADIR_CA_CERT), &ca, &err), 0);
    assert_int_equal(pv_pki_read_cert(path(PV_DATADIR_SERVER_CERT), &leaf, &err), 0);
    assert_int_equal(pv_pki_verify(leaf, ca, &err), 0);
    X509_free(ca);
    X509_free(leaf);
}

static void first_run_creates_second_reuses(void **state)
{
    pv_datadir_result first, second;
    pv_error err;
    assert_int_equal(pv_datadir_ensure(dir, &first, &err), 0);
    assert_true(first.created);
    assert_int_equal(strlen(first.admin_token), 51); /* "pv_" + 48 hex */
    assert_int_equal(strlen(first.ca_fingerprint), 64);
    verify_server_cert();
    struct stat st;
    assert_int_equal(stat(path(PV_DATADIR_SERVER_KEY), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(path(PV_DATADIR_PROFILES "/sample.xml"), &st), 0);
    assert_int_equal(stat(path(PV_DATADIR_UPLOADS), &st), 0);
    assert_true(S_ISDIR(st.st_mode));

    assert_true(pv_datadir_check_admin_token(dir, first.admin_token));
    assert_false(pv_datadir_check_admin_token(dir, "pv_0000"));
    char wrong[65];
    snprintf(wrong, sizeof wrong, "%s", first.admin_token);
    wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
    assert_false(pv_datadir_check_admin_token(dir, wrong));

    assert_int_equal(pv_datadir_ensure(dir, &second, &err), 0);
    assert_false(second.created);
    assert_string_equal(second.admin_token, ""); /* printed once only */
    assert_string_equal(second.ca_fingerprint, first.ca_fingerprint);
    assert_true(pv_datadir_check_admin_token(dir, first.admin_token));
}

static void lost_server_key_is_reissued_by_the_same_ca(void **state)
{
    pv_datadir_result r;
    pv_error err;
    X509 *before = NULL;
    assert_int_equal(pv_pki_read_cert(path(PV_DATADIR_SERVER_CERT), &before, &err), 0);
    assert_int_equal(unlink(path(PV_DATADIR_SERVER_KEY)), 0);
    assert_int_equal(pv_datadir_ensure(dir, &r, &err), 0);
    verify_server_cert();
    X509 *after = NULL;
    assert_int_equal(pv_pki_read_cert(path(PV_DATADIR_SERVER_CERT), &after, &err), 0);
    assert_int_not_equal(X509_cmp(before, after), 0);
    X509_free(before);
    X509_free(after);
}

static void half_a_ca_is_refused_not_replaced(void **state)
{
    pv_datadir_result r;
    pv_error err;
    char key[256];
    snprintf(key, sizeof key, "%s", path(PV_DATADIR_PHONE_CA_KEY));
    assert_int_equal(rename(key, path("moved.key")), 0);
    assert_int_equal(pv_datadir_ensure(dir, &r, &err), PV_ECONFLICT);
    assert_non_null(strstr(err.msg, "demo-ca.pem: found without its key"));
    assert_int_equal(rename(path("moved.key"), key), 0);
    assert_int_equal(pv_datadir_ensure(dir, &r, &err), 0);
}

static void a_file_in_the_way_is_an_error(void **state)
{
    pv_datadir_result r;
    pv_error err;
    char file[80];
    snprintf(file, sizeof file, "%s-file", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(pv_datadir_ensure(file, &r, &err), PV_EIO);
    assert_non_null(strstr(err.msg, "cannot create directory"));
    unlink(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_run_creates_second_reuses),
        cmocka_unit_test(lost_server_key_is_reissued_by_the_same_ca),
        cmocka_unit_test(half_a_ca_is_refused_not_replaced),
        cmocka_unit_test(a_file_in_the_way_is_an_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
