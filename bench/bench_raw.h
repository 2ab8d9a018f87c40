/* The physical limit of flowd's design on this machine: the rows flowd writes for one
 * instance of the reference process (instance, variable, token, tasks, history events),
 * written with raw prepared INSERT/UPDATE/DELETE statements on a SQLite file in WAL mode
 * with synchronous=FULL, one transaction per batch of commands, with no engine, no model
 * and no queue. flowd's throughput divided by this rate is its share of the limit. */
#ifndef FLOWD_BENCH_RAW_H
#define FLOWD_BENCH_RAW_H

#include <stddef.h>

#include "bench_flowd.h"

struct bench_raw; /* opaque: the connection and prepared statements */

struct bench_raw_options {
    const char *db_path; /* SQLite file (created) */
    size_t batch;        /* commands per transaction */
    /* History rows of one instance, as flowd wrote them (NULL: a built-in template of the
     * reference process's events). Copied. */
    const struct bench_event_template *events;
    size_t n_events;
};

/* Create the database with the store's schema and prepare the statements. Caller closes. */
int bench_raw_open(const struct bench_raw_options *opt, struct bench_raw **out,
                   struct fl_error *err);

/* Write the rows of n more instances (numbered after those already written); *seconds
 * gets the time it took. */
int bench_raw_write(struct bench_raw *r, size_t n, double *seconds, struct fl_error *err);

/* Rows (inserted, updated or deleted) per instance in the last write. */
size_t bench_raw_rows_per_instance(const struct bench_raw *r);

/* Close; NULL-safe. */
void bench_raw_close(struct bench_raw *r);

#endif
