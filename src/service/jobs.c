/* Job workers, the writer's side: an activation attempt locks jobs in the writer's
 * transaction (locks are writes, and the group commit makes them durable before a worker
 * hears of them) and gathers what the worker needs -- the variables the job's token sees
 * and its task's custom headers -- as JSON, since values must not leave the writer's
 * thread. Before a job command runs, the job's lock is checked; after a step, the job
 * types that became activatable are noted so their long polls wake after the batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/jobs.h"
#include "flowd/value.h"
#include "service/job_wait.h"
#include "service/service_int.h"

/* Add the entries of ctx that out does not have yet (inner scopes come first). */
static void add_missing(struct fl_value *out, const struct fl_value *ctx)
{
    size_t n = fl_value_context_len(ctx);
    for (size_t i = 0; i < n; i++) {
        size_t klen;
        const char *k = fl_value_context_key(ctx, i, &klen);
        if (!fl_value_context_get(out, k, klen))
            fl_value_context_set(out, k, klen, fl_value_ref(fl_value_context_val(ctx, i)));
    }
}

static const struct fl_value *locals_of(const struct fl_instance *inst, uint64_t scope)
{
    for (size_t i = 0; i < inst->n_locals; i++)
        if (inst->locals[i].scope == scope)
            return inst->locals[i].vars;
    return NULL;
}

static const struct fl_token *token_by_id(const struct fl_instance *inst, uint64_t id)
{
    for (size_t i = 0; i < inst->n_tokens; i++)
        if (inst->tokens[i].id == id)
            return &inst->tokens[i];
    return NULL;
}

/* The variables token_id sees: its own locals, those of each enclosing scope, then the
 * instance's (inner names hide outer ones). A new reference. */
static struct fl_value *visible_vars(const struct fl_instance *inst, uint64_t token_id)
{
    const struct fl_token *t = token_by_id(inst, token_id);
    const struct fl_value *lv;
    struct fl_value *out;
    size_t guard = 0;
    if (inst->n_locals == 0)
        return fl_value_ref(inst->variables);
    out = fl_value_context_new();
    if ((lv = locals_of(inst, token_id)) != NULL)
        add_missing(out, lv);
    for (uint64_t s = t ? t->scope : 0; s && guard++ <= inst->n_tokens;) {
        const struct fl_token *st = token_by_id(inst, s);
        if ((lv = locals_of(inst, s)) != NULL)
            add_missing(out, lv);
        s = st ? st->scope : 0;
    }
    add_missing(out, inst->variables);
    return out;
}

/* The variables of job j as JSON: all, or only the names asked for that exist. */
static char *variables_json(const struct fl_instance *inst, const struct fl_job_row *j,
                            const struct fl__job_waiter *w)
{
    struct fl_value *vars = visible_vars(inst, j->token_id), *pick = NULL;
    struct fl_buf b = FL_BUF_INIT;
    if (w->n_fetch) {
        pick = fl_value_context_new();
        for (size_t i = 0; i < w->n_fetch; i++) {
            const struct fl_value *v = fl_value_context_get(vars, w->fetch[i], strlen(w->fetch[i]));
            if (v)
                fl_value_context_set(pick, w->fetch[i], strlen(w->fetch[i]), fl_value_ref(v));
        }
    }
    /* Variables were JSON when they came in; a failure here would be a bug, and an
     * empty object is still an honest answer for the worker. */
    if (fl_value_to_json(pick ? pick : vars, &b) != 0) {
        fl_buf_reset(&b);
        fl_buf_adds(&b, "{}");
    }
    fl_value_unref(pick);
    fl_value_unref(vars);
    return fl_buf_detach(&b, NULL);
}

/* Custom headers of the job's task (zeebe:taskHeaders) as a JSON object. */
static char *headers_json(const struct fl_model *m, const char *node_id)
{
    struct fl_buf b = FL_BUF_INIT;
    uint32_t i = node_id ? fl_model_find_node(m, node_id) : FL_NONE;
    fl_buf_addc(&b, '{');
    if (i != FL_NONE) {
        const struct fl_node *n = &m->nodes[i];
        for (size_t k = 0; k < n->n_job_headers; k++) {
            if (k)
                fl_buf_addc(&b, ',');
            fl_json_cstring(&b, n->job_headers[k].key);
            fl_buf_addc(&b, ':');
            fl_json_cstring(&b, n->job_headers[k].value ? n->job_headers[k].value : "");
        }
    }
    fl_buf_addc(&b, '}');
    return fl_buf_detach(&b, NULL);
}

/* The instance of a job, from the writer's cache or the store (then cached). */
static int instance_of(struct fl_service *svc, uint64_t id, struct fl_instance **out,
                       struct fl_error *err)
{
    struct fl_instance *inst = fl__inst_cache_get(&svc->instances, id);
    int rc;
    if (!inst) {
        if ((rc = fl_store_instance_load(svc->store, id, &inst, err)) != 0)
            return rc;
        fl__inst_cache_put(&svc->instances, inst);
    }
    *out = inst;
    return 0;
}

int fl__jobs_exec(struct fl_service *svc, struct fl__svc_cmd *q, struct fl_error *err)
{
    struct fl__job_waiter *w = q->waiter;
    struct fl_job_row *rows = NULL;
    size_t n = 0;
    int64_t now = fl__svc_now(svc);
    int64_t lock_until = now + w->lock_ms;
    int rc;

    /* A batch that failed is re-run one command at a time: start over. */
    fl_activated_jobs_free(w->jobs, w->n_jobs);
    w->jobs = NULL;
    w->n_jobs = 0;
    w->retry_at = INT64_MAX;
    if ((rc = fl_store_job_activate(svc->store, w->type, w->worker, w->max_jobs, now, lock_until,
                                    &rows, &n, err)) != 0)
        return rc;
    if (n)
        w->jobs = fl_calloc(n, sizeof(*w->jobs));
    for (size_t i = 0; i < n; i++) {
        struct fl_activated_job *a = &w->jobs[w->n_jobs];
        const struct fl_model *m;
        struct fl_instance *inst;
        if ((rc = instance_of(svc, rows[i].instance_id, &inst, err)) != 0 ||
            (rc = fl__model_cache_get(svc, inst->definition_id, &m, err)) != 0)
            goto fail;
        a->job = rows[i];
        memset(&rows[i], 0, sizeof(rows[i]));
        w->n_jobs++;
        a->variables_json = variables_json(inst, &a->job, w);
        a->headers_json = headers_json(m, a->job.node_id);
    }
    fl_job_rows_free(rows, n);
    if (w->n_jobs == 0 && w->long_poll) {
        /* When to look again without being woken: the first lock or backoff to run out. */
        int64_t at;
        rc = fl_store_job_next_activatable(svc->store, w->type, now, &at, err);
        if (rc == 0)
            w->retry_at = at;
        else if (rc != FL_ENOTFOUND)
            return rc;
    }
    return 0;
fail:
    fl_job_rows_free(rows, n);
    /* Whatever the store failure, the transaction is doomed: no lock was taken. */
    return rc == FL_ENOTFOUND ? FL_ESTORE : rc;
}

int fl__jobs_check_cmd(struct fl_service *svc, const struct fl_command *cmd, struct fl_error *err)
{
    struct fl_job_row j;
    int64_t now;
    int rc = 0;

    if (cmd->kind != FL_CMD_COMPLETE_JOB && cmd->kind != FL_CMD_FAIL_JOB &&
        cmd->kind != FL_CMD_THROW_ERROR)
        return 0;
    if ((rc = fl_store_job_get(svc->store, cmd->target_id, &j, err)) != 0)
        return rc;
    now = fl__svc_now(svc);
    if (j.status != FL_JOB_OPEN)
        rc = fl_error_set(err, FL_ECONFLICT, "job %llu is already %s", (unsigned long long)j.id,
                          fl_job_status_name(j.status));
    else if (cmd->actor && j.worker && strcmp(j.worker, cmd->actor) != 0 && j.lock_until > now)
        rc = fl_error_set(
            err, FL_ECONFLICT, "job %llu is locked by worker '%s' for %lld ms more, not by '%s'",
            (unsigned long long)j.id, j.worker, (long long)(j.lock_until - now), cmd->actor);
    fl_job_row_release(&j);
    return rc;
}

/* The job type of job id, through the token that holds it. */
static const char *type_of_job(const struct fl_model *m, const struct fl_instance *inst,
                               uint64_t id)
{
    for (size_t i = 0; i < inst->n_tokens; i++)
        if (inst->tokens[i].job_id == id && inst->tokens[i].node < m->n_nodes)
            return m->nodes[inst->tokens[i].node].job_type;
    return NULL;
}

int fl__jobs_after_step(struct fl_service *svc, const struct fl_model *m,
                        const struct fl_instance *inst, const struct fl_command *cmd,
                        const struct fl_effects *fx, struct fl_error *err)
{
    int rc;
    for (size_t i = 0; i < fx->n; i++) {
        const struct fl_effect *e = &fx->items[i];
        if (e->kind == FL_FX_JOB_CREATE)
            fl__jobs_note_type(svc->jobs, e->u.job.type);
        else if (e->kind == FL_FX_JOB_RETRY)
            fl__jobs_note_type(svc->jobs, type_of_job(m, inst, e->u.job_close.id));
    }
    if (cmd->kind == FL_CMD_THROW_ERROR && cmd->error_code &&
        (rc = fl_store_job_set_error_code(svc->store, cmd->target_id, cmd->error_code, err)) != 0)
        return rc;
    return 0;
}

void fl_activated_jobs_free(struct fl_activated_job *jobs, size_t n)
{
    for (size_t i = 0; jobs && i < n; i++) {
        fl_job_row_release(&jobs[i].job);
        free(jobs[i].variables_json);
        free(jobs[i].headers_json);
    }
    free(jobs);
}

int fl_job_activation_check(const struct fl_job_activation *req, struct fl_error *err)
{
    const char *field = NULL;
    int rc = 0;
    if (!req->type || !req->type[0]) {
        field = "type";
        rc = fl_error_set(err, FL_EINVAL, "a job activation needs a job type");
    } else if (!req->worker || !req->worker[0]) {
        field = "worker";
        rc = fl_error_set(err, FL_EINVAL, "a job activation needs a worker name");
    } else if (req->max_jobs < 1 || req->max_jobs > FL_JOB_ACTIVATE_MAX) {
        field = "max_jobs";
        rc = fl_error_set(err, FL_EINVAL, "max_jobs must be from 1 to %d, not %zu",
                          FL_JOB_ACTIVATE_MAX, req->max_jobs);
    } else if (req->lock_ms < 1 || req->lock_ms > FL_JOB_LOCK_MAX_MS) {
        field = "timeout";
        rc = fl_error_set(err, FL_EINVAL, "the lock timeout must be from 1 ms to %lld ms, not %lld",
                          (long long)FL_JOB_LOCK_MAX_MS, (long long)req->lock_ms);
    } else if (req->request_timeout_ms < 0 || req->request_timeout_ms > FL_JOB_POLL_MAX_MS) {
        field = "request_timeout";
        rc = fl_error_set(err, FL_EINVAL, "request_timeout must be from 0 to %d ms, not %lld",
                          FL_JOB_POLL_MAX_MS, (long long)req->request_timeout_ms);
    } else if (req->n_fetch > FL_JOB_FETCH_MAX) {
        field = "fetch_variables";
        rc = fl_error_set(err, FL_EINVAL, "fetch_variables names at most %d variables",
                          FL_JOB_FETCH_MAX);
    }
    for (size_t i = 0; rc == 0 && i < req->n_fetch; i++)
        if (!req->fetch[i] || !req->fetch[i][0]) {
            field = "fetch_variables";
            rc = fl_error_set(err, FL_EINVAL, "fetch_variables holds an empty name");
        }
    if (rc && err && field)
        snprintf(err->field, sizeof(err->field), "%s", field);
    return rc;
}
