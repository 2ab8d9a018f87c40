/* /healthz and the Prometheus text of /metrics: requests by route and status, command
 * latency (submit to durable acknowledgement) as a histogram, the writer's group-commit
 * batch sizes, open tasks and active instances. Counters are lock-free atomics bumped by
 * the MHD threads; /metrics reads the two gauges on a reader connection. */
#include <string.h>

#include "api/api_int.h"

/* Upper bounds of the latency buckets, in microseconds (the last is +Inf). */
static const int64_t lat_bounds_us[API_N_LAT_BUCKETS - 1] = {
    500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 250000, 500000, 1000000};

static int status_class(int status)
{
    if (status < 100 || status > 599)
        return 0;
    return status / 100; /* 1..5 */
}

void api_metrics_request(struct fl_server *srv, int route, int status)
{
    int idx = route >= 0 ? route : (int)api_n_routes;
    atomic_fetch_add(&srv->metrics.requests[idx][status_class(status)], 1);
    if (status >= 100 && status < 600)
        atomic_fetch_add(&srv->metrics.by_status[status], 1);
}

void api_metrics_command(struct fl_server *srv, int64_t us)
{
    int b = 0;
    while (b < API_N_LAT_BUCKETS - 1 && us > lat_bounds_us[b])
        b++;
    atomic_fetch_add(&srv->metrics.lat_count[b], 1);
    atomic_fetch_add(&srv->metrics.lat_sum_us, (uint64_t)(us > 0 ? us : 0));
    atomic_fetch_add(&srv->metrics.lat_n, 1);
}

int api_healthz(struct api_req *r)
{
    api_json_begin(r, 200);
    fl_buf_adds(&r->out, "{\"status\":\"ok\"}");
    return API_DONE;
}

/* The scheduler: fires by outcome, and lateness (committed at - due at) as a histogram. */
static void metrics_timers(struct fl_server *srv, struct fl_buf *b)
{
    static const int late_ms[FL_TIMER_LATE_BUCKETS - 1] = {1,   2,   5,   10,   20,  50,
                                                           100, 200, 500, 1000, 2000};
    struct fl_timer_stats ts;
    uint64_t cum = 0;
    fl_service_timer_stats(srv->svc, &ts);
    fl_buf_addf(b,
                "# HELP flowd_timers_fired_total Timers fired (committed).\n"
                "# TYPE flowd_timers_fired_total counter\nflowd_timers_fired_total %llu\n"
                "# HELP flowd_timers_gone_total Fires that found their timer gone (ignored).\n"
                "# TYPE flowd_timers_gone_total counter\nflowd_timers_gone_total %llu\n"
                "# HELP flowd_timers_retried_total Fires the store failed, tried again.\n"
                "# TYPE flowd_timers_retried_total counter\nflowd_timers_retried_total %llu\n"
                "# HELP flowd_timer_lateness_seconds Committed fire time minus due time.\n"
                "# TYPE flowd_timer_lateness_seconds histogram\n",
                (unsigned long long)ts.fired, (unsigned long long)ts.gone,
                (unsigned long long)ts.retried);
    for (int i = 0; i < FL_TIMER_LATE_BUCKETS; i++) {
        cum += ts.late_hist[i];
        if (i < FL_TIMER_LATE_BUCKETS - 1)
            fl_buf_addf(b, "flowd_timer_lateness_seconds_bucket{le=\"%g\"} %llu\n",
                        late_ms[i] / 1000.0, (unsigned long long)cum);
        else
            fl_buf_addf(b, "flowd_timer_lateness_seconds_bucket{le=\"+Inf\"} %llu\n",
                        (unsigned long long)cum);
    }
    fl_buf_addf(b, "flowd_timer_lateness_seconds_count %llu\n", (unsigned long long)cum);
}

/* Job workers: activation requests waiting in a long poll right now. */
static void metrics_jobs(struct fl_server *srv, struct fl_buf *b)
{
    fl_buf_addf(b,
                "# HELP flowd_job_polls_waiting Job activations waiting in a long poll.\n"
                "# TYPE flowd_job_polls_waiting gauge\nflowd_job_polls_waiting %zu\n",
                fl_service_jobs_waiting(srv->svc));
}

int api_metrics(struct api_req *r)
{
    struct fl_server *srv = r->srv;
    struct fl_buf *b = &r->out;
    struct fl_service_stats st;
    struct fl_store *s = NULL;
    struct fl_error e;
    uint64_t open_tasks = 0, active = 0, cum = 0;
    static const char *const classes[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
    int rc;

    fl_error_clear(&e);
    if ((rc = api_reader_get(srv, &s, &e)) == 0) {
        rc = fl_store_count_open(s, &open_tasks, &active, &e);
        api_reader_put(srv, s);
    }
    if (rc != 0)
        return api_problem(r, rc, &e);
    fl_service_stats(srv->svc, &st);
    r->status = 200;
    r->ctype = "text/plain; version=0.0.4";
    fl_buf_reset(b);
    fl_buf_adds(b, "# HELP flowd_http_requests_total HTTP requests by route and status class.\n"
                   "# TYPE flowd_http_requests_total counter\n");
    for (size_t i = 0; i <= api_n_routes; i++) {
        for (int c = 0; c < 6; c++) {
            uint64_t v = atomic_load(&srv->metrics.requests[i][c]);
            if (!v)
                continue;
            if (i < api_n_routes)
                fl_buf_addf(b,
                            "flowd_http_requests_total{method=\"%s\",route=\"%s\","
                            "status=\"%s\"} %llu\n",
                            api_routes[i].method, api_routes[i].pattern, classes[c],
                            (unsigned long long)v);
            else
                fl_buf_addf(b,
                            "flowd_http_requests_total{method=\"\",route=\"unmatched\","
                            "status=\"%s\"} %llu\n",
                            classes[c], (unsigned long long)v);
        }
    }
    fl_buf_adds(b, "# HELP flowd_http_responses_total HTTP responses by status code.\n"
                   "# TYPE flowd_http_responses_total counter\n");
    for (int code = 100; code < 600; code++) {
        uint64_t v = atomic_load(&srv->metrics.by_status[code]);
        if (v)
            fl_buf_addf(b, "flowd_http_responses_total{code=\"%d\"} %llu\n", code,
                        (unsigned long long)v);
    }
    fl_buf_adds(b, "# HELP flowd_command_seconds Command latency, submit to durable answer.\n"
                   "# TYPE flowd_command_seconds histogram\n");
    for (int i = 0; i < API_N_LAT_BUCKETS; i++) {
        cum += atomic_load(&srv->metrics.lat_count[i]);
        if (i < API_N_LAT_BUCKETS - 1)
            fl_buf_addf(b, "flowd_command_seconds_bucket{le=\"%g\"} %llu\n",
                        (double)lat_bounds_us[i] / 1e6, (unsigned long long)cum);
        else
            fl_buf_addf(b, "flowd_command_seconds_bucket{le=\"+Inf\"} %llu\n",
                        (unsigned long long)cum);
    }
    fl_buf_addf(b, "flowd_command_seconds_sum %.6f\nflowd_command_seconds_count %llu\n",
                (double)atomic_load(&srv->metrics.lat_sum_us) / 1e6,
                (unsigned long long)atomic_load(&srv->metrics.lat_n));
    fl_buf_adds(b, "# HELP flowd_commit_batch_size Commands per group-commit transaction.\n"
                   "# TYPE flowd_commit_batch_size histogram\n");
    cum = 0;
    for (int i = 0; i < FL_SERVICE_BATCH_BUCKETS; i++) {
        cum += st.batch_hist[i];
        if (i < FL_SERVICE_BATCH_BUCKETS - 1)
            fl_buf_addf(b, "flowd_commit_batch_size_bucket{le=\"%u\"} %llu\n", 1u << i,
                        (unsigned long long)cum);
        else
            fl_buf_addf(b, "flowd_commit_batch_size_bucket{le=\"+Inf\"} %llu\n",
                        (unsigned long long)cum);
    }
    fl_buf_addf(b,
                "flowd_commit_batch_size_sum %llu\nflowd_commit_batch_size_count %llu\n"
                "# HELP flowd_commands_total Commands executed by the writer.\n"
                "# TYPE flowd_commands_total counter\nflowd_commands_total %llu\n"
                "# HELP flowd_open_tasks Open tasks.\n# TYPE flowd_open_tasks gauge\n"
                "flowd_open_tasks %llu\n"
                "# HELP flowd_active_instances Active process instances.\n"
                "# TYPE flowd_active_instances gauge\nflowd_active_instances %llu\n",
                (unsigned long long)st.commands, (unsigned long long)st.batches,
                (unsigned long long)st.commands, (unsigned long long)open_tasks,
                (unsigned long long)active);
    metrics_timers(srv, b);
    metrics_jobs(srv, b);
    return API_DONE;
}
