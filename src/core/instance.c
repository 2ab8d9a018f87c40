/* A process instance as the engine holds it: lifecycle (clone, free) and the token list
 * helpers the commands use. Tokens are kept in the order they came to rest, which makes
 * joins consume the oldest waiting token of each flow and keeps every run deterministic. */
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "flowd/alloc.h"

struct fl_instance *fl_instance_clone(const struct fl_instance *inst)
{
    struct fl_instance *c = fl_malloc(sizeof(*c));
    *c = *inst;
    c->business_key = fl_strdup(inst->business_key);
    c->started_by = fl_strdup(inst->started_by);
    /* Values are immutable, so the copy shares the variables; writers copy on write. */
    c->variables = fl_value_ref(inst->variables);
    c->tokens = NULL;
    c->cap_tokens = 0;
    if (inst->n_tokens) {
        c->tokens = fl_reallocarray(NULL, inst->n_tokens, sizeof(*c->tokens));
        memcpy(c->tokens, inst->tokens, inst->n_tokens * sizeof(*c->tokens));
        c->cap_tokens = inst->n_tokens;
    }
    c->timers = NULL;
    c->cap_timers = 0;
    if (inst->n_timers) {
        c->timers = fl_reallocarray(NULL, inst->n_timers, sizeof(*c->timers));
        memcpy(c->timers, inst->timers, inst->n_timers * sizeof(*c->timers));
        c->cap_timers = inst->n_timers;
    }
    c->controls = NULL;
    c->cap_controls = 0;
    if (inst->n_controls) {
        c->controls = fl_reallocarray(NULL, inst->n_controls, sizeof(*c->controls));
        for (size_t i = 0; i < inst->n_controls; i++) {
            c->controls[i] = inst->controls[i];
            c->controls[i].name = fl_strdup(inst->controls[i].name);
        }
        c->cap_controls = inst->n_controls;
    }
    c->locals = NULL;
    c->cap_locals = 0;
    if (inst->n_locals) {
        c->locals = fl_reallocarray(NULL, inst->n_locals, sizeof(*c->locals));
        for (size_t i = 0; i < inst->n_locals; i++) {
            c->locals[i].scope = inst->locals[i].scope;
            c->locals[i].vars = fl_value_ref(inst->locals[i].vars);
        }
        c->cap_locals = inst->n_locals;
    }
    c->subs = NULL;
    c->cap_subs = 0;
    if (inst->n_subs) {
        c->subs = fl_reallocarray(NULL, inst->n_subs, sizeof(*c->subs));
        for (size_t i = 0; i < inst->n_subs; i++) {
            c->subs[i] = inst->subs[i];
            c->subs[i].name = fl_strdup(inst->subs[i].name);
            c->subs[i].correlation_key = fl_strdup(inst->subs[i].correlation_key);
        }
        c->cap_subs = inst->n_subs;
    }
    c->comps = NULL;
    c->cap_comps = 0;
    if (inst->n_comps) {
        c->comps = fl_reallocarray(NULL, inst->n_comps, sizeof(*c->comps));
        memcpy(c->comps, inst->comps, inst->n_comps * sizeof(*c->comps));
        c->cap_comps = inst->n_comps;
    }
    return c;
}

void fl_instance_free(struct fl_instance *inst)
{
    if (!inst)
        return;
    free(inst->business_key);
    free(inst->started_by);
    fl_value_unref(inst->variables);
    free(inst->tokens);
    free(inst->timers);
    for (size_t i = 0; i < inst->n_controls; i++)
        free(inst->controls[i].name);
    free(inst->controls);
    for (size_t i = 0; i < inst->n_locals; i++)
        fl_value_unref(inst->locals[i].vars);
    free(inst->locals);
    for (size_t i = 0; i < inst->n_subs; i++) {
        free(inst->subs[i].name);
        free(inst->subs[i].correlation_key);
    }
    free(inst->subs);
    free(inst->comps);
    free(inst);
}

size_t fl__inst_find_task(const struct fl_instance *inst, uint64_t task_id)
{
    if (!task_id)
        return SIZE_MAX;
    for (size_t i = 0; i < inst->n_tokens; i++)
        if (inst->tokens[i].task_id == task_id)
            return i;
    return SIZE_MAX;
}

size_t fl__inst_find_job(const struct fl_instance *inst, uint64_t job_id)
{
    if (!job_id)
        return SIZE_MAX;
    for (size_t i = 0; i < inst->n_tokens; i++)
        if (inst->tokens[i].job_id == job_id)
            return i;
    return SIZE_MAX;
}

void fl__inst_add_token(struct fl_instance *inst, const struct fl_token *t)
{
    fl_grow(&inst->tokens, &inst->cap_tokens, inst->n_tokens + 1, sizeof(*inst->tokens));
    inst->tokens[inst->n_tokens++] = *t;
}

void fl__inst_remove_token(struct fl_instance *inst, size_t i)
{
    memmove(&inst->tokens[i], &inst->tokens[i + 1],
            (inst->n_tokens - i - 1) * sizeof(*inst->tokens));
    inst->n_tokens--;
}
