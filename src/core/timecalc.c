/* ISO 8601 durations and UTC timestamps (see timecalc.h). Calendar conversion uses Howard
 * Hinnant's days_from_civil / civil_from_days, exact over the whole int64 range we accept,
 * so no libc time function (and no time zone state) is involved. */
#include <stdio.h>
#include <string.h>

#include "flowd/timecalc.h"
#include "util/intdiv.h"

#define MS_PER_DAY INT64_C(86400000)

int64_t fl_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void fl_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t yy = (int64_t)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static unsigned last_day(int64_t y, unsigned m)
{
    static const unsigned char dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

int fl_iso_duration_parse(const char *s, struct fl_iso_duration *out, struct fl_error *err)
{
    const char *p = s;
    bool in_time = false, any = false;
    int last_rank = -1;
    memset(out, 0, sizeof(*out));
    if (*p == '-') {
        out->negative = true;
        p++;
    } else if (*p == '+') {
        p++;
    }
    if (*p != 'P')
        goto bad;
    p++;
    while (*p) {
        if (*p == 'T') {
            if (in_time)
                goto bad;
            in_time = true;
            p++;
            if (!*p)
                goto bad;
            continue;
        }
        int64_t v = 0, frac = 0;
        int fracdig = 0;
        const char *start = p;
        while (*p >= '0' && *p <= '9') {
            if (v > INT64_C(100000000000))
                goto bad;
            v = v * 10 + (*p - '0');
            p++;
        }
        if (p == start)
            goto bad;
        if (*p == '.' || *p == ',') {
            p++;
            while (*p >= '0' && *p <= '9') {
                if (fracdig < 3) {
                    frac = frac * 10 + (*p - '0');
                    fracdig++;
                }
                p++;
            }
            while (fracdig < 3) {
                frac *= 10;
                fracdig++;
            }
            if (*p != 'S' || !in_time)
                goto bad;
        }
        int rank;
        char u = *p++;
        if (!in_time) {
            rank = u == 'Y' ? 0 : u == 'M' ? 1 : u == 'W' ? 2 : u == 'D' ? 3 : -1;
        } else {
            rank = u == 'H' ? 4 : u == 'M' ? 5 : u == 'S' ? 6 : -1;
        }
        if (rank < 0 || rank <= last_rank) {
            p--; /* point at the unit (or the end where one is missing), not past it */
            goto bad;
        }
        if (rank < 6 && v > INT32_MAX)
            goto bad;
        last_rank = rank;
        any = true;
        switch (rank) {
        case 0: out->years = (int32_t)v; break;
        case 1: out->months = (int32_t)v; break;
        case 2: out->weeks = (int32_t)v; break;
        case 3: out->days = (int32_t)v; break;
        case 4: out->hours = (int32_t)v; break;
        case 5: out->minutes = (int32_t)v; break;
        default: out->millis = v * 1000 + frac; break;
        }
    }
    if (!any)
        goto bad;
    return 0;
bad:
    if (err) {
        fl_error_set(err, FL_EPARSE, "invalid ISO 8601 duration '%s'", s);
        fl_error_at(err, NULL, 1, (int)(p - s) + 1);
    }
    return FL_EPARSE;
}

int64_t fl_iso_duration_add(int64_t t_ms, const struct fl_iso_duration *d)
{
    int sign = d->negative ? -1 : 1;
    int64_t days = fl_floordiv64(t_ms, MS_PER_DAY);
    int64_t ms_of_day = t_ms - days * MS_PER_DAY;
    int64_t y;
    unsigned m, dd;
    if (d->years || d->months) {
        fl_civil_from_days(days, &y, &m, &dd);
        int64_t mi = y * 12 + (m - 1) + sign * ((int64_t)d->years * 12 + d->months);
        y = fl_floordiv64(mi, 12);
        m = (unsigned)(mi - y * 12) + 1;
        if (dd > last_day(y, m))
            dd = last_day(y, m);
        days = fl_days_from_civil(y, m, dd);
    }
    days += sign * ((int64_t)d->weeks * 7 + d->days);
    int64_t ms = sign * (((int64_t)d->hours * 60 + d->minutes) * 60000 + d->millis);
    return days * MS_PER_DAY + ms_of_day + ms;
}

char *fl_time_format(int64_t t_ms, char *out)
{
    int64_t days = fl_floordiv64(t_ms, MS_PER_DAY);
    int64_t ms = t_ms - days * MS_PER_DAY;
    int64_t y;
    unsigned m, d;
    char tmp[96];
    fl_civil_from_days(days, &y, &m, &d);
    /* format into a roomy buffer: years far from now would not fit 32 bytes */
    snprintf(tmp, sizeof(tmp), "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
             (int)(ms / 3600000), (int)(ms / 60000 % 60), (int)(ms / 1000 % 60),
             (int)(ms % 1000));
    size_t n = strlen(tmp);
    if (n > 31)
        n = 31;
    memcpy(out, tmp, n);
    out[n] = 0;
    return out;
}

static int digits(const char **pp, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*pp)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *pp += n;
    *out = v;
    return 0;
}

int fl_time_parse(const char *s, int64_t *t_ms)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, se = 0, ms = 0, off = 0;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d))
        return FL_EPARSE;
    if (neg)
        y = -y;
    if (mo < 1 || mo > 12 || d < 1 || (unsigned)d > last_day(y, (unsigned)mo))
        return FL_EPARSE;
    if (*p == 0) {
        *t_ms = fl_days_from_civil(y, (unsigned)mo, (unsigned)d) * MS_PER_DAY;
        return 0;
    }
    if (*p != 'T' && *p != 't' && *p != ' ')
        return FL_EPARSE;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
        return FL_EPARSE;
    if (*p == ':') {
        p++;
        if (digits(&p, 2, &se))
            return FL_EPARSE;
        if (*p == '.') {
            int n = 0;
            p++;
            if (*p < '0' || *p > '9')
                return FL_EPARSE;
            while (*p >= '0' && *p <= '9') {
                if (n < 3) {
                    ms = ms * 10 + (*p - '0');
                    n++;
                }
                p++;
            }
            while (n++ < 3)
                ms *= 10;
        }
    }
    if (h > 23 || mi > 59 || se > 60)
        return FL_EPARSE;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om = 0;
        int sg = *p == '-' ? -1 : 1;
        p++;
        if (digits(&p, 2, &oh))
            return FL_EPARSE;
        if (*p == ':')
            p++;
        if (*p && digits(&p, 2, &om))
            return FL_EPARSE;
        if (oh > 18 || om > 59)
            return FL_EPARSE;
        off = sg * (oh * 60 + om);
    } else {
        return FL_EPARSE;
    }
    if (*p)
        return FL_EPARSE;
    *t_ms = fl_days_from_civil(y, (unsigned)mo, (unsigned)d) * MS_PER_DAY +
            ((int64_t)h * 3600 + mi * 60 + se) * 1000 + ms - (int64_t)off * 60000;
    return 0;
}
