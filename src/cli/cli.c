/* Helpers shared by the flowd subcommands: common options and the environment, error
 * printing, --var parsing, reading input files with a size cap, and opening the database
 * either read-only (for listings) or through the service (for every write, so the CLI
 * takes the same durable path as the server). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "flowd/alloc.h"
#include "flowd/feel.h"
#include "flowd/timecalc.h"

/* The service asks for the time through a plain function pointer; a fixed $FLOWD_NOW has
 * to live somewhere it can see. Set once before any service is opened. */
static int64_t fixed_now_ms;

static int64_t fixed_clock(void)
{
    return fixed_now_ms;
}

int cli_common_init(struct cli_common *c, const struct cli_command *cmd)
{
    const char *db = getenv("FLOWD_DB");
    const char *now = getenv("FLOWD_NOW");
    const char *server = getenv("FLOWD_SERVER"), *token = getenv("FLOWD_TOKEN");
    struct timespec ts;

    memset(c, 0, sizeof(*c));
    c->cmd = cmd;
    c->db = db && db[0] ? db : "./flowd.db";
    c->server = server && server[0] ? server : NULL;
    c->token = token && token[0] ? token : NULL;
    if (now && now[0]) {
        if (fl_time_parse(now, &c->now_ms) != 0)
            return cli_usage_error(c, "FLOWD_NOW='%s' is not an ISO 8601 date-time", now);
        c->now_fixed = true;
        fixed_now_ms = c->now_ms;
    } else {
        clock_gettime(CLOCK_REALTIME, &ts);
        c->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    return 0;
}

void cli_print_usage(const struct cli_command *cmd, FILE *f)
{
    fputs(cmd->usage, f);
    fputs("\ncommon options:\n"
          "  --db PATH   database file (default $FLOWD_DB, else ./flowd.db)\n"
          "  --json      print one JSON document instead of text\n"
          "  --server URL  work through a flowd server's API (default $FLOWD_SERVER)\n"
          "  --token TOKEN API token for --server (default $FLOWD_TOKEN; prefer the variable:\n"
          "                command lines are visible to other users)\n"
          "  --help      print this help\n",
          f);
}

int cli_usage_error(const struct cli_common *c, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "flowd: %s: ", c->cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "; see 'flowd help %s'\n", c->cmd->name);
    return fl_err_exit_code(FL_EUSAGE);
}

int cli_getopt(struct cli_common *c, int argc, char **argv, const struct option *longopts)
{
    int opt;
    for (;;) {
        opt = getopt_long(argc, argv, ":h", longopts, NULL);
        switch (opt) {
        case CLI_OPT_DB:
            if (!optarg[0]) {
                cli_usage_error(c, "--db needs a path");
                return CLI_GETOPT_ERROR;
            }
            c->db = optarg;
            c->db_flag = true;
            continue;
        case CLI_OPT_SERVER:
            if (!optarg[0]) {
                cli_usage_error(c, "--server needs a URL");
                return CLI_GETOPT_ERROR;
            }
            c->server = optarg;
            c->server_flag = true;
            continue;
        case CLI_OPT_TOKEN:
            c->token = optarg[0] ? optarg : NULL;
            continue;
        case CLI_OPT_JSON:
            c->json = true;
            continue;
        case CLI_OPT_HELP:
        case 'h':
            cli_print_usage(c->cmd, stdout);
            return CLI_GETOPT_HELP;
        case ':':
            cli_usage_error(c, "option '%s' needs a value", argv[optind - 1]);
            return CLI_GETOPT_ERROR;
        case '?':
            if (optopt)
                cli_usage_error(c, "unknown option '-%c'", optopt);
            else
                cli_usage_error(c, "unknown option '%s'", argv[optind - 1]);
            return CLI_GETOPT_ERROR;
        default:
            return opt;
        }
    }
}

int cli_no_operands(struct cli_common *c, int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
    int opt = cli_getopt(c, argc, argv, longopts);
    if (opt != CLI_GETOPT_END)
        return opt == CLI_GETOPT_HELP ? 0 : 1;
    if (optind != argc)
        return cli_usage_error(c, "unexpected argument '%s'", argv[optind]);
    return -1;
}

static int print_error(const char *prefix, const char *what, int rc, const struct fl_error *err)
{
    struct fl_error e;
    char line[1024];

    if (err)
        e = *err;
    else
        fl_error_clear(&e);
    e.code = rc;
    fl_error_format(&e, line, sizeof(line));
    fprintf(stderr, "flowd: %s%s%s%s\n", prefix, what ? what : "", what ? ": " : "", line);
    return fl_err_exit_code(rc);
}

int cli_fail(int rc, const struct fl_error *err)
{
    return print_error("", NULL, rc, err);
}

int cli_fail_in(const char *what, int rc, const struct fl_error *err)
{
    return print_error("", what, rc, err);
}

void cli_warn(const char *what, const struct fl_error *err)
{
    print_error("warning: ", what, err->code ? err->code : FL_EMODEL, err);
}

int cli_parse_id(const char *s, const char *what, uint64_t *out, struct fl_error *err)
{
    uint64_t v = 0;
    const char *p = s;

    if (!*p)
        goto bad;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
            goto bad;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v == 0)
        goto bad;
    *out = v;
    return 0;
bad:
    return fl_error_set(err, FL_EUSAGE, "'%s' is not a %s id (a positive number)", s, what);
}

/* ---- --var ---- */

static bool is_date_text(const char *s, size_t n)
{
    static const char shape[] = "dddd-dd-dd";
    if (n != sizeof(shape) - 1)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return false;
    }
    return true;
}

/* A date value is built by FEEL's own date() so the CLI and expressions agree on what a
 * date is (and on which calendar days exist). */
static int date_value(const char *s, size_t n, struct fl_value **out)
{
    char src[32];
    struct fl_feel_expr *expr = NULL;
    struct fl_feel_env env = {0};
    struct fl_value *v;
    int rc = FL_ETYPE;

    if (!is_date_text(s, n))
        return FL_ETYPE;
    snprintf(src, sizeof(src), "date(\"%.*s\")", (int)n, s);
    if (fl_feel_compile(src, strlen(src), &expr, NULL) != 0)
        goto out;
    v = fl_feel_eval(expr, &env, NULL);
    if (fl_value_type(v) == FL_VDATE) {
        *out = v;
        rc = 0;
    } else {
        fl_value_unref(v);
    }
out:
    fl_feel_free(expr);
    return rc;
}

static bool name_ok(const char *s, size_t n)
{
    if (n == 0 || s[0] == ' ' || s[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    }
    return true;
}

int cli_var_parse(const char *arg, struct fl_value *ctx, struct fl_error *err)
{
    const char *eq = strchr(arg, '=');
    const char *colon, *type = NULL, *val;
    size_t name_len, type_len = 0, val_len;
    struct fl_value *v = NULL;
    struct fl_error jerr;

    if (!eq)
        return fl_error_set(err, FL_EUSAGE, "--var '%s': expected NAME=VALUE or NAME:TYPE=VALUE",
                            arg);
    colon = memchr(arg, ':', (size_t)(eq - arg));
    name_len = (size_t)((colon ? colon : eq) - arg);
    if (colon) {
        type = colon + 1;
        type_len = (size_t)(eq - type);
    }
    if (!name_ok(arg, name_len))
        return fl_error_set(err, FL_EUSAGE, "--var '%s': missing or malformed variable name", arg);
    val = eq + 1;
    val_len = strlen(val);

#define TYPE_IS(t) (type_len == sizeof(t) - 1 && !memcmp(type, t, type_len))
    if (!type) {
        /* A JSON literal when it is one, so amount=12.5 is a number and ok=true a boolean;
         * anything else (ACME, 007, 2026-01-31) is kept as the string typed. */
        if (fl_value_from_json(val, val_len, &v, &jerr) != 0) {
            v = NULL;
            if (fl_value_string_new(val, val_len, &v) != 0)
                return fl_error_set(err, FL_ETYPE, "--var '%s': value is not valid UTF-8", arg);
        }
    } else if (TYPE_IS("number")) {
        if (fl_value_number_parse(val, val_len, &v) != 0)
            return fl_error_set(err, FL_ETYPE, "--var '%s': '%s' is not a number", arg, val);
    } else if (TYPE_IS("string")) {
        if (fl_value_string_new(val, val_len, &v) != 0)
            return fl_error_set(err, FL_ETYPE, "--var '%s': value is not valid UTF-8", arg);
    } else if (TYPE_IS("bool") || TYPE_IS("boolean")) {
        if (!strcmp(val, "true"))
            v = fl_value_bool(true);
        else if (!strcmp(val, "false"))
            v = fl_value_bool(false);
        else
            return fl_error_set(err, FL_ETYPE, "--var '%s': '%s' is not a boolean (true or false)",
                                arg, val);
    } else if (TYPE_IS("json")) {
        fl_error_clear(&jerr);
        if (fl_value_from_json(val, val_len, &v, &jerr) != 0) {
            if (jerr.column > 0)
                return fl_error_set(err, FL_ETYPE, "--var '%s': not valid JSON: %s at column %d",
                                    arg, jerr.msg[0] ? jerr.msg : "syntax error", jerr.column);
            return fl_error_set(err, FL_ETYPE, "--var '%s': not valid JSON: %s", arg,
                                jerr.msg[0] ? jerr.msg : "syntax error");
        }
    } else if (TYPE_IS("date")) {
        if (date_value(val, val_len, &v) != 0)
            return fl_error_set(err, FL_ETYPE, "--var '%s': '%s' is not a date (YYYY-MM-DD)", arg,
                                val);
    } else {
        return fl_error_set(err, FL_EUSAGE,
                            "--var '%s': unknown type '%.*s' (number, string, bool, json, date)",
                            arg, (int)type_len, type);
    }
#undef TYPE_IS
    fl_value_context_set(ctx, arg, name_len, v);
    return 0;
}

/* ---- files and the database ---- */

int cli_read_file(const char *path, size_t max, char **out, size_t *len, struct fl_error *err)
{
    FILE *fp = NULL;
    struct stat st;
    struct fl_buf b;
    char chunk[65536];
    size_t n;
    int rc = 0;

    fl_buf_init(&b, max);
    if (!strcmp(path, "-")) {
        fp = stdin;
    } else if (!(fp = fopen(path, "rb"))) {
        rc = fl_error_set(err, errno == ENOENT ? FL_ENOTFOUND : FL_EIO, "cannot open '%s': %s",
                          path, strerror(errno));
        goto out;
    }
    if (fstat(fileno(fp), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            rc = fl_error_set(err, FL_EUSAGE, "'%s' is a directory", path);
            goto out;
        }
        /* Refuse a huge file before reading it: the cap protects memory, not just the
         * parser. Pipes have no size and are capped while reading below. */
        if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > (uint64_t)max) {
            rc = fl_error_set(err, FL_ETOOBIG, "'%s' is %lld bytes, more than the limit of %zu",
                              path, (long long)st.st_size, max);
            goto out;
        }
    }
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        if (fl_buf_add(&b, chunk, n) != 0) {
            rc = fl_error_set(err, FL_ETOOBIG, "'%s' is more than the limit of %zu bytes", path,
                              max);
            goto out;
        }
    }
    if (ferror(fp)) {
        rc = fl_error_set(err, FL_EIO, "cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    *out = fl_buf_detach(&b, len);
out:
    if (fp && fp != stdin)
        fclose(fp);
    fl_buf_release(&b);
    return rc;
}

/* The file behind a store URL, or NULL when the URL names no local file. */
static const char *db_file(const char *url)
{
    if (!strncmp(url, "sqlite:", 7))
        return url + 7;
    if (!strncmp(url, "file:", 5))
        return url + 5;
    if (strstr(url, "://"))
        return NULL;
    return url;
}

int cli_local_only(const struct cli_common *c, struct fl_error *err)
{
    /* As cli_source_open: an explicit --db is more specific than $FLOWD_SERVER. */
    if (!c->server || (c->db_flag && !c->server_flag))
        return 0;
    return fl_error_set(err, FL_EUSAGE,
                        "%s does not work through a server yet (--server or $FLOWD_SERVER is "
                        "set); use the API, or leave the server out to work on the database",
                        c->cmd ? c->cmd->name : "this command");
}

int cli_db_require(const struct cli_common *c, struct fl_error *err)
{
    const char *path = db_file(c->db);
    struct stat st;

    if (cli_local_only(c, err))
        return FL_EUSAGE;
    if (path && stat(path, &st) != 0) {
        if (errno == ENOENT)
            return fl_error_set(err, FL_ENOTFOUND,
                                "no database at '%s' (deploy a model first, or give --db PATH)",
                                path);
        return fl_error_set(err, FL_EIO, "cannot open database '%s': %s", path, strerror(errno));
    }
    return 0;
}

int cli_store_open_ro(const struct cli_common *c, struct fl_store **out, struct fl_error *err)
{
    struct fl_store_options opt = {.read_only = true, .create = false, .busy_timeout_ms = 5000};
    int rc = cli_db_require(c, err);
    if (rc)
        return rc;
    return fl_store_open(c->db, &opt, out, err);
}

int cli_service_open(const struct cli_common *c, struct fl_service **out, struct fl_error *err)
{
    struct fl_service_options opt = {0};
    if (cli_local_only(c, err))
        return FL_EUSAGE;
    opt.db_url = c->db;
    opt.clock_ms = c->now_fixed ? fixed_clock : NULL;
    return fl_service_open(&opt, out, err);
}

int cli_service_run(struct fl_service *svc, const struct fl_command *cmd, struct fl_result *res)
{
    int rc;

    memset(res, 0, sizeof(*res));
    rc = fl_service_run(svc, cmd, res);
    if (rc && !res->rc) {
        res->rc = rc;
        fl_error_set(&res->err, rc, "%s", fl_err_message(rc));
    }
    return res->rc;
}
