/* The writer thread: takes up to max_batch queued commands, runs them in one transaction
 * (engine step, then the store writes of its effects), commits once, and only then calls
 * each command's callback -- group commit, so many commands share one fsync and none is
 * acknowledged before it is durable. A store error mid-batch rolls back and re-runs the
 * batch one command per transaction, so one bad command does not fail its neighbours. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flowd/alloc.h"
#include "flowd/store.h"
#include "flowd/value.h"
#include "service/service_int.h"

/* Outcome of executing one command inside the open transaction. */
enum exec_outcome {
    EXEC_OK,      /* written; acknowledge after commit */
    EXEC_REFUSED, /* nothing written; res carries the error */
    EXEC_FATAL    /* the store failed: the transaction must be rolled back */
};

int64_t fl__svc_now(struct fl_service *svc)
{
    struct timespec ts;
    if (svc->test_clock)
        return atomic_load(&svc->test_now);
    if (svc->clock_ms)
        return svc->clock_ms();
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ms(struct fl_service *svc)
{
    return fl__svc_now(svc);
}

static uint64_t next_id(void *arg, enum fl_id_kind kind)
{
    struct fl_service *svc = arg;
    return ++svc->next_id[kind];
}

/* Errors of the store itself (as opposed to "no such task"): they doom the transaction. */
static bool is_store_failure(int rc)
{
    return rc == FL_ESTORE || rc == FL_EIO || rc == FL_EBUSY || rc == FL_ENOMEM ||
           rc == FL_EINTERNAL;
}

void fl__svc_touch(struct fl_service *svc, const struct fl_instance *inst)
{
    fl_grow(&svc->touched, &svc->cap_touched, svc->n_touched + 1, sizeof(*svc->touched));
    svc->touched[svc->n_touched].id = inst->id;
    svc->touched[svc->n_touched].ended = inst->status != FL_INSTANCE_ACTIVE;
    svc->n_touched++;
}

/* After a failed transaction the cached instances it changed are ahead of the database,
 * and models compiled from definitions it inserted may name ids that will be reused. */
static void drop_touched(struct fl_service *svc)
{
    fl__model_cache_truncate(&svc->models, svc->models_mark);
    for (size_t i = 0; i < svc->n_touched; i++)
        fl__inst_cache_drop(&svc->instances, svc->touched[i].id);
    svc->n_touched = 0;
    svc->n_offers = 0; /* timers that were never written */
}

/* After a commit: ended instances take no more commands worth caching. */
static void settle_touched(struct fl_service *svc)
{
    /* The status was noted when the command ran: no lookup for the active ones. */
    for (size_t i = 0; i < svc->n_touched; i++)
        if (svc->touched[i].ended)
            fl__inst_cache_drop(&svc->instances, svc->touched[i].id);
    svc->n_touched = 0;
    /* Before the acknowledgements: a fire's follow-up timers are known to the scheduler
     * by the time the fire counts as done. */
    fl__sched_offer(svc->sched, svc->offers, svc->n_offers);
    svc->n_offers = 0;
}

/* Note the timers a written step set, for the scheduler once the batch commits. */
void fl__svc_note_timers(struct fl_service *svc, const struct fl_instance *inst,
                         const struct fl_effects *fx)
{
    if (!svc->sched)
        return;
    for (size_t i = 0; i < fx->n; i++) {
        const struct fl_timer *t = &fx->items[i].u.timer;
        if (fx->items[i].kind != FL_FX_TIMER_SET)
            continue;
        fl_grow(&svc->offers, &svc->cap_offers, svc->n_offers + 1, sizeof(*svc->offers));
        svc->offers[svc->n_offers].id = t->id;
        svc->offers[svc->n_offers].instance_id = t->instance_id ? t->instance_id : inst->id;
        svc->offers[svc->n_offers].due_at = t->due_at;
        svc->n_offers++;
    }
}

static enum exec_outcome refuse(struct fl__svc_cmd *q, int rc)
{
    q->res.rc = rc;
    if (q->res.err.code == 0)
        fl_error_set(&q->res.err, rc, "%s", fl_err_message(rc));
    q->res.err.code = rc;
    return EXEC_REFUSED;
}

static enum exec_outcome fail(struct fl__svc_cmd *q, int rc)
{
    q->res.rc = rc;
    q->res.err.code = rc;
    return EXEC_FATAL;
}

static enum exec_outcome exec_deploy(struct fl_service *svc, struct fl__svc_cmd *q)
{
    struct fl__svc_deploy *d = q->deploy;
    int64_t now = now_ms(svc);
    struct fl_engine_ctx ctx = {.now_ms = now, .next_id = next_id, .id_arg = svc};
    d->n_out = 0;
    for (size_t i = 0; i < d->n_processes; i++) {
        struct fl_definition_row row;
        bool created;
        int rc = d->dmn ? fl_store_decision_put(svc->store, d->keys[i], d->names[i], d->xml,
                                                d->len, now, &row, &created, &q->res.err)
                        : fl_store_definition_put(svc->store, d->keys[i], d->names[i], d->xml,
                                                  d->len, now, &row, &created, &q->res.err);
        if (rc)
            return fail(q, rc);
        /* A new version's timer start events replace those of the older versions. */
        if (created && !d->dmn &&
            ((rc = fl__svc_start_timers_deploy(svc, &ctx, row.key, row.id, &q->res.err)) != 0 ||
             (rc = fl__svc_message_starts_deploy(svc, row.key, row.id, &q->res.err)) != 0)) {
            fl_definition_row_release(&row);
            return fail(q, rc);
        }
        if (d->n_out < d->max_results) {
            struct fl_deploy_result *r = &d->results[d->n_out++];
            memset(r, 0, sizeof(*r));
            strncpy(r->key, row.key, sizeof(r->key) - 1);
            r->version = row.version;
            r->definition_id = row.id;
            r->created = created;
            r->n_warnings = d->n_warnings[i];
            r->decision = d->dmn;
        }
        fl_definition_row_release(&row);
    }
    return EXEC_OK;
}

static uint64_t first_task_created(const struct fl_effects *fx)
{
    for (size_t i = 0; i < fx->n; i++)
        if (fx->items[i].kind == FL_FX_TASK_CREATE)
            return fx->items[i].u.task.id;
    return 0;
}

/* Which instance a command acts on: given, or found through its task or job. */
static int route_cmd(struct fl_service *svc, const struct fl_command *cmd, uint64_t *instance_id,
                     struct fl_error *err)
{
    struct fl_task_row task;
    int rc;
    *instance_id = cmd->instance_id;
    if (*instance_id)
        return 0;
    switch (cmd->kind) {
    case FL_CMD_COMPLETE_TASK:
    case FL_CMD_RECORD_ACTION:
        if ((rc = fl_store_task_get(svc->store, cmd->target_id, &task, err)) != 0)
            return rc;
        *instance_id = task.instance_id;
        fl_task_row_release(&task);
        return 0;
    case FL_CMD_COMPLETE_JOB:
    case FL_CMD_FAIL_JOB:
    case FL_CMD_THROW_ERROR:
        return fl_store_job_instance(svc->store, cmd->target_id, instance_id, err);
    default:
        return fl_error_set(err, FL_EINVAL, "command needs an instance id");
    }
}

void fl__svc_engine_ctx(struct fl_service *svc, struct fl_engine_ctx *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->now_ms = now_ms(svc);
    ctx->next_id = next_id;
    ctx->id_arg = svc;
    ctx->calendar_add = fl__svc_calendar_add;
    ctx->calendar_arg = svc;
    ctx->decide = fl__svc_decide;
    ctx->decide_arg = svc;
}

int fl__svc_step(struct fl_service *svc, const struct fl_command *cmd_in, struct fl_effects *fx,
                 struct fl_result *res, unsigned depth)
{
    struct fl_engine_ctx ctx;
    const struct fl_model *m = NULL;
    struct fl_instance *inst = NULL;
    struct fl_command cmd = *cmd_in;
    uint64_t def_id = 0, iid = 0;
    int rc;

    fl__svc_engine_ctx(svc, &ctx);
    fl_effects_reset(fx);
    if (cmd.kind == FL_CMD_PUBLISH_MESSAGE || cmd.kind == FL_CMD_BROADCAST_SIGNAL)
        return fl__svc_publish(svc, &cmd, res, depth); /* across instances: svc_messages.c */
    if (cmd.kind == FL_CMD_START) {
        if (!cmd.process_key)
            return fl_error_set(&res->err, FL_EINVAL, "start needs a process key");
        rc = fl_store_definition_find(svc->store, cmd.process_key, cmd.process_version, &def_id,
                                      &res->err);
        if (rc == 0)
            rc = fl__model_cache_get(svc, def_id, &m, &res->err);
        if (rc)
            return rc;
        if ((rc = fl_engine_start(m, def_id, &cmd, &ctx, &inst, fx, &res->err)) != 0)
            return rc;
        fl__inst_cache_put(&svc->instances, inst);
    } else if (cmd.kind == FL_CMD_FIRE_TIMER && !cmd.instance_id) {
        /* A timer start event's timer belongs to a definition: it starts an instance. */
        rc = fl__svc_start_timer_fire(svc, cmd.target_id, &ctx, fx, &m, &inst, &res->err);
        if (rc)
            return rc;
        if (!inst)
            return 0;
        fl__inst_cache_put(&svc->instances, inst);
    } else {
        /* A worker may act on its job only while no other worker holds its lock. */
        if ((rc = fl__jobs_check_cmd(svc, &cmd, &res->err)) != 0)
            return rc;
        /* route() reads q only for the command and the error: give it a view. */
        if ((rc = route_cmd(svc, &cmd, &iid, &res->err)) != 0)
            return rc;
        inst = fl__inst_cache_get(&svc->instances, iid);
        if (!inst) {
            if ((rc = fl_store_instance_load(svc->store, iid, &inst, &res->err)) != 0)
                return rc;
            fl__inst_cache_put(&svc->instances, inst);
        }
        if ((rc = fl__model_cache_get(svc, inst->definition_id, &m, &res->err)) != 0)
            return rc;
        if ((rc = fl_engine_apply(m, inst, &cmd, &ctx, fx, &res->err)) != 0)
            return rc;
    }
    fl__svc_touch(svc, inst);
    if ((rc = fl_store_apply(svc->store, m, inst, fx, &res->err)) != 0)
        return is_store_failure(rc) ? rc : FL_ESTORE; /* any failure to write dooms the batch */
    fl__svc_note_timers(svc, inst, fx);
    if ((rc = fl__jobs_after_step(svc, m, inst, &cmd, fx, &res->err)) != 0)
        return rc;
    res->rc = 0;
    res->instance_id = inst->id;
    res->instance_status = (int)inst->status;
    res->incident = inst->incident;
    res->task_id = first_task_created(fx);
    /* What this step asks of other instances (calls, signals, messages) runs now, in the
     * same transaction: all of it commits together or none of it does. */
    return fl__svc_cascade(svc, inst, fx, depth, &res->err);
}

static enum exec_outcome exec_engine(struct fl_service *svc, struct fl__svc_cmd *q,
                                     struct fl_effects *fx)
{
    struct fl_value *vars = NULL;
    struct fl_command cmd = q->cmd;
    int rc;

    if (q->vars_json) {
        if ((rc = fl_value_from_json(q->vars_json, q->vars_len, &vars, &q->res.err)) != 0)
            return refuse(q, rc);
        cmd.variables = vars;
    }
    rc = fl__svc_step(svc, &cmd, fx, &q->res, 0);
    fl_value_unref(vars);
    if (rc == 0)
        return EXEC_OK;
    return is_store_failure(rc) ? fail(q, rc) : refuse(q, rc);
}

/* fl_service_submit_answered: the answer goes into the transaction of the command's
 * effects, so a crash can never keep one without the other. */
static enum exec_outcome keep_answer(struct fl_service *svc, struct fl__svc_cmd *q,
                                     enum exec_outcome out)
{
    struct fl_idem_row row;
    int rc;
    if (!q->render || out == EXEC_FATAL)
        return out;
    memset(&row, 0, sizeof(row));
    rc = q->render(q->arg, svc->store, &q->res, &row);
    if (rc == 0)
        rc = fl_store_idem_put(svc->store, &row, &q->res.err);
    if (rc < 0) {
        if (q->res.err.code == 0)
            fl_error_set(&q->res.err, rc, "cannot keep the answer of the command");
        return fail(q, rc);
    }
    q->res.answer_kept = rc == 0;
    return out;
}

static enum exec_outcome exec_one(struct fl_service *svc, struct fl__svc_cmd *q,
                                  struct fl_effects *fx)
{
    enum exec_outcome out;
    memset(&q->res, 0, sizeof(q->res));
    if (q->pre_rc) {
        fl_error_set(&q->res.err, q->pre_rc, "%s",
                     q->pre_rc == FL_ETYPE ? "variables must be a context (a JSON object)"
                                           : "variables too large");
        out = refuse(q, q->pre_rc);
    } else if (q->kind == FL__SVC_DEPLOY) {
        return exec_deploy(svc, q);
    } else if (q->kind == FL__SVC_ACTIVATE) {
        int rc = fl__jobs_exec(svc, q, &q->res.err);
        return rc ? fail(q, rc) : EXEC_OK;
    } else if (q->kind == FL__SVC_MIGRATE) {
        int rc = fl__svc_migrate_exec(svc, q->migrate, fx, &q->res.err);
        if (rc == 0)
            return EXEC_OK;
        return is_store_failure(rc) ? fail(q, rc) : refuse(q, rc);
    } else {
        out = exec_engine(svc, q, fx);
    }
    return keep_answer(svc, q, out);
}

static void fail_all(struct fl__svc_cmd **batch, size_t n, int rc, const struct fl_error *e)
{
    for (size_t i = 0; i < n; i++) {
        memset(&batch[i]->res, 0, sizeof(batch[i]->res));
        batch[i]->res.rc = rc;
        batch[i]->res.err = *e;
        batch[i]->res.err.code = rc;
    }
}

/* Begin the writer's transaction. When another connection committed since the last one
 * (a second process on the file, a CLI beside the server), ids handed out in memory may
 * be taken: raise each allocator to the largest id now stored, never lowering it. Cached
 * instances another writer changed are caught by the revision check of fl_store_apply. */
static int begin(struct fl_service *svc, struct fl_error *e)
{
    bool changed;
    int rc;
    if ((rc = fl_store_begin(svc->store, e)) != 0)
        return rc;
    if ((rc = fl_store_changed_elsewhere(svc->store, &changed, e)) != 0)
        goto fail;
    for (int k = FL_ID_INSTANCE; changed && k < FL__ID_COUNT; k++) {
        uint64_t max;
        if ((rc = fl_store_max_id(svc->store, (enum fl_id_kind)k, &max, e)) != 0)
            goto fail;
        if (max > svc->next_id[k])
            svc->next_id[k] = max;
    }
    return 0;
fail:
    fl_store_rollback(svc->store);
    return rc;
}

/* One command in its own transaction (after a batch failed). */
static void run_single(struct fl_service *svc, struct fl__svc_cmd *q, struct fl_effects *fx)
{
    enum exec_outcome out;
    struct fl_error e;
    int rc;
    fl_error_clear(&e);
    svc->models_mark = svc->models.n;
    if ((rc = begin(svc, &e)) != 0) {
        fail_all(&q, 1, rc, &e);
        return;
    }
    out = exec_one(svc, q, fx);
    /* A refused command wrote nothing, but its kept answer must commit. */
    if (out == EXEC_OK || (out == EXEC_REFUSED && q->res.answer_kept)) {
        if ((rc = fl_store_commit(svc->store, &e)) != 0) {
            drop_touched(svc);
            fail_all(&q, 1, rc, &e);
        } else {
            settle_touched(svc);
        }
    } else {
        fl_store_rollback(svc->store);
        drop_touched(svc);
    }
}

/* Move queued commands into batch[n..max_batch); returns the new count. With wait, sleeps
 * until the queue has one (and returns 0 only when the service closes with nothing left). */
static size_t take(struct fl_service *svc, struct fl__svc_cmd **batch, size_t n, bool wait)
{
    size_t before = n;
    pthread_mutex_lock(&svc->lock);
    while (wait && !svc->qhead && !svc->closing)
        pthread_cond_wait(&svc->not_empty, &svc->lock);
    while (svc->qhead && n < svc->max_batch) {
        batch[n++] = svc->qhead;
        svc->qhead = svc->qhead->next;
    }
    if (!svc->qhead)
        svc->qtail = NULL;
    svc->qlen -= n - before;
    if (n > before)
        pthread_cond_broadcast(&svc->not_full);
    pthread_mutex_unlock(&svc->lock);
    return n;
}

/* Runs batch[0..*n) in one transaction and commits it. Commands queued while the batch
 * runs join it (up to max_batch) until the queue is empty: the transaction commits as soon
 * as the queue drains, and a command that arrives mid-batch shares this fsync instead of
 * waiting for it and then for one of its own. */
static void run_batch(struct fl_service *svc, struct fl__svc_cmd **batch, size_t *n,
                      struct fl_effects *fx, bool *retried)
{
    struct fl_error e;
    size_t i = 0;
    int rc;
    fl_error_clear(&e);
    *retried = false;
    svc->n_touched = 0;
    svc->models_mark = svc->models.n;
    if ((rc = begin(svc, &e)) != 0) {
        fail_all(batch, *n, rc, &e);
        return;
    }
    for (;;) {
        for (; i < *n; i++)
            if (exec_one(svc, batch[i], fx) == EXEC_FATAL)
                break;
        if (i < *n || *n == svc->max_batch || (*n = take(svc, batch, *n, false)) == i)
            break;
    }
    if (i < *n) {
        fl_store_rollback(svc->store);
        drop_touched(svc);
        *retried = true;
        for (i = 0; i < *n; i++)
            run_single(svc, batch[i], fx);
        return;
    }
    if ((rc = fl_store_commit(svc->store, &e)) != 0) {
        drop_touched(svc);
        fail_all(batch, *n, rc, &e);
        return;
    }
    settle_touched(svc);
}

void *fl__svc_writer_main(void *arg)
{
    struct fl_service *svc = arg;
    struct fl__svc_cmd **batch = fl_calloc(svc->max_batch, sizeof(*batch));
    struct fl_effects fx;
    fl_effects_init(&fx);
    for (;;) {
        size_t n;
        bool retried;
        if ((n = take(svc, batch, 0, true)) == 0)
            break; /* closing and drained */
        run_batch(svc, batch, &n, &fx, &retried);
        fl_effects_reset(&fx);

        pthread_mutex_lock(&svc->lock);
        svc->stats.commands += n;
        svc->stats.batches++;
        {
            unsigned b = 0;
            while (b + 1 < FL_SERVICE_BATCH_BUCKETS && ((size_t)1 << b) < n)
                b++;
            svc->stats.batch_hist[b]++;
        }
        if (n > svc->stats.max_batch)
            svc->stats.max_batch = n;
        if (retried)
            svc->stats.retried++;
        pthread_mutex_unlock(&svc->lock);

        /* Acknowledge strictly after the commit, in submission order. */
        for (size_t i = 0; i < n; i++) {
            if (batch[i]->cb)
                batch[i]->cb(batch[i]->arg, &batch[i]->res);
            free(batch[i]);
        }
        /* After the acknowledgements, so a long poll that just found nothing is
         * waiting again when the jobs this batch made are announced. */
        fl__jobs_after_batch(svc);
    }
    fl_effects_release(&fx);
    free(batch);
    return NULL;
}
