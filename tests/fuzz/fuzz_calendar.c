/* libFuzzer target for business calendars: any JSON either fails with a message, or gives
 * a calendar whose canonical JSON parses to the same canonical JSON, and on which sums of
 * working time from a few instants neither crash nor go backwards. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/calendar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const durations[] = {"PT2H", "P1D", "P1W", "P1M", "PT1M"};
    struct fl_calendar *c = NULL, *again = NULL;
    struct fl_buf a = FL_BUF_INIT, b = FL_BUF_INIT;
    struct fl_error err;
    fl_error_clear(&err);
    if (fl_calendar_parse("fuzz", (const char *)data, size, &c, &err)) {
        if (!err.msg[0])
            abort();
        return 0;
    }
    fl_calendar_to_json(c, &a);
    if (fl_calendar_parse("fuzz", a.ptr, a.len, &again, &err))
        abort();
    fl_calendar_to_json(again, &b);
    if (strcmp(a.ptr, b.ptr) != 0)
        abort();
    for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
        struct fl_iso_duration d;
        int64_t t = INT64_C(1767225600000) + (int64_t)i * 37 * 3600000, out;
        fl_iso_duration_parse(durations[i], &d, NULL);
        if (fl_calendar_add(c, t, &d, &out, &err) == 0 && out < t)
            abort();
    }
    fl_buf_release(&a);
    fl_buf_release(&b);
    fl_calendar_free(c);
    fl_calendar_free(again);
    return 0;
}
