/*
 * sip_auth.c — nonces and the Digest check of the challenging side (see sip_auth.h).
 */
#include "net/sip_auth.h"

#include "core/http_digest.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void pv_sip_nonces_init(pv_sip_nonces *n, const char *realm)
{
    memset(n, 0, sizeof *n);
    size_t len = strlen(realm);
    if (len >= sizeof n->realm)
        len = sizeof n->realm - 1;
    memcpy(n->realm, realm, len);
}

void pv_sip_challenge_issue(pv_sip_nonces *n, uint64_t now, const uint8_t random[16], bool stale,
                            pv_buf *header_line)
{
    unsigned i = n->next++ % PV_SIP_NONCES; /* the oldest slot: its challenge is abandoned */
    pv_hex_encode(random, 16, n->slot[i].nonce);
    n->slot[i].issued = now;
    pv_buf_appendf(header_line,
                   "WWW-Authenticate: Digest realm=\"%s\", nonce=\"%s\", algorithm=MD5, "
                   "qop=\"auth\"%s\r\n",
                   n->realm, n->slot[i].nonce, stale ? ", stale=true" : "");
}

pv_sip_auth_result pv_sip_auth_check(pv_sip_nonces *n, uint64_t now, const pv_sip_credentials *c,
                                     const char *method, const char *user, const char *pwd)
{
    int found = -1;
    for (int i = 0; i < PV_SIP_NONCES && c->nonce[0] != '\0'; i++) {
        if (strcmp(n->slot[i].nonce, c->nonce) == 0)
            found = i;
    }
    if (found < 0 || strcmp(c->username, user) != 0 || strcmp(c->realm, n->realm) != 0)
        return PV_SIP_AUTH_BAD; /* never issued, or already spent: a replay does nothing */
    pv_digest_challenge ch = {.alg = PV_DIGEST_MD5};
    if (c->algorithm[0] != '\0' && strcasecmp(c->algorithm, "MD5") != 0)
        return PV_SIP_AUTH_BAD; /* we offered MD5 only */
    ch.qop_auth = strcasecmp(c->qop, "auth") == 0;
    if (!ch.qop_auth && c->qop[0] != '\0')
        return PV_SIP_AUTH_BAD;
    memcpy(ch.realm, n->realm, sizeof n->realm);
    memcpy(ch.nonce, c->nonce, sizeof n->slot[0].nonce);
    unsigned long nc = strtoul(c->nc, NULL, 16);
    if (ch.qop_auth && (nc == 0 || c->cnonce[0] == '\0'))
        return PV_SIP_AUTH_BAD; /* RFC 7616 §3.4: qop=auth needs cnonce and nc */
    char expect[65];
    pv_digest_response(&ch, user, pwd, method, c->uri, c->cnonce, (unsigned)nc, expect);
    if (strlen(c->response) != strlen(expect) ||
        CRYPTO_memcmp(c->response, expect, strlen(expect)) != 0)
        return PV_SIP_AUTH_BAD;
    if (now - n->slot[found].issued > PV_SIP_NONCE_TTL_MS)
        return PV_SIP_AUTH_STALE; /* RFC 7616 §3.3 stale: the password was right */
    n->slot[found].nonce[0] = '\0'; /* one action per challenge */
    return PV_SIP_AUTH_OK;
}

int pv_sip_authorization(const pv_sip_msg *m, const char *user, const char *pwd,
                         const char *method, const char *uri, const char *cnonce, pv_buf *out,
                         pv_error *err)
{
    pv_buf ch = {0};
    pv_digest_challenge c;
    int rc = pv_sip_challenge(m, pv_sip_status(m) == 407, &ch);
    if (rc != 0)
        rc = pv_error_set(err, PV_ENOENT, "a %d without a challenge", pv_sip_status(m));
    if (rc == 0)
        rc = pv_digest_parse(pv_buf_slice(&ch), &c, err);
    if (rc == 0)
        rc = pv_digest_authorization(&c, user, pwd, method, uri, cnonce, 1, out, err);
    pv_buf_free(&ch);
    return rc;
}
