/* How the CLI shows the things several subcommands print: a task (table row or JSON
 * object), an instance as JSON, the open tasks of an instance after a command, and the
 * incidents a command left on an instance (read back from its history). */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_source.h"
#include "flowd/alloc.h"
#include "flowd/engine.h"
#include "flowd/model.h"

/* A comma-separated list from the store as a JSON array of strings. */
static void json_list(struct cli_json *j, const char *key, const char *csv)
{
    const char *p = csv, *comma;
    char *item;

    cli_json_array(j, key);
    while (p && *p) {
        comma = strchr(p, ',');
        item = comma ? fl_strndup(p, (size_t)(comma - p)) : fl_strdup(p);
        if (item[0])
            cli_json_str(j, NULL, item);
        free(item);
        p = comma ? comma + 1 : NULL;
    }
    cli_json_end(j);
}

void cli_json_task(struct cli_json *j, const char *key, const struct fl_task_row *t, int64_t now_ms)
{
    const char *mark = cli_task_mark(t, now_ms);

    cli_json_object(j, key);
    cli_json_uint(j, "id", t->id);
    cli_json_uint(j, "instance_id", t->instance_id);
    cli_json_str(j, "process_key", t->process_key);
    cli_json_str(j, "node_id", t->node_id);
    cli_json_str(j, "name", t->name);
    cli_json_str(j, "status", cli_task_status_name(t->status));
    cli_json_str(j, "assignee", t->assignee);
    json_list(j, "candidate_roles", t->candidate_roles);
    json_list(j, "candidate_users", t->candidate_users);
    cli_json_time(j, "created_at", t->created_at);
    cli_json_time(j, "due_at", t->due_at);
    cli_json_time(j, "remind_at", t->remind_at);
    cli_json_bool(j, "overdue", !strcmp(mark, "overdue"));
    cli_json_time(j, "closed_at", t->closed_at);
    cli_json_str(j, "closed_by", t->closed_by);
    if (t->main_action_kind) {
        cli_json_object(j, "main_action");
        cli_json_str(j, "kind", t->main_action_kind);
        cli_json_bool(j, "required", t->main_action_required);
        cli_json_bool(j, "done", t->main_action_done);
        cli_json_end(j);
    } else {
        cli_json_null(j, "main_action");
    }
    cli_json_end(j);
}

void cli_json_instance(struct cli_json *j, const char *key, const struct fl_instance_row *r,
                       bool with_vars)
{
    cli_json_object(j, key);
    cli_json_uint(j, "id", r->id);
    cli_json_uint(j, "definition_id", r->definition_id);
    cli_json_str(j, "process_key", r->process_key);
    cli_json_int(j, "version", r->version);
    cli_json_str(j, "business_key", r->business_key);
    cli_json_str(j, "status", cli_instance_status_name(r->status));
    cli_json_bool(j, "incident", r->incident);
    cli_json_time(j, "started_at", r->started_at);
    cli_json_time(j, "ended_at", r->ended_at);
    if (with_vars)
        cli_json_raw(j, "variables", r->variables_json ? r->variables_json : "{}");
    cli_json_end(j);
}

void cli_task_table_init(struct cli_table *t, bool with_status)
{
    if (with_status)
        cli_table_init(t, 9, "ID", "INSTANCE", "PROCESS", "TASK", "ROLES", "ASSIGNEE", "DUE",
                       "MAIN ACTION", "STATUS");
    else
        cli_table_init(t, 8, "ID", "INSTANCE", "PROCESS", "TASK", "ROLES", "ASSIGNEE", "DUE",
                       "MAIN ACTION");
}

void cli_task_table_add(struct cli_table *t, const struct fl_task_row *r, bool with_status,
                        int64_t now_ms)
{
    char id[24], inst[24], tb[40], due[64], action[160];
    const char *mark = cli_task_mark(r, now_ms);

    snprintf(id, sizeof(id), "%llu", (unsigned long long)r->id);
    snprintf(inst, sizeof(inst), "%llu", (unsigned long long)r->instance_id);
    if (r->due_at)
        snprintf(due, sizeof(due), "%s%s%s%s", cli_time(r->due_at, false, tb), mark[0] ? " (" : "",
                 mark, mark[0] ? ")" : "");
    else
        strcpy(due, "-");
    if (r->main_action_kind)
        snprintf(action, sizeof(action), "%s%s", r->main_action_kind,
                 r->main_action_done       ? " (done)"
                 : r->main_action_required ? " (required)"
                                           : "");
    else
        strcpy(action, "-");
    if (with_status)
        cli_table_add(t, id, inst, r->process_key, r->name ? r->name : r->node_id,
                      r->candidate_roles, r->assignee, due, action,
                      cli_task_status_name(r->status));
    else
        cli_table_add(t, id, inst, r->process_key, r->name ? r->name : r->node_id,
                      r->candidate_roles, r->assignee, due, action);
}

/* Call the store page by page (its listings are capped, at a size that is its own business:
 * only an empty page ends the walk) for the open tasks of one instance, handing each row
 * to add. */
static int each_open_task(struct cli_source *src, uint64_t instance_id,
                          void (*add)(void *arg, const struct fl_task_row *r), void *arg,
                          struct fl_error *err)
{
    struct fl_task_query q = {
        .open_only = true, .instance_id = instance_id, .limit = CLI_PAGE_ROWS};
    struct fl_task_row *rows;
    size_t n;
    int rc;

    for (;;) {
        rows = NULL;
        n = 0;
        rc = src->ops->task_list(src, &q, &rows, &n, err);
        if (rc)
            return rc;
        for (size_t i = 0; i < n; i++)
            add(arg, &rows[i]);
        if (n)
            q.after_id = rows[n - 1].id;
        fl_task_rows_free(rows, n);
        if (n == 0)
            return 0;
    }
}

struct table_arg {
    struct cli_table *t;
    int64_t now_ms;
};

static void add_to_table(void *arg, const struct fl_task_row *r)
{
    struct table_arg *a = arg;
    cli_task_table_add(a->t, r, false, a->now_ms);
}

int cli_print_open_tasks(struct cli_source *src, uint64_t instance_id, int64_t now_ms,
                         struct fl_error *err)
{
    struct cli_table t;
    struct table_arg a = {&t, now_ms};
    int rc;

    cli_task_table_init(&t, false);
    rc = each_open_task(src, instance_id, add_to_table, &a, err);
    if (rc)
        goto out;
    if (cli_table_rows(&t) == 0) {
        printf("no open tasks\n");
    } else {
        printf("open tasks:\n");
        cli_table_print(&t, stdout, "  ");
    }
out:
    cli_table_release(&t);
    return rc;
}

struct json_arg {
    struct cli_json *j;
    int64_t now_ms;
};

static void add_to_json(void *arg, const struct fl_task_row *r)
{
    struct json_arg *a = arg;
    cli_json_task(a->j, NULL, r, a->now_ms);
}

int cli_json_open_tasks(struct cli_source *src, struct cli_json *j, uint64_t instance_id,
                        int64_t now_ms, struct fl_error *err)
{
    struct json_arg a = {j, now_ms};
    int rc;

    cli_json_array(j, "open_tasks");
    rc = each_open_task(src, instance_id, add_to_json, &a, err);
    cli_json_end(j);
    return rc;
}

int cli_history_last_seq(struct cli_source *src, uint64_t instance_id, uint64_t *out,
                         struct fl_error *err)
{
    struct fl_event_row *rows = NULL;
    size_t n = 0;
    int rc = src->ops->history(src, instance_id, &rows, &n, err);

    *out = 0;
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].seq > *out)
            *out = rows[i].seq;
    }
    fl_event_rows_free(rows, n);
    return 0;
}

char *cli_incident_message(const char *detail)
{
    struct fl_value *v = NULL;
    const struct fl_value *m;
    const char *s;
    size_t len;
    char *msg = NULL;

    if (!detail || !detail[0])
        return fl_strdup("incident");
    if (fl_value_from_json(detail, strlen(detail), &v, NULL) == 0) {
        m = fl_value_context_get(v, "error", 5);
        if (!m)
            m = fl_value_context_get(v, "message", 7);
        if (m && (s = fl_value_str(m, &len)))
            msg = fl_strndup(s, len);
        fl_value_unref(v);
    }
    return msg ? msg : fl_strdup(detail);
}

/* Where node_id sits in the XML the instance was started from, for the error line of an
 * incident. The model is read again only when an incident is shown: that is rare, and
 * the reader is the one place that knows positions. Leaves 0 when it cannot tell. */
static void node_position(struct cli_source *src, const struct fl_instance_row *inst,
                          const char *node_id, int *line, int *column)
{
    struct fl_definition_row def;
    struct fl_bpmn_doc *doc = NULL;
    uint32_t i;

    *line = *column = 0;
    if (!node_id || src->ops->definition_get(src, inst->process_key, inst->version,
                                             inst->definition_id, &def, NULL) != 0)
        return;
    if (fl_bpmn_read(def.xml, def.xml_len, &doc, NULL) == 0) {
        for (size_t p = 0; p < doc->n_processes; p++) {
            const struct fl_model *m = doc->processes[p];
            if (inst->process_key && strcmp(m->key, inst->process_key) != 0)
                continue;
            if ((i = fl_model_find_node(m, node_id)) != FL_NONE) {
                *line = m->nodes[i].line;
                *column = m->nodes[i].column;
                break;
            }
        }
    }
    fl_bpmn_doc_free(doc);
    fl_definition_row_release(&def);
}

int cli_incidents(struct cli_source *src, const struct fl_instance_row *inst, uint64_t after_seq,
                  struct cli_json *j, size_t *count, struct fl_error *err)
{
    struct fl_event_row *rows = NULL;
    uint64_t instance_id = inst->id;
    size_t n = 0;
    int rc = src->ops->history(src, instance_id, &rows, &n, err);

    *count = 0;
    if (rc)
        return rc;
    if (j)
        cli_json_array(j, "incidents");
    for (size_t i = 0; i < n; i++) {
        const struct fl_event_row *e = &rows[i];
        char *msg;
        if (e->type != FL_EV_INCIDENT_RAISED || e->seq <= after_seq)
            continue;
        msg = cli_incident_message(e->detail);
        if (j) {
            cli_json_object(j, NULL);
            cli_json_uint(j, "incident_id", e->ref_id);
            cli_json_str(j, "node_id", e->node_id);
            cli_json_time(j, "at", e->at);
            cli_json_str(j, "message", msg);
            cli_json_raw(j, "detail", e->detail);
            cli_json_end(j);
        } else {
            struct fl_error ie;
            int line, column;
            fl_error_clear(&ie);
            snprintf(ie.msg, sizeof(ie.msg), "instance %llu stopped with an incident: %s",
                     (unsigned long long)instance_id, msg);
            node_position(src, inst, e->node_id, &line, &column);
            fl_error_at(&ie, e->node_id, line, column);
            cli_fail(FL_EREFUSED, &ie);
        }
        free(msg);
        (*count)++;
    }
    if (j)
        cli_json_end(j);
    fl_event_rows_free(rows, n);
    return 0;
}
