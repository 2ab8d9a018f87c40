/* FEEL built-in functions, part two: list functions (count, min, sum, sort, ...) and the
 * statistics FEEL defines over lists. Functions that FEEL declares with a list parameter
 * also accept the items as separate arguments (max(1, 2, 3)), as the spec allows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/feel_impl.h"
#include "flowd/alloc.h"

#define T(v) fl_value_type(v)

static struct fl_value *bad(struct feel_eval *ev, const char *fn)
{
    return fl__feel_error(ev, "invalid arguments to '%s'", fn);
}

/* The list argument, or the arguments themselves as a list (new reference, or NULL). */
static struct fl_value *items(struct fl_value **a, size_t n)
{
    if (n == 1 && T(a[0]) == FL_VLIST)
        return fl_value_ref(a[0]);
    if (n == 1 && T(a[0]) == FL_VNULL)
        return NULL;
    struct fl_value *l = fl__value_list_sized(n);
    for (size_t i = 0; i < n; i++)
        fl_value_list_push(l, fl_value_ref(a[i]));
    return l;
}

static struct fl_value *f_list_contains(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    (void)n;
    if (T(a[0]) != FL_VLIST)
        return bad(ev, "list contains");
    for (size_t i = 0; i < a[0]->u.list.len; i++)
        if (fl__feel_equal(a[0]->u.list.items[i], a[1]) == 1)
            return fl_value_bool(true);
    return fl_value_bool(false);
}

static struct fl_value *f_count(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    (void)n;
    if (T(a[0]) != FL_VLIST)
        return bad(ev, "count");
    return fl_value_int((int64_t)a[0]->u.list.len);
}

static struct fl_value *extreme(struct feel_eval *ev, struct fl_value **a, size_t n, int want,
                                const char *name)
{
    struct fl_value *l = items(a, n), *best = NULL;
    if (!l || l->u.list.len == 0) {
        fl_value_unref(l);
        return bad(ev, name);
    }
    for (size_t i = 0; i < l->u.list.len; i++) {
        struct fl_value *it = l->u.list.items[i];
        if (!best) {
            if (fl__feel_compare(it, it) == -2)
                goto fail;
            best = it;
            continue;
        }
        int c = fl__feel_compare(it, best);
        if (c == -2)
            goto fail;
        if (c == want)
            best = it;
    }
    best = fl_value_ref(best);
    fl_value_unref(l);
    return best;
fail:
    fl_value_unref(l);
    return bad(ev, name);
}

static struct fl_value *f_min(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    return extreme(ev, a, n, -1, "min");
}

static struct fl_value *f_max(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    return extreme(ev, a, n, 1, "max");
}

/* All items as numbers into a fresh array; false if any is not a number. */
static bool numbers(const struct fl_value *l, struct fl_dec **out)
{
    *out = fl_calloc(l->u.list.len + 1, sizeof(**out));
    for (size_t i = 0; i < l->u.list.len; i++) {
        if (!fl__feel_num(l->u.list.items[i], &(*out)[i])) {
            free(*out);
            *out = NULL;
            return false;
        }
    }
    return true;
}

/* sum() and product(): fold a non-empty list of numbers with op from start; null (with
 * a diagnostic naming name) for anything else. */
static struct fl_value *
fold_numbers(struct feel_eval *ev, struct fl_value **a, size_t n, const char *name, int64_t start,
             int (*op)(const struct fl_dec *, const struct fl_dec *, struct fl_dec *))
{
    struct fl_value *l = items(a, n);
    struct fl_dec *v, s;
    int rc = 0;
    if (!l || l->u.list.len == 0 || !numbers(l, &v)) {
        fl_value_unref(l);
        return bad(ev, name);
    }
    fl_dec_from_int(start, &s);
    for (size_t i = 0; i < l->u.list.len && !rc; i++)
        rc = op(&s, &v[i], &s);
    fl_value_unref(l);
    free(v);
    return fl__feel_numv(ev, rc, &s);
}

static struct fl_value *f_sum(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    return fold_numbers(ev, a, n, "sum", 0, fl_dec_add);
}

static struct fl_value *f_product(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    return fold_numbers(ev, a, n, "product", 1, fl_dec_mul);
}

static bool mean_of(const struct fl_dec *v, size_t n, struct fl_dec *out)
{
    struct fl_dec s, cnt;
    fl_dec_from_int(0, &s);
    for (size_t i = 0; i < n; i++)
        if (fl_dec_add(&s, &v[i], &s))
            return false;
    fl_dec_from_int((int64_t)n, &cnt);
    return fl_dec_div(&s, &cnt, out) == 0;
}

static struct fl_value *f_mean(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    struct fl_value *l = items(a, n);
    struct fl_dec *v, m;
    bool ok;
    if (!l || l->u.list.len == 0 || !numbers(l, &v)) {
        fl_value_unref(l);
        return bad(ev, "mean");
    }
    ok = mean_of(v, l->u.list.len, &m);
    fl_value_unref(l);
    free(v);
    return ok ? fl__value_number(&m) : bad(ev, "mean");
}

static int dec_qcmp(const void *x, const void *y)
{
    return fl_dec_cmp(x, y);
}

static struct fl_value *f_median(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    struct fl_value *l = items(a, n);
    struct fl_dec *v, m, two;
    if (!l || l->u.list.len == 0 || !numbers(l, &v)) {
        fl_value_unref(l);
        return bad(ev, "median");
    }
    size_t c = l->u.list.len;
    fl_value_unref(l);
    qsort(v, c, sizeof(*v), dec_qcmp);
    if (c % 2) {
        m = v[c / 2];
    } else {
        fl_dec_add(&v[c / 2 - 1], &v[c / 2], &m);
        fl_dec_from_int(2, &two);
        fl_dec_div(&m, &two, &m);
    }
    free(v);
    return fl__value_number(&m);
}

static struct fl_value *f_stddev(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    struct fl_value *l = items(a, n);
    struct fl_dec *v, m, s, d, cnt, r;
    if (!l || l->u.list.len < 2 || !numbers(l, &v)) {
        fl_value_unref(l);
        return bad(ev, "stddev");
    }
    size_t c = l->u.list.len;
    fl_value_unref(l);
    mean_of(v, c, &m);
    fl_dec_from_int(0, &s);
    for (size_t i = 0; i < c; i++) {
        fl_dec_sub(&v[i], &m, &d);
        fl_dec_mul(&d, &d, &d);
        fl_dec_add(&s, &d, &s);
    }
    free(v);
    fl_dec_from_int((int64_t)c - 1, &cnt);
    fl_dec_div(&s, &cnt, &s);
    if (fl_dec_sqrt(&s, &r))
        return bad(ev, "stddev");
    return fl__value_number(&r);
}

static struct fl_value *f_mode(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    struct fl_value *l = items(a, n);
    struct fl_dec *v;
    if (!l || !numbers(l, &v)) {
        fl_value_unref(l);
        return bad(ev, "mode");
    }
    size_t c = l->u.list.len, best = 0;
    fl_value_unref(l);
    qsort(v, c, sizeof(*v), dec_qcmp);
    for (size_t i = 0; i < c;) {
        size_t j = i;
        while (j < c && fl_dec_cmp(&v[i], &v[j]) == 0)
            j++;
        if (j - i > best)
            best = j - i;
        i = j;
    }
    struct fl_value *r = fl_value_list_new();
    for (size_t i = 0; i < c;) {
        size_t j = i;
        while (j < c && fl_dec_cmp(&v[i], &v[j]) == 0)
            j++;
        if (j - i == best)
            fl_value_list_push(r, fl__value_number(&v[i]));
        i = j;
    }
    free(v);
    return r;
}

static struct fl_value *allany(struct feel_eval *ev, struct fl_value **a, size_t n, bool all)
{
    struct fl_value *l = items(a, n);
    bool saw_null = false;
    if (!l)
        return bad(ev, all ? "all" : "any");
    for (size_t i = 0; i < l->u.list.len; i++) {
        const struct fl_value *it = l->u.list.items[i];
        if (T(it) == FL_VBOOL) {
            if (it->u.b != all) {
                fl_value_unref(l);
                return fl_value_bool(!all);
            }
        } else {
            saw_null = true;
        }
    }
    fl_value_unref(l);
    return saw_null ? fl_value_null() : fl_value_bool(all);
}

static struct fl_value *f_all(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    return allany(ev, a, n, true);
}

static struct fl_value *f_any(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    return allany(ev, a, n, false);
}

static struct fl_value *f_sublist(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    int64_t start, len = -1;
    if (T(a[0]) != FL_VLIST || !fl__feel_int(a[1], &start) ||
        (n > 2 && (!fl__feel_int(a[2], &len) || len < 0)))
        return bad(ev, "sublist");
    int64_t cnt = (int64_t)a[0]->u.list.len;
    int64_t from = start > 0 ? start - 1 : cnt + start;
    if (start == 0 || from < 0 || from >= cnt)
        return bad(ev, "sublist");
    int64_t to = len < 0 ? cnt : from + len;
    if (to > cnt)
        return bad(ev, "sublist");
    struct fl_value *r = fl__value_list_sized((size_t)(to - from));
    for (int64_t i = from; i < to; i++)
        fl_value_list_push(r, fl_value_ref(a[0]->u.list.items[i]));
    return r;
}

static struct fl_value *copy_list(const struct fl_value *l, size_t extra)
{
    struct fl_value *r = fl__value_list_sized(l->u.list.len + extra);
    for (size_t i = 0; i < l->u.list.len; i++)
        fl_value_list_push(r, fl_value_ref(l->u.list.items[i]));
    return r;
}

static struct fl_value *too_many(struct feel_eval *ev, struct fl_value *partial)
{
    fl_value_unref(partial);
    return fl__feel_error(ev, "list too long (over %d items)", FEEL_MAX_ITEMS);
}

static struct fl_value *f_append(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    if (T(a[0]) != FL_VLIST)
        return bad(ev, "append");
    if (a[0]->u.list.len + n > FEEL_MAX_ITEMS)
        return too_many(ev, NULL);
    struct fl_value *r = copy_list(a[0], n - 1);
    for (size_t i = 1; i < n; i++)
        fl_value_list_push(r, fl_value_ref(a[i]));
    return r;
}

static struct fl_value *f_concatenate(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    struct fl_value *r = fl_value_list_new();
    for (size_t i = 0; i < n; i++) {
        if (T(a[i]) != FL_VLIST) {
            fl_value_unref(r);
            return bad(ev, "concatenate");
        }
        if (r->u.list.len + a[i]->u.list.len > FEEL_MAX_ITEMS)
            return too_many(ev, r);
        for (size_t k = 0; k < a[i]->u.list.len; k++)
            fl_value_list_push(r, fl_value_ref(a[i]->u.list.items[k]));
    }
    return r;
}

static struct fl_value *f_insert_before(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    int64_t pos;
    (void)n;
    if (T(a[0]) != FL_VLIST || !fl__feel_int(a[1], &pos))
        return bad(ev, "insert before");
    int64_t cnt = (int64_t)a[0]->u.list.len;
    int64_t at = pos > 0 ? pos - 1 : cnt + pos;
    if (pos == 0 || at < 0 || at > cnt || (pos > 0 && at >= cnt && cnt > 0 && at > cnt))
        return bad(ev, "insert before");
    if (pos > cnt)
        return bad(ev, "insert before");
    struct fl_value *r = fl__value_list_sized((size_t)cnt + 1);
    for (int64_t i = 0; i < cnt; i++) {
        if (i == at)
            fl_value_list_push(r, fl_value_ref(a[2]));
        fl_value_list_push(r, fl_value_ref(a[0]->u.list.items[i]));
    }
    if (at == cnt)
        fl_value_list_push(r, fl_value_ref(a[2]));
    return r;
}

static struct fl_value *f_remove(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    int64_t pos;
    (void)n;
    if (T(a[0]) != FL_VLIST || !fl__feel_int(a[1], &pos))
        return bad(ev, "remove");
    int64_t cnt = (int64_t)a[0]->u.list.len;
    int64_t at = pos > 0 ? pos - 1 : cnt + pos;
    if (pos == 0 || at < 0 || at >= cnt)
        return bad(ev, "remove");
    struct fl_value *r = fl__value_list_sized((size_t)cnt);
    for (int64_t i = 0; i < cnt; i++)
        if (i != at)
            fl_value_list_push(r, fl_value_ref(a[0]->u.list.items[i]));
    return r;
}

static struct fl_value *f_reverse(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    (void)n;
    if (T(a[0]) != FL_VLIST)
        return bad(ev, "reverse");
    size_t cnt = a[0]->u.list.len;
    struct fl_value *r = fl__value_list_sized(cnt);
    for (size_t i = cnt; i-- > 0;)
        fl_value_list_push(r, fl_value_ref(a[0]->u.list.items[i]));
    return r;
}

static struct fl_value *f_index_of(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    (void)n;
    if (T(a[0]) != FL_VLIST)
        return bad(ev, "index of");
    struct fl_value *r = fl_value_list_new();
    for (size_t i = 0; i < a[0]->u.list.len; i++)
        if (fl__feel_equal(a[0]->u.list.items[i], a[1]) == 1)
            fl_value_list_push(r, fl_value_int((int64_t)i + 1));
    return r;
}

static bool list_has(const struct fl_value *l, const struct fl_value *v)
{
    for (size_t i = 0; i < l->u.list.len; i++)
        if (fl__feel_equal(l->u.list.items[i], v) == 1)
            return true;
    return false;
}

static struct fl_value *f_union(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    struct fl_value *r = fl_value_list_new();
    for (size_t i = 0; i < n; i++) {
        if (T(a[i]) != FL_VLIST) {
            fl_value_unref(r);
            return bad(ev, "union");
        }
        if (r->u.list.len + a[i]->u.list.len > FEEL_MAX_ITEMS)
            return too_many(ev, r);
        for (size_t k = 0; k < a[i]->u.list.len; k++)
            if (!list_has(r, a[i]->u.list.items[k]))
                fl_value_list_push(r, fl_value_ref(a[i]->u.list.items[k]));
    }
    return r;
}

static struct fl_value *f_distinct(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    (void)n;
    if (T(a[0]) != FL_VLIST)
        return bad(ev, "distinct values");
    struct fl_value *r = fl_value_list_new();
    for (size_t k = 0; k < a[0]->u.list.len; k++)
        if (!list_has(r, a[0]->u.list.items[k]))
            fl_value_list_push(r, fl_value_ref(a[0]->u.list.items[k]));
    return r;
}

/* false when the result would pass FEEL_MAX_ITEMS */
static bool flatten_into(struct fl_value *r, const struct fl_value *l, int depth)
{
    for (size_t i = 0; i < l->u.list.len; i++) {
        const struct fl_value *it = l->u.list.items[i];
        if (T(it) == FL_VLIST && depth < FEEL_MAX_DEPTH) {
            if (!flatten_into(r, it, depth + 1))
                return false;
        } else {
            if (r->u.list.len >= FEEL_MAX_ITEMS)
                return false;
            fl_value_list_push(r, fl_value_ref(it));
        }
    }
    return true;
}

static struct fl_value *f_flatten(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    (void)n;
    if (T(a[0]) != FL_VLIST)
        return bad(ev, "flatten");
    struct fl_value *r = fl_value_list_new();
    if (!flatten_into(r, a[0], 0))
        return too_many(ev, r);
    return r;
}

/* Merge sort with a FEEL "precedes" function or natural order; stable, and a comparison
 * error stops the sort with null. */
struct sorter {
    struct feel_eval *ev;
    const struct fl_value *fn;
    bool failed;
};

static bool precedes(struct sorter *s, struct fl_value *x, struct fl_value *y)
{
    if (s->failed)
        return false;
    if (!s->fn) {
        int c = fl__feel_compare(x, y);
        if (c == -2)
            s->failed = true;
        return c < 0;
    }
    struct fl_value *args[2] = {x, y};
    struct fl_value *r = fl__feel_invoke(s->ev, s->fn, args, 2);
    bool res = fl_value_is_true(r);
    if (T(r) != FL_VBOOL)
        s->failed = true;
    fl_value_unref(r);
    return res;
}

static void msort(struct sorter *s, struct fl_value **v, struct fl_value **tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    msort(s, v, tmp, h);
    msort(s, v + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        if (precedes(s, v[j], v[i]) && !precedes(s, v[i], v[j]))
            tmp[k++] = v[j++];
        else
            tmp[k++] = v[i++];
    }
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof(*v));
}

static struct fl_value *f_sort(struct feel_eval *ev, struct fl_value **a, size_t n)
{
    struct sorter s = {ev, NULL, false};
    if (T(a[0]) != FL_VLIST)
        return bad(ev, "sort");
    if (n > 1) {
        if (T(a[1]) != FL_VFUNCTION)
            return bad(ev, "sort");
        s.fn = a[1];
    }
    struct fl_value *r = copy_list(a[0], 0);
    size_t cnt = r->u.list.len;
    struct fl_value **tmp = fl_calloc(cnt + 1, sizeof(*tmp));
    msort(&s, r->u.list.items, tmp, cnt);
    free(tmp);
    if (s.failed) {
        fl_value_unref(r);
        return bad(ev, "sort");
    }
    return r;
}

static const struct feel_builtin table[] = {
    {"list contains", 2, 2, {"list", "element"}, f_list_contains, {NULL}},
    {"count", 1, 1, {"list"}, f_count, {NULL}},
    {"min", 1, -1, {"list"}, f_min, {NULL}},
    {"max", 1, -1, {"list"}, f_max, {NULL}},
    {"sum", 1, -1, {"list"}, f_sum, {NULL}},
    {"product", 1, -1, {"list"}, f_product, {NULL}},
    {"mean", 1, -1, {"list"}, f_mean, {NULL}},
    {"median", 1, -1, {"list"}, f_median, {NULL}},
    {"stddev", 1, -1, {"list"}, f_stddev, {NULL}},
    {"mode", 1, -1, {"list"}, f_mode, {NULL}},
    {"all", 1, -1, {"list"}, f_all, {NULL}},
    {"any", 1, -1, {"list"}, f_any, {NULL}},
    {"sublist", 2, 3, {"list", "start position", "length"}, f_sublist, {NULL}},
    {"append", 1, -1, {"list", "item"}, f_append, {NULL}},
    {"concatenate", 1, -1, {"list"}, f_concatenate, {NULL}},
    {"insert before", 3, 3, {"list", "position", "newItem"}, f_insert_before, {NULL}},
    {"remove", 2, 2, {"list", "position"}, f_remove, {NULL}},
    {"reverse", 1, 1, {"list"}, f_reverse, {NULL}},
    {"index of", 2, 2, {"list", "match"}, f_index_of, {NULL}},
    {"union", 1, -1, {"list"}, f_union, {NULL}},
    {"distinct values", 1, 1, {"list"}, f_distinct, {NULL}},
    {"flatten", 1, 1, {"list"}, f_flatten, {NULL}},
    {"sort", 1, 2, {"list", "precedes"}, f_sort, {NULL}},
};

const struct feel_builtin *fl__feel_builtins_more(size_t *n)
{
    *n = sizeof(table) / sizeof(table[0]);
    return table;
}
