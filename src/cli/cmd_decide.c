/* `flowd decide KEY [--var NAME=VALUE ...]` and `flowd decide --file X.dmn KEY ...`: evaluate
 * a DMN decision the way a business rule task does (same reader, same evaluator, required
 * decisions first) and print the result as JSON. With --file nothing is deployed or opened
 * -- for people debugging a table before they deploy it; otherwise the latest deployed
 * version is evaluated, from the database or (--server) by the server. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_http.h"
#include "flowd/alloc.h"
#include "flowd/dmn.h"

enum { OPT_VAR = CLI_OPT_CMD, OPT_FILE };

static const struct option longopts[] = {
    CLI_COMMON_LONGOPTS,
    {"var", required_argument, NULL, OPT_VAR},
    {"file", required_argument, NULL, OPT_FILE},
    {NULL, 0, NULL, 0},
};

/* Evaluate key of the DMN text xml (a file's, or a stored version's). */
static int eval_text(const char *what, const char *xml, size_t len, const char *key,
                     const struct fl_value *vars, int64_t now, struct fl_value **out,
                     struct fl_error *err, bool *in_file)
{
    struct fl_dmn_doc *doc = NULL;
    const struct fl_dmn_decision *d;
    int rc;
    *in_file = true;
    if ((rc = fl_dmn_read(xml, len, &doc, err)) != 0)
        return rc;
    *in_file = false;
    if (!(d = fl_dmn_find(doc, key)))
        rc = fl_error_set(err, FL_ENOTFOUND, "no decision '%s' in %s", key, what);
    else
        rc = fl_dmn_evaluate(d, vars, now, out, err);
    fl_dmn_doc_free(doc);
    return rc;
}

static int eval_local(const struct cli_common *c, const char *key, const struct fl_value *vars,
                      struct fl_value **out, struct fl_error *err)
{
    struct fl_store_options so = {.read_only = true};
    struct fl_store *s = NULL;
    struct fl_definition_row row;
    bool in_file;
    int rc;
    memset(&row, 0, sizeof(row));
    if ((rc = fl_store_open(c->db, &so, &s, err)) != 0)
        return rc;
    if ((rc = fl_store_decision_get(s, key, 0, 0, &row, err)) == 0)
        rc = eval_text("its document", row.xml, row.xml_len, key, vars, c->now_ms, out, err,
                       &in_file);
    fl_definition_row_release(&row);
    fl_store_close(s);
    return rc;
}

static int eval_remote(const struct cli_common *c, const char *key, const struct fl_value *vars,
                       struct fl_value **out, struct fl_error *err)
{
    struct cli_http *h = NULL;
    struct cli_http_answer ans;
    struct fl_buf path = FL_BUF_INIT, body = FL_BUF_INIT;
    struct fl_value *doc = NULL;
    const struct fl_value *res;
    int rc;

    memset(&ans, 0, sizeof(ans));
    fl_buf_init(&ans.body, 0);
    if ((rc = cli_http_open(c->server, c->token, &h, err)) != 0)
        goto out;
    fl_buf_adds(&path, "/api/v1/decisions/");
    cli_url_escape(&path, key);
    fl_buf_adds(&path, "/evaluate");
    fl_buf_adds(&body, "{\"variables\":");
    fl_value_to_json(vars, &body);
    fl_buf_addc(&body, '}');
    if ((rc = cli_http_send(h, "POST", path.ptr, "application/json", body.ptr, body.len, &ans,
                            err)) != 0 ||
        (rc = cli_http_check(h, &ans, err)) != 0)
        goto out;
    if ((rc = fl_value_from_json(ans.body.ptr, ans.body.len, &doc, err)) != 0)
        goto out;
    if (!(res = fl_value_context_get(doc, "result", 6))) {
        rc = fl_error_set(err, FL_EIO, "the server's answer has no result");
        goto out;
    }
    *out = fl_value_ref(res);
out:
    fl_value_unref(doc);
    fl_buf_release(&ans.body);
    fl_buf_release(&path);
    fl_buf_release(&body);
    cli_http_close(h);
    return rc;
}

static int run(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_common c;
    struct fl_value *vars = fl_value_context_new(), *result = NULL;
    struct fl_error err;
    struct fl_buf out = FL_BUF_INIT;
    const char *file = NULL, *key;
    char *xml = NULL;
    size_t len = 0;
    int opt, rc, ex = 1;

    fl_error_clear(&err);
    if ((ex = cli_common_init(&c, cmd)) != 0)
        goto out;
    ex = 1;
    while ((opt = cli_getopt(&c, argc, argv, longopts)) != CLI_GETOPT_END) {
        if (opt == CLI_GETOPT_HELP) {
            ex = 0;
            goto out;
        }
        if (opt == CLI_GETOPT_ERROR)
            goto out;
        if (opt == OPT_VAR && cli_var_parse(optarg, vars, &err) < 0) {
            ex = cli_fail(FL_EUSAGE, &err);
            goto out;
        }
        if (opt == OPT_FILE)
            file = optarg;
    }
    if (optind + 1 != argc) {
        ex = cli_usage_error(&c, "give exactly one decision (its id or name)");
        goto out;
    }
    key = argv[optind];
    if (file) {
        bool in_file = false;
        if ((rc = cli_read_file(file, FL_DMN_MAX_BYTES, &xml, &len, &err)) != 0) {
            ex = cli_fail(rc, &err);
            goto out;
        }
        rc = eval_text(file, xml, len, key, vars, c.now_ms, &result, &err, &in_file);
        if (rc) {
            ex = in_file ? cli_fail_in(file, rc, &err) : cli_fail(rc, &err);
            goto out;
        }
    } else if ((rc = c.server ? eval_remote(&c, key, vars, &result, &err)
                              : eval_local(&c, key, vars, &result, &err)) != 0) {
        ex = cli_fail(rc, &err);
        goto out;
    }
    fl_value_to_json(result, &out);
    fl_buf_addc(&out, '\n');
    fwrite(out.ptr, 1, out.len, stdout);
    ex = 0;
out:
    fl_value_unref(result);
    fl_value_unref(vars);
    fl_buf_release(&out);
    free(xml);
    return ex;
}

const struct cli_command cli_cmd_decide = {
    "decide",
    run,
    "evaluate a DMN decision and print the result as JSON",
    "usage: flowd decide [options] KEY [--var NAME=VALUE ...]\n"
    "       flowd decide --file FILE.dmn KEY [--var NAME=VALUE ...]\n\n"
    "Evaluate decision KEY (its id, or its name) with the variables given by --var (forms\n"
    "as for `flowd start`: NAME=JSON, NAME:date=...) the way a business rule task does:\n"
    "its required decisions first, then its table or expression. Without --file, the\n"
    "latest deployed version is evaluated (on the database, or with --server by the\n"
    "server); with --file, the decision is read from FILE and nothing is deployed --\n"
    "for debugging a table. One output prints its value; several an object; COLLECT and\n"
    "RULE ORDER a list; no rule matched null. Exit codes: 0 ok, 1 a syntax or evaluation\n"
    "error (with its line and column, or the expression), 2 no such decision, 3 the table\n"
    "refused (UNIQUE with several rules matching), 4 an invalid or unsupported document.\n",
};
