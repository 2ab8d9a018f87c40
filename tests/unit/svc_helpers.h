/* Helpers of the service tests (after cmocka.h): a service on a temporary database with
 * an injected clock, the order process deployed, a reader connection, command builders. */
#ifndef FLOWD_SVC_HELPERS_H
#define FLOWD_SVC_HELPERS_H

#include "flowd/service.h"
#include "flowd/store.h"
#include "svc_fixture.h"

static inline int64_t fixed_clock(void)
{
    return 1700000000000;
}

struct fixture {
    char dir[64];
    char url[128];
    struct fl_service *svc;
};

static inline struct fl_service *open_svc(struct fixture *f, unsigned max_batch, unsigned queue_cap)
{
    struct fl_service_options o = {.db_url = f->url,
                                   .synchronous = 0,
                                   .synchronous_set = true,
                                   .max_batch = max_batch,
                                   .queue_cap = queue_cap,
                                   .clock_ms = fixed_clock};
    struct fl_service *svc = NULL;
    struct fl_error e;
    fl_error_clear(&e);
    int rc = fl_service_open(&o, &svc, &e);
    if (rc)
        fprintf(stderr, "service open: %s\n", e.msg);
    assert_int_equal(rc, 0);
    return svc;
}

static inline void deploy_order(struct fl_service *svc)
{
    struct fl_deploy_result r[2];
    struct fl_error e;
    size_t n;
    fl_error_clear(&e);
    int rc = fl_service_deploy(svc, SVC_PROCESS_XML, strlen(SVC_PROCESS_XML), r, 2, &n, &e);
    if (rc)
        fprintf(stderr, "deploy: %s (line %d)\n", e.msg, e.line);
    assert_int_equal(rc, 0);
    assert_int_equal(n, 1);
}

static inline int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (svc_tmpdir(f->dir))
        return -1;
    snprintf(f->url, sizeof(f->url), "sqlite:%s/t.db", f->dir);
    *state = f;
    return 0;
}

static inline int teardown(void **state)
{
    struct fixture *f = *state;
    fl_service_close(f->svc);
    svc_rmdb(f->dir);
    free(f);
    return 0;
}

static inline struct fl_store *reader(struct fixture *f)
{
    struct fl_store_options ro = {.read_only = true};
    struct fl_store *s = NULL;
    assert_int_equal(fl_store_open(f->url, &ro, &s, NULL), 0);
    return s;
}

static inline struct fl_command start_cmd(const char *bk)
{
    struct fl_command c;
    memset(&c, 0, sizeof(c));
    c.kind = FL_CMD_START;
    c.process_key = "order";
    c.business_key = bk;
    c.actor = "tester";
    return c;
}

static inline struct fl_command complete_cmd(uint64_t instance_id, uint64_t task_id)
{
    struct fl_command c;
    memset(&c, 0, sizeof(c));
    c.kind = FL_CMD_COMPLETE_TASK;
    c.instance_id = instance_id;
    c.target_id = task_id;
    c.actor = "ann";
    return c;
}

#endif
