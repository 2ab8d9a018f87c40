/* The BPMN reader on the issue-5 elements, checked on the model it builds: subprocess
 * nesting (scope, children, sub_start, event_starts, top), event definitions with their
 * resolved references, links, compensation, call activities, loops, mappings, business
 * rule tasks; and the structural errors with their element, line and column. This test
 * defines fl_engine_unsupported itself (accepting everything), which the linker takes
 * instead of the library's engine gate: what is checked here is the reader alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flowd/engine.h"
#include "flowd/feel.h"
#include "flowd/model.h"

const char *fl_engine_unsupported(const struct fl_model *m, uint32_t i)
{
    (void)m;
    (void)i;
    return NULL;
}

#define HEAD                                                                                       \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                                 \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "                \
    "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" "                                         \
    "xmlns:camunda=\"http://camunda.org/schema/1.0/bpmn\" id=\"d\">\n"

static char *doc_of(const char *roots, const char *body)
{
    size_t n = strlen(HEAD) + strlen(roots) + strlen(body) + 200;
    char *x = malloc(n);
    snprintf(x, n,
             "%s%s<bpmn:process id=\"p\" isExecutable=\"true\">\n%s</bpmn:process>\n"
             "</bpmn:definitions>\n",
             HEAD, roots, body);
    return x;
}

static struct fl_bpmn_doc *load(const char *roots, const char *body)
{
    struct fl_bpmn_doc *doc = NULL;
    struct fl_error err;
    char *xml = doc_of(roots, body);
    int rc = fl_bpmn_read(xml, strlen(xml), &doc, &err);
    free(xml);
    if (rc != 0)
        fail_msg("unexpected %s: %s (element '%s', %d:%d)", fl_err_name(rc), err.msg, err.element,
                 err.line, err.column);
    return doc;
}

static void expect_error(const char *roots, const char *body, int code, const char *msg,
                         const char *element, int line, int col)
{
    struct fl_bpmn_doc *doc = NULL;
    struct fl_error err;
    char *xml = doc_of(roots, body);
    int rc = fl_bpmn_read(xml, strlen(xml), &doc, &err);
    free(xml);
    if (rc != code || !strstr(err.msg, msg))
        fail_msg("expected %s '%s', got %s '%s'", fl_err_name(code), msg, fl_err_name(rc), err.msg);
    assert_null(doc);
    assert_string_equal(err.element, element);
    if (err.line != line || err.column != col)
        fail_msg("'%s' at %d:%d, expected %d:%d", err.msg, err.line, err.column, line, col);
}

static const struct fl_node *node(const struct fl_model *m, const char *id)
{
    uint32_t i = fl_model_find_node(m, id);
    if (i == FL_NONE)
        fail_msg("no node '%s'", id);
    return &m->nodes[i];
}

static uint32_t ix(const struct fl_model *m, const char *id)
{
    uint32_t i = fl_model_find_node(m, id);
    if (i == FL_NONE)
        fail_msg("no node '%s'", id);
    return i;
}

static const char *src(const struct fl_feel_expr *e)
{
    return e ? fl_feel_source(e) : "(null)";
}

/* line 3 is the process element; bodies start on line 4 */
static const char *const nested =
    "<bpmn:startEvent id=\"s\"/>\n"                                           /* 4 */
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"sub\"/>\n"      /* 5 */
    "<bpmn:subProcess id=\"sub\">\n"                                          /* 6 */
    "  <bpmn:startEvent id=\"ss\"/>\n"                                        /* 7 */
    "  <bpmn:sequenceFlow id=\"g1\" sourceRef=\"ss\" targetRef=\"inner\"/>\n" /* 8 */
    "  <bpmn:transaction id=\"inner\">\n"                                     /* 9 */
    "    <bpmn:startEvent id=\"ts\"/>\n"                                      /* 10 */
    "    <bpmn:sequenceFlow id=\"h1\" sourceRef=\"ts\" targetRef=\"te\"/>\n"  /* 11 */
    "    <bpmn:endEvent id=\"te\"/>\n"                                        /* 12 */
    "  </bpmn:transaction>\n"                                                 /* 13 */
    "  <bpmn:sequenceFlow id=\"g2\" sourceRef=\"inner\" targetRef=\"se\"/>\n" /* 14 */
    "  <bpmn:endEvent id=\"se\"/>\n"                                          /* 15 */
    "  <bpmn:subProcess id=\"esp\" triggeredByEvent=\"true\">\n"              /* 16 */
    "    <bpmn:startEvent id=\"es\" isInterrupting=\"false\">"
    "<bpmn:messageEventDefinition messageRef=\"m\"/></bpmn:startEvent>\n"    /* 17 */
    "    <bpmn:sequenceFlow id=\"k1\" sourceRef=\"es\" targetRef=\"ee\"/>\n" /* 18 */
    "    <bpmn:endEvent id=\"ee\"/>\n"                                       /* 19 */
    "  </bpmn:subProcess>\n"                                                 /* 20 */
    "</bpmn:subProcess>\n"                                                   /* 21 */
    "<bpmn:boundaryEvent id=\"b\" attachedToRef=\"sub\">"
    "<bpmn:errorEventDefinition errorRef=\"err\" camunda:errorCodeVariable=\"code\"/>"
    "</bpmn:boundaryEvent>\n" /* 22 */
    "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"sub\" targetRef=\"e\"/>\n"
    "<bpmn:sequenceFlow id=\"f3\" sourceRef=\"b\" targetRef=\"e\"/>\n"
    "<bpmn:endEvent id=\"e\"/>\n";

static const char *const nested_roots =
    "<bpmn:message id=\"m\" name=\"order placed\"/>\n"
    "<bpmn:error id=\"err\" name=\"Failed\" errorCode=\"E42\"/>\n";

static void test_nesting(void **state)
{
    struct fl_bpmn_doc *doc;
    const struct fl_model *m;
    const struct fl_node *sub, *inner, *esp;
    (void)state;
    doc = load(nested_roots, nested);
    m = doc->processes[0];
    sub = node(m, "sub");
    inner = node(m, "inner");
    esp = node(m, "esp");
    assert_int_equal(sub->kind, FL_NODE_SUB_PROCESS);
    assert_false(sub->transaction);
    assert_int_equal(inner->kind, FL_NODE_SUB_PROCESS);
    assert_true(inner->transaction);
    assert_int_equal(esp->kind, FL_NODE_EVENT_SUB_PROCESS);
    /* scopes */
    assert_int_equal(node(m, "s")->scope, FL_NONE);
    assert_int_equal(sub->scope, FL_NONE);
    assert_int_equal(node(m, "ss")->scope, ix(m, "sub"));
    assert_int_equal(inner->scope, ix(m, "sub"));
    assert_int_equal(node(m, "ts")->scope, ix(m, "inner"));
    assert_int_equal(node(m, "es")->scope, ix(m, "esp"));
    assert_true(fl_model_in_scope(m, ix(m, "te"), ix(m, "sub")));
    assert_false(fl_model_in_scope(m, ix(m, "e"), ix(m, "sub")));
    /* children in document order, starts */
    assert_int_equal(sub->n_children, 4);
    assert_int_equal(sub->children[0], ix(m, "ss"));
    assert_int_equal(sub->children[1], ix(m, "inner"));
    assert_int_equal(sub->children[2], ix(m, "se"));
    assert_int_equal(sub->children[3], ix(m, "esp"));
    assert_int_equal(sub->sub_start, ix(m, "ss"));
    assert_int_equal(inner->sub_start, ix(m, "ts"));
    assert_int_equal(inner->n_children, 2);
    assert_int_equal(esp->sub_start, ix(m, "es"));
    assert_int_equal(esp->n_children, 2);
    assert_int_equal(sub->n_event_starts, 1);
    assert_int_equal(sub->event_starts[0], ix(m, "es"));
    assert_false(node(m, "es")->interrupting);
    assert_int_equal(node(m, "es")->kind, FL_NODE_EVENT_START);
    assert_string_equal(node(m, "es")->event->name, "order placed");
    /* process level */
    assert_int_equal(m->start, ix(m, "s"));
    assert_int_equal(m->n_top, 4);
    assert_int_equal(m->top[0], ix(m, "s"));
    assert_int_equal(m->top[1], ix(m, "sub"));
    assert_int_equal(m->top[2], ix(m, "b"));
    assert_int_equal(m->n_event_starts, 0);
    assert_int_equal(m->n_message_starts, 0);
    /* flows of every scope are in the model's array */
    assert_int_equal(m->n_flows, 7);
    /* the boundary event on the subprocess, with its error resolved */
    assert_int_equal(node(m, "b")->kind, FL_NODE_BOUNDARY_EVENT);
    assert_int_equal(node(m, "b")->attached_to, ix(m, "sub"));
    assert_int_equal(sub->n_boundaries, 1);
    assert_int_equal(node(m, "b")->event->trigger, FL_TRIGGER_ERROR);
    assert_string_equal(node(m, "b")->event->name, "E42");
    assert_string_equal(node(m, "b")->event->message, "Failed");
    assert_string_equal(node(m, "b")->event->code_variable, "code");
    assert_true(node(m, "b")->cancel_activity);
    fl_bpmn_doc_free(doc);
}

static void test_event_definitions(void **state)
{
    struct fl_bpmn_doc *doc;
    const struct fl_model *m;
    const struct fl_event_def *e;
    (void)state;
    doc = load("<bpmn:message id=\"m\" name=\"=&quot;pay-&quot; + kind\">"
               "<bpmn:extensionElements><zeebe:subscription correlationKey=\"=orderId\"/>"
               "</bpmn:extensionElements></bpmn:message>\n"
               "<bpmn:signal id=\"sig\" name=\"alarm\"/>\n"
               "<bpmn:escalation id=\"esc\" name=\"Late\" escalationCode=\"LATE\"/>\n"
               "<bpmn:signalEventDefinition id=\"sharedSig\" signalRef=\"sig\"/>\n",
               "<bpmn:startEvent id=\"ms\"><bpmn:messageEventDefinition messageRef=\"m\"/>"
               "</bpmn:startEvent>\n"
               "<bpmn:startEvent id=\"gs\"><bpmn:eventDefinitionRef>sharedSig"
               "</bpmn:eventDefinitionRef></bpmn:startEvent>\n"
               "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"ms\" targetRef=\"gw\"/>\n"
               "<bpmn:sequenceFlow id=\"f0\" sourceRef=\"gs\" targetRef=\"gw\"/>\n"
               "<bpmn:eventBasedGateway id=\"gw\"/>\n"
               "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"gw\" targetRef=\"c1\"/>\n"
               "<bpmn:sequenceFlow id=\"f3\" sourceRef=\"gw\" targetRef=\"r\"/>\n"
               "<bpmn:intermediateCatchEvent id=\"c1\"><bpmn:conditionalEventDefinition>"
               "<bpmn:condition>${x &gt; 5}</bpmn:condition></bpmn:conditionalEventDefinition>"
               "</bpmn:intermediateCatchEvent>\n"
               "<bpmn:receiveTask id=\"r\" messageRef=\"m\"/>\n"
               "<bpmn:sequenceFlow id=\"f4\" sourceRef=\"c1\" targetRef=\"t1\"/>\n"
               "<bpmn:sequenceFlow id=\"f5\" sourceRef=\"r\" targetRef=\"t1\"/>\n"
               "<bpmn:intermediateThrowEvent id=\"t1\"><bpmn:escalationEventDefinition "
               "escalationRef=\"esc\"/></bpmn:intermediateThrowEvent>\n"
               "<bpmn:sequenceFlow id=\"f6\" sourceRef=\"t1\" targetRef=\"lt\"/>\n"
               "<bpmn:intermediateThrowEvent id=\"lt\"><bpmn:linkEventDefinition name=\"L\"/>"
               "</bpmn:intermediateThrowEvent>\n"
               "<bpmn:intermediateCatchEvent id=\"lc\"><bpmn:linkEventDefinition name=\"L\"/>"
               "</bpmn:intermediateCatchEvent>\n"
               "<bpmn:sequenceFlow id=\"f7\" sourceRef=\"lc\" targetRef=\"end\"/>\n"
               "<bpmn:endEvent id=\"end\"><bpmn:signalEventDefinition signalRef=\"sig\"/>"
               "</bpmn:endEvent>\n");
    m = doc->processes[0];
    assert_int_equal(m->start, FL_NONE);
    assert_int_equal(m->n_message_starts, 2);
    assert_int_equal(m->message_starts[0], ix(m, "ms"));
    e = node(m, "ms")->event;
    assert_int_equal(e->trigger, FL_TRIGGER_MESSAGE);
    assert_string_equal(e->name, "=\"pay-\" + kind");
    assert_string_equal(e->correlation_key, "=orderId");
    e = node(m, "gs")->event;
    assert_int_equal(e->trigger, FL_TRIGGER_SIGNAL);
    assert_string_equal(e->name, "alarm");
    assert_int_equal(node(m, "gw")->kind, FL_NODE_EVENT_GW);
    e = node(m, "c1")->event;
    assert_int_equal(e->trigger, FL_TRIGGER_CONDITIONAL);
    assert_string_equal(src(e->condition), "x > 5");
    assert_int_equal(node(m, "r")->kind, FL_NODE_RECEIVE_TASK);
    assert_string_equal(node(m, "r")->event->correlation_key, "=orderId");
    e = node(m, "t1")->event;
    assert_int_equal(e->trigger, FL_TRIGGER_ESCALATION);
    assert_string_equal(e->name, "LATE");
    assert_string_equal(e->message, "Late");
    assert_int_equal(node(m, "lt")->event->link_target, ix(m, "lc"));
    assert_int_equal(node(m, "lc")->event->link_target, FL_NONE);
    assert_int_equal(node(m, "end")->kind, FL_NODE_EVENT_END);
    assert_string_equal(node(m, "end")->event->name, "alarm");
    /* the link catch is reached through its throw: no warning about it */
    for (size_t i = 0; i < m->n_warnings; i++)
        if (strstr(m->warnings[i].message, "cannot be reached"))
            fail_msg("unexpected warning: %s", m->warnings[i].message);
    fl_bpmn_doc_free(doc);
}

static void test_compensation(void **state)
{
    struct fl_bpmn_doc *doc;
    const struct fl_model *m;
    (void)state;
    doc = load("",
               "<bpmn:startEvent id=\"s\"/>\n"
               "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"book\"/>\n"
               "<bpmn:serviceTask id=\"book\"><bpmn:extensionElements>"
               "<zeebe:taskDefinition type=\"book\"/></bpmn:extensionElements></bpmn:serviceTask>\n"
               "<bpmn:boundaryEvent id=\"cb\" attachedToRef=\"book\">"
               "<bpmn:compensateEventDefinition/></bpmn:boundaryEvent>\n"
               "<bpmn:task id=\"undo\" isForCompensation=\"true\"/>\n"
               "<bpmn:association id=\"a\" associationDirection=\"One\" sourceRef=\"cb\" "
               "targetRef=\"undo\"/>\n"
               "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"book\" targetRef=\"c\"/>\n"
               "<bpmn:intermediateThrowEvent id=\"c\"><bpmn:compensateEventDefinition "
               "activityRef=\"book\" waitForCompletion=\"false\"/></bpmn:intermediateThrowEvent>\n"
               "<bpmn:sequenceFlow id=\"f3\" sourceRef=\"c\" targetRef=\"e\"/>\n"
               "<bpmn:endEvent id=\"e\"/>\n");
    m = doc->processes[0];
    assert_int_equal(node(m, "book")->compensation, ix(m, "undo"));
    assert_true(node(m, "undo")->for_compensation);
    assert_int_equal(node(m, "cb")->attached_to, ix(m, "book"));
    assert_int_equal(node(m, "c")->event->activity_ref, ix(m, "book"));
    assert_false(node(m, "c")->event->wait_for_completion);
    assert_int_equal(m->n_warnings, 0);
    fl_bpmn_doc_free(doc);
}

static void test_calls_loops_mappings(void **state)
{
    struct fl_bpmn_doc *doc;
    const struct fl_model *m;
    const struct fl_node *n;
    (void)state;
    doc =
        load("", "<bpmn:startEvent id=\"s\"/>\n"
                 "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"c8\"/>\n"
                 "<bpmn:callActivity id=\"c8\"><bpmn:extensionElements>"
                 "<zeebe:calledElement processId=\"=child\" propagateAllChildVariables=\"false\"/>"
                 "<zeebe:ioMapping><zeebe:input source=\"=a + 1\" target=\"b\"/>"
                 "<zeebe:output source=\"=r\" target=\"res\"/></zeebe:ioMapping>"
                 "</bpmn:extensionElements>"
                 "<bpmn:multiInstanceLoopCharacteristics isSequential=\"true\">"
                 "<bpmn:extensionElements><zeebe:loopCharacteristics inputCollection=\"=items\" "
                 "inputElement=\"item\" outputCollection=\"results\" outputElement=\"=res\"/>"
                 "</bpmn:extensionElements>"
                 "<bpmn:completionCondition>=done</bpmn:completionCondition>"
                 "</bpmn:multiInstanceLoopCharacteristics></bpmn:callActivity>\n"
                 "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"c8\" targetRef=\"c7\"/>\n"
                 "<bpmn:callActivity id=\"c7\" calledElement=\"child7\" "
                 "camunda:calledElementBinding=\"version\" camunda:calledElementVersion=\"4\">"
                 "<bpmn:extensionElements><camunda:in variables=\"all\"/>"
                 "<camunda:in source=\"x\" target=\"y\"/>"
                 "<camunda:in sourceExpression=\"${x + 1}\" target=\"z\"/>"
                 "<camunda:in businessKey=\"${key}\"/>"
                 "<camunda:out source=\"o\" target=\"p\"/></bpmn:extensionElements>"
                 "<bpmn:multiInstanceLoopCharacteristics camunda:collection=\"${users}\" "
                 "camunda:elementVariable=\"user\">"
                 "<bpmn:loopCardinality>${n}</bpmn:loopCardinality>"
                 "</bpmn:multiInstanceLoopCharacteristics></bpmn:callActivity>\n"
                 "<bpmn:sequenceFlow id=\"f3\" sourceRef=\"c7\" targetRef=\"u\"/>\n"
                 "<bpmn:userTask id=\"u\"><bpmn:extensionElements><camunda:inputOutput>"
                 "<camunda:inputParameter name=\"plain\">hello</camunda:inputParameter>"
                 "<camunda:inputParameter name=\"juel\">${a.b}</camunda:inputParameter>"
                 "<camunda:inputParameter name=\"list\"><camunda:list><camunda:value>x"
                 "</camunda:value><camunda:value>${y}</camunda:value></camunda:list>"
                 "</camunda:inputParameter>"
                 "<camunda:inputParameter name=\"map\"><camunda:map><camunda:entry key=\"k\">v"
                 "</camunda:entry></camunda:map></camunda:inputParameter>"
                 "<camunda:inputParameter name=\"none\"/>"
                 "<camunda:outputParameter name=\"out\">${result}</camunda:outputParameter>"
                 "</camunda:inputOutput></bpmn:extensionElements>"
                 "<bpmn:standardLoopCharacteristics testBefore=\"true\" loopMaximum=\"5\">"
                 "<bpmn:loopCondition>${count &lt; 3}</bpmn:loopCondition>"
                 "</bpmn:standardLoopCharacteristics></bpmn:userTask>\n"
                 "<bpmn:sequenceFlow id=\"f4\" sourceRef=\"u\" targetRef=\"br\"/>\n"
                 "<bpmn:businessRuleTask id=\"br\" camunda:decisionRef=\"dish\" "
                 "camunda:resultVariable=\"meal\"/>\n"
                 "<bpmn:sequenceFlow id=\"f5\" sourceRef=\"br\" targetRef=\"br8\"/>\n"
                 "<bpmn:businessRuleTask id=\"br8\"><bpmn:extensionElements>"
                 "<zeebe:calledDecision decisionId=\"risk\" resultVariable=\"r\"/>"
                 "</bpmn:extensionElements></bpmn:businessRuleTask>\n"
                 "<bpmn:sequenceFlow id=\"f6\" sourceRef=\"br8\" targetRef=\"e\"/>\n"
                 "<bpmn:endEvent id=\"e\"/>\n");
    m = doc->processes[0];
    n = node(m, "c8");
    assert_string_equal(n->call->process_key, "=child");
    assert_true(n->call->all_in);
    assert_false(n->call->all_out);
    assert_int_equal(n->call->version, 0);
    assert_int_equal(n->call->n_ins, 1);
    assert_string_equal(n->call->ins[0].target, "b");
    assert_string_equal(src(n->call->ins[0].source), "a + 1");
    assert_int_equal(n->call->n_outs, 1);
    assert_string_equal(n->call->outs[0].target, "res");
    assert_int_equal(n->n_inputs + n->n_outputs, 0);
    assert_true(n->loop->multi);
    assert_true(n->loop->sequential);
    assert_string_equal(src(n->loop->collection), "items");
    assert_string_equal(n->loop->element_variable, "item");
    assert_string_equal(n->loop->output_collection, "results");
    assert_string_equal(src(n->loop->output_element), "res");
    assert_string_equal(src(n->loop->completion), "done");
    n = node(m, "c7");
    assert_string_equal(n->call->process_key, "child7");
    assert_int_equal(n->call->version, 4);
    assert_true(n->call->all_in);
    assert_false(n->call->all_out);
    assert_int_equal(n->call->n_ins, 2);
    assert_string_equal(n->call->ins[0].target, "y");
    assert_string_equal(src(n->call->ins[0].source), "x");
    assert_string_equal(src(n->call->ins[1].source), "x + 1");
    assert_string_equal(n->call->business_key, "=key");
    assert_string_equal(n->call->outs[0].target, "p");
    assert_false(n->loop->sequential);
    assert_string_equal(src(n->loop->collection), "users");
    assert_string_equal(n->loop->element_variable, "user");
    assert_string_equal(src(n->loop->cardinality), "n");
    n = node(m, "u");
    assert_int_equal(n->n_inputs, 5);
    assert_string_equal(n->inputs[0].target, "plain");
    assert_string_equal(src(n->inputs[0].source), "\"hello\"");
    assert_string_equal(src(n->inputs[1].source), "(a.b)");
    assert_string_equal(n->inputs[2].target, "list");
    assert_string_equal(src(n->inputs[2].source), "[\"x\", (y)]");
    assert_string_equal(src(n->inputs[3].source), "{\"k\": \"v\"}");
    assert_string_equal(src(n->inputs[4].source), "null");
    assert_int_equal(n->n_outputs, 1);
    assert_string_equal(src(n->outputs[0].source), "(result)");
    assert_false(n->loop->multi);
    assert_true(n->loop->test_before);
    assert_int_equal(n->loop->loop_maximum, 5);
    assert_string_equal(src(n->loop->loop_condition), "count < 3");
    assert_string_equal(node(m, "br")->decision_ref, "dish");
    assert_string_equal(node(m, "br")->result_variable, "meal");
    assert_null(node(m, "br")->job_type);
    assert_string_equal(node(m, "br8")->decision_ref, "risk");
    assert_string_equal(node(m, "br8")->result_variable, "r");
    fl_bpmn_doc_free(doc);
}

/* Camunda 7 leniencies: Activiti's namespace read as Camunda's, an errorRef naming no
 * error taken as the code, nested list and map parameters. */
static void test_camunda7_compat(void **state)
{
    struct fl_bpmn_doc *doc;
    const struct fl_model *m;
    struct fl_bpmn_doc *d2 = NULL;
    struct fl_error err;
    const char *xml =
        "<definitions xmlns=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "
        "xmlns:activiti=\"http://activiti.org/bpmn\">"
        "<process id=\"q\" isExecutable=\"true\"><startEvent id=\"s\"/>"
        "<serviceTask id=\"a\" activiti:class=\"org.Failing\"/>"
        "<sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"a\"/></process></definitions>";
    (void)state;
    if (fl_bpmn_read(xml, strlen(xml), &d2, &err) != 0)
        fail_msg("activiti: %s", err.msg);
    assert_string_equal(d2->processes[0]->nodes[1].job_type, "java:org.Failing");
    fl_bpmn_doc_free(d2);
    doc = load("", "<bpmn:startEvent id=\"s\"/>\n"
                   "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"u\"/>\n"
                   "<bpmn:userTask id=\"u\"><bpmn:extensionElements><camunda:inputOutput>"
                   "<camunda:inputParameter name=\"nested\"><camunda:list>"
                   "<camunda:list><camunda:value>a</camunda:value></camunda:list>"
                   "<camunda:value>d</camunda:value>"
                   "<camunda:map><camunda:entry key=\"foo\">bar</camunda:entry>"
                   "<camunda:entry key=\"m\"><camunda:list><camunda:value>${x}</camunda:value>"
                   "</camunda:list></camunda:entry></camunda:map>"
                   "</camunda:list></camunda:inputParameter>"
                   "</camunda:inputOutput></bpmn:extensionElements></bpmn:userTask>\n"
                   "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"u\" targetRef=\"e\"/>\n"
                   "<bpmn:endEvent id=\"e\"><bpmn:errorEventDefinition errorRef=\"E_LATE\"/>"
                   "</bpmn:endEvent>\n");
    m = doc->processes[0];
    assert_string_equal(src(node(m, "u")->inputs[0].source),
                        "[[\"a\"], \"d\", {\"foo\": \"bar\", \"m\": [(x)]}]");
    assert_string_equal(node(m, "e")->event->name, "E_LATE");
    assert_int_equal(m->n_warnings, 1);
    assert_non_null(strstr(m->warnings[0].message, "errorRef 'E_LATE' of 'e' names no error"));
    fl_bpmn_doc_free(doc);
    expect_error("",
                 "<bpmn:startEvent id=\"s\"/>\n"
                 "<bpmn:userTask id=\"u\"><bpmn:extensionElements><camunda:inputOutput>"
                 "<camunda:inputParameter name=\"x\"><camunda:map>"
                 "<camunda:entry key=\"${k}\">v</camunda:entry></camunda:map>"
                 "</camunda:inputParameter></camunda:inputOutput></bpmn:extensionElements>"
                 "</bpmn:userTask>\n",
                 FL_EUNSUPPORTED, "camunda:entry key '${k}' of 'u' is computed", "u", 5, 134);
}

/* A condition in the document's declared XPath is reported as such, not as bad FEEL;
 * JUEL and FEEL still load under that declaration (bpmn.io writes it everywhere). */
/* A message or signal catch without a name still loads, with a warning that says so. */
static void test_unnamed_catch(void **state)
{
    struct fl_bpmn_doc *doc;
    const struct fl_model *m;
    (void)state;
    doc = load("", "<bpmn:startEvent id=\"s\"/>\n"
                   "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"c\"/>\n"
                   "<bpmn:intermediateCatchEvent id=\"c\"><bpmn:signalEventDefinition/>"
                   "</bpmn:intermediateCatchEvent>\n");
    m = doc->processes[0];
    assert_null(node(m, "c")->event->name);
    assert_int_equal(m->n_warnings, 1);
    assert_string_equal(m->warnings[0].element, "c");
    assert_int_equal(m->warnings[0].line, 6);
    assert_non_null(strstr(m->warnings[0].message,
                           "intermediateCatchEvent 'c' has no signal name (no signalRef"));
    fl_bpmn_doc_free(doc);
}

static void test_xpath_documents(void **state)
{
#define XPATH_DOC(cond)                                                                            \
    "<definitions xmlns=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "                          \
    "expressionLanguage=\"http://www.w3.org/1999/XPath\">\n"                                       \
    "<process id=\"q\" isExecutable=\"true\"><startEvent id=\"s\"/><task id=\"t\"/>\n"             \
    "<sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"t\">"                                      \
    "<conditionExpression>" cond "</conditionExpression></sequenceFlow></process>"                 \
    "</definitions>"
    char xml[1024];
    struct fl_bpmn_doc *doc = NULL;
    struct fl_error err;
    (void)state;
    snprintf(xml, sizeof(xml), "%s", XPATH_DOC("${ok}"));
    assert_int_equal(fl_bpmn_read(xml, strlen(xml), &doc, &err), 0);
    fl_bpmn_doc_free(doc);
    snprintf(xml, sizeof(xml), "%s", XPATH_DOC("=ok"));
    assert_int_equal(fl_bpmn_read(xml, strlen(xml), &doc, &err), 0);
    fl_bpmn_doc_free(doc);
    doc = NULL;
    snprintf(xml, sizeof(xml), "%s", XPATH_DOC("bpmn:getDataObject('approved')"));
    assert_int_equal(fl_bpmn_read(xml, strlen(xml), &doc, &err), FL_EUNSUPPORTED);
    assert_null(doc);
    assert_non_null(strstr(err.msg, "condition of sequence flow 'f' is not FEEL or JUEL (the "
                                    "document's expressionLanguage is "
                                    "'http://www.w3.org/1999/XPath'"));
    assert_string_equal(err.element, "f");
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 90); /* the quote FEEL stumbles on */
}

static void test_scope_errors(void **state)
{
    (void)state;
    /* a flow from inside a subprocess to outside it */
    expect_error("",
                 "<bpmn:startEvent id=\"s\"/>\n"
                 "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"sub\"/>\n"
                 "<bpmn:subProcess id=\"sub\">\n"
                 "  <bpmn:startEvent id=\"ss\"/>\n"
                 "  <bpmn:sequenceFlow id=\"x\" sourceRef=\"ss\" targetRef=\"e\"/>\n"
                 "</bpmn:subProcess>\n"
                 "<bpmn:endEvent id=\"e\"/>\n",
                 FL_EMODEL, "sequence flow 'x' from 'ss' to 'e' crosses the boundary of subprocess",
                 "x", 8, 55);
    expect_error("",
                 "<bpmn:startEvent id=\"s\"/>\n"
                 "<bpmn:subProcess id=\"esp\" triggeredByEvent=\"true\">\n"
                 "  <bpmn:startEvent id=\"a\"><bpmn:signalEventDefinition/></bpmn:startEvent>\n"
                 "  <bpmn:startEvent id=\"b\"><bpmn:signalEventDefinition/></bpmn:startEvent>\n"
                 "</bpmn:subProcess>\n",
                 FL_EMODEL, "event subprocess 'esp' has more than one start event", "b", 7, 3);
    expect_error("",
                 "<bpmn:startEvent id=\"s\"/>\n"
                 "<bpmn:subProcess id=\"esp\" triggeredByEvent=\"true\">\n"
                 "  <bpmn:startEvent id=\"a\"/>\n"
                 "</bpmn:subProcess>\n",
                 FL_EMODEL, "start event 'a' of event subprocess 'esp' has no trigger", "a", 6, 3);
    expect_error("",
                 "<bpmn:startEvent id=\"s\"/>\n"
                 "<bpmn:sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"esp\"/>\n"
                 "<bpmn:subProcess id=\"esp\" triggeredByEvent=\"true\">\n"
                 "  <bpmn:startEvent id=\"a\"><bpmn:signalEventDefinition/></bpmn:startEvent>\n"
                 "</bpmn:subProcess>\n",
                 FL_EMODEL, "event subprocess 'esp' has sequence flows", "esp", 6, 1);
    expect_error("",
                 "<bpmn:startEvent id=\"s\"/>\n"
                 "<bpmn:subProcess id=\"sub\">\n"
                 "  <bpmn:startEvent id=\"a\"><bpmn:signalEventDefinition/></bpmn:startEvent>\n"
                 "</bpmn:subProcess>\n",
                 FL_EMODEL, "start event 'a' inside subProcess 'sub' has a trigger", "a", 6, 3);
    expect_error("", "<bpmn:startEvent id=\"s\"><bpmn:errorEventDefinition/></bpmn:startEvent>\n",
                 FL_EMODEL, "error start event 's' is at process level", "s", 4, 1);
    expect_error("",
                 "<bpmn:startEvent id=\"s\"/>\n"
                 "<bpmn:adHocSubProcess id=\"ah\"/>\n",
                 FL_EUNSUPPORTED, "adHocSubProcess 'ah': ad-hoc subprocesses", "ah", 5, 1);
    expect_error("",
                 "<bpmn:startEvent id=\"s\"/>\n"
                 "<bpmn:complexGateway id=\"cg\"/>\n",
                 FL_EUNSUPPORTED, "complexGateway 'cg': complex gateways are not supported", "cg",
                 5, 1);
    expect_error("",
                 "<bpmn:startEvent id=\"s\"><bpmn:messageEventDefinition/>"
                 "<bpmn:signalEventDefinition/></bpmn:startEvent>\n",
                 FL_EUNSUPPORTED, "startEvent 's' has several event definitions", "s", 4, 1);
    expect_error("",
                 "<bpmn:startEvent id=\"s\"/>\n"
                 "<bpmn:endEvent id=\"e\"><bpmn:timerEventDefinition/></bpmn:endEvent>\n",
                 FL_EMODEL, "endEvent 'e' has a timerEventDefinition, which BPMN does not allow",
                 "e", 5, 23);
    expect_error("",
                 "<bpmn:startEvent id=\"s\"/>\n"
                 "<bpmn:task id=\"t\"/>\n"
                 "<bpmn:boundaryEvent id=\"b\" attachedToRef=\"t\">"
                 "<bpmn:cancelEventDefinition/></bpmn:boundaryEvent>\n",
                 FL_EMODEL,
                 "cancel boundary event 'b' is attached to task 't'; it belongs on a "
                 "transaction",
                 "b", 6, 43);
}

static void test_reference_errors(void **state)
{
    (void)state;
    expect_error("",
                 "<bpmn:startEvent id=\"s\"><bpmn:messageEventDefinition messageRef=\"nope\"/>"
                 "</bpmn:startEvent>\n",
                 FL_EMODEL, "messageRef 'nope' of 's' names no message of the document", "s", 4,
                 66);
    expect_error("",
                 "<bpmn:startEvent id=\"s\"><bpmn:eventDefinitionRef>zz</bpmn:eventDefinitionRef>"
                 "</bpmn:startEvent>\n",
                 FL_EMODEL, "eventDefinitionRef 'zz' of 's' names no event definition", "s", 4, 25);
    expect_error("",
                 "<bpmn:startEvent id=\"s\"/>\n"
                 "<bpmn:sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"lt\"/>\n"
                 "<bpmn:intermediateThrowEvent id=\"lt\"><bpmn:linkEventDefinition name=\"L\"/>"
                 "</bpmn:intermediateThrowEvent>\n",
                 FL_EMODEL, "link throw event 'lt' goes to link 'L', but no intermediate catch",
                 "lt", 6, 1);
    expect_error("",
                 "<bpmn:startEvent id=\"s\"/>\n"
                 "<bpmn:task id=\"t\"/>\n"
                 "<bpmn:boundaryEvent id=\"cb\" attachedToRef=\"t\">"
                 "<bpmn:compensateEventDefinition/></bpmn:boundaryEvent>\n",
                 FL_EMODEL, "compensation boundary event 'cb' has no association", "cb", 6, 1);
    expect_error("",
                 "<bpmn:startEvent id=\"s\"/>\n"
                 "<bpmn:callActivity id=\"c\"/>\n",
                 FL_EMODEL, "callActivity 'c' names no process to call", "c", 5, 1);
    expect_error("",
                 "<bpmn:startEvent id=\"s\"/>\n"
                 "<bpmn:callActivity id=\"c\" camunda:caseRef=\"oneTaskCase\"/>\n",
                 FL_EUNSUPPORTED, "callActivity 'c' calls CMMN case 'oneTaskCase'", "c", 5, 44);
    expect_error("",
                 "<bpmn:startEvent id=\"s\"/>\n"
                 "<bpmn:userTask id=\"u\"><bpmn:extensionElements><camunda:inputOutput>"
                 "<camunda:inputParameter name=\"x\"><camunda:script scriptFormat=\"groovy\">1"
                 "</camunda:script></camunda:inputParameter></camunda:inputOutput>"
                 "</bpmn:extensionElements></bpmn:userTask>\n",
                 FL_EUNSUPPORTED, "a camunda:script computes a parameter of 'u'", "u", 5, 101);
    expect_error("",
                 "<bpmn:startEvent id=\"s\"/>\n"
                 "<bpmn:userTask id=\"u\"><bpmn:extensionElements><zeebe:ioMapping>"
                 "<zeebe:input source=\"=a +\" target=\"b\"/></zeebe:ioMapping>"
                 "</bpmn:extensionElements></bpmn:userTask>\n",
                 FL_EMODEL, "syntax error in source of 'u'", "u", 5, 89);
    expect_error("",
                 "<bpmn:startEvent id=\"s\"/>\n"
                 "<bpmn:businessRuleTask id=\"br\"/>\n",
                 FL_EMODEL,
                 "businessRuleTask 'br' has neither a decision (zeebe:calledDecision decisionId, "
                 "camunda:decisionRef) nor a job type",
                 "br", 5, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nesting),          cmocka_unit_test(test_event_definitions),
        cmocka_unit_test(test_compensation),     cmocka_unit_test(test_calls_loops_mappings),
        cmocka_unit_test(test_camunda7_compat),  cmocka_unit_test(test_unnamed_catch),
        cmocka_unit_test(test_xpath_documents),  cmocka_unit_test(test_scope_errors),
        cmocka_unit_test(test_reference_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
