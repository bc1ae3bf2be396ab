/*
 * prov_route.h — which route a provisioning request takes (the table in
 * provision.h), apart from what the route then does.
 *
 * The handler (provision.c) splits the path, recognises the binding path
 * first (issue 10: before anything reads a MAC from a path — a 12-digit code
 * reads as one), runs identity (identity.h), looks up the stored device the
 * request names, and only then picks the route here; pv_prov_route_kind says
 * whether the route serves one device's own content, which is what the
 * identity decision (pv_identity_admit) needs to know. Pure but for a stat of
 * the static files (a provider's own file wins over a generated answer).
 */
#ifndef PV_SERVER_PROV_ROUTE_H
#define PV_SERVER_PROV_ROUTE_H

#include "net/fileserver.h"
#include "net/handler.h"
#include "server/identity.h"
#include "server/prov_policy.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    PV_PROV_FILES,     /* the static file handler ([server] root) */
    PV_PROV_REPORT,    /* an upload to /<report_prefix>/<mac>.xml */
    PV_PROV_FIRMWARE,  /* /firmware/<file>, in waves */
    PV_PROV_SECURE,    /* /<dir>/<mac>.cfg of a known device */
    PV_PROV_BOOTSTRAP, /* factory names, and MAC paths without a certificate */
    PV_PROV_MAC_PATH,  /* /$MA.xml over HTTPS with a certificate: SEC-PRV-1 in-house */
} pv_prov_route;

/* Splits "/a/b" into components (c holds at least 3); returns how many, or 4
 * when there are more than 3. */
size_t pv_prov_components(pv_slice path, pv_slice *c);

/* GET, HEAD or a TFTP read. */
bool pv_prov_is_read(pv_method m);

/* Anything under /<binding_prefix>/ (the code itself is c[1] when n is 2). */
bool pv_prov_is_binding(const pv_prov_policy *pol, const pv_slice *c, size_t n);

/* The route of a read that passed pv_identify; known says whether the store
 * has the device id names. model receives a bootstrap name's model. */
pv_prov_route pv_prov_route_of(pv_fileserver *files, const pv_request *req, const pv_slice *c,
                               size_t n, const pv_ident *id, bool known, char *model,
                               size_t model_size);

/* PV_ROUTE_DEVICE for a device's own content (report, profile, SEC-PRV-1). */
pv_route_kind pv_prov_route_kind(pv_prov_route r);

#endif
