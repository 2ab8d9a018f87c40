/* Source positions for the BPMN reader. libxml2 keeps only a line per element (and its
 * recorded node info is unreliable for elements with children in 2.9), so we find each
 * element's start tag ourselves: one scan of the source lists the start tags in document
 * order, which is the tree's pre-order, and each element gets its tag's byte offset. From
 * that and a table of line starts we compute the line and the column (in characters) of
 * a start tag, of one of its attributes, or of a character inside its text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/bpmn_internal.h"
#include "flowd/alloc.h"

void fl__bpmn_lines_init(struct fl__bpmn_reader *rd)
{
    size_t cap = 0, i, c;
    rd->n_lines = 0;
    fl_grow(&rd->line_starts, &cap, 1, sizeof(size_t));
    rd->line_starts[rd->n_lines++] = 0;
    for (i = 0; i < rd->len; i++) {
        char ch = rd->xml[i];
        /* libxml2 normalises CR LF and lone CR to LF, so both end a line */
        if (ch == '\n' || (ch == '\r' && (i + 1 >= rd->len || rd->xml[i + 1] != '\n'))) {
            fl_grow(&rd->line_starts, &cap, rd->n_lines + 1, sizeof(size_t));
            rd->line_starts[rd->n_lines++] = i + 1;
        }
    }
    /* running character counts per block, so a column on a long line (a whole document
     * on one line is common) costs at most one block's scan, not the line's */
    rd->chars_before = fl_calloc(rd->len / FL__BPMN_BLOCK + 1, sizeof(size_t));
    for (i = 0, c = 0; i <= rd->len; i++) {
        if (i % FL__BPMN_BLOCK == 0)
            rd->chars_before[i / FL__BPMN_BLOCK] = c;
        if (i < rd->len && ((unsigned char)rd->xml[i] & 0xC0) != 0x80) /* UTF-8 lead bytes */
            c++;
    }
}

/* Characters in the source before byte offset off. */
static size_t chars_before(const struct fl__bpmn_reader *rd, size_t off)
{
    size_t i = off / FL__BPMN_BLOCK * FL__BPMN_BLOCK, c = rd->chars_before[off / FL__BPMN_BLOCK];
    for (; i < off; i++)
        if (((unsigned char)rd->xml[i] & 0xC0) != 0x80)
            c++;
    return c;
}

/* Line and column of byte offset off of the source. */
static void pos_of_offset(const struct fl__bpmn_reader *rd, size_t off, int *line, int *col)
{
    size_t lo = 0, hi = rd->n_lines;
    if (!rd->chars_before) {
        *line = *col = 0;
        return;
    }
    if (off > rd->len)
        off = rd->len;
    while (hi - lo > 1) { /* last line start <= off */
        size_t mid = lo + (hi - lo) / 2;
        if (rd->line_starts[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    *line = (int)lo + 1;
    *col = (int)(chars_before(rd, off) - chars_before(rd, rd->line_starts[lo]) + 1);
}

/* Byte offset of node's '<' in the source, or (size_t)-1 when not known. */
static size_t node_offset(const struct fl__bpmn_reader *rd, const xmlNode *node)
{
    (void)rd;
    if (!node || node->type != XML_ELEMENT_NODE || !node->_private)
        return (size_t)-1;
    return (size_t)((uintptr_t)node->_private - 1);
}

/* Skip from i to just past the terminator term (of length n), or to the end. */
static size_t skip_past(const char *s, size_t len, size_t i, const char *term)
{
    size_t n = strlen(term);
    for (; i + n <= len; i++)
        if (!memcmp(s + i, term, n))
            return i + n;
    return len;
}

/* Offset of the '>' that ends the tag whose inside starts at i, or len: '>' may appear
 * inside quoted attribute values, so those are stepped over. */
static size_t tag_end(const char *s, size_t len, size_t i)
{
    char q = 0;
    for (; i < len; i++) {
        if (q) {
            if (s[i] == q)
                q = 0;
        } else if (s[i] == '"' || s[i] == '\'') {
            q = s[i];
        } else if (s[i] == '>') {
            break;
        }
    }
    return i;
}

/* Offsets of all start tags, in document order. */
static size_t *scan_start_tags(const char *s, size_t len, size_t *count)
{
    size_t *tags = NULL, cap = 0, n = 0, i = 0;
    while (i < len) {
        const char *lt = memchr(s + i, '<', len - i);
        if (!lt)
            break;
        i = (size_t)(lt - s);
        if (len - i >= 4 && !memcmp(s + i, "<!--", 4)) {
            i = skip_past(s, len, i + 4, "-->");
        } else if (len - i >= 9 && !memcmp(s + i, "<![CDATA[", 9)) {
            i = skip_past(s, len, i + 9, "]]>");
        } else if (len - i >= 2 && s[i + 1] == '?') {
            i = skip_past(s, len, i + 2, "?>");
        } else if (len - i >= 2 && s[i + 1] == '!') { /* DOCTYPE with its internal subset */
            int depth = 0;
            char q = 0;
            for (i += 2; i < len; i++) {
                if (q) {
                    if (s[i] == q)
                        q = 0;
                } else if (s[i] == '"' || s[i] == '\'') {
                    q = s[i];
                } else if (s[i] == '[') {
                    depth++;
                } else if (s[i] == ']') {
                    depth--;
                } else if (s[i] == '>' && depth <= 0) {
                    break;
                }
            }
            i++;
        } else if (len - i >= 2 && s[i + 1] == '/') {
            i += 2;
        } else {
            fl_grow(&tags, &cap, n + 1, sizeof(*tags));
            tags[n++] = i;
            i = tag_end(s, len, i + 1);
        }
    }
    *count = n;
    return tags;
}

/* Does the tag at off spell node's qualified name? */
static bool tag_matches(const struct fl__bpmn_reader *rd, size_t off, const xmlNode *node)
{
    const char *s = rd->xml + off + 1;
    size_t room = rd->len - off - 1, pl = 0, nl = strlen((const char *)node->name);
    if (node->ns && node->ns->prefix) {
        pl = strlen((const char *)node->ns->prefix);
        if (room < pl + 1 || memcmp(s, node->ns->prefix, pl) || s[pl] != ':')
            return false;
        pl++;
    }
    if (room < pl + nl || memcmp(s + pl, node->name, nl))
        return false;
    return room == pl + nl || !(s[pl + nl] == ':' || s[pl + nl] == '-' || s[pl + nl] == '_' ||
                                s[pl + nl] == '.' || (s[pl + nl] >= '0' && s[pl + nl] <= '9') ||
                                ((s[pl + nl] | 0x20) >= 'a' && (s[pl + nl] | 0x20) <= 'z') ||
                                (unsigned char)s[pl + nl] >= 0x80);
}

/* Pre-order walk pairing elements with tags; stops pairing at the first mismatch (an
 * element the scan cannot see), after which positions fall back to libxml2's lines. */
static void pair_tags(const struct fl__bpmn_reader *rd, xmlNode *node, const size_t *tags, size_t n,
                      size_t *k, bool *ok)
{
    for (; node && *ok; node = node->next) {
        if (node->type != XML_ELEMENT_NODE)
            continue;
        if (*k >= n || !tag_matches(rd, tags[*k], node)) {
            *ok = false;
            return;
        }
        node->_private = (void *)(uintptr_t)(tags[(*k)++] + 1);
        pair_tags(rd, node->children, tags, n, k, ok);
    }
}

void fl__bpmn_index_tags(struct fl__bpmn_reader *rd)
{
    size_t n, k = 0;
    bool ok = true;
    size_t *tags = scan_start_tags(rd->xml, rd->len, &n);
    pair_tags(rd, xmlDocGetRootElement(rd->doc), tags, n, &k, &ok);
    free(tags);
}

void fl__bpmn_node_pos(const struct fl__bpmn_reader *rd, const xmlNode *node, int *line, int *col)
{
    size_t off = node_offset(rd, node);
    if (off == (size_t)-1) {
        long l = node ? xmlGetLineNo(node) : 0;
        *line = l > 0 && l < 1000000000 ? (int)l : 0;
        *col = *line ? 1 : 0;
        return;
    }
    pos_of_offset(rd, off, line, col);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Does the raw attribute name (maybe prefixed) n..n+len name attribute name? */
static bool attr_name_matches(const char *n, size_t len, const char *name)
{
    size_t k = strlen(name);
    if (len == k && !memcmp(n, name, k))
        return true;
    return len > k && n[len - k - 1] == ':' && !memcmp(n + len - k, name, k);
}

/* Scan the start tag at off for attribute name; returns the offset of its value or
 * (size_t)-1. Stops at the end of the tag, so this is linear in the tag's length. */
static size_t find_attr(const struct fl__bpmn_reader *rd, size_t off, const char *name)
{
    const char *s = rd->xml;
    size_t i = off + 1, n = rd->len;
    while (i < n && !is_space(s[i]) && s[i] != '>' && s[i] != '/')
        i++; /* the element name */
    for (;;) {
        size_t ns, ne;
        char q;
        while (i < n && is_space(s[i]))
            i++;
        if (i >= n || s[i] == '>' || s[i] == '/')
            return (size_t)-1;
        ns = i;
        while (i < n && s[i] != '=' && !is_space(s[i]) && s[i] != '>')
            i++;
        ne = i;
        while (i < n && is_space(s[i]))
            i++;
        if (i >= n || s[i] != '=')
            return (size_t)-1;
        i++;
        while (i < n && is_space(s[i]))
            i++;
        if (i >= n || (s[i] != '"' && s[i] != '\''))
            return (size_t)-1;
        q = s[i++];
        if (attr_name_matches(s + ns, ne - ns, name))
            return i;
        while (i < n && s[i] != q)
            i++;
        i++;
    }
}

void fl__bpmn_attr_pos(const struct fl__bpmn_reader *rd, const xmlNode *node, const char *name,
                       int *line, int *col)
{
    size_t off = node_offset(rd, node), v;
    if (off == (size_t)-1 || (v = find_attr(rd, off, name)) == (size_t)-1) {
        fl__bpmn_node_pos(rd, node, line, col);
        return;
    }
    pos_of_offset(rd, v, line, col);
}

/* Bytes that the character reference or entity at s (after '&', up to ';') decodes to. */
static size_t entity_len(const char *s, size_t n)
{
    unsigned long cp = 0;
    size_t i = 0;
    if (n == 0 || s[0] != '#')
        return 1; /* &lt; &gt; &amp; &quot; &apos; */
    if (n > 1 && (s[1] == 'x' || s[1] == 'X')) {
        for (i = 2; i < n; i++)
            cp = cp * 16 + (unsigned long)(s[i] <= '9' ? s[i] - '0' : (s[i] | 0x20) - 'a' + 10);
    } else {
        for (i = 1; i < n; i++)
            cp = cp * 10 + (unsigned long)(s[i] - '0');
    }
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

void fl__bpmn_text_pos(const struct fl__bpmn_reader *rd, const xmlNode *node, size_t off, int *line,
                       int *col)
{
    const char *s = rd->xml;
    size_t i = node_offset(rd, node), n = rd->len, done = 0;
    bool cdata = false;
    if (i == (size_t)-1) {
        fl__bpmn_node_pos(rd, node, line, col);
        return;
    }
    i = tag_end(s, n, i);
    if (i < n)
        i++; /* past the '>' */
    /* walk the raw text, counting the bytes it decodes to, until off of them are behind */
    while (i < n) {
        if (!cdata && n - i >= 9 && !memcmp(s + i, "<![CDATA[", 9)) {
            cdata = true;
            i += 9;
            continue;
        }
        if (cdata && n - i >= 3 && !memcmp(s + i, "]]>", 3)) {
            cdata = false;
            i += 3;
            continue;
        }
        if (!cdata && s[i] == '<')
            break;
        if (done >= off)
            break;
        if (!cdata && s[i] == '&') {
            size_t j = i + 1;
            while (j < n && j - i < 12 && s[j] != ';')
                j++;
            done += entity_len(s + i + 1, j - i - 1);
            i = j + 1;
            continue;
        }
        if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
            i++;
            continue;
        }
        done++;
        i++;
    }
    pos_of_offset(rd, i, line, col);
}

void fl__bpmn_attr_text_pos(const struct fl__bpmn_reader *rd, const xmlNode *node, const char *name,
                            size_t off, int *line, int *col)
{
    const char *s = rd->xml;
    size_t i = node_offset(rd, node), n = rd->len, done = 0;
    char q;
    if (i == (size_t)-1 || (i = find_attr(rd, i, name)) == (size_t)-1 || i == 0) {
        fl__bpmn_attr_pos(rd, node, name, line, col);
        return;
    }
    q = s[i - 1]; /* the opening quote */
    while (i < n && s[i] != q && done < off) {
        if (s[i] == '&') {
            size_t j = i + 1;
            while (j < n && j - i < 12 && s[j] != ';')
                j++;
            done += entity_len(s + i + 1, j - i - 1);
            i = j + 1;
            continue;
        }
        done++;
        i++;
    }
    pos_of_offset(rd, i, line, col);
}
