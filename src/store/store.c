/* The store front: parses the database URL, picks the back end and forwards every call
 * through its vtable; also the code all back ends share (freeing rows, joining role
 * lists, JSON string quoting). Nothing here knows SQL. */
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/buf.h"
#include "store/store_impl.h"

int fl_store_open(const char *url, const struct fl_store_options *opt, struct fl_store **out,
                  struct fl_error *err)
{
    const char *path = url;
    *out = NULL;
    if (!url || !*url)
        return fl_error_set(err, FL_EINVAL, "empty database url");
    if (strncmp(url, "sqlite:", 7) == 0)
        path = url + 7;
    else if (strncmp(url, "file:", 5) == 0)
        path = url + 5;
    else if (strncmp(url, "postgres:", 9) == 0 || strncmp(url, "postgresql:", 11) == 0)
        return fl_error_set(err, FL_EUNSUPPORTED, "postgresql store not built in: '%s'", url);
    if (!*path)
        return fl_error_set(err, FL_EINVAL, "database url '%s' has no path", url);
    return fl__sqlite_ops.open(path, opt, out, err);
}

void fl_store_close(struct fl_store *s)
{
    if (s)
        s->ops->close(s);
}

int fl_store_schema_version(struct fl_store *s)
{
    return s->ops->schema_version(s);
}

int fl_store_begin(struct fl_store *s, struct fl_error *err)
{
    return s->ops->begin(s, err);
}

int fl_store_commit(struct fl_store *s, struct fl_error *err)
{
    return s->ops->commit(s, err);
}

int fl_store_rollback(struct fl_store *s)
{
    return s->ops->rollback(s);
}

int fl_store_read_begin(struct fl_store *s, struct fl_error *err)
{
    return s->ops->read_begin ? s->ops->read_begin(s, err) : 0;
}

void fl_store_read_end(struct fl_store *s)
{
    if (s->ops->read_end)
        s->ops->read_end(s);
}

int fl_store_background_start(struct fl_store *s, struct fl_error *err)
{
    return s->ops->background_start ? s->ops->background_start(s, err) : 0;
}

int fl_store_definition_put(struct fl_store *s, const char *key, const char *name, const char *xml,
                            size_t xml_len, int64_t now_ms, struct fl_definition_row *out,
                            bool *created, struct fl_error *err)
{
    if (!key || !*key || !xml)
        return fl_error_set(err, FL_EINVAL, "definition needs a key and xml");
    if (xml_len > (size_t)INT32_MAX)
        return fl_error_set(err, FL_ETOOBIG, "definition '%s' too large", key);
    return s->ops->definition_put(s, key, name, xml, xml_len, now_ms, out, created, err);
}

int fl_store_definition_find(struct fl_store *s, const char *key, int32_t version, uint64_t *id,
                             struct fl_error *err)
{
    if (!key)
        return fl_error_set(err, FL_EINVAL, "definition key missing");
    return s->ops->definition_find(s, key, version, id, err);
}

int fl_store_definition_get(struct fl_store *s, const char *key, int32_t version, uint64_t id,
                            struct fl_definition_row *out, struct fl_error *err)
{
    return s->ops->definition_get(s, key, version, id, out, err);
}

int fl_store_definition_list(struct fl_store *s, struct fl_definition_row **rows, size_t *n,
                             struct fl_error *err)
{
    return s->ops->definition_list(s, rows, n, err);
}

int fl_store_instance_load(struct fl_store *s, uint64_t id, struct fl_instance **out,
                           struct fl_error *err)
{
    return s->ops->instance_load(s, id, out, err);
}

int fl_store_apply(struct fl_store *s, const struct fl_model *m, const struct fl_instance *inst,
                   const struct fl_effects *fx, struct fl_error *err)
{
    return s->ops->apply(s, m, inst, fx, err);
}

int fl_store_max_id(struct fl_store *s, enum fl_id_kind kind, uint64_t *out, struct fl_error *err)
{
    return s->ops->max_id(s, kind, out, err);
}

int fl_store_changed_elsewhere(struct fl_store *s, bool *changed, struct fl_error *err)
{
    *changed = true; /* a back end that cannot tell must be assumed changed */
    return s->ops->changed_elsewhere ? s->ops->changed_elsewhere(s, changed, err) : 0;
}

int fl_store_instance_list(struct fl_store *s, const struct fl_instance_query *q,
                           struct fl_instance_row **rows, size_t *n, struct fl_error *err)
{
    return s->ops->instance_list(s, q, rows, n, err);
}

int fl_store_instance_get(struct fl_store *s, uint64_t id, struct fl_instance_row *out,
                          struct fl_error *err)
{
    return s->ops->instance_get(s, id, out, err);
}

int fl_store_task_list(struct fl_store *s, const struct fl_task_query *q, struct fl_task_row **rows,
                       size_t *n, struct fl_error *err)
{
    return s->ops->task_list(s, q, rows, n, err);
}

int fl_store_task_get(struct fl_store *s, uint64_t id, struct fl_task_row *out,
                      struct fl_error *err)
{
    return s->ops->task_get(s, id, out, err);
}

int fl_store_idem_get(struct fl_store *s, const char *scope, struct fl_idem_row *out,
                      struct fl_error *err)
{
    return s->ops->idem_get(s, scope, out, err);
}

int fl_store_idem_put(struct fl_store *s, const struct fl_idem_row *row, struct fl_error *err)
{
    return s->ops->idem_put(s, row, err);
}

void fl_idem_row_release(struct fl_idem_row *r)
{
    if (!r)
        return;
    free(r->scope);
    free(r->content_type);
    free(r->location);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

int fl_store_count_open(struct fl_store *s, uint64_t *open_tasks, uint64_t *active_instances,
                        struct fl_error *err)
{
    return s->ops->count_open(s, open_tasks, active_instances, err);
}

int fl_store_task_set_assignee(struct fl_store *s, uint64_t id, const char *assignee,
                               struct fl_error *err)
{
    return s->ops->task_set_assignee(s, id, assignee, err);
}

int fl_store_job_instance(struct fl_store *s, uint64_t job_id, uint64_t *instance_id,
                          struct fl_error *err)
{
    return s->ops->job_instance(s, job_id, instance_id, err);
}

int fl_store_history(struct fl_store *s, uint64_t instance_id, struct fl_event_row **rows,
                     size_t *n, struct fl_error *err)
{
    return s->ops->history(s, instance_id, rows, n, err);
}

/* ---- rows ---- */

int fl_store_timers_due(struct fl_store *s, int64_t after_due, uint64_t after_id,
                        struct fl_timer_due *rows, size_t max, size_t *n, struct fl_error *err)
{
    *n = 0;
    if (max == 0)
        return 0;
    return s->ops->timers_due(s, after_due, after_id, rows, max, n, err);
}

int fl_store_timer_count(struct fl_store *s, uint64_t *n, struct fl_error *err)
{
    return s->ops->timer_count(s, n, err);
}

int fl_store_control_list(struct fl_store *s, const struct fl_control_query *q,
                          struct fl_control_row **rows, size_t *n, struct fl_error *err)
{
    *rows = NULL;
    *n = 0;
    return s->ops->control_list(s, q, rows, n, err);
}

void fl_control_rows_free(struct fl_control_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].name);
        free(rows[i].process_key);
        free(rows[i].business_key);
    }
    free(rows);
}

int fl_store_notification_list(struct fl_store *s, const struct fl_notification_query *q,
                               struct fl_notification_row **rows, size_t *n,
                               struct fl_error *err)
{
    *rows = NULL;
    *n = 0;
    if (!q || !q->user || !*q->user)
        return fl_error_set(err, FL_EINVAL, "notifications are listed for a user");
    return s->ops->notification_list(s, q, rows, n, err);
}

int fl_store_notification_read(struct fl_store *s, const char *user, uint64_t id, int64_t now_ms,
                               struct fl_error *err)
{
    if (!user || !*user)
        return fl_error_set(err, FL_EINVAL, "notifications are read by a user");
    return s->ops->notification_read(s, user, id, now_ms, err);
}

void fl_notification_rows_free(struct fl_notification_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        free(rows[i].user);
        free(rows[i].kind);
        free(rows[i].node_id);
        free(rows[i].message);
    }
    free(rows);
}

void fl_definition_row_release(struct fl_definition_row *r)
{
    if (!r)
        return;
    free(r->key);
    free(r->name);
    free(r->xml);
    memset(r, 0, sizeof(*r));
}

void fl_definition_rows_free(struct fl_definition_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        fl_definition_row_release(&rows[i]);
    free(rows);
}

void fl_instance_row_release(struct fl_instance_row *r)
{
    if (!r)
        return;
    free(r->process_key);
    free(r->business_key);
    free(r->variables_json);
    free(r->started_by);
    free(r->owner);
    memset(r, 0, sizeof(*r));
}

void fl_instance_rows_free(struct fl_instance_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        fl_instance_row_release(&rows[i]);
    free(rows);
}

void fl_task_row_release(struct fl_task_row *r)
{
    if (!r)
        return;
    free(r->node_id);
    free(r->name);
    free(r->process_key);
    free(r->assignee);
    free(r->candidate_roles);
    free(r->candidate_users);
    free(r->closed_by);
    free(r->main_action_kind);
    free(r->watch_roles);
    free(r->instance_started_by);
    free(r->instance_owner);
    memset(r, 0, sizeof(*r));
}

void fl_task_rows_free(struct fl_task_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        fl_task_row_release(&rows[i]);
    free(rows);
}

void fl_event_rows_free(struct fl_event_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        free(rows[i].node_id);
        free(rows[i].actor);
        free(rows[i].detail);
    }
    free(rows);
}

/* ---- shared helpers ---- */

char *fl__store_join_list(const struct fl_strlist *l)
{
    struct fl_buf b = FL_BUF_INIT;
    if (!l || l->n == 0)
        return NULL;
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            fl_buf_addc(&b, ',');
        fl_buf_adds(&b, l->items[i] ? l->items[i] : "");
    }
    return fl_buf_detach(&b, NULL);
}


int fl_store_start_timers_clear(struct fl_store *s, const char *key, struct fl_error *err)
{
    return s->ops->start_timers_clear(s, key, err);
}

int fl_store_start_timer_put(struct fl_store *s, const struct fl_timer *t, struct fl_error *err)
{
    return s->ops->start_timer_put(s, t, err);
}

int fl_store_timer_get(struct fl_store *s, uint64_t id, struct fl_timer *out, struct fl_error *err)
{
    return s->ops->timer_get(s, id, out, err);
}

int fl_store_timer_delete(struct fl_store *s, uint64_t id, struct fl_error *err)
{
    return s->ops->timer_delete(s, id, err);
}
