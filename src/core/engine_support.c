/* Which parts of a model the engine runs: the reader asks before it accepts a model, so a
 * construct the engine cannot run yet is refused at deploy time with its element, line and
 * column, never met as a surprise in a running instance. One place to change as the
 * engine learns a construct. */
#include <stddef.h>

#include "flowd/engine.h"

const char *fl_engine_unsupported(const struct fl_model *m, uint32_t i)
{
    const struct fl_node *n;
    if (!m || i >= m->n_nodes)
        return "is not a node of the model";
    n = &m->nodes[i];
    if (n->loop)
        return n->loop->multi ? "multi-instance is not supported yet"
                              : "a standard loop is not supported yet";
    if (n->n_inputs || n->n_outputs)
        return "input/output mappings are not supported yet";
    if (n->scope != FL_NONE)
        return "elements inside a subprocess are not supported yet";
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
        return NULL;
    case FL_NODE_SUB_PROCESS:
        return n->transaction ? "transactions are not supported yet"
                              : "embedded subprocesses are not supported yet";
    case FL_NODE_EVENT_SUB_PROCESS:
        return "event subprocesses are not supported yet";
    case FL_NODE_CALL_ACTIVITY:
        return "call activities are not supported yet";
    case FL_NODE_RECEIVE_TASK:
        return "receive tasks are not supported yet";
    case FL_NODE_SEND_TASK:
        return n->job_type ? NULL : "send tasks without a job type are not supported yet";
    case FL_NODE_BUSINESS_RULE_TASK:
        return NULL; /* a job, or a decision through ctx->decide (engine_decision.c) */
    case FL_NODE_INCLUSIVE_GW:
        return "inclusive gateways are not supported yet";
    case FL_NODE_EVENT_GW:
        return "event-based gateways are not supported yet";
    case FL_NODE_CATCH_EVENT:
    case FL_NODE_THROW_EVENT:
    case FL_NODE_BOUNDARY_EVENT:
    case FL_NODE_EVENT_START:
    case FL_NODE_EVENT_END:
        return "this event definition is not supported yet";
    default:
        return "is of an unknown kind";
    }
}
