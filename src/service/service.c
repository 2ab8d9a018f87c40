/* The service front: opening (store, id allocators, writer thread), the bounded command
 * queue callers submit to from any thread, the synchronous helpers (run, deploy) built on
 * it, and the draining close. Commands are deep-copied at submit -- variables as JSON text,
 * because values are reference-counted without locks and must not cross threads. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/dmn.h"
#include "flowd/model.h"
#include "flowd/value.h"
#include "service/service_int.h"

#define DEFAULT_MAX_BATCH 1024
#define DEFAULT_QUEUE_CAP 65536
#define DEFAULT_INSTANCE_CACHE 65536

int fl_service_open(const struct fl_service_options *opt, struct fl_service **out,
                    struct fl_error *err)
{
    static pthread_once_t xml_once = PTHREAD_ONCE_INIT;
    struct fl_store_options so = {.create = true};
    struct fl_service *svc;
    int rc;

    *out = NULL;
    pthread_once(&xml_once, fl_bpmn_global_init);
    if (!opt || !opt->db_url)
        return fl_error_set(err, FL_EINVAL, "service needs a database url");
    so.synchronous = opt->synchronous;
    so.synchronous_set = opt->synchronous_set;
    svc = fl_calloc(1, sizeof(*svc));
    svc->clock_ms = opt->clock_ms;
    svc->test_clock = opt->test_clock;
    if (opt->test_clock) {
        int64_t start = opt->test_clock_start_ms;
        svc->test_clock = false; /* read the real clock once for the default start */
        atomic_store(&svc->test_now, start ? start : fl__svc_now(svc));
        svc->test_clock = true;
    }
    svc->max_batch = opt->max_batch ? opt->max_batch : DEFAULT_MAX_BATCH;
    /* an hour unless told; a negative default means: never buffer */
    svc->message_ttl_ms = opt->message_ttl_ms == 0 ? 3600000 : opt->message_ttl_ms;
    if (svc->message_ttl_ms < 0)
        svc->message_ttl_ms = 0;
    svc->queue_cap = opt->queue_cap ? opt->queue_cap : DEFAULT_QUEUE_CAP;
    fl__inst_cache_init(&svc->instances,
                        opt->instance_cache ? opt->instance_cache : DEFAULT_INSTANCE_CACHE);
    pthread_mutex_init(&svc->lock, NULL);
    svc->decisions = fl__dec_cache_new();
    pthread_cond_init(&svc->not_empty, NULL);
    pthread_cond_init(&svc->not_full, NULL);
    svc->jobs = fl__jobs_new();
    if ((rc = fl_store_open(opt->db_url, &so, &svc->store, err)) != 0)
        goto fail;
    /* The writer commits for the life of the service: checkpoints move off its path. */
    if ((rc = fl_store_background_start(svc->store, err)) != 0)
        goto fail;
    for (int k = FL_ID_INSTANCE; k < FL__ID_COUNT; k++)
        if ((rc = fl_store_max_id(svc->store, (enum fl_id_kind)k, &svc->next_id[k], err)) != 0)
            goto fail;
    if (pthread_create(&svc->writer, NULL, fl__svc_writer_main, svc) != 0) {
        rc = fl_error_set(err, FL_EINTERNAL, "cannot start the writer thread");
        goto fail;
    }
    svc->writer_started = true;
    if (opt->run_timers &&
        (rc = fl__sched_start(svc, opt->db_url, opt->timer_window, &svc->sched, err)) != 0)
        goto fail;
    *out = svc;
    return 0;
fail:
    fl_service_close(svc);
    return rc;
}

void fl_service_close(struct fl_service *svc)
{
    if (!svc)
        return;
    /* The scheduler stops submitting first; its fires in flight drain with the queue. */
    fl__sched_stop(svc->sched);
    /* Long polls are answered now; attempts still queued are answered as they drain. */
    fl__jobs_stop(svc);
    pthread_mutex_lock(&svc->lock);
    svc->closing = true;
    pthread_cond_broadcast(&svc->not_empty);
    pthread_cond_broadcast(&svc->not_full);
    pthread_mutex_unlock(&svc->lock);
    if (svc->writer_started)
        pthread_join(svc->writer, NULL);
    fl__sched_free(svc->sched);
    fl__jobs_free(svc->jobs);
    free(svc->offers);
    fl_store_close(svc->store);
    fl__inst_cache_release(&svc->instances);
    fl__model_cache_release(&svc->models);
    fl__cal_cache_release(&svc->calendars);
    fl__dec_cache_free(svc->decisions);
    free(svc->touched);
    pthread_cond_destroy(&svc->not_full);
    pthread_cond_destroy(&svc->not_empty);
    pthread_mutex_destroy(&svc->lock);
    free(svc);
}

static size_t text_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* Copy s into the command's text area at *p; returns the copy (NULL for NULL). */
static const char *put_text(char **p, const char *s)
{
    size_t n;
    char *d;
    if (!s)
        return NULL;
    n = strlen(s) + 1;
    d = *p;
    memcpy(d, s, n);
    *p += n;
    return d;
}

static struct fl__svc_cmd *copy_command(const struct fl_command *c)
{
    struct fl_buf vars = FL_BUF_INIT;
    struct fl__svc_cmd *q;
    size_t need;
    int pre_rc = 0;
    char *p;

    if (c->variables) {
        if (fl_value_type(c->variables) != FL_VCONTEXT)
            pre_rc = FL_ETYPE;
        else if (fl_value_to_json(c->variables, &vars) != 0)
            pre_rc = FL_ETOOBIG;
    }
    need = text_size(c->actor) + text_size(c->process_key) + text_size(c->business_key) +
           text_size(c->action_kind) + text_size(c->action_ref) + text_size(c->error_message) +
           text_size(c->reason) + text_size(c->control_name) + text_size(c->message_name) +
           text_size(c->correlation_key) + text_size(c->message_id) + text_size(c->start_node_id) +
           text_size(c->error_code) +
           (vars.len ? vars.len + 1 : 0);
    /* MODIFY: the instruction lists (aligned first) and their element ids. */
    size_t lists = c->n_cancel_tokens * sizeof(uint64_t) + c->n_start_before * sizeof(char *);
    for (size_t i = 0; i < c->n_start_before; i++)
        need += text_size(c->start_before[i]);
    q = fl_malloc(sizeof(*q) + lists + need);
    memset(q, 0, sizeof(*q));
    q->kind = FL__SVC_ENGINE;
    q->cmd = *c;
    q->cmd.variables = NULL;
    q->pre_rc = pre_rc;
    p = q->text;
    if (lists) {
        /* text[] follows the struct at pointer alignment, so the lists come first */
        uint64_t *ids = (uint64_t *)(void *)p;
        const char **names = (const char **)(void *)(p + c->n_cancel_tokens * sizeof(uint64_t));
        p += lists;
        for (size_t i = 0; i < c->n_cancel_tokens; i++)
            ids[i] = c->cancel_tokens[i];
        for (size_t i = 0; i < c->n_start_before; i++)
            names[i] = put_text(&p, c->start_before[i]);
        q->cmd.cancel_tokens = c->n_cancel_tokens ? ids : NULL;
        q->cmd.start_before = c->n_start_before ? names : NULL;
    }
    q->cmd.start_node_id = put_text(&p, c->start_node_id);
    q->cmd.actor = put_text(&p, c->actor);
    q->cmd.process_key = put_text(&p, c->process_key);
    q->cmd.business_key = put_text(&p, c->business_key);
    q->cmd.action_kind = put_text(&p, c->action_kind);
    q->cmd.action_ref = put_text(&p, c->action_ref);
    q->cmd.error_message = put_text(&p, c->error_message);
    q->cmd.reason = put_text(&p, c->reason);
    q->cmd.control_name = put_text(&p, c->control_name);
    q->cmd.message_name = put_text(&p, c->message_name);
    q->cmd.correlation_key = put_text(&p, c->correlation_key);
    q->cmd.message_id = put_text(&p, c->message_id);
    q->cmd.error_code = put_text(&p, c->error_code);
    if (!pre_rc && vars.len) {
        memcpy(p, vars.ptr, vars.len + 1);
        q->vars_json = p;
        q->vars_len = vars.len;
    }
    if (pre_rc)
        fl_error_set(&q->res.err, pre_rc,
                     pre_rc == FL_ETYPE ? "variables must be a context (a JSON object)"
                                        : "variables too large");
    fl_buf_release(&vars);
    return q;
}

int fl__svc_enqueue(struct fl_service *svc, struct fl__svc_cmd *q)
{
    /* A callback that submits runs on the writer, the only thread that makes room: it
     * may exceed the cap rather than wait for itself. */
    bool on_writer = svc->writer_started && pthread_equal(pthread_self(), svc->writer);
    pthread_mutex_lock(&svc->lock);
    while (!svc->closing && !on_writer && svc->qlen >= svc->queue_cap)
        pthread_cond_wait(&svc->not_full, &svc->lock);
    if (svc->closing) {
        pthread_mutex_unlock(&svc->lock);
        free(q);
        return FL_ECLOSED;
    }
    q->next = NULL;
    if (svc->qtail)
        svc->qtail->next = q;
    else
        svc->qhead = q;
    svc->qtail = q;
    svc->qlen++;
    /* The writer is the only waiter on not_empty. */
    if (svc->qlen == 1)
        pthread_cond_signal(&svc->not_empty);
    pthread_mutex_unlock(&svc->lock);
    return 0;
}

int fl_service_submit(struct fl_service *svc, const struct fl_command *cmd, fl_service_cb cb,
                      void *arg)
{
    struct fl__svc_cmd *q;
    if (!svc || !cmd)
        return FL_EINVAL;
    q = copy_command(cmd);
    q->cb = cb;
    q->arg = arg;
    return fl__svc_enqueue(svc, q);
}

int fl_service_submit_answered(struct fl_service *svc, const struct fl_command *cmd,
                               fl_service_render_cb render, fl_service_cb cb, void *arg)
{
    struct fl__svc_cmd *q;
    if (!svc || !cmd || !render)
        return FL_EINVAL;
    q = copy_command(cmd);
    q->cb = cb;
    q->arg = arg;
    q->render = render;
    return fl__svc_enqueue(svc, q);
}

struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    struct fl_result res;
};

static void waiter_init(struct waiter *w)
{
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
}

static void waiter_release(struct waiter *w)
{
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
}

static void waiter_wait(struct waiter *w)
{
    pthread_mutex_lock(&w->lock);
    while (!w->done)
        pthread_cond_wait(&w->cond, &w->lock);
    pthread_mutex_unlock(&w->lock);
}

static void waiter_cb(void *arg, const struct fl_result *res)
{
    struct waiter *w = arg;
    pthread_mutex_lock(&w->lock);
    w->res = *res;
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

int fl_service_run(struct fl_service *svc, const struct fl_command *cmd, struct fl_result *res)
{
    struct waiter w;
    int rc;
    memset(res, 0, sizeof(*res));
    waiter_init(&w);
    rc = fl_service_submit(svc, cmd, waiter_cb, &w);
    if (rc == 0) {
        waiter_wait(&w);
        *res = w.res;
        rc = res->rc;
    } else {
        res->rc = rc;
        fl_error_set(&res->err, rc, "service is shutting down");
    }
    waiter_release(&w);
    return rc;
}

/* Hand a checked deployment to the writer and wait for it; frees d's arrays. */
static int submit_deploy(struct fl_service *svc, struct fl__svc_deploy *d, size_t *n,
                         struct fl_error *err)
{
    struct fl__svc_cmd *q = fl_calloc(1, sizeof(*q));
    struct waiter w;
    int rc;

    q->kind = FL__SVC_DEPLOY;
    q->deploy = d;
    waiter_init(&w);
    q->cb = waiter_cb;
    q->arg = &w;
    if ((rc = fl__svc_enqueue(svc, q)) != 0) {
        fl_error_set(err, rc, "service is shutting down");
    } else {
        waiter_wait(&w);
        rc = w.res.rc;
        if (rc) {
            if (err)
                *err = w.res.err;
        } else {
            *n = d->n_out;
        }
    }
    waiter_release(&w);
    for (size_t i = 0; i < d->n_processes; i++) {
        free(d->keys[i]);
        free(d->names[i]);
    }
    free(d->keys);
    free(d->names);
    free(d->n_warnings);
    return rc;
}

/* A DMN document: each decision becomes a version of its id (checked here, on the
 * caller's thread, like a BPMN model). */
static int deploy_dmn(struct fl_service *svc, const char *xml, size_t len,
                      struct fl_deploy_result *results, size_t max_results, size_t *n,
                      struct fl_error *err)
{
    struct fl_dmn_doc *doc = NULL;
    struct fl__svc_deploy d;
    int rc;

    memset(&d, 0, sizeof(d));
    if ((rc = fl_dmn_read(xml, len, &doc, err)) != 0)
        return rc;
    d.xml = xml;
    d.len = len;
    d.dmn = true;
    d.n_processes = doc->n_decisions;
    d.keys = fl_calloc(d.n_processes, sizeof(char *));
    d.names = fl_calloc(d.n_processes, sizeof(char *));
    d.n_warnings = fl_calloc(d.n_processes, sizeof(size_t));
    for (size_t i = 0; i < d.n_processes; i++) {
        d.keys[i] = fl_strdup(doc->decisions[i].id);
        d.names[i] = fl_strdup(doc->decisions[i].name);
    }
    fl_dmn_doc_free(doc);
    d.results = results;
    d.max_results = max_results;
    return submit_deploy(svc, &d, n, err);
}

int fl_service_deploy(struct fl_service *svc, const char *xml, size_t len,
                      struct fl_deploy_result *results, size_t max_results, size_t *n,
                      struct fl_error *err)
{
    struct fl_bpmn_doc *doc = NULL;
    struct fl__svc_deploy d;
    int rc;

    *n = 0;
    memset(&d, 0, sizeof(d));
    if (!svc || !xml)
        return fl_error_set(err, FL_EINVAL, "nothing to deploy");
    /* Validate on the caller's thread: a bad model never reaches the writer. (libxml2 was
     * initialised once in fl_service_open, so this parse may race the writer's.) */
    if (fl_dmn_is_dmn(xml, len))
        return deploy_dmn(svc, xml, len, results, max_results, n, err);
    if ((rc = fl_bpmn_read(xml, len, &doc, err)) != 0)
        return rc;
    if (doc->n_processes == 0) {
        fl_bpmn_doc_free(doc);
        return fl_error_set(err, FL_EMODEL, "the document has no executable process");
    }
    d.xml = xml;
    d.len = len;
    d.n_processes = doc->n_processes;
    d.keys = fl_calloc(d.n_processes, sizeof(char *));
    d.names = fl_calloc(d.n_processes, sizeof(char *));
    d.n_warnings = fl_calloc(d.n_processes, sizeof(size_t));
    for (size_t i = 0; i < d.n_processes; i++) {
        d.keys[i] = fl_strdup(doc->processes[i]->key);
        d.names[i] = fl_strdup(doc->processes[i]->name);
        d.n_warnings[i] = doc->processes[i]->n_warnings;
    }
    fl_bpmn_doc_free(doc);
    d.results = results;
    d.max_results = max_results;
    return submit_deploy(svc, &d, n, err);
}

void fl_service_stats(struct fl_service *svc, struct fl_service_stats *out)
{
    pthread_mutex_lock(&svc->lock);
    *out = svc->stats;
    pthread_mutex_unlock(&svc->lock);
}

int64_t fl_service_now(struct fl_service *svc)
{
    return fl__svc_now(svc);
}

bool fl_service_has_test_clock(const struct fl_service *svc)
{
    return svc && svc->test_clock;
}

int fl_service_clock_set(struct fl_service *svc, int64_t now_ms)
{
    if (!svc || !svc->test_clock)
        return FL_EUNSUPPORTED;
    atomic_store(&svc->test_now, now_ms);
    fl__sched_wake(svc->sched);
    fl__jobs_clock_moved(svc); /* locks and backoffs may have run out */
    return 0;
}

int fl_service_timers_settle(struct fl_service *svc, int64_t timeout_ms)
{
    if (!svc || !svc->sched)
        return FL_EINVAL;
    return fl__sched_settle(svc->sched, timeout_ms);
}

void fl_service_timer_stats(struct fl_service *svc, struct fl_timer_stats *out)
{
    fl__sched_stats(svc ? svc->sched : NULL, out);
}
