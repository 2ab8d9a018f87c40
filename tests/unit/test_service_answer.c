/* fl_service_submit_answered: the answer to a command (the HTTP API's Idempotency-Key
 * record) is written in the command's own transaction. These tests show that the answer
 * sees the command's uncommitted effects, that the answer and the effects commit together
 * -- also for a refused command, whose answer alone is kept -- and that they roll back
 * together: a command whose answer cannot be kept leaves no trace, and a batch that fails
 * is re-run so its good command commits once with a fresh answer. The writer is held in
 * a render callback to form a batch deterministically. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#include <cmocka.h>

#include "flowd/service.h"
#include "flowd/store.h"
#include "svc_fixture.h"
#include "svc_helpers.h"

/* One submitted command: how to answer it and what came back. */
struct answered {
    const char *scope;
    int fail_rc;      /* render returns this (0: keep the row) */
    bool hold;        /* render waits until released (forms the next batch) */
    unsigned renders; /* calls of render */
    char body[128];   /* the last answer rendered */
    uint64_t seen_instance_status;
    struct fl_result res;
    bool done;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static bool released;

static int render(void *arg, struct fl_store *s, const struct fl_result *res,
                  struct fl_idem_row *row)
{
    struct answered *a = arg;
    pthread_mutex_lock(&lock);
    a->renders++;
    pthread_cond_broadcast(&cond); /* the test may wait for the writer to get here */
    while (a->hold && !released)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    if (a->fail_rc)
        return a->fail_rc;
    if (res->rc == 0) {
        /* Read back through the writer's connection: the effects are not committed yet,
         * and the answer must be able to show them. */
        struct fl_instance_row inst;
        assert_int_equal(fl_store_instance_get(s, res->instance_id, &inst, NULL), 0);
        a->seen_instance_status = (uint64_t)inst.status;
        snprintf(a->body, sizeof(a->body), "{\"id\":%llu,\"render\":%u}",
                 (unsigned long long)inst.id, a->renders);
        fl_instance_row_release(&inst);
        row->status = 201;
    } else {
        snprintf(a->body, sizeof(a->body), "{\"error\":%d}", res->rc);
        row->status = 404;
    }
    row->scope = (char *)(uintptr_t)a->scope; /* borrowed: stored before render's caller returns */
    snprintf(row->body_hash, sizeof(row->body_hash), "%064d", 0);
    row->content_type = NULL;
    row->body = a->body;
    row->body_len = strlen(a->body);
    row->created_at = 1;
    return 0;
}

static void done(void *arg, const struct fl_result *res)
{
    struct answered *a = arg;
    pthread_mutex_lock(&lock);
    a->res = *res;
    a->done = true;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

static void submit(struct fixture *f, const struct fl_command *c, struct answered *a)
{
    assert_int_equal(fl_service_submit_answered(f->svc, c, render, done, a), 0);
}

static void wait_done(struct answered *a)
{
    pthread_mutex_lock(&lock);
    while (!a->done)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
}

static void release_writer(void)
{
    pthread_mutex_lock(&lock);
    released = true;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

/* The kept answer of scope, or NULL (caller frees). */
static char *kept(struct fixture *f, const char *scope, int *status)
{
    struct fl_store *rd = reader(f);
    struct fl_idem_row row;
    char *body = NULL;
    int rc = fl_store_idem_get(rd, scope, &row, NULL);
    if (rc == 0) {
        body = strdup(row.body);
        *status = row.status;
        fl_idem_row_release(&row);
    } else {
        assert_int_equal(rc, FL_ENOTFOUND);
    }
    fl_store_close(rd);
    return body;
}

static size_t count_instances(struct fixture *f)
{
    struct fl_store *rd = reader(f);
    struct fl_instance_query q = {.limit = 10000};
    struct fl_instance_row *rows;
    size_t n;
    assert_int_equal(fl_store_instance_list(rd, &q, &rows, &n, NULL), 0);
    fl_instance_rows_free(rows, n);
    fl_store_close(rd);
    return n;
}

static bool instance_exists(struct fixture *f, uint64_t id)
{
    struct fl_store *rd = reader(f);
    struct fl_instance_row row;
    int rc = fl_store_instance_get(rd, id, &row, NULL);
    if (rc == 0)
        fl_instance_row_release(&row);
    fl_store_close(rd);
    return rc == 0;
}

static void test_answer_commits_with_effects(void **state)
{
    struct fixture *f = *state;
    struct fl_command c = start_cmd("A1");
    struct answered a = {.scope = "k-start"};
    char want[128], *body;
    int status = 0;

    released = false;
    f->svc = open_svc(f, 0, 0);
    deploy_order(f->svc);
    submit(f, &c, &a);
    wait_done(&a);
    assert_int_equal(a.res.rc, 0);
    assert_true(a.res.answer_kept);
    assert_int_equal(a.renders, 1);
    assert_int_equal(a.seen_instance_status, FL_INSTANCE_ACTIVE);
    snprintf(want, sizeof(want), "{\"id\":%llu,\"render\":1}",
             (unsigned long long)a.res.instance_id);
    body = kept(f, "k-start", &status);
    assert_non_null(body);
    assert_string_equal(body, want);
    assert_int_equal(status, 201);
    assert_true(instance_exists(f, a.res.instance_id));
    free(body);

    /* A refused command wrote nothing, but its answer is kept (a retry gets the 404). */
    struct fl_command bad = complete_cmd(0, 999999);
    struct answered b = {.scope = "k-refused"};
    submit(f, &bad, &b);
    wait_done(&b);
    assert_int_equal(b.res.rc, FL_ENOTFOUND);
    assert_true(b.res.answer_kept);
    body = kept(f, "k-refused", &status);
    assert_non_null(body);
    assert_int_equal(status, 404);
    free(body);
}

static void test_answer_and_effects_roll_back_together(void **state)
{
    struct fixture *f = *state;
    struct fl_command c = start_cmd("R1");
    struct answered a = {.scope = "k-fails", .fail_rc = FL_ESTORE};
    struct fl_service_stats st;
    size_t before;
    int status = 0;

    released = false;
    f->svc = open_svc(f, 0, 0);
    deploy_order(f->svc);
    before = count_instances(f);
    submit(f, &c, &a);
    wait_done(&a);
    /* The answer could not be kept: the command is not committed either. */
    assert_int_equal(a.res.rc, FL_ESTORE);
    assert_false(a.res.answer_kept);
    assert_true(a.renders >= 1);
    assert_null(kept(f, "k-fails", &status));
    assert_int_equal(count_instances(f), before);
    fl_service_stats(f->svc, &st);
    assert_true(st.retried >= 1);
}

static void test_failed_batch_rerun_keeps_one_answer(void **state)
{
    struct fixture *f = *state;
    struct fl_command c0 = start_cmd("B0"), c1 = start_cmd("B1"), c2 = start_cmd("B2");
    struct answered a0 = {.scope = "k-b0", .hold = true};
    struct answered a1 = {.scope = "k-b1"};
    struct answered a2 = {.scope = "k-b2", .fail_rc = FL_ESTORE};
    char want[128], *body;
    size_t before;
    int status = 0;

    released = false;
    f->svc = open_svc(f, 0, 0);
    deploy_order(f->svc);
    before = count_instances(f);
    /* The writer holds inside c0's render while c1 and c2 queue up: they form one batch. */
    submit(f, &c0, &a0);
    pthread_mutex_lock(&lock);
    while (a0.renders == 0)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    submit(f, &c1, &a1);
    submit(f, &c2, &a2);
    release_writer();
    wait_done(&a0);
    wait_done(&a1);
    wait_done(&a2);

    assert_int_equal(a0.res.rc, 0);
    assert_true(a0.res.answer_kept);
    /* c1 ran in the failed batch (rolled back with its answer), then alone: committed
     * once, with the answer of the second run naming the instance that exists. */
    assert_int_equal(a1.res.rc, 0);
    assert_true(a1.res.answer_kept);
    assert_int_equal(a1.renders, 2);
    snprintf(want, sizeof(want), "{\"id\":%llu,\"render\":2}",
             (unsigned long long)a1.res.instance_id);
    body = kept(f, "k-b1", &status);
    assert_non_null(body);
    assert_string_equal(body, want);
    free(body);
    assert_true(instance_exists(f, a1.res.instance_id));
    /* c2's answer failed both times: neither it nor its instance is there. */
    assert_int_equal(a2.res.rc, FL_ESTORE);
    assert_false(a2.res.answer_kept);
    assert_null(kept(f, "k-b2", &status));
    assert_int_equal(count_instances(f), before + 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_answer_commits_with_effects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answer_and_effects_roll_back_together, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_batch_rerun_keeps_one_answer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
