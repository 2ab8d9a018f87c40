/* Messages and signals in the engine: a token that reaches a message or signal catch event
 * or a receive task rests there with a subscription, an event-based gateway rests with one
 * subscription (or timer) per catch event after it, and an activity's message and signal
 * boundary events subscribe while its token rests there. FL_CMD_CORRELATE delivers a
 * message or signal to one subscription; throwing ones (send task, message throw and end
 * events, signal throw and end events) only leave FL_FX_OUTBOX / FL_FX_SIGNAL effects,
 * which the service delivers across instances. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "flowd/alloc.h"
#include "flowd/feel.h"

/* ---- what a node waits for or throws ---- */

static enum fl_trigger trigger_of(const struct fl_node *n)
{
    return n->event ? n->event->trigger : FL_TRIGGER_NONE;
}

static bool is_msg_or_signal(enum fl_trigger t)
{
    return t == FL_TRIGGER_MESSAGE || t == FL_TRIGGER_SIGNAL;
}

bool fl__is_message_catch(const struct fl_node *n)
{
    switch (n->kind) {
    case FL_NODE_RECEIVE_TASK:
        return trigger_of(n) == FL_TRIGGER_MESSAGE;
    case FL_NODE_CATCH_EVENT:
    case FL_NODE_BOUNDARY_EVENT:
        return is_msg_or_signal(trigger_of(n));
    default:
        return false;
    }
}

/* ---- expressions: names and correlation keys ---- */

/* Evaluate "=expr" text (or take it literally) over vars into *out (arena text). A string
 * is taken as it is; a number (correlation keys) as its decimal text. 0, or -1 with why. */
static int eval_text(struct fl__run *r, const char *text, const struct fl_value *vars,
                     bool number_ok, const char **out, char *why, size_t why_len)
{
    struct fl_feel_env env = {vars, r->ctx->now_ms, r->ctx->tz_offset_min};
    struct fl_feel_expr *expr = NULL;
    struct fl_feel_diag diag;
    struct fl_error err;
    struct fl_value *v;
    const char *src;
    int is_expr, rc = 0;

    src = fl_feel_strip(text, &is_expr);
    if (!is_expr) {
        *out = fl__fx_strdup(r->fx, text);
        return 0;
    }
    fl_error_clear(&err);
    if (fl_feel_compile(src, strlen(src), &expr, &err) < 0) {
        snprintf(why, why_len, "is not a valid expression: %.200s", err.msg);
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
    } else if (number_ok && fl_value_type(v) == FL_VNUMBER) {
        struct fl_buf *b = fl__fx_scratch(r->fx);
        fl_value_number_format(v, b);
        *out = fl__fx_scratch_keep(r->fx);
    } else {
        snprintf(why, why_len, "gives a %s, not a %s", fl_value_type_name(fl_value_type(v)),
                 number_ok ? "string or number" : "string");
        rc = -1;
    }
    fl_value_unref(v);
    return rc;
}

/* The evaluated name and correlation key of the message/signal event at node `at`, seen
 * by token mv. Arena strings; *key NULL when the node names none (or for a signal). 0, or
 * -1 after raising an incident at mv. */
static int eval_event(struct fl__run *r, const struct fl__mover *mv, uint32_t at, const char **name,
                      const char **key)
{
    const struct fl_node *node = &r->m->nodes[at];
    const struct fl_event_def *ev = node->event;
    struct fl_value *vars;
    char why[300];
    int rc = 0;

    *name = *key = NULL;
    if (!ev || !ev->name || !ev->name[0]) {
        fl__run_incident(r, mv, 0, "%s '%s' names no %s", fl_node_kind_name(node->kind), node->id,
                         ev ? fl_trigger_name(ev->trigger) : "message");
        return -1;
    }
    vars = fl__run_vars(r, mv->id, mv->scope);
    if (eval_text(r, ev->name, vars, false, name, why, sizeof(why)) < 0) {
        fl__run_incident(r, mv, 0, "%s name of '%s' (%s) %s", fl_trigger_name(ev->trigger),
                         node->id, ev->name, why);
        rc = -1;
    } else if (ev->trigger == FL_TRIGGER_MESSAGE && ev->correlation_key && ev->correlation_key[0] &&
               eval_text(r, ev->correlation_key, vars, true, key, why, sizeof(why)) < 0) {
        fl__run_incident(r, mv, 0, "correlation key of '%s' (%s) %s", node->id, ev->correlation_key,
                         why);
        rc = -1;
    }
    fl_value_unref(vars);
    return rc;
}

/* ---- subscriptions ---- */

size_t fl__inst_find_sub(const struct fl_instance *inst, uint64_t id)
{
    for (size_t i = 0; i < inst->n_subs; i++)
        if (inst->subs[i].id == id)
            return i;
    return SIZE_MAX;
}

void fl__subs_open(struct fl__run *r, uint64_t token_id, uint32_t node, bool interrupting,
                   const char *name, const char *key)
{
    struct fl_subscription s = {
        .id = fl__run_id(r, FL_ID_SUBSCRIPTION),
        .token_id = token_id,
        .node = node,
        .trigger = (uint8_t)trigger_of(&r->m->nodes[node]),
        .interrupting = interrupting,
        .name = (char *)(uintptr_t)name, /* copied by fl__run_sub_open */
        .correlation_key = (char *)(uintptr_t)key,
    };
    fl__run_sub_open(r, &s);
}

/* ---- catching: receive task, catch event, event-based gateway ---- */

static void park_waiting(struct fl__run *r, const struct fl__mover *mv)
{
    struct fl_token tok = fl__token_at(mv, FL_TOKEN_WAITING);
    fl__run_park(r, &tok);
}

static void enter_catch(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    const char *name, *key;
    int64_t *bdue = NULL;
    uint32_t *brepeat = NULL;

    if (eval_event(r, mv, mv->node, &name, &key) < 0)
        return;
    /* A receive task is an activity: its boundary events wait with it. */
    if (node->kind == FL_NODE_RECEIVE_TASK && node->n_boundaries &&
        fl__boundary_dues(r, mv, &bdue, &brepeat) < 0)
        return;
    park_waiting(r, mv);
    fl__subs_open(r, mv->id, mv->node, false, name, key);
    if (bdue)
        fl__arm_boundaries(r, mv, bdue, brepeat);
}

/* The flow from node `from` to node `to`, or FL_NONE. */
static uint32_t flow_between(const struct fl_model *m, uint32_t from, uint32_t to)
{
    const struct fl_node *n = &m->nodes[from];
    for (uint32_t i = 0; i < n->n_outgoing; i++)
        if (m->flows[n->outgoing[i]].target == to)
            return n->outgoing[i];
    return FL_NONE;
}

static void enter_event_gw(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *gw = &r->m->nodes[mv->node];
    uint32_t n = gw->n_outgoing;
    const char **names = fl__fx_alloc(r->fx, (n ? n : 1) * sizeof(*names));
    const char **keys = fl__fx_alloc(r->fx, (n ? n : 1) * sizeof(*keys));
    int64_t *due = fl__fx_alloc(r->fx, (n ? n : 1) * sizeof(*due));
    uint32_t *repeat = fl__fx_alloc(r->fx, (n ? n : 1) * sizeof(*repeat));

    if (n == 0) {
        fl__run_incident(r, mv, 0, "event-based gateway '%s' has no outgoing flows", gw->id);
        return;
    }
    /* Everything is evaluated before the token rests: a failure leaves an incident and no
     * half-opened set of subscriptions. */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t = r->m->flows[gw->outgoing[i]].target;
        const struct fl_node *tn = &r->m->nodes[t];
        names[i] = keys[i] = NULL;
        due[i] = INT64_MIN;
        if (tn->kind == FL_NODE_TIMER_CATCH) {
            char why[400];
            int rc = fl__timer_due(tn, r->inst->variables, r->ctx->now_ms, r->ctx->tz_offset_min,
                                   NULL, &due[i], &repeat[i], why, sizeof(why));
            if (rc == FL_ENOTFOUND) {
                due[i] = INT64_MIN; /* nothing left to wait for: this branch never fires */
            } else if (rc < 0) {
                fl__run_incident(r, mv, 0, "timer of '%s' after gateway '%s' (%s) %s", tn->id,
                                 gw->id, tn->timer ? tn->timer->text : "", why);
                return;
            }
        } else if (fl__is_message_catch(tn)) {
            if (eval_event(r, mv, t, &names[i], &keys[i]) < 0)
                return;
        } else {
            fl__run_incident(r, mv, 0,
                             "event-based gateway '%s' leads to '%s', which is not a message, "
                             "signal or timer catch event or a receive task",
                             gw->id, tn->id);
            return;
        }
    }
    park_waiting(r, mv);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t = r->m->flows[gw->outgoing[i]].target;
        if (names[i]) {
            fl__subs_open(r, mv->id, t, false, names[i], keys[i]);
        } else if (due[i] != INT64_MIN) {
            struct fl_timer tm = {.id = fl__run_id(r, FL_ID_TIMER),
                                  .instance_id = r->inst->id,
                                  .token_id = mv->id,
                                  .node = t,
                                  .kind = FL_TIMER_EVENT,
                                  .due_at = due[i]};
            fl__run_timer_set(r, &tm);
        }
    }
}

void fl__event_gw_win(struct fl__run *r, size_t ti, uint32_t target)
{
    struct fl_token tok = r->inst->tokens[ti];
    uint32_t f = flow_between(r->m, tok.node, target);
    struct fl__mover mv = {.id = tok.id,
                           .node = target,
                           .flow = f,
                           .stored = true,
                           .leaving = true,
                           .scope = tok.scope,
                           .loop = tok.loop};
    struct fl_buf *b;
    const char *detail = NULL;

    /* The first event wins: every other subscription and timer of the gateway goes. */
    fl__run_subs_close(r, tok.id);
    fl__run_drop_timers(r, tok.id);
    fl__inst_remove_token(r->inst, ti);
    fl__run_event(r, FL_EV_NODE_LEFT, tok.id, 0, r->m->nodes[tok.node].id, NULL);
    if (f != FL_NONE) {
        b = fl__fx_scratch(r->fx);
        fl_buf_adds(b, "{\"flow\":");
        fl_json_cstring(b, r->m->flows[f].id);
        fl_buf_addc(b, '}');
        detail = fl__fx_scratch_keep(r->fx);
    }
    fl__run_event(r, FL_EV_NODE_ENTERED, tok.id, 0, r->m->nodes[target].id, detail);
    fl__run_push(r, &mv);
}

/* ---- throwing ---- */

/* The variables a thrown message or signal carries: the node's input mappings when it has
 * any, else (messages) every variable the token sees, else (signals) none. A new reference
 * or NULL; *failed after raising an incident. */
static struct fl_value *payload(struct fl__run *r, const struct fl__mover *mv, bool all,
                                bool *failed)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    struct fl_value *vars = fl__run_vars(r, mv->id, mv->scope), *out;
    struct fl_feel_env env = {vars, r->ctx->now_ms, r->ctx->tz_offset_min};

    *failed = false;
    if (!node->n_inputs) {
        if (all)
            return vars;
        fl_value_unref(vars);
        return NULL;
    }
    out = fl_value_context_new();
    for (size_t i = 0; i < node->n_inputs; i++) {
        const struct fl_mapping *mp = &node->inputs[i];
        struct fl_feel_diag diag;
        struct fl_value *v;
        diag.msg[0] = '\0';
        v = mp->source ? fl_feel_eval(mp->source, &env, &diag) : fl_value_null();
        if (diag.msg[0]) {
            fl__run_incident(r, mv, 0, "input mapping '%s' of '%s' (%s) failed: %s", mp->target,
                             node->id, fl_feel_source(mp->source), diag.msg);
            fl_value_unref(v);
            fl_value_unref(out);
            fl_value_unref(vars);
            *failed = true;
            return NULL;
        }
        /* NEEDSWORK: a dotted target ("a.b") is set as one name, not a nested context. */
        fl_value_context_set(out, mp->target, strlen(mp->target), v);
    }
    fl_value_unref(vars);
    return out;
}

/* Put the message of node mv->node into the outbox. 0, or -1 after an incident. */
static int throw_message(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    const char *name, *key;
    struct fl_value *vars;
    struct fl_effect *e;
    struct fl_buf *b;
    bool failed;
    uint64_t id;

    if (eval_event(r, mv, mv->node, &name, &key) < 0)
        return -1;
    vars = payload(r, mv, true, &failed);
    if (failed)
        return -1;
    id = fl__run_id(r, FL_ID_MESSAGE);
    e = fl__fx_push(r->fx, FL_FX_OUTBOX);
    e->u.msg.id = id;
    e->u.msg.token_id = mv->id;
    e->u.msg.node_id = node->id;
    e->u.msg.name = name;
    e->u.msg.correlation_key = key;
    e->u.msg.variables = vars ? fl__fx_hold(r->fx, vars) : NULL;
    fl_value_unref(vars);
    b = fl__fx_scratch(r->fx);
    fl_buf_adds(b, "{\"name\":");
    fl_json_cstring(b, name);
    if (key) {
        fl_buf_adds(b, ",\"correlation_key\":");
        fl_json_cstring(b, key);
    }
    fl_buf_addf(b, ",\"message\":%llu}", (unsigned long long)id);
    fl__run_event(r, FL_EV_MESSAGE_SENT, mv->id, id, node->id, fl__fx_scratch_keep(r->fx));
    return 0;
}

static int throw_signal(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    const char *name, *key;
    struct fl_value *vars;
    struct fl_effect *e;
    struct fl_buf *b;
    bool failed;

    if (eval_event(r, mv, mv->node, &name, &key) < 0)
        return -1;
    vars = payload(r, mv, false, &failed);
    if (failed)
        return -1;
    e = fl__fx_push(r->fx, FL_FX_SIGNAL);
    e->u.msg.token_id = mv->id;
    e->u.msg.node_id = node->id;
    e->u.msg.name = name;
    e->u.msg.variables = vars ? fl__fx_hold(r->fx, vars) : NULL;
    fl_value_unref(vars);
    b = fl__fx_scratch(r->fx);
    fl_buf_adds(b, "{\"name\":");
    fl_json_cstring(b, name);
    fl_buf_addc(b, '}');
    fl__run_event(r, FL_EV_SIGNAL_THROWN, mv->id, 0, node->id, fl__fx_scratch_keep(r->fx));
    return 0;
}

bool fl__message_enter(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    enum fl_trigger t = trigger_of(node);
    struct fl__mover out = *mv;
    int rc;

    switch (node->kind) {
    case FL_NODE_RECEIVE_TASK:
    case FL_NODE_CATCH_EVENT:
        if (!fl__is_message_catch(node))
            return false;
        enter_catch(r, mv);
        return true;
    case FL_NODE_EVENT_GW:
        enter_event_gw(r, mv);
        return true;
    case FL_NODE_SEND_TASK:
        if (node->job_type)
            return false; /* a job, as a service task */
        rc = throw_message(r, mv);
        break;
    case FL_NODE_THROW_EVENT:
    case FL_NODE_EVENT_END:
        if (t == FL_TRIGGER_MESSAGE)
            rc = throw_message(r, mv);
        else if (t == FL_TRIGGER_SIGNAL)
            rc = throw_signal(r, mv);
        else
            return false;
        break;
    default:
        return false;
    }
    if (rc < 0)
        return true; /* an incident holds the token */
    if (node->kind == FL_NODE_EVENT_END) {
        fl__run_event(r, FL_EV_NODE_LEFT, mv->id, 0, node->id, NULL);
        if (mv->stored) {
            struct fl_effect *e = fl__fx_push(r->fx, FL_FX_TOKEN_DEL);
            e->u.token.id = mv->id;
            e->u.token.node = FL_NONE;
            e->u.token.flow = FL_NONE;
        }
        return true;
    }
    out.leaving = true;
    fl__run_push(r, &out);
    return true;
}

/* ---- FL_CMD_CORRELATE ---- */

int fl__correlate_check(const struct fl_model *m, const struct fl_instance *inst,
                        const struct fl_command *cmd, size_t *si, size_t *ti, struct fl_error *err)
{
    const struct fl_subscription *s;
    const struct fl_token *t;
    const struct fl_node *sn;

    *si = fl__inst_find_sub(inst, cmd->target_id);
    if (*si == SIZE_MAX)
        return fl_error_set(err, FL_ENOTFOUND, "subscription %llu is not open in instance %llu",
                            (unsigned long long)cmd->target_id, (unsigned long long)inst->id);
    s = &inst->subs[*si];
    if (s->node >= m->n_nodes)
        return fl_error_set(err, FL_EINVAL, "subscription %llu is at node %u, not in process '%s'",
                            (unsigned long long)s->id, s->node, m->key ? m->key : "");
    if (fl__is_event_sub_start(m, s->node)) {
        /* an event subprocess's start: owned by its scope (token 0 at process level) */
        *ti = s->token_id ? fl__inst_find_token(inst, s->token_id) : SIZE_MAX;
        if (s->token_id && *ti == SIZE_MAX)
            return fl_error_set(err, FL_ENOTFOUND, "subscription %llu waits with no scope",
                                (unsigned long long)s->id);
        return 0;
    }
    *ti = fl__inst_find_token(inst, s->token_id);
    if (*ti == SIZE_MAX)
        return fl_error_set(err, FL_ENOTFOUND, "subscription %llu waits with no token",
                            (unsigned long long)s->id);
    t = &inst->tokens[*ti];
    sn = &m->nodes[s->node];
    if (t->node >= m->n_nodes)
        return fl_error_set(err, FL_EINVAL, "token %llu is at node %u, not in process '%s'",
                            (unsigned long long)t->id, t->node, m->key ? m->key : "");
    if (t->node == s->node || m->nodes[t->node].kind == FL_NODE_EVENT_GW)
        return 0;
    if (sn->kind == FL_NODE_BOUNDARY_EVENT && sn->attached_to == t->node) {
        /* as timers: an activity stuck in an incident is not interrupted */
        if (t->state != FL_TOKEN_WAITING && t->state != FL_TOKEN_SCOPE)
            return fl_error_set(err, FL_ECONFLICT,
                                "activity '%s' has an incident: its boundary event '%s' waits",
                                m->nodes[t->node].id, sn->id);
        return 0;
    }
    return fl_error_set(err, FL_EUNSUPPORTED, "subscription %llu at '%s' cannot be correlated yet",
                        (unsigned long long)s->id, sn->id);
}

void fl__correlate(struct fl__run *r, size_t si, size_t ti, const struct fl_value *vars)
{
    struct fl_instance *inst = r->inst;
    struct fl_subscription sub = inst->subs[si];
    struct fl_token tok = ti == SIZE_MAX ? (struct fl_token){0} : inst->tokens[ti];
    const struct fl_node *sn = &r->m->nodes[sub.node];
    struct fl_buf *b = fl__fx_scratch(r->fx);

    fl_buf_adds(b, "{\"trigger\":");
    fl_json_cstring(b, fl_trigger_name((enum fl_trigger)sub.trigger));
    fl_buf_adds(b, ",\"name\":");
    fl_json_cstring(b, sub.name ? sub.name : "");
    if (sub.correlation_key) {
        fl_buf_adds(b, ",\"correlation_key\":");
        fl_json_cstring(b, sub.correlation_key);
    }
    fl_buf_addc(b, '}');
    fl__run_event(r, FL_EV_MESSAGE_CORRELATED, tok.id, sub.id, sn->id, fl__fx_scratch_keep(r->fx));
    if (vars && fl_value_context_len(vars))
        fl__run_set_vars(r, vars, tok.id, tok.scope, sn->id);
    if (fl__is_event_sub_start(r->m, sub.node)) {
        /* an interrupting start closes this subscription with the scope's others; a
         * non-interrupting one stays open for the next message or signal */
        fl__scope_start_event_sub(r, sub.node, sub.token_id, NULL);
        return;
    }

    if (tok.node == sub.node) {
        /* a catch event or receive task: done waiting */
        struct fl__mover mv = fl__mover_of(&tok, true);
        fl__run_subs_close(r, tok.id);
        fl__run_drop_timers(r, tok.id);
        fl__inst_remove_token(inst, fl__inst_find_token(inst, tok.id));
        fl__run_push(r, &mv);
        return;
    }
    if (r->m->nodes[tok.node].kind == FL_NODE_EVENT_GW) {
        fl__event_gw_win(r, ti, sub.node);
        return;
    }
    /* a boundary event of the activity the token rests at (engine_boundary.c) */
    fl__boundary_trigger(r, fl__inst_find_token(inst, tok.id), sub.node, false);
}
