/* Working-time arithmetic on a business calendar (rules in calendar.h and
 * docs/calendars.md). Working intervals are wall-clock times of a local day, turned into
 * instants through the calendar's time zone one day at a time, so a day on which the
 * clocks change still has its full 09:00-18:00. Searches walk day by day and give up
 * after 400 years, so a calendar that never works again cannot loop for ever. */
#include <stdio.h>

#include "core/calendar_int.h"
#include "core/value_impl.h"
#include "util/intdiv.h"

#define MS_PER_DAY INT64_C(86400000)
#define MS_PER_MIN INT64_C(60000)
#define MAX_DAYS (366 * 400)

/* Local day of the instant t, and the local milliseconds into that day. */
static int64_t local_day(const struct fl_calendar *c, int64_t t, int64_t *ms_of_day)
{
    int64_t l = t + (int64_t)fl__tz_offset_at_utc(c->zone_idx, t) * 1000;
    int64_t day = fl_floordiv64(l, MS_PER_DAY);
    *ms_of_day = l - day * MS_PER_DAY;
    return day;
}

/* The instant of local wall-clock time ms_of_day (may be 24:00) on local day `day`. */
static int64_t to_utc(const struct fl_calendar *c, int64_t day, int64_t ms_of_day)
{
    int64_t l = day * MS_PER_DAY + ms_of_day;
    return l - (int64_t)fl__tz_offset_at_local(c->zone_idx, l) * 1000;
}

static int too_far(const struct fl_calendar *c, struct fl_error *err)
{
    return fl_error_set(err, FL_EINVAL,
                        "calendar '%s' has no working time to place this within 400 years",
                        c->name);
}

bool fl_calendar_is_working(const struct fl_calendar *c, int64_t t)
{
    int64_t ms;
    int64_t day = local_day(c, t, &ms);
    const struct fl__cal_hours *h = fl__cal_hours_of(c, day);
    for (unsigned k = 0; k < h->n; k++)
        if (h->span[k].start * MS_PER_MIN <= ms && ms < h->span[k].end * MS_PER_MIN)
            return true;
    return false;
}

/* The first interval start after local (day, ms), as (day, ms). */
static int next_start(const struct fl_calendar *c, int64_t day, int64_t ms, int64_t *oday,
                      int64_t *oms, struct fl_error *err)
{
    for (int i = 0; i < MAX_DAYS; i++, day++, ms = -1) {
        const struct fl__cal_hours *h = fl__cal_hours_of(c, day);
        for (unsigned k = 0; k < h->n; k++) {
            if (h->span[k].start * MS_PER_MIN > ms) {
                *oday = day;
                *oms = h->span[k].start * MS_PER_MIN;
                return 0;
            }
        }
    }
    return too_far(c, err);
}

/* The last interval end before local (day, ms), as (day, ms). */
static int prev_end(const struct fl_calendar *c, int64_t day, int64_t ms, int64_t *oday,
                    int64_t *oms, struct fl_error *err)
{
    for (int i = 0; i < MAX_DAYS; i++, day--, ms = MS_PER_DAY + 1) {
        const struct fl__cal_hours *h = fl__cal_hours_of(c, day);
        for (unsigned k = h->n; k-- > 0;) {
            if (h->span[k].end * MS_PER_MIN < ms) {
                *oday = day;
                *oms = h->span[k].end * MS_PER_MIN;
                return 0;
            }
        }
    }
    return too_far(c, err);
}

int fl_calendar_next_working(const struct fl_calendar *c, int64_t t, int64_t *out,
                             struct fl_error *err)
{
    int64_t ms, day, nd = 0, nms = 0;
    int rc;
    if (fl_calendar_is_working(c, t)) {
        *out = t;
        return 0;
    }
    day = local_day(c, t, &ms);
    if ((rc = next_start(c, day, ms, &nd, &nms, err)) != 0)
        return rc;
    *out = to_utc(c, nd, nms);
    return 0;
}

/* Where counting working days starts: t itself when it lies in an interval including its
 * end (so 18:00 on Friday plus a day is 18:00 on Monday), else the next working moment
 * (the previous one, backward). */
static int position(const struct fl_calendar *c, int64_t t, bool backward, int64_t *day,
                    int64_t *ms, struct fl_error *err)
{
    const struct fl__cal_hours *h;
    *day = local_day(c, t, ms);
    h = fl__cal_hours_of(c, *day);
    for (unsigned k = 0; k < h->n; k++)
        if (h->span[k].start * MS_PER_MIN <= *ms && *ms <= h->span[k].end * MS_PER_MIN)
            return 0;
    if (backward)
        return prev_end(c, *day, *ms, day, ms, err);
    return next_start(c, *day, *ms, day, ms, err);
}

/* Clamp a time of day into a working day's hours: itself inside an interval, else the end
 * of the last interval before it, else (before the first) the first start. */
static int64_t clamp(const struct fl__cal_hours *h, int64_t ms)
{
    for (unsigned k = h->n; k-- > 0;) {
        if (h->span[k].start * MS_PER_MIN <= ms)
            return ms < h->span[k].end * MS_PER_MIN ? ms : h->span[k].end * MS_PER_MIN;
    }
    return h->span[0].start * MS_PER_MIN;
}

/* n working days from t (backward: before it), same local time clamped. */
static int add_days(const struct fl_calendar *c, int64_t t, int64_t n, bool backward, int64_t *out,
                    struct fl_error *err)
{
    int64_t day, ms;
    int step = backward ? -1 : 1;
    int rc;
    if ((rc = position(c, t, backward, &day, &ms, err)) != 0)
        return rc;
    for (int i = 0; n > 0; i++) {
        if (i >= MAX_DAYS)
            return too_far(c, err);
        day += step;
        if (fl__cal_hours_of(c, day)->n > 0)
            n--;
    }
    *out = to_utc(c, day, clamp(fl__cal_hours_of(c, day), ms));
    return 0;
}

/* Calendar years and months on the local date, then the nearest working moment. */
static int add_months(const struct fl_calendar *c, int64_t t, int64_t months, bool backward,
                      int64_t *out, struct fl_error *err)
{
    static const unsigned char dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t ms, day = local_day(c, t, &ms), y, mi;
    unsigned m, d, last;
    int rc;
    fl_civil_from_days(day, &y, &m, &d);
    mi = y * 12 + (m - 1) + (backward ? -months : months);
    y = fl_floordiv64(mi, 12);
    m = (unsigned)(mi - y * 12) + 1;
    last = dm[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    if (d > last)
        d = last;
    day = fl_days_from_civil(y, m, d);
    if ((rc = position(c, to_utc(c, day, ms), backward, &day, &ms, err)) != 0)
        return rc;
    *out = to_utc(c, day, ms);
    return 0;
}

/* Working time: consume ms milliseconds of intervals from t (backward: before t). */
static int add_time(const struct fl_calendar *c, int64_t t, int64_t rem, bool backward,
                    int64_t *out, struct fl_error *err)
{
    int64_t ms, day = local_day(c, t, &ms);
    for (int i = 0; i < MAX_DAYS; i++, day += backward ? -1 : 1) {
        const struct fl__cal_hours *h = fl__cal_hours_of(c, day);
        for (unsigned j = 0; j < h->n; j++) {
            unsigned k = backward ? h->n - 1 - j : j;
            int64_t a = to_utc(c, day, h->span[k].start * MS_PER_MIN);
            int64_t b = to_utc(c, day, h->span[k].end * MS_PER_MIN);
            if (!backward) {
                int64_t from = a > t ? a : t;
                if (b <= t)
                    continue;
                if (rem <= b - from) {
                    *out = from + rem;
                    return 0;
                }
                rem -= b - from;
            } else {
                int64_t to = b < t ? b : t;
                if (a >= t)
                    continue;
                if (rem <= to - a) {
                    *out = to - rem;
                    return 0;
                }
                rem -= to - a;
            }
        }
    }
    return too_far(c, err);
}

int fl_calendar_add(const struct fl_calendar *c, int64_t t, const struct fl_iso_duration *d,
                    int64_t *out, struct fl_error *err)
{
    bool back = d->negative;
    int64_t months = (int64_t)d->years * 12 + d->months;
    int64_t days = (int64_t)d->weeks * c->working_weekdays + d->days;
    int64_t ms = ((int64_t)d->hours * 60 + d->minutes) * MS_PER_MIN + d->millis;
    int rc;

    *out = t;
    if (months && (rc = add_months(c, *out, months, back, out, err)) != 0)
        return rc;
    if (days && (rc = add_days(c, *out, days, back, out, err)) != 0)
        return rc;
    if (ms && (rc = add_time(c, *out, ms, back, out, err)) != 0)
        return rc;
    return 0;
}
