/* Helpers shared by the parts of flowd-bench: a monotonic clock, percentiles, the process's
 * peak resident set and a sample collector. The harness is not part of the library: these
 * names are local to the bench executable. */
#ifndef FLOWD_BENCH_UTIL_H
#define FLOWD_BENCH_UTIL_H

#include <stddef.h>
#include <time.h>

/* Seconds on the monotonic clock (CLOCK_MONOTONIC). */
double bench_now_s(void);

/* The monotonic instant t (seconds) as a timespec, for pthread_cond_timedwait on a
 * condition variable that uses CLOCK_MONOTONIC. */
struct timespec bench_timespec(double t);

/* Sort v (n values) ascending in place. */
void bench_sort(double *v, size_t n);

/* Nearest-rank percentile p (0..100) of the n sorted values v; 0 when n is 0. */
double bench_percentile(const double *v, size_t n, double p);

/* Peak resident set size of this process so far, in MiB (getrusage ru_maxrss). */
double bench_peak_rss_mb(void);

/* CPU time (user + system) this process has used so far, in seconds: less sensitive than
 * wall time to other work on a shared machine. */
double bench_cpu_s(void);

#endif
