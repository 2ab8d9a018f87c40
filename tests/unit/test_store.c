/* Unit tests of the store (SQLite back end) fed with hand-made engine effects: migrations
 * and their idempotence, bad paths and foreign files, definition versioning by XML bytes,
 * the apply/load round trip, list filters and cursors, the token id high-water mark, and
 * read snapshots across queries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "flowd/sha256.h"
#include "flowd/store.h"
#include "flowd/value.h"

struct fixture {
    char dir[64];
    char path[128];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/flowd-store-XXXXXX");
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
    static const char *const suffix[] = {"", "-wal", "-shm", ".bad"};
    for (size_t i = 0; i < 4; i++) {
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
    struct fl_error e;
    fl_error_clear(&e);
    int rc = fl_store_open(path, &o, &s, &e);
    if (rc)
        fprintf(stderr, "open: %s\n", e.msg);
    assert_int_equal(rc, 0);
    return s;
}

static void test_migrations_idempotent(void **state)
{
    struct fixture *f = *state;
    struct fl_store_options ro = {.read_only = true};
    struct fl_store *s = open_rw(f->path);
    sqlite3 *db;
    sqlite3_stmt *st;
    int v = fl_store_schema_version(s);
    assert_true(v >= 1);
    fl_store_close(s);
    s = open_rw(f->path);
    assert_int_equal(fl_store_schema_version(s), v);
    fl_store_close(s);
    assert_int_equal(fl_store_open(f->path, &ro, &s, NULL), 0);
    assert_int_equal(fl_store_schema_version(s), v);
    fl_store_close(s);
    /* exactly one version row, and WAL mode persisted */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT count(*), max(version) FROM schema_version", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    assert_int_equal(sqlite3_column_int(st, 1), v);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    /* a database from the future is refused, writable or not */
    assert_int_equal(sqlite3_exec(db, "UPDATE schema_version SET version = 999", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    struct fl_error e;
    fl_error_clear(&e);
    assert_int_equal(fl_store_open(f->path, NULL, &s, &e), FL_ESTORE);
    assert_non_null(strstr(e.msg, "newer"));
    assert_null(s);
    assert_int_equal(fl_store_open(f->path, &ro, &s, &e), FL_ESTORE);
}

static void test_bad_paths(void **state)
{
    struct fixture *f = *state;
    struct fl_store_options ro = {.read_only = true};
    struct fl_store_options nocreate = {.create = false};
    struct fl_store *s = NULL;
    struct fl_error e;
    char bad[160];
    FILE *fp;

    fl_error_clear(&e);
    assert_int_equal(fl_store_open("/nonexistent-dir/x/y.db", NULL, &s, &e), FL_EIO);
    assert_non_null(strstr(e.msg, "/nonexistent-dir/x/y.db"));
    assert_null(s);
    assert_int_equal(fl_store_open(f->path, &ro, &s, &e), FL_ENOTFOUND);
    assert_int_equal(fl_store_open(f->path, &nocreate, &s, &e), FL_ENOTFOUND);
    assert_int_equal(access(f->path, F_OK), -1); /* nothing created */
    assert_int_equal(fl_store_open("", NULL, &s, &e), FL_EINVAL);
    assert_int_equal(fl_store_open("sqlite:", NULL, &s, &e), FL_EINVAL);
    assert_int_equal(fl_store_open("postgresql://localhost/x", NULL, &s, &e), FL_EUNSUPPORTED);
    /* a file that is not a database */
    snprintf(bad, sizeof(bad), "%s.bad", f->path);
    fp = fopen(bad, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is not an sqlite database, just text\n", fp);
    fclose(fp);
    fl_error_clear(&e);
    assert_int_equal(fl_store_open(bad, NULL, &s, &e), FL_ESTORE);
    assert_null(s);
    assert_int_equal(fl_store_open(bad, &ro, &s, &e), FL_ESTORE);
    /* URL forms */
    char url[200];
    snprintf(url, sizeof(url), "sqlite:%s", f->path);
    s = open_rw(url);
    fl_store_close(s);
    snprintf(url, sizeof(url), "file:%s", f->path);
    assert_int_equal(fl_store_open(url, &ro, &s, NULL), 0);
    /* read-only connections cannot write */
    assert_int_equal(fl_store_begin(s, &e), FL_EINVAL);
    fl_store_close(s);
    fl_store_close(NULL);
}

static void test_definition_versions(void **state)
{
    struct fixture *f = *state;
    struct fl_store *s = open_rw(f->path);
    struct fl_definition_row r, g, *rows;
    const char *x1 = "<definitions>one</definitions>";
    const char *x2 = "<definitions>two</definitions>";
    char sum[65];
    bool created;
    size_t n;
    uint64_t id;

    assert_int_equal(fl_store_definition_put(s, "p", "P", x1, strlen(x1), 1000, &r, &created, NULL),
                     0);
    assert_true(created);
    assert_int_equal(r.version, 1);
    fl_sha256_hex(x1, strlen(x1), sum);
    assert_string_equal(r.checksum, sum);
    uint64_t id1 = r.id;
    fl_definition_row_release(&r);

    /* same bytes: no new version, the existing one described */
    assert_int_equal(fl_store_definition_put(s, "p", "P", x1, strlen(x1), 2000, &r, &created, NULL),
                     0);
    assert_false(created);
    assert_int_equal(r.version, 1);
    assert_int_equal(r.id, id1);
    assert_int_equal(r.deployed_at, 1000);
    assert_memory_equal(r.xml, x1, strlen(x1));
    fl_definition_row_release(&r);

    /* changed bytes: version 2, inside a caller's transaction */
    assert_int_equal(fl_store_begin(s, NULL), 0);
    assert_int_equal(
        fl_store_definition_put(s, "p", "P2", x2, strlen(x2), 3000, &r, &created, NULL), 0);
    assert_int_equal(fl_store_commit(s, NULL), 0);
    assert_true(created);
    assert_int_equal(r.version, 2);
    uint64_t id2 = r.id;
    fl_definition_row_release(&r);

    /* the first version again is a change relative to the latest: version 3 */
    assert_int_equal(fl_store_definition_put(s, "p", "P", x1, strlen(x1), 4000, &r, &created, NULL),
                     0);
    assert_true(created);
    assert_int_equal(r.version, 3);
    fl_definition_row_release(&r);

    /* another key starts at 1; a rolled-back put leaves nothing */
    assert_int_equal(fl_store_begin(s, NULL), 0);
    assert_int_equal(
        fl_store_definition_put(s, "q", NULL, x2, strlen(x2), 5000, &r, &created, NULL), 0);
    assert_int_equal(r.version, 1);
    fl_definition_row_release(&r);
    assert_int_equal(fl_store_rollback(s), 0);
    assert_int_equal(fl_store_definition_find(s, "q", 0, &id, NULL), FL_ENOTFOUND);

    assert_int_equal(fl_store_definition_get(s, "p", 0, 0, &g, NULL), 0);
    assert_int_equal(g.version, 3);
    fl_definition_row_release(&g);
    assert_int_equal(fl_store_definition_get(s, "p", 2, 0, &g, NULL), 0);
    assert_int_equal(g.id, id2);
    assert_string_equal(g.name, "P2");
    assert_int_equal(g.xml_len, strlen(x2));
    assert_string_equal(g.xml, x2);
    fl_definition_row_release(&g);
    assert_int_equal(fl_store_definition_get(s, NULL, 0, id1, &g, NULL), 0);
    assert_string_equal(g.key, "p");
    assert_int_equal(g.version, 1);
    fl_definition_row_release(&g);
    struct fl_error e;
    fl_error_clear(&e);
    assert_int_equal(fl_store_definition_get(s, "p", 9, 0, &g, &e), FL_ENOTFOUND);
    assert_non_null(strstr(e.msg, "'p'"));
    assert_int_equal(fl_store_definition_get(s, "nope", 0, 0, &g, NULL), FL_ENOTFOUND);
    assert_int_equal(fl_store_definition_find(s, "p", 2, &id, NULL), 0);
    assert_int_equal(id, id2);

    assert_int_equal(fl_store_definition_list(s, &rows, &n, NULL), 0);
    assert_int_equal(n, 3);
    assert_int_equal(rows[0].version, 3);
    assert_int_equal(rows[2].version, 1);
    fl_definition_rows_free(rows, n);

    assert_int_equal(fl_store_definition_put(s, "", "x", x1, 3, 0, &r, &created, NULL), FL_EINVAL);
    fl_store_close(s);
}

/* ---- apply / load ---- */

static struct fl_value *json(const char *t)
{
    struct fl_value *v = NULL;
    assert_int_equal(fl_value_from_json(t, strlen(t), &v, NULL), 0);
    return v;
}

static uint64_t deploy(struct fl_store *s, const char *key)
{
    struct fl_definition_row r;
    bool created;
    uint64_t id;
    assert_int_equal(fl_store_definition_put(s, key, NULL, key, strlen(key), 1, &r, &created, NULL),
                     0);
    id = r.id;
    fl_definition_row_release(&r);
    return id;
}

static void test_apply_load_roundtrip(void **state)
{
    struct fixture *f = *state;
    struct fl_store *s = open_rw(f->path);
    uint64_t def = deploy(s, "sales");
    char bk[] = "deal-1";
    struct fl_effect items[16];
    struct fl_effects fx = {items, 0, 16, NULL};
    struct fl_token tok[2] = {
        {.id = 10, .node = 3, .flow = FL_NONE, .state = FL_TOKEN_WAITING, .task_id = 100},
        {.id = 11, .node = 5, .flow = 2, .state = FL_TOKEN_JOINING}};
    struct fl_instance inst = {.id = 7,
                               .definition_id = def,
                               .business_key = bk,
                               .status = FL_INSTANCE_ACTIVE,
                               .tokens = tok,
                               .n_tokens = 2,
                               .cap_tokens = 2,
                               .started_at = 1000,
                               .revision = 1};
    char r1[] = "sales_manager", r2[] = "head";
    char *roles[] = {r1, r2};
    struct fl_value *amount = json("12345.670000000000000000000000001");
    struct fl_value *client = json("{\"name\":\"Acme \\\"Ltd\\\"\",\"tags\":[1,true,null]}");
    struct fl_instance *back;
    struct fl_instance_row row;
    struct fl_task_row task;
    struct fl_event_row *ev;
    size_t nev;
    struct fl_error e;
    fl_error_clear(&e);

    inst.variables = json("{}");
    memset(items, 0, sizeof(items));
    items[fx.n].kind = FL_FX_EVENT;
    items[fx.n++].u.event = (struct fl_event){
        .type = FL_EV_INSTANCE_STARTED, .instance_id = 7, .actor = "ann", .at = 1000};
    items[fx.n].kind = FL_FX_TOKEN_PUT;
    items[fx.n++].u.token = tok[0];
    items[fx.n].kind = FL_FX_TOKEN_PUT;
    items[fx.n++].u.token = tok[1];
    items[fx.n].kind = FL_FX_VAR_SET;
    items[fx.n].u.var.name = "amount";
    items[fx.n++].u.var.value = amount;
    items[fx.n].kind = FL_FX_VAR_SET;
    items[fx.n].u.var.name = "client";
    items[fx.n++].u.var.value = client;
    items[fx.n].kind = FL_FX_TASK_CREATE;
    items[fx.n++].u.task = (struct fl_task){.id = 100,
                                            .instance_id = 7,
                                            .token_id = 10,
                                            .node_id = "offer",
                                            .name = "Offer",
                                            .candidate_roles = {roles, 2},
                                            .created_at = 1000,
                                            .due_at = 5000,
                                            .remind_at = 4000,
                                            .main_action_kind = "document",
                                            .main_action_required = true};
    items[fx.n].kind = FL_FX_EVENT;
    items[fx.n++].u.event = (struct fl_event){.type = FL_EV_TASK_CREATED,
                                              .instance_id = 7,
                                              .token_id = 10,
                                              .ref_id = 100,
                                              .node_id = "offer",
                                              .detail = "{\"x\":1}",
                                              .at = 1000};

    assert_int_equal(fl_store_apply(s, NULL, &inst, &fx, &e), FL_EINVAL); /* no transaction */
    assert_int_equal(fl_store_begin(s, NULL), 0);
    assert_int_equal(fl_store_begin(s, NULL), FL_EINVAL);
    assert_int_equal(fl_store_apply(s, NULL, &inst, &fx, &e), 0);
    assert_int_equal(fl_store_commit(s, NULL), 0);

    assert_int_equal(fl_store_instance_load(s, 7, &back, NULL), 0);
    assert_int_equal(back->definition_id, def);
    assert_string_equal(back->business_key, "deal-1");
    assert_int_equal(back->status, FL_INSTANCE_ACTIVE);
    assert_int_equal(back->started_at, 1000);
    assert_int_equal(back->ended_at, 0);
    assert_int_equal(back->revision, 1);
    assert_int_equal(back->n_tokens, 2);
    assert_memory_equal(&back->tokens[0], &tok[0], sizeof(tok[0]));
    assert_memory_equal(&back->tokens[1], &tok[1], sizeof(tok[1]));
    assert_int_equal(fl_value_context_len(back->variables), 2);
    assert_true(fl_value_equal(fl_value_context_get(back->variables, "amount", 6), amount));
    assert_true(fl_value_equal(fl_value_context_get(back->variables, "client", 6), client));
    fl_instance_free(back);

    assert_int_equal(fl_store_instance_get(s, 7, &row, NULL), 0);
    assert_string_equal(row.process_key, "sales");
    assert_int_equal(row.version, 1);
    assert_non_null(strstr(row.variables_json, "\"amount\":12345.670000000000000000000000001"));
    assert_non_null(strstr(row.variables_json, "\"client\":{"));
    fl_instance_row_release(&row);

    assert_int_equal(fl_store_task_get(s, 100, &task, NULL), 0);
    assert_string_equal(task.node_id, "offer");
    assert_string_equal(task.process_key, "sales");
    assert_string_equal(task.candidate_roles, "sales_manager,head");
    assert_null(task.candidate_users);
    assert_null(task.assignee);
    assert_int_equal(task.status, FL_TASK_OPEN);
    assert_int_equal(task.due_at, 5000);
    assert_int_equal(task.remind_at, 4000);
    assert_string_equal(task.main_action_kind, "document");
    assert_true(task.main_action_required);
    assert_false(task.main_action_done);
    fl_task_row_release(&task);

    /* second step: action recorded, task closed, token gone, variable replaced, ended */
    fx.n = 0;
    items[fx.n].kind = FL_FX_TASK_ACTION;
    items[fx.n].u.task_close.id = 100;
    items[fx.n++].u.task_close.ref = "offer.docx";
    items[fx.n].kind = FL_FX_TASK_CLOSE;
    items[fx.n].u.task_close.id = 100;
    items[fx.n].u.task_close.status = FL_TASK_COMPLETED;
    items[fx.n].u.task_close.actor = "bob";
    items[fx.n++].u.task_close.at = 2000;
    items[fx.n].kind = FL_FX_TOKEN_DEL;
    items[fx.n++].u.token.id = 10;
    items[fx.n].kind = FL_FX_TOKEN_DEL;
    items[fx.n++].u.token.id = 11;
    items[fx.n].kind = FL_FX_VAR_SET;
    items[fx.n].u.var.name = "amount";
    items[fx.n++].u.var.value = client;
    items[fx.n].kind = FL_FX_EVENT;
    items[fx.n++].u.event =
        (struct fl_event){.type = FL_EV_INSTANCE_COMPLETED, .instance_id = 7, .at = 2000};
    inst.n_tokens = 0;
    inst.status = FL_INSTANCE_COMPLETED;
    inst.ended_at = 2000;
    inst.revision = 2;
    assert_int_equal(fl_store_begin(s, NULL), 0);
    assert_int_equal(fl_store_apply(s, NULL, &inst, &fx, NULL), 0);
    assert_int_equal(fl_store_commit(s, NULL), 0);

    assert_int_equal(fl_store_instance_load(s, 7, &back, NULL), 0);
    assert_int_equal(back->status, FL_INSTANCE_COMPLETED);
    assert_int_equal(back->ended_at, 2000);
    assert_int_equal(back->revision, 2);
    assert_int_equal(back->n_tokens, 0);
    assert_true(fl_value_equal(fl_value_context_get(back->variables, "amount", 6), client));
    fl_instance_free(back);
    assert_int_equal(fl_store_task_get(s, 100, &task, NULL), 0);
    assert_int_equal(task.status, FL_TASK_COMPLETED);
    assert_string_equal(task.closed_by, "bob");
    assert_int_equal(task.closed_at, 2000);
    assert_true(task.main_action_done);
    fl_task_row_release(&task);

    assert_int_equal(fl_store_history(s, 7, &ev, &nev, NULL), 0);
    assert_int_equal(nev, 3);
    assert_int_equal(ev[0].type, FL_EV_INSTANCE_STARTED);
    assert_string_equal(ev[0].actor, "ann");
    assert_int_equal(ev[1].type, FL_EV_TASK_CREATED);
    assert_int_equal(ev[1].ref_id, 100);
    assert_int_equal(ev[1].token_id, 10);
    assert_string_equal(ev[1].detail, "{\"x\":1}");
    assert_int_equal(ev[2].type, FL_EV_INSTANCE_COMPLETED);
    assert_true(ev[0].seq < ev[1].seq && ev[1].seq < ev[2].seq);
    fl_event_rows_free(ev, nev);

    /* closing an unknown task is a store inconsistency, and a rollback undoes the step */
    fx.n = 0;
    items[fx.n].kind = FL_FX_TASK_CLOSE;
    items[fx.n].u.task_close.id = 999;
    items[fx.n++].u.task_close.status = FL_TASK_COMPLETED;
    inst.revision = 3;
    assert_int_equal(fl_store_begin(s, NULL), 0);
    assert_int_equal(fl_store_apply(s, NULL, &inst, &fx, &e), FL_ESTORE);
    assert_non_null(strstr(e.msg, "999"));
    assert_int_equal(fl_store_rollback(s), 0);
    assert_int_equal(fl_store_instance_load(s, 7, &back, NULL), 0);
    assert_int_equal(back->revision, 2);
    fl_instance_free(back);

    /* a step from a stale state (revision not the stored one plus one) is refused */
    fx.n = 0;
    inst.revision = 5;
    assert_int_equal(fl_store_begin(s, NULL), 0);
    assert_int_equal(fl_store_apply(s, NULL, &inst, &fx, &e), FL_ECONFLICT);
    assert_non_null(strstr(e.msg, "concurrently"));
    assert_int_equal(fl_store_rollback(s), 0);
    inst.revision = 3;
    assert_int_equal(fl_store_begin(s, NULL), 0);
    assert_int_equal(fl_store_apply(s, NULL, &inst, &fx, &e), 0);
    assert_int_equal(fl_store_commit(s, NULL), 0);

    /* token ids of deleted tokens are not handed out again */
    uint64_t max;
    assert_int_equal(fl_store_max_id(s, FL_ID_TOKEN, &max, NULL), 0);
    assert_int_equal(max, 11);
    fl_store_close(s);
    s = open_rw(f->path);
    assert_int_equal(fl_store_max_id(s, FL_ID_TOKEN, &max, NULL), 0);
    assert_int_equal(max, 11);
    assert_int_equal(fl_store_max_id(s, FL_ID_INSTANCE, &max, NULL), 0);
    assert_int_equal(max, 7);
    assert_int_equal(fl_store_max_id(s, FL_ID_TASK, &max, NULL), 0);
    assert_int_equal(max, 100);
    assert_int_equal(fl_store_max_id(s, FL_ID_JOB, &max, NULL), 0);
    assert_int_equal(max, 0);
    assert_int_equal(fl_store_instance_load(s, 8, &back, NULL), FL_ENOTFOUND);
    assert_int_equal(fl_store_task_get(s, 8, &task, NULL), FL_ENOTFOUND);
    assert_int_equal(fl_store_job_instance(s, 8, &max, NULL), FL_ENOTFOUND);
    fl_store_close(s);
    fl_value_unref(inst.variables);
    fl_value_unref(amount);
    fl_value_unref(client);
}

static void test_jobs_and_incidents(void **state)
{
    struct fixture *f = *state;
    struct fl_store *s = open_rw(f->path);
    uint64_t def = deploy(s, "svc"), owner, max;
    struct fl_effect items[4];
    struct fl_effects fx = {items, 0, 4, NULL};
    struct fl_instance inst = {.id = 1, .definition_id = def, .started_at = 1, .revision = 1};
    inst.variables = json("{}");
    memset(items, 0, sizeof(items));
    items[fx.n].kind = FL_FX_JOB_CREATE;
    items[fx.n++].u.job = (struct fl_job){.id = 5,
                                          .instance_id = 1,
                                          .token_id = 2,
                                          .node_id = "charge",
                                          .type = "payment",
                                          .retries = 3,
                                          .created_at = 1};
    items[fx.n].kind = FL_FX_JOB_RETRY;
    items[fx.n].u.job_close.id = 5;
    items[fx.n].u.job_close.retries = 0;
    items[fx.n++].u.job_close.error = "timeout";
    items[fx.n].kind = FL_FX_JOB_CLOSE;
    items[fx.n].u.job_close.id = 5;
    items[fx.n++].u.job_close.failed = true;
    items[fx.n].kind = FL_FX_INCIDENT;
    items[fx.n++].u.incident.id = 9;
    assert_int_equal(fl_store_begin(s, NULL), 0);
    assert_int_equal(fl_store_apply(s, NULL, &inst, &fx, NULL), 0);
    assert_int_equal(fl_store_commit(s, NULL), 0);
    assert_int_equal(fl_store_job_instance(s, 5, &owner, NULL), 0);
    assert_int_equal(owner, 1);
    assert_int_equal(fl_store_max_id(s, FL_ID_JOB, &max, NULL), 0);
    assert_int_equal(max, 5);
    assert_int_equal(fl_store_max_id(s, FL_ID_INCIDENT, &max, NULL), 0);
    assert_int_equal(max, 9);
    assert_int_equal(fl_store_max_id(s, (enum fl_id_kind)42, &max, NULL), FL_EINVAL);
    fl_value_unref(inst.variables);
    fl_store_close(s);
}

/* 3 instances x 4 tasks with roles, assignees and states to filter on. */
static void test_queries(void **state)
{
    struct fixture *f = *state;
    struct fl_store *s = open_rw(f->path);
    uint64_t d1 = deploy(s, "alpha"), d2 = deploy(s, "beta");
    struct fl_effect items[8];
    struct fl_effects fx = {items, 0, 8, NULL};
    char sales[] = "sales", mgr[] = "sales_manager", lawyer[] = "lawyer";
    char *r_sales[] = {sales};
    char *r_mgr[] = {mgr, lawyer};
    struct fl_task_row *rows;
    struct fl_instance_row *irows;
    struct fl_task_query tq;
    struct fl_instance_query iq;
    size_t n;
    uint64_t tid = 0;

    assert_int_equal(fl_store_begin(s, NULL), 0);
    for (uint64_t i = 1; i <= 3; i++) {
        struct fl_instance inst = {.id = i,
                                   .definition_id = i == 2 ? d2 : d1,
                                   .started_at = 1,
                                   .revision = 1,
                                   .status = i == 3 ? FL_INSTANCE_COMPLETED : FL_INSTANCE_ACTIVE};
        inst.variables = json("{}");
        fx.n = 0;
        memset(items, 0, sizeof(items));
        for (int k = 0; k < 4; k++) {
            items[fx.n].kind = FL_FX_TASK_CREATE;
            items[fx.n++].u.task =
                (struct fl_task){.id = ++tid,
                                 .instance_id = i,
                                 .node_id = "t",
                                 .created_at = 1,
                                 .assignee = k == 0 ? "ann" : NULL,
                                 .candidate_roles = k % 2 ? (struct fl_strlist){r_sales, 1}
                                                          : (struct fl_strlist){r_mgr, 2}};
        }
        items[fx.n].kind = FL_FX_TASK_CLOSE;
        items[fx.n].u.task_close.id = tid; /* the last task of each instance is closed */
        items[fx.n++].u.task_close.status = FL_TASK_COMPLETED;
        assert_int_equal(fl_store_apply(s, NULL, &inst, &fx, NULL), 0);
        fl_value_unref(inst.variables);
    }
    assert_int_equal(fl_store_commit(s, NULL), 0);

    memset(&tq, 0, sizeof(tq));
    assert_int_equal(fl_store_task_list(s, &tq, &rows, &n, NULL), 0);
    assert_int_equal(n, 12);
    fl_task_rows_free(rows, n);
    assert_int_equal(fl_store_task_list(s, NULL, &rows, &n, NULL), 0);
    assert_int_equal(n, 12);
    fl_task_rows_free(rows, n);
    tq.open_only = true;
    assert_int_equal(fl_store_task_list(s, &tq, &rows, &n, NULL), 0);
    assert_int_equal(n, 9);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rows[i].status, FL_TASK_OPEN);
    fl_task_rows_free(rows, n);
    /* whole-item role match: "sales" is not "sales_manager" */
    tq.role = "sales";
    assert_int_equal(fl_store_task_list(s, &tq, &rows, &n, NULL), 0);
    assert_int_equal(n, 3); /* tasks 2 of each instance (4 is closed) */
    for (size_t i = 0; i < n; i++)
        assert_string_equal(rows[i].candidate_roles, "sales");
    fl_task_rows_free(rows, n);
    tq.role = "lawyer";
    assert_int_equal(fl_store_task_list(s, &tq, &rows, &n, NULL), 0);
    assert_int_equal(n, 6);
    fl_task_rows_free(rows, n);
    tq.role = "sales%";
    assert_int_equal(fl_store_task_list(s, &tq, &rows, &n, NULL), 0);
    assert_int_equal(n, 0);
    fl_task_rows_free(rows, n);
    tq.role = NULL;
    tq.assignee = "ann";
    tq.instance_id = 2;
    assert_int_equal(fl_store_task_list(s, &tq, &rows, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, 5);
    assert_string_equal(rows[0].process_key, "beta");
    fl_task_rows_free(rows, n);
    /* cursor pagination: pages of 4 cover all 12 once, in id order */
    memset(&tq, 0, sizeof(tq));
    tq.limit = 5;
    uint64_t seen = 0;
    size_t pages = 0;
    for (;;) {
        assert_int_equal(fl_store_task_list(s, &tq, &rows, &n, NULL), 0);
        if (n == 0) {
            fl_task_rows_free(rows, n);
            break;
        }
        pages++;
        for (size_t i = 0; i < n; i++)
            assert_int_equal(rows[i].id, ++seen);
        tq.after_id = rows[n - 1].id;
        fl_task_rows_free(rows, n);
    }
    assert_int_equal(seen, 12);
    assert_int_equal(pages, 3);

    memset(&iq, 0, sizeof(iq));
    assert_int_equal(fl_store_instance_list(s, &iq, &irows, &n, NULL), 0);
    assert_int_equal(n, 3);
    assert_string_equal(irows[0].variables_json, "{}");
    fl_instance_rows_free(irows, n);
    iq.active_only = true;
    assert_int_equal(fl_store_instance_list(s, &iq, &irows, &n, NULL), 0);
    assert_int_equal(n, 2);
    fl_instance_rows_free(irows, n);
    iq.process_key = "alpha";
    assert_int_equal(fl_store_instance_list(s, &iq, &irows, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(irows[0].id, 1);
    fl_instance_rows_free(irows, n);
    iq.active_only = false;
    iq.after_id = 1;
    iq.limit = 1;
    assert_int_equal(fl_store_instance_list(s, &iq, &irows, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(irows[0].id, 3);
    assert_int_equal(irows[0].status, FL_INSTANCE_COMPLETED);
    fl_instance_rows_free(irows, n);
    fl_store_close(s);
}

/* The background checkpointer: idempotent start, no-op on a read-only store, 80 MB of
 * writes (past its threshold, so its own connection checkpoints concurrently, and past
 * the cap where the writer waits for it before BEGIN), a WAL that restarted instead of
 * growing with them, a close that joins it and leaves no WAL behind (the writer's
 * connection was the last), and every committed row there after reopening. */
static void test_background_checkpointer(void **state)
{
    struct fixture *f = *state;
    struct fl_store_options ro = {.read_only = true};
    struct fl_store *s = open_rw(f->path);
    struct fl_definition_row r, *rows;
    enum { N_DEFS = 160, XML_LEN = 512 * 1024 };
    struct stat wst;
    char *xml = malloc(XML_LEN);
    char wal[160];
    bool created;
    size_t n;

    assert_int_equal(fl_store_background_start(s, NULL), 0);
    assert_int_equal(fl_store_background_start(s, NULL), 0);
    for (int i = 0; i < N_DEFS; i++) {
        /* distinct bytes per version, so every put is a new row of 128 pages */
        memset(xml, 'a' + i % 26, XML_LEN);
        xml[0] = (char)('0' + i / 26);
        assert_int_equal(
            fl_store_definition_put(s, "big", "Big", xml, XML_LEN, 1000 + i, &r, &created, NULL),
            0);
        assert_true(created);
        assert_int_equal(r.version, i + 1);
        fl_definition_row_release(&r);
    }
    /* The writer waits at 16384 pages (64 MB) for a complete checkpoint, after which its
     * next commit starts the WAL over: without that it would hold all 80 MB. */
    snprintf(wal, sizeof(wal), "%s-wal", f->path);
    assert_int_equal(stat(wal, &wst), 0);
    assert_true(wst.st_size < 72 * 1024 * 1024);
    fl_store_close(s);
    assert_int_not_equal(access(wal, F_OK), 0);

    assert_int_equal(fl_store_open(f->path, &ro, &s, NULL), 0);
    assert_int_equal(fl_store_background_start(s, NULL), 0);
    assert_int_equal(fl_store_definition_list(s, &rows, &n, NULL), 0);
    assert_int_equal(n, N_DEFS);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rows[i].version, (int)(N_DEFS - i));
        assert_int_equal(rows[i].xml_len, XML_LEN);
    }
    fl_definition_rows_free(rows, n);
    fl_store_close(s);
    free(xml);
}

/* A read snapshot (fl_store_read_begin) on a read-only connection sees the database as it
 * was at its first query until fl_store_read_end, whatever the writer commits meanwhile;
 * no write transaction may open inside it, and ending twice is harmless. */
static void test_read_snapshot(void **state)
{
    struct fixture *f = *state;
    struct fl_store_options ro = {.read_only = true};
    struct fl_store *w = open_rw(f->path), *r = NULL;
    struct fl_definition_row d, *rows;
    const char *x1 = "<definitions>one</definitions>";
    const char *x2 = "<definitions>two</definitions>";
    struct fl_error e;
    bool created;
    size_t n;

    fl_error_clear(&e);
    assert_int_equal(fl_store_definition_put(w, "p", "P", x1, strlen(x1), 1, &d, &created, NULL),
                     0);
    fl_definition_row_release(&d);
    assert_int_equal(fl_store_open(f->path, &ro, &r, NULL), 0);

    assert_int_equal(fl_store_read_begin(r, NULL), 0);
    assert_int_equal(fl_store_read_begin(r, &e), FL_EINVAL);
    assert_int_equal(fl_store_definition_list(r, &rows, &n, NULL), 0);
    assert_int_equal(n, 1);
    fl_definition_rows_free(rows, n);
    assert_int_equal(fl_store_definition_put(w, "q", "Q", x2, strlen(x2), 2, &d, &created, NULL),
                     0);
    fl_definition_row_release(&d);
    assert_int_equal(fl_store_definition_list(r, &rows, &n, NULL), 0);
    assert_int_equal(n, 1); /* still the snapshot */
    fl_definition_rows_free(rows, n);
    fl_store_read_end(r);
    fl_store_read_end(r);
    assert_int_equal(fl_store_definition_list(r, &rows, &n, NULL), 0);
    assert_int_equal(n, 2);
    fl_definition_rows_free(rows, n);

    /* On a writable connection: no write transaction inside a snapshot, and after it the
     * connection writes as before. */
    assert_int_equal(fl_store_read_begin(w, NULL), 0);
    assert_int_equal(fl_store_begin(w, &e), FL_EINVAL);
    fl_store_read_end(w);
    assert_int_equal(fl_store_begin(w, NULL), 0);
    assert_int_equal(fl_store_rollback(w), 0);
    fl_store_close(r);
    fl_store_close(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_definition_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_load_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jobs_and_incidents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_background_checkpointer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_snapshot, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
