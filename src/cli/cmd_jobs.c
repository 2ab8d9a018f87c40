/* `flowd jobs` and `flowd incidents`: a worker's commands by hand (activate, complete,
 * fail, throw an error) and an administrator's (list jobs and incidents, resolve one). On
 * the database they run through the service like a worker on the server would; with
 * --server they are the HTTP calls of docs/api.md. Both ways produce the API's JSON answer,
 * which --json prints as is and the human output reads back, so the two modes cannot
 * drift apart. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_http.h"
#include "flowd/jobs.h"
#include "flowd/timecalc.h"

static const char jobs_usage[] =
    "usage: flowd jobs activate TYPE [--worker W] [--max N] [--timeout D] [--wait D]\n"
    "                  [--fetch NAME]...\n"
    "       flowd jobs complete ID [--var NAME=VALUE]... [--worker W]\n"
    "       flowd jobs fail ID --retries N [--error MSG] [--backoff D] [--worker W]\n"
    "       flowd jobs throw-error ID CODE [--message M] [--var NAME=VALUE]... [--worker W]\n"
    "       flowd jobs list [--type T] [--status open|completed|failed] [--instance ID]\n\n"
    "Jobs are the service tasks external workers do. 'activate' locks up to N jobs of a\n"
    "type for the worker for the timeout and prints them with their variables; the\n"
    "worker then completes, fails or throws a BPMN error on each. Failing with no retries\n"
    "left raises an incident (see 'flowd incidents').\n\n"
    "options:\n"
    "  --worker W      the worker's name (activate: default 'cli'; others: when given,\n"
    "                  refused with exit 3 if another worker holds the job's lock)\n"
    "  --max N         jobs to activate at most (default 1)\n"
    "  --timeout D     lock duration: ISO 8601 (PT5M) or milliseconds (default PT5M)\n"
    "  --wait D        long poll: wait this long for a job to appear (default 0)\n"
    "  --fetch NAME    return only these variables (repeatable)\n"
    "  --var NAME=VALUE  a variable to set (repeatable; see 'flowd help start')\n"
    "  --retries N     retries left after this failure (0 raises an incident)\n"
    "  --backoff D     not activatable again before this long\n";

static const char incidents_usage[] =
    "usage: flowd incidents [list] [--all] [--instance ID]\n"
    "       flowd incidents resolve ID [--retries N] [--var NAME=VALUE]...\n\n"
    "Incidents are tokens stuck at a node: a job out of retries, an expression that\n"
    "failed. 'list' shows the open ones of active instances (--all: resolved ones too);\n"
    "'resolve' retries the node: a job is created again (with N retries; default: the\n"
    "model's), an expression evaluated again, after setting the variables given.\n";

enum {
    OPT_WORKER = CLI_OPT_CMD,
    OPT_MAX,
    OPT_TIMEOUT,
    OPT_WAIT,
    OPT_FETCH,
    OPT_VAR,
    OPT_RETRIES,
    OPT_ERROR,
    OPT_BACKOFF,
    OPT_MESSAGE,
    OPT_TYPE,
    OPT_STATUS,
    OPT_INSTANCE,
    OPT_ALL
};

/* Everything the subcommands take; each uses its part. */
struct args {
    const char *worker, *type, *status, *error, *message, *code;
    const char *fetch[FL_JOB_FETCH_MAX];
    size_t n_fetch;
    int64_t max, timeout_ms, wait_ms, backoff_ms, retries;
    bool retries_set, all;
    uint64_t id, instance_id;
    struct fl_value *vars;
};

static int parse_ms(const char *s, const char *what, int64_t *out, struct fl_error *err)
{
    struct fl_iso_duration d;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s >= '0' && *s <= '9' && !*end) {
        *out = v;
        return 0;
    }
    if (fl_iso_duration_parse(s, &d, NULL) != 0 || d.negative)
        return fl_error_set(err, FL_EUSAGE,
                            "%s '%s': expected an ISO 8601 duration (PT30S) or milliseconds", what,
                            s);
    *out = fl_iso_duration_add(0, &d);
    return 0;
}

static int parse_count(const char *s, const char *what, int64_t *out, struct fl_error *err)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s < '0' || *s > '9' || *end || v > 1000000)
        return fl_error_set(err, FL_EUSAGE, "%s '%s': expected a whole number from 0 to 1000000",
                            what, s);
    *out = v;
    return 0;
}

/* Parse options and operands; ops names the operands wanted ("ID", "ID CODE", "TYPE" or
 * ""). Returns -1 to go on, else the exit code. */
static int parse(struct cli_common *c, int argc, char **argv, const char *ops, struct args *a)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
                                             {"worker", required_argument, NULL, OPT_WORKER},
                                             {"max", required_argument, NULL, OPT_MAX},
                                             {"timeout", required_argument, NULL, OPT_TIMEOUT},
                                             {"wait", required_argument, NULL, OPT_WAIT},
                                             {"fetch", required_argument, NULL, OPT_FETCH},
                                             {"var", required_argument, NULL, OPT_VAR},
                                             {"retries", required_argument, NULL, OPT_RETRIES},
                                             {"error", required_argument, NULL, OPT_ERROR},
                                             {"backoff", required_argument, NULL, OPT_BACKOFF},
                                             {"message", required_argument, NULL, OPT_MESSAGE},
                                             {"type", required_argument, NULL, OPT_TYPE},
                                             {"status", required_argument, NULL, OPT_STATUS},
                                             {"instance", required_argument, NULL, OPT_INSTANCE},
                                             {"all", no_argument, NULL, OPT_ALL},
                                             {NULL, 0, NULL, 0}};
    struct fl_error err;
    int opt, rc = 0;
    size_t want = !*ops ? 0 : strchr(ops, ' ') ? 2 : 1;

    fl_error_clear(&err);
    while ((opt = cli_getopt(c, argc, argv, longopts)) != CLI_GETOPT_END) {
        switch (opt) {
        case OPT_WORKER:
            a->worker = optarg;
            break;
        case OPT_MAX:
            rc = parse_count(optarg, "--max", &a->max, &err);
            break;
        case OPT_TIMEOUT:
            rc = parse_ms(optarg, "--timeout", &a->timeout_ms, &err);
            break;
        case OPT_WAIT:
            rc = parse_ms(optarg, "--wait", &a->wait_ms, &err);
            break;
        case OPT_BACKOFF:
            rc = parse_ms(optarg, "--backoff", &a->backoff_ms, &err);
            break;
        case OPT_FETCH:
            if (a->n_fetch == FL_JOB_FETCH_MAX)
                return cli_usage_error(c, "at most %d --fetch names", FL_JOB_FETCH_MAX);
            a->fetch[a->n_fetch++] = optarg;
            break;
        case OPT_VAR:
            if (!a->vars)
                a->vars = fl_value_context_new();
            rc = cli_var_parse(optarg, a->vars, &err);
            break;
        case OPT_RETRIES:
            rc = parse_count(optarg, "--retries", &a->retries, &err);
            a->retries_set = true;
            break;
        case OPT_ERROR:
            a->error = optarg;
            break;
        case OPT_MESSAGE:
            a->message = optarg;
            break;
        case OPT_TYPE:
            a->type = optarg;
            break;
        case OPT_STATUS:
            a->status = optarg;
            break;
        case OPT_INSTANCE:
            rc = cli_parse_id(optarg, "instance", &a->instance_id, &err);
            break;
        case OPT_ALL:
            a->all = true;
            break;
        default:
            return opt == CLI_GETOPT_HELP ? 0 : 1;
        }
        if (rc)
            return cli_fail(rc, &err);
    }
    if ((size_t)(argc - optind) < want)
        return cli_usage_error(c, "missing %s", argc - optind == 0 && want == 2 ? "ID" : ops);
    if ((size_t)(argc - optind) > want)
        return cli_usage_error(c, "unexpected argument '%s'", argv[optind + want]);
    if (want && !strcmp(ops, "TYPE"))
        a->type = argv[optind];
    else if (want && (rc = cli_parse_id(argv[optind], "ID", &a->id, &err)) != 0)
        return cli_fail(rc, &err);
    if (want == 2)
        a->code = argv[optind + 1];
    return -1;
}

/* ---- the answer, from the server or built locally in the server's format ---- */

static void jstr(struct fl_buf *b, const char *key, const char *v, bool comma)
{
    if (comma)
        fl_buf_addc(b, ',');
    fl_json_cstring(b, key);
    fl_buf_addc(b, ':');
    if (v)
        fl_json_cstring(b, v);
    else
        fl_buf_adds(b, "null");
}

static void jtime(struct fl_buf *b, const char *key, int64_t t)
{
    char s[40];
    fl_buf_addc(b, ',');
    fl_json_cstring(b, key);
    fl_buf_addc(b, ':');
    if (t)
        fl_json_cstring(b, cli_time(t, true, s));
    else
        fl_buf_adds(b, "null");
}

static void json_job(struct fl_buf *b, const struct fl_job_row *j)
{
    fl_buf_addf(b, "{\"id\":%llu", (unsigned long long)j->id);
    jstr(b, "type", j->type, true);
    jstr(b, "status", fl_job_status_name(j->status), true);
    fl_buf_addf(b, ",\"instance_id\":%llu", (unsigned long long)j->instance_id);
    jstr(b, "process", j->process_key, true);
    fl_buf_addf(b, ",\"version\":%d", (int)j->version);
    jstr(b, "node_id", j->node_id, true);
    fl_buf_addf(b, ",\"retries\":%d", j->retries);
    jstr(b, "worker", j->worker, true);
    jtime(b, "deadline", j->status == FL_JOB_OPEN ? j->lock_until : 0);
    jtime(b, "activatable_at", j->status == FL_JOB_OPEN ? j->next_at : 0);
    jstr(b, "error_message", j->error, true);
    jstr(b, "error_code", j->error_code, true);
    jtime(b, "created_at", j->created_at);
    jtime(b, "closed_at", j->closed_at);
}

static void json_incident(struct fl_buf *b, const struct fl_incident_row *i)
{
    fl_buf_addf(b, "{\"id\":%llu", (unsigned long long)i->id);
    jstr(b, "state", i->resolved_at ? "resolved" : "open", true);
    fl_buf_addf(b, ",\"instance_id\":%llu", (unsigned long long)i->instance_id);
    jstr(b, "process", i->process_key, true);
    jstr(b, "node_id", i->node_id, true);
    fl_buf_addf(b, ",\"token_id\":%llu", (unsigned long long)i->token_id);
    if (i->job_id)
        fl_buf_addf(b, ",\"job_id\":%llu", (unsigned long long)i->job_id);
    else
        fl_buf_adds(b, ",\"job_id\":null");
    jstr(b, "message", i->message, true);
    jtime(b, "created_at", i->created_at);
    jtime(b, "resolved_at", i->resolved_at);
    fl_buf_addc(b, '}');
}

static void json_outcome(struct fl_buf *b, uint64_t id, const char *outcome,
                         const struct fl_result *res)
{
    fl_buf_addf(b, "{\"id\":%llu", (unsigned long long)id);
    jstr(b, "outcome", outcome, true);
    fl_buf_addf(b, ",\"instance_id\":%llu", (unsigned long long)res->instance_id);
    jstr(b, "instance_status", cli_instance_status_name(res->instance_status), true);
    fl_buf_addf(b, ",\"incident\":%s}", res->incident ? "true" : "false");
}

/* Remote: send and keep the answer's body in *out. */
static int remote(const struct cli_common *c, const char *method, const char *path,
                  const struct fl_buf *body, struct fl_buf *out, struct fl_error *err)
{
    struct cli_http *h = NULL;
    struct cli_http_answer ans;
    int rc;
    memset(&ans, 0, sizeof(ans));
    fl_buf_init(&ans.body, CLI_HTTP_MAX_BODY);
    if ((rc = cli_http_open(c->server, c->token, &h, err)) == 0 &&
        (rc = cli_http_send(h, method, path, body ? "application/json" : NULL,
                            body ? body->ptr : NULL, body ? body->len : 0, &ans, err)) == 0 &&
        (rc = cli_http_check(h, &ans, err)) == 0) {
        fl_buf_reset(out);
        fl_buf_add(out, ans.body.ptr, ans.body.len);
    }
    fl_buf_release(&ans.body);
    cli_http_close(h);
    return rc;
}

static int local_run(const struct cli_common *c, const struct fl_command *cmd,
                     struct fl_result *res, struct fl_error *err)
{
    struct fl_service *svc = NULL;
    int rc;
    if ((rc = cli_db_require(c, err)) || (rc = cli_service_open(c, &svc, err)))
        return rc;
    rc = cli_service_run(svc, cmd, res);
    fl_service_close(svc);
    if (rc)
        *err = res->err;
    return rc;
}

/* ---- reading the answer back for people ---- */

static const char *vstr(const struct fl_value *o, const char *k)
{
    const struct fl_value *v = fl_value_context_get(o, k, strlen(k));
    return v ? fl_value_str(v, NULL) : NULL;
}

static long long vint(const struct fl_value *o, const char *k)
{
    const struct fl_value *v = fl_value_context_get(o, k, strlen(k));
    int64_t n = 0;
    if (v)
        fl_value_to_int64(v, &n);
    return (long long)n;
}

static int print_answer(const struct cli_common *c, const struct fl_buf *json,
                        void (*human)(const struct fl_value *doc))
{
    struct fl_value *doc = NULL;
    struct fl_error err;
    if (c->json) {
        printf("%s\n", json->ptr);
        return 0;
    }
    fl_error_clear(&err);
    if (fl_value_from_json(json->ptr, json->len, &doc, &err) != 0)
        return cli_fail(FL_EPARSE, &err);
    human(doc);
    fl_value_unref(doc);
    return 0;
}

static void human_jobs(const struct fl_value *doc)
{
    const struct fl_value *jobs = fl_value_context_get(doc, "jobs", 4);
    size_t n = jobs ? fl_value_list_len(jobs) : 0;
    struct fl_buf b = FL_BUF_INIT;
    if (!n) {
        printf("no jobs\n");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct fl_value *j = fl_value_list_at(jobs, i);
        printf("job %lld (%s) of instance %lld (%s), at '%s', %lld retries, locked for '%s' "
               "until %s\n",
               vint(j, "id"), vstr(j, "type"), vint(j, "instance_id"), vstr(j, "process"),
               vstr(j, "node_id"), vint(j, "retries"), vstr(j, "worker"), vstr(j, "deadline"));
        fl_buf_reset(&b);
        fl_value_to_json(fl_value_context_get(j, "variables", 9), &b);
        printf("  variables: %s\n", b.ptr);
        fl_buf_reset(&b);
        fl_value_to_json(fl_value_context_get(j, "headers", 7), &b);
        if (strcmp(b.ptr, "{}") != 0)
            printf("  headers: %s\n", b.ptr);
    }
    fl_buf_release(&b);
}

static void human_job_list(const struct fl_value *doc)
{
    const struct fl_value *items = fl_value_context_get(doc, "items", 5);
    struct cli_table t;
    char id[24], inst[24], retries[24];
    cli_table_init(&t, 8, "ID", "TYPE", "STATUS", "INSTANCE", "NODE", "RETRIES", "WORKER",
                   "DEADLINE");
    for (size_t i = 0; items && i < fl_value_list_len(items); i++) {
        const struct fl_value *j = fl_value_list_at(items, i);
        snprintf(id, sizeof(id), "%lld", vint(j, "id"));
        snprintf(inst, sizeof(inst), "%lld", vint(j, "instance_id"));
        snprintf(retries, sizeof(retries), "%lld", vint(j, "retries"));
        cli_table_add(&t, id, vstr(j, "type"), vstr(j, "status"), inst, vstr(j, "node_id"), retries,
                      vstr(j, "worker"), vstr(j, "deadline"));
    }
    if (cli_table_rows(&t))
        cli_table_print(&t, stdout, "");
    else
        printf("no jobs\n");
    cli_table_release(&t);
}

static void human_outcome(const struct fl_value *doc)
{
    const char *outcome = vstr(doc, "outcome");
    printf("job %lld: %s; instance %lld is %s%s\n", vint(doc, "id"),
           !strcmp(outcome, "incident") ? "failed, no retries left" : outcome,
           vint(doc, "instance_id"), vstr(doc, "instance_status"),
           fl_value_is_true(fl_value_context_get(doc, "incident", 8)) ? " (with an incident)" : "");
}

static void human_incidents(const struct fl_value *doc)
{
    const struct fl_value *items = fl_value_context_get(doc, "items", 5);
    size_t n = items ? fl_value_list_len(items) : 0;
    if (!n) {
        printf("no incidents\n");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct fl_value *x = fl_value_list_at(items, i);
        printf("incident %lld (%s) of instance %lld (%s) at '%s'%s: %s\n", vint(x, "id"),
               vstr(x, "state"), vint(x, "instance_id"), vstr(x, "process"),
               vstr(x, "node_id") ? vstr(x, "node_id") : "-",
               vint(x, "job_id") ? " (job failed)" : "", vstr(x, "message"));
    }
}

static void human_resolved(const struct fl_value *doc)
{
    printf("resolved incident %lld of instance %lld: '%s' retried\n", vint(doc, "id"),
           vint(doc, "instance_id"), vstr(doc, "node_id") ? vstr(doc, "node_id") : "-");
}

/* ---- jobs ---- */

static void add_vars(struct fl_buf *b, const struct fl_value *vars)
{
    if (!vars)
        return;
    fl_buf_adds(b, ",\"variables\":");
    fl_value_to_json(vars, b);
}

static int jobs_activate(struct cli_common *c, struct args *a, struct fl_buf *out,
                         struct fl_error *err)
{
    struct fl_job_activation req = {.type = a->type,
                                    .worker = a->worker ? a->worker : "cli",
                                    .max_jobs = a->max ? (size_t)a->max : 1,
                                    .lock_ms = a->timeout_ms ? a->timeout_ms : 300000,
                                    .request_timeout_ms = a->wait_ms,
                                    .fetch = a->fetch,
                                    .n_fetch = a->n_fetch};
    struct fl_activated_job *jobs = NULL;
    struct fl_service *svc = NULL;
    size_t n = 0;
    int rc;

    if ((rc = fl_job_activation_check(&req, err)) != 0)
        return rc;
    if (c->server) {
        struct fl_buf body = FL_BUF_INIT;
        fl_buf_adds(&body, "{");
        jstr(&body, "type", req.type, false);
        jstr(&body, "worker", req.worker, true);
        fl_buf_addf(&body, ",\"max_jobs\":%zu,\"timeout\":%lld,\"request_timeout\":%lld",
                    req.max_jobs, (long long)req.lock_ms, (long long)req.request_timeout_ms);
        if (a->n_fetch) {
            fl_buf_adds(&body, ",\"fetch_variables\":[");
            for (size_t i = 0; i < a->n_fetch; i++) {
                if (i)
                    fl_buf_addc(&body, ',');
                fl_json_cstring(&body, a->fetch[i]);
            }
            fl_buf_addc(&body, ']');
        }
        fl_buf_addc(&body, '}');
        rc = remote(c, "POST", "/api/v1/jobs/activate", &body, out, err);
        fl_buf_release(&body);
        return rc;
    }
    if ((rc = cli_db_require(c, err)) || (rc = cli_service_open(c, &svc, err)))
        return rc;
    rc = fl_service_jobs_activate_wait(svc, &req, &jobs, &n, err);
    fl_service_close(svc);
    if (rc)
        return rc;
    fl_buf_adds(out, "{\"jobs\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            fl_buf_addc(out, ',');
        json_job(out, &jobs[i].job);
        fl_buf_adds(out, ",\"variables\":");
        fl_buf_adds(out, jobs[i].variables_json);
        fl_buf_adds(out, ",\"headers\":");
        fl_buf_adds(out, jobs[i].headers_json);
        fl_buf_addc(out, '}');
    }
    fl_buf_adds(out, "]}");
    fl_activated_jobs_free(jobs, n);
    return 0;
}

/* complete (verb 1), fail (2), throw-error (3) */
static int jobs_act(struct cli_common *c, int verb, struct args *a, struct fl_buf *out,
                    struct fl_error *err)
{
    static const char *const paths[] = {NULL, "complete", "fail", "throw-error"};
    struct fl_command cmd = {.target_id = a->id, .actor = a->worker, .variables = a->vars};
    struct fl_result res;
    char path[128];
    int rc;

    if (verb == 2 && !a->retries_set)
        return fl_error_set(err, FL_EUSAGE, "fail needs --retries N (0 raises an incident)");
    if (c->server) {
        struct fl_buf body = FL_BUF_INIT;
        fl_buf_addc(&body, '{');
        jstr(&body, "worker", a->worker, false);
        add_vars(&body, a->vars);
        if (verb == 2) {
            fl_buf_addf(&body, ",\"retries\":%lld,\"retry_backoff\":%lld", (long long)a->retries,
                        (long long)a->backoff_ms);
            if (a->error)
                jstr(&body, "error_message", a->error, true);
        } else if (verb == 3) {
            jstr(&body, "error_code", a->code, true);
            if (a->message)
                jstr(&body, "error_message", a->message, true);
        }
        fl_buf_addc(&body, '}');
        snprintf(path, sizeof(path), "/api/v1/jobs/%llu/%s", (unsigned long long)a->id,
                 paths[verb]);
        rc = remote(c, "POST", path, &body, out, err);
        fl_buf_release(&body);
        return rc;
    }
    cmd.kind = verb == 1 ? FL_CMD_COMPLETE_JOB : verb == 2 ? FL_CMD_FAIL_JOB : FL_CMD_THROW_ERROR;
    cmd.retries = (int)a->retries;
    cmd.retry_backoff_ms = a->backoff_ms;
    cmd.error_message = verb == 2 ? a->error : a->message;
    cmd.error_code = a->code;
    if ((rc = local_run(c, &cmd, &res, err)) != 0)
        return rc;
    json_outcome(out, a->id,
                 verb == 1      ? "completed"
                 : verb == 3    ? "error_thrown"
                 : res.incident ? "incident"
                                : "failed",
                 &res);
    return 0;
}

static int jobs_list(struct cli_common *c, struct args *a, struct fl_buf *out, struct fl_error *err)
{
    struct fl_job_query q = {
        .type = a->type, .status = -1, .instance_id = a->instance_id, .limit = 1000};
    struct fl_job_row *rows = NULL;
    struct fl_store *s = NULL;
    size_t n = 0;
    int rc;
    if (a->status && fl_job_status_parse(a->status, &q.status) != 0)
        return fl_error_set(err, FL_EUSAGE, "--status '%s': open, completed or failed", a->status);
    if (c->server) {
        struct fl_buf path = FL_BUF_INIT;
        fl_buf_adds(&path, "/api/v1/jobs?limit=1000");
        if (a->type) {
            fl_buf_adds(&path, "&type=");
            cli_url_escape(&path, a->type);
        }
        if (a->status)
            fl_buf_addf(&path, "&status=%s", a->status);
        if (a->instance_id)
            fl_buf_addf(&path, "&instance_id=%llu", (unsigned long long)a->instance_id);
        rc = remote(c, "GET", path.ptr, NULL, out, err);
        fl_buf_release(&path);
        return rc;
    }
    if ((rc = cli_store_open_ro(c, &s, err)) != 0)
        return rc;
    rc = fl_store_job_list(s, &q, &rows, &n, err);
    fl_store_close(s);
    if (rc)
        return rc;
    fl_buf_adds(out, "{\"items\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            fl_buf_addc(out, ',');
        json_job(out, &rows[i]);
        fl_buf_addc(out, '}');
    }
    fl_buf_adds(out, "]}");
    fl_job_rows_free(rows, n);
    return 0;
}

static int run_jobs(const struct cli_command *command, int argc, char **argv)
{
    static const char *const verbs[] = {"activate", "complete", "fail", "throw-error", "list"};
    static const char *const ops[] = {"TYPE", "ID", "ID", "ID CODE", ""};
    struct cli_common c;
    struct args a;
    struct fl_buf out = FL_BUF_INIT;
    struct fl_error err;
    int ex, v, rc;

    if ((ex = cli_common_init(&c, command)))
        return ex;
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            cli_print_usage(command, stdout);
            return 0;
        }
        return cli_usage_error(&c, "missing subcommand");
    }
    for (v = 0; v < 5 && strcmp(argv[1], verbs[v]); v++)
        ;
    if (v == 5)
        return cli_usage_error(&c, "unknown subcommand '%s'", argv[1]);
    memset(&a, 0, sizeof(a));
    fl_error_clear(&err);
    if ((ex = parse(&c, argc - 1, argv + 1, ops[v], &a)) != -1)
        goto out;
    if (v == 0)
        rc = jobs_activate(&c, &a, &out, &err);
    else if (v == 4)
        rc = jobs_list(&c, &a, &out, &err);
    else
        rc = jobs_act(&c, v, &a, &out, &err);
    if (rc)
        ex = cli_fail(rc, &err);
    else
        ex = print_answer(&c, &out, v == 0 ? human_jobs : v == 4 ? human_job_list : human_outcome);
out:
    fl_value_unref(a.vars);
    fl_buf_release(&out);
    return ex;
}

/* ---- incidents ---- */

static int incidents_list(struct cli_common *c, struct args *a, struct fl_buf *out,
                          struct fl_error *err)
{
    struct fl_incident_query q = {
        .open_only = !a->all, .instance_id = a->instance_id, .limit = 1000};
    struct fl_incident_row *rows = NULL;
    struct fl_store *s = NULL;
    size_t n = 0;
    int rc;
    if (c->server) {
        char path[128];
        snprintf(path, sizeof(path), "/api/v1/incidents?limit=1000&state=%s%s%llu",
                 a->all ? "all" : "open",
                 a->instance_id ? "&instance_id=" : "&after=", (unsigned long long)a->instance_id);
        return remote(c, "GET", path, NULL, out, err);
    }
    if ((rc = cli_store_open_ro(c, &s, err)) != 0)
        return rc;
    rc = fl_store_incident_list(s, &q, &rows, &n, err);
    fl_store_close(s);
    if (rc)
        return rc;
    fl_buf_adds(out, "{\"items\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            fl_buf_addc(out, ',');
        json_incident(out, &rows[i]);
    }
    fl_buf_adds(out, "]}");
    fl_incident_rows_free(rows, n);
    return 0;
}

static int incidents_resolve(struct cli_common *c, struct args *a, struct fl_buf *out,
                             struct fl_error *err)
{
    struct fl_command cmd = {.kind = FL_CMD_RESOLVE, .variables = a->vars};
    struct fl_incident_row inc;
    struct fl_store *s = NULL;
    struct fl_result res;
    int rc;
    if (c->server) {
        struct fl_buf body = FL_BUF_INIT;
        char path[128];
        fl_buf_addf(&body, "{\"retries\":%lld", (long long)a->retries);
        add_vars(&body, a->vars);
        fl_buf_addc(&body, '}');
        snprintf(path, sizeof(path), "/api/v1/incidents/%llu/resolve", (unsigned long long)a->id);
        rc = remote(c, "POST", path, &body, out, err);
        fl_buf_release(&body);
        return rc;
    }
    if ((rc = cli_store_open_ro(c, &s, err)) != 0)
        return rc;
    rc = fl_store_incident_get(s, a->id, &inc, err);
    fl_store_close(s);
    if (rc)
        return rc;
    if (inc.resolved_at) {
        fl_incident_row_release(&inc);
        return fl_error_set(err, FL_ECONFLICT, "incident %llu is already resolved",
                            (unsigned long long)a->id);
    }
    cmd.instance_id = inc.instance_id;
    cmd.target_id = inc.token_id;
    cmd.retries = (int)a->retries;
    cmd.actor = getenv("USER");
    fl_incident_row_release(&inc);
    if ((rc = local_run(c, &cmd, &res, err)) != 0)
        return rc;
    if ((rc = cli_store_open_ro(c, &s, err)) != 0)
        return rc;
    rc = fl_store_incident_get(s, a->id, &inc, err);
    fl_store_close(s);
    if (rc)
        return rc;
    json_incident(out, &inc);
    fl_incident_row_release(&inc);
    return 0;
}

static int run_incidents(const struct cli_command *command, int argc, char **argv)
{
    struct cli_common c;
    struct args a;
    struct fl_buf out = FL_BUF_INIT;
    struct fl_error err;
    bool resolve = argc >= 2 && !strcmp(argv[1], "resolve");
    int ex, rc;

    if ((ex = cli_common_init(&c, command)))
        return ex;
    memset(&a, 0, sizeof(a));
    fl_error_clear(&err);
    /* "flowd incidents" alone lists, as "flowd incidents list" does */
    if (argc >= 2 && (resolve || !strcmp(argv[1], "list")))
        argc--, argv++;
    else if (argc >= 2 && argv[1][0] != '-')
        return cli_usage_error(&c, "unknown subcommand '%s'", argv[1]);
    if ((ex = parse(&c, argc, argv, resolve ? "ID" : "", &a)) != -1)
        goto out;
    rc = resolve ? incidents_resolve(&c, &a, &out, &err) : incidents_list(&c, &a, &out, &err);
    if (rc)
        ex = cli_fail(rc, &err);
    else
        ex = print_answer(&c, &out, resolve ? human_resolved : human_incidents);
out:
    fl_value_unref(a.vars);
    fl_buf_release(&out);
    return ex;
}

const struct cli_command cli_cmd_jobs = {
    "jobs", run_jobs, "activate, complete, fail or throw an error on jobs (service tasks)",
    jobs_usage};

const struct cli_command cli_cmd_incidents = {
    "incidents", run_incidents, "list incidents and resolve them (retry the stuck node)",
    incidents_usage};
