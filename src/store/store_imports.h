/*
 * store_imports.h — the rows of CSV device imports run by the server (issue 13, schema step
 * 10): a job with the uploaded file, its checkpoint (the next line to apply) and its counts,
 * and one error row per rejected line. What a row means and how a file is read is the
 * server's (server/import_job.h, server/import.h); this file only reads and writes rows, with
 * one set of statements for both backends (docs/store.md).
 *
 * The checkpoint moves with a compare-and-set (pv_store_import_advance): a batch's device
 * writes, its errors and the new checkpoint commit together only while the job still stands
 * where the batch started, so a batch applied twice (two nodes sharing PostgreSQL, a restart
 * between the writes and the answer) is rolled back instead of counted twice.
 *
 * Ownership: every struct filled here owns its strings and the file; free with the _free.
 */
#ifndef PV_STORE_STORE_IMPORTS_H
#define PV_STORE_STORE_IMPORTS_H

#include "store/store.h"

#include <stdint.h>

typedef struct pv_store_import_job {
    int64_t id;
    char *name;      /* "csv-" and 16 hex digits of the file's SHA-256 (import.h) */
    char *file_name; /* as uploaded, for people ("" when not given) */
    char *actor;     /* who uploaded it: "login:ops", "token:deploy" */
    char state[12];  /* running, done, failed */
    int64_t size;    /* bytes of the file */
    int64_t total;   /* rows in the file (non-blank, non-comment lines after the header) */
    int64_t next_line, done_rows;
    int64_t created, updated, unchanged, errors;
    char *reason; /* why a failed job failed ("" otherwise) */
    int64_t created_at, updated_at, finished_at;
    unsigned char *body; /* the file: only from pv_store_import_job_get(.., with_body) */
    size_t body_len;
} pv_store_import_job;

void pv_store_import_job_free(pv_store_import_job *j);
void pv_store_import_jobs_free(pv_store_import_job *rows, size_t n);

/* Inserts j (name, file_name, actor, size, total, created_at; state running) with the file:
 * j->id is set. In the caller's transaction if one is open. */
int pv_store_import_job_create(pv_store *s, pv_store_import_job *j, const void *body, size_t len,
                               pv_error *err);
/* One job; with_body also reads the file. PV_ENOENT when there is no such job. */
int pv_store_import_job_get(pv_store *s, int64_t id, bool with_body, pv_store_import_job *out,
                            pv_error *err);
/* The oldest running job's id, 0 when none runs. */
int pv_store_import_job_running(pv_store *s, int64_t *id, pv_error *err);
/* Newest first, without the file; page->after is the last id shown. */
int pv_store_import_job_list(pv_store *s, pv_store_page *page, pv_store_import_job **rows,
                             size_t *n, pv_error *err);

/* One rejected line of a job (kept once per line: the first reason wins). */
typedef struct pv_store_import_error {
    int64_t line;
    char mac[40];
    char field[16];
    char reason[320];
} pv_store_import_error;

int pv_store_import_error_add(pv_store *s, int64_t job, const pv_store_import_error *e,
                              pv_error *err);
/* The errors of job after line `after`, in line order, at most limit of them. */
int pv_store_import_error_list(pv_store *s, int64_t job, int64_t after, size_t limit,
                               pv_store_import_error **rows, size_t *n, pv_error *err);

/* Takes or renews the lease of a running job for `runner` until `until` (a second, as now):
 * one UPDATE whose WHERE holds only while the lease has expired (lease_until < now) or is
 * runner's already, so of two nodes asking at once one gets it (its row count says which,
 * on SQLite and PostgreSQL alike). *held: whether runner holds it now. In the caller's
 * transaction if one is open (the slice's: a renewal that fails rolls the slice back). */
int pv_store_import_lease(pv_store *s, int64_t job, const char *runner, int64_t now,
                          int64_t until, bool *held, pv_error *err);

/* Moves the checkpoint of a running job from `from` to j->next_line and adds the counts of
 * j (done_rows, created, updated, unchanged, errors are the batch's, added), in the caller's
 * transaction: PV_ECONFLICT when the job is no longer running at `from` (nothing changed).
 * A state other than "running" in j->state finishes the job (finished_at = now, reason). */
int pv_store_import_advance(pv_store *s, int64_t job, int64_t from,
                            const pv_store_import_job *batch, int64_t now, pv_error *err);

#endif
