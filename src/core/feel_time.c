/* FEEL temporal values: parsing the ISO 8601 texts that date(), time(), date and time(),
 * duration() and @"..." literals accept, instants of zoned values, and the properties
 * (year, month, weekday, time offset, ...) that path expressions read. Zone ids are kept
 * by name; without a time zone database only UTC-like ids have a known offset. */
#include <stdlib.h>
#include <string.h>

#include "core/feel_impl.h"
#include "flowd/alloc.h"
#include "flowd/timecalc.h"

static bool digits_n(const char *s, size_t n, size_t *i, int count, int64_t *out)
{
    int64_t v = 0;
    if (*i + (size_t)count > n)
        return false;
    for (int k = 0; k < count; k++) {
        char c = s[*i + (size_t)k];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)count;
    *out = v;
    return true;
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int mdays(int64_t y, int64_t m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : dm[m - 1];
}

/* Date part "[-]YYYY-MM-DD" at s[*i]; years beyond 4 digits allowed up to 9 digits. */
static bool parse_date_part(const char *s, size_t n, size_t *i, int64_t *days)
{
    bool neg = false;
    int64_t y = 0, m, d;
    int nd = 0;
    if (*i < n && s[*i] == '-') {
        neg = true;
        (*i)++;
    }
    while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
        if (++nd > 9)
            return false;
        y = y * 10 + (s[*i] - '0');
        (*i)++;
    }
    if (nd < 4 || (nd > 4 && s[*i - (size_t)nd] == '0'))
        return false;
    if (neg)
        y = -y;
    if (*i >= n || s[(*i)++] != '-' || !digits_n(s, n, i, 2, &m) || *i >= n ||
        s[(*i)++] != '-' || !digits_n(s, n, i, 2, &d))
        return false;
    if (m < 1 || m > 12 || d < 1 || d > mdays(y, m))
        return false;
    *days = fl_days_from_civil(y, (unsigned)m, (unsigned)d);
    return true;
}

int fl__feel_parse_date(const char *s, size_t n, int64_t *days)
{
    size_t i = 0;
    if (!parse_date_part(s, n, &i, days) || i != n)
        return FL_EPARSE;
    return 0;
}

static bool valid_zone(const char *z, size_t n)
{
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = z[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '-' || c == '+'))
            return false;
    }
    /* an IANA region id ("Europe/Paris") or a short UTC id; without a zone database the
     * region is checked, not the city */
    static const char *const regions[] = {"Africa/", "America/", "Antarctica/", "Arctic/",
                                          "Asia/", "Atlantic/", "Australia/", "Europe/",
                                          "Indian/", "Pacific/", "Etc/", NULL};
    if ((n == 3 && (memcmp(z, "UTC", 3) == 0 || memcmp(z, "GMT", 3) == 0)) ||
        (n == 1 && z[0] == 'Z'))
        return true;
    for (int i = 0; regions[i]; i++) {
        size_t rl = strlen(regions[i]);
        if (n > rl && memcmp(z, regions[i], rl) == 0)
            return true;
    }
    return false;
}

/* Time "HH:MM:SS[.f][Z|+hh:mm|@zone]" at s[*i]; hour 24 only as 24:00:00 (sets *day_carry). */
static bool parse_time_part(const char *s, size_t n, size_t *i, int64_t *nanos,
                            struct fl_tz *tz, bool *day_carry)
{
    int64_t h, m, sec, frac = 0;
    memset(tz, 0, sizeof(*tz));
    *day_carry = false;
    if (!digits_n(s, n, i, 2, &h) || *i >= n || s[(*i)++] != ':' || !digits_n(s, n, i, 2, &m) ||
        *i >= n || s[(*i)++] != ':' || !digits_n(s, n, i, 2, &sec))
        return false;
    if (*i < n && s[*i] == '.') {
        int nd = 0;
        (*i)++;
        while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
            if (nd < 9) {
                frac = frac * 10 + (s[*i] - '0');
                nd++;
            }
            (*i)++;
        }
        if (nd == 0)
            return false;
        while (nd++ < 9)
            frac *= 10;
    }
    if (m > 59 || sec > 59)
        return false;
    if (h == 24 && m == 0 && sec == 0 && frac == 0) {
        h = 0;
        *day_carry = true;
    } else if (h > 23) {
        return false;
    }
    *nanos = ((h * 60 + m) * 60 + sec) * FL_NS_PER_SEC + frac;
    if (*i >= n)
        return true;
    if (s[*i] == 'Z' || s[*i] == 'z') {
        (*i)++;
        tz->kind = FL_TZ_OFFSET;
        tz->offset_sec = 0;
    } else if (s[*i] == '+' || s[*i] == '-') {
        int sign = s[*i] == '-' ? -1 : 1;
        int64_t oh, om, os = 0;
        (*i)++;
        if (!digits_n(s, n, i, 2, &oh) || *i >= n || s[(*i)++] != ':' ||
            !digits_n(s, n, i, 2, &om))
            return false;
        if (*i < n && s[*i] == ':') {
            (*i)++;
            if (!digits_n(s, n, i, 2, &os))
                return false;
        }
        if (oh > 18 || om > 59 || os > 59 || (oh == 18 && (om || os)))
            return false;
        tz->kind = FL_TZ_OFFSET;
        tz->offset_sec = (int32_t)(sign * (oh * 3600 + om * 60 + os));
    } else if (s[*i] == '@') {
        size_t start = ++(*i);
        while (*i < n)
            (*i)++;
        if (!valid_zone(s + start, n - start))
            return false;
        tz->kind = FL_TZ_ZONE;
        tz->zone = fl_strndup(s + start, n - start);
    }
    return true;
}

int fl__feel_parse_time(const char *s, size_t n, int64_t *nanos, struct fl_tz *tz)
{
    size_t i = 0;
    bool carry;
    if (!parse_time_part(s, n, &i, nanos, tz, &carry) || i != n) {
        free(tz->zone);
        tz->zone = NULL;
        return FL_EPARSE;
    }
    return 0;
}

int fl__feel_parse_datetime(const char *s, size_t n, struct fl_value **out)
{
    size_t i = 0;
    int64_t days, nanos;
    struct fl_tz tz;
    bool carry;
    if (!parse_date_part(s, n, &i, &days) || i >= n || s[i++] != 'T')
        return FL_EPARSE;
    if (!parse_time_part(s, n, &i, &nanos, &tz, &carry) || i != n) {
        free(tz.zone);
        return FL_EPARSE;
    }
    *out = fl__value_datetime(days + carry, nanos, &tz);
    free(tz.zone);
    return 0;
}

int fl__feel_parse_duration(const char *s, size_t n, struct fl_value **out)
{
    size_t i = 0;
    bool neg = false, in_time = false, any = false, ym = false, dt = false;
    int last = -1;
    fl_i128 ns = 0;
    int64_t months = 0;
    if (i < n && s[i] == '-') {
        neg = true;
        i++;
    }
    if (i >= n || s[i++] != 'P')
        return FL_EPARSE;
    while (i < n) {
        if (s[i] == 'T') {
            if (in_time || i + 1 >= n)
                return FL_EPARSE;
            in_time = true;
            i++;
            continue;
        }
        int64_t v = 0, frac = 0;
        int nd = 0, fd = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (++nd > 18)
                return FL_EPARSE;
            v = v * 10 + (s[i] - '0');
            i++;
        }
        if (nd == 0)
            return FL_EPARSE;
        if (i < n && s[i] == '.') {
            i++;
            while (i < n && s[i] >= '0' && s[i] <= '9') {
                if (fd < 9) {
                    frac = frac * 10 + (s[i] - '0');
                    fd++;
                }
                i++;
            }
            while (fd < 9) {
                frac *= 10;
                fd++;
            }
            if (i >= n || s[i] != 'S' || !in_time)
                return FL_EPARSE;
        }
        if (i >= n)
            return FL_EPARSE;
        char u = s[i++];
        int rank = !in_time ? (u == 'Y' ? 0 : u == 'M' ? 1 : u == 'W' ? 2 : u == 'D' ? 3 : -1)
                            : (u == 'H' ? 4 : u == 'M' ? 5 : u == 'S' ? 6 : -1);
        if (rank < 0 || rank <= last)
            return FL_EPARSE;
        last = rank;
        any = true;
        switch (rank) {
        case 0: months += v * 12; ym = true; break;
        case 1: months += v; ym = true; break;
        case 2: ns += (fl_i128)v * 7 * FL_NS_PER_DAY; dt = true; break;
        case 3: ns += (fl_i128)v * FL_NS_PER_DAY; dt = true; break;
        case 4: ns += (fl_i128)v * 3600 * FL_NS_PER_SEC; dt = true; break;
        case 5: ns += (fl_i128)v * 60 * FL_NS_PER_SEC; dt = true; break;
        default: ns += (fl_i128)v * FL_NS_PER_SEC + frac; dt = true; break;
        }
    }
    if (!any || (in_time && last < 4))
        return FL_EPARSE;
    if (ym && dt)
        return FL_EPARSE;
    if (ym)
        *out = fl__value_ymduration(neg ? -months : months);
    else
        *out = fl__value_dtduration(neg ? -ns : ns);
    return 0;
}

int fl__feel_parse_temporal(const char *s, size_t n, struct fl_value **out)
{
    int64_t days, nanos;
    struct fl_tz tz;
    if (n > 0 && (s[0] == 'P' || ((s[0] == '-' || s[0] == '+') && n > 1 && s[1] == 'P')))
        return fl__feel_parse_duration(s, n, out);
    if (n > 2 && s[2] == ':') {
        if (fl__feel_parse_time(s, n, &nanos, &tz))
            return FL_EPARSE;
        *out = fl__value_time(nanos, &tz);
        free(tz.zone);
        return 0;
    }
    if (memchr(s, 'T', n))
        return fl__feel_parse_datetime(s, n, out);
    if (fl__feel_parse_date(s, n, &days))
        return FL_EPARSE;
    *out = fl__value_date(days);
    return 0;
}

bool fl__feel_instant(const struct fl_value *dt, fl_i128 *ns)
{
    int32_t off;
    if (!fl__dt_offset(dt, &off))
        return false;
    int64_t days = dt->type == FL_VDATETIME ? dt->u.dt.days : 0;
    *ns = (fl_i128)days * FL_NS_PER_DAY + dt->u.dt.nanos - (fl_i128)off * FL_NS_PER_SEC;
    return true;
}

static struct fl_value *num(int64_t v)
{
    return fl_value_int(v);
}

static bool is(const char *name, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(name, w, n) == 0;
}

static struct fl_value *seconds_value(int64_t nanos_in_minute)
{
    struct fl_dec d;
    struct fl_dec ns, scale;
    fl_dec_from_int(nanos_in_minute, &ns);
    fl_dec_from_int(FL_NS_PER_SEC, &scale);
    fl_dec_div(&ns, &scale, &d);
    fl_dec_reduce(&d);
    return fl__value_number(&d);
}

struct fl_value *fl__feel_property(const struct fl_value *v, const char *name, size_t n,
                                   bool *found)
{
    int64_t y;
    unsigned m, d;
    *found = true;
    switch (fl_value_type(v)) {
    case FL_VDATE:
    case FL_VDATETIME: {
        int64_t days = v->type == FL_VDATE ? v->u.date : v->u.dt.days;
        fl_civil_from_days(days, &y, &m, &d);
        if (is(name, n, "year"))
            return num(y);
        if (is(name, n, "month"))
            return num(m);
        if (is(name, n, "day"))
            return num(d);
        if (is(name, n, "weekday")) {
            int64_t wd = ((days % 7) + 7 + 3) % 7; /* 1970-01-01 was a Thursday */
            return num(wd + 1);
        }
        if (v->type == FL_VDATE)
            break;
        /* a date and time also has the time properties */
        __attribute__((fallthrough));
    }
    case FL_VTIME: {
        int64_t ns = v->u.dt.nanos;
        if (is(name, n, "hour"))
            return num(ns / (3600 * FL_NS_PER_SEC));
        if (is(name, n, "minute"))
            return num(ns / (60 * FL_NS_PER_SEC) % 60);
        if (is(name, n, "second"))
            return seconds_value(ns % (60 * FL_NS_PER_SEC));
        if (is(name, n, "time offset")) {
            if (v->u.dt.tz.kind != FL_TZ_OFFSET)
                return fl_value_null();
            return fl__value_dtduration((fl_i128)v->u.dt.tz.offset_sec * FL_NS_PER_SEC);
        }
        if (is(name, n, "timezone")) {
            if (v->u.dt.tz.kind != FL_TZ_ZONE)
                return fl_value_null();
            return fl_value_cstring(v->u.dt.tz.zone);
        }
        break;
    }
    case FL_VYMDURATION:
        if (is(name, n, "years"))
            return num(v->u.ymdur / 12);
        if (is(name, n, "months"))
            return num(v->u.ymdur % 12);
        break;
    case FL_VDTDURATION: {
        fl_i128 ns = v->u.dtdur;
        if (is(name, n, "days"))
            return num((int64_t)(ns / FL_NS_PER_DAY));
        if (is(name, n, "hours"))
            return num((int64_t)(ns / (3600 * FL_NS_PER_SEC) % 24));
        if (is(name, n, "minutes"))
            return num((int64_t)(ns / (60 * FL_NS_PER_SEC) % 60));
        if (is(name, n, "seconds"))
            return num((int64_t)(ns / FL_NS_PER_SEC % 60));
        break;
    }
    case FL_VRANGE:
        if (is(name, n, "start"))
            return fl_value_ref(v->u.range.lo ? v->u.range.lo : fl_value_null());
        if (is(name, n, "end"))
            return fl_value_ref(v->u.range.hi ? v->u.range.hi : fl_value_null());
        if (is(name, n, "start included"))
            return fl_value_bool(v->u.range.lo_closed);
        if (is(name, n, "end included"))
            return fl_value_bool(v->u.range.hi_closed);
        break;
    default:
        break;
    }
    *found = false;
    return NULL;
}
