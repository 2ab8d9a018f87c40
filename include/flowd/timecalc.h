/* Calendar arithmetic on instants: ISO 8601 durations and timestamps, pure (no clock, no
 * time zone database). Instants are int64 milliseconds since the Unix epoch, UTC. Working
 * calendars (working days and hours) build on this in flowd/calendar.h. */
#ifndef FLOWD_TIMECALC_H
#define FLOWD_TIMECALC_H

#include <stdbool.h>
#include <stdint.h>

#include "flowd/err.h"

/* An ISO 8601 duration "PnYnMnDTnHnMnS" / "PnW", kept by field (months and days are not
 * fixed lengths of time). Seconds carry milliseconds. */
struct fl_iso_duration {
    bool negative;
    int32_t years, months, weeks, days, hours, minutes;
    int64_t millis; /* seconds * 1000 + fraction */
};

/* Parse text (e.g. "P3D", "PT4H", "-P1Y2M", "P2W", "PT1.5S"); FL_EPARSE with column. */
int fl_iso_duration_parse(const char *s, struct fl_iso_duration *out, struct fl_error *err);

/* t plus d in calendar time (UTC fields: adding P1M to Jan 31 gives the last day of Feb). */
int64_t fl_iso_duration_add(int64_t t_ms, const struct fl_iso_duration *d);

/* Format t as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (at least 32 bytes); returns out. */
char *fl_time_format(int64_t t_ms, char *out);

/* Parse an ISO 8601 date-time with Z or offset (or a plain date, taken as 00:00Z) into
 * *t_ms; FL_EPARSE otherwise. */
int fl_time_parse(const char *s, int64_t *t_ms);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t fl_days_from_civil(int64_t y, unsigned m, unsigned d);
void fl_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* An ISO 8601 repeating interval, as BPMN timeCycle uses it: "R[n]/<duration>",
 * "R[n]/<start>/<duration>" or "R[n]/<duration>/<end>" (n omitted = unbounded). */
struct fl_iso_cycle {
    int64_t repeat; /* number of occurrences, -1 = unbounded */
    bool has_start, has_end;
    int64_t start_ms, end_ms; /* when has_start / has_end */
    struct fl_iso_duration period;
};

/* Parse an ISO 8601 instant "YYYY-MM-DD[Thh:mm[:ss[.fff]][Z|+hh[:mm]]]" into *t_ms; a
 * date-time without zone is taken at tz_offset_min (minutes east of UTC), a plain date at
 * its midnight there. FL_EPARSE with the column of the fault in err (e.g. "day 30 is out
 * of range for 2026-02"). */
int fl_iso_instant_parse(const char *s, int tz_offset_min, int64_t *t_ms, struct fl_error *err);

/* Parse a repeating interval (instants without zone at tz_offset_min). FL_EPARSE with
 * the column of the fault: a zero or negative period, R0, an end before the start, both a
 * start and an end. */
int fl_iso_cycle_parse(const char *s, int tz_offset_min, struct fl_iso_cycle *out,
                       struct fl_error *err);

/* The first occurrence of c later than `after`. Occurrence n (1-based) is start + (n-1)
 * periods with a start, else anchor + n periods (the instant the cycle was armed).
 * *out gets its instant and *n its number (NULL allowed); occurrences past repeat or at
 * or after the end do not exist. Returns 0, or FL_ENOTFOUND when none is left. */
int fl_iso_cycle_next(const struct fl_iso_cycle *c, int64_t anchor, int64_t after, int64_t *out,
                      int64_t *n);

/* A cron expression as Camunda 7 (Quartz) writes a timeCycle: "sec min hour day-of-month
 * month day-of-week [year]", e.g. "0 0/5 * * * ?" (see docs/bpmn-support.md). Each field is
 * a set of allowed values; day-of-month and day-of-week add Quartz's L, W and # forms. */
struct fl_cron {
    uint64_t sec, min; /* bits 0-59 */
    uint32_t hour;     /* bits 0-23 */
    uint32_t dom;      /* bits 1-31 */
    uint16_t mon;      /* bits 1-12 */
    uint8_t dow;       /* bits 0-6, 0 = Sunday */
    bool dom_any, dow_any; /* '?' or '*': the field does not restrict */
    int8_t dom_last;       /* L: -1 none, else days before the month's last (L-3 = 3) */
    bool dom_last_weekday; /* LW: the last weekday (Mon-Fri) of the month */
    int8_t dom_near_weekday; /* nW: the weekday nearest day n (0 none) */
    int8_t dow_last;       /* nL: the last day-of-week n of the month (-1 none) */
    int8_t dow_nth_day, dow_nth; /* n#k: the k-th day-of-week n of the month (k 0 none) */
    bool has_years;
    uint64_t years[4]; /* bits for 1970 + 0..255 when has_years */
};

/* True when s looks like a cron text (5 or more fields of cron characters), so a caller
 * can tell it from an ISO 8601 cycle before parsing. */
bool fl_cron_is(const char *s);

/* Parse a cron text of 6 or 7 fields. FL_EPARSE with err->column (1-based, in s) at the
 * faulty field or character and a message naming it. */
int fl_cron_parse(const char *s, struct fl_cron *out, struct fl_error *err);

/* The first instant after `after` (ms) that c allows, its fields read in local time at
 * tz_offset_min (minutes east of UTC). Returns 0, or FL_ENOTFOUND when there is none
 * before 2226 (a past year list, or Feb 30). Pure. */
int fl_cron_next(const struct fl_cron *c, int64_t after, int32_t tz_offset_min, int64_t *out);

/* True when d adds no time at all (every field zero). */
bool fl_iso_duration_is_zero(const struct fl_iso_duration *d);

#endif
