/* POST /api/v1/deployments: the body is BPMN 2.0 XML; every executable process in it is
 * stored as a new version of its key (or recognised as the current one). A DMN document
 * is deployed the same way, decision by decision (answered under "decisions"). The deploy
 * waits on the calling MHD thread for the writer: deployments are rare administrator
 * actions, so suspending the connection would buy nothing here. */
#include <string.h>

#include "api/api_int.h"
#include "flowd/model.h"

#define MAX_PROCESSES 64

static void warnings_json(struct fl_buf *b, const struct fl_model *m)
{
    fl_buf_addc(b, '[');
    for (size_t i = 0; m && i < m->n_warnings; i++) {
        bool f = true;
        if (i)
            fl_buf_addc(b, ',');
        fl_buf_addc(b, '{');
        api_jkey(b, &f, "element");
        fl_json_cstring(b, m->warnings[i].element);
        api_jkey(b, &f, "message");
        fl_json_cstring(b, m->warnings[i].message);
        api_jkey(b, &f, "line");
        fl_buf_addf(b, "%d", m->warnings[i].line);
        api_jkey(b, &f, "column");
        fl_buf_addf(b, "%d", m->warnings[i].column);
        fl_buf_addc(b, '}');
    }
    fl_buf_addc(b, ']');
}

/* The answer to a DMN deployment: its decisions, and no processes. */
static int decisions_json(struct api_req *r, const struct fl_deploy_result *res, size_t n)
{
    bool any_created = false;
    for (size_t i = 0; i < n; i++)
        any_created |= res[i].created;
    api_json_begin(r, any_created ? 201 : 200);
    fl_buf_adds(&r->out, "{\"processes\":[],\"decisions\":[");
    for (size_t i = 0; i < n; i++) {
        bool f = true;
        if (i)
            fl_buf_addc(&r->out, ',');
        fl_buf_addc(&r->out, '{');
        api_jkey(&r->out, &f, "key");
        fl_json_cstring(&r->out, res[i].key);
        api_jkey(&r->out, &f, "version");
        fl_buf_addf(&r->out, "%d", (int)res[i].version);
        api_jkey(&r->out, &f, "decision_id");
        fl_buf_addf(&r->out, "%llu", (unsigned long long)res[i].definition_id);
        api_jkey(&r->out, &f, "created");
        fl_buf_adds(&r->out, res[i].created ? "true" : "false");
        fl_buf_addc(&r->out, '}');
    }
    fl_buf_adds(&r->out, "]}");
    return API_DONE;
}

int api_deploy(struct api_req *r)
{
    struct fl_deploy_result res[MAX_PROCESSES];
    struct fl_bpmn_doc *doc = NULL;
    struct fl_error e;
    size_t n = 0;
    bool any_created = false;
    int rc;

    fl_error_clear(&e);
    if (r->body.len == 0)
        return api_problemf(r, FL_EINVAL, NULL,
                            "the body must be a BPMN 2.0 or DMN XML document");
    rc = fl_service_deploy(r->srv->svc, r->body.ptr, r->body.len, res, MAX_PROCESSES, &n, &e);
    if (rc != 0)
        return api_problem(r, rc, &e);
    if (n > 0 && res[0].decision)
        return decisions_json(r, res, n);
    /* The lint warnings' text (the service reports only their count). */
    if (fl_bpmn_read(r->body.ptr, r->body.len, &doc, &e) != 0)
        doc = NULL;
    for (size_t i = 0; i < n; i++)
        any_created |= res[i].created;
    api_json_begin(r, any_created ? 201 : 200);
    fl_buf_adds(&r->out, "{\"processes\":[");
    for (size_t i = 0; i < n; i++) {
        const struct fl_model *m = NULL;
        bool f = true;
        for (size_t j = 0; doc && j < doc->n_processes; j++)
            if (!strcmp(doc->processes[j]->key, res[i].key))
                m = doc->processes[j];
        if (i)
            fl_buf_addc(&r->out, ',');
        fl_buf_addc(&r->out, '{');
        api_jkey(&r->out, &f, "key");
        fl_json_cstring(&r->out, res[i].key);
        api_jkey(&r->out, &f, "version");
        fl_buf_addf(&r->out, "%d", (int)res[i].version);
        api_jkey(&r->out, &f, "definition_id");
        fl_buf_addf(&r->out, "%llu", (unsigned long long)res[i].definition_id);
        api_jkey(&r->out, &f, "created");
        fl_buf_adds(&r->out, res[i].created ? "true" : "false");
        api_jkey(&r->out, &f, "warnings");
        warnings_json(&r->out, m);
        fl_buf_addc(&r->out, '}');
    }
    fl_buf_adds(&r->out, "]}");
    fl_bpmn_doc_free(doc);
    return API_DONE;
}
