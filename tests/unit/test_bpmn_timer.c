/* Unit tests of timer events in the BPMN reader: timer start, intermediate catch and
 * boundary events land in node->timer, attached_to, cancel_activity, the task's boundaries
 * and model->timer_starts; every bad timer text or placement is refused with its element,
 * line and column. Bodies start on line 4 (line 1 the XML declaration, 2 the definitions,
 * 3 the process). */
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
    "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"defs\">\n"                           \
    "<bpmn:process id=\"p\" isExecutable=\"true\">\n"
#define TAIL "</bpmn:process>\n</bpmn:definitions>\n"

static char *wrap(const char *body)
{
    size_t n = strlen(HEAD) + strlen(body) + strlen(TAIL) + 1;
    char *s = fl_malloc(n);
    snprintf(s, n, "%s%s%s", HEAD, body, TAIL);
    return s;
}

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
    return doc;
}

static void expect_error(const char *body, int code, const char *msg, const char *element, int line,
                         int col)
{
    struct fl_bpmn_doc *doc = NULL;
    struct fl_error err;
    char *xml = wrap(body);
    int rc = fl_bpmn_read(xml, strlen(xml), &doc, &err);
    free(xml);
    if (rc != code || !strstr(err.msg, msg))
        fail_msg("expected %s '%s', got %s '%s'", fl_err_name(code), msg, fl_err_name(rc), err.msg);
    assert_null(doc);
    assert_string_equal(err.element, element);
    if (err.line != line || err.column != col)
        fail_msg("'%s': expected %d:%d, got %d:%d", err.msg, line, col, err.line, err.column);
}

static const struct fl_node *node(const struct fl_model *m, const char *id)
{
    uint32_t i = fl_model_find_node(m, id);
    if (i == FL_NONE)
        fail_msg("no node '%s'", id);
    return &m->nodes[i];
}

#define TIMER(el, attrs, def, text)                                                                \
    "  <bpmn:" el " " attrs ">\n"                                                                  \
    "    <bpmn:timerEventDefinition>\n"                                                            \
    "      <bpmn:" def ">" text "</bpmn:" def ">\n"                                                \
    "    </bpmn:timerEventDefinition>\n"                                                           \
    "  </bpmn:" el ">\n"

/* The bodies below are XML, one line of source per line of document. */
/* clang-format off */
static void test_forms(void **state)
{
    struct fl_bpmn_doc *doc;
    const struct fl_model *m;
    const struct fl_node *u, *j, *b;
    (void)state;
    doc = load("  <bpmn:startEvent id=\"s\"/>\n" /* line 4 */
               TIMER("startEvent", "id=\"ts\"", "timeCycle", "R/P1D")
               TIMER("startEvent", "id=\"td\"", "timeDate", "2026-03-01T09:00:00Z")
               "  <bpmn:userTask id=\"u\"/>\n"
               "  <bpmn:serviceTask id=\"j\"><bpmn:extensionElements><zeebe:taskDefinition "
               "type=\"x\"/></bpmn:extensionElements></bpmn:serviceTask>\n"
               TIMER("boundaryEvent", "id=\"b1\" attachedToRef=\"u\"", "timeDuration", "PT1H")
               TIMER("boundaryEvent", "id=\"b2\" attachedToRef=\"u\" cancelActivity=\"false\"",
                     "timeCycle", "R3/PT10M")
               TIMER("boundaryEvent", "id=\"b3\" attachedToRef=\"j\" cancelActivity=\"true\"",
                     "timeDuration", "=duration(\"PT\" + string(minutes) + \"M\")")
               TIMER("intermediateCatchEvent", "id=\"c\"", "timeDuration", "\n   PT5M  \n")
               TIMER("intermediateCatchEvent", "id=\"c2\"", "timeDate", "=deadline")
               "  <bpmn:endEvent id=\"e\"/>\n"
               "  <bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"u\"/>\n"
               "  <bpmn:sequenceFlow id=\"f2\" sourceRef=\"ts\" targetRef=\"u\"/>\n"
               "  <bpmn:sequenceFlow id=\"f3\" sourceRef=\"td\" targetRef=\"u\"/>\n"
               "  <bpmn:sequenceFlow id=\"f4\" sourceRef=\"u\" targetRef=\"c\"/>\n"
               "  <bpmn:sequenceFlow id=\"f5\" sourceRef=\"c\" targetRef=\"c2\"/>\n"
               "  <bpmn:sequenceFlow id=\"f6\" sourceRef=\"c2\" targetRef=\"j\"/>\n"
               "  <bpmn:sequenceFlow id=\"f7\" sourceRef=\"j\" targetRef=\"e\"/>\n"
               "  <bpmn:sequenceFlow id=\"f8\" sourceRef=\"b1\" targetRef=\"e\"/>\n"
               "  <bpmn:sequenceFlow id=\"f9\" sourceRef=\"b2\" targetRef=\"e\"/>\n"
               "  <bpmn:sequenceFlow id=\"f10\" sourceRef=\"b3\" targetRef=\"e\"/>\n");
    m = doc->processes[0];
    assert_int_equal(m->n_warnings, 0);
    assert_int_equal(m->start, fl_model_find_node(m, "s"));
    assert_int_equal(m->n_timer_starts, 2);
    assert_int_equal(m->timer_starts[0], fl_model_find_node(m, "ts"));
    assert_int_equal(m->timer_starts[1], fl_model_find_node(m, "td"));
    assert_int_equal(node(m, "ts")->kind, FL_NODE_TIMER_START);
    assert_int_equal(node(m, "ts")->timer->kind, FL_TIMERDEF_CYCLE);
    assert_string_equal(node(m, "ts")->timer->text, "R/P1D");
    assert_int_equal(node(m, "td")->timer->kind, FL_TIMERDEF_DATE);
    assert_string_equal(node(m, "td")->timer->text, "2026-03-01T09:00:00Z");
    assert_null(node(m, "s")->timer);
    assert_int_equal(node(m, "ts")->attached_to, FL_NONE);

    u = node(m, "u");
    j = node(m, "j");
    assert_int_equal(u->n_boundaries, 2);
    assert_int_equal(u->boundaries[0], fl_model_find_node(m, "b1"));
    assert_int_equal(u->boundaries[1], fl_model_find_node(m, "b2"));
    assert_int_equal(j->n_boundaries, 1);
    assert_int_equal(j->boundaries[0], fl_model_find_node(m, "b3"));
    b = node(m, "b1");
    assert_int_equal(b->kind, FL_NODE_TIMER_BOUNDARY);
    assert_int_equal(b->attached_to, fl_model_find_node(m, "u"));
    assert_true(b->cancel_activity);
    assert_int_equal(b->timer->kind, FL_TIMERDEF_DURATION);
    assert_string_equal(b->timer->text, "PT1H");
    assert_string_equal(fl_node_kind_name(b->kind), "boundaryEvent");
    b = node(m, "b2");
    assert_false(b->cancel_activity);
    assert_int_equal(b->timer->kind, FL_TIMERDEF_CYCLE);
    assert_string_equal(b->timer->text, "R3/PT10M");
    b = node(m, "b3");
    assert_true(b->cancel_activity);
    assert_int_equal(b->attached_to, fl_model_find_node(m, "j"));
    assert_string_equal(b->timer->text, "=duration(\"PT\" + string(minutes) + \"M\")");
    assert_int_equal(node(m, "c")->kind, FL_NODE_TIMER_CATCH);
    assert_string_equal(node(m, "c")->timer->text, "PT5M"); /* trimmed */
    assert_int_equal(node(m, "c2")->timer->kind, FL_TIMERDEF_DATE);
    assert_string_equal(fl_node_kind_name(node(m, "c")->kind), "intermediateCatchEvent");
    fl_bpmn_doc_free(doc);
}

/* Camunda 7 forms: a cron timeCycle and JUEL texts, translated to FEEL */
static void test_camunda7_forms(void **state)
{
    struct fl_bpmn_doc *doc;
    const struct fl_model *m;
    (void)state;
    doc = load(TIMER("startEvent", "id=\"ts\"", "timeCycle", "0 0/5 * * * ?")
               "  <bpmn:sequenceFlow id=\"f1\" sourceRef=\"ts\" targetRef=\"c\"/>\n"
               TIMER("intermediateCatchEvent", "id=\"c\"", "timeDuration", " ${wait} ")
               "  <bpmn:sequenceFlow id=\"f2\" sourceRef=\"c\" targetRef=\"e\"/>\n"
               "  <bpmn:endEvent id=\"e\"/>\n");
    m = doc->processes[0];
    assert_int_equal(m->n_timer_starts, 1);
    assert_string_equal(node(m, "ts")->timer->text, "0 0/5 * * * ?");
    assert_int_equal(node(m, "ts")->timer->kind, FL_TIMERDEF_CYCLE);
    assert_string_equal(node(m, "c")->timer->text, "=wait");
    fl_bpmn_doc_free(doc);
}

static void test_timer_start_only(void **state)
{
    struct fl_bpmn_doc *doc;
    const struct fl_model *m;
    (void)state;
    doc = load(TIMER("startEvent", "id=\"ts\"", "timeCycle", "R/2026-01-01T09:00:00Z/P1D")
               "  <bpmn:endEvent id=\"e\"/>\n"
               "  <bpmn:userTask id=\"lost\"/>\n"
               "  <bpmn:sequenceFlow id=\"f1\" sourceRef=\"ts\" targetRef=\"e\"/>\n");
    m = doc->processes[0];
    assert_int_equal(m->start, FL_NONE);
    assert_int_equal(m->n_timer_starts, 1);
    assert_int_equal(m->n_warnings, 1);
    assert_non_null(strstr(m->warnings[0].message, "'lost' cannot be reached from any start"));
    fl_bpmn_doc_free(doc);
}

/* s0 -> u, then the timer event x on lines 6-10, its time element on line 8. */
#define PRE                                                                                        \
    "  <bpmn:startEvent id=\"s0\"/>\n"                                                             \
    "  <bpmn:userTask id=\"u\"/>\n"
#define FLOW "  <bpmn:sequenceFlow id=\"f\" sourceRef=\"s0\" targetRef=\"u\"/>\n"
/* columns of the first text character on line 8 */
#define COL_CYCLE 23
#define COL_DATE 22
#define COL_DURATION 26

static void test_text_errors(void **state)
{
    (void)state;
    expect_error(PRE TIMER("startEvent", "id=\"x\"", "timeCycle", "R/P0D") FLOW, FL_EMODEL,
                 "timeCycle of 'x': invalid cycle 'R/P0D': period 'P0D' is zero", "x", 8,
                 COL_CYCLE + 2);
    expect_error(PRE TIMER("startEvent", "id=\"x\"", "timeCycle", "R5/PT10M/P1D") FLOW,
                 FL_EMODEL, "invalid cycle", "x", 8, COL_CYCLE + 9);
    expect_error(PRE TIMER("startEvent", "id=\"x\"", "timeCycle", " R/2026-02-30T09:00:00Z/P1D")
                     FLOW,
                 FL_EMODEL, "day 30 is out of range for 2026-02", "x", 8, COL_CYCLE + 1 + 10);
    expect_error(PRE TIMER("startEvent", "id=\"x\"", "timeDate", "2026-02-30") FLOW, FL_EMODEL,
                 "timeDate of 'x': invalid date and time '2026-02-30': day 30 is out of range",
                 "x", 8, COL_DATE + 8);
    expect_error(PRE TIMER("startEvent", "id=\"x\"", "timeDate", "2026-01-01T09:00:00Zx") FLOW,
                 FL_EMODEL, "unexpected 'x' after the time", "x", 8, COL_DATE + 20);
    expect_error(PRE TIMER("intermediateCatchEvent", "id=\"x\"", "timeDuration", "P") FLOW,
                 FL_EMODEL, "invalid ISO 8601 duration 'P'", "x", 8, COL_DURATION + 1);
    expect_error(PRE TIMER("intermediateCatchEvent", "id=\"x\"", "timeDuration", "-PT1H") FLOW,
                 FL_EMODEL, "timeDuration '-PT1H' of 'x' is negative", "x", 8, COL_DURATION);
    expect_error(PRE TIMER("intermediateCatchEvent", "id=\"x\"", "timeDuration", "${wait()}")
                     FLOW,
                 FL_EUNSUPPORTED, "timeDuration of 'x' ('${wait()}'): JUEL method call 'wait(...)'",
                 "x", 8, COL_DURATION + 2);
    expect_error(PRE TIMER("boundaryEvent", "id=\"x\" attachedToRef=\"u\"", "timeCycle",
                           "0 0/5 * * *") FLOW,
                 FL_EMODEL, "timeCycle of 'x': cron '0 0/5 * * *': 5 fields", "x", 8,
                 COL_CYCLE + 11);
    expect_error(PRE TIMER("startEvent", "id=\"x\"", "timeCycle", "0 0 12 ? * FOO") FLOW,
                 FL_EMODEL, "'FOO' is not a day name", "x", 8, COL_CYCLE + 11);
    expect_error(PRE TIMER("intermediateCatchEvent", "id=\"x\"", "timeDuration", "= wait +") FLOW,
                 FL_EMODEL, "syntax error in timeDuration of 'x'", "x", 8, COL_DURATION + 8);
    expect_error(PRE TIMER("intermediateCatchEvent", "id=\"x\"", "timeDate", "  ") FLOW, FL_EMODEL,
                 "timeDate of 'x' is empty", "x", 8, 7);
}

static void test_placement_errors(void **state)
{
    (void)state;
    expect_error(PRE TIMER("intermediateCatchEvent", "id=\"x\"", "timeCycle", "R/P1D") FLOW,
                 FL_EMODEL, "intermediate timer event 'x' has a timeCycle", "x", 8, 7);
    expect_error(PRE TIMER("boundaryEvent", "id=\"x\" attachedToRef=\"s0\"", "timeDuration", "PT1H")
                     FLOW,
                 FL_EMODEL, "attached to startEvent 's0'; boundary events sit on activities", "x", 6,
                 45);
    expect_error(PRE TIMER("boundaryEvent", "id=\"x\" attachedToRef=\"nope\"", "timeDuration",
                           "PT1H") FLOW,
                 FL_EMODEL, "boundary event 'x' is attached to 'nope', which is not a flow node",
                 "x", 6, 45);
    expect_error(PRE TIMER("boundaryEvent", "id=\"x\"", "timeDuration", "PT1H") FLOW, FL_EMODEL,
                 "boundary event 'x' has no attachedToRef", "x", 6, 3);
    expect_error(PRE TIMER("boundaryEvent", "id=\"x\" attachedToRef=\"u\" cancelActivity=\"no\"",
                           "timeDuration", "PT1H") FLOW,
                 FL_EMODEL, "cancelActivity of 'x' is 'no'; give true or false", "x", 6, 64);
    expect_error(PRE "  <bpmn:boundaryEvent id=\"x\" attachedToRef=\"u\">\n"
                     "    <bpmn:timerEventDefinition/>\n"
                     "  </bpmn:boundaryEvent>\n" FLOW,
                 FL_EMODEL, "timer of 'x' has no timeDate, timeDuration or timeCycle", "x", 7, 5);
    expect_error(PRE "  <bpmn:boundaryEvent id=\"x\" attachedToRef=\"u\">\n"
                     "    <bpmn:timerEventDefinition>\n"
                     "      <bpmn:timeDate>2026-01-01</bpmn:timeDate>\n"
                     "      <bpmn:timeDuration>PT1H</bpmn:timeDuration>\n"
                     "    </bpmn:timerEventDefinition>\n"
                     "  </bpmn:boundaryEvent>\n" FLOW,
                 FL_EMODEL, "timer of 'x' has both timeDate and timeDuration", "x", 9, 7);
    expect_error(PRE TIMER("boundaryEvent", "id=\"x\" attachedToRef=\"u\"", "timeDuration", "PT1H")
                     "  <bpmn:sequenceFlow id=\"f\" sourceRef=\"u\" targetRef=\"x\"/>\n",
                 FL_EMODEL, "sequence flow 'f' leads into boundary event 'x'", "f", 11, 54);
    expect_error(PRE TIMER("boundaryEvent", "id=\"x\" attachedToRef=\"u\"", "timeDuration", "PT1H")
                     "  <bpmn:sequenceFlow id=\"f\" sourceRef=\"u\" targetRef=\"u\"/>\n"
                     "  <bpmn:boundaryEvent id=\"y\" attachedToRef=\"u\">"
                     "<bpmn:messageEventDefinition/></bpmn:boundaryEvent>\n",
                 FL_EUNSUPPORTED, "boundaryEvent 'y': this event definition is not supported yet",
                 "y", 12, 3);
    expect_error("  <bpmn:userTask id=\"u\"/>\n"
                 "  <bpmn:intermediateCatchEvent id=\"c\">"
                 "<bpmn:timerEventDefinition><bpmn:timeDuration>PT1M</bpmn:timeDuration>"
                 "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>\n",
                 FL_EUNSUPPORTED, "process 'p' has no start event", "p", 3,
                 1);
}

/* clang-format on */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_camunda7_forms),
        cmocka_unit_test(test_timer_start_only),
        cmocka_unit_test(test_text_errors),
        cmocka_unit_test(test_placement_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
