/* The value checks of CRM records, pure and table driven: phone numbers to E.164 with a
 * default country, e-mail addresses (syntax, lower-cased domain), calendar dates, ISO 4217
 * currency codes with their minor units, and money as exact scaled integers (never binary
 * floating point). Everything here is libc only, so the CLI, the API and tests share it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/decimal.h"
#include "flowd/crm.h"

/* ---- phones ---- */

/* Assigned two-digit country codes; 1 and 7 are the one-digit ones. */
static const char two_digit_cc[] = "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 "
                                   "53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 "
                                   "93 94 95 98";
/* Two-digit zones whose codes are three digits long (28x, 83x, 89x and 69x are spare). */
static const char three_digit_zone[] = "21 22 23 24 25 26 29 35 37 38 42 50 59 67 68 80 85 87 "
                                       "88 96 97 99";

static bool in_list(const char *list, char a, char b)
{
    /* "NN NN ... NN": pairs one space apart, the last one followed by the NUL */
    for (const char *p = list;; p += 3) {
        if (p[0] == a && p[1] == b)
            return true;
        if (!p[2])
            return false;
    }
}

int fl_phone_cc_len(const char *d)
{
    if (!d[0] || d[0] == '0')
        return 0;
    if (d[0] == '1' || d[0] == '7')
        return 1;
    if (!d[1])
        return 0;
    if (in_list(two_digit_cc, d[0], d[1]))
        return 2;
    if (in_list(three_digit_zone, d[0], d[1]) && d[2])
        return 3;
    return 0;
}

static int phone_bad(struct fl_error *err, const char *text, const char *why)
{
    return fl_error_set(err, FL_EINVAL, "invalid phone '%.64s': %s", text, why);
}

int fl_phone_normalize(const char *text, const char *default_cc, char out[FL_PHONE_MAX + 1],
                       struct fl_error *err)
{
    char digits[40];
    size_t n = 0, i = 0, len = strlen(text);
    bool intl = false;
    int cc;

    out[0] = '\0';
    if (len == 0)
        return phone_bad(err, text, "empty");
    if (len > 64)
        return phone_bad(err, text, "longer than 64 characters");
    while (text[i] == ' ')
        i++;
    if (text[i] == '+') {
        intl = true;
        i++;
    }
    for (; text[i]; i++) {
        char c = text[i];
        if (c >= '0' && c <= '9') {
            if (n >= sizeof(digits) - 1)
                return phone_bad(err, text, "too many digits");
            digits[n++] = c;
        } else if (c == '(' && text[i + 1] == '0' && text[i + 2] == ')' && intl && n > 0) {
            i += 2; /* "+49 (0)30 ...": the trunk zero written for national callers */
        } else if (c != ' ' && c != '-' && c != '.' && c != '/' && c != '(' && c != ')') {
            return phone_bad(err, text, "only digits, spaces, + - . / ( ) are allowed");
        }
    }
    digits[n] = '\0';
    if (n == 0)
        return phone_bad(err, text, "no digits");
    if (!intl && n > 2 && digits[0] == '0' && digits[1] == '0') {
        memmove(digits, digits + 2, n - 1);
        n -= 2;
        intl = true;
    }
    if (!intl) {
        size_t cl = default_cc ? strlen(default_cc) : 0;
        char national[40];
        if (cl == 0)
            return phone_bad(err, text,
                             "no country code (start with + or 00, or set a default country)");
        if (cl > 3 || strspn(default_cc, "0123456789") != cl ||
            fl_phone_cc_len(default_cc) != (int)cl)
            return fl_error_set(err, FL_EINVAL, "invalid default country code '%s'", default_cc);
        snprintf(national, sizeof(national), "%s", digits);
        /* The trunk prefix is not part of the international number, except in Italy. */
        if (national[0] == '0' && strcmp(default_cc, "39") != 0)
            memmove(national, national + 1, strlen(national));
        else if (national[0] == '8' && !strcmp(default_cc, "7") && strlen(national) == 11)
            memmove(national, national + 1, strlen(national));
        if (strlen(national) + cl >= sizeof(digits))
            return phone_bad(err, text, "too many digits");
        snprintf(digits, sizeof(digits), "%s%s", default_cc, national);
        n = strlen(digits);
    }
    if (!(cc = fl_phone_cc_len(digits)))
        return phone_bad(err, text, "unknown country code");
    if (n > 15)
        return phone_bad(err, text, "more than 15 digits");
    if (n < 7 || n - (size_t)cc < 4)
        return phone_bad(err, text, "too few digits");
    out[0] = '+';
    memcpy(out + 1, digits, n + 1);
    return 0;
}

/* ---- e-mail ---- */

static int email_bad(struct fl_error *err, const char *text, const char *why)
{
    return fl_error_set(err, FL_EINVAL, "invalid e-mail '%.100s': %s", text, why);
}

static bool atext(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL;
}

int fl_email_normalize(const char *text, char out[FL_EMAIL_MAX + 1], struct fl_error *err)
{
    const char *at = strrchr(text, '@');
    size_t len = strlen(text), local, i, label = 0;
    bool alpha_tld = true, punycode = false;
    size_t labels = 1, label_start;

    out[0] = '\0';
    if (len == 0)
        return email_bad(err, text, "empty");
    if (len > FL_EMAIL_MAX)
        return email_bad(err, text, "longer than 254 characters");
    if (!at)
        return email_bad(err, text, "no '@'");
    local = (size_t)(at - text);
    if (local == 0 || local > 64)
        return email_bad(err, text, "the part before '@' must be 1 to 64 characters");
    for (i = 0; i < local; i++) {
        char c = text[i];
        if (c == '.') {
            if (i == 0 || i == local - 1 || text[i - 1] == '.')
                return email_bad(err, text, "misplaced '.' before '@'");
        } else if (!atext(c)) {
            return email_bad(err, text, "character not allowed before '@'");
        }
    }
    label_start = local + 1;
    if (!text[label_start])
        return email_bad(err, text, "no domain");
    for (i = label_start;; i++) {
        char c = text[i];
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63)
                return email_bad(err, text, "each domain label must be 1 to 63 characters");
            if (text[i - 1] == '-' || text[label_start] == '-')
                return email_bad(err, text, "a domain label may not start or end with '-'");
            if (c == '\0')
                break;
            labels++;
            label = 0;
            label_start = i + 1;
            alpha_tld = true;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return email_bad(err, text, "the domain may hold only letters, digits, '-' and '.'");
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            alpha_tld = false;
        label++;
    }
    punycode = !strncmp(text + label_start, "xn--", 4) || !strncmp(text + label_start, "XN--", 4);
    if (labels < 2)
        return email_bad(err, text, "the domain needs at least two labels");
    if (!punycode && (!alpha_tld || label < 2))
        return email_bad(err, text, "the top-level domain must be letters");
    for (i = 0; i < len; i++)
        out[i] =
            (i > local && text[i] >= 'A' && text[i] <= 'Z') ? (char)(text[i] - 'A' + 'a') : text[i];
    out[len] = '\0';
    return 0;
}

/* ---- dates ---- */

int fl_date_check(const char *t, struct fl_error *err)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d, dim;
    if (strlen(t) != 10 || t[4] != '-' || t[7] != '-')
        goto bad;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (t[i] < '0' || t[i] > '9'))
            goto bad;
    y = atoi(t);
    m = (t[5] - '0') * 10 + (t[6] - '0');
    d = (t[8] - '0') * 10 + (t[9] - '0');
    if (y < 1 || m < 1 || m > 12)
        goto bad;
    dim = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    if (d < 1 || d > dim)
        goto bad;
    return 0;
bad:
    return fl_error_set(err, FL_EINVAL, "invalid date '%.40s' (want YYYY-MM-DD)", t);
}

/* ---- currencies and money ---- */

/* Active ISO 4217 codes, each followed by its minor units. */
static const char currencies[] =
    "AED2AFN2ALL2AMD2AOA2ARS2AUD2AWG2AZN2BAM2BBD2BDT2BGN2BHD3BIF0BMD2BND2BOB2BRL2BSD2BTN2"
    "BWP2BYN2BZD2CAD2CDF2CHF2CLF4CLP0CNY2COP2CRC2CUP2CVE0CZK2DJF0DKK2DOP2DZD2EGP2ERN2ETB2"
    "EUR2FJD2FKP2GBP2GEL2GHS2GIP2GMD2GNF0GTQ2GYD2HKD2HNL2HTG2HUF2IDR2ILS2INR2IQD3IRR2ISK0"
    "JMD2JOD3JPY0KES2KGS2KHR2KMF0KPW2KRW0KWD3KYD2KZT2LAK2LBP2LKR2LRD2LSL2LYD3MAD2MDL2MGA2"
    "MKD2MMK2MNT2MOP2MRU2MUR2MVR2MWK2MXN2MYR2MZN2NAD2NGN2NIO2NOK2NPR2NZD2OMR3PAB2PEN2PGK2"
    "PHP2PKR2PLN2PYG0QAR2RON2RSD2RUB2RWF0SAR2SBD2SCR2SDG2SEK2SGD2SHP2SLE2SOS2SRD2SSP2STN2"
    "SVC2SYP2SZL2THB2TJS2TMT2TND3TOP2TRY2TTD2TWD2TZS2UAH2UGX0USD2UYU2UYW4UZS2VES2VND0VUV0"
    "WST2XAF0XCD2XCG2XOF0XPF0YER2ZAR2ZMW2ZWG2";

int fl_currency_minor_units(const char *code)
{
    if (!code || strlen(code) != 3)
        return -1;
    for (const char *p = currencies; *p; p += 4)
        if (!memcmp(p, code, 3))
            return p[3] - '0';
    return -1;
}

#define MONEY_LIMIT 1000000000000000000LL /* 10^18: |units| stays below */

int fl_money_parse(const char *amount, const char *currency, struct fl_money *out,
                   struct fl_error *err)
{
    struct fl_dec d, r;
    int minor = fl_currency_minor_units(currency);
    int64_t v;
    memset(out, 0, sizeof(*out));
    if (minor < 0)
        return fl_error_set(err, FL_EINVAL, "unknown currency '%.8s' (want an ISO 4217 code)",
                            currency ? currency : "");
    if (!amount || fl_dec_parse(amount, strlen(amount), &d) != 0)
        return fl_error_set(err, FL_EINVAL, "invalid amount '%.60s'", amount ? amount : "");
    /* Exact at the currency's scale or refused: rounding money silently loses it. */
    if (fl_dec_round(&d, minor, FL_ROUND_HALF_EVEN, &r) != 0 || fl_dec_cmp(&r, &d) != 0)
        return fl_error_set(err, FL_EINVAL, "amount '%.60s' has more decimals than %s allows (%d)",
                            amount, currency, minor);
    /* r = coef * 10^exp with exp >= -minor: scale it to exactly -minor. */
    {
        fl_u128 c = r.coef;
        int32_t e = r.exp;
        while (e > -minor) {
            if (c >= (fl_u128)MONEY_LIMIT)
                goto range;
            c *= 10;
            e--;
        }
        if (c >= (fl_u128)MONEY_LIMIT)
            goto range;
        v = (int64_t)c;
    }
    out->units = r.neg ? -v : v;
    out->scale = minor;
    memcpy(out->currency, currency, 4);
    return 0;
range:
    return fl_error_set(err, FL_EINVAL, "amount '%.60s' is out of range (at most 18 digits)",
                        amount);
}

int fl_money_add(const struct fl_money *a, const struct fl_money *b, struct fl_money *out,
                 struct fl_error *err)
{
    int64_t s;
    if (strcmp(a->currency, b->currency) != 0 || a->scale != b->scale)
        return fl_error_set(err, FL_EINVAL, "currency mismatch: %s and %s", a->currency,
                            b->currency);
    if (__builtin_add_overflow(a->units, b->units, &s) || s >= MONEY_LIMIT || s <= -MONEY_LIMIT)
        return fl_error_set(err, FL_ELIMIT, "sum of %s amounts out of range", a->currency);
    *out = *a;
    out->units = s;
    return 0;
}

int fl_money_cmp(const struct fl_money *a, const struct fl_money *b)
{
    if (strcmp(a->currency, b->currency) != 0 || a->scale != b->scale)
        return 2;
    return (a->units > b->units) - (a->units < b->units);
}

void fl_money_format(const struct fl_money *m, struct fl_buf *out)
{
    char digits[32];
    uint64_t u = m->units < 0 ? (uint64_t)(-(m->units + 1)) + 1 : (uint64_t)m->units;
    int n = snprintf(digits, sizeof(digits), "%0*llu", m->scale + 1, (unsigned long long)u);
    if (m->units < 0)
        fl_buf_addc(out, '-');
    fl_buf_add(out, digits, (size_t)(n - m->scale));
    if (m->scale > 0) {
        fl_buf_addc(out, '.');
        fl_buf_add(out, digits + n - m->scale, (size_t)m->scale);
    }
}
