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

#endif
