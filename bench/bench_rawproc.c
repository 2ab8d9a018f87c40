/* The raw SQLite bench's child process (see bench_rawproc.h). Messages are fixed-size
 * structs written whole on pipes between a parent and the child it forked: same binary,
 * same machine, so no encoding is needed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flowd/alloc.h"
#include "flowd/err.h"

#include "bench_rawproc.h"
#include "bench_util.h"

#define MAX_EVENTS 256

enum op { OP_OPEN, OP_WRITE, OP_QUIT };

struct request {
    int op;
    size_t n; /* OP_WRITE: instances; OP_OPEN: events that follow */
    size_t batch;
    char db_path[4096];
};

struct reply {
    int rc;
    double seconds, cpu_seconds;
    size_t rows_per_instance;
    char msg[512];
};

struct bench_rawproc {
    pid_t pid;
    int to_child, from_child;
};

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

static void child_main(int in, int out)
{
    struct bench_raw *raw = NULL;
    struct bench_event_template *events = fl_calloc(MAX_EVENTS, sizeof *events);
    struct request rq;
    struct fl_error err;

    while (read_all(in, &rq, sizeof rq) == 0 && rq.op != OP_QUIT) {
        struct reply rp;
        memset(&rp, 0, sizeof rp);
        fl_error_clear(&err);
        if (rq.op == OP_OPEN) {
            size_t n = rq.n < MAX_EVENTS ? rq.n : MAX_EVENTS;
            if (n && read_all(in, events, n * sizeof *events) != 0)
                break;
            struct bench_raw_options opt = {.db_path = rq.db_path,
                                            .batch = rq.batch,
                                            .events = n ? events : NULL,
                                            .n_events = n};
            bench_raw_close(raw);
            raw = NULL;
            rp.rc = bench_raw_open(&opt, &raw, &err);
        } else if (raw) {
            double cpu0 = bench_cpu_s();
            rp.rc = bench_raw_write(raw, rq.n, &rp.seconds, &err);
            rp.cpu_seconds = bench_cpu_s() - cpu0;
            rp.rows_per_instance = bench_raw_rows_per_instance(raw);
        } else {
            rp.rc = fl_error_set(&err, FL_EINVAL, "raw bench not open");
        }
        if (rp.rc)
            snprintf(rp.msg, sizeof rp.msg, "%s", err.msg);
        if (write_all(out, &rp, sizeof rp) != 0)
            break;
    }
    bench_raw_close(raw);
    free(events);
}

int bench_rawproc_start(struct bench_rawproc **out, struct fl_error *err)
{
    int down[2], up[2];
    *out = NULL;
    if (pipe(down) != 0)
        return fl_error_set(err, FL_EIO, "pipe: %s", strerror(errno));
    if (pipe(up) != 0) {
        close(down[0]);
        close(down[1]);
        return fl_error_set(err, FL_EIO, "pipe: %s", strerror(errno));
    }
    fflush(NULL); /* the child must not write the parent's buffered output again */
    pid_t pid = fork();
    if (pid < 0) {
        close(down[0]);
        close(down[1]);
        close(up[0]);
        close(up[1]);
        return fl_error_set(err, FL_EIO, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(down[1]);
        close(up[0]);
        child_main(down[0], up[1]);
        _exit(0);
    }
    close(down[0]);
    close(up[1]);
    struct bench_rawproc *p = fl_calloc(1, sizeof *p);
    p->pid = pid;
    p->to_child = down[1];
    p->from_child = up[0];
    *out = p;
    return 0;
}

static int exchange(struct bench_rawproc *p, const struct request *rq, const void *extra,
                    size_t extra_len, struct reply *rp, struct fl_error *err)
{
    if (write_all(p->to_child, rq, sizeof *rq) != 0 ||
        (extra_len && write_all(p->to_child, extra, extra_len) != 0) ||
        read_all(p->from_child, rp, sizeof *rp) != 0)
        return fl_error_set(err, FL_EIO, "raw bench child process is gone");
    if (rp->rc)
        return fl_error_set(err, rp->rc, "%s", rp->msg);
    return 0;
}

int bench_rawproc_open(struct bench_rawproc *p, const struct bench_raw_options *opt,
                       struct fl_error *err)
{
    struct request rq;
    struct reply rp;
    memset(&rq, 0, sizeof rq);
    rq.op = OP_OPEN;
    rq.n = opt->events && opt->n_events <= MAX_EVENTS ? opt->n_events : 0;
    rq.batch = opt->batch;
    if (strlen(opt->db_path) >= sizeof rq.db_path)
        return fl_error_set(err, FL_EINVAL, "path too long: '%s'", opt->db_path);
    snprintf(rq.db_path, sizeof rq.db_path, "%s", opt->db_path);
    return exchange(p, &rq, opt->events, rq.n * sizeof *opt->events, &rp, err);
}

int bench_rawproc_write(struct bench_rawproc *p, size_t n, double *seconds, double *cpu_seconds,
                        size_t *rows_per_instance, struct fl_error *err)
{
    struct request rq;
    struct reply rp;
    memset(&rq, 0, sizeof rq);
    memset(&rp, 0, sizeof rp);
    rq.op = OP_WRITE;
    rq.n = n;
    int rc = exchange(p, &rq, NULL, 0, &rp, err);
    *seconds = rp.seconds;
    *cpu_seconds = rp.cpu_seconds;
    *rows_per_instance = rp.rows_per_instance;
    return rc;
}

void bench_rawproc_stop(struct bench_rawproc *p)
{
    if (!p)
        return;
    struct request rq;
    memset(&rq, 0, sizeof rq);
    rq.op = OP_QUIT;
    if (write_all(p->to_child, &rq, sizeof rq) != 0)
        kill(p->pid, SIGTERM);
    close(p->to_child);
    close(p->from_child);
    while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    free(p);
}
