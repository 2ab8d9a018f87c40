/* The JUEL to FEEL translator: the FEEL text of each simple construct, the translated
 * expressions evaluated against variables (so the meaning, not only the spelling, is
 * checked: Java's remainder sign, `empty`, null in text), and the refusals with the
 * construct named and its column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/juel.h"
#include "flowd/buf.h"
#include "flowd/feel.h"
#include "flowd/value.h"

static void expect_feel(const char *juel, const char *feel)
{
    struct fl_error err;
    char *out = NULL;
    int rc;
    fl_error_clear(&err);
    rc = fl_juel_to_feel(juel, &out, NULL, &err);
    if (rc != 0)
        fail_msg("'%s': %s %s", juel, fl_err_name(rc), err.msg);
    if (strcmp(out, feel))
        fail_msg("'%s' gave '%s', expected '%s'", juel, out, feel);
    free(out);
}

/* Translate, compile and evaluate with vars (JSON) and compare the result's JSON. */
static void expect_result(const char *juel, const char *vars, const char *json)
{
    struct fl_error err;
    struct fl_feel_expr *e = NULL;
    struct fl_value *ctx = NULL, *v;
    struct fl_feel_env env = {NULL, 0, 0};
    struct fl_buf b = FL_BUF_INIT;
    char *out = NULL;
    fl_error_clear(&err);
    if (fl_juel_to_feel(juel, &out, NULL, &err) != 0)
        fail_msg("'%s': %s", juel, err.msg);
    if (fl_feel_compile(out, strlen(out), &e, &err) != 0)
        fail_msg("'%s' -> '%s' does not compile: %s", juel, out, err.msg);
    assert_int_equal(fl_value_from_json(vars, strlen(vars), &ctx, &err), 0);
    env.vars = ctx;
    v = fl_feel_eval(e, &env, NULL);
    fl_value_to_json(v, &b);
    if (strcmp(b.ptr, json))
        fail_msg("'%s' (FEEL '%s') gave %s, expected %s", juel, out, b.ptr, json);
    fl_buf_release(&b);
    fl_value_unref(v);
    fl_value_unref(ctx);
    fl_feel_free(e);
    free(out);
}

static void expect_refusal(const char *juel, int code, const char *msg, int column)
{
    struct fl_error err;
    char *out = (char *)1;
    size_t at = 999;
    int rc;
    fl_error_clear(&err);
    rc = fl_juel_to_feel(juel, &out, &at, &err);
    if (rc != code || !strstr(err.msg, msg))
        fail_msg("'%s': expected %s '%s', got %s '%s'", juel, fl_err_name(code), msg,
                 fl_err_name(rc), err.msg);
    assert_null(out);
    assert_int_equal(err.column, column);
    assert_int_equal(at, (size_t)column - 1); /* ASCII: bytes are characters */
}

static void test_spelling(void **state)
{
    (void)state;
    expect_feel("${var}", "var");
    expect_feel("  ${ var }  ", "var");
    expect_feel("#{var}", "var");
    expect_feel("${a.b.c}", "a.b.c");
    expect_feel("${!x}", "not(x)");
    expect_feel("${not x}", "not(x)");
    expect_feel("${a == 1}", "a = 1");
    expect_feel("${a eq 'x'}", "a = \"x\"");
    expect_feel("${a != b}", "a != b");
    expect_feel("${a ne b}", "a != b");
    expect_feel("${a < 1 && b >= 2}", "(a < 1) and (b >= 2)");
    expect_feel("${a lt 1 and b ge 2}", "(a < 1) and (b >= 2)");
    expect_feel("${a gt 1 or b le 2}", "(a > 1) or (b <= 2)");
    expect_feel("${a || b && c}", "a or (b and c)");
    expect_feel("${(a || b) && c}", "(a or b) and c");
    expect_feel("${a + b * c}", "a + (b * c)");
    expect_feel("${a div b}", "a / b");
    expect_feel("${-a}", "-a");
    expect_feel("${a ? 'y' : \"n\"}", "if a then \"y\" else \"n\"");
    expect_feel("${true}", "true");
    expect_feel("${null}", "null");
    expect_feel("${1.5}", "1.5");
    expect_feel("${'it\\'s \"q\"'}", "\"it's \\\"q\\\"\"");
    expect_feel("${a['key']}", "get value(a, \"key\")");
    expect_feel("${a[0]}", "(a)[1]");
    /* a comparison chain keeps JUEL's grouping: relational binds tighter than equality */
    expect_feel("${a < b == c < d}", "(a < b) = (c < d)");
}

static void test_meaning(void **state)
{
    (void)state;
    expect_result("${amount > 1000}", "{\"amount\": 1500}", "true");
    expect_result("${amount > 1000}", "{\"amount\": 10}", "false");
    expect_result("${approved}", "{\"approved\": true}", "true");
    expect_result("${!approved}", "{\"approved\": true}", "false");
    expect_result("${order.total >= 10 && order.express}",
                  "{\"order\": {\"total\": 12, \"express\": true}}", "true");
    expect_result("${status == 'open' || status eq \"new\"}", "{\"status\": \"new\"}", "true");
    expect_result("${x == null}", "{\"x\": null}", "true");
    /* Java's remainder takes the dividend's sign */
    expect_result("${a % b}", "{\"a\": 7, \"b\": 3}", "1");
    expect_result("${a % b}", "{\"a\": -7, \"b\": 3}", "-1");
    expect_result("${a mod b}", "{\"a\": 7, \"b\": -3}", "1");
    expect_result("${(a + b) * 2 - 1}", "{\"a\": 1, \"b\": 2}", "5");
    expect_result("${a > 1 ? 'big' : 'small'}", "{\"a\": 2}", "\"big\"");
    expect_result("${empty x}", "{\"x\": null}", "true");
    expect_result("${empty x}", "{\"x\": \"\"}", "true");
    expect_result("${empty x}", "{\"x\": []}", "true");
    expect_result("${empty x}", "{\"x\": {}}", "true");
    expect_result("${empty x}", "{\"x\": [1]}", "false");
    expect_result("${not empty x}", "{\"x\": \"a\"}", "true");
    expect_result("${empty x}", "{\"x\": 0}", "false");
    expect_result("${items[1]}", "{\"items\": [\"a\", \"b\"]}", "\"b\"");
    expect_result("${m['k']}", "{\"m\": {\"k\": 3}}", "3");
    /* text around expressions joins as strings; null joins as "" */
    expect_result("Hello ${name}!", "{\"name\": \"Ann\"}", "\"Hello Ann!\"");
    expect_result("${a}-${b}", "{\"a\": 1, \"b\": null}", "\"1-\"");
    expect_result("n=${n + 1}", "{\"n\": 1}", "\"n=2\"");
}

static void test_refusals(void **state)
{
    (void)state;
    expect_refusal("${execution.getVariable('a')}", FL_EUNSUPPORTED,
                   "JUEL 'execution' is the Camunda engine's object", 3);
    expect_refusal("${myBean.check(a)}", FL_EUNSUPPORTED,
                   "JUEL method call 'myBean.check(...)' has no FEEL equivalent", 3);
    expect_refusal("${size(a)}", FL_EUNSUPPORTED, "JUEL method call 'size(...)'", 3);
    expect_refusal("${fn:len(a)}", FL_EUNSUPPORTED, "JUEL function call 'fn:...'", 3);
    expect_refusal("${a = 1}", FL_EUNSUPPORTED, "JUEL '=' (assignment", 5);
    expect_refusal("${x -> x}", FL_EUNSUPPORTED, "JUEL '->'", 5);
    expect_refusal("${a instanceof b}", FL_EUNSUPPORTED, "JUEL 'instanceof'", 5);
    expect_refusal("${[1, 2]}", FL_EUNSUPPORTED, "JUEL collection literal", 3);
    expect_refusal("${a[i]}", FL_EUNSUPPORTED, "JUEL index", 4);
    expect_refusal("${1e3}", FL_EUNSUPPORTED, "exponent", 3);
    expect_refusal("${for}", FL_EUNSUPPORTED, "FEEL keyword", 3);
    expect_refusal("${a$b}", FL_EUNSUPPORTED, "has a '$'", 3);
    expect_refusal("${a > }", FL_EPARSE, "ends where a value is expected", 7);
    expect_refusal("${a > 1", FL_EPARSE, "not closed with '}'", 8);
    expect_refusal("${'abc}", FL_EPARSE, "JUEL string is not closed", 3);
    expect_refusal("${}", FL_EPARSE, "empty JUEL expression", 3);
    expect_refusal("${(a}", FL_EPARSE, "expected ')'", 5);
    expect_refusal("${a ? b}", FL_EPARSE, "expected ':'", 8);
    expect_refusal("${a @ b}", FL_EPARSE, "unexpected character '@'", 5);
    expect_refusal("x ${a} ${b.c(1)}", FL_EUNSUPPORTED, "method call 'b.c(...)'", 10);
    expect_refusal("plain", FL_EPARSE, "no JUEL expression", 1);
}

static void test_deep_nesting_refused(void **state)
{
    char buf[400];
    size_t i, n = 0;
    (void)state;
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "${");
    for (i = 0; i < 150; i++)
        buf[n++] = '(';
    buf[n++] = 'a';
    buf[n] = '\0';
    expect_refusal(buf, FL_EUNSUPPORTED, "nested too deeply", 35);
    assert_true(fl_juel_is_expr("a ${b}"));
    assert_true(fl_juel_is_expr("#{b}"));
    assert_false(fl_juel_is_expr("=a"));
    assert_false(fl_juel_is_expr(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spelling),
        cmocka_unit_test(test_meaning),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_deep_nesting_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
