/* Unit tests of scopes in the engine: nested embedded subprocesses (and one without a start
 * event), a terminate end event that ends only its subprocess, event subprocesses started
 * by a timer (interrupting at process level, non-interrupting with a cycle inside a
 * subprocess), timer boundaries on a subprocess, link events, inclusive gateways (split,
 * default, and a join that stops waiting for a token that can no longer arrive), and local
 * variables seen and set through the scope chain. Models are built by hand; the clock is
 * ctx.now_ms moved by hand. */
#include "engine_fixture.h"

#include <stdio.h>

/* ---- building scoped models ---- */

static void add_u32(uint32_t **arr, uint32_t *n, uint32_t v)
{
    *arr = fl_reallocarray(*arr, *n + 1, sizeof(**arr));
    (*arr)[(*n)++] = v;
}

static void add_sz(uint32_t **arr, size_t *n, uint32_t v)
{
    *arr = fl_reallocarray(*arr, *n + 1, sizeof(**arr));
    (*arr)[(*n)++] = v;
}

/* A node inside scope node `scope` (FL_NONE: the process). */
static uint32_t sc_node(struct fl_model *m, enum fl_node_kind k, const char *id, uint32_t scope)
{
    uint32_t n = mb_node(m, k, id);
    struct fl_node *node = &m->nodes[n];
    node->scope = scope;
    node->sub_start = FL_NONE;
    node->attached_to = FL_NONE;
    node->compensation = FL_NONE;
    if (scope == FL_NONE) {
        add_sz(&m->top, &m->n_top, n);
        return n;
    }
    struct fl_node *parent = &m->nodes[scope];
    add_u32(&parent->children, &parent->n_children, n);
    if (k == FL_NODE_START_EVENT && parent->sub_start == FL_NONE)
        parent->sub_start = n;
    if ((k == FL_NODE_TIMER_START || k == FL_NODE_EVENT_START) &&
        parent->kind == FL_NODE_EVENT_SUB_PROCESS) {
        if (parent->scope == FL_NONE)
            add_sz(&m->event_starts, &m->n_event_starts, n);
        else
            add_u32(&m->nodes[parent->scope].event_starts, &m->nodes[parent->scope].n_event_starts,
                    n);
    }
    return n;
}

static void sc_timer(struct fl_model *m, uint32_t n, enum fl_timer_def_kind kind, const char *text)
{
    m->nodes[n].timer = fl_calloc(1, sizeof(*m->nodes[n].timer));
    m->nodes[n].timer->kind = kind;
    m->nodes[n].timer->text = fl_strdup(text);
}

static void sc_attach(struct fl_model *m, uint32_t b, uint32_t t, bool interrupting)
{
    m->nodes[b].attached_to = t;
    m->nodes[b].cancel_activity = interrupting;
    add_u32(&m->nodes[t].boundaries, &m->nodes[t].n_boundaries, b);
}

static void sc_link(struct fl_model *m, uint32_t n, const char *name, uint32_t target)
{
    m->nodes[n].event = fl_calloc(1, sizeof(*m->nodes[n].event));
    m->nodes[n].event->trigger = FL_TRIGGER_LINK;
    m->nodes[n].event->name = fl_strdup(name);
    m->nodes[n].event->link_target = target;
    m->nodes[n].event->activity_ref = FL_NONE;
}

static void sc_release(struct t_env *t)
{
    for (size_t i = 0; i < t->m->n_nodes; i++) {
        struct fl_node *n = &t->m->nodes[i];
        if (n->timer)
            free(n->timer->text);
        free(n->timer);
        if (n->event)
            free(n->event->name);
        free(n->event);
        free(n->boundaries);
        free(n->children);
        free(n->event_starts);
    }
    free(t->m->top);
    free(t->m->event_starts);
    t_env_release(t);
}

static int fire(struct t_env *t, uint64_t timer_id)
{
    struct fl_command cmd = {.kind = FL_CMD_FIRE_TIMER, .target_id = timer_id};
    return t_apply(t, &cmd);
}

/* The pending timer of the instance at node id (fails if none). */
static const struct fl_timer *timer_at(const struct t_env *t, const char *node_id)
{
    uint32_t n = t_node(t->m, node_id);
    for (size_t i = 0; i < t->inst->n_timers; i++)
        if (t->inst->timers[i].node == n)
            return &t->inst->timers[i];
    return NULL;
}

/* The open task created at node id in this step (0 when none). */
static uint64_t task_at(const struct t_env *t, const char *node_id)
{
    for (size_t i = 0; i < t->fx.n; i++)
        if (t->fx.items[i].kind == FL_FX_TASK_CREATE &&
            strcmp(t->fx.items[i].u.task.node_id, node_id) == 0)
            return t->fx.items[i].u.task.id;
    return 0;
}

static bool node_left(const struct t_env *t, const char *node_id)
{
    for (size_t i = 0; i < t->fx.n; i++)
        if (t->fx.items[i].kind == FL_FX_EVENT &&
            t->fx.items[i].u.event.type == FL_EV_NODE_LEFT && t->fx.items[i].u.event.node_id &&
            strcmp(t->fx.items[i].u.event.node_id, node_id) == 0)
            return true;
    return false;
}

/* ---- embedded subprocesses ---- */

/* start -> outer [ s1 -> inner [ s2 -> task -> e2 ] -> e1 ] -> end */
static void test_nested_subprocess(void **state)
{
    struct t_env t;
    struct fl_model *m = mb_new("nested");
    (void)state;
    uint32_t s = sc_node(m, FL_NODE_START_EVENT, "start", FL_NONE);
    uint32_t outer = sc_node(m, FL_NODE_SUB_PROCESS, "outer", FL_NONE);
    uint32_t e = sc_node(m, FL_NODE_END_EVENT, "end", FL_NONE);
    uint32_t s1 = sc_node(m, FL_NODE_START_EVENT, "s1", outer);
    uint32_t inner = sc_node(m, FL_NODE_SUB_PROCESS, "inner", outer);
    uint32_t e1 = sc_node(m, FL_NODE_END_EVENT, "e1", outer);
    uint32_t s2 = sc_node(m, FL_NODE_START_EVENT, "s2", inner);
    uint32_t task = sc_node(m, FL_NODE_USER_TASK, "task", inner);
    uint32_t e2 = sc_node(m, FL_NODE_END_EVENT, "e2", inner);
    mb_flow(m, "f1", s, outer, NULL);
    mb_flow(m, "f2", outer, e, NULL);
    mb_flow(m, "f3", s1, inner, NULL);
    mb_flow(m, "f4", inner, e1, NULL);
    mb_flow(m, "f5", s2, task, NULL);
    mb_flow(m, "f6", task, e2, NULL);
    assert_null(fl_engine_unsupported(m, outer));
    assert_null(fl_engine_unsupported(m, task));

    t_env_init(&t, m);
    t_start(&t, NULL);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    assert_int_equal(t.inst->n_tokens, 3);
    const struct fl_token *to = inst_token_at(&t, "outer"), *ti = inst_token_at(&t, "inner"),
                          *tt = inst_token_at(&t, "task");
    assert_non_null(to);
    assert_non_null(ti);
    assert_non_null(tt);
    assert_int_equal(to->state, FL_TOKEN_SCOPE);
    assert_int_equal(to->scope, 0);
    assert_int_equal(ti->state, FL_TOKEN_SCOPE);
    assert_int_equal(ti->scope, to->id);
    assert_int_equal(tt->state, FL_TOKEN_WAITING);
    assert_int_equal(tt->scope, ti->id);
    /* the store sees the scope on every resting token */
    for (size_t i = 0; i < t.fx.n; i++)
        if (t.fx.items[i].kind == FL_FX_TOKEN_PUT && t.fx.items[i].u.token.id == tt->id)
            assert_int_equal(t.fx.items[i].u.token.scope, ti->id);

    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    assert_int_equal(t.inst->n_tokens, 0);
    assert_true(node_left(&t, "inner"));
    assert_true(node_left(&t, "outer"));
    /* both scope tokens were deleted */
    assert_int_equal(fx_count(&t.fx, FL_FX_TOKEN_DEL), 3);
    sc_release(&t);
}

/* A subprocess without a start event starts every child without incoming flows; an
 * empty one completes at once. */
static void test_subprocess_implicit_start(void **state)
{
    struct t_env t;
    struct fl_model *m = mb_new("implicit");
    (void)state;
    uint32_t s = sc_node(m, FL_NODE_START_EVENT, "start", FL_NONE);
    uint32_t sub = sc_node(m, FL_NODE_SUB_PROCESS, "sub", FL_NONE);
    uint32_t empty = sc_node(m, FL_NODE_SUB_PROCESS, "empty", FL_NONE);
    uint32_t after = sc_node(m, FL_NODE_USER_TASK, "after", FL_NONE);
    sc_node(m, FL_NODE_USER_TASK, "a", sub);
    sc_node(m, FL_NODE_USER_TASK, "b", sub);
    mb_flow(m, "f1", s, sub, NULL);
    mb_flow(m, "f2", sub, empty, NULL);
    mb_flow(m, "f3", empty, after, NULL);

    t_env_init(&t, m);
    t_start(&t, NULL);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 2);
    uint64_t ta = task_at(&t, "a"), tb = task_at(&t, "b");
    assert_int_equal(t_complete(&t, ta, NULL), 0);
    assert_null(inst_token_at(&t, "after"));
    assert_int_equal(t_complete(&t, tb, NULL), 0);
    /* sub completed, empty passed through at once */
    assert_true(node_left(&t, "sub"));
    assert_true(node_left(&t, "empty"));
    assert_non_null(inst_token_at(&t, "after"));
    assert_int_equal(inst_token_at(&t, "after")->scope, 0);
    sc_release(&t);
}

/* start -> sub [ s1 -> fork -> (a) | (inner [ s2 -> b ]) | (kill: terminate) ] -> after.
 * The terminate end kills a and the nested subprocess's b, then sub completes. */
static void test_terminate_in_subprocess(void **state)
{
    struct t_env t;
    struct fl_model *m = mb_new("term");
    (void)state;
    uint32_t s = sc_node(m, FL_NODE_START_EVENT, "start", FL_NONE);
    uint32_t sub = sc_node(m, FL_NODE_SUB_PROCESS, "sub", FL_NONE);
    uint32_t after = sc_node(m, FL_NODE_USER_TASK, "after", FL_NONE);
    uint32_t s1 = sc_node(m, FL_NODE_START_EVENT, "s1", sub);
    uint32_t fork = sc_node(m, FL_NODE_PARALLEL_GW, "fork", sub);
    uint32_t a = sc_node(m, FL_NODE_USER_TASK, "a", sub);
    uint32_t inner = sc_node(m, FL_NODE_SUB_PROCESS, "inner", sub);
    uint32_t wait = sc_node(m, FL_NODE_TIMER_CATCH, "wait", sub);
    uint32_t kill = sc_node(m, FL_NODE_TERMINATE_END, "kill", sub);
    uint32_t s2 = sc_node(m, FL_NODE_START_EVENT, "s2", inner);
    uint32_t b = sc_node(m, FL_NODE_SERVICE_TASK, "b", inner);
    m->nodes[b].job_type = fl_strdup("work");
    sc_timer(m, wait, FL_TIMERDEF_DURATION, "PT1H");
    mb_flow(m, "f1", s, sub, NULL);
    mb_flow(m, "f2", sub, after, NULL);
    mb_flow(m, "f3", s1, fork, NULL);
    mb_flow(m, "f4", fork, a, NULL);
    mb_flow(m, "f5", fork, inner, NULL);
    mb_flow(m, "f6", fork, wait, NULL);
    mb_flow(m, "f7", wait, kill, NULL);
    mb_flow(m, "f8", s2, b, NULL);

    t_env_init(&t, m);
    t_start(&t, NULL);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 1);
    assert_int_equal(fx_count(&t.fx, FL_FX_JOB_CREATE), 1);
    uint64_t task_a = fx_task(&t.fx, 0);
    uint64_t job_b = fx_nth(&t.fx, FL_FX_JOB_CREATE, 0)->u.job.id;
    const struct fl_timer *tm = timer_at(&t, "wait");
    assert_non_null(tm);
    t.ctx.now_ms = tm->due_at;
    assert_int_equal(fire(&t, tm->id), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    /* a cancelled, b's job closed as cancelled */
    const struct fl_effect *close = fx_nth(&t.fx, FL_FX_TASK_CLOSE, 0);
    assert_non_null(close);
    assert_int_equal(close->u.task_close.id, task_a);
    assert_int_equal(close->u.task_close.status, FL_TASK_CANCELLED);
    const struct fl_effect *jc = fx_nth(&t.fx, FL_FX_JOB_CLOSE, 0);
    assert_non_null(jc);
    assert_int_equal(jc->u.job_close.id, job_b);
    assert_true(jc->u.job_close.failed);
    assert_true(node_left(&t, "sub"));
    assert_int_equal(t.inst->n_tokens, 1);
    assert_non_null(inst_token_at(&t, "after"));
    assert_int_equal(ev_count(&t.fx, FL_EV_INSTANCE_COMPLETED), 0);
    sc_release(&t);
}

/* ---- event subprocesses ---- */

/* start -> work -> end; esp [ ts (timer PT1H, interrupting) -> fix -> e2 ] at process
 * level: the timer belongs to the process (token 0), firing it cancels work. */
static void test_event_sub_interrupting_timer(void **state)
{
    struct t_env t;
    struct fl_model *m = mb_new("esp");
    (void)state;
    uint32_t s = sc_node(m, FL_NODE_START_EVENT, "start", FL_NONE);
    uint32_t work = sc_node(m, FL_NODE_USER_TASK, "work", FL_NONE);
    uint32_t e = sc_node(m, FL_NODE_END_EVENT, "end", FL_NONE);
    uint32_t esp = sc_node(m, FL_NODE_EVENT_SUB_PROCESS, "esp", FL_NONE);
    uint32_t ts = sc_node(m, FL_NODE_TIMER_START, "ts", esp);
    uint32_t fix = sc_node(m, FL_NODE_USER_TASK, "fix", esp);
    uint32_t e2 = sc_node(m, FL_NODE_END_EVENT, "e2", esp);
    m->nodes[ts].interrupting = true;
    sc_timer(m, ts, FL_TIMERDEF_DURATION, "PT1H");
    mb_flow(m, "f1", s, work, NULL);
    mb_flow(m, "f2", work, e, NULL);
    mb_flow(m, "f3", ts, fix, NULL);
    mb_flow(m, "f4", fix, e2, NULL);
    assert_null(fl_engine_unsupported(m, esp));
    assert_null(fl_engine_unsupported(m, ts));

    t_env_init(&t, m);
    t_start(&t, NULL);
    uint64_t work_task = fx_task(&t.fx, 0);
    const struct fl_timer *tm = timer_at(&t, "ts");
    assert_non_null(tm);
    assert_int_equal(tm->token_id, 0);
    assert_int_equal(tm->kind, FL_TIMER_EVENT);
    assert_int_equal(tm->due_at, T_NOW + T_HOUR);
    t.ctx.now_ms = tm->due_at;
    assert_int_equal(fire(&t, tm->id), 0);
    assert_int_equal(ev_count(&t.fx, FL_EV_TIMER_FIRED), 1);
    const struct fl_effect *close = fx_nth(&t.fx, FL_FX_TASK_CLOSE, 0);
    assert_non_null(close);
    assert_int_equal(close->u.task_close.id, work_task);
    assert_null(inst_token_at(&t, "work"));
    const struct fl_token *et = inst_token_at(&t, "esp"), *ft = inst_token_at(&t, "fix");
    assert_non_null(et);
    assert_non_null(ft);
    assert_int_equal(et->state, FL_TOKEN_SCOPE);
    assert_int_equal(et->scope, 0);
    assert_int_equal(ft->scope, et->id);
    uint64_t fix_task = task_at(&t, "fix");
    assert_int_not_equal(fix_task, 0);
    assert_int_equal(t.inst->n_timers, 0);

    assert_int_equal(t_complete(&t, fix_task, NULL), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    sc_release(&t);
}

/* The process completing disarms its event subprocess timer. */
static void test_event_sub_disarmed_at_end(void **state)
{
    struct t_env t;
    struct fl_model *m = mb_new("esp-end");
    (void)state;
    uint32_t s = sc_node(m, FL_NODE_START_EVENT, "start", FL_NONE);
    uint32_t work = sc_node(m, FL_NODE_USER_TASK, "work", FL_NONE);
    uint32_t esp = sc_node(m, FL_NODE_EVENT_SUB_PROCESS, "esp", FL_NONE);
    uint32_t ts = sc_node(m, FL_NODE_TIMER_START, "ts", esp);
    uint32_t e2 = sc_node(m, FL_NODE_END_EVENT, "e2", esp);
    sc_timer(m, ts, FL_TIMERDEF_DURATION, "PT1H");
    mb_flow(m, "f1", s, work, NULL);
    mb_flow(m, "f2", ts, e2, NULL);

    t_env_init(&t, m);
    t_start(&t, NULL);
    const struct fl_timer *tm = timer_at(&t, "ts");
    assert_non_null(tm);
    uint64_t timer_id = tm->id;
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    assert_int_equal(t.inst->n_timers, 0);
    const struct fl_effect *del = fx_nth(&t.fx, FL_FX_TIMER_DEL, 0);
    assert_non_null(del);
    assert_int_equal(del->u.timer.id, timer_id);
    sc_release(&t);
}

/* start -> sub [ s1 -> work -> e1; esp [ ts (R2/PT1H, non-interrupting) -> note -> e3 ] ]
 * -> end. The cycle fires alongside work and re-arms; the subprocess waits for both. */
static void test_event_sub_non_interrupting_cycle(void **state)
{
    struct t_env t;
    struct fl_model *m = mb_new("esp-cycle");
    (void)state;
    uint32_t s = sc_node(m, FL_NODE_START_EVENT, "start", FL_NONE);
    uint32_t sub = sc_node(m, FL_NODE_SUB_PROCESS, "sub", FL_NONE);
    uint32_t e = sc_node(m, FL_NODE_END_EVENT, "end", FL_NONE);
    uint32_t s1 = sc_node(m, FL_NODE_START_EVENT, "s1", sub);
    uint32_t work = sc_node(m, FL_NODE_USER_TASK, "work", sub);
    uint32_t e1 = sc_node(m, FL_NODE_END_EVENT, "e1", sub);
    uint32_t esp = sc_node(m, FL_NODE_EVENT_SUB_PROCESS, "esp", sub);
    uint32_t ts = sc_node(m, FL_NODE_TIMER_START, "ts", esp);
    uint32_t note = sc_node(m, FL_NODE_USER_TASK, "note", esp);
    uint32_t e3 = sc_node(m, FL_NODE_END_EVENT, "e3", esp);
    m->nodes[ts].interrupting = false;
    sc_timer(m, ts, FL_TIMERDEF_CYCLE, "R2/PT1H");
    mb_flow(m, "f1", s, sub, NULL);
    mb_flow(m, "f2", sub, e, NULL);
    mb_flow(m, "f3", s1, work, NULL);
    mb_flow(m, "f4", work, e1, NULL);
    mb_flow(m, "f5", ts, note, NULL);
    mb_flow(m, "f6", note, e3, NULL);
    assert_int_equal(m->nodes[sub].n_event_starts, 1);

    t_env_init(&t, m);
    t_start(&t, NULL);
    uint64_t work_task = task_at(&t, "work");
    const struct fl_token *st = inst_token_at(&t, "sub");
    assert_non_null(st);
    uint64_t sub_id = st->id;
    const struct fl_timer *tm = timer_at(&t, "ts");
    assert_non_null(tm);
    assert_int_equal(tm->token_id, sub_id);
    assert_int_equal(tm->repeat, 1);
    t.ctx.now_ms = tm->due_at;
    assert_int_equal(fire(&t, tm->id), 0);
    /* work stays; note runs in the event subprocess; the cycle re-armed */
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CLOSE), 0);
    uint64_t note_task = task_at(&t, "note");
    assert_int_not_equal(note_task, 0);
    assert_int_equal(inst_token_at(&t, "esp")->scope, sub_id);
    tm = timer_at(&t, "ts");
    assert_non_null(tm);
    assert_int_equal(tm->repeat, 0);
    assert_int_equal(tm->due_at, T_NOW + 2 * T_HOUR);

    assert_int_equal(t_complete(&t, work_task, NULL), 0);
    assert_non_null(inst_token_at(&t, "sub")); /* the event subprocess still runs */
    assert_int_equal(t_complete(&t, note_task, NULL), 0);
    /* sub done: its pending cycle timer goes with it */
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    assert_int_equal(t.inst->n_timers, 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 1);
    sc_release(&t);
}

/* ---- boundary timers on a subprocess ---- */

static struct fl_model *boundary_model(bool interrupting)
{
    struct fl_model *m = mb_new("sub-boundary");
    uint32_t s = sc_node(m, FL_NODE_START_EVENT, "start", FL_NONE);
    uint32_t sub = sc_node(m, FL_NODE_SUB_PROCESS, "sub", FL_NONE);
    uint32_t e = sc_node(m, FL_NODE_END_EVENT, "end", FL_NONE);
    uint32_t bt = sc_node(m, FL_NODE_TIMER_BOUNDARY, "late", FL_NONE);
    uint32_t esc = sc_node(m, FL_NODE_USER_TASK, "escalate", FL_NONE);
    uint32_t s1 = sc_node(m, FL_NODE_START_EVENT, "s1", sub);
    uint32_t work = sc_node(m, FL_NODE_USER_TASK, "work", sub);
    sc_timer(m, bt, FL_TIMERDEF_DURATION, "P1D");
    sc_attach(m, bt, sub, interrupting);
    mb_flow(m, "f1", s, sub, NULL);
    mb_flow(m, "f2", sub, e, NULL);
    mb_flow(m, "f3", bt, esc, NULL);
    mb_flow(m, "f4", s1, work, NULL);
    return m;
}

static void test_subprocess_boundary_interrupting(void **state)
{
    struct t_env t;
    (void)state;
    t_env_init(&t, boundary_model(true));
    t_start(&t, NULL);
    uint64_t work = task_at(&t, "work");
    uint64_t sub_id = inst_token_at(&t, "sub")->id;
    const struct fl_timer *tm = timer_at(&t, "late");
    assert_non_null(tm);
    assert_int_equal(tm->token_id, sub_id);
    t.ctx.now_ms = tm->due_at;
    assert_int_equal(fire(&t, tm->id), 0);
    assert_int_equal(fx_nth(&t.fx, FL_FX_TASK_CLOSE, 0)->u.task_close.id, work);
    assert_null(inst_token_at(&t, "sub"));
    assert_null(inst_token_at(&t, "work"));
    const struct fl_token *et = inst_token_at(&t, "escalate");
    assert_non_null(et);
    assert_int_equal(et->id, sub_id); /* the subprocess's token left by the boundary */
    assert_int_equal(t.inst->n_tokens, 1);
    sc_release(&t);
}

static void test_subprocess_boundary_non_interrupting(void **state)
{
    struct t_env t;
    (void)state;
    t_env_init(&t, boundary_model(false));
    t_start(&t, NULL);
    uint64_t work = task_at(&t, "work");
    const struct fl_timer *tm = timer_at(&t, "late");
    t.ctx.now_ms = tm->due_at;
    assert_int_equal(fire(&t, tm->id), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CLOSE), 0);
    assert_non_null(inst_token_at(&t, "sub"));
    assert_non_null(inst_token_at(&t, "escalate"));
    assert_int_equal(t_complete(&t, work, NULL), 0);
    assert_null(inst_token_at(&t, "sub"));
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE); /* escalate still open */
    sc_release(&t);
}

/* ---- link events ---- */

/* start -> throw(L) ... catch(L) -> task; a none throw event passes through */
static void test_link_events(void **state)
{
    struct t_env t;
    struct fl_model *m = mb_new("link");
    (void)state;
    uint32_t s = sc_node(m, FL_NODE_START_EVENT, "start", FL_NONE);
    uint32_t none = sc_node(m, FL_NODE_THROW_EVENT, "none", FL_NONE);
    uint32_t thr = sc_node(m, FL_NODE_THROW_EVENT, "throw", FL_NONE);
    uint32_t cat = sc_node(m, FL_NODE_CATCH_EVENT, "catch", FL_NONE);
    uint32_t task = sc_node(m, FL_NODE_USER_TASK, "task", FL_NONE);
    sc_link(m, thr, "L", cat);
    sc_link(m, cat, "L", FL_NONE);
    mb_flow(m, "f1", s, none, NULL);
    mb_flow(m, "f2", none, thr, NULL);
    mb_flow(m, "f3", cat, task, NULL);
    assert_null(fl_engine_unsupported(m, none));
    assert_null(fl_engine_unsupported(m, thr));
    assert_null(fl_engine_unsupported(m, cat));

    t_env_init(&t, m);
    t_start(&t, NULL);
    assert_non_null(inst_token_at(&t, "task"));
    assert_true(node_left(&t, "throw"));
    assert_true(node_left(&t, "catch"));
    /* a throw without its catch is refused by the gate and an incident if run anyway */
    m->nodes[thr].event->link_target = FL_NONE;
    assert_non_null(fl_engine_unsupported(m, thr));
    fl_instance_free(t.inst);
    t.inst = NULL;
    t_start(&t, NULL);
    assert_int_equal(fx_count(&t.fx, FL_FX_INCIDENT), 1);
    assert_non_null(inst_token_at(&t, "throw"));
    sc_release(&t);
}

/* ---- inclusive gateways ---- */

/* start -> fork -> side (a task that never reaches the join), and fork -> split;
 * split -(x>1)-> a -> join; -(y>1)-> b -> route; -(default)-> c -> join;
 * route -(go)-> join, -(default)-> gone (end); join -> after */
static struct fl_model *inclusive_model(void)
{
    struct fl_model *m = mb_new("incl");
    uint32_t s = sc_node(m, FL_NODE_START_EVENT, "start", FL_NONE);
    uint32_t fork = sc_node(m, FL_NODE_PARALLEL_GW, "fork", FL_NONE);
    uint32_t side = sc_node(m, FL_NODE_USER_TASK, "side", FL_NONE);
    uint32_t split = sc_node(m, FL_NODE_INCLUSIVE_GW, "split", FL_NONE);
    uint32_t a = sc_node(m, FL_NODE_USER_TASK, "a", FL_NONE);
    uint32_t b = sc_node(m, FL_NODE_USER_TASK, "b", FL_NONE);
    uint32_t c = sc_node(m, FL_NODE_USER_TASK, "c", FL_NONE);
    uint32_t route = sc_node(m, FL_NODE_EXCLUSIVE_GW, "route", FL_NONE);
    uint32_t gone = sc_node(m, FL_NODE_END_EVENT, "gone", FL_NONE);
    uint32_t join = sc_node(m, FL_NODE_INCLUSIVE_GW, "join", FL_NONE);
    uint32_t after = sc_node(m, FL_NODE_USER_TASK, "after", FL_NONE);
    mb_flow(m, "f0", s, fork, NULL);
    mb_flow(m, "fside", fork, side, NULL);
    mb_flow(m, "fsplit", fork, split, NULL);
    mb_flow(m, "fa", split, a, "x > 1");
    mb_flow(m, "fb", split, b, "y > 1");
    m->nodes[split].default_flow = mb_flow(m, "fc", split, c, NULL);
    mb_flow(m, "fa2", a, join, NULL);
    mb_flow(m, "fb2", b, route, NULL);
    mb_flow(m, "fgo", route, join, "go = true");
    m->nodes[route].default_flow = mb_flow(m, "fgone", route, gone, NULL);
    mb_flow(m, "fc2", c, join, NULL);
    mb_flow(m, "fj", join, after, NULL);
    return m;
}

static void test_inclusive_join_waits_for_all(void **state)
{
    struct t_env t;
    (void)state;
    t_env_init(&t, inclusive_model());
    assert_null(fl_engine_unsupported(t.m, t_node(t.m, "join")));
    t_start(&t, "{\"x\": 2, \"y\": 2}");
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 3);
    uint64_t ta = task_at(&t, "a"), tb = task_at(&t, "b");
    assert_int_not_equal(ta, 0);
    assert_int_not_equal(tb, 0);
    assert_int_equal(t_complete(&t, ta, NULL), 0);
    assert_non_null(inst_token_at(&t, "join"));
    assert_int_equal(inst_token_at(&t, "join")->state, FL_TOKEN_JOINING);
    assert_null(inst_token_at(&t, "after"));
    assert_int_equal(t_complete(&t, tb, "{\"go\": true}"), 0);
    assert_null(inst_token_at(&t, "join"));
    assert_non_null(inst_token_at(&t, "after"));
    assert_int_equal(t.inst->n_tokens, 2); /* after and side */
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 1); /* after, once */
    sc_release(&t);
}

/* b's token ends elsewhere: the join stops waiting for it when it can no longer come. */
static void test_inclusive_join_token_cannot_arrive(void **state)
{
    struct t_env t;
    (void)state;
    t_env_init(&t, inclusive_model());
    t_start(&t, "{\"x\": 2, \"y\": 2}");
    uint64_t ta = task_at(&t, "a"), tb = task_at(&t, "b");
    assert_int_equal(t_complete(&t, ta, NULL), 0);
    assert_null(inst_token_at(&t, "after"));
    assert_int_equal(t_complete(&t, tb, "{\"go\": false}"), 0);
    assert_null(inst_token_at(&t, "join"));
    assert_non_null(inst_token_at(&t, "after"));
    assert_non_null(inst_token_at(&t, "side")); /* resting, but it cannot reach the join */
    assert_int_equal(t.inst->n_tokens, 2);
    sc_release(&t);
}

/* One branch only: the join fires as soon as it arrives; none true: the default. */
static void test_inclusive_single_and_default(void **state)
{
    struct t_env t;
    (void)state;
    t_env_init(&t, inclusive_model());
    t_start(&t, "{\"x\": 2, \"y\": 0}");
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 2);
    assert_int_equal(t_complete(&t, task_at(&t, "a"), NULL), 0);
    assert_non_null(inst_token_at(&t, "after"));
    fl_instance_free(t.inst);
    t.inst = NULL;
    t_start(&t, "{\"x\": 0, \"y\": 0}");
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 2);
    uint64_t tc = task_at(&t, "c");
    assert_int_not_equal(tc, 0);
    assert_int_equal(t_complete(&t, tc, NULL), 0);
    assert_non_null(inst_token_at(&t, "after"));
    sc_release(&t);
}

/* ---- local variables ---- */

/* start -> sub [ s1 -> task -> gw -(x > 5)-> big; -(default)-> small ] -> end: the
 * subprocess has a local x. Conditions inside see it; a completion sets x in the scope
 * and y in the instance; the scope's end drops its locals. */
static void test_locals(void **state)
{
    struct t_env t;
    struct fl_model *m = mb_new("locals");
    (void)state;
    uint32_t s = sc_node(m, FL_NODE_START_EVENT, "start", FL_NONE);
    uint32_t sub = sc_node(m, FL_NODE_SUB_PROCESS, "sub", FL_NONE);
    uint32_t e = sc_node(m, FL_NODE_END_EVENT, "end", FL_NONE);
    uint32_t s1 = sc_node(m, FL_NODE_START_EVENT, "s1", sub);
    uint32_t task = sc_node(m, FL_NODE_USER_TASK, "task", sub);
    uint32_t gw = sc_node(m, FL_NODE_EXCLUSIVE_GW, "gw", sub);
    uint32_t big = sc_node(m, FL_NODE_USER_TASK, "big", sub);
    uint32_t small = sc_node(m, FL_NODE_USER_TASK, "small", sub);
    mb_flow(m, "f1", s, sub, NULL);
    mb_flow(m, "f2", sub, e, NULL);
    mb_flow(m, "f3", s1, task, NULL);
    mb_flow(m, "f4", task, gw, NULL);
    mb_flow(m, "f5", gw, big, "x > 5");
    m->nodes[gw].default_flow = mb_flow(m, "f6", gw, small, NULL);

    t_env_init(&t, m);
    t_start(&t, "{\"x\": 1}");
    uint64_t sub_id = inst_token_at(&t, "sub")->id;
    uint64_t tt = task_at(&t, "task");
    /* give the subprocess a local x = 3 (as an input mapping would) */
    t.inst->locals = fl_calloc(1, sizeof(*t.inst->locals));
    t.inst->cap_locals = t.inst->n_locals = 1;
    t.inst->locals[0].scope = sub_id;
    t.inst->locals[0].vars = t_json("{\"x\": 3}");

    assert_int_equal(t_complete(&t, tt, "{\"x\": 9, \"y\": 2}"), 0);
    /* x went to the scope, y to the instance */
    bool local_x = false, global_y = false;
    for (size_t i = 0; i < t.fx.n; i++) {
        const struct fl_effect *ef = &t.fx.items[i];
        if (ef->kind != FL_FX_VAR_SET)
            continue;
        if (!strcmp(ef->u.var.name, "x")) {
            assert_int_equal(ef->u.var.scope, sub_id);
            local_x = true;
        } else if (!strcmp(ef->u.var.name, "y")) {
            assert_int_equal(ef->u.var.scope, 0);
            global_y = true;
        }
    }
    assert_true(local_x);
    assert_true(global_y);
    int64_t gx = 0;
    assert_int_equal(fl_value_to_int64(fl_value_context_get(t.inst->variables, "x", 1), &gx), 0);
    assert_int_equal(gx, 1); /* the instance's x is untouched */
    /* the condition saw the local x = 9 */
    uint64_t tb = task_at(&t, "big");
    assert_int_not_equal(tb, 0);
    assert_int_equal(t.inst->n_locals, 1);

    assert_int_equal(t_complete(&t, tb, NULL), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    assert_int_equal(t.inst->n_locals, 0);
    const struct fl_effect *ld = fx_nth(&t.fx, FL_FX_LOCALS_DEL, 0);
    assert_non_null(ld);
    assert_int_equal(ld->u.locals.scope, sub_id);
    sc_release(&t);
}

/* Parallel joins in different scope instances do not join each other's tokens, and a
 * cancel takes every scope down. */
static void test_cancel_with_scopes(void **state)
{
    struct t_env t;
    struct fl_command cancel = {.kind = FL_CMD_CANCEL, .reason = "test"};
    (void)state;
    t_env_init(&t, boundary_model(true));
    t_start(&t, NULL);
    assert_int_equal(t.inst->n_tokens, 2);
    assert_int_equal(t_apply(&t, &cancel), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_CANCELLED);
    assert_int_equal(t.inst->n_tokens, 0);
    assert_int_equal(t.inst->n_timers, 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TOKEN_DEL), 2);
    sc_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_subprocess),
        cmocka_unit_test(test_subprocess_implicit_start),
        cmocka_unit_test(test_terminate_in_subprocess),
        cmocka_unit_test(test_event_sub_interrupting_timer),
        cmocka_unit_test(test_event_sub_disarmed_at_end),
        cmocka_unit_test(test_event_sub_non_interrupting_cycle),
        cmocka_unit_test(test_subprocess_boundary_interrupting),
        cmocka_unit_test(test_subprocess_boundary_non_interrupting),
        cmocka_unit_test(test_link_events),
        cmocka_unit_test(test_inclusive_join_waits_for_all),
        cmocka_unit_test(test_inclusive_join_token_cannot_arrive),
        cmocka_unit_test(test_inclusive_single_and_default),
        cmocka_unit_test(test_locals),
        cmocka_unit_test(test_cancel_with_scopes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
