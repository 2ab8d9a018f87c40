/* The physical limit of flowd's design on this machine: the rows flowd writes for one
 * instance of the reference process (instance, variable, token, tasks, history events),
 * written with raw prepared INSERT/UPDATE/DELETE statements on a SQLite file in WAL mode
 * with synchronous=FULL, one transaction per batch of commands, with no engine, no model
 * and no queue. flowd's throughput divided by this rate is its share of the limit. */
#ifndef FLOWD_BENCH_RAW_H
#define FLOWD_BENCH_RAW_H

#include <stddef.h>

#include "bench_flowd.h"

struct bench_raw_options {
    const char *db_path; /* SQLite file (created) */
    size_t instances;
    size_t batch; /* commands per transaction */
    /* History rows of one instance, as flowd wrote them (NULL: a built-in template of the
     * reference process's events). */
    const struct bench_event_template *events;
    size_t n_events;
};

struct bench_raw_figures {
    double seconds, instances_per_s, commands_per_s;
    size_t rows_per_instance; /* rows inserted, updated or deleted per instance */
    size_t transactions;
};

/* Run the raw write benchmark. 0 or FL_ESTORE with detail in err. */
int bench_raw_run(const struct bench_raw_options *opt, struct bench_raw_figures *out,
                  struct fl_error *err);

#endif
