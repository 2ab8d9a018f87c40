/* Long polls of job activation, shared by the service's job files: a waiter is one
 * activation request from its submission until its callback ran -- attempts through the
 * writer, and between them parked until a job of its type is announced, a lock or
 * backoff it knows of runs out, or its request timeout ends. */
#ifndef FLOWD_SERVICE_JOB_WAIT_H
#define FLOWD_SERVICE_JOB_WAIT_H

#include <stdbool.h>
#include <stdint.h>

#include "flowd/jobs.h"

struct fl__jobs;
struct fl_service;

struct fl__job_waiter {
    struct fl__job_waiter *next; /* in the list of every waiter (struct fl__jobs) */
    struct fl_service *svc;
    char *type, *worker; /* owned copies */
    char **fetch;        /* owned copies */
    size_t n_fetch, max_jobs;
    int64_t lock_ms;
    bool long_poll;
    int64_t deadline_mono; /* CLOCK_MONOTONIC ms when the long poll ends */
    int64_t retry_at;      /* service clock: the first lock or backoff to run out, or
                              INT64_MAX (written by the attempt on the writer) */
    bool in_flight;        /* an attempt is queued or running (else parked) */
    bool wake;             /* its type was announced while the attempt was in flight */
    /* outcome of the last attempt (writer thread) */
    struct fl_activated_job *jobs;
    size_t n_jobs;
    fl_jobs_cb cb;
    void *arg;
};

/* Writer thread: remember that jobs of type may be activatable now (NULL: ignored). */
void fl__jobs_note_type(struct fl__jobs *j, const char *type);

#endif
