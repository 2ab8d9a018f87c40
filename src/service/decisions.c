/* Deployed DMN decisions in the service: each stored version is compiled once and kept for
 * the life of the service (a stored version never changes), shared by the writer (the
 * engine's decide hook for business rule tasks) and the API threads (POST
 * /decisions/{key}/evaluate) under one lock -- compiled documents are immutable, so
 * evaluation itself runs outside it. Entries are keyed by row id and checksum: a row id
 * reused after a rolled-back deploy can never be mistaken for the document it replaced. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/dmn.h"
#include "flowd/store.h"
#include "service/service_int.h"

struct dec_entry {
    uint64_t row_id;
    char checksum[65];
    char *key;
    struct fl_dmn_doc *doc;
};

struct fl__dec_cache {
    pthread_mutex_t lock;
    struct dec_entry *items; /* NEEDSWORK: grows with every version evaluated; no eviction */
    size_t n, cap;
};

struct fl__dec_cache *fl__dec_cache_new(void)
{
    struct fl__dec_cache *c = fl_calloc(1, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

void fl__dec_cache_free(struct fl__dec_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->items[i].key);
        fl_dmn_doc_free(c->items[i].doc);
    }
    free(c->items);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static const struct fl_dmn_decision *lookup(struct fl__dec_cache *c, uint64_t row_id,
                                            const char *checksum)
{
    const struct fl_dmn_decision *d = NULL;
    pthread_mutex_lock(&c->lock);
    for (size_t i = c->n; i-- > 0;) {
        if (c->items[i].row_id == row_id && !strcmp(c->items[i].checksum, checksum)) {
            d = fl_dmn_find(c->items[i].doc, c->items[i].key);
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return d;
}

/* Compile row and keep it; another thread may have done so meanwhile (then its copy is
 * used and ours dropped). */
static int compile_row(struct fl__dec_cache *c, const struct fl_definition_row *row,
                       const struct fl_dmn_decision **out, struct fl_error *err)
{
    struct fl_dmn_doc *doc = NULL;
    const struct fl_dmn_decision *d;
    int rc;

    if ((rc = fl_dmn_read(row->xml, row->xml_len, &doc, err)) != 0)
        return rc;
    if (!fl_dmn_find(doc, row->key)) {
        fl_dmn_doc_free(doc);
        return fl_error_set(err, FL_EMODEL, "decision '%s' is not in its stored document",
                            row->key);
    }
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->n; i++) {
        if (c->items[i].row_id == row->id && !strcmp(c->items[i].checksum, row->checksum)) {
            d = fl_dmn_find(c->items[i].doc, c->items[i].key);
            pthread_mutex_unlock(&c->lock);
            fl_dmn_doc_free(doc);
            *out = d;
            return 0;
        }
    }
    fl_grow(&c->items, &c->cap, c->n + 1, sizeof(*c->items));
    c->items[c->n].row_id = row->id;
    memcpy(c->items[c->n].checksum, row->checksum, sizeof(row->checksum));
    c->items[c->n].key = fl_strdup(row->key);
    c->items[c->n].doc = doc;
    d = fl_dmn_find(doc, row->key);
    c->n++;
    pthread_mutex_unlock(&c->lock);
    *out = d;
    return 0;
}

/* The compiled decision key/version (0 = latest) as stored on s. Borrowed for the life of
 * the service. */
static int get_decision(struct fl_service *svc, struct fl_store *s, const char *key,
                        int32_t version, const struct fl_dmn_decision **out, struct fl_error *err)
{
    struct fl_definition_row row;
    uint64_t id = 0;
    char sum[65];
    int rc;

    *out = NULL;
    if (version == 0) {
        if ((rc = fl_store_decision_head(s, key, &id, sum, err)) != 0)
            return rc;
        if ((*out = lookup(svc->decisions, id, sum)) != NULL)
            return 0;
        rc = fl_store_decision_get(s, NULL, 0, id, &row, err);
    } else {
        rc = fl_store_decision_get(s, key, version, 0, &row, err);
        if (rc == 0 && (*out = lookup(svc->decisions, row.id, row.checksum)) != NULL) {
            fl_definition_row_release(&row);
            return 0;
        }
    }
    if (rc != 0)
        return rc;
    rc = compile_row(svc->decisions, &row, out, err);
    fl_definition_row_release(&row);
    return rc;
}

int fl_service_decide(struct fl_service *svc, struct fl_store *s, const char *key, int32_t version,
                      const struct fl_value *vars, int64_t now_ms, struct fl_value **result,
                      struct fl_error *err)
{
    const struct fl_dmn_decision *d;
    int rc;
    *result = NULL;
    if (!svc || !s || !key || !key[0])
        return fl_error_set(err, FL_EINVAL, "a decision key is needed");
    if ((rc = get_decision(svc, s, key, version, &d, err)) != 0)
        return rc;
    return fl_dmn_evaluate(d, vars, now_ms, result, err);
}

int fl__svc_decide(void *arg, const char *decision_id, const char *result_map,
                   const struct fl_value *vars, int64_t now_ms, struct fl_value **result,
                   struct fl_error *err)
{
    struct fl_service *svc = arg;
    const struct fl_dmn_decision *d;
    enum fl_dmn_map map;
    int rc;

    *result = NULL;
    if (fl_dmn_map_parse(result_map, &map) < 0)
        return fl_error_set(err, FL_EINVAL, "unknown decision result mapping '%s'", result_map);
    /* NEEDSWORK: a store failure here becomes an incident on the task (the hook cannot
     * doom the transaction); resolving the incident retries. */
    if ((rc = get_decision(svc, svc->store, decision_id, 0, &d, err)) != 0)
        return rc;
    return fl_dmn_evaluate_mapped(d, vars, now_ms, map, result, err);
}
