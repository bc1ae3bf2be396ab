/* sqlite_wal.c — WAL checkpoints off the committing threads; see sqlite_wal.h. */
#include "store/sqlite_wal.h"

#include "core/alloc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define WAL_SOFT_PAGES 1000 /* SQLite's own default autocheckpoint threshold */
#define WAL_HARD_PAGES (4 * WAL_SOFT_PAGES)
#define QUEUE_MAX                                                                                  \
    8 /* distinct files waiting; a full queue drops the request (the hard bound holds) */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
/* Held while a checkpoint of this process runs: a committing thread past the
 * hard bound waits for the background one to finish, then completes it (SQLite
 * would answer it "busy" at once, and the WAL would grow while it ran). */
static pthread_mutex_t checkpointing = PTHREAD_MUTEX_INITIALIZER;
static pthread_t thread;
static bool running, stopping; /* lock */
static char *queue[QUEUE_MAX]; /* paths asking for a checkpoint (lock) */
static size_t queued;

/* The checkpointer's connection, kept to the last file it served so that a
 * busy store is not reopened for every checkpoint (only the thread uses it). */
static sqlite3 *ck_db;
static char *ck_path;

static void checkpoint(char *path)
{
    if (ck_path == NULL || strcmp(ck_path, path) != 0) {
        sqlite3_close(ck_db);
        free(ck_path);
        ck_db = NULL;
        ck_path = path;
        /* No CREATE: the file exists (a handle on it just committed). */
        if (sqlite3_open_v2(path, &ck_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK) {
            sqlite3_close(ck_db);
            ck_db = NULL;
            return;
        }
        /* A connection learns that the file is in WAL mode when it first reads
         * it; until then a checkpoint does nothing. */
        if (sqlite3_exec(ck_db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK) {
            sqlite3_close(ck_db);
            ck_db = NULL;
            return;
        }
    } else {
        free(path);
    }
    if (ck_db == NULL)
        return;
    pthread_mutex_lock(&checkpointing);
    /* A failure (busy, I/O) is retried on the next request. */
    (void)sqlite3_wal_checkpoint_v2(ck_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    pthread_mutex_unlock(&checkpointing);
}

static void *run(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (queued == 0 && !stopping)
            pthread_cond_wait(&wake, &lock);
        if (queued == 0)
            break; /* stopping, and nothing left to do */
        char *path = queue[--queued];
        pthread_mutex_unlock(&lock);
        checkpoint(path);
        pthread_mutex_lock(&lock);
    }
    pthread_mutex_unlock(&lock);
    sqlite3_close(ck_db);
    free(ck_path);
    ck_db = NULL;
    ck_path = NULL;
    return NULL;
}

/* A child forked while the thread ran (a test's writer, killed -9) has no thread
 * and may have copied either lock held: it starts afresh, with a thread of its
 * own on its first request. */
static void after_fork_child(void)
{
    pthread_mutex_init(&lock, NULL);
    pthread_mutex_init(&checkpointing, NULL);
    pthread_cond_init(&wake, NULL);
    running = stopping = false;
    queued = 0;   /* the parent's copies of the paths are not freed: a few bytes */
    ck_db = NULL; /* the parent's connection: never used nor closed here */
    ck_path = NULL;
}

static void register_fork_handler(void)
{
    (void)pthread_atfork(NULL, NULL, after_fork_child);
}

static void request(const char *path)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_fork_handler);
    pthread_mutex_lock(&lock);
    bool queue_it = !stopping && queued < QUEUE_MAX;
    for (size_t i = 0; queue_it && i < queued; i++)
        queue_it = strcmp(queue[i], path) != 0; /* already asked for */
    if (queue_it && !running) {
        running = pthread_create(&thread, NULL, run, NULL) == 0;
        queue_it = running; /* no thread: the hard bound still holds */
    }
    if (queue_it) {
        queue[queued++] = pv_strdup(path);
        pthread_cond_signal(&wake);
    }
    pthread_mutex_unlock(&lock);
}

static int on_commit(void *arg, sqlite3 *db, const char *schema, int pages)
{
    if (pages >= WAL_HARD_PAGES) { /* the checkpointer is behind: do it here, as SQLite would */
        pthread_mutex_lock(&checkpointing);
        (void)sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_unlock(&checkpointing);
    } else if (pages >= WAL_SOFT_PAGES)
        request(arg);
    return SQLITE_OK;
}

void pv__sqlite_wal_attach(sqlite3 *db, const char *path)
{
    if (path[0] == ':' || strncmp(path, "file:", 5) == 0)
        return; /* ":memory:" and URIs: SQLite's own checkpoints */
    /* Replaces SQLite's default hook, the one that checkpoints in the commit. */
    sqlite3_wal_hook(db, on_commit, (void *)path);
}

void pv__sqlite_wal_stop(void)
{
    pthread_mutex_lock(&lock);
    if (!running || stopping) {
        pthread_mutex_unlock(&lock);
        return;
    }
    stopping = true;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    pthread_join(thread, NULL);
    pthread_mutex_lock(&lock);
    running = stopping = false;
    pthread_mutex_unlock(&lock);
}
