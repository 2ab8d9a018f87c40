/* The store's back-end interface: every operation of flowd/store.h as a function pointer,
 * so SQLite today and PostgreSQL later sit behind one vtable (after Redis' connection
 * types). A back end embeds struct fl_store as the first member of its own connection
 * struct; store.c parses the URL, picks the back end and forwards each call. */
#ifndef FLOWD_STORE_IMPL_H
#define FLOWD_STORE_IMPL_H

#include "flowd/auth.h"
#include "flowd/calendar.h"
#include "flowd/crm.h"
#include "flowd/jobs.h"
#include "flowd/store.h"

/* A stored API token as the verifier needs it (the hash is hex SHA-256 of the secret). */
struct fl__token_rec {
    uint64_t id, user_id;
    int scope;
    char hash[65];
    int64_t last_used_at, revoked_at;
    bool user_disabled;
};

/* A stored session (keyed by hex SHA-256 of its id). */
struct fl__session_rec {
    uint64_t user_id;
    char csrf[FL_SESSION_TEXT_MAX];
    char hash[65];
    int64_t created_at, last_seen_at, expires_at;
    bool user_disabled;
};

struct fl_store_msg_ops;

struct fl_store_ops {
    const char *name; /* "sqlite" */
    int (*open)(const char *path, const struct fl_store_options *opt, struct fl_store **out,
                struct fl_error *err);
    void (*close)(struct fl_store *s);
    int (*schema_version)(struct fl_store *s);
    int (*begin)(struct fl_store *s, struct fl_error *err);
    int (*commit)(struct fl_store *s, struct fl_error *err);
    int (*rollback)(struct fl_store *s);
    /* Optional (NULL: each query reads on its own): one read snapshot across queries. */
    int (*read_begin)(struct fl_store *s, struct fl_error *err);
    void (*read_end)(struct fl_store *s);
    /* Optional (NULL: nothing to do): background upkeep of a long-lived writer connection,
     * stopped by close. SQLite: the WAL checkpointer. */
    int (*background_start)(struct fl_store *s, struct fl_error *err);

    int (*definition_put)(struct fl_store *s, const char *key, const char *name, const char *xml,
                          size_t xml_len, int64_t now_ms, struct fl_definition_row *out,
                          bool *created, struct fl_error *err);
    int (*definition_find)(struct fl_store *s, const char *key, int32_t version, uint64_t *id,
                           struct fl_error *err);
    int (*definition_get)(struct fl_store *s, const char *key, int32_t version, uint64_t id,
                          struct fl_definition_row *out, struct fl_error *err);
    int (*definition_list)(struct fl_store *s, struct fl_definition_row **rows, size_t *n,
                           struct fl_error *err);
    /* DMN decisions (issue 5): rows as definitions, key = decision id */
    int (*decision_put)(struct fl_store *s, const char *key, const char *name, const char *xml,
                        size_t xml_len, int64_t now_ms, struct fl_definition_row *out,
                        bool *created, struct fl_error *err);
    int (*decision_get)(struct fl_store *s, const char *key, int32_t version, uint64_t id,
                        struct fl_definition_row *out, struct fl_error *err);
    int (*decision_head)(struct fl_store *s, const char *key, uint64_t *id, char checksum[65],
                         struct fl_error *err);
    int (*decision_list)(struct fl_store *s, struct fl_definition_row **rows, size_t *n,
                         struct fl_error *err);

    int (*instance_load)(struct fl_store *s, uint64_t id, struct fl_instance **out,
                         struct fl_error *err);
    int (*apply)(struct fl_store *s, const struct fl_model *m, const struct fl_instance *inst,
                 const struct fl_effects *fx, struct fl_error *err);
    int (*max_id)(struct fl_store *s, enum fl_id_kind kind, uint64_t *out, struct fl_error *err);
    int (*changed_elsewhere)(struct fl_store *s, bool *changed, struct fl_error *err);
    int (*instance_list)(struct fl_store *s, const struct fl_instance_query *q,
                         struct fl_instance_row **rows, size_t *n, struct fl_error *err);
    int (*instance_get)(struct fl_store *s, uint64_t id, struct fl_instance_row *out,
                        struct fl_error *err);
    int (*task_list)(struct fl_store *s, const struct fl_task_query *q, struct fl_task_row **rows,
                     size_t *n, struct fl_error *err);
    int (*task_get)(struct fl_store *s, uint64_t id, struct fl_task_row *out, struct fl_error *err);
    int (*idem_get)(struct fl_store *s, const char *scope, struct fl_idem_row *out,
                    struct fl_error *err);
    int (*idem_put)(struct fl_store *s, const struct fl_idem_row *row, struct fl_error *err);
    int (*count_open)(struct fl_store *s, uint64_t *open_tasks, uint64_t *active_instances,
                      struct fl_error *err);
    int (*task_set_assignee)(struct fl_store *s, uint64_t id, const char *assignee,
                             struct fl_error *err);
    int (*job_instance)(struct fl_store *s, uint64_t job_id, uint64_t *instance_id,
                        struct fl_error *err);
    int (*history)(struct fl_store *s, uint64_t instance_id, struct fl_event_row **rows, size_t *n,
                   struct fl_error *err);
    int (*timers_due)(struct fl_store *s, int64_t after_due, uint64_t after_id,
                      struct fl_timer_due *rows, size_t max, size_t *n, struct fl_error *err);
    int (*timer_count)(struct fl_store *s, uint64_t *n, struct fl_error *err);
    int (*start_timers_clear)(struct fl_store *s, const char *key, struct fl_error *err);
    int (*start_timer_put)(struct fl_store *s, const struct fl_timer *t, struct fl_error *err);
    int (*timer_get)(struct fl_store *s, uint64_t id, struct fl_timer *out, struct fl_error *err);
    int (*timer_delete)(struct fl_store *s, uint64_t id, struct fl_error *err);
    int (*control_list)(struct fl_store *s, const struct fl_control_query *q,
                        struct fl_control_row **rows, size_t *n, struct fl_error *err);
    int (*notification_list)(struct fl_store *s, const struct fl_notification_query *q,
                             struct fl_notification_row **rows, size_t *n, struct fl_error *err);
    int (*notification_read)(struct fl_store *s, const char *user, uint64_t id, int64_t now_ms,
                             struct fl_error *err);

    /* people and access (flowd/auth.h); arguments already validated by the front */
    int (*user_add)(struct fl_store *s, const struct fl_user_new *u, int64_t now_ms, uint64_t *id,
                    struct fl_error *err);
    int (*user_get)(struct fl_store *s, const char *login, uint64_t id, struct fl_user_row *out,
                    struct fl_error *err);
    int (*user_list)(struct fl_store *s, struct fl_user_row **rows, size_t *n,
                     struct fl_error *err);
    int (*user_set_disabled)(struct fl_store *s, const char *login, bool disabled,
                             struct fl_error *err);
    int (*user_set_password)(struct fl_store *s, const char *login, const char *hash,
                             struct fl_error *err);
    int (*role_add)(struct fl_store *s, const char *name, const char *description, uint64_t *id,
                    struct fl_error *err);
    int (*role_list)(struct fl_store *s, struct fl_role_row **rows, size_t *n,
                     struct fl_error *err);
    int (*user_grant_role)(struct fl_store *s, const char *login, const char *role,
                           struct fl_error *err);
    int (*department_add)(struct fl_store *s, const char *name, const char *parent,
                          const char *head, uint64_t *id, struct fl_error *err);
    int (*department_list)(struct fl_store *s, struct fl_department_row **rows, size_t *n,
                           struct fl_error *err);
    int (*managed_logins)(struct fl_store *s, uint64_t user_id, struct fl_strlist *out,
                          struct fl_error *err);
    int (*token_insert)(struct fl_store *s, uint64_t user_id, const char *name, int scope,
                        const char *hash, int64_t now_ms, uint64_t *id, struct fl_error *err);
    int (*token_find)(struct fl_store *s, const char *hash, struct fl__token_rec *out,
                      struct fl_error *err);
    int (*token_touch)(struct fl_store *s, uint64_t id, int64_t now_ms, struct fl_error *err);
    int (*token_revoke)(struct fl_store *s, uint64_t id, int64_t now_ms, struct fl_error *err);
    int (*token_list)(struct fl_store *s, const char *login, struct fl_token_row **rows, size_t *n,
                      struct fl_error *err);
    int (*session_insert)(struct fl_store *s, const struct fl__session_rec *r,
                          struct fl_error *err);
    int (*session_find)(struct fl_store *s, const char *hash, struct fl__session_rec *out,
                        struct fl_error *err);
    int (*session_touch)(struct fl_store *s, const char *hash, int64_t now_ms,
                         struct fl_error *err);
    int (*session_delete)(struct fl_store *s, const char *hash, struct fl_error *err);

    /* business calendars (flowd/calendar.h); json already validated and canonical */
    int (*calendar_put)(struct fl_store *s, const char *name, const char *json, int64_t now_ms,
                        struct fl_error *err);
    int (*calendar_get)(struct fl_store *s, const char *name, struct fl_calendar_row *out,
                        struct fl_error *err);
    int (*calendar_list)(struct fl_store *s, struct fl_calendar_row **rows, size_t *n,
                         struct fl_error *err);
    int (*calendar_delete)(struct fl_store *s, const char *name, struct fl_error *err);
    int (*calendar_revision)(struct fl_store *s, uint64_t *rev, struct fl_error *err);
    /* CRM records (flowd/crm.h); values already checked by the front (crm.c). resolve
     * checks references, users and departments (filling department ids) as viewer may see
     * them, only of the fields marked in check (NULL: all); insert and update keep the search index
     * in the same transaction. */
    int (*crm_get)(struct fl_store *s, enum fl_crm_type t, uint64_t id,
                   const struct fl_principal *viewer, struct fl_crm_record *out,
                   struct fl_error *err);
    int (*crm_list)(struct fl_store *s, const struct fl_crm_query *q, struct fl_crm_record **rows,
                    size_t *n, struct fl_error *err);
    int (*crm_resolve)(struct fl_store *s, struct fl_crm_record *rec, const bool *check,
                       const struct fl_principal *viewer, struct fl_error *err);
    int (*crm_insert)(struct fl_store *s, const struct fl_crm_record *rec, uint64_t *id,
                      struct fl_error *err);
    int (*crm_update)(struct fl_store *s, const struct fl_crm_record *rec, struct fl_error *err);
    int (*crm_delete)(struct fl_store *s, enum fl_crm_type t, uint64_t id, int64_t now_ms,
                      struct fl_error *err);
    /* jobs and incidents (flowd/jobs.h) */
    int (*job_get)(struct fl_store *s, uint64_t id, struct fl_job_row *out, struct fl_error *err);
    int (*job_list)(struct fl_store *s, const struct fl_job_query *q, struct fl_job_row **rows,
                    size_t *n, struct fl_error *err);
    int (*job_activate)(struct fl_store *s, const char *type, const char *worker, size_t max,
                        int64_t now_ms, int64_t lock_until, struct fl_job_row **rows, size_t *n,
                        struct fl_error *err);
    int (*job_next_activatable)(struct fl_store *s, const char *type, int64_t now_ms, int64_t *at,
                                struct fl_error *err);
    int (*job_set_error_code)(struct fl_store *s, uint64_t id, const char *code,
                              struct fl_error *err);
    int (*incident_get)(struct fl_store *s, uint64_t id, struct fl_incident_row *out,
                        struct fl_error *err);
    int (*incident_list)(struct fl_store *s, const struct fl_incident_query *q,
                         struct fl_incident_row **rows, size_t *n, struct fl_error *err);
    const struct fl_store_msg_ops *messages; /* messages and signals */
};

struct fl_store {
    const struct fl_store_ops *ops;
};

/* Job row status: the values of enum fl_job_status (flowd/jobs.h). */
enum fl__job_status { FL__JOB_OPEN = FL_JOB_OPEN, FL__JOB_COMPLETED = FL_JOB_COMPLETED,
                      FL__JOB_FAILED = FL_JOB_FAILED };

/* Messages and signals (flowd/store.h, issue 5): one table of their own, named by
 * fl_store_ops.messages, so the main vtable grows by one entry. */
struct fl_store_msg_ops {
    int (*subs_find)(struct fl_store *s, int trigger, const char *name, const char *key,
                     size_t max, struct fl_subscription **rows, size_t *n, struct fl_error *err);
    int (*message_put)(struct fl_store *s, const struct fl_message_row *m, struct fl_error *err);
    int (*message_by_client_id)(struct fl_store *s, const char *message_id, int64_t now_ms,
                                struct fl_message_row *out, bool *found, struct fl_error *err);
    int (*message_match)(struct fl_store *s, const char *name, const char *key, int64_t now_ms,
                         struct fl_message_row *out, bool *found, struct fl_error *err);
    int (*message_set_status)(struct fl_store *s, uint64_t id, int status, uint64_t instance_id,
                              struct fl_error *err);
    int (*messages_expire)(struct fl_store *s, int64_t now_ms, uint64_t *n, struct fl_error *err);
    int (*outbox_list)(struct fl_store *s, uint64_t after, size_t limit, bool undelivered,
                       struct fl_outbox_row **rows, size_t *n, struct fl_error *err);
    int (*outbox_delivered)(struct fl_store *s, uint64_t id, int64_t at, struct fl_error *err);
    int (*start_events_set)(struct fl_store *s, const char *key, uint64_t def_id,
                            const int *triggers, const char *const *names,
                            const char *const *node_ids, size_t n, struct fl_error *err);
    int (*start_events_find)(struct fl_store *s, int trigger, const char *name,
                             struct fl_start_event_row **rows, size_t *n, struct fl_error *err);
};

/* Defaults applied when the caller gives no options. */
#define FL__STORE_BUSY_TIMEOUT_MS 5000
#define FL__STORE_LIST_LIMIT 100
#define FL__STORE_LIST_MAX 10000

extern const struct fl_store_ops fl__sqlite_ops;

/* Join a string list as "a,b,c" (NULL when empty). Caller frees. */
char *fl__store_join_list(const struct fl_strlist *l);


#endif
