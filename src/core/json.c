/* JSON <-> struct fl_value, hand-written so numbers stay exact decimals (jansson would read
 * them as doubles and lose cents). The reader validates UTF-8, decodes \u escapes with
 * surrogate pairs, caps depth and size, and reports the line and column of the first
 * error; duplicate object keys keep the last value, as most JSON readers do. A typed form
 * for storage marks dates, times and durations so they come back as what they were. */
#include <stdlib.h>
#include <string.h>

#include "core/feel_impl.h"
#include "core/value_impl.h"
#include "flowd/alloc.h"
#include "util/utf8.h"

struct reader {
    const char *s;
    size_t len, pos;
    int depth;
    struct fl_error *err;
    struct fl_buf tmp; /* scratch for string decoding */
};

static int fail(struct reader *r, const char *what)
{
    int line = 1, col = 1;
    for (size_t i = 0; i < r->pos && i < r->len; i++) {
        if (r->s[i] == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)r->s[i] & 0xC0) != 0x80) {
            col++;
        }
    }
    fl_error_set(r->err, FL_EPARSE, "invalid JSON: %s at line %d, column %d", what, line, col);
    fl_error_at(r->err, NULL, line, col);
    return FL_EPARSE;
}

static void skip_ws(struct reader *r)
{
    while (r->pos < r->len) {
        char c = r->s[r->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        r->pos++;
    }
}

static int hex4(struct reader *r, uint32_t *out)
{
    uint32_t v = 0;
    if (r->len - r->pos < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        char c = r->s[r->pos + (size_t)i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    r->pos += 4;
    *out = v;
    return 0;
}

/* Decode the string at r->pos (on the opening quote) into r->tmp. */
static int read_string(struct reader *r)
{
    fl_buf_reset(&r->tmp);
    r->pos++;
    for (;;) {
        size_t start = r->pos;
        while (r->pos < r->len && r->s[r->pos] != '"' && r->s[r->pos] != '\\' &&
               (unsigned char)r->s[r->pos] >= 0x20)
            r->pos++;
        if (!fl_utf8_valid(r->s + start, r->pos - start)) {
            r->pos = start;
            return fail(r, "invalid UTF-8 in string");
        }
        fl_buf_add(&r->tmp, r->s + start, r->pos - start);
        if (r->pos >= r->len)
            return fail(r, "unterminated string");
        char c = r->s[r->pos];
        if (c == '"') {
            r->pos++;
            return 0;
        }
        if ((unsigned char)c < 0x20)
            return fail(r, "control character in string");
        r->pos++; /* backslash */
        if (r->pos >= r->len)
            return fail(r, "unterminated string");
        c = r->s[r->pos++];
        switch (c) {
        case '"': fl_buf_addc(&r->tmp, '"'); break;
        case '\\': fl_buf_addc(&r->tmp, '\\'); break;
        case '/': fl_buf_addc(&r->tmp, '/'); break;
        case 'b': fl_buf_addc(&r->tmp, '\b'); break;
        case 'f': fl_buf_addc(&r->tmp, '\f'); break;
        case 'n': fl_buf_addc(&r->tmp, '\n'); break;
        case 'r': fl_buf_addc(&r->tmp, '\r'); break;
        case 't': fl_buf_addc(&r->tmp, '\t'); break;
        case 'u': {
            uint32_t cp, lo;
            if (hex4(r, &cp))
                return fail(r, "invalid \\u escape");
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return fail(r, "unpaired surrogate in \\u escape");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (r->len - r->pos < 2 || r->s[r->pos] != '\\' || r->s[r->pos + 1] != 'u')
                    return fail(r, "unpaired surrogate in \\u escape");
                r->pos += 2;
                if (hex4(r, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return fail(r, "unpaired surrogate in \\u escape");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            fl_utf8_put(&r->tmp, cp);
            break;
        }
        default:
            r->pos--;
            return fail(r, "invalid escape in string");
        }
    }
}

static int read_value(struct reader *r, struct fl_value **out);

static int read_number(struct reader *r, struct fl_value **out)
{
    size_t start = r->pos;
    const char *s = r->s;
    if (r->pos < r->len && s[r->pos] == '-')
        r->pos++;
    if (r->pos >= r->len || s[r->pos] < '0' || s[r->pos] > '9')
        return fail(r, "invalid number");
    if (s[r->pos] == '0') {
        r->pos++;
    } else {
        while (r->pos < r->len && s[r->pos] >= '0' && s[r->pos] <= '9')
            r->pos++;
    }
    if (r->pos < r->len && s[r->pos] == '.') {
        r->pos++;
        if (r->pos >= r->len || s[r->pos] < '0' || s[r->pos] > '9')
            return fail(r, "invalid number");
        while (r->pos < r->len && s[r->pos] >= '0' && s[r->pos] <= '9')
            r->pos++;
    }
    if (r->pos < r->len && (s[r->pos] == 'e' || s[r->pos] == 'E')) {
        r->pos++;
        if (r->pos < r->len && (s[r->pos] == '+' || s[r->pos] == '-'))
            r->pos++;
        if (r->pos >= r->len || s[r->pos] < '0' || s[r->pos] > '9')
            return fail(r, "invalid number");
        while (r->pos < r->len && s[r->pos] >= '0' && s[r->pos] <= '9')
            r->pos++;
    }
    if (fl_value_number_parse(s + start, r->pos - start, out)) {
        r->pos = start;
        return fail(r, "number out of range");
    }
    return 0;
}

static bool lit(struct reader *r, const char *word)
{
    size_t n = strlen(word);
    if (r->len - r->pos >= n && memcmp(r->s + r->pos, word, n) == 0) {
        r->pos += n;
        return true;
    }
    return false;
}

static int read_container(struct reader *r, bool object, struct fl_value **out)
{
    struct fl_value *v = object ? fl_value_context_new() : fl_value_list_new();
    int rc;
    if (++r->depth > FL_JSON_MAX_DEPTH) {
        rc = fail(r, "nesting too deep");
        goto out;
    }
    r->pos++;
    skip_ws(r);
    if (r->pos < r->len && r->s[r->pos] == (object ? '}' : ']')) {
        r->pos++;
        rc = 0;
        goto out;
    }
    for (;;) {
        struct fl_value *item;
        char *key = NULL;
        size_t keylen = 0;
        skip_ws(r);
        if (object) {
            if (r->pos >= r->len || r->s[r->pos] != '"') {
                rc = fail(r, "expected string key");
                goto out;
            }
            if ((rc = read_string(r)))
                goto out;
            keylen = r->tmp.len;
            key = fl_strndup(r->tmp.ptr, keylen);
            skip_ws(r);
            if (r->pos >= r->len || r->s[r->pos] != ':') {
                free(key);
                rc = fail(r, "expected ':'");
                goto out;
            }
            r->pos++;
        }
        if ((rc = read_value(r, &item))) {
            free(key);
            goto out;
        }
        if (object) {
            fl_value_context_set(v, key, keylen, item);
            free(key);
        } else {
            fl_value_list_push(v, item);
        }
        skip_ws(r);
        if (r->pos < r->len && r->s[r->pos] == ',') {
            r->pos++;
            continue;
        }
        if (r->pos < r->len && r->s[r->pos] == (object ? '}' : ']')) {
            r->pos++;
            rc = 0;
            goto out;
        }
        rc = fail(r, object ? "expected ',' or '}'" : "expected ',' or ']'");
        goto out;
    }
out:
    r->depth--;
    if (rc) {
        fl_value_unref(v);
        return rc;
    }
    *out = v;
    return 0;
}

static int read_value(struct reader *r, struct fl_value **out)
{
    skip_ws(r);
    if (r->pos >= r->len)
        return fail(r, "unexpected end of input");
    switch (r->s[r->pos]) {
    case '{':
        return read_container(r, true, out);
    case '[':
        return read_container(r, false, out);
    case '"': {
        int rc = read_string(r);
        if (rc)
            return rc;
        *out = fl__value_string(r->tmp.ptr, r->tmp.len);
        return 0;
    }
    case 't':
        if (lit(r, "true")) {
            *out = fl_value_bool(true);
            return 0;
        }
        break;
    case 'f':
        if (lit(r, "false")) {
            *out = fl_value_bool(false);
            return 0;
        }
        break;
    case 'n':
        if (lit(r, "null")) {
            *out = fl_value_null();
            return 0;
        }
        break;
    default:
        if (r->s[r->pos] == '-' || (r->s[r->pos] >= '0' && r->s[r->pos] <= '9'))
            return read_number(r, out);
        break;
    }
    return fail(r, "unexpected character");
}

int fl_value_from_json(const char *text, size_t len, struct fl_value **out,
                       struct fl_error *err)
{
    struct reader r = {text, len, 0, 0, err, FL_BUF_INIT};
    struct fl_value *v = NULL;
    int rc;
    if (len > FL_JSON_MAX_BYTES) {
        rc = fl_error_set(err, FL_ETOOBIG, "JSON text of %zu bytes exceeds the limit of %zu",
                          len, (size_t)FL_JSON_MAX_BYTES);
        goto out;
    }
    if ((rc = read_value(&r, &v)))
        goto out;
    skip_ws(&r);
    if (r.pos != r.len) {
        fl_value_unref(v);
        v = NULL;
        rc = fail(&r, "trailing characters after JSON value");
        goto out;
    }
    *out = v;
out:
    fl_buf_release(&r.tmp);
    return rc;
}

void fl_json_string(struct fl_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (!s) {
        fl_buf_add(out, "null", 4);
        return;
    }
    fl_buf_addc(out, '"');
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        fl_buf_add(out, s + start, i - start);
        start = i + 1;
        switch (c) {
        case '"': fl_buf_adds(out, "\\\""); break;
        case '\\': fl_buf_adds(out, "\\\\"); break;
        case '\n': fl_buf_adds(out, "\\n"); break;
        case '\r': fl_buf_adds(out, "\\r"); break;
        case '\t': fl_buf_adds(out, "\\t"); break;
        case '\b': fl_buf_adds(out, "\\b"); break;
        case '\f': fl_buf_adds(out, "\\f"); break;
        default: {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            fl_buf_add(out, e, 6);
        }
        }
    }
    fl_buf_add(out, s + start, n - start);
    fl_buf_addc(out, '"');
}

void fl_json_cstring(struct fl_buf *out, const char *s)
{
    fl_json_string(out, s, s ? strlen(s) : 0);
}

/* The key of the one-member object that marks a temporal value in the typed form. */
#define TEMPORAL_KEY "\0feel"
#define TEMPORAL_KEY_LEN 5

static void write_rec(const struct fl_value *v, struct fl_buf *out, bool typed)
{
    switch (fl_value_type(v)) {
    case FL_VNULL:
    case FL_VRANGE:
    case FL_VFUNCTION:
        fl_buf_adds(out, "null");
        break;
    case FL_VBOOL:
        fl_buf_adds(out, v->u.b ? "true" : "false");
        break;
    case FL_VNUMBER:
        fl_dec_format(&v->u.num, out);
        break;
    case FL_VSTRING:
        fl_json_string(out, v->u.str.s, v->u.str.len);
        break;
    case FL_VLIST:
        fl_buf_addc(out, '[');
        for (size_t i = 0; i < v->u.list.len; i++) {
            if (i)
                fl_buf_addc(out, ',');
            write_rec(v->u.list.items[i], out, typed);
        }
        fl_buf_addc(out, ']');
        break;
    case FL_VCONTEXT:
        fl_buf_addc(out, '{');
        for (size_t i = 0; i < v->u.ctx.len; i++) {
            if (i)
                fl_buf_addc(out, ',');
            fl_json_string(out, v->u.ctx.ents[i].key, v->u.ctx.ents[i].keylen);
            fl_buf_addc(out, ':');
            write_rec(v->u.ctx.ents[i].val, out, typed);
        }
        fl_buf_addc(out, '}');
        break;
    default: {
        struct fl_buf t = FL_BUF_INIT;
        fl__format_temporal(v, &t);
        if (typed) {
            fl_buf_addc(out, '{');
            fl_json_string(out, TEMPORAL_KEY, TEMPORAL_KEY_LEN);
            fl_buf_addc(out, ':');
        }
        fl_json_string(out, t.ptr, t.len);
        if (typed)
            fl_buf_addc(out, '}');
        fl_buf_release(&t);
        break;
    }
    }
}

int fl_value_to_json(const struct fl_value *v, struct fl_buf *out)
{
    write_rec(v, out, false);
    return out->err;
}

bool fl_value_has_temporal(const struct fl_value *v)
{
    switch (fl_value_type(v)) {
    case FL_VDATE:
    case FL_VTIME:
    case FL_VDATETIME:
    case FL_VDTDURATION:
    case FL_VYMDURATION:
        return true;
    case FL_VLIST:
        for (size_t i = 0; i < v->u.list.len; i++)
            if (fl_value_has_temporal(v->u.list.items[i]))
                return true;
        return false;
    case FL_VCONTEXT:
        for (size_t i = 0; i < v->u.ctx.len; i++)
            if (fl_value_has_temporal(v->u.ctx.ents[i].val))
                return true;
        return false;
    default:
        return false;
    }
}

int fl_value_to_json_typed(const struct fl_value *v, struct fl_buf *out)
{
    write_rec(v, out, true);
    return out->err;
}

/* v with every temporal marker replaced by its value: a new reference, or NULL when a
 * marker's text is no date, time or duration. */
static struct fl_value *revive(const struct fl_value *v)
{
    struct fl_value *r, *item;
    if (fl_value_type(v) == FL_VLIST) {
        r = fl_value_list_new();
        for (size_t i = 0; i < v->u.list.len; i++) {
            if (!(item = revive(v->u.list.items[i]))) {
                fl_value_unref(r);
                return NULL;
            }
            fl_value_list_push(r, item);
        }
        return r;
    }
    if (fl_value_type(v) != FL_VCONTEXT)
        return fl_value_ref(v);
    if (v->u.ctx.len == 1 && v->u.ctx.ents[0].keylen == TEMPORAL_KEY_LEN &&
        !memcmp(v->u.ctx.ents[0].key, TEMPORAL_KEY, TEMPORAL_KEY_LEN) &&
        fl_value_type(v->u.ctx.ents[0].val) == FL_VSTRING) {
        const struct fl_value *t = v->u.ctx.ents[0].val;
        return fl__feel_parse_temporal(t->u.str.s, t->u.str.len, &r) == 0 ? r : NULL;
    }
    r = fl_value_context_new();
    for (size_t i = 0; i < v->u.ctx.len; i++) {
        if (!(item = revive(v->u.ctx.ents[i].val))) {
            fl_value_unref(r);
            return NULL;
        }
        fl_value_context_set(r, v->u.ctx.ents[i].key, v->u.ctx.ents[i].keylen, item);
    }
    return r;
}

int fl_value_from_json_typed(const char *text, size_t len, struct fl_value **out,
                             struct fl_error *err)
{
    struct fl_value *v = NULL;
    int rc = fl_value_from_json(text, len, &v, err);
    if (rc != 0)
        return rc;
    *out = revive(v);
    fl_value_unref(v);
    if (!*out)
        return fl_error_set(err, FL_EPARSE, "a stored date, time or duration is not one");
    return 0;
}
