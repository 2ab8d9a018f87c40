/* SQLite back end, business calendars: one row per calendar name with its canonical JSON.
 * Calendars change rarely, so their statements are prepared per call rather than kept in
 * the connection's statement table; the revision read by the writer on every working-time
 * sum is the one cached statement (a row of the counters table, bumped by each change). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/calendar.h"
#include "store/sqlite_int.h"

#define REVISION_KEY "calendars"

static int prepare(struct fl_sqlite *q, const char *sql, sqlite3_stmt **st, struct fl_error *err)
{
    int rc = sqlite3_prepare_v2(q->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK)
        return fl__sq_fail(q, rc, err, "cannot prepare calendar statement");
    return 0;
}

/* Run a no-result statement and finalize it. */
static int run(struct fl_sqlite *q, sqlite3_stmt *st, struct fl_error *err, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, what);
    return 0;
}

static int bump_revision(struct fl_sqlite *q, struct fl_error *err)
{
    sqlite3_stmt *st;
    int rc;
    if ((rc = prepare(q,
                      "INSERT INTO counters(name, value) VALUES('" REVISION_KEY "', 1)"
                      " ON CONFLICT(name) DO UPDATE SET value = value + 1",
                      &st, err)) != 0)
        return rc;
    return run(q, st, err, "cannot bump calendar revision");
}

/* Each write is two statements (row and revision): its own transaction unless the caller
 * has one open. */
static int tx_end(struct fl_store *s, bool own, int rc, struct fl_error *err)
{
    if (!own)
        return rc;
    if (rc == 0)
        return s->ops->commit(s, err);
    s->ops->rollback(s);
    return rc;
}

int fl__sq_calendar_put(struct fl_store *s, const char *name, const char *json, int64_t now_ms,
                        struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    bool own = !q->in_tx;
    sqlite3_stmt *st;
    int rc;
    if (own && (rc = s->ops->begin(s, err)) != 0)
        return rc;
    if ((rc = prepare(q,
                      "INSERT INTO calendars(name, json, updated_at) VALUES(?1, ?2, ?3)"
                      " ON CONFLICT(name) DO UPDATE SET json = excluded.json,"
                      " updated_at = excluded.updated_at",
                      &st, err)) == 0) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, json, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now_ms);
        rc = run(q, st, err, "cannot store calendar");
    }
    if (rc == 0)
        rc = bump_revision(q, err);
    return tx_end(s, own, rc, err);
}

int fl__sq_calendar_delete(struct fl_store *s, const char *name, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    bool own = !q->in_tx;
    sqlite3_stmt *st;
    int rc;
    if (own && (rc = s->ops->begin(s, err)) != 0)
        return rc;
    if ((rc = prepare(q, "DELETE FROM calendars WHERE name = ?1", &st, err)) == 0) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        rc = run(q, st, err, "cannot delete calendar");
    }
    if (rc == 0 && sqlite3_changes(q->db) == 0)
        rc = fl_error_set(err, FL_ENOTFOUND, "calendar '%s' not found", name);
    if (rc == 0)
        rc = bump_revision(q, err);
    return tx_end(s, own, rc, err);
}

static void read_row(sqlite3_stmt *st, struct fl_calendar_row *r)
{
    r->name = fl__sq_col_text(st, 0);
    r->json = fl__sq_col_text(st, 1);
    r->updated_at = sqlite3_column_int64(st, 2);
}

int fl__sq_calendar_get(struct fl_store *s, const char *name, struct fl_calendar_row *out,
                        struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st;
    int rc;
    memset(out, 0, sizeof(*out));
    if ((rc = prepare(q, "SELECT name, json, updated_at FROM calendars WHERE name = ?1", &st,
                      err)) != 0)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_row(st, out);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return fl_error_set(err, FL_ENOTFOUND, "calendar '%s' not found", name);
    return fl__sq_fail(q, rc, err, "cannot read calendar");
}

int fl__sq_calendar_list(struct fl_store *s, struct fl_calendar_row **rows, size_t *n,
                         struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    struct fl_calendar_row *v = NULL;
    size_t cnt = 0, cap = 0;
    sqlite3_stmt *st;
    int rc;
    *rows = NULL;
    *n = 0;
    if ((rc = prepare(q, "SELECT name, json, updated_at FROM calendars ORDER BY name", &st, err)) !=
        0)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fl_grow(&v, &cap, cnt + 1, sizeof(*v));
        read_row(st, &v[cnt++]);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        fl_calendar_rows_free(v, cnt);
        return fl__sq_fail(q, rc, err, "cannot list calendars");
    }
    *rows = v;
    *n = cnt;
    return 0;
}

int fl__sq_calendar_revision(struct fl_store *s, uint64_t *rev, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_COUNTER_GET, err);
    int rc;
    *rev = 0;
    if (!st)
        return err ? err->code : FL_ESTORE;
    sqlite3_bind_text(st, 1, REVISION_KEY, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *rev = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot read calendar revision");
    return 0;
}
