/* The raw SQLite bench in a child process, so that its page cache and statements do not
 * count in flowd's peak RSS (getrusage is per process) and it can still be interleaved
 * with flowd's runs. The child is forked before the service starts any thread; the parent
 * drives it over a pair of pipes. */
#ifndef FLOWD_BENCH_RAWPROC_H
#define FLOWD_BENCH_RAWPROC_H

#include <stddef.h>

#include "bench_raw.h"

struct bench_rawproc; /* opaque */

/* Fork the child. Call before any thread exists. Caller stops it with bench_rawproc_stop. */
int bench_rawproc_start(struct bench_rawproc **out, struct fl_error *err);

/* bench_raw_open in the child (opt->db_path at most 4095 bytes, opt->n_events at most
 * 256). */
int bench_rawproc_open(struct bench_rawproc *p, const struct bench_raw_options *opt,
                       struct fl_error *err);

/* bench_raw_write in the child; *cpu_seconds the child's CPU time for it;
 * *rows_per_instance as bench_raw_rows_per_instance. */
int bench_rawproc_write(struct bench_rawproc *p, size_t n, double *seconds, double *cpu_seconds,
                        size_t *rows_per_instance, struct fl_error *err);

/* Close the child's database, end it and wait for it. NULL-safe. */
void bench_rawproc_stop(struct bench_rawproc *p);

#endif
