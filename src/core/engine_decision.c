/* Business rule tasks in the engine: a task without a job type evaluates its decision at
 * once, through the decision hook the service supplies (the engine itself knows no
 * deployed decisions), over the variables the token sees; the result goes to the task's
 * result variable and the token moves on. Anything that goes wrong -- no hook, an unknown
 * decision, a table that refuses (UNIQUE with two rules matching) -- is an incident that
 * names the decision, so an operator can deploy or fix it and retry. */
#include <string.h>

#include "core/engine_int.h"
#include "flowd/feel.h"

/* The decision id: the literal, or the value of a "=expr" (a string). Arena string, or
 * NULL after raising an incident. */
static const char *decision_id(struct fl__run *r, const struct fl__mover *mv,
                               const struct fl_value *vars)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    int is_expr;
    const char *src = fl_feel_strip(node->decision_ref, &is_expr);
    struct fl_feel_expr *e = NULL;
    struct fl_feel_env env = {vars, r->ctx->now_ms, r->ctx->tz_offset_min};
    struct fl_feel_diag diag;
    struct fl_error fe;
    struct fl_value *v;
    const char *s, *out = NULL;
    size_t len;

    if (!is_expr)
        return node->decision_ref;
    if (fl_feel_compile(src, strlen(src), &e, &fe) < 0) {
        fl__run_incident(r, mv, 0, "the decision of '%s' (%s) is not valid FEEL: %s", node->id, src,
                         fe.msg);
        return NULL;
    }
    diag.msg[0] = '\0';
    v = fl_feel_eval(e, &env, &diag);
    s = fl_value_str(v, &len);
    if (diag.msg[0] || !s || len == 0 || memchr(s, 0, len))
        fl__run_incident(r, mv, 0, "the decision of '%s' (%s) gives no decision id%s%s", node->id,
                         src, diag.msg[0] ? ": " : "", diag.msg);
    else
        out = fl__fx_strndup(r->fx, s, len);
    fl_value_unref(v);
    fl_feel_free(e);
    return out;
}

void fl__run_decision(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    struct fl_value *vars = fl__run_vars(r, mv->id, mv->scope);
    struct fl_value *result = NULL;
    struct fl_error err;
    const char *id;
    struct fl_buf *b;
    int rc;

    if (!node->decision_ref || !node->decision_ref[0]) {
        fl__run_incident(r, mv, 0, "business rule task '%s' names no decision", node->id);
        goto out;
    }
    if (!(id = decision_id(r, mv, vars)))
        goto out;
    if (!r->ctx->decide) {
        fl__run_incident(r, mv, 0,
                         "business rule task '%s': decision '%s' cannot be evaluated "
                         "here (no decisions are deployed with this engine)",
                         node->id, id);
        goto out;
    }
    fl_error_clear(&err);
    rc = r->ctx->decide(r->ctx->decide_arg, id, node->decision_map, vars, r->ctx->now_ms, &result,
                        &err);
    if (rc == FL_ENOTFOUND) {
        fl__run_incident(r, mv, 0, "business rule task '%s': decision '%s' is not deployed",
                         node->id, id);
        goto out;
    }
    if (rc < 0) {
        fl__run_incident(r, mv, 0, "business rule task '%s': decision '%s' failed: %s", node->id,
                         id, err.msg[0] ? err.msg : fl_err_message(rc));
        goto out;
    }
    b = fl__fx_scratch(r->fx);
    fl_buf_adds(b, "{\"decision\":");
    fl_json_cstring(b, id);
    fl_buf_addc(b, '}');
    fl__run_event(r, FL_EV_DECISION_EVALUATED, mv->id, 0, node->id, fl__fx_scratch_keep(r->fx));
    if (node->result_variable && node->result_variable[0]) {
        struct fl_value *one = fl_value_context_new();
        fl_value_context_set(one, node->result_variable, strlen(node->result_variable),
                             result ? result : fl_value_null());
        result = NULL;
        fl__run_set_vars(r, one, mv->id, mv->scope, node->id);
        fl_value_unref(one);
    }
    {
        struct fl__mover next = *mv;
        next.leaving = true;
        fl__run_push(r, &next);
    }
out:
    fl_value_unref(result);
    fl_value_unref(vars);
}
