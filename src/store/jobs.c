/* The store front for jobs and incidents (flowd/jobs.h): forwarding to the back end's
 * vtable, freeing rows, and the job status names the API and CLI print. */
#include <stdlib.h>
#include <string.h>

#include "flowd/jobs.h"
#include "store/store_impl.h"

static const char *const status_names[] = {"open", "completed", "failed"};

const char *fl_job_status_name(int status)
{
    if (status < 0 || (size_t)status >= sizeof(status_names) / sizeof(status_names[0]))
        return NULL;
    return status_names[status];
}

int fl_job_status_parse(const char *text, int *out)
{
    for (size_t i = 0; text && i < sizeof(status_names) / sizeof(status_names[0]); i++)
        if (!strcmp(text, status_names[i])) {
            *out = (int)i;
            return 0;
        }
    return FL_EINVAL;
}

int fl_store_job_get(struct fl_store *s, uint64_t id, struct fl_job_row *out, struct fl_error *err)
{
    return s->ops->job_get(s, id, out, err);
}

int fl_store_job_list(struct fl_store *s, const struct fl_job_query *q, struct fl_job_row **rows,
                      size_t *n, struct fl_error *err)
{
    return s->ops->job_list(s, q, rows, n, err);
}

int fl_store_job_activate(struct fl_store *s, const char *type, const char *worker, size_t max,
                          int64_t now_ms, int64_t lock_until, struct fl_job_row **rows, size_t *n,
                          struct fl_error *err)
{
    return s->ops->job_activate(s, type, worker, max, now_ms, lock_until, rows, n, err);
}

int fl_store_job_next_activatable(struct fl_store *s, const char *type, int64_t now_ms, int64_t *at,
                                  struct fl_error *err)
{
    return s->ops->job_next_activatable(s, type, now_ms, at, err);
}

int fl_store_job_set_error_code(struct fl_store *s, uint64_t id, const char *code,
                                struct fl_error *err)
{
    return s->ops->job_set_error_code(s, id, code, err);
}

void fl_job_row_release(struct fl_job_row *r)
{
    if (!r)
        return;
    free(r->node_id);
    free(r->type);
    free(r->process_key);
    free(r->worker);
    free(r->error);
    free(r->error_code);
    memset(r, 0, sizeof(*r));
}

void fl_job_rows_free(struct fl_job_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        fl_job_row_release(&rows[i]);
    free(rows);
}

int fl_store_incident_get(struct fl_store *s, uint64_t id, struct fl_incident_row *out,
                          struct fl_error *err)
{
    return s->ops->incident_get(s, id, out, err);
}

int fl_store_incident_list(struct fl_store *s, const struct fl_incident_query *q,
                           struct fl_incident_row **rows, size_t *n, struct fl_error *err)
{
    return s->ops->incident_list(s, q, rows, n, err);
}

void fl_incident_row_release(struct fl_incident_row *r)
{
    if (!r)
        return;
    free(r->node_id);
    free(r->message);
    free(r->process_key);
    memset(r, 0, sizeof(*r));
}

void fl_incident_rows_free(struct fl_incident_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        fl_incident_row_release(&rows[i]);
    free(rows);
}
