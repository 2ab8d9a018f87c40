/* `flowd instances`: list instances (cases) read-only from the store, all or only the
 * active ones, optionally of one process. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_source.h"

static const char instances_usage[] = "usage: flowd instances [options]\n\n"
                                      "List instances (cases), oldest first.\n\n"
                                      "options:\n"
                                      "  --active        only active instances\n"
                                      "  --process KEY   only instances of process KEY\n";

enum { OPT_ACTIVE = CLI_OPT_CMD, OPT_PROCESS };

static void add_row(struct cli_table *t, const struct fl_instance_row *r)
{
    char id[24], ver[16], status[32], started[40], ended[40];

    snprintf(id, sizeof(id), "%llu", (unsigned long long)r->id);
    snprintf(ver, sizeof(ver), "%d", (int)r->version);
    snprintf(status, sizeof(status), "%s%s", cli_instance_status_name(r->status),
             r->incident ? ", incident" : "");
    cli_table_add(t, id, r->process_key, ver, r->business_key, status,
                  cli_time(r->started_at, false, started), cli_time(r->ended_at, false, ended));
}

static int run_instances(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
                                             {"active", no_argument, NULL, OPT_ACTIVE},
                                             {"process", required_argument, NULL, OPT_PROCESS},
                                             {NULL, 0, NULL, 0}};
    struct cli_common c;
    struct fl_error err;
    struct fl_instance_query q = {.limit = CLI_PAGE_ROWS};
    struct cli_source *src = NULL;
    struct fl_instance_row *rows;
    struct cli_table t;
    struct cli_json j;
    size_t n, total = 0;
    int rc = 0, opt, ex;

    if ((ex = cli_common_init(&c, cmd)))
        return ex;
    fl_error_clear(&err);
    while ((opt = cli_getopt(&c, argc, argv, longopts)) != CLI_GETOPT_END) {
        switch (opt) {
        case OPT_ACTIVE:
            q.active_only = true;
            break;
        case OPT_PROCESS:
            q.process_key = optarg;
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
        cli_json_array(&j, "instances");
    } else {
        cli_table_init(&t, 7, "ID", "PROCESS", "VERSION", "BUSINESS KEY", "STATUS", "STARTED",
                       "ENDED");
    }
    for (;;) {
        rows = NULL;
        n = 0;
        if ((rc = src->ops->instance_list(src, &q, &rows, &n, &err)))
            break;
        for (size_t i = 0; i < n; i++) {
            if (c.json)
                cli_json_instance(&j, NULL, &rows[i], false);
            else
                add_row(&t, &rows[i]);
        }
        total += n;
        if (n)
            q.after_id = rows[n - 1].id;
        if (rows)
            fl_instance_rows_free(rows, n);
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
            fputs(q.active_only ? "no active instances\n" : "no instances\n", stdout);
        else if (!rc)
            cli_table_print(&t, stdout, "");
        cli_table_release(&t);
    }
    cli_source_close(src);
    return rc ? cli_fail(rc, &err) : 0;
}

const struct cli_command cli_cmd_instances = {"instances", run_instances, "list instances (cases)",
                                              instances_usage};
