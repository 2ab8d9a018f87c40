/* `flowd user` and `flowd role`: add and list the people who work in flowd and the
 * process roles they hold. Passwords are hashed with argon2id before they reach the store;
 * a user added without --password-stdin gets a generated password printed once. No
 * default password exists anywhere. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_source.h"
#include "cli/people.h"
#include "flowd/alloc.h"
#include "flowd/auth.h"

static const char user_usage[] =
    "usage: flowd user add LOGIN [options]\n"
    "       flowd user list\n"
    "       flowd user passwd LOGIN [--password-stdin]\n"
    "       flowd user disable|enable LOGIN\n\n"
    "Add a user, list users with their department and roles, set a new password (which\n"
    "ends the user's sessions), or disable a user (no login, tokens refused, sessions ended)\n"
    "and enable them again.\n\n"
    "options of add:\n"
    "  --admin              the user administers flowd\n"
    "  --name NAME          display name\n"
    "  --email EMAIL        e-mail address\n"
    "  --department NAME    the user's department (must exist)\n"
    "  --role ROLE          a role the user holds (repeatable; must exist)\n"
    "  --password-stdin     read the password from the first line of standard input;\n"
    "                       without it a strong password is generated and printed once\n";

static const char role_usage[] =
    "usage: flowd role add NAME [--description TEXT]\n"
    "       flowd role list\n\n"
    "Add a process role (sales_manager, accountant, ...), or list roles.\n";

enum {
    OPT_ADMIN = CLI_OPT_CMD,
    OPT_NAME,
    OPT_EMAIL,
    OPT_DEPARTMENT,
    OPT_ROLE,
    OPT_PWSTDIN,
    OPT_DESCRIPTION
};

int cli_people_open(const struct cli_common *c, struct fl_store **out, struct fl_error *err)
{
    if (cli_local_only(c, err))
        return FL_EUSAGE;
    return fl_store_open(c->db, NULL, out, err);
}

int cli_people_verb(struct cli_common *c, int argc, char **argv, const char *const *verbs,
                    size_t n_verbs)
{
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            cli_print_usage(c->cmd, stdout);
            return -2;
        }
        cli_usage_error(c, "missing subcommand");
        return -1;
    }
    for (size_t i = 0; i < n_verbs; i++)
        if (!strcmp(argv[1], verbs[i]))
            return (int)i;
    cli_usage_error(c, "unknown subcommand '%s'", argv[1]);
    return -1;
}

/* The first line of standard input, without its line end; refuses an empty one. */
static int read_password(char **out, struct fl_error *err)
{
    struct fl_buf b = FL_BUF_INIT;
    int ch;
    *out = NULL;
    while ((ch = getchar()) != EOF && ch != '\n') {
        if (b.len >= 1024) {
            fl_buf_release(&b);
            return fl_error_set(err, FL_EINVAL, "password longer than 1024 bytes");
        }
        fl_buf_addc(&b, (char)ch);
    }
    if (b.len && b.ptr[b.len - 1] == '\r')
        b.ptr[--b.len] = '\0';
    if (b.len == 0) {
        fl_buf_release(&b);
        return fl_error_set(err, FL_EINVAL, "empty password on standard input");
    }
    *out = fl_buf_detach(&b, NULL);
    return 0;
}

static int user_add(struct cli_common *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"admin", no_argument, NULL, OPT_ADMIN},
        {"name", required_argument, NULL, OPT_NAME},
        {"email", required_argument, NULL, OPT_EMAIL},
        {"department", required_argument, NULL, OPT_DEPARTMENT},
        {"role", required_argument, NULL, OPT_ROLE},
        {"password-stdin", no_argument, NULL, OPT_PWSTDIN},
        {NULL, 0, NULL, 0}};
    struct fl_user_new u = {0};
    const char **roles = NULL;
    size_t cap = 0;
    bool pw_stdin = false;
    char *password = NULL;
    struct cli_source *src = NULL;
    struct fl_error err;
    uint64_t id = 0;
    int rc = 0, opt;

    fl_error_clear(&err);
    while ((opt = cli_getopt(c, argc, argv, longopts)) != CLI_GETOPT_END) {
        switch (opt) {
        case OPT_ADMIN:
            u.admin = true;
            break;
        case OPT_NAME:
            u.display_name = optarg;
            break;
        case OPT_EMAIL:
            u.email = optarg;
            break;
        case OPT_DEPARTMENT:
            u.department = optarg;
            break;
        case OPT_ROLE:
            fl_grow(&roles, &cap, u.n_roles + 1, sizeof(*roles));
            roles[u.n_roles++] = optarg;
            break;
        case OPT_PWSTDIN:
            pw_stdin = true;
            break;
        default:
            free(roles);
            return opt == CLI_GETOPT_HELP ? 0 : 1;
        }
    }
    u.roles = roles;
    if (optind >= argc) {
        free(roles);
        return cli_usage_error(c, "user add needs a LOGIN");
    }
    if (optind + 1 < argc) {
        free(roles);
        return cli_usage_error(c, "unexpected argument '%s'", argv[optind + 1]);
    }
    u.login = argv[optind];
    if (pw_stdin)
        rc = read_password(&password, &err);
    else
        rc = fl_password_generate(&password, &err);
    if (rc == 0)
        rc = cli_source_open(c, &src, &err);
    if (rc == 0)
        rc = src->ops->user_add(src, &u, password, &id, &err);
    if (rc == 0) {
        if (c->json) {
            struct cli_json j;
            cli_json_init(&j);
            cli_json_object(&j, NULL);
            cli_json_uint(&j, "id", id);
            cli_json_str(&j, "login", u.login);
            cli_json_bool(&j, "admin", u.admin);
            if (!pw_stdin)
                cli_json_str(&j, "password", password);
            cli_json_end(&j);
            rc = cli_json_emit(&j);
        } else {
            printf("user '%s' added (id %llu%s)\n", u.login, (unsigned long long)id,
                   u.admin ? ", admin" : "");
            if (!pw_stdin) {
                printf("password: %s\n", password);
                fputs("flowd: note: the password is shown only this once\n", stderr);
            }
        }
    }
    cli_source_close(src);
    if (password)
        memset(password, 0, strlen(password));
    free(password);
    free(roles);
    return rc ? cli_fail(rc, &err) : 0;
}

static char *join_roles(const struct fl_strlist *l)
{
    struct fl_buf b = FL_BUF_INIT;
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            fl_buf_addc(&b, ',');
        fl_buf_adds(&b, l->items[i]);
    }
    return fl_buf_detach(&b, NULL);
}

static int user_list(struct cli_common *c, int argc, char **argv)
{
    struct cli_source *src = NULL;
    struct fl_user_row *rows = NULL;
    struct fl_error err;
    size_t n = 0;
    int rc;

    fl_error_clear(&err);
    if ((rc = cli_no_operands(c, argc, argv)) >= 0)
        return rc;
    if ((rc = cli_source_open(c, &src, &err)) == 0 && (rc = src->ops->require(src, &err)) == 0)
        rc = src->ops->user_list(src, &rows, &n, &err);
    if (rc == 0 && c->json) {
        struct cli_json j;
        cli_json_init(&j);
        cli_json_object(&j, NULL);
        cli_json_array(&j, "users");
        for (size_t i = 0; i < n; i++) {
            cli_json_object(&j, NULL);
            cli_json_uint(&j, "id", rows[i].id);
            cli_json_str(&j, "login", rows[i].login);
            cli_json_str(&j, "name", rows[i].display_name);
            cli_json_str(&j, "email", rows[i].email);
            cli_json_bool(&j, "admin", rows[i].admin);
            cli_json_bool(&j, "disabled", rows[i].disabled);
            cli_json_str(&j, "department", rows[i].department);
            cli_json_array(&j, "roles");
            for (size_t k = 0; k < rows[i].roles.n; k++)
                cli_json_str(&j, NULL, rows[i].roles.items[k]);
            cli_json_end(&j);
            cli_json_time(&j, "created_at", rows[i].created_at);
            cli_json_end(&j);
        }
        cli_json_end(&j);
        cli_json_end(&j);
        rc = cli_json_emit(&j);
    } else if (rc == 0 && n == 0) {
        puts("no users");
    } else if (rc == 0) {
        struct cli_table t;
        cli_table_init(&t, 7, "ID", "LOGIN", "NAME", "EMAIL", "DEPARTMENT", "ROLES", "FLAGS");
        for (size_t i = 0; i < n; i++) {
            char id[24], flags[32];
            char *roles = join_roles(&rows[i].roles);
            snprintf(id, sizeof(id), "%llu", (unsigned long long)rows[i].id);
            snprintf(flags, sizeof(flags), "%s%s%s", rows[i].admin ? "admin" : "",
                     rows[i].admin && rows[i].disabled ? "," : "",
                     rows[i].disabled ? "disabled" : "");
            cli_table_add(&t, id, rows[i].login, rows[i].display_name, rows[i].email,
                          rows[i].department, *roles ? roles : NULL, *flags ? flags : NULL);
            free(roles);
        }
        cli_table_print(&t, stdout, "");
        cli_table_release(&t);
    }
    fl_user_rows_free(rows, n);
    cli_source_close(src);
    return rc ? cli_fail(rc, &err) : 0;
}

/* passwd (verb 2), disable (3), enable (4): one LOGIN operand. */
static int user_change(struct cli_common *c, int verb, int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
                                             {"password-stdin", no_argument, NULL, OPT_PWSTDIN},
                                             {NULL, 0, NULL, 0}};
    static const enum cli_user_change what[] = {0, 0, CLI_USER_PASSWORD, CLI_USER_DISABLE,
                                                CLI_USER_ENABLE};
    bool pw_stdin = false;
    char *password = NULL;
    struct cli_source *src = NULL;
    struct fl_error err;
    const char *login;
    int rc = 0, opt;

    fl_error_clear(&err);
    while ((opt = cli_getopt(c, argc, argv, longopts)) != CLI_GETOPT_END) {
        if (opt == OPT_PWSTDIN && verb != 2)
            return cli_usage_error(c, "--password-stdin is only for passwd");
        if (opt != OPT_PWSTDIN)
            return opt == CLI_GETOPT_HELP ? 0 : 1;
        pw_stdin = true;
    }
    if (optind >= argc)
        return cli_usage_error(c, "missing LOGIN");
    if (optind + 1 < argc)
        return cli_usage_error(c, "unexpected argument '%s'", argv[optind + 1]);
    login = argv[optind];
    if ((rc = cli_source_open(c, &src, &err)) == 0 && (rc = src->ops->require(src, &err)) == 0 &&
        verb == 2)
        rc = pw_stdin ? read_password(&password, &err) : fl_password_generate(&password, &err);
    if (rc == 0)
        rc = src->ops->user_change(src, login, what[verb], password, &err);
    if (rc == 0) {
        static const char *const done[] = {"", "", "password changed", "disabled", "enabled"};
        if (c->json) {
            struct cli_json j;
            cli_json_init(&j);
            cli_json_object(&j, NULL);
            cli_json_str(&j, "login", login);
            if (verb == 2 && !pw_stdin)
                cli_json_str(&j, "password", password);
            else if (verb != 2)
                cli_json_bool(&j, "disabled", verb == 3);
            cli_json_end(&j);
            rc = cli_json_emit(&j);
        } else {
            printf("user '%s' %s\n", login, done[verb]);
            if (verb == 2 && !pw_stdin) {
                printf("password: %s\n", password);
                fputs("flowd: note: the password is shown only this once\n", stderr);
            }
        }
    }
    cli_source_close(src);
    if (password)
        memset(password, 0, strlen(password));
    free(password);
    return rc ? cli_fail(rc, &err) : 0;
}

static int run_user(const struct cli_command *cmd, int argc, char **argv)
{
    static const char *const verbs[] = {"add", "list", "passwd", "disable", "enable"};
    struct cli_common c;
    int ex, v;
    if ((ex = cli_common_init(&c, cmd)))
        return ex;
    v = cli_people_verb(&c, argc, argv, verbs, 5);
    if (v < 0)
        return v == -2 ? 0 : 1;
    if (v == 0)
        return user_add(&c, argc - 1, argv + 1);
    if (v == 1)
        return user_list(&c, argc - 1, argv + 1);
    return user_change(&c, v, argc - 1, argv + 1);
}

static int role_add(struct cli_common *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"description", required_argument, NULL, OPT_DESCRIPTION},
        {NULL, 0, NULL, 0}};
    const char *description = NULL;
    struct cli_source *src = NULL;
    struct fl_error err;
    uint64_t id = 0;
    int rc, opt;

    fl_error_clear(&err);
    while ((opt = cli_getopt(c, argc, argv, longopts)) != CLI_GETOPT_END) {
        if (opt != OPT_DESCRIPTION)
            return opt == CLI_GETOPT_HELP ? 0 : 1;
        description = optarg;
    }
    if (optind >= argc)
        return cli_usage_error(c, "role add needs a NAME");
    if (optind + 1 < argc)
        return cli_usage_error(c, "unexpected argument '%s'", argv[optind + 1]);
    if ((rc = cli_source_open(c, &src, &err)) == 0)
        rc = src->ops->role_add(src, argv[optind], description, &id, &err);
    if (rc == 0) {
        if (c->json) {
            struct cli_json j;
            cli_json_init(&j);
            cli_json_object(&j, NULL);
            cli_json_uint(&j, "id", id);
            cli_json_str(&j, "name", argv[optind]);
            cli_json_end(&j);
            rc = cli_json_emit(&j);
        } else {
            printf("role '%s' added (id %llu)\n", argv[optind], (unsigned long long)id);
        }
    }
    cli_source_close(src);
    return rc ? cli_fail(rc, &err) : 0;
}

static int role_list(struct cli_common *c, int argc, char **argv)
{
    struct cli_source *src = NULL;
    struct fl_role_row *rows = NULL;
    struct fl_error err;
    size_t n = 0;
    int rc;

    fl_error_clear(&err);
    if ((rc = cli_no_operands(c, argc, argv)) >= 0)
        return rc;
    if ((rc = cli_source_open(c, &src, &err)) == 0 && (rc = src->ops->require(src, &err)) == 0)
        rc = src->ops->role_list(src, &rows, &n, &err);
    if (rc == 0 && c->json) {
        struct cli_json j;
        cli_json_init(&j);
        cli_json_object(&j, NULL);
        cli_json_array(&j, "roles");
        for (size_t i = 0; i < n; i++) {
            cli_json_object(&j, NULL);
            cli_json_uint(&j, "id", rows[i].id);
            cli_json_str(&j, "name", rows[i].name);
            cli_json_str(&j, "description", rows[i].description);
            cli_json_end(&j);
        }
        cli_json_end(&j);
        cli_json_end(&j);
        rc = cli_json_emit(&j);
    } else if (rc == 0 && n == 0) {
        puts("no roles");
    } else if (rc == 0) {
        struct cli_table t;
        cli_table_init(&t, 3, "ID", "NAME", "DESCRIPTION");
        for (size_t i = 0; i < n; i++) {
            char id[24];
            snprintf(id, sizeof(id), "%llu", (unsigned long long)rows[i].id);
            cli_table_add(&t, id, rows[i].name, rows[i].description);
        }
        cli_table_print(&t, stdout, "");
        cli_table_release(&t);
    }
    fl_role_rows_free(rows, n);
    cli_source_close(src);
    return rc ? cli_fail(rc, &err) : 0;
}

static int run_role(const struct cli_command *cmd, int argc, char **argv)
{
    static const char *const verbs[] = {"add", "list"};
    struct cli_common c;
    int ex, v;
    if ((ex = cli_common_init(&c, cmd)))
        return ex;
    v = cli_people_verb(&c, argc, argv, verbs, 2);
    if (v < 0)
        return v == -2 ? 0 : 1;
    return v == 0 ? role_add(&c, argc - 1, argv + 1) : role_list(&c, argc - 1, argv + 1);
}

const struct cli_command cli_cmd_user = {"user", run_user, "add, list, disable users; passwords",
                                         user_usage};
const struct cli_command cli_cmd_role = {"role", run_role, "add or list roles", role_usage};
