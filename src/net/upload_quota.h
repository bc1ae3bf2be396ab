/*
 * upload_quota.h — how much the upload directory may hold: total bytes, total
 * files, and files per source address, so that no client (nor a crowd of
 * them) fills the disk with reports under ever new names (spec 7.1 reports
 * are small and few per phone: one name per report rule).
 *
 * The fileserver owns one quota per upload directory and asks it before each
 * upload is renamed into place. Uploads are stored as "<source>-<name>"
 * (fileserver.h), so the source of a stored file is the part of its name
 * before the first '-'. The counts live in memory: they are read from the
 * directory once at init, kept up to date by the uploads, and read again from
 * the directory (at most once a second) when an upload would go over, so that
 * files an operator deleted or archived are given back without a restart.
 *
 * Thread-safe: the loops of the server share one quota (a mutex; uploads are
 * rare next to downloads).
 */
#ifndef PV_NET_UPLOAD_QUOTA_H
#define PV_NET_UPLOAD_QUOTA_H

#include "core/error.h"
#include "net/source_count.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pv_upload_limits {
    size_t max_bytes;              /* all stored uploads together; 0 = no limit */
    unsigned max_files;            /* stored uploads; 0 = no limit */
    unsigned max_files_per_source; /* stored uploads of one source address; 0 = no limit */
} pv_upload_limits;

/* Defaults: 256 MiB, 10 000 files, 32 files per source. */
pv_upload_limits pv_upload_limits_default(void);

typedef struct pv_upload_quota {
    pthread_mutex_t lock;
    int dir_fd; /* the upload directory (not owned) */
    pv_upload_limits limits;
    uint64_t bytes;
    unsigned files;
    pv_source_counts sources; /* stored files per source (net/source_count.h) */
    uint64_t scanned_ms; /* when the directory was last read */
} pv_upload_quota;

/* Reads the directory dir_fd once; fails only if it cannot be read. */
int pv_upload_quota_init(pv_upload_quota *q, int dir_fd, pv_upload_limits limits, pv_error *err);
void pv_upload_quota_free(pv_upload_quota *q);
/* New limits (SIGHUP); the counts stay. */
void pv_upload_quota_set_limits(pv_upload_quota *q, pv_upload_limits limits);

/* What one upload took, to give it back if storing it fails. */
typedef struct pv_upload_ticket {
    char source[64];
    uint64_t bytes, replaced_bytes;
    bool replaced;       /* a file of that name existed: no new file counted */
    const char *refusal; /* when refused: which limit, a static string */
} pv_upload_ticket;

/*
 * Accounts for storing bytes under name (replacing the file of that name if
 * one exists): 0 and the counts are taken (*ticket says what), or PV_ELIMIT
 * with err saying which limit is reached, and nothing is taken. now_ms: a
 * monotonic clock (the directory is read again when over, at most once a
 * second).
 */
int pv_upload_quota_take(pv_upload_quota *q, const char *name, uint64_t bytes, uint64_t now_ms,
                         pv_upload_ticket *ticket, pv_error *err);
/* The store failed after pv_upload_quota_take: give the counts back. */
void pv_upload_quota_give_back(pv_upload_quota *q, const pv_upload_ticket *ticket);

/* What is stored now (for tests and metrics). */
void pv_upload_quota_usage(pv_upload_quota *q, uint64_t *bytes, unsigned *files);

#endif
