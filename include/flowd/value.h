/* Values: the one data model shared by FEEL, process variables and JSON. A value is
 * immutable once built and reference-counted (not thread-safe: a value belongs to one
 * thread, except "frozen" values, which are immortal constants safe to share). Numbers are
 * decimal (34 significant digits, round half even, as FEEL's decimal128), never binary
 * floating point, because money flows through them; the JSON codec here keeps them exact,
 * which jansson cannot (it reads numbers as double). */
#ifndef FLOWD_VALUE_H
#define FLOWD_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowd/buf.h"
#include "flowd/err.h"

enum fl_vtype {
    FL_VNULL,
    FL_VBOOL,
    FL_VNUMBER,
    FL_VSTRING,
    FL_VDATE,        /* calendar date */
    FL_VTIME,        /* time of day, optional offset or zone */
    FL_VDATETIME,    /* date and time, optional offset or zone */
    FL_VDTDURATION,  /* days and time duration */
    FL_VYMDURATION,  /* years and months duration */
    FL_VLIST,
    FL_VCONTEXT,     /* ordered map string -> value */
    FL_VRANGE,
    FL_VFUNCTION
};

struct fl_value; /* opaque */

/* Caps applied by the JSON reader (a client controls the input). */
#define FL_JSON_MAX_DEPTH 64
#define FL_JSON_MAX_BYTES ((size_t)16 << 20)

/* ---- lifecycle ---- */

/* Add a reference; returns v. NULL-safe. */
struct fl_value *fl_value_ref(const struct fl_value *v);

/* Drop a reference, freeing at zero. NULL-safe; no-op on frozen values. */
void fl_value_unref(struct fl_value *v);

/* Make v and everything it contains immortal and shareable across threads (for constants
 * of compiled expressions and models). The owner frees it with fl_value_free_frozen. */
void fl_value_freeze(struct fl_value *v);

/* Free a frozen value tree (only its owner calls this, once). */
void fl_value_free_frozen(struct fl_value *v);

/* ---- constructors: each returns a new reference (caller unrefs) ---- */

struct fl_value *fl_value_null(void);
struct fl_value *fl_value_bool(bool b);
struct fl_value *fl_value_int(int64_t n);

/* Parse a decimal number ("-12.50", "1e3"); 0 or FL_EPARSE. */
int fl_value_number_parse(const char *s, size_t len, struct fl_value **out);

/* String value; copies s (must be valid UTF-8; FL_EINVAL otherwise). */
int fl_value_string_new(const char *s, size_t len, struct fl_value **out);

/* String value from a NUL-terminated UTF-8 string the caller vouches for. */
struct fl_value *fl_value_cstring(const char *s);

/* Empty list / context to be filled with the builders below while it has one reference. */
struct fl_value *fl_value_list_new(void);
struct fl_value *fl_value_context_new(void);

/* Append item to list (takes ownership of item). */
void fl_value_list_push(struct fl_value *list, struct fl_value *item);

/* Set key in a context (takes ownership of val; replaces an existing key in place). */
void fl_value_context_set(struct fl_value *ctx, const char *key, size_t keylen,
                          struct fl_value *val);

/* ---- accessors (borrowed results live as long as v) ---- */

enum fl_vtype fl_value_type(const struct fl_value *v);
const char *fl_value_type_name(enum fl_vtype t); /* FEEL type name: "number", ... */
bool fl_value_is_true(const struct fl_value *v);  /* true only for boolean true */
const char *fl_value_str(const struct fl_value *v, size_t *len); /* NULL unless string */

/* Exact integer value of a number; FL_ETYPE if not a number or not an integer in range. */
int fl_value_to_int64(const struct fl_value *v, int64_t *out);

/* Number as its canonical decimal text, trailing zeros dropped ("0.3", "1000"; exponent
 * form such as "1E+100" only past ~60 characters); appends to out. */
int fl_value_number_format(const struct fl_value *v, struct fl_buf *out);

size_t fl_value_list_len(const struct fl_value *v);
const struct fl_value *fl_value_list_at(const struct fl_value *v, size_t i);

size_t fl_value_context_len(const struct fl_value *v);
const char *fl_value_context_key(const struct fl_value *v, size_t i, size_t *keylen);
const struct fl_value *fl_value_context_val(const struct fl_value *v, size_t i);

/* Value of key in a context, or NULL when absent (or v is not a context). */
const struct fl_value *fl_value_context_get(const struct fl_value *v, const char *key,
                                            size_t keylen);

/* Shallow copy of a context with one reference (to modify a shared one). */
struct fl_value *fl_value_context_copy(const struct fl_value *v);

/* FEEL equality (numbers by value, contexts by keys and values); false across types. */
bool fl_value_equal(const struct fl_value *a, const struct fl_value *b);

/* ---- JSON ---- */

/* Read one JSON text into a value: objects become contexts, numbers exact decimals.
 * Fills err with the line and column of a syntax error. Caps: FL_JSON_MAX_*. */
int fl_value_from_json(const char *text, size_t len, struct fl_value **out,
                       struct fl_error *err);

/* Write v as JSON, appending to out. Dates, times and durations are written as their ISO
 * 8601 strings; ranges and functions as null. Returns 0 or out's error. */
int fl_value_to_json(const struct fl_value *v, struct fl_buf *out);

/* Does v hold a date, time or duration anywhere (in lists and contexts too)? */
bool fl_value_has_temporal(const struct fl_value *v);

/* Write v as JSON that keeps its FEEL types, for storage: as fl_value_to_json, except that
 * each date, time or duration is written as a one-member object {"\u0000feel": ISO text}
 * (a key no JSON a person writes has). Read back with fl_value_from_json_typed. */
int fl_value_to_json_typed(const struct fl_value *v, struct fl_buf *out);

/* Read what fl_value_to_json_typed wrote: as fl_value_from_json, and each {"\u0000feel":
 * text} object becomes the date, time or duration its text is (FL_EPARSE when it is none). */
int fl_value_from_json_typed(const char *text, size_t len, struct fl_value **out,
                             struct fl_error *err);

/* Append s (n bytes of UTF-8) as a quoted JSON string, escaping quotes, backslashes and
 * control bytes; a NULL s appends null. The one JSON string writer of flowd. */
void fl_json_string(struct fl_buf *out, const char *s, size_t n);

/* As fl_json_string for a NUL-terminated s (NULL appends null). */
void fl_json_cstring(struct fl_buf *out, const char *s);

/* Write v as FEEL's string() would (for messages and the CLI). */
int fl_value_to_text(const struct fl_value *v, struct fl_buf *out);

#endif
