/* SQLite back end, reads: rebuilding an instance for the engine, the rows the CLI and API
 * list (instances, tasks, history) with their filters and id cursors, routing lookups and
 * the id high-water marks. List statements are assembled from fixed SQL fragments, one per
 * filter combination, and cached; filter values are always bound parameters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/auth.h"
#include "flowd/value.h"
#include "store/sqlite_int.h"

#define FAIL_CODE(err) ((err) ? (err)->code : FL_ESTORE)

static size_t clamp_limit(size_t limit)
{
    if (limit == 0)
        return FL__STORE_LIST_LIMIT;
    return limit > FL__STORE_LIST_MAX ? FL__STORE_LIST_MAX : limit;
}

void fl__sq_read_definition(sqlite3_stmt *st, struct fl_definition_row *r)
{
    const void *xml = sqlite3_column_blob(st, 4);
    const unsigned char *sum = sqlite3_column_text(st, 5);
    r->id = (uint64_t)sqlite3_column_int64(st, 0);
    r->key = fl__sq_col_text(st, 1);
    r->version = sqlite3_column_int(st, 2);
    r->name = fl__sq_col_text(st, 3);
    r->xml_len = (size_t)sqlite3_column_bytes(st, 4);
    r->xml = fl_strndup(xml ? xml : "", r->xml_len);
    memset(r->checksum, 0, sizeof(r->checksum));
    if (sum)
        strncpy(r->checksum, (const char *)sum, sizeof(r->checksum) - 1);
    r->deployed_at = sqlite3_column_int64(st, 6);
}

int fl__sq_definition_find(struct fl_store *s, const char *key, int32_t version, uint64_t *id,
                           struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st =
        fl__sq_stmt(q, version > 0 ? FL__SQ_DEF_FIND_VERSION : FL__SQ_DEF_FIND_LATEST, err);
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (version > 0)
        sqlite3_bind_int(st, 2, version);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE) {
        if (version > 0)
            return fl_error_set(err, FL_ENOTFOUND, "process '%s' version %d is not deployed", key,
                                (int)version);
        return fl_error_set(err, FL_ENOTFOUND, "process '%s' is not deployed", key);
    }
    return fl__sq_fail(q, rc, err, "cannot read definitions");
}

int fl__sq_definition_get(struct fl_store *s, const char *key, int32_t version, uint64_t id,
                          struct fl_definition_row *out, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st;
    int rc;
    memset(out, 0, sizeof(*out));
    if (key && (rc = fl__sq_definition_find(s, key, version, &id, err)) != 0)
        return rc;
    if (!(st = fl__sq_stmt(q, FL__SQ_DEF_GET, err)))
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        fl__sq_read_definition(st, out);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return fl_error_set(err, FL_ENOTFOUND, "definition %llu not found", (unsigned long long)id);
    return fl__sq_fail(q, rc, err, "cannot read definition");
}

int fl__sq_versioned_list(struct fl_store *s, const struct fl__sq_versioned *v,
                          struct fl_definition_row **rows, size_t *n, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, v->list, err);
    struct fl_definition_row *r = NULL;
    size_t cnt = 0, cap = 0;
    int rc;
    *rows = NULL;
    *n = 0;
    if (!st)
        return FAIL_CODE(err);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fl_grow(&r, &cap, cnt + 1, sizeof(*r));
        fl__sq_read_definition(st, &r[cnt++]);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        char what[48];
        snprintf(what, sizeof(what), "cannot list %ss", v->what);
        fl_definition_rows_free(r, cnt);
        return fl__sq_fail(q, rc, err, what);
    }
    *rows = r;
    *n = cnt;
    return 0;
}

int fl__sq_definition_list(struct fl_store *s, struct fl_definition_row **rows, size_t *n,
                           struct fl_error *err)
{
    static const struct fl__sq_versioned defs = {FL__SQ_DEF_LATEST, FL__SQ_DEF_INSERT,
                                                 FL__SQ_DEF_LIST, "definition",
                                                 fl__sq_definition_get};
    return fl__sq_versioned_list(s, &defs, rows, n, err);
}

/* Variables of an instance as a context (load) or as a JSON object text (rows). */
static int load_variables(struct fl_sqlite *q, uint64_t id, struct fl_value **ctx_out,
                          char **json_out, struct fl_error *err)
{
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_VARS_LOAD, err);
    struct fl_value *ctx = NULL;
    struct fl_buf json = FL_BUF_INIT;
    int rc, n = 0;
    if (!st)
        return FAIL_CODE(err);
    if (ctx_out)
        ctx = fl_value_context_new();
    else
        fl_buf_addc(&json, '{');
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        size_t name_len = (size_t)sqlite3_column_bytes(st, 0);
        const char *text = (const char *)sqlite3_column_text(st, 1);
        size_t text_len = (size_t)sqlite3_column_bytes(st, 1);
        const char *typed = (const char *)sqlite3_column_text(st, 2);
        size_t typed_len = (size_t)sqlite3_column_bytes(st, 2);
        if (!name || !text)
            continue;
        if (ctx) {
            struct fl_value *v = NULL;
            rc = typed ? fl_value_from_json_typed(typed, typed_len, &v, err)
                       : fl_value_from_json(text, text_len, &v, err);
            if (rc != 0) {
                sqlite3_reset(st);
                fl_value_unref(ctx);
                return fl_error_set(err, FL_ESTORE, "instance %llu: variable '%s' is not JSON",
                                    (unsigned long long)id, name);
            }
            fl_value_context_set(ctx, name, name_len, v);
        } else {
            if (n++)
                fl_buf_addc(&json, ',');
            fl_json_string(&json, name, name_len);
            fl_buf_addc(&json, ':');
            fl_buf_add(&json, text, text_len);
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        fl_value_unref(ctx);
        fl_buf_release(&json);
        return fl__sq_fail(q, rc, err, "cannot read variables");
    }
    if (ctx_out) {
        *ctx_out = ctx;
    } else {
        fl_buf_addc(&json, '}');
        if (json.err) {
            fl_buf_release(&json);
            return fl_error_set(err, FL_ETOOBIG, "variables of instance %llu too large",
                                (unsigned long long)id);
        }
        *json_out = fl_buf_detach(&json, NULL);
    }
    return 0;
}

/* Local variables of inst, one context per scope token (rows come ordered by scope). */
static int load_locals(struct fl_sqlite *q, struct fl_instance *inst, struct fl_error *err)
{
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_LOCALS_LOAD, err);
    struct fl_scope_vars *cur = NULL;
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)inst->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t scope = (uint64_t)sqlite3_column_int64(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        size_t name_len = (size_t)sqlite3_column_bytes(st, 1);
        const char *text = (const char *)sqlite3_column_text(st, 2);
        size_t text_len = (size_t)sqlite3_column_bytes(st, 2);
        bool typed = sqlite3_column_int(st, 3) != 0;
        struct fl_value *v = NULL;
        if (!name || !text)
            continue;
        if ((typed ? fl_value_from_json_typed(text, text_len, &v, err)
                   : fl_value_from_json(text, text_len, &v, err)) != 0) {
            sqlite3_reset(st);
            return fl_error_set(err, FL_ESTORE,
                                "instance %llu: local variable '%s' of scope %llu is not JSON",
                                (unsigned long long)inst->id, name, (unsigned long long)scope);
        }
        if (!cur || cur->scope != scope) {
            fl_grow(&inst->locals, &inst->cap_locals, inst->n_locals + 1, sizeof(*inst->locals));
            cur = &inst->locals[inst->n_locals++];
            cur->scope = scope;
            cur->vars = fl_value_context_new();
        }
        fl_value_context_set(cur->vars, name, name_len, v);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot read local variables");
    return 0;
}

/* Compensation records of inst, in order of completion. */
static int load_comps(struct fl_sqlite *q, struct fl_instance *inst, struct fl_error *err)
{
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_COMPS_LOAD, err);
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)inst->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fl_grow(&inst->comps, &inst->cap_comps, inst->n_comps + 1, sizeof(*inst->comps));
        inst->comps[inst->n_comps++] = (struct fl_compensable){
            .seq = (uint64_t)sqlite3_column_int64(st, 0),
            .token_id = (uint64_t)sqlite3_column_int64(st, 1),
            .node = (uint32_t)sqlite3_column_int64(st, 2),
            .scope = (uint64_t)sqlite3_column_int64(st, 3)};
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot read compensation records");
    return 0;
}

int fl__sq_instance_load(struct fl_store *s, uint64_t id, struct fl_instance **out,
                         struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_INST_LOAD, err);
    struct fl_instance *inst;
    int rc;
    *out = NULL;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        if (rc == SQLITE_DONE)
            return fl_error_set(err, FL_ENOTFOUND, "instance %llu not found",
                                (unsigned long long)id);
        return fl__sq_fail(q, rc, err, "cannot read instance");
    }
    inst = fl_calloc(1, sizeof(*inst));
    inst->id = id;
    inst->definition_id = (uint64_t)sqlite3_column_int64(st, 0);
    inst->business_key = fl__sq_col_text(st, 1);
    inst->status = (enum fl_instance_status)sqlite3_column_int(st, 2);
    inst->incident = sqlite3_column_int(st, 3) != 0;
    inst->started_at = sqlite3_column_int64(st, 4);
    inst->ended_at = sqlite3_column_int64(st, 5);
    inst->revision = (uint64_t)sqlite3_column_int64(st, 6);
    inst->started_by = fl__sq_col_text(st, 7);
    inst->parent_instance_id = (uint64_t)sqlite3_column_int64(st, 8);
    inst->parent_token_id = (uint64_t)sqlite3_column_int64(st, 9);
    sqlite3_reset(st);

    if (!(st = fl__sq_stmt(q, FL__SQ_TOKENS_LOAD, err))) {
        rc = FAIL_CODE(err);
        goto fail;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct fl_token *t;
        fl_grow(&inst->tokens, &inst->cap_tokens, inst->n_tokens + 1, sizeof(*t));
        t = &inst->tokens[inst->n_tokens++];
        memset(t, 0, sizeof(*t));
        t->id = (uint64_t)sqlite3_column_int64(st, 0);
        t->node = (uint32_t)sqlite3_column_int64(st, 1);
        t->flow = sqlite3_column_type(st, 2) == SQLITE_NULL ? FL_NONE
                                                            : (uint32_t)sqlite3_column_int64(st, 2);
        t->state = (uint8_t)sqlite3_column_int(st, 3);
        t->task_id = (uint64_t)sqlite3_column_int64(st, 4);
        t->job_id = (uint64_t)sqlite3_column_int64(st, 5);
        t->main_action_done = sqlite3_column_int(st, 6) != 0;
        t->scope = (uint64_t)sqlite3_column_int64(st, 7);
        t->call_id = (uint64_t)sqlite3_column_int64(st, 8);
        t->loop = (uint32_t)sqlite3_column_int64(st, 9);
        t->mi_body = sqlite3_column_int(st, 10) != 0;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        rc = fl__sq_fail(q, rc, err, "cannot read tokens");
        goto fail;
    }
    if ((rc = load_variables(q, id, &inst->variables, NULL, err)) != 0 ||
        (rc = load_locals(q, inst, err)) != 0 || (rc = load_comps(q, inst, err)) != 0 ||
        (rc = fl__sq_load_controls(q, inst, err)) != 0)
        goto fail;
    if ((rc = fl__sq_timers_load(q, inst, err)) != 0 ||
        (rc = fl__sq_subs_load(q, inst, err)) != 0)
        goto fail;
    if (inst->incident && (rc = fl__sq_incidents_load(q, inst, err)) != 0)
        goto fail;
    *out = inst;
    return 0;
fail:
    fl_instance_free(inst);
    return rc;
}

int fl__sq_max_id(struct fl_store *s, enum fl_id_kind kind, uint64_t *out, struct fl_error *err)
{
    static const enum fl__sq_stmt by_kind[] = {
        [FL_ID_INSTANCE] = FL__SQ_MAX_INSTANCE, [FL_ID_TOKEN] = FL__SQ_MAX_TOKEN,
        [FL_ID_TASK] = FL__SQ_MAX_TASK,         [FL_ID_JOB] = FL__SQ_MAX_JOB,
        [FL_ID_INCIDENT] = FL__SQ_MAX_INCIDENT, [FL_ID_TIMER] = FL__SQ_MAX_TIMER,
        [FL_ID_CONTROL] = FL__SQ_MAX_CONTROL,
    };
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st;
    int rc;
    *out = 0;
    if (kind == FL_ID_SUBSCRIPTION || kind == FL_ID_MESSAGE)
        return fl__sq_max_message_id(q, kind, out, err);
    if ((unsigned)kind >= sizeof(by_kind) / sizeof(by_kind[0]))
        return fl_error_set(err, FL_EINVAL, "unknown id kind %d", (int)kind);
    if (!(st = fl__sq_stmt(q, by_kind[kind], err)))
        return FAIL_CODE(err);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return fl__sq_fail(q, rc, err, "cannot read ids");
    if (kind == FL_ID_TOKEN || kind == FL_ID_TIMER) {
        /* Deleted tokens and fired timers leave no row: the counter remembers the highest
         * id written. */
        if (!(st = fl__sq_stmt(q, FL__SQ_COUNTER_GET, err)))
            return FAIL_CODE(err);
        sqlite3_bind_text(st, 1, kind == FL_ID_TOKEN ? "token" : "timer", -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && (uint64_t)sqlite3_column_int64(st, 0) > *out)
            *out = (uint64_t)sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return fl__sq_fail(q, rc, err, "cannot read counters");
        if (kind == FL_ID_TOKEN && q->token_hw > *out)
            *out = q->token_hw;
    }
    return 0;
}

/* ---- record-level access in SQL ----
 * The same rules as fl_access_task/fl_access_instance (src/service/auth_access.c), as fixed
 * fragments with the viewer bound as parameters: ?10 login, ?11 user id. Roles and
 * department heads come from the users tables, so a principal loaded by
 * fl_auth_principal_load sees the same rows here as through the pure functions
 * (tests/unit/test_access.c checks that on generated records). An admin viewer gets the
 * unrestricted statement. */

/* Departments the viewer heads and all below them; members: the logins of their users
 * (what fl_principal.managed_logins holds). */
#define MANAGED_CTE                                                                                \
    "WITH RECURSIVE managed(id) AS (SELECT id FROM departments WHERE head_user_id = ?11"           \
    " UNION SELECT d.id FROM departments d JOIN managed m ON d.parent_id = m.id),"                 \
    " members(login) AS (SELECT login FROM users WHERE department_id IN managed) "

/* The "owner" of instance i exactly as the rows report it (FL__SQ_OWNER_COL). */
#define OWNER_OF_I FL__SQ_OWNER_COL

/* Task t of instance i. Comma lists are matched item by item, never as substrings: instr
 * over ",list,". A department head's members reach a task as its assignee, a candidate
 * user, or who started or owns its instance; for a viewer who heads nothing the first
 * EXISTS skips those lookups. */
#define TASK_VISIBLE                                                                               \
    "((?10 <> '' AND (t.assignee = ?10"                                                            \
    " OR instr(',' || t.candidate_users || ',', ',' || ?10 || ',') > 0))"                          \
    " OR EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id"                    \
    " WHERE ur.user_id = ?11"                                                                      \
    " AND (instr(',' || t.candidate_roles || ',', ',' || r.name || ',') > 0"                       \
    " OR instr(',' || t.watch_roles || ',', ',' || r.name || ',') > 0))"                           \
    " OR (EXISTS (SELECT 1 FROM members) AND (t.assignee IN members"                               \
    " OR EXISTS (SELECT 1 FROM members mb"                                                         \
    " WHERE instr(',' || t.candidate_users || ',', ',' || mb.login || ',') > 0)"                   \
    " OR i.started_by IN members"                                                                  \
    " OR " OWNER_OF_I " IN members)))"

/* The task subquery names its table t too: the instance list has no outer t, and its i
 * is the task's instance. */
#define INSTANCE_VISIBLE                                                                           \
    " AND ((?10 <> '' AND (i.started_by = ?10 OR " OWNER_OF_I " = ?10))"                           \
    " OR (EXISTS (SELECT 1 FROM members) AND (i.started_by IN members"                             \
    " OR " OWNER_OF_I " IN members))"                                                              \
    " OR EXISTS (SELECT 1 FROM tasks t WHERE t.instance_id = i.id AND " TASK_VISIBLE "))"

#define INSTANCE_COLUMNS                                                                           \
    "SELECT i.id, i.definition_id, d.key, d.version, i.business_key, i.status, i.incident,"        \
    " i.started_at, i.ended_at, i.started_by, " FL__SQ_OWNER_COL " FROM instances i"               \
    " JOIN definitions d ON d.id = i.definition_id"

static bool restricted(const struct fl_principal *p)
{
    return p && !p->admin;
}

static void bind_viewer(sqlite3_stmt *st, const struct fl_principal *p)
{
    sqlite3_bind_text(st, 10, p->login ? p->login : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 11, (sqlite3_int64)p->user_id);
}

/* ---- instance rows ---- */

static int read_instance_row(struct fl_sqlite *q, sqlite3_stmt *st, struct fl_instance_row *r,
                             struct fl_error *err)
{
    memset(r, 0, sizeof(*r));
    r->id = (uint64_t)sqlite3_column_int64(st, 0);
    r->definition_id = (uint64_t)sqlite3_column_int64(st, 1);
    r->process_key = fl__sq_col_text(st, 2);
    r->version = sqlite3_column_int(st, 3);
    r->business_key = fl__sq_col_text(st, 4);
    r->status = sqlite3_column_int(st, 5);
    r->incident = sqlite3_column_int(st, 6) != 0;
    r->started_at = sqlite3_column_int64(st, 7);
    r->ended_at = sqlite3_column_int64(st, 8);
    r->started_by = fl__sq_col_text(st, 9);
    r->owner = fl__sq_col_text(st, 10);
    (void)q;
    (void)err;
    return 0;
}

int fl__sq_instance_get(struct fl_store *s, uint64_t id, struct fl_instance_row *out,
                        struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_INST_GET, err);
    int rc;
    memset(out, 0, sizeof(*out));
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_instance_row(q, st, out, err);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return fl_error_set(err, FL_ENOTFOUND, "instance %llu not found", (unsigned long long)id);
    if (rc != SQLITE_ROW)
        return fl__sq_fail(q, rc, err, "cannot read instance");
    if ((rc = load_variables(q, id, NULL, &out->variables_json, err)) != 0)
        fl_instance_row_release(out);
    return rc;
}

int fl__sq_instance_list(struct fl_store *s, const struct fl_instance_query *qy,
                         struct fl_instance_row **rows, size_t *n, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    struct fl_instance_query none = {0};
    struct fl_instance_row *v = NULL;
    size_t cnt = 0, cap = 0;
    unsigned variant;
    sqlite3_stmt *st;
    int rc;

    *rows = NULL;
    *n = 0;
    if (!qy)
        qy = &none;
    variant = (qy->active_only ? 1u : 0u) | (qy->process_key ? 2u : 0u) |
              (restricted(qy->viewer) ? 4u : 0u);
    if (!q->inst_list[variant]) {
        struct fl_buf sql = FL_BUF_INIT;
        if (variant & 4u)
            fl_buf_adds(&sql, MANAGED_CTE);
        fl_buf_adds(&sql, INSTANCE_COLUMNS " WHERE i.id > ?1");
        if (variant & 1u)
            fl_buf_adds(&sql, " AND i.status = 0");
        if (variant & 2u)
            fl_buf_adds(&sql, " AND d.key = ?2");
        if (variant & 4u)
            fl_buf_adds(&sql, INSTANCE_VISIBLE);
        fl_buf_adds(&sql, " ORDER BY i.id LIMIT ?3");
        st = fl__sq_prepare_slot(q, &q->inst_list[variant], sql.ptr, err);
        fl_buf_release(&sql);
    }
    if (!(st = q->inst_list[variant]))
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)qy->after_id);
    if (variant & 2u)
        sqlite3_bind_text(st, 2, qy->process_key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)clamp_limit(qy->limit));
    if (variant & 4u)
        bind_viewer(st, qy->viewer);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fl_grow(&v, &cap, cnt + 1, sizeof(*v));
        read_instance_row(q, st, &v[cnt++], err);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        rc = fl__sq_fail(q, rc, err, "cannot list instances");
        goto fail;
    }
    for (size_t i = 0; i < cnt; i++)
        if ((rc = load_variables(q, v[i].id, NULL, &v[i].variables_json, err)) != 0)
            goto fail;
    *rows = v;
    *n = cnt;
    return 0;
fail:
    fl_instance_rows_free(v, cnt);
    return rc;
}

/* ---- tasks ---- */

#define TASK_COLUMNS                                                                               \
    "SELECT t.id, t.instance_id, t.token_id, t.node_id, t.name, d.key, t.assignee,"                \
    " t.candidate_roles, t.candidate_users, t.status, t.created_at, t.due_at, t.remind_at,"        \
    " t.closed_at, t.closed_by, t.main_action_kind, t.main_action_required,"                       \
    " t.main_action_done, t.watch_roles, i.started_by, " FL__SQ_OWNER_COL                          \
    " FROM tasks t JOIN instances i ON i.id = t.instance_id"                                       \
    " JOIN definitions d ON d.id = i.definition_id"

static void read_task_row(sqlite3_stmt *st, struct fl_task_row *r)
{
    memset(r, 0, sizeof(*r));
    r->id = (uint64_t)sqlite3_column_int64(st, 0);
    r->instance_id = (uint64_t)sqlite3_column_int64(st, 1);
    r->token_id = (uint64_t)sqlite3_column_int64(st, 2);
    r->node_id = fl__sq_col_text(st, 3);
    r->name = fl__sq_col_text(st, 4);
    r->process_key = fl__sq_col_text(st, 5);
    r->assignee = fl__sq_col_text(st, 6);
    r->candidate_roles = fl__sq_col_text(st, 7);
    r->candidate_users = fl__sq_col_text(st, 8);
    r->status = sqlite3_column_int(st, 9);
    r->created_at = sqlite3_column_int64(st, 10);
    r->due_at = sqlite3_column_int64(st, 11);
    r->remind_at = sqlite3_column_int64(st, 12);
    r->closed_at = sqlite3_column_int64(st, 13);
    r->closed_by = fl__sq_col_text(st, 14);
    r->main_action_kind = fl__sq_col_text(st, 15);
    r->main_action_required = sqlite3_column_int(st, 16) != 0;
    r->main_action_done = sqlite3_column_int(st, 17) != 0;
    r->watch_roles = fl__sq_col_text(st, 18);
    r->instance_started_by = fl__sq_col_text(st, 19);
    r->instance_owner = fl__sq_col_text(st, 20);
}

int fl__sq_task_get(struct fl_store *s, uint64_t id, struct fl_task_row *out, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_TASK_GET, err);
    int rc;
    memset(out, 0, sizeof(*out));
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_task_row(st, out);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return fl_error_set(err, FL_ENOTFOUND, "task %llu not found", (unsigned long long)id);
    return fl__sq_fail(q, rc, err, "cannot read task");
}

int fl__sq_task_list(struct fl_store *s, const struct fl_task_query *qy, struct fl_task_row **rows,
                     size_t *n, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    struct fl_task_query none = {0};
    struct fl_task_row *v = NULL;
    size_t cnt = 0, cap = 0;
    unsigned variant;
    sqlite3_stmt *st;
    int rc;

    *rows = NULL;
    *n = 0;
    if (!qy)
        qy = &none;
    variant = (qy->open_only ? 1u : 0u) | (qy->role ? 2u : 0u) | (qy->assignee ? 4u : 0u) |
              (qy->instance_id ? 8u : 0u) | (restricted(qy->viewer) ? 16u : 0u);
    if (!q->task_list[variant]) {
        struct fl_buf sql = FL_BUF_INIT;
        if (variant & 16u)
            fl_buf_adds(&sql, MANAGED_CTE);
        fl_buf_adds(&sql, TASK_COLUMNS " WHERE t.id > ?1");
        if (variant & 16u)
            fl_buf_adds(&sql, " AND " TASK_VISIBLE);
        if (variant & 1u)
            fl_buf_adds(&sql, " AND t.status = 0");
        /* Roles are stored joined by commas: match a whole item, not a substring. */
        if (variant & 2u)
            fl_buf_adds(&sql, " AND instr(',' || t.candidate_roles || ',', ',' || ?2 || ',') > 0");
        if (variant & 4u)
            fl_buf_adds(&sql, " AND t.assignee = ?3");
        if (variant & 8u)
            fl_buf_adds(&sql, " AND t.instance_id = ?4");
        fl_buf_adds(&sql, " ORDER BY t.id LIMIT ?5");
        fl__sq_prepare_slot(q, &q->task_list[variant], sql.ptr, err);
        fl_buf_release(&sql);
    }
    if (!(st = q->task_list[variant]))
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)qy->after_id);
    if (variant & 2u)
        sqlite3_bind_text(st, 2, qy->role, -1, SQLITE_STATIC);
    if (variant & 4u)
        sqlite3_bind_text(st, 3, qy->assignee, -1, SQLITE_STATIC);
    if (variant & 8u)
        sqlite3_bind_int64(st, 4, (sqlite3_int64)qy->instance_id);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)clamp_limit(qy->limit));
    if (variant & 16u)
        bind_viewer(st, qy->viewer);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fl_grow(&v, &cap, cnt + 1, sizeof(*v));
        read_task_row(st, &v[cnt++]);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        fl_task_rows_free(v, cnt);
        return fl__sq_fail(q, rc, err, "cannot list tasks");
    }
    *rows = v;
    *n = cnt;
    return 0;
}

int fl__sq_job_instance(struct fl_store *s, uint64_t job_id, uint64_t *instance_id,
                        struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_JOB_INSTANCE, err);
    int rc;
    *instance_id = 0;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)job_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *instance_id = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return fl_error_set(err, FL_ENOTFOUND, "job %llu not found", (unsigned long long)job_id);
    return fl__sq_fail(q, rc, err, "cannot read job");
}

int fl__sq_history(struct fl_store *s, uint64_t instance_id, struct fl_event_row **rows, size_t *n,
                   struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_HISTORY, err);
    struct fl_event_row *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc;
    *rows = NULL;
    *n = 0;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)instance_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct fl_event_row *r;
        fl_grow(&v, &cap, cnt + 1, sizeof(*v));
        r = &v[cnt++];
        r->seq = (uint64_t)sqlite3_column_int64(st, 0);
        r->type = sqlite3_column_int(st, 1);
        r->instance_id = (uint64_t)sqlite3_column_int64(st, 2);
        r->token_id = (uint64_t)sqlite3_column_int64(st, 3);
        r->ref_id = (uint64_t)sqlite3_column_int64(st, 4);
        r->node_id = fl__sq_col_text(st, 5);
        r->actor = fl__sq_col_text(st, 6);
        r->detail = fl__sq_col_text(st, 7);
        r->at = sqlite3_column_int64(st, 8);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        fl_event_rows_free(v, cnt);
        return fl__sq_fail(q, rc, err, "cannot read history");
    }
    *rows = v;
    *n = cnt;
    return 0;
}

int fl__sq_count_open(struct fl_store *s, uint64_t *open_tasks, uint64_t *active_instances,
                      struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_COUNT_OPEN, err);
    int rc;
    *open_tasks = *active_instances = 0;
    if (!st)
        return err ? err->code : FL_ESTORE;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *open_tasks = (uint64_t)sqlite3_column_int64(st, 0);
        *active_instances = (uint64_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return fl__sq_fail(q, rc, err, "cannot count open records");
    return 0;
}

int fl__sq_idem_get(struct fl_store *s, const char *scope, struct fl_idem_row *out,
                    struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_IDEM_GET, err);
    int rc;
    memset(out, 0, sizeof(*out));
    if (!st)
        return err ? err->code : FL_ESTORE;
    fl__sq_bind_text(st, 1, scope);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *h = sqlite3_column_text(st, 0);
        const void *body = sqlite3_column_blob(st, 4);
        size_t len = (size_t)sqlite3_column_bytes(st, 4);
        out->scope = fl_strdup(scope);
        snprintf(out->body_hash, sizeof(out->body_hash), "%s", h ? (const char *)h : "");
        out->status = sqlite3_column_int(st, 1);
        out->content_type = fl__sq_col_text(st, 2);
        out->location = fl__sq_col_text(st, 3);
        out->body = fl_malloc(len + 1);
        if (len)
            memcpy(out->body, body, len);
        out->body[len] = '\0';
        out->body_len = len;
        out->created_at = sqlite3_column_int64(st, 5);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return fl_error_set(err, FL_ENOTFOUND, "no idempotency record");
    if (rc != SQLITE_ROW)
        return fl__sq_fail(q, rc, err, "cannot read idempotency record");
    return 0;
}

/* ---- the viewer filter for other files (sqlite_control.c) ---- */

const char *fl__sq_viewer_cte(void)
{
    return MANAGED_CTE;
}

const char *fl__sq_instance_visible(void)
{
    return INSTANCE_VISIBLE;
}

bool fl__sq_viewer_restricted(const struct fl_principal *p)
{
    return restricted(p);
}

void fl__sq_bind_viewer(sqlite3_stmt *st, const struct fl_principal *p)
{
    bind_viewer(st, p);
}
