/* Idempotency-Key for POST requests: the first answer to (principal, method and route,
 * key) is kept in the store and replayed to every retry, also after a restart; a retry
 * with another body answers 422, one that arrives while the first is still running 409
 * (running requests are tracked in memory). A 5xx answer is not kept, so the retry runs.
 * Engine commands (start, complete, action, cancel) and claims keep the answer in the
 * transaction of their effects, so a crash keeps both or neither. NEEDSWORK: deployments
 * and people records still keep it after their own commit; a crash in between lets a retry
 * run again (a deployment of the same XML is a no-op; a second user or role add is 409). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "flowd/alloc.h"
#include "flowd/sha256.h"

struct api_idem_entry {
    struct api_idem_entry *next;
    char *scope; /* "login\nMETHOD pattern\nkey" */
};

static char *scope_of(struct api_req *r, const char *key)
{
    struct fl_buf b = FL_BUF_INIT;
    fl_buf_addf(&b, "%s\n%s %s\n%s", r->authed ? r->who.login : "", r->method,
                api_routes[r->route].pattern, key);
    return fl_buf_detach(&b, NULL);
}

/* The static content type a stored one names (responses keep static strings). */
static const char *static_ctype(const char *t)
{
    static const char *const known[] = {"application/json", "application/problem+json",
                                        "application/xml", "text/plain; version=0.0.4"};
    for (size_t i = 0; t && i < sizeof(known) / sizeof(known[0]); i++)
        if (!strcmp(t, known[i]))
            return known[i];
    return "application/octet-stream";
}

static bool running(struct fl_server *srv, const char *scope, bool remove)
{
    for (struct api_idem_entry **pp = &srv->idem; *pp; pp = &(*pp)->next) {
        if (!strcmp((*pp)->scope, scope)) {
            if (remove) {
                struct api_idem_entry *e = *pp;
                *pp = e->next;
                free(e->scope);
                free(e);
            }
            return true;
        }
    }
    return false;
}

int api_idem_check(struct api_req *r)
{
    struct fl_server *srv = r->srv;
    const char *key = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Idempotency-Key");
    struct fl_idem_row row;
    struct fl_store *s = NULL;
    struct fl_error e;
    char *scope;
    int rc = -1, found;

    /* Anonymous requests (login) share one principal, so a key would tie strangers'
     * requests together; a login is no command to replay anyway. */
    if (!key || !r->authed)
        return -1;
    if (!*key || strlen(key) > API_IDEM_MAX_KEY)
        return api_problemf(r, FL_EINVAL, "Idempotency-Key",
                            "Idempotency-Key must be 1 to %d characters", API_IDEM_MAX_KEY);
    fl_error_clear(&e);
    fl_sha256_hex(r->body.ptr, r->body.len, r->body_hash);
    scope = scope_of(r, key);
    /* Under the lock from lookup to registration, so two first tries cannot both run. */
    pthread_mutex_lock(&srv->idem_lock);
    if (running(srv, scope, false)) {
        rc = api_problemf(r, FL_ECONFLICT, "Idempotency-Key",
                          "a request with this Idempotency-Key is still running");
        goto out;
    }
    if ((found = api_reader_get(srv, &s, &e)) == 0) {
        found = fl_store_idem_get(s, scope, &row, &e);
        api_reader_put(srv, s);
    }
    if (found == 0) {
        if (strcmp(row.body_hash, r->body_hash) != 0) {
            rc = api_problemf(r, FL_EREFUSED, "Idempotency-Key",
                              "this Idempotency-Key was used with another request body");
        } else {
            r->status = row.status;
            r->ctype = static_ctype(row.content_type);
            fl_buf_reset(&r->out);
            fl_buf_add(&r->out, row.body, row.body_len);
            snprintf(r->location, sizeof(r->location), "%s", row.location ? row.location : "");
            rc = API_DONE;
        }
        fl_idem_row_release(&row);
    } else if (found != FL_ENOTFOUND) {
        rc = api_problem(r, found, &e);
    } else {
        struct api_idem_entry *n = fl_calloc(1, sizeof(*n));
        n->scope = fl_strdup(scope);
        n->next = srv->idem;
        srv->idem = n;
        snprintf(r->idem_key, sizeof(r->idem_key), "%s", key);
        r->idem_scope = scope;
        scope = NULL;
    }
out:
    pthread_mutex_unlock(&srv->idem_lock);
    free(scope);
    return rc;
}

int api_idem_row(struct api_req *r, struct fl_idem_row *row)
{
    memset(row, 0, sizeof(*row));
    if (!r->idem_scope || r->status >= 500)
        return 1;
    row->scope = r->idem_scope;
    memcpy(row->body_hash, r->body_hash, sizeof(row->body_hash));
    row->status = r->status;
    row->content_type = (char *)(uintptr_t)r->ctype; /* borrowed; the store copies */
    row->location = r->location[0] ? r->location : NULL;
    row->body = r->out.ptr;
    row->body_len = r->out.len;
    row->created_at = api_now_us() / 1000;
    if ((api_routes[r->route].flags & API_SECRET) && r->status < 300) {
        /* Secrets are stored only as hashes: the record says the request ran, and a retry
         * learns that the secret was shown once, never the secret. */
        int n = snprintf(r->idem_redacted, sizeof(r->idem_redacted),
                         "{\"type\":\"https://flowd.dev/problems/conflict\",\"title\":\"conflict\","
                         "\"status\":409,\"detail\":\"the first request with this "
                         "Idempotency-Key succeeded; its answer held a secret that is shown "
                         "only once\",\"field\":\"Idempotency-Key\"}");
        row->status = 409;
        row->content_type = (char *)(uintptr_t) "application/problem+json";
        row->location = NULL;
        row->body = r->idem_redacted;
        row->body_len = (size_t)n;
    }
    return 0;
}

int api_idem_render(void *arg, struct fl_store *s, const struct fl_result *res,
                    struct fl_idem_row *row)
{
    struct api_req *r = arg;
    /* The continuation is the one that would answer after the commit; here it reads the
     * writer's connection, so it sees the command's effects inside the transaction. Its
     * response stays in r and is sent as is once the commit succeeded. */
    api_response_reset(r);
    api_render_begin(s);
    r->cont(r, res);
    api_render_end();
    return api_idem_row(r, row);
}

/* Forget that the request runs (and its scope). */
static void finish(struct api_req *r)
{
    pthread_mutex_lock(&r->srv->idem_lock);
    if (r->idem_scope)
        running(r->srv, r->idem_scope, true);
    pthread_mutex_unlock(&r->srv->idem_lock);
    free(r->idem_scope);
    r->idem_scope = NULL;
    r->idem_key[0] = '\0';
    r->idem_kept = false;
}

void api_idem_save(struct api_req *r)
{
    struct fl_server *srv = r->srv;
    struct fl_idem_row row;
    struct fl_error e;

    if (!r->idem_kept && api_idem_row(r, &row) == 0) {
        fl_error_clear(&e);
        pthread_mutex_lock(&srv->admin_lock);
        if (fl_store_idem_put(srv->admin, &row, &e) != 0)
            fprintf(srv->log, "level=error msg=\"cannot keep idempotency record\" err=\"%s\"\n",
                    e.msg);
        pthread_mutex_unlock(&srv->admin_lock);
    }
    finish(r);
}

void api_idem_abandon(struct api_req *r)
{
    finish(r);
}

void api_idem_release(struct fl_server *srv)
{
    while (srv->idem) {
        struct api_idem_entry *e = srv->idem;
        srv->idem = e->next;
        free(e->scope);
        free(e);
    }
}
