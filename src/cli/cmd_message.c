/* `flowd message NAME` publishes a message and `flowd signal NAME` broadcasts a signal,
 * through the service (local database) or the server (--server), and print what became of
 * it: the instance it reached or started, or the buffered message's id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_source.h"
#include "flowd/timecalc.h"

static const char message_usage[] =
    "usage: flowd message [options] NAME\n\n"
    "Publish message NAME. It reaches the oldest subscription waiting for NAME with its\n"
    "correlation key (a receive task, a message catch or boundary event, an event-based\n"
    "gateway); else it starts the latest version of a process with a message start event\n"
    "NAME; else it is buffered until its time to live runs out, and a subscription opened\n"
    "meanwhile takes it. With --ttl 0 a message nothing waits for is refused (exit 2).\n\n"
    "options:\n"
    "  --key K             the correlation key\n"
    "  --var NAME=VALUE    a variable of the message (repeatable; as for flowd start)\n"
    "  --ttl D             time to live: an ISO 8601 duration (PT1H) or milliseconds;\n"
    "                      default: the server's (one hour)\n"
    "  --id ID             the message's own id: publishing it again within its time to\n"
    "                      live is answered as the first time\n"
    "  --as USER           who publishes it\n";

static const char signal_usage[] =
    "usage: flowd signal [options] NAME\n\n"
    "Broadcast signal NAME to every instance waiting for it and start every process with\n"
    "a signal start event NAME; prints how many were reached and started.\n\n"
    "options:\n"
    "  --var NAME=VALUE    a variable of the signal (repeatable; as for flowd start)\n"
    "  --as USER           who throws it\n";

enum { OPT_KEY = CLI_OPT_CMD, OPT_VAR, OPT_TTL, OPT_ID, OPT_AS };

static int parse_ttl(const char *s, int64_t now, int64_t *out)
{
    struct fl_iso_duration d;
    char *end;
    long long v;
    if (s[0] >= '0' && s[0] <= '9') {
        v = strtoll(s, &end, 10);
        if (*end || v < 0)
            return -1;
        *out = v;
        return 0;
    }
    if (fl_iso_duration_parse(s, &d, NULL) != 0 || d.negative)
        return -1;
    *out = fl_iso_duration_add(now, &d) - now;
    return *out < 0 ? -1 : 0;
}

static const char *outcome_name(int o)
{
    return o == FL_MESSAGE_CORRELATED ? "correlated"
           : o == FL_MESSAGE_STARTED  ? "started"
                                      : "buffered";
}

static int print_result(const struct cli_common *c, bool signal, const char *name,
                        const struct fl_result *res)
{
    struct cli_json j;
    if (c->json) {
        cli_json_init(&j);
        cli_json_object(&j, NULL);
        if (signal) {
            cli_json_str(&j, "signal", name);
            cli_json_uint(&j, "correlated", res->n_correlated);
            cli_json_uint(&j, "started", res->n_started);
        } else {
            cli_json_str(&j, "message", name);
            cli_json_str(&j, "outcome", outcome_name(res->message_outcome));
            if (res->instance_id)
                cli_json_uint(&j, "instance_id", res->instance_id);
            else
                cli_json_null(&j, "instance_id");
            if (res->message_id)
                cli_json_uint(&j, "message_id", res->message_id);
            else
                cli_json_null(&j, "message_id");
            cli_json_bool(&j, "duplicate", res->duplicate);
        }
        cli_json_end(&j);
        return cli_json_emit(&j) ? 1 : 0;
    }
    if (signal) {
        printf("signal '%s': %u waiting instance%s reached, %u started\n", name, res->n_correlated,
               res->n_correlated == 1 ? "" : "s", res->n_started);
    } else if (res->message_outcome == FL_MESSAGE_CORRELATED) {
        printf("message '%s' correlated to instance %llu%s\n", name,
               (unsigned long long)res->instance_id, res->duplicate ? " (already published)" : "");
    } else if (res->message_outcome == FL_MESSAGE_STARTED) {
        printf("message '%s' started instance %llu%s\n", name, (unsigned long long)res->instance_id,
               res->duplicate ? " (already published)" : "");
    } else {
        printf("message '%s' buffered as message %llu%s\n", name,
               (unsigned long long)res->message_id, res->duplicate ? " (already published)" : "");
    }
    return 0;
}

static int run_publish(const struct cli_command *cmd, int argc, char **argv, bool signal)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
                                             {"key", required_argument, NULL, OPT_KEY},
                                             {"var", required_argument, NULL, OPT_VAR},
                                             {"ttl", required_argument, NULL, OPT_TTL},
                                             {"id", required_argument, NULL, OPT_ID},
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
    command.kind = signal ? FL_CMD_BROADCAST_SIGNAL : FL_CMD_PUBLISH_MESSAGE;
    command.ttl_ms = -1;
    fl_error_clear(&err);
    while ((opt = cli_getopt(&c, argc, argv, longopts)) != CLI_GETOPT_END) {
        switch (opt) {
        case OPT_KEY:
        case OPT_TTL:
        case OPT_ID:
            if (signal) {
                ex = cli_usage_error(&c, "a signal has no %s", argv[optind - 1]);
                goto out;
            }
            if (opt == OPT_KEY)
                command.correlation_key = optarg;
            else if (opt == OPT_ID)
                command.message_id = optarg;
            else if (parse_ttl(optarg, c.now_ms, &command.ttl_ms)) {
                ex = cli_usage_error(&c, "--ttl '%s' is neither an ISO 8601 duration nor ms",
                                     optarg);
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
        case OPT_AS:
            command.actor = optarg;
            break;
        default:
            ex = opt == CLI_GETOPT_HELP ? 0 : 1;
            goto out;
        }
    }
    if (optind != argc - 1) {
        ex = optind == argc ? cli_usage_error(&c, "missing %s NAME", signal ? "signal" : "message")
                            : cli_usage_error(&c, "unexpected argument '%s'", argv[optind + 1]);
        goto out;
    }
    command.message_name = argv[optind];
    command.variables = vars;
    if ((rc = cli_source_open(&c, &src, &err))) {
        ex = cli_fail(rc, &err);
        goto out;
    }
    if ((rc = src->ops->run(src, &command, &res))) {
        ex = cli_fail(rc, &res.err);
        goto out;
    }
    ex = print_result(&c, signal, command.message_name, &res);
out:
    cli_source_close(src);
    fl_value_unref(vars);
    return ex;
}

static int run_message(const struct cli_command *cmd, int argc, char **argv)
{
    return run_publish(cmd, argc, argv, false);
}

static int run_signal(const struct cli_command *cmd, int argc, char **argv)
{
    return run_publish(cmd, argc, argv, true);
}

const struct cli_command cli_cmd_message = {
    "message", run_message, "publish a message to waiting or new instances", message_usage};
const struct cli_command cli_cmd_signal = {
    "signal", run_signal, "broadcast a signal to every waiting instance", signal_usage};
