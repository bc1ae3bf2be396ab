/* upload_quota.c — limits on the upload directory; see upload_quota.h. */
#include "net/upload_quota.h"

#include "core/alloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RESCAN_MS 1000 /* the directory is read again at most this often */

pv_upload_limits pv_upload_limits_default(void)
{
    return (pv_upload_limits){256ull << 20, 10000, 32};
}

/* The source of a stored upload: its name up to the first '-' (fileserver.h). */
static void source_of(const char *name, char out[64])
{
    size_t n = strcspn(name, "-");
    if (n >= 64)
        n = 63;
    memcpy(out, name, n);
    out[n] = '\0';
}

static void key_of(const char *source, pv_source_key *k)
{
    pv_source_key_text(source, strlen(source), k);
}

/* The files stored from source (0 for a source never seen). */
static unsigned files_of(const pv_upload_quota *q, const char *source)
{
    pv_source_key k;
    key_of(source, &k);
    return pv_source_counts_get(&q->sources, &k);
}

static void count_file(pv_upload_quota *q, const char *source, int delta)
{
    pv_source_key k;
    key_of(source, &k);
    pv_source_counts_add(&q->sources, &k, delta);
}

/* Counts what the directory holds now; temporary files of uploads in progress
 * (".upload-*") are not stored uploads and are not counted. */
static int scan(pv_upload_quota *q, pv_error *err)
{
    int fd = openat(q->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (dir == NULL) {
        pv_error_set(err, PV_EIO, "upload directory: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return PV_EIO;
    }
    pv_source_counts_clear(&q->sources);
    q->bytes = 0;
    q->files = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        struct stat st;
        if (e->d_name[0] == '.' || fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        char key[64];
        source_of(e->d_name, key);
        count_file(q, key, +1);
        q->files++;
        q->bytes += (uint64_t)st.st_size;
    }
    closedir(dir);
    return 0;
}

int pv_upload_quota_init(pv_upload_quota *q, int dir_fd, pv_upload_limits limits, pv_error *err)
{
    memset(q, 0, sizeof *q);
    q->dir_fd = dir_fd;
    q->limits = limits;
    pthread_mutex_init(&q->lock, NULL);
    int rc = scan(q, err);
    if (rc != 0)
        pv_upload_quota_free(q);
    return rc;
}

void pv_upload_quota_free(pv_upload_quota *q)
{
    pv_source_counts_clear(&q->sources);
    pthread_mutex_destroy(&q->lock);
}

void pv_upload_quota_set_limits(pv_upload_quota *q, pv_upload_limits limits)
{
    pthread_mutex_lock(&q->lock);
    q->limits = limits;
    pthread_mutex_unlock(&q->lock);
}

/* a - b, or 0: the counts may have drifted below a file's size (deleted files). */
static uint64_t minus(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

/* Which limit taking t would pass, or NULL. */
static const char *over(const pv_upload_quota *q, const pv_upload_ticket *t)
{
    const pv_upload_limits *l = &q->limits;
    if (l->max_bytes && minus(q->bytes, t->replaced_bytes) + t->bytes > l->max_bytes)
        return "the upload directory is full (bytes)";
    if (t->replaced)
        return NULL;
    if (l->max_files && q->files + 1 > l->max_files)
        return "the upload directory is full (files)";
    if (l->max_files_per_source && files_of(q, t->source) + 1 > l->max_files_per_source)
        return "too many uploads stored from this address";
    return NULL;
}

int pv_upload_quota_take(pv_upload_quota *q, const char *name, uint64_t bytes, uint64_t now_ms,
                         pv_upload_ticket *ticket, pv_error *err)
{
    memset(ticket, 0, sizeof *ticket);
    source_of(name, ticket->source);
    ticket->bytes = bytes;
    struct stat st;
    if (fstatat(q->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
        ticket->replaced = true; /* the same report again: replaces, adds no file */
        ticket->replaced_bytes = (uint64_t)st.st_size;
    }
    pthread_mutex_lock(&q->lock);
    const char *why = over(q, ticket);
    if (why != NULL && now_ms - q->scanned_ms >= RESCAN_MS) {
        q->scanned_ms = now_ms; /* files may have been deleted or archived meanwhile */
        if (scan(q, NULL) == 0)
            why = over(q, ticket);
    }
    if (why == NULL) {
        q->bytes = minus(q->bytes, ticket->replaced_bytes) + bytes;
        if (!ticket->replaced) {
            q->files++;
            count_file(q, ticket->source, +1);
        }
    }
    pthread_mutex_unlock(&q->lock);
    if (why != NULL) {
        ticket->refusal = why;
        pv_error_set(err, PV_ELIMIT, "%s", why);
        return PV_ELIMIT;
    }
    return 0;
}

void pv_upload_quota_give_back(pv_upload_quota *q, const pv_upload_ticket *t)
{
    pthread_mutex_lock(&q->lock);
    q->bytes = minus(q->bytes, t->bytes) + t->replaced_bytes;
    if (!t->replaced) {
        q->files -= q->files > 0;
        count_file(q, t->source, -1); /* never below zero */
    }
    pthread_mutex_unlock(&q->lock);
}

void pv_upload_quota_usage(pv_upload_quota *q, uint64_t *bytes, unsigned *files)
{
    pthread_mutex_lock(&q->lock);
    *bytes = q->bytes;
    *files = q->files;
    pthread_mutex_unlock(&q->lock);
}
