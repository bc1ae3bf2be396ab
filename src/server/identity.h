/*
 * identity.h — which phone is asking (DESIGN decision 3).
 *
 * Three witnesses, strongest first: the verified client certificate (spec 4.4
 * subject "OU=CP-8841-3PCC, L=88012BA01234, S=000e08abcdef", or a MAC in the
 * CN or a subjectAltName), the MAC named by the requested path
 * (`/$MA.xml`, `/<dir>/$MA.cfg`), and the User-Agent in any format of spec
 * 8.1. The first one that names a MAC decides; a verified certificate that
 * disagrees with the path or the User-Agent is a refusal (PV_EACCES, the
 * handler answers 403 and audits it): a phone must not fetch another phone's
 * profile with its own certificate.
 *
 * Pure: no store, no clock. Whether the stored device accepts this identity
 * (pinned fingerprint, require_cert) is pv_identity_admit(), which the
 * handler applies with the device it looked up.
 */
#ifndef PV_SERVER_IDENTITY_H
#define PV_SERVER_IDENTITY_H

#include "core/buf.h"
#include "core/device_id.h"
#include "core/error.h"
#include "net/handler.h"

#include <stdbool.h>

typedef enum {
    PV_ID_NONE, /* nothing names a MAC */
    PV_ID_CERT, /* the verified client certificate */
    PV_ID_PATH, /* the requested path */
    PV_ID_UA,   /* the User-Agent */
} pv_id_source;

typedef struct pv_ident {
    pv_id_source source;
    pv_mac mac;         /* valid unless source is PV_ID_NONE */
    bool cert_verified; /* a verified certificate came with the request */
    bool cert_has_mac;  /* ... and it names a MAC (cert_mac) */
    pv_mac cert_mac;
    char fingerprint[65]; /* of the certificate, "" without one */
    char serial[64];      /* certificate L=, else the UA's serial, else "" */
    char model[64];       /* certificate OU=, else the UA's model, else "" */
    char swver[64];       /* the UA's version, "" when unknown */
    bool path_has_mac, ua_has_mac;
    pv_mac path_mac, ua_mac;
} pv_ident;

/*
 * Decides who asked. cert is NULL unless a client certificate verified.
 * Returns 0 (out->source may be PV_ID_NONE), or PV_EACCES with a message
 * naming both MACs when the certificate disagrees with the path or the UA.
 */
int pv_identify(const pv_peer_identity *cert, pv_slice path, pv_slice user_agent, pv_ident *out,
                pv_error *err);

/* What a route gives (DESIGN 3): content made for one device — its
 * SEC-PRV-1 answer, its encrypted profile, its reports — or the same for
 * every phone of a model (bootstrap, firmware, static files). */
typedef enum {
    PV_ROUTE_SHARED,
    PV_ROUTE_DEVICE,
} pv_route_kind;

/*
 * The one identity decision (DESIGN 3, issue 11.1), made by the handler on
 * every route and transport once it knows the stored device that id names:
 *  - a verified certificate that names the device must be the one whose
 *    fingerprint is stored (pinned): on every route — a second certificate
 *    naming the MAC, from any manufacturer CA, gets nothing;
 *  - device content (PV_ROUTE_DEVICE) of a device with require_cert needs a
 *    verified certificate naming it.
 * PV_EACCES says why.
 */
int pv_identity_admit(const pv_ident *id, const char *mac, bool require_cert,
                      const char *stored_fingerprint, pv_route_kind route, pv_error *err);

/* pv_identity_admit for device content. */
int pv_identity_check_device(const pv_ident *id, const char *mac, bool require_cert,
                             const char *stored_fingerprint, pv_error *err);

/* Finds exactly one run of 12 hex digits in text (bounded by non-hex
 * characters): "SEP000E08ABCDEF", "MAC 00:0e:08:ab:cd:ef" also works. */
bool pv_identity_mac_in(const char *text, pv_mac *out);

#endif
