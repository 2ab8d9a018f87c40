/* Unit tests of DMN decisions in the service: a DMN document deploys as versions of its
 * decisions, a BPMN process whose business rule tasks (Camunda 8 and Camunda 7 style) call
 * them runs to its end with the result variables set, a new version of a decision is used
 * by the next evaluation, fl_service_decide evaluates over a reader, and a missing decision
 * or a refusing table is an incident that names the decision. */
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

#define DMN_HEAD                                                                                   \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                                 \
    "<definitions xmlns=\"https://www.omg.org/spec/DMN/20191111/MODEL/\" id=\"defs\""              \
    " name=\"Discounts\" namespace=\"http://flowd.test\">\n"
#define DMN_TABLE(out_small, out_big)                                                              \
    DMN_HEAD                                                                                       \
    "<decision id=\"discount\" name=\"Discount\">\n"                                               \
    "<decisionTable id=\"t\" hitPolicy=\"UNIQUE\">\n"                                              \
    "<input id=\"i\" label=\"Amount\"><inputExpression typeRef=\"number\"><text>amount</text>"     \
    "</inputExpression></input>\n"                                                                 \
    "<output id=\"o\" name=\"rate\" typeRef=\"number\"/>\n"                                        \
    "<rule id=\"small\"><inputEntry><text>&lt; "                                                   \
    "1000</text></inputEntry><outputEntry><text>" out_small "</text></outputEntry></rule>\n"       \
    "<rule id=\"big\"><inputEntry><text>&gt;= 1000</text></inputEntry><outputEntry><text>" out_big \
    "</text></outputEntry></rule>\n"                                                               \
    "<rule id=\"huge\"><inputEntry><text>&gt;= 1000000</text></inputEntry><outputEntry><text>"     \
    "0.5</text></outputEntry></rule>\n"                                                            \
    "</decisionTable></decision>\n"                                                                \
    "<decision id=\"label\" name=\"Label\">\n"                                                     \
    "<informationRequirement><requiredDecision href=\"#discount\"/></informationRequirement>\n"    \
    "<literalExpression><text>\"discount \" + string(Discount * 100) + \"%\"</text>"               \
    "</literalExpression></decision>\n"                                                            \
    "</definitions>\n"

#define BPMN_XML                                                                                   \
    "<?xml version=\"1.0\"?><bpmn:definitions"                                                     \
    " xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\""                                  \
    " xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\""                                         \
    " xmlns:camunda=\"http://camunda.org/schema/1.0/bpmn\">"                                       \
    "<bpmn:process id=\"pricing\" isExecutable=\"true\">"                                          \
    "<bpmn:startEvent id=\"s\"/>"                                                                  \
    "<bpmn:sequenceFlow id=\"f0\" sourceRef=\"s\" targetRef=\"rate\"/>"                            \
    "<bpmn:businessRuleTask id=\"rate\"><bpmn:extensionElements>"                                  \
    "<zeebe:calledDecision decisionId=\"discount\" resultVariable=\"rate\"/>"                      \
    "</bpmn:extensionElements></bpmn:businessRuleTask>"                                            \
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"rate\" targetRef=\"label\"/>"                        \
    "<bpmn:businessRuleTask id=\"label\" camunda:decisionRef=\"label\""                            \
    " camunda:resultVariable=\"text\" camunda:mapDecisionResult=\"singleEntry\"/>"                 \
    "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"label\" targetRef=\"list\"/>"                        \
    "<bpmn:businessRuleTask id=\"list\" camunda:decisionRef=\"discount\""                          \
    " camunda:resultVariable=\"all\"/>"                                                            \
    "<bpmn:sequenceFlow id=\"f3\" sourceRef=\"list\" targetRef=\"e\"/>"                            \
    "<bpmn:endEvent id=\"e\"/></bpmn:process></bpmn:definitions>"

/* Start pricing with amount and return the instance's variables as JSON (caller frees). */
static char *run_pricing(struct fixture *f, const char *amount, struct fl_result *res)
{
    struct fl_value *vars = fl_value_context_new(), *num = NULL;
    struct fl_command c;
    struct fl_instance_row row;
    struct fl_store *rd;
    char *json;
    assert_int_equal(fl_value_number_parse(amount, strlen(amount), &num), 0);
    fl_value_context_set(vars, "amount", 6, num);
    c = (struct fl_command){.kind = FL_CMD_START, .process_key = "pricing", .variables = vars};
    assert_int_equal(fl_service_run(f->svc, &c, res), 0);
    fl_value_unref(vars);
    rd = reader(f);
    assert_int_equal(fl_store_instance_get(rd, res->instance_id, &row, NULL), 0);
    json = strdup(row.variables_json);
    fl_instance_row_release(&row);
    fl_store_close(rd);
    return json;
}

static bool history_has(struct fixture *f, uint64_t iid, int type, const char *frag)
{
    struct fl_store *rd = reader(f);
    struct fl_event_row *ev = NULL;
    size_t n = 0;
    bool found = false;
    assert_int_equal(fl_store_history(rd, iid, &ev, &n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        if (ev[i].type == type && (!frag || (ev[i].detail && strstr(ev[i].detail, frag))))
            found = true;
    fl_event_rows_free(ev, n);
    fl_store_close(rd);
    return found;
}

static void test_business_rule_tasks(void **state)
{
    struct fixture *f = *state;
    struct fl_deploy_result r[4];
    struct fl_result res;
    struct fl_error err;
    size_t n;
    char *vars;

    f->svc = open_svc(f, 0, 0);
    assert_int_equal(fl_service_deploy(f->svc, DMN_TABLE("0.05", "0.1"),
                                       strlen(DMN_TABLE("0.05", "0.1")), r, 4, &n, &err),
                     0);
    assert_int_equal(n, 2);
    assert_true(r[0].decision);
    assert_string_equal(r[0].key, "discount");
    assert_int_equal(r[0].version, 1);
    assert_true(r[0].created);
    assert_string_equal(r[1].key, "label");
    assert_int_equal(fl_service_deploy(f->svc, BPMN_XML, strlen(BPMN_XML), r, 4, &n, &err), 0);
    assert_false(r[0].decision);

    vars = run_pricing(f, "2500", &res);
    assert_int_equal(res.instance_status, FL_INSTANCE_COMPLETED);
    assert_false(res.incident);
    assert_non_null(strstr(vars, "\"rate\":0.1"));
    assert_non_null(strstr(vars, "\"text\":\"discount 10%\""));
    assert_non_null(strstr(vars, "\"all\":[{\"rate\":0.1}]")); /* Camunda 7's resultList */
    assert_true(history_has(f, res.instance_id, FL_EV_DECISION_EVALUATED, "\"discount\""));
    free(vars);

    /* a new version is what the next evaluation uses; the same XML keeps its version */
    assert_int_equal(fl_service_deploy(f->svc, DMN_TABLE("0.05", "0.2"),
                                       strlen(DMN_TABLE("0.05", "0.2")), r, 4, &n, &err),
                     0);
    assert_int_equal(r[0].version, 2);
    assert_int_equal(fl_service_deploy(f->svc, DMN_TABLE("0.05", "0.2"),
                                       strlen(DMN_TABLE("0.05", "0.2")), r, 4, &n, &err),
                     0);
    assert_int_equal(r[0].version, 2);
    assert_false(r[0].created);
    vars = run_pricing(f, "2500", &res);
    assert_non_null(strstr(vars, "\"rate\":0.2"));
    free(vars);

    /* UNIQUE with two rules matching: an incident naming the decision and the rules */
    vars = run_pricing(f, "2000000", &res);
    assert_int_equal(res.instance_status, FL_INSTANCE_ACTIVE);
    assert_true(res.incident);
    assert_true(
        history_has(f, res.instance_id, FL_EV_INCIDENT_RAISED, "decision 'discount' failed"));
    assert_true(history_has(f, res.instance_id, FL_EV_INCIDENT_RAISED, "'big' and 'huge'"));
    free(vars);

    /* fl_service_decide: a reader of the caller's, any version */
    {
        struct fl_store *rd = reader(f);
        struct fl_value *in = NULL, *out = NULL;
        struct fl_buf b = FL_BUF_INIT;
        assert_int_equal(fl_value_from_json("{\"amount\":5000}", 15, &in, NULL), 0);
        assert_int_equal(fl_service_decide(f->svc, rd, "label", 0, in, 0, &out, &err), 0);
        fl_value_to_json(out, &b);
        assert_string_equal(b.ptr, "\"discount 20%\"");
        fl_value_unref(out);
        assert_int_equal(fl_service_decide(f->svc, rd, "discount", 1, in, 0, &out, &err), 0);
        fl_buf_reset(&b);
        fl_value_to_json(out, &b);
        assert_string_equal(b.ptr, "0.1");
        fl_value_unref(out);
        assert_int_equal(fl_service_decide(f->svc, rd, "nope", 0, in, 0, &out, &err), FL_ENOTFOUND);
        assert_null(out);
        fl_buf_release(&b);
        fl_value_unref(in);
        fl_store_close(rd);
    }
}

#define BPMN_MISSING                                                                               \
    "<?xml version=\"1.0\"?><bpmn:definitions"                                                     \
    " xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\""                                  \
    " xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\">"                                        \
    "<bpmn:process id=\"pricing\" isExecutable=\"true\">"                                          \
    "<bpmn:startEvent id=\"s\"/>"                                                                  \
    "<bpmn:sequenceFlow id=\"f0\" sourceRef=\"s\" targetRef=\"rate\"/>"                            \
    "<bpmn:businessRuleTask id=\"rate\"><bpmn:extensionElements>"                                  \
    "<zeebe:calledDecision decisionId=\"=&quot;dis&quot; + suffix\" resultVariable=\"rate\"/>"     \
    "</bpmn:extensionElements></bpmn:businessRuleTask>"                                            \
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"rate\" targetRef=\"e\"/>"                            \
    "<bpmn:endEvent id=\"e\"/></bpmn:process></bpmn:definitions>"

static void test_missing_decision(void **state)
{
    struct fixture *f = *state;
    struct fl_deploy_result r[2];
    struct fl_result res;
    struct fl_command c;
    struct fl_value *vars = NULL;
    size_t n;

    f->svc = open_svc(f, 0, 0);
    assert_int_equal(fl_service_deploy(f->svc, BPMN_MISSING, strlen(BPMN_MISSING), r, 2, &n, NULL),
                     0);
    const char *in = "{\"suffix\":\"count\",\"amount\":1}";
    assert_int_equal(fl_value_from_json(in, strlen(in), &vars, NULL), 0);
    c = (struct fl_command){.kind = FL_CMD_START, .process_key = "pricing", .variables = vars};
    assert_int_equal(fl_service_run(f->svc, &c, &res), 0);
    assert_true(res.incident);
    assert_true(history_has(f, res.instance_id, FL_EV_INCIDENT_RAISED,
                            "decision 'discount' is not deployed"));
    fl_value_unref(vars);
    /* a malformed DMN document is refused with its position, and nothing is stored */
    {
        const char *bad = DMN_HEAD "<decision id=\"x\"><literalExpression><text>1 +</text>"
                                   "</literalExpression></decision></definitions>";
        struct fl_error err;
        assert_int_equal(fl_service_deploy(f->svc, bad, strlen(bad), r, 2, &n, &err), FL_EMODEL);
        assert_int_equal(err.line, 3);
        assert_true(err.column > 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_business_rule_tasks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_decision, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
