/* fileio.c — bounded whole-file reads and atomic writes; see fileio.h. */
#include "os/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK 65536

int pv_file_read_fd(int fd, const char *name, size_t max, pv_buf *out, pv_error *err)
{
    size_t got = 0;
    for (;;) {
        /* Never ask for more than one byte past the bound: that byte is
         * enough to know the file is too large, and memory stays bounded. */
        size_t want = max - got < READ_CHUNK ? max - got + 1 : READ_CHUNK;
        pv_buf_reserve(out, want);
        ssize_t n = read(fd, out->data + out->len, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return pv_error_set(err, PV_EIO, "%s: %s", name, strerror(errno));
        if (n == 0)
            return 0;
        out->len += (size_t)n;
        out->data[out->len] = '\0';
        got += (size_t)n;
        if (got > max)
            return pv_error_set(err, PV_ETOOBIG, "%s: larger than %zu bytes", name, max);
    }
}

int pv_file_read(const char *path, size_t max, pv_buf *out, pv_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pv_error_set(err, errno == ENOENT ? PV_ENOENT : PV_EIO, "%s: %s", path,
                            strerror(errno));
    int rc = pv_file_read_fd(fd, path, max, out, err);
    close(fd);
    return rc;
}

int pv_file_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int pv_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, pv_error *err)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return pv_error_set(err, PV_EINVAL, "%s: path too long", path);
    int fd = mkstemp(tmp); /* in path's directory, so that rename(2) stays atomic */
    if (fd < 0)
        return pv_error_set(err, PV_EIO, "%s: %s", path, strerror(errno));
    /* The data must be on disk before the name points at it: after a crash
     * path holds the old file or the whole new one, never a prefix. */
    if (pv_file_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        int saved = errno;
        close(fd);
        unlink(tmp);
        return pv_error_set(err, PV_EIO, "%s: %s", path, strerror(saved));
    }
    (void)fchmod(fd, mode); /* mkstemp made it 0600: the safe side if this fails */
    close(fd);
    if (rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        return pv_error_set(err, PV_EIO, "%s: %s", path, strerror(saved));
    }
    return 0;
}
