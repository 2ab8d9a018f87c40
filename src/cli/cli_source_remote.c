/* The remote back end of the CLI's record source: a running `flowd serve` reached over
 * /api/v1 with the caller's token. Each operation is one request (definitions: one per
 * process key) on the client's kept-alive connection; answers become the same rows the
 * local back end reads from the store, errors the same fl_err codes and detail. What the
 * API cannot do (change a user's password, act as someone else) is refused with a line
 * that says so, before anything is sent. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli_http.h"
#include "cli/cli_remote.h"
#include "flowd/alloc.h"

struct remote_source {
    struct cli_source base;
    struct cli_http *http;
};

static struct remote_source *R(struct cli_source *src)
{
    return (struct remote_source *)(void *)src;
}

/* Send a request and parse its 2xx JSON answer into *doc (NULL for an empty answer, or
 * when doc is NULL). A problem answer becomes its fl_err code and detail. */
static int call(struct cli_source *src, const char *method, const char *path, const char *ctype,
                const char *body, size_t len, struct fl_value **doc, struct fl_error *err)
{
    struct cli_http_answer ans;
    int rc;

    if (doc)
        *doc = NULL;
    if ((rc = cli_http_send(R(src)->http, method, path, ctype, body, len, &ans, err)) ||
        (rc = cli_http_check(R(src)->http, &ans, err)))
        goto out;
    if (doc && ans.body.len) {
        struct fl_error jerr;
        fl_error_clear(&jerr);
        if (fl_value_from_json(ans.body.ptr, ans.body.len, doc, &jerr) != 0) {
            *doc = NULL;
            rc = fl_error_set(err, FL_EINVAL, "the answer of %s%s is not JSON: %s",
                              cli_http_base(R(src)->http), path, jerr.msg);
        }
    }
out:
    fl_buf_release(&ans.body);
    return rc;
}

/* GET path and read its "items" list with conv into a fresh array of rows. */
static int get_items(struct cli_source *src, const char *path, size_t row_size,
                     int (*conv)(const struct fl_value *o, void *row, struct fl_error *err),
                     void (*rows_free)(void *rows, size_t n), void **rows_out, size_t *n_out,
                     struct fl_error *err)
{
    struct fl_value *doc = NULL;
    const struct fl_value *items;
    char *rows = NULL;
    size_t n = 0;
    int rc;

    *rows_out = NULL;
    *n_out = 0;
    if ((rc = call(src, "GET", path, NULL, NULL, 0, &doc, err)))
        goto out;
    items = doc ? fl_value_context_get(doc, "items", 5) : NULL;
    if (!items || fl_value_type(items) != FL_VLIST) {
        rc = fl_error_set(err, FL_EINVAL, "the answer of %s has no list of items", path);
        goto out;
    }
    rows = fl_calloc(fl_value_list_len(items) + 1, row_size);
    for (; n < fl_value_list_len(items); n++) {
        if ((rc = conv(fl_value_list_at(items, n), rows + n * row_size, err))) {
            rows_free(rows, n);
            rows = NULL;
            n = 0;
            goto out;
        }
    }
    *rows_out = rows;
    *n_out = n;
out:
    fl_value_unref(doc);
    return rc;
}

/* Adapters from the typed converters and free functions to get_items' generic ones. */
#define ADAPT(name, row_t, conv_fn, free_fn)                                                       \
    static int conv_##name(const struct fl_value *o, void *row, struct fl_error *err)              \
    {                                                                                              \
        return conv_fn(o, (row_t *)row, err);                                                      \
    }                                                                                              \
    static void free_##name(void *rows, size_t n)                                                  \
    {                                                                                              \
        free_fn((row_t *)rows, n);                                                                 \
    }
ADAPT(task, struct fl_task_row, cli_remote_task, fl_task_rows_free)
ADAPT(instance, struct fl_instance_row, cli_remote_instance, fl_instance_rows_free)
ADAPT(event, struct fl_event_row, cli_remote_event, fl_event_rows_free)
ADAPT(definition, struct fl_definition_row, cli_remote_definition, fl_definition_rows_free)
ADAPT(user, struct fl_user_row, cli_remote_user, fl_user_rows_free)
ADAPT(role, struct fl_role_row, cli_remote_role, fl_role_rows_free)
ADAPT(department, struct fl_department_row, cli_remote_department, fl_department_rows_free)
ADAPT(token, struct fl_token_row, cli_remote_token, fl_token_rows_free)
ADAPT(control, struct fl_control_row, cli_remote_control, fl_control_rows_free)
#undef ADAPT

#define GET_ITEMS(src, path, name, rows, n, err)                                                   \
    get_items(src, path, sizeof(**(rows)), conv_##name, free_##name, (void **)(rows), n, err)

static void remote_close(struct cli_source *src)
{
    cli_http_close(R(src)->http);
    free(R(src));
}

static int remote_require(struct cli_source *src, struct fl_error *err)
{
    (void)src;
    (void)err;
    return 0;
}

static int by_id_desc(const void *a, const void *b)
{
    const struct fl_definition_row *x = a, *y = b;
    return x->id < y->id ? 1 : x->id > y->id ? -1 : 0;
}

/* Every version of every process, newest first as the store lists them: the API lists the
 * latest version per key, then the versions of each key. */
static int remote_definition_list(struct cli_source *src, struct fl_definition_row **rows,
                                  size_t *n, struct fl_error *err)
{
    struct fl_definition_row *keys = NULL, *all = NULL, *some;
    size_t n_keys = 0, n_all = 0, cap = 0, n_some;
    struct fl_buf path = FL_BUF_INIT;
    int rc;

    *rows = NULL;
    *n = 0;
    if ((rc = GET_ITEMS(src, "/api/v1/processes", definition, &keys, &n_keys, err)))
        goto out;
    for (size_t k = 0; k < n_keys; k++) {
        fl_buf_reset(&path);
        fl_buf_adds(&path, "/api/v1/processes/");
        cli_url_escape(&path, keys[k].key ? keys[k].key : "");
        fl_buf_adds(&path, "/versions");
        if ((rc = GET_ITEMS(src, path.ptr, definition, &some, &n_some, err)))
            goto out;
        fl_grow(&all, &cap, n_all + n_some + 1, sizeof(*all));
        memcpy(all + n_all, some, n_some * sizeof(*all));
        n_all += n_some;
        free(some); /* the strings moved into all */
    }
    if (n_all)
        qsort(all, n_all, sizeof(*all), by_id_desc);
    *rows = all;
    *n = n_all;
    all = NULL;
    n_all = 0;
out:
    fl_definition_rows_free(all, n_all);
    fl_definition_rows_free(keys, n_keys);
    fl_buf_release(&path);
    return rc;
}

/* The XML of key at version (id is a local notion: unused here). */
static int remote_definition_get(struct cli_source *src, const char *key, int32_t version,
                                 uint64_t id, struct fl_definition_row *out, struct fl_error *err)
{
    struct fl_buf path = FL_BUF_INIT;
    struct cli_http_answer ans;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!key)
        return fl_error_set(err, FL_ENOTFOUND, "definition %llu has no key known here",
                            (unsigned long long)id);
    fl_buf_adds(&path, "/api/v1/processes/");
    cli_url_escape(&path, key);
    fl_buf_adds(&path, "/xml");
    if (version > 0)
        fl_buf_addf(&path, "?version=%d", (int)version);
    if ((rc = cli_http_send(R(src)->http, "GET", path.ptr, NULL, NULL, 0, &ans, err)) == 0 &&
        (rc = cli_http_check(R(src)->http, &ans, err)) == 0) {
        out->id = id;
        out->key = fl_strdup(key);
        out->version = version;
        out->xml = fl_buf_detach(&ans.body, &out->xml_len);
    }
    fl_buf_release(&ans.body);
    fl_buf_release(&path);
    return rc;
}

static int remote_deploy(struct cli_source *src, const char *xml, size_t len,
                         struct fl_deploy_result *results, size_t max, size_t *n,
                         struct fl_error *err)
{
    struct fl_value *doc = NULL;
    const struct fl_value *list;
    int rc;

    *n = 0;
    if ((rc = call(src, "POST", "/api/v1/deployments", "application/xml", xml, len, &doc, err)))
        goto out;
    list = doc ? fl_value_context_get(doc, "processes", 9) : NULL;
    if (!list || fl_value_type(list) != FL_VLIST) {
        rc = fl_error_set(err, FL_EINVAL, "the deployment answer has no list of processes");
        goto out;
    }
    for (size_t i = 0; i < fl_value_list_len(list) && *n < max; i++) {
        const struct fl_value *p = fl_value_list_at(list, i);
        struct fl_definition_row d;
        const struct fl_value *created = fl_value_context_get(p, "created", 7);
        const struct fl_value *warnings = fl_value_context_get(p, "warnings", 8);
        struct fl_deploy_result *res = &results[*n];
        if ((rc = cli_remote_definition(p, &d, err)))
            goto out;
        memset(res, 0, sizeof(*res));
        snprintf(res->key, sizeof(res->key), "%s", d.key ? d.key : "");
        res->version = d.version;
        res->definition_id = d.id;
        res->created = created && fl_value_is_true(created);
        res->n_warnings = warnings ? fl_value_list_len(warnings) : 0;
        fl_definition_row_release(&d);
        (*n)++;
    }
    /* a DMN document answers with its decisions */
    list = fl_value_context_get(doc, "decisions", 9);
    for (size_t i = 0; list && i < fl_value_list_len(list) && *n < max; i++) {
        const struct fl_value *p = fl_value_list_at(list, i);
        const struct fl_value *key = fl_value_context_get(p, "key", 3);
        const struct fl_value *created = fl_value_context_get(p, "created", 7);
        struct fl_deploy_result *res = &results[*n];
        const char *k = fl_value_str(key, NULL);
        int64_t version = 0;
        uint64_t id = 0;
        if (!k || fl_value_to_int64(fl_value_context_get(p, "version", 7), &version) != 0 ||
            (rc = cli_remote_id(p, "decision_id", &id, err))) {
            rc = rc ? rc : fl_error_set(err, FL_EINVAL, "the deployment answer has a bad decision");
            goto out;
        }
        memset(res, 0, sizeof(*res));
        snprintf(res->key, sizeof(res->key), "%s", k);
        res->version = (int32_t)version;
        res->definition_id = id;
        res->created = created && fl_value_is_true(created);
        res->decision = true;
        (*n)++;
    }
out:
    fl_value_unref(doc);
    return rc;
}

static void add_param(struct fl_buf *b, const char *name, const char *value)
{
    fl_buf_addc(b, strchr(b->ptr, '?') ? '&' : '?');
    fl_buf_adds(b, name);
    fl_buf_addc(b, '=');
    cli_url_escape(b, value);
}

static void add_paging(struct fl_buf *b, uint64_t after, size_t limit)
{
    char num[24];
    if (after) {
        snprintf(num, sizeof(num), "%llu", (unsigned long long)after);
        add_param(b, "after", num);
    }
    /* The API takes 1..1000 per page; the CLI's pages are smaller. */
    snprintf(num, sizeof(num), "%zu", limit == 0 ? 100 : limit > 1000 ? 1000 : limit);
    add_param(b, "limit", num);
}

static int remote_instance_list(struct cli_source *src, const struct fl_instance_query *q,
                                struct fl_instance_row **rows, size_t *n, struct fl_error *err)
{
    struct fl_buf path = FL_BUF_INIT;
    int rc;
    fl_buf_adds(&path, "/api/v1/instances");
    if (q->active_only)
        add_param(&path, "active", "true");
    if (q->process_key)
        add_param(&path, "process_key", q->process_key);
    add_paging(&path, q->after_id, q->limit);
    rc = GET_ITEMS(src, path.ptr, instance, rows, n, err);
    fl_buf_release(&path);
    return rc;
}

static int get_one(struct cli_source *src, const char *path,
                   int (*conv)(const struct fl_value *o, void *row, struct fl_error *err),
                   void *out, struct fl_error *err)
{
    struct fl_value *doc = NULL;
    int rc = call(src, "GET", path, NULL, NULL, 0, &doc, err);
    if (rc == 0)
        rc = conv(doc, out, err);
    fl_value_unref(doc);
    return rc;
}

static int remote_instance_get(struct cli_source *src, uint64_t id, struct fl_instance_row *out,
                               struct fl_error *err)
{
    char path[64];
    memset(out, 0, sizeof(*out));
    snprintf(path, sizeof(path), "/api/v1/instances/%llu", (unsigned long long)id);
    return get_one(src, path, conv_instance, out, err);
}

static int remote_task_list(struct cli_source *src, const struct fl_task_query *q,
                            struct fl_task_row **rows, size_t *n, struct fl_error *err)
{
    struct fl_buf path = FL_BUF_INIT;
    char num[24];
    int rc;
    fl_buf_adds(&path, "/api/v1/tasks");
    add_param(&path, "status", q->open_only ? "open" : "all");
    if (q->role)
        add_param(&path, "role", q->role);
    if (q->assignee)
        add_param(&path, "assignee", q->assignee);
    if (q->instance_id) {
        snprintf(num, sizeof(num), "%llu", (unsigned long long)q->instance_id);
        add_param(&path, "instance", num);
    }
    add_paging(&path, q->after_id, q->limit);
    rc = GET_ITEMS(src, path.ptr, task, rows, n, err);
    fl_buf_release(&path);
    return rc;
}

static int remote_task_get(struct cli_source *src, uint64_t id, struct fl_task_row *out,
                           struct fl_error *err)
{
    char path[64];
    memset(out, 0, sizeof(*out));
    snprintf(path, sizeof(path), "/api/v1/tasks/%llu", (unsigned long long)id);
    return get_one(src, path, conv_task, out, err);
}

static int remote_history(struct cli_source *src, uint64_t instance_id, struct fl_event_row **rows,
                          size_t *n, struct fl_error *err)
{
    char path[80];
    snprintf(path, sizeof(path), "/api/v1/instances/%llu/history", (unsigned long long)instance_id);
    return GET_ITEMS(src, path, event, rows, n, err);
}

static int remote_controls(struct cli_source *src, uint64_t instance_id,
                           struct fl_control_row **rows, size_t *n, struct fl_error *err)
{
    char path[80];
    snprintf(path, sizeof(path), "/api/v1/instances/%llu/control-points",
             (unsigned long long)instance_id);
    return GET_ITEMS(src, path, control, rows, n, err);
}

/* A JSON member "key": value-as-JSON, with a comma first unless it is the first one. */
static void member_value(struct fl_buf *b, const char *key, const struct fl_value *v)
{
    if (b->len > 1)
        fl_buf_addc(b, ',');
    fl_json_cstring(b, key);
    fl_buf_addc(b, ':');
    fl_value_to_json(v, b);
}

static void member_str(struct fl_buf *b, const char *key, const char *s)
{
    if (!s)
        return;
    if (b->len > 1)
        fl_buf_addc(b, ',');
    fl_json_cstring(b, key);
    fl_buf_addc(b, ':');
    fl_json_cstring(b, s);
}

/* An unsigned integer member of o, or 0 (absent, null). */
static uint64_t member_u64(const struct fl_value *o, const char *key)
{
    const struct fl_value *v = fl_value_context_get(o, key, strlen(key));
    int64_t n = 0;
    if (!v || fl_value_type(v) != FL_VNUMBER || fl_value_to_int64(v, &n) != 0 || n < 0)
        return 0;
    return (uint64_t)n;
}

/* The answer of POST /api/v1/messages or /signals into res (as the local service fills it). */
static void message_answer(const struct fl_value *doc, struct fl_result *res)
{
    const struct fl_value *v = fl_value_context_get(doc, "outcome", 7);
    const char *s = v ? fl_value_str(v, NULL) : NULL;
    res->message_outcome = s && !strcmp(s, "correlated") ? FL_MESSAGE_CORRELATED
                           : s && !strcmp(s, "started")  ? FL_MESSAGE_STARTED
                                                         : FL_MESSAGE_BUFFERED;
    res->instance_id = member_u64(doc, "instance_id");
    res->message_id = member_u64(doc, "message_id");
    v = fl_value_context_get(doc, "duplicate", 9);
    res->duplicate = v && fl_value_is_true(v);
    res->n_correlated = (uint32_t)member_u64(doc, "correlated");
    res->n_started = (uint32_t)member_u64(doc, "started");
}

static int remote_run(struct cli_source *src, const struct fl_command *cmd, struct fl_result *res)
{
    struct fl_buf path = FL_BUF_INIT, body = FL_BUF_INIT;
    struct fl_value *doc = NULL;

    memset(res, 0, sizeof(*res));
    if (cmd->actor) {
        res->rc = fl_error_set(&res->err, FL_EUSAGE,
                               "--as is not available with --server: the server records the "
                               "user of the token as the one who acts");
        goto out;
    }
    fl_buf_addc(&body, '{');
    switch (cmd->kind) {
    case FL_CMD_START:
        fl_buf_adds(&path, "/api/v1/instances");
        member_str(&body, "process_key", cmd->process_key);
        if (cmd->process_version > 0)
            fl_buf_addf(&body, ",\"version\":%d", (int)cmd->process_version);
        member_str(&body, "business_key", cmd->business_key);
        break;
    case FL_CMD_COMPLETE_TASK:
        fl_buf_addf(&path, "/api/v1/tasks/%llu/complete", (unsigned long long)cmd->target_id);
        break;
    case FL_CMD_RECORD_ACTION:
        fl_buf_addf(&path, "/api/v1/tasks/%llu/action", (unsigned long long)cmd->target_id);
        member_str(&body, "kind", cmd->action_kind);
        member_str(&body, "ref", cmd->action_ref);
        break;
    case FL_CMD_PUBLISH_MESSAGE:
        fl_buf_adds(&path, "/api/v1/messages");
        member_str(&body, "name", cmd->message_name);
        member_str(&body, "correlation_key", cmd->correlation_key);
        member_str(&body, "message_id", cmd->message_id);
        if (cmd->ttl_ms >= 0)
            fl_buf_addf(&body, ",\"time_to_live\":%lld", (long long)cmd->ttl_ms);
        break;
    case FL_CMD_BROADCAST_SIGNAL:
        fl_buf_adds(&path, "/api/v1/signals");
        member_str(&body, "name", cmd->message_name);
        break;
    case FL_CMD_MODIFY:
        fl_buf_addf(&path, "/api/v1/instances/%llu/modify", (unsigned long long)cmd->instance_id);
        fl_buf_adds(&body, "\"cancel_tokens\":[");
        for (size_t i = 0; i < cmd->n_cancel_tokens; i++)
            fl_buf_addf(&body, "%s%llu", i ? "," : "", (unsigned long long)cmd->cancel_tokens[i]);
        fl_buf_adds(&body, "],\"start_before\":[");
        for (size_t i = 0; i < cmd->n_start_before; i++) {
            if (i)
                fl_buf_addc(&body, ',');
            fl_json_cstring(&body, cmd->start_before[i]);
        }
        fl_buf_addc(&body, ']');
        break;
    default:
        res->rc = fl_error_set(&res->err, FL_EUSAGE, "this command is not available with --server");
        goto out;
    }
    if (cmd->variables && cmd->kind != FL_CMD_RECORD_ACTION)
        /* (MODIFY's body is not empty: the comma member_value adds is right) */
        member_value(&body, "variables", cmd->variables);
    fl_buf_addc(&body, '}');
    if ((res->rc =
             call(src, "POST", path.ptr, "application/json", body.ptr, body.len, &doc, &res->err)))
        goto out;
    if (cmd->kind == FL_CMD_START)
        res->rc = cli_remote_id(doc, "id", &res->instance_id, &res->err);
    else if (cmd->kind == FL_CMD_PUBLISH_MESSAGE || cmd->kind == FL_CMD_BROADCAST_SIGNAL)
        message_answer(doc, res);
    else
        res->instance_id = cmd->instance_id;
out:
    fl_value_unref(doc);
    fl_buf_release(&path);
    fl_buf_release(&body);
    return res->rc;
}

static void pairs_json(struct fl_buf *b, const struct fl_migration_pair *pairs, size_t n)
{
    fl_buf_adds(b, ",\"mapping\":[");
    for (size_t i = 0; i < n; i++) {
        fl_buf_adds(b, i ? ",{\"from\":" : "{\"from\":");
        fl_json_cstring(b, pairs[i].from);
        fl_buf_adds(b, ",\"to\":");
        fl_json_cstring(b, pairs[i].to);
        fl_buf_addc(b, '}');
    }
    fl_buf_addc(b, ']');
}

static int remote_migrate(struct cli_source *src, const char *key, int32_t from, int32_t to,
                          const uint64_t *ids, size_t n, const struct fl_migration_pair *pairs,
                          size_t n_pairs, size_t *migrated, struct fl_error *err)
{
    struct fl_buf path = FL_BUF_INIT, body = FL_BUF_INIT;
    struct fl_value *doc = NULL;
    int rc;

    *migrated = 0;
    if (!key) {
        /* one instance of its own process */
        if (n != 1)
            return fl_error_set(err, FL_EUSAGE, "name the process (--process) to migrate several");
        fl_buf_addf(&path, "/api/v1/instances/%llu/migrate", (unsigned long long)ids[0]);
        fl_buf_addf(&body, "{\"to_version\":%d", (int)to);
    } else {
        fl_buf_adds(&path, "/api/v1/migrations");
        fl_buf_adds(&body, "{\"process\":");
        fl_json_cstring(&body, key);
        fl_buf_addf(&body, ",\"from_version\":%d,\"to_version\":%d", (int)from, (int)to);
        if (n) {
            fl_buf_adds(&body, ",\"instances\":[");
            for (size_t i = 0; i < n; i++)
                fl_buf_addf(&body, "%s%llu", i ? "," : "", (unsigned long long)ids[i]);
            fl_buf_addc(&body, ']');
        }
    }
    pairs_json(&body, pairs, n_pairs);
    fl_buf_addc(&body, '}');
    rc = call(src, "POST", path.ptr, "application/json", body.ptr, body.len, &doc, err);
    if (rc == 0) {
        const struct fl_value *l = key ? fl_value_context_get(doc, "instances", 9) : NULL;
        *migrated = key ? fl_value_list_len(l) : 1;
    }
    fl_value_unref(doc);
    fl_buf_release(&path);
    fl_buf_release(&body);
    return rc;
}

/* POST a JSON object and read the "id" of the record it created. */
static int post_for_id(struct cli_source *src, const char *path, const struct fl_buf *body,
                       uint64_t *id, struct fl_error *err)
{
    struct fl_value *doc = NULL;
    int rc = call(src, "POST", path, "application/json", body->ptr, body->len, &doc, err);
    if (rc == 0)
        rc = cli_remote_id(doc, "id", id, err);
    fl_value_unref(doc);
    return rc;
}

static int remote_user_add(struct cli_source *src, const struct fl_user_new *u,
                           const char *password, uint64_t *id, struct fl_error *err)
{
    struct fl_buf body = FL_BUF_INIT;
    int rc;

    fl_buf_addc(&body, '{');
    member_str(&body, "login", u->login);
    member_str(&body, "password", password);
    member_str(&body, "display_name", u->display_name);
    member_str(&body, "email", u->email);
    member_str(&body, "department", u->department);
    fl_buf_addf(&body, ",\"admin\":%s,\"roles\":[", u->admin ? "true" : "false");
    for (size_t i = 0; i < u->n_roles; i++) {
        if (i)
            fl_buf_addc(&body, ',');
        fl_json_cstring(&body, u->roles[i]);
    }
    fl_buf_adds(&body, "]}");
    rc = post_for_id(src, "/api/v1/users", &body, id, err);
    /* The body held the password in clear text. */
    memset(body.ptr, 0, body.len);
    fl_buf_release(&body);
    return rc;
}

static int remote_user_list(struct cli_source *src, struct fl_user_row **rows, size_t *n,
                            struct fl_error *err)
{
    return GET_ITEMS(src, "/api/v1/users", user, rows, n, err);
}

static int remote_user_change(struct cli_source *src, const char *login, enum cli_user_change what,
                              const char *password, struct fl_error *err)
{
    static const char *const verb[] = {"password", "disable", "enable"};
    struct fl_buf path = FL_BUF_INIT, body = FL_BUF_INIT;
    int rc;

    fl_buf_adds(&path, "/api/v1/users/");
    cli_url_escape(&path, login);
    fl_buf_addf(&path, "/%s", verb[what]);
    fl_buf_addc(&body, '{');
    if (what == CLI_USER_PASSWORD)
        member_str(&body, "password", password);
    fl_buf_addc(&body, '}');
    rc = call(src, "POST", path.ptr, "application/json", body.ptr, body.len, NULL, err);
    memset(body.ptr, 0, body.len); /* it held the password */
    fl_buf_release(&body);
    fl_buf_release(&path);
    return rc;
}

static int remote_role_add(struct cli_source *src, const char *name, const char *description,
                           uint64_t *id, struct fl_error *err)
{
    struct fl_buf body = FL_BUF_INIT;
    int rc;
    fl_buf_addc(&body, '{');
    member_str(&body, "name", name);
    member_str(&body, "description", description);
    fl_buf_addc(&body, '}');
    rc = post_for_id(src, "/api/v1/roles", &body, id, err);
    fl_buf_release(&body);
    return rc;
}

static int remote_role_list(struct cli_source *src, struct fl_role_row **rows, size_t *n,
                            struct fl_error *err)
{
    return GET_ITEMS(src, "/api/v1/roles", role, rows, n, err);
}

static int remote_department_add(struct cli_source *src, const char *name, const char *parent,
                                 const char *head, uint64_t *id, struct fl_error *err)
{
    struct fl_buf body = FL_BUF_INIT;
    int rc;
    fl_buf_addc(&body, '{');
    member_str(&body, "name", name);
    member_str(&body, "parent", parent);
    member_str(&body, "head", head);
    fl_buf_addc(&body, '}');
    rc = post_for_id(src, "/api/v1/departments", &body, id, err);
    fl_buf_release(&body);
    return rc;
}

static int remote_department_list(struct cli_source *src, struct fl_department_row **rows,
                                  size_t *n, struct fl_error *err)
{
    return GET_ITEMS(src, "/api/v1/departments", department, rows, n, err);
}

static int remote_token_create(struct cli_source *src, const char *user, const char *name,
                               enum fl_scope scope, char *text, uint64_t *id, struct fl_error *err)
{
    struct fl_buf body = FL_BUF_INIT;
    struct fl_value *doc = NULL;
    const struct fl_value *t;
    const char *s;
    size_t len;
    int rc;

    fl_buf_addc(&body, '{');
    member_str(&body, "user", user);
    member_str(&body, "scope", fl_scope_name(scope));
    member_str(&body, "name", name);
    fl_buf_addc(&body, '}');
    if ((rc = call(src, "POST", "/api/v1/tokens", "application/json", body.ptr, body.len, &doc,
                   err)) ||
        (rc = cli_remote_id(doc, "id", id, err)))
        goto out;
    t = fl_value_context_get(doc, "token", 5);
    if (!t || !(s = fl_value_str(t, &len)) || len >= FL_TOKEN_TEXT_MAX) {
        rc = fl_error_set(err, FL_EINVAL, "the server's answer has no token");
        goto out;
    }
    memcpy(text, s, len);
    text[len] = '\0';
out:
    fl_value_unref(doc);
    fl_buf_release(&body);
    return rc;
}

static int remote_token_revoke(struct cli_source *src, uint64_t id, struct fl_error *err)
{
    char path[64];
    snprintf(path, sizeof(path), "/api/v1/tokens/%llu/revoke", (unsigned long long)id);
    return call(src, "POST", path, "application/json", "{}", 2, NULL, err);
}

static int remote_token_list(struct cli_source *src, const char *user, struct fl_token_row **rows,
                             size_t *n, struct fl_error *err)
{
    struct fl_buf path = FL_BUF_INIT;
    int rc;
    fl_buf_adds(&path, "/api/v1/tokens");
    if (user)
        add_param(&path, "user", user);
    rc = GET_ITEMS(src, path.ptr, token, rows, n, err);
    fl_buf_release(&path);
    return rc;
}

static const struct cli_source_ops remote_ops = {
    .close = remote_close,
    .require = remote_require,
    .definition_list = remote_definition_list,
    .definition_get = remote_definition_get,
    .deploy = remote_deploy,
    .instance_list = remote_instance_list,
    .instance_get = remote_instance_get,
    .task_list = remote_task_list,
    .task_get = remote_task_get,
    .history = remote_history,
    .controls = remote_controls,
    .run = remote_run,
    .migrate = remote_migrate,
    .user_add = remote_user_add,
    .user_list = remote_user_list,
    .user_change = remote_user_change,
    .role_add = remote_role_add,
    .role_list = remote_role_list,
    .department_add = remote_department_add,
    .department_list = remote_department_list,
    .token_create = remote_token_create,
    .token_revoke = remote_token_revoke,
    .token_list = remote_token_list,
};

int cli__source_remote_new(const struct cli_common *c, struct cli_source **out,
                           struct fl_error *err)
{
    struct remote_source *r = fl_calloc(1, sizeof(*r));
    int rc = cli_http_open(c->server, c->token, &r->http, err);
    if (rc) {
        free(r);
        *out = NULL;
        return rc;
    }
    r->base.ops = &remote_ops;
    r->base.c = c;
    r->base.remote = true;
    *out = &r->base;
    return 0;
}
