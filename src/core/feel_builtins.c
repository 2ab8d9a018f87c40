/* FEEL built-in functions, part one: the registry (name lookup for the parser), argument
 * helpers, and the string, number, boolean, conversion and context functions. Every
 * function checks its argument types and returns null (with a diagnostic) on misuse, as
 * FEEL requires; none of them can fail hard. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/feel_impl.h"
#include "core/feel_regex.h"
#include "flowd/alloc.h"
#include "util/utf8.h"

#define T(v) fl_value_type(v)

bool fl__feel_num(const struct fl_value *v, struct fl_dec *out)
{
    if (T(v) != FL_VNUMBER)
        return false;
    *out = v->u.num;
    return true;
}

bool fl__feel_int(const struct fl_value *v, int64_t *out)
{
    return T(v) == FL_VNUMBER && fl_value_to_int64(v, out) == 0;
}

struct fl_value *fl__feel_numv(struct feel_eval *ev, int rc, const struct fl_dec *d)
{
    if (rc)
        return fl__feel_error(ev, "numeric result out of range");
    return fl__value_number(d);
}

size_t fl__utf8_len(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            c++;
    return c;
}

size_t fl__utf8_off(const char *s, size_t n, size_t cp)
{
    size_t i = 0;
    while (i < n && cp > 0) {
        i++;
        while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        cp--;
    }
    return i;
}

static struct fl_value *bad(struct feel_eval *ev, const char *fn)
{
    return fl__feel_error(ev, "invalid arguments to '%s'", fn);
}

static bool str2(struct fl_value **a, const char **s1, size_t *n1, const char **s2, size_t *n2)
{
    if (T(a[0]) != FL_VSTRING || T(a[1]) != FL_VSTRING)
        return false;
    *s1 = a[0]->u.str.s;
    *n1 = a[0]->u.str.len;
    *s2 = a[1]->u.str.s;
    *n2 = a[1]->u.str.len;
    return true;
}

/* ---- strings ---- */

static struct fl_value *f_string_length(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    (void)n;
    if (T(a[0]) != FL_VSTRING)
        return bad(ev, "string length");
    return fl_value_int((int64_t)fl__utf8_len(a[0]->u.str.s, a[0]->u.str.len));
}

static struct fl_value *f_substring(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    int64_t start, len = -1;
    if (T(a[0]) != FL_VSTRING || !fl__feel_int(a[1], &start) ||
        (n > 2 && T(a[2]) != FL_VNULL && (!fl__feel_int(a[2], &len) || len < 0)))
        return bad(ev, "substring");
    const char *s = a[0]->u.str.s;
    size_t bl = a[0]->u.str.len, cl = fl__utf8_len(s, bl);
    int64_t from;
    if (start > 0)
        from = start - 1;
    else if (start < 0)
        from = (int64_t)cl + start;
    else
        return bad(ev, "substring");
    if (from < 0 || from > (int64_t)cl)
        return bad(ev, "substring");
    size_t b0 = fl__utf8_off(s, bl, (size_t)from);
    size_t b1 = len < 0 ? bl : b0 + fl__utf8_off(s + b0, bl - b0, (size_t)len);
    return fl__value_string(s + b0, b1 - b0);
}

/* Simple case mapping for the scripts business text uses most (Latin, Greek, Cyrillic);
 * other code points are left alone. Locale-independent on purpose. */
static uint32_t map_case(uint32_t c, bool upper)
{
    if (upper) {
        if ((c >= 'a' && c <= 'z') || (c >= 0xE0 && c <= 0xFE && c != 0xF7) ||
            (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) || (c >= 0x430 && c <= 0x44F))
            return c - 32;
        if (c >= 0x450 && c <= 0x45F)
            return c - 80;
        if (((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) && (c & 1))
            return c - 1;
        if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) && !(c & 1))
            return c - 1;
        if (c == 0xFF)
            return 0x178;
    } else {
        if ((c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7) ||
            (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) || (c >= 0x410 && c <= 0x42F))
            return c + 32;
        if (c >= 0x400 && c <= 0x40F)
            return c + 80;
        if (((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) && !(c & 1))
            return c + 1;
        if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) && (c & 1))
            return c + 1;
        if (c == 0x178)
            return 0xFF;
    }
    return c;
}

static struct fl_value *change_case(struct fl_value *v, bool upper)
{
    struct fl_buf b = FL_BUF_INIT;
    const unsigned char *p = (const unsigned char *)v->u.str.s, *end = p + v->u.str.len;
    while (p < end) {
        uint32_t c = *p;
        size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
        if ((size_t)(end - p) < n)
            n = (size_t)(end - p);
        if (n == 2)
            c = ((c & 0x1F) << 6) | (p[1] & 0x3F);
        else if (n == 3)
            c = ((c & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
        else if (n == 4)
            c = ((c & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) |
                (p[3] & 0x3F);
        p += n;
        fl_utf8_put(&b, map_case(c, upper));
    }
    struct fl_value *r = fl__value_string(b.ptr, b.len);
    fl_buf_release(&b);
    return r;
}

static struct fl_value *f_upper(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    (void)n;
    return T(a[0]) == FL_VSTRING ? change_case(a[0], true) : bad(ev, "upper case");
}

static struct fl_value *f_lower(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    (void)n;
    return T(a[0]) == FL_VSTRING ? change_case(a[0], false) : bad(ev, "lower case");
}

static const char *find_sub(const char *h, size_t hn, const char *nd, size_t nn)
{
    if (nn == 0)
        return h;
    if (nn > hn)
        return NULL;
    for (size_t i = 0; i + nn <= hn; i++)
        if (memcmp(h + i, nd, nn) == 0)
            return h + i;
    return NULL;
}

static struct fl_value *f_contains(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    const char *s, *m;
    size_t sn, mn;
    (void)n;
    if (!str2(a, &s, &sn, &m, &mn))
        return bad(ev, "contains");
    return fl_value_bool(find_sub(s, sn, m, mn) != NULL);
}

static struct fl_value *f_starts_with(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    const char *s, *m;
    size_t sn, mn;
    (void)n;
    if (!str2(a, &s, &sn, &m, &mn))
        return bad(ev, "starts with");
    return fl_value_bool(mn <= sn && memcmp(s, m, mn) == 0);
}

static struct fl_value *f_ends_with(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    const char *s, *m;
    size_t sn, mn;
    (void)n;
    if (!str2(a, &s, &sn, &m, &mn))
        return bad(ev, "ends with");
    return fl_value_bool(mn <= sn && memcmp(s + sn - mn, m, mn) == 0);
}

static struct fl_value *f_substring_before(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    const char *s, *m, *at;
    size_t sn, mn;
    (void)n;
    if (!str2(a, &s, &sn, &m, &mn))
        return bad(ev, "substring before");
    at = find_sub(s, sn, m, mn);
    return at ? fl__value_string(s, (size_t)(at - s)) : fl__value_string("", 0);
}

static struct fl_value *f_substring_after(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    const char *s, *m, *at;
    size_t sn, mn;
    (void)n;
    if (!str2(a, &s, &sn, &m, &mn))
        return bad(ev, "substring after");
    at = find_sub(s, sn, m, mn);
    return at ? fl__value_string(at + mn, sn - (size_t)(at - s) - mn) : fl__value_string("", 0);
}

/* Compile the pattern a[pi] with optional flags a[fi]; NULL (after a diagnostic) when
 * either is invalid. */
static struct fl__regex *regex_arg(struct feel_eval *ev, struct fl_value **a, size_t n,
                                   size_t pi, size_t fi)
{
    struct fl__regex *re;
    const char *flags = "";
    size_t nflags = 0;
    if (fi < n && T(a[fi]) == FL_VSTRING) {
        flags = a[fi]->u.str.s;
        nflags = a[fi]->u.str.len;
    } else if (fi < n && T(a[fi]) != FL_VNULL) {
        fl__feel_error(ev, "regular expression flags must be a string");
        return NULL;
    }
    if (fl__regex_compile(a[pi]->u.str.s, a[pi]->u.str.len, flags, nflags, &re)) {
        fl__feel_error(ev, "invalid regular expression '%s' or flags '%s'", a[pi]->u.str.s,
                       flags);
        return NULL;
    }
    return re;
}

static struct fl_value *f_matches(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    size_t caps[20];
    if (T(a[0]) != FL_VSTRING || T(a[1]) != FL_VSTRING)
        return bad(ev, "matches");
    struct fl__regex *re = regex_arg(ev, a, n, 1, 2);
    if (!re)
        return fl_value_null();
    int rc = fl__regex_search(re, a[0]->u.str.s, a[0]->u.str.len, 0, caps);
    fl__regex_free(re);
    if (rc < 0)
        return fl__feel_error(ev, "regular expression too costly to evaluate");
    return fl_value_bool(rc == 1);
}

static struct fl_value *f_replace(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    size_t m[20];
    if (T(a[0]) != FL_VSTRING || T(a[1]) != FL_VSTRING || T(a[2]) != FL_VSTRING)
        return bad(ev, "replace");
    struct fl__regex *re = regex_arg(ev, a, n, 1, 3);
    if (!re)
        return fl_value_null();
    struct fl_buf out;
    fl_buf_init(&out, FEEL_MAX_STRING);
    const char *s = a[0]->u.str.s, *rep = a[2]->u.str.s;
    size_t len = a[0]->u.str.len, pos = 0, rn = a[2]->u.str.len;
    int rc;
    while (pos <= len && (rc = fl__regex_search(re, s, len, pos, m)) == 1) {
        fl_buf_add(&out, s + pos, m[0] - pos);
        for (size_t i = 0; i < rn; i++) {
            if (rep[i] == '$' && i + 1 < rn && rep[i + 1] >= '0' && rep[i + 1] <= '9') {
                int g = rep[++i] - '0';
                if (m[2 * g] != SIZE_MAX && m[2 * g + 1] != SIZE_MAX)
                    fl_buf_add(&out, s + m[2 * g], m[2 * g + 1] - m[2 * g]);
            } else if (rep[i] == '\\' && i + 1 < rn) {
                fl_buf_addc(&out, rep[++i]);
            } else {
                fl_buf_addc(&out, rep[i]);
            }
        }
        if (m[1] == m[0]) {
            /* an empty match: copy one code point and move on */
            size_t step = 1;
            while (m[0] + step < len && ((unsigned char)s[m[0] + step] & 0xC0) == 0x80)
                step++;
            if (m[0] < len)
                fl_buf_add(&out, s + m[0], step);
            pos = m[0] + step;
        } else {
            pos = m[1];
        }
    }
    fl__regex_free(re);
    if (rc < 0 || out.err) {
        fl_buf_release(&out);
        return fl__feel_error(ev, rc < 0 ? "regular expression too costly to evaluate"
                                         : "string too long");
    }
    if (pos < len)
        fl_buf_add(&out, s + pos, len - pos);
    struct fl_value *r = fl__value_string(out.ptr, out.len);
    fl_buf_release(&out);
    return r;
}

static struct fl_value *f_split(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    size_t m[20];
    int rc;
    if (T(a[0]) != FL_VSTRING || T(a[1]) != FL_VSTRING || a[1]->u.str.len == 0)
        return bad(ev, "split");
    struct fl__regex *re = regex_arg(ev, a, n, 1, 2);
    if (!re)
        return fl_value_null();
    struct fl_value *r = fl_value_list_new();
    const char *s = a[0]->u.str.s;
    size_t len = a[0]->u.str.len, pos = 0, from = 0;
    while (from <= len && (rc = fl__regex_search(re, s, len, from, m)) == 1) {
        if (m[1] == m[0]) { /* empty matches do not split */
            from = m[0] + 1;
            continue;
        }
        fl_value_list_push(r, fl__value_string(s + pos, m[0] - pos));
        pos = from = m[1];
    }
    fl__regex_free(re);
    if (rc < 0) {
        fl_value_unref(r);
        return fl__feel_error(ev, "regular expression too costly to evaluate");
    }
    fl_value_list_push(r, fl__value_string(s + pos, len - pos));
    return r;
}

static struct fl_value *f_string_join(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    if (T(a[0]) == FL_VSTRING && (n < 2 || T(a[1]) == FL_VSTRING || T(a[1]) == FL_VNULL))
        return fl_value_ref(a[0]); /* a single item is a list of one */
    if (T(a[0]) != FL_VLIST || (n > 1 && T(a[1]) != FL_VSTRING && T(a[1]) != FL_VNULL))
        return bad(ev, "string join");
    struct fl_buf out;
    bool first = true;
    fl_buf_init(&out, FEEL_MAX_STRING);
    for (size_t i = 0; i < a[0]->u.list.len; i++) {
        const struct fl_value *it = a[0]->u.list.items[i];
        if (T(it) == FL_VNULL)
            continue;
        if (T(it) != FL_VSTRING) {
            fl_buf_release(&out);
            return bad(ev, "string join");
        }
        if (!first && n > 1 && T(a[1]) == FL_VSTRING)
            fl_buf_add(&out, a[1]->u.str.s, a[1]->u.str.len);
        fl_buf_add(&out, it->u.str.s, it->u.str.len);
        first = false;
    }
    if (out.err) {
        fl_buf_release(&out);
        return fl__feel_error(ev, "string too long");
    }
    struct fl_value *r = fl__value_string(out.ptr, out.len);
    fl_buf_release(&out);
    return r;
}

static struct fl_value *f_string(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    struct fl_buf out = FL_BUF_INIT;
    (void)ev;
    (void)n;
    if (T(a[0]) == FL_VNULL)
        return fl_value_null();
    fl_value_to_text(a[0], &out);
    struct fl_value *r = fl__value_string(out.ptr, out.len);
    fl_buf_release(&out);
    return r;
}

static struct fl_value *f_number(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    const struct fl_value *grp = n > 1 ? a[1] : NULL, *dec = n > 2 ? a[2] : NULL;
    char g = 0, d = '.';
    if (T(a[0]) != FL_VSTRING)
        return bad(ev, "number");
    if (grp && T(grp) != FL_VNULL) {
        if (T(grp) != FL_VSTRING || grp->u.str.len != 1 || !strchr(" ,.", grp->u.str.s[0]))
            return bad(ev, "number");
        g = grp->u.str.s[0];
    }
    if (dec && T(dec) != FL_VNULL) {
        if (T(dec) != FL_VSTRING || dec->u.str.len != 1 || !strchr(",.", dec->u.str.s[0]))
            return bad(ev, "number");
        d = dec->u.str.s[0];
    }
    if (g && g == d)
        return bad(ev, "number");
    struct fl_buf b = FL_BUF_INIT;
    for (size_t i = 0; i < a[0]->u.str.len; i++) {
        char c = a[0]->u.str.s[i];
        if (g && c == g)
            continue;
        if (c == d)
            c = '.';
        else if (c == '.' || c == ',')
            c = 'x'; /* a separator that was not declared makes the text invalid */
        fl_buf_addc(&b, c);
    }
    struct fl_value *r;
    if (fl_value_number_parse(b.ptr, b.len, &r))
        r = fl__feel_error(ev, "cannot convert '%s' to a number", a[0]->u.str.s);
    fl_buf_release(&b);
    return r;
}

/* ---- numbers ---- */

static struct fl_value *round_fn(struct feel_eval *ev, struct fl_value **a, size_t n,
                                 enum fl_dec_round mode, const char *name)
{
    struct fl_dec x, r, sc;
    int64_t scale = 0;
    if (!fl__feel_num(a[0], &x) || (n > 1 && !fl__feel_num(a[1], &sc)))
        return bad(ev, name);
    /* a fractional scale counts by its integer part, as BigDecimal's intValue() does */
    if (n > 1 && (fl_dec_round(&sc, 0, FL_ROUND_DOWN, &sc) || fl_dec_to_int64(&sc, &scale)))
        return bad(ev, name);
    if (scale < -6111 || scale > 6176)
        return bad(ev, name);
    return fl__feel_numv(ev, fl_dec_round(&x, (int32_t)scale, mode, &r), &r);
}

static struct fl_value *f_decimal(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    if (n < 2)
        return bad(ev, "decimal");
    return round_fn(ev, a, n, FL_ROUND_HALF_EVEN, "decimal");
}

static struct fl_value *f_floor(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    return round_fn(ev, a, n, FL_ROUND_FLOOR, "floor");
}

static struct fl_value *f_ceiling(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    return round_fn(ev, a, n, FL_ROUND_CEILING, "ceiling");
}

static struct fl_value *f_round_up(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    return round_fn(ev, a, n, FL_ROUND_UP, "round up");
}

static struct fl_value *f_round_down(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    return round_fn(ev, a, n, FL_ROUND_DOWN, "round down");
}

static struct fl_value *f_round_half_up(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    return round_fn(ev, a, n, FL_ROUND_HALF_UP, "round half up");
}

static struct fl_value *f_round_half_down(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    return round_fn(ev, a, n, FL_ROUND_HALF_DOWN, "round half down");
}

static struct fl_value *f_abs(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    struct fl_dec x;
    (void)n;
    if (fl__feel_num(a[0], &x)) {
        fl_dec_abs(&x, &x);
        return fl__value_number(&x);
    }
    if (T(a[0]) == FL_VDTDURATION)
        return fl__value_dtduration(a[0]->u.dtdur < 0 ? -a[0]->u.dtdur : a[0]->u.dtdur);
    if (T(a[0]) == FL_VYMDURATION)
        return fl__value_ymduration(a[0]->u.ymdur < 0 ? -a[0]->u.ymdur : a[0]->u.ymdur);
    return bad(ev, "abs");
}

static struct fl_value *f_modulo(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    struct fl_dec x, y, r;
    (void)n;
    if (!fl__feel_num(a[0], &x) || !fl__feel_num(a[1], &y) || fl_dec_is_zero(&y))
        return bad(ev, "modulo");
    return fl__feel_numv(ev, fl_dec_mod(&x, &y, &r), &r);
}

static struct fl_value *f_sqrt(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    struct fl_dec x, r;
    (void)n;
    if (!fl__feel_num(a[0], &x) || fl_dec_sqrt(&x, &r))
        return bad(ev, "sqrt");
    return fl__value_number(&r);
}

static struct fl_value *f_log(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    struct fl_dec x, r;
    (void)n;
    if (!fl__feel_num(a[0], &x) || x.neg || fl_dec_is_zero(&x))
        return bad(ev, "log");
    if (fl_dec_from_double(log(fl_dec_to_double(&x)), &r))
        return bad(ev, "log");
    return fl__value_number(&r);
}

static struct fl_value *f_exp(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    struct fl_dec x, r;
    (void)n;
    if (!fl__feel_num(a[0], &x) || fl_dec_from_double(exp(fl_dec_to_double(&x)), &r))
        return bad(ev, "exp");
    return fl__value_number(&r);
}

static struct fl_value *parity(struct feel_eval *ev, struct fl_value **a, bool odd)
{
    struct fl_dec x, two, r;
    if (!fl__feel_num(a[0], &x) || !fl_dec_is_int(&x))
        return bad(ev, odd ? "odd" : "even");
    fl_dec_from_int(2, &two);
    fl_dec_mod(&x, &two, &r);
    return fl_value_bool(fl_dec_is_zero(&r) != odd);
}

static struct fl_value *f_odd(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    (void)n;
    return parity(ev, a, true);
}

static struct fl_value *f_even(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    (void)n;
    return parity(ev, a, false);
}

/* ---- booleans ---- */

static struct fl_value *f_not(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    (void)n;
    if (T(a[0]) != FL_VBOOL)
        return T(a[0]) == FL_VNULL ? fl_value_null() : bad(ev, "not");
    return fl_value_bool(!a[0]->u.b);
}

static struct fl_value *f_is(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    (void)ev;
    (void)n;
    if (T(a[0]) != T(a[1]))
        return fl_value_bool(false);
    if (T(a[0]) == FL_VTIME || T(a[0]) == FL_VDATETIME) {
        /* is() compares the values as written: 12:00+01:00 is not 11:00Z */
        const struct fl_tz *x = &a[0]->u.dt.tz, *y = &a[1]->u.dt.tz;
        bool same_tz = x->kind == y->kind && x->offset_sec == y->offset_sec &&
                       (x->kind != FL_TZ_ZONE || strcmp(x->zone, y->zone) == 0);
        return fl_value_bool(same_tz && a[0]->u.dt.days == a[1]->u.dt.days &&
                             a[0]->u.dt.nanos == a[1]->u.dt.nanos);
    }
    return fl_value_bool(fl__feel_equal(a[0], a[1]) == 1);
}

/* ---- contexts ---- */

static struct fl_value *f_get_value(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    (void)n;
    if (T(a[0]) != FL_VCONTEXT)
        return bad(ev, "get value");
    if (T(a[1]) == FL_VSTRING) {
        const struct fl_value *v = fl_value_context_get(a[0], a[1]->u.str.s, a[1]->u.str.len);
        return fl_value_ref(v ? v : fl_value_null());
    }
    if (T(a[1]) == FL_VLIST) {
        const struct fl_value *cur = a[0];
        for (size_t i = 0; i < a[1]->u.list.len; i++) {
            const struct fl_value *k = a[1]->u.list.items[i];
            if (T(k) != FL_VSTRING || T(cur) != FL_VCONTEXT)
                return fl_value_null();
            cur = fl_value_context_get(cur, k->u.str.s, k->u.str.len);
            if (!cur)
                return fl_value_null();
        }
        return fl_value_ref(cur);
    }
    return bad(ev, "get value");
}

static struct fl_value *f_get_entries(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    (void)n;
    if (T(a[0]) != FL_VCONTEXT)
        return bad(ev, "get entries");
    struct fl_value *r = fl__value_list_sized(a[0]->u.ctx.len);
    for (size_t i = 0; i < a[0]->u.ctx.len; i++) {
        struct fl_value *e = fl_value_context_new();
        fl_value_context_set(e, "key", 3,
                             fl__value_string(a[0]->u.ctx.ents[i].key, a[0]->u.ctx.ents[i].keylen));
        fl_value_context_set(e, "value", 5, fl_value_ref(a[0]->u.ctx.ents[i].val));
        fl_value_list_push(r, e);
    }
    return r;
}

static struct fl_value *put_path(const struct fl_value *ctx, const struct fl_value *keys,
                                 size_t at, const struct fl_value *val)
{
    const struct fl_value *k = keys->u.list.items[at];
    if (T(k) != FL_VSTRING || T(ctx) != FL_VCONTEXT)
        return NULL;
    struct fl_value *c = fl_value_context_copy(ctx);
    struct fl_value *nv;
    if (at + 1 == keys->u.list.len) {
        nv = fl_value_ref(val);
    } else {
        const struct fl_value *inner = fl_value_context_get(ctx, k->u.str.s, k->u.str.len);
        struct fl_value *empty = NULL;
        if (!inner)
            inner = empty = fl_value_context_new();
        nv = put_path(inner, keys, at + 1, val);
        fl_value_unref(empty);
        if (!nv) {
            fl_value_unref(c);
            return NULL;
        }
    }
    fl_value_context_set(c, k->u.str.s, k->u.str.len, nv);
    return c;
}

static struct fl_value *f_context_put(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    (void)n;
    if (T(a[0]) != FL_VCONTEXT)
        return bad(ev, "context put");
    if (T(a[1]) == FL_VSTRING) {
        struct fl_value *c = fl_value_context_copy(a[0]);
        fl_value_context_set(c, a[1]->u.str.s, a[1]->u.str.len, fl_value_ref(a[2]));
        return c;
    }
    if (T(a[1]) == FL_VLIST && a[1]->u.list.len > 0) {
        struct fl_value *c = put_path(a[0], a[1], 0, a[2]);
        return c ? c : bad(ev, "context put");
    }
    return bad(ev, "context put");
}

static struct fl_value *f_context_merge(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    (void)n;
    if (T(a[0]) != FL_VLIST)
        return bad(ev, "context merge");
    struct fl_value *c = fl_value_context_new();
    for (size_t i = 0; i < a[0]->u.list.len; i++) {
        const struct fl_value *it = a[0]->u.list.items[i];
        if (T(it) != FL_VCONTEXT) {
            fl_value_unref(c);
            return bad(ev, "context merge");
        }
        for (size_t k = 0; k < it->u.ctx.len; k++)
            fl_value_context_set(c, it->u.ctx.ents[k].key, it->u.ctx.ents[k].keylen,
                                 fl_value_ref(it->u.ctx.ents[k].val));
    }
    return c;
}

static struct fl_value *f_context(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    const struct fl_value *one[1];
    const struct fl_value *const *items;
    size_t cnt;
    (void)n;
    if (T(a[0]) == FL_VCONTEXT) {
        one[0] = a[0];
        items = one;
        cnt = 1;
    } else if (T(a[0]) == FL_VLIST) {
        items = (const struct fl_value *const *)a[0]->u.list.items;
        cnt = a[0]->u.list.len;
    } else {
        return bad(ev, "context");
    }
    struct fl_value *c = fl_value_context_new();
    for (size_t i = 0; i < cnt; i++) {
        const struct fl_value *k = fl_value_context_get(items[i], "key", 3);
        const struct fl_value *v = fl_value_context_get(items[i], "value", 5);
        if (!k || !v || T(k) != FL_VSTRING || fl_value_context_get(c, k->u.str.s, k->u.str.len)) {
            fl_value_unref(c);
            return bad(ev, "context");
        }
        fl_value_context_set(c, k->u.str.s, k->u.str.len, fl_value_ref(v));
    }
    return c;
}

static const struct feel_builtin table[] = {
    {"string length", 1, 1, {"string"}, f_string_length, {NULL}},
    {"substring", 2, 3, {"string", "start position", "length"}, f_substring, {NULL}},
    {"upper case", 1, 1, {"string"}, f_upper, {NULL}},
    {"lower case", 1, 1, {"string"}, f_lower, {NULL}},
    {"contains", 2, 2, {"string", "match"}, f_contains, {NULL}},
    {"starts with", 2, 2, {"string", "match"}, f_starts_with, {NULL}},
    {"ends with", 2, 2, {"string", "match"}, f_ends_with, {NULL}},
    {"substring before", 2, 2, {"string", "match"}, f_substring_before, {NULL}},
    {"substring after", 2, 2, {"string", "match"}, f_substring_after, {NULL}},
    {"matches", 2, 3, {"input", "pattern", "flags"}, f_matches, {NULL}},
    {"replace", 3, 4, {"input", "pattern", "replacement", "flags"}, f_replace, {NULL}},
    {"split", 2, 2, {"string", "delimiter"}, f_split, {NULL}},
    {"string join", 1, 2, {"list", "delimiter"}, f_string_join, {NULL}},
    {"string", 1, 1, {"from"}, f_string, {NULL}},
    {"number", 1, 3, {"from", "grouping separator", "decimal separator"}, f_number, {NULL}},
    {"decimal", 2, 2, {"n", "scale"}, f_decimal, {NULL}},
    {"floor", 1, 2, {"n", "scale"}, f_floor, {NULL}},
    {"ceiling", 1, 2, {"n", "scale"}, f_ceiling, {NULL}},
    {"round up", 2, 2, {"n", "scale"}, f_round_up, {NULL}},
    {"round down", 2, 2, {"n", "scale"}, f_round_down, {NULL}},
    {"round half up", 2, 2, {"n", "scale"}, f_round_half_up, {NULL}},
    {"round half down", 2, 2, {"n", "scale"}, f_round_half_down, {NULL}},
    {"abs", 1, 1, {"n"}, f_abs, {NULL}},
    {"modulo", 2, 2, {"dividend", "divisor"}, f_modulo, {NULL}},
    {"sqrt", 1, 1, {"number"}, f_sqrt, {NULL}},
    {"log", 1, 1, {"number"}, f_log, {NULL}},
    {"exp", 1, 1, {"number"}, f_exp, {NULL}},
    {"odd", 1, 1, {"number"}, f_odd, {NULL}},
    {"even", 1, 1, {"number"}, f_even, {NULL}},
    {"not", 1, 1, {"negand"}, f_not, {NULL}},
    {"is", 2, 2, {"value1", "value2"}, f_is, {NULL}},
    {"get value", 2, 2, {"m", "key"}, f_get_value, {NULL}},
    {"get entries", 1, 1, {"m"}, f_get_entries, {NULL}},
    {"context put", 3, 3, {"context", "key", "value"}, f_context_put,
     {"context", "keys", "value"}},
    {"context merge", 1, 1, {"contexts"}, f_context_merge, {NULL}},
    {"context", 1, 1, {"entries"}, f_context, {NULL}},
};

#define NTABLE (sizeof(table) / sizeof(table[0]))

int fl__feel_builtin_find(const char *name, size_t n)
{
    size_t nm, nt;
    const struct feel_builtin *more = fl__feel_builtins_more(&nm);
    const struct feel_builtin *tm = fl__feel_builtins_time(&nt);
    for (size_t i = 0; i < NTABLE; i++)
        if (strlen(table[i].name) == n && memcmp(table[i].name, name, n) == 0)
            return (int)i;
    for (size_t i = 0; i < nm; i++)
        if (strlen(more[i].name) == n && memcmp(more[i].name, name, n) == 0)
            return (int)(NTABLE + i);
    for (size_t i = 0; i < nt; i++)
        if (strlen(tm[i].name) == n && memcmp(tm[i].name, name, n) == 0)
            return (int)(NTABLE + nm + i);
    return -1;
}

const struct feel_builtin *fl__feel_builtin_get(int idx)
{
    size_t nm, nt;
    const struct feel_builtin *more = fl__feel_builtins_more(&nm);
    const struct feel_builtin *tm = fl__feel_builtins_time(&nt);
    size_t i = (size_t)idx;
    if (i < NTABLE)
        return &table[i];
    i -= NTABLE;
    if (i < nm)
        return &more[i];
    return &tm[i - nm];
}
