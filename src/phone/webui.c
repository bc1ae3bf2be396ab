/*
 * webui.c — the phone's web server (see webui.h; spec 9).
 */
#include "phone/webui.h"

#include "core/alloc.h"
#include "net/sockaddr.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

struct pv_webui {
    pv_handler handler;
    pv_phone *phone;
};

typedef enum { ROLE_NONE, ROLE_USER, ROLE_ADMIN, ROLE_BAD } role;

/* ---- the URL ---- */

/* Removes "&name=value" (or "?name=value&" at the start of the query) from s; copies value. */
static bool take_param(pv_buf *s, const char *name, char *out, size_t size)
{
    char key[32];
    snprintf(key, sizeof key, "%s=", name); /* fits: our names are short */
    size_t kl = strlen(key);
    char *text = s->data;
    for (size_t i = 0; text != NULL && i + kl <= s->len; i++) {
        if ((text[i] != '&' && text[i] != '?') || strncmp(text + i + 1, key, kl) != 0)
            continue;
        size_t vs = i + 1 + kl, ve = vs;
        while (ve < s->len && text[ve] != '&')
            ve++;
        snprintf(out, size, "%.*s", (int)(ve - vs), text + vs);
        /* keep the separator that starts the query ("?xuser=a&x" → "?x") */
        size_t cut_from = text[i] == '?' ? i + 1 : i,
               cut_to = text[i] == '?' && ve < s->len ? ve + 1 : ve;
        memmove(text + cut_from, text + cut_to, s->len - cut_to + 1);
        s->len -= cut_to - cut_from;
        return true;
    }
    return false;
}

void pv__webui_target(pv_slice path, pv_slice query, pv_webui_target *t)
{
    memset(t, 0, sizeof *t);
    pv_buf all = {0};
    pv_buf_append_slice(&all, path);
    if (query.len > 0) {
        pv_buf_append_char(&all, '?');
        pv_buf_append_slice(&all, query);
    }
    pv_buf_append_char(&all, '\0');
    all.len--;
    t->has_xuser = take_param(&all, "xuser", t->xuser, sizeof t->xuser);
    take_param(&all, "xpassword", t->xpassword, sizeof t->xpassword);
    size_t cut = strcspn(all.data, "?&");
    snprintf(t->action, sizeof t->action, "%.*s", (int)cut, all.data);
    if (all.data[cut] == '?') {
        t->has_arg = true;
        pv_buf_append_str(&t->arg, all.data + cut + 1);
    }
    pv_buf_append_char(&t->arg, '\0');
    t->arg.len--;
    if (t->arg.len == 0)
        t->has_arg = false;
    pv_buf_free(&all);
}

/* A browser may send the URL percent-encoded ("http%3A%2F%2F..."). */
static void percent_decode(pv_buf *b)
{
    size_t o = 0;
    for (size_t i = 0; i < b->len; i++) {
        char c = b->data[i];
        if (c == '%' && i + 2 < b->len + 0 && isxdigit((unsigned char)b->data[i + 1]) &&
            isxdigit((unsigned char)b->data[i + 2])) {
            char hex[3] = {b->data[i + 1], b->data[i + 2], 0};
            c = (char)strtol(hex, NULL, 16);
            i += 2;
        }
        b->data[o++] = c;
    }
    b->len = o;
    b->data[o] = '\0';
}

void pv__webui_default_server(const char *rule, const char *host, pv_buf *out)
{
    const char *tok = strrchr(rule, ' '); /* the URL ends a rule: "[--key K] URL" */
    tok = tok ? tok + 1 : rule;
    pv_buf_append(out, rule, (size_t)(tok - rule));
    bool v6 = strchr(host, ':') != NULL;
    const char *sep = strstr(tok, "://");
    if (tok[0] == '/') { /* "/path": the requester, scheme as for any rule (tftp) */
        pv_buf_appendf(out, "%s%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "", tok);
    } else if (sep != NULL &&
               (sep[3] == '/' || sep[3] == ':')) { /* "http:///p", "http://:8080/p" */
        pv_buf_append(out, tok, (size_t)(sep + 3 - tok));
        pv_buf_appendf(out, "%s%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "", sep + 3);
    } else {
        pv_buf_append_str(out, tok);
    }
}

/* ---- who is asking ---- */

static bool yes(pv_agent *a, const char *name, bool absent)
{
    const char *v;
    if (pv_agent_get(a, PV_AGENT_ADMIN, name, &v) != 0 || v == NULL || *v == '\0')
        return absent; /* a parameter this family does not have */
    return strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
           strcasecmp(v, "enable") == 0;
}

/* "Authorization: Basic base64(user:password)" (RFC 7617). */
static bool basic_creds(const pv_request *req, char *user, size_t us, char *pw, size_t ps)
{
    pv_slice h = pv_slice_trim(pv_request_header(req, "Authorization"));
    if (h.len < 7 || strncasecmp(h.ptr, "Basic ", 6) != 0 || h.len - 6 > 344)
        return false;
    unsigned char dec[260];
    int n = EVP_DecodeBlock(dec, (const unsigned char *)h.ptr + 6, (int)(h.len - 6));
    if (n <= 0)
        return false;
    while (n > 0 && dec[n - 1] == '\0') /* EVP_DecodeBlock counts '=' padding as zeros */
        n--;
    dec[n] = '\0';
    char *colon = strchr((char *)dec, ':');
    if (colon == NULL)
        return false;
    *colon = '\0';
    snprintf(user, us, "%s", (char *)dec);
    snprintf(pw, ps, "%s", colon + 1);
    return true;
}

static role who(pv_agent *a, const pv_request *req, const pv_webui_target *t)
{
    char user[64] = "", pw[128] = "";
    bool given = basic_creds(req, user, sizeof user, pw, sizeof pw);
    if (!given && t->has_xuser) { /* C-FMT: &xuser=admin&xpassword=... */
        given = true;
        snprintf(user, sizeof user, "%s", t->xuser);
        snprintf(pw, sizeof pw, "%s", t->xpassword);
    }
    if (given) {
        if (strcmp(user, "admin") == 0 && pv_agent_check_password(a, PV_AGENT_ADMIN, pw))
            return ROLE_ADMIN;
        if (strcmp(user, "user") == 0 && pv_agent_check_password(a, PV_AGENT_USER, pw))
            return ROLE_USER;
        return ROLE_BAD;
    }
    if (pv_agent_check_password(a, PV_AGENT_ADMIN, "")) /* no admin password: no prompt */
        return ROLE_ADMIN;
    if (pv_agent_check_password(a, PV_AGENT_USER, ""))
        return ROLE_USER;
    return ROLE_NONE;
}

/* ---- answers ---- */

static void reply(pv_request *req, int status, const char *type, char *body, size_t len)
{
    pv_response resp = {.fd = -1};
    pv_response_set_body(req, &resp, status, body, len, type);
    if (status == 401) /* a browser then asks for the admin or user login (spec 9) */
        resp.www_authenticate = "Basic realm=\"phone\", charset=\"UTF-8\"";
    pv_request_respond(req, &resp);
}

static void replyf(pv_request *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void replyf(pv_request *req, int status, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    size_t n = pv_vformat_cut(text, sizeof text, fmt, ap); /* a long message is cut */
    va_end(ap);
    reply(req, status, "text/plain", text, n);
}

static void send_xml(pv_request *req, char *data, size_t len)
{
    reply(req, 200, "text/xml", data, len);
    free(data);
}

static int status_of(int rc)
{
    switch (rc) {
    case PV_EACCES:
        return 403;
    case PV_EBUSY:
        return 503;
    case PV_ENOENT:
        return 404;
    default:
        return 400;
    }
}

static void peer_host(const pv_request *req, char *host, size_t size)
{
    snprintf(host, size, "127.0.0.1");
    pv_sockaddr_host(req->peer, host, size);
}

/* /admin/resync?RULE and /admin/upgrade?URL (spec 9, 1.2). */
static void one_shot(pv_webui *w, pv_request *req, pv_webui_target *t, bool upgrade)
{
    pv_agent *a = pv_phone_agent(w->phone);
    pv_buf rule = {0};
    if (t->has_arg) {
        if (strcasestr(t->arg.data, "%3A%2F%2F") != NULL || strstr(t->arg.data, "%20") != NULL)
            percent_decode(&t->arg);
        char host[64];
        peer_host(req, host, sizeof host);
        pv__webui_default_server(t->arg.data, host, &rule);
    }
    pv_buf_append_char(&rule, '\0');
    pv_error err = {{0}};
    uint64_t now = pv_phone_now(w->phone);
    int rc;
    /* the engine refuses a bad rule (400) or a server outside Restricted_Access_Domains
     * (403) at once; what needs the network shows later in status.xml */
    if (upgrade)
        rc = t->has_arg
                 ? pv_agent_upgrade(a, now, rule.data, &err)
                 : pv_error_set(&err, PV_EINVAL, "an upgrade needs a URL: /admin/upgrade?URL");
    else
        rc = pv_agent_resync(a, now, t->has_arg ? rule.data : NULL, &err);
    pv_phone_kick(w->phone);
    if (rc == 0)
        replyf(req, 200, "%s started%s%s\n", upgrade ? "upgrade" : "resync", t->has_arg ? ": " : "",
               t->has_arg ? rule.data : "");
    else
        replyf(req, status_of(rc), "%s refused: %s\n", upgrade ? "upgrade" : "resync",
               err.msg[0] ? err.msg : pv_strerror(rc));
    pv_buf_free(&rule);
}

static void clock_ctl(pv_webui *w, pv_request *req, const pv_webui_target *t)
{
    if (t->has_arg && strncmp(t->arg.data, "advance=", 8) == 0) {
        char *end;
        double secs = strtod(t->arg.data + 8, &end);
        if (*end != '\0' || !(secs >= 0) || secs > 1e9) {
            replyf(req, 400, "advance=SECONDS: expected a number of seconds\n");
            return;
        }
        if (pv_phone_advance(w->phone, (uint64_t)(secs * 1000.0)) != 0) {
            replyf(req, 409, "the clock is real: start the phone with --clock virtual\n");
            return;
        }
    }
    replyf(req, 200, "now=%llu virtual=%s\n", (unsigned long long)pv_phone_now(w->phone),
           pv_phone_clock_is_virtual(w->phone) ? "yes" : "no");
}

static bool is(const pv_webui_target *t, const char *action)
{
    return strcmp(t->action, action) == 0;
}

/* Everything under /admin/ for an admin. */
static void admin(pv_webui *w, pv_request *req, pv_webui_target *t)
{
    pv_agent *a = pv_phone_agent(w->phone);
    uint64_t now = pv_phone_now(w->phone);
    bool direct = is(t, "/admin/resync") || is(t, "/admin/upgrade") || is(t, "/admin/reboot") ||
                  is(t, "/admin/cfg.xml") || is(t, "/admin/status.xml"); /* spec 9's list */
    if (direct && !yes(a, "Enable_Direct_Action_Url", true)) { /* MPP only: absent = allowed */
        replyf(req, 403, "direct action URLs are disabled (Enable_Direct_Action_Url)\n");
        return;
    }
    char *data;
    size_t len;
    pv_error err = {{0}};
    if (is(t, "/admin/resync") || is(t, "/admin/upgrade")) {
        one_shot(w, req, t, is(t, "/admin/upgrade"));
    } else if (is(t, "/admin/reboot")) {
        replyf(req, 200, "rebooting\n");
        pv_agent_reboot(a, now);
        pv_phone_kick(w->phone);
    } else if (is(t, "/admin/cfg.xml")) {
        if (pv_agent_export_config(a, PV_AGENT_ADMIN, &data, &len, &err) == 0)
            send_xml(req, data, len);
        else
            replyf(req, 500, "%s\n", err.msg);
    } else if (is(t, "/admin/status.xml")) {
        pv_agent_status_xml(a, now, &data, &len);
        send_xml(req, data, len);
    } else if (is(t, "/admin/config.xml")) {
        if (req->method != PV_METHOD_POST) {
            replyf(req, 405, "POST a profile to /admin/config.xml\n");
            return;
        }
        int rc = pv_agent_apply_config(a, now, PV_AGENT_ADMIN, req->body.ptr, req->body.len, &err);
        pv_phone_kick(w->phone);
        if (rc == 0)
            replyf(req, 200, "applied\n");
        else
            replyf(req, status_of(rc), "not applied: %s\n", err.msg);
    } else if (is(t, "/admin/call")) {
        bool start = t->has_arg && strcmp(t->arg.data, "start") == 0;
        if (!start && !(t->has_arg && strcmp(t->arg.data, "end") == 0)) {
            replyf(req, 400, "expected /admin/call?start or /admin/call?end\n");
            return;
        }
        pv_agent_set_call(a, now, start); /* spec 5.3: resync and upgrade wait for idle */
        pv_phone_kick(w->phone);
        replyf(req, 200, "call %s\n", start ? "active" : "ended");
    } else if (is(t, "/admin/factory-reset")) {
        /* spec 12.2: back to MFG-RESET; ?ivr is the keypad code, which
         * Protect_IVR_FactoryReset may disable (the admin's reset stays possible) */
        bool ivr = t->has_arg && strcmp(t->arg.data, "ivr") == 0;
        int rc = 0;
        if (ivr)
            rc = pv_agent_ivr_factory_reset(a, now, &err);
        else
            pv_agent_factory_reset(a, now);
        pv_phone_kick(w->phone);
        replyf(req, rc == 0 ? 200 : status_of(rc), "%s\n", rc == 0 ? "factory reset" : err.msg);
    } else if (is(t, "/admin/report")) {
        int rc = pv_agent_report(a, now, &err);
        pv_phone_kick(w->phone);
        replyf(req, rc == 0 ? 200 : status_of(rc), "%s\n", rc == 0 ? "report started" : err.msg);
    } else if (is(t, "/admin/dhcp")) {
        int rc = pv_phone_reload_dhcp(w->phone, &err);
        replyf(req, rc == 0 ? 200 : status_of(rc), "%s\n", rc == 0 ? "lease applied" : err.msg);
    } else if (is(t, "/admin/clock")) {
        clock_ctl(w, req, t);
    } else {
        replyf(req, 404, "no such page\n");
    }
}

static void handle(pv_handler *self, pv_request *req)
{
    pv_webui *w = self->data;
    pv_agent *a = pv_phone_agent(w->phone);
    if (!yes(a, "Enable_Web_Server", true)) {
        replyf(req, 403, "the web server is disabled (Enable_Web_Server)\n");
        return;
    }
    pv_webui_target t;
    pv__webui_target(req->path, req->query, &t);
    role r = who(a, req, &t);
    bool admin_page = strncmp(t.action, "/admin/", 7) == 0 || is(&t, "/admin");
    if (r == ROLE_BAD || r == ROLE_NONE) {
        replyf(req, 401, "log in as admin or user (HTTP Basic, or &xuser=&xpassword=)\n");
    } else if (admin_page && !yes(a, "Enable_Web_Admin_Access", true)) {
        replyf(req, 403, "admin access is disabled (Enable_Web_Admin_Access)\n");
    } else if (admin_page && r != ROLE_ADMIN) {
        replyf(req, 403, "the admin pages need the admin login\n");
    } else if (admin_page) {
        admin(w, req, &t);
    } else if (is(&t, "/cfg.xml")) { /* the user's view: ua filtering (spec 3.1, 9) */
        char *data;
        size_t len;
        pv_error err;
        if (pv_agent_export_config(a, PV_AGENT_USER, &data, &len, &err) == 0)
            send_xml(req, data, len);
        else
            replyf(req, 500, "%s\n", err.msg);
    } else if (is(&t, "/")) {
        replyf(req, 200, "%s %s\nstate: %s\nindicator: %s\nfirmware: %s\nlast: %s\n",
               pv_agent_model(a), pv_agent_mac(a),
               pv_agent_prov_state_name(pv_agent_get_prov_state(a)),
               pv_agent_led_name(pv_agent_get_led(a)), pv_agent_swver(a),
               pv_phone_last_result(w->phone));
    } else {
        replyf(req, 404, "no such page\n");
    }
    pv_buf_free(&t.arg);
}

pv_webui *pv_webui_new(pv_phone *phone)
{
    pv_webui *w = pv_calloc(1, sizeof *w);
    w->phone = phone;
    w->handler.handle = handle;
    w->handler.data = w;
    return w;
}

void pv_webui_free(pv_webui *w)
{
    free(w);
}

pv_handler *pv_webui_handler(pv_webui *w)
{
    return &w->handler;
}
