/* The store front for messages and signals (flowd/store.h, issue 5): checks the arguments
 * every back end would check, forwards to the back end's message table, and frees the
 * rows it hands out. Nothing here knows SQL. */
#include <stdlib.h>
#include <string.h>

#include "store/store_impl.h"

void fl_message_row_release(struct fl_message_row *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->correlation_key);
    free(r->variables);
    free(r->message_id);
    memset(r, 0, sizeof(*r));
}

void fl_outbox_rows_free(struct fl_outbox_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        free(rows[i].node_id);
        free(rows[i].name);
        free(rows[i].correlation_key);
        free(rows[i].variables);
    }
    free(rows);
}

void fl_start_event_rows_free(struct fl_start_event_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        free(rows[i].process_key);
        free(rows[i].node_id);
    }
    free(rows);
}

void fl_subscriptions_free(struct fl_subscription *subs, size_t n)
{
    for (size_t i = 0; subs && i < n; i++) {
        free(subs[i].name);
        free(subs[i].correlation_key);
    }
    free(subs);
}

static int check_trigger(int trigger, struct fl_error *err)
{
    if (trigger != FL_TRIGGER_MESSAGE && trigger != FL_TRIGGER_SIGNAL)
        return fl_error_set(err, FL_EINVAL, "trigger %d is neither message nor signal", trigger);
    return 0;
}

static int check_name(const char *name, struct fl_error *err)
{
    if (!name || !*name)
        return fl_error_set(err, FL_EINVAL, "a message or signal needs a name");
    return 0;
}

int fl_store_subs_find(struct fl_store *s, int trigger, const char *name, const char *key,
                       size_t max, struct fl_subscription **rows, size_t *n,
                       struct fl_error *err)
{
    int rc;
    *rows = NULL;
    *n = 0;
    if ((rc = check_trigger(trigger, err)) != 0 || (rc = check_name(name, err)) != 0)
        return rc;
    return s->ops->messages->subs_find(s, trigger, name, key, max, rows, n, err);
}

int fl_store_message_put(struct fl_store *s, const struct fl_message_row *m,
                         struct fl_error *err)
{
    int rc;
    if ((rc = check_name(m->name, err)) != 0)
        return rc;
    if (!m->id)
        return fl_error_set(err, FL_EINVAL, "a message needs an id");
    return s->ops->messages->message_put(s, m, err);
}

int fl_store_message_by_client_id(struct fl_store *s, const char *message_id, int64_t now_ms,
                                  struct fl_message_row *out, bool *found, struct fl_error *err)
{
    memset(out, 0, sizeof(*out));
    *found = false;
    if (!message_id || !*message_id)
        return 0;
    return s->ops->messages->message_by_client_id(s, message_id, now_ms, out, found, err);
}

int fl_store_message_match(struct fl_store *s, const char *name, const char *key, int64_t now_ms,
                           struct fl_message_row *out, bool *found, struct fl_error *err)
{
    int rc;
    memset(out, 0, sizeof(*out));
    *found = false;
    if ((rc = check_name(name, err)) != 0)
        return rc;
    return s->ops->messages->message_match(s, name, key, now_ms, out, found, err);
}

int fl_store_message_set_status(struct fl_store *s, uint64_t id, int status,
                                uint64_t instance_id, struct fl_error *err)
{
    if (status != FL_MESSAGE_CORRELATED && status != FL_MESSAGE_STARTED)
        return fl_error_set(err, FL_EINVAL, "message status %d is not an outcome", status);
    return s->ops->messages->message_set_status(s, id, status, instance_id, err);
}

int fl_store_messages_expire(struct fl_store *s, int64_t now_ms, uint64_t *n,
                             struct fl_error *err)
{
    uint64_t dummy;
    return s->ops->messages->messages_expire(s, now_ms, n ? n : &dummy, err);
}

int fl_store_outbox_list(struct fl_store *s, uint64_t after, size_t limit, bool undelivered,
                         struct fl_outbox_row **rows, size_t *n, struct fl_error *err)
{
    *rows = NULL;
    *n = 0;
    if (limit == 0)
        limit = FL__STORE_LIST_LIMIT;
    if (limit > FL__STORE_LIST_MAX)
        limit = FL__STORE_LIST_MAX;
    return s->ops->messages->outbox_list(s, after, limit, undelivered, rows, n, err);
}

int fl_store_outbox_delivered(struct fl_store *s, uint64_t id, int64_t at, struct fl_error *err)
{
    return s->ops->messages->outbox_delivered(s, id, at, err);
}

int fl_store_start_events_set(struct fl_store *s, const char *key, uint64_t def_id,
                              const int *triggers, const char *const *names,
                              const char *const *node_ids, size_t n, struct fl_error *err)
{
    int rc;
    if (!key || !*key || !def_id)
        return fl_error_set(err, FL_EINVAL, "start events need a process key and definition");
    for (size_t i = 0; i < n; i++)
        if ((rc = check_trigger(triggers[i], err)) != 0 || (rc = check_name(names[i], err)) != 0)
            return rc;
    return s->ops->messages->start_events_set(s, key, def_id, triggers, names, node_ids, n, err);
}

int fl_store_start_events_find(struct fl_store *s, int trigger, const char *name,
                               struct fl_start_event_row **rows, size_t *n,
                               struct fl_error *err)
{
    int rc;
    *rows = NULL;
    *n = 0;
    if ((rc = check_trigger(trigger, err)) != 0 || (rc = check_name(name, err)) != 0)
        return rc;
    return s->ops->messages->start_events_find(s, trigger, name, rows, n, err);
}
