/* Unit tests for os/fileio: bounded reads, atomic writes that leave nothing on failure. */
#include "pv_test.h"

#include "os/fileio.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/pv-fileio-XXXXXX");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *out, size_t size, const char *name)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < size);
}

static void put(const char *name, const char *text)
{
    char path[128];
    path_of(path, sizeof path, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Names in the test directory, so that a test can see no temporary file remains. */
static int entries(void)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void read_whole_file_within_bound(void **state)
{
    put("a.conf", "[server]\nx = 1\n");
    char path[128];
    path_of(path, sizeof path, "a.conf");
    pv_buf b = {0};
    pv_error err = {{0}};
    assert_int_equal(pv_file_read(path, 15, &b, &err), 0); /* exactly the bound */
    assert_string_equal(b.data, "[server]\nx = 1\n");
    assert_int_equal(b.len, 15);
    pv_buf_free(&b);
}

static void read_refuses_one_byte_over_the_bound(void **state)
{
    put("big", "0123456789");
    char path[128];
    path_of(path, sizeof path, "big");
    pv_buf b = {0};
    pv_error err = {{0}};
    assert_int_equal(pv_file_read(path, 9, &b, &err), PV_ETOOBIG);
    assert_non_null(strstr(err.msg, "big: larger than 9 bytes"));
    assert_true(b.len <= 10); /* stopped at the first byte past the bound */
    pv_buf_free(&b);
}

static void read_empty_file_gives_empty_string(void **state)
{
    put("empty", "");
    char path[128];
    path_of(path, sizeof path, "empty");
    pv_buf b = {0};
    assert_int_equal(pv_file_read(path, 100, &b, NULL), 0);
    assert_non_null(b.data); /* callers use it as a C string */
    assert_string_equal(b.data, "");
    pv_buf_free(&b);
}

static void read_missing_file_is_enoent_with_path(void **state)
{
    char path[128];
    path_of(path, sizeof path, "nope.conf");
    pv_buf b = {0};
    pv_error err = {{0}};
    assert_int_equal(pv_file_read(path, 100, &b, &err), PV_ENOENT);
    assert_non_null(strstr(err.msg, "nope.conf: No such file or directory"));
    pv_buf_free(&b);
}

static void read_directory_is_eio(void **state)
{
    pv_buf b = {0};
    pv_error err = {{0}};
    assert_int_equal(pv_file_read(dir, 100, &b, &err), PV_EIO);
    assert_non_null(strstr(err.msg, "Is a directory"));
    pv_buf_free(&b);
}

static void read_fd_from_pipe_larger_than_a_chunk(void **state)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    /* 40 000 bytes fit in a Linux pipe (64 KiB), so one thread can write then read. */
    char *data = pv_malloc(40000);
    memset(data, 'x', 40000);
    assert_int_equal(pv_file_write_all(p[1], data, 40000), 0);
    close(p[1]);
    pv_buf b = {0};
    pv_buf_append_str(&b, "head:"); /* reads append */
    assert_int_equal(pv_file_read_fd(p[0], "-", 40000, &b, NULL), 0);
    close(p[0]);
    assert_int_equal(b.len, 5 + 40000);
    assert_memory_equal(b.data + 5, data, 40000);
    pv_buf_free(&b);
    free(data);
}

static void write_atomic_creates_and_replaces(void **state)
{
    char path[128];
    path_of(path, sizeof path, "out.xml");
    pv_error err = {{0}};
    assert_int_equal(pv_file_write_atomic(path, "<old/>", 6, 0644, &err), 0);
    assert_int_equal(pv_file_write_atomic(path, "<flat-profile/>", 15, 0640, &err), 0);
    pv_buf b = {0};
    assert_int_equal(pv_file_read(path, 100, &b, NULL), 0);
    assert_string_equal(b.data, "<flat-profile/>");
    pv_buf_free(&b);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    assert_int_equal(entries(), 1); /* no temporary file beside it */
}

static void write_atomic_failure_leaves_nothing(void **state)
{
    /* rename(2) over a non-empty directory fails after the data was written:
     * the temporary file must go too. */
    char sub[128], inner[160];
    path_of(sub, sizeof sub, "taken");
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(inner, sizeof inner, "%s/keep", sub);
    FILE *f = fopen(inner, "w");
    assert_non_null(f);
    fclose(f);
    pv_error err = {{0}};
    assert_int_equal(pv_file_write_atomic(sub, "x", 1, 0644, &err), PV_EIO);
    assert_non_null(strstr(err.msg, "taken: "));
    assert_int_equal(entries(), 1); /* only "taken" */

    char missing[128];
    path_of(missing, sizeof missing, "no-dir/out");
    assert_int_equal(pv_file_write_atomic(missing, "x", 1, 0644, &err), PV_EIO);
    assert_non_null(strstr(err.msg, "no-dir/out: No such file or directory"));
    assert_int_equal(entries(), 1);
}

static void write_atomic_path_too_long(void **state)
{
    char *path = pv_malloc(5000);
    memset(path, 'a', 4999);
    path[4999] = '\0';
    pv_error err = {{0}};
    assert_int_equal(pv_file_write_atomic(path, "x", 1, 0644, &err), PV_EINVAL);
    assert_int_equal(strncmp(err.msg, "aaaa", 4), 0); /* the message names the path (cut) */
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(read_whole_file_within_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(read_refuses_one_byte_over_the_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(read_empty_file_gives_empty_string, setup, teardown),
        cmocka_unit_test_setup_teardown(read_missing_file_is_enoent_with_path, setup, teardown),
        cmocka_unit_test_setup_teardown(read_directory_is_eio, setup, teardown),
        cmocka_unit_test_setup_teardown(read_fd_from_pipe_larger_than_a_chunk, setup, teardown),
        cmocka_unit_test_setup_teardown(write_atomic_creates_and_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(write_atomic_failure_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(write_atomic_path_too_long, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
