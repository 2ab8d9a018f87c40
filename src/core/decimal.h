/* Exact decimal numbers for FEEL and JSON: a sign, an unsigned coefficient of at most 34
 * digits and a power-of-ten exponent, rounded half-even like IEEE decimal128 (what DMN
 * prescribes). Plain values, no allocation: every operation writes into an out-param and
 * returns 0, FL_ELIMIT on exponent overflow or FL_EINVAL on division by zero. */
#ifndef FLOWD_CORE_DECIMAL_H
#define FLOWD_CORE_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowd/buf.h"

__extension__ typedef unsigned __int128 fl_u128;

#define FL_DEC_DIGITS 34
#define FL_DEC_EMAX 6144
#define FL_DEC_EMIN (-6176)

/* value = (neg ? -1 : 1) * coef * 10^exp, coef < 10^34; zero is never negative. */
struct fl_dec {
    fl_u128 coef;
    int32_t exp;
    bool neg;
};

enum fl_dec_round {
    FL_ROUND_HALF_EVEN,
    FL_ROUND_HALF_UP,
    FL_ROUND_HALF_DOWN,
    FL_ROUND_UP,      /* away from zero */
    FL_ROUND_DOWN,    /* toward zero */
    FL_ROUND_CEILING,
    FL_ROUND_FLOOR
};

/* Parse "-12.50", "1e3", ".5", "+7"; whole text must be a number. 0 or FL_EPARSE. */
int fl_dec_parse(const char *s, size_t len, struct fl_dec *out);

/* Exact conversion from an integer. */
void fl_dec_from_int(int64_t n, struct fl_dec *out);

/* Nearest decimal of a double (17 significant digits, then trimmed); FL_EINVAL if not finite. */
int fl_dec_from_double(double d, struct fl_dec *out);

/* Approximate double value. */
double fl_dec_to_double(const struct fl_dec *a);

/* Integer value when a is an integer in int64 range; FL_ETYPE otherwise. */
int fl_dec_to_int64(const struct fl_dec *a, int64_t *out);

/* a + b, rounded to 34 digits; FL_ELIMIT on exponent overflow. */
int fl_dec_add(const struct fl_dec *a, const struct fl_dec *b, struct fl_dec *out);
/* a - b, as fl_dec_add. */
int fl_dec_sub(const struct fl_dec *a, const struct fl_dec *b, struct fl_dec *out);
/* a * b, as fl_dec_add. */
int fl_dec_mul(const struct fl_dec *a, const struct fl_dec *b, struct fl_dec *out);
/* a / b rounded to 34 digits; FL_EINVAL when b is zero. */
int fl_dec_div(const struct fl_dec *a, const struct fl_dec *b, struct fl_dec *out);
/* a - b * floor(a / b) (FEEL modulo: sign of b); FL_EINVAL when b is zero. */
int fl_dec_mod(const struct fl_dec *a, const struct fl_dec *b, struct fl_dec *out);
/* Integer part of a / b truncated toward zero. */
int fl_dec_divint(const struct fl_dec *a, const struct fl_dec *b, struct fl_dec *out);
/* a ** n for an integer n (negative n divides); FL_ELIMIT on overflow. */
int fl_dec_pow_int(const struct fl_dec *a, int64_t n, struct fl_dec *out);
/* Square root to 34 digits; FL_EINVAL for negative a. */
int fl_dec_sqrt(const struct fl_dec *a, struct fl_dec *out);

/* Round a to scale digits after the point (negative scale rounds to tens, ...). */
int fl_dec_round(const struct fl_dec *a, int32_t scale, enum fl_dec_round mode,
                 struct fl_dec *out);

/* -1, 0, 1 by numeric value (1.0 == 1). */
int fl_dec_cmp(const struct fl_dec *a, const struct fl_dec *b);
/* -a (zero stays positive). */
void fl_dec_neg(const struct fl_dec *a, struct fl_dec *out);
/* |a|. */
void fl_dec_abs(const struct fl_dec *a, struct fl_dec *out);
/* Whether a is zero (any exponent). */
bool fl_dec_is_zero(const struct fl_dec *a);
/* Whether a has no fractional part. */
bool fl_dec_is_int(const struct fl_dec *a);

/* Drop trailing zeros of the coefficient (1.50 -> 1.5, 1000 -> 1E3 internally). */
void fl_dec_reduce(struct fl_dec *a);

/* Canonical text: trailing zeros dropped, plain notation ("0.3", "1000", "-0.0001") unless
 * that would exceed about 60 characters, then "1.5E+100". Appends to out. */
int fl_dec_format(const struct fl_dec *a, struct fl_buf *out);

/* Number of decimal digits of c (1 for 0). */
int fl_dec_ndigits(fl_u128 c);

#endif
