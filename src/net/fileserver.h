/*
 * fileserver.h — a pv_handler that serves a directory tree: what
 * `provisor serve --root DIR` answers when no provisioning store is in use,
 * and what the provisioning server falls back to for firmware images.
 *
 * It resolves a request path beneath the root only: `..`, absolute paths,
 * and symlinks that leave the root are refused (403), never followed
 * (openat2 RESOLVE_BENEATH where the kernel has it). A regular file is
 * answered as PV_BODY_FILE (an fd the transport owns) with size,
 * Last-Modified, a strong ETag from inode, size and mtime, and a content type
 * from the extension. Uploads (HTTP PUT/POST, TFTP WRQ: status reports,
 * spec 7.1) are written atomically into upload_dir when one is set, else
 * refused with 403; a quota on that directory (bytes, files, files per
 * source) answers 507 when full, so that no client fills the disk. The fileserver is immutable
 * after init and thread-safe.
 */
#ifndef PV_NET_FILESERVER_H
#define PV_NET_FILESERVER_H

#include "core/error.h"
#include "net/handler.h"
#include "net/upload_quota.h"

#include <stddef.h>
#include <time.h>

typedef struct pv_fileserver {
    pv_handler handler; /* handler.data points back here */
    int root_fd;        /* O_PATH|O_DIRECTORY descriptor of the root */
    int upload_fd;      /* directory for uploads, or -1 */
    size_t max_upload;  /* bytes; larger uploads are refused with 413 */
    bool has_quota;
    pv_upload_quota quota; /* what upload_dir may hold (refused with 507) */
    /* The wall clock in seconds (time() after init): a file changed within the last second is
     * not cached, since its timestamps cannot be trusted yet. A test sets a clock of its own
     * before serving, instead of sleeping until its files settle. */
    time_t (*wall_clock)(void);
} pv_fileserver;

/* Opens root (and upload_dir unless NULL, with the default upload limits). */
int pv_fileserver_init(pv_fileserver *fs, const char *root, const char *upload_dir, pv_error *err);
void pv_fileserver_free(pv_fileserver *fs);
/* What upload_dir may hold (upload_quota.h); safe while requests are served (SIGHUP). */
void pv_fileserver_set_upload_limits(pv_fileserver *fs, pv_upload_limits limits);

/*
 * Opens path beneath root_fd for reading, refusing any escape; fills *fd and
 * returns 0, or PV_EACCES (escape, not a regular file), PV_ENOENT, PV_EIO.
 * Exposed for the provisioning server, which serves firmware the same way.
 */
int pv_fileserver_open(const pv_fileserver *fs, pv_slice path, int *fd, pv_error *err);

/* A content type for a file name by its extension (xml, cfg, txt, loads, bin, ...). */
const char *pv_fileserver_content_type(pv_slice name);

/* Internal, exposed for tests: the component-by-component O_NOFOLLOW walk used
 * when the kernel has no openat2 (rel: already checked, relative, no `..`),
 * and the name an upload is stored under ("<peer address>-<safe base name>"). */
int pv__fileserver_open_walk(int root_fd, const char *rel, int *fd, pv_error *err);
void pv__fileserver_upload_name(const struct sockaddr *peer, pv_slice path, pv_buf *out);

#endif
