/* Unit tests of src/core/value: singletons, refcounting, contexts (order, replace, large
 * index), equality, freeze, text form of temporals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/value_impl.h"
#include "flowd/timecalc.h"
#include "flowd/value.h"

static void assert_text(const struct fl_value *v, const char *want)
{
    struct fl_buf b = FL_BUF_INIT;
    fl_value_to_text(v, &b);
    assert_string_equal(b.ptr, want);
    fl_buf_release(&b);
}

static void test_singletons(void **state)
{
    (void)state;
    assert_ptr_equal(fl_value_null(), fl_value_null());
    assert_ptr_equal(fl_value_bool(true), fl_value_bool(true));
    assert_true(fl_value_is_true(fl_value_bool(true)));
    assert_false(fl_value_is_true(fl_value_bool(false)));
    assert_false(fl_value_is_true(fl_value_null()));
    fl_value_unref(fl_value_null()); /* no-op, must not crash */
    assert_int_equal(fl_value_type(fl_value_null()), FL_VNULL);
    assert_string_equal(fl_value_type_name(FL_VNUMBER), "number");
}

static void test_numbers_strings(void **state)
{
    struct fl_value *n, *s;
    int64_t x;
    size_t len;
    (void)state;
    assert_int_equal(fl_value_number_parse("-12.50", 6, &n), 0);
    assert_text(n, "-12.5");
    assert_int_equal(fl_value_to_int64(n, &x), FL_ETYPE);
    fl_value_unref(n);
    assert_int_equal(fl_value_number_parse("abc", 3, &n), FL_EPARSE);
    n = fl_value_int(42);
    assert_int_equal(fl_value_to_int64(n, &x), 0);
    assert_int_equal(x, 42);
    fl_value_unref(n);
    assert_int_equal(fl_value_string_new("h\xc3\xa9", 3, &s), 0);
    assert_string_equal(fl_value_str(s, &len), "h\xc3\xa9");
    assert_int_equal(len, 3);
    fl_value_unref(s);
    assert_int_equal(fl_value_string_new("\xc3", 1, &s), FL_EINVAL);
    assert_int_equal(fl_value_string_new("\xed\xa0\x80", 3, &s), FL_EINVAL); /* surrogate */
    assert_int_equal(fl_value_string_new("\xc0\xaf", 2, &s), FL_EINVAL);     /* overlong */
}

static void test_context(void **state)
{
    struct fl_value *c = fl_value_context_new();
    char key[32];
    size_t kl;
    (void)state;
    fl_value_context_set(c, "b", 1, fl_value_int(1));
    fl_value_context_set(c, "a", 1, fl_value_int(2));
    fl_value_context_set(c, "b", 1, fl_value_int(3));
    assert_int_equal(fl_value_context_len(c), 2);
    assert_string_equal(fl_value_context_key(c, 0, &kl), "b");
    assert_text(c, "{b: 3, a: 2}");
    assert_null(fl_value_context_get(c, "zz", 2));
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        fl_value_context_set(c, key, strlen(key), fl_value_int(i));
    }
    assert_int_equal(fl_value_context_len(c), 202);
    for (int i = 0; i < 200; i += 7) {
        int64_t x;
        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(fl_value_to_int64(fl_value_context_get(c, key, strlen(key)), &x), 0);
        assert_int_equal(x, i);
    }
    fl_value_context_set(c, "k5", 2, fl_value_cstring("five"));
    assert_string_equal(fl_value_str(fl_value_context_get(c, "k5", 2), NULL), "five");
    assert_string_equal(fl_value_context_key(c, 7, NULL), "k5");
    struct fl_value *copy = fl_value_context_copy(c);
    assert_true(fl_value_equal(c, copy));
    fl_value_context_set(copy, "new", 3, fl_value_null());
    assert_false(fl_value_equal(c, copy));
    fl_value_unref(copy);
    fl_value_unref(c);
}

static void test_equal_list_freeze(void **state)
{
    struct fl_value *a = fl_value_list_new(), *b = fl_value_list_new(), *n;
    (void)state;
    fl_value_list_push(a, fl_value_int(1));
    assert_int_equal(fl_value_number_parse("1.000", 5, &n), 0);
    fl_value_list_push(b, n);
    assert_true(fl_value_equal(a, b));
    fl_value_list_push(a, fl_value_cstring("x"));
    assert_false(fl_value_equal(a, b));
    assert_false(fl_value_equal(fl_value_list_at(a, 1), fl_value_null()));
    assert_text(a, "[1, \"x\"]");
    fl_value_unref(b);
    fl_value_freeze(a);
    fl_value_ref(a);
    fl_value_unref(a);
    fl_value_unref(a); /* frozen: no-op */
    assert_int_equal(fl_value_list_len(a), 2);
    fl_value_free_frozen(a);
}

static void test_temporal_text(void **state)
{
    struct fl_tz tz = {FL_TZ_OFFSET, 3600, NULL};
    struct fl_value *v;
    (void)state;
    v = fl__value_date(fl_days_from_civil(2024, 2, 29));
    assert_text(v, "2024-02-29");
    fl_value_unref(v);
    v = fl__value_datetime(0, (INT64_C(13) * 3600 + 5) * FL_NS_PER_SEC + 500000000, &tz);
    assert_text(v, "1970-01-01T13:00:05.5+01:00");
    fl_value_unref(v);
    v = fl__value_dtduration((fl_i128)(86400 + 3600 + 61) * FL_NS_PER_SEC);
    assert_text(v, "P1DT1H1M1S");
    fl_value_unref(v);
    v = fl__value_dtduration(0);
    assert_text(v, "PT0S");
    fl_value_unref(v);
    /* fractions of a second: trailing zeros dropped, down to one nanosecond */
    v = fl__value_dtduration((fl_i128)61 * FL_NS_PER_SEC + 250000000);
    assert_text(v, "PT1M1.25S");
    fl_value_unref(v);
    v = fl__value_dtduration(-1);
    assert_text(v, "-PT0.000000001S");
    fl_value_unref(v);
    v = fl__value_datetime(0, INT64_C(13) * 3600 * FL_NS_PER_SEC + 120000000, &tz);
    assert_text(v, "1970-01-01T13:00:00.12+01:00");
    fl_value_unref(v);
    v = fl__value_ymduration(-14);
    assert_text(v, "-P1Y2M");
    fl_value_unref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_singletons), cmocka_unit_test(test_numbers_strings),
        cmocka_unit_test(test_context), cmocka_unit_test(test_equal_list_freeze),
        cmocka_unit_test(test_temporal_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
