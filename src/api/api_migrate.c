/* Administrators' repairs of running instances: migrate one instance or a batch to
 * another version of its process (POST /api/v1/instances/{id}/migrate and
 * /api/v1/migrations), and modify an instance -- cancel tokens, start tokens before
 * elements (POST /api/v1/instances/{id}/modify). A migration waits on the calling MHD
 * thread for the writer, as a deployment does: it is rare, and its answer lists each
 * instance that cannot move. */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "flowd/alloc.h"

#define MAX_MAPPING 1000
#define MAX_INSTRUCTIONS 1000

static int field_problem(struct api_req *r, int code, const char *field, const char *msg)
{
    return api_problemf(r, code, field, "'%s' %s", field, msg);
}

/* "mapping": [{"from": "a", "to": "b"}, ...] -> pairs borrowed from body (caller frees the
 * array). -1 to go on, else API_DONE with a problem. */
static int read_mapping(struct api_req *r, const struct fl_value *body,
                        struct fl_migration_pair **out, size_t *n)
{
    const struct fl_value *l = fl_value_context_get(body, "mapping", 7);
    *out = NULL;
    *n = 0;
    if (!l || fl_value_type(l) == FL_VNULL)
        return -1;
    if (fl_value_type(l) != FL_VLIST || fl_value_list_len(l) > MAX_MAPPING)
        return field_problem(r, FL_ETYPE, "mapping",
                             "must be a list of {\"from\", \"to\"} (1000 at most)");
    *n = fl_value_list_len(l);
    *out = fl_calloc(*n + 1, sizeof(**out));
    for (size_t i = 0; i < *n; i++) {
        const struct fl_value *p = fl_value_list_at(l, i), *a, *b;
        if (fl_value_type(p) != FL_VCONTEXT || !(a = fl_value_context_get(p, "from", 4)) ||
            !(b = fl_value_context_get(p, "to", 2)) || !fl_value_str(a, NULL) ||
            !fl_value_str(b, NULL) || fl_value_context_len(p) != 2) {
            free(*out);
            *out = NULL;
            return api_problemf(r, FL_ETYPE, "mapping",
                                "'mapping' item %zu must be {\"from\": \"id\", \"to\": \"id\"}",
                                i + 1);
        }
        (*out)[i].from = fl_value_str(a, NULL);
        (*out)[i].to = fl_value_str(b, NULL);
    }
    return -1;
}

/* A list of ids (instances, tokens): -1 to go on, else API_DONE. *out NULL when absent. */
static int read_ids(struct api_req *r, const struct fl_value *body, const char *name, size_t max,
                    uint64_t **out, size_t *n)
{
    const struct fl_value *l = fl_value_context_get(body, name, strlen(name));
    *out = NULL;
    *n = 0;
    if (!l || fl_value_type(l) == FL_VNULL)
        return -1;
    if (fl_value_type(l) != FL_VLIST || fl_value_list_len(l) > max)
        return field_problem(r, FL_ETYPE, name, "must be a list of ids");
    *n = fl_value_list_len(l);
    *out = fl_calloc(*n + 1, sizeof(**out));
    for (size_t i = 0; i < *n; i++) {
        int64_t v;
        if (fl_value_to_int64(fl_value_list_at(l, i), &v) != 0 || v <= 0) {
            free(*out);
            *out = NULL;
            return field_problem(r, FL_ETYPE, name, "must be a list of ids");
        }
        (*out)[i] = (uint64_t)v;
    }
    return -1;
}

/* The refusal of a migration, with why each instance that cannot move cannot. */
static int migrate_problem(struct api_req *r, int rc, const struct fl_error *e,
                           const struct fl_migration_outcome *out, size_t n)
{
    bool first = true;
    api_problem(r, rc, e);
    if (!n)
        return API_DONE;
    r->out.len--; /* reopen the object */
    fl_buf_adds(&r->out, ",\"instances\":[");
    for (size_t i = 0; i < n; i++) {
        bool f = true;
        if (out[i].rc == 0)
            continue;
        if (!first)
            fl_buf_addc(&r->out, ',');
        first = false;
        fl_buf_addc(&r->out, '{');
        api_jkey(&r->out, &f, "id");
        fl_buf_addf(&r->out, "%llu", (unsigned long long)out[i].instance_id);
        api_jkey(&r->out, &f, "error");
        fl_json_cstring(&r->out, out[i].err.msg);
        if (out[i].err.element[0]) {
            api_jkey(&r->out, &f, "element");
            fl_json_cstring(&r->out, out[i].err.element);
        }
        fl_buf_addc(&r->out, '}');
    }
    fl_buf_adds(&r->out, "]}");
    return API_DONE;
}

/* Definition id of key at version (from the body field `field`). */
static int find_version(struct api_req *r, const char *key, int64_t version, const char *field,
                        uint64_t *id)
{
    struct fl_store *s = NULL;
    struct fl_error e;
    int rc;
    fl_error_clear(&e);
    if (version <= 0 || version > INT32_MAX)
        return field_problem(r, FL_EINVAL, field, "must be a version number");
    if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
        rc = fl_store_definition_find(s, key, (int32_t)version, id, &e);
        api_reader_put(r->srv, s);
    }
    if (rc == FL_ENOTFOUND)
        return api_problemf(r, FL_ENOTFOUND, field, "process '%s' has no version %lld", key,
                            (long long)version);
    return rc ? api_problem(r, rc, &e) : -1;
}

int api_instance_migrate(struct api_req *r)
{
    static const char *const allowed[] = {"to_version", "to_definition_id", "mapping", NULL};
    struct fl_value *body = NULL;
    struct fl_migration_pair *pairs = NULL;
    struct fl_migration_outcome *out = NULL;
    struct fl_instance_row row = {0};
    struct fl_store *s = NULL;
    struct fl_error e;
    size_t n_pairs = 0, n_out = 0;
    int64_t version = 0, def = 0;
    bool has_version = false, has_def = false;
    uint64_t to = 0, id = r->id;
    int rc, done = -1;

    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_int(body, "to_version", &version, &has_version, &e)) != 0 ||
        (rc = api_field_int(body, "to_definition_id", &def, &has_def, &e)) != 0) {
        done = api_problem(r, rc, &e);
        goto out;
    }
    if (has_version == has_def) {
        done = api_problemf(r, FL_EINVAL, "to_version",
                            "give either 'to_version' or 'to_definition_id'");
        goto out;
    }
    if ((done = read_mapping(r, body, &pairs, &n_pairs)) != -1)
        goto out;
    if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
        rc = fl_store_instance_get(s, id, &row, &e);
        api_reader_put(r->srv, s);
    }
    if (rc) {
        done = api_problem(r, rc, &e);
        goto out;
    }
    if (has_def) {
        to = def > 0 ? (uint64_t)def : 0;
    } else if ((done = find_version(r, row.process_key, version, "to_version", &to)) != -1) {
        goto out;
    }
    struct fl_migration_request req = {.to_definition_id = to,
                                       .instance_ids = &id,
                                       .n_instances = 1,
                                       .pairs = pairs,
                                       .n_pairs = n_pairs,
                                       .actor = api_actor(r)};
    rc = fl_service_migrate(r->srv->svc, &req, &out, &n_out, &e);
    if (rc) {
        /* one instance: its own reason is the answer */
        if (n_out == 1 && out[0].rc)
            e = out[0].err;
        done = api_problem(r, rc, &e);
        goto out;
    }
    done = api_instance_answer(r, id, 200);
out:
    fl_instance_row_release(&row);
    free(out);
    free(pairs);
    fl_value_unref(body);
    return done;
}

int api_migration_create(struct api_req *r)
{
    static const char *const allowed[] = {"process", "from_version", "to_version", "mapping",
                                          "instances", NULL};
    struct fl_value *body = NULL;
    struct fl_migration_pair *pairs = NULL;
    struct fl_migration_outcome *out = NULL;
    uint64_t *ids = NULL, from = 0, to = 0;
    const char *key = NULL;
    struct fl_error e;
    size_t n_pairs = 0, n_ids = 0, n_out = 0;
    int64_t vfrom = 0, vto = 0;
    bool has_from = false, has_to = false;
    int rc, done = -1;

    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_str(body, "process", &key, &e)) != 0 ||
        (rc = api_field_int(body, "from_version", &vfrom, &has_from, &e)) != 0 ||
        (rc = api_field_int(body, "to_version", &vto, &has_to, &e)) != 0) {
        done = api_problem(r, rc, &e);
        goto out;
    }
    if (!key || !has_from || !has_to) {
        done = api_problemf(r, FL_EINVAL, !key ? "process" : !has_from ? "from_version" : "to_version",
                            "a migration needs 'process', 'from_version' and 'to_version'");
        goto out;
    }
    if ((done = read_mapping(r, body, &pairs, &n_pairs)) != -1 ||
        (done = read_ids(r, body, "instances", FL_SERVICE_MAX_MIGRATE, &ids, &n_ids)) != -1 ||
        (done = find_version(r, key, vfrom, "from_version", &from)) != -1 ||
        (done = find_version(r, key, vto, "to_version", &to)) != -1)
        goto out;
    /* Instances named must run the version the request says they run. */
    for (size_t i = 0; i < n_ids; i++) {
        struct fl_instance_row row;
        struct fl_store *s = NULL;
        if ((rc = api_reader_get(r->srv, &s, &e)) == 0) {
            rc = fl_store_instance_get(s, ids[i], &row, &e);
            api_reader_put(r->srv, s);
        }
        if (rc) {
            done = api_problem(r, rc, &e);
            goto out;
        }
        rc = row.definition_id == from ? 0 : FL_ECONFLICT;
        if (rc)
            api_problemf(r, FL_ECONFLICT, "instances",
                         "instance %llu runs version %d of '%s', not version %lld of '%s'",
                         (unsigned long long)ids[i], (int)row.version, row.process_key,
                         (long long)vfrom, key);
        fl_instance_row_release(&row);
        if (rc) {
            done = API_DONE;
            goto out;
        }
    }
    struct fl_migration_request req = {.to_definition_id = to,
                                       .instance_ids = ids,
                                       .n_instances = n_ids,
                                       .from_definition_id = from,
                                       .pairs = pairs,
                                       .n_pairs = n_pairs,
                                       .actor = api_actor(r)};
    if (n_ids == 0 && body && fl_value_context_get(body, "instances", 9) &&
        fl_value_type(fl_value_context_get(body, "instances", 9)) == FL_VLIST) {
        done = api_problemf(r, FL_EINVAL, "instances",
                            "'instances' is empty: leave it out to migrate every active instance");
        goto out;
    }
    rc = fl_service_migrate(r->srv->svc, &req, &out, &n_out, &e);
    if (rc) {
        done = migrate_problem(r, rc, &e, out, n_out);
        goto out;
    }
    api_json_begin(r, 200);
    fl_buf_adds(&r->out, "{\"process\":");
    fl_json_cstring(&r->out, key);
    fl_buf_addf(&r->out, ",\"from_version\":%lld,\"to_version\":%lld,\"migrated\":%zu,\"instances\":[",
                (long long)vfrom, (long long)vto, n_out);
    for (size_t i = 0; i < n_out; i++)
        fl_buf_addf(&r->out, "%s%llu", i ? "," : "", (unsigned long long)out[i].instance_id);
    fl_buf_adds(&r->out, "]}");
    done = API_DONE;
out:
    free(out);
    free(ids);
    free(pairs);
    fl_value_unref(body);
    return done;
}

static void modified(struct api_req *r, const struct fl_result *res)
{
    if (res->rc != 0) {
        api_problem(r, res->rc, &res->err);
        return;
    }
    api_instance_answer(r, r->id, 200);
}

int api_instance_modify(struct api_req *r)
{
    static const char *const allowed[] = {"cancel_tokens", "start_before", "variables", NULL};
    struct fl_command cmd = {.kind = FL_CMD_MODIFY};
    struct fl_value *body = NULL;
    const struct fl_value *starts;
    const char **names = NULL;
    uint64_t *tokens = NULL;
    size_t n_tokens = 0, n_names = 0;
    struct fl_error e;
    int rc, done = -1;

    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_obj(body, "variables", &cmd.variables, &e)) != 0) {
        done = api_problem(r, rc, &e);
        goto out;
    }
    if ((done = read_ids(r, body, "cancel_tokens", MAX_INSTRUCTIONS, &tokens, &n_tokens)) != -1)
        goto out;
    starts = fl_value_context_get(body, "start_before", 12);
    if (starts && fl_value_type(starts) != FL_VNULL) {
        if (fl_value_type(starts) != FL_VLIST || fl_value_list_len(starts) > MAX_INSTRUCTIONS) {
            done = field_problem(r, FL_ETYPE, "start_before", "must be a list of element ids");
            goto out;
        }
        n_names = fl_value_list_len(starts);
        names = fl_calloc(n_names + 1, sizeof(*names));
        for (size_t i = 0; i < n_names; i++)
            if (!(names[i] = fl_value_str(fl_value_list_at(starts, i), NULL))) {
                done = field_problem(r, FL_ETYPE, "start_before", "must be a list of element ids");
                goto out;
            }
    }
    if (n_tokens == 0 && n_names == 0) {
        done = api_problemf(r, FL_EINVAL, "cancel_tokens",
                            "give tokens to cancel ('cancel_tokens') or elements to start before "
                            "('start_before')");
        goto out;
    }
    cmd.instance_id = r->id;
    cmd.cancel_tokens = tokens;
    cmd.n_cancel_tokens = n_tokens;
    cmd.start_before = names;
    cmd.n_start_before = n_names;
    cmd.actor = api_actor(r);
    done = api_submit(r, &cmd, modified);
out:
    free(names);
    free(tokens);
    fl_value_unref(body);
    return done;
}
