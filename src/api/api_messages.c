/* Messages and signals over HTTP: POST /api/v1/messages publishes a message (it reaches a
 * waiting subscription, starts a process at a message start event, or waits in the buffer
 * until its time to live runs out), POST /api/v1/signals broadcasts a signal, and GET
 * /api/v1/outbox lists what processes sent for relays outside flowd. Publishing goes
 * through the writer like any command, so what it sets off is durable when answered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "flowd/timecalc.h"

#define MAX_NAME 1024 /* message and signal names, correlation keys, message ids */

static const char *const outcome_names[] = {
    [FL_MESSAGE_BUFFERED] = "buffered",
    [FL_MESSAGE_CORRELATED] = "correlated",
    [FL_MESSAGE_STARTED] = "started",
};

static void published(struct api_req *r, const struct fl_result *res)
{
    struct fl_buf *b = &r->out;
    bool f = true;
    int status;

    if (res->rc != 0) {
        api_problem(r, res->rc, &res->err);
        return;
    }
    status = res->message_outcome == FL_MESSAGE_STARTED    ? 201
             : res->message_outcome == FL_MESSAGE_BUFFERED ? 202
                                                           : 200;
    if (res->duplicate)
        status = 200; /* the first answer's outcome, nothing new happened */
    api_json_begin(r, status);
    fl_buf_addc(b, '{');
    api_jkey(b, &f, "outcome");
    fl_json_cstring(b, (unsigned)res->message_outcome <= FL_MESSAGE_STARTED
                           ? outcome_names[res->message_outcome]
                           : "unknown");
    api_jkey(b, &f, "instance_id");
    if (res->instance_id)
        fl_buf_addf(b, "%llu", (unsigned long long)res->instance_id);
    else
        fl_buf_adds(b, "null");
    api_jkey(b, &f, "message_id");
    if (res->message_id)
        fl_buf_addf(b, "%llu", (unsigned long long)res->message_id);
    else
        fl_buf_adds(b, "null");
    api_jkey(b, &f, "expires_at");
    api_jtime(b, res->message_id ? res->expires_at : 0);
    api_jkey(b, &f, "duplicate");
    fl_buf_adds(b, res->duplicate ? "true" : "false");
    fl_buf_addc(b, '}');
    if (status == 201 && res->instance_id)
        snprintf(r->location, sizeof(r->location), "/api/v1/instances/%llu",
                 (unsigned long long)res->instance_id);
}

/* time_to_live: an ISO 8601 duration ("PT1H") or milliseconds; absent = the default. */
static int field_ttl(const struct fl_value *body, int64_t now, int64_t *ttl, struct fl_error *e)
{
    const struct fl_value *v = fl_value_context_get(body, "time_to_live", 12);
    struct fl_iso_duration d;
    const char *s;
    size_t len;

    *ttl = -1;
    if (!v || fl_value_type(v) == FL_VNULL)
        return 0;
    if (fl_value_type(v) == FL_VNUMBER) {
        if (fl_value_to_int64(v, ttl) != 0 || *ttl < 0)
            goto bad;
        return 0;
    }
    if (fl_value_type(v) != FL_VSTRING || !(s = fl_value_str(v, &len)) ||
        fl_iso_duration_parse(s, &d, NULL) != 0 || d.negative)
        goto bad;
    *ttl = fl_iso_duration_add(now, &d) - now;
    if (*ttl < 0)
        goto bad;
    return 0;
bad:
    fl_error_set(e, FL_EINVAL,
                 "field 'time_to_live' must be an ISO 8601 duration or milliseconds, not negative");
    snprintf(e->field, sizeof(e->field), "time_to_live");
    return FL_EINVAL;
}

/* A name-like field: a non-empty string of at most MAX_NAME bytes (keys may be numbers,
 * taken as their decimal text in buf). */
static int field_name(const struct fl_value *body, const char *name, bool required, bool number_ok,
                      struct fl_buf *buf, const char **out, struct fl_error *e)
{
    const struct fl_value *v = fl_value_context_get(body, name, strlen(name));
    size_t len = 0;
    int rc;

    *out = NULL;
    if (!v || fl_value_type(v) == FL_VNULL) {
        if (!required)
            return 0;
        rc = fl_error_set(e, FL_EINVAL, "field '%s' is required", name);
    } else if (fl_value_type(v) == FL_VSTRING) {
        *out = fl_value_str(v, &len);
        if (len > 0 && len <= MAX_NAME && strlen(*out) == len)
            return 0;
        rc = fl_error_set(e, FL_EINVAL, "field '%s' must be 1 to %d bytes of text", name, MAX_NAME);
    } else if (number_ok && fl_value_type(v) == FL_VNUMBER) {
        fl_value_number_format(v, buf);
        *out = buf->ptr;
        return 0;
    } else {
        rc = fl_error_set(e, FL_ETYPE, "field '%s' must be a string", name);
    }
    *out = NULL;
    snprintf(e->field, sizeof(e->field), "%s", name);
    return rc;
}

int api_message_publish(struct api_req *r)
{
    static const char *const allowed[] = {"name",         "correlation_key", "variables",
                                          "time_to_live", "message_id",      NULL};
    struct fl_command cmd = {.kind = FL_CMD_PUBLISH_MESSAGE};
    struct fl_value *body = NULL;
    const struct fl_value *vars = NULL;
    struct fl_buf key = FL_BUF_INIT;
    struct fl_error e;
    int rc;

    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = field_name(body, "name", true, false, &key, &cmd.message_name, &e)) != 0 ||
        (rc = field_name(body, "correlation_key", false, true, &key, &cmd.correlation_key, &e)) !=
            0 ||
        (rc = field_name(body, "message_id", false, false, &key, &cmd.message_id, &e)) != 0 ||
        (rc = field_ttl(body, fl_service_now(r->srv->svc), &cmd.ttl_ms, &e)) != 0 ||
        (rc = api_field_obj(body, "variables", &vars, &e)) != 0)
        goto problem;
    cmd.variables = vars;
    cmd.actor = api_actor(r);
    rc = api_submit(r, &cmd, published); /* the command is copied */
    fl_buf_release(&key);
    fl_value_unref(body);
    return rc;
problem:
    fl_buf_release(&key);
    fl_value_unref(body);
    return api_problem(r, rc, &e);
}

static void broadcast_done(struct api_req *r, const struct fl_result *res)
{
    if (res->rc != 0) {
        api_problem(r, res->rc, &res->err);
        return;
    }
    api_json_begin(r, 200);
    fl_buf_addf(&r->out, "{\"correlated\":%u,\"started\":%u}", res->n_correlated, res->n_started);
}

int api_signal_broadcast(struct api_req *r)
{
    static const char *const allowed[] = {"name", "variables", NULL};
    struct fl_command cmd = {.kind = FL_CMD_BROADCAST_SIGNAL};
    struct fl_value *body = NULL;
    const struct fl_value *vars = NULL;
    struct fl_buf unused = FL_BUF_INIT;
    struct fl_error e;
    int rc;

    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = field_name(body, "name", true, false, &unused, &cmd.message_name, &e)) != 0 ||
        (rc = api_field_obj(body, "variables", &vars, &e)) != 0) {
        fl_value_unref(body);
        return api_problem(r, rc, &e);
    }
    cmd.variables = vars;
    cmd.actor = api_actor(r);
    rc = api_submit(r, &cmd, broadcast_done);
    fl_value_unref(body);
    fl_buf_release(&unused);
    return rc;
}

static void json_outbox(struct fl_buf *b, const struct fl_outbox_row *o)
{
    bool f = true;
    fl_buf_addc(b, '{');
    api_jkey(b, &f, "id");
    fl_buf_addf(b, "%llu", (unsigned long long)o->id);
    api_jkey(b, &f, "instance_id");
    fl_buf_addf(b, "%llu", (unsigned long long)o->instance_id);
    api_jkey(b, &f, "node_id");
    if (o->node_id)
        fl_json_cstring(b, o->node_id);
    else
        fl_buf_adds(b, "null");
    api_jkey(b, &f, "name");
    fl_json_cstring(b, o->name ? o->name : "");
    api_jkey(b, &f, "correlation_key");
    if (o->correlation_key)
        fl_json_cstring(b, o->correlation_key);
    else
        fl_buf_adds(b, "null");
    api_jkey(b, &f, "variables");
    /* stored as the JSON text the engine wrote */
    fl_buf_adds(b, o->variables ? o->variables : "{}");
    api_jkey(b, &f, "created_at");
    api_jtime(b, o->created_at);
    api_jkey(b, &f, "delivered_at");
    api_jtime(b, o->delivered_at);
    fl_buf_addc(b, '}');
}

int api_outbox_list(struct api_req *r)
{
    struct fl_outbox_row *rows = NULL;
    struct fl_store *s = NULL;
    struct fl_error e;
    const char *all = api_query(r, "all");
    uint64_t after;
    size_t limit, n = 0;
    int rc;

    fl_error_clear(&e);
    if (api_paging(r, &after, &limit) == API_DONE)
        return API_DONE;
    if (all && strcmp(all, "true") != 0 && strcmp(all, "false") != 0)
        return api_problemf(r, FL_EINVAL, "all", "'all' must be true or false");
    if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
        rc = fl_store_outbox_list(s, after, limit, !(all && !strcmp(all, "true")), &rows, &n, &e);
        api_reader_put(r->srv, s);
    }
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, 200);
    fl_buf_adds(&r->out, "{\"items\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            fl_buf_addc(&r->out, ',');
        json_outbox(&r->out, &rows[i]);
    }
    fl_buf_adds(&r->out, "],\"next_after\":");
    if (n == limit && n > 0)
        fl_buf_addf(&r->out, "%llu", (unsigned long long)rows[n - 1].id);
    else
        fl_buf_adds(&r->out, "null");
    fl_buf_addc(&r->out, '}');
    fl_outbox_rows_free(rows, n);
    return API_DONE;
}

/* POST /api/v1/outbox/{id}/delivered: a relay delivered message id outside flowd. */
int api_outbox_delivered(struct api_req *r)
{
    struct fl_outbox_row *rows = NULL;
    struct fl_error e;
    size_t n = 0;
    int rc;

    fl_error_clear(&e);
    pthread_mutex_lock(&r->srv->admin_lock);
    rc = fl_store_outbox_delivered(r->srv->admin, r->id, fl_service_now(r->srv->svc), &e);
    if (rc == 0)
        rc = fl_store_outbox_list(r->srv->admin, r->id - 1, 1, false, &rows, &n, &e);
    pthread_mutex_unlock(&r->srv->admin_lock);
    if (rc == 0 && (n != 1 || rows[0].id != r->id))
        rc = fl_error_set(&e, FL_ENOTFOUND, "no outbox message %llu", (unsigned long long)r->id);
    if (rc != 0) {
        fl_outbox_rows_free(rows, n);
        return api_problem(r, rc, &e);
    }
    api_json_begin(r, 200);
    json_outbox(&r->out, &rows[0]);
    fl_outbox_rows_free(rows, n);
    return API_DONE;
}
