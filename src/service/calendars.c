/* The service's side of business calendars: the engine asks for working-time sums by
 * calendar name (fl_calendar_add_fn), and the writer answers from calendars it parsed
 * before. Calendars are written by administrators on other connections (the API's people
 * connection, the CLI), so the cache is checked against the store's calendar revision on
 * each use -- one cached point read -- and forgotten when it moved. */
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/calendar.h"
#include "service/service_int.h"

#define CACHE_MAX 256 /* calendars kept parsed; past it the cache starts over */

static void cache_clear(struct fl__cal_cache *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->items[i].name);
        fl_calendar_free(c->items[i].cal);
    }
    c->n = 0;
}

void fl__cal_cache_release(struct fl__cal_cache *c)
{
    cache_clear(c);
    free(c->items);
    memset(c, 0, sizeof(*c));
}

/* The parsed calendar `name` (borrowed from the cache until the next call). */
static int lookup(struct fl_service *svc, const char *name, const struct fl_calendar **out,
                  struct fl_error *err)
{
    struct fl__cal_cache *c = &svc->calendars;
    struct fl_calendar_row row;
    struct fl_calendar *cal = NULL;
    uint64_t rev;
    int rc;

    if ((rc = fl_store_calendar_revision(svc->store, &rev, err)) != 0)
        return rc;
    if (rev != c->rev) {
        cache_clear(c);
        c->rev = rev;
    }
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->items[i].name, name) == 0) {
            *out = c->items[i].cal;
            return 0;
        }
    }
    rc = fl_store_calendar_get(svc->store, name, &row, err);
    if (rc == FL_ENOTFOUND && strcmp(name, FL_CALENDAR_DEFAULT) == 0) {
        cal = fl_calendar_builtin();
        rc = 0;
    } else if (rc == FL_ENOTFOUND) {
        return fl_error_set(err, FL_ENOTFOUND, "unknown calendar '%s'", name);
    } else if (rc == 0) {
        rc = fl_calendar_parse(name, row.json, strlen(row.json), &cal, err);
        fl_calendar_row_release(&row);
    }
    if (rc != 0)
        return rc;
    if (c->n >= CACHE_MAX)
        cache_clear(c);
    fl_grow(&c->items, &c->cap, c->n + 1, sizeof(*c->items));
    c->items[c->n].name = fl_strdup(name);
    c->items[c->n].cal = cal;
    c->n++;
    *out = cal;
    return 0;
}

int fl__svc_calendar_add(void *arg, const char *cal, int64_t t_ms, const struct fl_iso_duration *d,
                         int64_t *out, struct fl_error *err)
{
    struct fl_service *svc = arg;
    const struct fl_calendar *c = NULL;
    int rc;
    if ((rc = lookup(svc, cal && *cal ? cal : FL_CALENDAR_DEFAULT, &c, err)) != 0)
        return rc;
    return fl_calendar_add(c, t_ms, d, out, err);
}
