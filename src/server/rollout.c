/* rollout.c — staged firmware rollouts with automatic halts; see rollout.h. */
#include "server/rollout.h"

#include "core/alloc.h"
#include "core/log.h"
#include "core/version.h"
#include "server/firmware.h"
#include "store/store_rollouts.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- metrics ---- */

static _Atomic uint64_t m_admitted, m_upgraded, m_failed, m_missing, m_in_call, m_halts;

void pv_rollout_metrics(pv_buf *out)
{
    pv_buf_appendf(
        out,
        "# HELP provisor_rollout_admitted_total Devices admitted to a rollout stage "
        "(their profile got the upgrade rule).\n"
        "# TYPE provisor_rollout_admitted_total counter\n"
        "provisor_rollout_admitted_total %llu\n"
        "# HELP provisor_rollout_outcomes_total Rollout members settled, by outcome.\n"
        "# TYPE provisor_rollout_outcomes_total counter\n"
        "provisor_rollout_outcomes_total{outcome=\"upgraded\"} %llu\n"
        "provisor_rollout_outcomes_total{outcome=\"failed\"} %llu\n"
        "provisor_rollout_outcomes_total{outcome=\"missing\"} %llu\n"
        "provisor_rollout_outcomes_total{outcome=\"in_call\"} %llu\n"
        "# HELP provisor_rollout_halts_total Rollouts halted by their thresholds.\n"
        "# TYPE provisor_rollout_halts_total counter\n"
        "provisor_rollout_halts_total %llu\n",
        (unsigned long long)atomic_load(&m_admitted), (unsigned long long)atomic_load(&m_upgraded),
        (unsigned long long)atomic_load(&m_failed), (unsigned long long)atomic_load(&m_missing),
        (unsigned long long)atomic_load(&m_in_call), (unsigned long long)atomic_load(&m_halts));
}

/* ---- creation ---- */

void pv_rollout_spec_default(pv_rollout_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    static const unsigned cohorts[] = {1, 10, 50, 100};
    memcpy(spec->cohorts, cohorts, sizeof cohorts);
    spec->ncohorts = 4;
    spec->canary = 5;
    spec->max_in_flight = 50;
    spec->per_minute = 100;
    spec->soak_s = 600;
    spec->max_failed_permille = 20;  /* 2 % failed */
    spec->max_missing_permille = 10; /* 1 % missing */
}

/* A device's place in the admission order (and whether a percentage takes it):
 * a hash of rollout name and MAC, so the canary is a sample, not the lowest MACs. */
static uint64_t order_key(const char *name, const char *mac)
{
    unsigned char md[32];
    char buf[160];
    int n = snprintf(buf, sizeof buf, "%s\n%s", name, mac);
    EVP_Digest(buf, n > 0 && (size_t)n < sizeof buf ? (size_t)n : 0, md, NULL, EVP_sha256(), NULL);
    uint64_t k = 0;
    for (int i = 0; i < 8; i++)
        k = k << 8 | md[i];
    return k;
}

typedef struct candidate {
    uint64_t key;
    char mac[13];
    char *version; /* borrowed from the device rows */
} candidate;

static int by_key(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key ? 1 : strcmp(x->mac, y->mac);
}

static bool in_target(const pv_rollout_spec *spec, const pv_store_device *d, uint64_t key)
{
    if (d->model == NULL || strcmp(d->model, spec->model) != 0)
        return false;
    if (spec->account_id != 0 && d->account_id != spec->account_id)
        return false;
    if (spec->ndevices > 0) {
        bool listed = false;
        for (size_t i = 0; i < spec->ndevices && !listed; i++)
            listed = strcmp(spec->devices[i], d->mac) == 0;
        if (!listed)
            return false;
    }
    return spec->percent == 0 || spec->percent >= 100 || key % 100 < spec->percent;
}

/* The target set in admission order; *rows keeps the versions alive. */
static int collect(pv_store *s, const pv_rollout_spec *spec, candidate **out, size_t *n,
                   pv_store_device **keep, size_t *nkeep, pv_error *err)
{
    pv_store_page page = {.limit = PV_STORE_PAGE_MAX};
    candidate *c = NULL;
    size_t cap = 0;
    int rc = 0;
    *n = *nkeep = 0;
    *keep = NULL;
    do {
        pv_store_device *rows = NULL;
        size_t got = 0;
        rc = pv_store_device_list(s, spec->account_id, &page, &rows, &got, err);
        if (rc != 0)
            break;
        *keep = pv_reallocarray(*keep, *nkeep + got + 1, sizeof **keep);
        if (got > 0) /* no rows: rows is NULL, which memcpy may not be given even for 0 */
            memcpy(*keep + *nkeep, rows, got * sizeof *rows);
        free(rows);
        for (size_t i = *nkeep; i < *nkeep + got; i++) {
            const pv_store_device *d = &(*keep)[i];
            uint64_t key = order_key(spec->name, d->mac);
            if (!in_target(spec, d, key))
                continue;
            if (*n == cap) {
                cap = cap ? cap * 2 : 64;
                c = pv_reallocarray(c, cap, sizeof *c);
            }
            c[*n].key = key;
            memcpy(c[*n].mac, d->mac, sizeof c[*n].mac);
            c[*n].version = d->firmware_version;
            (*n)++;
        }
        *nkeep += got;
    } while (page.after[0] != '\0');
    if (rc == 0 && *n > 0)
        qsort(c, *n, sizeof *c, by_key);
    *out = c;
    return rc;
}

/* The most common version the set runs now (what a rollback returns to). */
static const char *common_version(const candidate *c, size_t n, const char *to)
{
    const char *best = NULL;
    size_t best_n = 0;
    for (size_t i = 0; i < n; i++) {
        if (c[i].version == NULL || strcmp(c[i].version, to) == 0)
            continue;
        size_t k = 0;
        for (size_t j = 0; j < n; j++)
            k += c[j].version != NULL && strcmp(c[j].version, c[i].version) == 0;
        if (k > best_n) {
            best = c[i].version;
            best_n = k;
        }
        if (best_n * 2 > n)
            break; /* a majority: no other can beat it */
    }
    return best;
}

/* Stage bounds: the canary, then each cohort's share of the set, growing, ending at all. */
static size_t make_stages(const pv_rollout_spec *spec, size_t members, pv_store_rollout_stage *st)
{
    size_t k = 0, upto = 0;
    if (spec->canary > 0) {
        upto = spec->canary < members ? spec->canary : members;
        st[k] = (pv_store_rollout_stage){.upto = (int64_t)upto};
        snprintf(st[k].label, sizeof st[k].label, "canary %u", spec->canary);
        k++;
    }
    for (size_t i = 0; i < spec->ncohorts && upto < members; i++) {
        size_t want = (members * spec->cohorts[i] + 99) / 100;
        if (i + 1 == spec->ncohorts || want > members)
            want = members;
        if (want <= upto)
            continue;
        upto = want;
        st[k] = (pv_store_rollout_stage){.upto = (int64_t)upto};
        snprintf(st[k].label, sizeof st[k].label, "%u%%", spec->cohorts[i]);
        k++;
    }
    if (upto < members) { /* cohorts that stop short of the whole set: the rest at the end */
        st[k] = (pv_store_rollout_stage){.upto = (int64_t)members};
        snprintf(st[k].label, sizeof st[k].label, "100%%");
        k++;
    }
    return k;
}

static json_t *target_json(const pv_rollout_spec *spec)
{
    json_t *t = json_object();
    json_object_set_new(t, "model", json_string(spec->model));
    if (spec->account_id != 0)
        json_object_set_new(t, "account_id", json_integer(spec->account_id));
    if (spec->ndevices > 0) {
        json_t *d = json_array();
        for (size_t i = 0; i < spec->ndevices; i++)
            json_array_append_new(d, json_string(spec->devices[i]));
        json_object_set_new(t, "devices", d);
    }
    json_object_set_new(t, "percent", json_integer(spec->percent ? spec->percent : 100));
    return t;
}

int pv_rollout_create(pv_store *s, const pv_rollout_spec *spec, int64_t now, int64_t *id,
                      pv_error *err)
{
    if (spec->model == NULL || spec->model[0] == '\0')
        return pv_error_set(err, PV_EINVAL, "rollout: a model is required");
    if (spec->max_in_flight == 0 || spec->per_minute == 0)
        return pv_error_set(err, PV_EINVAL,
                            "rollout: the budget (in flight, per minute) must be "
                            "at least 1");
    if (spec->percent > 100 || spec->max_failed_permille > 1000 ||
        spec->max_missing_permille > 1000)
        return pv_error_set(err, PV_EINVAL, "rollout: percentages are 0..100");
    for (size_t i = 0; i < spec->ncohorts; i++)
        if (spec->cohorts[i] == 0 || spec->cohorts[i] > 100 ||
            (i > 0 && spec->cohorts[i] <= spec->cohorts[i - 1]))
            return pv_error_set(err, PV_EINVAL,
                                "rollout: cohorts must grow, each 1..100 %% of the set");
    pv_store_plan plan = {0};
    int rc = pv_store_plan_get(s, spec->model, &plan, err);
    if (rc == PV_ENOENT)
        rc = pv_error_set(err, PV_ENOENT,
                          "rollout of %s: the model has no upgrade plan (provisor plan set)",
                          spec->model);
    pv_buf probe = {0};
    if (rc == 0) /* the plan must render now, not at the first phone */
        rc = pv_firmware_rule_for_plan(s, &plan, "http://check", &probe, err);
    pv_buf_free(&probe);
    candidate *c = NULL;
    pv_store_device *keep = NULL;
    size_t n = 0, nkeep = 0;
    if (rc == 0)
        rc = collect(s, spec, &c, &n, &keep, &nkeep, err);
    if (rc == 0 && spec->ndevices > 0 && n != spec->ndevices)
        rc = pv_error_set(err, PV_EINVAL,
                          "rollout: %zu of the %zu devices given are not %s devices%s",
                          spec->ndevices - n, spec->ndevices, spec->model,
                          spec->account_id ? " of the account" : "");
    if (rc == 0 && n == 0)
        rc =
            pv_error_set(err, PV_EINVAL, "rollout: no %s device is in the target set", spec->model);
    if (rc == 0) {
        pv_store_rollout_stage stages[PV_ROLLOUT_MAX_COHORTS + 2];
        size_t nstages = make_stages(spec, n, stages);
        char **macs = pv_calloc(n, sizeof *macs);
        for (size_t i = 0; i < n; i++)
            macs[i] = c[i].mac;
        json_t *t = target_json(spec);
        char *target = json_dumps(t, JSON_COMPACT);
        json_decref(t);
        const char *from =
            spec->from_version ? spec->from_version : common_version(c, n, plan.target_version);
        pv_store_rollout r = {.name = (char *)spec->name,
                              .model = (char *)spec->model,
                              .from_version = (char *)(from ? from : ""),
                              .to_version = plan.target_version,
                              .steps = plan.stages,
                              .target = target,
                              .max_in_flight = spec->max_in_flight,
                              .per_minute = spec->per_minute,
                              .soak_s = spec->soak_s,
                              .max_failed_permille = spec->max_failed_permille,
                              .max_missing_permille = spec->max_missing_permille};
        rc = pv_store_rollout_create(s, &r, stages, nstages, macs, n, now, id, err);
        free(target);
        free(macs);
    }
    free(c);
    pv_store_devices_free(keep, nkeep);
    pv_store_plan_free(&plan);
    return rc;
}

/* ---- what a device is served ---- */

static bool member_got_rule(const char *member)
{
    return member[0] != '\0' && strcmp(member, "pending") != 0;
}

int pv_rollout_rule(pv_store *s, const pv_store_rollout_view *v, const char *model, const char *mac,
                    const pv_store_firmware *images, size_t n, const char *base_url, pv_buf *rule,
                    bool *governed, pv_error *err)
{
    *governed = v != NULL;
    if (v == NULL)
        return 0;
    int rc = 0;
    if (member_got_rule(v->member) &&
        (strcmp(v->state, "running") == 0 || strcmp(v->state, "done") == 0)) {
        pv_store_plan plan = {
            .model = (char *)model, .target_version = v->to_version, .stages = v->steps};
        rc = pv_firmware_upgrade_rule(&plan, images, n, base_url, rule, err);
        /* the first serving starts the member's clock for "missing" */
        if (rc == 0 && v->served_at == 0 && strcmp(v->member, "admitted") == 0)
            rc = pv_store_rollout_served(s, v->id, mac, time(NULL), err);
    } else if (member_got_rule(v->member) && strcmp(v->state, "rolled_back") == 0) {
        rc = pv_firmware_rollback_rule_in(images, n, model, v->from_version, base_url, rule, err);
    }
    /* halted, aborted, pending, not a member: no Upgrade_Rule at all */
    return rc;
}

/* ---- evaluation ---- */

static bool over(int64_t count, int64_t size, int64_t permille)
{
    return size > 0 && count * 1000 > permille * size;
}

static int audit(pv_store *s, const char *actor, const char *action, const char *subject,
                 const char *detail, int64_t now, pv_error *err)
{
    pv_store_audit a = {.at = now,
                        .actor = (char *)actor,
                        .action = (char *)action,
                        .subject = (char *)subject,
                        .detail = (char *)detail};
    return pv_store_audit_add(s, &a, NULL, err);
}

static void log_event(pv_log_level level, const char *event, const char *name, const char *why)
{
    pv_log_line line;
    pv_log_begin(&line, level, event);
    pv_log_str(&line, "rollout", name);
    pv_log_str(&line, "reason", why);
    pv_log_end(&line);
}

static int halt(pv_store *s, pv_store_rollout *r, const pv_store_rollout_stage *st, const char *why,
                int64_t now, pv_error *err)
{
    char reason[256];
    snprintf(reason, sizeof reason, "stage %lld (%s): %s", (long long)r->stage, st->label, why);
    strcpy(r->state, "halted");
    free(r->reason);
    r->reason = pv_strdup(reason);
    int rc = pv_store_rollout_set(s, r, now, err);
    if (rc == 0)
        rc = pv_store_rollout_stage_mark(s, r->id, r->stage, 0, now, "halted", err);
    if (rc == 0)
        rc = audit(s, "rollouts", "rollout.halt", r->name, reason, now, err);
    if (rc == 0) {
        atomic_fetch_add(&m_halts, 1);
        log_event(PV_LOG_WARN, "rollout.halt", r->name, reason);
    }
    return rc;
}

/* Failed or missing beyond the thresholds: the reason, else NULL. */
static const char *verdict(const pv_store_rollout *r, const pv_store_rollout_counts *c,
                           int64_t size, char *buf, size_t len)
{
    if (over(c->failed, size, r->max_failed_permille)) {
        snprintf(buf, len, "%lld of %lld devices failed the upgrade (more than %lld.%lld %%)",
                 (long long)c->failed, (long long)size, (long long)r->max_failed_permille / 10,
                 (long long)r->max_failed_permille % 10);
        return buf;
    }
    if (over(c->missing, size, r->max_missing_permille)) {
        snprintf(buf, len,
                 "%lld of %lld devices did not come back at %s after the soak (more than "
                 "%lld.%lld %%)",
                 (long long)c->missing, (long long)size, r->to_version,
                 (long long)r->max_missing_permille / 10, (long long)r->max_missing_permille % 10);
        return buf;
    }
    return NULL;
}

/*
 * Whether a device that says it runs `seen` runs `target` (or newer). The
 * User-Agent of a multiplatform phone names 11.3.2 where the load is
 * sip88xx.11-3-2MPP-100 (spec 1.4's two notations), so two versions of
 * different notations compare major, minor and micro only.
 */
static bool runs_at_least(const char *seen, const char *target)
{
    pv_version a, b;
    int cmp = 0;
    if (seen == NULL || pv_version_parse(pv_slice_from(seen), &a, NULL) != 0 ||
        pv_version_parse(pv_slice_from(target), &b, NULL) != 0)
        return false;
    if (a.format == b.format)
        return pv_version_compare(&a, &b, &cmp, NULL) == 0 && cmp >= 0;
    for (int i = 0; i < 3; i++) {
        long x = strtol(a.text + a.comp[i].num.off, NULL, 10) * (a.comp[i].num.len > 0);
        long y = strtol(b.text + b.comp[i].num.off, NULL, 10) * (b.comp[i].num.len > 0);
        if (x != y)
            return x > y;
    }
    return true;
}

/* Members seen back at the new version: upgraded (a failed one that retried too). */
static int settle_upgraded(pv_store *s, const pv_store_rollout *r, int64_t now, pv_error *err)
{
    pv_store_page page = {.limit = PV_STORE_PAGE_MAX};
    int rc = 0;
    do {
        pv_store_rollout_member *m = NULL;
        size_t n = 0;
        rc = pv_store_rollout_unsettled(s, r->id, &page, &m, &n, err);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            if (!runs_at_least(m[i].firmware_version, r->to_version))
                continue;
            rc = pv_store_rollout_mark(s, r->id, m[i].mac, "upgraded", now, err);
            atomic_fetch_add(&m_upgraded, 1);
        }
        pv_store_rollout_members_free(m, n);
    } while (rc == 0 && page.after[0] != '\0');
    return rc;
}

/*
 * One look at a running rollout: settle what the phones said, halt when the
 * current stage is over a threshold, else admit within the budget, and once
 * every member of the stage has settled (upgraded, failed, missing; a phone
 * in a call does not hold the stage) let it soak, then pass to the next.
 */
static int evaluate(pv_store *s, pv_store_rollout *r, int64_t now, pv_error *err)
{
    int64_t changed = 0;
    int rc = settle_upgraded(s, r, now, err);
    /* served the rule a whole soak ago and not back at the new version */
    if (rc == 0)
        rc = pv_store_rollout_settle_missing(s, r->id, now - r->soak_s, now, &changed, err);
    if (rc == 0 && changed > 0)
        atomic_fetch_add(&m_missing, (uint64_t)changed);
    pv_store_rollout_stage *st = NULL;
    size_t nst = 0;
    if (rc == 0)
        rc = pv_store_rollout_stages(s, r->id, &st, &nst, err);
    if (rc != 0 || r->stage >= (int64_t)nst) {
        free(st);
        return rc;
    }
    const pv_store_rollout_stage *cur = &st[r->stage];
    int64_t size = cur->upto - (r->stage > 0 ? st[r->stage - 1].upto : 0);
    pv_store_rollout_counts c, all;
    char why[200];
    const char *bad = NULL;
    rc = pv_store_rollout_stage_mark(s, r->id, r->stage, now, 0, NULL, err);
    if (rc == 0)
        rc = pv_store_rollout_count(s, r->id, r->stage, now - 60, &c, err);
    if (rc == 0)
        rc = pv_store_rollout_count(s, r->id, -1, now - 60, &all, err);
    if (rc == 0) /* failed and missing are final: no need to wait for the rest */
        bad = verdict(r, &c, size, why, sizeof why);
    if (rc != 0 || bad != NULL) {
        if (bad != NULL)
            rc = halt(s, r, cur, bad, now, err);
        free(st);
        return rc;
    }
    int64_t admitted_upto = all.total - all.pending; /* admission is in position order */
    if (admitted_upto < cur->upto) {
        int64_t room = r->max_in_flight - (all.admitted + all.in_call);
        if (r->per_minute - all.recent < room)
            room = r->per_minute - all.recent;
        int64_t upto = admitted_upto + (room > 0 ? room : 0), got = 0;
        if (upto > cur->upto)
            upto = cur->upto;
        if (upto > admitted_upto)
            rc = pv_store_rollout_admit(s, r->id, r->stage, upto, now, &got, err);
        if (rc == 0 && got > 0)
            atomic_fetch_add(&m_admitted, (uint64_t)got);
    } else if (c.admitted == 0 && r->stage_full_at == 0) {
        r->stage_full_at = now; /* every member settled: the soak starts */
        rc = pv_store_rollout_set(s, r, now, err);
    } else if (c.admitted == 0 && now >= r->stage_full_at + r->soak_s) {
        rc = pv_store_rollout_stage_mark(s, r->id, r->stage, 0, now, "passed", err);
        if (r->stage + 1 >= (int64_t)nst)
            strcpy(r->state, "done");
        else
            r->stage++;
        r->stage_full_at = 0;
        if (rc == 0)
            rc = pv_store_rollout_set(s, r, now, err);
        if (rc == 0 && strcmp(r->state, "done") == 0)
            rc = audit(s, "rollouts", "rollout.done", r->name, NULL, now, err);
    }
    free(st);
    return rc;
}

int pv_rollout_tick(pv_store *s, int64_t now, pv_error *err)
{
    pv_store_rollout *rows = NULL;
    size_t n = 0;
    int rc = pv_store_rollout_running(s, &rows, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        /* one rollout per transaction: a conflict (another node, an operator) skips it
         * until the next tick instead of failing the others */
        pv_error e = {""};
        int r = pv_store_begin(s, &e);
        if (r == 0)
            r = evaluate(s, &rows[i], now, &e);
        if (r == 0)
            r = pv_store_commit(s, &e);
        if (r != 0) {
            pv_store_rollback(s);
            if (r != PV_ECONFLICT)
                log_event(PV_LOG_ERROR, "rollout.tick_failed", rows[i].name, e.msg);
        }
    }
    pv_store_rollouts_free(rows, n);
    return rc;
}

int pv_rollout_note_report(pv_store *s, const char *mac, const pv_params *report, int64_t now,
                           pv_error *err)
{
    const char *upgerr = pv_params_value(report, "Last_Upgrade_Result");
    const char *call = pv_params_value(report, "Call_State");
    int64_t changed = 0;
    int rc = 0;
    if (upgerr != NULL && upgerr[0] != '\0') { /* spec 2.2: $UPGERR, empty after a success */
        rc = pv_store_rollout_note(s, mac, "failed", upgerr, now, &changed, err);
        if (rc == 0 && changed > 0)
            atomic_fetch_add(&m_failed, 1);
    } else if (call != NULL && strcmp(call, "Busy") == 0) {
        /* spec 6: a phone in a call reboots after the hang-up; never a failure */
        rc = pv_store_rollout_note(s, mac, "in_call", "reported in a call", now, &changed, err);
        if (rc == 0 && changed > 0)
            atomic_fetch_add(&m_in_call, 1);
    }
    return rc;
}

int pv_rollout_act(pv_store *s, const char *name, pv_rollout_action action, int64_t now,
                   pv_error *err)
{
    pv_store_rollout r = {0};
    int rc = pv_store_rollout_get(s, name, &r, err);
    if (rc != 0)
        return rc;
    static const char *const verbs[] = {"resume", "abort", "rollback"};
    char was[sizeof r.state];
    memcpy(was, r.state, sizeof was);
    bool ok = false;
    switch (action) {
    case PV_ROLLOUT_RESUME: /* the operator accepts the halted stage: on to the next */
        ok = strcmp(r.state, "halted") == 0;
        if (ok) {
            rc = pv_store_rollout_stage_mark(s, r.id, r.stage, 0, now, "resumed", err);
            pv_store_rollout_stage *st = NULL;
            size_t nst = 0;
            if (rc == 0)
                rc = pv_store_rollout_stages(s, r.id, &st, &nst, err);
            free(st);
            if (r.stage + 1 >= (int64_t)nst) {
                strcpy(r.state, "done");
            } else {
                strcpy(r.state, "running");
                r.stage++;
            }
            r.stage_full_at = 0;
        }
        break;
    case PV_ROLLOUT_ABORT:
        ok = strcmp(r.state, "running") == 0 || strcmp(r.state, "halted") == 0;
        strcpy(r.state, "aborted");
        break;
    case PV_ROLLOUT_ROLLBACK:
        ok = strcmp(r.state, "rolled_back") != 0;
        if (ok) { /* the previous image must exist before anyone is told to go back */
            pv_buf probe = {0};
            rc = pv_firmware_rollback_rule(s, r.model, r.from_version, "http://check", &probe, err);
            pv_buf_free(&probe);
        }
        strcpy(r.state, "rolled_back");
        break;
    }
    if (rc == 0 && !ok)
        rc = pv_error_set(err, PV_ECONFLICT, "rollout %s is %s: cannot %s it", name, was,
                          verbs[action]);
    if (rc == 0) {
        char reason[64];
        snprintf(reason, sizeof reason, "%s by the operator", verbs[action]);
        if (action != PV_ROLLOUT_RESUME) {
            free(r.reason);
            r.reason = pv_strdup(reason);
        }
        rc = pv_store_rollout_set(s, &r, now, err);
    }
    pv_store_rollout_free(&r);
    return rc;
}
