/* API JSON to row structs for the CLI's remote mode: the inverse of the API's writers
 * (src/api/api_json.c and friends), member by member. A missing member reads as absent
 * (NULL, 0, false) so an older server still works; a member of the wrong type is an error
 * naming it, never a crash. Nested JSON (variables, event details) is re-rendered by
 * fl_value_to_json, the same codec that wrote it into the store. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli_remote.h"
#include "flowd/alloc.h"
#include "flowd/engine.h"
#include "flowd/timecalc.h"

/* A reader of one object that remembers its first error, so a row is read member after
 * member with one check at the end (as fl_buf does for appends). */
struct reader {
    const struct fl_value *o;
    int rc;
    struct fl_error *err;
};

static const struct fl_value *get(struct reader *r, const char *key)
{
    const struct fl_value *v = fl_value_context_get(r->o, key, strlen(key));
    return v && fl_value_type(v) != FL_VNULL ? v : NULL;
}

static void bad(struct reader *r, const char *key, const char *what)
{
    if (r->rc == 0) {
        r->rc = fl_error_set(r->err, FL_EINVAL, "the server's answer has a member '%s' that is %s",
                             key, what);
    }
}

static char *str(struct reader *r, const char *key)
{
    const struct fl_value *v = get(r, key);
    size_t len;
    const char *s;
    if (!v)
        return NULL;
    if (!(s = fl_value_str(v, &len))) {
        bad(r, key, "not a string");
        return NULL;
    }
    return fl_strndup(s, len);
}

static int64_t i64(struct reader *r, const char *key)
{
    const struct fl_value *v = get(r, key);
    int64_t n = 0;
    if (v && (fl_value_type(v) != FL_VNUMBER || fl_value_to_int64(v, &n) != 0))
        bad(r, key, "not an integer");
    return n;
}

static uint64_t u64(struct reader *r, const char *key)
{
    int64_t n = i64(r, key);
    if (n < 0)
        bad(r, key, "negative");
    return n < 0 ? 0 : (uint64_t)n;
}

static bool boolean(struct reader *r, const char *key)
{
    const struct fl_value *v = get(r, key);
    if (v && fl_value_type(v) != FL_VBOOL)
        bad(r, key, "not a boolean");
    return v && fl_value_is_true(v);
}

/* ISO 8601 text to ms since the epoch; 0 for null (as the store's "never"). */
static int64_t when(struct reader *r, const char *key)
{
    char *s = str(r, key);
    int64_t t = 0;
    if (s && fl_time_parse(s, &t) != 0)
        bad(r, key, "not an ISO 8601 time");
    free(s);
    return t;
}

/* Any JSON member as compact JSON text (NULL for null or absent). */
static char *raw(struct reader *r, const char *key)
{
    const struct fl_value *v = get(r, key);
    struct fl_buf b = FL_BUF_INIT;
    if (!v)
        return NULL;
    if (fl_value_to_json(v, &b) != 0) {
        fl_buf_release(&b);
        bad(r, key, "not representable as JSON");
        return NULL;
    }
    return fl_buf_detach(&b, NULL);
}

/* ["a","b"] to "a,b" as the store keeps candidate lists; NULL for an empty list. */
static char *csv(struct reader *r, const char *key)
{
    const struct fl_value *v = get(r, key);
    struct fl_buf b = FL_BUF_INIT;
    if (!v)
        return NULL;
    if (fl_value_type(v) != FL_VLIST) {
        bad(r, key, "not a list");
        return NULL;
    }
    for (size_t i = 0; i < fl_value_list_len(v); i++) {
        size_t len;
        const char *s = fl_value_str(fl_value_list_at(v, i), &len);
        if (!s) {
            bad(r, key, "not a list of strings");
            break;
        }
        if (b.len)
            fl_buf_addc(&b, ',');
        fl_buf_add(&b, s, len);
    }
    if (b.len == 0) {
        fl_buf_release(&b);
        return NULL;
    }
    return fl_buf_detach(&b, NULL);
}

static void strlist(struct reader *r, const char *key, struct fl_strlist *out)
{
    const struct fl_value *v = get(r, key);
    if (!v)
        return;
    if (fl_value_type(v) != FL_VLIST) {
        bad(r, key, "not a list");
        return;
    }
    out->items = fl_calloc(fl_value_list_len(v) + 1, sizeof(char *));
    for (size_t i = 0; i < fl_value_list_len(v); i++) {
        size_t len;
        const char *s = fl_value_str(fl_value_list_at(v, i), &len);
        if (!s) {
            bad(r, key, "not a list of strings");
            return;
        }
        out->items[out->n++] = fl_strndup(s, len);
    }
}

/* name among names[0..n) by index; -1 when none. */
static int index_of(struct reader *r, const char *key, const char *const *names, int n)
{
    char *s = str(r, key);
    int found = -1;
    for (int i = 0; s && i < n && found < 0; i++)
        if (!strcmp(s, names[i]))
            found = i;
    if (s && found < 0)
        bad(r, key, "not a known value");
    free(s);
    return found;
}

static int start(struct reader *r, const struct fl_value *o, struct fl_error *err)
{
    r->o = o;
    r->rc = 0;
    r->err = err;
    if (!o || fl_value_type(o) != FL_VCONTEXT)
        return fl_error_set(err, FL_EINVAL, "the server's answer is not the JSON object expected");
    return 0;
}

int cli_remote_id(const struct fl_value *o, const char *key, uint64_t *out, struct fl_error *err)
{
    struct reader r;
    int rc = start(&r, o, err);
    if (rc)
        return rc;
    *out = u64(&r, key);
    return r.rc;
}

int cli_remote_task(const struct fl_value *o, struct fl_task_row *t, struct fl_error *err)
{
    static const char *const status[] = {"open", "completed", "cancelled"};
    static const int status_code[] = {FL_TASK_OPEN, FL_TASK_COMPLETED, FL_TASK_CANCELLED};
    struct reader r, ma;
    const struct fl_value *action;
    int rc = start(&r, o, err), k;

    memset(t, 0, sizeof(*t));
    if (rc)
        return rc;
    t->id = u64(&r, "id");
    t->instance_id = u64(&r, "instance_id");
    t->process_key = str(&r, "process_key");
    t->node_id = str(&r, "node_id");
    t->name = str(&r, "name");
    k = index_of(&r, "status", status, 3);
    t->status = k < 0 ? -1 : status_code[k];
    t->assignee = str(&r, "assignee");
    t->candidate_roles = csv(&r, "candidate_roles");
    t->candidate_users = csv(&r, "candidate_users");
    t->created_at = when(&r, "created_at");
    t->due_at = when(&r, "due_at");
    t->remind_at = when(&r, "remind_at");
    t->closed_at = when(&r, "closed_at");
    t->closed_by = str(&r, "closed_by");
    /* The API always writes main_action; its kind is null when the stage has none. */
    if ((action = get(&r, "main_action"))) {
        if (fl_value_type(action) != FL_VCONTEXT) {
            bad(&r, "main_action", "not an object");
        } else if (r.rc == 0 && start(&ma, action, err) == 0) {
            t->main_action_kind = str(&ma, "kind");
            t->main_action_required = boolean(&ma, "required");
            t->main_action_done = boolean(&ma, "done");
            r.rc = ma.rc;
        }
    }
    if (r.rc)
        fl_task_row_release(t);
    return r.rc;
}

int cli_remote_instance(const struct fl_value *o, struct fl_instance_row *i, struct fl_error *err)
{
    static const char *const status[] = {"active", "completed", "cancelled"};
    static const int status_code[] = {FL_INSTANCE_ACTIVE, FL_INSTANCE_COMPLETED,
                                      FL_INSTANCE_CANCELLED};
    struct reader r;
    int rc = start(&r, o, err), k;

    memset(i, 0, sizeof(*i));
    if (rc)
        return rc;
    i->id = u64(&r, "id");
    i->definition_id = u64(&r, "definition_id");
    i->process_key = str(&r, "process_key");
    i->version = (int32_t)i64(&r, "version");
    i->business_key = str(&r, "business_key");
    k = index_of(&r, "status", status, 3);
    i->status = k < 0 ? -1 : status_code[k];
    i->incident = boolean(&r, "incident");
    i->started_at = when(&r, "started_at");
    i->ended_at = when(&r, "ended_at");
    i->variables_json = raw(&r, "variables");
    i->started_by = str(&r, "started_by");
    if (r.rc)
        fl_instance_row_release(i);
    return r.rc;
}

int cli_remote_event(const struct fl_value *o, struct fl_event_row *e, struct fl_error *err)
{
    struct reader r;
    char *type;
    int rc = start(&r, o, err);

    memset(e, 0, sizeof(*e));
    if (rc)
        return rc;
    e->seq = u64(&r, "seq");
    e->type = -1;
    if ((type = str(&r, "type"))) {
        for (int t = 0; t < FL__EV_COUNT; t++)
            if (!strcmp(type, fl_event_type_name((enum fl_event_type)t)))
                e->type = t;
        free(type);
    }
    e->token_id = u64(&r, "token_id");
    e->ref_id = u64(&r, "ref_id");
    e->node_id = str(&r, "node_id");
    e->actor = str(&r, "actor");
    e->detail = raw(&r, "detail");
    e->at = when(&r, "at");
    if (r.rc) {
        free(e->node_id);
        free(e->actor);
        free(e->detail);
        memset(e, 0, sizeof(*e));
    }
    return r.rc;
}

int cli_remote_definition(const struct fl_value *o, struct fl_definition_row *d,
                          struct fl_error *err)
{
    struct reader r;
    char *sum;
    int rc = start(&r, o, err);

    memset(d, 0, sizeof(*d));
    if (rc)
        return rc;
    d->id = u64(&r, "definition_id");
    d->key = str(&r, "key");
    d->version = (int32_t)i64(&r, "version");
    d->name = str(&r, "name");
    if ((sum = str(&r, "checksum"))) {
        snprintf(d->checksum, sizeof(d->checksum), "%s", sum);
        free(sum);
    }
    d->deployed_at = when(&r, "deployed_at");
    if (r.rc)
        fl_definition_row_release(d);
    return r.rc;
}

int cli_remote_user(const struct fl_value *o, struct fl_user_row *u, struct fl_error *err)
{
    struct reader r;
    int rc = start(&r, o, err);

    memset(u, 0, sizeof(*u));
    if (rc)
        return rc;
    u->id = u64(&r, "id");
    u->login = str(&r, "login");
    u->display_name = str(&r, "display_name");
    u->email = str(&r, "email");
    u->admin = boolean(&r, "admin");
    u->disabled = boolean(&r, "disabled");
    u->department = str(&r, "department");
    strlist(&r, "roles", &u->roles);
    u->created_at = when(&r, "created_at");
    if (r.rc)
        fl_user_row_release(u);
    return r.rc;
}

int cli_remote_role(const struct fl_value *o, struct fl_role_row *row, struct fl_error *err)
{
    struct reader r;
    int rc = start(&r, o, err);

    memset(row, 0, sizeof(*row));
    if (rc)
        return rc;
    row->id = u64(&r, "id");
    row->name = str(&r, "name");
    row->description = str(&r, "description");
    if (r.rc) {
        free(row->name);
        free(row->description);
        memset(row, 0, sizeof(*row));
    }
    return r.rc;
}

int cli_remote_department(const struct fl_value *o, struct fl_department_row *d,
                          struct fl_error *err)
{
    struct reader r;
    int rc = start(&r, o, err);

    memset(d, 0, sizeof(*d));
    if (rc)
        return rc;
    d->id = u64(&r, "id");
    d->name = str(&r, "name");
    d->parent_id = u64(&r, "parent_id");
    d->head_login = str(&r, "head");
    if (r.rc) {
        free(d->name);
        free(d->head_login);
        memset(d, 0, sizeof(*d));
    }
    return r.rc;
}

int cli_remote_token(const struct fl_value *o, struct fl_token_row *t, struct fl_error *err)
{
    struct reader r;
    char *scope;
    int rc = start(&r, o, err);

    memset(t, 0, sizeof(*t));
    if (rc)
        return rc;
    t->id = u64(&r, "id");
    t->name = str(&r, "name");
    t->login = str(&r, "user");
    if ((scope = str(&r, "scope"))) {
        if (fl_scope_parse(scope, &t->scope) != 0)
            bad(&r, "scope", "not one of read, write, admin");
        free(scope);
    }
    t->created_at = when(&r, "created_at");
    t->last_used_at = when(&r, "last_used_at");
    t->revoked_at = when(&r, "revoked_at");
    if (r.rc) {
        free(t->name);
        free(t->login);
        memset(t, 0, sizeof(*t));
    }
    return r.rc;
}

int cli_remote_control(const struct fl_value *o, struct fl_control_row *c, struct fl_error *err)
{
    struct reader r;
    int rc = start(&r, o, err);

    memset(c, 0, sizeof(*c));
    if (rc)
        return rc;
    c->id = u64(&r, "id");
    c->instance_id = u64(&r, "instance_id");
    c->name = str(&r, "name");
    c->process_key = str(&r, "process_key");
    c->business_key = str(&r, "business_key");
    c->due_at = when(&r, "due_at");
    c->remind_at = when(&r, "remind_at");
    c->set_at = when(&r, "set_at");
    c->done_at = when(&r, "done_at");
    if (r.rc) {
        free(c->name);
        free(c->process_key);
        free(c->business_key);
        memset(c, 0, sizeof(*c));
    }
    return r.rc;
}
