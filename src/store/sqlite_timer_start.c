/* SQLite back end, timer start events: the pending timers that start new instances of a
 * process definition. They live in the timers table like every other timer, with
 * instance_id 0, kind FL_TIMER_START and the definition id in ref_id, so the scheduler
 * finds them in its one due index. Deploying a version replaces the start timers of every
 * version of its key; firing one deletes it and writes the next occurrence. Rare writes
 * (deploys, one firing per occurrence): statements are prepared per call. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"

static int run(struct fl_sqlite *q, sqlite3_stmt *st, struct fl_error *err, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, what);
    return 0;
}

static int prepare(struct fl_sqlite *q, const char *sql, sqlite3_stmt **st, struct fl_error *err)
{
    int rc = sqlite3_prepare_v2(q->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK)
        return fl__sq_fail(q, rc, err, "cannot prepare a timer statement");
    return 0;
}

static int check_tx(struct fl_sqlite *q, struct fl_error *err)
{
    if (!q->in_tx)
        return fl_error_set(err, FL_EINVAL, "start timers are written inside a transaction");
    return 0;
}

int fl__sq_start_timer_put(struct fl_store *s, const struct fl_timer *t, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st;
    int rc;
    if ((rc = check_tx(q, err)) != 0)
        return rc;
    if (t->kind != FL_TIMER_START || t->instance_id != 0 || !t->ref_id)
        return fl_error_set(err, FL_EINVAL, "timer %llu is not a start timer of a definition",
                            (unsigned long long)t->id);
    if ((rc = prepare(q,
                      "INSERT OR REPLACE INTO timers (id, instance_id, token_id, ref_id, node, "
                      "kind, level, repeat, due_at) VALUES (?1, 0, NULL, ?2, ?3, ?4, 0, ?5, ?6)",
                      &st, err)) != 0)
        return rc;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)t->id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)t->ref_id);
    sqlite3_bind_int64(st, 3, t->node);
    sqlite3_bind_int(st, 4, t->kind);
    sqlite3_bind_int64(st, 5, t->repeat);
    sqlite3_bind_int64(st, 6, t->due_at);
    if ((rc = run(q, st, err, "cannot write start timer")) != 0)
        return rc;
    /* the counter keeps ids from being handed out twice, as for instance timers */
    if ((rc = prepare(q, "UPDATE counters SET value = max(value, ?1) WHERE name = 'timer'", &st,
                      err)) != 0)
        return rc;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)t->id);
    return run(q, st, err, "cannot record timer id");
}

int fl__sq_start_timers_clear(struct fl_store *s, const char *key, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st;
    int rc;
    if ((rc = check_tx(q, err)) != 0)
        return rc;
    if ((rc = prepare(q,
                      "DELETE FROM timers WHERE instance_id = 0 AND kind = ?1 AND ref_id IN "
                      "(SELECT id FROM definitions WHERE key = ?2)",
                      &st, err)) != 0)
        return rc;
    sqlite3_bind_int(st, 1, FL_TIMER_START);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    return run(q, st, err, "cannot delete start timers");
}

int fl__sq_timer_get(struct fl_store *s, uint64_t id, struct fl_timer *out, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st;
    int rc;
    if ((rc = prepare(q,
                      "SELECT instance_id, token_id, ref_id, node, kind, level, repeat, due_at "
                      "FROM timers WHERE id = ?1",
                      &st, err)) != 0)
        return rc;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof(*out));
        out->id = id;
        out->instance_id = (uint64_t)sqlite3_column_int64(st, 0);
        out->token_id = (uint64_t)sqlite3_column_int64(st, 1);
        out->ref_id = (uint64_t)sqlite3_column_int64(st, 2);
        out->node = sqlite3_column_type(st, 3) == SQLITE_NULL
                        ? FL_NONE
                        : (uint32_t)sqlite3_column_int64(st, 3);
        out->kind = (uint8_t)sqlite3_column_int(st, 4);
        out->level = (uint16_t)sqlite3_column_int(st, 5);
        out->repeat = (uint32_t)sqlite3_column_int64(st, 6);
        out->due_at = sqlite3_column_int64(st, 7);
        sqlite3_finalize(st);
        return 0;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return fl_error_set(err, FL_ENOTFOUND, "timer %llu is not pending", (unsigned long long)id);
    return fl__sq_fail(q, rc, err, "cannot read timer");
}

int fl__sq_timer_delete(struct fl_store *s, uint64_t id, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st;
    int rc;
    if ((rc = check_tx(q, err)) != 0)
        return rc;
    if ((rc = prepare(q, "DELETE FROM timers WHERE id = ?1", &st, err)) != 0)
        return rc;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    return run(q, st, err, "cannot delete timer");
}
