/* Unit tests of src/core/decimal: parsing, canonical text, exact arithmetic, rounding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/decimal.h"
#include "flowd/err.h"

static struct fl_dec D(const char *s)
{
    struct fl_dec d;
    assert_int_equal(fl_dec_parse(s, strlen(s), &d), 0);
    return d;
}

static void assert_text(const struct fl_dec *d, const char *want)
{
    struct fl_buf b = FL_BUF_INIT;
    fl_dec_format(d, &b);
    assert_string_equal(b.ptr, want);
    fl_buf_release(&b);
}

static void test_parse_format(void **state)
{
    struct fl_dec d;
    (void)state;
    d = D("1.50");
    assert_text(&d, "1.5");
    d = D("-1e3");
    assert_text(&d, "-1000");
    d = D(".5");
    assert_text(&d, "0.5");
    d = D("0.0001");
    assert_text(&d, "0.0001");
    d = D("-0");
    assert_text(&d, "0");
    d = D("+7");
    assert_text(&d, "7");
    d = D("1e100");
    assert_text(&d, "1E+100");
    assert_int_equal(fl_dec_parse("", 0, &d), FL_EPARSE);
    assert_int_equal(fl_dec_parse("1.2.3", 5, &d), FL_EPARSE);
    assert_int_equal(fl_dec_parse("e5", 2, &d), FL_EPARSE);
    assert_int_equal(fl_dec_parse("1e", 2, &d), FL_EPARSE);
    assert_int_equal(fl_dec_parse("1e999999", 8, &d), FL_EPARSE);
    /* more than 34 digits rounds half even */
    d = D("1234567890123456789012345678901234.5");
    assert_text(&d, "1234567890123456789012345678901234");
    d = D("1234567890123456789012345678901235.5");
    assert_text(&d, "1234567890123456789012345678901236");
}

static void test_arith(void **state)
{
    struct fl_dec a, b, r;
    (void)state;
    a = D("0.1");
    b = D("0.2");
    assert_int_equal(fl_dec_add(&a, &b, &r), 0);
    struct fl_dec want = D("0.3");
    assert_int_equal(fl_dec_cmp(&r, &want), 0);
    assert_text(&r, "0.3");
    a = D("1");
    b = D("3");
    assert_int_equal(fl_dec_div(&a, &b, &r), 0);
    assert_text(&r, "0.3333333333333333333333333333333333");
    a = D("2");
    assert_int_equal(fl_dec_div(&a, &b, &r), 0);
    assert_text(&r, "0.6666666666666666666666666666666667");
    assert_int_equal(fl_dec_div(&a, &(struct fl_dec){0, 0, false}, &r), FL_EINVAL);
    a = D("10");
    b = D("4");
    assert_int_equal(fl_dec_div(&a, &b, &r), 0);
    assert_text(&r, "2.5");
    a = D("1.1");
    b = D("1.1");
    assert_int_equal(fl_dec_mul(&a, &b, &r), 0);
    assert_text(&r, "1.21");
    a = D("5");
    b = D("7.25");
    assert_int_equal(fl_dec_sub(&a, &b, &r), 0);
    assert_text(&r, "-2.25");
    a = D("99999999999999999999999999999999999");
    b = D("1");
    assert_int_equal(fl_dec_add(&a, &b, &r), 0);
    assert_text(&r, "100000000000000000000000000000000000");
    a = D("1e6000");
    assert_int_equal(fl_dec_mul(&a, &a, &r), FL_ELIMIT);
    a = D("123456789012345678901234567890");
    assert_int_equal(fl_dec_mul(&a, &a, &r), 0);
    assert_text(&r, "15241578753238836750495351562536200000000000000000000000000");
    a = D("1e-40");
    b = D("1");
    assert_int_equal(fl_dec_add(&a, &b, &r), 0);
    assert_text(&r, "1");
}

static void test_compare_int(void **state)
{
    struct fl_dec a, b;
    int64_t n;
    (void)state;
    a = D("1.0");
    b = D("1");
    assert_int_equal(fl_dec_cmp(&a, &b), 0);
    a = D("-2");
    assert_int_equal(fl_dec_cmp(&a, &b), -1);
    a = D("100");
    b = D("99.999");
    assert_int_equal(fl_dec_cmp(&a, &b), 1);
    a = D("-100");
    b = D("-99.999");
    assert_int_equal(fl_dec_cmp(&a, &b), -1);
    a = D("12.000");
    assert_int_equal(fl_dec_to_int64(&a, &n), 0);
    assert_int_equal(n, 12);
    a = D("12.5");
    assert_int_equal(fl_dec_to_int64(&a, &n), FL_ETYPE);
    a = D("-9223372036854775808");
    assert_int_equal(fl_dec_to_int64(&a, &n), 0);
    assert_true(n == INT64_MIN);
    a = D("9223372036854775808");
    assert_int_equal(fl_dec_to_int64(&a, &n), FL_ETYPE);
    fl_dec_from_int(INT64_MIN, &a);
    assert_text(&a, "-9223372036854775808");
}

static void test_round(void **state)
{
    struct fl_dec a, r;
    (void)state;
    a = D("2.5");
    fl_dec_round(&a, 0, FL_ROUND_HALF_EVEN, &r);
    assert_text(&r, "2");
    fl_dec_round(&a, 0, FL_ROUND_HALF_UP, &r);
    assert_text(&r, "3");
    fl_dec_round(&a, 0, FL_ROUND_HALF_DOWN, &r);
    assert_text(&r, "2");
    a = D("-1.5");
    fl_dec_round(&a, 0, FL_ROUND_FLOOR, &r);
    assert_text(&r, "-2");
    fl_dec_round(&a, 0, FL_ROUND_CEILING, &r);
    assert_text(&r, "-1");
    fl_dec_round(&a, 0, FL_ROUND_UP, &r);
    assert_text(&r, "-2");
    fl_dec_round(&a, 0, FL_ROUND_DOWN, &r);
    assert_text(&r, "-1");
    a = D("1234.5678");
    fl_dec_round(&a, 2, FL_ROUND_HALF_EVEN, &r);
    assert_text(&r, "1234.57");
    fl_dec_round(&a, -2, FL_ROUND_HALF_EVEN, &r);
    assert_text(&r, "1200");
    a = D("0.4");
    fl_dec_round(&a, 0, FL_ROUND_CEILING, &r);
    assert_text(&r, "1");
}

static void test_mod_pow_sqrt(void **state)
{
    struct fl_dec a, b, r;
    (void)state;
    a = D("12");
    b = D("5");
    fl_dec_mod(&a, &b, &r);
    assert_text(&r, "2");
    a = D("-12");
    fl_dec_mod(&a, &b, &r);
    assert_text(&r, "3");
    a = D("12");
    b = D("-5");
    fl_dec_mod(&a, &b, &r);
    assert_text(&r, "-3");
    a = D("10.1");
    b = D("4.5");
    fl_dec_mod(&a, &b, &r);
    assert_text(&r, "1.1");
    a = D("2");
    assert_int_equal(fl_dec_pow_int(&a, 10, &r), 0);
    assert_text(&r, "1024");
    assert_int_equal(fl_dec_pow_int(&a, -2, &r), 0);
    assert_text(&r, "0.25");
    assert_int_equal(fl_dec_pow_int(&a, 0, &r), 0);
    assert_text(&r, "1");
    a = D("16");
    assert_int_equal(fl_dec_sqrt(&a, &r), 0);
    assert_text(&r, "4");
    a = D("2");
    assert_int_equal(fl_dec_sqrt(&a, &r), 0);
    assert_text(&r, "1.414213562373095048801688724209698");
    a = D("-1");
    assert_int_equal(fl_dec_sqrt(&a, &r), FL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_format), cmocka_unit_test(test_arith),
        cmocka_unit_test(test_compare_int), cmocka_unit_test(test_round),
        cmocka_unit_test(test_mod_pow_sqrt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
