/* SQLite back end, writes: deploying definitions (versioned by key, deduplicated by the
 * exact XML bytes) and writing what an engine step did -- the instance row and its
 * effects in order. This is the hot path of the writer thread: statements are cached,
 * values bound without copies (SQLITE_STATIC: the strings outlive the step), and each
 * effect is one row write. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/sha256.h"
#include "flowd/value.h"
#include "store/sqlite_int.h"

static int step_done(struct fl_sqlite *q, sqlite3_stmt *st, struct fl_error *err, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, what);
    return 0;
}

/* An UPDATE of one row by id that found nothing means the engine and the store disagree. */
static int step_one_row(struct fl_sqlite *q, sqlite3_stmt *st, uint64_t id, struct fl_error *err,
                        const char *what)
{
    int rc = step_done(q, st, err, what);
    if (rc)
        return rc;
    if (sqlite3_changes(q->db) != 1)
        return fl_error_set(err, FL_ESTORE, "%s: no row with id %llu", what,
                            (unsigned long long)id);
    return 0;
}

int fl__sq_versioned_put(struct fl_store *s, const struct fl__sq_versioned *v, const char *key,
                         const char *name, const char *xml, size_t xml_len, int64_t now_ms,
                         struct fl_definition_row *out, bool *created, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st;
    bool own_tx = false;
    int rc = 0, latest = 0;
    uint64_t latest_id = 0;
    char what[48];
    bool same = false;

    memset(out, 0, sizeof(*out));
    *created = false;
    if (!q->in_tx) {
        if ((rc = s->ops->begin(s, err)) != 0)
            return rc;
        own_tx = true;
    }
    if (!(st = fl__sq_stmt(q, v->latest, err))) {
        rc = err ? err->code : FL_ESTORE;
        goto out;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const void *old = sqlite3_column_blob(st, 2);
        size_t old_len = (size_t)sqlite3_column_bytes(st, 2);
        latest_id = (uint64_t)sqlite3_column_int64(st, 0);
        latest = sqlite3_column_int(st, 1);
        same = old_len == xml_len && (xml_len == 0 || memcmp(old, xml, xml_len) == 0);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = 0;
    } else {
        snprintf(what, sizeof(what), "cannot read %ss", v->what);
        rc = fl__sq_fail(q, rc, err, what);
    }
    sqlite3_reset(st);
    if (rc)
        goto out;
    if (same) {
        rc = v->get(s, NULL, 0, latest_id, out, err);
        goto out;
    }
    out->key = fl_strdup(key);
    out->name = fl_strdup(name);
    out->xml = fl_strndup(xml, xml_len);
    out->xml_len = xml_len;
    out->version = latest + 1;
    out->deployed_at = now_ms;
    fl_sha256_hex(xml, xml_len, out->checksum);
    if (!(st = fl__sq_stmt(q, v->insert, err))) {
        rc = err ? err->code : FL_ESTORE;
        goto out;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, out->version);
    fl__sq_bind_text(st, 3, name);
    sqlite3_bind_blob(st, 4, xml, (int)xml_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, out->checksum, 64, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, now_ms);
    snprintf(what, sizeof(what), "cannot store %s", v->what);
    if ((rc = step_done(q, st, err, what)) != 0)
        goto out;
    out->id = (uint64_t)sqlite3_last_insert_rowid(q->db);
    *created = true;
out:
    if (own_tx) {
        if (rc == 0)
            rc = s->ops->commit(s, err);
        else
            s->ops->rollback(s);
    }
    if (rc) {
        fl_definition_row_release(out);
        *created = false;
    }
    return rc;
}

int fl__sq_definition_put(struct fl_store *s, const char *key, const char *name, const char *xml,
                          size_t xml_len, int64_t now_ms, struct fl_definition_row *out,
                          bool *created, struct fl_error *err)
{
    static const struct fl__sq_versioned defs = {FL__SQ_DEF_LATEST, FL__SQ_DEF_INSERT,
                                                 FL__SQ_DEF_LIST, "definition",
                                                 fl__sq_definition_get};
    return fl__sq_versioned_put(s, &defs, key, name, xml, xml_len, now_ms, out, created, err);
}

/* Who started the instance: the actor of the instance_started event among the effects. */
static const char *starter(const struct fl_effects *fx)
{
    for (size_t i = 0; fx && i < fx->n; i++)
        if (fx->items[i].kind == FL_FX_EVENT && fx->items[i].u.event.type == FL_EV_INSTANCE_STARTED)
            return fx->items[i].u.event.actor;
    return NULL;
}

static int put_instance(struct fl_sqlite *q, const struct fl_instance *inst,
                        const struct fl_effects *fx, struct fl_error *err)
{
    /* The engine starts an instance at revision 1 and adds one per step: revision 1 is
     * an insert, anything else an update of the row at the previous revision. */
    bool insert = inst->revision <= 1;
    sqlite3_stmt *st = fl__sq_stmt(q, insert ? FL__SQ_INST_INSERT : FL__SQ_INST_UPDATE, err);
    int rc;
    if (!st)
        return err ? err->code : FL_ESTORE;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)inst->id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)inst->definition_id);
    fl__sq_bind_text(st, 3, inst->business_key);
    sqlite3_bind_int(st, 4, (int)inst->status);
    sqlite3_bind_int(st, 5, inst->incident);
    sqlite3_bind_int64(st, 6, inst->started_at);
    fl__sq_bind_opt(st, 7, inst->ended_at);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)inst->revision);
    if (insert) {
        fl__sq_bind_text(st, 9, starter(fx));
        fl__sq_bind_opt(st, 10, (int64_t)inst->parent_instance_id);
        fl__sq_bind_opt(st, 11, (int64_t)inst->parent_token_id);
    }
    if ((rc = step_done(q, st, err, "cannot write instance")) != 0)
        return rc;
    /* A row at any other revision was written by someone else since this state was
     * loaded, and must not be overwritten. */
    if (sqlite3_changes(q->db) != 1)
        return fl_error_set(err, FL_ECONFLICT,
                            "instance %llu was changed concurrently (expected revision %llu)",
                            (unsigned long long)inst->id,
                            (unsigned long long)(inst->revision ? inst->revision - 1 : 0));
    /* An ended instance compensates nothing any more: its records go with it. */
    if (inst->status != FL_INSTANCE_ACTIVE && !insert) {
        if (!(st = fl__sq_stmt(q, FL__SQ_COMPS_CLEAR, err)))
            return err ? err->code : FL_ESTORE;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)inst->id);
        return step_done(q, st, err, "cannot delete compensation records");
    }
    return 0;
}

/* A completed activity owed compensation (COMP_PUT), by its seq. */
static int put_comp(struct fl_sqlite *q, const struct fl_model *m, uint64_t instance_id,
                    const struct fl_compensable *c, struct fl_error *err)
{
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_COMP_UPSERT, err);
    if (!st)
        return err ? err->code : FL_ESTORE;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)instance_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)c->seq);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)c->token_id);
    sqlite3_bind_int64(st, 4, c->node);
    fl__sq_bind_text(st, 5, m && c->node < m->n_nodes ? m->nodes[c->node].id : NULL);
    fl__sq_bind_opt(st, 6, (int64_t)c->scope);
    return step_done(q, st, err, "cannot write compensation record");
}

static int put_token(struct fl_sqlite *q, const struct fl_model *m, uint64_t instance_id,
                     const struct fl_token *t, struct fl_error *err)
{
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_TOKEN_UPSERT, err);
    if (!st)
        return err ? err->code : FL_ESTORE;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)t->id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)instance_id);
    sqlite3_bind_int64(st, 3, t->node);
    fl__sq_bind_text(st, 4, m && t->node < m->n_nodes ? m->nodes[t->node].id : NULL);
    if (t->flow == FL_NONE)
        sqlite3_bind_null(st, 5);
    else
        sqlite3_bind_int64(st, 5, t->flow);
    sqlite3_bind_int(st, 6, t->state);
    fl__sq_bind_opt(st, 7, (int64_t)t->task_id);
    fl__sq_bind_opt(st, 8, (int64_t)t->job_id);
    sqlite3_bind_int(st, 9, t->main_action_done);
    fl__sq_bind_opt(st, 10, (int64_t)t->scope);
    fl__sq_bind_opt(st, 11, (int64_t)t->call_id);
    sqlite3_bind_int64(st, 12, t->loop);
    sqlite3_bind_int(st, 13, t->mi_body);
    if (t->id > q->token_hw)
        q->token_hw = t->id;
    return step_done(q, st, err, "cannot write token");
}

/* An instance variable (scope 0) or a local of scope token `scope`. `value` is plain JSON
 * (what the API shows and SQL reads); a value holding dates, times or durations also gets
 * `typed_value`, from which the instance is loaded with those types. */
static int put_var(struct fl_sqlite *q, uint64_t instance_id, uint64_t scope, const char *name,
                   const struct fl_value *v, struct fl_error *err)
{
    sqlite3_stmt *st = fl__sq_stmt(q, scope ? FL__SQ_LOCAL_UPSERT : FL__SQ_VAR_UPSERT, err);
    int i = 1;
    if (!st)
        return err ? err->code : FL_ESTORE;
    fl_buf_reset(&q->json);
    if (fl_value_to_json(v, &q->json) != 0)
        return fl_error_set(err, FL_ETOOBIG, "variable '%s' too large to store", name);
    sqlite3_bind_int64(st, i++, (sqlite3_int64)instance_id);
    if (scope)
        sqlite3_bind_int64(st, i++, (sqlite3_int64)scope);
    sqlite3_bind_text(st, i++, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, q->json.ptr, (int)q->json.len, SQLITE_STATIC);
    if (fl_value_has_temporal(v)) {
        fl_buf_reset(&q->json2);
        if (fl_value_to_json_typed(v, &q->json2) != 0)
            return fl_error_set(err, FL_ETOOBIG, "variable '%s' too large to store", name);
        sqlite3_bind_text(st, i, q->json2.ptr, (int)q->json2.len, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, i);
    }
    return step_done(q, st, err, "cannot write variable");
}

/* The stage of the task's node, found by id (the task names its node, not its index). */
static const struct fl_stage *task_stage(const struct fl_model *m, const char *node_id)
{
    for (uint32_t i = 0; m && node_id && i < m->n_nodes; i++)
        if (m->nodes[i].id == node_id || strcmp(m->nodes[i].id, node_id) == 0)
            return m->nodes[i].stage;
    return NULL;
}

/* Stage RACI consulted and informed roles joined by commas (NULL when none): they may
 * read the case, and the list queries match them like candidate roles. */
static char *watch_roles(const struct fl_stage *sg)
{
    struct fl_buf b = FL_BUF_INIT;
    const struct fl_strlist *l[2];
    if (!sg || (sg->consulted.n == 0 && sg->informed.n == 0))
        return NULL;
    l[0] = &sg->consulted;
    l[1] = &sg->informed;
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < l[k]->n; i++) {
            if (b.len)
                fl_buf_addc(&b, ',');
            fl_buf_adds(&b, l[k]->items[i]);
        }
    return fl_buf_detach(&b, NULL);
}

static int put_task(struct fl_sqlite *q, const struct fl_model *m, const struct fl_task *t,
                    struct fl_error *err)
{
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_TASK_INSERT, err);
    char *roles, *users, *watch;
    int rc;
    if (!st)
        return err ? err->code : FL_ESTORE;
    roles = fl__store_join_list(&t->candidate_roles);
    users = fl__store_join_list(&t->candidate_users);
    watch = watch_roles(task_stage(m, t->node_id));
    sqlite3_bind_int64(st, 1, (sqlite3_int64)t->id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)t->instance_id);
    fl__sq_bind_opt(st, 3, (int64_t)t->token_id);
    fl__sq_bind_text(st, 4, t->node_id ? t->node_id : "");
    fl__sq_bind_text(st, 5, t->name);
    fl__sq_bind_text(st, 6, t->assignee);
    fl__sq_bind_text(st, 7, roles);
    fl__sq_bind_text(st, 8, users);
    sqlite3_bind_int64(st, 9, t->created_at);
    fl__sq_bind_opt(st, 10, t->due_at);
    fl__sq_bind_opt(st, 11, t->remind_at);
    fl__sq_bind_text(st, 12, t->main_action_kind);
    sqlite3_bind_int(st, 13, t->main_action_required);
    fl__sq_bind_text(st, 14, watch);
    rc = step_done(q, st, err, "cannot write task");
    free(watch);
    free(roles);
    free(users);
    return rc;
}

/* The INSERT of k history rows, built from constant fragments (no values) and prepared
 * once per connection. */
static sqlite3_stmt *history_stmt(struct fl_sqlite *q, size_t k, struct fl_error *err)
{
    char sql[128 + FL__SQ_HISTORY_ROWS * 20];
    size_t len;
    if (q->history_rows[k - 1])
        return q->history_rows[k - 1];
    len = (size_t)snprintf(sql, sizeof(sql),
                           "INSERT INTO history(instance_id, type, node_id,"
                           " token_id, ref_id, actor, detail, at) VALUES");
    for (size_t i = 0; i < k; i++)
        len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s(?,?,?,?,?,?,?,?)", i ? "," : "");
    return fl__sq_prepare_slot(q, &q->history_rows[k - 1], sql, err);
}

/* Write n (1..FL__SQ_HISTORY_ROWS) events in one statement. History is a third of the
 * writer's CPU (about 21 rows per instance); a multi-row INSERT pays the per-statement
 * cost (step setup, reset, program start) once for the group: 1.55 -> 1.05 us a row in
 * a micro-benchmark of this table. The rows keep their order, so seq does too. */
static int put_events(struct fl_sqlite *q, const struct fl_event *const *ev, size_t n,
                      struct fl_error *err)
{
    sqlite3_stmt *st = history_stmt(q, n, err);
    if (!st)
        return err ? err->code : FL_ESTORE;
    for (size_t i = 0; i < n; i++) {
        const struct fl_event *e = ev[i];
        int b = (int)i * 8;
        sqlite3_bind_int64(st, b + 1, (sqlite3_int64)e->instance_id);
        sqlite3_bind_int(st, b + 2, (int)e->type);
        fl__sq_bind_text(st, b + 3, e->node_id);
        fl__sq_bind_opt(st, b + 4, (int64_t)e->token_id);
        fl__sq_bind_opt(st, b + 5, (int64_t)e->ref_id);
        fl__sq_bind_text(st, b + 6, e->actor);
        fl__sq_bind_text(st, b + 7, e->detail);
        sqlite3_bind_int64(st, b + 8, e->at);
        if (e->token_id > q->token_hw)
            q->token_hw = e->token_id;
    }
    return step_done(q, st, err, "cannot write history");
}

/* Run one of the migration statements bound to the instance (and definitions). */
static int migrate_stmt(struct fl_sqlite *q, enum fl__sq_stmt id, uint64_t instance_id,
                        const struct fl_effect *fx, struct fl_error *err, const char *what)
{
    sqlite3_stmt *st = fl__sq_stmt(q, id, err);
    if (!st)
        return err ? err->code : FL_ESTORE;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)instance_id);
    if (id == FL__SQ_INST_MIGRATE) {
        sqlite3_bind_int64(st, 2, (sqlite3_int64)fx->u.migrate.definition_id);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)fx->u.migrate.from_definition_id);
        return step_one_row(q, st, instance_id, err, what);
    }
    return step_done(q, st, err, what);
}

/* Before the instance row is written (its UPDATE matches the definition it runs): a
 * migration moves it to its new definition first. */
static int migrate_instance(struct fl_sqlite *q, const struct fl_instance *inst,
                            const struct fl_effects *fx, struct fl_error *err)
{
    for (size_t i = 0; fx && i < fx->n; i++)
        if (fx->items[i].kind == FL_FX_MIGRATE)
            return migrate_stmt(q, FL__SQ_INST_MIGRATE, inst->id, &fx->items[i], err,
                                "cannot migrate instance");
    return 0;
}

static int put_effect(struct fl_sqlite *q, const struct fl_model *m, const struct fl_instance *inst,
                      const struct fl_effect *fx, struct fl_error *err)
{
    sqlite3_stmt *st;
    switch (fx->kind) {
    case FL_FX_TOKEN_PUT:
        return put_token(q, m, inst->id, &fx->u.token, err);
    case FL_FX_TOKEN_DEL:
        if (!(st = fl__sq_stmt(q, FL__SQ_TOKEN_DEL, err)))
            break;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)fx->u.token.id);
        if (fx->u.token.id > q->token_hw)
            q->token_hw = fx->u.token.id;
        return step_done(q, st, err, "cannot delete token");
    case FL_FX_VAR_SET:
        return put_var(q, inst->id, fx->u.var.scope, fx->u.var.name, fx->u.var.value, err);
    case FL_FX_COMP_PUT:
        return put_comp(q, m, inst->id, &fx->u.comp, err);
    case FL_FX_COMP_DEL:
        if (!(st = fl__sq_stmt(q, FL__SQ_COMP_DEL, err)))
            break;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)inst->id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)fx->u.comp.seq);
        return step_done(q, st, err, "cannot delete compensation record");
    case FL_FX_LOCALS_DEL:
        if (!(st = fl__sq_stmt(q, FL__SQ_LOCALS_DEL, err)))
            break;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)inst->id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)fx->u.locals.scope);
        return step_done(q, st, err, "cannot delete local variables");
    case FL_FX_TASK_CREATE:
        return put_task(q, m, &fx->u.task, err);
    case FL_FX_TASK_CLOSE:
        if (!(st = fl__sq_stmt(q, FL__SQ_TASK_CLOSE, err)))
            break;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)fx->u.task_close.id);
        sqlite3_bind_int(st, 2, fx->u.task_close.status);
        sqlite3_bind_int64(st, 3, fx->u.task_close.at);
        fl__sq_bind_text(st, 4, fx->u.task_close.actor);
        return step_one_row(q, st, fx->u.task_close.id, err, "cannot close task");
    case FL_FX_TASK_ACTION:
        if (!(st = fl__sq_stmt(q, FL__SQ_TASK_ACTION, err)))
            break;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)fx->u.task_close.id);
        fl__sq_bind_text(st, 2, fx->u.task_close.kind);
        fl__sq_bind_text(st, 3, fx->u.task_close.ref);
        return step_one_row(q, st, fx->u.task_close.id, err, "cannot record main action");
    case FL_FX_JOB_CREATE:
        if (!(st = fl__sq_stmt(q, FL__SQ_JOB_INSERT, err)))
            break;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)fx->u.job.id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)fx->u.job.instance_id);
        fl__sq_bind_opt(st, 3, (int64_t)fx->u.job.token_id);
        fl__sq_bind_text(st, 4, fx->u.job.node_id);
        fl__sq_bind_text(st, 5, fx->u.job.type ? fx->u.job.type : "");
        sqlite3_bind_int(st, 6, fx->u.job.retries);
        sqlite3_bind_int64(st, 7, fx->u.job.created_at);
        return step_done(q, st, err, "cannot write job");
    case FL_FX_JOB_CLOSE:
        if (!(st = fl__sq_stmt(q, FL__SQ_JOB_CLOSE, err)))
            break;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)fx->u.job_close.id);
        sqlite3_bind_int(st, 2, fx->u.job_close.failed ? FL__JOB_FAILED : FL__JOB_COMPLETED);
        sqlite3_bind_int(st, 3, fx->u.job_close.retries);
        fl__sq_bind_text(st, 4, fx->u.job_close.error);
        sqlite3_bind_int64(st, 5, fx->u.job_close.at);
        return step_one_row(q, st, fx->u.job_close.id, err, "cannot close job");
    case FL_FX_JOB_RETRY:
        if (!(st = fl__sq_stmt(q, FL__SQ_JOB_RETRY, err)))
            break;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)fx->u.job_close.id);
        sqlite3_bind_int(st, 2, fx->u.job_close.retries);
        fl__sq_bind_text(st, 3, fx->u.job_close.error);
        /* The lock goes with the failure: activatable again after the backoff. */
        sqlite3_bind_int64(st, 4, fx->u.job_close.next_at ? fx->u.job_close.next_at
                                                           : fx->u.job_close.at);
        return step_one_row(q, st, fx->u.job_close.id, err, "cannot record job failure");
    case FL_FX_INCIDENT:
        if (!(st = fl__sq_stmt(q, FL__SQ_INCIDENT_INSERT, err)))
            break;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)fx->u.incident.id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)inst->id);
        fl__sq_bind_opt(st, 3, (int64_t)fx->u.incident.token_id);
        fl__sq_bind_opt(st, 4, (int64_t)fx->u.incident.job_id);
        fl__sq_bind_text(st, 5, fx->u.incident.node_id);
        fl__sq_bind_text(st, 6, fx->u.incident.message ? fx->u.incident.message : "");
        sqlite3_bind_int64(st, 7, fx->u.incident.at);
        sqlite3_bind_int(st, 8, fx->u.incident.leaving);
        return step_done(q, st, err, "cannot write incident");
    case FL_FX_INCIDENT_RESOLVE:
        return fl__sq_job_effect(q, inst, fx, err);
    case FL_FX_TIMER_SET:
    case FL_FX_TIMER_DEL:
    case FL_FX_NOTIFY:
        return fl__sq_timer_effect(q, inst, fx, err);
    case FL_FX_CONTROL_SET:
    case FL_FX_CONTROL_DEL:
        return fl__sq_put_control(q, fx, err);
    case FL_FX_CALL:
    case FL_FX_CALL_CANCEL:
    case FL_FX_ERROR_UP:
    case FL_FX_ESCALATE_UP:
        return 0; /* for the service: it starts, cancels or answers the other instance */
    case FL_FX_SUB_OPEN:
    case FL_FX_SUB_CLOSE:
    case FL_FX_OUTBOX:
    case FL_FX_SIGNAL:
        return fl__sq_message_effect(q, m, inst, fx, err);
    case FL_FX_MIGRATE: {
        /* After the TOKEN_PUTs of the migration: work follows its token's new node id. */
        int rc = migrate_stmt(q, FL__SQ_TASKS_RENODE, inst->id, fx, err, "cannot migrate tasks");
        if (rc == 0)
            rc = migrate_stmt(q, FL__SQ_JOBS_RENODE, inst->id, fx, err, "cannot migrate jobs");
        if (rc == 0)
            rc = migrate_stmt(q, FL__SQ_INCIDENTS_RENODE, inst->id, fx, err,
                              "cannot migrate incidents");
        return rc;
    }
    default:
        return fl_error_set(err, FL_EINTERNAL, "unknown effect kind %d", (int)fx->kind);
    }
    return err ? err->code : FL_ESTORE;
}

int fl__sq_apply(struct fl_store *s, const struct fl_model *m, const struct fl_instance *inst,
                 const struct fl_effects *fx, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    const struct fl_event *ev[FL__SQ_HISTORY_ROWS];
    size_t n_ev = 0;
    int rc;
    if (!q->in_tx)
        return fl_error_set(err, FL_EINVAL, "fl_store_apply outside a transaction");
    if ((rc = migrate_instance(q, inst, fx, err)) != 0 || (rc = put_instance(q, inst, fx, err)) != 0)
        return rc;
    fl__sq_timer_apply_begin(q);
    q->msg_now = 0;
    for (size_t i = 0; fx && i < fx->n && !q->msg_now; i++)
        if (fx->items[i].kind == FL_FX_EVENT)
            q->msg_now = fx->items[i].u.event.at;
    /* Events are gathered and written in groups (see put_events). Nothing else reads
     * history, so delaying them behind the other rows of this step changes no result;
     * they borrow fx's strings, which live until this returns. */
    for (size_t i = 0; fx && i < fx->n; i++) {
        if (fx->items[i].kind == FL_FX_EVENT) {
            ev[n_ev++] = &fx->items[i].u.event;
            if (n_ev == FL__SQ_HISTORY_ROWS) {
                if ((rc = put_events(q, ev, n_ev, err)) != 0)
                    return rc;
                n_ev = 0;
            }
        } else if ((rc = put_effect(q, m, inst, &fx->items[i], err)) != 0) {
            return rc;
        }
    }
    if (n_ev && (rc = put_events(q, ev, n_ev, err)) != 0)
        return rc;
    return fl__sq_timer_apply_end(q, err);
}

int fl__sq_task_set_assignee(struct fl_store *s, uint64_t id, const char *assignee,
                             struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st;
    int rc, status;

    if (!(st = fl__sq_stmt(q, FL__SQ_TASK_ASSIGN, err)))
        return err ? err->code : FL_ESTORE;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    fl__sq_bind_text(st, 2, assignee);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot assign task");
    if (sqlite3_changes(q->db) == 1)
        return 0;
    /* Nothing changed: tell a closed task from a missing one. */
    if (!(st = fl__sq_stmt(q, FL__SQ_TASK_STATUS, err)))
        return err ? err->code : FL_ESTORE;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    rc = sqlite3_step(st);
    status = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot read task");
    if (status < 0)
        return fl_error_set(err, FL_ENOTFOUND, "no task %llu", (unsigned long long)id);
    return fl_error_set(err, FL_ECONFLICT, "task %llu is closed", (unsigned long long)id);
}

int fl__sq_idem_put(struct fl_store *s, const struct fl_idem_row *row, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_IDEM_PUT, err);
    int rc;
    if (!st)
        return err ? err->code : FL_ESTORE;
    fl__sq_bind_text(st, 1, row->scope);
    fl__sq_bind_text(st, 2, row->body_hash);
    sqlite3_bind_int(st, 3, row->status);
    fl__sq_bind_text(st, 4, row->content_type);
    fl__sq_bind_text(st, 5, row->location);
    sqlite3_bind_blob(st, 6, row->body ? row->body : "", (int)row->body_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, row->created_at);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot store idempotency record");
    return 0;
}
