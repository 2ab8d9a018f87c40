/* FEEL parser: recursive descent over the token array into struct feel_node trees, one
 * function per precedence level (or, and, comparison, additive, multiplicative, power,
 * unary, postfix, primary). FEEL names may contain spaces, so a name is the run of
 * consecutive words up to a keyword; the few built-in names that contain keywords ("date
 * and time", "index of") are recognised here. Errors carry the 1-based column. The
 * bracketed and keyword-led forms live in feel_parse_forms.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/feel_impl.h"
#include "core/feel_parse_impl.h"
#include "flowd/alloc.h"



static const char *const keywords[] = {"and", "or", "between", "in", "instance", "of",
                                       "return", "satisfies", "then", "else", "if", "for",
                                       "some", "every", "function", "true", "false", "null",
                                       NULL};

/* Built-in and type names that contain a keyword word. */
static const char *const compounds[] = {"date and time", "years and months duration",
                                        "days and time duration", "index of", "day of year",
                                        "day of week", "month of year", "week of year", NULL};

const struct feel_token *fl__fp_peek(struct parser *p)
{
    return &p->t[p->pos];
}

const struct feel_token *fl__fp_peek_at(struct parser *p, size_t k)
{
    size_t i = p->pos + k;
    return &p->t[i < p->n ? i : p->n - 1];
}

const struct feel_token *fl__fp_advance(struct parser *p)
{
    const struct feel_token *t = &p->t[p->pos];
    if (t->kind != TK_EOF)
        p->pos++;
    return t;
}

bool fl__fp_is_word(const struct feel_token *t, const char *w)
{
    return t->kind == TK_NAME && t->textlen == strlen(w) && memcmp(t->text, w, t->textlen) == 0;
}

bool fl__fp_is_keyword(const struct feel_token *t)
{
    if (t->kind != TK_NAME)
        return false;
    for (int i = 0; keywords[i]; i++)
        if (fl__fp_is_word(t, keywords[i]))
            return true;
    return false;
}

struct feel_node *fl__fp_fail_at(struct parser *p, int col, const char *msg)
{
    if (!p->failed) {
        p->failed = 1;
        fl_error_set(p->err, FL_EPARSE, "%s", msg);
        fl_error_at(p->err, NULL, 1, col);
    }
    return NULL;
}

struct feel_node *fl__fp_unexpected(struct parser *p, const char *expect)
{
    const struct feel_token *t = fl__fp_peek(p);
    char what[80];
    if (t->kind == TK_EOF) {
        snprintf(what, sizeof(what), "unexpected end of expression, expected %s", expect);
    } else {
        size_t len = t->len < 40 ? t->len : 40;
        snprintf(what, sizeof(what), "unexpected '%.*s', expected %s", (int)len,
                 p->src + t->off, expect);
    }
    return fl__fp_fail_at(p, t->col, what);
}

bool fl__fp_expect(struct parser *p, int kind, const char *what)
{
    if (fl__fp_peek(p)->kind != kind) {
        fl__fp_unexpected(p, what);
        return false;
    }
    fl__fp_advance(p);
    return true;
}

struct feel_node *fl__fp_node_new(int kind, int col)
{
    struct feel_node *n = fl_calloc(1, sizeof(*n));
    n->kind = (uint8_t)kind;
    n->col = col;
    n->builtin = -1;
    return n;
}

void fl__fp_add_kid(struct feel_node *n, struct feel_node *k)
{
    n->kids = fl_reallocarray(n->kids, n->nkids + 1, sizeof(*n->kids));
    n->kids[n->nkids++] = k;
}

void fl__fp_add_name(struct feel_node *n, const char *s, size_t len)
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

struct feel_node *fl__fp_lit_node(struct fl_value *v, int col)
{
    struct feel_node *n = fl__fp_node_new(N_LIT, col);
    fl_value_freeze(v);
    n->lit = v;
    return n;
}

/* Join the run of words starting at the current token into one name (see file comment).
 * stop_at_keywords is false for context keys and parameter names. */
void fl__fp_collect_name(struct parser *p, struct fl_buf *name, bool stop_at_keywords)
{
    const struct feel_token *t = fl__fp_advance(p);
    fl_buf_add(name, t->text, t->textlen);
    for (;;) {
        const struct feel_token *nx = fl__fp_peek(p);
        if (nx->kind != TK_NAME)
            break;
        if (fl__fp_is_keyword(nx)) {
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
                    const struct feel_token *w = fl__fp_peek_at(p, k);
                    if (w->kind != TK_NAME || w->textlen != wl || memcmp(w->text, rest, wl)) {
                        ok = false;
                        break;
                    }
                    k++;
                    rest += wl + (sp ? 1 : 0);
                }
                if (ok) {
                    for (size_t j = 0; j < k; j++) {
                        const struct feel_token *w = fl__fp_advance(p);
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
        fl__fp_advance(p);
        fl_buf_addc(name, ' ');
        fl_buf_add(name, nx->text, nx->textlen);
    }
}


bool fl__fp_enter(struct parser *p)
{
    if (++p->depth > FEEL_MAX_DEPTH) {
        fl__fp_fail_at(p, fl__fp_peek(p)->col, "expression nested too deeply");
        return false;
    }
    return true;
}

bool fl__fp_is_cmp(int k)
{
    return k == TK_EQ || k == TK_NE || k == TK_LT || k == TK_LE || k == TK_GT || k == TK_GE;
}

static struct feel_node *parse_primary(struct parser *p)
{
    const struct feel_token *t = fl__fp_peek(p);
    struct fl_value *v;
    switch (t->kind) {
    case TK_NUM:
        fl__fp_advance(p);
        if (fl_value_number_parse(p->src + t->off, t->len, &v))
            return fl__fp_fail_at(p, t->col, "number out of range");
        return fl__fp_lit_node(v, t->col);
    case TK_STR:
        fl__fp_advance(p);
        return fl__fp_lit_node(fl__value_string(t->text, t->textlen), t->col);
    case TK_AT:
        fl__fp_advance(p);
        if (fl__feel_parse_temporal(t->text, t->textlen, &v))
        {
            char msg[160];
            snprintf(msg, sizeof(msg), "invalid temporal literal @\"%.100s\"", t->text);
            return fl__fp_fail_at(p, t->col, msg);
        }
        return fl__fp_lit_node(v, t->col);
    case TK_LPAREN:
        return fl__fp_parse_paren(p);
    case TK_LBRACK:
    case TK_RBRACK:
        return fl__fp_parse_bracket(p);
    case TK_LBRACE:
        return fl__fp_parse_context(p);
    case TK_LT:
    case TK_LE:
    case TK_GT:
    case TK_GE: {
        /* a unary comparison as a value: "< 10" is the range (..10) */
        int op = fl__fp_advance(p)->kind;
        struct feel_node *e = fl__fp_parse_add(p);
        if (!e)
            return NULL;
        struct feel_node *r = fl__fp_node_new(N_RANGE, t->col);
        if (op == TK_LT || op == TK_LE) {
            fl__fp_add_kid(r, NULL);
            fl__fp_add_kid(r, e);
            r->flags = op == TK_LE ? RANGE_HI_CLOSED : 0;
        } else {
            fl__fp_add_kid(r, e);
            fl__fp_add_kid(r, NULL);
            r->flags = op == TK_GE ? RANGE_LO_CLOSED : 0;
        }
        return r;
    }
    case TK_NAME:
        break;
    default:
        return fl__fp_unexpected(p, "an expression");
    }
    if (fl__fp_is_word(t, "true") || fl__fp_is_word(t, "false")) {
        fl__fp_advance(p);
        return fl__fp_lit_node(fl_value_bool(fl__fp_is_word(t, "true")), t->col);
    }
    if (fl__fp_is_word(t, "null")) {
        fl__fp_advance(p);
        return fl__fp_lit_node(fl_value_null(), t->col);
    }
    if (fl__fp_is_word(t, "if")) {
        struct feel_node *n = fl__fp_node_new(N_IF, fl__fp_advance(p)->col), *k;
        if (!(k = fl__fp_parse_expr(p)))
            goto bad_if;
        fl__fp_add_kid(n, k);
        if (!fl__fp_is_word(fl__fp_peek(p), "then")) {
            fl__fp_unexpected(p, "'then'");
            goto bad_if;
        }
        fl__fp_advance(p);
        if (!(k = fl__fp_parse_expr(p)))
            goto bad_if;
        fl__fp_add_kid(n, k);
        if (!fl__fp_is_word(fl__fp_peek(p), "else")) {
            fl__fp_unexpected(p, "'else'");
            goto bad_if;
        }
        fl__fp_advance(p);
        if (!(k = fl__fp_parse_expr(p)))
            goto bad_if;
        fl__fp_add_kid(n, k);
        return n;
    bad_if:
        fl__feel_node_free(n);
        return NULL;
    }
    if (fl__fp_is_word(t, "for"))
        return fl__fp_parse_iteration(p, N_FOR, "return");
    if (fl__fp_is_word(t, "some"))
        return fl__fp_parse_iteration(p, N_SOME, "satisfies");
    if (fl__fp_is_word(t, "every"))
        return fl__fp_parse_iteration(p, N_EVERY, "satisfies");
    if (fl__fp_is_word(t, "function") && fl__fp_peek_at(p, 1)->kind == TK_LPAREN)
        return fl__fp_parse_funcdef(p);
    if (fl__fp_is_keyword(t))
        return fl__fp_unexpected(p, "an expression");
    struct fl_buf name = FL_BUF_INIT;
    struct feel_node *n = fl__fp_node_new(N_NAME, t->col);
    fl__fp_collect_name(p, &name, true);
    n->name = fl_buf_detach(&name, &n->namelen);
    if (n->namelen == 1 && n->name[0] == '?')
        p->saw_q = true;
    n->builtin = fl__feel_builtin_find(n->name, n->namelen);
    return n;
}

static struct feel_node *parse_call(struct parser *p, struct feel_node *callee)
{
    struct feel_node *n = fl__fp_node_new(N_CALL, fl__fp_advance(p)->col);
    fl__fp_add_kid(n, callee);
    n->builtin = callee->kind == N_NAME ? callee->builtin : -1;
    if (fl__fp_peek(p)->kind != TK_RPAREN) {
        /* named arguments: name ':' expr */
        bool named = false;
        {
            size_t k = 0;
            while (fl__fp_peek_at(p, k)->kind == TK_NAME)
                k++;
            named = k > 0 && fl__fp_peek_at(p, k)->kind == TK_COLON;
        }
        for (;;) {
            if (named) {
                struct fl_buf name = FL_BUF_INIT;
                if (fl__fp_peek(p)->kind != TK_NAME) {
                    fl__fp_unexpected(p, "a parameter name");
                    goto bad;
                }
                fl__fp_collect_name(p, &name, false);
                fl__fp_add_name(n, name.ptr, name.len);
                fl_buf_release(&name);
                if (!fl__fp_expect(p, TK_COLON, "':'"))
                    goto bad;
            }
            struct feel_node *a = fl__fp_parse_expr(p);
            if (!a)
                goto bad;
            fl__fp_add_kid(n, a);
            if (fl__fp_peek(p)->kind == TK_COMMA) {
                fl__fp_advance(p);
                continue;
            }
            break;
        }
    }
    if (!fl__fp_expect(p, TK_RPAREN, "',' or ')'"))
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
        if (fl__fp_is_word(next, stop[i]))
            return true;
    return false;
}

static struct feel_node *parse_postfix(struct parser *p)
{
    struct feel_node *n = parse_primary(p);
    while (n) {
        const struct feel_token *t = fl__fp_peek(p);
        if (t->kind == TK_DOT) {
            fl__fp_advance(p);
            if (fl__fp_peek(p)->kind != TK_NAME) {
                fl__feel_node_free(n);
                return fl__fp_unexpected(p, "a name after '.'");
            }
            struct feel_node *path = fl__fp_node_new(N_PATH, t->col);
            struct fl_buf name = FL_BUF_INIT;
            fl__fp_collect_name(p, &name, true);
            path->name = fl_buf_detach(&name, &path->namelen);
            fl__fp_add_kid(path, n);
            n = path;
        } else if (t->kind == TK_LBRACK && !closes_range(fl__fp_peek_at(p, 1))) {
            fl__fp_advance(p);
            struct feel_node *f = fl__fp_node_new(N_FILTER, t->col);
            fl__fp_add_kid(f, n);
            struct feel_node *cond = fl__fp_parse_expr(p);
            if (!cond) {
                fl__feel_node_free(f);
                return NULL;
            }
            fl__fp_add_kid(f, cond);
            n = f;
            if (!fl__fp_expect(p, TK_RBRACK, "']'")) {
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
    const struct feel_token *t = fl__fp_peek(p);
    if (t->kind == TK_MINUS) {
        fl__fp_advance(p);
        if (!fl__fp_enter(p))
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
        struct feel_node *n = fl__fp_node_new(N_NEG, t->col);
        fl__fp_add_kid(n, k);
        return n;
    }
    return parse_postfix(p);
}

static struct feel_node *binary(int kind, int op, int col, struct feel_node *a,
                                struct feel_node *b)
{
    struct feel_node *n = fl__fp_node_new(kind, col);
    n->op = (uint8_t)op;
    fl__fp_add_kid(n, a);
    fl__fp_add_kid(n, b);
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
    while (a && fl__fp_peek(p)->kind == TK_POW) {
        const struct feel_token *t = fl__fp_advance(p);
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
    while (a && (fl__fp_peek(p)->kind == TK_STAR || fl__fp_peek(p)->kind == TK_SLASH)) {
        const struct feel_token *t = fl__fp_advance(p), *after = fl__fp_peek(p);
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

struct feel_node *fl__fp_parse_add(struct parser *p)
{
    struct feel_node *a;
    if (!fl__fp_enter(p))
        return NULL;
    a = parse_mul(p);
    while (a && (fl__fp_peek(p)->kind == TK_PLUS || fl__fp_peek(p)->kind == TK_MINUS)) {
        const struct feel_token *t = fl__fp_advance(p), *after = fl__fp_peek(p);
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
struct feel_node *fl__fp_parse_unary_test(struct parser *p)
{
    const struct feel_token *t = fl__fp_peek(p);
    struct feel_node *n = fl__fp_node_new(N_TEST_CMP, t->col), *e;
    bool saved = p->saw_q;
    if (fl__fp_is_cmp(t->kind)) {
        fl__fp_advance(p);
        n->op = t->kind;
        e = fl__fp_parse_add(p);
    } else {
        p->saw_q = false;
        e = fl__fp_parse_expr(p);
        if (p->saw_q)
            n->flags |= FLAG_USES_Q;
        p->saw_q = p->saw_q || saved;
    }
    if (!e) {
        fl__feel_node_free(n);
        return NULL;
    }
    fl__fp_add_kid(n, e);
    return n;
}

static struct feel_node *parse_cmp(struct parser *p)
{
    struct feel_node *a = fl__fp_parse_add(p);
    while (a) {
        const struct feel_token *t = fl__fp_peek(p);
        if (fl__fp_is_cmp(t->kind)) {
            fl__fp_advance(p);
            struct feel_node *b = fl__fp_parse_add(p);
            if (!b)
                goto bad;
            a = binary(N_BIN, t->kind, t->col, a, b);
        } else if (fl__fp_is_word(t, "between")) {
            fl__fp_advance(p);
            struct feel_node *n = fl__fp_node_new(N_BETWEEN, t->col), *k;
            fl__fp_add_kid(n, a);
            a = n;
            if (!(k = fl__fp_parse_add(p)))
                goto bad;
            fl__fp_add_kid(n, k);
            if (!fl__fp_is_word(fl__fp_peek(p), "and")) {
                fl__fp_unexpected(p, "'and'");
                goto bad;
            }
            fl__fp_advance(p);
            if (!(k = fl__fp_parse_add(p)))
                goto bad;
            fl__fp_add_kid(n, k);
        } else if (fl__fp_is_word(t, "in")) {
            fl__fp_advance(p);
            struct feel_node *test;
            if (fl__fp_is_cmp(fl__fp_peek(p)->kind))
                test = fl__fp_parse_unary_test(p);
            else
                test = fl__fp_parse_add(p);
            if (!test)
                goto bad;
            a = binary(N_IN, 0, t->col, a, test);
        } else if (fl__fp_is_word(t, "instance") && fl__fp_is_word(fl__fp_peek_at(p, 1), "of")) {
            fl__fp_advance(p);
            fl__fp_advance(p);
            struct feel_node *ty = fl__fp_parse_type(p);
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
    while (a && fl__fp_is_word(fl__fp_peek(p), "and")) {
        const struct feel_token *t = fl__fp_advance(p);
        struct feel_node *b = parse_cmp(p);
        if (!b) {
            fl__feel_node_free(a);
            return NULL;
        }
        a = binary(N_AND, 0, t->col, a, b);
    }
    return a;
}

struct feel_node *fl__fp_parse_expr(struct parser *p)
{
    struct feel_node *a;
    if (!fl__fp_enter(p))
        return NULL;
    a = parse_and(p);
    while (a && fl__fp_is_word(fl__fp_peek(p), "or")) {
        const struct feel_token *t = fl__fp_advance(p);
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
    const struct feel_token *t = fl__fp_peek(p);
    struct feel_node *n;
    if (t->kind == TK_MINUS && fl__fp_peek_at(p, 1)->kind == TK_EOF) {
        fl__fp_advance(p);
        return fl__fp_node_new(N_TEST_ANY, t->col);
    }
    bool negate = fl__fp_is_word(t, "not") && fl__fp_peek_at(p, 1)->kind == TK_LPAREN;
    if (negate) {
        fl__fp_advance(p);
        fl__fp_advance(p);
    }
    n = fl__fp_node_new(negate ? N_TEST_NOT : N_TEST_LIST, t->col);
    for (;;) {
        struct feel_node *k = fl__fp_parse_unary_test(p);
        if (!k) {
            fl__feel_node_free(n);
            return NULL;
        }
        fl__fp_add_kid(n, k);
        if (fl__fp_peek(p)->kind != TK_COMMA)
            break;
        fl__fp_advance(p);
    }
    if (negate && !fl__fp_expect(p, TK_RPAREN, "')'")) {
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
    n = unary ? parse_unary_tests(&p) : fl__fp_parse_expr(&p);
    if (n && fl__fp_peek(&p)->kind != TK_EOF) {
        fl__fp_unexpected(&p, unary ? "',' or end of unary tests" : "an operator or end of expression");
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
