/* Structural checks of a freshly built model, with the element, line and column of the
 * first broken rule: at most one none start event and at least one start (none or timer),
 * no flow into a start or a boundary event or out of an end, every gateway leads somewhere, an
 * exclusive choice is never ambiguous. Doubtful but runnable things (conditions after a parallel
 * split, unreachable nodes) become warnings, which lint shows and the engine ignores. */
#include <stdlib.h>
#include <string.h>

#include "core/bpmn_internal.h"
#include "flowd/engine.h"
#include "flowd/alloc.h"

static int check_starts(struct fl__bpmn_proc *p)
{
    struct fl_model *m = p->m;
    size_t i;
    for (i = 0; i < m->n_nodes; i++) {
        if (m->nodes[i].kind == FL_NODE_TIMER_START) {
            m->timer_starts =
                fl_reallocarray(m->timer_starts, m->n_timer_starts + 1, sizeof(*m->timer_starts));
            m->timer_starts[m->n_timer_starts++] = (uint32_t)i;
            continue;
        }
        if (m->nodes[i].kind != FL_NODE_START_EVENT)
            continue;
        if (m->start != FL_NONE)
            return fl__bpmn_fail(p->rd, p->node_xml[i], FL_EMODEL,
                                 "process '%s' has more than one none start event ('%s' and "
                                 "'%s')",
                                 m->key, m->nodes[m->start].id, m->nodes[i].id);
        m->start = (uint32_t)i;
    }
    /* Timer start events alone are enough: the scheduler starts those instances. */
    if (m->start == FL_NONE && m->n_timer_starts == 0)
        return fl__bpmn_fail(p->rd, p->xml, FL_EMODEL,
                             "process '%s' has no none start event and no timer start event",
                             m->key);
    return 0;
}

static int check_flows(struct fl__bpmn_proc *p)
{
    struct fl_model *m = p->m;
    size_t i;
    for (i = 0; i < m->n_flows; i++) {
        const struct fl_flow *f = &m->flows[i];
        const struct fl_node *s = &m->nodes[f->source], *t = &m->nodes[f->target];
        if (t->kind == FL_NODE_START_EVENT || t->kind == FL_NODE_TIMER_START)
            return fl__bpmn_fail_attr(p->rd, p->flow_xml[i], "targetRef", FL_EMODEL,
                                      "sequence flow '%s' leads into start event '%s'", f->id,
                                      t->id);
        if (t->kind == FL_NODE_TIMER_BOUNDARY)
            return fl__bpmn_fail_attr(p->rd, p->flow_xml[i], "targetRef", FL_EMODEL,
                                      "sequence flow '%s' leads into boundary event '%s'; a "
                                      "boundary event is entered through its task",
                                      f->id, t->id);
        if (s->kind == FL_NODE_END_EVENT || s->kind == FL_NODE_TERMINATE_END)
            return fl__bpmn_fail_attr(p->rd, p->flow_xml[i], "sourceRef", FL_EMODEL,
                                      "sequence flow '%s' leaves end event '%s'", f->id, s->id);
        if (f->condition && s->kind == FL_NODE_PARALLEL_GW)
            fl__bpmn_warn(p, p->flow_xml[i],
                          "condition of sequence flow '%s' is ignored: it leaves parallel "
                          "gateway '%s'",
                          f->id, s->id);
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
        if (n->kind != FL_NODE_EXCLUSIVE_GW && n->kind != FL_NODE_PARALLEL_GW)
            continue;
        if (n->n_outgoing == 0)
            return fl__bpmn_fail(p->rd, p->node_xml[i], FL_EMODEL,
                                 "%s '%s' has no outgoing sequence flow",
                                 fl_node_kind_name(n->kind), n->id);
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
    if (m->start != FL_NONE)
        visit(stack, &top, seen, m->start);
    for (i = 0; i < m->n_timer_starts; i++)
        visit(stack, &top, seen, m->timer_starts[i]);
    while (top > 0) {
        const struct fl_node *n = &m->nodes[stack[--top]];
        for (k = 0; k < n->n_outgoing; k++)
            visit(stack, &top, seen, m->flows[n->outgoing[k]].target);
        for (k = 0; k < n->n_boundaries; k++)
            visit(stack, &top, seen, n->boundaries[k]);
    }
    for (i = 0; i < m->n_nodes; i++) {
        if (seen[i])
            continue;
        if (from && !m->n_timer_starts)
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
