/* flowd-httpbench internals shared by its two files: the latency histogram and the
 * server-process probes (resident set, CPU time) in http_stats.c, used by the load loop in
 * http_load.c. Local to the bench executable; not part of the library. */
#ifndef FLOWD_BENCH_HTTP_LOAD_H
#define FLOWD_BENCH_HTTP_LOAD_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* 10 us buckets up to 100 ms, then 1 ms buckets up to about 10 s; the rest in the last. */
#define HIST_FINE 10000
#define HIST_COARSE 9900
#define HIST_BUCKETS (HIST_FINE + HIST_COARSE)

/* Latencies of one route: counts by bucket, exact maximum. No allocation: a 10-minute
 * soak at full rate records tens of millions of samples. */
struct hist {
    uint32_t bucket[HIST_BUCKETS];
    uint64_t n;
    double max_us;
};

/* Record one latency of us microseconds (negative counts as 0). */
void hist_add(struct hist *h, double us);

/* Add every sample of src to dst. */
void hist_merge(struct hist *dst, const struct hist *src);

/* Percentile p (0..100) in milliseconds: the upper edge of the bucket holding the
 * nearest-rank sample (within 10 us below 100 ms); the exact maximum for p = 100. */
double hist_pct_ms(const struct hist *h, double p);

/* Print `"name":{"n":..,"p50_ms":..,"p90_ms":..,"p99_ms":..,"max_ms":..}` to f. */
void hist_print_json(FILE *f, const char *name, const struct hist *h);

/* Resident set (VmRSS) of process pid in MiB, or -1 when it cannot be read. */
double proc_rss_mb(pid_t pid);

/* User + system CPU seconds process pid has used (all threads), or -1. */
double proc_cpu_s(pid_t pid);

#endif
