/* Unit tests of fl_floordiv64 (src/util/intdiv.h): every sign combination, exact and
 * inexact quotients, the extremes, and agreement with floor() over a small grid. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/intdiv.h"

static void test_signs(void **state)
{
    (void)state;
    assert_int_equal(fl_floordiv64(7, 2), 3);
    assert_int_equal(fl_floordiv64(-7, 2), -4);
    assert_int_equal(fl_floordiv64(7, -2), -4);
    assert_int_equal(fl_floordiv64(-7, -2), 3);
    assert_int_equal(fl_floordiv64(-6, 2), -3); /* exact: no adjustment */
    assert_int_equal(fl_floordiv64(0, -5), 0);
    assert_int_equal(fl_floordiv64(-1, 86400000), -1); /* the millisecond before 1970 */
    assert_int_equal(fl_floordiv64(-86400000, 86400000), -1);
    assert_int_equal(fl_floordiv64(-86400001, 86400000), -2);
}

static void test_extremes(void **state)
{
    (void)state;
    assert_int_equal(fl_floordiv64(INT64_MAX, 1), INT64_MAX);
    assert_int_equal(fl_floordiv64(INT64_MIN, 1), INT64_MIN);
    assert_int_equal(fl_floordiv64(INT64_MIN, 2), INT64_MIN / 2);
    assert_int_equal(fl_floordiv64(INT64_MIN + 1, 2), INT64_MIN / 2);
    assert_int_equal(fl_floordiv64(INT64_MAX, -1), -INT64_MAX);
}

static void test_matches_floor(void **state)
{
    (void)state;
    for (int64_t a = -50; a <= 50; a++)
        for (int64_t b = -7; b <= 7; b++)
            if (b != 0)
                assert_int_equal(fl_floordiv64(a, b), (int64_t)floor((double)a / (double)b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signs),
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_matches_floor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
