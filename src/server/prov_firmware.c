/* prov_firmware.c — firmware downloads; see prov_firmware.h. */
#include "server/prov_firmware.h"

#include "server/firmware.h"
#include "server/job_metrics.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void pv_prov_serve_firmware(pv_fileserver *images, pv_request *req)
{
    pv_slice rel = pv_slice_make(req->path.ptr, req->path.len);
    while (rel.len > 0 && rel.ptr[0] == '/')
        rel = pv_slice_make(rel.ptr + 1, rel.len - 1);
    rel = pv_slice_make(rel.ptr + strlen(PV_FIRMWARE_PREFIX) - 1,
                        rel.len - (strlen(PV_FIRMWARE_PREFIX) - 1));
    int fd = -1;
    pv_error e;
    int rc = pv_fileserver_open(images, rel, &fd, &e);
    if (rc != 0) {
        pv_request_respond_status(req, rc == PV_ENOENT ? 404 : 403, e.msg);
        return;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        pv_request_respond_status(req, 500, "cannot stat the image");
        return;
    }
    pv_jobm_firmware_download(rel); /* an image that exists: bounded by the directory */
    pv_response r = {.status = 200, .body_kind = PV_BODY_FILE, .fd = fd, .file_size = st.st_size};
    r.last_modified = st.st_mtime;
    r.content_type = pv_fileserver_content_type(rel);
    (void)snprintf(r.etag, sizeof r.etag, "\"%llx-%llx-%llx\"", (unsigned long long)st.st_ino,
                   (unsigned long long)st.st_size, (unsigned long long)st.st_mtime);
    pv_request_respond(req, &r);
}
