/* Work handed out by the engine: a task for a person when a token reaches a user task, a
 * job for a worker when it reaches a service task. The task takes its candidates, assignee,
 * due and remind times from the stage settings; an expression there that fails raises an
 * incident instead of creating a task nobody could rely on. Boundary timer events of
 * either kind of task are armed once the token rests there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "flowd/feel.h"
#include "flowd/timecalc.h"

/* Evaluate "=expr" text of a stage field. Returns a new reference, or NULL after raising
 * an incident naming the field. */
static struct fl_value *eval_stage_expr(struct fl__run *r, const struct fl__mover *mv,
                                        const char *field, const char *src)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    struct fl_feel_expr *expr = NULL;
    struct fl_value *vars = NULL;
    struct fl_feel_env env = {NULL, r->ctx->now_ms, r->ctx->tz_offset_min};
    struct fl_feel_diag diag;
    struct fl_error err;
    struct fl_value *v;

    /* NEEDSWORK: the model keeps these as text, so each task compiles its expression; the
     * reader could compile them once when stages get expression fields of their own. */
    fl_error_clear(&err);
    if (fl_feel_compile(src, strlen(src), &expr, &err) < 0) {
        fl__run_incident(r, mv, 0, "%s of task '%s' (%s) is not a valid expression: %s", field,
                         node->id, src, err.msg);
        return NULL;
    }
    diag.msg[0] = '\0';
    vars = fl__run_vars(r, mv->id, mv->scope); /* what the token sees through its scopes */
    env.vars = vars;
    v = fl_feel_eval(expr, &env, &diag);
    fl_feel_free(expr);
    fl_value_unref(vars);
    if (diag.msg[0]) {
        fl__run_incident(r, mv, 0, "%s of task '%s' (%s) cannot be evaluated: %s", field, node->id,
                         src, diag.msg);
        fl_value_unref(v);
        return NULL;
    }
    return v;
}

/* Assignee: plain text, or an expression giving a string (other values as FEEL text; null
 * means nobody). Returns 0, or -1 after raising an incident. */
static int task_assignee(struct fl__run *r, const struct fl__mover *mv, const char *text,
                         const char **out)
{
    int is_expr;
    const char *src = fl_feel_strip(text, &is_expr);
    struct fl_value *v;
    struct fl_buf *b;

    *out = NULL;
    if (!is_expr) {
        *out = text[0] ? text : NULL;
        return 0;
    }
    v = eval_stage_expr(r, mv, "assignee", src);
    if (!v)
        return -1;
    if (fl_value_type(v) == FL_VSTRING) {
        size_t len;
        const char *s = fl_value_str(v, &len);
        *out = len ? fl__fx_strndup(r->fx, s, len) : NULL;
    } else if (fl_value_type(v) != FL_VNULL) {
        b = fl__fx_scratch(r->fx);
        fl_value_to_text(v, b);
        *out = fl__fx_scratch_keep(r->fx);
    }
    fl_value_unref(v);
    return 0;
}

/* An instant from ISO text: with Z or an offset, a plain date (midnight UTC), or a local
 * date-time taken in the context's offset. */
static int parse_instant(const struct fl__run *r, const char *s, int64_t *out)
{
    char tmp[64];
    size_t n = strlen(s);
    if (fl_time_parse(s, out) == 0)
        return 0;
    if (n == 0 || n + 2 > sizeof(tmp) || !strchr(s, 'T'))
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = 'Z';
    tmp[n + 1] = '\0';
    if (fl_time_parse(tmp, out) != 0)
        return -1;
    *out -= (int64_t)r->ctx->tz_offset_min * 60000;
    return 0;
}

/* Due time from the stage's due date (text or expression). 0, or -1 after an incident. */
static int due_from_date(struct fl__run *r, const struct fl__mover *mv, const char *text,
                         int64_t *due)
{
    int is_expr, rc = -1;
    const char *src = fl_feel_strip(text, &is_expr);
    struct fl_value *v = NULL;
    const char *iso = src;

    if (is_expr) {
        struct fl_buf *b;
        enum fl_vtype t;
        v = eval_stage_expr(r, mv, "due date", src);
        if (!v)
            return -1;
        t = fl_value_type(v);
        if (t == FL_VNULL) {
            fl_value_unref(v);
            *due = 0; /* nothing due: no due time */
            return 0;
        }
        if (t != FL_VDATETIME && t != FL_VDATE && t != FL_VSTRING) {
            fl__run_incident(r, mv, 0, "due date of task '%s' (%s) gives a %s, not a date and time",
                             r->m->nodes[mv->node].id, src, fl_value_type_name(t));
            goto out;
        }
        /* JSON writes dates and times as their ISO 8601 strings; drop the quotes. */
        b = fl__fx_scratch(r->fx);
        fl_value_to_json(v, b);
        if (b->len >= 2 && b->ptr[0] == '"') {
            b->ptr[b->len - 1] = '\0';
            iso = b->ptr + 1;
        } else {
            iso = b->ptr;
        }
    }
    if (parse_instant(r, iso, due) != 0) {
        fl__run_incident(r, mv, 0, "due date of task '%s' ('%s') is not a date and time",
                         r->m->nodes[mv->node].id, iso);
        goto out;
    }
    rc = 0;
out:
    fl_value_unref(v);
    return rc;
}

/* now (or due) plus an ISO duration, negated for reminders: in working time on the
 * stage's calendar when it names one and the context can do working time, else in plain
 * calendar time. 0, or -1 after an incident. */
static int add_duration(struct fl__run *r, const struct fl__mover *mv, const char *what,
                        const char *text, const char *calendar, int64_t from, bool before,
                        int64_t *out)
{
    struct fl_iso_duration d;
    struct fl_error err;
    int rc;

    fl_error_clear(&err);
    if (fl_iso_duration_parse(text, &d, &err) != 0) {
        fl__run_incident(r, mv, 0, "%s of task '%s' ('%s') is not an ISO 8601 duration: %s", what,
                         r->m->nodes[mv->node].id, text, err.msg);
        return -1;
    }
    if (before)
        d.negative = !d.negative;
    if (!calendar || !calendar[0] || !r->ctx->calendar_add) {
        *out = fl_iso_duration_add(from, &d);
        return 0;
    }
    rc = r->ctx->calendar_add(r->ctx->calendar_arg, calendar, from, &d, out, &err);
    if (rc != 0) {
        fl__run_incident(r, mv, 0, "%s of task '%s' ('%s') on calendar '%s': %s", what,
                         r->m->nodes[mv->node].id, text, calendar,
                         err.msg[0] ? err.msg : fl_err_message(rc));
        return -1;
    }
    return 0;
}

void fl__enter_user_task(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    const struct fl_stage *st = node->stage;
    int64_t now = r->ctx->now_ms, due = 0, remind = 0;
    const char *assignee = NULL;
    struct fl_effect *e;
    struct fl_task *t;
    uint64_t task_id;
    int64_t *bdue;
    uint32_t *brepeat;

    if (st && st->assignee && task_assignee(r, mv, st->assignee, &assignee) < 0)
        return;
    /* An explicit due date is more specific than the stage's usual duration. */
    if (st && st->due_date && st->due_date[0]) {
        if (due_from_date(r, mv, st->due_date, &due) < 0)
            return;
    } else if (st && st->duration && st->duration[0]) {
        if (add_duration(r, mv, "duration", st->duration, st->calendar, now, false, &due) < 0)
            return;
    }
    if (due && st->remind_before && st->remind_before[0] &&
        add_duration(r, mv, "remind-before", st->remind_before, st->calendar, due, true,
                     &remind) < 0)
        return;
    if (fl__boundary_dues(r, mv, &bdue, &brepeat) < 0)
        return;

    task_id = fl__run_id(r, FL_ID_TASK);
    e = fl__fx_push(r->fx, FL_FX_TASK_CREATE);
    t = &e->u.task;
    t->id = task_id;
    t->instance_id = r->inst->id;
    t->token_id = mv->id;
    t->node_id = node->id;
    t->name = node->name ? node->name : node->id;
    t->assignee = assignee;
    /* Candidates: explicit groups, else the responsible roles (RACI R), else the lane. */
    if (st && st->candidate_groups.n) {
        t->candidate_roles = st->candidate_groups;
    } else if (st && st->responsible.n) {
        t->candidate_roles = st->responsible;
    } else if (node->lane) {
        char **one = fl__fx_alloc(r->fx, sizeof(*one));
        one[0] = node->lane;
        t->candidate_roles.items = one;
        t->candidate_roles.n = 1;
    }
    if (st)
        t->candidate_users = st->candidate_users;
    t->created_at = now;
    t->due_at = due;
    t->remind_at = remind;
    t->main_action_kind = st ? st->main_action_kind : NULL;
    t->main_action_required = st ? st->main_action_required : false;
    fl__run_event(r, FL_EV_TASK_CREATED, mv->id, task_id, node->id, NULL);
    fl__task_timers_create(r, task_id, mv->id, mv->node, due, remind);

    struct fl_token tok = fl__token_at(mv, FL_TOKEN_WAITING);
    tok.task_id = task_id;
    fl__run_park(r, &tok);
    if (bdue)
        fl__arm_boundaries(r, mv, bdue, brepeat);
}

void fl__enter_service_task(struct fl__run *r, const struct fl__mover *mv)
{
    const struct fl_node *node = &r->m->nodes[mv->node];
    struct fl_effect *e;
    struct fl_buf *b;
    uint64_t job_id;
    int64_t *bdue;
    uint32_t *brepeat;

    if (!node->job_type || !node->job_type[0]) {
        fl__run_incident(r, mv, 0, "service task '%s' has no job type", node->id);
        return;
    }
    if (fl__boundary_dues(r, mv, &bdue, &brepeat) < 0)
        return;
    job_id = fl__run_id(r, FL_ID_JOB);
    e = fl__fx_push(r->fx, FL_FX_JOB_CREATE);
    e->u.job.id = job_id;
    e->u.job.instance_id = r->inst->id;
    e->u.job.token_id = mv->id;
    e->u.job.node_id = node->id;
    e->u.job.type = node->job_type;
    e->u.job.retries = node->job_retries;
    if (r->resolve_token && r->resolve_token == mv->id) {
        /* An incident resolved with new retries: they are this job's, once. */
        if (r->resolve_retries > 0)
            e->u.job.retries = r->resolve_retries;
        r->resolve_token = 0;
    }
    e->u.job.created_at = r->ctx->now_ms;
    b = fl__fx_scratch(r->fx);
    fl_buf_adds(b, "{\"type\":");
    fl_json_cstring(b, node->job_type);
    fl_buf_addc(b, '}');
    fl__run_event(r, FL_EV_JOB_CREATED, mv->id, job_id, node->id, fl__fx_scratch_keep(r->fx));

    struct fl_token tok = fl__token_at(mv, FL_TOKEN_WAITING);
    tok.job_id = job_id;
    fl__run_park(r, &tok);
    if (bdue)
        fl__arm_boundaries(r, mv, bdue, brepeat);
}
