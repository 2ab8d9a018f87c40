/* FEEL conformance against the DMN TCK cases in $FLOWD_CORPORA/feel/feel-tck-cases.jsonl:
 * evaluates every case, prints the pass rate per TCK directory and overall, and fails if a
 * case listed in tests/feel-tck-passing.txt (the regression guard) no longer passes. With
 * FLOWD_TCK_UPDATE=1 it rewrites that list from the current results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/feel_impl.h"
#include "flowd/alloc.h"
#include "flowd/feel.h"
#include "flowd/value.h"

struct dir_stat {
    char name[128];
    int total, passed, skipped;
};

struct run {
    struct dir_stat dirs[256];
    int ndirs;
    char **passing; /* ids that pass now */
    size_t npassing, cappassing;
    char **guard; /* ids from the committed list */
    size_t nguard;
    int verbose;
};

static const char *corpora_dir(void)
{
    const char *e = getenv("FLOWD_CORPORA");
    return e && *e ? e : FLOWD_CORPORA;
}

static const char *source_dir(void)
{
    const char *e = getenv("FLOWD_SOURCE_DIR");
    return e && *e ? e : FLOWD_SOURCE_DIR;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct fl_buf b = FL_BUF_INIT;
    char chunk[65536];
    size_t n;
    if (!f)
        return NULL;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fl_buf_add(&b, chunk, n);
    fclose(f);
    return fl_buf_detach(&b, len);
}

static const char *sget(const struct fl_value *ctx, const char *key)
{
    const struct fl_value *v = fl_value_context_get(ctx, key, strlen(key));
    return v ? fl_value_str(v, NULL) : NULL;
}

/* A TCK typed value {"t": ..., "v": ...} as a flowd value (new reference), NULL if unknown. */
static struct fl_value *typed(const struct fl_value *tv)
{
    const char *t = sget(tv, "t");
    const struct fl_value *v = fl_value_context_get(tv, "v", 1);
    struct fl_value *r = NULL;
    size_t n;
    const char *s;
    if (!t)
        return NULL;
    if (strcmp(t, "null") == 0)
        return fl_value_null();
    if (!v)
        return fl_value_null();
    if (strcmp(t, "boolean") == 0)
        return fl_value_ref(v);
    if (strcmp(t, "number") == 0) {
        s = fl_value_str(v, &n);
        if (s && fl_value_number_parse(s, n, &r) == 0)
            return r;
        if (fl_value_type(v) == FL_VNUMBER)
            return fl_value_ref(v);
        return NULL;
    }
    if (strcmp(t, "string") == 0)
        return fl_value_ref(v);
    if (strcmp(t, "date") == 0 || strcmp(t, "time") == 0 || strcmp(t, "dateTime") == 0 ||
        strcmp(t, "duration") == 0) {
        s = fl_value_str(v, &n);
        if (!s)
            return NULL;
        if (strcmp(t, "dateTime") == 0 && !memchr(s, 'T', n)) {
            int64_t days;
            if (fl__feel_parse_date(s, n, &days))
                return NULL;
            return fl__value_datetime(days, 0, NULL);
        }
        if (fl__feel_parse_temporal(s, n, &r))
            return NULL;
        return r;
    }
    if (strcmp(t, "list") == 0) {
        r = fl_value_list_new();
        for (size_t i = 0; i < fl_value_list_len(v); i++) {
            struct fl_value *it = typed(fl_value_list_at(v, i));
            if (!it) {
                fl_value_unref(r);
                return NULL;
            }
            fl_value_list_push(r, it);
        }
        return r;
    }
    if (strcmp(t, "context") == 0) {
        r = fl_value_context_new();
        for (size_t i = 0; i < fl_value_context_len(v); i++) {
            size_t kl;
            const char *k = fl_value_context_key(v, i, &kl);
            struct fl_value *it = typed(fl_value_context_val(v, i));
            if (!it) {
                fl_value_unref(r);
                return NULL;
            }
            fl_value_context_set(r, k, kl, it);
        }
        return r;
    }
    return NULL;
}

/* Structural comparison: numbers by value, temporals by fields, lists/contexts
 * recursively. The TCK writes results of inexact functions (exp, stddev, x ** 2.5) with
 * fewer digits than 34; a number with at least 8 significant digits therefore also
 * matches a result that rounds to it at its scale. */
static bool same(const struct fl_value *got, const struct fl_value *want)
{
    if (fl_value_type(got) == FL_VNUMBER && fl_value_type(want) == FL_VNUMBER) {
        struct fl_dec w = want->u.num, g;
        fl_dec_reduce(&w);
        if (fl_dec_cmp(&got->u.num, &w) == 0)
            return true;
        if (fl_dec_ndigits(w.coef) < 8 || w.exp >= 0)
            return false;
        if (fl_dec_round(&got->u.num, -w.exp, FL_ROUND_HALF_EVEN, &g))
            return false;
        if (fl_dec_cmp(&g, &w) == 0)
            return true;
        fl_dec_round(&got->u.num, -w.exp, FL_ROUND_DOWN, &g);
        return fl_dec_cmp(&g, &w) == 0;
    }
    if (fl_value_type(got) == FL_VLIST && fl_value_type(want) == FL_VLIST) {
        if (fl_value_list_len(got) != fl_value_list_len(want))
            return false;
        for (size_t i = 0; i < fl_value_list_len(got); i++)
            if (!same(fl_value_list_at(got, i), fl_value_list_at(want, i)))
                return false;
        return true;
    }
    if (fl_value_type(got) == FL_VCONTEXT && fl_value_type(want) == FL_VCONTEXT) {
        if (fl_value_context_len(got) != fl_value_context_len(want))
            return false;
        for (size_t i = 0; i < fl_value_context_len(want); i++) {
            size_t kl;
            const char *k = fl_value_context_key(want, i, &kl);
            const struct fl_value *g = fl_value_context_get(got, k, kl);
            if (!g || !same(g, fl_value_context_val(want, i)))
                return false;
        }
        return true;
    }
    return fl_value_equal(got, want);
}

static struct dir_stat *dir_of(struct run *r, const char *name)
{
    for (int i = 0; i < r->ndirs; i++)
        if (strcmp(r->dirs[i].name, name) == 0)
            return &r->dirs[i];
    if (r->ndirs == 256)
        return &r->dirs[255];
    struct dir_stat *d = &r->dirs[r->ndirs++];
    snprintf(d->name, sizeof(d->name), "%s", name);
    return d;
}

static bool in_guard(const struct run *r, const char *id)
{
    for (size_t i = 0; i < r->nguard; i++)
        if (strcmp(r->guard[i], id) == 0)
            return true;
    return false;
}

static bool is_passing(const struct run *r, const char *id)
{
    for (size_t i = 0; i < r->npassing; i++)
        if (strcmp(r->passing[i], id) == 0)
            return true;
    return false;
}

static void load_guard(struct run *r, const char *path)
{
    size_t len;
    char *text = slurp(path, &len), *line, *save = NULL;
    if (!text)
        return;
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!*line || *line == '#')
            continue;
        r->guard = fl_reallocarray(r->guard, r->nguard + 1, sizeof(*r->guard));
        r->guard[r->nguard++] = fl_strdup(line);
    }
    free(text);
}

static bool run_case(const struct fl_value *c, struct run *r, char *why, size_t whyn)
{
    const char *expr = sget(c, "expression");
    const struct fl_value *inputs = fl_value_context_get(c, "inputs", 6);
    const struct fl_value *expected = fl_value_context_get(c, "expected", 8);
    struct fl_feel_expr *e = NULL;
    struct fl_error err;
    struct fl_feel_diag diag;
    struct fl_value *vars = fl_value_context_new(), *want = NULL, *got = NULL;
    bool ok = false;
    struct fl_feel_env env = {vars, INT64_C(1700000000000), 0};
    why[0] = 0;
    for (size_t i = 0; i < fl_value_context_len(inputs); i++) {
        size_t kl;
        const char *k = fl_value_context_key(inputs, i, &kl);
        struct fl_value *v = typed(fl_value_context_val(inputs, i));
        if (!v) {
            snprintf(why, whyn, "cannot convert input '%s'", k);
            goto out;
        }
        fl_value_context_set(vars, k, kl, v);
    }
    if (!expected || fl_value_type(expected) == FL_VNULL)
        want = fl_value_null();
    else
        want = typed(expected);
    if (!want) {
        snprintf(why, whyn, "cannot convert expected value");
        goto out;
    }
    if (fl_feel_compile(expr, strlen(expr), &e, &err)) {
        snprintf(why, whyn, "compile: %s (column %d)", err.msg, err.column);
        ok = fl_value_type(want) == FL_VNULL;
        goto out;
    }
    got = fl_feel_eval(e, &env, &diag);
    ok = same(got, want);
    if (!ok) {
        struct fl_buf g = FL_BUF_INIT, w = FL_BUF_INIT;
        fl_value_to_text(got, &g);
        fl_value_to_text(want, &w);
        snprintf(why, whyn, "got %s (%s), want %s (%s) %s", g.ptr,
                 fl_value_type_name(fl_value_type(got)), w.ptr,
                 fl_value_type_name(fl_value_type(want)), diag.msg);
        fl_buf_release(&g);
        fl_buf_release(&w);
    }
out:
    (void)r;
    fl_feel_free(e);
    fl_value_unref(got);
    fl_value_unref(want);
    fl_value_unref(vars);
    return ok;
}

static void test_tck(void **state)
{
    struct run *r = fl_calloc(1, sizeof(*r));
    char path[1024], guard_path[1024];
    size_t len;
    int total = 0, passed = 0, skipped = 0, regressions = 0;
    (void)state;
    r->verbose = getenv("FLOWD_TCK_VERBOSE") != NULL;
    snprintf(path, sizeof(path), "%s/feel/feel-tck-cases.jsonl", corpora_dir());
    snprintf(guard_path, sizeof(guard_path), "%s/tests/feel-tck-passing.txt", source_dir());
    char *text = slurp(path, &len);
    if (!text) {
        /* a conformance test that quietly skips would hide every regression */
        fprintf(stderr, "feel tck: corpus %s not found (set FLOWD_CORPORA)\n", path);
        free(r);
        fail();
    }
    load_guard(r, guard_path);
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        struct fl_value *c = NULL;
        struct fl_error err;
        char id[512], why[768];
        if (fl_value_from_json(line, strlen(line), &c, &err)) {
            fprintf(stderr, "feel tck: bad line: %s\n", err.msg);
            fail();
        }
        const char *dir = sget(c, "dir");
        snprintf(id, sizeof(id), "%s/%s/%s", dir, sget(c, "test_id"), sget(c, "result_node"));
        struct dir_stat *d = dir_of(r, dir);
        d->total++;
        total++;
        if (fl_value_list_len(fl_value_context_get(c, "requires", 8)) ||
            fl_value_list_len(fl_value_context_get(c, "knowledge", 9))) {
            d->skipped++;
            skipped++;
            fl_value_unref(c);
            continue;
        }
        bool ok = run_case(c, r, why, sizeof(why));
        if (ok) {
            d->passed++;
            passed++;
            if (!is_passing(r, id)) {
                if (r->npassing == r->cappassing)
                    fl_grow(&r->passing, &r->cappassing, r->npassing + 1, sizeof(*r->passing));
                r->passing[r->npassing++] = fl_strdup(id);
            }
            if (!in_guard(r, id) && r->nguard && r->verbose)
                printf("newly passing: %s\n", id);
        } else {
            if (in_guard(r, id)) {
                printf("REGRESSION: %s: %s\n  expression: %s\n", id, why, sget(c, "expression"));
                regressions++;
            } else if (r->verbose) {
                printf("fail: %s: %s\n  expression: %s\n", id, why, sget(c, "expression"));
            }
        }
        fl_value_unref(c);
    }
    free(text);
    printf("%-55s %6s %6s %6s\n", "TCK directory", "cases", "pass", "rate");
    for (int i = 0; i < r->ndirs; i++) {
        struct dir_stat *d = &r->dirs[i];
        int run_n = d->total - d->skipped;
        printf("%-55s %6d %6d %5.1f%%\n", d->name, d->total, d->passed,
               run_n ? 100.0 * d->passed / run_n : 0.0);
    }
    printf("FEEL TCK: %d/%d passed (%.1f%%), %d skipped (need DMN models), %d regressions\n",
           passed, total - skipped, total - skipped ? 100.0 * passed / (total - skipped) : 0.0,
           skipped, regressions);
    if (getenv("FLOWD_TCK_UPDATE") && strcmp(getenv("FLOWD_TCK_UPDATE"), "1") == 0) {
        FILE *f = fopen(guard_path, "w");
        if (f) {
            fprintf(f, "# FEEL TCK cases that pass (dir/test_id/result_node); regression guard "
                       "for tests/unit/test_feel_tck.c.\n# Regenerate: FLOWD_TCK_UPDATE=1 "
                       "build/tests/test_feel_tck\n");
            for (size_t i = 0; i < r->npassing; i++)
                fprintf(f, "%s\n", r->passing[i]);
            fclose(f);
            printf("wrote %zu passing ids to %s\n", r->npassing, guard_path);
        }
    } else if (r->nguard) {
        size_t fresh = 0;
        for (size_t i = 0; i < r->npassing; i++)
            if (!in_guard(r, r->passing[i]))
                fresh++;
        if (fresh)
            printf("%zu cases pass that are not in %s (FLOWD_TCK_UPDATE=1 to record them)\n",
                   fresh, guard_path);
    }
    for (size_t i = 0; i < r->npassing; i++)
        free(r->passing[i]);
    for (size_t i = 0; i < r->nguard; i++)
        free(r->guard[i]);
    free(r->passing);
    free(r->guard);
    free(r);
    assert_int_equal(regressions, 0);
    assert_true(total > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tck),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
