/* Model builders shared by the engine tests of events (errors, escalations, conditional
 * events, compensation): event nodes with their definitions, boundary events attached to
 * activities, event subprocesses and scopes, and the release of what they allocate.
 * Included by tests/unit/test_engine_errors.c and test_engine_compensate.c only. */
#ifndef FLOWD_TESTS_ERRORS_FIXTURE_H
#define FLOWD_TESTS_ERRORS_FIXTURE_H

#include "engine_fixture.h"

/* ---- model helpers ---- */

static inline uint32_t ev_node(struct fl_model *m, enum fl_node_kind kind, const char *id,
                        enum fl_trigger trigger, const char *name)
{
    uint32_t i = mb_node(m, kind, id);
    struct fl_node *n = &m->nodes[i];
    n->scope = FL_NONE;
    n->attached_to = FL_NONE;
    n->compensation = FL_NONE;
    n->sub_start = FL_NONE;
    n->interrupting = true;
    if (trigger != FL_TRIGGER_NONE) {
        n->event = fl_calloc(1, sizeof(*n->event));
        n->event->trigger = trigger;
        n->event->name = name ? fl_strdup(name) : NULL;
        n->event->activity_ref = FL_NONE;
        n->event->link_target = FL_NONE;
        n->event->wait_for_completion = true;
    }
    return i;
}

static inline uint32_t node(struct fl_model *m, enum fl_node_kind kind, const char *id)
{
    uint32_t i = ev_node(m, kind, id, FL_TRIGGER_NONE, NULL);
    if (kind == FL_NODE_SERVICE_TASK)
        m->nodes[i].job_type = fl_strdup("work");
    return i;
}

static inline void attach(struct fl_model *m, uint32_t b, uint32_t a, bool interrupting)
{
    struct fl_node *act = &m->nodes[a];
    m->nodes[b].attached_to = a;
    m->nodes[b].cancel_activity = interrupting;
    act->boundaries =
        fl_reallocarray(act->boundaries, act->n_boundaries + 1, sizeof(*act->boundaries));
    act->boundaries[act->n_boundaries++] = b;
}

static inline void add_u32(uint32_t **arr, size_t *n, uint32_t v)
{
    *arr = fl_reallocarray(*arr, *n + 1, sizeof(**arr));
    (*arr)[(*n)++] = v;
}

/* Event subprocess `esp` at process level with start event `start` inside it. */
static inline void esp_at_top(struct fl_model *m, uint32_t esp, uint32_t start, bool interrupting)
{
    size_t n = m->nodes[esp].n_children;
    m->nodes[start].scope = esp;
    m->nodes[start].interrupting = interrupting;
    add_u32(&m->nodes[esp].children, &n, start);
    m->nodes[esp].n_children = (uint32_t)n;
    add_u32(&m->event_starts, &m->n_event_starts, start);
}

static inline void in_scope(struct fl_model *m, uint32_t child, uint32_t scope)
{
    size_t n = m->nodes[scope].n_children;
    m->nodes[child].scope = scope;
    add_u32(&m->nodes[scope].children, &n, child);
    m->nodes[scope].n_children = (uint32_t)n;
}

static inline void release(struct t_env *t)
{
    for (size_t i = 0; i < t->m->n_nodes; i++) {
        struct fl_node *n = &t->m->nodes[i];
        if (n->event) {
            free(n->event->name);
            free(n->event->correlation_key);
            free(n->event->code_variable);
            free(n->event->message_variable);
            free(n->event->message);
            fl_feel_free(n->event->condition);
            free(n->event);
        }
        free(n->boundaries);
        free(n->children);
        free(n->event_starts);
    }
    free(t->m->event_starts);
    t_env_release(t);
}

#endif
