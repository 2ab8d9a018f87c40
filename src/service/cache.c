/* The writer's caches: compiled models by definition id (a deployed definition never
 * changes, so an entry never goes stale) and recently used instances by id with LRU
 * eviction (kept equal to the committed state: the writer drops every instance a failed
 * batch touched). Only the writer thread uses them, so there is no locking. */
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/model.h"
#include "flowd/store.h"
#include "service/service_int.h"

void fl__model_cache_release(struct fl__model_cache *c)
{
    for (size_t i = 0; i < c->n; i++)
        fl_model_free(c->items[i].model);
    free(c->items);
    memset(c, 0, sizeof(*c));
}

void fl__model_cache_truncate(struct fl__model_cache *c, size_t n)
{
    while (c->n > n)
        fl_model_free(c->items[--c->n].model);
}

int fl__model_cache_get(struct fl_service *svc, uint64_t def_id, const struct fl_model **out,
                        struct fl_error *err)
{
    struct fl__model_cache *c = &svc->models;
    struct fl_definition_row row;
    struct fl_bpmn_doc *doc = NULL;
    struct fl_model *m = NULL;
    int rc;

    for (size_t i = 0; i < c->n; i++) {
        if (c->items[i].def_id == def_id) {
            *out = c->items[i].model;
            return 0;
        }
    }
    *out = NULL;
    if ((rc = fl_store_definition_get(svc->store, NULL, 0, def_id, &row, err)) != 0)
        return rc;
    if ((rc = fl_bpmn_read(row.xml, row.xml_len, &doc, err)) != 0)
        goto out;
    for (size_t i = 0; i < doc->n_processes; i++) {
        if (doc->processes[i] && strcmp(doc->processes[i]->key, row.key) == 0) {
            m = fl_bpmn_doc_take(doc, i);
            break;
        }
    }
    if (!m) {
        rc = fl_error_set(err, FL_EMODEL, "definition %llu: process '%s' not in its XML",
                          (unsigned long long)def_id, row.key);
        goto out;
    }
    fl_grow(&c->items, &c->cap, c->n + 1, sizeof(*c->items));
    c->items[c->n].def_id = def_id;
    c->items[c->n].model = m;
    c->n++;
    *out = m;
out:
    fl_bpmn_doc_free(doc);
    fl_definition_row_release(&row);
    return rc;
}

static size_t slot(const struct fl__inst_cache *c, uint64_t id)
{
    /* Fibonacci hashing: ids are sequential, the multiply spreads them. */
    return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 20) & (c->n_buckets - 1);
}

void fl__inst_cache_init(struct fl__inst_cache *c, size_t cap)
{
    memset(c, 0, sizeof(*c));
    c->cap = cap ? cap : 1;
    c->n_buckets = 16;
    while (c->n_buckets < c->cap * 2)
        c->n_buckets *= 2;
    c->buckets = fl_calloc(c->n_buckets, sizeof(*c->buckets));
}

static void lru_unlink(struct fl__inst_cache *c, struct fl__inst_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(struct fl__inst_cache *c, struct fl__inst_entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

static struct fl__inst_entry *unhash(struct fl__inst_cache *c, uint64_t id)
{
    struct fl__inst_entry **pp = &c->buckets[slot(c, id)];
    for (; *pp; pp = &(*pp)->hnext) {
        if ((*pp)->id == id) {
            struct fl__inst_entry *e = *pp;
            *pp = e->hnext;
            lru_unlink(c, e);
            c->n--;
            return e;
        }
    }
    return NULL;
}

void fl__inst_cache_release(struct fl__inst_cache *c)
{
    struct fl__inst_entry *e = c->head, *next;
    for (; e; e = next) {
        next = e->next;
        fl_instance_free(e->inst);
        free(e);
    }
    free(c->buckets);
    memset(c, 0, sizeof(*c));
}

struct fl_instance *fl__inst_cache_get(struct fl__inst_cache *c, uint64_t id)
{
    struct fl__inst_entry *e = c->buckets[slot(c, id)];
    for (; e; e = e->hnext) {
        if (e->id == id) {
            if (c->head != e) {
                lru_unlink(c, e);
                lru_push_front(c, e);
            }
            return e->inst;
        }
    }
    return NULL;
}

void fl__inst_cache_drop(struct fl__inst_cache *c, uint64_t id)
{
    struct fl__inst_entry *e = unhash(c, id);
    if (e) {
        fl_instance_free(e->inst);
        free(e);
    }
}

void fl__inst_cache_put(struct fl__inst_cache *c, struct fl_instance *inst)
{
    struct fl__inst_entry *e;
    size_t b;
    /* No lookup first: both callers insert an instance they just failed to find or just
     * started, and a lookup per command showed in the writer's profile. */
    while (c->n >= c->cap && c->tail)
        fl__inst_cache_drop(c, c->tail->id);
    e = fl_calloc(1, sizeof(*e));
    e->id = inst->id;
    e->inst = inst;
    b = slot(c, inst->id);
    e->hnext = c->buckets[b];
    c->buckets[b] = e;
    lru_push_front(c, e);
    c->n++;
}
