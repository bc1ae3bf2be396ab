/*
 * vars.c — the phone's values for macro expansion (spec 2.2).
 *
 * Rules, triggers, --post bodies and syslog templates are expanded with what
 * this phone knows at this moment: GPP registers, identity, timers measured
 * on the host's clock, and the target of the request in flight ($SCHEME,
 * $SERV, $SERVIP, $PORT, $PATH; $SERVIP is the name itself only when the
 * host resolves names on its own, resolve.c). Names this table does not know are left to the core
 * (a standard name without a value expands empty, others stay literal).
 */
#include "agent/agent_int.h"

#include "core/device_id.h"
#include "core/macro.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void put_u64(pv_buf *out, uint64_t v)
{
    pv_buf_appendf(out, "%" PRIu64, v);
}

static uint64_t seconds_since(uint64_t now, uint64_t then)
{
    return now > then ? (now - then) / 1000 : 0;
}

static bool target_var(const pv_agent *a, const char *name, pv_buf *out)
{
    if (a->op == NULL || a->op->f.host == NULL)
        return false;
    const pv__fetch *f = &a->op->f;
    if (strcmp(name, "SCHEME") == 0 || strcmp(name, "METH") == 0)
        pv_buf_append_str(out, pv_scheme_name(f->scheme));
    else if (strcmp(name, "SERV") == 0)
        pv_buf_append_str(out, f->host);
    else if (strcmp(name, "SERVIP") == 0) /* spec 2.2: the target IP after DNS */
        pv_buf_append_str(out, pv__fetch_address(f) ? pv__fetch_address(f) : f->host);
    else if (strcmp(name, "PORT") == 0)
        put_u64(out, f->port);
    else if (strcmp(name, "PATH") == 0)
        pv_buf_append_str(out, f->path);
    else
        return false;
    return true;
}

static bool gpp_var(const pv_agent *a, const char *name, pv_buf *out)
{
    size_t n = strlen(name);
    bool plain = n == 1 && name[0] >= 'A' && name[0] <= 'P';
    bool secret = n == 2 && name[0] == 'S' && name[1] >= 'A' && name[1] <= 'D';
    if (!plain && !secret)
        return false;
    char gpp[8];
    snprintf(gpp, sizeof gpp, "GPP_%s", name); /* fits: at most "GPP_SD" */
    const char *v = pv__agent_get(a, gpp);
    pv_buf_append_str(out, v ? v : "");
    return true;
}

static bool identity_var(const pv_agent *a, const char *name, pv_buf *out)
{
    pv_mac mac;
    memcpy(mac.hex, a->mac, sizeof mac.hex);
    char buf[18];
    if (strcmp(name, "MA") == 0) {
        pv_buf_append_str(out, a->mac);
    } else if (strcmp(name, "MAU") == 0) {
        pv_mac_format_upper(&mac, buf);
        pv_buf_append_str(out, buf);
    } else if (strcmp(name, "MAC") == 0) {
        pv_mac_format_colons(&mac, buf);
        pv_buf_append_str(out, buf);
    } else if (strcmp(name, "PN") == 0) {
        pv_buf_append_str(out, a->model);
    } else if (strcmp(name, "PSN") == 0) {
        pv_buf_append_str(out, a->psn);
    } else if (strcmp(name, "SN") == 0) {
        pv_buf_append_str(out, a->serial);
    } else if (strcmp(name, "SWVER") == 0) {
        pv_buf_append_str(out, pv_agent_swver(a));
    } else if (strcmp(name, "HWVER") == 0) {
        pv_buf_append_str(out, a->hwver);
    } else if (strcmp(name, "CCERT") == 0) {
        pv_buf_append_str(out, a->client_cert ? "Installed" : "Not Installed");
    } else {
        return false;
    }
    return true;
}

static bool state_var(const pv_agent *a, uint64_t now, const char *name, pv_buf *out)
{
    if (strcmp(name, "IP") == 0)
        pv_buf_append_str(out, a->ip ? a->ip : "");
    else if (strcmp(name, "EXTIP") == 0)
        pv_buf_append_str(out, a->extip ? a->extip : "");
    else if (strcmp(name, "PRVST") == 0)
        pv_buf_appendf(out, "%d", a->prvst);
    else if (strcmp(name, "UPGST") == 0)
        pv_buf_appendf(out, "%d", a->upgst);
    else if (strcmp(name, "UPGERR") == 0)
        pv_buf_append_str(out, a->upgerr ? a->upgerr : "");
    else if (strcmp(name, "ERR") == 0)
        pv_buf_append_str(out, a->err ? a->err : "");
    else if (strcmp(name, "PRVTMR") == 0) /* since the last attempt, or since boot */
        put_u64(out, seconds_since(now, a->last_resync ? a->last_resync : a->boot_time));
    else if (strcmp(name, "UPGTMR") == 0)
        put_u64(out, seconds_since(now, a->last_upgrade ? a->last_upgrade : a->boot_time));
    else if (strcmp(name, "REGTMR1") == 0 || strcmp(name, "REGTMR2") == 0) {
        int line = name[6] - '1';
        put_u64(out, a->regd[line] ? 0 : seconds_since(now, a->reg_lost[line]));
    } else if (strcmp(name, "UPGCOND") == 0) /* spec 2.2: "always expands to true" from 2.0.6 */
        pv_buf_append_str(out, "true");
    else if (strcmp(name, "ISCUST") == 0)
        pv_buf_append_str(out, a->prov_state >= PV_AGENT_SP_CUST ? "1" : "0");
    else if (strncmp(name, "UID", 3) == 0 && name[3] >= '1' && name[3] <= '9') {
        char param[32];
        int n = snprintf(param, sizeof param, "User_ID_%s_", name + 3);
        if (n < 0 || (size_t)n >= sizeof param)
            return false;
        const char *v = pv__agent_get(a, param);
        pv_buf_append_str(out, v ? v : "");
    } else
        return false;
    return true;
}

static bool lookup(void *ctx, const char *name, pv_buf *out)
{
    const pv__vars_ctx *c = ctx;
    if (c->version != NULL && strcmp(name, "VERSION") == 0) {
        pv_buf_append_str(out, c->version);
        return true;
    }
    return gpp_var(c->a, name, out) || identity_var(c->a, name, out) ||
           state_var(c->a, c->now, name, out) || target_var(c->a, name, out);
}

pv_md pv__key_md(const pv_agent *a)
{
    if (a->defs->family != PV_AGENT_MPP)
        return PV_MD_MD5; /* spec 4.1: SPA/ATA guides: "tested against openssl-0.9.7c" */
    /* spec 4.1: the 11.3(1)+ guide names openssl-1.1.1d (sha256 by default);
     * earlier multiplatform loads are of the md5 era (inferred) */
    const char *sw = pv_agent_swver(a), *dot = strchr(sw, '.');
    unsigned major = 0, minor = 0;
    if (sscanf(dot ? dot + 1 : sw, "%u-%u", &major, &minor) != 2)
        return a->defs->md;
    return major > 11 || (major == 11 && minor >= 3) ? PV_MD_SHA256 : PV_MD_MD5;
}

pv_macro_env pv__macro_env(const pv_agent *a, uint64_t now, void *scratch)
{
    pv__vars_ctx *c = scratch;
    c->a = a;
    c->now = now;
    c->version = NULL;
    return (pv_macro_env){lookup, c};
}

void pv__expand(const pv_agent *a, uint64_t now, const char *tmpl, pv_buf *out)
{
    pv__vars_ctx c;
    pv_macro_env env = pv__macro_env(a, now, &c);
    pv_macro_expand(pv_slice_from(tmpl), &env, 0, out);
}
