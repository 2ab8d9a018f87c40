/* Compensation and the cancel end event. An activity with a compensate boundary event (its
 * handler: a for_compensation activity) is remembered in inst->comps when it completes; a
 * compensate throw or end event starts the handlers of the completed activities of its
 * scope (or only of the activity its activityRef names) in reverse order of completion,
 * and with waitForCompletion the throwing token waits until they have ended: the handlers
 * run as tokens inside it (their scope is its id), so "ended" is "nothing inside it any
 * more". A cancel end event cancels its transaction, compensates what completed inside it
 * the same way, then leaves by the transaction's cancel boundary event. The records are
 * kept in the store (COMP_PUT / COMP_DEL), so compensation survives a restart. */
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "flowd/alloc.h"

/* The handler of activity node a, or FL_NONE. Hand-built models may leave compensation
 * 0, so the handler must also say it is one. */
static uint32_t handler_of(const struct fl_model *m, uint32_t a)
{
    uint32_t h = a < m->n_nodes ? m->nodes[a].compensation : FL_NONE;
    return h < m->n_nodes && m->nodes[h].for_compensation ? h : FL_NONE;
}

void fl__compensable_done(struct fl__run *r, const struct fl__mover *mv)
{
    struct fl_instance *inst = r->inst;
    struct fl_compensable c;
    if (handler_of(r->m, mv->node) == FL_NONE)
        return;
    /* Live records are in seq order, so the next one is one past the last. */
    c = (struct fl_compensable){.seq = inst->n_comps ? inst->comps[inst->n_comps - 1].seq + 1 : 1,
                                .token_id = mv->id,
                                .node = mv->node,
                                .scope = mv->scope};
    fl_grow(&inst->comps, &inst->cap_comps, inst->n_comps + 1, sizeof(*inst->comps));
    inst->comps[inst->n_comps++] = c;
    fl__fx_push(r->fx, FL_FX_COMP_PUT)->u.comp = c;
}

/* Does the record c belong to scope s (0 = process)? Its own scope, one inside s, or a
 * scope that has ended (what completed in a finished subprocess is compensated with the
 * scope that held it). */
static bool record_in(const struct fl_instance *inst, const struct fl_compensable *c, uint64_t s)
{
    if (c->scope == s)
        return true;
    if (c->scope && fl__inst_find_token(inst, c->scope) == SIZE_MAX)
        return true;
    return fl__scope_within(inst, c->scope, s);
}

/* Start the handlers of the records of scope s (only those of activity `only` unless
 * FL_NONE), latest first, as tokens inside `holder`; each record is used up. Returns how
 * many started. */
static size_t start_handlers(struct fl__run *r, uint64_t s, uint32_t only, uint64_t holder,
                             uint64_t by_token)
{
    struct fl_instance *inst = r->inst;
    size_t started = 0, w;

    for (size_t i = inst->n_comps; i-- > 0;) {
        struct fl_compensable c = inst->comps[i];
        uint32_t h;
        struct fl_buf *b;
        if ((only != FL_NONE && c.node != only) || !record_in(inst, &c, s))
            continue;
        if ((h = handler_of(r->m, c.node)) == FL_NONE)
            continue;
        b = fl__fx_scratch(r->fx);
        fl_buf_adds(b, "{\"activity\":");
        fl_json_cstring(b, r->m->nodes[c.node].id);
        fl_buf_addc(b, '}');
        fl__run_event(r, FL_EV_COMPENSATED, by_token, 0, r->m->nodes[h].id,
                      fl__fx_scratch_keep(r->fx));
        struct fl__mover mv = {.id = fl__run_id(r, FL_ID_TOKEN),
                               .node = h,
                               .flow = FL_NONE,
                               .scope = holder};
        fl__run_push(r, &mv);
        fl__fx_push(r->fx, FL_FX_COMP_DEL)->u.comp = c;
        inst->comps[i].node = FL_NONE; /* used up: compacted below */
        started++;
    }
    w = 0;
    for (size_t i = 0; i < inst->n_comps; i++)
        if (inst->comps[i].node != FL_NONE)
            inst->comps[w++] = inst->comps[i];
    inst->n_comps = w;
    return started;
}

static void rest_waiting(struct fl__run *r, uint64_t id, uint32_t node, uint64_t scope)
{
    struct fl_token t = {
        .id = id, .node = node, .flow = FL_NONE, .state = FL_TOKEN_WAITING, .scope = scope};
    fl__run_park(r, &t);
}

void fl__enter_compensate(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_event_def *ev = r->m->nodes[mv->node].event;
    bool wait = ev->wait_for_completion;
    uint64_t holder = wait ? mv->id : mv->scope;
    struct fl__mover out = *mv;

    if (start_handlers(r, mv->scope, ev->activity_ref, holder, mv->id) > 0 && wait) {
        /* handlers are queued after this: the token rests first, they run inside it */
        rest_waiting(r, mv->id, mv->node, mv->scope);
        return;
    }
    out.leaving = true; /* nothing to wait for: a throw goes on, an end event ends */
    fl__run_push(r, &out);
}

/* The transaction's cancel boundary event, or FL_NONE. */
static uint32_t cancel_boundary(const struct fl_model *m, uint32_t tx)
{
    const struct fl_node *t = &m->nodes[tx];
    for (uint32_t i = 0; i < t->n_boundaries; i++) {
        const struct fl_node *b = &m->nodes[t->boundaries[i]];
        if (b->kind == FL_NODE_BOUNDARY_EVENT && b->event &&
            b->event->trigger == FL_TRIGGER_CANCEL)
            return t->boundaries[i];
    }
    return FL_NONE;
}

void fl__enter_cancel_end(struct fl__run *r, const struct fl__mover *mv)
{
    struct fl_instance *inst = r->inst;
    size_t k = mv->scope ? fl__inst_find_token(inst, mv->scope) : SIZE_MAX;
    const struct fl_node *n = &r->m->nodes[mv->node];
    struct fl_token tx;
    uint32_t cb;

    if (k == SIZE_MAX || r->m->nodes[inst->tokens[k].node].kind != FL_NODE_SUB_PROCESS ||
        !r->m->nodes[inst->tokens[k].node].transaction) {
        fl__run_incident(r, mv, 0, "cancel end event '%s' is not inside a transaction", n->id);
        return;
    }
    tx = inst->tokens[k];
    if ((cb = cancel_boundary(r->m, tx.node)) == FL_NONE) {
        fl__run_incident(r, mv, 0, "transaction '%s' has no cancel boundary event",
                         r->m->nodes[tx.node].id);
        return;
    }
    /* The cancel end event ends its token; the transaction is cancelled around it. */
    fl__run_event(r, FL_EV_NODE_LEFT, mv->id, 0, n->id, NULL);
    if (mv->stored) {
        struct fl_effect *e = fl__fx_push(r->fx, FL_FX_TOKEN_DEL);
        e->u.token.id = mv->id;
        e->u.token.node = FL_NONE;
        e->u.token.flow = FL_NONE;
    }
    fl__run_drop_locals(r, mv->id);
    /* Everything inside is cancelled; the token keeps its id (so records of the
     * transaction's own scope still match it) and nested scopes that are gone count as
     * ended ones (record_in), so what completed inside is found afterwards too. */
    fl__activity_cancel(r, k, "cancelled by a cancel end event", true);
    fl__run_event(r, FL_EV_NODE_LEFT, tx.id, 0, r->m->nodes[tx.node].id, NULL);
    fl__run_event(r, FL_EV_NODE_ENTERED, tx.id, 0, r->m->nodes[cb].id, NULL);
    /* The transaction's token waits at the cancel boundary until the handlers end. */
    rest_waiting(r, tx.id, cb, tx.scope);
    start_handlers(r, tx.id, FL_NONE, tx.id, tx.id);
}

/* Is token t one that waits for compensation handlers? */
static bool waits_for_handlers(const struct fl_model *m, const struct fl_token *t)
{
    const struct fl_node *n;
    if (t->state != FL_TOKEN_WAITING || t->node >= m->n_nodes)
        return false;
    n = &m->nodes[t->node];
    if (!n->event)
        return false;
    if (n->event->trigger == FL_TRIGGER_COMPENSATE)
        return n->kind == FL_NODE_THROW_EVENT || n->kind == FL_NODE_EVENT_END;
    return n->event->trigger == FL_TRIGGER_CANCEL && n->kind == FL_NODE_BOUNDARY_EVENT;
}

void fl__compensation_settle(struct fl__run *r)
{
    struct fl_instance *inst = r->inst;
    for (size_t i = 0; i < inst->n_tokens; i++) {
        const struct fl_token *t = &inst->tokens[i];
        bool busy = false;
        if (!waits_for_handlers(r->m, t))
            continue;
        for (size_t j = 0; j < inst->n_tokens && !busy; j++)
            busy = inst->tokens[j].scope == t->id;
        for (size_t j = r->q_head; j < r->q_len && !busy; j++)
            busy = r->q[j].scope == t->id;
        if (busy)
            continue;
        struct fl__mover mv = fl__mover_of(t, true);
        fl__inst_remove_token(inst, i--);
        fl__run_push(r, &mv);
    }
}
