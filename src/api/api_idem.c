/* Idempotency-Key for POST requests: the first answer to (principal, route, key) is kept
 * and replayed to every retry; a retry with another body answers 422, one that arrives
 * while the first is still running 409. A 5xx answer is not kept (the retry runs again).
 * NEEDSWORK: records live in memory (bounded, oldest dropped first), so a retry after a
 * server restart runs the command again; they belong in a store table. */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "flowd/alloc.h"
#include "flowd/sha256.h"

#define IDEM_MAX_ENTRIES 10000

struct api_idem_entry {
    struct api_idem_entry *next; /* oldest first */
    char *scope;                 /* "login\nMETHOD pattern\nkey" */
    char body_hash[65];
    bool done;
    int status;
    const char *ctype; /* static strings only */
    char *body;
    size_t len;
    char *location;
};

static char *scope_of(struct api_req *r, const char *key)
{
    struct fl_buf b = FL_BUF_INIT;
    fl_buf_addf(&b, "%s\n%s %s\n%s", r->authed ? r->who.login : "", r->method,
                api_routes[r->route].pattern, key);
    return fl_buf_detach(&b, NULL);
}

static void entry_free(struct api_idem_entry *e)
{
    free(e->scope);
    free(e->body);
    free(e->location);
    free(e);
}

static struct api_idem_entry *find(struct fl_server *srv, const char *scope,
                                   struct api_idem_entry ***link)
{
    struct api_idem_entry **pp = &srv->idem;
    for (; *pp; pp = &(*pp)->next) {
        if (!strcmp((*pp)->scope, scope)) {
            if (link)
                *link = pp;
            return *pp;
        }
    }
    return NULL;
}

int api_idem_check(struct api_req *r)
{
    struct fl_server *srv = r->srv;
    const char *key = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Idempotency-Key");
    struct api_idem_entry *e, **tail;
    char *scope;
    size_t count = 0;
    int rc = -1;

    if (!key)
        return -1;
    if (!*key || strlen(key) > API_IDEM_MAX_KEY)
        return api_problemf(r, FL_EINVAL, "Idempotency-Key",
                            "Idempotency-Key must be 1 to %d characters", API_IDEM_MAX_KEY);
    fl_sha256_hex(r->body.ptr, r->body.len, r->body_hash);
    scope = scope_of(r, key);
    pthread_mutex_lock(&srv->idem_lock);
    e = find(srv, scope, NULL);
    if (e && strcmp(e->body_hash, r->body_hash) != 0) {
        rc = api_problemf(r, FL_EREFUSED, "Idempotency-Key",
                          "this Idempotency-Key was used with another request body");
    } else if (e && !e->done) {
        rc = api_problemf(r, FL_ECONFLICT, "Idempotency-Key",
                          "a request with this Idempotency-Key is still running");
    } else if (e) {
        r->status = e->status;
        r->ctype = e->ctype;
        fl_buf_reset(&r->out);
        fl_buf_add(&r->out, e->body, e->len);
        snprintf(r->location, sizeof(r->location), "%s", e->location ? e->location : "");
        rc = API_DONE;
    } else {
        /* Register as running; drop the oldest finished records past the cap. */
        for (tail = &srv->idem; *tail; tail = &(*tail)->next)
            count++;
        while (count >= IDEM_MAX_ENTRIES && srv->idem && srv->idem->done) {
            struct api_idem_entry *old = srv->idem;
            srv->idem = old->next;
            entry_free(old);
            count--;
        }
        for (tail = &srv->idem; *tail; tail = &(*tail)->next)
            ;
        e = fl_calloc(1, sizeof(*e));
        e->scope = scope;
        scope = NULL;
        memcpy(e->body_hash, r->body_hash, sizeof(e->body_hash));
        *tail = e;
        snprintf(r->idem_key, sizeof(r->idem_key), "%s", key);
    }
    pthread_mutex_unlock(&srv->idem_lock);
    free(scope);
    return rc;
}

void api_idem_save(struct api_req *r)
{
    struct fl_server *srv = r->srv;
    struct api_idem_entry *e, **link = NULL;
    char *scope = scope_of(r, r->idem_key);
    pthread_mutex_lock(&srv->idem_lock);
    e = find(srv, scope, &link);
    if (e && r->status >= 500) {
        *link = e->next;
        entry_free(e);
    } else if (e) {
        e->done = true;
        e->status = r->status;
        e->ctype = r->ctype;
        e->len = r->out.len;
        e->body = fl_malloc(r->out.len + 1);
        memcpy(e->body, r->out.ptr, r->out.len + 1);
        e->location = r->location[0] ? fl_strdup(r->location) : NULL;
    }
    pthread_mutex_unlock(&srv->idem_lock);
    free(scope);
    r->idem_key[0] = '\0';
}

void api_idem_release(struct fl_server *srv)
{
    while (srv->idem) {
        struct api_idem_entry *e = srv->idem;
        srv->idem = e->next;
        entry_free(e);
    }
}
