/* Shared by the people and access subcommands of the CLI (user, role, department, token):
 * the writable store they open and the dispatch of their sub-verbs ("add", "list", ...).
 * Locally these commands write the store directly, next to a running server if need be
 * (SQLite WAL with a busy timeout serialises them with the server's writer); with --server
 * they go through the API's administrator routes (cli_source.h). */
#ifndef FLOWD_CLI_PEOPLE_H
#define FLOWD_CLI_PEOPLE_H

#include "cli/cli.h"

extern const struct cli_command cli_cmd_user, cli_cmd_role, cli_cmd_department, cli_cmd_token;
extern const struct cli_command cli_cmd_calendar; /* cmd_calendar.c */

/* Open c's database writable, creating and migrating it when needed. Caller closes. */
int cli_people_open(const struct cli_common *c, struct fl_store **out, struct fl_error *err);

/* Index of argv[1] among verbs; -1 after printing a usage error; -2 after printing help. */
int cli_people_verb(struct cli_common *c, int argc, char **argv, const char *const *verbs,
                    size_t n_verbs);

#endif
