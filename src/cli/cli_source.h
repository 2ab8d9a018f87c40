/* Where the CLI's commands get their records from and send their commands to: the local
 * database (the store read-only, the service for process commands, the writable store for
 * people records) or a running server over its HTTP API (--server). Both back ends fill
 * the same row structs of flowd/store.h and flowd/auth.h, so every command has one
 * printer and prints the same tables and JSON either way -- a vtable in the manner of
 * Redis' connection types. Rows handed out are owned by the caller (free them with the
 * matching fl_*_free / _release of the public headers). */
#ifndef FLOWD_CLI_SOURCE_H
#define FLOWD_CLI_SOURCE_H

#include "cli/cli.h"
#include "flowd/auth.h"

struct cli_source;

/* What user_change does to a user. */
enum cli_user_change { CLI_USER_PASSWORD, CLI_USER_DISABLE, CLI_USER_ENABLE };

struct cli_source_ops {
    void (*close)(struct cli_source *src);
    /* 0 when the source is there to be read (local: the database file exists). */
    int (*require)(struct cli_source *src, struct fl_error *err);

    int (*definition_list)(struct cli_source *src, struct fl_definition_row **rows, size_t *n,
                           struct fl_error *err);
    /* One definition with its XML, by key and version (local: by id when key is NULL). */
    int (*definition_get)(struct cli_source *src, const char *key, int32_t version, uint64_t id,
                          struct fl_definition_row *out, struct fl_error *err);
    int (*deploy)(struct cli_source *src, const char *xml, size_t len,
                  struct fl_deploy_result *results, size_t max, size_t *n, struct fl_error *err);

    /* One page of a listing (only an empty page ends a walk). */
    int (*instance_list)(struct cli_source *src, const struct fl_instance_query *q,
                         struct fl_instance_row **rows, size_t *n, struct fl_error *err);
    int (*instance_get)(struct cli_source *src, uint64_t id, struct fl_instance_row *out,
                        struct fl_error *err);
    int (*task_list)(struct cli_source *src, const struct fl_task_query *q,
                     struct fl_task_row **rows, size_t *n, struct fl_error *err);
    int (*task_get)(struct cli_source *src, uint64_t id, struct fl_task_row *out,
                    struct fl_error *err);
    int (*history)(struct cli_source *src, uint64_t instance_id, struct fl_event_row **rows,
                   size_t *n, struct fl_error *err);
    /* Every control point of an instance, open and done, in id order. */
    int (*controls)(struct cli_source *src, uint64_t instance_id, struct fl_control_row **rows,
                    size_t *n, struct fl_error *err);
    /* Run START, COMPLETE_TASK or RECORD_ACTION and wait for its durable outcome. Returns
     * res->rc; res->instance_id is set after a start. */
    int (*run)(struct cli_source *src, const struct fl_command *cmd, struct fl_result *res);

    /* Migrate to version `to` of process key: the instances ids[0..n) (key NULL: of one
     * instance's own process), or every active instance of version `from` (n 0). All or
     * nothing (see fl_service_migrate); *migrated gets how many moved. */
    int (*migrate)(struct cli_source *src, const char *key, int32_t from, int32_t to,
                   const uint64_t *ids, size_t n, const struct fl_migration_pair *pairs,
                   size_t n_pairs, size_t *migrated, struct fl_error *err);

    /* People records. user_add hashes password itself (local) or sends it (remote). */
    int (*user_add)(struct cli_source *src, const struct fl_user_new *u, const char *password,
                    uint64_t *id, struct fl_error *err);
    int (*user_list)(struct cli_source *src, struct fl_user_row **rows, size_t *n,
                     struct fl_error *err);
    int (*user_change)(struct cli_source *src, const char *login, enum cli_user_change what,
                       const char *password, struct fl_error *err);
    int (*role_add)(struct cli_source *src, const char *name, const char *description, uint64_t *id,
                    struct fl_error *err);
    int (*role_list)(struct cli_source *src, struct fl_role_row **rows, size_t *n,
                     struct fl_error *err);
    int (*department_add)(struct cli_source *src, const char *name, const char *parent,
                          const char *head, uint64_t *id, struct fl_error *err);
    int (*department_list)(struct cli_source *src, struct fl_department_row **rows, size_t *n,
                           struct fl_error *err);
    /* text receives the new token (FL_TOKEN_TEXT_MAX bytes); the caller wipes it. */
    int (*token_create)(struct cli_source *src, const char *user, const char *name,
                        enum fl_scope scope, char *text, uint64_t *id, struct fl_error *err);
    int (*token_revoke)(struct cli_source *src, uint64_t id, struct fl_error *err);
    int (*token_list)(struct cli_source *src, const char *user, struct fl_token_row **rows,
                      size_t *n, struct fl_error *err);
};

struct cli_source {
    const struct cli_source_ops *ops;
    const struct cli_common *c; /* borrowed: the command's options */
    bool remote;
};

/* Open the source c names: the server of --server / $FLOWD_SERVER when there is one, else
 * the database of --db / $FLOWD_DB. Nothing is opened or contacted yet: each back end
 * connects on first use. FL_EUSAGE for --db together with --server, or a bad URL.
 * Caller closes with cli_source_close. */
int cli_source_open(const struct cli_common *c, struct cli_source **out, struct fl_error *err);

/* Close src (NULL-safe). */
void cli_source_close(struct cli_source *src);

/* The two back ends (cli_source_local.c, cli_source_remote.c). */
struct cli_source *cli__source_local_new(const struct cli_common *c);
int cli__source_remote_new(const struct cli_common *c, struct cli_source **out,
                           struct fl_error *err);

#endif
