/* Control point text: names, due times and reminders as people and models write them (see
 * flowd/control.h). Kept apart from the engine so the reader, the API and the CLI refuse
 * bad input with one set of messages before a command is ever queued. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "flowd/control.h"
#include "flowd/timecalc.h"

static int fail_field(struct fl_error *err, const char *field, int code)
{
    if (err && field)
        snprintf(err->field, sizeof(err->field), "%s", field);
    return code;
}

int fl_control_name_check(const char *name, const char *field, struct fl_error *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0) {
        fl_error_set(err, FL_EINVAL, "control point name is empty");
        return fail_field(err, field, FL_EINVAL);
    }
    if (n > FL_CONTROL_NAME_MAX) {
        fl_error_set(err, FL_EINVAL, "control point name '%.20s...' is longer than %d bytes", name,
                     FL_CONTROL_NAME_MAX);
        return fail_field(err, field, FL_EINVAL);
    }
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
                  (i > 0 && ((c >= '0' && c <= '9') || c == '.' || c == '-'));
        if (!ok) {
            fl_error_set(err, FL_EINVAL,
                         "control point name '%s' must start with a letter or '_' and hold "
                         "only letters, digits, '_', '.' and '-'",
                         name);
            return fail_field(err, field, FL_EINVAL);
        }
    }
    return 0;
}

/* A date-time without Z or offset ("2026-12-01T10:00" or with seconds), at tz. */
static int parse_local(const char *s, int32_t tz_offset_min, int64_t *out)
{
    char tmp[64];
    size_t n = strlen(s);
    if (n == 0 || n + 2 > sizeof(tmp))
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = 'Z';
    tmp[n + 1] = '\0';
    if (fl_time_parse(tmp, out) != 0)
        return -1;
    *out -= (int64_t)tz_offset_min * 60000;
    return 0;
}

int fl_control_due_parse(const char *text, const char *field, int64_t now_ms, int32_t tz_offset_min,
                         int64_t *out, struct fl_error *err)
{
    struct fl_iso_duration d;
    struct fl_error de;
    const char *name = field ? field : "due";

    if (!text || !text[0]) {
        fl_error_set(err, FL_EINVAL, "%s is empty: give a date, a date and time, or a duration",
                     name);
        return fail_field(err, field, FL_EINVAL);
    }
    if (text[0] == 'P' || (text[0] == '-' && text[1] == 'P')) {
        fl_error_clear(&de);
        if (fl_iso_duration_parse(text, &d, &de) != 0) {
            fl_error_set(err, FL_EINVAL, "%s '%s' is not an ISO 8601 duration: %s", name, text,
                         de.msg[0] ? de.msg : "syntax error");
            return fail_field(err, field, FL_EINVAL);
        }
        if (d.negative) {
            fl_error_set(err, FL_EINVAL, "%s '%s' must not be a negative duration", name, text);
            return fail_field(err, field, FL_EINVAL);
        }
        *out = fl_iso_duration_add(now_ms, &d);
        return 0;
    }
    if (strlen(text) == 10 && fl_time_parse(text, out) == 0) {
        *out -= (int64_t)tz_offset_min * 60000; /* midnight where the case is */
        return 0;
    }
    if (fl_time_parse(text, out) == 0 || parse_local(text, tz_offset_min, out) == 0)
        return 0;
    fl_error_set(err, FL_EINVAL,
                 "%s '%s' is not a date (2026-12-31), a date and time (2026-12-31T17:00:00Z) "
                 "or an ISO 8601 duration (P14D)",
                 name, text);
    return fail_field(err, field, FL_EINVAL);
}

int fl_control_remind_parse(const char *text, const char *field, int64_t due_ms, int64_t *before_ms,
                            struct fl_error *err)
{
    struct fl_iso_duration d;
    struct fl_error de;
    const char *name = field ? field : "remind_before";

    fl_error_clear(&de);
    if (!text || fl_iso_duration_parse(text, &d, &de) != 0) {
        fl_error_set(err, FL_EINVAL, "%s '%s' is not an ISO 8601 duration: %s", name,
                     text ? text : "", de.msg[0] ? de.msg : "syntax error");
        return fail_field(err, field, FL_EINVAL);
    }
    if (d.negative) {
        fl_error_set(err, FL_EINVAL, "%s '%s' must not be negative", name, text);
        return fail_field(err, field, FL_EINVAL);
    }
    d.negative = true;
    *before_ms = due_ms - fl_iso_duration_add(due_ms, &d);
    return 0;
}
