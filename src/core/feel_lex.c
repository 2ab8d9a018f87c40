/* FEEL lexer: turns source text into a token array so the parser can look ahead freely.
 * Words are kept one per token; the parser joins consecutive words into FEEL's names with
 * spaces ("Monthly Salary", "date and time"). String escapes are decoded here. */
#include <stdlib.h>
#include <string.h>

#include "core/feel_impl.h"
#include "flowd/alloc.h"
#include "util/utf8.h"

static bool name_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '?' ||
           c >= 0x80;
}

static bool name_part(unsigned char c)
{
    return name_start(c) || (c >= '0' && c <= '9') || c == '\'';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Column of byte offset off: count code points, not bytes, as an editor would. */
static int column_of(const char *src, size_t off)
{
    int col = 1;
    for (size_t i = 0; i < off; i++) {
        if (src[i] == '\n')
            col = 1;
        else if (((unsigned char)src[i] & 0xC0) != 0x80)
            col++;
    }
    return col;
}

static int lex_string(const char *src, size_t len, size_t *pos, struct feel_token *t,
                      struct fl_error *err)
{
    struct fl_buf b = FL_BUF_INIT;
    size_t i = *pos + 1;
    while (i < len && src[i] != '"') {
        if (src[i] == '\\' && i + 1 < len) {
            char c = src[i + 1];
            i += 2;
            switch (c) {
            case 'n': fl_buf_addc(&b, '\n'); break;
            case 't': fl_buf_addc(&b, '\t'); break;
            case 'r': fl_buf_addc(&b, '\r'); break;
            case 'b': fl_buf_addc(&b, '\b'); break;
            case 'f': fl_buf_addc(&b, '\f'); break;
            case '"': fl_buf_addc(&b, '"'); break;
            case '\'': fl_buf_addc(&b, '\''); break;
            case '\\': fl_buf_addc(&b, '\\'); break;
            case 'u':
            case 'U': {
                /* \uXXXX (with surrogate pairs) and \U00XXXXXX */
                int nd = c == 'u' ? 4 : 6;
                uint32_t cp = 0;
                if (len - i < (size_t)nd)
                    goto bad_escape;
                for (int k = 0; k < nd; k++) {
                    int h = hexval(src[i + (size_t)k]);
                    if (h < 0)
                        goto bad_escape;
                    cp = cp * 16 + (uint32_t)h;
                }
                i += (size_t)nd;
                if (cp >= 0xD800 && cp <= 0xDBFF && len - i >= 6 && src[i] == '\\' &&
                    src[i + 1] == 'u') {
                    uint32_t lo = 0;
                    bool ok = true;
                    for (int k = 0; k < 4; k++) {
                        int h = hexval(src[i + 2 + (size_t)k]);
                        if (h < 0)
                            ok = false;
                        lo = lo * 16 + (uint32_t)(h < 0 ? 0 : h);
                    }
                    if (ok && lo >= 0xDC00 && lo <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        i += 6;
                    }
                }
                if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
                    goto bad_escape;
                fl_utf8_put(&b, cp);
                break;
            }
            default:
                /* unknown escapes stay as written: regex patterns such as "\\s" rely on it */
                fl_buf_addc(&b, '\\');
                fl_buf_addc(&b, c);
                break;
            }
            continue;
        }
        fl_buf_addc(&b, src[i]);
        i++;
    }
    if (i >= len) {
        fl_buf_release(&b);
        fl_error_set(err, FL_EPARSE, "unterminated string literal");
        fl_error_at(err, NULL, 1, column_of(src, *pos));
        return FL_EPARSE;
    }
    if (!fl_utf8_valid(b.ptr, b.len)) {
        fl_buf_release(&b);
        fl_error_set(err, FL_EPARSE, "string literal is not valid UTF-8");
        fl_error_at(err, NULL, 1, column_of(src, *pos));
        return FL_EPARSE;
    }
    t->text = fl_buf_detach(&b, &t->textlen);
    *pos = i + 1;
    return 0;
bad_escape:
    fl_buf_release(&b);
    fl_error_set(err, FL_EPARSE, "invalid escape sequence in string literal");
    fl_error_at(err, NULL, 1, column_of(src, i > 2 ? i - 2 : 0));
    return FL_EPARSE;
}

int fl__feel_lex(const char *src, size_t len, struct feel_lexer_out *out, struct fl_error *err)
{
    size_t cap = 0, i = 0;
    int rc = 0;
    bool space = false;
    out->toks = NULL;
    out->n = 0;
    for (;;) {
        struct feel_token t;
        memset(&t, 0, sizeof(t));
        while (i < len && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r' ||
                           (unsigned char)src[i] == 0xC2)) {
            /* U+00A0 no-break space counts as white space too */
            if ((unsigned char)src[i] == 0xC2) {
                if (i + 1 < len && (unsigned char)src[i + 1] == 0xA0)
                    i++;
                else
                    break;
            }
            i++;
            space = true;
        }
        /* comments: // to end of line and block comments */
        if (i + 1 < len && src[i] == '/' && src[i + 1] == '/') {
            while (i < len && src[i] != '\n')
                i++;
            space = true;
            continue;
        }
        if (i + 1 < len && src[i] == '/' && src[i + 1] == '*') {
            size_t j = i + 2;
            while (j + 1 < len && !(src[j] == '*' && src[j + 1] == '/'))
                j++;
            if (j + 1 >= len) {
                rc = fl_error_set(err, FL_EPARSE, "unterminated comment");
                fl_error_at(err, NULL, 1, column_of(src, i));
                goto out;
            }
            i = j + 2;
            space = true;
            continue;
        }
        t.off = i;
        t.col = column_of(src, i);
        t.space_before = space;
        space = false;
        if (i >= len) {
            t.kind = TK_EOF;
        } else {
            unsigned char c = (unsigned char)src[i];
            char n1 = i + 1 < len ? src[i + 1] : 0;
            if (c >= '0' && c <= '9' ? true : (c == '.' && n1 >= '0' && n1 <= '9')) {
                t.kind = TK_NUM;
                while (i < len && src[i] >= '0' && src[i] <= '9')
                    i++;
                if (i + 1 < len && src[i] == '.' && src[i + 1] >= '0' && src[i + 1] <= '9') {
                    i++;
                    while (i < len && src[i] >= '0' && src[i] <= '9')
                        i++;
                }
                if (i < len && (src[i] == 'e' || src[i] == 'E')) {
                    size_t j = i + 1;
                    if (j < len && (src[j] == '+' || src[j] == '-'))
                        j++;
                    if (j < len && src[j] >= '0' && src[j] <= '9') {
                        while (j < len && src[j] >= '0' && src[j] <= '9')
                            j++;
                        i = j;
                    }
                }
            } else if (c == '"') {
                t.kind = TK_STR;
                if ((rc = lex_string(src, len, &i, &t, err)))
                    goto out;
            } else if (c == '@' && n1 == '"') {
                t.kind = TK_AT;
                i++;
                if ((rc = lex_string(src, len, &i, &t, err)))
                    goto out;
            } else if (name_start(c)) {
                t.kind = TK_NAME;
                while (i < len && name_part((unsigned char)src[i]) &&
                       !((unsigned char)src[i] == 0xC2 && i + 1 < len &&
                         (unsigned char)src[i + 1] == 0xA0))
                    i++;
                t.text = fl_strndup(src + t.off, i - t.off);
                t.textlen = i - t.off;
                if (!fl_utf8_valid(t.text, t.textlen)) {
                    free(t.text);
                    rc = fl_error_set(err, FL_EPARSE, "invalid UTF-8 in name");
                    fl_error_at(err, NULL, 1, t.col);
                    goto out;
                }
            } else {
                i++;
                switch (c) {
                case '+': t.kind = TK_PLUS; break;
                case '-':
                    if (n1 == '>') {
                        t.kind = TK_ARROW;
                        i++;
                    } else {
                        t.kind = TK_MINUS;
                    }
                    break;
                case '*':
                    if (n1 == '*') {
                        t.kind = TK_POW;
                        i++;
                    } else {
                        t.kind = TK_STAR;
                    }
                    break;
                case '/': t.kind = TK_SLASH; break;
                case '=': t.kind = TK_EQ; break;
                case '!':
                    if (n1 != '=')
                        goto bad_char;
                    t.kind = TK_NE;
                    i++;
                    break;
                case '<':
                    t.kind = n1 == '=' ? TK_LE : TK_LT;
                    i += n1 == '=';
                    break;
                case '>':
                    t.kind = n1 == '=' ? TK_GE : TK_GT;
                    i += n1 == '=';
                    break;
                case '.':
                    if (n1 == '.') {
                        t.kind = TK_DOTDOT;
                        i++;
                    } else {
                        t.kind = TK_DOT;
                    }
                    break;
                case ',': t.kind = TK_COMMA; break;
                case ':': t.kind = TK_COLON; break;
                case '(': t.kind = TK_LPAREN; break;
                case ')': t.kind = TK_RPAREN; break;
                case '[': t.kind = TK_LBRACK; break;
                case ']': t.kind = TK_RBRACK; break;
                case '{': t.kind = TK_LBRACE; break;
                case '}': t.kind = TK_RBRACE; break;
                default:
                bad_char:
                    rc = fl_error_set(err, FL_EPARSE, "unexpected character '%c'",
                                      c >= 0x20 && c < 0x7f ? c : '?');
                    fl_error_at(err, NULL, 1, t.col);
                    goto out;
                }
            }
        }
        t.len = i - t.off;
        if (out->n == cap)
            fl_grow(&out->toks, &cap, out->n + 1, sizeof(*out->toks));
        out->toks[out->n++] = t;
        if (t.kind == TK_EOF)
            break;
    }
out:
    if (rc)
        fl__feel_lex_free(out);
    return rc;
}

void fl__feel_lex_free(struct feel_lexer_out *out)
{
    for (size_t i = 0; i < out->n; i++)
        free(out->toks[i].text);
    free(out->toks);
    out->toks = NULL;
    out->n = 0;
}
