/* Inside of struct fl_value, shared by value.c, json.c and the FEEL evaluator. Values are
 * immutable after construction; the refcount is plain (values belong to one thread) and
 * frozen values skip it entirely, which is what makes compiled constants shareable. */
#ifndef FLOWD_CORE_VALUE_IMPL_H
#define FLOWD_CORE_VALUE_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/decimal.h"
#include "flowd/value.h"

__extension__ typedef __int128 fl_i128;

#define FL_NS_PER_SEC INT64_C(1000000000)
#define FL_NS_PER_DAY (INT64_C(86400) * FL_NS_PER_SEC)

enum fl_tzkind { FL_TZ_NONE, FL_TZ_OFFSET, FL_TZ_ZONE };

struct fl_tz {
    uint8_t kind;       /* enum fl_tzkind */
    int32_t offset_sec; /* FL_TZ_OFFSET (and FL_TZ_ZONE when known, else 0) */
    char *zone;         /* FL_TZ_ZONE: IANA id, owned */
};

struct fl_ctx_entry {
    char *key; /* owned, NUL-terminated */
    size_t keylen;
    struct fl_value *val;
};

/* A FEEL function value: a built-in (index into the evaluator's table) or a user-defined
 * function (definition node of its compiled expression plus the context it closed over). */
struct fl_fn {
    int builtin;             /* >= 0 for built-ins, -1 for user-defined */
    const void *def;         /* user-defined: AST node, owned by the compiled expression */
    struct fl_value *closure; /* user-defined: captured scope (context) or NULL */
};

struct fl_value {
    uint32_t refs;
    uint8_t type;     /* enum fl_vtype */
    uint8_t frozen;   /* immortal: refcounting skipped */
    uint8_t is_static; /* a singleton in static storage: never freed */
    union {
        bool b;
        struct fl_dec num;
        struct {
            char *s; /* points into the same allocation, NUL-terminated */
            size_t len;
        } str;
        int64_t date; /* days since 1970-01-01 */
        struct {
            int64_t days;  /* FL_VDATETIME only */
            int64_t nanos; /* of the day, local */
            struct fl_tz tz;
        } dt;              /* FL_VTIME and FL_VDATETIME */
        fl_i128 dtdur;     /* nanoseconds */
        int64_t ymdur;     /* months */
        struct {
            struct fl_value **items;
            size_t len, cap;
        } list;
        struct {
            struct fl_ctx_entry *ents;
            size_t len, cap;
            uint32_t *index; /* open addressing over ents (1-based, 0 empty) once large */
            size_t index_cap;
        } ctx;
        struct {
            struct fl_value *lo, *hi; /* NULL: unbounded */
            bool lo_closed, hi_closed;
        } range;
        struct fl_fn fn;
    } u;
};

/* Constructors used by FEEL and JSON (each returns a new reference). */
struct fl_value *fl__value_number(const struct fl_dec *d);
struct fl_value *fl__value_date(int64_t days);
struct fl_value *fl__value_time(int64_t nanos, const struct fl_tz *tz);
struct fl_value *fl__value_datetime(int64_t days, int64_t nanos, const struct fl_tz *tz);
struct fl_value *fl__value_dtduration(fl_i128 nanos);
struct fl_value *fl__value_ymduration(int64_t months);
/* Takes ownership of lo and hi (either may be NULL). */
struct fl_value *fl__value_range(struct fl_value *lo, bool lo_closed, struct fl_value *hi,
                                 bool hi_closed);
/* Takes ownership of closure (may be NULL). */
struct fl_value *fl__value_function(int builtin, const void *def, struct fl_value *closure);
/* String value taking ownership of nothing; s need not be NUL-terminated. No UTF-8 check. */
struct fl_value *fl__value_string(const char *s, size_t len);
/* List with room for n items. */
struct fl_value *fl__value_list_sized(size_t n);

/* A reference to v that holds no frozen values (copying the parts that are), so a result
 * can outlive the compiled expression whose constants it was built from. */
struct fl_value *fl__value_detach(const struct fl_value *v);

/* Copy of a time or date and time value. */
struct fl_value *fl__value_datetime_copy(const struct fl_value *v);

/* Copy a time zone (duplicating the zone id). */
void fl__tz_copy(struct fl_tz *dst, const struct fl_tz *src);

/* Index of key in a context or -1. */
long fl__context_find(const struct fl_value *ctx, const char *key, size_t keylen);

/* Seconds east of UTC of tz at the local date-time (days, nanos of day); has_date false
 * (a time of day) gives the standard offset. False for no zone or an unknown zone id. */
bool fl__tz_offset(const struct fl_tz *tz, int64_t days, int64_t nanos, bool has_date,
                   int32_t *offset_sec);

/* The same for an IANA zone id from the built-in rules (tzrules.c). */
bool fl__tz_zone_offset(const char *zone, int64_t days, int64_t nanos, bool has_date,
                        int32_t *offset_sec);

/* Built-in zone by IANA id for repeated conversions (business calendars): its index, or
 * -1 when the table does not know it. */
int fl__tz_find(const char *zone);

/* Seconds east of UTC of built-in zone index `zone` at the UTC instant utc_ms. */
int32_t fl__tz_offset_at_utc(int zone, int64_t utc_ms);

/* Seconds east of UTC of built-in zone `zone` for the local wall-clock time local_ms (ms
 * since 1970-01-01T00:00 local); in a gap or overlap the rule of fl__tz_zone_offset. */
int32_t fl__tz_offset_at_local(int zone, int64_t local_ms);

/* Offset of a time or date and time value's zone at its own local time. */
bool fl__dt_offset(const struct fl_value *v, int32_t *offset_sec);

/* Append the FEEL text of temporal values (ISO 8601 forms) to out. */
void fl__format_temporal(const struct fl_value *v, struct fl_buf *out);

#endif
