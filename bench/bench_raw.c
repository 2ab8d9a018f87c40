/* Raw SQLite writes of flowd's rows (see bench_raw.h). Instances go through in groups of
 * `batch`: one transaction runs the same step (start, or completion k) for every instance
 * of the group, so each transaction holds `batch` commands, as group commit does with that
 * many commands in flight. Statements are prepared once. */
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"

#include "flowd/engine.h"
#include "flowd/err.h"

#include "bench_raw.h"
#include "bench_util.h"

#define STEPS 4

/* The store's schema (src/store/sqlite_schema.c, migration 1) for the tables the reference
 * process touches, with the same indexes: every index is paid on each write, so a lighter
 * schema here would flatter the limit. The pragmas are the store's too. */
static const char SCHEMA[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16384;"
    "CREATE TABLE instances ("
    " id INTEGER PRIMARY KEY, definition_id INTEGER NOT NULL, business_key TEXT,"
    " status INTEGER NOT NULL, incident INTEGER NOT NULL, started_at INTEGER NOT NULL,"
    " ended_at INTEGER, revision INTEGER NOT NULL);"
    "CREATE TABLE tokens ("
    " id INTEGER PRIMARY KEY, instance_id INTEGER NOT NULL, node INTEGER NOT NULL,"
    " node_id TEXT, flow INTEGER, state INTEGER NOT NULL, task_id INTEGER, job_id INTEGER,"
    " main_action_done INTEGER NOT NULL);"
    "CREATE INDEX tokens_instance ON tokens (instance_id);"
    "CREATE TABLE variables ("
    " instance_id INTEGER NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY (instance_id, name)) WITHOUT ROWID;"
    "CREATE TABLE tasks ("
    " id INTEGER PRIMARY KEY, instance_id INTEGER NOT NULL, token_id INTEGER,"
    " node_id TEXT NOT NULL, name TEXT, assignee TEXT, candidate_roles TEXT,"
    " candidate_users TEXT, status INTEGER NOT NULL, created_at INTEGER NOT NULL,"
    " due_at INTEGER, remind_at INTEGER, closed_at INTEGER, closed_by TEXT,"
    " main_action_kind TEXT, main_action_required INTEGER NOT NULL,"
    " main_action_done INTEGER NOT NULL, main_action_ref TEXT);"
    "CREATE INDEX tasks_status ON tasks (status);"
    "CREATE INDEX tasks_assignee ON tasks (assignee) WHERE assignee IS NOT NULL;"
    "CREATE INDEX tasks_instance ON tasks (instance_id);"
    "CREATE TABLE history ("
    " seq INTEGER PRIMARY KEY, instance_id INTEGER NOT NULL, type INTEGER NOT NULL,"
    " node_id TEXT, token_id INTEGER, ref_id INTEGER, actor TEXT, detail TEXT,"
    " at INTEGER NOT NULL);"
    "CREATE INDEX history_instance ON history (instance_id);"
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT INTO counters (name, value) VALUES ('token', 0);";

enum stmt_id {
    S_BEGIN,
    S_COMMIT,
    S_COUNTER_RAISE,
    S_INSTANCE_UPSERT,
    S_VARIABLE_UPSERT,
    S_TOKEN_UPSERT,
    S_TOKEN_DELETE,
    S_TASK_INSERT,
    S_TASK_CLOSE,
    S_EVENT_INSERT,
    S__COUNT
};

/* The store's statements for these rows (src/store/sqlite_int.h). */
static const char *const SQL[S__COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_COUNTER_RAISE] = "UPDATE counters SET value = ?2 WHERE name = ?1 AND value < ?2",
    [S_INSTANCE_UPSERT] = "INSERT INTO instances(id, definition_id, business_key, status,"
                          " incident, started_at, ended_at, revision)"
                          " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(id) DO UPDATE SET"
                          " status = excluded.status, incident = excluded.incident,"
                          " ended_at = excluded.ended_at, revision = excluded.revision,"
                          " business_key = excluded.business_key",
    [S_VARIABLE_UPSERT] = "INSERT INTO variables(instance_id, name, value) VALUES(?1, ?2, ?3)"
                          " ON CONFLICT(instance_id, name) DO UPDATE SET value = excluded.value",
    [S_TOKEN_UPSERT] = "INSERT INTO tokens(id, instance_id, node, node_id, flow, state,"
                       " task_id, job_id, main_action_done)"
                       " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(id) DO UPDATE"
                       " SET node = excluded.node, node_id = excluded.node_id,"
                       " flow = excluded.flow, state = excluded.state,"
                       " task_id = excluded.task_id, job_id = excluded.job_id,"
                       " main_action_done = excluded.main_action_done",
    [S_TOKEN_DELETE] = "DELETE FROM tokens WHERE id = ?1",
    [S_TASK_INSERT] = "INSERT INTO tasks(id, instance_id, token_id, node_id, name, assignee,"
                      " candidate_roles, candidate_users, status, created_at, due_at,"
                      " remind_at, main_action_kind, main_action_required, main_action_done)"
                      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?10, ?11, ?12, ?13, 0)",
    [S_TASK_CLOSE] = "UPDATE tasks SET status = ?2, closed_at = ?3, closed_by = ?4"
                     " WHERE id = ?1",
    [S_EVENT_INSERT] = "INSERT INTO history(instance_id, type, node_id, token_id, ref_id,"
                       " actor, detail, at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
};

/* The reference process's history when flowd's own is not at hand: what a token-based
 * engine records for start -> 3 user tasks -> gateway -> end. */
#define EV(type, step, token, ref, node, detail)                                                   \
    {                                                                                              \
        type, step, token, ref, node, detail                                                       \
    }
static const struct bench_event_template DEFAULT_EVENTS[] = {
    EV(FL_EV_INSTANCE_STARTED, 0, false, false, "", "{\"amount\":5000}"),
    EV(FL_EV_NODE_ENTERED, 0, true, false, "Start", ""),
    EV(FL_EV_NODE_LEFT, 0, true, false, "Start", ""),
    EV(FL_EV_NODE_ENTERED, 0, true, false, "Task_review", ""),
    EV(FL_EV_TASK_CREATED, 0, true, true, "Task_review", ""),
    EV(FL_EV_TASK_COMPLETED, 1, true, true, "Task_review", ""),
    EV(FL_EV_NODE_LEFT, 1, true, false, "Task_review", ""),
    EV(FL_EV_NODE_ENTERED, 1, true, false, "Task_approve", ""),
    EV(FL_EV_TASK_CREATED, 1, true, true, "Task_approve", ""),
    EV(FL_EV_TASK_COMPLETED, 2, true, true, "Task_approve", ""),
    EV(FL_EV_NODE_LEFT, 2, true, false, "Task_approve", ""),
    EV(FL_EV_NODE_ENTERED, 2, true, false, "Task_confirm", ""),
    EV(FL_EV_TASK_CREATED, 2, true, true, "Task_confirm", ""),
    EV(FL_EV_TASK_COMPLETED, 3, true, true, "Task_confirm", ""),
    EV(FL_EV_NODE_LEFT, 3, true, false, "Task_confirm", ""),
    EV(FL_EV_NODE_ENTERED, 3, true, false, "Gateway_amount", ""),
    EV(FL_EV_NODE_LEFT, 3, true, false, "Gateway_amount", ""),
    EV(FL_EV_NODE_ENTERED, 3, true, false, "End_large", ""),
    EV(FL_EV_NODE_LEFT, 3, true, false, "End_large", ""),
    EV(FL_EV_INSTANCE_COMPLETED, 3, false, false, "", ""),
};
#undef EV

static const char *const TASK_NODES[STEPS - 1] = {"Task_review", "Task_approve", "Task_confirm"};
static const char *const TASK_NAMES[STEPS - 1] = {"Review request", "Approve", "Confirm"};

struct bench_raw {
    sqlite3 *db;
    sqlite3_stmt *st[S__COUNT];
    struct bench_event_template *events; /* owned copy */
    size_t n_events;
    size_t batch;
    size_t written; /* instances written so far */
    size_t rows;    /* statements run */
    size_t rows_per_instance;
    uint64_t token_hw; /* highest token id written (the store's counter) */
};

static int db_fail(struct bench_raw *r, struct fl_error *err, const char *what)
{
    return fl_error_set(err, FL_ESTORE, "raw sqlite: %s: %s", what, sqlite3_errmsg(r->db));
}

/* Run a prepared statement to completion and reset it. */
static int run(struct bench_raw *r, enum stmt_id id, struct fl_error *err)
{
    sqlite3_stmt *st = r->st[id];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_fail(r, err, SQL[id]);
    r->rows++;
    return 0;
}

/* The step's history rows; ref is the task closed (task_completed) or opened. */
static int events_of(struct bench_raw *r, int step, uint64_t inst, uint64_t token, uint64_t opened,
                     uint64_t closed, int64_t now, struct fl_error *err)
{
    sqlite3_stmt *st = r->st[S_EVENT_INSERT];
    for (size_t i = 0; i < r->n_events; i++) {
        const struct bench_event_template *e = &r->events[i];
        if (e->step != step)
            continue;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)inst);
        sqlite3_bind_int(st, 2, e->type);
        if (e->node_id[0])
            sqlite3_bind_text(st, 3, e->node_id, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 3);
        if (e->has_token)
            sqlite3_bind_int64(st, 4, (sqlite3_int64)token);
        else
            sqlite3_bind_null(st, 4);
        uint64_t ref = e->type == FL_EV_TASK_COMPLETED ? closed : opened;
        if (e->has_ref && ref)
            sqlite3_bind_int64(st, 5, (sqlite3_int64)ref);
        else
            sqlite3_bind_null(st, 5);
        sqlite3_bind_text(st, 6, "bench", -1, SQLITE_STATIC);
        if (e->detail[0])
            sqlite3_bind_text(st, 7, e->detail, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 7);
        sqlite3_bind_int64(st, 8, now);
        int rc = run(r, S_EVENT_INSERT, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* One command's rows for instance number i, in the order the store writes them: the
 * instance row, then the effects. Ids derive from i as a per-kind sequence would. */
static int step_rows(struct bench_raw *r, int step, uint64_t i, int64_t now, struct fl_error *err)
{
    uint64_t inst = i + 1, token = i + 1;
    uint64_t task = i * (STEPS - 1) + (uint64_t)step + 1; /* the task this step opens */
    bool last = step == STEPS - 1;
    sqlite3_stmt *st;
    int rc;

    st = r->st[S_INSTANCE_UPSERT];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)inst);
    sqlite3_bind_int64(st, 2, 1);
    sqlite3_bind_null(st, 3);
    sqlite3_bind_int(st, 4, last ? FL_INSTANCE_COMPLETED : FL_INSTANCE_ACTIVE);
    sqlite3_bind_int(st, 5, 0);
    sqlite3_bind_int64(st, 6, now);
    if (last)
        sqlite3_bind_int64(st, 7, now);
    else
        sqlite3_bind_null(st, 7);
    sqlite3_bind_int(st, 8, step + 1);
    if ((rc = run(r, S_INSTANCE_UPSERT, err)))
        return rc;
    if (step == 0) {
        st = r->st[S_VARIABLE_UPSERT];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)inst);
        sqlite3_bind_text(st, 2, "amount", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, i % 2 == 0 ? "5000" : "500", -1, SQLITE_STATIC);
        if ((rc = run(r, S_VARIABLE_UPSERT, err)))
            return rc;
    } else {
        st = r->st[S_TASK_CLOSE];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)(task - 1));
        sqlite3_bind_int(st, 2, FL_TASK_COMPLETED);
        sqlite3_bind_int64(st, 3, now);
        sqlite3_bind_text(st, 4, "bench", -1, SQLITE_STATIC);
        if ((rc = run(r, S_TASK_CLOSE, err)))
            return rc;
    }
    if (last) {
        st = r->st[S_TOKEN_DELETE];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)token);
        if ((rc = run(r, S_TOKEN_DELETE, err)))
            return rc;
    } else {
        st = r->st[S_TOKEN_UPSERT];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)token);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)inst);
        sqlite3_bind_int(st, 3, step + 1);
        sqlite3_bind_text(st, 4, TASK_NODES[step], -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, step);
        sqlite3_bind_int(st, 6, FL_TOKEN_WAITING);
        sqlite3_bind_int64(st, 7, (sqlite3_int64)task);
        sqlite3_bind_null(st, 8);
        sqlite3_bind_int(st, 9, 0);
        if ((rc = run(r, S_TOKEN_UPSERT, err)))
            return rc;
        st = r->st[S_TASK_INSERT];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)task);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)inst);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)token);
        sqlite3_bind_text(st, 4, TASK_NODES[step], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, TASK_NAMES[step], -1, SQLITE_STATIC);
        for (int c = 6; c <= 8; c++)
            sqlite3_bind_null(st, c); /* assignee, candidate roles and users */
        sqlite3_bind_int64(st, 9, now);
        sqlite3_bind_null(st, 10);
        sqlite3_bind_null(st, 11);
        sqlite3_bind_null(st, 12);
        sqlite3_bind_int(st, 13, 0);
        if ((rc = run(r, S_TASK_INSERT, err)))
            return rc;
    }
    if (token > r->token_hw)
        r->token_hw = token;
    return events_of(r, step, inst, token, last ? 0 : task, step ? task - 1 : 0, now, err);
}

static int exec(struct bench_raw *r, const char *sql, struct fl_error *err)
{
    if (sqlite3_exec(r->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(r, err, sql);
    return 0;
}

/* Commit as the store does: raise the token counter, then COMMIT. */
static int commit(struct bench_raw *r, struct fl_error *err)
{
    sqlite3_stmt *st = r->st[S_COUNTER_RAISE];
    sqlite3_bind_text(st, 1, "token", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)r->token_hw);
    int rc = run(r, S_COUNTER_RAISE, err);
    if (rc)
        return rc;
    return run(r, S_COMMIT, err);
}

/* Write n instances numbered from first, `batch` at a time, one transaction per step. */
static int write_instances(struct bench_raw *r, size_t first, size_t n, struct fl_error *err)
{
    int rc;
    for (size_t g = first; g < first + n; g += r->batch) {
        size_t end = g + r->batch < first + n ? g + r->batch : first + n;
        size_t rows0 = r->rows;
        for (int step = 0; step < STEPS; step++) {
            if ((rc = run(r, S_BEGIN, err)))
                return rc;
            int64_t now = (int64_t)(bench_now_s() * 1e3);
            for (size_t i = g; i < end; i++) {
                if ((rc = step_rows(r, step, i, now, err)))
                    return rc;
            }
            if ((rc = commit(r, err)))
                return rc;
        }
        /* Rows of one instance, less each transaction's BEGIN, counter and COMMIT. */
        r->rows_per_instance = (r->rows - rows0 - 3 * STEPS) / (end - g);
    }
    return 0;
}

int bench_raw_open(const struct bench_raw_options *opt, struct bench_raw **out,
                   struct fl_error *err)
{
    int rc = 0;
    struct bench_raw *r = fl_calloc(1, sizeof *r);
    const struct bench_event_template *ev = opt->events ? opt->events : DEFAULT_EVENTS;
    r->n_events = opt->events ? opt->n_events : sizeof DEFAULT_EVENTS / sizeof DEFAULT_EVENTS[0];
    r->events = fl_calloc(r->n_events ? r->n_events : 1, sizeof *r->events);
    memcpy(r->events, ev, r->n_events * sizeof *r->events);
    r->batch = opt->batch ? opt->batch : 1;

    if (sqlite3_open(opt->db_path, &r->db) != SQLITE_OK) {
        rc = db_fail(r, err, "open");
        goto out;
    }
    if ((rc = exec(r, SCHEMA, err)))
        goto out;
    for (int i = 0; i < S__COUNT; i++) {
        if (sqlite3_prepare_v3(r->db, SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &r->st[i], NULL) !=
            SQLITE_OK) {
            rc = db_fail(r, err, SQL[i]);
            goto out;
        }
    }
out:
    if (rc) {
        bench_raw_close(r);
        r = NULL;
    }
    *out = r;
    return rc;
}

int bench_raw_write(struct bench_raw *r, size_t n, double *seconds, struct fl_error *err)
{
    double t0 = bench_now_s();
    int rc = write_instances(r, r->written, n, err);
    *seconds = bench_now_s() - t0;
    r->written += n;
    return rc;
}

size_t bench_raw_rows_per_instance(const struct bench_raw *r)
{
    return r->rows_per_instance;
}

void bench_raw_close(struct bench_raw *r)
{
    if (!r)
        return;
    for (int i = 0; i < S__COUNT; i++)
        sqlite3_finalize(r->st[i]);
    sqlite3_close(r->db);
    free(r->events);
    free(r);
}
