/* Unit tests for store/secrets (AES-256-GCM under a master key file) and the
 * device keys and directories kept with it: rotation history, encryption at
 * rest, wrong master key. */
#include "store_test.h"

#include "store/secrets.h"

#include <fcntl.h>
#include <sys/stat.h>

static void key_path(void **state, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", ((store_fixture *)*state)->dir, name);
}

static void master_key_file_is_created_private_and_reused(void **state)
{
    char path[400];
    key_path(state, "master.key", path, sizeof path);
    pv_secrets *k1 = NULL, *k2 = NULL;
    pv_error err;
    assert_int_equal(pv_secrets_load(path, false, &k1, &err), PV_ENOENT);
    assert_ok(pv_secrets_load(path, true, &k1, e));
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sb.st_size, 65);               /* 64 hex digits and a newline */
    assert_ok(pv_secrets_load(path, true, &k2, e)); /* the same key, not a new one */

    pv_buf sealed = {0}, plain = {0};
    assert_ok(pv_secrets_seal(k1, "device-key:x", "secret!", 7, &sealed, e));
    assert_int_equal(sealed.len, 7 + PV_SECRETS_OVERHEAD);
    assert_ok(pv_secrets_open(k2, "device-key:x", sealed.data, sealed.len, &plain, e));
    assert_int_equal(plain.len, 7);
    assert_memory_equal(plain.data, "secret!", 7);
    /* Another place (aad), a flipped bit, a truncated value: refused. */
    pv_buf_reset(&plain);
    assert_int_equal(pv_secrets_open(k2, "device-key:y", sealed.data, sealed.len, &plain, &err),
                     PV_EDECRYPT);
    sealed.data[15] ^= 1;
    assert_int_equal(pv_secrets_open(k2, "device-key:x", sealed.data, sealed.len, &plain, &err),
                     PV_EDECRYPT);
    assert_int_equal(pv_secrets_open(k2, "device-key:x", sealed.data, 10, &plain, &err),
                     PV_EFORMAT);
    /* Two seals of the same value differ: a fresh nonce each time. */
    pv_buf a = {0}, b = {0};
    assert_ok(pv_secrets_seal(k1, "n", "same", 4, &a, e));
    assert_ok(pv_secrets_seal(k1, "n", "same", 4, &b, e));
    assert_memory_not_equal(a.data, b.data, a.len);
    pv_buf_free(&a);
    pv_buf_free(&b);
    pv_buf_free(&sealed);
    pv_buf_free(&plain);
    pv_secrets_free(k1);
    pv_secrets_free(k2);

    /* A key file others can read is refused; a malformed one is explained. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(pv_secrets_load(path, false, &k1, &err), PV_EACCES);
    assert_non_null(strstr(err.msg, "chmod 600"));
    char bad[400];
    key_path(state, "bad.key", bad, sizeof bad);
    int fd = open(bad, O_WRONLY | O_CREAT, 0600);
    assert_int_equal(write(fd, "abcd\n", 5), 5);
    close(fd);
    assert_int_equal(pv_secrets_load(bad, false, &k1, &err), PV_EFORMAT);
    assert_non_null(strstr(err.msg, "64 hex digits"));
}

/* Reads a whole file (the database and its WAL) for a byte search. */
static bool file_contains(const char *path, const void *needle, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    pv_buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        pv_buf_append(&b, chunk, n);
    fclose(f);
    bool found = b.len >= len && memmem(b.data, b.len, needle, len) != NULL;
    pv_buf_free(&b);
    return found;
}

static void device_secrets_rotate_without_stranding(void **state)
{
    store_fixture *f = *state;
    pv_store *s = f->s;
    char path[400];
    key_path(state, "master.key", path, sizeof path);
    pv_error err;
    pv_store_secret cur = {0}, prev = {0};
    bool has_prev = true;
    assert_int_equal(pv_store_secret_rotate(s, "000e08aabbcc", NULL, NULL, 1, &cur, &err),
                     PV_EACCES); /* no master key yet */
    assert_ok(pv_store_secrets_load(s, path, true, e));
    assert_int_equal(pv_store_secret_rotate(s, "000e08aabbcc", NULL, NULL, 1, &cur, &err),
                     PV_ENOENT);
    pv_store_device d = {.mac = "000e08aabbcc"};
    assert_ok(pv_store_device_create(s, &d, 1, e));

    /* SEC-PRV-1: the first key and directory (spec 12.2 example directory). */
    unsigned char key1[32];
    memset(key1, 0x8e, sizeof key1);
    pv_store_secret s1 = {0};
    assert_ok(pv_store_secret_rotate(s, "000e08aabbcc", key1, "Dj6Lmp23Q", 10, &s1, e));
    assert_ok(pv_store_secret_get(s, "000e08aabbcc", &cur, &prev, &has_prev, e));
    assert_memory_equal(cur.key, key1, 32);
    assert_string_equal(cur.dir, "Dj6Lmp23Q");
    assert_false(has_prev);
    assert_int_equal(pv_store_secret_rotate(s, "000e08aabbcc", NULL, "../etc", 10, NULL, &err),
                     PV_EINVAL);

    /* Rotation: random key and directory; the old one stays valid... */
    pv_store_secret s2 = {0};
    assert_ok(pv_store_secret_rotate(s, "000e08aabbcc", NULL, NULL, 20, &s2, e));
    assert_int_equal(strlen(s2.dir), 16);
    assert_memory_not_equal(s2.key, key1, 32);
    assert_ok(pv_store_secret_get(s, "000e08aabbcc", &cur, &prev, &has_prev, e));
    assert_int_equal(cur.id, s2.id);
    assert_true(has_prev);
    assert_int_equal(prev.id, s1.id);
    assert_memory_equal(prev.key, key1, 32);
    /* ...a second rotation before the phone caught up retires the oldest... */
    pv_store_secret s3 = {0};
    assert_ok(pv_store_secret_rotate(s, "000e08aabbcc", NULL, NULL, 30, &s3, e));
    assert_ok(pv_store_secret_get(s, "000e08aabbcc", &cur, &prev, &has_prev, e));
    assert_int_equal(cur.id, s3.id);
    assert_int_equal(prev.id, s2.id);
    /* ...and the phone's first fetch with the new key retires the previous. */
    assert_ok(pv_store_secret_confirm(s, "000e08aabbcc", s3.id, 40, e));
    assert_ok(pv_store_secret_get(s, "000e08aabbcc", &cur, &prev, &has_prev, e));
    assert_int_equal(cur.confirmed_at, 40);
    assert_false(has_prev);
    assert_int_equal(pv_store_secret_confirm(s, "000e08aabbcc", s1.id, 41, &err), PV_ENOENT);
    int64_t count = 0;
    assert_ok(pv_store_secret_history(s, "000e08aabbcc", &count, e));
    assert_int_equal(count, 3);

    /* At rest: neither key bytes nor directory names are in the files. */
    pv_store_close(s);
    f->s = NULL;
    char wal[320];
    snprintf(wal, sizeof wal, "%s-wal", f->db);
    assert_false(file_contains(f->db, key1, 32));
    assert_false(file_contains(wal, key1, 32));
    assert_false(file_contains(f->db, s3.key, 32));
    assert_false(file_contains(wal, s3.key, 32));
    assert_false(file_contains(f->db, "Dj6Lmp23Q", 9));
    assert_false(file_contains(wal, "Dj6Lmp23Q", 9));
    assert_false(file_contains(f->db, s3.dir, 16));
    assert_false(file_contains(wal, s3.dir, 16));

    /* Another master key: refused at load, with a message that says why. */
    assert_ok(pv_store_open(f->db, &f->s, e));
    char other[400];
    key_path(state, "other.key", other, sizeof other);
    assert_int_equal(pv_store_secrets_load(f->s, other, true, &err), PV_EDECRYPT);
    assert_non_null(strstr(err.msg, "does not match this database"));
    assert_int_equal(pv_store_secret_get(f->s, "000e08aabbcc", &cur, NULL, NULL, &err), PV_EACCES);
    /* The right one still opens what was stored. */
    assert_ok(pv_store_secrets_load(f->s, path, false, e));
    assert_ok(pv_store_secret_get(f->s, "000e08aabbcc", &cur, NULL, NULL, e));
    assert_memory_equal(cur.key, s3.key, 32);
    assert_string_equal(cur.dir, s3.dir);
}

/* The value of one entry of a set, as the store gives it. */
static char *param_value(pv_store *s, const char *scope, const char *name)
{
    pv_store_param_set set;
    assert_ok(pv_store_params_get(s, scope, &set, e));
    char *v = NULL;
    for (size_t i = 0; i < set.n; i++)
        if (strcmp(set.entries[i].name, name) == 0)
            v = pv_strdup(set.entries[i].value);
    pv_store_param_set_free(&set);
    return v;
}

static void secret_parameters_sealed_at_rest(void **state)
{
    store_fixture *f = *state;
    assert_true(pv_store_param_is_secret("Password_1_"));
    assert_true(pv_store_param_is_secret("Admin_Passwd"));
    assert_true(pv_store_param_is_secret("proxy_password"));
    assert_true(pv_store_param_is_secret("Shared_Secret"));
    assert_false(pv_store_param_is_secret("User_ID_1_"));
    assert_false(pv_store_param_is_secret("Proxy_1_"));
    /* No master key loaded yet: stored as given (nothing to seal with), readable. */
    assert_ok(pv_store_param_put(f->s, "global", "Password_2_", "early-pw", NULL, 1, e));
    char *v = param_value(f->s, "global", "Password_2_");
    assert_string_equal(v, "early-pw");
    free(v);
    /* Loading the key seals it (the migration of existing rows) ... */
    char path[400];
    key_path(state, "master.key", path, sizeof path);
    assert_ok(pv_store_secrets_load(f->s, path, true, e));
    assert_ok(pv_store_param_put(f->s, "global", "Password_1_", "s3cret-pw", "na", 2, e));
    assert_ok(pv_store_param_put(f->s, "global", "User_ID_1_", "1001", NULL, 3, e));
    pv_store_param entries[] = {{"Admin_Passwd", "adm1n-pw", ""}, {"Proxy_1_", "p.example", ""}};
    assert_ok(pv_store_params_replace(f->s, "model:SPA504G", entries, 2, 4, e));
    /* ... and the store reads every one back in plain. */
    v = param_value(f->s, "global", "Password_2_");
    assert_string_equal(v, "early-pw");
    free(v);
    v = param_value(f->s, "global", "Password_1_");
    assert_string_equal(v, "s3cret-pw");
    free(v);
    v = param_value(f->s, "model:SPA504G", "Admin_Passwd");
    assert_string_equal(v, "adm1n-pw");
    free(v);
    pv_store_close(f->s);
    f->s = NULL;
    /* On disk (SQLite; PostgreSQL keeps the same values in its own files): no plaintext. */
    if (store_test_pg() == NULL) {
        char wal[1100];
        snprintf(wal, sizeof wal, "%s-wal", f->db);
        const char *secrets[] = {"early-pw", "s3cret-pw", "adm1n-pw"};
        for (size_t i = 0; i < 3; i++) {
            assert_false(file_contains(f->db, secrets[i], strlen(secrets[i])));
            assert_false(file_contains(wal, secrets[i], strlen(secrets[i])));
        }
        assert_true(file_contains(f->db, "1001", 4) || file_contains(wal, "1001", 4));
    }
    /* Without the key, a sealed value is an error that names it, never the sealed text. */
    assert_ok(pv_store_open(f->db, &f->s, e));
    pv_store_param_set set;
    pv_error err;
    assert_int_equal(pv_store_params_get(f->s, "global", &set, &err), PV_EACCES);
    assert_non_null(strstr(err.msg, "Password_"));
    assert_non_null(strstr(err.msg, "master key"));
    /* A sealed value copied to another name does not open (associated data). */
    store_test_sql(f->db, "UPDATE param_entries SET value = (SELECT value FROM param_entries "
                          "WHERE name = 'Password_1_') WHERE name = 'Password_2_'");
    assert_ok(pv_store_secrets_load(f->s, path, false, e));
    assert_int_equal(pv_store_params_get(f->s, "global", &set, &err), PV_EDECRYPT);
    v = param_value(f->s, "model:SPA504G", "Admin_Passwd");
    assert_string_equal(v, "adm1n-pw");
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(master_key_file_is_created_private_and_reused),
        STORE_TEST(device_secrets_rotate_without_stranding),
        STORE_TEST(secret_parameters_sealed_at_rest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
