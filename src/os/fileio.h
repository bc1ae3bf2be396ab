/*
 * fileio.h — whole-file reads with a size bound, and atomic whole-file writes:
 * the two ways Provisor reads and writes a small file (a configuration, a
 * profile, a certificate request, a JSON body), written once for every layer
 * above the core (which does no I/O at all).
 *
 * Reads append to a caller-owned pv_buf and stop as soon as the file is known
 * to be larger than the bound, so memory stays bounded on any input. An
 * atomic write goes to a temporary file beside the target, is fsync'ed, then
 * renamed over it: a reader sees the old file or the whole new one, and a
 * failure leaves nothing behind (rename(2) within one directory is atomic).
 * Messages name the file and say what the system said.
 */
#ifndef PV_NET_FILEIO_H
#define PV_NET_FILEIO_H

#include "core/buf.h"
#include "core/error.h"

#include <stddef.h>
#include <sys/types.h>

/*
 * Reads fd to its end and appends what it read to out (whose data is then
 * never NULL). name is what messages call the file. More than max bytes is
 * PV_ETOOBIG; a read error is PV_EIO. fd stays open.
 */
int pv_file_read_fd(int fd, const char *name, size_t max, pv_buf *out, pv_error *err);
/* Opens path and reads it with pv_file_read_fd; an absent file is PV_ENOENT. */
int pv_file_read(const char *path, size_t max, pv_buf *out, pv_error *err);

/* write(2) until every byte is written (EINTR is retried): 0, or -1 with errno set. */
int pv_file_write_all(int fd, const void *data, size_t len);
/*
 * Replaces path with data: written to "<path>.tmpXXXXXX" in the same
 * directory, fsync'ed, given mode, then renamed over path. On failure (PV_EIO,
 * or PV_EINVAL for a path too long) path is untouched and no temporary file
 * remains.
 */
int pv_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         pv_error *err);

#endif
