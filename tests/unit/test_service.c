/* Unit tests of the service: deploy through the writer (versions, validation, nothing
 * stored on error), commands end to end, group commit (acknowledged only after commit,
 * several commands per transaction), refusals and store failures that leave neighbours in
 * the batch alone, stale caches, and close draining the queue. Batches are formed
 * deterministically by holding the writer inside a callback until the test has queued the
 * rest. Process flows (variables, gateways, jobs) are in test_service_flows.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "flowd/service.h"
#include "flowd/store.h"
#include "flowd/value.h"
#include "svc_fixture.h"
#include "svc_helpers.h"

static void test_deploy(void **state)
{
    struct fixture *f = *state;
    struct fl_deploy_result r[2];
    struct fl_definition_row *rows;
    struct fl_error e;
    size_t n, nrows;
    struct fl_store *rd;
    char *changed;

    f->svc = open_svc(f, 0, 0);
    assert_int_equal(
        fl_service_deploy(f->svc, SVC_PROCESS_XML, strlen(SVC_PROCESS_XML), r, 2, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_string_equal(r[0].key, "order");
    assert_int_equal(r[0].version, 1);
    assert_true(r[0].created);
    /* the same bytes again: no new version */
    assert_int_equal(
        fl_service_deploy(f->svc, SVC_PROCESS_XML, strlen(SVC_PROCESS_XML), r, 2, &n, NULL), 0);
    assert_false(r[0].created);
    assert_int_equal(r[0].version, 1);
    /* a changed name is a new version */
    changed = strdup(SVC_PROCESS_XML);
    memcpy(strstr(changed, "name=\"Check\""), "name=\"Checx\"", 12);
    assert_int_equal(fl_service_deploy(f->svc, changed, strlen(changed), r, 2, &n, NULL), 0);
    assert_true(r[0].created);
    assert_int_equal(r[0].version, 2);
    free(changed);
    /* broken documents are refused before the writer, with detail; nothing stored */
    fl_error_clear(&e);
    assert_int_not_equal(fl_service_deploy(f->svc, "<bpmn:definitions", 17, r, 2, &n, &e), 0);
    assert_int_equal(n, 0);
    assert_true(e.msg[0] != '\0');
    const char *dangling =
        "<?xml version=\"1.0\"?><bpmn:definitions"
        " xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\">"
        "<bpmn:process id=\"bad\" isExecutable=\"true\"><bpmn:startEvent id=\"s\"/>"
        "<bpmn:sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"nowhere\"/>"
        "</bpmn:process></bpmn:definitions>";
    fl_error_clear(&e);
    assert_int_not_equal(fl_service_deploy(f->svc, dangling, strlen(dangling), r, 2, &n, &e), 0);
    rd = reader(f);
    assert_int_equal(fl_store_definition_list(rd, &rows, &nrows, NULL), 0);
    assert_int_equal(nrows, 2);
    fl_definition_rows_free(rows, nrows);
    /* two executable processes: two definitions, each with the whole document */
    const char *two = "<?xml version=\"1.0\"?><bpmn:definitions"
                      " xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\">"
                      "<bpmn:process id=\"p1\" isExecutable=\"true\"><bpmn:startEvent id=\"s\"/>"
                      "<bpmn:sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"e\"/>"
                      "<bpmn:endEvent id=\"e\"/></bpmn:process>"
                      "<bpmn:process id=\"p2\" isExecutable=\"true\"><bpmn:startEvent id=\"s2\"/>"
                      "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"s2\" targetRef=\"e2\"/>"
                      "<bpmn:endEvent id=\"e2\"/></bpmn:process></bpmn:definitions>";
    fl_error_clear(&e);
    assert_int_equal(fl_service_deploy(f->svc, two, strlen(two), r, 2, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(r[0].key, "p1");
    assert_string_equal(r[1].key, "p2");
    assert_true(r[0].created && r[1].created);
    assert_true(r[0].definition_id != r[1].definition_id);
    struct fl_definition_row d;
    assert_int_equal(fl_store_definition_get(rd, "p2", 0, 0, &d, NULL), 0);
    assert_int_equal(d.xml_len, strlen(two));
    fl_definition_row_release(&d);
    fl_store_close(rd);
}

static void test_run_to_completion(void **state)
{
    struct fixture *f = *state;
    struct fl_result res;
    struct fl_command c;
    struct fl_store *rd;
    struct fl_task_row task;
    struct fl_instance_row row;
    struct fl_event_row *ev;
    struct fl_value *vars = fl_value_context_new();
    size_t nev;
    uint64_t iid, tid;

    f->svc = open_svc(f, 0, 0);
    /* unknown process before anything is deployed */
    c = start_cmd(NULL);
    assert_int_equal(fl_service_run(f->svc, &c, &res), FL_ENOTFOUND);
    assert_non_null(strstr(res.err.msg, "order"));
    deploy_order(f->svc);

    /* variables are copied at submit: the caller's value is gone before the writer runs */
    fl_value_context_set(vars, "amount", 6, fl_value_int(1500));
    c = start_cmd("deal-7");
    c.variables = vars;
    assert_int_equal(fl_service_run(f->svc, &c, &res), 0);
    fl_value_unref(vars);
    iid = res.instance_id;
    tid = res.task_id;
    assert_true(iid > 0);
    assert_true(tid > 0);
    assert_int_equal(res.instance_status, FL_INSTANCE_ACTIVE);

    for (int k = 0; k < SVC_TASKS_PER_INSTANCE; k++) {
        c = complete_cmd(k == 1 ? 0 : iid, tid); /* k == 1: routed through the task */
        assert_int_equal(fl_service_run(f->svc, &c, &res), 0);
        assert_int_equal(res.instance_id, iid);
        if (k < SVC_TASKS_PER_INSTANCE - 1) {
            assert_int_equal(res.instance_status, FL_INSTANCE_ACTIVE);
            assert_true(res.task_id > tid);
        } else {
            assert_int_equal(res.instance_status, FL_INSTANCE_COMPLETED);
            assert_int_equal(res.task_id, 0);
        }
        tid = res.task_id ? res.task_id : tid;
    }
    /* completing the last task again: refused, nothing changed */
    c = complete_cmd(iid, tid);
    assert_int_not_equal(fl_service_run(f->svc, &c, &res), 0);
    c = complete_cmd(0, 987654);
    assert_int_equal(fl_service_run(f->svc, &c, &res), FL_ENOTFOUND);

    rd = reader(f);
    assert_int_equal(fl_store_instance_get(rd, iid, &row, NULL), 0);
    assert_int_equal(row.status, FL_INSTANCE_COMPLETED);
    assert_string_equal(row.business_key, "deal-7");
    assert_string_equal(row.variables_json, "{\"amount\":1500}");
    assert_int_equal(row.started_at, fixed_clock());
    fl_instance_row_release(&row);
    assert_int_equal(fl_store_task_get(rd, tid, &task, NULL), 0);
    assert_int_equal(task.status, FL_TASK_COMPLETED);
    assert_string_equal(task.closed_by, "ann");
    fl_task_row_release(&task);
    assert_int_equal(fl_store_history(rd, iid, &ev, &nev, NULL), 0);
    assert_true(nev >= 2 + 2 * SVC_TASKS_PER_INSTANCE);
    assert_int_equal(ev[0].type, FL_EV_INSTANCE_STARTED);
    assert_int_equal(ev[nev - 1].type, FL_EV_INSTANCE_COMPLETED);
    fl_event_rows_free(ev, nev);
    fl_store_close(rd);
}

/* ---- batches ---- */

/* Holds the writer inside the first acknowledgement until the test opens the gate. */
struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool entered, open;
};

static void gate_init(struct gate *g)
{
    memset(g, 0, sizeof(*g));
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cond, NULL);
}

static void gate_cb(void *arg, const struct fl_result *res)
{
    struct gate *g = arg;
    (void)res;
    pthread_mutex_lock(&g->lock);
    g->entered = true;
    pthread_cond_broadcast(&g->cond);
    while (!g->open)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

static void gate_wait_entered(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    while (!g->entered)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->open = true;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

static void gate_release(struct gate *g)
{
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
}

#define N_ACKS 300

struct acks {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    size_t n, n_ok, n_visible;
    struct fl_result res[N_ACKS];
    sqlite3 *db; /* a separate connection: sees only committed rows */
    sqlite3_stmt *exists;
};

struct ack_slot {
    struct acks *a;
    size_t i;
};

static void ack_cb(void *arg, const struct fl_result *res)
{
    struct ack_slot *s = arg;
    struct acks *a = s->a;
    bool visible = false;
    if (a->exists && res->rc == 0) {
        sqlite3_bind_int64(a->exists, 1, (sqlite3_int64)res->instance_id);
        visible = sqlite3_step(a->exists) == SQLITE_ROW;
        sqlite3_reset(a->exists);
    }
    pthread_mutex_lock(&a->lock);
    a->res[s->i] = *res;
    a->n++;
    a->n_ok += res->rc == 0;
    a->n_visible += visible;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
}

static void acks_wait(struct acks *a, size_t n)
{
    pthread_mutex_lock(&a->lock);
    while (a->n < n)
        pthread_cond_wait(&a->cond, &a->lock);
    pthread_mutex_unlock(&a->lock);
}

static void test_group_commit(void **state)
{
    struct fixture *f = *state;
    static struct acks a;
    static struct ack_slot slots[N_ACKS];
    struct fl_service_stats st;
    struct gate g;
    struct fl_command c;
    char path[128];

    f->svc = open_svc(f, 64, 0);
    deploy_order(f->svc);
    memset(&a, 0, sizeof(a));
    pthread_mutex_init(&a.lock, NULL);
    pthread_cond_init(&a.cond, NULL);
    snprintf(path, sizeof(path), "%s/t.db", f->dir);
    assert_int_equal(sqlite3_open_v2(path, &a.db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(a.db, "SELECT 1 FROM instances WHERE id = ?1", -1, &a.exists, NULL),
        SQLITE_OK);
    gate_init(&g);
    c = start_cmd("gate");
    assert_int_equal(fl_service_submit(f->svc, &c, gate_cb, &g), 0);
    gate_wait_entered(&g);
    for (size_t i = 0; i < N_ACKS; i++) {
        char bk[32];
        snprintf(bk, sizeof(bk), "bk-%zu", i);
        slots[i] = (struct ack_slot){&a, i};
        c = start_cmd(bk);
        assert_int_equal(fl_service_submit(f->svc, &c, ack_cb, &slots[i]), 0);
    }
    gate_open(&g);
    acks_wait(&a, N_ACKS);
    assert_int_equal(a.n_ok, N_ACKS);
    /* every acknowledged instance was visible to another connection at ack time */
    assert_int_equal(a.n_visible, N_ACKS);
    for (size_t i = 1; i < N_ACKS; i++)
        assert_true(a.res[i].instance_id > a.res[i - 1].instance_id); /* submission order */
    fl_service_stats(f->svc, &st);
    assert_int_equal(st.commands, N_ACKS + 1 + 1 /* deploy */);
    assert_int_equal(st.max_batch, 64);
    assert_true(st.batches <= 2 + (N_ACKS + 63) / 64);
    sqlite3_finalize(a.exists);
    sqlite3_close(a.db);
    gate_release(&g);
}

static void test_refusal_spares_neighbours(void **state)
{
    struct fixture *f = *state;
    static struct acks a;
    static struct ack_slot slots[6];
    struct fl_service_stats st;
    struct fl_result res;
    struct fl_command c;
    struct gate g;
    struct fl_store *rd;
    struct fl_task_row task;

    f->svc = open_svc(f, 0, 0);
    deploy_order(f->svc);
    c = start_cmd("first");
    assert_int_equal(fl_service_run(f->svc, &c, &res), 0);
    uint64_t iid = res.instance_id, tid = res.task_id;
    memset(&a, 0, sizeof(a));
    pthread_mutex_init(&a.lock, NULL);
    pthread_cond_init(&a.cond, NULL);
    gate_init(&g);
    c = start_cmd("gate");
    assert_int_equal(fl_service_submit(f->svc, &c, gate_cb, &g), 0);
    gate_wait_entered(&g);
    struct fl_command batch[6] = {
        start_cmd("a"),
        complete_cmd(iid, tid),
        complete_cmd(iid, tid),    /* the same task again: refused */
        complete_cmd(iid, 424242), /* no such task: refused */
        start_cmd("b"),
        start_cmd("c"),
    };
    batch[5].process_key = "no-such-process"; /* refused */
    for (size_t i = 0; i < 6; i++) {
        slots[i] = (struct ack_slot){&a, i};
        assert_int_equal(fl_service_submit(f->svc, &batch[i], ack_cb, &slots[i]), 0);
    }
    gate_open(&g);
    acks_wait(&a, 6);
    assert_int_equal(a.res[0].rc, 0);
    assert_int_equal(a.res[1].rc, 0);
    assert_int_not_equal(a.res[2].rc, 0);
    assert_int_not_equal(a.res[3].rc, 0);
    assert_int_equal(a.res[4].rc, 0);
    assert_int_equal(a.res[5].rc, FL_ENOTFOUND);
    assert_true(a.res[2].err.msg[0] != '\0');
    fl_service_stats(f->svc, &st);
    assert_int_equal(st.retried, 0); /* refusals do not roll the batch back */
    rd = reader(f);
    assert_int_equal(fl_store_task_get(rd, tid, &task, NULL), 0);
    assert_int_equal(task.status, FL_TASK_COMPLETED);
    fl_task_row_release(&task);
    assert_int_equal(fl_store_task_get(rd, a.res[1].task_id, &task, NULL), 0);
    assert_int_equal(task.status, FL_TASK_OPEN);
    fl_task_row_release(&task);
    fl_store_close(rd);
    gate_release(&g);
}

static void test_store_error_spares_neighbours(void **state)
{
    struct fixture *f = *state;
    static struct acks a;
    static struct ack_slot slots[4];
    struct fl_service_stats st;
    struct fl_command c;
    struct gate g;
    struct fl_store *rd;
    struct fl_instance_row *rows;
    size_t n;
    sqlite3 *db;
    char path[128];

    f->svc = open_svc(f, 0, 0);
    deploy_order(f->svc);
    /* a trigger makes the store fail for one business key, as a full disk would */
    snprintf(path, sizeof(path), "%s/t.db", f->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER boom BEFORE INSERT ON instances"
                                  " WHEN NEW.business_key = 'boom'"
                                  " BEGIN SELECT RAISE(ABORT, 'boom'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    memset(&a, 0, sizeof(a));
    pthread_mutex_init(&a.lock, NULL);
    pthread_cond_init(&a.cond, NULL);
    gate_init(&g);
    c = start_cmd("gate");
    assert_int_equal(fl_service_submit(f->svc, &c, gate_cb, &g), 0);
    gate_wait_entered(&g);
    const char *bks[4] = {"x", "boom", "y", "z"};
    for (size_t i = 0; i < 4; i++) {
        slots[i] = (struct ack_slot){&a, i};
        c = start_cmd(bks[i]);
        assert_int_equal(fl_service_submit(f->svc, &c, ack_cb, &slots[i]), 0);
    }
    gate_open(&g);
    acks_wait(&a, 4);
    assert_int_equal(a.res[0].rc, 0);
    assert_int_not_equal(a.res[1].rc, 0);
    assert_non_null(strstr(a.res[1].err.msg, "boom"));
    assert_int_equal(a.res[2].rc, 0);
    assert_int_equal(a.res[3].rc, 0);
    fl_service_stats(f->svc, &st);
    assert_int_equal(st.retried, 1);
    rd = reader(f);
    assert_int_equal(fl_store_instance_list(rd, NULL, &rows, &n, NULL), 0);
    assert_int_equal(n, 4); /* gate, x, y, z */
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(rows[i].business_key, "boom");
    fl_instance_rows_free(rows, n);
    fl_store_close(rd);
    gate_release(&g);
}

/* Another writer changed an instance the service has cached: the stale step is refused
 * by the store's revision check and re-run from the stored state, not written over it. */
static void test_stale_cache_is_reloaded(void **state)
{
    struct fixture *f = *state;
    struct fl_service_stats st;
    struct fl_result res;
    struct fl_command c;
    struct fl_store *rd;
    struct fl_instance_row row;
    char path[128];
    sqlite3 *db;

    f->svc = open_svc(f, 0, 0);
    deploy_order(f->svc);
    c = start_cmd("stale");
    assert_int_equal(fl_service_run(f->svc, &c, &res), 0);
    uint64_t iid = res.instance_id, tid = res.task_id;
    snprintf(path, sizeof(path), "%s/t.db", f->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE instances SET revision = revision + 1,"
                                  " business_key = 'other'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    c = complete_cmd(iid, tid);
    assert_int_equal(fl_service_run(f->svc, &c, &res), 0);
    fl_service_stats(f->svc, &st);
    assert_int_equal(st.retried, 1);
    rd = reader(f);
    assert_int_equal(fl_store_instance_get(rd, iid, &row, NULL), 0);
    assert_string_equal(row.business_key, "other"); /* the other writer's change survived */
    fl_instance_row_release(&row);
    fl_store_close(rd);
}

/* Two writers on one database (a second process, a CLI beside the server): each sees the
 * other's commits and takes ids after them, so no start collides with another. */
static void test_two_writers_share_ids(void **state)
{
    struct fixture *f = *state;
    struct fl_service *other;
    struct fl_result res;
    struct fl_command c;
    uint64_t ids[6];
    struct fl_store *rd;

    f->svc = open_svc(f, 0, 0);
    deploy_order(f->svc);
    other = open_svc(f, 0, 0); /* seeded now: both allocators start at the same ids */
    for (int i = 0; i < 6; i++) {
        struct fl_service *w = i % 2 ? other : f->svc;
        c = start_cmd(i % 2 ? "other" : "first");
        assert_int_equal(fl_service_run(w, &c, &res), 0);
        assert_int_equal(res.rc, 0);
        ids[i] = res.instance_id;
        for (int k = 0; k < i; k++)
            assert_true(ids[k] != ids[i]);
    }
    fl_service_close(other);
    rd = reader(f);
    for (int i = 0; i < 6; i++) {
        struct fl_instance_row row;
        assert_int_equal(fl_store_instance_get(rd, ids[i], &row, NULL), 0);
        assert_string_equal(row.business_key, i % 2 ? "other" : "first");
        fl_instance_row_release(&row);
    }
    fl_store_close(rd);
}

struct chain {
    struct fl_service *svc;
    struct acks *a;
    struct ack_slot slots[2];
};

/* Submits two follow-ups from the writer thread with a queue of one: must not wait. */
static void chain_cb(void *arg, const struct fl_result *res)
{
    struct chain *ch = arg;
    struct fl_command c = complete_cmd(res->instance_id, res->task_id);
    assert_int_equal(res->rc, 0);
    ch->slots[0] = (struct ack_slot){ch->a, 0};
    ch->slots[1] = (struct ack_slot){ch->a, 1};
    assert_int_equal(fl_service_submit(ch->svc, &c, ack_cb, &ch->slots[0]), 0);
    assert_int_equal(fl_service_submit(ch->svc, &c, ack_cb, &ch->slots[1]), 0);
}

static void test_submit_from_callback(void **state)
{
    struct fixture *f = *state;
    static struct acks a;
    struct chain ch;
    struct fl_command c;

    f->svc = open_svc(f, 0, 1);
    deploy_order(f->svc);
    memset(&a, 0, sizeof(a));
    pthread_mutex_init(&a.lock, NULL);
    pthread_cond_init(&a.cond, NULL);
    ch.svc = f->svc;
    ch.a = &a;
    c = start_cmd("chain");
    assert_int_equal(fl_service_submit(f->svc, &c, chain_cb, &ch), 0);
    acks_wait(&a, 2);
    assert_int_equal(a.res[0].rc, 0);
    assert_int_not_equal(a.res[1].rc, 0); /* the same task twice: the second is refused */
}

struct closer {
    struct fl_service *svc;
};

static void *close_thread(void *arg)
{
    struct closer *c = arg;
    fl_service_close(c->svc);
    return NULL;
}

static void test_close_drains(void **state)
{
    struct fixture *f = *state;
    static struct acks a;
    static struct ack_slot slots[N_ACKS];
    struct fl_command c;
    struct gate g;
    struct closer cl;
    pthread_t t;
    size_t queued = 0;
    struct fl_store *rd;
    struct fl_instance_query q = {.limit = 1000};
    struct fl_instance_row *rows;
    size_t n;

    f->svc = open_svc(f, 8, 16);
    deploy_order(f->svc);
    memset(&a, 0, sizeof(a));
    pthread_mutex_init(&a.lock, NULL);
    pthread_cond_init(&a.cond, NULL);
    gate_init(&g);
    c = start_cmd("gate");
    assert_int_equal(fl_service_submit(f->svc, &c, gate_cb, &g), 0);
    gate_wait_entered(&g);
    cl.svc = f->svc;
    f->svc = NULL;
    /* fill the queue (cap 16); the 17th submit blocks until close refuses it */
    assert_int_equal(pthread_create(&t, NULL, close_thread, &cl), 0);
    for (;;) {
        slots[queued] = (struct ack_slot){&a, queued};
        c = start_cmd("queued");
        int rc = fl_service_submit(cl.svc, &c, ack_cb, &slots[queued]);
        if (rc) {
            assert_int_equal(rc, FL_ECLOSED);
            break;
        }
        queued++;
        assert_true(queued < N_ACKS);
    }
    assert_true(queued <= 16);
    gate_open(&g);
    pthread_join(t, NULL);
    assert_int_equal(a.n, queued);
    assert_int_equal(a.n_ok, queued);
    rd = reader(f);
    assert_int_equal(fl_store_instance_list(rd, &q, &rows, &n, NULL), 0);
    assert_int_equal(n, queued + 1);
    fl_instance_rows_free(rows, n);
    fl_store_close(rd);
    gate_release(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_deploy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_to_completion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusal_spares_neighbours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_error_spares_neighbours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_cache_is_reloaded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_writers_share_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_submit_from_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_drains, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
