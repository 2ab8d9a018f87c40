/* Inclusive gateways that join: a token arriving there waits until no other token of the
 * same scope can still arrive -- none rests or moves at a node from which the join is
 * reachable without passing through it. Reachability follows sequence flows backwards,
 * from a boundary event to the activity it is attached to, and from a catch link event
 * to the throw events that jump to it. The model is shared and immutable, so each run
 * computes the set of a join it meets once and keeps it until the command ends. The
 * split needs nothing here: leaving takes every flow whose condition holds. */
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "flowd/alloc.h"

struct fl__reach {
    uint32_t join;
    uint8_t *from; /* from[n]: the join can be reached from node n without passing it */
};

void fl__inclusive_release(struct fl__run *r)
{
    for (size_t i = 0; i < r->n_reach; i++)
        free(r->reach[i].from);
    free(r->reach);
    r->reach = NULL;
    r->n_reach = r->cap_reach = 0;
}

static void push(uint32_t **stack, size_t *n, size_t *cap, uint32_t v)
{
    fl_grow(stack, cap, *n + 1, sizeof(**stack));
    (*stack)[(*n)++] = v;
}

static const uint8_t *reach_of(struct fl__run *r, uint32_t join)
{
    const struct fl_model *m = r->m;
    uint32_t *stack = NULL;
    size_t n = 0, cap = 0;
    uint8_t *from;

    for (size_t i = 0; i < r->n_reach; i++)
        if (r->reach[i].join == join)
            return r->reach[i].from;
    from = fl_calloc(m->n_nodes ? m->n_nodes : 1, 1);
    push(&stack, &n, &cap, join);
    while (n) {
        uint32_t v = stack[--n];
        const struct fl_node *node = &m->nodes[v];
        for (uint32_t i = 0; i < node->n_incoming; i++) {
            uint32_t src = m->flows[node->incoming[i]].source;
            if (src < m->n_nodes && src != join && !from[src]) {
                from[src] = 1;
                push(&stack, &n, &cap, src);
            }
        }
        /* a token resting at an activity may leave through its boundary events */
        if ((node->kind == FL_NODE_TIMER_BOUNDARY || node->kind == FL_NODE_BOUNDARY_EVENT) &&
            node->attached_to < m->n_nodes && node->attached_to != join &&
            !from[node->attached_to]) {
            from[node->attached_to] = 1;
            push(&stack, &n, &cap, node->attached_to);
        }
        if (node->kind == FL_NODE_CATCH_EVENT && node->event &&
            node->event->trigger == FL_TRIGGER_LINK) {
            for (uint32_t k = 0; k < m->n_nodes; k++) {
                const struct fl_node *t = &m->nodes[k];
                if (t->kind == FL_NODE_THROW_EVENT && t->event && t->event->link_target == v &&
                    k != join && !from[k]) {
                    from[k] = 1;
                    push(&stack, &n, &cap, k);
                }
            }
        }
    }
    free(stack);
    fl_grow(&r->reach, &r->cap_reach, r->n_reach + 1, sizeof(*r->reach));
    r->reach[r->n_reach].join = join;
    r->reach[r->n_reach].from = from;
    r->n_reach++;
    return from;
}

void fl__inclusive_arrive(struct fl__run *r, const struct fl__mover *mv)
{
    struct fl_token t = fl__token_at(mv, FL_TOKEN_JOINING);
    t.flow = mv->flow;
    fl__run_park(r, &t);
}

/* Can a token of `scope` other than those waiting at join still get there? */
static bool can_arrive(struct fl__run *r, uint32_t join, uint64_t scope)
{
    const uint8_t *from = reach_of(r, join);
    const struct fl_instance *inst = r->inst;

    for (size_t i = 0; i < inst->n_tokens; i++) {
        const struct fl_token *t = &inst->tokens[i];
        if (t->scope != scope || t->node >= r->m->n_nodes)
            continue;
        if (t->node == join && t->state == FL_TOKEN_JOINING)
            continue;
        if (from[t->node])
            return true;
    }
    for (size_t i = r->q_head; i < r->q_len; i++) {
        const struct fl__mover *q = &r->q[i];
        if (q->scope != scope || q->node >= r->m->n_nodes)
            continue;
        if ((q->node == join && !q->leaving) || from[q->node])
            return true;
    }
    return false;
}

bool fl__inclusive_settle(struct fl__run *r)
{
    struct fl_instance *inst = r->inst;

    for (size_t i = 0; i < inst->n_tokens; i++) {
        const struct fl_token *t = &inst->tokens[i];
        uint32_t join = t->node;
        uint64_t scope = t->scope;
        size_t w = 0;
        bool first = true;

        if (t->state != FL_TOKEN_JOINING || join >= r->m->n_nodes ||
            r->m->nodes[join].kind != FL_NODE_INCLUSIVE_GW)
            continue;
        /* t is the oldest waiting token of its (join, scope): earlier ones were checked */
        if (can_arrive(r, join, scope))
            continue;
        /* Fire: the oldest goes on, the others waiting there are consumed. */
        struct fl__mover out = fl__mover_of(t, true);
        for (size_t k = 0; k < inst->n_tokens; k++) {
            const struct fl_token *o = &inst->tokens[k];
            if (o->node == join && o->scope == scope && o->state == FL_TOKEN_JOINING) {
                if (!first)
                    fl__run_token_del(r, o->id);
                first = false;
                continue;
            }
            inst->tokens[w++] = *o;
        }
        inst->n_tokens = w;
        fl__run_push(r, &out);
        return true;
    }
    return false;
}
