/* `flowd complete TASK_ID` and `flowd action TASK_ID --kind K`: the two things a person
 * does to a task. The task is looked up read-only first, so an unknown or closed task is
 * reported precisely (exit 2 or 3) without touching the writer; the command itself goes
 * through the service, where the engine enforces the rules (a required main action must
 * be recorded before completion). Afterwards the instance is shown as it now stands. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_source.h"

static const char complete_usage[] =
    "usage: flowd complete [options] TASK_ID\n\n"
    "Complete an open task, optionally setting variables, and print the instance with\n"
    "its next open tasks. A task whose stage requires a main action is refused (exit 3)\n"
    "until the action is recorded with 'flowd action'.\n\n"
    "options:\n"
    "  --var NAME=VALUE       set a variable (repeatable; see 'flowd help start')\n"
    "  --var NAME:TYPE=VALUE  TYPE: number, string, bool, json or date\n"
    "  --as USER              who completes it\n";

static const char action_usage[] =
    "usage: flowd action [options] TASK_ID --kind KIND\n\n"
    "Record that the main action of a task was done (a document generated, an e-mail\n"
    "sent, a call logged, a field filled).\n\n"
    "options:\n"
    "  --kind KIND    what was done: document, email, call, field, ...\n"
    "  --ref REF      what it refers to (document or template name, field name, ...)\n"
    "  --as USER      who did it\n";

enum { OPT_VAR = CLI_OPT_CMD, OPT_AS, OPT_KIND, OPT_REF };

/* Look the task up; an unknown task is FL_ENOTFOUND, a closed one FL_ECONFLICT. Fills
 * *instance_id, *last_seq (the instance's history so far) and the task's display name. */
static int check_task(struct cli_source *src, uint64_t task_id, uint64_t *instance_id,
                      uint64_t *last_seq, char *name, size_t name_size, struct fl_error *err)
{
    struct fl_task_row t;
    bool have = false;
    int rc;

    memset(&t, 0, sizeof(t));
    if ((rc = src->ops->require(src, err)))
        goto out;
    if ((rc = src->ops->task_get(src, task_id, &t, err))) {
        if (rc == FL_ENOTFOUND)
            fl_error_set(err, rc, "task %llu not found", (unsigned long long)task_id);
        goto out;
    }
    have = true;
    if (t.status != FL_TASK_OPEN) {
        rc = fl_error_set(err, FL_ECONFLICT, "task %llu is already %s%s%s",
                          (unsigned long long)task_id, cli_task_status_name(t.status),
                          t.closed_by ? " by " : "", t.closed_by ? t.closed_by : "");
        goto out;
    }
    *instance_id = t.instance_id;
    snprintf(name, name_size, "%s", t.name ? t.name : t.node_id ? t.node_id : "");
    rc = cli_history_last_seq(src, t.instance_id, last_seq, err);
out:
    if (have)
        fl_task_row_release(&t);
    return rc;
}

/* Run cmd (for task_id) through the source and report the instance. */
static int run_task_command(const struct cli_common *c, struct fl_command *cmd, const char *verb)
{
    struct fl_error err;
    struct cli_source *src = NULL;
    struct fl_result res;
    uint64_t last_seq = 0;
    char name[256], headline[512];
    int rc, ex;

    fl_error_clear(&err);
    if ((rc = cli_source_open(c, &src, &err)) ||
        (rc = check_task(src, cmd->target_id, &cmd->instance_id, &last_seq, name, sizeof(name),
                         &err))) {
        ex = cli_fail(rc, &err);
        goto out;
    }
    if ((rc = src->ops->run(src, cmd, &res))) {
        ex = cli_fail(rc, &res.err);
        goto out;
    }
    snprintf(headline, sizeof(headline), "%s task %llu%s%s%s", verb,
             (unsigned long long)cmd->target_id, name[0] ? " (" : "", name, name[0] ? ")" : "");
    ex = cli_report_instance(c, src, headline, cmd->instance_id, last_seq, cmd->target_id);
out:
    cli_source_close(src);
    return ex;
}

static int task_operand(const struct cli_common *c, int argc, char **argv, uint64_t *task_id)
{
    struct fl_error err;
    int rc;

    if (optind == argc)
        return cli_usage_error(c, "missing TASK_ID");
    if (optind != argc - 1)
        return cli_usage_error(c, "unexpected argument '%s'", argv[optind + 1]);
    fl_error_clear(&err);
    if ((rc = cli_parse_id(argv[optind], "task", task_id, &err)))
        return cli_fail(rc, &err);
    return 0;
}

static int run_complete(const struct cli_command *command, int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
                                             {"var", required_argument, NULL, OPT_VAR},
                                             {"as", required_argument, NULL, OPT_AS},
                                             {NULL, 0, NULL, 0}};
    struct cli_common c;
    struct fl_error err;
    struct fl_value *vars = NULL;
    struct fl_command cmd;
    int rc, opt, ex;

    if ((ex = cli_common_init(&c, command)))
        return ex;
    memset(&cmd, 0, sizeof(cmd));
    cmd.kind = FL_CMD_COMPLETE_TASK;
    fl_error_clear(&err);
    while ((opt = cli_getopt(&c, argc, argv, longopts)) != CLI_GETOPT_END) {
        switch (opt) {
        case OPT_VAR:
            if (!vars)
                vars = fl_value_context_new();
            if ((rc = cli_var_parse(optarg, vars, &err))) {
                ex = cli_fail(rc, &err);
                goto out;
            }
            break;
        case OPT_AS:
            cmd.actor = optarg;
            break;
        default:
            ex = opt == CLI_GETOPT_HELP ? 0 : 1;
            goto out;
        }
    }
    if ((ex = task_operand(&c, argc, argv, &cmd.target_id)))
        goto out;
    cmd.variables = vars;
    ex = run_task_command(&c, &cmd, "completed");
out:
    fl_value_unref(vars);
    return ex;
}

const struct cli_command cli_cmd_complete = {
    "complete", run_complete, "complete a task, optionally setting variables", complete_usage};

static int run_action(const struct cli_command *command, int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
                                             {"kind", required_argument, NULL, OPT_KIND},
                                             {"ref", required_argument, NULL, OPT_REF},
                                             {"as", required_argument, NULL, OPT_AS},
                                             {NULL, 0, NULL, 0}};
    struct cli_common c;
    struct fl_command cmd;
    int opt, ex;

    if ((ex = cli_common_init(&c, command)))
        return ex;
    memset(&cmd, 0, sizeof(cmd));
    cmd.kind = FL_CMD_RECORD_ACTION;
    while ((opt = cli_getopt(&c, argc, argv, longopts)) != CLI_GETOPT_END) {
        switch (opt) {
        case OPT_KIND:
            cmd.action_kind = optarg;
            break;
        case OPT_REF:
            cmd.action_ref = optarg;
            break;
        case OPT_AS:
            cmd.actor = optarg;
            break;
        default:
            return opt == CLI_GETOPT_HELP ? 0 : 1;
        }
    }
    if ((ex = task_operand(&c, argc, argv, &cmd.target_id)))
        return ex;
    if (!cmd.action_kind || !cmd.action_kind[0])
        return cli_usage_error(&c, "missing --kind KIND");
    return run_task_command(&c, &cmd, "recorded the main action of");
}

const struct cli_command cli_cmd_action = {"action", run_action, "record the main action of a task",
                                           action_usage};
