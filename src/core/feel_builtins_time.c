/* FEEL built-in functions, part three: constructors and queries of temporal values
 * (date, time, date and time, duration, now, today, day of week, ...) and range(). now()
 * and today() read only the clock injected through struct fl_feel_env, so evaluation
 * stays deterministic and testable. */
#include <stdlib.h>
#include <string.h>

#include "core/feel_impl.h"
#include "flowd/alloc.h"
#include "flowd/timecalc.h"
#include "util/intdiv.h"

#define T(v) fl_value_type(v)

static struct fl_value *bad(struct feel_eval *ev, const char *fn)
{
    return fl__feel_error(ev, "invalid arguments to '%s'", fn);
}

static bool is_string(const struct fl_value *v)
{
    return T(v) == FL_VSTRING;
}

static struct fl_value *f_date(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    int64_t days, y, m, d;
    if (n == 1) {
        if (is_string(a[0])) {
            if (fl__feel_parse_date(a[0]->u.str.s, a[0]->u.str.len, &days))
                return fl__feel_error(ev, "invalid date '%s'", a[0]->u.str.s);
            return fl__value_date(days);
        }
        if (T(a[0]) == FL_VDATE)
            return fl_value_ref(a[0]);
        if (T(a[0]) == FL_VDATETIME)
            return fl__value_date(a[0]->u.dt.days);
        return bad(ev, "date");
    }
    if (n != 3 || !fl__feel_int(a[0], &y) || !fl__feel_int(a[1], &m) || !fl__feel_int(a[2], &d))
        return bad(ev, "date");
    if (m < 1 || m > 12 || d < 1 || y < -999999999 || y > 999999999)
        return bad(ev, "date");
    days = fl_days_from_civil(y, (unsigned)m, (unsigned)d);
    int64_t yy;
    unsigned mm, dd;
    fl_civil_from_days(days, &yy, &mm, &dd);
    if (yy != y || (int64_t)mm != m || (int64_t)dd != d)
        return bad(ev, "date");
    return fl__value_date(days);
}

static struct fl_value *f_time(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    struct fl_tz tz;
    int64_t nanos;
    if (n == 1) {
        if (is_string(a[0])) {
            if (fl__feel_parse_time(a[0]->u.str.s, a[0]->u.str.len, &nanos, &tz))
                return fl__feel_error(ev, "invalid time '%s'", a[0]->u.str.s);
            struct fl_value *r = fl__value_time(nanos, &tz);
            free(tz.zone);
            return r;
        }
        if (T(a[0]) == FL_VTIME)
            return fl_value_ref(a[0]);
        if (T(a[0]) == FL_VDATETIME)
            return fl__value_time(a[0]->u.dt.nanos, &a[0]->u.dt.tz);
        if (T(a[0]) == FL_VDATE) {
            struct fl_tz utc = {FL_TZ_OFFSET, 0, NULL};
            return fl__value_time(0, &utc);
        }
        return bad(ev, "time");
    }
    int64_t h, m;
    struct fl_dec s, ns, scale;
    if (n < 3 || !fl__feel_int(a[0], &h) || !fl__feel_int(a[1], &m) || !fl__feel_num(a[2], &s))
        return bad(ev, "time");
    if (h < 0 || h > 23 || m < 0 || m > 59 || s.neg)
        return bad(ev, "time");
    fl_dec_from_int(FL_NS_PER_SEC, &scale);
    int64_t sn;
    if (fl_dec_mul(&s, &scale, &ns) || fl_dec_round(&ns, 0, FL_ROUND_DOWN, &ns) ||
        fl_dec_to_int64(&ns, &sn) || sn >= 60 * FL_NS_PER_SEC)
        return bad(ev, "time");
    memset(&tz, 0, sizeof(tz));
    if (n > 3 && T(a[3]) != FL_VNULL) {
        if (T(a[3]) != FL_VDTDURATION)
            return bad(ev, "time");
        fl_i128 off = a[3]->u.dtdur;
        if (off % FL_NS_PER_SEC || off > (fl_i128)18 * 3600 * FL_NS_PER_SEC ||
            off < -(fl_i128)18 * 3600 * FL_NS_PER_SEC)
            return bad(ev, "time");
        tz.kind = FL_TZ_OFFSET;
        tz.offset_sec = (int32_t)(off / FL_NS_PER_SEC);
    }
    return fl__value_time((h * 3600 + m * 60) * FL_NS_PER_SEC + sn, &tz);
}

static struct fl_value *f_date_and_time(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    struct fl_value *r;
    if (n == 1) {
        if (is_string(a[0])) {
            const char *s = a[0]->u.str.s;
            size_t len = a[0]->u.str.len;
            int64_t days;
            if (!memchr(s, 'T', len)) {
                if (fl__feel_parse_date(s, len, &days))
                    return fl__feel_error(ev, "invalid date and time '%s'", s);
                return fl__value_datetime(days, 0, NULL);
            }
            if (fl__feel_parse_datetime(s, len, &r))
                return fl__feel_error(ev, "invalid date and time '%s'", s);
            return r;
        }
        if (T(a[0]) == FL_VDATETIME)
            return fl_value_ref(a[0]);
        if (T(a[0]) == FL_VDATE)
            return fl__value_datetime(a[0]->u.date, 0, NULL);
        return bad(ev, "date and time");
    }
    if (n == 2 && (T(a[0]) == FL_VDATE || T(a[0]) == FL_VDATETIME) && T(a[1]) == FL_VTIME) {
        int64_t days = T(a[0]) == FL_VDATE ? a[0]->u.date : a[0]->u.dt.days;
        return fl__value_datetime(days, a[1]->u.dt.nanos, &a[1]->u.dt.tz);
    }
    return bad(ev, "date and time");
}

static struct fl_value *f_duration(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    struct fl_value *r;
    (void)n;
    if (!is_string(a[0]))
        return bad(ev, "duration");
    if (fl__feel_parse_duration(a[0]->u.str.s, a[0]->u.str.len, &r))
        return fl__feel_error(ev, "invalid duration '%s'", a[0]->u.str.s);
    return r;
}

static bool civil_of(const struct fl_value *v, int64_t *y, unsigned *m, unsigned *d,
                     int64_t *nanos)
{
    if (T(v) == FL_VDATE) {
        fl_civil_from_days(v->u.date, y, m, d);
        *nanos = 0;
        return true;
    }
    if (T(v) == FL_VDATETIME) {
        fl_civil_from_days(v->u.dt.days, y, m, d);
        *nanos = v->u.dt.nanos;
        return true;
    }
    return false;
}

static struct fl_value *f_ym_duration(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    int64_t y1, y2, n1, n2;
    unsigned m1, m2, d1, d2;
    (void)n;
    if (!civil_of(a[0], &y1, &m1, &d1, &n1) || !civil_of(a[1], &y2, &m2, &d2, &n2))
        return bad(ev, "years and months duration");
    int64_t months = (y2 * 12 + m2) - (y1 * 12 + m1);
    /* only whole months count: step back when the day (and time) has not been reached */
    if (months > 0 && (d2 < d1 || (d2 == d1 && n2 < n1)))
        months--;
    else if (months < 0 && (d2 > d1 || (d2 == d1 && n2 > n1)))
        months++;
    return fl__value_ymduration(months);
}

static struct fl_value *f_now(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    (void)a;
    (void)n;
    int64_t local = ev->env ? ev->env->now_ms + (int64_t)ev->env->tz_offset_min * 60000 : 0;
    int64_t days = fl_floordiv64(local, 86400000);
    int64_t ms = local - days * 86400000;
    struct fl_tz tz = {FL_TZ_OFFSET, ev->env ? ev->env->tz_offset_min * 60 : 0, NULL};
    return fl__value_datetime(days, ms * 1000000, &tz);
}

static struct fl_value *f_today(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    (void)a;
    (void)n;
    int64_t local = ev->env ? ev->env->now_ms + (int64_t)ev->env->tz_offset_min * 60000 : 0;
    return fl__value_date(fl_floordiv64(local, 86400000));
}

static bool days_of(const struct fl_value *v, int64_t *days)
{
    if (T(v) == FL_VDATE)
        *days = v->u.date;
    else if (T(v) == FL_VDATETIME)
        *days = v->u.dt.days;
    else
        return false;
    return true;
}

static struct fl_value *f_day_of_year(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    int64_t days, y;
    unsigned m, d;
    (void)n;
    if (!days_of(a[0], &days))
        return bad(ev, "day of year");
    fl_civil_from_days(days, &y, &m, &d);
    return fl_value_int(days - fl_days_from_civil(y, 1, 1) + 1);
}

static int weekday(int64_t days) /* 0 = Monday */
{
    return (int)(((days % 7) + 7 + 3) % 7);
}

static struct fl_value *f_day_of_week(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    static const char *const names[] = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday"};
    int64_t days;
    (void)n;
    if (!days_of(a[0], &days))
        return bad(ev, "day of week");
    return fl_value_cstring(names[weekday(days)]);
}

static struct fl_value *f_month_of_year(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    static const char *const names[] = {"January", "February", "March", "April",
                                        "May", "June", "July", "August",
                                        "September", "October", "November", "December"};
    int64_t days, y;
    unsigned m, d;
    (void)n;
    if (!days_of(a[0], &days))
        return bad(ev, "month of year");
    fl_civil_from_days(days, &y, &m, &d);
    return fl_value_cstring(names[m - 1]);
}

static struct fl_value *f_week_of_year(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    int64_t days, y;
    unsigned m, d;
    (void)n;
    if (!days_of(a[0], &days))
        return bad(ev, "week of year");
    /* ISO 8601 week: the week with the year's first Thursday is week 1 */
    int64_t thursday = days - weekday(days) + 3;
    fl_civil_from_days(thursday, &y, &m, &d);
    return fl_value_int((thursday - fl_days_from_civil(y, 1, 1)) / 7 + 1);
}

/* range() accepts literal endpoints only: numbers, strings, @"..." and temporal
 * constructors applied to a string literal. */
static bool literal_endpoint(const struct feel_node *n)
{
    if (n->kind == N_LIT)
        return fl_value_type(n->lit) != FL_VNULL;
    if (n->kind == N_CALL && n->nkids == 2 && n->builtin >= 0 && n->kids[1]->kind == N_LIT &&
        fl_value_type(n->kids[1]->lit) == FL_VSTRING) {
        const char *name = fl__feel_builtin_get(n->builtin)->name;
        return strcmp(name, "date") == 0 || strcmp(name, "time") == 0 ||
               strcmp(name, "date and time") == 0 || strcmp(name, "duration") == 0;
    }
    return false;
}

static struct fl_value *f_range(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    struct fl_feel_expr *e;
    struct fl_error err;
    (void)n;
    if (!is_string(a[0]))
        return bad(ev, "range");
    if (fl_feel_compile(a[0]->u.str.s, a[0]->u.str.len, &e, &err))
        return fl__feel_error(ev, "invalid range '%s'", a[0]->u.str.s);
    struct fl_value *r = NULL;
    if (e->root->kind == N_RANGE && e->root->kids[0] && e->root->kids[1] &&
        literal_endpoint(e->root->kids[0]) && literal_endpoint(e->root->kids[1])) {
        struct feel_eval sub = {NULL, NULL, ev->depth, 0, false, NULL};
        struct fl_value *v = fl__feel_eval_node(&sub, e->root, NULL);
        r = fl__value_detach(v); /* e's constants die with e below */
        fl_value_unref(v);
        if (sub.failed || T(r) != FL_VRANGE) {
            fl_value_unref(r);
            r = NULL;
        }
    }
    fl_feel_free(e);
    return r ? r : fl__feel_error(ev, "invalid range '%s'", a[0]->u.str.s);
}

static const struct feel_builtin table[] = {
    {"date", 1, 3, {"from"}, f_date, {"year", "month", "day"}},
    {"time", 1, 4, {"from"}, f_time, {"hour", "minute", "second", "offset"}},
    {"date and time", 1, 2, {"from"}, f_date_and_time, {"date", "time"}},
    {"duration", 1, 1, {"from"}, f_duration, {NULL}},
    {"years and months duration", 2, 2, {"from", "to"}, f_ym_duration, {NULL}},
    {"now", 0, 0, {NULL}, f_now, {NULL}},
    {"today", 0, 0, {NULL}, f_today, {NULL}},
    {"day of year", 1, 1, {"date"}, f_day_of_year, {NULL}},
    {"day of week", 1, 1, {"date"}, f_day_of_week, {NULL}},
    {"month of year", 1, 1, {"date"}, f_month_of_year, {NULL}},
    {"week of year", 1, 1, {"date"}, f_week_of_year, {NULL}},
    {"range", 1, 1, {"from"}, f_range, {NULL}},
};

const struct feel_builtin *fl__feel_builtins_time(size_t *n)
{
    *n = sizeof(table) / sizeof(table[0]);
    return table;
}
