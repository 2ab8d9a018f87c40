/* Internals of the service shared by its files: the queued command (a self-contained copy
 * of what the caller submitted), the service struct with its queue, and the writer's
 * caches (compiled models by definition id, recently used instances by id). Everything
 * below the queue lock is touched only by the writer thread. */
#ifndef FLOWD_SERVICE_INT_H
#define FLOWD_SERVICE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "flowd/service.h"

enum fl__svc_kind { FL__SVC_ENGINE, FL__SVC_DEPLOY, FL__SVC_ACTIVATE, FL__SVC_MIGRATE };

/* What fl_service_deploy waits for; written by the writer after commit. */
struct fl__svc_deploy {
    const char *xml; /* borrowed from the waiting caller */
    size_t len;
    char **keys, **names; /* one per process; owned by the caller's frame */
    size_t *n_warnings;
    size_t n_processes;
    struct fl_deploy_result *results; /* caller's array */
    bool dmn; /* keys are the decisions of a DMN document (issue 5) */
    size_t max_results;
    size_t n_out;
};

/* What fl_service_migrate waits for (migrate.c); outcomes written by the writer. */
struct fl__svc_migrate {
    const struct fl_migration_request *req; /* borrowed from the waiting caller */
    struct fl_migration_outcome *out;
    size_t n, cap;
};

/* One queued command; strings of cmd point into text[] (one allocation per command). */
struct fl__svc_cmd {
    struct fl__svc_cmd *next;
    enum fl__svc_kind kind;
    struct fl_command cmd; /* cmd.variables is NULL here: see vars_json */
    const char *vars_json; /* the variables serialised at submit, or NULL */
    size_t vars_len;
    int pre_rc; /* refused at submit (the copy failed): delivered as is */
    fl_service_cb cb;
    void *arg;
    fl_service_render_cb render; /* or NULL: see fl_service_submit_answered */
    struct fl_result res;
    struct fl__svc_deploy *deploy;
    struct fl__job_waiter *waiter; /* FL__SVC_ACTIVATE: the activation it attempts */
    struct fl__svc_migrate *migrate; /* FL__SVC_MIGRATE */
    _Alignas(uint64_t) char text[]; /* aligned: MODIFY lists sit at its start */
};

/* Compiled models by definition id; they live as long as the service. */
struct fl__model_cache {
    struct {
        uint64_t def_id;
        struct fl_model *model;
    } * items;
    size_t n, cap;
};

/* Parsed business calendars by name, as of store revision `rev` (writer thread only). */
struct fl__cal_cache {
    struct {
        char *name;
        struct fl_calendar *cal;
    } * items;
    size_t n, cap;
    uint64_t rev;
};

struct fl__inst_entry {
    uint64_t id;
    struct fl_instance *inst;
    struct fl__inst_entry *hnext;       /* hash chain */
    struct fl__inst_entry *prev, *next; /* LRU list, most recent first */
};

/* Instances by id with LRU eviction: a command on a hot instance skips three queries
 * and a JSON parse of its variables. */
struct fl__inst_cache {
    struct fl__inst_entry **buckets;
    size_t n_buckets; /* power of two */
    size_t n, cap;
    struct fl__inst_entry *head, *tail;
};

/* An instance the current batch wrote; ended ones leave the cache after commit. */
struct fl__svc_touched {
    uint64_t id;
    bool ended;
};

struct fl_service {
    struct fl_store *store; /* the writer's connection */
    int64_t (*clock_ms)(void);
    unsigned max_batch, queue_cap;

    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    struct fl__svc_cmd *qhead, *qtail;
    size_t qlen;
    bool closing;
    pthread_t writer;
    bool writer_started;
    struct fl_service_stats stats; /* under lock */

    /* writer thread only */
    uint64_t next_id[FL__ID_COUNT];
    struct fl__model_cache models;
    struct fl__inst_cache instances;
    struct fl__svc_touched *touched; /* instances written by the current batch */
    size_t n_touched, cap_touched;
    size_t models_mark;          /* models cached before the current transaction */
    struct fl_timer_due *offers; /* timers set by the current batch, offered after commit */
    size_t n_offers, cap_offers;

    struct fl__sched *sched; /* NULL unless run_timers */
    bool test_clock;
    _Atomic int64_t test_now;
    struct fl__cal_cache calendars;
    int64_t message_ttl_ms; /* default time to live of published messages; 0 = none */
    struct fl__jobs *jobs; /* job activation and long polls (jobs.c, job_wait.c) */
    struct fl__dec_cache *decisions; /* compiled DMN documents (decisions.c), any thread */
};

/* ---- DMN decisions (decisions.c) ---- */
struct fl__dec_cache;

/* A new, empty cache of compiled decisions (its own lock: the writer and API threads share
 * it); free with fl__dec_cache_free. */
struct fl__dec_cache *fl__dec_cache_new(void);
void fl__dec_cache_free(struct fl__dec_cache *c);

/* The engine's decide hook (arg: the service): the latest version of decision_id on the
 * writer's connection, compiled once. Writer thread only. */
int fl__svc_decide(void *arg, const char *decision_id, const char *result_map,
                   const struct fl_value *vars, int64_t now_ms, struct fl_value **result,
                   struct fl_error *err);

void fl__model_cache_release(struct fl__model_cache *c);
/* Forget models added after the first n (their definitions were rolled back). */
void fl__model_cache_truncate(struct fl__model_cache *c, size_t n);
/* The model of definition id (compiled on first use from the stored XML). Borrowed. */
int fl__model_cache_get(struct fl_service *svc, uint64_t def_id, const struct fl_model **out,
                        struct fl_error *err);

void fl__inst_cache_init(struct fl__inst_cache *c, size_t cap);
void fl__inst_cache_release(struct fl__inst_cache *c);
/* Borrowed instance, or NULL; a hit becomes most recent. */
struct fl_instance *fl__inst_cache_get(struct fl__inst_cache *c, uint64_t id);
/* Insert (takes ownership) an instance whose id is not cached; evicts the least recent
 * past cap. */
void fl__inst_cache_put(struct fl__inst_cache *c, struct fl_instance *inst);
/* Drop and free id if cached. */
void fl__inst_cache_drop(struct fl__inst_cache *c, uint64_t id);

void fl__cal_cache_release(struct fl__cal_cache *c);
/* The engine's fl_calendar_add_fn (arg: the service): working time on the named calendar,
 * parsed once and kept until the store's calendar revision changes. Writer thread only. */
int fl__svc_calendar_add(void *arg, const char *cal, int64_t t_ms, const struct fl_iso_duration *d,
                         int64_t *out, struct fl_error *err);

/* ---- running commands inside the writer's open transaction (writer.c) ---- */

/* The engine context of a step now: clock, id allocator, calendars (and decisions). */
void fl__svc_engine_ctx(struct fl_service *svc, struct fl_engine_ctx *ctx);

/* Run one engine command in the open transaction: load (or start) the instance, apply,
 * write the effects, then fl__svc_cascade. res gets the outcome (rc, instance, status,
 * first task). Returns 0, a refusal (FL_ENOTFOUND, FL_ECONFLICT...: nothing of this step is
 * written, but see the cascade) or a store failure, which dooms the transaction. depth is
 * 0 for a submitted command and one more for each command a cascade runs. fx is the
 * caller's scratch (reset here). */
int fl__svc_step(struct fl_service *svc, const struct fl_command *cmd, struct fl_effects *fx,
                 struct fl_result *res, unsigned depth);

/* Note that the current transaction wrote inst (its cache entry goes if it rolls back),
 * and the timers fx set (offered to the scheduler after commit). */
void fl__svc_touch(struct fl_service *svc, const struct fl_instance *inst);
void fl__svc_note_timers(struct fl_service *svc, const struct fl_instance *inst,
                         const struct fl_effects *fx);

/* Run a migration (FL__SVC_MIGRATE) in the open transaction: check every instance, then
 * write them all. 0, a refusal (nothing written; mg->out says why per instance) or a
 * store failure (the transaction must roll back). */
int fl__svc_migrate_exec(struct fl_service *svc, struct fl__svc_migrate *mg,
                         struct fl_effects *fx, struct fl_error *err);

/* ---- cascades between instances (cascade.c) ---- */

#define FL__SVC_MAX_CASCADE 32 /* nesting of commands one command may set off */

/* After a step of inst wrote fx: run what it asks of other instances in the same
 * transaction -- a call activity's child start (FL_FX_CALL) or cancel (FL_FX_CALL_CANCEL),
 * the caller's CALL_DONE when a
 * called instance ends (or FL_FX_ERROR_UP), signal broadcasts (FL_FX_SIGNAL), buffered
 * messages for new subscriptions (FL_FX_SUB_OPEN), outbox messages (FL_FX_OUTBOX). Nested
 * steps run with fl__svc_step at depth + 1. Returns 0 or a store failure. */
int fl__svc_cascade(struct fl_service *svc, const struct fl_instance *inst,
                    const struct fl_effects *fx, unsigned depth, struct fl_error *err);

/* Run a nested command at depth (for the cascade handlers): its own effects buffer; a
 * refusal is returned as is (res says why), so the handler decides what it means. */
int fl__svc_nested(struct fl_service *svc, const struct fl_command *cmd, unsigned depth,
                   struct fl_result *res);

/* Cascade handlers. Calls (svc_calls.c): FL_FX_CALL or FL_FX_CALL_CANCEL effect e of inst;
 * the end of a called
 * instance (inst->parent_instance_id set and inst ended, or an FL_FX_ERROR_UP effect e,
 * else e NULL). Messages and signals (svc_messages.c): FL_FX_SIGNAL, FL_FX_SUB_OPEN and
 * FL_FX_OUTBOX effects. Each returns 0 or a store failure. */
int fl__svc_on_call(struct fl_service *svc, const struct fl_instance *inst,
                    const struct fl_effect *e, unsigned depth, struct fl_error *err);
int fl__svc_on_child_end(struct fl_service *svc, const struct fl_instance *inst,
                         const struct fl_effect *e, unsigned depth, struct fl_error *err);
int fl__svc_on_message_fx(struct fl_service *svc, const struct fl_instance *inst,
                          const struct fl_effect *e, unsigned depth, struct fl_error *err);
/* An FL_FX_ESCALATE_UP effect e of called instance inst: FL_CMD_CALL_ESCALATE to the caller
 * (svc_calls.c). 0 or a store failure. */
int fl__svc_on_escalate_up(struct fl_service *svc, const struct fl_instance *inst,
                           const struct fl_effect *e, unsigned depth, struct fl_error *err);

/* FL_CMD_PUBLISH_MESSAGE and FL_CMD_BROADCAST_SIGNAL inside the open transaction
 * (svc_messages.c): the nested commands they set off run at depth + 1. Returns 0 (res
 * says what happened), a refusal, or a store failure. */
int fl__svc_publish(struct fl_service *svc, const struct fl_command *cmd, struct fl_result *res,
                    unsigned depth);

/* After version def_id of process key was deployed (inside the writer's transaction):
 * record its message and signal start events, replacing those of older versions.
 * FL_EMODEL when a start event's name cannot be evaluated; store errors. */
int fl__svc_message_starts_deploy(struct fl_service *svc, const char *key, uint64_t def_id,
                                  struct fl_error *err);
/* Queue q (service.c); FL_ECLOSED (q freed) when the service closes. */
int fl__svc_enqueue(struct fl_service *svc, struct fl__svc_cmd *q);

/* Writer thread entry. */
void *fl__svc_writer_main(void *arg);

/* The service's clock (test clock, injected clock or real time). Any thread. */
int64_t fl__svc_now(struct fl_service *svc);

/* ---- timer start events (timer_start.c), writer thread ---- */

/* After version def_id of process key was deployed (inside the writer's transaction):
 * replace the start timers of every version of key with the first occurrence of each
 * timer start event of def_id, offered to the scheduler at commit. FL_EMODEL when a
 * definition cannot be evaluated; store errors. */
int fl__svc_start_timers_deploy(struct fl_service *svc, const struct fl_engine_ctx *ctx,
                                const char *key, uint64_t def_id, struct fl_error *err);

/* FL_CMD_FIRE_TIMER of start timer timer_id (inside the writer's transaction): delete it,
 * start an instance of its definition at its start event (effects in fx, *out the new
 * instance, caller owns; *m_out its model) and arm the next occurrence. *out stays NULL
 * when the timer belonged to an older version (then it is only deleted). FL_ENOTFOUND
 * not pending, FL_ECONFLICT not due, FL_EINVAL not a start timer; nothing is written on
 * an error. */
int fl__svc_start_timer_fire(struct fl_service *svc, uint64_t timer_id,
                             const struct fl_engine_ctx *ctx, struct fl_effects *fx,
                             const struct fl_model **m_out, struct fl_instance **out,
                             struct fl_error *err);

/* ---- job workers (jobs.c: writer side; job_wait.c: long polls) ---- */
struct fl__jobs;
struct fl__job_waiter;


/* Create / stop and free the long-poll state (stop answers every waiting request). */
struct fl__jobs *fl__jobs_new(void);
void fl__jobs_stop(struct fl_service *svc);
void fl__jobs_free(struct fl__jobs *j);
/* The clock moved (test clock): look at locks and backoffs again. Any thread. */
void fl__jobs_clock_moved(struct fl_service *svc);

/* Writer, inside the transaction: run activation attempt q->waiter (lock jobs, gather
 * variables and headers). 0 or a store failure. */
int fl__jobs_exec(struct fl_service *svc, struct fl__svc_cmd *q, struct fl_error *err);

/* Writer, before a job command (complete, fail, throw error) runs: FL_ECONFLICT when the
 * job is closed or another worker holds its lock (cmd->actor names the worker; NULL = no
 * lock check), FL_ENOTFOUND when there is no such job. 0 for other commands. */
int fl__jobs_check_cmd(struct fl_service *svc, const struct fl_command *cmd,
                       struct fl_error *err);

/* Writer, after a step wrote fx: note the job types that became activatable (jobs created
 * or failed back) to wake their long polls after the batch, and record a thrown error's
 * code on its job. 0 or a store failure. */
int fl__jobs_after_step(struct fl_service *svc, const struct fl_model *m,
                        const struct fl_instance *inst, const struct fl_command *cmd,
                        const struct fl_effects *fx, struct fl_error *err);

/* Writer, after a batch's acknowledgements: wake the long polls of the noted types. */
void fl__jobs_after_batch(struct fl_service *svc);

/* ---- the scheduler (scheduler.c) ---- */
struct fl__sched;

/* Start the scheduler thread with its own read connection to db_url; window = timers
 * read per refill (0 = 4096). */
int fl__sched_start(struct fl_service *svc, const char *db_url, unsigned window,
                    struct fl__sched **out, struct fl_error *err);
/* Stop and join the thread (no more submits); fires in flight still call back, so free
 * only after the writer drained. NULL-safe. */
void fl__sched_stop(struct fl__sched *sc);
void fl__sched_free(struct fl__sched *sc);
/* Timers set by a committed batch (writer thread). */
void fl__sched_offer(struct fl__sched *sc, const struct fl_timer_due *t, size_t n);
/* The clock moved: look again. */
void fl__sched_wake(struct fl__sched *sc);
/* See fl_service_timers_settle. */
int fl__sched_settle(struct fl__sched *sc, int64_t timeout_ms);
void fl__sched_stats(struct fl__sched *sc, struct fl_timer_stats *out);

#endif
