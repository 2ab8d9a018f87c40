/* Service tests of call activities through the writer: a parent calls a child process
 * deployed alongside, in the transaction of the command that reached the call; the child's
 * user task is completed and the parent continues with the child's variables; an unknown
 * called process becomes an incident at the call activity; cancelling the parent cancels
 * the child; an error the child throws is caught by the call activity's boundary event; an
 * escalation the child does not catch reaches the call activity's boundary events -- a
 * non-interrupting one lets the child go on, an interrupting one cancels it. */
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

#define ZEEBE_CALL(id, key)                                                                        \
    "<bpmn:callActivity id=\"" id "\"><bpmn:extensionElements>"                                    \
    "<zeebe:calledElement processId=\"" key "\"/></bpmn:extensionElements></bpmn:callActivity>"

#define CALLS_XML                                                                                  \
    "<?xml version=\"1.0\"?><bpmn:definitions"                                                     \
    " xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\""                                  \
    " xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\">"                                        \
    "<bpmn:error id=\"err\" errorCode=\"E_STOCK\"/>"                                               \
    "<bpmn:process id=\"parent\" isExecutable=\"true\"><bpmn:startEvent id=\"s\"/>"                \
    "<bpmn:sequenceFlow id=\"f0\" sourceRef=\"s\" targetRef=\"call\"/>" ZEEBE_CALL("call", "child") \
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"call\" targetRef=\"after\"/>"                        \
    "<bpmn:userTask id=\"after\"/>"                                                                \
    "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"after\" targetRef=\"e\"/>"                           \
    "<bpmn:endEvent id=\"e\"/>"                                                                    \
    "<bpmn:boundaryEvent id=\"caught\" attachedToRef=\"call\">"                                    \
    "<bpmn:errorEventDefinition errorRef=\"err\"/></bpmn:boundaryEvent>"                           \
    "<bpmn:sequenceFlow id=\"f3\" sourceRef=\"caught\" targetRef=\"handle\"/>"                     \
    "<bpmn:userTask id=\"handle\"/>"                                                               \
    "<bpmn:sequenceFlow id=\"f4\" sourceRef=\"handle\" targetRef=\"e2\"/>"                         \
    "<bpmn:endEvent id=\"e2\"/></bpmn:process>"                                                    \
    "<bpmn:process id=\"lost\" isExecutable=\"true\"><bpmn:startEvent id=\"ls\"/>"                 \
    "<bpmn:sequenceFlow id=\"l0\" sourceRef=\"ls\" targetRef=\"lcall\"/>"                          \
    ZEEBE_CALL("lcall", "no-such-process")                                                         \
    "<bpmn:sequenceFlow id=\"l1\" sourceRef=\"lcall\" targetRef=\"le\"/>"                          \
    "<bpmn:endEvent id=\"le\"/></bpmn:process>"                                                    \
    "<bpmn:process id=\"child\" isExecutable=\"true\"><bpmn:startEvent id=\"cs\"/>"                \
    "<bpmn:sequenceFlow id=\"c0\" sourceRef=\"cs\" targetRef=\"review\"/>"                         \
    "<bpmn:userTask id=\"review\"/>"                                                               \
    "<bpmn:sequenceFlow id=\"c1\" sourceRef=\"review\" targetRef=\"gw\"/>"                         \
    "<bpmn:exclusiveGateway id=\"gw\" default=\"c2\"/>"                                            \
    "<bpmn:sequenceFlow id=\"c2\" sourceRef=\"gw\" targetRef=\"ce\"/>"                             \
    "<bpmn:sequenceFlow id=\"c3\" sourceRef=\"gw\" targetRef=\"fail\">"                            \
    "<bpmn:conditionExpression>=approved = false</bpmn:conditionExpression>"                       \
    "</bpmn:sequenceFlow>"                                                                         \
    "<bpmn:endEvent id=\"ce\"/>"                                                                   \
    "<bpmn:endEvent id=\"fail\"><bpmn:errorEventDefinition errorRef=\"err\"/></bpmn:endEvent>"     \
    "</bpmn:process></bpmn:definitions>"

/* esc-parent calls esc-child; esc-child throws escalation LATE, then waits at "work". The
 * parent's boundary is non-interrupting (notify) unless variable stop is true, which takes
 * the child's other path to ESTOP, caught by an interrupting boundary (stopped). */
#define ESC_XML                                                                                    \
    "<?xml version=\"1.0\"?><bpmn:definitions"                                                     \
    " xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\""                                  \
    " xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\">"                                        \
    "<bpmn:escalation id=\"late\" escalationCode=\"LATE\"/>"                                       \
    "<bpmn:escalation id=\"stop\" escalationCode=\"ESTOP\"/>"                                      \
    "<bpmn:process id=\"esc-parent\" isExecutable=\"true\"><bpmn:startEvent id=\"s\"/>"            \
    "<bpmn:sequenceFlow id=\"f0\" sourceRef=\"s\" targetRef=\"call\"/>"                              \
    "<bpmn:callActivity id=\"call\"><bpmn:extensionElements>"                                      \
    "<zeebe:calledElement processId=\"esc-child\" propagateAllChildVariables=\"false\"/>"          \
    "</bpmn:extensionElements></bpmn:callActivity>"                                               \
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"call\" targetRef=\"e\"/><bpmn:endEvent id=\"e\"/>"    \
    "<bpmn:boundaryEvent id=\"b1\" attachedToRef=\"call\" cancelActivity=\"false\">"               \
    "<bpmn:escalationEventDefinition escalationRef=\"late\"/></bpmn:boundaryEvent>"               \
    "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"b1\" targetRef=\"notify\"/>"                          \
    "<bpmn:userTask id=\"notify\"/><bpmn:sequenceFlow id=\"f3\" sourceRef=\"notify\" targetRef=\"e2\"/>" \
    "<bpmn:endEvent id=\"e2\"/>"                                                                   \
    "<bpmn:boundaryEvent id=\"b2\" attachedToRef=\"call\">"                                        \
    "<bpmn:escalationEventDefinition escalationRef=\"stop\"/></bpmn:boundaryEvent>"               \
    "<bpmn:sequenceFlow id=\"f4\" sourceRef=\"b2\" targetRef=\"stopped\"/>"                         \
    "<bpmn:userTask id=\"stopped\"/><bpmn:sequenceFlow id=\"f5\" sourceRef=\"stopped\" targetRef=\"e3\"/>" \
    "<bpmn:endEvent id=\"e3\"/></bpmn:process>"                                                    \
    "<bpmn:process id=\"esc-child\" isExecutable=\"true\"><bpmn:startEvent id=\"cs\"/>"            \
    "<bpmn:sequenceFlow id=\"c0\" sourceRef=\"cs\" targetRef=\"gw\"/>"                               \
    "<bpmn:exclusiveGateway id=\"gw\" default=\"c1\"/>"                                            \
    "<bpmn:sequenceFlow id=\"c1\" sourceRef=\"gw\" targetRef=\"t1\"/>"                               \
    "<bpmn:sequenceFlow id=\"c2\" sourceRef=\"gw\" targetRef=\"t2\">"                                \
    "<bpmn:conditionExpression>=stop = true</bpmn:conditionExpression></bpmn:sequenceFlow>"       \
    "<bpmn:intermediateThrowEvent id=\"t1\"><bpmn:escalationEventDefinition escalationRef=\"late\"/>" \
    "</bpmn:intermediateThrowEvent>"                                                              \
    "<bpmn:intermediateThrowEvent id=\"t2\"><bpmn:escalationEventDefinition escalationRef=\"stop\"/>" \
    "</bpmn:intermediateThrowEvent>"                                                              \
    "<bpmn:sequenceFlow id=\"c3\" sourceRef=\"t1\" targetRef=\"work\"/>"                             \
    "<bpmn:sequenceFlow id=\"c4\" sourceRef=\"t2\" targetRef=\"work\"/>"                             \
    "<bpmn:userTask id=\"work\"/><bpmn:sequenceFlow id=\"c5\" sourceRef=\"work\" targetRef=\"ce\"/>"  \
    "<bpmn:endEvent id=\"ce\"/></bpmn:process></bpmn:definitions>"

struct calls {
    struct fixture *f;
    struct fl_store *rd;
};

static uint64_t start(struct calls *c, const char *key, const char *vars_json,
                      struct fl_result *res)
{
    struct fl_value *vars = NULL;
    struct fl_command cmd = start_cmd(NULL);
    cmd.process_key = key;
    if (vars_json)
        assert_int_equal(fl_value_from_json(vars_json, strlen(vars_json), &vars, NULL), 0);
    cmd.variables = vars;
    if (fl_service_run(c->f->svc, &cmd, res) != 0)
        fail_msg("start %s: %s", key, res->err.msg);
    assert_int_equal(res->rc, 0);
    fl_value_unref(vars);
    return res->instance_id;
}

/* Deploy the processes above. */
static void prepare(struct calls *c, struct fixture *f)
{
    struct fl_deploy_result r[3];
    struct fl_error e;
    size_t n;

    c->f = f;
    f->svc = open_svc(f, 0, 0);
    fl_error_clear(&e);
    if (fl_service_deploy(f->svc, CALLS_XML, strlen(CALLS_XML), r, 3, &n, &e) != 0)
        fail_msg("deploy: %s (line %d)", e.msg, e.line);
    assert_int_equal(n, 3);
    c->rd = reader(f);
}

static int complete(struct calls *c, uint64_t iid, uint64_t task, const char *vars_json)
{
    struct fl_value *vars = NULL;
    struct fl_command done = complete_cmd(iid, task);
    struct fl_result res;
    if (vars_json)
        assert_int_equal(fl_value_from_json(vars_json, strlen(vars_json), &vars, NULL), 0);
    done.variables = vars;
    assert_int_equal(fl_service_run(c->f->svc, &done, &res), 0);
    fl_value_unref(vars);
    return res.rc;
}

static uint64_t event_ref(struct calls *c, uint64_t iid, enum fl_event_type type)
{
    struct fl_event_row *ev;
    uint64_t ref = 0;
    size_t n;
    assert_int_equal(fl_store_history(c->rd, iid, &ev, &n, NULL), 0);
    for (size_t i = 0; i < n && !ref; i++)
        if (ev[i].type == (int)type)
            ref = ev[i].ref_id;
    fl_event_rows_free(ev, n);
    return ref;
}

static void instance_row(struct calls *c, uint64_t iid, struct fl_instance_row *row)
{
    assert_int_equal(fl_store_instance_get(c->rd, iid, row, NULL), 0);
}

static void test_parent_child_round_trip(void **state)
{
    struct calls c;
    struct fl_result res;
    struct fl_instance_row row;
    struct fl_task_row task;
    (void)state;
    prepare(&c, *state);

    uint64_t parent = start(&c, "parent", "{\"order\":\"o-1\"}", &res);
    assert_int_equal(res.instance_status, FL_INSTANCE_ACTIVE);
    assert_false(res.incident);
    /* The child started in the same command, with the parent's variables. */
    uint64_t child = event_ref(&c, parent, FL_EV_CALL_STARTED);
    assert_true(child > 0);
    instance_row(&c, child, &row);
    assert_string_equal(row.process_key, "child");
    assert_int_equal(row.status, FL_INSTANCE_ACTIVE);
    assert_string_equal(row.variables_json, "{\"order\":\"o-1\"}");
    fl_instance_row_release(&row);
    uint64_t review = event_ref(&c, child, FL_EV_TASK_CREATED);
    assert_true(review > 0);
    assert_int_equal(fl_store_task_get(c.rd, review, &task, NULL), 0);
    assert_string_equal(task.node_id, "review");
    fl_task_row_release(&task);

    /* Completing the child's task ends the child and moves the parent on, in one go. */
    assert_int_equal(complete(&c, child, review, "{\"approved\":true}"), 0);
    instance_row(&c, child, &row);
    assert_int_equal(row.status, FL_INSTANCE_COMPLETED);
    fl_instance_row_release(&row);
    instance_row(&c, parent, &row);
    assert_int_equal(row.status, FL_INSTANCE_ACTIVE);
    assert_string_equal(row.variables_json, "{\"approved\":true,\"order\":\"o-1\"}");
    fl_instance_row_release(&row);
    uint64_t after = event_ref(&c, parent, FL_EV_TASK_CREATED);
    assert_int_equal(fl_store_task_get(c.rd, after, &task, NULL), 0);
    assert_string_equal(task.node_id, "after");
    fl_task_row_release(&task);
    fl_store_close(c.rd);
}

static void test_unknown_process_is_an_incident(void **state)
{
    struct calls c;
    struct fl_result res;
    struct fl_instance_row row;
    struct fl_event_row *ev;
    size_t n;
    bool found = false;
    (void)state;
    prepare(&c, *state);

    uint64_t parent = start(&c, "lost", NULL, &res);
    assert_int_equal(res.instance_status, FL_INSTANCE_ACTIVE);
    instance_row(&c, parent, &row);
    assert_true(row.incident);
    fl_instance_row_release(&row);
    assert_int_equal(fl_store_history(c.rd, parent, &ev, &n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        if (ev[i].type == FL_EV_INCIDENT_RAISED && ev[i].detail &&
            strstr(ev[i].detail, "no-such-process"))
            found = true;
    fl_event_rows_free(ev, n);
    assert_true(found);
    fl_store_close(c.rd);
}

static void test_cancel_parent_cancels_child(void **state)
{
    struct calls c;
    struct fl_result res;
    struct fl_instance_row row;
    (void)state;
    prepare(&c, *state);

    uint64_t parent = start(&c, "parent", NULL, &res);
    uint64_t child = event_ref(&c, parent, FL_EV_CALL_STARTED);
    struct fl_command cancel = {.kind = FL_CMD_CANCEL, .instance_id = parent, .reason = "test"};
    assert_int_equal(fl_service_run(c.f->svc, &cancel, &res), 0);
    assert_int_equal(res.rc, 0);
    instance_row(&c, child, &row);
    assert_int_equal(row.status, FL_INSTANCE_CANCELLED);
    fl_instance_row_release(&row);
    instance_row(&c, parent, &row);
    assert_int_equal(row.status, FL_INSTANCE_CANCELLED);
    assert_false(row.incident);
    fl_instance_row_release(&row);

    /* A child cancelled on its own leaves an incident at the parent's call activity. */
    parent = start(&c, "parent", NULL, &res);
    child = event_ref(&c, parent, FL_EV_CALL_STARTED);
    cancel.instance_id = child;
    assert_int_equal(fl_service_run(c.f->svc, &cancel, &res), 0);
    assert_int_equal(res.rc, 0);
    instance_row(&c, parent, &row);
    assert_int_equal(row.status, FL_INSTANCE_ACTIVE);
    assert_true(row.incident);
    fl_instance_row_release(&row);
    fl_store_close(c.rd);
}

/* An error end event in the child is thrown at the call activity, whose error boundary
 * event catches it: the parent takes the boundary's path, the child ends. */
static void test_child_error_caught_by_the_caller(void **state)
{
    struct calls c;
    struct fl_result res;
    struct fl_instance_row row;
    struct fl_task_row task;
    (void)state;
    prepare(&c, *state);

    uint64_t parent = start(&c, "parent", NULL, &res);
    uint64_t child = event_ref(&c, parent, FL_EV_CALL_STARTED);
    uint64_t review = event_ref(&c, child, FL_EV_TASK_CREATED);
    assert_int_equal(complete(&c, child, review, "{\"approved\":false}"), 0);
    instance_row(&c, child, &row);
    assert_int_not_equal(row.status, FL_INSTANCE_ACTIVE);
    fl_instance_row_release(&row);
    instance_row(&c, parent, &row);
    assert_int_equal(row.status, FL_INSTANCE_ACTIVE);
    assert_false(row.incident);
    fl_instance_row_release(&row);
    uint64_t handle = event_ref(&c, parent, FL_EV_TASK_CREATED);
    assert_int_equal(fl_store_task_get(c.rd, handle, &task, NULL), 0);
    assert_string_equal(task.node_id, "handle");
    fl_task_row_release(&task);
    fl_store_close(c.rd);
}

/* The node id of the task the instance's history created last (NULL when none); static. */
static const char *last_task_node(struct calls *c, uint64_t iid)
{
    static char node[64];
    struct fl_event_row *ev;
    size_t n;
    node[0] = 0;
    assert_int_equal(fl_store_history(c->rd, iid, &ev, &n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        if (ev[i].type == FL_EV_TASK_CREATED && ev[i].node_id)
            snprintf(node, sizeof(node), "%s", ev[i].node_id);
    fl_event_rows_free(ev, n);
    return node[0] ? node : NULL;
}

static void test_child_escalation_reaches_the_caller(void **state)
{
    struct calls c;
    struct fl_result res;
    struct fl_instance_row row;
    struct fl_deploy_result r[2];
    struct fl_error e;
    size_t n;
    (void)state;
    prepare(&c, *state);
    fl_error_clear(&e);
    if (fl_service_deploy(c.f->svc, ESC_XML, strlen(ESC_XML), r, 2, &n, &e) != 0)
        fail_msg("deploy: %s (line %d)", e.msg, e.line);

    /* non-interrupting: the parent gets "notify", the child goes on to "work" */
    uint64_t parent = start(&c, "esc-parent", "{\"stop\":false}", &res);
    uint64_t child = event_ref(&c, parent, FL_EV_CALL_STARTED);
    assert_true(child != 0);
    assert_string_equal(last_task_node(&c, parent), "notify");
    assert_string_equal(last_task_node(&c, child), "work");
    instance_row(&c, child, &row);
    assert_int_equal(row.status, FL_INSTANCE_ACTIVE);
    fl_instance_row_release(&row);

    /* interrupting: the call activity is cancelled, and the child with it */
    parent = start(&c, "esc-parent", "{\"stop\":true}", &res);
    child = event_ref(&c, parent, FL_EV_CALL_STARTED);
    assert_string_equal(last_task_node(&c, parent), "stopped");
    instance_row(&c, child, &row);
    assert_int_equal(row.status, FL_INSTANCE_CANCELLED);
    fl_instance_row_release(&row);
    instance_row(&c, parent, &row);
    assert_int_equal(row.status, FL_INSTANCE_ACTIVE);
    assert_false(row.incident);
    fl_instance_row_release(&row);
    fl_store_close(c.rd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parent_child_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_process_is_an_incident, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_parent_cancels_child, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_error_caught_by_the_caller, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_escalation_reaches_the_caller, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
