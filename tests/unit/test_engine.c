/* Unit tests of the engine's token semantics: linear flows, exclusive and parallel gateways,
 * implicit splits and merges, terminate ends, loops and the loop guard, script tasks. Models
 * are built by hand (tests/unit/engine_fixture.h), so these run without the BPMN reader. */
#include "engine_fixture.h"

#include <stdio.h>

/* start -> a -> b -> end, all user tasks. */
static struct fl_model *linear_model(void)
{
    struct fl_model *m = mb_new("linear");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t a = mb_node(m, FL_NODE_USER_TASK, "a");
    uint32_t b = mb_node(m, FL_NODE_USER_TASK, "b");
    uint32_t e = mb_node(m, FL_NODE_END_EVENT, "end");
    m->nodes[a].name = fl_strdup("Presentation");
    mb_flow(m, "f1", s, a, NULL);
    mb_flow(m, "f2", a, b, NULL);
    mb_flow(m, "f3", b, e, NULL);
    return m;
}

static void test_linear(void **state)
{
    struct t_env t;
    const struct fl_effect *e;
    const struct fl_event *ev;
    uint64_t task_a, task_b, tok;
    (void)state;

    t_env_init(&t, linear_model());
    t_start(&t, "{\"amount\": 10}");
    assert_int_equal(t.inst->id, 1001);
    assert_int_equal(t.inst->definition_id, 7);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    assert_int_equal(t.inst->revision, 1);
    assert_int_equal(t.inst->started_at, T_NOW);
    assert_int_equal(t.fx.items[0].kind, FL_FX_EVENT);
    assert_int_equal(t.fx.items[0].u.event.type, FL_EV_INSTANCE_STARTED);
    assert_string_equal(t.fx.items[0].u.event.detail, "{\"process\":\"linear\"}");
    assert_int_equal(fx_count(&t.fx, FL_FX_VAR_SET), 1);
    assert_string_equal(fx_nth(&t.fx, FL_FX_VAR_SET, 0)->u.var.name, "amount");
    assert_string_equal(ev_nth(&t.fx, FL_EV_VARIABLES_CHANGED, 0)->detail,
                        "{\"variables\":{\"amount\":10}}");
    ev = ev_nth(&t.fx, FL_EV_NODE_ENTERED, 0);
    assert_string_equal(ev->node_id, "start");
    assert_null(ev->detail);
    ev = ev_nth(&t.fx, FL_EV_NODE_ENTERED, 1);
    assert_string_equal(ev->node_id, "a");
    assert_string_equal(ev->detail, "{\"flow\":\"f1\"}");
    assert_int_equal(ev->at, T_NOW);
    assert_string_equal(ev->actor, "alice");
    assert_non_null(ev_nth(&t.fx, FL_EV_NODE_LEFT, 0));
    assert_int_equal(ev_count(&t.fx, FL_EV_TASK_CREATED), 1);

    task_a = fx_task(&t.fx, 0);
    assert_int_equal(task_a, 3001);
    assert_string_equal(fx_task_of(&t.fx, 0)->name, "Presentation");
    assert_string_equal(fx_task_of(&t.fx, 0)->node_id, "a");
    assert_int_equal(fx_task_of(&t.fx, 0)->instance_id, 1001);
    assert_int_equal(t.inst->n_tokens, 1);
    tok = t.inst->tokens[0].id;
    assert_int_equal(t.inst->tokens[0].state, FL_TOKEN_WAITING);
    assert_int_equal(t.inst->tokens[0].task_id, task_a);
    assert_int_equal(t.inst->tokens[0].node, 1);
    e = fx_nth(&t.fx, FL_FX_TOKEN_PUT, 0);
    assert_non_null(e);
    assert_int_equal(e->u.token.id, tok);
    assert_int_equal(e->u.token.task_id, task_a);
    assert_int_equal(fx_count(&t.fx, FL_FX_TOKEN_DEL), 0);

    assert_int_equal(t_complete(&t, task_a, "{\"x\": \"yes\", \"amount\": 10}"), 0);
    /* amount did not change: only x is set and reported */
    assert_int_equal(fx_count(&t.fx, FL_FX_VAR_SET), 1);
    assert_string_equal(ev_nth(&t.fx, FL_EV_VARIABLES_CHANGED, 0)->detail,
                        "{\"variables\":{\"x\":\"yes\"}}");
    e = fx_nth(&t.fx, FL_FX_TASK_CLOSE, 0);
    assert_int_equal(e->u.task_close.id, task_a);
    assert_int_equal(e->u.task_close.status, FL_TASK_COMPLETED);
    assert_string_equal(e->u.task_close.actor, "bob");
    ev = ev_nth(&t.fx, FL_EV_TASK_COMPLETED, 0);
    assert_int_equal(ev->ref_id, task_a);
    assert_string_equal(ev_nth(&t.fx, FL_EV_NODE_LEFT, 0)->node_id, "a");
    task_b = fx_task(&t.fx, 0);
    assert_int_not_equal(task_b, task_a);
    assert_int_equal(t.inst->n_tokens, 1);
    assert_int_equal(t.inst->tokens[0].id, tok); /* same token moved on */
    assert_int_equal(t.inst->tokens[0].task_id, task_b);
    assert_int_equal(t.inst->revision, 2);
    assert_non_null(fl_value_context_get(t.inst->variables, "x", 1));

    assert_int_equal(t_complete(&t, task_b, NULL), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    assert_int_equal(t.inst->ended_at, T_NOW);
    assert_int_equal(t.inst->n_tokens, 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TOKEN_DEL), 1);
    assert_int_equal(fx_nth(&t.fx, FL_FX_TOKEN_DEL, 0)->u.token.id, tok);
    assert_int_equal(ev_count(&t.fx, FL_EV_INSTANCE_COMPLETED), 1);
    assert_int_equal(fx_count(&t.fx, FL_FX_VAR_SET), 0);
    assert_int_equal(ev_count(&t.fx, FL_EV_VARIABLES_CHANGED), 0);
    assert_int_equal(t.inst->revision, 3);

    /* completing again: the instance is closed */
    assert_int_equal(t_complete(&t, task_b, NULL), FL_ECONFLICT);
    assert_string_equal(t.err.msg, "instance 1001 is completed");
    t_env_release(&t);
}

/* start -> gw; gw -f_big[amount > 1000]-> big; -f_mid[amount > 500]-> mid; default -> other */
static struct fl_model *xor_model(bool with_default)
{
    struct fl_model *m = mb_new("xor");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t g = mb_node(m, FL_NODE_EXCLUSIVE_GW, "gw");
    uint32_t big = mb_node(m, FL_NODE_USER_TASK, "big");
    uint32_t mid = mb_node(m, FL_NODE_USER_TASK, "mid");
    uint32_t other = mb_node(m, FL_NODE_USER_TASK, "other");
    mb_flow(m, "f0", s, g, NULL);
    mb_flow(m, "f_big", g, big, "amount > 1000");
    mb_flow(m, "f_mid", g, mid, "amount > 500");
    if (with_default)
        m->nodes[g].default_flow = mb_flow(m, "f_def", g, other, NULL);
    return m;
}

static const char *xor_run(struct t_env *t, bool with_default, const char *vars)
{
    static char where[64];
    t_env_init(t, xor_model(with_default));
    t_start(t, vars);
    assert_int_equal(t->inst->n_tokens, 1);
    snprintf(where, sizeof(where), "%s", t->m->nodes[t->inst->tokens[0].node].id);
    return where;
}

static void test_exclusive_gateway(void **state)
{
    struct t_env t;
    const struct fl_effect *inc;
    (void)state;

    /* both conditions true: the first in document order wins */
    assert_string_equal(xor_run(&t, true, "{\"amount\": 2000}"), "big");
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 1);
    t_env_release(&t);
    assert_string_equal(xor_run(&t, true, "{\"amount\": 600}"), "mid");
    assert_string_equal(ev_nth(&t.fx, FL_EV_NODE_ENTERED, 2)->detail, "{\"flow\":\"f_mid\"}");
    t_env_release(&t);
    assert_string_equal(xor_run(&t, true, "{\"amount\": 10}"), "other");
    t_env_release(&t);

    /* none true and no default: incident at the gateway */
    assert_string_equal(xor_run(&t, false, "{\"amount\": 10}"), "gw");
    assert_int_equal(t.inst->tokens[0].state, FL_TOKEN_INCIDENT);
    assert_true(t.inst->incident);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    inc = fx_nth(&t.fx, FL_FX_INCIDENT, 0);
    assert_non_null(inc);
    assert_int_equal(inc->u.incident.id, 5001);
    assert_int_equal(inc->u.incident.token_id, t.inst->tokens[0].id);
    assert_string_equal(inc->u.incident.node_id, "gw");
    assert_string_equal(inc->u.incident.message,
                        "no condition of gateway 'gw' is true and it has no default flow");
    assert_string_equal(ev_nth(&t.fx, FL_EV_INCIDENT_RAISED, 0)->detail,
                        "{\"error\":\"no condition of gateway 'gw' is true and it has no "
                        "default flow\"}");
    assert_int_equal(ev_nth(&t.fx, FL_EV_INCIDENT_RAISED, 0)->ref_id, 5001);
    assert_int_equal(ev_count(&t.fx, FL_EV_NODE_LEFT), 1); /* only the start event */
    assert_int_equal(fx_nth(&t.fx, FL_FX_TOKEN_PUT, 0)->u.token.state, FL_TOKEN_INCIDENT);
    t_env_release(&t);

    /* unknown variable: the incident quotes flow, condition and diagnostic */
    assert_string_equal(xor_run(&t, true, "{\"sum\": 10}"), "gw");
    inc = fx_nth(&t.fx, FL_FX_INCIDENT, 0);
    assert_non_null(inc);
    assert_string_equal(inc->u.incident.message,
                        "condition of flow 'f_big' (amount > 1000) cannot be evaluated: no "
                        "variable found for name 'amount'");
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 0);
    t_env_release(&t);

    /* a condition that gives no boolean is an incident too */
    struct fl_model *m = mb_new("xor2");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t g = mb_node(m, FL_NODE_EXCLUSIVE_GW, "gw");
    uint32_t a = mb_node(m, FL_NODE_USER_TASK, "a");
    mb_flow(m, "f0", s, g, NULL);
    mb_flow(m, "f1", g, a, "amount");
    m->nodes[g].default_flow = mb_flow(m, "f2", g, a, NULL);
    t_env_init(&t, m);
    t_start(&t, "{\"amount\": 5}");
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 0);
    assert_string_equal(fx_nth(&t.fx, FL_FX_INCIDENT, 0)->u.incident.message,
                        "condition of flow 'f1' (amount) gives a number, not a boolean");
    t_env_release(&t);
}

/* start -> fork -> a, b -> join -> end */
static void test_parallel_fork_join(void **state)
{
    struct fl_model *m = mb_new("par");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t fork = mb_node(m, FL_NODE_PARALLEL_GW, "fork");
    uint32_t a = mb_node(m, FL_NODE_USER_TASK, "a");
    uint32_t b = mb_node(m, FL_NODE_USER_TASK, "b");
    uint32_t join = mb_node(m, FL_NODE_PARALLEL_GW, "join");
    uint32_t e = mb_node(m, FL_NODE_END_EVENT, "end");
    struct t_env t;
    uint64_t ta, tb, joining;
    (void)state;

    mb_flow(m, "f0", s, fork, NULL);
    mb_flow(m, "fa", fork, a, NULL);
    mb_flow(m, "fb", fork, b, NULL);
    mb_flow(m, "fa2", a, join, NULL);
    uint32_t fb2 = mb_flow(m, "fb2", b, join, NULL);
    mb_flow(m, "f9", join, e, NULL);
    t_env_init(&t, m);
    t_start(&t, NULL);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 2);
    ta = fx_task(&t.fx, 0);
    tb = fx_task(&t.fx, 1);
    assert_int_equal(t.inst->n_tokens, 2);
    assert_int_not_equal(t.inst->tokens[0].id, t.inst->tokens[1].id);
    assert_int_equal(fx_count(&t.fx, FL_FX_TOKEN_PUT), 2);

    assert_int_equal(t_complete(&t, tb, NULL), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    assert_non_null(inst_token_at(&t, "join"));
    assert_int_equal(inst_token_at(&t, "join")->state, FL_TOKEN_JOINING);
    assert_int_equal(inst_token_at(&t, "join")->flow, fb2);
    joining = inst_token_at(&t, "join")->id;
    assert_int_equal(ev_count(&t.fx, FL_EV_NODE_LEFT), 1); /* b only; not the join */

    assert_int_equal(t_complete(&t, ta, NULL), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    assert_int_equal(t.inst->n_tokens, 0);
    /* the waiting token and the arriving one (stored at a) are both deleted */
    assert_int_equal(fx_count(&t.fx, FL_FX_TOKEN_DEL), 2);
    assert_true(fx_nth(&t.fx, FL_FX_TOKEN_DEL, 0)->u.token.id == joining ||
                fx_nth(&t.fx, FL_FX_TOKEN_DEL, 1)->u.token.id == joining);
    assert_string_equal(ev_nth(&t.fx, FL_EV_NODE_LEFT, 1)->node_id, "join");
    t_env_release(&t);
}

/* Two tokens on the same incoming flow must not fire the join:
 * start -> fork -> a1, a2, b; a1, a2 -> merge (task) -fm-> join; b -fb2-> join -> end */
static void test_join_same_flow(void **state)
{
    struct fl_model *m = mb_new("par2");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t fork = mb_node(m, FL_NODE_PARALLEL_GW, "fork");
    uint32_t a1 = mb_node(m, FL_NODE_USER_TASK, "a1");
    uint32_t a2 = mb_node(m, FL_NODE_USER_TASK, "a2");
    uint32_t b = mb_node(m, FL_NODE_USER_TASK, "b");
    uint32_t merge = mb_node(m, FL_NODE_TASK, "merge");
    uint32_t join = mb_node(m, FL_NODE_PARALLEL_GW, "join");
    uint32_t after = mb_node(m, FL_NODE_USER_TASK, "after");
    struct t_env t;
    uint64_t t1, t2, tb;
    (void)state;

    mb_flow(m, "f0", s, fork, NULL);
    mb_flow(m, "f1", fork, a1, NULL);
    mb_flow(m, "f2", fork, a2, NULL);
    mb_flow(m, "f3", fork, b, NULL);
    mb_flow(m, "f4", a1, merge, NULL);
    mb_flow(m, "f5", a2, merge, NULL);
    mb_flow(m, "fm", merge, join, NULL);
    mb_flow(m, "fb2", b, join, NULL);
    mb_flow(m, "f9", join, after, NULL);
    t_env_init(&t, m);
    t_start(&t, NULL);
    t1 = fx_task(&t.fx, 0);
    t2 = fx_task(&t.fx, 1);
    tb = fx_task(&t.fx, 2);

    assert_int_equal(t_complete(&t, t1, NULL), 0);
    assert_int_equal(t_complete(&t, t2, NULL), 0);
    /* two tokens wait at the join, both by fm: it must not fire */
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 0);
    assert_int_equal(t.inst->n_tokens, 3);

    assert_int_equal(t_complete(&t, tb, NULL), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 1); /* fires once */
    assert_string_equal(fx_task_of(&t.fx, 0)->node_id, "after");
    assert_int_equal(t.inst->n_tokens, 2); /* one still waits by fm, one at after */
    assert_non_null(inst_token_at(&t, "join"));
    assert_int_equal(inst_token_at(&t, "join")->state, FL_TOKEN_JOINING);
    assert_non_null(inst_token_at(&t, "after"));
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    t_env_release(&t);
}

/* a gateway with two incoming and two outgoing flows joins, then forks */
static void test_mixed_gateway(void **state)
{
    struct fl_model *m = mb_new("mixed");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t fork = mb_node(m, FL_NODE_PARALLEL_GW, "fork");
    uint32_t a = mb_node(m, FL_NODE_USER_TASK, "a");
    uint32_t b = mb_node(m, FL_NODE_USER_TASK, "b");
    uint32_t mix = mb_node(m, FL_NODE_PARALLEL_GW, "mix");
    uint32_t c = mb_node(m, FL_NODE_USER_TASK, "c");
    uint32_t d = mb_node(m, FL_NODE_USER_TASK, "d");
    struct t_env t;
    uint64_t ta, tb;
    (void)state;

    mb_flow(m, "f0", s, fork, NULL);
    mb_flow(m, "f1", fork, a, NULL);
    mb_flow(m, "f2", fork, b, NULL);
    mb_flow(m, "f3", a, mix, NULL);
    mb_flow(m, "f4", b, mix, NULL);
    mb_flow(m, "f5", mix, c, "false"); /* conditions on parallel flows are ignored */
    mb_flow(m, "f6", mix, d, NULL);
    t_env_init(&t, m);
    t_start(&t, NULL);
    ta = fx_task(&t.fx, 0);
    tb = fx_task(&t.fx, 1);
    assert_int_equal(t_complete(&t, ta, NULL), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 0);
    assert_int_equal(t_complete(&t, tb, NULL), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 2);
    assert_string_equal(fx_task_of(&t.fx, 0)->node_id, "c");
    assert_string_equal(fx_task_of(&t.fx, 1)->node_id, "d");
    assert_int_equal(t.inst->n_tokens, 2);
    assert_int_not_equal(t.inst->tokens[0].id, t.inst->tokens[1].id);
    t_env_release(&t);
}

/* start -> fork -> a (user task), and -> pass -> terminate end */
static void test_terminate_end(void **state)
{
    struct fl_model *m = mb_new("term");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t fork = mb_node(m, FL_NODE_PARALLEL_GW, "fork");
    uint32_t a = mb_node(m, FL_NODE_USER_TASK, "a");
    uint32_t j = mb_node(m, FL_NODE_SERVICE_TASK, "job");
    uint32_t b = mb_node(m, FL_NODE_USER_TASK, "b");
    uint32_t term = mb_node(m, FL_NODE_TERMINATE_END, "kill");
    struct t_env t;
    const struct fl_effect *e;
    uint64_t ta, tb, job;
    (void)state;

    m->nodes[j].job_type = fl_strdup("mail");
    mb_flow(m, "f0", s, fork, NULL);
    mb_flow(m, "f1", fork, a, NULL);
    mb_flow(m, "f2", fork, j, NULL);
    mb_flow(m, "f3", fork, b, NULL);
    mb_flow(m, "f4", b, term, NULL);
    t_env_init(&t, m);
    t_start(&t, NULL);
    ta = fx_task(&t.fx, 0);
    tb = fx_task(&t.fx, 1);
    job = fx_nth(&t.fx, FL_FX_JOB_CREATE, 0)->u.job.id;
    assert_int_equal(t.inst->n_tokens, 3);

    assert_int_equal(t_complete(&t, tb, NULL), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    assert_int_equal(t.inst->n_tokens, 0);
    e = fx_nth(&t.fx, FL_FX_TASK_CLOSE, 1); /* [0] is b completed */
    assert_non_null(e);
    assert_int_equal(e->u.task_close.id, ta);
    assert_int_equal(e->u.task_close.status, FL_TASK_CANCELLED);
    assert_int_equal(ev_count(&t.fx, FL_EV_TASK_CANCELLED), 1);
    e = fx_nth(&t.fx, FL_FX_JOB_CLOSE, 0);
    assert_non_null(e);
    assert_int_equal(e->u.job_close.id, job);
    assert_int_equal(fx_count(&t.fx, FL_FX_TOKEN_DEL), 3);
    assert_int_equal(ev_count(&t.fx, FL_EV_INSTANCE_COMPLETED), 1);
    t_env_release(&t);
}

/* a task with several outgoing flows: every true or unconditioned one is taken;
 * start -> a; a -> b; a -[x > 1]-> c; a -[x > 5]-> d */
static void test_implicit_split(void **state)
{
    struct fl_model *m = mb_new("split");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t a = mb_node(m, FL_NODE_USER_TASK, "a");
    uint32_t b = mb_node(m, FL_NODE_USER_TASK, "b");
    uint32_t c = mb_node(m, FL_NODE_USER_TASK, "c");
    uint32_t d = mb_node(m, FL_NODE_USER_TASK, "d");
    struct t_env t;
    (void)state;

    mb_flow(m, "f0", s, a, NULL);
    mb_flow(m, "fb", a, b, NULL);
    mb_flow(m, "fc", a, c, "x > 1");
    mb_flow(m, "fd", a, d, "x > 5");
    t_env_init(&t, m);
    t_start(&t, "{\"x\": 3}");
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 2);
    assert_string_equal(fx_task_of(&t.fx, 0)->node_id, "b");
    assert_string_equal(fx_task_of(&t.fx, 1)->node_id, "c");
    assert_int_equal(t.inst->n_tokens, 2);
    /* b and c are dead ends: completing them ends the tokens (implicit end) */
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    assert_int_equal(t_complete(&t, t.inst->tokens[0].task_id, NULL), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    t_env_release(&t);
}

/* conditional flows out of a task with a default: start -> a; a -[x > 1]-> b; default -> c */
static void test_task_default_flow(void **state)
{
    struct fl_model *m = mb_new("tdef");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t a = mb_node(m, FL_NODE_TASK, "a");
    uint32_t b = mb_node(m, FL_NODE_USER_TASK, "b");
    uint32_t c = mb_node(m, FL_NODE_USER_TASK, "c");
    struct t_env t;
    (void)state;

    mb_flow(m, "f0", s, a, NULL);
    mb_flow(m, "fb", a, b, "x > 1");
    m->nodes[a].default_flow = mb_flow(m, "fc", a, c, NULL);
    t_env_init(&t, m);
    t_start(&t, "{\"x\": 0}");
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 1);
    assert_string_equal(fx_task_of(&t.fx, 0)->node_id, "c");
    t_env_release(&t);

    m = mb_new("tdef2");
    s = mb_node(m, FL_NODE_START_EVENT, "start");
    a = mb_node(m, FL_NODE_TASK, "a");
    b = mb_node(m, FL_NODE_USER_TASK, "b");
    mb_flow(m, "f0", s, a, NULL);
    mb_flow(m, "fb", a, b, "x > 1");
    t_env_init(&t, m);
    t_start(&t, "{\"x\": 0}");
    assert_int_equal(fx_count(&t.fx, FL_FX_INCIDENT), 1);
    assert_string_equal(fx_nth(&t.fx, FL_FX_INCIDENT, 0)->u.incident.message,
                        "no condition of the flows out of 'a' is true and it has no default "
                        "flow");
    t_env_release(&t);
}

/* offer -> gw -[clarify]-> back to offer; default -> end */
static void test_loop_back(void **state)
{
    struct fl_model *m = mb_new("loop");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t offer = mb_node(m, FL_NODE_USER_TASK, "offer");
    uint32_t g = mb_node(m, FL_NODE_EXCLUSIVE_GW, "gw");
    uint32_t e = mb_node(m, FL_NODE_END_EVENT, "end");
    struct t_env t;
    uint64_t t1, t2, tok;
    (void)state;

    mb_flow(m, "f0", s, offer, NULL);
    mb_flow(m, "f1", offer, g, NULL);
    mb_flow(m, "back", g, offer, "clarify");
    m->nodes[g].default_flow = mb_flow(m, "done", g, e, NULL);
    t_env_init(&t, m);
    t_start(&t, NULL);
    t1 = fx_task(&t.fx, 0);
    tok = t.inst->tokens[0].id;
    assert_int_equal(t_complete(&t, t1, "{\"clarify\": true}"), 0);
    t2 = fx_task(&t.fx, 0);
    assert_int_not_equal(t1, t2);
    assert_string_equal(fx_task_of(&t.fx, 0)->node_id, "offer");
    assert_int_equal(t.inst->tokens[0].id, tok);
    assert_int_equal(t_complete(&t, t1, NULL), FL_ENOTFOUND); /* the old one is closed */
    assert_int_equal(t_complete(&t, t2, "{\"clarify\": false}"), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    t_env_release(&t);
}

/* start -> t1 -> t2 -> t1 ...: pass-through tasks in a cycle */
static struct fl_model *cycle_model(void)
{
    struct fl_model *m = mb_new("cycle");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t t1 = mb_node(m, FL_NODE_TASK, "t1");
    uint32_t t2 = mb_node(m, FL_NODE_MANUAL_TASK, "t2");
    mb_flow(m, "f0", s, t1, NULL);
    mb_flow(m, "f1", t1, t2, NULL);
    mb_flow(m, "f2", t2, t1, NULL);
    return m;
}

static void test_loop_guard(void **state)
{
    struct t_env t;
    const struct fl_effect *inc;
    (void)state;

    t_env_init(&t, cycle_model());
    t.ctx.max_steps = 50;
    t_start(&t, NULL);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    assert_true(t.inst->incident);
    assert_int_equal(t.inst->n_tokens, 1);
    assert_int_equal(t.inst->tokens[0].state, FL_TOKEN_INCIDENT);
    inc = fx_nth(&t.fx, FL_FX_INCIDENT, 0);
    assert_non_null(inc);
    assert_string_equal(inc->u.incident.message,
                        "loop of more than 50 steps without a wait state at 't2'");
    assert_int_equal(ev_count(&t.fx, FL_EV_NODE_ENTERED), 51);
    t_env_release(&t);

    /* the default bound */
    t_env_init(&t, cycle_model());
    t_start(&t, NULL);
    inc = fx_nth(&t.fx, FL_FX_INCIDENT, 0);
    assert_non_null(inc);
    assert_non_null(strstr(inc->u.incident.message, "loop of more than 10000 steps"));
    t_env_release(&t);
}

/* a cycle through a parallel fork multiplies tokens; the guard still stops it */
static void test_loop_guard_fork(void **state)
{
    struct fl_model *m = mb_new("bomb");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t f = mb_node(m, FL_NODE_PARALLEL_GW, "fork");
    uint32_t t1 = mb_node(m, FL_NODE_TASK, "t1");
    struct t_env t;
    (void)state;

    mb_flow(m, "f0", s, t1, NULL);
    mb_flow(m, "f1", t1, f, NULL);
    mb_flow(m, "f2", f, t1, NULL);
    mb_flow(m, "f3", f, t1, NULL);
    t_env_init(&t, m);
    t.ctx.max_steps = 200;
    t_start(&t, NULL);
    assert_true(t.inst->incident);
    assert_int_equal(fx_count(&t.fx, FL_FX_INCIDENT), t.inst->n_tokens);
    for (size_t i = 0; i < t.inst->n_tokens; i++)
        assert_int_equal(t.inst->tokens[i].state, FL_TOKEN_INCIDENT);
    assert_int_equal(ev_count(&t.fx, FL_EV_NODE_ENTERED), 201);
    t_env_release(&t);
}

/* start -> calc (script: amount * 2 -> doubled) -> a */
static void test_script_task(void **state)
{
    struct fl_model *m = mb_new("script");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t c = mb_node(m, FL_NODE_SCRIPT_TASK, "calc");
    uint32_t a = mb_node(m, FL_NODE_USER_TASK, "a");
    struct t_env t;
    (void)state;

    m->nodes[c].script = mb_feel("amount * 2");
    m->nodes[c].result_variable = fl_strdup("doubled");
    mb_flow(m, "f0", s, c, NULL);
    mb_flow(m, "f1", c, a, NULL);
    t_env_init(&t, m);
    t_start(&t, "{\"amount\": 21.5}");
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 1);
    assert_int_equal(ev_count(&t.fx, FL_EV_VARIABLES_CHANGED), 2);
    assert_string_equal(ev_nth(&t.fx, FL_EV_VARIABLES_CHANGED, 1)->detail,
                        "{\"variables\":{\"doubled\":43}}");
    assert_string_equal(ev_nth(&t.fx, FL_EV_VARIABLES_CHANGED, 1)->node_id, "calc");
    assert_non_null(fl_value_context_get(t.inst->variables, "doubled", 7));
    assert_non_null(fl_value_context_get(t.inst->variables, "amount", 6));
    t_env_release(&t);

    /* a failing script raises an incident with the diagnostic */
    m = mb_new("script2");
    s = mb_node(m, FL_NODE_START_EVENT, "start");
    c = mb_node(m, FL_NODE_SCRIPT_TASK, "calc");
    m->nodes[c].script = mb_feel("missing * 2");
    m->nodes[c].result_variable = fl_strdup("doubled");
    mb_flow(m, "f0", s, c, NULL);
    t_env_init(&t, m);
    t_start(&t, NULL);
    assert_int_equal(fx_count(&t.fx, FL_FX_INCIDENT), 1);
    assert_non_null(strstr(fx_nth(&t.fx, FL_FX_INCIDENT, 0)->u.incident.message,
                           "script of 'calc' (missing * 2) failed: "));
    assert_int_equal(t.inst->tokens[0].state, FL_TOKEN_INCIDENT);
    assert_int_equal(fx_count(&t.fx, FL_FX_VAR_SET), 0);
    t_env_release(&t);
}

/* A wide fork and join: many tokens, one join at the end (no quadratic blowup; checks
 * the join fires exactly once after the last branch). */
static void test_wide_join(void **state)
{
    enum { W = 300 };
    struct fl_model *m = mb_new("wide");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t fork = mb_node(m, FL_NODE_PARALLEL_GW, "fork");
    uint32_t join = mb_node(m, FL_NODE_PARALLEL_GW, "join");
    uint32_t after = mb_node(m, FL_NODE_USER_TASK, "after");
    struct t_env t;
    uint64_t tasks[W];
    char id[32];
    (void)state;

    mb_flow(m, "f0", s, fork, NULL);
    for (int i = 0; i < W; i++) {
        snprintf(id, sizeof(id), "u%d", i);
        uint32_t u = mb_node(m, FL_NODE_USER_TASK, id);
        snprintf(id, sizeof(id), "in%d", i);
        mb_flow(m, id, fork, u, NULL);
        snprintf(id, sizeof(id), "out%d", i);
        mb_flow(m, id, u, join, NULL);
    }
    mb_flow(m, "f9", join, after, NULL);
    t_env_init(&t, m);
    t_start(&t, NULL);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), W);
    for (int i = 0; i < W; i++)
        tasks[i] = fx_task(&t.fx, (size_t)i);
    for (int i = W - 1; i >= 0; i--) {
        assert_int_equal(t_complete(&t, tasks[i], NULL), 0);
        assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), i == 0 ? 1 : 0);
    }
    assert_int_equal(t.inst->n_tokens, 1);
    assert_non_null(inst_token_at(&t, "after"));
    t_env_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_exclusive_gateway),
        cmocka_unit_test(test_parallel_fork_join),
        cmocka_unit_test(test_join_same_flow),
        cmocka_unit_test(test_mixed_gateway),
        cmocka_unit_test(test_terminate_end),
        cmocka_unit_test(test_implicit_split),
        cmocka_unit_test(test_task_default_flow),
        cmocka_unit_test(test_loop_back),
        cmocka_unit_test(test_loop_guard),
        cmocka_unit_test(test_loop_guard_fork),
        cmocka_unit_test(test_script_task),
        cmocka_unit_test(test_wide_join),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
