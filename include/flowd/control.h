/* Control points as text: the checks and conversions the model reader, the engine, the
 * HTTP API and the CLI share, so a name, a due time or a reminder is accepted or refused
 * with the same words everywhere. Pure functions (no clock: "now" is an argument); the
 * engine commands are in flowd/engine.h (FL_CMD_SET_CONTROL). */
#ifndef FLOWD_CONTROL_H
#define FLOWD_CONTROL_H

#include <stdint.h>

#include "flowd/err.h"

#define FL_CONTROL_NAME_MAX 64 /* bytes */

/* 0 when name is a control point name ([A-Za-z_][A-Za-z0-9_.-]*, 1..FL_CONTROL_NAME_MAX
 * bytes); else FL_EINVAL with err->field = field (may be NULL). */
int fl_control_name_check(const char *name, const char *field, struct fl_error *err);

/* A due time written as text: an ISO 8601 date-time with Z or an offset, a local date-time
 * (taken at tz_offset_min east of UTC), a plain date (00:00 at that offset), or a
 * non-negative ISO 8601 duration counted from now_ms ("P14D"). *out gets the instant.
 * FL_EINVAL naming field (e.g. '2026-02-30' is not a date, 'P' not a duration). */
int fl_control_due_parse(const char *text, const char *field, int64_t now_ms, int32_t tz_offset_min,
                         int64_t *out, struct fl_error *err);

/* A reminder written as a non-negative ISO 8601 duration before due_ms: *before_ms gets
 * due_ms minus the reminder's instant (calendar arithmetic, so "P1M" is a month), 0 for a
 * zero duration (no reminder). FL_EINVAL naming field. */
int fl_control_remind_parse(const char *text, const char *field, int64_t due_ms, int64_t *before_ms,
                            struct fl_error *err);

#endif
