/* Tasks: list with filters (mine, role, department, overdue, due before, instance), one
 * task, claim / unclaim / assign, complete with variables, and recording the stage's main
 * action. Completions and actions are engine commands through the group commit; claims
 * change only the assignee, so they run as one small transaction on the people connection
 * (check and update together). A task one may not see answers 404. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "flowd/alloc.h"

#define LIST_PAGE 500

/* Parse "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS][Z]" (UTC) into ms; false when malformed. */
static bool parse_utc(const char *s, int64_t *out)
{
    struct tm tm;
    const char *p;
    memset(&tm, 0, sizeof(tm));
    p = strptime(s, "%Y-%m-%d", &tm);
    if (!p)
        return false;
    if (*p == 'T') {
        const char *q = strptime(p + 1, "%H:%M:%S", &tm);
        if (!q)
            q = strptime(p + 1, "%H:%M", &tm);
        if (!q)
            return false;
        p = q;
        if (*p == 'Z')
            p++;
    }
    if (*p)
        return false;
    *out = (int64_t)timegm(&tm) * 1000;
    return true;
}

static bool csv_has(const char *csv, const char *item)
{
    size_t n = strlen(item);
    const char *p = csv;
    if (!csv)
        return false;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && !memcmp(p, item, n))
            return true;
        p += l;
        if (*p == ',')
            p++;
    }
    return false;
}

struct task_filter {
    bool mine, overdue;
    int64_t due_before, now;
    const char *me;
    char **dept_logins; /* department filter: logins of its members */
    size_t n_dept;
    bool by_dept;
};

static bool is(const char *login, const char *member)
{
    return login && !strcmp(login, member);
}

/* The task belongs to the department as in docs/auth.md: one of its members is the
 * assignee, a candidate user, or who started or owns the task's instance. */
static bool in_dept(const struct task_filter *f, const struct fl_task_row *t)
{
    for (size_t i = 0; i < f->n_dept; i++) {
        const char *m = f->dept_logins[i];
        if (is(t->assignee, m) || csv_has(t->candidate_users, m) ||
            is(t->instance_started_by, m) || is(t->instance_owner, m))
            return true;
    }
    return false;
}

static bool keep(const struct task_filter *f, const struct fl_task_row *t)
{
    if (f->mine &&
        !((t->assignee && !strcmp(t->assignee, f->me)) || csv_has(t->candidate_users, f->me)))
        return false;
    if (f->overdue && !(t->status == FL_TASK_OPEN && t->due_at && t->due_at < f->now))
        return false;
    if (f->due_before && !(t->due_at && t->due_at < f->due_before))
        return false;
    if (f->by_dept && !in_dept(f, t))
        return false;
    return true;
}

static int load_dept(struct api_req *r, struct fl_store *s, const char *dept, struct task_filter *f)
{
    struct fl_user_row *users = NULL;
    struct fl_error e;
    size_t n = 0;
    int rc;
    fl_error_clear(&e);
    f->by_dept = true;
    if ((rc = fl_auth_user_list(s, &users, &n, &e)) != 0)
        return api_problem(r, rc, &e), -1;
    f->dept_logins = fl_calloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        if (users[i].department && !strcmp(users[i].department, dept))
            f->dept_logins[f->n_dept++] = fl_strdup(users[i].login);
    fl_user_rows_free(users, n);
    return 0;
}

int api_task_list(struct api_req *r)
{
    struct fl_task_query q = {.open_only = true};
    struct task_filter f = {0};
    struct fl_store *s = NULL;
    struct fl_error e;
    const char *v;
    uint64_t after, last = 0;
    size_t limit, got = 0;
    bool more = false, first = true;
    int rc = 0;

    fl_error_clear(&e);
    if (api_paging(r, &after, &limit) == API_DONE)
        return API_DONE;
    f.now = fl_service_now(r->srv->svc); /* "overdue" follows a test clock too */
    f.me = r->who.login ? r->who.login : "";
    if ((v = api_query(r, "mine")))
        f.mine = !strcmp(v, "true");
    if ((v = api_query(r, "overdue")))
        f.overdue = !strcmp(v, "true");
    if ((v = api_query(r, "status")) && strcmp(v, "open") != 0) {
        if (strcmp(v, "all") != 0)
            return api_problemf(r, FL_EINVAL, "status", "'status' must be open or all");
        q.open_only = false;
    }
    if ((v = api_query(r, "due_before")) && !parse_utc(v, &f.due_before))
        return api_problemf(r, FL_EINVAL, "due_before",
                            "'due_before' must be an ISO 8601 UTC date or date-time");
    if ((v = api_query(r, "instance"))) {
        char *end;
        q.instance_id = strtoull(v, &end, 10);
        if (*end || !q.instance_id)
            return api_problemf(r, FL_EINVAL, "instance", "'instance' must be an id");
    }
    q.role = api_query(r, "role");
    q.assignee = api_query(r, "assignee");
    q.viewer = &r->who;
    if ((rc = api_reader_get(r->srv, &s, &e)) != 0)
        return api_problem(r, rc, &e);
    if ((v = api_query(r, "department")) && load_dept(r, s, v, &f) != 0)
        goto out;
    api_json_begin(r, 200);
    fl_buf_adds(&r->out, "{\"items\":[");
    /* Filters the store cannot apply run here, page by page, until the page is full. */
    q.after_id = after;
    for (;;) {
        struct fl_task_row *rows = NULL;
        size_t n = 0, i;
        q.limit = LIST_PAGE;
        if ((rc = fl_store_task_list(s, &q, &rows, &n, &e)) != 0) {
            api_problem(r, rc, &e);
            goto out;
        }
        for (i = 0; i < n && got < limit; i++) {
            q.after_id = rows[i].id;
            if (!keep(&f, &rows[i]))
                continue;
            if (!first)
                fl_buf_addc(&r->out, ',');
            first = false;
            api_json_task(&r->out, &rows[i]);
            last = rows[i].id;
            got++;
        }
        more = got == limit && (i < n || n == LIST_PAGE);
        fl_task_rows_free(rows, n);
        if (got == limit || n < LIST_PAGE)
            break;
    }
    fl_buf_adds(&r->out, "],\"next_after\":");
    if (more)
        fl_buf_addf(&r->out, "%llu", (unsigned long long)last);
    else
        fl_buf_adds(&r->out, "null");
    fl_buf_addc(&r->out, '}');
out:
    api_reader_put(r->srv, s);
    for (size_t i = 0; i < f.n_dept; i++)
        free(f.dept_logins[i]);
    free(f.dept_logins);
    return API_DONE;
}

/* Task id as the caller may see it: 0 with *acc, or -1 after writing a problem. */
static int load_task(struct api_req *r, struct fl_store *s, uint64_t id, struct fl_task_row *t,
                     enum fl_access *acc)
{
    struct fl_error e;
    int rc;
    fl_error_clear(&e);
    memset(t, 0, sizeof(*t));
    if ((rc = fl_store_task_get(s, id, t, &e)) != 0) {
        api_problem(r, rc, &e);
        return -1;
    }
    *acc = fl_access_task(&r->who, t);
    if (*acc == FL_ACCESS_NONE) {
        fl_task_row_release(t);
        api_problemf(r, FL_ENOTFOUND, NULL, "no task %llu", (unsigned long long)id);
        return -1;
    }
    return 0;
}

/* The task as the answer. acted: the caller was allowed to change it in the transaction
 * that just committed, and sees the outcome even when the change took the task out of
 * their sight (an unclaim, an assignment to someone else); the next read answers 404. */
/* The task as JSON (acted: the caller just changed it, answer even if it left their sight).
 * After a completion (opened not NULL) also "opened_task_id": the first task the command
 * opened -- the next stage, so a client needs no lookup -- or null. */
static int answer_task(struct api_req *r, uint64_t id, bool acted, const uint64_t *opened)
{
    struct fl_task_row t;
    struct fl_store *s = NULL;
    struct fl_error e;
    enum fl_access acc;
    int rc;
    fl_error_clear(&e);
    if ((rc = api_reader_get(r->srv, &s, &e)) != 0)
        return api_problem(r, rc, &e);
    if (acted) {
        memset(&t, 0, sizeof(t));
        if ((rc = fl_store_task_get(s, id, &t, &e)) != 0)
            api_problem(r, rc, &e);
    } else {
        rc = load_task(r, s, id, &t, &acc);
    }
    api_reader_put(r->srv, s);
    if (rc != 0)
        return API_DONE;
    api_json_begin(r, 200);
    api_json_task(&r->out, &t);
    fl_task_row_release(&t);
    if (opened && r->out.len > 0 && r->out.ptr[r->out.len - 1] == '}') {
        r->out.len--; /* reopen the task object for one more member */
        if (*opened)
            fl_buf_addf(&r->out, ",\"opened_task_id\":%llu}", (unsigned long long)*opened);
        else
            fl_buf_adds(&r->out, ",\"opened_task_id\":null}");
    }
    return API_DONE;
}

int api_task_get(struct api_req *r)
{
    return answer_task(r, r->id, false, NULL);
}

/* The caller must be allowed to act on the open task: 0, or -1 with a problem. */
static int require_open_write(struct api_req *r, struct fl_store *s, struct fl_task_row *t)
{
    enum fl_access acc;
    if (load_task(r, s, r->id, t, &acc) != 0)
        return -1;
    if (acc != FL_ACCESS_WRITE) {
        fl_task_row_release(t);
        api_problem_status(r, 403, "forbidden", "forbidden",
                           "you may see this task but not act on it");
        return -1;
    }
    if (t->status != FL_TASK_OPEN) {
        fl_task_row_release(t);
        api_problemf(r, FL_ECONFLICT, NULL, "task %llu is already %s", (unsigned long long)r->id,
                     t->status == FL_TASK_COMPLETED ? "completed" : "cancelled");
        return -1;
    }
    return 0;
}

enum claim_kind { CLAIM, UNCLAIM, ASSIGN };

/* Check and change the assignee in one transaction on the people connection, so two
 * claims of one task cannot both win. */
static int change_assignee(struct api_req *r, enum claim_kind kind, const char *to)
{
    struct fl_server *srv = r->srv;
    struct fl_task_row t;
    struct fl_error e;
    int rc;

    fl_error_clear(&e);
    pthread_mutex_lock(&srv->admin_lock);
    if ((rc = fl_store_begin(srv->admin, &e)) != 0) {
        pthread_mutex_unlock(&srv->admin_lock);
        return api_problem(r, rc, &e);
    }
    if (require_open_write(r, srv->admin, &t) != 0) {
        fl_store_rollback(srv->admin);
        pthread_mutex_unlock(&srv->admin_lock);
        return API_DONE;
    }
    if (kind == CLAIM && t.assignee && strcmp(t.assignee, r->who.login) != 0) {
        rc = fl_error_set(&e, FL_ECONFLICT, "task %llu is claimed by %s", (unsigned long long)r->id,
                          t.assignee);
    } else if (kind == UNCLAIM && t.assignee && strcmp(t.assignee, r->who.login) != 0 &&
               !r->who.admin && r->who.managed_logins.n == 0) {
        rc = fl_error_set(&e, FL_EREFUSED,
                          "only %s, a department head or an administrator "
                          "may unclaim this task",
                          t.assignee);
    } else if (kind == ASSIGN && !r->who.admin && r->who.managed_logins.n == 0) {
        rc = fl_error_set(&e, FL_EREFUSED,
                          "only a department head or an administrator may assign tasks");
    }
    fl_task_row_release(&t);
    if (rc == 0)
        rc = fl_store_task_set_assignee(srv->admin, r->id, to, &e);
    if (rc == 0 && r->idem_key[0]) {
        /* The answer to an Idempotency-Key commits with the change, as for commands. */
        struct fl_idem_row row;
        api_render_begin(srv->admin);
        answer_task(r, r->id, true, NULL);
        api_render_end();
        if (api_idem_row(r, &row) == 0 && (rc = fl_store_idem_put(srv->admin, &row, &e)) == 0)
            r->idem_kept = true;
    }
    if (rc == 0)
        rc = fl_store_commit(srv->admin, &e);
    else
        fl_store_rollback(srv->admin);
    pthread_mutex_unlock(&srv->admin_lock);
    if (rc != 0) {
        r->idem_kept = false;
        return api_problem(r, rc, &e);
    }
    if (r->idem_kept)
        return API_DONE;
    return answer_task(r, r->id, true, NULL);
}

int api_task_claim(struct api_req *r)
{
    static const char *const allowed[] = {NULL};
    struct fl_value *body = NULL;
    struct fl_error e;
    int rc;
    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0)
        return api_problem(r, rc, &e);
    fl_value_unref(body);
    return change_assignee(r, CLAIM, r->who.login);
}

int api_task_unclaim(struct api_req *r)
{
    static const char *const allowed[] = {NULL};
    struct fl_value *body = NULL;
    struct fl_error e;
    int rc;
    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0)
        return api_problem(r, rc, &e);
    fl_value_unref(body);
    return change_assignee(r, UNCLAIM, NULL);
}

int api_task_assign(struct api_req *r)
{
    static const char *const allowed[] = {"assignee", NULL};
    struct fl_value *body = NULL;
    struct fl_user_row u;
    struct fl_store *s = NULL;
    struct fl_error e;
    const char *to = NULL;
    char login[128];
    int rc;

    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_str(body, "assignee", &to, &e)) != 0)
        goto problem;
    if (!to) {
        rc = fl_error_set(&e, FL_EINVAL, "field 'assignee' is required");
        snprintf(e.field, sizeof(e.field), "assignee");
        goto problem;
    }
    snprintf(login, sizeof(login), "%s", to);
    fl_value_unref(body);
    body = NULL;
    memset(&u, 0, sizeof(u));
    if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
        rc = fl_auth_user_get(s, login, 0, &u, &e);
        api_reader_put(r->srv, s);
    }
    if (rc != 0) {
        snprintf(e.field, sizeof(e.field), "assignee");
        goto problem;
    }
    fl_user_row_release(&u);
    return change_assignee(r, ASSIGN, login);
problem:
    fl_value_unref(body);
    return api_problem(r, rc, &e);
}

/* After a completion or an action: the engine cannot tell a closed task from an unknown
 * one, the store can -- a task closed meanwhile (a concurrent completion) is a conflict. */
static void task_done(struct api_req *r, const struct fl_result *res, bool completion)
{
    if (res->rc == FL_ENOTFOUND) {
        struct fl_task_row t;
        struct fl_store *s = NULL;
        struct fl_error e;
        int rc = api_reader_get(r->srv, &s, &e);
        memset(&t, 0, sizeof(t));
        if (rc == 0 && fl_store_task_get(s, r->id, &t, &e) == 0) {
            bool closed = t.status != FL_TASK_OPEN;
            fl_task_row_release(&t);
            api_reader_put(r->srv, s);
            if (closed) {
                api_problemf(r, FL_ECONFLICT, NULL, "task %llu is already closed",
                             (unsigned long long)r->id);
                return;
            }
        } else {
            api_reader_put(r->srv, s);
        }
    }
    if (res->rc != 0) {
        api_problem(r, res->rc, &res->err);
        return;
    }
    answer_task(r, r->id, true, completion ? &res->task_id : NULL);
}

static void complete_done(struct api_req *r, const struct fl_result *res)
{
    task_done(r, res, true);
}

static void action_done(struct api_req *r, const struct fl_result *res)
{
    task_done(r, res, false);
}

int api_task_complete(struct api_req *r)
{
    static const char *const allowed[] = {"variables", NULL};
    struct fl_command cmd = {.kind = FL_CMD_COMPLETE_TASK};
    struct fl_value *body = NULL;
    const struct fl_value *vars = NULL;
    struct fl_task_row t;
    struct fl_store *s = NULL;
    struct fl_error e;
    int rc;

    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_obj(body, "variables", &vars, &e)) != 0)
        goto problem;
    if ((rc = api_reader_get(r->srv, &s, &e)) != 0)
        goto problem;
    rc = require_open_write(r, s, &t);
    api_reader_put(r->srv, s);
    if (rc != 0) {
        fl_value_unref(body);
        return API_DONE;
    }
    cmd.instance_id = t.instance_id;
    fl_task_row_release(&t);
    cmd.target_id = r->id;
    cmd.variables = vars;
    cmd.actor = api_actor(r);
    rc = api_submit(r, &cmd, complete_done);
    fl_value_unref(body);
    return rc;
problem:
    fl_value_unref(body);
    return api_problem(r, rc, &e);
}

int api_task_action(struct api_req *r)
{
    static const char *const allowed[] = {"kind", "ref", NULL};
    struct fl_command cmd = {.kind = FL_CMD_RECORD_ACTION};
    struct fl_value *body = NULL;
    struct fl_task_row t;
    struct fl_store *s = NULL;
    struct fl_error e;
    int rc;

    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_str(body, "kind", &cmd.action_kind, &e)) != 0 ||
        (rc = api_field_str(body, "ref", &cmd.action_ref, &e)) != 0)
        goto problem;
    if ((rc = api_reader_get(r->srv, &s, &e)) != 0)
        goto problem;
    rc = require_open_write(r, s, &t);
    api_reader_put(r->srv, s);
    if (rc != 0) {
        fl_value_unref(body);
        return API_DONE;
    }
    cmd.instance_id = t.instance_id;
    fl_task_row_release(&t);
    cmd.target_id = r->id;
    cmd.actor = api_actor(r);
    rc = api_submit(r, &cmd, action_done);
    fl_value_unref(body);
    return rc;
problem:
    fl_value_unref(body);
    return api_problem(r, rc, &e);
}
