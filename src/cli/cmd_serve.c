/* `flowd serve`: run the HTTP API until SIGTERM or SIGINT, then drain and exit 0. The
 * address, port, database, thread count and session lifetimes come from flags, else
 * FLOWD_* environment variables, else a `key = value` config file (--config or
 * $FLOWD_CONFIG), else defaults. On a database without an administrator, FLOWD_ADMIN_LOGIN
 * makes the first one. `flowd routes` prints the route table (for tests and the curious). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "flowd/auth.h"
#include "flowd/server.h"

enum {
    OPT_CONFIG = CLI_OPT_CMD,
    OPT_ADDR,
    OPT_PORT,
    OPT_THREADS,
    OPT_SESSION_IDLE,
    OPT_SESSION_MAX
};

/* Longest session lifetime accepted (a year): past that a typo is likelier than intent. */
#define SESSION_LIMIT_MS (366LL * 24 * 3600 * 1000)

struct serve_conf {
    char addr[64];
    char db[1024];
    long port, threads;
    bool port_set;
    int64_t session_idle_ms, session_max_ms; /* 0 = default */
};

/* A duration: digits with an optional unit ms, s, m or h (plain digits are seconds), from
 * 1 ms to a year. */
static int parse_duration(const char *what, const char *s, int64_t *out)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    char *end;
    long long v;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (*s >= '0' && *s <= '9' && !errno && v > 0) {
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            if (strcmp(end, units[i].unit) != 0)
                continue;
            if (v > SESSION_LIMIT_MS / units[i].ms)
                break;
            *out = (int64_t)v * units[i].ms;
            return 0;
        }
    }
    fprintf(stderr,
            "flowd serve: %s must be a duration such as 90s, 30m or 12h (1 ms to a year), "
            "not '%s'\n",
            what, s);
    return -1;
}

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
        else if (!strcmp(k, "session_idle"))
            rc = parse_duration("session_idle", v, &c->session_idle_ms);
        else if (!strcmp(k, "session_max"))
            rc = parse_duration("session_max", v, &c->session_max_ms);
        else {
            fprintf(stderr, "flowd serve: %s:%d: unknown key '%s'\n", path, lineno, k);
            rc = -1;
        }
    }
    fclose(f);
    return rc;
}

/* FLOWD_ADMIN_LOGIN set and no admin in the database: make one, with FLOWD_ADMIN_PASSWORD
 * or a generated password handed back in *generated (printed once after the address line).
 * Before the server starts, so the first request can already log in. */
static int first_admin(const char *db_url, char **generated)
{
    const char *login = getenv("FLOWD_ADMIN_LOGIN");
    const char *password = getenv("FLOWD_ADMIN_PASSWORD");
    struct fl_store *s = NULL;
    struct fl_error err;
    struct timespec ts;
    bool created = false;
    int rc;

    *generated = NULL;
    if (!login || !*login)
        return 0;
    if (password && !*password)
        password = NULL;
    fl_error_clear(&err);
    clock_gettime(CLOCK_REALTIME, &ts);
    if ((rc = fl_store_open(db_url, NULL, &s, &err)) == 0) {
        rc = fl_auth_bootstrap_admin(s, login, password,
                                     (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, &created,
                                     password ? NULL : generated, &err);
        fl_store_close(s);
    }
    if (rc != 0) {
        fprintf(stderr, "flowd serve: FLOWD_ADMIN_LOGIN: %s\n", err.msg);
        return -1;
    }
    if (created)
        fprintf(stderr, "level=info msg=\"first admin created\" login=\"%s\"\n", login);
    return 0;
}

static int run_serve(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"config", required_argument, NULL, OPT_CONFIG},
        {"addr", required_argument, NULL, OPT_ADDR},
        {"port", required_argument, NULL, OPT_PORT},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"session-idle", required_argument, NULL, OPT_SESSION_IDLE},
        {"session-max", required_argument, NULL, OPT_SESSION_MAX},
        {NULL, 0, NULL, 0},
    };
    struct serve_conf conf = {.addr = "127.0.0.1", .port = 8080, .threads = 4};
    struct fl_server_options so = {0};
    struct fl_server *srv = NULL;
    struct cli_common c;
    struct fl_error err;
    const char *config = getenv("FLOWD_CONFIG"), *addr = NULL, *port = NULL, *threads = NULL;
    const char *idle = NULL, *max = NULL;
    const char *env;
    char *admin_password = NULL;
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
        case OPT_SESSION_IDLE:
            idle = optarg;
            break;
        case OPT_SESSION_MAX:
            max = optarg;
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
    if ((env = getenv("FLOWD_SESSION_IDLE")) && *env && !idle &&
        parse_duration("FLOWD_SESSION_IDLE", env, &conf.session_idle_ms))
        return 1;
    if ((env = getenv("FLOWD_SESSION_MAX")) && *env && !max &&
        parse_duration("FLOWD_SESSION_MAX", env, &conf.session_max_ms))
        return 1;
    if (idle && parse_duration("--session-idle", idle, &conf.session_idle_ms))
        return 1;
    if (max && parse_duration("--session-max", max, &conf.session_max_ms))
        return 1;
    so.db_url = (db_flag || getenv("FLOWD_DB") || !conf.db[0]) ? c.db : conf.db;
    so.addr = conf.addr;
    so.port = (unsigned)conf.port;
    so.threads = (unsigned)conf.threads;
    so.session.idle_ms = conf.session_idle_ms;
    so.session.absolute_ms = conf.session_max_ms;
    if (first_admin(so.db_url, &admin_password) != 0)
        return 1;

    /* Block the stop signals before the server's threads start, so they inherit the mask
     * and only sigwait below sees them. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    fl_error_clear(&err);
    if ((rc = fl_server_start(&so, &srv, &err)) != 0) {
        free(admin_password);
        return cli_fail_in("serve", rc, &err);
    }
    printf("listening on http://%s:%u\n", conf.addr, fl_server_port(srv));
    if (admin_password) {
        /* The only time this password exists in clear outside the caller's memory. */
        printf("first admin '%s' created with password %s (shown once)\n",
               getenv("FLOWD_ADMIN_LOGIN"), admin_password);
        memset(admin_password, 0, strlen(admin_password));
        free(admin_password);
    }
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
    "                   [--session-idle DURATION] [--session-max DURATION]\n"
    "\n"
    "Serve the REST API under /api/v1, /healthz and /metrics until SIGTERM or SIGINT;\n"
    "commands in flight are finished before exit. --port 0 picks a free port. The\n"
    "first stdout line is 'listening on http://ADDR:PORT'. Settings come from the flags,\n"
    "else FLOWD_ADDR, FLOWD_PORT, FLOWD_THREADS, FLOWD_DB, FLOWD_SESSION_IDLE,\n"
    "FLOWD_SESSION_MAX, else the config file (--config or $FLOWD_CONFIG; lines\n"
    "'addr = ...', 'port = ...', 'threads = ...', 'db = ...', 'session_idle = ...',\n"
    "'session_max = ...'), else 127.0.0.1:8080, 4 threads, ./flowd.db, sessions ending\n"
    "after 30m without use or 12h after login. Durations: digits with ms, s, m or h.\n"
    "\n"
    "With FLOWD_ADMIN_LOGIN set and no administrator in the database, that user is made\n"
    "the first administrator, with FLOWD_ADMIN_PASSWORD or a generated password printed\n"
    "once on the second stdout line: \"first admin 'LOGIN' created with password PW\n"
    "(shown once)\". Logs go to stderr (logfmt).\n",
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
