/* FEEL parser, second half: the bracketed and keyword-led forms -- parenthesised
 * expressions and unary-test lists, lists and ranges with their four bracket styles,
 * contexts (whose keys may hold any name characters), function definitions, for/some/every
 * iterations and the type names of "instance of". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/feel_parse_impl.h"
#include "flowd/alloc.h"

struct feel_node *fl__fp_parse_type(struct parser *p)
{
    const struct feel_token *t = fl__fp_peek(p);
    struct fl_buf name = FL_BUF_INIT;
    struct feel_node *n;
    if (t->kind != TK_NAME)
        return fl__fp_unexpected(p, "a type name");
    n = fl__fp_node_new(N_TYPE, t->col);
    fl__fp_collect_name(p, &name, true);
    n->name = fl_buf_detach(&name, &n->namelen);
    if (fl__fp_peek(p)->kind == TK_LT) {
        fl__fp_advance(p);
        bool is_ctx = strcmp(n->name, "context") == 0;
        for (;;) {
            if (is_ctx) {
                struct fl_buf key = FL_BUF_INIT;
                if (fl__fp_peek(p)->kind != TK_NAME) {
                    fl_buf_release(&key);
                    fl__feel_node_free(n);
                    return fl__fp_unexpected(p, "a context key");
                }
                fl__fp_collect_name(p, &key, false);
                fl__fp_add_name(n, key.ptr, key.len);
                fl_buf_release(&key);
                if (!fl__fp_expect(p, TK_COLON, "':'"))
                    goto bad;
            }
            struct feel_node *arg = fl__fp_parse_type(p);
            if (!arg)
                goto bad;
            fl__fp_add_kid(n, arg);
            if (fl__fp_peek(p)->kind == TK_COMMA) {
                fl__fp_advance(p);
                continue;
            }
            break;
        }
        if (!fl__fp_expect(p, TK_GT, "'>'"))
            goto bad;
    }
    if (fl__fp_peek(p)->kind == TK_ARROW && strcmp(n->name, "function") == 0) {
        fl__fp_advance(p);
        struct feel_node *ret = fl__fp_parse_type(p);
        if (!ret)
            goto bad;
        fl__fp_add_kid(n, ret);
        n->flags = 1; /* last kid is the return type */
    }
    return n;
bad:
    fl__feel_node_free(n);
    return NULL;
}

/* "x in a, y in b" of for/some/every; ranges "1..3" allowed as domains. */
struct feel_node *fl__fp_parse_iteration(struct parser *p, int kind, const char *body_kw)
{
    struct feel_node *n = fl__fp_node_new(kind, fl__fp_advance(p)->col);
    for (;;) {
        struct fl_buf name = FL_BUF_INIT;
        if (fl__fp_peek(p)->kind != TK_NAME || fl__fp_is_keyword(fl__fp_peek(p))) {
            fl__feel_node_free(n);
            return fl__fp_unexpected(p, "a variable name");
        }
        fl__fp_collect_name(p, &name, true);
        fl__fp_add_name(n, name.ptr, name.len);
        fl_buf_release(&name);
        if (!fl__fp_is_word(fl__fp_peek(p), "in")) {
            fl__feel_node_free(n);
            return fl__fp_unexpected(p, "'in'");
        }
        fl__fp_advance(p);
        struct feel_node *dom = fl__fp_parse_expr(p);
        if (!dom)
            goto bad;
        if (fl__fp_peek(p)->kind == TK_DOTDOT) {
            struct feel_node *r = fl__fp_node_new(N_RANGE, fl__fp_peek(p)->col);
            fl__fp_advance(p);
            r->flags = RANGE_LO_CLOSED | RANGE_HI_CLOSED;
            fl__fp_add_kid(r, dom);
            struct feel_node *hi = fl__fp_parse_expr(p);
            if (!hi) {
                fl__feel_node_free(r);
                goto bad;
            }
            fl__fp_add_kid(r, hi);
            r->op = 1; /* iteration domain: counts in either direction */
            dom = r;
        }
        fl__fp_add_kid(n, dom);
        if (fl__fp_peek(p)->kind == TK_COMMA) {
            fl__fp_advance(p);
            continue;
        }
        break;
    }
    if (!fl__fp_is_word(fl__fp_peek(p), body_kw)) {
        char what[32];
        snprintf(what, sizeof(what), "'%s'", body_kw);
        fl__feel_node_free(n);
        return fl__fp_unexpected(p, what);
    }
    fl__fp_advance(p);
    struct feel_node *body = fl__fp_parse_expr(p);
    if (!body)
        goto bad;
    fl__fp_add_kid(n, body);
    return n;
bad:
    fl__feel_node_free(n);
    return NULL;
}

struct feel_node *fl__fp_parse_context(struct parser *p)
{
    struct feel_node *n = fl__fp_node_new(N_CTX, fl__fp_advance(p)->col);
    if (fl__fp_peek(p)->kind == TK_RBRACE) {
        fl__fp_advance(p);
        return n;
    }
    for (;;) {
        const struct feel_token *t = fl__fp_peek(p);
        if (t->kind == TK_STR) {
            fl__fp_add_name(n, t->text, t->textlen);
            fl__fp_advance(p);
        } else if (t->kind == TK_NAME) {
            /* keys may hold any characters FEEL names allow ("a-b", "x+y"): take the
             * source text up to the colon, with runs of white space collapsed */
            size_t start = t->off, end = t->off;
            while (fl__fp_peek(p)->kind != TK_COLON && fl__fp_peek(p)->kind != TK_EOF &&
                   fl__fp_peek(p)->kind != TK_RBRACE && fl__fp_peek(p)->kind != TK_COMMA) {
                end = fl__fp_peek(p)->off + fl__fp_peek(p)->len;
                fl__fp_advance(p);
            }
            struct fl_buf key = FL_BUF_INIT;
            bool sp = false;
            for (size_t i = start; i < end; i++) {
                char c = p->src[i];
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                    sp = true;
                    continue;
                }
                if (sp)
                    fl_buf_addc(&key, ' ');
                sp = false;
                fl_buf_addc(&key, c);
            }
            fl__fp_add_name(n, key.ptr, key.len);
            fl_buf_release(&key);
        } else {
            fl__feel_node_free(n);
            return fl__fp_unexpected(p, "a context key");
        }
        if (!fl__fp_expect(p, TK_COLON, "':'"))
            goto bad;
        struct feel_node *v = fl__fp_parse_expr(p);
        if (!v)
            goto bad;
        fl__fp_add_kid(n, v);
        if (fl__fp_peek(p)->kind == TK_COMMA) {
            fl__fp_advance(p);
            continue;
        }
        if (!fl__fp_expect(p, TK_RBRACE, "',' or '}'"))
            goto bad;
        return n;
    }
bad:
    fl__feel_node_free(n);
    return NULL;
}

struct feel_node *fl__fp_parse_funcdef(struct parser *p)
{
    struct feel_node *n = fl__fp_node_new(N_FUNCDEF, fl__fp_advance(p)->col);
    if (!fl__fp_expect(p, TK_LPAREN, "'('"))
        goto bad;
    if (fl__fp_peek(p)->kind != TK_RPAREN) {
        for (;;) {
            struct fl_buf name = FL_BUF_INIT;
            if (fl__fp_peek(p)->kind != TK_NAME) {
                fl__fp_unexpected(p, "a parameter name");
                goto bad;
            }
            fl__fp_collect_name(p, &name, true);
            fl__fp_add_name(n, name.ptr, name.len);
            fl_buf_release(&name);
            if (fl__fp_peek(p)->kind == TK_COLON) {
                fl__fp_advance(p);
                struct feel_node *ty = fl__fp_parse_type(p);
                if (!ty)
                    goto bad;
                fl__feel_node_free(ty); /* parameter types are not enforced */
            }
            if (fl__fp_peek(p)->kind == TK_COMMA) {
                fl__fp_advance(p);
                continue;
            }
            break;
        }
    }
    if (!fl__fp_expect(p, TK_RPAREN, "')'"))
        goto bad;
    if (fl__fp_is_word(fl__fp_peek(p), "external")) {
        fl__fp_fail_at(p, fl__fp_peek(p)->col, "external functions are not supported");
        goto bad;
    }
    struct feel_node *body = fl__fp_parse_expr(p);
    if (!body)
        goto bad;
    fl__fp_add_kid(n, body);
    return n;
bad:
    fl__feel_node_free(n);
    return NULL;
}

/* A range node of col with lower end lo (taken) and the given lower-bound flags. */
static struct feel_node *n_range(struct feel_node *lo, int col, int flags)
{
    struct feel_node *n = fl__fp_node_new(N_RANGE, col);
    n->flags = (uint8_t)flags;
    fl__fp_add_kid(n, lo);
    return n;
}

/* '..' current after range n's lower end: parse the upper end and the closing ']' (closed)
 * or ')' / '[' (open). Returns n, or NULL after freeing it (what: the closers expected). */
static struct feel_node *range_rest(struct parser *p, struct feel_node *n, const char *what)
{
    fl__fp_advance(p);
    struct feel_node *hi = fl__fp_parse_expr(p);
    if (!hi) {
        fl__feel_node_free(n);
        return NULL;
    }
    fl__fp_add_kid(n, hi);
    int k = fl__fp_peek(p)->kind;
    if (k == TK_RBRACK) {
        n->flags |= RANGE_HI_CLOSED;
    } else if (k != TK_RPAREN && k != TK_LBRACK) {
        fl__feel_node_free(n);
        return fl__fp_unexpected(p, what);
    }
    fl__fp_advance(p);
    return n;
}

/* After n's first item: add ", item" while a comma follows (item parses one), then expect
 * close. Returns n, or NULL after freeing it (what: the message if close is missing). */
static struct feel_node *items_rest(struct parser *p, struct feel_node *n,
                                    struct feel_node *(*item)(struct parser *), int close,
                                    const char *what)
{
    while (fl__fp_peek(p)->kind == TK_COMMA) {
        fl__fp_advance(p);
        struct feel_node *it = item(p);
        if (!it) {
            fl__feel_node_free(n);
            return NULL;
        }
        fl__fp_add_kid(n, it);
    }
    if (!fl__fp_expect(p, close, what)) {
        fl__feel_node_free(n);
        return NULL;
    }
    return n;
}

/* '(' already current: parenthesised expression, range "(a..b]", or test list "(< 5, 7)". */
struct feel_node *fl__fp_parse_paren(struct parser *p)
{
    int col = fl__fp_advance(p)->col;
    struct feel_node *first, *n;
    if (fl__fp_is_cmp(fl__fp_peek(p)->kind)) {
        first = fl__fp_parse_unary_test(p);
    } else {
        first = fl__fp_parse_expr(p);
    }
    if (!first)
        return NULL;
    if (fl__fp_peek(p)->kind == TK_DOTDOT && first->kind != N_TEST_CMP)
        return range_rest(p, n_range(first, col, 0), "')' or ']'");
    if (fl__fp_peek(p)->kind == TK_COMMA || first->kind == N_TEST_CMP) {
        n = fl__fp_node_new(N_TEST_LIST, col);
        fl__fp_add_kid(n, first);
        return items_rest(p, n, fl__fp_parse_unary_test, TK_RPAREN, "')'");
    }
    if (!fl__fp_expect(p, TK_RPAREN, "')'")) {
        fl__feel_node_free(first);
        return NULL;
    }
    return first;
}

/* '[' or ']' current: list "[a, b]" or range "[a..b)", "]a..b[". */
struct feel_node *fl__fp_parse_bracket(struct parser *p)
{
    const struct feel_token *open = fl__fp_advance(p);
    struct feel_node *n;
    if (open->kind == TK_LBRACK && fl__fp_peek(p)->kind == TK_RBRACK) {
        fl__fp_advance(p);
        return fl__fp_node_new(N_LIST, open->col);
    }
    struct feel_node *first = fl__fp_parse_expr(p);
    if (!first)
        return NULL;
    if (fl__fp_peek(p)->kind == TK_DOTDOT)
        return range_rest(p,
                          n_range(first, open->col, open->kind == TK_LBRACK ? RANGE_LO_CLOSED : 0),
                          "']', ')' or '['");
    if (open->kind != TK_LBRACK) {
        fl__feel_node_free(first);
        return fl__fp_unexpected(p, "'..'");
    }
    n = fl__fp_node_new(N_LIST, open->col);
    fl__fp_add_kid(n, first);
    return items_rest(p, n, fl__fp_parse_expr, TK_RBRACK, "',' or ']'");
}

