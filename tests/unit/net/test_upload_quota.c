/*
 * Tests for net/upload_quota on a real directory: the counts read at init,
 * each limit, replacement of a report under the same name, files deleted by
 * an operator given back by a later reading of the directory, and give-back.
 * take() only accounts; the test writes the file as the fileserver would.
 */
#include "pv_test.h"

#include "net/upload_quota.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static int dir_fd = -1;

static void put_file(const char *name, size_t size)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < size; i++)
        fputc('x', f);
    assert_int_equal(fclose(f), 0);
}

static void remove_file(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(unlink(path), 0);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/pv-quota-XXXXXX");
    assert_non_null(mkdtemp(dir));
    dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    return dir_fd < 0;
}

static int teardown(void **state)
{
    close(dir_fd);
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* Takes and stores (writes the file), asserting success. */
static void store(pv_upload_quota *q, const char *name, size_t size, uint64_t now)
{
    pv_upload_ticket t;
    pv_error err = {{0}};
    int rc = pv_upload_quota_take(q, name, size, now, &t, &err);
    if (rc != 0)
        fail_msg("%s: %s", name, err.msg);
    put_file(name, size);
}

static void refused(pv_upload_quota *q, const char *name, size_t size, uint64_t now,
                    const char *why)
{
    pv_upload_ticket t;
    pv_error err = {{0}};
    assert_int_equal(pv_upload_quota_take(q, name, size, now, &t, &err), PV_ELIMIT);
    assert_non_null(strstr(err.msg, why));
}

static void usage_is(pv_upload_quota *q, uint64_t bytes, unsigned files)
{
    uint64_t b;
    unsigned f;
    pv_upload_quota_usage(q, &b, &f);
    assert_int_equal(b, bytes);
    assert_int_equal(f, files);
}

static void init_counts_what_is_stored(void **state)
{
    put_file("10.0.0.1-a.xml", 100);
    put_file("10.0.0.1-b.xml", 50);
    put_file("__1-c.xml", 7);
    put_file(".upload-1-2.tmp", 1000); /* an upload in progress: not a stored one */
    char sub[128];
    snprintf(sub, sizeof sub, "%s/subdir", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    pv_upload_quota q;
    pv_error err = {{0}};
    assert_int_equal(pv_upload_quota_init(&q, dir_fd, pv_upload_limits_default(), &err), 0);
    usage_is(&q, 157, 3);
    pv_upload_quota_free(&q);
    remove_file("10.0.0.1-a.xml");
    remove_file("10.0.0.1-b.xml");
    remove_file("__1-c.xml");
    remove_file(".upload-1-2.tmp");
    assert_int_equal(rmdir(sub), 0);
}

static void limits_per_source_files_and_bytes(void **state)
{
    pv_upload_quota q;
    pv_upload_limits l = {.max_bytes = 1000, .max_files = 5, .max_files_per_source = 2};
    assert_int_equal(pv_upload_quota_init(&q, dir_fd, l, NULL), 0);
    store(&q, "10.0.0.1-a.xml", 100, 0);
    store(&q, "10.0.0.1-b.xml", 100, 0);
    refused(&q, "10.0.0.1-c.xml", 100, 0, "too many uploads stored from this address");
    store(&q, "10.0.0.1-a.xml", 300, 0); /* the same report again replaces: no new file */
    usage_is(&q, 400, 2);
    store(&q, "10.0.0.2-a.xml", 100, 0);
    store(&q, "10.0.0.3-a.xml", 100, 0);
    store(&q, "10.0.0.4-a.xml", 100, 0);
    refused(&q, "10.0.0.5-a.xml", 1, 0, "full (files)");
    usage_is(&q, 700, 5);
    refused(&q, "10.0.0.4-a.xml", 500, 0, "full (bytes)"); /* 700 - 100 + 500 > 1000 */
    store(&q, "10.0.0.4-a.xml", 400, 0);                   /* 700 - 100 + 400 = 1000 */
    usage_is(&q, 1000, 5);
    store(&q, "10.0.0.1-a.xml", 10, 0); /* a smaller report gives bytes back */
    usage_is(&q, 710, 5);
    /* New limits apply to the next upload. */
    pv_upload_quota_set_limits(&q, (pv_upload_limits){0, 0, 0});
    store(&q, "10.0.0.5-a.xml", 5000, 0);
    usage_is(&q, 5710, 6);
    pv_upload_quota_free(&q);
    const char *names[] = {"10.0.0.1-a.xml", "10.0.0.1-b.xml", "10.0.0.2-a.xml",
                           "10.0.0.3-a.xml", "10.0.0.4-a.xml", "10.0.0.5-a.xml"};
    for (size_t i = 0; i < 6; i++)
        remove_file(names[i]);
}

static void deleted_files_are_given_back_by_a_new_reading(void **state)
{
    pv_upload_quota q;
    pv_upload_limits l = {.max_bytes = 0, .max_files = 2, .max_files_per_source = 0};
    assert_int_equal(pv_upload_quota_init(&q, dir_fd, l, NULL), 0);
    store(&q, "a-1", 1, 5000);
    store(&q, "b-1", 1, 5000);
    refused(&q, "c-1", 1, 5000, "full (files)"); /* reads the directory: still full */
    remove_file("a-1");                          /* an operator archives a report */
    refused(&q, "c-1", 1, 5500, "full (files)"); /* read less than a second ago */
    store(&q, "c-1", 1, 6000);                   /* read again: room */
    usage_is(&q, 2, 2);
    pv_upload_quota_free(&q);
    remove_file("b-1");
    remove_file("c-1");
}

static void give_back_restores_the_counts(void **state)
{
    pv_upload_quota q;
    assert_int_equal(pv_upload_quota_init(&q, dir_fd, pv_upload_limits_default(), NULL), 0);
    store(&q, "x-old", 40, 0);
    pv_upload_ticket fresh, again;
    assert_int_equal(pv_upload_quota_take(&q, "x-new", 10, 0, &fresh, NULL), 0);
    assert_false(fresh.replaced);
    assert_int_equal(pv_upload_quota_take(&q, "x-old", 25, 0, &again, NULL), 0);
    assert_true(again.replaced);
    assert_int_equal(again.replaced_bytes, 40);
    usage_is(&q, 35, 2);
    pv_upload_quota_give_back(&q, &fresh); /* neither store happened */
    pv_upload_quota_give_back(&q, &again);
    usage_is(&q, 40, 1);
    pv_upload_quota_free(&q);
    remove_file("x-old");
}

static void unreadable_directory_is_an_error(void **state)
{
    pv_upload_quota q;
    pv_error err = {{0}};
    assert_int_equal(pv_upload_quota_init(&q, -1, pv_upload_limits_default(), &err), PV_EIO);
    assert_non_null(strstr(err.msg, "upload directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_counts_what_is_stored),
        cmocka_unit_test(limits_per_source_files_and_bytes),
        cmocka_unit_test(deleted_files_are_given_back_by_a_new_reading),
        cmocka_unit_test(give_back_restores_the_counts),
        cmocka_unit_test(unreadable_directory_is_an_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
