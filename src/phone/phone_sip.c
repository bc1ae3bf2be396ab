/*
 * phone_sip.c — the phone's SIP user agent (see phone_sip.h).
 *
 * Per line: a REGISTER client transaction (RFC 3261 §10.2, §17.1.2: UDP
 * retransmissions at T1 doubling, given up after timer F) and a timer that is
 * the retransmission, the refresh or the retry, whichever is next. Incoming
 * requests are answered statelessly but for a small cache of the last answers
 * (§17.2.2: a retransmitted NOTIFY gets the same answer).
 */
#include "phone/phone_sip.h"

#include "core/alloc.h"
#include "core/log.h"
#include "net/sip_auth.h"
#include "net/sockaddr.h"
#include "net/sip_transport.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINES 2
#define T1_MS 500             /* RFC 3261 §17.1.1.1 */
#define TIMER_F_MS (64 * T1_MS)
#define RETRY_MS 30000        /* a failed registration is tried again (SPA Reg_Retry_Intvl) */
#define CONFIG_CHECK_MS 1000  /* line settings are re-read this often (unless the host says) */
#define ANSWERS 8             /* answers kept for retransmitted requests */

typedef enum { REG_OFF, REG_TRYING, REG_OK, REG_FAILED } reg_state;

typedef struct line {
    struct pv_phone_sip *s;
    unsigned n;
    /* the settings registered with (compared every second) */
    char user[128], pwd[128], domain[256], target[256];
    unsigned expires;
    reg_state state;
    uv_timer_t timer;
    uv_getaddrinfo_t gai;
    bool resolving;
    struct sockaddr_storage to;
    char call_id[48], from_tag[24], branch[40];
    uint32_t cseq;
    pv_buf request; /* the REGISTER in flight, for retransmission */
    unsigned sent_ms; /* retransmission interval */
    uint64_t first_sent;
    bool answered_challenge;
    pv_sip_nonces nonces; /* NOTIFY challenges of this line */
} line;

struct pv_phone_sip {
    pv_phone_sip_host host;
    uv_loop_t *loop;
    pv_sip_transport *t;
    uv_timer_t check;
    line line[LINES];
    struct {
        char key[200]; /* Call-ID, CSeq, branch */
        pv_buf bytes;
    } answers[ANSWERS];
    unsigned next_answer;
    unsigned pending_closes;
    bool closing;
    void (*done)(void *data);
    void *done_data;
};

static void random_hex(char *out, size_t bytes)
{
    uint8_t r[32];
    if (bytes > sizeof r || RAND_bytes(r, (int)bytes) != 1) {
        fputs("provisor: no random bytes\n", stderr);
        abort();
    }
    pv_hex_encode(r, bytes, out);
}

/* The line's parameter prefix_n_ ("User_ID" → User_ID_1_), "" when unset. */
static const char *param(const pv_phone_sip *s, const char *prefix, unsigned n)
{
    char name[48];
    snprintf(name, sizeof name, "%s_%u_", prefix, n);
    const char *v = NULL;
    if (pv_agent_get(s->host.agent(s->host.data), PV_AGENT_ADMIN, name, &v) != 0 || v == NULL)
        return "";
    return v;
}

/* Our address as others reach it: the bound one, or loopback for a wildcard bind. */
static const char *via_host(const pv_phone_sip *s)
{
    const char *h = pv_sip_transport_host(s->t);
    if (strcmp(h, "0.0.0.0") == 0)
        return "127.0.0.1";
    return strcmp(h, "::") == 0 ? "::1" : h;
}

static void set_registered(line *l, bool yes)
{
    pv_agent *a = l->s->host.agent(l->s->host.data);
    bool was = pv_agent_registered(a, l->n);
    pv_agent_set_registered(a, l->s->host.now(l->s->host.data), l->n, yes);
    if (was != yes) {
        pv_logf(PV_LOG_INFO, yes ? "sip.registered" : "sip.unregistered", "line=%u user=%s via=%s",
                l->n, l->user, l->target);
        l->s->host.kick(l->s->host.data); /* status.xml and the screen show it */
    }
}

/* ---- REGISTER ---- */

static void send_register(line *l, const char *authorization, bool proxy_auth)
{
    pv_phone_sip *s = l->s;
    char uri[300], from[400], to[400], contact[400], expires[16], branch_hex[17];
    random_hex(branch_hex, 8);
    snprintf(l->branch, sizeof l->branch, "z9hG4bK%s", branch_hex); /* RFC 3261 §8.1.1.7 */
    snprintf(uri, sizeof uri, "sip:%s", l->domain);
    snprintf(from, sizeof from, "<sip:%s@%s>;tag=%s", l->user, l->domain, l->from_tag);
    snprintf(to, sizeof to, "<sip:%s@%s>", l->user, l->domain);
    const char *h = via_host(s);
    bool v6 = strchr(h, ':') != NULL;
    snprintf(contact, sizeof contact, "<sip:%s@%s%s%s:%u>", l->user, v6 ? "[" : "", h,
             v6 ? "]" : "", pv_sip_transport_port(s->t));
    snprintf(expires, sizeof expires, "%u", l->expires);
    char ua[160];
    pv_agent_user_agent(s->host.agent(s->host.data), ua, sizeof ua);
    pv_sip_request r = {.method = "REGISTER",
                        .uri = uri,
                        .from = from,
                        .to = to,
                        .call_id = l->call_id,
                        .cseq = ++l->cseq,
                        .transport = "UDP",
                        .via_host = h,
                        .via_port = pv_sip_transport_port(s->t),
                        .branch = l->branch,
                        .contact = contact,
                        .expires = expires,
                        .authorization = authorization,
                        .proxy_authorization = proxy_auth,
                        .user_agent = ua};
    pv_error err;
    pv_buf_reset(&l->request);
    if (pv_sip_request_build(&r, &l->request, &err) != 0) {
        pv_logf(PV_LOG_WARN, "sip.register", "line=%u error=\"%s\"", l->n, err.msg);
        l->state = REG_FAILED;
        return;
    }
    l->state = REG_TRYING;
    l->sent_ms = T1_MS;
    l->first_sent = uv_now(s->loop);
    pv_sip_transport_send(s->t, (struct sockaddr *)&l->to, l->request.data, l->request.len);
}

static void line_timer(uv_timer_t *t);

static void arm(line *l, uint64_t ms)
{
    uv_timer_start(&l->timer, line_timer, ms, 0);
}

static void fail(line *l, const char *why)
{
    pv_logf(PV_LOG_WARN, "sip.register.failed", "line=%u user=%s via=%s error=\"%s\"", l->n,
            l->user, l->target, why);
    l->state = REG_FAILED;
    set_registered(l, false);
    arm(l, RETRY_MS);
}

static void start_register(line *l)
{
    random_hex(l->from_tag, 8);
    l->answered_challenge = false;
    send_register(l, NULL, false);
    arm(l, l->sent_ms);
}

static void resolve_and_register(line *l);
static void closed_part(void *data);

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    line *l = req->data;
    l->resolving = false;
    if (l->s->closing) { /* the phone is closing: this request was one of its parts */
        uv_freeaddrinfo(res);
        closed_part(l->s);
        return;
    }
    if (status != 0 || res == NULL) {
        if (status != UV_ECANCELED)
            fail(l, uv_strerror(status));
        else if (!l->s->closing && l->state != REG_OFF)
            resolve_and_register(l); /* cancelled because the settings changed */
        uv_freeaddrinfo(res);
        return;
    }
    memcpy(&l->to, res->ai_addr, res->ai_addrlen);
    uv_freeaddrinfo(res);
    start_register(l);
}

/* Resolves Outbound_Proxy_n_ or Proxy_n_ (an IP literal at once, a name with DNS). */
static void resolve_and_register(line *l)
{
    pv_error err;
    if (pv_sip_parse_address(l->target, 5060, &l->to, &err) == 0) {
        start_register(l);
        return;
    }
    char host[256], port[8] = "5060";
    snprintf(host, sizeof host, "%s", l->target);
    char *colon = strrchr(host, ':');
    if (colon != NULL) {
        snprintf(port, sizeof port, "%s", colon + 1);
        *colon = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
    l->gai.data = l;
    if (uv_getaddrinfo(l->s->loop, &l->gai, on_resolved, host, port, &hints) == 0)
        l->resolving = true;
    else
        fail(l, "the proxy's name cannot be looked up");
}

static void line_timer(uv_timer_t *t)
{
    line *l = t->data;
    if (l->resolving)
        return;
    switch (l->state) {
    case REG_TRYING:
        if (uv_now(l->s->loop) - l->first_sent >= TIMER_F_MS) {
            fail(l, "no answer (timer F)");
            return;
        }
        pv_sip_transport_send(l->s->t, (struct sockaddr *)&l->to, l->request.data,
                              l->request.len);
        l->sent_ms = l->sent_ms * 2 > 4000 ? 4000 : l->sent_ms * 2; /* T2 */
        arm(l, l->sent_ms);
        break;
    case REG_OK: /* refresh */
    case REG_FAILED:
        resolve_and_register(l);
        break;
    case REG_OFF:
        break;
    }
}

static void on_register_answer(line *l, const pv_sip_msg *m)
{
    int status = pv_sip_status(m);
    if (status < 200)
        return; /* provisional: timer F still bounds it */
    uv_timer_stop(&l->timer);
    if ((status == 401 || status == 407) && !l->answered_challenge) {
        pv_buf auth = {0};
        pv_error err;
        char cnonce[17], uri[300];
        random_hex(cnonce, 8);
        snprintf(uri, sizeof uri, "sip:%s", l->domain);
        int rc = pv_sip_authorization(m, l->user, l->pwd, "REGISTER", uri, cnonce, &auth, &err);
        if (rc != 0) {
            pv_buf_free(&auth);
            fail(l, "a challenge we cannot answer");
            return;
        }
        l->answered_challenge = true;
        send_register(l, auth.data, status == 407);
        pv_buf_free(&auth);
        arm(l, l->sent_ms);
        return;
    }
    if (status >= 300) {
        char why[32];
        snprintf(why, sizeof why, "%d", status);
        fail(l, why);
        return;
    }
    unsigned expires = l->expires;
    const char *e = pv_sip_header(m, "Expires");
    if (e != NULL && strtoul(e, NULL, 10) > 0)
        expires = (unsigned)strtoul(e, NULL, 10);
    l->state = REG_OK;
    set_registered(l, true);
    /* refresh before it runs out: half-way for short ones, 30 s early for long ones */
    uint64_t ms = (uint64_t)(expires > 60 ? expires - 30 : (expires + 1) / 2) * 1000;
    arm(l, ms);
}

/* ---- settings ---- */

/* Re-reads line n; (re)registers when what it registers with changed. */
static void check_line(line *l)
{
    pv_phone_sip *s = l->s;
    const char *user = param(s, "User_ID", l->n), *proxy = param(s, "Proxy", l->n);
    const char *outbound = param(s, "Outbound_Proxy", l->n);
    bool on = strcasecmp(param(s, "Line_Enable", l->n), "Yes") == 0 && *user && *proxy;
    unsigned expires = (unsigned)strtoul(param(s, "Register_Expires", l->n), NULL, 10);
    if (expires == 0)
        expires = 3600;
    const char *target = *outbound ? outbound : proxy;
    bool same = strcmp(l->user, user) == 0 && strcmp(l->pwd, param(s, "Password", l->n)) == 0 &&
                strcmp(l->domain, proxy) == 0 && strcmp(l->target, target) == 0 &&
                l->expires == expires;
    bool lost = l->state == REG_OK && !pv_agent_registered(s->host.agent(s->host.data), l->n);
    if (same && (on == (l->state != REG_OFF)) && !lost)
        return; /* unchanged (a reboot forgets registrations: lost) */
    uv_timer_stop(&l->timer);
    if (l->resolving)
        uv_cancel((uv_req_t *)&l->gai);
    snprintf(l->user, sizeof l->user, "%s", user);
    snprintf(l->pwd, sizeof l->pwd, "%s", param(s, "Password", l->n));
    snprintf(l->domain, sizeof l->domain, "%s", proxy);
    snprintf(l->target, sizeof l->target, "%s", target);
    l->expires = expires;
    if (!on) {
        l->state = REG_OFF;
        set_registered(l, false);
        return;
    }
    random_hex(l->call_id, 12);
    l->state = REG_FAILED; /* until the first answer */
    if (!l->resolving)
        resolve_and_register(l);
}

static void on_check(uv_timer_t *t)
{
    pv_phone_sip *s = t->data;
    for (unsigned i = 0; i < LINES; i++)
        check_line(&s->line[i]);
}

/* ---- requests to the phone ---- */

static void answer(pv_phone_sip *s, const pv_sip_msg *req, const struct sockaddr *peer, int status,
                   const char *reason, const char *extra)
{
    pv_buf out = {0};
    pv_error err;
    char tag[17];
    random_hex(tag, 8);
    if (pv_sip_response(req, status, reason, tag, extra, &out, &err) != 0) {
        pv_logf(PV_LOG_WARN, "sip.answer", "error=\"%s\"", err.msg);
        pv_buf_free(&out);
        return;
    }
    pv_sip_transport_send(s->t, peer, out.data, out.len);
    unsigned i = s->next_answer++ % ANSWERS; /* RFC 3261 §17.2.2: kept for retransmissions */
    snprintf(s->answers[i].key, sizeof s->answers[i].key, "%s %u %s", pv_sip_call_id(req),
             pv_sip_cseq(req), pv_sip_branch(req));
    pv_buf_free(&s->answers[i].bytes);
    s->answers[i].bytes = out;
}

static bool answered_before(pv_phone_sip *s, const pv_sip_msg *req, const struct sockaddr *peer)
{
    char key[200];
    snprintf(key, sizeof key, "%s %u %s", pv_sip_call_id(req), pv_sip_cseq(req),
             pv_sip_branch(req));
    for (unsigned i = 0; i < ANSWERS; i++) {
        if (s->answers[i].bytes.len > 0 && strcmp(s->answers[i].key, key) == 0) {
            pv_sip_transport_send(s->t, peer, s->answers[i].bytes.data, s->answers[i].bytes.len);
            return true;
        }
    }
    return false;
}

static line *line_for(pv_phone_sip *s, const pv_sip_msg *req)
{
    const char *user = pv_sip_request_user(req);
    for (unsigned i = 0; i < LINES; i++) {
        if (*user && strcmp(s->line[i].user, user) == 0)
            return &s->line[i];
    }
    return &s->line[0];
}

/* spec 5.5: challenge, check, then act. */
static void on_notify(pv_phone_sip *s, const pv_sip_msg *req, const struct sockaddr *peer)
{
    char event[32], from[80];
    pv_sip_event(req, event, sizeof event);
    pv_sockaddr_text(peer, from, sizeof from);
    pv_agent_sip_event ev;
    if (pv_agent_sip_event_parse(event, &ev) != 0) {
        answer(s, req, peer, 489, "Bad Event", "Allow-Events: resync, check-sync, reboot_now, "
                                               "restart_now, report\r\n"); /* RFC 6665 §8.3.1 */
        return;
    }
    line *l = line_for(s, req);
    pv_agent *a = s->host.agent(s->host.data);
    if (pv_agent_sip_auth_required(a, l->n)) {
        pv_sip_credentials c;
        pv_error err;
        int rc = pv_sip_credentials_get(req, &c, &err);
        pv_sip_auth_result r = PV_SIP_AUTH_BAD;
        if (rc == 0)
            r = pv_sip_auth_check(&l->nonces, uv_now(s->loop), &c, "NOTIFY",
                                  param(s, "User_ID", l->n), param(s, "Password", l->n));
        if (r != PV_SIP_AUTH_OK) {
            uint8_t rnd[16];
            if (RAND_bytes(rnd, sizeof rnd) != 1)
                abort();
            pv_buf hdr = {0};
            pv_sip_challenge_issue(&l->nonces, uv_now(s->loop), rnd, r == PV_SIP_AUTH_STALE,
                                   &hdr);
            pv_logf(PV_LOG_INFO, "sip.notify.challenge", "line=%u event=%s peer=%s why=%s", l->n,
                    event, from,
                    rc != 0                     ? "no credentials"
                    : r == PV_SIP_AUTH_STALE    ? "stale nonce"
                                                : "wrong or replayed credentials");
            answer(s, req, peer, 401, "Unauthorized", hdr.data);
            pv_buf_free(&hdr);
            return;
        }
    }
    pv_error err;
    int rc = pv_agent_sip_notify(a, s->host.now(s->host.data), ev, &err);
    pv_logf(rc == 0 ? PV_LOG_INFO : PV_LOG_WARN, "sip.notify", "line=%u event=%s peer=%s result=%s",
            l->n, event, from, rc == 0 ? "accepted" : err.msg);
    if (rc == 0 && s->host.notified != NULL)
        s->host.notified(s->host.data, ev);
    if (rc == 0)
        answer(s, req, peer, 200, "OK", NULL);
    else if (rc == PV_EACCES)
        answer(s, req, peer, 403, "Forbidden", NULL);
    else
        answer(s, req, peer, 503, "Service Unavailable", "Retry-After: 30\r\n");
    s->host.kick(s->host.data);
}

static void on_message(pv_sip_transport *t, const pv_sip_msg *m, const struct sockaddr *peer,
                       void *data)
{
    pv_phone_sip *s = data;
    if (!pv_sip_is_request(m)) {
        for (unsigned i = 0; i < LINES; i++) {
            line *l = &s->line[i];
            if (l->state == REG_TRYING && strcmp(pv_sip_call_id(m), l->call_id) == 0 &&
                pv_sip_cseq(m) == l->cseq && strcmp(pv_sip_method(m), "REGISTER") == 0)
                on_register_answer(l, m);
        }
        return;
    }
    const char *method = pv_sip_method(m);
    if (strcmp(method, "ACK") == 0 || answered_before(s, m, peer))
        return;
    if (strcmp(method, "NOTIFY") == 0)
        on_notify(s, m, peer);
    else if (strcmp(method, "OPTIONS") == 0)
        answer(s, m, peer, 200, "OK", "Allow: NOTIFY, OPTIONS\r\n");
    else
        answer(s, m, peer, 405, "Method Not Allowed", "Allow: NOTIFY, OPTIONS\r\n");
}

/* ---- life ---- */

int pv_phone_sip_new(const pv_phone_sip_host *host, uv_loop_t *loop, const char *address,
                     pv_phone_sip **out, pv_error *err)
{
    pv_phone_sip *s = pv_calloc(1, sizeof *s);
    s->host = *host;
    s->loop = loop;
    long port = 5060;
    const char *v = NULL;
    if (pv_agent_get(host->agent(host->data), PV_AGENT_ADMIN, "SIP_Port_1_", &v) == 0 && v != NULL)
        port = strtol(v, NULL, 10);
    int rc = pv_sip_transport_new(loop, address, (uint16_t)(port > 0 && port < 65536 ? port : 5060),
                                  on_message, s, &s->t, err);
    if (rc != 0) {
        free(s);
        return rc;
    }
    uv_timer_init(loop, &s->check);
    s->check.data = s;
    for (unsigned i = 0; i < LINES; i++) {
        line *l = &s->line[i];
        l->s = s;
        l->n = i + 1;
        uv_timer_init(loop, &l->timer);
        l->timer.data = l;
        pv_sip_nonces_init(&l->nonces, "provisor-phone");
    }
    uv_timer_start(&s->check, on_check, 0, host->check_ms ? host->check_ms : CONFIG_CHECK_MS);
    pv_logf(PV_LOG_INFO, "sip.listen", "addr=%s proto=udp", pv_sip_transport_address(s->t));
    *out = s;
    return 0;
}

void pv_phone_sip_check(pv_phone_sip *s)
{
    on_check(&s->check);
}

const char *pv_phone_sip_address(const pv_phone_sip *s)
{
    return pv_sip_transport_address(s->t);
}

static void closed_part(void *data)
{
    pv_phone_sip *s = data;
    if (--s->pending_closes > 0)
        return;
    for (unsigned i = 0; i < LINES; i++)
        pv_buf_free(&s->line[i].request);
    for (unsigned i = 0; i < ANSWERS; i++)
        pv_buf_free(&s->answers[i].bytes);
    void (*done)(void *) = s->done;
    void *dd = s->done_data;
    free(s);
    if (done != NULL)
        done(dd);
}

static void closed_handle(uv_handle_t *h)
{
    closed_part(((line *)h->data)->s);
}

static void closed_check(uv_handle_t *h)
{
    closed_part(h->data);
}

void pv_phone_sip_close(pv_phone_sip *s, void (*done)(void *data), void *data)
{
    s->done = done;
    s->done_data = data;
    s->closing = true;
    s->pending_closes = 2 + LINES;
    for (unsigned i = 0; i < LINES; i++) {
        if (s->line[i].resolving) { /* its callback comes in any case, and ends the close */
            s->pending_closes++;
            uv_cancel((uv_req_t *)&s->line[i].gai);
        }
        uv_close((uv_handle_t *)&s->line[i].timer, closed_handle);
    }
    uv_close((uv_handle_t *)&s->check, closed_check);
    pv_sip_transport_close(s->t, closed_part, s);
}
