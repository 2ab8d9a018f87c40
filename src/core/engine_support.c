/* Which parts of a model the engine runs: the reader asks before it accepts a model, so a
 * construct the engine cannot run yet is refused at deploy time with its element, line and
 * column, never met as a surprise in a running instance. One place to change as the
 * engine learns a construct. */
#include <stddef.h>

#include "flowd/engine.h"

/* Messages and signals (engine_message.c): NULL when node n of m runs, else why not. */
static const char *message_unsupported(const struct fl_model *m, const struct fl_node *n)
{
    enum fl_trigger t = n->event ? n->event->trigger : FL_TRIGGER_NONE;
    const struct fl_node *a;

    /* Nothing could ever match a nameless one: refuse it here, not at run time. */
    if ((t == FL_TRIGGER_MESSAGE || t == FL_TRIGGER_SIGNAL) &&
        (!n->event->name || !n->event->name[0]) && !(n->kind == FL_NODE_SEND_TASK && n->job_type))
        return t == FL_TRIGGER_MESSAGE ? "a message event needs a message name"
                                       : "a signal event needs a signal name";
    switch (n->kind) {
    case FL_NODE_RECEIVE_TASK:
        return t == FL_TRIGGER_MESSAGE ? NULL : "a receive task needs a message";
    case FL_NODE_SEND_TASK:
        return n->job_type || t == FL_TRIGGER_MESSAGE ? NULL
                                                      : "a send task needs a job type or a message";
    case FL_NODE_EVENT_GW:
        for (uint32_t k = 0; k < n->n_outgoing; k++) {
            const struct fl_node *tn = &m->nodes[m->flows[n->outgoing[k]].target];
            enum fl_trigger tt = tn->event ? tn->event->trigger : FL_TRIGGER_NONE;
            if (tn->kind == FL_NODE_TIMER_CATCH ||
                (tn->kind == FL_NODE_RECEIVE_TASK && tt == FL_TRIGGER_MESSAGE) ||
                (tn->kind == FL_NODE_CATCH_EVENT &&
                 (tt == FL_TRIGGER_MESSAGE || tt == FL_TRIGGER_SIGNAL)))
                continue;
            return "an event-based gateway may lead only to message, signal and timer catch "
                   "events and receive tasks";
        }
        return NULL;
    case FL_NODE_BOUNDARY_EVENT:
        if (n->attached_to >= m->n_nodes)
            return "is attached to no activity";
        a = &m->nodes[n->attached_to];
        switch (a->kind) {
        case FL_NODE_TASK:
        case FL_NODE_USER_TASK:
        case FL_NODE_MANUAL_TASK:
        case FL_NODE_SERVICE_TASK:
        case FL_NODE_SCRIPT_TASK:
        case FL_NODE_RECEIVE_TASK:
        case FL_NODE_SUB_PROCESS:   /* the scopes' gate decides on these */
        case FL_NODE_CALL_ACTIVITY: /* engine_boundary.c fires on resting scopes */
            return NULL;
        case FL_NODE_SEND_TASK:
        case FL_NODE_BUSINESS_RULE_TASK:
            return a->job_type ? NULL
                               : "boundary events on this kind of task are not supported yet";
        default:
            return "message and signal boundary events on this kind of activity are not "
                   "supported yet";
        }
    case FL_NODE_CATCH_EVENT:
    case FL_NODE_THROW_EVENT:
    case FL_NODE_EVENT_END:
        return NULL;
    case FL_NODE_EVENT_START:
        /* process level only: an event subprocess's start is the scopes' to run */
        return NULL; /* process level, or an event subprocess's start (engine_sub.c) */
    default:
        return "this event definition is not supported yet";
    }
}

/* Errors, escalations and conditional events (engine_error.c, engine_conditional.c,
 * engine_boundary.c): NULL when node n of m runs, else why not. */
static const char *errors_unsupported(const struct fl_model *m, const struct fl_node *n)
{
    enum fl_trigger t = n->event->trigger;
    if (t == FL_TRIGGER_CONDITIONAL && !n->event->condition)
        return "a conditional event needs a condition";
    switch (n->kind) {
    case FL_NODE_BOUNDARY_EVENT:
        if (n->attached_to >= m->n_nodes)
            return "is attached to no activity";
        switch (m->nodes[n->attached_to].kind) {
        case FL_NODE_TASK:
        case FL_NODE_USER_TASK:
        case FL_NODE_MANUAL_TASK:
        case FL_NODE_SERVICE_TASK:
        case FL_NODE_SCRIPT_TASK:
        case FL_NODE_RECEIVE_TASK:
        case FL_NODE_SEND_TASK:
        case FL_NODE_BUSINESS_RULE_TASK:
        case FL_NODE_SUB_PROCESS:
        case FL_NODE_CALL_ACTIVITY:
            if (t == FL_TRIGGER_CANCEL)
                return m->nodes[n->attached_to].kind == FL_NODE_SUB_PROCESS &&
                               m->nodes[n->attached_to].transaction
                           ? NULL
                           : "a cancel boundary event must be attached to a transaction";
            return t == FL_TRIGGER_ERROR || t == FL_TRIGGER_ESCALATION ||
                           t == FL_TRIGGER_CONDITIONAL || t == FL_TRIGGER_COMPENSATE
                       ? NULL
                       : "this boundary event is not supported yet";
        default:
            return "a boundary event must be attached to an activity";
        }
    case FL_NODE_EVENT_END:
        if (t == FL_TRIGGER_CANCEL) {
            const struct fl_node *tx = n->scope < m->n_nodes ? &m->nodes[n->scope] : NULL;
            return tx && tx->kind == FL_NODE_SUB_PROCESS && tx->transaction
                       ? NULL
                       : "a cancel end event must be inside a transaction";
        }
        return t == FL_TRIGGER_ERROR || t == FL_TRIGGER_ESCALATION || t == FL_TRIGGER_COMPENSATE
                   ? NULL
                   : "this end event is not supported yet";
    case FL_NODE_THROW_EVENT:
        return t == FL_TRIGGER_ESCALATION || t == FL_TRIGGER_COMPENSATE
                   ? NULL
                   : "this throw event is not supported yet";
    case FL_NODE_CATCH_EVENT:
        return t == FL_TRIGGER_CONDITIONAL ? NULL : "this catch event is not supported yet";
    case FL_NODE_EVENT_START:
        if (n->scope == FL_NONE)
            return t == FL_TRIGGER_CONDITIONAL
                       ? "conditional start events of a process are not supported yet"
                       : "an error, escalation or compensation start event belongs in an "
                         "event subprocess";
        return t == FL_TRIGGER_ERROR || t == FL_TRIGGER_ESCALATION || t == FL_TRIGGER_CONDITIONAL
                   ? NULL
                   : "this start event is not supported yet";
    default:
        return "this event definition is not supported yet";
    }
}

const char *fl_engine_unsupported(const struct fl_model *m, uint32_t i)
{
    const struct fl_node *n;
    if (!m || i >= m->n_nodes)
        return "is not a node of the model";
    n = &m->nodes[i];
    /* Loops (multi-instance, standard) and input/output mappings run on every activity
     * the switch below accepts (engine_loop.c, engine_calls.c). */
    switch (n->kind) {
    case FL_NODE_START_EVENT:
    case FL_NODE_END_EVENT:
    case FL_NODE_TERMINATE_END:
    case FL_NODE_TASK:
    case FL_NODE_USER_TASK:
    case FL_NODE_MANUAL_TASK:
    case FL_NODE_SERVICE_TASK:
    case FL_NODE_SCRIPT_TASK:
    case FL_NODE_EXCLUSIVE_GW:
    case FL_NODE_PARALLEL_GW:
    case FL_NODE_TIMER_START:
    case FL_NODE_TIMER_CATCH:
    case FL_NODE_TIMER_BOUNDARY:
    case FL_NODE_SUB_PROCESS: /* a transaction runs as a subprocess; cancel events are
                                 refused on their own nodes until they run */
    case FL_NODE_EVENT_SUB_PROCESS:
        return NULL;
    case FL_NODE_CALL_ACTIVITY:
        return NULL;
    case FL_NODE_RECEIVE_TASK:
    case FL_NODE_SEND_TASK:
    case FL_NODE_EVENT_GW:
        return message_unsupported(m, n);
    case FL_NODE_BUSINESS_RULE_TASK:
        return NULL; /* a job, or a decision through ctx->decide (engine_decision.c) */
    case FL_NODE_INCLUSIVE_GW:
        return NULL;
    case FL_NODE_THROW_EVENT:
    case FL_NODE_CATCH_EVENT:
    case FL_NODE_BOUNDARY_EVENT:
    case FL_NODE_EVENT_START:
    case FL_NODE_EVENT_END:
        if (!n->event || n->event->trigger == FL_TRIGGER_NONE)
            return n->kind == FL_NODE_THROW_EVENT ? NULL /* a none throw passes through */
                                                  : "this event definition is not supported yet";
        switch (n->event->trigger) {
        case FL_TRIGGER_LINK:
            if (n->kind == FL_NODE_CATCH_EVENT)
                return NULL;
            if (n->kind == FL_NODE_THROW_EVENT)
                return n->event->link_target == FL_NONE
                           ? "has no catch link event of the same name in its scope"
                           : NULL;
            return "this event definition is not supported yet";
        case FL_TRIGGER_MESSAGE:
        case FL_TRIGGER_SIGNAL:
            return message_unsupported(m, n);
        default:
            return errors_unsupported(m, n);
        }
    default:
        return "is of an unknown kind";
    }
}
