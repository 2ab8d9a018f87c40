/* FEEL evaluator and the public API of feel.h: compile (lex + parse), evaluate a tree
 * against a scope chain, invoke built-in and user-defined functions. Evaluation allocates
 * only for the values it creates; variables and constants are shared by reference, and a
 * step budget and depth limit keep hostile expressions finite. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/feel_impl.h"
#include "flowd/alloc.h"

#define FLAG_USES_Q 4

struct fl_value *fl__feel_error(struct feel_eval *ev, const char *fmt, ...)
{
    if (!ev->failed) {
        ev->failed = true;
        if (ev->diag) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(ev->diag->msg, sizeof(ev->diag->msg), fmt, ap);
            va_end(ap);
        }
    }
    return fl_value_null();
}

static const struct fl_value *lookup(const struct feel_eval *ev, const struct feel_scope *sc,
                                     const char *name, size_t n)
{
    for (; sc; sc = sc->parent) {
        if (sc->ctx) {
            const struct fl_value *v = fl_value_context_get(sc->ctx, name, n);
            if (v)
                return v;
        } else if (sc->namelen == n && memcmp(sc->name, name, n) == 0) {
            return sc->val;
        }
    }
    if (ev->env && ev->env->vars)
        return fl_value_context_get(ev->env->vars, name, n);
    return NULL;
}

static struct fl_value *eval_path(struct feel_eval *ev, const struct feel_node *n,
                                  const struct feel_scope *sc)
{
    struct fl_value *base = fl__feel_eval_node(ev, n->kids[0], sc), *r;
    enum fl_vtype t = fl_value_type(base);
    if (t == FL_VCONTEXT) {
        const struct fl_value *v = fl_value_context_get(base, n->name, n->namelen);
        r = fl_value_ref(v ? v : fl_value_null());
    } else if (t == FL_VLIST) {
        /* projection: the member of each item, null where an item has none */
        r = fl__value_list_sized(base->u.list.len);
        for (size_t i = 0; i < base->u.list.len; i++) {
            const struct fl_value *it = base->u.list.items[i];
            const struct fl_value *v = NULL;
            bool found;
            if (fl_value_type(it) == FL_VCONTEXT) {
                v = fl_value_context_get(it, n->name, n->namelen);
                fl_value_list_push(r, fl_value_ref(v ? v : fl_value_null()));
            } else {
                struct fl_value *pv = fl__feel_property(it, n->name, n->namelen, &found);
                fl_value_list_push(r, found ? pv : fl_value_null());
            }
        }
    } else if (t == FL_VNULL) {
        r = fl_value_null();
    } else {
        bool found;
        r = fl__feel_property(base, n->name, n->namelen, &found);
        if (!found)
            r = fl__feel_error(ev, "no property '%s' on a value of type %s", n->name,
                               fl_value_type_name(t));
    }
    fl_value_unref(base);
    return r;
}

static struct fl_value *index_list(const struct fl_value *list, const struct fl_dec *idx)
{
    int64_t i;
    size_t len = list->u.list.len;
    if (fl_dec_to_int64(idx, &i) || i == 0)
        return fl_value_null();
    if (i < 0)
        i += (int64_t)len + 1;
    else if (i > (int64_t)len)
        return fl_value_null();
    if (i < 1)
        return fl_value_null();
    return fl_value_ref(list->u.list.items[i - 1]);
}

static struct fl_value *eval_filter(struct feel_eval *ev, const struct feel_node *n,
                                    const struct feel_scope *sc)
{
    struct fl_value *base = fl__feel_eval_node(ev, n->kids[0], sc), *list, *r = NULL;
    if (fl_value_type(base) == FL_VNULL)
        return base;
    if (fl_value_type(base) != FL_VLIST) {
        list = fl__value_list_sized(1);
        fl_value_list_push(list, base);
    } else {
        list = base;
    }
    const struct feel_node *cond = n->kids[1];
    if (cond->kind == N_LIT && fl_value_type(cond->lit) == FL_VNUMBER) {
        r = index_list(list, &cond->lit->u.num);
        goto out;
    }
    r = fl__value_list_sized(0);
    for (size_t i = 0; i < list->u.list.len; i++) {
        const struct fl_value *it = list->u.list.items[i];
        struct feel_scope s_item = {sc, NULL, "item", 4, it};
        struct feel_scope s_ctx = {&s_item, it, NULL, 0, NULL};
        const struct feel_scope *inner =
            fl_value_type(it) == FL_VCONTEXT ? &s_ctx : &s_item;
        struct fl_value *c = fl__feel_eval_node(ev, cond, inner);
        if (i == 0 && fl_value_type(c) == FL_VNUMBER) {
            /* a numeric filter is an index (FEEL evaluates it once) */
            fl_value_unref(r);
            r = index_list(list, &c->u.num);
            fl_value_unref(c);
            goto out;
        }
        if (fl_value_is_true(c))
            fl_value_list_push(r, fl_value_ref(it));
        fl_value_unref(c);
    }
out:
    fl_value_unref(list);
    return r;
}

static struct fl_value *logic(struct feel_eval *ev, const struct feel_node *n,
                              const struct feel_scope *sc, bool is_and)
{
    struct fl_value *a = fl__feel_eval_node(ev, n->kids[0], sc);
    /* short-circuit only on the deciding value; the other side may still turn null into
     * a decided result (false and null = false) */
    if (fl_value_type(a) == FL_VBOOL && a->u.b == !is_and)
        return a;
    struct fl_value *b = fl__feel_eval_node(ev, n->kids[1], sc);
    bool ab = fl_value_type(a) == FL_VBOOL, bb = fl_value_type(b) == FL_VBOOL;
    struct fl_value *r;
    if (bb && b->u.b == !is_and)
        r = fl_value_bool(!is_and);
    else if (ab && bb)
        r = fl_value_bool(is_and);
    else
        r = fl_value_null();
    fl_value_unref(a);
    fl_value_unref(b);
    return r;
}

static struct fl_value *cmp_values(struct feel_eval *ev, int op, const struct fl_value *a,
                                   const struct fl_value *b)
{
    if (op == TK_EQ || op == TK_NE) {
        int e = fl__feel_equal(a, b);
        if (e < 0)
            return fl__feel_error(ev, "cannot compare %s with %s",
                                  fl_value_type_name(fl_value_type(a)),
                                  fl_value_type_name(fl_value_type(b)));
        return fl_value_bool(op == TK_EQ ? e == 1 : e == 0);
    }
    if (fl_value_type(a) == FL_VNULL || fl_value_type(b) == FL_VNULL)
        return fl_value_null();
    int c = fl__feel_compare(a, b);
    if (c == -2)
        return fl__feel_error(ev, "cannot compare %s with %s",
                              fl_value_type_name(fl_value_type(a)),
                              fl_value_type_name(fl_value_type(b)));
    switch (op) {
    case TK_LT: return fl_value_bool(c < 0);
    case TK_LE: return fl_value_bool(c <= 0);
    case TK_GT: return fl_value_bool(c > 0);
    default: return fl_value_bool(c >= 0);
    }
}

static const char *op_name(int op)
{
    switch (op) {
    case TK_PLUS: return "+";
    case TK_MINUS: return "-";
    case TK_STAR: return "*";
    case TK_SLASH: return "/";
    default: return "**";
    }
}

static struct fl_value *eval_bin(struct feel_eval *ev, const struct feel_node *n,
                                 const struct feel_scope *sc)
{
    if (n->name) {
        /* "a-b" written without spaces: a variable of that name wins over subtraction */
        const struct fl_value *v = lookup(ev, sc, n->name, n->namelen);
        if (v)
            return fl_value_ref(v);
    }
    struct fl_value *a = fl__feel_eval_node(ev, n->kids[0], sc);
    struct fl_value *b = fl__feel_eval_node(ev, n->kids[1], sc);
    struct fl_value *r;
    if (n->op >= TK_EQ && n->op <= TK_GE) {
        r = cmp_values(ev, n->op, a, b);
    } else {
        r = fl__feel_arith(ev, n->op, a, b);
        if (fl_value_type(r) == FL_VNULL && fl_value_type(a) != FL_VNULL &&
            fl_value_type(b) != FL_VNULL) {
            if (n->op == TK_SLASH && fl_value_type(b) == FL_VNUMBER && fl_dec_is_zero(&b->u.num))
                fl__feel_error(ev, "division by zero");
            else
                fl__feel_error(ev, "cannot apply '%s' to %s and %s", op_name(n->op),
                               fl_value_type_name(fl_value_type(a)),
                               fl_value_type_name(fl_value_type(b)));
        }
    }
    fl_value_unref(a);
    fl_value_unref(b);
    return r;
}

/* Whether x passes the unary test node t (a value: true, false or null). */
static struct fl_value *test_match(struct feel_eval *ev, const struct feel_node *t,
                                   const struct fl_value *x, const struct feel_scope *sc)
{
    struct fl_value *v, *r;
    switch (t->kind) {
    case N_TEST_ANY:
        return fl_value_bool(true);
    case N_TEST_LIST: {
        bool saw_null = false;
        for (size_t i = 0; i < t->nkids; i++) {
            r = test_match(ev, t->kids[i], x, sc);
            if (fl_value_is_true(r))
                return r;
            if (fl_value_type(r) == FL_VNULL)
                saw_null = true;
            fl_value_unref(r);
        }
        return saw_null && t->nkids == 1 ? fl_value_null() : fl_value_bool(false);
    }
    case N_TEST_NOT:
        for (size_t i = 0; i < t->nkids; i++) {
            r = test_match(ev, t->kids[i], x, sc);
            if (fl_value_is_true(r))
                return fl_value_bool(false);
            if (fl_value_type(r) == FL_VNULL)
                return r;
            fl_value_unref(r);
        }
        return fl_value_bool(true);
    case N_TEST_CMP:
        if (t->op) {
            v = fl__feel_eval_node(ev, t->kids[0], sc);
            r = cmp_values(ev, t->op, x, v);
            fl_value_unref(v);
            return r;
        } else {
            struct feel_scope q = {sc, NULL, "?", 1, x};
            v = fl__feel_eval_node(ev, t->kids[0], &q);
            if ((t->flags & FLAG_USES_Q) && fl_value_type(v) == FL_VBOOL)
                return v;
            r = fl__feel_in_value(x, v);
            fl_value_unref(v);
            return r;
        }
    default:
        v = fl__feel_eval_node(ev, t, sc);
        r = fl__feel_in_value(x, v);
        fl_value_unref(v);
        return r;
    }
}

static struct fl_value *eval_range(struct feel_eval *ev, const struct feel_node *n,
                                   const struct feel_scope *sc)
{
    struct fl_value *lo = n->kids[0] ? fl__feel_eval_node(ev, n->kids[0], sc) : NULL;
    struct fl_value *hi = n->kids[1] ? fl__feel_eval_node(ev, n->kids[1], sc) : NULL;
    enum fl_vtype tl = fl_value_type(lo), th = fl_value_type(hi);
    bool lo_val = lo && tl != FL_VNULL, hi_val = hi && th != FL_VNULL;
    int c = lo_val && hi_val ? fl__feel_compare(lo, hi) : 0;
    /* ascending endpoints of one ordered type; "for x in 3..1" may count down */
    if (lo_val && hi_val && (tl != th || c == -2 || (c > 0 && n->op != 1))) {
        fl_value_unref(lo);
        fl_value_unref(hi);
        return fl__feel_error(ev, "invalid range endpoints");
    }
    if ((lo_val && fl__feel_compare(lo, lo) == -2) || (hi_val && fl__feel_compare(hi, hi) == -2)) {
        fl_value_unref(lo);
        fl_value_unref(hi);
        return fl__feel_error(ev, "invalid range endpoint");
    }
    return fl__value_range(lo, n->flags & RANGE_LO_CLOSED, hi, n->flags & RANGE_HI_CLOSED);
}

static struct fl_value *eval_context(struct feel_eval *ev, const struct feel_node *n,
                                     const struct feel_scope *sc)
{
    struct fl_value *c = fl_value_context_new();
    struct feel_scope inner = {sc, c, NULL, 0, NULL};
    for (size_t i = 0; i < n->nkids; i++) {
        if (fl_value_context_get(c, n->names[i], n->namelens[i])) {
            fl_value_unref(c);
            return fl__feel_error(ev, "duplicate context key '%s'", n->names[i]);
        }
        /* later entries see earlier ones */
        struct fl_value *v = fl__feel_eval_node(ev, n->kids[i], &inner);
        fl_value_context_set(c, n->names[i], n->namelens[i], v);
    }
    return c;
}

/* The iteration domain of for/some/every as a list (new reference) or NULL on error. */
static struct fl_value *domain(struct feel_eval *ev, const struct feel_node *d,
                               const struct feel_scope *sc)
{
    struct fl_value *v = fl__feel_eval_node(ev, d, sc);
    if (fl_value_type(v) == FL_VLIST)
        return v;
    if (fl_value_type(v) == FL_VRANGE) {
        const struct fl_value *lo = v->u.range.lo, *hi = v->u.range.hi;
        int64_t a, b;
        bool dates = fl_value_type(lo) == FL_VDATE && fl_value_type(hi) == FL_VDATE;
        if (dates) {
            a = lo->u.date;
            b = hi->u.date;
        } else if (fl_value_to_int64(lo, &a) || fl_value_to_int64(hi, &b)) {
            fl_value_unref(v);
            fl__feel_error(ev, "cannot iterate over a range that is not of integers");
            return NULL;
        }
        if (d->op != 1) {
            /* a bracketed range honours open ends */
            if (!v->u.range.lo_closed)
                a += a <= b ? 1 : -1;
            if (!v->u.range.hi_closed)
                b += a <= b ? -1 : 1;
        }
        fl_value_unref(v);
        int64_t cnt = (a <= b ? b - a : a - b) + 1;
        if (cnt > FEEL_MAX_LIST || cnt < 0) {
            fl__feel_error(ev, "range too large to iterate");
            return NULL;
        }
        struct fl_value *l = fl__value_list_sized((size_t)cnt);
        for (int64_t i = 0; i < cnt; i++) {
            int64_t x = a <= b ? a + i : a - i;
            fl_value_list_push(l, dates ? fl__value_date(x) : fl_value_int(x));
        }
        return l;
    }
    if (fl_value_type(v) == FL_VNULL) {
        fl_value_unref(v);
        fl__feel_error(ev, "cannot iterate over null");
        return NULL;
    }
    struct fl_value *l = fl__value_list_sized(1);
    fl_value_list_push(l, v);
    return l;
}

struct iter_state {
    struct fl_value *out;  /* for: results; some/every: decided value */
    bool done;
};

static void iterate(struct feel_eval *ev, const struct feel_node *n, size_t level,
                    const struct feel_scope *sc, struct iter_state *st)
{
    if (st->done)
        return;
    if (level == n->nnames) {
        const struct feel_node *body = n->kids[n->nnames];
        if (n->kind == N_FOR) {
            struct feel_scope partial = {sc, NULL, "partial", 7, st->out};
            struct fl_value *v = fl__feel_eval_node(ev, body, &partial);
            if (st->out->u.list.len >= FEEL_MAX_LIST) {
                fl_value_unref(v);
                fl__feel_error(ev, "for loop produces too many items");
                st->done = true;
                return;
            }
            fl_value_list_push(st->out, v);
        } else {
            struct fl_value *v = fl__feel_eval_node(ev, body, sc);
            bool want = n->kind == N_SOME;
            if (fl_value_type(v) == FL_VBOOL && v->u.b == want) {
                st->done = true;
                fl_value_unref(st->out);
                st->out = fl_value_bool(want);
            } else if (fl_value_type(v) != FL_VBOOL) {
                fl_value_unref(st->out);
                st->out = fl_value_null();
            }
            fl_value_unref(v);
        }
        return;
    }
    struct fl_value *dom = domain(ev, n->kids[level], sc);
    if (!dom) {
        st->done = true;
        fl_value_unref(st->out);
        st->out = fl_value_null();
        return;
    }
    for (size_t i = 0; i < dom->u.list.len && !st->done; i++) {
        struct feel_scope s = {sc, NULL, n->names[level], n->namelens[level],
                               dom->u.list.items[i]};
        iterate(ev, n, level + 1, &s, st);
        if (ev->steps > FEEL_MAX_STEPS)
            break;
    }
    fl_value_unref(dom);
}

static struct fl_value *eval_iteration(struct feel_eval *ev, const struct feel_node *n,
                                       const struct feel_scope *sc)
{
    struct iter_state st;
    st.done = false;
    if (n->kind == N_FOR)
        st.out = fl__value_list_sized(0);
    else
        st.out = fl_value_bool(n->kind == N_EVERY);
    iterate(ev, n, 0, sc, &st);
    if (n->kind == N_FOR && fl_value_type(st.out) != FL_VLIST) {
        fl_value_unref(st.out);
        return fl_value_null();
    }
    return st.out;
}

static bool instance_of(const struct fl_value *v, const struct feel_node *ty)
{
    const char *t = ty->name;
    enum fl_vtype vt = fl_value_type(v);
    if (strcmp(t, "Any") == 0)
        return vt != FL_VNULL;
    if (strcmp(t, "Null") == 0)
        return vt == FL_VNULL;
    if (vt == FL_VNULL)
        return false;
    if (strcmp(t, "list") == 0) {
        if (vt != FL_VLIST)
            return false;
        if (ty->nkids)
            for (size_t i = 0; i < v->u.list.len; i++)
                if (fl_value_type(v->u.list.items[i]) != FL_VNULL &&
                    !instance_of(v->u.list.items[i], ty->kids[0]))
                    return false;
        return true;
    }
    if (strcmp(t, "context") == 0) {
        if (vt != FL_VCONTEXT)
            return false;
        for (size_t i = 0; i < ty->nnames; i++) {
            const struct fl_value *e = fl_value_context_get(v, ty->names[i], ty->namelens[i]);
            if (!e || (fl_value_type(e) != FL_VNULL && !instance_of(e, ty->kids[i])))
                return false;
        }
        return true;
    }
    if (strcmp(t, "range") == 0) {
        if (vt != FL_VRANGE)
            return false;
        if (ty->nkids) {
            const struct fl_value *e = v->u.range.lo ? v->u.range.lo : v->u.range.hi;
            return !e || instance_of(e, ty->kids[0]);
        }
        return true;
    }
    if (strcmp(t, "function") == 0)
        return vt == FL_VFUNCTION;
    if (strcmp(t, "dayTimeDuration") == 0)
        return vt == FL_VDTDURATION;
    if (strcmp(t, "yearMonthDuration") == 0)
        return vt == FL_VYMDURATION;
    if (strcmp(t, "dateTime") == 0)
        return vt == FL_VDATETIME;
    return strcmp(t, fl_value_type_name(vt)) == 0;
}

/* Flatten the scope chain into a context so a function can outlive it. */
static struct fl_value *capture(const struct feel_scope *sc)
{
    const struct feel_scope *chain[FEEL_MAX_DEPTH * 4];
    size_t n = 0;
    struct fl_value *c = fl_value_context_new();
    for (; sc && n < sizeof(chain) / sizeof(chain[0]); sc = sc->parent)
        chain[n++] = sc;
    while (n-- > 0) {
        const struct feel_scope *s = chain[n];
        if (s->ctx) {
            for (size_t i = 0; i < s->ctx->u.ctx.len; i++)
                fl_value_context_set(c, s->ctx->u.ctx.ents[i].key, s->ctx->u.ctx.ents[i].keylen,
                                     fl_value_ref(s->ctx->u.ctx.ents[i].val));
        } else {
            fl_value_context_set(c, s->name, s->namelen, fl_value_ref(s->val));
        }
    }
    return c;
}

struct fl_value *fl__feel_invoke(struct feel_eval *ev, const struct fl_value *fn,
                                 struct fl_value **args, size_t nargs)
{
    if (fl_value_type(fn) != FL_VFUNCTION)
        return fl__feel_error(ev, "value of type %s is not a function",
                              fl_value_type_name(fl_value_type(fn)));
    if (fn->u.fn.builtin >= 0) {
        const struct feel_builtin *b = fl__feel_builtin_get(fn->u.fn.builtin);
        if ((int)nargs < b->min_args || (b->max_args >= 0 && (int)nargs > b->max_args))
            return fl__feel_error(ev, "wrong number of arguments to '%s': %zu", b->name, nargs);
        return b->fn(ev, args, nargs);
    }
    const struct feel_node *def = fn->u.fn.def;
    if (nargs != def->nnames)
        return fl__feel_error(ev, "function expects %zu arguments, got %zu", def->nnames, nargs);
    if (ev->depth >= FEEL_MAX_DEPTH)
        return fl__feel_error(ev, "function calls nested too deeply");
    struct fl_value *params = fl_value_context_new();
    for (size_t i = 0; i < nargs; i++)
        fl_value_context_set(params, def->names[i], def->namelens[i], fl_value_ref(args[i]));
    /* names resolve in the parameters, then the scope the function was defined in, then
     * the caller's scope, which is how a function in a context can call itself */
    const struct feel_scope *caller = ev->call_scope;
    struct feel_scope s_closure = {caller, fn->u.fn.closure, NULL, 0, NULL};
    struct feel_scope s_params = {fn->u.fn.closure ? &s_closure : caller, params, NULL, 0, NULL};
    struct fl_value *r = fl__feel_eval_node(ev, def->kids[0], &s_params);
    fl_value_unref(params);
    return r;
}

static struct fl_value *eval_call(struct feel_eval *ev, const struct feel_node *n,
                                  const struct feel_scope *sc)
{
    struct fl_value *fn;
    struct fl_value *argv_small[8], **argv = argv_small, *r;
    struct fl_value builtin_fn; /* a built-in callee lives on the stack: no allocation */
    size_t nargs = n->nkids - 1;
    const struct feel_node *callee = n->kids[0];
    if (callee->kind == N_NAME) {
        const struct fl_value *v = lookup(ev, sc, callee->name, callee->namelen);
        if (v && fl_value_type(v) == FL_VFUNCTION)
            fn = fl_value_ref(v);
        else if (n->builtin >= 0) {
            memset(&builtin_fn, 0, sizeof(builtin_fn));
            builtin_fn.type = FL_VFUNCTION;
            builtin_fn.frozen = 1;
            builtin_fn.is_static = 1;
            builtin_fn.u.fn.builtin = n->builtin;
            fn = &builtin_fn;
        } else
            return fl__feel_error(ev, "no function found for name '%s'", callee->name);
    } else {
        fn = fl__feel_eval_node(ev, callee, sc);
    }
    if (fl_value_type(fn) != FL_VFUNCTION) {
        enum fl_vtype t = fl_value_type(fn);
        fl_value_unref(fn);
        return fl__feel_error(ev, "cannot call a value of type %s", fl_value_type_name(t));
    }
    size_t slots = nargs;
    const char *const *pnames = NULL;
    size_t npnames = 0;
    if (n->nnames) {
        if (fn->u.fn.builtin >= 0) {
            const struct feel_builtin *b = fl__feel_builtin_get(fn->u.fn.builtin);
            pnames = b->params;
            /* a built-in with two signatures: pick the one that has every given name */
            if (b->alt[0]) {
                bool in_first = true;
                for (size_t i = 0; i < n->nnames; i++) {
                    bool found = false;
                    for (size_t k = 0; k < 4 && b->params[k]; k++)
                        if (strlen(b->params[k]) == n->namelens[i] &&
                            memcmp(b->params[k], n->names[i], n->namelens[i]) == 0)
                            found = true;
                    in_first = in_first && found;
                }
                if (!in_first)
                    pnames = b->alt;
            }
            while (npnames < 4 && pnames[npnames])
                npnames++;
        } else {
            npnames = ((const struct feel_node *)fn->u.fn.def)->nnames;
        }
        slots = npnames;
    }
    if (slots > 8)
        argv = fl_calloc(slots, sizeof(*argv));
    for (size_t i = 0; i < slots; i++)
        argv[i] = NULL;
    if (!n->nnames) {
        for (size_t i = 0; i < nargs; i++)
            argv[i] = fl__feel_eval_node(ev, n->kids[i + 1], sc);
    } else {
        size_t used = 0;
        for (size_t i = 0; i < nargs; i++) {
            size_t k;
            for (k = 0; k < npnames; k++) {
                const char *pn = pnames ? pnames[k]
                                        : ((const struct feel_node *)fn->u.fn.def)->names[k];
                if (strlen(pn) == n->namelens[i] && memcmp(pn, n->names[i], n->namelens[i]) == 0)
                    break;
            }
            if (k == npnames || argv[k]) {
                r = fl__feel_error(ev, "unknown or repeated parameter '%s'", n->names[i]);
                goto out;
            }
            argv[k] = fl__feel_eval_node(ev, n->kids[i + 1], sc);
            if (k + 1 > used)
                used = k + 1;
        }
        /* optional trailing parameters of a built-in are simply absent; required ones
         * that were not named are null */
        if (fn->u.fn.builtin >= 0) {
            size_t min = (size_t)fl__feel_builtin_get(fn->u.fn.builtin)->min_args;
            slots = used > min ? used : min;
            if (slots > npnames)
                slots = npnames;
        } else {
            slots = npnames;
        }
        for (size_t i = 0; i < slots; i++)
            if (!argv[i])
                argv[i] = fl_value_null();
        nargs = slots;
    }
    {
        const struct feel_scope *saved = ev->call_scope;
        ev->call_scope = sc;
        r = fl__feel_invoke(ev, fn, argv, nargs);
        ev->call_scope = saved;
    }
out:
    for (size_t i = 0; i < slots; i++)
        fl_value_unref(argv[i]);
    if (argv != argv_small)
        free(argv);
    fl_value_unref(fn);
    return r;
}

struct fl_value *fl__feel_eval_node(struct feel_eval *ev, const struct feel_node *n,
                                    const struct feel_scope *sc)
{
    struct fl_value *r, *a;
    if (++ev->steps > FEEL_MAX_STEPS)
        return fl__feel_error(ev, "evaluation exceeded the step limit");
    if (++ev->depth > FEEL_MAX_DEPTH * 2) {
        ev->depth--;
        return fl__feel_error(ev, "evaluation nested too deeply");
    }
    switch ((enum feel_node_kind)n->kind) {
    case N_LIT:
        r = fl_value_ref(n->lit);
        break;
    case N_NAME: {
        const struct fl_value *v = lookup(ev, sc, n->name, n->namelen);
        if (v)
            r = fl_value_ref(v);
        else if (n->builtin >= 0)
            r = fl__value_function(n->builtin, NULL, NULL);
        else
            r = fl__feel_error(ev, "no variable found for name '%s'", n->name);
        break;
    }
    case N_PATH:
        r = eval_path(ev, n, sc);
        break;
    case N_FILTER:
        r = eval_filter(ev, n, sc);
        break;
    case N_CALL:
        r = eval_call(ev, n, sc);
        break;
    case N_NEG:
        a = fl__feel_eval_node(ev, n->kids[0], sc);
        if (fl_value_type(a) == FL_VNUMBER) {
            struct fl_dec d;
            fl_dec_neg(&a->u.num, &d);
            r = fl__value_number(&d);
        } else if (fl_value_type(a) == FL_VDTDURATION) {
            r = fl__value_dtduration(-a->u.dtdur);
        } else if (fl_value_type(a) == FL_VYMDURATION) {
            r = fl__value_ymduration(-a->u.ymdur);
        } else if (fl_value_type(a) == FL_VNULL) {
            r = fl_value_null();
        } else {
            r = fl__feel_error(ev, "cannot negate a value of type %s",
                               fl_value_type_name(fl_value_type(a)));
        }
        fl_value_unref(a);
        break;
    case N_BIN:
        r = eval_bin(ev, n, sc);
        break;
    case N_AND:
        r = logic(ev, n, sc, true);
        break;
    case N_OR:
        r = logic(ev, n, sc, false);
        break;
    case N_BETWEEN: {
        struct fl_value *x = fl__feel_eval_node(ev, n->kids[0], sc);
        struct fl_value *lo = fl__feel_eval_node(ev, n->kids[1], sc);
        struct fl_value *hi = fl__feel_eval_node(ev, n->kids[2], sc);
        struct fl_value *c1 = cmp_values(ev, TK_GE, x, lo);
        struct fl_value *c2 = cmp_values(ev, TK_LE, x, hi);
        if ((fl_value_type(c1) == FL_VBOOL && !c1->u.b) ||
            (fl_value_type(c2) == FL_VBOOL && !c2->u.b))
            r = fl_value_bool(false);
        else if (fl_value_is_true(c1) && fl_value_is_true(c2))
            r = fl_value_bool(true);
        else
            r = fl_value_null();
        fl_value_unref(x);
        fl_value_unref(lo);
        fl_value_unref(hi);
        break;
    }
    case N_IN:
        a = fl__feel_eval_node(ev, n->kids[0], sc);
        r = test_match(ev, n->kids[1], a, sc);
        fl_value_unref(a);
        break;
    case N_TEST_CMP:
    case N_TEST_LIST:
    case N_TEST_NOT:
    case N_TEST_ANY: {
        /* a unary test evaluated as a top-level unary-tests expression: input is '?' */
        const struct fl_value *q = lookup(ev, sc, "?", 1);
        r = test_match(ev, n, q ? q : fl_value_null(), sc);
        break;
    }
    case N_RANGE:
        r = eval_range(ev, n, sc);
        break;
    case N_LIST:
        r = fl__value_list_sized(n->nkids);
        for (size_t i = 0; i < n->nkids; i++)
            fl_value_list_push(r, fl__feel_eval_node(ev, n->kids[i], sc));
        break;
    case N_CTX:
        r = eval_context(ev, n, sc);
        break;
    case N_IF:
        a = fl__feel_eval_node(ev, n->kids[0], sc);
        r = fl__feel_eval_node(ev, n->kids[fl_value_is_true(a) ? 1 : 2], sc);
        fl_value_unref(a);
        break;
    case N_FOR:
    case N_SOME:
    case N_EVERY:
        r = eval_iteration(ev, n, sc);
        break;
    case N_INSTANCE:
        a = fl__feel_eval_node(ev, n->kids[0], sc);
        r = fl_value_bool(instance_of(a, n->kids[1]));
        fl_value_unref(a);
        break;
    case N_FUNCDEF:
        r = fl__value_function(-1, n, sc ? capture(sc) : NULL);
        break;
    default:
        r = fl__feel_error(ev, "cannot evaluate this expression");
        break;
    }
    ev->depth--;
    return r;
}
