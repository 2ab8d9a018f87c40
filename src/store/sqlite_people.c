/* SQLite back end, people and access: users with their roles, roles, the department tree,
 * API tokens and sessions. The store sees only hashes of secrets (the service hashes
 * passwords with argon2id and tokens/session ids with SHA-256 before they get here). Every
 * statement is a cached prepared statement from FL__SQ_PEOPLE_STMTS with bound values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "store/sqlite_int.h"

#define FAIL_CODE(err) ((err) ? (err)->code : FL_ESTORE)

static int step_done(struct fl_sqlite *q, sqlite3_stmt *st, struct fl_error *err, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, what);
    return 0;
}

/* Writes that are more than one statement run in their own transaction unless the caller
 * has one open. */
static int tx_begin(struct fl_store *s, bool *own, struct fl_error *err)
{
    *own = false;
    if (fl__sq(s)->in_tx)
        return 0;
    *own = true;
    return s->ops->begin(s, err);
}

static int tx_end(struct fl_store *s, bool own, int rc, struct fl_error *err)
{
    if (!own)
        return rc;
    if (rc == 0)
        return s->ops->commit(s, err);
    s->ops->rollback(s);
    return rc;
}

/* Id of a row found by name with statement id; FL_ENOTFOUND naming what. */
static int find_id(struct fl_sqlite *q, enum fl__sq_stmt id, const char *name, const char *what,
                   uint64_t *out, struct fl_error *err)
{
    sqlite3_stmt *st = fl__sq_stmt(q, id, err);
    int rc;
    *out = 0;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return fl_error_set(err, FL_ENOTFOUND, "%s '%s' not found", what, name);
    return fl__sq_fail(q, rc, err, "cannot look up name");
}

static int grant(struct fl_sqlite *q, uint64_t user_id, const char *role, struct fl_error *err)
{
    uint64_t role_id;
    sqlite3_stmt *st;
    int rc;
    if ((rc = find_id(q, FL__SQ_ROLE_ID, role, "role", &role_id, err)) != 0) {
        if (err)
            snprintf(err->field, sizeof(err->field), "role");
        return rc;
    }
    if (!(st = fl__sq_stmt(q, FL__SQ_USER_ROLE_INSERT, err)))
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)role_id);
    return step_done(q, st, err, "cannot grant role");
}

int fl__sq_user_add(struct fl_store *s, const struct fl_user_new *u, int64_t now_ms, uint64_t *id,
                    struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    uint64_t dept = 0, existing;
    sqlite3_stmt *st;
    bool own;
    int rc;
    *id = 0;
    if ((rc = tx_begin(s, &own, err)) != 0)
        return rc;
    /* A duplicate login is the caller's mistake, not a store failure: say so plainly. */
    rc = find_id(q, FL__SQ_USER_ID, u->login, "user", &existing, NULL);
    if (rc == 0) {
        rc = fl_error_set(err, FL_ECONFLICT, "user '%s' already exists", u->login);
        goto out;
    }
    if (u->department &&
        (rc = find_id(q, FL__SQ_DEPT_ID, u->department, "department", &dept, err)) != 0)
        goto out;
    if (!(st = fl__sq_stmt(q, FL__SQ_USER_INSERT, err))) {
        rc = FAIL_CODE(err);
        goto out;
    }
    fl__sq_bind_text(st, 1, u->login);
    fl__sq_bind_text(st, 2, u->display_name);
    fl__sq_bind_text(st, 3, u->email);
    fl__sq_bind_text(st, 4, u->password_hash);
    sqlite3_bind_int(st, 5, u->admin);
    fl__sq_bind_opt(st, 6, (int64_t)dept);
    sqlite3_bind_int64(st, 7, now_ms);
    if ((rc = step_done(q, st, err, "cannot add user")) != 0)
        goto out;
    *id = (uint64_t)sqlite3_last_insert_rowid(q->db);
    for (size_t i = 0; i < u->n_roles; i++)
        if ((rc = grant(q, *id, u->roles[i], err)) != 0)
            goto out;
out:
    rc = tx_end(s, own, rc, err);
    if (rc)
        *id = 0;
    return rc;
}

static void read_user(sqlite3_stmt *st, struct fl_user_row *r)
{
    memset(r, 0, sizeof(*r));
    r->id = (uint64_t)sqlite3_column_int64(st, 0);
    r->login = fl__sq_col_text(st, 1);
    r->display_name = fl__sq_col_text(st, 2);
    r->email = fl__sq_col_text(st, 3);
    r->password_hash = fl__sq_col_text(st, 4);
    r->disabled = sqlite3_column_int(st, 5) != 0;
    r->admin = sqlite3_column_int(st, 6) != 0;
    r->department_id = (uint64_t)sqlite3_column_int64(st, 7);
    r->department = fl__sq_col_text(st, 8);
    r->created_at = sqlite3_column_int64(st, 9);
}

static int load_roles(struct fl_sqlite *q, struct fl_user_row *r, struct fl_error *err)
{
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_USER_ROLES, err);
    size_t cap = 0;
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)r->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fl_grow(&r->roles.items, &cap, r->roles.n + 1, sizeof(char *));
        r->roles.items[r->roles.n++] = fl__sq_col_text(st, 0);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot read roles");
    return 0;
}

int fl__sq_user_get(struct fl_store *s, const char *login, uint64_t id, struct fl_user_row *out,
                    struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, login ? FL__SQ_USER_BY_LOGIN : FL__SQ_USER_BY_ID, err);
    int rc;
    memset(out, 0, sizeof(*out));
    if (!st)
        return FAIL_CODE(err);
    if (login)
        sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_user(st, out);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) {
        if (login)
            return fl_error_set(err, FL_ENOTFOUND, "user '%s' not found", login);
        return fl_error_set(err, FL_ENOTFOUND, "user %llu not found", (unsigned long long)id);
    }
    if (rc != SQLITE_ROW)
        return fl__sq_fail(q, rc, err, "cannot read user");
    if ((rc = load_roles(q, out, err)) != 0)
        fl_user_row_release(out);
    return rc;
}

int fl__sq_user_list(struct fl_store *s, struct fl_user_row **rows, size_t *n, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_USER_LIST, err);
    struct fl_user_row *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc;
    *rows = NULL;
    *n = 0;
    if (!st)
        return FAIL_CODE(err);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fl_grow(&v, &cap, cnt + 1, sizeof(*v));
        read_user(st, &v[cnt++]);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        rc = fl__sq_fail(q, rc, err, "cannot list users");
        goto fail;
    }
    for (size_t i = 0; i < cnt; i++)
        if ((rc = load_roles(q, &v[i], err)) != 0)
            goto fail;
    *rows = v;
    *n = cnt;
    return 0;
fail:
    fl_user_rows_free(v, cnt);
    return rc;
}

static int update_user(struct fl_sqlite *q, enum fl__sq_stmt id, const char *login,
                       sqlite3_stmt **out, struct fl_error *err)
{
    sqlite3_stmt *st = fl__sq_stmt(q, id, err);
    *out = st;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    return 0;
}

int fl__sq_user_set_disabled(struct fl_store *s, const char *login, bool disabled,
                             struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st;
    uint64_t uid;
    bool own;
    int rc;
    if ((rc = tx_begin(s, &own, err)) != 0)
        return rc;
    if ((rc = find_id(q, FL__SQ_USER_ID, login, "user", &uid, err)) != 0)
        goto out;
    if ((rc = update_user(q, FL__SQ_USER_SET_DISABLED, login, &st, err)) != 0)
        goto out;
    sqlite3_bind_int(st, 2, disabled);
    if ((rc = step_done(q, st, err, "cannot update user")) != 0)
        goto out;
    /* A disabled user's open sessions end now, not at their timeout. */
    if (disabled) {
        if (!(st = fl__sq_stmt(q, FL__SQ_USER_END_SESSIONS, err))) {
            rc = FAIL_CODE(err);
            goto out;
        }
        sqlite3_bind_int64(st, 1, (sqlite3_int64)uid);
        rc = step_done(q, st, err, "cannot end sessions");
    }
out:
    return tx_end(s, own, rc, err);
}

int fl__sq_user_set_password(struct fl_store *s, const char *login, const char *hash,
                             struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st;
    uint64_t uid;
    bool own;
    int rc;
    if ((rc = tx_begin(s, &own, err)) != 0)
        return rc;
    if ((rc = find_id(q, FL__SQ_USER_ID, login, "user", &uid, err)) != 0)
        goto out;
    if ((rc = update_user(q, FL__SQ_USER_SET_PASSWORD, login, &st, err)) != 0)
        goto out;
    fl__sq_bind_text(st, 2, hash);
    if ((rc = step_done(q, st, err, "cannot update user")) != 0)
        goto out;
    /* A new password ends every session opened with the old one (a stolen cookie too). */
    if (!(st = fl__sq_stmt(q, FL__SQ_USER_END_SESSIONS, err))) {
        rc = FAIL_CODE(err);
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)uid);
    rc = step_done(q, st, err, "cannot end sessions");
out:
    return tx_end(s, own, rc, err);
}

int fl__sq_role_add(struct fl_store *s, const char *name, const char *description, uint64_t *id,
                    struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st;
    uint64_t existing;
    int rc;
    *id = 0;
    if (find_id(q, FL__SQ_ROLE_ID, name, "role", &existing, NULL) == 0)
        return fl_error_set(err, FL_ECONFLICT, "role '%s' already exists", name);
    if (!(st = fl__sq_stmt(q, FL__SQ_ROLE_INSERT, err)))
        return FAIL_CODE(err);
    fl__sq_bind_text(st, 1, name);
    fl__sq_bind_text(st, 2, description);
    if ((rc = step_done(q, st, err, "cannot add role")) != 0)
        return rc;
    *id = (uint64_t)sqlite3_last_insert_rowid(q->db);
    return 0;
}

int fl__sq_role_list(struct fl_store *s, struct fl_role_row **rows, size_t *n, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_ROLE_LIST, err);
    struct fl_role_row *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc;
    *rows = NULL;
    *n = 0;
    if (!st)
        return FAIL_CODE(err);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fl_grow(&v, &cap, cnt + 1, sizeof(*v));
        v[cnt].id = (uint64_t)sqlite3_column_int64(st, 0);
        v[cnt].name = fl__sq_col_text(st, 1);
        v[cnt].description = fl__sq_col_text(st, 2);
        cnt++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        fl_role_rows_free(v, cnt);
        return fl__sq_fail(q, rc, err, "cannot list roles");
    }
    *rows = v;
    *n = cnt;
    return 0;
}

int fl__sq_user_grant_role(struct fl_store *s, const char *login, const char *role,
                           struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    uint64_t uid;
    int rc;
    if ((rc = find_id(q, FL__SQ_USER_ID, login, "user", &uid, err)) != 0)
        return rc;
    return grant(q, uid, role, err);
}

int fl__sq_department_add(struct fl_store *s, const char *name, const char *parent,
                          const char *head, uint64_t *id, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    uint64_t parent_id = 0, head_id = 0, existing;
    sqlite3_stmt *st;
    int rc;
    *id = 0;
    if (find_id(q, FL__SQ_DEPT_ID, name, "department", &existing, NULL) == 0)
        return fl_error_set(err, FL_ECONFLICT, "department '%s' already exists", name);
    if (parent && (rc = find_id(q, FL__SQ_DEPT_ID, parent, "department", &parent_id, err)) != 0)
        return rc;
    if (head && (rc = find_id(q, FL__SQ_USER_ID, head, "user", &head_id, err)) != 0)
        return rc;
    if (!(st = fl__sq_stmt(q, FL__SQ_DEPT_INSERT, err)))
        return FAIL_CODE(err);
    fl__sq_bind_text(st, 1, name);
    fl__sq_bind_opt(st, 2, (int64_t)parent_id);
    fl__sq_bind_opt(st, 3, (int64_t)head_id);
    if ((rc = step_done(q, st, err, "cannot add department")) != 0)
        return rc;
    *id = (uint64_t)sqlite3_last_insert_rowid(q->db);
    return 0;
}

int fl__sq_department_list(struct fl_store *s, struct fl_department_row **rows, size_t *n,
                           struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_DEPT_LIST, err);
    struct fl_department_row *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc;
    *rows = NULL;
    *n = 0;
    if (!st)
        return FAIL_CODE(err);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fl_grow(&v, &cap, cnt + 1, sizeof(*v));
        v[cnt].id = (uint64_t)sqlite3_column_int64(st, 0);
        v[cnt].name = fl__sq_col_text(st, 1);
        v[cnt].parent_id = (uint64_t)sqlite3_column_int64(st, 2);
        v[cnt].head_user_id = (uint64_t)sqlite3_column_int64(st, 3);
        v[cnt].head_login = fl__sq_col_text(st, 4);
        cnt++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        fl_department_rows_free(v, cnt);
        return fl__sq_fail(q, rc, err, "cannot list departments");
    }
    *rows = v;
    *n = cnt;
    return 0;
}

int fl__sq_managed_logins(struct fl_store *s, uint64_t user_id, struct fl_strlist *out,
                          struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_HEADS_ANY, err);
    size_t cap = 0;
    int rc;
    if (!st)
        return FAIL_CODE(err);
    /* Every authenticated request asks, and most users head nothing: one index probe
     * then, instead of the recursive query with its temporary tables (8 % of the
     * server's CPU under load). */
    sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return fl__sq_fail(q, rc, err, "cannot read departments");
    if (!(st = fl__sq_stmt(q, FL__SQ_MANAGED_LOGINS, err)))
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fl_grow(&out->items, &cap, out->n + 1, sizeof(char *));
        out->items[out->n++] = fl__sq_col_text(st, 0);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot read departments");
    return 0;
}

int fl__sq_token_insert(struct fl_store *s, uint64_t user_id, const char *name, int scope,
                        const char *hash, int64_t now_ms, uint64_t *id, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_TOKEN_INSERT, err);
    int rc;
    *id = 0;
    if (!st)
        return FAIL_CODE(err);
    fl__sq_bind_text(st, 1, hash);
    fl__sq_bind_text(st, 2, name);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)user_id);
    sqlite3_bind_int(st, 4, scope);
    sqlite3_bind_int64(st, 5, now_ms);
    if ((rc = step_done(q, st, err, "cannot store token")) != 0)
        return rc;
    *id = (uint64_t)sqlite3_last_insert_rowid(q->db);
    return 0;
}

static void copy_text(char *dst, size_t size, const unsigned char *src)
{
    snprintf(dst, size, "%s", src ? (const char *)src : "");
}

int fl__sq_token_find(struct fl_store *s, const char *hash, struct fl__token_rec *out,
                      struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_TOKEN_FIND, err);
    int rc;
    memset(out, 0, sizeof(*out));
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->id = (uint64_t)sqlite3_column_int64(st, 0);
        out->user_id = (uint64_t)sqlite3_column_int64(st, 1);
        out->scope = sqlite3_column_int(st, 2);
        copy_text(out->hash, sizeof(out->hash), sqlite3_column_text(st, 3));
        out->revoked_at = sqlite3_column_int64(st, 4);
        out->user_disabled = sqlite3_column_int(st, 5) != 0;
        out->last_used_at = sqlite3_column_int64(st, 6);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return fl_error_set(err, FL_ENOTFOUND, "unknown token");
    return fl__sq_fail(q, rc, err, "cannot read token");
}

int fl__sq_token_touch(struct fl_store *s, uint64_t id, int64_t now_ms, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_TOKEN_TOUCH, err);
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    sqlite3_bind_int64(st, 2, now_ms);
    return step_done(q, st, err, "cannot record token use");
}

int fl__sq_token_revoke(struct fl_store *s, uint64_t id, int64_t now_ms, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_TOKEN_REVOKE, err);
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    sqlite3_bind_int64(st, 2, now_ms);
    if ((rc = step_done(q, st, err, "cannot revoke token")) != 0)
        return rc;
    if (sqlite3_changes(q->db) != 1)
        return fl_error_set(err, FL_ENOTFOUND, "token %llu not found", (unsigned long long)id);
    return 0;
}

int fl__sq_token_list(struct fl_store *s, const char *login, struct fl_token_row **rows, size_t *n,
                      struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_TOKEN_LIST, err);
    struct fl_token_row *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc;
    *rows = NULL;
    *n = 0;
    if (!st)
        return FAIL_CODE(err);
    fl__sq_bind_text(st, 1, login);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct fl_token_row *r;
        fl_grow(&v, &cap, cnt + 1, sizeof(*v));
        r = &v[cnt++];
        r->id = (uint64_t)sqlite3_column_int64(st, 0);
        r->name = fl__sq_col_text(st, 1);
        r->user_id = (uint64_t)sqlite3_column_int64(st, 2);
        r->login = fl__sq_col_text(st, 3);
        r->scope = (enum fl_scope)sqlite3_column_int(st, 4);
        r->created_at = sqlite3_column_int64(st, 5);
        r->last_used_at = sqlite3_column_int64(st, 6);
        r->revoked_at = sqlite3_column_int64(st, 7);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        fl_token_rows_free(v, cnt);
        return fl__sq_fail(q, rc, err, "cannot list tokens");
    }
    *rows = v;
    *n = cnt;
    return 0;
}

int fl__sq_session_insert(struct fl_store *s, const struct fl__session_rec *r, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_SESSION_INSERT, err);
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_text(st, 1, r->hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)r->user_id);
    sqlite3_bind_text(st, 3, r->csrf, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, r->created_at);
    sqlite3_bind_int64(st, 5, r->last_seen_at);
    sqlite3_bind_int64(st, 6, r->expires_at);
    return step_done(q, st, err, "cannot store session");
}

int fl__sq_session_find(struct fl_store *s, const char *hash, struct fl__session_rec *out,
                        struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_SESSION_FIND, err);
    int rc;
    memset(out, 0, sizeof(*out));
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->user_id = (uint64_t)sqlite3_column_int64(st, 0);
        copy_text(out->csrf, sizeof(out->csrf), sqlite3_column_text(st, 1));
        copy_text(out->hash, sizeof(out->hash), sqlite3_column_text(st, 2));
        out->created_at = sqlite3_column_int64(st, 3);
        out->last_seen_at = sqlite3_column_int64(st, 4);
        out->expires_at = sqlite3_column_int64(st, 5);
        out->user_disabled = sqlite3_column_int(st, 6) != 0;
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return fl_error_set(err, FL_ENOTFOUND, "unknown session");
    return fl__sq_fail(q, rc, err, "cannot read session");
}

int fl__sq_session_touch(struct fl_store *s, const char *hash, int64_t now_ms, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_SESSION_TOUCH, err);
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_ms);
    return step_done(q, st, err, "cannot record session use");
}

int fl__sq_session_delete(struct fl_store *s, const char *hash, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_SESSION_DELETE, err);
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    return step_done(q, st, err, "cannot end session");
}
