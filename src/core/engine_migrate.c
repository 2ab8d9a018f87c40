/* Instance migration: an instance of one version of a process moves to another version
 * (or another definition). Every resting token is mapped to a node of the new model --
 * by an explicit pair naming its element, else by the element of the same id -- and the
 * work it holds (task, job, incident, timers, subscriptions) stays with it under the
 * same ids. The whole mapping is computed and checked before anything changes, so a
 * migration that cannot place one token is refused as a whole, naming the element. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "flowd/alloc.h"

/* What happens to one pending timer of the instance. */
enum timer_fate { TIMER_KEEP, TIMER_MOVE, TIMER_DROP };

/* A boundary timer the new model has and the old one did not arm for a token. */
struct new_arm {
    uint64_t token_id;
    uint32_t node;
    int64_t due;
    uint32_t repeat;
};

/* The migration computed and checked: what each token, timer and subscription becomes. */
struct plan {
    uint32_t *node; /* per token: node in the new model */
    uint32_t *flow; /* per token: flow in the new model (JOINING), else FL_NONE */
    uint8_t *timer_fate;
    uint32_t *timer_node; /* per timer: node in the new model (TIMER_MOVE) */
    uint32_t *sub_node;   /* per subscription: node in the new model */
    uint32_t *comp_node;  /* per compensation record: its activity in the new model */
    struct new_arm *arms;
    size_t n_arms, cap_arms;
};

static void plan_release(struct plan *p)
{
    free(p->node);
    free(p->flow);
    free(p->timer_fate);
    free(p->timer_node);
    free(p->sub_node);
    free(p->comp_node);
    free(p->arms);
}

static const char *key_of(const struct fl_model *m)
{
    return m->key ? m->key : "";
}

static int refuse_at(struct fl_error *err, const struct fl_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* FL_EINVAL with the element of the old model at fault. */
static int refuse_at(struct fl_error *err, const struct fl_node *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fl_error_setv(err, FL_EINVAL, fmt, ap);
    va_end(ap);
    if (at)
        fl_error_at(err, at->id, at->line, at->column);
    return FL_EINVAL;
}

/* The pair whose `from` is id, or NULL. */
static const struct fl_migration_pair *pair_of(const struct fl_migration_pair *pairs, size_t n,
                                               const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (pairs[i].from && !strcmp(pairs[i].from, id))
            return &pairs[i];
    return NULL;
}

/* The pairs must name elements of both models, each source once. */
static int check_pairs(const struct fl_model *from, const struct fl_model *to,
                       const struct fl_migration_pair *pairs, size_t n, struct fl_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *a = pairs[i].from, *b = pairs[i].to;
        if (!a || !*a || !b || !*b)
            return fl_error_set(err, FL_EINVAL, "mapping %zu needs both 'from' and 'to'", i + 1);
        if (fl_model_find_node(from, a) == FL_NONE) {
            bool flow = false;
            for (size_t f = 0; f < from->n_flows && !flow; f++)
                flow = !strcmp(from->flows[f].id, a);
            if (!flow)
                return fl_error_set(err, FL_EINVAL,
                                    "mapping from '%s': process '%s' has no element '%s'", a,
                                    key_of(from), a);
        }
        if (fl_model_find_node(to, b) == FL_NONE) {
            bool flow = false;
            for (size_t f = 0; f < to->n_flows && !flow; f++)
                flow = !strcmp(to->flows[f].id, b);
            if (!flow)
                return fl_error_set(err, FL_EINVAL,
                                    "mapping to '%s': the new version of '%s' has no element '%s'",
                                    b, key_of(to), b);
        }
        for (size_t j = 0; j < i; j++)
            if (pairs[j].from && !strcmp(pairs[j].from, a))
                return fl_error_set(err, FL_EINVAL, "element '%s' is mapped twice", a);
    }
    return 0;
}

/* The id an old element has in the new model: its pair's target, else its own. */
static const char *target_id(const struct fl_migration_pair *pairs, size_t n, const char *id)
{
    const struct fl_migration_pair *p = pair_of(pairs, n, id);
    return p ? p->to : id;
}

/* Node of the new model for node i of the old one, or FL_NONE. */
static uint32_t map_node(const struct fl_model *from, const struct fl_model *to,
                         const struct fl_migration_pair *pairs, size_t n, uint32_t i)
{
    if (i >= from->n_nodes)
        return FL_NONE;
    return fl_model_find_node(to, target_id(pairs, n, from->nodes[i].id));
}

/* Node i of the old model mapped to a node of the same kind in the new one. */
static int map_same_kind(const struct fl_model *from, const struct fl_model *to,
                         const struct fl_migration_pair *pairs, size_t n, uint32_t i, const char *what,
                         uint32_t *out, struct fl_error *err)
{
    const struct fl_node *o, *nn;
    const char *tid;
    uint32_t j;

    if (i >= from->n_nodes)
        return fl_error_set(err, FL_EINVAL, "%s is at node %u, not in process '%s'", what, i,
                            key_of(from));
    o = &from->nodes[i];
    tid = target_id(pairs, n, o->id);
    j = fl_model_find_node(to, tid);

    if (j == FL_NONE)
        return refuse_at(err, o,
                         "%s at '%s' (%s) cannot be migrated: the new version of '%s' has no "
                         "element '%s' and no mapping names another",
                         what, o->id, fl_node_kind_name(o->kind), key_of(to), tid);
    nn = &to->nodes[j];
    if (nn->kind != o->kind)
        return refuse_at(err, o,
                         "%s at '%s' (%s) cannot be migrated to '%s': it is a %s in the new "
                         "version",
                         what, o->id, fl_node_kind_name(o->kind), nn->id,
                         fl_node_kind_name(nn->kind));
    *out = j;
    return 0;
}

/* Flow of the new model a joining token's arrival flow f becomes: mapped or same id, and
 * still an incoming flow of the join it now waits at. */
static int map_join_flow(const struct fl_model *from, const struct fl_model *to,
                         const struct fl_migration_pair *pairs, size_t n, const struct fl_token *t,
                         uint32_t join, uint32_t *out, struct fl_error *err)
{
    const struct fl_node *o = &from->nodes[t->node];
    const char *fid, *tid;
    if (t->flow >= from->n_flows)
        return refuse_at(err, o, "token %llu joining at '%s' has no arrival flow",
                         (unsigned long long)t->id, o->id);
    fid = from->flows[t->flow].id;
    tid = target_id(pairs, n, fid);
    for (uint32_t i = 0; i < to->nodes[join].n_incoming; i++) {
        uint32_t f = to->nodes[join].incoming[i];
        if (!strcmp(to->flows[f].id, tid)) {
            *out = f;
            return 0;
        }
    }
    return refuse_at(err, o,
                     "token %llu joining at '%s' arrived by flow '%s', which is not an incoming "
                     "flow of '%s' in the new version",
                     (unsigned long long)t->id, o->id, tid, to->nodes[join].id);
}

/* The token must sit in the same nesting in the new model: inside the node its scope token
 * maps to (or at process level), or, for a multi-instance inner token, at its body's node. */
static int check_nesting(const struct fl_model *from, const struct fl_model *to,
                         const struct fl_instance *inst, const struct plan *p, size_t i,
                         struct fl_error *err)
{
    const struct fl_token *t = &inst->tokens[i];
    const struct fl_node *o = &from->nodes[t->node];
    uint32_t want = FL_NONE, got = to->nodes[p->node[i]].scope;
    size_t s;

    if (t->scope) {
        if ((s = fl__inst_find_token(inst, t->scope)) == SIZE_MAX)
            return refuse_at(err, o, "token %llu at '%s' runs in scope %llu, which is not resting",
                             (unsigned long long)t->id, o->id, (unsigned long long)t->scope);
        if (inst->tokens[s].node == t->node) {
            if (p->node[s] != p->node[i])
                return refuse_at(err, o,
                                 "token %llu at '%s' must move with its multi-instance body",
                                 (unsigned long long)t->id, o->id);
            return 0;
        }
        want = p->node[s];
    }
    if (got != want)
        return refuse_at(err, o,
                         "'%s' cannot be migrated to '%s': it runs %s%s%s in the old version "
                         "and would run %s%s%s in the new one",
                         o->id, to->nodes[p->node[i]].id, want == FL_NONE ? "at process level" : "in '",
                         want == FL_NONE ? "" : to->nodes[want].id, want == FL_NONE ? "" : "'",
                         got == FL_NONE ? "at process level" : "in '",
                         got == FL_NONE ? "" : to->nodes[got].id, got == FL_NONE ? "" : "'");
    return 0;
}

/* Tokens: node, arrival flow and kind-specific needs of the work they hold. */
static int plan_tokens(const struct fl_model *from, const struct fl_model *to,
                       const struct fl_instance *inst, const struct fl_migration_pair *pairs,
                       size_t n_pairs, struct plan *p, struct fl_error *err)
{
    int rc;
    for (size_t i = 0; i < inst->n_tokens; i++) {
        const struct fl_token *t = &inst->tokens[i];
        const struct fl_node *o, *nn;
        char what[48];

        if (t->node >= from->n_nodes)
            return fl_error_set(err, FL_EINVAL, "token %llu is at node %u, not in process '%s'",
                                (unsigned long long)t->id, t->node, key_of(from));
        o = &from->nodes[t->node];
        snprintf(what, sizeof(what), "token %llu", (unsigned long long)t->id);
        if ((rc = map_same_kind(from, to, pairs, n_pairs, t->node, what, &p->node[i], err)) < 0)
            return rc;
        nn = &to->nodes[p->node[i]];
        p->flow[i] = FL_NONE;
        if (t->state == FL_TOKEN_JOINING &&
            (rc = map_join_flow(from, to, pairs, n_pairs, t, p->node[i], &p->flow[i], err)) < 0)
            return rc;
        /* Same kind, but the work must still make sense there. */
        if (t->job_id && !nn->job_type)
            return refuse_at(err, o, "'%s' holds job %llu but '%s' in the new version has no job type",
                             o->id, (unsigned long long)t->job_id, nn->id);
        if (t->mi_body && !(nn->loop && nn->loop->multi))
            return refuse_at(err, o,
                             "'%s' runs a multi-instance body but '%s' in the new version is "
                             "not multi-instance",
                             o->id, nn->id);
        if (t->state == FL_TOKEN_SCOPE && !t->mi_body && !t->call_id &&
            (o->kind == FL_NODE_SUB_PROCESS) && nn->transaction != o->transaction)
            return refuse_at(err, o, "'%s' cannot be migrated to '%s': a transaction and a "
                                     "subprocess do not map onto each other",
                             o->id, nn->id);
    }
    for (size_t i = 0; i < inst->n_tokens; i++)
        if ((rc = check_nesting(from, to, inst, p, i, err)) < 0)
            return rc;
    return 0;
}

static void add_arm(struct plan *p, uint64_t token_id, uint32_t node, int64_t due, uint32_t repeat)
{
    fl_grow(&p->arms, &p->cap_arms, p->n_arms + 1, sizeof(*p->arms));
    p->arms[p->n_arms].token_id = token_id;
    p->arms[p->n_arms].node = node;
    p->arms[p->n_arms].due = due;
    p->arms[p->n_arms].repeat = repeat;
    p->n_arms++;
}

/* Timers: a catch event's and a task's own timers follow their token; a boundary timer
 * stays (with its due time) when its boundary event maps to a timer boundary of the task
 * the token now rests at, else it goes; timer boundaries the new task has and nothing
 * kept are armed as if the token had just arrived. */
static int plan_timers(const struct fl_model *from, const struct fl_model *to,
                       const struct fl_instance *inst, const struct fl_engine_ctx *ctx,
                       const struct fl_migration_pair *pairs, size_t n_pairs, struct plan *p,
                       struct fl_error *err)
{
    for (size_t i = 0; i < inst->n_timers; i++) {
        const struct fl_timer *t = &inst->timers[i];
        size_t k = t->token_id ? fl__inst_find_token(inst, t->token_id) : SIZE_MAX;
        p->timer_fate[i] = TIMER_KEEP;
        p->timer_node[i] = t->node;
        if (t->node == FL_NONE || t->kind == FL_TIMER_CONTROL_REMIND ||
            t->kind == FL_TIMER_CONTROL_DUE || t->kind == FL_TIMER_START)
            continue; /* not tied to a node */
        if (k == SIZE_MAX) {
            p->timer_fate[i] = TIMER_DROP; /* stale: its token moved on */
            continue;
        }
        if (t->node == inst->tokens[k].node) {
            p->timer_fate[i] = TIMER_MOVE; /* the token's own: catch event, task deadline */
            p->timer_node[i] = p->node[k];
            continue;
        }
        /* A boundary event of the token's task. */
        uint32_t b = map_node(from, to, pairs, n_pairs, t->node);
        if (b != FL_NONE && to->nodes[b].kind == FL_NODE_TIMER_BOUNDARY &&
            to->nodes[b].attached_to == p->node[k]) {
            p->timer_fate[i] = TIMER_MOVE;
            p->timer_node[i] = b;
        } else {
            p->timer_fate[i] = TIMER_DROP;
        }
    }
    for (size_t k = 0; k < inst->n_tokens; k++) {
        const struct fl_token *tok = &inst->tokens[k];
        const struct fl_node *task = &to->nodes[p->node[k]];
        if (tok->state != FL_TOKEN_WAITING)
            continue; /* boundary timers belong to a task that is waited at */
        for (uint32_t j = 0; j < task->n_boundaries; j++) {
            uint32_t b = task->boundaries[j];
            const struct fl_node *bn = &to->nodes[b];
            bool armed = false;
            char why[400];
            int64_t due = 0;
            uint32_t repeat = 0;
            int rc;
            if (bn->kind != FL_NODE_TIMER_BOUNDARY)
                continue;
            for (size_t i = 0; i < inst->n_timers && !armed; i++)
                armed = p->timer_fate[i] == TIMER_MOVE && inst->timers[i].token_id == tok->id &&
                        p->timer_node[i] == b;
            if (armed)
                continue;
            rc = fl__timer_due(bn, inst->variables, ctx->now_ms, ctx->tz_offset_min, NULL, &due,
                               &repeat, why, sizeof(why));
            if (rc == FL_ENOTFOUND)
                continue;
            if (rc < 0) {
                fl_error_set(err, FL_EINVAL,
                             "timer of boundary event '%s' on '%s' cannot be armed: %s", bn->id,
                             task->id, why);
                fl_error_at(err, bn->id, bn->line, bn->column);
                return FL_EINVAL;
            }
            add_arm(p, tok->id, b, due, repeat);
        }
    }
    return 0;
}

/* Subscriptions move with the node they trigger. */
static int plan_subs(const struct fl_model *from, const struct fl_model *to,
                     const struct fl_instance *inst, const struct fl_migration_pair *pairs,
                     size_t n_pairs, struct plan *p, struct fl_error *err)
{
    for (size_t i = 0; i < inst->n_subs; i++) {
        int rc = map_same_kind(from, to, pairs, n_pairs, inst->subs[i].node, "subscription",
                               &p->sub_node[i], err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* A completed activity still owed compensation must keep its handler in the new version:
 * refusing is better than silently forgetting to undo work. */
static int plan_comps(const struct fl_model *from, const struct fl_model *to,
                      const struct fl_instance *inst, const struct fl_migration_pair *pairs,
                      size_t n_pairs, struct plan *p, struct fl_error *err)
{
    for (size_t i = 0; i < inst->n_comps; i++) {
        uint32_t j;
        int rc = map_same_kind(from, to, pairs, n_pairs, inst->comps[i].node,
                               "a compensation record", &p->comp_node[i], err);
        if (rc < 0)
            return rc;
        j = to->nodes[p->comp_node[i]].compensation;
        if (j >= to->n_nodes || !to->nodes[j].for_compensation)
            return refuse_at(err, &from->nodes[inst->comps[i].node],
                             "'%s' completed and awaits compensation, but '%s' in the new "
                             "version has no compensation handler",
                             from->nodes[inst->comps[i].node].id, to->nodes[p->comp_node[i]].id);
    }
    return 0;
}

/* Apply a checked plan: tokens, timers and subscriptions move, then the instance runs the
 * new definition. MIGRATE comes after the TOKEN_PUTs: the store takes the node ids of
 * tasks, jobs and incidents from the tokens it has just written. */
static void apply_plan(struct fl__run *r, const struct fl_model *from, uint64_t to_def_id,
                       const struct plan *p)
{
    struct fl_instance *inst = r->inst;
    uint64_t from_def = inst->definition_id;
    struct fl_effect *e;
    struct fl_buf *b;

    for (size_t i = 0; i < inst->n_tokens; i++) {
        inst->tokens[i].node = p->node[i];
        inst->tokens[i].flow = p->flow[i];
        e = fl__fx_push(r->fx, FL_FX_TOKEN_PUT);
        e->u.token = inst->tokens[i];
    }
    /* Moves first (by index), then drops from the back so indices stay valid. */
    for (size_t i = 0; i < inst->n_timers; i++)
        if (p->timer_fate[i] == TIMER_MOVE) {
            struct fl_timer t = inst->timers[i];
            t.node = p->timer_node[i];
            fl__run_timer_set(r, &t);
        }
    for (size_t i = inst->n_timers; i-- > 0;)
        if (p->timer_fate[i] == TIMER_DROP)
            fl__run_timer_del(r, i);
    for (size_t i = 0; i < p->n_arms; i++) {
        struct fl_timer t = {.id = fl__run_id(r, FL_ID_TIMER),
                             .instance_id = inst->id,
                             .token_id = p->arms[i].token_id,
                             .node = p->arms[i].node,
                             .kind = FL_TIMER_EVENT,
                             .repeat = p->arms[i].repeat,
                             .due_at = p->arms[i].due};
        fl__run_timer_set(r, &t);
    }
    for (size_t i = 0; i < inst->n_subs; i++) {
        struct fl_subscription *s = &inst->subs[i];
        /* The store keeps the node's index and id: rewritten when either changes. */
        if (s->node == p->sub_node[i] &&
            !strcmp(from->nodes[s->node].id, r->m->nodes[p->sub_node[i]].id))
            continue;
        /* Re-opened under the same id at its new node. */
        e = fl__fx_push(r->fx, FL_FX_SUB_CLOSE);
        e->u.sub.id = s->id;
        s->node = p->sub_node[i];
        e = fl__fx_push(r->fx, FL_FX_SUB_OPEN);
        e->u.sub = *s;
        e->u.sub.name = (char *)(uintptr_t)fl__fx_strdup(r->fx, s->name);
        e->u.sub.correlation_key = (char *)(uintptr_t)fl__fx_strdup(r->fx, s->correlation_key);
    }
    for (size_t i = 0; i < inst->n_comps; i++) {
        if (inst->comps[i].node == p->comp_node[i])
            continue;
        inst->comps[i].node = p->comp_node[i];
        fl__fx_push(r->fx, FL_FX_COMP_PUT)->u.comp = inst->comps[i];
    }
    inst->definition_id = to_def_id;
    e = fl__fx_push(r->fx, FL_FX_MIGRATE);
    e->u.migrate.definition_id = to_def_id;
    e->u.migrate.from_definition_id = from_def;
    b = fl__fx_scratch(r->fx);
    fl_buf_addf(b, "{\"from\":%llu,\"to\":%llu}", (unsigned long long)from_def,
                (unsigned long long)to_def_id);
    fl__run_event(r, FL_EV_INSTANCE_MIGRATED, 0, 0, NULL, fl__fx_scratch_keep(r->fx));
}

int fl_engine_migrate(const struct fl_model *from, const struct fl_model *to, uint64_t to_def_id,
                      struct fl_instance *inst, const struct fl_migration_pair *pairs,
                      size_t n_pairs, const struct fl_engine_ctx *ctx, const char *actor,
                      struct fl_effects *fx, struct fl_error *err)
{
    struct plan p = {0};
    struct fl__run r;
    int rc;

    if (!ctx || !ctx->next_id)
        return fl_error_set(err, FL_EINVAL, "engine context has no id allocator");
    if (!from || !to || !inst)
        return fl_error_set(err, FL_EINVAL, "migration needs both models and the instance");
    if (!to_def_id)
        return fl_error_set(err, FL_EINVAL, "migration needs the new definition's id");
    if (inst->status != FL_INSTANCE_ACTIVE)
        return fl_error_set(err, FL_ECONFLICT, "instance %llu is %s: only active instances migrate",
                            (unsigned long long)inst->id,
                            inst->status == FL_INSTANCE_COMPLETED ? "completed" : "cancelled");
    if ((rc = check_pairs(from, to, pairs, n_pairs, err)) < 0)
        return rc;
    p.node = fl_calloc(inst->n_tokens + 1, sizeof(*p.node));
    p.flow = fl_calloc(inst->n_tokens + 1, sizeof(*p.flow));
    p.timer_fate = fl_calloc(inst->n_timers + 1, sizeof(*p.timer_fate));
    p.timer_node = fl_calloc(inst->n_timers + 1, sizeof(*p.timer_node));
    p.sub_node = fl_calloc(inst->n_subs + 1, sizeof(*p.sub_node));
    p.comp_node = fl_calloc(inst->n_comps + 1, sizeof(*p.comp_node));
    if ((rc = plan_tokens(from, to, inst, pairs, n_pairs, &p, err)) < 0 ||
        (rc = plan_timers(from, to, inst, ctx, pairs, n_pairs, &p, err)) < 0 ||
        (rc = plan_subs(from, to, inst, pairs, n_pairs, &p, err)) < 0 ||
        (rc = plan_comps(from, to, inst, pairs, n_pairs, &p, err)) < 0)
        goto out;

    /* Checked: from here on nothing fails. */
    fl__run_init(&r, to, inst, ctx, fx, fl__fx_strdup(fx, actor));
    apply_plan(&r, from, to_def_id, &p);
    fl__run_release(&r);
    inst->revision++;
out:
    plan_release(&p);
    return rc;
}
