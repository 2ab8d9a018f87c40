/* A small built-in table of time zone rules for the IANA zones business processes use
 * most, so "@Europe/Paris" values compare and subtract correctly without reading a zone
 * database (core does no I/O). Each zone has a standard offset and one of a few daylight
 * saving rules, applied with today's rules to every year: exact for current dates, an
 * approximation for historic ones. Zones not listed have no known offset. */
#include <string.h>

#include "core/value_impl.h"
#include "flowd/timecalc.h"
#include "util/intdiv.h"

enum dst_rule { DST_NONE, DST_EU, DST_US, DST_AU, DST_NZ, DST_CL };

struct zone_rule {
    const char *name;
    int32_t std_min; /* standard offset, minutes east of UTC */
    uint8_t rule;
};

static const struct zone_rule zones[] = {
    {"Africa/Cairo", 120, DST_NONE},
    {"Africa/Johannesburg", 120, DST_NONE},
    {"Africa/Lagos", 60, DST_NONE},
    {"Africa/Nairobi", 180, DST_NONE},
    {"America/Anchorage", -540, DST_US},
    {"America/Argentina/Buenos_Aires", -180, DST_NONE},
    {"America/Bogota", -300, DST_NONE},
    {"America/Chicago", -360, DST_US},
    {"America/Denver", -420, DST_US},
    {"America/Halifax", -240, DST_US},
    {"America/Los_Angeles", -480, DST_US},
    {"America/Mexico_City", -360, DST_NONE},
    {"America/New_York", -300, DST_US},
    {"America/Phoenix", -420, DST_NONE},
    {"America/Santiago", -240, DST_CL},
    {"America/Sao_Paulo", -180, DST_NONE},
    {"America/Toronto", -300, DST_US},
    {"America/Vancouver", -480, DST_US},
    {"Asia/Bangkok", 420, DST_NONE},
    {"Asia/Dhaka", 360, DST_NONE},
    {"Asia/Dubai", 240, DST_NONE},
    {"Asia/Hong_Kong", 480, DST_NONE},
    {"Asia/Jakarta", 420, DST_NONE},
    {"Asia/Karachi", 300, DST_NONE},
    {"Asia/Kolkata", 330, DST_NONE},
    {"Asia/Manila", 480, DST_NONE},
    {"Asia/Seoul", 540, DST_NONE},
    {"Asia/Shanghai", 480, DST_NONE},
    {"Asia/Singapore", 480, DST_NONE},
    {"Asia/Taipei", 480, DST_NONE},
    {"Asia/Tokyo", 540, DST_NONE},
    {"Atlantic/Reykjavik", 0, DST_NONE},
    {"Australia/Adelaide", 570, DST_AU},
    {"Australia/Brisbane", 600, DST_NONE},
    {"Australia/Canberra", 600, DST_AU},
    {"Australia/Darwin", 570, DST_NONE},
    {"Australia/Hobart", 600, DST_AU},
    {"Australia/Melbourne", 600, DST_AU},
    {"Australia/Perth", 480, DST_NONE},
    {"Australia/Sydney", 600, DST_AU},
    {"Etc/GMT", 0, DST_NONE},
    {"Etc/UTC", 0, DST_NONE},
    {"Europe/Amsterdam", 60, DST_EU},
    {"Europe/Athens", 120, DST_EU},
    {"Europe/Belgrade", 60, DST_EU},
    {"Europe/Berlin", 60, DST_EU},
    {"Europe/Brussels", 60, DST_EU},
    {"Europe/Bucharest", 120, DST_EU},
    {"Europe/Budapest", 60, DST_EU},
    {"Europe/Copenhagen", 60, DST_EU},
    {"Europe/Dublin", 0, DST_EU},
    {"Europe/Helsinki", 120, DST_EU},
    {"Europe/Istanbul", 180, DST_NONE},
    {"Europe/Kiev", 120, DST_EU},
    {"Europe/Kyiv", 120, DST_EU},
    {"Europe/Lisbon", 0, DST_EU},
    {"Europe/London", 0, DST_EU},
    {"Europe/Luxembourg", 60, DST_EU},
    {"Europe/Madrid", 60, DST_EU},
    {"Europe/Moscow", 180, DST_NONE},
    {"Europe/Oslo", 60, DST_EU},
    {"Europe/Paris", 60, DST_EU},
    {"Europe/Prague", 60, DST_EU},
    {"Europe/Riga", 120, DST_EU},
    {"Europe/Rome", 60, DST_EU},
    {"Europe/Sofia", 120, DST_EU},
    {"Europe/Stockholm", 60, DST_EU},
    {"Europe/Tallinn", 120, DST_EU},
    {"Europe/Vienna", 60, DST_EU},
    {"Europe/Vilnius", 120, DST_EU},
    {"Europe/Warsaw", 60, DST_EU},
    {"Europe/Zurich", 60, DST_EU},
    {"GMT", 0, DST_NONE},
    {"Pacific/Auckland", 720, DST_NZ},
    {"Pacific/Honolulu", -600, DST_NONE},
    {"UTC", 0, DST_NONE},
    {"Z", 0, DST_NONE},
};

#define MIN_NS (INT64_C(60) * FL_NS_PER_SEC)

/* Day number of the n-th (1-based; 0 = last) Sunday of month m in year y. */
static int64_t sunday(int64_t y, unsigned m, int n)
{
    int64_t first = fl_days_from_civil(y, m, 1);
    int64_t wd_first = ((first % 7) + 7 + 3) % 7; /* 0 = Monday */
    int64_t first_sun = first + (6 - wd_first);
    if (n > 0)
        return first_sun + 7 * (n - 1);
    unsigned nm = m == 12 ? 1 : m + 1;
    int64_t next = fl_days_from_civil(m == 12 ? y + 1 : y, nm, 1);
    int64_t last = next - 1;
    int64_t wd_last = ((last % 7) + 7 + 3) % 7;
    return last - (wd_last + 1) % 7;
}

/* UTC nanoseconds of a transition on day d at the given minutes after midnight UTC. */
static fl_i128 at(int64_t d, int64_t minutes_utc)
{
    return (fl_i128)d * FL_NS_PER_DAY + (fl_i128)minutes_utc * MIN_NS;
}

static bool in_dst(uint8_t rule, int32_t std_min, fl_i128 utc, int64_t y)
{
    switch (rule) {
    case DST_EU: /* last Sunday of March to last Sunday of October, 01:00 UTC */
        return utc >= at(sunday(y, 3, 0), 60) && utc < at(sunday(y, 10, 0), 60);
    case DST_US: /* second Sunday of March 02:00 to first Sunday of November 02:00 local */
        return utc >= at(sunday(y, 3, 2), 120 - std_min) &&
               utc < at(sunday(y, 11, 1), 60 - std_min);
    case DST_AU: /* first Sunday of October 02:00 to first Sunday of April 03:00 local */
        return utc >= at(sunday(y, 10, 1), 120 - std_min) ||
               utc < at(sunday(y, 4, 1), 120 - std_min);
    case DST_NZ: /* last Sunday of September 02:00 to first Sunday of April 03:00 local */
        return utc >= at(sunday(y, 9, 0), 120 - std_min) ||
               utc < at(sunday(y, 4, 1), 120 - std_min);
    case DST_CL: /* first Sunday of September to first Sunday of April, 04:00 UTC */
        return utc >= at(sunday(y, 9, 1), 240) || utc < at(sunday(y, 4, 1), 180);
    default:
        return false;
    }
}

/* The offset of zone z at a local date-time (see fl__tz_zone_offset). */
static int32_t local_offset(const struct zone_rule *z, int64_t days, int64_t nanos,
                            bool has_date)
{
    int32_t std = z->std_min;
    int32_t off = std * 60;
    if (!has_date || z->rule == DST_NONE)
        return off;
    /* decide daylight saving on the instant the local time means in standard time */
    fl_i128 utc = (fl_i128)days * FL_NS_PER_DAY + nanos - (fl_i128)std * MIN_NS;
    int64_t y;
    unsigned m, d;
    fl_civil_from_days(days, &y, &m, &d);
    if (in_dst(z->rule, std, utc, y))
        off += 3600;
    return off;
}

bool fl__tz_zone_offset(const char *zone, int64_t days, int64_t nanos, bool has_date,
                        int32_t *offset_sec)
{
    int i = fl__tz_find(zone);
    if (i < 0)
        return false;
    *offset_sec = local_offset(&zones[i], days, nanos, has_date);
    return true;
}

int fl__tz_find(const char *zone)
{
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
        if (strcmp(zones[i].name, zone) == 0)
            return (int)i;
    return -1;
}

int32_t fl__tz_offset_at_utc(int zone, int64_t utc_ms)
{
    const struct zone_rule *z = &zones[zone];
    int32_t off = z->std_min * 60;
    int64_t y;
    unsigned m, d;
    if (z->rule == DST_NONE)
        return off;
    /* the rules name the year of the local standard time, as fl__tz_zone_offset does */
    fl_civil_from_days(fl_floordiv64(utc_ms + (int64_t)off * 1000, INT64_C(86400000)), &y, &m,
                       &d);
    if (in_dst(z->rule, z->std_min, (fl_i128)utc_ms * 1000000, y))
        off += 3600;
    return off;
}

int32_t fl__tz_offset_at_local(int zone, int64_t local_ms)
{
    int64_t days = fl_floordiv64(local_ms, INT64_C(86400000));
    int64_t ms = local_ms - days * INT64_C(86400000);
    return local_offset(&zones[zone], days, ms * 1000000, true);
}
