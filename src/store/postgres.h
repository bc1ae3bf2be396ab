/*
 * postgres.h — the PostgreSQL backend of the store (libpq), for providers
 * whose servers outgrow one node: every node opens the same database.
 *
 * One libpq connection per pv_store, like one SQLite handle per thread. The
 * connection string is any libpq one (postgres://, postgresql:// URL or a
 * `key=value` keyword string); provisor adds, unless the string sets them,
 * connect_timeout=10 (a dead server fails the open in bounded time) and
 * application_name=provisor (it shows in pg_stat_activity). After connecting:
 *   lock_timeout=5s       the counterpart of SQLite's busy_timeout: a writer
 *                         waits at most 5 s for another one (PV_EBUSY after);
 *   client_encoding=UTF8  the store's text is UTF-8 on every backend.
 *
 * Transactions behave as SQLite's BEGIN IMMEDIATE: the outermost BEGIN takes
 * the transaction-scoped advisory lock PV_PG_LOCK of the database, so one
 * explicit transaction writes at a time across all nodes, and the "read the
 * version, then act" steps of the entity code and of migrations (two nodes
 * starting together) cannot interleave. Single statements outside a
 * transaction run concurrently, as they are atomic on their own.
 *
 * Statements are prepared once per connection (PQprepare, named pvN) and
 * cached by the address of their static SQL text; parameters go as text,
 * blobs as binary (bytea); results come as text, bytea decoded from its hex
 * form. Errors carry PostgreSQL's message and SQLSTATE (see the map in
 * postgres.c). Backup is refused: pg_dump is the tool (docs/store.md).
 *
 * A lost connection (server restart, network cut, idle-session kill) is
 * mended in place: when a statement fails and the connection is bad, and
 * the handle is not inside a transaction, the connection is reset with the
 * same parameters (PQreset, bounded by connect_timeout), the session
 * settings are applied again, statements are prepared again on first use,
 * and the statement runs once more. Inside a transaction the failure is
 * PV_ESTORE (the transaction died with the connection); the first statement
 * after the rollback reconnects. A failed reconnect is PV_ESTORE
 * ("PostgreSQL connection lost: ...; reconnect failed: ...") and is tried
 * again by a later call; attempts are spaced across the process (one per
 * 10 ms, longer after slow attempts, at most a second), so a dead server
 * gets no storm and the first call after it is back succeeds.
 */
#ifndef PV_STORE_POSTGRES_H
#define PV_STORE_POSTGRES_H

#include "core/error.h"

#include <stdbool.h>

typedef struct pv_store pv_store;

/* The advisory lock key of the store's transactions ("provisor" in ASCII). */
#define PV_PG_LOCK 0x70726f7669736f72LL

/* True when url names a PostgreSQL database: a postgres:// or postgresql://
 * URL, or a libpq keyword string (`host=... dbname=...`: a word and '='
 * before any '/'). */
bool pv__pg_url(const char *url);

/* Connects to url into s (used by pv_store_open). */
int pv__pg_open(const char *url, pv_store *s, pv_error *err);

#endif
