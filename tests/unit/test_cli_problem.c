/* Unit tests of src/cli/cli_problem.c, the CLI's mapping of API answers to the error line
 * and exit code of local mode: every problem type of the error table maps back to its own
 * code, foreign types and non-JSON bodies fall back on the status, 401/403 say "not
 * authorised", detail/field/element/line/column are carried over, hostile bodies (huge,
 * malformed, multi-line, wrong types) never crash or break the one-line rule. The file
 * under test is compiled into this test directly: it is part of the flowd binary, not of
 * the library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli_problem.c"

static int map(long status, const char *ctype, const char *body, struct fl_error *e)
{
    fl_error_clear(e);
    return cli_problem_to_error(status, ctype, body, body ? strlen(body) : 0, e);
}

static void test_success_is_zero(void **state)
{
    struct fl_error e;
    (void)state;
    assert_int_equal(map(200, "application/json", "{}", &e), 0);
    assert_int_equal(map(201, NULL, NULL, &e), 0);
    assert_int_equal(map(204, NULL, NULL, &e), 0);
}

/* Each code of err.h, written by the server as its lower-case name, comes back as itself
 * (and hence as the same exit code), whatever status the server chose. */
static void test_every_type_maps_back(void **state)
{
    (void)state;
    for (int code = -1; strcmp(fl_err_name(code), "UNKNOWN") != 0; code--) {
        char body[512], type[64];
        struct fl_error e;
        size_t i;
        const char *name = fl_err_name(code);
        for (i = 0; name[i] && i < sizeof(type) - 1; i++)
            type[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
        type[i] = '\0';
        snprintf(body, sizeof(body),
                 "{\"type\":\"https://flowd.dev/problems/%s\",\"title\":\"t\",\"status\":%d,"
                 "\"detail\":\"detail of %s\"}",
                 type, fl_err_http_status(code), type);
        assert_int_equal(map(fl_err_http_status(code), "application/problem+json", body, &e), code);
        assert_int_equal(e.code, code);
        assert_true(strstr(e.msg, "detail of ") == e.msg);
    }
}

static void test_detail_and_place(void **state)
{
    struct fl_error e;
    char line[1024];
    (void)state;
    assert_int_equal(map(422, "application/problem+json",
                         "{\"type\":\"https://flowd.dev/problems/model\",\"status\":422,"
                         "\"detail\":\"dangling flow\",\"element\":\"f1\",\"line\":12,"
                         "\"column\":5,\"field\":\"xml\"}",
                         &e),
                     FL_EMODEL);
    assert_string_equal(e.element, "f1");
    assert_string_equal(e.field, "xml");
    assert_int_equal(e.line, 12);
    assert_int_equal(e.column, 5);
    fl_error_format(&e, line, sizeof(line));
    assert_string_equal(line, "dangling flow (element 'f1', field 'xml', line 12, column 5)");
    assert_int_equal(fl_err_exit_code(FL_EMODEL), 4);
}

static void test_status_fallback(void **state)
{
    struct fl_error e;
    (void)state;
    /* a foreign type, no type, a body that is no JSON, a proxy's HTML page */
    assert_int_equal(
        map(404, "application/problem+json", "{\"type\":\"about:blank\",\"detail\":\"gone\"}", &e),
        FL_ENOTFOUND);
    assert_string_equal(e.msg, "gone");
    assert_int_equal(map(409, "application/json", "{\"detail\":\"busy task\"}", &e), FL_ECONFLICT);
    assert_int_equal(map(422, "application/json", "{\"title\":\"nope\"}", &e), FL_EREFUSED);
    assert_string_equal(e.msg, "nope");
    assert_int_equal(map(400, "application/json", "{not json", &e), FL_EINVAL);
    assert_string_equal(e.msg, "the server answered HTTP 400 (invalid argument)");
    assert_int_equal(map(502, "text/html", "<html>\n<b>Bad Gateway</b>\n</html>", &e),
                     FL_EINTERNAL);
    assert_null(strchr(e.msg, '\n'));
    assert_true(strstr(e.msg, "502") != NULL);
    assert_int_equal(map(503, NULL, NULL, &e), FL_EBUSY);
    assert_int_equal(map(413, NULL, NULL, &e), FL_ETOOBIG);
    assert_int_equal(map(429, NULL, NULL, &e), FL_ETOOMANY);
    assert_int_equal(map(418, NULL, NULL, &e), FL_EINVAL);
    /* a type of ours with a name that is no code: the status decides */
    assert_int_equal(map(409, "application/problem+json",
                         "{\"type\":\"https://flowd.dev/problems/frobnicated\"}", &e),
                     FL_ECONFLICT);
}

static void test_not_authorised(void **state)
{
    struct fl_error e;
    (void)state;
    assert_int_equal(map(401, "application/problem+json",
                         "{\"type\":\"https://flowd.dev/problems/unauthenticated\","
                         "\"status\":401,\"detail\":\"send a token\"}",
                         &e),
                     FL_EINVAL);
    assert_string_equal(e.msg, "not authorised: send a token");
    assert_int_equal(map(403, "application/problem+json",
                         "{\"type\":\"https://flowd.dev/problems/forbidden\",\"status\":403,"
                         "\"detail\":\"this route needs an administrator\"}",
                         &e),
                     FL_EINVAL);
    assert_string_equal(e.msg, "not authorised: this route needs an administrator");
    /* even a 403 whose type names an error code is "not authorised", exit 1 */
    assert_int_equal(map(403, "application/problem+json",
                         "{\"type\":\"https://flowd.dev/problems/notfound\"}", &e),
                     FL_EINVAL);
    assert_true(strncmp(e.msg, "not authorised: ", 16) == 0);
    assert_int_equal(map(401, NULL, NULL, &e), FL_EINVAL);
    assert_true(strncmp(e.msg, "not authorised: ", 16) == 0);
}

static void test_hostile_bodies(void **state)
{
    struct fl_error e;
    char *big = malloc(100000);
    (void)state;
    /* wrong member types are ignored, not trusted */
    assert_int_equal(map(404, "application/problem+json",
                         "{\"type\":7,\"detail\":[1],\"line\":\"x\",\"column\":-3,"
                         "\"element\":{}}",
                         &e),
                     FL_ENOTFOUND);
    assert_int_equal(e.line, 0);
    assert_int_equal(e.column, 0);
    assert_string_equal(e.element, "");
    /* a detail longer than the message buffer is cut, never overflows */
    strcpy(big, "{\"detail\":\"");
    memset(big + 11, 'a', 90000);
    strcpy(big + 90011, "\\nb\"}");
    assert_int_equal(map(409, "application/json", big, &e), FL_ECONFLICT);
    assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
    /* a detail with a line break stays one line */
    assert_int_equal(map(409, "application/json", "{\"detail\":\"a\\nb\\tc\"}", &e), FL_ECONFLICT);
    assert_string_equal(e.msg, "a b c");
    /* a JSON array, a JSON string, an empty body */
    assert_int_equal(map(404, "application/json", "[1,2]", &e), FL_ENOTFOUND);
    assert_int_equal(map(404, "application/json", "\"x\"", &e), FL_ENOTFOUND);
    assert_int_equal(map(404, "application/json", "", &e), FL_ENOTFOUND);
    /* err may be NULL */
    assert_int_equal(cli_problem_to_error(404, "application/json", "{}", 2, NULL), FL_ENOTFOUND);
    free(big);
}

static void test_url_escape(void **state)
{
    struct fl_buf b = FL_BUF_INIT;
    (void)state;
    cli_url_escape(&b, "a b&c=d/é~_.-");
    assert_string_equal(b.ptr, "a%20b%26c%3Dd%2F%C3%A9~_.-");
    fl_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success_is_zero),  cmocka_unit_test(test_every_type_maps_back),
        cmocka_unit_test(test_detail_and_place), cmocka_unit_test(test_status_fallback),
        cmocka_unit_test(test_not_authorised),   cmocka_unit_test(test_hostile_bodies),
        cmocka_unit_test(test_url_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
