/* Unit tests of the DMN reader and evaluator: every hit policy and aggregation, output
 * values ranking PRIORITY and OUTPUT ORDER, default outputs, literal expressions, required
 * decisions, Camunda 7's mapDecisionResult shapes, the DMN 1.1 namespace, and precise
 * errors (line and column) for malformed and unsupported documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flowd/alloc.h"
#include "flowd/buf.h"
#include "flowd/dmn.h"
#include "flowd/engine.h"
#include "flowd/model.h"
#include "flowd/value.h"

#define NS13 "https://www.omg.org/spec/DMN/20191111/MODEL/"
#define HEAD                                                                                       \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<definitions xmlns=\"" NS13                       \
    "\" id=\"defs\" name=\"D\" namespace=\"http://x\">\n"
#define TAIL "</definitions>\n"

/* A document with one decision 'd' holding a table of the given hit policy attributes. */
static char *table_doc(const char *attrs, const char *body)
{
    struct fl_buf b = FL_BUF_INIT;
    fl_buf_adds(&b, HEAD);
    fl_buf_addf(&b,
                "<decision id=\"d\" name=\"Dish\">\n<decisionTable id=\"t\" %s>\n%s"
                "</decisionTable>\n</decision>\n",
                attrs, body);
    fl_buf_adds(&b, TAIL);
    return fl_buf_detach(&b, NULL);
}

static struct fl_dmn_doc *read_ok(const char *xml)
{
    struct fl_dmn_doc *doc = NULL;
    struct fl_error err;
    int rc = fl_dmn_read(xml, strlen(xml), &doc, &err);
    if (rc)
        fprintf(stderr, "read failed: %s (line %d, column %d)\n", err.msg, err.line, err.column);
    assert_int_equal(rc, 0);
    return doc;
}

/* Evaluate decision id of xml over vars (JSON) and compare the JSON of the result. */
static void eval_map(const char *xml, const char *id, const char *vars_json, enum fl_dmn_map map,
                     const char *want)
{
    struct fl_dmn_doc *doc = read_ok(xml);
    struct fl_value *vars = NULL, *res = NULL;
    struct fl_error err;
    struct fl_buf b = FL_BUF_INIT;
    const struct fl_dmn_decision *d = fl_dmn_find(doc, id);
    int rc;
    assert_non_null(d);
    assert_int_equal(fl_value_from_json(vars_json, strlen(vars_json), &vars, &err), 0);
    rc = fl_dmn_evaluate_mapped(d, vars, INT64_C(1700000000000), map, &res, &err);
    if (rc)
        fprintf(stderr, "evaluate failed: %s\n", err.msg);
    assert_int_equal(rc, 0);
    fl_value_to_json(res, &b);
    if (strcmp(b.ptr, want))
        fprintf(stderr, "got %s, want %s\n", b.ptr, want);
    assert_string_equal(b.ptr, want);
    fl_buf_release(&b);
    fl_value_unref(res);
    fl_value_unref(vars);
    fl_dmn_doc_free(doc);
}

static void eval_is(const char *xml, const char *vars_json, const char *want)
{
    eval_map(xml, "d", vars_json, FL_DMN_MAP_NONE, want);
}

/* Evaluation fails with code and a message containing frag. */
static void eval_fails(const char *xml, const char *vars_json, int code, const char *frag)
{
    struct fl_dmn_doc *doc = read_ok(xml);
    struct fl_value *vars = NULL, *res = NULL;
    struct fl_error err;
    assert_int_equal(fl_value_from_json(vars_json, strlen(vars_json), &vars, &err), 0);
    assert_int_equal(fl_dmn_evaluate(fl_dmn_find(doc, "d"), vars, 0, &res, &err), code);
    assert_null(res);
    if (!strstr(err.msg, frag))
        fprintf(stderr, "message: %s\n", err.msg);
    assert_non_null(strstr(err.msg, frag));
    fl_value_unref(vars);
    fl_dmn_doc_free(doc);
}

/* Reading fails with code at line:column, the message containing frag. */
static void read_fails(const char *xml, int code, int line, int col, const char *frag)
{
    struct fl_dmn_doc *doc = NULL;
    struct fl_error err;
    int rc = fl_dmn_read(xml, strlen(xml), &doc, &err);
    if (rc != code || err.line != line || (col && err.column != col) || !strstr(err.msg, frag))
        fprintf(stderr, "rc %d, %s (line %d, column %d)\n", rc, err.msg, err.line, err.column);
    assert_int_equal(rc, code);
    assert_null(doc);
    assert_int_equal(err.line, line);
    if (col)
        assert_int_equal(err.column, col);
    assert_non_null(strstr(err.msg, frag));
}

/* Season x guests -> dish: the Camunda example, one output. */
#define DISH_COLUMNS                                                                               \
    "<input id=\"i1\" label=\"Season\"><inputExpression typeRef=\"string\"><text>season</text>"    \
    "</inputExpression></input>\n"                                                                 \
    "<input id=\"i2\" label=\"Guests\"><inputExpression typeRef=\"number\"><text>guests</text>"    \
    "</inputExpression></input>\n"                                                                 \
    "<output id=\"o1\" name=\"dish\" typeRef=\"string\"/>\n"
#define RULE2(id, a, b, out)                                                                       \
    "<rule id=\"" id "\"><inputEntry><text>" a "</text></inputEntry><inputEntry><text>" b          \
    "</text></inputEntry><outputEntry><text>" out "</text></outputEntry></rule>\n"

static void test_unique(void **state)
{
    (void)state;
    char *xml = table_doc(
        "", DISH_COLUMNS RULE2("r1", "\"Fall\"", "&lt;= 8", "\"Spareribs\"")
                RULE2("r2", "\"Winter\"", "&lt;= 8", "\"Roastbeef\"") RULE2("r3", "\"Spring\"",
                                                                            "[5..8]", "\"Steak\"")
                    RULE2("r4", "\"Fall\",\"Winter\",\"Spring\"", "&gt; 8", "\"Stew\"")
                        RULE2("r5", "not(\"Fall\",\"Winter\",\"Spring\")", "-", "\"Light salad\""));
    eval_is(xml, "{\"season\":\"Winter\",\"guests\":4}", "\"Roastbeef\"");
    eval_is(xml, "{\"season\":\"Spring\",\"guests\":12}", "\"Stew\"");
    eval_is(xml, "{\"season\":\"Summer\",\"guests\":3}", "\"Light salad\"");
    eval_is(xml, "{\"season\":\"Spring\",\"guests\":2}", "null"); /* no rule */
    free(xml);
    xml = table_doc("hitPolicy=\"UNIQUE\"",
                    DISH_COLUMNS RULE2("a", "-", "&gt; 1", "\"x\"")
                        RULE2("b", "-", "&gt; 2", "\"y\"") RULE2("c", "-", "&gt; 3", "\"z\""));
    eval_fails(xml, "{\"season\":\"x\",\"guests\":5}", FL_EREFUSED,
               "rules 'a', 'b' and 'c' all match");
    free(xml);
}

static void test_first_and_any(void **state)
{
    (void)state;
    char *xml = table_doc("hitPolicy=\"FIRST\"", DISH_COLUMNS RULE2("a", "-", "&gt; 1", "\"x\"")
                                                     RULE2("b", "-", "&gt; 2", "\"y\""));
    eval_is(xml, "{\"season\":\"x\",\"guests\":5}", "\"x\"");
    eval_is(xml, "{\"season\":\"x\",\"guests\":1}", "null");
    free(xml);
    xml = table_doc("hitPolicy=\"ANY\"",
                    DISH_COLUMNS RULE2("a", "-", "&gt; 1", "\"x\"")
                        RULE2("b", "-", "&gt; 2", "\"x\"") RULE2("c", "-", "&gt; 3", "\"z\""));
    eval_is(xml, "{\"season\":\"x\",\"guests\":3}", "\"x\"");
    eval_fails(xml, "{\"season\":\"x\",\"guests\":4}", FL_EREFUSED,
               "rules 'a' and 'c' match with different outputs");
    free(xml);
}

#define RANKED_OUTPUT                                                                              \
    "<input id=\"i1\"><inputExpression typeRef=\"number\"><text>n</text></inputExpression>"        \
    "</input>\n<output id=\"o1\" name=\"level\" typeRef=\"string\"><outputValues><text>"           \
    "\"high\",\"medium\",\"low\"</text></outputValues></output>\n"
#define RULE1(id, a, out)                                                                          \
    "<rule id=\"" id "\"><inputEntry><text>" a "</text></inputEntry><outputEntry><text>" out       \
    "</text></outputEntry></rule>\n"

static void test_priority_and_output_order(void **state)
{
    (void)state;
    const char *rules =
        RANKED_OUTPUT RULE1("a", "&gt; 0", "\"low\"") RULE1("b", "&gt; 5", "\"high\"")
            RULE1("c", "&gt; 2", "\"medium\"") RULE1("d", "&gt; 1", "\"low\"");
    char *xml = table_doc("hitPolicy=\"PRIORITY\"", rules);
    eval_is(xml, "{\"n\":9}", "\"high\"");
    eval_is(xml, "{\"n\":3}", "\"medium\"");
    eval_is(xml, "{\"n\":0}", "null");
    free(xml);
    xml = table_doc("hitPolicy=\"OUTPUT ORDER\"", rules);
    eval_is(xml, "{\"n\":9}", "[\"high\",\"medium\",\"low\",\"low\"]");
    eval_is(xml, "{\"n\":1}", "[\"low\"]");
    eval_is(xml, "{\"n\":0}", "null");
    free(xml);
    xml = table_doc("hitPolicy=\"RULE ORDER\"", rules);
    eval_is(xml, "{\"n\":9}", "[\"low\",\"high\",\"medium\",\"low\"]");
    free(xml);
}

#define NUM_TABLE                                                                                  \
    "<input id=\"i1\"><inputExpression typeRef=\"number\"><text>n</text></inputExpression>"        \
    "</input>\n<output id=\"o1\" name=\"score\" typeRef=\"number\"/>\n" RULE1("a", "&gt; 0", "10") \
        RULE1("b", "&gt; 1", "5") RULE1("c", "&gt; 2", "20") RULE1("d", "&gt; 3", "5")             \
            RULE1("e", "&gt; 4", "")

static void test_collect(void **state)
{
    (void)state;
    char *xml = table_doc("hitPolicy=\"COLLECT\"", NUM_TABLE);
    eval_is(xml, "{\"n\":3}", "[10,5,20]");
    eval_is(xml, "{\"n\":0}", "null");
    free(xml);
    xml = table_doc("hitPolicy=\"COLLECT\" aggregation=\"SUM\"", NUM_TABLE);
    eval_is(xml, "{\"n\":9}", "40"); /* the empty output of e takes no part */
    eval_is(xml, "{\"n\":0}", "null");
    free(xml);
    xml = table_doc("hitPolicy=\"COLLECT\" aggregation=\"MIN\"", NUM_TABLE);
    eval_is(xml, "{\"n\":9}", "5");
    free(xml);
    xml = table_doc("hitPolicy=\"COLLECT\" aggregation=\"MAX\"", NUM_TABLE);
    eval_is(xml, "{\"n\":2}", "10");
    eval_is(xml, "{\"n\":9}", "20");
    free(xml);
    xml = table_doc("hitPolicy=\"COLLECT\" aggregation=\"COUNT\"", NUM_TABLE);
    eval_is(xml, "{\"n\":9}", "4");
    eval_is(xml, "{\"n\":1.5}", "2");
    eval_is(xml, "{\"n\":0.5}", "1");
    free(xml);
    /* SUM of strings is an error naming the type */
    xml = table_doc("hitPolicy=\"COLLECT\" aggregation=\"SUM\"",
                    RANKED_OUTPUT RULE1("a", "-", "\"low\""));
    eval_fails(xml, "{\"n\":1}", FL_EINVAL, "COLLECT SUM needs numbers");
    free(xml);
}

#define TWO_OUTPUTS                                                                                \
    "<input id=\"i1\"><inputExpression><text>amount</text></inputExpression></input>\n"            \
    "<output id=\"o1\" name=\"approve\" typeRef=\"boolean\"/>\n"                                   \
    "<output id=\"o2\" name=\"reason\" typeRef=\"string\"/>\n"
#define RULE12(id, a, o1, o2)                                                                      \
    "<rule id=\"" id "\"><description>x</description><inputEntry><text>" a                         \
    "</text></inputEntry><outputEntry><text>" o1 "</text></outputEntry><outputEntry><text>" o2     \
    "</text></outputEntry><annotationEntry><text>note</text></annotationEntry></rule>\n"

static void test_several_outputs(void **state)
{
    (void)state;
    const char *rules =
        TWO_OUTPUTS "<annotation name=\"Notes\"/>" RULE12("small", "&lt; 1000", "true", "\"small\"")
            RULE12("big", "&gt;= 1000", "false", "\"amount \" + string(amount)");
    char *xml = table_doc("hitPolicy=\"UNIQUE\"", rules);
    eval_is(xml, "{\"amount\":10}", "{\"approve\":true,\"reason\":\"small\"}");
    eval_is(xml, "{\"amount\":5000}", "{\"approve\":false,\"reason\":\"amount 5000\"}");
    free(xml);
    xml = table_doc("hitPolicy=\"COLLECT\"", rules);
    eval_is(xml, "{\"amount\":10}", "[{\"approve\":true,\"reason\":\"small\"}]");
    free(xml);
    /* an output of the wrong type is null (DMN's type check of outputs) */
    xml = table_doc("", TWO_OUTPUTS RULE12("r", "-", "\"yes\"", "\"s\""));
    eval_is(xml, "{\"amount\":1}", "{\"approve\":null,\"reason\":\"s\"}");
    free(xml);
}

static void test_defaults_and_variables_in_entries(void **state)
{
    (void)state;
    char *xml = table_doc(
        "", "<input id=\"i1\"><inputExpression><text>amount</text></inputExpression></input>\n"
            "<output id=\"o1\" name=\"level\"><defaultOutputEntry><text>\"none\"</text>"
            "</defaultOutputEntry></output>\n" RULE1("r", "&gt; limit", "\"over\""));
    eval_is(xml, "{\"amount\":10,\"limit\":5}", "\"over\"");
    eval_is(xml, "{\"amount\":1,\"limit\":5}", "\"none\"");
    free(xml);
    /* ? in an input entry (DMN 1.3), and a type clash that simply does not match */
    xml = table_doc("hitPolicy=\"FIRST\"",
                    "<input id=\"i1\"><inputExpression><text>tags</text></inputExpression>"
                    "</input>\n<output id=\"o1\" name=\"x\"/>\n" RULE1(
                        "r1", "list contains(?, \"vip\")", "\"vip\"")
                        RULE1("r2", "&gt; 5", "\"num\"") RULE1("r3", "-", "\"other\""));
    eval_is(xml, "{\"tags\":[\"a\",\"vip\"]}", "\"vip\"");
    eval_is(xml, "{\"tags\":[\"a\"]}", "\"other\"");
    free(xml);
}

static void test_literal_and_required(void **state)
{
    (void)state;
    const char *xml = HEAD
        "<inputData id=\"in1\" name=\"amount\"/>\n"
        "<decision id=\"fee\" name=\"Fee\">\n"
        "  <variable name=\"Fee\" typeRef=\"number\"/>\n"
        "  <informationRequirement id=\"ir1\"><requiredDecision href=\"#rate\"/>"
        "</informationRequirement>\n"
        "  <informationRequirement id=\"ir2\"><requiredInput href=\"#in1\"/>"
        "</informationRequirement>\n"
        "  <literalExpression id=\"le1\"><text>amount * Rate</text></literalExpression>\n"
        "</decision>\n"
        "<decision id=\"rate\" name=\"Rate\">\n"
        "  <decisionTable id=\"t\" hitPolicy=\"FIRST\">\n"
        "    <input id=\"i\"><inputExpression><text>amount</text></inputExpression></input>\n"
        "    <output id=\"o\" name=\"rate\" typeRef=\"number\"/>\n" RULE1("big", "&gt;= 100", "0.1")
            RULE1("small", "-", "0.2") "  </decisionTable>\n</decision>\n"
                                       "<decision id=\"both\" name=\"Both\">\n"
                                       "  <informationRequirement><requiredDecision "
                                       "href=\"#fee\"/></informationRequirement>\n"
                                       "  <informationRequirement><requiredDecision "
                                       "href=\"#rate\"/></informationRequirement>\n"
                                       "  <literalExpression><text>{fee: Fee, rate: "
                                       "rate}</text></literalExpression>\n"
                                       "</decision>\n" TAIL;
    struct fl_dmn_doc *doc = read_ok(xml);
    assert_int_equal(doc->n_decisions, 3);
    assert_int_equal(doc->n_input_data, 1);
    assert_string_equal(doc->input_data[0], "amount");
    assert_non_null(fl_dmn_find(doc, "Fee")); /* by name too */
    fl_dmn_doc_free(doc);
    eval_map(xml, "fee", "{\"amount\":200}", FL_DMN_MAP_NONE, "20");
    eval_map(xml, "fee", "{\"amount\":10}", FL_DMN_MAP_NONE, "2");
    eval_map(xml, "both", "{\"amount\":10}", FL_DMN_MAP_NONE, "{\"fee\":2,\"rate\":0.2}");
    eval_map(xml, "fee", "{\"amount\":10}", FL_DMN_MAP_RESULT_LIST, "[{\"Fee\":2}]");
}

static void test_camunda_mapping(void **state)
{
    (void)state;
    char *xml = table_doc("hitPolicy=\"COLLECT\"", NUM_TABLE);
    eval_map(xml, "d", "{\"n\":2}", FL_DMN_MAP_COLLECT, "[10,5]");
    eval_map(xml, "d", "{\"n\":2}", FL_DMN_MAP_RESULT_LIST, "[{\"score\":10},{\"score\":5}]");
    eval_map(xml, "d", "{\"n\":1}", FL_DMN_MAP_SINGLE_ENTRY, "10");
    eval_map(xml, "d", "{\"n\":1}", FL_DMN_MAP_SINGLE_RESULT, "{\"score\":10}");
    eval_map(xml, "d", "{\"n\":0}", FL_DMN_MAP_SINGLE_ENTRY, "null");
    eval_map(xml, "d", "{\"n\":0}", FL_DMN_MAP_RESULT_LIST, "[]");
    {
        struct fl_dmn_doc *doc = read_ok(xml);
        struct fl_value *vars = NULL, *res = NULL;
        struct fl_error err;
        assert_int_equal(fl_value_from_json("{\"n\":2}", 7, &vars, &err), 0);
        assert_int_equal(fl_dmn_evaluate_mapped(&doc->decisions[0], vars, 0,
                                                FL_DMN_MAP_SINGLE_ENTRY, &res, &err),
                         FL_EREFUSED);
        assert_non_null(strstr(err.msg, "matched 2 rules"));
        fl_value_unref(vars);
        fl_dmn_doc_free(doc);
    }
    free(xml);
    xml = table_doc("hitPolicy=\"COLLECT\" aggregation=\"SUM\"", NUM_TABLE);
    eval_map(xml, "d", "{\"n\":2}", FL_DMN_MAP_SINGLE_ENTRY, "15");
    free(xml);
    enum fl_dmn_map m;
    assert_int_equal(fl_dmn_map_parse("collectEntries", &m), 0);
    assert_int_equal(m, FL_DMN_MAP_COLLECT);
    assert_int_equal(fl_dmn_map_parse("nope", &m), FL_EINVAL);
}

static void test_dmn11_camunda7(void **state)
{
    (void)state;
    /* As Camunda Modeler 7 wrote DMN 1.1: prefixed typeRefs, empty entries, camunda ns */
    const char *xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<definitions xmlns=\"http://www.omg.org/spec/DMN/20151101/dmn.xsd\" "
        "xmlns:camunda=\"http://camunda.org/schema/1.0/dmn\" id=\"defs\" name=\"x\" "
        "namespace=\"http://camunda.org/schema/1.0/dmn\">\n"
        "  <decision id=\"d\" name=\"Check\">\n"
        "    <decisionTable id=\"t\" hitPolicy=\"FIRST\">\n"
        "      <input id=\"i\" label=\"Amount\" camunda:inputVariable=\"a\">\n"
        "        <inputExpression id=\"ie\" typeRef=\"feel:number\"><text>amount</text>"
        "</inputExpression>\n"
        "      </input>\n"
        "      <output id=\"o\" label=\"Result\" name=\"result\" typeRef=\"string\" />\n"
        "      <rule id=\"r1\"><inputEntry id=\"e1\"><text>&gt; 100</text></inputEntry>"
        "<outputEntry id=\"e2\"><text>\"big\"</text></outputEntry></rule>\n"
        "      <rule id=\"r2\"><inputEntry id=\"e3\"><text></text></inputEntry>"
        "<outputEntry id=\"e4\"><text>\"small\"</text></outputEntry></rule>\n"
        "    </decisionTable>\n  </decision>\n</definitions>\n";
    assert_true(fl_dmn_is_dmn(xml, strlen(xml)));
    eval_is(xml, "{\"amount\":500}", "\"big\"");
    eval_is(xml, "{\"amount\":5}", "\"small\"");
}

static void test_detect(void **state)
{
    (void)state;
    const char *bpmn = "<?xml version=\"1.0\"?><bpmn:definitions "
                       "xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\"/>";
    const char *dmn = "<!-- c --><dmn:definitions id='x' "
                      "xmlns:dmn='https://www.omg.org/spec/DMN/20230324/MODEL/'/>";
    assert_false(fl_dmn_is_dmn(bpmn, strlen(bpmn)));
    assert_true(fl_dmn_is_dmn(dmn, strlen(dmn)));
    assert_false(fl_dmn_is_dmn("", 0));
    assert_false(fl_dmn_is_dmn("<definitions", 12));
}

static void test_errors(void **state)
{
    (void)state;
    char *xml;
    read_fails("<definitions", FL_EPARSE, 1, 0, "malformed XML");
    read_fails("<?xml version=\"1.0\"?>\n<x/>", FL_EMODEL, 2, 1, "expected DMN definitions");
    read_fails(HEAD TAIL, FL_EMODEL, 2, 1, "no decision in the document");
    /* a FEEL syntax error points into the text: line 8 is RULE2 of r1 */
    xml = table_doc("", DISH_COLUMNS RULE2("r1", "\"Fall\"", "&lt;= 8 +", "\"x\""));
    read_fails(xml, FL_EMODEL, 8, 0, "syntax error in rule 'r1', input 'Guests' of 'd'");
    free(xml);
    xml = table_doc("hitPolicy=\"SOMETIMES\"", DISH_COLUMNS);
    read_fails(xml, FL_EMODEL, 4, 34, "unknown hit policy 'SOMETIMES'");
    free(xml);
    xml = table_doc("hitPolicy=\"FIRST\" aggregation=\"SUM\"", DISH_COLUMNS);
    read_fails(xml, FL_EMODEL, 4, 0, "an aggregation needs hit policy COLLECT");
    free(xml);
    xml = table_doc("", DISH_COLUMNS "<rule id=\"short\"><inputEntry><text>-</text></inputEntry>"
                                     "<outputEntry><text>1</text></outputEntry></rule>\n");
    read_fails(xml, FL_EMODEL, 8, 1, "has 1 input and 1 output entries; the table has 2 inputs");
    free(xml);
    xml = table_doc("", TWO_OUTPUTS "<output id=\"o3\"/>");
    read_fails(xml, FL_EMODEL, 4, 0, "output 3 of decision 'd' has no name");
    free(xml);
    read_fails(HEAD "<decision id=\"a\"><informationRequirement><requiredDecision href=\"#b\"/>"
                    "</informationRequirement><literalExpression><text>1</text>"
                    "</literalExpression></decision>\n"
                    "<decision id=\"b\"><informationRequirement><requiredDecision href=\"#a\"/>"
                    "</informationRequirement><literalExpression><text>1</text>"
                    "</literalExpression></decision>\n" TAIL,
               FL_EMODEL, 3, 1, "requires itself");
    read_fails(HEAD "<decision id=\"a\"><informationRequirement><requiredDecision href=\"#zz\"/>"
                    "</informationRequirement><literalExpression><text>1</text>"
                    "</literalExpression></decision>\n" TAIL,
               FL_EMODEL, 3, 0, "requires 'zz', which is not a decision");
    read_fails(HEAD "<decision id=\"a\">\n  <context/></decision>" TAIL, FL_EUNSUPPORTED, 4, 3,
               "is a boxed context");
    read_fails(HEAD "<decision id=\"a\"/>" TAIL, FL_EMODEL, 3, 1, "neither a decision table");
    read_fails(HEAD "<decision id=\"a\"><literalExpression expressionLanguage=\"javascript\">"
                    "<text>1</text></literalExpression></decision>" TAIL,
               FL_EUNSUPPORTED, 3, 0, "only FEEL is supported");
    read_fails(HEAD "<decision id=\"a\"><literalExpression><text>1</text></literalExpression>"
                    "</decision><decision id=\"a\"><literalExpression><text>1</text>"
                    "</literalExpression></decision>" TAIL,
               FL_EMODEL, 3, 0, "duplicate id 'a'");
    read_fails("<!DOCTYPE d [<!ENTITY e \"x\">]><definitions xmlns=\"" NS13 "\"/>", FL_EUNSUPPORTED,
               1, 1, "entity");
    /* a missing variable is an evaluation error naming the decision */
    xml = table_doc("", DISH_COLUMNS RULE2("r1", "-", "-", "\"x\""));
    eval_fails(xml, "{\"season\":\"x\"}", FL_EINVAL,
               "decision 'd': input 'Guests' (guests) failed");
    free(xml);
}

static uint64_t test_next_id(void *arg, enum fl_id_kind kind)
{
    (void)kind;
    return ++*(uint64_t *)arg;
}

/* Every prefix of a valid document and some byte flips: errors, never a crash. */
static void test_truncations(void **state)
{
    (void)state;
    char *xml = table_doc("hitPolicy=\"COLLECT\" aggregation=\"SUM\"", NUM_TABLE);
    size_t n = strlen(xml);
    for (size_t i = 0; i < n; i++)
        fl_dmn_fuzz_one((const uint8_t *)xml, i);
    for (size_t i = 0; i < n; i += 7) {
        char *copy = fl_strdup(xml);
        copy[i] ^= 0x20;
        fl_dmn_fuzz_one((const uint8_t *)copy, n);
        free(copy);
    }
    fl_dmn_fuzz_one((const uint8_t *)xml, n);
    free(xml);
}

#define BRT_HEAD                                                                                   \
    "<?xml version=\"1.0\"?>\n<bpmn:definitions"                                                   \
    " xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\""                                  \
    " xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\""                                         \
    " xmlns:camunda=\"http://camunda.org/schema/1.0/bpmn\">\n"                                     \
    "<bpmn:process id=\"p\" isExecutable=\"true\"><bpmn:startEvent id=\"s\"/>\n"
#define BRT_TAIL                                                                                   \
    "<bpmn:sequenceFlow id=\"f0\" sourceRef=\"s\" targetRef=\"t\"/>"                               \
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"t\" targetRef=\"e\"/>"                               \
    "<bpmn:endEvent id=\"e\"/></bpmn:process></bpmn:definitions>"

static void bpmn_fails(const char *xml, int line, int col, const char *frag)
{
    struct fl_bpmn_doc *doc = NULL;
    struct fl_error err;
    int rc = fl_bpmn_read(xml, strlen(xml), &doc, &err);
    if (rc == 0 || err.line != line || err.column != col || !strstr(err.msg, frag))
        fprintf(stderr, "rc %d: %s (line %d, column %d)\n", rc, err.msg, err.line, err.column);
    assert_int_equal(rc, FL_EMODEL);
    assert_null(doc);
    assert_int_equal(err.line, line);
    assert_int_equal(err.column, col);
    assert_non_null(strstr(err.msg, frag));
}

/* The reader's side of business rule tasks: what it keeps and what it refuses. */
static void test_business_rule_task_reader(void **state)
{
    (void)state;
    const char *ok =
        BRT_HEAD "<bpmn:businessRuleTask id=\"t\" camunda:decisionRef=\"d\""
                 " camunda:resultVariable=\"r\" camunda:decisionRefBinding=\"version\"/>" BRT_TAIL;
    struct fl_bpmn_doc *doc = NULL;
    struct fl_error err;
    assert_int_equal(fl_bpmn_read(ok, strlen(ok), &doc, &err), 0);
    const struct fl_node *n = &doc->processes[0]->nodes[fl_model_find_node(doc->processes[0], "t")];
    assert_int_equal(n->kind, FL_NODE_BUSINESS_RULE_TASK);
    assert_string_equal(n->decision_ref, "d");
    assert_string_equal(n->result_variable, "r");
    assert_string_equal(n->decision_map, "resultList"); /* Camunda 7's default */
    assert_int_equal(doc->processes[0]->n_warnings, 1); /* the binding is ignored */
    fl_bpmn_doc_free(doc);
    bpmn_fails(BRT_HEAD "<bpmn:businessRuleTask id=\"t\"/>" BRT_TAIL, 4, 1,
               "has neither a decision");
    bpmn_fails(BRT_HEAD "<bpmn:businessRuleTask id=\"t\" camunda:decisionRef=\"d\""
                        " camunda:mapDecisionResult=\"all\"/>" BRT_TAIL,
               4, 82, "camunda:mapDecisionResult 'all'");
    bpmn_fails(BRT_HEAD "<bpmn:businessRuleTask id=\"t\"><bpmn:extensionElements>\n"
                        "<zeebe:calledDecision decisionId=\"=a +\" resultVariable=\"x\"/>"
                        "</bpmn:extensionElements></bpmn:businessRuleTask>" BRT_TAIL,
               5, 35, "syntax error in the decision of businessRuleTask 't'");
}

/* Without a decision hook the engine raises an incident naming the decision. */
static void test_engine_without_decisions(void **state)
{
    (void)state;
    const char *xml = BRT_HEAD "<bpmn:businessRuleTask id=\"t\"><bpmn:extensionElements>"
                               "<zeebe:calledDecision decisionId=\"dish\" resultVariable=\"x\"/>"
                               "</bpmn:extensionElements></bpmn:businessRuleTask>" BRT_TAIL;
    struct fl_bpmn_doc *doc = NULL;
    struct fl_error err;
    struct fl_effects fx;
    struct fl_instance *inst = NULL;
    uint64_t next = 0;
    struct fl_engine_ctx ctx = {.now_ms = 0, .next_id = test_next_id, .id_arg = &next};
    struct fl_command cmd;
    bool found = false;

    assert_int_equal(fl_bpmn_read(xml, strlen(xml), &doc, &err), 0);
    memset(&cmd, 0, sizeof(cmd));
    cmd.kind = FL_CMD_START;
    cmd.process_key = "p";
    fl_effects_init(&fx);
    assert_int_equal(fl_engine_start(doc->processes[0], 1, &cmd, &ctx, &inst, &fx, &err), 0);
    assert_true(inst->incident);
    for (size_t i = 0; i < fx.n; i++)
        if (fx.items[i].kind == FL_FX_INCIDENT && fx.items[i].u.incident.message &&
            strstr(fx.items[i].u.incident.message, "decision 'dish' cannot be evaluated"))
            found = true;
    assert_true(found);
    fl_instance_free(inst);
    fl_effects_release(&fx);
    fl_bpmn_doc_free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unique),
        cmocka_unit_test(test_first_and_any),
        cmocka_unit_test(test_priority_and_output_order),
        cmocka_unit_test(test_collect),
        cmocka_unit_test(test_several_outputs),
        cmocka_unit_test(test_defaults_and_variables_in_entries),
        cmocka_unit_test(test_literal_and_required),
        cmocka_unit_test(test_camunda_mapping),
        cmocka_unit_test(test_dmn11_camunda7),
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_business_rule_task_reader),
        cmocka_unit_test(test_engine_without_decisions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
