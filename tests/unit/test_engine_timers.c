/* Engine tests of task deadlines: a user task with a duration sets its deadline and
 * reminder timers; FIRE_TIMER sends the reminder, turns the task overdue (level 0: the
 * accountable role and the assignee's department head), walks the stage's escalation
 * levels on its calendar, and deletes what it fired; completing or cancelling deletes what
 * is pending; a timer fires once (a second fire is FL_ENOTFOUND and changes nothing). */
#include <stdio.h>

#include "engine_fixture.h"
#include "flowd/timecalc.h"

/* start -> offer (user task, P1D, remind PT2H, A = sales_head, levels) -> end */
static struct fl_model *deadline_model(size_t n_levels)
{
    struct fl_model *m = mb_new("deadline");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t u = mb_node(m, FL_NODE_USER_TASK, "offer");
    uint32_t e = mb_node(m, FL_NODE_END_EVENT, "end");
    struct fl_stage *st = m->nodes[u].stage;
    static const char *const after[] = {"P1D", "P3D"};
    static const char *const to[] = {"head_of_sales", "director"};

    m->nodes[u].name = fl_strdup("Offer");
    mb_flow(m, "f1", s, u, NULL);
    mb_flow(m, "f2", u, e, NULL);
    st->duration = fl_strdup("P1D");
    st->remind_before = fl_strdup("PT2H");
    st->accountable = fl_strdup("sales_head");
    st->assignee = fl_strdup("alice");
    st->calendar = fl_strdup("office");
    st->escalations = fl_calloc(n_levels ? n_levels : 1, sizeof(*st->escalations));
    st->n_escalations = n_levels;
    for (size_t i = 0; i < n_levels; i++) {
        st->escalations[i].after = fl_strdup(after[i]);
        mb_strlist(&st->escalations[i].to, to[i]);
        if (i == 1)
            mb_strlist(&st->escalations[i].to, "head");
    }
    return m;
}

static const struct fl_timer *timer_of(const struct fl_instance *inst, enum fl_timer_kind k,
                                       uint16_t level)
{
    for (size_t i = 0; i < inst->n_timers; i++)
        if (inst->timers[i].kind == k && inst->timers[i].level == level)
            return &inst->timers[i];
    return NULL;
}

static int fire(struct t_env *t, uint64_t timer_id)
{
    struct fl_command cmd = {.kind = FL_CMD_FIRE_TIMER, .target_id = timer_id};
    return t_apply(t, &cmd);
}

static void test_task_sets_timers(void **state)
{
    struct t_env t;
    const struct fl_effect *e;
    uint64_t task;
    (void)state;
    t_env_init(&t, deadline_model(0));
    t_start(&t, NULL);
    task = fx_task(&t.fx, 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_SET), 2);
    e = fx_nth(&t.fx, FL_FX_TIMER_SET, 0);
    assert_int_equal(e->u.timer.kind, FL_TIMER_TASK_DUE);
    assert_int_equal(e->u.timer.level, 0);
    assert_int_equal(e->u.timer.due_at, T_NOW + T_DAY);
    assert_int_equal(e->u.timer.base_at, T_NOW + T_DAY);
    assert_int_equal(e->u.timer.ref_id, task);
    assert_int_equal(e->u.timer.instance_id, t.inst->id);
    assert_int_equal(e->u.timer.node, 1);
    e = fx_nth(&t.fx, FL_FX_TIMER_SET, 1);
    assert_int_equal(e->u.timer.kind, FL_TIMER_TASK_REMIND);
    assert_int_equal(e->u.timer.due_at, T_NOW + T_DAY - 2 * T_HOUR);
    assert_int_not_equal(e->u.timer.id, fx_nth(&t.fx, FL_FX_TIMER_SET, 0)->u.timer.id);
    /* the instance mirrors the effects */
    assert_int_equal(t.inst->n_timers, 2);
    assert_non_null(timer_of(t.inst, FL_TIMER_TASK_REMIND, 0));
    t_env_release(&t);
}

static void test_reminder_once(void **state)
{
    struct t_env t;
    const struct fl_timer *rt;
    const struct fl_effect *e;
    const struct fl_event *ev;
    uint64_t id, task, rev;
    (void)state;
    t_env_init(&t, deadline_model(0));
    t_start(&t, NULL);
    task = fx_task(&t.fx, 0);
    rt = timer_of(t.inst, FL_TIMER_TASK_REMIND, 0);
    id = rt->id;

    /* not due yet: refused, nothing changes */
    rev = t.inst->revision;
    t.ctx.now_ms = rt->due_at - 1;
    assert_int_equal(fire(&t, id), FL_ECONFLICT);
    assert_int_equal(t.fx.n, 0);
    assert_int_equal(t.inst->n_timers, 2);
    assert_int_equal(t.inst->revision, rev);

    t.ctx.now_ms = T_NOW + T_DAY - T_HOUR; /* an hour late (a restart) */
    assert_int_equal(fire(&t, id), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 1);
    assert_int_equal(fx_nth(&t.fx, FL_FX_TIMER_DEL, 0)->u.timer.id, id);
    assert_int_equal(fx_count(&t.fx, FL_FX_NOTIFY), 1);
    e = fx_nth(&t.fx, FL_FX_NOTIFY, 0);
    assert_string_equal(e->u.notify.kind, "reminder");
    assert_true(e->u.notify.to_assignee);
    assert_int_equal(e->u.notify.task_id, task);
    assert_int_equal(e->u.notify.instance_id, t.inst->id);
    assert_string_equal(e->u.notify.node_id, "offer");
    assert_non_null(strstr(e->u.notify.message, "'Offer'"));
    ev = ev_nth(&t.fx, FL_EV_TASK_REMINDED, 0);
    assert_non_null(ev);
    assert_int_equal(ev->ref_id, task);
    assert_string_equal(ev->detail, "{\"due\":\"2026-11-24T11:00:00.000Z\"}");
    assert_int_equal(t.inst->n_timers, 1);
    assert_int_equal(t.inst->revision, rev + 1);

    /* exactly once: the second fire finds nothing and writes nothing */
    assert_int_equal(fire(&t, id), FL_ENOTFOUND);
    assert_int_equal(t.fx.n, 0);
    assert_int_equal(t.inst->revision, rev + 1);
    t_env_release(&t);
}

/* Records the calendar asked for and adds the duration plus one hour (as a working-time
 * calendar would push past a night). */
struct cal_probe {
    char name[32];
    int calls;
};

static int cal_add(void *arg, const char *cal, int64_t t_ms, const struct fl_iso_duration *d,
                   int64_t *out, struct fl_error *err)
{
    struct cal_probe *p = arg;
    (void)err;
    snprintf(p->name, sizeof(p->name), "%s", cal ? cal : "");
    p->calls++;
    *out = fl_iso_duration_add(t_ms, d) + T_HOUR;
    return 0;
}

static void test_escalation_levels(void **state)
{
    struct t_env t;
    struct cal_probe probe = {{0}, 0};
    const struct fl_timer *tm;
    const struct fl_effect *e;
    const struct fl_event *ev;
    uint64_t task, id;
    int64_t deadline = T_NOW + T_DAY;
    (void)state;
    t_env_init(&t, deadline_model(2));
    t_start(&t, NULL);
    task = fx_task(&t.fx, 0);
    t.ctx.calendar_add = cal_add;
    t.ctx.calendar_arg = &probe;

    /* level 0: overdue; the assignee, the accountable role and the head are told */
    tm = timer_of(t.inst, FL_TIMER_TASK_DUE, 0);
    id = tm->id;
    t.ctx.now_ms = deadline;
    assert_int_equal(fire(&t, id), 0);
    ev = ev_nth(&t.fx, FL_EV_ESCALATED, 0);
    assert_non_null(ev);
    assert_int_equal(ev->ref_id, task);
    assert_string_equal(ev->detail, "{\"level\":0,\"to\":[\"accountable\",\"head\"]}");
    assert_int_equal(fx_count(&t.fx, FL_FX_NOTIFY), 3);
    e = fx_nth(&t.fx, FL_FX_NOTIFY, 0);
    assert_string_equal(e->u.notify.kind, "overdue");
    assert_true(e->u.notify.to_assignee);
    e = fx_nth(&t.fx, FL_FX_NOTIFY, 1);
    assert_string_equal(e->u.notify.kind, "escalation");
    assert_string_equal(e->u.notify.to_role, "sales_head");
    e = fx_nth(&t.fx, FL_FX_NOTIFY, 2);
    assert_true(e->u.notify.to_assignee_head);
    assert_null(e->u.notify.to_role);
    /* level 1 scheduled from the deadline on the stage's calendar */
    assert_int_equal(probe.calls, 1);
    assert_string_equal(probe.name, "office");
    tm = timer_of(t.inst, FL_TIMER_TASK_DUE, 1);
    assert_non_null(tm);
    assert_int_equal(tm->due_at, deadline + T_DAY + T_HOUR);
    assert_int_equal(tm->base_at, deadline);
    assert_int_not_equal(tm->id, id);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 1);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_SET), 1);
    assert_int_equal(t.inst->n_timers, 2); /* the reminder (unfired) and level 1 */

    /* level 1: its `to`; level 2 counts from the deadline too (P3D) */
    id = tm->id;
    t.ctx.now_ms = tm->due_at;
    assert_int_equal(fire(&t, id), 0);
    ev = ev_nth(&t.fx, FL_EV_ESCALATED, 0);
    assert_string_equal(ev->detail, "{\"level\":1,\"to\":[\"head_of_sales\"]}");
    assert_int_equal(fx_count(&t.fx, FL_FX_NOTIFY), 1);
    assert_string_equal(fx_nth(&t.fx, FL_FX_NOTIFY, 0)->u.notify.to_role, "head_of_sales");
    assert_non_null(strstr(fx_nth(&t.fx, FL_FX_NOTIFY, 0)->u.notify.message, "level 1"));
    tm = timer_of(t.inst, FL_TIMER_TASK_DUE, 2);
    assert_non_null(tm);
    assert_int_equal(tm->due_at, deadline + 3 * T_DAY + T_HOUR);

    /* level 2, the last: told, nothing further */
    id = tm->id;
    t.ctx.now_ms = tm->due_at + 5;
    assert_int_equal(fire(&t, id), 0);
    ev = ev_nth(&t.fx, FL_EV_ESCALATED, 0);
    assert_string_equal(ev->detail, "{\"level\":2,\"to\":[\"director\",\"head\"]}");
    assert_int_equal(fx_count(&t.fx, FL_FX_NOTIFY), 2);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_SET), 0);
    assert_null(timer_of(t.inst, FL_TIMER_TASK_DUE, 3));
    assert_int_equal(t.inst->n_timers, 1);
    t_env_release(&t);
}

static void test_complete_cancels_timers(void **state)
{
    struct t_env t;
    uint64_t task, due_id, remind_id;
    (void)state;
    t_env_init(&t, deadline_model(1));
    t_start(&t, NULL);
    task = fx_task(&t.fx, 0);
    due_id = timer_of(t.inst, FL_TIMER_TASK_DUE, 0)->id;
    remind_id = timer_of(t.inst, FL_TIMER_TASK_REMIND, 0)->id;
    assert_int_equal(t_complete(&t, task, NULL), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 2);
    assert_int_equal(t.inst->n_timers, 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    /* a late fire of either finds nothing */
    t.ctx.now_ms = T_NOW + 10 * T_DAY;
    assert_int_equal(fire(&t, due_id), FL_ENOTFOUND);
    assert_int_equal(fire(&t, remind_id), FL_ENOTFOUND);
    t_env_release(&t);
}

static void test_escalated_task_completed(void **state)
{
    struct t_env t;
    uint64_t task;
    (void)state;
    t_env_init(&t, deadline_model(2));
    t_start(&t, NULL);
    task = fx_task(&t.fx, 0);
    t.ctx.now_ms = T_NOW + T_DAY;
    assert_int_equal(fire(&t, timer_of(t.inst, FL_TIMER_TASK_DUE, 0)->id), 0);
    assert_non_null(timer_of(t.inst, FL_TIMER_TASK_DUE, 1));
    /* completing the overdue task drops level 1 and the reminder never sent */
    assert_int_equal(t_complete(&t, task, NULL), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 2);
    assert_int_equal(t.inst->n_timers, 0);
    t_env_release(&t);
}

static void test_cancel_deletes_all(void **state)
{
    struct t_env t;
    struct fl_command cancel = {.kind = FL_CMD_CANCEL, .reason = "lost"};
    uint64_t due_id;
    (void)state;
    t_env_init(&t, deadline_model(0));
    t_start(&t, NULL);
    due_id = timer_of(t.inst, FL_TIMER_TASK_DUE, 0)->id;
    assert_int_equal(t_apply(&t, &cancel), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 2);
    assert_int_equal(t.inst->n_timers, 0);
    t.ctx.now_ms = T_NOW + 2 * T_DAY;
    assert_int_equal(fire(&t, due_id), FL_ENOTFOUND);
    t_env_release(&t);
}

static void test_no_duration_no_timers(void **state)
{
    struct t_env t;
    struct fl_model *m = deadline_model(0);
    (void)state;
    free(m->nodes[1].stage->duration);
    m->nodes[1].stage->duration = NULL;
    t_env_init(&t, m);
    t_start(&t, NULL);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_SET), 0);
    assert_int_equal(t.inst->n_timers, 0);
    t_env_release(&t);
}

/* A fire that finds its instance ended (a timer left by an older version) only deletes. */
static void test_fire_on_ended_instance(void **state)
{
    struct t_env t;
    struct fl_timer stale = {.id = 77, .kind = FL_TIMER_TASK_DUE, .ref_id = 9, .due_at = T_NOW};
    (void)state;
    t_env_init(&t, deadline_model(0));
    t_start(&t, NULL);
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0);
    fl_grow(&t.inst->timers, &t.inst->cap_timers, 1, sizeof(stale));
    t.inst->timers[0] = stale;
    t.inst->n_timers = 1;
    assert_int_equal(fire(&t, 77), 0);
    assert_int_equal(t.fx.n, 1);
    assert_int_equal(t.fx.items[0].kind, FL_FX_TIMER_DEL);
    assert_int_equal(t.inst->n_timers, 0);
    t_env_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task_sets_timers),
        cmocka_unit_test(test_reminder_once),
        cmocka_unit_test(test_escalation_levels),
        cmocka_unit_test(test_complete_cancels_timers),
        cmocka_unit_test(test_escalated_task_completed),
        cmocka_unit_test(test_cancel_deletes_all),
        cmocka_unit_test(test_no_duration_no_timers),
        cmocka_unit_test(test_fire_on_ended_instance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
