/*
 * sip_auth.h — the challenging side of SIP Digest (RFC 3261 §22.4): nonces a
 * phone issues with its 401 and the check of the Authorization that answers.
 *
 * What it is for: spec 5.5 — a phone challenges a NOTIFY (resync, reboot,
 * report) when Auth_Resync-Reboot_n_ says so, and only a correct answer
 * computed from the line's credentials acts. The answer is the RFC 2617/7616
 * computation with the SIP method (core/http_digest computes it); this module
 * adds what the issuing side needs: nonces that expire (a stale nonce is
 * answered with a new challenge, `stale=true`) and that act once (a replayed
 * NOTIFY finds its nonce used and does nothing).
 *
 * Pure: the clock and the random bytes of each nonce come from the caller.
 * Ownership: a pv_sip_nonces is a caller-owned value; nothing allocates.
 */
#ifndef PV_NET_SIP_AUTH_H
#define PV_NET_SIP_AUTH_H

#include "core/buf.h"
#include "net/sip_msg.h"

#include <stdbool.h>
#include <stdint.h>

#define PV_SIP_NONCES 16          /* challenges outstanding at once; the oldest is reused */
#define PV_SIP_NONCE_TTL_MS 32000 /* RFC 3261 timer F: a retry comes well within it */

typedef struct pv_sip_nonces {
    char realm[64];
    struct {
        char nonce[33]; /* "" = free */
        uint64_t issued;
    } slot[PV_SIP_NONCES];
    unsigned next;
} pv_sip_nonces;

typedef enum {
    PV_SIP_AUTH_OK,    /* correct: the nonce is now spent */
    PV_SIP_AUTH_STALE, /* right credentials, expired nonce: challenge again with stale=true */
    PV_SIP_AUTH_BAD,   /* wrong user, realm or response, or a nonce we never issued or spent */
} pv_sip_auth_result;

void pv_sip_nonces_init(pv_sip_nonces *n, const char *realm);
/* A fresh nonce from 16 random bytes; appends the WWW-Authenticate header line
 * ("WWW-Authenticate: Digest realm=..., nonce=..., algorithm=MD5, qop=\"auth\"\r\n"). */
void pv_sip_challenge_issue(pv_sip_nonces *n, uint64_t now, const uint8_t random[16], bool stale,
                            pv_buf *header_line);
/* Checks c (a request with method) against user/pwd; spends the nonce when OK. */
pv_sip_auth_result pv_sip_auth_check(pv_sip_nonces *n, uint64_t now, const pv_sip_credentials *c,
                                     const char *method, const char *user, const char *pwd);

/*
 * The other side: the Authorization (Proxy-Authorization when the answer is a 407) that
 * answers the challenge of response m for a request with method and uri, from user/pwd
 * (RFC 3261 §22.2; the computation is core/http_digest's). cnonce from the caller.
 * PV_ENOENT: m has no challenge; PV_ENOTSUP/PV_ESYNTAX: one we cannot answer.
 */
int pv_sip_authorization(const pv_sip_msg *m, const char *user, const char *pwd,
                         const char *method, const char *uri, const char *cnonce, pv_buf *out,
                         pv_error *err);

#endif
