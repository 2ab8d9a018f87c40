/* Routes of the CRM records (flowd/crm.h): companies, contacts, leads, deals and activities,
 * each with create, list (filters, search, cursor), get, patch and delete. One generic
 * handler per verb serves every type through the type's field table; the route table
 * names a small wrapper per type. Records are written on the people connection under its
 * lock (small, rare next to process commands, outside the engine's group commit) and read
 * on the reader pool, both as the caller may see them. */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "flowd/alloc.h"
#include "flowd/crm.h"

static void actor(struct api_req *r, struct fl_crm_actor *a)
{
    const char *cc = getenv("FLOWD_PHONE_COUNTRY");
    a->who = &r->who;
    a->now_ms = api_now_us() / 1000;
    a->phone_country = cc && *cc ? cc : NULL;
}

/* The body as a JSON object (empty: no fields). */
static int body_fields(struct api_req *r, struct fl_value **out, struct fl_error *e)
{
    *out = NULL;
    if (r->body.len == 0) {
        *out = fl_value_context_new();
        return 0;
    }
    return fl_value_from_json(r->body.ptr, r->body.len, out, e);
}

/* Write record id of t (as stored, read back on the writing connection) as the answer. */
static int answer_record(struct api_req *r, enum fl_crm_type t, uint64_t id, int status)
{
    struct fl_crm_record rec;
    struct fl_error e;
    int rc;
    fl_error_clear(&e);
    pthread_mutex_lock(&r->srv->admin_lock);
    rc = fl_crm_get(r->srv->admin, t, id, NULL, &rec, &e);
    pthread_mutex_unlock(&r->srv->admin_lock);
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, status);
    fl_crm_record_json(&rec, &r->out);
    fl_crm_record_release(&rec);
    return API_DONE;
}

static int crm_create(struct api_req *r, enum fl_crm_type t)
{
    struct fl_value *body = NULL;
    struct fl_crm_actor a;
    struct fl_error e;
    uint64_t id = 0;
    int rc;
    fl_error_clear(&e);
    actor(r, &a);
    if ((rc = body_fields(r, &body, &e)) != 0)
        return api_problem(r, rc, &e);
    if (fl_value_type(body) != FL_VCONTEXT) {
        fl_value_unref(body);
        return api_problemf(r, FL_ETYPE, NULL, "the request body must be a JSON object");
    }
    pthread_mutex_lock(&r->srv->admin_lock);
    rc = fl_crm_create(r->srv->admin, t, body, &a, &id, &e);
    pthread_mutex_unlock(&r->srv->admin_lock);
    fl_value_unref(body);
    if (rc != 0)
        return api_problem(r, rc, &e);
    snprintf(r->location, sizeof(r->location), "/api/v1/%s/%llu", fl_crm_type_get(t)->plural,
             (unsigned long long)id);
    return answer_record(r, t, id, 201);
}

static int crm_patch(struct api_req *r, enum fl_crm_type t)
{
    struct fl_value *body = NULL;
    struct fl_crm_actor a;
    struct fl_error e;
    int rc;
    fl_error_clear(&e);
    actor(r, &a);
    if ((rc = body_fields(r, &body, &e)) != 0)
        return api_problem(r, rc, &e);
    if (fl_value_type(body) != FL_VCONTEXT) {
        fl_value_unref(body);
        return api_problemf(r, FL_ETYPE, NULL, "the request body must be a JSON object");
    }
    pthread_mutex_lock(&r->srv->admin_lock);
    rc = fl_crm_update(r->srv->admin, t, r->id, body, &a, &e);
    pthread_mutex_unlock(&r->srv->admin_lock);
    fl_value_unref(body);
    if (rc != 0)
        return api_problem(r, rc, &e);
    return answer_record(r, t, r->id, 200);
}

static int crm_delete(struct api_req *r, enum fl_crm_type t)
{
    struct fl_crm_actor a;
    struct fl_error e;
    int rc;
    fl_error_clear(&e);
    actor(r, &a);
    pthread_mutex_lock(&r->srv->admin_lock);
    rc = fl_crm_delete(r->srv->admin, t, r->id, &a, &e);
    pthread_mutex_unlock(&r->srv->admin_lock);
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, 204);
    return API_DONE;
}

static int crm_get(struct api_req *r, enum fl_crm_type t)
{
    struct fl_crm_record rec;
    struct fl_store *s = NULL;
    struct fl_error e;
    int rc;
    fl_error_clear(&e);
    if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
        rc = fl_crm_get(s, t, r->id, &r->who, &rec, &e);
        api_reader_put(r->srv, s);
    }
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, 200);
    fl_crm_record_json(&rec, &r->out);
    fl_crm_record_release(&rec);
    return API_DONE;
}

/* An id query parameter: absent or empty gives 0; anything but a positive number answers. */
static int query_id(struct api_req *r, const char *name, uint64_t *out)
{
    const char *v = api_query(r, name);
    char *end;
    *out = 0;
    if (!v || !*v)
        return -1;
    *out = strtoull(v, &end, 10);
    if (*end || v[0] < '0' || v[0] > '9' || *out == 0)
        return api_problemf(r, FL_EINVAL, name, "'%s' must be an id", name);
    return -1;
}

static const char *query_str(struct api_req *r, const char *name)
{
    const char *v = api_query(r, name);
    return v && *v ? v : NULL;
}

/* Sums of the amounts of the listed deals, one per currency, exactly. */
static int deal_totals(const struct fl_crm_record *rows, size_t n, struct fl_buf *out,
                       struct fl_error *e)
{
    struct fl_money sums[16];
    size_t n_sums = 0;
    int rc;
    for (size_t i = 0; i < n; i++) {
        const struct fl_crm_value *amt = fl_crm_record_value(&rows[i], "amount");
        const struct fl_crm_value *cur = fl_crm_record_value(&rows[i], "currency");
        struct fl_money m;
        size_t k;
        if (!amt->set || !cur->set || fl_money_parse(amt->text, cur->text, &m, NULL) != 0)
            continue;
        for (k = 0; k < n_sums && fl_money_cmp(&sums[k], &m) == 2; k++)
            ;
        if (k < n_sums) {
            if ((rc = fl_money_add(&sums[k], &m, &sums[k], e)) != 0)
                return rc;
        } else if (n_sums < sizeof(sums) / sizeof(sums[0])) {
            sums[n_sums++] = m;
        }
    }
    fl_buf_adds(out, ",\"totals\":[");
    for (size_t k = 0; k < n_sums; k++) {
        fl_buf_addf(out, "%s{\"currency\":\"%s\",\"amount\":\"", k ? "," : "", sums[k].currency);
        fl_money_format(&sums[k], out);
        fl_buf_adds(out, "\"}");
    }
    fl_buf_addc(out, ']');
    return 0;
}

static int crm_list(struct api_req *r, enum fl_crm_type t)
{
    struct fl_crm_query q = {.type = t};
    struct fl_crm_record *rows = NULL;
    struct fl_store *s = NULL;
    struct fl_error e;
    size_t n = 0;
    int rc;

    fl_error_clear(&e);
    if (api_paging(r, &q.after_id, &q.limit) == API_DONE ||
        query_id(r, "company_id", &q.company_id) == API_DONE ||
        query_id(r, "subject_id", &q.subject_id) == API_DONE)
        return API_DONE;
    q.owner = query_str(r, "owner");
    q.status = query_str(r, "status");
    q.q = query_str(r, "q");
    q.subject_type = query_str(r, "subject_type");
    q.kind = query_str(r, "kind");
    q.viewer = &r->who;
    if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
        rc = fl_crm_list(s, &q, &rows, &n, &e);
        api_reader_put(r->srv, s);
    }
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, 200);
    fl_buf_adds(&r->out, "{\"items\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            fl_buf_addc(&r->out, ',');
        fl_crm_record_json(&rows[i], &r->out);
    }
    fl_buf_adds(&r->out, "],\"next_after\":");
    if (n == q.limit && n > 0)
        fl_buf_addf(&r->out, "%llu", (unsigned long long)rows[n - 1].id);
    else
        fl_buf_adds(&r->out, "null");
    if (t == FL_CRM_DEAL && (rc = deal_totals(rows, n, &r->out, &e)) != 0) {
        fl_crm_records_free(rows, n);
        return api_problem(r, rc, &e);
    }
    fl_buf_addc(&r->out, '}');
    fl_crm_records_free(rows, n);
    return API_DONE;
}

#define CRM_ROUTES(prefix, type)                                                                   \
    int api_##prefix##_create(struct api_req *r)                                                   \
    {                                                                                              \
        return crm_create(r, type);                                                                \
    }                                                                                              \
    int api_##prefix##_list(struct api_req *r)                                                     \
    {                                                                                              \
        return crm_list(r, type);                                                                  \
    }                                                                                              \
    int api_##prefix##_get(struct api_req *r)                                                      \
    {                                                                                              \
        return crm_get(r, type);                                                                   \
    }                                                                                              \
    int api_##prefix##_patch(struct api_req *r)                                                    \
    {                                                                                              \
        return crm_patch(r, type);                                                                 \
    }                                                                                              \
    int api_##prefix##_delete(struct api_req *r)                                                   \
    {                                                                                              \
        return crm_delete(r, type);                                                                \
    }

CRM_ROUTES(company, FL_CRM_COMPANY)
CRM_ROUTES(contact, FL_CRM_CONTACT)
CRM_ROUTES(lead, FL_CRM_LEAD)
CRM_ROUTES(deal, FL_CRM_DEAL)
CRM_ROUTES(activity, FL_CRM_ACTIVITY)
