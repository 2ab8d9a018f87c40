/* Unit tests of the JSON codec: exact numbers, escapes and surrogates, caps, error
 * positions, duplicate keys, round trip; the typed form for storage keeps dates, times and
 * durations (nested too) and refuses a marker that holds none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flowd/value.h"

static void roundtrip(const char *in, const char *want)
{
    struct fl_value *v = NULL;
    struct fl_error err;
    struct fl_buf b = FL_BUF_INIT;
    fl_error_clear(&err);
    assert_int_equal(fl_value_from_json(in, strlen(in), &v, &err), 0);
    assert_int_equal(fl_value_to_json(v, &b), 0);
    assert_string_equal(b.ptr, want);
    fl_buf_release(&b);
    fl_value_unref(v);
}

static void bad(const char *in, int line, int column)
{
    struct fl_value *v = NULL;
    struct fl_error err;
    fl_error_clear(&err);
    assert_int_equal(fl_value_from_json(in, strlen(in), &v, &err), FL_EPARSE);
    assert_null(v);
    assert_int_equal(err.line, line);
    assert_int_equal(err.column, column);
    assert_true(strlen(err.msg) > 0);
}

static void test_roundtrip(void **state)
{
    (void)state;
    roundtrip("{\"a\": 0.1, \"b\": [1, 2.50, -3e2, true, false, null], \"c\": \"x\"}",
              "{\"a\":0.1,\"b\":[1,2.5,-300,true,false,null],\"c\":\"x\"}");
    roundtrip("12345678901234567890.123456789", "12345678901234567890.123456789");
    roundtrip("\"a\\\"b\\\\c\\n\\t\\u0001\\u00e9\\ud83d\\ude00\"",
              "\"a\\\"b\\\\c\\n\\t\\u0001\xc3\xa9\xf0\x9f\x98\x80\"");
    roundtrip("{\"k\":1,\"k\":2}", "{\"k\":2}");
    roundtrip("  [ ] ", "[]");
    roundtrip("{}", "{}");
}

#define MARK(iso) "{\"\\u0000feel\":\"" iso "\"}"

static void test_typed_roundtrip(void **state)
{
    static const char typed[] =
        "{\"d\":" MARK("2026-01-31") ",\"l\":[" MARK("10:30:00@Europe/Berlin") "," MARK(
            "2026-01-31T10:30:00+02:00") "],\"c\":{\"ym\":" MARK("P1Y2M") ",\"dt\":" MARK(
            "P1DT2H") ",\"s\":\"2026-01-31\"}}";
    struct fl_value *v = NULL, *again = NULL;
    struct fl_buf b = FL_BUF_INIT;
    struct fl_error err;
    (void)state;
    fl_error_clear(&err);
    assert_int_equal(fl_value_from_json_typed(typed, strlen(typed), &v, &err), 0);
    const struct fl_value *l = fl_value_context_get(v, "l", 1), *c = fl_value_context_get(v, "c", 1);
    assert_int_equal(fl_value_type(fl_value_context_get(v, "d", 1)), FL_VDATE);
    assert_int_equal(fl_value_type(fl_value_list_at(l, 0)), FL_VTIME);
    assert_int_equal(fl_value_type(fl_value_list_at(l, 1)), FL_VDATETIME);
    assert_int_equal(fl_value_type(fl_value_context_get(c, "ym", 2)), FL_VYMDURATION);
    assert_int_equal(fl_value_type(fl_value_context_get(c, "dt", 2)), FL_VDTDURATION);
    assert_int_equal(fl_value_type(fl_value_context_get(c, "s", 1)), FL_VSTRING); /* a string stays one */
    assert_true(fl_value_has_temporal(v));
    assert_false(fl_value_has_temporal(fl_value_context_get(c, "s", 1)));
    /* the typed form reads back equal; the plain form has ISO strings */
    assert_int_equal(fl_value_to_json_typed(v, &b), 0);
    assert_int_equal(fl_value_from_json_typed(b.ptr, b.len, &again, &err), 0);
    assert_true(fl_value_equal(v, again));
    fl_buf_reset(&b);
    assert_int_equal(fl_value_to_json(v, &b), 0);
    assert_string_equal(b.ptr, "{\"d\":\"2026-01-31\",\"l\":[\"10:30:00@Europe/Berlin\","
                               "\"2026-01-31T10:30:00+02:00\"],\"c\":{\"ym\":\"P1Y2M\","
                               "\"dt\":\"P1DT2H\",\"s\":\"2026-01-31\"}}");
    fl_buf_release(&b);
    fl_value_unref(v);
    fl_value_unref(again);
    /* a marker that holds no temporal text is refused, not read as a string */
    v = NULL;
    assert_int_equal(fl_value_from_json_typed("[" MARK("soon") "]", strlen("[" MARK("soon") "]"),
                                              &v, &err),
                     FL_EPARSE);
    assert_null(v);
}

static void test_errors(void **state)
{
    (void)state;
    bad("", 1, 1);
    bad("{\"a\":}", 1, 6);
    bad("[1,\n 2,\n x]", 3, 2);
    bad("\"abc", 1, 5);
    bad("\"\\ud800\"", 1, 8);
    bad("\"\\udc00\"", 1, 8);
    bad("\"\xff\"", 1, 2);
    bad("01", 1, 2);
    bad("1.", 1, 3);
    bad("[1] x", 1, 5);
    bad("tru", 1, 1);
    bad("{\"a\" 1}", 1, 6);
    bad("1e99999", 1, 1);
}

static void test_depth_cap(void **state)
{
    char deep[200];
    struct fl_value *v = NULL;
    struct fl_error err;
    (void)state;
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    assert_int_equal(fl_value_from_json(deep, 200, &v, &err), FL_EPARSE);
    assert_non_null(strstr(err.msg, "deep"));
    assert_int_equal(fl_value_from_json(deep + 100 - 64, 128, &v, &err), 0);
    fl_value_unref(v);
}

static void test_size_cap(void **state)
{
    size_t n = FL_JSON_MAX_BYTES + 2;
    char *big = malloc(n);
    struct fl_value *v = NULL;
    struct fl_error err;
    (void)state;
    memset(big, ' ', n);
    big[0] = '1';
    assert_int_equal(fl_value_from_json(big, n, &v, &err), FL_ETOOBIG);
    assert_null(v);
    free(big);
}

static void test_exact_numbers(void **state)
{
    struct fl_value *v = NULL;
    struct fl_error err;
    struct fl_buf b = FL_BUF_INIT;
    const char *in = "[0.1, 19.99, 1e-7, -0.0, 123456789012345678901234567890123456789]";
    (void)state;
    assert_int_equal(fl_value_from_json(in, strlen(in), &v, &err), 0);
    assert_int_equal(fl_value_to_json(v, &b), 0);
    /* beyond 34 digits a number is rounded half-even, never turned into a double */
    assert_string_equal(b.ptr, "[0.1,19.99,0.0000001,0,123456789012345678901234567890123500000]");
    fl_buf_release(&b);
    fl_value_unref(v);
}

/* fl_json_string is the one JSON string writer (values, engine details, store, API, CLI). */
static void test_json_string_writer(void **state)
{
    struct fl_buf b = FL_BUF_INIT;
    (void)state;
    fl_json_cstring(&b, NULL);
    assert_string_equal(b.ptr, "null");
    fl_buf_reset(&b);
    fl_json_cstring(&b, "a\"b\\c\n\r\t\b\f\x01 \xd0\xbf");
    assert_string_equal(b.ptr, "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001 \xd0\xbf\"");
    fl_buf_reset(&b);
    fl_json_string(&b, "x\0y", 3); /* explicit length: an embedded NUL is escaped, not cut */
    assert_string_equal(b.ptr, "\"x\\u0000y\"");
    fl_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_typed_roundtrip),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_depth_cap),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_exact_numbers),
        cmocka_unit_test(test_json_string_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
