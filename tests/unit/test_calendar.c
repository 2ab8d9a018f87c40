/* Unit tests of business calendars: validation naming the bad field, the JSON round trip,
 * and working-time arithmetic across weekends, holidays, moved working days, DST changes
 * (Europe/Berlin, America/New_York), year ends, leap days and split working days. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flowd/calendar.h"

static int64_t at(const char *iso)
{
    int64_t t = 0;
    if (fl_time_parse(iso, &t) != 0)
        fail_msg("bad time in test: %s", iso);
    return t;
}

static struct fl_calendar *cal(const char *json)
{
    struct fl_calendar *c = NULL;
    struct fl_error err;
    fl_error_clear(&err);
    if (fl_calendar_parse("t", json, strlen(json), &c, &err) != 0)
        fail_msg("calendar rejected: %s (field %s)", err.msg, err.field);
    return c;
}

/* start + duration on c, as UTC ISO text */
static const char *add(const struct fl_calendar *c, const char *start, const char *dur)
{
    static char out[32];
    struct fl_iso_duration d;
    struct fl_error err;
    int64_t t;
    fl_error_clear(&err);
    assert_int_equal(fl_iso_duration_parse(dur, &d, &err), 0);
    if (fl_calendar_add(c, at(start), &d, &t, &err) != 0)
        fail_msg("add %s %s failed: %s", start, dur, err.msg);
    return fl_time_format(t, out);
}

/* Parse must fail with code, naming field. */
static void rejects(const char *json, int code, const char *field)
{
    struct fl_calendar *c = NULL;
    struct fl_error err;
    fl_error_clear(&err);
    int rc = fl_calendar_parse("t", json, strlen(json), &c, &err);
    if (rc != code)
        fail_msg("%s: got %d (%s), want %d", json, rc, err.msg, code);
    assert_null(c);
    assert_string_equal(err.field, field);
    assert_true(err.msg[0] != '\0');
}

static void test_default_friday(void **state)
{
    struct fl_calendar *c = fl_calendar_builtin();
    (void)state;
    assert_string_equal(fl_calendar_name(c), "default");
    /* 2026-01-09 is a Friday */
    assert_string_equal(add(c, "2026-01-09T17:30:00Z", "PT2H"), "2026-01-12T10:30:00.000Z");
    assert_string_equal(add(c, "2026-01-09T17:30:00Z", "P1D"), "2026-01-12T17:30:00.000Z");
    assert_string_equal(add(c, "2026-01-09T17:30:00Z", "P3D"), "2026-01-14T17:30:00.000Z");
    assert_string_equal(add(c, "2026-01-09T17:00:00Z", "PT1H"), "2026-01-09T18:00:00.000Z");
    assert_string_equal(add(c, "2026-01-09T18:00:00Z", "P1D"), "2026-01-12T18:00:00.000Z");
    assert_string_equal(add(c, "2026-01-09T17:30:00Z", "P1DT1H"), "2026-01-13T09:30:00.000Z");
    /* P1W is five working days: Wednesday to Wednesday */
    assert_string_equal(add(c, "2026-01-14T11:00:00Z", "P1W"), "2026-01-21T11:00:00.000Z");
    assert_string_equal(add(c, "2026-01-14T11:00:00Z", "PT0S"), "2026-01-14T11:00:00.000Z");
    assert_string_equal(add(c, "2026-01-14T11:00:00Z", "PT90M"), "2026-01-14T12:30:00.000Z");
    fl_calendar_free(c);
}

static void test_outside_hours(void **state)
{
    struct fl_calendar *c = fl_calendar_builtin();
    int64_t t;
    (void)state;
    /* before, after hours and on the weekend: counting starts at the next working moment */
    assert_string_equal(add(c, "2026-01-12T07:00:00Z", "PT1H"), "2026-01-12T10:00:00.000Z");
    assert_string_equal(add(c, "2026-01-12T20:00:00Z", "PT1H"), "2026-01-13T10:00:00.000Z");
    assert_string_equal(add(c, "2026-01-10T10:00:00Z", "PT1H"), "2026-01-12T10:00:00.000Z");
    assert_string_equal(add(c, "2026-01-10T10:00:00Z", "P1D"), "2026-01-13T09:00:00.000Z");
    assert_string_equal(add(c, "2026-01-12T07:00:00Z", "P1D"), "2026-01-13T09:00:00.000Z");
    assert_true(fl_calendar_is_working(c, at("2026-01-12T09:00:00Z")));
    assert_false(fl_calendar_is_working(c, at("2026-01-12T18:00:00Z")));
    assert_false(fl_calendar_is_working(c, at("2026-01-10T12:00:00Z")));
    assert_int_equal(fl_calendar_next_working(c, at("2026-01-10T12:00:00Z"), &t, NULL), 0);
    assert_int_equal(t, at("2026-01-12T09:00:00Z"));
    assert_int_equal(fl_calendar_next_working(c, at("2026-01-12T12:00:00Z"), &t, NULL), 0);
    assert_int_equal(t, at("2026-01-12T12:00:00Z"));
    fl_calendar_free(c);
}

static void test_subtract(void **state)
{
    struct fl_calendar *c = fl_calendar_builtin();
    (void)state;
    assert_string_equal(add(c, "2026-01-12T10:30:00Z", "-PT2H"), "2026-01-09T17:30:00.000Z");
    assert_string_equal(add(c, "2026-01-12T17:30:00Z", "-P1D"), "2026-01-09T17:30:00.000Z");
    assert_string_equal(add(c, "2026-01-12T09:00:00Z", "-PT1H"), "2026-01-09T17:00:00.000Z");
    /* from the weekend backward: the last working moment is Friday 18:00 */
    assert_string_equal(add(c, "2026-01-10T12:00:00Z", "-PT4H"), "2026-01-09T14:00:00.000Z");
    assert_string_equal(add(c, "2026-01-10T12:00:00Z", "-P1D"), "2026-01-08T18:00:00.000Z");
    fl_calendar_free(c);
}

static void test_holidays_and_moved_days(void **state)
{
    (void)state;
    struct fl_calendar *c = cal("{\"holidays\":[{\"date\":\"2026-01-12\",\"name\":\"Closed\"}]}");
    assert_string_equal(add(c, "2026-01-09T17:30:00Z", "PT2H"), "2026-01-13T10:30:00.000Z");
    assert_string_equal(add(c, "2026-01-09T17:30:00Z", "P1D"), "2026-01-13T17:30:00.000Z");
    assert_false(fl_calendar_is_working(c, at("2026-01-12T12:00:00Z")));
    fl_calendar_free(c);

    /* Saturday 2026-01-10 is worked 10:00-14:00 */
    c = cal("{\"working_days\":[{\"date\":\"2026-01-10\",\"hours\":[\"10:00-14:00\"]}]}");
    assert_string_equal(add(c, "2026-01-09T17:30:00Z", "PT2H"), "2026-01-10T11:30:00.000Z");
    assert_string_equal(add(c, "2026-01-09T17:30:00Z", "PT5H"), "2026-01-12T09:30:00.000Z");
    /* P1D lands on the short Saturday: 17:30 is clamped to its end */
    assert_string_equal(add(c, "2026-01-09T17:30:00Z", "P1D"), "2026-01-10T14:00:00.000Z");
    assert_string_equal(add(c, "2026-01-09T11:00:00Z", "P1D"), "2026-01-10T11:00:00.000Z");
    assert_string_equal(add(c, "2026-01-09T09:00:00Z", "P1D"), "2026-01-10T10:00:00.000Z");
    fl_calendar_free(c);
}

static void test_dst_berlin(void **state)
{
    (void)state;
    struct fl_calendar *c = cal("{\"zone\":\"Europe/Berlin\"}");
    /* clocks go forward on Sunday 2026-03-29: Friday CET, Monday CEST */
    assert_string_equal(add(c, "2026-03-27T17:00:00+01:00", "PT2H"), "2026-03-30T08:00:00.000Z");
    assert_string_equal(add(c, "2026-03-27T17:00:00+01:00", "P1D"), "2026-03-30T15:00:00.000Z");
    /* and back on Sunday 2026-10-25 */
    assert_string_equal(add(c, "2026-10-23T17:00:00+02:00", "PT2H"), "2026-10-26T09:00:00.000Z");
    assert_string_equal(add(c, "2026-10-23T17:00:00+02:00", "P1D"), "2026-10-26T16:00:00.000Z");
    assert_string_equal(add(c, "2026-03-30T10:00:00+02:00", "-P1D"), "2026-03-27T09:00:00.000Z");
    fl_calendar_free(c);

    /* a day on which the clocks change still has its nine wall-clock hours */
    c = cal("{\"zone\":\"Europe/Berlin\",\"week\":{\"sun\":[\"09:00-18:00\"]}}");
    assert_string_equal(add(c, "2026-03-29T09:00:00+02:00", "PT9H"), "2026-03-29T16:00:00.000Z");
    assert_string_equal(add(c, "2026-10-25T09:00:00+01:00", "PT9H"), "2026-10-25T17:00:00.000Z");
    assert_string_equal(add(c, "2026-03-29T09:00:00+02:00", "PT9H1M"), "2026-04-05T07:01:00.000Z");
    fl_calendar_free(c);
}

static void test_dst_new_york(void **state)
{
    (void)state;
    struct fl_calendar *c = cal("{\"zone\":\"America/New_York\"}");
    /* clocks go forward on Sunday 2026-03-08, back on Sunday 2026-11-01 */
    assert_string_equal(add(c, "2026-03-06T17:30:00-05:00", "PT2H"), "2026-03-09T14:30:00.000Z");
    assert_string_equal(add(c, "2026-03-06T17:30:00-05:00", "P1D"), "2026-03-09T21:30:00.000Z");
    assert_string_equal(add(c, "2026-10-30T17:30:00-04:00", "PT2H"), "2026-11-02T15:30:00.000Z");
    assert_true(fl_calendar_is_working(c, at("2026-03-09T13:00:00Z")));  /* 09:00 EDT */
    assert_false(fl_calendar_is_working(c, at("2026-03-09T12:59:00Z"))); /* 08:59 EDT */
    fl_calendar_free(c);
    c = cal("{\"zone\":\"America/New_York\",\"week\":{\"sun\":[\"09:00-18:00\"]}}");
    assert_string_equal(add(c, "2026-03-08T09:00:00-04:00", "PT9H"), "2026-03-08T22:00:00.000Z");
    fl_calendar_free(c);
}

static void test_year_end_and_leap_day(void **state)
{
    (void)state;
    struct fl_calendar *c = cal("{\"holidays\":[\"2026-01-01\"]}");
    /* Wednesday 2025-12-31, Thursday 2026-01-01 a holiday, Friday 2026-01-02 worked */
    assert_string_equal(add(c, "2025-12-31T10:00:00Z", "P1D"), "2026-01-02T10:00:00.000Z");
    assert_string_equal(add(c, "2025-12-31T17:00:00Z", "PT8H"), "2026-01-02T16:00:00.000Z");
    assert_string_equal(add(c, "2026-01-02T10:00:00Z", "-P1D"), "2025-12-31T10:00:00.000Z");
    fl_calendar_free(c);

    c = fl_calendar_builtin();
    /* Monday 2028-02-28, Tuesday the 29th */
    assert_string_equal(add(c, "2028-02-28T12:00:00Z", "P1D"), "2028-02-29T12:00:00.000Z");
    assert_string_equal(add(c, "2028-02-28T12:00:00Z", "P2D"), "2028-03-01T12:00:00.000Z");
    assert_string_equal(add(c, "2028-01-31T10:00:00Z", "P1M"), "2028-02-29T10:00:00.000Z");
    /* 2027-02-28 is a Sunday: a month from a working day lands on the next working moment */
    assert_string_equal(add(c, "2027-01-28T10:00:00Z", "P1M"), "2027-03-01T09:00:00.000Z");
    fl_calendar_free(c);
    c = cal("{\"holidays\":[\"2028-02-29\"],\"years\":{\"from\":2028,\"to\":2028}}");
    assert_string_equal(add(c, "2028-02-28T12:00:00Z", "P1D"), "2028-03-01T12:00:00.000Z");
    fl_calendar_free(c);
}

static void test_split_days(void **state)
{
    (void)state;
    struct fl_calendar *c = cal("{\"week\":{\"mon\":[\"09:00-13:00\",{\"start\":\"14:00\","
                                "\"end\":\"18:00\"}],\"tue\":[\"09:00-13:00\",\"14:00-18:00\"]}}");
    /* Monday 2026-01-12 */
    assert_string_equal(add(c, "2026-01-12T12:30:00Z", "PT1H"), "2026-01-12T14:30:00.000Z");
    assert_string_equal(add(c, "2026-01-12T13:30:00Z", "PT1H"), "2026-01-12T15:00:00.000Z");
    assert_string_equal(add(c, "2026-01-12T13:00:00Z", "PT8H"), "2026-01-13T13:00:00.000Z");
    assert_string_equal(add(c, "2026-01-12T12:00:00Z", "P1D"), "2026-01-13T12:00:00.000Z");
    /* only Monday and Tuesday work: P1W is two working days */
    assert_string_equal(add(c, "2026-01-12T12:00:00Z", "P1W"), "2026-01-19T12:00:00.000Z");
    assert_false(fl_calendar_is_working(c, at("2026-01-12T13:30:00Z")));
    assert_string_equal(add(c, "2026-01-13T14:30:00Z", "-PT1H"), "2026-01-13T12:30:00.000Z");
    fl_calendar_free(c);
}

static void test_too_far(void **state)
{
    struct fl_calendar *c = fl_calendar_builtin();
    struct fl_iso_duration d;
    struct fl_error err;
    int64_t t;
    (void)state;
    fl_error_clear(&err);
    assert_int_equal(fl_iso_duration_parse("PT900000000H", &d, &err), 0);
    assert_int_equal(fl_calendar_add(c, at("2026-01-12T09:00:00Z"), &d, &t, &err), FL_EINVAL);
    assert_non_null(strstr(err.msg, "400 years"));
    fl_calendar_free(c);
}

static void test_validation(void **state)
{
    (void)state;
    rejects("{\"week\":{}}", FL_EINVAL, "week");
    rejects("{\"week\":{\"mon\":[],\"sat\":[]}}", FL_EINVAL, "week");
    rejects("{\"week\":{\"mon\":[\"09:00-13:00\",{\"start\":\"14:00\",\"end\":\"13:30\"}]}}",
            FL_EINVAL, "week.mon[1].end");
    rejects("{\"week\":{\"mon\":[{\"start\":\"09:00\",\"end\":\"25:00\"}]}}", FL_EINVAL,
            "week.mon[0].end");
    rejects("{\"week\":{\"mon\":[{\"start\":\"09:00\"}]}}", FL_EINVAL, "week.mon[0].end");
    rejects("{\"week\":{\"tue\":[\"09:00-13:00\",\"12:00-18:00\"]}}", FL_EINVAL,
            "week.tue[1].start");
    rejects("{\"week\":{\"mon\":[\"9-17\"]}}", FL_EINVAL, "week.mon[0]");
    rejects("{\"week\":{\"mon\":\"09:00-17:00\"}}", FL_ETYPE, "week.mon");
    rejects("{\"week\":{\"monday\":[]}}", FL_EINVAL, "week.monday");
    rejects("{\"weeks\":{}}", FL_EINVAL, "weeks");
    rejects("{\"zone\":\"Mars/Olympus\"}", FL_EINVAL, "zone");
    rejects("{\"zone\":7}", FL_ETYPE, "zone");
    rejects("{\"name\":\"other\"}", FL_EINVAL, "name");
    rejects("{\"holidays\":[\"2026-01-01\",\"2026-02-30\"]}", FL_EINVAL, "holidays[1]");
    rejects("{\"holidays\":[\"2026-01-01\",{\"date\":\"2026-1-2\"}]}", FL_EINVAL,
            "holidays[1].date");
    rejects("{\"holidays\":[{\"day\":\"2026-01-02\"}]}", FL_EINVAL, "holidays[0].day");
    rejects("{\"holidays\":[\"2026-01-01\",\"2026-05-01\",\"2026-01-01\"]}", FL_EINVAL,
            "holidays[2]");
    rejects("{\"years\":{\"from\":2026,\"to\":2026},\"holidays\":[\"2026-01-01\","
            "{\"date\":\"2027-01-01\"}]}",
            FL_EINVAL, "holidays[1].date");
    rejects("{\"years\":{\"from\":2026,\"to\":2025}}", FL_EINVAL, "years.to");
    rejects("{\"years\":{\"from\":2026}}", FL_EINVAL, "years.to");
    rejects("{\"working_days\":[{\"date\":\"2026-01-10\"}]}", FL_EINVAL, "working_days[0].hours");
    rejects("{\"holidays\":[\"2026-01-10\"],\"working_days\":[{\"date\":\"2026-01-10\","
            "\"hours\":[\"09:00-12:00\"]}]}",
            FL_EINVAL, "working_days[0].date");
    rejects("{\"working_days\":[{\"date\":\"2026-01-10\",\"hours\":[\"09:00-12:00\"]},"
            "{\"date\":\"2026-01-10\",\"hours\":[\"09:00-12:00\"]}]}",
            FL_EINVAL, "working_days[1].date");
    rejects("{\"years\":{\"from\":2026,\"to\":2026},\"working_days\":[{\"date\":\"2025-12-27\","
            "\"hours\":[\"09:00-12:00\"]}]}",
            FL_EINVAL, "working_days[0].date");
    rejects("[1]", FL_ETYPE, "");

    struct fl_calendar *c = NULL;
    struct fl_error err;
    fl_error_clear(&err);
    assert_int_equal(fl_calendar_parse("t", "{\"week\":", 8, &c, &err), FL_EPARSE);
    assert_int_equal(fl_calendar_parse("bad name", "{}", 2, &c, &err), FL_EINVAL);
    assert_string_equal(err.field, "name");
    assert_false(fl_calendar_name_valid(""));
    assert_true(fl_calendar_name_valid("de-office_2.0"));
}

static void test_round_trip(void **state)
{
    static const char src[] =
        "{\"zone\":\"Europe/Berlin\",\"week\":{\"mon\":[\"09:00-13:00\",\"14:00-18:00\"],"
        "\"fri\":[{\"start\":\"08:00\",\"end\":\"24:00\"}]},\"holidays\":[\"2026-12-25\","
        "{\"date\":\"2026-01-01\",\"name\":\"Neujahr\"}],\"working_days\":[{\"date\":"
        "\"2026-05-09\",\"name\":\"moved\",\"hours\":[\"10:00-14:00\"]}],"
        "\"years\":{\"from\":2026,\"to\":2026}}";
    struct fl_buf a = FL_BUF_INIT, b = FL_BUF_INIT;
    struct fl_calendar *c = cal(src), *c2;
    (void)state;
    fl_calendar_to_json(c, &a);
    c2 = cal(a.ptr);
    fl_calendar_to_json(c2, &b);
    assert_string_equal(a.ptr, b.ptr);
    assert_non_null(strstr(a.ptr, "{\"date\":\"2026-01-01\",\"name\":\"Neujahr\"},"
                                  "{\"date\":\"2026-12-25\"}"));
    assert_non_null(strstr(a.ptr, "\"fri\":[{\"start\":\"08:00\",\"end\":\"24:00\"}]"));
    assert_non_null(strstr(a.ptr, "\"years\":{\"from\":2026,\"to\":2026}"));
    fl_calendar_free(c);
    fl_calendar_free(c2);
    fl_buf_release(&a);
    fl_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_friday),
        cmocka_unit_test(test_outside_hours),
        cmocka_unit_test(test_subtract),
        cmocka_unit_test(test_holidays_and_moved_days),
        cmocka_unit_test(test_dst_berlin),
        cmocka_unit_test(test_dst_new_york),
        cmocka_unit_test(test_year_end_and_leap_day),
        cmocka_unit_test(test_split_days),
        cmocka_unit_test(test_too_far),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
