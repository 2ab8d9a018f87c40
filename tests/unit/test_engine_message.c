/* Unit tests of messages and signals in the engine (pure, no store): a receive task and a
 * message catch event wait with a subscription whose name and correlation key are
 * evaluated when the token arrives; FL_CMD_CORRELATE merges the payload and moves on; an
 * event-based gateway races a message against a timer; boundary message events interrupt
 * or fork; throw events, send tasks and message end events leave FL_FX_OUTBOX and
 * FL_FX_SIGNAL effects; message start events start an instance. */
#include "engine_fixture.h"

#include <stdio.h>

static uint32_t mb_event(struct fl_model *m, enum fl_node_kind kind, const char *id,
                         enum fl_trigger trig, const char *name, const char *key)
{
    uint32_t n = mb_node(m, kind, id);
    m->nodes[n].scope = FL_NONE;
    m->nodes[n].attached_to = FL_NONE;
    m->nodes[n].event = fl_calloc(1, sizeof(*m->nodes[n].event));
    m->nodes[n].event->trigger = trig;
    m->nodes[n].event->name = fl_strdup(name);
    m->nodes[n].event->correlation_key = key ? fl_strdup(key) : NULL;
    m->nodes[n].event->activity_ref = FL_NONE;
    m->nodes[n].event->link_target = FL_NONE;
    return n;
}

static void mb_timer(struct fl_model *m, uint32_t n, const char *text)
{
    m->nodes[n].timer = fl_calloc(1, sizeof(*m->nodes[n].timer));
    m->nodes[n].timer->kind = FL_TIMERDEF_DURATION;
    m->nodes[n].timer->text = fl_strdup(text);
}

static void mb_attach(struct fl_model *m, uint32_t b, uint32_t t, bool interrupting)
{
    struct fl_node *task = &m->nodes[t];
    m->nodes[b].attached_to = t;
    m->nodes[b].cancel_activity = interrupting;
    task->boundaries =
        fl_reallocarray(task->boundaries, task->n_boundaries + 1, sizeof(*task->boundaries));
    task->boundaries[task->n_boundaries++] = b;
}

/* The fixture's nodes start zeroed: put them all at process level, as the reader does. */
static void env_init(struct t_env *t, struct fl_model *m)
{
    for (size_t i = 0; i < m->n_nodes; i++) {
        m->nodes[i].scope = FL_NONE;
        if (m->nodes[i].kind != FL_NODE_BOUNDARY_EVENT)
            m->nodes[i].attached_to = FL_NONE;
    }
    t_env_init(t, m);
}

static void release(struct t_env *t)
{
    fl_instance_free(t->inst);
    t->inst = NULL;
    fl_effects_release(&t->fx);
    fl_model_free(t->m);
}

static int correlate(struct t_env *t, uint64_t sub_id, const char *vars_json)
{
    struct fl_value *vars = vars_json ? t_json(vars_json) : NULL;
    struct fl_command cmd = {.kind = FL_CMD_CORRELATE, .target_id = sub_id, .variables = vars};
    int rc = t_apply(t, &cmd);
    fl_value_unref(vars);
    return rc;
}

static const struct fl_subscription *sub_opened(const struct t_env *t, size_t i)
{
    const struct fl_effect *e = fx_nth(&t->fx, FL_FX_SUB_OPEN, i);
    if (!e)
        fail_msg("no SUB_OPEN #%zu", i);
    return &e->u.sub;
}

static const struct fl_value *var(const struct t_env *t, const char *name)
{
    return fl_value_context_get(t->inst->variables, name, strlen(name));
}

/* start -> (kind: receive task or catch event) -> end */
static struct fl_model *waiting_model(enum fl_node_kind kind, const char *name, const char *key)
{
    struct fl_model *m = mb_new("wait");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t w = mb_event(m, kind, "wait", FL_TRIGGER_MESSAGE, name, key);
    uint32_t e = mb_node(m, FL_NODE_END_EVENT, "end");
    mb_flow(m, "f1", s, w, NULL);
    mb_flow(m, "f2", w, e, NULL);
    return m;
}

static void receive_task_waits_and_correlates(void **state)
{
    struct t_env t;
    uint64_t sub;
    (void)state;
    env_init(&t, waiting_model(FL_NODE_RECEIVE_TASK, "=\"order-\" + kind", "=orderId"));
    assert_null(fl_engine_unsupported(t.m, t_node(t.m, "wait")));
    t_start(&t, "{\"orderId\":42,\"kind\":\"paid\"}");
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    assert_non_null(inst_token_at(&t, "wait"));
    assert_int_equal(fx_count(&t.fx, FL_FX_SUB_OPEN), 1);
    assert_string_equal(sub_opened(&t, 0)->name, "order-paid");
    assert_string_equal(sub_opened(&t, 0)->correlation_key, "42");
    assert_int_equal(sub_opened(&t, 0)->trigger, FL_TRIGGER_MESSAGE);
    assert_int_equal(t.inst->n_subs, 1);
    sub = t.inst->subs[0].id;
    assert_int_equal(sub_opened(&t, 0)->id, sub);

    /* an unknown subscription changes nothing */
    assert_int_equal(correlate(&t, sub + 99, NULL), FL_ENOTFOUND);
    assert_int_equal(t.fx.n, 0);
    assert_int_equal(t.inst->n_subs, 1);

    assert_int_equal(correlate(&t, sub, "{\"amount\":10}"), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_SUB_CLOSE), 1);
    assert_int_equal(fx_nth(&t.fx, FL_FX_SUB_CLOSE, 0)->u.sub.id, sub);
    assert_int_equal(ev_count(&t.fx, FL_EV_MESSAGE_CORRELATED), 1);
    assert_string_equal(ev_nth(&t.fx, FL_EV_MESSAGE_CORRELATED, 0)->detail,
                        "{\"trigger\":\"message\",\"name\":\"order-paid\","
                        "\"correlation_key\":\"42\"}");
    assert_non_null(var(&t, "amount"));
    assert_int_equal(t.inst->n_subs, 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    /* and a second delivery finds nothing */
    assert_int_equal(correlate(&t, sub, NULL), FL_ECONFLICT);
    release(&t);
}

static void catch_event_literal_key_and_bad_key(void **state)
{
    struct t_env t;
    (void)state;
    env_init(&t, waiting_model(FL_NODE_CATCH_EVENT, "invoice", "INV-1"));
    t_start(&t, NULL);
    assert_string_equal(sub_opened(&t, 0)->name, "invoice");
    assert_string_equal(sub_opened(&t, 0)->correlation_key, "INV-1");
    release(&t);

    /* a key that is not a string or number raises an incident, no subscription */
    env_init(&t, waiting_model(FL_NODE_CATCH_EVENT, "invoice", "=flag"));
    t_start(&t, "{\"flag\":true}");
    assert_int_equal(fx_count(&t.fx, FL_FX_SUB_OPEN), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_INCIDENT), 1);
    assert_non_null(strstr(fx_nth(&t.fx, FL_FX_INCIDENT, 0)->u.incident.message,
                           "correlation key of 'wait'"));
    assert_true(t.inst->incident);
    release(&t);

    /* without a key the subscription matches by name only */
    env_init(&t, waiting_model(FL_NODE_CATCH_EVENT, "ping", NULL));
    t_start(&t, NULL);
    assert_null(sub_opened(&t, 0)->correlation_key);
    release(&t);
}

/* start -> gw -> msg (catch "cancel") -> endA ; gw -> tmr (PT1H) -> endB */
static struct fl_model *gateway_model(void)
{
    struct fl_model *m = mb_new("race");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t g = mb_node(m, FL_NODE_EVENT_GW, "gw");
    uint32_t c = mb_event(m, FL_NODE_CATCH_EVENT, "msg", FL_TRIGGER_MESSAGE, "cancel", "=id");
    uint32_t tm = mb_node(m, FL_NODE_TIMER_CATCH, "tmr");
    uint32_t a = mb_node(m, FL_NODE_END_EVENT, "endA");
    uint32_t b = mb_node(m, FL_NODE_END_EVENT, "endB");
    mb_timer(m, tm, "PT1H");
    mb_flow(m, "f1", s, g, NULL);
    mb_flow(m, "f2", g, c, NULL);
    mb_flow(m, "f3", g, tm, NULL);
    mb_flow(m, "f4", c, a, NULL);
    mb_flow(m, "f5", tm, b, NULL);
    return m;
}

static void event_gateway_message_wins(void **state)
{
    struct t_env t;
    uint64_t sub, timer;
    (void)state;
    env_init(&t, gateway_model());
    assert_null(fl_engine_unsupported(t.m, t_node(t.m, "gw")));
    t_start(&t, "{\"id\":\"a\"}");
    assert_non_null(inst_token_at(&t, "gw"));
    assert_int_equal(fx_count(&t.fx, FL_FX_SUB_OPEN), 1);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_SET), 1);
    assert_int_equal(sub_opened(&t, 0)->node, t_node(t.m, "msg"));
    sub = t.inst->subs[0].id;
    timer = t.inst->timers[0].id;
    assert_int_equal(correlate(&t, sub, NULL), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_SUB_CLOSE), 1);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 1);
    assert_int_equal(fx_nth(&t.fx, FL_FX_TIMER_DEL, 0)->u.timer.id, timer);
    assert_int_equal(t.inst->n_timers, 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    assert_string_equal(ev_nth(&t.fx, FL_EV_NODE_ENTERED, 0)->node_id, "msg");
    assert_string_equal(ev_nth(&t.fx, FL_EV_NODE_ENTERED, 1)->node_id, "endA");
    release(&t);
}

static void event_gateway_timer_wins(void **state)
{
    struct t_env t;
    struct fl_command fire = {.kind = FL_CMD_FIRE_TIMER};
    (void)state;
    env_init(&t, gateway_model());
    t_start(&t, "{\"id\":\"a\"}");
    fire.target_id = t.inst->timers[0].id;
    t.ctx.now_ms = T_NOW + T_HOUR;
    assert_int_equal(t_apply(&t, &fire), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_SUB_CLOSE), 1);
    assert_int_equal(t.inst->n_subs, 0);
    assert_int_equal(ev_count(&t.fx, FL_EV_TIMER_FIRED), 1);
    assert_string_equal(ev_nth(&t.fx, FL_EV_NODE_ENTERED, 0)->node_id, "tmr");
    assert_string_equal(ev_nth(&t.fx, FL_EV_NODE_ENTERED, 1)->node_id, "endB");
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    release(&t);
}

static void signal_throw_effect(void **state)
{
    struct t_env t;
    struct fl_model *m = mb_new("alarm");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t th = mb_event(m, FL_NODE_THROW_EVENT, "throw", FL_TRIGGER_SIGNAL, "=\"alarm\"", NULL);
    uint32_t e = mb_event(m, FL_NODE_EVENT_END, "end", FL_TRIGGER_SIGNAL, "all-clear", NULL);
    const struct fl_effect *sig;
    (void)state;
    mb_flow(m, "f1", s, th, NULL);
    mb_flow(m, "f2", th, e, NULL);
    env_init(&t, m);
    assert_null(fl_engine_unsupported(m, th));
    assert_null(fl_engine_unsupported(m, e));
    t_start(&t, "{\"x\":1}");
    assert_int_equal(fx_count(&t.fx, FL_FX_SIGNAL), 2);
    sig = fx_nth(&t.fx, FL_FX_SIGNAL, 0);
    assert_string_equal(sig->u.msg.name, "alarm");
    assert_string_equal(sig->u.msg.node_id, "throw");
    assert_null(sig->u.msg.variables); /* a signal carries its input mappings only */
    assert_string_equal(fx_nth(&t.fx, FL_FX_SIGNAL, 1)->u.msg.name, "all-clear");
    assert_int_equal(ev_count(&t.fx, FL_EV_SIGNAL_THROWN), 2);
    assert_string_equal(ev_nth(&t.fx, FL_EV_SIGNAL_THROWN, 0)->detail, "{\"name\":\"alarm\"}");
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    release(&t);
}

static void message_end_and_send_task_effects(void **state)
{
    struct t_env t;
    struct fl_model *m = mb_new("notify");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t st = mb_event(m, FL_NODE_SEND_TASK, "send", FL_TRIGGER_MESSAGE, "hello", NULL);
    uint32_t e = mb_event(m, FL_NODE_EVENT_END, "end", FL_TRIGGER_MESSAGE, "done", "=orderId");
    const struct fl_effect *o;
    struct fl_buf b = FL_BUF_INIT;
    (void)state;
    mb_flow(m, "f1", s, st, NULL);
    mb_flow(m, "f2", st, e, NULL);
    env_init(&t, m);
    assert_null(fl_engine_unsupported(m, st));
    t_start(&t, "{\"orderId\":7}");
    assert_int_equal(fx_count(&t.fx, FL_FX_OUTBOX), 2);
    o = fx_nth(&t.fx, FL_FX_OUTBOX, 0);
    assert_string_equal(o->u.msg.name, "hello");
    assert_null(o->u.msg.correlation_key);
    assert_string_equal(o->u.msg.node_id, "send");
    o = fx_nth(&t.fx, FL_FX_OUTBOX, 1);
    assert_string_equal(o->u.msg.name, "done");
    assert_string_equal(o->u.msg.correlation_key, "7");
    assert_true(o->u.msg.id != 0 && o->u.msg.id != fx_nth(&t.fx, FL_FX_OUTBOX, 0)->u.msg.id);
    assert_non_null(o->u.msg.variables);
    fl_value_to_json(o->u.msg.variables, &b);
    assert_string_equal(b.ptr, "{\"orderId\":7}");
    fl_buf_release(&b);
    assert_int_equal(ev_count(&t.fx, FL_EV_MESSAGE_SENT), 2);
    assert_int_equal(ev_nth(&t.fx, FL_EV_MESSAGE_SENT, 1)->ref_id, o->u.msg.id);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    release(&t);
}

/* start -> task (user) -> end ; boundary message "stop" on task -> stopped (end) */
static struct fl_model *boundary_model(bool interrupting)
{
    struct fl_model *m = mb_new("bound");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t u = mb_node(m, FL_NODE_USER_TASK, "task");
    uint32_t e = mb_node(m, FL_NODE_END_EVENT, "end");
    uint32_t b = mb_event(m, FL_NODE_BOUNDARY_EVENT, "stop", FL_TRIGGER_MESSAGE, "stop", "=k");
    uint32_t x = mb_node(m, FL_NODE_END_EVENT, "stopped");
    mb_flow(m, "f1", s, u, NULL);
    mb_flow(m, "f2", u, e, NULL);
    mb_flow(m, "f3", b, x, NULL);
    mb_attach(m, b, u, interrupting);
    return m;
}

static void boundary_message_interrupts(void **state)
{
    struct t_env t;
    uint64_t task;
    (void)state;
    env_init(&t, boundary_model(true));
    assert_null(fl_engine_unsupported(t.m, t_node(t.m, "stop")));
    t_start(&t, "{\"k\":\"x\"}");
    task = fx_task(&t.fx, 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_SUB_OPEN), 1);
    assert_true(sub_opened(&t, 0)->interrupting);
    assert_int_equal(correlate(&t, t.inst->subs[0].id, NULL), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CLOSE), 1);
    assert_int_equal(fx_nth(&t.fx, FL_FX_TASK_CLOSE, 0)->u.task_close.id, task);
    assert_int_equal(fx_count(&t.fx, FL_FX_SUB_CLOSE), 1);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    release(&t);
}

static void boundary_message_non_interrupting(void **state)
{
    struct t_env t;
    uint64_t task, sub;
    (void)state;
    env_init(&t, boundary_model(false));
    t_start(&t, "{\"k\":\"x\"}");
    task = fx_task(&t.fx, 0);
    sub = t.inst->subs[0].id;
    assert_int_equal(correlate(&t, sub, "{\"why\":\"asked\"}"), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CLOSE), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_SUB_CLOSE), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    assert_int_equal(t.inst->n_subs, 1);
    /* it fires again while the task stays */
    assert_int_equal(correlate(&t, sub, NULL), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    /* completing the task closes the boundary's subscription */
    assert_int_equal(t_complete(&t, task, NULL), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_SUB_CLOSE), 1);
    assert_int_equal(t.inst->n_subs, 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    release(&t);
}

static void message_start_event(void **state)
{
    struct t_env t;
    struct fl_model *m = mb_new("onorder");
    uint32_t s = mb_event(m, FL_NODE_EVENT_START, "got", FL_TRIGGER_MESSAGE, "order", NULL);
    uint32_t u = mb_node(m, FL_NODE_USER_TASK, "task");
    struct fl_value *vars = t_json("{\"n\":1}");
    struct fl_command cmd = {.kind = FL_CMD_START, .start_node_id = "got", .variables = vars};
    (void)state;
    mb_flow(m, "f1", s, u, NULL);
    env_init(&t, m);
    assert_null(fl_engine_unsupported(m, s));
    /* no none start event: a plain start is refused */
    struct fl_command plain = {.kind = FL_CMD_START};
    assert_int_equal(fl_engine_start(m, 7, &plain, &t.ctx, &t.inst, &t.fx, &t.err), FL_EMODEL);
    assert_int_equal(fl_engine_start(m, 7, &cmd, &t.ctx, &t.inst, &t.fx, &t.err), 0);
    fl_value_unref(vars);
    assert_non_null(inst_token_at(&t, "task"));
    assert_non_null(var(&t, "n"));
    release(&t);
}

static void cancel_closes_subscriptions(void **state)
{
    struct t_env t;
    struct fl_command cancel = {.kind = FL_CMD_CANCEL, .reason = "no"};
    (void)state;
    env_init(&t, gateway_model());
    t_start(&t, "{\"id\":1}");
    assert_int_equal(t_apply(&t, &cancel), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_SUB_CLOSE), 1);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 1);
    assert_int_equal(t.inst->n_subs, 0);
    release(&t);
}

static void clone_keeps_subscriptions(void **state)
{
    struct t_env t;
    struct fl_instance *c;
    (void)state;
    env_init(&t, waiting_model(FL_NODE_RECEIVE_TASK, "m", "k"));
    t_start(&t, NULL);
    c = fl_instance_clone(t.inst);
    assert_int_equal(c->n_subs, 1);
    assert_string_equal(c->subs[0].name, "m");
    assert_ptr_not_equal(c->subs[0].name, t.inst->subs[0].name);
    fl_instance_free(c);
    release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(receive_task_waits_and_correlates),
        cmocka_unit_test(catch_event_literal_key_and_bad_key),
        cmocka_unit_test(event_gateway_message_wins),
        cmocka_unit_test(event_gateway_timer_wins),
        cmocka_unit_test(signal_throw_effect),
        cmocka_unit_test(message_end_and_send_task_effects),
        cmocka_unit_test(boundary_message_interrupts),
        cmocka_unit_test(boundary_message_non_interrupting),
        cmocka_unit_test(message_start_event),
        cmocka_unit_test(cancel_closes_subscriptions),
        cmocka_unit_test(clone_keeps_subscriptions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
