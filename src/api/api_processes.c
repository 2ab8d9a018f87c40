/* Process definitions: the list (latest version of each key), one key, its versions and
 * its BPMN XML as deployed. Definitions are visible to every authenticated user: they
 * carry no case data. */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

static void definition_json(struct fl_buf *b, const struct fl_definition_row *d, int n_versions)
{
    bool f = true;
    fl_buf_addc(b, '{');
    api_jkey(b, &f, "key");
    fl_json_cstring(b, d->key);
    api_jkey(b, &f, "name");
    fl_json_cstring(b, d->name);
    api_jkey(b, &f, "version");
    fl_buf_addf(b, "%d", (int)d->version);
    api_jkey(b, &f, "definition_id");
    fl_buf_addf(b, "%llu", (unsigned long long)d->id);
    api_jkey(b, &f, "checksum");
    fl_json_cstring(b, d->checksum);
    api_jkey(b, &f, "deployed_at");
    api_jtime(b, d->deployed_at);
    if (n_versions > 0) {
        api_jkey(b, &f, "versions");
        fl_buf_addf(b, "%d", n_versions);
    }
    fl_buf_addc(b, '}');
}

/* All definitions (every version, newest first) on a reader. */
static int load_all(struct api_req *r, struct fl_definition_row **rows, size_t *n)
{
    struct fl_store *s = NULL;
    struct fl_error e;
    int rc;
    fl_error_clear(&e);
    *rows = NULL;
    *n = 0;
    if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
        rc = fl_store_definition_list(s, rows, n, &e);
        api_reader_put(r->srv, s);
    }
    if (rc != 0) {
        api_problem(r, rc, &e);
        return rc;
    }
    return 0;
}

int api_process_list(struct api_req *r)
{
    struct fl_definition_row *rows;
    size_t n;
    bool first = true;
    if (load_all(r, &rows, &n) != 0)
        return API_DONE;
    api_json_begin(r, 200);
    fl_buf_adds(&r->out, "{\"items\":[");
    /* Newest first: the first row of a key is its latest version. */
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
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
        definition_json(&r->out, &rows[i], versions);
    }
    fl_buf_adds(&r->out, "]}");
    fl_definition_rows_free(rows, n);
    return API_DONE;
}

int api_process_get(struct api_req *r)
{
    struct fl_definition_row *rows;
    size_t n;
    int versions = 0;
    const struct fl_definition_row *latest = NULL;
    if (load_all(r, &rows, &n) != 0)
        return API_DONE;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].key, r->param[0]) != 0)
            continue;
        if (!latest)
            latest = &rows[i];
        versions++;
    }
    if (!latest) {
        api_problemf(r, FL_ENOTFOUND, NULL, "no process '%s'", r->param[0]);
    } else {
        api_json_begin(r, 200);
        definition_json(&r->out, latest, versions);
    }
    fl_definition_rows_free(rows, n);
    return API_DONE;
}

int api_process_versions(struct api_req *r)
{
    struct fl_definition_row *rows;
    size_t n;
    bool first = true;
    if (load_all(r, &rows, &n) != 0)
        return API_DONE;
    api_json_begin(r, 200);
    fl_buf_adds(&r->out, "{\"items\":[");
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].key, r->param[0]) != 0)
            continue;
        if (!first)
            fl_buf_addc(&r->out, ',');
        first = false;
        definition_json(&r->out, &rows[i], 0);
    }
    fl_buf_adds(&r->out, "]}");
    if (first)
        api_problemf(r, FL_ENOTFOUND, NULL, "no process '%s'", r->param[0]);
    fl_definition_rows_free(rows, n);
    return API_DONE;
}

int api_process_xml(struct api_req *r)
{
    struct fl_definition_row d;
    struct fl_store *s = NULL;
    struct fl_error e;
    const char *v = api_query(r, "version");
    long version = 0;
    int rc;

    fl_error_clear(&e);
    memset(&d, 0, sizeof(d));
    if (v && *v) {
        char *end;
        version = strtol(v, &end, 10);
        if (*end || version < 1 || version > INT32_MAX)
            return api_problemf(r, FL_EINVAL, "version", "'version' must be a positive integer");
    }
    if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
        rc = fl_store_definition_get(s, r->param[0], (int32_t)version, 0, &d, &e);
        api_reader_put(r->srv, s);
    }
    if (rc != 0)
        return api_problem(r, rc, &e);
    r->status = 200;
    r->ctype = "application/xml";
    fl_buf_reset(&r->out);
    fl_buf_add(&r->out, d.xml, d.xml_len);
    fl_definition_row_release(&d);
    return API_DONE;
}
