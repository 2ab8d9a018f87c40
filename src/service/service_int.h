/* Internals of the service shared by its files: the queued command (a self-contained copy
 * of what the caller submitted), the service struct with its queue, and the writer's
 * caches (compiled models by definition id, recently used instances by id). Everything
 * below the queue lock is touched only by the writer thread. */
#ifndef FLOWD_SERVICE_INT_H
#define FLOWD_SERVICE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "flowd/service.h"

enum fl__svc_kind { FL__SVC_ENGINE, FL__SVC_DEPLOY };

/* What fl_service_deploy waits for; written by the writer after commit. */
struct fl__svc_deploy {
    const char *xml; /* borrowed from the waiting caller */
    size_t len;
    char **keys, **names; /* one per process; owned by the caller's frame */
    size_t *n_warnings;
    size_t n_processes;
    struct fl_deploy_result *results; /* caller's array */
    size_t max_results;
    size_t n_out;
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
    char text[];
};

/* Compiled models by definition id; they live as long as the service. */
struct fl__model_cache {
    struct {
        uint64_t def_id;
        struct fl_model *model;
    } * items;
    size_t n, cap;
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
    uint64_t next_id[FL_ID_INCIDENT + 1];
    struct fl__model_cache models;
    struct fl__inst_cache instances;
    struct fl__svc_touched *touched; /* instances written by the current batch */
    size_t n_touched, cap_touched;
    size_t models_mark; /* models cached before the current transaction */
};

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

/* Writer thread entry. */
void *fl__svc_writer_main(void *arg);

#endif
