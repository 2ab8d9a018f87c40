/* Engine tests for input/output mappings, multi-instance (parallel and sequential, input
 * and output collections, completion condition), standard loops and call activities
 * (the FL_FX_CALL effect, FL_CMD_CALL_DONE and cancelling the called instance). Models are
 * built by hand; no store, no service. */
#include "engine_fixture.h"

/* ---- building the issue-5 parts of a model ---- */

static void add_map(struct fl_mapping **maps, size_t *n, const char *target, const char *src)
{
    *maps = fl_reallocarray(*maps, *n + 1, sizeof(**maps));
    (*maps)[*n].target = fl_strdup(target);
    (*maps)[*n].source = mb_feel(src);
    (*n)++;
}

static void mb_input(struct fl_model *m, uint32_t n, const char *target, const char *src)
{
    add_map(&m->nodes[n].inputs, &m->nodes[n].n_inputs, target, src);
}

static void mb_output(struct fl_model *m, uint32_t n, const char *target, const char *src)
{
    add_map(&m->nodes[n].outputs, &m->nodes[n].n_outputs, target, src);
}

static struct fl_loop_def *mb_loop(struct fl_model *m, uint32_t n, bool multi)
{
    struct fl_loop_def *l = fl_calloc(1, sizeof(*l));
    l->multi = multi;
    m->nodes[n].loop = l;
    return l;
}

static struct fl_call_def *mb_call(struct fl_model *m, uint32_t n, const char *key)
{
    struct fl_call_def *c = fl_calloc(1, sizeof(*c));
    c->process_key = fl_strdup(key);
    m->nodes[n].call = c;
    return c;
}

/* Free what mb_free does not know about, then the model. */
static void model_free(struct fl_model *m)
{
    for (size_t i = 0; i < m->n_nodes; i++) {
        struct fl_node *n = &m->nodes[i];
        fl_mappings_free(n->inputs, n->n_inputs);
        fl_mappings_free(n->outputs, n->n_outputs);
        if (n->loop) {
            fl_feel_free(n->loop->collection);
            fl_feel_free(n->loop->cardinality);
            fl_feel_free(n->loop->output_element);
            fl_feel_free(n->loop->completion);
            fl_feel_free(n->loop->loop_condition);
            free(n->loop->element_variable);
            free(n->loop->output_collection);
            free(n->loop);
        }
        if (n->call) {
            free(n->call->process_key);
            free(n->call->business_key);
            fl_mappings_free(n->call->ins, n->call->n_ins);
            fl_mappings_free(n->call->outs, n->call->n_outs);
            free(n->call);
        }
        n->inputs = n->outputs = NULL;
        n->n_inputs = n->n_outputs = 0;
        n->loop = NULL;
        n->call = NULL;
    }
    mb_free(m);
}

static void env_release(struct t_env *t)
{
    struct fl_model *m = t->m;
    t->m = mb_new("dummy");
    t_env_release(t);
    model_free(m);
}

/* start -> X (kind, id "x") -> end */
static struct fl_model *one_node(enum fl_node_kind kind, uint32_t *x)
{
    struct fl_model *m = mb_new("p");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    *x = mb_node(m, kind, "x");
    uint32_t e = mb_node(m, FL_NODE_END_EVENT, "end");
    mb_flow(m, "f1", s, *x, NULL);
    mb_flow(m, "f2", *x, e, NULL);
    return m;
}

/* ---- looking at variables ---- */

static const struct fl_value *var(const struct t_env *t, const char *name)
{
    return fl_value_context_get(t->inst->variables, name, strlen(name));
}

static int64_t var_int(const struct t_env *t, const char *name)
{
    const struct fl_value *v = var(t, name);
    int64_t n = -1;
    if (!v)
        fail_msg("no variable '%s'", name);
    assert_int_equal(fl_value_to_int64(v, &n), 0);
    return n;
}

static void assert_var_json(const struct t_env *t, const char *name, const char *json)
{
    struct fl_buf b = FL_BUF_INIT;
    const struct fl_value *v = var(t, name);
    if (!v)
        fail_msg("no variable '%s'", name);
    fl_value_to_json(v, &b);
    assert_string_equal(b.ptr, json);
    fl_buf_release(&b);
}

static const struct fl_value *local(const struct t_env *t, uint64_t scope, const char *name)
{
    for (size_t i = 0; i < t->inst->n_locals; i++)
        if (t->inst->locals[i].scope == scope)
            return fl_value_context_get(t->inst->locals[i].vars, name, strlen(name));
    return NULL;
}

static size_t open_tasks(const struct t_env *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->inst->n_tokens; i++)
        n += t->inst->tokens[i].task_id != 0;
    return n;
}

/* The task id of the resting token with loopCounter k at node x. */
static uint64_t task_of_inner(const struct t_env *t, uint32_t k)
{
    for (size_t i = 0; i < t->inst->n_tokens; i++)
        if (t->inst->tokens[i].task_id && t->inst->tokens[i].loop == k)
            return t->inst->tokens[i].task_id;
    fail_msg("no open task of inner instance %u", k);
    return 0;
}

static const struct fl_token *body(const struct t_env *t)
{
    for (size_t i = 0; i < t->inst->n_tokens; i++)
        if (t->inst->tokens[i].mi_body)
            return &t->inst->tokens[i];
    return NULL;
}

/* ---- mappings ---- */

static void test_mappings_user_task(void **state)
{
    uint32_t x;
    struct fl_model *m = one_node(FL_NODE_USER_TASK, &x);
    struct t_env t;
    (void)state;
    mb_input(m, x, "amount", "a + 1");
    mb_input(m, x, "twice", "amount * 2"); /* sees the earlier input */
    mb_output(m, x, "res", "y * twice");
    t_env_init(&t, m);
    t_start(&t, "{\"a\":1}");
    const struct fl_token *tok = inst_token_at(&t, "x");
    assert_non_null(tok);
    uint64_t tid = tok->id;
    int64_t n;
    assert_int_equal(fl_value_to_int64(local(&t, tid, "amount"), &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(fl_value_to_int64(local(&t, tid, "twice"), &n), 0);
    assert_int_equal(n, 4);
    assert_null(var(&t, "amount"));
    const struct fl_effect *e = fx_nth(&t.fx, FL_FX_VAR_SET, 1);
    assert_non_null(e);
    assert_int_equal(e->u.var.scope, tid);

    /* With output mappings the completion's variables stay local. */
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), "{\"y\":5}"), 0);
    assert_int_equal(var_int(&t, "res"), 20);
    assert_null(var(&t, "y"));
    assert_null(var(&t, "amount"));
    assert_int_equal(t.inst->n_locals, 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_LOCALS_DEL), 1);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    env_release(&t);
}

static void test_mappings_without_outputs(void **state)
{
    uint32_t x;
    struct fl_model *m = one_node(FL_NODE_USER_TASK, &x);
    struct t_env t;
    (void)state;
    mb_input(m, x, "k", "\"local\"");
    t_env_init(&t, m);
    t_start(&t, NULL);
    /* Without output mappings the completion's variables propagate as before. */
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), "{\"z\":1}"), 0);
    assert_int_equal(var_int(&t, "z"), 1);
    assert_null(var(&t, "k"));
    assert_int_equal(t.inst->n_locals, 0);
    env_release(&t);
}

static void test_mappings_script_and_failure(void **state)
{
    uint32_t x;
    struct fl_model *m = one_node(FL_NODE_SCRIPT_TASK, &x);
    struct t_env t;
    (void)state;
    m->nodes[x].script = mb_feel("n + 1");
    m->nodes[x].result_variable = fl_strdup("r");
    mb_input(m, x, "n", "a * 3");
    t_env_init(&t, m);
    t_start(&t, "{\"a\":2}");
    assert_int_equal(var_int(&t, "r"), 7);
    assert_null(var(&t, "n"));
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    fl_instance_free(t.inst);
    t.inst = NULL;

    /* An input that cannot be evaluated: an incident, the script does not run. */
    t_start(&t, NULL);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    assert_true(t.inst->incident);
    const struct fl_effect *e = fx_nth(&t.fx, FL_FX_INCIDENT, 0);
    assert_non_null(e);
    assert_non_null(strstr(e->u.incident.message, "input mapping 'n'"));
    assert_null(var(&t, "r"));
    env_release(&t);
}

static void test_mapping_dotted_target(void **state)
{
    uint32_t x;
    struct fl_model *m = one_node(FL_NODE_TASK, &x);
    struct t_env t;
    (void)state;
    mb_input(m, x, "p.q", "1");
    mb_output(m, x, "order.total", "p.q + 1");
    mb_output(m, x, "absent", "nothere.value[1]"); /* names an absent variable: null */
    t_env_init(&t, m);
    t_start(&t, "{\"order\":{\"id\":\"o1\"}}");
    assert_var_json(&t, "order", "{\"id\":\"o1\",\"total\":2}");
    assert_var_json(&t, "absent", "null");
    assert_false(t.inst->incident);
    env_release(&t);
}

/* ---- multi-instance ---- */

static void test_mi_parallel_collection(void **state)
{
    uint32_t x;
    struct fl_model *m = one_node(FL_NODE_USER_TASK, &x);
    struct fl_loop_def *l = mb_loop(m, x, true);
    struct t_env t;
    (void)state;
    l->collection = mb_feel("items");
    l->element_variable = fl_strdup("item");
    l->output_collection = fl_strdup("results");
    l->output_element = mb_feel("item * 10 + loopCounter");
    mb_input(m, x, "label", "\"n\" + string(item)");
    t_env_init(&t, m);
    t_start(&t, "{\"items\":[1,2,3]}");
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 3);
    const struct fl_token *b = body(&t);
    assert_non_null(b);
    assert_int_equal(b->state, FL_TOKEN_SCOPE);
    assert_int_equal(b->loop, 3);
    uint64_t bid = b->id;
    int64_t n;
    assert_int_equal(fl_value_to_int64(local(&t, bid, "nrOfInstances"), &n), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < t.inst->n_tokens; i++) {
        const struct fl_token *k = &t.inst->tokens[i];
        if (k->mi_body)
            continue;
        assert_int_equal(k->scope, bid);
        assert_int_equal(fl_value_to_int64(local(&t, k->id, "item"), &n), 0);
        assert_int_equal(n, k->loop);
        assert_non_null(local(&t, k->id, "label"));
    }

    assert_int_equal(t_complete(&t, task_of_inner(&t, 2), NULL), 0);
    assert_int_equal(open_tasks(&t), 2);
    assert_int_equal(t_complete(&t, task_of_inner(&t, 1), NULL), 0);
    assert_null(var(&t, "results")); /* collected in the body until it completes */
    assert_int_equal(fl_value_to_int64(local(&t, bid, "nrOfCompletedInstances"), &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(t_complete(&t, task_of_inner(&t, 3), NULL), 0);
    assert_var_json(&t, "results", "[11,22,33]");
    assert_null(var(&t, "item"));
    assert_int_equal(t.inst->n_locals, 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    env_release(&t);
}

static void test_mi_sequential_cardinality(void **state)
{
    uint32_t x;
    struct fl_model *m = one_node(FL_NODE_USER_TASK, &x);
    struct fl_loop_def *l = mb_loop(m, x, true);
    struct t_env t;
    (void)state;
    l->sequential = true;
    l->cardinality = mb_feel("n");
    t_env_init(&t, m);
    t_start(&t, "{\"n\":3}");
    for (uint32_t k = 1; k <= 3; k++) {
        assert_int_equal(open_tasks(&t), 1);
        assert_int_equal(body(&t)->loop, k);
        uint64_t task = task_of_inner(&t, k);
        assert_int_equal(t_complete(&t, task, "{\"seen\":1}"), 0);
    }
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    assert_int_equal(var_int(&t, "seen"), 1);
    env_release(&t);
}

static void test_mi_sequential_collection(void **state)
{
    uint32_t x;
    struct fl_model *m = one_node(FL_NODE_USER_TASK, &x);
    struct fl_loop_def *l = mb_loop(m, x, true);
    struct t_env t;
    (void)state;
    l->sequential = true;
    l->collection = mb_feel("names");
    l->element_variable = fl_strdup("name");
    l->output_collection = fl_strdup("greetings");
    l->output_element = mb_feel("\"hi \" + name");
    t_env_init(&t, m);
    t_start(&t, "{\"names\":[\"ann\",\"bo\"]}");
    assert_string_equal(fl_value_str(local(&t, t.inst->tokens[1].id, "name"), NULL), "ann");
    assert_int_equal(t_complete(&t, task_of_inner(&t, 1), NULL), 0);
    assert_int_equal(t_complete(&t, task_of_inner(&t, 2), NULL), 0);
    assert_var_json(&t, "greetings", "[\"hi ann\",\"hi bo\"]");
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    env_release(&t);
}

static void test_mi_completion_condition(void **state)
{
    uint32_t x;
    struct fl_model *m = one_node(FL_NODE_USER_TASK, &x);
    struct fl_loop_def *l = mb_loop(m, x, true);
    struct t_env t;
    (void)state;
    l->cardinality = mb_feel("3");
    l->completion = mb_feel("nrOfCompletedInstances >= 2 or approved = false");
    t_env_init(&t, m);
    t_start(&t, "{\"approved\":true}");
    assert_int_equal(open_tasks(&t), 3);
    assert_int_equal(t_complete(&t, task_of_inner(&t, 1), NULL), 0);
    assert_int_equal(open_tasks(&t), 2);
    uint64_t left = task_of_inner(&t, 3);
    assert_int_equal(t_complete(&t, task_of_inner(&t, 2), NULL), 0);
    /* The condition holds: the third instance is cancelled, the body leaves. */
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    bool cancelled = false;
    for (size_t i = 0; i < t.fx.n; i++)
        if (t.fx.items[i].kind == FL_FX_TASK_CLOSE && t.fx.items[i].u.task_close.id == left)
            cancelled = t.fx.items[i].u.task_close.status == FL_TASK_CANCELLED;
    assert_true(cancelled);
    assert_int_equal(t.inst->n_locals, 0);
    env_release(&t);
}

static void test_mi_empty_and_pass_through(void **state)
{
    uint32_t x;
    struct fl_model *m = one_node(FL_NODE_SCRIPT_TASK, &x);
    struct fl_loop_def *l = mb_loop(m, x, true);
    struct t_env t;
    (void)state;
    m->nodes[x].script = mb_feel("v * v");
    m->nodes[x].result_variable = fl_strdup("sq");
    mb_output(m, x, "last", "sq");
    l->collection = mb_feel("xs");
    l->element_variable = fl_strdup("v");
    l->output_collection = fl_strdup("squares");
    l->output_element = mb_feel("sq");
    t_env_init(&t, m);
    /* An empty collection: the body completes at once with an empty output collection. */
    t_start(&t, "{\"xs\":[]}");
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    assert_var_json(&t, "squares", "[]");
    fl_instance_free(t.inst);
    t.inst = NULL;
    /* Scripts run in one command; each result stays in its instance's scope. */
    t_start(&t, "{\"xs\":[2,3,4]}");
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    assert_var_json(&t, "squares", "[4,9,16]");
    assert_null(var(&t, "sq"));
    assert_non_null(var(&t, "last"));
    assert_int_equal(t.inst->n_locals, 0);
    fl_instance_free(t.inst);
    t.inst = NULL;
    /* Not a list: an incident at the activity. */
    t_start(&t, "{\"xs\":5}");
    assert_true(t.inst->incident);
    assert_non_null(strstr(fx_nth(&t.fx, FL_FX_INCIDENT, 0)->u.incident.message, "not a list"));
    env_release(&t);
}

static void test_mi_cancel_instance(void **state)
{
    uint32_t x;
    struct fl_model *m = one_node(FL_NODE_USER_TASK, &x);
    struct fl_loop_def *l = mb_loop(m, x, true);
    struct t_env t;
    struct fl_command cancel = {.kind = FL_CMD_CANCEL, .reason = "test"};
    (void)state;
    l->cardinality = mb_feel("2");
    t_env_init(&t, m);
    t_start(&t, NULL);
    assert_int_equal(t.inst->n_tokens, 3);
    assert_int_equal(t_apply(&t, &cancel), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CLOSE), 2);
    assert_int_equal(fx_count(&t.fx, FL_FX_TOKEN_DEL), 3);
    env_release(&t);
}

/* ---- standard loop ---- */

static void test_standard_loop(void **state)
{
    uint32_t x;
    struct fl_model *m = one_node(FL_NODE_SCRIPT_TASK, &x);
    struct fl_loop_def *l = mb_loop(m, x, false);
    struct t_env t;
    (void)state;
    m->nodes[x].script = mb_feel("count + 1");
    m->nodes[x].result_variable = fl_strdup("count");
    l->loop_condition = mb_feel("count < 3");
    t_env_init(&t, m);
    t_start(&t, "{\"count\":0}");
    assert_int_equal(var_int(&t, "count"), 3);
    assert_int_equal(ev_count(&t.fx, FL_EV_NODE_ENTERED), 5); /* start, x three times, end */
    fl_instance_free(t.inst);
    t.inst = NULL;
    /* testBefore with a false condition: the activity never runs. */
    l->test_before = true;
    t_start(&t, "{\"count\":7}");
    assert_int_equal(var_int(&t, "count"), 7);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    fl_instance_free(t.inst);
    t.inst = NULL;
    /* loopMaximum bounds it. */
    l->test_before = false;
    l->loop_maximum = 2;
    t_start(&t, "{\"count\":0}");
    assert_int_equal(var_int(&t, "count"), 2);
    env_release(&t);
}

static void test_standard_loop_user_task(void **state)
{
    uint32_t x;
    struct fl_model *m = one_node(FL_NODE_USER_TASK, &x);
    struct fl_loop_def *l = mb_loop(m, x, false);
    struct t_env t;
    (void)state;
    l->loop_condition = mb_feel("not(done)");
    t_env_init(&t, m);
    t_start(&t, NULL);
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), "{\"done\":false}"), 0);
    assert_int_equal(open_tasks(&t), 1);
    assert_int_equal(t.inst->tokens[0].loop, 2);
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), "{\"done\":true}"), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    env_release(&t);
}

/* ---- call activities ---- */

static const struct fl_effect *call_fx(const struct t_env *t)
{
    const struct fl_effect *e = fx_nth(&t->fx, FL_FX_CALL, 0);
    if (!e)
        fail_msg("no FL_FX_CALL");
    return e;
}

static int call_done(struct t_env *t, uint64_t token, uint64_t child, const char *vars_json,
                     const char *code)
{
    struct fl_value *vars = vars_json ? t_json(vars_json) : NULL;
    struct fl_command cmd = {.kind = FL_CMD_CALL_DONE,
                             .target_id = token,
                             .new_instance_id = child,
                             .variables = vars,
                             .error_code = code};
    int rc = t_apply(t, &cmd);
    fl_value_unref(vars);
    return rc;
}

static void test_call_activity(void **state)
{
    uint32_t x;
    struct fl_model *m = one_node(FL_NODE_CALL_ACTIVITY, &x);
    struct fl_call_def *c = mb_call(m, x, "=\"ch\" + suffix");
    struct t_env t;
    struct fl_buf b = FL_BUF_INIT;
    (void)state;
    c->all_in = true;
    c->version = 2;
    c->business_key = fl_strdup("=\"bk-\" + suffix");
    add_map(&c->ins, &c->n_ins, "k", "a * 2");
    add_map(&c->outs, &c->n_outs, "back", "childResult + a");
    t_env_init(&t, m);
    t_start(&t, "{\"a\":5,\"suffix\":\"ild\"}");
    const struct fl_effect *e = call_fx(&t);
    assert_string_equal(e->u.call.process_key, "child");
    assert_string_equal(e->u.call.business_key, "bk-ild");
    assert_int_equal(e->u.call.version, 2);
    fl_value_to_json(e->u.call.variables, &b);
    assert_string_equal(b.ptr, "{\"a\":5,\"suffix\":\"ild\",\"k\":10}");
    fl_buf_release(&b);
    const struct fl_token *tok = inst_token_at(&t, "x");
    assert_non_null(tok);
    assert_int_equal(tok->state, FL_TOKEN_SCOPE);
    assert_int_equal(tok->call_id, e->u.call.child_id);
    assert_int_equal(e->u.call.token_id, tok->id);
    assert_non_null(ev_nth(&t.fx, FL_EV_CALL_STARTED, 0));
    uint64_t token = tok->id, child = tok->call_id;

    /* Refused: another child, another token. Nothing changes. */
    assert_int_equal(call_done(&t, token, child + 1, NULL, NULL), FL_ENOTFOUND);
    assert_int_equal(call_done(&t, token + 100, 0, NULL, NULL), FL_ENOTFOUND);
    assert_int_equal(t.fx.n, 0);

    /* Only the out-mappings reach the caller. */
    assert_int_equal(call_done(&t, token, child, "{\"childResult\":7,\"other\":1}", NULL), 0);
    assert_int_equal(var_int(&t, "back"), 12);
    assert_null(var(&t, "other"));
    assert_null(var(&t, "childResult"));
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    env_release(&t);
}

static void test_call_all_out_and_start_ids(void **state)
{
    uint32_t x;
    struct fl_model *m = one_node(FL_NODE_CALL_ACTIVITY, &x);
    struct fl_call_def *c = mb_call(m, x, "child");
    struct t_env t;
    (void)state;
    c->all_out = true; /* all_in false: the child gets only the mappings */
    add_map(&c->ins, &c->n_ins, "only", "1");
    t_env_init(&t, m);
    t_start(&t, "{\"secret\":1}");
    const struct fl_effect *e = call_fx(&t);
    assert_int_equal(fl_value_context_len(e->u.call.variables), 1);
    uint64_t token = e->u.call.token_id, child = e->u.call.child_id;
    assert_int_equal(call_done(&t, token, child, "{\"r\":1,\"s\":\"x\"}", NULL), 0);
    assert_int_equal(var_int(&t, "r"), 1);
    assert_non_null(var(&t, "s"));
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    fl_instance_free(t.inst);
    t.inst = NULL;

    /* A called instance starts with the id and parent its caller gave it. */
    struct fl_command st = {.kind = FL_CMD_START,
                            .new_instance_id = 777,
                            .parent_instance_id = 55,
                            .parent_token_id = 66};
    fl_effects_reset(&t.fx);
    assert_int_equal(fl_engine_start(t.m, 7, &st, &t.ctx, &t.inst, &t.fx, &t.err), 0);
    assert_int_equal(t.inst->id, 777);
    assert_int_equal(t.inst->parent_instance_id, 55);
    assert_int_equal(t.inst->parent_token_id, 66);
    env_release(&t);
}

static void test_call_errors_and_cancel(void **state)
{
    uint32_t x;
    struct fl_model *m = one_node(FL_NODE_CALL_ACTIVITY, &x);
    struct t_env t;
    struct fl_command cancel = {.kind = FL_CMD_CANCEL, .reason = "test"};
    (void)state;
    mb_call(m, x, "child");
    t_env_init(&t, m);

    t_start(&t, NULL);
    uint64_t token = call_fx(&t)->u.call.token_id, child = call_fx(&t)->u.call.child_id;
    assert_int_equal(call_done(&t, token, child, NULL, "flowd:process-not-found"), 0);
    assert_true(t.inst->incident);
    assert_non_null(strstr(fx_nth(&t.fx, FL_FX_INCIDENT, 0)->u.incident.message,
                           "cannot start its process"));
    assert_int_equal(t.inst->tokens[0].state, FL_TOKEN_INCIDENT);
    fl_instance_free(t.inst);
    t.inst = NULL;

    t_start(&t, NULL);
    token = call_fx(&t)->u.call.token_id;
    child = call_fx(&t)->u.call.child_id;
    assert_int_equal(call_done(&t, token, child, NULL, "E_STOCK"), 0);
    assert_non_null(strstr(fx_nth(&t.fx, FL_FX_INCIDENT, 0)->u.incident.message,
                           "error 'E_STOCK'"));
    fl_instance_free(t.inst);
    t.inst = NULL;

    /* Cancelling the caller cancels the called instance. */
    t_start(&t, NULL);
    child = call_fx(&t)->u.call.child_id;
    assert_int_equal(t_apply(&t, &cancel), 0);
    const struct fl_effect *e = fx_nth(&t.fx, FL_FX_CALL_CANCEL, 0);
    assert_non_null(e);
    assert_int_equal(e->u.call.child_id, child);
    env_release(&t);
}

static void test_call_multi_instance(void **state)
{
    uint32_t x;
    struct fl_model *m = one_node(FL_NODE_CALL_ACTIVITY, &x);
    struct fl_call_def *c = mb_call(m, x, "child");
    struct fl_loop_def *l = mb_loop(m, x, true);
    struct t_env t;
    (void)state;
    c->all_in = true;
    c->all_out = true;
    l->collection = mb_feel("[\"a\",\"b\"]");
    l->element_variable = fl_strdup("item");
    l->output_collection = fl_strdup("outs");
    l->output_element = mb_feel("res");
    mb_output(m, x, "ignored", "1"); /* outputs keep each child's variables local */
    t_env_init(&t, m);
    t_start(&t, NULL);
    assert_int_equal(fx_count(&t.fx, FL_FX_CALL), 2);
    const struct fl_effect *e1 = fx_nth(&t.fx, FL_FX_CALL, 0), *e2 = fx_nth(&t.fx, FL_FX_CALL, 1);
    assert_string_equal(fl_value_str(fl_value_context_get(e2->u.call.variables, "item", 4), NULL),
                        "b");
    uint64_t tok1 = e1->u.call.token_id, ch1 = e1->u.call.child_id;
    uint64_t tok2 = e2->u.call.token_id, ch2 = e2->u.call.child_id;
    assert_int_equal(call_done(&t, tok2, ch2, "{\"res\":2}", NULL), 0);
    assert_int_equal(call_done(&t, tok1, ch1, "{\"res\":1}", NULL), 0);
    assert_var_json(&t, "outs", "[1,2]");
    assert_null(var(&t, "res"));
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    env_release(&t);
}

/* ---- models from BPMN: the reader and the engine agree ---- */

#define READ_XML                                                                                   \
    "<?xml version=\"1.0\"?><bpmn:definitions"                                                     \
    " xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\""                                  \
    " xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\""                                         \
    " xmlns:camunda=\"http://camunda.org/schema/1.0/bpmn\">"                                       \
    "<bpmn:process id=\"p\" isExecutable=\"true\"><bpmn:startEvent id=\"s\"/>"                     \
    "<bpmn:sequenceFlow id=\"f0\" sourceRef=\"s\" targetRef=\"each\"/>"                            \
    "<bpmn:serviceTask id=\"each\"><bpmn:extensionElements>"                                       \
    "<zeebe:taskDefinition type=\"price\"/><zeebe:ioMapping>"                                      \
    "<zeebe:input source=\"=item.sku\" target=\"sku\"/>"                                           \
    "<zeebe:output source=\"=price * item.qty\" target=\"line\"/></zeebe:ioMapping>"               \
    "</bpmn:extensionElements><bpmn:multiInstanceLoopCharacteristics>"                             \
    "<bpmn:extensionElements><zeebe:loopCharacteristics inputCollection=\"=items\""                \
    " inputElement=\"item\" outputCollection=\"lines\" outputElement=\"=line\"/>"                  \
    "</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics></bpmn:serviceTask>"         \
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"each\" targetRef=\"call\"/>"                         \
    "<bpmn:callActivity id=\"call\" calledElement=\"billing\"><bpmn:extensionElements>"            \
    "<camunda:in source=\"lines\" target=\"amounts\"/>"                                            \
    "<camunda:out source=\"invoice\" target=\"invoiceId\"/></bpmn:extensionElements>"              \
    "</bpmn:callActivity>"                                                                         \
    "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"call\" targetRef=\"e\"/>"                            \
    "<bpmn:endEvent id=\"e\"/></bpmn:process></bpmn:definitions>"

static int complete_job(struct t_env *t, uint64_t job, const char *vars_json)
{
    struct fl_value *vars = vars_json ? t_json(vars_json) : NULL;
    struct fl_command cmd = {.kind = FL_CMD_COMPLETE_JOB, .target_id = job, .variables = vars};
    int rc = t_apply(t, &cmd);
    fl_value_unref(vars);
    return rc;
}

static uint64_t job_of_inner(const struct t_env *t, uint32_t k)
{
    for (size_t i = 0; i < t->inst->n_tokens; i++)
        if (t->inst->tokens[i].job_id && t->inst->tokens[i].loop == k)
            return t->inst->tokens[i].job_id;
    fail_msg("no job of inner instance %u", k);
    return 0;
}

static void test_read_and_run(void **state)
{
    struct fl_bpmn_doc *doc = NULL;
    struct fl_error err;
    struct t_env t;
    struct fl_buf b = FL_BUF_INIT;
    (void)state;
    fl_error_clear(&err);
    if (fl_bpmn_read(READ_XML, strlen(READ_XML), &doc, &err) != 0)
        fail_msg("read: %s (line %d)", err.msg, err.line);
    t_env_init(&t, mb_new("unused"));
    struct fl_model *hand = t.m;
    t.m = fl_bpmn_doc_take(doc, 0);
    fl_bpmn_doc_free(doc);

    t_start(&t, "{\"items\":[{\"sku\":\"a\",\"qty\":2},{\"sku\":\"b\",\"qty\":3}]}");
    assert_int_equal(fx_count(&t.fx, FL_FX_JOB_CREATE), 2);
    const struct fl_token *k2 = NULL;
    for (size_t i = 0; i < t.inst->n_tokens; i++)
        if (t.inst->tokens[i].loop == 2 && !t.inst->tokens[i].mi_body)
            k2 = &t.inst->tokens[i];
    assert_non_null(k2);
    assert_string_equal(fl_value_str(local(&t, k2->id, "sku"), NULL), "b");
    assert_int_equal(complete_job(&t, job_of_inner(&t, 2), "{\"price\":10}"), 0);
    assert_null(var(&t, "price")); /* with output mappings the job's variables stay local */
    assert_false(t.inst->incident);
    assert_int_equal(complete_job(&t, job_of_inner(&t, 1), "{\"price\":5}"), 0);
    assert_var_json(&t, "lines", "[10,30]");

    const struct fl_effect *e = call_fx(&t);
    assert_string_equal(e->u.call.process_key, "billing");
    fl_value_to_json(e->u.call.variables, &b);
    assert_string_equal(b.ptr, "{\"amounts\":[10,30]}"); /* camunda: only what camunda:in passes */
    fl_buf_release(&b);
    assert_int_equal(call_done(&t, e->u.call.token_id, e->u.call.child_id,
                               "{\"invoice\":\"INV-1\",\"noise\":1}", NULL),
                     0);
    assert_var_json(&t, "invoiceId", "\"INV-1\"");
    assert_null(var(&t, "noise"));
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);

    fl_model_free(t.m);
    t.m = hand;
    t_env_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mappings_user_task),
        cmocka_unit_test(test_mappings_without_outputs),
        cmocka_unit_test(test_mappings_script_and_failure),
        cmocka_unit_test(test_mapping_dotted_target),
        cmocka_unit_test(test_mi_parallel_collection),
        cmocka_unit_test(test_mi_sequential_cardinality),
        cmocka_unit_test(test_mi_sequential_collection),
        cmocka_unit_test(test_mi_completion_condition),
        cmocka_unit_test(test_mi_empty_and_pass_through),
        cmocka_unit_test(test_mi_cancel_instance),
        cmocka_unit_test(test_standard_loop),
        cmocka_unit_test(test_standard_loop_user_task),
        cmocka_unit_test(test_call_activity),
        cmocka_unit_test(test_call_all_out_and_start_ids),
        cmocka_unit_test(test_call_errors_and_cancel),
        cmocka_unit_test(test_call_multi_instance),
        cmocka_unit_test(test_read_and_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
