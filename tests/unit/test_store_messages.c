/* Unit tests of the store's messages and signals (migration 9): subscriptions written by
 * the engine's effects come back with their instance and are found by (trigger, name,
 * key); buffered messages match by name and key until they expire; a client's message id
 * is found again; the outbox lists what is not delivered; start events are replaced by a
 * process's new version; ids survive deletion. */
#include "engine_fixture.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flowd/store.h"

struct fixture {
    char dir[64];
    char path[128];
    struct fl_store *s;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct fl_store_options o = {.create = true, .synchronous = 0, .synchronous_set = true};
    struct fl_error e;
    strcpy(f->dir, "/tmp/flowd-stmsg-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    if (fl_store_open(f->path, &o, &f->s, &e) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char p[160];
    static const char *const suffix[] = {"", "-wal", "-shm"};
    fl_store_close(f->s);
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static uint32_t mb_event(struct fl_model *m, enum fl_node_kind kind, const char *id,
                         enum fl_trigger trig, const char *name, const char *key)
{
    uint32_t n = mb_node(m, kind, id);
    m->nodes[n].event = fl_calloc(1, sizeof(*m->nodes[n].event));
    m->nodes[n].event->trigger = trig;
    m->nodes[n].event->name = fl_strdup(name);
    m->nodes[n].event->correlation_key = key ? fl_strdup(key) : NULL;
    return n;
}

/* start -> recv (message "order", key =k) -> sig (signal "go") -> send (message "out") -> end */
static struct fl_model *model(void)
{
    struct fl_model *m = mb_new("msgs");
    uint32_t s = mb_node(m, FL_NODE_START_EVENT, "start");
    uint32_t r = mb_event(m, FL_NODE_RECEIVE_TASK, "recv", FL_TRIGGER_MESSAGE, "order", "=k");
    uint32_t g = mb_event(m, FL_NODE_CATCH_EVENT, "sig", FL_TRIGGER_SIGNAL, "go", NULL);
    uint32_t o = mb_event(m, FL_NODE_SEND_TASK, "send", FL_TRIGGER_MESSAGE, "out", "=k");
    uint32_t e = mb_node(m, FL_NODE_END_EVENT, "end");
    mb_flow(m, "f1", s, r, NULL);
    mb_flow(m, "f2", r, g, NULL);
    mb_flow(m, "f3", g, o, NULL);
    mb_flow(m, "f4", o, e, NULL);
    for (size_t i = 0; i < m->n_nodes; i++)
        m->nodes[i].scope = m->nodes[i].attached_to = FL_NONE;
    return m;
}

static void write_step(struct fixture *f, struct t_env *t)
{
    struct fl_error e;
    fl_error_clear(&e);
    assert_int_equal(fl_store_begin(f->s, &e), 0);
    if (fl_store_apply(f->s, t->m, t->inst, &t->fx, &e) != 0)
        fail_msg("apply: %s", e.msg);
    assert_int_equal(fl_store_commit(f->s, &e), 0);
}

static void subscriptions_round_trip(void **state)
{
    struct fixture *f = *state;
    struct t_env t;
    struct fl_instance *back = NULL;
    struct fl_subscription *subs = NULL;
    struct fl_outbox_row *out = NULL;
    struct fl_command cmd = {.kind = FL_CMD_CORRELATE};
    struct fl_error e;
    size_t n = 0;
    uint64_t max;

    t_env_init(&t, model());
    t_start(&t, "{\"k\":\"A-1\"}");
    write_step(f, &t);
    assert_int_equal(fl_store_instance_load(f->s, t.inst->id, &back, &e), 0);
    assert_int_equal(back->n_subs, 1);
    assert_int_equal(back->subs[0].id, t.inst->subs[0].id);
    assert_string_equal(back->subs[0].name, "order");
    assert_string_equal(back->subs[0].correlation_key, "A-1");
    assert_int_equal(back->subs[0].node, t_node(t.m, "recv"));
    assert_int_equal(back->subs[0].token_id, t.inst->tokens[0].id);
    fl_instance_free(back);

    /* found by name and key, not by another key; a keyless search finds only keyless ones */
    assert_int_equal(fl_store_subs_find(f->s, FL_TRIGGER_MESSAGE, "order", "A-1", 0, &subs, &n, &e),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(subs[0].instance_id, t.inst->id);
    fl_subscriptions_free(subs, n);
    assert_int_equal(fl_store_subs_find(f->s, FL_TRIGGER_MESSAGE, "order", "B", 0, &subs, &n, &e),
                     0);
    assert_int_equal(n, 0);
    assert_int_equal(fl_store_subs_find(f->s, FL_TRIGGER_MESSAGE, "order", NULL, 0, &subs, &n, &e),
                     0);
    assert_int_equal(n, 0);
    assert_int_equal(fl_store_subs_find(f->s, FL_TRIGGER_SIGNAL, "order", NULL, 0, &subs, &n, &e),
                     0);
    assert_int_equal(n, 0);

    /* correlate: the message sub goes, the signal sub comes */
    cmd.target_id = t.inst->subs[0].id;
    assert_int_equal(t_apply(&t, &cmd), 0);
    write_step(f, &t);
    assert_int_equal(fl_store_subs_find(f->s, FL_TRIGGER_MESSAGE, "order", "A-1", 0, &subs, &n, &e),
                     0);
    assert_int_equal(n, 0);
    assert_int_equal(fl_store_subs_find(f->s, FL_TRIGGER_SIGNAL, "go", NULL, 0, &subs, &n, &e), 0);
    assert_int_equal(n, 1);
    cmd.target_id = subs[0].id;
    fl_subscriptions_free(subs, n);
    /* the deleted subscription's id is not handed out again */
    assert_int_equal(fl_store_max_id(f->s, FL_ID_SUBSCRIPTION, &max, &e), 0);
    assert_int_equal(max, cmd.target_id);

    /* the signal: the send task puts a message in the outbox */
    assert_int_equal(t_apply(&t, &cmd), 0);
    write_step(f, &t);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    assert_int_equal(fl_store_outbox_list(f->s, 0, 0, true, &out, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].name, "out");
    assert_string_equal(out[0].correlation_key, "A-1");
    assert_string_equal(out[0].node_id, "send");
    assert_string_equal(out[0].variables, "{\"k\":\"A-1\"}");
    assert_int_equal(out[0].created_at, T_NOW);
    assert_int_equal(out[0].delivered_at, 0);
    assert_int_equal(fl_store_max_id(f->s, FL_ID_MESSAGE, &max, &e), 0);
    assert_int_equal(max, out[0].id);
    assert_int_equal(fl_store_outbox_delivered(f->s, out[0].id, T_NOW + 5, &e), 0);
    assert_int_equal(fl_store_outbox_delivered(f->s, out[0].id + 100, T_NOW + 5, &e),
                     FL_ENOTFOUND);
    fl_outbox_rows_free(out, n);
    assert_int_equal(fl_store_outbox_list(f->s, 0, 0, true, &out, &n, &e), 0);
    assert_int_equal(n, 0);
    assert_int_equal(fl_store_outbox_list(f->s, 0, 0, false, &out, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].delivered_at, T_NOW + 5);
    fl_outbox_rows_free(out, n);
    fl_instance_free(t.inst);
    t.inst = NULL;
    fl_effects_release(&t.fx);
    fl_model_free(t.m);
}

static void buffered_messages(void **state)
{
    struct fixture *f = *state;
    char name[] = "order", k1[] = "k1", k2[] = "k2", vars[] = "{\"a\":1}", cid[] = "client-1";
    struct fl_message_row m = {.id = 10,
                               .name = name,
                               .correlation_key = k1,
                               .variables = vars,
                               .message_id = cid,
                               .created_at = T_NOW,
                               .expires_at = T_NOW + T_HOUR};
    struct fl_message_row got;
    struct fl_error e;
    bool found;
    uint64_t n, max;

    assert_int_equal(fl_store_begin(f->s, &e), 0);
    assert_int_equal(fl_store_message_put(f->s, &m, &e), 0);
    m.id = 11;
    m.correlation_key = k2;
    m.message_id = NULL;
    m.expires_at = T_NOW + 2 * T_HOUR;
    assert_int_equal(fl_store_message_put(f->s, &m, &e), 0);
    assert_int_equal(fl_store_commit(f->s, &e), 0);

    assert_int_equal(fl_store_message_match(f->s, "order", "k2", T_NOW, &got, &found, &e), 0);
    assert_true(found);
    assert_int_equal(got.id, 11);
    fl_message_row_release(&got);
    /* no key: the oldest of any key */
    assert_int_equal(fl_store_message_match(f->s, "order", NULL, T_NOW, &got, &found, &e), 0);
    assert_true(found);
    assert_int_equal(got.id, 10);
    assert_string_equal(got.variables, "{\"a\":1}");
    fl_message_row_release(&got);
    assert_int_equal(fl_store_message_match(f->s, "order", "k3", T_NOW, &got, &found, &e), 0);
    assert_false(found);
    /* expired messages do not match */
    assert_int_equal(fl_store_message_match(f->s, "order", "k1", T_NOW + T_HOUR, &got, &found, &e),
                     0);
    assert_false(found);

    assert_int_equal(fl_store_message_by_client_id(f->s, "client-1", T_NOW, &got, &found, &e), 0);
    assert_true(found);
    assert_int_equal(got.id, 10);
    fl_message_row_release(&got);

    /* taken: no longer buffered, still known by its client id */
    assert_int_equal(fl_store_message_set_status(f->s, 10, FL_MESSAGE_CORRELATED, 77, &e), 0);
    assert_int_equal(fl_store_message_match(f->s, "order", "k1", T_NOW, &got, &found, &e), 0);
    assert_false(found);
    assert_int_equal(fl_store_message_by_client_id(f->s, "client-1", T_NOW, &got, &found, &e), 0);
    assert_true(found);
    assert_int_equal(got.status, FL_MESSAGE_CORRELATED);
    assert_int_equal(got.instance_id, 77);
    fl_message_row_release(&got);
    assert_int_equal(fl_store_message_set_status(f->s, 99, FL_MESSAGE_CORRELATED, 77, &e),
                     FL_ENOTFOUND);

    assert_int_equal(fl_store_messages_expire(f->s, T_NOW + T_HOUR, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(fl_store_message_by_client_id(f->s, "client-1", T_NOW, &got, &found, &e), 0);
    assert_false(found);
    assert_int_equal(fl_store_messages_expire(f->s, T_NOW + 3 * T_HOUR, &n, &e), 0);
    assert_int_equal(n, 1);
    /* ids of expired messages are not reused */
    assert_int_equal(fl_store_max_id(f->s, FL_ID_MESSAGE, &max, &e), 0);
    assert_int_equal(max, 11);
}

static void start_events(void **state)
{
    struct fixture *f = *state;
    static const int trig[] = {FL_TRIGGER_MESSAGE, FL_TRIGGER_SIGNAL};
    static const char *const names[] = {"order", "alarm"};
    static const char *const nodes[] = {"s1", "s2"};
    struct fl_start_event_row *rows = NULL;
    struct fl_error e;
    size_t n = 0;

    assert_int_equal(fl_store_begin(f->s, &e), 0);
    assert_int_equal(fl_store_start_events_set(f->s, "p", 1, trig, names, nodes, 2, &e), 0);
    assert_int_equal(fl_store_start_events_set(f->s, "q", 2, trig, names, nodes, 1, &e), 0);
    assert_int_equal(fl_store_commit(f->s, &e), 0);
    assert_int_equal(fl_store_start_events_find(f->s, FL_TRIGGER_MESSAGE, "order", &rows, &n, &e),
                     0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].process_key, "p");
    assert_string_equal(rows[1].process_key, "q");
    fl_start_event_rows_free(rows, n);
    /* a new version of p without start events replaces them */
    assert_int_equal(fl_store_begin(f->s, &e), 0);
    assert_int_equal(fl_store_start_events_set(f->s, "p", 3, trig, names, nodes, 0, &e), 0);
    assert_int_equal(fl_store_commit(f->s, &e), 0);
    assert_int_equal(fl_store_start_events_find(f->s, FL_TRIGGER_MESSAGE, "order", &rows, &n, &e),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].definition_id, 2);
    fl_start_event_rows_free(rows, n);
    assert_int_equal(fl_store_start_events_find(f->s, FL_TRIGGER_SIGNAL, "alarm", &rows, &n, &e),
                     0);
    assert_int_equal(n, 0);
    assert_int_equal(fl_store_start_events_find(f->s, 99, "alarm", &rows, &n, &e), FL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(subscriptions_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(buffered_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(start_events, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
