/* Unit tests of src/util: the error table, struct fl_buf and its cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flowd/buf.h"
#include "flowd/err.h"

static void test_err_table(void **state)
{
    (void)state;
    assert_int_equal(FL_ENOMEM, -1);
    assert_string_equal(fl_err_name(FL_ENOTFOUND), "NOTFOUND");
    assert_string_equal(fl_err_name(0), "OK");
    assert_string_equal(fl_err_name(-9999), "UNKNOWN");
    assert_int_equal(fl_err_http_status(FL_ENOTFOUND), 404);
    assert_int_equal(fl_err_exit_code(FL_ENOTFOUND), 2);
    assert_int_equal(fl_err_exit_code(FL_EREFUSED), 3);
    assert_int_equal(fl_err_exit_code(FL_EMODEL), 4);
    assert_int_equal(fl_err_exit_code(FL_EUSAGE), 1);
}

static void test_error_format(void **state)
{
    struct fl_error e;
    char out[600];
    (void)state;
    fl_error_clear(&e);
    assert_int_equal(fl_error_set(&e, FL_EMODEL, "flow '%s' has no target", "f1"), FL_EMODEL);
    fl_error_at(&e, "f1", 12, 7);
    assert_string_equal(fl_error_format(&e, out, sizeof(out)),
                        "flow 'f1' has no target (element 'f1', line 12, column 7)");
    fl_error_clear(&e);
    e.code = FL_ENOTFOUND;
    assert_string_equal(fl_error_format(&e, out, sizeof(out)), "not found");
}

static void test_buf(void **state)
{
    struct fl_buf b = FL_BUF_INIT;
    char *p;
    size_t n;
    (void)state;
    assert_non_null(b.ptr);
    assert_string_equal(b.ptr, "");
    assert_int_equal(fl_buf_adds(&b, "abc"), 0);
    assert_int_equal(fl_buf_addf(&b, "-%d-", 42), 0);
    assert_int_equal(fl_buf_addc(&b, 'x'), 0);
    assert_string_equal(b.ptr, "abc-42-x");
    assert_int_equal(b.len, 8);
    p = fl_buf_detach(&b, &n);
    assert_int_equal(n, 8);
    assert_string_equal(p, "abc-42-x");
    free(p);
    assert_int_equal(b.len, 0);
    p = fl_buf_detach(&b, NULL);
    assert_string_equal(p, "");
    free(p);
    fl_buf_release(&b);
}

static void test_buf_cap(void **state)
{
    struct fl_buf b;
    (void)state;
    fl_buf_init(&b, 5);
    assert_int_equal(fl_buf_adds(&b, "12345"), 0);
    assert_int_equal(fl_buf_adds(&b, "6"), FL_ETOOBIG);
    assert_int_equal(b.err, FL_ETOOBIG);
    assert_string_equal(b.ptr, "12345");
    assert_int_equal(fl_buf_addf(&b, "%s", "zz"), FL_ETOOBIG);
    fl_buf_reset(&b);
    assert_int_equal(b.err, 0);
    assert_int_equal(fl_buf_adds(&b, "ab"), 0);
    fl_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_table),
        cmocka_unit_test(test_error_format),
        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_buf_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
