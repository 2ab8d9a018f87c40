/* Unit tests of timecalc: civil conversion, ISO durations (parse, calendar add), UTC
 * timestamp format and parse, instants with error columns, repeating intervals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flowd/timecalc.h"

static void test_civil(void **state)
{
    int64_t y;
    unsigned m, d;
    (void)state;
    assert_int_equal(fl_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(fl_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(fl_days_from_civil(1969, 12, 31), -1);
    for (int64_t z = -800000; z < 800000; z += 997) {
        fl_civil_from_days(z, &y, &m, &d);
        assert_int_equal(fl_days_from_civil(y, m, d), z);
    }
    fl_civil_from_days(19782, &y, &m, &d);
    assert_int_equal(y, 2024);
    assert_int_equal(m, 2);
    assert_int_equal(d, 29);
}

static void test_duration(void **state)
{
    struct fl_iso_duration d;
    struct fl_error err;
    int64_t t;
    char out[32];
    (void)state;
    assert_int_equal(fl_iso_duration_parse("P1Y2M3DT4H5M6.5S", &d, &err), 0);
    assert_int_equal(d.years, 1);
    assert_int_equal(d.months, 2);
    assert_int_equal(d.days, 3);
    assert_int_equal(d.hours, 4);
    assert_int_equal(d.minutes, 5);
    assert_int_equal(d.millis, 6500);
    assert_int_equal(fl_iso_duration_parse("-P2W", &d, &err), 0);
    assert_true(d.negative);
    assert_int_equal(d.weeks, 2);
    assert_int_equal(fl_iso_duration_parse("P", &d, &err), FL_EPARSE);
    assert_int_equal(fl_iso_duration_parse("PT", &d, &err), FL_EPARSE);
    assert_int_equal(fl_iso_duration_parse("P1H", &d, &err), FL_EPARSE);
    assert_int_equal(fl_iso_duration_parse("PT1D", &d, &err), FL_EPARSE);
    assert_int_equal(fl_iso_duration_parse("P1D2Y", &d, &err), FL_EPARSE);
    assert_int_equal(fl_iso_duration_parse("3D", &d, &err), FL_EPARSE);
    assert_int_equal(err.column, 1);
    assert_int_equal(fl_time_parse("2024-01-31T10:00:00Z", &t), 0);
    assert_int_equal(fl_iso_duration_parse("P1M", &d, &err), 0);
    assert_string_equal(fl_time_format(fl_iso_duration_add(t, &d), out),
                        "2024-02-29T10:00:00.000Z");
    assert_int_equal(fl_iso_duration_parse("-PT10H30M", &d, &err), 0);
    assert_string_equal(fl_time_format(fl_iso_duration_add(t, &d), out),
                        "2024-01-30T23:30:00.000Z");
}

static void test_timestamps(void **state)
{
    int64_t t;
    char out[32];
    (void)state;
    assert_int_equal(fl_time_parse("1970-01-01T00:00:00Z", &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(fl_time_parse("1970-01-01T01:00:00.250+01:00", &t), 0);
    assert_int_equal(t, 250);
    assert_int_equal(fl_time_parse("1969-12-31T23:59:59.999Z", &t), 0);
    assert_int_equal(t, -1);
    assert_string_equal(fl_time_format(-1, out), "1969-12-31T23:59:59.999Z");
    assert_int_equal(fl_time_parse("2024-03-01", &t), 0);
    assert_string_equal(fl_time_format(t, out), "2024-03-01T00:00:00.000Z");
    assert_int_equal(fl_time_parse("2023-02-29T00:00:00Z", &t), FL_EPARSE);
    assert_int_equal(fl_time_parse("2024-01-01T10:00:00", &t), FL_EPARSE);
    assert_int_equal(fl_time_parse("2024-01-01T25:00:00Z", &t), FL_EPARSE);
    assert_int_equal(fl_time_parse("garbage", &t), FL_EPARSE);
}

static int64_t at(const char *s)
{
    int64_t t = 0;
    assert_int_equal(fl_time_parse(s, &t), 0);
    return t;
}

static void test_instant_errors(void **state)
{
    struct fl_error err;
    int64_t t;
    (void)state;
    assert_int_equal(fl_iso_instant_parse("2026-01-01T09:00:00Z", 0, &t, &err), 0);
    assert_int_equal(t, at("2026-01-01T09:00:00Z"));
    /* no zone: the given offset */
    assert_int_equal(fl_iso_instant_parse("2026-01-01T09:00:00", 60, &t, &err), 0);
    assert_int_equal(t, at("2026-01-01T08:00:00Z"));
    assert_int_equal(fl_iso_instant_parse("2026-01-01", 0, &t, &err), 0);
    assert_int_equal(t, at("2026-01-01T00:00:00Z"));
    assert_int_equal(fl_iso_instant_parse("2026-01-01T09:00+02:00", 0, &t, &err), 0);
    assert_int_equal(t, at("2026-01-01T07:00:00Z"));

    fl_error_clear(&err);
    assert_int_equal(fl_iso_instant_parse("2026-02-30", 0, &t, &err), FL_EPARSE);
    assert_int_equal(err.column, 9);
    assert_non_null(strstr(err.msg, "day 30 is out of range for 2026-02"));
    assert_non_null(strstr(err.msg, "'2026-02-30'"));
    assert_int_equal(fl_iso_instant_parse("2024-02-29", 0, &t, &err), 0);
    assert_int_equal(fl_iso_instant_parse("2026-13-01", 0, &t, &err), FL_EPARSE);
    assert_int_equal(err.column, 6);
    assert_int_equal(fl_iso_instant_parse("2026-01-01T24:00:00Z", 0, &t, &err), FL_EPARSE);
    assert_int_equal(err.column, 12);
    assert_int_equal(fl_iso_instant_parse("2026-01-01T09:60Z", 0, &t, &err), FL_EPARSE);
    assert_int_equal(err.column, 15);
    assert_int_equal(fl_iso_instant_parse("2026-01-01T09:00:00Q", 0, &t, &err), FL_EPARSE);
    assert_int_equal(err.column, 20);
    assert_int_equal(fl_iso_instant_parse("26-01-01", 0, &t, &err), FL_EPARSE);
    assert_int_equal(err.column, 3);
    assert_int_equal(fl_iso_instant_parse("", 0, &t, &err), FL_EPARSE);
    assert_int_equal(err.column, 1);
    assert_non_null(strstr(err.msg, "found the end"));
}

static void test_cycle_parse(void **state)
{
    struct fl_iso_cycle c;
    struct fl_error err;
    (void)state;
    assert_int_equal(fl_iso_cycle_parse("R/P1D", 0, &c, &err), 0);
    assert_int_equal(c.repeat, -1);
    assert_false(c.has_start);
    assert_false(c.has_end);
    assert_int_equal(c.period.days, 1);
    assert_int_equal(fl_iso_cycle_parse("R5/PT10M", 0, &c, &err), 0);
    assert_int_equal(c.repeat, 5);
    assert_int_equal(c.period.minutes, 10);
    assert_int_equal(fl_iso_cycle_parse("R3/2026-01-01T09:00:00Z/P1D", 0, &c, &err), 0);
    assert_true(c.has_start);
    assert_int_equal(c.start_ms, at("2026-01-01T09:00:00Z"));
    assert_int_equal(c.repeat, 3);
    assert_int_equal(fl_iso_cycle_parse("R2/P1D/2026-02-01T00:00:00Z", 0, &c, &err), 0);
    assert_true(c.has_end);
    assert_int_equal(c.end_ms, at("2026-02-01T00:00:00Z"));

    fl_error_clear(&err);
    assert_int_equal(fl_iso_cycle_parse("R/P0D", 0, &c, &err), FL_EPARSE);
    assert_int_equal(err.column, 3);
    assert_non_null(strstr(err.msg, "period 'P0D' is zero"));
    assert_int_equal(fl_iso_cycle_parse("R/P", 0, &c, &err), FL_EPARSE);
    assert_int_equal(err.column, 4);
    assert_int_equal(fl_iso_cycle_parse("R/-P1D", 0, &c, &err), FL_EPARSE);
    assert_int_equal(err.column, 3);
    assert_int_equal(fl_iso_cycle_parse("R0/P1D", 0, &c, &err), FL_EPARSE);
    assert_int_equal(err.column, 2);
    assert_int_equal(fl_iso_cycle_parse("P1D", 0, &c, &err), FL_EPARSE);
    assert_int_equal(err.column, 1);
    assert_int_equal(fl_iso_cycle_parse("R5", 0, &c, &err), FL_EPARSE);
    assert_int_equal(err.column, 3);
    assert_int_equal(fl_iso_cycle_parse("R/", 0, &c, &err), FL_EPARSE);
    assert_int_equal(err.column, 3);
    assert_int_equal(fl_iso_cycle_parse("R3/2026-02-30T09:00:00Z/P1D", 0, &c, &err), FL_EPARSE);
    assert_int_equal(err.column, 12);
    assert_non_null(strstr(err.msg, "day 30"));
    assert_int_equal(fl_iso_cycle_parse("R3/2026-01-01T09:00:00Z", 0, &c, &err), FL_EPARSE);
    assert_int_equal(fl_iso_cycle_parse("R3/2026-01-01T09:00:00Z/2026-01-02", 0, &c, &err),
                     FL_EPARSE);
    assert_int_equal(err.column, 25);
    assert_int_equal(fl_iso_cycle_parse("R/2026-01-01/P1D/2026-02-01", 0, &c, &err), FL_EPARSE);
    assert_int_equal(err.column, 17);
    assert_int_equal(fl_iso_cycle_parse("R/P1D/P1D/P1D", 0, &c, &err), FL_EPARSE);
    assert_int_equal(fl_iso_cycle_parse("R/P1D/x", 0, &c, &err), FL_EPARSE);
    assert_int_equal(err.column, 7);
    assert_int_equal(fl_iso_cycle_parse("R99999999999/P1D", 0, &c, &err), FL_EPARSE);
    /* fuzz: a number without its unit pointed past the end of the text */
    assert_int_equal(fl_iso_cycle_parse("R/P1", 0, &c, &err), FL_EPARSE);
    assert_int_equal(err.column, 5);
    assert_int_equal(fl_iso_cycle_parse("R/P1X", 0, &c, &err), FL_EPARSE);
    assert_int_equal(err.column, 5);
    assert_int_equal(fl_iso_cycle_parse("R/PT1D", 0, &c, &err), FL_EPARSE);
    assert_int_equal(err.column, 6);
}

static void test_cycle_next(void **state)
{
    struct fl_iso_cycle c;
    struct fl_error err;
    int64_t t, n;
    char out[32];
    (void)state;
    /* without a start: counted from the anchor, first one a period later */
    assert_int_equal(fl_iso_cycle_parse("R/P1D", 0, &c, &err), 0);
    int64_t a = at("2026-01-01T10:00:00Z");
    assert_int_equal(fl_iso_cycle_next(&c, a, a, &t, &n), 0);
    assert_string_equal(fl_time_format(t, out), "2026-01-02T10:00:00.000Z");
    assert_int_equal(n, 1);
    assert_int_equal(fl_iso_cycle_next(&c, a, at("2026-03-01T09:59:59Z"), &t, &n), 0);
    assert_string_equal(fl_time_format(t, out), "2026-03-01T10:00:00.000Z");
    assert_int_equal(n, 59);
    /* exactly on an occurrence: the next one */
    assert_int_equal(fl_iso_cycle_next(&c, a, at("2026-03-01T10:00:00Z"), &t, &n), 0);
    assert_int_equal(n, 60);

    /* a count ends it */
    assert_int_equal(fl_iso_cycle_parse("R5/PT10M", 0, &c, &err), 0);
    assert_int_equal(fl_iso_cycle_next(&c, a, a + 49 * 60000, &t, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(t, a + 50 * 60000);
    assert_int_equal(fl_iso_cycle_next(&c, a, a + 50 * 60000, &t, &n), FL_ENOTFOUND);

    /* with a start: the start itself is the first occurrence */
    assert_int_equal(fl_iso_cycle_parse("R3/2026-01-01T09:00:00Z/P1D", 0, &c, &err), 0);
    assert_int_equal(fl_iso_cycle_next(&c, 0, at("2025-06-01T00:00:00Z"), &t, &n), 0);
    assert_string_equal(fl_time_format(t, out), "2026-01-01T09:00:00.000Z");
    assert_int_equal(n, 1);
    assert_int_equal(fl_iso_cycle_next(&c, 0, at("2026-01-02T09:00:00Z"), &t, &n), 0);
    assert_string_equal(fl_time_format(t, out), "2026-01-03T09:00:00.000Z");
    assert_int_equal(n, 3);
    assert_int_equal(fl_iso_cycle_next(&c, 0, at("2026-01-03T09:00:00Z"), &t, &n), FL_ENOTFOUND);

    /* unbounded with a start, far later: no walk from the start */
    assert_int_equal(fl_iso_cycle_parse("R/2026-01-01T09:00:00Z/PT1H", 0, &c, &err), 0);
    assert_int_equal(fl_iso_cycle_next(&c, 0, at("2126-01-01T09:30:00Z"), &t, &n), 0);
    assert_string_equal(fl_time_format(t, out), "2126-01-01T10:00:00.000Z");

    /* months from the origin: Jan 31, Feb 28, Mar 31 (no drift to the 28th) */
    assert_int_equal(fl_iso_cycle_parse("R/2026-01-31T00:00:00Z/P1M", 0, &c, &err), 0);
    assert_int_equal(fl_iso_cycle_next(&c, 0, at("2026-02-01T00:00:00Z"), &t, &n), 0);
    assert_string_equal(fl_time_format(t, out), "2026-02-28T00:00:00.000Z");
    assert_int_equal(fl_iso_cycle_next(&c, 0, t, &t, &n), 0);
    assert_string_equal(fl_time_format(t, out), "2026-03-31T00:00:00.000Z");
    assert_int_equal(n, 3);
    assert_int_equal(fl_iso_cycle_next(&c, 0, at("2030-07-15T00:00:00Z"), &t, &n), 0);
    assert_string_equal(fl_time_format(t, out), "2030-07-31T00:00:00.000Z");

    /* an end bounds it */
    assert_int_equal(fl_iso_cycle_parse("R/P1D/2026-01-04T10:00:00Z", 0, &c, &err), 0);
    assert_int_equal(fl_iso_cycle_next(&c, a, at("2026-01-02T10:00:00Z"), &t, &n), 0);
    assert_string_equal(fl_time_format(t, out), "2026-01-03T10:00:00.000Z");
    assert_int_equal(fl_iso_cycle_next(&c, a, t, &t, &n), FL_ENOTFOUND);

    /* every result is later than `after`, and the one before it is not */
    assert_int_equal(fl_iso_cycle_parse("R/2024-01-31T12:00:00Z/P1M3DT7H", 0, &c, &err), 0);
    for (int64_t after = at("2023-12-01T00:00:00Z"); after < at("2031-01-01T00:00:00Z");
         after += INT64_C(86400000) * 7 + 3601000) {
        assert_int_equal(fl_iso_cycle_next(&c, 0, after, &t, &n), 0);
        assert_true(t > after);
        if (n > 1) {
            struct fl_iso_duration d = c.period;
            d.months *= (int32_t)(n - 2);
            d.days *= (int32_t)(n - 2);
            d.hours *= (int32_t)(n - 2);
            assert_true(fl_iso_duration_add(c.start_ms, &d) <= after);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil),       cmocka_unit_test(test_duration),
        cmocka_unit_test(test_timestamps),  cmocka_unit_test(test_instant_errors),
        cmocka_unit_test(test_cycle_parse), cmocka_unit_test(test_cycle_next),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
