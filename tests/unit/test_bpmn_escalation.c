/* The BPMN reader on flowd:escalation levels of a stage: levels read in order with their
 * addressees; a missing or invalid `after`, a negative one, levels out of order and a
 * level that tells nobody are errors naming the user task, the attribute and where. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flowd/model.h"

#define DOC_HEAD                                                                                   \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                                 \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "                \
    "xmlns:flowd=\"https://flowd.dev/schema/bpmn/1.0\" id=\"defs\">\n"                             \
    "<bpmn:process id=\"p\" isExecutable=\"true\">\n"                                              \
    "  <bpmn:startEvent id=\"s\"/>\n"                                                              \
    "  <bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"t\"/>\n"                           \
    "  <bpmn:userTask id=\"t\"><bpmn:extensionElements>\n"                                         \
    "    <flowd:stage duration=\"P1D\">\n"
#define DOC_TAIL                                                                                   \
    "    </flowd:stage>\n"                                                                         \
    "  </bpmn:extensionElements></bpmn:userTask>\n"                                                \
    "  <bpmn:sequenceFlow id=\"f2\" sourceRef=\"t\" targetRef=\"e\"/>\n"                           \
    "  <bpmn:endEvent id=\"e\"/>\n"                                                                \
    "</bpmn:process>\n</bpmn:definitions>\n"

static int read_levels(const char *levels, struct fl_bpmn_doc **doc, struct fl_error *err)
{
    char xml[4096];
    snprintf(xml, sizeof(xml), "%s%s%s", DOC_HEAD, levels, DOC_TAIL);
    fl_error_clear(err);
    return fl_bpmn_read(xml, strlen(xml), doc, err);
}

static void test_levels_read(void **state)
{
    struct fl_bpmn_doc *doc = NULL;
    struct fl_error err;
    const struct fl_stage *st;
    (void)state;
    if (read_levels("<flowd:escalation after=\"PT4H\" to=\"accountable\"/>\n"
                    "<flowd:escalation after=\"P1D\" to=\"head_of_sales, head\"/>\n"
                    "<flowd:escalation after=\"P3D\" to=\"director\"/>\n",
                    &doc, &err) != 0)
        fail_msg("read: %s", err.msg);
    st = doc->processes[0]->nodes[fl_model_find_node(doc->processes[0], "t")].stage;
    assert_int_equal(st->n_escalations, 3);
    assert_string_equal(st->escalations[0].after, "PT4H");
    assert_int_equal(st->escalations[0].to.n, 1);
    assert_string_equal(st->escalations[0].to.items[0], "accountable");
    assert_int_equal(st->escalations[1].to.n, 2);
    assert_string_equal(st->escalations[1].to.items[0], "head_of_sales");
    assert_string_equal(st->escalations[1].to.items[1], "head");
    assert_string_equal(st->escalations[2].after, "P3D");
    fl_bpmn_doc_free(doc);
}

static void expect(const char *levels, const char *msg, const char *field, int line)
{
    struct fl_bpmn_doc *doc = NULL;
    struct fl_error err;
    int rc = read_levels(levels, &doc, &err);
    if (rc != FL_EMODEL || !strstr(err.msg, msg))
        fail_msg("expected '%s', got %s '%s'", msg, fl_err_name(rc), err.msg);
    assert_null(doc);
    assert_string_equal(err.element, "t");
    assert_string_equal(err.field, field);
    assert_int_equal(err.line, line);
    assert_true(err.column > 0);
}

static void test_bad_levels(void **state)
{
    (void)state;
    /* the escalation element is on line 8 of the document */
    expect("<flowd:escalation to=\"director\"/>\n", "has no 'after'", "escalation.after", 8);
    expect("<flowd:escalation after=\"P\" to=\"director\"/>\n", "invalid after 'P'",
           "escalation.after", 8);
    expect("<flowd:escalation after=\"-P1D\" to=\"director\"/>\n", "non-negative",
           "escalation.after", 8);
    expect("<flowd:escalation after=\"P1D\" to=\" , \"/>\n", "names nobody", "escalation.to", 8);
    expect("<flowd:escalation after=\"P3D\" to=\"a\"/>\n"
           "<flowd:escalation after=\"P1D\" to=\"b\"/>\n",
           "out of order: after 'P1D' must be later than the level before ('P3D')",
           "escalation.after", 9);
    expect("<flowd:escalation after=\"P1D\" to=\"a\"/>\n"
           "<flowd:escalation after=\"PT24H\" to=\"b\"/>\n",
           "out of order", "escalation.after", 9);
    expect("<flowd:escalation after=\"P1D\" to=\"a\" level=\"2\"/>\n", "unknown attribute 'level'",
           "", 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_read),
        cmocka_unit_test(test_bad_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
