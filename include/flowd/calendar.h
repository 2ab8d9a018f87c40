/* Business calendars: when an organisation works (working hours per weekday in a time
 * zone, holidays, moved working days) and the arithmetic of working time on them, so a
 * stage's "P3D" means three working days and "PT4H" four working hours. The calendar
 * itself is pure (core: no I/O, no clock); the store keeps calendars as JSON by name.
 * Format and rules of the arithmetic: docs/calendars.md. */
#ifndef FLOWD_CALENDAR_H
#define FLOWD_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowd/buf.h"
#include "flowd/err.h"
#include "flowd/timecalc.h"

struct fl_calendar; /* opaque, immutable once parsed: may be shared across threads */
struct fl_value;
struct fl_store;

/* The calendar every organisation has until an administrator stores one of this name. */
#define FL_CALENDAR_DEFAULT "default"

/* Calendar names: 1-64 of letters, digits, '.', '_', '-'. */
bool fl_calendar_name_valid(const char *name);

/* Parse and validate a calendar from JSON text (the format of docs/calendars.md) under
 * name. FL_EPARSE (JSON syntax, with line/column), FL_ETYPE or FL_EINVAL with err->field
 * the path of the bad field ("week.mon[1].end", "holidays[2].date", "zone"). A "name" in
 * the JSON must equal name. *out: caller frees with fl_calendar_free. */
int fl_calendar_parse(const char *name, const char *json, size_t len, struct fl_calendar **out,
                      struct fl_error *err);

/* As fl_calendar_parse from a parsed JSON value (a context). v is borrowed. */
int fl_calendar_from_value(const char *name, const struct fl_value *v, struct fl_calendar **out,
                           struct fl_error *err);

/* The built-in default: Mon-Fri 09:00-18:00 UTC, no holidays, named "default". Caller
 * frees. */
struct fl_calendar *fl_calendar_builtin(void);

/* Free c; NULL-safe. */
void fl_calendar_free(struct fl_calendar *c);

/* Its name (borrowed, lives as long as c). */
const char *fl_calendar_name(const struct fl_calendar *c);

/* Append c as canonical JSON (every weekday present, intervals as {"start","end"},
 * holidays and moved working days sorted by date) to out. Parsing the result gives an
 * equal calendar. */
int fl_calendar_to_json(const struct fl_calendar *c, struct fl_buf *out);

/* *out = t_ms plus d in working time on c (d->negative subtracts): PnD is n working days
 * (the same local time of day, clamped into that day's hours), PnW n times the working
 * weekdays of the week table, PnYnM calendar months then the next (previous, when
 * subtracting) working moment, and PTnHnMnS working time. A start outside working time
 * counts from the next working moment (previous when subtracting). A zero duration gives
 * t_ms. FL_EINVAL with a message when no working time is found within 400 years. */
int fl_calendar_add(const struct fl_calendar *c, int64_t t_ms, const struct fl_iso_duration *d,
                    int64_t *out, struct fl_error *err);

/* Is t_ms inside working time (intervals are [start, end))? */
bool fl_calendar_is_working(const struct fl_calendar *c, int64_t t_ms);

/* *out = t_ms when it is working time, else the start of the next working interval.
 * FL_EINVAL when there is none within 400 years. */
int fl_calendar_next_working(const struct fl_calendar *c, int64_t t_ms, int64_t *out,
                             struct fl_error *err);

/* ---- stored calendars (src/store/calendars.c) ---- */

struct fl_calendar_row {
    char *name;
    char *json; /* canonical JSON (fl_calendar_to_json) */
    int64_t updated_at;
};

/* Validate json as calendar `name` and store its canonical form, replacing one of that
 * name. Bad input changes nothing and fails as fl_calendar_parse. Bumps the revision.
 * Runs in its own transaction unless one is open on s. */
int fl_store_calendar_put(struct fl_store *s, const char *name, const char *json, size_t len,
                          int64_t now_ms, struct fl_error *err);

/* The stored calendar `name`; FL_ENOTFOUND when none is stored (the default then is the
 * built-in one). Caller releases out. */
int fl_store_calendar_get(struct fl_store *s, const char *name, struct fl_calendar_row *out,
                          struct fl_error *err);

/* Every stored calendar by name. Caller frees with fl_calendar_rows_free. */
int fl_store_calendar_list(struct fl_store *s, struct fl_calendar_row **rows, size_t *n,
                           struct fl_error *err);

/* Delete the stored calendar `name` (FL_ENOTFOUND when none); deleting "default" brings
 * back the built-in one. Bumps the revision. */
int fl_store_calendar_delete(struct fl_store *s, const char *name, struct fl_error *err);

/* A number that changes whenever a calendar is stored or deleted (by any connection), so
 * a cache of parsed calendars knows when to forget them. */
int fl_store_calendar_revision(struct fl_store *s, uint64_t *rev, struct fl_error *err);

void fl_calendar_row_release(struct fl_calendar_row *r);
void fl_calendar_rows_free(struct fl_calendar_row *rows, size_t n);

#endif
