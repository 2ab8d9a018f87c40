/* Resolving an incident (FL_CMD_RESOLVE): the token stuck in state INCIDENT is taken up
 * again at its node, entering it anew (a job is created again, a task expression
 * re-evaluated) or leaving it anew (its outgoing conditions re-evaluated), as it was
 * doing when the incident was raised. The incident is closed with an incident_resolved
 * event; if the retry fails the same way, a new incident is raised. */
#include <stdio.h>

#include "core/engine_int.h"
#include "flowd/alloc.h"

int fl__resolve_check(const struct fl_model *m, const struct fl_instance *inst,
                      const struct fl_command *cmd, size_t *ti, struct fl_error *err)
{
    const struct fl_token *t;
    size_t i;

    if (inst->status != FL_INSTANCE_ACTIVE)
        return fl_error_set(err, FL_ECONFLICT, "instance %llu is %s", (unsigned long long)inst->id,
                            inst->status == FL_INSTANCE_COMPLETED ? "completed" : "cancelled");
    i = fl__inst_find_token(inst, cmd->target_id);
    if (i == SIZE_MAX)
        return fl_error_set(err, FL_ENOTFOUND, "token %llu not found in instance %llu",
                            (unsigned long long)cmd->target_id, (unsigned long long)inst->id);
    t = &inst->tokens[i];
    if (t->state != FL_TOKEN_INCIDENT)
        return fl_error_set(err, FL_ECONFLICT, "token %llu of instance %llu has no open incident",
                            (unsigned long long)t->id, (unsigned long long)inst->id);
    if (t->node >= m->n_nodes)
        return fl_error_set(err, FL_EINVAL, "token %llu is at node %u, not in process '%s'",
                            (unsigned long long)t->id, t->node, m->key ? m->key : "");
    if (cmd->retries < 0) {
        fl_error_set(err, FL_EINVAL, "retries must not be negative, not %d", cmd->retries);
        if (err)
            snprintf(err->field, sizeof(err->field), "retries");
        return FL_EINVAL;
    }
    if (cmd->variables && fl_value_type(cmd->variables) != FL_VCONTEXT) {
        fl_error_set(err, FL_ETYPE, "variables must be a context, not a %s",
                     fl_value_type_name(fl_value_type(cmd->variables)));
        if (err)
            snprintf(err->field, sizeof(err->field), "variables");
        return FL_ETYPE;
    }
    *ti = i;
    return 0;
}

void fl__resolve_apply(struct fl__run *r, const struct fl_command *cmd, size_t ti)
{
    struct fl_instance *inst = r->inst;
    const struct fl_token t = inst->tokens[ti];
    const char *node_id = fl__node_id(r->m, t.node);
    struct fl__mover mv = fl__mover_of(&t, t.incident_leaving);
    struct fl_effect *e;
    struct fl_buf *b;
    bool open = false;

    /* Variables first: they are usually what the retry needed (a missing input). */
    if (cmd->variables)
        fl__run_set_vars(r, cmd->variables, t.id, t.scope, node_id);
    e = fl__fx_push(r->fx, FL_FX_INCIDENT_RESOLVE);
    e->u.incident.id = t.incident_id;
    e->u.incident.token_id = t.id;
    e->u.incident.node_id = node_id;
    e->u.incident.at = r->ctx->now_ms;
    b = fl__fx_scratch(r->fx);
    fl_buf_addf(b, "{\"incident\":%llu}", (unsigned long long)t.incident_id);
    fl__run_event(r, FL_EV_INCIDENT_RESOLVED, t.id, t.incident_id, node_id,
                  fl__fx_scratch_keep(r->fx));
    fl__inst_remove_token(inst, ti);
    r->resolve_token = t.id;
    r->resolve_retries = cmd->retries;
    fl__run_push(r, &mv);
    fl__run_go(r);
    r->resolve_token = 0;
    /* The instance keeps its incident flag while any other token (or this one, failing
     * again) is still stuck. */
    for (size_t i = 0; i < inst->n_tokens && !open; i++)
        open = inst->tokens[i].state == FL_TOKEN_INCIDENT;
    inst->incident = open;
}
