/* BPMN errors and escalations: error end events, job workers throwing an error at their
 * service task (FL_CMD_THROW_ERROR), escalation intermediate throw and end events. A throw
 * propagates outwards from the thrower -- the boundary events of the activity it is in,
 * then each enclosing scope's event subprocess starts and its boundary events, up to the
 * process -- and the first catcher takes it. An uncaught error is critical: in a called
 * instance it goes up to the caller (FL_FX_ERROR_UP), else it raises an incident at the
 * thrower, as Zeebe does; an uncaught escalation is not: the thrower just goes on (and in a
 * called instance the escalation goes up to the caller's call activity, as BPMN and
 * Camunda 7 have it: FL_FX_ESCALATE_UP, then FL_CMD_CALL_ESCALATE there). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "flowd/alloc.h"

/* ---- finding the catcher ---- */

struct catcher {
    uint32_t node;   /* the boundary event, or the event subprocess's start event */
    uint64_t holder; /* boundary: the activity's token; start: the scope token (0 process) */
    bool boundary;
};

/* Does catch event n take what is thrown? exact: only a catch naming this code; else
 * only a catch-all (no code). */
static bool matches(const struct fl_node *n, enum fl_trigger tr, const char *code, bool exact)
{
    if (!n->event || n->event->trigger != tr)
        return false;
    if (exact)
        return n->event->name && n->event->name[0] && code && !strcmp(n->event->name, code);
    return !n->event->name || !n->event->name[0];
}

/* The scope token holding t, or NULL. */
static const struct fl_token *parent_of(const struct fl_instance *inst, const struct fl_token *t)
{
    size_t i = t->scope ? fl__inst_find_token(inst, t->scope) : SIZE_MAX;
    return i == SIZE_MAX ? NULL : &inst->tokens[i];
}

/* The boundary events of the activity token t rests at. The inner instances of a
 * multi-instance activity share the body's boundary events: those are the body's. */
static bool on_boundaries(const struct fl__run *r, const struct fl_token *t, enum fl_trigger tr,
                          const char *code, struct catcher *c)
{
    const struct fl_token *p = parent_of(r->inst, t);
    const struct fl_node *a;
    if (t->node >= r->m->n_nodes || (p && p->mi_body && p->node == t->node))
        return false;
    a = &r->m->nodes[t->node];
    for (int exact = 1; exact >= 0; exact--)
        for (uint32_t i = 0; i < a->n_boundaries; i++) {
            const struct fl_node *b = &r->m->nodes[a->boundaries[i]];
            if (b->kind == FL_NODE_BOUNDARY_EVENT && matches(b, tr, code, exact)) {
                c->node = a->boundaries[i];
                c->holder = t->id;
                c->boundary = true;
                return true;
            }
        }
    return false;
}

/* The event subprocess start events of a scope (s = its token, 0 = the process). */
static bool on_starts(const struct fl__run *r, const uint32_t *starts, size_t n, uint64_t s,
                      enum fl_trigger tr, const char *code, struct catcher *c)
{
    for (int exact = 1; exact >= 0; exact--)
        for (size_t i = 0; i < n; i++) {
            const struct fl_node *e = &r->m->nodes[starts[i]];
            if (e->kind == FL_NODE_EVENT_START && matches(e, tr, code, exact)) {
                c->node = starts[i];
                c->holder = s;
                c->boundary = false;
                return true;
            }
        }
    return false;
}

static bool find_catcher(const struct fl__run *r, const struct fl__throw *th, size_t k,
                         struct catcher *c)
{
    const struct fl_instance *inst = r->inst;
    uint64_t s = th->scope;
    bool from_esp = false;
    size_t guard = 0;

    if (k != SIZE_MAX) {
        if (on_boundaries(r, &inst->tokens[k], th->trigger, th->code, c))
            return true;
        s = inst->tokens[k].scope;
    }
    while (guard++ <= inst->n_tokens) {
        size_t si = s ? fl__inst_find_token(inst, s) : SIZE_MAX;
        const struct fl_token *st = si == SIZE_MAX ? NULL : &inst->tokens[si];
        if (s && !st)
            return false; /* the chain is broken: nothing outside can be reached */
        /* Event subprocesses of the scope come before its boundary events (they are
         * inside it); an error thrown inside an event subprocess skips its siblings. */
        if (!from_esp && !(st && st->mi_body)) {
            const uint32_t *starts = st ? r->m->nodes[st->node].event_starts : r->m->event_starts;
            size_t n = st ? r->m->nodes[st->node].n_event_starts : r->m->n_event_starts;
            if (on_starts(r, starts, n, s, th->trigger, th->code, c))
                return true;
        }
        if (!st)
            return false;
        if (on_boundaries(r, st, th->trigger, th->code, c))
            return true;
        from_esp = r->m->nodes[st->node].kind == FL_NODE_EVENT_SUB_PROCESS;
        s = st->scope;
    }
    return false;
}

/* ---- catching ---- */

/* The code and message variables the catch event asks for, as a context, or NULL. */
static struct fl_value *caught_vars(const struct fl_node *n, const char *code, const char *msg)
{
    struct fl_value *vars = NULL, *v;
    if (n->event->code_variable && n->event->code_variable[0]) {
        vars = fl_value_context_new();
        if (!code || fl_value_string_new(code, strlen(code), &v) != 0)
            v = fl_value_null();
        fl_value_context_set(vars, n->event->code_variable, strlen(n->event->code_variable), v);
    }
    if (n->event->message_variable && n->event->message_variable[0]) {
        if (!vars)
            vars = fl_value_context_new();
        if (!msg || fl_value_string_new(msg, strlen(msg), &v) != 0)
            v = fl_value_null();
        fl_value_context_set(vars, n->event->message_variable,
                             strlen(n->event->message_variable), v);
    }
    return vars;
}

enum fl__caught fl__throw(struct fl__run *r, const struct fl__throw *th, size_t k)
{
    struct catcher c;
    const struct fl_node *n;
    struct fl_value *vars;
    struct fl_buf *b;
    bool interrupt;

    if (!find_catcher(r, th, k, &c))
        return FL__UNCAUGHT;
    n = &r->m->nodes[c.node];
    /* Errors always interrupt; escalations as the catch event says. */
    interrupt = th->trigger == FL_TRIGGER_ERROR || (c.boundary ? n->cancel_activity : n->interrupting);
    b = fl__fx_scratch(r->fx);
    fl_buf_adds(b, "{\"code\":");
    fl_json_cstring(b, th->code ? th->code : "");
    fl_buf_adds(b, ",\"by\":");
    fl_json_cstring(b, n->id);
    fl_buf_addc(b, '}');
    fl__run_event(r, FL_EV_ERROR_CAUGHT, th->token_id, 0, n->id, fl__fx_scratch_keep(r->fx));
    vars = caught_vars(n, th->code, th->message);
    if (c.boundary) {
        size_t hk = fl__inst_find_token(r->inst, c.holder);
        if (vars)
            fl__run_set_vars(r, vars, 0, r->inst->tokens[hk].scope, n->id);
        hk = fl__inst_find_token(r->inst, c.holder); /* setting variables moves nothing */
        fl__boundary_trigger(r, hk, c.node, interrupt);
    } else {
        fl__event_sub_start(r, c.node, c.holder, interrupt, vars);
    }
    fl_value_unref(vars);
    return interrupt ? FL__CAUGHT_STOP : FL__CAUGHT_ON;
}

/* ---- uncaught errors ---- */

#define UP_FMT "error '%s' thrown at '%s' is not caught: it goes to the caller"

void fl__error_uncaught(struct fl__run *r, const struct fl__mover *mv, size_t k, uint64_t job_id,
                        const char *code, const char *message)
{
    struct fl_instance *inst = r->inst;
    struct fl__mover at;
    const char *node_id;

    if (mv) {
        at = *mv;
    } else {
        const struct fl_token *t = &inst->tokens[k];
        at = fl__mover_of(t, false);
    }
    node_id = fl__node_id(r->m, at.node);
    if (inst->parent_instance_id) {
        /* A called instance: the caller's call activity gets the error; this one ends. */
        struct fl_effect *e = fl__fx_push(r->fx, FL_FX_ERROR_UP);
        struct fl_buf *b;
        e->u.msg.token_id = at.id;
        e->u.msg.node_id = node_id;
        e->u.msg.name = code ? code : "";
        e->u.msg.correlation_key = message;
        if (mv && mv->stored) {
            struct fl_effect *d = fl__fx_push(r->fx, FL_FX_TOKEN_DEL);
            d->u.token.id = mv->id;
            d->u.token.node = FL_NONE;
            d->u.token.flow = FL_NONE;
        }
        fl__run_kill_all(r);
        inst->status = FL_INSTANCE_CANCELLED;
        inst->ended_at = r->ctx->now_ms;
        {
            /* the code is user text: quote it as JSON rather than pasting it in */
            const char *c = code ? code : "", *where = node_id ? node_id : "";
            int n = snprintf(NULL, 0, UP_FMT, c, where);
            char *why = fl__fx_alloc(r->fx, (size_t)(n < 0 ? 0 : n) + 1);
            snprintf(why, (size_t)(n < 0 ? 0 : n) + 1, UP_FMT, c, where);
            b = fl__fx_scratch(r->fx);
            fl_buf_adds(b, "{\"reason\":");
            fl_json_cstring(b, why);
            fl_buf_addc(b, '}');
        }
        fl__run_event(r, FL_EV_INSTANCE_CANCELLED, 0, 0, NULL, fl__fx_scratch_keep(r->fx));
        return;
    }
    if (!mv)
        fl__inst_remove_token(inst, k);
    fl__run_incident(r, &at, job_id, "error '%s' thrown at '%s' is not caught", code ? code : "",
                     node_id ? node_id : "");
}

/* ---- throwing ---- */

static void thrown_event(struct fl__run *r, enum fl_event_type type, uint64_t token_id,
                         uint64_t ref_id, const char *node_id, const char *code, const char *msg)
{
    struct fl_buf *b = fl__fx_scratch(r->fx);
    fl_buf_adds(b, "{\"code\":");
    fl_json_cstring(b, code ? code : "");
    if (msg) {
        fl_buf_adds(b, ",\"message\":");
        fl_json_cstring(b, msg);
    }
    fl_buf_addc(b, '}');
    fl__run_event(r, type, token_id, ref_id, node_id, fl__fx_scratch_keep(r->fx));
}

/* The code of the throw event mv is at ("=expr" evaluated); -1 after an incident. */
static int throw_code(struct fl__run *r, const struct fl__mover *mv, const char **code)
{
    const struct fl_node *n = &r->m->nodes[mv->node];
    struct fl_value *vars = fl__run_vars(r, mv->id, mv->scope);
    char why[300];
    int rc = fl__eval_text(r, n->event->name, vars, code, why, sizeof(why));
    fl_value_unref(vars);
    if (rc < 0)
        fl__run_incident(r, mv, 0, "%s code of '%s' (%s) %s", fl_trigger_name(n->event->trigger),
                         n->id, n->event->name, why);
    return rc;
}

static void consume(struct fl__run *r, const struct fl__mover *mv)
{
    fl__run_event(r, FL_EV_NODE_LEFT, mv->id, 0, fl__node_id(r->m, mv->node), NULL);
    if (mv->stored) {
        struct fl_effect *e = fl__fx_push(r->fx, FL_FX_TOKEN_DEL);
        e->u.token.id = mv->id;
        e->u.token.node = FL_NONE;
        e->u.token.flow = FL_NONE;
    }
    fl__run_drop_locals(r, mv->id);
}

/* A token reaches an error end event: the error is thrown from its scope. */
static void error_end(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *n = &r->m->nodes[mv->node];
    const char *code = NULL;
    struct fl__throw th;

    if (throw_code(r, mv, &code) < 0)
        return;
    thrown_event(r, FL_EV_ERROR_THROWN, mv->id, 0, n->id, code, n->event->message);
    th = (struct fl__throw){FL_TRIGGER_ERROR, code, n->event->message, mv->node, mv->id, mv->scope};
    if (fl__throw(r, &th, SIZE_MAX) == FL__UNCAUGHT) {
        fl__error_uncaught(r, mv, SIZE_MAX, 0, code, n->event->message);
        return;
    }
    consume(r, mv); /* an end event ends its token whoever caught the error */
}

/* Nothing in this instance caught escalation th: a called instance hands it to its caller. */
static void escalation_uncaught(struct fl__run *r, const struct fl__throw *th)
{
    struct fl_effect *e;
    if (!r->inst->parent_instance_id)
        return;
    e = fl__fx_push(r->fx, FL_FX_ESCALATE_UP);
    e->u.msg.token_id = th->token_id;
    e->u.msg.node_id = fl__node_id(r->m, th->node);
    e->u.msg.name = fl__fx_strdup(r->fx, th->code ? th->code : "");
    e->u.msg.correlation_key = fl__fx_strdup(r->fx, th->message);
}

/* A token reaches an escalation throw (end: an end event). Not critical: uncaught, a
 * throw event goes on and an end event ends the token; a non-interrupting catch lets it
 * go on too; an interrupting one has cancelled its scope. */
static void escalation(struct fl__run *r, const struct fl__mover *mv, bool end)
{
    const struct fl_node *n = &r->m->nodes[mv->node];
    const char *code = NULL;
    struct fl__throw th;
    enum fl__caught res;

    if (throw_code(r, mv, &code) < 0)
        return;
    thrown_event(r, FL_EV_ESCALATION_THROWN, mv->id, 0, n->id, code, NULL);
    th = (struct fl__throw){FL_TRIGGER_ESCALATION, code, n->event->message, mv->node, mv->id,
                            mv->scope};
    res = fl__throw(r, &th, SIZE_MAX);
    if (res == FL__UNCAUGHT)
        escalation_uncaught(r, &th);
    if (end || res == FL__CAUGHT_STOP) {
        consume(r, mv);
        return;
    }
    struct fl__mover out = *mv;
    out.leaving = true;
    fl__run_push(r, &out);
}

bool fl__enter_error_event(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *n = &r->m->nodes[mv->node];
    if (!n->event)
        return false;
    switch (n->kind) {
    case FL_NODE_THROW_EVENT:
        if (n->event->trigger == FL_TRIGGER_ESCALATION) {
            escalation(r, mv, false);
            return true;
        }
        if (n->event->trigger == FL_TRIGGER_COMPENSATE) {
            fl__enter_compensate(r, mv);
            return true;
        }
        return false;
    case FL_NODE_EVENT_END:
        if (n->event->trigger == FL_TRIGGER_ERROR) {
            error_end(r, mv);
            return true;
        }
        if (n->event->trigger == FL_TRIGGER_ESCALATION) {
            escalation(r, mv, true);
            return true;
        }
        if (n->event->trigger == FL_TRIGGER_COMPENSATE) {
            fl__enter_compensate(r, mv);
            return true;
        }
        if (n->event->trigger == FL_TRIGGER_CANCEL) {
            fl__enter_cancel_end(r, mv);
            return true;
        }
        return false;
    case FL_NODE_CATCH_EVENT:
        if (n->event->trigger == FL_TRIGGER_CONDITIONAL) {
            fl__enter_conditional_catch(r, mv);
            return true;
        }
        return false;
    default:
        return false;
    }
}

/* ---- FL_CMD_THROW_ERROR ---- */

int fl__throw_error_check(const struct fl_model *m, const struct fl_instance *inst,
                          const struct fl_command *cmd, size_t *k, struct fl_error *err)
{
    if (inst->status != FL_INSTANCE_ACTIVE)
        return fl_error_set(err, FL_ECONFLICT, "instance %llu is %s", (unsigned long long)inst->id,
                            inst->status == FL_INSTANCE_COMPLETED ? "completed" : "cancelled");
    *k = fl__inst_find_job(inst, cmd->target_id);
    if (*k == SIZE_MAX)
        return fl_error_set(err, FL_ENOTFOUND, "job %llu not found in instance %llu",
                            (unsigned long long)cmd->target_id, (unsigned long long)inst->id);
    if (inst->tokens[*k].node >= m->n_nodes)
        return fl_error_set(err, FL_EINVAL, "token %llu is at node %u, not in process '%s'",
                            (unsigned long long)inst->tokens[*k].id, inst->tokens[*k].node,
                            m->key ? m->key : "");
    if (!cmd->error_code || !cmd->error_code[0]) {
        fl_error_set(err, FL_EINVAL, "throwing a BPMN error needs an error code");
        if (err)
            snprintf(err->field, sizeof(err->field), "error_code");
        return FL_EINVAL;
    }
    if (cmd->variables && fl_value_type(cmd->variables) != FL_VCONTEXT) {
        fl_error_set(err, FL_ETYPE, "variables must be a context, not a %s",
                     fl_value_type_name(fl_value_type(cmd->variables)));
        if (err)
            snprintf(err->field, sizeof(err->field), "variables");
        return FL_ETYPE;
    }
    return 0;
}

void fl__throw_error_apply(struct fl__run *r, const struct fl_command *cmd, size_t k)
{
    struct fl_token *t = &r->inst->tokens[k];
    const char *node_id = r->m->nodes[t->node].id;
    const char *code = fl__fx_strdup(r->fx, cmd->error_code);
    const char *msg = fl__fx_strdup(r->fx, cmd->error_message);
    uint64_t token_id = t->id, scope = t->scope, job_id = t->job_id;
    uint32_t node = t->node;
    struct fl_effect *e;
    struct fl__throw th;

    if (cmd->variables)
        fl__run_set_vars(r, cmd->variables, token_id, scope, node_id);
    /* The job is over either way: a catcher moves on, an incident retries with a new job. */
    e = fl__fx_push(r->fx, FL_FX_JOB_CLOSE);
    e->u.job_close.id = job_id;
    e->u.job_close.failed = true;
    e->u.job_close.error = msg ? msg : code;
    e->u.job_close.at = r->ctx->now_ms;
    k = fl__inst_find_token(r->inst, token_id);
    r->inst->tokens[k].job_id = 0;
    thrown_event(r, FL_EV_ERROR_THROWN, token_id, job_id, node_id, code, msg);
    th = (struct fl__throw){FL_TRIGGER_ERROR, code, msg, node, token_id, scope};
    if (fl__throw(r, &th, k) == FL__UNCAUGHT)
        fl__error_uncaught(r, NULL, fl__inst_find_token(r->inst, token_id), job_id, code, msg);
}

void fl__call_escalate(struct fl__run *r, const struct fl_command *cmd, size_t ti)
{
    const struct fl_token t = r->inst->tokens[ti];
    const char *code = fl__fx_strdup(r->fx, cmd->error_code ? cmd->error_code : "");
    const char *msg = fl__fx_strdup(r->fx, cmd->error_message);
    struct fl__throw th = {FL_TRIGGER_ESCALATION, code, msg, t.node, t.id, t.scope};

    /* The call activity throws it on the child's behalf; an interrupting catch cancels the
     * call activity, and with it the called instance (FL_FX_CALL_CANCEL). */
    thrown_event(r, FL_EV_ESCALATION_THROWN, t.id, t.call_id, fl__node_id(r->m, t.node), code, msg);
    if (fl__throw(r, &th, ti) == FL__UNCAUGHT)
        escalation_uncaught(r, &th);
}
