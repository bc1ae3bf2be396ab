/* import_job.c — CSV device imports run by the server in slices; see import_job.h. */
#include "server/import_job.h"

#include "core/alloc.h"
#include "core/log.h"
#include "server/import_apply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int pv_import_job_create(pv_store *s, const char *actor, const char *file_name, pv_slice body,
                         int64_t now, pv_store_import_job *j, int64_t *running, pv_error *err)
{
    memset(j, 0, sizeof *j);
    *running = 0;
    pv_import_reader rd;
    int rc = pv_import_open(&rd, body, err);
    if (rc != 0)
        return rc;
    rc = pv_store_import_job_running(s, running, err);
    if (rc != 0)
        return rc;
    if (*running != 0)
        return pv_error_set(err, PV_EBUSY,
                            "import job %lld is running; one import runs at a time: upload "
                            "this file when it has finished",
                            (long long)*running);
    char name[32];
    pv_import_job_name(body, name);
    j->name = pv_strdup(name);
    j->file_name = pv_strdup(file_name ? file_name : "");
    j->actor = pv_strdup(actor);
    snprintf(j->state, sizeof j->state, "running");
    j->size = (int64_t)body.len;
    j->total = (int64_t)pv_import_count(&rd);
    j->created_at = j->updated_at = now;
    j->next_line = 0;
    rc = pv_store_import_job_create(s, j, body.ptr, body.len, err);
    if (rc != 0)
        pv_store_import_job_free(j);
    return rc;
}

void pv_import_runner_free(pv_import_runner *r)
{
    if (r->open)
        pv_import_seen_free(&r->seen);
    free(r->body);
    free(r->actor);
    char id[sizeof r->id];
    memcpy(id, r->id, sizeof id); /* the node's name and clock outlive the job */
    int64_t (*clock_ms)(void) = r->clock_ms;
    memset(r, 0, sizeof *r);
    memcpy(r->id, id, sizeof id);
    r->clock_ms = clock_ms;
}

/* Takes or renews r's lease of job: 1 when r holds it until now + PV_IMPORT_LEASE_S. */
static int lease(pv_import_runner *r, pv_store *s, int64_t job, int64_t now, pv_error *err)
{
    if (r->id[0] == '\0') {
        char host[64] = "";
        if (gethostname(host, sizeof host - 1) != 0)
            snprintf(host, sizeof host, "node");
        snprintf(r->id, sizeof r->id, "%s:%ld", host, (long)getpid());
    }
    bool held = false;
    int rc = pv_store_import_lease(s, job, r->id, now, now + PV_IMPORT_LEASE_S, &held, err);
    return rc != 0 ? rc : held ? 1 : 0;
}

/* Loads the oldest running job into r (the file, a reader past its header): 1, or 0 when no
 * job runs. A file whose header no longer reads (it did at upload) fails the job. */
static int load(pv_import_runner *r, pv_store *s, int64_t now, pv_error *err)
{
    int64_t id = 0;
    int rc = pv_store_import_job_running(s, &id, err);
    if (rc != 0 || id == 0)
        return rc;
    rc = lease(r, s, id, now, err); /* before the file is read: a standby node reads no file */
    if (rc <= 0)
        return rc;
    pv_store_import_job j;
    rc = pv_store_import_job_get(s, id, true, &j, err);
    if (rc != 0)
        return rc;
    r->job = id;
    r->at_line = j.next_line;
    r->errors = j.errors;
    r->actor = j.actor;
    r->body = j.body;
    r->body_len = j.body_len;
    j.actor = NULL;
    j.body = NULL;
    pv_error herr = {""};
    if (pv_import_open(&r->rd, pv_slice_make((const char *)r->body, r->body_len), &herr) != 0) {
        pv_store_import_job f = {.state = "failed", .next_line = j.next_line,
                                 .reason = herr.msg};
        pv_store_import_job_free(&j);
        rc = pv_store_import_advance(s, id, r->at_line, &f, now, err);
        pv_import_runner_free(r);
        return rc;
    }
    pv_import_seen_init(&r->seen, (size_t)j.total);
    r->open = true;
    pv_logf(PV_LOG_INFO, "import.leased", "job=%lld runner=%s line=%lld", (long long)id, r->id,
            (long long)r->at_line);
    if (r->at_line > 0)
        pv_logf(PV_LOG_INFO, "import.resumed", "job=%lld line=%lld", (long long)id,
                (long long)r->at_line);
    pv_store_import_job_free(&j);
    return 1;
}

static int64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int add_error(pv_store *s, int64_t job, size_t line, const char *mac, const char *field,
                     const char *msg, pv_error *err)
{
    pv_store_import_error e = {.line = (int64_t)line};
    /* the MAC as the file wrote it (the report is read beside the file), cut to the column */
    snprintf(e.mac, sizeof e.mac, "%s", mac ? mac : "");
    snprintf(e.field, sizeof e.field, "%s", field);
    snprintf(e.reason, sizeof e.reason, "%s", msg);
    return pv_store_import_error_add(s, job, &e, err);
}

/* The audit entry of a finished job, by the person who uploaded it. */
static int audit_finished(pv_store *s, const pv_import_runner *r, const pv_store_import_job *b,
                          int64_t now, pv_error *err)
{
    pv_store_import_job j;
    int rc = pv_store_import_job_get(s, r->job, false, &j, err);
    if (rc != 0)
        return rc;
    char detail[400], subject[48];
    snprintf(detail, sizeof detail,
             "{\"created\":%lld,\"errors\":%lld,\"file\":\"%s\",\"rows\":%lld,\"state\":\"%s\","
             "\"unchanged\":%lld,\"updated\":%lld}",
             (long long)j.created, (long long)j.errors, j.name, (long long)j.done_rows, b->state,
             (long long)j.unchanged, (long long)j.updated);
    snprintf(subject, sizeof subject, "import:%lld", (long long)r->job);
    pv_store_audit a = {.at = now,
                        .actor = r->actor,
                        .action = "device.import_job.finished",
                        .subject = subject,
                        .detail = detail};
    rc = pv_store_audit_add(s, &a, NULL, err);
    pv_store_import_job_free(&j);
    return rc;
}

/* Reads and applies rows into b until the slice's bounds: true at the end of the file. */
static int slice(pv_import_runner *r, pv_store *s, pv_import_apply *apply,
                 pv_store_import_job *b, bool *end, pv_error *err)
{
    int64_t (*clock_ms)(void) = r->clock_ms ? r->clock_ms : ms_now;
    int64_t start = clock_ms();
    size_t applied = 0;
    int rc = 0;
    pv_import_row row;
    *end = false;
    while (rc == 0 && applied < PV_IMPORT_SLICE_ROWS) {
        if (pv_import_next(&r->rd, &row) != 1) {
            *end = true;
            break;
        }
        const char *field = NULL;
        char msg[300];
        const char *mac = row.field[PV_IMPORT_MAC];
        bool fault = pv_import_fault(&r->seen, &row, &field, msg, sizeof msg);
        if ((int64_t)row.line >= r->at_line) { /* before it: read again for the MACs seen */
            applied++;
            b->done_rows++;
            pv_import_outcome out = PV_IMPORT_REFUSED;
            if (!fault)
                rc = pv_import_apply_row(apply, mac, row.field[PV_IMPORT_MODEL],
                                         row.field[PV_IMPORT_ACCOUNT],
                                         row.field[PV_IMPORT_SERIAL], &out, &field, msg,
                                         sizeof msg, err);
            int64_t *count[] = {&b->created, &b->updated, &b->unchanged, &b->errors};
            if (rc == 0)
                *count[out] += 1;
            if (rc == 0 && out == PV_IMPORT_REFUSED && r->errors++ < PV_IMPORT_ERRORS_KEPT)
                rc = add_error(s, r->job, row.line, mac, field, msg, err);
        }
        pv_import_row_free(&row);
        if (clock_ms() - start >= PV_IMPORT_SLICE_MS)
            break;
    }
    /* A slice that ran out of time while still reading the rows before the checkpoint (a
     * resumed job reads the file again from its start) leaves the checkpoint where it was:
     * moved back, the rows after it would be applied and counted twice. */
    b->next_line = (int64_t)r->rd.line > r->at_line ? (int64_t)r->rd.line : r->at_line;
    return rc;
}

int pv_import_runner_step(pv_import_runner *r, pv_store *s, const char *known_models,
                          pv_error *err)
{
    int64_t now = (int64_t)time(NULL), t0 = ms_now();
    if (r->job == 0) {
        int rc = load(r, s, now, err);
        if (rc <= 0)
            return rc;
    } else {
        int rc = lease(r, s, r->job, now, err); /* renewed before the work, not only after */
        if (rc <= 0) {
            if (rc == 0)
                pv_logf(PV_LOG_WARN, "import.lease_lost", "job=%lld runner=%s line=%lld",
                        (long long)r->job, r->id, (long long)r->at_line);
            pv_import_runner_free(r);
            return rc;
        }
    }
    pv_import_apply apply = {.store = s, .known_models = known_models, .now = now};
    pv_store_import_job b = {.state = "running"};
    bool end = false;
    int rc = pv_store_begin(s, err);
    if (rc == 0)
        rc = slice(r, s, &apply, &b, &end, err);
    pv_import_apply_free(&apply);
    if (end)
        snprintf(b.state, sizeof b.state, "done");
    if (rc == 0) { /* still ours as the slice commits: else another node has the job */
        rc = lease(r, s, r->job, now, err);
        if (rc == 0)
            rc = pv_error_set(err, PV_ECONFLICT,
                              "import job %lld: its lease went to another node at line %lld",
                              (long long)r->job, (long long)r->at_line);
        else if (rc == 1)
            rc = 0;
    }
    if (rc == 0)
        rc = pv_store_import_advance(s, r->job, r->at_line, &b, now, err);
    if (rc == 0 && end)
        rc = audit_finished(s, r, &b, now, err);
    if (rc == 0)
        rc = pv_store_commit(s, err);
    if (rc != 0) {
        pv_store_rollback(s);
        pv_import_runner_free(r); /* read again from the store's checkpoint next time */
        return rc;
    }
    r->at_line = b.next_line;
    int64_t took = ms_now() - t0;
    if (took > 4 * PV_IMPORT_SLICE_MS) /* the loop waited that long: say so (a slow store) */
        pv_logf(PV_LOG_WARN, "import.slow_slice", "job=%lld line=%lld ms=%lld", (long long)r->job,
                (long long)b.next_line, (long long)took);
    if (end) {
        pv_logf(PV_LOG_INFO, "import.finished", "job=%lld lines=%lld errors=%lld",
                (long long)r->job, (long long)b.next_line, (long long)r->errors);
        pv_import_runner_free(r);
    }
    return 1;
}
