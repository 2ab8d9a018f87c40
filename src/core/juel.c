/* The JUEL to FEEL translator (see juel.h): a lexer and a recursive-descent parser over
 * JUEL's grammar (ternary, or, and, equality, relational, additive, multiplicative, unary,
 * value) that writes the FEEL text as it goes. Each operand comes back as a string with a
 * flag saying whether it is atomic; compound operands are parenthesised, so FEEL's
 * precedence (one level for all comparisons) never regroups what JUEL grouped. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/juel.h"
#include "flowd/alloc.h"
#include "flowd/buf.h"

#define MAX_DEPTH 64

enum tok {
    T_END, /* the closing brace of ${...} */
    T_NUM,
    T_STR,
    T_IDENT,
    T_OP, /* punctuation and operator words, in op[] */
};

struct lex {
    const char *s; /* the whole text */
    size_t pos;    /* next byte */
    enum tok t;
    size_t start;      /* byte offset of the current token */
    char op[12];       /* T_OP: canonical spelling ("==", "&&", "!", "empty"...) */
    struct fl_buf val; /* T_NUM, T_STR (decoded), T_IDENT */
    struct fl_error *err;
    size_t *at;
    int depth;
    bool failed;
};

/* An operand: its FEEL text and whether it needs no parentheses to be an operand. */
struct opnd {
    char *text;
    bool atomic;
};

static int fail(struct lex *lx, size_t off, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct lex *lx, size_t off, int code, const char *fmt, ...)
{
    va_list ap;
    int col = 1;
    if (lx->failed)
        return code;
    lx->failed = true;
    va_start(ap, fmt);
    fl_error_setv(lx->err, code, fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < off && lx->s[i]; i++)
        if (((unsigned char)lx->s[i] & 0xC0) != 0x80)
            col++;
    if (lx->err) {
        lx->err->line = 1;
        lx->err->column = col;
    }
    if (lx->at)
        *lx->at = off;
    return code;
}

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* JUEL's operator words, with their symbol twins. */
static const char *word_op(const char *w)
{
    static const char *const words[][2] = {
        {"and", "&&"},
        {"or", "||"},
        {"not", "!"},
        {"eq", "=="},
        {"ne", "!="},
        {"lt", "<"},
        {"gt", ">"},
        {"le", "<="},
        {"ge", ">="},
        {"div", "/"},
        {"mod", "%"},
        {"empty", "empty"},
        {"instanceof", "instanceof"},
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (!strcmp(w, words[i][0]))
            return words[i][1];
    return NULL;
}

static int next(struct lex *lx)
{
    const char *s = lx->s;
    static const char *const ops[] = {"==", "!=", "<=", ">=", "&&", "||", "->", "+=", "<", ">",
                                      "!",  "+",  "-",  "*",  "/",  "%",  "?",  ":",  "(", ")",
                                      "[",  "]",  ".",  ",",  ";",  "=",  "{",  "}",  NULL};
    while (s[lx->pos] == ' ' || s[lx->pos] == '\t' || s[lx->pos] == '\n' || s[lx->pos] == '\r')
        lx->pos++;
    lx->start = lx->pos;
    fl_buf_reset(&lx->val);
    if (!s[lx->pos])
        return fail(lx, lx->pos, FL_EPARSE, "JUEL expression is not closed with '}'");
    if (s[lx->pos] == '}') {
        lx->t = T_END;
        lx->pos++;
        return 0;
    }
    if (is_digit(s[lx->pos]) || (s[lx->pos] == '.' && is_digit(s[lx->pos + 1]))) {
        while (is_digit(s[lx->pos]) || s[lx->pos] == '.')
            fl_buf_addc(&lx->val, s[lx->pos++]);
        if (s[lx->pos] == 'e' || s[lx->pos] == 'E')
            return fail(lx, lx->start, FL_EUNSUPPORTED,
                        "JUEL number with an exponent ('%.*s...') has no FEEL literal",
                        (int)(lx->pos - lx->start + 1), s + lx->start);
        if (strchr(lx->val.ptr, '.') != strrchr(lx->val.ptr, '.'))
            return fail(lx, lx->start, FL_EPARSE, "malformed JUEL number '%s'", lx->val.ptr);
        lx->t = T_NUM;
        return 0;
    }
    if (s[lx->pos] == '\'' || s[lx->pos] == '"') {
        char q = s[lx->pos++];
        for (;;) {
            char c = s[lx->pos];
            if (!c)
                return fail(lx, lx->start, FL_EPARSE, "JUEL string is not closed");
            lx->pos++;
            if (c == q)
                break;
            if (c == '\\' && (s[lx->pos] == '\\' || s[lx->pos] == '\'' || s[lx->pos] == '"'))
                c = s[lx->pos++];
            fl_buf_addc(&lx->val, c);
        }
        lx->t = T_STR;
        return 0;
    }
    if (is_ident_start(s[lx->pos])) {
        const char *w;
        while (is_ident_start(s[lx->pos]) || is_digit(s[lx->pos]))
            fl_buf_addc(&lx->val, s[lx->pos++]);
        if ((w = word_op(lx->val.ptr))) {
            lx->t = T_OP;
            snprintf(lx->op, sizeof(lx->op), "%s", w);
            return 0;
        }
        lx->t = T_IDENT;
        return 0;
    }
    for (size_t i = 0; ops[i]; i++) {
        size_t n = strlen(ops[i]);
        if (!strncmp(s + lx->pos, ops[i], n)) {
            lx->t = T_OP;
            memcpy(lx->op, ops[i], n + 1);
            lx->pos += n;
            return 0;
        }
    }
    return fail(lx, lx->pos, FL_EPARSE, "unexpected character '%c' in JUEL expression", s[lx->pos]);
}

static bool is_op(const struct lex *lx, const char *op)
{
    return lx->t == T_OP && !strcmp(lx->op, op);
}

static struct opnd mk(char *text, bool atomic)
{
    struct opnd o = {text, atomic};
    return o;
}

static void wrap(struct fl_buf *b, const struct opnd *o)
{
    if (o->atomic) {
        fl_buf_adds(b, o->text);
    } else {
        fl_buf_addc(b, '(');
        fl_buf_adds(b, o->text);
        fl_buf_addc(b, ')');
    }
}

static struct opnd binary(const struct opnd *l, const char *op, const struct opnd *r)
{
    struct fl_buf b = FL_BUF_INIT;
    wrap(&b, l);
    fl_buf_addf(&b, " %s ", op);
    wrap(&b, r);
    return mk(fl_buf_detach(&b, NULL), false);
}

static int expr(struct lex *lx, struct opnd *out);

/* Write template t with '@' replaced by operand a and '#' by operand b (each parenthesised
 * unless atomic): for forms that repeat an operand. */
static void subst(struct fl_buf *out, const char *t, const struct opnd *a, const struct opnd *b)
{
    for (; *t; t++) {
        if (*t == '@')
            wrap(out, a);
        else if (*t == '#' && b)
            wrap(out, b);
        else
            fl_buf_addc(out, *t);
    }
}

static void feel_string(struct fl_buf *b, const char *s)
{
    fl_buf_addc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fl_buf_addc(b, '\\');
        if (*s == '\n')
            fl_buf_adds(b, "\\n");
        else if (*s == '\r')
            fl_buf_adds(b, "\\r");
        else if (*s == '\t')
            fl_buf_adds(b, "\\t");
        else
            fl_buf_addc(b, *s);
    }
    fl_buf_addc(b, '"');
}

/* Names that are words of FEEL's grammar cannot be variables there. */
static bool feel_keyword(const char *w)
{
    static const char *const kw[] = {"for",      "return", "if",        "then",     "else",
                                     "some",     "every",  "satisfies", "in",       "between",
                                     "instance", "of",     "function",  "external", NULL};
    for (size_t i = 0; kw[i]; i++)
        if (!strcmp(w, kw[i]))
            return true;
    return false;
}

static bool engine_object(const char *w)
{
    static const char *const objs[] = {"execution",
                                       "task",
                                       "externalTask",
                                       "variableScope",
                                       "processEngine",
                                       "processEngineServices",
                                       "authenticatedUserId",
                                       "currentUser",
                                       "currentUserGroups",
                                       "caseExecution",
                                       NULL};
    for (size_t i = 0; objs[i]; i++)
        if (!strcmp(w, objs[i]))
            return true;
    return false;
}

/* A variable with its property and index suffixes: a.b, a['b'], a[0]. */
static int value(struct lex *lx, struct opnd *out)
{
    struct fl_buf b = FL_BUF_INIT;
    size_t id_start = lx->start;
    int rc;
    if (engine_object(lx->val.ptr))
        return fail(lx, lx->start, FL_EUNSUPPORTED,
                    "JUEL '%s' is the Camunda engine's object; FEEL has no equivalent",
                    lx->val.ptr);
    if (strchr(lx->val.ptr, '$'))
        return fail(lx, lx->start, FL_EUNSUPPORTED,
                    "JUEL name '%s' has a '$', which a FEEL name cannot have", lx->val.ptr);
    if (feel_keyword(lx->val.ptr))
        return fail(lx, lx->start, FL_EUNSUPPORTED,
                    "JUEL variable '%s' is a FEEL keyword and cannot be named in FEEL",
                    lx->val.ptr);
    fl_buf_adds(&b, lx->val.ptr);
    if ((rc = next(lx)) < 0)
        goto fail;
    for (;;) {
        if (is_op(lx, "(")) {
            rc = fail(lx, id_start, FL_EUNSUPPORTED,
                      "JUEL method call '%s(...)' has no FEEL equivalent", b.ptr);
            goto fail;
        }
        if (is_op(lx, ":")) { /* fn:name( -- a function call */
            rc = fail(lx, id_start, FL_EUNSUPPORTED,
                      "JUEL function call '%s:...' has no FEEL equivalent", b.ptr);
            goto fail;
        }
        if (is_op(lx, ".")) {
            if ((rc = next(lx)) < 0)
                goto fail;
            if (lx->t != T_IDENT) {
                rc = fail(lx, lx->start, FL_EPARSE, "expected a property name after '.'");
                goto fail;
            }
            if (feel_keyword(lx->val.ptr) || strchr(lx->val.ptr, '$')) {
                rc = fail(lx, lx->start, FL_EUNSUPPORTED,
                          "JUEL property '%s' cannot be named in FEEL", lx->val.ptr);
                goto fail;
            }
            fl_buf_addf(&b, ".%s", lx->val.ptr);
            if ((rc = next(lx)) < 0)
                goto fail;
            continue;
        }
        if (is_op(lx, "[")) {
            char *base;
            size_t at = lx->start;
            if ((rc = next(lx)) < 0)
                goto fail;
            if (lx->t == T_STR) {
                struct fl_buf k = FL_BUF_INIT;
                feel_string(&k, lx->val.ptr);
                base = fl_buf_detach(&b, NULL);
                fl_buf_addf(&b, "get value(%s, %s)", base, k.ptr);
                free(base);
                fl_buf_release(&k);
            } else if (lx->t == T_NUM && !strchr(lx->val.ptr, '.')) {
                /* JUEL counts list items from 0, FEEL from 1 */
                long long ix = strtoll(lx->val.ptr, NULL, 10);
                base = fl_buf_detach(&b, NULL);
                fl_buf_addf(&b, "(%s)[%lld]", base, ix + 1);
                free(base);
            } else {
                rc = fail(lx, at, FL_EUNSUPPORTED,
                          "JUEL index '[...]' other than a string or whole number literal has "
                          "no exact FEEL equivalent");
                goto fail;
            }
            if ((rc = next(lx)) < 0)
                goto fail;
            if (!is_op(lx, "]")) {
                rc = fail(lx, lx->start, FL_EPARSE, "expected ']'");
                goto fail;
            }
            if ((rc = next(lx)) < 0)
                goto fail;
            continue;
        }
        break;
    }
    *out = mk(fl_buf_detach(&b, NULL), true);
    return 0;
fail:
    fl_buf_release(&b);
    return rc;
}

static int unary(struct lex *lx, struct opnd *out)
{
    struct opnd o;
    struct fl_buf b = FL_BUF_INIT;
    int rc;
    size_t at = lx->start;
    if (++lx->depth > MAX_DEPTH)
        return fail(lx, lx->start, FL_EUNSUPPORTED, "JUEL expression nested too deeply");
    if (is_op(lx, "!") || is_op(lx, "-") || is_op(lx, "empty")) {
        char op = lx->op[0];
        if ((rc = next(lx)) < 0 || (rc = unary(lx, &o)) < 0)
            return rc;
        if (op == '!')
            fl_buf_addf(&b, "not(%s)", o.text);
        else if (op == '-')
            fl_buf_addf(&b, "-%s%s%s", o.atomic ? "" : "(", o.text, o.atomic ? "" : ")");
        else /* empty: null, "", an empty list or an empty map */
            subst(&b,
                  "(if @ = null then true else if @ instance of string then string length(@) "
                  "= 0 else if @ instance of list then count(@) = 0 else if @ instance of "
                  "context then count(get entries(@)) = 0 else false)",
                  &o, NULL);
        free(o.text);
        *out = mk(fl_buf_detach(&b, NULL), true);
        lx->depth--;
        return 0;
    }
    switch (lx->t) {
    case T_NUM:
        *out = mk(fl_strdup(lx->val.ptr), true);
        rc = next(lx);
        break;
    case T_STR:
        feel_string(&b, lx->val.ptr);
        *out = mk(fl_buf_detach(&b, NULL), true);
        rc = next(lx);
        break;
    case T_IDENT:
        if (!strcmp(lx->val.ptr, "true") || !strcmp(lx->val.ptr, "false") ||
            !strcmp(lx->val.ptr, "null")) {
            *out = mk(fl_strdup(lx->val.ptr), true);
            rc = next(lx);
            break;
        }
        rc = value(lx, out);
        lx->depth--;
        return rc;
    case T_OP:
        if (is_op(lx, "(")) {
            if ((rc = next(lx)) < 0 || (rc = expr(lx, &o)) < 0)
                return rc;
            if (!is_op(lx, ")")) {
                free(o.text);
                return fail(lx, lx->start, FL_EPARSE, "expected ')'");
            }
            fl_buf_addf(&b, "(%s)", o.text);
            free(o.text);
            *out = mk(fl_buf_detach(&b, NULL), true);
            rc = next(lx);
            break;
        }
        if (is_op(lx, "[") || is_op(lx, "{"))
            return fail(lx, at, FL_EUNSUPPORTED,
                        "JUEL collection literal '%s...' has no exact FEEL equivalent", lx->op);
        return fail(lx, at, FL_EPARSE, "unexpected '%s' in JUEL expression", lx->op);
    case T_END:
    default:
        return fail(lx, at, FL_EPARSE, "JUEL expression ends where a value is expected");
    }
    if (rc < 0)
        free(out->text);
    lx->depth--;
    return rc;
}

/* One level of left-associative binary operators. */
struct level {
    const char *const *ops; /* JUEL canonical spellings */
    int (*operand)(struct lex *, struct opnd *);
};

static int mul(struct lex *lx, struct opnd *out);
static int add(struct lex *lx, struct opnd *out);
static int rel(struct lex *lx, struct opnd *out);
static int eq(struct lex *lx, struct opnd *out);
static int and_(struct lex *lx, struct opnd *out);
static int or_(struct lex *lx, struct opnd *out);

static const char *feel_op(const char *op)
{
    if (!strcmp(op, "=="))
        return "=";
    if (!strcmp(op, "&&"))
        return "and";
    if (!strcmp(op, "||"))
        return "or";
    return op;
}

static int chain(struct lex *lx, struct opnd *out, const char *const *ops,
                 int (*operand)(struct lex *, struct opnd *))
{
    struct opnd l, r, res;
    int rc;
    if ((rc = operand(lx, &l)) < 0)
        return rc;
    for (;;) {
        const char *op = NULL;
        for (size_t i = 0; ops[i] && lx->t == T_OP; i++)
            if (!strcmp(lx->op, ops[i]))
                op = ops[i];
        if (!op)
            break;
        if ((rc = next(lx)) < 0 || (rc = operand(lx, &r)) < 0) {
            free(l.text);
            return rc;
        }
        if (!strcmp(op, "%")) {
            /* Java's remainder takes the dividend's sign; FEEL's modulo the divisor's */
            struct fl_buf b = FL_BUF_INIT;
            subst(&b, "@ - # * (if @ / # < 0 then ceiling(@ / #) else floor(@ / #))", &l, &r);
            res = mk(fl_buf_detach(&b, NULL), false);
        } else {
            res = binary(&l, feel_op(op), &r);
        }
        free(l.text);
        free(r.text);
        l = res;
    }
    *out = l;
    return 0;
}

static int mul(struct lex *lx, struct opnd *out)
{
    static const char *const ops[] = {"*", "/", "%", NULL};
    return chain(lx, out, ops, unary);
}

static int add(struct lex *lx, struct opnd *out)
{
    static const char *const ops[] = {"+", "-", NULL};
    return chain(lx, out, ops, mul);
}

static int rel(struct lex *lx, struct opnd *out)
{
    static const char *const ops[] = {"<", ">", "<=", ">=", NULL};
    return chain(lx, out, ops, add);
}

static int eq(struct lex *lx, struct opnd *out)
{
    static const char *const ops[] = {"==", "!=", NULL};
    return chain(lx, out, ops, rel);
}

static int and_(struct lex *lx, struct opnd *out)
{
    static const char *const ops[] = {"&&", NULL};
    return chain(lx, out, ops, eq);
}

static int or_(struct lex *lx, struct opnd *out)
{
    static const char *const ops[] = {"||", NULL};
    return chain(lx, out, ops, and_);
}

static int expr(struct lex *lx, struct opnd *out)
{
    struct opnd c, a, b;
    struct fl_buf buf = FL_BUF_INIT;
    int rc;
    if (++lx->depth > MAX_DEPTH)
        return fail(lx, lx->start, FL_EUNSUPPORTED, "JUEL expression nested too deeply");
    if ((rc = or_(lx, &c)) < 0)
        return rc;
    if (!is_op(lx, "?")) {
        lx->depth--;
        *out = c;
        return 0;
    }
    if ((rc = next(lx)) < 0 || (rc = expr(lx, &a)) < 0) {
        free(c.text);
        return rc;
    }
    if (!is_op(lx, ":")) {
        free(c.text);
        free(a.text);
        return fail(lx, lx->start, FL_EPARSE, "expected ':' of the JUEL '?:'");
    }
    if ((rc = next(lx)) < 0 || (rc = expr(lx, &b)) < 0) {
        free(c.text);
        free(a.text);
        return rc;
    }
    fl_buf_addf(&buf, "if %s then %s else %s", c.text, a.text, b.text);
    free(c.text);
    free(a.text);
    free(b.text);
    *out = mk(fl_buf_detach(&buf, NULL), false);
    lx->depth--;
    return 0;
}

bool fl_juel_is_expr(const char *text)
{
    return text && (strstr(text, "${") || strstr(text, "#{"));
}

/* Translate the expression starting at lx->pos (just past "${") up to its '}'. */
static int one(struct lex *lx, struct opnd *out)
{
    int rc;
    if ((rc = next(lx)) < 0)
        return rc;
    if (lx->t == T_END)
        return fail(lx, lx->start, FL_EPARSE, "empty JUEL expression '${}'");
    if ((rc = expr(lx, out)) < 0)
        return rc;
    if (lx->t != T_END) {
        size_t at = lx->start;
        free(out->text);
        if (lx->t == T_OP && (is_op(lx, "=") || is_op(lx, "+=") || is_op(lx, ";") ||
                              is_op(lx, "->") || is_op(lx, "instanceof")))
            return fail(lx, at, FL_EUNSUPPORTED,
                        "JUEL '%s' (assignment, lambda, sequence or instanceof) has no FEEL "
                        "equivalent",
                        lx->op);
        return fail(lx, at, FL_EPARSE, "unexpected %s in JUEL expression",
                    lx->t == T_OP ? "operator" : "value");
    }
    return 0;
}

int fl_juel_to_feel(const char *text, char **out, size_t *at, struct fl_error *err)
{
    struct lex lx;
    struct fl_buf res = FL_BUF_INIT, lit = FL_BUF_INIT;
    char *lone = NULL;
    size_t i = 0, parts = 0;
    bool text_around = false; /* literal text other than spaces outside the ${...} */
    int rc = 0;
    memset(&lx, 0, sizeof(lx));
    lx.s = text;
    lx.err = err;
    lx.at = at;
    fl_buf_init(&lx.val, 0);
    *out = NULL;
    for (;;) {
        struct opnd o;
        bool opens = text[i] && (text[i] == '$' || text[i] == '#') && text[i + 1] == '{';
        if (text[i] && !opens) {
            if (text[i] == '\\' && (text[i + 1] == '$' || text[i + 1] == '#') && text[i + 2] == '{')
                i++; /* "\${" is a literal "${" */
            if (!strchr(" \t\r\n", text[i]))
                text_around = true;
            fl_buf_addc(&lit, text[i++]);
            continue;
        }
        if (lit.len) {
            if (res.len)
                fl_buf_adds(&res, " + ");
            feel_string(&res, lit.ptr);
            fl_buf_reset(&lit);
        }
        if (!text[i])
            break;
        lx.pos = i + 2;
        if ((rc = one(&lx, &o)) < 0)
            goto out;
        if (res.len)
            fl_buf_adds(&res, " + ");
        /* JUEL coerces null to "" when it joins text */
        subst(&res, "(if @ = null then \"\" else string(@))", &o, NULL);
        if (parts++ == 0)
            lone = o.text; /* the result itself when nothing else is around it */
        else
            free(o.text);
        i = lx.pos;
    }
    if (parts == 0) {
        rc = fail(&lx, 0, FL_EPARSE, "no JUEL expression ('${...}') in the text");
        goto out;
    }
    if (parts == 1 && !text_around) {
        *out = lone;
        lone = NULL;
    } else {
        *out = fl_buf_detach(&res, NULL);
    }
out:
    free(lone);
    fl_buf_release(&res);
    fl_buf_release(&lit);
    fl_buf_release(&lx.val);
    return rc;
}
