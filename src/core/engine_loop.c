/* Multi-instance and standard loops. A multi-instance activity entered from outside
 * becomes a body: a SCOPE token (mi_body) at the node whose locals count the instances
 * (nrOfInstances, nrOfActiveInstances, nrOfCompletedInstances) and hold the output
 * collection; each inner instance is a token at the same node inside the body, with its
 * own locals loopCounter and the input element. An inner instance that completes reports
 * to its body instead of taking the outgoing flows; the body leaves when all are done or
 * the completion condition holds. A standard loop runs the activity again with the same
 * token while its loop condition holds. */
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "flowd/alloc.h"
#include "flowd/feel.h"

#define MI_MAX_INSTANCES 100000 /* a cardinality past this is a modelling error */
/* The input collection of a sequential body, kept so every instance sees the collection
 * as it was when the body started; a name FEEL cannot write, so no model collides. */
#define MI_COLLECTION "flowd:inputCollection"

static const char *const NR_ALL = "nrOfInstances";
static const char *const NR_ACTIVE = "nrOfActiveInstances";
static const char *const NR_DONE = "nrOfCompletedInstances";

bool fl__mi_is_inner(const struct fl__run *r, const struct fl__mover *mv)
{
    size_t i;
    if (!mv->scope)
        return false;
    i = fl__inst_find_token(r->inst, mv->scope);
    return i != SIZE_MAX && r->inst->tokens[i].mi_body && r->inst->tokens[i].node == mv->node;
}

static void token_del(struct fl__run *r, uint64_t id)
{
    struct fl_effect *e = fl__fx_push(r->fx, FL_FX_TOKEN_DEL);
    e->u.token.id = id;
    e->u.token.node = FL_NONE;
    e->u.token.flow = FL_NONE;
}

static void token_put(struct fl__run *r, const struct fl_token *t)
{
    struct fl_effect *e = fl__fx_push(r->fx, FL_FX_TOKEN_PUT);
    e->u.token = *t;
}

static void set_int(struct fl_value *ctx, const char *name, int64_t n)
{
    fl_value_context_set(ctx, name, strlen(name), fl_value_int(n));
}

static int64_t local_int(const struct fl_instance *inst, uint64_t scope, const char *name)
{
    const struct fl_scope_vars *sv = fl__inst_locals(inst, scope);
    const struct fl_value *v = sv ? fl_value_context_get(sv->vars, name, strlen(name)) : NULL;
    int64_t n = 0;
    if (v)
        fl_value_to_int64(v, &n);
    return n;
}

/* Evaluate e over vars: a new reference, or NULL after raising an incident at mv. */
static struct fl_value *eval(struct fl__run *r, const struct fl__mover *mv, const char *what,
                             const struct fl_feel_expr *e, const struct fl_value *vars)
{
    struct fl_feel_env env = {vars, r->ctx->now_ms, r->ctx->tz_offset_min};
    struct fl_feel_diag diag;
    struct fl_value *v;
    diag.msg[0] = '\0';
    v = fl_feel_eval(e, &env, &diag);
    if (diag.msg[0]) {
        fl__run_incident(r, mv, 0, "%s of '%s' (%s) cannot be evaluated: %s", what,
                         r->m->nodes[mv->node].id, fl_feel_source(e), diag.msg);
        fl_value_unref(v);
        return NULL;
    }
    return v;
}

/* A yes/no condition: 1 true, 0 false or null, -1 after an incident (another type). */
static int eval_bool(struct fl__run *r, const struct fl__mover *mv, const char *what,
                     const struct fl_feel_expr *e, const struct fl_value *vars)
{
    struct fl_value *v = eval(r, mv, what, e, vars);
    int res = 0;
    if (!v)
        return -1;
    if (fl_value_type(v) == FL_VBOOL) {
        res = fl_value_is_true(v);
    } else if (fl_value_type(v) != FL_VNULL) {
        fl__run_incident(r, mv, 0, "%s of '%s' (%s) gives a %s, not a boolean", what,
                         r->m->nodes[mv->node].id, fl_feel_source(e),
                         fl_value_type_name(fl_value_type(v)));
        res = -1;
    }
    fl_value_unref(v);
    return res;
}

/* ---- multi-instance ---- */

/* Start inner instance k (1-based) of body b with its input element (may be NULL). */
static void start_inner(struct fl__run *r, const struct fl_token *b, uint32_t k,
                        const struct fl_value *item)
{
    const struct fl_node *node = &r->m->nodes[b->node];
    const char *elem = node->loop->element_variable;
    struct fl_value *locals = fl_value_context_new();
    struct fl__mover mv = {.id = fl__run_id(r, FL_ID_TOKEN),
                           .node = b->node,
                           .flow = FL_NONE,
                           .scope = b->id,
                           .loop = k};
    set_int(locals, "loopCounter", k);
    if (elem && elem[0])
        fl_value_context_set(locals, elem, strlen(elem),
                             item ? fl_value_ref(item) : fl_value_null());
    fl__run_set_locals(r, mv.id, locals, mv.id, node->id);
    fl_value_unref(locals);
    fl__run_push(r, &mv);
}

/* Body at inst->tokens[bi] is done: its output collection goes out, it leaves. */
static void finish_body(struct fl__run *r, size_t bi)
{
    struct fl_token b = r->inst->tokens[bi];
    const struct fl_node *node = &r->m->nodes[b.node];
    const char *coll = node->loop->output_collection;
    struct fl_value *out = NULL;
    struct fl__mover mv = {.id = b.id,
                           .node = b.node,
                           .flow = FL_NONE,
                           .stored = true,
                           .leaving = true,
                           .scope = b.scope};

    if (coll && coll[0]) {
        const struct fl_scope_vars *sv = fl__inst_locals(r->inst, b.id);
        const struct fl_value *v = sv ? fl_value_context_get(sv->vars, coll, strlen(coll)) : NULL;
        out = fl_value_context_new();
        fl_value_context_set(out, coll, strlen(coll), v ? fl_value_ref(v) : fl_value_list_new());
    }
    fl__run_kill_scope(r, b.id); /* the completion condition held */
    fl__inst_remove_token(r->inst, fl__inst_find_token(r->inst, b.id));
    fl__run_drop_timers(r, b.id);
    fl__run_drop_locals(r, b.id);
    if (out) {
        fl__run_set_vars(r, out, b.id, b.scope, node->id);
        fl_value_unref(out);
    }
    fl__run_push(r, &mv);
}

/* A token enters a multi-instance activity from outside: the body and its instances. */
static void mi_start(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    const struct fl_loop_def *loop = node->loop;
    struct fl_value *vars = fl__run_vars(r, mv->id, mv->scope);
    struct fl_value *coll = NULL, *locals = NULL, *v;
    int64_t n = 0, *bdue;
    uint32_t *brepeat;

    if (loop->collection) {
        if (!(coll = eval(r, mv, "input collection", loop->collection, vars)))
            goto out;
        if (fl_value_type(coll) != FL_VLIST) {
            fl__run_incident(r, mv, 0, "input collection of '%s' (%s) gives a %s, not a list",
                             node->id, fl_feel_source(loop->collection),
                             fl_value_type_name(fl_value_type(coll)));
            goto out;
        }
        n = (int64_t)fl_value_list_len(coll);
    } else if (loop->cardinality) {
        if (!(v = eval(r, mv, "loop cardinality", loop->cardinality, vars)))
            goto out;
        if (fl_value_to_int64(v, &n) != 0 || n < 0) {
            fl__run_incident(r, mv, 0,
                             "loop cardinality of '%s' (%s) gives a %s, not a whole number "
                             "from 0",
                             node->id, fl_feel_source(loop->cardinality),
                             fl_value_type_name(fl_value_type(v)));
            fl_value_unref(v);
            goto out;
        }
        fl_value_unref(v);
    } else {
        fl__run_incident(r, mv, 0, "multi-instance '%s' has no loop cardinality or collection",
                         node->id);
        goto out;
    }
    if (n > MI_MAX_INSTANCES) {
        fl__run_incident(r, mv, 0, "multi-instance '%s' would start %lld instances; at most %d",
                         node->id, (long long)n, MI_MAX_INSTANCES);
        goto out;
    }
    if (fl__boundary_dues(r, mv, &bdue, &brepeat) < 0)
        goto out;

    struct fl_token b = {.id = mv->id,
                         .node = mv->node,
                         .flow = FL_NONE,
                         .state = FL_TOKEN_SCOPE,
                         .scope = mv->scope,
                         .mi_body = true,
                         .loop = n == 0 ? 0 : loop->sequential ? 1 : (uint32_t)n};
    fl__run_park(r, &b);
    locals = fl_value_context_new();
    set_int(locals, NR_ALL, n);
    set_int(locals, NR_ACTIVE, n == 0 ? 0 : loop->sequential ? 1 : n);
    set_int(locals, NR_DONE, 0);
    if (loop->output_collection && loop->output_collection[0]) {
        struct fl_value *list = fl_value_list_new();
        for (int64_t i = 0; i < n; i++)
            fl_value_list_push(list, fl_value_null());
        fl_value_context_set(locals, loop->output_collection, strlen(loop->output_collection),
                             list);
    }
    if (loop->sequential && coll && n > 1)
        fl_value_context_set(locals, MI_COLLECTION, strlen(MI_COLLECTION), fl_value_ref(coll));
    fl__run_set_locals(r, b.id, locals, b.id, node->id);
    if (bdue) {
        fl__arm_boundaries(r, mv, bdue, brepeat);
        if (fl__inst_find_token(r->inst, b.id) == SIZE_MAX)
            goto out; /* a conditional boundary that already holds took the body away */
    }
    if (n == 0) {
        finish_body(r, fl__inst_find_token(r->inst, b.id));
        goto out;
    }
    for (int64_t k = 1; k <= (loop->sequential ? 1 : n); k++)
        start_inner(r, &b, (uint32_t)k, coll ? fl_value_list_at(coll, (size_t)(k - 1)) : NULL);
out:
    fl_value_unref(locals);
    fl_value_unref(coll);
    fl_value_unref(vars);
}

/* The list l with item i (0-based) replaced by v (taken); l is shared, so copied. */
static struct fl_value *list_with(const struct fl_value *l, size_t i, struct fl_value *v)
{
    struct fl_value *out = fl_value_list_new();
    size_t n = fl_value_list_len(l);
    for (size_t k = 0; k < n || k <= i; k++) {
        if (k == i)
            fl_value_list_push(out, v);
        else
            fl_value_list_push(out, k < n ? fl_value_ref(fl_value_list_at(l, k)) : fl_value_null());
    }
    return out;
}

/* Inner instance mv of its body completed its work. */
static void mi_inner_done(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    const struct fl_loop_def *loop = node->loop;
    const char *coll = loop->output_collection;
    size_t bi = fl__inst_find_token(r->inst, mv->scope);
    uint64_t body = mv->scope;
    struct fl_value *vars = NULL, *elem = NULL, *counts = NULL;
    int64_t all = local_int(r->inst, body, NR_ALL);
    int64_t done = local_int(r->inst, body, NR_DONE) + 1;
    int64_t active = local_int(r->inst, body, NR_ACTIVE) - 1;
    int stop = 0;

    /* The instance's output mappings first (Zeebe): the output element and the completion
     * condition see what they set. Its locals stay until it is counted. */
    if (fl__mappings_out(r, mv, false) < 0)
        goto out;
    vars = fl__run_vars(r, mv->id, mv->scope);
    if (coll && coll[0] && loop->output_element &&
        !(elem = eval(r, mv, "output element", loop->output_element, vars)))
        goto out;
    counts = fl_value_context_new();
    set_int(counts, NR_DONE, done);
    set_int(counts, NR_ACTIVE, active < 0 ? 0 : active);
    if (loop->completion) {
        struct fl_value *view = fl_value_context_copy(vars);
        set_int(view, NR_ALL, all);
        set_int(view, NR_DONE, done);
        set_int(view, NR_ACTIVE, active < 0 ? 0 : active);
        stop = eval_bool(r, mv, "completion condition", loop->completion, view);
        fl_value_unref(view);
        if (stop < 0)
            goto out;
    }
    fl__run_drop_locals(r, mv->id);
    if (coll && coll[0]) {
        const struct fl_scope_vars *sv = fl__inst_locals(r->inst, body);
        const struct fl_value *l = sv ? fl_value_context_get(sv->vars, coll, strlen(coll)) : NULL;
        struct fl_value *empty = l ? NULL : fl_value_list_new();
        size_t at = mv->loop ? mv->loop - 1 : 0;
        fl_value_context_set(counts, coll, strlen(coll),
                             list_with(l ? l : empty, at, elem ? fl_value_ref(elem)
                                                               : fl_value_null()));
        fl_value_unref(empty);
    }
    fl__run_set_locals(r, body, counts, mv->id, node->id);
    fl__run_event(r, FL_EV_NODE_LEFT, mv->id, 0, node->id, NULL);
    if (mv->stored)
        token_del(r, mv->id);
    if (stop || done >= all) {
        finish_body(r, bi);
    } else if (loop->sequential) {
        struct fl_token *b = &r->inst->tokens[bi];
        const struct fl_scope_vars *sv = fl__inst_locals(r->inst, body);
        const struct fl_value *c =
            sv ? fl_value_context_get(sv->vars, MI_COLLECTION, strlen(MI_COLLECTION)) : NULL;
        uint32_t k = b->loop + 1;
        b->loop = k;
        token_put(r, b);
        start_inner(r, b, k, c ? fl_value_list_at(c, k - 1) : NULL);
    }
out:
    fl_value_unref(counts);
    fl_value_unref(elem);
    fl_value_unref(vars);
}

/* ---- standard loop ---- */

/* Does the loop go round (again) before iteration `next` (1-based)? 1 yes, 0 no, -1 after
 * an incident. */
static int loop_again(struct fl__run *r, const struct fl__mover *mv, uint32_t next)
{
    const struct fl_loop_def *loop = r->m->nodes[mv->node].loop;
    struct fl_value *vars, *view;
    int res;

    if (loop->loop_maximum && next > loop->loop_maximum)
        return 0;
    if (!loop->loop_condition) /* no condition: loopMaximum times, or once */
        return loop->loop_maximum ? 1 : next == 1;
    vars = fl__run_vars(r, mv->id, mv->scope);
    view = fl_value_context_copy(vars);
    set_int(view, "loopCounter", next - 1);
    res = eval_bool(r, mv, "loop condition", loop->loop_condition, view);
    fl_value_unref(view);
    fl_value_unref(vars);
    return res;
}

bool fl__loop_enter(struct fl__run *r, struct fl__mover *mv)
{
    const struct fl_loop_def *loop = r->m->nodes[mv->node].loop;
    int again;

    if (!loop)
        return false;
    if (loop->multi) {
        if (fl__mi_is_inner(r, mv))
            return false;
        mi_start(r, mv);
        return true;
    }
    if (mv->loop > 0)
        return false; /* an iteration after the first */
    if (loop->test_before) {
        if ((again = loop_again(r, mv, 1)) < 0)
            return true;
        if (!again) { /* never runs: straight on, as iteration 0 */
            struct fl__mover out = *mv;
            out.leaving = true;
            fl__run_push(r, &out);
            return true;
        }
    }
    mv->loop = 1;
    return false;
}

bool fl__activity_leave(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    const struct fl_loop_def *loop = node->loop;
    int again;

    if (loop && loop->multi) {
        if (fl__mi_is_inner(r, mv)) {
            mi_inner_done(r, mv);
            return true;
        }
        return false; /* the body leaves; its instances mapped their own outputs */
    }
    if (loop && mv->loop == 0)
        return false; /* a test-before loop that never ran */
    if (!node->n_outputs && !fl__inst_locals(r->inst, mv->id) && !loop)
        return false;
    if (fl__mappings_out(r, mv, true) < 0)
        return true;
    if (!loop)
        return false;
    if ((again = loop_again(r, mv, mv->loop + 1)) < 0)
        return true;
    if (!again)
        return false;
    fl__run_event(r, FL_EV_NODE_LEFT, mv->id, 0, node->id, NULL);
    struct fl__mover next = *mv;
    next.leaving = false;
    next.loop = mv->loop + 1;
    fl__run_push(r, &next);
    return true;
}
