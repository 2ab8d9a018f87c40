/* FEEL (Friendly Enough Expression Language, DMN 1.4 / Camunda 8) expressions: compile once,
 * evaluate many times. A compiled expression is immutable and may be evaluated from several
 * threads at once. Evaluation never fails hard: per FEEL, an error yields null, and the
 * first problem is reported in a diagnostic so the engine can raise a clear incident. The
 * clock is injected, so evaluation is deterministic (core does not read the time). */
#ifndef FLOWD_FEEL_H
#define FLOWD_FEEL_H

#include <stddef.h>
#include <stdint.h>

#include "flowd/err.h"
#include "flowd/value.h"

struct fl_feel_expr; /* opaque, immutable */

/* What an evaluation sees. */
struct fl_feel_env {
    const struct fl_value *vars; /* context of variables, borrowed; NULL = none */
    int64_t now_ms;              /* now(): milliseconds since the Unix epoch, UTC */
    int32_t tz_offset_min;       /* local offset for today()/now(), minutes east of UTC */
};

/* Diagnostic of an evaluation: empty msg when all went well. */
struct fl_feel_diag {
    char msg[256]; /* e.g. "no variable found for name 'amount'" */
};

/* Compile FEEL source (without Camunda's leading '='; see fl_feel_strip). On a syntax
 * error returns FL_EPARSE with err->column (1-based, in src) and err->msg. Caller frees
 * *out with fl_feel_free. */
int fl_feel_compile(const char *src, size_t len, struct fl_feel_expr **out,
                    struct fl_error *err);

/* Compile a FEEL unary-tests text (decision table input entries: "< 10", "[1..5]", "-"). */
int fl_feel_compile_unary(const char *src, size_t len, struct fl_feel_expr **out,
                          struct fl_error *err);

/* Free a compiled expression. NULL-safe. */
void fl_feel_free(struct fl_feel_expr *e);

/* Evaluate; returns a new reference (never NULL; FEEL null on error, with diag->msg set
 * when diag is not NULL). For unary tests, env->vars must hold the input as "?". The
 * result owns its data and may outlive e, except a user-defined function value, which
 * refers to e's tree (call it only while e lives). Thread-safe for a shared e. */
struct fl_value *fl_feel_eval(const struct fl_feel_expr *e, const struct fl_feel_env *env,
                              struct fl_feel_diag *diag);

/* The source text the expression was compiled from (borrowed). */
const char *fl_feel_source(const struct fl_feel_expr *e);

/* Camunda 8 marks expressions with a leading '=' (after optional spaces); if s has one,
 * return a pointer past it and set *is_expr, else return s and clear *is_expr. */
const char *fl_feel_strip(const char *s, int *is_expr);

#endif
