/* SQLite back end, jobs and incidents: activation (pick the activatable jobs of a type and
 * lock them, in the caller's write transaction), the earliest time one becomes activatable
 * again (for long polls), the rows and lists of flowd/jobs.h, the INCIDENT_RESOLVE effect,
 * and restoring each open incident's id and direction onto its token when an instance is
 * loaded (the token row itself knows only that it is stuck). */
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "store/sqlite_int.h"

#define FAIL_CODE(err) ((err) ? (err)->code : FL_ESTORE)

static size_t clamp_limit(size_t limit)
{
    if (limit == 0)
        return FL__STORE_LIST_LIMIT;
    return limit > FL__STORE_LIST_MAX ? FL__STORE_LIST_MAX : limit;
}

static void read_job(sqlite3_stmt *st, struct fl_job_row *r)
{
    memset(r, 0, sizeof(*r));
    r->id = (uint64_t)sqlite3_column_int64(st, 0);
    r->instance_id = (uint64_t)sqlite3_column_int64(st, 1);
    r->token_id = (uint64_t)sqlite3_column_int64(st, 2);
    r->definition_id = (uint64_t)sqlite3_column_int64(st, 3);
    r->node_id = fl__sq_col_text(st, 4);
    r->type = fl__sq_col_text(st, 5);
    r->process_key = fl__sq_col_text(st, 6);
    r->version = sqlite3_column_int(st, 7);
    r->retries = sqlite3_column_int(st, 8);
    r->status = sqlite3_column_int(st, 9);
    r->worker = fl__sq_col_text(st, 10);
    r->lock_until = sqlite3_column_int64(st, 11);
    r->next_at = sqlite3_column_int64(st, 12);
    r->error = fl__sq_col_text(st, 13);
    r->error_code = fl__sq_col_text(st, 14);
    r->created_at = sqlite3_column_int64(st, 15);
    r->closed_at = sqlite3_column_int64(st, 16);
}

static void read_incident(sqlite3_stmt *st, struct fl_incident_row *r)
{
    memset(r, 0, sizeof(*r));
    r->id = (uint64_t)sqlite3_column_int64(st, 0);
    r->instance_id = (uint64_t)sqlite3_column_int64(st, 1);
    r->token_id = (uint64_t)sqlite3_column_int64(st, 2);
    r->job_id = (uint64_t)sqlite3_column_int64(st, 3);
    r->node_id = fl__sq_col_text(st, 4);
    r->message = fl__sq_col_text(st, 5);
    r->process_key = fl__sq_col_text(st, 6);
    r->created_at = sqlite3_column_int64(st, 7);
    r->resolved_at = sqlite3_column_int64(st, 8);
}

int fl__sq_job_effect(struct fl_sqlite *q, const struct fl_instance *inst,
                      const struct fl_effect *fx, struct fl_error *err)
{
    sqlite3_stmt *st;
    int rc;
    (void)inst;
    if (fx->kind != FL_FX_INCIDENT_RESOLVE)
        return fl_error_set(err, FL_EINTERNAL, "not a job effect: %d", (int)fx->kind);
    if (!(st = fl__sq_stmt(q, FL__SQ_INCIDENT_RESOLVE, err)))
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)fx->u.incident.id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)fx->u.incident.token_id);
    sqlite3_bind_int64(st, 3, fx->u.incident.at);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot resolve incident");
    return 0;
}

int fl__sq_incidents_load(struct fl_sqlite *q, struct fl_instance *inst, struct fl_error *err)
{
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_INCIDENTS_LOAD, err);
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)inst->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t token = (uint64_t)sqlite3_column_int64(st, 1);
        /* Tokens are few; an incident without its stuck token (moved on by an admin
         * modification) has nothing to restore. */
        for (size_t i = 0; i < inst->n_tokens; i++) {
            struct fl_token *t = &inst->tokens[i];
            if (t->id != token || t->state != FL_TOKEN_INCIDENT)
                continue;
            /* Several open incidents of one token: the newest is the one it is stuck on. */
            if ((uint64_t)sqlite3_column_int64(st, 0) > t->incident_id) {
                t->incident_id = (uint64_t)sqlite3_column_int64(st, 0);
                t->incident_leaving = sqlite3_column_int(st, 2) != 0;
            }
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot read incidents");
    return 0;
}

int fl__sq_job_get(struct fl_store *s, uint64_t id, struct fl_job_row *out, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_JOB_GET, err);
    int rc;
    memset(out, 0, sizeof(*out));
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_job(st, out);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return fl_error_set(err, FL_ENOTFOUND, "job %llu not found", (unsigned long long)id);
    return fl__sq_fail(q, rc, err, "cannot read job");
}

int fl__sq_job_list(struct fl_store *s, const struct fl_job_query *qy, struct fl_job_row **rows,
                    size_t *n, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    struct fl_job_query none = {.status = -1};
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_JOB_LIST, err);
    struct fl_job_row *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc;

    *rows = NULL;
    *n = 0;
    if (!st)
        return FAIL_CODE(err);
    if (!qy)
        qy = &none;
    fl__sq_bind_text(st, 1, qy->type);
    sqlite3_bind_int(st, 2, qy->status);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)qy->instance_id);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)qy->after_id);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)clamp_limit(qy->limit));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fl_grow(&v, &cap, cnt + 1, sizeof(*v));
        read_job(st, &v[cnt++]);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        fl_job_rows_free(v, cnt);
        return fl__sq_fail(q, rc, err, "cannot list jobs");
    }
    *rows = v;
    *n = cnt;
    return 0;
}

int fl__sq_job_activate(struct fl_store *s, const char *type, const char *worker, size_t max,
                        int64_t now_ms, int64_t lock_until, struct fl_job_row **rows, size_t *n,
                        struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    struct fl_job_row *v = NULL;
    uint64_t *ids = NULL;
    size_t n_ids = 0, cap_ids = 0, cnt = 0;
    sqlite3_stmt *st;
    int rc = 0, src;

    *rows = NULL;
    *n = 0;
    if (!q->in_tx)
        return fl_error_set(err, FL_EINVAL, "job activation outside a write transaction");
    if (!type || !worker || max == 0)
        return fl_error_set(err, FL_EINVAL, "job activation needs a type, a worker and a count");
    /* Pick first, then lock: the locks move next_at, which the pick walks by. */
    if (!(st = fl__sq_stmt(q, FL__SQ_JOB_PICK, err)))
        return FAIL_CODE(err);
    fl__sq_bind_text(st, 1, type);
    sqlite3_bind_int64(st, 2, now_ms);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        fl_grow(&ids, &cap_ids, n_ids + 1, sizeof(*ids));
        ids[n_ids++] = (uint64_t)sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    if (src != SQLITE_DONE) {
        rc = fl__sq_fail(q, src, err, "cannot pick jobs");
        goto out;
    }
    if (n_ids && !(st = fl__sq_stmt(q, FL__SQ_JOB_LOCK, err))) {
        rc = FAIL_CODE(err);
        goto out;
    }
    for (size_t i = 0; i < n_ids; i++) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)ids[i]);
        fl__sq_bind_text(st, 2, worker);
        sqlite3_bind_int64(st, 3, lock_until);
        src = sqlite3_step(st);
        sqlite3_reset(st);
        if (src != SQLITE_DONE) {
            rc = fl__sq_fail(q, src, err, "cannot lock job");
            goto out;
        }
    }
    v = n_ids ? fl_calloc(n_ids, sizeof(*v)) : NULL;
    for (size_t i = 0; i < n_ids; i++) {
        if ((rc = fl__sq_job_get(s, ids[i], &v[cnt], err)) != 0)
            goto out;
        cnt++;
    }
    *rows = v;
    *n = cnt;
    v = NULL;
    cnt = 0;
out:
    fl_job_rows_free(v, cnt);
    free(ids);
    return rc;
}

int fl__sq_job_next_activatable(struct fl_store *s, const char *type, int64_t now_ms, int64_t *at,
                                struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_JOB_NEXT, err);
    bool found = false;
    int rc;
    *at = 0;
    if (!st)
        return FAIL_CODE(err);
    fl__sq_bind_text(st, 1, type);
    sqlite3_bind_int64(st, 2, now_ms);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *at = sqlite3_column_int64(st, 0);
        found = true;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot read jobs");
    return found ? 0 : FL_ENOTFOUND;
}

int fl__sq_job_set_error_code(struct fl_store *s, uint64_t id, const char *code,
                              struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_JOB_ERROR_CODE, err);
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    fl__sq_bind_text(st, 2, code);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot record the job's error code");
    return 0;
}

int fl__sq_incident_get(struct fl_store *s, uint64_t id, struct fl_incident_row *out,
                        struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_INCIDENT_GET, err);
    int rc;
    memset(out, 0, sizeof(*out));
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_incident(st, out);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return fl_error_set(err, FL_ENOTFOUND, "incident %llu not found", (unsigned long long)id);
    return fl__sq_fail(q, rc, err, "cannot read incident");
}

int fl__sq_incident_list(struct fl_store *s, const struct fl_incident_query *qy,
                         struct fl_incident_row **rows, size_t *n, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    struct fl_incident_query none = {0};
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_INCIDENT_LIST, err);
    struct fl_incident_row *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc;

    *rows = NULL;
    *n = 0;
    if (!st)
        return FAIL_CODE(err);
    if (!qy)
        qy = &none;
    sqlite3_bind_int(st, 1, qy->open_only ? 1 : 0);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)qy->instance_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)qy->after_id);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)clamp_limit(qy->limit));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fl_grow(&v, &cap, cnt + 1, sizeof(*v));
        read_incident(st, &v[cnt++]);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        fl_incident_rows_free(v, cnt);
        return fl__sq_fail(q, rc, err, "cannot list incidents");
    }
    *rows = v;
    *n = cnt;
    return 0;
}
