/* FEEL parser: recursive descent over the token array into struct feel_node trees, one
 * function per precedence level (or, and, comparison, additive, multiplicative, power,
 * unary, postfix, primary). FEEL names may contain spaces, so a name is the run of
 * consecutive words up to a keyword; the few built-in names that contain keywords ("date
 * and time", "index of") are recognised here. Errors carry the 1-based column. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/feel_impl.h"
#include "flowd/alloc.h"

#define FLAG_USES_Q 4

struct parser {
    const char *src;
    const struct feel_token *t;
    size_t n, pos;
    struct fl_error *err;
    int depth;
    int failed;
    bool saw_q;
};

static const char *const keywords[] = {"and", "or", "between", "in", "instance", "of",
                                       "return", "satisfies", "then", "else", "if", "for",
                                       "some", "every", "function", "true", "false", "null",
                                       NULL};

/* Built-in and type names that contain a keyword word. */
static const char *const compounds[] = {"date and time", "years and months duration",
                                        "days and time duration", "index of", "day of year",
                                        "day of week", "month of year", "week of year", NULL};

static const struct feel_token *peek(struct parser *p)
{
    return &p->t[p->pos];
}

static const struct feel_token *peek_at(struct parser *p, size_t k)
{
    size_t i = p->pos + k;
    return &p->t[i < p->n ? i : p->n - 1];
}

static const struct feel_token *advance(struct parser *p)
{
    const struct feel_token *t = &p->t[p->pos];
    if (t->kind != TK_EOF)
        p->pos++;
    return t;
}

static bool is_word(const struct feel_token *t, const char *w)
{
    return t->kind == TK_NAME && t->textlen == strlen(w) && memcmp(t->text, w, t->textlen) == 0;
}

static bool is_keyword(const struct feel_token *t)
{
    if (t->kind != TK_NAME)
        return false;
    for (int i = 0; keywords[i]; i++)
        if (is_word(t, keywords[i]))
            return true;
    return false;
}

static struct feel_node *fail_at(struct parser *p, int col, const char *msg)
{
    if (!p->failed) {
        p->failed = 1;
        fl_error_set(p->err, FL_EPARSE, "%s", msg);
        fl_error_at(p->err, NULL, 1, col);
    }
    return NULL;
}

static struct feel_node *unexpected(struct parser *p, const char *expect)
{
    const struct feel_token *t = peek(p);
    char what[80];
    if (t->kind == TK_EOF) {
        snprintf(what, sizeof(what), "unexpected end of expression, expected %s", expect);
    } else {
        size_t len = t->len < 40 ? t->len : 40;
        snprintf(what, sizeof(what), "unexpected '%.*s', expected %s", (int)len,
                 p->src + t->off, expect);
    }
    return fail_at(p, t->col, what);
}

static bool expect(struct parser *p, int kind, const char *what)
{
    if (peek(p)->kind != kind) {
        unexpected(p, what);
        return false;
    }
    advance(p);
    return true;
}

static struct feel_node *node_new(int kind, int col)
{
    struct feel_node *n = fl_calloc(1, sizeof(*n));
    n->kind = (uint8_t)kind;
    n->col = col;
    n->builtin = -1;
    return n;
}

static void add_kid(struct feel_node *n, struct feel_node *k)
{
    n->kids = fl_reallocarray(n->kids, n->nkids + 1, sizeof(*n->kids));
    n->kids[n->nkids++] = k;
}

static void add_name(struct feel_node *n, const char *s, size_t len)
{
    n->names = fl_reallocarray(n->names, n->nnames + 1, sizeof(*n->names));
    n->namelens = fl_reallocarray(n->namelens, n->nnames + 1, sizeof(*n->namelens));
    n->names[n->nnames] = fl_strndup(s, len);
    n->namelens[n->nnames++] = len;
}

void fl__feel_node_free(struct feel_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nkids; i++)
        fl__feel_node_free(n->kids[i]);
    for (size_t i = 0; i < n->nnames; i++)
        free(n->names[i]);
    free(n->kids);
    free(n->names);
    free(n->namelens);
    free(n->name);
    fl_value_free_frozen(n->lit);
    free(n);
}

static struct feel_node *lit_node(struct fl_value *v, int col)
{
    struct feel_node *n = node_new(N_LIT, col);
    fl_value_freeze(v);
    n->lit = v;
    return n;
}

/* Join the run of words starting at the current token into one name (see file comment).
 * stop_at_keywords is false for context keys and parameter names. */
static void collect_name(struct parser *p, struct fl_buf *name, bool stop_at_keywords)
{
    const struct feel_token *t = advance(p);
    fl_buf_add(name, t->text, t->textlen);
    for (;;) {
        const struct feel_token *nx = peek(p);
        if (nx->kind != TK_NAME)
            break;
        if (is_keyword(nx)) {
            /* a compound name such as "date and time" continues through the keyword */
            bool absorbed = false;
            for (int c = 0; compounds[c] && !absorbed; c++) {
                size_t cl = strlen(compounds[c]);
                if (cl <= name->len || memcmp(compounds[c], name->ptr, name->len) != 0 ||
                    compounds[c][name->len] != ' ')
                    continue;
                /* match the remaining words of the compound against the next tokens */
                const char *rest = compounds[c] + name->len + 1;
                size_t k = 0;
                bool ok = true;
                while (*rest) {
                    const char *sp = strchr(rest, ' ');
                    size_t wl = sp ? (size_t)(sp - rest) : strlen(rest);
                    const struct feel_token *w = peek_at(p, k);
                    if (w->kind != TK_NAME || w->textlen != wl || memcmp(w->text, rest, wl)) {
                        ok = false;
                        break;
                    }
                    k++;
                    rest += wl + (sp ? 1 : 0);
                }
                if (ok) {
                    for (size_t j = 0; j < k; j++) {
                        const struct feel_token *w = advance(p);
                        fl_buf_addc(name, ' ');
                        fl_buf_add(name, w->text, w->textlen);
                    }
                    absorbed = true;
                }
            }
            if (absorbed)
                continue;
            if (stop_at_keywords)
                break;
        }
        advance(p);
        fl_buf_addc(name, ' ');
        fl_buf_add(name, nx->text, nx->textlen);
    }
}

static struct feel_node *parse_expr(struct parser *p);
static struct feel_node *parse_add(struct parser *p);
static struct feel_node *parse_unary_test(struct parser *p);

static bool enter(struct parser *p)
{
    if (++p->depth > FEEL_MAX_DEPTH) {
        fail_at(p, peek(p)->col, "expression nested too deeply");
        return false;
    }
    return true;
}

static bool is_cmp(int k)
{
    return k == TK_EQ || k == TK_NE || k == TK_LT || k == TK_LE || k == TK_GT || k == TK_GE;
}

static struct feel_node *parse_type(struct parser *p)
{
    const struct feel_token *t = peek(p);
    struct fl_buf name = FL_BUF_INIT;
    struct feel_node *n;
    if (t->kind != TK_NAME)
        return unexpected(p, "a type name");
    n = node_new(N_TYPE, t->col);
    collect_name(p, &name, true);
    n->name = fl_buf_detach(&name, &n->namelen);
    if (peek(p)->kind == TK_LT) {
        advance(p);
        bool is_ctx = strcmp(n->name, "context") == 0;
        for (;;) {
            if (is_ctx) {
                struct fl_buf key = FL_BUF_INIT;
                if (peek(p)->kind != TK_NAME) {
                    fl_buf_release(&key);
                    fl__feel_node_free(n);
                    return unexpected(p, "a context key");
                }
                collect_name(p, &key, false);
                add_name(n, key.ptr, key.len);
                fl_buf_release(&key);
                if (!expect(p, TK_COLON, "':'"))
                    goto bad;
            }
            struct feel_node *arg = parse_type(p);
            if (!arg)
                goto bad;
            add_kid(n, arg);
            if (peek(p)->kind == TK_COMMA) {
                advance(p);
                continue;
            }
            break;
        }
        if (!expect(p, TK_GT, "'>'"))
            goto bad;
    }
    if (peek(p)->kind == TK_ARROW && strcmp(n->name, "function") == 0) {
        advance(p);
        struct feel_node *ret = parse_type(p);
        if (!ret)
            goto bad;
        add_kid(n, ret);
        n->flags = 1; /* last kid is the return type */
    }
    return n;
bad:
    fl__feel_node_free(n);
    return NULL;
}

/* "x in a, y in b" of for/some/every; ranges "1..3" allowed as domains. */
static struct feel_node *parse_iteration(struct parser *p, int kind, const char *body_kw)
{
    struct feel_node *n = node_new(kind, advance(p)->col);
    for (;;) {
        struct fl_buf name = FL_BUF_INIT;
        if (peek(p)->kind != TK_NAME || is_keyword(peek(p))) {
            fl__feel_node_free(n);
            return unexpected(p, "a variable name");
        }
        collect_name(p, &name, true);
        add_name(n, name.ptr, name.len);
        fl_buf_release(&name);
        if (!is_word(peek(p), "in")) {
            fl__feel_node_free(n);
            return unexpected(p, "'in'");
        }
        advance(p);
        struct feel_node *dom = parse_expr(p);
        if (!dom)
            goto bad;
        if (peek(p)->kind == TK_DOTDOT) {
            struct feel_node *r = node_new(N_RANGE, peek(p)->col);
            advance(p);
            r->flags = RANGE_LO_CLOSED | RANGE_HI_CLOSED;
            add_kid(r, dom);
            struct feel_node *hi = parse_expr(p);
            if (!hi) {
                fl__feel_node_free(r);
                goto bad;
            }
            add_kid(r, hi);
            r->op = 1; /* iteration domain: counts in either direction */
            dom = r;
        }
        add_kid(n, dom);
        if (peek(p)->kind == TK_COMMA) {
            advance(p);
            continue;
        }
        break;
    }
    if (!is_word(peek(p), body_kw)) {
        char what[32];
        snprintf(what, sizeof(what), "'%s'", body_kw);
        fl__feel_node_free(n);
        return unexpected(p, what);
    }
    advance(p);
    struct feel_node *body = parse_expr(p);
    if (!body)
        goto bad;
    add_kid(n, body);
    return n;
bad:
    fl__feel_node_free(n);
    return NULL;
}

static struct feel_node *parse_context(struct parser *p)
{
    struct feel_node *n = node_new(N_CTX, advance(p)->col);
    if (peek(p)->kind == TK_RBRACE) {
        advance(p);
        return n;
    }
    for (;;) {
        const struct feel_token *t = peek(p);
        if (t->kind == TK_STR) {
            add_name(n, t->text, t->textlen);
            advance(p);
        } else if (t->kind == TK_NAME) {
            /* keys may hold any characters FEEL names allow ("a-b", "x+y"): take the
             * source text up to the colon, with runs of white space collapsed */
            size_t start = t->off, end = t->off;
            while (peek(p)->kind != TK_COLON && peek(p)->kind != TK_EOF &&
                   peek(p)->kind != TK_RBRACE && peek(p)->kind != TK_COMMA) {
                end = peek(p)->off + peek(p)->len;
                advance(p);
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
            add_name(n, key.ptr, key.len);
            fl_buf_release(&key);
        } else {
            fl__feel_node_free(n);
            return unexpected(p, "a context key");
        }
        if (!expect(p, TK_COLON, "':'"))
            goto bad;
        struct feel_node *v = parse_expr(p);
        if (!v)
            goto bad;
        add_kid(n, v);
        if (peek(p)->kind == TK_COMMA) {
            advance(p);
            continue;
        }
        if (!expect(p, TK_RBRACE, "',' or '}'"))
            goto bad;
        return n;
    }
bad:
    fl__feel_node_free(n);
    return NULL;
}

static struct feel_node *parse_funcdef(struct parser *p)
{
    struct feel_node *n = node_new(N_FUNCDEF, advance(p)->col);
    if (!expect(p, TK_LPAREN, "'('"))
        goto bad;
    if (peek(p)->kind != TK_RPAREN) {
        for (;;) {
            struct fl_buf name = FL_BUF_INIT;
            if (peek(p)->kind != TK_NAME) {
                unexpected(p, "a parameter name");
                goto bad;
            }
            collect_name(p, &name, true);
            add_name(n, name.ptr, name.len);
            fl_buf_release(&name);
            if (peek(p)->kind == TK_COLON) {
                advance(p);
                struct feel_node *ty = parse_type(p);
                if (!ty)
                    goto bad;
                fl__feel_node_free(ty); /* parameter types are not enforced */
            }
            if (peek(p)->kind == TK_COMMA) {
                advance(p);
                continue;
            }
            break;
        }
    }
    if (!expect(p, TK_RPAREN, "')'"))
        goto bad;
    if (is_word(peek(p), "external")) {
        fail_at(p, peek(p)->col, "external functions are not supported");
        goto bad;
    }
    struct feel_node *body = parse_expr(p);
    if (!body)
        goto bad;
    add_kid(n, body);
    return n;
bad:
    fl__feel_node_free(n);
    return NULL;
}

/* '(' already current: parenthesised expression, range "(a..b]", or test list "(< 5, 7)". */
static struct feel_node *parse_paren(struct parser *p)
{
    int col = advance(p)->col;
    struct feel_node *first, *n;
    if (is_cmp(peek(p)->kind)) {
        first = parse_unary_test(p);
    } else {
        first = parse_expr(p);
    }
    if (!first)
        return NULL;
    if (peek(p)->kind == TK_DOTDOT && first->kind != N_TEST_CMP) {
        advance(p);
        n = node_new(N_RANGE, col);
        add_kid(n, first);
        struct feel_node *hi = parse_expr(p);
        if (!hi) {
            fl__feel_node_free(n);
            return NULL;
        }
        add_kid(n, hi);
        if (peek(p)->kind == TK_RBRACK) {
            n->flags |= RANGE_HI_CLOSED;
        } else if (peek(p)->kind != TK_RPAREN && peek(p)->kind != TK_LBRACK) {
            fl__feel_node_free(n);
            return unexpected(p, "')' or ']'");
        }
        advance(p);
        return n;
    }
    if (peek(p)->kind == TK_COMMA || first->kind == N_TEST_CMP) {
        n = node_new(N_TEST_LIST, col);
        add_kid(n, first);
        while (peek(p)->kind == TK_COMMA) {
            advance(p);
            struct feel_node *t = parse_unary_test(p);
            if (!t) {
                fl__feel_node_free(n);
                return NULL;
            }
            add_kid(n, t);
        }
        if (!expect(p, TK_RPAREN, "')'")) {
            fl__feel_node_free(n);
            return NULL;
        }
        return n;
    }
    if (!expect(p, TK_RPAREN, "')'")) {
        fl__feel_node_free(first);
        return NULL;
    }
    return first;
}

/* '[' or ']' current: list "[a, b]" or range "[a..b)", "]a..b[". */
static struct feel_node *parse_bracket(struct parser *p)
{
    const struct feel_token *open = advance(p);
    struct feel_node *n;
    if (open->kind == TK_LBRACK && peek(p)->kind == TK_RBRACK) {
        advance(p);
        return node_new(N_LIST, open->col);
    }
    struct feel_node *first = parse_expr(p);
    if (!first)
        return NULL;
    if (peek(p)->kind == TK_DOTDOT) {
        advance(p);
        n = node_new(N_RANGE, open->col);
        n->flags = open->kind == TK_LBRACK ? RANGE_LO_CLOSED : 0;
        add_kid(n, first);
        struct feel_node *hi = parse_expr(p);
        if (!hi) {
            fl__feel_node_free(n);
            return NULL;
        }
        add_kid(n, hi);
        int k = peek(p)->kind;
        if (k == TK_RBRACK)
            n->flags |= RANGE_HI_CLOSED;
        else if (k != TK_RPAREN && k != TK_LBRACK) {
            fl__feel_node_free(n);
            return unexpected(p, "']', ')' or '['");
        }
        advance(p);
        return n;
    }
    if (open->kind != TK_LBRACK) {
        fl__feel_node_free(first);
        return unexpected(p, "'..'");
    }
    n = node_new(N_LIST, open->col);
    add_kid(n, first);
    while (peek(p)->kind == TK_COMMA) {
        advance(p);
        struct feel_node *it = parse_expr(p);
        if (!it) {
            fl__feel_node_free(n);
            return NULL;
        }
        add_kid(n, it);
    }
    if (!expect(p, TK_RBRACK, "',' or ']'")) {
        fl__feel_node_free(n);
        return NULL;
    }
    return n;
}

static struct feel_node *parse_primary(struct parser *p)
{
    const struct feel_token *t = peek(p);
    struct fl_value *v;
    switch (t->kind) {
    case TK_NUM:
        advance(p);
        if (fl_value_number_parse(p->src + t->off, t->len, &v))
            return fail_at(p, t->col, "number out of range");
        return lit_node(v, t->col);
    case TK_STR:
        advance(p);
        return lit_node(fl__value_string(t->text, t->textlen), t->col);
    case TK_AT:
        advance(p);
        if (fl__feel_parse_temporal(t->text, t->textlen, &v))
        {
            char msg[160];
            snprintf(msg, sizeof(msg), "invalid temporal literal @\"%.100s\"", t->text);
            return fail_at(p, t->col, msg);
        }
        return lit_node(v, t->col);
    case TK_LPAREN:
        return parse_paren(p);
    case TK_LBRACK:
    case TK_RBRACK:
        return parse_bracket(p);
    case TK_LBRACE:
        return parse_context(p);
    case TK_LT:
    case TK_LE:
    case TK_GT:
    case TK_GE: {
        /* a unary comparison as a value: "< 10" is the range (..10) */
        int op = advance(p)->kind;
        struct feel_node *e = parse_add(p);
        if (!e)
            return NULL;
        struct feel_node *r = node_new(N_RANGE, t->col);
        if (op == TK_LT || op == TK_LE) {
            add_kid(r, NULL);
            add_kid(r, e);
            r->flags = op == TK_LE ? RANGE_HI_CLOSED : 0;
        } else {
            add_kid(r, e);
            add_kid(r, NULL);
            r->flags = op == TK_GE ? RANGE_LO_CLOSED : 0;
        }
        return r;
    }
    case TK_NAME:
        break;
    default:
        return unexpected(p, "an expression");
    }
    if (is_word(t, "true") || is_word(t, "false")) {
        advance(p);
        return lit_node(fl_value_bool(is_word(t, "true")), t->col);
    }
    if (is_word(t, "null")) {
        advance(p);
        return lit_node(fl_value_null(), t->col);
    }
    if (is_word(t, "if")) {
        struct feel_node *n = node_new(N_IF, advance(p)->col), *k;
        if (!(k = parse_expr(p)))
            goto bad_if;
        add_kid(n, k);
        if (!is_word(peek(p), "then")) {
            unexpected(p, "'then'");
            goto bad_if;
        }
        advance(p);
        if (!(k = parse_expr(p)))
            goto bad_if;
        add_kid(n, k);
        if (!is_word(peek(p), "else")) {
            unexpected(p, "'else'");
            goto bad_if;
        }
        advance(p);
        if (!(k = parse_expr(p)))
            goto bad_if;
        add_kid(n, k);
        return n;
    bad_if:
        fl__feel_node_free(n);
        return NULL;
    }
    if (is_word(t, "for"))
        return parse_iteration(p, N_FOR, "return");
    if (is_word(t, "some"))
        return parse_iteration(p, N_SOME, "satisfies");
    if (is_word(t, "every"))
        return parse_iteration(p, N_EVERY, "satisfies");
    if (is_word(t, "function") && peek_at(p, 1)->kind == TK_LPAREN)
        return parse_funcdef(p);
    if (is_keyword(t))
        return unexpected(p, "an expression");
    struct fl_buf name = FL_BUF_INIT;
    struct feel_node *n = node_new(N_NAME, t->col);
    collect_name(p, &name, true);
    n->name = fl_buf_detach(&name, &n->namelen);
    if (n->namelen == 1 && n->name[0] == '?')
        p->saw_q = true;
    n->builtin = fl__feel_builtin_find(n->name, n->namelen);
    return n;
}

static struct feel_node *parse_call(struct parser *p, struct feel_node *callee)
{
    struct feel_node *n = node_new(N_CALL, advance(p)->col);
    add_kid(n, callee);
    n->builtin = callee->kind == N_NAME ? callee->builtin : -1;
    if (peek(p)->kind != TK_RPAREN) {
        /* named arguments: name ':' expr */
        bool named = false;
        {
            size_t k = 0;
            while (peek_at(p, k)->kind == TK_NAME)
                k++;
            named = k > 0 && peek_at(p, k)->kind == TK_COLON;
        }
        for (;;) {
            if (named) {
                struct fl_buf name = FL_BUF_INIT;
                if (peek(p)->kind != TK_NAME) {
                    unexpected(p, "a parameter name");
                    goto bad;
                }
                collect_name(p, &name, false);
                add_name(n, name.ptr, name.len);
                fl_buf_release(&name);
                if (!expect(p, TK_COLON, "':'"))
                    goto bad;
            }
            struct feel_node *a = parse_expr(p);
            if (!a)
                goto bad;
            add_kid(n, a);
            if (peek(p)->kind == TK_COMMA) {
                advance(p);
                continue;
            }
            break;
        }
    }
    if (!expect(p, TK_RPAREN, "',' or ')'"))
        goto bad;
    return n;
bad:
    fl__feel_node_free(n);
    return NULL;
}

/* Whether the token after a '[' shows that bracket ends a range ("[1..10[") rather than
 * opening a filter. */
static bool closes_range(const struct feel_token *next)
{
    static const char *const stop[] = {"and", "or", "then", "else", "return", "satisfies",
                                       "in", "between", "instance", NULL};
    if (next->kind == TK_EOF || next->kind == TK_RPAREN || next->kind == TK_RBRACK ||
        next->kind == TK_COMMA || next->kind == TK_RBRACE || next->kind == TK_EQ ||
        next->kind == TK_NE)
        return true;
    for (int i = 0; stop[i]; i++)
        if (is_word(next, stop[i]))
            return true;
    return false;
}

static struct feel_node *parse_postfix(struct parser *p)
{
    struct feel_node *n = parse_primary(p);
    while (n) {
        const struct feel_token *t = peek(p);
        if (t->kind == TK_DOT) {
            advance(p);
            if (peek(p)->kind != TK_NAME) {
                fl__feel_node_free(n);
                return unexpected(p, "a name after '.'");
            }
            struct feel_node *path = node_new(N_PATH, t->col);
            struct fl_buf name = FL_BUF_INIT;
            collect_name(p, &name, true);
            path->name = fl_buf_detach(&name, &path->namelen);
            add_kid(path, n);
            n = path;
        } else if (t->kind == TK_LBRACK && !closes_range(peek_at(p, 1))) {
            advance(p);
            struct feel_node *f = node_new(N_FILTER, t->col);
            add_kid(f, n);
            struct feel_node *cond = parse_expr(p);
            if (!cond) {
                fl__feel_node_free(f);
                return NULL;
            }
            add_kid(f, cond);
            n = f;
            if (!expect(p, TK_RBRACK, "']'")) {
                fl__feel_node_free(n);
                return NULL;
            }
        } else if (t->kind == TK_LPAREN) {
            n = parse_call(p, n);
        } else {
            break;
        }
    }
    return n;
}

static struct feel_node *parse_unary(struct parser *p)
{
    const struct feel_token *t = peek(p);
    if (t->kind == TK_MINUS) {
        advance(p);
        if (!enter(p))
            return NULL;
        struct feel_node *k = parse_unary(p);
        p->depth--;
        if (!k)
            return NULL;
        if (k->kind == N_LIT && fl_value_type(k->lit) == FL_VNUMBER) {
            /* fold "-5" into a constant */
            k->lit->u.num.neg = k->lit->u.num.coef ? !k->lit->u.num.neg : false;
            return k;
        }
        struct feel_node *n = node_new(N_NEG, t->col);
        add_kid(n, k);
        return n;
    }
    return parse_postfix(p);
}

static struct feel_node *binary(int kind, int op, int col, struct feel_node *a,
                                struct feel_node *b)
{
    struct feel_node *n = node_new(kind, col);
    n->op = (uint8_t)op;
    add_kid(n, a);
    add_kid(n, b);
    return n;
}

/* "loan-to-value" is a subtraction or a name: FEEL decides by what is defined at run time.
 * When the operator touches two names, remember the joined name so evaluation can prefer
 * a variable of that name. */
static void maybe_compound(struct feel_node *n, const struct feel_token *op,
                           const struct feel_token *after)
{
    const struct feel_node *a = n->kids[0], *b = n->kids[1];
    if (op->space_before || after->space_before || !a->name || b->kind != N_NAME ||
        (a->kind != N_NAME && a->kind != N_BIN))
        return;
    const char *ops = op->kind == TK_MINUS ? "-" : op->kind == TK_PLUS ? "+"
                    : op->kind == TK_STAR  ? "*" : "/";
    n->namelen = a->namelen + 1 + b->namelen;
    n->name = fl_malloc(n->namelen + 1);
    memcpy(n->name, a->name, a->namelen);
    n->name[a->namelen] = ops[0];
    memcpy(n->name + a->namelen + 1, b->name, b->namelen + 1);
}

static struct feel_node *parse_pow(struct parser *p)
{
    struct feel_node *a = parse_unary(p);
    while (a && peek(p)->kind == TK_POW) {
        const struct feel_token *t = advance(p);
        struct feel_node *b = parse_unary(p);
        if (!b) {
            fl__feel_node_free(a);
            return NULL;
        }
        a = binary(N_BIN, TK_POW, t->col, a, b);
    }
    return a;
}

static struct feel_node *parse_mul(struct parser *p)
{
    struct feel_node *a = parse_pow(p);
    while (a && (peek(p)->kind == TK_STAR || peek(p)->kind == TK_SLASH)) {
        const struct feel_token *t = advance(p), *after = peek(p);
        struct feel_node *b = parse_pow(p);
        if (!b) {
            fl__feel_node_free(a);
            return NULL;
        }
        a = binary(N_BIN, t->kind, t->col, a, b);
        maybe_compound(a, t, after);
    }
    return a;
}

static struct feel_node *parse_add(struct parser *p)
{
    struct feel_node *a;
    if (!enter(p))
        return NULL;
    a = parse_mul(p);
    while (a && (peek(p)->kind == TK_PLUS || peek(p)->kind == TK_MINUS)) {
        const struct feel_token *t = advance(p), *after = peek(p);
        struct feel_node *b = parse_mul(p);
        if (!b) {
            fl__feel_node_free(a);
            a = NULL;
            break;
        }
        a = binary(N_BIN, t->kind, t->col, a, b);
        maybe_compound(a, t, after);
    }
    p->depth--;
    return a;
}

/* One positive unary test: "< 5", "= x", or an expression (flagged when it uses '?'). */
static struct feel_node *parse_unary_test(struct parser *p)
{
    const struct feel_token *t = peek(p);
    struct feel_node *n = node_new(N_TEST_CMP, t->col), *e;
    bool saved = p->saw_q;
    if (is_cmp(t->kind)) {
        advance(p);
        n->op = t->kind;
        e = parse_add(p);
    } else {
        p->saw_q = false;
        e = parse_expr(p);
        if (p->saw_q)
            n->flags |= FLAG_USES_Q;
        p->saw_q = p->saw_q || saved;
    }
    if (!e) {
        fl__feel_node_free(n);
        return NULL;
    }
    add_kid(n, e);
    return n;
}

static struct feel_node *parse_cmp(struct parser *p)
{
    struct feel_node *a = parse_add(p);
    while (a) {
        const struct feel_token *t = peek(p);
        if (is_cmp(t->kind)) {
            advance(p);
            struct feel_node *b = parse_add(p);
            if (!b)
                goto bad;
            a = binary(N_BIN, t->kind, t->col, a, b);
        } else if (is_word(t, "between")) {
            advance(p);
            struct feel_node *n = node_new(N_BETWEEN, t->col), *k;
            add_kid(n, a);
            a = n;
            if (!(k = parse_add(p)))
                goto bad;
            add_kid(n, k);
            if (!is_word(peek(p), "and")) {
                unexpected(p, "'and'");
                goto bad;
            }
            advance(p);
            if (!(k = parse_add(p)))
                goto bad;
            add_kid(n, k);
        } else if (is_word(t, "in")) {
            advance(p);
            struct feel_node *test;
            if (is_cmp(peek(p)->kind))
                test = parse_unary_test(p);
            else
                test = parse_add(p);
            if (!test)
                goto bad;
            a = binary(N_IN, 0, t->col, a, test);
        } else if (is_word(t, "instance") && is_word(peek_at(p, 1), "of")) {
            advance(p);
            advance(p);
            struct feel_node *ty = parse_type(p);
            if (!ty)
                goto bad;
            a = binary(N_INSTANCE, 0, t->col, a, ty);
        } else {
            break;
        }
    }
    return a;
bad:
    fl__feel_node_free(a);
    return NULL;
}

static struct feel_node *parse_and(struct parser *p)
{
    struct feel_node *a = parse_cmp(p);
    while (a && is_word(peek(p), "and")) {
        const struct feel_token *t = advance(p);
        struct feel_node *b = parse_cmp(p);
        if (!b) {
            fl__feel_node_free(a);
            return NULL;
        }
        a = binary(N_AND, 0, t->col, a, b);
    }
    return a;
}

static struct feel_node *parse_expr(struct parser *p)
{
    struct feel_node *a;
    if (!enter(p))
        return NULL;
    a = parse_and(p);
    while (a && is_word(peek(p), "or")) {
        const struct feel_token *t = advance(p);
        struct feel_node *b = parse_and(p);
        if (!b) {
            fl__feel_node_free(a);
            a = NULL;
            break;
        }
        a = binary(N_OR, 0, t->col, a, b);
    }
    p->depth--;
    return a;
}

static struct feel_node *parse_unary_tests(struct parser *p)
{
    const struct feel_token *t = peek(p);
    struct feel_node *n;
    if (t->kind == TK_MINUS && peek_at(p, 1)->kind == TK_EOF) {
        advance(p);
        return node_new(N_TEST_ANY, t->col);
    }
    bool negate = is_word(t, "not") && peek_at(p, 1)->kind == TK_LPAREN;
    if (negate) {
        advance(p);
        advance(p);
    }
    n = node_new(negate ? N_TEST_NOT : N_TEST_LIST, t->col);
    for (;;) {
        struct feel_node *k = parse_unary_test(p);
        if (!k) {
            fl__feel_node_free(n);
            return NULL;
        }
        add_kid(n, k);
        if (peek(p)->kind != TK_COMMA)
            break;
        advance(p);
    }
    if (negate && !expect(p, TK_RPAREN, "')'")) {
        fl__feel_node_free(n);
        return NULL;
    }
    return n;
}

int fl__feel_parse(const char *src, const struct feel_lexer_out *lx, bool unary,
                   struct feel_node **out, struct fl_error *err)
{
    struct parser p = {src, lx->toks, lx->n, 0, err, 0, 0, false};
    struct feel_node *n;
    if (lx->toks[0].kind == TK_EOF) {
        fl_error_set(err, FL_EPARSE, "empty expression");
        fl_error_at(err, NULL, 1, 1);
        return FL_EPARSE;
    }
    n = unary ? parse_unary_tests(&p) : parse_expr(&p);
    if (n && peek(&p)->kind != TK_EOF) {
        unexpected(&p, unary ? "',' or end of unary tests" : "an operator or end of expression");
        fl__feel_node_free(n);
        n = NULL;
    }
    if (!n) {
        if (!p.failed) {
            fl_error_set(err, FL_EPARSE, "invalid expression");
            fl_error_at(err, NULL, 1, 1);
        }
        return FL_EPARSE;
    }
    *out = n;
    return 0;
}
