/* Token movement: the run of one command moves tokens through the model until each rests
 * at a wait state (user or service task, timer catch event, parallel join, incident) or is
 * consumed at an end.
 * Moving tokens live in a FIFO, not in inst->tokens, so only tokens that come to rest or
 * that rested before the command show up as TOKEN_PUT / TOKEN_DEL effects. Problems of
 * the model met on the way (no condition true, a failing expression, an endless loop)
 * become incidents; nothing here fails. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "flowd/alloc.h"
#include "flowd/feel.h"

void fl__run_init(struct fl__run *r, const struct fl_model *m, struct fl_instance *inst,
                  const struct fl_engine_ctx *ctx, struct fl_effects *fx, const char *actor)
{
    memset(r, 0, sizeof(*r));
    r->m = m;
    r->inst = inst;
    r->ctx = ctx;
    r->fx = fx;
    r->actor = actor;
    r->max_steps = ctx->max_steps ? ctx->max_steps : FL_ENGINE_DEFAULT_MAX_STEPS;
    r->q = r->q_inline;
    r->q_cap = sizeof(r->q_inline) / sizeof(r->q_inline[0]);
    r->sel = r->sel_inline;
    r->sel_cap = sizeof(r->sel_inline) / sizeof(r->sel_inline[0]);
}

void fl__run_release(struct fl__run *r)
{
    if (r->q != r->q_inline)
        free(r->q);
    if (r->sel != r->sel_inline)
        free(r->sel);
    fl__inclusive_release(r);
    r->q = r->q_inline;
    r->sel = r->sel_inline;
}

const char *fl__node_id(const struct fl_model *m, uint32_t i)
{
    return i < m->n_nodes ? m->nodes[i].id : NULL;
}

/* Grow an array that starts out in inline storage (the common case allocates nothing). */
static void *grow_inline(void *arr, const void *inline_arr, size_t *cap, size_t need, size_t size)
{
    size_t c = *cap;
    void *p;
    if (need <= c)
        return arr;
    while (c < need)
        c *= 2;
    if (arr == inline_arr) {
        p = fl_reallocarray(NULL, c, size);
        memcpy(p, arr, *cap * size);
    } else {
        p = fl_reallocarray(arr, c, size);
    }
    *cap = c;
    return p;
}

void fl__run_push(struct fl__run *r, const struct fl__mover *mv)
{
    if (r->q_head == r->q_len)
        r->q_head = r->q_len = 0;
    r->q = grow_inline(r->q, r->q_inline, &r->q_cap, r->q_len + 1, sizeof(*r->q));
    r->q[r->q_len++] = *mv;
}

uint64_t fl__run_id(struct fl__run *r, enum fl_id_kind kind)
{
    return r->ctx->next_id(r->ctx->id_arg, kind);
}

void fl__run_event(struct fl__run *r, enum fl_event_type type, uint64_t token_id, uint64_t ref_id,
                   const char *node_id, const char *detail)
{
    struct fl_effect *e = fl__fx_push(r->fx, FL_FX_EVENT);
    e->u.event.type = type;
    e->u.event.instance_id = r->inst->id;
    e->u.event.token_id = token_id;
    e->u.event.ref_id = ref_id;
    e->u.event.node_id = node_id;
    e->u.event.actor = r->actor;
    e->u.event.detail = detail;
    e->u.event.at = r->ctx->now_ms;
}

struct fl_token fl__token_at(const struct fl__mover *mv, uint8_t state)
{
    struct fl_token t = {.id = mv->id,
                         .node = mv->node,
                         .flow = FL_NONE,
                         .state = state,
                         .scope = mv->scope,
                         .loop = mv->loop};
    return t;
}

struct fl__mover fl__mover_of(const struct fl_token *t, bool leaving)
{
    struct fl__mover mv = {.id = t->id,
                           .node = t->node,
                           .flow = FL_NONE,
                           .stored = true,
                           .leaving = leaving,
                           .scope = t->scope,
                           .loop = t->loop};
    return mv;
}

void fl__run_park(struct fl__run *r, const struct fl_token *t)
{
    struct fl_effect *e;
    fl__inst_add_token(r->inst, t);
    e = fl__fx_push(r->fx, FL_FX_TOKEN_PUT);
    e->u.token = *t;
}

void fl__run_token_del(struct fl__run *r, uint64_t id)
{
    struct fl_effect *e = fl__fx_push(r->fx, FL_FX_TOKEN_DEL);
    e->u.token.id = id;
    e->u.token.node = FL_NONE;
    e->u.token.flow = FL_NONE;
}

void fl__run_incident(struct fl__run *r, const struct fl__mover *mv, uint64_t job_id,
                      const char *fmt, ...)
{
    const char *node_id = fl__node_id(r->m, mv->node);
    char *msg;
    int n;
    va_list ap;

    /* Messages quote user text (expressions, errors) of any length: never truncate. */
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    msg = fl__fx_alloc(r->fx, (size_t)(n < 0 ? 0 : n) + 1);
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
    va_end(ap);
    uint64_t id = fl__run_id(r, FL_ID_INCIDENT);
    struct fl_token t = fl__token_at(mv, FL_TOKEN_INCIDENT);
    struct fl_effect *e = fl__fx_push(r->fx, FL_FX_INCIDENT);
    struct fl_buf *b;

    /* FL_CMD_RESOLVE retries the node the way the token met it: entering or leaving. */
    t.incident_id = id;
    t.incident_leaving = mv->leaving;

    e->u.incident.id = id;
    e->u.incident.token_id = mv->id;
    e->u.incident.job_id = job_id;
    e->u.incident.node_id = node_id;
    e->u.incident.message = msg;
    e->u.incident.at = r->ctx->now_ms;
    e->u.incident.leaving = mv->leaving;
    b = fl__fx_scratch(r->fx);
    fl_buf_adds(b, "{\"error\":");
    fl_json_cstring(b, msg);
    fl_buf_addc(b, '}');
    fl__run_event(r, FL_EV_INCIDENT_RAISED, mv->id, id, node_id, fl__fx_scratch_keep(r->fx));
    fl__run_park(r, &t);
    r->inst->incident = true;
}

struct fl_effect *fl__run_task_effect(struct fl__run *r, enum fl_effect_kind k, uint64_t task_id,
                                      enum fl_task_status status)
{
    struct fl_effect *e = fl__fx_push(r->fx, k);
    e->u.task_close.id = task_id;
    e->u.task_close.status = status;
    e->u.task_close.actor = r->actor;
    e->u.task_close.at = r->ctx->now_ms;
    /* A closed task's reminder and deadline have nothing left to tell. */
    if (k == FL_FX_TASK_CLOSE)
        fl__run_task_timers_del(r, task_id);
    return e;
}

void fl__run_close_work(struct fl__run *r, const struct fl_token *t, const char *reason)
{
    const char *node_id = fl__node_id(r->m, t->node);
    struct fl_effect *e;
    if (t->state == FL_TOKEN_INCIDENT && t->incident_id) {
        /* A stuck token that is cancelled (modification, an interrupting event, the
         * instance's end) takes its incident with it: nobody can retry it any more. */
        struct fl_buf *b = fl__fx_scratch(r->fx);
        e = fl__fx_push(r->fx, FL_FX_INCIDENT_RESOLVE);
        e->u.incident.id = t->incident_id;
        e->u.incident.token_id = t->id;
        e->u.incident.node_id = node_id;
        e->u.incident.at = r->ctx->now_ms;
        fl_buf_addf(b, "{\"incident\":%llu,\"reason\":", (unsigned long long)t->incident_id);
        fl_json_cstring(b, reason);
        fl_buf_addc(b, '}');
        fl__run_event(r, FL_EV_INCIDENT_RESOLVED, t->id, t->incident_id, node_id,
                      fl__fx_scratch_keep(r->fx));
    }
    if (t->task_id) {
        fl__run_task_effect(r, FL_FX_TASK_CLOSE, t->task_id, FL_TASK_CANCELLED);
        fl__run_event(r, FL_EV_TASK_CANCELLED, t->id, t->task_id, node_id, NULL);
    }
    if (t->job_id) {
        e = fl__fx_push(r->fx, FL_FX_JOB_CLOSE);
        e->u.job_close.id = t->job_id;
        e->u.job_close.failed = true;
        e->u.job_close.error = reason;
        e->u.job_close.at = r->ctx->now_ms;
    }
    if (t->call_id) { /* the called instance goes with its call activity */
        e = fl__fx_push(r->fx, FL_FX_CALL_CANCEL);
        e->u.call.child_id = t->call_id;
        e->u.call.token_id = t->id;
    }
}

void fl__run_kill_all(struct fl__run *r)
{
    struct fl_instance *inst = r->inst;
    fl__run_scopes_end(r);
    for (size_t i = 0; i < inst->n_tokens; i++) {
        fl__run_close_work(r, &inst->tokens[i], "cancelled");
        fl__run_token_del(r, inst->tokens[i].id);
    }
    inst->n_tokens = 0;
    for (size_t i = r->q_head; i < r->q_len; i++)
        if (r->q[i].stored)
            fl__run_token_del(r, r->q[i].id);
    r->q_head = r->q_len = 0;
    fl__run_timers_del_all(r);
    /* nothing may correlate with an instance that ended */
    for (size_t i = 0; i < inst->n_subs; i++) {
        struct fl_effect *e = fl__fx_push(r->fx, FL_FX_SUB_CLOSE);
        e->u.sub.id = inst->subs[i].id;
        e->u.sub.instance_id = inst->id;
        e->u.sub.token_id = inst->subs[i].token_id;
        e->u.sub.node = inst->subs[i].node;
        e->u.sub.trigger = inst->subs[i].trigger;
        free(inst->subs[i].name);
        free(inst->subs[i].correlation_key);
    }
    inst->n_subs = 0;
    r->stopped = true;
}

/* ---- variables ---- */

void fl__run_merge_vars(struct fl__run *r, const struct fl_value *vars, uint64_t token_id,
                        const char *node_id)
{
    struct fl_value *cur = r->inst->variables, *next = NULL;
    size_t n = fl_value_context_len(vars);
    struct fl_buf *b = NULL;
    /* Starting from no variables (start), the instance can share the given context. */
    bool share = n > 0 && fl_value_context_len(cur) == 0;

    for (size_t i = 0; i < n; i++) {
        size_t klen;
        const char *key = fl_value_context_key(vars, i, &klen);
        const struct fl_value *val = fl_value_context_val(vars, i);
        const struct fl_value *old = fl_value_context_get(cur, key, klen);
        const char *name;
        struct fl_effect *e;

        /* Unchanged values are neither copied nor reported. */
        if (old && fl_value_type(old) == fl_value_type(val) && fl_value_equal(old, val))
            continue;
        if (!next) {
            /* The context may be shared (clones, the caller's start variables): copy once
             * per command, and only when something changes. */
            next = share ? fl_value_ref(vars) : fl_value_context_copy(cur);
            b = fl__fx_scratch(r->fx);
            fl_buf_adds(b, "{\"variables\":{");
        } else {
            fl_buf_addc(b, ',');
        }
        if (!share)
            fl_value_context_set(next, key, klen, fl_value_ref(val));
        name = fl__fx_strndup(r->fx, key, klen);
        e = fl__fx_push(r->fx, FL_FX_VAR_SET);
        e->u.var.name = name;
        e->u.var.value = fl__fx_hold(r->fx, val);
        fl_json_cstring(b, name);
        fl_buf_addc(b, ':');
        fl_value_to_json(val, b);
    }
    if (!next)
        return;
    fl_buf_adds(b, "}}");
    fl__run_event(r, FL_EV_VARIABLES_CHANGED, token_id, 0, node_id, fl__fx_scratch_keep(r->fx));
    fl_value_unref(cur);
    r->inst->variables = next;
    r->vars_changed = true; /* conditional events look again */
}

/* ---- choosing the flows to leave by ---- */

/* The FEEL environment of a token: the variables it sees through its scopes (vars, a
 * reference the caller drops). */
static void feel_env(const struct fl__run *r, const struct fl__mover *mv, struct fl_feel_env *env,
                     struct fl_value **vars)
{
    *vars = fl__run_vars(r, mv->id, mv->scope);
    env->vars = *vars;
    env->now_ms = r->ctx->now_ms;
    env->tz_offset_min = r->ctx->tz_offset_min;
}

/* Evaluate the condition of flow f: 1 true, 0 false, -1 an incident was raised. */
static int condition_holds(struct fl__run *r, const struct fl__mover *mv, uint32_t f)
{
    const struct fl_flow *flow = &r->m->flows[f];
    struct fl_feel_env env;
    struct fl_feel_diag diag;
    struct fl_value *v, *vars;
    int res = 0;

    feel_env(r, mv, &env, &vars);
    diag.msg[0] = '\0';
    v = fl_feel_eval(flow->condition, &env, &diag);
    fl_value_unref(vars);
    if (diag.msg[0]) {
        fl__run_incident(r, mv, 0, "condition of flow '%s' (%s) cannot be evaluated: %s", flow->id,
                         fl_feel_source(flow->condition), diag.msg);
        res = -1;
    } else if (fl_value_type(v) == FL_VBOOL) {
        res = fl_value_is_true(v);
    } else if (fl_value_type(v) != FL_VNULL) {
        /* A number or string where a yes/no is expected is a modelling error, not "no". */
        fl__run_incident(r, mv, 0, "condition of flow '%s' (%s) gives a %s, not a boolean",
                         flow->id, fl_feel_source(flow->condition),
                         fl_value_type_name(fl_value_type(v)));
        res = -1;
    }
    fl_value_unref(v);
    return res;
}

static void sel_add(struct fl__run *r, size_t *n, uint32_t f)
{
    r->sel = grow_inline(r->sel, r->sel_inline, &r->sel_cap, *n + 1, sizeof(*r->sel));
    r->sel[(*n)++] = f;
}

/* Flows out of a node by their conditions: every non-default flow whose condition is
 * true or absent -- only the first such in document order when first_only (an exclusive
 * gateway) -- else the default flow. Returns the count chosen, or -1 after raising an
 * incident when nothing holds and there is no default. */
static int choose_by_condition(struct fl__run *r, const struct fl__mover *mv, bool first_only)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    size_t n = 0;

    for (uint32_t i = 0; i < node->n_outgoing; i++) {
        uint32_t f = node->outgoing[i];
        int ok = 1;
        if (f == node->default_flow)
            continue;
        if (r->m->flows[f].condition)
            ok = condition_holds(r, mv, f);
        if (ok < 0)
            return -1;
        if (ok) {
            sel_add(r, &n, f);
            if (first_only)
                return 1;
        }
    }
    if (n > 0 || node->n_outgoing == 0)
        return (int)n;
    if (node->default_flow == FL_NONE) {
        if (first_only)
            fl__run_incident(r, mv, 0,
                             "no condition of gateway '%s' is true and it has no default flow",
                             node->id);
        else
            fl__run_incident(
                r, mv, 0,
                "no condition of the flows out of '%s' is true and it has no default flow",
                node->id);
        return -1;
    }
    sel_add(r, &n, node->default_flow);
    return 1;
}

static int choose_parallel(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    size_t n = 0;
    for (uint32_t i = 0; i < node->n_outgoing; i++)
        sel_add(r, &n, node->outgoing[i]);
    return (int)n;
}

/* ---- moving ---- */

static void consume(struct fl__run *r, const struct fl__mover *mv)
{
    if (mv->stored)
        fl__run_token_del(r, mv->id);
}

static void leave(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    int n;

    if ((node->loop || node->n_outputs || r->inst->n_locals) && fl__activity_leave(r, mv))
        return; /* an inner instance, a loop going round, or an output mapping failed */
    switch (node->kind) {
    case FL_NODE_EXCLUSIVE_GW:
        n = choose_by_condition(r, mv, true);
        break;
    case FL_NODE_PARALLEL_GW:
        n = choose_parallel(r, mv);
        break;
    default:
        n = choose_by_condition(r, mv, false);
        break;
    }
    if (n < 0)
        return;
    fl__compensable_done(r, mv); /* a completed activity may be compensated later */
    fl__run_event(r, FL_EV_NODE_LEFT, mv->id, 0, node->id, NULL);
    if (n == 0) {
        consume(r, mv); /* a node without outgoing flows ends the token (implicit end) */
        return;
    }
    for (int i = 0; i < n; i++) {
        uint32_t f = r->sel[i];
        struct fl__mover next = {
            .id = i == 0 ? mv->id : fl__run_id(r, FL_ID_TOKEN),
            .node = r->m->flows[f].target,
            .flow = f,
            .stored = i == 0 ? mv->stored : false,
            .leaving = false,
            .scope = mv->scope, /* a flow never leaves its scope; a new activity starts
                                   its loop afresh (loop 0) */
        };
        fl__run_push(r, &next);
    }
}

/* Position of flow f among the node's incoming flows, or FL_NONE. */
static uint32_t incoming_slot(const struct fl_node *node, uint32_t f)
{
    for (uint32_t i = 0; i < node->n_incoming; i++)
        if (node->incoming[i] == f)
            return i;
    return FL_NONE;
}

/* A token arrives at a parallel join. It rests (JOINING) unless a token already waits on
 * every other incoming flow; then the oldest of each is consumed and this one goes on. */
static void join(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    struct fl_instance *inst = r->inst;
    size_t pick_inline[16], *pick = pick_inline; /* token index chosen per incoming slot */
    uint32_t me = incoming_slot(node, mv->flow), missing = node->n_incoming;
    struct fl_token t = fl__token_at(mv, FL_TOKEN_JOINING);

    t.flow = mv->flow;
    if (me == FL_NONE) {
        /* Arrived by no incoming flow (it started here): nothing to join with. */
        struct fl__mover out = *mv;
        out.leaving = true;
        fl__run_push(r, &out);
        return;
    }
    if (node->n_incoming > sizeof(pick_inline) / sizeof(pick_inline[0]))
        pick = fl_reallocarray(NULL, node->n_incoming, sizeof(*pick));
    for (uint32_t i = 0; i < node->n_incoming; i++)
        pick[i] = SIZE_MAX;
    pick[me] = SIZE_MAX - 1; /* filled by the arriving token */
    missing--;
    for (size_t i = 0; i < inst->n_tokens && missing; i++) {
        const struct fl_token *w = &inst->tokens[i];
        uint32_t slot;
        /* only tokens of the same scope join (each subprocess run joins its own) */
        if (w->node != mv->node || w->state != FL_TOKEN_JOINING || w->scope != mv->scope)
            continue;
        slot = incoming_slot(node, w->flow);
        if (slot != FL_NONE && pick[slot] == SIZE_MAX) {
            pick[slot] = i;
            missing--;
        }
    }
    if (missing) {
        fl__run_park(r, &t);
    } else {
        /* Consume the chosen tokens in one compaction pass: no quadratic removal. */
        size_t w = 0;
        for (uint32_t s = 0; s < node->n_incoming; s++)
            if (s != me)
                inst->tokens[pick[s]].state = UINT8_MAX; /* mark */
        for (size_t i = 0; i < inst->n_tokens; i++) {
            if (inst->tokens[i].state == UINT8_MAX) {
                fl__run_token_del(r, inst->tokens[i].id);
                continue;
            }
            inst->tokens[w++] = inst->tokens[i];
        }
        inst->n_tokens = w;
        struct fl__mover out = *mv;
        out.leaving = true;
        fl__run_push(r, &out);
    }
    if (pick != pick_inline)
        free(pick);
}

static void run_script(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    struct fl_feel_env env;
    struct fl_feel_diag diag;
    struct fl_value *v, *one, *vars;

    if (!node->script) {
        fl__run_incident(r, mv, 0, "script task '%s' has no script", node->id);
        return;
    }
    /* The script sees the token's locals (input mappings, a multi-instance element). */
    feel_env(r, mv, &env, &vars);
    diag.msg[0] = '\0';
    v = fl_feel_eval(node->script, &env, &diag);
    fl_value_unref(vars);
    if (diag.msg[0]) {
        fl__run_incident(r, mv, 0, "script of '%s' (%s) failed: %s", node->id,
                         fl_feel_source(node->script), diag.msg);
        fl_value_unref(v);
        return;
    }
    if (node->result_variable && node->result_variable[0]) {
        one = fl_value_context_new();
        fl_value_context_set(one, node->result_variable, strlen(node->result_variable), v);
        fl__run_completion_vars(r, one, mv->id, mv->scope, mv->node);
        fl_value_unref(one);
    } else {
        fl_value_unref(v);
    }
    struct fl__mover out = *mv;
    out.leaving = true;
    fl__run_push(r, &out);
}

static void terminate(struct fl__run *r, const struct fl__mover *mv)
{
    struct fl_instance *inst = r->inst;
    fl__run_event(r, FL_EV_NODE_LEFT, mv->id, 0, fl__node_id(r->m, mv->node), NULL);
    consume(r, mv);
    if (mv->scope) {
        /* Inside a subprocess it ends only that scope, which then completes normally
         * (fl__scopes_settle sends its token on). */
        fl__run_kill_scope(r, mv->scope);
        return;
    }
    fl__run_kill_all(r);
    inst->status = FL_INSTANCE_COMPLETED;
    inst->ended_at = r->ctx->now_ms;
    fl__run_event(r, FL_EV_INSTANCE_COMPLETED, 0, 0, NULL, "{\"terminated\":true}");
}

static const char *flow_detail(struct fl__run *r, uint32_t f)
{
    struct fl_buf *b;
    if (f == FL_NONE)
        return NULL;
    b = fl__fx_scratch(r->fx);
    fl_buf_adds(b, "{\"flow\":");
    fl_json_cstring(b, r->m->flows[f].id);
    fl_buf_addc(b, '}');
    return fl__fx_scratch_keep(r->fx);
}

/* The loop guard tripped: every token still moving rests with an incident. Queued tokens
 * always sit at valid nodes (flow targets, or tokens checked by the command). */
static void stop_loop(struct fl__run *r, const struct fl__mover *mv)
{
    fl__run_incident(r, mv, 0, "loop of more than %u steps without a wait state at '%s'",
                     r->max_steps, r->m->nodes[mv->node].id);
    while (r->q_head < r->q_len) {
        struct fl__mover rest = r->q[r->q_head++];
        fl__run_incident(r, &rest, 0,
                         "stopped at '%s': the command ran more than %u steps without a wait state",
                         r->m->nodes[rest.node].id, r->max_steps);
    }
    r->stopped = true;
}

/* A link throw event: the token goes on at the catch link event of the same name. */
static void link_jump(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    uint32_t to = node->event->link_target;
    struct fl__mover next = *mv;

    if (to >= r->m->n_nodes) {
        fl__run_incident(r, mv, 0, "link event '%s' has no catch link event named '%s' in its scope",
                         node->id, node->event->name ? node->event->name : "");
        return;
    }
    fl__run_event(r, FL_EV_NODE_LEFT, mv->id, 0, node->id, NULL);
    next.node = to;
    next.flow = FL_NONE;
    next.leaving = false;
    fl__run_push(r, &next);
}

static void enter(struct fl__run *r, const struct fl__mover *in)
{
    const struct fl_node *node = &r->m->nodes[in->node];
    struct fl__mover cur = *in, out;
    const struct fl__mover *mv = &cur;

    fl__run_event(r, FL_EV_NODE_ENTERED, mv->id, 0, node->id, flow_detail(r, mv->flow));
    if (++r->steps > r->max_steps) {
        stop_loop(r, mv);
        return;
    }
    /* A multi-instance body or a skipped loop; else the activity's inputs, then its work. */
    if (node->loop && fl__loop_enter(r, &cur))
        return;
    if (node->n_inputs && fl__mappings_in(r, mv) < 0)
        return;
    if (fl__message_enter(r, mv))
        return; /* messages and signals: engine_message.c */
    if (node->event && fl__enter_error_event(r, mv))
        return; /* error, escalation, compensation, cancel and conditional events */
    switch (node->kind) {
    case FL_NODE_USER_TASK:
        fl__enter_user_task(r, mv);
        return;
    case FL_NODE_SERVICE_TASK:
        fl__enter_service_task(r, mv);
        return;
    case FL_NODE_BUSINESS_RULE_TASK:
        if (node->job_type)
            fl__enter_service_task(r, mv);
        else
            fl__run_decision(r, mv);
        return;
    case FL_NODE_SEND_TASK:
        if (node->job_type) { /* done by a worker, as a service task */
            fl__enter_service_task(r, mv);
            return;
        }
        break;
    case FL_NODE_SCRIPT_TASK:
        run_script(r, mv);
        return;
    case FL_NODE_CALL_ACTIVITY:
        fl__enter_call(r, mv);
        return;
    case FL_NODE_TIMER_CATCH:
        fl__enter_timer_catch(r, mv);
        return;
    case FL_NODE_PARALLEL_GW:
        if (node->n_incoming > 1) {
            join(r, mv);
            return;
        }
        break;
    case FL_NODE_END_EVENT:
        fl__run_event(r, FL_EV_NODE_LEFT, mv->id, 0, node->id, NULL);
        consume(r, mv);
        return;
    case FL_NODE_TERMINATE_END:
        terminate(r, mv);
        return;
    case FL_NODE_SUB_PROCESS:
        fl__enter_sub_process(r, mv);
        return;
    case FL_NODE_INCLUSIVE_GW:
        if (node->n_incoming > 1) {
            fl__inclusive_arrive(r, mv);
            return;
        }
        break;
    case FL_NODE_THROW_EVENT:
        if (node->event && node->event->trigger == FL_TRIGGER_LINK) {
            link_jump(r, mv);
            return;
        }
        break; /* a none throw event passes through */
    default:
        break; /* start events, task, manual task, exclusive gateway: pass through */
    }
    out = *mv;
    out.leaving = true;
    leave(r, &out);
}

void fl__run_go(struct fl__run *r)
{
    struct fl_instance *inst = r->inst;

    for (;;) {
        while (!r->stopped && r->q_head < r->q_len) {
            struct fl__mover mv = r->q[r->q_head++];
            if (mv.node >= r->m->n_nodes)
                continue; /* cannot happen with a checked model; never index past it */
            if (mv.leaving)
                leave(r, &mv);
            else
                enter(r, &mv);
        }
        /* Variables changed: conditional events may hold now, and what they set off may
         * change variables again (bounded by the loop guard). Compensation handlers that
         * ended let the token waiting for them go on. */
        if (r->stopped || inst->status != FL_INSTANCE_ACTIVE)
            break;
        if (r->vars_changed) {
            r->vars_changed = false;
            fl__conditions_recheck(r);
        }
        fl__compensation_settle(r);
        if (r->q_head < r->q_len)
            continue;
        /* Only once nothing moves can a scope know it is empty, or an inclusive join that
         * no token can reach any more: each may send a token on, so go round again. */
        if (fl__scopes_settle(r) || fl__inclusive_settle(r))
            continue;
        break;
    }
    if (inst->status == FL_INSTANCE_ACTIVE && inst->n_tokens == 0) {
        fl__run_scopes_end(r);
        fl__scope_disarm(r, 0);
        inst->status = FL_INSTANCE_COMPLETED;
        inst->ended_at = r->ctx->now_ms;
        fl__run_event(r, FL_EV_INSTANCE_COMPLETED, 0, 0, NULL, NULL);
    }
}
