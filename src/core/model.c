/* The process model's lifecycle and lookups (see model.h). Building a model is the BPMN
 * reader's job (bpmn*.c); this file only frees, finds and names. */
#include <stdlib.h>
#include <string.h>

#include "flowd/model.h"

void fl_strlist_release(struct fl_strlist *l)
{
    size_t i;
    for (i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static void stage_free(struct fl_stage *s)
{
    if (!s)
        return;
    free(s->duration);
    free(s->remind_before);
    free(s->calendar);
    fl_strlist_release(&s->responsible);
    free(s->accountable);
    fl_strlist_release(&s->consulted);
    fl_strlist_release(&s->informed);
    free(s->expected_result);
    free(s->result_format);
    free(s->channel);
    free(s->notes);
    free(s->main_action_kind);
    free(s->main_action_ref);
    free(s->assignee);
    fl_strlist_release(&s->candidate_groups);
    fl_strlist_release(&s->candidate_users);
    free(s->due_date);
    free(s->follow_up_date);
    for (size_t i = 0; i < s->n_escalations; i++) {
        free(s->escalations[i].after);
        fl_strlist_release(&s->escalations[i].to);
    }
    free(s->escalations);
    free(s);
}

void fl_control_defs_free(struct fl_control_def *defs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct fl_control_def *d = &defs[i];
        free(d->name);
        free(d->due);
        free(d->remind_before);
        free(d->calendar);
        fl_strlist_release(&d->escalate_to);
        for (size_t k = 0; k < d->n_escalations; k++) {
            free(d->escalations[k].after);
            fl_strlist_release(&d->escalations[k].to);
        }
        free(d->escalations);
    }
    free(defs);
}

void fl_mappings_free(struct fl_mapping *maps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(maps[i].target);
        fl_feel_free(maps[i].source);
    }
    free(maps);
}

static void event_def_free(struct fl_event_def *e)
{
    if (!e)
        return;
    free(e->name);
    free(e->correlation_key);
    fl_feel_free(e->condition);
    free(e->code_variable);
    free(e->message_variable);
    free(e->message);
    free(e);
}

static void call_def_free(struct fl_call_def *c)
{
    if (!c)
        return;
    free(c->process_key);
    free(c->business_key);
    fl_mappings_free(c->ins, c->n_ins);
    fl_mappings_free(c->outs, c->n_outs);
    free(c);
}

static void loop_def_free(struct fl_loop_def *l)
{
    if (!l)
        return;
    fl_feel_free(l->collection);
    fl_feel_free(l->cardinality);
    free(l->element_variable);
    free(l->output_collection);
    fl_feel_free(l->output_element);
    fl_feel_free(l->completion);
    fl_feel_free(l->loop_condition);
    free(l);
}

bool fl_model_in_scope(const struct fl_model *m, uint32_t i, uint32_t scope)
{
    if (scope == FL_NONE)
        return i < m->n_nodes;
    /* Walk outwards; scopes nest at most n_nodes deep, so the walk ends. */
    for (size_t guard = 0; i < m->n_nodes && guard <= m->n_nodes; guard++) {
        i = m->nodes[i].scope;
        if (i == scope)
            return true;
    }
    return false;
}

const char *fl_trigger_name(enum fl_trigger t)
{
    static const char *const names[] = {
        [FL_TRIGGER_NONE] = "none",
        [FL_TRIGGER_MESSAGE] = "message",
        [FL_TRIGGER_SIGNAL] = "signal",
        [FL_TRIGGER_ERROR] = "error",
        [FL_TRIGGER_ESCALATION] = "escalation",
        [FL_TRIGGER_CONDITIONAL] = "conditional",
        [FL_TRIGGER_LINK] = "link",
        [FL_TRIGGER_COMPENSATE] = "compensate",
        [FL_TRIGGER_CANCEL] = "cancel",
    };
    if ((unsigned)t >= sizeof(names) / sizeof(names[0]))
        return "unknown";
    return names[t];
}

const struct fl_control_def *fl_model_find_control(const struct fl_model *m, const char *name,
                                                   uint32_t *node)
{
    if (node)
        *node = FL_NONE;
    if (!m || !name)
        return NULL;
    for (size_t i = 0; i < m->n_controls; i++)
        if (!strcmp(m->controls[i].name, name))
            return &m->controls[i];
    for (size_t i = 0; i < m->n_nodes; i++)
        for (size_t k = 0; k < m->nodes[i].n_controls; k++)
            if (!strcmp(m->nodes[i].controls[k].name, name)) {
                if (node)
                    *node = (uint32_t)i;
                return &m->nodes[i].controls[k];
            }
    return NULL;
}

void fl_model_free(struct fl_model *m)
{
    size_t i;
    if (!m)
        return;
    for (i = 0; i < m->n_nodes; i++) {
        struct fl_node *n = &m->nodes[i];
        free(n->id);
        free(n->name);
        free(n->documentation);
        free(n->lane);
        free(n->incoming);
        free(n->outgoing);
        stage_free(n->stage);
        free(n->job_type);
        fl_feel_free(n->script);
        free(n->result_variable);
        if (n->timer)
            free(n->timer->text);
        free(n->timer);
        free(n->boundaries);
        fl_control_defs_free(n->controls, n->n_controls);
        event_def_free(n->event);
        free(n->children);
        free(n->event_starts);
        call_def_free(n->call);
        loop_def_free(n->loop);
        fl_mappings_free(n->inputs, n->n_inputs);
        fl_mappings_free(n->outputs, n->n_outputs);
        free(n->decision_ref);
        for (size_t k = 0; k < n->n_job_headers; k++) {
            free(n->job_headers[k].key);
            free(n->job_headers[k].value);
        }
        free(n->job_headers);
        free(n->decision_map);
    }
    free(m->top);
    free(m->event_starts);
    free(m->message_starts);
    fl_control_defs_free(m->controls, m->n_controls);
    free(m->nodes);
    free(m->timer_starts);
    for (i = 0; i < m->n_flows; i++) {
        free(m->flows[i].id);
        free(m->flows[i].name);
        fl_feel_free(m->flows[i].condition);
    }
    free(m->flows);
    for (i = 0; i < m->n_warnings; i++) {
        free(m->warnings[i].element);
        free(m->warnings[i].message);
    }
    free(m->warnings);
    free(m->key);
    free(m->name);
    free(m->documentation);
    free(m);
}

void fl_bpmn_doc_free(struct fl_bpmn_doc *doc)
{
    size_t i;
    if (!doc)
        return;
    for (i = 0; i < doc->n_processes; i++)
        fl_model_free(doc->processes[i]);
    free(doc->processes);
    free(doc);
}

struct fl_model *fl_bpmn_doc_take(struct fl_bpmn_doc *doc, size_t i)
{
    struct fl_model *m;
    if (!doc || i >= doc->n_processes)
        return NULL;
    m = doc->processes[i];
    doc->processes[i] = NULL; /* fl_model_free(NULL) is a no-op, so the doc stays freeable */
    return m;
}

uint32_t fl_model_find_node(const struct fl_model *m, const char *id)
{
    size_t i;
    /* linear: models are small and this is for tools and tests, not the engine's hot path */
    for (i = 0; i < m->n_nodes; i++)
        if (!strcmp(m->nodes[i].id, id))
            return (uint32_t)i;
    return FL_NONE;
}

const char *fl_node_kind_name(enum fl_node_kind k)
{
    static const char *const names[FL__NODE_KIND_COUNT] = {
        [FL_NODE_START_EVENT] = "startEvent",
        [FL_NODE_END_EVENT] = "endEvent",
        [FL_NODE_TERMINATE_END] = "endEvent",
        [FL_NODE_TASK] = "task",
        [FL_NODE_USER_TASK] = "userTask",
        [FL_NODE_MANUAL_TASK] = "manualTask",
        [FL_NODE_SERVICE_TASK] = "serviceTask",
        [FL_NODE_SCRIPT_TASK] = "scriptTask",
        [FL_NODE_EXCLUSIVE_GW] = "exclusiveGateway",
        [FL_NODE_PARALLEL_GW] = "parallelGateway",
        [FL_NODE_TIMER_START] = "startEvent",
        [FL_NODE_TIMER_CATCH] = "intermediateCatchEvent",
        [FL_NODE_TIMER_BOUNDARY] = "boundaryEvent",
        [FL_NODE_SUB_PROCESS] = "subProcess",
        [FL_NODE_EVENT_SUB_PROCESS] = "subProcess",
        [FL_NODE_CALL_ACTIVITY] = "callActivity",
        [FL_NODE_RECEIVE_TASK] = "receiveTask",
        [FL_NODE_SEND_TASK] = "sendTask",
        [FL_NODE_BUSINESS_RULE_TASK] = "businessRuleTask",
        [FL_NODE_INCLUSIVE_GW] = "inclusiveGateway",
        [FL_NODE_EVENT_GW] = "eventBasedGateway",
        [FL_NODE_CATCH_EVENT] = "intermediateCatchEvent",
        [FL_NODE_THROW_EVENT] = "intermediateThrowEvent",
        [FL_NODE_BOUNDARY_EVENT] = "boundaryEvent",
        [FL_NODE_EVENT_START] = "startEvent",
        [FL_NODE_EVENT_END] = "endEvent",
    };
    if ((unsigned)k >= FL__NODE_KIND_COUNT)
        return "unknown";
    return names[k];
}
