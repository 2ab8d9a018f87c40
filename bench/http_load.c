/* flowd-httpbench: the HTTP load client of issue 3's figures. One thread, one epoll set,
 * N keep-alive connections to a running `flowd serve`; each connection drives one instance
 * of the reference process at a time over the real API (POST start, then per user task
 * POST complete and a GET of the instance's open task). Closed loop (each connection starts
 * its next instance at once: the maximum) or open loop (instances due evenly at --rate;
 * a start that waits for a free connection counts from when it was due). Prints one JSON
 * line with instances/s, requests/s, per-route latency, errors and the server's resident
 * set (idle, peak, growth over a soak) read from /proc. Run by bench/http, never a test. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"
#include "http_load.h"

#define OUT_MAX 1024
#define IN_CAP (4u << 20) /* an answer larger than this is an error */
#define MAX_DEPLOY (8u << 20)

enum route { R_START, R_COMPLETE, R_LOOKUP, R_N };
static const char *const route_name[R_N] = {"start", "complete", "lookup"};

struct options {
    const char *addr, *token, *deploy, *label;
    char process_key[128];
    unsigned port;
    size_t connections, tasks;
    double seconds, warmup, rate, rss_interval, idle_wait;
    pid_t pid;
};

struct conn {
    int fd;
    bool has_instance;
    enum route route;
    uint64_t instance_id, task_id;
    size_t tasks_done;
    double t_sent, t_due; /* request sent; instance due (open loop) or started */
    char out[OUT_MAX];
    size_t out_len, out_off;
    char *in;
    size_t in_len, in_cap;
    struct conn *next_idle;
};

struct load {
    struct options o;
    struct sockaddr_in sa;
    int ep;
    struct conn *conns;
    struct conn *idle; /* connections without an instance (open loop) */
    double t0, t_measure, t_end;
    uint64_t issued, seq;
    /* measured between t_measure and t_end */
    struct hist h[R_N], inst;
    uint64_t inst_done, requests, err_4xx, err_5xx, err_conn, err_parse;
    uint64_t backlog_max;
    double *rss;
    size_t n_rss, cap_rss;
    double rss_peak, next_rss, next_progress;
};

static void die(const char *what)
{
    fprintf(stderr, "flowd-httpbench: %s: %s\n", what, strerror(errno));
    exit(1);
}

static bool in_window(const struct load *l, double t)
{
    return t >= l->t_measure && t < l->t_end;
}

static int connect_one(const struct load *l, bool nonblock)
{
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket");
    if (connect(fd, (const struct sockaddr *)&l->sa, sizeof l->sa) != 0)
        die("connect");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (nonblock)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* Status, header length and total length of the answer at the front of buf; 0 when it is
 * not all there yet, -1 when it is malformed. */
static int parse_answer(const char *buf, size_t len, int *status, size_t *head, size_t *total,
                        bool *closing)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    const char *p;
    size_t clen = 0;
    bool have_len = false;
    if (!end)
        return len > IN_CAP ? -1 : 0;
    if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0)
        return -1;
    *status = atoi(buf + 9);
    *closing = false;
    for (p = memchr(buf, '\n', (size_t)(end - buf)); p && p < end;
         p = memchr(p, '\n', (size_t)(end - p))) {
        p++;
        if (!strncasecmp(p, "content-length:", 15)) {
            clen = strtoull(p + 15, NULL, 10);
            have_len = true;
        } else if (!strncasecmp(p, "connection:", 11)) {
            const char *v = p + 11;
            while (*v == ' ')
                v++;
            *closing = !strncasecmp(v, "close", 5);
        }
    }
    if (!have_len && *status != 204 && *status != 304)
        return -1;
    *head = (size_t)(end - buf) + 4;
    *total = *head + clen;
    if (*total > IN_CAP)
        return -1;
    return len >= *total ? 1 : 0;
}

/* The number after the first `key` at or after from in body[0..len); 0 when absent. */
static uint64_t json_id_after(const char *body, size_t len, const char *from, const char *key)
{
    const char *p = body, *end = body + len;
    size_t kl = strlen(key);
    if (from) {
        p = memmem(body, len, from, strlen(from));
        if (!p)
            return 0;
    }
    p = memmem(p, (size_t)(end - p), key, kl);
    if (!p)
        return 0;
    return strtoull(p + kl, NULL, 10);
}

static void watch(struct load *l, struct conn *c, bool out)
{
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        die("epoll_ctl");
}

static void flush_out(struct load *l, struct conn *c);

static void send_request(struct load *l, struct conn *c, enum route rt)
{
    char body[160], path[96];
    const char *method = "POST";
    int blen = 0, n;
    switch (rt) {
    case R_START:
        blen = snprintf(body, sizeof body, "{\"process_key\":\"%s\",\"variables\":{\"amount\":%d}}",
                        l->o.process_key, l->seq++ % 2 == 0 ? 5000 : 500);
        snprintf(path, sizeof path, "/api/v1/instances");
        break;
    case R_COMPLETE:
        blen = snprintf(body, sizeof body, "{}");
        snprintf(path, sizeof path, "/api/v1/tasks/%llu/complete", (unsigned long long)c->task_id);
        break;
    case R_LOOKUP:
    default:
        method = "GET";
        snprintf(path, sizeof path, "/api/v1/tasks?instance=%llu",
                 (unsigned long long)c->instance_id);
        break;
    }
    if (rt == R_LOOKUP)
        n = snprintf(c->out, OUT_MAX,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", path,
                     l->o.addr, l->o.token);
    else
        n = snprintf(c->out, OUT_MAX,
                     "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                     method, path, l->o.addr, l->o.token, blen, body);
    if (n < 0 || n >= OUT_MAX) {
        fprintf(stderr, "flowd-httpbench: request too long\n");
        exit(1);
    }
    c->route = rt;
    c->out_len = (size_t)n;
    c->out_off = 0;
    c->t_sent = bench_now_s();
    flush_out(l, c);
}

static void begin_instance(struct load *l, struct conn *c, double due)
{
    c->has_instance = true;
    c->instance_id = c->task_id = 0;
    c->tasks_done = 0;
    c->t_due = due;
    send_request(l, c, R_START);
}

/* The connection's instance is over (done or abandoned): the next one, or idle. */
static void next_instance(struct load *l, struct conn *c)
{
    double now = bench_now_s();
    c->has_instance = false;
    if (now >= l->t_end)
        return;
    if (l->o.rate <= 0) {
        begin_instance(l, c, now);
        return;
    }
    c->next_idle = l->idle;
    l->idle = c;
}

static void reconnect(struct load *l, struct conn *c)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = connect_one(l, true);
    c->in_len = 0;
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
        die("epoll_ctl");
}

static void conn_failed(struct load *l, struct conn *c)
{
    if (c->has_instance && in_window(l, bench_now_s()))
        l->err_conn++;
    reconnect(l, c);
    if (c->has_instance)
        next_instance(l, c);
}

static void flush_out(struct load *l, struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            watch(l, c, true);
            return;
        }
        if (n <= 0) {
            conn_failed(l, c);
            return;
        }
        c->out_off += (size_t)n;
    }
}

/* One whole answer to c's request: record it and send what comes next. */
static void on_answer(struct load *l, struct conn *c, int status, const char *body, size_t blen)
{
    double now = bench_now_s();
    bool counted = in_window(l, now);
    /* A start counts from when it was due: waiting for a free connection is latency too. */
    double from = c->route == R_START ? c->t_due : c->t_sent;
    uint64_t id;
    if (counted) {
        hist_add(&l->h[c->route], (now - from) * 1e6);
        l->requests++;
    }
    if (status < 200 || status > 299) {
        if (counted) {
            if (status >= 500)
                l->err_5xx++;
            else
                l->err_4xx++;
            if (l->err_4xx + l->err_5xx <= 5)
                fprintf(stderr, "flowd-httpbench: %s answered %d: %.*s\n", route_name[c->route],
                        status, (int)(blen > 300 ? 300 : blen), body);
        }
        next_instance(l, c);
        return;
    }
    switch (c->route) {
    case R_START:
        c->instance_id = json_id_after(body, blen, NULL, "\"id\":");
        c->task_id = json_id_after(body, blen, "\"open_tasks\":[", "\"id\":");
        break;
    case R_COMPLETE:
        if (++c->tasks_done == l->o.tasks) {
            if (counted) {
                l->inst_done++;
                hist_add(&l->inst, (now - c->t_due) * 1e6);
            }
            next_instance(l, c);
            return;
        }
        /* The answer names the task the completion opened; look it up only if not. */
        if ((c->task_id = json_id_after(body, blen, NULL, "\"opened_task_id\":")) != 0)
            break;
        send_request(l, c, R_LOOKUP);
        return;
    case R_LOOKUP:
    default:
        c->task_id = json_id_after(body, blen, "\"items\":[", "\"id\":");
        break;
    }
    id = c->task_id;
    if (!id || !c->instance_id) {
        if (counted)
            l->err_parse++;
        next_instance(l, c);
        return;
    }
    send_request(l, c, R_COMPLETE);
}

static void on_readable(struct load *l, struct conn *c)
{
    for (;;) {
        ssize_t n;
        if (c->in_cap - c->in_len < 4096) {
            c->in_cap *= 2;
            c->in = realloc(c->in, c->in_cap);
            if (!c->in)
                abort();
        }
        n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            conn_failed(l, c);
            return;
        }
        c->in_len += (size_t)n;
        if ((size_t)n < c->in_cap - c->in_len)
            break;
    }
    for (;;) {
        int status = 0, rc;
        size_t head = 0, total = 0;
        bool closing = false;
        rc = parse_answer(c->in, c->in_len, &status, &head, &total, &closing);
        if (rc < 0) {
            if (in_window(l, bench_now_s()))
                l->err_parse++;
            conn_failed(l, c);
            return;
        }
        if (rc == 0)
            return;
        /* Keep-alive without pipelining: one answer per request. */
        c->in_len -= total;
        if (closing) {
            /* The answer counts; the next request goes on a new connection. */
            c->in_len = 0;
            reconnect(l, c);
        }
        on_answer(l, c, status, c->in + head, total - head);
        if (c->in_len == 0)
            return;
        memmove(c->in, c->in + total, c->in_len);
    }
}

/* One request on a fresh blocking connection (set-up): the status, the body in *body
 * (caller frees). */
static int request_once(const struct load *l, const char *method, const char *path,
                        const char *ctype, const char *data, size_t dlen, char **body)
{
    int fd = connect_one(l, false), status = 0, rc = 0;
    size_t cap = 65536, len = 0, head = 0, total = 0;
    char *buf = malloc(cap), hdr[512];
    bool closing;
    int hn = snprintf(hdr, sizeof hdr,
                      "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                      "Content-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                      method, path, l->o.addr, l->o.token, ctype, dlen);
    if (!buf || hn < 0 || (size_t)hn >= sizeof hdr)
        abort();
    if (send(fd, hdr, (size_t)hn, MSG_NOSIGNAL) != hn ||
        (dlen && send(fd, data, dlen, MSG_NOSIGNAL) != (ssize_t)dlen))
        die("send");
    while ((rc = parse_answer(buf, len, &status, &head, &total, &closing)) == 0) {
        ssize_t n;
        if (cap - len < 4096 && !(buf = realloc(buf, cap *= 2)))
            abort();
        n = recv(fd, buf + len, cap - len - 1, 0);
        if (n <= 0)
            die("recv");
        len += (size_t)n;
    }
    close(fd);
    if (rc < 0) {
        fprintf(stderr, "flowd-httpbench: malformed answer to %s %s\n", method, path);
        exit(1);
    }
    memmove(buf, buf + head, total - head);
    buf[total - head] = '\0';
    *body = buf;
    return status;
}

static void deploy(struct load *l)
{
    FILE *f = fopen(l->o.deploy, "rb");
    char *xml = malloc(MAX_DEPLOY), *body = NULL;
    const char *k;
    size_t n;
    int status;
    if (!f)
        die(l->o.deploy);
    if (!xml)
        abort();
    n = fread(xml, 1, MAX_DEPLOY, f);
    fclose(f);
    status = request_once(l, "POST", "/api/v1/deployments", "application/xml", xml, n, &body);
    free(xml);
    if (status != 200 && status != 201) {
        fprintf(stderr, "flowd-httpbench: deploy answered %d: %s\n", status, body);
        exit(1);
    }
    if (!l->o.process_key[0]) {
        if (!(k = strstr(body, "\"key\":\""))) {
            fprintf(stderr, "flowd-httpbench: no process key in the deploy answer: %s\n", body);
            exit(1);
        }
        k += 7;
        n = strcspn(k, "\"");
        if (n >= sizeof l->o.process_key)
            n = sizeof l->o.process_key - 1;
        memcpy(l->o.process_key, k, n);
        l->o.process_key[n] = '\0';
    }
    free(body);
}

static void sample_rss(struct load *l, double now)
{
    double mb;
    if (!l->o.pid || now < l->next_rss)
        return;
    l->next_rss = now + l->o.rss_interval;
    if ((mb = proc_rss_mb(l->o.pid)) < 0)
        return;
    if (now >= l->t_measure) {
        if (mb > l->rss_peak)
            l->rss_peak = mb;
        if (l->n_rss == l->cap_rss) {
            l->cap_rss = l->cap_rss ? l->cap_rss * 2 : 256;
            if (!(l->rss = realloc(l->rss, l->cap_rss * sizeof *l->rss)))
                abort();
        }
        l->rss[l->n_rss++] = mb;
    }
}

static void dispatch_due(struct load *l, double now)
{
    uint64_t due, backlog;
    if (l->o.rate <= 0 || now >= l->t_end)
        return;
    due = (uint64_t)((now - l->t0) * l->o.rate);
    while (l->issued < due && l->idle) {
        struct conn *c = l->idle;
        l->idle = c->next_idle;
        begin_instance(l, c, l->t0 + (double)l->issued / l->o.rate);
        l->issued++;
    }
    backlog = due - l->issued;
    if (in_window(l, now) && backlog > l->backlog_max)
        l->backlog_max = backlog;
}

static void progress(struct load *l, double now, uint64_t *last_inst, double *last_t)
{
    if (now < l->next_progress)
        return;
    l->next_progress = now + 10;
    if (now >= l->t_measure)
        fprintf(stderr,
                "flowd-httpbench: t=%.0fs instances/s=%.0f p99_start_ms=%.2f errors=%llu "
                "rss_mb=%.1f\n",
                now - l->t0, (double)(l->inst_done - *last_inst) / (now - *last_t),
                hist_pct_ms(&l->h[R_START], 99),
                (unsigned long long)(l->err_4xx + l->err_5xx + l->err_conn + l->err_parse),
                l->n_rss ? l->rss[l->n_rss - 1] : 0.0);
    *last_inst = l->inst_done;
    *last_t = now;
}

static void run(struct load *l)
{
    struct epoll_event evs[256];
    uint64_t last_inst = 0;
    double now, last_t;
    if ((l->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        die("epoll_create1");
    l->conns = calloc(l->o.connections, sizeof *l->conns);
    if (!l->conns)
        abort();
    for (size_t i = 0; i < l->o.connections; i++) {
        struct conn *c = &l->conns[i];
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        c->fd = connect_one(l, true);
        c->in_cap = 16384;
        if (!(c->in = malloc(c->in_cap)))
            abort();
        if (epoll_ctl(l->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
            die("epoll_ctl");
    }
    l->t0 = bench_now_s();
    l->t_measure = l->t0 + l->o.warmup;
    l->t_end = l->t_measure + l->o.seconds;
    l->next_progress = l->t_measure + 10;
    last_t = l->t_measure;
    for (size_t i = l->o.connections; i-- > 0;) {
        if (l->o.rate <= 0) {
            begin_instance(l, &l->conns[i], l->t0);
        } else {
            l->conns[i].next_idle = l->idle;
            l->idle = &l->conns[i];
        }
    }
    while ((now = bench_now_s()) < l->t_end) {
        int n;
        dispatch_due(l, now);
        sample_rss(l, now);
        progress(l, now, &last_inst, &last_t);
        n = epoll_wait(l->ep, evs, 256, l->o.rate > 0 ? 1 : 50);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (evs[i].events & EPOLLOUT) {
                watch(l, c, false);
                flush_out(l, c);
            }
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                on_readable(l, c);
        }
    }
    for (size_t i = 0; i < l->o.connections; i++) {
        close(l->conns[i].fd);
        free(l->conns[i].in);
    }
    free(l->conns);
    close(l->ep);
}

static double mean(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return n ? s / (double)n : 0;
}

static void report(struct load *l, double rss_idle, double rss_after, double srv_cpu,
                   double cli_cpu)
{
    struct hist *all = calloc(1, sizeof *all);
    double secs = l->o.seconds, base = 0, end = 0, la[1] = {0};
    uint64_t commands = l->h[R_START].n + l->h[R_COMPLETE].n;
    size_t tenth = l->n_rss / 10 ? l->n_rss / 10 : 1;
    if (!all)
        abort();
    for (int r = 0; r < R_N; r++)
        hist_merge(all, &l->h[r]);
    getloadavg(la, 1);
    printf("{\"bench\":\"%s\",\"mode\":\"%s\",\"connections\":%zu,", l->o.label,
           l->o.rate > 0 ? "open" : "closed", l->o.connections);
    if (l->o.rate > 0)
        printf("\"target_instances_per_s\":%.1f,", l->o.rate);
    printf("\"seconds\":%.1f,\"instances_per_s\":%.1f,\"requests_per_s\":%.1f,"
           "\"commands_per_s\":%.1f,\"instances\":%llu,\"requests\":%llu,",
           secs, (double)l->inst_done / secs, (double)l->requests / secs, (double)commands / secs,
           (unsigned long long)l->inst_done, (unsigned long long)l->requests);
    printf("\"errors\":%llu,\"errors_4xx\":%llu,\"errors_5xx\":%llu,\"errors_conn\":%llu,"
           "\"errors_parse\":%llu,",
           (unsigned long long)(l->err_4xx + l->err_5xx + l->err_conn + l->err_parse),
           (unsigned long long)l->err_4xx, (unsigned long long)l->err_5xx,
           (unsigned long long)l->err_conn, (unsigned long long)l->err_parse);
    printf("\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,", hist_pct_ms(all, 50),
           hist_pct_ms(all, 90), hist_pct_ms(all, 99), hist_pct_ms(all, 100));
    printf("\"routes\":{");
    for (int r = 0; r < R_N; r++) {
        hist_print_json(stdout, route_name[r], &l->h[r]);
        putchar(',');
    }
    hist_print_json(stdout, "instance", &l->inst);
    printf("},");
    if (l->o.rate > 0)
        printf("\"backlog_max\":%llu,", (unsigned long long)l->backlog_max);
    if (l->o.pid && l->n_rss) {
        /* Growth: the mean of the last tenth of the samples against the first tenth after
         * the warm-up, so one sample's noise does not decide it. */
        base = mean(l->rss, tenth);
        end = mean(l->rss + l->n_rss - tenth, tenth);
        printf("\"rss_idle_mb\":%.1f,\"rss_peak_mb\":%.1f,\"rss_after_mb\":%.1f,"
               "\"rss_baseline_mb\":%.1f,\"rss_end_mb\":%.1f,\"rss_growth_pct\":%.2f,",
               rss_idle, l->rss_peak, rss_after, base, end,
               base > 0 ? (end - base) / base * 100 : 0);
        if (secs >= 60) {
            size_t step = l->n_rss / 60 ? l->n_rss / 60 : 1;
            printf("\"rss_series_mb\":[");
            for (size_t i = 0; i < l->n_rss; i += step)
                printf("%s%.1f", i ? "," : "", l->rss[i]);
            printf("],");
        }
        printf("\"server_cpu_per_s\":%.2f,", srv_cpu / (secs + l->o.warmup));
    }
    printf("\"client_cpu_per_s\":%.2f,\"loadavg_1m\":%.2f,\"cores\":%ld}\n",
           cli_cpu / (secs + l->o.warmup), la[0], sysconf(_SC_NPROCESSORS_ONLN));
    fflush(stdout);
    free(all);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: flowd-httpbench --port PORT --token TOKEN [options]\n"
               "  --addr A           server address (default 127.0.0.1)\n"
               "  --port P           server port\n"
               "  --token T          API token with write scope (admin for --deploy); or\n"
               "                     FLOWD_TOKEN\n"
               "  --deploy FILE      POST this BPMN first and run its process\n"
               "  --process-key K    the process to start (default: the deployed one)\n"
               "  --tasks N          user tasks per instance, in sequence (default 3)\n"
               "  --connections N    keep-alive connections (default 64)\n"
               "  --rate R           open loop: R instances/s due evenly; 0 = closed loop\n"
               "                     (default 0)\n"
               "  --seconds S        measured seconds (default 10)\n"
               "  --warmup S         seconds run before measuring (default 2)\n"
               "  --pid PID          the server's process: resident set and CPU from /proc\n"
               "  --rss-interval S   resident set sampling period (default 1)\n"
               "  --idle-wait S      after the load, wait S then read the idle resident set\n"
               "                     (default 2)\n"
               "  --label NAME       the bench name on the JSON line (default http_closed or\n"
               "                     http_open)\n");
}

static double num(const char *opt, const char *v, double min)
{
    char *end;
    double d;
    errno = 0;
    d = v ? strtod(v, &end) : 0;
    if (!v || errno || end == v || *end || d < min) {
        fprintf(stderr, "flowd-httpbench: bad value for %s\n", opt);
        usage(stderr);
        exit(2);
    }
    return d;
}

static void parse_options(int argc, char **argv, struct options *o)
{
    *o = (struct options){.addr = "127.0.0.1",
                          .token = getenv("FLOWD_TOKEN"),
                          .connections = 64,
                          .tasks = 3,
                          .seconds = 10,
                          .warmup = 2,
                          .rss_interval = 1,
                          .idle_wait = 2};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        }
        if (!v) {
            fprintf(stderr, "flowd-httpbench: '%s' needs a value or is unknown\n", a);
            exit(2);
        }
        i++;
        if (!strcmp(a, "--addr"))
            o->addr = v;
        else if (!strcmp(a, "--port"))
            o->port = (unsigned)num(a, v, 1);
        else if (!strcmp(a, "--token"))
            o->token = v;
        else if (!strcmp(a, "--deploy"))
            o->deploy = v;
        else if (!strcmp(a, "--process-key"))
            snprintf(o->process_key, sizeof o->process_key, "%s", v);
        else if (!strcmp(a, "--tasks"))
            o->tasks = (size_t)num(a, v, 1);
        else if (!strcmp(a, "--connections"))
            o->connections = (size_t)num(a, v, 1);
        else if (!strcmp(a, "--rate"))
            o->rate = num(a, v, 0);
        else if (!strcmp(a, "--seconds"))
            o->seconds = num(a, v, 0.1);
        else if (!strcmp(a, "--warmup"))
            o->warmup = num(a, v, 0);
        else if (!strcmp(a, "--pid"))
            o->pid = (pid_t)num(a, v, 1);
        else if (!strcmp(a, "--rss-interval"))
            o->rss_interval = num(a, v, 0.01);
        else if (!strcmp(a, "--idle-wait"))
            o->idle_wait = num(a, v, 0);
        else if (!strcmp(a, "--label"))
            o->label = v;
        else {
            fprintf(stderr, "flowd-httpbench: unknown option '%s'\n", a);
            usage(stderr);
            exit(2);
        }
    }
    if (!o->port || !o->token || !*o->token || (!o->deploy && !o->process_key[0])) {
        fprintf(stderr, "flowd-httpbench: needs --port, --token and --deploy or --process-key\n");
        usage(stderr);
        exit(2);
    }
    if (!o->label)
        o->label = o->rate > 0 ? "http_open" : "http_closed";
}

int main(int argc, char **argv)
{
    static struct load l; /* the histograms are large */
    double rss_idle = -1, rss_after = -1, srv_cpu0 = 0, srv_cpu = 0, cli_cpu0;
    parse_options(argc, argv, &l.o);
    l.sa.sin_family = AF_INET;
    l.sa.sin_port = htons((uint16_t)l.o.port);
    if (inet_pton(AF_INET, l.o.addr, &l.sa.sin_addr) != 1) {
        fprintf(stderr, "flowd-httpbench: '%s' is not an IPv4 address\n", l.o.addr);
        return 2;
    }
    if (l.o.deploy)
        deploy(&l);
    if (l.o.pid) {
        rss_idle = proc_rss_mb(l.o.pid);
        srv_cpu0 = proc_cpu_s(l.o.pid);
    }
    cli_cpu0 = bench_cpu_s();
    fprintf(stderr,
            "flowd-httpbench: %s loop, %zu connections%s, process '%s', %.0f s + %.0f s "
            "warm-up\n",
            l.o.rate > 0 ? "open" : "closed", l.o.connections, l.o.rate > 0 ? ", rate" : "",
            l.o.process_key, l.o.seconds, l.o.warmup);
    run(&l);
    if (l.o.pid) {
        srv_cpu = proc_cpu_s(l.o.pid) - srv_cpu0;
        if (l.o.idle_wait > 0)
            usleep((useconds_t)(l.o.idle_wait * 1e6));
        rss_after = proc_rss_mb(l.o.pid);
    }
    report(&l, rss_idle, rss_after, srv_cpu, bench_cpu_s() - cli_cpu0);
    free(l.rss);
    return 0;
}
