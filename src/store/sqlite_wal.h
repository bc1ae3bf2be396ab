/*
 * sqlite_wal.h — WAL checkpoints off the threads that commit (issue 18).
 *
 * By default SQLite checkpoints inside the commit that takes the WAL past 1 000
 * pages: whichever serving loop happens to commit then also copies the WAL back
 * into the database and syncs it (9 % of a cold answer's CPU at 1 000 000 devices,
 * and a latency spike for every request that loop holds). Instead, every handle
 * the SQLite backend opens gets a WAL hook that, past WAL_SOFT_PAGES, asks one
 * background thread of the process to run a PASSIVE checkpoint on its own
 * connection (PASSIVE: it never waits for, nor blocks, a reader or the writer).
 * The committing thread only signals. The bound on the WAL's growth: SQLite
 * starts the WAL over from its beginning only when a write begins with every
 * frame already copied back, which a checkpointer running beside a steady
 * stream of commits is always a little short of. So past WAL_HARD_PAGES (4
 * times the soft threshold, ~16 MB of 4 KB pages) the committing thread runs
 * the PASSIVE checkpoint itself, as SQLite would (after waiting for a
 * background one still running): cheap, since the background one has copied
 * all but the last few frames, and the next write restarts the WAL. So the WAL
 * holds at most 4 000 pages plus the commits made while one checkpoint runs. As with SQLite's own checkpoints, a reader that keeps an old snapshot
 * open keeps the WAL from being reused until it ends.
 *
 * The thread is started by the first request and stopped (joined, its connection
 * closed) when the process's last SQLite handle closes (sqlite.c's live_handles).
 */
#ifndef PV_STORE_SQLITE_WAL_H
#define PV_STORE_SQLITE_WAL_H

#include <sqlite3.h>

/* Installs the WAL hook on db, a connection to the file at path; path must
 * outlive the connection (the handle's own copy). */
void pv__sqlite_wal_attach(sqlite3 *db, const char *path);

/* Stops the checkpointer thread, if running: called when the process's last
 * SQLite handle has closed. */
void pv__sqlite_wal_stop(void);

#endif
