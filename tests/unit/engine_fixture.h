/* Test fixture for the engine tests: builds process models by hand (nodes, flows, FEEL
 * conditions, stages) without the BPMN reader, a deterministic id allocator, and helpers to
 * look at the effects of a command. Included by tests/unit/test_engine*.c only. */
#ifndef FLOWD_TESTS_ENGINE_FIXTURE_H
#define FLOWD_TESTS_ENGINE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flowd/alloc.h"
#include "flowd/engine.h"
#include "flowd/feel.h"
#include "flowd/model.h"
#include "flowd/value.h"

#define T_NOW 1795431600000LL /* 2026-11-23T11:00:00Z */
#define T_DAY 86400000LL
#define T_HOUR 3600000LL

/* ---- model builder ---- */

static inline struct fl_model *mb_new(const char *key)
{
    struct fl_model *m = fl_calloc(1, sizeof(*m));
    m->key = fl_strdup(key);
    m->start = FL_NONE;
    return m;
}

static inline uint32_t mb_node(struct fl_model *m, enum fl_node_kind kind, const char *id)
{
    struct fl_node *n;
    m->nodes = fl_reallocarray(m->nodes, m->n_nodes + 1, sizeof(*m->nodes));
    n = &m->nodes[m->n_nodes];
    memset(n, 0, sizeof(*n));
    n->kind = kind;
    n->id = fl_strdup(id);
    n->default_flow = FL_NONE;
    n->job_retries = 3;
    if (kind == FL_NODE_USER_TASK)
        n->stage = fl_calloc(1, sizeof(*n->stage));
    if (kind == FL_NODE_START_EVENT && m->start == FL_NONE)
        m->start = (uint32_t)m->n_nodes;
    return (uint32_t)m->n_nodes++;
}

static inline struct fl_feel_expr *mb_feel(const char *src)
{
    struct fl_feel_expr *e = NULL;
    struct fl_error err;
    fl_error_clear(&err);
    if (fl_feel_compile(src, strlen(src), &e, &err) != 0)
        fail_msg("cannot compile '%s': %s", src, err.msg);
    return e;
}

/* A flow from a to b; cond is FEEL source or NULL. Returns the flow index. */
static inline uint32_t mb_flow(struct fl_model *m, const char *id, uint32_t a, uint32_t b,
                               const char *cond)
{
    struct fl_flow *f;
    struct fl_node *src, *dst;
    uint32_t fi = (uint32_t)m->n_flows;

    m->flows = fl_reallocarray(m->flows, m->n_flows + 1, sizeof(*m->flows));
    f = &m->flows[m->n_flows++];
    memset(f, 0, sizeof(*f));
    f->id = fl_strdup(id);
    f->source = a;
    f->target = b;
    f->condition = cond ? mb_feel(cond) : NULL;
    src = &m->nodes[a];
    dst = &m->nodes[b];
    src->outgoing = fl_reallocarray(src->outgoing, src->n_outgoing + 1, sizeof(uint32_t));
    src->outgoing[src->n_outgoing++] = fi;
    dst->incoming = fl_reallocarray(dst->incoming, dst->n_incoming + 1, sizeof(uint32_t));
    dst->incoming[dst->n_incoming++] = fi;
    return fi;
}

static inline void mb_strlist(struct fl_strlist *l, const char *s)
{
    l->items = fl_reallocarray(l->items, l->n + 1, sizeof(char *));
    l->items[l->n++] = fl_strdup(s);
}

static inline void mb_strlist_free(struct fl_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
}

static inline void mb_free(struct fl_model *m)
{
    for (size_t i = 0; i < m->n_nodes; i++) {
        struct fl_node *n = &m->nodes[i];
        struct fl_stage *s = n->stage;
        free(n->id);
        free(n->name);
        free(n->lane);
        free(n->incoming);
        free(n->outgoing);
        free(n->job_type);
        free(n->result_variable);
        fl_feel_free(n->script);
        if (s) {
            free(s->duration);
            free(s->remind_before);
            free(s->main_action_kind);
            free(s->assignee);
            free(s->due_date);
            free(s->accountable);
            free(s->calendar);
            for (size_t k = 0; k < s->n_escalations; k++) {
                free(s->escalations[k].after);
                mb_strlist_free(&s->escalations[k].to);
            }
            free(s->escalations);
            mb_strlist_free(&s->responsible);
            mb_strlist_free(&s->candidate_groups);
            mb_strlist_free(&s->candidate_users);
            free(s);
        }
    }
    for (size_t i = 0; i < m->n_flows; i++) {
        free(m->flows[i].id);
        fl_feel_free(m->flows[i].condition);
    }
    free(m->nodes);
    free(m->flows);
    free(m->key);
    free(m);
}

/* ---- ids and context ---- */

/* Ids by kind: instance 1001.., token 2001.., task 3001.., job 4001.., incident 5001.. */
struct t_ids {
    uint64_t n[FL__ID_COUNT];
};

static inline uint64_t t_next_id(void *arg, enum fl_id_kind kind)
{
    struct t_ids *ids = arg;
    return (uint64_t)(kind + 1) * 1000 + ++ids->n[kind];
}

struct t_env {
    struct fl_model *m;
    struct t_ids ids;
    struct fl_engine_ctx ctx;
    struct fl_effects fx;
    struct fl_instance *inst;
    struct fl_error err;
};

static inline void t_env_init(struct t_env *t, struct fl_model *m)
{
    memset(t, 0, sizeof(*t));
    t->m = m;
    t->ctx.now_ms = T_NOW;
    t->ctx.next_id = t_next_id;
    t->ctx.id_arg = &t->ids;
    fl_effects_init(&t->fx);
}

static inline void t_env_release(struct t_env *t)
{
    fl_instance_free(t->inst);
    fl_effects_release(&t->fx);
    mb_free(t->m);
}

static inline struct fl_value *t_json(const char *text)
{
    struct fl_value *v = NULL;
    struct fl_error err;
    if (fl_value_from_json(text, strlen(text), &v, &err) != 0)
        fail_msg("bad test json '%s': %s", text, err.msg);
    return v;
}

/* Start with variables given as JSON (or NULL); asserts success. */
static inline void t_start(struct t_env *t, const char *vars_json)
{
    struct fl_value *vars = vars_json ? t_json(vars_json) : NULL;
    struct fl_command cmd = {.kind = FL_CMD_START, .variables = vars, .actor = "alice"};
    fl_effects_reset(&t->fx);
    fl_error_clear(&t->err);
    int rc = fl_engine_start(t->m, 7, &cmd, &t->ctx, &t->inst, &t->fx, &t->err);
    fl_value_unref(vars);
    if (rc != 0)
        fail_msg("start failed: %s", t->err.msg);
}

/* Apply a command after resetting the effects; returns the engine's result. */
static inline int t_apply(struct t_env *t, const struct fl_command *cmd)
{
    fl_effects_reset(&t->fx);
    fl_error_clear(&t->err);
    return fl_engine_apply(t->m, t->inst, cmd, &t->ctx, &t->fx, &t->err);
}

static inline int t_complete(struct t_env *t, uint64_t task_id, const char *vars_json)
{
    struct fl_value *vars = vars_json ? t_json(vars_json) : NULL;
    struct fl_command cmd = {
        .kind = FL_CMD_COMPLETE_TASK, .target_id = task_id, .variables = vars, .actor = "bob"};
    int rc = t_apply(t, &cmd);
    fl_value_unref(vars);
    return rc;
}

/* ---- looking at effects ---- */

static inline size_t fx_count(const struct fl_effects *fx, enum fl_effect_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < fx->n; i++)
        n += fx->items[i].kind == k;
    return n;
}

/* The i-th effect of kind k (0-based), or NULL. */
static inline const struct fl_effect *fx_nth(const struct fl_effects *fx, enum fl_effect_kind k,
                                             size_t i)
{
    for (size_t j = 0; j < fx->n; j++)
        if (fx->items[j].kind == k && i-- == 0)
            return &fx->items[j];
    return NULL;
}

/* The i-th event of type ty, or NULL. */
static inline const struct fl_event *ev_nth(const struct fl_effects *fx, enum fl_event_type ty,
                                            size_t i)
{
    for (size_t j = 0; j < fx->n; j++)
        if (fx->items[j].kind == FL_FX_EVENT && fx->items[j].u.event.type == ty && i-- == 0)
            return &fx->items[j].u.event;
    return NULL;
}

static inline size_t ev_count(const struct fl_effects *fx, enum fl_event_type ty)
{
    size_t n = 0;
    while (ev_nth(fx, ty, n))
        n++;
    return n;
}

/* Id of the task created by the i-th TASK_CREATE effect (fails if absent). */
static inline uint64_t fx_task(const struct fl_effects *fx, size_t i)
{
    const struct fl_effect *e = fx_nth(fx, FL_FX_TASK_CREATE, i);
    if (!e)
        fail_msg("no task created #%zu", i);
    return e->u.task.id;
}

static inline const struct fl_task *fx_task_of(const struct fl_effects *fx, size_t i)
{
    const struct fl_effect *e = fx_nth(fx, FL_FX_TASK_CREATE, i);
    if (!e)
        fail_msg("no task created #%zu", i);
    return &e->u.task;
}

/* Index of node id in m (the BPMN reader's finder lives on another branch). */
static inline uint32_t t_node(const struct fl_model *m, const char *id)
{
    for (size_t i = 0; i < m->n_nodes; i++)
        if (strcmp(m->nodes[i].id, id) == 0)
            return (uint32_t)i;
    fail_msg("no node '%s'", id);
    return FL_NONE;
}

/* The resting token at node id (first one), or NULL. */
static inline const struct fl_token *inst_token_at(const struct t_env *t, const char *node_id)
{
    uint32_t n = t_node(t->m, node_id);
    for (size_t i = 0; i < t->inst->n_tokens; i++)
        if (t->inst->tokens[i].node == n)
            return &t->inst->tokens[i];
    return NULL;
}

#endif
