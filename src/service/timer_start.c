/* Timer start events in the service: deploying a new version of a process arms one timer
 * per timer start event (its first date or cycle occurrence) and drops the start timers of
 * the older versions; firing one (FL_CMD_FIRE_TIMER with instance id 0, from the
 * scheduler) starts an instance of that version at that start event and arms the next
 * occurrence, all in the writer's transaction, so each occurrence starts exactly one
 * instance even across crashes. Runs on the writer thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/timecalc.h"
#include "service/service_int.h"

/* Tell the scheduler about a start timer once the batch commits. */
static void offer(struct fl_service *svc, const struct fl_timer *t)
{
    if (!svc->sched)
        return;
    fl_grow(&svc->offers, &svc->cap_offers, svc->n_offers + 1, sizeof(*svc->offers));
    svc->offers[svc->n_offers].id = t->id;
    svc->offers[svc->n_offers].instance_id = 0;
    svc->offers[svc->n_offers].due_at = t->due_at;
    svc->n_offers++;
}

static int arm(struct fl_service *svc, const struct fl_engine_ctx *ctx, uint64_t def_id,
               uint32_t node, int64_t due, uint32_t repeat, struct fl_error *err)
{
    struct fl_timer t = {.id = ctx->next_id(ctx->id_arg, FL_ID_TIMER),
                         .ref_id = def_id,
                         .node = node,
                         .kind = FL_TIMER_START,
                         .repeat = repeat,
                         .due_at = due};
    int rc = fl_store_start_timer_put(svc->store, &t, err);
    if (rc == 0)
        offer(svc, &t);
    return rc;
}

int fl__svc_start_timers_deploy(struct fl_service *svc, const struct fl_engine_ctx *ctx,
                                const char *key, uint64_t def_id, struct fl_error *err)
{
    const struct fl_model *m;
    int64_t *due = NULL;
    uint32_t *repeat = NULL;
    int rc;

    if ((rc = fl__model_cache_get(svc, def_id, &m, err)) != 0)
        return rc;
    /* Work out every first time before writing anything: a definition that cannot be
     * evaluated refuses the deploy. */
    if (m->n_timer_starts) {
        due = fl_calloc(m->n_timer_starts, sizeof(*due));
        repeat = fl_calloc(m->n_timer_starts, sizeof(*repeat));
    }
    for (size_t i = 0; i < m->n_timer_starts; i++) {
        rc = fl_engine_timer_start_due(m, m->timer_starts[i], ctx->now_ms, ctx->tz_offset_min, NULL,
                                       &due[i], &repeat[i], err);
        if (rc == FL_ENOTFOUND) {
            due[i] = INT64_MIN; /* a cycle with nothing left: no timer */
            rc = 0;
        } else if (rc != 0) {
            rc = FL_EMODEL;
            if (err)
                err->code = rc;
            goto out;
        }
    }
    if ((rc = fl_store_start_timers_clear(svc->store, key, err)) != 0)
        goto out;
    for (size_t i = 0; i < m->n_timer_starts; i++)
        if (due[i] != INT64_MIN &&
            (rc = arm(svc, ctx, def_id, m->timer_starts[i], due[i], repeat[i], err)) != 0)
            goto out;
out:
    free(due);
    free(repeat);
    return rc;
}

int fl__svc_start_timer_fire(struct fl_service *svc, uint64_t timer_id,
                             const struct fl_engine_ctx *ctx, struct fl_effects *fx,
                             const struct fl_model **m_out, struct fl_instance **out,
                             struct fl_error *err)
{
    struct fl_timer t;
    const struct fl_model *m;
    struct fl_instance *inst = NULL;
    struct fl_error ignored;
    uint64_t latest;
    int64_t due = 0;
    uint32_t repeat = 0;
    bool again = false;
    char when[32];
    int rc;

    *out = NULL;
    if ((rc = fl_store_timer_get(svc->store, timer_id, &t, err)) != 0)
        return rc;
    if (t.instance_id != 0 || t.kind != FL_TIMER_START)
        return fl_error_set(err, FL_EINVAL, "timer %llu belongs to instance %llu: give its id",
                            (unsigned long long)timer_id, (unsigned long long)t.instance_id);
    if (t.due_at > ctx->now_ms)
        return fl_error_set(err, FL_ECONFLICT, "timer %llu is not due before %s",
                            (unsigned long long)timer_id, fl_time_format(t.due_at, when));
    if ((rc = fl__model_cache_get(svc, t.ref_id, &m, err)) != 0 ||
        (rc = fl_store_definition_find(svc->store, m->key, 0, &latest, err)) != 0)
        return rc;
    *m_out = m;
    if (t.node >= m->n_nodes)
        return fl_error_set(err, FL_EINVAL, "timer %llu names node %u, not in process '%s'",
                            (unsigned long long)timer_id, t.node, m->key);
    if (latest == t.ref_id) {
        struct fl_command cmd = {.kind = FL_CMD_START,
                                 .process_key = m->key,
                                 .start_node_id = m->nodes[t.node].id,
                                 .actor = "scheduler"};
        /* Every check happens before the first write: a refused command in a batch must
         * leave nothing behind. */
        if ((rc = fl_engine_start(m, t.ref_id, &cmd, ctx, &inst, fx, err)) != 0)
            return rc;
        fl_error_clear(&ignored);
        /* NEEDSWORK: a cycle whose "=expr" stops evaluating just stops (the deploy
         * checked it once); there is no instance to raise an incident on. */
        again = fl_engine_timer_start_due(m, t.node, ctx->now_ms, ctx->tz_offset_min, &t, &due,
                                          &repeat, &ignored) == 0;
    }
    /* An older version's timer (deploys replace them; this one raced) only goes away. */
    if ((rc = fl_store_timer_delete(svc->store, timer_id, err)) != 0 ||
        (again && (rc = arm(svc, ctx, t.ref_id, t.node, due, repeat, err)) != 0)) {
        fl_instance_free(inst);
        return rc;
    }
    *out = inst;
    return 0;
}
