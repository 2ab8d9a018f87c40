/* The service: runs commands against the store. One writer thread owns the write
 * connection and executes queued commands in batches, one transaction per batch (group
 * commit), and acknowledges each command only after its batch committed: an acknowledged
 * command is durable. Deployed models are compiled once and cached. Callers may submit
 * from any thread. */
#ifndef FLOWD_SERVICE_H
#define FLOWD_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowd/engine.h"
#include "flowd/err.h"
#include "flowd/store.h"

struct fl_service; /* opaque */

struct fl_service_options {
    const char *db_url;        /* see fl_store_open */
    int synchronous;           /* 2 = FULL (default when 0 is not asked for: see below) */
    bool synchronous_set;      /* true when synchronous was given */
    unsigned max_batch;        /* commands per transaction at most (0 = 1024) */
    unsigned queue_cap;        /* queued commands at most before submit blocks (0 = 65536) */
    int64_t (*clock_ms)(void); /* NULL = real clock; tests inject their own */
    unsigned instance_cache;   /* active instances kept in memory at most (0 = 65536) */
    /* Timers: run the scheduler (the server does; one-shot CLI commands do not), keeping
     * at most about 2 x timer_window pending timers in memory (0 = 4096). */
    bool run_timers;
    unsigned timer_window;
    /* A settable clock for tests (flowd serve --test-clock): starts at test_clock_start_ms
     * (0 = the real time at open) and moves only by fl_service_clock_set. Overrides
     * clock_ms. */
    bool test_clock;
    int64_t test_clock_start_ms;
    /* Time to live of a published message that names none: 0 = one hour, negative = do
     * not buffer (an unmatched message is refused). */
    int64_t message_ttl_ms;
};

/* Outcome of a command, given to the callback after commit (or on refusal). */
struct fl_result {
    int rc;               /* 0 or negative enum fl_err */
    struct fl_error err;  /* detail when rc != 0 */
    uint64_t instance_id; /* instance acted on (started) */
    int instance_status;  /* enum fl_instance_status after the command */
    bool incident;        /* the instance has an incident after the command */
    uint64_t task_id;     /* first task the command opened (FL_FX_TASK_CREATE), or 0 */
    /* fl_service_submit_answered only: the answer render gave was stored in the command's
     * transaction and that transaction committed. */
    bool answer_kept;
    /* FL_CMD_PUBLISH_MESSAGE: what became of the message (enum fl_message_status: reached a
     * subscription of instance_id, started instance instance_id, or buffered as
     * message_id until expires_at); duplicate: a message with the same client message id
     * was published within its time to live, and this is its answer. */
    int message_outcome;
    uint64_t message_id;
    int64_t expires_at;
    bool duplicate;
    /* FL_CMD_BROADCAST_SIGNAL: subscriptions reached, instances started. */
    uint32_t n_correlated, n_started;
};

/* Called on the writer thread once the command's fate is durable; must not block (it may
 * fl_service_submit a follow-up command, which then never waits for queue room, but must
 * not call fl_service_run, fl_service_deploy or fl_service_close). */
typedef void (*fl_service_cb)(void *arg, const struct fl_result *res);

/* Open the store and start the writer. Caller closes. */
int fl_service_open(const struct fl_service_options *opt, struct fl_service **out,
                    struct fl_error *err);

/* Stop accepting commands, finish (commit and acknowledge) the queued ones, stop the writer
 * and close the store. NULL-safe. Not from a callback (it waits for the writer). */
void fl_service_close(struct fl_service *svc);

/* Queue a command; cb is called exactly once (also when refused). The command is copied
 * (variables too), so the caller may free it on return. Returns 0, or FL_ECLOSED without
 * calling cb. Blocks while the queue is full. */
int fl_service_submit(struct fl_service *svc, const struct fl_command *cmd, fl_service_cb cb,
                      void *arg);

/* Renders the answer to a command inside the command's transaction (see
 * fl_service_submit_answered). Runs on the writer thread right after the command ran (also
 * when it was refused), before the commit; s is the writer's connection, so reads see the
 * command's own uncommitted effects, and res is the command's result so far. Fill *row
 * (zeroed before the call; every field, scope and body included; its strings need only
 * live until the call returns to the service, which stores them at once). Return 0 to
 * store the row, 1 to store nothing, or a negative enum fl_err when the answer cannot be
 * made (the store failed): the transaction is then rolled back and retried like any store
 * failure, and a command whose answer cannot be kept is not committed either. Must not
 * block or call the service. */
typedef int (*fl_service_render_cb)(void *arg, struct fl_store *s, const struct fl_result *res,
                                    struct fl_idem_row *row);

/* As fl_service_submit, and the command's answer is kept with it: render's row is written
 * with fl_store_idem_put in the same transaction as the command's effects, so the two
 * commit together or not at all (an Idempotency-Key retry after a crash either finds the
 * answer or finds the command never ran). cb gets res->answer_kept true when the row
 * committed. render may be called more than once for one command (a failed batch is
 * re-run one command at a time); each call replaces the answer of the previous one. */
int fl_service_submit_answered(struct fl_service *svc, const struct fl_command *cmd,
                               fl_service_render_cb render, fl_service_cb cb, void *arg);

/* Submit and wait for the result (convenience for the CLI and tests). */
int fl_service_run(struct fl_service *svc, const struct fl_command *cmd, struct fl_result *res);

struct fl_deploy_result {
    char key[256];
    int32_t version;
    uint64_t definition_id;
    bool created; /* false when the same XML was already the latest version */
    size_t n_warnings;
    bool decision; /* a DMN decision (key = decision id, definition_id = its row), not a
                      process (issue 5) */
};

/* Read, validate and store a BPMN document (through the writer). One result per executable
 * process, up to max_results; *n gets the count. FL_EMODEL etc. with detail in err; on
 * error nothing is stored. A DMN document (fl_dmn_is_dmn) is read as such: one result per
 * decision, marked decision, each stored as a new version of its decision id. */
int fl_service_deploy(struct fl_service *svc, const char *xml, size_t len,
                      struct fl_deploy_result *results, size_t max_results, size_t *n,
                      struct fl_error *err);

struct fl_value;

/* Evaluate the deployed decision key (version 0 = latest) over vars (a context, or NULL)
 * at now_ms, reading the store through s -- a connection the calling thread owns (the
 * API's reader; a snapshot is fine) -- and compiling each stored version once for the
 * life of the service. *result a new reference, shaped as fl_dmn_evaluate says.
 * FL_ENOTFOUND no such decision; the evaluation's errors otherwise. Any thread. */
int fl_service_decide(struct fl_service *svc, struct fl_store *s, const char *key,
                      int32_t version, const struct fl_value *vars, int64_t now_ms,
                      struct fl_value **result, struct fl_error *err);
/* ---- migration between versions (issue 5) ---- */

#define FL_SERVICE_MAX_MIGRATE 100000 /* instances one migration may move at most */

/* What to migrate: the instances named, or (n_instances 0) every active instance of
 * definition from_definition_id, to definition to_definition_id with the pairs (see
 * fl_engine_migrate). Pointers are borrowed for the call. */
struct fl_migration_request {
    uint64_t to_definition_id;
    const uint64_t *instance_ids;
    size_t n_instances;
    uint64_t from_definition_id;
    const struct fl_migration_pair *pairs;
    size_t n_pairs;
    const char *actor;
};

/* The fate of one instance of a migration: rc 0 migrated (or would have been, when
 * another instance refused the batch), else why this one cannot move. */
struct fl_migration_outcome {
    uint64_t instance_id;
    int rc;
    struct fl_error err;
};

/* Migrate a batch through the writer, all or nothing: every instance is checked first
 * and, when one cannot move, none is written (the first refusal's code is returned, err
 * says how many and why); else all move in one transaction and 0 is returned. *out (caller
 * frees; may be NULL when *n is 0) gets one outcome per instance considered, in order.
 * FL_ENOTFOUND unknown definition, FL_ELIMIT more than FL_SERVICE_MAX_MIGRATE instances.
 * Blocks the caller until committed; not from a callback. */
int fl_service_migrate(struct fl_service *svc, const struct fl_migration_request *req,
                       struct fl_migration_outcome **out, size_t *n, struct fl_error *err);

#define FL_SERVICE_BATCH_BUCKETS 12 /* 1, 2, 4, ... 2048+ */

/* Counters of the writer, for benchmarks and metrics. */
struct fl_service_stats {
    uint64_t commands;  /* commands executed (acknowledged or refused) */
    uint64_t batches;   /* transactions committed or failed */
    uint64_t max_batch; /* most commands in one transaction */
    uint64_t retried;   /* batches re-run one command at a time after a store error */
    /* Batches by size: [i] counts batches of at most 2^i commands (and more than 2^(i-1));
     * the last bucket also holds every larger batch. */
    uint64_t batch_hist[FL_SERVICE_BATCH_BUCKETS];
};

/* Snapshot of the counters (thread-safe). */
void fl_service_stats(struct fl_service *svc, struct fl_service_stats *out);

/* ---- time and timers ---- */

/* The service's clock (ms since epoch): the test clock, the injected clock, or real time. */
int64_t fl_service_now(struct fl_service *svc);

/* Is the clock a test clock (settable)? */
bool fl_service_has_test_clock(const struct fl_service *svc);

/* Set the test clock to now_ms (it may go back) and wake the scheduler. FL_EUNSUPPORTED
 * without a test clock. Thread-safe. */
int fl_service_clock_set(struct fl_service *svc, int64_t now_ms);

/* Wait (up to timeout_ms of real time) until no timer due at the current clock is pending
 * in the scheduler or in flight: everything due has fired and committed, including
 * timers due at once that firing set. 0, FL_EBUSY on timeout, FL_EINVAL when the
 * scheduler does not run, FL_ECLOSED when the service closes meanwhile. Not from a
 * callback. */
int fl_service_timers_settle(struct fl_service *svc, int64_t timeout_ms);

#define FL_TIMER_LATE_BUCKETS                                                                      \
    12 /* lateness < 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000 ms, more */

/* Counters of the scheduler, for benchmarks and metrics. */
struct fl_timer_stats {
    uint64_t fired;   /* fires committed */
    uint64_t gone;    /* fires that found the timer gone (fired or cancelled): ignored */
    uint64_t skipped; /* not due after all (moved), a kind not built in, or closing */
    uint64_t retried; /* fires the store failed (the scheduler then re-reads the store) */
    uint64_t refills; /* windows read from the store */
    uint64_t in_memory, in_flight;
    /* Lateness of committed fires (acknowledged at - due at), by bucket; and the worst. */
    uint64_t late_hist[FL_TIMER_LATE_BUCKETS];
    int64_t late_max_ms;
};

/* Snapshot of the scheduler's counters (all zero when it does not run). Thread-safe. */
void fl_service_timer_stats(struct fl_service *svc, struct fl_timer_stats *out);

#endif
