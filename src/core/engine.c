/* The engine's commands: start an instance, complete a task, record a task's main action,
 * complete or fail a job, fire a timer, cancel. Each command is checked completely before anything
 * is touched, and the run that follows cannot fail, so an error leaves the instance and the effects
 * exactly as they were without cloning anything on the hot path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "flowd/alloc.h"

static int check_ctx(const struct fl_engine_ctx *ctx, struct fl_error *err)
{
    if (!ctx || !ctx->next_id)
        return fl_error_set(err, FL_EINVAL, "engine context has no id allocator");
    return 0;
}

static int check_vars(const struct fl_value *vars, struct fl_error *err)
{
    if (vars && fl_value_type(vars) != FL_VCONTEXT) {
        fl_error_set(err, FL_ETYPE, "variables must be a context, not a %s",
                     fl_value_type_name(fl_value_type(vars)));
        if (err)
            snprintf(err->field, sizeof(err->field), "variables");
        return FL_ETYPE;
    }
    return 0;
}

/* The start event of a start command: the one named (a none or timer start event), else
 * the none start event. */
static int start_node(const struct fl_model *m, const struct fl_command *cmd, uint32_t *out,
                      struct fl_error *err)
{
    if (cmd->start_node_id) {
        uint32_t i = fl_model_find_node(m, cmd->start_node_id);
        /* a message or signal start event of the process itself (not of an event
         * subprocess) starts it too */
        bool event_start = i != FL_NONE && m->nodes[i].kind == FL_NODE_EVENT_START &&
                           m->nodes[i].scope == FL_NONE;
        if (i == FL_NONE || (m->nodes[i].kind != FL_NODE_START_EVENT &&
                             m->nodes[i].kind != FL_NODE_TIMER_START && !event_start)) {
            fl_error_set(err, FL_EINVAL, "'%s' is not a start event of process '%s'",
                         cmd->start_node_id, m->key ? m->key : "");
            if (err)
                snprintf(err->field, sizeof(err->field), "start_node_id");
            return FL_EINVAL;
        }
        *out = i;
        return 0;
    }
    if (m->start >= m->n_nodes || m->nodes[m->start].kind != FL_NODE_START_EVENT)
        return fl_error_set(err, FL_EMODEL, "process '%s' has no none start event%s",
                            m->key ? m->key : "",
                            m->n_timer_starts ? "; its timer start events start it" : "");
    *out = m->start;
    return 0;
}

int fl_engine_start(const struct fl_model *m, uint64_t definition_id, const struct fl_command *cmd,
                    const struct fl_engine_ctx *ctx, struct fl_instance **out,
                    struct fl_effects *fx, struct fl_error *err)
{
    struct fl_instance *inst;
    struct fl__control_set *sets = NULL;
    size_t n_sets = 0;
    struct fl__run r;
    struct fl_buf *b;
    uint32_t start = FL_NONE;
    int rc;

    *out = NULL;
    if ((rc = check_ctx(ctx, err)) < 0)
        return rc;
    if (!cmd || cmd->kind != FL_CMD_START)
        return fl_error_set(err, FL_EINVAL, "not a start command");
    if ((rc = check_vars(cmd->variables, err)) < 0)
        return rc;
    if ((rc = start_node(m, cmd, &start, err)) < 0)
        return rc;
    /* Control points of the process and its start event, over the start variables. */
    if ((rc = fl__controls_eval(m->controls, m->n_controls, m->key, cmd->variables, ctx, &sets,
                                &n_sets, err)) < 0 ||
        (rc = fl__controls_eval(m->nodes[start].controls, m->nodes[start].n_controls,
                                m->nodes[start].id, cmd->variables, ctx, &sets, &n_sets,
                                err)) < 0) {
        free(sets);
        return rc;
    }

    inst = fl_calloc(1, sizeof(*inst));
    /* A called instance comes with the id its caller gave it. */
    inst->id = cmd->new_instance_id ? cmd->new_instance_id : ctx->next_id(ctx->id_arg, FL_ID_INSTANCE);
    inst->parent_instance_id = cmd->parent_instance_id;
    inst->parent_token_id = cmd->parent_token_id;
    inst->definition_id = definition_id;
    inst->business_key = fl_strdup(cmd->business_key);
    inst->status = FL_INSTANCE_ACTIVE;
    inst->variables = fl_value_context_new();
    inst->started_at = ctx->now_ms;
    inst->revision = 1;
    inst->started_by = fl_strdup(cmd->actor);

    fl__run_init(&r, m, inst, ctx, fx, fl__fx_strdup(fx, cmd->actor));
    b = fl__fx_scratch(fx);
    fl_buf_adds(b, "{\"process\":");
    fl_json_cstring(b, m->key ? m->key : "");
    if (cmd->business_key) {
        fl_buf_adds(b, ",\"business_key\":");
        fl_json_cstring(b, cmd->business_key);
    }
    if (cmd->start_node_id) {
        fl_buf_adds(b, ",\"start_event\":");
        fl_json_cstring(b, m->nodes[start].id);
    }
    fl_buf_addc(b, '}');
    fl__run_event(&r, FL_EV_INSTANCE_STARTED, 0, 0, NULL, fl__fx_scratch_keep(fx));
    if (cmd->variables)
        fl__run_merge_vars(&r, cmd->variables, 0, NULL);
    fl__controls_apply(&r, sets, n_sets, 0, NULL);
    free(sets);
    /* The process's event subprocesses listen while it runs. */
    fl__scope_arm(&r, 0, FL_NONE);
    struct fl__mover mv = {.id = fl__run_id(&r, FL_ID_TOKEN), .node = start, .flow = FL_NONE};
    fl__run_push(&r, &mv);
    fl__run_go(&r);
    if (inst->status != FL_INSTANCE_ACTIVE)
        fl__controls_close_all(&r);
    fl__run_release(&r);
    *out = inst;
    return 0;
}

static const char *node_title(const struct fl_node *node)
{
    return node->name ? node->name : node->id;
}

static int check_active(const struct fl_instance *inst, struct fl_error *err)
{
    if (inst->status != FL_INSTANCE_ACTIVE)
        return fl_error_set(err, FL_ECONFLICT, "instance %llu is %s", (unsigned long long)inst->id,
                            inst->status == FL_INSTANCE_COMPLETED ? "completed" : "cancelled");
    return 0;
}

/* The resting token holding task (or job) id, checked against the model. */
static int find_holder(const struct fl_model *m, const struct fl_instance *inst, bool job,
                       uint64_t id, size_t *out, struct fl_error *err)
{
    size_t i = job ? fl__inst_find_job(inst, id) : fl__inst_find_task(inst, id);
    if (i == SIZE_MAX)
        return fl_error_set(err, FL_ENOTFOUND, "%s %llu not found in instance %llu",
                            job ? "job" : "task", (unsigned long long)id,
                            (unsigned long long)inst->id);
    if (inst->tokens[i].node >= m->n_nodes)
        return fl_error_set(err, FL_EINVAL, "token %llu is at node %u, not in process '%s'",
                            (unsigned long long)inst->tokens[i].id, inst->tokens[i].node,
                            m->key ? m->key : "");
    *out = i;
    return 0;
}

/* The variable a "field" main action names, as the completion leaves it: the command's
 * value when it sets one (even null), else the instance's. */
static const struct fl_value *field_value(const struct fl_instance *inst,
                                          const struct fl_value *vars, const char *name)
{
    size_t len = strlen(name);
    const struct fl_value *v = vars ? fl_value_context_get(vars, name, len) : NULL;
    return v ? v : fl_value_context_get(inst->variables, name, len);
}

/* A field is filled by any value but null and the empty string. */
static bool field_filled(const struct fl_value *v)
{
    size_t len = 0;
    if (!v || fl_value_type(v) == FL_VNULL)
        return false;
    if (fl_value_type(v) == FL_VSTRING) {
        fl_value_str(v, &len);
        return len > 0;
    }
    return true;
}

/* What a completion needs beyond the task: is the stage's "field" action met by the
 * variables (then it is recorded on the way), and which control points it sets. */
struct completion {
    bool field_met;
    struct fl__control_set *sets;
    size_t n_sets;
};

static int refuse_main_action(const struct fl_node *node, uint64_t task_id,
                              struct fl_error *err)
{
    const struct fl_stage *st = node->stage;
    const char *kind = st->main_action_kind, *ref = st->main_action_ref;

    if (kind && !strcmp(kind, "field") && ref)
        fl_error_set(err, FL_EREFUSED,
                     "task %llu cannot be completed: stage '%s' (%s) requires its main action "
                     "'field': fill the variable '%s' (or record the action)",
                     (unsigned long long)task_id, node_title(node), node->id, ref);
    else if (kind)
        fl_error_set(err, FL_EREFUSED,
                     "task %llu cannot be completed: stage '%s' (%s) requires its main action "
                     "'%s'%s%s%s to be recorded first",
                     (unsigned long long)task_id, node_title(node), node->id, kind,
                     ref ? " (ref '" : "", ref ? ref : "", ref ? "')" : "");
    else
        fl_error_set(err, FL_EREFUSED,
                     "task %llu cannot be completed: stage '%s' (%s) requires its main action "
                     "to be recorded first",
                     (unsigned long long)task_id, node_title(node), node->id);
    fl_error_at(err, node->id, node->line, node->column);
    if (err && kind && !strcmp(kind, "field") && ref)
        snprintf(err->field, sizeof(err->field), "%s", ref);
    return FL_EREFUSED;
}

static int check_complete_task(const struct fl_model *m, const struct fl_instance *inst,
                               const struct fl_command *cmd, const struct fl_engine_ctx *ctx,
                               size_t *ti, struct completion *cp, struct fl_error *err)
{
    const struct fl_node *node;
    const struct fl_stage *st;
    int rc;

    if ((rc = check_active(inst, err)) < 0 ||
        (rc = find_holder(m, inst, false, cmd->target_id, ti, err)) < 0 ||
        (rc = check_vars(cmd->variables, err)) < 0)
        return rc;
    node = &m->nodes[inst->tokens[*ti].node];
    st = node->stage;
    if (st && st->main_action_kind && !strcmp(st->main_action_kind, "field") &&
        st->main_action_ref && !inst->tokens[*ti].main_action_done)
        cp->field_met = field_filled(field_value(inst, cmd->variables, st->main_action_ref));
    if (st && st->main_action_required && !inst->tokens[*ti].main_action_done && !cp->field_met)
        return refuse_main_action(node, cmd->target_id, err);
    if (node->n_controls) {
        /* Evaluated over the variables as the completion leaves them. */
        struct fl_value *view = fl_value_context_copy(inst->variables);
        size_t n = cmd->variables ? fl_value_context_len(cmd->variables) : 0;
        for (size_t i = 0; i < n; i++) {
            size_t klen;
            const char *key = fl_value_context_key(cmd->variables, i, &klen);
            fl_value_context_set(view, key, klen,
                                 fl_value_ref(fl_value_context_val(cmd->variables, i)));
        }
        rc = fl__controls_eval(node->controls, node->n_controls, node->id, view, ctx, &cp->sets,
                               &cp->n_sets, err);
        fl_value_unref(view);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void record_action(struct fl__run *r, size_t ti, uint64_t task_id, const char *kind,
                          const char *ref);

static void do_complete_task(struct fl__run *r, const struct fl_command *cmd, size_t ti,
                             const struct completion *cp)
{
    const struct fl_token *t = &r->inst->tokens[ti];
    const struct fl_node *node = &r->m->nodes[t->node];
    uint64_t token_id = t->id;

    fl__run_completion_vars(r, cmd->variables, token_id, t->scope, t->node);
    if (cp->field_met)
        record_action(r, ti, cmd->target_id, node->stage->main_action_kind,
                      node->stage->main_action_ref);
    fl__controls_apply(r, cp->sets, cp->n_sets, token_id, node->id);
    fl__run_task_effect(r, FL_FX_TASK_CLOSE, cmd->target_id, FL_TASK_COMPLETED);
    fl__run_event(r, FL_EV_TASK_COMPLETED, token_id, cmd->target_id, node->id, NULL);
    fl__run_resume(r, ti);
}

static int check_record_action(const struct fl_model *m, const struct fl_instance *inst,
                               const struct fl_command *cmd, size_t *ti, struct fl_error *err)
{
    const struct fl_node *node;
    const char *want;
    int rc;

    if ((rc = check_active(inst, err)) < 0 ||
        (rc = find_holder(m, inst, false, cmd->target_id, ti, err)) < 0)
        return rc;
    node = &m->nodes[inst->tokens[*ti].node];
    want = node->stage ? node->stage->main_action_kind : NULL;
    if (want && cmd->action_kind && strcmp(want, cmd->action_kind) != 0) {
        fl_error_set(err, FL_EREFUSED,
                     "task %llu: stage '%s' (%s) expects main action '%s', not '%s'",
                     (unsigned long long)cmd->target_id, node_title(node), node->id, want,
                     cmd->action_kind);
        fl_error_at(err, node->id, node->line, node->column);
        return FL_EREFUSED;
    }
    if (!want && !cmd->action_kind)
        return fl_error_set(err, FL_EINVAL, "task %llu '%s' names no main action: give its kind",
                            (unsigned long long)cmd->target_id, node_title(node));
    return 0;
}

/* Mark token ti's main action done: TOKEN_PUT, TASK_ACTION, main_action_recorded. kind
 * and ref are model strings or arena copies. */
static void record_action(struct fl__run *r, size_t ti, uint64_t task_id, const char *kind,
                          const char *ref)
{
    struct fl_token *t = &r->inst->tokens[ti];
    const struct fl_node *node = &r->m->nodes[t->node];
    struct fl_effect *e;
    struct fl_buf *b;

    t->main_action_done = true;
    e = fl__fx_push(r->fx, FL_FX_TOKEN_PUT);
    e->u.token = *t;
    e = fl__run_task_effect(r, FL_FX_TASK_ACTION, task_id, FL_TASK_OPEN);
    e->u.task_close.kind = kind;
    e->u.task_close.ref = ref;
    b = fl__fx_scratch(r->fx);
    fl_buf_adds(b, "{\"kind\":");
    fl_json_cstring(b, kind);
    if (ref) {
        fl_buf_adds(b, ",\"ref\":");
        fl_json_cstring(b, ref);
    }
    fl_buf_addc(b, '}');
    fl__run_event(r, FL_EV_MAIN_ACTION_RECORDED, t->id, task_id, node->id,
                  fl__fx_scratch_keep(r->fx));
}

static void do_record_action(struct fl__run *r, const struct fl_command *cmd, size_t ti)
{
    const struct fl_node *node = &r->m->nodes[r->inst->tokens[ti].node];
    const char *kind =
        cmd->action_kind ? fl__fx_strdup(r->fx, cmd->action_kind) : node->stage->main_action_kind;
    record_action(r, ti, cmd->target_id, kind, fl__fx_strdup(r->fx, cmd->action_ref));
}

static void do_complete_job(struct fl__run *r, const struct fl_command *cmd, size_t ti)
{
    const struct fl_token *t = &r->inst->tokens[ti];
    const char *node_id = r->m->nodes[t->node].id;
    struct fl_effect *e;

    fl__run_completion_vars(r, cmd->variables, t->id, t->scope, t->node);
    e = fl__fx_push(r->fx, FL_FX_JOB_CLOSE);
    e->u.job_close.id = cmd->target_id;
    e->u.job_close.at = r->ctx->now_ms;
    fl__run_event(r, FL_EV_JOB_COMPLETED, t->id, cmd->target_id, node_id, NULL);
    fl__run_resume(r, ti);
}

static void do_fail_job(struct fl__run *r, const struct fl_command *cmd, size_t ti)
{
    struct fl_token *t = &r->inst->tokens[ti];
    const char *node_id = r->m->nodes[t->node].id;
    const char *error = fl__fx_strdup(r->fx, cmd->error_message ? cmd->error_message : "");
    int retries = cmd->retries > 0 ? cmd->retries : 0;
    struct fl_effect *e;
    struct fl_buf *b;

    e = fl__fx_push(r->fx, retries ? FL_FX_JOB_RETRY : FL_FX_JOB_CLOSE);
    e->u.job_close.id = cmd->target_id;
    e->u.job_close.retries = retries;
    e->u.job_close.error = error;
    e->u.job_close.failed = retries == 0;
    e->u.job_close.at = r->ctx->now_ms;
    if (retries && cmd->retry_backoff_ms > 0)
        e->u.job_close.next_at = r->ctx->now_ms + cmd->retry_backoff_ms;
    b = fl__fx_scratch(r->fx);
    fl_buf_adds(b, "{\"error\":");
    fl_json_cstring(b, error);
    fl_buf_addf(b, ",\"retries\":%d}", retries);
    fl__run_event(r, FL_EV_JOB_FAILED, t->id, cmd->target_id, node_id, fl__fx_scratch_keep(r->fx));
    if (retries == 0) {
        /* Out of retries: the token waits at the task with an incident for a person. */
        struct fl__mover mv = fl__mover_of(t, false);
        fl__inst_remove_token(r->inst, ti);
        fl__run_incident(r, &mv, cmd->target_id, "job %llu of '%s' failed with no retries left: %s",
                         (unsigned long long)cmd->target_id, node_id, error);
    }
}

static void do_cancel(struct fl__run *r, const struct fl_command *cmd)
{
    struct fl_instance *inst = r->inst;
    struct fl_buf *b;

    fl__run_kill_all(r);
    inst->status = FL_INSTANCE_CANCELLED;
    inst->ended_at = r->ctx->now_ms;
    b = fl__fx_scratch(r->fx);
    fl_buf_adds(b, "{\"reason\":");
    fl_json_cstring(b, cmd->reason ? cmd->reason : "");
    fl_buf_addc(b, '}');
    fl__run_event(r, FL_EV_INSTANCE_CANCELLED, 0, 0, NULL, fl__fx_scratch_keep(r->fx));
}

int fl_engine_apply(const struct fl_model *m, struct fl_instance *inst,
                    const struct fl_command *cmd, const struct fl_engine_ctx *ctx,
                    struct fl_effects *fx, struct fl_error *err)
{
    struct fl__run r;
    struct completion cp = {0};
    struct fl__control_set one;
    size_t ti = SIZE_MAX, si = SIZE_MAX;
    int rc;

    if ((rc = check_ctx(ctx, err)) < 0)
        return rc;
    if (cmd->instance_id && cmd->instance_id != inst->id)
        return fl_error_set(err, FL_EINVAL, "command is for instance %llu, not %llu",
                            (unsigned long long)cmd->instance_id, (unsigned long long)inst->id);
    /* Check everything first: past this switch nothing can fail. */
    switch (cmd->kind) {
    case FL_CMD_COMPLETE_TASK:
        rc = check_complete_task(m, inst, cmd, ctx, &ti, &cp, err);
        break;
    case FL_CMD_RECORD_ACTION:
        rc = check_record_action(m, inst, cmd, &ti, err);
        break;
    case FL_CMD_COMPLETE_JOB:
        if ((rc = check_active(inst, err)) == 0 &&
            (rc = find_holder(m, inst, true, cmd->target_id, &ti, err)) == 0)
            rc = check_vars(cmd->variables, err);
        break;
    case FL_CMD_FAIL_JOB:
        if ((rc = check_active(inst, err)) == 0)
            rc = find_holder(m, inst, true, cmd->target_id, &ti, err);
        if (rc == 0 && cmd->retry_backoff_ms < 0)
            rc = fl_error_set(err, FL_EINVAL, "retry backoff must not be negative");
        break;
    case FL_CMD_RESOLVE:
        rc = fl__resolve_check(m, inst, cmd, &ti, err);
        break;
    case FL_CMD_CANCEL:
        rc = check_active(inst, err);
        break;
    case FL_CMD_SET_CONTROL:
        if ((rc = check_active(inst, err)) == 0)
            rc = fl__control_check_cmd(m, inst, cmd, &one, err);
        break;
    case FL_CMD_FIRE_TIMER:
        rc = fl__timer_check(m, inst, cmd, ctx, &ti, err);
        break;
    case FL_CMD_CALL_DONE:
    case FL_CMD_CALL_ESCALATE:
        rc = fl__call_done_check(m, inst, cmd, &ti, err);
        break;
    case FL_CMD_THROW_ERROR:
        rc = fl__throw_error_check(m, inst, cmd, &ti, err);
        break;
    case FL_CMD_CORRELATE:
        if ((rc = check_active(inst, err)) == 0 && (rc = check_vars(cmd->variables, err)) == 0)
            rc = fl__correlate_check(m, inst, cmd, &si, &ti, err);
        break;
    case FL_CMD_MODIFY:
        rc = fl__modify_check(m, inst, cmd, err);
        break;
    case FL_CMD_START:
        rc = fl_error_set(err, FL_EINVAL, "start is not applied to an instance");
        break;
    default:
        rc = fl_error_set(err, FL_EINVAL, "unknown command kind %d", (int)cmd->kind);
        break;
    }
    if (rc < 0) {
        free(cp.sets);
        return rc;
    }

    fl__run_init(&r, m, inst, ctx, fx, fl__fx_strdup(fx, cmd->actor));
    switch (cmd->kind) {
    case FL_CMD_COMPLETE_TASK:
        do_complete_task(&r, cmd, ti, &cp);
        break;
    case FL_CMD_SET_CONTROL:
        fl__controls_apply(&r, &one, 1, 0, NULL);
        break;
    case FL_CMD_RECORD_ACTION:
        do_record_action(&r, cmd, ti);
        break;
    case FL_CMD_COMPLETE_JOB:
        do_complete_job(&r, cmd, ti);
        break;
    case FL_CMD_FAIL_JOB:
        do_fail_job(&r, cmd, ti);
        break;
    case FL_CMD_RESOLVE:
        fl__resolve_apply(&r, cmd, ti);
        break;
    case FL_CMD_FIRE_TIMER:
        fl__timer_fire(&r, ti);
        break;
    case FL_CMD_CALL_DONE:
        fl__call_done(&r, cmd, ti);
        break;
    case FL_CMD_CALL_ESCALATE:
        fl__call_escalate(&r, cmd, ti);
        break;
    case FL_CMD_THROW_ERROR:
        fl__throw_error_apply(&r, cmd, ti);
        break;
    case FL_CMD_CORRELATE:
        fl__correlate(&r, si, ti, cmd->variables);
        break;
    case FL_CMD_MODIFY:
        fl__modify_do(&r, cmd);
        break;
    default:
        do_cancel(&r, cmd);
        break;
    }
    /* A fire on an ended instance only deletes the timer: nothing may move. */
    if (cmd->kind != FL_CMD_CANCEL && cmd->kind != FL_CMD_SET_CONTROL &&
        inst->status == FL_INSTANCE_ACTIVE)
        fl__run_go(&r);
    /* The flag follows the tokens still stuck: one an event or a scope's end cancelled took
     * its incident along (fl__run_close_work). */
    if (inst->incident) {
        bool open = false;
        for (size_t i = 0; i < inst->n_tokens && !open; i++)
            open = inst->tokens[i].state == FL_TOKEN_INCIDENT;
        inst->incident = open;
    }
    /* However it ended (last token, terminate end, cancel), nothing stays due. */
    if (inst->status != FL_INSTANCE_ACTIVE)
        fl__controls_close_all(&r);
    fl__run_release(&r);
    free(cp.sets);
    inst->revision++;
    return 0;
}
