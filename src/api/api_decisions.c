/* DMN decisions over HTTP: GET /api/v1/decisions lists the latest version of each deployed
 * decision, and POST /api/v1/decisions/{key}/evaluate evaluates one over the variables of
 * the body -- on the calling thread, through a reader and the service's cache of compiled
 * decisions, since an evaluation changes nothing. Decisions are visible to every
 * authenticated user: they carry no case data. */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

int api_decision_list(struct api_req *r)
{
    struct fl_definition_row *rows = NULL;
    struct fl_store *s = NULL;
    struct fl_error e;
    size_t n = 0;
    bool first = true;
    int rc;

    fl_error_clear(&e);
    if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
        rc = fl_store_decision_list(s, &rows, &n, &e);
        api_reader_put(r->srv, s);
    }
    if (rc != 0)
        return api_problem(r, rc, &e);
    api_json_begin(r, 200);
    fl_buf_adds(&r->out, "{\"items\":[");
    /* Newest first: the first row of a key is its latest version. */
    for (size_t i = 0; i < n; i++) {
        bool seen = false, f = true;
        int versions = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(rows[j].key, rows[i].key);
        if (seen)
            continue;
        for (size_t j = i; j < n; j++)
            versions += !strcmp(rows[j].key, rows[i].key);
        if (!first)
            fl_buf_addc(&r->out, ',');
        first = false;
        fl_buf_addc(&r->out, '{');
        api_jkey(&r->out, &f, "key");
        fl_json_cstring(&r->out, rows[i].key);
        api_jkey(&r->out, &f, "name");
        fl_json_cstring(&r->out, rows[i].name);
        api_jkey(&r->out, &f, "version");
        fl_buf_addf(&r->out, "%d", (int)rows[i].version);
        api_jkey(&r->out, &f, "decision_id");
        fl_buf_addf(&r->out, "%llu", (unsigned long long)rows[i].id);
        api_jkey(&r->out, &f, "checksum");
        fl_json_cstring(&r->out, rows[i].checksum);
        api_jkey(&r->out, &f, "deployed_at");
        api_jtime(&r->out, rows[i].deployed_at);
        api_jkey(&r->out, &f, "versions");
        fl_buf_addf(&r->out, "%d", versions);
        fl_buf_addc(&r->out, '}');
    }
    fl_buf_adds(&r->out, "]}");
    fl_definition_rows_free(rows, n);
    return API_DONE;
}

int api_decision_evaluate(struct api_req *r)
{
    static const char *const allowed[] = {"variables", "version", NULL};
    struct fl_value *body = NULL, *result = NULL;
    const struct fl_value *vars = NULL;
    struct fl_store *s = NULL;
    struct fl_error e;
    int64_t version = 0;
    bool has_version = false;
    bool f = true;
    int rc;

    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_obj(body, "variables", &vars, &e)) != 0 ||
        (rc = api_field_int(body, "version", &version, &has_version, &e)) != 0)
        goto fail;
    if (has_version && (version < 1 || version > INT32_MAX)) {
        rc = fl_error_set(&e, FL_EINVAL, "version must be a positive integer");
        strcpy(e.field, "version");
        goto fail;
    }
    if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
        rc = fl_service_decide(r->srv->svc, s, r->param[0], (int32_t)version, vars,
                               fl_service_now(r->srv->svc), &result, &e);
        api_reader_put(r->srv, s);
    }
    if (rc != 0)
        goto fail;
    api_json_begin(r, 200);
    fl_buf_addc(&r->out, '{');
    api_jkey(&r->out, &f, "decision");
    fl_json_cstring(&r->out, r->param[0]);
    api_jkey(&r->out, &f, "result");
    fl_value_to_json(result, &r->out);
    fl_buf_addc(&r->out, '}');
    fl_value_unref(result);
    fl_value_unref(body);
    return API_DONE;
fail:
    fl_value_unref(body);
    return api_problem(r, rc, &e);
}
