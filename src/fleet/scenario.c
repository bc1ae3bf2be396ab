/*
 * scenario.c — scenario table, timelines and the phones' starting
 * configuration (see scenario.h).
 */
#include "fleet/scenario.h"

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
