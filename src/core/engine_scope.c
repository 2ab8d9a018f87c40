/* Scopes and local variables: a token sees the locals of the scopes it runs inside
 * (subprocesses, multi-instance bodies, activities with input mappings) over the
 * instance's variables, and a value set from inside goes to the nearest scope that already
 * has that name, else to the instance -- the propagation BPMN engines use. Locals live in
 * inst->locals keyed by the scope token's id and are mirrored to the store through VAR_SET
 * (with a scope) and LOCALS_DEL. */
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "flowd/alloc.h"

size_t fl__inst_find_token(const struct fl_instance *inst, uint64_t id)
{
    for (size_t i = 0; i < inst->n_tokens; i++)
        if (inst->tokens[i].id == id)
            return i;
    return SIZE_MAX;
}

struct fl_scope_vars *fl__inst_locals(const struct fl_instance *inst, uint64_t scope)
{
    if (!scope)
        return NULL;
    for (size_t i = 0; i < inst->n_locals; i++)
        if (inst->locals[i].scope == scope)
            return &inst->locals[i];
    return NULL;
}

/* The scope enclosing scope token s, or 0 (process level, or s is not resting). */
static uint64_t outer_of(const struct fl_instance *inst, uint64_t s)
{
    size_t i = fl__inst_find_token(inst, s);
    return i == SIZE_MAX ? 0 : inst->tokens[i].scope;
}

/* Add the entries of ctx that out does not have yet (inner scopes were added first). */
static void add_missing(struct fl_value *out, const struct fl_value *ctx)
{
    size_t n = fl_value_context_len(ctx);
    for (size_t i = 0; i < n; i++) {
        size_t klen;
        const char *k = fl_value_context_key(ctx, i, &klen);
        if (!fl_value_context_get(out, k, klen))
            fl_value_context_set(out, k, klen, fl_value_ref(fl_value_context_val(ctx, i)));
    }
}

struct fl_value *fl__run_vars(const struct fl__run *r, uint64_t token_id, uint64_t scope)
{
    const struct fl_instance *inst = r->inst;
    struct fl_value *out = NULL;
    const struct fl_scope_vars *sv;
    size_t guard = 0;

    if (inst->n_locals == 0)
        return fl_value_ref(inst->variables);
    if ((sv = fl__inst_locals(inst, token_id)) != NULL) {
        out = fl_value_context_new();
        add_missing(out, sv->vars);
    }
    for (uint64_t s = scope; s && guard++ <= inst->n_tokens; s = outer_of(inst, s)) {
        if ((sv = fl__inst_locals(inst, s)) == NULL)
            continue;
        if (!out)
            out = fl_value_context_new();
        add_missing(out, sv->vars);
    }
    if (!out)
        return fl_value_ref(inst->variables);
    add_missing(out, inst->variables);
    return out;
}

void fl__run_set_locals(struct fl__run *r, uint64_t scope, const struct fl_value *vars,
                        uint64_t token_id, const char *node_id)
{
    struct fl_instance *inst = r->inst;
    struct fl_scope_vars *sv = fl__inst_locals(inst, scope);
    struct fl_value *next = NULL;
    struct fl_buf *b = NULL;
    size_t n = fl_value_context_len(vars);

    for (size_t i = 0; i < n; i++) {
        size_t klen;
        const char *key = fl_value_context_key(vars, i, &klen);
        const struct fl_value *val = fl_value_context_val(vars, i);
        const struct fl_value *old = sv ? fl_value_context_get(sv->vars, key, klen) : NULL;
        struct fl_effect *e;
        const char *name;

        if (old && fl_value_type(old) == fl_value_type(val) && fl_value_equal(old, val))
            continue;
        if (!next) {
            next = sv ? fl_value_context_copy(sv->vars) : fl_value_context_new();
            b = fl__fx_scratch(r->fx);
            fl_buf_addf(b, "{\"scope\":%llu,\"variables\":{", (unsigned long long)scope);
        } else {
            fl_buf_addc(b, ',');
        }
        fl_value_context_set(next, key, klen, fl_value_ref(val));
        name = fl__fx_strndup(r->fx, key, klen);
        e = fl__fx_push(r->fx, FL_FX_VAR_SET);
        e->u.var.name = name;
        e->u.var.value = fl__fx_hold(r->fx, val);
        e->u.var.scope = scope;
        fl_json_cstring(b, name);
        fl_buf_addc(b, ':');
        fl_value_to_json(val, b);
    }
    if (!next)
        return;
    fl_buf_adds(b, "}}");
    fl__run_event(r, FL_EV_VARIABLES_CHANGED, token_id, 0, node_id, fl__fx_scratch_keep(r->fx));
    r->vars_changed = true; /* conditional events look again */
    if (!sv) {
        fl_grow(&inst->locals, &inst->cap_locals, inst->n_locals + 1, sizeof(*inst->locals));
        sv = &inst->locals[inst->n_locals++];
        sv->scope = scope;
        sv->vars = next;
    } else {
        fl_value_unref(sv->vars);
        sv->vars = next;
    }
}

/* The scope on the way out from (token_id, scope) whose locals hold key, or 0. */
static uint64_t owner_of(const struct fl_instance *inst, uint64_t token_id, uint64_t scope,
                         const char *key, size_t klen)
{
    const struct fl_scope_vars *sv = fl__inst_locals(inst, token_id);
    size_t guard = 0;
    if (sv && fl_value_context_get(sv->vars, key, klen))
        return token_id;
    for (uint64_t s = scope; s && guard++ <= inst->n_tokens; s = outer_of(inst, s)) {
        sv = fl__inst_locals(inst, s);
        if (sv && fl_value_context_get(sv->vars, key, klen))
            return s;
    }
    return 0;
}

void fl__run_set_vars(struct fl__run *r, const struct fl_value *vars, uint64_t token_id,
                      uint64_t scope, const char *node_id)
{
    struct fl_instance *inst = r->inst;
    size_t n = fl_value_context_len(vars);
    struct fl_value *global = NULL;

    if (inst->n_locals == 0 || n == 0) {
        fl__run_merge_vars(r, vars, token_id, node_id);
        return;
    }
    /* Names held by a scope go there one by one; the rest are merged in one go. */
    for (size_t i = 0; i < n; i++) {
        size_t klen;
        const char *key = fl_value_context_key(vars, i, &klen);
        const struct fl_value *val = fl_value_context_val(vars, i);
        uint64_t owner = owner_of(inst, token_id, scope, key, klen);
        if (owner) {
            struct fl_value *one = fl_value_context_new();
            fl_value_context_set(one, key, klen, fl_value_ref(val));
            fl__run_set_locals(r, owner, one, token_id, node_id);
            fl_value_unref(one);
        } else {
            if (!global)
                global = fl_value_context_new();
            fl_value_context_set(global, key, klen, fl_value_ref(val));
        }
    }
    if (global) {
        fl__run_merge_vars(r, global, token_id, node_id);
        fl_value_unref(global);
    }
}

void fl__run_drop_locals(struct fl__run *r, uint64_t scope)
{
    struct fl_instance *inst = r->inst;
    for (size_t i = 0; i < inst->n_locals; i++) {
        if (inst->locals[i].scope != scope)
            continue;
        fl_value_unref(inst->locals[i].vars);
        inst->locals[i] = inst->locals[--inst->n_locals];
        struct fl_effect *e = fl__fx_push(r->fx, FL_FX_LOCALS_DEL);
        e->u.locals.scope = scope;
        return;
    }
}
