/* Record-level access rules as pure functions: who may see and act on a task or an
 * instance, decided from the principal and the rows alone. Every route asks these (or the
 * list queries, which apply the same rules in SQL: see src/store/sqlite_read.c), and a
 * record with FL_ACCESS_NONE is answered as missing, so its existence does not leak. */
#include <string.h>

#include "flowd/auth.h"

static const char *const scope_names[] = {
    [FL_SCOPE_READ] = "read",
    [FL_SCOPE_WRITE] = "write",
    [FL_SCOPE_ADMIN] = "admin",
};

const char *fl_scope_name(enum fl_scope s)
{
    if ((unsigned)s >= sizeof(scope_names) / sizeof(scope_names[0]))
        return NULL;
    return scope_names[s];
}

int fl_scope_parse(const char *text, enum fl_scope *out)
{
    *out = FL_SCOPE_NONE;
    for (unsigned i = FL_SCOPE_READ; text && i <= FL_SCOPE_ADMIN; i++)
        if (strcmp(text, scope_names[i]) == 0) {
            *out = (enum fl_scope)i;
            return 0;
        }
    return FL_EINVAL;
}

bool fl_scope_allows(const struct fl_principal *p, bool write, bool admin_route)
{
    if (!p || p->scope < FL_SCOPE_READ)
        return false;
    if (admin_route)
        return p->admin && p->scope >= FL_SCOPE_ADMIN;
    return !write || p->scope >= FL_SCOPE_WRITE;
}

/* Is item one of the comma-separated list's items (whole items, not substrings)? */
static bool in_list(const char *list, const char *item)
{
    size_t n;
    if (!list || !item || !*item)
        return false;
    n = strlen(item);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && memcmp(p, item, n) == 0)
            return true;
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}

static bool holds_any(const struct fl_strlist *roles, const char *list)
{
    for (size_t i = 0; list && i < roles->n; i++)
        if (in_list(list, roles->items[i]))
            return true;
    return false;
}

static bool manages(const struct fl_principal *p, const char *login)
{
    for (size_t i = 0; login && i < p->managed_logins.n; i++)
        if (strcmp(p->managed_logins.items[i], login) == 0)
            return true;
    return false;
}

/* Does p head (transitively) the department of anyone in the comma list? */
static bool manages_any(const struct fl_principal *p, const char *list)
{
    for (size_t i = 0; list && i < p->managed_logins.n; i++)
        if (in_list(list, p->managed_logins.items[i]))
            return true;
    return false;
}

/* Does p head (transitively) the department of a member this task belongs to: its
 * assignee, one of its candidate users, or who started or owns its instance? One rule with
 * the instance's (below) and with the SQL lists (src/store/sqlite_read.c). */
static bool manages_task(const struct fl_principal *p, const struct fl_task_row *t)
{
    return manages(p, t->assignee) || manages_any(p, t->candidate_users) ||
           manages(p, t->instance_started_by) || manages(p, t->instance_owner);
}

enum fl_access fl_access_task(const struct fl_principal *p, const struct fl_task_row *t)
{
    const char *me;
    if (!p || !t)
        return FL_ACCESS_NONE;
    if (p->admin)
        return FL_ACCESS_WRITE;
    me = p->login;
    if (me && *me) {
        if ((t->assignee && strcmp(t->assignee, me) == 0) || in_list(t->candidate_users, me))
            return FL_ACCESS_WRITE;
    }
    if (holds_any(&p->roles, t->candidate_roles))
        return FL_ACCESS_WRITE;
    if (manages_task(p, t))
        return FL_ACCESS_WRITE;
    if (holds_any(&p->roles, t->watch_roles))
        return FL_ACCESS_READ;
    return FL_ACCESS_NONE;
}

bool fl_access_task_visible(const struct fl_principal *p, const struct fl_task_row *t)
{
    return fl_access_task(p, t) != FL_ACCESS_NONE;
}

enum fl_access fl_access_instance(const struct fl_principal *p, const struct fl_instance_row *i,
                                  const struct fl_task_row *tasks, size_t n)
{
    enum fl_access best = FL_ACCESS_NONE;
    if (!p || !i)
        return FL_ACCESS_NONE;
    if (p->admin)
        return FL_ACCESS_WRITE;
    if (p->login && *p->login) {
        if ((i->started_by && strcmp(i->started_by, p->login) == 0) ||
            (i->owner && strcmp(i->owner, p->login) == 0))
            return FL_ACCESS_WRITE;
    }
    if (manages(p, i->started_by) || manages(p, i->owner))
        return FL_ACCESS_WRITE;
    for (size_t k = 0; tasks && k < n; k++) {
        enum fl_access a;
        if (tasks[k].instance_id != i->id)
            continue; /* a caller's mistake must not widen access */
        a = fl_access_task(p, &tasks[k]);
        if (a > best)
            best = a;
        if (best == FL_ACCESS_WRITE)
            break;
    }
    return best;
}

bool fl_access_instance_visible(const struct fl_principal *p, const struct fl_instance_row *i,
                                const struct fl_task_row *tasks, size_t n)
{
    return fl_access_instance(p, i, tasks, n) != FL_ACCESS_NONE;
}
