/*
 * prov_firmware.h — firmware downloads: GET /firmware/<file> from the
 * registered images' directory (firmware.h), after the node's admission
 * controller (net/admission.h, class firmware: [provisioning] firmware_wave
 * starts per second) let it start. A download beyond the rate waits up to
 * queue_deadline_ms, then gets 503 with a Retry-After (DESIGN 8).
 */
#ifndef PV_SERVER_PROV_FIRMWARE_H
#define PV_SERVER_PROV_FIRMWARE_H

#include "net/fileserver.h"
#include "net/handler.h"

/* Answers req with the image its path names (404/403 when there is none). */
void pv_prov_serve_firmware(pv_fileserver *images, pv_request *req);

#endif
