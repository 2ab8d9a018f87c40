/* Thin routes over the people records of flowd/auth.h: users, roles, departments (a tree
 * with heads) and API tokens. All of them are administrator routes; the records are
 * written on the people connection under its lock, outside the engine's group commit. */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "flowd/alloc.h"

#define MAX_ROLES 64

static int64_t now_ms(void)
{
    return api_now_us() / 1000;
}

static void strlist_json(struct fl_buf *b, const struct fl_strlist *l)
{
    fl_buf_addc(b, '[');
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            fl_buf_addc(b, ',');
        fl_json_cstring(b, l->items[i]);
    }
    fl_buf_addc(b, ']');
}

static void user_json(struct fl_buf *b, const struct fl_user_row *u)
{
    bool f = true;
    fl_buf_addc(b, '{');
    api_jkey(b, &f, "id");
    fl_buf_addf(b, "%llu", (unsigned long long)u->id);
    api_jkey(b, &f, "login");
    fl_json_cstring(b, u->login);
    api_jkey(b, &f, "display_name");
    fl_json_cstring(b, u->display_name);
    api_jkey(b, &f, "email");
    fl_json_cstring(b, u->email);
    api_jkey(b, &f, "admin");
    fl_buf_adds(b, u->admin ? "true" : "false");
    api_jkey(b, &f, "disabled");
    fl_buf_adds(b, u->disabled ? "true" : "false");
    api_jkey(b, &f, "department");
    fl_json_cstring(b, u->department);
    api_jkey(b, &f, "roles");
    strlist_json(b, &u->roles);
    api_jkey(b, &f, "created_at");
    api_jtime(b, u->created_at);
    fl_buf_addc(b, '}');
}

int api_user_list(struct api_req *r)
{
    struct fl_user_row *rows = NULL;
    struct fl_store *s = NULL;
    struct fl_error e;
    size_t n = 0;
    int rc;
    fl_error_clear(&e);
    if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
        rc = fl_auth_user_list(s, &rows, &n, &e);
        api_reader_put(r->srv, s);
    }
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, 200);
    fl_buf_adds(&r->out, "{\"items\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            fl_buf_addc(&r->out, ',');
        user_json(&r->out, &rows[i]);
    }
    fl_buf_adds(&r->out, "]}");
    fl_user_rows_free(rows, n);
    return API_DONE;
}

int api_user_add(struct api_req *r)
{
    static const char *const allowed[] = {"login", "password",   "display_name", "email",
                                          "admin", "department", "roles",        NULL};
    struct fl_user_new u = {0};
    struct fl_value *body = NULL;
    const struct fl_value *v;
    const char *roles[MAX_ROLES], *password = NULL;
    struct fl_user_row row;
    struct fl_error e;
    char *hash = NULL;
    uint64_t id = 0;
    int rc;

    fl_error_clear(&e);
    memset(&row, 0, sizeof(row));
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_str(body, "login", &u.login, &e)) != 0 ||
        (rc = api_field_str(body, "password", &password, &e)) != 0 ||
        (rc = api_field_str(body, "display_name", &u.display_name, &e)) != 0 ||
        (rc = api_field_str(body, "email", &u.email, &e)) != 0 ||
        (rc = api_field_str(body, "department", &u.department, &e)) != 0)
        goto problem;
    if (!u.login) {
        rc = fl_error_set(&e, FL_EINVAL, "field 'login' is required");
        snprintf(e.field, sizeof(e.field), "login");
        goto problem;
    }
    if ((v = fl_value_context_get(body, "admin", 5)) && fl_value_type(v) != FL_VNULL) {
        if (fl_value_type(v) != FL_VBOOL) {
            rc = fl_error_set(&e, FL_ETYPE, "field 'admin' must be a boolean");
            snprintf(e.field, sizeof(e.field), "admin");
            goto problem;
        }
        u.admin = fl_value_is_true(v);
    }
    if ((v = fl_value_context_get(body, "roles", 5)) && fl_value_type(v) != FL_VNULL) {
        if (fl_value_type(v) != FL_VLIST || fl_value_list_len(v) > MAX_ROLES) {
            rc = fl_error_set(&e, FL_ETYPE, "field 'roles' must be a list of role names");
            snprintf(e.field, sizeof(e.field), "roles");
            goto problem;
        }
        for (size_t i = 0; i < fl_value_list_len(v); i++) {
            if (!(roles[i] = fl_value_str(fl_value_list_at(v, i), NULL))) {
                rc = fl_error_set(&e, FL_ETYPE, "field 'roles' must be a list of role names");
                snprintf(e.field, sizeof(e.field), "roles");
                goto problem;
            }
        }
        u.roles = roles;
        u.n_roles = fl_value_list_len(v);
    }
    if (password && (rc = fl_password_hash(password, NULL, &hash, &e)) != 0) {
        snprintf(e.field, sizeof(e.field), "password");
        goto problem;
    }
    u.password_hash = hash;
    pthread_mutex_lock(&r->srv->admin_lock);
    rc = fl_auth_user_add(r->srv->admin, &u, now_ms(), &id, &e);
    if (rc == 0)
        rc = fl_auth_user_get(r->srv->admin, NULL, id, &row, &e);
    pthread_mutex_unlock(&r->srv->admin_lock);
    if (rc != 0)
        goto problem;
    api_json_begin(r, 201);
    user_json(&r->out, &row);
    snprintf(r->location, sizeof(r->location), "/api/v1/users/%s", row.login);
    fl_user_row_release(&row);
    free(hash);
    fl_value_unref(body);
    return API_DONE;
problem:
    free(hash);
    fl_value_unref(body);
    return api_problem(r, rc, &e);
}

/* The user {key} as the answer (200), after a change on the people connection. */
static int answer_user(struct api_req *r, const char *login)
{
    struct fl_user_row row;
    struct fl_error e;
    int rc;
    fl_error_clear(&e);
    memset(&row, 0, sizeof(row));
    pthread_mutex_lock(&r->srv->admin_lock);
    rc = fl_auth_user_get(r->srv->admin, login, 0, &row, &e);
    pthread_mutex_unlock(&r->srv->admin_lock);
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, 200);
    user_json(&r->out, &row);
    fl_user_row_release(&row);
    return API_DONE;
}

/* POST /api/v1/users/{key}/password {password}: a new password; the store ends the
 * user's sessions with it (as `flowd user passwd`). */
int api_user_password(struct api_req *r)
{
    static const char *const allowed[] = {"password", NULL};
    struct fl_value *body = NULL;
    const char *password = NULL;
    struct fl_error e;
    char *hash = NULL;
    int rc;

    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_str(body, "password", &password, &e)) != 0)
        goto problem;
    if (!password) {
        rc = fl_error_set(&e, FL_EINVAL, "field 'password' is required");
        snprintf(e.field, sizeof(e.field), "password");
        goto problem;
    }
    if ((rc = fl_password_hash(password, NULL, &hash, &e)) != 0) {
        snprintf(e.field, sizeof(e.field), "password");
        goto problem;
    }
    pthread_mutex_lock(&r->srv->admin_lock);
    rc = fl_auth_user_set_password(r->srv->admin, r->param[0], hash, &e);
    pthread_mutex_unlock(&r->srv->admin_lock);
    if (rc != 0)
        goto problem;
    free(hash);
    fl_value_unref(body);
    return answer_user(r, r->param[0]);
problem:
    free(hash);
    fl_value_unref(body);
    return api_problem(r, rc, &e);
}

static int set_disabled(struct api_req *r, bool disabled)
{
    static const char *const allowed[] = {NULL};
    struct fl_value *body = NULL;
    struct fl_error e;
    int rc;

    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0)
        return api_problem(r, rc, &e);
    fl_value_unref(body);
    pthread_mutex_lock(&r->srv->admin_lock);
    rc = fl_auth_user_set_disabled(r->srv->admin, r->param[0], disabled, &e);
    pthread_mutex_unlock(&r->srv->admin_lock);
    if (rc != 0)
        return api_problem(r, rc, &e);
    return answer_user(r, r->param[0]);
}

/* POST /api/v1/users/{key}/disable: no login, tokens refused, sessions ended. */
int api_user_disable(struct api_req *r)
{
    return set_disabled(r, true);
}

/* POST /api/v1/users/{key}/enable */
int api_user_enable(struct api_req *r)
{
    return set_disabled(r, false);
}

int api_role_list(struct api_req *r)
{
    struct fl_role_row *rows = NULL;
    struct fl_store *s = NULL;
    struct fl_error e;
    size_t n = 0;
    int rc;
    fl_error_clear(&e);
    if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
        rc = fl_auth_role_list(s, &rows, &n, &e);
        api_reader_put(r->srv, s);
    }
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, 200);
    fl_buf_adds(&r->out, "{\"items\":[");
    for (size_t i = 0; i < n; i++) {
        fl_buf_addf(&r->out, "%s{\"id\":%llu,\"name\":", i ? "," : "",
                    (unsigned long long)rows[i].id);
        fl_json_cstring(&r->out, rows[i].name);
        fl_buf_adds(&r->out, ",\"description\":");
        fl_json_cstring(&r->out, rows[i].description);
        fl_buf_addc(&r->out, '}');
    }
    fl_buf_adds(&r->out, "]}");
    fl_role_rows_free(rows, n);
    return API_DONE;
}

int api_role_add(struct api_req *r)
{
    static const char *const allowed[] = {"name", "description", NULL};
    struct fl_value *body = NULL;
    const char *name = NULL, *desc = NULL;
    struct fl_error e;
    uint64_t id = 0;
    int rc;
    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_str(body, "name", &name, &e)) != 0 ||
        (rc = api_field_str(body, "description", &desc, &e)) != 0)
        goto problem;
    if (!name) {
        rc = fl_error_set(&e, FL_EINVAL, "field 'name' is required");
        snprintf(e.field, sizeof(e.field), "name");
        goto problem;
    }
    pthread_mutex_lock(&r->srv->admin_lock);
    rc = fl_auth_role_add(r->srv->admin, name, desc, &id, &e);
    pthread_mutex_unlock(&r->srv->admin_lock);
    if (rc != 0)
        goto problem;
    api_json_begin(r, 201);
    fl_buf_addf(&r->out, "{\"id\":%llu,\"name\":", (unsigned long long)id);
    fl_json_cstring(&r->out, name);
    fl_buf_adds(&r->out, ",\"description\":");
    fl_json_cstring(&r->out, desc);
    fl_buf_addc(&r->out, '}');
    fl_value_unref(body);
    return API_DONE;
problem:
    fl_value_unref(body);
    return api_problem(r, rc, &e);
}

static void department_json(struct fl_buf *b, const struct fl_department_row *d)
{
    fl_buf_addf(b, "{\"id\":%llu,\"name\":", (unsigned long long)d->id);
    fl_json_cstring(b, d->name);
    fl_buf_adds(b, ",\"parent_id\":");
    if (d->parent_id)
        fl_buf_addf(b, "%llu", (unsigned long long)d->parent_id);
    else
        fl_buf_adds(b, "null");
    fl_buf_adds(b, ",\"head\":");
    fl_json_cstring(b, d->head_login);
    fl_buf_addc(b, '}');
}

int api_department_list(struct api_req *r)
{
    struct fl_department_row *rows = NULL;
    struct fl_store *s = NULL;
    struct fl_error e;
    size_t n = 0;
    int rc;
    fl_error_clear(&e);
    if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
        rc = fl_auth_department_list(s, &rows, &n, &e);
        api_reader_put(r->srv, s);
    }
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, 200);
    fl_buf_adds(&r->out, "{\"items\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            fl_buf_addc(&r->out, ',');
        department_json(&r->out, &rows[i]);
    }
    fl_buf_adds(&r->out, "]}");
    fl_department_rows_free(rows, n);
    return API_DONE;
}

int api_department_add(struct api_req *r)
{
    static const char *const allowed[] = {"name", "parent", "head", NULL};
    struct fl_value *body = NULL;
    const char *name = NULL, *parent = NULL, *head = NULL;
    struct fl_department_row d = {0};
    struct fl_error e;
    int rc;
    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_str(body, "name", &name, &e)) != 0 ||
        (rc = api_field_str(body, "parent", &parent, &e)) != 0 ||
        (rc = api_field_str(body, "head", &head, &e)) != 0)
        goto problem;
    if (!name) {
        rc = fl_error_set(&e, FL_EINVAL, "field 'name' is required");
        snprintf(e.field, sizeof(e.field), "name");
        goto problem;
    }
    pthread_mutex_lock(&r->srv->admin_lock);
    rc = fl_auth_department_add(r->srv->admin, name, parent, head, &d.id, &e);
    pthread_mutex_unlock(&r->srv->admin_lock);
    if (rc != 0)
        goto problem;
    api_json_begin(r, 201);
    fl_buf_addf(&r->out, "{\"id\":%llu,\"name\":", (unsigned long long)d.id);
    fl_json_cstring(&r->out, name);
    fl_buf_adds(&r->out, ",\"parent\":");
    fl_json_cstring(&r->out, parent);
    fl_buf_adds(&r->out, ",\"head\":");
    fl_json_cstring(&r->out, head);
    fl_buf_addc(&r->out, '}');
    fl_value_unref(body);
    return API_DONE;
problem:
    fl_value_unref(body);
    return api_problem(r, rc, &e);
}

int api_token_list(struct api_req *r)
{
    struct fl_token_row *rows = NULL;
    struct fl_store *s = NULL;
    struct fl_error e;
    size_t n = 0;
    int rc;
    fl_error_clear(&e);
    if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
        rc = fl_auth_token_list(s, api_query(r, "user"), &rows, &n, &e);
        api_reader_put(r->srv, s);
    }
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, 200);
    fl_buf_adds(&r->out, "{\"items\":[");
    for (size_t i = 0; i < n; i++) {
        bool f = true;
        fl_buf_adds(&r->out, i ? ",{" : "{");
        api_jkey(&r->out, &f, "id");
        fl_buf_addf(&r->out, "%llu", (unsigned long long)rows[i].id);
        api_jkey(&r->out, &f, "name");
        fl_json_cstring(&r->out, rows[i].name);
        api_jkey(&r->out, &f, "user");
        fl_json_cstring(&r->out, rows[i].login);
        api_jkey(&r->out, &f, "scope");
        fl_json_cstring(&r->out, fl_scope_name(rows[i].scope));
        api_jkey(&r->out, &f, "created_at");
        api_jtime(&r->out, rows[i].created_at);
        api_jkey(&r->out, &f, "last_used_at");
        api_jtime(&r->out, rows[i].last_used_at);
        api_jkey(&r->out, &f, "revoked_at");
        api_jtime(&r->out, rows[i].revoked_at);
        fl_buf_addc(&r->out, '}');
    }
    fl_buf_adds(&r->out, "]}");
    fl_token_rows_free(rows, n);
    return API_DONE;
}

int api_token_create(struct api_req *r)
{
    static const char *const allowed[] = {"user", "scope", "name", NULL};
    struct fl_value *body = NULL;
    const char *user = NULL, *scope_text = NULL, *name = NULL;
    char text[FL_TOKEN_TEXT_MAX];
    enum fl_scope scope;
    struct fl_error e;
    uint64_t id = 0;
    int rc;
    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_str(body, "user", &user, &e)) != 0 ||
        (rc = api_field_str(body, "scope", &scope_text, &e)) != 0 ||
        (rc = api_field_str(body, "name", &name, &e)) != 0)
        goto problem;
    if (!user || !scope_text || fl_scope_parse(scope_text, &scope) != 0) {
        rc = fl_error_set(&e, FL_EINVAL,
                          "fields 'user' and 'scope' (read, write or admin) "
                          "are required");
        snprintf(e.field, sizeof(e.field), "%s", user ? "scope" : "user");
        goto problem;
    }
    pthread_mutex_lock(&r->srv->admin_lock);
    rc = fl_auth_token_create(r->srv->admin, user, name, scope, now_ms(), text, &id, &e);
    pthread_mutex_unlock(&r->srv->admin_lock);
    if (rc != 0)
        goto problem;
    api_json_begin(r, 201);
    fl_buf_addf(&r->out, "{\"id\":%llu,\"user\":", (unsigned long long)id);
    fl_json_cstring(&r->out, user);
    fl_buf_adds(&r->out, ",\"scope\":");
    fl_json_cstring(&r->out, fl_scope_name(scope));
    fl_buf_adds(&r->out, ",\"name\":");
    fl_json_cstring(&r->out, name);
    fl_buf_adds(&r->out, ",\"token\":");
    fl_json_cstring(&r->out, text);
    fl_buf_addc(&r->out, '}');
    fl_value_unref(body);
    return API_DONE;
problem:
    fl_value_unref(body);
    return api_problem(r, rc, &e);
}

int api_token_revoke(struct api_req *r)
{
    struct fl_error e;
    int rc;
    fl_error_clear(&e);
    pthread_mutex_lock(&r->srv->admin_lock);
    rc = fl_auth_token_revoke(r->srv->admin, r->id, now_ms(), &e);
    pthread_mutex_unlock(&r->srv->admin_lock);
    if (rc != 0)
        return api_problem(r, rc, &e);
    r->status = 204;
    return API_DONE;
}
