/* Routes over business calendars (flowd/calendar.h): everyone signed in may read them
 * (people see the working hours their deadlines run on), administrators replace and
 * delete them. Writes go through the people connection under its lock, validated before
 * anything is stored; a bad calendar answers problem+json naming the field. The calendar
 * "default" is listed as built in until one of that name is stored. */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "flowd/calendar.h"

/* A stored calendar's canonical JSON with "builtin" and "updated_at" added. */
static void calendar_json(struct fl_buf *b, const char *json, bool builtin, int64_t updated_at)
{
    size_t n = strlen(json);
    /* the canonical form is one object: drop its closing brace and append */
    fl_buf_add(b, json, n ? n - 1 : 0);
    fl_buf_addf(b, ",\"builtin\":%s,\"updated_at\":", builtin ? "true" : "false");
    api_jtime(b, updated_at);
    fl_buf_addc(b, '}');
}

static void builtin_json(struct fl_buf *b)
{
    struct fl_calendar *c = fl_calendar_builtin();
    struct fl_buf tmp = FL_BUF_INIT;
    fl_calendar_to_json(c, &tmp);
    calendar_json(b, tmp.ptr, true, 0);
    fl_buf_release(&tmp);
    fl_calendar_free(c);
}

int api_calendar_list(struct api_req *r)
{
    struct fl_calendar_row *rows = NULL;
    struct fl_store *s = NULL;
    struct fl_error e;
    size_t n = 0;
    bool first = true, default_done = false;
    int rc;
    fl_error_clear(&e);
    if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
        rc = fl_store_calendar_list(s, &rows, &n, &e);
        api_reader_put(r->srv, s);
    }
    if (rc != 0)
        return api_problem(r, rc, &e);
    for (size_t i = 0; i < n; i++)
        default_done |= strcmp(rows[i].name, FL_CALENDAR_DEFAULT) == 0;
    api_json_begin(r, 200);
    fl_buf_adds(&r->out, "{\"items\":[");
    for (size_t i = 0; i <= n; i++) {
        /* the built-in default in its place by name */
        if (!default_done && (i == n || strcmp(rows[i].name, FL_CALENDAR_DEFAULT) > 0)) {
            if (!first)
                fl_buf_addc(&r->out, ',');
            builtin_json(&r->out);
            first = false;
            default_done = true;
        }
        if (i == n)
            break;
        if (!first)
            fl_buf_addc(&r->out, ',');
        calendar_json(&r->out, rows[i].json, false, rows[i].updated_at);
        first = false;
    }
    fl_buf_adds(&r->out, "]}");
    fl_calendar_rows_free(rows, n);
    return API_DONE;
}

int api_calendar_get(struct api_req *r)
{
    struct fl_calendar_row row;
    struct fl_store *s = NULL;
    struct fl_error e;
    int rc;
    fl_error_clear(&e);
    memset(&row, 0, sizeof(row));
    if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
        rc = fl_store_calendar_get(s, r->param[0], &row, &e);
        api_reader_put(r->srv, s);
    }
    if (rc == FL_ENOTFOUND && strcmp(r->param[0], FL_CALENDAR_DEFAULT) == 0) {
        api_json_begin(r, 200);
        builtin_json(&r->out);
        return API_DONE;
    }
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, 200);
    calendar_json(&r->out, row.json, false, row.updated_at);
    fl_calendar_row_release(&row);
    return API_DONE;
}

int api_calendar_put(struct api_req *r)
{
    struct fl_calendar_row row;
    struct fl_error e;
    int rc;
    fl_error_clear(&e);
    memset(&row, 0, sizeof(row));
    if (r->body.len == 0)
        return api_problemf(r, FL_EINVAL, NULL, "the body must be a calendar (a JSON object)");
    pthread_mutex_lock(&r->srv->admin_lock);
    rc = fl_store_calendar_put(r->srv->admin, r->param[0], r->body.ptr, r->body.len,
                               api_now_us() / 1000, &e);
    if (rc == 0)
        rc = fl_store_calendar_get(r->srv->admin, r->param[0], &row, &e);
    pthread_mutex_unlock(&r->srv->admin_lock);
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, 200);
    calendar_json(&r->out, row.json, false, row.updated_at);
    fl_calendar_row_release(&row);
    return API_DONE;
}

int api_calendar_delete(struct api_req *r)
{
    struct fl_error e;
    int rc;
    fl_error_clear(&e);
    pthread_mutex_lock(&r->srv->admin_lock);
    rc = fl_store_calendar_delete(r->srv->admin, r->param[0], &e);
    pthread_mutex_unlock(&r->srv->admin_lock);
    if (rc != 0)
        return api_problem(r, rc, &e);
    r->status = 204;
    return API_DONE;
}
