/* The local back end of the CLI's record source: the database file itself. Reads open it
 * read-only (it must exist), process commands and deployments go through the service
 * (the durable single-writer path the server uses too), people records through a
 * writable store. Each connection opens on first use, so a command that only reads never
 * creates a database, and one that fails early opens nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_source.h"
#include "cli/people.h"
#include "flowd/alloc.h"

struct local_source {
    struct cli_source base;
    struct fl_store *ro;     /* reads */
    struct fl_service *svc;  /* process commands, deployments */
    struct fl_store *people; /* people records (writable, created when missing) */
};

static struct local_source *L(struct cli_source *src)
{
    return (struct local_source *)(void *)src;
}

static int ro(struct cli_source *src, struct fl_store **out, struct fl_error *err)
{
    struct local_source *l = L(src);
    int rc = 0;
    if (!l->ro)
        rc = cli_store_open_ro(src->c, &l->ro, err);
    *out = l->ro;
    return rc;
}

static int people(struct cli_source *src, struct fl_store **out, struct fl_error *err)
{
    struct local_source *l = L(src);
    int rc = 0;
    if (!l->people)
        rc = cli_people_open(src->c, &l->people, err);
    *out = l->people;
    return rc;
}

static int service(struct cli_source *src, struct fl_service **out, struct fl_error *err)
{
    struct local_source *l = L(src);
    int rc = 0;
    if (!l->svc)
        rc = cli_service_open(src->c, &l->svc, err);
    *out = l->svc;
    return rc;
}

static void local_close(struct cli_source *src)
{
    struct local_source *l = L(src);
    fl_service_close(l->svc);
    fl_store_close(l->ro);
    fl_store_close(l->people);
    free(l);
}

static int local_require(struct cli_source *src, struct fl_error *err)
{
    return cli_db_require(src->c, err);
}

static int local_definition_list(struct cli_source *src, struct fl_definition_row **rows, size_t *n,
                                 struct fl_error *err)
{
    struct fl_store *s;
    int rc = ro(src, &s, err);
    return rc ? rc : fl_store_definition_list(s, rows, n, err);
}

static int local_definition_get(struct cli_source *src, const char *key, int32_t version,
                                uint64_t id, struct fl_definition_row *out, struct fl_error *err)
{
    struct fl_store *s;
    int rc = ro(src, &s, err);
    /* By id when there is one: the very row the instance was started from. */
    return rc ? rc : fl_store_definition_get(s, id ? NULL : key, id ? 0 : version, id, out, err);
}

static int local_deploy(struct cli_source *src, const char *xml, size_t len,
                        struct fl_deploy_result *results, size_t max, size_t *n,
                        struct fl_error *err)
{
    struct fl_service *svc;
    int rc = service(src, &svc, err);
    return rc ? rc : fl_service_deploy(svc, xml, len, results, max, n, err);
}

static int local_instance_list(struct cli_source *src, const struct fl_instance_query *q,
                               struct fl_instance_row **rows, size_t *n, struct fl_error *err)
{
    struct fl_store *s;
    int rc = ro(src, &s, err);
    return rc ? rc : fl_store_instance_list(s, q, rows, n, err);
}

static int local_instance_get(struct cli_source *src, uint64_t id, struct fl_instance_row *out,
                              struct fl_error *err)
{
    struct fl_store *s;
    int rc = ro(src, &s, err);
    return rc ? rc : fl_store_instance_get(s, id, out, err);
}

static int local_task_list(struct cli_source *src, const struct fl_task_query *q,
                           struct fl_task_row **rows, size_t *n, struct fl_error *err)
{
    struct fl_store *s;
    int rc = ro(src, &s, err);
    return rc ? rc : fl_store_task_list(s, q, rows, n, err);
}

static int local_task_get(struct cli_source *src, uint64_t id, struct fl_task_row *out,
                          struct fl_error *err)
{
    struct fl_store *s;
    int rc = ro(src, &s, err);
    return rc ? rc : fl_store_task_get(s, id, out, err);
}

static int local_history(struct cli_source *src, uint64_t instance_id, struct fl_event_row **rows,
                         size_t *n, struct fl_error *err)
{
    struct fl_store *s;
    int rc = ro(src, &s, err);
    return rc ? rc : fl_store_history(s, instance_id, rows, n, err);
}

static int local_controls(struct cli_source *src, uint64_t instance_id,
                          struct fl_control_row **rows, size_t *n, struct fl_error *err)
{
    struct fl_store *s;
    int rc = ro(src, &s, err);
    return rc ? rc : cli_control_list_all(s, instance_id, rows, n, err);
}

static int local_run(struct cli_source *src, const struct fl_command *cmd, struct fl_result *res)
{
    struct fl_service *svc;
    int rc;

    memset(res, 0, sizeof(*res));
    /* A command never creates the database (only deploy and the people commands do). */
    if ((rc = cli_db_require(src->c, &res->err)) || (rc = service(src, &svc, &res->err))) {
        res->rc = rc;
        return rc;
    }
    return cli_service_run(svc, cmd, res);
}

static int local_migrate(struct cli_source *src, const char *key, int32_t from, int32_t to,
                         const uint64_t *ids, size_t n, const struct fl_migration_pair *pairs,
                         size_t n_pairs, size_t *migrated, struct fl_error *err)
{
    struct fl_migration_request req = {
        .instance_ids = ids, .n_instances = n, .pairs = pairs, .n_pairs = n_pairs};
    struct fl_migration_outcome *out = NULL;
    struct fl_instance_row row = {0};
    struct fl_service *svc;
    struct fl_store *s;
    size_t n_out = 0;
    int rc;

    *migrated = 0;
    if ((rc = cli_db_require(src->c, err)) || (rc = ro(src, &s, err)))
        return rc;
    if (!key) {
        if (n != 1)
            return fl_error_set(err, FL_EUSAGE, "name the process (--process) to migrate several");
        if ((rc = fl_store_instance_get(s, ids[0], &row, err)))
            return rc;
        key = row.process_key;
    }
    if ((rc = fl_store_definition_find(s, key, to, &req.to_definition_id, err)) == FL_ENOTFOUND)
        fl_error_set(err, rc, "process '%s' has no version %d", key, (int)to);
    else if (rc == 0 && n == 0 &&
             (rc = fl_store_definition_find(s, key, from, &req.from_definition_id, err)) ==
                 FL_ENOTFOUND)
        fl_error_set(err, rc, "process '%s' has no version %d", key, (int)from);
    if (rc == 0 && (rc = service(src, &svc, err)) == 0)
        rc = fl_service_migrate(svc, &req, &out, &n_out, err);
    if (rc == 0)
        *migrated = n_out;
    /* Every instance that cannot move, not only the first (the error names that one). */
    for (size_t i = 0; rc && i < n_out; i++)
        if (out[i].rc)
            fprintf(stderr, "flowd: instance %llu: %s\n", (unsigned long long)out[i].instance_id,
                    out[i].err.msg);
    free(out);
    fl_instance_row_release(&row);
    return rc;
}

static int local_user_add(struct cli_source *src, const struct fl_user_new *u, const char *password,
                          uint64_t *id, struct fl_error *err)
{
    struct fl_user_new with_hash = *u;
    struct fl_store *s;
    char *hash = NULL;
    int rc = fl_password_hash(password, NULL, &hash, err);

    with_hash.password_hash = hash;
    if (rc == 0 && (rc = people(src, &s, err)) == 0)
        rc = fl_auth_user_add(s, &with_hash, src->c->now_ms, id, err);
    free(hash);
    return rc;
}

static int local_user_list(struct cli_source *src, struct fl_user_row **rows, size_t *n,
                           struct fl_error *err)
{
    struct fl_store *s;
    int rc = ro(src, &s, err);
    return rc ? rc : fl_auth_user_list(s, rows, n, err);
}

static int local_user_change(struct cli_source *src, const char *login, enum cli_user_change what,
                             const char *password, struct fl_error *err)
{
    struct fl_store *s;
    char *hash = NULL;
    int rc = 0;

    if (what == CLI_USER_PASSWORD)
        rc = fl_password_hash(password, NULL, &hash, err);
    if (rc == 0 && (rc = people(src, &s, err)) == 0)
        rc = what == CLI_USER_PASSWORD
                 ? fl_auth_user_set_password(s, login, hash, err)
                 : fl_auth_user_set_disabled(s, login, what == CLI_USER_DISABLE, err);
    free(hash);
    return rc;
}

static int local_role_add(struct cli_source *src, const char *name, const char *description,
                          uint64_t *id, struct fl_error *err)
{
    struct fl_store *s;
    int rc = people(src, &s, err);
    return rc ? rc : fl_auth_role_add(s, name, description, id, err);
}

static int local_role_list(struct cli_source *src, struct fl_role_row **rows, size_t *n,
                           struct fl_error *err)
{
    struct fl_store *s;
    int rc = ro(src, &s, err);
    return rc ? rc : fl_auth_role_list(s, rows, n, err);
}

static int local_department_add(struct cli_source *src, const char *name, const char *parent,
                                const char *head, uint64_t *id, struct fl_error *err)
{
    struct fl_store *s;
    int rc = people(src, &s, err);
    return rc ? rc : fl_auth_department_add(s, name, parent, head, id, err);
}

static int local_department_list(struct cli_source *src, struct fl_department_row **rows, size_t *n,
                                 struct fl_error *err)
{
    struct fl_store *s;
    int rc = ro(src, &s, err);
    return rc ? rc : fl_auth_department_list(s, rows, n, err);
}

static int local_token_create(struct cli_source *src, const char *user, const char *name,
                              enum fl_scope scope, char *text, uint64_t *id, struct fl_error *err)
{
    struct fl_store *s;
    int rc = people(src, &s, err);
    return rc ? rc : fl_auth_token_create(s, user, name, scope, src->c->now_ms, text, id, err);
}

static int local_token_revoke(struct cli_source *src, uint64_t id, struct fl_error *err)
{
    struct fl_store *s;
    int rc = cli_db_require(src->c, err);
    if (rc == 0)
        rc = people(src, &s, err);
    return rc ? rc : fl_auth_token_revoke(s, id, src->c->now_ms, err);
}

static int local_token_list(struct cli_source *src, const char *user, struct fl_token_row **rows,
                            size_t *n, struct fl_error *err)
{
    struct fl_store *s;
    int rc = ro(src, &s, err);
    return rc ? rc : fl_auth_token_list(s, user, rows, n, err);
}

static const struct cli_source_ops local_ops = {
    .close = local_close,
    .require = local_require,
    .definition_list = local_definition_list,
    .definition_get = local_definition_get,
    .deploy = local_deploy,
    .instance_list = local_instance_list,
    .instance_get = local_instance_get,
    .task_list = local_task_list,
    .task_get = local_task_get,
    .history = local_history,
    .controls = local_controls,
    .run = local_run,
    .migrate = local_migrate,
    .user_add = local_user_add,
    .user_list = local_user_list,
    .user_change = local_user_change,
    .role_add = local_role_add,
    .role_list = local_role_list,
    .department_add = local_department_add,
    .department_list = local_department_list,
    .token_create = local_token_create,
    .token_revoke = local_token_revoke,
    .token_list = local_token_list,
};

struct cli_source *cli__source_local_new(const struct cli_common *c)
{
    struct local_source *l = fl_calloc(1, sizeof(*l));
    l->base.ops = &local_ops;
    l->base.c = c;
    return &l->base;
}

int cli_source_open(const struct cli_common *c, struct cli_source **out, struct fl_error *err)
{
    *out = NULL;
    if (c->server && c->db_flag && c->server_flag)
        return fl_error_set(err, FL_EUSAGE,
                            "--db and --server exclude each other: a command works either "
                            "on a database file or through a server");
    /* An explicit --db is more specific than $FLOWD_SERVER in the environment. */
    if (c->server && !c->db_flag)
        return cli__source_remote_new(c, out, err);
    *out = cli__source_local_new(c);
    return 0;
}

void cli_source_close(struct cli_source *src)
{
    if (src)
        src->ops->close(src);
}
