/* JUEL (the Java Unified Expression Language of Camunda 7 models) translated to FEEL, so
 * the conditions and values of Camunda 7 models run on flowd's one expression engine. Only
 * the simple kind translates -- variables and properties, literals, comparisons, logic,
 * arithmetic, `empty`, the ternary -- and only where the FEEL means the same; method calls,
 * beans and the engine's objects are refused with the construct named. */
#ifndef FLOWD_CORE_JUEL_H
#define FLOWD_CORE_JUEL_H

#include <stdbool.h>
#include <stddef.h>

#include "flowd/err.h"

/* True when text holds a JUEL expression ("${" or "#{"). */
bool fl_juel_is_expr(const char *text);

/* Translate JUEL text to FEEL source. text is a JUEL composite: a single "${expr}" (around
 * it only spaces) gives expr's FEEL; literal text mixed with ${...} parts gives a FEEL
 * string concatenation (null parts as "", as JUEL coerces them). On success *out is the
 * FEEL source (caller frees). On failure returns FL_EPARSE (malformed JUEL) or
 * FL_EUNSUPPORTED (a construct FEEL cannot say exactly), with err's message naming the
 * construct and err->column its character column in text (line 1 counted from text's
 * start); *at (may be NULL) gets the fault's byte offset in text. */
int fl_juel_to_feel(const char *text, char **out, size_t *at, struct fl_error *err);

#endif
