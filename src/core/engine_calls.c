/* Variable mappings and call activities. Input mappings become the activity token's own
 * locals, so its work (task, job, script, called instance) sees them and nothing outside
 * does; output mappings carry values out to the enclosing scope when it completes (Zeebe
 * semantics: with output mappings the completion's variables stay local). A call activity
 * rests in FL_TOKEN_SCOPE while the service runs the called instance (FL_FX_CALL), and
 * FL_CMD_CALL_DONE brings the child's variables back. */
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "flowd/alloc.h"
#include "flowd/feel.h"

/* Set target (a name, or a dotted path "a.b" into nested contexts) in ctx to val (taken).
 * A path starts from the value ctx already holds, else from base's (may be NULL). */
static void set_path(struct fl_value *ctx, const char *target, struct fl_value *val,
                     const struct fl_value *base)
{
    const char *dot = strchr(target, '.');
    size_t len = dot ? (size_t)(dot - target) : strlen(target);
    const struct fl_value *cur;
    struct fl_value *child;

    if (!dot || len == 0 || !dot[1]) {
        fl_value_context_set(ctx, target, strlen(target), val);
        return;
    }
    cur = fl_value_context_get(ctx, target, len);
    if (!cur && base)
        cur = fl_value_context_get(base, target, len);
    child = cur && fl_value_type(cur) == FL_VCONTEXT ? fl_value_context_copy(cur)
                                                     : fl_value_context_new();
    set_path(child, dot + 1, val, NULL);
    fl_value_context_set(ctx, target, len, child);
}

/* Does a mapping whose source failed with diag read a variable that is not there, in a
 * source that only names it (a name or a path: "x", "a.b[1]", "(x)")? Such a mapping
 * gives null, as Camunda 7 passes an absent camunda:in source and Zeebe's FEEL reads an
 * absent variable; anything computed from it still fails. */
static bool absent_name(const struct fl_feel_expr *source, const struct fl_feel_diag *diag)
{
    static const char prefix[] = "no variable found for name ";
    const char *src = fl_feel_source(source);
    if (strncmp(diag->msg, prefix, sizeof(prefix) - 1) != 0 || !src)
        return false;
    for (; *src; src++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.[]() ",
                     *src))
            return false;
    return true;
}

/* Evaluate n mappings in order over vars (a later one sees the earlier results) into a
 * new context. NULL after raising an incident at mv naming the mapping. */
static struct fl_value *eval_maps(struct fl__run *r, const struct fl__mover *mv, const char *what,
                                  const struct fl_mapping *maps, size_t n,
                                  const struct fl_value *vars)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    struct fl_value *out = fl_value_context_new();
    struct fl_value *view = NULL; /* vars with the results so far, made when needed */

    for (size_t i = 0; i < n; i++) {
        struct fl_feel_env env = {view ? view : vars, r->ctx->now_ms, r->ctx->tz_offset_min};
        struct fl_feel_diag diag;
        struct fl_value *v;

        if (!maps[i].source || !maps[i].target || !maps[i].target[0]) {
            fl__run_incident(r, mv, 0, "%s mapping %zu of '%s' has no %s", what, i + 1, node->id,
                             maps[i].target ? "source" : "target");
            goto fail;
        }
        diag.msg[0] = '\0';
        v = fl_feel_eval(maps[i].source, &env, &diag);
        if (diag.msg[0] && absent_name(maps[i].source, &diag)) {
            fl_value_unref(v);
            v = fl_value_null();
        } else if (diag.msg[0]) {
            fl__run_incident(r, mv, 0, "%s mapping '%s' of '%s' (%s) cannot be evaluated: %s",
                             what, maps[i].target, node->id, fl_feel_source(maps[i].source),
                             diag.msg);
            fl_value_unref(v);
            goto fail;
        }
        if (i + 1 < n) {
            if (!view)
                view = fl_value_context_copy(vars);
            set_path(view, maps[i].target, fl_value_ref(v), vars);
        }
        set_path(out, maps[i].target, v, vars);
    }
    fl_value_unref(view);
    return out;
fail:
    fl_value_unref(view);
    fl_value_unref(out);
    return NULL;
}

int fl__mappings_in(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    struct fl_value *vars, *out;

    if (!node->n_inputs)
        return 0;
    vars = fl__run_vars(r, mv->id, mv->scope);
    out = eval_maps(r, mv, "input", node->inputs, node->n_inputs, vars);
    fl_value_unref(vars);
    if (!out)
        return -1;
    fl__run_set_locals(r, mv->id, out, mv->id, node->id);
    fl_value_unref(out);
    return 0;
}

void fl__run_completion_vars(struct fl__run *r, const struct fl_value *vars, uint64_t token_id,
                             uint64_t scope, uint32_t node)
{
    const char *node_id = fl__node_id(r->m, node);
    if (!vars || fl_value_context_len(vars) == 0)
        return;
    if (node < r->m->n_nodes && r->m->nodes[node].n_outputs)
        fl__run_set_locals(r, token_id, vars, token_id, node_id);
    else
        fl__run_set_vars(r, vars, token_id, scope, node_id);
}

int fl__mappings_out(struct fl__run *r, const struct fl__mover *mv, bool drop)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    struct fl_value *vars, *out;

    if (!node->n_outputs) {
        if (drop)
            fl__run_drop_locals(r, mv->id);
        return 0;
    }
    vars = fl__run_vars(r, mv->id, mv->scope);
    out = eval_maps(r, mv, "output", node->outputs, node->n_outputs, vars);
    fl_value_unref(vars);
    if (!out)
        return -1;
    /* Dropped first, so a target named like one of the token's locals goes out. */
    if (drop)
        fl__run_drop_locals(r, mv->id);
    fl__run_set_vars(r, out, drop ? mv->id : 0, mv->scope, node->id);
    fl_value_unref(out);
    return 0;
}

void fl__run_resume(struct fl__run *r, size_t i)
{
    const struct fl_token *t = &r->inst->tokens[i];
    struct fl__mover mv = fl__mover_of(t, true);
    fl__inst_remove_token(r->inst, i);
    fl__run_drop_timers(r, mv.id); /* its boundary timers and subscriptions go with the work */
    fl__run_subs_close(r, mv.id);
    fl__run_push(r, &mv);
}

/* ---- call activities ---- */

/* A text that may be "=expr": the literal, or the expression's string value (other
 * values as FEEL text) in the arena. NULL after raising an incident; *out NULL for a null
 * value. */
static int eval_text(struct fl__run *r, const struct fl__mover *mv, const char *what,
                     const char *text, const struct fl_value *vars, const char **out)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    struct fl_feel_expr *expr = NULL;
    struct fl_feel_env env = {vars, r->ctx->now_ms, r->ctx->tz_offset_min};
    struct fl_feel_diag diag;
    struct fl_error err;
    struct fl_value *v;
    int is_expr;
    const char *src = fl_feel_strip(text, &is_expr);

    *out = NULL;
    if (!is_expr) {
        *out = text;
        return 0;
    }
    /* NEEDSWORK: compiled per call; the model keeps these as text ("=expr" or literal). */
    fl_error_clear(&err);
    if (fl_feel_compile(src, strlen(src), &expr, &err) < 0) {
        fl__run_incident(r, mv, 0, "%s of '%s' (%s) is not a valid expression: %s", what,
                         node->id, src, err.msg);
        return -1;
    }
    diag.msg[0] = '\0';
    v = fl_feel_eval(expr, &env, &diag);
    fl_feel_free(expr);
    if (diag.msg[0]) {
        fl__run_incident(r, mv, 0, "%s of '%s' (%s) cannot be evaluated: %s", what, node->id, src,
                         diag.msg);
        fl_value_unref(v);
        return -1;
    }
    if (fl_value_type(v) == FL_VSTRING) {
        size_t len;
        const char *s = fl_value_str(v, &len);
        *out = fl__fx_strndup(r->fx, s, len);
    } else if (fl_value_type(v) != FL_VNULL) {
        struct fl_buf *b = fl__fx_scratch(r->fx);
        fl_value_to_text(v, b);
        *out = fl__fx_scratch_keep(r->fx);
    }
    fl_value_unref(v);
    return 0;
}

/* What the called instance starts with: everything the token sees (all_in), else only
 * the token's own locals (its input mappings), then the call's in-mappings. */
static struct fl_value *child_vars(struct fl__run *r, const struct fl__mover *mv,
                                   const struct fl_value *vars)
{
    const struct fl_call_def *call = r->m->nodes[mv->node].call;
    const struct fl_scope_vars *own = fl__inst_locals(r->inst, mv->id);
    struct fl_value *out, *ins;

    if (call->all_in)
        out = fl_value_context_copy(vars);
    else
        out = own ? fl_value_context_copy(own->vars) : fl_value_context_new();
    if (!call->n_ins)
        return out;
    if (!(ins = eval_maps(r, mv, "input", call->ins, call->n_ins, vars))) {
        fl_value_unref(out);
        return NULL;
    }
    for (size_t i = 0; i < fl_value_context_len(ins); i++) {
        size_t klen;
        const char *k = fl_value_context_key(ins, i, &klen);
        fl_value_context_set(out, k, klen, fl_value_ref(fl_value_context_val(ins, i)));
    }
    fl_value_unref(ins);
    return out;
}

void fl__enter_call(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    const struct fl_call_def *call = node->call;
    struct fl_value *vars = NULL, *pass = NULL;
    const char *key = NULL, *bkey = NULL;
    struct fl_effect *e;
    struct fl_buf *b;
    uint64_t child;
    int64_t *bdue;
    uint32_t *brepeat;

    if (!call || !call->process_key || !call->process_key[0]) {
        fl__run_incident(r, mv, 0, "call activity '%s' names no process to call", node->id);
        return;
    }
    vars = fl__run_vars(r, mv->id, mv->scope);
    if (eval_text(r, mv, "called process", call->process_key, vars, &key) < 0)
        goto out;
    if (!key || !key[0]) {
        fl__run_incident(r, mv, 0, "called process of '%s' (%s) gives no process id", node->id,
                         call->process_key);
        goto out;
    }
    if (call->business_key &&
        eval_text(r, mv, "business key", call->business_key, vars, &bkey) < 0)
        goto out;
    if (!(pass = child_vars(r, mv, vars)))
        goto out;
    if (fl__boundary_dues(r, mv, &bdue, &brepeat) < 0)
        goto out;

    child = fl__run_id(r, FL_ID_INSTANCE);
    e = fl__fx_push(r->fx, FL_FX_CALL);
    e->u.call.child_id = child;
    e->u.call.token_id = mv->id;
    e->u.call.process_key = key == call->process_key ? key : fl__fx_strdup(r->fx, key);
    e->u.call.business_key = bkey;
    e->u.call.version = call->version;
    e->u.call.variables = fl__fx_hold(r->fx, pass);
    b = fl__fx_scratch(r->fx);
    fl_buf_adds(b, "{\"process\":");
    fl_json_cstring(b, key);
    fl_buf_addf(b, ",\"instance\":%llu}", (unsigned long long)child);
    fl__run_event(r, FL_EV_CALL_STARTED, mv->id, child, node->id, fl__fx_scratch_keep(r->fx));

    struct fl_token tok = fl__token_at(mv, FL_TOKEN_SCOPE);
    tok.call_id = child;
    fl__run_park(r, &tok);
    if (bdue)
        fl__arm_boundaries(r, mv, bdue, brepeat);
out:
    fl_value_unref(pass);
    fl_value_unref(vars);
}

int fl__call_done_check(const struct fl_model *m, const struct fl_instance *inst,
                        const struct fl_command *cmd, size_t *out, struct fl_error *err)
{
    size_t i = fl__inst_find_token(inst, cmd->target_id);
    const struct fl_token *t;

    if (inst->status != FL_INSTANCE_ACTIVE)
        return fl_error_set(err, FL_ECONFLICT, "instance %llu is %s", (unsigned long long)inst->id,
                            inst->status == FL_INSTANCE_COMPLETED ? "completed" : "cancelled");
    if (i == SIZE_MAX)
        return fl_error_set(err, FL_ENOTFOUND, "token %llu not found in instance %llu",
                            (unsigned long long)cmd->target_id, (unsigned long long)inst->id);
    t = &inst->tokens[i];
    if (t->node >= m->n_nodes || m->nodes[t->node].kind != FL_NODE_CALL_ACTIVITY ||
        t->state != FL_TOKEN_SCOPE || !t->call_id)
        return fl_error_set(err, FL_ENOTFOUND,
                            "token %llu of instance %llu does not wait for a called instance",
                            (unsigned long long)t->id, (unsigned long long)inst->id);
    if (cmd->new_instance_id && cmd->new_instance_id != t->call_id)
        return fl_error_set(err, FL_ENOTFOUND,
                            "token %llu of instance %llu waits for instance %llu, not %llu",
                            (unsigned long long)t->id, (unsigned long long)inst->id,
                            (unsigned long long)t->call_id,
                            (unsigned long long)cmd->new_instance_id);
    if (cmd->variables && fl_value_type(cmd->variables) != FL_VCONTEXT)
        return fl_error_set(err, FL_ETYPE, "variables must be a context, not a %s",
                            fl_value_type_name(fl_value_type(cmd->variables)));
    *out = i;
    return 0;
}

/* The child's variables as the caller takes them: all of them (all_out) unless the call
 * has out-mappings, which then alone reach the caller (Zeebe: the child's variables stay
 * in the call activity's scope; a Camunda 7 "all" next to a mapping keeps only the
 * mapping). The out-mappings see the child's variables over the caller's. NULL after an
 * incident. */
static struct fl_value *returned_vars(struct fl__run *r, const struct fl__mover *mv,
                                      const struct fl_value *child)
{
    const struct fl_call_def *call = r->m->nodes[mv->node].call;
    struct fl_value *seen, *outs;

    if (!call->n_outs)
        return call->all_out && child ? fl_value_ref(child) : fl_value_context_new();
    seen = fl__run_vars(r, mv->id, mv->scope);
    if (child && fl_value_context_len(child)) {
        struct fl_value *view = fl_value_context_copy(seen);
        for (size_t i = 0; i < fl_value_context_len(child); i++) {
            size_t klen;
            const char *k = fl_value_context_key(child, i, &klen);
            fl_value_context_set(view, k, klen, fl_value_ref(fl_value_context_val(child, i)));
        }
        fl_value_unref(seen);
        seen = view;
    }
    outs = eval_maps(r, mv, "output", call->outs, call->n_outs, seen);
    fl_value_unref(seen);
    return outs;
}

void fl__call_done(struct fl__run *r, const struct fl_command *cmd, size_t ti)
{
    struct fl_token t = r->inst->tokens[ti];
    const struct fl_node *node = &r->m->nodes[t.node];
    struct fl__mover mv = fl__mover_of(&t, false);
    struct fl_value *back;

    if (cmd->error_code && strncmp(cmd->error_code, "flowd:", 6) != 0) {
        /* A BPMN error the called instance did not catch: thrown at the call activity,
         * whose boundary events see it first. The child is over: nothing to cancel. */
        const char *code = fl__fx_strdup(r->fx, cmd->error_code);
        const char *msg = fl__fx_strdup(r->fx, cmd->error_message);
        struct fl__throw th = {FL_TRIGGER_ERROR, code, msg, t.node, t.id, t.scope};
        r->inst->tokens[ti].call_id = 0;
        if (fl__throw(r, &th, ti) == FL__UNCAUGHT) {
            size_t k = fl__inst_find_token(r->inst, t.id);
            if (k != SIZE_MAX)
                fl__error_uncaught(r, NULL, k, 0, code, msg);
        }
        return;
    }
    /* The token leaves its rest either way: on, or into an incident. */
    fl__inst_remove_token(r->inst, ti);
    fl__run_drop_timers(r, t.id);
    fl__run_subs_close(r, t.id);
    if (cmd->error_code) {
        const char *msg = cmd->error_message;
        if (!strcmp(cmd->error_code, "flowd:cancelled"))
            fl__run_incident(r, &mv, 0, "the instance %llu called by '%s' was cancelled%s%s",
                             (unsigned long long)t.call_id, node->id, msg ? ": " : "",
                             msg ? msg : "");
        else
            fl__run_incident(r, &mv, 0, "call activity '%s' cannot start its process: %s",
                             node->id, msg ? msg : cmd->error_code);
        return;
    }
    if (!(back = returned_vars(r, &mv, cmd->variables)))
        return;
    fl__run_completion_vars(r, back, t.id, t.scope, t.node);
    fl_value_unref(back);
    mv.leaving = true;
    fl__run_push(r, &mv);
}
