/* fileserver.c — the static file handler; see fileserver.h. */
#include "net/fileserver.h"

#include "core/alloc.h"
#include "os/fileio.h"
#include "net/sockaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_UPLOAD (1024 * 1024)
#define MAX_BASE_NAME 128

/*
 * The small-file cache. Phones fetch the same few small profiles again and
 * again; opening, stat'ing and closing each one per request cost more than
 * the answer itself. Each loop thread keeps the bytes of recently served
 * small files, and a request costs one fstatat() that revalidates them: the
 * entry is used only while the path still names the same inode with the same
 * size, mtime and ctime. Security holds because the bytes were read through
 * the checked open (openat2 RESOLVE_BENEATH), and a path that now resolves
 * elsewhere (a symlink swapped in) names another inode, so it misses and the
 * checked open decides again. A file changed within the last second is not
 * cached: timestamps come from a coarse clock, so a second write in the same
 * tick would leave them equal (git's "racy" rule).
 */
#define CACHE_SLOTS 64
#define CACHE_MAX_FILE (32 * 1024) /* bytes; bounds the cache at 2 MiB per thread */
#define CACHE_PATH_MAX 256

typedef struct cache_entry {
    const pv_fileserver *fs; /* NULL: empty */
    int root_fd;
    char path[CACHE_PATH_MAX];
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    char etag[72];
    char *data;
} cache_entry;

typedef struct file_cache {
    unsigned epoch;
    cache_entry slots[CACHE_SLOTS];
} file_cache;

/* Any fileserver freed or made invalidates every thread's cache (a new one
 * may reuse the old one's address and root descriptor). */
static _Atomic unsigned cache_epoch;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_clear(file_cache *c)
{
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        free(c->slots[i].data);
        c->slots[i].data = NULL;
        c->slots[i].fs = NULL;
    }
}

static void cache_destroy(void *p)
{
    cache_clear(p);
    free(p);
}

static void cache_key_create(void)
{
    (void)pthread_key_create(&cache_key, cache_destroy); /* freed when its thread exits */
}

static file_cache *thread_cache(void)
{
    pthread_once(&cache_once, cache_key_create);
    file_cache *c = pthread_getspecific(cache_key);
    if (c == NULL) {
        c = pv_calloc(1, sizeof *c);
        c->epoch = atomic_load_explicit(&cache_epoch, memory_order_acquire);
        pthread_setspecific(cache_key, c);
    }
    unsigned epoch = atomic_load_explicit(&cache_epoch, memory_order_acquire);
    if (c->epoch != epoch) {
        cache_clear(c);
        c->epoch = epoch;
    }
    return c;
}

static cache_entry *cache_slot(file_cache *c, const pv_fileserver *fs, const char *rel)
{
    uint32_t h = 2166136261u ^ (uint32_t)(uintptr_t)fs; /* FNV-1a */
    for (const char *p = rel; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &c->slots[h % CACHE_SLOTS];
}

static bool same_file(const cache_entry *e, const struct stat *st)
{
    return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec &&
           e->ctime.tv_sec == st->st_ctim.tv_sec && e->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static void fileserver_handle(pv_handler *self, pv_request *req);

static time_t wall_clock_now(void)
{
    return time(NULL);
}

int pv_fileserver_init(pv_fileserver *fs, const char *root, const char *upload_dir, pv_error *err)
{
    memset(fs, 0, sizeof *fs);
    atomic_fetch_add_explicit(&cache_epoch, 1, memory_order_acq_rel);
    fs->handler.handle = fileserver_handle;
    fs->handler.data = fs;
    fs->upload_fd = -1;
    fs->max_upload = DEFAULT_MAX_UPLOAD;
    fs->wall_clock = wall_clock_now;
    fs->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fs->root_fd < 0)
        return pv_error_set(err, errno == ENOENT ? PV_ENOENT : PV_EIO, "root directory %s: %s",
                            root, strerror(errno));
    if (upload_dir != NULL) {
        fs->upload_fd = open(upload_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fs->upload_fd < 0) {
            int e = errno;
            close(fs->root_fd);
            fs->root_fd = -1;
            return pv_error_set(err, e == ENOENT ? PV_ENOENT : PV_EIO, "upload directory %s: %s",
                                upload_dir, strerror(e));
        }
        int rc = pv_upload_quota_init(&fs->quota, fs->upload_fd, pv_upload_limits_default(), err);
        if (rc != 0) {
            pv_fileserver_free(fs);
            return rc;
        }
        fs->has_quota = true;
    }
    return 0;
}

void pv_fileserver_set_upload_limits(pv_fileserver *fs, pv_upload_limits limits)
{
    if (fs->has_quota)
        pv_upload_quota_set_limits(&fs->quota, limits);
}

void pv_fileserver_free(pv_fileserver *fs)
{
    atomic_fetch_add_explicit(&cache_epoch, 1, memory_order_acq_rel);
    if (fs->root_fd >= 0)
        close(fs->root_fd);
    if (fs->upload_fd >= 0)
        close(fs->upload_fd);
    fs->root_fd = fs->upload_fd = -1;
    if (fs->has_quota)
        pv_upload_quota_free(&fs->quota);
    fs->has_quota = false;
}

/*
 * Turns a request path into a relative path: leading slashes dropped (TFTP
 * clients send both "/file" and "file", and an absolute path means "from the
 * root"), `..` refused outright rather than resolved, so that no lexical trick
 * is ever handed to the kernel.
 */
static int relative_path(pv_slice path, char *out, size_t cap, pv_error *err)
{
    while (path.len > 0 && path.ptr[0] == '/') {
        path.ptr++;
        path.len--;
    }
    if (memchr(path.ptr, '\0', path.len) != NULL)
        return pv_error_set(err, PV_EACCES, "path contains a NUL byte");
    if (path.len == 0)
        return pv_error_set(err, PV_EACCES, "not a regular file: the root directory");
    if (path.len >= cap)
        return pv_error_set(err, PV_EACCES, "path of %zu bytes is too long", path.len);
    size_t start = 0;
    for (size_t i = 0; i <= path.len; i++) {
        if (i == path.len || path.ptr[i] == '/') {
            if (i - start == 2 && path.ptr[start] == '.' && path.ptr[start + 1] == '.')
                return pv_error_set(err, PV_EACCES, "path outside root: '..' is not allowed");
            start = i + 1;
        }
    }
    memcpy(out, path.ptr, path.len);
    out[path.len] = '\0';
    return 0;
}

static int open_errno(int e, const char *rel, pv_error *err)
{
    switch (e) {
    case EXDEV: /* openat2 RESOLVE_BENEATH: the walk would leave the root */
        return pv_error_set(err, PV_EACCES, "path outside root: %s", rel);
    case ELOOP:
        return pv_error_set(err, PV_EACCES, "symbolic link refused: %s", rel);
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
        return pv_error_set(err, PV_ENOENT, "file not found: %s", rel);
    case EACCES:
    case EPERM:
        return pv_error_set(err, PV_EACCES, "permission denied: %s", rel);
    default:
        return pv_error_set(err, PV_EIO, "%s: %s", rel, strerror(e));
    }
}

/* O_NONBLOCK: opening a FIFO planted in the root must not block the loop. */
#define READ_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

/*
 * The fallback for kernels without openat2 (before 5.6): one component at a
 * time with O_NOFOLLOW, so that no symbolic link is followed at all.
 */
int pv__fileserver_open_walk(int root_fd, const char *rel, int *fd, pv_error *err)
{
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", rel); /* rel comes from relative_path: fits */
    int dir = dup(root_fd);
    if (dir < 0)
        return pv_error_set(err, PV_EIO, "dup: %s", strerror(errno));
    char *save = NULL;
    char *comp = strtok_r(copy, "/", &save);
    while (comp != NULL) {
        char *next = strtok_r(NULL, "/", &save);
        if (next == NULL) {
            int f = openat(dir, comp, READ_FLAGS | O_NOFOLLOW);
            int e = errno;
            close(dir);
            if (f < 0)
                return open_errno(e, rel, err);
            *fd = f;
            return 0;
        }
        int sub = openat(dir, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        if (sub < 0) {
            struct stat st;
            /* O_PATH|O_NOFOLLOW opens a symlink itself; O_DIRECTORY then says ENOTDIR. */
            if (e == ENOTDIR && fstatat(dir, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(st.st_mode))
                e = ELOOP;
            close(dir);
            return open_errno(e, rel, err);
        }
        close(dir);
        dir = sub;
        comp = next;
    }
    close(dir); /* only slashes and dots: the root itself */
    return pv_error_set(err, PV_EACCES, "not a regular file: %s", rel);
}

/* Opens rel (from relative_path) beneath the root; a regular file or an error. */
static int open_rel(const pv_fileserver *fs, const char *rel, int *fd, struct stat *st,
                    pv_error *err)
{
    int rc = 0;
    struct open_how how = {
        .flags = READ_FLAGS,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    /* glibc 2.36 has no openat2() wrapper. */
    int f = (int)syscall(SYS_openat2, fs->root_fd, rel, &how, sizeof how);
    if (f < 0 && errno == ENOSYS)
        rc = pv__fileserver_open_walk(fs->root_fd, rel, &f, err);
    else if (f < 0)
        rc = open_errno(errno, rel, err);
    if (rc < 0)
        return rc;
    if (fstat(f, st) != 0 || !S_ISREG(st->st_mode)) {
        close(f);
        return pv_error_set(err, PV_EACCES, "not a regular file: %s", rel);
    }
    *fd = f;
    return 0;
}

int pv_fileserver_open(const pv_fileserver *fs, pv_slice path, int *fd, pv_error *err)
{
    char rel[PATH_MAX];
    int rc = relative_path(path, rel, sizeof rel, err);
    if (rc < 0)
        return rc;
    struct stat st;
    return open_rel(fs, rel, fd, &st, err);
}

const char *pv_fileserver_content_type(pv_slice name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {"xml", "application/xml"},
        {"cfg", "application/octet-stream"}, /* SPA .cfg profiles are binary */
        {"txt", "text/plain; charset=utf-8"},
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"css", "text/css"},
        {"js", "text/javascript"},
        {"json", "application/json"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"svg", "image/svg+xml"},
        {"ico", "image/x-icon"},
        {"gz", "application/gzip"},
        {"tar", "application/x-tar"},
        {"pem", "application/x-pem-file"},
        {"crt", "application/x-x509-ca-cert"},
        {"loads", "application/octet-stream"},
        {"bin", "application/octet-stream"},
    };
    size_t dot = name.len;
    while (dot > 0 && name.ptr[dot - 1] != '.' && name.ptr[dot - 1] != '/')
        dot--;
    if (dot == 0 || name.ptr[dot - 1] != '.')
        return "application/octet-stream";
    pv_slice ext = pv_slice_make(name.ptr + dot, name.len - dot);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (pv_slice_case_eq_cstr(ext, types[i].ext))
            return types[i].type;
    }
    return "application/octet-stream";
}

static void respond_open_error(pv_request *req, int rc, const pv_error *err)
{
    if (rc == PV_ENOENT) {
        pv_request_respond_status(req, 404, "File not found");
        return;
    }
    if (rc == PV_EACCES) {
        /* The one refusal that matters to operators names itself in the TFTP error. */
        pv_request_respond_status(req, 403,
                                  strncmp(err->msg, "path outside root", 17) == 0
                                      ? "path outside root"
                                      : (strncmp(err->msg, "symbolic", 8) == 0
                                             ? "path outside root: symbolic link"
                                             : "Access violation: not a readable regular file"));
        return;
    }
    pv_request_respond_status(req, 500, "cannot open file");
}

/* A strong validator: inode, size and mtime change whenever content may have. */
static void format_etag(const struct stat *st, char *out, size_t cap)
{
    snprintf(out, cap, "\"%llx-%llx-%llx\"", (unsigned long long)st->st_ino,
             (unsigned long long)st->st_size, (unsigned long long)st->st_mtime);
}

static void respond_cached(pv_request *req, const cache_entry *e)
{
    pv_response resp = {
        .status = 200,
        .body_kind = PV_BODY_MEMORY,
        /* A copy in the exchange's arena: the cache entry may change before it is sent. */
        .body = pv_request_memdup(req, e->data, (size_t)e->size),
        .body_len = (size_t)e->size,
        .fd = -1,
        .last_modified = e->mtime.tv_sec,
        .content_type = pv_fileserver_content_type(req->path),
    };
    _Static_assert(sizeof resp.etag == sizeof e->etag, "one entity tag size");
    memcpy(resp.etag, e->etag, sizeof resp.etag);
    pv_request_respond(req, &resp);
}

/* Keeps a small, settled file's bytes; false when it does not qualify. */
static bool cache_fill(cache_entry *e, const pv_fileserver *fs, const char *rel, int fd,
                       const struct stat *st)
{
    size_t rel_len = strlen(rel);
    time_t now = fs->wall_clock();
    if (st->st_size > CACHE_MAX_FILE || rel_len >= CACHE_PATH_MAX ||
        st->st_ctim.tv_sec >= now - 1 || st->st_mtim.tv_sec >= now - 1)
        return false; /* too big, or changed too recently to trust its timestamps */
    char *data = pv_malloc((size_t)st->st_size + 1);
    ssize_t n = pread(fd, data, (size_t)st->st_size, 0);
    if (n != (ssize_t)st->st_size) {
        free(data);
        return false;
    }
    free(e->data);
    e->fs = fs;
    e->root_fd = fs->root_fd;
    memcpy(e->path, rel, rel_len + 1);
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->size = st->st_size;
    e->mtime = st->st_mtim;
    e->ctime = st->st_ctim;
    format_etag(st, e->etag, sizeof e->etag);
    e->data = data;
    return true;
}

static void serve_file(pv_fileserver *fs, pv_request *req)
{
    char rel[PATH_MAX];
    pv_error err;
    int rc = relative_path(req->path, rel, sizeof rel, &err);
    if (rc < 0) {
        respond_open_error(req, rc, &err);
        return;
    }
    file_cache *cache = thread_cache();
    cache_entry *e = cache_slot(cache, fs, rel);
    struct stat st;
    if (e->fs == fs && e->root_fd == fs->root_fd && strcmp(e->path, rel) == 0) {
        /* No symlink is followed at the end: a link swapped in for the file misses. */
        if (fstatat(fs->root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && same_file(e, &st)) {
            respond_cached(req, e);
            return;
        }
        free(e->data);
        e->data = NULL;
        e->fs = NULL;
    }
    int fd = -1;
    rc = open_rel(fs, rel, &fd, &st, &err);
    if (rc < 0) {
        respond_open_error(req, rc, &err);
        return;
    }
    if (cache_fill(e, fs, rel, fd, &st)) {
        close(fd);
        respond_cached(req, e);
        return;
    }
    pv_response resp = {
        .status = 200,
        .body_kind = PV_BODY_FILE,
        .fd = fd,
        .file_size = st.st_size,
        .last_modified = st.st_mtime,
        .content_type = pv_fileserver_content_type(req->path),
    };
    format_etag(&st, resp.etag, sizeof resp.etag);
    pv_request_respond(req, &resp);
}

/* Only [A-Za-z0-9._-], no leading dot: the name cannot escape or hide. */
static void append_safe(pv_buf *b, pv_slice s, size_t max)
{
    size_t start = b->len;
    for (size_t i = 0; i < s.len && i < max; i++) {
        char c = s.ptr[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || (c == '.' && b->len > start);
        pv_buf_append_char(b, ok ? c : '_');
    }
}

/* "<peer address>-<base name>": who sent it and what they called it. */
void pv__fileserver_upload_name(const struct sockaddr *peer, pv_slice path, pv_buf *out)
{
    char addr[PV_SOCKADDR_TEXT_MAX] = "unknown";
    pv_sockaddr_host(peer, addr, sizeof addr);
    size_t base = path.len;
    while (base > 0 && path.ptr[base - 1] != '/' && path.ptr[base - 1] != '\\')
        base--;
    pv_slice name = pv_slice_make(path.ptr + base, path.len - base);
    append_safe(out, pv_slice_from(addr), sizeof addr);
    pv_buf_append_char(out, '-');
    append_safe(out, name.len ? name : pv_slice_from("upload"), MAX_BASE_NAME);
}

static void store_upload(pv_fileserver *fs, pv_request *req)
{
    static _Atomic unsigned long counter;
    if (fs->upload_fd < 0) {
        pv_request_respond_status(req, 403, "uploads are not accepted here");
        return;
    }
    if (req->body.len > fs->max_upload) { /* spec 7.1 reports are small */
        pv_request_respond_status(req, 413, "upload too large");
        return;
    }
    pv_buf name = {0};
    pv__fileserver_upload_name(req->peer, req->path, &name);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pv_upload_ticket ticket;
    if (pv_upload_quota_take(&fs->quota, name.data, req->body.len,
                             (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000, &ticket,
                             NULL) != 0) {
        pv_request_respond_status(req, 507, ticket.refusal); /* RFC 4918 §11.5 */
        pv_buf_free(&name);
        return;
    }
    char tmp[64];
    snprintf(tmp, sizeof tmp, ".upload-%ld-%lu.tmp", (long)getpid(), atomic_fetch_add(&counter, 1));
    /* Written under a temporary name and renamed: readers never see half a report. */
    int fd = openat(fs->upload_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
    bool ok = fd >= 0 && pv_file_write_all(fd, req->body.ptr, req->body.len) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok && renameat(fs->upload_fd, tmp, fs->upload_fd, name.data) != 0)
        ok = false;
    if (!ok) {
        int e = errno;
        if (fd >= 0)
            unlinkat(fs->upload_fd, tmp, 0);
        pv_upload_quota_give_back(&fs->quota, &ticket);
        pv_request_respond_status(req, e == ENOSPC ? 507 : 500, "cannot store upload");
    } else {
        pv_request_respond_status(req, 201, "stored");
    }
    pv_buf_free(&name);
}

static void fileserver_handle(pv_handler *self, pv_request *req)
{
    pv_fileserver *fs = self->data;
    switch (req->method) {
    case PV_METHOD_GET:
    case PV_METHOD_HEAD:
    case PV_METHOD_TFTP_READ:
        serve_file(fs, req);
        return;
    case PV_METHOD_PUT:
    case PV_METHOD_POST:
    case PV_METHOD_TFTP_WRITE:
        store_upload(fs, req);
        return;
    default:
        pv_request_respond_status(req, 405, "method not allowed");
        return;
    }
}
