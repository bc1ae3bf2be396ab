/* tokens.c — minting and authenticating admin API tokens; see tokens.h. */
#include "server/tokens.h"

#include "core/buf.h"
#include "server/datadir.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

int pv_token_mint(pv_store *s, const char *name, pv_role role, int64_t account_id, int64_t now,
                  char token[PV_TOKEN_SIZE], int64_t *id, pv_error *err)
{
    unsigned char raw[24];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return pv_error_set(err, PV_ECRYPTO, "no randomness for a token");
    memcpy(token, "pv_", 3);
    pv_hex_encode(raw, sizeof raw, token + 3); /* 48 digits and the NUL */
    OPENSSL_cleanse(raw, sizeof raw);
    int rc = pv_store_token_create(s, name, token, pv_role_name(role), account_id, now, id, err);
    if (rc != 0)
        OPENSSL_cleanse(token, PV_TOKEN_SIZE);
    return rc;
}

int pv_token_authenticate(pv_store *s, const char *data_dir, const char *bearer, int64_t now,
                          pv_token_holder *out, pv_error *err)
{
    memset(out, 0, sizeof *out);
    if (pv_datadir_check_admin_token(data_dir, bearer)) {
        snprintf(out->actor, sizeof out->actor, "token:admin");
        out->role = PV_ROLE_ADMIN;
        return 0;
    }
    pv_store_token t = {0};
    int rc = pv_store_token_check(s, bearer, now, &t, err);
    if (rc == 0) {
        int n = snprintf(out->actor, sizeof out->actor, "token:%s", t.name);
        if (n < 0 || (size_t)n >= sizeof out->actor)
            rc = pv_error_set(err, PV_ETOOBIG, "token name too long");
        else if (!pv_role_parse(t.role, &out->role)) /* the schema's CHECK makes this moot */
            rc = pv_error_set(err, PV_EACCES, "token '%.40s': unknown role", t.name);
        out->account_id = t.account_id;
    }
    pv_store_token_free(&t);
    return rc;
}
