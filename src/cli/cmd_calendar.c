/* `flowd calendar`: list, show, set and delete the business calendars stage deadlines run
 * on. Like the people commands it works on the database directly (next to a running
 * server: the server's writer notices the change through the calendar revision). A
 * calendar is validated before it is stored; a bad one names the field and changes
 * nothing. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/people.h"
#include "flowd/calendar.h"
#include "flowd/value.h"

#define MAX_CALENDAR_BYTES ((size_t)1 << 20)

static const char calendar_usage[] =
    "usage: flowd calendar list\n"
    "       flowd calendar show NAME\n"
    "       flowd calendar set NAME FILE.json   (FILE '-' reads standard input)\n"
    "       flowd calendar delete NAME\n\n"
    "Business calendars: working hours per weekday in a time zone, holidays and moved\n"
    "working days (format: docs/calendars.md). A stage with calendar=\"NAME\" counts its\n"
    "duration in working time on it (P3D = three working days, PT4H = four working hours).\n"
    "\"default\" is Monday to Friday 09:00-18:00 UTC until a calendar of that name is set;\n"
    "deleting it brings that back.\n";

static int no_options(struct cli_common *c, int argc, char **argv, int n_args, const char *what)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = cli_getopt(c, argc, argv, longopts)) != CLI_GETOPT_END)
        return opt == CLI_GETOPT_HELP ? 0 : 1;
    if (argc - optind < n_args)
        return cli_usage_error(c, "calendar %s needs %s", argv[0], what);
    if (argc - optind > n_args)
        return cli_usage_error(c, "unexpected argument '%s'", argv[optind + n_args]);
    return -1;
}

static const struct fl_value *field(const struct fl_value *v, const char *key)
{
    return fl_value_context_get(v, key, strlen(key));
}

/* "09:00-13:00,14:00-18:00" of a canonical hours list. */
static void hours_text(const struct fl_value *h, struct fl_buf *b)
{
    for (size_t i = 0; i < fl_value_list_len(h); i++) {
        const struct fl_value *sp = fl_value_list_at(h, i);
        fl_buf_addf(b, "%s%s-%s", i ? "," : "", fl_value_str(field(sp, "start"), NULL),
                    fl_value_str(field(sp, "end"), NULL));
    }
    if (fl_value_list_len(h) == 0)
        fl_buf_adds(b, "-");
}

static void print_human(const char *json, bool builtin)
{
    static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    struct fl_value *v = NULL;
    const struct fl_value *l;
    struct fl_buf b = FL_BUF_INIT;
    if (fl_value_from_json(json, strlen(json), &v, NULL) != 0) {
        puts(json);
        return;
    }
    printf("calendar: %s%s\n", fl_value_str(field(v, "name"), NULL), builtin ? " (built in)" : "");
    printf("zone:     %s\n", fl_value_str(field(v, "zone"), NULL));
    for (size_t d = 0; d < 7; d++) {
        fl_buf_reset(&b);
        hours_text(field(field(v, "week"), days[d]), &b);
        printf("%s:      %s\n", days[d], b.ptr);
    }
    if ((l = field(v, "years"))) {
        int64_t from = 0, to = 0;
        fl_value_to_int64(field(l, "from"), &from);
        fl_value_to_int64(field(l, "to"), &to);
        printf("years:    %lld-%lld\n", (long long)from, (long long)to);
    }
    l = field(v, "holidays");
    printf("holidays: %zu\n", fl_value_list_len(l));
    for (size_t i = 0; i < fl_value_list_len(l); i++) {
        const struct fl_value *h = fl_value_list_at(l, i);
        const struct fl_value *n = field(h, "name");
        printf("  %s%s%s\n", fl_value_str(field(h, "date"), NULL), n ? "  " : "",
               n ? fl_value_str(n, NULL) : "");
    }
    l = field(v, "working_days");
    printf("working days: %zu\n", fl_value_list_len(l));
    for (size_t i = 0; i < fl_value_list_len(l); i++) {
        const struct fl_value *w = fl_value_list_at(l, i);
        const struct fl_value *n = field(w, "name");
        fl_buf_reset(&b);
        hours_text(field(w, "hours"), &b);
        printf("  %s %s%s%s\n", fl_value_str(field(w, "date"), NULL), b.ptr, n ? "  " : "",
               n ? fl_value_str(n, NULL) : "");
    }
    fl_buf_release(&b);
    fl_value_unref(v);
}

static char *builtin_json(void)
{
    struct fl_calendar *cal = fl_calendar_builtin();
    struct fl_buf b = FL_BUF_INIT;
    fl_calendar_to_json(cal, &b);
    fl_calendar_free(cal);
    return fl_buf_detach(&b, NULL);
}

static int calendar_list(struct cli_common *c, int argc, char **argv)
{
    struct fl_calendar_row *rows = NULL;
    struct fl_store *s = NULL;
    struct fl_error err;
    struct cli_table t;
    struct cli_json j;
    size_t n = 0;
    bool has_default = false;
    int rc;

    if ((rc = no_options(c, argc, argv, 0, "")) >= 0)
        return rc;
    fl_error_clear(&err);
    if ((rc = cli_people_open(c, &s, &err)) == 0)
        rc = fl_store_calendar_list(s, &rows, &n, &err);
    fl_store_close(s);
    if (rc)
        return cli_fail(rc, &err);
    for (size_t i = 0; i < n; i++)
        has_default |= !strcmp(rows[i].name, FL_CALENDAR_DEFAULT);
    if (c->json) {
        cli_json_init(&j);
        cli_json_object(&j, NULL);
        cli_json_array(&j, "calendars");
        if (!has_default) {
            char *def = builtin_json();
            cli_json_raw(&j, NULL, def);
            free(def);
        }
        for (size_t i = 0; i < n; i++)
            cli_json_raw(&j, NULL, rows[i].json);
        cli_json_end(&j);
        cli_json_end(&j);
        fl_calendar_rows_free(rows, n);
        return cli_json_emit(&j);
    }
    cli_table_init(&t, 4, "NAME", "ZONE", "HOLIDAYS", "UPDATED");
    if (!has_default)
        cli_table_add(&t, FL_CALENDAR_DEFAULT, "UTC", "0", "built in");
    for (size_t i = 0; i < n; i++) {
        struct fl_value *v = NULL;
        char count[24] = "?", when[40];
        const char *zone = "?";
        if (fl_value_from_json(rows[i].json, strlen(rows[i].json), &v, NULL) == 0) {
            zone = fl_value_str(field(v, "zone"), NULL);
            snprintf(count, sizeof(count), "%zu", fl_value_list_len(field(v, "holidays")));
        }
        cli_table_add(&t, rows[i].name, zone, count, cli_time(rows[i].updated_at, false, when));
        fl_value_unref(v);
    }
    cli_table_print(&t, stdout, "");
    cli_table_release(&t);
    fl_calendar_rows_free(rows, n);
    return 0;
}

static int calendar_show(struct cli_common *c, int argc, char **argv)
{
    struct fl_calendar_row row = {0};
    struct fl_store *s = NULL;
    struct fl_error err;
    char *def = NULL;
    const char *json;
    int rc;

    if ((rc = no_options(c, argc, argv, 1, "a NAME")) >= 0)
        return rc;
    fl_error_clear(&err);
    if ((rc = cli_people_open(c, &s, &err)) == 0)
        rc = fl_store_calendar_get(s, argv[optind], &row, &err);
    fl_store_close(s);
    if (rc == FL_ENOTFOUND && !strcmp(argv[optind], FL_CALENDAR_DEFAULT)) {
        def = builtin_json();
        rc = 0;
    }
    if (rc)
        return cli_fail(rc, &err);
    json = def ? def : row.json;
    if (c->json)
        puts(json);
    else
        print_human(json, def != NULL);
    free(def);
    fl_calendar_row_release(&row);
    return 0;
}

static int calendar_set(struct cli_common *c, int argc, char **argv)
{
    struct fl_store *s = NULL;
    struct fl_error err;
    char *text = NULL;
    size_t len = 0;
    int rc;

    if ((rc = no_options(c, argc, argv, 2, "a NAME and a FILE.json")) >= 0)
        return rc;
    fl_error_clear(&err);
    rc = cli_read_file(argv[optind + 1], MAX_CALENDAR_BYTES, &text, &len, &err);
    if (rc == 0)
        rc = cli_people_open(c, &s, &err);
    if (rc == 0)
        rc = fl_store_calendar_put(s, argv[optind], text, len, c->now_ms, &err);
    fl_store_close(s);
    free(text);
    /* calendar messages name their field already; the formatter would say it twice */
    if (rc && strstr(err.msg, "field '"))
        err.field[0] = '\0';
    if (rc)
        return cli_fail(rc, &err);
    if (c->json) {
        struct cli_json j;
        cli_json_init(&j);
        cli_json_object(&j, NULL);
        cli_json_str(&j, "calendar", argv[optind]);
        cli_json_bool(&j, "stored", true);
        cli_json_end(&j);
        return cli_json_emit(&j);
    }
    printf("calendar '%s' stored\n", argv[optind]);
    return 0;
}

static int calendar_delete(struct cli_common *c, int argc, char **argv)
{
    struct fl_store *s = NULL;
    struct fl_error err;
    int rc;

    if ((rc = no_options(c, argc, argv, 1, "a NAME")) >= 0)
        return rc;
    fl_error_clear(&err);
    if ((rc = cli_people_open(c, &s, &err)) == 0)
        rc = fl_store_calendar_delete(s, argv[optind], &err);
    fl_store_close(s);
    if (rc)
        return cli_fail(rc, &err);
    if (c->json) {
        struct cli_json j;
        cli_json_init(&j);
        cli_json_object(&j, NULL);
        cli_json_str(&j, "calendar", argv[optind]);
        cli_json_bool(&j, "deleted", true);
        cli_json_end(&j);
        return cli_json_emit(&j);
    }
    printf("calendar '%s' deleted%s\n", argv[optind],
           strcmp(argv[optind], FL_CALENDAR_DEFAULT) ? "" : " (the built-in default applies)");
    return 0;
}

static int run_calendar(const struct cli_command *cmd, int argc, char **argv)
{
    static const char *const verbs[] = {"list", "show", "set", "delete"};
    struct cli_common c;
    int ex, v;
    if ((ex = cli_common_init(&c, cmd)))
        return ex;
    v = cli_people_verb(&c, argc, argv, verbs, 4);
    if (v < 0)
        return v == -2 ? 0 : 1;
    switch (v) {
    case 0:
        return calendar_list(&c, argc - 1, argv + 1);
    case 1:
        return calendar_show(&c, argc - 1, argv + 1);
    case 2:
        return calendar_set(&c, argc - 1, argv + 1);
    default:
        return calendar_delete(&c, argc - 1, argv + 1);
    }
}

const struct cli_command cli_cmd_calendar = {
    "calendar", run_calendar, "list, show, set, delete business calendars", calendar_usage};
