/* SQLite back end, messages and signals (migration 9): open subscriptions indexed by
 * (trigger, name, correlation key), published messages (buffered until they expire, or
 * remembered for the client's message id), the outbox of messages processes sent, and the
 * message/signal start events of each process's latest version. Statements are prepared
 * once per connection in slots of their own. */
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/value.h"
#include "store/sqlite_int.h"

enum msg_stmt {
    SUB_INSERT,
    SUB_DELETE,
    SUBS_LOAD,
    SUBS_FIND_KEY,
    SUBS_FIND_ANY,
    MSG_INSERT,
    MSG_BY_CLIENT_ID,
    MSG_MATCH_KEY,
    MSG_MATCH_ANY,
    MSG_SET_STATUS,
    MSG_EXPIRE,
    OUTBOX_INSERT,
    OUTBOX_LIST,
    OUTBOX_LIST_UNDELIVERED,
    OUTBOX_DELIVERED,
    STARTS_CLEAR,
    STARTS_INSERT,
    STARTS_FIND,
    COUNTER_RAISE_SUB,
    COUNTER_RAISE_MSG,
    MAX_SUB,
    MAX_MSG,
    N_MSG_STMTS
};

#define SUB_COLS "id, instance_id, token_id, node, trigger, interrupting, name, correlation_key"
#define MSG_COLS                                                                                   \
    "id, name, correlation_key, variables, message_id, created_at, expires_at, status,"            \
    " instance_id"
#define OUTBOX_COLS                                                                                \
    "id, instance_id, node_id, name, correlation_key, variables, created_at, delivered_at"

static const char *const msg_sql[N_MSG_STMTS] = {
    [SUB_INSERT] = "INSERT INTO subscriptions(id, instance_id, token_id, node, node_id, trigger,"
                   " name, correlation_key, interrupting, created_at)"
                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [SUB_DELETE] = "DELETE FROM subscriptions WHERE id = ?1",
    [SUBS_LOAD] = "SELECT " SUB_COLS " FROM subscriptions WHERE instance_id = ?1 ORDER BY id",
    [SUBS_FIND_KEY] = "SELECT " SUB_COLS " FROM subscriptions WHERE trigger = ?1 AND name = ?2"
                      " AND (correlation_key = ?3 OR correlation_key IS NULL)"
                      " ORDER BY id LIMIT ?4",
    [SUBS_FIND_ANY] = "SELECT " SUB_COLS " FROM subscriptions WHERE trigger = ?1 AND name = ?2"
                      " AND (?3 = 1 OR correlation_key IS NULL) ORDER BY id LIMIT ?4",
    [MSG_INSERT] = "INSERT INTO messages(" MSG_COLS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [MSG_BY_CLIENT_ID] = "SELECT " MSG_COLS " FROM messages WHERE message_id = ?1"
                         " AND expires_at > ?2 ORDER BY id LIMIT 1",
    [MSG_MATCH_KEY] = "SELECT " MSG_COLS " FROM messages WHERE status = 0 AND name = ?1"
                      " AND correlation_key = ?2 AND expires_at > ?3 ORDER BY id LIMIT 1",
    [MSG_MATCH_ANY] = "SELECT " MSG_COLS " FROM messages WHERE status = 0 AND name = ?1"
                      " AND expires_at > ?3 ORDER BY id LIMIT 1",
    [MSG_SET_STATUS] = "UPDATE messages SET status = ?2, instance_id = ?3 WHERE id = ?1",
    [MSG_EXPIRE] = "DELETE FROM messages WHERE expires_at <= ?1",
    [OUTBOX_INSERT] = "INSERT INTO outbox(" OUTBOX_COLS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)",
    [OUTBOX_LIST] = "SELECT " OUTBOX_COLS " FROM outbox WHERE id > ?1 ORDER BY id LIMIT ?2",
    [OUTBOX_LIST_UNDELIVERED] = "SELECT " OUTBOX_COLS " FROM outbox WHERE id > ?1"
                                " AND delivered_at IS NULL ORDER BY id LIMIT ?2",
    [OUTBOX_DELIVERED] = "UPDATE outbox SET delivered_at = ?2 WHERE id = ?1",
    [STARTS_CLEAR] = "DELETE FROM message_starts WHERE process_key = ?1",
    [STARTS_INSERT] = "INSERT INTO message_starts(definition_id, process_key, node_id, trigger,"
                      " name) VALUES(?1, ?2, ?3, ?4, ?5)",
    [STARTS_FIND] = "SELECT definition_id, process_key, node_id FROM message_starts"
                    " WHERE trigger = ?1 AND name = ?2 ORDER BY process_key, node_id",
    [COUNTER_RAISE_SUB] = "UPDATE counters SET value = ?1 WHERE name = 'subscription'"
                          " AND value < ?1",
    [COUNTER_RAISE_MSG] = "UPDATE counters SET value = ?1 WHERE name = 'message' AND value < ?1",
    [MAX_SUB] = "SELECT max((SELECT coalesce(max(id), 0) FROM subscriptions),"
                " (SELECT value FROM counters WHERE name = 'subscription'))",
    [MAX_MSG] = "SELECT max((SELECT coalesce(max(id), 0) FROM messages),"
                " (SELECT coalesce(max(id), 0) FROM outbox),"
                " (SELECT value FROM counters WHERE name = 'message'))",
};

static sqlite3_stmt *stmt(struct fl_sqlite *q, enum msg_stmt id, struct fl_error *err)
{
    return fl__sq_prepare_slot(q, &q->msg[id], msg_sql[id], err);
}

#define FAIL_CODE(err) ((err) && (err)->code ? (err)->code : FL_ESTORE)

void fl__sq_messages_release(struct fl_sqlite *q)
{
    for (size_t i = 0; i < FL__SQ_MSG_SLOTS; i++)
        sqlite3_finalize(q->msg[i]);
}

static int step_done(struct fl_sqlite *q, sqlite3_stmt *st, struct fl_error *err, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, what);
    return 0;
}

static int raise_counter(struct fl_sqlite *q, enum msg_stmt which, uint64_t id,
                         struct fl_error *err)
{
    sqlite3_stmt *st = stmt(q, which, err);
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    return step_done(q, st, err, "cannot raise id counter");
}

/* A context's JSON text bound to parameter i (NULL binds NULL); the text lives in b. */
static int bind_vars(sqlite3_stmt *st, int i, const struct fl_value *vars, struct fl_buf *b,
                     struct fl_error *err)
{
    fl_buf_reset(b);
    if (!vars)
        return sqlite3_bind_null(st, i) == SQLITE_OK ? 0 : FL_ESTORE;
    if (fl_value_to_json(vars, b) != 0)
        return fl_error_set(err, FL_ETOOBIG, "message variables too large");
    sqlite3_bind_text(st, i, b->ptr, (int)b->len, SQLITE_STATIC);
    return 0;
}

int fl__sq_message_effect(struct fl_sqlite *q, const struct fl_model *m,
                          const struct fl_instance *inst, const struct fl_effect *fx,
                          struct fl_error *err)
{
    sqlite3_stmt *st;
    int rc;

    switch (fx->kind) {
    case FL_FX_SUB_OPEN: {
        const struct fl_subscription *s = &fx->u.sub;
        if (!(st = stmt(q, SUB_INSERT, err)))
            return FAIL_CODE(err);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)s->id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)inst->id);
        fl__sq_bind_opt(st, 3, (int64_t)s->token_id);
        sqlite3_bind_int64(st, 4, s->node);
        fl__sq_bind_text(st, 5, m && s->node < m->n_nodes ? m->nodes[s->node].id : NULL);
        sqlite3_bind_int(st, 6, s->trigger);
        fl__sq_bind_text(st, 7, s->name ? s->name : "");
        fl__sq_bind_text(st, 8, s->correlation_key);
        sqlite3_bind_int(st, 9, s->interrupting);
        sqlite3_bind_int64(st, 10, q->msg_now);
        if ((rc = step_done(q, st, err, "cannot write subscription")) != 0)
            return rc;
        return raise_counter(q, COUNTER_RAISE_SUB, s->id, err);
    }
    case FL_FX_SUB_CLOSE:
        if (!(st = stmt(q, SUB_DELETE, err)))
            return FAIL_CODE(err);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)fx->u.sub.id);
        return step_done(q, st, err, "cannot delete subscription");
    case FL_FX_OUTBOX: {
        /* the creation time is the step's: that of the message_sent event beside it */
        if (!(st = stmt(q, OUTBOX_INSERT, err)))
            return FAIL_CODE(err);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)fx->u.msg.id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)inst->id);
        fl__sq_bind_text(st, 3, fx->u.msg.node_id);
        fl__sq_bind_text(st, 4, fx->u.msg.name ? fx->u.msg.name : "");
        fl__sq_bind_text(st, 5, fx->u.msg.correlation_key);
        if ((rc = bind_vars(st, 6, fx->u.msg.variables, &q->json, err)) != 0) {
            sqlite3_reset(st);
            return rc;
        }
        sqlite3_bind_int64(st, 7, q->msg_now);
        if ((rc = step_done(q, st, err, "cannot write outbox message")) != 0)
            return rc;
        return raise_counter(q, COUNTER_RAISE_MSG, fx->u.msg.id, err);
    }
    case FL_FX_SIGNAL:
        return 0; /* broadcast by the service in the same transaction; nothing to keep */
    default:
        return fl_error_set(err, FL_EINTERNAL, "effect kind %d is not a message", (int)fx->kind);
    }
}

static void read_sub(sqlite3_stmt *st, struct fl_subscription *s)
{
    memset(s, 0, sizeof(*s));
    s->id = (uint64_t)sqlite3_column_int64(st, 0);
    s->instance_id = (uint64_t)sqlite3_column_int64(st, 1);
    s->token_id = (uint64_t)sqlite3_column_int64(st, 2);
    s->node = (uint32_t)sqlite3_column_int64(st, 3);
    s->trigger = (uint8_t)sqlite3_column_int(st, 4);
    s->interrupting = sqlite3_column_int(st, 5) != 0;
    s->name = fl__sq_col_text(st, 6);
    s->correlation_key = fl__sq_col_text(st, 7);
}

/* Step st to the end, appending its rows as subscriptions to *rows / *n / *cap. */
static int read_subs(struct fl_sqlite *q, sqlite3_stmt *st, struct fl_subscription **rows,
                     size_t *n, size_t *cap, struct fl_error *err)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fl_grow(rows, cap, *n + 1, sizeof(**rows));
        read_sub(st, &(*rows)[(*n)++]);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : fl__sq_fail(q, rc, err, "cannot read subscriptions");
}

int fl__sq_subs_load(struct fl_sqlite *q, struct fl_instance *inst, struct fl_error *err)
{
    sqlite3_stmt *st = stmt(q, SUBS_LOAD, err);
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)inst->id);
    return read_subs(q, st, &inst->subs, &inst->n_subs, &inst->cap_subs, err);
}

int fl__sq_max_message_id(struct fl_sqlite *q, enum fl_id_kind kind, uint64_t *out,
                          struct fl_error *err)
{
    sqlite3_stmt *st = stmt(q, kind == FL_ID_SUBSCRIPTION ? MAX_SUB : MAX_MSG, err);
    int rc;
    *out = 0;
    if (!st)
        return FAIL_CODE(err);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : fl__sq_fail(q, rc, err, "cannot read ids");
}

static int sq_subs_find(struct fl_store *s, int trigger, const char *name, const char *key,
                        size_t max, struct fl_subscription **rows, size_t *n,
                        struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    bool by_key = trigger == FL_TRIGGER_MESSAGE && key;
    sqlite3_stmt *st = stmt(q, by_key ? SUBS_FIND_KEY : SUBS_FIND_ANY, err);
    size_t cap = 0;
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int(st, 1, trigger);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    if (by_key)
        sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
    else /* signals: every one; a message without a key: those without one */
        sqlite3_bind_int(st, 3, trigger == FL_TRIGGER_SIGNAL);
    sqlite3_bind_int64(st, 4, max ? (sqlite3_int64)max : -1);
    if ((rc = read_subs(q, st, rows, n, &cap, err)) != 0) {
        fl_subscriptions_free(*rows, *n);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}

static int sq_message_put(struct fl_store *s, const struct fl_message_row *m,
                          struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = stmt(q, MSG_INSERT, err);
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)m->id);
    sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
    fl__sq_bind_text(st, 3, m->correlation_key);
    fl__sq_bind_text(st, 4, m->variables);
    fl__sq_bind_text(st, 5, m->message_id);
    sqlite3_bind_int64(st, 6, m->created_at);
    sqlite3_bind_int64(st, 7, m->expires_at);
    sqlite3_bind_int(st, 8, m->status);
    fl__sq_bind_opt(st, 9, (int64_t)m->instance_id);
    if ((rc = step_done(q, st, err, "cannot store message")) != 0)
        return rc;
    return raise_counter(q, COUNTER_RAISE_MSG, m->id, err);
}

static void read_message(sqlite3_stmt *st, struct fl_message_row *m)
{
    m->id = (uint64_t)sqlite3_column_int64(st, 0);
    m->name = fl__sq_col_text(st, 1);
    m->correlation_key = fl__sq_col_text(st, 2);
    m->variables = fl__sq_col_text(st, 3);
    m->message_id = fl__sq_col_text(st, 4);
    m->created_at = sqlite3_column_int64(st, 5);
    m->expires_at = sqlite3_column_int64(st, 6);
    m->status = sqlite3_column_int(st, 7);
    m->instance_id = (uint64_t)sqlite3_column_int64(st, 8);
}

static int one_message(struct fl_sqlite *q, sqlite3_stmt *st, struct fl_message_row *out,
                       bool *found, struct fl_error *err)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read_message(st, out);
        *found = true;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot read messages");
    return 0;
}

static int sq_message_by_client_id(struct fl_store *s, const char *message_id, int64_t now_ms,
                                   struct fl_message_row *out, bool *found, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = stmt(q, MSG_BY_CLIENT_ID, err);
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_ms);
    return one_message(q, st, out, found, err);
}

static int sq_message_match(struct fl_store *s, const char *name, const char *key, int64_t now_ms,
                            struct fl_message_row *out, bool *found, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = stmt(q, key ? MSG_MATCH_KEY : MSG_MATCH_ANY, err);
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (key)
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    return one_message(q, st, out, found, err);
}

static int sq_message_set_status(struct fl_store *s, uint64_t id, int status,
                                 uint64_t instance_id, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = stmt(q, MSG_SET_STATUS, err);
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    sqlite3_bind_int(st, 2, status);
    fl__sq_bind_opt(st, 3, (int64_t)instance_id);
    if ((rc = step_done(q, st, err, "cannot update message")) != 0)
        return rc;
    if (sqlite3_changes(q->db) != 1)
        return fl_error_set(err, FL_ENOTFOUND, "no message %llu", (unsigned long long)id);
    return 0;
}

static int sq_messages_expire(struct fl_store *s, int64_t now_ms, uint64_t *n,
                              struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = stmt(q, MSG_EXPIRE, err);
    int rc;
    *n = 0;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, now_ms);
    if ((rc = step_done(q, st, err, "cannot expire messages")) != 0)
        return rc;
    *n = (uint64_t)sqlite3_changes(q->db);
    return 0;
}

static int sq_outbox_list(struct fl_store *s, uint64_t after, size_t limit, bool undelivered,
                          struct fl_outbox_row **rows, size_t *n, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = stmt(q, undelivered ? OUTBOX_LIST_UNDELIVERED : OUTBOX_LIST, err);
    size_t cap = 0;
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct fl_outbox_row *o;
        fl_grow(rows, &cap, *n + 1, sizeof(**rows));
        o = &(*rows)[(*n)++];
        o->id = (uint64_t)sqlite3_column_int64(st, 0);
        o->instance_id = (uint64_t)sqlite3_column_int64(st, 1);
        o->node_id = fl__sq_col_text(st, 2);
        o->name = fl__sq_col_text(st, 3);
        o->correlation_key = fl__sq_col_text(st, 4);
        o->variables = fl__sq_col_text(st, 5);
        o->created_at = sqlite3_column_int64(st, 6);
        o->delivered_at = sqlite3_column_int64(st, 7);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        fl_outbox_rows_free(*rows, *n);
        *rows = NULL;
        *n = 0;
        return fl__sq_fail(q, rc, err, "cannot read the outbox");
    }
    return 0;
}

static int sq_outbox_delivered(struct fl_store *s, uint64_t id, int64_t at, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = stmt(q, OUTBOX_DELIVERED, err);
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    sqlite3_bind_int64(st, 2, at);
    if ((rc = step_done(q, st, err, "cannot mark outbox message")) != 0)
        return rc;
    if (sqlite3_changes(q->db) != 1)
        return fl_error_set(err, FL_ENOTFOUND, "no outbox message %llu", (unsigned long long)id);
    return 0;
}

static int sq_start_events_set(struct fl_store *s, const char *key, uint64_t def_id,
                               const int *triggers, const char *const *names,
                               const char *const *node_ids, size_t n, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = stmt(q, STARTS_CLEAR, err);
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if ((rc = step_done(q, st, err, "cannot clear start events")) != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (!(st = stmt(q, STARTS_INSERT, err)))
            return FAIL_CODE(err);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)def_id);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        fl__sq_bind_text(st, 3, node_ids[i] ? node_ids[i] : "");
        sqlite3_bind_int(st, 4, triggers[i]);
        sqlite3_bind_text(st, 5, names[i], -1, SQLITE_STATIC);
        if ((rc = step_done(q, st, err, "cannot store start event")) != 0)
            return rc;
    }
    return 0;
}

static int sq_start_events_find(struct fl_store *s, int trigger, const char *name,
                                struct fl_start_event_row **rows, size_t *n,
                                struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = stmt(q, STARTS_FIND, err);
    size_t cap = 0;
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int(st, 1, trigger);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct fl_start_event_row *r;
        fl_grow(rows, &cap, *n + 1, sizeof(**rows));
        r = &(*rows)[(*n)++];
        r->definition_id = (uint64_t)sqlite3_column_int64(st, 0);
        r->process_key = fl__sq_col_text(st, 1);
        r->node_id = fl__sq_col_text(st, 2);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        fl_start_event_rows_free(*rows, *n);
        *rows = NULL;
        *n = 0;
        return fl__sq_fail(q, rc, err, "cannot read start events");
    }
    return 0;
}

const struct fl_store_msg_ops fl__sq_msg_ops = {
    .subs_find = sq_subs_find,
    .message_put = sq_message_put,
    .message_by_client_id = sq_message_by_client_id,
    .message_match = sq_message_match,
    .message_set_status = sq_message_set_status,
    .messages_expire = sq_messages_expire,
    .outbox_list = sq_outbox_list,
    .outbox_delivered = sq_outbox_delivered,
    .start_events_set = sq_start_events_set,
    .start_events_find = sq_start_events_find,
};
