/* THROWAWAY stub of fl_feel_compile so the BPMN reader builds
 * before the feel branch lands. Deleted when feel is merged. */
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/feel.h"

struct fl_feel_expr {
    char *src;
};

int fl_feel_compile(const char *src, size_t len, struct fl_feel_expr **out, struct fl_error *err)
{
    int depth = 0;
    size_t i;
    for (i = 0; i < len; i++) {
        if (src[i] == '(')
            depth++;
        if (src[i] == ')' && --depth < 0) {
            fl_error_set(err, FL_EPARSE, "unexpected ')'");
            if (err)
                err->column = (int)i + 1;
            return FL_EPARSE;
        }
    }
    *out = fl_malloc(sizeof(**out));
    (*out)->src = fl_strndup(src, len);
    return 0;
}

void fl_feel_free(struct fl_feel_expr *e)
{
    if (!e)
        return;
    free(e->src);
    free(e);
}

const char *fl_feel_source(const struct fl_feel_expr *e)
{
    return e->src;
}

const char *fl_feel_strip(const char *s, int *is_expr)
{
    const char *p = s;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (*p == '=') {
        *is_expr = 1;
        return p + 1;
    }
    *is_expr = 0;
    return s;
}
