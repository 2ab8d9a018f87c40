/* Service tests of BPMN timer events on a test clock (the clock is set, then
 * fl_service_timers_settle waits for what came due; nothing sleeps): timer start events
 * start one instance per occurrence of their cycle and re-arm until it is used up, a new
 * version replaces the start timers of the old one; an intermediate catch event and a
 * boundary event fire through the scheduler and the group commit, and after a restart an
 * overdue one fires at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flowd/service.h"
#include "flowd/store.h"
#include "svc_fixture.h"

#define T0 1795431600000LL /* 2026-11-23T11:00:00Z */
#define MIN 60000LL
#define HOUR 3600000LL
#define SETTLE_MS 60000

#define HEAD                                                                                       \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                                 \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\""                 \
    " id=\"defs\" targetNamespace=\"http://flowd.test\">\n"
#define TAIL "</bpmn:definitions>\n"

/* Started by a timer only: ts -> review -> end. */
#define DAILY(name, cycle)                                                                         \
    HEAD "  <bpmn:process id=\"daily\" name=\"" name "\" isExecutable=\"true\">\n"                 \
         "    <bpmn:startEvent id=\"ts\"><bpmn:timerEventDefinition><bpmn:timeCycle>" cycle        \
         "</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>\n"                       \
         "    <bpmn:userTask id=\"review\"/>\n"                                                    \
         "    <bpmn:endEvent id=\"end\"/>\n"                                                       \
         "    <bpmn:sequenceFlow id=\"f1\" sourceRef=\"ts\" targetRef=\"review\"/>\n"              \
         "    <bpmn:sequenceFlow id=\"f2\" sourceRef=\"review\" targetRef=\"end\"/>\n"             \
         "  </bpmn:process>\n" TAIL

/* start -> wait (PT30M) -> offer (user task, interrupting PT2H boundary 'late') -> end;
 * late -> chase (user task) -> end2 */
#define WAITING                                                                                    \
    HEAD "  <bpmn:process id=\"deal\" isExecutable=\"true\">\n"                                    \
         "    <bpmn:startEvent id=\"start\"/>\n"                                                   \
         "    <bpmn:intermediateCatchEvent id=\"wait\"><bpmn:timerEventDefinition>"                \
         "<bpmn:timeDuration>PT30M</bpmn:timeDuration></bpmn:timerEventDefinition>"                \
         "</bpmn:intermediateCatchEvent>\n"                                                        \
         "    <bpmn:userTask id=\"offer\"/>\n"                                                     \
         "    <bpmn:boundaryEvent id=\"late\" attachedToRef=\"offer\"><bpmn:timerEventDefinition>" \
         "<bpmn:timeDuration>PT2H</bpmn:timeDuration></bpmn:timerEventDefinition>"                 \
         "</bpmn:boundaryEvent>\n"                                                                 \
         "    <bpmn:userTask id=\"chase\"/>\n"                                                     \
         "    <bpmn:endEvent id=\"end\"/>\n"                                                       \
         "    <bpmn:endEvent id=\"end2\"/>\n"                                                      \
         "    <bpmn:sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"wait\"/>\n"             \
         "    <bpmn:sequenceFlow id=\"f2\" sourceRef=\"wait\" targetRef=\"offer\"/>\n"             \
         "    <bpmn:sequenceFlow id=\"f3\" sourceRef=\"offer\" targetRef=\"end\"/>\n"              \
         "    <bpmn:sequenceFlow id=\"f4\" sourceRef=\"late\" targetRef=\"chase\"/>\n"             \
         "    <bpmn:sequenceFlow id=\"f5\" sourceRef=\"chase\" targetRef=\"end2\"/>\n"             \
         "  </bpmn:process>\n" TAIL

struct fixture {
    char dir[64];
    char url[128];
    struct fl_service *svc;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (svc_tmpdir(f->dir))
        return -1;
    snprintf(f->url, sizeof(f->url), "sqlite:%s/t.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fl_service_close(f->svc);
    svc_rmdb(f->dir);
    free(f);
    return 0;
}

static struct fl_service *open_svc(struct fixture *f, int64_t now)
{
    struct fl_service_options o = {.db_url = f->url,
                                   .synchronous = 0,
                                   .synchronous_set = true,
                                   .run_timers = true,
                                   .test_clock = true,
                                   .test_clock_start_ms = now};
    struct fl_service *svc = NULL;
    struct fl_error e;
    fl_error_clear(&e);
    if (fl_service_open(&o, &svc, &e) != 0)
        fail_msg("service open: %s", e.msg);
    return svc;
}

static uint64_t deploy(struct fl_service *svc, const char *xml)
{
    struct fl_deploy_result r[1];
    struct fl_error e;
    size_t n;
    fl_error_clear(&e);
    if (fl_service_deploy(svc, xml, strlen(xml), r, 1, &n, &e) != 0)
        fail_msg("deploy: %s (line %d)", e.msg, e.line);
    return r[0].definition_id;
}

static struct fl_store *open_store(struct fixture *f)
{
    struct fl_store_options o = {.read_only = true};
    struct fl_store *s = NULL;
    assert_int_equal(fl_store_open(f->url, &o, &s, NULL), 0);
    return s;
}

static void advance(struct fl_service *svc, int64_t to)
{
    assert_int_equal(fl_service_clock_set(svc, to), 0);
    assert_int_equal(fl_service_timers_settle(svc, SETTLE_MS), 0);
}

/* The pending timers in due order (at most 8). */
static size_t timers(struct fixture *f, struct fl_timer_due *rows)
{
    struct fl_store *s = open_store(f);
    size_t n = 0;
    assert_int_equal(fl_store_timers_due(s, INT64_MIN, 0, rows, 8, &n, NULL), 0);
    fl_store_close(s);
    return n;
}

static size_t instances(struct fixture *f, const char *key, bool active_only)
{
    struct fl_store *s = open_store(f);
    struct fl_instance_query q = {.process_key = key, .active_only = active_only, .limit = 1000};
    struct fl_instance_row *rows;
    size_t n;
    assert_int_equal(fl_store_instance_list(s, &q, &rows, &n, NULL), 0);
    fl_instance_rows_free(rows, n);
    fl_store_close(s);
    return n;
}

static void test_timer_start_cycle(void **state)
{
    struct fixture *f = *state;
    struct fl_timer_due t[8];
    struct fl_timer one;
    struct fl_store *s;
    uint64_t v1, v2;

    f->svc = open_svc(f, T0);
    v1 = deploy(f->svc, DAILY("Daily", "R3/PT1H"));
    assert_int_equal(timers(f, t), 1);
    assert_int_equal(t[0].instance_id, 0);
    assert_int_equal(t[0].due_at, T0 + HOUR);
    s = open_store(f);
    assert_int_equal(fl_store_timer_get(s, t[0].id, &one, NULL), 0);
    fl_store_close(s);
    assert_int_equal(one.kind, FL_TIMER_START);
    assert_int_equal(one.ref_id, v1);
    assert_int_equal(one.repeat, 2);

    /* redeploying the same XML keeps the timer */
    assert_int_equal(deploy(f->svc, DAILY("Daily", "R3/PT1H")), v1);
    assert_int_equal(timers(f, t), 1);

    advance(f->svc, T0 + 59 * MIN);
    assert_int_equal(instances(f, "daily", false), 0);
    advance(f->svc, T0 + HOUR);
    assert_int_equal(instances(f, "daily", false), 1);
    assert_int_equal(timers(f, t), 1);
    assert_int_equal(t[0].due_at, T0 + 2 * HOUR);
    advance(f->svc, T0 + 2 * HOUR);
    advance(f->svc, T0 + 3 * HOUR);
    assert_int_equal(instances(f, "daily", true), 3);
    assert_int_equal(timers(f, t), 0); /* R3: used up */
    advance(f->svc, T0 + 10 * HOUR);
    assert_int_equal(instances(f, "daily", false), 3);

    /* a new version arms its own cycle; a third without timers drops it */
    v2 = deploy(f->svc, DAILY("Daily v2", "R/2026-11-24T09:00:00Z/P1D"));
    assert_true(v2 != v1);
    assert_int_equal(timers(f, t), 1);
    assert_int_equal(t[0].due_at, T0 + 22 * HOUR);
    s = open_store(f);
    assert_int_equal(fl_store_timer_get(s, t[0].id, &one, NULL), 0);
    fl_store_close(s);
    assert_int_equal(one.ref_id, v2);
    assert_int_equal(one.repeat, UINT32_MAX);
    advance(f->svc, T0 + 22 * HOUR);
    assert_int_equal(instances(f, "daily", false), 4);
    assert_int_equal(timers(f, t), 1);
    assert_int_equal(t[0].due_at, T0 + 46 * HOUR);

    deploy(f->svc, HEAD "  <bpmn:process id=\"daily\" isExecutable=\"true\">\n"
                        "    <bpmn:startEvent id=\"s\"/>\n"
                        "  </bpmn:process>\n" TAIL);
    assert_int_equal(timers(f, t), 0);
    advance(f->svc, T0 + 47 * HOUR);
    assert_int_equal(instances(f, "daily", false), 4);
}

static void test_bad_start_expression_refuses_deploy(void **state)
{
    struct fixture *f = *state;
    const char *xml = DAILY("Daily", "=nowhere");
    struct fl_deploy_result r[1];
    struct fl_timer_due t[8];
    struct fl_error e;
    size_t n;

    f->svc = open_svc(f, T0);
    fl_error_clear(&e);
    assert_int_equal(fl_service_deploy(f->svc, xml, strlen(xml), r, 1, &n, &e), FL_EMODEL);
    assert_non_null(strstr(e.msg, "timeCycle of timer start event 'ts' (=nowhere)"));
    assert_int_equal(timers(f, t), 0);
    /* nothing stored: the definition is not there either */
    struct fl_store *s = open_store(f);
    uint64_t id;
    assert_int_equal(fl_store_definition_find(s, "daily", 0, &id, NULL), FL_ENOTFOUND);
    fl_store_close(s);
}

static void test_catch_and_boundary(void **state)
{
    struct fixture *f = *state;
    struct fl_command c = {.kind = FL_CMD_START, .process_key = "deal", .actor = "t"};
    struct fl_timer_due t[8];
    struct fl_result r;
    struct fl_store *s;
    uint64_t iid;

    f->svc = open_svc(f, T0);
    deploy(f->svc, WAITING);
    assert_int_equal(fl_service_run(f->svc, &c, &r), 0);
    iid = r.instance_id;
    assert_int_equal(r.task_id, 0); /* waiting at the catch event */
    assert_int_equal(timers(f, t), 1);
    assert_int_equal(t[0].instance_id, iid);
    assert_int_equal(t[0].due_at, T0 + 30 * MIN);

    advance(f->svc, T0 + 30 * MIN);
    assert_int_equal(timers(f, t), 1); /* the boundary of offer */
    assert_int_equal(t[0].due_at, T0 + 150 * MIN);

    /* a restart: the overdue boundary timer fires at once */
    fl_service_close(f->svc);
    f->svc = open_svc(f, T0 + 5 * HOUR);
    assert_int_equal(fl_service_timers_settle(f->svc, SETTLE_MS), 0);
    assert_int_equal(timers(f, t), 0);
    s = open_store(f);
    struct fl_task_query q = {.instance_id = iid, .limit = 10};
    struct fl_task_row *rows;
    size_t n, open = 0;
    assert_int_equal(fl_store_task_list(s, &q, &rows, &n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rows[i].node_id, "chase") && rows[i].status == FL_TASK_OPEN)
            open++;
    assert_int_equal(open, 1);
    assert_int_equal(n, 2); /* offer (cancelled) and chase */
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rows[i].node_id, "offer"))
            assert_int_equal(rows[i].status, FL_TASK_CANCELLED);
    fl_task_rows_free(rows, n);
    fl_store_close(s);
    assert_int_equal(instances(f, "deal", true), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_timer_start_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_start_expression_refuses_deploy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catch_and_boundary, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
