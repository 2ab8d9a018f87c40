/* flowd-bench's service driver (see bench_flowd.h). The main thread submits; the service's
 * writer thread runs the callbacks, which only queue the outcome for the main thread and
 * never submit themselves (submit may block when the service's queue is full, and a
 * callback must not block). Each instance in flight owns a slot that its one outstanding
 * command points to. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/engine.h"
#include "flowd/service.h"
#include "flowd/store.h"
#include "flowd/value.h"

#include "bench_flowd.h"
#include "bench_util.h"

#define STEPS 4           /* start + three task completions */
#define PROBE_COMMANDS 64 /* auto mode: result task ids checked against queries this often */

struct slot {
    struct bench_flowd *b;
    uint64_t seq;         /* instance number in the run: picks the gateway branch */
    uint64_t instance_id; /* known after the start is acknowledged */
    int step;             /* commands acknowledged so far */
    double submitted_at;
};

struct completion {
    struct slot *slot;
    int rc;
    int instance_status;
    bool incident;
    uint64_t instance_id, task_id;
    double acked_at;
};

struct bench_flowd {
    struct fl_service *svc;
    struct fl_store *reader;
    char key[256];
    struct fl_value *vars_large, *vars_small; /* frozen: shared with the writer thread */
    enum bench_task_ids task_ids;
    bool use_result; /* current decision for task ids */
    size_t probed;   /* auto mode: result ids confirmed by a query so far */
    uint64_t first_instance;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool waiting;            /* main thread sleeps on cv */
    struct completion *done; /* filled by callbacks under mu */
    size_t n_done, cap_done;
    char first_error[600]; /* first refused command, under mu */
};

static int read_file(const char *path, char **out, size_t *len, struct fl_error *err)
{
    int rc = 0;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return fl_error_set(err, FL_EIO, "cannot open '%s'", path);
    if (fseek(f, 0, SEEK_END) != 0) {
        rc = fl_error_set(err, FL_EIO, "cannot seek '%s'", path);
        goto out;
    }
    long size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        rc = fl_error_set(err, FL_EIO, "cannot size '%s'", path);
        goto out;
    }
    buf = fl_malloc((size_t)size + 1);
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        rc = fl_error_set(err, FL_EIO, "cannot read '%s'", path);
        goto out;
    }
    buf[size] = '\0';
    *out = buf;
    *len = (size_t)size;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return rc;
}

static struct fl_value *amount_vars(int64_t amount)
{
    struct fl_value *ctx = fl_value_context_new();
    fl_value_context_set(ctx, "amount", strlen("amount"), fl_value_int(amount));
    /* Frozen: the service may keep a reference on its writer thread while the main thread
     * hands the same context to the next start. */
    fl_value_freeze(ctx);
    return ctx;
}

int bench_flowd_open(const struct bench_flowd_options *opt, struct bench_flowd **out,
                     struct fl_error *err)
{
    int rc;
    char *xml = NULL;
    size_t len = 0;
    struct bench_flowd *b = fl_calloc(1, sizeof *b);
    pthread_condattr_t ca;

    pthread_mutex_init(&b->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cv, &ca);
    pthread_condattr_destroy(&ca);
    b->task_ids = opt->task_ids;
    b->use_result = opt->task_ids != BENCH_TASK_IDS_QUERY;
    b->vars_large = amount_vars(5000);
    b->vars_small = amount_vars(500);

    struct fl_service_options so = {
        .db_url = opt->db_path,
        .synchronous = 2, /* FULL: an acknowledged command survives power loss */
        .synchronous_set = true,
        .max_batch = opt->max_batch,
    };
    rc = fl_service_open(&so, &b->svc, err);
    if (rc)
        goto out;
    rc = read_file(opt->bpmn, &xml, &len, err);
    if (rc)
        goto out;
    struct fl_deploy_result dr[4];
    size_t n = 0;
    rc = fl_service_deploy(b->svc, xml, len, dr, 4, &n, err);
    if (rc)
        goto out;
    if (n != 1) {
        rc = fl_error_set(err, FL_EMODEL, "'%s' has %zu executable processes, expected 1",
                          opt->bpmn, n);
        goto out;
    }
    snprintf(b->key, sizeof b->key, "%s", dr[0].key);

    struct fl_store_options ro = {.read_only = true, .busy_timeout_ms = 5000};
    rc = fl_store_open(opt->db_path, &ro, &b->reader, err);
    if (rc)
        goto out;
out:
    free(xml);
    if (rc) {
        bench_flowd_close(b);
        b = NULL;
    }
    *out = b;
    return rc;
}

void bench_flowd_close(struct bench_flowd *b)
{
    if (!b)
        return;
    fl_service_close(b->svc);
    fl_store_close(b->reader);
    fl_value_free_frozen(b->vars_large);
    fl_value_free_frozen(b->vars_small);
    free(b->done);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

const char *bench_flowd_task_ids_name(const struct bench_flowd *b)
{
    return b->use_result ? "result" : "query";
}

/* Writer thread: record the outcome for the main thread; as short as possible, since the
 * writer acknowledges a whole batch through here. */
static void on_result(void *arg, const struct fl_result *res)
{
    struct slot *s = arg;
    struct bench_flowd *b = s->b;
    double now = bench_now_s();

    pthread_mutex_lock(&b->mu);
    if (b->n_done == b->cap_done)
        fl_grow(&b->done, &b->cap_done, b->n_done + 1, sizeof *b->done);
    b->done[b->n_done++] = (struct completion){
        .slot = s,
        .rc = res->rc,
        .instance_status = res->instance_status,
        .incident = res->incident,
        .instance_id = res->instance_id,
        .task_id = res->task_id,
        .acked_at = now,
    };
    if (res->rc != 0 && !b->first_error[0])
        fl_error_format(&res->err, b->first_error, sizeof b->first_error);
    if (b->waiting)
        pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

/* Take the queued completions (waiting until `deadline`, monotonic seconds, when there are
 * none; deadline <= 0 waits without limit). Returns the array; *n its length. The array is
 * swapped with *spare so the callbacks keep filling one while the main thread reads the
 * other. */
static struct completion *take_completions(struct bench_flowd *b, double deadline,
                                           struct completion **spare, size_t *spare_cap, size_t *n)
{
    pthread_mutex_lock(&b->mu);
    while (b->n_done == 0) {
        b->waiting = true;
        if (deadline > 0) {
            struct timespec ts = bench_timespec(deadline);
            int w = pthread_cond_timedwait(&b->cv, &b->mu, &ts);
            b->waiting = false;
            if (w != 0)
                break; /* timed out: the caller has arrivals to make */
        } else {
            pthread_cond_wait(&b->cv, &b->mu);
            b->waiting = false;
        }
    }
    struct completion *got = b->done;
    size_t got_cap = b->cap_done;
    *n = b->n_done;
    b->done = *spare;
    b->cap_done = *spare_cap;
    b->n_done = 0;
    pthread_mutex_unlock(&b->mu);
    *spare = got;
    *spare_cap = got_cap;
    return got;
}

static int query_task(struct bench_flowd *b, uint64_t instance_id, uint64_t *task_id,
                      struct fl_error *err)
{
    struct fl_task_query q = {.open_only = true, .instance_id = instance_id, .limit = 1};
    struct fl_task_row *rows = NULL;
    size_t n = 0;
    int rc = fl_store_task_list(b->reader, &q, &rows, &n, err);
    if (rc)
        return rc;
    if (n == 0)
        rc = fl_error_set(err, FL_EINTERNAL, "instance %llu has no open task",
                          (unsigned long long)instance_id);
    else
        *task_id = rows[0].id;
    fl_task_rows_free(rows, n);
    return rc;
}

/* The id of the task the acknowledged command c opened. In auto mode the result's id is
 * trusted only after PROBE_COMMANDS of them matched a query (a service that leaves the
 * field 0, or fills it differently, falls back to querying). */
static int task_of(struct bench_flowd *b, const struct completion *c, uint64_t *task_id,
                   struct fl_error *err)
{
    if (b->use_result && b->task_ids == BENCH_TASK_IDS_RESULT) {
        if (c->task_id == 0)
            return fl_error_set(err, FL_EINTERNAL,
                                "the service's result has no task id "
                                "(use --task-ids query)");
        *task_id = c->task_id;
        return 0;
    }
    if (b->use_result && b->probed >= PROBE_COMMANDS) {
        *task_id = c->task_id;
        return 0;
    }
    int rc = query_task(b, c->instance_id ? c->instance_id : c->slot->instance_id, task_id, err);
    if (rc || !b->use_result)
        return rc;
    if (c->task_id != *task_id) {
        b->use_result = false;
        fprintf(stderr, "flowd-bench: the service's result does not give the opened task's "
                        "id; querying the task list instead (reader cost is in the figure)\n");
    } else {
        b->probed++;
    }
    return 0;
}

static int submit(struct bench_flowd *b, struct slot *s, uint64_t task_id)
{
    struct fl_command cmd;
    memset(&cmd, 0, sizeof cmd);
    if (s->step == 0) {
        cmd.kind = FL_CMD_START;
        cmd.process_key = b->key;
        cmd.variables = s->seq % 2 == 0 ? b->vars_large : b->vars_small;
    } else {
        cmd.kind = FL_CMD_COMPLETE_TASK;
        cmd.instance_id = s->instance_id;
        cmd.target_id = task_id;
        cmd.actor = "bench";
    }
    s->submitted_at = bench_now_s();
    return fl_service_submit(b->svc, &cmd, on_result, s);
}

/* Account for one acknowledged command: check it, record its latency, and submit the
 * instance's next command. *finished is set when the instance reached its end. */
static int advance(struct bench_flowd *b, const struct completion *c, double *lat, size_t *n_lat,
                   bool *finished, struct fl_error *err)
{
    struct slot *s = c->slot;
    char msg[600];
    *finished = false;
    if (c->rc != 0) {
        pthread_mutex_lock(&b->mu);
        snprintf(msg, sizeof msg, "%s", b->first_error);
        pthread_mutex_unlock(&b->mu);
        return fl_error_set(err, c->rc, "command %d of instance %llu refused: %s", s->step,
                            (unsigned long long)s->instance_id, msg);
    }
    lat[(*n_lat)++] = (c->acked_at - s->submitted_at) * 1e3;
    if (s->step == 0)
        s->instance_id = c->instance_id;
    if (b->first_instance == 0 || s->instance_id < b->first_instance)
        b->first_instance = s->instance_id;
    s->step++;
    if (c->incident)
        return fl_error_set(err, FL_EINTERNAL, "instance %llu has an incident",
                            (unsigned long long)s->instance_id);
    int want = s->step == STEPS ? FL_INSTANCE_COMPLETED : FL_INSTANCE_ACTIVE;
    if (c->instance_status != want)
        return fl_error_set(err, FL_EINTERNAL, "instance %llu: status %d after command %d",
                            (unsigned long long)s->instance_id, c->instance_status, s->step);
    if (s->step == STEPS) {
        *finished = true;
        return 0;
    }
    uint64_t task_id = 0;
    int rc = task_of(b, c, &task_id, err);
    if (rc)
        return rc;
    rc = submit(b, s, task_id);
    if (rc)
        return fl_error_set(err, rc, "submit failed: %s", fl_err_message(rc));
    return 0;
}

static void figures_from(struct bench_flowd_figures *f, size_t instances, double seconds,
                         double *lat, size_t n_lat)
{
    f->instances = instances;
    f->commands = n_lat;
    f->seconds = seconds;
    f->instances_per_s = seconds > 0 ? (double)instances / seconds : 0;
    f->commands_per_s = seconds > 0 ? (double)n_lat / seconds : 0;
    bench_sort(lat, n_lat);
    f->p50_ms = bench_percentile(lat, n_lat, 50);
    f->p99_ms = bench_percentile(lat, n_lat, 99);
    f->p999_ms = bench_percentile(lat, n_lat, 99.9);
    f->max_ms = n_lat ? lat[n_lat - 1] : 0;
}

int bench_flowd_throughput(struct bench_flowd *b, size_t n, size_t inflight,
                           struct bench_flowd_figures *out, struct fl_error *err)
{
    int rc = 0;
    size_t window = inflight < n ? inflight : n;
    struct slot *slots = fl_calloc(window ? window : 1, sizeof *slots);
    double *lat = fl_calloc(n * STEPS + 1, sizeof *lat);
    size_t n_lat = 0, started = 0, finished = 0;
    struct completion *spare = NULL;
    size_t spare_cap = 0;

    b->first_instance = 0;
    double cpu0 = bench_cpu_s();
    double t0 = bench_now_s();
    for (; started < window; started++) {
        slots[started] = (struct slot){.b = b, .seq = started};
        rc = submit(b, &slots[started], 0);
        if (rc) {
            fl_error_set(err, rc, "submit failed: %s", fl_err_message(rc));
            goto out;
        }
    }
    while (finished < n) {
        size_t k;
        struct completion *got = take_completions(b, 0, &spare, &spare_cap, &k);
        for (size_t i = 0; i < k; i++) {
            bool fin;
            rc = advance(b, &got[i], lat, &n_lat, &fin, err);
            if (rc)
                goto out;
            if (!fin)
                continue;
            finished++;
            if (finished % 5000 == 0)
                fprintf(stderr, "flowd-bench: %zu/%zu instances\n", finished, n);
            if (started < n) {
                /* Reuse the slot for the next instance: the pipeline stays full. */
                struct slot *s = got[i].slot;
                *s = (struct slot){.b = b, .seq = started++};
                rc = submit(b, s, 0);
                if (rc) {
                    fl_error_set(err, rc, "submit failed: %s", fl_err_message(rc));
                    goto out;
                }
            }
        }
    }
    figures_from(out, n, bench_now_s() - t0, lat, n_lat);
    out->cpu_seconds = bench_cpu_s() - cpu0;
out:
    if (rc) {
        /* Let the commands still in flight finish before their slots go away. */
        fl_service_close(b->svc);
        b->svc = NULL;
    }
    free(spare);
    free(lat);
    free(slots);
    return rc;
}

int bench_flowd_latency(struct bench_flowd *b, double cmd_rate, double seconds,
                        struct bench_flowd_figures *out, struct fl_error *err)
{
    int rc = 0;
    double rate = cmd_rate / STEPS; /* instance arrivals per second */
    size_t m = (size_t)(rate * seconds);
    if (m < 1)
        m = 1;
    struct slot *slots = fl_calloc(m, sizeof *slots);
    double *lat = fl_calloc(m * STEPS + 1, sizeof *lat);
    size_t n_lat = 0, started = 0, finished = 0;
    struct completion *spare = NULL;
    size_t spare_cap = 0;

    out->target_commands_per_s = cmd_rate;
    double t0 = bench_now_s() + 0.001;
    while (finished < m) {
        /* Open loop: every instance whose arrival time has come starts now, however many
         * commands are still unacknowledged. */
        double now = bench_now_s();
        while (started < m && t0 + (double)started / rate <= now) {
            double due = t0 + (double)started / rate;
            slots[started] = (struct slot){.b = b, .seq = started};
            rc = submit(b, &slots[started], 0);
            if (rc) {
                fl_error_set(err, rc, "submit failed: %s", fl_err_message(rc));
                goto out;
            }
            /* A start submitted late (this thread was busy) counts from when it was due,
             * so a stall delays no request out of the figure (coordinated omission). */
            slots[started].submitted_at = due;
            started++;
        }
        double deadline = started < m ? t0 + (double)started / rate : 0;
        size_t k;
        struct completion *got = take_completions(b, deadline, &spare, &spare_cap, &k);
        for (size_t i = 0; i < k; i++) {
            bool fin;
            rc = advance(b, &got[i], lat, &n_lat, &fin, err);
            if (rc)
                goto out;
            if (fin)
                finished++;
        }
    }
    figures_from(out, m, bench_now_s() - t0, lat, n_lat);
    out->target_commands_per_s = cmd_rate;
out:
    if (rc) {
        fl_service_close(b->svc);
        b->svc = NULL;
    }
    free(spare);
    free(lat);
    free(slots);
    return rc;
}

int bench_flowd_history_template(struct bench_flowd *b, struct bench_event_template *out,
                                 size_t max, size_t *n, struct fl_error *err)
{
    struct fl_event_row *rows = NULL;
    size_t k = 0;
    *n = 0;
    int rc = fl_store_history(b->reader, b->first_instance, &rows, &k, err);
    if (rc)
        return rc;
    int step = 0;
    for (size_t i = 0; i < k && *n < max; i++) {
        struct bench_event_template *t = &out[(*n)++];
        /* A completion's events begin with its task_completed event. */
        if (rows[i].type == FL_EV_TASK_COMPLETED && step < STEPS - 1)
            step++;
        t->type = rows[i].type;
        t->has_token = rows[i].token_id != 0;
        t->has_ref = rows[i].ref_id != 0;
        t->step = step;
        snprintf(t->node_id, sizeof t->node_id, "%s", rows[i].node_id ? rows[i].node_id : "");
        snprintf(t->detail, sizeof t->detail, "%s", rows[i].detail ? rows[i].detail : "");
    }
    fl_event_rows_free(rows, k);
    return 0;
}
