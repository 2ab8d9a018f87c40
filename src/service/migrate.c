/* Migration of running instances to another version, through the writer: the caller's
 * request is queued like a deployment and runs as one unit of the writer's transaction.
 * Every instance of the batch is first migrated on a copy (pure, nothing written), and
 * only when all of them can move are they migrated for real and written -- a batch that
 * cannot map one token of one instance is refused as a whole, with the reason for each
 * instance that cannot move. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/store.h"
#include "service/service_int.h"

#define PAGE 500 /* instances read per page when a whole version migrates */

static struct fl_migration_outcome *add_outcome(struct fl__svc_migrate *mg, uint64_t id)
{
    struct fl_migration_outcome *o;
    fl_grow(&mg->out, &mg->cap, mg->n + 1, sizeof(*mg->out));
    o = &mg->out[mg->n++];
    memset(o, 0, sizeof(*o));
    o->instance_id = id;
    return o;
}

/* The cached instance, loaded on a miss. Borrowed. */
static int get_instance(struct fl_service *svc, uint64_t id, struct fl_instance **out,
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

/* Outcomes for every active instance of definition def_id (read in this transaction). */
static int select_version(struct fl_service *svc, struct fl__svc_migrate *mg, uint64_t def_id,
                          struct fl_error *err)
{
    struct fl_definition_row def;
    struct fl_instance_query qy = {.active_only = true, .limit = PAGE};
    int rc;

    if ((rc = fl_store_definition_get(svc->store, NULL, 0, def_id, &def, err)) != 0)
        return rc;
    qy.process_key = def.key;
    for (;;) {
        struct fl_instance_row *rows = NULL;
        size_t n = 0;
        if ((rc = fl_store_instance_list(svc->store, &qy, &rows, &n, err)) != 0)
            break;
        for (size_t i = 0; i < n && mg->n <= FL_SERVICE_MAX_MIGRATE; i++)
            if (rows[i].definition_id == def_id)
                add_outcome(mg, rows[i].id);
        if (n)
            qy.after_id = rows[n - 1].id;
        fl_instance_rows_free(rows, n);
        if (n < PAGE || mg->n > FL_SERVICE_MAX_MIGRATE)
            break;
    }
    fl_definition_row_release(&def);
    return rc;
}

/* Migrate instance o->instance_id to `to`: on a copy when dry (o gets the verdict), else
 * for real and written. Returns the engine's refusal or a store failure. */
static int migrate_one(struct fl_service *svc, const struct fl_migration_request *req,
                       const struct fl_model *to, struct fl_migration_outcome *o, bool dry,
                       struct fl_effects *fx, struct fl_error *err)
{
    struct fl_engine_ctx ctx;
    const struct fl_model *from = NULL;
    struct fl_instance *inst = NULL, *copy = NULL;
    int rc;

    fl__svc_engine_ctx(svc, &ctx);
    fl_effects_reset(fx);
    if ((rc = get_instance(svc, o->instance_id, &inst, err)) != 0 ||
        (rc = fl__model_cache_get(svc, inst->definition_id, &from, err)) != 0)
        return rc;
    if (dry) {
        copy = fl_instance_clone(inst);
        rc = fl_engine_migrate(from, to, req->to_definition_id, copy, req->pairs, req->n_pairs,
                               &ctx, req->actor, fx, err);
        fl_instance_free(copy);
        fl_effects_reset(fx);
        return rc;
    }
    if ((rc = fl_engine_migrate(from, to, req->to_definition_id, inst, req->pairs, req->n_pairs,
                                &ctx, req->actor, fx, err)) != 0)
        return FL_EINTERNAL; /* it passed the dry run: the writes must not half happen */
    fl__svc_touch(svc, inst);
    if ((rc = fl_store_apply(svc->store, to, inst, fx, err)) != 0)
        return rc == FL_ECONFLICT || rc == FL_EINVAL ? FL_ESTORE : rc;
    fl__svc_note_timers(svc, inst, fx);
    return fl__svc_cascade(svc, inst, fx, 0, err);
}

int fl__svc_migrate_exec(struct fl_service *svc, struct fl__svc_migrate *mg, struct fl_effects *fx,
                         struct fl_error *err)
{
    const struct fl_migration_request *req = mg->req;
    const struct fl_model *to = NULL;
    size_t failed = 0, first = 0;
    int rc;

    mg->n = 0; /* a batch re-run after a store failure starts over */
    if ((rc = fl__model_cache_get(svc, req->to_definition_id, &to, err)) != 0)
        return rc;
    if (req->n_instances > FL_SERVICE_MAX_MIGRATE)
        return fl_error_set(err, FL_ELIMIT, "a migration moves at most %d instances",
                            FL_SERVICE_MAX_MIGRATE);
    for (size_t i = 0; i < req->n_instances; i++)
        add_outcome(mg, req->instance_ids[i]);
    if (!req->n_instances && (rc = select_version(svc, mg, req->from_definition_id, err)) != 0)
        return rc;
    if (mg->n > FL_SERVICE_MAX_MIGRATE)
        return fl_error_set(err, FL_ELIMIT,
                            "more than %d active instances: migrate them in batches",
                            FL_SERVICE_MAX_MIGRATE);
    for (size_t i = 0; i < mg->n; i++) {
        struct fl_migration_outcome *o = &mg->out[i];
        fl_error_clear(&o->err);
        o->rc = migrate_one(svc, req, to, o, true, fx, &o->err);
        if (o->rc == FL_ESTORE || o->rc == FL_EIO || o->rc == FL_EBUSY) {
            *err = o->err;
            return o->rc;
        }
        if (o->rc != 0 && failed++ == 0)
            first = i;
    }
    if (failed) {
        fl_error_set(err, mg->out[first].rc,
                     "%zu of %zu instances cannot be migrated (nothing was): instance %llu: %s",
                     failed, mg->n, (unsigned long long)mg->out[first].instance_id,
                     mg->out[first].err.msg);
        memcpy(err->element, mg->out[first].err.element, sizeof(err->element));
        return mg->out[first].rc;
    }
    for (size_t i = 0; i < mg->n; i++)
        if ((rc = migrate_one(svc, req, to, &mg->out[i], false, fx, err)) != 0)
            return rc == FL_ENOTFOUND || rc == FL_EINVAL ? FL_EINTERNAL : rc;
    return 0;
}

/* ---- the caller's side ---- */

struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    struct fl_result res;
};

static void waiter_cb(void *arg, const struct fl_result *res)
{
    struct waiter *w = arg;
    pthread_mutex_lock(&w->lock);
    w->res = *res;
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

int fl_service_migrate(struct fl_service *svc, const struct fl_migration_request *req,
                       struct fl_migration_outcome **out, size_t *n, struct fl_error *err)
{
    struct fl__svc_migrate mg = {.req = req};
    struct fl__svc_cmd *q;
    struct waiter w;
    int rc;

    *out = NULL;
    *n = 0;
    if (!svc || !req || !req->to_definition_id)
        return fl_error_set(err, FL_EINVAL, "a migration needs the definition to migrate to");
    if (!req->n_instances && !req->from_definition_id)
        return fl_error_set(err, FL_EINVAL, "a migration needs instances or a version to migrate");
    memset(&w, 0, sizeof(w));
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.cond, NULL);
    q = fl_calloc(1, sizeof(*q));
    q->kind = FL__SVC_MIGRATE;
    q->migrate = &mg;
    q->cb = waiter_cb;
    q->arg = &w;
    if ((rc = fl__svc_enqueue(svc, q)) != 0) {
        fl_error_set(err, rc, "service is shutting down");
    } else {
        pthread_mutex_lock(&w.lock);
        while (!w.done)
            pthread_cond_wait(&w.cond, &w.lock);
        pthread_mutex_unlock(&w.lock);
        rc = w.res.rc;
        if (rc && err)
            *err = w.res.err;
    }
    pthread_cond_destroy(&w.cond);
    pthread_mutex_destroy(&w.lock);
    *out = mg.out;
    *n = mg.n;
    return rc;
}
