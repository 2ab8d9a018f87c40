/* flowd-httpbench's measuring side: a fixed-size latency histogram per route (so a long
 * soak costs no memory per sample) and the probes that read the server's resident set and
 * CPU time from /proc while the load runs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http_load.h"

void hist_add(struct hist *h, double us)
{
    size_t i;
    if (!(us > 0))
        us = 0;
    if (us < HIST_FINE * 10.0)
        i = (size_t)(us / 10.0);
    else if (us < HIST_FINE * 10.0 + HIST_COARSE * 1000.0)
        i = HIST_FINE + (size_t)((us - HIST_FINE * 10.0) / 1000.0);
    else
        i = HIST_BUCKETS - 1;
    h->bucket[i]++;
    h->n++;
    if (us > h->max_us)
        h->max_us = us;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
    for (size_t i = 0; i < HIST_BUCKETS; i++)
        dst->bucket[i] += src->bucket[i];
    dst->n += src->n;
    if (src->max_us > dst->max_us)
        dst->max_us = src->max_us;
}

double hist_pct_ms(const struct hist *h, double p)
{
    uint64_t rank, seen = 0;
    double edge_us;
    if (h->n == 0)
        return 0;
    if (p >= 100)
        return h->max_us / 1000.0;
    rank = (uint64_t)ceil(p / 100.0 * (double)h->n);
    if (rank < 1)
        rank = 1;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen < rank)
            continue;
        edge_us = i < HIST_FINE ? (double)(i + 1) * 10.0
                                : HIST_FINE * 10.0 + (double)(i - HIST_FINE + 1) * 1000.0;
        /* The bucket's upper edge may lie above every sample in it. */
        return (edge_us < h->max_us ? edge_us : h->max_us) / 1000.0;
    }
    return h->max_us / 1000.0;
}

void hist_print_json(FILE *f, const char *name, const struct hist *h)
{
    fprintf(f,
            "\"%s\":{\"n\":%llu,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}",
            name, (unsigned long long)h->n, hist_pct_ms(h, 50), hist_pct_ms(h, 90),
            hist_pct_ms(h, 99), hist_pct_ms(h, 100));
}

double proc_rss_mb(pid_t pid)
{
    char path[64], line[256];
    double mb = -1;
    FILE *f;
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    if (!(f = fopen(path, "r")))
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmRSS:", 6)) {
            mb = strtod(line + 6, NULL) / 1024.0; /* kB */
            break;
        }
    }
    fclose(f);
    return mb;
}

double proc_cpu_s(pid_t pid)
{
    char path[64], text[1024];
    unsigned long long ut, st;
    const char *p;
    size_t n;
    FILE *f;
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    if (!(f = fopen(path, "r")))
        return -1;
    n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    /* The command name may hold spaces and parentheses: fields count from the last ')'. */
    if (!(p = strrchr(text, ')')))
        return -1;
    /* After ')': state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
     * stime -- utime is the 12th field after the state. */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}
