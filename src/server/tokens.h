/*
 * tokens.h — the bearer tokens of the admin API: minting them and knowing who
 * holds one (issue 13, "scoped access").
 *
 * A token is "pv_" and 48 random hex digits; the store keeps only its SHA-256
 * (store.h, admin_tokens) with a unique name, a role (roles.h) and, for a
 * customer token, its one account. Besides the stored ones there is the data
 * directory's first-run admin token (datadir.h), which is always admin and
 * audits as "token:admin".
 *
 * This module is the one place that mints: the API's POST /tokens and the
 * command line's own local token (cli_api.c) both come here, so every token
 * has the same shape and a role. It holds no state; the caller owns the store
 * handle and any transaction around pv_token_mint.
 */
#ifndef PV_SERVER_TOKENS_H
#define PV_SERVER_TOKENS_H

#include "core/error.h"
#include "server/roles.h"
#include "store/store.h"

#include <stdint.h>

#define PV_TOKEN_SIZE 52 /* "pv_" + 48 hex digits + NUL */

/* Mints a token, registers its hash under name with role (and account_id, which a
 * customer token needs and the others must not have) and writes it to token for
 * showing once. PV_EEXIST when the name is taken. */
int pv_token_mint(pv_store *s, const char *name, pv_role role, int64_t account_id, int64_t now,
                  char token[PV_TOKEN_SIZE], int64_t *id, pv_error *err);

typedef struct pv_token_holder {
    char actor[96]; /* "token:<name>", for the audit log */
    pv_role role;
    int64_t account_id; /* a customer's account; 0 for the others */
} pv_token_holder;

/* Who holds bearer: the data directory's admin token or a stored one, whose use is
 * recorded. PV_ENOENT for an unknown token, PV_EACCES for a revoked one. */
int pv_token_authenticate(pv_store *s, const char *data_dir, const char *bearer, int64_t now,
                          pv_token_holder *out, pv_error *err);

#endif
