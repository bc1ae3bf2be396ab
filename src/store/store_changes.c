/* store_changes.c — the render change log and the process's write epoch; see store.h
 * ("what cached profiles must forget") and schema step 7 in migrations.c. */
#include "store/store.h"

#include "store/store_int.h"

#include <stdatomic.h>

static atomic_ullong write_epoch;

void pv__wrote_committed(pv_store *s)
{
    if (s->wrote && !s->quiet)
        atomic_fetch_add_explicit(&write_epoch, 1, memory_order_release);
    s->wrote = false;
}

uint64_t pv_store_write_epoch(void)
{
    return atomic_load_explicit(&write_epoch, memory_order_acquire);
}

void pv_store_quiet_writes(pv_store *s, bool quiet)
{
    s->quiet = quiet;
}

static const char sql_changes[] =
    "SELECT seq, scope FROM render_changes WHERE seq > $1 ORDER BY seq LIMIT $2";
static const char sql_stamp[] = "SELECT seq FROM render_stamp WHERE id = 1";
/* The newest row stays: it is what tells a reader where the log stands. Only the $2 oldest
 * rows are looked at (rows are appended in time order): asked every second, a log of young
 * rows — 100 000 of them after a bulk import — costs a walk of $2 primary-key entries, not a
 * scan of every row's `at` (no index on it; the scan was 9 % of a busy server's CPU, issue
 * 18). A row out of order (two nodes' clocks) waits for the rows before it to go. */
static const char sql_prune[] =
    "DELETE FROM render_changes WHERE seq IN (SELECT seq FROM (SELECT seq, at FROM "
    "render_changes ORDER BY seq LIMIT $2) AS oldest WHERE at < $1 "
    "AND seq < (SELECT MAX(seq) FROM render_changes))";

int pv_store_render_changes(pv_store *s, int64_t after, size_t limit, pv_store_change_fn fn,
                            void *ctx, int64_t *last, bool *gap, pv_error *err)
{
    pv__stmt *st = NULL;
    *last = after;
    *gap = false;
    int rc = pv__query(s, sql_changes, PV_ARGS(PV_I(after), PV_I(limit)), &st, err);
    while (rc == 0 && (rc = pv__next(s, st, err)) == 1) {
        int64_t seq = pv__col_int(s, st, 0);
        char scope[160];
        pv__col_copy(s, st, 1, scope, sizeof scope);
        if (*last == after && seq != after + 1)
            *gap = true; /* numbers have no holes (step 7): these rows were pruned */
        *last = seq;
        fn(ctx, seq, scope[0] ? scope : "global");
        rc = 0;
    }
    return rc;
}

int pv_store_render_stamp(pv_store *s, int64_t *seq, pv_error *err)
{
    return pv__int(s, sql_stamp, PV_NOARGS, seq, err);
}

int pv_store_render_changes_prune(pv_store *s, int64_t before, int64_t limit, int64_t *n,
                                  pv_error *err)
{
    return pv__exec(s, sql_prune, PV_ARGS(PV_I(before), PV_I(limit)), n, err);
}
