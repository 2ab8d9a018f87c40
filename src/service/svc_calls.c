/* Call activities across instances: start the called instance for an FL_FX_CALL effect,
 * cancel it for FL_FX_CALL_CANCEL, and tell the caller (FL_CMD_CALL_DONE) when a called
 * instance ends or throws an error no scope of it catches, FL_CMD_CALL_ESCALATE when it
 * throws an escalation nothing in it catches. Everything runs as nested
 * steps in the transaction of the command that set it off, so a parent and its child
 * commit together. A called process that cannot be started becomes an incident at the
 * call activity, never a token waiting for nothing. */
#include <stdio.h>
#include <string.h>

#include "service/service_int.h"

/* Failures that doom the transaction (as the writer counts them); anything else is a
 * refusal of one nested command, which writes nothing. */
static bool store_failed(int rc)
{
    return rc == FL_ESTORE || rc == FL_EIO || rc == FL_EBUSY || rc == FL_ENOMEM ||
           rc == FL_EINTERNAL;
}

/* Does inst still wait at token token_id for called instance child? */
static bool still_waits(const struct fl_instance *inst, uint64_t token_id, uint64_t child)
{
    if (inst->status != FL_INSTANCE_ACTIVE)
        return false;
    for (size_t i = 0; i < inst->n_tokens; i++)
        if (inst->tokens[i].id == token_id)
            return inst->tokens[i].state == FL_TOKEN_SCOPE && inst->tokens[i].call_id == child;
    return false;
}

/* CALL_DONE on parent's token for child, failed with code and message. */
static int call_failed(struct fl_service *svc, uint64_t parent, uint64_t token_id, uint64_t child,
                       const char *code, const char *message, unsigned depth,
                       struct fl_error *err)
{
    struct fl_command c = {.kind = FL_CMD_CALL_DONE,
                           .instance_id = parent,
                           .target_id = token_id,
                           .new_instance_id = child,
                           .error_code = code,
                           .error_message = message};
    struct fl_result res;
    int rc = fl__svc_nested(svc, &c, depth + 1, &res);
    if (rc != 0 && store_failed(rc)) {
        if (err)
            *err = res.err;
        return rc;
    }
    return 0; /* the caller moved on meanwhile (refused): nothing to tell */
}

static int start_child(struct fl_service *svc, const struct fl_instance *inst,
                       const struct fl_effect *e, unsigned depth, struct fl_error *err)
{
    struct fl_command c = {.kind = FL_CMD_START,
                           .process_key = e->u.call.process_key,
                           .process_version = e->u.call.version,
                           .business_key = e->u.call.business_key,
                           .variables = e->u.call.variables,
                           .new_instance_id = e->u.call.child_id,
                           .parent_instance_id = inst->id,
                           .parent_token_id = e->u.call.token_id};
    struct fl_result res;
    char why[sizeof(res.err.msg) + 64];
    int rc;

    /* An earlier effect of the same step may have moved the caller on (a called instance
     * that ended at once, then a terminate end): then there is nothing to start. */
    if (!still_waits(inst, e->u.call.token_id, e->u.call.child_id))
        return 0;
    rc = fl__svc_nested(svc, &c, depth + 1, &res);
    if (rc == 0)
        return 0;
    if (store_failed(rc)) {
        if (err)
            *err = res.err;
        return rc;
    }
    /* Not found, no start event, bad variables...: an incident for a person at the call. */
    snprintf(why, sizeof(why), "process '%s'%s: %s", e->u.call.process_key,
             e->u.call.version ? " (that version)" : "",
             res.err.msg[0] ? res.err.msg : fl_err_message(rc));
    return call_failed(svc, inst->id, e->u.call.token_id, e->u.call.child_id,
                       "flowd:process-not-found", why, depth, err);
}

static int cancel_child(struct fl_service *svc, const struct fl_instance *inst,
                        const struct fl_effect *e, unsigned depth, struct fl_error *err)
{
    char reason[96];
    struct fl_command c = {.kind = FL_CMD_CANCEL, .instance_id = e->u.call.child_id};
    struct fl_result res;
    int rc;

    snprintf(reason, sizeof(reason), "its caller, instance %llu, ended the call",
             (unsigned long long)inst->id);
    c.reason = reason;
    rc = fl__svc_nested(svc, &c, depth + 1, &res);
    if (rc != 0 && store_failed(rc)) {
        if (err)
            *err = res.err;
        return rc;
    }
    return 0; /* already ended, or never started (refused): nothing to cancel */
}

int fl__svc_on_call(struct fl_service *svc, const struct fl_instance *inst,
                    const struct fl_effect *e, unsigned depth, struct fl_error *err)
{
    if (e->kind == FL_FX_CALL_CANCEL)
        return cancel_child(svc, inst, e, depth, err);
    return start_child(svc, inst, e, depth, err);
}

int fl__svc_on_child_end(struct fl_service *svc, const struct fl_instance *inst,
                         const struct fl_effect *e, unsigned depth, struct fl_error *err)
{
    struct fl_command c = {.kind = FL_CMD_CALL_DONE,
                           .instance_id = inst->parent_instance_id,
                           .target_id = inst->parent_token_id,
                           .new_instance_id = inst->id};
    struct fl_result res;
    int rc;

    if (!inst->parent_instance_id)
        return 0;
    if (e && e->kind == FL_FX_ERROR_UP)
        return call_failed(svc, inst->parent_instance_id, inst->parent_token_id, inst->id,
                           e->u.msg.name ? e->u.msg.name : "", e->u.msg.correlation_key, depth,
                           err);
    if (inst->status == FL_INSTANCE_CANCELLED)
        return call_failed(svc, inst->parent_instance_id, inst->parent_token_id, inst->id,
                           "flowd:cancelled", NULL, depth, err);
    if (inst->status != FL_INSTANCE_COMPLETED)
        return 0;
    c.variables = inst->variables;
    rc = fl__svc_nested(svc, &c, depth + 1, &res);
    if (rc != 0 && store_failed(rc)) {
        if (err)
            *err = res.err;
        return rc;
    }
    return 0; /* the caller no longer waits (cancelled, interrupted): nothing to do */
}

int fl__svc_on_escalate_up(struct fl_service *svc, const struct fl_instance *inst,
                           const struct fl_effect *e, unsigned depth, struct fl_error *err)
{
    struct fl_command c = {.kind = FL_CMD_CALL_ESCALATE,
                           .instance_id = inst->parent_instance_id,
                           .target_id = inst->parent_token_id,
                           .new_instance_id = inst->id,
                           .error_code = e->u.msg.name,
                           .error_message = e->u.msg.correlation_key};
    struct fl_result res;
    int rc;

    if (!inst->parent_instance_id)
        return 0;
    rc = fl__svc_nested(svc, &c, depth + 1, &res);
    if (rc != 0 && store_failed(rc)) {
        if (err)
            *err = res.err;
        return rc;
    }
    return 0; /* the caller no longer waits for this instance: nobody to escalate to */
}
