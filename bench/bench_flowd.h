/* The flowd side of flowd-bench: drives the reference process through the public service
 * API (fl_service_open/deploy/submit) on a SQLite file with synchronous=FULL. A closed loop
 * keeps many instances in flight so group commit batches them (throughput), and an open
 * loop paces instance arrivals at a given command rate (latency). Every command is checked:
 * a run with a refused command is not a figure. */
#ifndef FLOWD_BENCH_FLOWD_H
#define FLOWD_BENCH_FLOWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowd/err.h"

struct bench_flowd; /* opaque: one service, its model and a reader connection */

/* How the driver learns the id of the task a command opened. */
enum bench_task_ids {
    BENCH_TASK_IDS_AUTO,   /* the result's task_id once checked against a query, else query */
    BENCH_TASK_IDS_RESULT, /* struct fl_result.task_id */
    BENCH_TASK_IDS_QUERY   /* fl_store_task_list on a reader connection */
};

struct bench_flowd_options {
    const char *db_path; /* SQLite file (created) */
    const char *bpmn;    /* reference process file */
    unsigned max_batch;  /* service option; 0 = its default */
    enum bench_task_ids task_ids;
};

/* Figures of one run. Latencies are submit -> acknowledgement, in milliseconds. */
struct bench_flowd_figures {
    size_t instances, commands;
    double seconds;
    double cpu_seconds; /* process CPU time (user + system) during the run */
    double instances_per_s, commands_per_s;
    double p50_ms, p99_ms, p999_ms, max_ms;
    double target_commands_per_s; /* latency run: the offered rate */
};

/* Open the service on opt->db_path, deploy opt->bpmn and open a reader. Caller closes with
 * bench_flowd_close. */
int bench_flowd_open(const struct bench_flowd_options *opt, struct bench_flowd **out,
                     struct fl_error *err);

/* Close the service (finishing queued commands) and the reader. NULL-safe. */
void bench_flowd_close(struct bench_flowd *b);

/* Closed loop: run n instances to their end with `inflight` of them in flight at once. */
int bench_flowd_throughput(struct bench_flowd *b, size_t n, size_t inflight,
                           struct bench_flowd_figures *out, struct fl_error *err);

/* Open loop: instances arrive evenly paced so that commands are offered at cmd_rate per
 * second for about `seconds`; each next command of an instance is submitted as soon as
 * the previous one is acknowledged. */
int bench_flowd_latency(struct bench_flowd *b, double cmd_rate, double seconds,
                        struct bench_flowd_figures *out, struct fl_error *err);

/* "result" or "query": how task ids were obtained in the last run. */
const char *bench_flowd_task_ids_name(const struct bench_flowd *b);

/* Rows one completed instance left in the history, in order, split by command: the
 * template the raw SQLite bench writes. */
struct bench_event_template {
    int type;
    int step; /* 0 = start, 1..3 = the task completions */
    bool has_token, has_ref;
    char node_id[64];
    char detail[256];
};

/* Copy the history of the first instance of the last throughput run into out (at most
 * max rows); *n gets the count. */
int bench_flowd_history_template(struct bench_flowd *b, struct bench_event_template *out,
                                 size_t max, size_t *n, struct fl_error *err);

#endif
