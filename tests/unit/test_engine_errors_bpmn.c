/* Engine tests of errors, escalations, compensation and cancel on models read from BPMN
 * text: propagation out of embedded subprocesses to boundary events on them and to event
 * subprocesses inside them, uncaught errors in a subprocess, a job worker's error caught
 * outside its subprocess, compensation handlers through associations, and a transaction
 * cancelled by a cancel end event. */
#include "engine_fixture.h"

#include <stdio.h>

#define NS                                                                                         \
    "xmlns=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "                                       \
    "xmlns:camunda=\"http://camunda.org/schema/1.0/bpmn\" "                                        \
    "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\""

#define DOC(body)                                                                                  \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<definitions " NS                                 \
    " id=\"d\" targetNamespace=\"t\">\n"                                                            \
    "<error id=\"err1\" errorCode=\"E1\"/><escalation id=\"esc1\" escalationCode=\"LATE\"/>\n"     \
    "<process id=\"p\" isExecutable=\"true\">\n" body "</process></definitions>\n"

#define JOB(id, type)                                                                              \
    "<serviceTask id=\"" id "\"><extensionElements><zeebe:taskDefinition type=\"" type "\"/>"     \
    "</extensionElements></serviceTask>"

static struct fl_model *read_model(const char *xml)
{
    struct fl_bpmn_doc *doc = NULL;
    struct fl_error err;
    struct fl_model *m;
    fl_error_clear(&err);
    if (fl_bpmn_read(xml, strlen(xml), &doc, &err) != 0)
        fail_msg("model refused: %s (%s line %d)", err.msg, err.element, err.line);
    m = fl_bpmn_doc_take(doc, 0);
    fl_bpmn_doc_free(doc);
    return m;
}

static void env(struct t_env *t, const char *xml)
{
    t_env_init(t, read_model(xml));
}

static void release(struct t_env *t)
{
    fl_instance_free(t->inst);
    fl_effects_release(&t->fx);
    fl_model_free(t->m);
}

/* The open task at node id (the task of its resting token). */
static uint64_t task_at(const struct t_env *t, const char *id)
{
    const struct fl_token *k = inst_token_at(t, id);
    if (!k || !k->task_id)
        fail_msg("no task at '%s'", id);
    return k->task_id;
}

static uint64_t job_at(const struct t_env *t, const char *id)
{
    const struct fl_token *k = inst_token_at(t, id);
    if (!k || !k->job_id)
        fail_msg("no job at '%s'", id);
    return k->job_id;
}

static const char *incident_msg(const struct t_env *t)
{
    const struct fl_effect *e = fx_nth(&t->fx, FL_FX_INCIDENT, 0);
    return e ? e->u.incident.message : "";
}

/* sub: (s -> fork -> work (user task) | fail (error end E1)); boundary on sub catches E1 */
static const char sub_error[] = DOC(
    "<startEvent id=\"start\"/><sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"sub\"/>"
    "<subProcess id=\"sub\">"
    " <startEvent id=\"s\"/><sequenceFlow id=\"g1\" sourceRef=\"s\" targetRef=\"gate\"/>"
    " <userTask id=\"gate\"/><sequenceFlow id=\"g2\" sourceRef=\"gate\" targetRef=\"fork\"/>"
    " <parallelGateway id=\"fork\"/>"
    " <sequenceFlow id=\"g3\" sourceRef=\"fork\" targetRef=\"work\"/>"
    " <sequenceFlow id=\"g4\" sourceRef=\"fork\" targetRef=\"fail\"/>"
    " <userTask id=\"work\"/>"
    " <endEvent id=\"fail\"><errorEventDefinition errorRef=\"err1\"/></endEvent>"
    "</subProcess>"
    "<sequenceFlow id=\"f2\" sourceRef=\"sub\" targetRef=\"done\"/><endEvent id=\"done\"/>"
    "<boundaryEvent id=\"caught\" attachedToRef=\"sub\">"
    " <errorEventDefinition errorRef=\"err1\" camunda:errorCodeVariable=\"code\"/>"
    "</boundaryEvent>"
    "<sequenceFlow id=\"f3\" sourceRef=\"caught\" targetRef=\"repair\"/>"
    "<userTask id=\"repair\"/>");

static void test_error_end_in_subprocess_caught_by_boundary(void **state)
{
    struct t_env t;
    (void)state;
    env(&t, sub_error);
    t_start(&t, NULL);
    assert_int_equal(inst_token_at(&t, "sub")->state, FL_TOKEN_SCOPE);
    assert_int_equal(t_complete(&t, task_at(&t, "gate"), NULL), 0);
    /* work's task was opened and cancelled with the subprocess */
    assert_int_equal(ev_count(&t.fx, FL_EV_ERROR_CAUGHT), 1);
    assert_int_equal(ev_count(&t.fx, FL_EV_TASK_CANCELLED), 1);
    assert_null(inst_token_at(&t, "sub"));
    assert_null(inst_token_at(&t, "work"));
    assert_non_null(inst_token_at(&t, "repair"));
    assert_int_equal(t.inst->n_tokens, 1);
    assert_int_equal(inst_token_at(&t, "repair")->scope, 0);
    const struct fl_value *code = fl_value_context_get(t.inst->variables, "code", 4);
    size_t len;
    assert_non_null(code);
    assert_string_equal(fl_value_str(code, &len), "E1");
    assert_int_equal(fx_count(&t.fx, FL_FX_INCIDENT), 0);
    release(&t);
}

/* The same error with nothing to catch it: an incident at the error end event, inside
 * the subprocess, which keeps running. */
static void test_error_end_in_subprocess_uncaught(void **state)
{
    static const char xml[] = DOC(
        "<startEvent id=\"start\"/><sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"sub\"/>"
        "<subProcess id=\"sub\">"
        " <startEvent id=\"s\"/><sequenceFlow id=\"g1\" sourceRef=\"s\" targetRef=\"fail\"/>"
        " <endEvent id=\"fail\"><errorEventDefinition errorRef=\"err1\"/></endEvent>"
        "</subProcess>"
        "<sequenceFlow id=\"f2\" sourceRef=\"sub\" targetRef=\"done\"/><endEvent id=\"done\"/>"
        "<boundaryEvent id=\"other\" attachedToRef=\"sub\">"
        " <escalationEventDefinition escalationRef=\"esc1\"/></boundaryEvent>"
        "<sequenceFlow id=\"f3\" sourceRef=\"other\" targetRef=\"done\"/>");
    struct t_env t;
    (void)state;
    env(&t, xml);
    t_start(&t, NULL);
    assert_string_equal(incident_msg(&t), "error 'E1' thrown at 'fail' is not caught");
    const struct fl_token *k = inst_token_at(&t, "fail");
    assert_non_null(k);
    assert_int_equal(k->state, FL_TOKEN_INCIDENT);
    assert_int_equal(k->scope, inst_token_at(&t, "sub")->id);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    release(&t);
}

/* An error event subprocess inside the subprocess catches before the boundary on it. */
static void test_event_subprocess_inside_before_boundary(void **state)
{
    static const char xml[] = DOC(
        "<startEvent id=\"start\"/><sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"sub\"/>"
        "<subProcess id=\"sub\">"
        " <startEvent id=\"s\"/><sequenceFlow id=\"g1\" sourceRef=\"s\" targetRef=\"work\"/>"
        " " JOB("work", "w")
        " <sequenceFlow id=\"g2\" sourceRef=\"work\" targetRef=\"e\"/><endEvent id=\"e\"/>"
        " <subProcess id=\"onError\" triggeredByEvent=\"true\">"
        "  <startEvent id=\"es\"><errorEventDefinition/></startEvent>"
        "  <sequenceFlow id=\"h1\" sourceRef=\"es\" targetRef=\"fix\"/><userTask id=\"fix\"/>"
        "  <sequenceFlow id=\"h2\" sourceRef=\"fix\" targetRef=\"he\"/><endEvent id=\"he\"/>"
        " </subProcess>"
        "</subProcess>"
        "<sequenceFlow id=\"f2\" sourceRef=\"sub\" targetRef=\"after\"/><userTask id=\"after\"/>"
        "<boundaryEvent id=\"outer\" attachedToRef=\"sub\"><errorEventDefinition/></boundaryEvent>"
        "<sequenceFlow id=\"f3\" sourceRef=\"outer\" targetRef=\"done\"/><endEvent id=\"done\"/>");
    struct t_env t;
    struct fl_command cmd = {.kind = FL_CMD_THROW_ERROR, .error_code = "ANY"};
    (void)state;
    env(&t, xml);
    t_start(&t, NULL);
    cmd.target_id = job_at(&t, "work");
    assert_int_equal(t_apply(&t, &cmd), 0);
    const struct fl_event *ev = ev_nth(&t.fx, FL_EV_ERROR_CAUGHT, 0);
    assert_non_null(ev);
    assert_string_equal(ev->node_id, "es");
    assert_non_null(inst_token_at(&t, "sub"));
    assert_non_null(inst_token_at(&t, "onError"));
    assert_null(inst_token_at(&t, "work"));
    /* the event subprocess ends, then the subprocess, which goes on normally */
    assert_int_equal(t_complete(&t, task_at(&t, "fix"), NULL), 0);
    assert_null(inst_token_at(&t, "sub"));
    assert_non_null(inst_token_at(&t, "after"));
    release(&t);
}

/* A job worker's error inside a subprocess with no catcher of its own is caught by the
 * boundary on the subprocess; a catch-all there takes a code nobody names. */
static void test_job_error_caught_outside_subprocess(void **state)
{
    static const char xml[] = DOC(
        "<startEvent id=\"start\"/><sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"sub\"/>"
        "<subProcess id=\"sub\">"
        " <startEvent id=\"s\"/><sequenceFlow id=\"g1\" sourceRef=\"s\" targetRef=\"work\"/>"
        " " JOB("work", "w")
        " <sequenceFlow id=\"g2\" sourceRef=\"work\" targetRef=\"e\"/><endEvent id=\"e\"/>"
        "</subProcess>"
        "<sequenceFlow id=\"f2\" sourceRef=\"sub\" targetRef=\"done\"/><endEvent id=\"done\"/>"
        "<boundaryEvent id=\"outer\" attachedToRef=\"sub\"><errorEventDefinition/></boundaryEvent>"
        "<sequenceFlow id=\"f3\" sourceRef=\"outer\" targetRef=\"repair\"/>"
        "<userTask id=\"repair\"/>");
    struct t_env t;
    struct fl_command cmd = {.kind = FL_CMD_THROW_ERROR, .error_code = "X"};
    (void)state;
    env(&t, xml);
    t_start(&t, NULL);
    cmd.target_id = job_at(&t, "work");
    assert_int_equal(t_apply(&t, &cmd), 0);
    assert_null(inst_token_at(&t, "sub"));
    assert_null(inst_token_at(&t, "work"));
    assert_non_null(inst_token_at(&t, "repair"));
    assert_int_equal(fx_count(&t.fx, FL_FX_JOB_CLOSE), 1);
    release(&t);
}

/* Escalations out of a subprocess: the non-interrupting boundary sends a token out while
 * the subprocess goes on; the interrupting one (second run) cancels it. */
static const char sub_escalation[] = DOC(
    "<startEvent id=\"start\"/><sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"sub\"/>"
    "<subProcess id=\"sub\">"
    " <startEvent id=\"s\"/><sequenceFlow id=\"g1\" sourceRef=\"s\" targetRef=\"raise\"/>"
    " <intermediateThrowEvent id=\"raise\"><escalationEventDefinition escalationRef=\"esc1\"/>"
    " </intermediateThrowEvent>"
    " <sequenceFlow id=\"g2\" sourceRef=\"raise\" targetRef=\"work\"/><userTask id=\"work\"/>"
    " <sequenceFlow id=\"g3\" sourceRef=\"work\" targetRef=\"e\"/><endEvent id=\"e\"/>"
    "</subProcess>"
    "<sequenceFlow id=\"f2\" sourceRef=\"sub\" targetRef=\"done\"/><endEvent id=\"done\"/>"
    "<boundaryEvent id=\"told\" attachedToRef=\"sub\" cancelActivity=\"%s\">"
    " <escalationEventDefinition escalationRef=\"esc1\"/></boundaryEvent>"
    "<sequenceFlow id=\"f3\" sourceRef=\"told\" targetRef=\"tell\"/><userTask id=\"tell\"/>");

static void test_escalation_boundaries_on_subprocess(void **state)
{
    char xml[sizeof(sub_escalation) + 8];
    struct t_env t;
    (void)state;
    snprintf(xml, sizeof(xml), sub_escalation, "false");
    env(&t, xml);
    t_start(&t, NULL);
    assert_int_equal(ev_count(&t.fx, FL_EV_ESCALATION_THROWN), 1);
    assert_int_equal(ev_count(&t.fx, FL_EV_ERROR_CAUGHT), 1);
    assert_non_null(inst_token_at(&t, "sub"));
    assert_non_null(inst_token_at(&t, "work"));
    assert_non_null(inst_token_at(&t, "tell"));
    assert_int_equal(inst_token_at(&t, "tell")->scope, 0);
    release(&t);

    snprintf(xml, sizeof(xml), sub_escalation, "true");
    env(&t, xml);
    t_start(&t, NULL);
    assert_null(inst_token_at(&t, "sub"));
    assert_null(inst_token_at(&t, "work"));
    assert_non_null(inst_token_at(&t, "tell"));
    assert_int_equal(t.inst->n_tokens, 1);
    release(&t);
}

/* Compensation read from BPMN: handlers linked by associations, compensated latest
 * first when the throw event is reached; the throw waits for them. */
static void test_compensation_from_bpmn(void **state)
{
    static const char xml[] = DOC(
        "<startEvent id=\"start\"/><sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"book\"/>"
        "<userTask id=\"book\"/><sequenceFlow id=\"f2\" sourceRef=\"book\" targetRef=\"pay\"/>"
        "<userTask id=\"pay\"/><sequenceFlow id=\"f3\" sourceRef=\"pay\" targetRef=\"undo\"/>"
        "<intermediateThrowEvent id=\"undo\"><compensateEventDefinition/>"
        "</intermediateThrowEvent>"
        "<sequenceFlow id=\"f4\" sourceRef=\"undo\" targetRef=\"end\"/><endEvent id=\"end\"/>"
        "<boundaryEvent id=\"cb1\" attachedToRef=\"book\"><compensateEventDefinition/>"
        "</boundaryEvent>"
        "<boundaryEvent id=\"cb2\" attachedToRef=\"pay\"><compensateEventDefinition/>"
        "</boundaryEvent>"
        "<userTask id=\"unbook\" isForCompensation=\"true\"/>"
        "<userTask id=\"refund\" isForCompensation=\"true\"/>"
        "<association id=\"a1\" sourceRef=\"cb1\" targetRef=\"unbook\"/>"
        "<association id=\"a2\" sourceRef=\"cb2\" targetRef=\"refund\"/>");
    struct t_env t;
    (void)state;
    env(&t, xml);
    t_start(&t, NULL);
    assert_int_equal(t_complete(&t, task_at(&t, "book"), NULL), 0);
    assert_int_equal(t_complete(&t, task_at(&t, "pay"), NULL), 0);
    assert_int_equal(ev_count(&t.fx, FL_EV_COMPENSATED), 2);
    assert_string_equal(fx_task_of(&t.fx, 0)->node_id, "refund");
    assert_string_equal(fx_task_of(&t.fx, 1)->node_id, "unbook");
    assert_non_null(inst_token_at(&t, "undo"));
    assert_int_equal(t_complete(&t, task_at(&t, "refund"), NULL), 0);
    assert_int_equal(t_complete(&t, task_at(&t, "unbook"), NULL), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    release(&t);
}

/* A transaction cancelled by its cancel end event: the completed activity inside is
 * compensated, then the token leaves by the cancel boundary. */
static void test_transaction_cancel(void **state)
{
    static const char xml[] = DOC(
        "<startEvent id=\"start\"/><sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"tx\"/>"
        "<transaction id=\"tx\">"
        " <startEvent id=\"s\"/><sequenceFlow id=\"g1\" sourceRef=\"s\" targetRef=\"book\"/>"
        " <userTask id=\"book\"/><sequenceFlow id=\"g2\" sourceRef=\"book\" targetRef=\"gw\"/>"
        " <exclusiveGateway id=\"gw\" default=\"g4\"/>"
        " <sequenceFlow id=\"g3\" sourceRef=\"gw\" targetRef=\"abort\">"
        "  <conditionExpression>=bad</conditionExpression></sequenceFlow>"
        " <sequenceFlow id=\"g4\" sourceRef=\"gw\" targetRef=\"ok\"/><endEvent id=\"ok\"/>"
        " <endEvent id=\"abort\"><cancelEventDefinition/></endEvent>"
        " <boundaryEvent id=\"cb\" attachedToRef=\"book\"><compensateEventDefinition/>"
        " </boundaryEvent>"
        " <userTask id=\"unbook\" isForCompensation=\"true\"/>"
        " <association id=\"a1\" sourceRef=\"cb\" targetRef=\"unbook\"/>"
        "</transaction>"
        "<sequenceFlow id=\"f2\" sourceRef=\"tx\" targetRef=\"done\"/><endEvent id=\"done\"/>"
        "<boundaryEvent id=\"cancelled\" attachedToRef=\"tx\"><cancelEventDefinition/>"
        "</boundaryEvent>"
        "<sequenceFlow id=\"f3\" sourceRef=\"cancelled\" targetRef=\"sorry\"/>"
        "<userTask id=\"sorry\"/>");
    struct t_env t;
    (void)state;
    env(&t, xml);
    t_start(&t, "{\"bad\":true}");
    assert_int_equal(t_complete(&t, task_at(&t, "book"), NULL), 0);
    assert_int_equal(ev_count(&t.fx, FL_EV_COMPENSATED), 1);
    assert_null(inst_token_at(&t, "tx"));
    assert_non_null(inst_token_at(&t, "cancelled"));
    assert_int_equal(t_complete(&t, task_at(&t, "unbook"), NULL), 0);
    assert_non_null(inst_token_at(&t, "sorry"));
    assert_int_equal(t.inst->n_tokens, 1);
    release(&t);

    /* not cancelled: the transaction completes and nothing is compensated */
    env(&t, xml);
    t_start(&t, "{\"bad\":false}");
    assert_int_equal(t_complete(&t, task_at(&t, "book"), NULL), 0);
    assert_int_equal(ev_count(&t.fx, FL_EV_COMPENSATED), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    release(&t);
}

/* A conditional boundary on a subprocess whose condition holds when it is entered fires
 * once the subprocess is at rest: nothing of its inside is left behind. */
static void test_conditional_boundary_on_subprocess_at_entry(void **state)
{
    static const char xml[] = DOC(
        "<startEvent id=\"start\"/><sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"sub\"/>"
        "<subProcess id=\"sub\">"
        " <startEvent id=\"s\"/><sequenceFlow id=\"g1\" sourceRef=\"s\" targetRef=\"work\"/>"
        " <userTask id=\"work\"/>"
        " <sequenceFlow id=\"g2\" sourceRef=\"work\" targetRef=\"e\"/><endEvent id=\"e\"/>"
        "</subProcess>"
        "<sequenceFlow id=\"f2\" sourceRef=\"sub\" targetRef=\"done\"/><endEvent id=\"done\"/>"
        "<boundaryEvent id=\"big\" attachedToRef=\"sub\"><conditionalEventDefinition>"
        "<condition>=x &gt; 5</condition></conditionalEventDefinition></boundaryEvent>"
        "<sequenceFlow id=\"f3\" sourceRef=\"big\" targetRef=\"check\"/>"
        "<userTask id=\"check\"/>");
    struct t_env t;
    (void)state;
    env(&t, xml);
    t_start(&t, "{\"x\":10}");
    assert_null(inst_token_at(&t, "sub"));
    assert_null(inst_token_at(&t, "work"));
    assert_non_null(inst_token_at(&t, "check"));
    assert_int_equal(t.inst->n_tokens, 1);
    release(&t);

    env(&t, xml);
    t_start(&t, "{\"x\":1}");
    assert_non_null(inst_token_at(&t, "work"));
    assert_null(inst_token_at(&t, "check"));
    /* the work inside changes x: the boundary interrupts its own subprocess */
    assert_int_equal(t_complete(&t, task_at(&t, "work"), "{\"x\":6}"), 0);
    assert_non_null(inst_token_at(&t, "check"));
    assert_int_equal(t.inst->n_tokens, 1);
    release(&t);
}

/* A conditional event subprocess at process level starts when a variable change makes
 * its condition true, and (interrupting) cancels the rest. */
static void test_conditional_event_subprocess(void **state)
{
    static const char xml[] = DOC(
        "<startEvent id=\"start\"/><sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"fork\"/>"
        "<parallelGateway id=\"fork\"/>"
        "<sequenceFlow id=\"f2\" sourceRef=\"fork\" targetRef=\"a\"/><userTask id=\"a\"/>"
        "<sequenceFlow id=\"f3\" sourceRef=\"fork\" targetRef=\"b\"/><userTask id=\"b\"/>"
        "<subProcess id=\"alarm\" triggeredByEvent=\"true\">"
        " <startEvent id=\"as\"><conditionalEventDefinition>"
        " <condition>=alarm = true</condition></conditionalEventDefinition></startEvent>"
        " <sequenceFlow id=\"h1\" sourceRef=\"as\" targetRef=\"react\"/><userTask id=\"react\"/>"
        "</subProcess>");
    struct t_env t;
    (void)state;
    env(&t, xml);
    t_start(&t, "{\"alarm\":false}");
    assert_null(inst_token_at(&t, "alarm"));
    assert_int_equal(t_complete(&t, task_at(&t, "b"), "{\"alarm\":true}"), 0);
    assert_non_null(inst_token_at(&t, "alarm"));
    assert_non_null(inst_token_at(&t, "react"));
    assert_null(inst_token_at(&t, "a"));
    assert_int_equal(ev_count(&t.fx, FL_EV_TASK_CANCELLED), 1);
    assert_int_equal(t_complete(&t, task_at(&t, "react"), NULL), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_end_in_subprocess_caught_by_boundary),
        cmocka_unit_test(test_error_end_in_subprocess_uncaught),
        cmocka_unit_test(test_event_subprocess_inside_before_boundary),
        cmocka_unit_test(test_job_error_caught_outside_subprocess),
        cmocka_unit_test(test_escalation_boundaries_on_subprocess),
        cmocka_unit_test(test_compensation_from_bpmn),
        cmocka_unit_test(test_transaction_cancel),
        cmocka_unit_test(test_conditional_boundary_on_subprocess_at_entry),
        cmocka_unit_test(test_conditional_event_subprocess),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
