/*
 * Unit tests for net/sip_msg (oSIP parsing and building) and net/sip_auth (the phone's
 * nonces and the Digest check of a NOTIFY: RFC 3261 §22.4).
 */
#include "pv_test.h"

#include "core/http_digest.h"
#include "net/sip_auth.h"
#include "net/sip_msg.h"

#include <stdio.h>
#include <string.h>

#define NOTIFY                                                                                     \
    "NOTIFY sip:1001@127.0.0.1:5062 SIP/2.0\r\n"                                                  \
    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc\r\n"                                        \
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKdef\r\n"                                         \
    "From: <sip:prov@127.0.0.1>;tag=f1\r\n"                                                        \
    "To: <sip:1001@127.0.0.1>\r\n"                                                                 \
    "Call-ID: c1@host\r\n"                                                                         \
    "CSeq: 7 NOTIFY\r\n"                                                                           \
    "Event: Check-Sync;reboot=false\r\n"                                                           \
    "Content-Length: 0\r\n\r\n"

static pv_sip_msg *parse(const char *text)
{
    pv_sip_msg *m = NULL;
    pv_error err;
    if (pv_sip_parse(text, strlen(text), &m, &err) != 0)
        fail_msg("parse: %s", err.msg);
    return m;
}

static void parses_a_notify(void **state)
{
    pv_sip_msg *m = parse(NOTIFY);
    assert_true(pv_sip_is_request(m));
    assert_string_equal(pv_sip_method(m), "NOTIFY");
    assert_string_equal(pv_sip_call_id(m), "c1@host");
    assert_int_equal(pv_sip_cseq(m), 7);
    assert_string_equal(pv_sip_request_user(m), "1001");
    assert_string_equal(pv_sip_branch(m), "z9hG4bKabc");
    char ev[32];
    pv_sip_event(m, ev, sizeof ev);
    assert_string_equal(ev, "check-sync");
    pv_buf out = {0};
    pv_error err;
    assert_int_equal(pv_sip_response(m, 401, "Unauthorized", "t9",
                                     "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n", &out,
                                     &err),
                     0);
    pv_sip_msg *r = parse(out.data);
    assert_false(pv_sip_is_request(r));
    assert_int_equal(pv_sip_status(r), 401);
    assert_string_equal(pv_sip_method(r), "NOTIFY"); /* from the CSeq */
    assert_string_equal(pv_sip_call_id(r), "c1@host");
    assert_non_null(strstr(out.data, "z9hG4bKdef")); /* every Via echoed (§8.2.6.2) */
    assert_non_null(strstr(out.data, "tag=t9"));
    pv_buf ch = {0};
    assert_int_equal(pv_sip_challenge(r, false, &ch), 0);
    pv_digest_challenge c;
    assert_int_equal(pv_digest_parse(pv_buf_slice(&ch), &c, &err), 0);
    assert_string_equal(c.nonce, "n");
    pv_buf_free(&ch);
    pv_buf_free(&out);
    pv_sip_msg_free(r);
    pv_sip_msg_free(m);
}

static void refuses_what_is_not_sip(void **state)
{
    pv_sip_msg *m = NULL;
    pv_error err;
    assert_int_equal(pv_sip_parse("hello", 5, &m, &err), PV_ESYNTAX);
    const char *no_callid = "NOTIFY sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                            "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCSeq: 1 NOTIFY\r\n\r\n";
    assert_int_equal(pv_sip_parse(no_callid, strlen(no_callid), &m, &err), PV_ESYNTAX);
    assert_non_null(strstr(err.msg, "Call-ID"));
    char big[PV_SIP_MAX_MESSAGE + 1];
    memset(big, 'a', sizeof big);
    assert_int_equal(pv_sip_parse(big, sizeof big, &m, &err), PV_ETOOBIG);
}

/* The server's side (pv_digest_authorization on the challenge) against the phone's check. */
static void notify_digest_round_trip(void **state)
{
    pv_sip_nonces n;
    pv_sip_nonces_init(&n, "phone");
    uint8_t rnd[16] = {1, 2, 3};
    pv_buf hdr = {0};
    pv_sip_challenge_issue(&n, 1000, rnd, false, &hdr);
    const char *colon = strchr(hdr.data, ':');
    pv_digest_challenge c;
    pv_error err;
    assert_int_equal(pv_digest_parse(pv_slice_make(colon + 1, hdr.len - (size_t)(colon + 1 - hdr.data) - 2), &c, &err), 0);
    pv_buf auth = {0};
    assert_int_equal(pv_digest_authorization(&c, "1001", "pw", "NOTIFY", "sip:1001@127.0.0.1",
                                             "cn", 1, &auth, &err),
                     0);
    char text[1024];
    snprintf(text, sizeof text,
             "NOTIFY sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
             "From: <sip:a@b>;tag=1\r\nTo: <sip:1001@b>\r\nCall-ID: x\r\nCSeq: 2 NOTIFY\r\n"
             "Authorization: %s\r\nContent-Length: 0\r\n\r\n",
             auth.data);
    pv_sip_msg *m = parse(text);
    pv_sip_credentials cr;
    assert_int_equal(pv_sip_credentials_get(m, &cr, &err), 0);
    assert_string_equal(cr.username, "1001");
    /* wrong password, wrong user, then right: acts once; the replay finds its nonce spent */
    assert_int_equal(pv_sip_auth_check(&n, 2000, &cr, "NOTIFY", "1001", "other"), PV_SIP_AUTH_BAD);
    assert_int_equal(pv_sip_auth_check(&n, 2000, &cr, "NOTIFY", "1002", "pw"), PV_SIP_AUTH_BAD);
    assert_int_equal(pv_sip_auth_check(&n, 2000, &cr, "REGISTER", "1001", "pw"), PV_SIP_AUTH_BAD);
    assert_int_equal(pv_sip_auth_check(&n, 2000, &cr, "NOTIFY", "1001", "pw"), PV_SIP_AUTH_OK);
    assert_int_equal(pv_sip_auth_check(&n, 2001, &cr, "NOTIFY", "1001", "pw"), PV_SIP_AUTH_BAD);
    pv_sip_msg_free(m);
    /* stale: the same answer to a fresh nonce, after its lifetime */
    pv_buf_reset(&hdr);
    pv_sip_challenge_issue(&n, 5000, rnd, false, &hdr);
    memcpy(c.nonce, n.slot[1].nonce, sizeof n.slot[1].nonce);
    pv_digest_response(&c, "1001", "pw", "NOTIFY", cr.uri, "cn", 1, cr.response);
    memcpy(cr.nonce, n.slot[1].nonce, sizeof n.slot[1].nonce);
    assert_int_equal(pv_sip_auth_check(&n, 5000 + PV_SIP_NONCE_TTL_MS + 1, &cr, "NOTIFY", "1001",
                                       "pw"),
                     PV_SIP_AUTH_STALE);
    pv_buf_free(&hdr);
    pv_buf_free(&auth);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_a_notify),
        cmocka_unit_test(refuses_what_is_not_sip),
        cmocka_unit_test(notify_digest_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
