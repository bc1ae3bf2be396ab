/* store_notify.c — device action jobs and their outcomes (spec 5.5); see store.h. */
#include "store/store.h"

#include "core/alloc.h"
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOB_COLS "id, action, subject, actor, total, rate, created_at, finished_at"
#define OUTCOME_COLS "mac, outcome, status, attempts, challenged, via, finished_at, job_id"

static void read_job(pv_store *s, pv__stmt *st, void *row)
{
    pv_store_notify_job *j = row;
    j->id = pv__col_int(s, st, 0);
    pv__col_copy(s, st, 1, j->action, sizeof j->action);
    pv__col_copy(s, st, 2, j->subject, sizeof j->subject);
    pv__col_copy(s, st, 3, j->actor, sizeof j->actor);
    j->total = pv__col_int(s, st, 4);
    j->rate = pv__col_int(s, st, 5);
    j->created_at = pv__col_int(s, st, 6);
    j->finished_at = pv__col_int(s, st, 7);
}

static void read_outcome(pv_store *s, pv__stmt *st, void *row)
{
    pv_store_notify_outcome *o = row;
    pv__col_copy(s, st, 0, o->mac, sizeof o->mac);
    pv__col_copy(s, st, 1, o->outcome, sizeof o->outcome);
    o->status = pv__col_int(s, st, 2);
    o->attempts = pv__col_int(s, st, 3);
    o->challenged = pv__col_int(s, st, 4) != 0;
    pv__col_copy(s, st, 5, o->via, sizeof o->via);
    o->finished_at = pv__col_int(s, st, 6);
    o->job_id = pv__col_int(s, st, 7);
}

static void free_nothing(void *row)
{
    (void)row;
}

static const char sql_job_insert[] =
    "INSERT INTO notify_jobs (action, subject, actor, total, rate, created_at, finished_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
static const char sql_outcome_insert[] =
    "INSERT INTO notify_outcomes (job_id, mac) VALUES ($1, $2) ON CONFLICT DO NOTHING";

int pv_store_notify_job_create(pv_store *s, pv_store_notify_job *j, const char (*macs)[13],
                               size_t n, pv_error *err)
{
    int rc = pv_store_begin(s, err);
    if (rc != 0)
        return rc;
    /* a job of no device is finished when it starts */
    rc = pv__int(s, sql_job_insert,
                 PV_ARGS(PV_T(j->action), PV_T(j->subject), PV_T(j->actor), PV_I(j->total),
                         PV_I(j->rate), PV_I(j->created_at),
                         PV_IZ(n == 0 ? j->created_at : 0)),
                 &j->id, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = pv__exec(s, sql_outcome_insert, PV_ARGS(PV_I(j->id), PV_T(macs[i])), NULL, err);
    if (rc != 0) {
        pv_store_rollback(s);
        return pv__wrap(err, rc, "notify job");
    }
    return pv_store_commit(s, err);
}

static const char sql_outcome_set[] =
    "UPDATE notify_outcomes SET outcome = $3, status = $4, attempts = $5, challenged = $6, "
    "via = $7, finished_at = $8 WHERE job_id = $1 AND mac = $2";
static const char sql_job_pending[] =
    "SELECT COUNT(*) FROM notify_outcomes WHERE job_id = $1 AND outcome = 'pending'";
static const char sql_job_finish[] =
    "UPDATE notify_jobs SET finished_at = $2 WHERE id = $1 AND finished_at IS NULL";

int pv_store_notify_outcomes_set(pv_store *s, int64_t job, const pv_store_notify_outcome *rows,
                                 size_t n, int64_t now, pv_error *err)
{
    int rc = pv_store_begin(s, err);
    if (rc != 0)
        return rc;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const pv_store_notify_outcome *o = &rows[i];
        rc = pv__exec(s, sql_outcome_set,
                      PV_ARGS(PV_I(job), PV_T(o->mac), PV_T(o->outcome), PV_I(o->status),
                              PV_I(o->attempts), PV_I(o->challenged), PV_T(o->via),
                              PV_I(o->finished_at ? o->finished_at : now)),
                      NULL, err);
    }
    int64_t pending = 0;
    if (rc == 0)
        rc = pv__int(s, sql_job_pending, PV_ARGS(PV_I(job)), &pending, err);
    if (rc == 0 && pending == 0)
        rc = pv__exec(s, sql_job_finish, PV_ARGS(PV_I(job), PV_I(now)), NULL, err);
    if (rc != 0) {
        pv_store_rollback(s);
        return pv__wrap(err, rc, "notify job %lld", (long long)job);
    }
    return pv_store_commit(s, err);
}

static const char sql_interrupt[] = "UPDATE notify_outcomes SET outcome = 'interrupted', "
                                    "finished_at = $1 WHERE outcome = 'pending'";
static const char sql_interrupt_jobs[] =
    "UPDATE notify_jobs SET finished_at = $1 WHERE finished_at IS NULL";

int pv_store_notify_interrupted(pv_store *s, int64_t now, int64_t *count, pv_error *err)
{
    int rc = pv_store_begin(s, err);
    if (rc != 0)
        return rc;
    rc = pv__exec(s, sql_interrupt, PV_ARGS(PV_I(now)), count, err);
    if (rc == 0)
        rc = pv__exec(s, sql_interrupt_jobs, PV_ARGS(PV_I(now)), NULL, err);
    if (rc != 0) {
        pv_store_rollback(s);
        return pv__wrap(err, rc, "notify jobs");
    }
    return pv_store_commit(s, err);
}

static const char sql_job_get[] = "SELECT " JOB_COLS " FROM notify_jobs WHERE id = $1";

int pv_store_notify_job_get(pv_store *s, int64_t id, pv_store_notify_job *out, pv_error *err)
{
    int rc = pv__get(s, sql_job_get, PV_ARGS(PV_I(id)), read_job, out, sizeof *out, err);
    if (rc == PV_ENOENT)
        return pv_error_set(err, PV_ENOENT, "job %lld: no such job", (long long)id);
    return rc;
}

static const char sql_job_counts[] = "SELECT outcome, COUNT(*) FROM notify_outcomes "
                                     "WHERE job_id = $1 GROUP BY outcome ORDER BY outcome";

int pv_store_notify_job_counts(pv_store *s, int64_t id,
                               void (*fn)(void *data, const char *outcome, int64_t count),
                               void *data, pv_error *err)
{
    pv__stmt *st = NULL;
    int rc = pv__query(s, sql_job_counts, PV_ARGS(PV_I(id)), &st, err);
    while (rc == 0 && (rc = pv__next(s, st, err)) == 1) {
        char name[16];
        pv__col_copy(s, st, 0, name, sizeof name);
        fn(data, name, pv__col_int(s, st, 1));
        rc = 0;
    }
    return rc < 0 ? rc : 0;
}

static const pv__list_spec job_list = {sizeof(pv_store_notify_job), read_job, free_nothing, 0};
/* newest first: the cursor is the smallest id shown */
static const char sql_job_list[] = "SELECT " JOB_COLS " FROM notify_jobs "
                                   "WHERE (CAST($1 AS BIGINT) = 0 OR id < CAST($1 AS BIGINT)) ORDER BY id DESC LIMIT $2";

int pv_store_notify_job_list(pv_store *s, pv_store_page *page, pv_store_notify_job **rows,
                             size_t *n, pv_error *err)
{
    int64_t after = 0;
    int rc = pv__page_after_int(page, &after, err);
    if (rc != 0)
        return rc;
    return pv__list(s, &job_list, sql_job_list,
                    PV_ARGS(PV_I(after), PV_I((int64_t)pv__page_limit(page) + 1)), page,
                    (void **)rows, n, err);
}

static const pv__list_spec outcome_list = {sizeof(pv_store_notify_outcome), read_outcome,
                                           free_nothing, 0};
static const pv__list_spec device_outcome_list = {sizeof(pv_store_notify_outcome), read_outcome,
                                                  free_nothing, 7};
static const char sql_outcome_list[] = "SELECT " OUTCOME_COLS " FROM notify_outcomes "
                                       "WHERE job_id = $1 AND mac > $2 ORDER BY mac LIMIT $3";
static const char sql_device_outcomes[] =
    "SELECT " OUTCOME_COLS " FROM notify_outcomes "
    "WHERE mac = $1 AND (CAST($2 AS BIGINT) = 0 OR job_id < CAST($2 AS BIGINT)) ORDER BY job_id DESC LIMIT $3";

int pv_store_notify_outcome_list(pv_store *s, int64_t job, const char *mac, pv_store_page *page,
                                 pv_store_notify_outcome **rows, size_t *n, pv_error *err)
{
    int64_t limit = (int64_t)pv__page_limit(page) + 1;
    if (job > 0)
        return pv__list(s, &outcome_list, sql_outcome_list,
                        PV_ARGS(PV_I(job), PV_T(page->after), PV_I(limit)), page, (void **)rows,
                        n, err);
    char m[13];
    int64_t after = 0;
    int rc = pv_store_mac_normalize(mac ? mac : "", m, err);
    if (rc == 0)
        rc = pv__page_after_int(page, &after, err);
    if (rc != 0)
        return rc;
    return pv__list(s, &device_outcome_list, sql_device_outcomes,
                    PV_ARGS(PV_T(m), PV_I(after), PV_I(limit)), page, (void **)rows, n, err);
}
