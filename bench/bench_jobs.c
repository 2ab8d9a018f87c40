/* flowd-bench-jobs: job worker figures, one JSON object per line on stdout. N instances
 * of start -> service task -> end are started; then T worker threads activate (one job
 * per activation, then --batch jobs per activation) until every job is locked, and
 * complete them all. Each activation is a durable write (the locks) through the group
 * commit, as over HTTP but without the HTTP. Run by hand, never as a test:
 *   flowd-bench-jobs [--jobs N] [--threads T] [--batch B] [--sync 0|1|2] DIR */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/jobs.h"
#include "flowd/service.h"

#include "bench_util.h"

static const char process_xml[] =
    "<?xml version=\"1.0\"?><bpmn:definitions"
    " xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\""
    " xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" targetNamespace=\"t\">"
    "<bpmn:process id=\"pay\" isExecutable=\"true\"><bpmn:startEvent id=\"s\"/>"
    "<bpmn:sequenceFlow id=\"f0\" sourceRef=\"s\" targetRef=\"charge\"/>"
    "<bpmn:serviceTask id=\"charge\"><bpmn:extensionElements>"
    "<zeebe:taskDefinition type=\"charge\"/></bpmn:extensionElements></bpmn:serviceTask>"
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"charge\" targetRef=\"e\"/>"
    "<bpmn:endEvent id=\"e\"/></bpmn:process></bpmn:definitions>";

struct run {
    struct fl_service *svc;
    size_t batch;
    _Atomic size_t activations, jobs;
    uint64_t *ids; /* every job id activated */
    _Atomic size_t n_ids;
    size_t cap_ids;
    _Atomic size_t completed;
};

static void *worker(void *arg)
{
    struct run *r = arg;
    struct fl_job_activation a = {
        .type = "charge", .worker = "bench", .max_jobs = r->batch, .lock_ms = 3600000};
    for (;;) {
        struct fl_activated_job *jobs;
        size_t n;
        if (fl_service_jobs_activate_wait(r->svc, &a, &jobs, &n, NULL) != 0 || n == 0)
            return NULL;
        atomic_fetch_add(&r->activations, 1);
        for (size_t i = 0; i < n; i++) {
            size_t k = atomic_fetch_add(&r->n_ids, 1);
            if (k < r->cap_ids)
                r->ids[k] = jobs[i].job.id;
        }
        fl_activated_jobs_free(jobs, n);
    }
}

static void completed(void *arg, const struct fl_result *res)
{
    struct run *r = arg;
    if (res->rc == 0)
        atomic_fetch_add(&r->completed, 1);
}

static void started(void *arg, const struct fl_result *res)
{
    (void)arg;
    (void)res;
}

static double activate_all(struct run *r, size_t threads, size_t batch)
{
    pthread_t *t = calloc(threads, sizeof(*t));
    double t0 = bench_now_s();
    r->batch = batch;
    atomic_store(&r->activations, 0);
    for (size_t i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, worker, r);
    for (size_t i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    free(t);
    return bench_now_s() - t0;
}

int main(int argc, char **argv)
{
    size_t jobs = 20000, threads = 16, batch = 32;
    int sync = 2;
    const char *dir = NULL;
    char url[512], path[512];
    struct fl_service_options o = {0};
    struct fl_deploy_result dr;
    struct run r;
    size_t n;
    double dt;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--jobs") && i + 1 < argc)
            jobs = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--sync") && i + 1 < argc)
            sync = atoi(argv[++i]);
        else
            dir = argv[i];
    }
    if (!dir) {
        fprintf(stderr, "usage: flowd-bench-jobs [--jobs N] [--threads T] [--batch B] "
                        "[--sync 0|1|2] DIR\n");
        return 1;
    }
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof(path), "%s/jobs-%d.db", dir, k);
        remove(path);
        snprintf(url, sizeof(url), "%s/jobs-%d.db-wal", dir, k);
        remove(url);
    }
    memset(&r, 0, sizeof(r));
    r.cap_ids = jobs;
    r.ids = calloc(jobs, sizeof(*r.ids));
    snprintf(url, sizeof(url), "sqlite:%s/jobs-0.db", dir);
    o.db_url = url;
    o.synchronous = sync;
    o.synchronous_set = true;
    if (fl_service_open(&o, &r.svc, NULL) != 0 ||
        fl_service_deploy(r.svc, process_xml, strlen(process_xml), &dr, 1, &n, NULL) != 0) {
        fprintf(stderr, "cannot open or deploy\n");
        return 1;
    }
    for (int round = 0; round < 2; round++) {
        size_t per = round == 0 ? 1 : batch;
        struct fl_command start = {.kind = FL_CMD_START, .process_key = "pay"};
        struct fl_result res;
        for (size_t i = 0; i < jobs; i++)
            fl_service_submit(r.svc, &start, started, NULL);
        fl_service_run(r.svc, &(struct fl_command){.kind = FL_CMD_CANCEL, .instance_id = 999999999},
                       &res); /* a barrier: every start above has committed */
        atomic_store(&r.n_ids, 0);
        dt = activate_all(&r, threads, per);
        printf("{\"bench\":\"jobs_activate\",\"jobs\":%zu,\"per_activation\":%zu,"
               "\"threads\":%zu,\"sync\":%d,\"activations\":%zu,\"seconds\":%.3f,"
               "\"activations_per_s\":%.0f,\"jobs_per_s\":%.0f}\n",
               atomic_load(&r.n_ids), per, threads, sync, atomic_load(&r.activations), dt,
               atomic_load(&r.activations) / dt, atomic_load(&r.n_ids) / dt);
        fflush(stdout);
        /* complete them all (asynchronously, the group commit batching them) */
        atomic_store(&r.completed, 0);
        double t0 = bench_now_s();
        size_t got = atomic_load(&r.n_ids) < r.cap_ids ? atomic_load(&r.n_ids) : r.cap_ids;
        for (size_t i = 0; i < got; i++) {
            struct fl_command c = {
                .kind = FL_CMD_COMPLETE_JOB, .target_id = r.ids[i], .actor = "bench"};
            fl_service_submit(r.svc, &c, completed, &r);
        }
        fl_service_run(r.svc, &(struct fl_command){.kind = FL_CMD_CANCEL, .instance_id = 999999999},
                       &res);
        dt = bench_now_s() - t0;
        printf("{\"bench\":\"jobs_complete\",\"jobs\":%zu,\"completed\":%zu,\"seconds\":%.3f,"
               "\"completions_per_s\":%.0f}\n",
               got, atomic_load(&r.completed), dt, atomic_load(&r.completed) / dt);
        fflush(stdout);
    }
    fl_service_close(r.svc);
    free(r.ids);
    return 0;
}
