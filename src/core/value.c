/* struct fl_value: construction, refcounting, freezing, accessors, equality and the FEEL
 * text form. null, true and false are static singletons so the hot path of condition
 * evaluation allocates nothing; contexts keep insertion order and add a hash index once
 * they grow past a few entries so large variable sets stay fast to look up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/value_impl.h"
#include "flowd/alloc.h"
#include "flowd/timecalc.h"
#include "util/utf8.h"

#define CTX_INDEX_MIN 16

static struct fl_value null_value = {0, FL_VNULL, 1, 1, {.b = false}};
static struct fl_value true_value = {0, FL_VBOOL, 1, 1, {.b = true}};
static struct fl_value false_value = {0, FL_VBOOL, 1, 1, {.b = false}};

static struct fl_value *alloc_value(enum fl_vtype t, size_t extra)
{
    struct fl_value *v = fl_calloc(1, sizeof(*v) + extra);
    v->refs = 1;
    v->type = (uint8_t)t;
    return v;
}

/* Values are immutable, so handing out a non-const reference is how refcounting shares
 * them; the cast goes through uintptr_t to say so explicitly. */
static struct fl_value *unconst(const struct fl_value *v)
{
    return (struct fl_value *)(uintptr_t)v;
}

struct fl_value *fl_value_ref(const struct fl_value *v)
{
    struct fl_value *m = unconst(v);
    if (m && !m->frozen)
        m->refs++;
    return m;
}

static void free_contents(struct fl_value *v)
{
    switch ((enum fl_vtype)v->type) {
    case FL_VLIST:
        for (size_t i = 0; i < v->u.list.len; i++)
            fl_value_unref(v->u.list.items[i]);
        free(v->u.list.items);
        break;
    case FL_VCONTEXT:
        for (size_t i = 0; i < v->u.ctx.len; i++) {
            free(v->u.ctx.ents[i].key);
            fl_value_unref(v->u.ctx.ents[i].val);
        }
        free(v->u.ctx.ents);
        free(v->u.ctx.index);
        break;
    case FL_VRANGE:
        fl_value_unref(v->u.range.lo);
        fl_value_unref(v->u.range.hi);
        break;
    case FL_VFUNCTION:
        fl_value_unref(v->u.fn.closure);
        break;
    case FL_VTIME:
    case FL_VDATETIME:
        free(v->u.dt.tz.zone);
        break;
    default:
        break;
    }
}

void fl_value_unref(struct fl_value *v)
{
    if (!v || v->frozen)
        return;
    if (--v->refs > 0)
        return;
    free_contents(v);
    free(v);
}

static void set_frozen(struct fl_value *v, uint8_t f)
{
    if (!v || v->is_static)
        return;
    v->frozen = f;
    switch ((enum fl_vtype)v->type) {
    case FL_VLIST:
        for (size_t i = 0; i < v->u.list.len; i++)
            set_frozen(v->u.list.items[i], f);
        break;
    case FL_VCONTEXT:
        for (size_t i = 0; i < v->u.ctx.len; i++)
            set_frozen(v->u.ctx.ents[i].val, f);
        break;
    case FL_VRANGE:
        set_frozen(v->u.range.lo, f);
        set_frozen(v->u.range.hi, f);
        break;
    case FL_VFUNCTION:
        set_frozen(v->u.fn.closure, f);
        break;
    default:
        break;
    }
}

void fl_value_freeze(struct fl_value *v)
{
    set_frozen(v, 1);
}

void fl_value_free_frozen(struct fl_value *v)
{
    /* Refcounts were left untouched while frozen, so thawing and dropping the owner's
     * reference frees exactly what the tree owns, shared children included. */
    set_frozen(v, 0);
    fl_value_unref(v);
}

static bool has_frozen(const struct fl_value *v, int depth)
{
    if (!v || v->is_static)
        return false;
    if (v->frozen || depth > 256)
        return true;
    switch ((enum fl_vtype)v->type) {
    case FL_VLIST:
        for (size_t i = 0; i < v->u.list.len; i++)
            if (has_frozen(v->u.list.items[i], depth + 1))
                return true;
        return false;
    case FL_VCONTEXT:
        for (size_t i = 0; i < v->u.ctx.len; i++)
            if (has_frozen(v->u.ctx.ents[i].val, depth + 1))
                return true;
        return false;
    case FL_VRANGE:
        return has_frozen(v->u.range.lo, depth + 1) || has_frozen(v->u.range.hi, depth + 1);
    case FL_VFUNCTION:
        return has_frozen(v->u.fn.closure, depth + 1);
    default:
        return false;
    }
}

static struct fl_value *copy_rec(const struct fl_value *v)
{
    struct fl_value *c;
    if (!v || v->is_static || !has_frozen(v, 0))
        return fl_value_ref(v);
    switch ((enum fl_vtype)v->type) {
    case FL_VSTRING:
        return fl__value_string(v->u.str.s, v->u.str.len);
    case FL_VLIST:
        c = fl__value_list_sized(v->u.list.len);
        for (size_t i = 0; i < v->u.list.len; i++)
            fl_value_list_push(c, copy_rec(v->u.list.items[i]));
        return c;
    case FL_VCONTEXT:
        c = fl_value_context_new();
        for (size_t i = 0; i < v->u.ctx.len; i++)
            fl_value_context_set(c, v->u.ctx.ents[i].key, v->u.ctx.ents[i].keylen,
                                 copy_rec(v->u.ctx.ents[i].val));
        return c;
    case FL_VRANGE:
        return fl__value_range(copy_rec(v->u.range.lo), v->u.range.lo_closed,
                               copy_rec(v->u.range.hi), v->u.range.hi_closed);
    case FL_VFUNCTION:
        return fl__value_function(v->u.fn.builtin, v->u.fn.def, copy_rec(v->u.fn.closure));
    case FL_VTIME:
    case FL_VDATETIME:
        return fl__value_datetime_copy(v);
    default:
        c = alloc_value((enum fl_vtype)v->type, 0);
        c->u = v->u;
        return c;
    }
}

struct fl_value *fl__value_detach(const struct fl_value *v)
{
    return copy_rec(v);
}

struct fl_value *fl_value_null(void)
{
    return &null_value;
}

struct fl_value *fl_value_bool(bool b)
{
    return b ? &true_value : &false_value;
}

struct fl_value *fl__value_number(const struct fl_dec *d)
{
    struct fl_value *v = alloc_value(FL_VNUMBER, 0);
    v->u.num = *d;
    return v;
}

struct fl_value *fl_value_int(int64_t n)
{
    struct fl_dec d;
    fl_dec_from_int(n, &d);
    return fl__value_number(&d);
}

int fl_value_number_parse(const char *s, size_t len, struct fl_value **out)
{
    struct fl_dec d;
    if (fl_dec_parse(s, len, &d))
        return FL_EPARSE;
    *out = fl__value_number(&d);
    return 0;
}

struct fl_value *fl__value_string(const char *s, size_t len)
{
    struct fl_value *v = alloc_value(FL_VSTRING, len + 1);
    v->u.str.s = (char *)(v + 1);
    memcpy(v->u.str.s, s, len);
    v->u.str.s[len] = 0;
    v->u.str.len = len;
    return v;
}

int fl_value_string_new(const char *s, size_t len, struct fl_value **out)
{
    if (!fl_utf8_valid(s, len))
        return FL_EINVAL;
    *out = fl__value_string(s, len);
    return 0;
}

struct fl_value *fl_value_cstring(const char *s)
{
    return fl__value_string(s, strlen(s));
}

struct fl_value *fl_value_list_new(void)
{
    return alloc_value(FL_VLIST, 0);
}

struct fl_value *fl__value_list_sized(size_t n)
{
    struct fl_value *v = alloc_value(FL_VLIST, 0);
    if (n) {
        v->u.list.items = fl_calloc(n, sizeof(*v->u.list.items));
        v->u.list.cap = n;
    }
    return v;
}

struct fl_value *fl_value_context_new(void)
{
    return alloc_value(FL_VCONTEXT, 0);
}

void fl_value_list_push(struct fl_value *list, struct fl_value *item)
{
    if (list->u.list.len == list->u.list.cap)
        fl_grow(&list->u.list.items, &list->u.list.cap, list->u.list.len + 1,
                sizeof(*list->u.list.items));
    list->u.list.items[list->u.list.len++] = item;
}

static uint32_t hash_key(const char *k, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 16777619u;
    }
    return h;
}

static void index_insert(struct fl_value *ctx, size_t pos)
{
    size_t mask = ctx->u.ctx.index_cap - 1;
    size_t h = hash_key(ctx->u.ctx.ents[pos].key, ctx->u.ctx.ents[pos].keylen) & mask;
    while (ctx->u.ctx.index[h])
        h = (h + 1) & mask;
    ctx->u.ctx.index[h] = (uint32_t)(pos + 1);
}

static void index_rebuild(struct fl_value *ctx)
{
    size_t cap = 32;
    while (cap < ctx->u.ctx.len * 2)
        cap *= 2;
    free(ctx->u.ctx.index);
    ctx->u.ctx.index = fl_calloc(cap, sizeof(uint32_t));
    ctx->u.ctx.index_cap = cap;
    for (size_t i = 0; i < ctx->u.ctx.len; i++)
        index_insert(ctx, i);
}

long fl__context_find(const struct fl_value *ctx, const char *key, size_t keylen)
{
    if (!ctx || ctx->type != FL_VCONTEXT)
        return -1;
    if (ctx->u.ctx.index) {
        size_t mask = ctx->u.ctx.index_cap - 1;
        size_t h = hash_key(key, keylen) & mask;
        uint32_t slot;
        while ((slot = ctx->u.ctx.index[h]) != 0) {
            const struct fl_ctx_entry *e = &ctx->u.ctx.ents[slot - 1];
            if (e->keylen == keylen && memcmp(e->key, key, keylen) == 0)
                return (long)slot - 1;
            h = (h + 1) & mask;
        }
        return -1;
    }
    for (size_t i = 0; i < ctx->u.ctx.len; i++) {
        const struct fl_ctx_entry *e = &ctx->u.ctx.ents[i];
        if (e->keylen == keylen && memcmp(e->key, key, keylen) == 0)
            return (long)i;
    }
    return -1;
}

void fl_value_context_set(struct fl_value *ctx, const char *key, size_t keylen,
                          struct fl_value *val)
{
    long at = fl__context_find(ctx, key, keylen);
    if (at >= 0) {
        fl_value_unref(ctx->u.ctx.ents[at].val);
        ctx->u.ctx.ents[at].val = val;
        return;
    }
    if (ctx->u.ctx.len == ctx->u.ctx.cap)
        fl_grow(&ctx->u.ctx.ents, &ctx->u.ctx.cap, ctx->u.ctx.len + 1,
                sizeof(*ctx->u.ctx.ents));
    struct fl_ctx_entry *e = &ctx->u.ctx.ents[ctx->u.ctx.len++];
    e->key = fl_strndup(key, keylen);
    e->keylen = keylen;
    e->val = val;
    if (ctx->u.ctx.index) {
        if (ctx->u.ctx.len * 2 > ctx->u.ctx.index_cap)
            index_rebuild(ctx);
        else
            index_insert(ctx, ctx->u.ctx.len - 1);
    } else if (ctx->u.ctx.len >= CTX_INDEX_MIN) {
        index_rebuild(ctx);
    }
}

void fl__tz_copy(struct fl_tz *dst, const struct fl_tz *src)
{
    if (!src) {
        memset(dst, 0, sizeof(*dst));
        return;
    }
    *dst = *src;
    dst->zone = src->zone ? fl_strdup(src->zone) : NULL;
}

bool fl__tz_offset(const struct fl_tz *tz, int64_t days, int64_t nanos, bool has_date,
                   int32_t *offset_sec)
{
    if (tz->kind == FL_TZ_OFFSET) {
        *offset_sec = tz->offset_sec;
        return true;
    }
    if (tz->kind == FL_TZ_ZONE && tz->zone)
        return fl__tz_zone_offset(tz->zone, days, nanos, has_date, offset_sec);
    return false;
}

bool fl__dt_offset(const struct fl_value *v, int32_t *offset_sec)
{
    bool dated = v->type == FL_VDATETIME;
    return fl__tz_offset(&v->u.dt.tz, dated ? v->u.dt.days : 0, v->u.dt.nanos, dated,
                         offset_sec);
}

struct fl_value *fl__value_date(int64_t days)
{
    struct fl_value *v = alloc_value(FL_VDATE, 0);
    v->u.date = days;
    return v;
}

struct fl_value *fl__value_time(int64_t nanos, const struct fl_tz *tz)
{
    struct fl_value *v = alloc_value(FL_VTIME, 0);
    v->u.dt.nanos = nanos;
    fl__tz_copy(&v->u.dt.tz, tz);
    return v;
}

struct fl_value *fl__value_datetime(int64_t days, int64_t nanos, const struct fl_tz *tz)
{
    struct fl_value *v = alloc_value(FL_VDATETIME, 0);
    v->u.dt.days = days;
    v->u.dt.nanos = nanos;
    fl__tz_copy(&v->u.dt.tz, tz);
    return v;
}

struct fl_value *fl__value_datetime_copy(const struct fl_value *v)
{
    struct fl_value *c = alloc_value((enum fl_vtype)v->type, 0);
    c->u.dt.days = v->u.dt.days;
    c->u.dt.nanos = v->u.dt.nanos;
    fl__tz_copy(&c->u.dt.tz, &v->u.dt.tz);
    return c;
}

struct fl_value *fl__value_dtduration(fl_i128 nanos)
{
    struct fl_value *v = alloc_value(FL_VDTDURATION, 0);
    v->u.dtdur = nanos;
    return v;
}

struct fl_value *fl__value_ymduration(int64_t months)
{
    struct fl_value *v = alloc_value(FL_VYMDURATION, 0);
    v->u.ymdur = months;
    return v;
}

struct fl_value *fl__value_range(struct fl_value *lo, bool lo_closed, struct fl_value *hi,
                                 bool hi_closed)
{
    struct fl_value *v = alloc_value(FL_VRANGE, 0);
    v->u.range.lo = lo;
    v->u.range.hi = hi;
    v->u.range.lo_closed = lo_closed;
    v->u.range.hi_closed = hi_closed;
    return v;
}

struct fl_value *fl__value_function(int builtin, const void *def, struct fl_value *closure)
{
    struct fl_value *v = alloc_value(FL_VFUNCTION, 0);
    v->u.fn.builtin = builtin;
    v->u.fn.def = def;
    v->u.fn.closure = closure;
    return v;
}

enum fl_vtype fl_value_type(const struct fl_value *v)
{
    return v ? (enum fl_vtype)v->type : FL_VNULL;
}

const char *fl_value_type_name(enum fl_vtype t)
{
    switch (t) {
    case FL_VNULL: return "Null";
    case FL_VBOOL: return "boolean";
    case FL_VNUMBER: return "number";
    case FL_VSTRING: return "string";
    case FL_VDATE: return "date";
    case FL_VTIME: return "time";
    case FL_VDATETIME: return "date and time";
    case FL_VDTDURATION: return "days and time duration";
    case FL_VYMDURATION: return "years and months duration";
    case FL_VLIST: return "list";
    case FL_VCONTEXT: return "context";
    case FL_VRANGE: return "range";
    case FL_VFUNCTION: return "function";
    }
    return "unknown";
}

bool fl_value_is_true(const struct fl_value *v)
{
    return v && v->type == FL_VBOOL && v->u.b;
}

const char *fl_value_str(const struct fl_value *v, size_t *len)
{
    if (!v || v->type != FL_VSTRING)
        return NULL;
    if (len)
        *len = v->u.str.len;
    return v->u.str.s;
}

int fl_value_to_int64(const struct fl_value *v, int64_t *out)
{
    if (!v || v->type != FL_VNUMBER)
        return FL_ETYPE;
    return fl_dec_to_int64(&v->u.num, out);
}

int fl_value_number_format(const struct fl_value *v, struct fl_buf *out)
{
    if (!v || v->type != FL_VNUMBER)
        return FL_ETYPE;
    return fl_dec_format(&v->u.num, out);
}

size_t fl_value_list_len(const struct fl_value *v)
{
    return v && v->type == FL_VLIST ? v->u.list.len : 0;
}

const struct fl_value *fl_value_list_at(const struct fl_value *v, size_t i)
{
    if (!v || v->type != FL_VLIST || i >= v->u.list.len)
        return NULL;
    return v->u.list.items[i];
}

size_t fl_value_context_len(const struct fl_value *v)
{
    return v && v->type == FL_VCONTEXT ? v->u.ctx.len : 0;
}

const char *fl_value_context_key(const struct fl_value *v, size_t i, size_t *keylen)
{
    if (!v || v->type != FL_VCONTEXT || i >= v->u.ctx.len)
        return NULL;
    if (keylen)
        *keylen = v->u.ctx.ents[i].keylen;
    return v->u.ctx.ents[i].key;
}

const struct fl_value *fl_value_context_val(const struct fl_value *v, size_t i)
{
    if (!v || v->type != FL_VCONTEXT || i >= v->u.ctx.len)
        return NULL;
    return v->u.ctx.ents[i].val;
}

const struct fl_value *fl_value_context_get(const struct fl_value *v, const char *key,
                                            size_t keylen)
{
    long at = fl__context_find(v, key, keylen);
    return at < 0 ? NULL : v->u.ctx.ents[at].val;
}

struct fl_value *fl_value_context_copy(const struct fl_value *v)
{
    struct fl_value *c = fl_value_context_new();
    for (size_t i = 0; i < fl_value_context_len(v); i++)
        fl_value_context_set(c, v->u.ctx.ents[i].key, v->u.ctx.ents[i].keylen,
                             fl_value_ref(v->u.ctx.ents[i].val));
    return c;
}

static bool tz_equal(const struct fl_tz *a, const struct fl_tz *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind == FL_TZ_OFFSET)
        return a->offset_sec == b->offset_sec;
    if (a->kind == FL_TZ_ZONE)
        return strcmp(a->zone, b->zone) == 0;
    return true;
}

bool fl_value_equal(const struct fl_value *a, const struct fl_value *b)
{
    if (!a || !b)
        return a == b;
    if (a == b)
        return true;
    if (a->type != b->type)
        return false;
    switch ((enum fl_vtype)a->type) {
    case FL_VNULL:
        return true;
    case FL_VBOOL:
        return a->u.b == b->u.b;
    case FL_VNUMBER:
        return fl_dec_cmp(&a->u.num, &b->u.num) == 0;
    case FL_VSTRING:
        return a->u.str.len == b->u.str.len && memcmp(a->u.str.s, b->u.str.s, a->u.str.len) == 0;
    case FL_VDATE:
        return a->u.date == b->u.date;
    case FL_VTIME:
    case FL_VDATETIME: {
        int32_t oa, ob;
        if (fl__dt_offset(a, &oa) && fl__dt_offset(b, &ob)) {
            fl_i128 ia = (fl_i128)a->u.dt.days * FL_NS_PER_DAY + a->u.dt.nanos -
                         (fl_i128)oa * FL_NS_PER_SEC;
            fl_i128 ib = (fl_i128)b->u.dt.days * FL_NS_PER_DAY + b->u.dt.nanos -
                         (fl_i128)ob * FL_NS_PER_SEC;
            if (a->type == FL_VTIME) {
                fl_i128 d = (ia - ib) % FL_NS_PER_DAY;
                return d == 0;
            }
            return ia == ib;
        }
        return a->u.dt.days == b->u.dt.days && a->u.dt.nanos == b->u.dt.nanos &&
               tz_equal(&a->u.dt.tz, &b->u.dt.tz);
    }
    case FL_VDTDURATION:
        return a->u.dtdur == b->u.dtdur;
    case FL_VYMDURATION:
        return a->u.ymdur == b->u.ymdur;
    case FL_VLIST:
        if (a->u.list.len != b->u.list.len)
            return false;
        for (size_t i = 0; i < a->u.list.len; i++)
            if (!fl_value_equal(a->u.list.items[i], b->u.list.items[i]))
                return false;
        return true;
    case FL_VCONTEXT:
        if (a->u.ctx.len != b->u.ctx.len)
            return false;
        for (size_t i = 0; i < a->u.ctx.len; i++) {
            const struct fl_value *bv =
                fl_value_context_get(b, a->u.ctx.ents[i].key, a->u.ctx.ents[i].keylen);
            if (!bv || !fl_value_equal(a->u.ctx.ents[i].val, bv))
                return false;
        }
        return true;
    case FL_VRANGE:
        return a->u.range.lo_closed == b->u.range.lo_closed &&
               a->u.range.hi_closed == b->u.range.hi_closed &&
               fl_value_equal(a->u.range.lo, b->u.range.lo) &&
               fl_value_equal(a->u.range.hi, b->u.range.hi);
    case FL_VFUNCTION:
        return a->u.fn.builtin == b->u.fn.builtin && a->u.fn.def == b->u.fn.def &&
               a->u.fn.closure == b->u.fn.closure;
    }
    return false;
}
