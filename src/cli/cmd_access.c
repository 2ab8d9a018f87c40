/* `flowd department` and `flowd token`: the department tree (each department with a head
 * who sees its work and its sub-departments' work) and API tokens for integrations. A
 * token is printed once when created; only its hash is stored, so a lost token is revoked
 * and replaced, never shown again. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli_source.h"
#include "cli/people.h"
#include "flowd/auth.h"

static const char department_usage[] =
    "usage: flowd department add NAME [--parent NAME] [--head LOGIN]\n"
    "       flowd department list\n\n"
    "Add a department (under a parent, with a head), or list the tree.\n";

static const char token_usage[] =
    "usage: flowd token create --user LOGIN --scope read|write|admin [--name NAME]\n"
    "       flowd token revoke ID\n"
    "       flowd token list [--user LOGIN]\n\n"
    "Create an API token (printed once), revoke one, or list them (without secrets).\n";

enum { OPT_PARENT = CLI_OPT_CMD, OPT_HEAD, OPT_USER, OPT_SCOPE, OPT_NAME };

static int department_add(struct cli_common *c, int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
                                             {"parent", required_argument, NULL, OPT_PARENT},
                                             {"head", required_argument, NULL, OPT_HEAD},
                                             {NULL, 0, NULL, 0}};
    const char *parent = NULL, *head = NULL;
    struct cli_source *src = NULL;
    struct fl_error err;
    uint64_t id = 0;
    int rc, opt;

    fl_error_clear(&err);
    while ((opt = cli_getopt(c, argc, argv, longopts)) != CLI_GETOPT_END) {
        if (opt == OPT_PARENT)
            parent = optarg;
        else if (opt == OPT_HEAD)
            head = optarg;
        else
            return opt == CLI_GETOPT_HELP ? 0 : 1;
    }
    if (optind >= argc)
        return cli_usage_error(c, "department add needs a NAME");
    if (optind + 1 < argc)
        return cli_usage_error(c, "unexpected argument '%s'", argv[optind + 1]);
    if ((rc = cli_source_open(c, &src, &err)) == 0)
        rc = src->ops->department_add(src, argv[optind], parent, head, &id, &err);
    if (rc == 0) {
        if (c->json) {
            struct cli_json j;
            cli_json_init(&j);
            cli_json_object(&j, NULL);
            cli_json_uint(&j, "id", id);
            cli_json_str(&j, "name", argv[optind]);
            cli_json_str(&j, "parent", parent);
            cli_json_str(&j, "head", head);
            cli_json_end(&j);
            rc = cli_json_emit(&j);
        } else {
            printf("department '%s' added (id %llu)\n", argv[optind], (unsigned long long)id);
        }
    }
    cli_source_close(src);
    return rc ? cli_fail(rc, &err) : 0;
}

static const char *dept_name(const struct fl_department_row *rows, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].id == id)
            return rows[i].name;
    return NULL;
}

static int department_list(struct cli_common *c, int argc, char **argv)
{
    struct fl_department_row *rows = NULL;
    struct cli_source *src = NULL;
    struct fl_error err;
    size_t n = 0;
    int rc;

    fl_error_clear(&err);
    if ((rc = cli_no_operands(c, argc, argv)) >= 0)
        return rc;
    if ((rc = cli_source_open(c, &src, &err)) == 0 && (rc = src->ops->require(src, &err)) == 0)
        rc = src->ops->department_list(src, &rows, &n, &err);
    if (rc == 0 && c->json) {
        struct cli_json j;
        cli_json_init(&j);
        cli_json_object(&j, NULL);
        cli_json_array(&j, "departments");
        for (size_t i = 0; i < n; i++) {
            cli_json_object(&j, NULL);
            cli_json_uint(&j, "id", rows[i].id);
            cli_json_str(&j, "name", rows[i].name);
            cli_json_str(&j, "parent", dept_name(rows, n, rows[i].parent_id));
            cli_json_str(&j, "head", rows[i].head_login);
            cli_json_end(&j);
        }
        cli_json_end(&j);
        cli_json_end(&j);
        rc = cli_json_emit(&j);
    } else if (rc == 0 && n == 0) {
        puts("no departments");
    } else if (rc == 0) {
        struct cli_table t;
        cli_table_init(&t, 4, "ID", "NAME", "PARENT", "HEAD");
        for (size_t i = 0; i < n; i++) {
            char id[24];
            snprintf(id, sizeof(id), "%llu", (unsigned long long)rows[i].id);
            cli_table_add(&t, id, rows[i].name, dept_name(rows, n, rows[i].parent_id),
                          rows[i].head_login);
        }
        cli_table_print(&t, stdout, "");
        cli_table_release(&t);
    }
    fl_department_rows_free(rows, n);
    cli_source_close(src);
    return rc ? cli_fail(rc, &err) : 0;
}

static int run_department(const struct cli_command *cmd, int argc, char **argv)
{
    static const char *const verbs[] = {"add", "list"};
    struct cli_common c;
    int ex, v;
    if ((ex = cli_common_init(&c, cmd)))
        return ex;
    v = cli_people_verb(&c, argc, argv, verbs, 2);
    if (v < 0)
        return v == -2 ? 0 : 1;
    return v == 0 ? department_add(&c, argc - 1, argv + 1)
                  : department_list(&c, argc - 1, argv + 1);
}

static int token_create(struct cli_common *c, int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
                                             {"user", required_argument, NULL, OPT_USER},
                                             {"scope", required_argument, NULL, OPT_SCOPE},
                                             {"name", required_argument, NULL, OPT_NAME},
                                             {NULL, 0, NULL, 0}};
    const char *user = NULL, *scope_text = NULL, *name = NULL;
    char text[FL_TOKEN_TEXT_MAX];
    enum fl_scope scope;
    struct cli_source *src = NULL;
    struct fl_error err;
    uint64_t id = 0;
    int rc, opt;

    fl_error_clear(&err);
    while ((opt = cli_getopt(c, argc, argv, longopts)) != CLI_GETOPT_END) {
        if (opt == OPT_USER)
            user = optarg;
        else if (opt == OPT_SCOPE)
            scope_text = optarg;
        else if (opt == OPT_NAME)
            name = optarg;
        else
            return opt == CLI_GETOPT_HELP ? 0 : 1;
    }
    if (optind != argc)
        return cli_usage_error(c, "unexpected argument '%s'", argv[optind]);
    if (!user)
        return cli_usage_error(c, "token create needs --user LOGIN");
    if (!scope_text)
        return cli_usage_error(c, "token create needs --scope read|write|admin");
    if (fl_scope_parse(scope_text, &scope) != 0)
        return cli_usage_error(c, "invalid scope '%s' (read, write or admin)", scope_text);
    if ((rc = cli_source_open(c, &src, &err)) == 0)
        rc = src->ops->token_create(src, user, name, scope, text, &id, &err);
    if (rc == 0) {
        if (c->json) {
            struct cli_json j;
            cli_json_init(&j);
            cli_json_object(&j, NULL);
            cli_json_uint(&j, "id", id);
            cli_json_str(&j, "user", user);
            cli_json_str(&j, "scope", fl_scope_name(scope));
            cli_json_str(&j, "name", name);
            cli_json_str(&j, "token", text);
            cli_json_end(&j);
            rc = cli_json_emit(&j);
        } else {
            printf("token %llu for '%s' (%s)\n%s\n", (unsigned long long)id, user,
                   fl_scope_name(scope), text);
            fputs("flowd: note: the token is shown only this once\n", stderr);
        }
        memset(text, 0, sizeof(text));
    }
    cli_source_close(src);
    return rc ? cli_fail(rc, &err) : 0;
}

static int token_revoke(struct cli_common *c, int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
    struct cli_source *src = NULL;
    struct fl_error err;
    uint64_t id;
    int rc, opt;

    fl_error_clear(&err);
    while ((opt = cli_getopt(c, argc, argv, longopts)) != CLI_GETOPT_END)
        return opt == CLI_GETOPT_HELP ? 0 : 1;
    if (optind >= argc)
        return cli_usage_error(c, "token revoke needs an ID");
    if (optind + 1 < argc)
        return cli_usage_error(c, "unexpected argument '%s'", argv[optind + 1]);
    if ((rc = cli_parse_id(argv[optind], "token id", &id, &err)) != 0)
        return cli_usage_error(c, "%s", err.msg);
    if ((rc = cli_source_open(c, &src, &err)) == 0)
        rc = src->ops->token_revoke(src, id, &err);
    if (rc == 0) {
        if (c->json) {
            struct cli_json j;
            cli_json_init(&j);
            cli_json_object(&j, NULL);
            cli_json_uint(&j, "id", id);
            cli_json_bool(&j, "revoked", true);
            cli_json_end(&j);
            rc = cli_json_emit(&j);
        } else {
            printf("token %llu revoked\n", (unsigned long long)id);
        }
    }
    cli_source_close(src);
    return rc ? cli_fail(rc, &err) : 0;
}

static int token_list(struct cli_common *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS, {"user", required_argument, NULL, OPT_USER}, {NULL, 0, NULL, 0}};
    const char *user = NULL;
    struct fl_token_row *rows = NULL;
    struct cli_source *src = NULL;
    struct fl_error err;
    size_t n = 0;
    int rc, opt;

    fl_error_clear(&err);
    while ((opt = cli_getopt(c, argc, argv, longopts)) != CLI_GETOPT_END) {
        if (opt != OPT_USER)
            return opt == CLI_GETOPT_HELP ? 0 : 1;
        user = optarg;
    }
    if (optind != argc)
        return cli_usage_error(c, "unexpected argument '%s'", argv[optind]);
    if ((rc = cli_source_open(c, &src, &err)) == 0 && (rc = src->ops->require(src, &err)) == 0)
        rc = src->ops->token_list(src, user, &rows, &n, &err);
    if (rc == 0 && c->json) {
        struct cli_json j;
        cli_json_init(&j);
        cli_json_object(&j, NULL);
        cli_json_array(&j, "tokens");
        for (size_t i = 0; i < n; i++) {
            cli_json_object(&j, NULL);
            cli_json_uint(&j, "id", rows[i].id);
            cli_json_str(&j, "name", rows[i].name);
            cli_json_str(&j, "user", rows[i].login);
            cli_json_str(&j, "scope", fl_scope_name(rows[i].scope));
            cli_json_time(&j, "created_at", rows[i].created_at);
            cli_json_time(&j, "last_used_at", rows[i].last_used_at);
            cli_json_time(&j, "revoked_at", rows[i].revoked_at);
            cli_json_end(&j);
        }
        cli_json_end(&j);
        cli_json_end(&j);
        rc = cli_json_emit(&j);
    } else if (rc == 0 && n == 0) {
        puts("no tokens");
    } else if (rc == 0) {
        struct cli_table t;
        cli_table_init(&t, 7, "ID", "NAME", "USER", "SCOPE", "CREATED", "LAST USED", "REVOKED");
        for (size_t i = 0; i < n; i++) {
            char id[24], t1[40], t2[40], t3[40];
            snprintf(id, sizeof(id), "%llu", (unsigned long long)rows[i].id);
            cli_table_add(&t, id, rows[i].name, rows[i].login, fl_scope_name(rows[i].scope),
                          cli_time(rows[i].created_at, false, t1),
                          cli_time(rows[i].last_used_at, false, t2),
                          cli_time(rows[i].revoked_at, false, t3));
        }
        cli_table_print(&t, stdout, "");
        cli_table_release(&t);
    }
    fl_token_rows_free(rows, n);
    cli_source_close(src);
    return rc ? cli_fail(rc, &err) : 0;
}

static int run_token(const struct cli_command *cmd, int argc, char **argv)
{
    static const char *const verbs[] = {"create", "revoke", "list"};
    struct cli_common c;
    int ex, v;
    if ((ex = cli_common_init(&c, cmd)))
        return ex;
    v = cli_people_verb(&c, argc, argv, verbs, 3);
    if (v < 0)
        return v == -2 ? 0 : 1;
    if (v == 0)
        return token_create(&c, argc - 1, argv + 1);
    if (v == 1)
        return token_revoke(&c, argc - 1, argv + 1);
    return token_list(&c, argc - 1, argv + 1);
}

const struct cli_command cli_cmd_department = {"department", run_department,
                                               "add or list departments", department_usage};
const struct cli_command cli_cmd_token = {"token", run_token, "create, revoke or list API tokens",
                                          token_usage};
