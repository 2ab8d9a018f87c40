/* `flowd control`: the dated obligations on cases (offer expiry, invoice due date, next
 * contact...). `list` reads the store (open ones across all cases, or only the overdue
 * ones, or one case's); `set` and `clear` go through the service as FL_CMD_SET_CONTROL,
 * so the timers that remind and escalate move with them. Also the control point lines of
 * `flowd show`. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_source.h"
#include "cli/people.h"
#include "flowd/alloc.h"
#include "flowd/control.h"

static const char control_usage[] =
    "usage: flowd control list [--overdue] [--all] [--instance ID]\n"
    "       flowd control set INSTANCE_ID NAME DUE [--remind DURATION] [--as USER]\n"
    "       flowd control clear INSTANCE_ID NAME [--as USER]\n\n"
    "Control points are dated obligations on a case (offer expiry, invoice due date,\n"
    "event date, next contact). They remind and escalate like a task's deadline.\n\n"
    "list     open control points of every case (--all: done ones too; --overdue: only\n"
    "         those past their due time; --instance: one case)\n"
    "set      set or move one: DUE is a date (2026-12-31), a date and time with Z or an\n"
    "         offset (2026-12-31T17:00:00Z), or a duration from now (P14D)\n"
    "clear    it is met or no longer due: its reminders and escalations are cancelled\n\n"
    "options:\n"
    "  --remind DURATION  remind this long before DUE (default: as the model defines a\n"
    "                     control point of that name; PT0S: no reminder)\n"
    "  --as USER          who sets or clears it\n";

enum { OPT_OVERDUE = CLI_OPT_CMD, OPT_ALL, OPT_INSTANCE, OPT_REMIND, OPT_AS };

static const char *state_of(const struct fl_control_row *r, int64_t now)
{
    if (r->done_at)
        return "done";
    return r->due_at <= now ? "overdue" : "open";
}

static void json_control(struct cli_json *j, const struct fl_control_row *r, int64_t now)
{
    cli_json_object(j, NULL);
    cli_json_uint(j, "id", r->id);
    cli_json_uint(j, "instance_id", r->instance_id);
    cli_json_str(j, "name", r->name);
    cli_json_str(j, "process_key", r->process_key);
    cli_json_str(j, "business_key", r->business_key);
    cli_json_str(j, "state", state_of(r, now));
    cli_json_time(j, "due_at", r->due_at);
    cli_json_time(j, "remind_at", r->remind_at);
    cli_json_time(j, "set_at", r->set_at);
    cli_json_time(j, "done_at", r->done_at);
    cli_json_end(j);
}

static void table_init(struct cli_table *t)
{
    cli_table_init(t, 7, "ID", "INSTANCE", "PROCESS", "NAME", "DUE", "REMIND", "STATE");
}

static void table_add(struct cli_table *t, const struct fl_control_row *r, int64_t now)
{
    char id[24], inst[24], due[40], remind[40];
    snprintf(id, sizeof(id), "%llu", (unsigned long long)r->id);
    snprintf(inst, sizeof(inst), "%llu", (unsigned long long)r->instance_id);
    cli_table_add(t, id, inst, r->process_key, r->name, cli_time(r->due_at, false, due),
                  cli_time(r->remind_at, false, remind), state_of(r, now));
}

/* Every row of q, page by page (the store caps a page). */
static int list_all(struct fl_store *s, struct fl_control_query *q, struct fl_control_row **rows,
                    size_t *n, struct fl_error *err)
{
    size_t cap = 0;
    int rc = 0;
    *rows = NULL;
    *n = 0;
    q->limit = CLI_PAGE_ROWS;
    for (;;) {
        struct fl_control_row *page = NULL;
        size_t got = 0;
        if ((rc = fl_store_control_list(s, q, &page, &got, err)) != 0)
            break;
        if (got) {
            fl_grow(rows, &cap, *n + got, sizeof(**rows));
            memcpy(*rows + *n, page, got * sizeof(*page));
            *n += got;
            q->after_id = page[got - 1].id;
        }
        free(page); /* the strings moved into *rows */
        if (got < q->limit)
            break;
    }
    if (rc) {
        fl_control_rows_free(*rows, *n);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}

int cli_control_list_all(struct fl_store *s, uint64_t instance_id, struct fl_control_row **rows,
                         size_t *n, struct fl_error *err)
{
    struct fl_control_query q = {.instance_id = instance_id};
    return list_all(s, &q, rows, n, err);
}

int cli_print_controls(struct cli_source *src, uint64_t instance_id, int64_t now_ms,
                       struct cli_json *j, struct fl_error *err)
{
    struct fl_control_row *rows = NULL;
    struct cli_table t;
    size_t n = 0;
    int rc;

    if ((rc = src->ops->controls(src, instance_id, &rows, &n, err)) != 0)
        return rc;
    if (j) {
        cli_json_array(j, "control_points");
        for (size_t i = 0; i < n; i++)
            json_control(j, &rows[i], now_ms);
        cli_json_end(j);
    } else if (n == 0) {
        printf("control points: none\n");
    } else {
        table_init(&t);
        for (size_t i = 0; i < n; i++)
            table_add(&t, &rows[i], now_ms);
        printf("control points:\n");
        cli_table_print(&t, stdout, "  ");
        cli_table_release(&t);
    }
    fl_control_rows_free(rows, n);
    return 0;
}

static int control_list(struct cli_common *c, int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
                                             {"overdue", no_argument, NULL, OPT_OVERDUE},
                                             {"all", no_argument, NULL, OPT_ALL},
                                             {"instance", required_argument, NULL, OPT_INSTANCE},
                                             {NULL, 0, NULL, 0}};
    struct fl_control_query q = {.open_only = true};
    struct fl_control_row *rows = NULL;
    struct fl_store *s = NULL;
    struct fl_error err;
    size_t n = 0;
    int rc = 0, opt;

    fl_error_clear(&err);
    while ((opt = cli_getopt(c, argc, argv, longopts)) != CLI_GETOPT_END) {
        switch (opt) {
        case OPT_OVERDUE:
            q.overdue_at = c->now_ms;
            break;
        case OPT_ALL:
            q.open_only = false;
            break;
        case OPT_INSTANCE:
            if ((rc = cli_parse_id(optarg, "instance", &q.instance_id, &err)))
                return cli_fail(rc, &err);
            break;
        default:
            return opt == CLI_GETOPT_HELP ? 0 : 1;
        }
    }
    if (optind != argc)
        return cli_usage_error(c, "unexpected argument '%s'", argv[optind]);
    if ((rc = cli_store_open_ro(c, &s, &err)) || (rc = list_all(s, &q, &rows, &n, &err)))
        goto out;
    if (c->json) {
        struct cli_json j;
        cli_json_init(&j);
        cli_json_object(&j, NULL);
        cli_json_array(&j, "control_points");
        for (size_t i = 0; i < n; i++)
            json_control(&j, &rows[i], c->now_ms);
        cli_json_end(&j);
        cli_json_end(&j);
        rc = cli_json_emit(&j);
    } else if (n == 0) {
        printf("no %scontrol points\n", q.overdue_at ? "overdue " : q.open_only ? "open " : "");
    } else {
        struct cli_table t;
        table_init(&t);
        for (size_t i = 0; i < n; i++)
            table_add(&t, &rows[i], c->now_ms);
        cli_table_print(&t, stdout, "");
        cli_table_release(&t);
    }
out:
    fl_control_rows_free(rows, n);
    fl_store_close(s);
    return rc ? cli_fail(rc, &err) : 0;
}

/* set (due_text non-NULL) or clear control point name of an instance, then show it. */
static int control_change(struct cli_common *c, int argc, char **argv, bool set)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
                                             {"remind", required_argument, NULL, OPT_REMIND},
                                             {"as", required_argument, NULL, OPT_AS},
                                             {NULL, 0, NULL, 0}};
    struct fl_command cmd = {.kind = FL_CMD_SET_CONTROL};
    struct fl_service *svc = NULL;
    struct cli_source *src = NULL;
    struct fl_result res;
    struct fl_error err;
    const char *remind = NULL;
    int rc, opt, want = set ? 3 : 2;

    fl_error_clear(&err);
    while ((opt = cli_getopt(c, argc, argv, longopts)) != CLI_GETOPT_END) {
        switch (opt) {
        case OPT_REMIND:
            if (!set)
                return cli_usage_error(c, "--remind is for 'set'");
            remind = optarg;
            break;
        case OPT_AS:
            cmd.actor = optarg;
            break;
        default:
            return opt == CLI_GETOPT_HELP ? 0 : 1;
        }
    }
    if (argc - optind < want)
        return cli_usage_error(c, "missing %s",
                               argc - optind == 0   ? "INSTANCE_ID"
                               : argc - optind == 1 ? "NAME"
                                                    : "DUE");
    if (argc - optind > want)
        return cli_usage_error(c, "unexpected argument '%s'", argv[optind + want]);
    if ((rc = cli_parse_id(argv[optind], "instance", &cmd.instance_id, &err)) ||
        (rc = fl_control_name_check(argv[optind + 1], "NAME", &err)))
        return cli_fail(rc, &err);
    cmd.control_name = argv[optind + 1];
    cmd.control_remind_ms = -1;
    if (set && ((rc = fl_control_due_parse(argv[optind + 2], "DUE", c->now_ms, 0,
                                           &cmd.control_due_ms, &err)) ||
                (remind && (rc = fl_control_remind_parse(remind, "--remind", cmd.control_due_ms,
                                                         &cmd.control_remind_ms, &err)))))
        return cli_fail(rc, &err);
    if (set && cmd.control_due_ms <= 0) {
        fl_error_set(&err, FL_EINVAL, "DUE '%s' is before 1970", argv[optind + 2]);
        return cli_fail(FL_EINVAL, &err);
    }
    if ((rc = cli_db_require(c, &err)) || (rc = cli_service_open(c, &svc, &err)))
        return cli_fail(rc, &err);
    rc = cli_service_run(svc, &cmd, &res);
    fl_service_close(svc);
    if (rc)
        return cli_fail(rc, &res.err);
    if ((rc = cli_source_open(c, &src, &err)))
        return cli_fail(rc, &err);
    if (c->json) {
        struct cli_json j;
        cli_json_init(&j);
        cli_json_object(&j, NULL);
        cli_json_uint(&j, "instance_id", cmd.instance_id);
        rc = cli_print_controls(src, cmd.instance_id, c->now_ms, &j, &err);
        cli_json_end(&j);
        if (rc == 0)
            rc = cli_json_emit(&j);
        else
            fl_buf_release(&j.buf);
    } else {
        printf("%s control point '%s' of instance %llu\n", set ? "set" : "cleared",
               cmd.control_name, (unsigned long long)cmd.instance_id);
        rc = cli_print_controls(src, cmd.instance_id, c->now_ms, NULL, &err);
    }
    cli_source_close(src);
    return rc ? cli_fail(rc, &err) : 0;
}

static int run_control(const struct cli_command *command, int argc, char **argv)
{
    static const char *const verbs[] = {"list", "set", "clear"};
    struct cli_common c;
    int ex, v;
    if ((ex = cli_common_init(&c, command)))
        return ex;
    v = cli_people_verb(&c, argc, argv, verbs, 3);
    if (v < 0)
        return v == -2 ? 0 : 1;
    if (v == 0)
        return control_list(&c, argc - 1, argv + 1);
    return control_change(&c, argc - 1, argv + 1, v == 1);
}

const struct cli_command cli_cmd_control = {
    "control", run_control, "list, set and clear control points (dated obligations on cases)",
    control_usage};
