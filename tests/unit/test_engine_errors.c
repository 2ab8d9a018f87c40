/* Unit tests of BPMN errors, escalations, conditional events and non-timer boundary events
 * in the engine, on models built by hand: a job worker throws an error at its service
 * task (caught by a boundary event by code or catch-all, or not caught: an incident, or
 * the error goes up to the caller), error end events, escalation throw and end events
 * (caught or going on), event subprocesses started by an error or escalation, conditional
 * catch and boundary events re-evaluated after variable changes, and message boundary
 * subscriptions opened and closed with the activity. */
#include "engine_fixture.h"

#include <stdio.h>

#include "core/engine_int.h"

/* ---- model helpers ---- */

static uint32_t ev_node(struct fl_model *m, enum fl_node_kind kind, const char *id,
                        enum fl_trigger trigger, const char *name)
{
    uint32_t i = mb_node(m, kind, id);
    struct fl_node *n = &m->nodes[i];
    n->scope = FL_NONE;
    n->attached_to = FL_NONE;
    n->compensation = FL_NONE;
    n->sub_start = FL_NONE;
    n->interrupting = true;
    if (trigger != FL_TRIGGER_NONE) {
        n->event = fl_calloc(1, sizeof(*n->event));
        n->event->trigger = trigger;
        n->event->name = name ? fl_strdup(name) : NULL;
        n->event->activity_ref = FL_NONE;
        n->event->link_target = FL_NONE;
        n->event->wait_for_completion = true;
    }
    return i;
}

static uint32_t node(struct fl_model *m, enum fl_node_kind kind, const char *id)
{
    uint32_t i = ev_node(m, kind, id, FL_TRIGGER_NONE, NULL);
    if (kind == FL_NODE_SERVICE_TASK)
        m->nodes[i].job_type = fl_strdup("work");
    return i;
}

static void attach(struct fl_model *m, uint32_t b, uint32_t a, bool interrupting)
{
    struct fl_node *act = &m->nodes[a];
    m->nodes[b].attached_to = a;
    m->nodes[b].cancel_activity = interrupting;
    act->boundaries =
        fl_reallocarray(act->boundaries, act->n_boundaries + 1, sizeof(*act->boundaries));
    act->boundaries[act->n_boundaries++] = b;
}

static void add_u32(uint32_t **arr, size_t *n, uint32_t v)
{
    *arr = fl_reallocarray(*arr, *n + 1, sizeof(**arr));
    (*arr)[(*n)++] = v;
}

/* Event subprocess `esp` at process level with start event `start` inside it. */
static void esp_at_top(struct fl_model *m, uint32_t esp, uint32_t start, bool interrupting)
{
    size_t n = m->nodes[esp].n_children;
    m->nodes[start].scope = esp;
    m->nodes[start].interrupting = interrupting;
    add_u32(&m->nodes[esp].children, &n, start);
    m->nodes[esp].n_children = (uint32_t)n;
    add_u32(&m->event_starts, &m->n_event_starts, start);
}

static void in_scope(struct fl_model *m, uint32_t child, uint32_t scope)
{
    size_t n = m->nodes[scope].n_children;
    m->nodes[child].scope = scope;
    add_u32(&m->nodes[scope].children, &n, child);
    m->nodes[scope].n_children = (uint32_t)n;
}

static void release(struct t_env *t)
{
    for (size_t i = 0; i < t->m->n_nodes; i++) {
        struct fl_node *n = &t->m->nodes[i];
        if (n->event) {
            free(n->event->name);
            free(n->event->correlation_key);
            free(n->event->code_variable);
            free(n->event->message_variable);
            free(n->event->message);
            fl_feel_free(n->event->condition);
            free(n->event);
        }
        free(n->boundaries);
        free(n->children);
        free(n->event_starts);
    }
    free(t->m->event_starts);
    t_env_release(t);
}

/* ---- command helpers ---- */

static int throw_error(struct t_env *t, uint64_t job, const char *code, const char *msg,
                       const char *vars_json)
{
    struct fl_value *vars = vars_json ? t_json(vars_json) : NULL;
    struct fl_command cmd = {.kind = FL_CMD_THROW_ERROR,
                             .target_id = job,
                             .error_code = code,
                             .error_message = msg,
                             .variables = vars,
                             .actor = "worker"};
    int rc = t_apply(t, &cmd);
    fl_value_unref(vars);
    return rc;
}

static uint64_t fx_job(const struct fl_effects *fx, size_t i)
{
    const struct fl_effect *e = fx_nth(fx, FL_FX_JOB_CREATE, i);
    if (!e)
        fail_msg("no job created #%zu", i);
    return e->u.job.id;
}

static const struct fl_value *var(const struct t_env *t, const char *name)
{
    return fl_value_context_get(t->inst->variables, name, strlen(name));
}

static void assert_var_str(const struct t_env *t, const char *name, const char *want)
{
    const struct fl_value *v = var(t, name);
    size_t len;
    const char *s;
    if (!v)
        fail_msg("no variable '%s'", name);
    s = fl_value_str(v, &len);
    assert_non_null(s);
    assert_string_equal(s, want);
}

static const char *incident_msg(const struct t_env *t)
{
    const struct fl_effect *e = fx_nth(&t->fx, FL_FX_INCIDENT, 0);
    if (!e)
        fail_msg("no incident");
    return e->u.incident.message;
}

/* start -> svc (service task, boundaries added by the test) -> end; handler -> hend */
struct svc_model {
    struct fl_model *m;
    uint32_t svc, end, handler, hend;
};

static struct svc_model svc_model(void)
{
    struct svc_model s;
    s.m = mb_new("svc");
    uint32_t st = node(s.m, FL_NODE_START_EVENT, "start");
    s.svc = node(s.m, FL_NODE_SERVICE_TASK, "svc");
    s.end = node(s.m, FL_NODE_END_EVENT, "end");
    s.handler = node(s.m, FL_NODE_USER_TASK, "handler");
    s.hend = node(s.m, FL_NODE_END_EVENT, "hend");
    mb_flow(s.m, "f1", st, s.svc, NULL);
    mb_flow(s.m, "f2", s.svc, s.end, NULL);
    mb_flow(s.m, "f3", s.handler, s.hend, NULL);
    return s;
}

/* ---- errors thrown by a job worker ---- */

static void test_throw_error_caught_by_code(void **state)
{
    struct svc_model s = svc_model();
    struct t_env t;
    (void)state;
    uint32_t b = ev_node(s.m, FL_NODE_BOUNDARY_EVENT, "caught", FL_TRIGGER_ERROR, "E42");
    s.m->nodes[b].event->code_variable = fl_strdup("errCode");
    s.m->nodes[b].event->message_variable = fl_strdup("errMsg");
    attach(s.m, b, s.svc, true);
    mb_flow(s.m, "fb", b, s.handler, NULL);
    t_env_init(&t, s.m);
    t_start(&t, NULL);
    uint64_t job = fx_job(&t.fx, 0);

    assert_int_equal(throw_error(&t, job, "E42", "card declined", "{\"tries\":2}"), 0);
    /* the job is closed, the error caught by the boundary, the handler task opened */
    const struct fl_effect *jc = fx_nth(&t.fx, FL_FX_JOB_CLOSE, 0);
    assert_non_null(jc);
    assert_int_equal(jc->u.job_close.id, job);
    assert_true(jc->u.job_close.failed);
    assert_int_equal(fx_count(&t.fx, FL_FX_JOB_CLOSE), 1); /* not closed twice */
    const struct fl_event *ev = ev_nth(&t.fx, FL_EV_ERROR_THROWN, 0);
    assert_non_null(ev);
    assert_string_equal(ev->detail, "{\"code\":\"E42\",\"message\":\"card declined\"}");
    ev = ev_nth(&t.fx, FL_EV_ERROR_CAUGHT, 0);
    assert_non_null(ev);
    assert_string_equal(ev->detail, "{\"code\":\"E42\",\"by\":\"caught\"}");
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 1);
    assert_int_equal(t.inst->n_tokens, 1);
    assert_non_null(inst_token_at(&t, "handler"));
    assert_var_str(&t, "errCode", "E42");
    assert_var_str(&t, "errMsg", "card declined");
    assert_non_null(var(&t, "tries"));
    assert_int_equal(fx_count(&t.fx, FL_FX_INCIDENT), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    release(&t);
}

static void test_throw_error_code_before_catch_all(void **state)
{
    struct svc_model s = svc_model();
    struct t_env t;
    (void)state;
    uint32_t all = ev_node(s.m, FL_NODE_BOUNDARY_EVENT, "all", FL_TRIGGER_ERROR, NULL);
    uint32_t other = ev_node(s.m, FL_NODE_BOUNDARY_EVENT, "other", FL_TRIGGER_ERROR, "NOPE");
    uint32_t exact = ev_node(s.m, FL_NODE_BOUNDARY_EVENT, "exact", FL_TRIGGER_ERROR, "E1");
    uint32_t allend = node(s.m, FL_NODE_END_EVENT, "allend");
    attach(s.m, all, s.svc, true);
    attach(s.m, other, s.svc, true);
    attach(s.m, exact, s.svc, true);
    mb_flow(s.m, "fa", all, allend, NULL);
    mb_flow(s.m, "fo", other, allend, NULL);
    mb_flow(s.m, "fe", exact, s.handler, NULL);
    t_env_init(&t, s.m);
    t_start(&t, NULL);
    assert_int_equal(throw_error(&t, fx_job(&t.fx, 0), "E1", NULL, NULL), 0);
    assert_non_null(inst_token_at(&t, "handler"));

    /* a code nobody names goes to the catch-all, which ends the instance */
    fl_instance_free(t.inst);
    t.inst = NULL;
    t_start(&t, NULL);
    assert_int_equal(throw_error(&t, fx_job(&t.fx, 0), "OTHER", NULL, NULL), 0);
    const struct fl_event *ev = ev_nth(&t.fx, FL_EV_ERROR_CAUGHT, 0);
    assert_non_null(ev);
    assert_string_equal(ev->node_id, "all");
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    release(&t);
}

static void test_throw_error_uncaught_incident(void **state)
{
    struct svc_model s = svc_model();
    struct t_env t;
    (void)state;
    uint32_t b = ev_node(s.m, FL_NODE_BOUNDARY_EVENT, "other", FL_TRIGGER_ERROR, "NOPE");
    attach(s.m, b, s.svc, true);
    mb_flow(s.m, "fb", b, s.handler, NULL);
    t_env_init(&t, s.m);
    t_start(&t, NULL);
    uint64_t job = fx_job(&t.fx, 0);
    assert_int_equal(throw_error(&t, job, "E9", NULL, NULL), 0);
    assert_string_equal(incident_msg(&t), "error 'E9' thrown at 'svc' is not caught");
    assert_int_equal(fx_nth(&t.fx, FL_FX_INCIDENT, 0)->u.incident.job_id, job);
    assert_int_equal(t.inst->n_tokens, 1);
    assert_int_equal(t.inst->tokens[0].state, FL_TOKEN_INCIDENT);
    assert_int_equal(t.inst->tokens[0].node, s.svc);
    assert_int_equal(t.inst->tokens[0].job_id, 0);
    assert_true(t.inst->incident);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    /* the job is gone: throwing again at it is refused and changes nothing */
    uint64_t rev = t.inst->revision;
    assert_int_equal(throw_error(&t, job, "E9", NULL, NULL), FL_ENOTFOUND);
    assert_int_equal(t.fx.n, 0);
    assert_int_equal(t.inst->revision, rev);
    release(&t);
}

static void test_throw_error_uncaught_goes_up(void **state)
{
    struct svc_model s = svc_model();
    struct t_env t;
    (void)state;
    t_env_init(&t, s.m);
    t_start(&t, NULL);
    t.inst->parent_instance_id = 77;
    t.inst->parent_token_id = 78;
    uint64_t job = fx_job(&t.fx, 0);
    assert_int_equal(throw_error(&t, job, "E9", "boom", NULL), 0);
    const struct fl_effect *e = fx_nth(&t.fx, FL_FX_ERROR_UP, 0);
    assert_non_null(e);
    assert_string_equal(e->u.msg.name, "E9");
    assert_string_equal(e->u.msg.correlation_key, "boom");
    assert_string_equal(e->u.msg.node_id, "svc");
    assert_int_equal(fx_count(&t.fx, FL_FX_INCIDENT), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_CANCELLED);
    assert_int_equal(t.inst->n_tokens, 0);
    assert_int_equal(ev_count(&t.fx, FL_EV_INSTANCE_CANCELLED), 1);
    release(&t);
}

static void test_throw_error_refused(void **state)
{
    struct svc_model s = svc_model();
    struct t_env t;
    (void)state;
    t_env_init(&t, s.m);
    t_start(&t, NULL);
    uint64_t job = fx_job(&t.fx, 0);
    assert_int_equal(throw_error(&t, job + 100, "E", NULL, NULL), FL_ENOTFOUND);
    assert_int_equal(throw_error(&t, job, NULL, NULL, NULL), FL_EINVAL);
    assert_string_equal(t.err.field, "error_code");
    assert_int_equal(throw_error(&t, job, "", NULL, NULL), FL_EINVAL);
    assert_int_equal(throw_error(&t, job, "E", NULL, "[1]"), FL_ETYPE);
    assert_int_equal(t.fx.n, 0);
    assert_int_equal(t.inst->revision, 1);
    assert_int_equal(t.inst->tokens[0].job_id, job);
    release(&t);
}

/* ---- error end events ---- */

static void test_error_end_uncaught_incident(void **state)
{
    struct fl_model *m = mb_new("errend");
    struct t_env t;
    (void)state;
    uint32_t st = node(m, FL_NODE_START_EVENT, "start");
    uint32_t ee = ev_node(m, FL_NODE_EVENT_END, "fail", FL_TRIGGER_ERROR, "=\"E-\" + kind");
    mb_flow(m, "f1", st, ee, NULL);
    t_env_init(&t, m);
    t_start(&t, "{\"kind\":\"x\"}");
    assert_string_equal(incident_msg(&t), "error 'E-x' thrown at 'fail' is not caught");
    assert_int_equal(t.inst->n_tokens, 1);
    assert_int_equal(t.inst->tokens[0].state, FL_TOKEN_INCIDENT);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    release(&t);
}

/* An error end event caught by an interrupting error event subprocess at process level:
 * everything else is cancelled and the event subprocess runs with the code variable. */
static void test_error_end_caught_by_event_subprocess(void **state)
{
    struct fl_model *m = mb_new("esp");
    struct t_env t;
    (void)state;
    uint32_t st = node(m, FL_NODE_START_EVENT, "start");
    uint32_t fork = node(m, FL_NODE_PARALLEL_GW, "fork");
    uint32_t wait = node(m, FL_NODE_USER_TASK, "wait");
    uint32_t ee = ev_node(m, FL_NODE_EVENT_END, "fail", FL_TRIGGER_ERROR, "E1");
    uint32_t esp = node(m, FL_NODE_EVENT_SUB_PROCESS, "esp");
    uint32_t es = ev_node(m, FL_NODE_EVENT_START, "onError", FL_TRIGGER_ERROR, NULL);
    uint32_t fix = node(m, FL_NODE_USER_TASK, "fix");
    m->nodes[es].event->code_variable = fl_strdup("code");
    esp_at_top(m, esp, es, true);
    in_scope(m, fix, esp);
    mb_flow(m, "f1", st, fork, NULL);
    mb_flow(m, "f2", fork, wait, NULL);
    mb_flow(m, "f3", fork, ee, NULL);
    mb_flow(m, "f4", es, fix, NULL);
    t_env_init(&t, m);
    t_start(&t, NULL);
    /* wait's task was opened, then cancelled by the interrupting event subprocess */
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 2);
    assert_int_equal(ev_count(&t.fx, FL_EV_TASK_CANCELLED), 1);
    assert_null(inst_token_at(&t, "wait"));
    const struct fl_token *sc = inst_token_at(&t, "esp");
    assert_non_null(sc);
    assert_int_equal(sc->state, FL_TOKEN_SCOPE);
    const struct fl_token *fx = inst_token_at(&t, "fix");
    assert_non_null(fx);
    assert_int_equal(fx->scope, sc->id);
    /* the code went into the event subprocess's locals */
    const struct fl_scope_vars *sv = NULL;
    for (size_t i = 0; i < t.inst->n_locals; i++)
        if (t.inst->locals[i].scope == sc->id)
            sv = &t.inst->locals[i];
    assert_non_null(sv);
    const struct fl_value *code = fl_value_context_get(sv->vars, "code", 4);
    assert_non_null(code);
    size_t len;
    assert_string_equal(fl_value_str(code, &len), "E1");
    assert_int_equal(fx_count(&t.fx, FL_FX_INCIDENT), 0);
    release(&t);
}

/* ---- escalations ---- */

static void test_escalation_uncaught_goes_on(void **state)
{
    struct fl_model *m = mb_new("esc");
    struct t_env t;
    (void)state;
    uint32_t st = node(m, FL_NODE_START_EVENT, "start");
    uint32_t th = ev_node(m, FL_NODE_THROW_EVENT, "raise", FL_TRIGGER_ESCALATION, "LATE");
    uint32_t fork = node(m, FL_NODE_PARALLEL_GW, "fork");
    uint32_t task = node(m, FL_NODE_USER_TASK, "task");
    uint32_t ee = ev_node(m, FL_NODE_EVENT_END, "escend", FL_TRIGGER_ESCALATION, "LATE");
    mb_flow(m, "f1", st, th, NULL);
    mb_flow(m, "f2", th, fork, NULL);
    mb_flow(m, "f3", fork, task, NULL);
    mb_flow(m, "f4", fork, ee, NULL);
    t_env_init(&t, m);
    t_start(&t, NULL);
    assert_int_equal(ev_count(&t.fx, FL_EV_ESCALATION_THROWN), 2);
    assert_string_equal(ev_nth(&t.fx, FL_EV_ESCALATION_THROWN, 0)->detail, "{\"code\":\"LATE\"}");
    assert_int_equal(ev_count(&t.fx, FL_EV_ERROR_CAUGHT), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_INCIDENT), 0);
    assert_int_equal(t.inst->n_tokens, 1);
    assert_non_null(inst_token_at(&t, "task"));
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    release(&t);
}

/* A non-interrupting escalation event subprocess: the thrower goes on, the event
 * subprocess runs beside it. */
static void test_escalation_non_interrupting_event_subprocess(void **state)
{
    struct fl_model *m = mb_new("escesp");
    struct t_env t;
    (void)state;
    uint32_t st = node(m, FL_NODE_START_EVENT, "start");
    uint32_t th = ev_node(m, FL_NODE_THROW_EVENT, "raise", FL_TRIGGER_ESCALATION, "LATE");
    uint32_t task = node(m, FL_NODE_USER_TASK, "task");
    uint32_t esp = node(m, FL_NODE_EVENT_SUB_PROCESS, "esp");
    uint32_t es = ev_node(m, FL_NODE_EVENT_START, "onLate", FL_TRIGGER_ESCALATION, "LATE");
    uint32_t tell = node(m, FL_NODE_USER_TASK, "tell");
    esp_at_top(m, esp, es, false);
    in_scope(m, tell, esp);
    mb_flow(m, "f1", st, th, NULL);
    mb_flow(m, "f2", th, task, NULL);
    mb_flow(m, "f3", es, tell, NULL);
    t_env_init(&t, m);
    t_start(&t, NULL);
    assert_int_equal(ev_count(&t.fx, FL_EV_ERROR_CAUGHT), 1);
    assert_non_null(inst_token_at(&t, "task"));
    assert_non_null(inst_token_at(&t, "tell"));
    assert_non_null(inst_token_at(&t, "esp"));
    assert_int_equal(ev_count(&t.fx, FL_EV_TASK_CANCELLED), 0);
    release(&t);
}

/* ---- conditional events ---- */

/* start -> fork -> (c: conditional catch "x > 5" -> after) | (set: user task) */
static void test_conditional_catch(void **state)
{
    struct fl_model *m = mb_new("cond");
    struct t_env t;
    (void)state;
    uint32_t st = node(m, FL_NODE_START_EVENT, "start");
    uint32_t fork = node(m, FL_NODE_PARALLEL_GW, "fork");
    uint32_t c = ev_node(m, FL_NODE_CATCH_EVENT, "c", FL_TRIGGER_CONDITIONAL, NULL);
    uint32_t after = node(m, FL_NODE_USER_TASK, "after");
    uint32_t set = node(m, FL_NODE_USER_TASK, "set");
    m->nodes[c].event->condition = mb_feel("x > 5");
    mb_flow(m, "f1", st, fork, NULL);
    mb_flow(m, "f2", fork, c, NULL);
    mb_flow(m, "f3", c, after, NULL);
    mb_flow(m, "f4", fork, set, NULL);
    t_env_init(&t, m);

    /* not set at all: waits (a missing variable is "not yet", not an incident) */
    t_start(&t, NULL);
    assert_int_equal(fx_count(&t.fx, FL_FX_INCIDENT), 0);
    const struct fl_token *w = inst_token_at(&t, "c");
    assert_non_null(w);
    assert_int_equal(w->state, FL_TOKEN_WAITING);
    uint64_t set_task = fx_task(&t.fx, 0);
    /* a change that does not make it true: still waiting */
    assert_int_equal(t_complete(&t, set_task, "{\"x\":3}"), 0);
    assert_non_null(inst_token_at(&t, "c"));
    assert_null(inst_token_at(&t, "after"));
    fl_instance_free(t.inst);
    t.inst = NULL;

    /* true when the token arrives: goes straight on */
    t_start(&t, "{\"x\":9}");
    assert_null(inst_token_at(&t, "c"));
    assert_non_null(inst_token_at(&t, "after"));
    fl_instance_free(t.inst);
    t.inst = NULL;

    /* becomes true by a completion elsewhere in the instance */
    t_start(&t, "{\"x\":1}");
    set_task = fx_task(&t.fx, 0);
    assert_non_null(inst_token_at(&t, "c"));
    assert_int_equal(t_complete(&t, set_task, "{\"x\":10}"), 0);
    assert_null(inst_token_at(&t, "c"));
    assert_non_null(inst_token_at(&t, "after"));
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 1);
    release(&t);
}

/* Conditional boundary events on a user task, re-evaluated after variables change while
 * it rests: the non-interrupting one sends a token out and the task stays, the
 * interrupting one cancels the task. */
static void test_conditional_boundaries(void **state)
{
    struct fl_model *m = mb_new("condb");
    struct t_env t;
    (void)state;
    uint32_t st = node(m, FL_NODE_START_EVENT, "start");
    uint32_t fork = node(m, FL_NODE_PARALLEL_GW, "fork");
    uint32_t task = node(m, FL_NODE_USER_TASK, "task");
    uint32_t setter = node(m, FL_NODE_USER_TASK, "setter");
    uint32_t warn = ev_node(m, FL_NODE_BOUNDARY_EVENT, "warn", FL_TRIGGER_CONDITIONAL, NULL);
    uint32_t stop = ev_node(m, FL_NODE_BOUNDARY_EVENT, "stop", FL_TRIGGER_CONDITIONAL, NULL);
    uint32_t note = node(m, FL_NODE_USER_TASK, "note");
    uint32_t end = node(m, FL_NODE_END_EVENT, "end");
    m->nodes[warn].event->condition = mb_feel("level = \"warn\"");
    m->nodes[stop].event->condition = mb_feel("level = \"stop\"");
    attach(m, warn, task, false);
    attach(m, stop, task, true);
    mb_flow(m, "f1", st, fork, NULL);
    mb_flow(m, "f2", fork, task, NULL);
    mb_flow(m, "f3", fork, setter, NULL);
    mb_flow(m, "f4", warn, note, NULL);
    mb_flow(m, "f5", stop, end, NULL);
    mb_flow(m, "f6", setter, setter, NULL); /* the setter task comes back each time */
    t_env_init(&t, m);
    t_start(&t, "{\"level\":\"ok\"}");
    uint64_t task_id = fx_task(&t.fx, 0), setter_id = fx_task(&t.fx, 1);
    assert_int_equal(t.inst->n_tokens, 2);

    assert_int_equal(t_complete(&t, setter_id, "{\"level\":\"warn\"}"), 0);
    assert_non_null(inst_token_at(&t, "note"));
    assert_non_null(inst_token_at(&t, "task")); /* still there */
    assert_int_equal(ev_count(&t.fx, FL_EV_TASK_CANCELLED), 0);
    setter_id = fx_task(&t.fx, 1); /* note's task first, then the setter's again */

    assert_int_equal(t_complete(&t, setter_id, "{\"level\":\"stop\"}"), 0);
    assert_null(inst_token_at(&t, "task"));
    assert_int_equal(ev_count(&t.fx, FL_EV_TASK_CANCELLED), 1);
    assert_int_equal(fx_nth(&t.fx, FL_FX_TASK_CLOSE, 1)->u.task_close.id, task_id);
    release(&t);
}

/* ---- message boundary subscriptions ---- */

static void test_message_boundary_subscription(void **state)
{
    struct fl_model *m = mb_new("msgb");
    struct t_env t;
    struct fl__run r;
    (void)state;
    uint32_t st = node(m, FL_NODE_START_EVENT, "start");
    uint32_t task = node(m, FL_NODE_USER_TASK, "task");
    uint32_t end = node(m, FL_NODE_END_EVENT, "end");
    uint32_t mb = ev_node(m, FL_NODE_BOUNDARY_EVENT, "cancelled", FL_TRIGGER_MESSAGE,
                          "=\"cancel-\" + kind");
    uint32_t cend = node(m, FL_NODE_END_EVENT, "cend");
    m->nodes[mb].event->correlation_key = fl_strdup("=orderId");
    attach(m, mb, task, true);
    mb_flow(m, "f1", st, task, NULL);
    mb_flow(m, "f2", task, end, NULL);
    mb_flow(m, "f3", mb, cend, NULL);
    t_env_init(&t, m);

    /* a key that cannot be evaluated: an incident before the task is created */
    t_start(&t, "{\"kind\":\"order\"}");
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 0);
    assert_non_null(strstr(incident_msg(&t), "correlation key of 'cancelled'"));
    fl_instance_free(t.inst);
    t.inst = NULL;

    t_start(&t, "{\"kind\":\"order\",\"orderId\":\"A-1\"}");
    const struct fl_effect *e = fx_nth(&t.fx, FL_FX_SUB_OPEN, 0);
    assert_non_null(e);
    assert_string_equal(e->u.sub.name, "cancel-order");
    assert_string_equal(e->u.sub.correlation_key, "A-1");
    assert_int_equal(e->u.sub.node, mb);
    assert_true(e->u.sub.interrupting);
    assert_int_equal(t.inst->n_subs, 1);
    assert_int_equal(t.inst->subs[0].token_id, t.inst->tokens[0].id);
    uint64_t sub = t.inst->subs[0].id;
    /* completing the task closes the subscription */
    struct fl_instance *keep = fl_instance_clone(t.inst);
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0);
    e = fx_nth(&t.fx, FL_FX_SUB_CLOSE, 0);
    assert_non_null(e);
    assert_int_equal(e->u.sub.id, sub);
    assert_int_equal(t.inst->n_subs, 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);

    /* the message arrives instead (as the correlation command will do it) */
    fl_instance_free(t.inst);
    t.inst = keep;
    fl_effects_reset(&t.fx);
    fl__run_init(&r, t.m, t.inst, &t.ctx, &t.fx, NULL);
    fl__boundary_trigger(&r, 0, mb, false);
    fl__run_go(&r);
    fl__run_release(&r);
    assert_int_equal(fx_count(&t.fx, FL_FX_SUB_CLOSE), 1);
    assert_int_equal(ev_count(&t.fx, FL_EV_TASK_CANCELLED), 1);
    assert_int_equal(t.inst->n_subs, 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    const struct fl_event *ev = ev_nth(&t.fx, FL_EV_NODE_ENTERED, 0);
    assert_string_equal(ev->node_id, "cancelled");
    release(&t);
}

/* Cancelling the instance closes the boundary subscriptions: nothing may correlate. */
static void test_cancel_closes_subscriptions(void **state)
{
    struct fl_model *m = mb_new("msgc");
    struct t_env t;
    (void)state;
    uint32_t st = node(m, FL_NODE_START_EVENT, "start");
    uint32_t task = node(m, FL_NODE_SERVICE_TASK, "task");
    uint32_t sb = ev_node(m, FL_NODE_BOUNDARY_EVENT, "sig", FL_TRIGGER_SIGNAL, "alarm");
    uint32_t end = node(m, FL_NODE_END_EVENT, "end");
    attach(m, sb, task, false);
    mb_flow(m, "f1", st, task, NULL);
    mb_flow(m, "f2", sb, end, NULL);
    t_env_init(&t, m);
    t_start(&t, NULL);
    const struct fl_effect *e = fx_nth(&t.fx, FL_FX_SUB_OPEN, 0);
    assert_non_null(e);
    assert_null(e->u.sub.correlation_key);
    assert_false(e->u.sub.interrupting);
    struct fl_command cmd = {.kind = FL_CMD_CANCEL, .reason = "no"};
    assert_int_equal(t_apply(&t, &cmd), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_SUB_CLOSE), 1);
    assert_int_equal(t.inst->n_subs, 0);
    release(&t);
}

/* The reader's gate: what this area runs is accepted, the rest refused with a reason. */
static void test_gate(void **state)
{
    struct svc_model s = svc_model();
    struct t_env t;
    (void)state;
    uint32_t eb = ev_node(s.m, FL_NODE_BOUNDARY_EVENT, "eb", FL_TRIGGER_ERROR, "E");
    uint32_t cb = ev_node(s.m, FL_NODE_BOUNDARY_EVENT, "cb", FL_TRIGGER_CONDITIONAL, NULL);
    uint32_t loose = ev_node(s.m, FL_NODE_BOUNDARY_EVENT, "loose", FL_TRIGGER_ERROR, NULL);
    uint32_t es = ev_node(s.m, FL_NODE_EVENT_START, "es", FL_TRIGGER_ERROR, NULL);
    uint32_t xe = ev_node(s.m, FL_NODE_EVENT_END, "xe", FL_TRIGGER_ESCALATION, "X");
    uint32_t ct = ev_node(s.m, FL_NODE_CATCH_EVENT, "ct", FL_TRIGGER_CONDITIONAL, NULL);
    attach(s.m, eb, s.svc, true);
    attach(s.m, cb, s.svc, true);
    attach(s.m, loose, s.end, true); /* on an end event: not an activity */
    s.m->nodes[ct].event->condition = mb_feel("true");
    t_env_init(&t, s.m);
    assert_null(fl_engine_unsupported(t.m, eb));
    assert_null(fl_engine_unsupported(t.m, xe));
    assert_null(fl_engine_unsupported(t.m, ct));
    assert_string_equal(fl_engine_unsupported(t.m, cb), "a conditional event needs a condition");
    assert_string_equal(fl_engine_unsupported(t.m, loose),
                        "a boundary event must be attached to an activity");
    assert_non_null(fl_engine_unsupported(t.m, es)); /* only inside an event subprocess */
    release(&t);
}

/* ---- compensation ---- */

/* Activity a gets handler h (for_compensation) through a compensate boundary event. */
static void compensated_by(struct fl_model *m, uint32_t a, uint32_t h, const char *bid)
{
    uint32_t b = ev_node(m, FL_NODE_BOUNDARY_EVENT, bid, FL_TRIGGER_COMPENSATE, NULL);
    attach(m, b, a, true);
    m->nodes[a].compensation = h;
    m->nodes[h].for_compensation = true;
}

/* start -> A -> B -> throw (compensate) -> after; A and B have handlers hA, hB. */
static struct fl_model *comp_model(bool wait, bool only_a, bool end)
{
    struct fl_model *m = mb_new("comp");
    uint32_t st = node(m, FL_NODE_START_EVENT, "start");
    uint32_t a = node(m, FL_NODE_USER_TASK, "A");
    uint32_t b = node(m, FL_NODE_USER_TASK, "B");
    uint32_t th = ev_node(m, end ? FL_NODE_EVENT_END : FL_NODE_THROW_EVENT, "undo",
                          FL_TRIGGER_COMPENSATE, NULL);
    uint32_t ha = node(m, FL_NODE_USER_TASK, "hA");
    uint32_t hb = node(m, FL_NODE_USER_TASK, "hB");
    m->nodes[th].event->wait_for_completion = wait;
    if (only_a)
        m->nodes[th].event->activity_ref = a;
    compensated_by(m, a, ha, "compA");
    compensated_by(m, b, hb, "compB");
    mb_flow(m, "f1", st, a, NULL);
    mb_flow(m, "f2", a, b, NULL);
    mb_flow(m, "f3", b, th, NULL);
    if (!end) {
        uint32_t after = node(m, FL_NODE_USER_TASK, "after");
        mb_flow(m, "f4", th, after, NULL);
    }
    return m;
}

static const char *task_node(const struct t_env *t, size_t i)
{
    return fx_task_of(&t->fx, i)->node_id;
}

static void test_compensate_all_reverse_and_wait(void **state)
{
    struct t_env t;
    (void)state;
    t_env_init(&t, comp_model(true, false, false));
    t_start(&t, NULL);
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0); /* A */
    assert_int_equal(t.inst->n_comps, 1);
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0); /* B, then the throw */
    assert_int_equal(ev_count(&t.fx, FL_EV_COMPENSATED), 2);
    assert_string_equal(ev_nth(&t.fx, FL_EV_COMPENSATED, 0)->detail, "{\"activity\":\"B\"}");
    assert_string_equal(ev_nth(&t.fx, FL_EV_COMPENSATED, 1)->detail, "{\"activity\":\"A\"}");
    assert_string_equal(task_node(&t, 0), "hB");
    assert_string_equal(task_node(&t, 1), "hA");
    uint64_t hb = fx_task(&t.fx, 0), ha = fx_task(&t.fx, 1);
    assert_int_equal(t.inst->n_comps, 0);
    const struct fl_token *w = inst_token_at(&t, "undo");
    assert_non_null(w);
    assert_int_equal(w->state, FL_TOKEN_WAITING);
    assert_int_equal(inst_token_at(&t, "hA")->scope, w->id);
    /* the throw waits for both handlers */
    assert_int_equal(t_complete(&t, hb, NULL), 0);
    assert_non_null(inst_token_at(&t, "undo"));
    assert_null(inst_token_at(&t, "after"));
    assert_int_equal(t_complete(&t, ha, NULL), 0);
    assert_null(inst_token_at(&t, "undo"));
    assert_non_null(inst_token_at(&t, "after"));
    assert_int_equal(t.inst->n_tokens, 1);
    release(&t);
}

static void test_compensate_activity_ref_no_wait(void **state)
{
    struct t_env t;
    (void)state;
    t_env_init(&t, comp_model(false, true, false));
    t_start(&t, NULL);
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0);
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0);
    assert_int_equal(ev_count(&t.fx, FL_EV_COMPENSATED), 1);
    assert_string_equal(ev_nth(&t.fx, FL_EV_COMPENSATED, 0)->detail, "{\"activity\":\"A\"}");
    /* no waiting: the handler and the next task run side by side */
    assert_non_null(inst_token_at(&t, "hA"));
    assert_non_null(inst_token_at(&t, "after"));
    assert_null(inst_token_at(&t, "undo"));
    assert_int_equal(t.inst->n_comps, 1); /* B's record stays */
    release(&t);
}

/* A compensate end event with nothing completed yet ends at once; with records it ends
 * the instance only when the handlers are done. */
static void test_compensate_end(void **state)
{
    struct t_env t;
    (void)state;
    t_env_init(&t, comp_model(true, false, true));
    t_start(&t, NULL);
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0);
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 2);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    uint64_t hb = fx_task(&t.fx, 0), ha = fx_task(&t.fx, 1);
    assert_int_equal(t_complete(&t, ha, NULL), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    assert_int_equal(t_complete(&t, hb, NULL), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    release(&t);
}

/* A transaction (its scope token made by hand: the subprocess itself is the scopes'
 * side): X completes inside it, a cancel end event cancels the transaction, X's handler
 * runs, then the token leaves by the cancel boundary. */
static void test_cancel_end_in_transaction(void **state)
{
    struct fl_model *m = mb_new("tx");
    struct t_env t;
    struct fl__run r;
    (void)state;
    uint32_t st = node(m, FL_NODE_START_EVENT, "start");
    uint32_t hold = node(m, FL_NODE_USER_TASK, "hold");
    uint32_t tx = node(m, FL_NODE_SUB_PROCESS, "tx");
    uint32_t x = node(m, FL_NODE_USER_TASK, "X");
    uint32_t y = node(m, FL_NODE_USER_TASK, "Y");
    uint32_t ce = ev_node(m, FL_NODE_EVENT_END, "abort", FL_TRIGGER_CANCEL, NULL);
    uint32_t hx = node(m, FL_NODE_USER_TASK, "hX");
    uint32_t cb = ev_node(m, FL_NODE_BOUNDARY_EVENT, "cancelled", FL_TRIGGER_CANCEL, NULL);
    uint32_t after = node(m, FL_NODE_USER_TASK, "after");
    m->nodes[tx].transaction = true;
    in_scope(m, x, tx);
    in_scope(m, y, tx);
    in_scope(m, ce, tx);
    in_scope(m, hx, tx);
    compensated_by(m, x, hx, "compX");
    attach(m, cb, tx, true);
    mb_flow(m, "f1", st, hold, NULL);
    mb_flow(m, "f2", x, ce, NULL);
    mb_flow(m, "f3", cb, after, NULL);
    t_env_init(&t, m);
    assert_null(fl_engine_unsupported(m, cb));
    t_start(&t, NULL);
    /* the transaction runs: its scope token, X and Y inside it */
    fl_effects_reset(&t.fx);
    fl__run_init(&r, t.m, t.inst, &t.ctx, &t.fx, NULL);
    struct fl_token scope = {.id = 9001, .node = tx, .flow = FL_NONE, .state = FL_TOKEN_SCOPE};
    fl__run_park(&r, &scope);
    struct fl__mover mx = {.id = 9002, .node = x, .flow = FL_NONE, .scope = 9001};
    struct fl__mover my = {.id = 9003, .node = y, .flow = FL_NONE, .scope = 9001};
    fl__run_push(&r, &mx);
    fl__run_push(&r, &my);
    fl__run_go(&r);
    fl__run_release(&r);
    uint64_t xt = fx_task(&t.fx, 0), yt = fx_task(&t.fx, 1);

    assert_int_equal(t_complete(&t, xt, NULL), 0);
    /* Y was cancelled with the transaction, X's handler runs, the token waits */
    const struct fl_effect *cl = fx_nth(&t.fx, FL_FX_TASK_CLOSE, 1);
    assert_non_null(cl);
    assert_int_equal(cl->u.task_close.id, yt);
    assert_int_equal(cl->u.task_close.status, FL_TASK_CANCELLED);
    assert_int_equal(ev_count(&t.fx, FL_EV_COMPENSATED), 1);
    assert_null(inst_token_at(&t, "tx"));
    const struct fl_token *w = inst_token_at(&t, "cancelled");
    assert_non_null(w);
    assert_int_equal(w->id, 9001);
    assert_non_null(inst_token_at(&t, "hX"));
    assert_null(inst_token_at(&t, "after"));
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0);
    assert_null(inst_token_at(&t, "cancelled"));
    assert_non_null(inst_token_at(&t, "after"));
    assert_non_null(inst_token_at(&t, "hold"));
    assert_int_equal(t.inst->n_tokens, 2);
    release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_throw_error_caught_by_code),
        cmocka_unit_test(test_throw_error_code_before_catch_all),
        cmocka_unit_test(test_throw_error_uncaught_incident),
        cmocka_unit_test(test_throw_error_uncaught_goes_up),
        cmocka_unit_test(test_throw_error_refused),
        cmocka_unit_test(test_error_end_uncaught_incident),
        cmocka_unit_test(test_error_end_caught_by_event_subprocess),
        cmocka_unit_test(test_escalation_uncaught_goes_on),
        cmocka_unit_test(test_escalation_non_interrupting_event_subprocess),
        cmocka_unit_test(test_conditional_catch),
        cmocka_unit_test(test_conditional_boundaries),
        cmocka_unit_test(test_message_boundary_subscription),
        cmocka_unit_test(test_cancel_closes_subscriptions),
        cmocka_unit_test(test_gate),
        cmocka_unit_test(test_compensate_all_reverse_and_wait),
        cmocka_unit_test(test_compensate_activity_ref_no_wait),
        cmocka_unit_test(test_compensate_end),
        cmocka_unit_test(test_cancel_end_in_transaction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
