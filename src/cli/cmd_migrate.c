/* `flowd migrate` and `flowd modify`: an administrator moves running instances to another
 * version of their process, or repairs one instance by cancelling tokens and starting
 * tokens before elements. Both go through the source (the local service, or a server's
 * admin API), where a migration is checked for every instance before any moves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_source.h"
#include "flowd/alloc.h"

static const char migrate_usage[] =
    "usage: flowd migrate [options] INSTANCE_ID --to VERSION\n"
    "       flowd migrate [options] --process KEY --from VERSION --to VERSION [INSTANCE_ID...]\n\n"
    "Move running instances to another version of their process. Each waiting token moves\n"
    "to the element of the same id in the new version, or to the one --map names; tasks\n"
    "and jobs keep their ids, boundary timers follow the new version. When one token of\n"
    "one instance cannot be placed (no such element, another kind of element), nothing\n"
    "moves (exit 1) and the element is named. Without INSTANCE_IDs, --process and --from\n"
    "migrate every active instance of that version.\n\n"
    "options:\n"
    "  --to VERSION      the version to migrate to\n"
    "  --process KEY     the process (for a batch)\n"
    "  --from VERSION    the version the instances run (for a batch)\n"
    "  --map FROM=TO     element FROM of the old version becomes TO (repeatable)\n";

static const char modify_usage[] =
    "usage: flowd modify [options] INSTANCE_ID [--cancel-token ID]... [--start-before NODE]...\n\n"
    "Repair a running instance: start a token before an element (as if it had arrived\n"
    "there) and cancel waiting tokens with their tasks, jobs and timers. Token ids are in\n"
    "the instance's history (token_id of task_created). An instance left with no token\n"
    "ends as cancelled.\n\n"
    "options:\n"
    "  --cancel-token ID     cancel this token (repeatable)\n"
    "  --start-before NODE   start a token before this element (repeatable)\n"
    "  --var NAME=VALUE      set a variable first (repeatable; see 'flowd help start')\n"
    "  --as USER             who does it (local database only)\n";

enum { OPT_TO = CLI_OPT_CMD, OPT_PROCESS, OPT_FROM, OPT_MAP, OPT_CANCEL, OPT_START, OPT_VAR, OPT_AS };

static int parse_version(const struct cli_common *c, const char *s, const char *what, int32_t *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || s[0] < '0' || s[0] > '9' || v < 1 || v > INT32_MAX)
        return cli_usage_error(c, "%s must be a version number, not '%s'", what, s);
    *out = (int32_t)v;
    return 0;
}

/* The operands as ids of `what`. */
static int parse_ids(int argc, char **argv, const char *what, uint64_t **ids, size_t *n)
{
    struct fl_error err;
    int rc;
    *n = 0;
    *ids = fl_calloc((size_t)(argc - optind) + 1, sizeof(**ids));
    fl_error_clear(&err);
    for (int i = optind; i < argc; i++)
        if ((rc = cli_parse_id(argv[i], what, &(*ids)[(*n)++], &err)))
            return cli_fail(rc, &err);
    return 0;
}

/* Named instances of a batch must run version `from` of key. */
static int check_versions(struct cli_source *src, const char *key, int32_t from,
                          const uint64_t *ids, size_t n, struct fl_error *err)
{
    for (size_t i = 0; i < n; i++) {
        struct fl_instance_row row;
        int rc = src->ops->instance_get(src, ids[i], &row, err);
        if (rc == FL_ENOTFOUND)
            return fl_error_set(err, rc, "instance %llu not found", (unsigned long long)ids[i]);
        if (rc)
            return rc;
        if (strcmp(row.process_key, key) || row.version != from)
            rc = fl_error_set(err, FL_ECONFLICT, "instance %llu runs version %d of '%s', not %d of '%s'",
                              (unsigned long long)ids[i], (int)row.version, row.process_key,
                              (int)from, key);
        fl_instance_row_release(&row);
        if (rc)
            return rc;
    }
    return 0;
}

static int run_migrate(const struct cli_command *command, int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
                                             {"to", required_argument, NULL, OPT_TO},
                                             {"process", required_argument, NULL, OPT_PROCESS},
                                             {"from", required_argument, NULL, OPT_FROM},
                                             {"map", required_argument, NULL, OPT_MAP},
                                             {NULL, 0, NULL, 0}};
    struct fl_migration_pair *pairs = NULL;
    struct cli_source *src = NULL;
    struct cli_common c;
    struct fl_error err;
    const char *key = NULL;
    uint64_t *ids = NULL;
    size_t n_pairs = 0, cap_pairs = 0, n_ids = 0, migrated = 0;
    int32_t from = 0, to = 0;
    int rc, opt, ex;

    if ((ex = cli_common_init(&c, command)))
        return ex;
    fl_error_clear(&err);
    while ((opt = cli_getopt(&c, argc, argv, longopts)) != CLI_GETOPT_END) {
        switch (opt) {
        case OPT_TO:
            if ((ex = parse_version(&c, optarg, "--to", &to)))
                goto out;
            break;
        case OPT_FROM:
            if ((ex = parse_version(&c, optarg, "--from", &from)))
                goto out;
            break;
        case OPT_PROCESS:
            key = optarg;
            break;
        case OPT_MAP: {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !eq[1]) {
                ex = cli_usage_error(&c, "--map wants FROM=TO, not '%s'", optarg);
                goto out;
            }
            *eq = '\0';
            fl_grow(&pairs, &cap_pairs, n_pairs + 1, sizeof(*pairs));
            pairs[n_pairs].from = optarg;
            pairs[n_pairs++].to = eq + 1;
            break;
        }
        default:
            ex = opt == CLI_GETOPT_HELP ? 0 : 1;
            goto out;
        }
    }
    if (!to) {
        ex = cli_usage_error(&c, "missing --to VERSION");
        goto out;
    }
    if ((ex = parse_ids(argc, argv, "instance", &ids, &n_ids)))
        goto out;
    if (n_ids == 0 && (!key || !from)) {
        ex = cli_usage_error(&c, "name an INSTANCE_ID, or --process KEY and --from VERSION");
        goto out;
    }
    if (!key && (from || n_ids > 1)) {
        ex = cli_usage_error(&c, "--from and several instances need --process KEY");
        goto out;
    }
    if (key && !from) {
        ex = cli_usage_error(&c, "--process needs --from VERSION");
        goto out;
    }
    if ((rc = cli_source_open(&c, &src, &err)) || (rc = src->ops->require(src, &err)) ||
        (key && (rc = check_versions(src, key, from, ids, n_ids, &err))) ||
        (rc = src->ops->migrate(src, key, from, to, ids, n_ids, pairs, n_pairs, &migrated, &err))) {
        ex = cli_fail(rc, &err);
        goto out;
    }
    if (c.json) {
        printf("{\"migrated\":%zu,\"to_version\":%d}\n", migrated, (int)to);
    } else if (!key) {
        printf("migrated instance %llu to version %d\n", (unsigned long long)ids[0], (int)to);
    } else {
        printf("migrated %zu instance%s of '%s' from version %d to version %d\n", migrated,
               migrated == 1 ? "" : "s", key, (int)from, (int)to);
    }
    ex = 0;
out:
    cli_source_close(src);
    free(ids);
    free(pairs);
    return ex;
}

const struct cli_command cli_cmd_migrate = {
    "migrate", run_migrate, "move running instances to another version (admin)", migrate_usage};

static int run_modify(const struct cli_command *command, int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
                                             {"cancel-token", required_argument, NULL, OPT_CANCEL},
                                             {"start-before", required_argument, NULL, OPT_START},
                                             {"var", required_argument, NULL, OPT_VAR},
                                             {"as", required_argument, NULL, OPT_AS},
                                             {NULL, 0, NULL, 0}};
    struct cli_source *src = NULL;
    struct fl_value *vars = NULL;
    struct fl_command cmd;
    struct cli_common c;
    struct fl_result res;
    struct fl_error err;
    const char **starts = NULL;
    uint64_t *tokens = NULL, last_seq = 0;
    size_t n_starts = 0, cap_starts = 0, n_tokens = 0, cap_tokens = 0;
    char headline[64];
    int rc, opt, ex;

    if ((ex = cli_common_init(&c, command)))
        return ex;
    memset(&cmd, 0, sizeof(cmd));
    cmd.kind = FL_CMD_MODIFY;
    fl_error_clear(&err);
    while ((opt = cli_getopt(&c, argc, argv, longopts)) != CLI_GETOPT_END) {
        switch (opt) {
        case OPT_CANCEL:
            fl_grow(&tokens, &cap_tokens, n_tokens + 1, sizeof(*tokens));
            if ((rc = cli_parse_id(optarg, "token", &tokens[n_tokens++], &err))) {
                ex = cli_fail(rc, &err);
                goto out;
            }
            break;
        case OPT_START:
            fl_grow(&starts, &cap_starts, n_starts + 1, sizeof(*starts));
            starts[n_starts++] = optarg;
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
            cmd.actor = optarg;
            break;
        default:
            ex = opt == CLI_GETOPT_HELP ? 0 : 1;
            goto out;
        }
    }
    if (optind != argc - 1) {
        ex = cli_usage_error(&c, optind == argc ? "missing INSTANCE_ID" : "one INSTANCE_ID only");
        goto out;
    }
    if ((rc = cli_parse_id(argv[optind], "instance", &cmd.instance_id, &err))) {
        ex = cli_fail(rc, &err);
        goto out;
    }
    if (!n_tokens && !n_starts) {
        ex = cli_usage_error(&c, "give --cancel-token ID or --start-before NODE");
        goto out;
    }
    cmd.cancel_tokens = tokens;
    cmd.n_cancel_tokens = n_tokens;
    cmd.start_before = starts;
    cmd.n_start_before = n_starts;
    cmd.variables = vars;
    if ((rc = cli_source_open(&c, &src, &err)) || (rc = src->ops->require(src, &err)) ||
        (rc = cli_history_last_seq(src, cmd.instance_id, &last_seq, &err))) {
        ex = cli_fail(rc, &err);
        goto out;
    }
    if ((rc = src->ops->run(src, &cmd, &res))) {
        ex = cli_fail(rc, &res.err);
        goto out;
    }
    snprintf(headline, sizeof(headline), "modified");
    ex = cli_report_instance(&c, src, headline, cmd.instance_id, last_seq, 0);
out:
    cli_source_close(src);
    fl_value_unref(vars);
    free(tokens);
    free(starts);
    return ex;
}

const struct cli_command cli_cmd_modify = {
    "modify", run_modify, "cancel tokens, start tokens before elements (admin)", modify_usage};
