/* Unit tests of timecalc: civil conversion, ISO durations (parse, calendar add), UTC
 * timestamp format and parse. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_timestamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
