/* JSON in and out of the API. Responses are written straight into an fl_buf so process
 * variables, rendered by fl_value_to_json, stay exact decimals inside the envelope
 * (jansson would turn them into doubles). Request bodies are read with fl_value_from_json
 * for the same reason, then checked field by field: unknown fields and wrong types are
 * refused naming the field. Errors leave as RFC 9457 problem+json. */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"

void api_jkey(struct fl_buf *b, bool *first, const char *key)
{
    if (!*first)
        fl_buf_addc(b, ',');
    *first = false;
    fl_json_cstring(b, key);
    fl_buf_addc(b, ':');
}

void api_jtime(struct fl_buf *b, int64_t ms)
{
    time_t t;
    struct tm tm;
    char s[40];
    if (ms <= 0) {
        fl_buf_adds(b, "null");
        return;
    }
    t = (time_t)(ms / 1000);
    gmtime_r(&t, &tm);
    strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
    fl_buf_addf(b, "\"%s.%03dZ\"", s, (int)(ms % 1000));
}

static const char *const task_status[] = {"open", "completed", "cancelled"};
static const char *const inst_status[] = {"active", "completed", "cancelled"};

/* "a,b" -> ["a","b"]; NULL -> [] */
static void jlist(struct fl_buf *b, const char *csv)
{
    fl_buf_addc(b, '[');
    if (csv && *csv) {
        const char *p = csv;
        bool first = true;
        while (*p) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            char item[256];
            if (n >= sizeof(item))
                n = sizeof(item) - 1;
            memcpy(item, p, n);
            item[n] = '\0';
            if (!first)
                fl_buf_addc(b, ',');
            first = false;
            fl_json_cstring(b, item);
            p += n;
            if (*p == ',')
                p++;
        }
    }
    fl_buf_addc(b, ']');
}

void api_json_task(struct fl_buf *b, const struct fl_task_row *t)
{
    bool f = true;
    fl_buf_addc(b, '{');
    api_jkey(b, &f, "id");
    fl_buf_addf(b, "%llu", (unsigned long long)t->id);
    api_jkey(b, &f, "instance_id");
    fl_buf_addf(b, "%llu", (unsigned long long)t->instance_id);
    api_jkey(b, &f, "process_key");
    fl_json_cstring(b, t->process_key);
    api_jkey(b, &f, "node_id");
    fl_json_cstring(b, t->node_id);
    api_jkey(b, &f, "name");
    fl_json_cstring(b, t->name);
    api_jkey(b, &f, "status");
    fl_json_cstring(b, t->status >= 0 && t->status <= 2 ? task_status[t->status] : "unknown");
    api_jkey(b, &f, "assignee");
    fl_json_cstring(b, t->assignee);
    api_jkey(b, &f, "candidate_roles");
    jlist(b, t->candidate_roles);
    api_jkey(b, &f, "candidate_users");
    jlist(b, t->candidate_users);
    api_jkey(b, &f, "created_at");
    api_jtime(b, t->created_at);
    api_jkey(b, &f, "due_at");
    api_jtime(b, t->due_at);
    api_jkey(b, &f, "remind_at");
    api_jtime(b, t->remind_at);
    api_jkey(b, &f, "closed_at");
    api_jtime(b, t->closed_at);
    api_jkey(b, &f, "closed_by");
    fl_json_cstring(b, t->closed_by);
    api_jkey(b, &f, "main_action");
    fl_buf_adds(b, "{\"kind\":");
    fl_json_cstring(b, t->main_action_kind);
    fl_buf_addf(b, ",\"required\":%s,\"done\":%s}", t->main_action_required ? "true" : "false",
                t->main_action_done ? "true" : "false");
    fl_buf_addc(b, '}');
}

void api_json_instance(struct fl_buf *b, const struct fl_instance_row *i, bool with_vars)
{
    bool f = true;
    fl_buf_addc(b, '{');
    api_jkey(b, &f, "id");
    fl_buf_addf(b, "%llu", (unsigned long long)i->id);
    api_jkey(b, &f, "definition_id");
    fl_buf_addf(b, "%llu", (unsigned long long)i->definition_id);
    api_jkey(b, &f, "process_key");
    fl_json_cstring(b, i->process_key);
    api_jkey(b, &f, "version");
    fl_buf_addf(b, "%d", (int)i->version);
    api_jkey(b, &f, "business_key");
    fl_json_cstring(b, i->business_key);
    api_jkey(b, &f, "status");
    fl_json_cstring(b, i->status >= 0 && i->status <= 2 ? inst_status[i->status] : "unknown");
    api_jkey(b, &f, "incident");
    fl_buf_adds(b, i->incident ? "true" : "false");
    api_jkey(b, &f, "started_at");
    api_jtime(b, i->started_at);
    api_jkey(b, &f, "ended_at");
    api_jtime(b, i->ended_at);
    if (with_vars) {
        /* Stored as exact JSON text by the store: embedded as is. */
        api_jkey(b, &f, "variables");
        fl_buf_adds(b, i->variables_json && *i->variables_json ? i->variables_json : "{}");
    }
    fl_buf_addc(b, '}');
}

void api_json_begin(struct api_req *r, int status)
{
    r->status = status;
    r->ctype = "application/json";
    fl_buf_reset(&r->out);
}

int api_problem_status(struct api_req *r, int status, const char *type, const char *title,
                       const char *detail)
{
    bool f = true;
    struct fl_buf *b = &r->out;
    r->status = status;
    r->ctype = "application/problem+json";
    fl_buf_reset(b);
    fl_buf_addc(b, '{');
    api_jkey(b, &f, "type");
    fl_buf_addf(b, "\"https://flowd.dev/problems/%s\"", type);
    api_jkey(b, &f, "title");
    fl_json_cstring(b, title);
    api_jkey(b, &f, "status");
    fl_buf_addf(b, "%d", status);
    api_jkey(b, &f, "detail");
    fl_json_cstring(b, detail);
    api_jkey(b, &f, "instance");
    fl_json_cstring(b, r->path);
    fl_buf_addc(b, '}');
    return API_DONE;
}

int api_problem(struct api_req *r, int code, const struct fl_error *e)
{
    char type[32];
    const char *name = fl_err_name(code);
    struct fl_buf *b = &r->out;
    bool f = true;
    size_t i;

    for (i = 0; name[i] && i < sizeof(type) - 1; i++)
        type[i] = (char)tolower((unsigned char)name[i]);
    type[i] = '\0';
    r->status = fl_err_http_status(code);
    r->ctype = "application/problem+json";
    fl_buf_reset(b);
    fl_buf_addc(b, '{');
    api_jkey(b, &f, "type");
    fl_buf_addf(b, "\"https://flowd.dev/problems/%s\"", type);
    api_jkey(b, &f, "title");
    fl_json_cstring(b, fl_err_message(code));
    api_jkey(b, &f, "status");
    fl_buf_addf(b, "%d", r->status);
    api_jkey(b, &f, "detail");
    fl_json_cstring(b, e && e->msg[0] ? e->msg : fl_err_message(code));
    api_jkey(b, &f, "instance");
    fl_json_cstring(b, r->path);
    if (e && e->field[0]) {
        api_jkey(b, &f, "field");
        fl_json_cstring(b, e->field);
    }
    if (e && e->element[0]) {
        api_jkey(b, &f, "element");
        fl_json_cstring(b, e->element);
    }
    if (e && e->line) {
        api_jkey(b, &f, "line");
        fl_buf_addf(b, "%d", e->line);
        api_jkey(b, &f, "column");
        fl_buf_addf(b, "%d", e->column);
    }
    fl_buf_addc(b, '}');
    return API_DONE;
}

int api_problemf(struct api_req *r, int code, const char *field, const char *fmt, ...)
{
    struct fl_error e;
    va_list ap;
    fl_error_clear(&e);
    va_start(ap, fmt);
    fl_error_setv(&e, code, fmt, ap);
    va_end(ap);
    if (field)
        snprintf(e.field, sizeof(e.field), "%s", field);
    return api_problem(r, code, &e);
}

/* what: "must be a string" etc. */
static int field_error(struct fl_error *err, int code, const char *field, const char *what)
{
    if (!strcmp(what, "unknown"))
        fl_error_set(err, code, "unknown field '%s'", field);
    else
        fl_error_set(err, code, "field '%s' %s", field, what);
    snprintf(err->field, sizeof(err->field), "%s", field);
    return code;
}

int api_body_object(struct api_req *r, const char *const *allowed, struct fl_value **out,
                    struct fl_error *err)
{
    struct fl_value *v = NULL;
    int rc;
    *out = NULL;
    if (r->body.len == 0) {
        *out = fl_value_context_new();
        return 0;
    }
    if ((rc = fl_value_from_json(r->body.ptr, r->body.len, &v, err)) != 0)
        return rc;
    if (fl_value_type(v) != FL_VCONTEXT) {
        fl_value_unref(v);
        return fl_error_set(err, FL_ETYPE, "the request body must be a JSON object");
    }
    for (size_t i = 0; i < fl_value_context_len(v); i++) {
        size_t kl;
        const char *k = fl_value_context_key(v, i, &kl);
        bool known = false;
        for (const char *const *a = allowed; *a && !known; a++)
            known = strlen(*a) == kl && !memcmp(*a, k, kl);
        if (!known) {
            char name[128];
            snprintf(name, sizeof(name), "%.*s", (int)(kl < 100 ? kl : 100), k);
            fl_value_unref(v);
            return field_error(err, FL_EINVAL, name, "unknown");
        }
    }
    *out = v;
    return 0;
}

int api_field_str(const struct fl_value *obj, const char *name, const char **out,
                  struct fl_error *err)
{
    const struct fl_value *v = fl_value_context_get(obj, name, strlen(name));
    *out = NULL;
    if (!v || fl_value_type(v) == FL_VNULL)
        return 0;
    if (fl_value_type(v) != FL_VSTRING)
        return field_error(err, FL_ETYPE, name, "must be a string");
    *out = fl_value_str(v, NULL);
    return 0;
}

int api_field_obj(const struct fl_value *obj, const char *name, const struct fl_value **out,
                  struct fl_error *err)
{
    const struct fl_value *v = fl_value_context_get(obj, name, strlen(name));
    *out = NULL;
    if (!v || fl_value_type(v) == FL_VNULL)
        return 0;
    if (fl_value_type(v) != FL_VCONTEXT)
        return field_error(err, FL_ETYPE, name, "must be an object");
    *out = v;
    return 0;
}

int api_field_int(const struct fl_value *obj, const char *name, int64_t *out, bool *present,
                  struct fl_error *err)
{
    const struct fl_value *v = fl_value_context_get(obj, name, strlen(name));
    *present = false;
    if (!v || fl_value_type(v) == FL_VNULL)
        return 0;
    if (fl_value_type(v) != FL_VNUMBER || fl_value_to_int64(v, out) != 0)
        return field_error(err, FL_ETYPE, name, "must be an integer");
    *present = true;
    return 0;
}

const char *api_query(struct api_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

int api_paging(struct api_req *r, uint64_t *after, size_t *limit)
{
    const char *a = api_query(r, "after"), *l = api_query(r, "limit");
    char *end;
    *after = 0;
    *limit = 100;
    if (a && *a) {
        *after = strtoull(a, &end, 10);
        if (*end || a[0] < '0' || a[0] > '9')
            return api_problemf(r, FL_EINVAL, "after", "'after' must be an id");
    }
    if (l && *l) {
        unsigned long long v = strtoull(l, &end, 10);
        if (*end || l[0] < '0' || l[0] > '9' || v < 1 || v > 1000)
            return api_problemf(r, FL_EINVAL, "limit", "'limit' must be 1 to 1000");
        *limit = (size_t)v;
    }
    return -1;
}
