/* The store front for business calendars (flowd/calendar.h): a calendar is validated by
 * core's parser before any back end sees it and stored in its canonical JSON, so what is
 * read back always parses and a bad one never replaces a good one. */
#include <stdlib.h>
#include <string.h>

#include "flowd/calendar.h"
#include "store/store_impl.h"

int fl_store_calendar_put(struct fl_store *s, const char *name, const char *json, size_t len,
                          int64_t now_ms, struct fl_error *err)
{
    struct fl_calendar *c = NULL;
    struct fl_buf canon = FL_BUF_INIT;
    int rc;
    if ((rc = fl_calendar_parse(name, json, len, &c, err)) != 0)
        goto out;
    fl_calendar_to_json(c, &canon);
    rc = s->ops->calendar_put(s, name, canon.ptr, now_ms, err);
out:
    fl_calendar_free(c);
    fl_buf_release(&canon);
    return rc;
}

static int check_name(const char *name, struct fl_error *err)
{
    if (fl_calendar_name_valid(name))
        return 0;
    fl_error_set(err, FL_EINVAL, "invalid calendar name '%s' (1-64 of letters, digits, . _ -)",
                 name ? name : "");
    if (err)
        strcpy(err->field, "name");
    return FL_EINVAL;
}

int fl_store_calendar_get(struct fl_store *s, const char *name, struct fl_calendar_row *out,
                          struct fl_error *err)
{
    int rc;
    memset(out, 0, sizeof(*out));
    if ((rc = check_name(name, err)) != 0)
        return rc;
    return s->ops->calendar_get(s, name, out, err);
}

int fl_store_calendar_list(struct fl_store *s, struct fl_calendar_row **rows, size_t *n,
                           struct fl_error *err)
{
    return s->ops->calendar_list(s, rows, n, err);
}

int fl_store_calendar_delete(struct fl_store *s, const char *name, struct fl_error *err)
{
    int rc;
    if ((rc = check_name(name, err)) != 0)
        return rc;
    return s->ops->calendar_delete(s, name, err);
}

int fl_store_calendar_revision(struct fl_store *s, uint64_t *rev, struct fl_error *err)
{
    return s->ops->calendar_revision(s, rev, err);
}

void fl_calendar_row_release(struct fl_calendar_row *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->json);
    memset(r, 0, sizeof(*r));
}

void fl_calendar_rows_free(struct fl_calendar_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fl_calendar_row_release(&rows[i]);
    free(rows);
}
