/* The scheduler: fires pending timers when they come due. The store keeps every pending
 * timer indexed by due time; the scheduler keeps only the next ones in a min-heap (at most
 * about two windows of them), up to a horizon, and reads the next window from the store
 * when the heap drains -- so a million pending timers cost neither memory nor start-up
 * time. It sleeps on a condition variable until the earliest is due (or the writer offers
 * an earlier one after a commit) and submits FL_CMD_FIRE_TIMER through the group-commit
 * writer: the engine deletes the timer in the transaction that writes what the firing did,
 * so a timer fires once even across crashes, and a fire that finds it gone is ignored. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flowd/alloc.h"
#include "service/service_int.h"

#define DEFAULT_WINDOW 4096
#define MAX_SLEEP_MS 1000   /* re-read the clock at least this often (a test clock moves) */
#define RETRY_DELAY_MS 1000 /* a fire the store failed is tried again after this */
#define SUBMIT_CHUNK 256    /* fires taken off the heap per lock hold */

struct fl__sched {
    struct fl_service *svc;
    struct fl_store *reader; /* own read connection: refills never touch the writer's */
    pthread_t thread;
    bool started, stopping;
    pthread_mutex_t lock;
    pthread_cond_t wake, idle;

    struct fl_timer_due *heap; /* min-heap by (due_at, id) */
    size_t n, cap, window;
    /* Every pending timer up to the horizon is in the heap, in flight, or fired; the store
     * has the rest. all_loaded: the horizon is the end (nothing beyond it in the store). */
    bool all_loaded;
    int64_t h_due;
    uint64_t h_id;
    bool refilling; /* a refill reads the store without the lock: offers wait in `offered` */
    struct fl_timer_due *offered;
    size_t n_off, cap_off;
    int64_t refill_retry_at; /* after a failed refill, not before this (real ms) */

    size_t in_flight;          /* fires submitted, not yet acknowledged */
    uint64_t pass, settle_gen; /* idle passes of the loop; settle requests */
    struct fl_timer_stats stats;
};

/* A fire in flight: what the acknowledgement needs. */
struct fire {
    struct fl__sched *sc;
    struct fl_timer_due t;
};

static bool before(const struct fl_timer_due *a, const struct fl_timer_due *b)
{
    return a->due_at < b->due_at || (a->due_at == b->due_at && a->id < b->id);
}

static bool within_horizon(const struct fl__sched *sc, const struct fl_timer_due *t)
{
    struct fl_timer_due h = {.id = sc->h_id, .due_at = sc->h_due};
    return sc->all_loaded || !before(&h, t);
}

static void heap_push(struct fl__sched *sc, const struct fl_timer_due *t)
{
    size_t i;
    fl_grow(&sc->heap, &sc->cap, sc->n + 1, sizeof(*sc->heap));
    i = sc->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(t, &sc->heap[p]))
            break;
        sc->heap[i] = sc->heap[p];
        i = p;
    }
    sc->heap[i] = *t;
}

static struct fl_timer_due heap_pop(struct fl__sched *sc)
{
    struct fl_timer_due top = sc->heap[0], last = sc->heap[--sc->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= sc->n)
            break;
        if (c + 1 < sc->n && before(&sc->heap[c + 1], &sc->heap[c]))
            c++;
        if (!before(&sc->heap[c], &last))
            break;
        sc->heap[i] = sc->heap[c];
        i = c;
    }
    if (sc->n)
        sc->heap[i] = last;
    return top;
}

static int cmp_due(const void *a, const void *b)
{
    const struct fl_timer_due *x = a, *y = b;
    return before(x, y) ? -1 : before(y, x) ? 1 : 0;
}

/* Past two windows (offers of near timers pile up), keep the earliest window and pull the
 * horizon in: the rest is in the store and comes back with a refill.
 * NEEDSWORK: an entry re-queued after a store failure carries a later due time than its
 * row; if a trim drops it, the row is before the horizon and waits for a restart. */
static void heap_trim(struct fl__sched *sc)
{
    if (sc->n <= 2 * sc->window)
        return;
    qsort(sc->heap, sc->n, sizeof(*sc->heap), cmp_due); /* a sorted array is a heap */
    sc->n = sc->window;
    sc->all_loaded = false;
    sc->h_due = sc->heap[sc->n - 1].due_at;
    sc->h_id = sc->heap[sc->n - 1].id;
}

static int64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read the next window after the horizon. Called with the lock held and the heap empty;
 * drops the lock while reading. */
static void refill(struct fl__sched *sc)
{
    struct fl_timer_due *rows = fl_calloc(sc->window, sizeof(*rows));
    int64_t after_due = sc->h_due;
    uint64_t after_id = sc->h_id;
    struct fl_error err;
    size_t n = 0;
    int rc;

    sc->refilling = true;
    sc->n_off = 0;
    pthread_mutex_unlock(&sc->lock);
    fl_error_clear(&err);
    rc = fl_store_timers_due(sc->reader, after_due, after_id, rows, sc->window, &n, &err);
    pthread_mutex_lock(&sc->lock);
    sc->refilling = false;
    sc->stats.refills++;
    if (rc != 0) {
        fprintf(stderr, "level=error msg=\"scheduler cannot read timers\" error=\"%s\"\n", err.msg);
        sc->refill_retry_at = real_ms() + RETRY_DELAY_MS;
        n = 0;
    } else {
        for (size_t i = 0; i < n; i++)
            heap_push(sc, &rows[i]);
        if (n < sc->window) {
            sc->all_loaded = true;
        } else {
            sc->h_due = rows[n - 1].due_at;
            sc->h_id = rows[n - 1].id;
        }
    }
    /* Offered while reading: the read may or may not have seen them (a duplicate only
     * fires into FL_ENOTFOUND). Failed read: the horizon did not move, same rule. */
    for (size_t i = 0; i < sc->n_off; i++)
        if (within_horizon(sc, &sc->offered[i]))
            heap_push(sc, &sc->offered[i]);
    sc->n_off = 0;
    free(rows);
}

static void late_note(struct fl_timer_stats *st, int64_t late)
{
    static const int64_t bound[FL_TIMER_LATE_BUCKETS - 1] = {1,   2,   5,   10,   20,  50,
                                                             100, 200, 500, 1000, 2000};
    unsigned b = 0;
    if (late < 0)
        late = 0;
    while (b < FL_TIMER_LATE_BUCKETS - 1 && late >= bound[b])
        b++;
    st->late_hist[b]++;
    if (late > st->late_max_ms)
        st->late_max_ms = late;
}

/* Writer thread, after the fire's batch committed (or was refused). */
static void fire_done(void *arg, const struct fl_result *res)
{
    struct fire *f = arg;
    struct fl__sched *sc = f->sc;
    pthread_mutex_lock(&sc->lock);
    sc->in_flight--;
    if (res->rc == 0) {
        sc->stats.fired++;
        late_note(&sc->stats, fl__svc_now(sc->svc) - f->t.due_at);
    } else if (res->rc == FL_ENOTFOUND) {
        sc->stats.gone++; /* fired before, cancelled, or a duplicate entry */
    } else if (res->rc == FL_ECONFLICT || res->rc == FL_EUNSUPPORTED || res->rc == FL_EINVAL ||
               res->rc == FL_ECLOSED) {
        /* Moved later (its new entry was offered), a kind this build cannot fire, or the
         * service is closing: the store keeps it for a later refill or restart. */
        sc->stats.skipped++;
    } else {
        /* The store failed: try again a little later rather than spin. */
        struct fl_timer_due again = f->t;
        again.due_at = fl__svc_now(sc->svc) + RETRY_DELAY_MS;
        sc->stats.retried++;
        heap_push(sc, &again);
        pthread_cond_signal(&sc->wake);
    }
    if (sc->in_flight == 0)
        pthread_cond_broadcast(&sc->idle);
    pthread_mutex_unlock(&sc->lock);
    free(f);
}

static void submit_fires(struct fl__sched *sc, struct fl_timer_due *due, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct fl_command cmd = {.kind = FL_CMD_FIRE_TIMER,
                                 .instance_id = due[i].instance_id,
                                 .target_id = due[i].id,
                                 .actor = "scheduler"};
        struct fire *f = fl_malloc(sizeof(*f));
        f->sc = sc;
        f->t = due[i];
        if (fl_service_submit(sc->svc, &cmd, fire_done, f) != 0) {
            pthread_mutex_lock(&sc->lock);
            sc->in_flight--;
            if (sc->in_flight == 0)
                pthread_cond_broadcast(&sc->idle);
            pthread_mutex_unlock(&sc->lock);
            free(f);
        }
    }
}

static void *sched_main(void *arg)
{
    struct fl__sched *sc = arg;
    struct fl_timer_due batch[SUBMIT_CHUNK];

    pthread_mutex_lock(&sc->lock);
    while (!sc->stopping) {
        int64_t now, wait_ms;
        size_t n = 0;

        if (sc->n == 0 && !sc->all_loaded && real_ms() >= sc->refill_retry_at) {
            refill(sc);
            continue;
        }
        now = fl__svc_now(sc->svc);
        while (sc->n && sc->heap[0].due_at <= now && n < SUBMIT_CHUNK)
            batch[n++] = heap_pop(sc);
        if (n) {
            /* Submit without the lock: the queue may be full, and the writer's callbacks
             * take this lock. */
            sc->in_flight += n;
            pthread_mutex_unlock(&sc->lock);
            submit_fires(sc, batch, n);
            pthread_mutex_lock(&sc->lock);
            continue;
        }
        /* Nothing due now: an idle pass (what fl__sched_settle waits for). */
        sc->pass = sc->settle_gen;
        pthread_cond_broadcast(&sc->idle);
        wait_ms = MAX_SLEEP_MS;
        if (sc->n && sc->heap[0].due_at - now < wait_ms)
            wait_ms = sc->heap[0].due_at - now;
        if (sc->n == 0 && !sc->all_loaded) {
            int64_t r = sc->refill_retry_at - real_ms();
            wait_ms = r < wait_ms ? r : wait_ms;
        }
        if (wait_ms > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += wait_ms / 1000;
            ts.tv_nsec += (wait_ms % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&sc->wake, &sc->lock, &ts);
        }
    }
    pthread_mutex_unlock(&sc->lock);
    return NULL;
}

int fl__sched_start(struct fl_service *svc, const char *db_url, unsigned window,
                    struct fl__sched **out, struct fl_error *err)
{
    struct fl_store_options so = {.read_only = true};
    struct fl__sched *sc = fl_calloc(1, sizeof(*sc));
    int rc;

    *out = NULL;
    sc->svc = svc;
    sc->window = window ? window : DEFAULT_WINDOW;
    sc->h_due = INT64_MIN;
    pthread_mutex_init(&sc->lock, NULL);
    pthread_cond_init(&sc->wake, NULL);
    pthread_cond_init(&sc->idle, NULL);
    if ((rc = fl_store_open(db_url, &so, &sc->reader, err)) != 0)
        goto fail;
    if (pthread_create(&sc->thread, NULL, sched_main, sc) != 0) {
        rc = fl_error_set(err, FL_EINTERNAL, "cannot start the scheduler thread");
        goto fail;
    }
    sc->started = true;
    *out = sc;
    return 0;
fail:
    fl__sched_stop(sc);
    return rc;
}

void fl__sched_stop(struct fl__sched *sc)
{
    if (!sc)
        return;
    pthread_mutex_lock(&sc->lock);
    sc->stopping = true;
    pthread_cond_broadcast(&sc->wake);
    pthread_mutex_unlock(&sc->lock);
    if (sc->started)
        pthread_join(sc->thread, NULL);
}

void fl__sched_free(struct fl__sched *sc)
{
    if (!sc)
        return;
    fl_store_close(sc->reader);
    free(sc->heap);
    free(sc->offered);
    pthread_cond_destroy(&sc->idle);
    pthread_cond_destroy(&sc->wake);
    pthread_mutex_destroy(&sc->lock);
    free(sc);
}

void fl__sched_offer(struct fl__sched *sc, const struct fl_timer_due *t, size_t n)
{
    bool earlier = false;
    if (!sc || n == 0)
        return;
    pthread_mutex_lock(&sc->lock);
    for (size_t i = 0; i < n; i++) {
        if (sc->refilling) {
            fl_grow(&sc->offered, &sc->cap_off, sc->n_off + 1, sizeof(*sc->offered));
            sc->offered[sc->n_off++] = t[i];
        } else if (within_horizon(sc, &t[i])) {
            if (sc->n == 0 || before(&t[i], &sc->heap[0]))
                earlier = true;
            heap_push(sc, &t[i]);
        }
    }
    heap_trim(sc);
    if (earlier)
        pthread_cond_signal(&sc->wake);
    pthread_mutex_unlock(&sc->lock);
}

void fl__sched_wake(struct fl__sched *sc)
{
    if (!sc)
        return;
    pthread_mutex_lock(&sc->lock);
    pthread_cond_signal(&sc->wake);
    pthread_mutex_unlock(&sc->lock);
}

/* Nothing due at now is waiting, in flight or still to be read. */
static bool settled(const struct fl__sched *sc, uint64_t gen)
{
    return sc->pass >= gen && sc->in_flight == 0 && !sc->refilling &&
           (sc->n == 0 ? sc->all_loaded : sc->heap[0].due_at > fl__svc_now(sc->svc));
}

int fl__sched_settle(struct fl__sched *sc, int64_t timeout_ms)
{
    struct timespec ts;
    uint64_t gen;
    int rc = 0;

    if (!sc)
        return FL_EINVAL;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (timeout_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&sc->lock);
    gen = ++sc->settle_gen;
    pthread_cond_signal(&sc->wake);
    while (!settled(sc, gen) && !sc->stopping) {
        if (pthread_cond_timedwait(&sc->idle, &sc->lock, &ts) == ETIMEDOUT) {
            rc = settled(sc, gen) ? 0 : FL_EBUSY;
            break;
        }
        /* An idle pass may predate a fire's follow-up timers: ask for another. */
        if (sc->pass >= gen && sc->in_flight == 0 && !settled(sc, gen)) {
            gen = ++sc->settle_gen;
            pthread_cond_signal(&sc->wake);
        }
    }
    pthread_mutex_unlock(&sc->lock);
    return rc;
}

void fl__sched_stats(struct fl__sched *sc, struct fl_timer_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!sc)
        return;
    pthread_mutex_lock(&sc->lock);
    *out = sc->stats;
    out->in_memory = sc->n;
    out->in_flight = sc->in_flight;
    pthread_mutex_unlock(&sc->lock);
}
