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
 * Pure: no store, no clock. Whether a device also *requires* a certificate
 * (require_cert, stored fingerprint) is checked by the handler against the
 * store with pv_identity_check_device().
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

/*
 * A stored device's certificate requirements (DESIGN 3): with require_cert
 * the request needs a verified certificate naming this MAC, and when a
 * fingerprint is stored the certificate must be that one. PV_EACCES says why.
 */
int pv_identity_check_device(const pv_ident *id, const char *mac, bool require_cert,
                             const char *stored_fingerprint, pv_error *err);

/* Finds exactly one run of 12 hex digits in text (bounded by non-hex
 * characters): "SEP000E08ABCDEF", "MAC 00:0e:08:ab:cd:ef" also works. */
bool pv_identity_mac_in(const char *text, pv_mac *out);

#endif
