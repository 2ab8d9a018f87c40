/* flowd-bench: the figures of issue 2's benchmark, one JSON object per line on stdout
 * (progress on stderr). flowd_throughput: durable instances and commands per second of the
 * reference process through the service API, closed loop, with peak RSS; flowd_latency:
 * p50/p99 submit -> acknowledgement at half that command rate, open loop; sqlite_raw: the
 * same rows written with raw SQLite statements, and flowd's share of that rate. Run by
 * bench/run, by hand, never as a test. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flowd/err.h"

#include "bench_flowd.h"
#include "bench_raw.h"
#include "bench_rawproc.h"
#include "bench_util.h"

#ifndef FLOWD_BENCH_DIR
#define FLOWD_BENCH_DIR "bench"
#endif

#define MAX_TEMPLATE 256

struct options {
    size_t instances, inflight, warmup, runs;
    double latency_seconds, latency_rate;
    unsigned max_batch;
    const char *dir, *bpmn;
    enum bench_task_ids task_ids;
    bool keep, skip_latency, skip_raw;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: flowd-bench [options]\n"
            "  --instances N      instances in the throughput run (default 20000)\n"
            "  --inflight N       instances in flight at once (default 2048)\n"
            "  --warmup N         instances run before measuring (default 2000)\n"
            "  --runs N           throughput runs; the median is reported (default 3)\n"
            "  --latency-seconds S  length of the latency run (default 5)\n"
            "  --latency-rate R   commands/s offered in the latency run (default: half the\n"
            "                     measured throughput)\n"
            "  --max-batch N      service: commands per transaction at most (default its own)\n"
            "  --task-ids MODE    auto | result | query (default auto)\n"
            "  --dir DIR          where the temporary databases go (default $TMPDIR or /tmp)\n"
            "  --bpmn FILE        process to run (default %s/reference.bpmn)\n"
            "  --quick            a smaller run (4000 instances, 1 run, 2 s of latency)\n"
            "  --keep             keep the databases\n"
            "  --skip-latency, --skip-raw\n",
            FLOWD_BENCH_DIR);
}

static bool parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return false;
    *out = (size_t)v;
    return true;
}

static bool parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0))
        return false;
    *out = v;
    return true;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    const char *tmp = getenv("TMPDIR");
    *o = (struct options){
        .instances = 20000,
        .inflight = 2048,
        .warmup = 2000,
        .runs = 3,
        .latency_seconds = 5,
        .dir = tmp && *tmp ? tmp : "/tmp",
        .bpmn = FLOWD_BENCH_DIR "/reference.bpmn",
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        size_t n;
        bool ok = true, takes = true;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--quick")) {
            o->instances = 4000;
            o->warmup = 1000;
            o->runs = 1;
            o->latency_seconds = 2;
            takes = false;
        } else if (!strcmp(a, "--keep")) {
            o->keep = true;
            takes = false;
        } else if (!strcmp(a, "--skip-latency")) {
            o->skip_latency = true;
            takes = false;
        } else if (!strcmp(a, "--skip-raw")) {
            o->skip_raw = true;
            takes = false;
        } else if (!v) {
            ok = false;
        } else if (!strcmp(a, "--instances")) {
            ok = parse_size(v, &o->instances) && o->instances > 0;
        } else if (!strcmp(a, "--inflight")) {
            ok = parse_size(v, &o->inflight) && o->inflight > 0;
        } else if (!strcmp(a, "--runs")) {
            ok = parse_size(v, &o->runs) && o->runs > 0 && o->runs <= 100;
        } else if (!strcmp(a, "--warmup")) {
            ok = parse_size(v, &o->warmup);
        } else if (!strcmp(a, "--latency-seconds")) {
            ok = parse_double(v, &o->latency_seconds);
        } else if (!strcmp(a, "--latency-rate")) {
            ok = parse_double(v, &o->latency_rate);
        } else if (!strcmp(a, "--max-batch")) {
            ok = parse_size(v, &n) && n <= 1000000;
            o->max_batch = (unsigned)n;
        } else if (!strcmp(a, "--task-ids")) {
            if (!strcmp(v, "auto"))
                o->task_ids = BENCH_TASK_IDS_AUTO;
            else if (!strcmp(v, "result"))
                o->task_ids = BENCH_TASK_IDS_RESULT;
            else if (!strcmp(v, "query"))
                o->task_ids = BENCH_TASK_IDS_QUERY;
            else
                ok = false;
        } else if (!strcmp(a, "--dir")) {
            o->dir = v;
        } else if (!strcmp(a, "--bpmn")) {
            o->bpmn = v;
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, "flowd-bench: bad option '%s'%s%s\n", a, v && takes ? " " : "",
                    v && takes ? v : "");
            usage(stderr);
            return FL_EUSAGE;
        }
        if (takes)
            i++;
    }
    return 0;
}

static void remove_db(const char *path)
{
    char p[4200];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

/* Ascending instances/s (qsort). */
static int cmp_figures(const void *a, const void *b)
{
    double x = ((const struct bench_flowd_figures *)a)->instances_per_s;
    double y = ((const struct bench_flowd_figures *)b)->instances_per_s;
    return (x > y) - (x < y);
}

static int fail(const char *what, const struct fl_error *err)
{
    char msg[800];
    fprintf(stderr, "flowd-bench: %s: %s\n", what, fl_error_format(err, msg, sizeof msg));
    return 1;
}

static void print_throughput(const struct options *o, struct bench_flowd_figures *runs,
                             const struct bench_flowd *b)
{
    char list[1200];
    size_t used = 0;
    double loadavg = 0; /* how busy the machine was: the figures depend on it */
    if (getloadavg(&loadavg, 1) != 1)
        loadavg = -1;
    qsort(runs, o->runs, sizeof runs[0], cmp_figures);
    const struct bench_flowd_figures *thr = &runs[o->runs / 2];
    for (size_t r = 0; r < o->runs && used + 32 < sizeof list; r++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%.1f", r ? "," : "",
                                 runs[r].instances_per_s);
    printf("{\"bench\":\"flowd_throughput\",\"instances_per_s\":%.1f,\"commands_per_s\":%.1f,"
           "\"peak_rss_mb\":%.1f,\"instances\":%zu,\"commands\":%zu,\"inflight\":%zu,"
           "\"seconds\":%.3f,\"closed_loop_p50_ms\":%.3f,\"closed_loop_p99_ms\":%.3f,"
           "\"cpu_us_per_instance\":%.1f,\"runs_instances_per_s\":[%s],\"task_ids\":\"%s\","
           "\"synchronous\":\"FULL\",\"loadavg_1m\":%.2f,\"cores\":%ld}\n",
           thr->instances_per_s, thr->commands_per_s, bench_peak_rss_mb(), thr->instances,
           thr->commands, o->inflight, thr->seconds, thr->p50_ms, thr->p99_ms,
           thr->cpu_seconds / (double)thr->instances * 1e6, list, bench_flowd_task_ids_name(b),
           loadavg, sysconf(_SC_NPROCESSORS_ONLN));
    fflush(stdout);
}

int main(int argc, char **argv)
{
    struct options o;
    struct fl_error err;
    struct bench_flowd *b = NULL;
    struct bench_rawproc *raw = NULL;
    size_t raw_rows = 0;
    struct bench_flowd_figures runs[100], thr, lat;
    double raw_secs[100], raw_cpu[100];
    static struct bench_event_template events[MAX_TEMPLATE];
    size_t n_events = 0;
    char dir[4096], db[4200], raw_db[4200];
    int status = 1;

    fl_error_clear(&err);
    if (parse_options(argc, argv, &o))
        return 1;
    snprintf(dir, sizeof dir, "%s/flowd-bench-XXXXXX", o.dir);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "flowd-bench: cannot create a directory in '%s': %s\n", o.dir,
                strerror(errno));
        return 1;
    }
    snprintf(db, sizeof db, "%s/flowd.db", dir);
    snprintf(raw_db, sizeof raw_db, "%s/raw.db", dir);
    fprintf(stderr, "flowd-bench: databases in %s\n", dir);

    /* Forked now, before the service starts its writer thread. */
    if (!o.skip_raw && bench_rawproc_start(&raw, &err)) {
        status = fail("raw sqlite", &err);
        goto out;
    }

    struct bench_flowd_options fo = {
        .db_path = db, .bpmn = o.bpmn, .max_batch = o.max_batch, .task_ids = o.task_ids};
    if (bench_flowd_open(&fo, &b, &err)) {
        status = fail("setting up the service and the model", &err);
        goto out;
    }
    /* The warm-up also yields the history of one instance: the raw bench's template. */
    fprintf(stderr, "flowd-bench: warm-up, %zu instances\n", o.warmup ? o.warmup : 1);
    if (bench_flowd_throughput(b, o.warmup ? o.warmup : 1, o.inflight, &thr, &err)) {
        status = fail("warm-up", &err);
        goto out;
    }
    if (bench_flowd_history_template(b, events, MAX_TEMPLATE, &n_events, &err)) {
        fail("history of the first instance (the raw bench uses its own template)", &err);
        n_events = 0;
    }
    /* The first instance has amount 5000: with the reference process the gateway's
     * condition must have sent it to End_large. */
    bool large = false;
    for (size_t i = 0; i < n_events; i++)
        large = large || !strcmp(events[i].node_id, "End_large");
    if (n_events && !large)
        fprintf(stderr, "flowd-bench: warning: the first instance (amount 5000) did not reach "
                        "End_large: is the gateway condition evaluated?\n");

    /* Group commit takes at most max_batch commands (the service's default is 1024), and
     * no more than are in flight: the raw bench commits as many per transaction. */
    size_t batch = o.max_batch ? o.max_batch : 1024;
    if (batch > o.inflight)
        batch = o.inflight;
    if (raw) {
        struct bench_raw_options ro = {.db_path = raw_db,
                                       .batch = batch,
                                       .events = n_events ? events : NULL,
                                       .n_events = n_events};
        double secs, cpu;
        if (bench_rawproc_open(raw, &ro, &err) ||
            (o.warmup && bench_rawproc_write(raw, o.warmup, &secs, &cpu, &raw_rows, &err))) {
            status = fail("raw sqlite", &err);
            goto out;
        }
    }

    /* The machine is shared (2 cores, neighbours): several runs, flowd and raw SQLite
     * interleaved so both see the same weather, and the medians reported. */
    for (size_t r = 0; r < o.runs; r++) {
        fprintf(stderr, "flowd-bench: run %zu/%zu: flowd, %zu instances, %zu in flight\n", r + 1,
                o.runs, o.instances, o.inflight);
        if (bench_flowd_throughput(b, o.instances, o.inflight, &runs[r], &err)) {
            status = fail("throughput", &err);
            goto out;
        }
        if (raw) {
            fprintf(stderr, "flowd-bench: run %zu/%zu: raw sqlite, %zu commands/transaction\n",
                    r + 1, o.runs, batch);
            if (bench_rawproc_write(raw, o.instances, &raw_secs[r], &raw_cpu[r], &raw_rows, &err)) {
                status = fail("raw sqlite", &err);
                goto out;
            }
        }
    }
    /* CPU per instance (medians): a share that other work on the machine moves less. */
    double flowd_cpu[100];
    for (size_t r = 0; r < o.runs; r++)
        flowd_cpu[r] = runs[r].cpu_seconds;
    bench_sort(flowd_cpu, o.runs);
    print_throughput(&o, runs, b);
    thr = runs[o.runs / 2];
    if (raw) {
        bench_sort(raw_secs, o.runs);
        double secs = raw_secs[o.runs / 2];
        double ips = secs > 0 ? (double)o.instances / secs : 0;
        bench_sort(raw_cpu, o.runs);
        double rcpu = raw_cpu[o.runs / 2], fcpu = flowd_cpu[o.runs / 2];
        printf("{\"bench\":\"sqlite_raw\",\"instances_per_s\":%.1f,\"commands_per_s\":%.1f,"
               "\"flowd_share\":%.3f,\"cpu_us_per_instance\":%.1f,\"flowd_cpu_share\":%.3f,"
               "\"rows_per_instance\":%zu,\"history_rows\":%zu,"
               "\"commands_per_transaction\":%zu,\"seconds\":%.3f,\"synchronous\":\"FULL\"}\n",
               ips, ips * 4, ips > 0 ? thr.instances_per_s / ips : 0,
               rcpu / (double)o.instances * 1e6, fcpu > 0 ? rcpu / fcpu : 0, raw_rows, n_events,
               batch, secs);
        fflush(stdout);
        bench_rawproc_stop(raw);
        raw = NULL;
    }

    if (!o.skip_latency) {
        double rate = o.latency_rate > 0 ? o.latency_rate : thr.commands_per_s / 2;
        fprintf(stderr, "flowd-bench: latency, %.0f commands/s for %.1f s\n", rate,
                o.latency_seconds);
        if (bench_flowd_latency(b, rate, o.latency_seconds, &lat, &err)) {
            status = fail("latency", &err);
            goto out;
        }
        printf("{\"bench\":\"flowd_latency\",\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
               "\"p999_ms\":%.3f,\"max_ms\":%.3f,\"commands_per_s\":%.1f,"
               "\"target_commands_per_s\":%.1f,\"instances_per_s\":%.1f,\"commands\":%zu,"
               "\"seconds\":%.3f}\n",
               lat.p50_ms, lat.p99_ms, lat.p999_ms, lat.max_ms, lat.commands_per_s,
               lat.target_commands_per_s, lat.instances_per_s, lat.commands, lat.seconds);
        fflush(stdout);
    }
    status = 0;
out:
    bench_flowd_close(b);
    bench_rawproc_stop(raw);
    if (!o.keep) {
        remove_db(db);
        remove_db(raw_db);
        rmdir(dir);
    }
    return status;
}
