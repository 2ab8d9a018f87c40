/* Cascades: what one instance's step asks of others, run in the same transaction so a
 * parent and the child it calls, or a signal and every instance it reaches, commit
 * together or not at all. This file only dispatches effects to their handlers (calls in
 * svc_calls.c, messages and signals in svc_messages.c) and bounds the nesting. */
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/store.h"
#include "service/service_int.h"

int fl__svc_nested(struct fl_service *svc, const struct fl_command *cmd, unsigned depth,
                   struct fl_result *res)
{
    struct fl_effects fx;
    int rc;
    memset(res, 0, sizeof(*res));
    if (depth > FL__SVC_MAX_CASCADE)
        return fl_error_set(&res->err, FL_EREFUSED,
                            "more than %d instances set one another off in one command",
                            FL__SVC_MAX_CASCADE);
    fl_effects_init(&fx);
    rc = fl__svc_step(svc, cmd, &fx, res, depth);
    fl_effects_release(&fx);
    res->rc = rc;
    return rc;
}

/* Instance id as the transaction left it. A nested step may have evicted the copy the
 * caller held from a small instance cache (and freed it): look it up again, reloading it
 * from the store, which has every step written so far. */
static int refetch(struct fl_service *svc, uint64_t id, const struct fl_instance **inst,
                   struct fl_error *err)
{
    struct fl_instance *i = fl__inst_cache_get(&svc->instances, id);
    int rc;
    if (!i) {
        if ((rc = fl_store_instance_load(svc->store, id, &i, err)) != 0)
            return rc == FL_ENOTFOUND ? FL_EINTERNAL : rc;
        fl__inst_cache_put(&svc->instances, i);
    }
    *inst = i;
    return 0;
}

int fl__svc_cascade(struct fl_service *svc, const struct fl_instance *inst,
                    const struct fl_effects *fx, unsigned depth,
                    struct fl_error *err)
{
    bool error_up = false, stale = false; /* stale: a handler ran nested steps since */
    uint64_t id = inst->id;
    int rc = 0;
    for (size_t i = 0; i < fx->n && rc == 0; i++) {
        const struct fl_effect *e = &fx->items[i];
        bool handled = e->kind == FL_FX_CALL || e->kind == FL_FX_CALL_CANCEL ||
                       e->kind == FL_FX_ERROR_UP || e->kind == FL_FX_ESCALATE_UP ||
                       e->kind == FL_FX_SIGNAL || e->kind == FL_FX_SUB_OPEN ||
                       e->kind == FL_FX_OUTBOX;
        if (handled && stale && (rc = refetch(svc, id, &inst, err)) != 0)
            break;
        stale = stale || handled;
        switch (e->kind) {
        case FL_FX_CALL:
        case FL_FX_CALL_CANCEL:
            rc = fl__svc_on_call(svc, inst, e, depth, err);
            break;
        case FL_FX_ERROR_UP:
            error_up = true;
            rc = fl__svc_on_child_end(svc, inst, e, depth, err);
            break;
        case FL_FX_ESCALATE_UP:
            rc = fl__svc_on_escalate_up(svc, inst, e, depth, err);
            break;
        case FL_FX_SIGNAL:
        case FL_FX_SUB_OPEN:
        case FL_FX_OUTBOX:
            rc = fl__svc_on_message_fx(svc, inst, e, depth, err);
            break;
        default:
            break;
        }
    }
    if (rc == 0 && stale)
        rc = refetch(svc, id, &inst, err);
    /* A called instance that ended tells its caller (once, after its own effects). */
    if (rc == 0 && !error_up && inst->parent_instance_id && inst->status != FL_INSTANCE_ACTIVE)
        for (size_t i = 0; i < fx->n; i++) {
            const struct fl_effect *e = &fx->items[i];
            if (e->kind == FL_FX_EVENT && (e->u.event.type == FL_EV_INSTANCE_COMPLETED ||
                                           e->u.event.type == FL_EV_INSTANCE_CANCELLED)) {
                rc = fl__svc_on_child_end(svc, inst, NULL, depth, err);
                break;
            }
        }
    return rc;
}
