/*
 * stats.c — histograms, causes, goals and the time series (see stats.h).
 */
#include "fleet/stats.h"

#include "core/alloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pv_hist_init(pv_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

size_t pv_hist_bucket_of(uint64_t value)
{
    if (value < PV_HIST_SUB)
        return (size_t)value;
    unsigned e = 63u - (unsigned)__builtin_clzll(value); /* >= 5 */
    size_t b = PV_HIST_SUB + (size_t)(e - 5) * PV_HIST_SUB +
               (size_t)((value >> (e - 5)) & (PV_HIST_SUB - 1));
    return b < PV_HIST_BUCKETS ? b : PV_HIST_BUCKETS - 1;
}

uint64_t pv_hist_bucket_low(size_t bucket)
{
    if (bucket < PV_HIST_SUB)
        return bucket;
    size_t e = (bucket - PV_HIST_SUB) / PV_HIST_SUB + 5;
    uint64_t m = (bucket - PV_HIST_SUB) % PV_HIST_SUB;
    return ((uint64_t)PV_HIST_SUB + m) << (e - 5);
}

void pv_hist_add(pv_hist *h, uint64_t value)
{
    h->count++;
    h->sum += value;
    if (value < h->min)
        h->min = value;
    if (value > h->max)
        h->max = value;
    h->bucket[pv_hist_bucket_of(value)]++;
}

uint64_t pv_hist_percentile(const pv_hist *h, double p)
{
    if (h->count == 0)
        return 0;
    if (p >= 100.0)
        return h->max;
    /* nearest rank: the smallest value with at least p % of the values at or below it */
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (size_t b = 0; b < PV_HIST_BUCKETS; b++) {
        seen += h->bucket[b];
        if (seen < rank)
            continue;
        /* the middle of the bucket, kept inside what was actually seen */
        uint64_t low = pv_hist_bucket_low(b);
        uint64_t high = b + 1 < PV_HIST_BUCKETS ? pv_hist_bucket_low(b + 1) : low;
        uint64_t v = low + (high - low) / 2;
        if (v < h->min)
            v = h->min;
        if (v > h->max)
            v = h->max;
        return v;
    }
    return h->max;
}

void pv_fleet_stats_init(pv_fleet_stats *s, uint32_t phones, uint64_t duration_ms)
{
    memset(s, 0, sizeof *s);
    s->phones = phones;
    s->goal_ms = pv_reallocarray(NULL, phones ? phones : 1, sizeof *s->goal_ms);
    memset(s->goal_ms, 0xff, (size_t)(phones ? phones : 1) * sizeof *s->goal_ms);
    s->slot_ms = 1000;
    while (duration_ms / s->slot_ms > 1200)
        s->slot_ms *= 2;
    s->nslots = (size_t)(duration_ms / s->slot_ms) + 2;
    s->slot = pv_calloc(s->nslots, sizeof *s->slot);
}

void pv_fleet_stats_free(pv_fleet_stats *s)
{
    free(s->goal_ms);
    free(s->slot);
    memset(s, 0, sizeof *s);
}

void pv_fleet_stats_phase(pv_fleet_stats *s, const char *name, uint64_t start_ms)
{
    if (s->nphases == PV_FLEET_MAX_PHASES)
        return;
    pv_fleet_phase *p = &s->phase[s->nphases++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name); /* names are ours and short */
    p->start_ms = start_ms;
    pv_hist_init(&p->latency);
}

pv_fleet_phase *pv_fleet_stats_phase_at(pv_fleet_stats *s, uint64_t t)
{
    if (s->nphases == 0)
        pv_fleet_stats_phase(s, "run", 0);
    size_t i = 0;
    while (i + 1 < s->nphases && s->phase[i + 1].start_ms <= t)
        i++;
    return &s->phase[i];
}

static pv_fleet_slot *slot_at(pv_fleet_stats *s, uint64_t t)
{
    size_t i = (size_t)(t / s->slot_ms);
    return &s->slot[i < s->nslots ? i : s->nslots - 1];
}

void pv_fleet_stats_request(pv_fleet_stats *s, uint64_t t)
{
    s->requests++;
    pv_fleet_stats_phase_at(s, t)->requests++;
    slot_at(s, t)->arrivals++;
    if (++s->in_flight > s->in_flight_max)
        s->in_flight_max = s->in_flight;
}

void pv_fleet_stats_cause(pv_fleet_stats *s, const char *cause)
{
    size_t i = 0;
    while (i < s->ncauses && strcmp(s->cause[i].name, cause) != 0)
        i++;
    if (i == s->ncauses) {
        if (s->ncauses == PV_FLEET_MAX_CAUSES)
            i = s->ncauses - 1; /* the table is full: the last row collects the rest */
        else {
            const char *name = s->ncauses + 1 == PV_FLEET_MAX_CAUSES ? "other" : cause;
            snprintf(s->cause[i].name, sizeof s->cause[i].name, "%s", name); /* cut is fine */
            s->ncauses++;
        }
    }
    s->cause[i].count++;
}

void pv_fleet_stats_done(pv_fleet_stats *s, uint64_t start_ms, uint64_t t, uint64_t latency_us,
                         const char *cause)
{
    pv_fleet_phase *p = pv_fleet_stats_phase_at(s, start_ms);
    pv_hist_add(&p->latency, latency_us);
    pv_fleet_slot *sl = slot_at(s, t);
    sl->latency_sum += latency_us;
    uint32_t lat = latency_us > UINT32_MAX ? UINT32_MAX : (uint32_t)latency_us;
    if (lat > sl->latency_max)
        sl->latency_max = lat;
    if (s->in_flight > 0)
        s->in_flight--;
    if (cause == NULL) {
        s->ok++;
        p->ok++;
        sl->completions++;
    } else {
        s->failed++;
        p->failed++;
        sl->failures++;
        pv_fleet_stats_cause(s, cause);
    }
}

void pv_fleet_stats_goal(pv_fleet_stats *s, uint32_t phone, uint64_t t)
{
    if (phone >= s->phones || s->goal_ms[phone] != UINT32_MAX)
        return;
    s->goal_ms[phone] = t >= UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)t;
    s->reached++;
    slot_at(s, t)->goals++;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

bool pv_fleet_stats_time_to(const pv_fleet_stats *s, double pct, uint64_t *ms)
{
    if (s->phones == 0)
        return false;
    uint64_t need = (uint64_t)ceil(pct / 100.0 * (double)s->phones);
    if (need == 0)
        need = 1;
    if (need > s->reached)
        return false;
    uint32_t *t = pv_reallocarray(NULL, s->reached, sizeof *t);
    size_t n = 0;
    for (uint32_t i = 0; i < s->phones; i++)
        if (s->goal_ms[i] != UINT32_MAX)
            t[n++] = s->goal_ms[i];
    qsort(t, n, sizeof *t, cmp_u32);
    *ms = t[need - 1];
    free(t);
    return true;
}
