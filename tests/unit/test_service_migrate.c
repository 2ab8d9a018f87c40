/* Service tests of migration between versions and of modification, on a real database:
 * a batch that cannot move one instance moves none (and says which and why), a batch
 * that can is written in one transaction -- definition, tokens, task node ids, history --
 * and survives a restart, running on in the new version; "every active instance of a
 * version" is chosen inside the transaction; FL_CMD_MODIFY with instruction lists crosses
 * the writer's queue intact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "svc_helpers.h"

/* v2 of "order": check is renamed check2, and approve comes between offer and pay. */
#define V2_XML                                                                                     \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                                 \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\""                 \
    " id=\"defs\" targetNamespace=\"http://flowd.test\">\n"                                        \
    "  <bpmn:process id=\"order\" name=\"Order\" isExecutable=\"true\">\n"                         \
    "    <bpmn:startEvent id=\"start\"/>\n"                                                        \
    "    <bpmn:sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"check2\"/>\n"                \
    "    <bpmn:userTask id=\"check2\" name=\"Check\"/>\n"                                          \
    "    <bpmn:sequenceFlow id=\"f2\" sourceRef=\"check2\" targetRef=\"offer\"/>\n"                \
    "    <bpmn:userTask id=\"offer\" name=\"Offer\"/>\n"                                           \
    "    <bpmn:sequenceFlow id=\"f3\" sourceRef=\"offer\" targetRef=\"approve\"/>\n"               \
    "    <bpmn:userTask id=\"approve\" name=\"Approve\"/>\n"                                       \
    "    <bpmn:sequenceFlow id=\"f3b\" sourceRef=\"approve\" targetRef=\"pay\"/>\n"                \
    "    <bpmn:userTask id=\"pay\" name=\"Pay\"/>\n"                                               \
    "    <bpmn:sequenceFlow id=\"f4\" sourceRef=\"pay\" targetRef=\"end\"/>\n"                     \
    "    <bpmn:endEvent id=\"end\"/>\n"                                                            \
    "  </bpmn:process>\n"                                                                          \
    "</bpmn:definitions>\n"

static uint64_t deploy(struct fl_service *svc, const char *xml)
{
    struct fl_deploy_result r[2];
    struct fl_error e;
    size_t n = 0;
    fl_error_clear(&e);
    assert_int_equal(fl_service_deploy(svc, xml, strlen(xml), r, 2, &n, &e), 0);
    assert_int_equal(n, 1);
    return r[0].definition_id;
}

static void start(struct fl_service *svc, uint64_t *instance, uint64_t *task)
{
    struct fl_command c = start_cmd(NULL);
    struct fl_result res;
    assert_int_equal(fl_service_run(svc, &c, &res), 0);
    *instance = res.instance_id;
    *task = res.task_id;
}

static uint64_t complete(struct fl_service *svc, uint64_t instance, uint64_t task)
{
    struct fl_command c = complete_cmd(instance, task);
    struct fl_result res;
    int rc = fl_service_run(svc, &c, &res);
    if (rc)
        fail_msg("complete %llu: %s", (unsigned long long)task, res.err.msg);
    return res.task_id;
}

static int32_t version_of(struct fixture *f, uint64_t instance)
{
    struct fl_store *s = reader(f);
    struct fl_instance_row row;
    int32_t v;
    assert_int_equal(fl_store_instance_get(s, instance, &row, NULL), 0);
    v = row.version;
    fl_instance_row_release(&row);
    fl_store_close(s);
    return v;
}

static void assert_task_node(struct fixture *f, uint64_t task, const char *node)
{
    struct fl_store *s = reader(f);
    struct fl_task_row row;
    assert_int_equal(fl_store_task_get(s, task, &row, NULL), 0);
    assert_string_equal(row.node_id, node);
    fl_task_row_release(&row);
    fl_store_close(s);
}

static void test_batch_all_or_nothing(void **state)
{
    struct fixture *f = *state;
    struct fl_migration_outcome *out = NULL;
    struct fl_error e;
    uint64_t inst[3], task[3], v1, v2;
    size_t n = 0;

    f->svc = open_svc(f, 0, 0);
    v1 = deploy(f->svc, SVC_PROCESS_XML);
    for (int i = 0; i < 3; i++)
        start(f->svc, &inst[i], &task[i]);
    task[1] = complete(f->svc, inst[1], task[1]); /* instance 2 waits at offer */
    v2 = deploy(f->svc, V2_XML);
    assert_int_not_equal(v1, v2);

    /* check has no counterpart in v2: instance 1 cannot move, so instance 2 does not */
    struct fl_migration_request req = {
        .to_definition_id = v2, .instance_ids = inst, .n_instances = 2, .actor = "root"};
    fl_error_clear(&e);
    assert_int_equal(fl_service_migrate(f->svc, &req, &out, &n, &e), FL_EINVAL);
    assert_non_null(strstr(e.msg, "1 of 2 instances cannot be migrated"));
    assert_string_equal(e.element, "check");
    assert_int_equal(n, 2);
    assert_int_equal(out[0].instance_id, inst[0]);
    assert_int_equal(out[0].rc, FL_EINVAL);
    assert_non_null(strstr(out[0].err.msg, "'check'"));
    assert_int_equal(out[1].rc, 0);
    free(out);
    assert_int_equal(version_of(f, inst[0]), 1);
    assert_int_equal(version_of(f, inst[1]), 1);

    /* with check -> check2 both move, in one transaction */
    struct fl_migration_pair pairs[] = {{"check", "check2"}};
    req.pairs = pairs;
    req.n_pairs = 1;
    assert_int_equal(fl_service_migrate(f->svc, &req, &out, &n, &e), 0);
    assert_int_equal(n, 2);
    free(out);
    assert_int_equal(version_of(f, inst[0]), 2);
    assert_int_equal(version_of(f, inst[1]), 2);
    assert_int_equal(version_of(f, inst[2]), 1);
    assert_task_node(f, task[0], "check2");
    assert_task_node(f, task[1], "offer");

    /* the history says who did it */
    struct fl_store *s = reader(f);
    struct fl_event_row *ev = NULL;
    size_t n_ev = 0;
    bool seen = false;
    assert_int_equal(fl_store_history(s, inst[0], &ev, &n_ev, NULL), 0);
    for (size_t i = 0; i < n_ev; i++)
        if (ev[i].type == FL_EV_INSTANCE_MIGRATED) {
            seen = true;
            assert_string_equal(ev[i].actor, "root");
        }
    assert_true(seen);
    fl_event_rows_free(ev, n_ev);
    fl_store_close(s);

    /* after a restart the instances run on in v2 */
    fl_service_close(f->svc);
    f->svc = open_svc(f, 0, 0);
    uint64_t next = complete(f->svc, inst[1], task[1]); /* offer -> approve (new in v2) */
    assert_task_node(f, next, "approve");
    next = complete(f->svc, inst[0], task[0]); /* check2 -> offer */
    assert_task_node(f, next, "offer");

    /* every active instance of v1: only instance 3 is left there */
    struct fl_migration_request all = {.to_definition_id = v2,
                                       .from_definition_id = v1,
                                       .pairs = pairs,
                                       .n_pairs = 1,
                                       .actor = "root"};
    assert_int_equal(fl_service_migrate(f->svc, &all, &out, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].instance_id, inst[2]);
    free(out);
    assert_int_equal(version_of(f, inst[2]), 2);

    /* an unknown target definition is refused */
    struct fl_migration_request bad = {.to_definition_id = 999, .instance_ids = inst, .n_instances = 1};
    assert_int_equal(fl_service_migrate(f->svc, &bad, &out, &n, &e), FL_ENOTFOUND);
    free(out);
}

static void test_modify_through_the_queue(void **state)
{
    struct fixture *f = *state;
    struct fl_instance *inst = NULL;
    struct fl_result res;
    uint64_t id, task;

    f->svc = open_svc(f, 0, 0);
    deploy_order(f->svc);
    start(f->svc, &id, &task);
    struct fl_store *s = reader(f);
    assert_int_equal(fl_store_instance_load(s, id, &inst, NULL), 0);
    fl_store_close(s);
    assert_int_equal(inst->n_tokens, 1);
    uint64_t tokens[] = {inst->tokens[0].id};
    fl_instance_free(inst);
    const char *starts[] = {"pay", "offer"};
    struct fl_command c = {.kind = FL_CMD_MODIFY,
                           .instance_id = id,
                           .cancel_tokens = tokens,
                           .n_cancel_tokens = 1,
                           .start_before = starts,
                           .n_start_before = 2,
                           .actor = "root"};
    assert_int_equal(fl_service_run(f->svc, &c, &res), 0);
    assert_int_equal(res.instance_status, FL_INSTANCE_ACTIVE);
    s = reader(f);
    struct fl_task_row row;
    assert_int_equal(fl_store_task_get(s, task, &row, NULL), 0);
    assert_int_equal(row.status, FL_TASK_CANCELLED);
    assert_string_equal(row.closed_by, "root");
    fl_task_row_release(&row);
    assert_int_equal(fl_store_instance_load(s, id, &inst, NULL), 0);
    assert_int_equal(inst->n_tokens, 2);
    fl_instance_free(inst);
    fl_store_close(s);
    /* an unknown element refuses the whole modification */
    const char *bad[] = {"nope"};
    struct fl_command c2 = {.kind = FL_CMD_MODIFY, .instance_id = id, .start_before = bad,
                            .n_start_before = 1};
    assert_int_equal(fl_service_run(f->svc, &c2, &res), FL_EINVAL);
    assert_non_null(strstr(res.err.msg, "'nope'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batch_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modify_through_the_queue, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
