/* Floor division of signed integers, which C's truncating '/' is not: calendars and FEEL
 * arithmetic need -1 / 86400 to be day -1, not day 0. Static inline because the calendar
 * code calls it per conversion. */
#ifndef FLOWD_UTIL_INTDIV_H
#define FLOWD_UTIL_INTDIV_H

#include <stdint.h>

/* a / b rounded toward negative infinity; b != 0, and not INT64_MIN / -1. */
static inline int64_t fl_floordiv64(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

#endif
