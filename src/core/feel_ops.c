/* FEEL operators on values: arithmetic over numbers, strings, dates, times and the two
 * duration kinds; ordering and equality with FEEL's null semantics; and membership in
 * ranges and lists for "in" and unary tests. Anything not defined by the spec yields null
 * (the caller turns that into a diagnostic). */
#include <math.h>
#include <string.h>

#include "core/feel_impl.h"
#include "flowd/timecalc.h"
#include "util/intdiv.h"

static fl_i128 floordiv128(fl_i128 a, fl_i128 b)
{
    fl_i128 q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static void dec_from_i128(fl_i128 v, struct fl_dec *d)
{
    d->neg = v < 0;
    d->coef = (fl_u128)(v < 0 ? -v : v);
    d->exp = 0;
}

/* Truncate a decimal to an integer; false when it does not fit. */
static bool dec_to_i128(const struct fl_dec *d, fl_i128 *out)
{
    struct fl_dec t;
    if (fl_dec_round(d, 0, FL_ROUND_HALF_EVEN, &t))
        return false;
    fl_u128 c = t.coef;
    for (int i = 0; i < t.exp; i++) {
        if (c > ((fl_u128)1 << 120) / 10)
            return false;
        c *= 10;
    }
    if (c > ((fl_u128)1 << 120))
        return false;
    *out = t.neg ? -(fl_i128)c : (fl_i128)c;
    return true;
}

static int64_t add_months_days(int64_t days, int64_t months)
{
    int64_t y;
    unsigned m, d;
    fl_civil_from_days(days, &y, &m, &d);
    int64_t mi = y * 12 + (m - 1) + months;
    y = fl_floordiv64(mi, 12);
    m = (unsigned)(mi - y * 12) + 1;
    static const unsigned dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned last = dm[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        last = 29;
    if (d > last)
        d = last;
    return fl_days_from_civil(y, m, d);
}

#define YEAR_LIMIT 999999999

static bool days_ok(int64_t days)
{
    return days > -365250000000LL && days < 365250000000LL;
}

static struct fl_value *dt_plus(const struct fl_value *dt, fl_i128 dur)
{
    fl_i128 total = (fl_i128)dt->u.dt.days * FL_NS_PER_DAY + dt->u.dt.nanos + dur;
    fl_i128 days = floordiv128(total, FL_NS_PER_DAY);
    if (!days_ok((int64_t)days))
        return fl_value_null();
    return fl__value_datetime((int64_t)days, (int64_t)(total - days * FL_NS_PER_DAY),
                              &dt->u.dt.tz);
}

static struct fl_value *temporal_plus(const struct fl_value *t, const struct fl_value *dur,
                                      int sign)
{
    if (dur->type == FL_VDTDURATION) {
        fl_i128 d = sign * dur->u.dtdur;
        if (t->type == FL_VDATETIME)
            return dt_plus(t, d);
        if (t->type == FL_VDATE) {
            fl_i128 total = (fl_i128)t->u.date * FL_NS_PER_DAY + d;
            int64_t days = (int64_t)floordiv128(total, FL_NS_PER_DAY);
            return days_ok(days) ? fl__value_date(days) : fl_value_null();
        }
        if (t->type == FL_VTIME) {
            fl_i128 ns = (t->u.dt.nanos + d) % FL_NS_PER_DAY;
            if (ns < 0)
                ns += FL_NS_PER_DAY;
            return fl__value_time((int64_t)ns, &t->u.dt.tz);
        }
    } else if (dur->type == FL_VYMDURATION) {
        int64_t m = sign * dur->u.ymdur;
        if (t->type == FL_VDATETIME)
            return fl__value_datetime(add_months_days(t->u.dt.days, m), t->u.dt.nanos,
                                      &t->u.dt.tz);
        if (t->type == FL_VDATE)
            return fl__value_date(add_months_days(t->u.date, m));
    }
    return fl_value_null();
}

static bool is_dur(const struct fl_value *v)
{
    return v->type == FL_VDTDURATION || v->type == FL_VYMDURATION;
}

/* a - b of two date/time values as a days-and-time duration. A date counts as midnight
 * UTC; a value with a zone and one without cannot be compared (null), and zone ids without
 * a known offset only subtract within the same zone. */
static struct fl_value *temporal_diff(const struct fl_value *a, const struct fl_value *b)
{
    if (a->type == FL_VDATE && b->type == FL_VDATE)
        return fl__value_dtduration((fl_i128)(a->u.date - b->u.date) * FL_NS_PER_DAY);
    bool dta = a->type == FL_VDATETIME || a->type == FL_VDATE;
    bool dtb = b->type == FL_VDATETIME || b->type == FL_VDATE;
    if (dta != dtb || (!dta && (a->type != FL_VTIME || b->type != FL_VTIME)))
        return fl_value_null();
    struct fl_tz utc = {FL_TZ_OFFSET, 0, NULL};
    const struct fl_tz *ta = a->type == FL_VDATE ? &utc : &a->u.dt.tz;
    const struct fl_tz *tb = b->type == FL_VDATE ? &utc : &b->u.dt.tz;
    int64_t da = a->type == FL_VDATE ? a->u.date : a->type == FL_VTIME ? 0 : a->u.dt.days;
    int64_t db = b->type == FL_VDATE ? b->u.date : b->type == FL_VTIME ? 0 : b->u.dt.days;
    int64_t na = a->type == FL_VDATE ? 0 : a->u.dt.nanos;
    int64_t nb = b->type == FL_VDATE ? 0 : b->u.dt.nanos;
    int32_t oa = 0, ob = 0;
    if ((ta->kind == FL_TZ_NONE) != (tb->kind == FL_TZ_NONE)) {
        if (a->type != FL_VTIME)
            return fl_value_null();
    } else if (ta->kind != FL_TZ_NONE) {
        bool ka = fl__tz_offset(ta, da, na, a->type != FL_VTIME, &oa);
        bool kb = fl__tz_offset(tb, db, nb, b->type != FL_VTIME, &ob);
        if (!ka || !kb) {
            if (ta->kind != FL_TZ_ZONE || tb->kind != FL_TZ_ZONE || strcmp(ta->zone, tb->zone))
                return fl_value_null();
            oa = ob = 0;
        }
    }
    fl_i128 ia = (fl_i128)da * FL_NS_PER_DAY + na - (fl_i128)oa * FL_NS_PER_SEC;
    fl_i128 ib = (fl_i128)db * FL_NS_PER_DAY + nb - (fl_i128)ob * FL_NS_PER_SEC;
    return fl__value_dtduration(ia - ib);
}

static struct fl_value *num_result(int rc, const struct fl_dec *d)
{
    return rc ? fl_value_null() : fl__value_number(d);
}

static struct fl_value *dur_times(const struct fl_value *dur, const struct fl_dec *f, bool div)
{
    struct fl_dec a, r;
    int rc;
    if (dur->type == FL_VDTDURATION)
        dec_from_i128(dur->u.dtdur, &a);
    else
        fl_dec_from_int(dur->u.ymdur, &a);
    rc = div ? fl_dec_div(&a, f, &r) : fl_dec_mul(&a, f, &r);
    if (rc)
        return fl_value_null();
    if (dur->type == FL_VDTDURATION) {
        fl_i128 ns;
        if (!dec_to_i128(&r, &ns))
            return fl_value_null();
        return fl__value_dtduration(ns);
    }
    struct fl_dec t;
    int64_t months;
    if (fl_dec_round(&r, 0, FL_ROUND_DOWN, &t) || fl_dec_to_int64(&t, &months))
        return fl_value_null();
    return fl__value_ymduration(months);
}

static struct fl_value *power(const struct fl_dec *a, const struct fl_dec *b)
{
    struct fl_dec r;
    int64_t n;
    if (fl_dec_is_int(b) && fl_dec_to_int64(b, &n) == 0) {
        if (fl_dec_is_zero(a) && n < 0)
            return fl_value_null();
        return num_result(fl_dec_pow_int(a, n, &r), &r);
    }
    double x = pow(fl_dec_to_double(a), fl_dec_to_double(b));
    return num_result(fl_dec_from_double(x, &r), &r);
}

struct fl_value *fl__feel_arith(struct feel_eval *ev, int op, const struct fl_value *a,
                                const struct fl_value *b)
{
    struct fl_dec r;
    enum fl_vtype ta = fl_value_type(a), tb = fl_value_type(b);
    if (ta == FL_VNULL || tb == FL_VNULL)
        return fl_value_null();
    if (ta == FL_VNUMBER && tb == FL_VNUMBER) {
        switch (op) {
        case TK_PLUS: return num_result(fl_dec_add(&a->u.num, &b->u.num, &r), &r);
        case TK_MINUS: return num_result(fl_dec_sub(&a->u.num, &b->u.num, &r), &r);
        case TK_STAR: return num_result(fl_dec_mul(&a->u.num, &b->u.num, &r), &r);
        case TK_SLASH: return num_result(fl_dec_div(&a->u.num, &b->u.num, &r), &r);
        case TK_POW: return power(&a->u.num, &b->u.num);
        default: return fl_value_null();
        }
    }
    if (op == TK_PLUS && ta == FL_VSTRING && tb == FL_VSTRING) {
        struct fl_buf buf = FL_BUF_INIT;
        if (a->u.str.len + b->u.str.len > FEEL_MAX_STRING)
            return fl__feel_error(ev, "string too long (over %zu bytes)", FEEL_MAX_STRING);
        fl_buf_add(&buf, a->u.str.s, a->u.str.len);
        fl_buf_add(&buf, b->u.str.s, b->u.str.len);
        struct fl_value *v = fl__value_string(buf.ptr, buf.len);
        fl_buf_release(&buf);
        return v;
    }
    if (op == TK_PLUS || op == TK_MINUS) {
        int sign = op == TK_PLUS ? 1 : -1;
        if (ta == tb && ta == FL_VDTDURATION)
            return fl__value_dtduration(a->u.dtdur + sign * b->u.dtdur);
        if (ta == tb && ta == FL_VYMDURATION)
            return fl__value_ymduration(a->u.ymdur + sign * b->u.ymdur);
        if ((ta == FL_VDATE || ta == FL_VDATETIME || ta == FL_VTIME) && is_dur(b))
            return temporal_plus(a, b, sign);
        if (op == TK_PLUS && is_dur(a) && (tb == FL_VDATE || tb == FL_VDATETIME || tb == FL_VTIME))
            return temporal_plus(b, a, 1);
        if (op == TK_MINUS && (ta == FL_VDATE || ta == FL_VDATETIME || ta == FL_VTIME) &&
            (tb == FL_VDATE || tb == FL_VDATETIME || tb == FL_VTIME))
            return temporal_diff(a, b);
        return fl_value_null();
    }
    if (op == TK_STAR) {
        if (is_dur(a) && tb == FL_VNUMBER)
            return dur_times(a, &b->u.num, false);
        if (ta == FL_VNUMBER && is_dur(b))
            return dur_times(b, &a->u.num, false);
        return fl_value_null();
    }
    if (op == TK_SLASH) {
        if (is_dur(a) && tb == FL_VNUMBER) {
            if (fl_dec_is_zero(&b->u.num))
                return fl_value_null();
            return dur_times(a, &b->u.num, true);
        }
        if (ta == tb && is_dur(a)) {
            struct fl_dec x, y;
            if (ta == FL_VDTDURATION) {
                dec_from_i128(a->u.dtdur, &x);
                dec_from_i128(b->u.dtdur, &y);
            } else {
                fl_dec_from_int(a->u.ymdur, &x);
                fl_dec_from_int(b->u.ymdur, &y);
            }
            return num_result(fl_dec_div(&x, &y, &r), &r);
        }
    }
    return fl_value_null();
}

static int cmp_i128(fl_i128 a, fl_i128 b)
{
    return a < b ? -1 : a > b ? 1 : 0;
}

/* Times compare at millisecond precision, as the DMN TCK expects. */
static int cmp_i128_ms(fl_i128 a, fl_i128 b)
{
    fl_i128 ma = a / 1000000 - (a % 1000000 < 0), mb = b / 1000000 - (b % 1000000 < 0);
    return cmp_i128(ma, mb);
}

static int cmp_zoned(const struct fl_value *a, const struct fl_value *b)
{
    fl_i128 ia, ib;
    bool ka = fl__feel_instant(a, &ia), kb = fl__feel_instant(b, &ib);
    if (ka && kb)
        return cmp_i128_ms(ia, ib);
    if (a->u.dt.tz.kind == FL_TZ_NONE && b->u.dt.tz.kind == FL_TZ_NONE) {
        int64_t da = a->type == FL_VDATETIME ? a->u.dt.days : 0;
        int64_t db = b->type == FL_VDATETIME ? b->u.dt.days : 0;
        return cmp_i128_ms((fl_i128)da * FL_NS_PER_DAY + a->u.dt.nanos,
                        (fl_i128)db * FL_NS_PER_DAY + b->u.dt.nanos);
    }
    if (a->u.dt.tz.kind == FL_TZ_ZONE && b->u.dt.tz.kind == FL_TZ_ZONE &&
        strcmp(a->u.dt.tz.zone, b->u.dt.tz.zone) == 0) {
        int64_t da = a->type == FL_VDATETIME ? a->u.dt.days : 0;
        int64_t db = b->type == FL_VDATETIME ? b->u.dt.days : 0;
        return cmp_i128_ms((fl_i128)da * FL_NS_PER_DAY + a->u.dt.nanos,
                        (fl_i128)db * FL_NS_PER_DAY + b->u.dt.nanos);
    }
    /* one side zoned and the other local: compare as if the local one were UTC */
    {
        int32_t oa = 0, ob = 0;
        fl__dt_offset(a, &oa);
        fl__dt_offset(b, &ob);
        int64_t da = a->type == FL_VDATETIME ? a->u.dt.days : 0;
        int64_t db = b->type == FL_VDATETIME ? b->u.dt.days : 0;
        return cmp_i128_ms((fl_i128)da * FL_NS_PER_DAY + a->u.dt.nanos - (fl_i128)oa * FL_NS_PER_SEC,
                        (fl_i128)db * FL_NS_PER_DAY + b->u.dt.nanos - (fl_i128)ob * FL_NS_PER_SEC);
    }
}

int fl__feel_compare(const struct fl_value *a, const struct fl_value *b)
{
    enum fl_vtype ta = fl_value_type(a), tb = fl_value_type(b);
    if (ta != tb)
        return -2;
    switch (ta) {
    case FL_VNUMBER:
        return fl_dec_cmp(&a->u.num, &b->u.num);
    case FL_VSTRING: {
        size_t n = a->u.str.len < b->u.str.len ? a->u.str.len : b->u.str.len;
        int c = memcmp(a->u.str.s, b->u.str.s, n);
        if (c)
            return c < 0 ? -1 : 1;
        return a->u.str.len < b->u.str.len ? -1 : a->u.str.len > b->u.str.len ? 1 : 0;
    }
    case FL_VDATE:
        return a->u.date < b->u.date ? -1 : a->u.date > b->u.date ? 1 : 0;
    case FL_VTIME:
    case FL_VDATETIME:
        return cmp_zoned(a, b);
    case FL_VDTDURATION:
        return cmp_i128(a->u.dtdur, b->u.dtdur);
    case FL_VYMDURATION:
        return a->u.ymdur < b->u.ymdur ? -1 : a->u.ymdur > b->u.ymdur ? 1 : 0;
    default:
        return -2;
    }
}

int fl__feel_equal(const struct fl_value *a, const struct fl_value *b)
{
    enum fl_vtype ta = fl_value_type(a), tb = fl_value_type(b);
    if (ta == FL_VNULL || tb == FL_VNULL)
        return ta == tb;
    if (ta != tb)
        return -1;
    switch (ta) {
    case FL_VBOOL:
        return a->u.b == b->u.b;
    case FL_VLIST:
        if (a->u.list.len != b->u.list.len)
            return 0;
        for (size_t i = 0; i < a->u.list.len; i++) {
            int e = fl__feel_equal(a->u.list.items[i], b->u.list.items[i]);
            if (e != 1)
                return e < 0 ? 0 : e;
        }
        return 1;
    case FL_VCONTEXT:
        if (a->u.ctx.len != b->u.ctx.len)
            return 0;
        for (size_t i = 0; i < a->u.ctx.len; i++) {
            const struct fl_value *bv =
                fl_value_context_get(b, a->u.ctx.ents[i].key, a->u.ctx.ents[i].keylen);
            if (!bv || fl__feel_equal(a->u.ctx.ents[i].val, bv) != 1)
                return 0;
        }
        return 1;
    case FL_VTIME:
    case FL_VDATETIME:
        if (a->u.dt.tz.kind == FL_TZ_NONE && b->u.dt.tz.kind == FL_TZ_NONE)
            return cmp_zoned(a, b) == 0;
        {
            fl_i128 ia, ib;
            if (fl__feel_instant(a, &ia) && fl__feel_instant(b, &ib))
                return ia == ib;
        }
        return fl_value_equal(a, b);
    case FL_VRANGE:
    case FL_VFUNCTION:
        return fl_value_equal(a, b);
    default: {
        int c = fl__feel_compare(a, b);
        return c == -2 ? -1 : c == 0;
    }
    }
}

struct fl_value *fl__feel_in_range(const struct fl_value *x, const struct fl_value *r)
{
    const struct fl_value *lo = r->u.range.lo, *hi = r->u.range.hi;
    if (fl_value_type(x) == FL_VNULL)
        return fl_value_null();
    if ((lo && fl_value_type(lo) == FL_VNULL) || (hi && fl_value_type(hi) == FL_VNULL))
        return fl_value_null(); /* an explicit null endpoint is unknown, not unbounded */
    if (lo) {
        int c = fl__feel_compare(x, lo);
        if (c == -2)
            return fl_value_null();
        if (c < 0 || (c == 0 && !r->u.range.lo_closed))
            return fl_value_bool(false);
    }
    if (hi) {
        int c = fl__feel_compare(x, hi);
        if (c == -2)
            return fl_value_null();
        if (c > 0 || (c == 0 && !r->u.range.hi_closed))
            return fl_value_bool(false);
    }
    return fl_value_bool(true);
}

struct fl_value *fl__feel_in_value(const struct fl_value *x, const struct fl_value *t)
{
    enum fl_vtype tt = fl_value_type(t);
    if (tt == FL_VRANGE)
        return fl__feel_in_range(x, t);
    if (tt == FL_VLIST) {
        bool saw_null = false;
        for (size_t i = 0; i < t->u.list.len; i++) {
            const struct fl_value *it = t->u.list.items[i];
            if (fl_value_type(it) == FL_VRANGE) {
                struct fl_value *r = fl__feel_in_range(x, it);
                if (fl_value_is_true(r))
                    return r;
                continue;
            }
            int e = fl__feel_equal(x, it);
            if (e == 1)
                return fl_value_bool(true);
            if (e < 0)
                saw_null = true;
        }
        (void)saw_null;
        return fl_value_bool(false);
    }
    if (tt == FL_VBOOL && fl_value_type(x) != FL_VBOOL)
        return fl_value_ref(t);
    int e = fl__feel_equal(x, t);
    return e < 0 ? fl_value_null() : fl_value_bool(e == 1);
}
