/* Scopes in the engine: embedded subprocesses (and transactions), event subprocesses and
 * the killing of a scope's contents. A token entering a subprocess rests there in state
 * SCOPE and the subprocess's contents run as tokens whose scope is its id; when the last
 * of them is gone the scope token leaves by its outgoing flows. While a scope runs, the
 * start events of the event subprocesses inside it are armed (timers and subscriptions
 * owned by the scope token, 0 at process level), and starting one creates another SCOPE
 * token -- after killing everything else in the scope when it interrupts. */
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "flowd/alloc.h"
#include "flowd/feel.h"

uint32_t fl__scope_node(const struct fl__run *r, uint64_t scope)
{
    size_t i;
    if (!scope || (i = fl__inst_find_token(r->inst, scope)) == SIZE_MAX)
        return FL_NONE;
    return r->inst->tokens[i].node;
}

/* ---- subscriptions ---- */

/* A writable arena copy of s (the effect's fields are char *); NULL gives NULL. */
static char *fx_dup(struct fl_effects *fx, const char *s)
{
    return (char *)(uintptr_t)fl__fx_strdup(fx, s);
}

void fl__run_sub_open(struct fl__run *r, const struct fl_subscription *s)
{
    struct fl_instance *inst = r->inst;
    struct fl_subscription *d;
    struct fl_effect *e;

    fl_grow(&inst->subs, &inst->cap_subs, inst->n_subs + 1, sizeof(*inst->subs));
    d = &inst->subs[inst->n_subs++];
    *d = *s;
    d->instance_id = inst->id;
    d->name = fl_strdup(s->name);
    d->correlation_key = fl_strdup(s->correlation_key);
    e = fl__fx_push(r->fx, FL_FX_SUB_OPEN);
    e->u.sub = *d;
    e->u.sub.name = fx_dup(r->fx, d->name);
    e->u.sub.correlation_key = fx_dup(r->fx, d->correlation_key);
}

void fl__run_sub_close(struct fl__run *r, size_t i)
{
    struct fl_instance *inst = r->inst;
    struct fl_effect *e = fl__fx_push(r->fx, FL_FX_SUB_CLOSE);
    e->u.sub = inst->subs[i];
    e->u.sub.name = fx_dup(r->fx, inst->subs[i].name);
    e->u.sub.correlation_key = fx_dup(r->fx, inst->subs[i].correlation_key);
    free(inst->subs[i].name);
    free(inst->subs[i].correlation_key);
    memmove(&inst->subs[i], &inst->subs[i + 1], (inst->n_subs - i - 1) * sizeof(*inst->subs));
    inst->n_subs--;
}

void fl__run_subs_close(struct fl__run *r, uint64_t token_id)
{
    for (size_t i = r->inst->n_subs; i-- > 0;)
        if (r->inst->subs[i].token_id == token_id)
            fl__run_sub_close(r, i);
}

void fl__run_scopes_end(struct fl__run *r)
{
    while (r->inst->n_subs)
        fl__run_sub_close(r, r->inst->n_subs - 1);
    while (r->inst->n_locals)
        fl__run_drop_locals(r, r->inst->locals[r->inst->n_locals - 1].scope);
}

/* ---- releasing and killing ---- */

void fl__run_token_release(struct fl__run *r, const struct fl_token *t, const char *reason)
{
    fl__run_close_work(r, t, reason);
    fl__run_drop_timers(r, t->id);
    fl__run_subs_close(r, t->id);
    fl__run_drop_locals(r, t->id);
    /* A call activity's called instance goes with it: fl__run_close_work emits
     * FL_FX_CALL_CANCEL for t->call_id and the service cancels that instance. */
}

static bool has_id(const uint64_t *ids, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

void fl__run_kill_scope(struct fl__run *r, uint64_t scope)
{
    struct fl_instance *inst = r->inst;
    uint64_t *ids = fl_malloc(sizeof(*ids));
    size_t n_ids = 1, cap_ids = 1, w;
    bool *dead = inst->n_tokens ? fl_calloc(inst->n_tokens, sizeof(*dead)) : NULL;
    bool more = true;

    /* The scopes inside scope, to any depth: a fixpoint, because a token list is in the
     * order tokens came to rest, not in nesting order. */
    ids[0] = scope;
    while (more) {
        more = false;
        for (size_t i = 0; i < inst->n_tokens; i++) {
            const struct fl_token *t = &inst->tokens[i];
            if (dead[i] || !has_id(ids, n_ids, t->scope))
                continue;
            dead[i] = true;
            more = true;
            /* Not only SCOPE tokens hold others: compensation handlers run inside the
             * token of the compensate event (or cancel boundary) that waits for them. */
            fl_grow(&ids, &cap_ids, n_ids + 1, sizeof(*ids));
            ids[n_ids++] = t->id;
        }
    }
    for (size_t i = 0; i < inst->n_tokens; i++) {
        if (!dead[i])
            continue;
        fl__run_token_release(r, &inst->tokens[i], "cancelled");
        fl__run_token_del(r, inst->tokens[i].id);
    }
    w = 0;
    for (size_t i = 0; i < inst->n_tokens; i++)
        if (!dead[i])
            inst->tokens[w++] = inst->tokens[i];
    inst->n_tokens = w;
    /* Tokens on the move inside the scope stop where they are. */
    w = r->q_head;
    for (size_t i = r->q_head; i < r->q_len; i++) {
        if (has_id(ids, n_ids, r->q[i].scope)) {
            if (r->q[i].stored)
                fl__run_token_del(r, r->q[i].id);
            fl__run_drop_locals(r, r->q[i].id);
            continue;
        }
        r->q[w++] = r->q[i];
    }
    r->q_len = w;
    free(dead);
    free(ids);
}

/* ---- subprocesses ---- */

/* Children of a subprocess that start without a start event: activities and gateways
 * with no incoming flow (BPMN's implicit start). Boundary events, event subprocesses,
 * compensation handlers, start and link catch events never start this way. */
static bool implicit_start(const struct fl_node *n)
{
    if (n->n_incoming || n->for_compensation)
        return false;
    switch (n->kind) {
    case FL_NODE_START_EVENT:
    case FL_NODE_TIMER_START:
    case FL_NODE_EVENT_START:
    case FL_NODE_TIMER_BOUNDARY:
    case FL_NODE_BOUNDARY_EVENT:
    case FL_NODE_EVENT_SUB_PROCESS:
    case FL_NODE_CATCH_EVENT:
        return false;
    default:
        return true;
    }
}

void fl__enter_sub_process(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    struct fl_token tok;
    int64_t *bdue;
    uint32_t *brepeat;

    if (fl__boundary_dues(r, mv, &bdue, &brepeat) < 0)
        return;
    tok = fl__token_at(mv, FL_TOKEN_SCOPE);
    fl__run_park(r, &tok);
    if (bdue)
        fl__arm_boundaries(r, mv, bdue, brepeat);
    fl__scope_arm(r, mv->id, mv->node);
    if (node->sub_start < r->m->n_nodes) {
        struct fl__mover in = {.id = fl__run_id(r, FL_ID_TOKEN),
                               .node = node->sub_start,
                               .flow = FL_NONE,
                               .scope = mv->id};
        fl__run_push(r, &in);
        return;
    }
    /* No none start event: every child without incoming flow starts. None at all (an
     * empty subprocess) completes at once through fl__scopes_settle. */
    for (uint32_t i = 0; i < node->n_children; i++) {
        uint32_t c = node->children[i];
        if (c >= r->m->n_nodes || !implicit_start(&r->m->nodes[c]))
            continue;
        struct fl__mover in = {
            .id = fl__run_id(r, FL_ID_TOKEN), .node = c, .flow = FL_NONE, .scope = mv->id};
        fl__run_push(r, &in);
    }
}

/* Is any token, resting or moving, inside scope s (directly)? */
static bool scope_busy(const struct fl__run *r, uint64_t s)
{
    for (size_t i = 0; i < r->inst->n_tokens; i++)
        if (r->inst->tokens[i].scope == s)
            return true;
    for (size_t i = r->q_head; i < r->q_len; i++)
        if (r->q[i].scope == s)
            return true;
    return false;
}

/* Scope tokens this file completes: subprocesses and event subprocesses. Multi-instance
 * bodies and call activities wait for other things (engine calls code). */
static bool completes_here(const struct fl__run *r, const struct fl_token *t)
{
    enum fl_node_kind k;
    if (t->state != FL_TOKEN_SCOPE || t->mi_body || t->call_id || t->node >= r->m->n_nodes)
        return false;
    k = r->m->nodes[t->node].kind;
    return k == FL_NODE_SUB_PROCESS || k == FL_NODE_EVENT_SUB_PROCESS;
}

bool fl__scopes_settle(struct fl__run *r)
{
    struct fl_instance *inst = r->inst;
    bool moved = false;

    for (size_t i = 0; i < inst->n_tokens;) {
        struct fl_token t = inst->tokens[i];
        if (!completes_here(r, &t) || scope_busy(r, t.id)) {
            i++;
            continue;
        }
        /* Its contents are done: its triggers, boundaries and locals go, and the token
         * leaves the subprocess by its outgoing flows (an event subprocess has none). */
        fl__scope_disarm(r, t.id);
        /* Not fl__run_token_release: its locals stay until it leaves, where its output
         * mappings (and a multi-instance output element) still see them; leaving drops
         * them (fl__activity_leave). */
        fl__run_close_work(r, &t, "completed");
        fl__run_drop_timers(r, t.id);
        fl__run_subs_close(r, t.id);
        fl__inst_remove_token(inst, i);
        struct fl__mover out = fl__mover_of(&t, true);
        fl__run_push(r, &out);
        moved = true;
    }
    return moved;
}

/* ---- event subprocesses ---- */

/* The event subprocess start events directly inside scope node sn (FL_NONE: process). */
static const uint32_t *scope_starts(const struct fl_model *m, uint32_t sn, size_t *n)
{
    if (sn == FL_NONE) {
        *n = m->n_event_starts;
        return m->event_starts;
    }
    if (sn >= m->n_nodes) {
        *n = 0;
        return NULL;
    }
    *n = m->nodes[sn].n_event_starts;
    return m->nodes[sn].event_starts;
}

/* Text of a message or signal name or correlation key: "=expr" evaluated over vars (a
 * string as it is, other values as FEEL text), else the text itself. NULL when it cannot
 * be evaluated. An arena string. */
static const char *eval_name(struct fl__run *r, const char *text, const struct fl_value *vars)
{
    int is_expr;
    const char *src;
    struct fl_feel_expr *expr = NULL;
    struct fl_feel_env env = {vars, r->ctx->now_ms, r->ctx->tz_offset_min};
    struct fl_feel_diag diag;
    struct fl_error err;
    struct fl_value *v;
    const char *out = NULL;

    if (!text)
        return NULL;
    src = fl_feel_strip(text, &is_expr);
    if (!is_expr)
        return text;
    fl_error_clear(&err);
    if (fl_feel_compile(src, strlen(src), &expr, &err) < 0)
        return NULL;
    diag.msg[0] = '\0';
    v = fl_feel_eval(expr, &env, &diag);
    fl_feel_free(expr);
    if (!diag.msg[0] && fl_value_type(v) != FL_VNULL) {
        if (fl_value_type(v) == FL_VSTRING) {
            size_t len;
            const char *s = fl_value_str(v, &len);
            out = fl__fx_strndup(r->fx, s, len);
        } else {
            struct fl_buf *b = fl__fx_scratch(r->fx);
            fl_value_to_text(v, b);
            out = fl__fx_scratch_keep(r->fx);
        }
    }
    fl_value_unref(v);
    return out;
}

static void arm_timer_start(struct fl__run *r, uint64_t scope, uint32_t start,
                            const struct fl_value *vars, const struct fl_timer *last)
{
    const struct fl_node *node = &r->m->nodes[start];
    char why[400];
    int64_t due = 0;
    uint32_t repeat = 0;
    /* NEEDSWORK: a definition that cannot be evaluated arms nothing; there is no token of
     * the event subprocess yet to hold an incident. */
    if (fl__timer_due(node, vars, r->ctx->now_ms, r->ctx->tz_offset_min, last, &due, &repeat, why,
                      sizeof(why)) != 0)
        return;
    struct fl_timer t = {.id = fl__run_id(r, FL_ID_TIMER),
                         .instance_id = r->inst->id,
                         .token_id = scope,
                         .node = start,
                         .kind = FL_TIMER_EVENT,
                         .repeat = repeat,
                         .due_at = due};
    fl__run_timer_set(r, &t);
}

void fl__scope_arm(struct fl__run *r, uint64_t scope, uint32_t scope_node)
{
    size_t n;
    const uint32_t *starts = scope_starts(r->m, scope_node, &n);
    struct fl_value *vars = NULL;

    for (size_t i = 0; i < n; i++) {
        const struct fl_node *node;
        if (starts[i] >= r->m->n_nodes)
            continue;
        node = &r->m->nodes[starts[i]];
        if (!vars) {
            size_t k = scope ? fl__inst_find_token(r->inst, scope) : SIZE_MAX;
            vars = fl__run_vars(r, scope, k == SIZE_MAX ? 0 : r->inst->tokens[k].scope);
        }
        if (node->kind == FL_NODE_TIMER_START) {
            arm_timer_start(r, scope, starts[i], vars, NULL);
        } else if (node->kind == FL_NODE_EVENT_START && node->event &&
                   (node->event->trigger == FL_TRIGGER_MESSAGE ||
                    node->event->trigger == FL_TRIGGER_SIGNAL)) {
            struct fl_subscription s = {
                .id = fl__run_id(r, FL_ID_SUBSCRIPTION),
                .token_id = scope,
                .node = starts[i],
                .trigger = (uint8_t)node->event->trigger,
                .interrupting = node->interrupting,
                .name = fx_dup(r->fx, eval_name(r, node->event->name, vars)),
                .correlation_key = node->event->trigger == FL_TRIGGER_MESSAGE
                                       ? fx_dup(r->fx, eval_name(r, node->event->correlation_key,
                                                                 vars))
                                       : NULL,
            };
            /* NEEDSWORK: a name that cannot be evaluated subscribes to nothing. */
            if (s.name)
                fl__run_sub_open(r, &s);
        }
        /* error and escalation starts are found when thrown (fl__scope_find_catch) */
    }
    fl_value_unref(vars);
}

bool fl__is_event_sub_start(const struct fl_model *m, uint32_t n)
{
    uint32_t sp;
    if (n >= m->n_nodes)
        return false;
    sp = m->nodes[n].scope;
    return (m->nodes[n].kind == FL_NODE_TIMER_START || m->nodes[n].kind == FL_NODE_EVENT_START) &&
           sp < m->n_nodes && m->nodes[sp].kind == FL_NODE_EVENT_SUB_PROCESS;
}

void fl__scope_disarm(struct fl__run *r, uint64_t scope)
{
    struct fl_instance *inst = r->inst;
    for (size_t i = inst->n_timers; i-- > 0;)
        if (inst->timers[i].kind == FL_TIMER_EVENT && inst->timers[i].token_id == scope &&
            fl__is_event_sub_start(r->m, inst->timers[i].node))
            fl__run_timer_del(r, i);
    for (size_t i = inst->n_subs; i-- > 0;)
        if (inst->subs[i].token_id == scope && fl__is_event_sub_start(r->m, inst->subs[i].node))
            fl__run_sub_close(r, i);
}

uint32_t fl__scope_find_catch(const struct fl__run *r, uint64_t scope, enum fl_trigger trigger,
                              const char *code)
{
    size_t n;
    const uint32_t *starts = scope_starts(r->m, fl__scope_node(r, scope), &n);
    uint32_t any = FL_NONE;

    if (scope && fl__scope_node(r, scope) == FL_NONE)
        return FL_NONE; /* not a resting scope token: nothing is armed */
    for (size_t i = 0; i < n; i++) {
        const struct fl_node *node;
        if (starts[i] >= r->m->n_nodes)
            continue;
        node = &r->m->nodes[starts[i]];
        if (node->kind != FL_NODE_EVENT_START || !node->event || node->event->trigger != trigger)
            continue;
        if (!node->event->name) {
            if (any == FL_NONE)
                any = starts[i];
        } else if (code && strcmp(node->event->name, code) == 0) {
            return starts[i];
        }
    }
    return any;
}

uint64_t fl__scope_start_event_sub(struct fl__run *r, uint32_t start, uint64_t scope,
                                   const struct fl_value *locals)
{
    const struct fl_node *sn = &r->m->nodes[start];
    uint32_t esp = sn->scope;
    struct fl_token tok = {.id = fl__run_id(r, FL_ID_TOKEN),
                           .node = esp,
                           .flow = FL_NONE,
                           .state = FL_TOKEN_SCOPE,
                           .scope = scope};

    if (sn->interrupting) {
        /* It replaces the scope's contents: nothing else of the scope may go on or fire. */
        fl__scope_disarm(r, scope);
        fl__run_kill_scope(r, scope);
    }
    fl__run_event(r, FL_EV_NODE_ENTERED, tok.id, 0, fl__node_id(r->m, esp), NULL);
    fl__run_park(r, &tok);
    fl__scope_arm(r, tok.id, esp);
    if (locals && fl_value_context_len(locals))
        fl__run_set_locals(r, tok.id, locals, tok.id, fl__node_id(r->m, esp));
    struct fl__mover in = {
        .id = fl__run_id(r, FL_ID_TOKEN), .node = start, .flow = FL_NONE, .scope = tok.id};
    fl__run_push(r, &in);
    return tok.id;
}

void fl__fire_event_sub_timer(struct fl__run *r, const struct fl_timer *t)
{
    const struct fl_node *node = &r->m->nodes[t->node];
    size_t k = SIZE_MAX;

    if (!fl__is_event_sub_start(r->m, t->node))
        return;
    /* The scope must still run (a stale timer of an ended scope does nothing). */
    if (t->token_id && ((k = fl__inst_find_token(r->inst, t->token_id)) == SIZE_MAX ||
                        r->inst->tokens[k].state != FL_TOKEN_SCOPE))
        return;
    if (!node->interrupting && node->timer && node->timer->kind == FL_TIMERDEF_CYCLE) {
        uint64_t outer = k == SIZE_MAX ? 0 : r->inst->tokens[k].scope;
        struct fl_value *vars = fl__run_vars(r, t->token_id, outer);
        arm_timer_start(r, t->token_id, t->node, vars, t);
        fl_value_unref(vars);
    }
    fl__scope_start_event_sub(r, t->node, t->token_id, NULL);
}
