/* SQLite back end, the background checkpointer: a thread with its own connection that
 * copies the WAL into the database file, so the writer's COMMIT never runs a checkpoint
 * (its fsync of the main file took 7 ms on average, up to 21, and every command of the
 * batch waited for it). The writer's WAL hook counts the pages after each commit and wakes
 * the thread past a threshold; a writer that never pauses waits for it between batches
 * past four times that, so the WAL restarts; when the writer has been idle for a while
 * the thread also truncates the WAL file. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flowd/alloc.h"
#include "store/sqlite_int.h"

/* WAL pages (4 KiB by default) after which a passive checkpoint runs: about the 8192 of
 * the former automatic checkpoint halved, so each run is shorter. */
#define CKPT_PAGES 4096
/* The WAL restarts from its beginning only when a write transaction begins on a fully
 * checkpointed WAL; a writer that never pauses never sees one, and the WAL grew past
 * 100 MB in a 40,000-instance run (and the writer's page lookups with it). Past this
 * size the writer waits, between two batches (its acknowledgements already sent), for
 * the checkpointer to catch up. */
#define CKPT_WAIT_PAGES (4 * CKPT_PAGES)
/* Once past CKPT_PAGES, a run every this many new pages: each run ends in an fsync of the
 * database file, and one after every commit competed with the writer's WAL fsyncs. */
#define CKPT_STEP_PAGES 1024
/* A writer that committed nothing for this long is idle: the WAL is truncated then. */
#define CKPT_IDLE_MS 500

struct fl__sq_ckpt {
    sqlite3 *db; /* the checkpointer's own connection */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;      /* the checkpointer waits here */
    pthread_cond_t caught_up; /* the writer waits here */
    /* under lock */
    int log_pages;       /* frames in the WAL after the last commit */
    uint64_t commits;    /* commits seen by the hook */
    int ckpt_pages;      /* WAL frames when the last run began (0 after a restart) */
    bool pending;        /* a run is due */
    bool writer_waiting; /* the writer waits for a complete checkpoint */
    bool stop;
};

/* Runs on the writer thread inside COMMIT, after the commit is durable: only counts and
 * signals, so the writer never waits for the checkpoint here. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct fl__sq_ckpt *c = arg;
    (void)db;
    (void)name;
    pthread_mutex_lock(&c->lock);
    c->log_pages = pages;
    c->commits++;
    if (pages < c->ckpt_pages)
        c->ckpt_pages = 0; /* the WAL started over */
    if (pages >= CKPT_PAGES && pages >= c->ckpt_pages + CKPT_STEP_PAGES) {
        c->pending = true;
        pthread_cond_signal(&c->wake);
    }
    pthread_mutex_unlock(&c->lock);
    return SQLITE_OK;
}

static void deadline_after(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Durability does not depend on this thread: in WAL mode a commit is durable once its
 * frames are in the WAL and the WAL is fsynced (synchronous=FULL, on the writer). A
 * checkpoint only copies committed pages into the database file, fsyncs that file, and
 * only then records them as backfilled; the WAL is reused only after that. A crash at any
 * point of a checkpoint leaves the WAL intact and recovery replays it. The connection uses
 * the writer's synchronous level, because that level decides whether the checkpoint
 * fsyncs the database file before the WAL may be overwritten. */
static void *ckpt_main(void *arg)
{
    struct fl__sq_ckpt *c = arg;
    uint64_t seen = 0;
    bool truncated = true;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        struct timespec ts;
        int mode = -1;
        bool release;
        if (!c->pending && !c->writer_waiting) {
            deadline_after(&ts, CKPT_IDLE_MS);
            if (pthread_cond_timedwait(&c->wake, &c->lock, &ts) == ETIMEDOUT &&
                c->commits == seen && !truncated)
                mode = SQLITE_CHECKPOINT_TRUNCATE; /* idle writer, WAL not empty */
            if (c->commits != seen)
                truncated = false;
            seen = c->commits;
        }
        if (c->stop)
            break;
        if (c->pending || c->writer_waiting)
            mode = SQLITE_CHECKPOINT_PASSIVE;
        if (mode < 0)
            continue;
        /* Only a run that began while the writer was waiting covers all it committed. */
        release = c->writer_waiting;
        c->pending = false;
        c->ckpt_pages = c->log_pages;
        pthread_mutex_unlock(&c->lock);
        /* PASSIVE never waits and never blocks the writer. TRUNCATE has no busy handler
         * on this connection: if the writer came back it gives SQLITE_BUSY at once and is
         * tried again at the next idle period. */
        if (sqlite3_wal_checkpoint_v2(c->db, NULL, mode, NULL, NULL) == SQLITE_OK &&
            mode == SQLITE_CHECKPOINT_TRUNCATE)
            truncated = true;
        pthread_mutex_lock(&c->lock);
        if (release) {
            c->writer_waiting = false;
            pthread_cond_broadcast(&c->caught_up);
        }
    }
    c->writer_waiting = false;
    pthread_cond_broadcast(&c->caught_up);
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

void fl__sq_ckpt_before_begin(struct fl_sqlite *q)
{
    struct fl__sq_ckpt *c = q->ckpt;
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    if (c->log_pages >= CKPT_WAIT_PAGES && !c->stop) {
        c->writer_waiting = true;
        pthread_cond_signal(&c->wake);
        while (c->writer_waiting)
            pthread_cond_wait(&c->caught_up, &c->lock);
        /* Waited once for this size: if a reader kept the WAL from restarting, the next
         * commit reports it again rather than the writer waiting in a loop. */
        c->log_pages = 0;
    }
    pthread_mutex_unlock(&c->lock);
}

static void ckpt_free(struct fl__sq_ckpt *c)
{
    sqlite3_close(c->db);
    pthread_cond_destroy(&c->wake);
    pthread_cond_destroy(&c->caught_up);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

int fl__sq_ckpt_start(struct fl_store *s, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    struct fl__sq_ckpt *c;
    char sql[64];
    int rc;

    if (q->ckpt || q->read_only)
        return 0;
    c = fl_calloc(1, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    pthread_cond_init(&c->caught_up, NULL);
    rc = sqlite3_open_v2(q->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = fl_error_set(err, FL_EIO, "cannot open '%s' for checkpoints: %s", q->path,
                          c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        ckpt_free(c);
        return rc;
    }
    snprintf(sql, sizeof(sql), "PRAGMA synchronous=%d", q->synchronous);
    if ((rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL)) != SQLITE_OK) {
        rc = fl_error_set(err, FL_EIO, "'%s': %s: %s", q->path, sql, sqlite3_errmsg(c->db));
        ckpt_free(c);
        return rc;
    }
    if (pthread_create(&c->thread, NULL, ckpt_main, c) != 0) {
        ckpt_free(c);
        return fl_error_set(err, FL_EINTERNAL, "cannot start the checkpoint thread");
    }
    /* From here the writer's commits no longer checkpoint: the hook replaces the
     * automatic checkpoint (which is itself a WAL hook). */
    sqlite3_wal_autocheckpoint(q->db, 0);
    sqlite3_wal_hook(q->db, wal_hook, c);
    q->ckpt = c;
    return 0;
}

void fl__sq_ckpt_stop(struct fl_sqlite *q)
{
    struct fl__sq_ckpt *c = q->ckpt;
    if (!c)
        return;
    sqlite3_wal_hook(q->db, NULL, NULL);
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    ckpt_free(c);
    q->ckpt = NULL;
}
