/* The record-level rules have two implementations: the pure functions of flowd/auth.h that
 * single-record routes ask, and the SQL fragments the list queries add for a viewer. This
 * test generates departments, users, roles, instances and tasks at random (fixed seeds),
 * then checks for every user that each list returns exactly the records the per-record
 * check admits -- so the two can never drift apart -- and that the generated data reaches
 * every branch of the rules (otherwise the comparison would prove little). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "flowd/auth.h"
#include "flowd/store.h"
#include "svc_fixture.h"

#define N_USERS 14
#define N_DEPTS 6
#define N_ROLES 4
#define N_INSTANCES 60
#define T0 1700000000000LL

static const char *const role_names[N_ROLES] = {"sales_manager", "accountant", "lawyer", "auditor"};

struct rng {
    uint64_t s;
};

static uint32_t rnd(struct rng *r, uint32_t n)
{
    /* xorshift64*: deterministic across platforms, good enough to spread choices. */
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return (uint32_t)((r->s * 2685821657736338717ULL) >> 33) % n;
}

struct world {
    char dir[64], url[128];
    struct fl_store *s;
    sqlite3 *db; /* a second connection that writes records the engine would not make */
    char logins[N_USERS][16];
};

static void exec_sql(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("sql: %s: %s", msg ? msg : "?", sql);
}

/* A comma list of a random subset of names (NULL when empty). */
static void random_list(struct rng *r, const char *const *names, size_t n, unsigned odds, char *out,
                        size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (rnd(r, odds) != 0)
            continue;
        len += (size_t)snprintf(out + len, size - len, "%s%s", len ? "," : "", names[i]);
    }
}

static void bind_opt(sqlite3_stmt *st, int i, const char *text)
{
    if (text && *text)
        sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void step_done(sqlite3 *db, sqlite3_stmt *st)
{
    if (sqlite3_step(st) != SQLITE_DONE)
        fail_msg("insert: %s", sqlite3_errmsg(db));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static void build_people(struct world *w, struct rng *r)
{
    struct fl_error e;
    uint64_t id;
    char dept[N_DEPTS][16];
    /* People first: department heads must exist. Logins u0..u13; u13 is the admin. */
    for (int i = 0; i < N_USERS; i++) {
        struct fl_user_new u = {.login = w->logins[i], .admin = i == N_USERS - 1};
        snprintf(w->logins[i], sizeof(w->logins[i]), "u%d", i);
        fl_error_clear(&e);
        if (fl_auth_user_add(w->s, &u, T0, &id, &e) != 0)
            fail_msg("user add: %s", e.msg);
    }
    for (int i = 0; i < N_ROLES; i++)
        assert_int_equal(fl_auth_role_add(w->s, role_names[i], NULL, &id, NULL), 0);
    /* A random forest: department i hangs under one of 0..i-1 or is a top; about one in
     * five has no head. */
    for (int i = 0; i < N_DEPTS; i++) {
        const char *parent = NULL, *head = NULL;
        snprintf(dept[i], sizeof(dept[i]), "d%d", i);
        if (i > 0 && rnd(r, 3) != 0)
            parent = dept[rnd(r, (uint32_t)i)];
        if (rnd(r, 5) != 0)
            head = w->logins[rnd(r, N_USERS - 1)];
        assert_int_equal(fl_auth_department_add(w->s, dept[i], parent, head, &id, NULL), 0);
    }
    /* Memberships and roles, straight into the tables (the store has no "move user"). */
    for (int i = 0; i < N_USERS - 1; i++) {
        char sql[256];
        if (rnd(r, 4) != 0) {
            snprintf(sql, sizeof(sql),
                     "UPDATE users SET department_id = (SELECT id FROM departments"
                     " WHERE name = 'd%u') WHERE login = '%s'",
                     rnd(r, N_DEPTS), w->logins[i]);
            exec_sql(w->db, sql);
        }
        for (int k = 0; k < N_ROLES; k++)
            if (rnd(r, 3) == 0)
                assert_int_equal(fl_auth_user_grant_role(w->s, w->logins[i], role_names[k], NULL),
                                 0);
    }
}

/* A login, someone unknown, or nobody. */
static const char *some_login(struct world *w, struct rng *r, unsigned none_odds)
{
    uint32_t k = rnd(r, N_USERS + none_odds + 1);
    if (k < N_USERS)
        return w->logins[k];
    return k == N_USERS ? "ghost" : NULL;
}

static void build_records(struct world *w, struct rng *r)
{
    const char *logins[N_USERS + 1];
    sqlite3_stmt *inst = NULL, *var = NULL, *task = NULL;
    uint64_t task_id = 0;
    for (int i = 0; i < N_USERS; i++)
        logins[i] = w->logins[i];
    logins[N_USERS] = "ghost";
    exec_sql(w->db, "INSERT INTO definitions(id, key, version, name, xml, checksum, deployed_at)"
                    " VALUES(1, 'p', 1, 'P', x'00', 'c', 0)");
    assert_int_equal(sqlite3_prepare_v2(w->db,
                                        "INSERT INTO instances(id, definition_id, business_key,"
                                        " status, incident, started_at, revision, started_by)"
                                        " VALUES(?1, 1, NULL, ?2, 0, 0, 1, ?3)",
                                        -1, &inst, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(w->db,
                                        "INSERT INTO variables(instance_id, name, value)"
                                        " VALUES(?1, 'owner', ?2)",
                                        -1, &var, NULL),
                     SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(w->db,
                           "INSERT INTO tasks(id, instance_id, node_id, name, assignee,"
                           " candidate_roles, candidate_users, status, created_at,"
                           " main_action_required, main_action_done, watch_roles)"
                           " VALUES(?1, ?2, 'n', 'N', ?3, ?4, ?5, ?6, 0, 0, 0, ?7)",
                           -1, &task, NULL),
        SQLITE_OK);
    exec_sql(w->db, "BEGIN");
    for (int i = 1; i <= N_INSTANCES; i++) {
        const char *owner = some_login(w, r, 3);
        uint32_t n_tasks = rnd(r, 4), kind = rnd(r, 5);
        sqlite3_bind_int64(inst, 1, i);
        sqlite3_bind_int(inst, 2, (int)rnd(r, 2));
        bind_opt(inst, 3, some_login(w, r, 2));
        step_done(w->db, inst);
        /* The owner variable as a JSON string, or a value that is no login at all. */
        if (kind < 3 && owner) {
            char json[64];
            snprintf(json, sizeof(json), "\"%s\"", owner);
            sqlite3_bind_int64(var, 1, i);
            sqlite3_bind_text(var, 2, json, -1, SQLITE_TRANSIENT);
            step_done(w->db, var);
        } else if (kind == 3) {
            sqlite3_bind_int64(var, 1, i);
            sqlite3_bind_text(var, 2, "42", -1, SQLITE_STATIC);
            step_done(w->db, var);
        }
        for (uint32_t k = 0; k < n_tasks; k++) {
            char users[256], roles[128], watch[128];
            random_list(r, logins, N_USERS + 1, 6, users, sizeof(users));
            random_list(r, role_names, N_ROLES, 3, roles, sizeof(roles));
            random_list(r, role_names, N_ROLES, 4, watch, sizeof(watch));
            sqlite3_bind_int64(task, 1, (sqlite3_int64)++task_id);
            sqlite3_bind_int64(task, 2, i);
            bind_opt(task, 3, rnd(r, 2) ? some_login(w, r, 1) : NULL);
            bind_opt(task, 4, roles);
            bind_opt(task, 5, users);
            sqlite3_bind_int(task, 6, (int)rnd(r, 3) == 0 ? 1 : 0);
            bind_opt(task, 7, watch);
            step_done(w->db, task);
        }
    }
    exec_sql(w->db, "COMMIT");
    sqlite3_finalize(inst);
    sqlite3_finalize(var);
    sqlite3_finalize(task);
}

/* What each branch of the rules was seen to decide, over all principals and records. */
struct coverage {
    unsigned task_none, task_read, task_write, inst_none, inst_read, inst_write;
    unsigned head_only_task; /* visible to a head through the instance's starter or owner */
};

static bool listed(const uint64_t *ids, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static void check_principal(struct world *w, const struct fl_principal *p, struct coverage *cov)
{
    struct fl_task_query all_t = {.limit = 10000};
    struct fl_task_query mine_t = {.limit = 10000, .viewer = p};
    struct fl_instance_query all_i = {.limit = 10000};
    struct fl_instance_query mine_i = {.limit = 10000, .viewer = p};
    struct fl_task_row *tasks = NULL, *seen_t = NULL;
    struct fl_instance_row *insts = NULL, *seen_i = NULL;
    size_t n_t, n_seen_t, n_i, n_seen_i;
    uint64_t *ids;

    assert_int_equal(fl_store_task_list(w->s, &all_t, &tasks, &n_t, NULL), 0);
    assert_int_equal(fl_store_task_list(w->s, &mine_t, &seen_t, &n_seen_t, NULL), 0);
    ids = calloc(n_seen_t + 1, sizeof(*ids));
    for (size_t i = 0; i < n_seen_t; i++)
        ids[i] = seen_t[i].id;
    for (size_t i = 0; i < n_t; i++) {
        enum fl_access a = fl_access_task(p, &tasks[i]);
        struct fl_task_row one;
        if ((a != FL_ACCESS_NONE) != listed(ids, n_seen_t, tasks[i].id))
            fail_msg("%s: task %llu: rule says %d, list %s", p->login,
                     (unsigned long long)tasks[i].id, (int)a,
                     listed(ids, n_seen_t, tasks[i].id) ? "shows it" : "hides it");
        /* The single-record read carries the same instance fields as the list. */
        assert_int_equal(fl_store_task_get(w->s, tasks[i].id, &one, NULL), 0);
        assert_int_equal(fl_access_task(p, &one), a);
        fl_task_row_release(&one);
        cov->task_none += a == FL_ACCESS_NONE;
        cov->task_read += a == FL_ACCESS_READ;
        cov->task_write += a == FL_ACCESS_WRITE;
        if (a == FL_ACCESS_WRITE && !p->admin) {
            /* Write only because the instance belongs to a member: the rule that was
             * missing from both implementations once. */
            struct fl_task_row bare = tasks[i];
            bare.instance_started_by = bare.instance_owner = NULL;
            if (fl_access_task(p, &bare) != FL_ACCESS_WRITE)
                cov->head_only_task++;
        }
    }
    free(ids);

    assert_int_equal(fl_store_instance_list(w->s, &all_i, &insts, &n_i, NULL), 0);
    assert_int_equal(n_i, N_INSTANCES);
    assert_int_equal(fl_store_instance_list(w->s, &mine_i, &seen_i, &n_seen_i, NULL), 0);
    ids = calloc(n_seen_i + 1, sizeof(*ids));
    for (size_t i = 0; i < n_seen_i; i++)
        ids[i] = seen_i[i].id;
    for (size_t i = 0; i < n_i; i++) {
        struct fl_task_query of = {.instance_id = insts[i].id, .limit = 10000};
        struct fl_task_row *its = NULL;
        size_t n_its = 0;
        enum fl_access a;
        assert_int_equal(fl_store_task_list(w->s, &of, &its, &n_its, NULL), 0);
        a = fl_access_instance(p, &insts[i], its, n_its);
        if ((a != FL_ACCESS_NONE) != listed(ids, n_seen_i, insts[i].id))
            fail_msg("%s: instance %llu: rule says %d, list %s", p->login,
                     (unsigned long long)insts[i].id, (int)a,
                     listed(ids, n_seen_i, insts[i].id) ? "shows it" : "hides it");
        cov->inst_none += a == FL_ACCESS_NONE;
        cov->inst_read += a == FL_ACCESS_READ;
        cov->inst_write += a == FL_ACCESS_WRITE;
        fl_task_rows_free(its, n_its);
    }
    free(ids);
    fl_task_rows_free(tasks, n_t);
    fl_task_rows_free(seen_t, n_seen_t);
    fl_instance_rows_free(insts, n_i);
    fl_instance_rows_free(seen_i, n_seen_i);
}

static void run_seed(uint64_t seed, struct coverage *cov)
{
    struct world w;
    struct fl_store_options o = {.create = true, .synchronous = 0, .synchronous_set = true};
    struct rng r = {.s = seed};
    memset(&w, 0, sizeof(w));
    assert_int_equal(svc_tmpdir(w.dir), 0);
    snprintf(w.url, sizeof(w.url), "sqlite:%s/t.db", w.dir);
    assert_int_equal(fl_store_open(w.url, &o, &w.s, NULL), 0);
    {
        char path[128];
        snprintf(path, sizeof(path), "%s/t.db", w.dir);
        assert_int_equal(sqlite3_open(path, &w.db), SQLITE_OK);
        sqlite3_busy_timeout(w.db, 5000);
    }
    build_people(&w, &r);
    build_records(&w, &r);
    for (int i = 0; i < N_USERS; i++) {
        struct fl_user_row u;
        struct fl_principal p;
        assert_int_equal(fl_auth_user_get(w.s, w.logins[i], 0, &u, NULL), 0);
        assert_int_equal(fl_auth_principal_load(w.s, u.id, FL_SCOPE_WRITE, &p, NULL), 0);
        fl_user_row_release(&u);
        check_principal(&w, &p, cov);
        fl_principal_release(&p);
    }
    sqlite3_close(w.db);
    fl_store_close(w.s);
    svc_rmdb(w.dir);
}

static void test_lists_agree_with_rules(void **state)
{
    static const uint64_t seeds[] = {0x9e3779b97f4a7c15ULL, 0xdeadbeefcafef00dULL, 12345,
                                     0x0123456789abcdefULL, 77};
    struct coverage cov = {0};
    (void)state;
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
        run_seed(seeds[i], &cov);
    /* Every outcome occurred, the new head rule included: the comparison had teeth. */
    assert_true(cov.task_none > 0 && cov.task_read > 0 && cov.task_write > 0);
    assert_true(cov.inst_none > 0 && cov.inst_read > 0 && cov.inst_write > 0);
    assert_true(cov.head_only_task > 0);
}

/* The bug this rule fixes, by hand: a task for a role only (no assignee, no candidate
 * user) in an instance started, or owned, by a member of a sub-department is the head's. */
static void test_head_sees_role_task_of_member_instance(void **state)
{
    char acct[] = "accountant", ed[] = "ed", sally[] = "sally";
    char *managed[] = {ed};
    struct fl_principal head;
    struct fl_task_row t = {.id = 1, .instance_id = 7, .candidate_roles = acct};
    struct fl_instance_row i = {.id = 7};
    (void)state;
    fl_principal_init(&head);
    head.login = sally;
    head.managed_logins.items = managed;
    head.managed_logins.n = 1;
    assert_int_equal(fl_access_task(&head, &t), FL_ACCESS_NONE);
    assert_int_equal(fl_access_instance(&head, &i, &t, 1), FL_ACCESS_NONE);
    t.instance_started_by = ed;
    i.started_by = ed;
    assert_int_equal(fl_access_task(&head, &t), FL_ACCESS_WRITE);
    assert_int_equal(fl_access_instance(&head, &i, &t, 1), FL_ACCESS_WRITE);
    t.instance_started_by = NULL;
    i.started_by = NULL;
    t.instance_owner = ed;
    i.owner = ed;
    assert_int_equal(fl_access_task(&head, &t), FL_ACCESS_WRITE);
    assert_int_equal(fl_access_instance(&head, &i, NULL, 0), FL_ACCESS_WRITE);
    /* a member's role does not bring the head in: roles cross departments */
    t.instance_owner = NULL;
    i.owner = NULL;
    assert_int_equal(fl_access_task(&head, &t), FL_ACCESS_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists_agree_with_rules),
        cmocka_unit_test(test_head_sees_role_task_of_member_instance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
