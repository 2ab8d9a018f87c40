/* `flowd serve`: run the HTTP API until SIGTERM or SIGINT, then drain and exit 0. The
 * address, port, database and thread count come from flags, else FLOWD_* environment
 * variables, else a `key = value` config file (--config or $FLOWD_CONFIG), else defaults.
 * `flowd routes` prints the route table (for tests and for the curious). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "flowd/server.h"

enum { OPT_CONFIG = CLI_OPT_CMD, OPT_ADDR, OPT_PORT, OPT_THREADS, OPT_TEST_CLOCK };

struct serve_conf {
    char addr[64];
    char db[1024];
    long port, threads;
    bool port_set;
};

static int parse_num(const char *what, const char *s, long max, long *out)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < 0 || v > max) {
        fprintf(stderr, "flowd serve: %s must be a number from 0 to %ld, not '%s'\n", what, max, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Read `key = value` lines (# comments, blank lines); unknown keys are an error so a typo
 * does not silently fall back to a default. */
static int read_config(const char *path, struct serve_conf *c)
{
    FILE *f = fopen(path, "r");
    char line[1200];
    int lineno = 0, rc = 0;
    if (!f) {
        fprintf(stderr, "flowd serve: cannot open config '%s': %s\n", path, strerror(errno));
        return -1;
    }
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        char *k = line, *v, *eq, *end;
        lineno++;
        while (*k == ' ' || *k == '\t')
            k++;
        if (*k == '#' || *k == '\n' || *k == '\0')
            continue;
        if (!(eq = strchr(k, '='))) {
            fprintf(stderr, "flowd serve: %s:%d: expected key = value\n", path, lineno);
            rc = -1;
            break;
        }
        v = eq + 1;
        for (end = eq; end > k && (end[-1] == ' ' || end[-1] == '\t'); end--)
            ;
        *end = '\0';
        while (*v == ' ' || *v == '\t')
            v++;
        for (end = v + strlen(v); end > v && strchr(" \t\r\n", end[-1]); end--)
            ;
        *end = '\0';
        if (!strcmp(k, "addr"))
            snprintf(c->addr, sizeof(c->addr), "%s", v);
        else if (!strcmp(k, "db"))
            snprintf(c->db, sizeof(c->db), "%s", v);
        else if (!strcmp(k, "port"))
            rc = parse_num("port", v, 65535, &c->port), c->port_set = true;
        else if (!strcmp(k, "threads"))
            rc = parse_num("threads", v, 64, &c->threads);
        else {
            fprintf(stderr, "flowd serve: %s:%d: unknown key '%s'\n", path, lineno, k);
            rc = -1;
        }
    }
    fclose(f);
    return rc;
}

static int run_serve(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"config", required_argument, NULL, OPT_CONFIG},
        {"addr", required_argument, NULL, OPT_ADDR},
        {"port", required_argument, NULL, OPT_PORT},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"test-clock", no_argument, NULL, OPT_TEST_CLOCK},
        {NULL, 0, NULL, 0},
    };
    struct serve_conf conf = {.addr = "127.0.0.1", .port = 8080, .threads = 4};
    struct fl_server_options so = {0};
    struct fl_server *srv = NULL;
    struct cli_common c;
    struct fl_error err;
    const char *config = getenv("FLOWD_CONFIG"), *addr = NULL, *port = NULL, *threads = NULL;
    const char *env;
    bool db_flag = false;
    sigset_t set;
    int o, sig = 0, rc;

    if ((rc = cli_common_init(&c, cmd)) != 0)
        return rc;
    for (int i = 1; i < argc; i++)
        db_flag |= !strcmp(argv[i], "--db") || !strncmp(argv[i], "--db=", 5);
    while ((o = cli_getopt(&c, argc, argv, longopts)) != CLI_GETOPT_END) {
        switch (o) {
        case CLI_GETOPT_HELP:
            return 0;
        case CLI_GETOPT_ERROR:
            return 1;
        case OPT_CONFIG:
            config = optarg;
            break;
        case OPT_ADDR:
            addr = optarg;
            break;
        case OPT_PORT:
            port = optarg;
            break;
        case OPT_THREADS:
            threads = optarg;
            break;
        case OPT_TEST_CLOCK:
            so.test_clock = true;
            break;
        default:
            return 1;
        }
    }
    if (optind < argc)
        return cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
    /* Lowest precedence first: config file, then environment, then flags. */
    if (config && read_config(config, &conf) != 0)
        return 1;
    if ((env = getenv("FLOWD_ADDR")) && *env)
        snprintf(conf.addr, sizeof(conf.addr), "%s", env);
    if ((env = getenv("FLOWD_PORT")) && *env && parse_num("FLOWD_PORT", env, 65535, &conf.port))
        return 1;
    if ((env = getenv("FLOWD_THREADS")) && *env &&
        parse_num("FLOWD_THREADS", env, 64, &conf.threads))
        return 1;
    if (addr)
        snprintf(conf.addr, sizeof(conf.addr), "%s", addr);
    if (port && parse_num("--port", port, 65535, &conf.port))
        return 1;
    if (threads && parse_num("--threads", threads, 64, &conf.threads))
        return 1;
    so.db_url = (db_flag || getenv("FLOWD_DB") || !conf.db[0]) ? c.db : conf.db;
    so.addr = conf.addr;
    so.port = (unsigned)conf.port;
    so.threads = (unsigned)conf.threads;
    /* A test clock starts at $FLOWD_NOW when given, so a test knows the time. */
    if (so.test_clock && c.now_fixed)
        so.test_clock_start_ms = c.now_ms;

    /* Block the stop signals before the server's threads start, so they inherit the mask
     * and only sigwait below sees them. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    fl_error_clear(&err);
    if ((rc = fl_server_start(&so, &srv, &err)) != 0)
        return cli_fail_in("serve", rc, &err);
    printf("listening on http://%s:%u\n", conf.addr, fl_server_port(srv));
    fflush(stdout);
    fprintf(stderr, "level=info msg=\"listening\" addr=%s port=%u db=\"%s\"\n", conf.addr,
            fl_server_port(srv), so.db_url);
    sigwait(&set, &sig);
    fprintf(stderr, "level=info msg=\"stopping\" signal=%d\n", sig);
    fl_server_stop(srv);
    fprintf(stderr, "level=info msg=\"stopped\"\n");
    return 0;
}

const struct cli_command cli_cmd_serve = {
    "serve",
    run_serve,
    "run the HTTP API server",
    "usage: flowd serve [--config FILE] [--addr ADDR] [--port PORT] [--threads N] [--db PATH]\n"
    "                   [--test-clock]\n"
    "\n"
    "Serve the REST API under /api/v1, /healthz and /metrics until SIGTERM or SIGINT;\n"
    "commands in flight are finished before exit. --port 0 picks a free port. The\n"
    "first stdout line is 'listening on http://ADDR:PORT'. Settings come from the flags,\n"
    "else FLOWD_ADDR, FLOWD_PORT, FLOWD_THREADS, FLOWD_DB, else the config file\n"
    "(--config or $FLOWD_CONFIG; lines 'addr = ...', 'port = ...', 'threads = ...',\n"
    "'db = ...'), else 127.0.0.1:8080, 4 threads, ./flowd.db. Logs go to stderr (logfmt).\n"
    "The scheduler fires due timers (reminders, deadlines, escalations). --test-clock\n"
    "(tests only) starts a settable clock at $FLOWD_NOW or the real time, moved by\n"
    "POST /api/v1/admin/clock {\"now\": ISO} or {\"advance\": \"PT1H\"} (admins).\n",
};

static int run_routes(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
    const struct fl_route_info *routes;
    struct cli_common c;
    size_t n;
    int o, rc;
    if ((rc = cli_common_init(&c, cmd)) != 0)
        return rc;
    while ((o = cli_getopt(&c, argc, argv, longopts)) != CLI_GETOPT_END) {
        if (o == CLI_GETOPT_HELP)
            return 0;
        return 1;
    }
    routes = fl_server_routes(&n);
    for (size_t i = 0; i < n; i++)
        printf("%s %s%s\n", routes[i].method, routes[i].pattern,
               routes[i].public_route ? " public" : "");
    return 0;
}

const struct cli_command cli_cmd_routes = {
    "routes",
    run_routes,
    "print the HTTP route table",
    "usage: flowd routes\n\nPrint every route of the HTTP API as 'METHOD PATTERN', followed\n"
    "by 'public' when it is answered without authentication.\n",
};
