/* Cascades: what one instance's step asks of others, run in the same transaction so a
 * parent and the child it calls, or a signal and every instance it reaches, commit
 * together or not at all. This file only dispatches effects to their handlers (calls in
 * svc_calls.c, messages and signals in svc_messages.c) and bounds the nesting. */
#include <string.h>

#include "flowd/alloc.h"
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

int fl__svc_cascade(struct fl_service *svc, const struct fl_model *m,
                    const struct fl_instance *inst, const struct fl_effects *fx, unsigned depth,
                    struct fl_error *err)
{
    bool error_up = false;
    int rc = 0;
    (void)m;
    for (size_t i = 0; i < fx->n && rc == 0; i++) {
        const struct fl_effect *e = &fx->items[i];
        switch (e->kind) {
        case FL_FX_CALL:
        case FL_FX_CALL_CANCEL:
            rc = fl__svc_on_call(svc, inst, e, depth, err);
            break;
        case FL_FX_ERROR_UP:
            error_up = true;
            rc = fl__svc_on_child_end(svc, inst, e, depth, err);
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
