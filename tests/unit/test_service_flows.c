/* Unit tests of the service running real process flows: variables crossing the queue as
 * JSON into FEEL conditions, commands on instance state rebuilt from the store (a cache of
 * one), and jobs routed by id, completed, failed into an incident, and cancelled. */
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

#define GATEWAY_XML                                                                                \
    "<?xml version=\"1.0\"?><bpmn:definitions"                                                     \
    " xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\""                                  \
    " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"                                    \
    "<bpmn:process id=\"deal\" isExecutable=\"true\">"                                             \
    "<bpmn:startEvent id=\"s\"/>"                                                                  \
    "<bpmn:sequenceFlow id=\"f0\" sourceRef=\"s\" targetRef=\"gw\"/>"                              \
    "<bpmn:exclusiveGateway id=\"gw\" default=\"small\"/>"                                         \
    "<bpmn:sequenceFlow id=\"big\" sourceRef=\"gw\" targetRef=\"approve\">"                        \
    "<bpmn:conditionExpression xsi:type=\"bpmn:tFormalExpression\">=amount &gt; 1000"              \
    "</bpmn:conditionExpression></bpmn:sequenceFlow>"                                              \
    "<bpmn:sequenceFlow id=\"small\" sourceRef=\"gw\" targetRef=\"work\"/>"                        \
    "<bpmn:userTask id=\"approve\"/>"                                                              \
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"approve\" targetRef=\"work\"/>"                      \
    "<bpmn:userTask id=\"work\"/>"                                                                 \
    "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"work\" targetRef=\"e\"/>"                            \
    "<bpmn:endEvent id=\"e\"/></bpmn:process></bpmn:definitions>"

/* Variables cross the queue as JSON and reach FEEL intact; with a cache of one instance
 * every command runs on state rebuilt from the store, and must behave the same. */
static void test_variables_and_reloads(void **state)
{
    struct fixture *f = *state;
    struct fl_service_options o = {.db_url = f->url,
                                   .synchronous = 0,
                                   .synchronous_set = true,
                                   .clock_ms = fixed_clock,
                                   .instance_cache = 1};
    struct fl_deploy_result r;
    struct fl_result res;
    struct fl_command c;
    struct fl_task_row task;
    struct fl_store *rd;
    uint64_t iid[4], tid[4];
    const char *amounts[4] = {"999.99", "1000.01", "12345678901234567890.5", "-3"};
    const char *first_node[4] = {"work", "approve", "approve", "work"};
    size_t n;

    assert_int_equal(fl_service_open(&o, &f->svc, NULL), 0);
    assert_int_equal(fl_service_deploy(f->svc, GATEWAY_XML, strlen(GATEWAY_XML), &r, 1, &n, NULL),
                     0);
    rd = reader(f);
    for (int i = 0; i < 4; i++) {
        struct fl_value *vars = fl_value_context_new(), *num = NULL;
        assert_int_equal(fl_value_number_parse(amounts[i], strlen(amounts[i]), &num), 0);
        fl_value_context_set(vars, "amount", 6, num);
        c = (struct fl_command){.kind = FL_CMD_START, .process_key = "deal", .variables = vars};
        assert_int_equal(fl_service_run(f->svc, &c, &res), 0);
        fl_value_unref(vars);
        iid[i] = res.instance_id;
        tid[i] = res.task_id;
        assert_int_equal(fl_store_task_get(rd, tid[i], &task, NULL), 0);
        assert_string_equal(task.node_id, first_node[i]);
        fl_task_row_release(&task);
    }
    /* interleave the instances so each command misses the one-entry cache */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 4; i++) {
            if (!tid[i])
                continue;
            c = complete_cmd(iid[i], tid[i]);
            assert_int_equal(fl_service_run(f->svc, &c, &res), 0);
            tid[i] = res.task_id;
            assert_int_equal(res.instance_status,
                             tid[i] ? FL_INSTANCE_ACTIVE : FL_INSTANCE_COMPLETED);
        }
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(tid[i], 0);
    struct fl_instance_row row;
    assert_int_equal(fl_store_instance_get(rd, iid[2], &row, NULL), 0);
    assert_string_equal(row.variables_json, "{\"amount\":12345678901234567890.5}");
    fl_instance_row_release(&row);
    fl_store_close(rd);
}

#define JOB_XML                                                                                    \
    "<?xml version=\"1.0\"?><bpmn:definitions"                                                     \
    " xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\""                                  \
    " xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\">"                                        \
    "<bpmn:process id=\"pay\" isExecutable=\"true\"><bpmn:startEvent id=\"s\"/>"                   \
    "<bpmn:sequenceFlow id=\"f0\" sourceRef=\"s\" targetRef=\"charge\"/>"                          \
    "<bpmn:serviceTask id=\"charge\"><bpmn:extensionElements>"                                     \
    "<zeebe:taskDefinition type=\"payment\"/></bpmn:extensionElements></bpmn:serviceTask>"         \
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"charge\" targetRef=\"e\"/>"                          \
    "<bpmn:endEvent id=\"e\"/></bpmn:process></bpmn:definitions>"

/* The job of the instance's first JOB_CREATED event, from history. */
static uint64_t job_of(struct fl_store *rd, uint64_t iid)
{
    struct fl_event_row *ev;
    uint64_t job = 0;
    size_t n;
    assert_int_equal(fl_store_history(rd, iid, &ev, &n, NULL), 0);
    for (size_t i = 0; i < n && !job; i++)
        if (ev[i].type == FL_EV_JOB_CREATED)
            job = ev[i].ref_id;
    fl_event_rows_free(ev, n);
    assert_true(job > 0);
    return job;
}

/* Jobs: routed by job id alone, completed, or failed for good into an incident. */
static void test_jobs(void **state)
{
    struct fixture *f = *state;
    struct fl_deploy_result r;
    struct fl_result res;
    struct fl_command c;
    struct fl_store *rd;
    uint64_t iid, job, owner;
    size_t n;

    f->svc = open_svc(f, 0, 0);
    assert_int_equal(fl_service_deploy(f->svc, JOB_XML, strlen(JOB_XML), &r, 1, &n, NULL), 0);
    rd = reader(f);
    c = (struct fl_command){.kind = FL_CMD_START, .process_key = "pay"};
    assert_int_equal(fl_service_run(f->svc, &c, &res), 0);
    iid = res.instance_id;
    job = job_of(rd, iid);
    assert_int_equal(fl_store_job_instance(rd, job, &owner, NULL), 0);
    assert_int_equal(owner, iid);
    c = (struct fl_command){.kind = FL_CMD_COMPLETE_JOB, .target_id = job, .actor = "worker"};
    assert_int_equal(fl_service_run(f->svc, &c, &res), 0);
    assert_int_equal(res.instance_id, iid);
    assert_int_equal(res.instance_status, FL_INSTANCE_COMPLETED);
    assert_int_not_equal(fl_service_run(f->svc, &c, &res), 0); /* closed already */

    c = (struct fl_command){.kind = FL_CMD_START, .process_key = "pay"};
    assert_int_equal(fl_service_run(f->svc, &c, &res), 0);
    iid = res.instance_id;
    job = job_of(rd, iid);
    c = (struct fl_command){
        .kind = FL_CMD_FAIL_JOB, .target_id = job, .retries = 1, .error_message = "card declined"};
    assert_int_equal(fl_service_run(f->svc, &c, &res), 0);
    assert_false(res.incident);
    c.retries = 0;
    assert_int_equal(fl_service_run(f->svc, &c, &res), 0);
    assert_true(res.incident);
    assert_int_equal(res.instance_status, FL_INSTANCE_ACTIVE);
    c = (struct fl_command){.kind = FL_CMD_CANCEL, .instance_id = iid, .reason = "stuck"};
    assert_int_equal(fl_service_run(f->svc, &c, &res), 0);
    assert_int_equal(res.instance_status, FL_INSTANCE_CANCELLED);
    struct fl_instance_row row;
    assert_int_equal(fl_store_instance_get(rd, iid, &row, NULL), 0);
    assert_int_equal(row.status, FL_INSTANCE_CANCELLED);
    assert_true(row.ended_at > 0);
    fl_instance_row_release(&row);
    fl_store_close(rd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_variables_and_reloads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jobs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
