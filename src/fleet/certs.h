/*
 * certs.h — client certificates for a simulated fleet (`provisor fleet
 * certs`): one per phone, issued by a test manufacturer CA, with the subject
 * a real phone's carries (spec 4.4: OU = product, L = serial, ST = MAC; CN =
 * the MAC), so that a provisioning server reads the same identity from it as
 * from a real phone's (DESIGN decision 3).
 *
 * Files in the output directory: ca.pem (and ca.key when the CA was made
 * here), and <mac>.pem per phone holding its private key then its
 * certificate (mode 0600) — one file per phone, which is what the fetcher
 * needs and halves the number of files for 100 000 phones.
 *
 * Ownership: nothing is kept; files are written through a temporary name and
 * rename(2).
 */
#ifndef PV_FLEET_CERTS_H
#define PV_FLEET_CERTS_H

#include "core/error.h"
#include "fleet/content.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct pv_fleet_certs_options {
    uint32_t count;
    uint32_t first; /* index of the first phone (0) */
    uint64_t seed;  /* the fleet's seed and mix decide the MACs */
    pv_fleet_mix mix;
    const char *out_dir; /* created if missing */
    const char *ca_cert; /* issuing CA certificate, or NULL to create one in out_dir */
    const char *ca_key;  /* its key */
    bool rsa;            /* RSA 2048 keys instead of EC P-256 */
    unsigned days;       /* validity; 0 = 825 */
} pv_fleet_certs_options;

typedef struct pv_fleet_certs_result {
    uint32_t issued;
    double seconds;
} pv_fleet_certs_result;

int pv_fleet_certs_issue(const pv_fleet_certs_options *o, pv_fleet_certs_result *res,
                         pv_error *err);

/* One certificate for one phone whose identity is given (`provisor phone cert`): the same
 * subject as a fleet phone's, key then certificate in o->out (0600). */
typedef struct pv_fleet_cert_one {
    const char *mac;    /* 12 lower-case hex digits */
    const char *model;  /* OU */
    const char *serial; /* L */
    const char *ca_cert, *ca_key;
    const char *out;
    unsigned days; /* 0 = 825 */
} pv_fleet_cert_one;

int pv_fleet_cert_issue_one(const pv_fleet_cert_one *o, pv_error *err);

#endif
