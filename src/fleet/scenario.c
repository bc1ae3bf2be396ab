/*
 * scenario.c — scenario table, timelines and the phones' starting
 * configuration (see scenario.h); and the wiring of the scenarios into the
 * engine (fleet_int.h): what a binding, a report or a NOTIFY-caused resync
 * does to a phone, and when a phone reached its scenario's goal.
 */
#include "fleet/scenario.h"

#include "fleet/fleet_int.h"

#include <stdio.h>
#include <string.h>

static const pv_fleet_scenario table[] = {
    {PV_SCN_POWER_RESTORE, "power-restore",
     "every phone boots at once, spread by Resync_Random_Delay", 900, 86400},
    {PV_SCN_STEADY, "steady", "periodic resyncs in steady state (Resync_Periodic = --period)", 300,
     86400},
    {PV_SCN_DAILY, "daily", "the Resync_At__HHmm_ wave, spread by Resync_At_Random_Delay", 1200,
     86400},
    {PV_SCN_FIRMWARE, "firmware", "a firmware wave: every phone upgrades, reboots, resyncs", 1800,
     86400},
    {PV_SCN_OUTAGE, "outage", "the server is unreachable, then recovers; phones retry", 900, 86400},
    {PV_SCN_RETAIL, "retail", "customers bind factory-fresh phones with codes, then SEC-PRV-2", 900,
     86400},
    {PV_SCN_IN_HOUSE, "in-house",
     "factory phones: /$PSN.xml, /$MA.xml with their certificate, then SEC-PRV-2 (no code)", 900,
     86400},
    {PV_SCN_REPORTS, "reports", "in-house provisioning, then every phone uploads its report", 900,
     86400},
    {PV_SCN_PUSH, "push",
     "in-house provisioning, then the server's SIP NOTIFY makes every phone resync (--sip)", 300,
     3600},
    {PV_SCN_ROLLOUT_GOOD, "rollout-good",
     "in-house, then a server rollout upgrades the phones stage by stage", 1800, 86400},
    {PV_SCN_ROLLOUT_BAD, "rollout-bad",
     "a rollout of an image that fails on --bad-share of the phones: the server must halt", 600,
     86400},
};

const pv_fleet_scenario *pv_fleet_scenarios(size_t *count)
{
    *count = sizeof table / sizeof table[0];
    return table;
}

const pv_fleet_scenario *pv_fleet_scenario_find(const char *name)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    if (strcmp(name, "boot-storm") == 0) /* the benchmark's name for it */
        return &table[0];
    return NULL;
}

static void phase(pv_fleet_plan *p, const char *name, uint64_t start_ms)
{
    if (p->nphases < PV_FLEET_MAX_PLAN_PHASES) {
        p->phase[p->nphases].name = name;
        p->phase[p->nphases].start_ms = start_ms;
        p->nphases++;
    }
}

#define DAILY_AT_MIN (3 * 60) /* Resync_At__HHmm_ = 0300 */
#define DAILY_LEAD_MS 60000   /* the wave starts a minute into the run */

int pv_fleet_plan_make(const pv_fleet_scenario *sc, const pv_fleet_plan_options *o,
                       pv_fleet_plan *out, pv_error *err)
{
    memset(out, 0, sizeof *out);
    out->scenario = sc;
    uint64_t dur = o->duration_s ? o->duration_s : sc->default_s;
    if (dur > sc->max_s) /* issue 6: every scenario has a maximum duration */
        return pv_error_set(err, PV_ERANGE, "--duration %llu: scenario %s runs at most %llu s",
                            (unsigned long long)dur, sc->name, (unsigned long long)sc->max_s);
    out->duration_ms = dur * 1000;
    out->period_s = o->period_s ? o->period_s : 60;
    if (out->period_s > 86400)
        return pv_error_set(err, PV_ERANGE, "--period %llu: at most 86400 s",
                            (unsigned long long)out->period_s);
    if (o->random_delay > 65535) /* spec 5.1: 0..65535 */
        return pv_error_set(err, PV_ERANGE, "--random-delay %d: 0..65535 units", o->random_delay);
    out->random_delay = o->random_delay;
    out->time_of_day_ms = 12 * 3600 * 1000; /* noon: far from any Resync_At */
    out->goal = PV_GOAL_RESYNC;
    out->stop_at_goal = true;
    switch (sc->kind) {
    case PV_SCN_POWER_RESTORE:
        phase(out, "boot", 0);
        break;
    case PV_SCN_STEADY:
        out->stop_at_goal = false;
        phase(out, "boot", 0);
        phase(out, "periodic", out->period_s * 1000);
        break;
    case PV_SCN_DAILY:
        out->time_of_day_ms = DAILY_AT_MIN * 60000 - DAILY_LEAD_MS;
        out->goal_after_ms = DAILY_LEAD_MS;
        phase(out, "boot", 0);
        phase(out, "daily", DAILY_LEAD_MS);
        break;
    case PV_SCN_FIRMWARE:
        out->goal = PV_GOAL_SWVER;
        phase(out, "wave", 0);
        break;
    case PV_SCN_OUTAGE: {
        uint64_t len = o->outage_s ? o->outage_s * 1000 : 2 * out->period_s * 1000;
        out->outage_begin_ms = 2 * out->period_s * 1000;
        out->outage_end_ms = out->outage_begin_ms + len;
        if (out->outage_end_ms >= out->duration_ms)
            return pv_error_set(err, PV_ERANGE,
                                "outage ends at %llu s, after the %llu s the run lasts: give a "
                                "longer --duration or a shorter --outage",
                                (unsigned long long)(out->outage_end_ms / 1000),
                                (unsigned long long)dur);
        out->goal_after_ms = out->outage_end_ms;
        phase(out, "before", 0);
        phase(out, "outage", out->outage_begin_ms);
        phase(out, "recovery", out->outage_end_ms);
        break;
    }
    case PV_SCN_RETAIL:
        out->goal = PV_GOAL_SECPRV2;
        out->factory_fresh = true;
        out->wave_begin_ms = 1000;
        out->wave_ms = (o->wave_s ? o->wave_s : 60) * 1000;
        phase(out, "binding", 0);
        break;
    case PV_SCN_PUSH:
        if (o->pushes > 100)
            return pv_error_set(err, PV_ERANGE, "--pushes %u: 1..100", o->pushes);
        out->pushes = o->pushes ? o->pushes : 1;
        /* fall through: provisioned in-house first */
    case PV_SCN_IN_HOUSE:
    case PV_SCN_REPORTS:
        out->goal = sc->kind == PV_SCN_REPORTS ? PV_GOAL_REPORT
                    : sc->kind == PV_SCN_PUSH  ? PV_GOAL_PUSH
                                               : PV_GOAL_SECPRV2;
        out->await_sec_prv_1 = true;
        phase(out, "provisioning", 0);
        break;
    case PV_SCN_ROLLOUT_GOOD:
    case PV_SCN_ROLLOUT_BAD:
        out->goal = PV_GOAL_SWVER_RESYNC;
        out->await_sec_prv_1 = true;
        out->report_after_upgrade = true;
        if (sc->kind == PV_SCN_ROLLOUT_BAD) {
            out->stop_at_goal = false; /* the goal must not be reached: watch the halt */
            out->fault = o->fault != PV_FAULT_NONE ? o->fault : PV_FAULT_VERIFY;
            out->bad_share = o->bad_share ? o->bad_share : 30;
            if (out->bad_share > 100)
                return pv_error_set(err, PV_ERANGE, "--bad-share %u: 0..100 %%", out->bad_share);
        }
        phase(out, "rollout", 0);
        break;
    }
    return 0;
}

void pv_fleet_plan_config(const pv_fleet_plan *p, const pv_fleet_ident *id, const char *base_url,
                          pv_buf *xml)
{
    if (p->factory_fresh)
        return;
    if (p->await_sec_prv_1) {
        /* A factory phone whose DHCP option 150 names the server: its
         * family's factory rule on that server (spec 1.3, 10). */
        static const char *const factory_rule[] = {[PV_AGENT_SPA] = "spa$PSN.cfg",
                                                   [PV_AGENT_MPP] = "$PSN.xml",
                                                   [PV_AGENT_ATA] = "ata$PSN.cfg"};
        pv_buf_appendf(xml, "<flat-profile>\n  <Profile_Rule>%s/%s</Profile_Rule>\n", base_url,
                       factory_rule[id->family]);
        if (p->random_delay >= 0)
            pv_buf_appendf(xml, "  <Resync_Random_Delay>%d</Resync_Random_Delay>\n",
                           p->random_delay);
        /* --period: the retry before the server provisions its own (a real
         * factory phone waits 3600 s after a refused first fetch). */
        pv_buf_appendf(xml, "  <Resync_Error_Retry_Delay>%llu</Resync_Error_Retry_Delay>\n",
                       (unsigned long long)p->period_s);
        if (p->goal == PV_GOAL_REPORT) /* spec 7.1 */
            pv_buf_appendf(xml, "  <Report_Rule>[--key $SA] %s/report/$MA.xml</Report_Rule>\n",
                           base_url);
        pv_buf_append_str(xml, "</flat-profile>\n");
        return;
    }
    pv_buf_appendf(xml, "<flat-profile>\n  <GPP_SA>%s</GPP_SA>\n  <Profile_Rule>", id->key);
    pv_fleet_profile_rule(base_url, xml);
    pv_buf_append_str(xml, "</Profile_Rule>\n");
    /* DESIGN 8: the server provisions short jittered retries, so a storm heals in minutes */
    pv_buf_append_str(xml, "  <Resync_Error_Retry_Delay>30+30,60+60,120+120"
                           "</Resync_Error_Retry_Delay>\n");
    if (p->random_delay >= 0)
        pv_buf_appendf(xml, "  <Resync_Random_Delay>%d</Resync_Random_Delay>\n", p->random_delay);
    switch (p->scenario->kind) {
    case PV_SCN_STEADY:
    case PV_SCN_OUTAGE:
        pv_buf_appendf(xml, "  <Resync_Periodic>%llu</Resync_Periodic>\n",
                       (unsigned long long)p->period_s);
        break;
    case PV_SCN_DAILY: /* spec 5.1: a valid Resync_At replaces Resync_Periodic */
        pv_buf_appendf(xml,
                       "  <Resync_At__HHmm_>%02d%02d</Resync_At__HHmm_>\n"
                       "  <Resync_At_Random_Delay>600</Resync_At_Random_Delay>\n",
                       DAILY_AT_MIN / 60, DAILY_AT_MIN % 60);
        break;
    case PV_SCN_FIRMWARE: {
        pv_buf path = {0};
        pv_fleet_firmware_path(id->family, &path);
        pv_buf_appendf(xml,
                       "  <Resync_Periodic>86400</Resync_Periodic>\n"
                       "  <Upgrade_Rule>%s/%s</Upgrade_Rule>\n"
                       "  <Upgrade_Error_Retry_Delay>30+30,60+60,120+120"
                       "</Upgrade_Error_Retry_Delay>\n",
                       base_url, path.data);
        pv_buf_free(&path);
        break;
    }
    default:
        pv_buf_append_str(xml, "  <Resync_Periodic>86400</Resync_Periodic>\n");
        break;
    }
    pv_buf_append_str(xml, "</flat-profile>\n");
}

static uint64_t mix64(uint64_t seed, uint32_t index)
{
    /* splitmix64 of (seed, index): an even spread that repeats run to run */
    uint64_t z = seed + 0x9e3779b97f4a7c15ull * (index + 1ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

bool pv_fleet_plan_hurts(const pv_fleet_plan *p, uint64_t seed, uint32_t index)
{
    return p->fault != PV_FAULT_NONE && mix64(seed ^ 0xbadull, index) % 100 < p->bad_share;
}

uint64_t pv_fleet_plan_kick_ms(const pv_fleet_plan *p, uint64_t seed, uint32_t index)
{
    if (p->scenario->kind != PV_SCN_RETAIL)
        return UINT64_MAX;
    uint64_t z = mix64(seed, index);
    return p->wave_begin_ms + (p->wave_ms ? z % p->wave_ms : 0);
}

/* ---- goals and the scenarios' wiring (fleet_int.h) ---- */

static bool runs_new_load(const pv__phone *p)
{
    pv_agent_family fam;
    if (pv_agent_family_parse(pv_agent_model(p->agent), &fam) != 0)
        return false;
    return strcmp(pv_agent_swver(p->agent), pv_fleet_new_swver(fam)) == 0;
}

static bool goal_reached(const pv_fleet *f, const pv__phone *p)
{
    switch (f->plan.goal) {
    case PV_GOAL_SWVER:
        return runs_new_load(p);
    case PV_GOAL_SECPRV2:
        return pv_agent_get_prov_state(p->agent) == PV_AGENT_SEC_PRV_2;
    case PV_GOAL_REPORT:
        return (p->flags & PH_REPORTED) != 0;
    case PV_GOAL_PUSH:
        return p->pushes >= f->plan.pushes;
    default:
        return false; /* PV_GOAL_RESYNC is decided at the end of a resync */
    }
}

void pv__fleet_check_goal(pv_fleet *f, uint32_t i)
{
    if (f->stats.goal_ms[i] == UINT32_MAX && goal_reached(f, &f->phone[i]))
        pv_fleet_stats_goal(&f->stats, i, f->now_ms);
}

/* Retail: the customer enters the code (DESIGN 5), i.e. /admin/resync?URL/init/CODE.
 * Reports: the provider asks for the report again (SIP NOTIFY Event: report). */
void pv__fleet_kick(pv_fleet *f, uint32_t i)
{
    pv__phone *p = &f->phone[i];
    p->kick_ms = NEVER;
    if (f->plan.goal == PV_GOAL_REPORT || f->plan.report_after_upgrade) {
        int rc = pv_agent_report(p->agent, f->now_ms, NULL);
        if (rc == 0) {
            p->flags |= PH_REPORTING;
            pv__fleet_drain(f, i);
        } else {
            p->kick_ms = f->now_ms + REPORT_RETRY_MS; /* busy: ask again shortly */
        }
        return;
    }
    pv_fleet_ident id;
    pv_fleet_ident_make(f->cfg.seed, i, &f->cfg.mix, &id);
    const char *code = i < f->cfg.ncodes ? f->cfg.codes[i] : id.code;
    char url[512];
    int n = snprintf(url, sizeof url, "%s/init/%s", pv__fleet_server(f, i), code);
    if (n < 0 || (size_t)n >= sizeof url)
        return;
    pv_error err;
    int rc = pv_agent_resync(p->agent, f->now_ms, url, &err);
    if (rc == PV_EBUSY) { /* the phone is resyncing: the customer tries again shortly */
        p->kick_ms = f->now_ms + 5000;
        return;
    }
    if (rc != 0) {
        pv_fleet_stats_cause(&f->stats, "bind refused by phone");
        return;
    }
    p->flags |= PH_BINDING;
    p->bind_tries++;
}

/* A phone's operation ended (no request in flight after an answer). */
void pv__fleet_op_ended(pv_fleet *f, uint32_t i, const pv_agent_response *r)
{
    pv__phone *p = &f->phone[i];
    bool profile = p->purpose == PV_AGENT_FOR_PROFILE;
    bool led_ok = pv_agent_get_led(p->agent) == PV_AGENT_LED_NORMAL;
    if (profile && r->error == 0 && r->status == 200 && !led_ok)
        pv_fleet_stats_cause(&f->stats, "corrupt profile");
    if (p->flags & PH_BINDING) {
        bool prv1 = pv_agent_get_prov_state(p->agent) >= PV_AGENT_SEC_PRV_1;
        /* in-house: the phone retries on its own schedule until SEC-PRV-1 */
        if (prv1 || !f->plan.await_sec_prv_1)
            p->flags &= (uint8_t)~PH_BINDING;
        if (prv1) {
            /* Without --sip no NOTIFY can reach the phone: the resync the server's check-sync
             * after a binding would cause is simulated (docs/fleet.md). With --sip the real
             * one comes ([sip] notify_after_binding, server/push.h). */
            if (f->sip == NULL && pv_agent_resync(p->agent, f->now_ms, NULL, NULL) == 0)
                pv__fleet_drain(f, i);
        } else if (!f->plan.await_sec_prv_1 && p->bind_tries < BIND_TRIES) {
            p->kick_ms = f->now_ms + BIND_RETRY_MS;
        }
    }
    if (f->plan.goal == PV_GOAL_REPORT && p->purpose == PV_AGENT_FOR_REPORT) {
        if (r->error == 0 && r->status == 200) {
            p->flags |= PH_REPORTED;
        } else { /* a phone sends a report once (spec 7.1): the provider asks again */
            p->flags &= (uint8_t)~PH_REPORTING;
            p->kick_ms = f->now_ms + REPORT_RETRY_MS;
        }
    }
    if (f->plan.goal == PV_GOAL_REPORT && profile && !(p->flags & (PH_REPORTED | PH_REPORTING)) &&
        pv_agent_get_prov_state(p->agent) == PV_AGENT_SEC_PRV_2 &&
        pv_agent_report(p->agent, f->now_ms, NULL) == 0) {
        /* the provider's NOTIFY (Event: report) once the phone is provisioned */
        p->flags |= PH_REPORTING;
        pv__fleet_drain(f, i);
    }
    bool applied = profile && led_ok && r->error == 0 && r->status == 200;
    if (applied && f->sip != NULL)
        pv_fleet_sip_check(f->sip, i); /* the profile may have changed the line: register */
    if (applied && (p->flags & PH_NOTIFIED)) { /* spec 5.5: the resync the NOTIFY caused */
        p->flags &= (uint8_t)~PH_NOTIFIED;
        if (p->pushes < UINT8_MAX)
            p->pushes++;
    }
    if (f->plan.goal == PV_GOAL_RESYNC && profile && led_ok && r->error == 0 && r->status == 200 &&
        f->now_ms >= f->plan.goal_after_ms)
        pv_fleet_stats_goal(&f->stats, i, f->now_ms);
    if (f->plan.goal == PV_GOAL_SWVER_RESYNC && profile && led_ok && r->error == 0 &&
        r->status == 200 && runs_new_load(p) && f->stats.goal_ms[i] == UINT32_MAX)
        pv_fleet_stats_goal(&f->stats, i, f->now_ms);
    pv__fleet_check_goal(f, i);
}
