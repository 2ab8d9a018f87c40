/* Cron timer cycles as Camunda 7 writes them (Quartz syntax: seconds first, '?', L, W, #,
 * names), parsed into sets of allowed values per field, and the next occurrence after an
 * instant found by jumping field by field (year, month, day, hour, minute, second) to the
 * next allowed value instead of ticking through seconds. Pure: a function of the text, an
 * instant and an offset, like the rest of timecalc. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "flowd/timecalc.h"

#define YEAR0 1970
#define YEAR_MAX (YEAR0 + 255)

enum field { F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, F_YEAR };

static const struct {
    const char *name;
    int lo, hi;
} fields[] = {
    [F_SEC] = {"seconds", 0, 59},         [F_MIN] = {"minutes", 0, 59},
    [F_HOUR] = {"hours", 0, 23},          [F_DOM] = {"day-of-month", 1, 31},
    [F_MON] = {"month", 1, 12},           [F_DOW] = {"day-of-week", 1, 7},
    [F_YEAR] = {"year", YEAR0, YEAR_MAX},
};

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

static int bad(struct fl_error *err, const char *s, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int bad(struct fl_error *err, const char *s, size_t off, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fl_error_set(err, FL_EPARSE, "cron '%.100s': %s", s, msg);
    if (err) {
        err->line = 1;
        err->column = (int)off + 1;
    }
    return FL_EPARSE;
}

static bool is_cron_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           strchr("*?/,-#", c) != NULL;
}

bool fl_cron_is(const char *s)
{
    int n = 0;
    bool in = false;
    for (; s && *s; s++) {
        if (*s == ' ' || *s == '\t') {
            in = false;
            continue;
        }
        if (!is_cron_char(*s))
            return false;
        if (!in)
            n++;
        in = true;
    }
    return n >= 5;
}

static void set_bit(uint64_t *bits, int v)
{
    bits[v / 64] |= (uint64_t)1 << (v % 64);
}

static bool has_bit(const uint64_t *bits, int v)
{
    return (bits[v / 64] >> (v % 64)) & 1;
}

/* A value of field f at s[*i] (a number or, for months and days, a name); advances *i. */
static int value(const char *s, size_t *i, enum field f, int *v, struct fl_error *err)
{
    size_t st = *i;
    if (s[*i] >= '0' && s[*i] <= '9') {
        long n = 0;
        while (s[*i] >= '0' && s[*i] <= '9' && n < 100000)
            n = n * 10 + (s[(*i)++] - '0');
        *v = (int)n;
    } else if (f == F_MON || f == F_DOW) {
        const char *const *names = f == F_MON ? month_names : day_names;
        int n = f == F_MON ? 12 : 7, k;
        for (k = 0; k < n; k++)
            if (!strncasecmp(s + *i, names[k], 3))
                break;
        if (k == n)
            return bad(err, s, st, "'%.3s' is not a %s name", s + st, f == F_MON ? "month" : "day");
        *v = k + 1;
        *i += 3;
    } else {
        return bad(err, s, st, "expected a number in the %s field", fields[f].name);
    }
    if (*v < fields[f].lo || *v > fields[f].hi)
        return bad(err, s, st, "%d is out of range for %s (%d-%d)", *v, fields[f].name,
                   fields[f].lo, fields[f].hi);
    return 0;
}

/* One comma-separated item of a generic field: *, a, a-b, with an optional /step. */
static int item(const char *s, size_t i, size_t end, enum field f, uint64_t *bits,
                struct fl_error *err)
{
    int lo = fields[f].lo, hi = fields[f].hi, a = lo, b = hi, step = 1, rc;
    bool range = true;
    size_t st = i;
    if (s[i] == '*') {
        i++;
    } else {
        if ((rc = value(s, &i, f, &a, err)) < 0)
            return rc;
        b = a;
        range = false;
        if (i < end && s[i] == '-') {
            i++;
            if ((rc = value(s, &i, f, &b, err)) < 0)
                return rc;
            range = true;
        }
    }
    if (i < end && s[i] == '/') {
        size_t at = ++i;
        long n = 0;
        while (i < end && s[i] >= '0' && s[i] <= '9' && n < 100000)
            n = n * 10 + (s[i++] - '0');
        if (at == i || n < 1 || n > hi - lo + 1)
            return bad(err, s, at, "step must be a whole number from 1 to %d", hi - lo + 1);
        step = (int)n;
        if (!range)
            b = hi; /* "a/n": from a every n to the end */
    }
    if (i != end)
        return bad(err, s, i, "unexpected '%c' in the %s field", s[i], fields[f].name);
    if (a <= b) {
        for (int v = a; v <= b; v += step)
            set_bit(bits, v - (f == F_YEAR ? YEAR0 : 0));
    } else { /* a wrapping range: FRI-MON, 22-2 */
        int span = (hi - a + 1) + (b - lo + 1);
        for (int k = 0; k < span; k += step) {
            int v = a + k <= hi ? a + k : lo + (a + k - hi - 1);
            set_bit(bits, v - (f == F_YEAR ? YEAR0 : 0));
        }
    }
    (void)st;
    return 0;
}

/* The L, W and # forms of the day fields, which stand alone in their field. Returns 1
 * when s[i, end) was one of them, 0 when not, or an error. */
static int day_special(const char *s, size_t i, size_t end, enum field f, struct fl_cron *c,
                       struct fl_error *err)
{
    size_t n = end - i;
    const char *t = s + i;
    int v, rc;
    size_t j;
    if (f == F_DOM) {
        if (n == 1 && (t[0] == 'L' || t[0] == 'l')) {
            c->dom_last = 0;
            return 1;
        }
        if (n == 2 && !strncasecmp(t, "LW", 2)) {
            c->dom_last_weekday = true;
            return 1;
        }
        if (n > 2 && (t[0] == 'L' || t[0] == 'l') && t[1] == '-') {
            long k = 0;
            for (j = 2; j < n && t[j] >= '0' && t[j] <= '9' && k < 1000; j++)
                k = k * 10 + (t[j] - '0');
            if (j != n || k > 30)
                return bad(err, s, i + 2, "L-n needs n from 0 to 30");
            c->dom_last = (int8_t)k;
            return 1;
        }
        if (n >= 2 && (t[n - 1] == 'W' || t[n - 1] == 'w')) {
            j = i;
            if ((rc = value(s, &j, F_DOM, &v, err)) < 0)
                return rc;
            if (j != end - 1)
                return bad(err, s, j, "nW needs one day number before W");
            c->dom_near_weekday = (int8_t)v;
            return 1;
        }
        return 0;
    }
    /* day of week: L (Saturday), nL, n#k */
    if (n == 1 && (t[0] == 'L' || t[0] == 'l')) {
        c->dow |= 1u << 6;
        return 1;
    }
    for (j = 0; j < n && t[j] != '#'; j++)
        ;
    if (j < n) {
        size_t at = i;
        long k;
        if ((rc = value(s, &at, F_DOW, &v, err)) < 0)
            return rc;
        if (at != i + j)
            return bad(err, s, at, "n#k needs one day before '#'");
        k = (j + 2 == n && t[j + 1] >= '1' && t[j + 1] <= '5') ? t[j + 1] - '0' : 0;
        if (!k)
            return bad(err, s, i + j + 1, "n#k needs k from 1 to 5");
        c->dow_nth_day = (int8_t)(v - 1);
        c->dow_nth = (int8_t)k;
        return 1;
    }
    if (n >= 2 && (t[n - 1] == 'L' || t[n - 1] == 'l')) {
        size_t at = i;
        if ((rc = value(s, &at, F_DOW, &v, err)) < 0)
            return rc;
        if (at != end - 1)
            return bad(err, s, at, "nL needs one day before L");
        c->dow_last = (int8_t)(v - 1);
        return 1;
    }
    return 0;
}

static int field(const char *s, size_t i, size_t end, enum field f, struct fl_cron *c,
                 uint64_t *bits, struct fl_error *err)
{
    int rc;
    if (end - i == 1 && s[i] == '?') {
        if (f != F_DOM && f != F_DOW)
            return bad(err, s, i, "'?' is only for day-of-month or day-of-week");
        if (f == F_DOM)
            c->dom_any = true;
        else
            c->dow_any = true;
        return 0;
    }
    if (end - i == 1 && s[i] == '*' && (f == F_DOM || f == F_DOW)) {
        if (f == F_DOM)
            c->dom_any = true;
        else
            c->dow_any = true;
        return 0;
    }
    if ((f == F_DOM || f == F_DOW) && (rc = day_special(s, i, end, f, c, err)) != 0)
        return rc < 0 ? rc : 0;
    while (i < end) {
        size_t e = i;
        while (e < end && s[e] != ',')
            e++;
        if (e == i)
            return bad(err, s, i, "empty item in the %s field", fields[f].name);
        if ((rc = item(s, i, e, f, bits, err)) < 0)
            return rc;
        i = e + 1;
        if (e < end && i == end)
            return bad(err, s, e, "empty item in the %s field", fields[f].name);
    }
    return 0;
}

int fl_cron_parse(const char *s, struct fl_cron *out, struct fl_error *err)
{
    size_t starts[8], ends[8], i = 0;
    int n = 0, rc;
    memset(out, 0, sizeof(*out));
    out->dom_last = -1;
    out->dow_last = -1;
    while (s[i]) {
        while (s[i] == ' ' || s[i] == '\t')
            i++;
        if (!s[i])
            break;
        if (n == 7)
            return bad(err, s, i,
                       "too many fields (6 or 7: seconds minutes hours "
                       "day-of-month month day-of-week [year])");
        starts[n] = i;
        while (s[i] && s[i] != ' ' && s[i] != '\t')
            i++;
        ends[n++] = i;
    }
    if (n < 6)
        return bad(err, s, i,
                   "%d fields; Camunda's cron has 6 or 7: seconds minutes hours day-of-month "
                   "month day-of-week [year]",
                   n);
    for (int f = 0; f < n; f++) {
        uint64_t bits[4] = {0, 0, 0, 0};
        if ((rc = field(s, starts[f], ends[f], (enum field)f, out, bits, err)) < 0)
            return rc;
        switch ((enum field)f) {
        case F_SEC:
            out->sec = bits[0];
            break;
        case F_MIN:
            out->min = bits[0];
            break;
        case F_HOUR:
            out->hour = (uint32_t)bits[0];
            break;
        case F_DOM:
            out->dom = (uint32_t)bits[0];
            break;
        case F_MON:
            out->mon = (uint16_t)bits[0];
            break;
        case F_DOW:
            out->dow |= (uint8_t)(bits[0] >> 1); /* value 1 (Sunday) is bit 0 */
            break;
        case F_YEAR:
            out->has_years = true;
            memcpy(out->years, bits, sizeof(bits));
            break;
        }
    }
    {
        bool dom_set = !out->dom_any, dow_set = !out->dow_any;
        if (dom_set && dow_set)
            return bad(err, s, starts[F_DOW],
                       "both day-of-month and day-of-week are given; put '?' in one of them");
    }
    return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static unsigned month_days(int64_t y, unsigned m)
{
    static const unsigned d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

static int weekday(int64_t y, unsigned m, unsigned d) /* 0 = Sunday */
{
    int64_t w = (fl_days_from_civil(y, m, d) + 4) % 7; /* 1970-01-01 was a Thursday */
    return (int)(w < 0 ? w + 7 : w);
}

static bool day_ok(const struct fl_cron *c, int64_t y, unsigned m, unsigned d)
{
    unsigned last = month_days(y, m);
    int wd = weekday(y, m, d);
    bool dom = true, dow = true;
    if (!c->dom_any) {
        if (c->dom_last >= 0) {
            dom = (int)d == (int)last - c->dom_last;
        } else if (c->dom_last_weekday) {
            int lw = weekday(y, m, last);
            unsigned t = lw == 6 ? last - 1 : lw == 0 ? last - 2 : last;
            dom = d == t;
        } else if (c->dom_near_weekday) {
            unsigned t = (unsigned)c->dom_near_weekday;
            if (t > last) {
                dom = false;
            } else {
                int tw = weekday(y, m, t);
                if (tw == 6) /* Saturday: the Friday before, or Monday when it is the 1st */
                    t = t > 1 ? t - 1 : t + 2;
                else if (tw == 0) /* Sunday: the Monday after, or Friday at the month end */
                    t = t < last ? t + 1 : t - 2;
                dom = d == t;
            }
        } else {
            dom = (c->dom >> d) & 1;
        }
    }
    if (!c->dow_any) {
        if (c->dow_last >= 0)
            dow = wd == c->dow_last && d + 7 > last;
        else if (c->dow_nth)
            dow = wd == c->dow_nth_day && (int)((d - 1) / 7 + 1) == c->dow_nth;
        else
            dow = (c->dow >> wd) & 1;
    }
    return dom && dow;
}

/* The smallest allowed value >= v in mask bits [v, hi], or -1. */
static int next_in(uint64_t mask, int v, int hi)
{
    for (; v <= hi; v++)
        if ((mask >> v) & 1)
            return v;
    return -1;
}

int fl_cron_next(const struct fl_cron *c, int64_t after, int32_t tz_offset_min, int64_t *out)
{
    int64_t off = (int64_t)tz_offset_min * 60;
    int64_t s = floor_div(after, 1000) + off + 1; /* local seconds, strictly after */
    for (long guard = 0; guard < 2000000; guard++) {
        int64_t days = floor_div(s, 86400), rem = s - days * 86400, y;
        unsigned mo, d;
        int h = (int)(rem / 3600), mi = (int)(rem % 3600 / 60), se = (int)(rem % 60), v;
        fl_civil_from_days(days, &y, &mo, &d);
        if (y > YEAR_MAX)
            return FL_ENOTFOUND;
        if (c->has_years && (y < YEAR0 || !has_bit(c->years, (int)(y - YEAR0)))) {
            int64_t ny = y < YEAR0 ? YEAR0 : y + 1;
            while (ny <= YEAR_MAX && !has_bit(c->years, (int)(ny - YEAR0)))
                ny++;
            if (ny > YEAR_MAX)
                return FL_ENOTFOUND;
            s = fl_days_from_civil(ny, 1, 1) * 86400;
            continue;
        }
        if (!((c->mon >> mo) & 1)) {
            s = (mo == 12 ? fl_days_from_civil(y + 1, 1, 1) : fl_days_from_civil(y, mo + 1, 1)) *
                86400;
            continue;
        }
        if (!day_ok(c, y, mo, d)) {
            s = (days + 1) * 86400;
            continue;
        }
        if ((v = next_in(c->hour, h, 23)) != h) {
            s = v < 0 ? (days + 1) * 86400 : days * 86400 + v * 3600;
            continue;
        }
        if ((v = next_in(c->min, mi, 59)) != mi) {
            s = v < 0 ? days * 86400 + (h + 1) * 3600 : days * 86400 + h * 3600 + v * 60;
            continue;
        }
        if ((v = next_in(c->sec, se, 59)) != se) {
            s = v < 0 ? s - se + 60 : s - se + v;
            continue;
        }
        *out = (s - off) * 1000;
        return 0;
    }
    return FL_ENOTFOUND;
}
