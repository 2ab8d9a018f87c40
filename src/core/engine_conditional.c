/* Conditional events and starting event subprocesses. A token at an intermediate
 * conditional catch event waits until its condition holds; conditional boundary events of
 * resting activities and conditional start events of event subprocesses fire when theirs
 * does. Conditions are evaluated when the token arrives (or the activity starts resting)
 * and again after every change of the instance's variables, at the end of the run that
 * made it. A condition that cannot be computed yet (a variable not set) counts as false:
 * waiting for a variable to appear is what such an event is for. */
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "flowd/alloc.h"
#include "flowd/feel.h"

int fl__condition_true(struct fl__run *r, const struct fl_node *n, uint64_t token_id,
                       uint64_t scope)
{
    struct fl_value *vars, *v;
    struct fl_feel_env env;
    struct fl_feel_diag diag;
    int res;

    if (!n->event || !n->event->condition)
        return 0;
    vars = fl__run_vars(r, token_id, scope);
    env.vars = vars;
    env.now_ms = r->ctx->now_ms;
    env.tz_offset_min = r->ctx->tz_offset_min;
    diag.msg[0] = '\0';
    v = fl_feel_eval(n->event->condition, &env, &diag);
    res = !diag.msg[0] && fl_value_type(v) == FL_VBOOL && fl_value_is_true(v);
    fl_value_unref(v);
    fl_value_unref(vars);
    return res;
}

void fl__enter_conditional_catch(struct fl__run *r, const struct fl__mover *mv)
{
    if (fl__condition_true(r, &r->m->nodes[mv->node], mv->id, mv->scope)) {
        struct fl__mover out = *mv;
        out.leaving = true;
        fl__run_push(r, &out);
        return;
    }
    struct fl_token t = fl__token_at(mv, FL_TOKEN_WAITING);
    fl__run_park(r, &t);
}

uint64_t fl__event_sub_start(struct fl__run *r, uint32_t e, uint64_t s, bool interrupt,
                             const struct fl_value *vars)
{
    /* the start event says whether it interrupts (error starts always do) */
    (void)interrupt;
    return fl__scope_start_event_sub(r, e, s, vars);
}

/* Has an interrupting event subprocess taken over scope s? Then nothing else of s may
 * start. */
static bool scope_taken_over(const struct fl__run *r, uint64_t s)
{
    const struct fl_instance *inst = r->inst;
    for (size_t i = 0; i < inst->n_tokens; i++) {
        const struct fl_token *t = &inst->tokens[i];
        const struct fl_node *esp;
        if (t->scope != s || t->state != FL_TOKEN_SCOPE || t->node >= r->m->n_nodes)
            continue;
        esp = &r->m->nodes[t->node];
        if (esp->kind != FL_NODE_EVENT_SUB_PROCESS)
            continue;
        for (uint32_t c = 0; c < esp->n_children; c++) {
            const struct fl_node *st = &r->m->nodes[esp->children[c]];
            if ((st->kind == FL_NODE_EVENT_START || st->kind == FL_NODE_TIMER_START) &&
                st->interrupting)
                return true;
        }
    }
    return false;
}

/* Conditional event subprocess starts of scope s (0 = process); false once an
 * interrupting one has cancelled the scope's content. */
static bool check_starts(struct fl__run *r, const uint32_t *starts, size_t n, uint64_t s)
{
    if (n && scope_taken_over(r, s))
        return true;
    for (size_t i = 0; i < n; i++) {
        const struct fl_node *e = &r->m->nodes[starts[i]];
        if (e->kind != FL_NODE_EVENT_START || !e->event ||
            e->event->trigger != FL_TRIGGER_CONDITIONAL)
            continue;
        if (!fl__condition_true(r, e, s, s))
            continue;
        fl__event_sub_start(r, starts[i], s, e->interrupting, NULL);
        if (e->interrupting)
            return false;
    }
    return true;
}

/* The token with id `id` (if still resting): its conditional catch or boundaries. */
static void check_token(struct fl__run *r, uint64_t id)
{
    size_t k = fl__inst_find_token(r->inst, id);
    const struct fl_token *t;
    const struct fl_node *n;

    if (k == SIZE_MAX)
        return;
    t = &r->inst->tokens[k];
    if (t->node >= r->m->n_nodes)
        return;
    n = &r->m->nodes[t->node];
    if (t->state == FL_TOKEN_WAITING && n->kind == FL_NODE_CATCH_EVENT && n->event &&
        n->event->trigger == FL_TRIGGER_CONDITIONAL) {
        if (fl__condition_true(r, n, t->id, t->scope)) {
            struct fl__mover mv = fl__mover_of(t, true);
            fl__inst_remove_token(r->inst, k);
            fl__run_push(r, &mv);
        }
        return;
    }
    if (t->state != FL_TOKEN_WAITING && t->state != FL_TOKEN_SCOPE)
        return;
    for (uint32_t i = 0; i < n->n_boundaries; i++) {
        const struct fl_node *b = &r->m->nodes[n->boundaries[i]];
        if (b->kind != FL_NODE_BOUNDARY_EVENT || !b->event ||
            b->event->trigger != FL_TRIGGER_CONDITIONAL)
            continue;
        if ((k = fl__inst_find_token(r->inst, id)) == SIZE_MAX)
            return;
        if (!fl__condition_true(r, b, id, r->inst->tokens[k].scope))
            continue;
        fl__boundary_trigger(r, k, n->boundaries[i], false);
        if (b->cancel_activity)
            return;
    }
    if ((k = fl__inst_find_token(r->inst, id)) == SIZE_MAX)
        return;
    t = &r->inst->tokens[k];
    if (t->state == FL_TOKEN_SCOPE && !t->mi_body && n->n_event_starts)
        check_starts(r, n->event_starts, n->n_event_starts, t->id);
}

void fl__conditions_recheck(struct fl__run *r)
{
    struct fl_instance *inst = r->inst;
    uint64_t ids_inline[16], *ids = ids_inline;
    size_t n = inst->n_tokens;

    if (!check_starts(r, r->m->event_starts, r->m->n_event_starts, 0))
        return;
    /* Firing changes the token list: walk a snapshot of the ids that rest now. */
    n = inst->n_tokens;
    if (n > sizeof(ids_inline) / sizeof(ids_inline[0]))
        ids = fl_reallocarray(NULL, n, sizeof(*ids));
    for (size_t i = 0; i < n; i++)
        ids[i] = inst->tokens[i].id;
    for (size_t i = 0; i < n && !r->stopped; i++)
        check_token(r, ids[i]);
    if (ids != ids_inline)
        free(ids);
}
