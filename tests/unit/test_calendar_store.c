/* Unit tests of stored business calendars and the service's use of them: a bad calendar
 * is refused naming the field and changes nothing, a good one is stored in canonical
 * form, the revision moves with every change, "default" is built in until replaced, and
 * the writer computes task deadlines on the stage's calendar -- forgetting a calendar it
 * parsed once another connection changed it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#include <cmocka.h>

#include "flowd/calendar.h"
#include "flowd/service.h"
#include "flowd/store.h"
#include "svc_fixture.h"
#include "svc_helpers.h"

#define CAL_PROCESS_XML                                                                            \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                                 \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\""                 \
    " xmlns:flowd=\"https://flowd.dev/schema/bpmn/1.0\" id=\"d\" targetNamespace=\"t\">\n"         \
    "  <bpmn:process id=\"cal\" isExecutable=\"true\">\n"                                          \
    "    <bpmn:startEvent id=\"start\"/>\n"                                                        \
    "    <bpmn:sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"a\"/>\n"                     \
    "    <bpmn:userTask id=\"a\"><bpmn:extensionElements>\n"                                       \
    "      <flowd:stage duration=\"PT2H\" remindBefore=\"PT1H\" calendar=\"CAL\"/>\n"              \
    "    </bpmn:extensionElements></bpmn:userTask>\n"                                              \
    "    <bpmn:sequenceFlow id=\"f2\" sourceRef=\"a\" targetRef=\"end\"/>\n"                       \
    "    <bpmn:endEvent id=\"end\"/>\n"                                                            \
    "  </bpmn:process>\n"                                                                          \
    "</bpmn:definitions>\n"

static struct fl_store *writer_store(struct fixture *f)
{
    struct fl_store *s = NULL;
    assert_int_equal(fl_store_open(f->url, NULL, &s, NULL), 0);
    return s;
}

static int put(struct fl_store *s, const char *name, const char *json, struct fl_error *e)
{
    fl_error_clear(e);
    return fl_store_calendar_put(s, name, json, strlen(json), 1000, e);
}

static void test_store(void **state)
{
    struct fixture *f = *state;
    struct fl_store *s = writer_store(f);
    struct fl_calendar_row row, *rows;
    struct fl_error e;
    uint64_t rev0, rev;
    size_t n;

    assert_int_equal(fl_store_calendar_revision(s, &rev0, NULL), 0);
    assert_int_equal(fl_store_calendar_get(s, "default", &row, &e), FL_ENOTFOUND);
    assert_int_equal(put(s, "de", "{\"zone\":\"Europe/Berlin\",\"holidays\":[\"2026-10-03\"]}", &e),
                     0);
    assert_int_equal(fl_store_calendar_revision(s, &rev, NULL), 0);
    assert_true(rev > rev0);
    assert_int_equal(fl_store_calendar_get(s, "de", &row, &e), 0);
    assert_string_equal(row.name, "de");
    assert_non_null(strstr(row.json, "\"zone\":\"Europe/Berlin\""));
    assert_non_null(strstr(row.json, "\"mon\":[{\"start\":\"09:00\",\"end\":\"18:00\"}]"));
    assert_int_equal(row.updated_at, 1000);
    fl_calendar_row_release(&row);

    /* bad input: refused naming the field, the stored one unchanged, no revision */
    assert_int_equal(
        put(s, "de", "{\"week\":{\"mon\":[{\"start\":\"09:00\",\"end\":\"08:00\"}]}}", &e),
        FL_EINVAL);
    assert_string_equal(e.field, "week.mon[0].end");
    assert_int_equal(put(s, "de", "{\"week\":{}}", &e), FL_EINVAL);
    assert_string_equal(e.field, "week");
    assert_int_equal(put(s, "bad name", "{}", &e), FL_EINVAL);
    assert_string_equal(e.field, "name");
    assert_int_equal(fl_store_calendar_revision(s, &rev0, NULL), 0);
    assert_int_equal(rev0, rev);
    assert_int_equal(fl_store_calendar_get(s, "de", &row, &e), 0);
    assert_non_null(strstr(row.json, "Europe/Berlin"));
    fl_calendar_row_release(&row);

    assert_int_equal(put(s, "alpha", "{}", &e), 0);
    assert_int_equal(fl_store_calendar_list(s, &rows, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].name, "alpha");
    assert_string_equal(rows[1].name, "de");
    fl_calendar_rows_free(rows, n);

    assert_int_equal(fl_store_calendar_delete(s, "alpha", &e), 0);
    assert_int_equal(fl_store_calendar_delete(s, "alpha", &e), FL_ENOTFOUND);
    assert_int_equal(fl_store_calendar_get(s, "alpha", &row, &e), FL_ENOTFOUND);
    assert_int_equal(fl_store_calendar_revision(s, &rev0, NULL), 0);
    assert_true(rev0 > rev);
    fl_store_close(s);
}

static void deploy(struct fl_service *svc, const char *calendar)
{
    char xml[2048];
    const char *src = CAL_PROCESS_XML;
    const char *p = strstr(src, "CAL\"");
    struct fl_deploy_result r[1];
    size_t n;
    snprintf(xml, sizeof(xml), "%.*s%s%s", (int)(p - src), src, calendar, p + 3);
    assert_int_equal(fl_service_deploy(svc, xml, strlen(xml), r, 1, &n, NULL), 0);
}

/* Start the process; the task's due and remind times. */
static void start(struct fixture *f, int64_t *due, int64_t *remind, bool *incident)
{
    struct fl_command c = start_cmd(NULL);
    struct fl_result res;
    struct fl_task_row t;
    struct fl_store *rd;
    c.process_key = "cal";
    assert_int_equal(fl_service_run(f->svc, &c, &res), 0);
    assert_int_equal(res.rc, 0);
    *incident = res.incident;
    *due = *remind = 0;
    if (!res.task_id)
        return;
    rd = reader(f);
    assert_int_equal(fl_store_task_get(rd, res.task_id, &t, NULL), 0);
    *due = t.due_at;
    *remind = t.remind_at;
    fl_task_row_release(&t);
    fl_store_close(rd);
}

static int64_t at(const char *iso)
{
    int64_t t = 0;
    assert_int_equal(fl_time_parse(iso, &t), 0);
    return t;
}

static void test_service_deadlines(void **state)
{
    struct fixture *f = *state;
    struct fl_store *s;
    struct fl_error e;
    int64_t due, remind;
    bool incident;

    /* the clock: Tuesday 2023-11-14 22:13:20Z, after hours */
    f->svc = open_svc(f, 0, 0);
    deploy(f->svc, "default");
    start(f, &due, &remind, &incident);
    assert_false(incident);
    assert_int_equal(due, at("2023-11-15T11:00:00Z"));
    assert_int_equal(remind, at("2023-11-15T10:00:00Z"));

    /* replacing "default" on another connection: the writer sees it at once */
    s = writer_store(f);
    assert_int_equal(put(s, "default", "{\"holidays\":[\"2023-11-15\"]}", &e), 0);
    start(f, &due, &remind, &incident);
    assert_int_equal(due, at("2023-11-16T11:00:00Z"));
    /* deleting it brings the built-in one back */
    assert_int_equal(fl_store_calendar_delete(s, "default", &e), 0);
    start(f, &due, &remind, &incident);
    assert_int_equal(due, at("2023-11-15T11:00:00Z"));

    /* a named calendar in Berlin: 23:13 local, so Wednesday 09:00 CET + 2h */
    assert_int_equal(put(s, "de", "{\"zone\":\"Europe/Berlin\"}", &e), 0);
    deploy(f->svc, "de");
    start(f, &due, &remind, &incident);
    assert_int_equal(due, at("2023-11-15T10:00:00Z"));
    assert_int_equal(remind, at("2023-11-15T09:00:00Z"));

    /* an unknown calendar: incident, no task */
    deploy(f->svc, "nowhere");
    start(f, &due, &remind, &incident);
    assert_true(incident);
    assert_int_equal(due, 0);
    fl_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_deadlines, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
