/*
 * import_job.h — CSV device imports run by the server (issue 13: "CSV import with upload,
 * progress and a downloadable error report"), so an import goes on when the operator closes
 * the page that started it.
 *
 * The file is uploaded once (POST /api/v1/import-jobs, or the console's form) and kept in the
 * store with the job (store_imports.h, schema step 10): pv_import_job_create checks its header
 * (import.h), counts its rows and stores it; a job is "running" until its last row was read.
 * One job runs at a time per store: a second upload while one runs is refused (PV_EBUSY with
 * the running job), since two jobs would write the same devices in an order nobody chose.
 *
 * The runner applies the oldest running job in slices on the admin loop, so the loop keeps
 * answering between them: a slice reads at most PV_IMPORT_SLICE_ROWS rows or runs for at most
 * PV_IMPORT_SLICE_MS, applies them (import_apply.h) and records the file's own faults
 * (pv_import_fault: a malformed row, a MAC given twice) and the refused rows as errors, and
 * moves the job's checkpoint — all in one transaction, so after a crash either a slice and its
 * checkpoint are there or neither is. A restarted server resumes the job at its checkpoint once
 * its previous run's lease (below) has expired (the rows before it are read again only to know
 * the MACs already seen). When the last row is
 * read the job is done and one audit entry "device.import_job.finished" names the person who
 * uploaded it, with the counts.
 *
 * One runner at a time per job, across the nodes sharing a store: a runner holds a job's
 * lease (store_imports.h, schema step 11) for PV_IMPORT_LEASE_S seconds and renews it with
 * every slice, in the slice's transaction; another node's runner takes the job only once the
 * lease has expired. So a node that dies mid-job leaves it to another, which resumes it at
 * its checkpoint within PV_IMPORT_LEASE_S seconds (and its poll), and a node whose slice took
 * longer than the lease loses the job and rolls that slice back.
 *
 * Threads: everything here runs on the caller's thread with the caller's store handle (the
 * admin API's, on the admin loop). A runner belongs to one loop.
 */
#ifndef PV_SERVER_IMPORT_JOB_H
#define PV_SERVER_IMPORT_JOB_H

#include "core/buf.h"
#include "core/error.h"
#include "server/import.h"
#include "store/store.h"
#include "store/store_imports.h"

#include <stdbool.h>
#include <stdint.h>

#define PV_IMPORT_SLICE_ROWS 500
#define PV_IMPORT_SLICE_MS 50
/* Error rows a job keeps (its error count goes on): bounds the report's size. */
#define PV_IMPORT_ERRORS_KEPT 10000
/* How long a runner holds its job past its last slice: long enough for a slow slice on a
 * loaded store (a slice is at most PV_IMPORT_SLICE_MS of work), short enough that a job
 * whose node died goes on elsewhere soon (docs/api.md "Import jobs"). */
#define PV_IMPORT_LEASE_S 10

/* Checks the file (header, size) and stores the job as actor's, in the caller's transaction
 * (the caller adds its audit entry and commits): 0 with j filled, PV_EFORMAT (the header's
 * problem), PV_EBUSY (*running: the job that runs now) or the store's error. */
int pv_import_job_create(pv_store *s, const char *actor, const char *file_name, pv_slice body,
                         int64_t now, pv_store_import_job *j, int64_t *running, pv_error *err);

typedef struct pv_import_runner {
    char id[96];     /* who holds the lease: "host:pid" when left empty (kept by _free) */
    int64_t job;     /* the job held in memory, 0: none */
    int64_t at_line; /* its checkpoint as this runner left it */
    int64_t errors;  /* its errors so far (PV_IMPORT_ERRORS_KEPT of them are kept) */
    char *actor;
    unsigned char *body;
    size_t body_len;
    pv_import_reader rd;
    pv_import_seen seen;
    bool open;
    int64_t (*clock_ms)(void); /* a monotonic clock in ms for the slice's bound; NULL: the
                                  system's (a test's clock makes every slice end at once) */
} pv_import_runner;

/* One slice of the oldest running job: 1 when rows are left (call again soon: after the
 * loop's other work), 0 when no job runs, or an error (store failure: try again later;
 * the slice was rolled back). known_models is [provisioning] known_models or NULL. */
int pv_import_runner_step(pv_import_runner *r, pv_store *s, const char *known_models,
                          pv_error *err);
void pv_import_runner_free(pv_import_runner *r);

#endif
