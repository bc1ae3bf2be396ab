/* store_imports.c — the rows of CSV device imports run by the server; see store_imports.h. */
#include "store/store_imports.h"

#include "core/alloc.h"
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOB_COLS                                                                                   \
    "id, name, file_name, actor, state, size, total, next_line, done_rows, created, updated, "    \
    "unchanged, errors, reason, created_at, updated_at, finished_at"

static void read_job(pv_store *s, pv__stmt *st, void *row)
{
    pv_store_import_job *j = row;
    j->id = pv__col_int(s, st, 0);
    j->name = pv__col_dup(s, st, 1);
    j->file_name = pv__col_dup(s, st, 2);
    j->actor = pv__col_dup(s, st, 3);
    pv__col_copy(s, st, 4, j->state, sizeof j->state);
    int64_t *ints[] = {&j->size,    &j->total,     &j->next_line, &j->done_rows, &j->created,
                       &j->updated, &j->unchanged, &j->errors};
    for (int i = 0; i < 8; i++)
        *ints[i] = pv__col_int(s, st, 5 + i);
    j->reason = pv__col_dup(s, st, 13);
    j->created_at = pv__col_int(s, st, 14);
    j->updated_at = pv__col_int(s, st, 15);
    j->finished_at = pv__col_int(s, st, 16);
}

void pv_store_import_job_free(pv_store_import_job *j)
{
    if (j == NULL)
        return;
    free(j->name);
    free(j->file_name);
    free(j->actor);
    free(j->reason);
    free(j->body);
    memset(j, 0, sizeof *j);
}

static void free_row(void *row)
{
    pv_store_import_job_free(row);
}

void pv_store_import_jobs_free(pv_store_import_job *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pv_store_import_job_free(&rows[i]);
    free(rows);
}

static const char sql_create[] =
    "INSERT INTO import_jobs (name, file_name, actor, size, total, next_line, created_at, "
    "updated_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $6) RETURNING id";
static const char sql_file[] = "INSERT INTO import_files (job_id, body) VALUES ($1, $2)";

int pv_store_import_job_create(pv_store *s, pv_store_import_job *j, const void *body, size_t len,
                               pv_error *err)
{
    int rc = pv__int(s, sql_create,
                     PV_ARGS(PV_T(j->name), PV_T(j->file_name ? j->file_name : ""),
                             PV_T(j->actor), PV_I((int64_t)len), PV_I(j->total),
                             PV_I(j->created_at)),
                     &j->id, err);
    if (rc == 0)
        rc = pv__exec(s, sql_file, PV_ARGS(PV_I(j->id), PV_B(body, len)), NULL, err);
    return rc == 0 ? 0 : pv__wrap(err, rc, "import job");
}

static const char sql_get[] = "SELECT " JOB_COLS " FROM import_jobs WHERE id = $1";
/* the file only when asked: a poll of the job's progress reads a few numbers */
static const char sql_get_body[] = "SELECT " JOB_COLS ", body FROM import_jobs "
                                   "LEFT JOIN import_files ON job_id = id WHERE id = $1";

int pv_store_import_job_get(pv_store *s, int64_t id, bool with_body, pv_store_import_job *out,
                            pv_error *err)
{
    memset(out, 0, sizeof *out);
    pv__stmt *st = NULL;
    int rc = pv__query(s, with_body ? sql_get_body : sql_get, PV_ARGS(PV_I(id)), &st, err);
    if (rc == 0)
        rc = pv__next(s, st, err);
    if (rc == 0)
        return pv_error_set(err, PV_ENOENT, "import job %lld: no such job", (long long)id);
    if (rc < 0)
        return rc;
    read_job(s, st, out);
    if (with_body) {
        size_t len = 0;
        const void *p = pv__col_blob(s, st, 17, &len);
        out->body = pv_malloc(len + 1);
        if (len > 0)
            memcpy(out->body, p, len);
        out->body[len] = '\0';
        out->body_len = len;
    }
    pv__done(s, st);
    return 0;
}

static const char sql_running[] =
    "SELECT COALESCE(MIN(id), 0) FROM import_jobs WHERE state = 'running'";

int pv_store_import_job_running(pv_store *s, int64_t *id, pv_error *err)
{
    return pv__int(s, sql_running, PV_NOARGS, id, err);
}

static const pv__list_spec job_list = {sizeof(pv_store_import_job), read_job, free_row, 0};
static const char sql_list[] =
    "SELECT " JOB_COLS " FROM import_jobs WHERE (CAST($1 AS BIGINT) = 0 OR id < CAST($1 AS "
    "BIGINT)) ORDER BY id DESC LIMIT $2";

int pv_store_import_job_list(pv_store *s, pv_store_page *page, pv_store_import_job **rows,
                             size_t *n, pv_error *err)
{
    int64_t after = 0;
    int rc = pv__page_after_int(page, &after, err);
    if (rc != 0)
        return rc;
    return pv__list(s, &job_list, sql_list,
                    PV_ARGS(PV_I(after), PV_I((int64_t)pv__page_limit(page) + 1)), page,
                    (void **)rows, n, err);
}

static const char sql_error_add[] =
    "INSERT INTO import_errors (job_id, line, mac, field, reason) VALUES ($1, $2, $3, $4, $5) "
    "ON CONFLICT DO NOTHING";

int pv_store_import_error_add(pv_store *s, int64_t job, const pv_store_import_error *e,
                              pv_error *err)
{
    return pv__exec(s, sql_error_add,
                    PV_ARGS(PV_I(job), PV_I(e->line), PV_T(e->mac), PV_T(e->field),
                            PV_T(e->reason)),
                    NULL, err);
}

static const char sql_error_list[] = "SELECT line, mac, field, reason FROM import_errors "
                                     "WHERE job_id = $1 AND line > $2 ORDER BY line LIMIT $3";

int pv_store_import_error_list(pv_store *s, int64_t job, int64_t after, size_t limit,
                               pv_store_import_error **rows, size_t *n, pv_error *err)
{
    *rows = NULL;
    *n = 0;
    size_t cap = 0;
    pv__stmt *st = NULL;
    int rc = pv__query(s, sql_error_list, PV_ARGS(PV_I(job), PV_I(after), PV_I((int64_t)limit)),
                       &st, err);
    while (rc == 0 && (rc = pv__next(s, st, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *rows = pv_reallocarray(*rows, cap, sizeof **rows);
        }
        pv_store_import_error *e = &(*rows)[(*n)++];
        e->line = pv__col_int(s, st, 0);
        pv__col_copy(s, st, 1, e->mac, sizeof e->mac);
        pv__col_copy(s, st, 2, e->field, sizeof e->field);
        pv__col_copy(s, st, 3, e->reason, sizeof e->reason);
        rc = 0;
    }
    if (rc < 0) {
        free(*rows);
        *rows = NULL;
        *n = 0;
        return rc;
    }
    return 0;
}

static const char sql_advance[] =
    "UPDATE import_jobs SET next_line = $3, done_rows = done_rows + $4, created = created + $5, "
    "updated = updated + $6, unchanged = unchanged + $7, errors = errors + $8, state = $9, "
    "reason = $10, updated_at = $11, finished_at = $12 "
    "WHERE id = $1 AND next_line = $2 AND state = 'running'";

int pv_store_import_advance(pv_store *s, int64_t job, int64_t from,
                            const pv_store_import_job *b, int64_t now, pv_error *err)
{
    bool finished = strcmp(b->state, "running") != 0;
    int64_t changed = 0;
    int rc = pv__exec(s, sql_advance,
                      PV_ARGS(PV_I(job), PV_I(from), PV_I(b->next_line), PV_I(b->done_rows),
                              PV_I(b->created), PV_I(b->updated), PV_I(b->unchanged),
                              PV_I(b->errors), PV_T(b->state), PV_T(b->reason ? b->reason : ""),
                              PV_I(now), PV_IZ(finished ? now : 0)),
                      &changed, err);
    if (rc == 0 && changed == 0)
        return pv_error_set(err, PV_ECONFLICT,
                            "import job %lld: no longer running at line %lld (another run moved "
                            "it on)",
                            (long long)job, (long long)from);
    return rc;
}

static const char sql_lease[] =
    "UPDATE import_jobs SET runner = $2, lease_until = $4 "
    "WHERE id = $1 AND state = 'running' AND (lease_until < $3 OR runner = $2)";

int pv_store_import_lease(pv_store *s, int64_t job, const char *runner, int64_t now,
                          int64_t until, bool *held, pv_error *err)
{
    int64_t changed = 0;
    int rc = pv__exec(s, sql_lease, PV_ARGS(PV_I(job), PV_T(runner), PV_I(now), PV_I(until)),
                      &changed, err);
    *held = rc == 0 && changed == 1;
    return rc;
}
