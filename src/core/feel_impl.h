/* Internals of the FEEL implementation shared by the lexer, parser, evaluator and
 * built-ins: tokens, the AST, the evaluation state and the helpers the built-ins use.
 * A compiled expression is a tree of nodes whose literal values are frozen, so the tree is
 * read-only during evaluation and can be shared between threads. */
#ifndef FLOWD_CORE_FEEL_IMPL_H
#define FLOWD_CORE_FEEL_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/value_impl.h"
#include "flowd/feel.h"

/* Bounds that keep evaluation of hostile input finite. */
#define FEEL_MAX_DEPTH 200        /* nesting of parse and evaluation */
#define FEEL_MAX_LIST 100000      /* items a range or loop may produce */
#define FEEL_MAX_STEPS 10000000   /* evaluation steps of one fl_feel_eval */
#define FEEL_MAX_SOURCE ((size_t)1 << 20)
#define FEEL_MAX_ITEMS 1000000             /* items a list function may return */
#define FEEL_MAX_STRING ((size_t)16 << 20) /* bytes a string operation may return */

enum feel_tok {
    TK_EOF,
    TK_NUM,
    TK_STR,
    TK_AT,   /* @"..." temporal literal */
    TK_NAME, /* a word: letters, digits, _, ?, ' */
    TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH, TK_POW,
    TK_EQ, TK_NE, TK_LT, TK_LE, TK_GT, TK_GE,
    TK_DOT, TK_DOTDOT, TK_COMMA, TK_COLON, TK_ARROW,
    TK_LPAREN, TK_RPAREN, TK_LBRACK, TK_RBRACK, TK_LBRACE, TK_RBRACE
};

struct feel_token {
    uint8_t kind;   /* enum feel_tok */
    int col;        /* 1-based column of the first byte */
    size_t off, len; /* span in the source */
    char *text;     /* TK_STR/TK_AT: decoded string; TK_NAME: the word (owned) */
    size_t textlen;
    bool space_before;
};

struct feel_lexer_out {
    struct feel_token *toks;
    size_t n;
};

/* Split src into tokens (ending with TK_EOF). FL_EPARSE with err column on a bad token. */
int fl__feel_lex(const char *src, size_t len, struct feel_lexer_out *out, struct fl_error *err);
void fl__feel_lex_free(struct feel_lexer_out *out);

enum feel_node_kind {
    N_LIT,      /* lit */
    N_NAME,     /* name */
    N_PATH,     /* kids[0] . name */
    N_FILTER,   /* kids[0] [ kids[1] ] */
    N_CALL,     /* kids[0] callee (or builtin >= 0), kids[1..] args, names = named args */
    N_NEG,      /* - kids[0] */
    N_BIN,      /* kids[0] op kids[1], op = TK_PLUS.. TK_GE */
    N_AND,
    N_OR,
    N_BETWEEN,  /* kids[0] between kids[1] and kids[2] */
    N_IN,       /* kids[0] in kids[1] (a test) */
    N_TEST_CMP, /* op kids[0]: "< 5" against the input */
    N_TEST_LIST, /* kids: any matches */
    N_TEST_NOT, /* not(kids): none matches */
    N_TEST_ANY, /* "-" */
    N_RANGE,    /* kids[0] .. kids[1] (either may be NULL), flags: RANGE_LO/HI_CLOSED */
    N_LIST,
    N_CTX,      /* names[i]: kids[i] */
    N_IF,
    N_FOR,      /* names[i] in kids[i], body kids[nnames] */
    N_SOME,     /* names[i] in kids[i], satisfies kids[nnames] */
    N_EVERY,
    N_INSTANCE, /* kids[0] instance of kids[1] (N_TYPE) */
    N_TYPE,     /* name, kids = type arguments, names = context type keys */
    N_FUNCDEF   /* names = params, kids[0] body */
};

#define RANGE_LO_CLOSED 1
#define RANGE_HI_CLOSED 2

struct feel_node {
    uint8_t kind;
    uint8_t op;
    uint8_t flags;
    int col;
    int builtin;          /* N_NAME/N_CALL: built-in index or -1 */
    struct fl_value *lit; /* N_LIT: frozen */
    char *name;           /* N_NAME/N_PATH/N_TYPE (owned) */
    size_t namelen;
    struct feel_node **kids;
    size_t nkids;
    char **names; /* owned strings */
    size_t *namelens;
    size_t nnames;
};

struct fl_feel_expr {
    char *source;
    struct feel_node *root;
    bool unary;
};

/* Parse tokens into a tree; unary selects the unary-tests grammar. */
int fl__feel_parse(const char *src, const struct feel_lexer_out *lx, bool unary,
                   struct feel_node **out, struct fl_error *err);
void fl__feel_node_free(struct feel_node *n);

/* A lexical scope during evaluation: a context of names or a single binding. */
struct feel_scope {
    const struct feel_scope *parent;
    const struct fl_value *ctx; /* context value, or NULL */
    const char *name;           /* single binding when ctx is NULL */
    size_t namelen;
    const struct fl_value *val;
};

struct feel_eval {
    const struct fl_feel_env *env;
    struct fl_feel_diag *diag;
    int depth;
    uint64_t steps;
    bool failed; /* diag already holds the first problem */
    const struct feel_scope *call_scope; /* scope of the call being made (for recursion) */
};

/* Record the first problem of an evaluation (printf style) and return FEEL null. */
struct fl_value *fl__feel_error(struct feel_eval *ev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Evaluate a node in a scope; returns a new reference. */
struct fl_value *fl__feel_eval_node(struct feel_eval *ev, const struct feel_node *n,
                                    const struct feel_scope *sc);

/* Invoke a function value with positional args (borrowed); returns a new reference. */
struct fl_value *fl__feel_invoke(struct feel_eval *ev, const struct fl_value *fn,
                                 struct fl_value **args, size_t nargs);

/* ---- operators on values (feel_ops.c) ---- */

/* Binary arithmetic: op is TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH or TK_POW. */
struct fl_value *fl__feel_arith(struct feel_eval *ev, int op, const struct fl_value *a,
                                const struct fl_value *b);
/* Compare for <,>: -1/0/1, or -2 when not comparable. */
int fl__feel_compare(const struct fl_value *a, const struct fl_value *b);
/* FEEL '=': true/false, or null (returned as -1) when types differ. */
int fl__feel_equal(const struct fl_value *a, const struct fl_value *b);
/* Whether x matches a positive unary test value (range, list, or plain value). */
struct fl_value *fl__feel_in_value(const struct fl_value *x, const struct fl_value *t);
/* Whether a value lies in a range: true/false/null. */
struct fl_value *fl__feel_in_range(const struct fl_value *x, const struct fl_value *r);

/* ---- temporal helpers (feel_time.c) ---- */

/* "[-]YYYY-MM-DD" to days since the epoch; FL_EPARSE otherwise. */
int fl__feel_parse_date(const char *s, size_t n, int64_t *days);
/* "HH:MM:SS[.f][Z|+hh:mm|@zone]"; tz->zone is allocated (caller frees). */
int fl__feel_parse_time(const char *s, size_t n, int64_t *nanos, struct fl_tz *tz);
/* "date'T'time" to a new date and time value. */
int fl__feel_parse_datetime(const char *s, size_t n, struct fl_value **out);
/* ISO 8601 duration to a new years-and-months or days-and-time duration value. */
int fl__feel_parse_duration(const char *s, size_t n, struct fl_value **out);
/* Parse any @"..." literal text. */
int fl__feel_parse_temporal(const char *s, size_t n, struct fl_value **out);
/* Instant (UTC nanoseconds) of a date and time with a known offset; false otherwise. */
bool fl__feel_instant(const struct fl_value *dt, fl_i128 *ns);
/* Property of a value by name (year, month, ...); NULL when there is none. */
struct fl_value *fl__feel_property(const struct fl_value *v, const char *name, size_t n,
                                   bool *found);

/* ---- built-ins (feel_builtins*.c) ---- */

typedef struct fl_value *(*feel_builtin_fn)(struct feel_eval *ev, struct fl_value **args,
                                            size_t nargs);

struct feel_builtin {
    const char *name;
    int min_args, max_args; /* max -1: variadic */
    const char *params[4];  /* parameter names for named invocation */
    feel_builtin_fn fn;
    const char *alt[4];     /* parameter names of a second signature, if any */
};

/* Index of the built-in called name (exact), or -1. */
int fl__feel_builtin_find(const char *name, size_t n);
/* The built-in of an index from fl__feel_builtin_find. */
const struct feel_builtin *fl__feel_builtin_get(int idx);
/* The list functions' table (feel_builtins_list.c). */
const struct feel_builtin *fl__feel_builtins_more(size_t *n);
/* The temporal functions' table (feel_builtins_time.c). */
const struct feel_builtin *fl__feel_builtins_time(size_t *n);

/* Helpers for built-ins. */
/* The number in v, false if v is not a number. */
bool fl__feel_num(const struct fl_value *v, struct fl_dec *out);
/* The integer in v, false if v is not an integral number in int64 range. */
bool fl__feel_int(const struct fl_value *v, int64_t *out);
/* A number value from a decimal operation's result code (null with diagnostic on error). */
struct fl_value *fl__feel_numv(struct feel_eval *ev, int rc, const struct fl_dec *d);
/* Code points in s[0..n). */
size_t fl__utf8_len(const char *s, size_t n);
/* Byte offset of code point index cp in s (clamped to n). */
size_t fl__utf8_off(const char *s, size_t n, size_t cp);

#endif
