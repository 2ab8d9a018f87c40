/* UTF-8 encoding, decoding and validation shared by the JSON reader, the FEEL lexer and
 * the FEEL string built-ins. Encoding and decoding are static inline because they sit on
 * the lexer's and JSON reader's per-character paths. "Valid" means RFC 3629: shortest
 * form only, no surrogates (U+D800..U+DFFF), nothing past U+10FFFF. */
#ifndef FLOWD_UTIL_UTF8_H
#define FLOWD_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowd/buf.h"

/* Longest encoding of one code point, in bytes. */
#define FL_UTF8_MAX 4

/* Write cp (at most U+10FFFF, caller checks) to out; returns the byte count (1-4). */
static inline size_t fl_utf8_encode(uint32_t cp, char out[FL_UTF8_MAX])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Append the encoding of cp to b (same domain as fl_utf8_encode). */
static inline void fl_utf8_put(struct fl_buf *b, uint32_t cp)
{
    char o[FL_UTF8_MAX];
    fl_buf_add(b, o, fl_utf8_encode(cp, o));
}

/* Decode the code point at the start of s[0..len) into *cp; returns its byte count (1-4),
 * or 0 when the bytes there are not valid UTF-8 (bad lead or continuation byte, truncated,
 * overlong, surrogate, past U+10FFFF) or len is 0. */
static inline size_t fl_utf8_decode(const char *s, size_t len, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n, i;
    uint32_t c;
    if (len == 0)
        return 0;
    c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2;
        c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        c &= 0x07;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    /* Overlong forms, surrogates and values past U+10FFFF. */
    if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
        (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
        return 0;
    *cp = c;
    return n;
}

/* True when s[0..len) is entirely valid UTF-8 (len 0 is valid). s need not be
 * NUL-terminated; a NUL byte is a valid code point. */
bool fl_utf8_valid(const char *s, size_t len);

#endif
