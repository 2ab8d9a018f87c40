/* The public FEEL API of feel.h: compile (lex + parse into an immutable tree), evaluate
 * (detaching the result from the expression's frozen constants), free, and the helpers
 * for Camunda's leading '='. */
#include <stdlib.h>
#include <string.h>

#include "core/feel_impl.h"
#include "flowd/alloc.h"

static int compile(const char *src, size_t len, bool unary, struct fl_feel_expr **out,
                   struct fl_error *err)
{
    struct feel_lexer_out lx;
    struct feel_node *root = NULL;
    int rc;
    if (len > FEEL_MAX_SOURCE)
        return fl_error_set(err, FL_ETOOBIG, "expression too long (%zu bytes)", len);
    if (memchr(src, 0, len)) {
        rc = fl_error_set(err, FL_EPARSE, "NUL byte in expression");
        fl_error_at(err, NULL, 1, 1);
        return rc;
    }
    if ((rc = fl__feel_lex(src, len, &lx, err)))
        return rc;
    rc = fl__feel_parse(src, &lx, unary, &root, err);
    fl__feel_lex_free(&lx);
    if (rc)
        return rc;
    struct fl_feel_expr *e = fl_calloc(1, sizeof(*e));
    e->source = fl_strndup(src, len);
    e->root = root;
    e->unary = unary;
    *out = e;
    return 0;
}

int fl_feel_compile(const char *src, size_t len, struct fl_feel_expr **out,
                    struct fl_error *err)
{
    return compile(src, len, false, out, err);
}

int fl_feel_compile_unary(const char *src, size_t len, struct fl_feel_expr **out,
                          struct fl_error *err)
{
    return compile(src, len, true, out, err);
}

void fl_feel_free(struct fl_feel_expr *e)
{
    if (!e)
        return;
    fl__feel_node_free(e->root);
    free(e->source);
    free(e);
}

struct fl_value *fl_feel_eval(const struct fl_feel_expr *e, const struct fl_feel_env *env,
                              struct fl_feel_diag *diag)
{
    struct feel_eval ev = {env, diag, 0, 0, false, NULL};
    struct fl_value *r, *d;
    if (diag)
        diag->msg[0] = 0;
    r = fl__feel_eval_node(&ev, e->root, NULL);
    /* constants of e are frozen and die with e; the caller's result must not */
    d = fl__value_detach(r);
    fl_value_unref(r);
    return d;
}

const char *fl_feel_source(const struct fl_feel_expr *e)
{
    return e->source;
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
