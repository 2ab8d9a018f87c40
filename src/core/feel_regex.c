/* Regular expressions with XPath/XML Schema syntax for FEEL's matches(), replace() and
 * split(): a small backtracking matcher over UTF-8 code points. POSIX regex.h differs
 * from XPath in the ways users notice (leftmost-longest alternation, no lazy quantifiers,
 * no class subtraction), and a matcher of our own can carry a step budget, so a hostile
 * pattern costs bounded time instead of hanging a worker. */
#include <stdlib.h>
#include <string.h>

#include "core/feel_regex.h"
#include "flowd/alloc.h"
#include "flowd/buf.h"

#define RX_MAX_STEPS 2000000
#define RX_MAX_NODES 4096
#define RX_MAX_DEPTH 64         /* group nesting in a pattern */
#define RX_MAX_RECURSION 1000   /* matcher recursion: bounds stack use */

enum rx_kind { RX_CHAR, RX_ANY, RX_CLASS, RX_GROUP, RX_BOL, RX_EOL, RX_BACKREF };

struct rx_range {
    uint32_t lo, hi;
};

struct rx_class {
    struct rx_range *r;
    size_t n;
    bool negate;
    struct rx_class *minus; /* [a-z-[aeiou]] */
};

struct rx_seq {
    struct rx_node **items;
    size_t n;
};

struct rx_node {
    uint8_t kind;
    bool lazy;
    int min, max; /* max -1: unbounded */
    uint32_t ch;
    struct rx_class *cls;
    int group; /* capture index, 0 for non-capturing */
    struct rx_seq *alts;
    size_t nalts;
};

struct fl__regex {
    struct rx_seq top;
    int ngroups;
    bool icase, dotall, multiline;
    size_t nnodes;
};

struct parse {
    const char *p, *end;
    struct fl__regex *re;
    int depth;
    bool bad;
};

static uint32_t utf8_next(const char **pp, const char *end)
{
    const unsigned char *p = (const unsigned char *)*pp;
    uint32_t c = *p;
    size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    if ((size_t)((const unsigned char *)end - p) < n)
        n = (size_t)((const unsigned char *)end - p);
    if (n == 2)
        c = ((c & 0x1F) << 6) | (p[1] & 0x3F);
    else if (n == 3)
        c = ((c & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    else if (n == 4)
        c = ((c & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
    *pp += n;
    return c;
}

static void class_add(struct rx_class *c, uint32_t lo, uint32_t hi)
{
    c->r = fl_reallocarray(c->r, c->n + 1, sizeof(*c->r));
    c->r[c->n].lo = lo;
    c->r[c->n].hi = hi;
    c->n++;
}

static void class_free(struct rx_class *c)
{
    if (!c)
        return;
    class_free(c->minus);
    free(c->r);
    free(c);
}

/* \d \w \s and friends as ranges (ASCII plus the Latin-1 letters for \w). */
static bool add_escape_class(struct rx_class *c, char e)
{
    switch (e) {
    case 'd':
        class_add(c, '0', '9');
        return true;
    case 's':
        class_add(c, ' ', ' ');
        class_add(c, '\t', '\n');
        class_add(c, '\r', '\r');
        return true;
    case 'w':
        class_add(c, '0', '9');
        class_add(c, 'A', 'Z');
        class_add(c, 'a', 'z');
        class_add(c, '_', '_');
        class_add(c, 0xC0, 0x24F);
        return true;
    case 'i':
    case 'c':
        class_add(c, 'A', 'Z');
        class_add(c, 'a', 'z');
        class_add(c, '_', '_');
        class_add(c, ':', ':');
        if (e == 'c') {
            class_add(c, '0', '9');
            class_add(c, '-', '.');
        }
        class_add(c, 0xC0, 0x2FF);
        return true;
    default:
        return false;
    }
}

static struct rx_class *new_class(void)
{
    return fl_calloc(1, sizeof(struct rx_class));
}

/* \p{..}: categories approximated on the ranges business text uses. */
static bool parse_prop(struct parse *ps, struct rx_class *c)
{
    const char *start;
    if (ps->p >= ps->end || *ps->p != '{')
        return false;
    start = ++ps->p;
    while (ps->p < ps->end && *ps->p != '}')
        ps->p++;
    if (ps->p >= ps->end)
        return false;
    size_t n = (size_t)(ps->p - start);
    ps->p++;
    if (n == 12 && memcmp(start, "IsBasicLatin", 12) == 0) {
        class_add(c, 0, 0x7F);
    } else if (n >= 1 && start[0] == 'L') {
        if (n == 1 || start[1] == 'u')
            class_add(c, 'A', 'Z');
        if (n == 1 || start[1] == 'l')
            class_add(c, 'a', 'z');
        class_add(c, 0xC0, 0x24F);
    } else if (n >= 1 && start[0] == 'N') {
        class_add(c, '0', '9');
    } else if (n >= 1 && start[0] == 'P') {
        class_add(c, '!', '/');
        class_add(c, ':', '@');
        class_add(c, '[', '`');
        class_add(c, '{', '~');
    } else if (n >= 1 && start[0] == 'Z') {
        class_add(c, ' ', ' ');
    } else {
        return false;
    }
    return true;
}

static uint32_t single_escape(char e, bool *ok)
{
    *ok = true;
    switch (e) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    default:
        if (strchr("\\|.-^?*+{}()[]$", e))
            return (uint32_t)(unsigned char)e;
        *ok = false;
        return 0;
    }
}

static struct rx_class *parse_class(struct parse *ps)
{
    struct rx_class *c = new_class();
    if (ps->p < ps->end && *ps->p == '^') {
        c->negate = true;
        ps->p++;
    }
    bool first = true;
    while (ps->p < ps->end && (*ps->p != ']' || first)) {
        first = false;
        if (*ps->p == '-' && ps->p + 1 < ps->end && ps->p[1] == '[') {
            ps->p += 2;
            c->minus = parse_class(ps);
            if (!c->minus)
                goto bad;
            if (ps->p >= ps->end || *ps->p != ']')
                goto bad;
            break;
        }
        uint32_t lo;
        if (*ps->p == '\\') {
            ps->p++;
            if (ps->p >= ps->end)
                goto bad;
            char e = *ps->p++;
            if (e == 'p' || e == 'P') {
                struct rx_class *sub = new_class();
                bool ok = parse_prop(ps, sub);
                if (ok && e == 'p')
                    for (size_t i = 0; i < sub->n; i++)
                        class_add(c, sub->r[i].lo, sub->r[i].hi);
                class_free(sub);
                if (!ok || e == 'P')
                    goto bad;
                continue;
            }
            if (e >= '0' && e <= '9')
                goto bad; /* back-references mean nothing in a class */
            if (add_escape_class(c, e))
                continue;
            bool ok;
            lo = single_escape(e, &ok);
            if (!ok)
                goto bad;
        } else if (*ps->p == '[') {
            goto bad;
        } else {
            lo = utf8_next(&ps->p, ps->end);
        }
        uint32_t hi = lo;
        if (ps->p + 1 < ps->end && *ps->p == '-' && ps->p[1] != ']' && ps->p[1] != '[') {
            ps->p++;
            if (*ps->p == '\\') {
                bool ok;
                ps->p++;
                if (ps->p >= ps->end)
                    goto bad;
                hi = single_escape(*ps->p++, &ok);
                if (!ok)
                    goto bad;
            } else {
                hi = utf8_next(&ps->p, ps->end);
            }
            if (hi < lo)
                goto bad;
        }
        class_add(c, lo, hi);
    }
    if (ps->p >= ps->end || *ps->p != ']')
        goto bad;
    ps->p++;
    return c;
bad:
    class_free(c);
    return NULL;
}

static void seq_push(struct rx_seq *s, struct rx_node *n)
{
    s->items = fl_reallocarray(s->items, s->n + 1, sizeof(*s->items));
    s->items[s->n++] = n;
}

static void node_free(struct rx_node *n);

static void seq_release(struct rx_seq *s)
{
    for (size_t i = 0; i < s->n; i++)
        node_free(s->items[i]);
    free(s->items);
}

static void node_free(struct rx_node *n)
{
    if (!n)
        return;
    class_free(n->cls);
    for (size_t i = 0; i < n->nalts; i++)
        seq_release(&n->alts[i]);
    free(n->alts);
    free(n);
}

static bool parse_alts(struct parse *ps, struct rx_node *g);

static struct rx_node *parse_atom(struct parse *ps)
{
    struct rx_node *n = fl_calloc(1, sizeof(*n));
    n->min = n->max = 1;
    if (++ps->re->nnodes > RX_MAX_NODES)
        goto bad;
    char c = *ps->p;
    if (c == '(') {
        ps->p++;
        n->kind = RX_GROUP;
        if (ps->end - ps->p >= 2 && ps->p[0] == '?' && ps->p[1] == ':') {
            ps->p += 2;
        } else {
            n->group = ++ps->re->ngroups;
            if (n->group > 9)
                goto bad;
        }
        if (++ps->depth > RX_MAX_DEPTH || !parse_alts(ps, n))
            goto bad;
        ps->depth--;
        if (ps->p >= ps->end || *ps->p != ')')
            goto bad;
        ps->p++;
    } else if (c == '[') {
        ps->p++;
        n->kind = RX_CLASS;
        if (!(n->cls = parse_class(ps)))
            goto bad;
    } else if (c == '.') {
        ps->p++;
        n->kind = RX_ANY;
    } else if (c == '^') {
        ps->p++;
        n->kind = RX_BOL;
    } else if (c == '$') {
        ps->p++;
        n->kind = RX_EOL;
    } else if (c == '\\') {
        ps->p++;
        if (ps->p >= ps->end)
            goto bad;
        char e = *ps->p++;
        if (e >= '1' && e <= '9') {
            n->kind = RX_BACKREF;
            n->group = e - '0';
            if (n->group > ps->re->ngroups)
                goto bad;
        } else if (e == 'p' || e == 'P') {
            n->kind = RX_CLASS;
            n->cls = new_class();
            n->cls->negate = e == 'P';
            if (!parse_prop(ps, n->cls))
                goto bad;
        } else if (strchr("dswicDSWIC", e)) {
            n->kind = RX_CLASS;
            n->cls = new_class();
            n->cls->negate = e >= 'A' && e <= 'Z';
            add_escape_class(n->cls, (char)(e | 0x20));
        } else {
            bool ok;
            n->kind = RX_CHAR;
            n->ch = single_escape(e, &ok);
            if (!ok)
                goto bad;
        }
    } else if (c == '*' || c == '+' || c == '?' || c == '{' || c == ')' || c == '|' ||
               c == ']' || c == '}') {
        goto bad;
    } else {
        n->kind = RX_CHAR;
        n->ch = utf8_next(&ps->p, ps->end);
    }
    /* quantifier */
    if (ps->p < ps->end && strchr("*+?{", *ps->p)) {
        if (n->kind == RX_BOL || n->kind == RX_EOL)
            goto bad;
        char q = *ps->p++;
        if (q == '*') {
            n->min = 0;
            n->max = -1;
        } else if (q == '+') {
            n->min = 1;
            n->max = -1;
        } else if (q == '?') {
            n->min = 0;
            n->max = 1;
        } else {
            int a = 0, b;
            bool digits = false;
            while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9' && a < 100000) {
                a = a * 10 + (*ps->p++ - '0');
                digits = true;
            }
            if (!digits)
                goto bad;
            b = a;
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                b = -1;
                if (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
                    b = 0;
                    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9' && b < 100000)
                        b = b * 10 + (*ps->p++ - '0');
                }
            }
            if (ps->p >= ps->end || *ps->p != '}' || (b >= 0 && b < a))
                goto bad;
            ps->p++;
            n->min = a;
            n->max = b;
        }
        if (ps->p < ps->end && *ps->p == '?') {
            n->lazy = true;
            ps->p++;
        }
        if (ps->p < ps->end && strchr("*+{", *ps->p))
            goto bad;
    }
    return n;
bad:
    node_free(n);
    ps->bad = true;
    return NULL;
}

static bool parse_alts(struct parse *ps, struct rx_node *g)
{
    for (;;) {
        g->alts = fl_reallocarray(g->alts, g->nalts + 1, sizeof(*g->alts));
        struct rx_seq *s = &g->alts[g->nalts++];
        memset(s, 0, sizeof(*s));
        while (ps->p < ps->end && *ps->p != '|' && *ps->p != ')') {
            struct rx_node *a = parse_atom(ps);
            if (!a)
                return false;
            seq_push(s, a);
        }
        if (ps->p < ps->end && *ps->p == '|') {
            ps->p++;
            continue;
        }
        return true;
    }
}

void fl__regex_free(struct fl__regex *re)
{
    if (!re)
        return;
    seq_release(&re->top);
    free(re);
}

int fl__regex_compile(const char *pat, size_t n, const char *flags, size_t nflags,
                      struct fl__regex **out)
{
    struct fl__regex *re = fl_calloc(1, sizeof(*re));
    struct fl_buf stripped = FL_BUF_INIT;
    bool ext = false;
    for (size_t i = 0; i < nflags; i++) {
        switch (flags[i]) {
        case 'i': re->icase = true; break;
        case 's': re->dotall = true; break;
        case 'm': re->multiline = true; break;
        case 'x': ext = true; break;
        default:
            free(re);
            return -1;
        }
    }
    if (ext) {
        /* flag x drops white space outside character classes */
        int cls = 0;
        for (size_t i = 0; i < n; i++) {
            char c = pat[i];
            if (c == '\\' && i + 1 < n) {
                /* "\ s" under x is "\s": white space goes even after a backslash */
                fl_buf_addc(&stripped, c);
                while (!cls && i + 1 < n && (pat[i + 1] == ' ' || pat[i + 1] == '\t' ||
                                             pat[i + 1] == '\n' || pat[i + 1] == '\r'))
                    i++;
                if (i + 1 >= n)
                    break;
                c = pat[++i];
            } else if (c == '[') {
                cls++;
            } else if (c == ']' && cls) {
                cls--;
            } else if (!cls && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
                continue;
            }
            fl_buf_addc(&stripped, c);
        }
        pat = stripped.ptr;
        n = stripped.len;
    }
    struct parse ps = {pat, pat + n, re, 0, false};
    struct rx_node top = {0};
    bool ok = parse_alts(&ps, &top) && ps.p == ps.end && !ps.bad;
    /* the top level is one implicit non-capturing group */
    re->top.items = fl_calloc(1, sizeof(*re->top.items));
    re->top.items[0] = fl_calloc(1, sizeof(struct rx_node));
    *re->top.items[0] = top;
    re->top.items[0]->kind = RX_GROUP;
    re->top.items[0]->min = re->top.items[0]->max = 1;
    re->top.n = 1;
    fl_buf_release(&stripped);
    if (!ok) {
        fl__regex_free(re);
        return -1;
    }
    *out = re;
    return 0;
}

/* ---- matching ---- */

struct kont; /* what to do after the current sequence: a linked stack */

struct match {
    const struct fl__regex *re;
    const char *s;
    size_t n;
    size_t caps[20];
    long steps;
    int depth;
    bool limit;
};

enum kont_kind { K_SEQ, K_REP, K_CLOSE };

struct kont {
    uint8_t kind;
    const struct rx_seq *seq; /* K_SEQ: continue seq at i */
    size_t i;
    const struct rx_node *node; /* K_REP: after one iteration of node */
    int count;
    size_t start; /* K_REP: where the iteration began; K_CLOSE: group start */
    const struct kont *next;
};

static uint32_t fold(uint32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 32;
    if (c == 0x212A)
        return 'k'; /* Kelvin sign */
    return c;
}

static bool class_has(const struct rx_class *c, uint32_t ch, bool icase)
{
    bool in = false;
    for (size_t i = 0; i < c->n && !in; i++) {
        if (ch >= c->r[i].lo && ch <= c->r[i].hi)
            in = true;
        else if (icase) {
            uint32_t f = fold(ch);
            for (uint32_t alt = 0; alt < 2 && !in; alt++) {
                uint32_t x = alt ? (f >= 'a' && f <= 'z' ? f - 32 : f) : f;
                if (x >= c->r[i].lo && x <= c->r[i].hi)
                    in = true;
            }
        }
    }
    if (in && c->minus && class_has(c->minus, ch, icase))
        in = false;
    return in != c->negate;
}

/* Match one code point with a single-width node at pos; new position or SIZE_MAX. */
static size_t one(struct match *m, const struct rx_node *nd, size_t pos)
{
    if (pos >= m->n)
        return SIZE_MAX;
    const char *p = m->s + pos;
    uint32_t c = utf8_next(&p, m->s + m->n);
    size_t next = (size_t)(p - m->s);
    switch (nd->kind) {
    case RX_CHAR:
        if (c == nd->ch || (m->re->icase && fold(c) == fold(nd->ch)))
            return next;
        return SIZE_MAX;
    case RX_ANY:
        if (!m->re->dotall && (c == '\n' || c == '\r'))
            return SIZE_MAX;
        return next;
    case RX_CLASS:
        return class_has(nd->cls, c, m->re->icase) ? next : SIZE_MAX;
    default:
        return SIZE_MAX;
    }
}

/* Whether the len bytes at a equal those at b (case-folded under flag i). */
static bool same_text(const struct match *m, size_t a, size_t b, size_t len)
{
    /* A group that matched nothing (b is SIZE_MAX) matches the empty string, as XPath says;
     * no pointer may be formed from its position. */
    if (len == 0)
        return true;
    if (!m->re->icase)
        return memcmp(m->s + a, m->s + b, len) == 0;
    const char *pa = m->s + a, *pb = m->s + b, *ea = pa + len, *eb = pb + len;
    while (pa < ea && pb < eb)
        if (fold(utf8_next(&pa, ea)) != fold(utf8_next(&pb, eb)))
            return false;
    return pa == ea && pb == eb;
}

static bool m_seq(struct match *m, const struct rx_seq *s, size_t i, size_t pos,
                  const struct kont *k);
static bool m_cont(struct match *m, size_t pos, const struct kont *k);
static bool m_rep(struct match *m, const struct rx_seq *s, size_t i, const struct rx_node *nd,
                  int count, size_t pos, size_t iter_start, const struct kont *k);

/* Single-width nodes (a character, '.', a class) repeat in a loop rather than by
 * recursion, so "x.*y" over a long text needs no deep stack. */
static bool m_simple(struct match *m, const struct rx_seq *s, size_t i, const struct rx_node *nd,
                     size_t pos, const struct kont *k)
{
    struct kont after = {K_SEQ, s, i + 1, NULL, 0, 0, k};
    size_t *at = NULL, cap = 0, cnt = 0;
    bool ok = false;
    if (nd->lazy) {
        size_t p = pos;
        for (long c = 0;; c++) {
            if (++m->steps > RX_MAX_STEPS) {
                m->limit = true;
                return false;
            }
            if (c >= nd->min && m_cont(m, p, &after))
                return true;
            if (m->limit || (nd->max >= 0 && c >= nd->max))
                return false;
            p = one(m, nd, p);
            if (p == SIZE_MAX)
                return false;
        }
    }
    fl_grow(&at, &cap, 1, sizeof(*at));
    at[cnt++] = pos;
    while (nd->max < 0 || (long)cnt - 1 < nd->max) {
        size_t np = one(m, nd, at[cnt - 1]);
        if (np == SIZE_MAX)
            break;
        if (++m->steps > RX_MAX_STEPS) {
            m->limit = true;
            goto out;
        }
        fl_grow(&at, &cap, cnt + 1, sizeof(*at));
        at[cnt++] = np;
    }
    for (size_t c = cnt; c-- > 0;) {
        if ((long)c < nd->min)
            break;
        if (m_cont(m, at[c], &after)) {
            ok = true;
            break;
        }
        if (m->limit)
            break;
    }
out:
    free(at);
    return ok;
}

/* Node nd (at s[i]) has matched count times so far, ending at pos. */
static bool m_rep_core(struct match *m, const struct rx_seq *s, size_t i,
                       const struct rx_node *nd, int count, size_t pos, size_t iter_start,
                       const struct kont *k)
{
    if (nd->kind == RX_CHAR || nd->kind == RX_ANY || nd->kind == RX_CLASS)
        return m_simple(m, s, i, nd, pos, k);
    if (++m->steps > RX_MAX_STEPS) {
        m->limit = true;
        return false;
    }
    bool can_more = (nd->max < 0 || count < nd->max) &&
                    !(count > nd->min && pos == iter_start && count > 0);
    bool can_stop = count >= nd->min;
    struct kont after = {K_SEQ, s, i + 1, NULL, 0, 0, k};
    for (int pass = 0; pass < 2; pass++) {
        bool try_more = nd->lazy ? pass == 1 : pass == 0;
        if (try_more) {
            if (!can_more)
                continue;
            if (nd->kind == RX_GROUP) {
                struct kont rep = {K_REP, s, i, nd, count + 1, pos, k};
                struct kont close = {K_CLOSE, NULL, 0, nd, 0, pos, &rep};
                for (size_t a = 0; a < nd->nalts; a++) {
                    size_t saved[20];
                    memcpy(saved, m->caps, sizeof(saved));
                    if (m_seq(m, &nd->alts[a], 0, pos, nd->group ? &close : &rep))
                        return true;
                    memcpy(m->caps, saved, sizeof(saved));
                    if (m->limit)
                        return false;
                }
            } else if (nd->kind == RX_BACKREF) {
                size_t b = m->caps[2 * nd->group], e = m->caps[2 * nd->group + 1];
                size_t len = b == SIZE_MAX || e == SIZE_MAX ? 0 : e - b;
                if (pos + len <= m->n && same_text(m, pos, b, len) &&
                    m_rep(m, s, i, nd, count + 1, pos + len, pos, k))
                    return true;
            } else {
                size_t np = one(m, nd, pos);
                if (np != SIZE_MAX && m_rep(m, s, i, nd, count + 1, np, pos, k))
                    return true;
            }
        } else if (can_stop) {
            if (m_cont(m, pos, &after))
                return true;
        }
        if (m->limit)
            return false;
    }
    return false;
}

static bool m_rep(struct match *m, const struct rx_seq *s, size_t i, const struct rx_node *nd,
                  int count, size_t pos, size_t iter_start, const struct kont *k)
{
    if (++m->depth > RX_MAX_RECURSION) {
        m->limit = true;
        m->depth--;
        return false;
    }
    bool r = m_rep_core(m, s, i, nd, count, pos, iter_start, k);
    m->depth--;
    return r;
}

static bool m_seq(struct match *m, const struct rx_seq *s, size_t i, size_t pos,
                  const struct kont *k)
{
    if (++m->steps > RX_MAX_STEPS) {
        m->limit = true;
        return false;
    }
    if (i == s->n)
        return m_cont(m, pos, k);
    const struct rx_node *nd = s->items[i];
    if (nd->kind == RX_BOL) {
        if (pos == 0 || (m->re->multiline && m->s[pos - 1] == '\n'))
            return m_seq(m, s, i + 1, pos, k);
        return false;
    }
    if (nd->kind == RX_EOL) {
        if (pos == m->n || (m->re->multiline && m->s[pos] == '\n') ||
            (pos + 1 == m->n && m->s[pos] == '\n'))
            return m_seq(m, s, i + 1, pos, k);
        return false;
    }
    return m_rep(m, s, i, nd, 0, pos, SIZE_MAX, k);
}

static bool m_cont(struct match *m, size_t pos, const struct kont *k)
{
    if (!k) {
        m->caps[1] = pos;
        return true;
    }
    switch (k->kind) {
    case K_SEQ:
        return m_seq(m, k->seq, k->i, pos, k->next);
    case K_CLOSE: {
        size_t ob = m->caps[2 * k->node->group], oe = m->caps[2 * k->node->group + 1];
        m->caps[2 * k->node->group] = k->start;
        m->caps[2 * k->node->group + 1] = pos;
        if (m_cont(m, pos, k->next))
            return true;
        m->caps[2 * k->node->group] = ob;
        m->caps[2 * k->node->group + 1] = oe;
        return false;
    }
    default: /* K_REP: one more iteration of a group done */
        return m_rep(m, k->seq, k->i, k->node, k->count, pos, k->start, k->next);
    }
}

int fl__regex_search(const struct fl__regex *re, const char *s, size_t n, size_t from,
                     size_t caps[20])
{
    struct match m;
    m.re = re;
    m.s = s;
    m.n = n;
    m.steps = 0;
    m.depth = 0;
    m.limit = false;
    for (size_t start = from; start <= n; start++) {
        if (start > from && start < n && ((unsigned char)s[start] & 0xC0) == 0x80)
            continue;
        for (int g = 0; g < 20; g++)
            m.caps[g] = SIZE_MAX;
        m.caps[0] = start;
        if (m_seq(&m, &re->top, 0, start, NULL)) {
            memcpy(caps, m.caps, sizeof(m.caps));
            return 1;
        }
        if (m.limit)
            return -1;
    }
    return 0;
}
