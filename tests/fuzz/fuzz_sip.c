/* Fuzz target: the SIP input path of the phone's user agent and the server's notifier —
 * a datagram through net/sip_msg (oSIP) and what both sides read from it: the Event, the
 * Authorization checked by net/sip_auth, the challenge handed to core/http_digest. A request
 * that parsed must also give a response that parses back with the same Call-ID. */
#include "core/http_digest.h"
#include "net/sip_auth.h"
#include "net/sip_msg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pv_sip_msg *m = NULL;
    pv_error err;
    if (pv_sip_parse(data, size, &m, &err) != 0)
        return 0;
    char ev[32];
    pv_sip_event(m, ev, sizeof ev);
    pv_sip_credentials c;
    if (pv_sip_credentials_get(m, &c, &err) == 0) {
        pv_sip_nonces n;
        pv_sip_nonces_init(&n, "phone");
        uint8_t rnd[16] = {0};
        pv_buf hdr = {0};
        pv_sip_challenge_issue(&n, 0, rnd, false, &hdr);
        if (pv_sip_auth_check(&n, 1, &c, pv_sip_method(m), "1001", "pw") == PV_SIP_AUTH_OK &&
            strcmp(c.nonce, "00000000000000000000000000000000") != 0)
            __builtin_trap(); /* only our nonce can pass */
        pv_buf_free(&hdr);
    }
    pv_buf ch = {0};
    pv_digest_challenge dc;
    if (pv_sip_challenge(m, false, &ch) == 0)
        (void)pv_digest_parse(pv_buf_slice(&ch), &dc, &err);
    pv_buf_free(&ch);
    free(pv_sip_request_uri(m));
    if (pv_sip_is_request(m)) {
        pv_buf out = {0};
        if (pv_sip_response(m, 200, "OK", "tag1", NULL, &out, &err) == 0) {
            pv_sip_msg *r = NULL;
            if (pv_sip_parse(out.data, out.len, &r, &err) == 0) {
                if (strcmp(pv_sip_call_id(r), pv_sip_call_id(m)) != 0)
                    __builtin_trap();
                pv_sip_msg_free(r);
            }
        }
        pv_buf_free(&out);
    }
    pv_sip_msg_free(m);
    return 0;
}
