/* Boundary events of resting activities, and cancelling what runs inside an activity or
 * scope. An activity at rest (a task with its task or job, a subprocess or call activity
 * waiting in state SCOPE) carries its boundary events: timers (engine_timer_event.c),
 * message and signal subscriptions opened here when it starts resting and closed when it
 * leaves, conditional boundaries evaluated on rest and after variable changes, and
 * error/escalation/cancel boundaries that propagation (engine_error.c) finds. Firing one
 * either interrupts the activity -- everything inside it is cancelled and its token leaves
 * through the boundary event -- or sends a new token out while the activity goes on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "flowd/alloc.h"
#include "flowd/feel.h"

/* ---- scopes ---- */

bool fl__scope_within(const struct fl_instance *inst, uint64_t scope, uint64_t s)
{
    size_t guard = 0;
    if (!s)
        return true;
    /* Walk out from the token's scope through the SCOPE tokens holding it. */
    while (scope && guard++ <= inst->n_tokens) {
        size_t i;
        if (scope == s)
            return true;
        i = fl__inst_find_token(inst, scope);
        if (i == SIZE_MAX)
            return false;
        scope = inst->tokens[i].scope;
    }
    return false;
}

void fl__activity_cancel(struct fl__run *r, size_t k, const char *reason, bool keep_id)
{
    struct fl_token t = r->inst->tokens[k];
    size_t i;
    if (t.state == FL_TOKEN_SCOPE) {
        /* its event subprocesses may not start any more, and what runs inside stops */
        fl__scope_disarm(r, t.id);
        fl__run_kill_scope(r, t.id);
    }
    i = fl__inst_find_token(r->inst, t.id);
    fl__run_token_release(r, &t, reason);
    if (i != SIZE_MAX)
        fl__inst_remove_token(r->inst, i);
    if (!keep_id)
        fl__run_token_del(r, t.id);
}

/* Why a job or task closes when boundary event b interrupts it. */
static const char *interrupt_reason(const struct fl_node *b)
{
    if (b->kind == FL_NODE_TIMER_BOUNDARY || !b->event)
        return "interrupted by timer";
    switch (b->event->trigger) {
    case FL_TRIGGER_MESSAGE:
        return "interrupted by message";
    case FL_TRIGGER_SIGNAL:
        return "interrupted by signal";
    case FL_TRIGGER_ERROR:
        return "interrupted by error";
    case FL_TRIGGER_ESCALATION:
        return "interrupted by escalation";
    case FL_TRIGGER_CONDITIONAL:
        return "interrupted by condition";
    case FL_TRIGGER_CANCEL:
        return "interrupted by cancel";
    default:
        return "interrupted by a boundary event";
    }
}

void fl__boundary_trigger(struct fl__run *r, size_t k, uint32_t b, bool interrupt)
{
    const struct fl_node *bn = &r->m->nodes[b];
    struct fl_token tok = r->inst->tokens[k];

    if (interrupt || bn->cancel_activity) {
        struct fl__mover mv = {.id = tok.id,
                               .node = b,
                               .flow = FL_NONE,
                               .stored = true,
                               .leaving = true,
                               .scope = tok.scope};
        fl__activity_cancel(r, k, interrupt_reason(bn), true);
        fl__run_event(r, FL_EV_NODE_LEFT, tok.id, 0, r->m->nodes[tok.node].id, NULL);
        fl__run_event(r, FL_EV_NODE_ENTERED, tok.id, 0, bn->id, NULL);
        fl__run_push(r, &mv);
        return;
    }
    struct fl__mover out = {.id = fl__run_id(r, FL_ID_TOKEN),
                            .node = b,
                            .flow = FL_NONE,
                            .leaving = true,
                            .scope = tok.scope};
    fl__run_event(r, FL_EV_NODE_ENTERED, out.id, 0, bn->id, NULL);
    fl__run_push(r, &out);
}

/* ---- message and signal subscriptions ---- */

static bool subscribes(const struct fl_node *b)
{
    return b->kind == FL_NODE_BOUNDARY_EVENT && b->event &&
           (b->event->trigger == FL_TRIGGER_MESSAGE || b->event->trigger == FL_TRIGGER_SIGNAL);
}

int fl__eval_text(struct fl__run *r, const char *text, const struct fl_value *vars,
                     const char **out, char *why, size_t why_len)
{
    struct fl_feel_expr *expr = NULL;
    struct fl_feel_env env = {vars, r->ctx->now_ms, r->ctx->tz_offset_min};
    struct fl_feel_diag diag;
    struct fl_error err;
    struct fl_value *v;
    const char *src;
    int is_expr, rc = 0;

    *out = NULL;
    if (!text)
        return 0;
    src = fl_feel_strip(text, &is_expr);
    if (!is_expr) {
        *out = fl__fx_strdup(r->fx, text);
        return 0;
    }
    fl_error_clear(&err);
    if (fl_feel_compile(src, strlen(src), &expr, &err) < 0) {
        snprintf(why, why_len, "is not a valid expression: %s", err.msg);
        return -1;
    }
    diag.msg[0] = '\0';
    v = fl_feel_eval(expr, &env, &diag);
    fl_feel_free(expr);
    if (diag.msg[0]) {
        snprintf(why, why_len, "cannot be evaluated: %s", diag.msg);
        rc = -1;
    } else if (fl_value_type(v) == FL_VSTRING) {
        size_t len;
        const char *s = fl_value_str(v, &len);
        *out = fl__fx_strndup(r->fx, s, len);
    } else if (fl_value_type(v) == FL_VNUMBER || fl_value_type(v) == FL_VBOOL) {
        struct fl_buf *b = fl__fx_scratch(r->fx);
        fl_value_to_json(v, b);
        *out = fl__fx_scratch_keep(r->fx);
    } else {
        snprintf(why, why_len, "gives a %s, not a string", fl_value_type_name(fl_value_type(v)));
        rc = -1;
    }
    fl_value_unref(v);
    return rc;
}

/* Name and key of the subscription of boundary b for token (id, scope); -1 when one
 * cannot be evaluated, after raising an incident at mv if `raise`. */
static int sub_texts(struct fl__run *r, const struct fl__mover *mv, bool raise,
                     const struct fl_node *b, const char **name, const char **key)
{
    struct fl_value *vars = fl__run_vars(r, mv->id, mv->scope);
    char why[300];
    int rc = 0;

    if (fl__eval_text(r, b->event->name, vars, name, why, sizeof(why)) < 0) {
        if (raise)
            fl__run_incident(r, mv, 0, "%s name of boundary event '%s' (%s) %s",
                             fl_trigger_name(b->event->trigger), b->id, b->event->name, why);
        rc = -1;
    } else if (b->event->trigger == FL_TRIGGER_MESSAGE &&
               fl__eval_text(r, b->event->correlation_key, vars, key, why, sizeof(why)) < 0) {
        if (raise)
            fl__run_incident(r, mv, 0, "correlation key of boundary event '%s' (%s) %s", b->id,
                             b->event->correlation_key, why);
        rc = -1;
    } else if (!*name || !(*name)[0]) {
        if (raise)
            fl__run_incident(r, mv, 0, "boundary event '%s' has no %s name", b->id,
                             fl_trigger_name(b->event->trigger));
        rc = -1;
    }
    if (b->event->trigger != FL_TRIGGER_MESSAGE)
        *key = NULL;
    fl_value_unref(vars);
    return rc;
}

int fl__boundary_check(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *a = &r->m->nodes[mv->node];
    for (uint32_t i = 0; i < a->n_boundaries; i++) {
        const struct fl_node *b = &r->m->nodes[a->boundaries[i]];
        const char *name = NULL, *key = NULL;
        if (subscribes(b) && sub_texts(r, mv, true, b, &name, &key) < 0)
            return -1;
    }
    return 0;
}

void fl__boundary_subs_close(struct fl__run *r, uint64_t token_id)
{
    struct fl_instance *inst = r->inst;
    for (size_t i = inst->n_subs; i-- > 0;) {
        const struct fl_subscription *s = &inst->subs[i];
        if (s->token_id == token_id && s->node < r->m->n_nodes &&
            r->m->nodes[s->node].kind == FL_NODE_BOUNDARY_EVENT)
            fl__run_sub_close(r, i);
    }
}

void fl__boundary_rest(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *a = &r->m->nodes[mv->node];

    for (uint32_t i = 0; i < a->n_boundaries; i++) {
        const struct fl_node *b = &r->m->nodes[a->boundaries[i]];
        const char *name = NULL, *key = NULL;
        if (subscribes(b) && sub_texts(r, mv, false, b, &name, &key) == 0) /* checked */
            fl__subs_open(r, mv->id, a->boundaries[i], b->cancel_activity, name, key);
    }
    /* A conditional boundary whose condition already holds fires (as Camunda evaluates it
     * when the activity is entered) -- but only once the run has drained: the activity
     * (a subprocess starting its inside) must be fully at rest before it is interrupted.
     * NEEDSWORK: this looks at every conditional event again, so a non-interrupting one
     * elsewhere whose condition holds fires once more. */
    for (uint32_t i = 0; i < a->n_boundaries; i++) {
        const struct fl_node *b = &r->m->nodes[a->boundaries[i]];
        if (b->kind == FL_NODE_BOUNDARY_EVENT && b->event &&
            b->event->trigger == FL_TRIGGER_CONDITIONAL)
            r->vars_changed = true;
    }
}
