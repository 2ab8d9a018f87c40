/* Control points over HTTP: the dated obligations of one case (list, set or move, clear)
 * and the overdue ones across every case the caller may see. Reading follows the
 * instance's record-level rules (a case one may not see answers 404); setting and clearing
 * need write access to the case and go through the group commit as FL_CMD_SET_CONTROL. */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "flowd/control.h"

#define CONTROLS_PER_CASE_MAX 1000

static const char *state_of(const struct fl_control_row *c, int64_t now)
{
    if (c->done_at)
        return "done";
    return c->due_at <= now ? "overdue" : "open";
}

void api_json_control(struct fl_buf *b, const struct fl_control_row *c, int64_t now)
{
    bool f = true;
    fl_buf_addc(b, '{');
    api_jkey(b, &f, "id");
    fl_buf_addf(b, "%llu", (unsigned long long)c->id);
    api_jkey(b, &f, "instance_id");
    fl_buf_addf(b, "%llu", (unsigned long long)c->instance_id);
    api_jkey(b, &f, "name");
    fl_json_cstring(b, c->name);
    api_jkey(b, &f, "process_key");
    fl_json_cstring(b, c->process_key);
    api_jkey(b, &f, "business_key");
    fl_json_cstring(b, c->business_key);
    api_jkey(b, &f, "state");
    fl_json_cstring(b, state_of(c, now));
    api_jkey(b, &f, "due_at");
    api_jtime(b, c->due_at);
    api_jkey(b, &f, "remind_at");
    api_jtime(b, c->remind_at);
    api_jkey(b, &f, "set_at");
    api_jtime(b, c->set_at);
    api_jkey(b, &f, "done_at");
    api_jtime(b, c->done_at);
    fl_buf_addc(b, '}');
}

int api_json_instance_controls(struct api_req *r, struct fl_store *s, uint64_t id,
                               struct fl_error *err)
{
    struct fl_control_query q = {.instance_id = id, .limit = CONTROLS_PER_CASE_MAX};
    struct fl_control_row *rows = NULL;
    int64_t now = fl_service_now(r->srv->svc);
    size_t n = 0;
    int rc;
    if ((rc = fl_store_control_list(s, &q, &rows, &n, err)) != 0)
        return rc;
    fl_buf_addc(&r->out, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            fl_buf_addc(&r->out, ',');
        api_json_control(&r->out, &rows[i], now);
    }
    fl_buf_addc(&r->out, ']');
    fl_control_rows_free(rows, n);
    return 0;
}

/* GET /api/v1/instances/{id}/control-points: every control point of the case, open and
 * done, in the order they were first set. */
int api_control_list_instance(struct api_req *r)
{
    struct fl_store *s = NULL;
    struct fl_error e;
    enum fl_access acc;
    int rc;

    fl_error_clear(&e);
    if (api_reader_get(r->srv, &s, &e) != 0)
        return api_problem(r, FL_ESTORE, &e);
    if (api_instance_access(r, s, r->id, &acc) != 0) {
        api_reader_put(r->srv, s);
        return API_DONE;
    }
    api_json_begin(r, 200);
    fl_buf_adds(&r->out, "{\"items\":");
    rc = api_json_instance_controls(r, s, r->id, &e);
    api_reader_put(r->srv, s);
    if (rc != 0)
        return api_problem(r, rc, &e);
    fl_buf_addc(&r->out, '}');
    return API_DONE;
}

/* ?name=true|false: -1 to go on, or API_DONE with a problem response. */
static int bool_query(struct api_req *r, const char *name, bool *out)
{
    const char *v = api_query(r, name);
    *out = false;
    if (v && strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
        return api_problemf(r, FL_EINVAL, name, "'%s' must be true or false", name);
    *out = v && !strcmp(v, "true");
    return -1;
}

/* GET /api/v1/control-points[?overdue=true][&open=true]: across the cases one may see. */
int api_control_list(struct api_req *r)
{
    struct fl_control_query q = {0};
    struct fl_control_row *rows = NULL;
    struct fl_store *s = NULL;
    struct fl_error e;
    int64_t now = fl_service_now(r->srv->svc);
    bool overdue, open;
    size_t n = 0;
    int rc;

    fl_error_clear(&e);
    if (api_paging(r, &q.after_id, &q.limit) == API_DONE)
        return API_DONE;
    if (bool_query(r, "overdue", &overdue) == API_DONE || bool_query(r, "open", &open) == API_DONE)
        return API_DONE;
    q.open_only = open;
    q.overdue_at = overdue ? now : 0;
    q.viewer = &r->who;
    if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
        rc = fl_store_control_list(s, &q, &rows, &n, &e);
        api_reader_put(r->srv, s);
    }
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, 200);
    fl_buf_adds(&r->out, "{\"items\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            fl_buf_addc(&r->out, ',');
        api_json_control(&r->out, &rows[i], now);
    }
    fl_buf_adds(&r->out, "],\"next_after\":");
    if (n == q.limit && n > 0)
        fl_buf_addf(&r->out, "%llu", (unsigned long long)rows[n - 1].id);
    else
        fl_buf_adds(&r->out, "null");
    fl_buf_addc(&r->out, '}');
    fl_control_rows_free(rows, n);
    return API_DONE;
}

/* After a set: the control point as it now stands (its name was kept in r->param[1]). */
static void control_set(struct api_req *r, const struct fl_result *res)
{
    struct fl_control_query q = {
        .instance_id = r->id, .open_only = true, .limit = CONTROLS_PER_CASE_MAX};
    struct fl_control_row *rows = NULL;
    struct fl_store *s = NULL;
    struct fl_error e;
    size_t n = 0;
    int rc;

    if (res->rc != 0) {
        api_problem(r, res->rc, &res->err);
        return;
    }
    fl_error_clear(&e);
    if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
        rc = fl_store_control_list(s, &q, &rows, &n, &e);
        api_reader_put(r->srv, s);
    }
    if (rc != 0) {
        api_problem(r, rc, &e);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].name, r->param[1]) != 0)
            continue;
        api_json_begin(r, 200);
        api_json_control(&r->out, &rows[i], fl_service_now(r->srv->svc));
        fl_control_rows_free(rows, n);
        return;
    }
    fl_control_rows_free(rows, n);
    api_problemf(r, FL_EINTERNAL, NULL, "control point '%s' was set but is not listed",
                 r->param[1]);
}

/* POST /api/v1/instances/{id}/control-points {"name","due","remind_before"}: set or move.
 * due: a date, a date and time with Z or an offset, or a duration from now; remind_before:
 * a duration (absent: the model's definition of that name says, if any). */
int api_control_set(struct api_req *r)
{
    static const char *const allowed[] = {"name", "due", "remind_before", NULL};
    struct fl_command cmd = {.kind = FL_CMD_SET_CONTROL};
    struct fl_value *body = NULL;
    const char *due = NULL, *remind = NULL;
    struct fl_error e;
    int64_t now = fl_service_now(r->srv->svc);
    int rc;

    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_str(body, "name", &cmd.control_name, &e)) != 0 ||
        (rc = api_field_str(body, "due", &due, &e)) != 0 ||
        (rc = api_field_str(body, "remind_before", &remind, &e)) != 0)
        goto problem;
    if (!cmd.control_name || !due) {
        const char *f = !cmd.control_name ? "name" : "due";
        rc = fl_error_set(&e, FL_EINVAL, "field '%s' is required", f);
        snprintf(e.field, sizeof(e.field), "%s", f);
        goto problem;
    }
    /* Checked here too so a bad request is refused before the queue, naming its field. */
    if ((rc = fl_control_name_check(cmd.control_name, "name", &e)) != 0 ||
        (rc = fl_control_due_parse(due, "due", now, 0, &cmd.control_due_ms, &e)) != 0)
        goto problem;
    if (cmd.control_due_ms <= 0) {
        rc = fl_error_set(&e, FL_EINVAL, "due '%s' is before 1970", due);
        snprintf(e.field, sizeof(e.field), "due");
        goto problem;
    }
    cmd.control_remind_ms = -1;
    if (remind && (rc = fl_control_remind_parse(remind, "remind_before", cmd.control_due_ms,
                                                &cmd.control_remind_ms, &e)) != 0)
        goto problem;
    if (api_instance_require_write(r, r->id) != 0) {
        fl_value_unref(body);
        return API_DONE;
    }
    snprintf(r->param[1], sizeof(r->param[1]), "%s", cmd.control_name);
    cmd.instance_id = r->id;
    cmd.actor = api_actor(r);
    rc = api_submit(r, &cmd, control_set);
    fl_value_unref(body);
    return rc;
problem:
    fl_value_unref(body);
    return api_problem(r, rc, &e);
}

static void control_cleared(struct api_req *r, const struct fl_result *res)
{
    if (res->rc != 0) {
        api_problem(r, res->rc, &res->err);
        return;
    }
    api_json_begin(r, 204);
}

/* DELETE /api/v1/instances/{id}/control-points/{name}: met or cleared (204). */
int api_control_clear(struct api_req *r)
{
    struct fl_command cmd = {.kind = FL_CMD_SET_CONTROL};
    struct fl_error e;
    int rc;

    fl_error_clear(&e);
    if ((rc = fl_control_name_check(r->param[1], "name", &e)) != 0)
        return api_problem(r, rc, &e);
    if (api_instance_require_write(r, r->id) != 0)
        return API_DONE;
    cmd.instance_id = r->id;
    cmd.control_name = r->param[1];
    cmd.actor = api_actor(r);
    return api_submit(r, &cmd, control_cleared);
}
