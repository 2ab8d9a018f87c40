/* Job workers and incidents over HTTP. Workers (API tokens with the write scope, or
 * administrators) activate jobs of a type -- a long poll when request_timeout is given:
 * the connection is suspended and no MHD thread waits, the service answers it when jobs
 * come or the time is up -- and complete, fail or throw an error on them by id, naming
 * themselves (the lock is checked: 409 when another worker holds it). Administrators list
 * jobs and incidents and resolve incidents, which retries the stuck node. */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "flowd/alloc.h"
#include "flowd/timecalc.h"

#define DEFAULT_LOCK_MS 300000 /* five minutes, as Camunda's default job timeout */

/* Job routes are for programs: a person's browser session may use them only as an
 * administrator. 0 to go on, else a 403 was written. */
static int require_worker(struct api_req *r)
{
    if (r->by_cookie && !r->who.admin) {
        api_problem_status(r, 403, "forbidden", "forbidden",
                           "job routes are for workers: use an API token with the write scope");
        return -1;
    }
    return 0;
}

/* A duration field: a number of milliseconds, or an ISO 8601 duration text ("PT30S").
 * *present false when absent. */
static int field_ms(const struct fl_value *obj, const char *name, int64_t *out, bool *present,
                    struct fl_error *err)
{
    const struct fl_value *v = fl_value_context_get(obj, name, strlen(name));
    struct fl_iso_duration d;
    const char *text;
    *present = false;
    if (!v || fl_value_type(v) == FL_VNULL)
        return 0;
    if (fl_value_type(v) == FL_VNUMBER) {
        if (fl_value_to_int64(v, out) != 0 || *out < 0)
            goto bad;
    } else if ((text = fl_value_str(v, NULL)) != NULL) {
        if (fl_iso_duration_parse(text, &d, NULL) != 0 || d.negative)
            goto bad;
        /* Calendar units (months) have no fixed length; counted from the epoch. */
        *out = fl_iso_duration_add(0, &d);
    } else {
        goto bad;
    }
    *present = true;
    return 0;
bad:
    fl_error_set(err, FL_EINVAL,
                 "'%s' must be a number of milliseconds or an ISO 8601 duration (\"PT30S\")", name);
    if (err)
        snprintf(err->field, sizeof(err->field), "%s", name);
    return FL_EINVAL;
}

static void json_job(struct fl_buf *b, const struct fl_job_row *j)
{
    bool f = true;
    fl_buf_addc(b, '{');
    api_jkey(b, &f, "id");
    fl_buf_addf(b, "%llu", (unsigned long long)j->id);
    api_jkey(b, &f, "type");
    fl_json_cstring(b, j->type ? j->type : "");
    api_jkey(b, &f, "status");
    fl_json_cstring(b, fl_job_status_name(j->status) ? fl_job_status_name(j->status) : "");
    api_jkey(b, &f, "instance_id");
    fl_buf_addf(b, "%llu", (unsigned long long)j->instance_id);
    api_jkey(b, &f, "process");
    fl_json_cstring(b, j->process_key ? j->process_key : "");
    api_jkey(b, &f, "version");
    fl_buf_addf(b, "%d", (int)j->version);
    api_jkey(b, &f, "node_id");
    fl_json_cstring(b, j->node_id ? j->node_id : "");
    api_jkey(b, &f, "retries");
    fl_buf_addf(b, "%d", j->retries);
    api_jkey(b, &f, "worker");
    if (j->worker)
        fl_json_cstring(b, j->worker);
    else
        fl_buf_adds(b, "null");
    /* The lock's end is the worker's deadline; after a failure it is the backoff's. */
    api_jkey(b, &f, "deadline");
    api_jtime(b, j->status == FL_JOB_OPEN ? j->lock_until : 0);
    api_jkey(b, &f, "activatable_at");
    api_jtime(b, j->status == FL_JOB_OPEN ? j->next_at : 0);
    api_jkey(b, &f, "error_message");
    if (j->error)
        fl_json_cstring(b, j->error);
    else
        fl_buf_adds(b, "null");
    api_jkey(b, &f, "error_code");
    if (j->error_code)
        fl_json_cstring(b, j->error_code);
    else
        fl_buf_adds(b, "null");
    api_jkey(b, &f, "created_at");
    api_jtime(b, j->created_at);
    api_jkey(b, &f, "closed_at");
    api_jtime(b, j->closed_at);
}

/* ---- activation ---- */

/* Runs on the service's writer or its job-wait thread: keep it short (hand over, resume). */
static void activated(void *arg, int rc, const struct fl_error *err, struct fl_activated_job *jobs,
                      size_t n)
{
    struct api_req *r = arg;
    memset(&r->res, 0, sizeof(r->res));
    r->res.rc = rc;
    if (rc && err)
        r->res.err = *err;
    r->jobs = jobs;
    r->n_jobs = n;
    r->state = REQ_READY;
    MHD_resume_connection(r->conn);
}

static void activate_answer(struct api_req *r, const struct fl_result *res)
{
    struct fl_buf *b = &r->out;
    if (res->rc != 0) {
        api_problem(r, res->rc, &res->err);
        goto out;
    }
    api_json_begin(r, 200);
    fl_buf_adds(b, "{\"jobs\":[");
    for (size_t i = 0; i < r->n_jobs; i++) {
        const struct fl_activated_job *a = &r->jobs[i];
        if (i)
            fl_buf_addc(b, ',');
        json_job(b, &a->job);
        fl_buf_adds(b, ",\"variables\":");
        fl_buf_adds(b, a->variables_json ? a->variables_json : "{}");
        fl_buf_adds(b, ",\"headers\":");
        fl_buf_adds(b, a->headers_json ? a->headers_json : "{}");
        fl_buf_addc(b, '}');
    }
    fl_buf_adds(b, "]}");
out:
    fl_activated_jobs_free(r->jobs, r->n_jobs);
    r->jobs = NULL;
    r->n_jobs = 0;
}

int api_job_activate(struct api_req *r)
{
    static const char *const allowed[] = {
        "type", "worker", "max_jobs", "timeout", "request_timeout", "fetch_variables", NULL};
    struct fl_job_activation a = {.max_jobs = 1, .lock_ms = DEFAULT_LOCK_MS};
    struct fl_server *srv = r->srv;
    const struct fl_value *fetch;
    const char *names[FL_JOB_FETCH_MAX];
    struct fl_value *body = NULL;
    struct fl_error e;
    int64_t max = 1;
    bool present;
    int rc;

    fl_error_clear(&e);
    if (require_worker(r) != 0)
        return API_DONE;
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_str(body, "type", &a.type, &e)) != 0 ||
        (rc = api_field_str(body, "worker", &a.worker, &e)) != 0 ||
        (rc = api_field_int(body, "max_jobs", &max, &present, &e)) != 0 ||
        (rc = field_ms(body, "timeout", &a.lock_ms, &present, &e)) != 0 ||
        (rc = field_ms(body, "request_timeout", &a.request_timeout_ms, &present, &e)) != 0)
        goto problem;
    if (!present)
        a.request_timeout_ms = 0;
    if (max < 1 || max > FL_JOB_ACTIVATE_MAX) {
        fl_value_unref(body);
        return api_problemf(r, FL_EINVAL, "max_jobs", "max_jobs must be from 1 to %d",
                            FL_JOB_ACTIVATE_MAX);
    }
    a.max_jobs = (size_t)max;
    if (!a.worker)
        a.worker = api_actor(r);
    fetch = fl_value_context_get(body, "fetch_variables", strlen("fetch_variables"));
    if (fetch && fl_value_type(fetch) != FL_VNULL) {
        size_t n = fl_value_type(fetch) == FL_VLIST ? fl_value_list_len(fetch) : 0;
        if (fl_value_type(fetch) != FL_VLIST || n > FL_JOB_FETCH_MAX) {
            fl_value_unref(body);
            return api_problemf(r, FL_EINVAL, "fetch_variables",
                                "fetch_variables must be a list of at most %d variable names",
                                FL_JOB_FETCH_MAX);
        }
        for (size_t i = 0; i < n; i++)
            if (!(names[i] = fl_value_str(fl_value_list_at(fetch, i), NULL))) {
                fl_value_unref(body);
                return api_problemf(r, FL_ETYPE, "fetch_variables",
                                    "fetch_variables must hold variable names (strings)");
            }
        a.fetch = names;
        a.n_fetch = n;
    }
    if ((rc = fl_job_activation_check(&a, &e)) != 0)
        goto problem;

    /* As api_submit: counted in flight (the server's stop waits for it), suspended before
     * the service may answer. */
    r->cont = activate_answer;
    r->cmd_t0_us = api_now_us();
    r->state = REQ_PENDING;
    r->long_poll = a.request_timeout_ms > 0;
    pthread_mutex_lock(&srv->flight_lock);
    srv->in_flight++;
    pthread_mutex_unlock(&srv->flight_lock);
    MHD_suspend_connection(r->conn);
    if ((rc = fl_service_jobs_activate(srv->svc, &a, activated, r, &e)) != 0)
        activated(r, rc, &e, NULL, 0);
    fl_value_unref(body);
    return API_PENDING;
problem:
    fl_value_unref(body);
    return api_problem(r, rc, &e);
}

/* ---- complete, fail, throw error ---- */

static void job_answer(struct api_req *r, const struct fl_result *res, const char *outcome)
{
    static const char *const inst_status[] = {"active", "completed", "cancelled"};
    bool f = true;
    if (res->rc != 0) {
        api_problem(r, res->rc, &res->err);
        return;
    }
    api_json_begin(r, 200);
    fl_buf_addc(&r->out, '{');
    api_jkey(&r->out, &f, "id");
    fl_buf_addf(&r->out, "%llu", (unsigned long long)r->id);
    api_jkey(&r->out, &f, "outcome");
    fl_json_cstring(&r->out, outcome);
    api_jkey(&r->out, &f, "instance_id");
    fl_buf_addf(&r->out, "%llu", (unsigned long long)res->instance_id);
    api_jkey(&r->out, &f, "instance_status");
    fl_json_cstring(&r->out, res->instance_status >= 0 && res->instance_status <= 2
                                 ? inst_status[res->instance_status]
                                 : "unknown");
    api_jkey(&r->out, &f, "incident");
    fl_buf_adds(&r->out, res->incident ? "true" : "false");
    fl_buf_addc(&r->out, '}');
}

static void completed(struct api_req *r, const struct fl_result *res)
{
    job_answer(r, res, "completed");
}

static void failed(struct api_req *r, const struct fl_result *res)
{
    job_answer(r, res, res->incident ? "incident" : "failed");
}

static void thrown(struct api_req *r, const struct fl_result *res)
{
    job_answer(r, res, "error_thrown");
}

int api_job_complete(struct api_req *r)
{
    static const char *const allowed[] = {"variables", "worker", NULL};
    struct fl_command cmd = {.kind = FL_CMD_COMPLETE_JOB};
    struct fl_value *body = NULL;
    struct fl_error e;
    int rc;

    fl_error_clear(&e);
    if (require_worker(r) != 0)
        return API_DONE;
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_obj(body, "variables", &cmd.variables, &e)) != 0 ||
        (rc = api_field_str(body, "worker", &cmd.actor, &e)) != 0) {
        fl_value_unref(body);
        return api_problem(r, rc, &e);
    }
    cmd.target_id = r->id;
    if (!cmd.actor)
        cmd.actor = api_actor(r);
    rc = api_submit(r, &cmd, completed);
    fl_value_unref(body);
    return rc;
}

int api_job_fail(struct api_req *r)
{
    static const char *const allowed[] = {"retries", "error_message", "retry_backoff", "worker",
                                          NULL};
    struct fl_command cmd = {.kind = FL_CMD_FAIL_JOB};
    struct fl_value *body = NULL;
    struct fl_error e;
    int64_t retries = 0;
    bool present;
    int rc;

    fl_error_clear(&e);
    if (require_worker(r) != 0)
        return API_DONE;
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_int(body, "retries", &retries, &present, &e)) != 0 ||
        (rc = api_field_str(body, "error_message", &cmd.error_message, &e)) != 0 ||
        (rc = api_field_str(body, "worker", &cmd.actor, &e)) != 0)
        goto problem;
    if (!present || retries < 0 || retries > 1000000) {
        fl_value_unref(body);
        return api_problemf(r, FL_EINVAL, "retries",
                            "retries (the retries left, 0 raises an incident) must be given, "
                            "from 0 to 1000000");
    }
    if ((rc = field_ms(body, "retry_backoff", &cmd.retry_backoff_ms, &present, &e)) != 0)
        goto problem;
    if (cmd.retry_backoff_ms > FL_JOB_LOCK_MAX_MS) {
        fl_value_unref(body);
        return api_problemf(r, FL_EINVAL, "retry_backoff", "retry_backoff must be at most a week");
    }
    cmd.retries = (int)retries;
    cmd.target_id = r->id;
    if (!cmd.actor)
        cmd.actor = api_actor(r);
    rc = api_submit(r, &cmd, failed);
    fl_value_unref(body);
    return rc;
problem:
    fl_value_unref(body);
    return api_problem(r, rc, &e);
}

int api_job_throw_error(struct api_req *r)
{
    static const char *const allowed[] = {"error_code", "error_message", "variables", "worker",
                                          NULL};
    struct fl_command cmd = {.kind = FL_CMD_THROW_ERROR};
    struct fl_value *body = NULL;
    struct fl_error e;
    int rc;

    fl_error_clear(&e);
    if (require_worker(r) != 0)
        return API_DONE;
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_str(body, "error_code", &cmd.error_code, &e)) != 0 ||
        (rc = api_field_str(body, "error_message", &cmd.error_message, &e)) != 0 ||
        (rc = api_field_obj(body, "variables", &cmd.variables, &e)) != 0 ||
        (rc = api_field_str(body, "worker", &cmd.actor, &e)) != 0) {
        fl_value_unref(body);
        return api_problem(r, rc, &e);
    }
    if (!cmd.error_code || !cmd.error_code[0]) {
        fl_value_unref(body);
        return api_problemf(r, FL_EINVAL, "error_code",
                            "error_code (the BPMN error code to throw) must be given");
    }
    cmd.target_id = r->id;
    if (!cmd.actor)
        cmd.actor = api_actor(r);
    rc = api_submit(r, &cmd, thrown);
    fl_value_unref(body);
    return rc;
}

/* ---- lists (administrators) ---- */

int api_job_get(struct api_req *r)
{
    struct fl_store *s = NULL;
    struct fl_job_row j;
    struct fl_error e;
    int rc;

    fl_error_clear(&e);
    if ((rc = api_reader_get(r->srv, &s, &e)) != 0)
        return api_problem(r, rc, &e);
    rc = fl_store_job_get(s, r->id, &j, &e);
    api_reader_put(r->srv, s);
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, 200);
    json_job(&r->out, &j);
    fl_buf_addc(&r->out, '}');
    fl_job_row_release(&j);
    return API_DONE;
}

int api_job_list(struct api_req *r)
{
    struct fl_job_query q = {.status = -1};
    const char *status = api_query(r, "status"), *inst = api_query(r, "instance_id");
    struct fl_job_row *rows = NULL;
    struct fl_store *s = NULL;
    struct fl_error e;
    size_t n = 0;
    int rc;

    fl_error_clear(&e);
    if ((rc = api_paging(r, &q.after_id, &q.limit)) != -1)
        return rc;
    q.type = api_query(r, "type");
    if (q.type && !*q.type)
        q.type = NULL;
    if (status && *status && fl_job_status_parse(status, &q.status) != 0)
        return api_problemf(r, FL_EINVAL, "status",
                            "status must be 'open', 'completed' or 'failed', not '%s'", status);
    if (inst && *inst) {
        char *end;
        q.instance_id = strtoull(inst, &end, 10);
        if (*end || inst[0] < '0' || inst[0] > '9')
            return api_problemf(r, FL_EINVAL, "instance_id", "'instance_id' must be an id");
    }
    if ((rc = api_reader_get(r->srv, &s, &e)) != 0)
        return api_problem(r, rc, &e);
    rc = fl_store_job_list(s, &q, &rows, &n, &e);
    api_reader_put(r->srv, s);
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, 200);
    fl_buf_adds(&r->out, "{\"items\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            fl_buf_addc(&r->out, ',');
        json_job(&r->out, &rows[i]);
        fl_buf_addc(&r->out, '}');
    }
    fl_buf_adds(&r->out, "],\"next\":");
    if (n == q.limit && n)
        fl_buf_addf(&r->out, "\"%llu\"", (unsigned long long)rows[n - 1].id);
    else
        fl_buf_adds(&r->out, "null");
    fl_buf_addc(&r->out, '}');
    fl_job_rows_free(rows, n);
    return API_DONE;
}

static void json_incident(struct fl_buf *b, const struct fl_incident_row *i)
{
    bool f = true;
    fl_buf_addc(b, '{');
    api_jkey(b, &f, "id");
    fl_buf_addf(b, "%llu", (unsigned long long)i->id);
    api_jkey(b, &f, "state");
    fl_json_cstring(b, i->resolved_at ? "resolved" : "open");
    api_jkey(b, &f, "instance_id");
    fl_buf_addf(b, "%llu", (unsigned long long)i->instance_id);
    api_jkey(b, &f, "process");
    fl_json_cstring(b, i->process_key ? i->process_key : "");
    api_jkey(b, &f, "node_id");
    if (i->node_id)
        fl_json_cstring(b, i->node_id);
    else
        fl_buf_adds(b, "null");
    api_jkey(b, &f, "token_id");
    fl_buf_addf(b, "%llu", (unsigned long long)i->token_id);
    api_jkey(b, &f, "job_id");
    if (i->job_id)
        fl_buf_addf(b, "%llu", (unsigned long long)i->job_id);
    else
        fl_buf_adds(b, "null");
    api_jkey(b, &f, "message");
    fl_json_cstring(b, i->message ? i->message : "");
    api_jkey(b, &f, "created_at");
    api_jtime(b, i->created_at);
    api_jkey(b, &f, "resolved_at");
    api_jtime(b, i->resolved_at);
    fl_buf_addc(b, '}');
}

int api_incident_list(struct api_req *r)
{
    struct fl_incident_query q = {.open_only = true};
    const char *state = api_query(r, "state"), *inst = api_query(r, "instance_id");
    struct fl_incident_row *rows = NULL;
    struct fl_store *s = NULL;
    struct fl_error e;
    size_t n = 0;
    int rc;

    fl_error_clear(&e);
    if ((rc = api_paging(r, &q.after_id, &q.limit)) != -1)
        return rc;
    if (state && *state) {
        if (!strcmp(state, "all"))
            q.open_only = false;
        else if (strcmp(state, "open") != 0)
            return api_problemf(r, FL_EINVAL, "state", "state must be 'open' or 'all', not '%s'",
                                state);
    }
    if (inst && *inst) {
        char *end;
        q.instance_id = strtoull(inst, &end, 10);
        if (*end || inst[0] < '0' || inst[0] > '9')
            return api_problemf(r, FL_EINVAL, "instance_id", "'instance_id' must be an id");
    }
    if ((rc = api_reader_get(r->srv, &s, &e)) != 0)
        return api_problem(r, rc, &e);
    rc = fl_store_incident_list(s, &q, &rows, &n, &e);
    api_reader_put(r->srv, s);
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, 200);
    fl_buf_adds(&r->out, "{\"items\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            fl_buf_addc(&r->out, ',');
        json_incident(&r->out, &rows[i]);
    }
    fl_buf_adds(&r->out, "],\"next\":");
    if (n == q.limit && n)
        fl_buf_addf(&r->out, "\"%llu\"", (unsigned long long)rows[n - 1].id);
    else
        fl_buf_adds(&r->out, "null");
    fl_buf_addc(&r->out, '}');
    fl_incident_rows_free(rows, n);
    return API_DONE;
}

/* The incident as it stands now, as the answer (status 200). */
static void answer_incident(struct api_req *r, uint64_t id)
{
    struct fl_incident_row i;
    struct fl_store *s = NULL;
    struct fl_error e;
    int rc;
    fl_error_clear(&e);
    if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
        rc = fl_store_incident_get(s, id, &i, &e);
        api_reader_put(r->srv, s);
    }
    if (rc != 0) {
        api_problem(r, rc, &e);
        return;
    }
    api_json_begin(r, 200);
    json_incident(&r->out, &i);
    fl_incident_row_release(&i);
}

int api_incident_get(struct api_req *r)
{
    answer_incident(r, r->id);
    return API_DONE;
}

static void resolved(struct api_req *r, const struct fl_result *res)
{
    if (res->rc != 0) {
        api_problem(r, res->rc, &res->err);
        return;
    }
    answer_incident(r, r->id);
}

int api_incident_resolve(struct api_req *r)
{
    static const char *const allowed[] = {"retries", "variables", NULL};
    struct fl_command cmd = {.kind = FL_CMD_RESOLVE};
    struct fl_value *body = NULL;
    struct fl_incident_row i;
    struct fl_store *s = NULL;
    struct fl_error e;
    int64_t retries = 0;
    bool present;
    int rc;

    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_int(body, "retries", &retries, &present, &e)) != 0 ||
        (rc = api_field_obj(body, "variables", &cmd.variables, &e)) != 0)
        goto problem;
    if (retries < 0 || retries > 1000000) {
        fl_value_unref(body);
        return api_problemf(r, FL_EINVAL, "retries", "retries must be from 0 to 1000000");
    }
    if ((rc = api_reader_get(r->srv, &s, &e)) != 0)
        goto problem;
    rc = fl_store_incident_get(s, r->id, &i, &e);
    api_reader_put(r->srv, s);
    if (rc != 0)
        goto problem;
    if (i.resolved_at) {
        fl_incident_row_release(&i);
        fl_value_unref(body);
        return api_problemf(r, FL_ECONFLICT, NULL, "incident %llu is already resolved",
                            (unsigned long long)r->id);
    }
    cmd.instance_id = i.instance_id;
    cmd.target_id = i.token_id;
    fl_incident_row_release(&i);
    cmd.retries = (int)retries;
    cmd.actor = api_actor(r);
    rc = api_submit(r, &cmd, resolved);
    fl_value_unref(body);
    return rc;
problem:
    fl_value_unref(body);
    return api_problem(r, rc, &e);
}
