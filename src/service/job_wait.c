/* Job activation requests and their long polls. Each request becomes a waiter; its
 * attempts run on the writer (FL__SVC_ACTIVATE). An attempt that finds nothing parks the
 * waiter -- no thread sleeps for it, so a thousand workers polling cost a thousand small
 * structs, not a thousand threads. A parked waiter is tried again when the writer
 * announces jobs of its type after a batch (created, or failed back with retries), when
 * the first lock or backoff it was told of runs out (the service clock: the test clock
 * moves only by fl_service_clock_set, which wakes us), or answered with no jobs when its
 * request timeout ends. One small thread keeps those deadlines. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flowd/alloc.h"
#include "flowd/jobs.h"
#include "service/job_wait.h"
#include "service/service_int.h"

struct fl__jobs {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* the deadline thread waits here (CLOCK_MONOTONIC) */
    pthread_t thread;
    bool started, stopping, draining;
    struct fl__job_waiter *all; /* every waiter, in flight or parked */
    size_t n_all;
    /* writer thread only: job types announced by the current batch */
    char **noted;
    size_t n_noted, cap_noted;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct fl__jobs *fl__jobs_new(void)
{
    struct fl__jobs *j = fl_calloc(1, sizeof(*j));
    pthread_condattr_t ca;
    pthread_mutex_init(&j->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cond, &ca);
    pthread_condattr_destroy(&ca);
    return j;
}

static void waiter_free(struct fl__job_waiter *w)
{
    if (!w)
        return;
    free(w->type);
    free(w->worker);
    for (size_t i = 0; i < w->n_fetch; i++)
        free(w->fetch[i]);
    free(w->fetch);
    fl_activated_jobs_free(w->jobs, w->n_jobs);
    free(w);
}

/* Under j->lock. */
static void unlink_waiter(struct fl__jobs *j, struct fl__job_waiter *w)
{
    for (struct fl__job_waiter **p = &j->all; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            j->n_all--;
            return;
        }
}

/* The waiter is done (already unlinked): its callback takes the jobs. No lock held. */
static void deliver(struct fl__job_waiter *w, int rc, const struct fl_error *err)
{
    struct fl_activated_job *jobs = rc ? NULL : w->jobs;
    size_t n = rc ? 0 : w->n_jobs;
    if (!rc)
        w->jobs = NULL, w->n_jobs = 0;
    w->cb(w->arg, rc, err, jobs, n);
    waiter_free(w);
}

static void attempt_done(void *arg, const struct fl_result *res);

/* Queue an attempt of w (marked in flight by the caller). No lock held. On refusal (the
 * service closes) w is unlinked and answered. Returns 0 or FL_ECLOSED. */
static int submit_attempt(struct fl_service *svc, struct fl__job_waiter *w, bool answer)
{
    struct fl__svc_cmd *q = fl_calloc(1, sizeof(*q));
    struct fl_error e;
    q->kind = FL__SVC_ACTIVATE;
    q->waiter = w;
    q->cb = attempt_done;
    q->arg = w;
    if (fl__svc_enqueue(svc, q) == 0)
        return 0;
    pthread_mutex_lock(&svc->jobs->lock);
    unlink_waiter(svc->jobs, w);
    pthread_mutex_unlock(&svc->jobs->lock);
    if (answer) {
        fl_error_clear(&e);
        fl_error_set(&e, FL_ECLOSED, "the service is shutting down");
        deliver(w, FL_ECLOSED, &e);
    }
    return FL_ECLOSED;
}

/* Writer thread, after the attempt's transaction committed (or failed). */
static void attempt_done(void *arg, const struct fl_result *res)
{
    struct fl__job_waiter *w = arg;
    struct fl__jobs *j = w->svc->jobs;
    bool again = false;

    pthread_mutex_lock(&j->lock);
    if (res->rc != 0 || w->n_jobs > 0 || !w->long_poll || j->draining ||
        mono_ms() >= w->deadline_mono) {
        unlink_waiter(j, w);
        pthread_mutex_unlock(&j->lock);
        deliver(w, res->rc, &res->err);
        return;
    }
    /* Jobs of its type were announced while this attempt was in flight: it may have run
     * before they existed, so look again rather than park. */
    if (w->wake) {
        w->wake = false;
        again = true;
    } else {
        w->in_flight = false;
        pthread_cond_signal(&j->cond); /* a new deadline to keep */
    }
    pthread_mutex_unlock(&j->lock);
    if (again)
        submit_attempt(w->svc, w, true);
}

void fl__jobs_note_type(struct fl__jobs *j, const char *type)
{
    if (!type)
        return;
    for (size_t i = 0; i < j->n_noted; i++)
        if (!strcmp(j->noted[i], type))
            return;
    fl_grow(&j->noted, &j->cap_noted, j->n_noted + 1, sizeof(*j->noted));
    j->noted[j->n_noted++] = fl_strdup(type);
}

static bool noted(const struct fl__jobs *j, const char *type)
{
    for (size_t i = 0; i < j->n_noted; i++)
        if (!strcmp(j->noted[i], type))
            return true;
    return false;
}

void fl__jobs_after_batch(struct fl_service *svc)
{
    struct fl__jobs *j = svc->jobs;
    struct fl__job_waiter **go = NULL;
    size_t n_go = 0, cap_go = 0;

    if (j->n_noted == 0)
        return;
    pthread_mutex_lock(&j->lock);
    for (struct fl__job_waiter *w = j->all; w; w = w->next) {
        if (!noted(j, w->type))
            continue;
        if (w->in_flight) {
            w->wake = true;
            continue;
        }
        w->in_flight = true;
        fl_grow(&go, &cap_go, n_go + 1, sizeof(*go));
        go[n_go++] = w;
    }
    pthread_mutex_unlock(&j->lock);
    for (size_t i = 0; i < j->n_noted; i++)
        free(j->noted[i]);
    j->n_noted = 0;
    for (size_t i = 0; i < n_go; i++)
        submit_attempt(svc, go[i], true);
    free(go);
}

/* The deadline thread: answers long polls whose time is up, retries those whose lock or
 * backoff ran out, and sleeps until the next of either. */
static void *deadline_main(void *arg)
{
    struct fl_service *svc = arg;
    struct fl__jobs *j = svc->jobs;
    struct fl__job_waiter **done = NULL, **retry = NULL;
    size_t cap_done = 0, cap_retry = 0;

    pthread_mutex_lock(&j->lock);
    while (!j->stopping) {
        int64_t now_m = mono_ms(), now_s = fl__svc_now(svc), wait = INT64_MAX;
        size_t n_done = 0, n_retry = 0;
        struct fl__job_waiter **p = &j->all;
        while (*p) {
            struct fl__job_waiter *w = *p;
            if (w->in_flight) {
                p = &w->next;
                continue;
            }
            if (j->draining || now_m >= w->deadline_mono) {
                *p = w->next;
                j->n_all--;
                fl_grow(&done, &cap_done, n_done + 1, sizeof(*done));
                done[n_done++] = w;
                continue;
            }
            if (w->retry_at <= now_s) {
                w->in_flight = true;
                fl_grow(&retry, &cap_retry, n_retry + 1, sizeof(*retry));
                retry[n_retry++] = w;
            } else {
                if (w->deadline_mono - now_m < wait)
                    wait = w->deadline_mono - now_m;
                /* A test clock moves only when set, and setting it wakes us. */
                if (!svc->test_clock && w->retry_at != INT64_MAX && w->retry_at - now_s < wait)
                    wait = w->retry_at - now_s;
            }
            p = &w->next;
        }
        if (n_done || n_retry) {
            pthread_mutex_unlock(&j->lock);
            for (size_t i = 0; i < n_done; i++)
                deliver(done[i], 0, NULL);
            for (size_t i = 0; i < n_retry; i++)
                submit_attempt(svc, retry[i], true);
            pthread_mutex_lock(&j->lock);
            continue;
        }
        if (wait == INT64_MAX) {
            pthread_cond_wait(&j->cond, &j->lock);
        } else {
            int64_t until = now_m + wait;
            struct timespec ts = {.tv_sec = until / 1000, .tv_nsec = (until % 1000) * 1000000};
            pthread_cond_timedwait(&j->cond, &j->lock, &ts);
        }
    }
    pthread_mutex_unlock(&j->lock);
    free(done);
    free(retry);
    return NULL;
}

void fl__jobs_clock_moved(struct fl_service *svc)
{
    struct fl__jobs *j = svc ? svc->jobs : NULL;
    if (!j)
        return;
    pthread_mutex_lock(&j->lock);
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
}

void fl_service_jobs_drain(struct fl_service *svc)
{
    struct fl__jobs *j = svc ? svc->jobs : NULL;
    if (!j)
        return;
    pthread_mutex_lock(&j->lock);
    j->draining = true;
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
}

size_t fl_service_jobs_waiting(struct fl_service *svc)
{
    struct fl__jobs *j = svc ? svc->jobs : NULL;
    size_t n = 0;
    if (!j)
        return 0;
    pthread_mutex_lock(&j->lock);
    for (struct fl__job_waiter *w = j->all; w; w = w->next)
        n += !w->in_flight;
    pthread_mutex_unlock(&j->lock);
    return n;
}

void fl__jobs_stop(struct fl_service *svc)
{
    struct fl__jobs *j = svc->jobs;
    struct fl__job_waiter *parked = NULL;
    if (!j)
        return;
    pthread_mutex_lock(&j->lock);
    j->stopping = j->draining = true;
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
    if (j->started)
        pthread_join(j->thread, NULL);
    j->started = false;
    /* The parked ones are answered here; those in flight when their attempt returns. */
    pthread_mutex_lock(&j->lock);
    for (struct fl__job_waiter **p = &j->all; *p;) {
        struct fl__job_waiter *w = *p;
        if (w->in_flight) {
            p = &w->next;
            continue;
        }
        *p = w->next;
        j->n_all--;
        w->next = parked;
        parked = w;
    }
    pthread_mutex_unlock(&j->lock);
    while (parked) {
        struct fl__job_waiter *w = parked;
        parked = w->next;
        deliver(w, 0, NULL);
    }
}

void fl__jobs_free(struct fl__jobs *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->n_noted; i++)
        free(j->noted[i]);
    free(j->noted);
    pthread_cond_destroy(&j->cond);
    pthread_mutex_destroy(&j->lock);
    free(j);
}

int fl_service_jobs_activate(struct fl_service *svc, const struct fl_job_activation *req,
                             fl_jobs_cb cb, void *arg, struct fl_error *err)
{
    struct fl__jobs *j;
    struct fl__job_waiter *w;
    int rc;

    if (!svc || !req || !cb)
        return fl_error_set(err, FL_EINVAL,
                            "job activation needs a service, a request and a "
                            "callback");
    if ((rc = fl_job_activation_check(req, err)) != 0)
        return rc;
    j = svc->jobs;
    w = fl_calloc(1, sizeof(*w));
    w->svc = svc;
    w->type = fl_strdup(req->type);
    w->worker = fl_strdup(req->worker);
    if (req->n_fetch) {
        w->fetch = fl_calloc(req->n_fetch, sizeof(*w->fetch));
        for (size_t i = 0; i < req->n_fetch; i++)
            w->fetch[i] = fl_strdup(req->fetch[i]);
        w->n_fetch = req->n_fetch;
    }
    w->max_jobs = req->max_jobs;
    w->lock_ms = req->lock_ms;
    w->long_poll = req->request_timeout_ms > 0;
    w->deadline_mono = mono_ms() + req->request_timeout_ms;
    w->retry_at = INT64_MAX;
    w->cb = cb;
    w->arg = arg;
    w->in_flight = true;

    pthread_mutex_lock(&j->lock);
    if (j->stopping) {
        pthread_mutex_unlock(&j->lock);
        waiter_free(w);
        return fl_error_set(err, FL_ECLOSED, "the service is shutting down");
    }
    if (j->draining)
        w->long_poll = false;
    /* The deadline thread starts with the first long poll: one-shot commands never
     * need it. */
    if (w->long_poll && !j->started) {
        if (pthread_create(&j->thread, NULL, deadline_main, svc) != 0) {
            pthread_mutex_unlock(&j->lock);
            waiter_free(w);
            return fl_error_set(err, FL_EINTERNAL, "cannot start the job wait thread");
        }
        j->started = true;
    }
    w->next = j->all;
    j->all = w;
    j->n_all++;
    pthread_mutex_unlock(&j->lock);
    if ((rc = submit_attempt(svc, w, false)) != 0) {
        waiter_free(w);
        return fl_error_set(err, rc, "the service is shutting down");
    }
    return 0;
}

/* fl_service_jobs_activate_wait's meeting point. */
struct activation_wait {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    int rc;
    struct fl_error err;
    struct fl_activated_job *jobs;
    size_t n;
};

static void wait_done(void *arg, int rc, const struct fl_error *err, struct fl_activated_job *jobs,
                      size_t n)
{
    struct activation_wait *aw = arg;
    pthread_mutex_lock(&aw->lock);
    aw->rc = rc;
    if (rc && err)
        aw->err = *err;
    aw->jobs = jobs;
    aw->n = n;
    aw->done = true;
    pthread_cond_signal(&aw->cond);
    pthread_mutex_unlock(&aw->lock);
}

int fl_service_jobs_activate_wait(struct fl_service *svc, const struct fl_job_activation *req,
                                  struct fl_activated_job **jobs, size_t *n, struct fl_error *err)
{
    struct activation_wait aw;
    int rc;
    *jobs = NULL;
    *n = 0;
    memset(&aw, 0, sizeof(aw));
    pthread_mutex_init(&aw.lock, NULL);
    pthread_cond_init(&aw.cond, NULL);
    if ((rc = fl_service_jobs_activate(svc, req, wait_done, &aw, err)) == 0) {
        pthread_mutex_lock(&aw.lock);
        while (!aw.done)
            pthread_cond_wait(&aw.cond, &aw.lock);
        pthread_mutex_unlock(&aw.lock);
        rc = aw.rc;
        if (rc) {
            if (err)
                *err = aw.err;
        } else {
            *jobs = aw.jobs;
            *n = aw.n;
        }
    }
    pthread_cond_destroy(&aw.cond);
    pthread_mutex_destroy(&aw.lock);
    return rc;
}
