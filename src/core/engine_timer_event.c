/* BPMN timer events in the engine: a token that reaches an intermediate timer catch event
 * rests there with a timer, a token that reaches a task with boundary timer events arms
 * one timer per boundary, and firing such a timer (FL_CMD_FIRE_TIMER of kind
 * FL_TIMER_EVENT) moves the waiting token on, interrupts the task, or sends a new token
 * out of a non-interrupting boundary while the task stays (re-arming a cycle). Due times
 * come from the timer definition: a date, now plus a duration, or a cycle's next
 * occurrence; "=expr" definitions are evaluated against the variables, and a failing one
 * raises an incident rather than a timer nobody could rely on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "flowd/alloc.h"
#include "flowd/feel.h"
#include "flowd/timecalc.h"

static const char *const def_names[] = {
    [FL_TIMERDEF_DATE] = "timeDate",
    [FL_TIMERDEF_DURATION] = "timeDuration",
    [FL_TIMERDEF_CYCLE] = "timeCycle",
};

/* ---- due times ---- */

/* Evaluate "=expr" src and write its ISO 8601 text into b (strings as they are; dates,
 * times and durations as FEEL prints them in JSON). 0, or FL_EINVAL with why. */
static int eval_text(const char *src, const struct fl_feel_env *env, struct fl_buf *b, char *why,
                     size_t why_len)
{
    struct fl_feel_expr *expr = NULL;
    struct fl_feel_diag diag;
    struct fl_error err;
    struct fl_value *v;
    enum fl_vtype t;
    int rc = 0;

    fl_error_clear(&err);
    if (fl_feel_compile(src, strlen(src), &expr, &err) < 0) {
        snprintf(why, why_len, "is not a valid expression: %s", err.msg);
        return FL_EINVAL;
    }
    diag.msg[0] = '\0';
    v = fl_feel_eval(expr, env, &diag);
    fl_feel_free(expr);
    t = fl_value_type(v);
    if (diag.msg[0]) {
        snprintf(why, why_len, "cannot be evaluated: %s", diag.msg);
        rc = FL_EINVAL;
    } else if (t == FL_VSTRING) {
        size_t len;
        const char *s = fl_value_str(v, &len);
        fl_buf_add(b, s, len);
    } else if (t == FL_VDATETIME || t == FL_VDATE || t == FL_VDTDURATION || t == FL_VYMDURATION) {
        fl_value_to_json(v, b);
        /* JSON writes them as quoted ISO strings: keep what is inside the quotes */
        if (b->len >= 2 && b->ptr[0] == '"') {
            memmove(b->ptr, b->ptr + 1, b->len - 2);
            b->len -= 2;
            b->ptr[b->len] = '\0';
        }
    } else {
        snprintf(why, why_len, "gives a %s, not a date, duration or cycle text",
                 fl_value_type_name(t));
        rc = FL_EINVAL;
    }
    fl_value_unref(v);
    return rc;
}

/* Cycle occurrence after `after` (anchor for cycles without a start); *repeat gets the
 * firings left after it from `left` (UINT32_MAX unbounded; a first arming passes it). */
static int cycle_next(const struct fl_iso_cycle *c, int64_t anchor, int64_t after, bool rearm,
                      uint32_t left, int64_t *due, uint32_t *repeat)
{
    int64_t n;
    if (fl_iso_cycle_next(c, anchor, after, due, &n) < 0)
        return FL_ENOTFOUND;
    if (c->repeat < 0) {
        *repeat = UINT32_MAX;
    } else if (c->has_start || !rearm) {
        /* numbered from the cycle's own origin */
        *repeat = (uint32_t)(c->repeat - n);
    } else {
        /* numbered from the last firing: n - 1 occurrences were skipped (we were late) */
        if (left != UINT32_MAX && (uint64_t)n > left)
            return FL_ENOTFOUND;
        *repeat = left == UINT32_MAX ? UINT32_MAX : left - (uint32_t)n;
    }
    return 0;
}

int fl__timer_due(const struct fl_node *node, const struct fl_value *vars, int64_t now_ms,
                  int32_t tz_offset_min, const struct fl_timer *last, int64_t *due,
                  uint32_t *repeat, char *why, size_t why_len)
{
    struct fl_feel_env env = {vars, now_ms, tz_offset_min};
    struct fl_buf b = FL_BUF_INIT;
    struct fl_error err;
    struct fl_iso_duration d;
    struct fl_iso_cycle c;
    const char *text, *src;
    int is_expr, rc = 0;

    *repeat = 0;
    why[0] = '\0';
    if (!node->timer || !node->timer->text) {
        snprintf(why, why_len, "has no timer definition");
        return FL_EINVAL;
    }
    text = node->timer->text;
    src = fl_feel_strip(text, &is_expr);
    if (is_expr) {
        if ((rc = eval_text(src, &env, &b, why, why_len)) < 0)
            goto out;
        text = b.ptr;
    }
    fl_error_clear(&err);
    switch (node->timer->kind) {
    case FL_TIMERDEF_DATE:
        if (last) {
            rc = FL_ENOTFOUND; /* a date fires once */
            break;
        }
        if ((rc = fl_iso_instant_parse(text, tz_offset_min, due, &err)) < 0)
            snprintf(why, why_len, "'%.200s' is not a date and time: %s", text, err.msg);
        break;
    case FL_TIMERDEF_DURATION:
        if (last) {
            rc = FL_ENOTFOUND;
            break;
        }
        if ((rc = fl_iso_duration_parse(text, &d, &err)) < 0) {
            snprintf(why, why_len, "'%.200s' is not an ISO 8601 duration", text);
        } else if (d.negative) {
            snprintf(why, why_len, "'%.200s' is negative", text);
            rc = FL_EINVAL;
        } else {
            *due = fl_iso_duration_add(now_ms, &d);
        }
        break;
    case FL_TIMERDEF_CYCLE:
        if (fl_cron_is(text)) {
            /* a cron cycle (Camunda 7) repeats without end, from now or the last firing */
            struct fl_cron cron;
            int64_t after = !last ? now_ms - 1 : last->due_at > now_ms ? last->due_at : now_ms;
            if ((rc = fl_cron_parse(text, &cron, &err)) < 0)
                snprintf(why, why_len, "%s", err.msg);
            else if ((rc = fl_cron_next(&cron, after, tz_offset_min, due)) == 0)
                *repeat = UINT32_MAX;
            break;
        }
        if ((rc = fl_iso_cycle_parse(text, tz_offset_min, &c, &err)) < 0) {
            snprintf(why, why_len, "%s", err.msg);
            break;
        }
        if (!last) {
            /* an occurrence due right now counts: fire it at once */
            rc = cycle_next(&c, now_ms, now_ms - 1, false, 0, due, repeat);
        } else if (last->repeat == 0) {
            rc = FL_ENOTFOUND;
        } else {
            int64_t after = last->due_at > now_ms ? last->due_at : now_ms;
            rc = cycle_next(&c, last->due_at, after, true, last->repeat, due, repeat);
        }
        break;
    }
    if (rc < 0 && rc != FL_ENOTFOUND && !why[0])
        snprintf(why, why_len, "is not valid");
out:
    if (rc < 0 && rc != FL_ENOTFOUND)
        rc = FL_EINVAL;
    fl_buf_release(&b);
    return rc;
}

/* Due time of the timer of node for a token on the move; 0, FL_ENOTFOUND (a cycle with
 * nothing left: no timer), or -1 after raising an incident at mv. */
static int run_due(struct fl__run *r, const struct fl__mover *mv, const struct fl_node *node,
                   int64_t *due, uint32_t *repeat)
{
    char why[400];
    int rc = fl__timer_due(node, r->inst->variables, r->ctx->now_ms, r->ctx->tz_offset_min, NULL,
                           due, repeat, why, sizeof(why));
    if (rc == FL_EINVAL && !node->timer) {
        fl__run_incident(r, mv, 0, "timer event '%s' has no timer definition", node->id);
        return -1;
    }
    if (rc == FL_EINVAL) {
        fl__run_incident(r, mv, 0, "%s of timer event '%s' (%s) %s", def_names[node->timer->kind],
                         node->id, node->timer->text, why);
        return -1;
    }
    return rc;
}

/* ---- the instance's timers ---- */

static void arm(struct fl__run *r, uint64_t token_id, uint32_t node, int64_t due, uint32_t repeat)
{
    struct fl_timer t = {.id = fl__run_id(r, FL_ID_TIMER),
                         .instance_id = r->inst->id,
                         .token_id = token_id,
                         .node = node,
                         .kind = FL_TIMER_EVENT,
                         .repeat = repeat,
                         .due_at = due};
    fl__run_timer_set(r, &t);
}

void fl__run_drop_timers(struct fl__run *r, uint64_t token_id)
{
    for (size_t i = r->inst->n_timers; i-- > 0;)
        if (r->inst->timers[i].kind == FL_TIMER_EVENT && r->inst->timers[i].token_id == token_id)
            fl__run_timer_del(r, i);
}

/* ---- entering ---- */

void fl__enter_timer_catch(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    int64_t due = 0;
    uint32_t repeat = 0;
    int rc = run_due(r, mv, node, &due, &repeat);
    struct fl_token tok = {
        .id = mv->id, .node = mv->node, .flow = FL_NONE, .state = FL_TOKEN_WAITING};

    if (rc == -1)
        return;
    if (rc == FL_ENOTFOUND) {
        /* nothing left to wait for: go straight on */
        struct fl__mover out = *mv;
        out.leaving = true;
        fl__run_push(r, &out);
        return;
    }
    fl__run_park(r, &tok);
    arm(r, mv->id, mv->node, due, 0);
}

int fl__boundary_dues(struct fl__run *r, const struct fl__mover *mv, int64_t **due,
                      uint32_t **repeat)
{
    const struct fl_node *task = &r->m->nodes[mv->node];
    *due = NULL;
    *repeat = NULL;
    if (!task->n_boundaries)
        return 0;
    *due = fl__fx_alloc(r->fx, task->n_boundaries * sizeof(**due));
    *repeat = fl__fx_alloc(r->fx, task->n_boundaries * sizeof(**repeat));
    for (uint32_t i = 0; i < task->n_boundaries; i++) {
        const struct fl_node *b = &r->m->nodes[task->boundaries[i]];
        int rc = run_due(r, mv, b, &(*due)[i], &(*repeat)[i]);
        if (rc == -1)
            return -1;
        if (rc == FL_ENOTFOUND)
            (*due)[i] = INT64_MIN; /* a cycle already over: no timer */
    }
    return 0;
}

void fl__arm_boundaries(struct fl__run *r, const struct fl__mover *mv, const int64_t *due,
                        const uint32_t *repeat)
{
    const struct fl_node *task = &r->m->nodes[mv->node];
    for (uint32_t i = 0; i < task->n_boundaries; i++)
        if (due[i] != INT64_MIN)
            arm(r, mv->id, task->boundaries[i], due[i], repeat[i]);
}

/* ---- firing ---- */

static size_t find_token(const struct fl_instance *inst, uint64_t id)
{
    for (size_t i = 0; i < inst->n_tokens; i++)
        if (inst->tokens[i].id == id)
            return i;
    return SIZE_MAX;
}

static void fired_event(struct fl__run *r, const struct fl_timer *t, const struct fl_node *node)
{
    struct fl_buf *b = fl__fx_scratch(r->fx);
    fl_buf_addf(b, "{\"timer\":%llu", (unsigned long long)t->id);
    if (node->timer && node->timer->kind == FL_TIMERDEF_CYCLE && t->repeat != UINT32_MAX)
        fl_buf_addf(b, ",\"left\":%u", t->repeat);
    fl_buf_addc(b, '}');
    fl__run_event(r, FL_EV_TIMER_FIRED, t->token_id, t->id, node->id, fl__fx_scratch_keep(r->fx));
}

/* The boundary event b of the task token k fired and does not interrupt: a new token
 * leaves through b's flows, and a cycle arms its next occurrence. */
static void fire_non_interrupting(struct fl__run *r, const struct fl_timer *t, uint32_t b)
{
    const struct fl_node *node = &r->m->nodes[b];
    struct fl__mover out = {.id = fl__run_id(r, FL_ID_TOKEN), .node = b, .flow = FL_NONE};
    char why[400];
    int64_t due;
    uint32_t repeat;

    if (node->timer->kind == FL_TIMERDEF_CYCLE &&
        fl__timer_due(node, r->inst->variables, r->ctx->now_ms, r->ctx->tz_offset_min, t, &due,
                      &repeat, why, sizeof(why)) == 0)
        arm(r, t->token_id, b, due, repeat);
    /* NEEDSWORK: a cycle whose "=expr" stops evaluating just stops; an incident would
     * belong to the task's token, which is busy with its task. */
    fl__run_event(r, FL_EV_NODE_ENTERED, out.id, 0, node->id, NULL);
    out.leaving = true;
    fl__run_push(r, &out);
}

void fl__fire_timer_event(struct fl__run *r, const struct fl_timer *timer)
{
    struct fl_instance *inst = r->inst;
    struct fl_timer t = *timer;
    const struct fl_node *node;
    size_t k;

    if (t.node >= r->m->n_nodes || (k = find_token(inst, t.token_id)) == SIZE_MAX)
        return; /* stale: the token moved on without taking its timer along */
    node = &r->m->nodes[t.node];
    if (node->kind == FL_NODE_TIMER_CATCH) {
        struct fl__mover mv = {
            .id = t.token_id, .node = t.node, .flow = FL_NONE, .stored = true, .leaving = true};
        if (inst->tokens[k].node != t.node)
            return;
        fired_event(r, &t, node);
        fl__inst_remove_token(inst, k);
        fl__run_push(r, &mv);
        return;
    }
    if (node->kind != FL_NODE_TIMER_BOUNDARY || inst->tokens[k].node != node->attached_to ||
        inst->tokens[k].state != FL_TOKEN_WAITING)
        return; /* NEEDSWORK: a task stuck in an incident keeps no boundary timer */
    fired_event(r, &t, node);
    if (!node->cancel_activity) {
        fire_non_interrupting(r, &t, t.node);
        return;
    }
    /* Interrupting: the task (or job) is cancelled with every timer of its token, and the
     * token itself leaves through the boundary event. */
    struct fl_token tok = inst->tokens[k];
    struct fl__mover mv = {
        .id = tok.id, .node = t.node, .flow = FL_NONE, .stored = true, .leaving = true};
    fl__run_close_work(r, &tok, "interrupted by timer");
    fl__run_drop_timers(r, tok.id);
    fl__run_event(r, FL_EV_NODE_LEFT, tok.id, 0, r->m->nodes[tok.node].id, NULL);
    fl__inst_remove_token(inst, k);
    fl__run_event(r, FL_EV_NODE_ENTERED, tok.id, 0, node->id, NULL);
    fl__run_push(r, &mv);
}

int fl_engine_timer_start_due(const struct fl_model *m, uint32_t node, int64_t now_ms,
                              int32_t tz_offset_min, const struct fl_timer *last, int64_t *due,
                              uint32_t *repeat, struct fl_error *err)
{
    const struct fl_node *n;
    char why[400];
    int rc;

    if (node >= m->n_nodes || m->nodes[node].kind != FL_NODE_TIMER_START || !m->nodes[node].timer)
        return fl_error_set(err, FL_EINVAL, "node %u of process '%s' is not a timer start event",
                            node, m->key ? m->key : "");
    n = &m->nodes[node];
    rc = fl__timer_due(n, NULL, now_ms, tz_offset_min, last, due, repeat, why, sizeof(why));
    if (rc == FL_EINVAL) {
        fl_error_set(err, FL_EINVAL, "%s of timer start event '%s' (%s) %s",
                     def_names[n->timer->kind], n->id, n->timer->text, why);
        fl_error_at(err, n->id, n->line, n->column);
    }
    return rc;
}
