/* Unit tests of the service running scoped processes from BPMN: an instance resting inside
 * an embedded subprocess (a parallel split and an inclusive join inside it) survives the
 * service being closed and reopened -- its tokens come back from the store with their
 * scopes, and completing the work inside finishes the subprocess and the process. Likewise
 * a completed activity owed compensation: its record comes back from the store, so a
 * compensate event after a restart still starts its handler. */
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

#define SUB_XML                                                                                    \
    "<?xml version=\"1.0\"?><bpmn:definitions"                                                     \
    " xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\""                                  \
    " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"                                    \
    "<bpmn:process id=\"scoped\" isExecutable=\"true\">"                                           \
    "<bpmn:startEvent id=\"s\"/>"                                                                  \
    "<bpmn:sequenceFlow id=\"f0\" sourceRef=\"s\" targetRef=\"sub\"/>"                             \
    "<bpmn:subProcess id=\"sub\">"                                                                 \
    "<bpmn:startEvent id=\"s1\"/>"                                                                 \
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"s1\" targetRef=\"split\"/>"                          \
    "<bpmn:inclusiveGateway id=\"split\"/>"                                                        \
    "<bpmn:sequenceFlow id=\"fa\" sourceRef=\"split\" targetRef=\"a\">"                            \
    "<bpmn:conditionExpression xsi:type=\"bpmn:tFormalExpression\">=x &gt; 1"                      \
    "</bpmn:conditionExpression></bpmn:sequenceFlow>"                                              \
    "<bpmn:sequenceFlow id=\"fb\" sourceRef=\"split\" targetRef=\"b\">"                            \
    "<bpmn:conditionExpression xsi:type=\"bpmn:tFormalExpression\">=x &gt; 2"                      \
    "</bpmn:conditionExpression></bpmn:sequenceFlow>"                                              \
    "<bpmn:sequenceFlow id=\"fc\" sourceRef=\"split\" targetRef=\"c\">"                            \
    "<bpmn:conditionExpression xsi:type=\"bpmn:tFormalExpression\">=x &gt; 3"                      \
    "</bpmn:conditionExpression></bpmn:sequenceFlow>"                                              \
    "<bpmn:userTask id=\"a\"/><bpmn:userTask id=\"b\"/><bpmn:userTask id=\"c\"/>"                  \
    "<bpmn:sequenceFlow id=\"fa2\" sourceRef=\"a\" targetRef=\"join\"/>"                           \
    "<bpmn:sequenceFlow id=\"fb2\" sourceRef=\"b\" targetRef=\"join\"/>"                           \
    "<bpmn:sequenceFlow id=\"fc2\" sourceRef=\"c\" targetRef=\"join\"/>"                           \
    "<bpmn:inclusiveGateway id=\"join\"/>"                                                         \
    "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"join\" targetRef=\"e1\"/>"                           \
    "<bpmn:endEvent id=\"e1\"/>"                                                                   \
    "</bpmn:subProcess>"                                                                           \
    "<bpmn:sequenceFlow id=\"f3\" sourceRef=\"sub\" targetRef=\"after\"/>"                         \
    "<bpmn:userTask id=\"after\"/>"                                                                \
    "<bpmn:sequenceFlow id=\"f4\" sourceRef=\"after\" targetRef=\"e\"/>"                           \
    "<bpmn:endEvent id=\"e\"/></bpmn:process></bpmn:definitions>"

static struct fl_service *open_scoped(struct fixture *f)
{
    struct fl_service_options o = {.db_url = f->url,
                                   .synchronous = 0,
                                   .synchronous_set = true,
                                   .clock_ms = fixed_clock,
                                   .instance_cache = 1};
    struct fl_service *svc = NULL;
    struct fl_error e;
    fl_error_clear(&e);
    int rc = fl_service_open(&o, &svc, &e);
    if (rc)
        fprintf(stderr, "service open: %s\n", e.msg);
    assert_int_equal(rc, 0);
    return svc;
}

/* The task created at node id in the instance's history (0 when none). */
static uint64_t task_of(struct fixture *f, uint64_t iid, const char *node_id)
{
    struct fl_store *rd = reader(f);
    struct fl_event_row *ev;
    uint64_t task = 0;
    size_t n;
    assert_int_equal(fl_store_history(rd, iid, &ev, &n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        if (ev[i].type == FL_EV_TASK_CREATED && ev[i].node_id && !strcmp(ev[i].node_id, node_id))
            task = ev[i].ref_id;
    fl_event_rows_free(ev, n);
    fl_store_close(rd);
    return task;
}

static struct fl_instance *load(struct fixture *f, uint64_t iid)
{
    struct fl_store *rd = reader(f);
    struct fl_instance *inst = NULL;
    assert_int_equal(fl_store_instance_load(rd, iid, &inst, NULL), 0);
    fl_store_close(rd);
    return inst;
}

static void run_ok(struct fixture *f, struct fl_command *c, struct fl_result *res)
{
    int rc = fl_service_run(f->svc, c, res);
    if (rc)
        fprintf(stderr, "run: %s\n", res->err.msg);
    assert_int_equal(rc, 0);
}

static void test_subprocess_survives_reload(void **state)
{
    struct fixture *f = *state;
    struct fl_deploy_result r;
    struct fl_result res;
    struct fl_command c;
    struct fl_error e;
    size_t n;
    uint64_t iid, other, sub_token = 0;

    f->svc = open_scoped(f);
    fl_error_clear(&e);
    if (fl_service_deploy(f->svc, SUB_XML, strlen(SUB_XML), &r, 1, &n, &e) != 0)
        fail_msg("deploy: %s (line %d)", e.msg, e.line);
    struct fl_value *vars = fl_value_context_new();
    fl_value_context_set(vars, "x", 1, fl_value_int(3)); /* a and b, not c */
    c = (struct fl_command){.kind = FL_CMD_START, .process_key = "scoped", .variables = vars};
    run_ok(f, &c, &res);
    iid = res.instance_id;
    run_ok(f, &c, &res); /* a second instance, so the cache of one misses */
    other = res.instance_id;
    fl_value_unref(vars);

    struct fl_instance *inst = load(f, iid);
    assert_int_equal(inst->n_tokens, 3);
    for (size_t i = 0; i < inst->n_tokens; i++)
        if (inst->tokens[i].state == FL_TOKEN_SCOPE)
            sub_token = inst->tokens[i].id;
    assert_true(sub_token != 0);
    for (size_t i = 0; i < inst->n_tokens; i++)
        if (inst->tokens[i].id != sub_token)
            assert_int_equal(inst->tokens[i].scope, sub_token);
    fl_instance_free(inst);

    uint64_t ta = task_of(f, iid, "a"), tb = task_of(f, iid, "b");
    assert_true(ta && tb);
    assert_int_equal(task_of(f, iid, "c"), 0);
    c = complete_cmd(iid, ta);
    run_ok(f, &c, &res);
    assert_int_equal(res.instance_status, FL_INSTANCE_ACTIVE);

    /* a new service: everything comes back from the store */
    fl_service_close(f->svc);
    f->svc = open_scoped(f);
    inst = load(f, iid);
    assert_int_equal(inst->n_tokens, 3); /* sub, b, and a waiting at the join */
    fl_instance_free(inst);
    c = complete_cmd(other, task_of(f, other, "a"));
    run_ok(f, &c, &res);
    c = complete_cmd(iid, tb);
    run_ok(f, &c, &res);
    assert_int_equal(res.instance_status, FL_INSTANCE_ACTIVE);
    uint64_t tafter = task_of(f, iid, "after");
    assert_true(tafter != 0);
    inst = load(f, iid);
    assert_int_equal(inst->n_tokens, 1);
    assert_int_equal(inst->tokens[0].scope, 0);
    fl_instance_free(inst);
    c = complete_cmd(iid, tafter);
    run_ok(f, &c, &res);
    assert_int_equal(res.instance_status, FL_INSTANCE_COMPLETED);
}

#define COMP_XML                                                                                   \
    "<?xml version=\"1.0\"?><bpmn:definitions"                                                     \
    " xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\">"                                 \
    "<bpmn:process id=\"booking\" isExecutable=\"true\">"                                          \
    "<bpmn:startEvent id=\"s\"/>"                                                                  \
    "<bpmn:sequenceFlow id=\"f0\" sourceRef=\"s\" targetRef=\"book\"/>"                            \
    "<bpmn:userTask id=\"book\"/>"                                                                 \
    "<bpmn:boundaryEvent id=\"cb\" attachedToRef=\"book\">"                                        \
    "<bpmn:compensateEventDefinition/></bpmn:boundaryEvent>"                                      \
    "<bpmn:userTask id=\"undo\" isForCompensation=\"true\"/>"                                      \
    "<bpmn:association id=\"as\" sourceRef=\"cb\" targetRef=\"undo\"/>"                            \
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"book\" targetRef=\"wait\"/>"                         \
    "<bpmn:userTask id=\"wait\"/>"                                                                 \
    "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"wait\" targetRef=\"comp\"/>"                         \
    "<bpmn:intermediateThrowEvent id=\"comp\"><bpmn:compensateEventDefinition/>"                  \
    "</bpmn:intermediateThrowEvent>"                                                              \
    "<bpmn:sequenceFlow id=\"f3\" sourceRef=\"comp\" targetRef=\"e\"/>"                            \
    "<bpmn:endEvent id=\"e\"/></bpmn:process></bpmn:definitions>"

static void test_compensation_survives_reload(void **state)
{
    struct fixture *f = *state;
    struct fl_deploy_result r;
    struct fl_result res;
    struct fl_command c;
    struct fl_error e;
    struct fl_instance *inst;
    size_t n;
    uint64_t iid;

    f->svc = open_scoped(f);
    fl_error_clear(&e);
    if (fl_service_deploy(f->svc, COMP_XML, strlen(COMP_XML), &r, 1, &n, &e) != 0)
        fail_msg("deploy: %s (line %d)", e.msg, e.line);
    c = (struct fl_command){.kind = FL_CMD_START, .process_key = "booking"};
    run_ok(f, &c, &res);
    iid = res.instance_id;
    c = complete_cmd(iid, task_of(f, iid, "book"));
    run_ok(f, &c, &res);

    /* the record is in the store, not only in the writer's cached instance */
    fl_service_close(f->svc);
    f->svc = open_scoped(f);
    inst = load(f, iid);
    assert_int_equal(inst->n_comps, 1);
    assert_int_equal(inst->comps[0].seq, 1);
    fl_instance_free(inst);

    c = complete_cmd(iid, task_of(f, iid, "wait"));
    run_ok(f, &c, &res);
    uint64_t tundo = task_of(f, iid, "undo");
    assert_true(tundo != 0); /* the handler ran after the restart */
    inst = load(f, iid);
    assert_int_equal(inst->n_comps, 0); /* used up */
    fl_instance_free(inst);
    c = complete_cmd(iid, tundo);
    run_ok(f, &c, &res);
    assert_int_equal(res.instance_status, FL_INSTANCE_COMPLETED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_subprocess_survives_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compensation_survives_reload, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
