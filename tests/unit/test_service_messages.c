/* Unit tests of messages and signals in the service: a message published before anyone
 * waits is buffered and taken by the subscription that opens later (in the transaction of
 * the command that opened it); a time to live of 0 refuses an unmatched message; a
 * message reaches a waiting receive task, is deduplicated by its message id, and starts a
 * process at a message start event; a signal reaches every waiting instance, from the API
 * and from a throw event; a send task's message is delivered in flowd and marked so in the
 * outbox; buffered messages expire. The clock is the service's test clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "flowd/service.h"
#include "flowd/store.h"
#include "flowd/value.h"
#include "svc_fixture.h"
#include "svc_helpers.h"

#define T0 1790000000000LL

#define NS                                                                                         \
    " xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\""                                  \
    " xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\""

/* orderflow: start -> receive "paid" (key orderId) -> ship -> end; onorder: message start
 * "newOrder" -> handle; alarmed: start -> catch signal "alarm" -> react; thrower: start ->
 * throw signal "alarm" -> end; sender: start -> send "paid" (key orderId) -> end. */
#define MESSAGES_XML                                                                               \
    "<?xml version=\"1.0\"?><bpmn:definitions" NS ">"                                              \
    "<bpmn:message id=\"mPaid\" name=\"paid\"><bpmn:extensionElements>"                            \
    "<zeebe:subscription correlationKey=\"=orderId\"/></bpmn:extensionElements></bpmn:message>"    \
    "<bpmn:message id=\"mNew\" name=\"newOrder\"/>"                                                \
    "<bpmn:signal id=\"sAlarm\" name=\"alarm\"/>"                                                  \
    "<bpmn:process id=\"orderflow\" isExecutable=\"true\">"                                        \
    "<bpmn:startEvent id=\"s\"/>"                                                                  \
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"waitPay\"/>"                         \
    "<bpmn:receiveTask id=\"waitPay\" messageRef=\"mPaid\"/>"                                      \
    "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"waitPay\" targetRef=\"ship\"/>"                      \
    "<bpmn:userTask id=\"ship\"/>"                                                                 \
    "<bpmn:sequenceFlow id=\"f3\" sourceRef=\"ship\" targetRef=\"e\"/>"                            \
    "<bpmn:endEvent id=\"e\"/></bpmn:process>"                                                     \
    "<bpmn:process id=\"onorder\" isExecutable=\"true\">"                                          \
    "<bpmn:startEvent id=\"ms\"><bpmn:messageEventDefinition messageRef=\"mNew\"/>"                \
    "</bpmn:startEvent>"                                                                           \
    "<bpmn:sequenceFlow id=\"g1\" sourceRef=\"ms\" targetRef=\"handle\"/>"                         \
    "<bpmn:userTask id=\"handle\"/></bpmn:process>"                                                \
    "<bpmn:process id=\"alarmed\" isExecutable=\"true\">"                                          \
    "<bpmn:startEvent id=\"as\"/>"                                                                 \
    "<bpmn:sequenceFlow id=\"h1\" sourceRef=\"as\" targetRef=\"wait\"/>"                           \
    "<bpmn:intermediateCatchEvent id=\"wait\">"                                                    \
    "<bpmn:signalEventDefinition signalRef=\"sAlarm\"/></bpmn:intermediateCatchEvent>"             \
    "<bpmn:sequenceFlow id=\"h2\" sourceRef=\"wait\" targetRef=\"react\"/>"                        \
    "<bpmn:userTask id=\"react\"/></bpmn:process>"                                                 \
    "<bpmn:process id=\"thrower\" isExecutable=\"true\">"                                          \
    "<bpmn:startEvent id=\"ts\"/>"                                                                 \
    "<bpmn:sequenceFlow id=\"i1\" sourceRef=\"ts\" targetRef=\"throw\"/>"                          \
    "<bpmn:intermediateThrowEvent id=\"throw\">"                                                   \
    "<bpmn:signalEventDefinition signalRef=\"sAlarm\"/></bpmn:intermediateThrowEvent>"             \
    "<bpmn:sequenceFlow id=\"i2\" sourceRef=\"throw\" targetRef=\"te\"/>"                          \
    "<bpmn:endEvent id=\"te\"/></bpmn:process>"                                                    \
    "<bpmn:process id=\"sender\" isExecutable=\"true\">"                                           \
    "<bpmn:startEvent id=\"ss\"/>"                                                                 \
    "<bpmn:sequenceFlow id=\"j1\" sourceRef=\"ss\" targetRef=\"send\"/>"                           \
    "<bpmn:sendTask id=\"send\" messageRef=\"mPaid\"/>"                                            \
    "<bpmn:sequenceFlow id=\"j2\" sourceRef=\"send\" targetRef=\"se\"/>"                           \
    "<bpmn:endEvent id=\"se\"/></bpmn:process>"                                                    \
    "</bpmn:definitions>"

static struct fl_service *open_messages_cache(struct fixture *f, unsigned cache)
{
    struct fl_service_options o = {.db_url = f->url,
                                   .synchronous = 0,
                                   .synchronous_set = true,
                                   .test_clock = true,
                                   .test_clock_start_ms = T0,
                                   .instance_cache = cache};
    struct fl_deploy_result r[8];
    struct fl_error e;
    size_t n;
    fl_error_clear(&e);
    assert_int_equal(fl_service_open(&o, &f->svc, &e), 0);
    if (fl_service_deploy(f->svc, MESSAGES_XML, strlen(MESSAGES_XML), r, 8, &n, &e) != 0)
        fail_msg("deploy: %s (%s line %d)", e.msg, e.element, e.line);
    assert_int_equal(n, 5);
    return f->svc;
}

static struct fl_service *open_messages(struct fixture *f)
{
    return open_messages_cache(f, 0);
}

static int start(struct fixture *f, const char *key, const char *vars_json, struct fl_result *res)
{
    struct fl_value *vars = NULL;
    struct fl_command c = {.kind = FL_CMD_START, .process_key = key};
    int rc;
    if (vars_json)
        assert_int_equal(fl_value_from_json(vars_json, strlen(vars_json), &vars, NULL), 0);
    c.variables = vars;
    rc = fl_service_run(f->svc, &c, res);
    fl_value_unref(vars);
    return rc;
}

static int publish(struct fixture *f, const char *name, const char *key, const char *vars_json,
                   int64_t ttl, const char *message_id, struct fl_result *res)
{
    struct fl_value *vars = NULL;
    struct fl_command c = {.kind = FL_CMD_PUBLISH_MESSAGE,
                           .message_name = name,
                           .correlation_key = key,
                           .ttl_ms = ttl,
                           .message_id = message_id};
    int rc;
    if (vars_json)
        assert_int_equal(fl_value_from_json(vars_json, strlen(vars_json), &vars, NULL), 0);
    c.variables = vars;
    rc = fl_service_run(f->svc, &c, res);
    fl_value_unref(vars);
    return rc;
}

/* Instance id has exactly one open task, at node (NULL: none at all). */
static void open_task_at(struct fixture *f, uint64_t id, const char *node)
{
    struct fl_store *rd = reader(f);
    struct fl_task_query q = {.open_only = true, .instance_id = id};
    struct fl_task_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(fl_store_task_list(rd, &q, &rows, &n, NULL), 0);
    if (!node) {
        assert_int_equal(n, 0);
    } else {
        assert_int_equal(n, 1);
        assert_string_equal(rows[0].node_id, node);
    }
    for (size_t i = 0; i < n; i++)
        fl_task_row_release(&rows[i]);
    free(rows);
    fl_store_close(rd);
}

static const char *variable(struct fixture *f, uint64_t id, const char *name, char *buf, size_t len)
{
    struct fl_store *rd = reader(f);
    struct fl_instance *inst = NULL;
    const struct fl_value *v;
    struct fl_buf b = FL_BUF_INIT;
    assert_int_equal(fl_store_instance_load(rd, id, &inst, NULL), 0);
    v = fl_value_context_get(inst->variables, name, strlen(name));
    buf[0] = '\0';
    if (v) {
        fl_value_to_json(v, &b);
        snprintf(buf, len, "%s", b.ptr);
    }
    fl_buf_release(&b);
    fl_instance_free(inst);
    fl_store_close(rd);
    return buf;
}

static void buffered_then_taken(void **state)
{
    struct fixture *f = *state;
    struct fl_result res, st;
    char buf[64];
    open_messages(f);
    assert_int_equal(publish(f, "paid", "A", "{\"amount\":5}", -1, NULL, &res), 0);
    assert_int_equal(res.message_outcome, FL_MESSAGE_BUFFERED);
    assert_true(res.message_id > 0);
    assert_int_equal(res.expires_at, T0 + 3600000);
    assert_int_equal(res.instance_id, 0);
    /* another key is not taken by it */
    assert_int_equal(start(f, "orderflow", "{\"orderId\":\"Z\"}", &st), 0);
    open_task_at(f, st.instance_id, NULL);
    /* the subscription opened by this start takes the buffered message in its transaction */
    assert_int_equal(start(f, "orderflow", "{\"orderId\":\"A\"}", &st), 0);
    open_task_at(f, st.instance_id, "ship");
    assert_string_equal(variable(f, st.instance_id, "amount", buf, sizeof(buf)), "5");
    /* taken once: a third instance with the same key waits */
    assert_int_equal(start(f, "orderflow", "{\"orderId\":\"A\"}", &st), 0);
    open_task_at(f, st.instance_id, NULL);
}

static void ttl_zero_refused(void **state)
{
    struct fixture *f = *state;
    struct fl_result res, st;
    open_messages(f);
    assert_int_equal(publish(f, "paid", "nobody", NULL, 0, NULL, &res), FL_ENOTFOUND);
    assert_non_null(strstr(res.err.msg, "time_to_live is 0"));
    assert_string_equal(res.err.field, "time_to_live");
    /* and it was not buffered */
    assert_int_equal(start(f, "orderflow", "{\"orderId\":\"nobody\"}", &st), 0);
    open_task_at(f, st.instance_id, NULL);
    /* a nameless message is refused */
    assert_int_equal(publish(f, "", NULL, NULL, 0, NULL, &res), FL_EINVAL);
}

static void correlate_dedupe_and_start(void **state)
{
    struct fixture *f = *state;
    struct fl_result res, st, again;
    open_messages(f);
    assert_int_equal(start(f, "orderflow", "{\"orderId\":\"B\"}", &st), 0);
    open_task_at(f, st.instance_id, NULL);
    assert_int_equal(publish(f, "paid", "B", NULL, 0, "client-7", &res), 0);
    assert_int_equal(res.message_outcome, FL_MESSAGE_CORRELATED);
    assert_int_equal(res.instance_id, st.instance_id);
    assert_false(res.duplicate);
    open_task_at(f, st.instance_id, "ship");
    /* TTL 0: nothing kept, so the same id publishes anew -- and nothing waits now */
    assert_int_equal(publish(f, "paid", "B", NULL, 0, "client-7", &again), FL_ENOTFOUND);

    /* with a TTL the answer is kept: a retry gets the first answer */
    assert_int_equal(start(f, "orderflow", "{\"orderId\":\"C\"}", &st), 0);
    assert_int_equal(publish(f, "paid", "C", NULL, 60000, "client-8", &res), 0);
    assert_int_equal(res.message_outcome, FL_MESSAGE_CORRELATED);
    assert_int_equal(start(f, "orderflow", "{\"orderId\":\"C\"}", &again), 0);
    assert_int_equal(publish(f, "paid", "C", NULL, 60000, "client-8", &again), 0);
    assert_true(again.duplicate);
    assert_int_equal(again.message_outcome, FL_MESSAGE_CORRELATED);
    assert_int_equal(again.instance_id, st.instance_id);
    assert_int_equal(again.message_id, res.message_id);

    /* a message start event */
    assert_int_equal(publish(f, "newOrder", NULL, "{\"n\":1}", 0, NULL, &res), 0);
    assert_int_equal(res.message_outcome, FL_MESSAGE_STARTED);
    assert_true(res.instance_id > 0);
    open_task_at(f, res.instance_id, "handle");
}

static void signal_broadcast(void **state)
{
    struct fixture *f = *state;
    struct fl_result a, b, res, t;
    struct fl_command c = {.kind = FL_CMD_BROADCAST_SIGNAL, .message_name = "alarm"};
    open_messages(f);
    assert_int_equal(start(f, "alarmed", NULL, &a), 0);
    assert_int_equal(start(f, "alarmed", NULL, &b), 0);
    open_task_at(f, a.instance_id, NULL);
    assert_int_equal(fl_service_run(f->svc, &c, &res), 0);
    assert_int_equal(res.n_correlated, 2);
    assert_int_equal(res.n_started, 0);
    open_task_at(f, a.instance_id, "react");
    open_task_at(f, b.instance_id, "react");
    /* nobody waits now */
    assert_int_equal(fl_service_run(f->svc, &c, &res), 0);
    assert_int_equal(res.n_correlated, 0);

    /* a throw event broadcasts in the thrower's transaction */
    assert_int_equal(start(f, "alarmed", NULL, &a), 0);
    assert_int_equal(start(f, "thrower", NULL, &t), 0);
    assert_int_equal(t.instance_status, FL_INSTANCE_COMPLETED);
    open_task_at(f, a.instance_id, "react");
}

/* With a cache of one instance every instance a cascade reaches evicts the one before:
 * the cascade must not hold on to an evicted instance. */
static void cascades_with_a_tiny_cache(void **state)
{
    struct fixture *f = *state;
    struct fl_result a, b, t, w, s, res;
    open_messages_cache(f, 1);
    assert_int_equal(start(f, "alarmed", NULL, &a), 0);
    assert_int_equal(start(f, "alarmed", NULL, &b), 0);
    assert_int_equal(start(f, "thrower", NULL, &t), 0);
    open_task_at(f, a.instance_id, "react");
    open_task_at(f, b.instance_id, "react");
    assert_int_equal(start(f, "orderflow", "{\"orderId\":\"G\"}", &w), 0);
    assert_int_equal(start(f, "sender", "{\"orderId\":\"G\"}", &s), 0);
    open_task_at(f, w.instance_id, "ship");
    assert_int_equal(publish(f, "paid", "H", NULL, -1, NULL, &res), 0);
    assert_int_equal(start(f, "orderflow", "{\"orderId\":\"H\"}", &w), 0);
    open_task_at(f, w.instance_id, "ship");
}

static void outbox_delivered(void **state)
{
    struct fixture *f = *state;
    struct fl_result w, s;
    struct fl_store *rd;
    struct fl_outbox_row *rows = NULL;
    size_t n = 0;
    open_messages(f);
    assert_int_equal(start(f, "orderflow", "{\"orderId\":\"D\"}", &w), 0);
    assert_int_equal(start(f, "sender", "{\"orderId\":\"D\"}", &s), 0);
    open_task_at(f, w.instance_id, "ship");
    /* a second send finds nobody: it stays in the outbox, undelivered */
    assert_int_equal(start(f, "sender", "{\"orderId\":\"E\"}", &s), 0);
    rd = reader(f);
    assert_int_equal(fl_store_outbox_list(rd, 0, 0, false, &rows, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_true(rows[0].delivered_at > 0);
    assert_int_equal(rows[1].delivered_at, 0);
    assert_string_equal(rows[1].correlation_key, "E");
    assert_int_equal(rows[1].instance_id, s.instance_id);
    fl_outbox_rows_free(rows, n);
    assert_int_equal(fl_store_outbox_list(rd, 0, 0, true, &rows, &n, NULL), 0);
    assert_int_equal(n, 1);
    fl_outbox_rows_free(rows, n);
    fl_store_close(rd);
}

static void buffered_message_expires(void **state)
{
    struct fixture *f = *state;
    struct fl_result res, st;
    open_messages(f);
    assert_int_equal(publish(f, "paid", "F", NULL, 1000, NULL, &res), 0);
    assert_int_equal(res.message_outcome, FL_MESSAGE_BUFFERED);
    assert_int_equal(fl_service_clock_set(f->svc, T0 + 1000), 0);
    assert_int_equal(start(f, "orderflow", "{\"orderId\":\"F\"}", &st), 0);
    open_task_at(f, st.instance_id, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(buffered_then_taken, setup, teardown),
        cmocka_unit_test_setup_teardown(ttl_zero_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(correlate_dedupe_and_start, setup, teardown),
        cmocka_unit_test_setup_teardown(signal_broadcast, setup, teardown),
        cmocka_unit_test_setup_teardown(outbox_delivered, setup, teardown),
        cmocka_unit_test_setup_teardown(cascades_with_a_tiny_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(buffered_message_expires, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
