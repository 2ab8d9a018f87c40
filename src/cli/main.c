/* flowd command-line entry point: a static table of subcommands, the overview help,
 * `flowd help CMD` and `flowd version`. Each subcommand lives in its own cmd_*.c file and
 * returns the process exit code (0 ok, 1 usage, 2 not found, 3 refused, 4 invalid model). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/people.h"

static const struct cli_command *const commands[] = {
    &cli_cmd_deploy,   &cli_cmd_definitions, &cli_cmd_start,      &cli_cmd_tasks,
    &cli_cmd_complete, &cli_cmd_action,      &cli_cmd_instances,  &cli_cmd_show,
    &cli_cmd_user,     &cli_cmd_role,        &cli_cmd_department, &cli_cmd_token,
    &cli_cmd_serve,    &cli_cmd_routes,      &cli_cmd_feel,      &cli_cmd_decide,
    &cli_cmd_conformance, &cli_cmd_notifications, &cli_cmd_control,
    &cli_cmd_calendar,
    &cli_cmd_message,  &cli_cmd_signal,
    &cli_cmd_migrate,  &cli_cmd_modify,
    &cli_cmd_company,  &cli_cmd_contact,     &cli_cmd_lead,       &cli_cmd_deal,
    &cli_cmd_activity,
    &cli_cmd_jobs,     &cli_cmd_incidents,
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (!strcmp(commands[i]->name, name))
            return commands[i];
    }
    return NULL;
}

static void overview(FILE *f)
{
    fputs("usage: flowd COMMAND [options]\n\n"
          "Run BPMN processes with stages, deadlines and roles on an embedded SQLite store.\n\n"
          "commands:\n",
          f);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
    fputs("  help CMD     print the help of a command\n"
          "  version      print the version\n\n"
          "Every command takes --db PATH (default $FLOWD_DB, else ./flowd.db), --json and\n"
          "--help; with --server URL --token TOKEN (or $FLOWD_SERVER, $FLOWD_TOKEN) it works\n"
          "through a flowd server instead, with the same output. Exit codes: 0 ok, 1 usage\n"
          "or bad input, 2 not found, 3 conflict or refused, 4 invalid model, 74 server not\n"
          "reachable.\n",
          f);
}

int main(int argc, char **argv)
{
    const struct cli_command *cmd;

    if (argc < 2) {
        overview(stderr);
        return 1;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        overview(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "help")) {
        if (argc < 3) {
            overview(stdout);
            return 0;
        }
        if (!(cmd = find_command(argv[2]))) {
            fprintf(stderr, "flowd: unknown command '%s'; see 'flowd --help'\n", argv[2]);
            return 1;
        }
        cli_print_usage(cmd, stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        puts("flowd 0.1.0");
        return 0;
    }
    if (!(cmd = find_command(argv[1]))) {
        fprintf(stderr, "flowd: unknown command '%s'; see 'flowd --help'\n", argv[1]);
        return 1;
    }
    /* The subcommand sees itself as argv[0], so getopt starts at its first option. */
    return cmd->run(cmd, argc - 1, argv + 1);
}
