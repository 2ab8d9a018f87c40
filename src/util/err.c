/* The error table's lookups and the struct fl_error helpers. Everything here is derived
 * from FL_ERR_MAP in err.h, so adding a code there is the only edit a new error needs. */
#include <stdio.h>
#include <string.h>

#include "flowd/err.h"

struct err_row {
    const char *name, *message;
    int http, exit_code;
};

static const struct err_row err_rows[FL__ERR_COUNT] = {
    [FL__EIDX_OK] = {"OK", "ok", 200, 0},
#define ROW(name, msg, http, exitc) [FL__EIDX_##name] = {#name, msg, http, exitc},
    FL_ERR_MAP(ROW)
#undef ROW
};

static const struct err_row *row_of(int code)
{
    static const struct err_row unknown = {"UNKNOWN", "unknown error", 500, 70};
    if (code > 0 || -code >= FL__ERR_COUNT)
        return &unknown;
    return &err_rows[-code];
}

const char *fl_err_name(int code)
{
    return row_of(code)->name;
}

const char *fl_err_message(int code)
{
    return row_of(code)->message;
}

int fl_err_http_status(int code)
{
    return row_of(code)->http;
}

int fl_err_exit_code(int code)
{
    return row_of(code)->exit_code;
}

void fl_error_clear(struct fl_error *e)
{
    if (e)
        memset(e, 0, sizeof(*e));
}

int fl_error_setv(struct fl_error *e, int code, const char *fmt, va_list ap)
{
    if (!e)
        return code;
    e->code = code;
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    return code;
}

int fl_error_set(struct fl_error *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fl_error_setv(e, code, fmt, ap);
    va_end(ap);
    return code;
}

void fl_error_at(struct fl_error *e, const char *element, int line, int column)
{
    if (!e)
        return;
    if (element)
        snprintf(e->element, sizeof(e->element), "%s", element);
    e->line = line;
    e->column = column;
}

const char *fl_error_format(const struct fl_error *e, char *out, unsigned long n)
{
    int k = snprintf(out, n, "%s", e->msg[0] ? e->msg : fl_err_message(e->code));
    const char *sep = " (";
    if (k < 0 || (unsigned long)k >= n)
        return out;
    if (e->element[0]) {
        k += snprintf(out + k, n - k, "%selement '%s'", sep, e->element);
        sep = ", ";
    }
    if ((unsigned long)k < n && e->field[0]) {
        k += snprintf(out + k, n - k, "%sfield '%s'", sep, e->field);
        sep = ", ";
    }
    if ((unsigned long)k < n && e->line > 0) {
        k += snprintf(out + k, n - k, "%sline %d", sep, e->line);
        sep = ", ";
        if ((unsigned long)k < n && e->column > 0)
            k += snprintf(out + k, n - k, ", column %d", e->column);
    }
    if ((unsigned long)k < n && sep[0] == ',')
        snprintf(out + k, n - k, ")");
    return out;
}
