/* XPath-style regular expressions for FEEL's string functions (see feel_regex.c). */
#ifndef FLOWD_CORE_FEEL_REGEX_H
#define FLOWD_CORE_FEEL_REGEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fl__regex;

/* Compile pattern with flags (i, s, m, x); 0, or -1 for an invalid pattern or flag.
 * Caller frees *out with fl__regex_free. */
int fl__regex_compile(const char *pat, size_t n, const char *flags, size_t nflags,
                      struct fl__regex **out);

void fl__regex_free(struct fl__regex *re);

/* Find the first match at or after byte offset from: 1 (caps[0..1] the match, caps[2g],
 * caps[2g+1] group g, SIZE_MAX when unset), 0 for none, -1 when the step budget ran out. */
int fl__regex_search(const struct fl__regex *re, const char *s, size_t n, size_t from,
                     size_t caps[20]);

#endif
