/*
 * agent.c — the engine's entry points: life cycle, the action queue, the
 * dispatcher that starts what is due, one-shot actions and status.
 *
 * Control flow: every public entry point (boot, tick, fetch_done, set_call,
 * a one-shot) does its work and then calls pv__run(), which starts the next
 * due operation if none is running and the idle rule allows it. Operations
 * never call pv__run() themselves, so there is no recursion between the
 * machines: a resync that ends asks for an upgrade check by setting a time,
 * and the dispatcher picks it up.
 */
#include "agent/agent_int.h"

#include "core/alloc.h"
#include "core/device_id.h"
#include "core/macro.h"
#include "core/version.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS ((uint64_t)86400000)

int pv_agent_new(pv_agent **out, const pv_agent_defaults *defs, const pv_agent_identity *id,
                 uint64_t seed, pv_error *err)
{
    if (defs == NULL || id == NULL || id->mac == NULL)
        return pv_error_set(err, PV_EINVAL, "an agent needs family defaults and a MAC address");
    pv_mac mac;
    int rc = pv_mac_parse(pv_slice_from(id->mac), &mac, err);
    if (rc != 0)
        return rc;
    const char *model = id->model ? id->model : defs->model;
    const char *swver = id->swver ? id->swver : defs->swver;
    const char *hwver = id->hwver ? id->hwver : "1.0.0";
    pv_agent *a = pv_calloc(1, sizeof *a);
    if (strlen(model) >= sizeof a->model || strlen(swver) >= sizeof a->factory_swver ||
        strlen(hwver) >= sizeof a->hwver ||
        (id->serial && strlen(id->serial) >= sizeof a->serial)) {
        free(a);
        return pv_error_set(err, PV_ETOOBIG, "model, serial or version too long");
    }
    pv_version v;
    if (pv_version_parse(pv_slice_from(swver), &v, err) != 0) {
        free(a);
        return PV_ESYNTAX;
    }
    a->defs = defs;
    memcpy(a->mac, mac.hex, sizeof a->mac);
    memcpy(a->model, model, strlen(model) + 1);
    if (pv_macro_psn(model, a->psn, sizeof a->psn) != 0)
        a->psn[0] = '\0';
    if (id->serial)
        memcpy(a->serial, id->serial, strlen(id->serial) + 1);
    else /* FCH + the NIC part of the MAC: unique per phone, shaped like Cisco's */
        snprintf(a->serial, sizeof a->serial, "FCH%.8s", a->mac + 4); /* fits: 11 bytes */
    for (char *p = a->serial; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'f' ? *p - 'a' + 'A' : *p);
    memcpy(a->factory_swver, swver, strlen(swver) + 1);
    memcpy(a->hwver, hwver, strlen(hwver) + 1);
    a->client_cert = id->client_cert;
    a->any_key_digest = id->any_key_digest;
    a->rng = seed;
    memcpy(a->slot[0].version, swver, strlen(swver) + 1);
    a->resync_due = a->upgrade_due = a->upgrade_check = PV_AGENT_NEVER;
    a->report_due = a->trigger_due = a->reboot_due = PV_AGENT_NEVER;
    a->resync_forced = false;
    *out = a;
    return 0;
}

static void action_free(pv__action *q)
{
    free(q->url);
    free(q->host);
    free(q->path);
    free(q->uid);
    free(q->pwd);
    free(q->text);
    free(q->address);
    pv_buf_free(&q->body);
    free(q);
}

static void queue_clear(pv_agent *a)
{
    for (pv__action *q = a->queue, *next; q != NULL; q = next) {
        next = q->next;
        action_free(q);
    }
    if (a->taken != NULL)
        action_free(a->taken);
    a->queue = a->queue_tail = a->taken = NULL;
}

void pv__op_free(pv_agent *a)
{
    pv__op *op = a->op;
    if (op == NULL)
        return;
    pv__fetch_free(&op->f);
    free(op->oneshot);
    for (size_t i = 0; i < op->nfiles; i++)
        free(op->files[i]);
    free(op->files);
    pv_rule_result_free(&op->report);
    free(op);
    a->op = NULL;
}

void pv_agent_free(pv_agent *a)
{
    if (a == NULL)
        return;
    queue_clear(a);
    pv__op_free(a);
    pv_params_free(&a->own);
    if (a->baseline != NULL)
        pv_params_free(a->baseline);
    free(a->baseline);
    free(a->last_upgrade_url);
    free(a->upgerr);
    free(a->err);
    free(a->ip);
    free(a->extip);
    for (size_t i = 0; i < 4; i++)
        free(a->dhcp[i]);
    free(a);
}

/* ---- the action queue ---- */

pv__action *pv__queue(pv_agent *a, pv_agent_action_kind kind)
{
    pv__action *q = pv_calloc(1, sizeof *q);
    q->act.kind = kind;
    if (kind == PV_AGENT_ACT_FETCH || kind == PV_AGENT_ACT_UPLOAD || kind == PV_AGENT_ACT_RESOLVE) {
        if (++a->next_id == 0)
            a->next_id = 1;
        q->act.id = a->next_id;
    }
    if (a->queue_tail != NULL)
        a->queue_tail->next = q;
    else
        a->queue = q;
    a->queue_tail = q;
    return q;
}

bool pv_agent_next_action(pv_agent *a, pv_agent_action *out)
{
    if (a->taken != NULL) { /* the previous action's strings lived until now */
        action_free(a->taken);
        a->taken = NULL;
    }
    pv__action *q = a->queue;
    if (q == NULL)
        return false;
    a->queue = q->next;
    if (a->queue == NULL)
        a->queue_tail = NULL;
    q->next = NULL;
    a->taken = q;
    pv_agent_action *act = &q->act;
    act->url = q->url;
    act->host = q->host;
    act->path = q->path;
    act->uid = q->uid;
    act->pwd = q->pwd;
    act->address = q->address;
    act->body = q->body.data;
    act->body_len = q->body.len;
    if (act->kind == PV_AGENT_ACT_LOG)
        act->text = q->text;
    else
        act->user_agent = q->text;
    *out = *act;
    return true;
}

void pv__persist(pv_agent *a)
{
    for (pv__action *q = a->queue; q != NULL; q = q->next) {
        if (q->act.kind == PV_AGENT_ACT_PERSIST)
            return; /* one pending save covers every change before it is taken */
    }
    pv__queue(a, PV_AGENT_ACT_PERSIST);
}

void pv__set_err(pv_agent *a, const char *fmt, ...)
{
    pv_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        tmp[0] = '\0'; /* a longer message is cut at 511 bytes: $ERR is a summary */
    pv_buf_append_str(&b, tmp);
    free(a->err);
    a->err = pv_buf_take(&b, NULL);
}

void pv__log(pv_agent *a, uint64_t now, int level, const char *template_param)
{
    const char *tmpl = pv__agent_get(a, template_param);
    if (tmpl == NULL || *tmpl == '\0')
        return; /* spec 7.3: clearing a template suppresses the message */
    pv_buf b = {0};
    pv__expand(a, now, tmpl, &b);
    pv__action *q = pv__queue(a, PV_AGENT_ACT_LOG);
    q->act.level = level;
    q->text = pv_buf_take(&b, NULL);
}

/* ---- time and the dispatcher ---- */

void pv_agent_set_time_of_day(pv_agent *a, uint64_t now, uint32_t ms_of_day)
{
    a->tod_offset = ((int64_t)(ms_of_day % DAY_MS) - (int64_t)(now % DAY_MS)) % (int64_t)DAY_MS;
    a->tod_known = true;
}

/* Power-up and network connect (spec 5.1): Resync_On_Reset after a random share of
 * Resync_Random_Delay, else only the Upgrade_Rule check. An earlier due resync stays. */
static void arm_connect_resync(pv_agent *a, uint64_t now)
{
    if (!pv__get_bool(a, "Resync_On_Reset")) {
        a->upgrade_check = now;
        return;
    }
    /* spec 5.1, DESIGN: up to Resync_Random_Delay units of 20 s (SPA/ATA) or 1 s (MPP) */
    long units = pv__get_long(a, "Resync_Random_Delay", 2);
    uint64_t max_ms = (uint64_t)(units > 0 ? units : 0) * a->defs->random_delay_unit * 1000;
    uint64_t due = now + (max_ms ? (uint64_t)pv__rand32(a) * (max_ms + 1) >> 32 : 0);
    if (due < a->resync_due) {
        a->resync_due = due;
        a->resync_prvst = 0; /* a timed resync: the MPP trigger gate applies (spec 5.4) */
    }
}

void pv_agent_network_up(pv_agent *a, uint64_t now)
{
    if (a->rebooting)
        return; /* the boot that follows does it */
    arm_connect_resync(a, now);
    pv__run(a, now);
}

void pv_agent_boot(pv_agent *a, uint64_t now)
{
    queue_clear(a);
    pv__op_free(a);
    a->rebooting = false;
    a->boot_time = now;
    a->resync_failures = a->periodic_count = a->upgrade_failures = 0;
    a->last_resync = a->last_upgrade = 0;
    a->prvst = a->upgst = 0;
    a->led = PV_AGENT_LED_NORMAL;
    free(a->err);
    a->err = NULL;
    a->call_active = false;
    a->regd[0] = a->regd[1] = false;
    a->reg_lost[0] = a->reg_lost[1] = now;
    a->resync_due = a->upgrade_due = a->upgrade_check = PV_AGENT_NEVER;
    a->report_due = a->trigger_due = a->reboot_due = PV_AGENT_NEVER;
    a->resync_forced = false;
    pv__boot_reason reason = a->boot_reason;
    if (reason != PV__BOOT_POWER) {
        a->boot_reason = PV__BOOT_POWER;
        pv__persist(a);
    }
    a->resync_prvst = 0;
    a->after_report = PV__AFTER_NONE;
    if (reason == PV__BOOT_UPGRADE && pv__get_bool(a, "Resync_After_Upgrade_Attempt"))
        a->resync_due = now; /* spec 5.1: resync after each upgrade attempt */
    else
        arm_connect_resync(a, now);
    pv__report_arm(a, now, false);
    pv__arm_triggers(a, now);
    pv__run(a, now);
}

static uint64_t earliest(const pv_agent *a, uint64_t due)
{
    uint64_t wait = due;
    if (due != PV_AGENT_NEVER && !pv__idle_allows(a, due, due, &wait))
        return wait; /* busy: at the latest when Forced_Resync_Delay runs out */
    return due;
}

uint64_t pv_agent_next_wakeup(const pv_agent *a)
{
    if (a->rebooting || a->op != NULL)
        return PV_AGENT_NEVER; /* waiting for the host's answer or its reboot */
    uint64_t t = a->trigger_due;
    uint64_t c[5] = {earliest(a, a->resync_due), earliest(a, a->upgrade_due),
                     earliest(a, a->upgrade_check), a->report_due, earliest(a, a->reboot_due)};
    for (size_t i = 0; i < 5; i++)
        t = c[i] < t ? c[i] : t;
    return t;
}

/* MPP (spec 5.4): set triggers prevent a timed resync unless one holds. */
static bool gate_closed(pv_agent *a, uint64_t now)
{
    if (!a->defs->triggers_gate || a->resync_prvst == 2 || a->resync_forced)
        return false;
    bool set;
    return !pv__triggers_true(a, now, &set) && set;
}

static bool start_resync(pv_agent *a, uint64_t now)
{
    uint64_t wait;
    if (!pv__idle_allows(a, now, a->resync_due, &wait))
        return false;
    if (gate_closed(a, now)) {
        pv__schedule_after_success(a, now); /* dropped; the periodic timer restarts */
        return true;
    }
    a->resync_forced = false;
    if (pv__resync_start(a, now, a->resync_prvst, NULL, NULL) != 0)
        a->resync_due = PV_AGENT_NEVER; /* Provision_Enable is No */
    return true;
}

static bool start_upgrade(pv_agent *a, uint64_t now)
{
    bool retry = a->upgrade_due <= now;
    /* spec 6: "upgrades start only when all lines are idle" — unlike a resync,
     * Forced_Resync_Delay does not force one into a call */
    if (a->call_active)
        return false;
    a->upgrade_check = PV_AGENT_NEVER;
    if (retry)
        a->upgrade_due = PV_AGENT_NEVER;
    pv__upgrade_start(a, now, retry, NULL, NULL);
    return true;
}

void pv__run(pv_agent *a, uint64_t now)
{
    for (int guard = 0; guard < 16 && !a->rebooting && a->op == NULL; guard++) {
        if (a->trigger_due <= now) { /* SPA/ATA (spec 5.4): a true trigger fires a resync */
            bool set;
            pv__arm_triggers(a, now);
            if (pv__triggers_true(a, now, &set) && a->resync_due > now) {
                a->resync_due = now;
                a->resync_prvst = 1;
            }
        }
        bool progressed = false;
        if (a->resync_due <= now)
            progressed = start_resync(a, now);
        if (!progressed && a->op == NULL && pv__notify_reboot_due(a, now))
            break; /* a NOTIFY's reboot, after the resync due before it */
        if (!progressed && a->op == NULL && (a->upgrade_due <= now || a->upgrade_check <= now))
            progressed = start_upgrade(a, now);
        if (!progressed && a->op == NULL && a->report_due <= now) {
            a->report_due = PV_AGENT_NEVER;
            pv__report_start(a, now, NULL);
            progressed = true;
        }
        if (!progressed)
            break;
    }
}

void pv_agent_tick(pv_agent *a, uint64_t now)
{
    pv__run(a, now);
}

static void answer_op(pv_agent *a, uint64_t now, const pv_agent_response *r)
{
    switch (a->op->kind) {
    case PV__OP_RESYNC:
        pv__resync_answer(a, now, r);
        break;
    case PV__OP_UPGRADE:
        pv__upgrade_answer(a, now, r);
        break;
    case PV__OP_REPORT:
        pv__report_answer(a, now, r);
        break;
    }
}

int pv_agent_fetch_done(pv_agent *a, uint64_t now, uint32_t id, const pv_agent_response *r)
{
    if (id == 0 || a->op == NULL || a->op->f.id != id || a->op->f.lookup_pending)
        return PV_ENOENT;
    answer_op(a, now, r);
    pv__run(a, now);
    return 0;
}

int pv_agent_resolve_done(pv_agent *a, uint64_t now, uint32_t id, const pv_agent_resolution *r)
{
    if (id == 0 || a->op == NULL || a->op->f.id != id || !a->op->f.lookup_pending)
        return PV_ENOENT;
    if (!pv__fetch_resolved(a, now, &a->op->f, r)) {
        pv_agent_response failed = {.error = PV_ENOENT}; /* no server to ask: class C */
        answer_op(a, now, &failed);
    }
    pv__run(a, now);
    return 0;
}

/* ---- surroundings ---- */

static void replace(char **dst, const char *v)
{
    free(*dst);
    *dst = v != NULL && *v != '\0' ? pv_strdup(v) : NULL;
}

void pv_agent_set_ip(pv_agent *a, const char *ip, const char *extip)
{
    replace(&a->ip, ip);
    replace(&a->extip, extip);
}

void pv_agent_set_call(pv_agent *a, uint64_t now, bool active)
{
    a->call_active = active;
    if (!active && a->reboot_after_call) { /* spec 6: the new load waited for the call */
        a->reboot_after_call = false;
        pv__queue(a, PV_AGENT_ACT_REBOOT);
        return;
    }
    if (!active)
        pv__run(a, now); /* spec 5.3: what waited for idle goes now */
}

void pv_agent_set_registered(pv_agent *a, uint64_t now, unsigned line, bool registered)
{
    if (line < 1 || line > 2)
        return;
    if (a->regd[line - 1] && !registered)
        a->reg_lost[line - 1] = now;
    a->regd[line - 1] = registered;
}

/* ---- one-shot actions ---- */

/* A restart or shutdown in progress (its report uploading) takes nothing new. */
static int restarting(const pv_agent *a, pv_error *err)
{
    return a->rebooting ? pv_error_set(err, PV_EBUSY, "the phone is restarting") : 0;
}

int pv_agent_resync(pv_agent *a, uint64_t now, const char *rule, pv_error *err)
{
    if (a->rebooting)
        return restarting(a, err);
    int rc = pv__resync_start(a, now, -1, rule, err); /* spec 2.2: PRVST -1 = explicit */
    pv__run(a, now);
    return rc;
}

int pv_agent_upgrade(pv_agent *a, uint64_t now, const char *url, pv_error *err)
{
    if (url == NULL)
        return pv_error_set(err, PV_EINVAL, "an upgrade needs a URL");
    if (a->rebooting)
        return restarting(a, err);
    int rc = pv__upgrade_start(a, now, false, url, err);
    pv__run(a, now);
    return rc;
}

int pv_agent_report(pv_agent *a, uint64_t now, pv_error *err)
{
    if (a->rebooting)
        return restarting(a, err);
    int rc = pv__report_start(a, now, err);
    pv__run(a, now);
    return rc;
}

void pv_agent_reboot(pv_agent *a, uint64_t now)
{
    if (a->rebooting)
        return; /* one restart at a time */
    pv__op_free(a);
    a->boot_reason = PV__BOOT_REBOOT;
    pv__persist(a);
    a->rebooting = true;
    if (!pv__report_at_restart(a, now, PV__AFTER_REBOOT)) /* spec 7.1 */
        pv__queue(a, PV_AGENT_ACT_REBOOT);
}

void pv_agent_shutdown(pv_agent *a, uint64_t now)
{
    bool was_rebooting = a->rebooting;
    pv__op_free(a);
    a->rebooting = true; /* nothing new starts; pv_agent_next_wakeup is NEVER */
    a->after_report = PV__AFTER_NONE;
    pv__persist(a);
    if (!was_rebooting) /* spec 7.1: the report of a shutdown, as for a restart */
        pv__report_at_restart(a, now, PV__AFTER_OFF);
}

bool pv_agent_shutdown_done(const pv_agent *a)
{
    return a->op == NULL;
}

void pv_agent_factory_reset(pv_agent *a, uint64_t now)
{
    pv_params_free(&a->own); /* spec 12.2: MFG-RESET, every parameter at its default */
    if (a->baseline != NULL)
        pv_params_free(a->baseline);
    free(a->baseline);
    a->baseline = NULL;
    free(a->last_upgrade_url);
    a->last_upgrade_url = NULL;
    free(a->upgerr);
    a->upgerr = NULL;
    a->prov_state = PV_AGENT_MFG_RESET;
    a->rebooting = false;    /* a reset overrides a restart in progress */
    pv_agent_reboot(a, now); /* Report_Rule is back to empty: no report */
    a->boot_reason = PV__BOOT_POWER;
}

int pv_agent_ivr_factory_reset(pv_agent *a, uint64_t now, pv_error *err)
{
    if (pv__get_bool(a, "Protect_IVR_FactoryReset")) /* SPA/ATA: the IVR reset can be disabled */
        return pv_error_set(err, PV_EACCES,
                            "the IVR factory reset is disabled (Protect_IVR_FactoryReset is Yes)");
    pv_agent_factory_reset(a, now);
    return 0;
}

/* ---- status ---- */

pv_agent_prov_state pv_agent_get_prov_state(const pv_agent *a)
{
    return a->prov_state;
}

const char *pv_agent_prov_state_name(pv_agent_prov_state s)
{
    static const char *const names[] = {"MFG-RESET", "SP-CUST", "SEC-PRV-1", "SEC-PRV-2"};
    return (unsigned)s < 4 ? names[s] : "?";
}

pv_agent_led pv_agent_get_led(const pv_agent *a)
{
    return a->led;
}

const char *pv_agent_led_name(pv_agent_led led)
{
    static const char *const names[] = {"normal", "slow-blink", "fast-blink"};
    return (unsigned)led < 3 ? names[led] : "?";
}

size_t pv_agent_led_pattern(pv_agent_led led, const uint16_t **ms)
{
    static const uint16_t slow[] = {1000, 1000};          /* server unreachable */
    static const uint16_t fast[] = {200, 200, 200, 1400}; /* file missing or corrupt */
    switch (led) {
    case PV_AGENT_LED_SLOW_BLINK:
        *ms = slow;
        return 2;
    case PV_AGENT_LED_FAST_BLINK:
        *ms = fast;
        return 4;
    default:
        *ms = NULL;
        return 0;
    }
}

const char *pv_agent_swver(const pv_agent *a)
{
    const char *v = a->slot[a->active].version;
    return v[0] != '\0' ? v : a->factory_swver;
}

const char *pv_agent_model(const pv_agent *a)
{
    return a->model;
}

const char *pv_agent_mac(const pv_agent *a)
{
    return a->mac;
}

const char *pv_agent_last_error(const pv_agent *a)
{
    return a->err ? a->err : "";
}

void pv_agent_user_agent(const pv_agent *a, char *buf, size_t size)
{
    const char *sw = pv_agent_swver(a);
    int n;
    if (a->defs->family == PV_AGENT_MPP) {
        pv_version v; /* spec 8.1: Cisco-CP-8841-3PCC/11.3.1 (00562b043615) */
        char ver[32] = "", product[96];
        if (pv_version_parse(pv_slice_from(sw), &v, NULL) == 0) {
            for (unsigned i = 0; i < v.ncomp && i < 3; i++) {
                size_t l = strlen(ver);
                snprintf(ver + l, sizeof ver - l, "%s%.*s", i ? "." : "",
                         (int)v.comp[i].num.len, v.text + v.comp[i].num.off);
            }
        }
        snprintf(product, sizeof product, "Cisco-%s/%s", a->model, ver);
        const char *custom = pv__agent_get(a, "HTTP_User_Agent_Name");
        if (custom != NULL && *custom != '\0') { /* spec 5.1: an override, with macros */
            /* $VERSION is the product part of the default User-Agent, so the
             * FusionPBX value `$VERSION ($MA)` rebuilds it (inferred: on SPA
             * phones the SIP User-Agent default "$VERSION" gives Cisco/SPA504G-7.5.5) */
            pv__vars_ctx ctx;
            pv_macro_env env = pv__macro_env(a, a->boot_time, &ctx);
            ctx.version = product;
            pv_buf b = {0};
            pv_macro_expand(pv_slice_from(custom), &env, 0, &b);
            n = snprintf(buf, size, "%s", b.data ? b.data : "");
            pv_buf_free(&b);
        } else {
            n = snprintf(buf, size, "%s (%s)", product, a->mac);
        }
    } else if (a->defs->family == PV_AGENT_ATA) { /* Cisco/ATA191-MPP-11-1-0MPP-19 (FCH...) */
        n = snprintf(buf, size, "Cisco/%s-%s (%s)", a->model, sw, a->serial);
    } else { /* Cisco/SPA504G-7.6.2 (000E08AABBCC)(FCH...) */
        char mau[13];
        pv_mac mac;
        memcpy(mac.hex, a->mac, sizeof mac.hex);
        pv_mac_format_upper(&mac, mau);
        n = snprintf(buf, size, "Cisco/%s-%s (%s)(%s)", a->model, sw, mau, a->serial);
    }
    if (n < 0 && size > 0)
        buf[0] = '\0'; /* a short buffer gets a cut header, never an overrun */
}

size_t pv_agent_memory(const pv_agent *a)
{
    size_t n = sizeof *a + pv_params_memory(&a->own);
    if (a->baseline != NULL)
        n += sizeof *a->baseline + pv_params_memory(a->baseline);
    const char *strs[] = {a->last_upgrade_url, a->upgerr,  a->err,     a->ip,     a->extip,
                          a->dhcp[0],          a->dhcp[1], a->dhcp[2], a->dhcp[3]};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        n += strs[i] ? strlen(strs[i]) + 1 : 0;
    if (a->op != NULL)
        n += sizeof *a->op + a->op->f.body.cap;
    for (const pv__action *q = a->queue; q != NULL; q = q->next)
        n += sizeof *q + q->body.cap;
    return n;
}
