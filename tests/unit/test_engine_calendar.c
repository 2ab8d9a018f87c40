/* Unit tests of stage durations on business calendars in the engine: a stage naming a
 * calendar gets its due and remind times in working time through the context's hook, a
 * stage without one keeps plain time, and an unknown calendar raises an incident instead
 * of creating a task with a wrong deadline. */
#include "engine_fixture.h"

#include "flowd/calendar.h"

/* start -> a (user task) -> end */
static struct fl_model *one_task_model(struct fl_stage **stage)
{
    struct fl_model *m = mb_new("one");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t a = mb_node(m, FL_NODE_USER_TASK, "a");
    uint32_t e = mb_node(m, FL_NODE_END_EVENT, "end");
    mb_flow(m, "f1", s, a, NULL);
    mb_flow(m, "f2", a, e, NULL);
    *stage = m->nodes[a].stage;
    return m;
}

/* The hook as the service gives it: "default" is the built-in calendar, others unknown. */
static int hook(void *arg, const char *cal, int64_t t, const struct fl_iso_duration *d,
                int64_t *out, struct fl_error *err)
{
    int *calls = arg;
    (*calls)++;
    if (strcmp(cal, "default") != 0)
        return fl_error_set(err, FL_ENOTFOUND, "unknown calendar '%s'", cal);
    struct fl_calendar *c = fl_calendar_builtin();
    int rc = fl_calendar_add(c, t, d, out, err);
    fl_calendar_free(c);
    return rc;
}

static int64_t at(const char *iso)
{
    int64_t t = 0;
    assert_int_equal(fl_time_parse(iso, &t), 0);
    return t;
}

static void test_stage_on_calendar(void **state)
{
    struct fl_stage *st;
    struct t_env t;
    int calls = 0;
    (void)state;

    /* Friday 17:30 + PT2H on the default calendar: Monday 10:30; remind PT1H before */
    t_env_init(&t, one_task_model(&st));
    t.ctx.now_ms = at("2026-11-27T17:30:00Z");
    t.ctx.calendar_add = hook;
    t.ctx.calendar_arg = &calls;
    st->duration = fl_strdup("PT2H");
    st->remind_before = fl_strdup("PT1H");
    st->calendar = fl_strdup("default");
    t_start(&t, NULL);
    assert_int_equal(fx_task_of(&t.fx, 0)->due_at, at("2026-11-30T10:30:00Z"));
    assert_int_equal(fx_task_of(&t.fx, 0)->remind_at, at("2026-11-30T09:30:00Z"));
    assert_int_equal(calls, 2);
    t_env_release(&t);

    /* P3D from Friday: Wednesday, same time; reminder P1D before: Tuesday */
    t_env_init(&t, one_task_model(&st));
    t.ctx.now_ms = at("2026-11-27T11:00:00Z");
    t.ctx.calendar_add = hook;
    t.ctx.calendar_arg = &calls;
    st->duration = fl_strdup("P3D");
    st->remind_before = fl_strdup("P1D");
    st->calendar = fl_strdup("default");
    t_start(&t, NULL);
    assert_int_equal(fx_task_of(&t.fx, 0)->due_at, at("2026-12-02T11:00:00Z"));
    assert_int_equal(fx_task_of(&t.fx, 0)->remind_at, at("2026-12-01T11:00:00Z"));
    t_env_release(&t);
}

static void test_plain_time_without_calendar(void **state)
{
    struct fl_stage *st;
    struct t_env t;
    int calls = 0;
    (void)state;

    /* no calendar on the stage: plain time even with a hook */
    t_env_init(&t, one_task_model(&st));
    t.ctx.now_ms = at("2026-11-27T17:30:00Z");
    t.ctx.calendar_add = hook;
    t.ctx.calendar_arg = &calls;
    st->duration = fl_strdup("PT2H");
    t_start(&t, NULL);
    assert_int_equal(fx_task_of(&t.fx, 0)->due_at, at("2026-11-27T19:30:00Z"));
    assert_int_equal(calls, 0);
    t_env_release(&t);

    /* a calendar but no hook (the engine alone): plain time */
    t_env_init(&t, one_task_model(&st));
    t.ctx.now_ms = at("2026-11-27T17:30:00Z");
    st->duration = fl_strdup("PT2H");
    st->calendar = fl_strdup("default");
    t_start(&t, NULL);
    assert_int_equal(fx_task_of(&t.fx, 0)->due_at, at("2026-11-27T19:30:00Z"));
    t_env_release(&t);
}

static void test_unknown_calendar(void **state)
{
    struct fl_stage *st;
    struct t_env t;
    int calls = 0;
    (void)state;
    t_env_init(&t, one_task_model(&st));
    t.ctx.calendar_add = hook;
    t.ctx.calendar_arg = &calls;
    st->duration = fl_strdup("P1D");
    st->calendar = fl_strdup("nowhere");
    t_start(&t, NULL);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 0);
    assert_string_equal(fx_nth(&t.fx, FL_FX_INCIDENT, 0)->u.incident.message,
                        "duration of task 'a' ('P1D') on calendar 'nowhere': "
                        "unknown calendar 'nowhere'");
    assert_int_equal(t.inst->tokens[0].state, FL_TOKEN_INCIDENT);
    t_env_release(&t);
}

static const struct fl_timer *timer_of(const struct fl_instance *inst, enum fl_timer_kind k,
                                       uint16_t level)
{
    for (size_t i = 0; i < inst->n_timers; i++)
        if (inst->timers[i].kind == k && inst->timers[i].level == level)
            return &inst->timers[i];
    return NULL;
}

/* The deadline's escalation level counts on the stage's calendar too, and in plain time
 * when the stage names none (as its deadline). */
static void test_escalation_on_calendar(void **state)
{
    static const char *const cals[] = {"default", NULL};
    static const char *const want_due[] = {"2026-11-27T10:30:00Z", "2026-11-26T19:30:00Z"};
    static const char *const want_level1[] = {"2026-11-30T10:30:00Z", "2026-11-27T19:30:00Z"};
    (void)state;
    for (int k = 0; k < 2; k++) {
        struct fl_stage *st;
        struct t_env t;
        const struct fl_timer *tm;
        int calls = 0;
        t_env_init(&t, one_task_model(&st));
        t.ctx.now_ms = at("2026-11-26T17:30:00Z"); /* a Thursday */
        t.ctx.calendar_add = hook;
        t.ctx.calendar_arg = &calls;
        st->duration = fl_strdup("PT2H");
        st->calendar = cals[k] ? fl_strdup(cals[k]) : NULL;
        st->escalations = fl_calloc(1, sizeof(*st->escalations));
        st->n_escalations = 1;
        st->escalations[0].after = fl_strdup("P1D");
        mb_strlist(&st->escalations[0].to, "director");
        t_start(&t, NULL);
        tm = timer_of(t.inst, FL_TIMER_TASK_DUE, 0);
        assert_non_null(tm);
        assert_int_equal(tm->due_at, at(want_due[k]));
        struct fl_command cmd = {.kind = FL_CMD_FIRE_TIMER, .target_id = tm->id};
        t.ctx.now_ms = tm->due_at;
        assert_int_equal(t_apply(&t, &cmd), 0);
        tm = timer_of(t.inst, FL_TIMER_TASK_DUE, 1);
        assert_non_null(tm);
        assert_int_equal(tm->due_at, at(want_level1[k]));
        assert_int_equal(calls, cals[k] ? 2 : 0);
        t_env_release(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stage_on_calendar),
        cmocka_unit_test(test_plain_time_without_calendar),
        cmocka_unit_test(test_unknown_calendar),
        cmocka_unit_test(test_escalation_on_calendar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
