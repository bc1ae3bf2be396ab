/*
 * timers.c — when things happen: random numbers from the host's seed,
 * schedules (spec 5.2), the daily Resync_At (spec 5.1), triggers (spec 5.4)
 * and the idle rule (spec 5.3).
 *
 * Nothing here reads a clock: `now` is the host's, and the random stream is
 * splitmix64 seeded by the host, so a phone's whole timeline is reproducible.
 */
#include "agent/agent_int.h"

#include "core/condition.h"
#include "core/schedule.h"

#include <ctype.h>
#include <string.h>

#define DAY_MS ((uint64_t)86400000)
/* How often SPA/ATA phones look at Resync_Trigger_1/2 (not documented). */
#define TRIGGER_PERIOD_MS ((uint64_t)30000)

uint32_t pv__rand32(pv_agent *a)
{
    uint64_t z = (a->rng += 0x9e3779b97f4a7c15ULL); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

bool pv__schedule_ms(pv_agent *a, const char *param, uint64_t attempt, uint64_t *ms)
{
    const char *text = pv__agent_get(a, param);
    pv_schedule s;
    if (text == NULL || pv_schedule_parse(pv_slice_from(text), &s, NULL) != 0)
        return false; /* an unreadable schedule is no schedule */
    if (pv_schedule_disabled(&s))
        return false; /* spec 5.1: 0 or empty disables */
    *ms = pv_schedule_delay(&s, attempt, pv__rand32(a)) * 1000;
    return true;
}

bool pv__hhmm(const char *text, uint32_t *minutes)
{
    if (text == NULL)
        return false;
    while (*text == ' ')
        text++;
    for (int i = 0; i < 4; i++) {
        if (!isdigit((unsigned char)text[i]))
            return false;
    }
    const char *rest = text + 4;
    while (*rest == ' ')
        rest++;
    if (*rest != '\0')
        return false;
    uint32_t hh = (uint32_t)(text[0] - '0') * 10 + (uint32_t)(text[1] - '0');
    uint32_t mm = (uint32_t)(text[2] - '0') * 10 + (uint32_t)(text[3] - '0');
    if (mm > 59 || hh > 24 || (hh == 24 && mm != 0))
        return false; /* spec 5.1: 0000–2400, otherwise ignored */
    *minutes = (hh * 60 + mm) % 1440;
    return true;
}

uint64_t pv__resync_at_next(pv_agent *a, uint64_t now, uint32_t minutes)
{
    int64_t tod = (a->tod_offset + (int64_t)(now % DAY_MS)) % (int64_t)DAY_MS;
    if (tod < 0)
        tod += (int64_t)DAY_MS;
    uint64_t target = (uint64_t)minutes * 60000;
    uint64_t wait = (target + DAY_MS - (uint64_t)tod) % DAY_MS;
    if (wait == 0)
        wait = DAY_MS; /* just done: tomorrow */
    /* spec 5.1: the spread is converted to minutes, (v+30)/60; MPP/ATA treat < 600 as 600 */
    long v = pv__get_long(a, "Resync_At_Random_Delay", 600);
    if (v < 0)
        v = 0;
    if (a->defs->family != PV_AGENT_SPA && v < 600)
        v = 600;
    uint64_t window_ms = (uint64_t)((v + 30) / 60) * 60000;
    uint64_t spread = window_ms ? (uint64_t)pv__rand32(a) * (window_ms + 1) >> 32 : 0;
    return now + wait + spread;
}

void pv__schedule_after_success(pv_agent *a, uint64_t now)
{
    uint32_t minutes;
    uint64_t ms;
    a->resync_prvst = 1;
    if (pv__hhmm(pv__agent_get(a, "Resync_At__HHmm_"), &minutes)) /* spec 5.1: wins over periodic */
        a->resync_due = pv__resync_at_next(a, now, minutes);
    else if (pv__schedule_ms(a, "Resync_Periodic", a->periodic_count++, &ms))
        a->resync_due = now + ms;
    else
        a->resync_due = PV_AGENT_NEVER;
}

void pv__schedule_after_failure(pv_agent *a, uint64_t now)
{
    uint64_t ms;
    uint32_t minutes;
    a->resync_prvst = 2;
    /* spec 5.2: the last element repeats; 0 = never retry */
    if (pv__schedule_ms(a, "Resync_Error_Retry_Delay", a->resync_failures - 1, &ms)) {
        a->resync_due = now + ms;
    } else if (pv__hhmm(pv__agent_get(a, "Resync_At__HHmm_"), &minutes)) {
        a->resync_prvst = 1;
        a->resync_due = pv__resync_at_next(a, now, minutes);
    } else {
        a->resync_due = PV_AGENT_NEVER;
    }
}

static bool trigger_set(const char *t)
{
    if (t == NULL)
        return false;
    while (isspace((unsigned char)*t))
        t++;
    return *t != '\0' && *t != '#'; /* spec 1.6: '#' comments the value out */
}

void pv__arm_triggers(pv_agent *a, uint64_t now)
{
    a->trigger_due = PV_AGENT_NEVER;
    if (a->defs->triggers_gate)
        return; /* MPP: evaluated only when a resync is due (spec 5.4) */
    if (trigger_set(pv__agent_get(a, "Resync_Trigger_1")) || trigger_set(pv__agent_get(a, "Resync_Trigger_2")))
        a->trigger_due = now + TRIGGER_PERIOD_MS;
}

bool pv__triggers_true(pv_agent *a, uint64_t now, bool *set)
{
    static const char *const names[] = {"Resync_Trigger_1", "Resync_Trigger_2"};
    *set = false;
    bool any = false;
    for (size_t i = 0; i < 2; i++) {
        const char *t = pv__agent_get(a, names[i]);
        if (!trigger_set(t))
            continue;
        *set = true;
        pv_buf x = {0};
        pv__expand(a, now, t, &x); /* spec 2.1: triggers are macro-expanded */
        bool holds = false;
        pv_error err;
        if (pv_condition_test(pv_buf_slice(&x), pv_slice_from(pv_agent_swver(a)), &holds, &err) !=
            0)
            holds = false; /* a trigger that cannot be evaluated never fires */
        pv_buf_free(&x);
        any = any || holds;
    }
    return any;
}

bool pv__idle_allows(const pv_agent *a, uint64_t now, uint64_t due, uint64_t *wait_until)
{
    if (!a->call_active)
        return true;
    /* DESIGN: a due resync waits while a line is busy, but no longer than Forced_Resync_Delay */
    long forced = pv__get_long(a, "Forced_Resync_Delay", 14400);
    if (forced < 0)
        forced = 0;
    uint64_t deadline = due + (uint64_t)forced * 1000;
    if (now >= deadline)
        return true;
    *wait_until = deadline;
    return false;
}
