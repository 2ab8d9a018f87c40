/* Unit tests of compensation and the cancel end event in the engine, on models built by
 * hand: completed activities with a handler are compensated latest first by a compensate
 * throw (all of the scope, or the one its activityRef names), the throw waits for the
 * handlers or not, a compensate end event ends once they are done, and a cancel end event
 * cancels its transaction, compensates inside it and leaves by the cancel boundary. */
#include "errors_fixture.h"

#include <stdio.h>

#include "core/engine_int.h"

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
        cmocka_unit_test(test_compensate_all_reverse_and_wait),
        cmocka_unit_test(test_compensate_activity_ref_no_wait),
        cmocka_unit_test(test_compensate_end),
        cmocka_unit_test(test_cancel_end_in_transaction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
