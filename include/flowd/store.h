/* The store: one interface over the database back ends (SQLite now, PostgreSQL later),
 * selected by URL. A struct fl_store is one connection, used by one thread at a time: the
 * service's writer owns one, each reader its own. Writes happen between begin and commit;
 * the engine's effects are written by fl_store_apply. Rows returned to the caller are
 * owned by the caller and freed with the matching *_free function. */
#ifndef FLOWD_STORE_H
#define FLOWD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowd/engine.h"
#include "flowd/err.h"
#include "flowd/model.h"

struct fl_store;     /* opaque */
struct fl_principal; /* flowd/auth.h */

struct fl_store_options {
    bool read_only;
    bool create;          /* create the database if missing (opt NULL: true unless read_only) */
    int synchronous;      /* SQLite: 2 = FULL, 1 = NORMAL, 0 = OFF (tests only) */
    bool synchronous_set; /* false: synchronous is ignored and FULL is used */
    int busy_timeout_ms;  /* 0 = 5000 */
};

/* Open a store: "sqlite:PATH", "file:PATH" or a plain PATH (SQLite); migrates the schema
 * to the current version when writable. opt may be NULL (writable, create, FULL). A
 * missing database without create gives FL_ENOTFOUND; an unusable path FL_EIO; a database
 * of a newer schema, or an old one opened read-only, FL_ESTORE. Caller closes. */
int fl_store_open(const char *url, const struct fl_store_options *opt, struct fl_store **out,
                  struct fl_error *err);

/* Close; NULL-safe. An open transaction is rolled back. */
void fl_store_close(struct fl_store *s);

/* Schema version of the open database. */
int fl_store_schema_version(struct fl_store *s);

int fl_store_begin(struct fl_store *s, struct fl_error *err);
int fl_store_commit(struct fl_store *s, struct fl_error *err);
int fl_store_rollback(struct fl_store *s);

/* Read from one snapshot until fl_store_read_end: the queries in between see the same
 * state, and the back end opens one read transaction for all of them instead of one per
 * query (on SQLite under a busy writer, most of a short query's cost). Also on read-only
 * stores; not while fl_store_begin's transaction is open. Keep it short: a held snapshot
 * keeps the WAL from restarting. fl_store_read_end is a no-op without a snapshot. */
int fl_store_read_begin(struct fl_store *s, struct fl_error *err);
void fl_store_read_end(struct fl_store *s);

/* Start the back end's background upkeep for a long-lived writer connection (SQLite: a
 * thread with its own connection that checkpoints the WAL outside the writer's commits,
 * instead of the commit that crosses the threshold doing it). Optional: back ends without
 * upkeep, and read-only stores, return 0. Idempotent; stopped and joined by
 * fl_store_close. Not needed for short-lived connections. */
int fl_store_background_start(struct fl_store *s, struct fl_error *err);

/* ---- definitions ---- */

struct fl_definition_row {
    uint64_t id;
    char *key;
    int32_t version;
    char *name;
    char *xml;
    size_t xml_len;
    char checksum[65]; /* hex SHA-256 of the XML */
    int64_t deployed_at;
};

/* Store process key from xml as a new version, unless the latest version of key has the
 * same XML: then *created is false and *out describes that version. xml is kept as sent
 * (diagram interchange included). Fills out->id, version, checksum; xml/name copied. */
int fl_store_definition_put(struct fl_store *s, const char *key, const char *name, const char *xml,
                            size_t xml_len, int64_t now_ms, struct fl_definition_row *out,
                            bool *created, struct fl_error *err);

/* Id of the definition key/version (0 = latest) without reading its XML. FL_ENOTFOUND. */
int fl_store_definition_find(struct fl_store *s, const char *key, int32_t version, uint64_t *id,
                             struct fl_error *err);

/* Load by key and version (0 = latest), or by id when key is NULL. FL_ENOTFOUND. */
int fl_store_definition_get(struct fl_store *s, const char *key, int32_t version, uint64_t id,
                            struct fl_definition_row *out, struct fl_error *err);

/* List definitions (every version), newest first. */
int fl_store_definition_list(struct fl_store *s, struct fl_definition_row **rows, size_t *n,
                             struct fl_error *err);

void fl_definition_row_release(struct fl_definition_row *r);
void fl_definition_rows_free(struct fl_definition_row *rows, size_t n);

/* ---- decisions (DMN, issue 5) ----
 * A decision is stored by its id (key) with versions, as processes are: the row holds the
 * whole DMN document it came from (its required decisions live there too). Rows are
 * struct fl_definition_row. */

/* Store decision key of document xml as a new version, unless the latest version of key
 * has the same XML (then *created is false and *out describes that one). */
int fl_store_decision_put(struct fl_store *s, const char *key, const char *name, const char *xml,
                          size_t xml_len, int64_t now_ms, struct fl_definition_row *out,
                          bool *created, struct fl_error *err);

/* Load by key and version (0 = latest), or by id when key is NULL. FL_ENOTFOUND. */
int fl_store_decision_get(struct fl_store *s, const char *key, int32_t version, uint64_t id,
                          struct fl_definition_row *out, struct fl_error *err);

/* Id and checksum (65 bytes, hex) of the latest version of key, without its XML. */
int fl_store_decision_head(struct fl_store *s, const char *key, uint64_t *id, char checksum[65],
                           struct fl_error *err);

/* Every version of every decision, newest first; xml is left empty. */
int fl_store_decision_list(struct fl_store *s, struct fl_definition_row **rows, size_t *n,
                           struct fl_error *err);

/* ---- instances ---- */

/* Load an instance's state (row, tokens in id order, variables in name order, pending
 * timers in id order).
 * FL_ENOTFOUND. Caller frees with fl_instance_free. */
int fl_store_instance_load(struct fl_store *s, uint64_t id, struct fl_instance **out,
                           struct fl_error *err);

/* Write what one engine step did: the instance row and every effect in fx, in order. The
 * row is inserted when inst->revision is 1 (a start) and otherwise updated only if the
 * stored revision is inst->revision - 1: FL_ECONFLICT when another writer got there first.
 * m is the instance's model, used to store each token's node id beside its index (NULL:
 * node ids are left empty). Must run inside a transaction; on error the caller rolls back. */
int fl_store_apply(struct fl_store *s, const struct fl_model *m, const struct fl_instance *inst,
                   const struct fl_effects *fx, struct fl_error *err);

/* Largest id in use of each kind (to seed the service's id allocator); for tokens and
 * timers, also those already deleted (fired), so an id is never handed out twice. */
int fl_store_max_id(struct fl_store *s, enum fl_id_kind kind, uint64_t *out, struct fl_error *err);

/* Inside a write transaction: *changed = whether another connection (another process, a
 * CLI on the same file, the server's people connection) committed since this connection
 * last asked. The first call answers true. A writer that allocates ids in memory reseeds
 * them when it is true, so two writers on one database never hand out the same id. */
int fl_store_changed_elsewhere(struct fl_store *s, bool *changed, struct fl_error *err);

struct fl_instance_row {
    uint64_t id, definition_id;
    char *process_key;
    int32_t version;
    char *business_key;
    int status; /* enum fl_instance_status */
    bool incident;
    int64_t started_at, ended_at;
    char *variables_json;
    char *started_by; /* actor of the START command, or NULL */
    char *owner;      /* string value of the variable "owner", or NULL */
};

struct fl_instance_query {
    bool active_only;
    const char *process_key; /* or NULL */
    uint64_t after_id;       /* cursor: ids greater than this */
    size_t limit;            /* 0 = 100 */
    /* Only instances this principal may see (fl_access_instance not NONE); NULL = all. */
    const struct fl_principal *viewer;
};

int fl_store_instance_list(struct fl_store *s, const struct fl_instance_query *q,
                           struct fl_instance_row **rows, size_t *n, struct fl_error *err);
int fl_store_instance_get(struct fl_store *s, uint64_t id, struct fl_instance_row *out,
                          struct fl_error *err);
void fl_instance_row_release(struct fl_instance_row *r);
void fl_instance_rows_free(struct fl_instance_row *rows, size_t n);

/* ---- tasks ---- */

struct fl_task_row {
    uint64_t id, instance_id, token_id;
    char *node_id, *name, *process_key;
    char *assignee;
    char *candidate_roles; /* comma-separated, or NULL */
    char *candidate_users;
    int status; /* enum fl_task_status */
    int64_t created_at, due_at, remind_at, closed_at;
    char *closed_by;
    char *main_action_kind;
    bool main_action_required, main_action_done;
    char *watch_roles; /* stage RACI consulted + informed roles, comma-separated, or NULL */
    /* Of the task's instance, for the department-head rule (flowd/auth.h): who started
     * it and its owner (string variable "owner"), or NULL. Filled by every task read. */
    char *instance_started_by;
    char *instance_owner;
};

struct fl_task_query {
    bool open_only;   /* default of the CLI */
    const char *role; /* candidate role */
    const char *assignee;
    uint64_t instance_id; /* 0 = any */
    uint64_t after_id;
    size_t limit; /* 0 = 100 */
    /* Only tasks this principal may see (fl_access_task not NONE); NULL = all. */
    const struct fl_principal *viewer;
};

int fl_store_task_list(struct fl_store *s, const struct fl_task_query *q, struct fl_task_row **rows,
                       size_t *n, struct fl_error *err);
int fl_store_task_get(struct fl_store *s, uint64_t id, struct fl_task_row *out,
                      struct fl_error *err);
void fl_task_row_release(struct fl_task_row *r);

/* Set (or with NULL clear) the assignee of open task id. FL_ENOTFOUND when no such task,
 * FL_ECONFLICT when it is closed. Needs a writable store; the caller runs it in a
 * transaction together with the check that allowed it. */
int fl_store_task_set_assignee(struct fl_store *s, uint64_t id, const char *assignee,
                               struct fl_error *err);
void fl_task_rows_free(struct fl_task_row *rows, size_t n);

/* Open tasks and active instances right now (for /metrics). */
int fl_store_count_open(struct fl_store *s, uint64_t *open_tasks, uint64_t *active_instances,
                        struct fl_error *err);

/* ---- idempotency records (the HTTP API's first answers) ---- */

struct fl_idem_row {
    char *scope;     /* principal, method and route, key */
    char body_hash[65];
    int status;
    char *content_type, *location; /* or NULL */
    char *body;
    size_t body_len;
    int64_t created_at;
};

/* Load the record of scope. FL_ENOTFOUND. Caller releases. */
int fl_store_idem_get(struct fl_store *s, const char *scope, struct fl_idem_row *out,
                      struct fl_error *err);

/* Keep a record; a second one for the same scope is ignored (the first answer stays). */
int fl_store_idem_put(struct fl_store *s, const struct fl_idem_row *row, struct fl_error *err);

void fl_idem_row_release(struct fl_idem_row *r);

/* ---- jobs ---- */

/* The instance id that owns job id (to route a job command). FL_ENOTFOUND. */
int fl_store_job_instance(struct fl_store *s, uint64_t job_id, uint64_t *instance_id,
                          struct fl_error *err);

/* ---- timers (the scheduler's view) ---- */

/* A pending timer as the scheduler keeps it: enough to submit FL_CMD_FIRE_TIMER. */
struct fl_timer_due {
    uint64_t id, instance_id;
    int64_t due_at; /* ms since epoch */
};

/* Up to max pending timers strictly after (after_due, after_id) in (due_at, id) order,
 * into the caller's array rows; *n gets the count. Start with after_due = INT64_MIN and
 * after_id = 0. Timers are written by fl_store_apply (FL_FX_TIMER_SET/DEL) and loaded with
 * their instance by fl_store_instance_load. */
int fl_store_timers_due(struct fl_store *s, int64_t after_due, uint64_t after_id,
                        struct fl_timer_due *rows, size_t max, size_t *n, struct fl_error *err);

/* Number of pending timers. */
int fl_store_timer_count(struct fl_store *s, uint64_t *n, struct fl_error *err);

/* ---- timer start events ----
 * Timers of a definition, not of an instance: instance_id 0, kind FL_TIMER_START, ref_id
 * the definition id, node the timer start event. They sit in the same due index as every
 * other timer (fl_store_timers_due lists them with instance_id 0). Writes need an open
 * transaction. */

/* Delete the start timers of every version of process key (a new version replaces them). */
int fl_store_start_timers_clear(struct fl_store *s, const char *key, struct fl_error *err);

/* Insert or replace start timer t (FL_EINVAL unless kind FL_TIMER_START, instance_id 0 and
 * a definition in ref_id); timer ids are never handed out twice. */
int fl_store_start_timer_put(struct fl_store *s, const struct fl_timer *t, struct fl_error *err);

/* The pending timer id, of any kind, into *out. FL_ENOTFOUND when it is not pending. */
int fl_store_timer_get(struct fl_store *s, uint64_t id, struct fl_timer *out,
                       struct fl_error *err);

/* Delete pending timer id (no error when it is gone already). */
int fl_store_timer_delete(struct fl_store *s, uint64_t id, struct fl_error *err);
/* ---- messages and signals (issue 5) ----
 * Open subscriptions are written by fl_store_apply (FL_FX_SUB_OPEN/SUB_CLOSE) and loaded
 * with their instance; outbox messages likewise (FL_FX_OUTBOX). Messages published from
 * outside that found no subscription wait in a buffer until they expire; a message with a
 * client's message id is remembered until then so a retry is answered as the first. */

enum fl_message_status {
    FL_MESSAGE_BUFFERED,   /* waits for a subscription */
    FL_MESSAGE_CORRELATED, /* reached a subscription of instance_id */
    FL_MESSAGE_STARTED     /* started instance instance_id at a message start event */
};

/* A published message. Strings owned (fl_message_row_release). */
struct fl_message_row {
    uint64_t id; /* FL_ID_MESSAGE */
    char *name, *correlation_key; /* key may be NULL */
    char *variables;              /* JSON object text, or NULL */
    char *message_id;             /* the client's id (dedupe), or NULL */
    int64_t created_at, expires_at;
    int status; /* enum fl_message_status */
    uint64_t instance_id;
};
void fl_message_row_release(struct fl_message_row *r);

/* A message a process sent (send task, message throw or end event). */
struct fl_outbox_row {
    uint64_t id, instance_id;
    char *node_id, *name, *correlation_key, *variables; /* owned; key, variables may be NULL */
    int64_t created_at, delivered_at;                   /* delivered_at 0 = not yet */
};
void fl_outbox_rows_free(struct fl_outbox_row *rows, size_t n);

/* A message or signal start event of the latest version of a process. */
struct fl_start_event_row {
    uint64_t definition_id;
    char *process_key, *node_id; /* owned */
};
void fl_start_event_rows_free(struct fl_start_event_row *rows, size_t n);

/* Free n subscriptions (their strings and the array). NULL-safe. */
void fl_subscriptions_free(struct fl_subscription *subs, size_t n);

/* Open subscriptions of trigger (FL_TRIGGER_MESSAGE / FL_TRIGGER_SIGNAL) named name, oldest
 * first, at most max (0 = all): messages match a subscription of the same correlation key
 * or one without a key (key NULL matches only those); signals ignore keys. Caller frees. */
int fl_store_subs_find(struct fl_store *s, int trigger, const char *name, const char *key,
                       size_t max, struct fl_subscription **rows, size_t *n,
                       struct fl_error *err);

/* Insert message m (any status; id from FL_ID_MESSAGE). Inside a transaction. */
int fl_store_message_put(struct fl_store *s, const struct fl_message_row *m,
                         struct fl_error *err);

/* The message a client published earlier with message_id, not expired at now: *found. */
int fl_store_message_by_client_id(struct fl_store *s, const char *message_id, int64_t now_ms,
                                  struct fl_message_row *out, bool *found, struct fl_error *err);

/* The oldest buffered message named name, not expired at now, whose key is key (key NULL:
 * any key): *found. Read only: mark it with fl_store_message_set_status once delivered. */
int fl_store_message_match(struct fl_store *s, const char *name, const char *key, int64_t now_ms,
                           struct fl_message_row *out, bool *found, struct fl_error *err);

/* Record what became of message id (FL_MESSAGE_CORRELATED / STARTED, the instance). */
int fl_store_message_set_status(struct fl_store *s, uint64_t id, int status,
                                uint64_t instance_id, struct fl_error *err);

/* Delete every message that expired at or before now; *n (may be NULL) gets the count. */
int fl_store_messages_expire(struct fl_store *s, int64_t now_ms, uint64_t *n,
                             struct fl_error *err);

/* Outbox messages with id > after, in id order, at most limit (0 = 100); only the ones
 * not delivered yet when undelivered. Caller frees with fl_outbox_rows_free. */
int fl_store_outbox_list(struct fl_store *s, uint64_t after, size_t limit, bool undelivered,
                         struct fl_outbox_row **rows, size_t *n, struct fl_error *err);

/* Mark outbox message id delivered at `at`. FL_ENOTFOUND no such message. */
int fl_store_outbox_delivered(struct fl_store *s, uint64_t id, int64_t at, struct fl_error *err);

/* Replace the message and signal start events of process key with those of its new
 * version def_id: n (trigger, name, node id) triples. Inside a transaction. */
int fl_store_start_events_set(struct fl_store *s, const char *key, uint64_t def_id,
                              const int *triggers, const char *const *names,
                              const char *const *node_ids, size_t n, struct fl_error *err);

/* The start events of trigger named name (latest versions only), in process key order.
 * Caller frees with fl_start_event_rows_free. */
int fl_store_start_events_find(struct fl_store *s, int trigger, const char *name,
                               struct fl_start_event_row **rows, size_t *n,
                               struct fl_error *err);

/* ---- control points ---- */

/* A control point of a case: open while done_at is 0; met, cleared or closed with its
 * instance otherwise (rows stay, so a case lists what it had). */
struct fl_control_row {
    uint64_t id, instance_id;
    char *name;
    char *process_key, *business_key; /* of the instance */
    int instance_status;              /* enum fl_instance_status */
    int64_t due_at, remind_at, set_at, done_at; /* remind_at 0 = none */
};

struct fl_control_query {
    uint64_t instance_id; /* 0 = every instance */
    bool open_only;
    int64_t overdue_at;   /* > 0: only open control points due at or before this instant */
    uint64_t after_id;    /* cursor: ids greater than this */
    size_t limit;         /* 0 = 100 */
    /* Only control points of instances this principal may see; NULL = all. */
    const struct fl_principal *viewer;
};

/* Control points in id order. Caller frees with fl_control_rows_free. */
int fl_store_control_list(struct fl_store *s, const struct fl_control_query *q,
                          struct fl_control_row **rows, size_t *n, struct fl_error *err);
void fl_control_rows_free(struct fl_control_row *rows, size_t n);

/* ---- notifications (the in-app inbox) ----
 * fl_store_apply writes FL_FX_NOTIFY as one row per addressed user: to_user (unless that
 * user exists and is disabled), every active user holding to_role, and the head of
 * to_head_of's department (walking up to the nearest department whose head is an active
 * user other than to_head_of). Consecutive NOTIFY effects of one step about the same thing
 * (same kind, instance, task, control point, message and time) are one notification: each
 * user gets it once. */

struct fl_notification_row {
    uint64_t id;
    char *user; /* login */
    char *kind; /* "reminder", "overdue", "escalation", "control_point" */
    uint64_t instance_id, task_id, control_id; /* 0 when not about one */
    char *node_id, *message;
    int64_t created_at, read_at; /* read_at 0 = unread */
};

struct fl_notification_query {
    const char *user; /* required: whose inbox */
    bool unread_only;
    uint64_t after_id; /* cursor: ids greater than this */
    size_t limit;      /* 0 = 100 */
};

/* The user's notifications in id order. Caller frees with fl_notification_rows_free. */
int fl_store_notification_list(struct fl_store *s, const struct fl_notification_query *q,
                               struct fl_notification_row **rows, size_t *n,
                               struct fl_error *err);

/* Mark notification id of user read at now_ms (a second call keeps the first time).
 * FL_ENOTFOUND when there is no such notification of that user. Needs a writable store;
 * runs in its own statement (no transaction needed). */
int fl_store_notification_read(struct fl_store *s, const char *user, uint64_t id, int64_t now_ms,
                               struct fl_error *err);

void fl_notification_rows_free(struct fl_notification_row *rows, size_t n);

/* ---- history ---- */

struct fl_event_row {
    uint64_t seq; /* global order */
    int type;     /* enum fl_event_type */
    uint64_t instance_id, token_id, ref_id;
    char *node_id, *actor, *detail;
    int64_t at;
};

int fl_store_history(struct fl_store *s, uint64_t instance_id, struct fl_event_row **rows,
                     size_t *n, struct fl_error *err);
void fl_event_rows_free(struct fl_event_row *rows, size_t n);

#endif
