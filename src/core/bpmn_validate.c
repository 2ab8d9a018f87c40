/* Structural checks of a freshly built model, with the element, line and column of the
 * first broken rule, scope by scope: start events where BPMN allows them (one none start per
 * process or subprocess, one triggered start per event subprocess), flows inside their
 * scope, no flow into a start or a boundary event or out of an end, every gateway leads
 * somewhere, an exclusive choice is never ambiguous. Doubtful but runnable things (conditions after
 * a parallel split, unreachable nodes) become warnings, which lint shows and the engine ignores. */
#include <stdlib.h>
#include <string.h>

#include "core/bpmn_internal.h"
#include "flowd/engine.h"
#include "flowd/alloc.h"

static bool is_start(enum fl_node_kind k)
{
    return k == FL_NODE_START_EVENT || k == FL_NODE_TIMER_START || k == FL_NODE_EVENT_START;
}

static bool is_boundary(enum fl_node_kind k)
{
    return k == FL_NODE_TIMER_BOUNDARY || k == FL_NODE_BOUNDARY_EVENT;
}

static bool is_end(enum fl_node_kind k)
{
    return k == FL_NODE_END_EVENT || k == FL_NODE_TERMINATE_END || k == FL_NODE_EVENT_END;
}

/* Start events of one node: where it may sit given its scope. */
static int check_start(struct fl__bpmn_proc *p, uint32_t i)
{
    struct fl_model *m = p->m;
    const struct fl_node *n = &m->nodes[i];
    const struct fl_node *s = n->scope != FL_NONE ? &m->nodes[n->scope] : NULL;
    enum fl_trigger t = n->event ? n->event->trigger : FL_TRIGGER_NONE;
    if (!s) {
        if (n->kind == FL_NODE_START_EVENT) {
            if (m->start != FL_NONE)
                return fl__bpmn_fail(p->rd, p->node_xml[i], FL_EMODEL,
                                     "process '%s' has more than one none start event ('%s' and "
                                     "'%s')",
                                     m->key, m->nodes[m->start].id, n->id);
            m->start = i;
        } else if (n->kind == FL_NODE_EVENT_START && t != FL_TRIGGER_MESSAGE &&
                   t != FL_TRIGGER_SIGNAL && t != FL_TRIGGER_CONDITIONAL) {
            return fl__bpmn_fail(p->rd, p->node_xml[i], FL_EMODEL,
                                 "%s start event '%s' is at process level; it belongs in an "
                                 "event subprocess",
                                 fl_trigger_name(t), n->id);
        }
        return 0;
    }
    if (s->kind == FL_NODE_SUB_PROCESS) {
        if (n->kind != FL_NODE_START_EVENT)
            return fl__bpmn_fail(p->rd, p->node_xml[i], FL_EMODEL,
                                 "start event '%s' inside %s '%s' has a trigger; a subprocess "
                                 "starts with a none start event",
                                 n->id, s->transaction ? "transaction" : "subProcess", s->id);
        if (s->sub_start != i)
            return fl__bpmn_fail(p->rd, p->node_xml[i], FL_EMODEL,
                                 "subProcess '%s' has more than one none start event ('%s' and "
                                 "'%s')",
                                 s->id, m->nodes[s->sub_start].id, n->id);
        return 0;
    }
    /* in an event subprocess: exactly one start, with a trigger */
    if (n->kind == FL_NODE_START_EVENT)
        return fl__bpmn_fail(p->rd, p->node_xml[i], FL_EMODEL,
                             "start event '%s' of event subprocess '%s' has no trigger; give "
                             "it a message, signal, timer, error, escalation, condition or "
                             "compensation",
                             n->id, s->id);
    if (s->sub_start != i)
        return fl__bpmn_fail(p->rd, p->node_xml[i], FL_EMODEL,
                             "event subprocess '%s' has more than one start event ('%s' and "
                             "'%s')",
                             s->id, m->nodes[s->sub_start].id, n->id);
    return 0;
}

static int check_starts(struct fl__bpmn_proc *p)
{
    struct fl_model *m = p->m;
    size_t i;
    int rc;
    for (i = 0; i < m->n_nodes; i++)
        if (is_start(m->nodes[i].kind) && (rc = check_start(p, (uint32_t)i)) < 0)
            return rc;
    for (i = 0; i < m->n_nodes; i++) {
        const struct fl_node *n = &m->nodes[i];
        if (n->kind == FL_NODE_EVENT_SUB_PROCESS) {
            if (n->sub_start == FL_NONE)
                return fl__bpmn_fail(p->rd, p->node_xml[i], FL_EMODEL,
                                     "event subprocess '%s' has no start event", n->id);
            if (n->n_incoming || n->n_outgoing)
                return fl__bpmn_fail(p->rd, p->node_xml[i], FL_EMODEL,
                                     "event subprocess '%s' has sequence flows; it is started "
                                     "by its start event's trigger, not by a flow",
                                     n->id);
        } else if (n->kind == FL_NODE_SUB_PROCESS && n->n_children && n->sub_start == FL_NONE) {
            return fl__bpmn_fail(p->rd, p->node_xml[i], FL_EUNSUPPORTED,
                                 "%s '%s' has no none start event; flowd needs one (BPMN's "
                                 "implicit start of every node without incoming flows is not "
                                 "supported)",
                                 n->transaction ? "transaction" : "subProcess", n->id);
        }
    }
    /* Timer or message starts alone are enough: the scheduler or a message starts them. */
    if (m->start == FL_NONE && m->n_timer_starts == 0 && m->n_message_starts == 0)
        return fl__bpmn_fail(p->rd, p->xml, FL_EUNSUPPORTED,
                             "process '%s' has no start event; flowd needs a none, timer, "
                             "message, signal or conditional start event (BPMN's implicit start "
                             "of every node without incoming flows is not supported)",
                             m->key);
    return 0;
}

/* The innermost subprocess holding flow i's source or target but not the flow. */
static const char *crossed(const struct fl_model *m, uint32_t node, uint32_t scope)
{
    uint32_t s = m->nodes[node].scope;
    while (s != FL_NONE && m->nodes[s].scope != scope)
        s = m->nodes[s].scope;
    return s != FL_NONE ? m->nodes[s].id : NULL;
}

static int check_flows(struct fl__bpmn_proc *p)
{
    struct fl_model *m = p->m;
    size_t i;
    for (i = 0; i < m->n_flows; i++) {
        const struct fl_flow *f = &m->flows[i];
        const struct fl_node *s = &m->nodes[f->source], *t = &m->nodes[f->target];
        uint32_t scope = p->flow_scope[i];
        if (s->scope != scope || t->scope != scope) {
            const char *sub = crossed(m, s->scope != scope ? f->source : f->target, scope);
            return fl__bpmn_fail_attr(
                p->rd, p->flow_xml[i], s->scope != scope ? "sourceRef" : "targetRef", FL_EMODEL,
                "sequence flow '%s' from '%s' to '%s' crosses the boundary "
                "of subprocess '%s'; a flow stays inside its scope",
                f->id, s->id, t->id, sub ? sub : (scope != FL_NONE ? m->nodes[scope].id : ""));
        }
        if (is_start(t->kind))
            return fl__bpmn_fail_attr(p->rd, p->flow_xml[i], "targetRef", FL_EMODEL,
                                      "sequence flow '%s' leads into start event '%s'", f->id,
                                      t->id);
        if (is_boundary(t->kind))
            return fl__bpmn_fail_attr(p->rd, p->flow_xml[i], "targetRef", FL_EMODEL,
                                      "sequence flow '%s' leads into boundary event '%s'; a "
                                      "boundary event is entered through its activity",
                                      f->id, t->id);
        if (is_end(s->kind))
            return fl__bpmn_fail_attr(p->rd, p->flow_xml[i], "sourceRef", FL_EMODEL,
                                      "sequence flow '%s' leaves end event '%s'", f->id, s->id);
        if (s->for_compensation || t->for_compensation)
            return fl__bpmn_fail_attr(
                p->rd, p->flow_xml[i], s->for_compensation ? "sourceRef" : "targetRef", FL_EMODEL,
                "sequence flow '%s' touches compensation handler '%s'; a handler is reached "
                "only through its compensation boundary event's association",
                f->id, s->for_compensation ? s->id : t->id);
        if (s->kind == FL_NODE_BOUNDARY_EVENT && s->event->trigger == FL_TRIGGER_COMPENSATE)
            return fl__bpmn_fail_attr(p->rd, p->flow_xml[i], "sourceRef", FL_EMODEL,
                                      "sequence flow '%s' leaves compensation boundary event "
                                      "'%s'; it leads to its handler by an association",
                                      f->id, s->id);
        if (s->kind == FL_NODE_THROW_EVENT && s->event->trigger == FL_TRIGGER_LINK)
            return fl__bpmn_fail_attr(p->rd, p->flow_xml[i], "sourceRef", FL_EMODEL,
                                      "sequence flow '%s' leaves link throw event '%s'; the "
                                      "token goes on at link '%s'",
                                      f->id, s->id, s->event->name);
        if (f->condition && (s->kind == FL_NODE_PARALLEL_GW || s->kind == FL_NODE_EVENT_GW))
            fl__bpmn_warn(p, p->flow_xml[i],
                          "condition of sequence flow '%s' is ignored: it leaves %s '%s'", f->id,
                          fl_node_kind_name(s->kind), s->id);
        if (f->condition && s->default_flow == i)
            fl__bpmn_warn(p, p->flow_xml[i],
                          "condition of sequence flow '%s' is ignored: it is the default flow "
                          "of '%s'",
                          f->id, s->id);
    }
    return 0;
}

static int check_gateways(struct fl__bpmn_proc *p)
{
    struct fl_model *m = p->m;
    size_t i, k;
    for (i = 0; i < m->n_nodes; i++) {
        const struct fl_node *n = &m->nodes[i];
        uint32_t bare[2] = {FL_NONE, FL_NONE};
        size_t n_bare = 0;
        if (n->kind != FL_NODE_EXCLUSIVE_GW && n->kind != FL_NODE_PARALLEL_GW &&
            n->kind != FL_NODE_INCLUSIVE_GW && n->kind != FL_NODE_EVENT_GW)
            continue;
        if (n->n_outgoing == 0)
            return fl__bpmn_fail(p->rd, p->node_xml[i], FL_EMODEL,
                                 "%s '%s' has no outgoing sequence flow",
                                 fl_node_kind_name(n->kind), n->id);
        if (n->kind == FL_NODE_EVENT_GW) {
            for (k = 0; k < n->n_outgoing; k++) {
                const struct fl_node *t = &m->nodes[m->flows[n->outgoing[k]].target];
                if (t->kind == FL_NODE_TIMER_CATCH || t->kind == FL_NODE_RECEIVE_TASK ||
                    (t->kind == FL_NODE_CATCH_EVENT && t->event->trigger != FL_TRIGGER_LINK))
                    continue;
                return fl__bpmn_fail(p->rd, p->node_xml[i], FL_EMODEL,
                                     "event-based gateway '%s' leads to %s '%s'; it must lead "
                                     "to intermediate catch events or receive tasks",
                                     n->id, fl_node_kind_name(t->kind), t->id);
            }
            continue;
        }
        if (n->kind != FL_NODE_EXCLUSIVE_GW || n->default_flow != FL_NONE)
            continue;
        for (k = 0; k < n->n_outgoing; k++) {
            if (m->flows[n->outgoing[k]].condition)
                continue;
            if (n_bare < 2)
                bare[n_bare] = n->outgoing[k];
            n_bare++;
        }
        if (n_bare >= 2)
            return fl__bpmn_fail(p->rd, p->node_xml[i], FL_EMODEL,
                                 "exclusiveGateway '%s' has %zu outgoing flows without a "
                                 "condition ('%s', '%s'%s) and no default flow",
                                 n->id, n_bare, m->flows[bare[0]].id, m->flows[bare[1]].id,
                                 n_bare > 2 ? ", ..." : "");
    }
    return 0;
}

static void visit(uint32_t *stack, size_t *top, bool *seen, uint32_t n)
{
    if (!seen[n]) {
        seen[n] = true;
        stack[(*top)++] = n;
    }
}

/* Warn about nodes no path from a start event reaches (a task's boundary events are
 * reached with it). */
static void check_reachable(struct fl__bpmn_proc *p)
{
    struct fl_model *m = p->m;
    uint32_t *stack = fl_calloc(m->n_nodes + 1, sizeof(uint32_t));
    bool *seen = fl_calloc(m->n_nodes + 1, sizeof(bool));
    size_t top = 0, i, k;
    const char *from = m->start != FL_NONE ? m->nodes[m->start].id : NULL;
    /* every start (a subprocess's runs when it is entered, an event subprocess's when its
     * trigger comes) and every compensation handler (run through its boundary event) */
    for (i = 0; i < m->n_nodes; i++)
        if (is_start(m->nodes[i].kind) || m->nodes[i].for_compensation ||
            m->nodes[i].kind == FL_NODE_EVENT_SUB_PROCESS)
            visit(stack, &top, seen, (uint32_t)i);
    while (top > 0) {
        const struct fl_node *n = &m->nodes[stack[--top]];
        for (k = 0; k < n->n_outgoing; k++)
            visit(stack, &top, seen, m->flows[n->outgoing[k]].target);
        for (k = 0; k < n->n_boundaries; k++)
            visit(stack, &top, seen, n->boundaries[k]);
        if (n->event && n->event->link_target != FL_NONE)
            visit(stack, &top, seen, n->event->link_target);
    }
    for (i = 0; i < m->n_nodes; i++) {
        if (seen[i])
            continue;
        if (from && !m->n_timer_starts && !m->n_message_starts && m->nodes[i].scope == FL_NONE)
            fl__bpmn_warn(p, p->node_xml[i], "%s '%s' cannot be reached from start event '%s'",
                          fl_node_kind_name(m->nodes[i].kind), m->nodes[i].id, from);
        else
            fl__bpmn_warn(p, p->node_xml[i], "%s '%s' cannot be reached from any start event",
                          fl_node_kind_name(m->nodes[i].kind), m->nodes[i].id);
    }
    free(stack);
    free(seen);
}

/* Every node must be one the engine runs (fl_engine_unsupported): refuse the first that is
 * not, at its element. */
static int check_engine_runs(struct fl__bpmn_proc *p)
{
    const struct fl_model *m = p->m;
    for (size_t i = 0; i < m->n_nodes; i++) {
        const char *why = fl_engine_unsupported(m, (uint32_t)i);
        if (why)
            return fl__bpmn_fail(p->rd, p->node_xml[i], FL_EUNSUPPORTED, "%s '%s': %s",
                                 fl_node_kind_name(m->nodes[i].kind), m->nodes[i].id, why);
    }
    return 0;
}

int fl__bpmn_validate(struct fl__bpmn_proc *p)
{
    int rc;
    if ((rc = check_starts(p)) < 0 || (rc = check_flows(p)) < 0 || (rc = check_gateways(p)) < 0 ||
        (rc = check_engine_runs(p)) < 0)
        return rc;
    check_reachable(p);
    return 0;
}
