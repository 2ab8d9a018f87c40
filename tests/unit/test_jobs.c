/* Unit tests of job workers and incidents through the service, on a test clock (moved by
 * hand, never slept on): activation locks jobs and hands out variables and task headers;
 * a second worker gets nothing until the lock runs out, then the job; a worker that lost
 * its lock is refused; failing with a backoff keeps the job back until it ends; retries
 * run out into an incident, resolving it creates the job again and the instance ends; an
 * incident raised while leaving a node is retried by leaving again (no second job); an
 * incident survives a restart of the service; long polls are answered when a job is
 * created, when a lock runs out, and when their time is up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#include <cmocka.h>

#include "flowd/jobs.h"
#include "flowd/service.h"
#include "flowd/store.h"
#include "flowd/value.h"
#include "svc_fixture.h"

#define T0 1700000000000LL

#define DEFS_OPEN                                                                                  \
    "<?xml version=\"1.0\"?><bpmn:definitions"                                                     \
    " xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\""                                  \
    " xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" targetNamespace=\"t\">"

/* start -> charge (job "charge", 2 retries, two headers) -> end */
static const char CHARGE_XML[] =
    DEFS_OPEN "<bpmn:process id=\"pay\" isExecutable=\"true\"><bpmn:startEvent id=\"s\"/>"
              "<bpmn:sequenceFlow id=\"f0\" sourceRef=\"s\" targetRef=\"charge\"/>"
              "<bpmn:serviceTask id=\"charge\"><bpmn:extensionElements>"
              "<zeebe:taskDefinition type=\"charge\" retries=\"2\"/>"
              "<zeebe:taskHeaders><zeebe:header key=\"currency\" value=\"EUR\"/>"
              "<zeebe:header key=\"mode\" value=\"live\"/></zeebe:taskHeaders>"
              "</bpmn:extensionElements></bpmn:serviceTask>"
              "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"charge\" targetRef=\"e\"/>"
              "<bpmn:endEvent id=\"e\"/></bpmn:process></bpmn:definitions>";

/* start -> calc (job "calc") -> big / small by conditions on `amount` (no default) */
static const char CALC_XML[] =
    DEFS_OPEN "<bpmn:process id=\"calcp\" isExecutable=\"true\"><bpmn:startEvent id=\"s\"/>"
              "<bpmn:sequenceFlow id=\"f0\" sourceRef=\"s\" targetRef=\"calc\"/>"
              "<bpmn:serviceTask id=\"calc\"><bpmn:extensionElements>"
              "<zeebe:taskDefinition type=\"calc\"/></bpmn:extensionElements></bpmn:serviceTask>"
              "<bpmn:sequenceFlow id=\"fb\" sourceRef=\"calc\" targetRef=\"big\">"
              "<bpmn:conditionExpression>= amount &gt; 10</bpmn:conditionExpression>"
              "</bpmn:sequenceFlow>"
              "<bpmn:sequenceFlow id=\"fs\" sourceRef=\"calc\" targetRef=\"small\">"
              "<bpmn:conditionExpression>= amount &lt;= 10</bpmn:conditionExpression>"
              "</bpmn:sequenceFlow>"
              "<bpmn:endEvent id=\"big\"/><bpmn:endEvent id=\"small\"/>"
              "</bpmn:process></bpmn:definitions>";

/* start -> charge (job "charge2") -> ok, or its error boundary (CARD_DECLINED) -> bad */
static const char CATCH_XML[] =
    DEFS_OPEN "<bpmn:error id=\"Err1\" name=\"Declined\" errorCode=\"CARD_DECLINED\"/>"
              "<bpmn:process id=\"pay2\" isExecutable=\"true\"><bpmn:startEvent id=\"s\"/>"
              "<bpmn:sequenceFlow id=\"f0\" sourceRef=\"s\" targetRef=\"charge\"/>"
              "<bpmn:serviceTask id=\"charge\"><bpmn:extensionElements>"
              "<zeebe:taskDefinition type=\"charge2\"/></bpmn:extensionElements>"
              "</bpmn:serviceTask>"
              "<bpmn:boundaryEvent id=\"declined\" attachedToRef=\"charge\">"
              "<bpmn:errorEventDefinition errorRef=\"Err1\"/></bpmn:boundaryEvent>"
              "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"charge\" targetRef=\"ok\"/>"
              "<bpmn:endEvent id=\"ok\"/>"
              "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"declined\" targetRef=\"bad\"/>"
              "<bpmn:endEvent id=\"bad\"/></bpmn:process></bpmn:definitions>";

/* start -> review (a user task due at `= due`) -> end */
static const char REVIEW_XML[] =
    "<?xml version=\"1.0\"?><bpmn:definitions"
    " xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\""
    " xmlns:camunda=\"http://camunda.org/schema/1.0/bpmn\" targetNamespace=\"t\">"
    "<bpmn:process id=\"review\" isExecutable=\"true\"><bpmn:startEvent id=\"s\"/>"
    "<bpmn:sequenceFlow id=\"f0\" sourceRef=\"s\" targetRef=\"check\"/>"
    "<bpmn:userTask id=\"check\" camunda:dueDate=\"= due\"/>"
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"check\" targetRef=\"e\"/>"
    "<bpmn:endEvent id=\"e\"/></bpmn:process></bpmn:definitions>";

struct fixture {
    char dir[64];
    char url[128];
    struct fl_service *svc;
    struct fl_store *rd;
};

static struct fl_service *open_svc(struct fixture *f)
{
    struct fl_service_options o = {.db_url = f->url,
                                   .synchronous = 0,
                                   .synchronous_set = true,
                                   .test_clock = true,
                                   .test_clock_start_ms = T0};
    struct fl_service *svc = NULL;
    struct fl_error e;
    fl_error_clear(&e);
    int rc = fl_service_open(&o, &svc, &e);
    if (rc)
        fprintf(stderr, "service open: %s\n", e.msg);
    assert_int_equal(rc, 0);
    return svc;
}

static void deploy(struct fl_service *svc, const char *xml)
{
    struct fl_deploy_result r;
    struct fl_error e;
    size_t n;
    fl_error_clear(&e);
    int rc = fl_service_deploy(svc, xml, strlen(xml), &r, 1, &n, &e);
    if (rc)
        fprintf(stderr, "deploy: %s\n", e.msg);
    assert_int_equal(rc, 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct fl_store_options ro = {.read_only = true};
    if (svc_tmpdir(f->dir))
        return -1;
    snprintf(f->url, sizeof(f->url), "sqlite:%s/t.db", f->dir);
    f->svc = open_svc(f);
    deploy(f->svc, CHARGE_XML);
    deploy(f->svc, CALC_XML);
    deploy(f->svc, REVIEW_XML);
    deploy(f->svc, CATCH_XML);
    assert_int_equal(fl_store_open(f->url, &ro, &f->rd, NULL), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fl_store_close(f->rd);
    fl_service_close(f->svc);
    svc_rmdb(f->dir);
    free(f);
    return 0;
}

static uint64_t start(struct fixture *f, const char *key, const char *vars_json)
{
    struct fl_command c = {.kind = FL_CMD_START, .process_key = key, .actor = "tester"};
    struct fl_value *vars = NULL;
    struct fl_result res;
    if (vars_json)
        assert_int_equal(fl_value_from_json(vars_json, strlen(vars_json), &vars, NULL), 0);
    c.variables = vars;
    assert_int_equal(fl_service_run(f->svc, &c, &res), 0);
    assert_int_equal(res.rc, 0);
    fl_value_unref(vars);
    return res.instance_id;
}

/* Activate at once (no long poll); returns the count, jobs into *out (caller frees). */
static size_t activate(struct fixture *f, const char *type, const char *worker, size_t max,
                       int64_t lock_ms, struct fl_activated_job **out)
{
    struct fl_job_activation a = {
        .type = type, .worker = worker, .max_jobs = max, .lock_ms = lock_ms};
    struct fl_activated_job *jobs;
    struct fl_error e;
    size_t n;
    fl_error_clear(&e);
    int rc = fl_service_jobs_activate_wait(f->svc, &a, &jobs, &n, &e);
    if (rc)
        fprintf(stderr, "activate: %s\n", e.msg);
    assert_int_equal(rc, 0);
    if (out)
        *out = jobs;
    else
        fl_activated_jobs_free(jobs, n);
    return n;
}

static int run(struct fixture *f, struct fl_command c, struct fl_result *res)
{
    int rc = fl_service_run(f->svc, &c, res);
    return rc ? rc : res->rc;
}

static void advance(struct fixture *f, int64_t ms)
{
    assert_int_equal(fl_service_clock_set(f->svc, fl_service_now(f->svc) + ms), 0);
}

static void test_activate_locks(void **state)
{
    struct fixture *f = *state;
    struct fl_activated_job *a, *b;
    struct fl_result res;
    struct fl_job_row row;
    uint64_t i1 = start(f, "pay", "{\"amount\":12,\"card\":\"4242\"}");
    uint64_t i2 = start(f, "pay", NULL);

    /* bad requests are refused before anything runs */
    struct fl_job_activation bad = {.type = "charge", .worker = "", .max_jobs = 1, .lock_ms = 1};
    struct fl_error e;
    fl_error_clear(&e);
    assert_int_equal(fl_service_jobs_activate(f->svc, &bad, NULL, NULL, &e), FL_EINVAL);
    bad.worker = "w";
    bad.max_jobs = 0;
    assert_int_equal(fl_job_activation_check(&bad, &e), FL_EINVAL);
    assert_string_equal(e.field, "max_jobs");

    assert_int_equal(activate(f, "charge", "ann", 1, 10000, &a), 1);
    assert_int_equal(a[0].job.instance_id, i1); /* oldest first */
    assert_string_equal(a[0].job.worker, "ann");
    assert_int_equal(a[0].job.lock_until, T0 + 10000);
    assert_int_equal(a[0].job.retries, 2);
    assert_string_equal(a[0].job.process_key, "pay");
    assert_string_equal(a[0].job.node_id, "charge");
    assert_non_null(strstr(a[0].variables_json, "\"card\":\"4242\""));
    assert_string_equal(a[0].headers_json, "{\"currency\":\"EUR\",\"mode\":\"live\"}");

    /* the second worker gets the other job, then nothing while ann's lock holds */
    assert_int_equal(activate(f, "charge", "bob", 5, 10000, &b), 1);
    assert_int_equal(b[0].job.instance_id, i2);
    fl_activated_jobs_free(b, 1);
    assert_int_equal(activate(f, "charge", "bob", 5, 10000, NULL), 0);
    assert_int_equal(activate(f, "other-type", "bob", 5, 10000, NULL), 0);
    advance(f, 9999);
    assert_int_equal(activate(f, "charge", "bob", 5, 10000, NULL), 0);

    /* ann's lock runs out: bob takes it, and ann can no longer complete it */
    advance(f, 1);
    assert_int_equal(activate(f, "charge", "bob", 5, 10000, &b), 2);
    fl_activated_jobs_free(b, 2);
    assert_int_equal(run(f,
                         (struct fl_command){
                             .kind = FL_CMD_COMPLETE_JOB, .target_id = a[0].job.id, .actor = "ann"},
                         &res),
                     FL_ECONFLICT);
    assert_non_null(strstr(res.err.msg, "locked by worker 'bob'"));
    assert_int_equal(run(f,
                         (struct fl_command){
                             .kind = FL_CMD_COMPLETE_JOB, .target_id = a[0].job.id, .actor = "bob"},
                         &res),
                     0);
    assert_int_equal(res.instance_status, FL_INSTANCE_COMPLETED);
    /* a closed job is a conflict, not an unknown one */
    assert_int_equal(run(f,
                         (struct fl_command){
                             .kind = FL_CMD_COMPLETE_JOB, .target_id = a[0].job.id, .actor = "bob"},
                         &res),
                     FL_ECONFLICT);
    assert_int_equal(fl_store_job_get(f->rd, a[0].job.id, &row, NULL), 0);
    assert_int_equal(row.status, FL_JOB_COMPLETED);
    assert_string_equal(row.worker, "bob");
    fl_job_row_release(&row);
    fl_activated_jobs_free(a, 1);
    /* fetch_variables picks names */
    start(f, "pay", "{\"amount\":3,\"card\":\"1\",\"secret\":\"x\"}");
    const char *names[] = {"amount", "missing"};
    struct fl_job_activation pick = {.type = "charge",
                                     .worker = "carl",
                                     .max_jobs = 10,
                                     .lock_ms = 1000,
                                     .fetch = names,
                                     .n_fetch = 2};
    size_t n;
    assert_int_equal(fl_service_jobs_activate_wait(f->svc, &pick, &a, &n, NULL), 0);
    /* bob's lock on instance 2's job still holds; only the new one comes */
    assert_int_equal(n, 1);
    assert_string_equal(a[0].variables_json, "{\"amount\":3}");
    fl_activated_jobs_free(a, n);
}

static void test_fail_backoff_incident_resolve(void **state)
{
    struct fixture *f = *state;
    struct fl_activated_job *a;
    struct fl_incident_row *inc;
    struct fl_instance_row irow;
    struct fl_incident_query open = {.open_only = true};
    struct fl_result res;
    size_t n;
    uint64_t iid = start(f, "pay", NULL), job;

    assert_int_equal(activate(f, "charge", "ann", 1, 60000, &a), 1);
    job = a[0].job.id;
    fl_activated_jobs_free(a, 1);
    /* failed with a retry left and a 5 s backoff: back after 5 s, not before */
    assert_int_equal(run(f,
                         (struct fl_command){.kind = FL_CMD_FAIL_JOB,
                                             .target_id = job,
                                             .actor = "ann",
                                             .retries = 1,
                                             .retry_backoff_ms = 5000,
                                             .error_message = "gateway down"},
                         &res),
                     0);
    assert_false(res.incident);
    assert_int_equal(activate(f, "charge", "bob", 1, 60000, NULL), 0);
    advance(f, 4999);
    assert_int_equal(activate(f, "charge", "bob", 1, 60000, NULL), 0);
    advance(f, 1);
    assert_int_equal(activate(f, "charge", "bob", 1, 60000, &a), 1);
    assert_int_equal(a[0].job.id, job);
    assert_int_equal(a[0].job.retries, 1);
    assert_string_equal(a[0].job.error, "gateway down");
    fl_activated_jobs_free(a, 1);
    /* out of retries: an incident */
    assert_int_equal(run(f,
                         (struct fl_command){.kind = FL_CMD_FAIL_JOB,
                                             .target_id = job,
                                             .actor = "bob",
                                             .retries = 0,
                                             .error_message = "card declined"},
                         &res),
                     0);
    assert_true(res.incident);
    assert_int_equal(fl_store_incident_list(f->rd, &open, &inc, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(inc[0].instance_id, iid);
    assert_int_equal(inc[0].job_id, job);
    assert_string_equal(inc[0].node_id, "charge");
    assert_string_equal(inc[0].process_key, "pay");
    assert_non_null(strstr(inc[0].message, "card declined"));
    assert_int_equal(activate(f, "charge", "bob", 1, 60000, NULL), 0);

    /* resolving retries the node: a new job with the retries given */
    struct fl_command rc = {.kind = FL_CMD_RESOLVE,
                            .instance_id = iid,
                            .target_id = inc[0].token_id,
                            .retries = 4,
                            .actor = "admin"};
    assert_int_equal(run(f, rc, &res), 0);
    assert_false(res.incident);
    /* a second resolve of the same token finds no incident */
    assert_int_equal(run(f, rc, &res), FL_ECONFLICT);
    fl_incident_rows_free(inc, n);
    assert_int_equal(fl_store_incident_list(f->rd, &open, &inc, &n, NULL), 0);
    assert_int_equal(n, 0);
    free(inc);
    assert_int_equal(fl_store_incident_list(f->rd, NULL, &inc, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(inc[0].resolved_at, T0 + 5000);
    fl_incident_rows_free(inc, n);
    assert_int_equal(activate(f, "charge", "bob", 1, 60000, &a), 1);
    assert_int_not_equal(a[0].job.id, job);
    assert_int_equal(a[0].job.retries, 4);
    assert_int_equal(run(f,
                         (struct fl_command){
                             .kind = FL_CMD_COMPLETE_JOB, .target_id = a[0].job.id, .actor = "bob"},
                         &res),
                     0);
    assert_int_equal(res.instance_status, FL_INSTANCE_COMPLETED);
    fl_activated_jobs_free(a, 1);
    assert_int_equal(fl_store_instance_get(f->rd, iid, &irow, NULL), 0);
    assert_false(irow.incident);
    fl_instance_row_release(&irow);
}

/* A condition failing as the token leaves: the retry leaves again (no second job), and
 * the incident's direction survives a restart of the service. */
static void test_leaving_incident_restart(void **state)
{
    struct fixture *f = *state;
    struct fl_activated_job *a;
    struct fl_incident_row *inc;
    struct fl_job_row *jobs;
    struct fl_job_query all = {.type = "calc", .status = -1};
    struct fl_result res;
    struct fl_value *vars;
    size_t n;
    uint64_t iid = start(f, "calcp", NULL);

    assert_int_equal(activate(f, "calc", "w", 1, 1000, &a), 1);
    assert_int_equal(run(f,
                         (struct fl_command){
                             .kind = FL_CMD_COMPLETE_JOB, .target_id = a[0].job.id, .actor = "w"},
                         &res),
                     0);
    fl_activated_jobs_free(a, 1);
    assert_true(res.incident);
    assert_int_equal(fl_store_incident_list(f->rd, NULL, &inc, &n, NULL), 0);
    assert_int_equal(n, 1);
    /* restart: the instance is loaded from the store, not the writer's cache */
    fl_service_close(f->svc);
    f->svc = open_svc(f);
    assert_int_equal(fl_value_from_json("{\"amount\":20}", 13, &vars, NULL), 0);
    assert_int_equal(run(f,
                         (struct fl_command){.kind = FL_CMD_RESOLVE,
                                             .instance_id = iid,
                                             .target_id = inc[0].token_id,
                                             .variables = vars,
                                             .actor = "admin"},
                         &res),
                     0);
    fl_value_unref(vars);
    assert_int_equal(res.instance_status, FL_INSTANCE_COMPLETED);
    assert_false(res.incident);
    fl_incident_rows_free(inc, n);
    assert_int_equal(fl_store_incident_list(f->rd, NULL, &inc, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_true(inc[0].resolved_at > 0);
    fl_incident_rows_free(inc, n);
    /* one job in all: it left, it did not enter the task again */
    assert_int_equal(fl_store_job_list(f->rd, &all, &jobs, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(jobs[0].status, FL_JOB_COMPLETED);
    fl_job_rows_free(jobs, n);
    /* history: incident_resolved names the incident */
    struct fl_event_row *ev;
    bool seen = false;
    assert_int_equal(fl_store_history(f->rd, iid, &ev, &n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        if (ev[i].type == FL_EV_INCIDENT_RESOLVED) {
            seen = true;
            assert_non_null(strstr(ev[i].detail, "\"incident\":"));
            assert_int_not_equal(ev[i].ref_id, 0);
        }
    assert_true(seen);
    fl_event_rows_free(ev, n);
}

/* An incident raised entering a user task (its due date expression gives a number): the
 * retry enters it again with the variables given, and the task is created. */
static void test_resolve_user_task(void **state)
{
    struct fixture *f = *state;
    struct fl_incident_row *inc;
    struct fl_result res;
    struct fl_value *vars;
    struct fl_task_row t;
    size_t n;
    uint64_t iid = start(f, "review", "{\"due\":5}");

    assert_int_equal(fl_store_incident_list(f->rd, NULL, &inc, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(inc[0].job_id, 0);
    assert_non_null(strstr(inc[0].message, "gives a number"));
    /* still wrong: a new incident replaces the resolved one */
    struct fl_command rc = {
        .kind = FL_CMD_RESOLVE, .instance_id = iid, .target_id = inc[0].token_id, .actor = "admin"};
    assert_int_equal(run(f, rc, &res), 0);
    assert_true(res.incident);
    fl_incident_rows_free(inc, n);
    struct fl_incident_query open = {.open_only = true};
    assert_int_equal(fl_store_incident_list(f->rd, &open, &inc, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(inc[0].id, 2);
    assert_int_equal(fl_value_from_json("{\"due\":\"2026-12-01T00:00:00Z\"}", 30, &vars, NULL), 0);
    rc.variables = vars;
    assert_int_equal(run(f, rc, &res), 0);
    fl_value_unref(vars);
    assert_false(res.incident);
    assert_int_equal(res.instance_status, FL_INSTANCE_ACTIVE);
    assert_int_not_equal(res.task_id, 0);
    assert_int_equal(fl_store_task_get(f->rd, res.task_id, &t, NULL), 0);
    assert_string_equal(t.node_id, "check");
    assert_true(t.due_at > 0);
    fl_task_row_release(&t);
    fl_incident_rows_free(inc, n);
    /* resolving a token that is not stuck is a conflict; an unknown one is not found */
    rc.variables = NULL;
    assert_int_equal(run(f, rc, &res), FL_ECONFLICT);
    rc.target_id = 987654;
    assert_int_equal(run(f, rc, &res), FL_ENOTFOUND);
}

/* A worker throws a BPMN error: the boundary event catches it (the thrown variables
 * merged), the job keeps the code; a worker that lost the lock cannot throw. */
static void test_throw_error(void **state)
{
    struct fixture *f = *state;
    struct fl_activated_job *a;
    struct fl_result res;
    struct fl_job_row row;
    struct fl_instance_row irow;
    struct fl_value *vars;
    uint64_t iid = start(f, "pay2", NULL);

    assert_int_equal(activate(f, "charge2", "ann", 1, 1000, &a), 1);
    advance(f, 1000);
    fl_activated_jobs_free(a, 1);
    assert_int_equal(activate(f, "charge2", "bob", 1, 60000, &a), 1);
    struct fl_command c = {.kind = FL_CMD_THROW_ERROR,
                           .target_id = a[0].job.id,
                           .actor = "ann",
                           .error_code = "CARD_DECLINED",
                           .error_message = "declined by the bank"};
    assert_int_equal(run(f, c, &res), FL_ECONFLICT);
    assert_int_equal(fl_value_from_json("{\"reason\":\"limit\"}", 18, &vars, NULL), 0);
    c.actor = "bob";
    c.variables = vars;
    assert_int_equal(run(f, c, &res), 0);
    fl_value_unref(vars);
    assert_int_equal(res.instance_status, FL_INSTANCE_COMPLETED);
    assert_int_equal(fl_store_job_get(f->rd, a[0].job.id, &row, NULL), 0);
    assert_int_not_equal(row.status, FL_JOB_OPEN);
    assert_string_equal(row.error_code, "CARD_DECLINED");
    fl_job_row_release(&row);
    fl_activated_jobs_free(a, 1);
    assert_int_equal(fl_store_instance_get(f->rd, iid, &irow, NULL), 0);
    assert_non_null(strstr(irow.variables_json, "\"reason\":\"limit\""));
    fl_instance_row_release(&irow);
}

/* A long poll's meeting point. */
struct poll {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    int rc;
    struct fl_activated_job *jobs;
    size_t n;
};

static void poll_done(void *arg, int rc, const struct fl_error *err, struct fl_activated_job *jobs,
                      size_t n)
{
    struct poll *p = arg;
    (void)err;
    pthread_mutex_lock(&p->lock);
    p->rc = rc;
    p->jobs = jobs;
    p->n = n;
    p->done = true;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

static void poll_begin(struct fixture *f, struct poll *p, const char *worker, int64_t timeout)
{
    struct fl_job_activation a = {.type = "charge",
                                  .worker = worker,
                                  .max_jobs = 1,
                                  .lock_ms = 10000,
                                  .request_timeout_ms = timeout};
    memset(p, 0, sizeof(*p));
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    assert_int_equal(fl_service_jobs_activate(f->svc, &a, poll_done, p, NULL), 0);
}

static size_t poll_end(struct poll *p, struct fl_activated_job **jobs)
{
    pthread_mutex_lock(&p->lock);
    while (!p->done)
        pthread_cond_wait(&p->cond, &p->lock);
    pthread_mutex_unlock(&p->lock);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    assert_int_equal(p->rc, 0);
    *jobs = p->jobs;
    return p->n;
}

/* Wait (without sleeping on time) until the writer has parked n long polls: each
 * synchronous command runs after every attempt queued before it. */
static void until_parked(struct fixture *f, size_t n)
{
    struct fl_result res;
    struct fl_command nop = {.kind = FL_CMD_CANCEL, .instance_id = 999999};
    while (fl_service_jobs_waiting(f->svc) < n)
        fl_service_run(f->svc, &nop, &res);
}

static void test_long_poll(void **state)
{
    struct fixture *f = *state;
    struct fl_activated_job *a, *b;
    struct poll p, q;

    /* answered when a job of its type is created */
    poll_begin(f, &p, "ann", FL_JOB_POLL_MAX_MS);
    until_parked(f, 1);
    uint64_t iid = start(f, "pay", NULL);
    assert_int_equal(poll_end(&p, &a), 1);
    assert_int_equal(a[0].job.instance_id, iid);
    assert_int_equal(fl_service_jobs_waiting(f->svc), 0);

    /* answered when ann's lock runs out */
    poll_begin(f, &q, "bob", FL_JOB_POLL_MAX_MS);
    until_parked(f, 1);
    advance(f, 10000);
    assert_int_equal(poll_end(&q, &b), 1);
    assert_int_equal(b[0].job.id, a[0].job.id);
    assert_string_equal(b[0].job.worker, "bob");
    fl_activated_jobs_free(a, 1);
    fl_activated_jobs_free(b, 1);

    /* answered empty when its time is up (1 ms of real time) */
    poll_begin(f, &p, "carl", 1);
    assert_int_equal(poll_end(&p, &a), 0);

    /* answered empty at once when the service closes */
    poll_begin(f, &p, "dora", FL_JOB_POLL_MAX_MS);
    until_parked(f, 1);
    fl_service_close(f->svc);
    f->svc = NULL;
    assert_int_equal(poll_end(&p, &a), 0);
}

/* Several long polls on one type share the jobs: each job goes to exactly one. */
static void test_long_poll_many(void **state)
{
    struct fixture *f = *state;
    struct poll p[4];
    struct fl_activated_job *a;
    uint64_t seen[4] = {0};
    size_t got = 0;

    for (size_t i = 0; i < 4; i++)
        poll_begin(f, &p[i], "w", FL_JOB_POLL_MAX_MS);
    until_parked(f, 4);
    start(f, "pay", NULL);
    start(f, "pay", NULL);
    /* two are answered with one job each; the other two stay parked until drained */
    for (size_t done = 0; done < 2;) {
        struct fl_result res;
        struct fl_command nop = {.kind = FL_CMD_CANCEL, .instance_id = 999999};
        done = 0;
        for (size_t i = 0; i < 4; i++) {
            pthread_mutex_lock(&p[i].lock);
            done += p[i].done;
            pthread_mutex_unlock(&p[i].lock);
        }
        if (done < 2)
            fl_service_run(f->svc, &nop, &res);
    }
    fl_service_jobs_drain(f->svc);
    for (size_t i = 0; i < 4; i++) {
        size_t n = poll_end(&p[i], &a);
        if (n) {
            for (size_t k = 0; k < got; k++)
                assert_int_not_equal(seen[k], a[0].job.id);
            seen[got++] = a[0].job.id;
        }
        fl_activated_jobs_free(a, n);
    }
    assert_int_equal(got, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_activate_locks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_backoff_incident_resolve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leaving_incident_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_user_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_throw_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_poll_many, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
