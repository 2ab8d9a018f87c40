/* SQLite back end, time: pending timers (written from TIMER_SET/DEL effects, loaded with
 * their instance, listed in due order for the scheduler), and the notifications inbox
 * (NOTIFY effects resolved to users: a user, the active holders of a role, the head of a
 * user's department). Timer rows are deleted when they fire, so the highest timer id is
 * kept in the counters table and an id is never handed out again. */
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

/* Forget the users told, keeping the array for the next notification. */
static void clear_notified(struct fl_sqlite *q)
{
    for (size_t i = 0; i < q->notified.n; i++)
        free(q->notified.items[i]);
    q->notified.n = 0;
}

void fl__sq_timer_apply_begin(struct fl_sqlite *q)
{
    clear_notified(q);
    q->notify_last = NULL;
    q->timer_max = 0;
}

void fl__sq_timer_release(struct fl_sqlite *q)
{
    fl_strlist_release(&q->notified); /* frees the array too */
    q->cap_notified = 0;
}

int fl__sq_timer_apply_end(struct fl_sqlite *q, struct fl_error *err)
{
    sqlite3_stmt *st;
    q->notify_last = NULL;
    if (!q->timer_max)
        return 0;
    if (!(st = fl__sq_stmt(q, FL__SQ_COUNTER_RAISE, err)))
        return FAIL_CODE(err);
    sqlite3_bind_text(st, 1, "timer", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)q->timer_max);
    return step_done(q, st, err, "cannot record timer id");
}

static int put_timer(struct fl_sqlite *q, const struct fl_instance *inst, const struct fl_timer *t,
                     struct fl_error *err)
{
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_TIMER_UPSERT, err);
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)t->id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)(t->instance_id ? t->instance_id : inst->id));
    fl__sq_bind_opt(st, 3, (int64_t)t->token_id);
    fl__sq_bind_opt(st, 4, (int64_t)t->ref_id);
    if (t->node == FL_NONE)
        sqlite3_bind_null(st, 5);
    else
        sqlite3_bind_int64(st, 5, t->node);
    sqlite3_bind_int(st, 6, t->kind);
    sqlite3_bind_int(st, 7, t->level);
    sqlite3_bind_int64(st, 8, t->repeat);
    sqlite3_bind_int64(st, 9, t->due_at);
    fl__sq_bind_opt(st, 10, t->base_at);
    if (t->id > q->timer_max)
        q->timer_max = t->id;
    return step_done(q, st, err, "cannot write timer");
}

/* Same subject as the previous NOTIFY of this apply: then users told already are skipped. */
static bool same_subject(const struct fl_notify *a, const struct fl_notify *b)
{
    return a && b && a->instance_id == b->instance_id && a->task_id == b->task_id &&
           a->control_id == b->control_id && a->at == b->at &&
           !strcmp(a->kind ? a->kind : "", b->kind ? b->kind : "") &&
           !strcmp(a->message ? a->message : "", b->message ? b->message : "");
}

/* Insert the notification for login unless that user was told already. */
static int notify_user(struct fl_sqlite *q, const struct fl_notify *n, const char *login,
                       struct fl_error *err)
{
    sqlite3_stmt *st;
    for (size_t i = 0; i < q->notified.n; i++)
        if (!strcmp(q->notified.items[i], login))
            return 0;
    fl_grow(&q->notified.items, &q->cap_notified, q->notified.n + 1, sizeof(char *));
    q->notified.items[q->notified.n++] = fl_strdup(login);
    if (!(st = fl__sq_stmt(q, FL__SQ_NOTIFY_INSERT, err)))
        return FAIL_CODE(err);
    sqlite3_bind_text(st, 1, login, -1, SQLITE_TRANSIENT);
    fl__sq_bind_text(st, 2, n->kind ? n->kind : "notice");
    fl__sq_bind_opt(st, 3, (int64_t)n->instance_id);
    fl__sq_bind_opt(st, 4, (int64_t)n->task_id);
    fl__sq_bind_opt(st, 5, (int64_t)n->control_id);
    fl__sq_bind_text(st, 6, n->node_id);
    fl__sq_bind_text(st, 7, n->message ? n->message : "");
    sqlite3_bind_int64(st, 8, n->at);
    return step_done(q, st, err, "cannot write notification");
}

/* Logins a query with one text parameter returns (first column), into out (appended). */
static int query_logins(struct fl_sqlite *q, enum fl__sq_stmt id, const char *arg,
                        struct fl_strlist *out, size_t *cap, struct fl_error *err)
{
    sqlite3_stmt *st = fl__sq_stmt(q, id, err);
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *login = (const char *)sqlite3_column_text(st, 0);
        if (!login)
            continue;
        fl_grow(&out->items, cap, out->n + 1, sizeof(char *));
        out->items[out->n++] = fl_strdup(login);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot resolve notification addressees");
    return 0;
}

static void add_login(struct fl_strlist *to, size_t *cap, const char *login, size_t len)
{
    if (!len)
        return;
    fl_grow(&to->items, cap, to->n + 1, sizeof(char *));
    to->items[to->n++] = fl_strndup(login, len);
}

/* Is login a known user who is disabled? (A login with no user record is still an
 * address: stores without people records name assignees freely.) */
static int is_disabled(struct fl_sqlite *q, const char *login, bool *out, struct fl_error *err)
{
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_NOTIFY_USER_DISABLED, err);
    int rc;
    *out = false;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_text(st, 1, login, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0) != 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot resolve notification addressees");
    return 0;
}

/* Split a comma list (a task's candidates) into logins, or run each role through the
 * role query. */
static int add_csv(struct fl_sqlite *q, const char *csv, bool roles, struct fl_strlist *to,
                   size_t *cap, struct fl_error *err);

/* The people of task id as the store has them now: the assignee (want_head: the head of
 * the assignee's department), or when unassigned its candidate users and roles. */
static int task_people(struct fl_sqlite *q, uint64_t id, bool want_head, struct fl_strlist *to,
                       size_t *cap, struct fl_error *err);

static int put_notify(struct fl_sqlite *q, const struct fl_notify *n, struct fl_error *err)
{
    struct fl_strlist to = {0};
    size_t cap = 0;
    int rc = 0;

    if (!same_subject(q->notify_last, n))
        clear_notified(q);
    q->notify_last = n;
    if (n->to_user && *n->to_user)
        add_login(&to, &cap, n->to_user, strlen(n->to_user));
    if (n->to_role && *n->to_role &&
        (rc = query_logins(q, FL__SQ_NOTIFY_ROLE_USERS, n->to_role, &to, &cap, err)) != 0)
        goto out;
    if (n->to_head_of && *n->to_head_of &&
        (rc = query_logins(q, FL__SQ_NOTIFY_HEAD_OF, n->to_head_of, &to, &cap, err)) != 0)
        goto out;
    if ((n->to_assignee || n->to_assignee_head) && n->task_id) {
        if (n->to_assignee && (rc = task_people(q, n->task_id, false, &to, &cap, err)) != 0)
            goto out;
        if (n->to_assignee_head && (rc = task_people(q, n->task_id, true, &to, &cap, err)) != 0)
            goto out;
    }
    for (size_t i = 0; i < to.n && rc == 0; i++) {
        bool disabled;
        /* Role and head queries return active users only; named users are checked here. */
        if ((rc = is_disabled(q, to.items[i], &disabled, err)) == 0 && !disabled)
            rc = notify_user(q, n, to.items[i], err);
    }
out:
    fl_strlist_release(&to);
    return rc;
}

static int add_csv(struct fl_sqlite *q, const char *csv, bool roles, struct fl_strlist *to,
                   size_t *cap, struct fl_error *err)
{
    const char *p = csv;
    int rc = 0;
    while (p && *p && rc == 0) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (!roles) {
            add_login(to, cap, p, len);
        } else if (len) {
            char *role = fl_strndup(p, len);
            rc = query_logins(q, FL__SQ_NOTIFY_ROLE_USERS, role, to, cap, err);
            free(role);
        }
        p = e ? e + 1 : NULL;
    }
    return rc;
}

static int task_people(struct fl_sqlite *q, uint64_t id, bool want_head, struct fl_strlist *to,
                       size_t *cap, struct fl_error *err)
{
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_NOTIFY_TASK_PEOPLE, err);
    char *assignee = NULL, *users = NULL, *roles = NULL;
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        assignee = fl__sq_col_text(st, 0);
        users = fl__sq_col_text(st, 1);
        roles = fl__sq_col_text(st, 2);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot resolve notification addressees");
    rc = 0;
    if (assignee && *assignee) {
        if (want_head)
            rc = query_logins(q, FL__SQ_NOTIFY_HEAD_OF, assignee, to, cap, err);
        else
            add_login(to, cap, assignee, strlen(assignee));
    } else if (!want_head) {
        if ((rc = add_csv(q, users, false, to, cap, err)) == 0)
            rc = add_csv(q, roles, true, to, cap, err);
    }
    free(assignee);
    free(users);
    free(roles);
    return rc;
}

int fl__sq_timer_effect(struct fl_sqlite *q, const struct fl_instance *inst,
                        const struct fl_effect *fx, struct fl_error *err)
{
    sqlite3_stmt *st;
    switch (fx->kind) {
    case FL_FX_TIMER_SET:
        return put_timer(q, inst, &fx->u.timer, err);
    case FL_FX_TIMER_DEL:
        if (!(st = fl__sq_stmt(q, FL__SQ_TIMER_DEL, err)))
            return FAIL_CODE(err);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)fx->u.timer.id);
        return step_done(q, st, err, "cannot delete timer");
    case FL_FX_NOTIFY:
        return put_notify(q, &fx->u.notify, err);
    default:
        return fl_error_set(err, FL_EINTERNAL, "unknown effect kind %d", (int)fx->kind);
    }
}

int fl__sq_timers_load(struct fl_sqlite *q, struct fl_instance *inst, struct fl_error *err)
{
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_TIMERS_LOAD, err);
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)inst->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct fl_timer *t;
        fl_grow(&inst->timers, &inst->cap_timers, inst->n_timers + 1, sizeof(*t));
        t = &inst->timers[inst->n_timers++];
        memset(t, 0, sizeof(*t));
        t->id = (uint64_t)sqlite3_column_int64(st, 0);
        t->instance_id = inst->id;
        t->token_id = (uint64_t)sqlite3_column_int64(st, 1);
        t->ref_id = (uint64_t)sqlite3_column_int64(st, 2);
        t->node = sqlite3_column_type(st, 3) == SQLITE_NULL ? FL_NONE
                                                            : (uint32_t)sqlite3_column_int64(st, 3);
        t->kind = (uint8_t)sqlite3_column_int(st, 4);
        t->level = (uint16_t)sqlite3_column_int(st, 5);
        t->repeat = (uint32_t)sqlite3_column_int64(st, 6);
        t->due_at = sqlite3_column_int64(st, 7);
        t->base_at = sqlite3_column_int64(st, 8);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot read timers");
    return 0;
}

int fl__sq_timers_due(struct fl_store *s, int64_t after_due, uint64_t after_id,
                      struct fl_timer_due *rows, size_t max, size_t *n, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_TIMERS_DUE, err);
    int rc;
    *n = 0;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, after_due);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)after_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
        rows[*n].id = (uint64_t)sqlite3_column_int64(st, 0);
        rows[*n].instance_id = (uint64_t)sqlite3_column_int64(st, 1);
        rows[*n].due_at = sqlite3_column_int64(st, 2);
        (*n)++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return fl__sq_fail(q, rc, err, "cannot read pending timers");
    return 0;
}

int fl__sq_timer_count(struct fl_store *s, uint64_t *n, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_TIMER_COUNT, err);
    int rc;
    *n = 0;
    if (!st)
        return FAIL_CODE(err);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return fl__sq_fail(q, rc, err, "cannot count timers");
    return 0;
}

int fl__sq_notification_list(struct fl_store *s, const struct fl_notification_query *qy,
                             struct fl_notification_row **rows, size_t *n, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st =
        fl__sq_stmt(q, qy->unread_only ? FL__SQ_NOTIF_LIST_UNREAD : FL__SQ_NOTIF_LIST, err);
    size_t limit = qy->limit ? qy->limit : FL__STORE_LIST_LIMIT, cap = 0;
    int rc;
    *rows = NULL;
    *n = 0;
    if (limit > FL__STORE_LIST_MAX)
        limit = FL__STORE_LIST_MAX;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_text(st, 1, qy->user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)qy->after_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct fl_notification_row *r;
        fl_grow(rows, &cap, *n + 1, sizeof(**rows));
        r = &(*rows)[(*n)++];
        r->id = (uint64_t)sqlite3_column_int64(st, 0);
        r->user = fl__sq_col_text(st, 1);
        r->kind = fl__sq_col_text(st, 2);
        r->instance_id = (uint64_t)sqlite3_column_int64(st, 3);
        r->task_id = (uint64_t)sqlite3_column_int64(st, 4);
        r->control_id = (uint64_t)sqlite3_column_int64(st, 5);
        r->node_id = fl__sq_col_text(st, 6);
        r->message = fl__sq_col_text(st, 7);
        r->created_at = sqlite3_column_int64(st, 8);
        r->read_at = sqlite3_column_int64(st, 9);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        fl_notification_rows_free(*rows, *n);
        *rows = NULL;
        *n = 0;
        return fl__sq_fail(q, rc, err, "cannot list notifications");
    }
    return 0;
}

int fl__sq_notification_read(struct fl_store *s, const char *user, uint64_t id, int64_t now_ms,
                             struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_NOTIF_READ, err);
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    if ((rc = step_done(q, st, err, "cannot mark notification read")) != 0)
        return rc;
    /* Another user's notification answers as a missing one: its existence is not theirs
     * to learn. */
    if (sqlite3_changes(q->db) != 1)
        return fl_error_set(err, FL_ENOTFOUND, "no notification %llu", (unsigned long long)id);
    return 0;
}
