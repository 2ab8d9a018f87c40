/* Messages and signals across instances, on the writer thread inside its transaction:
 * publishing a message (FL_CMD_PUBLISH_MESSAGE: the oldest matching subscription, else a
 * message start event, else the buffer until it expires), broadcasting a signal (the API's
 * FL_CMD_BROADCAST_SIGNAL or a throw's FL_FX_SIGNAL: every signal subscription and signal
 * start event), handing a buffered message to a new subscription (FL_FX_SUB_OPEN), and
 * delivering what processes send (FL_FX_OUTBOX). Whatever these set off commits with the
 * command that set it off, or not at all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/feel.h"
#include "flowd/store.h"
#include "flowd/value.h"
#include "service/service_int.h"

/* Errors of the store itself: they doom the transaction (as writer.c). */
static bool is_store_failure(int rc)
{
    return rc == FL_ESTORE || rc == FL_EIO || rc == FL_EBUSY || rc == FL_ENOMEM ||
           rc == FL_EINTERNAL;
}

/* Run a nested command; a refusal becomes 1 (the target moved on: try the next one), a
 * store failure is returned, success is 0 with *res filled. */
static int nested(struct fl_service *svc, const struct fl_command *cmd, unsigned depth,
                  struct fl_result *res, struct fl_error *err)
{
    int rc = fl__svc_nested(svc, cmd, depth, res);
    if (rc == 0)
        return 0;
    if (is_store_failure(rc)) {
        if (err)
            *err = res->err;
        return rc;
    }
    return 1;
}

/* Deliver a message or signal to subscription s (nested CORRELATE): 0 delivered, 1 not
 * (it closed meanwhile), or a store failure. */
static int correlate(struct fl_service *svc, const struct fl_subscription *s,
                     const struct fl_value *vars, const char *actor, unsigned depth,
                     struct fl_error *err)
{
    struct fl_command c = {.kind = FL_CMD_CORRELATE,
                           .instance_id = s->instance_id,
                           .target_id = s->id,
                           .variables = vars,
                           .actor = actor};
    struct fl_result res;
    return nested(svc, &c, depth, &res, err);
}

/* Start the latest version of process key at start event node_id: 0 (*instance_id), 1
 * refused, or a store failure. */
static int start_at(struct fl_service *svc, const char *key, const char *node_id,
                    const struct fl_value *vars, const char *actor, unsigned depth,
                    uint64_t *instance_id, struct fl_error *err)
{
    struct fl_command c = {.kind = FL_CMD_START,
                           .process_key = key,
                           .start_node_id = node_id,
                           .variables = vars,
                           .actor = actor};
    struct fl_result res;
    int rc = nested(svc, &c, depth, &res, err);
    if (rc == 0)
        *instance_id = res.instance_id;
    return rc;
}

/* Message name/key to a subscription, else a message start event. *outcome gets
 * FL_MESSAGE_CORRELATED or FL_MESSAGE_STARTED, or -1 when nothing took it. */
static int deliver(struct fl_service *svc, const char *name, const char *key,
                   const struct fl_value *vars, const char *actor, unsigned depth, int *outcome,
                   uint64_t *instance_id, struct fl_error *err)
{
    struct fl_subscription *subs = NULL;
    struct fl_start_event_row *starts = NULL;
    size_t n = 0, n_starts = 0;
    int rc;

    *outcome = -1;
    *instance_id = 0;
    /* A few at a time: the first one still open takes it. */
    if ((rc = fl_store_subs_find(svc->store, FL_TRIGGER_MESSAGE, name, key, 16, &subs, &n, err)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        rc = correlate(svc, &subs[i], vars, actor, depth, err);
        if (rc == 1)
            continue;
        if (rc == 0) {
            *outcome = FL_MESSAGE_CORRELATED;
            *instance_id = subs[i].instance_id;
        }
        break;
    }
    fl_subscriptions_free(subs, n);
    if (rc < 0 || *outcome >= 0)
        return rc < 0 ? rc : 0;
    if ((rc = fl_store_start_events_find(svc->store, FL_TRIGGER_MESSAGE, name, &starts, &n_starts,
                                         err)))
        return rc;
    for (size_t i = 0; i < n_starts; i++) {
        rc = start_at(svc, starts[i].process_key, starts[i].node_id, vars, actor, depth,
                      instance_id, err);
        if (rc == 1)
            continue;
        if (rc == 0)
            *outcome = FL_MESSAGE_STARTED;
        break;
    }
    fl_start_event_rows_free(starts, n_starts);
    return rc < 0 ? rc : 0;
}

/* Broadcast signal name: every signal subscription open now (collected first: what the
 * signal itself opens is not reached by it) and every signal start event. */
static int broadcast(struct fl_service *svc, const char *name, const struct fl_value *vars,
                     const char *actor, unsigned depth, uint32_t *n_correlated, uint32_t *n_started,
                     struct fl_error *err)
{
    struct fl_subscription *subs = NULL;
    struct fl_start_event_row *starts = NULL;
    size_t n = 0, n_starts = 0;
    int rc;

    *n_correlated = *n_started = 0;
    if ((rc = fl_store_subs_find(svc->store, FL_TRIGGER_SIGNAL, name, NULL, 0, &subs, &n, err)))
        return rc;
    for (size_t i = 0; i < n && rc >= 0; i++) {
        rc = correlate(svc, &subs[i], vars, actor, depth, err);
        *n_correlated += rc == 0;
    }
    fl_subscriptions_free(subs, n);
    if (rc < 0)
        return rc;
    if ((rc = fl_store_start_events_find(svc->store, FL_TRIGGER_SIGNAL, name, &starts, &n_starts,
                                         err)))
        return rc;
    for (size_t i = 0; i < n_starts && rc >= 0; i++) {
        uint64_t id;
        rc = start_at(svc, starts[i].process_key, starts[i].node_id, vars, actor, depth, &id, err);
        *n_started += rc == 0;
    }
    fl_start_event_rows_free(starts, n_starts);
    return rc < 0 ? rc : 0;
}

/* ---- FL_CMD_PUBLISH_MESSAGE / FL_CMD_BROADCAST_SIGNAL ---- */

static void answer_from_row(struct fl_result *res, const struct fl_message_row *m)
{
    res->duplicate = true;
    res->message_outcome = m->status;
    res->message_id = m->id;
    res->expires_at = m->expires_at;
    res->instance_id = m->status == FL_MESSAGE_BUFFERED ? 0 : m->instance_id;
}

static int publish(struct fl_service *svc, const struct fl_command *cmd, struct fl_result *res,
                   unsigned depth)
{
    int64_t now = fl__svc_now(svc);
    int64_t ttl = cmd->ttl_ms < 0 ? svc->message_ttl_ms : cmd->ttl_ms;
    const char *key = cmd->correlation_key && cmd->correlation_key[0] ? cmd->correlation_key : NULL;
    struct fl_message_row m;
    struct fl_buf vars = FL_BUF_INIT;
    bool found = false;
    int outcome, rc;
    uint64_t iid;

    /* Expired messages go first: they neither match nor count as duplicates. */
    if ((rc = fl_store_messages_expire(svc->store, now, NULL, &res->err)) != 0)
        return rc;
    if (cmd->message_id && cmd->message_id[0]) {
        rc = fl_store_message_by_client_id(svc->store, cmd->message_id, now, &m, &found, &res->err);
        if (rc != 0)
            return rc;
        if (found) {
            answer_from_row(res, &m);
            fl_message_row_release(&m);
            return 0;
        }
    }
    if ((rc = deliver(svc, cmd->message_name, key, cmd->variables, cmd->actor, depth + 1, &outcome,
                      &iid, &res->err)) != 0)
        return rc;
    if (outcome < 0 && ttl <= 0) {
        fl_error_set(&res->err, FL_ENOTFOUND,
                     "no subscription and no message start event waits for message '%s'%s%s%s, "
                     "and its time_to_live is 0: it was not buffered",
                     cmd->message_name, key ? " with correlation key '" : "", key ? key : "",
                     key ? "'" : "");
        snprintf(res->err.field, sizeof(res->err.field), "time_to_live");
        return FL_ENOTFOUND;
    }
    res->message_outcome = outcome < 0 ? FL_MESSAGE_BUFFERED : outcome;
    res->instance_id = iid;
    /* Kept when buffered, and when delivered with a client id (a retry is answered). */
    if (ttl > 0 && (outcome < 0 || (cmd->message_id && cmd->message_id[0]))) {
        memset(&m, 0, sizeof(m));
        m.id = ++svc->next_id[FL_ID_MESSAGE];
        m.name = (char *)(uintptr_t)cmd->message_name;
        m.correlation_key = (char *)(uintptr_t)key;
        if (cmd->variables && fl_value_to_json(cmd->variables, &vars) != 0) {
            fl_buf_release(&vars);
            return fl_error_set(&res->err, FL_ETOOBIG, "message variables too large");
        }
        m.variables = cmd->variables ? vars.ptr : NULL;
        m.message_id =
            (char *)(uintptr_t)(cmd->message_id && cmd->message_id[0] ? cmd->message_id : NULL);
        m.created_at = now;
        m.expires_at = now + ttl;
        m.status = res->message_outcome;
        m.instance_id = iid;
        rc = fl_store_message_put(svc->store, &m, &res->err);
        fl_buf_release(&vars);
        if (rc != 0)
            return rc;
        res->message_id = m.id;
        res->expires_at = m.expires_at;
    }
    return 0;
}

int fl__svc_publish(struct fl_service *svc, const struct fl_command *cmd, struct fl_result *res,
                    unsigned depth)
{
    if (!cmd->message_name || !cmd->message_name[0]) {
        fl_error_set(&res->err, FL_EINVAL, "a %s needs a name",
                     cmd->kind == FL_CMD_PUBLISH_MESSAGE ? "message" : "signal");
        snprintf(res->err.field, sizeof(res->err.field), "name");
        return FL_EINVAL;
    }
    if (cmd->variables && fl_value_type(cmd->variables) != FL_VCONTEXT) {
        fl_error_set(&res->err, FL_ETYPE, "variables must be a context (a JSON object)");
        snprintf(res->err.field, sizeof(res->err.field), "variables");
        return FL_ETYPE;
    }
    if (cmd->kind == FL_CMD_BROADCAST_SIGNAL)
        return broadcast(svc, cmd->message_name, cmd->variables, cmd->actor, depth + 1,
                         &res->n_correlated, &res->n_started, &res->err);
    return publish(svc, cmd, res, depth);
}

/* ---- deploy: message and signal start events ---- */

/* A start event's name: a literal, or "=expr" evaluated without variables. */
static int start_name(const struct fl_node *n, struct fl_buf *b, struct fl_error *err)
{
    struct fl_feel_env env = {NULL, 0, 0};
    struct fl_feel_expr *expr = NULL;
    struct fl_feel_diag diag;
    struct fl_value *v;
    const char *src;
    int is_expr, rc = 0;

    src = fl_feel_strip(n->event->name, &is_expr);
    if (!is_expr) {
        fl_buf_adds(b, n->event->name);
        return 0;
    }
    if ((rc = fl_feel_compile(src, strlen(src), &expr, err)) != 0)
        goto bad;
    diag.msg[0] = '\0';
    v = fl_feel_eval(expr, &env, &diag);
    fl_feel_free(expr);
    if (!diag.msg[0] && fl_value_type(v) == FL_VSTRING) {
        size_t len;
        const char *s = fl_value_str(v, &len);
        fl_buf_add(b, s, len);
    } else {
        rc = FL_EMODEL;
    }
    fl_value_unref(v);
    if (rc == 0)
        return 0;
bad:
    fl_error_set(err, FL_EMODEL, "the name of start event '%s' (%s) does not give a string", n->id,
                 n->event->name);
    fl_error_at(err, n->id, n->line, n->column);
    return FL_EMODEL;
}

int fl__svc_message_starts_deploy(struct fl_service *svc, const char *key, uint64_t def_id,
                                  struct fl_error *err)
{
    const struct fl_model *m;
    struct fl_buf *names = NULL;
    int *triggers = NULL;
    const char **name_ptrs = NULL, **node_ids = NULL;
    size_t n = 0;
    int rc;

    if ((rc = fl__model_cache_get(svc, def_id, &m, err)) != 0)
        return rc;
    if (m->n_message_starts) {
        names = fl_calloc(m->n_message_starts, sizeof(*names));
        triggers = fl_calloc(m->n_message_starts, sizeof(*triggers));
        name_ptrs = fl_calloc(m->n_message_starts, sizeof(*name_ptrs));
        node_ids = fl_calloc(m->n_message_starts, sizeof(*node_ids));
    }
    for (size_t i = 0; i < m->n_message_starts; i++) {
        const struct fl_node *nd = &m->nodes[m->message_starts[i]];
        if (!nd->event ||
            (nd->event->trigger != FL_TRIGGER_MESSAGE && nd->event->trigger != FL_TRIGGER_SIGNAL) ||
            !nd->event->name || !nd->event->name[0])
            continue; /* conditional starts, or nameless ones, are not found by name */
        fl_buf_init(&names[n], 4096);
        if ((rc = start_name(nd, &names[n], err)) != 0) {
            n++;
            goto out;
        }
        triggers[n] = (int)nd->event->trigger;
        name_ptrs[n] = names[n].ptr;
        node_ids[n] = nd->id;
        n++;
    }
    rc = fl_store_start_events_set(svc->store, key, def_id, triggers, name_ptrs, node_ids, n, err);
out:
    for (size_t i = 0; i < n; i++)
        fl_buf_release(&names[i]);
    free(names);
    free(triggers);
    free(name_ptrs);
    free(node_ids);
    return rc;
}

/* ---- cascade handlers ---- */

/* Is subscription id of inst still open? (A gateway's first event closes the others.) */
static bool still_open(const struct fl_instance *inst, uint64_t id)
{
    for (size_t i = 0; i < inst->n_subs; i++)
        if (inst->subs[i].id == id)
            return true;
    return false;
}

/* A new message subscription takes the oldest buffered message that matches it. */
static int on_sub_open(struct fl_service *svc, const struct fl_instance *inst,
                       const struct fl_subscription *s, unsigned depth, struct fl_error *err)
{
    struct fl_message_row m;
    struct fl_value *vars = NULL;
    bool found = false;
    int rc;

    if (s->trigger != FL_TRIGGER_MESSAGE || !s->name || !still_open(inst, s->id))
        return 0;
    rc = fl_store_message_match(svc->store, s->name, s->correlation_key, fl__svc_now(svc), &m,
                                &found, err);
    if (rc != 0 || !found)
        return rc;
    /* Stored by publish from a context: it parses back (a broken row is left alone). */
    if (m.variables && fl_value_from_json(m.variables, strlen(m.variables), &vars, NULL) != 0) {
        fl_message_row_release(&m);
        return 0;
    }
    rc = correlate(svc, s, vars, NULL, depth + 1, err);
    fl_value_unref(vars);
    if (rc == 0)
        rc = fl_store_message_set_status(svc->store, m.id, FL_MESSAGE_CORRELATED, s->instance_id,
                                         err);
    else if (rc == 1)
        rc = 0;
    fl_message_row_release(&m);
    return rc;
}

/* A message a process sent: to a subscription or message start in flowd, then marked
 * delivered; otherwise it waits in the outbox for a relay. */
static int on_outbox(struct fl_service *svc, const struct fl_instance *inst,
                     const struct fl_effect *e, unsigned depth, struct fl_error *err)
{
    int outcome, rc;
    uint64_t iid;
    (void)inst;
    rc = deliver(svc, e->u.msg.name, e->u.msg.correlation_key, e->u.msg.variables, NULL, depth + 1,
                 &outcome, &iid, err);
    if (rc == 0 && outcome >= 0)
        rc = fl_store_outbox_delivered(svc->store, e->u.msg.id, fl__svc_now(svc), err);
    return rc;
}

int fl__svc_on_message_fx(struct fl_service *svc, const struct fl_instance *inst,
                          const struct fl_effect *e, unsigned depth, struct fl_error *err)
{
    uint32_t n_corr, n_started;
    switch (e->kind) {
    case FL_FX_SUB_OPEN:
        return on_sub_open(svc, inst, &e->u.sub, depth, err);
    case FL_FX_OUTBOX:
        return on_outbox(svc, inst, e, depth, err);
    case FL_FX_SIGNAL:
        return broadcast(svc, e->u.msg.name, e->u.msg.variables, NULL, depth + 1, &n_corr,
                         &n_started, err);
    default:
        return 0;
    }
}
