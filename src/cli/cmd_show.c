/* `flowd show INSTANCE_ID`: one case in full, read-only: its state, variables, open tasks,
 * incidents and history, as a person reads it or as one JSON document. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "flowd/engine.h"

static const char show_usage[] =
    "usage: flowd show [options] INSTANCE_ID\n\n"
    "Show an instance (a case): its state, variables, open tasks, control points and\n"
    "history.\n";

static const char *event_name(int type)
{
    if (type < 0 || type >= FL__EV_COUNT)
        return "unknown";
    return fl_event_type_name((enum fl_event_type)type);
}

/* Variables one per line, each value as JSON (exact numbers, quoted strings). */
static void print_variables(const char *json)
{
    struct fl_value *v = NULL;
    struct fl_buf b = FL_BUF_INIT;
    size_t n;

    if (!json || fl_value_from_json(json, strlen(json), &v, NULL) != 0 ||
        fl_value_type(v) != FL_VCONTEXT) {
        printf("variables: %s\n", json ? json : "{}");
        goto out;
    }
    n = fl_value_context_len(v);
    if (n == 0) {
        printf("variables: none\n");
        goto out;
    }
    printf("variables:\n");
    for (size_t i = 0; i < n; i++) {
        size_t klen;
        const char *key = fl_value_context_key(v, i, &klen);
        fl_buf_reset(&b);
        fl_value_to_json(fl_value_context_val(v, i), &b);
        printf("  %.*s = %s\n", (int)klen, key, b.ptr);
    }
out:
    fl_buf_release(&b);
    fl_value_unref(v);
}

/* The incidents of the history, the reason a case is stuck, before the history itself. */
static void print_incidents(const struct fl_event_row *rows, size_t n)
{
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        char *msg;
        if (rows[i].type != FL_EV_INCIDENT_RAISED)
            continue;
        if (!any)
            printf("incidents:\n");
        any = true;
        msg = cli_incident_message(rows[i].detail);
        printf("  at '%s': %s\n", rows[i].node_id ? rows[i].node_id : "?", msg);
        free(msg);
    }
}

static void print_history(const struct fl_event_row *rows, size_t n)
{
    struct cli_table t;
    char seq[24], at[40];

    cli_table_init(&t, 6, "SEQ", "AT", "EVENT", "NODE", "ACTOR", "DETAIL");
    for (size_t i = 0; i < n; i++) {
        snprintf(seq, sizeof(seq), "%llu", (unsigned long long)rows[i].seq);
        cli_table_add(&t, seq, cli_time(rows[i].at, false, at), event_name(rows[i].type),
                      rows[i].node_id, rows[i].actor, rows[i].detail);
    }
    printf("history:\n");
    cli_table_print(&t, stdout, "  ");
    cli_table_release(&t);
}

static void json_history(struct cli_json *j, const struct fl_event_row *rows, size_t n)
{
    cli_json_array(j, "history");
    for (size_t i = 0; i < n; i++) {
        cli_json_object(j, NULL);
        cli_json_uint(j, "seq", rows[i].seq);
        cli_json_time(j, "at", rows[i].at);
        cli_json_str(j, "type", event_name(rows[i].type));
        cli_json_str(j, "node_id", rows[i].node_id);
        cli_json_uint(j, "token_id", rows[i].token_id);
        cli_json_uint(j, "ref_id", rows[i].ref_id);
        cli_json_str(j, "actor", rows[i].actor);
        cli_json_raw(j, "detail", rows[i].detail);
        cli_json_end(j);
    }
    cli_json_end(j);
}

static int run_show(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
    struct cli_common c;
    struct fl_error err;
    struct fl_store *s = NULL;
    struct fl_instance_row inst;
    struct fl_event_row *events = NULL;
    struct cli_json j;
    bool have_inst = false, json_open = false;
    uint64_t id;
    size_t n_events = 0, n_incidents;
    char tb[40];
    int rc = 0, opt, ex;

    if ((ex = cli_common_init(&c, cmd)))
        return ex;
    if ((opt = cli_getopt(&c, argc, argv, longopts)) != CLI_GETOPT_END)
        return opt == CLI_GETOPT_HELP ? 0 : 1;
    if (optind == argc)
        return cli_usage_error(&c, "missing INSTANCE_ID");
    if (optind != argc - 1)
        return cli_usage_error(&c, "unexpected argument '%s'", argv[optind + 1]);
    fl_error_clear(&err);
    if ((rc = cli_parse_id(argv[optind], "instance", &id, &err)))
        return cli_fail(rc, &err);

    memset(&inst, 0, sizeof(inst));
    if ((rc = cli_store_open_ro(&c, &s, &err)))
        goto out;
    if ((rc = fl_store_instance_get(s, id, &inst, &err))) {
        if (rc == FL_ENOTFOUND)
            fl_error_set(&err, rc, "instance %llu not found", (unsigned long long)id);
        goto out;
    }
    have_inst = true;
    if ((rc = fl_store_history(s, id, &events, &n_events, &err)))
        goto out;

    if (c.json) {
        cli_json_init(&j);
        json_open = true;
        cli_json_object(&j, NULL);
        cli_json_instance(&j, "instance", &inst, true);
        if ((rc = cli_json_open_tasks(s, &j, id, c.now_ms, &err)) ||
            (rc = cli_print_controls(s, id, c.now_ms, &j, &err)) ||
            (rc = cli_incidents(s, &inst, 0, &j, &n_incidents, &err)))
            goto out;
        json_history(&j, events, n_events);
        cli_json_end(&j);
        json_open = false;
        rc = cli_json_emit(&j);
        goto out;
    }
    printf("instance %llu of %s version %d\n", (unsigned long long)inst.id,
           inst.process_key ? inst.process_key : "?", (int)inst.version);
    printf("business key: %s\n", inst.business_key ? inst.business_key : "-");
    printf("status: %s%s\n", cli_instance_status_name(inst.status),
           inst.incident ? ", incident" : "");
    printf("started: %s\n", cli_time(inst.started_at, false, tb));
    printf("ended: %s\n", cli_time(inst.ended_at, false, tb));
    print_variables(inst.variables_json);
    if ((rc = cli_print_open_tasks(s, id, c.now_ms, &err)) ||
        (rc = cli_print_controls(s, id, c.now_ms, NULL, &err)))
        goto out;
    print_incidents(events, n_events);
    print_history(events, n_events);
out:
    if (json_open)
        fl_buf_release(&j.buf);
    if (events)
        fl_event_rows_free(events, n_events);
    if (have_inst)
        fl_instance_row_release(&inst);
    fl_store_close(s);
    return rc ? cli_fail(rc, &err) : 0;
}

const struct cli_command cli_cmd_show = {
    "show", run_show, "show an instance: state, variables, tasks, history", show_usage};
