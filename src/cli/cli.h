/* Shared pieces of the flowd command-line tool: the subcommand descriptor, option parsing
 * common to every subcommand (--db, --json, --help), --var parsing, error printing with
 * the exit codes of err.h, and output helpers (aligned tables, a streaming JSON writer,
 * ISO 8601 times). The CLI is a client of the public headers only; like curl's tool_
 * files it uses its own prefix, cli_, for names shared between its files. */
#ifndef FLOWD_CLI_H
#define FLOWD_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "flowd/buf.h"
#include "flowd/err.h"
#include "flowd/service.h"
#include "flowd/store.h"
#include "flowd/value.h"

struct cli_source; /* cli_source.h: the database or a server */

/* One subcommand: its handler returns the process exit code. */
struct cli_command {
    const char *name;
    int (*run)(const struct cli_command *cmd, int argc, char **argv);
    const char *summary; /* one line for `flowd --help` */
    const char *usage;   /* full text for `flowd help NAME` and `NAME --help` */
};

extern const struct cli_command cli_cmd_deploy, cli_cmd_definitions, cli_cmd_start,
    cli_cmd_tasks, cli_cmd_complete, cli_cmd_action, cli_cmd_instances, cli_cmd_show;
extern const struct cli_command cli_cmd_serve, cli_cmd_routes, cli_cmd_feel,
    cli_cmd_conformance;
extern const struct cli_command cli_cmd_control;
extern const struct cli_command cli_cmd_message, cli_cmd_signal; /* cmd_message.c */
extern const struct cli_command cli_cmd_decide; /* DMN decisions (cmd_decide.c) */
extern const struct cli_command cli_cmd_notifications;
/* job workers and incidents (cmd_jobs.c) */
extern const struct cli_command cli_cmd_jobs, cli_cmd_incidents;
/* Migration and modification (cmd_migrate.c) */
extern const struct cli_command cli_cmd_migrate, cli_cmd_modify;
/* CRM records (cmd_crm.c) */
extern const struct cli_command cli_cmd_company, cli_cmd_contact, cli_cmd_lead, cli_cmd_deal,
    cli_cmd_activity;

/* Options every subcommand takes, and the clock it works with. */
struct cli_common {
    const struct cli_command *cmd;
    const char *db; /* --db, else $FLOWD_DB, else ./flowd.db */
    bool db_flag;   /* --db was given */
    /* Remote mode: --server URL, else $FLOWD_SERVER (NULL: work on the database), and the
     * bearer token of --token, else $FLOWD_TOKEN (never printed). */
    const char *server, *token;
    bool server_flag; /* --server was given (serve and routes refuse it) */
    bool json;
    int64_t now_ms; /* $FLOWD_NOW (tests, demos) or the real clock */
    bool now_fixed; /* now_ms came from $FLOWD_NOW */
};

/* Rows asked of the store per page of a listing. Debug builds (the test builds) use tiny
 * pages so the end-to-end tests walk the paging code on every listing. */
#ifdef NDEBUG
#define CLI_PAGE_ROWS 500
#else
#define CLI_PAGE_ROWS 3
#endif

/* getopt_long values of the common long options; commands number theirs from CLI_OPT_CMD. */
enum {
    CLI_OPT_DB = 0x100,
    CLI_OPT_JSON,
    CLI_OPT_HELP,
    CLI_OPT_SERVER,
    CLI_OPT_TOKEN,
    CLI_OPT_CMD = 0x200
};

#define CLI_COMMON_LONGOPTS                                                                        \
    {"db", required_argument, NULL, CLI_OPT_DB}, {"json", no_argument, NULL, CLI_OPT_JSON},        \
        {"server", required_argument, NULL, CLI_OPT_SERVER},                                       \
        {"token", required_argument, NULL, CLI_OPT_TOKEN},                                         \
    {                                                                                              \
        "help", no_argument, NULL, CLI_OPT_HELP                                                    \
    }

/* What cli_getopt returns besides a command's own option. */
enum { CLI_GETOPT_END = -1, CLI_GETOPT_HELP = -2, CLI_GETOPT_ERROR = -3 };

/* Fill c from the environment ($FLOWD_DB, $FLOWD_NOW, $FLOWD_SERVER, $FLOWD_TOKEN). Returns
 * 0, or prints a usage error and returns its exit code (bad $FLOWD_NOW). */
int cli_common_init(struct cli_common *c, const struct cli_command *cmd);

/* Next option of argv (getopt_long, arguments permuted so options may follow operands).
 * Handles the common options itself. Returns a command option, CLI_GETOPT_END,
 * CLI_GETOPT_HELP (usage already printed on stdout) or CLI_GETOPT_ERROR (message already
 * printed on stderr). */
int cli_getopt(struct cli_common *c, int argc, char **argv, const struct option *longopts);

/* For a command that takes only the common options and no operands: parse them. Returns
 * -1 to go on, or the exit code to return (0 after --help, 1 after a message). */
int cli_no_operands(struct cli_common *c, int argc, char **argv);

/* Print the usage text of cmd on f. */
void cli_print_usage(const struct cli_command *cmd, FILE *f);

/* Print "flowd: CMD: message; see 'flowd help CMD'" on stderr; returns exit code 1. */
int cli_usage_error(const struct cli_common *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print "flowd: <message> (element 'x', line L, column C)" on stderr for error rc with
 * detail err (may be NULL or empty: then the code's message is used); returns the exit
 * code of rc. */
int cli_fail(int rc, const struct fl_error *err);

/* As cli_fail, with "what: " put before the message (a file name). */
int cli_fail_in(const char *what, int rc, const struct fl_error *err);

/* Print "flowd: warning: <message> (...)" on stderr. */
void cli_warn(const char *what, const struct fl_error *err);

/* Parse a positive decimal id ("42"); FL_EUSAGE with a message naming what otherwise. */
int cli_parse_id(const char *s, const char *what, uint64_t *out, struct fl_error *err);

/* Parse one --var argument (NAME=VALUE or NAME:TYPE=VALUE) and set it in ctx, a context
 * value being built. FL_EUSAGE / FL_ETYPE with a one-line message on a bad argument. */
int cli_var_parse(const char *arg, struct fl_value *ctx, struct fl_error *err);

/* Read a whole file ("-" = standard input), refusing more than max bytes (FL_ETOOBIG)
 * before reading them all. *out is NUL-terminated; caller frees it. */
int cli_read_file(const char *path, size_t max, char **out, size_t *len, struct fl_error *err);

/* FL_EUSAGE with a message when c names a server: for commands (or parts of them) that
 * work only on the database, so they never act on a local file by mistake. */
int cli_local_only(const struct cli_common *c, struct fl_error *err);

/* FL_ENOTFOUND with a message unless the database file of c exists (FL_EUSAGE when c
 * names a server: see cli_local_only). */
int cli_db_require(const struct cli_common *c, struct fl_error *err);

/* Open c's database read-only (it must exist). Caller closes. */
int cli_store_open_ro(const struct cli_common *c, struct fl_store **out, struct fl_error *err);

/* Open the service (the writer) on c's database, creating it if missing. Caller closes. */
int cli_service_open(const struct cli_common *c, struct fl_service **out, struct fl_error *err);

/* Run one command through the service and wait for its durable outcome. Returns res->rc
 * (0 or negative); res->err holds the detail. */
int cli_service_run(struct fl_service *svc, const struct fl_command *cmd, struct fl_result *res);

/* Show what a command left an instance in (cmd_start.c): the headline (a single word
 * such as "started" leads the instance line instead of a line of its own), its state, open
 * tasks and the incidents raised after history sequence after_seq (JSON: also the task
 * task_id as it is now, unless 0). Returns the exit code: 3 when there are new incidents. */
int cli_report_instance(const struct cli_common *c, struct cli_source *src, const char *headline,
                        uint64_t instance_id, uint64_t after_seq, uint64_t task_id);

/* ---- output (cli_out.c) ---- */

/* Format t (ms since the epoch, UTC) as "2026-01-31T09:30:00Z", or with milliseconds
 * ("...00.000Z"); "-" when t is 0. Returns out, which must hold 40 bytes. */
const char *cli_time(int64_t t_ms, bool millis, char *out);

const char *cli_instance_status_name(int status);
const char *cli_task_status_name(int status);

/* "overdue" when an open task is past its due time, "remind" when past its reminder,
 * else "". */
const char *cli_task_mark(const struct fl_task_row *t, int64_t now_ms);

/* A table of text cells printed with columns aligned (widths in UTF-8 characters). */
struct cli_table {
    size_t n_cols;
    char **cells; /* row-major, owned; row 0 is the header */
    size_t n_cells, cap_cells;
};

/* Start a table with n_cols columns whose headers follow. */
void cli_table_init(struct cli_table *t, size_t n_cols, ...);

/* Add one row of n_cols strings (copied; NULL prints as "-"). */
void cli_table_add(struct cli_table *t, ...);

/* Rows added so far (without the header). */
size_t cli_table_rows(const struct cli_table *t);

/* Print header and rows, each line starting with indent. */
void cli_table_print(const struct cli_table *t, FILE *f, const char *indent);

void cli_table_release(struct cli_table *t);

/* A streaming JSON writer (pretty-printed) over an fl_buf. Members take a key inside an
 * object and NULL inside an array. */
struct cli_json {
    struct fl_buf buf;
    unsigned depth;
    bool need_comma[FL_JSON_MAX_DEPTH];
    char close[FL_JSON_MAX_DEPTH]; /* '}' or ']' for each open level */
};

void cli_json_init(struct cli_json *j);
void cli_json_object(struct cli_json *j, const char *key);
void cli_json_array(struct cli_json *j, const char *key);
void cli_json_end(struct cli_json *j); /* closes the innermost object or array */
void cli_json_str(struct cli_json *j, const char *key, const char *s); /* NULL -> null */
void cli_json_int(struct cli_json *j, const char *key, int64_t n);
void cli_json_uint(struct cli_json *j, const char *key, uint64_t n);
void cli_json_bool(struct cli_json *j, const char *key, bool b);
void cli_json_null(struct cli_json *j, const char *key);
void cli_json_time(struct cli_json *j, const char *key, int64_t t_ms); /* 0 -> null */
/* Embed text that is already JSON (NULL or empty -> null). */
void cli_json_raw(struct cli_json *j, const char *key, const char *json);
/* Print the document with a final newline on stdout and release j. Returns 0 or the
 * buffer's error. */
int cli_json_emit(struct cli_json *j);

/* A task as a JSON object. */
void cli_json_task(struct cli_json *j, const char *key, const struct fl_task_row *t,
                   int64_t now_ms);

/* An instance as a JSON object (with its variables when with_vars). */
void cli_json_instance(struct cli_json *j, const char *key, const struct fl_instance_row *r,
                       bool with_vars);

/* A table of tasks: ID, INSTANCE, PROCESS, TASK, ROLES, ASSIGNEE, DUE, MAIN ACTION and,
 * when with_status, STATUS. */
void cli_task_table_init(struct cli_table *t, bool with_status);
void cli_task_table_add(struct cli_table *t, const struct fl_task_row *r, bool with_status,
                        int64_t now_ms);

/* Print the open tasks of an instance (a heading and a table, or "no open tasks") as
 * the human output of start, complete and show. */
int cli_print_open_tasks(struct cli_source *src, uint64_t instance_id, int64_t now_ms,
                         struct fl_error *err);

/* Add "open_tasks": [...] of an instance to a JSON document. */
int cli_json_open_tasks(struct cli_source *src, struct cli_json *j, uint64_t instance_id,
                        int64_t now_ms, struct fl_error *err);

/* The incidents raised on instance inst after history sequence number after_seq: prints
 * each on stderr, placed at its element's line and column in the deployed XML (human), or
 * adds "incidents": [...] to j (when j is not NULL); *count gets how many. */
int cli_incidents(struct cli_source *src, const struct fl_instance_row *inst, uint64_t after_seq,
                  struct cli_json *j, size_t *count, struct fl_error *err);

/* The message of an incident event: its detail's "error" (or "message") member when the
 * detail is a JSON object that has one, else the detail text itself. Caller frees. */
char *cli_incident_message(const char *detail);

/* Largest history sequence number of an instance so far (0 when none). */
int cli_history_last_seq(struct cli_source *src, uint64_t instance_id, uint64_t *out,
                         struct fl_error *err);

/* The control points of an instance (cmd_control.c): a "control points:" table on stdout,
 * or "control_points": [...] added to j when j is not NULL. */
int cli_print_controls(struct cli_source *src, uint64_t instance_id, int64_t now_ms,
                       struct cli_json *j, struct fl_error *err);

/* Every control point of an instance from the store, page by page (cmd_control.c). */
int cli_control_list_all(struct fl_store *s, uint64_t instance_id, struct fl_control_row **rows,
                         size_t *n, struct fl_error *err);

#endif
