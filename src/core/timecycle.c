/* ISO 8601 instants and repeating intervals for BPMN timer events (timeDate, timeCycle),
 * parsed with an error that names the column at fault, and "the next occurrence after t"
 * of a cycle. Pure arithmetic on UTC milliseconds like the rest of timecalc: a period is
 * applied by field (P1M from Jan 31 gives the last day of February), and occurrence n is
 * computed from the cycle's origin, not from occurrence n-1, so month ends do not drift. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "flowd/timecalc.h"

#define MS_PER_DAY INT64_C(86400000)

static int bad(struct fl_error *err, const char *what, const char *s, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Record "invalid <what> '<s>': <why>" at column col (1-based); returns FL_EPARSE. */
static int bad(struct fl_error *err, const char *what, const char *s, int col, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    if (!err)
        return FL_EPARSE;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    fl_error_set(err, FL_EPARSE, "invalid %s '%.200s': %s", what, s, why);
    fl_error_at(err, NULL, 1, col);
    return FL_EPARSE;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* n digits at s[*i] into *v; false (and *i at the first non-digit) when fewer. */
static bool take_digits(const char *s, size_t *i, int n, int *v)
{
    int x = 0;
    for (int k = 0; k < n; k++) {
        if (!is_digit(s[*i]))
            return false;
        x = x * 10 + (s[(*i)++] - '0');
    }
    *v = x;
    return true;
}

static unsigned days_in_month(int y, int m)
{
    static const unsigned char dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* Describe the character at s[i] for an error message. */
static const char *found(const char *s, size_t i, char *tmp)
{
    if (!s[i])
        return "the end";
    snprintf(tmp, 8, "'%c'", s[i]);
    return tmp;
}

int fl_iso_instant_parse(const char *s, int tz_offset_min, int64_t *t_ms, struct fl_error *err)
{
    static const char what[] = "date and time";
    size_t i = 0, at;
    int y, mo, d, h = 0, mi = 0, se = 0, ms = 0, off = tz_offset_min;
    char tmp[8];

    if (!take_digits(s, &i, 4, &y))
        return bad(err, what, s, (int)i + 1, "expected a 4-digit year, found %s", found(s, i, tmp));
    if (s[i] != '-')
        return bad(err, what, s, (int)i + 1, "expected '-' after the year, found %s",
                   found(s, i, tmp));
    at = ++i;
    if (!take_digits(s, &i, 2, &mo))
        return bad(err, what, s, (int)i + 1, "expected a 2-digit month, found %s",
                   found(s, i, tmp));
    if (mo < 1 || mo > 12)
        return bad(err, what, s, (int)at + 1, "month %d is out of range 1-12", mo);
    if (s[i] != '-')
        return bad(err, what, s, (int)i + 1, "expected '-' after the month, found %s",
                   found(s, i, tmp));
    at = ++i;
    if (!take_digits(s, &i, 2, &d))
        return bad(err, what, s, (int)i + 1, "expected a 2-digit day, found %s", found(s, i, tmp));
    if (d < 1 || (unsigned)d > days_in_month(y, mo))
        return bad(err, what, s, (int)at + 1, "day %d is out of range for %04d-%02d (1-%u)", d, y,
                   mo, days_in_month(y, mo));
    if (s[i] == '\0')
        goto done;
    if (s[i] != 'T' && s[i] != 't')
        return bad(err, what, s, (int)i + 1, "expected 'T' before the time, found %s",
                   found(s, i, tmp));
    at = ++i;
    if (!take_digits(s, &i, 2, &h))
        return bad(err, what, s, (int)i + 1, "expected a 2-digit hour, found %s", found(s, i, tmp));
    if (h > 23)
        return bad(err, what, s, (int)at + 1, "hour %d is out of range 0-23", h);
    if (s[i] != ':')
        return bad(err, what, s, (int)i + 1, "expected ':' after the hour, found %s",
                   found(s, i, tmp));
    at = ++i;
    if (!take_digits(s, &i, 2, &mi))
        return bad(err, what, s, (int)i + 1, "expected 2-digit minutes, found %s",
                   found(s, i, tmp));
    if (mi > 59)
        return bad(err, what, s, (int)at + 1, "minute %d is out of range 0-59", mi);
    if (s[i] == ':') {
        at = ++i;
        if (!take_digits(s, &i, 2, &se))
            return bad(err, what, s, (int)i + 1, "expected 2-digit seconds, found %s",
                       found(s, i, tmp));
        if (se > 59)
            return bad(err, what, s, (int)at + 1, "second %d is out of range 0-59", se);
        if (s[i] == '.' || s[i] == ',') {
            int n = 0;
            i++;
            if (!is_digit(s[i]))
                return bad(err, what, s, (int)i + 1, "expected digits after the decimal mark");
            for (; is_digit(s[i]); i++)
                if (n < 3) {
                    ms = ms * 10 + (s[i] - '0');
                    n++;
                }
            for (; n < 3; n++)
                ms *= 10;
        }
    }
    if (s[i] == 'Z' || s[i] == 'z') {
        off = 0;
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        int oh, om = 0, sign = s[i] == '-' ? -1 : 1;
        at = ++i;
        if (!take_digits(s, &i, 2, &oh))
            return bad(err, what, s, (int)i + 1, "expected a 2-digit offset hour, found %s",
                       found(s, i, tmp));
        if (s[i] == ':')
            i++;
        if (is_digit(s[i]) && !take_digits(s, &i, 2, &om))
            return bad(err, what, s, (int)i + 1, "expected 2-digit offset minutes, found %s",
                       found(s, i, tmp));
        if (oh > 18 || om > 59)
            return bad(err, what, s, (int)at + 1, "offset %02d:%02d is out of range", oh, om);
        off = sign * (oh * 60 + om);
    }
    if (s[i] != '\0')
        return bad(err, what, s, (int)i + 1, "unexpected %s after the time", found(s, i, tmp));
done:
    *t_ms = fl_days_from_civil(y, (unsigned)mo, (unsigned)d) * MS_PER_DAY +
            ((int64_t)h * 3600 + mi * 60 + se) * 1000 + ms - (int64_t)off * 60000;
    return 0;
}

bool fl_iso_duration_is_zero(const struct fl_iso_duration *d)
{
    return !d->years && !d->months && !d->weeks && !d->days && !d->hours && !d->minutes &&
           !d->millis;
}

/* Parse the duration in part (which starts at column col of s) into *d. */
static int cycle_period(const char *s, const char *part, int col, struct fl_iso_duration *d,
                        struct fl_error *err)
{
    struct fl_error fe;
    fl_error_clear(&fe);
    if (fl_iso_duration_parse(part, d, &fe) < 0)
        return bad(err, "cycle", s, col + (fe.column > 0 ? fe.column - 1 : 0),
                   "period '%s' is not an ISO 8601 duration", part);
    if (d->negative)
        return bad(err, "cycle", s, col, "period '%s' is negative", part);
    if (fl_iso_duration_is_zero(d))
        return bad(err, "cycle", s, col, "period '%s' is zero", part);
    return 0;
}

static int cycle_instant(const char *s, const char *part, int col, int tz, int64_t *t,
                         struct fl_error *err)
{
    struct fl_error fe;
    fl_error_clear(&fe);
    if (fl_iso_instant_parse(part, tz, t, &fe) < 0) {
        /* keep the instant's own reason; move its column into the whole text */
        const char *why = strstr(fe.msg, "': ");
        return bad(err, "cycle", s, col + (fe.column > 0 ? fe.column - 1 : 0), "%s",
                   why ? why + 3 : "not a date and time");
    }
    return 0;
}

int fl_iso_cycle_parse(const char *s, int tz_offset_min, struct fl_iso_cycle *out,
                       struct fl_error *err)
{
    char parts[3][80];
    int cols[3], n_parts = 0;
    size_t i = 1;
    int rc;

    memset(out, 0, sizeof(*out));
    out->repeat = -1;
    if (s[0] != 'R')
        return bad(err, "cycle", s, 1, "a cycle starts with 'R' (e.g. 'R/P1D', 'R5/PT10M')");
    if (is_digit(s[i])) {
        int64_t n = 0;
        for (; is_digit(s[i]); i++) {
            n = n * 10 + (s[i] - '0');
            if (n > INT32_MAX)
                return bad(err, "cycle", s, 2, "repetition count is too large");
        }
        if (n == 0)
            return bad(err, "cycle", s, 2, "R0 repeats nothing; give a count of at least 1");
        out->repeat = n;
    }
    if (s[i] != '/')
        return bad(err, "cycle", s, (int)i + 1, "expected '/' after the repetitions");
    while (s[i] == '/') {
        size_t start = ++i, len;
        while (s[i] && s[i] != '/')
            i++;
        len = i - start;
        if (n_parts == 3)
            return bad(err, "cycle", s, (int)start, "too many parts (at most start/period/end)");
        if (len == 0)
            return bad(err, "cycle", s, (int)start + 1, "empty part");
        if (len >= sizeof(parts[0]))
            return bad(err, "cycle", s, (int)start + 1, "part is too long");
        memcpy(parts[n_parts], s + start, len);
        parts[n_parts][len] = '\0';
        cols[n_parts++] = (int)start + 1;
    }
    if (n_parts == 3)
        return bad(err, "cycle", s, cols[2] - 1,
                   "give a start or an end with the period, not both");
    if (parts[0][0] == 'P') {
        if ((rc = cycle_period(s, parts[0], cols[0], &out->period, err)) < 0)
            return rc;
        if (n_parts == 2) {
            if ((rc = cycle_instant(s, parts[1], cols[1], tz_offset_min, &out->end_ms, err)) < 0)
                return rc;
            out->has_end = true;
        }
        return 0;
    }
    if ((rc = cycle_instant(s, parts[0], cols[0], tz_offset_min, &out->start_ms, err)) < 0)
        return rc;
    out->has_start = true;
    if (n_parts < 2)
        return bad(err, "cycle", s, (int)strlen(s) + 1,
                   "expected '/' and a period after the start");
    if (parts[1][0] != 'P')
        return bad(err, "cycle", s, cols[1],
                   "expected a period after the start (an end needs no start)");
    return cycle_period(s, parts[1], cols[1], &out->period, err);
}

/* base + k periods; false when the product leaves the representable range. */
static bool add_times(int64_t base, const struct fl_iso_duration *p, int64_t k, int64_t *out)
{
    struct fl_iso_duration d = *p;
    int64_t f[6] = {p->years, p->months, p->weeks, p->days, p->hours, p->minutes};
    int32_t *dst[6] = {&d.years, &d.months, &d.weeks, &d.days, &d.hours, &d.minutes};
    for (int i = 0; i < 6; i++) {
        if (f[i] && k > INT32_MAX / f[i])
            return false;
        *dst[i] = (int32_t)(f[i] * k);
    }
    if (p->millis && k > INT64_MAX / 4 / p->millis)
        return false;
    d.millis = p->millis * k;
    *out = fl_iso_duration_add(base, &d);
    return true;
}

/* A rough length of a period, only to guess where to start counting. */
static double approx_ms(const struct fl_iso_duration *p)
{
    return p->years * 31556952000.0 + p->months * 2629746000.0 + p->weeks * 604800000.0 +
           p->days * 86400000.0 + p->hours * 3600000.0 + p->minutes * 60000.0 + (double)p->millis;
}

int fl_iso_cycle_next(const struct fl_iso_cycle *c, int64_t anchor, int64_t after, int64_t *out,
                      int64_t *n)
{
    int64_t base = c->has_start ? c->start_ms : anchor;
    int64_t kmin = c->has_start ? 0 : 1, k = kmin, t;
    double len = approx_ms(&c->period);

    if (len <= 0 || c->period.negative)
        return FL_ENOTFOUND;
    if (after > base) {
        double guess = ((double)after - (double)base) / len - 2;
        if (guess > (double)INT32_MAX * 12)
            return FL_ENOTFOUND;
        if (guess > (double)k)
            k = (int64_t)guess;
    }
    /* the guess is within a period or two; step back if it overshot, then forward */
    while (k > kmin && add_times(base, &c->period, k, &t) && t > after)
        k--;
    for (;;) {
        if (!add_times(base, &c->period, k, &t))
            return FL_ENOTFOUND;
        if (t > after)
            break;
        k++;
    }
    if (!c->has_start)
        k--; /* occurrence numbers count from 1 either way */
    if (c->repeat >= 0 && k + 1 > c->repeat)
        return FL_ENOTFOUND;
    if (c->has_end && t >= c->end_ms)
        return FL_ENOTFOUND;
    *out = t;
    if (n)
        *n = k + 1;
    return 0;
}
