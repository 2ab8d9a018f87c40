/* flowd-bench-timers: the scheduler's figures of issue 4, one JSON object per line on
 * stdout (progress on stderr). A database gets 1,000,000 pending timers: --real cases
 * whose task deadline falls due in a paced stream over --seconds (the rest of the
 * million are filler rows due a month later, written with raw SQL as the store would).
 * timers_startup: fl_service_open with the scheduler on that database until its first
 * window is in memory, and the resident set then; timers_firing: the stream fires (each
 * fire is a full engine command: the overdue notification, the escalation event, the
 * timer's delete) -- fires per second and lateness (committed at - due at) p50/p99/max
 * from the history, with the peak resident set. Run by hand, never as a test. */
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flowd/service.h"
#include "flowd/store.h"
#include "flowd/value.h"

#include "bench_util.h"

#define DAY_MS 86400000LL

static const char process_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\"\n"
    "    xmlns:camunda=\"http://camunda.org/schema/1.0/bpmn\"\n"
    "    xmlns:flowd=\"https://flowd.dev/schema/bpmn/1.0\" id=\"d\" targetNamespace=\"t\">\n"
    "  <bpmn:process id=\"deadline\" isExecutable=\"true\">\n"
    "    <bpmn:startEvent id=\"s\"/>\n"
    "    <bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"task\"/>\n"
    "    <bpmn:userTask id=\"task\" name=\"Task\" camunda:assignee=\"alice\"\n"
    "        camunda:dueDate=\"=due\">\n"
    "      <bpmn:extensionElements><flowd:stage>\n"
    "        <flowd:raci responsible=\"sales\" accountable=\"sales_head\"/>\n"
    "      </flowd:stage></bpmn:extensionElements>\n"
    "    </bpmn:userTask>\n"
    "    <bpmn:sequenceFlow id=\"f2\" sourceRef=\"task\" targetRef=\"e\"/>\n"
    "    <bpmn:endEvent id=\"e\"/>\n"
    "  </bpmn:process>\n"
    "</bpmn:definitions>\n";

/* The service's clock: real time shifted by an offset the bench moves, so due times
 * chosen before the cases exist still arrive as a paced real-time stream. */
static _Atomic int64_t clock_offset;

static int64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t bench_clock(void)
{
    return real_ms() + atomic_load(&clock_offset);
}

static double rss_now_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double mb = 0;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmRSS:", 6))
            mb = strtod(line + 6, NULL) / 1024.0;
    if (f)
        fclose(f);
    return mb;
}

static void die(const char *what, const struct fl_error *e)
{
    fprintf(stderr, "flowd-bench-timers: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

static struct fl_service *open_service(const char *url, bool timers)
{
    struct fl_service_options o = {.db_url = url, .clock_ms = bench_clock, .run_timers = timers};
    struct fl_service *svc = NULL;
    struct fl_error e;
    fl_error_clear(&e);
    if (fl_service_open(&o, &svc, &e) != 0)
        die("open", &e);
    return svc;
}

struct starter {
    _Atomic size_t done, failed;
};

static void started(void *arg, const struct fl_result *res)
{
    struct starter *s = arg;
    if (res->rc != 0 || res->incident)
        atomic_fetch_add(&s->failed, 1);
    atomic_fetch_add(&s->done, 1);
}

/* n cases whose deadlines are base, base + step, ... (ms). */
static void start_cases(struct fl_service *svc, size_t n, int64_t base, double step)
{
    struct starter st = {0};
    for (size_t i = 0; i < n; i++) {
        char vars[96], iso[40];
        struct fl_value *v = NULL;
        int64_t due = base + (int64_t)((double)i * step);
        time_t secs = (time_t)(due / 1000);
        struct tm tm;
        struct fl_command c = {.kind = FL_CMD_START, .process_key = "deadline", .actor = "b"};
        gmtime_r(&secs, &tm);
        strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(vars, sizeof(vars), "{\"due\":\"%s.%03dZ\"}", iso, (int)(due % 1000));
        if (fl_value_from_json(vars, strlen(vars), &v, NULL) != 0)
            die("vars", NULL);
        c.variables = v;
        if (fl_service_submit(svc, &c, started, &st) != 0)
            die("submit", NULL);
        fl_value_unref(v);
    }
    while (atomic_load(&st.done) < n)
        usleep(1000);
    if (atomic_load(&st.failed))
        die("some starts failed", NULL);
}

/* Filler: n pending timers due a month after base, on instances that do not exist (they
 * are never due within the run), with ids above the real ones. */
static void add_filler(const char *path, size_t n, uint64_t first_id, int64_t base)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die("sqlite open", NULL);
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    sqlite3_prepare_v2(db,
                       "INSERT INTO timers(id, instance_id, token_id, ref_id, node, kind, level,"
                       " repeat, due_at, base_at) VALUES(?1, ?2, 1, ?2, 1, 2, 0, 0, ?3, ?3)",
                       -1, &st, NULL);
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)(first_id + i));
        sqlite3_bind_int64(st, 2, (sqlite3_int64)(10000000 + i));
        sqlite3_bind_int64(st, 3, base + 30 * DAY_MS + (int64_t)i);
        if (sqlite3_step(st) != SQLITE_DONE)
            die("filler insert", NULL);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_exec(db,
                 "UPDATE counters SET value = (SELECT max(id) FROM timers)"
                 " WHERE name = 'timer'",
                 NULL, NULL, NULL);
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        die("filler commit", NULL);
    sqlite3_close(db);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Lateness of every escalation (history at - the task's due time), sorted; *n = count. */
static int64_t *lateness(const char *path, size_t *n)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t *v = NULL;
    size_t cap = 0;
    *n = 0;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die("sqlite open", NULL);
    if (sqlite3_prepare_v2(db,
                           "SELECT h.at - t.due_at FROM history h JOIN tasks t ON t.id = h.ref_id"
                           " WHERE h.type = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        die("lateness query", NULL);
    sqlite3_bind_int(st, 1, FL_EV_ESCALATED);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 4096;
            v = realloc(v, cap * sizeof(*v));
        }
        v[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    qsort(v, *n, sizeof(*v), cmp_i64);
    return v;
}

int main(int argc, char **argv)
{
    size_t total = 1000000, real = 50000;
    double seconds = 10;
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    bool keep = false;
    char path[512], url[600];
    struct fl_deploy_result dr[1];
    struct fl_service *svc;
    struct fl_timer_stats ts;
    struct fl_error e;
    size_t n_dep, n_late;
    int64_t base, *late;
    double t0, t_open, t_first, rss_start, fire_s;
    uint64_t pending = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--total") && i + 1 < argc)
            total = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--real") && i + 1 < argc)
            real = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = strtod(argv[++i], NULL);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--keep"))
            keep = true;
        else {
            fprintf(stderr, "usage: flowd-bench-timers [--total N (1000000)] [--real N (50000)]\n"
                            "       [--seconds S (10)] [--dir DIR] [--keep]\n"
                            "N real cases fall due evenly over S seconds (N/S fires/s); the\n"
                            "rest of the total are pending timers due a month later.\n");
            return argv[i][1] == '-' && !strcmp(argv[i], "--help") ? 0 : 1;
        }
    }
    if (real > total || seconds <= 0)
        die("--real must not exceed --total; --seconds > 0", NULL);
    snprintf(path, sizeof(path), "%s/flowd-bench-timers-%d.db", dir, (int)getpid());
    snprintf(url, sizeof(url), "sqlite:%s", path);
    fl_error_clear(&e);

    /* 1. real cases (deadlines a day ahead for now), then the filler */
    base = real_ms() + DAY_MS;
    fprintf(stderr, "starting %zu cases...\n", real);
    svc = open_service(url, false);
    if (fl_service_deploy(svc, process_xml, strlen(process_xml), dr, 1, &n_dep, &e) != 0)
        die("deploy", &e);
    start_cases(svc, real, base, seconds * 1000.0 / (double)(real ? real : 1));
    fl_service_close(svc);
    fprintf(stderr, "adding %zu filler timers...\n", total - real);
    add_filler(path, total - real, 100000000, base);

    /* 2. start-up with every timer pending */
    t0 = bench_now_s();
    svc = open_service(url, true);
    t_open = bench_now_s() - t0;
    if (fl_service_timers_settle(svc, 60000) != 0) /* first window read, nothing due */
        die("settle", NULL);
    t_first = bench_now_s() - t0;
    rss_start = rss_now_mb();
    {
        struct fl_store_options ro = {.read_only = true};
        struct fl_store *s = NULL;
        if (fl_store_open(url, &ro, &s, &e) != 0 || fl_store_timer_count(s, &pending, &e) != 0)
            die("count", &e);
        fl_store_close(s);
    }
    printf("{\"name\":\"timers_startup\",\"pending\":%" PRIu64 ",\"open_s\":%.3f,"
           "\"first_window_s\":%.3f,\"rss_mb\":%.1f}\n",
           pending, t_open, t_first, rss_start);
    fflush(stdout);

    /* 3. the stream: move the clock so the first deadline is a second away */
    fprintf(stderr, "firing %zu deadlines over %.1f s...\n", real, seconds);
    atomic_store(&clock_offset, base - real_ms() - 1000);
    t0 = bench_now_s();
    for (;;) {
        fl_service_timer_stats(svc, &ts);
        if (ts.fired >= real || bench_now_s() - t0 > seconds + 120)
            break;
        usleep(20000);
    }
    fire_s = bench_now_s() - t0 - 1.0; /* the stream began a second after t0 */
    fl_service_close(svc);
    late = lateness(path, &n_late);
    printf("{\"name\":\"timers_firing\",\"fired\":%" PRIu64 ",\"offered_per_s\":%.0f,"
           "\"fired_per_s\":%.0f,\"late_p50_ms\":%" PRId64 ",\"late_p99_ms\":%" PRId64
           ",\"late_max_ms\":%" PRId64 ",\"gone\":%" PRIu64 ",\"peak_rss_mb\":%.1f,"
           "\"pending_total\":%zu}\n",
           ts.fired, (double)real / seconds, (double)ts.fired / fire_s,
           n_late ? late[n_late / 2] : -1, n_late ? late[(n_late * 99) / 100] : -1,
           n_late ? late[n_late - 1] : -1, ts.gone, bench_peak_rss_mb(), total);
    free(late);
    if (!keep) {
        char p[600];
        static const char *const sfx[] = {"", "-wal", "-shm"};
        for (int i = 0; i < 3; i++) {
            snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
            unlink(p);
        }
    } else {
        fprintf(stderr, "kept %s\n", path);
    }
    return ts.fired >= real ? 0 : 1;
}
