/* store_rollouts.c — rollouts, stages, members; see store_rollouts.h. */
#include "store/store_rollouts.h"

#include "core/alloc.h"
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROLLOUT_COLS                                                                               \
    "id, name, model, from_version, to_version, steps, target, max_in_flight, per_minute, "        \
    "soak_s, max_failed_permille, max_missing_permille, state, stage, stage_full_at, reason, "     \
    "version, created_at, updated_at"

static void read_rollout(pv_store *s, pv__stmt *st, void *row)
{
    pv_store_rollout *r = row;
    r->id = pv__col_int(s, st, 0);
    r->name = pv__col_dup(s, st, 1);
    r->model = pv__col_dup(s, st, 2);
    r->from_version = pv__col_dup(s, st, 3);
    r->to_version = pv__col_dup(s, st, 4);
    r->steps = pv__col_dup(s, st, 5);
    r->target = pv__col_dup(s, st, 6);
    r->max_in_flight = pv__col_int(s, st, 7);
    r->per_minute = pv__col_int(s, st, 8);
    r->soak_s = pv__col_int(s, st, 9);
    r->max_failed_permille = pv__col_int(s, st, 10);
    r->max_missing_permille = pv__col_int(s, st, 11);
    pv__col_copy(s, st, 12, r->state, sizeof r->state);
    r->stage = pv__col_int(s, st, 13);
    r->stage_full_at = pv__col_int(s, st, 14);
    r->reason = pv__col_dup(s, st, 15);
    r->version = pv__col_int(s, st, 16);
    r->created_at = pv__col_int(s, st, 17);
    r->updated_at = pv__col_int(s, st, 18);
}

void pv_store_rollout_free(pv_store_rollout *r)
{
    free(r->name);
    free(r->model);
    free(r->from_version);
    free(r->to_version);
    free(r->steps);
    free(r->target);
    free(r->reason);
    memset(r, 0, sizeof *r);
}

static void free_rollout(void *row)
{
    pv_store_rollout_free(row);
}

void pv_store_rollouts_free(pv_store_rollout *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pv_store_rollout_free(&rows[i]);
    free(rows);
}

static const char sql_insert[] =
    "INSERT INTO rollouts (name, model, from_version, to_version, steps, target, max_in_flight, "
    "per_minute, soak_s, max_failed_permille, max_missing_permille, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id";
static const char sql_stage_insert[] =
    "INSERT INTO rollout_stages (rollout_id, idx, label, upto) VALUES ($1, $2, $3, $4)";
static const char sql_member_insert[] =
    "INSERT INTO rollout_members (rollout_id, mac, position) VALUES ($1, $2, $3)";

int pv_store_rollout_create(pv_store *s, const pv_store_rollout *r,
                            const pv_store_rollout_stage *stages, size_t nstages, char *const *macs,
                            size_t nmacs, int64_t now, int64_t *id, pv_error *err)
{
    /* The name is the list cursor: it must fit pv_store_page.after. */
    if (r->name == NULL || r->name[0] == '\0' || strlen(r->name) >= 80)
        return pv_error_set(err, PV_EINVAL, "rollout: name must be 1 to 79 characters");
    int rc = pv__json_check(r->steps ? r->steps : "[]", '[', "rollout steps", err);
    if (rc == 0)
        rc = pv__json_check(r->target ? r->target : "{}", '{', "rollout target", err);
    if (rc == 0)
        rc =
            pv__int(s, sql_insert,
                    PV_ARGS(PV_T(r->name), PV_T(r->model),
                            PV_T(r->from_version ? r->from_version : ""), PV_T(r->to_version),
                            PV_T(r->steps ? r->steps : "[]"), PV_T(r->target ? r->target : "{}"),
                            PV_I(r->max_in_flight), PV_I(r->per_minute), PV_I(r->soak_s),
                            PV_I(r->max_failed_permille), PV_I(r->max_missing_permille), PV_I(now)),
                    id, err);
    if (rc == PV_ECONFLICT || rc == PV_EEXIST)
        return pv_error_set(err, PV_EEXIST, "rollout %s: the name is taken", r->name);
    for (size_t i = 0; rc == 0 && i < nstages; i++)
        rc = pv__exec(s, sql_stage_insert,
                      PV_ARGS(PV_I(*id), PV_I(i), PV_T(stages[i].label), PV_I(stages[i].upto)),
                      NULL, err);
    for (size_t i = 0; rc == 0 && i < nmacs; i++)
        rc = pv__exec(s, sql_member_insert, PV_ARGS(PV_I(*id), PV_T(macs[i]), PV_I(i)), NULL, err);
    return rc;
}

static const char sql_get[] = "SELECT " ROLLOUT_COLS " FROM rollouts WHERE name = $1";

int pv_store_rollout_get(pv_store *s, const char *name, pv_store_rollout *out, pv_error *err)
{
    int rc = pv__get(s, sql_get, PV_ARGS(PV_T(name)), read_rollout, out, sizeof *out, err);
    if (rc == PV_ENOENT)
        return pv_error_set(err, PV_ENOENT, "rollout %.60s: no such rollout", name);
    return rc;
}

static const pv__list_spec rollout_list = {sizeof(pv_store_rollout), read_rollout, free_rollout, 1};
static const char sql_list[] =
    "SELECT " ROLLOUT_COLS " FROM rollouts WHERE name > $1 ORDER BY name LIMIT $2";

int pv_store_rollout_list(pv_store *s, pv_store_page *page, pv_store_rollout **rows, size_t *n,
                          pv_error *err)
{
    return pv__list(s, &rollout_list, sql_list,
                    PV_ARGS(PV_T(page->after), PV_I((int64_t)pv__page_limit(page) + 1)), page,
                    (void **)rows, n, err);
}

static const char sql_running[] =
    "SELECT " ROLLOUT_COLS " FROM rollouts WHERE state = 'running' AND id > $1 "
    "ORDER BY id LIMIT $2";

int pv_store_rollout_running(pv_store *s, pv_store_rollout **rows, size_t *n, pv_error *err)
{
    pv_store_page page = {.limit = PV_STORE_PAGE_MAX};
    static const pv__list_spec by_id = {sizeof(pv_store_rollout), read_rollout, free_rollout, 0};
    return pv__list(s, &by_id, sql_running, PV_ARGS(PV_I(0), PV_I((int64_t)PV_STORE_PAGE_MAX + 1)),
                    &page, (void **)rows, n, err);
}

static const char sql_set[] =
    "UPDATE rollouts SET state = $3, stage = $4, stage_full_at = $5, reason = $6, "
    "version = version + 1, updated_at = $7 WHERE id = $1 AND version = $2";

int pv_store_rollout_set(pv_store *s, const pv_store_rollout *r, int64_t now, pv_error *err)
{
    int64_t changed = 0;
    int rc = pv__exec(s, sql_set,
                      PV_ARGS(PV_I(r->id), PV_I(r->version), PV_T(r->state), PV_I(r->stage),
                              PV_IZ(r->stage_full_at), PV_T(r->reason ? r->reason : ""), PV_I(now)),
                      &changed, err);
    if (rc == 0 && changed == 0)
        rc = pv_error_set(err, PV_ECONFLICT, "rollout %s changed meanwhile: try again", r->name);
    return rc;
}

/* ---- stages ---- */

static void read_stage(pv_store *s, pv__stmt *st, void *row)
{
    pv_store_rollout_stage *g = row;
    g->idx = pv__col_int(s, st, 0);
    pv__col_copy(s, st, 1, g->label, sizeof g->label);
    g->upto = pv__col_int(s, st, 2);
    g->started_at = pv__col_int(s, st, 3);
    g->finished_at = pv__col_int(s, st, 4);
    pv__col_copy(s, st, 5, g->outcome, sizeof g->outcome);
}

static void free_nothing(void *row)
{
    (void)row;
}

static const char sql_stages[] = "SELECT idx, label, upto, started_at, finished_at, outcome "
                                 "FROM rollout_stages WHERE rollout_id = $1 AND idx > $2 "
                                 "ORDER BY idx LIMIT $3";

int pv_store_rollout_stages(pv_store *s, int64_t id, pv_store_rollout_stage **rows, size_t *n,
                            pv_error *err)
{
    static const pv__list_spec spec = {sizeof(pv_store_rollout_stage), read_stage, free_nothing, 0};
    pv_store_page page = {.limit = PV_STORE_PAGE_MAX};
    return pv__list(s, &spec, sql_stages, PV_ARGS(PV_I(id), PV_I(-1), PV_I(PV_STORE_PAGE_MAX + 1)),
                    &page, (void **)rows, n, err);
}

static const char sql_stage_start[] = "UPDATE rollout_stages SET started_at = $3 "
                                      "WHERE rollout_id = $1 AND idx = $2 AND started_at IS NULL";
static const char sql_stage_finish[] = "UPDATE rollout_stages SET finished_at = $3, outcome = $4 "
                                       "WHERE rollout_id = $1 AND idx = $2";

int pv_store_rollout_stage_mark(pv_store *s, int64_t id, int64_t idx, int64_t started_at,
                                int64_t finished_at, const char *outcome, pv_error *err)
{
    int rc = 0;
    if (started_at != 0)
        rc =
            pv__exec(s, sql_stage_start, PV_ARGS(PV_I(id), PV_I(idx), PV_I(started_at)), NULL, err);
    if (rc == 0 && outcome != NULL)
        rc = pv__exec(s, sql_stage_finish,
                      PV_ARGS(PV_I(id), PV_I(idx), PV_IZ(finished_at), PV_T(outcome)), NULL, err);
    return rc;
}

/* ---- members ---- */

/* A stage's members: those it admitted, and the pending ones of its cohort — the positions from
 * the previous stage's bound to its own (a pending member has no stage yet), so that the
 * stages' pending counts add up to the whole rollout's. */
static const char sql_count[] =
    "SELECT state, COUNT(*), SUM(CASE WHEN admitted_at >= $3 THEN 1 ELSE 0 END) "
    "FROM rollout_members WHERE rollout_id = $1 AND (CAST($2 AS BIGINT) < 0 OR stage = $2 "
    "OR (state = 'pending' "
    "AND position < (SELECT upto FROM rollout_stages WHERE rollout_id = $1 AND idx = $2) "
    "AND position >= COALESCE((SELECT upto FROM rollout_stages "
    "WHERE rollout_id = $1 AND idx = CAST($2 AS BIGINT) - 1), 0))) "
    "GROUP BY state";

int pv_store_rollout_count(pv_store *s, int64_t id, int64_t stage, int64_t since,
                           pv_store_rollout_counts *out, pv_error *err)
{
    memset(out, 0, sizeof *out);
    pv__stmt *st = NULL;
    int rc = pv__query(s, sql_count, PV_ARGS(PV_I(id), PV_I(stage), PV_I(since)), &st, err);
    while (rc == 0 && (rc = pv__next(s, st, err)) == 1) {
        rc = 0;
        char state[16];
        pv__col_copy(s, st, 0, state, sizeof state);
        int64_t k = pv__col_int(s, st, 1);
        out->total += k;
        out->recent += pv__col_int(s, st, 2);
        int64_t *slot = strcmp(state, "pending") == 0    ? &out->pending
                        : strcmp(state, "admitted") == 0 ? &out->admitted
                        : strcmp(state, "upgraded") == 0 ? &out->upgraded
                        : strcmp(state, "failed") == 0   ? &out->failed
                        : strcmp(state, "missing") == 0  ? &out->missing
                                                         : &out->in_call;
        *slot += k;
    }
    return rc < 0 ? rc : 0;
}

static const char sql_admit[] =
    "UPDATE rollout_members SET state = 'admitted', stage = $2, admitted_at = $4 "
    "WHERE rollout_id = $1 AND state = 'pending' AND position < $3";

int pv_store_rollout_admit(pv_store *s, int64_t id, int64_t stage, int64_t upto, int64_t now,
                           int64_t *admitted, pv_error *err)
{
    return pv__exec(s, sql_admit, PV_ARGS(PV_I(id), PV_I(stage), PV_I(upto), PV_I(now)), admitted,
                    err);
}

static const char sql_mark[] = "UPDATE rollout_members SET state = $3, settled_at = $4 "
                               "WHERE rollout_id = $1 AND mac = $2";

int pv_store_rollout_mark(pv_store *s, int64_t id, const char *mac, const char *state, int64_t now,
                          pv_error *err)
{
    return pv__exec(s, sql_mark, PV_ARGS(PV_I(id), PV_T(mac), PV_T(state), PV_I(now)), NULL, err);
}

static const char sql_settle_missing[] =
    "UPDATE rollout_members SET state = 'missing', settled_at = $3 "
    "WHERE rollout_id = $1 AND state = 'admitted' AND served_at IS NOT NULL AND served_at <= $2";

int pv_store_rollout_settle_missing(pv_store *s, int64_t id, int64_t served_before, int64_t now,
                                    int64_t *changed, pv_error *err)
{
    return pv__exec(s, sql_settle_missing, PV_ARGS(PV_I(id), PV_I(served_before), PV_I(now)),
                    changed, err);
}

void pv__read_rollout_view(pv_store *s, pv__stmt *st, int base, void *row)
{
    pv_store_rollout_view *v = row;
    v->id = pv__col_int(s, st, base + 0);
    pv__col_copy(s, st, base + 1, v->state, sizeof v->state);
    pv__col_copy(s, st, base + 2, v->member, sizeof v->member);
    v->served_at = pv__col_int(s, st, base + 3);
    v->from_version = pv__col_dup(s, st, base + 4);
    v->to_version = pv__col_dup(s, st, base + 5);
    v->steps = pv__col_dup(s, st, base + 6);
}

static void read_view(pv_store *s, pv__stmt *st, void *row)
{
    pv__read_rollout_view(s, st, 0, row);
}

void pv_store_rollout_view_free(pv_store_rollout_view *v)
{
    free(v->from_version);
    free(v->to_version);
    free(v->steps);
    memset(v, 0, sizeof *v);
}

/* The newest rollout of the model governs it (docs/rollouts.md). */
static const char sql_view[] =
    "SELECT " ROLLOUT_VIEW_COLS
    " " ROLLOUT_VIEW_FROM("$2") " WHERE r.model = $1 ORDER BY r.id DESC LIMIT 1";

int pv_store_rollout_view_get(pv_store *s, const char *model, const char *mac,
                              pv_store_rollout_view *out, pv_error *err)
{
    return pv__get(s, sql_view, PV_ARGS(PV_T(model), PV_T(mac)), read_view, out, sizeof *out, err);
}

static const char sql_served[] = "UPDATE rollout_members SET served_at = $3 "
                                 "WHERE rollout_id = $1 AND mac = $2 AND served_at IS NULL";

int pv_store_rollout_served(pv_store *s, int64_t id, const char *mac, int64_t now, pv_error *err)
{
    return pv__exec(s, sql_served, PV_ARGS(PV_I(id), PV_T(mac), PV_I(now)), NULL, err);
}

static const char sql_note[] =
    "UPDATE rollout_members SET state = $2, detail = $3, settled_at = $4 "
    "WHERE mac = $1 AND state IN ('admitted', 'in_call', 'missing') AND rollout_id = "
    "(SELECT MAX(rollout_id) FROM rollout_members WHERE mac = $1)";

int pv_store_rollout_note(pv_store *s, const char *mac, const char *state, const char *detail,
                          int64_t now, int64_t *changed, pv_error *err)
{
    return pv__exec(s, sql_note, PV_ARGS(PV_T(mac), PV_T(state), PV_T(detail), PV_I(now)), changed,
                    err);
}

static void read_member(pv_store *s, pv__stmt *st, void *row)
{
    pv_store_rollout_member *m = row;
    pv__col_copy(s, st, 0, m->mac, sizeof m->mac);
    m->position = pv__col_int(s, st, 1);
    m->stage = pv__col_int(s, st, 2);
    pv__col_copy(s, st, 3, m->state, sizeof m->state);
    m->admitted_at = pv__col_int(s, st, 4);
    m->served_at = pv__col_int(s, st, 5);
    m->settled_at = pv__col_int(s, st, 6);
    m->detail = pv__col_dup(s, st, 7);
    m->firmware_version = pv__col_dup(s, st, 8);
}

static void free_member(void *row)
{
    pv_store_rollout_member *m = row;
    free(m->detail);
    free(m->firmware_version);
}

void pv_store_rollout_members_free(pv_store_rollout_member *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free_member(&rows[i]);
    free(rows);
}

#define MEMBER_SELECT                                                                              \
    "SELECT m.mac, m.position, COALESCE(m.stage, -1), m.state, m.admitted_at, m.served_at, "       \
    "m.settled_at, m.detail, d.firmware_version FROM rollout_members m JOIN devices d ON d.mac = " \
    "m.mac "

static const char sql_members[] =
    MEMBER_SELECT "WHERE m.rollout_id = $1 AND m.position > $2 ORDER BY m.position LIMIT $3";
static const char sql_unsettled[] =
    MEMBER_SELECT "WHERE m.rollout_id = $1 AND m.position > $2 AND m.state <> 'pending' "
                  "AND m.state <> 'upgraded' ORDER BY m.position LIMIT $3";

static const pv__list_spec member_spec = {sizeof(pv_store_rollout_member), read_member, free_member,
                                          1};

/* One page of members by position from sql (sql_members or sql_unsettled). */
static int member_page(pv_store *s, const char *sql, int64_t id, pv_store_page *page,
                       pv_store_rollout_member **rows, size_t *n, pv_error *err)
{
    int64_t after = 0;
    int rc = pv__page_after_int(page, &after, err);
    if (rc != 0)
        return rc;
    if (page->after[0] == '\0')
        after = -1; /* positions start at 0 */
    return pv__list(s, &member_spec, sql,
                    PV_ARGS(PV_I(id), PV_I(after), PV_I((int64_t)pv__page_limit(page) + 1)), page,
                    (void **)rows, n, err);
}

int pv_store_rollout_members(pv_store *s, int64_t id, pv_store_page *page,
                             pv_store_rollout_member **rows, size_t *n, pv_error *err)
{
    return member_page(s, sql_members, id, page, rows, n, err);
}

int pv_store_rollout_unsettled(pv_store *s, int64_t id, pv_store_page *page,
                               pv_store_rollout_member **rows, size_t *n, pv_error *err)
{
    return member_page(s, sql_unsettled, id, page, rows, n, err);
}
