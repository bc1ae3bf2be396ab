/*
 * datadir.h — the server's data directory, created on first run (DESIGN
 * decision 2: "first run needs nothing").
 *
 *   <data>/tls/ca.pem, ca.key              the server's own CA (give ca.pem to curl --cacert)
 *   <data>/tls/server.pem, server.key      server certificate for localhost/127.0.0.1/::1,
 *                                          chain = leaf then CA
 *   <data>/manufacturer/demo-ca.pem, .key  a demo phone-manufacturer CA: the fleet simulator
 *                                          and the tests issue phone certificates with it
 *   <data>/manufacturer/bundle.pem         CAs trusted for phone client certificates
 *   <data>/admin-token.sha256              SHA-256 (hex) of the admin token, never the token
 *   <data>/profiles/                       the default tree served, with a sample profile
 *   <data>/uploads/                        reports and other uploads
 *
 * pv_datadir_ensure() creates whatever is missing and reuses whatever
 * exists, so a second start changes nothing and a deleted server certificate
 * is reissued by the existing CA. Directories are 0700 (except profiles and
 * uploads, 0755; an existing data directory with a looser mode is made 0700)
 * and keys 0600. Only the run that creates the admin token sees it: it is
 * printed once and only its hash is kept; pv_datadir_reset_admin_token makes
 * a new one for whoever lost it.
 */
#ifndef PV_SERVER_DATADIR_H
#define PV_SERVER_DATADIR_H

#include "core/error.h"

#include <stdbool.h>

#define PV_DATADIR_CA_CERT "tls/ca.pem"
#define PV_DATADIR_CA_KEY "tls/ca.key"
#define PV_DATADIR_SERVER_CERT "tls/server.pem"
#define PV_DATADIR_SERVER_KEY "tls/server.key"
#define PV_DATADIR_PHONE_CA_CERT "manufacturer/demo-ca.pem"
#define PV_DATADIR_PHONE_CA_KEY "manufacturer/demo-ca.key"
#define PV_DATADIR_PHONE_BUNDLE "manufacturer/bundle.pem"
#define PV_DATADIR_ADMIN_TOKEN_HASH "admin-token.sha256"
#define PV_DATADIR_PROFILES "profiles"
#define PV_DATADIR_UPLOADS "uploads"

typedef struct pv_datadir_result {
    bool created;            /* this run created the directory itself */
    char admin_token[65];    /* set only when this run created the token: print it once */
    char ca_fingerprint[65]; /* SHA-256 of tls/ca.pem */
} pv_datadir_result;

/* Creates what is missing under dir; fills *out. */
int pv_datadir_ensure(const char *dir, pv_datadir_result *out, pv_error *err);

/* A new admin token replaces the old one (which stops working at once, also in a running
 * server): its hash goes to admin-token.sha256, the token to token[] for printing once.
 * For an operator who lost the first run's token (`provisor admin-token`). */
int pv_datadir_reset_admin_token(const char *dir, char token[65], pv_error *err);

/* Removes the data directory when this run created it (res->created): a first start that
 * fails leaves nothing behind, so the next start is a first start again and shows its
 * admin token. A directory that existed before is left untouched. */
int pv_datadir_remove_new(const char *dir, const pv_datadir_result *res, pv_error *err);

/* True when token hashes to what admin-token.sha256 holds (constant-time compare). */
bool pv_datadir_check_admin_token(const char *dir, const char *token);

#endif
