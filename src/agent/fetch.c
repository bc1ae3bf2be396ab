/*
 * fetch.c — turning a rule's URL into a request for the host, and the host's
 * answer into an outcome (spec 1.2, 8, 10).
 *
 * Server resolution: a URL without a server uses the DHCP options in the
 * order of DHCP_Option_To_Use (66 and 150 name TFTP servers, 159 a
 * provisioning server address, 160 a provisioning URL — DESIGN), with the
 * scheme from Transport_Protocol on SPA/ATA when the rule gave none.
 * Answers follow the spec 8.3 table: 301/302 are followed at once (a few
 * hops), 401/407 are retried with --uid/--pwd (at most twice), 404 is class B
 * and everything else that is not 2xx is class C. Credentials are offered
 * only after a challenge, as the phone does.
 */
#include "agent/agent_int.h"

#include "core/alloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_REDIRECTS 5    /* spec 8.3 says "retry at Location"; we stop loops */
#define MAX_AUTH_RETRIES 2 /* spec 8.2: maximum 2 retries */

static const unsigned dhcp_codes[4] = {66, 150, 159, 160};

static const char *dhcp_value(const pv_agent *a, unsigned code)
{
    for (size_t i = 0; i < 4; i++) {
        if (dhcp_codes[i] == code)
            return a->dhcp[i];
    }
    return NULL;
}

int pv_agent_set_dhcp_option(pv_agent *a, unsigned code, const char *value)
{
    for (size_t i = 0; i < 4; i++) {
        if (dhcp_codes[i] != code)
            continue;
        free(a->dhcp[i]);
        a->dhcp[i] = value != NULL && *value != '\0' ? pv_strdup(value) : NULL;
        return 0;
    }
    return PV_ENOTSUP; /* 43, 60, 125 are for TR-069, which we do not emulate */
}

/* spec 10: Transport_Protocol (none/tftp/http/https) for DHCP-learned servers */
static pv_scheme dhcp_scheme(const pv_agent *a, const pv_url *u)
{
    if (u->scheme_given)
        return u->scheme;
    const char *t = pv__agent_get(a, "Transport_Protocol");
    if (t != NULL && strcasecmp(t, "https") == 0)
        return PV_SCHEME_HTTPS;
    if (t != NULL && strcasecmp(t, "http") == 0)
        return PV_SCHEME_HTTP;
    return PV_SCHEME_TFTP;
}

static void set_target(pv__fetch *f, pv_scheme scheme, const char *host, uint16_t port,
                       const char *path, const char *query)
{
    char *h = pv_strdup(host); /* host may be f->host itself (a path-only Location) */
    if (f->host == NULL || strcmp(f->host, h) != 0)
        pv__fetch_forget_addresses(f); /* another server: its own addresses */
    free(f->host);
    free(f->path);
    f->scheme = scheme;
    f->host = h;
    f->port = port ? port : pv_scheme_default_port(scheme);
    pv_buf p = {0};
    pv_buf_append_str(&p, path);
    if (query != NULL) {
        pv_buf_append_char(&p, '?');
        pv_buf_append_str(&p, query);
    }
    f->path = pv_buf_take(&p, NULL);
}

/* The first usable DHCP option in DHCP_Option_To_Use order (spec 10). */
static bool from_dhcp(const pv_agent *a, pv__fetch *f, const pv_url *u, bool factory_rule)
{
    const char *order = pv__agent_get(a, "DHCP_Option_To_Use");
    for (const char *p = order ? order : ""; *p != '\0';) {
        char *end;
        unsigned long code = strtoul(p, &end, 10);
        p = end == p ? p + 1 : end; /* separators: ',' (MPP) or '.' (the ATA guide) */
        const char *v = dhcp_value(a, (unsigned)code);
        if (v == NULL)
            continue;
        pv_scheme scheme = dhcp_scheme(a, u);
        uint16_t port = u->port_given ? u->port : 0;
        if (code == 160) { /* a URL; its scheme from Transport_Protocol when absent */
            pv_url d = {0};
            pv_buf x = {0}; /* spec 2.1, 10: a URL like the rules', macros and all (…/$PSN.xml) */
            pv__expand(a, a->boot_time, v, &x);
            int bad = pv_url_parse(pv_buf_slice(&x), 0, &d, NULL);
            pv_buf_free(&x);
            if (bad != 0 || d.dhcp_host || d.gds) {
                pv_url_free(&d);
                continue;
            }
            pv_scheme s = d.scheme_given ? d.scheme : scheme;
            uint16_t dp = d.port_given ? d.port : 0;
            if (factory_rule && strcmp(d.path, "/") != 0) /* it names the file: fetch it */
                set_target(f, s, d.host, dp, d.path, d.query);
            else
                set_target(f, s, d.host, dp, u->path, u->query);
            pv_url_free(&d);
            return true;
        }
        char host[256];
        size_t n = strcspn(v, code == 150 ? ", " : " "); /* 150: a list, take the first */
        if (n == 0 || n >= sizeof host)
            continue;
        memcpy(host, v, n);
        host[n] = '\0';
        set_target(f, scheme, host, port, u->path, u->query);
        return true;
    }
    return false;
}

/* spec 9: Restricted_Access_Domains — the server must be within the list. */
static bool domain_allowed(const pv_agent *a, const char *host)
{
    const char *list = pv__agent_get(a, "Restricted_Access_Domains");
    if (list == NULL || *list == '\0')
        return true;
    size_t hl = strlen(host);
    for (const char *p = list; *p != '\0';) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        size_t n = strcspn(p, ", \t");
        if (n > 0 && n <= hl && strncasecmp(host + hl - n, p, n) == 0 &&
            (n == hl || host[hl - n - 1] == '.'))
            return true;
        p += n;
    }
    return false;
}

int pv__fetch_prepare(pv_agent *a, pv__fetch *f, const pv_url *url, bool factory_rule,
                      pv_error *err)
{
    if (url->gds)
        return pv_error_set(err, PV_ENOTSUP, "gds:// activation-code onboarding is not emulated");
    if (url->dhcp_host) {
        if (!from_dhcp(a, f, url, factory_rule))
            return pv_error_set(err, PV_ENOENT,
                                "no provisioning server: the rule names none and DHCP gave none");
    } else {
        set_target(f, url->scheme, url->host, url->port, url->path, url->query);
    }
    if (!domain_allowed(a, f->host))
        return pv_error_set(err, PV_EACCES, "%s is outside Restricted_Access_Domains", f->host);
    return 0;
}

void pv__fetch_take_opts(pv__fetch *f, const pv_rule_options *o)
{
    f->key = o->key ? pv_strdup(o->key) : NULL;
    f->uid = o->uid ? pv_strdup(o->uid) : NULL;
    f->pwd = o->pwd ? pv_strdup(o->pwd) : NULL;
    f->alias = o->alias;
    f->srv = o->srv;
}

void pv__fetch_sibling(pv__fetch *f, const char *file)
{
    size_t dir = strcspn(f->path, "?");
    while (dir > 0 && f->path[dir - 1] != '/')
        dir--;
    pv_buf p = {0};
    pv_buf_append(&p, f->path, dir);
    pv_buf_append_str(&p, file);
    free(f->path);
    f->path = pv_buf_take(&p, NULL);
    f->redirects = f->auth_retries = 0;
    f->with_credentials = false;
}

void pv__fetch_free(pv__fetch *f)
{
    pv__fetch_forget_addresses(f);
    for (size_t i = 0; i < f->ntargets; i++)
        free(f->targets[i].target);
    free(f->host);
    free(f->path);
    free(f->key);
    free(f->uid);
    free(f->pwd);
    pv_buf_free(&f->body);
    memset(f, 0, sizeof *f);
}

void pv__fetch_send(pv_agent *a, uint64_t now, pv__fetch *f)
{
    if (!pv__fetch_route(a, f))
        return; /* a RESOLVE is queued: sent again once it is answered */
    if (f->request_log != NULL) { /* spec 7.3: $SERVIP is the address about to be used */
        pv__log(a, now, 6, f->request_log);
        f->request_log = NULL;
    }
    pv__action *q =
        pv__queue(a, f->purpose == PV_AGENT_FOR_REPORT ? PV_AGENT_ACT_UPLOAD : PV_AGENT_ACT_FETCH);
    pv_buf url = {0};
    bool ipv6 = strchr(f->host, ':') != NULL;
    pv_buf_appendf(&url, "%s://%s%s%s:%u%s", pv_scheme_name(f->scheme), ipv6 ? "[" : "", f->host,
                   ipv6 ? "]" : "", (unsigned)f->port, f->path);
    q->url = pv_buf_take(&url, NULL);
    q->host = pv_strdup(f->host);
    q->path = pv_strdup(f->path);
    if (pv__fetch_address(f) != NULL)
        q->address = pv_strdup(pv__fetch_address(f));
    if (f->with_credentials) {
        q->uid = f->uid ? pv_strdup(f->uid) : NULL;
        q->pwd = f->pwd ? pv_strdup(f->pwd) : NULL;
    }
    if (f->body.len > 0 || f->purpose == PV_AGENT_FOR_REPORT)
        pv_buf_append(&q->body, f->body.data ? f->body.data : "", f->body.len);
    char ua[160];
    pv_agent_user_agent(a, ua, sizeof ua);
    q->text = pv_strdup(ua);
    pv_agent_action *act = &q->act;
    act->purpose = f->purpose;
    act->scheme = pv_scheme_name(f->scheme);
    act->port = f->port;
    act->method = f->method ? f->method : "GET";
    act->content_encoding = f->encoding;
    if (q->body.len > 0 || f->purpose == PV_AGENT_FOR_REPORT)
        act->content_type = f->encoding || f->key ? "application/octet-stream" : "application/xml";
    act->client_cert = f->scheme == PV_SCHEME_HTTPS && a->client_cert; /* spec 4.4 */
    f->id = act->id;
}

pv__fetch_result pv__fetch_answer(pv_agent *a, uint64_t now, pv__fetch *f,
                                  const pv_agent_response *r)
{
    f->id = 0;
    const char *what = f->scheme == PV_SCHEME_TFTP ? "tftp" : "http";
    const char *verb = f->purpose == PV_AGENT_FOR_REPORT ? "put" : "get";
    if (r->error < 0 || r->status == 0) {
        if (!f->lookup_failed && pv__fetch_failover(a, now, f)) /* spec 1.2: the next address */
            return PV__FETCH_AGAIN;
        if (f->lookup_failed)
            pv__set_err(a, "DNS lookup failed: %s", f->host);
        else
            pv__set_err(a, "Connection error: %s",
                        pv_strerror(r->error < 0 ? r->error : PV_ECONN));
        return PV__FETCH_FAIL;
    }
    int st = r->status;
    if ((st == 301 || st == 302) && r->location != NULL) { /* spec 8.3 */
        if (f->redirects >= MAX_REDIRECTS) {
            pv__set_err(a, "%s_%s failed: too many redirects", what, verb);
            return PV__FETCH_FAIL;
        }
        pv_url u = {0};
        if (pv_url_parse(pv_slice_from(r->location), 0, &u, NULL) != 0 || u.gds ||
            !domain_allowed(a, u.dhcp_host ? f->host : u.host)) {
            pv_url_free(&u);
            pv__set_err(a, "%s_%s failed: bad redirect", what, verb);
            return PV__FETCH_FAIL;
        }
        if (u.dhcp_host) { /* a path-absolute Location: same server */
            set_target(f, f->scheme, f->host, f->port, u.path, u.query);
        } else {
            set_target(f, u.scheme, u.host, u.port, u.path, u.query);
            f->ntargets = f->next_target; /* the redirect chose the server: no SRV failover */
        }
        pv_url_free(&u);
        f->redirects++;
        pv__fetch_send(a, now, f);
        return PV__FETCH_AGAIN;
    }
    if (st == 401 || st == 407) { /* spec 8.2, 8.3: credentials, at most 2 retries */
        if (f->uid != NULL && f->auth_retries < MAX_AUTH_RETRIES) {
            f->auth_retries++;
            f->with_credentials = true;
            pv__fetch_send(a, now, f);
            return PV__FETCH_AGAIN;
        }
        pv__set_err(a, "%s_%s failed: %d %s", what, verb, st,
                    f->uid ? "credentials refused" : "authentication required");
        return PV__FETCH_FAIL;
    }
    if (st == 404) {
        pv__set_err(a, "File not found");
        return PV__FETCH_FNF;
    }
    if (st >= 200 && st < 300)
        return PV__FETCH_OK;
    pv__set_err(a, "%s_%s failed: status %d", what, verb, st);
    return PV__FETCH_FAIL;
}
