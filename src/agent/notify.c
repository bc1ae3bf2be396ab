/*
 * notify.c — what a SIP NOTIFY makes the phone do (spec 5.5), in the engine.
 *
 * The host (phone/phone_sip) receives the NOTIFY, challenges it when
 * Auth_Resync-Reboot_n_ says so and calls pv_agent_sip_notify only for a
 * request that passed; here the Event becomes a resync that ignores the
 * triggers (spec 5.4: "only Direct Action URL and SIP NOTIFY ignore them"), a
 * reboot, or a report, each under the idle rule (spec 5.3).
 */
#include "agent/agent_int.h"

#include <stdio.h>
#include <string.h>

int pv_agent_sip_event_parse(const char *event, pv_agent_sip_event *out)
{
    static const struct {
        const char *name;
        pv_agent_sip_event ev;
    } names[] = {
        {"resync", PV_AGENT_SIP_RESYNC},       /* spec 5.5 */
        {"check-sync", PV_AGENT_SIP_RESYNC},   /* spec 5.5: Wazo's name, accepted by SPA/MPP */
        {"reboot_now", PV_AGENT_SIP_REBOOT},   /* cold */
        {"restart_now", PV_AGENT_SIP_RESTART}, /* warm */
        {"report", PV_AGENT_SIP_REPORT},       /* spec 7.1 "On Request" */
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (event != NULL && strcmp(event, names[i].name) == 0) {
            *out = names[i].ev;
            return 0;
        }
    }
    return PV_ENOENT;
}

bool pv_agent_sip_auth_required(const pv_agent *a, unsigned line)
{
    char name[32];
    snprintf(name, sizeof name, "Auth_Resync-Reboot_%u_", line);
    const char *v = pv__agent_get(a, name);
    return v == NULL || pv__get_bool(a, name); /* no such parameter: challenge (safe side) */
}

bool pv_agent_registered(const pv_agent *a, unsigned line)
{
    return line >= 1 && line <= 2 && a->regd[line - 1];
}

bool pv__notify_reboot_due(pv_agent *a, uint64_t now)
{
    uint64_t wait;
    if (a->reboot_due > now || !pv__idle_allows(a, now, a->reboot_due, &wait))
        return false; /* spec 5.3: never during a call (at most Forced_Resync_Delay) */
    a->reboot_due = PV_AGENT_NEVER;
    pv_agent_reboot(a, now);
    return true;
}

int pv_agent_sip_notify(pv_agent *a, uint64_t now, pv_agent_sip_event ev, pv_error *err)
{
    if (a->rebooting)
        return pv_error_set(err, PV_EBUSY, "the phone is restarting");
    switch (ev) {
    case PV_AGENT_SIP_RESYNC:
        if (!pv__get_bool(a, "Resync_From_SIP")) /* spec 5.5 */
            return pv_error_set(err, PV_EACCES, "Resync_From_SIP is No");
        if (!pv__get_bool(a, "Provision_Enable")) /* spec 5.1 */
            return pv_error_set(err, PV_EACCES, "Provision_Enable is No");
        if (a->resync_due > now)
            a->resync_due = now;
        a->resync_prvst = -1; /* spec 2.2: an explicit request */
        a->resync_forced = true;
        break;
    case PV_AGENT_SIP_REBOOT:
    case PV_AGENT_SIP_RESTART: /* the emulated phone has one restart for both */
        if (a->reboot_due > now)
            a->reboot_due = now;
        break;
    case PV_AGENT_SIP_REPORT:
        if (a->op == NULL) {
            int rc = pv__report_start(a, now, err);
            if (rc != 0)
                return rc;
        } else if (a->report_due > now) {
            a->report_due = now; /* after the operation that runs */
        }
        break;
    default:
        return pv_error_set(err, PV_EINVAL, "unknown SIP event %d", (int)ev);
    }
    pv__run(a, now);
    return 0;
}
