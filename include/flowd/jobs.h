/* Job workers and incidents: service tasks done by external programs (as Camunda's job
 * workers). A worker activates jobs of a type -- they are locked for it for a while and
 * come with the instance's variables -- then completes them, fails them (retries, backoff)
 * or throws a BPMN error. A lock that runs out makes the job activatable again, so a worker
 * that dies loses its jobs to the others. A job out of retries raises an incident, which
 * an administrator resolves (FL_CMD_RESOLVE) to retry it. Store rows here; activation and
 * long polling go through the service's writer (its locks are writes). */
#ifndef FLOWD_JOBS_H
#define FLOWD_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowd/err.h"
#include "flowd/service.h"
#include "flowd/store.h"

#define FL_JOB_ACTIVATE_MAX 1000            /* jobs per activation at most */
#define FL_JOB_LOCK_MAX_MS (7LL * 86400000) /* a lock lasts a week at most */
#define FL_JOB_POLL_MAX_MS 300000           /* a long poll waits five minutes at most */
#define FL_JOB_FETCH_MAX 64                 /* variable names an activation may ask for */

enum fl_job_status { FL_JOB_OPEN, FL_JOB_COMPLETED, FL_JOB_FAILED };

/* "open", "completed", "failed"; NULL for anything else. */
const char *fl_job_status_name(int status);

/* Parse a status name; FL_EINVAL otherwise. */
int fl_job_status_parse(const char *text, int *out);

/* A job as stored. Strings owned by the row. */
struct fl_job_row {
    uint64_t id, instance_id, token_id, definition_id;
    char *node_id, *type;
    char *process_key; /* of the instance's definition */
    int32_t version;
    int retries;
    int status;                    /* enum fl_job_status */
    char *worker;                  /* last worker that activated it, or NULL */
    int64_t lock_until;            /* its lock runs out then (0 = never activated or released) */
    int64_t next_at;               /* not activatable before (backoff or lock); open jobs only */
    char *error;                   /* last failure's message, or NULL */
    char *error_code;              /* BPMN error a worker threw, or NULL */
    int64_t created_at, closed_at; /* closed_at 0 while open */
};

struct fl_job_query {
    const char *type;     /* or NULL */
    int status;           /* enum fl_job_status, or -1 for any */
    uint64_t instance_id; /* 0 = every instance */
    uint64_t after_id;    /* cursor: ids greater than this */
    size_t limit;         /* 0 = 100 */
};

/* Job id. FL_ENOTFOUND. Caller releases. */
int fl_store_job_get(struct fl_store *s, uint64_t id, struct fl_job_row *out, struct fl_error *err);

/* Jobs in id order. Caller frees with fl_job_rows_free. */
int fl_store_job_list(struct fl_store *s, const struct fl_job_query *q, struct fl_job_row **rows,
                      size_t *n, struct fl_error *err);

/* Inside a write transaction: take up to max open jobs of type that are activatable at
 * now_ms (next_at <= now_ms: never locked, lock run out, backoff over), oldest first, and
 * lock them for worker until lock_until (they are not activatable again before then).
 * *rows (caller frees) get the jobs as locked. */
int fl_store_job_activate(struct fl_store *s, const char *type, const char *worker, size_t max,
                          int64_t now_ms, int64_t lock_until, struct fl_job_row **rows, size_t *n,
                          struct fl_error *err);

/* The earliest time after now_ms at which an open job of type becomes activatable (a lock
 * or a backoff runs out) into *at; FL_ENOTFOUND when none will without a new event. */
int fl_store_job_next_activatable(struct fl_store *s, const char *type, int64_t now_ms, int64_t *at,
                                  struct fl_error *err);

/* Record the BPMN error code a worker threw on job id (inside a write transaction). */
int fl_store_job_set_error_code(struct fl_store *s, uint64_t id, const char *code,
                                struct fl_error *err);

void fl_job_row_release(struct fl_job_row *r);
void fl_job_rows_free(struct fl_job_row *rows, size_t n);

/* An incident: a token stuck at a node (a job out of retries, a failing expression). */
struct fl_incident_row {
    uint64_t id, instance_id, token_id, job_id; /* job_id 0 when no job failed */
    char *node_id, *message;
    char *process_key;               /* of the instance's definition */
    int64_t created_at, resolved_at; /* resolved_at 0 while open */
};

struct fl_incident_query {
    bool open_only;
    uint64_t instance_id; /* 0 = every instance */
    uint64_t after_id;    /* cursor */
    size_t limit;         /* 0 = 100 */
};

/* Incident id. FL_ENOTFOUND. Caller releases. */
int fl_store_incident_get(struct fl_store *s, uint64_t id, struct fl_incident_row *out,
                          struct fl_error *err);

/* Incidents in id order. Caller frees with fl_incident_rows_free. */
int fl_store_incident_list(struct fl_store *s, const struct fl_incident_query *q,
                           struct fl_incident_row **rows, size_t *n, struct fl_error *err);

void fl_incident_row_release(struct fl_incident_row *r);
void fl_incident_rows_free(struct fl_incident_row *rows, size_t n);

/* ---- activation through the service ---- */

/* What a worker asks for. Strings are borrowed for the call (the service copies them). */
struct fl_job_activation {
    const char *type;   /* required */
    const char *worker; /* recorded on the jobs; required */
    size_t max_jobs;    /* 1..FL_JOB_ACTIVATE_MAX */
    int64_t lock_ms;    /* 1..FL_JOB_LOCK_MAX_MS, on the service's clock */
    /* Long poll: when no job is activatable, wait up to this long (real time, at most
     * FL_JOB_POLL_MAX_MS) for one to be created, fail back or lose its lock; 0 = answer
     * at once. */
    int64_t request_timeout_ms;
    const char *const *fetch; /* variable names to return; n_fetch 0 = all */
    size_t n_fetch;
};

/* A job handed to a worker. Strings owned by the array (fl_activated_jobs_free). */
struct fl_activated_job {
    struct fl_job_row job; /* as locked: worker, lock_until (its deadline) */
    char *variables_json;  /* the variables its token sees (a JSON object), or the
                              names asked for among them */
    char *headers_json;    /* custom headers of its task (zeebe:taskHeaders), "{}" if none */
};

void fl_activated_jobs_free(struct fl_activated_job *jobs, size_t n);

/* Called exactly once with the outcome of an activation: rc 0 with n jobs (n may be 0
 * when a long poll ran out), or a negative enum fl_err with err. Takes ownership of jobs
 * (free with fl_activated_jobs_free). Runs on the service's writer or its job-wait thread:
 * must not block or call fl_service_close. */
typedef void (*fl_jobs_cb)(void *arg, int rc, const struct fl_error *err,
                           struct fl_activated_job *jobs, size_t n);

/* Check *req (FL_EINVAL with err naming the field: a missing type or worker, a count,
 * lock or timeout out of range). */
int fl_job_activation_check(const struct fl_job_activation *req, struct fl_error *err);

/* Activate jobs for a worker: the jobs are locked in a write transaction and delivered to
 * cb after it committed. With a request timeout and nothing to take, the request waits
 * (holding no thread) until a job of its type is created or becomes activatable again,
 * or the timeout runs out (then cb gets 0 jobs). Returns 0 (cb will be called), or
 * FL_EINVAL / FL_ECLOSED with err (cb is not called). Any thread. */
int fl_service_jobs_activate(struct fl_service *svc, const struct fl_job_activation *req,
                             fl_jobs_cb cb, void *arg, struct fl_error *err);

/* As fl_service_jobs_activate, waiting for the outcome (the CLI and tests). *jobs: caller
 * frees with fl_activated_jobs_free. Not from a callback. */
int fl_service_jobs_activate_wait(struct fl_service *svc, const struct fl_job_activation *req,
                                  struct fl_activated_job **jobs, size_t *n, struct fl_error *err);

/* Answer every waiting long poll now (with the jobs it has: none), and every later one
 * at once: the server is stopping. Thread-safe. */
void fl_service_jobs_drain(struct fl_service *svc);

/* Number of activation requests waiting in a long poll (tests, metrics). */
size_t fl_service_jobs_waiting(struct fl_service *svc);

#endif
