/* Unit tests of the engine's commands and the work it hands out: task candidates, assignee,
 * due and remind times; required main actions; jobs (complete, fail, retries, incident);
 * cancel; errors that must leave the instance and the effects untouched; determinism. */
#include "engine_fixture.h"

#include <stdio.h>

/* start -> a (user task, stage set by the test) -> end */
static struct fl_model *one_task_model(struct fl_stage **stage)
{
    struct fl_model *m = mb_new("one");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t a = mb_node(m, FL_NODE_USER_TASK, "a");
    uint32_t e = mb_node(m, FL_NODE_END_EVENT, "end");
    m->nodes[a].name = fl_strdup("Commercial offer");
    m->nodes[a].lane = fl_strdup("sales_manager");
    mb_flow(m, "f1", s, a, NULL);
    mb_flow(m, "f2", a, e, NULL);
    *stage = m->nodes[a].stage;
    return m;
}

static void test_candidates(void **state)
{
    struct fl_stage *st;
    struct t_env t;
    const struct fl_task *task;
    (void)state;

    /* lane only */
    t_env_init(&t, one_task_model(&st));
    t_start(&t, NULL);
    task = fx_task_of(&t.fx, 0);
    assert_int_equal(task->candidate_roles.n, 1);
    assert_string_equal(task->candidate_roles.items[0], "sales_manager");
    assert_null(task->assignee);
    assert_int_equal(task->due_at, 0);
    assert_int_equal(task->remind_at, 0);
    assert_int_equal(task->created_at, T_NOW);
    t_env_release(&t);

    /* RACI R beats the lane */
    t_env_init(&t, one_task_model(&st));
    mb_strlist(&st->responsible, "head_of_sales");
    mb_strlist(&st->responsible, "lawyer");
    t_start(&t, NULL);
    task = fx_task_of(&t.fx, 0);
    assert_int_equal(task->candidate_roles.n, 2);
    assert_string_equal(task->candidate_roles.items[1], "lawyer");
    t_env_release(&t);

    /* candidate groups beat R; users and a plain assignee come along */
    t_env_init(&t, one_task_model(&st));
    mb_strlist(&st->responsible, "head_of_sales");
    mb_strlist(&st->candidate_groups, "accountant");
    mb_strlist(&st->candidate_users, "carol");
    st->assignee = fl_strdup("dave");
    t_start(&t, NULL);
    task = fx_task_of(&t.fx, 0);
    assert_int_equal(task->candidate_roles.n, 1);
    assert_string_equal(task->candidate_roles.items[0], "accountant");
    assert_int_equal(task->candidate_users.n, 1);
    assert_string_equal(task->candidate_users.items[0], "carol");
    assert_string_equal(task->assignee, "dave");
    t_env_release(&t);

    /* assignee expression */
    t_env_init(&t, one_task_model(&st));
    st->assignee = fl_strdup("= owner");
    t_start(&t, "{\"owner\": \"erin\"}");
    assert_string_equal(fx_task_of(&t.fx, 0)->assignee, "erin");
    t_env_release(&t);

    /* assignee expression on an unknown variable: incident, no task */
    t_env_init(&t, one_task_model(&st));
    st->assignee = fl_strdup("=owner");
    t_start(&t, NULL);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 0);
    assert_non_null(strstr(fx_nth(&t.fx, FL_FX_INCIDENT, 0)->u.incident.message,
                           "assignee of task 'a' (owner) cannot be evaluated: "));
    assert_int_equal(t.inst->tokens[0].state, FL_TOKEN_INCIDENT);
    t_env_release(&t);
}

static void test_due_times(void **state)
{
    struct fl_stage *st;
    struct t_env t;
    const struct fl_task *task;
    (void)state;

    /* from durations */
    t_env_init(&t, one_task_model(&st));
    st->duration = fl_strdup("P3D");
    st->remind_before = fl_strdup("PT4H");
    t_start(&t, NULL);
    task = fx_task_of(&t.fx, 0);
    assert_int_equal(task->due_at, T_NOW + 3 * T_DAY);
    assert_int_equal(task->remind_at, T_NOW + 3 * T_DAY - 4 * T_HOUR);
    t_env_release(&t);

    /* calendar months: 2026-11-23T11:00Z + P1M = 2026-12-23T11:00Z */
    t_env_init(&t, one_task_model(&st));
    st->duration = fl_strdup("P1M");
    t_start(&t, NULL);
    assert_int_equal(fx_task_of(&t.fx, 0)->due_at, T_NOW + 30 * T_DAY);
    assert_int_equal(fx_task_of(&t.fx, 0)->remind_at, 0);
    t_env_release(&t);

    /* a due date in text */
    t_env_init(&t, one_task_model(&st));
    st->due_date = fl_strdup("2026-12-01T10:00:00Z");
    st->remind_before = fl_strdup("P1D");
    t_start(&t, NULL);
    task = fx_task_of(&t.fx, 0);
    assert_int_equal(task->due_at, 1796119200000LL);
    assert_int_equal(task->remind_at, 1796119200000LL - T_DAY);
    t_env_release(&t);

    /* a due date expression giving a date and time */
    t_env_init(&t, one_task_model(&st));
    st->due_date = fl_strdup("=date and time(\"2026-12-01T10:00:00Z\")");
    t_start(&t, NULL);
    assert_int_equal(fx_task_of(&t.fx, 0)->due_at, 1796119200000LL);
    t_env_release(&t);

    /* a due date expression on a variable holding ISO text, and now() from the context */
    t_env_init(&t, one_task_model(&st));
    st->due_date = fl_strdup("=deadline");
    t_start(&t, "{\"deadline\": \"2026-12-01T12:00:00+02:00\"}");
    assert_int_equal(fx_task_of(&t.fx, 0)->due_at, 1796119200000LL);
    t_env_release(&t);

    t_env_init(&t, one_task_model(&st));
    st->due_date = fl_strdup("=now() + duration(\"PT2H\")");
    t_start(&t, NULL);
    assert_int_equal(fx_task_of(&t.fx, 0)->due_at, T_NOW + 2 * T_HOUR);
    t_env_release(&t);

    /* a due date that is not one: incident */
    t_env_init(&t, one_task_model(&st));
    st->due_date = fl_strdup("=42");
    t_start(&t, NULL);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 0);
    assert_string_equal(fx_nth(&t.fx, FL_FX_INCIDENT, 0)->u.incident.message,
                        "due date of task 'a' (42) gives a number, not a date and time");
    t_env_release(&t);

    /* a bad duration: incident */
    t_env_init(&t, one_task_model(&st));
    st->duration = fl_strdup("3 days");
    t_start(&t, NULL);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 0);
    assert_non_null(strstr(fx_nth(&t.fx, FL_FX_INCIDENT, 0)->u.incident.message,
                           "duration of task 'a' ('3 days') is not an ISO 8601 duration"));
    t_env_release(&t);
}

/* Snapshot of an instance and effects to compare before and after a refused command. */
struct snap {
    struct fl_instance *inst;
    size_t fx_n;
};

static void snap_take(struct snap *s, const struct t_env *t)
{
    s->inst = fl_instance_clone(t->inst);
    s->fx_n = t->fx.n;
}

static void snap_check(struct snap *s, const struct t_env *t)
{
    assert_int_equal(t->fx.n, s->fx_n);
    assert_int_equal(t->inst->revision, s->inst->revision);
    assert_int_equal(t->inst->status, s->inst->status);
    assert_int_equal(t->inst->incident, s->inst->incident);
    assert_ptr_equal(t->inst->variables, s->inst->variables); /* not even copied */
    assert_int_equal(t->inst->n_tokens, s->inst->n_tokens);
    assert_memory_equal(t->inst->tokens, s->inst->tokens,
                        t->inst->n_tokens * sizeof(*t->inst->tokens));
    fl_instance_free(s->inst);
}

/* Apply without resetting the effects, so "fx unchanged" is checked for real. */
static int apply_keep(struct t_env *t, const struct fl_command *cmd)
{
    fl_error_clear(&t->err);
    return fl_engine_apply(t->m, t->inst, cmd, &t->ctx, &t->fx, &t->err);
}

static void test_required_main_action(void **state)
{
    struct fl_stage *st;
    struct t_env t;
    struct snap s;
    uint64_t task;
    const struct fl_effect *e;
    (void)state;

    t_env_init(&t, one_task_model(&st));
    st->main_action_kind = fl_strdup("document");
    st->main_action_required = true;
    t_start(&t, NULL);
    task = fx_task(&t.fx, 0);
    assert_string_equal(fx_task_of(&t.fx, 0)->main_action_kind, "document");
    assert_true(fx_task_of(&t.fx, 0)->main_action_required);

    struct fl_command done = {.kind = FL_CMD_COMPLETE_TASK, .target_id = task};
    snap_take(&s, &t);
    assert_int_equal(apply_keep(&t, &done), FL_EREFUSED);
    assert_string_equal(t.err.msg, "task 3001 cannot be completed: stage 'Commercial offer' (a) "
                                   "requires its main action 'document' to be recorded first");
    assert_string_equal(t.err.element, "a");
    snap_check(&s, &t);

    struct fl_command wrong = {
        .kind = FL_CMD_RECORD_ACTION, .target_id = task, .action_kind = "email"};
    snap_take(&s, &t);
    assert_int_equal(apply_keep(&t, &wrong), FL_EREFUSED);
    assert_string_equal(t.err.msg,
                        "task 3001: stage 'Commercial offer' (a) expects main action "
                        "'document', not 'email'");
    snap_check(&s, &t);

    struct fl_command rec = {.kind = FL_CMD_RECORD_ACTION,
                             .target_id = task,
                             .action_kind = "document",
                             .action_ref = "offer.docx",
                             .actor = "alice"};
    assert_int_equal(t_apply(&t, &rec), 0);
    assert_true(t.inst->tokens[0].main_action_done);
    e = fx_nth(&t.fx, FL_FX_TOKEN_PUT, 0);
    assert_true(e->u.token.main_action_done);
    e = fx_nth(&t.fx, FL_FX_TASK_ACTION, 0);
    assert_non_null(e);
    assert_int_equal(e->u.task_close.id, task);
    assert_string_equal(e->u.task_close.kind, "document");
    assert_string_equal(e->u.task_close.ref, "offer.docx");
    assert_string_equal(e->u.task_close.actor, "alice");
    assert_string_equal(ev_nth(&t.fx, FL_EV_MAIN_ACTION_RECORDED, 0)->detail,
                        "{\"kind\":\"document\",\"ref\":\"offer.docx\"}");
    assert_int_equal(t.inst->revision, 2);

    assert_int_equal(t_apply(&t, &done), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    t_env_release(&t);
}

static void test_errors_leave_state(void **state)
{
    struct fl_stage *st;
    struct t_env t;
    struct snap s;
    uint64_t task;
    struct fl_value *num = t_json("42");
    (void)state;

    t_env_init(&t, one_task_model(&st));
    t_start(&t, "{\"a\": 1}");
    task = fx_task(&t.fx, 0);

    /* unknown task */
    struct fl_command c1 = {.kind = FL_CMD_COMPLETE_TASK, .target_id = 999};
    snap_take(&s, &t);
    assert_int_equal(apply_keep(&t, &c1), FL_ENOTFOUND);
    assert_string_equal(t.err.msg, "task 999 not found in instance 1001");
    snap_check(&s, &t);

    /* variables that are not a context */
    struct fl_command c2 = {.kind = FL_CMD_COMPLETE_TASK, .target_id = task, .variables = num};
    snap_take(&s, &t);
    assert_int_equal(apply_keep(&t, &c2), FL_ETYPE);
    assert_string_equal(t.err.msg, "variables must be a context, not a number");
    snap_check(&s, &t);

    /* unknown job */
    struct fl_command c3 = {.kind = FL_CMD_COMPLETE_JOB, .target_id = task};
    snap_take(&s, &t);
    assert_int_equal(apply_keep(&t, &c3), FL_ENOTFOUND);
    assert_string_equal(t.err.msg, "job 3001 not found in instance 1001");
    snap_check(&s, &t);

    /* command for another instance */
    struct fl_command c4 = {.kind = FL_CMD_COMPLETE_TASK, .target_id = task, .instance_id = 5};
    snap_take(&s, &t);
    assert_int_equal(apply_keep(&t, &c4), FL_EINVAL);
    snap_check(&s, &t);

    /* recording a main action where neither the stage nor the command names a kind */
    struct fl_command c8 = {.kind = FL_CMD_RECORD_ACTION, .target_id = task};
    snap_take(&s, &t);
    assert_int_equal(apply_keep(&t, &c8), FL_EINVAL);
    assert_string_equal(t.err.msg,
                        "task 3001 'Commercial offer' names no main action: give its kind");
    snap_check(&s, &t);
    c8.target_id = 77;
    snap_take(&s, &t);
    assert_int_equal(apply_keep(&t, &c8), FL_ENOTFOUND);
    snap_check(&s, &t);

    /* start through apply */
    struct fl_command c5 = {.kind = FL_CMD_START};
    snap_take(&s, &t);
    assert_int_equal(apply_keep(&t, &c5), FL_EINVAL);
    snap_check(&s, &t);

    /* start with bad variables produces nothing */
    struct fl_instance *other = (struct fl_instance *)&t; /* must be overwritten with NULL */
    struct fl_command c6 = {.kind = FL_CMD_START, .variables = num};
    size_t n = t.fx.n;
    assert_int_equal(fl_engine_start(t.m, 1, &c6, &t.ctx, &other, &t.fx, &t.err), FL_ETYPE);
    assert_null(other);
    assert_int_equal(t.fx.n, n);
    assert_int_equal(t.ids.n[FL_ID_INSTANCE], 1); /* no id spent */

    /* and after all that, the task still completes */
    assert_int_equal(t_complete(&t, task, NULL), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    /* a completed instance refuses everything */
    struct fl_command c7 = {.kind = FL_CMD_CANCEL, .reason = "late"};
    snap_take(&s, &t);
    assert_int_equal(apply_keep(&t, &c7), FL_ECONFLICT);
    snap_check(&s, &t);
    fl_value_unref(num);
    t_env_release(&t);
}

/* start -> job (service task "invoice") -> a -> end */
static struct fl_model *job_model(void)
{
    struct fl_model *m = mb_new("jobs");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t j = mb_node(m, FL_NODE_SERVICE_TASK, "job");
    uint32_t a = mb_node(m, FL_NODE_USER_TASK, "a");
    uint32_t e = mb_node(m, FL_NODE_END_EVENT, "end");
    m->nodes[j].job_type = fl_strdup("invoice");
    m->nodes[j].job_retries = 2;
    mb_flow(m, "f1", s, j, NULL);
    mb_flow(m, "f2", j, a, NULL);
    mb_flow(m, "f3", a, e, NULL);
    return m;
}

static void test_jobs(void **state)
{
    struct t_env t;
    const struct fl_effect *e;
    struct fl_value *vars = t_json("{\"invoice_no\": \"A-17\"}");
    uint64_t job;
    (void)state;

    t_env_init(&t, job_model());
    t_start(&t, NULL);
    e = fx_nth(&t.fx, FL_FX_JOB_CREATE, 0);
    assert_non_null(e);
    job = e->u.job.id;
    assert_int_equal(job, 4001);
    assert_string_equal(e->u.job.type, "invoice");
    assert_int_equal(e->u.job.retries, 2);
    assert_string_equal(e->u.job.node_id, "job");
    assert_string_equal(ev_nth(&t.fx, FL_EV_JOB_CREATED, 0)->detail, "{\"type\":\"invoice\"}");
    assert_int_equal(t.inst->tokens[0].job_id, job);
    assert_int_equal(t.inst->tokens[0].state, FL_TOKEN_WAITING);

    /* fail with retries left: the job stays, token unchanged */
    struct fl_command fail = {
        .kind = FL_CMD_FAIL_JOB, .target_id = job, .error_message = "smtp \"down\"", .retries = 1};
    assert_int_equal(t_apply(&t, &fail), 0);
    e = fx_nth(&t.fx, FL_FX_JOB_RETRY, 0);
    assert_non_null(e);
    assert_int_equal(e->u.job_close.retries, 1);
    assert_string_equal(e->u.job_close.error, "smtp \"down\"");
    assert_string_equal(ev_nth(&t.fx, FL_EV_JOB_FAILED, 0)->detail,
                        "{\"error\":\"smtp \\\"down\\\"\",\"retries\":1}");
    assert_int_equal(fx_count(&t.fx, FL_FX_INCIDENT), 0);
    assert_int_equal(t.inst->tokens[0].job_id, job);
    assert_false(t.inst->incident);

    /* complete it: variables merge, the token moves to a */
    struct fl_command done = {
        .kind = FL_CMD_COMPLETE_JOB, .target_id = job, .variables = vars, .actor = "worker-1"};
    assert_int_equal(t_apply(&t, &done), 0);
    e = fx_nth(&t.fx, FL_FX_JOB_CLOSE, 0);
    assert_int_equal(e->u.job_close.id, job);
    assert_false(e->u.job_close.failed);
    assert_int_equal(ev_count(&t.fx, FL_EV_JOB_COMPLETED), 1);
    assert_string_equal(ev_nth(&t.fx, FL_EV_JOB_COMPLETED, 0)->actor, "worker-1");
    assert_int_equal(fx_count(&t.fx, FL_FX_VAR_SET), 1);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 1);
    assert_int_equal(t.inst->tokens[0].job_id, 0);
    assert_int_equal(t_apply(&t, &done), FL_ENOTFOUND); /* closed job */
    t_env_release(&t);

    /* fail with no retries left: incident, job closed as failed */
    t_env_init(&t, job_model());
    t_start(&t, NULL);
    job = fx_nth(&t.fx, FL_FX_JOB_CREATE, 0)->u.job.id;
    struct fl_command last = {.kind = FL_CMD_FAIL_JOB,
                              .target_id = job,
                              .error_message = "no such customer",
                              .retries = 0};
    assert_int_equal(t_apply(&t, &last), 0);
    e = fx_nth(&t.fx, FL_FX_JOB_CLOSE, 0);
    assert_non_null(e);
    assert_true(e->u.job_close.failed);
    assert_string_equal(e->u.job_close.error, "no such customer");
    e = fx_nth(&t.fx, FL_FX_INCIDENT, 0);
    assert_non_null(e);
    assert_int_equal(e->u.incident.job_id, job);
    assert_string_equal(e->u.incident.node_id, "job");
    assert_string_equal(e->u.incident.message,
                        "job 4001 of 'job' failed with no retries left: no such customer");
    assert_true(t.inst->incident);
    assert_int_equal(t.inst->n_tokens, 1);
    assert_int_equal(t.inst->tokens[0].state, FL_TOKEN_INCIDENT);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    assert_int_equal(t_apply(&t, &last), FL_ENOTFOUND);
    fl_value_unref(vars);
    t_env_release(&t);
}

static void test_cancel(void **state)
{
    struct t_env t;
    struct fl_model *m = mb_new("cancel");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t f = mb_node(m, FL_NODE_PARALLEL_GW, "fork");
    uint32_t a = mb_node(m, FL_NODE_USER_TASK, "a");
    uint32_t j = mb_node(m, FL_NODE_SERVICE_TASK, "job");
    const struct fl_effect *e;
    uint64_t task, job;
    (void)state;

    m->nodes[j].job_type = fl_strdup("x");
    mb_flow(m, "f0", s, f, NULL);
    mb_flow(m, "f1", f, a, NULL);
    mb_flow(m, "f2", f, j, NULL);
    t_env_init(&t, m);
    t_start(&t, NULL);
    task = fx_task(&t.fx, 0);
    job = fx_nth(&t.fx, FL_FX_JOB_CREATE, 0)->u.job.id;

    struct fl_command c = {.kind = FL_CMD_CANCEL, .reason = "client said \"no\"", .actor = "ann"};
    assert_int_equal(t_apply(&t, &c), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_CANCELLED);
    assert_int_equal(t.inst->ended_at, T_NOW);
    assert_int_equal(t.inst->n_tokens, 0);
    e = fx_nth(&t.fx, FL_FX_TASK_CLOSE, 0);
    assert_int_equal(e->u.task_close.id, task);
    assert_int_equal(e->u.task_close.status, FL_TASK_CANCELLED);
    assert_string_equal(e->u.task_close.actor, "ann");
    assert_int_equal(fx_nth(&t.fx, FL_FX_JOB_CLOSE, 0)->u.job_close.id, job);
    assert_int_equal(fx_count(&t.fx, FL_FX_TOKEN_DEL), 2);
    assert_string_equal(ev_nth(&t.fx, FL_EV_INSTANCE_CANCELLED, 0)->detail,
                        "{\"reason\":\"client said \\\"no\\\"\"}");
    assert_int_equal(ev_count(&t.fx, FL_EV_INSTANCE_COMPLETED), 0);
    assert_int_equal(t_apply(&t, &c), FL_ECONFLICT);
    assert_string_equal(t.err.msg, "instance 1001 is cancelled");
    assert_int_equal(t_complete(&t, task, NULL), FL_ECONFLICT);
    t_env_release(&t);
}

/* Flatten the effects into text, to compare two runs. */
static void fx_dump(const struct fl_effects *fx, struct fl_buf *b)
{
    for (size_t i = 0; i < fx->n; i++) {
        const struct fl_effect *e = &fx->items[i];
        fl_buf_addf(b, "%d:", (int)e->kind);
        switch (e->kind) {
        case FL_FX_EVENT:
            fl_buf_addf(b, "%s %llu %llu %s %s %lld|", fl_event_type_name(e->u.event.type),
                        (unsigned long long)e->u.event.token_id,
                        (unsigned long long)e->u.event.ref_id,
                        e->u.event.node_id ? e->u.event.node_id : "-",
                        e->u.event.detail ? e->u.event.detail : "-", (long long)e->u.event.at);
            break;
        case FL_FX_TOKEN_PUT:
        case FL_FX_TOKEN_DEL:
            fl_buf_addf(b, "%llu %u %d %llu|", (unsigned long long)e->u.token.id, e->u.token.node,
                        e->u.token.state, (unsigned long long)e->u.token.task_id);
            break;
        case FL_FX_TASK_CREATE:
            fl_buf_addf(b, "%llu %s %lld|", (unsigned long long)e->u.task.id, e->u.task.node_id,
                        (long long)e->u.task.due_at);
            break;
        case FL_FX_VAR_SET:
            fl_buf_addf(b, "%s=", e->u.var.name);
            fl_value_to_json(e->u.var.value, b);
            fl_buf_addc(b, '|');
            break;
        default:
            fl_buf_addf(b, "%llu|", (unsigned long long)e->u.task_close.id);
            break;
        }
    }
}

static void run_script_of_commands(struct fl_buf *out)
{
    struct t_env t;
    struct fl_model *m = mb_new("det");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t f = mb_node(m, FL_NODE_PARALLEL_GW, "fork");
    uint32_t a = mb_node(m, FL_NODE_USER_TASK, "a");
    uint32_t b = mb_node(m, FL_NODE_USER_TASK, "b");
    uint32_t g = mb_node(m, FL_NODE_EXCLUSIVE_GW, "gw");
    uint32_t e = mb_node(m, FL_NODE_END_EVENT, "end");

    m->nodes[a].stage->duration = fl_strdup("P2D");
    mb_flow(m, "f0", s, f, NULL);
    mb_flow(m, "f1", f, a, NULL);
    mb_flow(m, "f2", f, b, NULL);
    mb_flow(m, "f3", a, g, NULL);
    mb_flow(m, "f4", b, g, NULL);
    mb_flow(m, "f5", g, a, "again");
    m->nodes[g].default_flow = mb_flow(m, "f6", g, e, NULL);
    t_env_init(&t, m);
    t_start(&t, "{\"again\": true}");
    fx_dump(&t.fx, out);
    uint64_t ta = fx_task(&t.fx, 0), tb = fx_task(&t.fx, 1);
    assert_int_equal(t_complete(&t, ta, NULL), 0);
    fx_dump(&t.fx, out);
    ta = fx_task(&t.fx, 0);
    assert_int_equal(t_complete(&t, tb, "{\"again\": false}"), 0);
    fx_dump(&t.fx, out);
    assert_int_equal(t_complete(&t, ta, NULL), 0);
    fx_dump(&t.fx, out);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    t_env_release(&t);
}

static void test_determinism(void **state)
{
    struct fl_buf one = FL_BUF_INIT, two = FL_BUF_INIT;
    (void)state;
    run_script_of_commands(&one);
    run_script_of_commands(&two);
    assert_true(one.len > 200);
    assert_string_equal(one.ptr, two.ptr);
    fl_buf_release(&one);
    fl_buf_release(&two);
}

/* The effects of many commands through one reset struct: memory is reused, nothing leaks
 * (ASan), and values held by VAR_SET stay valid until the reset. */
static void test_effects_reuse(void **state)
{
    struct t_env t;
    struct fl_model *m = mb_new("reuse");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t a = mb_node(m, FL_NODE_USER_TASK, "a");
    uint32_t g = mb_node(m, FL_NODE_EXCLUSIVE_GW, "gw");
    uint32_t e = mb_node(m, FL_NODE_END_EVENT, "end");
    (void)state;

    mb_flow(m, "f0", s, a, NULL);
    mb_flow(m, "f1", a, g, NULL);
    mb_flow(m, "f2", g, a, "n < 500");
    m->nodes[g].default_flow = mb_flow(m, "f3", g, e, NULL);
    t_env_init(&t, m);
    t_start(&t, NULL);
    for (int i = 0; i < 500; i++) {
        char vars[64];
        uint64_t task = fx_task(&t.fx, 0);
        snprintf(vars, sizeof(vars), "{\"n\": %d, \"s\": \"iteration %d\"}", i + 1, i);
        assert_int_equal(t_complete(&t, task, vars), 0);
        assert_int_equal(fx_count(&t.fx, FL_FX_VAR_SET), 2);
        assert_int_equal(fl_value_type(fx_nth(&t.fx, FL_FX_VAR_SET, 0)->u.var.value), FL_VNUMBER);
    }
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    assert_int_equal(t.inst->revision, 501);
    t_env_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_candidates),
        cmocka_unit_test(test_due_times),
        cmocka_unit_test(test_required_main_action),
        cmocka_unit_test(test_errors_leave_state),
        cmocka_unit_test(test_jobs),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_effects_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
