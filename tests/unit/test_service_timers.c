/* Service tests of the scheduler on a test clock (no real sleeps: the clock is set, then
 * fl_service_timers_settle waits for what came due): reminders, deadlines and escalation
 * levels fire through the group commit into history and the users' inboxes, each exactly
 * once; completing a task cancels its pending levels; a small in-memory window is refilled
 * from the store; after a restart overdue timers fire at once, in due order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flowd/auth.h"
#include "flowd/service.h"
#include "flowd/store.h"
#include "svc_fixture.h"
#include "timer_fixture.h"

#define N_CASES 12
#define SETTLE_MS 60000

struct fixture {
    char dir[64];
    char url[128];
    struct fl_service *svc;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (svc_tmpdir(f->dir))
        return -1;
    snprintf(f->url, sizeof(f->url), "sqlite:%s/t.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fl_service_close(f->svc);
    svc_rmdb(f->dir);
    free(f);
    return 0;
}

static struct fl_service *open_svc(struct fixture *f, bool timers, int64_t now)
{
    struct fl_service_options o = {.db_url = f->url,
                                   .synchronous = 0,
                                   .synchronous_set = true,
                                   .run_timers = timers,
                                   .timer_window = 4, /* tiny: refills and trims happen */
                                   .test_clock = true,
                                   .test_clock_start_ms = now};
    struct fl_service *svc = NULL;
    struct fl_error e;
    fl_error_clear(&e);
    if (fl_service_open(&o, &svc, &e) != 0)
        fail_msg("service open: %s", e.msg);
    return svc;
}

static void deploy(struct fl_service *svc)
{
    struct fl_deploy_result r[1];
    struct fl_error e;
    size_t n;
    fl_error_clear(&e);
    if (fl_service_deploy(svc, TIMER_PROCESS_XML, strlen(TIMER_PROCESS_XML), r, 1, &n, &e) != 0)
        fail_msg("deploy: %s (line %d)", e.msg, e.line);
}

static struct fl_store *open_store(struct fixture *f, bool rw)
{
    struct fl_store_options o = {.read_only = !rw, .create = rw};
    struct fl_store *s = NULL;
    assert_int_equal(fl_store_open(f->url, &o, &s, NULL), 0);
    return s;
}

/* alice in sales (no head) under company (head: boss); carol holds sales_head, dan is the
 * director. */
static void people(struct fixture *f)
{
    struct fl_store *s = open_store(f, true);
    const char *sales_head[] = {"sales_head"}, *director[] = {"director"};
    struct fl_user_new boss = {.login = "boss"}, alice = {.login = "alice", .department = "sales"},
                       carol = {.login = "carol", .roles = sales_head, .n_roles = 1},
                       dan = {.login = "dan", .roles = director, .n_roles = 1};
    uint64_t id;
    assert_int_equal(fl_auth_role_add(s, "sales_head", NULL, &id, NULL), 0);
    assert_int_equal(fl_auth_role_add(s, "director", NULL, &id, NULL), 0);
    assert_int_equal(fl_auth_user_add(s, &boss, 1, &id, NULL), 0);
    assert_int_equal(fl_auth_department_add(s, "company", NULL, "boss", &id, NULL), 0);
    assert_int_equal(fl_auth_department_add(s, "sales", "company", NULL, &id, NULL), 0);
    assert_int_equal(fl_auth_user_add(s, &alice, 1, &id, NULL), 0);
    assert_int_equal(fl_auth_user_add(s, &carol, 1, &id, NULL), 0);
    assert_int_equal(fl_auth_user_add(s, &dan, 1, &id, NULL), 0);
    fl_store_close(s);
}

static void start_cases(struct fl_service *svc, uint64_t *iid, uint64_t *task, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct fl_command c = {.kind = FL_CMD_START, .process_key = "deal", .actor = "t"};
        struct fl_result r;
        assert_int_equal(fl_service_run(svc, &c, &r), 0);
        iid[i] = r.instance_id;
        task[i] = r.task_id;
        assert_true(task[i] != 0);
    }
}

static size_t inbox(struct fl_store *s, const char *user, const char *kind)
{
    struct fl_notification_query q = {.user = user, .limit = 1000};
    struct fl_notification_row *rows;
    size_t n, k = 0;
    assert_int_equal(fl_store_notification_list(s, &q, &rows, &n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        k += !strcmp(rows[i].kind, kind);
    fl_notification_rows_free(rows, n);
    return k;
}

/* Events of type ty in the instance's history (level >= 0: escalations of that level). */
static size_t events(struct fl_store *s, uint64_t iid, enum fl_event_type ty, int level)
{
    struct fl_event_row *rows;
    size_t n, k = 0;
    char want[32];
    snprintf(want, sizeof(want), "{\"level\":%d,", level);
    assert_int_equal(fl_store_history(s, iid, &rows, &n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        if (rows[i].type == (int)ty &&
            (level < 0 || (rows[i].detail && !strncmp(rows[i].detail, want, strlen(want)))))
            k++;
    fl_event_rows_free(rows, n);
    return k;
}

static void advance(struct fl_service *svc, int64_t to)
{
    assert_int_equal(fl_service_clock_set(svc, to), 0);
    assert_int_equal(fl_service_timers_settle(svc, SETTLE_MS), 0);
}

static uint64_t pending(struct fixture *f)
{
    struct fl_store *s = open_store(f, false);
    uint64_t n;
    assert_int_equal(fl_store_timer_count(s, &n, NULL), 0);
    fl_store_close(s);
    return n;
}

static void test_deadlines_fire_once(void **state)
{
    struct fixture *f = *state;
    uint64_t iid[N_CASES], task[N_CASES];
    struct fl_timer_stats ts;
    struct fl_store *s;

    people(f);
    f->svc = open_svc(f, true, TIMER_T0);
    deploy(f->svc);
    start_cases(f->svc, iid, task, N_CASES);
    assert_int_equal(pending(f), 2 * N_CASES);

    /* nothing is due yet */
    advance(f->svc, TIMER_T0 + 30 * TIMER_MIN);
    assert_int_equal(pending(f), 2 * N_CASES);

    /* reminders: alice (the assignee) */
    advance(f->svc, TIMER_T0 + 45 * TIMER_MIN);
    assert_int_equal(pending(f), N_CASES);
    s = open_store(f, false);
    assert_int_equal(inbox(s, "alice", "reminder"), N_CASES);
    assert_int_equal(inbox(s, "carol", "reminder"), 0);
    fl_store_close(s);

    /* the deadline: alice is told it is overdue; the accountable role (carol) and the
     * head of alice's department (boss, one level up) get the escalation; level 1 is set */
    advance(f->svc, TIMER_T0 + TIMER_HOUR);
    assert_int_equal(pending(f), N_CASES);
    s = open_store(f, false);
    assert_int_equal(inbox(s, "alice", "overdue"), N_CASES);
    assert_int_equal(inbox(s, "carol", "escalation"), N_CASES);
    assert_int_equal(inbox(s, "boss", "escalation"), N_CASES);
    assert_int_equal(inbox(s, "dan", "escalation"), 0);
    fl_store_close(s);

    /* half the cases are done: their level 1 goes */
    for (size_t i = 0; i < N_CASES / 2; i++) {
        struct fl_command c = {.kind = FL_CMD_COMPLETE_TASK,
                               .instance_id = iid[i],
                               .target_id = task[i],
                               .actor = "alice"};
        struct fl_result r;
        assert_int_equal(fl_service_run(f->svc, &c, &r), 0);
    }
    assert_int_equal(pending(f), N_CASES / 2);
    advance(f->svc, TIMER_T0 + 3 * TIMER_HOUR);
    assert_int_equal(pending(f), 0);
    s = open_store(f, false);
    assert_int_equal(inbox(s, "dan", "escalation"), N_CASES / 2);
    for (size_t i = 0; i < N_CASES; i++) {
        assert_int_equal(events(s, iid[i], FL_EV_TASK_REMINDED, -1), 1);
        assert_int_equal(events(s, iid[i], FL_EV_ESCALATED, 0), 1);
        assert_int_equal(events(s, iid[i], FL_EV_ESCALATED, 1), i < N_CASES / 2 ? 0 : 1);
    }
    fl_store_close(s);

    /* much later: nothing more */
    advance(f->svc, TIMER_T0 + 100 * TIMER_HOUR);
    fl_service_timer_stats(f->svc, &ts);
    assert_int_equal(ts.fired, 2 * N_CASES + N_CASES / 2); /* reminders, deadlines, level 1 */
    assert_true(ts.refills >= 2);                          /* window 4 < 24 pending */
    assert_int_equal(ts.in_flight, 0);
}

static void test_restart_fires_overdue_in_order(void **state)
{
    struct fixture *f = *state;
    uint64_t iid[N_CASES], task[N_CASES];
    struct fl_event_row *rows;
    struct fl_store *s;
    uint64_t last_seq = 0;
    size_t n;

    /* no scheduler: case i starts at T0 + (N - i) minutes, so later ids are due earlier */
    f->svc = open_svc(f, false, TIMER_T0);
    deploy(f->svc);
    for (size_t i = 0; i < N_CASES; i++) {
        assert_int_equal(
            fl_service_clock_set(f->svc, TIMER_T0 + (int64_t)(N_CASES - i) * TIMER_MIN), 0);
        start_cases(f->svc, &iid[i], &task[i], 1);
    }
    assert_int_equal(fl_service_timers_settle(f->svc, 10), FL_EINVAL);
    fl_service_close(f->svc);

    /* ...the server comes back long after every deadline: all fire, earliest first */
    f->svc = open_svc(f, true, TIMER_T0 + 2 * TIMER_HOUR);
    assert_int_equal(fl_service_timers_settle(f->svc, SETTLE_MS), 0);
    s = open_store(f, false);
    /* due order: the reminders commit (history seq) from the last case back to the first */
    for (size_t i = N_CASES; i-- > 0;) {
        assert_int_equal(fl_store_history(s, iid[i], &rows, &n, NULL), 0);
        for (size_t k = 0; k < n; k++)
            if (rows[k].type == FL_EV_TASK_REMINDED) {
                assert_true(rows[k].seq > last_seq);
                last_seq = rows[k].seq;
            }
        fl_event_rows_free(rows, n);
        assert_int_equal(events(s, iid[i], FL_EV_TASK_REMINDED, -1), 1);
        assert_int_equal(events(s, iid[i], FL_EV_ESCALATED, 0), 1);
    }
    fl_store_close(s);
    /* level 1 (deadline + 2h) is not due yet at T0 + 2h */
    assert_int_equal(pending(f), N_CASES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_deadlines_fire_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_fires_overdue_in_order, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
