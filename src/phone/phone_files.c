/*
 * phone_files.c — the phone's non-volatile memory: whole files written atomically (temporary
 * file, fsync, rename, fsync of the directory) so a power cut during a resync or an upgrade
 * leaves the old state or the new one, never half of each; and bounded reads. See phone.h.
 */
#include "phone/phone.h"

#include "core/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int pv_phone_write_file(const char *dir, const char *name, const void *data, size_t len,
                        pv_error *err)
{
    char tmp[4096], path[4096];
    int n1 = snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    int n2 = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n1 < 0 || (size_t)n1 >= sizeof tmp || n2 < 0 || (size_t)n2 >= sizeof path)
        return pv_error_set(err, PV_ETOOBIG, "state directory path too long: %s", dir);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return pv_error_set(err, PV_EIO, "%s: %s", tmp, strerror(errno));
    const char *p = data;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return pv_error_set(err, PV_EIO, "%s: %s", tmp, strerror(e));
        }
        off += (size_t)w;
    }
    /* the data must be on disk before the name points at it, and the new name
     * must be on disk before we say it is saved: a power cut keeps old or new */
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        return pv_error_set(err, PV_EIO, "%s: %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return pv_error_set(err, PV_EIO, "%s: %s", path, strerror(e));
    }
    if (fsync_dir(dir) != 0)
        return pv_error_set(err, PV_EIO, "%s: %s", dir, strerror(errno));
    return 0;
}

int pv_phone_read_file(const char *dir, const char *name, size_t max, char **data, size_t *len,
                       pv_error *err)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return pv_error_set(err, PV_ETOOBIG, "path too long: %s", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pv_error_set(err, errno == ENOENT ? PV_ENOENT : PV_EIO, "%s: %s", path,
                            strerror(errno));
    pv_buf b = {0};
    char chunk[8192];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            pv_buf_free(&b);
            return pv_error_set(err, PV_EIO, "%s: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        if (b.len + (size_t)r > max) {
            close(fd);
            pv_buf_free(&b);
            return pv_error_set(err, PV_ETOOBIG, "%s: larger than %zu bytes", path, max);
        }
        pv_buf_append(&b, chunk, (size_t)r);
    }
    close(fd);
    pv_buf_append_char(&b, '\0');
    *data = pv_buf_take(&b, len);
    (*len)--;
    return 0;
}

