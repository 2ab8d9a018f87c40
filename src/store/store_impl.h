/* The store's back-end interface: every operation of flowd/store.h as a function pointer,
 * so SQLite today and PostgreSQL later sit behind one vtable (after Redis' connection
 * types). A back end embeds struct fl_store as the first member of its own connection
 * struct; store.c parses the URL, picks the back end and forwards each call. */
#ifndef FLOWD_STORE_IMPL_H
#define FLOWD_STORE_IMPL_H

#include "flowd/store.h"

struct fl_store_ops {
    const char *name; /* "sqlite" */
    int (*open)(const char *path, const struct fl_store_options *opt, struct fl_store **out,
                struct fl_error *err);
    void (*close)(struct fl_store *s);
    int (*schema_version)(struct fl_store *s);
    int (*begin)(struct fl_store *s, struct fl_error *err);
    int (*commit)(struct fl_store *s, struct fl_error *err);
    int (*rollback)(struct fl_store *s);

    int (*definition_put)(struct fl_store *s, const char *key, const char *name, const char *xml,
                          size_t xml_len, int64_t now_ms, struct fl_definition_row *out,
                          bool *created, struct fl_error *err);
    int (*definition_find)(struct fl_store *s, const char *key, int32_t version, uint64_t *id,
                           struct fl_error *err);
    int (*definition_get)(struct fl_store *s, const char *key, int32_t version, uint64_t id,
                          struct fl_definition_row *out, struct fl_error *err);
    int (*definition_list)(struct fl_store *s, struct fl_definition_row **rows, size_t *n,
                           struct fl_error *err);

    int (*instance_load)(struct fl_store *s, uint64_t id, struct fl_instance **out,
                         struct fl_error *err);
    int (*apply)(struct fl_store *s, const struct fl_model *m, const struct fl_instance *inst,
                 const struct fl_effects *fx, struct fl_error *err);
    int (*max_id)(struct fl_store *s, enum fl_id_kind kind, uint64_t *out, struct fl_error *err);
    int (*instance_list)(struct fl_store *s, const struct fl_instance_query *q,
                         struct fl_instance_row **rows, size_t *n, struct fl_error *err);
    int (*instance_get)(struct fl_store *s, uint64_t id, struct fl_instance_row *out,
                        struct fl_error *err);
    int (*task_list)(struct fl_store *s, const struct fl_task_query *q, struct fl_task_row **rows,
                     size_t *n, struct fl_error *err);
    int (*task_get)(struct fl_store *s, uint64_t id, struct fl_task_row *out, struct fl_error *err);
    int (*count_open)(struct fl_store *s, uint64_t *open_tasks, uint64_t *active_instances,
                      struct fl_error *err);
    int (*task_set_assignee)(struct fl_store *s, uint64_t id, const char *assignee,
                             struct fl_error *err);
    int (*job_instance)(struct fl_store *s, uint64_t job_id, uint64_t *instance_id,
                        struct fl_error *err);
    int (*history)(struct fl_store *s, uint64_t instance_id, struct fl_event_row **rows, size_t *n,
                   struct fl_error *err);
};

struct fl_store {
    const struct fl_store_ops *ops;
};

/* Job row status (no public enum yet: jobs are only routed through the store). */
enum fl__job_status { FL__JOB_OPEN, FL__JOB_COMPLETED, FL__JOB_FAILED };

/* Defaults applied when the caller gives no options. */
#define FL__STORE_BUSY_TIMEOUT_MS 5000
#define FL__STORE_LIST_LIMIT 100
#define FL__STORE_LIST_MAX 10000

extern const struct fl_store_ops fl__sqlite_ops;

/* Join a string list as "a,b,c" (NULL when empty). Caller frees. */
char *fl__store_join_list(const struct fl_strlist *l);

/* Append s to out as a JSON string literal (quotes and escapes). */
void fl__store_json_string(struct fl_buf *out, const char *s, size_t len);

#endif
