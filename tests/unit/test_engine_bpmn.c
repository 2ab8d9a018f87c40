/* Engine tests on models read from BPMN text by fl_bpmn_read: the reader's output (lanes,
 * stage extensions, Camunda 8 job types and conditions) runs as the hand-built models do,
 * and the demo process examples/sales.bpmn can be started and driven. */
#include "engine_fixture.h"

#include <stdio.h>

#define NS                                                                                         \
    "xmlns=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "                                       \
    "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" "                                         \
    "xmlns:flowd=\"" FL_BPMN_NS_FLOWD "\""

static const char deal_bpmn[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<definitions " NS " id=\"defs\" targetNamespace=\"t\">\n"
    "<process id=\"deal\" isExecutable=\"true\">\n"
    " <laneSet id=\"ls\">\n"
    "  <lane id=\"l1\" name=\"sales_manager\"><flowNodeRef>present</flowNodeRef></lane>\n"
    "  <lane id=\"l2\" name=\"lawyer\"><flowNodeRef>offer</flowNodeRef>"
    "<flowNodeRef>sign</flowNodeRef></lane>\n"
    " </laneSet>\n"
    " <startEvent id=\"start\"/>\n"
    " <userTask id=\"present\" name=\"Presentation\">\n"
    "  <extensionElements><flowd:stage duration=\"P2D\" remindBefore=\"PT4H\"/>"
    "</extensionElements>\n"
    " </userTask>\n"
    " <exclusiveGateway id=\"refused\" default=\"go_on\"/>\n"
    " <endEvent id=\"lost\"/>\n"
    " <userTask id=\"offer\" name=\"Commercial offer\">\n"
    "  <extensionElements><flowd:stage>"
    "<flowd:raci responsible=\"head_of_sales\" accountable=\"head_of_sales\"/>"
    "<flowd:mainAction kind=\"document\" ref=\"offer.docx\" required=\"true\"/>"
    "</flowd:stage></extensionElements>\n"
    " </userTask>\n"
    " <parallelGateway id=\"fork\"/>\n"
    " <userTask id=\"sign\" name=\"Agreement\"/>\n"
    " <serviceTask id=\"invoice\">\n"
    "  <extensionElements><zeebe:taskDefinition type=\"invoice\" retries=\"1\"/>"
    "</extensionElements>\n"
    " </serviceTask>\n"
    " <parallelGateway id=\"join\"/>\n"
    " <endEvent id=\"won\"><terminateEventDefinition/></endEvent>\n"
    " <sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"present\"/>\n"
    " <sequenceFlow id=\"f2\" sourceRef=\"present\" targetRef=\"refused\"/>\n"
    " <sequenceFlow id=\"no\" sourceRef=\"refused\" targetRef=\"lost\">"
    "<conditionExpression>=client_refused</conditionExpression></sequenceFlow>\n"
    " <sequenceFlow id=\"go_on\" sourceRef=\"refused\" targetRef=\"offer\"/>\n"
    " <sequenceFlow id=\"f4\" sourceRef=\"offer\" targetRef=\"fork\"/>\n"
    " <sequenceFlow id=\"f5\" sourceRef=\"fork\" targetRef=\"sign\"/>\n"
    " <sequenceFlow id=\"f6\" sourceRef=\"fork\" targetRef=\"invoice\"/>\n"
    " <sequenceFlow id=\"f7\" sourceRef=\"sign\" targetRef=\"join\"/>\n"
    " <sequenceFlow id=\"f8\" sourceRef=\"invoice\" targetRef=\"join\"/>\n"
    " <sequenceFlow id=\"f9\" sourceRef=\"join\" targetRef=\"won\"/>\n"
    "</process>\n"
    "</definitions>\n";

static struct fl_model *read_model(const char *xml, size_t len)
{
    struct fl_bpmn_doc *doc = NULL;
    struct fl_model *m;
    struct fl_error err;
    char msg[1024];

    fl_error_clear(&err);
    if (fl_bpmn_read(xml, len, &doc, &err) != 0)
        fail_msg("bpmn: %s", fl_error_format(&err, msg, sizeof(msg)));
    assert_true(doc->n_processes >= 1);
    m = fl_bpmn_doc_take(doc, 0);
    fl_bpmn_doc_free(doc);
    return m;
}

/* The fixture frees hand-built models; a read model is freed by its reader. */
static void env_release(struct t_env *t)
{
    fl_model_free(t->m);
    t->m = NULL;
    fl_instance_free(t->inst);
    fl_effects_release(&t->fx);
}

static void test_deal(void **state)
{
    struct t_env t;
    const struct fl_task *task;
    uint64_t id;
    (void)state;

    t_env_init(&t, read_model(deal_bpmn, sizeof(deal_bpmn) - 1));
    t_start(&t, NULL);
    task = fx_task_of(&t.fx, 0);
    assert_string_equal(task->node_id, "present");
    assert_string_equal(task->name, "Presentation");
    assert_int_equal(task->candidate_roles.n, 1);
    assert_string_equal(task->candidate_roles.items[0], "sales_manager");
    assert_int_equal(task->due_at, T_NOW + 2 * T_DAY);
    assert_int_equal(task->remind_at, T_NOW + 2 * T_DAY - 4 * T_HOUR);

    /* the condition needs client_refused: without it, an incident names it */
    assert_int_equal(t_complete(&t, task->id, "{\"client_refused\": false}"), 0);
    task = fx_task_of(&t.fx, 0);
    assert_string_equal(task->node_id, "offer");
    assert_string_equal(task->candidate_roles.items[0], "head_of_sales"); /* R over lane */
    assert_true(task->main_action_required);
    id = task->id;
    assert_int_equal(t_complete(&t, id, NULL), FL_EREFUSED);
    struct fl_command rec = {
        .kind = FL_CMD_RECORD_ACTION, .target_id = id, .action_kind = "document"};
    assert_int_equal(t_apply(&t, &rec), 0);
    assert_int_equal(t_complete(&t, id, NULL), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 1);
    assert_int_equal(fx_count(&t.fx, FL_FX_JOB_CREATE), 1);
    assert_string_equal(fx_nth(&t.fx, FL_FX_JOB_CREATE, 0)->u.job.type, "invoice");
    uint64_t sign = fx_task(&t.fx, 0), job = fx_nth(&t.fx, FL_FX_JOB_CREATE, 0)->u.job.id;

    struct fl_command done = {.kind = FL_CMD_COMPLETE_JOB, .target_id = job};
    assert_int_equal(t_apply(&t, &done), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    assert_int_equal(t_complete(&t, sign, NULL), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    assert_int_equal(t.inst->n_tokens, 0);
    env_release(&t);

    /* refused: the condition routes to the lost end */
    t_env_init(&t, read_model(deal_bpmn, sizeof(deal_bpmn) - 1));
    t_start(&t, NULL);
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), "{\"client_refused\": true}"), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    assert_string_equal(ev_nth(&t.fx, FL_EV_NODE_ENTERED, 1)->node_id, "lost");
    env_release(&t);

    /* the variable missing: an incident quoting the condition */
    t_env_init(&t, read_model(deal_bpmn, sizeof(deal_bpmn) - 1));
    t_start(&t, NULL);
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0);
    assert_non_null(strstr(fx_nth(&t.fx, FL_FX_INCIDENT, 0)->u.incident.message,
                           "condition of flow 'no' (client_refused) cannot be evaluated"));
    env_release(&t);
}

/* The demo process: start it with answers for every decision (two signers, payment in two
 * parts, client not satisfied) and complete whatever task is open, recording main actions
 * where a stage names one, until it ends. Every branch taken must have run its task. */
static void test_sales_demo(void **state)
{
    static const char *const must_visit[] = {
        "presentation",          "prepare_offer", "legal_review", "receive_prepayment",
        "receive_final_payment", "analyse",       "close_deal"};
    bool visited[sizeof(must_visit) / sizeof(must_visit[0])] = {false};
    char path[1024];
    FILE *f;
    char *xml;
    long len;
    struct t_env t;
    int steps = 0;
    (void)state;

    snprintf(path, sizeof(path), "%s/examples/sales.bpmn", FLOWD_SOURCE_DIR);
    f = fopen(path, "rb");
    if (!f) {
        skip();
        return;
    }
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    xml = fl_malloc((size_t)len + 1);
    assert_int_equal(fread(xml, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    t_env_init(&t, read_model(xml, (size_t)len));
    free(xml);
    t_start(&t, "{\"presentationAccepted\": true, \"offerNeedsClarification\": false, "
                "\"signerCount\": 2, \"paymentInTwoParts\": true, \"clientSatisfied\": false}");
    while (t.inst->status == FL_INSTANCE_ACTIVE && steps++ < 50) {
        const struct fl_token *tk = NULL;
        for (size_t i = 0; i < t.inst->n_tokens && !tk; i++)
            if (t.inst->tokens[i].task_id)
                tk = &t.inst->tokens[i];
        if (!tk)
            break;
        uint64_t task = tk->task_id;
        const struct fl_node *node = &t.m->nodes[tk->node];
        for (size_t i = 0; i < sizeof(must_visit) / sizeof(must_visit[0]); i++)
            visited[i] |= strcmp(node->id, must_visit[i]) == 0;
        if (node->stage && node->stage->main_action_kind) {
            struct fl_command rec = {.kind = FL_CMD_RECORD_ACTION, .target_id = task};
            assert_int_equal(t_apply(&t, &rec), 0);
        }
        if (t_complete(&t, task, NULL) != 0)
            fail_msg("completing '%s': %s", node->id, t.err.msg);
    }
    printf("sales demo: %d commands\n", steps);
    assert_false(t.inst->incident);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    for (size_t i = 0; i < sizeof(must_visit) / sizeof(must_visit[0]); i++)
        if (!visited[i])
            fail_msg("the demo never reached '%s'", must_visit[i]);
    env_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deal),
        cmocka_unit_test(test_sales_demo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
