/* `flowd notifications`: a user's in-app inbox read straight from the store (reminders,
 * overdue tasks, escalations the scheduler wrote), oldest first, optionally only the
 * unread ones; --read ID marks one read. Whose inbox: --user, else $FLOWD_USER. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char notifications_usage[] =
    "usage: flowd notifications [--user LOGIN] [--unread] [--read ID]\n\n"
    "List the notifications of a user (--user, else $FLOWD_USER), oldest first: reminders,\n"
    "overdue tasks and escalations written when their timers fired.\n\n"
    "options:\n"
    "  --user LOGIN   whose inbox\n"
    "  --unread       only those not read yet\n"
    "  --read ID      mark notification ID of that user read (exit 2 when it is not theirs)\n";

enum { OPT_USER = CLI_OPT_CMD, OPT_UNREAD, OPT_READ };

static int mark_read(const struct cli_common *c, const char *user, uint64_t id)
{
    struct fl_store_options so = {.create = false};
    struct fl_store *s = NULL;
    struct fl_error err;
    int rc;
    fl_error_clear(&err);
    if ((rc = cli_db_require(c, &err)) == 0 && (rc = fl_store_open(c->db, &so, &s, &err)) == 0)
        rc = fl_store_notification_read(s, user, id, c->now_ms, &err);
    fl_store_close(s);
    if (rc)
        return cli_fail(rc, &err);
    if (c->json)
        printf("{\"id\":%llu,\"read\":true}\n", (unsigned long long)id);
    else
        printf("notification %llu read\n", (unsigned long long)id);
    return 0;
}

static int run_notifications(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
                                             {"user", required_argument, NULL, OPT_USER},
                                             {"unread", no_argument, NULL, OPT_UNREAD},
                                             {"read", required_argument, NULL, OPT_READ},
                                             {NULL, 0, NULL, 0}};
    struct fl_notification_query q = {.limit = CLI_PAGE_ROWS};
    struct cli_common c;
    struct fl_error err;
    struct fl_store *s = NULL;
    struct cli_table t;
    struct cli_json j;
    const char *read_id = NULL;
    uint64_t id = 0;
    size_t total = 0;
    int rc = 0, opt, ex;

    if ((ex = cli_common_init(&c, cmd)))
        return ex;
    fl_error_clear(&err);
    q.user = getenv("FLOWD_USER");
    while ((opt = cli_getopt(&c, argc, argv, longopts)) != CLI_GETOPT_END) {
        switch (opt) {
        case OPT_USER:
            q.user = optarg;
            break;
        case OPT_UNREAD:
            q.unread_only = true;
            break;
        case OPT_READ:
            read_id = optarg;
            break;
        default:
            return opt == CLI_GETOPT_HELP ? 0 : 1;
        }
    }
    if (optind != argc)
        return cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
    if (!q.user || !*q.user)
        return cli_usage_error(&c, "whose notifications? give --user LOGIN or set FLOWD_USER");
    if (read_id) {
        if ((rc = cli_parse_id(read_id, "notification", &id, &err)))
            return cli_fail(rc, &err);
        return mark_read(&c, q.user, id);
    }
    if ((rc = cli_store_open_ro(&c, &s, &err)))
        return cli_fail(rc, &err);
    if (c.json) {
        cli_json_init(&j);
        cli_json_object(&j, NULL);
        cli_json_array(&j, "notifications");
    } else {
        cli_table_init(&t, 6, "ID", "AT", "KIND", "INSTANCE", "READ", "MESSAGE");
    }
    for (;;) {
        struct fl_notification_row *rows = NULL;
        size_t n = 0;
        if ((rc = fl_store_notification_list(s, &q, &rows, &n, &err)))
            break;
        for (size_t i = 0; i < n; i++) {
            const struct fl_notification_row *r = &rows[i];
            char at[40], idb[24], inst[24];
            if (c.json) {
                cli_json_object(&j, NULL);
                cli_json_uint(&j, "id", r->id);
                cli_json_str(&j, "kind", r->kind);
                cli_json_str(&j, "message", r->message);
                if (r->instance_id)
                    cli_json_uint(&j, "instance_id", r->instance_id);
                else
                    cli_json_null(&j, "instance_id");
                if (r->task_id)
                    cli_json_uint(&j, "task_id", r->task_id);
                else
                    cli_json_null(&j, "task_id");
                cli_json_str(&j, "node_id", r->node_id);
                cli_json_time(&j, "created_at", r->created_at);
                cli_json_time(&j, "read_at", r->read_at);
                cli_json_end(&j);
            } else {
                snprintf(idb, sizeof(idb), "%llu", (unsigned long long)r->id);
                snprintf(inst, sizeof(inst), "%llu", (unsigned long long)r->instance_id);
                cli_table_add(&t, idb, cli_time(r->created_at, false, at), r->kind,
                              r->instance_id ? inst : "-", r->read_at ? "yes" : "no", r->message);
            }
        }
        total += n;
        if (n)
            q.after_id = rows[n - 1].id;
        fl_notification_rows_free(rows, n);
        if (n == 0)
            break;
    }
    if (c.json) {
        cli_json_end(&j);
        cli_json_end(&j);
        if (rc)
            fl_buf_release(&j.buf);
        else
            rc = cli_json_emit(&j);
    } else {
        if (!rc && total == 0)
            fputs(q.unread_only ? "no unread notifications\n" : "no notifications\n", stdout);
        else if (!rc)
            cli_table_print(&t, stdout, "");
        cli_table_release(&t);
    }
    fl_store_close(s);
    return rc ? cli_fail(rc, &err) : 0;
}

const struct cli_command cli_cmd_notifications = {
    "notifications", run_notifications, "list a user's notifications (reminders, escalations)",
    notifications_usage};
