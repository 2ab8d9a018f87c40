/* Process instances: start (a command through the group commit), list with filters and
 * cursor pagination, one instance with its open tasks and current stages, cancel, and
 * the history. Every instance read goes through the record-level rules of flowd/auth.h:
 * an instance one may not see answers 404, exactly as one that does not exist. */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "flowd/alloc.h"

#define INSTANCE_TASKS_PAGE 1000

/* All tasks of instance id, page by page: the access rule needs every one of them, or a
 * long-running instance would answer 404 where the list shows it. */
static int load_tasks(struct fl_store *s, uint64_t id, struct fl_task_row **tasks, size_t *n,
                      struct fl_error *e)
{
    struct fl_task_query tq = {.instance_id = id, .limit = INSTANCE_TASKS_PAGE};
    size_t cap = 0;
    *tasks = NULL;
    *n = 0;
    for (;;) {
        struct fl_task_row *page = NULL;
        size_t got = 0;
        int rc = fl_store_task_list(s, &tq, &page, &got, e);
        if (rc != 0) {
            fl_task_rows_free(*tasks, *n);
            *tasks = NULL;
            *n = 0;
            return rc;
        }
        if (got) {
            fl_grow(tasks, &cap, *n + got, sizeof(**tasks));
            memcpy(*tasks + *n, page, got * sizeof(*page));
            *n += got;
            tq.after_id = page[got - 1].id;
        }
        free(page); /* the rows' strings moved into *tasks */
        if (got < INSTANCE_TASKS_PAGE)
            return 0;
    }
}

/* Load instance id with its tasks and the caller's access to it. 0, or a problem was
 * written (API_DONE returned as non-zero -1 marker: the caller returns API_DONE). */
static int load_visible(struct api_req *r, struct fl_store *s, uint64_t id,
                        struct fl_instance_row *row, struct fl_task_row **tasks, size_t *n,
                        enum fl_access *acc)
{
    struct fl_error e;
    int rc;
    fl_error_clear(&e);
    memset(row, 0, sizeof(*row));
    *tasks = NULL;
    *n = 0;
    if ((rc = fl_store_instance_get(s, id, row, &e)) != 0) {
        api_problem(r, rc, &e);
        return -1;
    }
    if ((rc = load_tasks(s, id, tasks, n, &e)) != 0) {
        fl_instance_row_release(row);
        api_problem(r, rc, &e);
        return -1;
    }
    *acc = fl_access_instance(&r->who, row, *tasks, *n);
    if (*acc == FL_ACCESS_NONE) {
        fl_task_rows_free(*tasks, *n);
        fl_instance_row_release(row);
        *tasks = NULL;
        *n = 0;
        api_problemf(r, FL_ENOTFOUND, NULL, "no instance %llu", (unsigned long long)id);
        return -1;
    }
    return 0;
}

int api_instance_access(struct api_req *r, struct fl_store *s, uint64_t id, enum fl_access *acc)
{
    struct fl_instance_row row;
    struct fl_task_row *tasks = NULL;
    size_t n = 0;
    if (load_visible(r, s, id, &row, &tasks, &n, acc) != 0)
        return -1;
    fl_task_rows_free(tasks, n);
    fl_instance_row_release(&row);
    return 0;
}

/* The full view of one instance as the answer (200), or a problem. */
static int answer_instance(struct api_req *r, uint64_t id, int status)
{
    struct fl_instance_row row;
    struct fl_task_row *tasks = NULL;
    struct fl_store *s = NULL;
    struct fl_error e;
    enum fl_access acc;
    size_t n = 0;
    bool first;
    int rc;

    fl_error_clear(&e);
    if (api_reader_get(r->srv, &s, &e) != 0)
        return api_problem(r, FL_ESTORE, &e);
    if (load_visible(r, s, id, &row, &tasks, &n, &acc) != 0) {
        api_reader_put(r->srv, s);
        return API_DONE;
    }
    api_json_begin(r, status);
    /* The instance object without its closing brace, then the extras. */
    api_json_instance(&r->out, &row, true);
    r->out.len--;
    r->out.ptr[r->out.len] = '\0';
    fl_buf_adds(&r->out, ",\"started_by\":");
    fl_json_cstring(&r->out, row.started_by);
    fl_buf_adds(&r->out, ",\"access\":");
    fl_json_cstring(&r->out, acc == FL_ACCESS_WRITE ? "write" : "read");
    fl_buf_adds(&r->out, ",\"open_tasks\":[");
    first = true;
    for (size_t i = 0; i < n; i++) {
        if (tasks[i].status != FL_TASK_OPEN)
            continue;
        if (!first)
            fl_buf_addc(&r->out, ',');
        first = false;
        api_json_task(&r->out, &tasks[i]);
    }
    fl_buf_adds(&r->out, "],\"current_stages\":[");
    first = true;
    for (size_t i = 0; i < n; i++) {
        bool dup = false;
        if (tasks[i].status != FL_TASK_OPEN)
            continue;
        for (size_t j = 0; j < i && !dup; j++)
            dup = tasks[j].status == FL_TASK_OPEN && !strcmp(tasks[j].node_id, tasks[i].node_id);
        if (dup)
            continue;
        if (!first)
            fl_buf_addc(&r->out, ',');
        first = false;
        fl_buf_adds(&r->out, "{\"node_id\":");
        fl_json_cstring(&r->out, tasks[i].node_id);
        fl_buf_adds(&r->out, ",\"name\":");
        fl_json_cstring(&r->out, tasks[i].name);
        fl_buf_addc(&r->out, '}');
    }
    fl_buf_adds(&r->out, "],\"control_points\":");
    rc = api_json_instance_controls(r, s, id, &e);
    api_reader_put(r->srv, s);
    if (rc != 0) {
        fl_task_rows_free(tasks, n);
        fl_instance_row_release(&row);
        return api_problem(r, rc, &e);
    }
    fl_buf_addc(&r->out, '}');
    if (status == 201)
        snprintf(r->location, sizeof(r->location), "/api/v1/instances/%llu",
                 (unsigned long long)id);
    fl_task_rows_free(tasks, n);
    fl_instance_row_release(&row);
    return API_DONE;
}

static void started(struct api_req *r, const struct fl_result *res)
{
    if (res->rc != 0) {
        api_problem(r, res->rc, &res->err);
        return;
    }
    answer_instance(r, res->instance_id, 201);
}

int api_instance_start(struct api_req *r)
{
    static const char *const allowed[] = {"process_key", "version", "business_key", "variables",
                                          NULL};
    struct fl_command cmd = {.kind = FL_CMD_START};
    struct fl_value *body = NULL;
    const struct fl_value *vars = NULL;
    struct fl_error e;
    int64_t version = 0;
    bool has_version;
    int rc;

    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_str(body, "process_key", &cmd.process_key, &e)) != 0 ||
        (rc = api_field_str(body, "business_key", &cmd.business_key, &e)) != 0 ||
        (rc = api_field_int(body, "version", &version, &has_version, &e)) != 0 ||
        (rc = api_field_obj(body, "variables", &vars, &e)) != 0)
        goto problem;
    if (!cmd.process_key) {
        rc = fl_error_set(&e, FL_EINVAL, "field 'process_key' is required");
        snprintf(e.field, sizeof(e.field), "process_key");
        goto problem;
    }
    if (has_version && (version < 1 || version > INT32_MAX)) {
        rc = fl_error_set(&e, FL_EINVAL, "field 'version' must be a positive integer");
        snprintf(e.field, sizeof(e.field), "version");
        goto problem;
    }
    cmd.process_version = (int32_t)version;
    cmd.variables = vars;
    cmd.actor = api_actor(r);
    rc = api_submit(r, &cmd, started); /* the command is copied */
    fl_value_unref(body);
    return rc;
problem:
    fl_value_unref(body);
    return api_problem(r, rc, &e);
}

int api_instance_list(struct api_req *r)
{
    struct fl_instance_query q = {0};
    struct fl_instance_row *rows = NULL;
    struct fl_store *s = NULL;
    struct fl_error e;
    const char *active = api_query(r, "active");
    size_t n = 0;
    int rc;

    fl_error_clear(&e);
    if (api_paging(r, &q.after_id, &q.limit) == API_DONE)
        return API_DONE;
    q.process_key = api_query(r, "process_key");
    if (active && strcmp(active, "true") != 0 && strcmp(active, "false") != 0)
        return api_problemf(r, FL_EINVAL, "active", "'active' must be true or false");
    q.active_only = active && !strcmp(active, "true");
    q.viewer = &r->who;
    if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
        rc = fl_store_instance_list(s, &q, &rows, &n, &e);
        api_reader_put(r->srv, s);
    }
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, 200);
    fl_buf_adds(&r->out, "{\"items\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            fl_buf_addc(&r->out, ',');
        api_json_instance(&r->out, &rows[i], false);
    }
    fl_buf_adds(&r->out, "],\"next_after\":");
    if (n == q.limit && n > 0)
        fl_buf_addf(&r->out, "%llu", (unsigned long long)rows[n - 1].id);
    else
        fl_buf_adds(&r->out, "null");
    fl_buf_addc(&r->out, '}');
    fl_instance_rows_free(rows, n);
    return API_DONE;
}

int api_instance_answer(struct api_req *r, uint64_t id, int status)
{
    return answer_instance(r, id, status);
}

int api_instance_get(struct api_req *r)
{
    return answer_instance(r, r->id, 200);
}

static void cancelled(struct api_req *r, const struct fl_result *res)
{
    if (res->rc != 0) {
        api_problem(r, res->rc, &res->err);
        return;
    }
    answer_instance(r, r->id, 200);
}

int api_instance_require_write(struct api_req *r, uint64_t id)
{
    struct fl_instance_row row;
    struct fl_task_row *tasks = NULL;
    struct fl_store *s = NULL;
    struct fl_error e;
    enum fl_access acc;
    size_t n = 0;
    int rc;
    fl_error_clear(&e);
    if (api_reader_get(r->srv, &s, &e) != 0) {
        api_problem(r, FL_ESTORE, &e);
        return -1;
    }
    rc = load_visible(r, s, id, &row, &tasks, &n, &acc);
    api_reader_put(r->srv, s);
    if (rc != 0)
        return -1;
    fl_task_rows_free(tasks, n);
    fl_instance_row_release(&row);
    if (acc != FL_ACCESS_WRITE) {
        api_problem_status(r, 403, "forbidden", "forbidden",
                           "you may see this instance but not act on it");
        return -1;
    }
    return 0;
}

int api_instance_cancel(struct api_req *r)
{
    static const char *const allowed[] = {"reason", NULL};
    struct fl_command cmd = {.kind = FL_CMD_CANCEL};
    struct fl_value *body = NULL;
    struct fl_error e;
    int rc;

    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_str(body, "reason", &cmd.reason, &e)) != 0) {
        fl_value_unref(body);
        return api_problem(r, rc, &e);
    }
    if (api_instance_require_write(r, r->id) != 0) {
        fl_value_unref(body);
        return API_DONE;
    }
    cmd.instance_id = r->id;
    cmd.actor = api_actor(r);
    rc = api_submit(r, &cmd, cancelled);
    fl_value_unref(body);
    return rc;
}

int api_instance_history(struct api_req *r)
{
    struct fl_instance_row row;
    struct fl_task_row *tasks = NULL;
    struct fl_event_row *ev = NULL;
    struct fl_store *s = NULL;
    struct fl_error e;
    enum fl_access acc;
    size_t n = 0, n_ev = 0;
    int rc;

    fl_error_clear(&e);
    if (api_reader_get(r->srv, &s, &e) != 0)
        return api_problem(r, FL_ESTORE, &e);
    if (load_visible(r, s, r->id, &row, &tasks, &n, &acc) != 0) {
        api_reader_put(r->srv, s);
        return API_DONE;
    }
    fl_task_rows_free(tasks, n);
    fl_instance_row_release(&row);
    rc = fl_store_history(s, r->id, &ev, &n_ev, &e);
    api_reader_put(r->srv, s);
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, 200);
    fl_buf_adds(&r->out, "{\"items\":[");
    for (size_t i = 0; i < n_ev; i++) {
        bool f = true;
        if (i)
            fl_buf_addc(&r->out, ',');
        fl_buf_addc(&r->out, '{');
        api_jkey(&r->out, &f, "seq");
        fl_buf_addf(&r->out, "%llu", (unsigned long long)ev[i].seq);
        api_jkey(&r->out, &f, "type");
        fl_json_cstring(&r->out, fl_event_type_name((enum fl_event_type)ev[i].type));
        api_jkey(&r->out, &f, "node_id");
        fl_json_cstring(&r->out, ev[i].node_id);
        api_jkey(&r->out, &f, "actor");
        fl_json_cstring(&r->out, ev[i].actor);
        api_jkey(&r->out, &f, "token_id");
        fl_buf_addf(&r->out, "%llu", (unsigned long long)ev[i].token_id);
        api_jkey(&r->out, &f, "ref_id");
        fl_buf_addf(&r->out, "%llu", (unsigned long long)ev[i].ref_id);
        api_jkey(&r->out, &f, "at");
        api_jtime(&r->out, ev[i].at);
        api_jkey(&r->out, &f, "detail");
        /* Compact JSON text written by the engine: embedded as is (exact numbers). */
        fl_buf_adds(&r->out, ev[i].detail && *ev[i].detail ? ev[i].detail : "null");
        fl_buf_addc(&r->out, '}');
    }
    fl_buf_adds(&r->out, "]}");
    fl_event_rows_free(ev, n_ev);
    return API_DONE;
}
