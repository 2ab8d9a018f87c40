/* SQLite back end, control points: writing the CONTROL_SET/DEL effects (a row per control
 * point, kept when it is met or cleared, with done_at), loading the open ones with their
 * instance for the engine, and the lists -- per case, and "overdue" across the cases a
 * viewer may see, with the same record-level filter as the instance list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/auth.h"
#include "store/sqlite_int.h"

#define FAIL_CODE(err) ((err) ? (err)->code : FL_ESTORE)

int fl__sq_put_control(struct fl_sqlite *q, const struct fl_effect *fx, struct fl_error *err)
{
    const struct fl_control *c = &fx->u.control;
    sqlite3_stmt *st;
    int rc;

    if (fx->kind == FL_FX_CONTROL_SET) {
        if (!(st = fl__sq_stmt(q, FL__SQ_CONTROL_UPSERT, err)))
            return FAIL_CODE(err);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)c->id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)c->instance_id);
        fl__sq_bind_text(st, 3, c->name ? c->name : "");
        sqlite3_bind_int64(st, 4, c->due_at);
        fl__sq_bind_opt(st, 5, c->remind_at);
        fl__sq_bind_opt(st, 6, c->set_at);
    } else {
        if (!(st = fl__sq_stmt(q, FL__SQ_CONTROL_DONE, err)))
            return FAIL_CODE(err);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)c->id);
        sqlite3_bind_int64(st, 2, c->done_at);
    }
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot write control point");
    /* Closing one the store does not have means the engine and the store disagree. */
    if (fx->kind == FL_FX_CONTROL_DEL && sqlite3_changes(q->db) != 1)
        return fl_error_set(err, FL_ESTORE, "cannot close control point: no row with id %llu",
                            (unsigned long long)c->id);
    return 0;
}

int fl__sq_load_controls(struct fl_sqlite *q, struct fl_instance *inst, struct fl_error *err)
{
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_CONTROLS_LOAD, err);
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)inst->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct fl_control *c;
        fl_grow(&inst->controls, &inst->cap_controls, inst->n_controls + 1, sizeof(*c));
        c = &inst->controls[inst->n_controls++];
        memset(c, 0, sizeof(*c));
        c->id = (uint64_t)sqlite3_column_int64(st, 0);
        c->instance_id = inst->id;
        c->name = fl__sq_col_text(st, 1);
        if (!c->name)
            c->name = fl_strdup("");
        c->due_at = sqlite3_column_int64(st, 2);
        c->remind_at = sqlite3_column_int64(st, 3);
        c->set_at = sqlite3_column_int64(st, 4);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot read control points");
    return 0;
}

#define CONTROL_COLUMNS                                                                            \
    "SELECT c.id, c.instance_id, c.name, d.key, i.business_key, i.status, c.due_at,"               \
    " c.remind_at, c.set_at, c.done_at FROM control_points c"                                      \
    " JOIN instances i ON i.id = c.instance_id JOIN definitions d ON d.id = i.definition_id"

static size_t clamp_limit(size_t limit)
{
    if (limit == 0)
        return FL__STORE_LIST_LIMIT;
    return limit > FL__STORE_LIST_MAX ? FL__STORE_LIST_MAX : limit;
}

/* The statement of one filter combination, prepared once per connection. */
static sqlite3_stmt *list_stmt(struct fl_sqlite *q, unsigned variant, struct fl_error *err)
{
    struct fl_buf sql = FL_BUF_INIT;
    if (q->control_list[variant])
        return q->control_list[variant];
    if (variant & 8u)
        fl_buf_adds(&sql, fl__sq_viewer_cte());
    fl_buf_adds(&sql, CONTROL_COLUMNS " WHERE c.id > ?1");
    if (variant & 1u)
        fl_buf_adds(&sql, " AND c.instance_id = ?2");
    if (variant & 2u)
        fl_buf_adds(&sql, " AND c.done_at IS NULL");
    if (variant & 4u)
        fl_buf_adds(&sql, " AND c.done_at IS NULL AND c.due_at <= ?3");
    if (variant & 8u)
        fl_buf_adds(&sql, fl__sq_instance_visible());
    fl_buf_adds(&sql, " ORDER BY c.id LIMIT ?4");
    fl__sq_prepare_slot(q, &q->control_list[variant], sql.ptr, err);
    fl_buf_release(&sql);
    return q->control_list[variant];
}

int fl__sq_control_list(struct fl_store *s, const struct fl_control_query *qy,
                        struct fl_control_row **rows, size_t *n, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    struct fl_control_query none = {0};
    struct fl_control_row *v = NULL;
    size_t cnt = 0, cap = 0;
    unsigned variant;
    sqlite3_stmt *st;
    int rc;

    *rows = NULL;
    *n = 0;
    if (!qy)
        qy = &none;
    variant = (qy->instance_id ? 1u : 0u) | (qy->open_only ? 2u : 0u) |
              (qy->overdue_at > 0 ? 4u : 0u) | (fl__sq_viewer_restricted(qy->viewer) ? 8u : 0u);
    if (!(st = list_stmt(q, variant, err)))
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)qy->after_id);
    if (variant & 1u)
        sqlite3_bind_int64(st, 2, (sqlite3_int64)qy->instance_id);
    if (variant & 4u)
        sqlite3_bind_int64(st, 3, qy->overdue_at);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)clamp_limit(qy->limit));
    if (variant & 8u)
        fl__sq_bind_viewer(st, qy->viewer);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct fl_control_row *r;
        fl_grow(&v, &cap, cnt + 1, sizeof(*v));
        r = &v[cnt++];
        memset(r, 0, sizeof(*r));
        r->id = (uint64_t)sqlite3_column_int64(st, 0);
        r->instance_id = (uint64_t)sqlite3_column_int64(st, 1);
        r->name = fl__sq_col_text(st, 2);
        r->process_key = fl__sq_col_text(st, 3);
        r->business_key = fl__sq_col_text(st, 4);
        r->instance_status = sqlite3_column_int(st, 5);
        r->due_at = sqlite3_column_int64(st, 6);
        r->remind_at = sqlite3_column_int64(st, 7);
        r->set_at = sqlite3_column_int64(st, 8);
        r->done_at = sqlite3_column_int64(st, 9);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        fl_control_rows_free(v, cnt);
        return fl__sq_fail(q, rc, err, "cannot list control points");
    }
    *rows = v;
    *n = cnt;
    return 0;
}
