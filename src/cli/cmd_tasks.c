/* `flowd tasks`: the task inbox read straight from the store (read-only), open tasks by
 * default, filtered by candidate role, assignee or instance, with due and overdue marks. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_source.h"

static const char tasks_usage[] =
    "usage: flowd tasks [options]\n\n"
    "List open tasks (with --all: closed ones too), oldest first. DUE is marked\n"
    "\"overdue\" past the due time and \"remind\" past the reminder.\n\n"
    "options:\n"
    "  --role R        tasks whose candidate roles include R\n"
    "  --assignee U    tasks assigned to user U\n"
    "  --instance ID   tasks of one instance\n"
    "  --all           include completed and cancelled tasks\n";

enum { OPT_ROLE = CLI_OPT_CMD, OPT_ASSIGNEE, OPT_INSTANCE, OPT_ALL };

static int run_tasks(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
                                             {"role", required_argument, NULL, OPT_ROLE},
                                             {"assignee", required_argument, NULL, OPT_ASSIGNEE},
                                             {"instance", required_argument, NULL, OPT_INSTANCE},
                                             {"all", no_argument, NULL, OPT_ALL},
                                             {NULL, 0, NULL, 0}};
    struct cli_common c;
    struct fl_error err;
    struct fl_task_query q = {.open_only = true, .limit = CLI_PAGE_ROWS};
    struct cli_source *src = NULL;
    struct fl_task_row *rows;
    struct cli_table t;
    struct cli_json j;
    size_t n, total = 0;
    int rc = 0, opt, ex;

    if ((ex = cli_common_init(&c, cmd)))
        return ex;
    fl_error_clear(&err);
    while ((opt = cli_getopt(&c, argc, argv, longopts)) != CLI_GETOPT_END) {
        switch (opt) {
        case OPT_ROLE:
            q.role = optarg;
            break;
        case OPT_ASSIGNEE:
            q.assignee = optarg;
            break;
        case OPT_INSTANCE:
            if ((rc = cli_parse_id(optarg, "instance", &q.instance_id, &err)))
                return cli_fail(rc, &err);
            break;
        case OPT_ALL:
            q.open_only = false;
            break;
        default:
            return opt == CLI_GETOPT_HELP ? 0 : 1;
        }
    }
    if (optind != argc)
        return cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
    if ((rc = cli_source_open(&c, &src, &err)) || (rc = src->ops->require(src, &err))) {
        cli_source_close(src);
        return cli_fail(rc, &err);
    }

    if (c.json) {
        cli_json_init(&j);
        cli_json_object(&j, NULL);
        cli_json_array(&j, "tasks");
    } else {
        cli_task_table_init(&t, !q.open_only);
    }
    /* Page through the store's capped listing with its id cursor. */
    for (;;) {
        rows = NULL;
        n = 0;
        if ((rc = src->ops->task_list(src, &q, &rows, &n, &err)))
            break;
        for (size_t i = 0; i < n; i++) {
            if (c.json)
                cli_json_task(&j, NULL, &rows[i], c.now_ms);
            else
                cli_task_table_add(&t, &rows[i], !q.open_only, c.now_ms);
        }
        total += n;
        if (n)
            q.after_id = rows[n - 1].id;
        if (rows)
            fl_task_rows_free(rows, n);
        if (n == 0) /* the store may cap a page below q.limit: only empty ends */
            break;
    }
    if (c.json) {
        cli_json_end(&j);
        cli_json_end(&j);
        if (rc)
            fl_buf_release(&j.buf);
        else
            rc = cli_json_emit(&j);
    } else {
        if (!rc && total == 0)
            fputs(q.open_only ? "no open tasks\n" : "no tasks\n", stdout);
        else if (!rc)
            cli_table_print(&t, stdout, "");
        cli_table_release(&t);
    }
    cli_source_close(src);
    return rc ? cli_fail(rc, &err) : 0;
}

const struct cli_command cli_cmd_tasks = {
    "tasks", run_tasks, "list open tasks (by role, assignee or instance)", tasks_usage};
