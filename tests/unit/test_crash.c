/* Crash test of durability: a child process runs a service on a temporary database
 * (synchronous FULL), starts instances and completes their tasks, and writes one line per
 * acknowledgement (from the callback, i.e. after commit) to a pipe. The parent reads the
 * acknowledgements and kill -9s the child after a random number of them, for many rounds;
 * after each kill it reopens the database and checks that every acknowledged command is
 * there and that the invariants between instances, tokens, tasks and history hold. Reading
 * the pipe is the only synchronisation: there is no sleep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "flowd/service.h"
#include "flowd/store.h"
#include "svc_fixture.h"

#define ROUNDS 24
#define MAX_ACKS_PER_ROUND 400
#define IN_FLIGHT 48

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t rnd(void)
{
    /* xorshift64: seeded, so a failing round can be replayed */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ---- the child ---- */

struct open_task {
    uint64_t instance_id, task_id;
};

struct child {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int fd;
    unsigned inflight;
    struct open_task *open;
    size_t n_open, cap_open;
};

struct pending {
    struct child *c;
    int kind; /* 'S' or 'C' */
    uint64_t instance_id, task_id;
};

static void push_open(struct child *c, uint64_t iid, uint64_t tid)
{
    if (c->n_open == c->cap_open) {
        c->cap_open = c->cap_open ? c->cap_open * 2 : 256;
        c->open = realloc(c->open, c->cap_open * sizeof(*c->open));
        if (!c->open)
            _exit(3);
    }
    c->open[c->n_open++] = (struct open_task){iid, tid};
}

static void write_line(int fd, const char *line, size_t n)
{
    /* one write of less than PIPE_BUF bytes is atomic */
    while (write(fd, line, n) < 0 && errno == EINTR)
        ;
}

static void child_ack(void *arg, const struct fl_result *res)
{
    struct pending *p = arg;
    struct child *c = p->c;
    char line[700];
    int n;
    if (res->rc)
        n = snprintf(line, sizeof(line), "E %d %c %s\n", res->rc, p->kind, res->err.msg);
    else if (p->kind == 'S')
        n = snprintf(line, sizeof(line), "S %llu %llu\n", (unsigned long long)res->instance_id,
                     (unsigned long long)res->task_id);
    else
        n = snprintf(line, sizeof(line), "C %llu %llu %d\n", (unsigned long long)p->instance_id,
                     (unsigned long long)p->task_id, res->instance_status);
    write_line(c->fd, line, (size_t)n);
    pthread_mutex_lock(&c->lock);
    c->inflight--;
    if (res->rc == 0 && res->task_id)
        push_open(c, res->instance_id, res->task_id);
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    free(p);
}

static void load_open_tasks(struct child *c, const char *url)
{
    struct fl_store_options ro = {.read_only = true};
    struct fl_task_query q = {.open_only = true, .limit = 1000};
    struct fl_task_row *rows;
    struct fl_store *s;
    size_t n;
    if (fl_store_open(url, &ro, &s, NULL) != 0)
        _exit(4);
    do {
        if (fl_store_task_list(s, &q, &rows, &n, NULL) != 0)
            _exit(4);
        for (size_t i = 0; i < n; i++)
            push_open(c, rows[i].instance_id, rows[i].id);
        if (n)
            q.after_id = rows[n - 1].id;
        fl_task_rows_free(rows, n);
    } while (n);
    fl_store_close(s);
}

static void child_main(int fd, const char *url, uint64_t seed)
{
    struct fl_service_options o = {.db_url = url}; /* synchronous FULL by default */
    struct fl_service *svc;
    struct fl_error e;
    struct child c;
    memset(&c, 0, sizeof(c));
    pthread_mutex_init(&c.lock, NULL);
    pthread_cond_init(&c.cond, NULL);
    c.fd = fd;
    rng_state = seed;
    if (fl_service_open(&o, &svc, &e) != 0) {
        char line[600];
        int n = snprintf(line, sizeof(line), "E %d O %s\n", e.code, e.msg);
        write_line(fd, line, (size_t)n);
        _exit(2);
    }
    load_open_tasks(&c, url);
    for (;;) {
        struct fl_command cmd;
        struct pending *p = calloc(1, sizeof(*p));
        if (!p)
            _exit(3);
        p->c = &c;
        memset(&cmd, 0, sizeof(cmd));
        pthread_mutex_lock(&c.lock);
        while (c.inflight >= IN_FLIGHT)
            pthread_cond_wait(&c.cond, &c.lock);
        if (c.n_open && rnd() % 4 != 0) {
            size_t i = (size_t)(rnd() % c.n_open);
            p->kind = 'C';
            p->instance_id = c.open[i].instance_id;
            p->task_id = c.open[i].task_id;
            c.open[i] = c.open[--c.n_open];
        } else {
            p->kind = 'S';
        }
        c.inflight++;
        pthread_mutex_unlock(&c.lock);
        if (p->kind == 'S') {
            cmd.kind = FL_CMD_START;
            cmd.process_key = "order";
            cmd.business_key = "crash";
        } else {
            cmd.kind = FL_CMD_COMPLETE_TASK;
            cmd.instance_id = p->instance_id;
            cmd.target_id = p->task_id;
            cmd.actor = "crasher";
        }
        if (fl_service_submit(svc, &cmd, child_ack, p) != 0)
            _exit(5);
    }
}

/* ---- the parent ---- */

struct acked {
    uint64_t *started, *completed;
    size_t n_started, n_completed, cap_s, cap_c;
};

static void add_id(uint64_t **v, size_t *n, size_t *cap, uint64_t id)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        *v = realloc(*v, *cap * sizeof(**v));
        assert_non_null(*v);
    }
    (*v)[(*n)++] = id;
}

static int64_t count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t n;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void check_invariants(const char *path)
{
    char sql[512];
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    /* history has no index by ref_id (the product needs none): index a temporary copy */
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TEMP TABLE ev AS SELECT type, ref_id, instance_id"
                                  " FROM history; CREATE INDEX temp.ev_ref ON ev (type, ref_id);"
                                  " CREATE INDEX temp.ev_inst ON ev (type, instance_id)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    /* each token waiting in a user task has exactly one open task row ... */
    assert_int_equal(count(db, "SELECT count(*) FROM tokens t WHERE t.task_id IS NOT NULL AND"
                               " (SELECT count(*) FROM tasks k WHERE k.id = t.task_id AND"
                               " k.token_id = t.id AND k.status = 0) != 1"),
                     0);
    assert_int_equal(count(db, "SELECT count(*) FROM tokens t WHERE t.task_id IS NULL"), 0);
    /* ... and each open task row has its token */
    assert_int_equal(count(db, "SELECT count(*) FROM tasks k WHERE k.status = 0 AND NOT EXISTS"
                               " (SELECT 1 FROM tokens t WHERE t.id = k.token_id AND"
                               " t.task_id = k.id)"),
                     0);
    /* no instance both ended and holding tokens; no active one without */
    assert_int_equal(count(db, "SELECT count(*) FROM instances i WHERE i.status != 0 AND"
                               " EXISTS (SELECT 1 FROM tokens t WHERE t.instance_id = i.id)"),
                     0);
    assert_int_equal(count(db, "SELECT count(*) FROM instances i WHERE i.status = 0 AND NOT"
                               " EXISTS (SELECT 1 FROM tokens t WHERE t.instance_id = i.id)"),
                     0);
    /* status consistent: ended_at set exactly for ended instances, open tasks only there */
    assert_int_equal(count(db, "SELECT count(*) FROM instances WHERE (status = 0) !="
                               " (ended_at IS NULL)"),
                     0);
    assert_int_equal(count(db, "SELECT count(*) FROM tasks k JOIN instances i ON"
                               " i.id = k.instance_id WHERE k.status = 0 AND i.status != 0"),
                     0);
    assert_int_equal(count(db, "SELECT count(*) FROM instances i WHERE i.status = 1 AND"
                               " (SELECT count(*) FROM tasks k WHERE k.instance_id = i.id AND"
                               " k.status = 1) != 3"),
                     0);
    /* history complete */
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM tasks k WHERE NOT EXISTS (SELECT 1 FROM"
             " ev h WHERE h.type = %d AND h.ref_id = k.id)",
             FL_EV_TASK_CREATED);
    assert_int_equal(count(db, sql), 0);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM tasks k WHERE k.status = 1 AND NOT EXISTS"
             " (SELECT 1 FROM ev h WHERE h.type = %d AND h.ref_id = k.id)",
             FL_EV_TASK_COMPLETED);
    assert_int_equal(count(db, sql), 0);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM instances i WHERE NOT EXISTS (SELECT 1"
             " FROM ev h WHERE h.type = %d AND h.instance_id = i.id)",
             FL_EV_INSTANCE_STARTED);
    assert_int_equal(count(db, sql), 0);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM instances i WHERE i.status = 1 AND NOT"
             " EXISTS (SELECT 1 FROM ev h WHERE h.type = %d AND h.instance_id = i.id)",
             FL_EV_INSTANCE_COMPLETED);
    assert_int_equal(count(db, sql), 0);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM ev h WHERE h.type = %d AND NOT"
             " EXISTS (SELECT 1 FROM tasks k WHERE k.id = h.ref_id)",
             FL_EV_TASK_CREATED);
    assert_int_equal(count(db, sql), 0);
    sqlite3_close(db);
}

static void check_acked(const char *url, const struct acked *a)
{
    struct fl_store *s;
    struct fl_instance_row ir;
    struct fl_task_row tr;
    struct fl_error e;
    assert_int_equal(fl_store_open(url, NULL, &s, &e), 0);
    for (size_t i = 0; i < a->n_started; i++) {
        assert_int_equal(fl_store_instance_get(s, a->started[i], &ir, NULL), 0);
        fl_instance_row_release(&ir);
    }
    for (size_t i = 0; i < a->n_completed; i++) {
        assert_int_equal(fl_store_task_get(s, a->completed[i], &tr, NULL), 0);
        assert_int_equal(tr.status, FL_TASK_COMPLETED);
        assert_string_equal(tr.closed_by, "crasher");
        fl_task_row_release(&tr);
    }
    fl_store_close(s);
}

static void test_kill9_rounds(void **state)
{
    char dir[64], url[160], path[128];
    struct acked a;
    size_t total_acks = 0, kills_mid_batch = 0;
    (void)state;

    memset(&a, 0, sizeof(a));
    assert_int_equal(svc_tmpdir(dir), 0);
    snprintf(path, sizeof(path), "%s/t.db", dir);
    snprintf(url, sizeof(url), "sqlite:%s", path);
    {
        /* deploy once, with no thread left running before the forks */
        struct fl_service_options o = {.db_url = url};
        struct fl_deploy_result r;
        struct fl_service *svc;
        size_t n;
        assert_int_equal(fl_service_open(&o, &svc, NULL), 0);
        assert_int_equal(
            fl_service_deploy(svc, SVC_PROCESS_XML, strlen(SVC_PROCESS_XML), &r, 1, &n, NULL), 0);
        fl_service_close(svc);
    }
    for (int round = 0; round < ROUNDS; round++) {
        int fds[2], status;
        size_t want = (size_t)(rnd() % MAX_ACKS_PER_ROUND), got = 0;
        uint64_t seed = rnd() | 1;
        bool killed = false, error = false;
        char *line = NULL, errline[700] = "";
        size_t cap = 0;
        FILE *in;
        pid_t pid;

        assert_int_equal(pipe(fds), 0);
        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_main(fds[1], url, seed);
            _exit(0);
        }
        close(fds[1]);
        in = fdopen(fds[0], "r");
        assert_non_null(in);
        if (want == 0) {
            kill(pid, SIGKILL);
            killed = true;
        }
        /* after the kill, keep reading: lines already in the pipe were acknowledged */
        while (getline(&line, &cap, in) > 0) {
            unsigned long long x, y;
            int st;
            if (line[0] == 'S' && sscanf(line, "S %llu %llu", &x, &y) == 2) {
                add_id(&a.started, &a.n_started, &a.cap_s, x);
            } else if (line[0] == 'C' && sscanf(line, "C %llu %llu %d", &x, &y, &st) == 3) {
                add_id(&a.completed, &a.n_completed, &a.cap_c, y);
            } else {
                error = true;
                snprintf(errline, sizeof(errline), "%s", line);
            }
            got++;
            if (!killed && (got >= want || error)) {
                kill(pid, SIGKILL);
                killed = true;
            }
        }
        if (!killed)
            kill(pid, SIGKILL);
        free(line);
        fclose(in);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (error)
            fprintf(stderr, "round %d: child reported: %s", round, errline);
        assert_false(error);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        kills_mid_batch += got > want;
        total_acks += got;
        check_acked(url, &a);
        check_invariants(path);
    }
    fprintf(stderr,
            "crash test: %d rounds, %zu acknowledgements (%zu starts, %zu completions)"
            " checked, %zu rounds had acks in flight at the kill\n",
            ROUNDS, total_acks, a.n_started, a.n_completed, kills_mid_batch);
    assert_true(a.n_started > 0 && a.n_completed > 0);
    free(a.started);
    free(a.completed);
    svc_rmdb(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9_rounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
