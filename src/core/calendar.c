/* Business calendars from and to JSON (see docs/calendars.md): every field is checked and
 * a bad one is reported by its path ("week.mon[1].end", "holidays[2].date") so the person
 * who wrote it can find it; the parsed form keeps dates as day numbers, sorted, so the
 * arithmetic in calendar_time.c looks a day up by binary search. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar_int.h"
#include "core/value_impl.h"
#include "flowd/alloc.h"
#include "flowd/value.h"
#include "util/intdiv.h"

#define MS_PER_DAY INT64_C(86400000)
#define NAME_MAX_LEN 64
#define LABEL_MAX_LEN 200

/* NULL-terminated for check_keys */
static const char *const day_keys[8] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun", NULL};

bool fl_calendar_name_valid(const char *name)
{
    size_t n;
    if (!name || !*name)
        return false;
    for (n = 0; name[n]; n++) {
        char ch = name[n];
        if (n >= NAME_MAX_LEN)
            return false;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '.' || ch == '_' || ch == '-')
            continue;
        return false;
    }
    return true;
}

/* Record a field error: code, message, and the field's path. Returns code. */
static int bad(struct fl_error *err, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad(struct fl_error *err, int code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fl_error_setv(err, code, fmt, ap);
    va_end(ap);
    if (err)
        snprintf(err->field, sizeof(err->field), "%s", field);
    return code;
}

/* A field path into out; a path longer than out is cut (it is only shown to people). */
static void path_fmt(char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void path_fmt(char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, n, fmt, ap);
    va_end(ap);
}

/* Every key of obj must be one of allowed (NULL terminated). */
static int check_keys(const struct fl_value *obj, const char *const *allowed, const char *path,
                      struct fl_error *err)
{
    for (size_t i = 0; i < fl_value_context_len(obj); i++) {
        size_t klen;
        const char *k = fl_value_context_key(obj, i, &klen);
        bool ok = false;
        for (size_t j = 0; allowed[j] && !ok; j++)
            ok = strlen(allowed[j]) == klen && memcmp(allowed[j], k, klen) == 0;
        if (!ok) {
            char field[128];
            path_fmt(field, sizeof(field), "%s%s%.*s", path, *path ? "." : "", (int)klen, k);
            return bad(err, FL_EINVAL, field, "unknown field '%s'", field);
        }
    }
    return 0;
}

static const struct fl_value *get(const struct fl_value *obj, const char *key)
{
    const struct fl_value *v = fl_value_context_get(obj, key, strlen(key));
    return v && fl_value_type(v) != FL_VNULL ? v : NULL;
}

/* "HH:MM" (00:00-24:00) into minutes of the day. */
static int parse_clock(const char *s, unsigned *min)
{
    if (strlen(s) != 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return -1;
    unsigned h = (unsigned)((s[0] - '0') * 10 + (s[1] - '0'));
    unsigned m = (unsigned)((s[3] - '0') * 10 + (s[4] - '0'));
    if (m > 59 || h > 24 || (h == 24 && m != 0))
        return -1;
    *min = h * 60 + m;
    return 0;
}

/* "YYYY-MM-DD" (a real day, years 1900-9999) into a day number. */
static int parse_date(const char *s, int64_t *day)
{
    int64_t ms;
    if (strlen(s) != 10 || s[0] < '1' || s[0] > '9' || fl_time_parse(s, &ms) != 0)
        return -1;
    if (s[0] == '1' && s[1] < '9')
        return -1;
    *day = fl_floordiv64(ms, MS_PER_DAY);
    return 0;
}

static int year_of(int64_t day)
{
    int64_t y;
    unsigned m, d;
    fl_civil_from_days(day, &y, &m, &d);
    return (int)y;
}

static int parse_clock_field(const struct fl_value *obj, const char *key, const char *path,
                             unsigned *min, struct fl_error *err)
{
    char field[128];
    const struct fl_value *v = get(obj, key);
    const char *s;
    path_fmt(field, sizeof(field), "%s.%s", path, key);
    if (!v)
        return bad(err, FL_EINVAL, field, "field '%s' is required", field);
    if (!(s = fl_value_str(v, NULL)))
        return bad(err, FL_ETYPE, field, "field '%s' must be a time \"HH:MM\"", field);
    if (parse_clock(s, min) != 0)
        return bad(err, FL_EINVAL, field, "field '%s' is not a time 00:00-24:00: '%s'", field, s);
    return 0;
}

/* One interval: {"start":"09:00","end":"13:00"} or the short form "09:00-13:00". */
static int parse_span(const struct fl_value *v, const char *path, struct fl__cal_span *out,
                      struct fl_error *err)
{
    static const char *const keys[] = {"start", "end", NULL};
    unsigned a, b;
    const char *s = fl_value_str(v, NULL);
    int rc;
    if (s) {
        char tmp[6];
        if (strlen(s) != 11 || s[5] != '-')
            return bad(err, FL_EINVAL, path, "field '%s' is not an interval \"HH:MM-HH:MM\": '%s'",
                       path, s);
        memcpy(tmp, s, 5);
        tmp[5] = '\0';
        if (parse_clock(tmp, &a) != 0 || parse_clock(s + 6, &b) != 0)
            return bad(err, FL_EINVAL, path, "field '%s' has a time outside 00:00-24:00: '%s'",
                       path, s);
    } else if (fl_value_type(v) == FL_VCONTEXT) {
        if ((rc = check_keys(v, keys, path, err)) != 0 ||
            (rc = parse_clock_field(v, "start", path, &a, err)) != 0 ||
            (rc = parse_clock_field(v, "end", path, &b, err)) != 0)
            return rc;
    } else {
        return bad(err, FL_ETYPE, path,
                   "field '%s' must be {\"start\":\"HH:MM\",\"end\":\"HH:MM\"} or \"HH:MM-HH:MM\"",
                   path);
    }
    if (a >= b) {
        char field[128];
        path_fmt(field, sizeof(field), "%s%s", path, s ? "" : ".end");
        return bad(err, FL_EINVAL, field, "field '%s' must be later than the start", field);
    }
    out->start = (uint16_t)a;
    out->end = (uint16_t)b;
    return 0;
}

/* A list of intervals, in order and without overlap. */
static int parse_hours(const struct fl_value *v, const char *path, struct fl__cal_hours *out,
                       struct fl_error *err)
{
    char field[128];
    int rc;
    out->n = 0;
    if (!v)
        return 0;
    if (fl_value_type(v) != FL_VLIST)
        return bad(err, FL_ETYPE, path, "field '%s' must be a list of intervals", path);
    if (fl_value_list_len(v) > FL__CAL_MAX_SPANS)
        return bad(err, FL_ELIMIT, path, "field '%s' has more than %d intervals", path,
                   FL__CAL_MAX_SPANS);
    for (size_t i = 0; i < fl_value_list_len(v); i++) {
        struct fl__cal_span sp;
        path_fmt(field, sizeof(field), "%s[%zu]", path, i);
        if ((rc = parse_span(fl_value_list_at(v, i), field, &sp, err)) != 0)
            return rc;
        if (out->n && sp.start < out->span[out->n - 1].end) {
            path_fmt(field, sizeof(field), "%s[%zu].start", path, i);
            return bad(err, FL_EINVAL, field,
                       "field '%s' overlaps or precedes the interval before it", field);
        }
        out->span[out->n++] = sp;
    }
    return 0;
}

static int parse_week(const struct fl_value *v, struct fl_calendar *c, struct fl_error *err)
{
    int rc;
    if (!v) {
        /* no week: the usual Monday to Friday, 09:00-18:00 */
        for (int d = 0; d < 5; d++) {
            c->week[d].n = 1;
            c->week[d].span[0].start = 9 * 60;
            c->week[d].span[0].end = 18 * 60;
        }
        return 0;
    }
    if (fl_value_type(v) != FL_VCONTEXT)
        return bad(err, FL_ETYPE, "week", "field 'week' must be an object of weekdays");
    if ((rc = check_keys(v, day_keys, "week", err)) != 0)
        return rc;
    for (int d = 0; d < 7; d++) {
        char field[32];
        path_fmt(field, sizeof(field), "week.%s", day_keys[d]);
        if ((rc = parse_hours(get(v, day_keys[d]), field, &c->week[d], err)) != 0)
            return rc;
    }
    return 0;
}

static int parse_years(const struct fl_value *v, struct fl_calendar *c, struct fl_error *err)
{
    static const char *const keys[] = {"from", "to", NULL};
    static const char *const names[2] = {"years.from", "years.to"};
    int32_t *dst[2] = {&c->year_from, &c->year_to};
    int rc;
    if (!v)
        return 0;
    if (fl_value_type(v) != FL_VCONTEXT)
        return bad(err, FL_ETYPE, "years", "field 'years' must be {\"from\":YYYY,\"to\":YYYY}");
    if ((rc = check_keys(v, keys, "years", err)) != 0)
        return rc;
    for (int i = 0; i < 2; i++) {
        const struct fl_value *y = get(v, keys[i]);
        int64_t n;
        if (!y)
            return bad(err, FL_EINVAL, names[i], "field '%s' is required", names[i]);
        if (fl_value_to_int64(y, &n) != 0 || n < 1900 || n > 9999)
            return bad(err, FL_EINVAL, names[i], "field '%s' must be a year 1900-9999", names[i]);
        *dst[i] = (int32_t)n;
    }
    if (c->year_to < c->year_from)
        return bad(err, FL_EINVAL, "years.to", "field 'years.to' (%d) is before 'years.from' (%d)",
                   (int)c->year_to, (int)c->year_from);
    return 0;
}

/* A date entry's "date" and optional "name"; checks the valid range. */
static int parse_dated(const struct fl_value *v, const char *path, const struct fl_calendar *c,
                       int64_t *day, char **name, struct fl_error *err)
{
    char field[128];
    const struct fl_value *dv = v, *nv = NULL;
    const char *s;
    *name = NULL;
    if (fl_value_type(v) == FL_VCONTEXT) {
        path_fmt(field, sizeof(field), "%s.date", path);
        dv = get(v, "date");
        nv = get(v, "name");
        if (!dv)
            return bad(err, FL_EINVAL, field, "field '%s' is required", field);
    } else {
        path_fmt(field, sizeof(field), "%s", path);
    }
    if (!(s = fl_value_str(dv, NULL)))
        return bad(err, FL_ETYPE, field, "field '%s' must be a date \"YYYY-MM-DD\"", field);
    if (parse_date(s, day) != 0)
        return bad(err, FL_EINVAL, field, "field '%s' is not a date YYYY-MM-DD: '%s'", field, s);
    if (c->year_from && (year_of(*day) < c->year_from || year_of(*day) > c->year_to))
        return bad(err, FL_EINVAL, field, "field '%s' (%s) is outside the calendar range %d-%d",
                   field, s, (int)c->year_from, (int)c->year_to);
    if (nv) {
        size_t len;
        const char *ns = fl_value_str(nv, &len);
        path_fmt(field, sizeof(field), "%s.name", path);
        if (!ns || len > LABEL_MAX_LEN || strlen(ns) != len)
            return bad(err, FL_ETYPE, field, "field '%s' must be text of at most %d bytes", field,
                       LABEL_MAX_LEN);
        if (len)
            *name = fl_strndup(ns, len);
    }
    return 0;
}

static int cmp_holiday(const void *a, const void *b)
{
    const struct fl__cal_holiday *x = a, *y = b;
    return (x->day > y->day) - (x->day < y->day);
}

static int cmp_workday(const void *a, const void *b)
{
    const struct fl__cal_workday *x = a, *y = b;
    return (x->day > y->day) - (x->day < y->day);
}

static void format_date(int64_t day, char out[16])
{
    int64_t y;
    unsigned m, d;
    fl_civil_from_days(day, &y, &m, &d);
    snprintf(out, 16, "%04d-%02u-%02u", (int)y, m, d);
}

/* The day of a holiday entry as written, or -1 past parse errors (already reported). */
static int64_t entry_day(const struct fl_value *e)
{
    const char *s = fl_value_str(fl_value_type(e) == FL_VCONTEXT ? get(e, "date") : e, NULL);
    int64_t d;
    return s && parse_date(s, &d) == 0 ? d : -1;
}

static int parse_holidays(const struct fl_value *v, struct fl_calendar *c, struct fl_error *err)
{
    char field[64];
    int rc;
    if (!v)
        return 0;
    if (fl_value_type(v) != FL_VLIST)
        return bad(err, FL_ETYPE, "holidays", "field 'holidays' must be a list of dates");
    if (fl_value_list_len(v) > FL__CAL_MAX_DATES)
        return bad(err, FL_ELIMIT, "holidays", "field 'holidays' has more than %d dates",
                   FL__CAL_MAX_DATES);
    c->holidays = fl_calloc(fl_value_list_len(v) + 1, sizeof(*c->holidays));
    for (size_t i = 0; i < fl_value_list_len(v); i++) {
        struct fl__cal_holiday *h = &c->holidays[c->n_holidays];
        static const char *const keys[] = {"date", "name", NULL};
        const struct fl_value *e = fl_value_list_at(v, i);
        path_fmt(field, sizeof(field), "holidays[%zu]", i);
        if (fl_value_type(e) == FL_VCONTEXT && (rc = check_keys(e, keys, field, err)) != 0)
            return rc;
        if ((rc = parse_dated(fl_value_list_at(v, i), field, c, &h->day, &h->name, err)) != 0)
            return rc;
        c->n_holidays++;
    }
    qsort(c->holidays, c->n_holidays, sizeof(*c->holidays), cmp_holiday);
    for (size_t i = 1; i < c->n_holidays; i++) {
        if (c->holidays[i].day == c->holidays[i - 1].day) {
            char date[16];
            format_date(c->holidays[i].day, date);
            /* name the later of the two entries: the first one is fine on its own */
            size_t seen = 0, second = 0;
            for (size_t j = 0; j < fl_value_list_len(v); j++) {
                if (entry_day(fl_value_list_at(v, j)) == c->holidays[i].day && ++seen == 2) {
                    second = j;
                    break;
                }
            }
            path_fmt(field, sizeof(field), "holidays[%zu]", second);
            return bad(err, FL_EINVAL, field, "field '%s': %s is listed twice", field, date);
        }
    }
    return 0;
}

static int parse_workdays(const struct fl_value *v, struct fl_calendar *c, struct fl_error *err)
{
    static const char *const keys[] = {"date", "name", "hours", NULL};
    char field[64];
    int rc;
    if (!v)
        return 0;
    if (fl_value_type(v) != FL_VLIST)
        return bad(err, FL_ETYPE, "working_days", "field 'working_days' must be a list");
    if (fl_value_list_len(v) > FL__CAL_MAX_DATES)
        return bad(err, FL_ELIMIT, "working_days", "field 'working_days' has more than %d dates",
                   FL__CAL_MAX_DATES);
    c->workdays = fl_calloc(fl_value_list_len(v) + 1, sizeof(*c->workdays));
    for (size_t i = 0; i < fl_value_list_len(v); i++) {
        const struct fl_value *e = fl_value_list_at(v, i);
        struct fl__cal_workday *w = &c->workdays[c->n_workdays];
        path_fmt(field, sizeof(field), "working_days[%zu]", i);
        if (fl_value_type(e) != FL_VCONTEXT)
            return bad(err, FL_ETYPE, field,
                       "field '%s' must be {\"date\":\"YYYY-MM-DD\",\"hours\":[...]}", field);
        if ((rc = check_keys(e, keys, field, err)) != 0 ||
            (rc = parse_dated(e, field, c, &w->day, &w->name, err)) != 0)
            return rc;
        c->n_workdays++;
        path_fmt(field, sizeof(field), "working_days[%zu].hours", i);
        if ((rc = parse_hours(get(e, "hours"), field, &w->hours, err)) != 0)
            return rc;
        if (w->hours.n == 0)
            return bad(err, FL_EINVAL, field,
                       "field '%s' must give the working hours of the moved working day", field);
        {
            struct fl__cal_holiday key = {.day = w->day};
            if (c->n_holidays &&
                bsearch(&key, c->holidays, c->n_holidays, sizeof(*c->holidays), cmp_holiday)) {
                path_fmt(field, sizeof(field), "working_days[%zu].date", i);
                return bad(err, FL_EINVAL, field, "field '%s' is also a holiday", field);
            }
        }
    }
    qsort(c->workdays, c->n_workdays, sizeof(*c->workdays), cmp_workday);
    for (size_t i = 1; i < c->n_workdays; i++) {
        if (c->workdays[i].day == c->workdays[i - 1].day) {
            size_t seen = 0, second = 0;
            for (size_t j = 0; j < fl_value_list_len(v); j++) {
                if (entry_day(fl_value_list_at(v, j)) == c->workdays[i].day && ++seen == 2) {
                    second = j;
                    break;
                }
            }
            path_fmt(field, sizeof(field), "working_days[%zu].date", second);
            return bad(err, FL_EINVAL, field, "field '%s' is listed twice", field);
        }
    }
    return 0;
}

int fl_calendar_from_value(const char *name, const struct fl_value *v, struct fl_calendar **out,
                           struct fl_error *err)
{
    static const char *const keys[] = {"name",         "zone",  "week", "holidays",
                                       "working_days", "years", NULL};
    struct fl_calendar *c = NULL;
    const struct fl_value *f;
    const char *zone = "UTC", *s;
    int rc;

    *out = NULL;
    if (!fl_calendar_name_valid(name)) {
        rc = bad(err, FL_EINVAL, "name",
                 "invalid calendar name '%s' (1-64 of letters, digits, . _ -)", name ? name : "");
        goto out;
    }
    if (fl_value_type(v) != FL_VCONTEXT) {
        rc = bad(err, FL_ETYPE, "", "a calendar must be a JSON object");
        goto out;
    }
    if ((rc = check_keys(v, keys, "", err)) != 0)
        goto out;
    if ((f = get(v, "name")) && (!(s = fl_value_str(f, NULL)) || strcmp(s, name) != 0)) {
        rc = bad(err, FL_EINVAL, "name", "field 'name' must be the calendar's name '%s'", name);
        goto out;
    }
    if ((f = get(v, "zone")) && !(zone = fl_value_str(f, NULL))) {
        rc = bad(err, FL_ETYPE, "zone", "field 'zone' must be an IANA time zone name");
        goto out;
    }
    c = fl_calloc(1, sizeof(*c));
    c->name = fl_strdup(name);
    c->zone = fl_strdup(zone);
    if ((c->zone_idx = fl__tz_find(zone)) < 0) {
        /* NEEDSWORK: zones come from core's built-in table (tzrules.c); reading the
         * system's zoneinfo would accept every IANA zone. */
        rc = bad(err, FL_EINVAL, "zone", "unknown time zone '%s' in field 'zone'", zone);
        goto out;
    }
    if ((rc = parse_week(get(v, "week"), c, err)) != 0)
        goto out;
    for (int d = 0; d < 7; d++)
        c->working_weekdays += c->week[d].n > 0;
    if (c->working_weekdays == 0) {
        rc = bad(err, FL_EINVAL, "week",
                 "the calendar has no working time: field 'week' gives "
                 "no working hours on any weekday");
        goto out;
    }
    if ((rc = parse_years(get(v, "years"), c, err)) != 0 ||
        (rc = parse_holidays(get(v, "holidays"), c, err)) != 0 ||
        (rc = parse_workdays(get(v, "working_days"), c, err)) != 0)
        goto out;
    *out = c;
    c = NULL;
out:
    fl_calendar_free(c);
    return rc;
}

int fl_calendar_parse(const char *name, const char *json, size_t len, struct fl_calendar **out,
                      struct fl_error *err)
{
    struct fl_value *v = NULL;
    int rc;
    *out = NULL;
    if ((rc = fl_value_from_json(json, len, &v, err)) != 0)
        return rc;
    rc = fl_calendar_from_value(name, v, out, err);
    fl_value_unref(v);
    return rc;
}

struct fl_calendar *fl_calendar_builtin(void)
{
    struct fl_calendar *c = fl_calloc(1, sizeof(*c));
    c->name = fl_strdup(FL_CALENDAR_DEFAULT);
    c->zone = fl_strdup("UTC");
    c->zone_idx = fl__tz_find("UTC");
    parse_week(NULL, c, NULL);
    c->working_weekdays = 5;
    return c;
}

void fl_calendar_free(struct fl_calendar *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_holidays; i++)
        free(c->holidays[i].name);
    for (size_t i = 0; i < c->n_workdays; i++)
        free(c->workdays[i].name);
    free(c->holidays);
    free(c->workdays);
    free(c->name);
    free(c->zone);
    free(c);
}

const char *fl_calendar_name(const struct fl_calendar *c)
{
    return c->name;
}

static void hours_json(struct fl_buf *b, const struct fl__cal_hours *h)
{
    fl_buf_addc(b, '[');
    for (unsigned i = 0; i < h->n; i++)
        fl_buf_addf(b, "%s{\"start\":\"%02u:%02u\",\"end\":\"%02u:%02u\"}", i ? "," : "",
                    h->span[i].start / 60u, h->span[i].start % 60u, h->span[i].end / 60u,
                    h->span[i].end % 60u);
    fl_buf_addc(b, ']');
}

int fl_calendar_to_json(const struct fl_calendar *c, struct fl_buf *b)
{
    char date[16];
    fl_buf_adds(b, "{\"name\":");
    fl_json_cstring(b, c->name);
    fl_buf_adds(b, ",\"zone\":");
    fl_json_cstring(b, c->zone);
    fl_buf_adds(b, ",\"week\":{");
    for (int d = 0; d < 7; d++) {
        fl_buf_addf(b, "%s\"%s\":", d ? "," : "", day_keys[d]);
        hours_json(b, &c->week[d]);
    }
    fl_buf_adds(b, "},\"holidays\":[");
    for (size_t i = 0; i < c->n_holidays; i++) {
        format_date(c->holidays[i].day, date);
        fl_buf_addf(b, "%s{\"date\":\"%s\"", i ? "," : "", date);
        if (c->holidays[i].name) {
            fl_buf_adds(b, ",\"name\":");
            fl_json_cstring(b, c->holidays[i].name);
        }
        fl_buf_addc(b, '}');
    }
    fl_buf_adds(b, "],\"working_days\":[");
    for (size_t i = 0; i < c->n_workdays; i++) {
        format_date(c->workdays[i].day, date);
        fl_buf_addf(b, "%s{\"date\":\"%s\"", i ? "," : "", date);
        if (c->workdays[i].name) {
            fl_buf_adds(b, ",\"name\":");
            fl_json_cstring(b, c->workdays[i].name);
        }
        fl_buf_adds(b, ",\"hours\":");
        hours_json(b, &c->workdays[i].hours);
        fl_buf_addc(b, '}');
    }
    fl_buf_addc(b, ']');
    if (c->year_from)
        fl_buf_addf(b, ",\"years\":{\"from\":%d,\"to\":%d}", (int)c->year_from, (int)c->year_to);
    return fl_buf_addc(b, '}');
}

const struct fl__cal_hours *fl__cal_hours_of(const struct fl_calendar *c, int64_t day)
{
    static const struct fl__cal_hours none = {.n = 0};
    size_t lo = 0, hi = c->n_workdays;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->workdays[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->n_workdays && c->workdays[lo].day == day)
        return &c->workdays[lo].hours;
    lo = 0;
    hi = c->n_holidays;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->holidays[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->n_holidays && c->holidays[lo].day == day)
        return &none;
    return &c->week[fl__cal_weekday(day)];
}
