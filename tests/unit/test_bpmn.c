/* Unit tests of the BPMN reader: each element and extension form lands in the right model
 * fields; each validation error names its element, line and column exactly; malformed
 * XML, wrong namespaces and oversized input are refused; the demo examples/sales.bpmn
 * loads without errors or warnings. Documents are small inline snippets: line 1 is the
 * XML declaration, line 2 the definitions, line 3 the process, so the body starts on
 * line 4. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flowd/alloc.h"
#include "flowd/model.h"

#define HEAD                                                                                       \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                                 \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "                \
    "xmlns:camunda=\"http://camunda.org/schema/1.0/bpmn\" "                                        \
    "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" "                                         \
    "xmlns:flowd=\"https://flowd.dev/schema/bpmn/1.0\" id=\"defs\">\n"
#define PROC "<bpmn:process id=\"p\" name=\"Proc\" isExecutable=\"true\">\n"
#define TAIL "</bpmn:process>\n</bpmn:definitions>\n"

/* start -> t -> end, a common tail for bodies that only test one node */
#define SIMPLE_FLOWS                                                                               \
    "  <bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"t\"/>\n"                           \
    "  <bpmn:sequenceFlow id=\"f2\" sourceRef=\"t\" targetRef=\"e\"/>\n"

static char *wrap(const char *body)
{
    size_t n = strlen(HEAD) + strlen(PROC) + strlen(body) + strlen(TAIL) + 1;
    char *s = fl_malloc(n);
    snprintf(s, n, "%s%s%s%s", HEAD, PROC, body, TAIL);
    return s;
}

/* Read a process body that must load; returns the doc (caller frees). */
static struct fl_bpmn_doc *load(const char *body)
{
    struct fl_bpmn_doc *doc = NULL;
    struct fl_error err;
    char *xml = wrap(body);
    int rc = fl_bpmn_read(xml, strlen(xml), &doc, &err);
    if (rc != 0)
        fail_msg("unexpected error %s: %s (element '%s', %d:%d)", fl_err_name(rc), err.msg,
                 err.element, err.line, err.column);
    free(xml);
    assert_non_null(doc);
    assert_int_equal(doc->n_processes, 1);
    return doc;
}

/* A whole document that must fail with code, a message containing msg, at element, line
 * and column. */
static void expect_doc_error(const char *xml, int code, const char *msg, const char *element,
                             int line, int col)
{
    struct fl_bpmn_doc *doc = (struct fl_bpmn_doc *)1;
    struct fl_error err;
    int rc = fl_bpmn_read(xml, strlen(xml), &doc, &err);
    if (rc != code || !strstr(err.msg, msg))
        fail_msg("expected %s '%s', got %s '%s'", fl_err_name(code), msg, fl_err_name(rc), err.msg);
    assert_null(doc);
    assert_int_equal(err.code, code);
    assert_string_equal(err.element, element);
    if (err.line != line || err.column != col)
        fail_msg("'%s': expected %d:%d, got %d:%d", err.msg, line, col, err.line, err.column);
}

static void expect_error(const char *body, int code, const char *msg, const char *element, int line,
                         int col)
{
    char *xml = wrap(body);
    expect_doc_error(xml, code, msg, element, line, col);
    free(xml);
}

static const struct fl_node *node(const struct fl_model *m, const char *id)
{
    uint32_t i = fl_model_find_node(m, id);
    if (i == FL_NONE)
        fail_msg("no node '%s'", id);
    return &m->nodes[i];
}

static void test_minimal(void **state)
{
    struct fl_bpmn_doc *doc;
    const struct fl_model *m;
    const struct fl_node *t;
    (void)state;
    doc = load("  <bpmn:documentation>The process.</bpmn:documentation>\n"
               "  <bpmn:startEvent id=\"s\" name=\"Start\"/>\n"
               "  <bpmn:task id=\"t\" name=\"Do it\">\n"
               "    <bpmn:documentation>How to do it.</bpmn:documentation>\n"
               "  </bpmn:task>\n"
               "  <bpmn:endEvent id=\"e\"/>\n" SIMPLE_FLOWS);
    m = doc->processes[0];
    assert_string_equal(m->key, "p");
    assert_string_equal(m->name, "Proc");
    assert_string_equal(m->documentation, "The process.");
    assert_int_equal(m->n_nodes, 3);
    assert_int_equal(m->n_flows, 2);
    assert_int_equal(m->n_warnings, 0);
    assert_int_equal(m->start, fl_model_find_node(m, "s"));
    assert_int_equal(node(m, "s")->kind, FL_NODE_START_EVENT);
    assert_int_equal(node(m, "e")->kind, FL_NODE_END_EVENT);
    t = node(m, "t");
    assert_int_equal(t->kind, FL_NODE_TASK);
    assert_string_equal(t->name, "Do it");
    assert_string_equal(t->documentation, "How to do it.");
    assert_null(t->lane);
    assert_null(t->stage);
    assert_int_equal(t->line, 6);
    assert_int_equal(t->column, 3);
    assert_int_equal(t->n_incoming, 1);
    assert_int_equal(t->n_outgoing, 1);
    assert_string_equal(m->flows[t->incoming[0]].id, "f1");
    assert_string_equal(m->flows[t->outgoing[0]].id, "f2");
    assert_int_equal(m->flows[0].source, m->start);
    assert_int_equal(m->flows[0].line, 10);
    assert_int_equal(m->flows[0].column, 3);
    assert_null(m->flows[0].condition);
    assert_int_equal(t->default_flow, FL_NONE);
    assert_string_equal(fl_node_kind_name(t->kind), "task");
    assert_int_equal(fl_model_find_node(m, "nope"), FL_NONE);
    fl_bpmn_doc_free(doc);
}

static void test_kinds_and_gateways(void **state)
{
    struct fl_bpmn_doc *doc;
    const struct fl_model *m;
    const struct fl_node *x, *sc, *sv;
    struct fl_model *taken;
    (void)state;
    doc = load("  <bpmn:startEvent id=\"s\"/>\n"
               "  <bpmn:parallelGateway id=\"fork\"/>\n"
               "  <bpmn:userTask id=\"u\"/>\n"
               "  <bpmn:manualTask id=\"mt\"/>\n"
               "  <bpmn:parallelGateway id=\"join\"/>\n"
               "  <bpmn:serviceTask id=\"sv\">\n"
               "    <bpmn:extensionElements>\n"
               "      <zeebe:taskDefinition type=\"send-mail\" retries=\"5\"/>\n"
               "    </bpmn:extensionElements>\n"
               "  </bpmn:serviceTask>\n"
               "  <bpmn:scriptTask id=\"sc\">\n"
               "    <bpmn:extensionElements>\n"
               "      <zeebe:script expression=\"=a + 1\" resultVariable=\"b\"/>\n"
               "    </bpmn:extensionElements>\n"
               "  </bpmn:scriptTask>\n"
               "  <bpmn:exclusiveGateway id=\"x\" default=\"fd\"/>\n"
               "  <bpmn:endEvent id=\"e\"/>\n"
               "  <bpmn:endEvent id=\"kill\"><bpmn:terminateEventDefinition/></bpmn:endEvent>\n"
               "  <bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"fork\"/>\n"
               "  <bpmn:sequenceFlow id=\"f2\" sourceRef=\"fork\" targetRef=\"u\"/>\n"
               "  <bpmn:sequenceFlow id=\"f3\" sourceRef=\"fork\" targetRef=\"mt\"/>\n"
               "  <bpmn:sequenceFlow id=\"f4\" sourceRef=\"u\" targetRef=\"join\"/>\n"
               "  <bpmn:sequenceFlow id=\"f5\" sourceRef=\"mt\" targetRef=\"join\"/>\n"
               "  <bpmn:sequenceFlow id=\"f6\" sourceRef=\"join\" targetRef=\"sv\"/>\n"
               "  <bpmn:sequenceFlow id=\"f7\" sourceRef=\"sv\" targetRef=\"sc\"/>\n"
               "  <bpmn:sequenceFlow id=\"f8\" sourceRef=\"sc\" targetRef=\"x\"/>\n"
               "  <bpmn:sequenceFlow id=\"fc\" sourceRef=\"x\" targetRef=\"kill\">\n"
               "    <bpmn:conditionExpression>= b &gt; 10</bpmn:conditionExpression>\n"
               "  </bpmn:sequenceFlow>\n"
               "  <bpmn:sequenceFlow id=\"fd\" sourceRef=\"x\" targetRef=\"e\"/>\n");
    m = doc->processes[0];
    assert_int_equal(m->n_warnings, 0);
    assert_int_equal(node(m, "fork")->kind, FL_NODE_PARALLEL_GW);
    assert_int_equal(node(m, "fork")->n_outgoing, 2);
    assert_int_equal(node(m, "join")->n_incoming, 2);
    assert_int_equal(node(m, "u")->kind, FL_NODE_USER_TASK);
    assert_non_null(node(m, "u")->stage); /* never NULL for user tasks */
    assert_int_equal(node(m, "mt")->kind, FL_NODE_MANUAL_TASK);
    assert_int_equal(node(m, "kill")->kind, FL_NODE_TERMINATE_END);
    sv = node(m, "sv");
    assert_int_equal(sv->kind, FL_NODE_SERVICE_TASK);
    assert_string_equal(sv->job_type, "send-mail");
    assert_int_equal(sv->job_retries, 5);
    sc = node(m, "sc");
    assert_int_equal(sc->kind, FL_NODE_SCRIPT_TASK);
    assert_non_null(sc->script);
    assert_string_equal(fl_feel_source(sc->script), "a + 1");
    assert_string_equal(sc->result_variable, "b");
    x = node(m, "x");
    assert_int_equal(x->kind, FL_NODE_EXCLUSIVE_GW);
    assert_int_equal(x->n_outgoing, 2);
    assert_string_equal(m->flows[x->default_flow].id, "fd");
    assert_non_null(m->flows[x->outgoing[0]].condition);
    assert_string_equal(fl_feel_source(m->flows[x->outgoing[0]].condition), " b > 10");
    taken = fl_bpmn_doc_take(doc, 0);
    assert_ptr_equal(taken, m);
    assert_null(fl_bpmn_doc_take(doc, 1));
    fl_bpmn_doc_free(doc);
    fl_model_free(taken);
}

static void test_lanes(void **state)
{
    struct fl_bpmn_doc *doc;
    const struct fl_model *m;
    (void)state;
    doc = load("  <bpmn:laneSet id=\"ls\">\n"
               "    <bpmn:lane id=\"l_sales\" name=\"sales\">\n"
               "      <bpmn:flowNodeRef>s</bpmn:flowNodeRef>\n"
               "      <bpmn:flowNodeRef>t</bpmn:flowNodeRef>\n"
               "      <bpmn:childLaneSet id=\"cls\">\n"
               "        <bpmn:lane id=\"l_mgr\" name=\"sales_manager\">\n"
               "          <bpmn:flowNodeRef>t</bpmn:flowNodeRef>\n"
               "        </bpmn:lane>\n"
               "      </bpmn:childLaneSet>\n"
               "    </bpmn:lane>\n"
               "    <bpmn:lane id=\"l_noname\">\n"
               "      <bpmn:flowNodeRef>e</bpmn:flowNodeRef>\n"
               "      <bpmn:flowNodeRef>note</bpmn:flowNodeRef>\n"
               "    </bpmn:lane>\n"
               "  </bpmn:laneSet>\n"
               "  <bpmn:startEvent id=\"s\"/>\n"
               "  <bpmn:userTask id=\"t\"/>\n"
               "  <bpmn:endEvent id=\"e\"/>\n"
               "  <bpmn:textAnnotation "
               "id=\"note\"><bpmn:text>x</bpmn:text></bpmn:textAnnotation>\n" SIMPLE_FLOWS);
    m = doc->processes[0];
    assert_string_equal(node(m, "s")->lane, "sales");
    assert_string_equal(node(m, "t")->lane, "sales_manager"); /* innermost lane wins */
    assert_string_equal(node(m, "e")->lane, "l_noname");      /* unnamed: the id */
    fl_bpmn_doc_free(doc);
}

static void test_flowd_stage(void **state)
{
    struct fl_bpmn_doc *doc;
    const struct fl_stage *st;
    (void)state;
    doc =
        load("  <bpmn:startEvent id=\"s\"/>\n"
             "  <bpmn:userTask id=\"t\" name=\"Offer\">\n"
             "    <bpmn:extensionElements>\n"
             "      <flowd:stage duration=\"P3D\" remindBefore=\"P1D\" calendar=\"default\">\n"
             "        <flowd:raci responsible=\"sales_manager, junior\" "
             "accountable=\"head_of_sales\" consulted=\"lawyer\" informed=\"accountant,ceo\"/>\n"
             "        <flowd:result expected=\"Signed offer\" format=\"PDF\" channel=\"email\"/>\n"
             "        <flowd:notes>Use the new template.</flowd:notes>\n"
             "        <flowd:mainAction kind=\"document\" ref=\"offer\" required=\"true\"/>\n"
             "      </flowd:stage>\n"
             "    </bpmn:extensionElements>\n"
             "  </bpmn:userTask>\n"
             "  <bpmn:endEvent id=\"e\"/>\n" SIMPLE_FLOWS);
    st = node(doc->processes[0], "t")->stage;
    assert_non_null(st);
    assert_int_equal(doc->processes[0]->n_warnings, 0);
    assert_string_equal(st->duration, "P3D");
    assert_string_equal(st->remind_before, "P1D");
    assert_string_equal(st->calendar, "default");
    assert_int_equal(st->responsible.n, 2);
    assert_string_equal(st->responsible.items[0], "sales_manager");
    assert_string_equal(st->responsible.items[1], "junior");
    assert_string_equal(st->accountable, "head_of_sales");
    assert_int_equal(st->consulted.n, 1);
    assert_string_equal(st->consulted.items[0], "lawyer");
    assert_int_equal(st->informed.n, 2);
    assert_string_equal(st->informed.items[1], "ceo");
    assert_string_equal(st->expected_result, "Signed offer");
    assert_string_equal(st->result_format, "PDF");
    assert_string_equal(st->channel, "email");
    assert_string_equal(st->notes, "Use the new template.");
    assert_string_equal(st->main_action_kind, "document");
    assert_string_equal(st->main_action_ref, "offer");
    assert_true(st->main_action_required);
    assert_null(st->assignee);
    fl_bpmn_doc_free(doc);
}

static void test_repeated_stage_elements(void **state)
{
    struct fl_bpmn_doc *doc;
    const struct fl_stage *st;
    (void)state;
    /* found by fuzz_bpmn: a second flowd:raci leaked the first one's accountable */
    doc = load(
        "  <bpmn:startEvent id=\"s\"/>\n"
        "  <bpmn:userTask id=\"t\" camunda:candidateUsers=\"x,y\"><bpmn:extensionElements>\n"
        "    <zeebe:assignmentDefinition candidateUsers=\"z\"/>\n"
        "    <flowd:stage><flowd:raci responsible=\"a,b\" accountable=\"c\"/>\n"
        "      <flowd:raci responsible=\"d\" accountable=\"e\" informed=\"f\"/></flowd:stage>\n"
        "    <flowd:stage duration=\"P1D\"><flowd:mainAction kind=\"call\"/>"
        "<flowd:mainAction kind=\"email\" ref=\"m\"/></flowd:stage>\n"
        "  </bpmn:extensionElements></bpmn:userTask>\n"
        "  <bpmn:endEvent id=\"e\"/>\n" SIMPLE_FLOWS);
    st = node(doc->processes[0], "t")->stage;
    assert_int_equal(st->responsible.n, 1);
    assert_string_equal(st->responsible.items[0], "d");
    assert_string_equal(st->accountable, "e");
    assert_string_equal(st->informed.items[0], "f");
    assert_int_equal(st->candidate_users.n, 1);
    assert_string_equal(st->candidate_users.items[0], "z");
    assert_string_equal(st->duration, "P1D");
    assert_string_equal(st->main_action_kind, "email");
    assert_string_equal(st->main_action_ref, "m");
    fl_bpmn_doc_free(doc);
}

static void test_camunda7_mapping(void **state)
{
    struct fl_bpmn_doc *doc;
    const struct fl_model *m;
    const struct fl_stage *st;
    (void)state;
    doc = load(
        "  <bpmn:startEvent id=\"s\"/>\n"
        "  <bpmn:userTask id=\"t\" camunda:assignee=\"demo\" "
        "camunda:candidateGroups=\"sales, management\" camunda:candidateUsers=\"ann\" "
        "camunda:dueDate=\"2026-12-01T10:00:00Z\" camunda:followUpDate=\"2026-11-30\"/>\n"
        "  <bpmn:serviceTask id=\"job\" camunda:type=\"external\" camunda:topic=\"invoice\"/>\n"
        "  <bpmn:scriptTask id=\"sc\" scriptFormat=\"feel\" camunda:resultVariable=\"r\">\n"
        "    <bpmn:script>x * 2</bpmn:script>\n"
        "  </bpmn:scriptTask>\n"
        "  <bpmn:endEvent id=\"e\"/>\n"
        "  <bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"t\"/>\n"
        "  <bpmn:sequenceFlow id=\"f2\" sourceRef=\"t\" targetRef=\"job\"/>\n"
        "  <bpmn:sequenceFlow id=\"f3\" sourceRef=\"job\" targetRef=\"sc\"/>\n"
        "  <bpmn:sequenceFlow id=\"f4\" sourceRef=\"sc\" targetRef=\"e\"/>\n");
    m = doc->processes[0];
    st = node(m, "t")->stage;
    assert_string_equal(st->assignee, "demo");
    assert_int_equal(st->candidate_groups.n, 2);
    assert_string_equal(st->candidate_groups.items[0], "sales");
    assert_string_equal(st->candidate_groups.items[1], "management");
    assert_int_equal(st->candidate_users.n, 1);
    assert_string_equal(st->candidate_users.items[0], "ann");
    assert_string_equal(st->due_date, "2026-12-01T10:00:00Z");
    assert_string_equal(st->follow_up_date, "2026-11-30");
    assert_string_equal(node(m, "job")->job_type, "invoice");
    assert_int_equal(node(m, "job")->job_retries, 3);
    assert_string_equal(fl_feel_source(node(m, "sc")->script), "x * 2");
    assert_string_equal(node(m, "sc")->result_variable, "r");
    fl_bpmn_doc_free(doc);
}

static void test_camunda8_mapping(void **state)
{
    struct fl_bpmn_doc *doc;
    const struct fl_stage *st;
    (void)state;
    doc = load("  <bpmn:startEvent id=\"s\"/>\n"
               "  <bpmn:userTask id=\"t\" camunda:candidateGroups=\"old1,old2,old3\">\n"
               "    <bpmn:extensionElements>\n"
               "      <zeebe:assignmentDefinition assignee=\"=owner\" "
               "candidateGroups=\"sales,legal\" candidateUsers=\"=[&quot;a&quot;]\"/>\n"
               "      <zeebe:taskSchedule dueDate=\"=now() + duration(&quot;P2D&quot;)\" "
               "followUpDate=\"2026-01-01T00:00:00Z\"/>\n"
               "    </bpmn:extensionElements>\n"
               "  </bpmn:userTask>\n"
               "  <bpmn:endEvent id=\"e\"/>\n" SIMPLE_FLOWS);
    st = node(doc->processes[0], "t")->stage;
    assert_string_equal(st->assignee, "=owner");
    assert_int_equal(st->candidate_groups.n, 2);
    assert_string_equal(st->candidate_groups.items[1], "legal");
    assert_int_equal(st->candidate_users.n, 1); /* an expression stays whole */
    assert_string_equal(st->candidate_users.items[0], "=[\"a\"]");
    assert_string_equal(st->due_date, "=now() + duration(\"P2D\")");
    assert_string_equal(st->follow_up_date, "2026-01-01T00:00:00Z");
    fl_bpmn_doc_free(doc);
}

static void test_jobs_and_ignored_extensions(void **state)
{
    struct fl_bpmn_doc *doc;
    const struct fl_model *m;
    (void)state;
    doc = load("  <bpmn:startEvent id=\"s\"/>\n"
               "  <bpmn:serviceTask id=\"own\"><bpmn:extensionElements>\n"
               "    <flowd:job type=\"send-invoice\" retries=\"0\"/>\n"
               "  </bpmn:extensionElements></bpmn:serviceTask>\n"
               "  <bpmn:scriptTask id=\"worker\"><bpmn:extensionElements>\n"
               "    <zeebe:taskDefinition type=\"script-worker\"/>\n"
               "    <zeebe:taskListeners><zeebe:taskListener/></zeebe:taskListeners>\n"
               "  </bpmn:extensionElements></bpmn:scriptTask>\n"
               "  <bpmn:endEvent id=\"e\"/>\n"
               "  <bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"own\"/>\n"
               "  <bpmn:sequenceFlow id=\"f2\" sourceRef=\"own\" targetRef=\"worker\"/>\n"
               "  <bpmn:sequenceFlow id=\"f3\" sourceRef=\"worker\" targetRef=\"e\"/>\n");
    m = doc->processes[0];
    assert_int_equal(node(m, "own")->kind, FL_NODE_SERVICE_TASK);
    assert_string_equal(node(m, "own")->job_type, "send-invoice");
    assert_int_equal(node(m, "own")->job_retries, 0);
    /* a Camunda 8 script task run by a worker is a job */
    assert_int_equal(node(m, "worker")->kind, FL_NODE_SERVICE_TASK);
    assert_string_equal(node(m, "worker")->job_type, "script-worker");
    assert_null(node(m, "worker")->script);
    /* listeners are not run: the model says so */
    assert_int_equal(m->n_warnings, 1);
    assert_string_equal(m->warnings[0].element, "worker");
    assert_int_equal(m->warnings[0].line, 10);
    assert_int_equal(m->warnings[0].column, 5);
    assert_non_null(strstr(m->warnings[0].message, "listeners of 'worker' are ignored"));
    fl_bpmn_doc_free(doc);
}

static void test_not_executable_fallback(void **state)
{
    const char *xml = HEAD "<bpmn:process id=\"p\" isExecutable=\"false\">\n"
                           "  <bpmn:startEvent id=\"s\"/>\n"
                           "</bpmn:process>\n"
                           "<bpmn:process id=\"empty\"/>\n"
                           "</bpmn:definitions>\n";
    struct fl_bpmn_doc *doc;
    struct fl_error err;
    (void)state;
    assert_int_equal(fl_bpmn_read(xml, strlen(xml), &doc, &err), 0);
    assert_int_equal(doc->n_processes, 1); /* the empty one is skipped */
    assert_int_equal(doc->processes[0]->n_warnings, 1);
    assert_string_equal(doc->processes[0]->warnings[0].element, "p");
    assert_int_equal(doc->processes[0]->warnings[0].line, 3);
    assert_non_null(strstr(doc->processes[0]->warnings[0].message, "isExecutable"));
    fl_bpmn_doc_free(doc);
}

static void test_only_executable_read(void **state)
{
    const char *xml = HEAD "<bpmn:process id=\"a\" isExecutable=\"false\">\n"
                           "  <bpmn:startEvent id=\"s1\"/>\n"
                           "</bpmn:process>\n"
                           "<bpmn:process id=\"b\" isExecutable=\"true\">\n"
                           "  <bpmn:startEvent id=\"s2\"/>\n"
                           "</bpmn:process>\n"
                           "</bpmn:definitions>\n";
    struct fl_bpmn_doc *doc;
    struct fl_error err;
    (void)state;
    assert_int_equal(fl_bpmn_read(xml, strlen(xml), &doc, &err), 0);
    assert_int_equal(doc->n_processes, 1);
    assert_string_equal(doc->processes[0]->key, "b");
    assert_int_equal(doc->processes[0]->n_warnings, 0);
    fl_bpmn_doc_free(doc);
}

/* What flowd cannot run in-process becomes an external job whose type names it, with a
 * warning saying so. */
static void test_external_jobs(void **state)
{
    static const struct {
        const char *id, *type;
    } want[] = {
        {"cl", "java:org.acme.Charge"},
        {"ex", "expression:${bean.run(execution)}"},
        {"de", "delegate:${charger}"},
        {"ml", "camunda:mail"},
        {"cn", "connector:http-connector"},
        {"gr", "script:groovy"},
        {"xs", "script:xslt"},
        {"im", "expression:${environment.services.get}"},
        {"ws", "billing"},
        {"st", "java:org.acme.Send"},
        {"br", "delegate:${rules}"},
    };
    struct fl_bpmn_doc *doc;
    const struct fl_model *m;
    size_t i, k;
    (void)state;
    doc = load("  <bpmn:startEvent id=\"s\"/>\n"
               "  <bpmn:serviceTask id=\"cl\" camunda:class=\"org.acme.Charge\"/>\n"
               "  <bpmn:serviceTask id=\"ex\" camunda:expression=\"${bean.run(execution)}\"/>\n"
               "  <bpmn:serviceTask id=\"de\" camunda:delegateExpression=\"${charger}\"/>\n"
               "  <bpmn:serviceTask id=\"ml\" camunda:type=\"mail\"/>\n"
               "  <bpmn:serviceTask id=\"cn\"><bpmn:extensionElements><camunda:connector>"
               "<camunda:connectorId>http-connector</camunda:connectorId></camunda:connector>"
               "</bpmn:extensionElements></bpmn:serviceTask>\n"
               "  <bpmn:scriptTask id=\"gr\" scriptFormat=\"groovy\"><bpmn:script>x = 1"
               "</bpmn:script></bpmn:scriptTask>\n"
               "  <bpmn:scriptTask id=\"xs\" scriptFormat=\"xslt\" camunda:resource=\"a.xsl\"/>\n"
               "  <bpmn:serviceTask id=\"im\" implementation=\"${environment.services.get}\"/>\n"
               "  <bpmn:serviceTask id=\"ws\" implementation=\"billing\"/>\n"
               "  <bpmn:sendTask id=\"st\" camunda:class=\"org.acme.Send\"/>\n"
               "  <bpmn:businessRuleTask id=\"br\" camunda:delegateExpression=\"${rules}\"/>\n");
    m = doc->processes[0];
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct fl_node *n = node(m, want[i].id);
        bool warned = false;
        assert_non_null(n->job_type);
        if (strcmp(n->job_type, want[i].type))
            fail_msg("'%s' has job type '%s', expected '%s'", n->id, n->job_type, want[i].type);
        for (k = 0; k < m->n_warnings; k++)
            warned |= !strcmp(m->warnings[k].element, want[i].id) &&
                      strstr(m->warnings[k].message, "runs as an external job") != NULL;
        /* a plain implementation name is a job type, not something flowd cannot run */
        assert_int_equal(warned, strcmp(want[i].id, "ws") != 0);
    }
    assert_int_equal(node(m, "gr")->kind, FL_NODE_SERVICE_TASK);
    assert_null(node(m, "gr")->script);
    assert_int_equal(node(m, "st")->kind, FL_NODE_SEND_TASK);
    fl_bpmn_doc_free(doc);
}

static void test_warnings(void **state)
{
    struct fl_bpmn_doc *doc;
    const struct fl_model *m;
    (void)state;
    doc = load("  <bpmn:startEvent id=\"s\"/>\n"
               "  <bpmn:parallelGateway id=\"g\"/>\n"
               "  <bpmn:task id=\"t\"/>\n"
               "  <bpmn:task id=\"lost\"/>\n"
               "  <bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"g\"/>\n"
               "  <bpmn:sequenceFlow id=\"f2\" sourceRef=\"g\" targetRef=\"t\">\n"
               "    <bpmn:conditionExpression>=ok</bpmn:conditionExpression>\n"
               "  </bpmn:sequenceFlow>\n");
    m = doc->processes[0];
    assert_int_equal(m->n_warnings, 2);
    assert_string_equal(m->warnings[0].element, "f2");
    assert_int_equal(m->warnings[0].line, 9);
    assert_int_equal(m->warnings[0].column, 3);
    assert_non_null(strstr(m->warnings[0].message, "parallelGateway 'g'"));
    assert_string_equal(m->warnings[1].element, "lost");
    assert_int_equal(m->warnings[1].line, 7);
    assert_non_null(strstr(m->warnings[1].message, "cannot be reached"));
    fl_bpmn_doc_free(doc);
}

static void test_columns_count_characters(void **state)
{
    struct fl_bpmn_doc *doc;
    const struct fl_model *m;
    (void)state;
    /* "Ä" and "ü" are two bytes each in UTF-8 but one column each; CR LF is one line end */
    doc = load("  <bpmn:startEvent id=\"s\" name=\"\xc3\x84\xc3\xbc\"/><bpmn:task id=\"t\"/>\r\n"
               "  <bpmn:endEvent id=\"e\"/>\n" SIMPLE_FLOWS);
    m = doc->processes[0];
    assert_int_equal(node(m, "t")->line, 4);
    assert_int_equal(node(m, "t")->column, 38);
    assert_int_equal(node(m, "e")->line, 5);
    assert_int_equal(node(m, "e")->column, 3);
    fl_bpmn_doc_free(doc);
}

/* ---- errors ---- */

static void test_malformed_xml(void **state)
{
    (void)state;
    expect_doc_error(HEAD PROC "  <bpmn:startEvent id=\"s\">\n  </bpmn:task>\n" TAIL, FL_EPARSE,
                     "malformed XML: Opening and ending tag mismatch: startEvent line 4 and task",
                     "", 5, 15);
    expect_doc_error("", FL_EPARSE, "empty", "", 0, 0);
    {
        struct fl_bpmn_doc *doc = NULL;
        char *xml = wrap("  <bpmn:startEvent id=\"s\"/><bpmn:startEvent id=\"s\"/>\n");
        /* err is optional */
        assert_int_equal(fl_bpmn_read(xml, strlen(xml), &doc, NULL), FL_EMODEL);
        assert_null(doc);
        free(xml);
    }
    /* an encoding error (reported by libxml2 outside the parser context) stays quiet */
    expect_doc_error("<?xml version=\"1.0\" encoding=\"ISO-2022-JP\"?>\n<a>\x1b$B\xff\xff</a>",
                     FL_EPARSE, "malformed XML", "", 2, 4);
    expect_doc_error("not xml at all", FL_EPARSE, "malformed XML", "", 1, 1);
}

static void test_wrong_root(void **state)
{
    (void)state;
    expect_doc_error("<?xml version=\"1.0\"?>\n<definitions xmlns=\"http://example.com/x\"/>",
                     FL_EMODEL,
                     "root element is 'definitions' in namespace 'http://example.com/x', "
                     "expected BPMN 2.0 definitions",
                     "", 2, 1);
    /* the BPMN namespace with another prefix is fine; a bpmn: prefix bound elsewhere is not */
    expect_doc_error("<?xml version=\"1.0\"?>\n<x:definitions xmlns:x=\"http://www.omg.org/spec/"
                     "BPMN/20100524/MODEL\" id=\"d\"/>",
                     FL_EMODEL, "no process in the document", "d", 2, 1);
    expect_doc_error("<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/DI\"/>",
                     FL_EMODEL,
                     "root element is 'definitions' in namespace 'http://www.omg.org/"
                     "spec/BPMN/20100524/DI'",
                     "", 1, 1);
}

static void test_too_big(void **state)
{
    char *big;
    struct fl_bpmn_doc *doc = NULL;
    struct fl_error err;
    (void)state;
    big = fl_malloc(FL_BPMN_MAX_BYTES + 1);
    memset(big, ' ', FL_BPMN_MAX_BYTES + 1);
    assert_int_equal(fl_bpmn_read(big, FL_BPMN_MAX_BYTES + 1, &doc, &err), FL_ETOOBIG);
    assert_null(doc);
    assert_non_null(strstr(err.msg, "limit"));
    free(big);
}

static void test_entities_refused(void **state)
{
    (void)state;
    expect_doc_error("<?xml version=\"1.0\"?>\n<!DOCTYPE d [<!ENTITY a \"aaaa\">]>\n"
                     "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\">"
                     "&a;</bpmn:definitions>",
                     FL_EUNSUPPORTED, "DTD entity declarations", "", 1, 1);
}

static void test_structure_errors(void **state)
{
    (void)state;
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"ghost\"/>\n",
                 FL_EMODEL, "has targetRef 'ghost', which is not an element of process 'p'", "f", 5,
                 54);
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:sequenceFlow id=\"f\" targetRef=\"s\"/>\n",
                 FL_EMODEL, "sequence flow 'f' has no sourceRef", "f", 5, 3);
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:task id=\"s\"/>\n",
                 FL_EMODEL, "duplicate id 's' (first used at line 4, column 3)", "s", 5, 18);
    expect_error("  <bpmn:task id=\"t\"/>\n", FL_EUNSUPPORTED,
                 "process 'p' has no start event; flowd needs", "p", 3, 1);
    expect_error("  <bpmn:startEvent id=\"s1\"/>\n"
                 "  <bpmn:startEvent id=\"s2\"/>\n",
                 FL_EMODEL, "more than one none start event ('s1' and 's2')", "s2", 5, 3);
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:task id=\"t\"/>\n"
                 "  <bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"t\"/>\n"
                 "  <bpmn:sequenceFlow id=\"back\" sourceRef=\"t\" targetRef=\"s\"/>\n",
                 FL_EMODEL, "sequence flow 'back' leads into start event 's'", "back", 7, 57);
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:endEvent id=\"e\"/>\n"
                 "  <bpmn:task id=\"t\"/>\n"
                 "  <bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"e\"/>\n"
                 "  <bpmn:sequenceFlow id=\"f2\" sourceRef=\"e\" targetRef=\"t\"/>\n",
                 FL_EMODEL, "sequence flow 'f2' leaves end event 'e'", "f2", 8, 41);
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:exclusiveGateway id=\"g\"/>\n"
                 "  <bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"g\"/>\n",
                 FL_EMODEL, "exclusiveGateway 'g' has no outgoing sequence flow", "g", 5, 3);
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:exclusiveGateway id=\"g\"/>\n"
                 "  <bpmn:endEvent id=\"e\"/>\n"
                 "  <bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"g\"/>\n"
                 "  <bpmn:sequenceFlow id=\"a\" sourceRef=\"g\" targetRef=\"e\"/>\n"
                 "  <bpmn:sequenceFlow id=\"b\" sourceRef=\"g\" targetRef=\"e\"/>\n",
                 FL_EMODEL,
                 "exclusiveGateway 'g' has 2 outgoing flows without a condition ('a', 'b') and "
                 "no default flow",
                 "g", 5, 3);
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:exclusiveGateway id=\"g\" default=\"f1\"/>\n"
                 "  <bpmn:endEvent id=\"e\"/>\n"
                 "  <bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"g\"/>\n"
                 "  <bpmn:sequenceFlow id=\"a\" sourceRef=\"g\" targetRef=\"e\"/>\n",
                 FL_EMODEL, "default flow 'f1' of exclusiveGateway 'g' is not one of its outgoing",
                 "g", 5, 42);
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:task id=\"t\" default=\"zzz\"/>\n",
                 FL_EMODEL, "default flow 'zzz' of task 't' is not a sequence flow", "t", 5, 30);
}

static void test_unsupported(void **state)
{
    (void)state;
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:boundaryEvent id=\"b\" attachedToRef=\"s\"/>\n",
                 FL_EMODEL, "boundaryEvent 'b' has no event definition", "b", 5, 3);
    /* read into the model, then refused by the engine gate at the element */
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:startEvent id=\"x\">\n"
                 "    <bpmn:errorEventDefinition/>\n"
                 "  </bpmn:startEvent>\n",
                 FL_EMODEL,
                 "error start event 'x' is at process level; it belongs in an event subprocess",
                 "x", 5, 3);
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:userTask id=\"u\">\n"
                 "    <bpmn:multiInstanceLoopCharacteristics/>\n"
                 "  </bpmn:userTask>\n",
                 FL_EMODEL, "multi-instance 'u' has neither a loopCardinality nor an input", "u", 6,
                 5);
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:endEvent id=\"e\"><bpmn:cancelEventDefinition/></bpmn:endEvent>\n",
                 FL_EUNSUPPORTED, "endEvent 'e': a cancel end event must be inside a transaction",
                 "e", 5, 3);
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:task id=\"t\"/>\n"
                 "  <bpmn:sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"t\">\n"
                 "    <bpmn:conditionExpression>${execution.getVariable('a')}"
                 "</bpmn:conditionExpression>\n"
                 "  </bpmn:sequenceFlow>\n",
                 FL_EUNSUPPORTED, "JUEL 'execution' is the Camunda engine's object", "f", 7, 33);
    expect_error(
        "  <bpmn:startEvent id=\"s\"/>\n"
        "  <bpmn:task id=\"t\"/>\n"
        "  <bpmn:sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"t\">\n"
        "    <bpmn:conditionExpression language=\"javascript\">a</bpmn:conditionExpression>\n"
        "  </bpmn:sequenceFlow>\n",
        FL_EUNSUPPORTED, "is in language 'javascript'; flowd runs FEEL and simple JUEL", "f", 7,
        41);
    expect_error(
        "  <bpmn:startEvent id=\"s\"/>\n"
        "  <bpmn:scriptTask id=\"sc\" scriptFormat=\"feel\" camunda:resource=\"a.feel\"/>\n",
        FL_EUNSUPPORTED, "loads its script from a camunda:resource", "sc", 5, 66);
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:userTask id=\"u\" camunda:assignee=\"${user.getName()}\"/>\n",
                 FL_EUNSUPPORTED,
                 "assignee of 'u' ('${user.getName()}'): JUEL method call 'user.getName(...)' has "
                 "no FEEL equivalent",
                 "u", 5, 45);
}

static void test_task_errors(void **state)
{
    (void)state;
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:serviceTask id=\"j\"/>\n",
                 FL_EMODEL, "serviceTask 'j' has no job type", "j", 5, 3);
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:serviceTask id=\"j\"><bpmn:extensionElements>\n"
                 "    <zeebe:taskDefinition type=\"x\" retries=\"many\"/>\n"
                 "  </bpmn:extensionElements></bpmn:serviceTask>\n",
                 FL_EMODEL, "retries of 'j' must be a whole number", "j", 6, 45);
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:scriptTask id=\"sc\"><bpmn:extensionElements>\n"
                 "    <zeebe:script expression=\"=1\"/>\n"
                 "  </bpmn:extensionElements></bpmn:scriptTask>\n",
                 FL_EMODEL, "scriptTask 'sc' has no result variable", "sc", 5, 3);
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:task id=\"t\"><bpmn:extensionElements>\n"
                 "    <flowd:stage duration=\"P1D\"/>\n"
                 "  </bpmn:extensionElements></bpmn:task>\n",
                 FL_EMODEL, "flowd:stage is not allowed on task 't'", "t", 6, 5);
    expect_error("  <bpmn:extensionElements><flowd:job type=\"x\"/></bpmn:extensionElements>\n"
                 "  <bpmn:startEvent id=\"s\"/>\n",
                 FL_EMODEL, "flowd:job is not allowed on process 'p'", "p", 4, 27);
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:serviceTask id=\"sv\"><bpmn:extensionElements>\n"
                 "    <zeebe:taskDefinition type=\"=a &gt; )\"/>\n"
                 "  </bpmn:extensionElements></bpmn:serviceTask>\n",
                 FL_EMODEL, "syntax error in type of 'sv'", "sv", 6, 41);
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:scriptTask id=\"sc\"><bpmn:extensionElements>\n"
                 "    <zeebe:script expression=\"=(a &lt; b))\" resultVariable=\"r\"/>\n"
                 "  </bpmn:extensionElements></bpmn:scriptTask>\n",
                 FL_EMODEL, "syntax error in script of scriptTask 'sc'", "sc", 6, 42);
}

#define STAGE_TASK(stage_xml)                                                                      \
    "  <bpmn:startEvent id=\"s\"/>\n"                                                              \
    "  <bpmn:userTask id=\"u\"><bpmn:extensionElements>\n" stage_xml                               \
    "  </bpmn:extensionElements></bpmn:userTask>\n"

static void test_stage_errors(void **state)
{
    (void)state;
    expect_error(STAGE_TASK("    <flowd:stage duration=\"P3X\"/>\n"), FL_EMODEL,
                 "invalid duration 'P3X' in flowd:stage of 'u'", "u", 6, 28);
    expect_error(STAGE_TASK("    <flowd:stage remindBefore=\"-P1D\"/>\n"), FL_EMODEL,
                 "must not be negative", "u", 6, 32);
    expect_error(STAGE_TASK("    <flowd:stage remindbefore=\"P1D\"/>\n"), FL_EMODEL,
                 "unknown attribute 'remindbefore' on flowd:stage", "u", 6, 32);
    expect_error(STAGE_TASK("    <flowd:stage>\n"
                            "      <flowd:raci responsible=\"a\" accountable=\"boss, ceo\"/>\n"
                            "    </flowd:stage>\n"),
                 FL_EMODEL,
                 "user task 'u' has 2 accountable roles ('boss', 'ceo'); RACI allows exactly one",
                 "u", 7, 48);
    expect_error(STAGE_TASK("    <flowd:stage><flowd:mainAction kind=\"call\" required=\"yes\"/>"
                            "</flowd:stage>\n"),
                 FL_EMODEL, "must be 'true' or 'false', not 'yes'", "u", 6, 58);
    expect_error(STAGE_TASK("    <flowd:stage><flowd:mainAction ref=\"x\"/></flowd:stage>\n"),
                 FL_EMODEL, "flowd:mainAction of user task 'u' has no kind", "u", 6, 18);
    expect_error(STAGE_TASK("    <flowd:stage><flowd:racy/></flowd:stage>\n"), FL_EMODEL,
                 "unknown element 'flowd:racy' in flowd:stage of 'u'", "u", 6, 18);
}

static void test_feel_syntax_error(void **state)
{
    (void)state;
    /* the column points at the offending character inside the condition text, after the
     * '=' and the entity &gt; (4 bytes in the file, 1 in the expression) */
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:task id=\"t\"/>\n"
                 "  <bpmn:sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"t\">\n"
                 "    <bpmn:conditionExpression>=a &gt; )</bpmn:conditionExpression>\n"
                 "  </bpmn:sequenceFlow>\n",
                 FL_EMODEL, "syntax error in condition of 'f'", "f", 7, 39);
    /* a '>' (and the other quote) inside an attribute value does not end the start tag */
    expect_error(
        "  <bpmn:startEvent id=\"s\"/>\n"
        "  <bpmn:task id=\"t\"/>\n"
        "  <bpmn:sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"t\">\n"
        "    <bpmn:conditionExpression note='1 > \"2\"'>=a &gt; )</bpmn:conditionExpression>\n"
        "  </bpmn:sequenceFlow>\n",
        FL_EMODEL, "syntax error in condition of 'f'", "f", 7, 54);
    /* FEEL counts code points; so does the column in the file */
    expect_error(
        "  <bpmn:startEvent id=\"s\"/>\n"
        "  <bpmn:task id=\"t\"/>\n"
        "  <bpmn:sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"t\">\n"
        "    <bpmn:conditionExpression>=\"\xc3\x84\xc3\xbc\" )</bpmn:conditionExpression>\n"
        "  </bpmn:sequenceFlow>\n",
        FL_EMODEL, "syntax error in condition of 'f'", "f", 7, 37);
    expect_error("  <bpmn:startEvent id=\"s\"/>\n"
                 "  <bpmn:task id=\"t\"/>\n"
                 "  <bpmn:sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"t\">\n"
                 "    <bpmn:conditionExpression>  </bpmn:conditionExpression>\n"
                 "  </bpmn:sequenceFlow>\n",
                 FL_EMODEL, "condition of 'f' is empty", "f", 7, 33);
}

/* ---- the demo ---- */

static void test_sales_demo(void **state)
{
    char path[4096];
    FILE *f;
    char *xml;
    size_t len;
    long sz;
    struct fl_bpmn_doc *doc = NULL;
    struct fl_error err;
    const struct fl_model *m;
    const struct fl_node *offer;
    size_t i, n_user = 0;
    int rc;
    (void)state;
    snprintf(path, sizeof(path), "%s/examples/sales.bpmn", FLOWD_SOURCE_DIR);
    f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    xml = fl_malloc((size_t)sz + 1);
    len = fread(xml, 1, (size_t)sz, f);
    fclose(f);
    rc = fl_bpmn_read(xml, len, &doc, &err);
    if (rc)
        fail_msg("sales.bpmn: %s (element '%s', %d:%d)", err.msg, err.element, err.line,
                 err.column);
    assert_int_equal(doc->n_processes, 1);
    m = doc->processes[0];
    for (i = 0; i < m->n_warnings; i++)
        print_message("warning: %s (%s %d:%d)\n", m->warnings[i].message, m->warnings[i].element,
                      m->warnings[i].line, m->warnings[i].column);
    assert_int_equal(m->n_warnings, 0);
    assert_string_equal(m->key, "sales");
    for (i = 0; i < m->n_nodes; i++) {
        const struct fl_node *n = &m->nodes[i];
        if (n->kind == FL_NODE_EXCLUSIVE_GW && n->n_outgoing > 1)
            assert_int_not_equal(n->default_flow, FL_NONE); /* every choice has a default */
        if (n->kind == FL_NODE_USER_TASK) {
            n_user++;
            assert_non_null(n->lane);
            assert_non_null(n->stage->duration);
            assert_non_null(n->stage->accountable);
        }
    }
    assert_true(n_user >= 8);
    offer = node(m, "prepare_offer");
    assert_string_equal(offer->lane, "sales_manager");
    assert_string_equal(offer->stage->main_action_kind, "document");
    assert_true(offer->stage->main_action_required);
    fl_bpmn_doc_free(doc);
    free(xml);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_kinds_and_gateways),
        cmocka_unit_test(test_lanes),
        cmocka_unit_test(test_flowd_stage),
        cmocka_unit_test(test_repeated_stage_elements),
        cmocka_unit_test(test_camunda7_mapping),
        cmocka_unit_test(test_camunda8_mapping),
        cmocka_unit_test(test_jobs_and_ignored_extensions),
        cmocka_unit_test(test_not_executable_fallback),
        cmocka_unit_test(test_only_executable_read),
        cmocka_unit_test(test_external_jobs),
        cmocka_unit_test(test_warnings),
        cmocka_unit_test(test_columns_count_characters),
        cmocka_unit_test(test_malformed_xml),
        cmocka_unit_test(test_wrong_root),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_entities_refused),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_task_errors),
        cmocka_unit_test(test_stage_errors),
        cmocka_unit_test(test_feel_syntax_error),
        cmocka_unit_test(test_sales_demo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
