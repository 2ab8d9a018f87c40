/* Internals of business calendars shared by the reader/writer (calendar.c) and the
 * working-time arithmetic (calendar_time.c): the parsed calendar with its weekly hours,
 * sorted holidays and moved working days, and the lookup of one local day's hours. */
#ifndef FLOWD_CALENDAR_INT_H
#define FLOWD_CALENDAR_INT_H

#include <stdint.h>

#include "flowd/calendar.h"

#define FL__CAL_MAX_SPANS 8     /* working intervals per day */
#define FL__CAL_MAX_DATES 10000 /* holidays, and moved working days, each */
#define FL__CAL_MINUTES_DAY 1440

/* A working interval of a day, wall-clock minutes [start, end), end up to 24:00. */
struct fl__cal_span {
    uint16_t start, end;
};

struct fl__cal_hours {
    struct fl__cal_span span[FL__CAL_MAX_SPANS]; /* sorted, disjoint */
    uint8_t n;
};

struct fl__cal_holiday {
    int64_t day; /* days since 1970-01-01 (local date) */
    char *name;  /* or NULL */
};

struct fl__cal_workday {
    int64_t day;
    char *name; /* or NULL */
    struct fl__cal_hours hours;
};

struct fl_calendar {
    char *name;
    char *zone;                       /* IANA id as given */
    int zone_idx;                     /* in the built-in zone table (core/tzrules.c) */
    struct fl__cal_hours week[7];     /* [0] = Monday */
    struct fl__cal_holiday *holidays; /* sorted by day */
    size_t n_holidays;
    struct fl__cal_workday *workdays; /* sorted by day */
    size_t n_workdays;
    int32_t year_from, year_to; /* the valid range; both 0 when none */
    int working_weekdays;       /* weekdays of `week` with hours (>= 1) */
};

/* The hours of local day `day` (moved working day, else none on a holiday, else the
 * weekday's). Borrowed from c. */
const struct fl__cal_hours *fl__cal_hours_of(const struct fl_calendar *c, int64_t day);

/* Weekday of a day number, 0 = Monday. */
static inline int fl__cal_weekday(int64_t day)
{
    return (int)(((day % 7) + 7 + 3) % 7);
}

#endif
