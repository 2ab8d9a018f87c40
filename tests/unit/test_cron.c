/* Cron timer cycles (Camunda 7 / Quartz): the next occurrence for steps, ranges, names,
 * L, LW, nW, nL, n#k, years and offsets, checked against dates worked out by hand;
 * malformed texts refused with the column of the fault; and the engine's timer due time
 * for a cron timeCycle, first and re-armed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/engine_int.h"
#include "flowd/model.h"
#include "flowd/timecalc.h"

static int64_t at(const char *iso)
{
    int64_t t;
    if (fl_time_parse(iso, &t) != 0)
        fail_msg("bad test instant '%s'", iso);
    return t;
}

static void expect_next(const char *cron, const char *after, int32_t tz, const char *want)
{
    struct fl_cron c;
    struct fl_error err;
    char got[40];
    int64_t t;
    fl_error_clear(&err);
    if (fl_cron_parse(cron, &c, &err) != 0)
        fail_msg("'%s': %s", cron, err.msg);
    if (fl_cron_next(&c, at(after), tz, &t) != 0)
        fail_msg("'%s' after %s: no occurrence", cron, after);
    fl_time_format(t, got);
    if (t != at(want))
        fail_msg("'%s' after %s gave %s, expected %s", cron, after, got, want);
}

static void expect_none(const char *cron, const char *after)
{
    struct fl_cron c;
    int64_t t = 0;
    assert_int_equal(fl_cron_parse(cron, &c, NULL), 0);
    assert_int_equal(fl_cron_next(&c, at(after), 0, &t), FL_ENOTFOUND);
}

static void expect_bad(const char *cron, const char *msg, int column)
{
    struct fl_cron c;
    struct fl_error err;
    int rc;
    fl_error_clear(&err);
    rc = fl_cron_parse(cron, &c, &err);
    if (rc != FL_EPARSE || !strstr(err.msg, msg))
        fail_msg("'%s': expected '%s', got %s '%s'", cron, msg, fl_err_name(rc), err.msg);
    if (err.column != column)
        fail_msg("'%s': '%s' at column %d, expected %d", cron, err.msg, err.column, column);
}

static void test_next(void **state)
{
    (void)state;
    /* 2026-01-01 is a Thursday */
    expect_next("0 0/5 * * * ?", "2026-01-01T00:02:30Z", 0, "2026-01-01T00:05:00Z");
    expect_next("0 0/5 * * * ?", "2026-01-01T00:05:00Z", 0, "2026-01-01T00:10:00Z");
    expect_next("0 0/5 * * * ?", "2026-01-01T23:59:59Z", 0, "2026-01-02T00:00:00Z");
    expect_next("*/20 * * * * ?", "2026-01-01T00:00:45Z", 0, "2026-01-01T00:01:00Z");
    expect_next("15,45 * * * * ?", "2026-01-01T00:00:15Z", 0, "2026-01-01T00:00:45Z");
    expect_next("0 0 9 ? * MON-FRI", "2026-01-03T10:00:00Z", 0, "2026-01-05T09:00:00Z");
    expect_next("0 0 9 ? * 2-6", "2026-01-02T09:00:00Z", 0, "2026-01-05T09:00:00Z");
    expect_next("0 0 9 ? * FRI-MON", "2026-01-05T10:00:00Z", 0, "2026-01-09T09:00:00Z");
    expect_next("0 0 22-2 * * ?", "2026-01-01T02:30:00Z", 0, "2026-01-01T22:00:00Z");
    expect_next("0 0 22-2 * * ?", "2026-01-01T23:30:00Z", 0, "2026-01-02T00:00:00Z");
    expect_next("0 30 10-13/2 * * ?", "2026-01-01T10:31:00Z", 0, "2026-01-01T12:30:00Z");
    expect_next("0 0 0 1 JAN,MAR ?", "2026-01-01T00:00:00Z", 0, "2026-03-01T00:00:00Z");
    expect_next("0 0 12 L * ?", "2026-02-10T00:00:00Z", 0, "2026-02-28T12:00:00Z");
    expect_next("0 0 12 L * ?", "2028-02-10T00:00:00Z", 0, "2028-02-29T12:00:00Z");
    expect_next("0 0 0 L-3 * ?", "2026-01-01T00:00:00Z", 0, "2026-01-28T00:00:00Z");
    expect_next("0 0 10 LW * ?", "2026-01-01T00:00:00Z", 0, "2026-01-30T10:00:00Z");
    expect_next("0 0 10 15W * ?", "2026-02-01T00:00:00Z", 0, "2026-02-16T10:00:00Z");
    expect_next("0 0 10 1W * ?", "2026-07-31T00:00:00Z", 0, "2026-08-03T10:00:00Z");
    expect_next("0 0 10 ? * 6#3", "2026-01-01T00:00:00Z", 0, "2026-01-16T10:00:00Z");
    expect_next("0 0 10 ? * FRI#1", "2026-01-02T10:00:00Z", 0, "2026-02-06T10:00:00Z");
    expect_next("0 0 10 ? * 6L", "2026-01-01T00:00:00Z", 0, "2026-01-30T10:00:00Z");
    expect_next("0 0 10 ? * L", "2026-01-01T00:00:00Z", 0, "2026-01-03T10:00:00Z");
    expect_next("0 15 10 ? * * 2027", "2026-05-01T00:00:00Z", 0, "2027-01-01T10:15:00Z");
    expect_next("0 0 0 29 2 ? 2026-2030", "2026-01-01T00:00:00Z", 0, "2028-02-29T00:00:00Z");
    expect_next("0 0 0 * * ?", "2026-12-31T12:00:00Z", 0, "2027-01-01T00:00:00Z");
    /* local time one hour east of UTC: 09:00 there is 08:00Z */
    expect_next("0 0 9 * * ?", "2026-01-01T07:00:00Z", 60, "2026-01-01T08:00:00Z");
    expect_next("0 0 9 * * ?", "2026-01-01T08:30:00Z", 60, "2026-01-02T08:00:00Z");
    /* strictly after: a text that allows the very instant gives the next one */
    expect_next("0 0 * * * ?", "2026-01-01T05:00:00Z", 0, "2026-01-01T06:00:00Z");
    expect_none("0 0 0 30 2 ?", "2026-01-01T00:00:00Z");
    expect_none("0 0 0 * * ? 2020", "2026-01-01T00:00:00Z");
}

static void test_recognised(void **state)
{
    (void)state;
    assert_true(fl_cron_is("0 0/5 * * * ?"));
    assert_true(fl_cron_is("0 0 9 ? * MON-FRI 2027"));
    assert_true(fl_cron_is("0 5 * * *")); /* five fields: cron, refused by the parser */
    assert_false(fl_cron_is("R/P1D"));
    assert_false(fl_cron_is("R3/2026-01-01T09:00:00Z/P1D"));
    assert_false(fl_cron_is("=cycle"));
    assert_false(fl_cron_is(NULL));
}

static void test_refused(void **state)
{
    (void)state;
    expect_bad("0 5 * * *", "5 fields; Camunda's cron has 6 or 7", 10);
    expect_bad("0 61 * * * ?", "61 is out of range for minutes (0-59)", 3);
    expect_bad("0 0 24 * * ?", "24 is out of range for hours", 5);
    expect_bad("0 0 12 1 * MON", "both day-of-month and day-of-week are given", 12);
    expect_bad("0 0 12 ? * FOO", "'FOO' is not a day name", 12);
    expect_bad("0 0 12 ? XYZ *", "'XYZ' is not a month name", 10);
    expect_bad("0 0 12 ? * 6#9", "n#k needs k from 1 to 5", 14);
    expect_bad("? 0 12 * * *", "'?' is only for day-of-month or day-of-week", 1);
    expect_bad("0 0/0 * * * ?", "step must be a whole number from 1 to 60", 5);
    expect_bad("0 0/x * * * ?", "step must be a whole number", 5);
    expect_bad("0 1,,2 * * * ?", "empty item in the minutes field", 5);
    expect_bad("0 1, * * * ?", "empty item in the minutes field", 4);
    expect_bad("0 1-2x * * * ?", "unexpected 'x' in the minutes field", 6);
    expect_bad("0 0 12 L-40 * ?", "L-n needs n from 0 to 30", 10);
    expect_bad("0 0 0 1 1 ? 1969", "1969 is out of range for year", 13);
    expect_bad("0 0 0 1 1 ? 2026 x", "too many fields", 18);
}

/* The engine's due time for a cron timeCycle: from now on the first arming, from the last
 * due time when re-armed, unbounded. */
static void test_engine_due(void **state)
{
    char weekdays[] = "0 0 9 ? * MON-FRI", foo[] = "0 0 9 ? * FOO";
    struct fl_timer_def def = {FL_TIMERDEF_CYCLE, weekdays};
    struct fl_node node;
    struct fl_timer last;
    char why[200];
    int64_t due = 0;
    uint32_t repeat = 0;
    (void)state;
    memset(&node, 0, sizeof(node));
    node.kind = FL_NODE_TIMER_START;
    node.timer = &def;
    assert_int_equal(fl__timer_due(&node, NULL, at("2026-01-03T10:00:00Z"), 0, NULL, &due, &repeat,
                                   why, sizeof(why)),
                     0);
    assert_int_equal(due, at("2026-01-05T09:00:00Z"));
    assert_int_equal(repeat, UINT32_MAX);
    memset(&last, 0, sizeof(last));
    last.due_at = due;
    last.repeat = UINT32_MAX;
    assert_int_equal(fl__timer_due(&node, NULL, due + 5, 0, &last, &due, &repeat, why, sizeof(why)),
                     0);
    assert_int_equal(due, at("2026-01-06T09:00:00Z"));
    def.text = foo;
    assert_int_equal(fl__timer_due(&node, NULL, 0, 0, NULL, &due, &repeat, why, sizeof(why)),
                     FL_EINVAL);
    assert_non_null(strstr(why, "'FOO' is not a day name"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next),
        cmocka_unit_test(test_recognised),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_engine_due),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
