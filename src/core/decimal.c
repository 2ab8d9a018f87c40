/* Decimal arithmetic (see decimal.h). Intermediate results that may exceed 34 digits (sums
 * of misaligned operands, products) are held exactly in a 256-bit integer and rounded once,
 * half-even, so every operation is correctly rounded. Division runs digit by digit on the
 * 128-bit coefficient, which cannot overflow because the remainder stays below the divisor. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/decimal.h"
#include "flowd/err.h"

/* Little-endian 256-bit unsigned integer. */
struct u256 {
    uint64_t w[4];
};

/* Powers of ten that fit 128 bits: 10^0 .. 10^38. */
static const fl_u128 pow10_table[39] = {
    (fl_u128)1ULL,
    (fl_u128)10ULL,
    (fl_u128)100ULL,
    (fl_u128)1000ULL,
    (fl_u128)10000ULL,
    (fl_u128)100000ULL,
    (fl_u128)1000000ULL,
    (fl_u128)10000000ULL,
    (fl_u128)100000000ULL,
    (fl_u128)1000000000ULL,
    (fl_u128)10000000000ULL,
    (fl_u128)100000000000ULL,
    (fl_u128)1000000000000ULL,
    (fl_u128)10000000000000ULL,
    (fl_u128)100000000000000ULL,
    (fl_u128)1000000000000000ULL,
    (fl_u128)10000000000000000ULL,
    (fl_u128)100000000000000000ULL,
    (fl_u128)1000000000000000000ULL,
    (fl_u128)10000000000000000000ULL,
    (fl_u128)10000000000000000000ULL * 10ULL,
    (fl_u128)10000000000000000000ULL * 100ULL,
    (fl_u128)10000000000000000000ULL * 1000ULL,
    (fl_u128)10000000000000000000ULL * 10000ULL,
    (fl_u128)10000000000000000000ULL * 100000ULL,
    (fl_u128)10000000000000000000ULL * 1000000ULL,
    (fl_u128)10000000000000000000ULL * 10000000ULL,
    (fl_u128)10000000000000000000ULL * 100000000ULL,
    (fl_u128)10000000000000000000ULL * 1000000000ULL,
    (fl_u128)10000000000000000000ULL * 10000000000ULL,
    (fl_u128)10000000000000000000ULL * 100000000000ULL,
    (fl_u128)10000000000000000000ULL * 1000000000000ULL,
    (fl_u128)10000000000000000000ULL * 10000000000000ULL,
    (fl_u128)10000000000000000000ULL * 100000000000000ULL,
    (fl_u128)10000000000000000000ULL * 1000000000000000ULL,
    (fl_u128)10000000000000000000ULL * 10000000000000000ULL,
    (fl_u128)10000000000000000000ULL * 100000000000000000ULL,
    (fl_u128)10000000000000000000ULL * 1000000000000000000ULL,
    (fl_u128)10000000000000000000ULL * 10000000000000000000ULL,
};

static fl_u128 pow10_u128(int n)
{
    return pow10_table[n];
}

#define COEF_LIMIT (pow10_u128(FL_DEC_DIGITS))

int fl_dec_ndigits(fl_u128 c)
{
    /* comparisons, not 128-bit divisions: this is on the hot path of every comparison */
    int n = 1;
    while (n < 39 && c >= pow10_table[n])
        n++;
    return n;
}

static void u256_set(struct u256 *x, fl_u128 v)
{
    x->w[0] = (uint64_t)v;
    x->w[1] = (uint64_t)(v >> 64);
    x->w[2] = x->w[3] = 0;
}

static fl_u128 u256_lo(const struct u256 *x)
{
    return ((fl_u128)x->w[1] << 64) | x->w[0];
}

static bool u256_is_zero(const struct u256 *x)
{
    return !(x->w[0] | x->w[1] | x->w[2] | x->w[3]);
}

/* x *= m; returns false on overflow of 256 bits. */
static bool u256_mul_small(struct u256 *x, uint64_t m)
{
    fl_u128 carry = 0;
    for (int i = 0; i < 4; i++) {
        fl_u128 p = (fl_u128)x->w[i] * m + carry;
        x->w[i] = (uint64_t)p;
        carry = p >> 64;
    }
    return carry == 0;
}

/* x /= d; returns remainder. */
static uint64_t u256_div_small(struct u256 *x, uint64_t d)
{
    fl_u128 rem = 0;
    for (int i = 3; i >= 0; i--) {
        fl_u128 cur = (rem << 64) | x->w[i];
        x->w[i] = (uint64_t)(cur / d);
        rem = cur % d;
    }
    return (uint64_t)rem;
}

static void u256_add(struct u256 *x, const struct u256 *y)
{
    fl_u128 carry = 0;
    for (int i = 0; i < 4; i++) {
        fl_u128 s = (fl_u128)x->w[i] + y->w[i] + carry;
        x->w[i] = (uint64_t)s;
        carry = s >> 64;
    }
}

static int u256_cmp(const struct u256 *x, const struct u256 *y)
{
    for (int i = 3; i >= 0; i--) {
        if (x->w[i] != y->w[i])
            return x->w[i] < y->w[i] ? -1 : 1;
    }
    return 0;
}

/* x -= y, requires x >= y. */
static void u256_sub(struct u256 *x, const struct u256 *y)
{
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t a = x->w[i], b = y->w[i];
        uint64_t d = a - b - borrow;
        borrow = (a < b) || (a - b < borrow);
        x->w[i] = d;
    }
}

static void u256_mul128(struct u256 *r, fl_u128 a, fl_u128 b)
{
    uint64_t a0 = (uint64_t)a, a1 = (uint64_t)(a >> 64);
    uint64_t b0 = (uint64_t)b, b1 = (uint64_t)(b >> 64);
    fl_u128 p00 = (fl_u128)a0 * b0, p01 = (fl_u128)a0 * b1;
    fl_u128 p10 = (fl_u128)a1 * b0, p11 = (fl_u128)a1 * b1;
    struct u256 t;
    u256_set(r, p00);
    memset(&t, 0, sizeof(t));
    t.w[1] = (uint64_t)p01;
    t.w[2] = (uint64_t)(p01 >> 64);
    u256_add(r, &t);
    memset(&t, 0, sizeof(t));
    t.w[1] = (uint64_t)p10;
    t.w[2] = (uint64_t)(p10 >> 64);
    u256_add(r, &t);
    memset(&t, 0, sizeof(t));
    t.w[2] = (uint64_t)p11;
    t.w[3] = (uint64_t)(p11 >> 64);
    u256_add(r, &t);
}

/* Whether rounding away the digits (first dropped digit rd, sticky = any nonzero after it)
 * increments the kept coefficient q. */
static bool round_up(enum fl_dec_round mode, bool neg, fl_u128 q, int rd, bool sticky)
{
    bool inexact = rd != 0 || sticky;
    switch (mode) {
    case FL_ROUND_HALF_EVEN:
        return rd > 5 || (rd == 5 && (sticky || (q & 1)));
    case FL_ROUND_HALF_UP:
        return rd >= 5;
    case FL_ROUND_HALF_DOWN:
        return rd > 5 || (rd == 5 && sticky);
    case FL_ROUND_UP:
        return inexact;
    case FL_ROUND_DOWN:
        return false;
    case FL_ROUND_CEILING:
        return inexact && !neg;
    case FL_ROUND_FLOOR:
        return inexact && neg;
    }
    return false;
}

/* Round the exact value (neg, c * 10^exp, plus a pending sticky bit below it) to 34 digits
 * and check the exponent range. */
static int finish(struct u256 *c, int64_t exp, bool neg, bool sticky_in, struct fl_dec *out)
{
    int rd = 0;
    bool sticky = sticky_in;
    struct u256 lim;
    u256_set(&lim, COEF_LIMIT);
    while (u256_cmp(c, &lim) >= 0) {
        if (rd)
            sticky = true;
        rd = (int)u256_div_small(c, 10);
        exp++;
    }
    fl_u128 q = u256_lo(c);
    if (round_up(FL_ROUND_HALF_EVEN, neg, q, rd, sticky)) {
        q++;
        if (q == COEF_LIMIT) {
            q /= 10;
            exp++;
        }
    }
    /* Keep the exponent in range: fold excess into the coefficient when possible. */
    while (exp > FL_DEC_EMAX && q != 0 && q * 10 < COEF_LIMIT) {
        q *= 10;
        exp--;
    }
    if (q == 0) {
        if (exp > FL_DEC_EMAX)
            exp = FL_DEC_EMAX;
        if (exp < FL_DEC_EMIN)
            exp = FL_DEC_EMIN;
        neg = false;
    }
    if (exp > FL_DEC_EMAX)
        return FL_ELIMIT;
    if (exp < FL_DEC_EMIN) {
        /* Underflow: digits below the smallest exponent are rounded away. */
        int64_t shift = FL_DEC_EMIN - exp;
        if (shift > 38) {
            q = 0;
        } else {
            fl_u128 p = pow10_u128((int)shift);
            fl_u128 kept = q / p, rem = q % p;
            fl_u128 half = p / 2;
            int cmp = rem > half ? 1 : rem < half ? -1 : 0;
            if (cmp > 0 || (cmp == 0 && (kept & 1)))
                kept++;
            q = kept;
        }
        exp = FL_DEC_EMIN;
        if (q == 0)
            neg = false;
    }
    out->coef = q;
    out->exp = (int32_t)exp;
    out->neg = neg;
    return 0;
}

static int finish128(fl_u128 c, int64_t exp, bool neg, struct fl_dec *out)
{
    struct u256 x;
    u256_set(&x, c);
    return finish(&x, exp, neg, false, out);
}

int fl_dec_parse(const char *s, size_t len, struct fl_dec *out)
{
    size_t i = 0;
    bool neg = false, any = false;
    int ndig = 0;
    int64_t exp = 0;
    bool sticky = false;
    fl_u128 c = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        any = true;
        if (c == 0 && s[i] == '0')
            continue;
        if (ndig < FL_DEC_DIGITS + 2) {
            c = c * 10 + (fl_u128)(s[i] - '0');
            ndig++;
        } else {
            if (s[i] != '0')
                sticky = true;
            exp++;
        }
    }
    if (i < len && s[i] == '.') {
        i++;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            any = true;
            if (ndig < FL_DEC_DIGITS + 2) {
                c = c * 10 + (fl_u128)(s[i] - '0');
                if (c)
                    ndig++;
                exp--;
            } else if (s[i] != '0') {
                sticky = true;
            }
        }
    }
    if (!any)
        return FL_EPARSE;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        bool eneg = false, edig = false;
        int64_t e = 0;
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            eneg = s[i++] == '-';
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            edig = true;
            if (e < 100000000)
                e = e * 10 + (s[i] - '0');
        }
        if (!edig)
            return FL_EPARSE;
        exp += eneg ? -e : e;
    }
    if (i != len)
        return FL_EPARSE;
    struct u256 x;
    u256_set(&x, c);
    if (exp > FL_DEC_EMAX + 100 && c != 0)
        return FL_EPARSE;
    if (exp < FL_DEC_EMIN - 100) {
        exp = FL_DEC_EMIN - 100;
    }
    if (c == 0) {
        out->coef = 0;
        out->exp = (int32_t)(exp > FL_DEC_EMAX ? FL_DEC_EMAX : exp < FL_DEC_EMIN ? FL_DEC_EMIN : exp);
        out->neg = false;
        return 0;
    }
    /* sticky digits beyond 36 are folded in by appending one nonzero digit */
    if (sticky) {
        u256_mul_small(&x, 10);
        struct u256 onev;
        u256_set(&onev, 1);
        u256_add(&x, &onev);
        exp--;
    }
    return finish(&x, exp, neg, false, out) ? FL_EPARSE : 0;
}

void fl_dec_from_int(int64_t n, struct fl_dec *out)
{
    out->neg = n < 0;
    out->coef = n < 0 ? (fl_u128)(-(n + 1)) + 1 : (fl_u128)n;
    out->exp = 0;
}

int fl_dec_from_double(double d, struct fl_dec *out)
{
    char tmp[64];
    if (!isfinite(d))
        return FL_EINVAL;
    snprintf(tmp, sizeof(tmp), "%.15g", d);
    if (fl_dec_parse(tmp, strlen(tmp), out))
        return FL_EINVAL;
    return 0;
}

double fl_dec_to_double(const struct fl_dec *a)
{
    double d;
    char tmp[80];
    /* Go through text so the result is the correctly rounded double. */
    {
        char digits[48];
        int n = 0;
        fl_u128 c = a->coef;
        do {
            digits[n++] = (char)('0' + (int)(c % 10));
            c /= 10;
        } while (c);
        int p = 0;
        if (a->neg)
            tmp[p++] = '-';
        while (n > 0)
            tmp[p++] = digits[--n];
        snprintf(tmp + p, sizeof(tmp) - (size_t)p, "e%d", (int)a->exp);
    }
    d = strtod(tmp, NULL);
    return d;
}

bool fl_dec_is_zero(const struct fl_dec *a)
{
    return a->coef == 0;
}

bool fl_dec_is_int(const struct fl_dec *a)
{
    if (a->exp >= 0 || a->coef == 0)
        return true;
    if (a->exp < -38)
        return false;
    return a->coef % pow10_u128(-a->exp) == 0;
}

int fl_dec_to_int64(const struct fl_dec *a, int64_t *out)
{
    fl_u128 c = a->coef;
    if (!fl_dec_is_int(a))
        return FL_ETYPE;
    if (c == 0) {
        *out = 0;
        return 0;
    }
    if (a->exp < 0) {
        c /= pow10_u128(-a->exp);
    } else {
        for (int i = 0; i < a->exp; i++) {
            if (c > ((fl_u128)1 << 64))
                return FL_ETYPE;
            c *= 10;
        }
    }
    if (a->neg) {
        if (c > (fl_u128)INT64_MAX + 1)
            return FL_ETYPE;
        *out = c == (fl_u128)INT64_MAX + 1 ? INT64_MIN : -(int64_t)c;
    } else {
        if (c > (fl_u128)INT64_MAX)
            return FL_ETYPE;
        *out = (int64_t)c;
    }
    return 0;
}

void fl_dec_neg(const struct fl_dec *a, struct fl_dec *out)
{
    *out = *a;
    out->neg = a->coef ? !a->neg : false;
}

void fl_dec_abs(const struct fl_dec *a, struct fl_dec *out)
{
    *out = *a;
    out->neg = false;
}

void fl_dec_reduce(struct fl_dec *a)
{
    if (a->coef == 0) {
        a->exp = 0;
        return;
    }
    while (a->coef % 10 == 0 && a->exp < FL_DEC_EMAX) {
        a->coef /= 10;
        a->exp++;
    }
}

int fl_dec_cmp(const struct fl_dec *a, const struct fl_dec *b)
{
    int sa = a->coef == 0 ? 0 : a->neg ? -1 : 1;
    int sb = b->coef == 0 ? 0 : b->neg ? -1 : 1;
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (sa == 0)
        return 0;
    if (a->exp == b->exp) {
        int mag = a->coef < b->coef ? -1 : a->coef > b->coef;
        return sa > 0 ? mag : -mag;
    }
    /* Same sign: compare magnitudes via adjusted exponents, then aligned coefficients. */
    int64_t adja = (int64_t)a->exp + fl_dec_ndigits(a->coef);
    int64_t adjb = (int64_t)b->exp + fl_dec_ndigits(b->coef);
    int mag;
    if (adja != adjb) {
        mag = adja < adjb ? -1 : 1;
    } else {
        struct u256 x, y;
        u256_set(&x, a->coef);
        u256_set(&y, b->coef);
        if (a->exp > b->exp) {
            for (int i = 0; i < a->exp - b->exp; i++)
                u256_mul_small(&x, 10);
        } else {
            for (int i = 0; i < b->exp - a->exp; i++)
                u256_mul_small(&y, 10);
        }
        mag = u256_cmp(&x, &y);
    }
    return sa > 0 ? mag : -mag;
}

int fl_dec_add(const struct fl_dec *a, const struct fl_dec *b, struct fl_dec *out)
{
    const struct fl_dec *hi = a, *lo = b; /* hi has the larger exponent */
    struct u256 x, y;
    if (a->coef == 0 && b->coef == 0) {
        out->coef = 0;
        out->exp = a->exp < b->exp ? a->exp : b->exp;
        out->neg = false;
        return 0;
    }
    if (a->exp < b->exp) {
        hi = b;
        lo = a;
    }
    if (hi->coef == 0) {
        *out = *lo;
        return 0;
    }
    if (lo->coef == 0) {
        *out = *hi;
        return 0;
    }
    int64_t d = (int64_t)hi->exp - lo->exp;
    int64_t exp = lo->exp;
    u256_set(&x, hi->coef);
    u256_set(&y, lo->coef);
    if (d > 40) {
        /* lo is far below hi's last digit: only its sign matters for rounding. Scale hi by
         * 10^36 and stand lo in as one unit below. */
        for (int i = 0; i < 36; i++)
            u256_mul_small(&x, 10);
        u256_set(&y, 1);
        exp = (int64_t)hi->exp - 36;
    } else {
        for (int64_t i = 0; i < d; i++)
            u256_mul_small(&x, 10);
    }
    bool neg;
    if (hi->neg == lo->neg) {
        u256_add(&x, &y);
        neg = hi->neg;
    } else if (u256_cmp(&x, &y) >= 0) {
        u256_sub(&x, &y);
        neg = hi->neg;
    } else {
        u256_sub(&y, &x);
        x = y;
        neg = lo->neg;
    }
    if (u256_is_zero(&x))
        neg = false;
    return finish(&x, exp, neg, false, out);
}

int fl_dec_sub(const struct fl_dec *a, const struct fl_dec *b, struct fl_dec *out)
{
    struct fl_dec nb;
    fl_dec_neg(b, &nb);
    return fl_dec_add(a, &nb, out);
}

int fl_dec_mul(const struct fl_dec *a, const struct fl_dec *b, struct fl_dec *out)
{
    struct u256 x;
    u256_mul128(&x, a->coef, b->coef);
    bool neg = a->neg != b->neg;
    if (u256_is_zero(&x))
        neg = false;
    return finish(&x, (int64_t)a->exp + b->exp, neg, false, out);
}

int fl_dec_div(const struct fl_dec *a, const struct fl_dec *b, struct fl_dec *out)
{
    if (b->coef == 0)
        return FL_EINVAL;
    bool neg = a->neg != b->neg;
    int64_t exp = (int64_t)a->exp - b->exp;
    if (a->coef == 0) {
        out->coef = 0;
        out->exp = (int32_t)(exp < FL_DEC_EMIN ? FL_DEC_EMIN : exp > FL_DEC_EMAX ? FL_DEC_EMAX : exp);
        out->neg = false;
        return 0;
    }
    fl_u128 q = a->coef / b->coef, r = a->coef % b->coef;
    fl_u128 lim = COEF_LIMIT * 10; /* keep one guard digit */
    while (r != 0 && q < lim / 10) {
        r *= 10;
        q = q * 10 + r / b->coef;
        r %= b->coef;
        exp--;
    }
    struct u256 x;
    u256_set(&x, q);
    if (r != 0) {
        /* Inexact: append a sticky unit below the guard digit. */
        u256_mul_small(&x, 10);
        struct u256 o;
        u256_set(&o, 1);
        u256_add(&x, &o);
        exp--;
    }
    return finish(&x, exp, neg, false, out);
}

int fl_dec_round(const struct fl_dec *a, int32_t scale, enum fl_dec_round mode,
                 struct fl_dec *out)
{
    int64_t target = -(int64_t)scale;
    if (a->exp >= target) {
        *out = *a;
        return 0;
    }
    int64_t drop = target - a->exp;
    fl_u128 q, rem;
    int rd;
    bool sticky;
    if (drop > 38) {
        q = 0;
        rd = 0;
        sticky = a->coef != 0;
    } else {
        fl_u128 p = pow10_u128((int)drop);
        q = a->coef / p;
        rem = a->coef % p;
        fl_u128 p1 = p / 10;
        rd = (int)(rem / p1);
        sticky = (rem % p1) != 0;
    }
    if (round_up(mode, a->neg, q, rd, sticky))
        q++;
    if (q >= COEF_LIMIT)
        return finish128(q, target, a->neg, out);
    out->coef = q;
    out->exp = (int32_t)(target < FL_DEC_EMIN ? FL_DEC_EMIN : target);
    out->neg = q ? a->neg : false;
    if (target > FL_DEC_EMAX)
        return FL_ELIMIT;
    return 0;
}

int fl_dec_divint(const struct fl_dec *a, const struct fl_dec *b, struct fl_dec *out)
{
    struct fl_dec q;
    int rc = fl_dec_div(a, b, &q);
    if (rc)
        return rc;
    return fl_dec_round(&q, 0, FL_ROUND_DOWN, out);
}

int fl_dec_mod(const struct fl_dec *a, const struct fl_dec *b, struct fl_dec *out)
{
    struct fl_dec q, fq, m;
    int rc;
    if (b->coef == 0)
        return FL_EINVAL;
    /* Exact when |a/b| fits 34 digits, which covers FEEL's uses. */
    if ((rc = fl_dec_div(a, b, &q)) || (rc = fl_dec_round(&q, 0, FL_ROUND_FLOOR, &fq)) ||
        (rc = fl_dec_mul(b, &fq, &m)))
        return rc;
    return fl_dec_sub(a, &m, out);
}

int fl_dec_pow_int(const struct fl_dec *a, int64_t n, struct fl_dec *out)
{
    struct fl_dec result, base = *a;
    int rc;
    bool inv = n < 0;
    uint64_t e = inv ? (uint64_t)(-(n + 1)) + 1 : (uint64_t)n;
    fl_dec_from_int(1, &result);
    if (e > 100000 && !(a->coef == 1 && a->exp == 0))
        return FL_ELIMIT;
    while (e) {
        if (e & 1) {
            if ((rc = fl_dec_mul(&result, &base, &result)))
                return rc;
        }
        e >>= 1;
        if (e && (rc = fl_dec_mul(&base, &base, &base)))
            return rc;
    }
    if (inv) {
        struct fl_dec onev;
        fl_dec_from_int(1, &onev);
        return fl_dec_div(&onev, &result, out);
    }
    *out = result;
    return 0;
}

int fl_dec_sqrt(const struct fl_dec *a, struct fl_dec *out)
{
    if (a->neg && a->coef)
        return FL_EINVAL;
    if (a->coef == 0) {
        out->coef = 0;
        out->exp = 0;
        out->neg = false;
        return 0;
    }
    /* Newton iteration from the double estimate; converges in a few steps at 34 digits. */
    struct fl_dec x, prev, t, half;
    int rc;
    if (fl_dec_from_double(sqrt(fl_dec_to_double(a)), &x))
        return FL_ELIMIT;
    fl_dec_parse("0.5", 3, &half);
    for (int i = 0; i < 20; i++) {
        prev = x;
        if ((rc = fl_dec_div(a, &x, &t)) || (rc = fl_dec_add(&x, &t, &t)) ||
            (rc = fl_dec_mul(&t, &half, &x)))
            return rc;
        if (fl_dec_cmp(&x, &prev) == 0)
            break;
    }
    fl_dec_reduce(&x);
    *out = x;
    return 0;
}

int fl_dec_format(const struct fl_dec *a, struct fl_buf *out)
{
    struct fl_dec r = *a;
    char digits[48];
    int n = 0;
    fl_dec_reduce(&r);
    fl_u128 c = r.coef;
    do {
        digits[n++] = (char)('0' + (int)(c % 10));
        c /= 10;
    } while (c);
    /* digits[] is reversed; n digits, value = digits * 10^exp */
    if (r.neg)
        fl_buf_addc(out, '-');
    int64_t exp = r.exp;
    int64_t adj = exp + n - 1; /* exponent of the leading digit */
    if (exp >= 0 && n + exp <= 60) {
        while (n > 0)
            fl_buf_addc(out, digits[--n]);
        for (int64_t i = 0; i < exp; i++)
            fl_buf_addc(out, '0');
    } else if (exp < 0 && adj >= 0) {
        int64_t intd = n + exp;
        for (int64_t i = 0; i < intd; i++)
            fl_buf_addc(out, digits[--n]);
        fl_buf_addc(out, '.');
        while (n > 0)
            fl_buf_addc(out, digits[--n]);
    } else if (exp < 0 && adj < 0 && -adj <= 40) {
        fl_buf_adds(out, "0.");
        for (int64_t i = 0; i < -adj - 1; i++)
            fl_buf_addc(out, '0');
        while (n > 0)
            fl_buf_addc(out, digits[--n]);
    } else {
        fl_buf_addc(out, digits[--n]);
        if (n > 0) {
            fl_buf_addc(out, '.');
            while (n > 0)
                fl_buf_addc(out, digits[--n]);
        }
        fl_buf_addf(out, "E%c%lld", adj < 0 ? '-' : '+', (long long)(adj < 0 ? -adj : adj));
    }
    return out->err;
}
