/*
 * sqlite.h — the SQLite backend of the store (the default: one file in the
 * data directory, nothing to administer).
 *
 * One connection per pv_store. On open the connection is set to:
 *   journal_mode=WAL     readers never block the writer nor each other, so
 *                        every server thread opens its own handle on the file;
 *   synchronous=NORMAL   a commit is durable against a process crash (kill -9)
 *                        and the file is never corrupted by a power loss; the
 *                        last transactions before a power loss may be lost;
 *   foreign_keys=ON      the schema's references are enforced;
 *   busy_timeout=5000    a writer waits up to 5 s for another one instead of
 *                        failing at once (transactions start with BEGIN
 *                        IMMEDIATE so that the wait happens up front).
 * WAL checkpoints run on a background thread, not inside the commit that
 * crosses the WAL's threshold (sqlite_wal.h).
 * Prepared statements are cached per connection for its whole life. The first
 * handle a process opens reads the file once, sequentially, into the page
 * cache when it fits easily in memory (up to 1 GB: sqlite.c "Warming the page
 * cache"), so that a restarted server does not answer its first minutes from
 * the disk one random page at a time.
 */
#ifndef PV_STORE_SQLITE_H
#define PV_STORE_SQLITE_H

#include "core/error.h"

typedef struct pv_store pv_store;

/* Opens (creating) the database file at path into s (used by pv_store_open). */
int pv__sqlite_open(const char *path, pv_store *s, pv_error *err);

#endif
