/* Unit tests of BPMN timer events in the engine: a token waits at an intermediate catch
 * event until its timer fires (durations, dates, FEEL, an incident for a bad expression);
 * boundary timers on user and service tasks interrupt the task or send a new token while
 * it stays (cycles re-arm and run out); completing, cancelling and terminating delete the
 * timers; timer start events start an instance and compute their next due time. The
 * clock is ctx.now_ms, moved by hand: nothing sleeps. */
#include "engine_fixture.h"

#include <stdio.h>

static void mb_timer(struct fl_model *m, uint32_t n, enum fl_timer_def_kind kind, const char *text)
{
    m->nodes[n].timer = fl_calloc(1, sizeof(*m->nodes[n].timer));
    m->nodes[n].timer->kind = kind;
    m->nodes[n].timer->text = fl_strdup(text);
}

/* Boundary event b on task t. */
static void mb_attach(struct fl_model *m, uint32_t b, uint32_t t, bool interrupting)
{
    struct fl_node *task = &m->nodes[t];
    m->nodes[b].attached_to = t;
    m->nodes[b].cancel_activity = interrupting;
    task->boundaries =
        fl_reallocarray(task->boundaries, task->n_boundaries + 1, sizeof(*task->boundaries));
    task->boundaries[task->n_boundaries++] = b;
}

static void release(struct t_env *t)
{
    for (size_t i = 0; i < t->m->n_nodes; i++) {
        struct fl_node *n = &t->m->nodes[i];
        if (n->timer)
            free(n->timer->text);
        free(n->timer);
        free(n->boundaries);
    }
    free(t->m->timer_starts);
    t_env_release(t);
}

static int fire(struct t_env *t, uint64_t timer_id)
{
    struct fl_command cmd = {.kind = FL_CMD_FIRE_TIMER, .target_id = timer_id};
    return t_apply(t, &cmd);
}

static const struct fl_timer *timer_set(const struct t_env *t, size_t i)
{
    const struct fl_effect *e = fx_nth(&t->fx, FL_FX_TIMER_SET, i);
    if (!e)
        fail_msg("no TIMER_SET #%zu", i);
    return &e->u.timer;
}

/* start -> c (catch event) -> end */
static struct fl_model *catch_model(enum fl_timer_def_kind kind, const char *text)
{
    struct fl_model *m = mb_new("wait");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t c = mb_node(m, FL_NODE_TIMER_CATCH, "c");
    uint32_t e = mb_node(m, FL_NODE_END_EVENT, "end");
    mb_timer(m, c, kind, text);
    mb_flow(m, "f1", s, c, NULL);
    mb_flow(m, "f2", c, e, NULL);
    return m;
}

static void test_catch_duration(void **state)
{
    struct t_env t;
    struct fl_timer tm;
    const struct fl_event *ev;
    (void)state;
    t_env_init(&t, catch_model(FL_TIMERDEF_DURATION, "PT1H"));
    t_start(&t, NULL);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    assert_int_equal(t.inst->n_tokens, 1);
    assert_int_equal(t.inst->tokens[0].state, FL_TOKEN_WAITING);
    assert_int_equal(t.inst->tokens[0].node, t_node(t.m, "c"));
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_SET), 1);
    tm = *timer_set(&t, 0);
    assert_int_equal(tm.kind, FL_TIMER_EVENT);
    assert_int_equal(tm.node, t_node(t.m, "c"));
    assert_int_equal(tm.token_id, t.inst->tokens[0].id);
    assert_int_equal(tm.instance_id, t.inst->id);
    assert_int_equal(tm.ref_id, 0);
    assert_int_equal(tm.repeat, 0);
    assert_int_equal(tm.due_at, T_NOW + T_HOUR);
    assert_true(tm.id != 0);
    assert_int_equal(t.inst->n_timers, 1);
    assert_memory_equal(&t.inst->timers[0], &tm, sizeof(tm));

    /* an unknown timer is refused, nothing changes */
    uint64_t rev = t.inst->revision;
    assert_int_equal(fire(&t, tm.id + 100), FL_ENOTFOUND);
    assert_int_equal(t.fx.n, 0);
    assert_int_equal(t.inst->revision, rev);
    /* nor does a firing before the timer is due */
    t.ctx.now_ms = tm.due_at - 1;
    assert_int_equal(fire(&t, tm.id), FL_ECONFLICT);
    assert_int_equal(t.fx.n, 0);
    assert_int_equal(t.inst->n_timers, 1);

    t.ctx.now_ms = tm.due_at;
    assert_int_equal(fire(&t, tm.id), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 1);
    assert_int_equal(fx_nth(&t.fx, FL_FX_TIMER_DEL, 0)->u.timer.id, tm.id);
    ev = ev_nth(&t.fx, FL_EV_TIMER_FIRED, 0);
    assert_non_null(ev);
    assert_string_equal(ev->node_id, "c");
    assert_int_equal(ev->ref_id, tm.id);
    assert_int_equal(ev->token_id, tm.token_id);
    assert_int_equal(t.inst->n_timers, 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    assert_int_equal(fx_count(&t.fx, FL_FX_TOKEN_DEL), 1);

    /* it fired: a second firing finds nothing */
    assert_int_equal(fire(&t, tm.id), FL_ENOTFOUND);
    release(&t);
}

static void test_catch_forms(void **state)
{
    struct t_env t;
    (void)state;
    /* a date in text */
    t_env_init(&t, catch_model(FL_TIMERDEF_DATE, "2026-12-01T09:00:00Z"));
    t_start(&t, NULL);
    assert_int_equal(timer_set(&t, 0)->due_at, 1796115600000LL);
    release(&t);

    /* a date without zone: the context's offset (UTC+1) */
    t_env_init(&t, catch_model(FL_TIMERDEF_DATE, "2026-12-01T10:00:00"));
    t.ctx.tz_offset_min = 60;
    t_start(&t, NULL);
    assert_int_equal(timer_set(&t, 0)->due_at, 1796115600000LL);
    release(&t);

    /* a FEEL duration from the variables */
    t_env_init(&t, catch_model(FL_TIMERDEF_DURATION, "=duration(\"PT\" + string(mins) + \"M\")"));
    t_start(&t, "{\"mins\": 5}");
    assert_int_equal(timer_set(&t, 0)->due_at, T_NOW + 5 * 60000);
    release(&t);

    /* a FEEL duration given as text */
    t_env_init(&t, catch_model(FL_TIMERDEF_DURATION, "=wait"));
    t_start(&t, "{\"wait\": \"P2D\"}");
    assert_int_equal(timer_set(&t, 0)->due_at, T_NOW + 2 * T_DAY);
    release(&t);

    /* a FEEL date and time */
    t_env_init(&t, catch_model(FL_TIMERDEF_DATE, "=date and time(\"2026-12-01T09:00:00Z\")"));
    t_start(&t, NULL);
    assert_int_equal(timer_set(&t, 0)->due_at, 1796115600000LL);
    release(&t);

    /* a date in the past fires at once (the scheduler sees it overdue) */
    t_env_init(&t, catch_model(FL_TIMERDEF_DATE, "2020-01-01"));
    t_start(&t, NULL);
    assert_int_equal(timer_set(&t, 0)->due_at, 1577836800000LL);
    release(&t);
}

static void expect_incident(const char *text, enum fl_timer_def_kind kind, const char *vars,
                            const char *msg)
{
    struct t_env t;
    const struct fl_effect *e;
    t_env_init(&t, catch_model(kind, text));
    t_start(&t, vars);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_SET), 0);
    assert_int_equal(t.inst->n_timers, 0);
    e = fx_nth(&t.fx, FL_FX_INCIDENT, 0);
    assert_non_null(e);
    if (!strstr(e->u.incident.message, msg))
        fail_msg("incident '%s' does not say '%s'", e->u.incident.message, msg);
    assert_string_equal(e->u.incident.node_id, "c");
    assert_int_equal(t.inst->tokens[0].state, FL_TOKEN_INCIDENT);
    assert_true(t.inst->incident);
    release(&t);
}

static void test_catch_incidents(void **state)
{
    (void)state;
    expect_incident("=wait", FL_TIMERDEF_DURATION, NULL,
                    "timeDuration of timer event 'c' (=wait) cannot be evaluated");
    expect_incident("=42", FL_TIMERDEF_DURATION, NULL,
                    "(=42) gives a number, not a date, duration or cycle text");
    expect_incident("=wait", FL_TIMERDEF_DURATION, "{\"wait\": \"soon\"}",
                    "'soon' is not an ISO 8601 duration");
    expect_incident("=wait", FL_TIMERDEF_DURATION, "{\"wait\": \"-PT1H\"}", "'-PT1H' is negative");
    expect_incident("=when", FL_TIMERDEF_DATE, "{\"when\": \"2026-02-30T10:00:00Z\"}",
                    "day 30 is out of range for 2026-02");
    expect_incident("=(", FL_TIMERDEF_DATE, NULL, "is not a valid expression");
}

/* start -> u (user task) -> end; boundary b on u -> esc (user task) -> end2 */
static struct fl_model *boundary_model(enum fl_node_kind task_kind, bool interrupting,
                                       enum fl_timer_def_kind kind, const char *text)
{
    struct fl_model *m = mb_new("bound");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t u = mb_node(m, task_kind, "u");
    uint32_t e = mb_node(m, FL_NODE_END_EVENT, "end");
    uint32_t b = mb_node(m, FL_NODE_TIMER_BOUNDARY, "b");
    uint32_t esc = mb_node(m, FL_NODE_USER_TASK, "esc");
    uint32_t e2 = mb_node(m, FL_NODE_END_EVENT, "end2");
    if (task_kind == FL_NODE_SERVICE_TASK)
        m->nodes[u].job_type = fl_strdup("mail");
    mb_timer(m, b, kind, text);
    mb_attach(m, b, u, interrupting);
    mb_flow(m, "f1", s, u, NULL);
    mb_flow(m, "f2", u, e, NULL);
    mb_flow(m, "f3", b, esc, NULL);
    mb_flow(m, "f4", esc, e2, NULL);
    return m;
}

static void test_boundary_interrupting_user_task(void **state)
{
    struct t_env t;
    struct fl_timer tm;
    uint64_t task, tok;
    const struct fl_effect *e;
    (void)state;
    t_env_init(&t, boundary_model(FL_NODE_USER_TASK, true, FL_TIMERDEF_DURATION, "PT2H"));
    t_start(&t, NULL);
    task = fx_task(&t.fx, 0);
    tok = t.inst->tokens[0].id;
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_SET), 1);
    tm = *timer_set(&t, 0);
    assert_int_equal(tm.node, t_node(t.m, "b"));
    assert_int_equal(tm.token_id, tok);
    assert_int_equal(tm.due_at, T_NOW + 2 * T_HOUR);

    t.ctx.now_ms = tm.due_at;
    assert_int_equal(fire(&t, tm.id), 0);
    e = fx_nth(&t.fx, FL_FX_TASK_CLOSE, 0);
    assert_non_null(e);
    assert_int_equal(e->u.task_close.id, task);
    assert_int_equal(e->u.task_close.status, FL_TASK_CANCELLED);
    assert_int_equal(ev_nth(&t.fx, FL_EV_TASK_CANCELLED, 0)->ref_id, task);
    assert_non_null(ev_nth(&t.fx, FL_EV_TIMER_FIRED, 0));
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 1);
    /* the same token went on through the boundary to esc */
    assert_int_equal(t.inst->n_tokens, 1);
    assert_int_equal(t.inst->tokens[0].id, tok);
    assert_int_equal(t.inst->tokens[0].node, t_node(t.m, "esc"));
    assert_string_equal(fx_task_of(&t.fx, 0)->node_id, "esc");
    assert_int_equal(t.inst->n_timers, 0);
    /* the old task is gone for good */
    assert_int_equal(t_complete(&t, task, NULL), FL_ENOTFOUND);
    release(&t);
}

static void test_boundary_and_deadline(void **state)
{
    struct t_env t;
    struct fl_model *m = boundary_model(FL_NODE_USER_TASK, true, FL_TIMERDEF_DURATION, "PT30M");
    uint64_t boundary = 0;
    (void)state;
    m->nodes[t_node(m, "u")].stage->duration = fl_strdup("PT1H");
    t_env_init(&t, m);
    t_start(&t, NULL);
    assert_int_equal(t.inst->n_timers, 2); /* the task's deadline and the boundary */
    for (size_t i = 0; i < t.inst->n_timers; i++)
        if (t.inst->timers[i].kind == FL_TIMER_EVENT)
            boundary = t.inst->timers[i].id;
    assert_true(boundary != 0);
    t.ctx.now_ms = T_NOW + 30 * 60000;
    assert_int_equal(fire(&t, boundary), 0);
    /* the boundary's own timer and the cancelled task's deadline */
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 2);
    assert_int_equal(t.inst->n_timers, 0); /* esc has no duration: no deadline */
    release(&t);
}

static void test_boundary_completed_first(void **state)
{
    struct t_env t;
    struct fl_timer tm;
    (void)state;
    t_env_init(&t, boundary_model(FL_NODE_USER_TASK, true, FL_TIMERDEF_DURATION, "PT2H"));
    t_start(&t, NULL);
    tm = *timer_set(&t, 0);
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 1);
    assert_int_equal(fx_nth(&t.fx, FL_FX_TIMER_DEL, 0)->u.timer.id, tm.id);
    assert_int_equal(t.inst->n_timers, 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    release(&t);
}

static void test_boundary_service_task(void **state)
{
    struct t_env t;
    struct fl_timer tm;
    uint64_t job;
    const struct fl_effect *e;
    (void)state;
    t_env_init(&t, boundary_model(FL_NODE_SERVICE_TASK, true, FL_TIMERDEF_DATE,
                                  "=date and time(deadline)"));
    t_start(&t, "{\"deadline\": \"2026-11-24T11:00:00Z\"}");
    job = fx_nth(&t.fx, FL_FX_JOB_CREATE, 0)->u.job.id;
    tm = *timer_set(&t, 0);
    assert_int_equal(tm.due_at, T_NOW + T_DAY);
    t.ctx.now_ms = tm.due_at;
    assert_int_equal(fire(&t, tm.id), 0);
    e = fx_nth(&t.fx, FL_FX_JOB_CLOSE, 0);
    assert_non_null(e);
    assert_int_equal(e->u.job_close.id, job);
    assert_true(e->u.job_close.failed);
    assert_string_equal(e->u.job_close.error, "interrupted by timer");
    assert_string_equal(t.m->nodes[t.inst->tokens[0].node].id, "esc");
    /* the worker's late completion is refused */
    struct fl_command done = {.kind = FL_CMD_COMPLETE_JOB, .target_id = job};
    assert_int_equal(t_apply(&t, &done), FL_ENOTFOUND);
    release(&t);

    /* non-interrupting on a service task: the job stays */
    t_env_init(&t, boundary_model(FL_NODE_SERVICE_TASK, false, FL_TIMERDEF_DURATION, "PT1M"));
    t_start(&t, NULL);
    job = fx_nth(&t.fx, FL_FX_JOB_CREATE, 0)->u.job.id;
    t.ctx.now_ms = timer_set(&t, 0)->due_at;
    assert_int_equal(fire(&t, timer_set(&t, 0)->id), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_JOB_CLOSE), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_SET), 0); /* a duration fires once */
    assert_int_equal(t.inst->n_tokens, 2);
    done.target_id = job;
    assert_int_equal(t_apply(&t, &done), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE); /* esc is still open */
    release(&t);
}

static void test_boundary_cycle(void **state)
{
    struct t_env t;
    struct fl_timer tm, next;
    uint64_t task, tok;
    (void)state;
    t_env_init(&t, boundary_model(FL_NODE_USER_TASK, false, FL_TIMERDEF_CYCLE, "R3/PT1H"));
    t_start(&t, NULL);
    task = fx_task(&t.fx, 0);
    tok = t.inst->tokens[0].id;
    tm = *timer_set(&t, 0);
    assert_int_equal(tm.due_at, T_NOW + T_HOUR);
    assert_int_equal(tm.repeat, 2);

    /* first firing: a new token to esc, the task stays, the next hour is armed */
    t.ctx.now_ms = tm.due_at;
    assert_int_equal(fire(&t, tm.id), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CLOSE), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 1);
    assert_string_equal(fx_task_of(&t.fx, 0)->node_id, "esc");
    assert_true(fx_task_of(&t.fx, 0)->token_id != tok);
    assert_int_equal(t.inst->n_tokens, 2);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 1);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_SET), 1);
    next = *timer_set(&t, 0);
    assert_true(next.id != tm.id);
    assert_int_equal(next.token_id, tok);
    assert_int_equal(next.due_at, T_NOW + 2 * T_HOUR);
    assert_int_equal(next.repeat, 1);
    assert_non_null(strstr(ev_nth(&t.fx, FL_EV_TIMER_FIRED, 0)->detail, "\"left\":2"));

    /* fired half an hour late: the third is next, and the last */
    t.ctx.now_ms = next.due_at + 30 * 60000;
    assert_int_equal(fire(&t, next.id), 0);
    tm = *timer_set(&t, 0);
    assert_int_equal(tm.due_at, T_NOW + 3 * T_HOUR);
    assert_int_equal(tm.repeat, 0);
    t.ctx.now_ms = tm.due_at;
    assert_int_equal(fire(&t, tm.id), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_SET), 0); /* used up */
    assert_int_equal(t.inst->n_timers, 0);
    assert_int_equal(t.inst->n_tokens, 4);

    /* completing the task leaves the escalation tokens running */
    assert_int_equal(t_complete(&t, task, NULL), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 0);
    assert_int_equal(t.inst->n_tokens, 3);
    release(&t);
}

static void test_boundary_cycle_with_start_and_two_timers(void **state)
{
    struct t_env t;
    struct fl_model *m =
        boundary_model(FL_NODE_USER_TASK, false, FL_TIMERDEF_CYCLE, "R/2026-11-24T09:00:00Z/P1D");
    uint32_t u = t_node(m, "u"), x = mb_node(m, FL_NODE_TIMER_BOUNDARY, "x");
    uint32_t e3 = mb_node(m, FL_NODE_END_EVENT, "end3");
    struct fl_timer cyc, stop;
    (void)state;
    mb_timer(m, x, FL_TIMERDEF_DURATION, "P3D");
    mb_attach(m, x, u, true);
    mb_flow(m, "f5", x, e3, NULL);
    t_env_init(&t, m);
    t_start(&t, NULL);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_SET), 2);
    cyc = *timer_set(&t, 0);
    stop = *timer_set(&t, 1);
    assert_int_equal(cyc.node, t_node(m, "b"));
    assert_int_equal(cyc.due_at, T_NOW + 22 * T_HOUR); /* 2026-11-24T09:00Z */
    assert_int_equal(cyc.repeat, UINT32_MAX);
    assert_int_equal(stop.due_at, T_NOW + 3 * T_DAY);

    t.ctx.now_ms = cyc.due_at;
    assert_int_equal(fire(&t, cyc.id), 0);
    cyc = *timer_set(&t, 0);
    assert_int_equal(cyc.due_at, T_NOW + 22 * T_HOUR + T_DAY);
    assert_int_equal(cyc.repeat, UINT32_MAX);

    /* the interrupting one ends the task and takes the cycle with it */
    t.ctx.now_ms = stop.due_at;
    assert_int_equal(fire(&t, stop.id), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 2);
    assert_int_equal(t.inst->n_timers, 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CLOSE), 1);
    /* the escalation token of the first firing still waits at esc */
    assert_int_equal(t.inst->n_tokens, 1);
    assert_int_equal(t.inst->tokens[0].node, t_node(m, "esc"));
    /* the cycle's timer is gone */
    assert_int_equal(fire(&t, cyc.id), FL_ENOTFOUND);
    release(&t);
}

static void test_boundary_bad_expression(void **state)
{
    struct t_env t;
    const struct fl_effect *e;
    (void)state;
    t_env_init(&t, boundary_model(FL_NODE_USER_TASK, true, FL_TIMERDEF_DURATION, "=limit"));
    t_start(&t, NULL);
    /* no task nobody could rely on: an incident at the task instead */
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_SET), 0);
    e = fx_nth(&t.fx, FL_FX_INCIDENT, 0);
    assert_non_null(e);
    assert_string_equal(e->u.incident.node_id, "u");
    assert_non_null(strstr(e->u.incident.message, "timeDuration of timer event 'b' (=limit)"));
    release(&t);

    t_env_init(&t, boundary_model(FL_NODE_SERVICE_TASK, true, FL_TIMERDEF_CYCLE, "=c"));
    t_start(&t, "{\"c\": \"R/P0D\"}");
    assert_int_equal(fx_count(&t.fx, FL_FX_JOB_CREATE), 0);
    assert_non_null(
        strstr(fx_nth(&t.fx, FL_FX_INCIDENT, 0)->u.incident.message, "period 'P0D' is zero"));
    release(&t);
}

static void test_cancel_and_terminate_clean_timers(void **state)
{
    struct t_env t;
    struct fl_command cancel = {.kind = FL_CMD_CANCEL, .reason = "no longer needed"};
    (void)state;
    t_env_init(&t, catch_model(FL_TIMERDEF_DURATION, "PT1H"));
    t_start(&t, NULL);
    uint64_t id = timer_set(&t, 0)->id;
    assert_int_equal(t_apply(&t, &cancel), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 1);
    assert_int_equal(fx_nth(&t.fx, FL_FX_TIMER_DEL, 0)->u.timer.id, id);
    assert_int_equal(t.inst->n_timers, 0);
    t.ctx.now_ms += T_DAY;
    assert_int_equal(fire(&t, id), FL_ENOTFOUND);
    release(&t);

    t_env_init(&t, boundary_model(FL_NODE_USER_TASK, false, FL_TIMERDEF_CYCLE, "R/PT1H"));
    t_start(&t, NULL);
    assert_int_equal(t_apply(&t, &cancel), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 1);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CLOSE), 1);
    assert_int_equal(t.inst->n_timers, 0);
    release(&t);

    /* a terminate end reached by another branch deletes the catch event's timer */
    struct fl_model *m = mb_new("race");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t g = mb_node(m, FL_NODE_PARALLEL_GW, "split");
    uint32_t c = mb_node(m, FL_NODE_TIMER_CATCH, "c");
    uint32_t u = mb_node(m, FL_NODE_USER_TASK, "u");
    uint32_t e = mb_node(m, FL_NODE_END_EVENT, "end");
    uint32_t te = mb_node(m, FL_NODE_TERMINATE_END, "stop");
    mb_timer(m, c, FL_TIMERDEF_DURATION, "P1D");
    mb_flow(m, "f1", s, g, NULL);
    mb_flow(m, "f2", g, c, NULL);
    mb_flow(m, "f3", g, u, NULL);
    mb_flow(m, "f4", c, e, NULL);
    mb_flow(m, "f5", u, te, NULL);
    t_env_init(&t, m);
    t_start(&t, NULL);
    assert_int_equal(t.inst->n_timers, 1);
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 1);
    assert_int_equal(t.inst->n_timers, 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    release(&t);
}

/* ts (timer start) -> u -> end; no none start */
static struct fl_model *timer_start_model(const char *cycle)
{
    struct fl_model *m = mb_new("daily");
    uint32_t ts = mb_node(m, FL_NODE_TIMER_START, "ts");
    uint32_t u = mb_node(m, FL_NODE_USER_TASK, "u");
    uint32_t e = mb_node(m, FL_NODE_END_EVENT, "end");
    mb_timer(m, ts, FL_TIMERDEF_CYCLE, cycle);
    m->timer_starts = fl_calloc(1, sizeof(*m->timer_starts));
    m->timer_starts[0] = ts;
    m->n_timer_starts = 1;
    mb_flow(m, "f1", ts, u, NULL);
    mb_flow(m, "f2", u, e, NULL);
    return m;
}

static void test_timer_start(void **state)
{
    struct t_env t;
    struct fl_command cmd = {.kind = FL_CMD_START};
    struct fl_timer last = {0};
    int64_t due;
    uint32_t repeat;
    (void)state;
    t_env_init(&t, timer_start_model("R2/2026-11-24T09:00:00Z/P1D"));
    assert_int_equal(t.m->start, FL_NONE);
    assert_int_equal(fl_engine_start(t.m, 7, &cmd, &t.ctx, &t.inst, &t.fx, &t.err), FL_EMODEL);
    assert_non_null(strstr(t.err.msg, "has no none start event; its timer start events"));
    cmd.start_node_id = "u";
    assert_int_equal(fl_engine_start(t.m, 7, &cmd, &t.ctx, &t.inst, &t.fx, &t.err), FL_EINVAL);
    assert_string_equal(t.err.field, "start_node_id");
    assert_int_equal(t.fx.n, 0);
    cmd.start_node_id = "ts";
    assert_int_equal(fl_engine_start(t.m, 7, &cmd, &t.ctx, &t.inst, &t.fx, &t.err), 0);
    assert_non_null(
        strstr(ev_nth(&t.fx, FL_EV_INSTANCE_STARTED, 0)->detail, "\"start_event\":\"ts\""));
    assert_string_equal(fx_task_of(&t.fx, 0)->node_id, "u");

    /* the scheduler's view: first, next, used up */
    assert_int_equal(fl_engine_timer_start_due(t.m, 0, T_NOW, 0, NULL, &due, &repeat, &t.err), 0);
    assert_int_equal(due, T_NOW + 22 * T_HOUR);
    assert_int_equal(repeat, 1);
    last.due_at = due;
    last.repeat = repeat;
    assert_int_equal(fl_engine_timer_start_due(t.m, 0, due, 0, &last, &due, &repeat, &t.err), 0);
    assert_int_equal(due, T_NOW + 22 * T_HOUR + T_DAY);
    assert_int_equal(repeat, 0);
    last.due_at = due;
    last.repeat = repeat;
    assert_int_equal(fl_engine_timer_start_due(t.m, 0, due, 0, &last, &due, &repeat, &t.err),
                     FL_ENOTFOUND);
    /* the first occurrence already past: the first one still to come */
    assert_int_equal(
        fl_engine_timer_start_due(t.m, 0, T_NOW + 23 * T_HOUR, 0, NULL, &due, &repeat, &t.err), 0);
    assert_int_equal(due, T_NOW + 22 * T_HOUR + T_DAY);
    assert_int_equal(repeat, 0);
    assert_int_equal(fl_engine_timer_start_due(t.m, 1, T_NOW, 0, NULL, &due, &repeat, &t.err),
                     FL_EINVAL);
    release(&t);

    /* an unbounded cycle without a start counts from now, and a date fires once */
    t_env_init(&t, timer_start_model("R/PT15M"));
    assert_int_equal(fl_engine_timer_start_due(t.m, 0, T_NOW, 0, NULL, &due, &repeat, &t.err), 0);
    assert_int_equal(due, T_NOW + 15 * 60000);
    assert_int_equal(repeat, UINT32_MAX);
    last.due_at = due;
    last.repeat = repeat;
    assert_int_equal(fl_engine_timer_start_due(t.m, 0, due + 1, 0, &last, &due, &repeat, &t.err),
                     0);
    assert_int_equal(due, T_NOW + 30 * 60000);
    t.m->nodes[0].timer->kind = FL_TIMERDEF_DATE;
    free(t.m->nodes[0].timer->text);
    t.m->nodes[0].timer->text = fl_strdup("=today()");
    assert_int_equal(fl_engine_timer_start_due(t.m, 0, T_NOW, 0, NULL, &due, &repeat, &t.err), 0);
    assert_int_equal(due, T_NOW - 11 * T_HOUR);
    assert_int_equal(fl_engine_timer_start_due(t.m, 0, T_NOW, 0, &last, &due, &repeat, &t.err),
                     FL_ENOTFOUND);
    t.m->nodes[0].timer->text[1] = '(';
    assert_int_equal(fl_engine_timer_start_due(t.m, 0, T_NOW, 0, NULL, &due, &repeat, &t.err),
                     FL_EINVAL);
    assert_non_null(strstr(t.err.msg, "timeDate of timer start event 'ts'"));
    assert_string_equal(t.err.element, "ts");
    release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catch_duration),
        cmocka_unit_test(test_catch_forms),
        cmocka_unit_test(test_catch_incidents),
        cmocka_unit_test(test_boundary_interrupting_user_task),
        cmocka_unit_test(test_boundary_and_deadline),
        cmocka_unit_test(test_boundary_completed_first),
        cmocka_unit_test(test_boundary_service_task),
        cmocka_unit_test(test_boundary_cycle),
        cmocka_unit_test(test_boundary_cycle_with_start_and_two_timers),
        cmocka_unit_test(test_boundary_bad_expression),
        cmocka_unit_test(test_cancel_and_terminate_clean_timers),
        cmocka_unit_test(test_timer_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
