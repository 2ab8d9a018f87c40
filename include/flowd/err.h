/* flowd error codes: one table gives each code its name, message and HTTP status, so the
 * CLI exit code, the API problem+json and the log line all speak of one thing. Fallible
 * functions return 0 or a negative enum fl_err and may fill a struct fl_error with detail
 * (element id, line, column, field) for the person who has to fix the input. */
#ifndef FLOWD_ERR_H
#define FLOWD_ERR_H

#include <stdarg.h>

/* X(NAME, message, http status, cli exit code) */
#define FL_ERR_MAP(X)                                                                      \
    X(NOMEM, "out of memory", 500, 70)                                                     \
    X(INVAL, "invalid argument", 400, 1)                                                   \
    X(USAGE, "usage error", 400, 1)                                                        \
    X(NOTFOUND, "not found", 404, 2)                                                       \
    X(CONFLICT, "conflict", 409, 3)                                                        \
    X(REFUSED, "refused", 422, 3)                                                          \
    X(MODEL, "invalid model", 422, 4)                                                      \
    X(UNSUPPORTED, "not supported", 422, 4)                                                \
    X(PARSE, "syntax error", 400, 1)                                                       \
    X(TYPE, "type mismatch", 400, 1)                                                       \
    X(TOOBIG, "too large", 413, 1)                                                         \
    X(LIMIT, "limit exceeded", 422, 3)                                                     \
    X(IO, "i/o error", 500, 74)                                                            \
    X(STORE, "store error", 500, 74)                                                       \
    X(BUSY, "busy", 503, 75)                                                               \
    X(CLOSED, "shutting down", 503, 75)                                                    \
    X(INTERNAL, "internal error", 500, 70)                                                 \
    X(TOOMANY, "too many attempts", 429, 75)

enum fl__err_index {
    FL__EIDX_OK,
#define FL__ERR_IDX(name, msg, http, exitc) FL__EIDX_##name,
    FL_ERR_MAP(FL__ERR_IDX)
#undef FL__ERR_IDX
        FL__ERR_COUNT
};

/* FL_OK is 0; every error is negative: FL_ENOMEM == -1, FL_EINVAL == -2, ... */
enum fl_err {
    FL_OK = 0,
#define FL__ERR_ENUM(name, msg, http, exitc) FL_E##name = -FL__EIDX_##name,
    FL_ERR_MAP(FL__ERR_ENUM)
#undef FL__ERR_ENUM
};

/* Detail of a failure, for a human: what, and where. All fields optional (empty/0). */
struct fl_error {
    int code;          /* the enum fl_err returned */
    char msg[512];     /* one line, lower case, no final period */
    char element[128]; /* BPMN element id at fault, if any */
    char field[128];   /* JSON field / variable / option at fault, if any */
    int line, column;  /* 1-based source position, 0 when unknown */
};

/* Reset *e to "no error". e may be NULL. */
void fl_error_clear(struct fl_error *e);

/* Record code and a printf-style message in *e (which may be NULL); returns code. */
int fl_error_set(struct fl_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As fl_error_set with a va_list. */
int fl_error_setv(struct fl_error *e, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Record where the error is: element id (may be NULL), line and column (0 if unknown). */
void fl_error_at(struct fl_error *e, const char *element, int line, int column);

/* Short stable name of a code ("NOTFOUND"); "OK" for 0, "UNKNOWN" otherwise. */
const char *fl_err_name(int code);

/* Human message of a code ("not found"). */
const char *fl_err_message(int code);

/* HTTP status for a code (200 for 0). */
int fl_err_http_status(int code);

/* Process exit code for the CLI (0 for 0; 1 usage, 2 not found, 3 refused, 4 model). */
int fl_err_exit_code(int code);

/* Format "msg (element 'X', line L, column C)" into out (size n); returns out. */
const char *fl_error_format(const struct fl_error *e, char *out, unsigned long n);

#endif
