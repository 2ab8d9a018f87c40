/* `flowd start KEY`: start an instance of a deployed process through the service (so it is
 * durable when we print it), then read it back and show its state, open tasks and any
 * incident the start ran into (say, a gateway condition on a variable nobody gave). */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_source.h"

static const char start_usage[] =
    "usage: flowd start [options] KEY\n\n"
    "Start an instance (a case) of the latest version of process KEY and print it with\n"
    "its open tasks. If the process stops on an incident (for example a condition on an\n"
    "unknown variable) the incident is printed and the exit code is 3.\n\n"
    "options:\n"
    "  --version N         start version N instead of the latest\n"
    "  --var NAME=VALUE    set a variable (repeatable); VALUE is read as a JSON literal\n"
    "                      when it is one (12.5, true, null, \"text\", [1,2], {\"a\":1}),\n"
    "                      else as a string\n"
    "  --var NAME:TYPE=VALUE  with TYPE number, string, bool, json or date (YYYY-MM-DD)\n"
    "  --business-key K    the business key of the case (a deal number, ...)\n"
    "  --as USER           who starts it\n";

enum { OPT_VERSION = CLI_OPT_CMD, OPT_VAR, OPT_BUSINESS_KEY, OPT_AS };

int cli_report_instance(const struct cli_common *c, struct cli_source *src, const char *headline,
                        uint64_t instance_id, uint64_t after_seq, uint64_t task_id)
{
    struct fl_instance_row inst;
    struct fl_task_row task;
    bool have_task = false;
    struct fl_error err;
    struct cli_json j;
    bool have_inst = false, json_open = false;
    size_t n_incidents = 0;
    int rc, ex = 0;

    fl_error_clear(&err);
    memset(&inst, 0, sizeof(inst));
    memset(&task, 0, sizeof(task));
    if ((rc = src->ops->instance_get(src, instance_id, &inst, &err)))
        goto out;
    have_inst = true;
    if (c->json) {
        cli_json_init(&j);
        json_open = true;
        cli_json_object(&j, NULL);
        if (task_id) {
            if ((rc = src->ops->task_get(src, task_id, &task, &err)))
                goto out;
            have_task = true;
            cli_json_task(&j, "task", &task, c->now_ms);
        }
        cli_json_instance(&j, "instance", &inst, true);
        if ((rc = cli_json_open_tasks(src, &j, instance_id, c->now_ms, &err)) ||
            (rc = cli_incidents(src, &inst, after_seq, &j, &n_incidents, &err)))
            goto out;
        cli_json_end(&j);
        json_open = false;
        if ((rc = cli_json_emit(&j)))
            goto out;
        if (n_incidents)
            fprintf(stderr, "flowd: instance %llu stopped with an incident (see \"incidents\")\n",
                    (unsigned long long)instance_id);
    } else {
        /* A headline that is a verb ("started") leads the instance line itself. */
        if (strchr(headline, ' '))
            printf("%s\n", headline);
        printf("%s%sinstance %llu of %s version %d%s%s%s: %s%s\n",
               strchr(headline, ' ') ? "" : headline, strchr(headline, ' ') ? "" : " ",
               (unsigned long long)inst.id, inst.process_key ? inst.process_key : "?",
               (int)inst.version, inst.business_key ? " (business key " : "",
               inst.business_key ? inst.business_key : "", inst.business_key ? ")" : "",
               cli_instance_status_name(inst.status), inst.incident ? ", incident" : "");
        if (inst.status == FL_INSTANCE_ACTIVE &&
            (rc = cli_print_open_tasks(src, instance_id, c->now_ms, &err)))
            goto out;
        fflush(stdout);
        if ((rc = cli_incidents(src, &inst, after_seq, NULL, &n_incidents, &err)))
            goto out;
    }
    if (n_incidents)
        ex = fl_err_exit_code(FL_EREFUSED);
out:
    if (json_open)
        fl_buf_release(&j.buf);
    if (rc)
        ex = cli_fail(rc, &err);
    if (have_inst)
        fl_instance_row_release(&inst);
    if (have_task)
        fl_task_row_release(&task);
    return ex;
}

static int parse_version(const char *s, int32_t *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!s[0] || *end || v < 1 || v > INT32_MAX)
        return -1;
    *out = (int32_t)v;
    return 0;
}

static int run_start(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"version", required_argument, NULL, OPT_VERSION},
        {"var", required_argument, NULL, OPT_VAR},
        {"business-key", required_argument, NULL, OPT_BUSINESS_KEY},
        {"as", required_argument, NULL, OPT_AS},
        {NULL, 0, NULL, 0}};
    struct cli_common c;
    struct fl_error err;
    struct fl_value *vars = NULL;
    struct cli_source *src = NULL;
    struct fl_command command;
    struct fl_result res;
    int rc, opt, ex;

    if ((ex = cli_common_init(&c, cmd)))
        return ex;
    memset(&command, 0, sizeof(command));
    command.kind = FL_CMD_START;
    fl_error_clear(&err);
    while ((opt = cli_getopt(&c, argc, argv, longopts)) != CLI_GETOPT_END) {
        switch (opt) {
        case OPT_VERSION:
            if (parse_version(optarg, &command.process_version)) {
                ex = cli_usage_error(&c, "--version '%s' is not a version number", optarg);
                goto out;
            }
            break;
        case OPT_VAR:
            if (!vars)
                vars = fl_value_context_new();
            if ((rc = cli_var_parse(optarg, vars, &err))) {
                ex = cli_fail(rc, &err);
                goto out;
            }
            break;
        case OPT_BUSINESS_KEY:
            command.business_key = optarg;
            break;
        case OPT_AS:
            command.actor = optarg;
            break;
        default:
            ex = opt == CLI_GETOPT_HELP ? 0 : 1;
            goto out;
        }
    }
    if (optind != argc - 1) {
        if (optind == argc)
            ex = cli_usage_error(&c, "missing process KEY");
        else
            ex = cli_usage_error(&c, "unexpected argument '%s'", argv[optind + 1]);
        goto out;
    }
    command.process_key = argv[optind];
    command.variables = vars;

    if ((rc = cli_source_open(&c, &src, &err))) {
        ex = cli_fail(rc, &err);
        goto out;
    }
    if ((rc = src->ops->run(src, &command, &res))) {
        ex = cli_fail(rc, &res.err);
        goto out;
    }
    ex = cli_report_instance(&c, src, "started", res.instance_id, 0, 0);
out:
    cli_source_close(src);
    fl_value_unref(vars);
    return ex;
}

const struct cli_command cli_cmd_start = {
    "start", run_start, "start an instance of a process with variables", start_usage};
