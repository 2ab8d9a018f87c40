/* Unit tests of the store's timers and notifications (SQLite back end) fed with hand-made
 * effects: timers written, reloaded with their instance, listed in due order with a
 * keyset cursor, deleted when fired, and their ids never reused after a delete; NOTIFY
 * resolved to users (a user, a role's active holders, the nearest department head),
 * de-duplicated per notification, listed per user and marked read only by their owner. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "flowd/auth.h"
#include "flowd/store.h"
#include "flowd/value.h"

struct fixture {
    char dir[64];
    char path[128];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/flowd-stimer-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char p[160];
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static struct fl_store *open_rw(const char *path)
{
    struct fl_store_options o = {.create = true, .synchronous = 0, .synchronous_set = true};
    struct fl_store *s = NULL;
    assert_int_equal(fl_store_open(path, &o, &s, NULL), 0);
    return s;
}

static uint64_t deploy(struct fl_store *s)
{
    struct fl_definition_row r;
    bool created;
    uint64_t id;
    assert_int_equal(fl_store_definition_put(s, "p", NULL, "x", 1, 1, &r, &created, NULL), 0);
    id = r.id;
    fl_definition_row_release(&r);
    return id;
}

/* Apply fx to inst (revision already set by the caller) in one transaction. */
static void apply(struct fl_store *s, struct fl_instance *inst, struct fl_effects *fx)
{
    struct fl_error e;
    fl_error_clear(&e);
    assert_int_equal(fl_store_begin(s, NULL), 0);
    if (fl_store_apply(s, NULL, inst, fx, &e) != 0)
        fail_msg("apply: %s", e.msg);
    assert_int_equal(fl_store_commit(s, NULL), 0);
}

static void push_timer(struct fl_effects *fx, enum fl_effect_kind k, uint64_t id, int64_t due,
                       uint8_t kind)
{
    struct fl_effect *e = &fx->items[fx->n++];
    memset(e, 0, sizeof(*e));
    e->kind = k;
    e->u.timer = (struct fl_timer){.id = id,
                                   .instance_id = 7,
                                   .token_id = 3,
                                   .ref_id = 100 + id,
                                   .node = 2,
                                   .kind = kind,
                                   .level = (uint16_t)(id % 3),
                                   .due_at = due};
}

static void test_timers_roundtrip(void **state)
{
    struct fixture *f = *state;
    struct fl_store *s = open_rw(f->path);
    struct fl_effect items[16];
    struct fl_effects fx = {items, 0, 16, NULL};
    struct fl_instance inst = {.id = 7, .status = FL_INSTANCE_ACTIVE, .revision = 1};
    struct fl_instance *back = NULL;
    struct fl_timer_due due[8];
    size_t n;
    uint64_t count, max;

    inst.definition_id = deploy(s);
    inst.variables = NULL;
    push_timer(&fx, FL_FX_TIMER_SET, 5, 3000, FL_TIMER_TASK_DUE);
    push_timer(&fx, FL_FX_TIMER_SET, 4, 2000, FL_TIMER_TASK_REMIND);
    push_timer(&fx, FL_FX_TIMER_SET, 6, 2000, FL_TIMER_EVENT);
    push_timer(&fx, FL_FX_TIMER_SET, 9, 1000, FL_TIMER_CONTROL_DUE);
    apply(s, &inst, &fx);

    assert_int_equal(fl_store_instance_load(s, 7, &back, NULL), 0);
    assert_int_equal(back->n_timers, 4);
    assert_int_equal(back->timers[0].id, 4); /* id order */
    assert_int_equal(back->timers[0].kind, FL_TIMER_TASK_REMIND);
    assert_int_equal(back->timers[0].ref_id, 104);
    assert_int_equal(back->timers[0].token_id, 3);
    assert_int_equal(back->timers[0].node, 2);
    assert_int_equal(back->timers[0].level, 1);
    assert_int_equal(back->timers[0].due_at, 2000);
    assert_int_equal(back->timers[3].id, 9);
    fl_instance_free(back);

    /* due order, ties by id, and the keyset cursor */
    assert_int_equal(fl_store_timers_due(s, INT64_MIN, 0, due, 8, &n, NULL), 0);
    assert_int_equal(n, 4);
    assert_int_equal(due[0].id, 9);
    assert_int_equal(due[1].id, 4);
    assert_int_equal(due[2].id, 6);
    assert_int_equal(due[3].id, 5);
    assert_int_equal(due[0].instance_id, 7);
    assert_int_equal(fl_store_timers_due(s, 2000, 4, due, 2, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_int_equal(due[0].id, 6);
    assert_int_equal(due[1].id, 5);
    assert_int_equal(fl_store_timer_count(s, &count, NULL), 0);
    assert_int_equal(count, 4);

    /* moved (same id, later), and the highest deleted: its id stays taken */
    fx.n = 0;
    inst.revision = 2;
    push_timer(&fx, FL_FX_TIMER_SET, 4, 5000, FL_TIMER_TASK_REMIND);
    push_timer(&fx, FL_FX_TIMER_DEL, 9, 0, 0);
    apply(s, &inst, &fx);
    assert_int_equal(fl_store_timers_due(s, INT64_MIN, 0, due, 8, &n, NULL), 0);
    assert_int_equal(n, 3);
    assert_int_equal(due[0].id, 6);
    assert_int_equal(due[2].id, 4);
    assert_int_equal(due[2].due_at, 5000);
    assert_int_equal(fl_store_max_id(s, FL_ID_TIMER, &max, NULL), 0);
    assert_int_equal(max, 9);
    fl_store_close(s);
    s = open_rw(f->path); /* the mark survives a restart */
    assert_int_equal(fl_store_max_id(s, FL_ID_TIMER, &max, NULL), 0);
    assert_int_equal(max, 9);
    assert_int_equal(fl_store_max_id(s, FL_ID_CONTROL, &max, NULL), 0);
    assert_int_equal(max, 0);
    fl_store_close(s);
}

static void add_user(struct fl_store *s, const char *login, const char *dept, const char *role)
{
    struct fl_user_new u = {.login = login, .department = dept};
    const char *roles[1] = {role};
    uint64_t id;
    struct fl_error e;
    fl_error_clear(&e);
    if (role) {
        u.roles = roles;
        u.n_roles = 1;
    }
    if (fl_auth_user_add(s, &u, 1, &id, &e) != 0)
        fail_msg("user %s: %s", login, e.msg);
}

static void push_notify(struct fl_effects *fx, const char *user, const char *role,
                        const char *head_of, const char *message)
{
    struct fl_effect *e = &fx->items[fx->n++];
    memset(e, 0, sizeof(*e));
    e->kind = FL_FX_NOTIFY;
    e->u.notify = (struct fl_notify){.kind = "escalation",
                                     .to_user = user,
                                     .to_role = role,
                                     .to_head_of = head_of,
                                     .instance_id = 7,
                                     .task_id = 100,
                                     .node_id = "offer",
                                     .message = message,
                                     .at = 5000};
}

static size_t inbox(struct fl_store *s, const char *user, bool unread, uint64_t *first_id)
{
    struct fl_notification_query q = {.user = user, .unread_only = unread};
    struct fl_notification_row *rows;
    size_t n;
    assert_int_equal(fl_store_notification_list(s, &q, &rows, &n, NULL), 0);
    if (first_id)
        *first_id = n ? rows[0].id : 0;
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(rows[i].user, user);
        assert_int_equal(rows[i].instance_id, 7);
        assert_int_equal(rows[i].task_id, 100);
        assert_int_equal(rows[i].created_at, 5000);
    }
    fl_notification_rows_free(rows, n);
    return n;
}

static void test_notifications(void **state)
{
    struct fixture *f = *state;
    struct fl_store *s = open_rw(f->path);
    struct fl_effect items[16];
    struct fl_effects fx = {items, 0, 16, NULL};
    struct fl_instance inst = {.id = 7, .status = FL_INSTANCE_ACTIVE, .revision = 1};
    struct fl_notification_query q = {.user = "boss"};
    struct fl_notification_row *rows;
    uint64_t id, dept;
    size_t n;

    inst.definition_id = deploy(s);
    assert_int_equal(fl_auth_role_add(s, "sales_head", NULL, &id, NULL), 0);
    assert_int_equal(fl_auth_role_add(s, "director", NULL, &id, NULL), 0);
    add_user(s, "boss", NULL, "director");
    assert_int_equal(fl_auth_department_add(s, "company", NULL, "boss", &dept, NULL), 0);
    assert_int_equal(fl_auth_department_add(s, "sales", "company", NULL, &dept, NULL), 0);
    add_user(s, "alice", "sales", NULL);
    add_user(s, "carol", "sales", "sales_head");
    add_user(s, "dave", "sales", "sales_head");
    assert_int_equal(fl_auth_user_set_disabled(s, "dave", true, NULL), 0);

    /* One escalation told through three addressee groups: boss is the director and the
     * head of alice's department (sales has none: the walk goes up to company), and gets
     * it once; dave is disabled; carol holds the role. */
    push_notify(&fx, NULL, "director", "alice", "task 'Offer' is overdue");
    push_notify(&fx, NULL, "sales_head", NULL, "task 'Offer' is overdue");
    push_notify(&fx, "alice", NULL, NULL, "task 'Offer' is overdue");
    /* another subject: told again */
    push_notify(&fx, NULL, "director", NULL, "second");
    /* unknown role, unknown user department: nobody, no error; a free-text login: kept */
    push_notify(&fx, NULL, "nobody", "ghost", "third");
    push_notify(&fx, "ghost", NULL, NULL, "fourth");
    /* the head himself: not told about his own escalation by to_head_of */
    push_notify(&fx, NULL, NULL, "boss", "fifth");
    apply(s, &inst, &fx);

    assert_int_equal(inbox(s, "boss", false, NULL), 2);
    assert_int_equal(inbox(s, "carol", false, NULL), 1);
    assert_int_equal(inbox(s, "alice", false, NULL), 1);
    assert_int_equal(inbox(s, "dave", false, NULL), 0);
    assert_int_equal(inbox(s, "ghost", false, NULL), 1);

    /* read: only one's own; unread filter; read twice keeps the first time */
    assert_int_equal(inbox(s, "boss", true, &id), 2);
    assert_int_equal(fl_store_notification_read(s, "carol", id, 9000, NULL), FL_ENOTFOUND);
    assert_int_equal(fl_store_notification_read(s, "boss", id, 9000, NULL), 0);
    assert_int_equal(fl_store_notification_read(s, "boss", id, 9999, NULL), 0);
    assert_int_equal(fl_store_notification_read(s, "boss", 999999, 9000, NULL), FL_ENOTFOUND);
    assert_int_equal(inbox(s, "boss", true, NULL), 1);
    assert_int_equal(fl_store_notification_list(s, &q, &rows, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].id, id);
    assert_int_equal(rows[0].read_at, 9000);
    assert_string_equal(rows[0].kind, "escalation");
    assert_string_equal(rows[0].node_id, "offer");
    assert_string_equal(rows[0].message, "task 'Offer' is overdue");
    assert_int_equal(rows[1].read_at, 0);
    q.after_id = rows[0].id; /* cursor */
    fl_notification_rows_free(rows, n);
    assert_int_equal(fl_store_notification_list(s, &q, &rows, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].message, "second");
    fl_notification_rows_free(rows, n);
    q.user = NULL;
    assert_int_equal(fl_store_notification_list(s, &q, &rows, &n, NULL), FL_EINVAL);
    fl_store_close(s);
}

/* to_assignee / to_assignee_head read the task row as it is at write time. */
static void test_notify_task_people(void **state)
{
    struct fixture *f = *state;
    struct fl_store *s = open_rw(f->path);
    struct fl_effect items[8];
    struct fl_effects fx = {items, 0, 8, NULL};
    struct fl_instance inst = {.id = 7, .status = FL_INSTANCE_ACTIVE, .revision = 1};
    char r1[] = "sales_head";
    char u1[] = "ghost";
    char *roles[] = {r1}, *users[] = {u1};
    struct fl_effect *e;
    uint64_t id, dept;

    inst.definition_id = deploy(s);
    assert_int_equal(fl_auth_role_add(s, "sales_head", NULL, &id, NULL), 0);
    add_user(s, "boss", NULL, NULL);
    assert_int_equal(fl_auth_department_add(s, "company", NULL, "boss", &dept, NULL), 0);
    assert_int_equal(fl_auth_department_add(s, "sales", "company", NULL, &dept, NULL), 0);
    add_user(s, "alice", "sales", NULL);
    add_user(s, "carol", "sales", "sales_head");

    /* an unassigned task: its candidate users and its roles' holders; no head */
    e = &items[fx.n++];
    memset(e, 0, sizeof(*e));
    e->kind = FL_FX_TASK_CREATE;
    e->u.task = (struct fl_task){.id = 100,
                                 .instance_id = 7,
                                 .token_id = 3,
                                 .node_id = "offer",
                                 .name = "Offer",
                                 .candidate_roles = {roles, 1},
                                 .candidate_users = {users, 1},
                                 .created_at = 1};
    push_notify(&fx, NULL, NULL, NULL, "remind");
    items[fx.n - 1].u.notify.to_assignee = true;
    push_notify(&fx, NULL, NULL, NULL, "head");
    items[fx.n - 1].u.notify.to_assignee_head = true;
    apply(s, &inst, &fx);
    assert_int_equal(inbox(s, "carol", false, NULL), 1);
    assert_int_equal(inbox(s, "ghost", false, NULL), 1);
    assert_int_equal(inbox(s, "boss", false, NULL), 0);
    assert_int_equal(inbox(s, "alice", false, NULL), 0);

    /* claimed by alice outside the engine: now she, and her head for the head */
    assert_int_equal(fl_store_task_set_assignee(s, 100, "alice", NULL), 0);
    fx.n = 0;
    inst.revision = 2;
    push_notify(&fx, NULL, NULL, NULL, "remind again");
    items[fx.n - 1].u.notify.to_assignee = true;
    push_notify(&fx, NULL, NULL, NULL, "head again");
    items[fx.n - 1].u.notify.to_assignee_head = true;
    apply(s, &inst, &fx);
    assert_int_equal(inbox(s, "alice", false, NULL), 1);
    assert_int_equal(inbox(s, "boss", false, NULL), 1);
    assert_int_equal(inbox(s, "carol", false, NULL), 1);
    fl_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_timers_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notifications, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notify_task_people, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
