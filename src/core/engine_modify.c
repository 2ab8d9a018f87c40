/* Instance modification (FL_CMD_MODIFY), an administrator's repair of a running instance:
 * cancel a resting token (its task, job, timers and subscriptions close with it, and
 * everything running inside it when it is a scope) and start a token before an element,
 * as if it had arrived there. Every instruction is checked before any is applied, and the
 * starts are queued before the cancels take effect, so moving the only token keeps the
 * instance alive; one left with no token at all ends as cancelled, as Camunda does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "flowd/alloc.h"

/* Instruction i of the cancels: target_id first, then cancel_tokens[]. */
static size_t n_cancels(const struct fl_command *cmd)
{
    return (cmd->target_id ? 1 : 0) + cmd->n_cancel_tokens;
}

static uint64_t cancel_at(const struct fl_command *cmd, size_t i)
{
    if (cmd->target_id) {
        if (i == 0)
            return cmd->target_id;
        i--;
    }
    return cmd->cancel_tokens[i];
}

static size_t n_starts(const struct fl_command *cmd)
{
    return (cmd->start_node_id ? 1 : 0) + cmd->n_start_before;
}

static const char *start_at(const struct fl_command *cmd, size_t i)
{
    if (cmd->start_node_id) {
        if (i == 0)
            return cmd->start_node_id;
        i--;
    }
    return cmd->start_before[i];
}

/* The one resting SCOPE token at node `scope`, or SIZE_MAX; *count gets how many. */
static size_t scope_token(const struct fl_instance *inst, uint32_t scope, size_t *count)
{
    size_t found = SIZE_MAX;
    *count = 0;
    for (size_t i = 0; i < inst->n_tokens; i++)
        if (inst->tokens[i].node == scope && inst->tokens[i].state == FL_TOKEN_SCOPE &&
            !inst->tokens[i].mi_body) {
            found = i;
            (*count)++;
        }
    return found;
}

static int check_start(const struct fl_model *m, const struct fl_instance *inst, const char *id,
                       struct fl_error *err)
{
    uint32_t i = id ? fl_model_find_node(m, id) : FL_NONE;
    const struct fl_node *n;
    size_t count;

    if (i == FL_NONE)
        return fl_error_set(err, FL_EINVAL, "process '%s' has no element '%s' to start before",
                            m->key ? m->key : "", id ? id : "");
    n = &m->nodes[i];
    if (n->kind == FL_NODE_TIMER_BOUNDARY || n->kind == FL_NODE_BOUNDARY_EVENT) {
        fl_error_set(err, FL_EINVAL,
                     "'%s' is a boundary event: start before the activity it is attached to", id);
        fl_error_at(err, n->id, n->line, n->column);
        return FL_EINVAL;
    }
    if (n->scope != FL_NONE && (m->nodes[n->scope].kind == FL_NODE_EVENT_SUB_PROCESS)) {
        fl_error_set(err, FL_EUNSUPPORTED,
                     "'%s' is inside event subprocess '%s': starting there is not supported yet",
                     id, m->nodes[n->scope].id);
        fl_error_at(err, n->id, n->line, n->column);
        return FL_EUNSUPPORTED;
    }
    if (n->scope != FL_NONE) {
        /* Inside a subprocess: the token joins the one running instance of that scope. */
        scope_token(inst, n->scope, &count);
        if (count != 1) {
            fl_error_set(err, FL_EUNSUPPORTED,
                         "'%s' is inside subprocess '%s', which has %s: starting before it "
                         "needs exactly one (start before '%s' instead)",
                         id, m->nodes[n->scope].id,
                         count ? "several running instances" : "no running instance",
                         m->nodes[n->scope].id);
            fl_error_at(err, n->id, n->line, n->column);
            return FL_EUNSUPPORTED;
        }
    }
    return 0;
}

int fl__modify_check(const struct fl_model *m, const struct fl_instance *inst,
                     const struct fl_command *cmd, struct fl_error *err)
{
    size_t nc = n_cancels(cmd), ns = n_starts(cmd);
    int rc;

    if (inst->status != FL_INSTANCE_ACTIVE)
        return fl_error_set(err, FL_ECONFLICT, "instance %llu is %s", (unsigned long long)inst->id,
                            inst->status == FL_INSTANCE_COMPLETED ? "completed" : "cancelled");
    if (nc == 0 && ns == 0)
        return fl_error_set(err, FL_EINVAL,
                            "a modification needs a token to cancel or an element to start before");
    if (cmd->variables && fl_value_type(cmd->variables) != FL_VCONTEXT) {
        fl_error_set(err, FL_ETYPE, "variables must be a context");
        if (err)
            snprintf(err->field, sizeof(err->field), "variables");
        return FL_ETYPE;
    }
    for (size_t i = 0; i < nc; i++) {
        uint64_t id = cancel_at(cmd, i);
        size_t k = fl__inst_find_token(inst, id);
        if (k == SIZE_MAX)
            return fl_error_set(err, FL_ENOTFOUND, "token %llu is not resting in instance %llu",
                                (unsigned long long)id, (unsigned long long)inst->id);
        if (inst->tokens[k].call_id)
            return fl_error_set(err, FL_EUNSUPPORTED,
                                "token %llu waits for called instance %llu: cancel that instance "
                                "instead",
                                (unsigned long long)id,
                                (unsigned long long)inst->tokens[k].call_id);
        for (size_t j = 0; j < i; j++)
            if (cancel_at(cmd, j) == id)
                return fl_error_set(err, FL_EINVAL, "token %llu is cancelled twice",
                                    (unsigned long long)id);
    }
    for (size_t i = 0; i < ns; i++)
        if ((rc = check_start(m, inst, start_at(cmd, i), err)) < 0)
            return rc;
    return 0;
}

/* Is token t inside the scope token `outer` (directly or deeper)? */
static bool inside(const struct fl_instance *inst, const struct fl_token *t, uint64_t outer)
{
    size_t guard = 0;
    for (uint64_t s = t->scope; s && guard++ <= inst->n_tokens;) {
        size_t k;
        if (s == outer)
            return true;
        if ((k = fl__inst_find_token(inst, s)) == SIZE_MAX)
            return false;
        s = inst->tokens[k].scope;
    }
    return false;
}

/* Close what token k holds and take it out: task, job, its timers, subscriptions, locals. */
static void drop_token(struct fl__run *r, size_t k)
{
    struct fl_instance *inst = r->inst;
    struct fl_token t = inst->tokens[k];
    struct fl_effect *e;

    fl__run_close_work(r, &t, "cancelled by modification");
    fl__run_drop_timers(r, t.id);
    for (size_t i = inst->n_subs; i-- > 0;) {
        if (inst->subs[i].token_id != t.id)
            continue;
        e = fl__fx_push(r->fx, FL_FX_SUB_CLOSE);
        e->u.sub.id = inst->subs[i].id;
        free(inst->subs[i].name);
        free(inst->subs[i].correlation_key);
        memmove(&inst->subs[i], &inst->subs[i + 1], (inst->n_subs - i - 1) * sizeof(*inst->subs));
        inst->n_subs--;
    }
    fl__run_drop_locals(r, t.id);
    fl__inst_remove_token(inst, k);
    e = fl__fx_push(r->fx, FL_FX_TOKEN_DEL);
    e->u.token.id = t.id;
    e->u.token.node = FL_NONE;
    e->u.token.flow = FL_NONE;
}

static void cancel_token(struct fl__run *r, uint64_t id)
{
    struct fl_instance *inst = r->inst;
    size_t k = fl__inst_find_token(inst, id);
    const char *node_id;
    struct fl_buf *b;

    if (k == SIZE_MAX)
        return; /* went with a scope cancelled before it */
    node_id = fl__node_id(r->m, inst->tokens[k].node);
    /* Everything running inside it goes too: find all of it before the chains break. */
    uint64_t *inner = fl_calloc(inst->n_tokens + 1, sizeof(*inner));
    size_t n_inner = 0;
    for (size_t i = 0; i < inst->n_tokens; i++)
        if (inside(inst, &inst->tokens[i], id))
            inner[n_inner++] = inst->tokens[i].id;
    for (size_t i = 0; i < n_inner; i++)
        drop_token(r, fl__inst_find_token(inst, inner[i]));
    free(inner);
    drop_token(r, fl__inst_find_token(inst, id));
    b = fl__fx_scratch(r->fx);
    fl_buf_addf(b, "{\"cancelled\":%llu}", (unsigned long long)id);
    fl__run_event(r, FL_EV_INSTANCE_MODIFIED, id, 0, node_id, fl__fx_scratch_keep(r->fx));
}

static void start_before(struct fl__run *r, const char *id)
{
    uint32_t i = fl_model_find_node(r->m, id);
    const struct fl_node *n = &r->m->nodes[i];
    struct fl__mover mv = {.id = fl__run_id(r, FL_ID_TOKEN), .node = i, .flow = FL_NONE};
    struct fl_buf *b;
    size_t count;

    if (n->scope != FL_NONE) {
        size_t k = scope_token(r->inst, n->scope, &count);
        mv.scope = r->inst->tokens[k].id;
    }
    b = fl__fx_scratch(r->fx);
    fl_buf_adds(b, "{\"started_before\":");
    fl_json_cstring(b, n->id);
    fl_buf_addc(b, '}');
    fl__run_event(r, FL_EV_INSTANCE_MODIFIED, mv.id, 0, n->id, fl__fx_scratch_keep(r->fx));
    fl__run_push(r, &mv);
}

void fl__modify_do(struct fl__run *r, const struct fl_command *cmd)
{
    struct fl_instance *inst = r->inst;
    size_t nc = n_cancels(cmd), ns = n_starts(cmd);

    if (cmd->variables)
        fl__run_merge_vars(r, cmd->variables, 0, NULL);
    for (size_t i = 0; i < ns; i++)
        start_before(r, start_at(cmd, i));
    for (size_t i = 0; i < nc; i++)
        cancel_token(r, cancel_at(cmd, i));
    if (nc) {
        /* A cancelled stuck token resolved its incident (fl__run_close_work); the
         * instance's flag follows the tokens that are still stuck. */
        inst->incident = false;
        for (size_t i = 0; i < inst->n_tokens; i++)
            if (inst->tokens[i].state == FL_TOKEN_INCIDENT)
                inst->incident = true;
    }
    if (ns == 0 && inst->n_tokens == 0) {
        /* Nothing left to wait for and nothing started: the instance ends as cancelled. */
        fl__run_timers_del_all(r);
        inst->status = FL_INSTANCE_CANCELLED;
        inst->ended_at = r->ctx->now_ms;
        fl__run_event(r, FL_EV_INSTANCE_CANCELLED, 0, 0, NULL,
                      "{\"reason\":\"modification left no token\"}");
    }
}
