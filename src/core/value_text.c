/* Text forms of values: FEEL's string() rendering used for messages and the CLI, and
 * the ISO 8601 forms of dates, times and durations that JSON output also uses. */
#include <stdio.h>
#include <string.h>

#include "core/value_impl.h"
#include "flowd/timecalc.h"

/* Fraction of a second (0..999999999 ns) as ".d" with trailing zeros dropped; nothing for 0. */
static void format_frac(int64_t frac, struct fl_buf *out)
{
    char tmp[16];
    size_t n = 9;
    if (!frac)
        return;
    snprintf(tmp, sizeof(tmp), "%09lld", (long long)frac);
    while (n > 1 && tmp[n - 1] == '0')
        n--;
    fl_buf_addc(out, '.');
    fl_buf_add(out, tmp, n);
}

static void format_nanos_of_day(int64_t ns, struct fl_buf *out)
{
    int64_t s = ns / FL_NS_PER_SEC, frac = ns % FL_NS_PER_SEC;
    fl_buf_addf(out, "%02d:%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
    format_frac(frac, out);
}

static void format_tz(const struct fl_tz *tz, struct fl_buf *out)
{
    if (tz->kind == FL_TZ_OFFSET) {
        int32_t o = tz->offset_sec;
        if (o == 0) {
            fl_buf_addc(out, 'Z');
            return;
        }
        char sign = o < 0 ? '-' : '+';
        if (o < 0)
            o = -o;
        fl_buf_addf(out, "%c%02d:%02d", sign, (int)(o / 3600), (int)(o / 60 % 60));
        if (o % 60)
            fl_buf_addf(out, ":%02d", (int)(o % 60));
    } else if (tz->kind == FL_TZ_ZONE) {
        fl_buf_addf(out, "@%s", tz->zone);
    }
}

static void format_date(int64_t days, struct fl_buf *out)
{
    int64_t y;
    unsigned m, d;
    fl_civil_from_days(days, &y, &m, &d);
    if (y < 0)
        fl_buf_addf(out, "-%04lld-%02u-%02u", (long long)-y, m, d);
    else
        fl_buf_addf(out, "%04lld-%02u-%02u", (long long)y, m, d);
}

static void format_dtdur(fl_i128 ns, struct fl_buf *out)
{
    if (ns < 0) {
        fl_buf_addc(out, '-');
        ns = -ns;
    }
    fl_i128 secs = ns / FL_NS_PER_SEC;
    int64_t frac = (int64_t)(ns % FL_NS_PER_SEC);
    long long days = (long long)(secs / 86400);
    int h = (int)(secs / 3600 % 24), mi = (int)(secs / 60 % 60), s = (int)(secs % 60);
    fl_buf_addc(out, 'P');
    if (days)
        fl_buf_addf(out, "%lldD", days);
    if (h || mi || s || frac || !days) {
        fl_buf_addc(out, 'T');
        if (h)
            fl_buf_addf(out, "%dH", h);
        if (mi)
            fl_buf_addf(out, "%dM", mi);
        if (s || frac || (!h && !mi)) {
            fl_buf_addf(out, "%d", s);
            format_frac(frac, out);
            fl_buf_addc(out, 'S');
        }
    }
}

void fl__format_temporal(const struct fl_value *v, struct fl_buf *out)
{
    switch ((enum fl_vtype)v->type) {
    case FL_VDATE:
        format_date(v->u.date, out);
        break;
    case FL_VTIME:
        format_nanos_of_day(v->u.dt.nanos, out);
        format_tz(&v->u.dt.tz, out);
        break;
    case FL_VDATETIME:
        format_date(v->u.dt.days, out);
        fl_buf_addc(out, 'T');
        format_nanos_of_day(v->u.dt.nanos, out);
        format_tz(&v->u.dt.tz, out);
        break;
    case FL_VDTDURATION:
        format_dtdur(v->u.dtdur, out);
        break;
    case FL_VYMDURATION: {
        int64_t m = v->u.ymdur;
        if (m < 0) {
            fl_buf_addc(out, '-');
            m = -m;
        }
        fl_buf_addc(out, 'P');
        if (m / 12)
            fl_buf_addf(out, "%lldY", (long long)(m / 12));
        if (m % 12 || m == 0)
            fl_buf_addf(out, "%lldM", (long long)(m % 12));
        break;
    }
    default:
        break;
    }
}

static void text_rec(const struct fl_value *v, struct fl_buf *out, bool quote)
{
    switch ((enum fl_vtype)v->type) {
    case FL_VNULL:
        fl_buf_adds(out, "null");
        break;
    case FL_VBOOL:
        fl_buf_adds(out, v->u.b ? "true" : "false");
        break;
    case FL_VNUMBER:
        fl_dec_format(&v->u.num, out);
        break;
    case FL_VSTRING:
        if (quote) {
            fl_buf_addc(out, '"');
            for (size_t i = 0; i < v->u.str.len; i++) {
                char c = v->u.str.s[i];
                if (c == '"' || c == '\\')
                    fl_buf_addc(out, '\\');
                fl_buf_addc(out, c);
            }
            fl_buf_addc(out, '"');
        } else {
            fl_buf_add(out, v->u.str.s, v->u.str.len);
        }
        break;
    case FL_VLIST:
        fl_buf_addc(out, '[');
        for (size_t i = 0; i < v->u.list.len; i++) {
            if (i)
                fl_buf_adds(out, ", ");
            text_rec(v->u.list.items[i], out, true);
        }
        fl_buf_addc(out, ']');
        break;
    case FL_VCONTEXT:
        fl_buf_addc(out, '{');
        for (size_t i = 0; i < v->u.ctx.len; i++) {
            if (i)
                fl_buf_adds(out, ", ");
            fl_buf_add(out, v->u.ctx.ents[i].key, v->u.ctx.ents[i].keylen);
            fl_buf_adds(out, ": ");
            text_rec(v->u.ctx.ents[i].val, out, true);
        }
        fl_buf_addc(out, '}');
        break;
    case FL_VRANGE:
        fl_buf_addc(out, v->u.range.lo_closed ? '[' : '(');
        if (v->u.range.lo)
            text_rec(v->u.range.lo, out, true);
        fl_buf_adds(out, "..");
        if (v->u.range.hi)
            text_rec(v->u.range.hi, out, true);
        fl_buf_addc(out, v->u.range.hi_closed ? ']' : ')');
        break;
    case FL_VFUNCTION:
        fl_buf_adds(out, "function");
        break;
    default:
        fl__format_temporal(v, out);
        break;
    }
}

int fl_value_to_text(const struct fl_value *v, struct fl_buf *out)
{
    text_rec(v ? v : fl_value_null(), out, false);
    return out->err;
}
