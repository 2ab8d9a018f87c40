/* The in-app inbox: GET /api/v1/notifications lists the caller's own notifications
 * (?unread=true, cursor ?after= and ?limit=), POST /api/v1/notifications/{id}/read marks
 * one read. Another user's notification answers 404 like a missing one. The scheduler
 * writes them (reminders, overdue tasks, escalations) through the engine's NOTIFY effects;
 * marking read is a one-row update on the people connection. */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

static void json_notification(struct fl_buf *b, const struct fl_notification_row *n)
{
    bool f = true;
    fl_buf_addc(b, '{');
    api_jkey(b, &f, "id");
    fl_buf_addf(b, "%llu", (unsigned long long)n->id);
    api_jkey(b, &f, "kind");
    fl_json_cstring(b, n->kind);
    api_jkey(b, &f, "message");
    fl_json_cstring(b, n->message);
    api_jkey(b, &f, "instance_id");
    if (n->instance_id)
        fl_buf_addf(b, "%llu", (unsigned long long)n->instance_id);
    else
        fl_buf_adds(b, "null");
    api_jkey(b, &f, "task_id");
    if (n->task_id)
        fl_buf_addf(b, "%llu", (unsigned long long)n->task_id);
    else
        fl_buf_adds(b, "null");
    api_jkey(b, &f, "control_id");
    if (n->control_id)
        fl_buf_addf(b, "%llu", (unsigned long long)n->control_id);
    else
        fl_buf_adds(b, "null");
    api_jkey(b, &f, "node_id");
    fl_json_cstring(b, n->node_id);
    api_jkey(b, &f, "created_at");
    api_jtime(b, n->created_at);
    api_jkey(b, &f, "read_at");
    api_jtime(b, n->read_at);
    fl_buf_addc(b, '}');
}

int api_notification_list(struct api_req *r)
{
    struct fl_notification_query q = {0};
    struct fl_notification_row *rows = NULL;
    struct fl_store *s = NULL;
    struct fl_error e;
    const char *v;
    size_t n = 0, limit;
    int rc;

    fl_error_clear(&e);
    if (api_paging(r, &q.after_id, &limit) == API_DONE)
        return API_DONE;
    if ((v = api_query(r, "unread"))) {
        if (strcmp(v, "true") && strcmp(v, "false"))
            return api_problemf(r, FL_EINVAL, "unread", "'unread' must be true or false");
        q.unread_only = !strcmp(v, "true");
    }
    if (!r->who.login || !*r->who.login)
        return api_problemf(r, FL_EINVAL, NULL, "this principal has no inbox");
    q.user = r->who.login;
    q.limit = limit + 1; /* one more tells whether there is a next page */
    if ((rc = api_reader_get(r->srv, &s, &e)) != 0)
        return api_problem(r, rc, &e);
    rc = fl_store_notification_list(s, &q, &rows, &n, &e);
    api_reader_put(r->srv, s);
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, 200);
    fl_buf_adds(&r->out, "{\"items\":[");
    for (size_t i = 0; i < n && i < limit; i++) {
        if (i)
            fl_buf_addc(&r->out, ',');
        json_notification(&r->out, &rows[i]);
    }
    fl_buf_adds(&r->out, "],\"next_after\":");
    if (n > limit)
        fl_buf_addf(&r->out, "%llu", (unsigned long long)rows[limit - 1].id);
    else
        fl_buf_adds(&r->out, "null");
    fl_buf_addc(&r->out, '}');
    fl_notification_rows_free(rows, n);
    return API_DONE;
}

int api_notification_read(struct api_req *r)
{
    static const char *const allowed[] = {NULL};
    struct fl_value *body = NULL;
    struct fl_error e;
    int rc;

    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0)
        return api_problem(r, rc, &e);
    fl_value_unref(body);
    if (!r->who.login || !*r->who.login)
        return api_problemf(r, FL_ENOTFOUND, NULL, "no notification %llu",
                            (unsigned long long)r->id);
    pthread_mutex_lock(&r->srv->admin_lock);
    rc = fl_store_notification_read(r->srv->admin, r->who.login, r->id, fl_service_now(r->srv->svc),
                                    &e);
    pthread_mutex_unlock(&r->srv->admin_lock);
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, 200);
    fl_buf_addf(&r->out, "{\"id\":%llu,\"read\":true}", (unsigned long long)r->id);
    return API_DONE;
}
