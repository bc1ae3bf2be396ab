/*
 * api_rollouts.c — firmware rollouts in the admin API (server/rollout.h,
 * docs/rollouts.md): create, list, show with per-stage health, members, and
 * the operator's resume / abort / rollback; see api.h and docs/api.md.
 */
#include "core/alloc.h"
#include "server/api_int.h"
#include "server/rollout.h"
#include "store/store_rollouts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *counts_json(const pv_store_rollout_counts *c)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "members", (json_int_t)c->total,
                     "pending", (json_int_t)c->pending, "admitted", (json_int_t)c->admitted,
                     "upgraded", (json_int_t)c->upgraded, "failed", (json_int_t)c->failed,
                     "missing", (json_int_t)c->missing, "in_call", (json_int_t)c->in_call);
}

static json_t *rollout_json(const pv_store_rollout *r)
{
    json_t *target = json_loads(r->target ? r->target : "{}", 0, NULL);
    json_t *steps = json_loads(r->steps ? r->steps : "[]", 0, NULL);
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:I, s:s, s:I, s:I, s:I, s:f, s:f, "
        "s:I, s:I, s:I}",
        "name", r->name, "model", r->model, "from_version", r->from_version, "to_version",
        r->to_version, "steps", steps ? steps : json_array(), "target",
        target ? target : json_object(), "state", r->state, "stage", (json_int_t)r->stage, "reason",
        r->reason ? r->reason : "", "max_in_flight", (json_int_t)r->max_in_flight, "per_minute",
        (json_int_t)r->per_minute, "soak_s", (json_int_t)r->soak_s, "max_failed_percent",
        r->max_failed_permille / 10.0, "max_missing_percent", r->max_missing_permille / 10.0,
        "version", (json_int_t)r->version, "created_at", (json_int_t)r->created_at, "updated_at",
        (json_int_t)r->updated_at);
}

static int list_rollouts(pv__api_ctx *ctx, pv_store_page *page, json_t *items, pv_error *err)
{
    pv_store_rollout *rows = NULL;
    size_t n = 0;
    int rc = pv_store_rollout_list(ctx->store, page, &rows, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        json_array_append_new(items, rollout_json(&rows[i]));
    pv_store_rollouts_free(rows, n);
    return rc;
}

void pv__api_rollouts_list(pv__api_ctx *ctx)
{
    pv__api_list(ctx, list_rollouts);
}

/* The rollout with its stages, each with its members' outcomes, and the totals. */
static int full_json(pv__api_ctx *ctx, const char *name, json_t **out, pv_error *err)
{
    pv_store_rollout r = {0};
    pv_store_rollout_stage *st = NULL;
    size_t nst = 0;
    pv_store_rollout_counts c;
    int rc = pv_store_rollout_get(ctx->store, name, &r, err);
    if (rc == 0)
        rc = pv_store_rollout_stages(ctx->store, r.id, &st, &nst, err);
    json_t *o = rc == 0 ? rollout_json(&r) : NULL;
    json_t *stages = json_array();
    for (size_t i = 0; rc == 0 && i < nst; i++) {
        rc = pv_store_rollout_count(ctx->store, r.id, st[i].idx, 0, &c, err);
        if (rc != 0)
            break;
        json_t *g =
            json_pack("{s:I, s:s, s:I, s:I, s:I, s:s, s:o}", "index", (json_int_t)st[i].idx,
                      "label", st[i].label, "upto", (json_int_t)st[i].upto, "started_at",
                      (json_int_t)st[i].started_at, "finished_at", (json_int_t)st[i].finished_at,
                      "outcome", st[i].outcome, "devices", counts_json(&c));
        json_array_append_new(stages, g);
    }
    if (rc == 0)
        rc = pv_store_rollout_count(ctx->store, r.id, -1, 0, &c, err);
    if (rc == 0) {
        json_object_set_new(o, "stages", stages);
        json_object_set_new(o, "devices", counts_json(&c));
        *out = o;
    } else {
        json_decref(stages);
        json_decref(o);
    }
    free(st);
    pv_store_rollout_free(&r);
    return rc;
}

void pv__api_rollout_get(pv__api_ctx *ctx)
{
    json_t *o = NULL;
    pv_error err = {""};
    int rc = full_json(ctx, ctx->params[0], &o, &err);
    if (rc == 0)
        pv__api_reply(ctx, 200, o);
    else
        pv__api_fail_store(ctx, rc, &err, NULL);
}

void pv__api_rollout_devices(pv__api_ctx *ctx)
{
    pv_store_page page;
    if (!pv__api_page(ctx, &page))
        return;
    pv_store_rollout r = {0};
    pv_store_rollout_member *rows = NULL;
    size_t n = 0;
    pv_error err = {""};
    int rc = pv_store_rollout_get(ctx->store, ctx->params[0], &r, &err);
    if (rc == 0)
        rc = pv_store_rollout_members(ctx->store, r.id, &page, &rows, &n, &err);
    if (rc != 0) {
        pv__api_fail_store(ctx, rc, &err, NULL);
    } else {
        json_t *items = json_array();
        for (size_t i = 0; i < n; i++) {
            const pv_store_rollout_member *m = &rows[i];
            json_array_append_new(
                items, json_pack("{s:s, s:I, s:I, s:s, s:I, s:I, s:I, s:s, s:o}", "mac", m->mac,
                                 "position", (json_int_t)m->position, "stage", (json_int_t)m->stage,
                                 "state", m->state, "admitted_at", (json_int_t)m->admitted_at,
                                 "served_at", (json_int_t)m->served_at, "settled_at",
                                 (json_int_t)m->settled_at, "detail", m->detail ? m->detail : "",
                                 "firmware_version", pv__api_str_or_null(m->firmware_version)));
        }
        pv__api_reply_page(ctx, items, &page);
    }
    pv_store_rollout_members_free(rows, n);
    pv_store_rollout_free(&r);
}

/* An optional non-negative integer field within [lo, hi]; false after answering 400. */
static bool uint_field(pv__api_ctx *ctx, const char *name, unsigned lo, unsigned hi, unsigned *out)
{
    json_t *v = json_object_get(ctx->body, name);
    if (v == NULL)
        return true;
    json_int_t i = json_integer_value(v);
    if (i < lo || i > hi) {
        pv__api_fail(ctx, 400, "invalid", name, "%s must be %u to %u", name, lo, hi);
        return false;
    }
    *out = (unsigned)i;
    return true;
}

/* A percentage with at most one decimal, as permille. */
static bool percent_field(pv__api_ctx *ctx, const char *name, unsigned *permille)
{
    json_t *v = json_object_get(ctx->body, name);
    if (v == NULL)
        return true;
    double d = json_number_value(v);
    if (!json_is_number(v) || d < 0 || d > 100) {
        pv__api_fail(ctx, 400, "invalid", name, "%s must be a number from 0 to 100", name);
        return false;
    }
    *permille = (unsigned)lround(d * 10);
    return true;
}

static bool read_cohorts(pv__api_ctx *ctx, pv_rollout_spec *spec)
{
    json_t *a = json_object_get(ctx->body, "cohorts");
    if (a == NULL)
        return true;
    if (json_array_size(a) == 0 || json_array_size(a) > PV_ROLLOUT_MAX_COHORTS) {
        pv__api_fail(ctx, 400, "invalid", "cohorts", "cohorts: 1 to %d shares in %%",
                     PV_ROLLOUT_MAX_COHORTS);
        return false;
    }
    spec->ncohorts = json_array_size(a);
    for (size_t i = 0; i < spec->ncohorts; i++) {
        json_int_t p = json_integer_value(json_array_get(a, i));
        if (!json_is_integer(json_array_get(a, i)) || p < 1 || p > 100 ||
            (i > 0 && (unsigned)p <= spec->cohorts[i - 1])) {
            pv__api_fail(ctx, 400, "invalid", "cohorts",
                         "cohorts[%zu]: shares grow, each an integer 1 to 100", i);
            return false;
        }
        spec->cohorts[i] = (unsigned)p;
    }
    return true;
}

void pv__api_rollout_create(pv__api_ctx *ctx)
{
    static const pv__api_field fields[] = {{"name", PV_API_STRING, true},
                                           {"model", PV_API_STRING, true},
                                           {"account", PV_API_STRING, false},
                                           {"devices", PV_API_ARRAY, false},
                                           {"percent", PV_API_INT, false},
                                           {"from_version", PV_API_STRING, false},
                                           {"canary", PV_API_INT, false},
                                           {"cohorts", PV_API_ARRAY, false},
                                           {"max_in_flight", PV_API_INT, false},
                                           {"per_minute", PV_API_INT, false},
                                           {"soak_s", PV_API_INT, false},
                                           {"max_failed_percent", PV_API_ANY, false},
                                           {"max_missing_percent", PV_API_ANY, false}};
    if (!pv__api_body(ctx, fields, sizeof fields / sizeof fields[0]))
        return;
    pv_rollout_spec spec;
    pv_rollout_spec_default(&spec);
    spec.name = pv__api_str(ctx->body, "name");
    spec.model = pv__api_str(ctx->body, "model");
    spec.from_version = pv__api_str(ctx->body, "from_version");
    const char *account = pv__api_str(ctx->body, "account");
    if (account != NULL && !pv__api_account_id(ctx, account, "account", &spec.account_id))
        return;
    if (!uint_field(ctx, "percent", 1, 100, &spec.percent) ||
        !uint_field(ctx, "canary", 0, 100000, &spec.canary) ||
        !uint_field(ctx, "max_in_flight", 1, 1000000, &spec.max_in_flight) ||
        !uint_field(ctx, "per_minute", 1, 1000000, &spec.per_minute) ||
        !uint_field(ctx, "soak_s", 0, 30 * 86400, &spec.soak_s) ||
        !percent_field(ctx, "max_failed_percent", &spec.max_failed_permille) ||
        !percent_field(ctx, "max_missing_percent", &spec.max_missing_permille) ||
        !read_cohorts(ctx, &spec))
        return;
    json_t *devs = json_object_get(ctx->body, "devices");
    size_t nd = json_array_size(devs);
    char(*macs)[13] = nd ? pv_calloc(nd, sizeof *macs) : NULL;
    const char **ptrs = nd ? pv_calloc(nd, sizeof *ptrs) : NULL;
    for (size_t i = 0; i < nd; i++) {
        char field[32];
        snprintf(field, sizeof field, "devices[%zu]", i);
        const char *v = json_string_value(json_array_get(devs, i));
        if (!pv__api_mac(ctx, v ? v : "", field, macs[i])) {
            free(macs);
            free(ptrs);
            return;
        }
        ptrs[i] = macs[i];
    }
    spec.devices = ptrs;
    spec.ndevices = nd;
    int64_t id = 0;
    pv_error err = {""};
    int rc = pv_store_begin(ctx->store, &err);
    if (rc == 0)
        rc = pv_rollout_create(ctx->store, &spec, ctx->now, &id, &err);
    free(macs);
    free(ptrs);
    if (rc != 0) {
        pv_store_rollback(ctx->store);
        pv__api_fail_store(ctx, rc, &err, NULL);
        return;
    }
    json_t *o = NULL;
    if (!pv__api_commit(ctx, "rollout.create", spec.name, json_deep_copy(ctx->body)))
        return;
    rc = full_json(ctx, spec.name, &o, &err);
    if (rc == 0)
        pv__api_reply(ctx, 201, o);
    else
        pv__api_fail_store(ctx, rc, &err, NULL);
}

static void act(pv__api_ctx *ctx, pv_rollout_action action, const char *audit_action)
{
    pv_error err = {""};
    int rc = pv_store_begin(ctx->store, &err);
    if (rc == 0)
        rc = pv_rollout_act(ctx->store, ctx->params[0], action, ctx->now, &err);
    if (rc != 0) {
        pv_store_rollback(ctx->store);
        pv__api_fail_store(ctx, rc, &err, NULL);
    } else if (pv__api_commit(ctx, audit_action, ctx->params[0], NULL)) {
        pv__api_rollout_get(ctx);
    }
}

void pv__api_rollout_resume(pv__api_ctx *ctx)
{
    act(ctx, PV_ROLLOUT_RESUME, "rollout.resume");
}

void pv__api_rollout_abort(pv__api_ctx *ctx)
{
    act(ctx, PV_ROLLOUT_ABORT, "rollout.abort");
}

void pv__api_rollout_rollback(pv__api_ctx *ctx)
{
    act(ctx, PV_ROLLOUT_ROLLBACK, "rollout.rollback");
}
