/* Unit tests for net/fileserver: confinement beneath the root, answers, uploads. */
#include "pv_test.h"

#include "core/alloc.h"
#include "net/exchange.h"
#include "net/fileserver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64], uploads[64];

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    snprintf(root, sizeof root, "/tmp/pv-fs-XXXXXX");
    snprintf(uploads, sizeof uploads, "/tmp/pv-up-XXXXXX");
    if (!mkdtemp(root) || !mkdtemp(uploads))
        return -1;
    char p[256];
    write_file(root, "spa942.cfg", "profile");
    snprintf(p, sizeof p, "%s/sub", root);
    mkdir(p, 0755);
    write_file(root, "sub/a.xml", "<flat-profile/>");
    snprintf(p, sizeof p, "%s/inside", root);
    symlink("sub/a.xml", p);
    snprintf(p, sizeof p, "%s/out", root);
    symlink("/etc/passwd", p);
    snprintf(p, sizeof p, "%s/outdir", root);
    symlink("/etc", p);
    snprintf(p, sizeof p, "%s/fifo", root);
    mkfifo(p, 0600);
    return 0;
}

static int teardown(void **state)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", root, uploads);
    return system(cmd) == 0 ? 0 : -1;
}

/* A minimal transport: records the one answer the handler gives, with copies of what lives
 * in the exchange's arena (the message, a memory body) and the file it takes. */
typedef struct capture {
    int calls;
    pv_response resp; /* resp.body: a pv_malloc copy (read_body frees it); resp.fd: taken */
    char message[128];
} capture;

static void capture_respond(pv_exchange *ex)
{
    capture *c = ex->owner;
    c->calls++;
    c->resp = ex->resp;
    snprintf(c->message, sizeof c->message, "%s", ex->resp.message ? ex->resp.message : "");
    c->resp.message = NULL; /* the arena's: see message */
    if (ex->resp.body_kind == PV_BODY_MEMORY)
        c->resp.body = pv_memdup0(ex->resp.body, ex->resp.body_len);
    c->resp.fd = pv_exchange_take_fd(ex);
}

static void never_orphaned(pv_exchange *ex)
{
    fail_msg("the exchange outlived its owner here");
}

static capture ask(pv_fileserver *fs, pv_method method, const char *path, const char *body)
{
    static const pv_exchange_ops ops = {.send = capture_respond, .owner_free = never_orphaned};
    capture c = {0};
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(4444)};
    inet_pton(AF_INET, "192.0.2.7", &peer.sin_addr);
    pv_exchange ex;
    pv_exchange_init(&ex, &ops, &c, PV_PROTO_TFTP, "test.request", (struct sockaddr *)&peer, NULL);
    pv_exchange_open(&ex, 0);
    ex.req.method = method;
    ex.req.path = pv_slice_from(path);
    ex.req.body = pv_slice_from(body ? body : "");
    pv_exchange_dispatch(&ex, &fs->handler);
    assert_int_equal(c.calls, 1);
    pv_exchange_end(&ex, c.resp.status, NULL, false);
    return c;
}

static void read_fd(int fd, char *out, size_t cap)
{
    ssize_t n = pread(fd, out, cap - 1, 0);
    assert_true(n >= 0);
    out[n] = '\0';
    close(fd);
}

/* The body of a 200, whichever way it came: a file the transport owns (closed here) or
 * bytes in memory (small settled files come from the cache). */
static void read_body(capture *c, char *out, size_t cap)
{
    assert_int_equal(c->resp.status, 200);
    if (c->resp.body_kind == PV_BODY_MEMORY) {
        assert_true(c->resp.body_len < cap);
        memcpy(out, c->resp.body, c->resp.body_len);
        out[c->resp.body_len] = '\0';
        free((char *)c->resp.body);
        return;
    }
    assert_int_equal(c->resp.body_kind, PV_BODY_FILE);
    assert_int_equal(c->resp.file_size, (off_t)lseek(c->resp.fd, 0, SEEK_END));
    read_fd(c->resp.fd, out, cap);
}

static void serves_files_beneath_root(void **state)
{
    pv_fileserver fs;
    pv_error err;
    assert_int_equal(pv_fileserver_init(&fs, root, NULL, &err), 0);
    char text[64];
    /* TFTP clients send both "/file" and "file". */
    const char *paths[] = {"spa942.cfg", "/spa942.cfg", "//spa942.cfg", "./spa942.cfg"};
    for (size_t i = 0; i < 4; i++) {
        capture c = ask(&fs, PV_METHOD_TFTP_READ, paths[i], NULL);
        assert_int_equal(c.resp.status, 200);
        assert_string_equal(c.resp.content_type, "application/octet-stream");
        read_body(&c, text, sizeof text);
        assert_string_equal(text, "profile");
    }
    capture c = ask(&fs, PV_METHOD_GET, "/sub/a.xml", NULL);
    assert_int_equal(c.resp.status, 200);
    assert_string_equal(c.resp.content_type, "application/xml");
    struct stat st;
    char p[256];
    snprintf(p, sizeof p, "%s/sub/a.xml", root);
    stat(p, &st);
    char etag[72];
    snprintf(etag, sizeof etag, "\"%llx-%llx-%llx\"", (unsigned long long)st.st_ino,
             (unsigned long long)st.st_size, (unsigned long long)st.st_mtime);
    assert_string_equal(c.resp.etag, etag);
    assert_int_equal(c.resp.last_modified, st.st_mtime);
    read_body(&c, text, sizeof text);
    /* A symlink that stays beneath the root is followed. */
    c = ask(&fs, PV_METHOD_GET, "inside", NULL);
    read_body(&c, text, sizeof text);
    assert_string_equal(text, "<flat-profile/>");
    pv_fileserver_free(&fs);
}

static capture ask_body(pv_fileserver *fs, const char *path, char *out, size_t cap)
{
    capture c = ask(fs, PV_METHOD_GET, path, NULL);
    pv_response r = c.resp;
    read_body(&c, out, cap);
    return (capture){.resp = r};
}

/* The small-file cache: settled files come from memory, and every change to the path shows
 * at once (in-place rewrite, rename over it, a symlink swapped in, removal). */
static void small_files_are_cached_and_revalidated(void **state)
{
    pv_fileserver fs;
    assert_int_equal(pv_fileserver_init(&fs, root, NULL, NULL), 0);
    fs.wall_clock = pv_test_clock;
    char p[256], tmp[256], text[64];
    snprintf(p, sizeof p, "%s/cached.xml", root);
    snprintf(tmp, sizeof tmp, "%s/cached.tmp", root);
    write_file(root, "cached.xml", "one");
    /* Just written: its timestamps cannot be trusted yet, so it is served from the file. */
    assert_int_equal(ask_body(&fs, "cached.xml", text, sizeof text).resp.body_kind, PV_BODY_FILE);
    assert_string_equal(text, "one");
    pv_test_clock_advance(2); /* settled: the next answers come from memory */
    assert_int_equal(ask_body(&fs, "cached.xml", text, sizeof text).resp.body_kind, PV_BODY_MEMORY);
    capture c = ask(&fs, PV_METHOD_GET, "/cached.xml", NULL);
    assert_int_equal(c.resp.body_kind, PV_BODY_MEMORY);
    assert_string_equal(c.resp.content_type, "application/xml");
    struct stat st;
    stat(p, &st);
    assert_int_equal(c.resp.last_modified, st.st_mtime);
    assert_non_null(strchr(c.resp.etag, '"'));
    read_body(&c, text, sizeof text);
    assert_string_equal(text, "one");
    /* Rewritten in place with the same size and mtime put back: the ctime tells. */
    write_file(root, "cached.xml", "two");
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    utimensat(AT_FDCWD, p, times, 0);
    ask_body(&fs, "cached.xml", text, sizeof text);
    assert_string_equal(text, "two");
    /* Replaced by rename, as deployments do. */
    write_file(root, "cached.tmp", "three");
    rename(tmp, p);
    ask_body(&fs, "cached.xml", text, sizeof text);
    assert_string_equal(text, "three");
    /* A symlink out of the root swapped in: refused, not served from memory. */
    unlink(p);
    symlink("/etc/hostname", p);
    c = ask(&fs, PV_METHOD_GET, "cached.xml", NULL);
    assert_int_equal(c.resp.status, 403);
    unlink(p);
    c = ask(&fs, PV_METHOD_GET, "cached.xml", NULL);
    assert_int_equal(c.resp.status, 404);
    pv_fileserver_free(&fs);
}

static void refuses_every_escape(void **state)
{
    pv_fileserver fs;
    assert_int_equal(pv_fileserver_init(&fs, root, NULL, NULL), 0);
    const char *outside[] = {"../../etc/passwd", "sub/../../x",      "..", "out",
                             "outdir/passwd",    "sub/../spa942.cfg"};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        capture c = ask(&fs, PV_METHOD_TFTP_READ, outside[i], NULL);
        assert_int_equal(c.resp.status, 403);
        assert_int_equal(c.resp.body_kind, PV_BODY_NONE);
        assert_non_null(strstr(c.message, "path outside root"));
    }
    /* An absolute path is taken from the root: /etc/passwd is not there. */
    capture c = ask(&fs, PV_METHOD_TFTP_READ, "/etc/passwd", NULL);
    assert_int_equal(c.resp.status, 404);
    assert_string_equal(c.message, "File not found");
    /* Not regular files: refused without blocking on the FIFO. */
    const char *odd[] = {"sub", "/", "fifo", "sub/."};
    for (size_t i = 0; i < 4; i++) {
        c = ask(&fs, PV_METHOD_TFTP_READ, odd[i], NULL);
        assert_int_equal(c.resp.status, 403);
    }
    int fd = -1;
    pv_error err;
    assert_int_equal(pv_fileserver_open(&fs, pv_slice_make("a\0b", 3), &fd, &err), PV_EACCES);
    assert_int_equal(pv_fileserver_open(&fs, pv_slice_from("nope/x"), &fd, &err), PV_ENOENT);
    assert_int_equal(ask(&fs, PV_METHOD_OTHER, "x", NULL).resp.status, 405);
    pv_fileserver_free(&fs);
    assert_int_equal(pv_fileserver_init(&fs, "/nonexistent-pv", NULL, &err), PV_ENOENT);
    assert_non_null(strstr(err.msg, "/nonexistent-pv"));
}

static void fallback_walk_follows_no_symlink(void **state)
{
    pv_fileserver fs;
    assert_int_equal(pv_fileserver_init(&fs, root, NULL, NULL), 0);
    int fd = -1;
    pv_error err;
    assert_int_equal(pv__fileserver_open_walk(fs.root_fd, "sub/a.xml", &fd, &err), 0);
    close(fd);
    assert_int_equal(pv__fileserver_open_walk(fs.root_fd, "out", &fd, &err), PV_EACCES);
    assert_non_null(strstr(err.msg, "symbolic link"));
    assert_int_equal(pv__fileserver_open_walk(fs.root_fd, "outdir/passwd", &fd, &err), PV_EACCES);
    assert_int_equal(pv__fileserver_open_walk(fs.root_fd, "missing", &fd, &err), PV_ENOENT);
    pv_fileserver_free(&fs);
}

static void stores_uploads_atomically_with_safe_names(void **state)
{
    pv_fileserver fs;
    assert_int_equal(pv_fileserver_init(&fs, root, NULL, NULL), 0);
    assert_int_equal(ask(&fs, PV_METHOD_TFTP_WRITE, "r.xml", "x").resp.status, 403);
    pv_fileserver_free(&fs);

    assert_int_equal(pv_fileserver_init(&fs, root, uploads, NULL), 0);
    capture c = ask(&fs, PV_METHOD_TFTP_WRITE, "../../status/report.xml", "<status/>");
    assert_int_equal(c.resp.status, 201);
    char path[256], text[64];
    snprintf(path, sizeof path, "%s/192.0.2.7-report.xml", uploads);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    read_fd(fd, text, sizeof text);
    assert_string_equal(text, "<status/>");
    fs.max_upload = 4;
    assert_int_equal(ask(&fs, PV_METHOD_PUT, "big", "12345").resp.status, 413);
    pv_fileserver_free(&fs);

    /* The upload directory's quota (upload_quota.h): one source may keep 2 reports; the
     * same name again replaces its file; the third name from that source is refused. */
    assert_int_equal(pv_fileserver_init(&fs, root, uploads, NULL), 0);
    pv_fileserver_set_upload_limits(&fs, (pv_upload_limits){1 << 20, 100, 2});
    assert_int_equal(ask(&fs, PV_METHOD_PUT, "second.xml", "<s/>").resp.status, 201);
    assert_int_equal(ask(&fs, PV_METHOD_PUT, "second.xml", "<s2/>").resp.status, 201);
    c = ask(&fs, PV_METHOD_POST, "third.xml", "<t/>");
    assert_int_equal(c.resp.status, 507);
    assert_non_null(strstr(c.message, "too many uploads stored from this address"));
    snprintf(path, sizeof path, "%s/192.0.2.7-third.xml", uploads);
    assert_int_equal(access(path, F_OK), -1); /* nothing stored */
    pv_fileserver_set_upload_limits(&fs, (pv_upload_limits){12, 100, 0});
    assert_int_equal(ask(&fs, PV_METHOD_PUT, "third.xml", "<t/>").resp.status, 507); /* bytes */
    pv_fileserver_free(&fs);

    pv_buf name = {0};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::1", &v6.sin6_addr);
    pv__fileserver_upload_name((struct sockaddr *)&v6, pv_slice_from("a\\..\\.hidden x"), &name);
    assert_string_equal(name.data, "__1-_hidden_x");
    pv_buf_free(&name);
}

static void content_types_by_extension(void **state)
{
    assert_string_equal(pv_fileserver_content_type(pv_slice_from("a/b.XML")), "application/xml");
    assert_string_equal(pv_fileserver_content_type(pv_slice_from("x.txt")),
                        "text/plain; charset=utf-8");
    assert_string_equal(pv_fileserver_content_type(pv_slice_from("sip.loads")),
                        "application/octet-stream");
    assert_string_equal(pv_fileserver_content_type(pv_slice_from("noext")),
                        "application/octet-stream");
    assert_string_equal(pv_fileserver_content_type(pv_slice_from("dir.d/noext")),
                        "application/octet-stream");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(serves_files_beneath_root),
        cmocka_unit_test(refuses_every_escape),
        cmocka_unit_test(small_files_are_cached_and_revalidated),
        cmocka_unit_test(fallback_walk_follows_no_symlink),
        cmocka_unit_test(stores_uploads_atomically_with_safe_names),
        cmocka_unit_test(content_types_by_extension),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
