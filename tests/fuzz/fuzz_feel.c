/* libFuzzer target for the FEEL compiler and evaluator: the first byte picks expression or
 * unary-tests grammar, the rest is the source. Whatever compiles is evaluated against a
 * small fixed context, so the evaluator's limits (steps, depth, list sizes) are exercised
 * as well as the parser. Any crash, leak or sanitizer report is a bug. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "flowd/feel.h"
#include "flowd/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char vars_json[] =
    "{\"amount\": 1500.25, \"name\": \"Ada\", \"items\": [1, 2, 3],"
    " \"order\": {\"total\": 10, \"lines\": [{\"qty\": 2}, {\"qty\": 3}]},"
    " \"flag\": true, \"none\": null, \"?\": 5, \"Monthly Salary\": 1000}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fl_feel_expr *e = NULL;
    struct fl_error err;
    struct fl_value *vars = NULL;
    struct fl_feel_diag diag;
    if (size < 1 || size > 4096)
        return 0;
    int unary = data[0] & 1;
    const char *src = (const char *)data + 1;
    size_t len = size - 1;
    int rc = unary ? fl_feel_compile_unary(src, len, &e, &err)
                   : fl_feel_compile(src, len, &e, &err);
    if (rc)
        return 0;
    if (fl_value_from_json(vars_json, sizeof(vars_json) - 1, &vars, &err) == 0) {
        struct fl_feel_env env = {vars, INT64_C(1700000000000), 120};
        struct fl_value *r = fl_feel_eval(e, &env, &diag);
        struct fl_buf b = FL_BUF_INIT;
        fl_value_to_text(r, &b);
        fl_buf_reset(&b);
        fl_value_to_json(r, &b);
        fl_buf_release(&b);
        fl_value_unref(r);
        fl_value_unref(vars);
    }
    (void)fl_feel_source(e);
    fl_feel_free(e);
    return 0;
}
