/* Nesting in the BPMN reader: which nodes a subprocess holds (children in document order,
 * its none start event, the start events of the event subprocesses inside it), the same
 * lists for the process level, and where boundary events sit (attachedToRef: an activity
 * of the boundary's own scope). The engine walks these lists instead of searching. */
#include <stdlib.h>
#include <string.h>

#include "core/bpmn_internal.h"
#include "flowd/alloc.h"

bool fl__bpmn_is_activity(enum fl_node_kind k)
{
    switch (k) {
    case FL_NODE_TASK:
    case FL_NODE_USER_TASK:
    case FL_NODE_MANUAL_TASK:
    case FL_NODE_SERVICE_TASK:
    case FL_NODE_SCRIPT_TASK:
    case FL_NODE_SUB_PROCESS:
    case FL_NODE_CALL_ACTIVITY:
    case FL_NODE_RECEIVE_TASK:
    case FL_NODE_SEND_TASK:
    case FL_NODE_BUSINESS_RULE_TASK:
        return true;
    default:
        return false;
    }
}

static void push(uint32_t **list, uint32_t *n, uint32_t v)
{
    *list = fl_reallocarray(*list, (size_t)*n + 1, sizeof(**list));
    (*list)[(*n)++] = v;
}

static void push_sz(uint32_t **list, size_t *n, uint32_t v)
{
    *list = fl_reallocarray(*list, *n + 1, sizeof(**list));
    (*list)[(*n)++] = v;
}

void fl__bpmn_fill_scopes(struct fl__bpmn_proc *p)
{
    struct fl_model *m = p->m;
    for (size_t i = 0; i < m->n_nodes; i++) {
        struct fl_node *n = &m->nodes[i];
        uint32_t ix = (uint32_t)i;
        struct fl_node *parent = n->scope != FL_NONE ? &m->nodes[n->scope] : NULL;
        bool start = n->kind == FL_NODE_START_EVENT || n->kind == FL_NODE_TIMER_START ||
                     n->kind == FL_NODE_EVENT_START;
        if (parent)
            push(&parent->children, &parent->n_children, ix);
        else
            push_sz(&m->top, &m->n_top, ix);
        if (!start)
            continue;
        if (parent && parent->kind == FL_NODE_EVENT_SUB_PROCESS) {
            /* the trigger of an event subprocess belongs to the scope around it */
            if (parent->sub_start == FL_NONE)
                parent->sub_start = ix;
            if (parent->scope != FL_NONE)
                push(&m->nodes[parent->scope].event_starts, &m->nodes[parent->scope].n_event_starts,
                     ix);
            else
                push_sz(&m->event_starts, &m->n_event_starts, ix);
        } else if (parent) {
            if (n->kind == FL_NODE_START_EVENT && parent->sub_start == FL_NONE)
                parent->sub_start = ix;
        } else if (n->kind == FL_NODE_TIMER_START) {
            push_sz(&m->timer_starts, &m->n_timer_starts, ix);
        } else if (n->kind == FL_NODE_EVENT_START) {
            push_sz(&m->message_starts, &m->n_message_starts, ix);
        }
    }
}

int fl__bpmn_attach_boundaries(struct fl__bpmn_proc *p)
{
    struct fl_model *m = p->m;
    int rc = 0;

    for (size_t i = 0; i < m->n_nodes && rc == 0; i++) {
        struct fl_node *n = &m->nodes[i], *act;
        char *ref;
        void *ix;

        if (n->kind != FL_NODE_TIMER_BOUNDARY && n->kind != FL_NODE_BOUNDARY_EVENT)
            continue;
        ref = fl__bpmn_attr(p->node_xml[i], "attachedToRef", NULL);
        ix = ref && ref[0] ? xmlHashLookup(p->node_ix, (const xmlChar *)ref) : NULL;
        if (!ref || !ref[0]) {
            rc = fl__bpmn_fail(p->rd, p->node_xml[i], FL_EMODEL,
                               "boundary event '%s' has no attachedToRef", n->id);
        } else if (!ix) {
            rc = fl__bpmn_fail_attr(p->rd, p->node_xml[i], "attachedToRef", FL_EMODEL,
                                    "boundary event '%s' is attached to '%s', which is not a "
                                    "flow node of process '%s'",
                                    n->id, ref, m->key);
        } else {
            uint32_t t = (uint32_t)((uintptr_t)ix - 1);
            act = &m->nodes[t];
            if (!fl__bpmn_is_activity(act->kind)) {
                rc = fl__bpmn_fail_attr(p->rd, p->node_xml[i], "attachedToRef", FL_EMODEL,
                                        "boundary event '%s' is attached to %s '%s'; boundary "
                                        "events sit on activities",
                                        n->id, fl_node_kind_name(act->kind), ref);
            } else if (act->scope != n->scope) {
                rc = fl__bpmn_fail_attr(p->rd, p->node_xml[i], "attachedToRef", FL_EMODEL,
                                        "boundary event '%s' is attached to '%s', which is in "
                                        "another scope (subprocess)",
                                        n->id, ref);
            } else if (n->event && n->event->trigger == FL_TRIGGER_CANCEL &&
                       !(act->kind == FL_NODE_SUB_PROCESS && act->transaction)) {
                rc = fl__bpmn_fail_attr(p->rd, p->node_xml[i], "attachedToRef", FL_EMODEL,
                                        "cancel boundary event '%s' is attached to %s '%s'; it "
                                        "belongs on a transaction",
                                        n->id, fl_node_kind_name(act->kind), ref);
            } else {
                n->attached_to = t;
                push(&act->boundaries, &act->n_boundaries, (uint32_t)i);
            }
        }
        free(ref);
    }
    return rc;
}
