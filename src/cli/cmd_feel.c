/* `flowd feel EXPR [--var NAME=VALUE ...]`: evaluate one FEEL expression the way the engine
 * evaluates conditions and mappings (same compiler, same variables, same clock) and print
 * the result as JSON, for people debugging their models. A syntax error points at its
 * column; an evaluation problem prints FEEL's null together with the diagnostic. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "flowd/alloc.h"
#include "flowd/feel.h"

enum { OPT_VAR = CLI_OPT_CMD, OPT_UNARY };

static const struct option longopts[] = {
    CLI_COMMON_LONGOPTS,
    {"var", required_argument, NULL, OPT_VAR},
    {"unary", required_argument, NULL, OPT_UNARY},
    {NULL, 0, NULL, 0},
};

static int run(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_common c;
    struct fl_value *vars = fl_value_context_new();
    struct fl_value *input = NULL, *result = NULL;
    struct fl_feel_expr *expr = NULL;
    struct fl_feel_diag diag;
    struct fl_error err;
    struct fl_buf out;
    const char *src;
    int is_expr, opt, rc = 1;

    fl_error_clear(&err);
    fl_buf_init(&out, 0);
    if ((rc = cli_common_init(&c, cmd)) != 0)
        goto out;
    rc = 1;
    while ((opt = cli_getopt(&c, argc, argv, longopts)) != CLI_GETOPT_END) {
        if (opt == CLI_GETOPT_HELP) {
            rc = 0;
            goto out;
        }
        if (opt == CLI_GETOPT_ERROR)
            goto out;
        if (opt == OPT_VAR && cli_var_parse(optarg, vars, &err) < 0) {
            rc = cli_fail(FL_EUSAGE, &err);
            goto out;
        }
        if (opt == OPT_UNARY) {
            /* The input of a unary test is one value, parsed like a --var value. */
            struct fl_value *tmp = fl_value_context_new();
            size_t n = strlen(optarg) + 3;
            char *arg = fl_malloc(n);
            snprintf(arg, n, "?=%s", optarg);
            int prc = cli_var_parse(arg, tmp, &err);
            free(arg);
            if (prc < 0) {
                fl_value_unref(tmp);
                rc = cli_fail(FL_EUSAGE, &err);
                goto out;
            }
            fl_value_unref(input);
            input = fl_value_ref(fl_value_context_get(tmp, "?", 1));
            fl_value_unref(tmp);
        }
    }
    if (optind + 1 != argc) {
        rc = cli_usage_error(&c, "give exactly one expression");
        goto out;
    }
    src = fl_feel_strip(argv[optind], &is_expr);
    rc = input ? fl_feel_compile_unary(src, strlen(src), &expr, &err)
               : fl_feel_compile(src, strlen(src), &expr, &err);
    if (rc < 0) {
        rc = cli_fail(rc, &err);
        goto out;
    }
    if (input) /* the context takes a reference of its own; ours is dropped at out */
        fl_value_context_set(vars, "?", 1, fl_value_ref(input));
    {
        struct fl_feel_env env = {vars, c.now_ms, 0};
        diag.msg[0] = '\0';
        result = fl_feel_eval(expr, &env, &diag);
    }
    /* JSON has no ranges or functions: those print as FEEL text instead of null. */
    if (fl_value_type(result) == FL_VRANGE || fl_value_type(result) == FL_VFUNCTION)
        fl_value_to_text(result, &out);
    else
        fl_value_to_json(result, &out);
    fl_buf_addc(&out, '\n');
    fwrite(out.ptr, 1, out.len, stdout);
    rc = 0;
    if (diag.msg[0]) {
        fprintf(stderr, "flowd: note: the result is null: %s\n", diag.msg);
        rc = 3;
    }
out:
    fl_feel_free(expr);
    fl_value_unref(result);
    fl_value_unref(input);
    fl_value_unref(vars);
    fl_buf_release(&out);
    return rc;
}

const struct cli_command cli_cmd_feel = {
    "feel",
    run,
    "evaluate a FEEL expression and print the result as JSON",
    "usage: flowd feel EXPR [--var NAME=VALUE ...] [--unary INPUT]\n\n"
    "Evaluate EXPR (FEEL, as in conditions and mappings; a leading '=' is allowed) with\n"
    "the variables given by --var (forms as for `flowd start`: NAME=JSON, NAME:date=...)\n"
    "and print the result as JSON. With --unary INPUT, EXPR is a unary test (a decision\n"
    "table input entry such as \"< 10\" or \"[1..5]\") applied to INPUT. now() is the real\n"
    "clock, or $FLOWD_NOW. Exit codes: 0 ok, 1 syntax error (with its column), 3 the\n"
    "evaluation failed and the result is null (the reason on stderr).\n",
};
