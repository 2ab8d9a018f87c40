/* The store front for people and access records (flowd/auth.h): checks the names a
 * person typed (logins, roles, departments) before they reach a back end, forwards to the
 * vtable, and frees the rows. Hashing and secrets live in the service (auth.c); nothing
 * here ever sees a password or a token in clear. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/auth.h"
#include "store/store_impl.h"

#define NAME_MAX_LEN 64

/* Logins and role names are identifiers people type and see in URLs and comma lists:
 * letters, digits and . _ - (and @ in logins), never a comma. */
static bool valid_name(const char *s, bool at_ok)
{
    size_t n = 0;
    if (!s || !*s)
        return false;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= NAME_MAX_LEN)
            return false;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '.' || c == '_' || c == '-' || (at_ok && c == '@'))
            continue;
        return false;
    }
    return true;
}

/* Department names are shown, not parsed: any printable text up to 128 bytes. */
static bool valid_label(const char *s)
{
    size_t n = 0;
    if (!s || !*s)
        return false;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f || n >= 128)
            return false;
    return true;
}

static int bad(struct fl_error *err, const char *field, const char *what, const char *value)
{
    int rc = fl_error_set(err, FL_EINVAL, "invalid %s '%s'", what, value ? value : "");
    if (err)
        snprintf(err->field, sizeof(err->field), "%s", field);
    return rc;
}

int fl_auth_user_add(struct fl_store *s, const struct fl_user_new *u, int64_t now_ms, uint64_t *id,
                     struct fl_error *err)
{
    *id = 0;
    if (!valid_name(u->login, true))
        return bad(err, "login", "login (1-64 of letters, digits, . _ - @)", u->login);
    if (u->display_name && !valid_label(u->display_name))
        return bad(err, "name", "display name", u->display_name);
    if (u->email && (!valid_label(u->email) || !strchr(u->email, '@')))
        return bad(err, "email", "email", u->email);
    if (u->department && !valid_label(u->department))
        return bad(err, "department", "department", u->department);
    for (size_t i = 0; i < u->n_roles; i++)
        if (!valid_name(u->roles[i], false))
            return bad(err, "role", "role", u->roles[i]);
    return s->ops->user_add(s, u, now_ms, id, err);
}

int fl_auth_user_get(struct fl_store *s, const char *login, uint64_t id, struct fl_user_row *out,
                     struct fl_error *err)
{
    if (!login && !id) {
        memset(out, 0, sizeof(*out));
        return fl_error_set(err, FL_EINVAL, "user needs a login or an id");
    }
    return s->ops->user_get(s, login, id, out, err);
}

int fl_auth_user_list(struct fl_store *s, struct fl_user_row **rows, size_t *n,
                      struct fl_error *err)
{
    return s->ops->user_list(s, rows, n, err);
}

int fl_auth_user_set_disabled(struct fl_store *s, const char *login, bool disabled,
                              struct fl_error *err)
{
    if (!login)
        return fl_error_set(err, FL_EINVAL, "user login missing");
    return s->ops->user_set_disabled(s, login, disabled, err);
}

int fl_auth_user_set_password(struct fl_store *s, const char *login, const char *password_hash,
                              struct fl_error *err)
{
    if (!login)
        return fl_error_set(err, FL_EINVAL, "user login missing");
    return s->ops->user_set_password(s, login, password_hash, err);
}

int fl_auth_role_add(struct fl_store *s, const char *name, const char *description, uint64_t *id,
                     struct fl_error *err)
{
    *id = 0;
    if (!valid_name(name, false))
        return bad(err, "name", "role name (1-64 of letters, digits, . _ -)", name);
    if (description && !valid_label(description))
        return bad(err, "description", "description", description);
    return s->ops->role_add(s, name, description, id, err);
}

int fl_auth_role_list(struct fl_store *s, struct fl_role_row **rows, size_t *n,
                      struct fl_error *err)
{
    return s->ops->role_list(s, rows, n, err);
}

int fl_auth_user_grant_role(struct fl_store *s, const char *login, const char *role,
                            struct fl_error *err)
{
    if (!login || !role)
        return fl_error_set(err, FL_EINVAL, "grant needs a login and a role");
    return s->ops->user_grant_role(s, login, role, err);
}

int fl_auth_department_add(struct fl_store *s, const char *name, const char *parent,
                           const char *head, uint64_t *id, struct fl_error *err)
{
    *id = 0;
    if (!valid_label(name))
        return bad(err, "name", "department name", name);
    if (parent && !valid_label(parent))
        return bad(err, "parent", "parent department", parent);
    return s->ops->department_add(s, name, parent, head, id, err);
}

int fl_auth_department_list(struct fl_store *s, struct fl_department_row **rows, size_t *n,
                            struct fl_error *err)
{
    return s->ops->department_list(s, rows, n, err);
}

static void strlist_release(struct fl_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void fl_user_row_release(struct fl_user_row *r)
{
    if (!r)
        return;
    free(r->login);
    free(r->display_name);
    free(r->email);
    free(r->password_hash);
    free(r->department);
    strlist_release(&r->roles);
    memset(r, 0, sizeof(*r));
}

void fl_user_rows_free(struct fl_user_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        fl_user_row_release(&rows[i]);
    free(rows);
}

void fl_role_rows_free(struct fl_role_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        free(rows[i].name);
        free(rows[i].description);
    }
    free(rows);
}

void fl_department_rows_free(struct fl_department_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        free(rows[i].name);
        free(rows[i].head_login);
    }
    free(rows);
}

void fl_token_rows_free(struct fl_token_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        free(rows[i].name);
        free(rows[i].login);
    }
    free(rows);
}

void fl_principal_init(struct fl_principal *p)
{
    memset(p, 0, sizeof(*p));
}

void fl_principal_release(struct fl_principal *p)
{
    if (!p)
        return;
    free(p->login);
    strlist_release(&p->roles);
    strlist_release(&p->managed_logins);
    memset(p, 0, sizeof(*p));
}
